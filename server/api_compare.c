/* api_compare — GET /compare: the stored comparison results (db/results.h) per model, mean and
 * sample sd over seeds, for the dashboard and scripts. Query: suite=solar|timeseries (default
 * solar), task (solar: paper; time series: a dataset, default all), epochs (default all). */
#include "db/results.h"
#include "model/tsdata.h"
#include "server/api.h"

#include <stdlib.h>
#include <string.h>

static void fail_query(struct http_response *resp, const char *message)
{
    fw_error err;
    fw_error_set(&err, FW_EINVAL, "%s", message);
    api_fail(resp, FW_EINVAL, &err);
}

void api_compare(const struct http_request *req, struct http_response *resp)
{
    const char *suite = http_query(req, "suite"), *task = http_query(req, "task");
    const char *epochs_text = http_query(req, "epochs");
    suite = suite ? suite : "solar";
    long epochs = 0;
    if (strcmp(suite, "solar") && strcmp(suite, "timeseries"))
        return fail_query(resp, "suite must be 'solar' or 'timeseries'");
    if (!strcmp(suite, "solar") && task && strcmp(task, "paper"))
        return fail_query(resp, "the solar suite's task is 'paper'");
    if (!strcmp(suite, "timeseries") && task && !tsdata_find(task))
        return fail_query(resp, "task must be a time-series dataset (see fwpcast benchmark)");
    if (epochs_text) {
        char *end;
        epochs = strtol(epochs_text, &end, 10);
        if (end == epochs_text || *end || epochs < 1 || epochs > 100000)
            return fail_query(resp, "epochs must be an integer in 1..100000");
    }
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct result_row *rows = NULL;
    struct result_summary *sums = NULL;
    size_t n = 0, m = 0;
    fw_error err = {0};
    int rc = results_list(db, suite, task, &rows, &n, &err);
    if (!rc)
        rc = results_summarize(rows, n, &sums, &m);
    free(rows);
    if (rc)
        return api_fail(resp, rc, &err);
    json_t *list = json_array();
    int failed = !list;
    for (size_t k = 0; k < m; k++)
        if (!epochs || sums[k].epochs == epochs)
            failed |= json_array_append_new(list, results_summary_json(&sums[k]));
    free(sums);
    json_t *o = failed ? NULL : json_pack("{s:s, s:o}", "suite", suite, "models", list);
    if (failed)
        json_decref(list);
    if (o && task && json_object_set_new(o, "task", json_string(task))) {
        json_decref(o);
        o = NULL;
    }
    api_json(resp, 200, o);
}
