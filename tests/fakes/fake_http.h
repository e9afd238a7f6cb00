/*
 * fake_http — the HTTP core the fake clouds share (fake_ibm.c, fake_ionq.c): a real
 * libmicrohttpd server on 127.0.0.1 (port 0: the kernel picks one), request bodies collected up
 * to FAKE_HTTP_MAX_BODY (413 beyond), one lock for the fake's whole state, a request log, the
 * last job body, a queue of injected faults (an HTTP status with Retry-After, a truncated answer,
 * a slow answer, a dropped connection) and small answer helpers. Each fake keeps only its
 * provider's protocol: its routes, its error bodies, its jobs and what its log line says.
 *
 * A fake embeds a struct fake_http, fills its state, then calls fake_http_start with its routes;
 * every route, error and log callback runs with the lock held. fake_http_stop stops the server
 * and frees what the core holds (the struct itself is the fake's). Strings the core returns are
 * malloc'd copies owned by the caller. The tests include fake_ibm.c / fake_ionq.c and link this
 * file (the Makefile's FAKE_HTTP).
 */
#ifndef FW_FAKE_HTTP_H
#define FW_FAKE_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define FAKE_HTTP_MAX_BODY   (16 * 1024 * 1024)
#define FAKE_HTTP_MAX_FAULTS 32

#define FAKE_HTTP_ID_MAX 48

struct MHD_Connection;
struct MHD_Daemon;

/* The head of a fake's job struct: the core keeps the fake's jobs in creation order, finds them
 * by id and frees them at stop (routes.free_job). */
struct fake_http_job {
    char id[FAKE_HTTP_ID_MAX];
    int deleted; /* DELETE'd (or never shown): no longer found; freed at stop all the same */
};

struct fake_http_request {
    struct MHD_Connection *conn; /* for headers and query arguments */
    const char *method, *url;    /* url: the path, without the query */
    const char *body;            /* NUL-terminated, NULL when the request had none */
    size_t len;
};

struct fake_http_answer {
    int status;
    char *body;      /* malloc'd JSON text, or NULL for none */
    int retry_after; /* seconds for a Retry-After header; -1: none */
};

/* The faults the core serves; a fake's own kinds (jobs that fail, revoked tokens) come after. */
enum fake_http_fault_kind {
    FAKE_HTTP_STATUS,    /* answer `status` with the fake's error body (and Retry-After if >= 0) */
    FAKE_HTTP_MALFORMED, /* process the request, then send half of the answer */
    FAKE_HTTP_SLOW,      /* process the request, answer after delay_ms */
    FAKE_HTTP_DROP,      /* close the connection without answering */
    FAKE_HTTP_FAULT_KINDS
};

struct fake_http_fault {
    enum fake_http_fault_kind kind;
    int count;          /* matching requests it applies to */
    const char *method; /* NULL: any */
    const char *path;   /* a substring of the request path; NULL: any */
    int status;         /* FAKE_HTTP_STATUS */
    int retry_after;    /* FAKE_HTTP_STATUS: Retry-After seconds; -1: no header */
    int delay_ms;       /* FAKE_HTTP_SLOW */
};

struct fake_http_routes {
    void *ctx; /* the fake, passed back to each callback */
    /* The answer to a request. */
    struct fake_http_answer (*route)(void *ctx, const struct fake_http_request *rq);
    /* The fake's error answer, for injected statuses ("injected", "injected fault") and bodies
     * that are too large ("413", "the body is too large"). */
    struct fake_http_answer (*error)(void *ctx, int status, const char *code, const char *message);
    /* Logs an answered request with fake_http_log (never a key, token or CRN). */
    void (*log)(void *ctx, const struct fake_http_request *rq, const struct fake_http_answer *a,
                int truncated);
    /* Frees one of the fake's jobs (at stop). */
    void (*free_job)(struct fake_http_job *job);
    /* 1: an answer without a body goes out as "{}" with Content-Type (IonQ); 0: empty, and no
     * Content-Type (IBM's 204s). */
    int empty_as_json;
};

struct fake_http {
    struct fake_http_routes routes;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    int lock_ready;
    atomic_int stopping;
    struct fake_http_fault faults[FAKE_HTTP_MAX_FAULTS];
    char fault_method[FAKE_HTTP_MAX_FAULTS][16], fault_path[FAKE_HTTP_MAX_FAULTS][128];
    int n_faults;
    int requests, faults_served; /* under the lock */
    struct fake_http_job **jobs; /* the fake's, in creation order */
    int n_jobs, cap_jobs;
    char *last_body;
    char *log;
    size_t log_len, log_cap;
};

/* Starts the server on 127.0.0.1 with a port of the kernel's choosing (h->port). h must be
 * zeroed before its fake fills its own state. Returns 0, or -1 (h can still be stopped). */
int fake_http_start(struct fake_http *h, const struct fake_http_routes *routes);
/* Stops the server and frees the jobs, the core's log, last body and lock. A zeroed h is fine. */
void fake_http_stop(struct fake_http *h);

void fake_http_lock(struct fake_http *h);
void fake_http_unlock(struct fake_http *h);

/* Appends a line to the log (under the lock). */
void fake_http_log(struct fake_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps a copy of a job body for fake_http_last_body (under the lock). */
void fake_http_keep_body(struct fake_http *h, const char *body, size_t len);

/* Adds a job to the list (under the lock): 0, or -1 when out of memory (the job is not added). */
int fake_http_add_job(struct fake_http *h, struct fake_http_job *job);
/* A job by id that is not deleted, or NULL (under the lock). */
struct fake_http_job *fake_http_find_job(struct fake_http *h, const char *id);

/* A fake's fault struct, which has the members of struct fake_http_fault and the core's kinds
 * first, as one of the core's (a compound literal). */
#define FAKE_HTTP_FAULT_OF(fault)                                                                  \
    ((struct fake_http_fault){(enum fake_http_fault_kind)(fault)->kind, (fault)->count,            \
                              (fault)->method, (fault)->path, (fault)->status,                     \
                              (fault)->retry_after, (fault)->delay_ms})

/* Queues a fault (served in the order queued, each while its count lasts; at most
 * FAKE_HTTP_MAX_FAULTS waiting). Takes the lock. */
void fake_http_queue_fault(struct fake_http *h, const struct fake_http_fault *fault);

/* Copies (malloc'd; take the lock): every log line so far, and the last kept body (or NULL). */
char *fake_http_log_copy(struct fake_http *h);
char *fake_http_last_body(struct fake_http *h);

/* A JSON document as compact text (malloc'd, reals with 17 digits); the document is released. */
char *fake_http_dump(json_t *doc);

/* The monotonic clock, in seconds. */
double fake_http_now(void);

#endif
