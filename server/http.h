/*
 * http — the HTTP front end on libmicrohttpd, and the request/response types every handler
 * sees. The daemon runs an internal thread pool; a request's state is allocated on its first
 * callback and freed in the completion callback; bodies are capped (413), headers and URLs
 * bounded by libmicrohttpd's connection memory limit; every request is logged as one line
 * (method, path, status, bytes, ms). Handlers are plain functions of (request) -> response, so
 * they can also be called in-process (tests, fuzzers) without a socket.
 *
 * Ownership: a request borrows everything it points to; a response owns its body (malloc'd) and
 * its extra header values until http_response_free. Out of memory, a response still is a complete
 * answer: a 500 problem whose body is static (the free functions here know it; nothing else may
 * free a response's body).
 */
#ifndef FW_HTTP_H
#define FW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define HTTP_MAX_QUERY   16
#define HTTP_MAX_HEADERS 8

struct http_request {
    const char *method;
    const char *path;          /* without the query string */
    const char *content_type;  /* NULL if none */
    const char *authorization; /* NULL if none */
    const char *origin;        /* the Origin header (CORS), NULL if none */
    const char *body;
    size_t body_len;
    size_t n_query;
    struct {
        const char *key, *value;
    } query[HTTP_MAX_QUERY];
    int64_t id; /* the {id} of the matched route, 0 if none */
    void *ctx;  /* the handler's context (http_server_start) */
};

struct http_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned */
    size_t body_len;
    size_t n_headers;
    struct {
        const char *name; /* static string */
        char *value;      /* owned */
    } headers[HTTP_MAX_HEADERS];
};

/* The value of a query parameter, or NULL. */
const char *http_query(const struct http_request *req, const char *key);

/* Sets a response body (copied) and content type. Returns 0, or FW_ENOMEM with resp a 500
 * problem. */
int http_respond(struct http_response *resp, int status, const char *content_type, const char *body,
                 size_t len);
/* Takes ownership of a malloc'd body. */
void http_respond_owned(struct http_response *resp, int status, const char *content_type,
                        char *body, size_t len);
/* application/problem+json {type, title, status, detail}; returns status (500, "out of memory",
 * when there is no memory for the document). */
int http_problem(struct http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a header (value copied). Returns 0, FW_ERANGE past HTTP_MAX_HEADERS, or FW_ENOMEM with
 * resp a 500 problem. */
int http_add_header(struct http_response *resp, const char *name, const char *value);
/* Removes the headers added after the first `keep` (a failed answer drops a success's). */
void http_drop_headers(struct http_response *resp, size_t keep);
void http_response_free(struct http_response *resp);

/* Percent-decodes s in place, as the server does to the path and the query arguments before a
 * handler sees them: MHD's own decoding, except that %00 stays as it is (a decoded NUL would cut
 * the string: "/index.html%00.js" would name index.html; kept literal, it names nothing).
 * Returns the new length. Exposed for tests. */
size_t http_unescape(char *s);

/* Copies s into out (size bytes, NUL-terminated, cut if longer) for a log line: control bytes,
 * DEL, '%' and non-ASCII bytes become %XX, so a decoded path cannot end the line early, forge
 * another one or carry terminal escapes. */
void http_log_escape(char *out, size_t size, const char *s);

/* The standard reason phrase for a status code ("Not Found"). */
const char *http_reason(int status);

struct http_config {
    const char *bind;    /* address to listen on, e.g. "127.0.0.1" or "0.0.0.0" */
    int port;            /* 0: any free port (tests) */
    int threads;         /* request threads */
    size_t max_body;     /* bytes */
    int timeout_seconds; /* an idle or slow connection is closed after this */
    int quiet;           /* no request log */
};

struct http_server;

/* What answers a request: fills resp (which it then owns) from req, which it borrows; ctx is the
 * one given to http_server_start (and is also req->ctx). Called on the request threads, so it
 * must be thread-safe; it never fails (errors are problem+json responses). */
typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);

/* Starts listening; every request goes to handler(ctx, ...). The server knows nothing else of
 * what serves the requests. */
int http_server_start(const struct http_config *cfg, http_handler handler, void *ctx,
                      struct http_server **out, fw_error *err);
/* The port actually bound. */
int http_server_port(const struct http_server *srv);
/* Closes the listening socket, lets the request threads finish the handlers they are in, closes
 * every connection and frees the server. (No separate MHD_quiesce_daemon first: with a thread
 * pool and epoll, libmicrohttpd 0.9.75 races its workers removing the listening socket from their
 * epoll sets and aborts with "Failed to remove listen FD from epoll set", seen once at SIGTERM.) */
void http_server_stop(struct http_server *srv);

#endif
