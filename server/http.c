/* http — libmicrohttpd front end and response helpers (see http.h). */
#include "server/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler handler;
    void *ctx;
    struct http_config cfg;
    int port;
};

/* Per-request state, from the first callback to the completion callback. */
struct request_state {
    char *body;
    size_t len, cap;
    int too_big;
    int answered;
    int status;
    size_t bytes_out;
    double started;
    char method[16];
    char path[256];
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *http_query(const struct http_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (!strcmp(req->query[i].key, key))
            return req->query[i].value;
    return NULL;
}

/* The answer when there is no memory left to write one: a static body, never freed. */
static const char out_of_memory[] = "{\"type\":\"about:blank\",\"title\":\"Internal Server "
                                    "Error\",\"status\":500,\"detail\":\"out of memory\"}";

static void free_body(struct http_response *resp)
{
    if (resp->body != out_of_memory)
        free(resp->body);
}

static void respond_out_of_memory(struct http_response *resp)
{
    free_body(resp);
    resp->status = 500;
    resp->content_type = "application/problem+json";
    resp->body = (char *)out_of_memory;
    resp->body_len = sizeof out_of_memory - 1;
}

int http_respond(struct http_response *resp, int status, const char *content_type, const char *body,
                 size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        respond_out_of_memory(resp);
        return FW_ENOMEM;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    http_respond_owned(resp, status, content_type, copy, len);
    return FW_OK;
}

void http_respond_owned(struct http_response *resp, int status, const char *content_type,
                        char *body, size_t len)
{
    free_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = len;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Error";
    }
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not one. */
static size_t utf8_sequence(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    /* 0xf5..0xff start no sequence (they would encode beyond U+10FFFF) */
    size_t n = p[0] >= 0xf5 ? 0 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return n;
}

/* JSON string escaping for the problem document (no jansson needed for this one shape). Bytes
 * that are not valid UTF-8 (a detail may quote a client's path or key) become U+FFFD, so the
 * document is always valid JSON. */
static size_t json_escape(char *out, size_t size, const char *in)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && o + 8 < size) {
        size_t n = utf8_sequence(p);
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p++;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", *p++);
        } else if (n == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            p++;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    out[o] = '\0';
    return o;
}

int http_problem(struct http_response *resp, int status, const char *fmt, ...)
{
    char detail[1024], escaped[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_escape(escaped, sizeof escaped, detail);
    char *body = malloc(sizeof escaped + 256);
    if (!body) {
        respond_out_of_memory(resp);
        return resp->status;
    }
    int len =
        snprintf(body, sizeof escaped + 256,
                 "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}",
                 http_reason(status), status, escaped);
    http_respond_owned(resp, status, "application/problem+json", body, (size_t)len);
    return status;
}

int http_add_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->n_headers == HTTP_MAX_HEADERS)
        return FW_ERANGE;
    char *copy = strdup(value);
    if (!copy) {
        respond_out_of_memory(resp);
        return FW_ENOMEM;
    }
    resp->headers[resp->n_headers].name = name;
    resp->headers[resp->n_headers].value = copy;
    resp->n_headers++;
    return FW_OK;
}

void http_drop_headers(struct http_response *resp, size_t keep)
{
    while (resp->n_headers > keep)
        free(resp->headers[--resp->n_headers].value);
}

void http_response_free(struct http_response *resp)
{
    if (!resp)
        return;
    free_body(resp);
    for (size_t i = 0; i < resp->n_headers; i++)
        free(resp->headers[i].value);
    memset(resp, 0, sizeof *resp);
}

/* ---- libmicrohttpd glue ---------------------------------------------------------------------- */

struct query_collector {
    struct http_request *req;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct http_request *req = cls;
    if (req->n_query < HTTP_MAX_QUERY && key) {
        req->query[req->n_query].key = key;
        req->query[req->n_query].value = value ? value : "";
        req->n_query++;
    }
    return MHD_YES;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

void http_log_escape(char *out, size_t size, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (; *s && k + 4 <= size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '%' || c >= 0x80) {
            out[k++] = '%';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        } else {
            out[k++] = (char)c;
        }
    }
    if (size)
        out[k < size ? k : size - 1] = '\0';
}

size_t http_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2]) &&
            !(r[1] == '0' && r[2] == '0')) {
            *w++ = (char)(hex_value(r[1]) * 16 + hex_value(r[2]));
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls, (void)conn;
    return http_unescape(s);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct request_state *st,
                                     struct http_response *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (char *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    st->status = resp->status;
    st->bytes_out = resp->body_len;
    st->answered = 1;
    return ret;
}

static enum MHD_Result send_problem(struct MHD_Connection *conn, struct request_state *st,
                                    int status, const char *detail)
{
    struct http_response resp = {0};
    http_problem(&resp, status, "%s", detail);
    enum MHD_Result ret = send_response(conn, st, &resp);
    http_response_free(&resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *srv = cls;
    struct request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->started = now_seconds();
        http_log_escape(st->method, sizeof st->method, method);
        http_log_escape(st->path, sizeof st->path, url);
        *con_cls = st;
        /* refuse a declared oversize body before reading any of it */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body) {
            char detail[128];
            snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes",
                     srv->cfg.max_body);
            return send_problem(conn, st, 413, detail);
        }
        return MHD_YES;
    }
    if (st->answered) {
        *upload_data_size = 0; /* discard the rest of a refused upload */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_big || st->len + n > srv->cfg.max_body) {
            st->too_big = 1;
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 4096;
            while (cap < st->len + n + 1)
                cap *= 2;
            char *grown = realloc(st->body, cap);
            if (!grown)
                return MHD_NO;
            st->body = grown;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = '\0';
        return MHD_YES;
    }
    if (st->too_big) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes",
                 srv->cfg.max_body);
        return send_problem(conn, st, 413, detail);
    }

    struct http_request req = {0};
    req.method = method;
    req.path = url;
    req.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req.origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    req.body = st->body ? st->body : "";
    req.body_len = st->len;
    req.ctx = srv->ctx;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &req);
    struct http_response resp = {0};
    srv->handler(srv->ctx, &req, &resp);
    enum MHD_Result ret = send_response(conn, st, &resp);
    http_response_free(&resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct http_server *srv = cls;
    struct request_state *st = *con_cls;
    if (!st)
        return;
    double ms = 1e3 * (now_seconds() - st->started);
    if (st->answered) {
        if (!srv->cfg.quiet)
            fprintf(stderr, "%s %s %d %zu %.1fms\n", st->method, st->path, st->status,
                    st->bytes_out, ms);
    } else if (!srv->cfg.quiet) {
        fprintf(stderr, "%s %s closed before a response (%s) %.1fms\n", st->method, st->path,
                toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" : "aborted", ms);
    }
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int http_server_start(const struct http_config *cfg, http_handler handler, void *ctx,
                      struct http_server **out, fw_error *err)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1)
        return fw_error_set(err, FW_EINVAL, "--bind '%s' is not an IPv4 address", cfg->bind);
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return FW_ENOMEM;
    srv->handler = handler;
    srv->ctx = ctx;
    srv->cfg = *cfg;
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : 2;
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!srv->daemon) {
        free(srv);
        return fw_error_set(err, FW_EIO, "cannot listen on %s:%d (in use, or not allowed)",
                            cfg->bind, cfg->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    *out = srv;
    return FW_OK;
}

int http_server_port(const struct http_server *srv)
{
    return srv->port;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    free(srv);
}
