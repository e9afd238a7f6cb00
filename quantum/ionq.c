/* ionq — the IonQ REST v0.4 backend (see ionq.h; protocol: quantum-apis.md §2, §5): the
 * requests and their errors, job bodies, submit, the state of one job, results through their
 * fallbacks, cancel. The batch of jobs itself (sub-jobs, the poll round, cancel, ids, free) is
 * cloud_job's. The backend owns its copies of the configuration and the key (wiped on destroy);
 * a job is the caller's until job_free. */
#include "quantum/ionq.h"
#include "quantum/cloud_job.h"
#include "quantum/creds.h"
#include "quantum/http_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ionq_backend {
    struct cj_cloud cloud; /* first: a struct qbackend * of it is one of these */
    char *base_url;        /* versioned base, no trailing slash */
    char *origin;          /* scheme://host[:port], for the root-relative URLs IonQ returns */
    char *api_key;
    char *auth_header; /* "Authorization: apiKey <key>" */
    char *device, *noise_model;
    int noise_seed, debias, max_per_job, timeout, max_attempts;
    double retry_base;
};

/* ---- requests ------------------------------------------------------------------------------ */

/* qiskit-ionq's retriable statuses (quantum-apis.md §2.7); 409 only on reads. */
static const int retry_write[] = {429, 502, 503, 504, 520, 521, 522,
                                  523, 524, 525, 526, 527, 528, 529};
static const int retry_read[] = {429, 502, 503, 504, 520, 521, 522, 523,
                                 524, 525, 526, 527, 528, 529, 409};

static int call(struct ionq_backend *b, const char *method, const char *url, const char *body,
                int want_json, struct hc_response *resp, fw_error *err)
{
    const char *headers[] = {b->auth_header, "Accept: application/json",
                             "Content-Type: application/json"};
    struct hc_request req = {method,    url, headers, body ? 3 : 2, body, body ? strlen(body) : 0,
                             b->timeout};
    int reading = !strcmp(method, "GET");
    struct hc_retry policy = {b->max_attempts,
                              b->retry_base,
                              60.0,
                              reading ? retry_read : retry_write,
                              reading ? sizeof retry_read / sizeof retry_read[0]
                                      : sizeof retry_write / sizeof retry_write[0],
                              strcmp(method, "POST") != 0,
                              want_json};
    int rc = hc_send_retry(&req, &policy, resp, err);
    if (rc && err)
        hc_scrub(err->msg, b->api_key);
    return rc;
}

/* An fw_error from a non-2xx answer, with IonQ's message (§2.7: {statusCode, error, message,
 * validation}, or {code, message}, or {error: {type, message}}). */
static int answer_error(struct ionq_backend *b, const char *what, const struct hc_response *r,
                        fw_error *err)
{
    char detail[300] = "";
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    if (json_is_object(doc)) {
        const json_t *e = json_object_get(doc, "error");
        const char *msg = json_string_value(json_object_get(doc, "message"));
        if (!msg && json_is_object(e))
            msg = json_string_value(json_object_get(e, "message"));
        if (!msg)
            msg = json_string_value(e);
        const json_t *keys = json_object_get(json_object_get(doc, "validation"), "keys");
        const char *key0 = json_string_value(json_array_get(keys, 0));
        snprintf(detail, sizeof detail, "%s%.200s%s%.60s", msg ? ": " : "", msg ? msg : "",
                 key0 ? " at " : "", key0 ? key0 : "");
    }
    json_decref(doc);
    hc_scrub(detail, b->api_key);
    long s = r->status;
    int code = cj_status_code(s);
    if (s == 401 || s == 403)
        return fw_error_set(err, code, "IonQ refused the API key (HTTP %ld) on %s%s: check %s", s,
                            what, detail, CREDS_IONQ_API_KEY);
    if (s == 429 && r->retry_after >= 0)
        return fw_error_set(err, code, "IonQ is rate limiting %s (HTTP 429, retry after %ld s)",
                            what, r->retry_after);
    if (s < 200)
        return fw_error_set(err, FW_EIO, "IonQ gave an unexpected HTTP %ld on %s", s, what);
    return fw_error_set(err, code, "IonQ answered HTTP %ld on %s%s", s, what, detail);
}

static char *url_of(struct ionq_backend *b, const char *id, const char *suffix)
{
    size_t len = strlen(b->base_url) + strlen(id) + strlen(suffix) + 8;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/jobs/%s%s", b->base_url, id, suffix);
    return url;
}

/* ---- submit -------------------------------------------------------------------------------- */

static json_t *gate_list(const struct qcircuit *c)
{
    json_t *gates = json_array();
    if (!gates)
        return NULL;
    for (int g = 0; g < c->n; g++) {
        json_t *rot = json_real(c->gates[g].angle); /* NULL for a non-finite angle */
        json_t *gate =
            rot ? json_pack("{s:s, s:i, s:o}", "gate", circuit_gate_name(c->gates[g].kind),
                            "target", 0, "rotation", rot)
                : NULL;
        if (!gate || json_array_append_new(gates, gate)) {
            json_decref(gates);
            return NULL;
        }
    }
    if (c->n == 0) /* IonQ wants at least one gate: the identity as rz(0) */
        if (json_array_append_new(
                gates, json_pack("{s:s, s:i, s:f}", "gate", "rz", "target", 0, "rotation", 0.0))) {
            json_decref(gates);
            return NULL;
        }
    return gates;
}

static char *job_body(struct ionq_backend *b, const struct qcircuit *c, size_t first, size_t count,
                      int shots, const char *name, const char *tag, int *code, fw_error *err)
{
    char first_text[32];
    snprintf(first_text, sizeof first_text, "%zu", first);
    json_t *input = json_pack("{s:s, s:i}", "gateset", "qis", "qubits", 1);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:{s:{s:b}}, s:{s:s, s:s, s:s}}", "type",
                            count == 1 ? "ionq.circuit.v1" : "ionq.multi-circuit.v1", "name", name,
                            "backend", b->device, "shots", shots, "settings", "error_mitigation",
                            "debiasing", b->debias ? 1 : 0, "metadata", "client", "fwpcast",
                            "batch", tag, "first_circuit", first_text);
    char *text = NULL;
    int bad = -1;
    if (!input || !doc)
        goto cleanup;
    if (b->noise_model) {
        json_t *noise = json_pack("{s:s}", "model", b->noise_model);
        if (!noise || json_object_set_new(doc, "noise", noise))
            goto cleanup;
        if (b->noise_seed >= 0 && json_object_set_new(noise, "seed", json_integer(b->noise_seed)))
            goto cleanup;
    }
    if (count == 1) {
        json_t *gates = gate_list(&c[first]);
        if (!gates) {
            bad = (int)first;
            goto cleanup;
        }
        if (json_object_set_new(input, "circuit", gates))
            goto cleanup;
    } else {
        json_t *circuits = json_array();
        if (!circuits || json_object_set_new(input, "circuits", circuits))
            goto cleanup;
        for (size_t i = 0; i < count; i++) {
            char cname[32];
            snprintf(cname, sizeof cname, "c%zu", i); /* the index within the job */
            json_t *gates = gate_list(&c[first + i]);
            if (!gates) {
                bad = (int)(first + i);
                goto cleanup;
            }
            json_t *entry = json_pack("{s:s, s:o}", "name", cname, "circuit", gates);
            if (!entry || json_array_append_new(circuits, entry))
                goto cleanup;
        }
    }
    if (json_object_set(doc, "input", input))
        goto cleanup;
    text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
cleanup:
    json_decref(input);
    json_decref(doc);
    if (!text && bad >= 0) {
        int finite = 1;
        for (int g = 0; g < c[bad].n; g++)
            finite &= isfinite(c[bad].gates[g].angle) != 0;
        if (!finite) {
            *code = fw_error_set(err, FW_EINVAL, "circuit %d has a non-finite rotation angle", bad);
            return NULL;
        }
    }
    if (!text)
        *code = fw_error_set(err, FW_ENOMEM, "out of memory building an IonQ job");
    return text;
}

static void plan(struct qbackend *base, size_t n, int shots, struct qplan *p)
{
    struct ionq_backend *b = (struct ionq_backend *)base;
    cj_plan(n, shots, (size_t)b->max_per_job, p);
}

static int submit(struct qbackend *base, const struct qcircuit *c, size_t n, int shots,
                  struct qjob **out, fw_error *err)
{
    struct ionq_backend *b = (struct ionq_backend *)base;
    if (shots < 1 || shots > IONQ_MAX_SHOTS)
        return fw_error_set(err, FW_ERANGE, "IonQ takes 1 to %d shots per circuit, not %d",
                            IONQ_MAX_SHOTS, shots);
    struct cj_job *job;
    /* until created, a sub-job is "cancelled": nothing to poll or cancel */
    int rc = cj_job_new(n, shots, (size_t)b->max_per_job, QJOB_CANCELLED, &job);
    if (rc)
        return rc;
    cj_make_tag(job->tag, sizeof job->tag);
    char *url = malloc(strlen(b->base_url) + 8);
    if (!url) {
        rc = FW_ENOMEM;
        goto cleanup;
    }
    sprintf(url, "%s/jobs", b->base_url);
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        char name[64];
        snprintf(name, sizeof name, "fwpcast-%s-%zu", job->tag, k);
        char *body = job_body(b, c, sub->first, sub->count, shots, name, job->tag, &rc, err);
        if (!body)
            goto cleanup;
        struct hc_response resp;
        rc = call(b, "POST", url, body, 1, &resp, err);
        free(body);
        if (rc == FW_EIO && resp.status == 0 && resp.transport_code != CURLE_COULDNT_CONNECT) {
            /* the job may exist: name it so that it can be found and cancelled */
            char why[200];
            snprintf(why, sizeof why, "%.190s", err ? err->msg : "");
            fw_error_set(err, FW_EIO, "%s; IonQ job '%s' may have been created", why, name);
        } else if (rc == FW_EIO && resp.json == NULL && hc_ok(resp.status)) {
            fw_error_set(err, FW_EIO,
                         "IonQ accepted job '%s' but its answer was not JSON; the job may exist",
                         name);
        } else if (rc == FW_OK && !hc_ok(resp.status)) {
            rc = answer_error(b, "creating a job", &resp, err);
        } else if (rc == FW_OK) {
            const char *id = json_string_value(json_object_get(resp.json, "id"));
            if (!cj_valid_id(id)) {
                rc = fw_error_set(err, FW_EIO,
                                  "IonQ accepted job '%s' without a usable id; the job may exist",
                                  name);
            } else {
                snprintf(sub->id, sizeof sub->id, "%s", id);
                sub->state = QJOB_QUEUED;
            }
        }
        hc_response_free(&resp);
        if (rc)
            goto cleanup;
    }
cleanup:
    free(url);
    if (rc) {
        cj_discard(&b->cloud, job);
        return rc;
    }
    *out = (struct qjob *)job;
    return FW_OK;
}

/* ---- poll ---------------------------------------------------------------------------------- */

static enum qjob_state state_of(const char *status)
{
    if (!status)
        return (enum qjob_state) - 1;
    if (!strcmp(status, "submitted") || !strcmp(status, "ready"))
        return QJOB_QUEUED;
    if (!strcmp(status, "started") || !strcmp(status, "running"))
        return QJOB_RUNNING;
    if (!strcmp(status, "completed"))
        return QJOB_DONE;
    if (!strcmp(status, "canceled") || !strcmp(status, "cancelled"))
        return QJOB_CANCELLED;
    if (!strcmp(status, "failed"))
        return QJOB_FAILED;
    return (enum qjob_state) - 1;
}

static int get_job(struct ionq_backend *b, const char *id, json_t **out, fw_error *err)
{
    char *url = url_of(b, id, "");
    if (!url)
        return FW_ENOMEM;
    struct hc_response resp;
    int rc = call(b, "GET", url, NULL, 1, &resp, err);
    free(url);
    if (rc == FW_OK && !hc_ok(resp.status)) {
        char what[CJ_ID_MAX + 16];
        snprintf(what, sizeof what, "job %s", id);
        rc = answer_error(b, what, &resp, err);
    } else if (rc == FW_OK && !json_is_object(resp.json)) {
        rc = fw_error_set(err, FW_EIO, "IonQ job %s: the job is not a JSON object", id);
    }
    if (rc == FW_OK) {
        *out = resp.json;
        resp.json = NULL;
    }
    hc_response_free(&resp);
    return rc;
}

/* One sub-job's state (cj_provider.poll_one); a completed job's object is kept for fetch. */
static int poll_one(struct cj_cloud *c, struct cj_sub *sub, fw_error *err)
{
    struct ionq_backend *b = (struct ionq_backend *)c;
    json_t *doc = NULL;
    int rc = get_job(b, sub->id, &doc, err);
    if (rc)
        return rc;
    const char *status = json_string_value(json_object_get(doc, "status"));
    enum qjob_state s = state_of(status);
    if ((int)s < 0) {
        rc = fw_error_set(err, FW_EIO, "IonQ job %s has an unknown status '%.40s'", sub->id,
                          status ? status : "(none)");
        json_decref(doc);
        return rc;
    }
    sub->state = s;
    if (s == QJOB_DONE) {
        json_decref(sub->doc);
        sub->doc = doc;
        doc = NULL;
    } else if (s == QJOB_FAILED) {
        const json_t *f = json_object_get(doc, "failure");
        const char *code = json_string_value(json_object_get(f, "code"));
        const char *msg = json_string_value(json_object_get(f, "message"));
        char failure[300];
        if (!msg)
            msg = json_string_value(json_object_get(f, "error"));
        snprintf(failure, sizeof failure, "%.60s%s%.200s", code ? code : "no failure code",
                 msg ? ": " : "", msg ? msg : "");
        hc_scrub(failure, b->api_key);
        rc = fw_error_set(err, FW_EIO, "IonQ job %s failed: %s", sub->id, failure);
    }
    json_decref(doc);
    return rc;
}

/* ---- fetch --------------------------------------------------------------------------------- */

/* P(0) from a probability (or count) map for one qubit: keys are decimal integers (v1) or
 * zero-padded bitstrings (v2) whose last character is qubit 0. A missing key is probability 0. */
static int p0_of_map(const json_t *map, int bitstrings, int counts, double *p0)
{
    if (!json_is_object(map) || json_object_size(map) == 0)
        return -1;
    double zero = 0, total = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)map, key, value)
    {
        if (!json_is_number(value))
            return -1;
        double v = json_number_value(value);
        if (!(v >= 0) || !isfinite(v))
            return -1;
        int bit0;
        size_t len = strlen(key);
        if (len == 0)
            return -1;
        if (bitstrings) {
            if (strspn(key, "01") != len)
                return -1;
            bit0 = key[len - 1] == '1';
        } else {
            char *end;
            unsigned long long state = strtoull(key, &end, 10);
            if (*end || key[0] == '-')
                return -1;
            bit0 = (int)(state & 1);
        }
        if (!bit0)
            zero += v;
        total += v;
    }
    if (counts) {
        if (!(total > 0))
            return -1;
        zero /= total;
    } else if (!(total > 0.5 && total < 1.5)) {
        return -1; /* not a probability distribution */
    }
    *p0 = zero < 0 ? 0 : zero > 1 ? 1 : zero;
    return 0;
}

/* The result documents, in the order fetch_single tries their artifacts (§2.5). */
static const struct {
    const char *artifact; /* the artifact's format name */
    const char *top;      /* v2: the member holding registers.output_all; NULL: a flat map */
    int bitstrings, counts;
} result_formats[] = {
    [IONQ_PROBABILITIES_V1] = {"ionq.result.probabilities.json.v1", NULL, 0, 0},
    [IONQ_PROBABILITIES_V2] = {"ionq.result.probabilities.json.v2", "probabilities", 1, 0},
    [IONQ_HISTOGRAM_V1] = {"ionq.result.histogram.json.v1", NULL, 0, 1},
    [IONQ_HISTOGRAM_V2] = {"ionq.result.histogram.json.v2", "histogram", 1, 1},
};
#define N_RESULT_FORMATS (sizeof result_formats / sizeof result_formats[0])

static int p0_of_result(const json_t *doc, enum ionq_result_format format, double *p0)
{
    const char *top = result_formats[format].top;
    const json_t *map =
        top ? json_object_get(json_object_get(json_object_get(doc, top), "registers"), "output_all")
            : doc;
    return p0_of_map(map, result_formats[format].bitstrings, result_formats[format].counts, p0);
}

int ionq_result_p0(const char *text, size_t len, enum ionq_result_format format, double *p0)
{
    if ((size_t)format >= N_RESULT_FORMATS)
        return FW_EINVAL;
    json_t *doc = json_loadb(text, len, 0, NULL);
    double value;
    int rc = doc && p0_of_result(doc, format, &value) == 0 ? FW_OK : FW_ECORRUPT;
    json_decref(doc);
    if (rc == FW_OK)
        *p0 = value;
    return rc;
}

/* GET a URL; 0 with the JSON document, FW_ENOTFOUND for 404/400/410 (try the next source), or a
 * hard error. */
static int get_doc(struct ionq_backend *b, const char *url, const char *what, json_t **out,
                   fw_error *err)
{
    struct hc_response resp;
    int rc = call(b, "GET", url, NULL, 1, &resp, err);
    if (rc == FW_OK && !hc_ok(resp.status)) {
        if (resp.status == 404 || resp.status == 400 || resp.status == 410)
            rc = FW_ENOTFOUND;
        else
            rc = answer_error(b, what, &resp, err);
    }
    if (rc == FW_OK) {
        *out = resp.json;
        resp.json = NULL;
    }
    hc_response_free(&resp);
    return rc;
}

/* The descriptor-style results of a completed job: results.probabilities.url, or an artifact
 * id for one of the formats. */
static char *results_url(struct ionq_backend *b, const json_t *job_doc)
{
    const char *u = json_string_value(json_object_get(
        json_object_get(json_object_get(job_doc, "results"), "probabilities"), "url"));
    if (!u || strstr(u, ".."))
        return NULL;
    char *url = NULL;
    if (u[0] == '/') { /* root-relative, already versioned (§2.4) */
        url = malloc(strlen(b->origin) + strlen(u) + 1);
        if (url)
            sprintf(url, "%s%s", b->origin, u);
    } else if (!strncmp(u, b->origin, strlen(b->origin)) && u[strlen(b->origin)] == '/') {
        url = strdup(u); /* absolute, but only on our own host: the key goes with it */
    }
    return url;
}

static const char *artifact_id(const json_t *job_doc, const char *format)
{
    const char *id = json_string_value(
        json_object_get(json_object_get(json_object_get(job_doc, "results"), format), "id"));
    return cj_valid_id(id) ? id : NULL;
}

/* Reads one candidate result document from url (freed here): 0 with *ok = 0 when it gave P(0);
 * 0 with *ok left alone when it is not there (404, 400, 410); else the error. */
static int try_result(struct ionq_backend *b, char *url, const char *what,
                      enum ionq_result_format format, double *p0, int *ok, fw_error *err)
{
    json_t *doc = NULL;
    int rc = get_doc(b, url, what, &doc, err);
    free(url);
    if (rc == FW_OK)
        *ok = p0_of_result(doc, format, p0);
    json_decref(doc);
    return rc == FW_ENOTFOUND ? FW_OK : rc;
}

/* One circuit's P(0): the flat map of a single-circuit job, through the fallbacks. */
static int fetch_single(struct ionq_backend *b, const char *id, const json_t *job_doc, double *p0,
                        fw_error *err)
{
    int ok = -1;
    char *url = url_of(b, id, "/results/probabilities");
    if (!url)
        return FW_ENOMEM;
    int rc = try_result(b, url, "results", IONQ_PROBABILITIES_V1, p0, &ok, err);
    if (rc == FW_OK && ok && job_doc && (url = results_url(b, job_doc)))
        rc = try_result(b, url, "results", IONQ_PROBABILITIES_V1, p0, &ok, err);
    for (size_t f = 0; rc == FW_OK && ok && job_doc && f < N_RESULT_FORMATS; f++) {
        const char *aid = artifact_id(job_doc, result_formats[f].artifact);
        if (!aid)
            continue;
        char suffix[CJ_ID_MAX + 16];
        snprintf(suffix, sizeof suffix, "/artifacts/%s", aid);
        if (!(url = url_of(b, id, suffix)))
            return FW_ENOMEM;
        rc = try_result(b, url, "a result artifact", (enum ionq_result_format)f, p0, &ok, err);
    }
    if (rc)
        return rc;
    if (ok)
        return fw_error_set(err, FW_EIO, "IonQ job %s completed but no usable results were found",
                            id);
    return FW_OK;
}

/* The index a child's name carries ("c<k>"), or -1. */
static long child_index(const json_t *child_doc)
{
    const char *name = json_string_value(json_object_get(child_doc, "name"));
    if (!name || name[0] != 'c' || !name[1] || strspn(name + 1, "0123456789") != strlen(name + 1))
        return -1;
    return strtol(name + 1, NULL, 10);
}

/* Maps children to circuit indices: child_job_ids order (what IonQ's own client assumes),
 * spot-checked against the children's names; when a name contradicts the order, every child is
 * read and matched by name. order[i] = the child id of circuit i (borrowed from ids). */
static int map_children(struct ionq_backend *b, const struct cj_sub *sub, const json_t *ids,
                        int by_name, const char **order, fw_error *err)
{
    size_t n = sub->count;
    if (json_array_size(ids) != n)
        return fw_error_set(err, FW_EIO, "IonQ job %s has %zu child jobs for %zu circuits", sub->id,
                            json_array_size(ids), n);
    for (size_t i = 0; i < n; i++)
        if (!cj_valid_id(json_string_value(json_array_get(ids, i))))
            return fw_error_set(err, FW_EIO, "IonQ job %s lists an invalid child job id", sub->id);
    size_t probes[3] = {0, n / 2, n - 1};
    int contradicted = by_name;
    for (size_t p = 0; p < 3 && !contradicted; p++) {
        if (p && probes[p] == probes[p - 1])
            continue;
        json_t *child = NULL;
        int rc = get_job(b, json_string_value(json_array_get(ids, probes[p])), &child, err);
        if (rc)
            return rc;
        long k = child_index(child);
        contradicted = k >= 0 && (size_t)k != probes[p];
        json_decref(child);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = contradicted ? NULL : json_string_value(json_array_get(ids, i));
    if (!contradicted)
        return FW_OK;
    for (size_t i = 0; i < n; i++) {
        const char *cid = json_string_value(json_array_get(ids, i));
        json_t *child = NULL;
        int rc = get_job(b, cid, &child, err);
        if (rc)
            return rc;
        long k = child_index(child);
        json_decref(child);
        if (k < 0 || (size_t)k >= n || order[k])
            return fw_error_set(err, FW_EIO,
                                "IonQ job %s: child %s does not name a circuit of the batch",
                                sub->id, cid);
        order[k] = cid;
    }
    return FW_OK;
}

static int fetch_multi(struct ionq_backend *b, struct cj_sub *sub, double *p0, fw_error *err)
{
    const json_t *ids = json_object_get(sub->doc, "child_job_ids");
    const char **order = calloc(sub->count, sizeof *order);
    json_t *agg = NULL, *keys = NULL;
    char *url = NULL;
    int rc;
    if (!order)
        return FW_ENOMEM;
    /* the aggregated map: direct route, then the job's results URL, then the artifact */
    if (!(url = url_of(b, sub->id, "/results/probabilities/aggregated"))) {
        rc = FW_ENOMEM;
        goto cleanup;
    }
    rc = get_doc(b, url, "results", &agg, err);
    free(url), url = NULL;
    if (rc == FW_ENOTFOUND && (url = results_url(b, sub->doc))) {
        rc = get_doc(b, url, "results", &agg, err);
        free(url), url = NULL;
    }
    const char *aid = artifact_id(sub->doc, "ionq.result.probabilities-aggregate.json.v1");
    if (rc == FW_ENOTFOUND && aid) {
        char suffix[CJ_ID_MAX + 16];
        snprintf(suffix, sizeof suffix, "/artifacts/%s", aid);
        if (!(url = url_of(b, sub->id, suffix))) {
            rc = FW_ENOMEM;
            goto cleanup;
        }
        rc = get_doc(b, url, "a result artifact", &agg, err);
        free(url), url = NULL;
    }
    if (rc != FW_OK && rc != FW_ENOTFOUND)
        goto cleanup;
    if (!json_is_object(agg))
        json_decref(agg), agg = NULL;
    /* children: child_job_ids, else the aggregated map's keys (in no documented order) */
    int by_name = 0;
    if (!json_is_array(ids) && agg) {
        const char *key;
        json_t *value;
        if (!(keys = json_array())) {
            rc = FW_ENOMEM;
            goto cleanup;
        }
        json_object_foreach(agg, key, value)
        {
            if (json_array_append_new(keys, json_string(key))) {
                rc = FW_ENOMEM;
                goto cleanup;
            }
        }
        ids = keys;
        by_name = 1;
    }
    if ((rc = map_children(b, sub, ids, by_name, order, err)))
        goto cleanup;
    for (size_t i = 0; i < sub->count; i++) {
        const json_t *map = json_object_get(agg, order[i]);
        if (map && p0_of_map(map, 0, 0, &p0[i]) == 0)
            continue;
        /* not in an aggregated map: the child's own results */
        if ((rc = fetch_single(b, order[i], NULL, &p0[i], err)))
            goto cleanup;
    }
cleanup:
    json_decref(agg);
    json_decref(keys);
    free(order);
    return rc;
}

static int fetch(struct qbackend *base, struct qjob *j, double *p0, uint64_t *zeros, fw_error *err)
{
    struct ionq_backend *b = (struct ionq_backend *)base;
    struct cj_job *job = (struct cj_job *)j;
    double *out = malloc((job->n ? job->n : 1) * sizeof *out);
    int rc = FW_OK;
    if (!out)
        return FW_ENOMEM;
    for (size_t k = 0; k < job->n_subs && rc == FW_OK; k++) {
        struct cj_sub *sub = &job->subs[k];
        if ((rc = cj_sub_done(sub, "IonQ", err)))
            break;
        if (!sub->doc && (rc = get_job(b, sub->id, &sub->doc, err)))
            break;
        if (sub->count == 1)
            rc = fetch_single(b, sub->id, sub->doc, &out[sub->first], err);
        else
            rc = fetch_multi(b, sub, &out[sub->first], err);
    }
    if (rc == FW_OK) {
        memcpy(p0, out, job->n * sizeof *p0);
        if (zeros)
            for (size_t i = 0; i < job->n; i++)
                zeros[i] = (uint64_t)llround(out[i] * job->shots);
    }
    free(out);
    return rc;
}

/* ---- cancel and the rest ------------------------------------------------------------------- */

static char *cancel_url(struct cj_cloud *c, const struct cj_sub *sub)
{
    return url_of((struct ionq_backend *)c, sub->id, "/status/cancel");
}

static int cancel_send(struct cj_cloud *c, const char *url, struct hc_response *resp, fw_error *err)
{
    return call((struct ionq_backend *)c, "PUT", url, NULL, 0, resp, err);
}

static int cancel_read(struct cj_cloud *c, struct cj_sub *sub, const struct hc_response *resp,
                       const char *what, fw_error *err)
{
    if (!hc_ok(resp->status))
        return answer_error((struct ionq_backend *)c, what, resp, err);
    json_t *doc = json_loadb(resp->body, resp->len, 0, NULL);
    enum qjob_state s = state_of(json_string_value(json_object_get(doc, "status")));
    /* cancelling a completed job is a no-op (§2.6): keep what it says */
    sub->state = (int)s >= 0 && s != QJOB_QUEUED && s != QJOB_RUNNING ? s : QJOB_CANCELLED;
    json_decref(doc);
    return FW_OK;
}

/* A failed job is reported once the rest of the round has been polled too. */
static const struct cj_provider ionq_cloud = {poll_one, 1, cancel_url, cancel_send, cancel_read};

static void destroy(struct qbackend *base)
{
    struct ionq_backend *b = (struct ionq_backend *)base;
    if (!b)
        return;
    cj_free_secret(b->api_key);
    cj_free_secret(b->auth_header);
    free(b->base_url);
    free(b->origin);
    free(b->device);
    free(b->noise_model);
    free(b);
}

static const struct qbackend_ops ionq_ops = {
    "ionq", 1, plan, submit, cj_poll_op, fetch, cj_cancel_op, cj_job_ids, cj_job_free, destroy};

static int valid_name(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == len;
}

int ionq_backend_create(const struct ionq_config *cfg, struct qbackend **out, fw_error *err)
{
    if (!cfg->api_key || !*cfg->api_key)
        return fw_error_set(err, FW_EINVAL, "IonQ needs an API key: set %s", CREDS_IONQ_API_KEY);
    if (!cj_printable(cfg->api_key))
        return fw_error_set(err, FW_EINVAL,
                            "the IonQ API key (%s) contains spaces or control characters",
                            CREDS_IONQ_API_KEY);
    const char *device = cfg->backend ? cfg->backend : "simulator";
    if (!valid_name(device))
        return fw_error_set(err, FW_EINVAL, "'%.40s' is not an IonQ backend name", device);
    if (cfg->noise_model && strcmp(device, "simulator"))
        return fw_error_set(err, FW_EINVAL,
                            "an IonQ noise model applies only to the simulator, not to %s", device);
    if (cfg->noise_model && !valid_name(cfg->noise_model))
        return fw_error_set(err, FW_EINVAL, "'%.40s' is not an IonQ noise model name",
                            cfg->noise_model);
    const char *base_url = cfg->base_url ? cfg->base_url : IONQ_DEFAULT_URL;
    const char *scheme_end = strstr(base_url, "://");
    if (!cj_http_url(base_url))
        return fw_error_set(err, FW_EINVAL, "the IonQ URL must start with https:// or http://");
    struct ionq_backend *b = cj_cloud_new(sizeof *b, &ionq_ops, &ionq_cloud);
    if (!b)
        return FW_ENOMEM;
    size_t base_len = strlen(base_url);
    while (base_len && base_url[base_len - 1] == '/')
        base_len--;
    const char *host_end = strchr(scheme_end + 3, '/');
    size_t origin_len = host_end ? (size_t)(host_end - base_url) : base_len;
    size_t key_len = strlen(cfg->api_key);
    b->base_url = strndup(base_url, base_len);
    b->origin = strndup(base_url, origin_len);
    b->api_key = strdup(cfg->api_key);
    b->auth_header = malloc(key_len + 32);
    b->device = strdup(device);
    b->noise_model = cfg->noise_model ? strdup(cfg->noise_model) : NULL;
    if (!b->base_url || !b->origin || !b->api_key || !b->auth_header || !b->device ||
        (cfg->noise_model && !b->noise_model)) {
        destroy(&b->cloud.base);
        return FW_ENOMEM;
    }
    snprintf(b->auth_header, key_len + 32, "Authorization: apiKey %s", cfg->api_key);
    b->noise_seed = cfg->noise_seed;
    b->debias = cfg->debias;
    b->max_per_job = cfg->max_circuits_per_job > 0 ? cfg->max_circuits_per_job : 1000;
    b->timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30;
    b->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
    b->retry_base = cfg->retry_base_seconds > 0 ? cfg->retry_base_seconds : 1.0;
    *out = &b->cloud.base;
    return FW_OK;
}
