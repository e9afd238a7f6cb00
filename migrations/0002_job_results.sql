-- 0002: a job's result document (a refit backtest's windows and metrics).
ALTER TABLE jobs ADD COLUMN result_json TEXT;
