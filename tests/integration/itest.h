/*
 * itest — helpers for the integration tests: a real `$FWPCAST_BIN serve` child process on
 * 127.0.0.1 (a free port, a fresh temporary directory holding its SQLite file and its log), a
 * libcurl client, raw TCP sockets for what curl will not do, and jansson helpers.
 *
 * Every server started is registered: one a failed test leaves behind is killed at exit (and the
 * kernel kills it if the test process dies: PR_SET_PDEATHSIG). Helpers that check something fail
 * the current cmocka test with a message naming the request and quoting the response.
 *
 * Environment: FWPCAST_BIN (the binary under test, required), FWPCAST_ROOT (the project root,
 * for data/), ITEST_SLOW (a factor for every wait; defaults to 4 for a binary in an asan/
 * directory), ITEST_KEEP=1 (keep the temporary directories).
 */
#ifndef FW_ITEST_H
#define FW_ITEST_H

#include "testutil.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ITS_MAX_ARGS 24
#define ITS_MAX_ENV  8

struct itest_server {
    pid_t pid;         /* 0 when not running */
    int port;          /* of the current run */
    char *dir;         /* temporary directory: the working directory, DB and log */
    char *db_path;     /* dir/fwpcast.db */
    char *log_path;    /* dir/server.log: stdout and stderr of every run, appended */
    char *data_dir;    /* --data */
    const char *token; /* sent as a Bearer token by the it_* helpers (borrowed), or NULL */
    char *args[ITS_MAX_ARGS];
    int n_args;
    char *env[ITS_MAX_ENV];
    int n_env;
    int starts;
};

/* The wait factor: 1 normally, more under sanitizers (see above). */
double it_slow(void);
/* Monotonic seconds. */
double it_now(void);
/* Sleeps for ms milliseconds. */
void it_sleep_ms(long ms);

/*
 * Starts `$FWPCAST_BIN serve --bind 127.0.0.1 --port P --db DIR/fwpcast.db --data ROOT/data
 * --train-threads 1 --quiet` followed by args (NULL-terminated, may be NULL: later flags win)
 * with the extra environment entries env ("NAME=value", NULL-terminated, may be NULL); every
 * other FWPCAST_* variable is removed from the child's environment. Returns once GET /healthz
 * answers 200; fails the test (quoting the server's log) if it does not within 20 s.
 */
struct itest_server *its_start(const char *const *args, const char *const *env);
/* Starts it again on the same directory and database (a new port). */
void its_restart(struct itest_server *s);
/* Sends sig and waits (up to 30 s * it_slow()) for the process; returns its wait status, or -1
 * if it did not end (it is then killed). */
int its_signal_wait(struct itest_server *s, int sig);
/* SIGTERM, and checks the process exited with status 0 (a clean stop). */
void its_stop(struct itest_server *s);
/* SIGKILL: a crash. */
void its_kill(struct itest_server *s);
/* Kills it if running, removes the directory (unless ITEST_KEEP=1) and frees. NULL is fine. */
void its_free(struct itest_server *s);
/* The server's log so far (malloc'd; "" if none). */
char *its_log(const struct itest_server *s);
/* Resident set size of the server process in kB (VmRSS), or -1. */
long its_rss_kb(const struct itest_server *s);

/* ---- HTTP client ---------------------------------------------------------------------------- */

struct it_req {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* "/datasets?name=x" */
    const char *content_type; /* NULL: no Content-Type header at all */
    const void *body;         /* NULL: no body (and no Content-Length) */
    size_t len;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, may be NULL */
    int no_auth;                /* do not send the server's token */
    int no_expect;              /* suppress curl's "Expect: 100-continue" */
    size_t gen_len;             /* > 0: a generated body of gen_len spaces, streamed */
    int gen_chunked;            /* the generated body is sent chunked, without Content-Length */
    long timeout_s;             /* 0: 60 s * it_slow() */
    CURL *curl;                 /* a handle to reuse (keep-alive), or NULL for a fresh one */
};

struct it_resp {
    long status; /* 0 if no response arrived (a response read before an error counts) */
    CURLcode rc;
    char *body; /* NUL-terminated */
    size_t len;
    char *location, *allow, *content_type, *www_authenticate, *content_disposition, *retry_after;
    char *csp, *nosniff; /* Content-Security-Policy, X-Content-Type-Options */
    char *acao, *acam;   /* Access-Control-Allow-Origin, -Allow-Methods */
    char what[160];      /* "METHOD path", for messages */
};

/* Performs a request; never fails the test by itself. */
void it_do(struct itest_server *s, const struct it_req *rq, struct it_resp *out);
void it_resp_free(struct it_resp *r);

/* Shorthands. */
void it_get(struct itest_server *s, const char *path, struct it_resp *out);
void it_delete(struct itest_server *s, const char *path, struct it_resp *out);
/* POST a JSON text (Content-Type: application/json). */
void it_post_json(struct itest_server *s, const char *path, const char *json, struct it_resp *out);
/* POST bytes with a content type (NULL: none). */
void it_post(struct itest_server *s, const char *path, const char *content_type, const void *body,
             size_t len, struct it_resp *out);

/* Fails the test unless r->status == status (printing the request and the response). */
#define IT_STATUS(r, st) it_expect_status_((r), (st), __FILE__, __LINE__)
void it_expect_status_(const struct it_resp *r, long status, const char *file, int line);
/* Checks status and an application/problem+json body {type,title,status,detail}. */
#define IT_PROBLEM(r, st) it_expect_problem_((r), (st), __FILE__, __LINE__)
void it_expect_problem_(const struct it_resp *r, long status, const char *file, int line);
/* Checks a 4xx problem whose status is one of a (0-terminated) list. */
#define IT_PROBLEM_ANY(r, ...) it_expect_problem_any_((r), __FILE__, __LINE__, __VA_ARGS__, 0L)
void it_expect_problem_any_(const struct it_resp *r, const char *file, int line, ...);

/* The body parsed as JSON (fails the test if it is not). Caller decrefs. */
#define IT_JSON(r) it_json_((r), __FILE__, __LINE__)
json_t *it_json_(const struct it_resp *r, const char *file, int line);
/* GET path, check 200 and return the JSON body. */
#define IT_GET_JSON(s, path) it_get_json_((s), (path), __FILE__, __LINE__)
json_t *it_get_json_(struct itest_server *s, const char *path, const char *file, int line);

/* Members, failing the test when absent or of the wrong type. */
#define JS(o, k) it_js_((o), (k), __FILE__, __LINE__)
#define JI(o, k) it_ji_((o), (k), __FILE__, __LINE__)
#define JD(o, k) it_jd_((o), (k), __FILE__, __LINE__)
#define JA(o, k) it_ja_((o), (k), __FILE__, __LINE__)
#define JO(o, k) it_jo_((o), (k), __FILE__, __LINE__)
const char *it_js_(const json_t *o, const char *key, const char *file, int line);
json_int_t it_ji_(const json_t *o, const char *key, const char *file, int line);
double it_jd_(const json_t *o, const char *key, const char *file, int line);
json_t *it_ja_(const json_t *o, const char *key, const char *file, int line);
json_t *it_jo_(const json_t *o, const char *key, const char *file, int line);

/* ---- API helpers ---------------------------------------------------------------------------- */

/* The tiny model configuration every test trains (a few hundred parameters). */
#define IT_TINY_CONFIG "\"config\":{\"slow_dim\":3,\"hidden\":4,\"fast_in\":2,\"fast_out\":3}"

/* POST /models on dataset 1 with the tiny config, window, horizon 6 and epochs, plus extra
 * members (",..." text or ""); checks 202 + Location /jobs/{id}; returns the job id. */
int64_t it_train_start(struct itest_server *s, int window, int epochs, const char *extra);
/* GET /jobs/{id} (checked 200). Caller decrefs. */
json_t *it_job(struct itest_server *s, int64_t id);
/* Polls GET /jobs/{id} every 20 ms until its state is final (succeeded, failed, cancelled,
 * interrupted) or until pred(job, arg) is true (pred may be NULL); fails the test after
 * timeout_s * it_slow() seconds. Returns the last job JSON. */
json_t *it_job_wait(struct itest_server *s, int64_t id, int (*pred)(const json_t *, void *),
                    void *arg, double timeout_s);
/* Trains a tiny model (window 24) to completion and returns its model id. */
int64_t it_train_tiny(struct itest_server *s, int epochs);
/* The id of the default model, or 0 when GET /models shows none. */
int64_t it_default_model(struct itest_server *s);
/* Number of models (GET /models). */
size_t it_model_count(struct itest_server *s);

/* A snapshot of the state a bad request must not change: GET /datasets, GET /models and the
 * jobs-by-state gauges of /metrics. malloc'd. */
char *it_snapshot(struct itest_server *s);
/* Waits (up to timeout_s * it_slow()) until no job is queued or running, so that a job a
 * failed check let through does not disturb the next test. Returns 0, or -1 on timeout. */
int it_wait_jobs_idle(struct itest_server *s, double timeout_s);
/* The value of a /metrics sample (its exact name with labels), or NAN if absent. */
double it_metric(const char *metrics_text, const char *sample);

/* ---- raw sockets ---------------------------------------------------------------------------- */

/* A TCP connection to the server (fails the test if it cannot connect). */
int it_raw_connect(const struct itest_server *s);
/* Sends everything (MSG_NOSIGNAL); returns 0, or -1 when the peer has gone. */
int it_raw_send(int fd, const void *data, size_t len);
/* Reads a response's status line within timeout_s; returns the status, or -1. */
int it_raw_status(int fd, double timeout_s);
/* Waits until the peer closes (EOF or reset) within timeout_s, discarding what it sends;
 * returns the seconds it took, or -1 if it is still open. */
double it_raw_wait_closed(int fd, double timeout_s);

#endif
