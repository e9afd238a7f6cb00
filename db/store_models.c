/*
 * store_models — the models table (db/store.h, "models"): inserting a trained model (weights
 * blob and metadata), reading one with its weights or all without, the one default model,
 * metrics, deleting. The rows belong to the database; a struct store_model returned, with its
 * owned strings and weights, belongs to the caller (store_model_free, store_model_list_free).
 */
#include "db/store_private.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

static int check_model(const struct store_model_new *m, fw_error *err)
{
    int rc, index;
    if ((rc = st_check_name("model name", m->name, STORE_NAME_MAX, err)) ||
        (rc = st_check_name("model architecture", m->architecture, STORE_ARCH_MAX, err)) ||
        (rc = st_check_optional_text("model protocol", m->protocol, STORE_PROTOCOL_MAX, err)))
        return rc;
    if (m->data_sha256 && !is_hex64(m->data_sha256))
        return fw_error_set(err, FW_EINVAL, "data_sha256 must be 64 lower-case hex digits");
    if (m->cutoff && st_period_index(STORE_FREQ_MONTH, m->cutoff, &index) &&
        st_period_index(STORE_FREQ_YEAR, m->cutoff, &index))
        return fw_error_set(err, FW_EINVAL, "model cutoff must be a period YYYY-MM or YYYY");
    if (m->parameters < 0 || m->format_version < 0 || m->dataset_id < 0)
        return fw_error_set(err, FW_EINVAL,
                            "model parameters, format version and dataset id "
                            "must not be negative");
    if (!m->weights || m->weights_len == 0)
        return fw_error_set(err, FW_EINVAL, "a model needs its weights");
    return FW_OK;
}

int store_model_insert(sqlite3 *db, const struct store_model_new *m, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = check_model(m, err)))
        return rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if (m->dataset_id > 0 &&
        (rc = st_require_row(db, SQL_DATASET_EXISTS, "dataset", m->dataset_id, err)))
        goto cleanup;
    if (m->is_default &&
        (rc = db_prepare(db, "UPDATE models SET is_default = 0 WHERE is_default = 1", &stmt,
                         err)) == 0) {
        rc = st_step_done(db, stmt, "clearing the default model", err);
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (rc)
        goto cleanup;
    if ((rc = db_prepare(db,
                         "INSERT INTO models (name, architecture, config_json, parameters, seed,"
                         " dataset_id, data_sha256, cutoff, protocol, format_version, weights,"
                         " metrics_json, is_default)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                         &stmt, err)))
        goto cleanup;
    /* The seed's 64 bits are kept as SQLite's signed integer and read back unchanged. */
    if (sqlite3_bind_text(stmt, 1, m->name, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 2, m->architecture, -1, SQLITE_STATIC) ||
        st_bind_opt_text(stmt, 3, m->config_json) || sqlite3_bind_int64(stmt, 4, m->parameters) ||
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)m->seed) ||
        st_bind_opt_id(stmt, 6, m->dataset_id) || st_bind_opt_text(stmt, 7, m->data_sha256) ||
        st_bind_opt_text(stmt, 8, m->cutoff) || st_bind_opt_text(stmt, 9, m->protocol) ||
        sqlite3_bind_int(stmt, 10, m->format_version) ||
        sqlite3_bind_blob64(stmt, 11, m->weights, m->weights_len, SQLITE_STATIC) ||
        st_bind_opt_text(stmt, 12, m->metrics_json) ||
        sqlite3_bind_int(stmt, 13, m->is_default ? 1 : 0)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding model values", err);
        goto cleanup;
    }
    if ((rc = st_step_done(db, stmt, "inserting a model", err)))
        goto cleanup;
    int64_t new_id = sqlite3_last_insert_rowid(db);
    if ((rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

#define MODEL_COLUMNS                                                                              \
    "id, name, architecture, config_json, parameters, seed, dataset_id, data_sha256, cutoff,"      \
    " protocol, format_version, length(weights), metrics_json, is_default, created_at"
#define MODEL_WEIGHTS_COLUMN 15

static void model_clear(struct store_model *m)
{
    free(m->config_json);
    free(m->weights);
    free(m->metrics_json);
    memset(m, 0, sizeof *m);
}

static int read_model(sqlite3_stmt *stmt, int with_weights, struct store_model *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(stmt, 0);
    st_copy_column(stmt, 1, m->name, sizeof m->name);
    st_copy_column(stmt, 2, m->architecture, sizeof m->architecture);
    m->parameters = sqlite3_column_int64(stmt, 4);
    m->seed = (uint64_t)sqlite3_column_int64(stmt, 5);
    m->dataset_id = sqlite3_column_int64(stmt, 6);
    st_copy_column(stmt, 7, m->data_sha256, sizeof m->data_sha256);
    st_copy_column(stmt, 8, m->cutoff, sizeof m->cutoff);
    st_copy_column(stmt, 9, m->protocol, sizeof m->protocol);
    m->format_version = sqlite3_column_int(stmt, 10);
    m->weights_len = (size_t)sqlite3_column_int64(stmt, 11);
    m->is_default = sqlite3_column_int(stmt, 13);
    st_copy_column(stmt, 14, m->created_at, sizeof m->created_at);
    if (st_dup_column(stmt, 3, &m->config_json) || st_dup_column(stmt, 12, &m->metrics_json) ||
        (with_weights &&
         st_dup_blob_column(stmt, MODEL_WEIGHTS_COLUMN, &m->weights, &m->weights_len))) {
        model_clear(m);
        return FW_ENOMEM;
    }
    return FW_OK;
}

/* One model chosen by `sql` (SELECT MODEL_COLUMNS, weights ... with an optional ?1 id). */
static int get_model(sqlite3 *db, const char *sql, int64_t id, const char *not_found,
                     struct store_model **out, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_model *m = NULL;
    int rc;
    if ((rc = db_prepare(db, sql, &stmt, err)))
        return rc;
    if (id > 0)
        sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE) {
        rc = id > 0 ? fw_error_set(err, FW_ENOTFOUND, "model %lld not found", (long long)id)
                    : fw_error_set(err, FW_ENOTFOUND, "%s", not_found);
        goto cleanup;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading a model", err);
        goto cleanup;
    }
    if (!(m = malloc(sizeof *m)) || read_model(stmt, 1, m)) {
        free(m);
        rc = fw_error_set(err, FW_ENOMEM, "out of memory reading a model");
        goto cleanup;
    }
    *out = m;
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_get(sqlite3 *db, int64_t id, struct store_model **out, fw_error *err)
{
    if (id <= 0)
        return fw_error_set(err, FW_ENOTFOUND, "model %lld not found", (long long)id);
    return get_model(db, "SELECT " MODEL_COLUMNS ", weights FROM models WHERE id = ?1", id, NULL,
                     out, err);
}

int store_model_get_default(sqlite3 *db, struct store_model **out, fw_error *err)
{
    return get_model(db, "SELECT " MODEL_COLUMNS ", weights FROM models WHERE is_default = 1", 0,
                     "no default model is set", out, err);
}

int store_model_default_id(sqlite3 *db, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT id FROM models WHERE is_default = 1", &stmt, err);
    if (rc)
        return rc;
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    else if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "no default model is set");
    else
        rc = db_fail(db, src, "finding the default model", err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_list(sqlite3 *db, struct store_model **items, size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_model *list = NULL;
    size_t n = 0, cap = 0;
    int rc, src;
    if ((rc = db_prepare(db, "SELECT " MODEL_COLUMNS " FROM models ORDER BY id", &stmt, err)))
        return rc;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (st_grow((void **)&list, &cap, n, sizeof *list) || read_model(stmt, 0, &list[n])) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory listing models");
            goto cleanup;
        }
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "listing models", err);
        goto cleanup;
    }
    *items = list;
    *count = n;
    list = NULL;
    n = 0;
cleanup:
    store_model_list_free(list, n);
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_set_default(sqlite3 *db, int64_t id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = st_require_row(db, SQL_MODEL_EXISTS, "model", id, err)))
        goto cleanup;
    if ((rc =
             db_prepare(db, "UPDATE models SET is_default = 0 WHERE is_default = 1", &stmt, err)) ||
        (rc = st_step_done(db, stmt, "clearing the default model", err)))
        goto cleanup;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if ((rc = st_change_by_id(db, "UPDATE models SET is_default = 1 WHERE id = ?1",
                              "setting the default model", id, err)) ||
        (rc = db_tx_commit(&tx, err)))
        goto cleanup;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

int store_model_set_metrics(sqlite3 *db, int64_t id, const char *metrics_json, fw_error *err)
{
    return st_update_text_by_id(db, "UPDATE models SET metrics_json = ?2 WHERE id = ?1", "model",
                                id, metrics_json, err);
}

int store_model_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return st_change_by_id(db, "DELETE FROM models WHERE id = ?1", "deleting model", id, err);
}

void store_model_free(struct store_model *model)
{
    if (!model)
        return;
    model_clear(model);
    free(model);
}

void store_model_list_free(struct store_model *items, size_t count)
{
    if (!items)
        return;
    for (size_t i = 0; i < count; i++)
        model_clear(&items[i]);
    free(items);
}
