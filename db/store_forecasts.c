/*
 * store_forecasts — the forecasts table (db/store.h, "forecasts"): recording a forecast, its
 * request and response documents as given, with the model that made it and the dataset it read.
 * The rows belong to the database; nothing here allocates.
 */
#include "db/store_private.h"
#include "db/db.h"

int store_forecast_insert(sqlite3 *db, int64_t model_id, int64_t dataset_id,
                          const char *request_json, const char *response_json, int64_t *id,
                          fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if (!request_json || !response_json)
        return fw_error_set(err, FW_EINVAL, "a forecast needs its request and response");
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = st_require_row(db, SQL_MODEL_EXISTS, "model", model_id, err)) ||
        (dataset_id > 0 &&
         (rc = st_require_row(db, SQL_DATASET_EXISTS, "dataset", dataset_id, err))))
        goto cleanup;
    if ((rc = db_prepare(db,
                         "INSERT INTO forecasts (model_id, dataset_id, request_json, response_json)"
                         " VALUES (?1, ?2, ?3, ?4)",
                         &stmt, err)))
        goto cleanup;
    if (sqlite3_bind_int64(stmt, 1, model_id) || st_bind_opt_id(stmt, 2, dataset_id) ||
        sqlite3_bind_text(stmt, 3, request_json, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 4, response_json, -1, SQLITE_STATIC)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding forecast values", err);
        goto cleanup;
    }
    if ((rc = st_step_done(db, stmt, "inserting a forecast", err)))
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
