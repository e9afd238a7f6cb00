/* month_series — a monthly series in hand (see month_series.h). */
#include "core/month_series.h"
#include "base/period.h"
#include "db/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int month_series_from_points(const struct store_point *points, size_t n, struct month_series *out,
                             fw_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return fw_error_set(err, FW_EINVAL, "the series is empty");
    if (period_parse(points[0].period, &out->first_month))
        return fw_error_set(err, FW_EINVAL, "the series is not monthly (period '%s')",
                            points[0].period);
    if (!(out->values = malloc(n * sizeof *out->values)))
        return FW_ENOMEM;
    for (size_t i = 0; i < n; i++)
        out->values[i] = points[i].value;
    out->n = n;
    return FW_OK;
}

int month_series_from_dataset(sqlite3 *db, int64_t id, struct month_series *out, fw_error *err)
{
    memset(out, 0, sizeof *out);
    struct store_dataset *ds = NULL;
    int rc = store_dataset_get(db, id, NULL, NULL, &ds, err);
    if (rc)
        return rc;
    if (ds->meta.frequency != STORE_FREQ_MONTH || ds->n_points == 0)
        rc = fw_error_set(err, FW_EINVAL, "dataset %lld is not a monthly series", (long long)id);
    else if ((rc = month_series_from_points(ds->points, ds->n_points, out, err)) == FW_EINVAL)
        fw_error_set(err, FW_EINVAL, "dataset %lld is not a monthly series", (long long)id);
    if (!rc) {
        memcpy(out->sha256, ds->meta.sha256, sizeof out->sha256);
        snprintf(out->label, sizeof out->label, "dataset %lld (%.200s)", (long long)id,
                 ds->meta.name);
        out->dataset_id = id;
    }
    store_dataset_free(ds);
    return rc;
}

int month_series_copy(const struct month_series *src, struct month_series *out)
{
    *out = *src;
    out->values = malloc((src->n ? src->n : 1) * sizeof *out->values);
    if (!out->values)
        return FW_ENOMEM;
    memcpy(out->values, src->values, src->n * sizeof *out->values);
    return FW_OK;
}

void month_series_free(struct month_series *s)
{
    if (s) {
        free(s->values);
        s->values = NULL;
        s->n = 0;
    }
}
