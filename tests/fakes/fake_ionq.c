/* fake_ionq — a fake IonQ v0.4 server on 127.0.0.1 (see fake_ionq.h): IonQ's protocol only (its
 * routes, error bodies, jobs and results); the server, faults and log are fake_http's. The fake
 * owns its jobs and copies; what it returns is the caller's. */
#include "fake_ionq.h"
#include "fake_http.h"

#include "model/rng.h"
#include "quantum/circuit.h"

#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FI_ID_LEN 40 /* a uuid and its NUL; within FAKE_HTTP_ID_MAX */

enum fi_status { FI_SUBMITTED, FI_READY, FI_STARTED, FI_COMPLETED, FI_CANCELED, FI_FAILED };

struct fi_job {
    struct fake_http_job head; /* id, deleted */
    char *name;
    char *type;
    char *backend;
    json_t *noise, *settings, *metadata; /* echoed as sent */
    int shots;
    int circuits, gates;
    enum fi_status status;
    int polls, fails;
    double p0; /* probability of 0 as reported (single circuits, children) */
    int exact; /* reported probabilities are exact (ideal simulator) */
    struct fi_job *parent;
    struct fi_job **children;
    int n_children;
    time_t submitted_at;
};

/* The core's fault kinds are this fake's first four. */
_Static_assert(FAKE_IONQ_STATUS == (int)FAKE_HTTP_STATUS &&
                   FAKE_IONQ_MALFORMED == (int)FAKE_HTTP_MALFORMED &&
                   FAKE_IONQ_SLOW == (int)FAKE_HTTP_SLOW && FAKE_IONQ_DROP == (int)FAKE_HTTP_DROP,
               "fake_ionq's fault kinds start with fake_http's");

struct fake_ionq {
    struct fake_http http; /* the server, its lock (over all of this), faults and log */
    struct fake_ionq_options opt;
    char *api_key;
    char url[64];
    rng gen;
    int fail_jobs, fast_forward;
    struct fake_ionq_stats stats; /* requests and faults_served are the core's */
};

/* ---- small helpers ------------------------------------------------------------------------- */

static struct fake_http_answer fi_error(int status, const char *message)
{
    static const struct {
        int status;
        const char *text;
    } names[] = {{400, "Bad Request"},
                 {401, "Unauthorized"},
                 {403, "Forbidden"},
                 {404, "Not Found"},
                 {409, "Conflict"},
                 {429, "Too Many Requests"},
                 {500, "Internal Server Error"},
                 {502, "Bad Gateway"},
                 {503, "Service Unavailable"},
                 {504, "Gateway Timeout"}};
    const char *text = "Error";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].status == status)
            text = names[i].text;
    struct fake_http_answer a = {status,
                                 fake_http_dump(json_pack("{s:i, s:s, s:s}", "statusCode", status,
                                                          "error", text, "message", message)),
                                 -1};
    return a;
}

static struct fake_http_answer fi_invalid(struct fake_ionq *f, const char *key, const char *message)
{
    f->stats.invalid++;
    struct fake_http_answer a = {
        400,
        fake_http_dump(json_pack("{s:i, s:s, s:s, s:{s:[s], s:s}}", "statusCode", 400, "error",
                                 "Bad Request", "message", message, "validation", "keys", key,
                                 "source", "body")),
        -1};
    return a;
}

static void fi_uuid(struct fake_ionq *f, char *out)
{
    uint64_t a = rng_next(&f->gen), b = rng_next(&f->gen);
    snprintf(out, FI_ID_LEN, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static const char *fi_status_name(const struct fake_ionq *f, enum fi_status s)
{
    switch (s) {
    case FI_SUBMITTED:
        return "submitted";
    case FI_READY:
        return "ready";
    case FI_STARTED:
        return f->opt.running_spelling ? "running" : "started";
    case FI_COMPLETED:
        return "completed";
    case FI_CANCELED:
        return "canceled";
    default:
        return "failed";
    }
}

static struct fi_job *fi_find(struct fake_ionq *f, const char *id)
{
    return (struct fi_job *)fake_http_find_job(&f->http, id);
}

static void fi_job_free(struct fi_job *j)
{
    if (!j)
        return;
    free(j->name);
    free(j->type);
    free(j->backend);
    json_decref(j->noise);
    json_decref(j->settings);
    json_decref(j->metadata);
    free(j->children);
    free(j);
}

static void fi_free_job(struct fake_http_job *j)
{
    fi_job_free((struct fi_job *)j);
}

/* ---- circuits and results ------------------------------------------------------------------ */

static const char *const fi_gates[] = {"x",    "y",    "z",  "rx", "ry", "rz",      "h",
                                       "s",    "si",   "v",  "vi", "t",  "ti",      "not",
                                       "cnot", "swap", "xx", "yy", "zz", "pauliexp"};

/* Appends a rotation, folding the circuit into its ZYZ form when it is full. */
static void fi_add(struct qcircuit *c, enum qgate_kind kind, double angle)
{
    if (c->n >= CIRCUIT_MAX_GATES) {
        double theta, phi, lambda;
        circuit_zyz(c, &theta, &phi, &lambda);
        c->n = 0;
        circuit_add(c, QGATE_RZ, lambda);
        circuit_add(c, QGATE_RY, theta);
        circuit_add(c, QGATE_RZ, phi);
    }
    circuit_add(c, kind, angle);
}

/* Validates one qis circuit (a gate array) and folds it into c. Returns NULL or the offending
 * key suffix in keybuf. */
static const char *fi_circuit(const json_t *gates, int qubits, struct qcircuit *c, int *n_gates,
                              char *keybuf, size_t size, const char *prefix)
{
    size_t i;
    json_t *g;
    c->n = 0;
    if (!json_is_array(gates) || json_array_size(gates) == 0) {
        snprintf(keybuf, size, "%s", prefix);
        return keybuf;
    }
    json_array_foreach(gates, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "gate"));
        int known = 0;
        for (size_t k = 0; name && k < sizeof fi_gates / sizeof fi_gates[0]; k++)
            known |= !strcmp(name, fi_gates[k]);
        if (!json_is_object(g) || !known) {
            snprintf(keybuf, size, "%s.%zu.gate", prefix, i);
            return keybuf;
        }
        const char *key;
        json_t *v;
        json_object_foreach(g, key, v)
        {
            if (strcmp(key, "gate") && strcmp(key, "target") && strcmp(key, "targets") &&
                strcmp(key, "control") && strcmp(key, "controls") && strcmp(key, "rotation")) {
                snprintf(keybuf, size, "%s.%zu.%s", prefix, i, key);
                return keybuf;
            }
        }
        const json_t *target = json_object_get(g, "target");
        if (!json_is_integer(target) || json_integer_value(target) < 0 ||
            json_integer_value(target) >= qubits || json_object_get(g, "control") ||
            json_object_get(g, "controls") || json_object_get(g, "targets")) {
            /* the fake simulates one qubit: multi-qubit forms are refused as out of range */
            snprintf(keybuf, size, "%s.%zu.target", prefix, i);
            return keybuf;
        }
        const json_t *rot = json_object_get(g, "rotation");
        int rotation_gate = !strcmp(name, "rx") || !strcmp(name, "ry") || !strcmp(name, "rz");
        if (rotation_gate != (rot != NULL) ||
            (rot && (!json_is_number(rot) || !isfinite(json_number_value(rot))))) {
            snprintf(keybuf, size, "%s.%zu.rotation", prefix, i);
            return keybuf;
        }
        double a = rot ? json_number_value(rot) : 0;
        if (!strcmp(name, "rx"))
            fi_add(c, QGATE_RX, a);
        else if (!strcmp(name, "ry"))
            fi_add(c, QGATE_RY, a);
        else if (!strcmp(name, "rz"))
            fi_add(c, QGATE_RZ, a);
        else if (!strcmp(name, "x") || !strcmp(name, "not"))
            fi_add(c, QGATE_RX, M_PI);
        else if (!strcmp(name, "y"))
            fi_add(c, QGATE_RY, M_PI);
        else if (!strcmp(name, "z"))
            fi_add(c, QGATE_RZ, M_PI);
        else if (!strcmp(name, "h")) /* H = RY(pi/2) Z up to a phase */
            fi_add(c, QGATE_RZ, M_PI), fi_add(c, QGATE_RY, M_PI / 2);
        else if (!strcmp(name, "s") || !strcmp(name, "si"))
            fi_add(c, QGATE_RZ, name[1] ? -M_PI / 2 : M_PI / 2);
        else if (!strcmp(name, "t") || !strcmp(name, "ti"))
            fi_add(c, QGATE_RZ, name[1] ? -M_PI / 4 : M_PI / 4);
        else if (!strcmp(name, "v") || !strcmp(name, "vi"))
            fi_add(c, QGATE_RX, name[1] ? -M_PI / 2 : M_PI / 2);
        else { /* two-qubit gates cannot act on one qubit */
            snprintf(keybuf, size, "%s.%zu.gate", prefix, i);
            return keybuf;
        }
    }
    *n_gates = (int)json_array_size(gates);
    return NULL;
}

/* IonQ's depolarising strength per one-qubit gate for a device or noise model (§2.10). */
static double fi_r1q(const char *model)
{
    if (strstr(model, "aria-2"))
        return 6.573e-4;
    if (strstr(model, "aria"))
        return 5.0e-4;
    if (strstr(model, "harmony"))
        return 1.0e-3;
    return 2.667e-4; /* forte and later */
}

/* The reported P(0) of a circuit: exact on the ideal simulator, else shots draws. */
static double fi_measure(struct fake_ionq *f, const struct qcircuit *c, int gates, int shots,
                         const char *noise_model, int *exact)
{
    double p0 = circuit_p0(c);
    if (!noise_model || !strcmp(noise_model, "ideal")) {
        *exact = 1;
        return p0;
    }
    double shrink = pow(1.0 - fi_r1q(noise_model), gates);
    double p = 0.5 + (p0 - 0.5) * shrink;
    int zeros = 0;
    for (int s = 0; s < shots; s++)
        zeros += rng_uniform(&f->gen) < p;
    *exact = 0;
    return (double)zeros / shots;
}

/* {"0": p0, "1": p1} without zero entries; an exact 1 as the integer 1. */
static json_t *fi_probabilities(const struct fi_job *j, int bitstrings)
{
    json_t *map = json_object();
    double p[2] = {j->p0, 1.0 - j->p0};
    for (int k = 0; k < 2; k++) {
        if (p[k] < 1e-12) /* statevector round-off is reported as an absent key */
            continue;
        json_t *v = p[k] > 1.0 - 1e-12 ? json_integer(1) : json_real(p[k]);
        json_object_set_new(map, bitstrings ? (k ? "1" : "0") : (k ? "1" : "0"), v);
    }
    return map;
}

/* ---- routes -------------------------------------------------------------------------------- */

static const char *const fi_backends[] = {"simulator",
                                          "qpu.aria-1",
                                          "qpu.aria-2",
                                          "qpu.forte-1",
                                          "qpu.forte-enterprise-1",
                                          "qpu.forte-enterprise-2",
                                          "qpu.forte-enterprise-3"};
static const char *const fi_models[] = {"ideal",  "harmony", "harmony-1", "harmony-2",
                                        "aria-1", "aria-2",  "forte-1",   "forte-enterprise-1"};

static int fi_listed(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, list[i]))
            return 1;
    return 0;
}

static struct fi_job *fi_new_job(const char *type, const char *backend, int shots)
{
    struct fi_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->type = strdup(type);
    j->backend = strdup(backend);
    j->shots = shots;
    j->submitted_at = time(NULL);
    if (!j->type || !j->backend) {
        fi_job_free(j);
        return NULL;
    }
    return j;
}

static struct fake_http_answer fi_create(struct fake_ionq *f, const char *body, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    struct fake_http_answer a = {0, NULL, -1};
    struct fi_job *job = NULL;
    char key[160];
    if (!json_is_object(doc)) {
        a = fi_invalid(f, "body", "the body is not a JSON object");
        goto cleanup;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    const char *backend = json_string_value(json_object_get(doc, "backend"));
    const json_t *shots_v = json_object_get(doc, "shots");
    const json_t *input = json_object_get(doc, "input");
    const json_t *noise = json_object_get(doc, "noise");
    const json_t *metadata = json_object_get(doc, "metadata");
    const json_t *name_v = json_object_get(doc, "name");
    const json_t *settings = json_object_get(doc, "settings");
    int multi = type && !strcmp(type, "ionq.multi-circuit.v1");
    if (!type || (!multi && strcmp(type, "ionq.circuit.v1"))) {
        a = fi_invalid(f, "type", "type must be ionq.circuit.v1 or ionq.multi-circuit.v1");
        goto cleanup;
    }
    if (!fi_listed(backend, fi_backends, sizeof fi_backends / sizeof fi_backends[0])) {
        a = fi_invalid(f, "backend", "unknown backend");
        goto cleanup;
    }
    long long shots = shots_v ? json_integer_value(shots_v) : 100;
    if ((shots_v && !json_is_integer(shots_v)) || shots < 1 || shots > 1000000) {
        a = fi_invalid(f, "shots", "shots must be an integer from 1 to 1000000");
        goto cleanup;
    }
    const char *model = NULL;
    if (noise) {
        model = json_string_value(json_object_get(noise, "model"));
        const json_t *seed = json_object_get(noise, "seed");
        if (strcmp(backend, "simulator")) {
            a = fi_invalid(f, "noise", "noise applies only to the simulator");
            goto cleanup;
        }
        if (!json_is_object(noise) ||
            !fi_listed(model, fi_models, sizeof fi_models / sizeof fi_models[0]) ||
            (seed && !json_is_integer(seed))) {
            a = fi_invalid(f, "noise.model", "unknown noise model");
            goto cleanup;
        }
    }
    if (!strncmp(backend, "qpu.", 4))
        model = backend + 4;
    if (metadata) {
        const char *k;
        json_t *v;
        if (!json_is_object(metadata) || json_object_size(metadata) > 10) {
            a = fi_invalid(f, "metadata", "metadata must be an object of at most 10 strings");
            goto cleanup;
        }
        json_object_foreach((json_t *)metadata, k, v)
        {
            if (!json_is_string(v) || strlen(k) > 40) {
                snprintf(key, sizeof key, "metadata.%.60s", k);
                a = fi_invalid(f, key, "metadata values must be strings");
                goto cleanup;
            }
        }
    }
    const char *name = json_string_value(name_v);
    if (name_v && (!name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789 _-") != strlen(name))) {
        a = fi_invalid(f, "name", "name may hold only letters, digits, spaces, - and _");
        goto cleanup;
    }
    const json_t *debias =
        json_object_get(json_object_get(settings, "error_mitigation"), "debiasing");
    if (settings && (!json_is_object(settings) || (debias && !json_is_boolean(debias)))) {
        a = fi_invalid(f, "settings.error_mitigation.debiasing", "debiasing must be a boolean");
        goto cleanup;
    }
    const json_t *qubits_v = json_object_get(input, "qubits");
    const char *gateset = json_string_value(json_object_get(input, "gateset"));
    if (!json_is_object(input) || !gateset || strcmp(gateset, "qis")) {
        a = fi_invalid(f, "input.gateset", "the fake accepts the qis gateset");
        goto cleanup;
    }
    if (!json_is_integer(qubits_v) || json_integer_value(qubits_v) != 1) {
        a = fi_invalid(f, "input.qubits", "the fake simulates qubits = 1");
        goto cleanup;
    }
    job = fi_new_job(type, backend, (int)shots);
    if (!job) {
        a = fi_error(500, "out of memory");
        goto cleanup;
    }
    job->name = strdup(name ? name : "");
    job->noise = json_incref((json_t *)noise);
    job->settings = json_incref((json_t *)settings);
    job->metadata = json_incref((json_t *)metadata);
    if (!multi) {
        struct qcircuit c;
        if (fi_circuit(json_object_get(input, "circuit"), 1, &c, &job->gates, key, sizeof key,
                       "input.circuit")) {
            a = fi_invalid(f, key, "invalid gate");
            goto cleanup;
        }
        job->circuits = 1;
        job->p0 = fi_measure(f, &c, job->gates, job->shots, model, &job->exact);
    } else {
        const json_t *circuits = json_object_get(input, "circuits");
        size_t n = json_array_size(circuits);
        int max = f->opt.max_circuits > 0 ? f->opt.max_circuits : 5000;
        if (!json_is_array(circuits) || n == 0 || n > (size_t)max) {
            snprintf(key, sizeof key, "too many or no circuits (at most %d)", max);
            a = fi_invalid(f, "input.circuits", key);
            goto cleanup;
        }
        job->children = calloc(n, sizeof *job->children);
        if (!job->children) {
            a = fi_error(500, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *entry = json_array_get(circuits, i);
            const char *cname = json_string_value(json_object_get(entry, "name"));
            const char *gs = json_string_value(json_object_get(entry, "gateset"));
            char prefix[64];
            snprintf(prefix, sizeof prefix, "input.circuits.%zu.circuit", i);
            struct qcircuit c;
            int gates = 0;
            if (gs && strcmp(gs, "qis")) {
                snprintf(key, sizeof key, "input.circuits.%zu.gateset", i);
                a = fi_invalid(f, key, "the fake accepts the qis gateset");
                goto cleanup;
            }
            if (fi_circuit(json_object_get(entry, "circuit"), 1, &c, &gates, key, sizeof key,
                           prefix)) {
                a = fi_invalid(f, key, "invalid gate");
                goto cleanup;
            }
            struct fi_job *child = fi_new_job("ionq.circuit.v1", backend, (int)shots);
            if (!child || fake_http_add_job(&f->http, &child->head)) {
                fi_job_free(child);
                a = fi_error(500, "out of memory");
                goto cleanup;
            }
            fi_uuid(f, child->head.id);
            child->name = strdup(cname ? cname : "");
            child->parent = job;
            child->circuits = 1;
            child->gates = gates;
            child->p0 = fi_measure(f, &c, gates, child->shots, model, &child->exact);
            job->children[job->n_children++] = child;
            job->gates += gates;
        }
        job->circuits = (int)n;
    }
    fi_uuid(f, job->head.id);
    if (f->fail_jobs > 0) {
        f->fail_jobs--;
        job->fails = 1;
    }
    if (fake_http_add_job(&f->http, &job->head)) {
        a = fi_error(500, "out of memory");
        goto cleanup;
    }
    f->stats.jobs_created++;
    a.status = 201;
    a.body = fake_http_dump(
        json_pack("{s:s, s:s, s:n}", "id", job->head.id, "status", "submitted", "session_id"));
    job = NULL;
cleanup:
    if (job) { /* children already registered stay as orphans the client never sees */
        for (int i = 0; i < job->n_children; i++)
            job->children[i]->head.deleted = 1;
        fi_job_free(job);
    }
    json_decref(doc);
    return a;
}

static void fi_set_status(struct fi_job *j, enum fi_status s)
{
    j->status = s;
    for (int i = 0; i < j->n_children; i++)
        j->children[i]->status = s;
}

static void fi_advance(struct fake_ionq *f, struct fi_job *j)
{
    if (j->status >= FI_COMPLETED)
        return;
    int per = f->opt.polls_per_state > 0 ? f->opt.polls_per_state : 1;
    if (f->fast_forward) {
        fi_set_status(j, j->fails ? FI_FAILED : FI_COMPLETED);
        return;
    }
    if (++j->polls % per)
        return;
    /* a failing job fails where IonQ finds unsupported input: while it is checked */
    fi_set_status(j, j->fails ? FI_FAILED : (enum fi_status)(j->status + 1));
}

static void fi_result_urls(struct fake_ionq *f, const struct fi_job *j, json_t *obj)
{
    int parent = j->n_children > 0;
    char url[192], aid[96];
    switch (f->opt.results) {
    case FAKE_IONQ_RESULTS_DIRECT:
    case FAKE_IONQ_RESULTS_URL_ONLY:
        snprintf(url, sizeof url, "/v0.4/jobs/%s/results/probabilities%s%s", j->head.id,
                 parent ? "/aggregated" : "",
                 f->opt.results == FAKE_IONQ_RESULTS_URL_ONLY ? "?via=url" : "");
        json_object_set_new(obj, "results", json_pack("{s:{s:s}}", "probabilities", "url", url));
        break;
    case FAKE_IONQ_RESULTS_ARTIFACTS:
        snprintf(aid, sizeof aid, "art-%s-%s", j->head.id, parent ? "agg" : "p2");
        json_object_set_new(obj, "results",
                            json_pack("{s:{s:s}}",
                                      parent ? "ionq.result.probabilities-aggregate.json.v1"
                                             : "ionq.result.probabilities.json.v2",
                                      "id", aid));
        break;
    case FAKE_IONQ_RESULTS_CHILDREN:
        snprintf(url, sizeof url, "/v0.4/jobs/%s/results/probabilities", j->head.id);
        json_object_set_new(obj, "results",
                            parent ? json_null()
                                   : json_pack("{s:{s:s}}", "probabilities", "url", url));
        break;
    }
}

static json_t *fi_job_object(struct fake_ionq *f, struct fi_job *j)
{
    json_t *children = json_null();
    if (j->n_children && !f->opt.hide_child_ids) {
        children = json_array();
        for (int i = 0; i < j->n_children; i++) {
            int k = f->opt.shuffle_children ? j->n_children - 1 - i : i;
            json_array_append_new(children, json_string(j->children[k]->head.id));
        }
    }
    char submitted[32];
    struct tm tm;
    gmtime_r(&j->submitted_at, &tm);
    strftime(submitted, sizeof submitted, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int started = j->status >= FI_STARTED, done = j->status >= FI_COMPLETED;
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:n, s:s, s:i, s:{s:i, s:i, s:{s:i, s:i}}, "
        "s:s, s:o, s:o, s:i, s:n}",
        "id", j->head.id, "status", fi_status_name(f, j->status), "type", j->type, "backend",
        j->backend, "dry_run", 0, "submitter_id", "fake-user", "project_id", "fake-project",
        "parent_job_id", j->parent ? json_string(j->parent->head.id) : json_null(), "child_job_ids",
        children, "session_id", "name", j->name ? j->name : "", "shots", j->shots, "stats",
        "qubits", 1, "circuits", j->circuits, "gate_counts", "1q", j->gates, "2q", 0,
        "submitted_at", submitted, "started_at", started ? json_string(submitted) : json_null(),
        "completed_at", done ? json_string(submitted) : json_null(), "predicted_wait_time_ms", 0,
        "failure");
    if (j->noise && !strcmp(j->backend, "simulator"))
        json_object_set(obj, "noise", j->noise);
    if (j->settings)
        json_object_set(obj, "settings", j->settings);
    json_object_set_new(obj, "metadata", j->metadata ? json_incref(j->metadata) : json_object());
    if (j->status == FI_FAILED)
        json_object_set_new(obj, "failure",
                            json_pack("{s:s, s:s}", "code", "UnsupportedGate", "message",
                                      "the fake was told to fail this job"));
    if (done && j->status == FI_COMPLETED)
        fi_result_urls(f, j, obj);
    else
        json_object_set_new(obj, "results", json_null());
    return obj;
}

static json_t *fi_aggregated(struct fi_job *j)
{
    json_t *map = json_object();
    for (int i = 0; i < j->n_children; i++)
        json_object_set_new(map, j->children[i]->head.id, fi_probabilities(j->children[i], 0));
    return map;
}

/* /jobs/{id}/results/probabilities[/aggregated] and /jobs/{id}/artifacts/{aid} */
static struct fake_http_answer fi_results(struct fake_ionq *f, struct fi_job *j, const char *rest,
                                          const char *via)
{
    struct fake_http_answer a = {200, NULL, -1};
    enum fake_ionq_results style = f->opt.results;
    f->stats.result_reads++;
    if (j->status != FI_COMPLETED)
        return fi_error(404, "the job has no results yet");
    int parent = j->n_children > 0;
    if (!strncmp(rest, "/artifacts/", 11)) {
        if (style != FAKE_IONQ_RESULTS_ARTIFACTS)
            return fi_error(404, "no such artifact");
        char aid[96];
        snprintf(aid, sizeof aid, "art-%s-%s", j->head.id, parent ? "agg" : "p2");
        if (strcmp(rest + 11, aid))
            return fi_error(404, "no such artifact");
        if (parent)
            a.body = fake_http_dump(fi_aggregated(j));
        else
            a.body = fake_http_dump(json_pack("{s:{s:{s:o}}}", "probabilities", "registers",
                                              "output_all", fi_probabilities(j, 1)));
        return a;
    }
    int aggregated = !strcmp(rest, "/results/probabilities/aggregated");
    if (!aggregated && strcmp(rest, "/results/probabilities"))
        return fi_error(404, "no such route");
    int allowed = style == FAKE_IONQ_RESULTS_DIRECT ||
                  (style == FAKE_IONQ_RESULTS_URL_ONLY && via && !strcmp(via, "url")) ||
                  (style == FAKE_IONQ_RESULTS_CHILDREN && !parent);
    if (!allowed || aggregated != parent)
        return fi_error(404, "no results at this route");
    a.body = fake_http_dump(parent ? fi_aggregated(j) : fi_probabilities(j, 0));
    return a;
}

static struct fake_http_answer fi_cancel(struct fake_ionq *f, struct fi_job *j)
{
    f->stats.cancels++;
    if (j->status < FI_COMPLETED)
        fi_set_status(j, FI_CANCELED);
    struct fake_http_answer a = {200,
                                 fake_http_dump(json_pack("{s:s, s:s}", "id", j->head.id, "status",
                                                          fi_status_name(f, j->status))),
                                 -1};
    return a;
}

static struct fake_http_answer fi_route(struct fake_ionq *f, const char *method, const char *path,
                                        const char *auth, const char *via, const char *body,
                                        size_t len)
{
    static const char prefix[] = "/v0.4";
    if (strncmp(path, prefix, sizeof prefix - 1))
        return fi_error(404, "unknown API version");
    path += sizeof prefix - 1;
    if (!strcmp(method, "GET") && !strcmp(path, "/backends")) {
        struct fake_http_answer a = {
            200,
            fake_http_dump(json_pack("[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}]", "backend",
                                     "simulator", "status", "available", "qubits", 29,
                                     "average_queue_time", 0, "backend", "qpu.forte-1", "status",
                                     "available", "qubits", 36, "average_queue_time", 3600000)),
            -1};
        return a;
    }
    char expected[1200];
    snprintf(expected, sizeof expected, "apiKey %s", f->api_key);
    if (!auth || strcmp(auth, expected)) {
        f->stats.unauthorized++;
        return fi_error(401, "Invalid or missing API key");
    }
    if (!strcmp(path, "/whoami") && !strcmp(method, "GET")) {
        struct fake_http_answer a = {
            200,
            fake_http_dump(json_pack("{s:s, s:s, s:s}", "key_id", "k1", "key_name", "fake",
                                     "project_id", "fake-project")),
            -1};
        return a;
    }
    if (!strcmp(path, "/jobs")) {
        if (strcmp(method, "POST"))
            return fi_error(404, "no such route");
        fake_http_keep_body(&f->http, body, len);
        return fi_create(f, body ? body : "", len);
    }
    if (!strcmp(path, "/jobs/status/cancel") && !strcmp(method, "PUT")) {
        json_t *doc = json_loadb(body ? body : "", len, 0, NULL);
        const json_t *ids = json_object_get(doc, "ids");
        if (!json_is_array(ids)) {
            json_decref(doc);
            return fi_invalid(f, "ids", "ids must be an array");
        }
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            struct fi_job *j = json_is_string(v) ? fi_find(f, json_string_value(v)) : NULL;
            if (j && j->status < FI_COMPLETED)
                fi_set_status(j, FI_CANCELED);
        }
        struct fake_http_answer a = {
            200, fake_http_dump(json_pack("{s:O, s:s}", "ids", ids, "status", "canceled")), -1};
        json_decref(doc);
        return a;
    }
    if (strncmp(path, "/jobs/", 6))
        return fi_error(404, "no such route");
    char id[FI_ID_LEN + 8];
    size_t id_len = strcspn(path + 6, "/");
    if (id_len == 0 || id_len >= sizeof id)
        return fi_error(404, "no such job");
    memcpy(id, path + 6, id_len);
    id[id_len] = '\0';
    const char *rest = path + 6 + id_len;
    struct fi_job *j = fi_find(f, id);
    if (!j)
        return fi_error(404, "Job not found");
    if (!*rest && !strcmp(method, "GET")) {
        if (!j->parent)
            fi_advance(f, j);
        struct fake_http_answer a = {200, fake_http_dump(fi_job_object(f, j)), -1};
        return a;
    }
    if (!*rest && !strcmp(method, "DELETE")) {
        j->head.deleted = 1;
        for (int i = 0; i < j->n_children; i++)
            j->children[i]->head.deleted = 1;
        struct fake_http_answer a = {
            200, fake_http_dump(json_pack("{s:s, s:s}", "id", j->head.id, "status", "deleted")),
            -1};
        return a;
    }
    if (!strcmp(rest, "/status/cancel") && !strcmp(method, "PUT"))
        return fi_cancel(f, j);
    if (!strcmp(method, "GET"))
        return fi_results(f, j, rest, via);
    return fi_error(404, "no such route");
}

/* ---- the server ---------------------------------------------------------------------------- */

static struct fake_http_answer fi_serve(void *ctx, const struct fake_http_request *rq)
{
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    const char *via = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "via");
    return fi_route(ctx, rq->method, rq->url, auth, via, rq->body, rq->len);
}

static struct fake_http_answer fi_fault_error(void *ctx, int status, const char *code,
                                              const char *message)
{
    (void)ctx, (void)code;
    return fi_error(status, message);
}

static void fi_log_request(void *ctx, const struct fake_http_request *rq,
                           const struct fake_http_answer *a, int truncated)
{
    struct fake_ionq *f = ctx;
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    const char *via = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "via");
    /* the log names the auth scheme, never the key */
    const char *space = auth ? strchr(auth, ' ') : NULL;
    fake_http_log(&f->http, "%s %s%s%s auth=%.*s -> %d%s body=%.200s", rq->method, rq->url,
                  via ? "?via=" : "", via ? via : "", auth ? (space ? (int)(space - auth) : 8) : 4,
                  auth ? auth : "none", a->status, truncated ? " (truncated)" : "",
                  rq->body ? rq->body : "");
}

struct fake_ionq *fake_ionq_start(const struct fake_ionq_options *options)
{
    struct fake_ionq *f = calloc(1, sizeof *f);
    if (!f || !options->api_key)
        goto fail;
    f->opt = *options;
    f->api_key = strdup(options->api_key);
    if (!f->api_key)
        goto fail;
    f->opt.api_key = f->api_key;
    rng_seed(&f->gen, options->seed);
    const struct fake_http_routes routes = {f,           fi_serve, fi_fault_error, fi_log_request,
                                            fi_free_job, 1};
    if (fake_http_start(&f->http, &routes))
        goto fail;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/v0.4", f->http.port);
    return f;
fail:
    fake_ionq_stop(f);
    return NULL;
}

void fake_ionq_stop(struct fake_ionq *f)
{
    if (!f)
        return;
    fake_http_stop(&f->http);
    free(f->api_key);
    free(f);
}

int fake_ionq_port(const struct fake_ionq *f)
{
    return f->http.port;
}

const char *fake_ionq_url(const struct fake_ionq *f)
{
    return f->url;
}

void fake_ionq_inject(struct fake_ionq *f, const struct fake_ionq_fault *fault)
{
    if (fault->kind == FAKE_IONQ_JOB_FAILS) {
        fake_http_lock(&f->http);
        f->fail_jobs += fault->count;
        fake_http_unlock(&f->http);
        return;
    }
    fake_http_queue_fault(&f->http, &FAKE_HTTP_FAULT_OF(fault));
}

void fake_ionq_stats(struct fake_ionq *f, struct fake_ionq_stats *out)
{
    fake_http_lock(&f->http);
    *out = f->stats;
    out->requests = f->http.requests;
    out->faults_served = f->http.faults_served;
    fake_http_unlock(&f->http);
}

char *fake_ionq_last_job_body(struct fake_ionq *f)
{
    return fake_http_last_body(&f->http);
}

char *fake_ionq_job_status(struct fake_ionq *f, const char *id)
{
    fake_http_lock(&f->http);
    struct fi_job *j = fi_find(f, id);
    char *copy = j ? strdup(fi_status_name(f, j->status)) : NULL;
    fake_http_unlock(&f->http);
    return copy;
}

char *fake_ionq_log(struct fake_ionq *f)
{
    return fake_http_log_copy(&f->http);
}

void fake_ionq_fast_forward(struct fake_ionq *f, int on)
{
    fake_http_lock(&f->http);
    f->fast_forward = on;
    fake_http_unlock(&f->http);
}
