/* app — routing, auth, per-thread connections, model cache and counters (see app.h). */
#include "server/app.h"
#include "db/bootstrap.h"
#include "db/db.h"
#include "db/store.h"
#include "base/period.h"
#include "server/api.h"
#include "server/jobs.h"
#include "core/model_json.h"
#include "core/dataset_cache.h"
#include "core/model_cache.h"
#include "core/model_record.h"
#include "base/textbuf.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- routes ---------------------------------------------------------------------------------- */

struct route {
    const char *method;
    const char *pattern;
    api_handler handler;
    const char *metric; /* label for /metrics */
};

static const struct route routes[] = {
    {"GET", "/healthz", api_healthz, "healthz"},
    {"GET", "/metrics", api_metrics, "metrics"},
    {"POST", "/datasets", api_datasets_create, "datasets"},
    {"GET", "/datasets", api_datasets_list, "datasets"},
    {"GET", "/datasets/{id}", api_datasets_get, "dataset"},
    {"DELETE", "/datasets/{id}", api_datasets_delete, "dataset"},
    {"POST", "/models", api_models_create, "models"},
    {"GET", "/models", api_models_list, "models"},
    {"POST", "/models/import", api_models_import, "models_import"},
    {"GET", "/models/{id}", api_models_get, "model"},
    {"DELETE", "/models/{id}", api_models_delete, "model"},
    {"GET", "/models/{id}/export", api_models_export, "model_export"},
    {"GET", "/jobs/{id}", api_jobs_get, "job"},
    {"DELETE", "/jobs/{id}", api_jobs_cancel, "job"},
    {"POST", "/jobs/{id}/resume", api_jobs_resume, "job_resume"},
    {"POST", "/forecast", api_forecast, "forecast"},
    {"POST", "/backtest", api_backtest, "backtest"},
    {"GET", "/compare", api_compare, "compare"},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

size_t app_route_count(void)
{
    return N_ROUTES;
}

struct app_route_info app_route_at(size_t i)
{
    struct app_route_info info = {NULL, NULL};
    if (i < N_ROUTES) {
        info.method = routes[i].method;
        info.pattern = routes[i].pattern;
    }
    return info;
}

/* Matches a path against a pattern; {id} is a positive decimal integer. */
static int path_matches(const char *pattern, const char *path, int64_t *id)
{
    *id = 0;
    while (*pattern && *path) {
        if (!strncmp(pattern, "{id}", 4)) {
            int64_t v = 0;
            int digits = 0;
            while (*path >= '0' && *path <= '9') {
                if (digits++ >= 15)
                    return 0;
                v = v * 10 + (*path++ - '0');
            }
            if (digits == 0 || v <= 0)
                return 0;
            *id = v;
            pattern += 4;
            continue;
        }
        if (*pattern++ != *path++)
            return 0;
    }
    return *pattern == '\0' && *path == '\0';
}

/* ---- counters ----------------------------------------------------------------------------------
 */

#define N_BUCKETS 12
static const double latency_buckets[N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
#define MAX_SERIES 256

struct metrics {
    pthread_mutex_t lock;
    struct {
        const char *route;
        const char *method;
        int status;
        unsigned long long count;
    } requests[MAX_SERIES];
    size_t n_requests;
    unsigned long long bucket_counts[N_BUCKETS + 1];
    double latency_sum;
    unsigned long long latency_count, forecasts, epochs;
};

static void metrics_record(struct metrics *mx, const char *route, const char *method, int status,
                           double seconds)
{
    pthread_mutex_lock(&mx->lock);
    size_t i;
    for (i = 0; i < mx->n_requests; i++)
        if (mx->requests[i].route == route && mx->requests[i].method == method &&
            mx->requests[i].status == status)
            break;
    if (i == mx->n_requests && i < MAX_SERIES) {
        mx->requests[i].route = route;
        mx->requests[i].method = method;
        mx->requests[i].status = status;
        mx->requests[i].count = 0;
        mx->n_requests++;
    }
    if (i < MAX_SERIES)
        mx->requests[i].count++;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > latency_buckets[b])
        b++;
    mx->bucket_counts[b]++;
    mx->latency_sum += seconds;
    mx->latency_count++;
    pthread_mutex_unlock(&mx->lock);
}

/* ---- the app ------------------------------------------------------------------------------------
 */

struct app {
    struct app_config cfg;
    char *db_path, *data_dir, *static_dir, *token;
    pthread_key_t db_key;
    struct metrics metrics;
    struct model_cache *cache;
    struct dataset_cache *datasets;
    struct jobs *jobs;
};

const struct app_config *app_config(const struct app *app)
{
    return &app->cfg;
}

struct jobs *app_jobs(struct app *app)
{
    return app->jobs;
}

static void close_thread_db(void *db)
{
    db_close(db);
}

sqlite3 *app_db(struct app *app)
{
    sqlite3 *db = pthread_getspecific(app->db_key);
    if (db)
        return db;
    fw_error err = {0};
    if (db_open(app->db_path, &db, &err)) {
        fprintf(stderr, "fwpcast: opening %s: %s\n", app->db_path, err.msg);
        return NULL;
    }
    pthread_setspecific(app->db_key, db);
    return db;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Loads data/models/default.fwp as the default model when the database has none. */
static int bootstrap_default_model(struct app *app, sqlite3 *db, fw_error *err)
{
    int64_t id;
    if (store_model_default_id(db, &id, NULL) == FW_OK)
        return FW_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/models/default.fwp", app->data_dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!app->cfg.quiet)
            fprintf(stderr, "fwpcast: no %s: POST /forecast needs a model first\n", path);
        return FW_OK;
    }
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0, got;
    uint8_t chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            uint8_t *grown = realloc(bytes, cap);
            if (!grown) {
                free(bytes);
                fclose(f);
                return FW_ENOMEM;
            }
            bytes = grown;
        }
        memcpy(bytes + len, chunk, got);
        len += got;
    }
    fclose(f);
    struct forecaster *fc = NULL;
    int rc = forecaster_load(bytes, len, &fc, err);
    if (!rc) {
        int64_t dataset_id = 0;
        store_dataset_find(db, "silso-monthly", &dataset_id, NULL);
        struct model_record record = {"default", dataset_id, 1};
        rc = model_record_insert(db, fc, &record, &id, err);
        if (!rc && !app->cfg.quiet)
            fprintf(stderr, "fwpcast: loaded %s as the default model (id %lld)\n", path,
                    (long long)id);
    }
    forecaster_free(fc);
    free(bytes);
    return rc;
}

int app_create(const struct app_config *cfg, struct app **out, fw_error *err)
{
    struct app *app = calloc(1, sizeof *app);
    if (!app)
        return FW_ENOMEM;
    openblas_set_num_threads(1); /* request and worker threads each run their own BLAS calls */
    app->cfg = *cfg;
    app->db_path = strdup(cfg->db_path);
    app->data_dir = strdup(cfg->data_dir ? cfg->data_dir : "data");
    app->static_dir = dup_or_null(cfg->static_dir);
    app->token = dup_or_null(cfg->token);
    app->cfg.db_path = app->db_path;
    app->cfg.data_dir = app->data_dir;
    app->cfg.static_dir = app->static_dir;
    app->cfg.token = app->token;
    pthread_mutex_init(&app->metrics.lock, NULL);
    if (!app->db_path || !app->data_dir || model_cache_create(&app->cache) ||
        dataset_cache_create(&app->datasets) || pthread_key_create(&app->db_key, close_thread_db)) {
        model_cache_destroy(app->cache);
        dataset_cache_destroy(app->datasets);
        free(app->db_path), free(app->data_dir), free(app->static_dir), free(app->token);
        free(app);
        return FW_ENOMEM;
    }
    sqlite3 *db = app_db(app);
    int rc = db ? FW_OK : fw_error_set(err, FW_EDB, "cannot open the database %s", cfg->db_path);
    int interrupted = 0;
    if (!rc)
        rc = db_migrate(db, NULL, err);
    if (!rc)
        rc = db_bootstrap_bundled(db, app->data_dir, err);
    if (!rc)
        rc = bootstrap_default_model(app, db, err);
    if (!rc)
        rc = store_job_mark_interrupted(db, &interrupted, err);
    if (!rc && interrupted && !cfg->quiet)
        fprintf(stderr,
                "fwpcast: %d job(s) were running when the last process stopped: now "
                "interrupted (POST /jobs/{id}/resume continues them)\n",
                interrupted);
    if (!rc)
        rc = jobs_start(app, cfg->workers, cfg->train_threads, &app->jobs, err);
    if (rc) {
        app_destroy(app);
        return rc;
    }
    *out = app;
    return FW_OK;
}

void app_destroy(struct app *app)
{
    if (!app)
        return;
    jobs_stop(app->jobs);
    model_cache_destroy(app->cache);
    dataset_cache_destroy(app->datasets);
    sqlite3 *db = pthread_getspecific(app->db_key);
    db_close(db);
    pthread_setspecific(app->db_key, NULL);
    pthread_key_delete(app->db_key);
    pthread_mutex_destroy(&app->metrics.lock);
    free(app->db_path), free(app->data_dir), free(app->static_dir), free(app->token);
    free(app);
}

/* ---- request handling ------------------------------------------------------------------------ */

/* Constant-time comparison of the bearer token. */
static int token_ok(const char *expected, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncmp(header, prefix, sizeof prefix - 1))
        return 0;
    const char *given = header + sizeof prefix - 1;
    size_t le = strlen(expected), lg = strlen(given);
    unsigned char diff = (unsigned char)(le != lg);
    for (size_t i = 0; i < le; i++)
        diff |= (unsigned char)(expected[i] ^ (i < lg ? given[i] : 0));
    return diff == 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void app_route(struct app *app, const struct http_request *in, struct http_response *resp);

/* 1 when origin is one of the comma-separated allowed origins (exact, case-sensitive). */
static int cors_allowed(const char *allowed, const char *origin)
{
    if (!allowed || !origin || !*origin)
        return 0;
    size_t n = strlen(origin);
    for (const char *p = allowed; *p;) {
        size_t len = strcspn(p, ",");
        while (len && *p == ' ')
            p++, len--;
        size_t trimmed = len;
        while (trimmed && p[trimmed - 1] == ' ')
            trimmed--;
        if (trimmed == n && !strncmp(p, origin, n))
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* CORS for an allowed origin: its preflight is answered here; other answers carry the header. */
static void cors_preflight(struct http_response *resp)
{
    if (!http_respond(resp, 204, NULL, "", 0) &&
        !http_add_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE") &&
        !http_add_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type"))
        http_add_header(resp, "Access-Control-Max-Age", "600");
}

void app_handle(void *ctx, const struct http_request *in, struct http_response *resp)
{
    struct app *app = ctx;
    /* The CORS headers go first: a handler's answer, once its writes are committed, must not
     * turn into an error for want of memory for a header. A failed add leaves a 500 problem. */
    if (cors_allowed(app->cfg.cors_origins, in->origin)) {
        if (http_add_header(resp, "Access-Control-Allow-Origin", in->origin) ||
            http_add_header(resp, "Vary", "Origin"))
            return;
        if (!strcmp(in->method, "OPTIONS")) {
            cors_preflight(resp);
            return;
        }
    }
    app_route(app, in, resp);
}

void app_db_settle(struct app *app)
{
    sqlite3 *db = pthread_getspecific(app->db_key);
    if (db && db_end_stray_transaction(db)) {
        db_close(db);
        pthread_setspecific(app->db_key, NULL);
    }
}

static void app_route(struct app *app, const struct http_request *in, struct http_response *resp)
{
    double t0 = now_seconds();
    app_db_settle(app);
    struct http_request req = *in;
    req.ctx = app;
    const struct route *match = NULL;
    char allow[128] = "";
    for (size_t i = 0; i < N_ROUTES; i++) {
        int64_t id;
        if (!path_matches(routes[i].pattern, req.path, &id))
            continue;
        if (!strcmp(routes[i].method, req.method) ||
            (!strcmp(req.method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
            match = &routes[i];
            req.id = id;
            break;
        }
        if (!strstr(allow, routes[i].method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, sizeof allow - used, "%s%s%s", used ? ", " : "",
                     routes[i].method, strcmp(routes[i].method, "GET") ? "" : ", HEAD");
        }
    }
    int is_read = !strcmp(req.method, "GET") || !strcmp(req.method, "HEAD");
    const char *label = match ? match->metric : "other";
    if (!match && allow[0]) {
        http_problem(resp, 405, "%s is not allowed on %s", req.method, req.path);
        http_add_header(resp, "Allow", allow);
    } else if (app->token && !is_read && !token_ok(app->token, req.authorization)) {
        http_problem(resp, 401, "this server needs 'Authorization: Bearer <token>' for writes");
        http_add_header(resp, "WWW-Authenticate", "Bearer");
    } else if (match) {
        match->handler(&req, resp);
    } else if (is_read && app->static_dir) {
        label = "static";
        api_static(&req, resp);
    } else {
        http_problem(resp, 404, "no such resource: %s", req.path);
    }
    if (resp->status == 0)
        http_problem(resp, 500, "the handler produced no response");
    metrics_record(&app->metrics, label, match ? match->method : "other", resp->status,
                   now_seconds() - t0);
}

/* ---- metrics ----------------------------------------------------------------------------------
 */

int app_dataset_series(struct app *app, int64_t id, struct month_series *out, fw_error *err)
{
    return dataset_cache_get(app->datasets, app_db(app), id, out, err);
}

void app_dataset_forget(struct app *app, int64_t id)
{
    dataset_cache_forget(app->datasets, id);
}

void app_count_forecast(struct app *app)
{
    pthread_mutex_lock(&app->metrics.lock);
    app->metrics.forecasts++;
    pthread_mutex_unlock(&app->metrics.lock);
}

void app_count_epoch(struct app *app)
{
    pthread_mutex_lock(&app->metrics.lock);
    app->metrics.epochs++;
    pthread_mutex_unlock(&app->metrics.lock);
}

char *app_metrics_text(struct app *app, size_t *len)
{
    struct textbuf t = {0};
    struct metrics *mx = &app->metrics;
    pthread_mutex_lock(&mx->lock);
    textbuf_printf(&t, "# HELP fwpcast_http_requests_total HTTP requests by route and status.\n"
                       "# TYPE fwpcast_http_requests_total counter\n");
    for (size_t i = 0; i < mx->n_requests; i++)
        textbuf_printf(
            &t, "fwpcast_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
            mx->requests[i].route, mx->requests[i].method, mx->requests[i].status,
            mx->requests[i].count);
    textbuf_printf(&t,
                   "# HELP fwpcast_http_request_duration_seconds Time spent handling requests.\n"
                   "# TYPE fwpcast_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        cumulative += mx->bucket_counts[b];
        textbuf_printf(&t, "fwpcast_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       latency_buckets[b], cumulative);
    }
    cumulative += mx->bucket_counts[N_BUCKETS];
    textbuf_printf(&t, "fwpcast_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                   cumulative);
    textbuf_printf(&t, "fwpcast_http_request_duration_seconds_sum %.6f\n", mx->latency_sum);
    textbuf_printf(&t, "fwpcast_http_request_duration_seconds_count %llu\n", mx->latency_count);
    textbuf_printf(&t,
                   "# HELP fwpcast_forecasts_total Forecasts served.\n"
                   "# TYPE fwpcast_forecasts_total counter\nfwpcast_forecasts_total %llu\n",
                   mx->forecasts);
    textbuf_printf(
        &t,
        "# HELP fwpcast_training_epochs_total Training epochs completed.\n"
        "# TYPE fwpcast_training_epochs_total counter\nfwpcast_training_epochs_total %llu\n",
        mx->epochs);
    pthread_mutex_unlock(&mx->lock);
    int64_t counts[8] = {0};
    sqlite3 *db = app_db(app);
    if (db && store_job_count_by_state(db, counts, NULL) == FW_OK) {
        textbuf_printf(&t, "# HELP fwpcast_jobs Jobs by state.\n# TYPE fwpcast_jobs gauge\n");
        for (int s = STORE_JOB_QUEUED; s <= STORE_JOB_INTERRUPTED; s++)
            textbuf_printf(&t, "fwpcast_jobs{state=\"%s\"} %lld\n",
                           store_job_state_name((enum store_job_state)s), (long long)counts[s]);
    }
    textbuf_printf(&t,
                   "# HELP fwpcast_training_workers Training worker threads alive.\n"
                   "# TYPE fwpcast_training_workers gauge\nfwpcast_training_workers %d\n",
                   jobs_alive(app->jobs));
    return textbuf_take(&t, len);
}

int app_model_acquire(struct app *app, int64_t id, int64_t *resolved, struct forecaster **out,
                      fw_error *err)
{
    return model_cache_acquire(app->cache, app_db(app), id, resolved, out, err);
}

void app_model_release(struct app *app, int64_t id, struct forecaster *f)
{
    model_cache_release(app->cache, id, f);
}

void app_model_forget(struct app *app, int64_t id)
{
    model_cache_forget(app->cache, id);
}
