/* api_models — /models (train, list, read, delete, export, import) and /jobs. */
#include "db/store.h"
#include "model/forecaster.h"
#include "base/period.h"
#include "model/series.h"
#include "server/api.h"
#include "core/job_request.h"
#include "core/jobs.h"
#include "model/ensemble.h"
#include "model/fit.h"
#include "core/model_json.h"
#include "core/model_record.h"
#include "base/textbuf.h"
#include "core/json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stored JSON text as JSON: null when there is none or it is not JSON; NULL out of memory (so
 * that the document it goes into fails whole rather than showing null). */
static json_t *json_or_null_text(const char *text)
{
    if (!text)
        return json_null();
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *v = json_loads(text, 0, &jerr);
    return v ? v : api_json_out_of_memory(&jerr) ? NULL : json_null();
}

static json_t *model_row_json(const struct store_model *m)
{
    return json_pack(
        "{s:I, s:s, s:s, s:I, s:I, s:o, s:s, s:o, s:s, s:o, s:o, s:b, s:i, s:I, s:s}", "id",
        (json_int_t)m->id, "name", m->name, "architecture", m->architecture, "parameters",
        (json_int_t)m->parameters, "seed", (json_int_t)m->seed, "dataset",
        m->dataset_id ? json_integer(m->dataset_id) : json_null(), "data_sha256", m->data_sha256,
        "cutoff", m->cutoff[0] ? json_string(m->cutoff) : json_null(), "protocol", m->protocol,
        "config", json_or_null_text(m->config_json), "metrics", json_or_null_text(m->metrics_json),
        "default", m->is_default, "format_version", m->format_version, "bytes",
        (json_int_t)m->weights_len, "created_at", m->created_at);
}

int api_job_capacity(const struct http_request *req, sqlite3 *db, struct http_response *resp)
{
    const struct app_config *cfg = app_config(req->ctx);
    int64_t counts[8];
    fw_error err = {0};
    int rc = store_job_count_by_state(db, counts, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return -1;
    }
    int64_t active = counts[STORE_JOB_QUEUED] + counts[STORE_JOB_RUNNING];
    if (active >= cfg->max_queued_jobs) {
        http_problem(resp, 429, "%lld jobs are queued or running; this server takes at most %d",
                     (long long)active, cfg->max_queued_jobs);
        http_add_header(resp, "Retry-After", "60");
        return -1;
    }
    return 0;
}

/* --- POST /models: validate the whole request now, so a queued job can only fail on its own */

struct train_request {
    long long dataset, epochs, seed, window, horizon, batch_size;
    const char *architecture, *protocol, *cutoff, *name;
    json_t *config;
    struct train_options train; /* lr and the recipe (optimizer, schedule, ...) */
    int make_default;
};

/* "lr" and the recipe members (job_request_train_recipe), as the job will read them. */
static int read_train_recipe(const json_t *body, struct train_request *t,
                             struct http_response *resp)
{
    train_options_default(&t->train);
    const json_t *lr = json_object_get(body, "lr");
    if (json_is_null(lr))
        lr = NULL;
    if (lr &&
        (!json_is_number(lr) || !(json_number_value(lr) > 0) || !(json_number_value(lr) < 10))) {
        http_problem(resp, 422, "'lr' must be a number in (0, 10)");
        return -1;
    }
    if (lr)
        t->train.lr = json_number_value(lr);
    fw_error err = {0};
    if (job_request_train_recipe(body, &t->train, &err)) {
        http_problem(resp, 422, "%s", err.msg);
        return -1;
    }
    return 0;
}

static int read_train_request(const json_t *body, const struct app_config *cfg,
                              struct train_request *t, struct http_response *resp)
{
    static const char *const known[] = {"dataset",  "architecture",
                                        "protocol", "epochs",
                                        "seed",     "cutoff",
                                        "config",   "window",
                                        "horizon",  "name",
                                        "default",  "batch_size",
                                        "lr",       "optimizer",
                                        "schedule", "weight_decay",
                                        "warmup",   "decay_fraction",
                                        "final_lr", "members",
                                        "keep",     NULL};
    if (api_known_members(body, known, resp))
        return -1;
    memset(t, 0, sizeof *t);
    if (!json_is_integer(json_object_get(body, "dataset"))) {
        http_problem(resp, 422, "'dataset' (an id from GET /datasets) is required");
        return -1;
    }
    if (api_int_member(body, "dataset", 0, 1, INT64_MAX, &t->dataset, resp) ||
        api_int_member(body, "epochs", 100, 1, cfg->max_epochs, &t->epochs, resp) ||
        api_int_member(body, "seed", 0, 0, 0x7fffffff, &t->seed, resp) ||
        api_int_member(body, "window", 528, 1, 100000, &t->window, resp) ||
        api_int_member(body, "horizon", 132, 1, 10000, &t->horizon, resp) ||
        api_int_member(body, "batch_size", 32, 2, 4096, &t->batch_size, resp))
        return -1;
    const char *strings[4] = {"architecture", "protocol", "cutoff", "name"};
    const char **targets[4] = {&t->architecture, &t->protocol, &t->cutoff, &t->name};
    for (int i = 0; i < 4; i++) {
        const json_t *v = json_object_get(body, strings[i]);
        if (v && !json_is_null(v) && !json_is_string(v)) {
            http_problem(resp, 422, "'%s' must be a string", strings[i]);
            return -1;
        }
        *targets[i] = json_string_value(v);
    }
    if (!t->architecture)
        t->architecture = "gated-qkan-fwp";
    if (!t->protocol)
        t->protocol = "live";
    fw_error err = {0};
    if (t->name && store_check_name("'name'", t->name, &err)) {
        http_problem(resp, 422, "%s", err.msg);
        return -1;
    }
    if (read_train_recipe(body, t, resp))
        return -1;
    const json_t *def = json_object_get(body, "default");
    if (json_is_null(def))
        def = NULL;
    if (def && !json_is_boolean(def)) {
        http_problem(resp, 422, "'default' must be true or false");
        return -1;
    }
    t->make_default = json_is_true(def);
    t->config = json_object_get(body, "config");
    return 0;
}

void api_models_create(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object(req, resp);
    if (!body)
        return;
    const struct app_config *cfg = app_config(req->ctx);
    struct train_request t;
    struct month_series series = {0};
    struct split_plan plan = {0};
    struct model *m = NULL;
    char config[1024], extra[900] = "", ensemble[160] = "";
    fw_error err = {0};
    enum protocol protocol;
    int cutoff = -1, rc;
    if (read_train_request(body, cfg, &t, resp))
        goto done;
    if (series_protocol_parse(t.protocol, &protocol)) {
        http_problem(resp, 422, "'protocol' must be \"paper\" or \"live\"");
        goto done;
    }
    if (t.cutoff && (strlen(t.cutoff) != 7 || period_parse(t.cutoff, &cutoff))) {
        http_problem(resp, 422, "'cutoff' must be a month, YYYY-MM");
        goto done;
    }
    if (t.config && (rc = model_json_config_text(t.config, extra, sizeof extra, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    /* an ensemble's members and keep (the same text the job's decoding makes) */
    if ((rc = job_request_ensemble_config(body, ensemble, sizeof ensemble, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    int len = snprintf(config, sizeof config, "window=%lld;horizon=%lld%s%s%s%s", t.window,
                       t.horizon, ensemble[0] ? ";" : "", ensemble, extra[0] ? ";" : "", extra);
    if (len < 0 || (size_t)len >= sizeof config) {
        http_problem(resp, 422, "the config is too long");
        goto done;
    }
    if ((rc = model_create(t.architecture, config, 0, &m, &err))) {
        api_fail(resp, rc == FW_ENOTFOUND ? FW_EINVAL : rc, &err);
        goto done;
    }
    json_t *dataset_only = json_pack("{s:I}", "dataset", (json_int_t)t.dataset);
    rc = api_read_series(req, dataset_only, &series, resp);
    json_decref(dataset_only);
    if (rc)
        goto done;
    /* the protocol's windows must exist on this dataset (cutoff, window and horizon checked) */
    if ((rc = series_prepare(series.values, series.n, series.first_month, protocol, cutoff,
                             (size_t)t.window, (size_t)t.horizon, &plan, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    sqlite3 *db = api_db(req, resp);
    struct api_write w;
    if (!db || api_write_begin(db, &w, resp))
        goto done;
    if (api_job_capacity(req, db, resp)) {
        api_write_end(&w, resp);
        goto done;
    }
    /* the stored request is the resolved one (all of it, or no job: a member missing for want of
     * memory would train with its default) */
    int failed = json_object_set_new(body, "architecture", json_string(t.architecture));
    failed |= json_object_set_new(body, "protocol", json_string(t.protocol));
    failed |= json_object_set_new(body, "epochs", json_integer(t.epochs));
    failed |= json_object_set_new(body, "seed", json_integer(t.seed));
    failed |= json_object_set_new(body, "window", json_integer(t.window));
    failed |= json_object_set_new(body, "horizon", json_integer(t.horizon));
    char *request = failed ? NULL : json_text(body, JSON_COMPACT | JSON_REAL_PRECISION(17));
    int64_t job_id = 0;
    int epochs = fit_total_epochs(m, (int)t.epochs); /* an ensemble's: all its members' */
    rc =
        request ? store_job_create(db, STORE_JOB_TRAIN, request, epochs, &job_id, &err) : FW_ENOMEM;
    free(request);
    if (rc) {
        api_fail(resp, rc, &err);
    } else {
        char location[64];
        snprintf(location, sizeof location, "/jobs/%lld", (long long)job_id);
        json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:I}", "job", (json_int_t)job_id, "state",
                              "queued", "location", location, "parameters", (json_int_t)m->n_params,
                              "epochs", (json_int_t)epochs);
        if (o && ensemble_size(m) &&
            json_object_set_new(o, "members", json_integer((json_int_t)ensemble_size(m)))) {
            json_decref(o);
            o = NULL;
        }
        api_json(resp, 202, o);
        if (resp->status == 202)
            http_add_header(resp, "Location", location);
    }
    if (api_write_end(&w, resp) == 0)
        jobs_wake(app_jobs(req->ctx));
done:
    model_destroy(m);
    series_free(&plan);
    month_series_free(&series);
    json_decref(body);
}

void api_models_list(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct store_model *items = NULL;
    size_t n = 0;
    fw_error err = {0};
    int rc = store_model_list(db, &items, &n, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    json_t *list = json_array();
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed |= json_array_append_new(list, model_row_json(&items[i]));
    store_model_list_free(items, n);
    if (failed) { /* out of memory: a 500, not a list with models missing */
        json_decref(list);
        list = NULL;
    }
    api_json(resp, 200, list ? json_pack("{s:o}", "models", list) : NULL);
}

void api_models_get(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct store_model *sm = NULL;
    fw_error err = {0};
    int rc = store_model_get(db, req->id, &sm, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    json_t *o = model_row_json(sm);
    struct forecaster *f = NULL;
    /* a stored model that does not load is shown without its summary; memory is another matter */
    rc = o ? forecaster_load(sm->weights, sm->weights_len, &f, &err) : FW_ENOMEM;
    if (rc == FW_OK && json_object_set_new(o, "model", model_json_summary(f)))
        rc = FW_ENOMEM;
    forecaster_free(f);
    store_model_free(sm);
    if (rc == FW_ENOMEM) {
        json_decref(o);
        o = NULL;
    }
    api_json(resp, 200, o);
}

void api_models_delete(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    fw_error err = {0};
    struct api_write w;
    if (api_write_begin(db, &w, resp))
        return;
    int rc = store_model_delete(db, req->id, &err);
    if (rc)
        api_fail(resp, rc, &err);
    else
        http_respond(resp, 204, NULL, "", 0);
    if (api_write_end(&w, resp) == 0)
        app_model_forget(req->ctx, req->id);
}

void api_models_export(const struct http_request *req, struct http_response *resp)
{
    const char *format = http_query(req, "format");
    if (format && strcmp(format, "json") && strcmp(format, "binary")) {
        http_problem(resp, 422, "format must be json or binary");
        return;
    }
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct store_model *sm = NULL;
    fw_error err = {0};
    int rc = store_model_get(db, req->id, &sm, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    char disposition[96];
    if (!format || !strcmp(format, "binary")) {
        http_respond(resp, 200, "application/octet-stream", (const char *)sm->weights,
                     sm->weights_len);
        snprintf(disposition, sizeof disposition, "attachment; filename=\"model-%lld.fwp\"",
                 (long long)req->id);
    } else {
        struct forecaster *f = NULL;
        if ((rc = forecaster_load(sm->weights, sm->weights_len, &f, &err))) {
            store_model_free(sm);
            api_fail(resp, rc, &err);
            return;
        }
        json_t *doc = model_json_export(f);
        forecaster_free(f);
        char *text = doc ? json_text(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(doc);
        if (!text) {
            store_model_free(sm);
            http_problem(resp, 500, "out of memory");
            return;
        }
        http_respond_owned(resp, 200, "application/json", text, strlen(text));
        snprintf(disposition, sizeof disposition, "attachment; filename=\"model-%lld.json\"",
                 (long long)req->id);
    }
    store_model_free(sm);
    http_add_header(resp, "Content-Disposition", disposition);
}

void api_models_import(const struct http_request *req, struct http_response *resp)
{
    struct forecaster *f = NULL;
    fw_error err = {0};
    int rc;
    const char *ct = req->content_type;
    if (ct && !strncasecmp(ct, "application/octet-stream", 24)) {
        rc = forecaster_load((const uint8_t *)req->body, req->body_len, &f, &err);
    } else {
        json_t *doc = api_parse_object(req, resp);
        if (!doc)
            return;
        rc = model_json_import(doc, NULL, &f, &err);
        json_decref(doc);
    }
    if (rc) {
        api_fail(resp, rc == FW_ENOTFOUND ? FW_EINVAL : rc, &err);
        return;
    }
    sqlite3 *db = api_db(req, resp);
    struct api_write w;
    if (!db || api_write_begin(db, &w, resp)) {
        forecaster_free(f);
        return;
    }
    const char *given = http_query(req, "name");
    struct model_record record = {given && *given ? given : "imported", 0, 0};
    int64_t id = 0;
    struct store_model *sm = NULL;
    rc = model_record_insert(db, f, &record, &id, &err);
    forecaster_free(f);
    if (rc || (rc = store_model_get(db, id, &sm, &err))) {
        api_fail(resp, rc, &err);
    } else {
        char location[64];
        snprintf(location, sizeof location, "/models/%lld", (long long)id);
        api_json(resp, 201, model_row_json(sm));
        if (resp->status == 201)
            http_add_header(resp, "Location", location);
    }
    store_model_free(sm);
    api_write_end(&w, resp);
}

/* --- /jobs ---------------------------------------------------------------------------------- */

static json_t *job_json(const struct store_job *j)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:i, s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:s}", "id",
        (json_int_t)j->id, "kind", store_job_kind_name(j->kind), "state",
        store_job_state_name(j->state), "epoch", j->epoch, "epochs", j->epochs, "progress",
        j->progress, "eta_seconds", isnan(j->eta_seconds) ? json_null() : json_real(j->eta_seconds),
        "loss_curve", j->loss_curve_json ? json_or_null_text(j->loss_curve_json) : json_array(),
        "error", j->error ? json_string(j->error) : json_null(), "model",
        j->model_id ? json_integer(j->model_id) : json_null(), "request",
        json_or_null_text(j->request_json), "created_at", j->created_at, "started_at",
        j->started_at[0] ? json_string(j->started_at) : json_null(), "finished_at",
        j->finished_at[0] ? json_string(j->finished_at) : json_null(), "updated_at", j->updated_at);
    if (o &&
        (json_object_set_new(o, "resumable", json_boolean(j->state == STORE_JOB_INTERRUPTED)) ||
         (j->result_json && json_object_set_new(o, "result", json_or_null_text(j->result_json))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void respond_job(sqlite3 *db, int64_t id, int status, struct http_response *resp)
{
    struct store_job *job = NULL;
    fw_error err = {0};
    int rc = store_job_get(db, id, &job, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    api_json(resp, status, job_json(job));
    store_job_free(job);
}

/* A job's state, or a problem (404) and -1. */
static int job_state(sqlite3 *db, int64_t id, enum store_job_state *state,
                     struct http_response *resp)
{
    struct store_job *job = NULL;
    fw_error err = {0};
    int rc = store_job_get(db, id, &job, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return -1;
    }
    *state = job->state;
    store_job_free(job);
    return 0;
}

void api_jobs_get(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (db)
        respond_job(db, req->id, 200, resp);
}

void api_jobs_cancel(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    fw_error err = {0};
    enum store_job_state state;
    struct api_write w;
    int rc;
    if (api_write_begin(db, &w, resp))
        return;
    if (!job_state(db, req->id, &state, resp)) {
        if (store_job_state_is_final(state))
            http_problem(resp, 409, "job %lld already %s", (long long)req->id,
                         store_job_state_name(state));
        else if ((rc = store_job_set_state(db, req->id, STORE_JOB_CANCELLED, "cancelled by request",
                                           &err)))
            api_fail(resp, rc, &err);
        else
            respond_job(db, req->id, 200, resp);
    }
    if (api_write_end(&w, resp) == 0)
        jobs_cancel(app_jobs(req->ctx), req->id);
}

void api_jobs_resume(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    fw_error err = {0};
    enum store_job_state state;
    struct api_write w;
    int rc;
    if (api_write_begin(db, &w, resp))
        return;
    if (!job_state(db, req->id, &state, resp)) {
        if (state != STORE_JOB_INTERRUPTED) {
            http_problem(resp, 409, "job %lld is %s; only an interrupted job can be resumed",
                         (long long)req->id, store_job_state_name(state));
        } else if ((rc = store_job_set_state(db, req->id, STORE_JOB_QUEUED, NULL, &err))) {
            api_fail(resp, rc, &err);
        } else {
            char location[64];
            snprintf(location, sizeof location, "/jobs/%lld", (long long)req->id);
            respond_job(db, req->id, 202, resp);
            if (resp->status == 202)
                http_add_header(resp, "Location", location);
        }
    }
    if (api_write_end(&w, resp) == 0)
        jobs_wake(app_jobs(req->ctx));
}
