/* http_client — libcurl exchanges with timeouts, size caps and retries (see http_client.h). The
 * request is the caller's; a response's body and JSON are the caller's until hc_response_free. */
#include "quantum/http_client.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void hc_global_init(void)
{
    pthread_once(&global_once, global_init_once);
}

double hc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void hc_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int hc_ok(long status)
{
    return status >= 200 && status <= 299;
}

const char *hc_url_path(const char *url, char *buf, size_t size)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        p = "/";
    size_t n = strcspn(p, "?#");
    snprintf(buf, size, "%.*s", (int)(n < 200 ? n : 200), p);
    return buf;
}

void hc_scrub(char *msg, const char *secret)
{
    if (!msg || !secret || strlen(secret) < 4)
        return;
    size_t slen = strlen(secret);
    char *hit;
    while ((hit = strstr(msg, secret)) != NULL) {
        memcpy(hit, "***", 3);
        memmove(hit + 3, hit + slen, strlen(hit + slen) + 1);
    }
}

struct sink {
    char *data;
    size_t len, cap;
    int too_big;
    long retry_after;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (s->len + n + 1 > HC_MAX_BODY) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *grown = realloc(s->data, cap);
        if (!grown)
            return 0;
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

/* Retry-After: delta-seconds or an HTTP-date. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && n < 200 && !strncasecmp(ptr, name, sizeof name - 1)) {
        char value[200];
        size_t start = sizeof name - 1;
        while (start < n && isspace((unsigned char)ptr[start]))
            start++;
        size_t end = n;
        while (end > start && isspace((unsigned char)ptr[end - 1]))
            end--;
        memcpy(value, ptr + start, end - start);
        value[end - start] = '\0';
        char *stop;
        long secs = strtol(value, &stop, 10);
        if (stop != value && *stop == '\0' && secs >= 0) {
            s->retry_after = secs;
        } else {
            time_t when = curl_getdate(value, NULL);
            if (when != (time_t)-1) {
                double delta = difftime(when, time(NULL));
                s->retry_after = delta > 0 ? (long)ceil(delta) : 0;
            }
        }
    }
    return n;
}

static int has_header(const struct hc_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++)
        if (!strncasecmp(req->headers[i], name, len) && req->headers[i][len] == ':')
            return 1;
    return 0;
}

int hc_send(const struct hc_request *req, struct hc_response *resp, fw_error *err)
{
    hc_global_init();
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    struct sink sink = {NULL, 0, 0, 0, -1};
    struct curl_slist *headers = NULL;
    char path[256];
    int rc = FW_OK;
    CURL *curl = curl_easy_init();
    if (!curl)
        return fw_error_set(err, FW_ENOMEM, "cannot start an HTTP request");
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *more = curl_slist_append(headers, req->headers[i]);
        if (!more) {
            rc = FW_ENOMEM;
            goto cleanup;
        }
        headers = more;
    }
    /* no 100-continue round trip; no form content type on an empty POST/PUT */
    const char *extra[] = {"Expect:", "Content-Type:"};
    for (size_t i = 0; i < 2; i++) {
        if (i == 1 && (req->body || has_header(req, "Content-Type")))
            continue;
        struct curl_slist *more = curl_slist_append(headers, extra[i]);
        if (!more) {
            rc = FW_ENOMEM;
            goto cleanup;
        }
        headers = more;
    }
    long timeout = req->timeout_seconds > 0 ? req->timeout_seconds : 30;
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "fwpcast/1 (libcurl)");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
    if (!strcmp(req->method, "GET")) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        if (!strcmp(req->method, "DELETE") && !req->body) {
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
        } else {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
            if (strcmp(req->method, "POST"))
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        if (sink.too_big) {
            rc = fw_error_set(err, FW_ETOOBIG, "%s %s: the response is larger than %zu MiB",
                              req->method, hc_url_path(req->url, path, sizeof path),
                              HC_MAX_BODY >> 20);
        } else if (cc == CURLE_WRITE_ERROR) {
            rc = FW_ENOMEM;
        } else {
            resp->transport_code = (int)cc;
            rc = fw_error_set(
                err, FW_EIO, "%s %s: %s", req->method, hc_url_path(req->url, path, sizeof path),
                cc == CURLE_OPERATION_TIMEDOUT ? "no answer in time" : curl_easy_strerror(cc));
        }
        goto cleanup;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!sink.data) {
        sink.data = malloc(1);
        if (!sink.data) {
            rc = FW_ENOMEM;
            goto cleanup;
        }
        sink.data[0] = '\0';
    }
    resp->body = sink.data;
    resp->len = sink.len;
    resp->retry_after = sink.retry_after;
    sink.data = NULL;
cleanup:
    free(sink.data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}

void hc_response_free(struct hc_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    json_decref(resp->json);
    resp->body = NULL;
    resp->json = NULL;
    resp->len = 0;
}

static int status_listed(const struct hc_retry *policy, long status)
{
    for (size_t i = 0; i < policy->n_statuses; i++)
        if (policy->statuses[i] == status)
            return 1;
    return 0;
}

int hc_send_retry(const struct hc_request *req, const struct hc_retry *policy,
                  struct hc_response *resp, fw_error *err)
{
    int attempts = policy->max_attempts > 0 ? policy->max_attempts : 5;
    double base = policy->base_seconds >= 0 ? policy->base_seconds : 1.0;
    double cap = policy->max_delay_seconds > 0 ? policy->max_delay_seconds : 60.0;
    char path[256];
    int rc = FW_OK;
    memset(resp, 0, sizeof *resp);
    for (int attempt = 1;; attempt++) {
        hc_response_free(resp);
        rc = hc_send(req, resp, err);
        int again = 0;
        if (rc == FW_EIO) {
            again = policy->idempotent || resp->transport_code == CURLE_COULDNT_CONNECT;
        } else if (rc) {
            return rc;
        } else if (status_listed(policy, resp->status)) {
            again = 1;
        } else if (policy->json && hc_ok(resp->status)) {
            json_error_t jerr;
            resp->json = json_loadb(resp->body, resp->len, 0, &jerr);
            if (!resp->json) {
                rc = fw_error_set(err, FW_EIO, "%s %s: the answer is not JSON (%s)", req->method,
                                  hc_url_path(req->url, path, sizeof path), jerr.text);
                again = policy->idempotent;
            }
        }
        if (!again || attempt >= attempts)
            return rc;
        double delay = base * pow(2.0, attempt - 1);
        if (resp->retry_after >= 0) {
            if ((double)resp->retry_after > cap)
                return rc; /* the caller reports how long the provider asked us to wait */
            delay = (double)resp->retry_after;
        }
        hc_sleep(delay < cap ? delay : cap);
    }
}
