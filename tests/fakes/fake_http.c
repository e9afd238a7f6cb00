/* fake_http — the fakes' shared HTTP core on 127.0.0.1 (see fake_http.h). The server, the fault
 * queue and the log are the core's; the struct and everything a route allocates are the fake's. */
#include "fake_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A request's body as it arrives. */
struct conn_body {
    char *body;
    size_t len, cap;
    int too_big;
};

void fake_http_lock(struct fake_http *h)
{
    pthread_mutex_lock(&h->lock);
}

void fake_http_unlock(struct fake_http *h)
{
    pthread_mutex_unlock(&h->lock);
}

void fake_http_log(struct fake_http *h, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = strlen(line);
    if (h->log_len + len + 2 > h->log_cap) {
        size_t cap = h->log_cap ? h->log_cap * 2 : 8192;
        while (cap < h->log_len + len + 2)
            cap *= 2;
        char *grown = realloc(h->log, cap);
        if (!grown)
            return;
        h->log = grown;
        h->log_cap = cap;
    }
    memcpy(h->log + h->log_len, line, len);
    h->log_len += len;
    h->log[h->log_len++] = '\n';
    h->log[h->log_len] = '\0';
}

void fake_http_keep_body(struct fake_http *h, const char *body, size_t len)
{
    free(h->last_body);
    h->last_body = strndup(body ? body : "", len);
}

char *fake_http_dump(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return text;
}

int fake_http_add_job(struct fake_http *h, struct fake_http_job *job)
{
    if (h->n_jobs == h->cap_jobs) {
        int cap = h->cap_jobs ? 2 * h->cap_jobs : 64;
        struct fake_http_job **grown = realloc(h->jobs, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        h->jobs = grown;
        h->cap_jobs = cap;
    }
    h->jobs[h->n_jobs++] = job;
    return 0;
}

struct fake_http_job *fake_http_find_job(struct fake_http *h, const char *id)
{
    for (int i = 0; i < h->n_jobs; i++)
        if (!h->jobs[i]->deleted && !strcmp(h->jobs[i]->id, id))
            return h->jobs[i];
    return NULL;
}

double fake_http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- faults -------------------------------------------------------------------------------- */

void fake_http_queue_fault(struct fake_http *h, const struct fake_http_fault *fault)
{
    fake_http_lock(h);
    if (h->n_faults < FAKE_HTTP_MAX_FAULTS) {
        int i = h->n_faults++;
        h->faults[i] = *fault;
        snprintf(h->fault_method[i], sizeof h->fault_method[i], "%s",
                 fault->method ? fault->method : "");
        snprintf(h->fault_path[i], sizeof h->fault_path[i], "%s", fault->path ? fault->path : "");
        h->faults[i].method = fault->method ? h->fault_method[i] : NULL;
        h->faults[i].path = fault->path ? h->fault_path[i] : NULL;
    }
    fake_http_unlock(h);
}

/* The first queued fault matching this request, consumed; -1 when none (under the lock). */
static int take_fault(struct fake_http *h, const char *method, const char *path,
                      struct fake_http_fault *out)
{
    for (int i = 0; i < h->n_faults; i++) {
        struct fake_http_fault *q = &h->faults[i];
        if (q->count <= 0)
            continue;
        if (q->method && strcmp(q->method, method))
            continue;
        if (q->path && !strstr(path, q->path))
            continue;
        *out = *q;
        if (--q->count == 0) {
            memmove(&h->faults[i], &h->faults[i + 1],
                    (size_t)(h->n_faults - i - 1) * sizeof h->faults[0]);
            memmove(h->fault_method[i], h->fault_method[i + 1],
                    (size_t)(h->n_faults - i - 1) * sizeof h->fault_method[0]);
            memmove(h->fault_path[i], h->fault_path[i + 1],
                    (size_t)(h->n_faults - i - 1) * sizeof h->fault_path[0]);
            h->n_faults--;
            for (int k = 0; k < h->n_faults; k++) { /* re-point the copied strings */
                h->faults[k].method = h->fault_method[k][0] ? h->fault_method[k] : NULL;
                h->faults[k].path = h->fault_path[k][0] ? h->fault_path[k] : NULL;
            }
        }
        h->faults_served++;
        return 0;
    }
    return -1;
}

static void sleep_ms(struct fake_http *h, int ms)
{
    for (int waited = 0; waited < ms && !atomic_load(&h->stopping); waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- the server ---------------------------------------------------------------------------- */

static enum MHD_Result send_answer(struct fake_http *h, struct MHD_Connection *conn,
                                   const struct fake_http_answer *a, size_t truncate_to)
{
    const char *body = a->body ? a->body : h->routes.empty_as_json ? "{}" : "";
    size_t len = strlen(body);
    if (truncate_to && truncate_to < len)
        len = truncate_to;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (a->body || h->routes.empty_as_json)
        MHD_add_response_header(r, "Content-Type", "application/json");
    if (a->retry_after >= 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", a->retry_after);
        MHD_add_response_header(r, "Retry-After", v);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)a->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Appends an upload chunk to the request's body; 0, or -1 when out of memory. */
static int collect(struct conn_body *c, const char *data, size_t size)
{
    if (c->len + size > FAKE_HTTP_MAX_BODY) {
        c->too_big = 1;
        return 0;
    }
    if (c->len + size + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + size + 1)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown)
            return -1;
        c->body = grown;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, size);
    c->len += size;
    c->body[c->len] = '\0';
    return 0;
}

/* The answer to a whole request, under the lock: an injected status, 413, or the fake's route. */
static struct fake_http_answer answer(struct fake_http *h, const struct fake_http_request *rq,
                                      const struct conn_body *c,
                                      const struct fake_http_fault *fault)
{
    struct fake_http_answer a;
    fake_http_lock(h);
    if (fault && fault->kind == FAKE_HTTP_STATUS) {
        a = h->routes.error(h->routes.ctx, fault->status, "injected", "injected fault");
        a.retry_after = fault->retry_after;
    } else if (c->too_big) {
        a = h->routes.error(h->routes.ctx, 413, "413", "the body is too large");
    } else {
        a = h->routes.route(h->routes.ctx, rq);
    }
    h->routes.log(h->routes.ctx, rq, &a, fault && fault->kind == FAKE_HTTP_MALFORMED);
    fake_http_unlock(h);
    return a;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct fake_http *h = cls;
    struct conn_body *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (collect(c, upload_data, *upload_data_size))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct fake_http_fault fault = {0};
    fake_http_lock(h);
    h->requests++;
    int faulted = take_fault(h, method, url, &fault) == 0;
    if (faulted && fault.kind == FAKE_HTTP_DROP)
        fake_http_log(h, "%s %s -> dropped", method, url);
    fake_http_unlock(h);
    if (faulted && fault.kind == FAKE_HTTP_DROP)
        return MHD_NO;
    struct fake_http_request rq = {conn, method, url, c->body, c->len};
    struct fake_http_answer a = answer(h, &rq, c, faulted ? &fault : NULL);
    if (faulted && fault.kind == FAKE_HTTP_SLOW) /* processed, but the answer is late */
        sleep_ms(h, fault.delay_ms);
    size_t cut = 0;
    if (faulted && fault.kind == FAKE_HTTP_MALFORMED)
        cut = a.body && strlen(a.body) > 2 ? strlen(a.body) / 2 : 1;
    enum MHD_Result ret = send_answer(h, conn, &a, cut);
    free(a.body);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct conn_body *c = *con_cls;
    if (c) {
        free(c->body);
        free(c);
        *con_cls = NULL;
    }
}

int fake_http_start(struct fake_http *h, const struct fake_http_routes *routes)
{
    h->routes = *routes;
    if (pthread_mutex_init(&h->lock, NULL))
        return -1;
    h->lock_ready = 1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                                 NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed,
                                 h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!h->daemon)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h->port ? 0 : -1;
}

void fake_http_stop(struct fake_http *h)
{
    atomic_store(&h->stopping, 1);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
    for (int i = 0; i < h->n_jobs; i++)
        h->routes.free_job(h->jobs[i]);
    free(h->jobs);
    h->jobs = NULL;
    h->n_jobs = h->cap_jobs = 0;
    free(h->last_body);
    free(h->log);
    h->last_body = h->log = NULL;
    if (h->lock_ready)
        pthread_mutex_destroy(&h->lock);
    h->lock_ready = 0;
}

char *fake_http_log_copy(struct fake_http *h)
{
    fake_http_lock(h);
    char *copy = strdup(h->log ? h->log : "");
    fake_http_unlock(h);
    return copy;
}

char *fake_http_last_body(struct fake_http *h)
{
    fake_http_lock(h);
    char *copy = h->last_body ? strdup(h->last_body) : NULL;
    fake_http_unlock(h);
    return copy;
}
