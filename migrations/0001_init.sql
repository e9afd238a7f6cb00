-- 0001_init: the first fwpcast schema.
--
-- Never edit this file once a database has applied it: add migrations/0002_<name>.sql instead.
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SSZ'. Ids use AUTOINCREMENT so that an id, once
-- handed out by the API, never names a different row after a delete.

CREATE TABLE datasets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    source        TEXT,
    frequency     TEXT    NOT NULL CHECK (frequency IN ('month', 'year')),
    unit          TEXT,
    first_period  TEXT,
    last_period   TEXT,
    row_count     INTEGER NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    missing_count INTEGER NOT NULL DEFAULT 0 CHECK (missing_count >= 0),
    sha256        TEXT,   -- of the normalised points (db/store.h: store_points_sha256)
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- One row per period; value NULL marks a missing observation (never zero).
CREATE TABLE dataset_points (
    dataset_id  INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    period      TEXT    NOT NULL,   -- 'YYYY-MM' (monthly) or 'YYYY' (yearly)
    value       REAL,
    std         REAL,
    n_obs       INTEGER,
    provisional INTEGER NOT NULL DEFAULT 0 CHECK (provisional IN (0, 1)),
    PRIMARY KEY (dataset_id, period)
) WITHOUT ROWID;

CREATE TABLE models (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    architecture   TEXT    NOT NULL,
    config_json    TEXT,
    parameters     INTEGER NOT NULL DEFAULT 0 CHECK (parameters >= 0),
    seed           INTEGER,
    dataset_id     INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
    data_sha256    TEXT,
    cutoff         TEXT,   -- last period of the training data, NULL if it used all of it
    protocol       TEXT,
    format_version INTEGER NOT NULL,
    weights        BLOB    NOT NULL,
    metrics_json   TEXT,
    is_default     INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX models_dataset ON models (dataset_id);
-- At most one default model.
CREATE UNIQUE INDEX models_one_default ON models (is_default) WHERE is_default = 1;

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('train', 'backtest', 'quantum')),
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled',
                                     'interrupted')),
    request_json    TEXT,
    progress        REAL    NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    epoch           INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    epochs          INTEGER NOT NULL DEFAULT 0 CHECK (epochs >= 0),
    eta_seconds     REAL,
    loss_curve_json TEXT,
    error           TEXT,
    model_id        INTEGER REFERENCES models (id) ON DELETE SET NULL,
    checkpoint      BLOB,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_at      TEXT,
    finished_at     TEXT,
    updated_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
-- Workers pick the oldest queued job; start-up finds the running ones.
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_model ON jobs (model_id);

CREATE TABLE forecasts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id      INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    dataset_id    INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
    request_json  TEXT    NOT NULL,
    response_json TEXT    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX forecasts_model ON forecasts (model_id);
CREATE INDEX forecasts_dataset ON forecasts (dataset_id);

-- Work submitted to a remote quantum provider on behalf of a job.
CREATE TABLE quantum_jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    provider   TEXT    NOT NULL,
    remote_id  TEXT,
    state      TEXT    NOT NULL,
    circuits   INTEGER NOT NULL DEFAULT 0 CHECK (circuits >= 0),
    shots      INTEGER NOT NULL DEFAULT 0 CHECK (shots >= 0),
    cost_json  TEXT,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX quantum_jobs_job ON quantum_jobs (job_id);
CREATE INDEX quantum_jobs_remote ON quantum_jobs (provider, remote_id);
