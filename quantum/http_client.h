/*
 * http_client — hc_*, the small libcurl helper the cloud backends (ionq, ibm) share: one HTTP
 * exchange with a per-request timeout and a size cap on the response, and a retry loop that backs
 * off exponentially on the status codes a provider calls transient, honouring Retry-After.
 *
 * Requests are plain values owned by the caller; a response's body is malloc'd and owned by the
 * caller until hc_response_free. Error messages name the method, the URL's path and the
 * status, never a header or a request body (those carry credentials).
 */
#ifndef FW_HTTP_CLIENT_H
#define FW_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

/* The largest response body accepted (an IBM result of 10^7 hex samples is ~70 MB). */
#define HC_MAX_BODY ((size_t)256 * 1024 * 1024)

struct hc_request {
    const char *method;         /* "GET", "POST", "PUT", "DELETE" */
    const char *url;            /* absolute */
    const char *const *headers; /* "Name: value" lines, n_headers of them */
    size_t n_headers;
    const char *body; /* may be NULL (no body) */
    size_t body_len;
    long timeout_seconds; /* the whole exchange; <= 0: 30 */
};

struct hc_response {
    long status;        /* 0 when no HTTP answer came (transport error) */
    char *body;         /* NUL-terminated; never NULL after a successful hc_send */
    size_t len;         /* body length without the NUL */
    long retry_after;   /* seconds from a Retry-After header, -1 when absent */
    int transport_code; /* the CURLcode of a failed exchange, 0 otherwise */
    json_t *json;       /* the parsed 2xx body when the retry policy asked for JSON (owned by
                           the response), else NULL */
};

/* Which failures a retry loop may repeat. */
struct hc_retry {
    int max_attempts;         /* including the first; <= 0: 5 */
    double base_seconds;      /* first back-off; < 0: 1 s. Doubles each attempt */
    double max_delay_seconds; /* cap of one back-off and of an honoured Retry-After; <= 0: 60 */
    const int *statuses;      /* HTTP statuses worth repeating */
    size_t n_statuses;
    /* 1: also repeat a transport failure (timeout, reset, empty reply) and an unparseable JSON
     * body. Only safe for requests that change nothing (GET) or are idempotent (cancel). A
     * request that may create something is repeated only when the connection was refused. */
    int idempotent;
    int json; /* 1: parse a 2xx body as JSON into resp->json; an unparseable one is a failure
                 (repeated when idempotent, else FW_EIO) */
};

/* Calls curl_global_init once (thread-safe). */
void hc_global_init(void);

/* One exchange. Returns 0 with *resp filled (any HTTP status) or FW_EIO (no answer: resp->status
 * is 0 and resp->transport_code says why; resp->body is then NULL) or FW_ETOOBIG/FW_ENOMEM. */
int hc_send(const struct hc_request *req, struct hc_response *resp, fw_error *err);

/* hc_send repeated under policy. Returns 0 with the last response (which may still be a
 * non-2xx status the policy does not retry, or a retried status after the last attempt), or the
 * last transport error (FW_EIO), or FW_EIO for a 2xx body that is not the JSON asked for. A
 * Retry-After longer than policy->max_delay_seconds is not waited for: the response is returned
 * as it is. */
int hc_send_retry(const struct hc_request *req, const struct hc_retry *policy,
                  struct hc_response *resp, fw_error *err);

void hc_response_free(struct hc_response *resp);

/* 1 for 200..299. */
int hc_ok(long status);

/* Replaces every occurrence of secret in msg with "***" (in place). Used on provider error
 * messages before they reach an fw_error, in case a server echoes a key or token. */
void hc_scrub(char *msg, const char *secret);

/* Sleeps (nanosleep, resumed after signals). */
void hc_sleep(double seconds);

/* Monotonic seconds. */
double hc_now(void);

/* The path part of url (for messages): what follows the host, without the query. */
const char *hc_url_path(const char *url, char *buf, size_t size);

#endif
