/* fake_ionq — a fake IonQ v0.4 server on 127.0.0.1 (see fake_ionq.h). */
#include "fake_ionq.h"

#include "model/rng.h"
#include "quantum/circuit.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FI_MAX_BODY   (16 * 1024 * 1024)
#define FI_MAX_FAULTS 32
#define FI_ID_LEN     40

enum fi_status { FI_SUBMITTED, FI_READY, FI_STARTED, FI_COMPLETED, FI_CANCELED, FI_FAILED };

struct fi_job {
    char id[FI_ID_LEN];
    char *name;
    char *type;
    char *backend;
    json_t *noise, *settings, *metadata; /* echoed as sent */
    int shots;
    int circuits, gates;
    enum fi_status status;
    int polls, fails, deleted;
    double p0; /* probability of 0 as reported (single circuits, children) */
    int exact; /* reported probabilities are exact (ideal simulator) */
    struct fi_job *parent;
    struct fi_job **children;
    int n_children;
    time_t submitted_at;
};

struct fake_ionq {
    struct fake_ionq_options opt;
    char *api_key;
    struct MHD_Daemon *daemon;
    int port;
    char url[64];
    pthread_mutex_t lock;
    atomic_int stopping;
    rng gen;
    struct fi_job **jobs;
    int n_jobs, cap_jobs;
    struct fake_ionq_fault faults[FI_MAX_FAULTS];
    char fault_method[FI_MAX_FAULTS][16], fault_path[FI_MAX_FAULTS][128];
    int n_faults;
    int fail_jobs, fast_forward;
    struct fake_ionq_stats stats;
    char *last_body;
    char *log;
    size_t log_len, log_cap;
};

struct fi_conn {
    char *body;
    size_t len, cap;
    int too_big;
};

struct fi_answer {
    int status;
    char *body; /* malloc'd JSON text */
    int retry_after;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static void fi_log(struct fake_ionq *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fi_log(struct fake_ionq *f, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = strlen(line);
    if (f->log_len + len + 2 > f->log_cap) {
        size_t cap = f->log_cap ? f->log_cap * 2 : 8192;
        while (cap < f->log_len + len + 2)
            cap *= 2;
        char *grown = realloc(f->log, cap);
        if (!grown)
            return;
        f->log = grown;
        f->log_cap = cap;
    }
    memcpy(f->log + f->log_len, line, len);
    f->log_len += len;
    f->log[f->log_len++] = '\n';
    f->log[f->log_len] = '\0';
}

static char *fi_dump(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return text;
}

static struct fi_answer fi_error(int status, const char *message)
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
    struct fi_answer a = {status,
                          fi_dump(json_pack("{s:i, s:s, s:s}", "statusCode", status, "error", text,
                                            "message", message)),
                          -1};
    return a;
}

static struct fi_answer fi_invalid(struct fake_ionq *f, const char *key, const char *message)
{
    f->stats.invalid++;
    struct fi_answer a = {400,
                          fi_dump(json_pack("{s:i, s:s, s:s, s:{s:[s], s:s}}", "statusCode", 400,
                                            "error", "Bad Request", "message", message,
                                            "validation", "keys", key, "source", "body")),
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
    for (int i = 0; i < f->n_jobs; i++)
        if (!f->jobs[i]->deleted && !strcmp(f->jobs[i]->id, id))
            return f->jobs[i];
    return NULL;
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

static int fi_add_job(struct fake_ionq *f, struct fi_job *j)
{
    if (f->n_jobs == f->cap_jobs) {
        int cap = f->cap_jobs ? 2 * f->cap_jobs : 64;
        struct fi_job **grown = realloc(f->jobs, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        f->jobs = grown;
        f->cap_jobs = cap;
    }
    f->jobs[f->n_jobs++] = j;
    return 0;
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

static struct fi_answer fi_create(struct fake_ionq *f, const char *body, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    struct fi_answer a = {0, NULL, -1};
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
            if (!child || fi_add_job(f, child)) {
                fi_job_free(child);
                a = fi_error(500, "out of memory");
                goto cleanup;
            }
            fi_uuid(f, child->id);
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
    fi_uuid(f, job->id);
    if (f->fail_jobs > 0) {
        f->fail_jobs--;
        job->fails = 1;
    }
    if (fi_add_job(f, job)) {
        a = fi_error(500, "out of memory");
        goto cleanup;
    }
    f->stats.jobs_created++;
    a.status = 201;
    a.body =
        fi_dump(json_pack("{s:s, s:s, s:n}", "id", job->id, "status", "submitted", "session_id"));
    job = NULL;
cleanup:
    if (job) { /* children already registered stay as orphans the client never sees */
        for (int i = 0; i < job->n_children; i++)
            job->children[i]->deleted = 1;
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
        snprintf(url, sizeof url, "/v0.4/jobs/%s/results/probabilities%s%s", j->id,
                 parent ? "/aggregated" : "",
                 f->opt.results == FAKE_IONQ_RESULTS_URL_ONLY ? "?via=url" : "");
        json_object_set_new(obj, "results", json_pack("{s:{s:s}}", "probabilities", "url", url));
        break;
    case FAKE_IONQ_RESULTS_ARTIFACTS:
        snprintf(aid, sizeof aid, "art-%s-%s", j->id, parent ? "agg" : "p2");
        json_object_set_new(obj, "results",
                            json_pack("{s:{s:s}}",
                                      parent ? "ionq.result.probabilities-aggregate.json.v1"
                                             : "ionq.result.probabilities.json.v2",
                                      "id", aid));
        break;
    case FAKE_IONQ_RESULTS_CHILDREN:
        snprintf(url, sizeof url, "/v0.4/jobs/%s/results/probabilities", j->id);
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
            json_array_append_new(children, json_string(j->children[k]->id));
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
        "id", j->id, "status", fi_status_name(f, j->status), "type", j->type, "backend", j->backend,
        "dry_run", 0, "submitter_id", "fake-user", "project_id", "fake-project", "parent_job_id",
        j->parent ? json_string(j->parent->id) : json_null(), "child_job_ids", children,
        "session_id", "name", j->name ? j->name : "", "shots", j->shots, "stats", "qubits", 1,
        "circuits", j->circuits, "gate_counts", "1q", j->gates, "2q", 0, "submitted_at", submitted,
        "started_at", started ? json_string(submitted) : json_null(), "completed_at",
        done ? json_string(submitted) : json_null(), "predicted_wait_time_ms", 0, "failure");
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
        json_object_set_new(map, j->children[i]->id, fi_probabilities(j->children[i], 0));
    return map;
}

/* /jobs/{id}/results/probabilities[/aggregated] and /jobs/{id}/artifacts/{aid} */
static struct fi_answer fi_results(struct fake_ionq *f, struct fi_job *j, const char *rest,
                                   const char *via)
{
    struct fi_answer a = {200, NULL, -1};
    enum fake_ionq_results style = f->opt.results;
    f->stats.result_reads++;
    if (j->status != FI_COMPLETED)
        return fi_error(404, "the job has no results yet");
    int parent = j->n_children > 0;
    if (!strncmp(rest, "/artifacts/", 11)) {
        if (style != FAKE_IONQ_RESULTS_ARTIFACTS)
            return fi_error(404, "no such artifact");
        char aid[96];
        snprintf(aid, sizeof aid, "art-%s-%s", j->id, parent ? "agg" : "p2");
        if (strcmp(rest + 11, aid))
            return fi_error(404, "no such artifact");
        if (parent)
            a.body = fi_dump(fi_aggregated(j));
        else
            a.body = fi_dump(json_pack("{s:{s:{s:o}}}", "probabilities", "registers", "output_all",
                                       fi_probabilities(j, 1)));
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
    a.body = fi_dump(parent ? fi_aggregated(j) : fi_probabilities(j, 0));
    return a;
}

static struct fi_answer fi_cancel(struct fake_ionq *f, struct fi_job *j)
{
    f->stats.cancels++;
    if (j->status < FI_COMPLETED)
        fi_set_status(j, FI_CANCELED);
    struct fi_answer a = {
        200, fi_dump(json_pack("{s:s, s:s}", "id", j->id, "status", fi_status_name(f, j->status))),
        -1};
    return a;
}

static struct fi_answer fi_route(struct fake_ionq *f, const char *method, const char *path,
                                 const char *auth, const char *via, const char *body, size_t len)
{
    static const char prefix[] = "/v0.4";
    if (strncmp(path, prefix, sizeof prefix - 1))
        return fi_error(404, "unknown API version");
    path += sizeof prefix - 1;
    if (!strcmp(method, "GET") && !strcmp(path, "/backends")) {
        struct fi_answer a = {
            200,
            fi_dump(json_pack("[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}]", "backend",
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
        struct fi_answer a = {200,
                              fi_dump(json_pack("{s:s, s:s, s:s}", "key_id", "k1", "key_name",
                                                "fake", "project_id", "fake-project")),
                              -1};
        return a;
    }
    if (!strcmp(path, "/jobs")) {
        if (strcmp(method, "POST"))
            return fi_error(404, "no such route");
        free(f->last_body);
        f->last_body = strndup(body ? body : "", len);
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
        struct fi_answer a = {
            200, fi_dump(json_pack("{s:O, s:s}", "ids", ids, "status", "canceled")), -1};
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
        struct fi_answer a = {200, fi_dump(fi_job_object(f, j)), -1};
        return a;
    }
    if (!*rest && !strcmp(method, "DELETE")) {
        j->deleted = 1;
        for (int i = 0; i < j->n_children; i++)
            j->children[i]->deleted = 1;
        struct fi_answer a = {
            200, fi_dump(json_pack("{s:s, s:s}", "id", j->id, "status", "deleted")), -1};
        return a;
    }
    if (!strcmp(rest, "/status/cancel") && !strcmp(method, "PUT"))
        return fi_cancel(f, j);
    if (!strcmp(method, "GET"))
        return fi_results(f, j, rest, via);
    return fi_error(404, "no such route");
}

/* ---- the server ---------------------------------------------------------------------------- */

/* The first queued fault matching this request, consumed; -1 when none. */
static int fi_take_fault(struct fake_ionq *f, const char *method, const char *path,
                         struct fake_ionq_fault *out)
{
    for (int i = 0; i < f->n_faults; i++) {
        struct fake_ionq_fault *q = &f->faults[i];
        if (q->count <= 0)
            continue;
        if (q->method && strcmp(q->method, method))
            continue;
        if (q->path && !strstr(path, q->path))
            continue;
        *out = *q;
        if (--q->count == 0) {
            memmove(&f->faults[i], &f->faults[i + 1],
                    (size_t)(f->n_faults - i - 1) * sizeof f->faults[0]);
            memmove(f->fault_method[i], f->fault_method[i + 1],
                    (size_t)(f->n_faults - i - 1) * sizeof f->fault_method[0]);
            memmove(f->fault_path[i], f->fault_path[i + 1],
                    (size_t)(f->n_faults - i - 1) * sizeof f->fault_path[0]);
            f->n_faults--;
            for (int k = 0; k < f->n_faults; k++) { /* re-point the copied strings */
                f->faults[k].method = f->fault_method[k][0] ? f->fault_method[k] : NULL;
                f->faults[k].path = f->fault_path[k][0] ? f->fault_path[k] : NULL;
            }
        }
        f->stats.faults_served++;
        return 0;
    }
    return -1;
}

static void fi_sleep_ms(struct fake_ionq *f, int ms)
{
    for (int waited = 0; waited < ms && !atomic_load(&f->stopping); waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static enum MHD_Result fi_send(struct MHD_Connection *conn, const struct fi_answer *a,
                               size_t truncate_to)
{
    const char *body = a->body ? a->body : "{}";
    size_t len = strlen(body);
    if (truncate_to && truncate_to < len)
        len = truncate_to;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
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

static enum MHD_Result fi_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct fake_ionq *f = cls;
    struct fi_conn *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (c->len + *upload_data_size > FI_MAX_BODY) {
            c->too_big = 1;
        } else {
            if (c->len + *upload_data_size + 1 > c->cap) {
                size_t cap = c->cap ? c->cap : 4096;
                while (cap < c->len + *upload_data_size + 1)
                    cap *= 2;
                char *grown = realloc(c->body, cap);
                if (!grown)
                    return MHD_NO;
                c->body = grown;
                c->cap = cap;
            }
            memcpy(c->body + c->len, upload_data, *upload_data_size);
            c->len += *upload_data_size;
            c->body[c->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *via = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "via");
    struct fake_ionq_fault fault = {0};
    pthread_mutex_lock(&f->lock);
    f->stats.requests++;
    int faulted = fi_take_fault(f, method, url, &fault) == 0;
    pthread_mutex_unlock(&f->lock);
    if (faulted && fault.kind == FAKE_IONQ_DROP) {
        pthread_mutex_lock(&f->lock);
        fi_log(f, "%s %s -> dropped", method, url);
        pthread_mutex_unlock(&f->lock);
        return MHD_NO;
    }
    struct fi_answer a;
    pthread_mutex_lock(&f->lock);
    if (faulted && fault.kind == FAKE_IONQ_STATUS) {
        a = fi_error(fault.status, "injected fault");
        a.retry_after = fault.retry_after;
    } else if (c->too_big) {
        a = fi_error(413, "the body is too large");
    } else {
        a = fi_route(f, method, url, auth, via, c->body, c->len);
    }
    /* the log names the auth scheme, never the key */
    const char *space = auth ? strchr(auth, ' ') : NULL;
    fi_log(f, "%s %s%s%s auth=%.*s -> %d%s body=%.200s", method, url, via ? "?via=" : "",
           via ? via : "", auth ? (space ? (int)(space - auth) : 8) : 4, auth ? auth : "none",
           a.status, faulted && fault.kind == FAKE_IONQ_MALFORMED ? " (truncated)" : "",
           c->body ? c->body : "");
    pthread_mutex_unlock(&f->lock);
    if (faulted && fault.kind == FAKE_IONQ_SLOW) /* processed, but the answer is late */
        fi_sleep_ms(f, fault.delay_ms);
    size_t cut = 0;
    if (faulted && fault.kind == FAKE_IONQ_MALFORMED)
        cut = a.body && strlen(a.body) > 2 ? strlen(a.body) / 2 : 1;
    enum MHD_Result ret = fi_send(conn, &a, cut);
    free(a.body);
    return ret;
}

static void fi_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct fi_conn *c = *con_cls;
    if (c) {
        free(c->body);
        free(c);
        *con_cls = NULL;
    }
}

struct fake_ionq *fake_ionq_start(const struct fake_ionq_options *options)
{
    struct fake_ionq *f = calloc(1, sizeof *f);
    if (!f || !options->api_key)
        goto fail;
    f->opt = *options;
    f->api_key = strdup(options->api_key);
    if (!f->api_key || pthread_mutex_init(&f->lock, NULL))
        goto fail;
    f->opt.api_key = f->api_key;
    rng_seed(&f->gen, options->seed);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, fi_handler,
        f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
        fi_completed, f, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!f->daemon)
        goto fail;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    f->port = info ? info->port : 0;
    if (!f->port)
        goto fail;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/v0.4", f->port);
    return f;
fail:
    fake_ionq_stop(f);
    return NULL;
}

void fake_ionq_stop(struct fake_ionq *f)
{
    if (!f)
        return;
    atomic_store(&f->stopping, 1);
    if (f->daemon)
        MHD_stop_daemon(f->daemon);
    for (int i = 0; i < f->n_jobs; i++)
        fi_job_free(f->jobs[i]);
    free(f->jobs);
    free(f->last_body);
    free(f->log);
    free(f->api_key);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int fake_ionq_port(const struct fake_ionq *f)
{
    return f->port;
}

const char *fake_ionq_url(const struct fake_ionq *f)
{
    return f->url;
}

void fake_ionq_inject(struct fake_ionq *f, const struct fake_ionq_fault *fault)
{
    pthread_mutex_lock(&f->lock);
    if (fault->kind == FAKE_IONQ_JOB_FAILS) {
        f->fail_jobs += fault->count;
    } else if (f->n_faults < FI_MAX_FAULTS) {
        int i = f->n_faults++;
        f->faults[i] = *fault;
        snprintf(f->fault_method[i], sizeof f->fault_method[i], "%s",
                 fault->method ? fault->method : "");
        snprintf(f->fault_path[i], sizeof f->fault_path[i], "%s", fault->path ? fault->path : "");
        f->faults[i].method = fault->method ? f->fault_method[i] : NULL;
        f->faults[i].path = fault->path ? f->fault_path[i] : NULL;
    }
    pthread_mutex_unlock(&f->lock);
}

void fake_ionq_stats(struct fake_ionq *f, struct fake_ionq_stats *out)
{
    pthread_mutex_lock(&f->lock);
    *out = f->stats;
    pthread_mutex_unlock(&f->lock);
}

char *fake_ionq_last_job_body(struct fake_ionq *f)
{
    pthread_mutex_lock(&f->lock);
    char *copy = f->last_body ? strdup(f->last_body) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}

char *fake_ionq_job_status(struct fake_ionq *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    struct fi_job *j = fi_find(f, id);
    char *copy = j ? strdup(fi_status_name(f, j->status)) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}

char *fake_ionq_log(struct fake_ionq *f)
{
    pthread_mutex_lock(&f->lock);
    char *copy = strdup(f->log ? f->log : "");
    pthread_mutex_unlock(&f->lock);
    return copy;
}

void fake_ionq_fast_forward(struct fake_ionq *f, int on)
{
    pthread_mutex_lock(&f->lock);
    f->fast_forward = on;
    pthread_mutex_unlock(&f->lock);
}
