/* bootstrap — the bundled SILSO series into an empty database (see bootstrap.h). */
#include "db/bootstrap.h"
#include "db/db.h"
#include "db/import_store.h"
#include "db/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int import_bundled(sqlite3 *db, const char *data_dir, const char *file, const char *name,
                          fw_error *err)
{
    char source[STORE_SOURCE_MAX];
    struct import_result *parsed = NULL;
    fw_error local = {0};
    int64_t id;
    int rc;
    size_t n = strlen(data_dir) + strlen(file) + 2;
    char *path = malloc(n);
    if (!path)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    snprintf(path, n, "%s/%s", data_dir, file);
    snprintf(source, sizeof source, "WDC-SILSO, Royal Observatory of Belgium, Brussels (%s)", file);
    struct import_options options = {
        .format = IMPORT_SILSO_MONTHLY,
        .name = name,
        .source = source,
        .unit = "sunspot number",
    };
    if ((rc = import_file(path, &options, &parsed, &local))) /* its messages name the file */
        fw_error_set(err, rc, "bundled data %s", local.msg);
    else if ((rc = import_result_to_store(db, parsed, &id, &local)))
        fw_error_set(err, rc, "bundled data %s: %s", path, local.msg);
    import_result_free(parsed);
    free(path);
    return rc;
}

int db_bootstrap_bundled(sqlite3 *db, const char *data_dir, fw_error *err)
{
    struct db_tx tx = {0};
    int64_t count = 0;
    int rc;
    if (!data_dir || !*data_dir)
        return fw_error_set(err, FW_EINVAL, "no data directory given");
    /* Counted inside the write transaction, so that two processes starting at once cannot both
     * find the database empty. */
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = store_dataset_count(db, &count, err)) || count > 0)
        goto cleanup;
    if ((rc = import_bundled(db, data_dir, BOOTSTRAP_MONTHLY_FILE, BOOTSTRAP_MONTHLY_NAME, err)) ||
        (rc = import_bundled(db, data_dir, BOOTSTRAP_SMOOTHED_FILE, BOOTSTRAP_SMOOTHED_NAME, err)))
        goto cleanup;
    rc = db_tx_commit(&tx, err);
cleanup:
    db_tx_rollback(&tx);
    return rc;
}
