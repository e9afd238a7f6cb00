/*
 * store — fwpcast's storage API over SQLite: datasets and their points, trained models (weights
 * blob plus metadata), jobs, forecasts. Every other module reaches the database through here.
 * One header; the code is one file per table, db/store_*.c (listed in db/store_private.h).
 *
 * Conventions:
 * - Every function takes a connection from db_open() (db/db.h), already migrated, used by one
 *   thread. Each writing function is atomic on its own, and joins the caller's transaction
 *   (as a savepoint) when one is open, so several calls can be made all-or-nothing.
 * - Inputs are borrowed: the `*_new` structs and strings are only read during the call.
 * - Outputs are written only on success. A struct returned through `**out` is a new allocation
 *   owned by the caller, released with its `*_free` function (which accepts NULL); arrays from
 *   `*_list` functions are released with the matching `*_list_free` (or free() for plain
 *   structs without owned fields, as documented there).
 * - Missing ids give FW_ENOTFOUND; a name already taken or a state change that is not allowed
 *   gives FW_ECONFLICT; bad arguments FW_EINVAL; SQLite failures FW_EDB (FW_ENOSPC when the disk
 *   is full, FW_ENOMEM out of memory). err gets a message.
 * - Timestamps are UTC text "YYYY-MM-DDTHH:MM:SSZ", "" where not set.
 * - Periods are "YYYY-MM" for monthly datasets and "YYYY" for yearly ones; points of a dataset
 *   are contiguous (one per month or year, no gaps), and a missing observation is a point whose
 *   value is NAN (NULL in SQL), never zero.
 */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "base/error.h"
#include "base/period.h"
#include "ingest/points.h"

#define STORE_ARCH_MAX     64
#define STORE_PROTOCOL_MAX 64
#define STORE_TIME_MAX     24 /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */

/* --- datasets ------------------------------------------------------------------------------- */

/* A series' types, which the store shares with the parsers (ingest/), are in ingest/points.h:
 * enum store_frequency (store_frequency_name, store_frequency_parse), struct store_point,
 * store_points_sha256(), and STORE_NAME_MAX, STORE_SOURCE_MAX, STORE_UNIT_MAX. */

struct store_dataset_meta {
    int64_t id;
    char name[STORE_NAME_MAX];
    char source[STORE_SOURCE_MAX]; /* "" if none */
    enum store_frequency frequency;
    char unit[STORE_UNIT_MAX]; /* "" if none */
    char first_period[PERIOD_TEXT_MAX];
    char last_period[PERIOD_TEXT_MAX];
    int64_t row_count;           /* points, missing ones included */
    int64_t missing_count;       /* points whose value is missing */
    char sha256[SHA256_HEX_LEN]; /* store_points_sha256() of all the points */
    char created_at[STORE_TIME_MAX];
};

struct store_dataset {
    struct store_dataset_meta meta; /* always of the whole dataset */
    struct store_point *points;     /* owned; the requested range, in period order */
    size_t n_points;
};

/* A dataset to create. Everything is borrowed. source and unit may be NULL. */
struct store_dataset_new {
    const char *name;
    const char *source;
    const char *unit;
    enum store_frequency frequency;
    const struct store_point *points;
    size_t n_points;
};

/* FW_EINVAL (naming `what`) unless name is 1..127 bytes of UTF-8 without control characters:
 * the rule for dataset and model names, for callers that check before storing. */
int store_check_name(const char *what, const char *name, fw_error *err);

/* Validates the points (periods well-formed for the frequency, strictly increasing and
 * contiguous; values finite or NAN; std >= 0 or NAN; n_obs >= -1) and stores the dataset with
 * its computed metadata in one transaction. FW_ECONFLICT if the name is taken. *id receives the
 * new dataset's id. */
int store_dataset_create(sqlite3 *db, const struct store_dataset_new *dataset, int64_t *id,
                         fw_error *err);

/* All datasets' metadata, by id. *items is a malloc'd array (NULL when *count is 0) with no
 * owned fields: release it with free(). */
int store_dataset_list(sqlite3 *db, struct store_dataset_meta **items, size_t *count,
                       fw_error *err);

/* One dataset's metadata, into caller-provided *meta. */
int store_dataset_get_meta(sqlite3 *db, int64_t id, struct store_dataset_meta *meta, fw_error *err);

/* Metadata and the points from `from` to `to` inclusive (either may be NULL for no bound;
 * "YYYY-MM" (or "YYYY-MM-DD") for monthly datasets, "YYYY" for yearly ones). A range that
 * holds no points gives n_points 0. Release with store_dataset_free(). */
int store_dataset_get(sqlite3 *db, int64_t id, const char *from, const char *to,
                      struct store_dataset **out, fw_error *err);
void store_dataset_free(struct store_dataset *dataset);

/* The id of the dataset with this exact name; FW_ENOTFOUND if none. */
int store_dataset_find(sqlite3 *db, const char *name, int64_t *id, fw_error *err);

/* Number of datasets. */
int store_dataset_count(sqlite3 *db, int64_t *count, fw_error *err);

/* Deletes a dataset and its points. Models and forecasts made from it keep their rows with
 * dataset_id cleared. */
int store_dataset_delete(sqlite3 *db, int64_t id, fw_error *err);

/* --- models --------------------------------------------------------------------------------- */

struct store_model {
    int64_t id;
    char name[STORE_NAME_MAX];
    char architecture[STORE_ARCH_MAX];
    char *config_json; /* owned; NULL if none */
    int64_t parameters;
    uint64_t seed;
    int64_t dataset_id;                /* 0 if none (or the dataset was deleted) */
    char data_sha256[SHA256_HEX_LEN];  /* "" if unknown */
    char cutoff[PERIOD_TEXT_MAX];      /* last training period, "" if none */
    char protocol[STORE_PROTOCOL_MAX]; /* "" if none */
    int format_version;
    unsigned char *weights; /* owned; NULL in lists, where only weights_len is filled */
    size_t weights_len;
    char *metrics_json; /* owned; NULL if none */
    int is_default;
    char created_at[STORE_TIME_MAX];
};

/* A model to insert. Everything is borrowed; the strings other than name and architecture may
 * be NULL. weights must be non-empty. dataset_id 0 means none; otherwise it must exist. */
struct store_model_new {
    const char *name;
    const char *architecture;
    const char *config_json;
    int64_t parameters;
    uint64_t seed;
    int64_t dataset_id;
    const char *data_sha256;
    const char *cutoff;
    const char *protocol;
    int format_version;
    const void *weights;
    size_t weights_len;
    const char *metrics_json;
    int is_default; /* 1: becomes the default model (the previous default stops being it) */
};

int store_model_insert(sqlite3 *db, const struct store_model_new *model, int64_t *id,
                       fw_error *err);

/* One model, weights included. Release with store_model_free(). */
int store_model_get(sqlite3 *db, int64_t id, struct store_model **out, fw_error *err);

/* The default model, weights included; FW_ENOTFOUND if there is none. */
int store_model_get_default(sqlite3 *db, struct store_model **out, fw_error *err);

/* The default model's id; FW_ENOTFOUND if there is none. */
int store_model_default_id(sqlite3 *db, int64_t *id, fw_error *err);

/* All models by id, without weights (weights NULL, weights_len set). Release the array with
 * store_model_list_free(). */
int store_model_list(sqlite3 *db, struct store_model **items, size_t *count, fw_error *err);

/* Makes model id the only default model. */
int store_model_set_default(sqlite3 *db, int64_t id, fw_error *err);

/* Replaces a model's metrics JSON (NULL clears it). */
int store_model_set_metrics(sqlite3 *db, int64_t id, const char *metrics_json, fw_error *err);

/* Deletes a model and its forecasts; jobs that produced it keep their rows with model_id
 * cleared. */
int store_model_delete(sqlite3 *db, int64_t id, fw_error *err);

/* Frees a model from store_model_get*() (accepts NULL). */
void store_model_free(struct store_model *model);
/* Frees an array from store_model_list() (accepts NULL). */
void store_model_list_free(struct store_model *items, size_t count);

/* --- jobs ----------------------------------------------------------------------------------- */

enum store_job_kind {
    STORE_JOB_TRAIN = 1,
    STORE_JOB_BACKTEST = 2,
    STORE_JOB_QUANTUM = 3,
};

/* Allowed changes (anything else is FW_ECONFLICT):
 *   queued      -> running, failed, cancelled
 *   running     -> succeeded, failed, cancelled, interrupted
 *   interrupted -> queued, running, failed, cancelled   (resumed from its checkpoint, or not)
 *   succeeded, failed, cancelled: final. */
enum store_job_state {
    STORE_JOB_QUEUED = 1,
    STORE_JOB_RUNNING = 2,
    STORE_JOB_SUCCEEDED = 3,
    STORE_JOB_FAILED = 4,
    STORE_JOB_CANCELLED = 5,
    STORE_JOB_INTERRUPTED = 6,
};

/* "train"/"backtest"/"quantum" and "queued"/"running"/... (static strings; "?" otherwise). */
const char *store_job_kind_name(enum store_job_kind kind);
int store_job_kind_parse(const char *text, enum store_job_kind *kind);
const char *store_job_state_name(enum store_job_state state);
int store_job_state_parse(const char *text, enum store_job_state *state);
/* 1 for succeeded, failed and cancelled. */
int store_job_state_is_final(enum store_job_state state);

struct store_job {
    int64_t id;
    enum store_job_kind kind;
    enum store_job_state state;
    char *request_json; /* owned; NULL if none */
    double progress;    /* 0..1 */
    int epoch;
    int epochs;
    double eta_seconds;        /* NAN if unknown */
    char *loss_curve_json;     /* owned; NULL if none */
    char *error;               /* owned; NULL if none */
    char *result_json;         /* owned; NULL if none (a refit backtest's result) */
    int64_t model_id;          /* 0 if none */
    unsigned char *checkpoint; /* owned; NULL if none, and always NULL in lists */
    size_t checkpoint_len;     /* set in lists too */
    char created_at[STORE_TIME_MAX];
    char started_at[STORE_TIME_MAX];
    char finished_at[STORE_TIME_MAX];
    char updated_at[STORE_TIME_MAX];
};

/* A new job in state queued. request_json may be NULL; epochs >= 0. */
int store_job_create(sqlite3 *db, enum store_job_kind kind, const char *request_json, int epochs,
                     int64_t *id, fw_error *err);

/* One job, checkpoint included. Release with store_job_free(). */
int store_job_get(sqlite3 *db, int64_t id, struct store_job **out, fw_error *err);

/* Jobs in one state (state 0: all jobs), by id, without checkpoints. Release the array with
 * store_job_list_free(). */
int store_job_list(sqlite3 *db, int state, struct store_job **items, size_t *count, fw_error *err);

/* Moves a job to `state` if the table above allows it (atomically: two workers cannot both
 * start the same job). Sets started_at on the first start, finished_at on a final state,
 * updated_at always. error (may be NULL) is stored as the job's error message; starting or
 * requeueing a job clears an old one. */
int store_job_set_state(sqlite3 *db, int64_t id, enum store_job_state state, const char *error,
                        fw_error *err);

/* Atomically moves the oldest queued job to running and gives its id; FW_ENOTFOUND if no job is
 * queued. */
int store_job_claim_next(sqlite3 *db, int64_t *id, fw_error *err);

/* Progress of a running job. loss_curve_json NULL leaves the stored curve as it is;
 * eta_seconds NAN stores "unknown". FW_ECANCELLED if the job was cancelled meanwhile (the
 * worker should stop), FW_ECONFLICT if it is in another state that is not running. */
struct store_job_progress {
    double progress; /* 0..1 */
    int epoch;
    double eta_seconds;
    const char *loss_curve_json;
};
int store_job_update_progress(sqlite3 *db, int64_t id, const struct store_job_progress *progress,
                              fw_error *err);

/* Replaces a job's checkpoint blob (NULL/0 clears it). */
int store_job_set_checkpoint(sqlite3 *db, int64_t id, const void *checkpoint, size_t len,
                             fw_error *err);

/* Stores a job's result document (JSON text). */
int store_job_set_result(sqlite3 *db, int64_t id, const char *result_json, fw_error *err);

/* Records the model a job produced (the model must exist). */
int store_job_set_model(sqlite3 *db, int64_t id, int64_t model_id, fw_error *err);

/* Marks every running job interrupted (at server start: their worker died with the previous
 * process). *count (may be NULL) receives how many. */
int store_job_mark_interrupted(sqlite3 *db, int *count, fw_error *err);

/* Number of jobs in each state, indexed by enum store_job_state (counts[0] unused). */
int store_job_count_by_state(sqlite3 *db, int64_t counts[8], fw_error *err);

/* Records (or updates) the provider work a quantum job submitted: one row per (job, provider)
 * holding the provider's job ids (comma-separated), their state, the circuits and shots in all,
 * and a cost document (JSON text, may be NULL). The job must exist. */
int store_quantum_job_record(sqlite3 *db, int64_t job_id, const char *provider,
                             const char *remote_ids, const char *state, int64_t circuits,
                             int64_t shots, const char *cost_json, fw_error *err);

/* Deletes a job (and its quantum jobs). */
int store_job_delete(sqlite3 *db, int64_t id, fw_error *err);

void store_job_free(struct store_job *job);
void store_job_list_free(struct store_job *items, size_t count);

/* --- forecasts ------------------------------------------------------------------------------ */

/* Records a forecast made by model_id (which must exist) from dataset_id (0: inline history).
 * Both JSON texts are required and stored as given. */
int store_forecast_insert(sqlite3 *db, int64_t model_id, int64_t dataset_id,
                          const char *request_json, const char *response_json, int64_t *id,
                          fw_error *err);

#endif
