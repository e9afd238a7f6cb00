/*
 * import_store — parsed series into datasets (see import_store.h): the SQLite side of an
 * import, over ingest/import.h (parsing) and db/store.h (store_dataset_create). The parse
 * result is the caller's, or freed here when this file made it; the rows belong to the database.
 */
#include "db/import_store.h"
#include "db/db.h"
#include "db/store.h"

int import_result_to_store(sqlite3 *db, const struct import_result *res, int64_t *id, fw_error *err)
{
    struct db_tx tx = {0};
    int64_t new_id;
    int rc;
    if (!res->name[0])
        return fw_error_set(err, FW_EINVAL,
                            "the dataset needs a name (give one, or \"name\" in a JSON body)");
    struct store_dataset_new ds = {
        .name = res->name,
        .source = res->source[0] ? res->source : NULL,
        .unit = res->unit[0] ? res->unit : NULL,
        .frequency = res->frequency,
        .points = res->points,
        .n_points = res->n_points,
    };
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = store_dataset_create(db, &ds, &new_id, err)) || (rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    db_tx_rollback(&tx);
    return rc;
}

int import_buffer_to_store(sqlite3 *db, const char *data, size_t len,
                           const struct import_options *options, int64_t *id, fw_error *err)
{
    struct import_result *res = NULL;
    int rc = import_buffer(data, len, options, &res, err);
    if (rc == 0)
        rc = import_result_to_store(db, res, id, err);
    import_result_free(res);
    return rc;
}

int import_file_to_store(sqlite3 *db, const char *path, const struct import_options *options,
                         int64_t *id, fw_error *err)
{
    struct import_result *res = NULL;
    int rc = import_file(path, options, &res, err);
    if (rc == 0)
        rc = import_result_to_store(db, res, id, err);
    import_result_free(res);
    return rc;
}
