/* ibm — the IBM Quantum Qiskit Runtime REST backend (see ibm.h; protocol: quantum-apis.md §3,
 * §5): IAM tokens, the requests and their errors, paced job creation with the look-up by tag,
 * polling, results, cancel. The batch of jobs itself (sub-jobs, the poll round, cancel, ids,
 * free) is cloud_job's; the result scanner is ibm_samples'. The backend owns its copies of the
 * configuration and secrets (wiped on destroy); a job is the caller's until job_free. */
#include "quantum/ibm.h"
#include "quantum/cloud_job.h"
#include "quantum/creds.h"
#include "quantum/http_client.h"
#include "quantum/ibm_samples.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct ibm_backend {
    struct cj_cloud cloud; /* first: a struct qbackend * of it is one of these */
    char *iam_url, *api_url, *api_key, *crn, *device, *api_version;
    char *crn_header, *version_header;
    int qubit, timeout, max_attempts, margin;
    double retry_base, window;
    long max_exec;
    pthread_mutex_t lock; /* the token and the pacing ring */
    char *token;
    time_t token_expiry; /* epoch seconds */
    double *creates;     /* monotonic times of the last jobs_per_window creations */
    int jobs_per_window, ring_pos;
};

static const int retry_statuses[] = {429, 500, 502, 503, 504, 520, 521, 522, 524};

/* ---- IAM token ----------------------------------------------------------------------------- */

static int fetch_token(struct ibm_backend *b, fw_error *err)
{
    char *key = curl_easy_escape(NULL, b->api_key, 0);
    if (!key)
        return FW_ENOMEM;
    static const char grant[] = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey"
                                "&apikey=";
    size_t body_len = strlen(grant) + strlen(key);
    char *body = malloc(body_len + 1);
    if (!body) {
        creds_wipe(key, strlen(key));
        curl_free(key);
        return FW_ENOMEM;
    }
    snprintf(body, body_len + 1, "%s%s", grant, key);
    creds_wipe(key, strlen(key));
    curl_free(key);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             "Accept: application/json"};
    struct hc_request req = {"POST", b->iam_url, headers, 2, body, body_len, b->timeout};
    struct hc_retry policy = {b->max_attempts,
                              b->retry_base,
                              60.0,
                              retry_statuses,
                              sizeof retry_statuses / sizeof retry_statuses[0],
                              1, /* asking for a token twice is harmless */
                              1};
    struct hc_response resp;
    int rc = hc_send_retry(&req, &policy, &resp, err);
    creds_wipe(body, body_len);
    free(body);
    if (rc) {
        if (err)
            hc_scrub(err->msg, b->api_key);
        hc_response_free(&resp);
        return rc;
    }
    if (!hc_ok(resp.status)) {
        long s = resp.status;
        hc_response_free(&resp);
        if (s == 400 || s == 401 || s == 403)
            return fw_error_set(err, FW_EINVAL,
                                "IBM Cloud IAM refused the API key (HTTP %ld): check %s", s,
                                CREDS_IBM_API_KEY);
        return fw_error_set(err, FW_EIO, "IBM Cloud IAM answered HTTP %ld", s);
    }
    const char *token = json_string_value(json_object_get(resp.json, "access_token"));
    const json_t *expiration = json_object_get(resp.json, "expiration");
    const json_t *expires_in = json_object_get(resp.json, "expires_in");
    time_t now = time(NULL), expiry = 0;
    if (json_is_integer(expiration))
        expiry = (time_t)json_integer_value(expiration);
    if (json_is_integer(expires_in) &&
        (!expiry || now + (time_t)json_integer_value(expires_in) < expiry))
        expiry = now + (time_t)json_integer_value(expires_in); /* whichever comes first */
    if (!token || !*token || strlen(token) > 16384 || !expiry) {
        hc_response_free(&resp);
        return fw_error_set(err, FW_EIO, "IBM Cloud IAM gave no usable token");
    }
    char *copy = strdup(token);
    creds_wipe(resp.body, resp.len);
    hc_response_free(&resp);
    if (!copy)
        return FW_ENOMEM;
    if (b->token) {
        creds_wipe(b->token, strlen(b->token));
        free(b->token);
    }
    b->token = copy;
    b->token_expiry = expiry;
    return FW_OK;
}

/* "Authorization: Bearer <token>" in a malloc'd string, from the cache or a new token. */
static int auth_header(struct ibm_backend *b, int renew, char **out, fw_error *err)
{
    int rc = FW_OK;
    pthread_mutex_lock(&b->lock);
    if (renew || !b->token || time(NULL) >= b->token_expiry - b->margin)
        rc = fetch_token(b, err);
    if (rc == FW_OK) {
        size_t len = strlen(b->token) + 32;
        char *h = malloc(len);
        if (h) {
            snprintf(h, len, "Authorization: Bearer %s", b->token);
            *out = h;
        } else {
            rc = FW_ENOMEM;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* ---- API requests -------------------------------------------------------------------------- */

static void scrub(struct ibm_backend *b, char *msg)
{
    hc_scrub(msg, b->api_key);
    pthread_mutex_lock(&b->lock);
    hc_scrub(msg, b->token);
    pthread_mutex_unlock(&b->lock);
}

/* One API request: a token (renewed once on 401), the Service-CRN and version headers, and the
 * retry policy (repeated only when `repeat`, i.e. for requests that create nothing). */
static int api_call(struct ibm_backend *b, const char *method, const char *url, const char *body,
                    int repeat, int want_json, struct hc_response *resp, fw_error *err)
{
    int rc = FW_OK;
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    for (int renew = 0; renew < 2; renew++) {
        char *auth = NULL;
        if ((rc = auth_header(b, renew, &auth, err))) {
            /* nothing reached the API: a create need not be looked up */
            resp->transport_code = CURLE_COULDNT_CONNECT;
            return rc;
        }
        const char *headers[] = {auth, b->crn_header, b->version_header, "Accept: application/json",
                                 "Content-Type: application/json"};
        struct hc_request req = {
            method, url, headers, body ? 5 : 4, body, body ? strlen(body) : 0, b->timeout};
        struct hc_retry policy = {repeat ? b->max_attempts : 1,
                                  b->retry_base,
                                  60.0,
                                  retry_statuses,
                                  sizeof retry_statuses / sizeof retry_statuses[0],
                                  repeat,
                                  want_json};
        hc_response_free(resp);
        rc = hc_send_retry(&req, &policy, resp, err);
        cj_free_secret(auth);
        if (rc || resp->status != 401)
            break;
        if (renew) /* a fresh token refused too */
            break;
    }
    if (rc && err)
        scrub(b, err->msg);
    return rc;
}

/* An fw_error from a non-2xx answer, with IBM's {"errors":[{"code","message"}]} (§3.8). */
static int answer_error(struct ibm_backend *b, const char *what, const struct hc_response *r,
                        fw_error *err)
{
    char detail[320] = "";
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    const json_t *e0 = json_array_get(json_object_get(doc, "errors"), 0);
    const char *msg = json_string_value(json_object_get(e0, "message"));
    const json_t *code_v = json_object_get(e0, "code");
    char code[32] = "";
    if (json_is_string(code_v))
        snprintf(code, sizeof code, "%.24s", json_string_value(code_v));
    else if (json_is_integer(code_v))
        snprintf(code, sizeof code, "%lld", (long long)json_integer_value(code_v));
    if (msg || code[0])
        snprintf(detail, sizeof detail, ": %s%s%s%.240s", code[0] ? "code " : "", code,
                 code[0] && msg ? ", " : "", msg ? msg : "");
    json_decref(doc);
    scrub(b, detail);
    long s = r->status;
    if (s == 401)
        return fw_error_set(err, FW_EINVAL,
                            "IBM Quantum refused the token for %s (HTTP 401): check %s", what,
                            CREDS_IBM_API_KEY);
    if (s == 403)
        return fw_error_set(err, FW_EINVAL,
                            "IBM Quantum refused access on %s (HTTP 403)%s: check %s", what, detail,
                            CREDS_IBM_CRN);
    if (s == 429)
        return fw_error_set(err, FW_EIO, "IBM Quantum is rate limiting %s (HTTP 429)%s", what,
                            detail);
    return fw_error_set(err, cj_status_code(s), "IBM Quantum answered HTTP %ld on %s%s", s, what,
                        detail);
}

static char *job_url(struct ibm_backend *b, const char *id, const char *suffix)
{
    size_t len = strlen(b->api_url) + strlen(id) + strlen(suffix) + 16;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/v1/jobs%s%s%s", b->api_url, id[0] ? "/" : "", id, suffix);
    return url;
}

/* ---- pacing -------------------------------------------------------------------------------- */

/* Takes a creation slot when fewer than jobs_per_window jobs were created in the last window. */
static int pace_take(struct ibm_backend *b)
{
    int ok;
    pthread_mutex_lock(&b->lock);
    double now = hc_now();
    ok = b->creates[b->ring_pos] <= now - b->window;
    if (ok) {
        b->creates[b->ring_pos] = now;
        b->ring_pos = (b->ring_pos + 1) % b->jobs_per_window;
    }
    pthread_mutex_unlock(&b->lock);
    return ok;
}

/* ---- submit -------------------------------------------------------------------------------- */

static void plan(struct qbackend *base, size_t n, int shots, struct qplan *p)
{
    struct ibm_backend *b = (struct ibm_backend *)base;
    size_t per = shots > 0 ? (size_t)(b->max_exec / shots) : n;
    cj_plan(n, shots, per < 1 ? 1 : per, p);
}

static char *create_body(struct ibm_backend *b, const struct qcircuit *c, size_t first,
                         size_t count, int shots, const char *tag, int *code, fw_error *err)
{
    json_t *pubs = json_array();
    json_t *doc = json_pack("{s:s, s:s, s:[s], s:{s:i, s:o, s:{s:i}}}", "program_id", "sampler",
                            "backend", b->device, "tags", tag, "params", "version", 2, "pubs",
                            json_incref(pubs), "options", "default_shots", shots);
    char *text = NULL;
    if (!pubs || !doc)
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        double theta, phi, lambda;
        circuit_zyz(&c[first + i], &theta, &phi, &lambda);
        if (!isfinite(theta)) {
            *code = fw_error_set(err, FW_EINVAL, "circuit %zu has a non-finite rotation angle",
                                 first + i);
            goto cleanup;
        }
        char qasm[512];
        int len = circuit_qasm_isa(&c[first + i], b->qubit, qasm, sizeof qasm);
        if (len < 0 || (size_t)len >= sizeof qasm)
            goto cleanup;
        if (json_array_append_new(pubs, json_pack("[s]", qasm)))
            goto cleanup;
    }
    text = json_dumps(doc, JSON_COMPACT);
cleanup:
    if (!text && *code == FW_OK)
        *code = fw_error_set(err, FW_ENOMEM, "out of memory building an IBM job");
    json_decref(pubs);
    json_decref(doc);
    return text;
}

/* The job created under tag, if the service has one (after a create whose answer was lost). */
static int find_by_tag(struct ibm_backend *b, const char *tag, char *id, size_t size, fw_error *err)
{
    char *base = job_url(b, "", "");
    if (!base)
        return FW_ENOMEM;
    size_t len = strlen(base) + strlen(tag) + 64;
    char *url = malloc(len);
    if (!url) {
        free(base);
        return FW_ENOMEM;
    }
    snprintf(url, len, "%s?tags=%s&limit=5&exclude_params=true", base, tag);
    free(base);
    struct hc_response resp;
    int rc = api_call(b, "GET", url, NULL, 1, 1, &resp, err);
    free(url);
    if (rc == FW_OK && !hc_ok(resp.status))
        rc = answer_error(b, "looking up a job by tag", &resp, err);
    if (rc == FW_OK) {
        const json_t *jobs = json_object_get(resp.json, "jobs");
        const char *found = NULL;
        size_t i;
        json_t *j;
        json_array_foreach(jobs, i, j)
        {
            const json_t *tags = json_object_get(j, "tags");
            size_t t;
            json_t *tv;
            json_array_foreach(tags, t, tv)
            {
                const char *s = json_string_value(tv);
                if (s && !strcmp(s, tag))
                    found = json_string_value(json_object_get(j, "id"));
            }
        }
        if (found && cj_valid_id(found))
            snprintf(id, size, "%s", found);
        else
            rc = FW_ENOTFOUND;
    }
    hc_response_free(&resp);
    return rc;
}

/* Creates one job. An ambiguous failure (no answer, a 5xx, a body that is not JSON) is followed
 * by a look-up of the job's tag before any retry, so the batch never runs twice. */
static int create_sub(struct ibm_backend *b, struct cj_sub *sub, fw_error *err)
{
    char *url = job_url(b, "", "");
    int rc = FW_OK;
    if (!url)
        return FW_ENOMEM;
    for (int attempt = 1;; attempt++) {
        struct hc_response resp;
        int ambiguous = 0, again = 0;
        rc = api_call(b, "POST", url, sub->body, 0, 1, &resp, err);
        long retry_after = resp.retry_after;
        if (rc == FW_EIO) { /* no answer, or a 2xx that is not JSON */
            ambiguous = resp.transport_code != CURLE_COULDNT_CONNECT;
            again = 1;
        } else if (rc) {
            /* out of memory, or an answer too big: final */
        } else if (hc_ok(resp.status)) {
            const char *id = json_string_value(json_object_get(resp.json, "id"));
            if (cj_valid_id(id))
                snprintf(sub->id, sizeof sub->id, "%s", id);
            else
                rc = fw_error_set(err, FW_EIO, "IBM Quantum accepted a job without a usable id");
            ambiguous = again = rc != FW_OK;
        } else {
            rc = answer_error(b, "creating a sampler job", &resp, err);
            again = resp.status == 429 || resp.status >= 500;
            ambiguous = resp.status >= 500; /* 429: refused, nothing was created */
        }
        hc_response_free(&resp);
        if (rc == FW_OK)
            break;
        if (ambiguous) {
            fw_error lookup;
            int found = find_by_tag(b, sub->tag, sub->id, sizeof sub->id, &lookup);
            if (found == FW_OK) {
                rc = FW_OK;
                break;
            }
            if (found != FW_ENOTFOUND) { /* cannot tell: do not risk running it twice */
                rc = fw_error_set(err, FW_EIO,
                                  "creating the IBM job tagged %s failed and whether it exists is "
                                  "unknown: %.300s",
                                  sub->tag, lookup.msg);
                break;
            }
        }
        if (!again || attempt >= b->max_attempts)
            break;
        double delay =
            retry_after >= 0 ? (double)retry_after : b->retry_base * pow(2.0, attempt - 1);
        if (delay > 60)
            break;
        hc_sleep(delay);
    }
    free(url);
    if (rc == FW_OK) {
        free(sub->body);
        sub->body = NULL;
        sub->state = QJOB_QUEUED;
    }
    return rc;
}

/* "fwpcast-<8 hex digits>-<k>": the tag of the batch's k-th job. */
static void make_tag(char *tag, size_t size, size_t k)
{
    char hex[16];
    cj_make_tag(hex, sizeof hex);
    snprintf(tag, size, "fwpcast-%s-%zu", hex, k);
}

/* Creates the batch's pending jobs while the pacing allows. */
static int create_pending(struct ibm_backend *b, struct cj_job *job, fw_error *err)
{
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        if (!sub->body)
            continue;
        if (!pace_take(b))
            return FW_OK;
        int rc = create_sub(b, sub, err);
        if (rc)
            return rc;
    }
    return FW_OK;
}

static int submit(struct qbackend *base, const struct qcircuit *c, size_t n, int shots,
                  struct qjob **out, fw_error *err)
{
    struct ibm_backend *b = (struct ibm_backend *)base;
    if (shots < 1 || shots > b->max_exec)
        return fw_error_set(err, FW_ERANGE, "IBM takes 1 to %ld shots per circuit, not %d",
                            b->max_exec, shots);
    struct cj_job *job;
    int rc = cj_job_new(n, shots, (size_t)(b->max_exec / shots), QJOB_QUEUED, &job);
    if (rc)
        return rc;
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        make_tag(sub->tag, sizeof sub->tag, k);
        sub->body = create_body(b, c, sub->first, sub->count, shots, sub->tag, &rc, err);
        if (!sub->body)
            goto cleanup;
    }
    rc = create_pending(b, job, err);
cleanup:
    if (rc) {
        cj_discard(&b->cloud, job);
        return rc;
    }
    *out = (struct qjob *)job;
    return FW_OK;
}

/* ---- poll ---------------------------------------------------------------------------------- */

static int fail_message(struct ibm_backend *b, const struct cj_sub *sub, const json_t *doc,
                        fw_error *err)
{
    const json_t *st = json_object_get(doc, "state");
    const char *reason = json_string_value(json_object_get(st, "reason"));
    const json_t *rc_v = json_object_get(st, "reason_code");
    long long code = json_is_integer(rc_v)  ? json_integer_value(rc_v)
                     : json_is_string(rc_v) ? atoll(json_string_value(rc_v))
                                            : 0;
    char why[260];
    snprintf(why, sizeof why, "%.250s", reason ? reason : "no reason given");
    scrub(b, why);
    if (code == 1517)
        return fw_error_set(err, FW_EINVAL,
                            "IBM rejected the circuits of job %s as not ISA for %s (code 1517: "
                            "%s); fwpcast sends only sx/rz on qubit %d, so check the backend "
                            "and the qubit",
                            sub->id, b->device, why, b->qubit);
    if (code)
        return fw_error_set(err, FW_EIO, "IBM job %s failed (code %lld): %s", sub->id, code, why);
    return fw_error_set(err, FW_EIO, "IBM job %s failed: %s", sub->id, why);
}

/* One created job's state.status (cj_provider.poll_one); "Cancelled - Ran too long" (1305) is
 * a failure. */
static int poll_one(struct cj_cloud *c, struct cj_sub *sub, fw_error *err)
{
    struct ibm_backend *b = (struct ibm_backend *)c;
    char *url = job_url(b, sub->id, "?exclude_params=true");
    if (!url)
        return FW_ENOMEM;
    struct hc_response resp;
    int rc = api_call(b, "GET", url, NULL, 1, 1, &resp, err);
    free(url);
    if (rc == FW_OK && !hc_ok(resp.status)) {
        char what[CJ_ID_MAX + 8];
        snprintf(what, sizeof what, "job %s", sub->id);
        rc = answer_error(b, what, &resp, err);
    }
    if (rc) {
        hc_response_free(&resp);
        return rc;
    }
    const json_t *st = json_object_get(resp.json, "state");
    const char *status = json_string_value(json_object_get(st, "status"));
    const char *top = json_string_value(json_object_get(resp.json, "status"));
    if (!status)
        status = top;
    const json_t *code = json_object_get(st, "reason_code");
    int ran_too_long = (top && !strcasecmp(top, "Cancelled - Ran too long")) ||
                       (status && !strcasecmp(status, "Cancelled - Ran too long")) ||
                       (json_is_integer(code) && json_integer_value(code) == 1305);
    if (!status) {
        rc = fw_error_set(err, FW_EIO, "IBM job %s has no status", sub->id);
    } else if (ran_too_long) {
        sub->state = QJOB_FAILED;
        rc = fw_error_set(err, FW_EIO, "IBM job %s ran too long and was cancelled (code 1305)",
                          sub->id);
    } else if (!strcasecmp(status, "Failed")) {
        sub->state = QJOB_FAILED;
        rc = fail_message(b, sub, resp.json, err);
    } else if (!strcasecmp(status, "Queued")) {
        sub->state = QJOB_QUEUED;
    } else if (!strcasecmp(status, "Running")) {
        sub->state = QJOB_RUNNING;
    } else if (!strcasecmp(status, "Completed")) {
        sub->state = QJOB_DONE;
    } else if (!strcasecmp(status, "Cancelled")) {
        sub->state = QJOB_CANCELLED;
    } else {
        rc = fw_error_set(err, FW_EIO, "IBM job %s has an unknown status '%.40s'", sub->id, status);
    }
    hc_response_free(&resp);
    return rc;
}

/* Creates what the pacing now allows of the batch, then a round over the jobs that exist. */
static int poll(struct qbackend *base, struct qjob *j, enum qjob_state *state, fw_error *err)
{
    struct ibm_backend *b = (struct ibm_backend *)base;
    struct cj_job *job = (struct cj_job *)j;
    int rc = create_pending(b, job, err);
    if (rc) {
        cj_cancel(&b->cloud, job, NULL);
        return rc;
    }
    return cj_poll(&b->cloud, job, state, err);
}

/* ---- fetch --------------------------------------------------------------------------------- */

static int fetch_sub(struct ibm_backend *b, const struct cj_sub *sub, uint64_t *zeros,
                     uint64_t *totals, fw_error *err)
{
    char *url = job_url(b, sub->id, "/results");
    if (!url)
        return FW_ENOMEM;
    int rc = FW_OK;
    for (int attempt = 1;; attempt++) {
        struct hc_response resp;
        rc = api_call(b, "GET", url, NULL, 1, 0, &resp, err);
        if (rc == FW_OK && !hc_ok(resp.status)) {
            char what[CJ_ID_MAX + 32];
            snprintf(what, sizeof what, "the results of job %s", sub->id);
            rc = answer_error(b, what, &resp, err);
            hc_response_free(&resp);
            break;
        }
        if (rc == FW_OK &&
            (rc = ibm_count_samples(resp.body, resp.len, sub->count, zeros, totals)) != FW_OK)
            fw_error_set(err, rc,
                         "the results of IBM job %s are not %zu Sampler V2 results with "
                         "hex samples",
                         sub->id, sub->count);
        hc_response_free(&resp);
        /* a truncated body is worth another read; anything else is final */
        if (rc != FW_ECORRUPT || attempt >= b->max_attempts)
            break;
        hc_sleep(b->retry_base * pow(2.0, attempt - 1));
    }
    free(url);
    for (size_t i = 0; rc == FW_OK && i < sub->count; i++)
        if (totals[i] == 0)
            rc = fw_error_set(err, FW_ECORRUPT, "IBM job %s returned no samples for circuit %zu",
                              sub->id, sub->first + i);
    return rc;
}

static int fetch(struct qbackend *base, struct qjob *j, double *p0, uint64_t *zeros, fw_error *err)
{
    struct ibm_backend *b = (struct ibm_backend *)base;
    struct cj_job *job = (struct cj_job *)j;
    size_t n = job->n ? job->n : 1;
    uint64_t *z = calloc(n, sizeof *z), *t = calloc(n, sizeof *t);
    int rc = FW_OK;
    if (!z || !t) {
        rc = FW_ENOMEM;
        goto cleanup;
    }
    for (size_t k = 0; k < job->n_subs; k++) {
        const struct cj_sub *sub = &job->subs[k];
        if ((rc = cj_sub_done(sub, "IBM", err)))
            goto cleanup;
        if ((rc = fetch_sub(b, sub, &z[sub->first], &t[sub->first], err)))
            goto cleanup;
    }
    for (size_t i = 0; i < job->n; i++) {
        p0[i] = (double)z[i] / (double)t[i];
        if (zeros)
            zeros[i] = z[i];
    }
cleanup:
    free(z);
    free(t);
    return rc;
}

/* ---- cancel and the rest ------------------------------------------------------------------- */

static char *cancel_url(struct cj_cloud *c, const struct cj_sub *sub)
{
    return job_url((struct ibm_backend *)c, sub->id, "/cancel");
}

static int cancel_send(struct cj_cloud *c, const char *url, struct hc_response *resp, fw_error *err)
{
    return api_call((struct ibm_backend *)c, "POST", url, NULL, 1, 0, resp, err);
}

static int cancel_read(struct cj_cloud *c, struct cj_sub *sub, const struct hc_response *resp,
                       const char *what, fw_error *err)
{
    /* 409: not cancellable, it has finished; the next poll says how */
    if (hc_ok(resp->status))
        sub->state = QJOB_CANCELLED;
    else if (resp->status != 409)
        return answer_error((struct ibm_backend *)c, what, resp, err);
    return FW_OK;
}

static const struct cj_provider ibm_cloud = {poll_one, 0, cancel_url, cancel_send, cancel_read};

static void destroy(struct qbackend *base)
{
    struct ibm_backend *b = (struct ibm_backend *)base;
    if (!b)
        return;
    cj_free_secret(b->api_key);
    cj_free_secret(b->crn);
    cj_free_secret(b->crn_header);
    cj_free_secret(b->token);
    free(b->iam_url);
    free(b->api_url);
    free(b->device);
    free(b->api_version);
    free(b->version_header);
    free(b->creates);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static const struct qbackend_ops ibm_ops = {
    "ibm", 1, plan, submit, poll, fetch, cj_cancel_op, cj_job_ids, cj_job_free, destroy};

/* The region of a CRN (crn:v1:bluemix:public:quantum-computing:<region>:...), §3.1. */
static int crn_region(const char *crn, char *region, size_t size)
{
    const char *p = crn;
    for (int field = 0; field < 5; field++) {
        p = strchr(p, ':');
        if (!p)
            return -1;
        p++;
    }
    size_t len = strcspn(p, ":");
    if (len == 0 || len >= size)
        return -1;
    memcpy(region, p, len);
    region[len] = '\0';
    return 0;
}

int ibm_backend_create(const struct ibm_config *cfg, struct qbackend **out, fw_error *err)
{
    if (!cfg->api_key || !*cfg->api_key)
        return fw_error_set(err, FW_EINVAL, "IBM Quantum needs an API key: set %s",
                            CREDS_IBM_API_KEY);
    if (!cfg->crn || !*cfg->crn)
        return fw_error_set(err, FW_EINVAL, "IBM Quantum needs the instance CRN: set %s",
                            CREDS_IBM_CRN);
    if (!cj_printable(cfg->api_key))
        return fw_error_set(err, FW_EINVAL, "%s contains spaces or control characters",
                            CREDS_IBM_API_KEY);
    if (!cj_printable(cfg->crn) || strncmp(cfg->crn, "crn:", 4))
        return fw_error_set(err, FW_EINVAL, "%s must be an instance CRN (crn:v1:...)",
                            CREDS_IBM_CRN);
    if (!cfg->backend || !*cfg->backend)
        return fw_error_set(err, FW_EINVAL,
                            "name the IBM Quantum backend to run on (e.g. ibm_fez); IBM has no "
                            "cloud simulator");
    size_t dlen = strlen(cfg->backend);
    if (dlen >= 64 ||
        strspn(cfg->backend, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            dlen)
        return fw_error_set(err, FW_EINVAL, "'%.40s' is not an IBM Quantum backend name",
                            cfg->backend);
    if (cfg->qubit < 0 || cfg->qubit > 999)
        return fw_error_set(err, FW_ERANGE, "the IBM qubit must be in 0..999, not %d", cfg->qubit);
    const char *version = cfg->api_version ? cfg->api_version : IBM_DEFAULT_API_VERSION;
    if (strlen(version) != 10 || strspn(version, "0123456789-") != 10)
        return fw_error_set(err, FW_EINVAL, "the IBM API version must be a date YYYY-MM-DD");
    char region[32] = "";
    char default_api[96];
    snprintf(default_api, sizeof default_api, "%s", IBM_DEFAULT_API_URL);
    if (!crn_region(cfg->crn, region, sizeof region) && !strcmp(region, "eu-de"))
        snprintf(default_api, sizeof default_api, "https://eu-de.quantum.cloud.ibm.com/api");
    const char *api_url = cfg->api_url ? cfg->api_url : default_api;
    const char *iam_url = cfg->iam_url ? cfg->iam_url : IBM_DEFAULT_IAM_URL;
    if (!cj_http_url(api_url) || !cj_http_url(iam_url))
        return fw_error_set(err, FW_EINVAL, "the IBM URLs must start with https:// or http://");
    struct ibm_backend *b = cj_cloud_new(sizeof *b, &ibm_ops, &ibm_cloud);
    if (!b)
        return FW_ENOMEM;
    if (pthread_mutex_init(&b->lock, NULL)) {
        free(b);
        return FW_ENOMEM;
    }
    size_t api_len = strlen(api_url);
    while (api_len && api_url[api_len - 1] == '/')
        api_len--;
    b->jobs_per_window = cfg->jobs_per_minute > 0 ? cfg->jobs_per_minute : 5;
    b->iam_url = strdup(iam_url);
    b->api_url = strndup(api_url, api_len);
    b->api_key = strdup(cfg->api_key);
    b->crn = strdup(cfg->crn);
    b->device = strdup(cfg->backend);
    b->api_version = strdup(version);
    b->crn_header = malloc(strlen(cfg->crn) + 16);
    b->version_header = malloc(strlen(version) + 20);
    b->creates = malloc((size_t)b->jobs_per_window * sizeof *b->creates);
    if (!b->iam_url || !b->api_url || !b->api_key || !b->crn || !b->device || !b->api_version ||
        !b->crn_header || !b->version_header || !b->creates) {
        destroy(&b->cloud.base);
        return FW_ENOMEM;
    }
    sprintf(b->crn_header, "Service-CRN: %s", cfg->crn);
    sprintf(b->version_header, "IBM-API-Version: %s", version);
    for (int i = 0; i < b->jobs_per_window; i++)
        b->creates[i] = -1e18;
    b->qubit = cfg->qubit;
    b->timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30;
    b->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
    b->retry_base = cfg->retry_base_seconds > 0 ? cfg->retry_base_seconds : 0.5;
    b->window = cfg->pacing_window_seconds > 0 ? cfg->pacing_window_seconds : 60.0;
    b->margin = cfg->token_refresh_margin_seconds > 0 ? cfg->token_refresh_margin_seconds : 300;
    b->max_exec =
        cfg->max_executions_per_job > 0 ? cfg->max_executions_per_job : IBM_MAX_EXECUTIONS;
    *out = &b->cloud.base;
    return FW_OK;
}
