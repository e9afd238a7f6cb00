/* router — the route table, CORS and bearer-token auth in front of the handlers (see app.h). */
#include "server/api.h"
#include "server/app.h"
#include "server/metrics.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
    {"GET", "/hindcasts", api_hindcasts, "hindcasts"},
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

/* Constant-time comparison of the bearer token. */
static int token_ok(const char *expected, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncasecmp(header, prefix, sizeof prefix - 1)) /* RFC 7235: any case */
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
    if (cors_allowed(app_config(app)->cors_origins, in->origin)) {
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
    const char *token = app_config(app)->token;
    const char *label = match ? match->metric : "other";
    if (!match && allow[0]) {
        http_problem(resp, 405, "%s is not allowed on %s", req.method, req.path);
        http_add_header(resp, "Allow", allow);
    } else if (token && !is_read && !token_ok(token, req.authorization)) {
        http_problem(resp, 401, "this server needs 'Authorization: Bearer <token>' for writes");
        http_add_header(resp, "WWW-Authenticate", "Bearer");
    } else if (match) {
        match->handler(&req, resp);
    } else if (is_read && app_config(app)->static_dir) {
        label = "static";
        api_static(&req, resp);
    } else {
        http_problem(resp, 404, "no such resource: %s", req.path);
    }
    if (resp->status == 0)
        http_problem(resp, 500, "the handler produced no response");
    metrics_record(app_metrics(app), label, match ? match->method : "other", resp->status,
                   now_seconds() - t0);
}
