/* api_forecast — POST /forecast and POST /backtest. */
#include "model/metrics.h"
#include "base/period.h"
#include "db/store.h"
#include "server/api.h"
#include "core/backtest.h"
#include "core/forecast.h"
#include "core/forecast_json.h"
#include "core/job_request.h"
#include "core/jobs.h"
#include "core/model_json.h"
#include "base/textbuf.h"
#include "core/json_text.h"
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
    *n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *x = json_array_get(v, i);
        fw_error err = {0};
        if (!json_is_number(x)) {
            http_problem(resp, 422, "level[%zu] must be a number in (0, 100)", i);
            return -1;
        }
        if (forecast_add_level(levels, n, json_number_value(x), &err)) {
            http_problem(resp, 422, "level[%zu]: %s", i, err.msg);
            return -1;
        }
    }
    return 0;
}

/* The backend a forecast runs its circuits on. */
struct backend_choice {
    const char *name; /* exact | sampler | ionq | ibm */
    long long shots, seed, qubit;
    const char *noise, *device;
    int dry_run;
};

/* An optional string member of at most 64 characters [A-Za-z0-9._-]; -1 after filling resp. */
static int read_name_member(const json_t *body, const char *key, const char **out,
                            struct http_response *resp)
{
    const json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n > 64 ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._-") != n) {
        http_problem(resp, 422, "'%s' must be a name of 1 to 64 letters, digits, '.', '_' or '-'",
                     key);
        return -1;
    }
    *out = s;
    return 0;
}

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
    if (read_name_member(body, "noise", &bc->noise, resp) ||
        read_name_member(body, "device", &bc->device, resp))
        return -1;
    int remote = qbackend_is_remote(bc->name);
    if (!remote && (json_object_get(body, "device") || json_object_get(body, "qubit"))) {
        http_problem(resp, 422, "'device' and 'qubit' choose a cloud device: backend ionq or ibm");
        return -1;
    }
    const json_t *dry = json_object_get(body, "dry_run");
    if (dry && !json_is_boolean(dry)) {
        http_problem(resp, 422, "'dry_run' must be true or false");
        return -1;
    }
    bc->dry_run = json_is_true(dry);
    return api_int_member(body, "shots", exact ? 0 : 1024, exact ? 0 : 1, QBACKEND_MAX_SHOTS,
                          &bc->shots, resp) ||
                   api_int_member(body, "seed", 0, 0, 0x7fffffff, &bc->seed, resp) ||
                   api_int_member(body, "qubit", 0, 0, 999, &bc->qubit, resp)
               ? -1
               : 0;
}

/* NULL out of memory. */
static json_t *level_array(const double *levels, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(levels[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Where the history ends: the cutoff (validated against the series) or its last month. */
static int history_end(const json_t *body, const struct month_series *s, size_t *n_history,
                       int *last_month, struct http_response *resp)
{
    const json_t *c = json_object_get(body, "cutoff");
    int cutoff = -1;
    if (c && !json_is_null(c) &&
        (!json_is_string(c) || period_parse(json_string_value(c), &cutoff) ||
         strlen(json_string_value(c)) != 7)) {
        http_problem(resp, 422, "'cutoff' must be a month, YYYY-MM");
        return -1;
    }
    fw_error err = {0};
    int rc = forecast_history_end(s->first_month, s->n, cutoff, n_history, last_month, &err);
    if (rc)
        api_fail(resp, rc, &err);
    return rc ? -1 : 0;
}

static struct qbackend_request backend_request(const struct http_request *req,
                                               const struct backend_choice *bc, char *path,
                                               size_t size)
{
    int sampler = !strcmp(bc->name, "sampler");
    return (struct qbackend_request){
        .name = bc->name,
        .shots = (int)bc->shots,
        .noise = bc->noise,
        .noise_path =
            sampler ? forecast_noise_file(app_config(req->ctx)->data_dir, path, size) : NULL,
        .seed = (uint64_t)bc->seed,
        .device = bc->device,
        .qubit = (int)bc->qubit,
        .plan_only = bc->dry_run};
}

/* Queues a cloud forecast as a job (202 + Location), quoting its plan in the answer. */
static void queue_quantum_job(const struct http_request *req, const struct forecast_request *rq,
                              int64_t model, const struct month_series *s, const struct qplan *plan,
                              json_t *summary, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    struct api_write w;
    if (!db || api_write_begin(db, &w, resp)) {
        json_decref(summary);
        return;
    }
    if (api_job_capacity(req, db, resp)) {
        json_decref(summary);
        api_write_end(&w, resp);
        return;
    }
    struct quantum_job q = {.model = model,
                            .dataset = s->dataset_id,
                            .first_month = s->first_month,
                            .values = s->values,
                            .n = rq->n_history,
                            .h = rq->h,
                            .n_levels = rq->n_levels,
                            .backend = *rq->backend,
                            .plan = *plan};
    memcpy(q.levels, rq->levels, rq->n_levels * sizeof *rq->levels);
    char *text = job_request_quantum_encode(&q);
    int64_t job_id = 0;
    fw_error err = {0};
    int rc = text ? store_job_create(db, STORE_JOB_QUANTUM, text, 0, &job_id, &err) : FW_ENOMEM;
    free(text);
    if (rc) {
        json_decref(summary);
        api_fail(resp, rc, &err);
    } else {
        char location[64];
        snprintf(location, sizeof location, "/jobs/%lld", (long long)job_id);
        int failed = json_object_set_new(summary, "job", json_integer(job_id));
        failed |= json_object_set_new(summary, "state", json_string("queued"));
        failed |= json_object_set_new(summary, "location", json_string(location));
        if (failed) {
            json_decref(summary);
            summary = NULL;
        }
        api_json(resp, 202, summary);
        if (resp->status == 202)
            http_add_header(resp, "Location", location);
    }
    if (api_write_end(&w, resp) == 0)
        jobs_wake(app_jobs(req->ctx));
}

/* A cloud backend, or any `dry_run`: what the run uses (circuits, shots, provider jobs) before
 * anything is submitted; for a cloud without `dry_run`, a job that runs it (202). */
static void plan_or_queue(const struct http_request *req, const struct forecast_request *rq,
                          int64_t model, const struct month_series *s, struct http_response *resp)
{
    struct qplan plan;
    fw_error err = {0};
    int rc = forecast_plan(rq, &plan, &err);
    if (rc) {
        api_fail(resp, rc == FW_ENOTFOUND ? FW_EINVAL : rc, &err);
        return;
    }
    const struct qbackend_request *b = rq->backend;
    json_t *summary = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "backend", b->name, "device",
                                qbackend_device(b), "circuits", (json_int_t)plan.circuits, "shots",
                                (json_int_t)b->shots, "shots_total", (json_int_t)plan.shots_total,
                                "jobs", (json_int_t)plan.jobs);
    if (!b->plan_only) {
        queue_quantum_job(req, rq, model, s, &plan, summary, resp);
        return;
    }
    if (json_object_set_new(summary, "dry_run", json_true())) {
        json_decref(summary);
        summary = NULL;
    }
    api_json(resp, 200, summary);
}

/* Reads the request's members into a forecast request on the model f; -1 after filling resp. */
static int read_forecast_request(const struct http_request *req, const json_t *body,
                                 struct forecaster *f, struct month_series *series,
                                 struct forecast_request *rq, struct http_response *resp)
{
    long long h;
    if (api_int_member(body, "h", f->model->horizon, 1, f->model->horizon, &h, resp) ||
        api_read_series(req, body, series, resp) ||
        history_end(body, series, &rq->n_history, &rq->last_month, resp))
        return -1;
    rq->model = f;
    rq->history = series->values;
    rq->history_sha256 = series->sha256;
    rq->h = (size_t)h;
    fw_error err = {0};
    int rc = forecast_check(rq, &err);
    if (rc)
        api_fail(resp, rc, &err);
    return rc ? -1 : 0;
}

static void answer_forecast(const struct http_request *req, const struct forecast_request *rq,
                            int64_t model, const struct month_series *series,
                            struct http_response *resp)
{
    struct forecast_result r;
    fw_error err = {0};
    int rc = forecast_run(rq, &r, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    struct forecast_doc doc = {.rq = rq, .r = &r, .model = model, .dataset = series->dataset_id};
    size_t len = 0;
    char *text = forecast_json(&doc, &len);
    forecast_result_free(&r);
    if (!text) {
        http_problem(resp, 500, "out of memory");
        return;
    }
    app_count_forecast(req->ctx);
    http_respond_owned(resp, 200, "application/json", text, len);
}

void api_forecast(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object_or_empty(req, resp);
    if (!body)
        return;
    static const double default_levels[2] = {80, 95};
    double levels[MAX_LEVELS];
    int64_t model_id = 0, resolved = 0;
    struct month_series series = {0};
    struct forecaster *f = NULL;
    fw_error err = {0};
    static const char *const known[] = {"model",  "dataset", "series",  "h",     "level",
                                        "cutoff", "backend", "shots",   "noise", "seed",
                                        "device", "qubit",   "dry_run", NULL};
    struct backend_choice bc;
    struct forecast_request rq = {.levels = levels};
    if (api_known_members(body, known, resp) || read_model_ref(body, &model_id, resp) ||
        read_levels(body, levels, &rq.n_levels, default_levels, 2, resp) ||
        read_backend(body, &bc, resp))
        goto done;
    int rc = app_model_acquire(req->ctx, model_id, &resolved, &f, &err);
    if (rc) {
        /* a model the body names that does not exist makes the request invalid (422); no
         * default model at all stays 404 */
        api_fail(resp, rc == FW_ENOTFOUND && model_id ? FW_EINVAL : rc, &err);
        goto done;
    }
    char path[4096];
    struct qbackend_request backend = backend_request(req, &bc, path, sizeof path);
    rq.backend = &backend;
    rq.poll_seconds = 1.0;
    rq.timeout_seconds = 60;
    if (read_forecast_request(req, body, f, &series, &rq, resp))
        goto done;
    if (qbackend_is_remote(bc.name) || bc.dry_run)
        plan_or_queue(req, &rq, resolved, &series, resp);
    else
        answer_forecast(req, &rq, resolved, &series, resp);
done:
    if (f)
        app_model_release(req->ctx, resolved, f);
    month_series_free(&series);
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
    const struct app_config *cfg = app_config(req->ctx);
    long long epochs, seed;
    struct month_series series = {0};
    fw_error err = {0};
    if (json_object_get(body, "series")) {
        http_problem(resp, 422,
                     "a refit backtest trains on a stored dataset: give \"dataset\" (or "
                     "\"refit\": false to score the stored model on an inline series)");
        return;
    }
    if (api_int_member(body, "epochs", f->epochs > 0 ? f->epochs : 100, 1, cfg->max_epochs, &epochs,
                       resp) ||
        api_int_member(body, "seed", (long long)f->seed, 0, 0x7fffffff, &seed, resp) ||
        api_read_series(req, body, &series, resp))
        return;
    int rc = backtest_check(spec, series.n, &err);
    int64_t dataset = series.dataset_id; /* the one given, or the bundled SILSO series */
    month_series_free(&series);
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
    struct api_write w;
    if (!db || api_write_begin(db, &w, resp))
        return;
    if (api_job_capacity(req, db, resp)) {
        api_write_end(&w, resp);
        return;
    }
    json_t *request = json_pack(
        "{s:s, s:o, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "architecture", f->model->ops->name,
        "dataset", json_integer(dataset), "protocol", "live", "config",
        model_json_config(&f->model->config), "epochs", (json_int_t)epochs, "seed",
        (json_int_t)seed, "h", (json_int_t)spec->h, "n_windows", (json_int_t)spec->n_windows,
        "step", (json_int_t)spec->step, "level", level_array(spec->levels, spec->n_levels));
    char *text = request ? json_text(request, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(request);
    int64_t job_id = 0;
    rc = text ? store_job_create(db, STORE_JOB_BACKTEST, text,
                                 (int)(epochs * (long long)spec->n_windows), &job_id, &err)
              : FW_ENOMEM;
    free(text);
    if (rc) {
        api_fail(resp, rc, &err);
    } else {
        char location[64];
        snprintf(location, sizeof location, "/jobs/%lld", (long long)job_id);
        api_json(resp, 202,
                 json_pack("{s:I, s:s, s:s, s:I}", "job", (json_int_t)job_id, "state", "queued",
                           "location", location, "models_to_train", (json_int_t)spec->n_windows));
        if (resp->status == 202)
            http_add_header(resp, "Location", location);
    }
    if (api_write_end(&w, resp) == 0)
        jobs_wake(app_jobs(req->ctx));
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
    struct month_series series = {0};
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
    int rc = app_model_acquire(req->ctx, model_id, &resolved, &f, &err);
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
    spec.model_protocol = (int)f->protocol;
    spec.model_first = f->data_first_month;
    spec.model_last = f->data_last_month;
    /* out of sample by default: a model trained at every cutoff; "refit": false scores the
     * stored model (and an inline series, which no job can train on, is scored so) */
    if (refit ? json_is_true(refit) : !json_object_get(body, "series")) {
        start_refit_job(req, body, f, &spec, resp);
        goto done;
    }
    if (api_read_series(req, body, &series, resp))
        goto done;
    struct fixed_model fm = {f, &spec};
    struct backtest_result run;
    if (series.sha256[0] && f->data_sha256[0] && strcmp(series.sha256, f->data_sha256))
        spec.refit = 1; /* other data than the model's: never seen */
    if ((rc = backtest_run(&spec, series.values, series.n, series.first_month, forecast_fixed, &fm,
                           &run, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    json_t *result = backtest_json(&run);
    backtest_result_free(&run);
    app_count_forecast(req->ctx);
    int failed = json_object_set_new(result, "model", json_integer(resolved));
    failed |= json_object_set_new(result, "h", json_integer(h));
    failed |= json_object_set_new(result, "n_windows", json_integer(n_windows));
    failed |= json_object_set_new(result, "step", json_integer(step));
    failed |= json_object_set_new(result, "level", level_array(spec.levels, spec.n_levels));
    if (failed) {
        json_decref(result);
        result = NULL;
    }
    api_json_digits(resp, 200, result, FORECAST_DIGITS);
done:
    if (f)
        app_model_release(req->ctx, resolved, f);
    month_series_free(&series);
    json_decref(body);
}
