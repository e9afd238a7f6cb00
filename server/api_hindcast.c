/* api_hindcast — GET /hindcasts: the cycle hindcast suite (core/hindcast.h). The runs
 * `fwpcast hindcast` stored in the results table, grouped per recipe (architecture, config,
 * epochs, data; each cycle the mean over its seeds), beside the baselines, which are computed on
 * each request from the bundled SILSO monthly series (cheap and deterministic: one smoothing and
 * one cycle search), and each method's means over the cycles (core/hindcast_report.h). Query:
 * cycles=A-B (default 21-25), architecture (only its runs). Never 404: with no runs yet the
 * answer is the baselines and an empty list of models. */
#include "core/hindcast.h"
#include "core/hindcast_report.h"
#include "db/bootstrap.h"
#include "db/results.h"
#include "db/store.h"
#include "ingest/import.h"
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CYCLES "21-25"

/* The bundled file itself, for a database whose silso-monthly dataset was deleted. */
static int bundled_file(const struct http_request *req, struct month_series *out, fw_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", app_config(req->ctx)->data_dir, BOOTSTRAP_MONTHLY_FILE);
    struct import_result *r = NULL;
    int rc = import_file(path, NULL, &r, err);
    if (!rc)
        rc = month_series_from_points(r->points, r->n_points, out, err);
    if (!rc)
        memcpy(out->sha256, r->sha256, sizeof out->sha256);
    import_result_free(r);
    return rc;
}

/* The bundled SILSO monthly series: the stored dataset (through the cache), else the file. */
static int bundled_series(const struct http_request *req, sqlite3 *db, struct month_series *out,
                          fw_error *err)
{
    int64_t id = 0;
    memset(out, 0, sizeof *out);
    int rc = store_dataset_find(db, BOOTSTRAP_MONTHLY_NAME, &id, err);
    if (!rc)
        rc = app_dataset_series(req->ctx, id, out, err);
    if (rc == FW_ENOTFOUND) {
        memset(err, 0, sizeof *err);
        rc = bundled_file(req, out, err);
    }
    return rc;
}

/* The report of the stored runs that pass the filter on the plan's cycles. */
static json_t *report(sqlite3 *db, const struct hindcast_plan *p, const char *sha256,
                      const struct hindcast_filter *f, int *rc, fw_error *err)
{
    struct result_row *rows = NULL;
    struct hindcast_group *groups = NULL;
    size_t n = 0, m = 0;
    *rc = results_list(db, HINDCAST_SUITE, NULL, &rows, &n, err);
    if (!*rc)
        *rc = hindcast_groups(p, rows, n, f, &groups, &m);
    free(rows);
    json_t *o = *rc ? NULL : hindcast_report_json(p, sha256, groups, m);
    free(groups);
    if (!*rc && !o)
        *rc = FW_ENOMEM;
    return o;
}

void api_hindcasts(const struct http_request *req, struct http_response *resp)
{
    const char *cycles = http_query(req, "cycles");
    const char *arch = http_query(req, "architecture");
    fw_error err = {0};
    int from = 0, to = 0;
    int rc = hindcast_parse_cycles(cycles ? cycles : DEFAULT_CYCLES, &from, &to, &err);
    if (!rc && arch && (!*arch || strlen(arch) >= RESULT_TEXT_MAX))
        rc = fw_error_set(&err, FW_EINVAL, "architecture must be a name of 1..%d characters",
                          RESULT_TEXT_MAX - 1);
    if (rc)
        return api_fail(resp, rc, &err);
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct month_series src;
    if ((rc = bundled_series(req, db, &src, &err)))
        return api_fail(resp, rc == FW_EINVAL || rc == FW_ENOTFOUND ? FW_EIO : rc, &err);
    struct hindcast_plan plan;
    json_t *o = NULL;
    rc = hindcast_plan_make(src.values, src.n, src.first_month, from, to, &plan, &err);
    if (!rc) {
        struct hindcast_filter f = {.architecture = arch};
        o = report(db, &plan, src.sha256, &f, &rc, &err);
        hindcast_plan_free(&plan);
    }
    month_series_free(&src);
    if (rc)
        return api_fail(resp, rc, &err);
    api_json(resp, 200, o);
}
