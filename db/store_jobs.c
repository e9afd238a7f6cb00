/*
 * store_jobs — the jobs table (db/store.h, "jobs"): kinds and states and their names, creating
 * a job, the state machine (each change one conditional UPDATE, so two workers cannot both make
 * it), claiming, progress, checkpoints, results, the model made, restart and counts. The rows
 * belong to the database; a struct store_job returned, with its owned strings and checkpoint,
 * belongs to the caller (store_job_free, store_job_list_free).
 */
#include "db/store_private.h"
#include "db/db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const job_kind_names[] = {NULL, "train", "backtest", "quantum"};
static const char *const job_state_names[] = {NULL,     "queued",    "running",    "succeeded",
                                              "failed", "cancelled", "interrupted"};
#define N_KINDS  (int)(sizeof job_kind_names / sizeof job_kind_names[0])
#define N_STATES (int)(sizeof job_state_names / sizeof job_state_names[0])

const char *store_job_kind_name(enum store_job_kind kind)
{
    return (int)kind > 0 && (int)kind < N_KINDS ? job_kind_names[kind] : "?";
}

int store_job_kind_parse(const char *text, enum store_job_kind *kind)
{
    for (int i = 1; text && i < N_KINDS; i++)
        if (strcmp(text, job_kind_names[i]) == 0) {
            *kind = (enum store_job_kind)i;
            return FW_OK;
        }
    return FW_EINVAL;
}

const char *store_job_state_name(enum store_job_state state)
{
    return (int)state > 0 && (int)state < N_STATES ? job_state_names[state] : "?";
}

int store_job_state_parse(const char *text, enum store_job_state *state)
{
    for (int i = 1; text && i < N_STATES; i++)
        if (strcmp(text, job_state_names[i]) == 0) {
            *state = (enum store_job_state)i;
            return FW_OK;
        }
    return FW_EINVAL;
}

int store_job_state_is_final(enum store_job_state state)
{
    return state == STORE_JOB_SUCCEEDED || state == STORE_JOB_FAILED ||
           state == STORE_JOB_CANCELLED;
}

/* The states a job may move to each state from (0-terminated). */
static const enum store_job_state job_predecessors[][4] = {
    [STORE_JOB_QUEUED] = {STORE_JOB_INTERRUPTED},
    [STORE_JOB_RUNNING] = {STORE_JOB_QUEUED, STORE_JOB_INTERRUPTED},
    [STORE_JOB_SUCCEEDED] = {STORE_JOB_RUNNING},
    [STORE_JOB_FAILED] = {STORE_JOB_QUEUED, STORE_JOB_RUNNING, STORE_JOB_INTERRUPTED},
    [STORE_JOB_CANCELLED] = {STORE_JOB_QUEUED, STORE_JOB_RUNNING, STORE_JOB_INTERRUPTED},
    [STORE_JOB_INTERRUPTED] = {STORE_JOB_RUNNING},
};

int store_job_create(sqlite3 *db, enum store_job_kind kind, const char *request_json, int epochs,
                     int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if ((int)kind <= 0 || (int)kind >= N_KINDS)
        return fw_error_set(err, FW_EINVAL, "unknown job kind %d", (int)kind);
    if (epochs < 0)
        return fw_error_set(err, FW_EINVAL, "epochs must not be negative");
    if ((rc = db_prepare(db, "INSERT INTO jobs (kind, request_json, epochs) VALUES (?1, ?2, ?3)",
                         &stmt, err)))
        return rc;
    if (sqlite3_bind_text(stmt, 1, job_kind_names[kind], -1, SQLITE_STATIC) ||
        st_bind_opt_text(stmt, 2, request_json) || sqlite3_bind_int(stmt, 3, epochs))
        rc = db_fail(db, sqlite3_errcode(db), "binding job values", err);
    else if ((rc = st_step_done(db, stmt, "creating a job", err)) == 0)
        *id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(stmt);
    return rc;
}

#define JOB_COLUMNS                                                                                \
    "id, kind, state, request_json, progress, epoch, epochs, eta_seconds, loss_curve_json,"        \
    " error, model_id, length(checkpoint), created_at, started_at, finished_at, updated_at,"       \
    " result_json"
#define JOB_CHECKPOINT_COLUMN 17

static void job_clear(struct store_job *job)
{
    free(job->request_json);
    free(job->loss_curve_json);
    free(job->error);
    free(job->result_json);
    free(job->checkpoint);
    memset(job, 0, sizeof *job);
}

static int read_job(sqlite3_stmt *stmt, int with_checkpoint, struct store_job *job, fw_error *err)
{
    memset(job, 0, sizeof *job);
    job->id = sqlite3_column_int64(stmt, 0);
    if (store_job_kind_parse((const char *)sqlite3_column_text(stmt, 1), &job->kind) ||
        store_job_state_parse((const char *)sqlite3_column_text(stmt, 2), &job->state))
        return fw_error_set(err, FW_ECORRUPT, "job %lld has an unknown kind or state",
                            (long long)job->id);
    job->progress = sqlite3_column_double(stmt, 4);
    job->epoch = sqlite3_column_int(stmt, 5);
    job->epochs = sqlite3_column_int(stmt, 6);
    job->eta_seconds =
        sqlite3_column_type(stmt, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, 7);
    job->model_id = sqlite3_column_int64(stmt, 10);
    job->checkpoint_len = (size_t)sqlite3_column_int64(stmt, 11);
    st_copy_column(stmt, 12, job->created_at, sizeof job->created_at);
    st_copy_column(stmt, 13, job->started_at, sizeof job->started_at);
    st_copy_column(stmt, 14, job->finished_at, sizeof job->finished_at);
    st_copy_column(stmt, 15, job->updated_at, sizeof job->updated_at);
    if (st_dup_column(stmt, 3, &job->request_json) ||
        st_dup_column(stmt, 8, &job->loss_curve_json) || st_dup_column(stmt, 9, &job->error) ||
        st_dup_column(stmt, 16, &job->result_json) ||
        (with_checkpoint &&
         st_dup_blob_column(stmt, JOB_CHECKPOINT_COLUMN, &job->checkpoint, &job->checkpoint_len))) {
        job_clear(job);
        return fw_error_set(err, FW_ENOMEM, "out of memory reading a job");
    }
    return FW_OK;
}

int store_job_get(sqlite3 *db, int64_t id, struct store_job **out, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_job *job = NULL;
    int rc;
    if ((rc = db_prepare(db, "SELECT " JOB_COLUMNS ", checkpoint FROM jobs WHERE id = ?1", &stmt,
                         err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE) {
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
        goto cleanup;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading a job", err);
        goto cleanup;
    }
    if (!(job = malloc(sizeof *job))) {
        rc = fw_error_set(err, FW_ENOMEM, "out of memory reading a job");
        goto cleanup;
    }
    if ((rc = read_job(stmt, 1, job, err))) {
        free(job);
        goto cleanup;
    }
    *out = job;
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_list(sqlite3 *db, int state, struct store_job **items, size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_job *list = NULL;
    size_t n = 0, cap = 0;
    int rc, src;
    if (state < 0 || state >= N_STATES)
        return fw_error_set(err, FW_EINVAL, "unknown job state %d", state);
    if ((rc = db_prepare(db,
                         "SELECT " JOB_COLUMNS " FROM jobs WHERE ?1 IS NULL OR state = ?1"
                         " ORDER BY id",
                         &stmt, err)))
        return rc;
    st_bind_opt_text(stmt, 1, state ? job_state_names[state] : NULL);
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (st_grow((void **)&list, &cap, n, sizeof *list)) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory listing jobs");
            goto cleanup;
        }
        if ((rc = read_job(stmt, 0, &list[n], err)))
            goto cleanup;
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "listing jobs", err);
        goto cleanup;
    }
    *items = list;
    *count = n;
    list = NULL;
    n = 0;
cleanup:
    store_job_list_free(list, n);
    sqlite3_finalize(stmt);
    return rc;
}

/* After an UPDATE of a job that touched no row: why not. */
static int job_unchanged(sqlite3 *db, int64_t id, enum store_job_state wanted, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    enum store_job_state current;
    int rc = db_prepare(db, "SELECT state FROM jobs WHERE id = ?1", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
    else if (src != SQLITE_ROW)
        rc = db_fail(db, src, "reading a job", err);
    else if (store_job_state_parse((const char *)sqlite3_column_text(stmt, 0), &current))
        rc = fw_error_set(err, FW_ECORRUPT, "job %lld has an unknown state", (long long)id);
    else if (wanted == STORE_JOB_RUNNING && current == STORE_JOB_CANCELLED)
        rc = fw_error_set(err, FW_ECANCELLED, "job %lld was cancelled", (long long)id);
    else
        rc = fw_error_set(err, FW_ECONFLICT, "job %lld is %s; it cannot become %s", (long long)id,
                          job_state_names[current], job_state_names[wanted]);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_state(sqlite3 *db, int64_t id, enum store_job_state state, const char *error,
                        fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if ((int)state <= 0 || (int)state >= N_STATES)
        return fw_error_set(err, FW_EINVAL, "unknown job state %d", (int)state);
    if ((rc = db_prepare(
             db,
             "UPDATE jobs SET state = ?2,"
             " started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, " SQL_NOW ")"
             "   ELSE started_at END,"
             " finished_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'cancelled') THEN " SQL_NOW
             "   ELSE NULL END,"
             " error = CASE WHEN ?3 IS NOT NULL THEN ?3"
             "   WHEN ?2 IN ('queued', 'running') THEN NULL ELSE error END,"
             " updated_at = " SQL_NOW " WHERE id = ?1 AND state IN (?4, ?5, ?6, ?7)",
             &stmt, err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int bad = sqlite3_bind_text(stmt, 2, job_state_names[state], -1, SQLITE_STATIC) ||
              st_bind_opt_text(stmt, 3, error);
    for (int i = 0; i < 4; i++) {
        enum store_job_state from = job_predecessors[state][i];
        bad = bad || st_bind_opt_text(stmt, 4 + i, from ? job_state_names[from] : NULL);
    }
    if (bad)
        rc = db_fail(db, sqlite3_errcode(db), "binding job state", err);
    else if ((rc = st_step_done(db, stmt, "updating a job", err)) == 0 && sqlite3_changes(db) == 0)
        rc = job_unchanged(db, id, state, err);
    if (rc == FW_ECANCELLED) /* only progress updates report cancellation */
        rc = fw_error_set(err, FW_ECONFLICT, "job %lld is cancelled; it cannot become %s",
                          (long long)id, job_state_names[state]);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_claim_next(sqlite3 *db, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "UPDATE jobs SET state = 'running', error = NULL,"
                        " started_at = coalesce(started_at, " SQL_NOW "), updated_at = " SQL_NOW
                        " WHERE id = (SELECT id FROM jobs WHERE state = 'queued'"
                        " ORDER BY id LIMIT 1) RETURNING id",
                        &stmt, err);
    if (rc)
        return rc;
    int64_t claimed = 0;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW)
        claimed = sqlite3_column_int64(stmt, 0);
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "claiming a job", err);
    else if (claimed == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "no job is queued");
    else
        *id = claimed;
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_update_progress(sqlite3 *db, int64_t id, const struct store_job_progress *p,
                              fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if (!(p->progress >= 0 && p->progress <= 1))
        return fw_error_set(err, FW_EINVAL, "job progress must be between 0 and 1");
    if (p->epoch < 0)
        return fw_error_set(err, FW_EINVAL, "job epoch must not be negative");
    if (!isnan(p->eta_seconds) && !(p->eta_seconds >= 0 && isfinite(p->eta_seconds)))
        return fw_error_set(err, FW_EINVAL, "job ETA must be >= 0 seconds or unknown");
    if ((rc = db_prepare(db,
                         "UPDATE jobs SET progress = ?2, epoch = ?3, eta_seconds = ?4,"
                         " loss_curve_json = coalesce(?5, loss_curve_json),"
                         " updated_at = " SQL_NOW " WHERE id = ?1 AND state = 'running'",
                         &stmt, err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if (sqlite3_bind_double(stmt, 2, p->progress) || sqlite3_bind_int(stmt, 3, p->epoch) ||
        st_bind_opt_double(stmt, 4, p->eta_seconds) ||
        st_bind_opt_text(stmt, 5, p->loss_curve_json))
        rc = db_fail(db, sqlite3_errcode(db), "binding job progress", err);
    else if ((rc = st_step_done(db, stmt, "updating job progress", err)) == 0 &&
             sqlite3_changes(db) == 0)
        rc = job_unchanged(db, id, STORE_JOB_RUNNING, err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_checkpoint(sqlite3 *db, int64_t id, const void *checkpoint, size_t len,
                             fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(
        db, "UPDATE jobs SET checkpoint = ?2, updated_at = " SQL_NOW " WHERE id = ?1", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int bad = checkpoint && len ? sqlite3_bind_blob64(stmt, 2, checkpoint, len, SQLITE_STATIC)
                                : sqlite3_bind_null(stmt, 2);
    if (bad)
        rc = db_fail(db, sqlite3_errcode(db), "binding a checkpoint", err);
    else if ((rc = st_step_done(db, stmt, "storing a checkpoint", err)) == 0 &&
             sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_model(sqlite3 *db, int64_t id, int64_t model_id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = st_require_row(db, SQL_MODEL_EXISTS, "model", model_id, err)) ||
        (rc = st_require_row(db, SQL_JOB_EXISTS, "job", id, err)) ||
        (rc =
             db_prepare(db, "UPDATE jobs SET model_id = ?2, updated_at = " SQL_NOW " WHERE id = ?1",
                        &stmt, err)))
        goto cleanup;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, model_id);
    if ((rc = st_step_done(db, stmt, "updating a job", err)) || (rc = db_tx_commit(&tx, err)))
        goto cleanup;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

int store_job_set_result(sqlite3 *db, int64_t id, const char *result_json, fw_error *err)
{
    return st_update_text_by_id(
        db, "UPDATE jobs SET result_json = ?2, updated_at = " SQL_NOW " WHERE id = ?1", "job", id,
        result_json, err);
}

int store_job_mark_interrupted(sqlite3 *db, int *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "UPDATE jobs SET state = 'interrupted', updated_at = " SQL_NOW
                        " WHERE state = 'running'",
                        &stmt, err);
    if (rc)
        return rc;
    if ((rc = st_step_done(db, stmt, "marking interrupted jobs", err)) == 0 && count)
        *count = sqlite3_changes(db);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_count_by_state(sqlite3 *db, int64_t counts[8], fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT state, count(*) FROM jobs GROUP BY state", &stmt, err);
    if (rc)
        return rc;
    for (int i = 0; i < 8; i++)
        counts[i] = 0;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum store_job_state state;
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        if (name && store_job_state_parse(name, &state) == FW_OK && state >= 0 && state < 8)
            counts[state] = sqlite3_column_int64(stmt, 1);
    }
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "counting jobs", err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return st_change_by_id(db, "DELETE FROM jobs WHERE id = ?1", "deleting job", id, err);
}

void store_job_free(struct store_job *job)
{
    if (!job)
        return;
    job_clear(job);
    free(job);
}

void store_job_list_free(struct store_job *items, size_t count)
{
    if (!items)
        return;
    for (size_t i = 0; i < count; i++)
        job_clear(&items[i]);
    free(items);
}
