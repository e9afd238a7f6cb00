/* api_forecast — POST /forecast and POST /backtest. */
#include "model/metrics.h"
#include "model/period.h"
#include "db/store.h"
#include "server/api.h"
#include "server/backtest.h"
#include "server/jobs.h"
#include "server/model_json.h"
#include "server/textbuf.h"
#include "quantum/evaluator.h"
#include "quantum/factory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS       BACKTEST_MAX_LEVELS
#define FORECAST_DIGITS  10
#define REFIT_MAX_EPOCHS 100000

/* The request's model: an id, "default" or absent. Returns -1 after filling resp. */
static int read_model_ref(const json_t *body, int64_t *id, struct http_response *resp)
{
    const json_t *v = json_object_get(body, "model");
    *id = 0;
    if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "default")))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *id = json_integer_value(v);
        return 0;
    }
    http_problem(resp, 422, "'model' must be a model id or \"default\"");
    return -1;
}

static int read_levels(const json_t *body, double *levels, size_t *n, const double *def,
                       size_t n_def, struct http_response *resp)
{
    const json_t *v = json_object_get(body, "level");
    if (!v || json_is_null(v)) {
        memcpy(levels, def, n_def * sizeof *def);
        *n = n_def;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > MAX_LEVELS) {
        http_problem(resp, 422, "'level' must be an array of at most %d numbers in (0, 100)",
                     MAX_LEVELS);
        return -1;
    }
    *n = json_array_size(v);
    for (size_t i = 0; i < *n; i++) {
        const json_t *x = json_array_get(v, i);
        double l = json_is_number(x) ? json_number_value(x) : NAN;
        if (!(l > 0 && l < 100)) {
            http_problem(resp, 422, "level[%zu] must be a number in (0, 100)", i);
            return -1;
        }
        levels[i] = l;
    }
    return 0;
}

/* The backend a forecast runs its circuits on. */
struct backend_choice {
    const char *name; /* exact | sampler | ionq | ibm */
    long long shots, seed;
    const char *noise;
    int dry_run;
};

static int read_backend(const json_t *body, struct backend_choice *bc, struct http_response *resp)
{
    memset(bc, 0, sizeof *bc);
    const json_t *v = json_object_get(body, "backend");
    if (v && !json_is_null(v) && !json_is_string(v)) {
        http_problem(resp, 422, "'backend' must be \"exact\", \"sampler\", \"ionq\" or \"ibm\"");
        return -1;
    }
    bc->name = v && json_is_string(v) ? json_string_value(v) : "exact";
    if (strcmp(bc->name, "exact") && strcmp(bc->name, "sampler") && !qbackend_is_remote(bc->name)) {
        http_problem(resp, 422, "'backend' must be \"exact\", \"sampler\", \"ionq\" or \"ibm\"");
        return -1;
    }
    int exact = !strcmp(bc->name, "exact");
    const json_t *noise = json_object_get(body, "noise");
    if (exact && (json_object_get(body, "shots") || (noise && !json_is_null(noise)))) {
        http_problem(resp, 422,
                     "the exact backend draws no shots and has no noise: use "
                     "\"backend\": \"sampler\"");
        return -1;
    }
    if (noise && !json_is_null(noise) && !json_is_string(noise)) {
        http_problem(resp, 422, "'noise' must be a noise preset's name");
        return -1;
    }
    bc->noise = json_string_value(noise);
    const json_t *dry = json_object_get(body, "dry_run");
    if (dry && !json_is_boolean(dry)) {
        http_problem(resp, 422, "'dry_run' must be true or false");
        return -1;
    }
    bc->dry_run = json_is_true(dry);
    return api_int_member(body, "shots", exact ? 0 : 1024, exact ? 0 : 1, QBACKEND_MAX_SHOTS,
                          &bc->shots, resp) ||
                   api_int_member(body, "seed", 0, 0, 0x7fffffff, &bc->seed, resp)
               ? -1
               : 0;
}

static void level_keys(double level, char *lo, char *hi, size_t size)
{
    snprintf(lo, size, "lo-%g", level);
    snprintf(hi, size, "hi-%g", level);
}

static json_t *level_array(const double *levels, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(levels[i]));
    return a;
}

/* Where the history ends: the cutoff (validated against the series) or its last month. */
static int history_end(const json_t *body, const struct api_series *s, size_t *n_history,
                       int *last_month, struct http_response *resp)
{
    const json_t *c = json_object_get(body, "cutoff");
    int last = s->first_month + (int)s->n - 1, cutoff;
    *n_history = s->n;
    *last_month = last;
    if (!c || json_is_null(c))
        return 0;
    if (!json_is_string(c) || period_parse(json_string_value(c), &cutoff) ||
        strlen(json_string_value(c)) != 7) {
        http_problem(resp, 422, "'cutoff' must be a month, YYYY-MM");
        return -1;
    }
    if (cutoff < s->first_month || cutoff > last) {
        char a[PERIOD_TEXT_MAX], b[PERIOD_TEXT_MAX];
        period_format(s->first_month, a);
        period_format(last, b);
        http_problem(resp, 422, "cutoff %s is outside the data (%s..%s)", json_string_value(c), a,
                     b);
        return -1;
    }
    *n_history = (size_t)(cutoff - s->first_month) + 1;
    *last_month = cutoff;
    return 0;
}

struct quantum_run {
    int readout;
    uint64_t circuits, shots_total;
};

/* The noise presets file users may edit: <data>/noise_presets.json when it exists. */
static const char *noise_file(const struct http_request *req, char *buf, size_t size)
{
    snprintf(buf, size, "%s/noise_presets.json", app_config(req->app)->data_dir);
    FILE *f = fopen(buf, "r");
    if (!f)
        return NULL;
    fclose(f);
    return buf;
}

static int run_quantum(const struct http_request *req, struct forecaster *f,
                       const struct backend_choice *bc, const double *values, size_t n_history,
                       size_t h, const double *levels, size_t n_levels, double *point, double *lo,
                       double *hi, int *guaranteed, struct quantum_run *qr, fw_error *err)
{
    char path[4096];
    struct qbackend_request rq = {
        bc->name,           (int)bc->shots, bc->noise, noise_file(req, path, sizeof path),
        (uint64_t)bc->seed, NULL,           NULL,      NULL};
    struct qbackend *b = NULL;
    int rc = qbackend_open(&rq, &b, err);
    if (rc)
        return rc;
    struct backend_evaluator be = {b, (int)bc->shots, 1.0, 60, NULL, 0, 0, 0};
    struct daruan_evaluator ev = backend_evaluator(&be);
    rc = forecaster_predict_quantum(f, values, n_history, h, levels, n_levels, &ev, &qr->readout,
                                    point, lo, hi, guaranteed, err);
    qr->circuits = be.circuits;
    qr->shots_total = be.shots_total;
    qbackend_destroy(b);
    return rc;
}

/* What a run on a cloud would use, before anything is submitted (and `dry_run`). */
static void describe_remote(const struct http_request *req, struct forecaster *f,
                            const struct backend_choice *bc, struct http_response *resp)
{
    (void)req;
    size_t circuits = 0;
    const struct tensor_info *t = model_tensor(f->model, "fwp_cell.qkan_layer.layers.0.theta");
    if (t)
        circuits = (size_t)t->shape[0] * (size_t)t->shape[1];
    if (!f->model->ops->forward_quantum || !circuits) {
        http_problem(resp, 422, "%s has no circuits to run on a quantum backend",
                     f->model->ops->name);
        return;
    }
    if (!bc->dry_run) {
        http_problem(resp, 422,
                     "the %s backend is not available on this server yet (\"dry_run\": true "
                     "shows what a run would use)",
                     bc->name);
        return;
    }
    api_json(resp, 200,
             json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "backend", bc->name, "dry_run", 1,
                       "circuits", (json_int_t)circuits, "shots", (json_int_t)bc->shots,
                       "shots_total", (json_int_t)(circuits * (size_t)bc->shots), "jobs",
                       (json_int_t)1));
}

void api_forecast(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object_or_empty(req, resp);
    if (!body)
        return;
    static const double default_levels[2] = {80, 95};
    double levels[MAX_LEVELS], *point = NULL, *lo = NULL, *hi = NULL;
    size_t n_levels = 0, n_history;
    int64_t model_id = 0, resolved = 0;
    long long h;
    int last_month;
    struct api_series series = {0};
    struct forecaster *f = NULL;
    fw_error err = {0};
    static const char *const known[] = {"model",   "dataset", "series", "h",    "level",   "cutoff",
                                        "backend", "shots",   "noise",  "seed", "dry_run", NULL};
    struct backend_choice bc;
    struct quantum_run qr = {0};
    if (api_known_members(body, known, resp) || read_model_ref(body, &model_id, resp) ||
        read_levels(body, levels, &n_levels, default_levels, 2, resp) ||
        read_backend(body, &bc, resp))
        goto done;
    int rc = app_model_acquire(req->app, model_id, &resolved, &f, &err);
    if (rc) {
        /* a model the body names that does not exist makes the request invalid (422); no
         * default model at all stays 404 */
        api_fail(resp, rc == FW_ENOTFOUND && model_id ? FW_EINVAL : rc, &err);
        goto done;
    }
    if (api_int_member(body, "h", f->model->horizon, 1, f->model->horizon, &h, resp) ||
        api_read_series(req, body, &series, resp) ||
        history_end(body, &series, &n_history, &last_month, resp))
        goto done;
    point = malloc((size_t)h * sizeof *point);
    lo = malloc((n_levels + 1) * (size_t)h * sizeof *lo);
    hi = malloc((n_levels + 1) * (size_t)h * sizeof *hi);
    if (!point || !lo || !hi) {
        http_problem(resp, 500, "out of memory");
        goto done;
    }
    int guaranteed = 1;
    if (strcmp(bc.name, "exact")) {
        /* the model's circuits through shots: a local sampler answers here; the clouds would
         * answer later */
        if (qbackend_is_remote(bc.name) || bc.dry_run) {
            describe_remote(req, f, &bc, resp);
            goto done;
        }
        rc = run_quantum(req, f, &bc, series.values, n_history, (size_t)h, levels, n_levels, point,
                         lo, hi, &guaranteed, &qr, &err);
    } else {
        rc = forecaster_predict(f, series.values, n_history, (size_t)h, levels, n_levels, NULL,
                                point, lo, hi, &guaranteed, &err);
    }
    if (rc) {
        api_fail(resp, rc, &err);
        goto done;
    }
    /* written by hand: formatting the numbers through jansson and printf was most of a
     * request's cost */
    char last[PERIOD_TEXT_MAX], keys[MAX_LEVELS][2][32];
    period_format(last_month, last);
    for (size_t i = 0; i < n_levels; i++)
        level_keys(levels[i], keys[i][0], keys[i][1], sizeof keys[i][0]);
    struct textbuf out = {0};
    textbuf_printf(&out,
                   "{\"model\":%lld,\"architecture\":\"%s\",\"h\":%lld,\"backend\":\"%s\","
                   "\"last_observed\":\"%s\",",
                   (long long)resolved, f->model->ops->name, h, bc.name, last);
    if (strcmp(bc.name, "exact")) {
        textbuf_printf(&out,
                       "\"shots\":%lld,\"seed\":%lld,\"noise\":%s%s%s,\"readout\":\"%s\","
                       "\"circuits\":%llu,\"shots_total\":%llu,",
                       bc.shots, bc.seed, bc.noise ? "\"" : "", bc.noise ? bc.noise : "null",
                       bc.noise ? "\"" : "", qr.readout == DARUAN_BORN ? "born" : "amplitude",
                       (unsigned long long)qr.circuits, (unsigned long long)qr.shots_total);
    }
    textbuf_puts(&out, "\"level\":[");
    for (size_t i = 0; i < n_levels; i++) {
        textbuf_puts(&out, i ? "," : "");
        textbuf_number(&out, levels[i]);
    }
    textbuf_printf(&out,
                   "],\"intervals_guaranteed\":%s,\"dataset\":", guaranteed ? "true" : "false");
    if (series.dataset_id)
        textbuf_printf(&out, "%lld", (long long)series.dataset_id);
    else
        textbuf_puts(&out, "null");
    textbuf_puts(&out, ",\"forecast\":[");
    for (long long j = 0; j < h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(last_month + 1 + (int)j, period);
        textbuf_printf(&out, "%s{\"period\":\"%s\",\"value\":", j ? "," : "", period);
        textbuf_number(&out, point[j]);
        for (size_t i = 0; i < n_levels; i++) {
            textbuf_printf(&out, ",\"%s\":", keys[i][0]);
            textbuf_number(&out, lo[i * (size_t)h + (size_t)j]);
            textbuf_printf(&out, ",\"%s\":", keys[i][1]);
            textbuf_number(&out, hi[i * (size_t)h + (size_t)j]);
        }
        textbuf_puts(&out, "}");
    }
    textbuf_puts(&out, "]}");
    size_t len = 0;
    char *text = textbuf_take(&out, &len);
    if (!text) {
        http_problem(resp, 500, "out of memory");
        goto done;
    }
    app_count_forecast(req->app);
    http_respond_owned(resp, 200, "application/json", text, len);
done:
    if (f)
        app_model_release(req->app, resolved, f);
    free(point), free(lo), free(hi);
    api_series_free(&series);
    json_decref(body);
}

/* --- backtest ----------------------------------------------------------------------------- */

struct fixed_model {
    struct forecaster *f;
    const struct backtest_spec *spec;
};

static int forecast_fixed(void *ctx, size_t w, const double *values, size_t n_history,
                          double *point, double *lo, double *hi, fw_error *err)
{
    (void)w;
    struct fixed_model *fm = ctx;
    return forecaster_predict(fm->f, values, n_history, fm->spec->h, fm->spec->levels,
                              fm->spec->n_levels, NULL, point, lo, hi, NULL, err);
}

/* refit: one model per cutoff, trained in a job like POST /models (its config, epochs, seed) */
static void start_refit_job(const struct http_request *req, const json_t *body,
                            const struct forecaster *f, const struct backtest_spec *spec,
                            struct http_response *resp)
{
    const struct app_config *cfg = app_config(req->app);
    long long epochs, seed;
    struct api_series series = {0};
    fw_error err = {0};
    if (!json_is_integer(json_object_get(body, "dataset"))) {
        http_problem(resp, 422, "a refit backtest trains on a stored dataset: give \"dataset\"");
        return;
    }
    if (api_int_member(body, "epochs", f->epochs > 0 ? f->epochs : 100, 1, cfg->max_epochs, &epochs,
                       resp) ||
        api_int_member(body, "seed", (long long)f->seed, 0, 0x7fffffff, &seed, resp) ||
        api_read_series(req, body, &series, resp))
        return;
    int rc = backtest_check(spec, series.n, &err);
    api_series_free(&series);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    if ((long long)spec->n_windows * epochs > REFIT_MAX_EPOCHS) {
        http_problem(resp, 422,
                     "%zu windows x %lld epochs: a refit backtest trains at most %d epochs in all",
                     spec->n_windows, epochs, REFIT_MAX_EPOCHS);
        return;
    }
    sqlite3 *db = api_db(req, resp);
    if (!db || api_job_capacity(req, db, resp))
        return;
    json_t *request = json_pack(
        "{s:s, s:O, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "architecture", f->model->ops->name,
        "dataset", json_object_get(body, "dataset"), "protocol", "live", "config",
        model_json_config(&f->model->config), "epochs", (json_int_t)epochs, "seed",
        (json_int_t)seed, "h", (json_int_t)spec->h, "n_windows", (json_int_t)spec->n_windows,
        "step", (json_int_t)spec->step, "level", level_array(spec->levels, spec->n_levels));
    char *text = request ? json_dumps(request, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(request);
    int64_t job_id = 0;
    rc = text ? store_job_create(db, STORE_JOB_BACKTEST, text,
                                 (int)(epochs * (long long)spec->n_windows), &job_id, &err)
              : FW_ENOMEM;
    free(text);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    jobs_wake(app_jobs(req->app));
    char location[64];
    snprintf(location, sizeof location, "/jobs/%lld", (long long)job_id);
    api_json(resp, 202,
             json_pack("{s:I, s:s, s:s, s:I}", "job", (json_int_t)job_id, "state", "queued",
                       "location", location, "models_to_train", (json_int_t)spec->n_windows));
    http_add_header(resp, "Location", location);
}

void api_backtest(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object_or_empty(req, resp);
    if (!body)
        return;
    static const double default_levels[2] = {80, 95};
    struct backtest_spec spec = {0};
    int64_t model_id = 0, resolved = 0;
    long long h, n_windows, step;
    struct api_series series = {0};
    struct forecaster *f = NULL;
    fw_error err = {0};
    const json_t *refit = json_object_get(body, "refit");
    if (refit && !json_is_boolean(refit)) {
        http_problem(resp, 422, "'refit' must be true or false");
        goto done;
    }
    static const char *const known[] = {"model", "dataset", "series", "h",    "level", "n_windows",
                                        "step",  "refit",   "epochs", "seed", NULL};
    if (api_known_members(body, known, resp) || read_model_ref(body, &model_id, resp) ||
        read_levels(body, spec.levels, &spec.n_levels, default_levels, 2, resp))
        goto done;
    int rc = app_model_acquire(req->app, model_id, &resolved, &f, &err);
    if (rc) {
        api_fail(resp, rc == FW_ENOTFOUND && model_id ? FW_EINVAL : rc, &err);
        goto done;
    }
    if (api_int_member(body, "h", f->model->horizon, 1, f->model->horizon, &h, resp) ||
        api_int_member(body, "n_windows", 1, 1, BACKTEST_MAX_WINDOWS, &n_windows, resp) ||
        api_int_member(body, "step", h, 1, 100000, &step, resp))
        goto done;
    spec.h = (size_t)h;
    spec.n_windows = (size_t)n_windows;
    spec.step = (size_t)step;
    spec.window = (size_t)f->model->window;
    spec.scale = f->scaler.max - f->scaler.min;
    if (json_is_true(refit)) {
        start_refit_job(req, body, f, &spec, resp);
        goto done;
    }
    if (api_read_series(req, body, &series, resp))
        goto done;
    struct fixed_model fm = {f, &spec};
    json_t *result = NULL;
    if ((rc = backtest_run(&spec, series.values, series.n, series.first_month, forecast_fixed, &fm,
                           &result, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    app_count_forecast(req->app);
    json_object_set_new(result, "model", json_integer(resolved));
    json_object_set_new(result, "h", json_integer(h));
    json_object_set_new(result, "n_windows", json_integer(n_windows));
    json_object_set_new(result, "step", json_integer(step));
    json_object_set_new(result, "level", level_array(spec.levels, spec.n_levels));
    api_json_digits(resp, 200, result, FORECAST_DIGITS);
done:
    if (f)
        app_model_release(req->app, resolved, f);
    api_series_free(&series);
    json_decref(body);
}
