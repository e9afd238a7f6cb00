-- 0003: results of model comparisons (fwpcast compare, fwpcast benchmark): one row per trained
-- and evaluated run, so a comparison resumes where it stopped and GET /compare can show it.
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    suite TEXT NOT NULL,            -- 'solar' or 'timeseries'
    task TEXT NOT NULL,             -- 'paper', or the time-series dataset
    architecture TEXT NOT NULL,
    config TEXT NOT NULL,           -- the model's resolved configuration
    seed INTEGER NOT NULL,
    epochs INTEGER NOT NULL,
    data_sha256 TEXT NOT NULL,
    parameters INTEGER NOT NULL,
    n_windows INTEGER NOT NULL,     -- test windows evaluated
    mse REAL NOT NULL,              -- scaled (solar) or benchmark-unit (time series) test MSE
    mae REAL NOT NULL,
    r2 REAL NOT NULL,
    peak_amplitude_error REAL,      -- solar only (sunspots)
    peak_timing_error REAL,         -- solar only (months)
    best_epoch INTEGER NOT NULL,
    train_seconds REAL NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (suite, task, architecture, config, seed, epochs, data_sha256)
);
