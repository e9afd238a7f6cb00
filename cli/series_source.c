/* series_source — load a monthly series for the CLI (see series_source.h). */
#include "cli/series_source.h"
#include "cli/cli.h"
#include "db/db.h"
#include "ingest/import.h"
#include "db/store.h"
#include "base/period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_id(const char *spec)
{
    if (!*spec || strlen(spec) > 18)
        return 0;
    for (const char *p = spec; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return !cli_file_exists(spec);
}

int series_source_load(const char *spec, const char *db_path, struct month_series *out,
                       fw_error *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (spec && is_id(spec)) {
        sqlite3 *db = NULL;
        rc = db_open(cli_db_path(db_path), &db, err);
        if (!rc)
            rc = db_migrate(db, NULL, err);
        if (!rc)
            rc = month_series_from_dataset(db, strtoll(spec, NULL, 10), out, err);
        db_close(db);
        return rc;
    }
    char path[4096];
    if (spec)
        snprintf(path, sizeof path, "%s", spec);
    else
        snprintf(path, sizeof path, "%s/%s", cli_data_dir(), SERIES_SOURCE_DEFAULT_FILE);
    struct import_result *r = NULL;
    rc = import_file(path, NULL, &r, err);
    if (rc)
        return rc;
    if (r->frequency != STORE_FREQ_MONTH)
        rc = fw_error_set(err, FW_EINVAL, "%s is not a monthly series", path);
    if (!rc)
        rc = month_series_from_points(r->points, r->n_points, out, err);
    if (!rc) {
        memcpy(out->sha256, r->sha256, sizeof out->sha256);
        snprintf(out->label, sizeof out->label, "%.250s", path);
    }
    import_result_free(r);
    return rc;
}
