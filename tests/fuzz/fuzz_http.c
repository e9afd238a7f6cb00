/*
 * fuzz_http — the HTTP API in-process, without sockets: app_handle (server/app.h) on requests
 * made from the input, against a real app on a temporary SQLite file holding the bundled data
 * and default model (FWPCAST_DATA, else data/) and the dashboard's static files (static/).
 *
 * Input: method, route, id, content type, auth and origin, a path suffix length and a query
 * length (one byte each), then the path suffix, the query (`k=v&k=v`) and the body. Route
 * numbers past the table make the path the suffix alone, so paths are free-form too (the route
 * matcher, static files). The path and the query's keys and values are percent-decoded by
 * http_unescape, as the server does before app_handle.
 *
 * Properties: no crash or sanitizer report; a status in 100..599; a body in JSON or problem+json
 * is JSON, and a problem's "status" is the response's.
 *
 * Training never runs: the app has no workers (POST /models and refit backtests queue a job that
 * stays queued; at most 4 are accepted), and quantum jobs likewise stay queued: the cloud keys
 * are set to fakes so that those requests get as far as queueing, and nothing is ever sent.
 * Writes change the database, so every RESET_EVERY inputs the app is rebuilt on a fresh copy of
 * the start-up one.
 */
#include "fuzz.h"
#include "server/app.h"
#include "server/http.h"

#include <jansson.h>
#include <unistd.h>

#define RESET_EVERY 500
#define TOKEN       "fuzz-token-0123456789"
#define ORIGIN      "https://lab.example.org"

static char template_db[512], work_db[512];
static struct app_config config;
static struct app *app;
static unsigned long inputs;
static int verbose;

static const char *const methods[] = {"GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS"};
static const char *const routes[] = {
    "/healthz",       "/metrics",
    "/datasets",      "/datasets/%s",
    "/models",        "/models/%s",
    "/models/import", "/models/%s/export",
    "/jobs/%s",       "/jobs/%s/resume",
    "/forecast",      "/backtest",
    "/compare",       "/",
    "/index.html",
};
static const char *const content_types[] = {
    NULL,
    "application/json",
    "text/csv",
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "text/xml",
    "application/json; charset=utf-8",
};
static const char *const ids[] = {"0", "-1", "99999999999999999", "1x", ""};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char chunk[65536];
    size_t got;
    if (!in || !out)
        abort();
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (fwrite(chunk, 1, got, out) != got)
            abort();
    fclose(in);
    if (fclose(out))
        abort();
}

static struct app *fresh_app(void)
{
    char side[600];
    snprintf(side, sizeof side, "%s-wal", work_db), unlink(side);
    snprintf(side, sizeof side, "%s-shm", work_db), unlink(side);
    copy_file(template_db, work_db);
    config.db_path = work_db;
    struct app *a = NULL;
    fw_error err = {0};
    if (app_create(&config, &a, &err)) {
        fprintf(stderr, "fuzz_http: app_create: %s\n", err.msg);
        abort();
    }
    return a;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    setenv("IONQ_API_KEY", "fuzz-not-a-key", 1);
    setenv("IBM_CLOUD_API_KEY", "fuzz-not-a-key", 1);
    setenv("IBM_QUANTUM_CRN", "crn:v1:bluemix:public:quantum-computing:us-east:a/fuzz:fuzz::", 1);
    unsetenv("FWPCAST_CREDENTIALS");
    char dir[] = "/tmp/fwpcast-fuzz-http-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(template_db, sizeof template_db, "%s/template.db", dir);
    snprintf(work_db, sizeof work_db, "%s/work.db", dir);
    const char *data_dir = getenv("FWPCAST_DATA");
    config = (struct app_config){.db_path = template_db,
                                 .data_dir = data_dir && *data_dir ? data_dir : "data",
                                 .static_dir = "static",
                                 .token = TOKEN,
                                 .cors_origins = ORIGIN,
                                 .workers = 0,
                                 .train_threads = 1,
                                 .max_queued_jobs = 4,
                                 .max_points = 100000,
                                 .max_epochs = 1,
                                 .quiet = 1};
    fw_error err = {0};
    if (app_create(&config, &app, &err)) { /* migrates, imports the bundled data */
        fprintf(stderr, "fuzz_http: app_create: %s\n", err.msg);
        abort();
    }
    app_destroy(app);
    app = fresh_app();
    return 0;
}

/* Splits "k=v&k=v" in place into the request's query (as libmicrohttpd hands it over). */
static void parse_query(char *query, struct http_request *req)
{
    for (char *item = query; *item && req->n_query < HTTP_MAX_QUERY;) {
        char *next = strchr(item, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (eq)
            *eq++ = '\0';
        http_unescape(item);
        if (eq)
            http_unescape(eq);
        req->query[req->n_query].key = item;
        req->query[req->n_query].value = eq ? eq : "";
        req->n_query++;
        item = next ? next : item + strlen(item);
    }
}

static void check_response(const struct http_response *resp)
{
    FUZZ_CHECK(resp->status >= 100 && resp->status <= 599);
    FUZZ_CHECK(resp->body || resp->body_len == 0);
    for (size_t i = 0; i < resp->n_headers; i++)
        FUZZ_CHECK(resp->headers[i].name && resp->headers[i].value);
    const char *ct = resp->content_type;
    int problem = ct && !strcmp(ct, "application/problem+json");
    if (!ct || (strcmp(ct, "application/json") && !problem))
        return;
    json_error_t jerr;
    json_t *doc = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, &jerr);
    if (!doc)
        fprintf(stderr, "response %d is not JSON (%s): %.*s\n", resp->status, jerr.text,
                (int)(resp->body_len < 400 ? resp->body_len : 400), resp->body);
    FUZZ_CHECK(doc != NULL);
    if (problem)
        FUZZ_CHECK(json_integer_value(json_object_get(doc, "status")) == resp->status &&
                   json_is_string(json_object_get(doc, "title")));
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++inputs % RESET_EVERY == 0) {
        app_destroy(app);
        app = fresh_app();
    }
    struct fuzz_input in = {data, size};
    uint8_t method = fuzz_byte(&in), route = fuzz_byte(&in), id = fuzz_byte(&in);
    uint8_t type = fuzz_byte(&in), who = fuzz_byte(&in);
    size_t suffix_len = fuzz_byte(&in), query_len = fuzz_byte(&in), body_len;
    char *suffix = fuzz_string(&in, suffix_len), *query = fuzz_string(&in, query_len);
    char *body = fuzz_rest(&in, &body_len);

    char id_text[24], path[600];
    if (id < 200)
        snprintf(id_text, sizeof id_text, "%u", id % 20 + 1u); /* the ids a fresh database has */
    else
        snprintf(id_text, sizeof id_text, "%s", ids[id % COUNT(ids)]);
    if (route < COUNT(routes)) {
        char base[64];
        snprintf(base, sizeof base, routes[route], id_text);
        snprintf(path, sizeof path, "%s%s", base, suffix);
    } else {
        snprintf(path, sizeof path, "%s", suffix);
    }
    http_unescape(path);
    static const char *const auths[] = {NULL, "Bearer wrong", "Bearer " TOKEN, "Bearer " TOKEN};
    static const char *const origins[] = {NULL, ORIGIN, "https://evil.example", "null"};
    struct http_request req = {.method = methods[method % COUNT(methods)],
                               .path = path,
                               .content_type = content_types[type % COUNT(content_types)],
                               .authorization = auths[who & 3],
                               .origin = origins[(who >> 2) & 3],
                               .body = body,
                               .body_len = body_len};
    parse_query(query, &req);
    struct http_response resp = {0};
    app_handle(app, &req, &resp);
    if (verbose) /* FUZZ_VERBOSE=1: what each input asked and got (to check the seeds) */
        fprintf(stderr, "%s %s (%zu query, %zu bytes) -> %d %.*s\n", req.method, req.path,
                req.n_query, body_len, resp.status, resp.status >= 400 ? 160 : 60,
                resp.body ? resp.body : "");
    check_response(&resp);
    http_response_free(&resp);
    free(suffix), free(query), free(body);
    return 0;
}
