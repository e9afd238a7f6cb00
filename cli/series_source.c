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

static int from_points(const struct store_point *points, size_t n, struct series_source *out,
                       fw_error *err)
{
    if (n == 0)
        return fw_error_set(err, FW_EINVAL, "the series is empty");
    if (period_parse(points[0].period, &out->first_month))
        return fw_error_set(err, FW_EINVAL, "the series is not monthly (period '%s')",
                            points[0].period);
    out->values = malloc(n * sizeof *out->values);
    if (!out->values)
        return FW_ENOMEM;
    for (size_t i = 0; i < n; i++)
        out->values[i] = points[i].value;
    out->n = n;
    return FW_OK;
}

static int is_id(const char *spec)
{
    if (!*spec || strlen(spec) > 18)
        return 0;
    for (const char *p = spec; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return !cli_file_exists(spec);
}

int series_source_load(const char *spec, const char *db_path, struct series_source *out,
                       fw_error *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (spec && is_id(spec)) {
        sqlite3 *db = NULL;
        struct store_dataset *ds = NULL;
        int64_t id = strtoll(spec, NULL, 10);
        rc = db_open(cli_db_path(db_path), &db, err);
        if (!rc)
            rc = db_migrate(db, NULL, err);
        if (!rc)
            rc = store_dataset_get(db, id, NULL, NULL, &ds, err);
        db_close(db);
        if (rc)
            return rc;
        if (ds->meta.frequency != STORE_FREQ_MONTH)
            rc = fw_error_set(err, FW_EINVAL, "dataset %lld is not monthly", (long long)id);
        if (!rc)
            rc = from_points(ds->points, ds->n_points, out, err);
        if (!rc) {
            memcpy(out->sha256, ds->meta.sha256, sizeof out->sha256);
            snprintf(out->label, sizeof out->label, "dataset %lld (%.200s)", (long long)id,
                     ds->meta.name);
            out->dataset_id = id;
        }
        store_dataset_free(ds);
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
        rc = from_points(r->points, r->n_points, out, err);
    if (!rc) {
        memcpy(out->sha256, r->sha256, sizeof out->sha256);
        snprintf(out->label, sizeof out->label, "%.250s", path);
    }
    import_result_free(r);
    return rc;
}

void series_source_free(struct series_source *s)
{
    if (s) {
        free(s->values);
        s->values = NULL;
    }
}
