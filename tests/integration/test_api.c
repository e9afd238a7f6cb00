/*
 * Integration: the happy path of every endpoint against a real `fwpcast serve` on 127.0.0.1
 * with a real SQLite file — health and metrics, datasets (JSON, CSV, SILSO text), training jobs,
 * models (list, read, export binary/JSON, import, delete), forecasts (by id, inline series,
 * cutoff, levels, the default model with an empty body) and backtests.
 */
#include "itest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct itest_server *srv;
static int64_t tiny_model; /* trained once for the group: window 24, horizon 6 */

static int group_setup(void **state)
{
    (void)state;
    srv = its_start(NULL, NULL);
    tiny_model = it_train_tiny(srv, 2);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv); /* a clean stop, exit status 0 (no leak under ASan) */
    its_free(srv);
    srv = NULL;
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int month_of(const char *period)
{
    int y = 0, m = 0;
    assert_int_equal(sscanf(period, "%d-%d", &y, &m), 2);
    return y * 12 + m - 1;
}

static void period_of(int month, char out[16])
{
    snprintf(out, 16, "%04d-%02d", month / 12, month % 12 + 1);
}

static char *dumps(const json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    assert_non_null(text);
    return text;
}

/* POST a body, check 201 + Location /datasets/{id}; returns the created dataset's JSON. */
static json_t *create_dataset(const char *path, const char *ct, const char *body, size_t len)
{
    struct it_resp r;
    it_post(srv, path, ct, body, len, &r);
    IT_STATUS(&r, 201);
    json_t *o = IT_JSON(&r);
    char want[64];
    snprintf(want, sizeof want, "/datasets/%lld", (long long)JI(o, "id"));
    assert_non_null(r.location);
    assert_string_equal(r.location, want);
    assert_true(r.content_type && !strncmp(r.content_type, "application/json", 16));
    assert_int_equal(strlen(JS(o, "sha256")), 64);
    it_resp_free(&r);
    return o;
}

static int list_has_dataset(int64_t id)
{
    json_t *o = IT_GET_JSON(srv, "/datasets");
    json_t *items = JA(o, "datasets"), *d;
    size_t i;
    int found = 0;
    json_array_foreach(items, i, d)
    {
        found |= JI(d, "id") == id;
    }
    json_decref(o);
    return found;
}

static void delete_dataset(int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/datasets/%lld", (long long)id);
    struct it_resp r;
    it_delete(srv, path, &r);
    IT_STATUS(&r, 204);
    assert_int_equal(r.len, 0);
    it_resp_free(&r);
    it_get(srv, path, &r);
    IT_PROBLEM(&r, 404);
    it_resp_free(&r);
    it_delete(srv, path, &r);
    IT_PROBLEM(&r, 404);
    it_resp_free(&r);
    assert_false(list_has_dataset(id));
}

/* POST /forecast (JSON) and check 200; returns the answer. */
static json_t *forecast(struct itest_server *s, const char *body)
{
    struct it_resp r;
    it_post_json(s, "/forecast", body, &r);
    IT_STATUS(&r, 200);
    json_t *o = IT_JSON(&r);
    it_resp_free(&r);
    return o;
}

/* Checks a forecast: h rows, consecutive months after last_observed, finite values, nested
 * intervals for the given levels (ascending). */
static void check_forecast(const json_t *o, int h, const char *last_observed, const double *levels,
                           size_t n_levels)
{
    assert_int_equal(JI(o, "h"), h);
    assert_string_equal(JS(o, "last_observed"), last_observed);
    assert_string_equal(JS(o, "backend"), "exact");
    json_t *rows = JA(o, "forecast"), *row;
    assert_int_equal(json_array_size(rows), h);
    json_t *lv = JA(o, "level");
    assert_int_equal(json_array_size(lv), n_levels);
    int month = month_of(last_observed);
    size_t j;
    json_array_foreach(rows, j, row)
    {
        char want[16];
        period_of(month + 1 + (int)j, want);
        assert_string_equal(JS(row, "period"), want);
        double v = JD(row, "value");
        assert_true(isfinite(v));
        double prev_lo = v, prev_hi = v;
        for (size_t i = 0; i < n_levels; i++) {
            char kl[32], kh[32];
            snprintf(kl, sizeof kl, "lo-%g", levels[i]);
            snprintf(kh, sizeof kh, "hi-%g", levels[i]);
            double lo = JD(row, kl), hi = JD(row, kh);
            assert_true(isfinite(lo) && isfinite(hi));
            assert_true(lo <= hi);
            /* wider levels give wider intervals */
            assert_true(lo <= prev_lo + 1e-9);
            assert_true(hi >= prev_hi - 1e-9);
            prev_lo = lo, prev_hi = hi;
        }
        /* exactly the members asked for: period, value and two per level */
        assert_int_equal(json_object_size(row), 2 + 2 * n_levels);
    }
}

/* The forecast rows only (the answer minus what names the model). */
static char *rows_text(const json_t *o)
{
    return dumps(JA(o, "forecast"));
}

static json_t *dataset1(void)
{
    return IT_GET_JSON(srv, "/datasets/1");
}

/* ---- system ------------------------------------------------------------------------------ */

static void test_healthz(void **state)
{
    (void)state;
    struct it_resp r;
    it_get(srv, "/healthz", &r);
    IT_STATUS(&r, 200);
    assert_true(r.content_type && !strncmp(r.content_type, "application/json", 16));
    json_t *o = IT_JSON(&r);
    assert_string_equal(JS(o, "status"), "ok");
    assert_string_equal(JS(o, "db"), "ok");
    assert_int_equal(JI(o, "workers"), 1);
    assert_int_equal(JI(o, "workers_configured"), 1);
    assert_true(JI(o, "datasets") >= 2); /* the bundled SILSO series */
    json_decref(o);
    it_resp_free(&r);

    struct it_req head = {.method = "HEAD", .path = "/healthz"};
    it_do(srv, &head, &r);
    IT_STATUS(&r, 200);
    assert_int_equal(r.len, 0);
    it_resp_free(&r);
}

static void test_metrics(void **state)
{
    (void)state;
    struct it_resp r;
    it_get(srv, "/healthz", &r);
    it_resp_free(&r);
    it_get(srv, "/metrics", &r);
    IT_STATUS(&r, 200);
    assert_true(r.content_type && !strncmp(r.content_type, "text/plain", 10));
    const char *m = r.body;
    assert_non_null(strstr(m, "# TYPE fwpcast_http_requests_total counter\n"));
    assert_true(
        it_metric(m,
                  "fwpcast_http_requests_total{route=\"healthz\",method=\"GET\",status=\"200\"}") >=
        1);
    assert_non_null(strstr(m, "# TYPE fwpcast_forecasts_total counter\n"));
    double forecasts = it_metric(m, "fwpcast_forecasts_total");
    assert_false(isnan(forecasts));
    assert_non_null(strstr(m, "# TYPE fwpcast_jobs gauge\n"));
    static const char *const states[] = {"queued", "running",   "succeeded",
                                         "failed", "cancelled", "interrupted"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        char sample[64];
        snprintf(sample, sizeof sample, "fwpcast_jobs{state=\"%s\"}", states[i]);
        double v = it_metric(m, sample);
        if (isnan(v))
            fail_msg("/metrics has no sample %s", sample);
    }
    assert_true(it_metric(m, "fwpcast_jobs{state=\"succeeded\"}") >= 1); /* the group's model */
    assert_true(it_metric(m, "fwpcast_training_epochs_total") >= 2);
    double inf = it_metric(m, "fwpcast_http_request_duration_seconds_bucket{le=\"+Inf\"}");
    double count = it_metric(m, "fwpcast_http_request_duration_seconds_count");
    assert_true(inf >= 2 && inf == count);
    it_resp_free(&r);

    /* a forecast is counted */
    char body[128];
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":2}", (long long)tiny_model);
    json_decref(forecast(srv, body));
    it_get(srv, "/metrics", &r);
    IT_STATUS(&r, 200);
    assert_true(it_metric(r.body, "fwpcast_forecasts_total") == forecasts + 1);
    assert_true(it_metric(r.body, "fwpcast_http_requests_total{route=\"forecast\",method=\"POST\","
                                  "status=\"200\"}") >= 1);
    it_resp_free(&r);
}

/* ---- datasets --------------------------------------------------------------------------- */

static void test_dataset_json(void **state)
{
    (void)state;
    json_t *points = json_array();
    for (int i = 0; i < 24; i++) {
        char period[16];
        period_of(2020 * 12 + i, period);
        json_array_append_new(points, json_pack("{s:s, s:o}", "period", period, "value",
                                                i == 5 ? json_null() : json_real(1.5 + i)));
    }
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", "it-json", "frequency", "month",
                            "unit", "spots", "source", "itest", "points", points);
    char *body = dumps(doc);
    json_decref(doc);
    json_t *o = create_dataset("/datasets", "application/json", body, strlen(body));
    free(body);
    int64_t id = JI(o, "id");
    assert_string_equal(JS(o, "name"), "it-json");
    assert_string_equal(JS(o, "frequency"), "month");
    assert_string_equal(JS(o, "unit"), "spots");
    assert_string_equal(JS(o, "source"), "itest");
    assert_string_equal(JS(o, "first_period"), "2020-01");
    assert_string_equal(JS(o, "last_period"), "2021-12");
    assert_int_equal(JI(o, "rows"), 24);
    assert_int_equal(JI(o, "missing"), 1);
    json_decref(o);
    assert_true(list_has_dataset(id));

    char path[96];
    snprintf(path, sizeof path, "/datasets/%lld", (long long)id);
    o = IT_GET_JSON(srv, path);
    json_t *pts = JA(o, "points");
    assert_int_equal(json_array_size(pts), 24);
    assert_string_equal(JS(json_array_get(pts, 0), "period"), "2020-01");
    assert_true(JD(json_array_get(pts, 0), "value") == 1.5);
    assert_true(json_is_null(json_object_get(json_array_get(pts, 5), "value")));
    assert_true(JD(json_array_get(pts, 23), "value") == 24.5);
    json_decref(o);

    snprintf(path, sizeof path, "/datasets/%lld?from=2020-06&to=2020-11", (long long)id);
    o = IT_GET_JSON(srv, path);
    pts = JA(o, "points");
    assert_int_equal(json_array_size(pts), 6);
    assert_string_equal(JS(json_array_get(pts, 0), "period"), "2020-06");
    assert_string_equal(JS(json_array_get(pts, 5), "period"), "2020-11");
    json_decref(o);

    delete_dataset(id);
}

static void test_dataset_csv(void **state)
{
    (void)state;
    /* header, CRLF line ends, an empty value (missing), a UTF-8 byte order mark */
    char body[1024];
    size_t n = (size_t)snprintf(body, sizeof body, "\xEF\xBB\xBFperiod,value\r\n");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "2019-%02d,%s\r\n", i + 1,
                              i == 11 ? "" : (i % 2 ? "10.5" : "7"));
    json_t *o =
        create_dataset("/datasets?name=it-csv&source=unit%20test", "text/csv", body, strlen(body));
    int64_t id = JI(o, "id");
    assert_string_equal(JS(o, "name"), "it-csv");
    assert_string_equal(JS(o, "source"), "unit test");
    assert_int_equal(JI(o, "rows"), 12);
    assert_int_equal(JI(o, "missing"), 1);
    assert_string_equal(JS(o, "first_period"), "2019-01");
    assert_string_equal(JS(o, "last_period"), "2019-12");
    json_decref(o);
    char path[64];
    snprintf(path, sizeof path, "/datasets/%lld", (long long)id);
    o = IT_GET_JSON(srv, path);
    json_t *pts = JA(o, "points");
    assert_int_equal(json_array_size(pts), 12);
    assert_true(JD(json_array_get(pts, 1), "value") == 10.5);
    assert_true(json_is_null(json_object_get(json_array_get(pts, 11), "value")));
    json_decref(o);
    delete_dataset(id);

    /* the Kaggle/pandas layout (index column, YYYY-MM-DD), with a charset parameter */
    char *kaggle_path = tu_path("data/benchmarks/authors-Sunspots.csv");
    size_t len = 0;
    char *kaggle = tu_read_file(kaggle_path, &len);
    free(kaggle_path);
    assert_non_null(kaggle);
    o = create_dataset("/datasets?name=it-kaggle", "text/csv; charset=utf-8", kaggle, len);
    free(kaggle);
    assert_int_equal(JI(o, "rows"), 3265);
    assert_string_equal(JS(o, "first_period"), "1749-01");
    id = JI(o, "id");
    json_decref(o);
    delete_dataset(id);
}

/* The first n lines of a bundled file. */
static char *head_lines(const char *rel, int n, size_t *len)
{
    char *path = tu_path(rel);
    size_t total = 0;
    char *text = tu_read_file(path, &total);
    free(path);
    assert_non_null(text);
    char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    *len = p ? (size_t)(p - text) : total;
    text[*len] = '\0';
    return text;
}

static void test_dataset_silso(void **state)
{
    (void)state;
    size_t len;
    char *monthly = head_lines("data/SN_m_tot_V2.0.csv", 240, &len);
    json_t *o = create_dataset("/datasets?name=it-silso-monthly", "text/csv", monthly, len);
    free(monthly);
    int64_t id = JI(o, "id");
    assert_string_equal(JS(o, "frequency"), "month");
    assert_int_equal(JI(o, "rows"), 240);
    assert_string_equal(JS(o, "first_period"), "1749-01");
    assert_string_equal(JS(o, "last_period"), "1768-12");
    json_decref(o);

    /* the same values as the bundled series over the same months */
    char path[96];
    snprintf(path, sizeof path, "/datasets/%lld", (long long)id);
    o = IT_GET_JSON(srv, path);
    json_t *bundled = IT_GET_JSON(srv, "/datasets/1?to=1768-12");
    json_t *a = JA(o, "points"), *b = JA(bundled, "points");
    assert_int_equal(json_array_size(a), 240);
    assert_int_equal(json_array_size(b), 240);
    for (size_t i = 0; i < 240; i++) {
        json_t *pa = json_array_get(a, i), *pb = json_array_get(b, i);
        assert_string_equal(JS(pa, "period"), JS(pb, "period"));
        assert_true(JD(pa, "value") == JD(pb, "value"));
    }
    json_decref(bundled);
    json_decref(o);
    delete_dataset(id);

    /* the yearly file: a yearly series, read as text/plain */
    char *path_y = tu_path("data/SN_y_tot_V2.0.csv");
    char *yearly = tu_read_file(path_y, &len);
    free(path_y);
    assert_non_null(yearly);
    o = create_dataset("/datasets?name=it-silso-yearly", "text/plain", yearly, len);
    free(yearly);
    id = JI(o, "id");
    assert_string_equal(JS(o, "frequency"), "year");
    assert_string_equal(JS(o, "first_period"), "1700");
    json_decref(o);
    snprintf(path, sizeof path, "/datasets/%lld?from=1800&to=1809", (long long)id);
    o = IT_GET_JSON(srv, path);
    assert_int_equal(json_array_size(JA(o, "points")), 10);
    assert_string_equal(JS(json_array_get(JA(o, "points"), 0), "period"), "1800");
    json_decref(o);
    /* a yearly series cannot feed a monthly model */
    char body[128];
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":%lld}", (long long)tiny_model,
             (long long)id);
    struct it_resp r;
    it_post_json(srv, "/forecast", body, &r);
    IT_PROBLEM(&r, 422);
    it_resp_free(&r);
    delete_dataset(id);
}

static void test_dataset_range(void **state)
{
    (void)state;
    json_t *all = dataset1();
    assert_string_equal(JS(all, "name"), "silso-monthly");
    size_t n = json_array_size(JA(all, "points"));
    assert_int_equal(n, (size_t)JI(all, "rows"));
    assert_true(n >= 3333);
    assert_string_equal(JS(all, "first_period"), "1749-01");
    json_t *o = IT_GET_JSON(srv, "/datasets/1?from=2000-01&to=2009-12");
    json_t *pts = JA(o, "points");
    assert_int_equal(json_array_size(pts), 120);
    assert_string_equal(JS(json_array_get(pts, 0), "period"), "2000-01");
    assert_string_equal(JS(json_array_get(pts, 119), "period"), "2009-12");
    /* the full series' points over the same months */
    size_t offset = (size_t)(2000 * 12 - 1749 * 12);
    for (size_t i = 0; i < 120; i += 17)
        assert_true(JD(json_array_get(pts, i), "value") ==
                    JD(json_array_get(JA(all, "points"), offset + i), "value"));
    json_decref(o);
    o = IT_GET_JSON(srv, "/datasets/1?from=2000-01");
    assert_int_equal(json_array_size(JA(o, "points")), n - offset);
    json_decref(o);
    o = IT_GET_JSON(srv, "/datasets/1?to=1749-12");
    assert_int_equal(json_array_size(JA(o, "points")), 12);
    json_decref(o);
    json_decref(all);
}

/* ---- training jobs and models ---------------------------------------------------------- */

struct seen {
    int max_epoch, running_seen, intermediate;
    double last_progress;
};

static int watch(const json_t *job, void *arg)
{
    struct seen *s = arg;
    int epoch = (int)JI(job, "epoch");
    double progress = JD(job, "progress");
    size_t curve = json_array_size(JA(job, "loss_curve"));
    assert_true(epoch >= s->max_epoch); /* never goes back */
    assert_true(progress >= s->last_progress - 1e-12);
    assert_true(progress >= 0 && progress <= 1);
    assert_int_equal(curve, (size_t)epoch); /* one loss per finished epoch */
    if (!strcmp(JS(job, "state"), "running"))
        s->running_seen = 1;
    if (epoch > 0 && epoch < JI(job, "epochs"))
        s->intermediate = 1;
    s->max_epoch = epoch;
    s->last_progress = progress;
    return 0;
}

static void test_train_job(void **state)
{
    (void)state;
    size_t models_before = it_model_count(srv);
    int64_t job_id = it_train_start(srv, 24, 5, ",\"name\":\"it-trained\",\"seed\":7");
    struct seen seen = {0};
    json_t *job = it_job_wait(srv, job_id, watch, &seen, 120);
    watch(job, &seen);
    assert_string_equal(JS(job, "state"), "succeeded");
    assert_string_equal(JS(job, "kind"), "train");
    assert_true(seen.running_seen || seen.intermediate); /* observed while it ran */
    assert_int_equal(JI(job, "epoch"), 5);
    assert_int_equal(JI(job, "epochs"), 5);
    assert_true(JD(job, "progress") == 1.0);
    json_t *curve = JA(job, "loss_curve"), *e;
    size_t i;
    json_array_foreach(curve, i, e)
    {
        assert_int_equal(JI(e, "epoch"), (json_int_t)i + 1);
        assert_true(isfinite(JD(e, "train_loss")) && JD(e, "train_loss") >= 0);
        assert_true(isfinite(JD(e, "val_loss")));
    }
    assert_true(json_is_null(json_object_get(job, "error")));
    assert_true(json_is_string(json_object_get(job, "started_at")));
    assert_true(json_is_string(json_object_get(job, "finished_at")));
    assert_false(json_is_true(json_object_get(job, "resumable")));
    json_t *request = JO(job, "request");
    assert_int_equal(JI(request, "seed"), 7);
    assert_string_equal(JS(request, "architecture"), "gated-qkan-fwp");
    int64_t model_id = JI(job, "model");
    json_decref(job);
    assert_int_equal(it_model_count(srv), models_before + 1);

    char path[64];
    snprintf(path, sizeof path, "/models/%lld", (long long)model_id);
    json_t *m = IT_GET_JSON(srv, path);
    assert_string_equal(JS(m, "name"), "it-trained");
    assert_int_equal(JI(m, "seed"), 7);
    json_decref(m);
    struct it_resp r;
    it_delete(srv, path, &r);
    IT_STATUS(&r, 204);
    it_resp_free(&r);
}

static void test_models_list_get(void **state)
{
    (void)state;
    json_t *list = IT_GET_JSON(srv, "/models");
    json_t *models = JA(list, "models"), *m, *found = NULL;
    size_t i;
    json_array_foreach(models, i, m)
    {
        if (JI(m, "id") == tiny_model)
            found = m;
    }
    assert_non_null(found);
    char path[64];
    snprintf(path, sizeof path, "/models/%lld", (long long)tiny_model);
    json_t *o = IT_GET_JSON(srv, path);
    json_t *ds = dataset1();
    assert_int_equal(JI(o, "id"), tiny_model);
    assert_string_equal(JS(o, "architecture"), "gated-qkan-fwp");
    assert_true(JI(o, "parameters") > 0);
    assert_int_equal(JI(o, "seed"), 0);
    assert_int_equal(JI(o, "dataset"), 1);
    assert_string_equal(JS(o, "data_sha256"), JS(ds, "sha256"));
    assert_true(json_is_null(json_object_get(o, "cutoff")));
    assert_string_equal(JS(o, "protocol"), "live");
    assert_true(strlen(JS(o, "created_at")) >= 19);
    assert_true(JI(o, "bytes") > 0);
    json_t *cfg = JO(o, "config");
    assert_int_equal(JI(cfg, "window"), 24);
    assert_int_equal(JI(cfg, "horizon"), 6);
    assert_int_equal(JI(cfg, "hidden"), 4);
    assert_true(json_object_get(o, "metrics") != NULL);
    /* the list row says the same as the model */
    assert_int_equal(JI(found, "parameters"), JI(o, "parameters"));
    assert_string_equal(JS(found, "created_at"), JS(o, "created_at"));
    json_decref(ds);
    json_decref(o);
    json_decref(list);
}

static void test_export_import(void **state)
{
    (void)state;
    char path[96], body[160];
    snprintf(path, sizeof path, "/models/%lld", (long long)tiny_model);
    json_t *meta = IT_GET_JSON(srv, path);

    /* binary */
    struct it_resp bin;
    snprintf(path, sizeof path, "/models/%lld/export", (long long)tiny_model);
    it_get(srv, path, &bin);
    IT_STATUS(&bin, 200);
    assert_string_equal(bin.content_type, "application/octet-stream");
    assert_non_null(bin.content_disposition);
    assert_non_null(strstr(bin.content_disposition, "attachment"));
    assert_int_equal(bin.len, (size_t)JI(meta, "bytes"));
    struct it_resp same;
    snprintf(path, sizeof path, "/models/%lld/export?format=binary", (long long)tiny_model);
    it_get(srv, path, &same);
    IT_STATUS(&same, 200);
    assert_int_equal(same.len, bin.len);
    assert_memory_equal(same.body, bin.body, bin.len);
    it_resp_free(&same);

    /* JSON, with the authors' state_dict names */
    struct it_resp js;
    snprintf(path, sizeof path, "/models/%lld/export?format=json", (long long)tiny_model);
    it_get(srv, path, &js);
    IT_STATUS(&js, 200);
    assert_true(js.content_type && !strncmp(js.content_type, "application/json", 16));
    json_t *doc = IT_JSON(&js);
    json_t *sd = JO(doc, "state_dict");
    assert_non_null(json_object_get(sd, "fwp_cell.theta_head_A.weight"));
    assert_non_null(json_object_get(sd, "output_layer.weight"));
    assert_string_equal(JS(doc, "architecture"), "gated-qkan-fwp");
    assert_int_equal(JI(doc, "parameters"), JI(meta, "parameters"));
    json_decref(doc);

    /* import both; each gives a model that forecasts exactly like the original */
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95]}",
             (long long)tiny_model);
    json_t *ref = forecast(srv, body);
    char *ref_rows = rows_text(ref);
    int64_t imported[2];
    for (int k = 0; k < 2; k++) {
        struct it_resp r;
        if (k == 0)
            it_post(srv, "/models/import?name=it-from-json", "application/json", js.body, js.len,
                    &r);
        else
            it_post(srv, "/models/import", "application/octet-stream", bin.body, bin.len, &r);
        IT_STATUS(&r, 201);
        json_t *o = IT_JSON(&r);
        imported[k] = JI(o, "id");
        char want[64];
        snprintf(want, sizeof want, "/models/%lld", (long long)imported[k]);
        assert_non_null(r.location);
        assert_string_equal(r.location, want);
        assert_string_equal(JS(o, "name"), k == 0 ? "it-from-json" : "imported");
        assert_int_equal(JI(o, "parameters"), JI(meta, "parameters"));
        assert_string_equal(JS(o, "data_sha256"), JS(meta, "data_sha256"));
        assert_false(json_is_true(json_object_get(o, "default")));
        json_decref(o);
        it_resp_free(&r);
        snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95]}",
                 (long long)imported[k]);
        json_t *fc = forecast(srv, body);
        assert_int_equal(JI(fc, "model"), imported[k]);
        char *rows = rows_text(fc);
        assert_string_equal(rows, ref_rows);
        free(rows);
        json_decref(fc);
    }
    free(ref_rows);
    json_decref(ref);
    it_resp_free(&js);
    it_resp_free(&bin);
    json_decref(meta);

    /* delete them: 204, then 404 everywhere */
    for (int k = 0; k < 2; k++) {
        struct it_resp r;
        snprintf(path, sizeof path, "/models/%lld", (long long)imported[k]);
        it_delete(srv, path, &r);
        IT_STATUS(&r, 204);
        assert_int_equal(r.len, 0);
        it_resp_free(&r);
        it_get(srv, path, &r);
        IT_PROBLEM(&r, 404);
        it_resp_free(&r);
        it_delete(srv, path, &r);
        IT_PROBLEM(&r, 404);
        it_resp_free(&r);
        snprintf(path, sizeof path, "/models/%lld/export", (long long)imported[k]);
        it_get(srv, path, &r);
        IT_PROBLEM(&r, 404);
        it_resp_free(&r);
    }
}

/* ---- forecasts ------------------------------------------------------------------------- */

static const double levels_80_95[2] = {80, 95};

static void test_forecast_dataset(void **state)
{
    (void)state;
    json_t *ds = dataset1();
    char body[160];
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95]}",
             (long long)tiny_model);
    json_t *o = forecast(srv, body);
    assert_int_equal(JI(o, "model"), tiny_model);
    assert_int_equal(JI(o, "dataset"), 1);
    check_forecast(o, 6, JS(ds, "last_period"), levels_80_95, 2);
    /* the point forecast lies inside its intervals */
    json_t *row;
    size_t j;
    json_array_foreach(JA(o, "forecast"), j, row)
    {
        assert_true(JD(row, "lo-80") <= JD(row, "value") + 1e-9);
        assert_true(JD(row, "value") <= JD(row, "hi-80") + 1e-9);
    }
    char *full = rows_text(o);
    json_decref(o);

    /* the same request again: the same answer; a shorter h: a prefix of it */
    o = forecast(srv, body);
    char *again = rows_text(o);
    assert_string_equal(again, full);
    free(again);
    json_decref(o);
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":2}", (long long)tiny_model);
    o = forecast(srv, body);
    check_forecast(o, 2, JS(ds, "last_period"), levels_80_95, 2); /* default levels */
    json_t *full_json = json_loads(full, 0, NULL);
    for (size_t k = 0; k < 2; k++)
        assert_true(JD(json_array_get(JA(o, "forecast"), k), "value") ==
                    JD(json_array_get(full_json, k), "value"));
    json_decref(full_json);
    json_decref(o);
    free(full);

    /* JSON with a charset, in any case, and curl's form type for -d, all read as JSON */
    static const char *const types[] = {"application/json; charset=utf-8", "Application/JSON",
                                        "application/x-www-form-urlencoded", NULL};
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":2}", (long long)tiny_model);
    json_t *plain = forecast(srv, body);
    char *plain_rows = rows_text(plain);
    json_decref(plain);
    for (int k = 0; k <= 3; k++) {
        struct it_resp r;
        it_post(srv, "/forecast", types[k], body, strlen(body), &r);
        IT_STATUS(&r, 200);
        json_t *x = IT_JSON(&r);
        char *x_rows = rows_text(x);
        assert_string_equal(x_rows, plain_rows);
        free(x_rows);
        json_decref(x);
        it_resp_free(&r);
    }
    free(plain_rows);

    /* other levels, backend "exact", h absent (the model's horizon) */
    snprintf(body, sizeof body,
             "{\"model\":%lld,\"dataset\":1,\"level\":[50,99.5],\"backend\":\"exact\"}",
             (long long)tiny_model);
    o = forecast(srv, body);
    const double lv[2] = {50, 99.5};
    check_forecast(o, 6, JS(ds, "last_period"), lv, 2);
    json_decref(o);
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"level\":[]}",
             (long long)tiny_model);
    o = forecast(srv, body);
    check_forecast(o, 6, JS(ds, "last_period"), NULL, 0);
    json_decref(o);
    json_decref(ds);
}

static void test_forecast_inline_series(void **state)
{
    (void)state;
    /* the whole bundled series sent inline answers like {"dataset": 1} */
    json_t *ds = dataset1();
    json_t *series = json_array(), *p;
    size_t i;
    json_array_foreach(JA(ds, "points"), i, p)
    {
        json_array_append_new(series, json_pack("{s:s, s:O}", "period", JS(p, "period"), "value",
                                                json_object_get(p, "value")));
    }
    json_t *req = json_pack("{s:I, s:o, s:i, s:[i,i]}", "model", (json_int_t)tiny_model, "series",
                            series, "h", 6, "level", 80, 95);
    char *body = dumps(req);
    json_decref(req);
    json_t *inl = forecast(srv, body);
    free(body);
    assert_true(json_is_null(json_object_get(inl, "dataset")));
    check_forecast(inl, 6, JS(ds, "last_period"), levels_80_95, 2);
    char b2[160];
    snprintf(b2, sizeof b2, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95]}",
             (long long)tiny_model);
    json_t *by_id = forecast(srv, b2);
    char *x = rows_text(inl), *y = rows_text(by_id);
    assert_string_equal(x, y);
    free(x), free(y);
    json_decref(by_id);
    json_decref(inl);

    /* a short series of its own: periods follow its last month */
    series = json_array();
    for (int k = 0; k < 60; k++) {
        char period[16];
        period_of(2001 * 12 + k, period);
        json_array_append_new(
            series, json_pack("{s:s, s:f}", "period", period, "value", 80 + 60 * sin(k / 10.0)));
    }
    req = json_pack("{s:I, s:o, s:i}", "model", (json_int_t)tiny_model, "series", series, "h", 3);
    body = dumps(req);
    json_decref(req);
    json_t *o = forecast(srv, body);
    free(body);
    check_forecast(o, 3, "2005-12", levels_80_95, 2);
    json_decref(o);
    json_decref(ds);
}

static void test_forecast_cutoff(void **state)
{
    (void)state;
    char body[160];
    snprintf(body, sizeof body,
             "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95],\"cutoff\":\"2019-12\"}",
             (long long)tiny_model);
    json_t *o = forecast(srv, body);
    check_forecast(o, 6, "2019-12", levels_80_95, 2);
    assert_string_equal(JS(json_array_get(JA(o, "forecast"), 0), "period"), "2020-01");
    assert_string_equal(JS(json_array_get(JA(o, "forecast"), 5), "period"), "2020-06");
    json_decref(o);
    /* a cutoff at the last month is the same as none */
    json_t *ds = dataset1();
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"cutoff\":\"%s\"}",
             (long long)tiny_model, JS(ds, "last_period"));
    o = forecast(srv, body);
    char *a = rows_text(o);
    json_decref(o);
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6}", (long long)tiny_model);
    o = forecast(srv, body);
    char *b = rows_text(o);
    assert_string_equal(a, b);
    free(a), free(b);
    json_decref(o);
    json_decref(ds);
}

/* Levels are a set of percentages: a repeated level is one level (one lo-N/hi-N pair), and a
 * fraction gets a hint. */
static void test_levels_are_a_set_of_percentages(void **state)
{
    (void)state;
    char body[160];
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":2,\"level\":[80,95,80]}",
             (long long)tiny_model);
    json_t *o = forecast(srv, body);
    assert_int_equal(json_array_size(JA(o, "level")), 2);
    json_decref(o);
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":2,\"level\":[0.8]}",
             (long long)tiny_model);
    struct it_resp r;
    it_post_json(srv, "/forecast", body, &r);
    IT_PROBLEM(&r, 422);
    if (!strstr(r.body, "did you mean 80?"))
        fail_msg("no hint for a fraction: %s", r.body);
    it_resp_free(&r);
}

static void test_backtest(void **state)
{
    (void)state;
    char body[200];
    snprintf(body, sizeof body,
             "{\"model\":%lld,\"dataset\":1,\"refit\":false,\"h\":6,\"n_windows\":3,\"step\":6,"
             "\"level\":[80,95]}",
             (long long)tiny_model);
    struct it_resp r;
    it_post_json(srv, "/backtest", body, &r);
    IT_STATUS(&r, 200);
    json_t *o = IT_JSON(&r);
    it_resp_free(&r);
    json_t *ds = dataset1();
    int last = month_of(JS(ds, "last_period"));
    assert_int_equal(JI(o, "model"), tiny_model);
    assert_int_equal(JI(o, "n_windows"), 3);
    assert_int_equal(JI(o, "step"), 6);
    json_t *windows = JA(o, "windows"), *w;
    assert_int_equal(json_array_size(windows), 3);
    assert_true(json_is_boolean(json_object_get(o, "in_sample")));
    size_t i;
    json_array_foreach(windows, i, w)
    {
        /* the last window ends at the last month; earlier ones step back */
        char want[16];
        period_of(last - 6 - 6 * (2 - (int)i), want);
        assert_string_equal(JS(w, "cutoff"), want);
        json_t *rows = JA(w, "forecast"), *row;
        assert_int_equal(json_array_size(rows), 6);
        json_t *wm = JO(w, "metrics"); /* each window's own errors and coverage */
        assert_true(isfinite(JD(wm, "mae")) && JD(wm, "mae") >= 0);
        assert_true(JD(wm, "coverage-95") >= 0 && JD(wm, "coverage-95") <= 1);
        assert_int_equal(JI(wm, "points"), 6);
        size_t j;
        int cutoff = month_of(want);
        json_array_foreach(rows, j, row)
        {
            char period[16];
            period_of(cutoff + 1 + (int)j, period);
            assert_string_equal(JS(row, "period"), period);
            assert_true(isfinite(JD(row, "value")));
            assert_true(isfinite(JD(row, "actual")));
            assert_true(JD(row, "lo-95") <= JD(row, "hi-95"));
        }
    }
    json_t *m = JO(o, "metrics");
    static const char *const keys[] = {"mae",        "rmse",        "mase",       "smape",
                                       "scaled_mse", "coverage-80", "coverage-95"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        double v = JD(m, keys[k]);
        if (!(isfinite(v) && v >= 0))
            fail_msg("backtest metric %s = %g", keys[k], v);
    }
    assert_true(JD(m, "rmse") >= JD(m, "mae") - 1e-9);
    assert_true(JD(m, "coverage-80") <= 1 && JD(m, "coverage-95") <= 1);
    assert_true(JD(m, "coverage-80") <= JD(m, "coverage-95") + 1e-9);
    assert_true(JD(m, "smape") <= 200);
    assert_int_equal(JI(m, "points"), 18);
    json_decref(ds);
    json_decref(o);
}

/* ---- the default model ----------------------------------------------------------------- */

/* What a user gets from `curl -X POST host/forecast` and friends, with the default model id. */
static void check_default_forecasts(struct itest_server *s, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/models/%lld", (long long)id);
    json_t *m = IT_GET_JSON(s, path);
    int horizon = (int)JI(JO(m, "config"), "horizon");
    assert_true(json_is_true(json_object_get(m, "default")));
    json_decref(m);
    json_t *ds = IT_GET_JSON(s, "/datasets/1");
    assert_string_equal(JS(ds, "name"), "silso-monthly");

    /* curl -X POST host/forecast: no body, no Content-Type, no Content-Length */
    struct it_req rq = {.method = "POST", .path = "/forecast"};
    struct it_resp r;
    it_do(s, &rq, &r);
    IT_STATUS(&r, 200);
    json_t *o = IT_JSON(&r);
    it_resp_free(&r);
    assert_int_equal(JI(o, "model"), id);
    assert_int_equal(JI(o, "dataset"), 1);
    check_forecast(o, horizon, JS(ds, "last_period"), levels_80_95, 2);
    char *rows = rows_text(o);
    json_decref(o);

    /* curl -X POST host/forecast -d '': an empty form-encoded body */
    it_post(s, "/forecast", "application/x-www-form-urlencoded", "", 0, &r);
    IT_STATUS(&r, 200);
    o = IT_JSON(&r);
    it_resp_free(&r);
    char *rows2 = rows_text(o);
    assert_string_equal(rows2, rows);
    free(rows2);
    json_decref(o);

    /* curl -d '{"h": 3}' (curl's default content type), and "model": "default" */
    it_post(s, "/forecast", "application/x-www-form-urlencoded", "{\"h\": 3}", 8, &r);
    IT_STATUS(&r, 200);
    o = IT_JSON(&r);
    it_resp_free(&r);
    assert_int_equal(JI(o, "model"), id);
    check_forecast(o, 3, JS(ds, "last_period"), levels_80_95, 2);
    json_decref(o);
    o = forecast(s, "{\"model\":\"default\",\"h\":1,\"level\":[80,95]}");
    assert_int_equal(JI(o, "model"), id);
    json_t *full = json_loads(rows, 0, NULL);
    assert_true(JD(json_array_get(JA(o, "forecast"), 0), "value") ==
                JD(json_array_get(full, 0), "value"));
    json_decref(full);
    json_decref(o);
    free(rows);

    /* an empty backtest is out of sample: a job that trains the default model's recipe at the
     * cutoff of its one window, on the bundled series (cancelled here: it trains 100 epochs) */
    rq.path = "/backtest";
    it_do(s, &rq, &r);
    IT_STATUS(&r, 202);
    o = IT_JSON(&r);
    it_resp_free(&r);
    assert_int_equal(JI(o, "models_to_train"), 1);
    char job[64];
    snprintf(job, sizeof job, "/jobs/%lld", (long long)JI(o, "job"));
    json_decref(o);
    it_delete(s, job, &r);
    it_resp_free(&r);

    /* "refit": false scores the stored model, which saw these months: said, and warned */
    rq.body = "{\"refit\": false}";
    rq.len = strlen(rq.body);
    rq.content_type = "application/json";
    it_do(s, &rq, &r);
    IT_STATUS(&r, 200);
    o = IT_JSON(&r);
    it_resp_free(&r);
    assert_int_equal(JI(o, "model"), id);
    assert_int_equal(json_array_size(JA(o, "windows")), 1);
    assert_true(json_is_true(json_object_get(o, "in_sample")));
    assert_non_null(strstr(JS(o, "warning"), "in sample"));
    json_decref(o);
    json_decref(ds);
}

static void test_default_model_bundled(void **state)
{
    (void)state;
    int64_t id = it_default_model(srv);
    if (!id) {
        print_message("[  SKIP    ] the default-model checks on the bundled data: GET /models "
                      "shows no default (no data/models/default.fwp); test_default_model_file "
                      "covers the same path with a model of its own\n");
        /* without a default, an empty forecast says why */
        struct it_req rq = {.method = "POST", .path = "/forecast"};
        struct it_resp r;
        it_do(srv, &rq, &r);
        IT_PROBLEM_ANY(&r, 404L, 422L, 503L);
        it_resp_free(&r);
        return;
    }
    json_t *m = IT_GET_JSON(srv, "/models");
    json_t *first = json_array_get(JA(m, "models"), 0);
    assert_string_equal(JS(first, "name"), "default");
    json_decref(m);
    check_default_forecasts(srv, id);
}

/* A data directory holding the bundled series and a models/default.fwp of our own: the server
 * loads it on its first start; a model trained with "default": true then takes over. */
static void test_default_model_file(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/models/%lld/export", (long long)tiny_model);
    struct it_resp bin;
    it_get(srv, path, &bin);
    IT_STATUS(&bin, 200);

    char *data = tu_mkdtemp();
    assert_non_null(data);
    char file[4096], target[4096];
    static const char *const bundled[] = {"SN_m_tot_V2.0.csv", "SN_ms_tot_V2.0.csv"};
    for (size_t i = 0; i < 2; i++) {
        char *src = tu_path("data");
        snprintf(target, sizeof target, "%s/%s", src, bundled[i]);
        free(src);
        size_t len = 0;
        char *text = tu_read_file(target, &len);
        assert_non_null(text);
        snprintf(file, sizeof file, "%s/%s", data, bundled[i]);
        assert_int_equal(tu_write_file(file, text, len), 0);
        free(text);
    }
    snprintf(file, sizeof file, "%s/models", data);
    assert_int_equal(mkdir(file, 0755), 0);
    snprintf(file, sizeof file, "%s/models/default.fwp", data);
    assert_int_equal(tu_write_file(file, bin.body, bin.len), 0);
    it_resp_free(&bin);

    const char *args[] = {"--data", data, NULL};
    struct itest_server *s = its_start(args, NULL);
    json_t *list = IT_GET_JSON(s, "/models");
    assert_int_equal(json_array_size(JA(list, "models")), 1);
    json_t *m = json_array_get(JA(list, "models"), 0);
    assert_string_equal(JS(m, "name"), "default");
    assert_true(json_is_true(json_object_get(m, "default")));
    int64_t id = JI(m, "id");
    json_decref(list);
    assert_int_equal(it_default_model(s), id);
    check_default_forecasts(s, id);

    /* a restart does not load the file again */
    its_stop(s);
    its_restart(s);
    assert_int_equal(it_model_count(s), 1);

    /* "default": true makes a newly trained model the default */
    int64_t job = it_train_start(s, 24, 2, ",\"default\":true");
    json_t *done = it_job_wait(s, job, NULL, NULL, 60);
    assert_string_equal(JS(done, "state"), "succeeded");
    int64_t trained = JI(done, "model");
    json_decref(done);
    assert_int_equal(it_default_model(s), trained);
    check_default_forecasts(s, trained);
    its_stop(s);
    its_free(s);
    tu_rmtree(data);
}

/* GET /compare: empty before anything ran, then the runs `fwpcast benchmark` stores in the
 * server's database (the CLI and the server share the SQLite file), and bad queries 422. */
static void test_compare(void **state)
{
    (void)state;
    json_t *o = IT_GET_JSON(srv, "/compare");
    assert_string_equal(JS(o, "suite"), "solar");
    assert_int_equal(json_array_size(JA(o, "models")), 0);
    json_decref(o);

    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "FWPCAST_DATA='%s/data' '%s' benchmark --suite timeseries --datasets narma_5 "
             "--models qfwp --seeds 0-1 --epochs 1 --quiet --db '%s' >/dev/null",
             tu_root(), getenv("FWPCAST_BIN"), srv->db_path);
    assert_int_equal(system(cmd), 0);
    o = IT_GET_JSON(srv, "/compare?suite=timeseries&task=narma_5&epochs=1");
    json_t *models = JA(o, "models");
    assert_int_equal(json_array_size(models), 1);
    json_t *row = json_array_get(models, 0);
    assert_string_equal(JS(row, "model"), "qfwp");
    assert_int_equal(JI(row, "seeds"), 2);
    assert_int_equal(JI(row, "parameters"), 111);
    assert_true(JD(JO(row, "mse"), "mean") > 0);
    assert_true(JD(JO(row, "mse"), "sd") >= 0);
    json_decref(o);
    o = IT_GET_JSON(srv, "/compare?suite=timeseries&epochs=7");
    assert_int_equal(json_array_size(JA(o, "models")), 0);
    json_decref(o);

    const char *bad[] = {"/compare?suite=bogus",
                         "/compare?task=narma_5",
                         "/compare?suite=timeseries&task=nope",
                         "/compare?epochs=abc",
                         "/compare?epochs=0",
                         "/compare?epochs=-3",
                         "/compare?epochs=1e3",
                         "/compare?epochs=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct it_resp r;
        it_get(srv, bad[i], &r);
        IT_PROBLEM(&r, 422);
        it_resp_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_dataset_json),
        cmocka_unit_test(test_dataset_csv),
        cmocka_unit_test(test_dataset_silso),
        cmocka_unit_test(test_dataset_range),
        cmocka_unit_test(test_train_job),
        cmocka_unit_test(test_models_list_get),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_forecast_dataset),
        cmocka_unit_test(test_forecast_inline_series),
        cmocka_unit_test(test_forecast_cutoff),
        cmocka_unit_test(test_levels_are_a_set_of_percentages),
        cmocka_unit_test(test_backtest),
        cmocka_unit_test(test_default_model_bundled),
        cmocka_unit_test(test_default_model_file),
    };
    return cmocka_run_group_tests_name("integration: API happy paths", tests, group_setup,
                                       group_teardown);
}
