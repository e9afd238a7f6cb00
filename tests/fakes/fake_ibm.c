/* fake_ibm — a fake IBM IAM + Qiskit Runtime REST server on 127.0.0.1 (see fake_ibm.h): IBM's
 * protocol only (IAM tokens, routes, error bodies, the OpenQASM subset, jobs and results); the
 * server, faults and log are fake_http's. The fake owns its jobs, tokens and copies; what it
 * returns is the caller's. */
#include "fake_ibm.h"
#include "fake_http.h"

#include "model/rng.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FB_MAX_TOKENS 256
#define FB_MAX_CREATE 4096

enum fb_state { FB_QUEUED, FB_RUNNING, FB_COMPLETED, FB_CANCELLED, FB_FAILED };

struct fb_pub {
    double p_read0; /* probability a shot reads 0 */
    long shots;
    int bit;      /* register bit the qubit is measured into */
    char reg[32]; /* classical register name */
    int num_bits;
};

struct fb_job {
    struct fake_http_job head; /* id, deleted */
    char backend[64];
    json_t *tags, *params;
    struct fb_pub *pubs;
    size_t n_pubs;
    enum fb_state state;
    int polls;
    int fail_code;    /* reason code to fail with when it would complete; 0: none */
    char reason[160]; /* set when failing at creation (1517, parse errors) */
    int reason_code;
    time_t created;
    char *results; /* built on first read */
};

struct fb_token {
    char value[64];
    double expires; /* monotonic */
    int uses, revoked;
};

/* The core's fault kinds are this fake's first four. */
_Static_assert(FAKE_IBM_STATUS == (int)FAKE_HTTP_STATUS &&
                   FAKE_IBM_MALFORMED == (int)FAKE_HTTP_MALFORMED &&
                   FAKE_IBM_SLOW == (int)FAKE_HTTP_SLOW && FAKE_IBM_DROP == (int)FAKE_HTTP_DROP,
               "fake_ibm's fault kinds start with fake_http's");

struct fake_ibm {
    struct fake_http http; /* the server, its lock (over all of this), faults and log */
    struct fake_ibm_options opt;
    char *api_key, *crn;
    char iam_url[80], api_url[80];
    rng gen;
    struct fb_token tokens[FB_MAX_TOKENS];
    int n_tokens, token_serial;
    double creates[FB_MAX_CREATE]; /* monotonic times of accepted creations */
    int n_creates;
    int fail_jobs, fail_code;
    struct fake_ibm_stats stats; /* requests and faults_served are the core's */
};

/* ---- helpers ------------------------------------------------------------------------------- */

static struct fake_http_answer fb_error(struct fake_ibm *f, int status, const char *code,
                                        const char *message)
{
    char trace[40];
    snprintf(trace, sizeof trace, "%016llx", (unsigned long long)rng_next(&f->gen));
    struct fake_http_answer a = {
        status,
        fake_http_dump(json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "trace", trace, "errors", "code",
                                 code, "message", message, "more_info", "")),
        -1};
    return a;
}

static struct fake_http_answer fb_json(int status, json_t *doc)
{
    struct fake_http_answer a = {status, fake_http_dump(doc), -1};
    return a;
}

static struct fb_job *fb_find(struct fake_ibm *f, const char *id)
{
    return (struct fb_job *)fake_http_find_job(&f->http, id);
}

static void fb_job_free(struct fb_job *j)
{
    if (!j)
        return;
    json_decref(j->tags);
    json_decref(j->params);
    free(j->pubs);
    free(j->results);
    free(j);
}

static void fb_free_job(struct fake_http_job *j)
{
    fb_job_free((struct fb_job *)j);
}

static const char *fb_state_name(enum fb_state s)
{
    static const char *const names[] = {"Queued", "Running", "Completed", "Cancelled", "Failed"};
    return names[s];
}

/* ---- IAM ----------------------------------------------------------------------------------- */

static int fb_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The decoded value of a form field (malloc'd) or NULL. */
static char *fb_form_value(const char *body, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp ? amp : end;
        if ((size_t)(field_end - p) > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            char *out = malloc((size_t)(field_end - v) + 1);
            size_t o = 0;
            if (!out)
                return NULL;
            for (const char *q = v; q < field_end; q++) {
                if (*q == '+') {
                    out[o++] = ' ';
                } else if (*q == '%' && field_end - q >= 3 && fb_hex(q[1]) >= 0 &&
                           fb_hex(q[2]) >= 0) {
                    out[o++] = (char)(fb_hex(q[1]) * 16 + fb_hex(q[2]));
                    q += 2;
                } else {
                    out[o++] = *q;
                }
            }
            out[o] = '\0';
            return out;
        }
        p = field_end + 1;
    }
    return NULL;
}

static struct fake_http_answer fb_iam(struct fake_ibm *f, const char *content_type,
                                      const char *body, size_t len)
{
    if (!content_type || strncasecmp(content_type, "application/x-www-form-urlencoded", 33)) {
        f->stats.iam_refused++;
        return fb_json(400, json_pack("{s:s, s:s}", "errorCode", "BXNIM0109E", "errorMessage",
                                      "Property missing or empty: grant_type"));
    }
    char *grant = fb_form_value(body, len, "grant_type");
    char *key = fb_form_value(body, len, "apikey");
    struct fake_http_answer a;
    if (!grant || strcmp(grant, "urn:ibm:params:oauth:grant-type:apikey")) {
        f->stats.iam_refused++;
        a = fb_json(400, json_pack("{s:s, s:s}", "errorCode", "BXNIM0109E", "errorMessage",
                                   "Unsupported grant_type"));
    } else if (!key || strcmp(key, f->api_key)) {
        f->stats.iam_refused++;
        a = fb_json(400, json_pack("{s:s, s:s}", "errorCode", "BXNIM0415E", "errorMessage",
                                   "Provided API key could not be found."));
    } else {
        int slot = f->n_tokens < FB_MAX_TOKENS ? f->n_tokens++ : f->token_serial % FB_MAX_TOKENS;
        struct fb_token *t = &f->tokens[slot];
        int seconds = f->opt.token_seconds > 0 ? f->opt.token_seconds : 3600;
        memset(t, 0, sizeof *t);
        snprintf(t->value, sizeof t->value, "fake-token-%d-%016llx", ++f->token_serial,
                 (unsigned long long)rng_next(&f->gen));
        t->expires = fake_http_now() + seconds;
        f->stats.tokens_issued++;
        a = fb_json(200, json_pack("{s:s, s:s, s:s, s:i, s:I}", "access_token", t->value,
                                   "refresh_token", "not-supported", "token_type", "Bearer",
                                   "expires_in", seconds, "expiration",
                                   (json_int_t)(time(NULL) + seconds)));
    }
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(grant);
    return a;
}

/* 0 when the bearer token is good (and counts a use), else the status to answer. */
static int fb_check_token(struct fake_ibm *f, const char *auth)
{
    if (!auth || strncmp(auth, "Bearer ", 7))
        return 401;
    for (int i = 0; i < f->n_tokens; i++) {
        struct fb_token *t = &f->tokens[i];
        if (strcmp(t->value, auth + 7))
            continue;
        if (t->revoked || fake_http_now() >= t->expires)
            return 401;
        if (f->opt.token_max_uses > 0 && t->uses >= f->opt.token_max_uses)
            return 401;
        t->uses++;
        return 0;
    }
    return 401;
}

/* ---- OpenQASM 3 ISA subset ----------------------------------------------------------------- */

typedef double fb_amp[2][2]; /* two complex amplitudes: [k][re/im] */

static void fb_apply(fb_amp psi, const double m[2][2][2])
{
    fb_amp out;
    for (int r = 0; r < 2; r++) {
        out[r][0] = out[r][1] = 0;
        for (int k = 0; k < 2; k++) {
            out[r][0] += m[r][k][0] * psi[k][0] - m[r][k][1] * psi[k][1];
            out[r][1] += m[r][k][0] * psi[k][1] + m[r][k][1] * psi[k][0];
        }
    }
    memcpy(psi, out, sizeof out);
}

static char *fb_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* A hardware qubit "$k" (or "q[k]" of a declared register); -1 if not one. */
static int fb_qubit(const char *s, const char *qreg)
{
    s = fb_trim((char *)s);
    if (s[0] == '$' && isdigit((unsigned char)s[1])) {
        char *end;
        long k = strtol(s + 1, &end, 10);
        return *fb_trim(end) == '\0' && k < 100000 ? (int)k : -1;
    }
    size_t ql = strlen(qreg);
    if (ql && !strncmp(s, qreg, ql) && s[ql] == '[') {
        char *end;
        long k = strtol(s + ql + 1, &end, 10);
        return *end == ']' ? (int)k : -1;
    }
    return -1;
}

/* Parses one PUB's circuit. Returns 0 and the outcome probability, 1517 for a gate that is not
 * native (or a qubit the device lacks), or 1002 with a reason for anything else it cannot read. */
static int fb_parse_qasm(const char *qasm, int device_qubits, double gate_error, struct fb_pub *pub,
                         char *reason, size_t rsize)
{
    char *text = strdup(qasm);
    if (!text)
        return snprintf(reason, rsize, "out of memory"), 1002;
    int rc = 0, saw_header = 0, measured = 0, qubit = -1, n_gates = 0;
    char qreg[32] = "";
    fb_amp psi = {{1, 0}, {0, 0}};
    const double h = 0.5;
    const double sx[2][2][2] = {{{h, h}, {h, -h}}, {{h, -h}, {h, h}}};
    const double x[2][2][2] = {{{0, 0}, {1, 0}}, {{1, 0}, {0, 0}}};
    pub->reg[0] = '\0';
    pub->num_bits = 0;
    pub->bit = 0;
    char *save = NULL;
    for (char *st = strtok_r(text, ";", &save); st && !rc; st = strtok_r(NULL, ";", &save)) {
        st = fb_trim(st);
        if (!*st || !strncmp(st, "//", 2))
            continue;
        if (!saw_header) {
            if (strncmp(st, "OPENQASM 3", 10)) {
                snprintf(reason, rsize, "the program must start with OPENQASM 3");
                rc = 1002;
            }
            saw_header = 1;
            continue;
        }
        if (!strncmp(st, "include ", 8)) {
            if (strcmp(fb_trim(st + 8), "\"stdgates.inc\"")) {
                snprintf(reason, rsize, "unknown include");
                rc = 1002;
            }
            continue;
        }
        if (!strncmp(st, "bit[", 4) || !strncmp(st, "bit ", 4)) {
            int n = 1;
            char name[32];
            if ((st[3] == '[' && sscanf(st, "bit[%d] %31[A-Za-z0-9_]", &n, name) != 2) ||
                (st[3] == ' ' && sscanf(st, "bit %31[A-Za-z0-9_]", name) != 1) || n < 1 || n > 64) {
                snprintf(reason, rsize, "bad bit declaration");
                rc = 1002;
                continue;
            }
            snprintf(pub->reg, sizeof pub->reg, "%s", name);
            pub->num_bits = n;
            continue;
        }
        if (!strncmp(st, "qubit[", 6)) {
            int n;
            if (sscanf(st, "qubit[%d] %31[A-Za-z0-9_]", &n, qreg) != 2) {
                snprintf(reason, rsize, "bad qubit declaration");
                rc = 1002;
            }
            continue;
        }
        char *eq = strchr(st, '=');
        if (eq && strstr(st, "measure")) { /* c[i] = measure $k */
            char name[32];
            int bit = 0;
            *eq = '\0';
            char *lhs = fb_trim(st), *rhs = fb_trim(eq + 1);
            if (sscanf(lhs, "%31[A-Za-z0-9_][%d]", name, &bit) < 1 || strcmp(name, pub->reg) ||
                bit < 0 || bit >= pub->num_bits || strncmp(rhs, "measure", 7)) {
                snprintf(reason, rsize, "bad measurement");
                rc = 1002;
                continue;
            }
            int q = fb_qubit(rhs + 7, qreg);
            if (q < 0 || (qubit >= 0 && q != qubit)) {
                snprintf(reason, rsize, "the fake measures the one qubit the gates act on");
                rc = 1002;
                continue;
            }
            qubit = q;
            pub->bit = bit;
            measured = 1;
            continue;
        }
        /* a gate: name[(param)] operand */
        char gate[32];
        size_t gl = strspn(st, "abcdefghijklmnopqrstuvwxyz_0123456789");
        if (gl == 0 || gl >= sizeof gate) {
            snprintf(reason, rsize, "cannot read a statement");
            rc = 1002;
            continue;
        }
        memcpy(gate, st, gl);
        gate[gl] = '\0';
        char *rest = st + gl;
        double angle = 0;
        if (*rest == '(') {
            char *end;
            angle = strtod(rest + 1, &end);
            if (end == rest + 1 || *end != ')' || !isfinite(angle)) {
                snprintf(reason, rsize, "bad gate parameter");
                rc = 1002;
                continue;
            }
            rest = end + 1;
        }
        if (strcmp(gate, "rz") && strcmp(gate, "sx") && strcmp(gate, "x") && strcmp(gate, "id") &&
            strcmp(gate, "barrier") && strcmp(gate, "delay")) {
            snprintf(reason, rsize,
                     "Circuits do not match the target definition (non-ISA circuits): '%s' is "
                     "not a native gate",
                     gate);
            rc = 1517;
            continue;
        }
        if (!strcmp(gate, "barrier") || !strcmp(gate, "delay"))
            continue;
        int q = fb_qubit(rest, qreg);
        if (q < 0 || q >= device_qubits) {
            snprintf(reason, rsize,
                     "Circuits do not match the target definition (non-ISA circuits): no qubit "
                     "%d on this device",
                     q);
            rc = 1517;
            continue;
        }
        if (qubit >= 0 && q != qubit) {
            snprintf(reason, rsize, "the fake simulates one qubit per circuit");
            rc = 1002;
            continue;
        }
        qubit = q;
        if (!strcmp(gate, "rz")) {
            double c = cos(angle / 2), s = sin(angle / 2);
            const double rz[2][2][2] = {{{c, -s}, {0, 0}}, {{0, 0}, {c, s}}};
            fb_apply(psi, rz);
        } else if (!strcmp(gate, "sx")) {
            fb_apply(psi, sx);
            n_gates++;
        } else if (!strcmp(gate, "x")) {
            fb_apply(psi, x);
            n_gates++;
        }
    }
    if (!rc && !measured) {
        snprintf(reason, rsize, "the circuit measures nothing");
        rc = 1002;
    }
    if (!rc) {
        double p0 = psi[0][0] * psi[0][0] + psi[0][1] * psi[0][1];
        double z = (2 * p0 - 1) * pow(1 - gate_error, n_gates);
        pub->p_read0 = 0.5 * (1 + z); /* before readout errors, which the caller applies */
    }
    free(text);
    return rc;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int qubits;
} fb_devices[] = {{"ibm_fez", 156},    {"ibm_marrakesh", 156},  {"ibm_kingston", 156},
                  {"ibm_aachen", 156}, {"ibm_pittsburgh", 156}, {"ibm_boston", 156},
                  {"ibm_torino", 133}};

static int fb_device_qubits(const char *name)
{
    for (size_t i = 0; name && i < sizeof fb_devices / sizeof fb_devices[0]; i++)
        if (!strcmp(name, fb_devices[i].name))
            return fb_devices[i].qubits;
    return 0;
}

static struct fake_http_answer fb_create(struct fake_ibm *f, const char *body, size_t len)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    struct fb_job *job = NULL;
    struct fake_http_answer a;
    char msg[200];
    const char *program = json_string_value(json_object_get(doc, "program_id"));
    const char *backend = json_string_value(json_object_get(doc, "backend"));
    const json_t *params = json_object_get(doc, "params");
    const json_t *pubs = json_object_get(params, "pubs");
    const json_t *options = json_object_get(params, "options");
    const json_t *tags = json_object_get(doc, "tags");
    const json_t *default_shots = json_object_get(options, "default_shots");
    int qubits = fb_device_qubits(backend);
    if (!json_is_object(doc)) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: the body is not a JSON object");
        goto cleanup;
    }
    if (!program || strcmp(program, "sampler")) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: the fake runs program_id sampler");
        goto cleanup;
    }
    if (!backend || !qubits) {
        f->stats.invalid++;
        a = fb_error(f, 404, "1007", "Backend not found");
        goto cleanup;
    }
    if (!json_is_object(params) || json_integer_value(json_object_get(params, "version")) != 2) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: params.version must be 2");
        goto cleanup;
    }
    if (json_is_true(json_object_get(params, "support_qiskit"))) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: the fake serves pure-JSON results only");
        goto cleanup;
    }
    if (!json_is_array(pubs) || json_array_size(pubs) == 0) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: params.pubs must be a non-empty array");
        goto cleanup;
    }
    if (tags && !json_is_array(tags)) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: tags must be an array of strings");
        goto cleanup;
    }
    if (default_shots &&
        (!json_is_integer(default_shots) || json_integer_value(default_shots) < 1)) {
        f->stats.invalid++;
        a = fb_error(f, 400, "1002", "Validation error: default_shots must be a positive integer");
        goto cleanup;
    }
    long shots0 = default_shots ? (long)json_integer_value(default_shots) : 4096;
    job = calloc(1, sizeof *job);
    if (!job || !(job->pubs = calloc(json_array_size(pubs), sizeof *job->pubs))) {
        a = fb_error(f, 500, "500", "out of memory");
        goto cleanup;
    }
    double executions = 0;
    for (size_t i = 0; i < json_array_size(pubs); i++) {
        const json_t *pub = json_array_get(pubs, i);
        size_t n = json_array_size(pub);
        const char *qasm = json_string_value(json_array_get(pub, 0));
        const json_t *values = json_array_get(pub, 1);
        const json_t *shots = json_array_get(pub, 2);
        if (!json_is_array(pub) || n < 1 || n > 3 || !qasm ||
            (n >= 2 && !json_is_null(values) && !json_is_object(values)) ||
            (n == 3 && !json_is_null(shots) &&
             (!json_is_integer(shots) || json_integer_value(shots) < 1))) {
            f->stats.invalid++;
            snprintf(msg, sizeof msg, "Validation error: pubs[%zu] must be [qasm, values, shots]",
                     i);
            a = fb_error(f, 400, "1002", msg);
            goto cleanup;
        }
        struct fb_pub *p = &job->pubs[job->n_pubs++];
        p->shots = n == 3 && json_is_integer(shots) ? (long)json_integer_value(shots) : shots0;
        executions += (double)p->shots;
        if (!job->reason_code) {
            char reason[160];
            int code = fb_parse_qasm(qasm, qubits, f->opt.gate_error, p, reason, sizeof reason);
            if (code) {
                job->reason_code = code;
                snprintf(job->reason, sizeof job->reason, "%s", reason);
            } else { /* readout confusion (§4) */
                double ideal0 = p->p_read0;
                p->p_read0 = ideal0 * (1 - f->opt.readout_e0) + (1 - ideal0) * f->opt.readout_e1;
            }
        }
    }
    long max_exec = f->opt.max_executions > 0 ? f->opt.max_executions : 10000000L;
    if (executions > (double)max_exec) {
        f->stats.invalid++;
        snprintf(msg, sizeof msg,
                 "Validation error: %.0f executions exceed the limit of %ld per job", executions,
                 max_exec);
        a = fb_error(f, 400, "1002", msg);
        goto cleanup;
    }
    /* the creation rate limit, per user */
    double now = fake_http_now(), window = f->opt.window_seconds > 0 ? f->opt.window_seconds : 60;
    int limit = f->opt.creates_per_window > 0 ? f->opt.creates_per_window : 5, recent = 0;
    double oldest = now;
    for (int i = 0; i < f->n_creates; i++)
        if (f->creates[i] > now - window) {
            recent++;
            if (f->creates[i] < oldest)
                oldest = f->creates[i];
        }
    if (recent >= limit) {
        f->stats.rate_limited++;
        a = fb_error(f, 429, "1352", "Job create rate limit exceeded");
        a.retry_after = (int)ceil(oldest + window - now);
        goto cleanup;
    }
    if (recent + 1 > f->stats.max_creates_in_window)
        f->stats.max_creates_in_window = recent + 1;
    if (f->n_creates < FB_MAX_CREATE)
        f->creates[f->n_creates++] = now;
    else
        f->creates[f->stats.jobs_created % FB_MAX_CREATE] = now;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    job->head.id[0] = 'd';
    for (int i = 1; i < 20; i++)
        job->head.id[i] = alphabet[rng_below(&f->gen, sizeof alphabet - 1)];
    job->head.id[20] = '\0';
    snprintf(job->backend, sizeof job->backend, "%s", backend);
    job->tags = tags ? json_deep_copy(tags) : json_array();
    job->params = json_deep_copy(params);
    job->created = time(NULL);
    if (job->reason_code) {
        job->state = FB_FAILED;
    } else if (f->fail_jobs > 0) {
        f->fail_jobs--;
        job->fail_code = f->fail_code;
    }
    if (fake_http_add_job(&f->http, &job->head)) {
        a = fb_error(f, 500, "500", "out of memory");
        goto cleanup;
    }
    f->stats.jobs_created++;
    a = fb_json(200, json_pack("{s:s, s:s}", "id", job->head.id, "backend", job->backend));
    job = NULL;
cleanup:
    fb_job_free(job);
    json_decref(doc);
    return a;
}

static void fb_advance(struct fake_ibm *f, struct fb_job *j)
{
    if (j->state >= FB_COMPLETED)
        return;
    int per = f->opt.polls_per_state > 0 ? f->opt.polls_per_state : 1;
    if (++j->polls % per)
        return;
    if (j->state == FB_RUNNING && j->fail_code) {
        j->state = j->fail_code == 1305 ? FB_CANCELLED : FB_FAILED;
        j->reason_code = j->fail_code;
        snprintf(j->reason, sizeof j->reason, "%s",
                 j->fail_code == 1305   ? "Ran too long"
                 : j->fail_code == 1517 ? "Circuits do not match the target definition "
                                          "(non-ISA circuits)"
                                        : "Job failed (injected)");
        return;
    }
    j->state++;
}

static json_t *fb_job_object(const struct fb_job *j, int with_params)
{
    char created[32];
    struct tm tm;
    gmtime_r(&j->created, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    const char *top = fb_state_name(j->state);
    if (j->state == FB_CANCELLED && j->reason_code == 1305)
        top = "Cancelled - Ran too long";
    json_t *state = json_pack("{s:s}", "status", fb_state_name(j->state));
    if (j->reason_code) {
        json_object_set_new(state, "reason", json_string(j->reason));
        json_object_set_new(state, "reason_code", json_integer(j->reason_code));
    }
    json_t *obj = json_pack("{s:s, s:s, s:s, s:o, s:{s:s}, s:s, s:O, s:{s:i}, s:b, s:n, s:s}", "id",
                            j->head.id, "backend", j->backend, "status", top, "state", state,
                            "program", "id", "sampler", "created", created, "tags", j->tags,
                            "usage", "seconds", j->state == FB_COMPLETED ? 2 : 0, "private", 0,
                            "session_id", "user_id", "fake-user");
    if (with_params)
        json_object_set(obj, "params", j->params);
    return obj;
}

/* The pure-JSON Sampler V2 result, one hex sample per shot (§3.6). */
static char *fb_results_text(struct fake_ibm *f, const struct fb_job *j)
{
    size_t cap = 64, len = 0;
    for (size_t i = 0; i < j->n_pubs; i++)
        cap += 96 + (size_t)j->pubs[i].shots * 24;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len += (size_t)snprintf(out + len, cap - len, "{\"results\": [");
    for (size_t i = 0; i < j->n_pubs; i++) {
        const struct fb_pub *p = &j->pubs[i];
        len += (size_t)snprintf(out + len, cap - len, "%s{\"data\": {\"%s\": {\"samples\": [",
                                i ? ", " : "", p->reg);
        for (long s = 0; s < p->shots; s++) {
            unsigned long long value = rng_uniform(&f->gen) < p->p_read0 ? 0 : 1ULL << p->bit;
            len += (size_t)snprintf(out + len, cap - len, "%s\"0x%llx\"", s ? ", " : "", value);
        }
        len += (size_t)snprintf(out + len, cap - len,
                                "], \"num_bits\": %d}}, \"metadata\": {\"circuit_metadata\": {}}}",
                                p->num_bits);
    }
    snprintf(out + len, cap - len, "], \"metadata\": {\"version\": 2}}");
    return out;
}

static struct fake_http_answer fb_list(struct fake_ibm *f, const char *tag)
{
    json_t *jobs = json_array();
    for (int i = 0; i < f->http.n_jobs; i++) {
        const struct fb_job *j = (const struct fb_job *)f->http.jobs[i];
        if (j->head.deleted)
            continue;
        int match = !tag;
        size_t k;
        json_t *t;
        json_array_foreach(j->tags, k, t)
        {
            match |= tag && json_is_string(t) && !strcmp(json_string_value(t), tag);
        }
        if (match)
            json_array_append_new(jobs, fb_job_object(j, 0));
    }
    size_t count = json_array_size(jobs);
    return fb_json(200, json_pack("{s:o, s:i, s:i, s:i}", "jobs", jobs, "count", (int)count,
                                  "limit", 200, "offset", 0));
}

static struct fake_http_answer fb_route(struct fake_ibm *f, struct MHD_Connection *conn,
                                        const char *method, const char *path, const char *body,
                                        size_t len)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *crn = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Service-CRN");
    const char *version = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "IBM-API-Version");
    if (!strcmp(path, "/identity/token")) {
        if (strcmp(method, "POST"))
            return fb_error(f, 405, "405", "POST only");
        return fb_iam(f, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"), body,
                      len);
    }
    static const char prefix[] = "/api/v1";
    if (strncmp(path, prefix, sizeof prefix - 1))
        return fb_error(f, 404, "404", "Not found");
    path += sizeof prefix - 1;
    if (!strcmp(path, "/versions") && !strcmp(method, "GET")) {
        if (f->opt.versions_as_objects)
            return fb_json(200,
                           json_pack("{s:[{s:s, s:s}, {s:s, s:s, s:s}]}", "versions", "version",
                                     "2026-04-15", "status", "live", "version", "2025-05-01",
                                     "status", "deprecated", "sunset_date", "2027-01-01"));
        return fb_json(200, json_pack("{s:[s, s]}", "versions", "2025-05-01", "2026-04-15"));
    }
    int bad = fb_check_token(f, auth);
    if (bad) {
        f->stats.unauthorized++;
        return fb_error(f, 401, "1000", "Unauthorized: invalid or expired bearer token");
    }
    if (!crn || strcmp(crn, f->crn)) {
        f->stats.forbidden++;
        return fb_error(f, 403, "1001", "Forbidden: the Service-CRN is not authorised");
    }
    if (!version)
        f->stats.no_version++;
    if (!strcmp(path, "/backends") && !strcmp(method, "GET"))
        return fb_json(200, json_pack("{s:[{s:s, s:{s:s}, s:b, s:i, s:{s:s, s:s}, s:i}]}",
                                      "devices", "name", "ibm_fez", "status", "name", "online",
                                      "is_simulator", 0, "qubits", 156, "processor_type", "family",
                                      "Heron", "revision", "2", "queue_length", 0));
    if (!strcmp(path, "/backends/ibm_fez/properties") && !strcmp(method, "GET")) {
        json_t *qubits = json_array();
        for (int q = 0; q < 4; q++)
            json_array_append_new(
                qubits, json_pack("[{s:s, s:f, s:s}, {s:s, s:f, s:s}, {s:s, s:f, s:s}, "
                                  "{s:s, s:f, s:s}]",
                                  "name", "T1", 145.0, "unit", "us", "name", "T2", 88.0, "unit",
                                  "us", "name", "readout_error", 0.0076 + 0.001 * q, "unit", "",
                                  "name", "prob_meas1_prep0", 0.004, "unit", ""));
        return fb_json(200, json_pack("{s:s, s:o, s:[]}", "backend_name", "ibm_fez", "qubits",
                                      qubits, "gates"));
    }
    if (!strcmp(path, "/jobs")) {
        if (!strcmp(method, "POST")) {
            fake_http_keep_body(&f->http, body, len);
            return fb_create(f, body ? body : "", len);
        }
        if (!strcmp(method, "GET"))
            return fb_list(f, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tags"));
        return fb_error(f, 405, "405", "Method not allowed");
    }
    if (strncmp(path, "/jobs/", 6))
        return fb_error(f, 404, "404", "Not found");
    char id[40];
    size_t id_len = strcspn(path + 6, "/");
    if (id_len == 0 || id_len >= sizeof id)
        return fb_error(f, 404, "1010", "Job not found");
    memcpy(id, path + 6, id_len);
    id[id_len] = '\0';
    const char *rest = path + 6 + id_len;
    struct fb_job *j = fb_find(f, id);
    if (!j)
        return fb_error(f, 404, "1010", "Job not found");
    if (!*rest && !strcmp(method, "GET")) {
        fb_advance(f, j);
        const char *exclude =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "exclude_params");
        return fb_json(200, fb_job_object(j, !(exclude && !strcmp(exclude, "true"))));
    }
    if (!*rest && !strcmp(method, "DELETE")) {
        if (j->state < FB_COMPLETED)
            return fb_error(f, 409, "1409", "Job is not in a terminal state");
        j->head.deleted = 1;
        struct fake_http_answer a = {204, NULL, -1};
        return a;
    }
    if (!strcmp(rest, "/cancel") && !strcmp(method, "POST")) {
        f->stats.cancels++;
        if (j->state >= FB_COMPLETED)
            return fb_error(f, 409, "1408", "Job is not in a cancellable state");
        j->state = FB_CANCELLED;
        struct fake_http_answer a = {204, NULL, -1};
        return a;
    }
    if (!strcmp(rest, "/results") && !strcmp(method, "GET")) {
        f->stats.result_reads++;
        if (j->state != FB_COMPLETED)
            return fb_error(f, 404, "1011", "Job results not found");
        if (!j->results)
            j->results = fb_results_text(f, j);
        struct fake_http_answer a = {j->results ? 200 : 500, j->results ? strdup(j->results) : NULL,
                                     -1};
        return a;
    }
    return fb_error(f, 404, "404", "Not found");
}

/* ---- the server ---------------------------------------------------------------------------- */

static struct fake_http_answer fb_serve(void *ctx, const struct fake_http_request *rq)
{
    return fb_route(ctx, rq->conn, rq->method, rq->url, rq->body, rq->len);
}

static struct fake_http_answer fb_fault_error(void *ctx, int status, const char *code,
                                              const char *message)
{
    return fb_error(ctx, status, code, message);
}

static void fb_log_request(void *ctx, const struct fake_http_request *rq,
                           const struct fake_http_answer *a, int truncated)
{
    struct fake_ibm *f = ctx;
    /* the log holds no key, token or CRN: the IAM body and the headers are summarised */
    int iam = !strcmp(rq->url, "/identity/token");
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    const char *crn = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Service-CRN");
    fake_http_log(&f->http, "%s %s auth=%s crn=%s -> %d%s body=%.200s", rq->method, rq->url,
                  auth ? (strncmp(auth, "Bearer ", 7) ? "other" : "bearer") : "none",
                  crn ? (strcmp(crn, f->crn) ? "wrong" : "ok") : "none", a->status,
                  truncated ? " (truncated)" : "",
                  iam ? "grant_type=...&apikey=(hidden)" : (rq->body ? rq->body : ""));
}

struct fake_ibm *fake_ibm_start(const struct fake_ibm_options *options)
{
    struct fake_ibm *f = calloc(1, sizeof *f);
    if (!f || !options->api_key || !options->crn)
        goto fail;
    f->opt = *options;
    f->api_key = strdup(options->api_key);
    f->crn = strdup(options->crn);
    if (!f->api_key || !f->crn)
        goto fail;
    f->opt.api_key = f->api_key;
    f->opt.crn = f->crn;
    rng_seed(&f->gen, options->seed);
    const struct fake_http_routes routes = {f,           fb_serve, fb_fault_error, fb_log_request,
                                            fb_free_job, 0};
    if (fake_http_start(&f->http, &routes))
        goto fail;
    snprintf(f->iam_url, sizeof f->iam_url, "http://127.0.0.1:%d/identity/token", f->http.port);
    snprintf(f->api_url, sizeof f->api_url, "http://127.0.0.1:%d/api", f->http.port);
    return f;
fail:
    fake_ibm_stop(f);
    return NULL;
}

void fake_ibm_stop(struct fake_ibm *f)
{
    if (!f)
        return;
    fake_http_stop(&f->http);
    free(f->api_key);
    free(f->crn);
    free(f);
}

int fake_ibm_port(const struct fake_ibm *f)
{
    return f->http.port;
}

const char *fake_ibm_iam_url(const struct fake_ibm *f)
{
    return f->iam_url;
}

const char *fake_ibm_api_url(const struct fake_ibm *f)
{
    return f->api_url;
}

void fake_ibm_inject(struct fake_ibm *f, const struct fake_ibm_fault *fault)
{
    if (fault->kind == FAKE_IBM_REVOKE_TOKENS || fault->kind == FAKE_IBM_JOB_FAILS) {
        fake_http_lock(&f->http);
        if (fault->kind == FAKE_IBM_REVOKE_TOKENS) {
            for (int i = 0; i < f->n_tokens; i++)
                f->tokens[i].revoked = 1;
        } else {
            f->fail_jobs += fault->count;
            f->fail_code = fault->status;
        }
        fake_http_unlock(&f->http);
        return;
    }
    fake_http_queue_fault(&f->http, &FAKE_HTTP_FAULT_OF(fault));
}

void fake_ibm_stats(struct fake_ibm *f, struct fake_ibm_stats *out)
{
    fake_http_lock(&f->http);
    *out = f->stats;
    out->requests = f->http.requests;
    out->faults_served = f->http.faults_served;
    fake_http_unlock(&f->http);
}

char *fake_ibm_last_job_body(struct fake_ibm *f)
{
    return fake_http_last_body(&f->http);
}

char *fake_ibm_job_status(struct fake_ibm *f, const char *id)
{
    fake_http_lock(&f->http);
    struct fb_job *j = fb_find(f, id);
    char *copy = j ? strdup(fb_state_name(j->state)) : NULL;
    fake_http_unlock(&f->http);
    return copy;
}

char *fake_ibm_log(struct fake_ibm *f)
{
    return fake_http_log_copy(&f->http);
}
