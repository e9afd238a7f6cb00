/* backend — the backend interface's driver, and the local exact and sampler backends with their
 * noise model (see backend.h). The caller owns the backends and jobs (qbackend_destroy,
 * qjob_free); a local job owns its result arrays; qbackend_run frees the job it submits. */
#include "quantum/backend.h"
#include "model/rng.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *qjob_state_name(enum qjob_state state)
{
    static const char *const names[] = {"queued", "running", "done", "failed", "cancelled"};
    return state <= QJOB_CANCELLED ? names[state] : "?";
}

void qbackend_plan(struct qbackend *b, size_t n_circuits, int shots, struct qplan *plan)
{
    b->ops->plan(b, n_circuits, shots, plan);
}

void qjob_free(struct qbackend *b, struct qjob *job)
{
    if (b && job)
        b->ops->job_free(job);
}

void qbackend_destroy(struct qbackend *b)
{
    if (b)
        b->ops->destroy(b);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sleeps up to `seconds`, waking every 50 ms to notice a cancellation. */
static void wait_a_while(double seconds, const atomic_int *cancel)
{
    double until = now_seconds() + seconds;
    while (now_seconds() < until && !(cancel && atomic_load(cancel))) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void observe(struct qbackend *b, struct qjob *job, const struct qrun_observer *observer,
                    enum qjob_state state, enum qjob_state *last)
{
    if (!observer || state == *last)
        return;
    char ids[1024] = "";
    if (b->ops->job_ids)
        b->ops->job_ids(job, ids, sizeof ids);
    observer->update(observer->ctx, ids, state);
    *last = state;
}

int qbackend_run(struct qbackend *b, const struct qcircuit *circuits, size_t n, int shots,
                 double *p0, uint64_t *zeros, double poll_seconds, double timeout_seconds,
                 const atomic_int *cancel, fw_error *err)
{
    return qbackend_run_observed(b, circuits, n, shots, p0, zeros, poll_seconds, timeout_seconds,
                                 cancel, NULL, err);
}

int qbackend_run_observed(struct qbackend *b, const struct qcircuit *circuits, size_t n, int shots,
                          double *p0, uint64_t *zeros, double poll_seconds, double timeout_seconds,
                          const atomic_int *cancel, const struct qrun_observer *observer,
                          fw_error *err)
{
    struct qjob *job = NULL;
    int rc = b->ops->submit(b, circuits, n, shots, &job, err);
    if (rc)
        return rc;
    enum qjob_state last = (enum qjob_state) - 1;
    observe(b, job, observer, QJOB_QUEUED, &last);
    double start = now_seconds(), delay = poll_seconds > 0 ? poll_seconds : 0.5;
    for (;;) {
        enum qjob_state state;
        if ((rc = b->ops->poll(b, job, &state, err))) {
            b->ops->cancel(b, job, NULL);
            observe(b, job, observer, QJOB_FAILED, &last);
            break;
        }
        observe(b, job, observer, state, &last);
        if (state == QJOB_DONE) {
            rc = b->ops->fetch(b, job, p0, zeros, err);
            break;
        }
        if (state == QJOB_FAILED || state == QJOB_CANCELLED) {
            rc = fw_error_set(err, FW_EIO, "the %s job ended %s", b->ops->name,
                              qjob_state_name(state));
            break;
        }
        if (cancel && atomic_load(cancel)) {
            b->ops->cancel(b, job, NULL);
            rc = fw_error_set(err, FW_ECANCELLED, "cancelled");
            break;
        }
        if (now_seconds() - start > timeout_seconds) {
            b->ops->cancel(b, job, NULL);
            rc = fw_error_set(err, FW_EIO, "the %s job did not finish within %.0f s (cancelled)",
                              b->ops->name, timeout_seconds);
            break;
        }
        wait_a_while(delay, cancel);
        delay = delay * 2 > 30 ? 30 : delay * 2;
    }
    b->ops->job_free(job);
    return rc;
}

/* ---- local backends ------------------------------------------------------------------------ */

struct local_job {
    size_t n;
    double *p0;
    uint64_t *zeros;
};

struct local_backend {
    struct qbackend base;
    int sampled;
    struct noise_model noise;
    int has_noise;
    rng gen;
};

static void local_plan(struct qbackend *b, size_t n, int shots, struct qplan *plan)
{
    struct local_backend *lb = (struct local_backend *)b;
    plan->circuits = n;
    plan->jobs = n ? 1 : 0;
    plan->shots_total = lb->sampled ? (uint64_t)n * (uint64_t)(shots > 0 ? shots : 0) : 0;
}

/* One binomial draw by inversion, searching outward from the mode: any fixed order of the
 * outcomes gives an exact draw, and this one takes about 1.6 sqrt(n p q) steps. */
static uint64_t binomial(rng *r, uint64_t n, double p)
{
    if (n == 0 || p <= 0.0)
        return 0;
    if (p >= 1.0)
        return n;
    double q = 1.0 - p, mode_f = floor((double)(n + 1) * p);
    uint64_t mode = mode_f > (double)n ? n : (uint64_t)mode_f;
    double log_pm = lgamma((double)n + 1) - lgamma((double)mode + 1) -
                    lgamma((double)(n - mode) + 1) + (double)mode * log(p) +
                    (double)(n - mode) * log(q);
    double pm = exp(log_pm), u = rng_uniform(r) - pm;
    if (u <= 0)
        return mode;
    uint64_t hi = mode, lo = mode;
    double p_hi = pm, p_lo = pm, ratio = p / q;
    while (hi < n || lo > 0) {
        if (hi < n) {
            p_hi *= (double)(n - hi) / (double)(hi + 1) * ratio;
            hi++;
            if ((u -= p_hi) <= 0)
                return hi;
        }
        if (lo > 0) {
            p_lo *= (double)lo / (double)(n - lo + 1) / ratio;
            lo--;
            if ((u -= p_lo) <= 0)
                return lo;
        }
    }
    return mode; /* rounding left a sliver of probability: the mode is the likeliest */
}

double noise_apply(const struct noise_model *noise, double p0)
{
    double z = 2.0 * p0 - 1.0;
    z *= pow(1.0 - noise->gate_error, (double)noise->native_gates);
    double ideal0 = 0.5 * (1.0 + z), ideal1 = 1.0 - ideal0;
    double meas1 = noise->readout_e0 * ideal0 + (1.0 - noise->readout_e1) * ideal1;
    return 1.0 - meas1;
}

static int local_submit(struct qbackend *b, const struct qcircuit *c, size_t n, int shots,
                        struct qjob **out, fw_error *err)
{
    struct local_backend *lb = (struct local_backend *)b;
    if (lb->sampled && shots < 1)
        return fw_error_set(err, FW_EINVAL, "the sampler needs at least one shot");
    struct local_job *job = calloc(1, sizeof *job);
    if (job) {
        job->n = n;
        job->p0 = malloc((n ? n : 1) * sizeof *job->p0);
        job->zeros = calloc(n ? n : 1, sizeof *job->zeros);
    }
    if (!job || !job->p0 || !job->zeros) {
        if (job)
            free(job->p0), free(job->zeros);
        free(job);
        return FW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        double p = circuit_p0(&c[i]);
        if (!lb->sampled) {
            job->p0[i] = p;
            continue;
        }
        if (lb->has_noise)
            p = noise_apply(&lb->noise, p);
        job->zeros[i] = binomial(&lb->gen, (uint64_t)shots, p);
        job->p0[i] = (double)job->zeros[i] / (double)shots;
    }
    *out = (struct qjob *)job;
    return FW_OK;
}

static int local_poll(struct qbackend *b, struct qjob *job, enum qjob_state *state, fw_error *err)
{
    (void)b, (void)job, (void)err;
    *state = QJOB_DONE;
    return FW_OK;
}

static int local_fetch(struct qbackend *b, struct qjob *j, double *p0, uint64_t *zeros,
                       fw_error *err)
{
    (void)b, (void)err;
    struct local_job *job = (struct local_job *)j;
    memcpy(p0, job->p0, job->n * sizeof *p0);
    if (zeros)
        memcpy(zeros, job->zeros, job->n * sizeof *zeros);
    return FW_OK;
}

static int local_cancel(struct qbackend *b, struct qjob *job, fw_error *err)
{
    (void)b, (void)job, (void)err;
    return FW_OK;
}

static void local_job_ids(const struct qjob *job, char *buf, size_t size)
{
    (void)job;
    snprintf(buf, size, "local");
}

static void local_job_free(struct qjob *j)
{
    struct local_job *job = (struct local_job *)j;
    if (job) {
        free(job->p0);
        free(job->zeros);
        free(job);
    }
}

static void local_destroy(struct qbackend *b)
{
    free(b);
}

static const struct qbackend_ops exact_ops = {"exact",        0,
                                              local_plan,     local_submit,
                                              local_poll,     local_fetch,
                                              local_cancel,   local_job_ids,
                                              local_job_free, local_destroy};
static const struct qbackend_ops sampler_ops = {"sampler",      0,
                                                local_plan,     local_submit,
                                                local_poll,     local_fetch,
                                                local_cancel,   local_job_ids,
                                                local_job_free, local_destroy};

int exact_backend_create(struct qbackend **out)
{
    struct local_backend *lb = calloc(1, sizeof *lb);
    if (!lb)
        return FW_ENOMEM;
    lb->base.ops = &exact_ops;
    *out = &lb->base;
    return FW_OK;
}

int sampler_backend_create(const struct noise_model *noise, uint64_t seed, struct qbackend **out)
{
    struct local_backend *lb = calloc(1, sizeof *lb);
    if (!lb)
        return FW_ENOMEM;
    lb->base.ops = &sampler_ops;
    lb->sampled = 1;
    if (noise) {
        lb->noise = *noise;
        lb->has_noise = 1;
    }
    rng_seed_stream(&lb->gen, seed, 0x5a4d504c45ULL);
    *out = &lb->base;
    return FW_OK;
}

/* ---- noise presets (quantum-apis.md §2.10, §3.11, §4) -----------------------------------------
 */

static const struct noise_model presets[] = {
    {"ideal", 0.0, 0, 0.0, 0.0},
    /* IonQ: depolarising r1q from IonQ's simulator noise models; 3 native gates after the qis
     * RY/RZ chain compiles to GPi/GPi2 with virtual Z; SPAM 0.38% (Aria characterisation) and
     * 0.5% (Forte, unverified), split evenly between the two readout errors */
    {"ionq-aria-1", 5.0e-4, 3, 0.0038, 0.0038},
    {"ionq-aria-2", 6.573e-4, 3, 0.0038, 0.0038},
    {"ionq-forte-1", 2.667e-4, 3, 0.005, 0.005},
    /* IBM: median sx error and P(1|0) / P(0|1) of the fake-backend snapshots; the minimal ISA
     * circuit has 2 sx */
    {"ibm-heron-r2", 2.29e-4, 2, 0.004, 0.011},
    {"ibm-heron-r3", 1.45e-4, 2, 0.004, 0.005},
    {"ibm-heron-r1", 2.71e-4, 2, 0.020, 0.023},
    {"ibm-eagle-r3", 2.43e-4, 2, 0.021, 0.013},
};

size_t noise_preset_count(void)
{
    return sizeof presets / sizeof presets[0];
}

const struct noise_model *noise_preset_at(size_t i)
{
    return i < noise_preset_count() ? &presets[i] : NULL;
}

static int read_preset_file(const char *path, const char *name, struct noise_model *out,
                            fw_error *err)
{
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *doc = json_load_file(path, 0, &jerr);
    /* jansson says "out of memory" in the code, or with no message when it cannot even start */
    if (!doc && (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0]))
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory reading it", path);
    if (!doc)
        return fw_error_set(err, FW_EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
    const json_t *p = json_object_get(doc, name);
    int rc = FW_ENOTFOUND;
    if (json_is_object(p)) {
        const json_t *r = json_object_get(p, "gate_error"), *n = json_object_get(p, "native_gates");
        const json_t *e0 = json_object_get(p, "readout_e0"), *e1 = json_object_get(p, "readout_e1");
        double vr = json_number_value(r), v0 = json_number_value(e0), v1 = json_number_value(e1);
        if (!json_is_number(r) || !json_is_integer(n) || !json_is_number(e0) ||
            !json_is_number(e1) || vr < 0 || vr >= 1 || json_integer_value(n) < 0 ||
            json_integer_value(n) > 1000 || v0 < 0 || v0 >= 0.5 || v1 < 0 || v1 >= 0.5) {
            rc = fw_error_set(err, FW_EINVAL,
                              "%s: noise model '%s' needs gate_error in [0,1), native_gates "
                              "0..1000 and readout_e0/e1 in [0,0.5)",
                              path, name);
        } else {
            memset(out, 0, sizeof *out);
            snprintf(out->name, sizeof out->name, "%s", name);
            out->gate_error = vr;
            out->native_gates = (int)json_integer_value(n);
            out->readout_e0 = v0;
            out->readout_e1 = v1;
            rc = FW_OK;
        }
    }
    json_decref(doc);
    return rc;
}

int noise_model_find(const char *name, const char *presets_path, struct noise_model *out,
                     fw_error *err)
{
    if (!name || !*name)
        return fw_error_set(err, FW_EINVAL, "no noise model named");
    if (presets_path) {
        int rc = read_preset_file(presets_path, name, out, err);
        if (rc != FW_ENOTFOUND)
            return rc;
    }
    for (size_t i = 0; i < noise_preset_count(); i++)
        if (!strcmp(presets[i].name, name)) {
            *out = presets[i];
            return FW_OK;
        }
    char list[256] = "";
    for (size_t i = 0; i < noise_preset_count(); i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, presets[i].name, sizeof list - strlen(list) - 1);
    }
    return fw_error_set(err, FW_ENOTFOUND, "unknown noise model '%.40s' (known: %s)", name, list);
}
