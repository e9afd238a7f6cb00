/*
 * backend — one interface for running batches of single-qubit circuits and getting back each
 * circuit's P(measure 0) (and, where shots were drawn, its count of 0 outcomes). Local backends
 * (exact, sampler) finish inside submit; remote ones (IonQ, IBM) submit, are polled, fetched and
 * can be cancelled. qbackend_run drives the whole cycle with back-off and a deadline.
 *
 * A backend owns its configuration and credentials (never logged or echoed); a job handle is
 * owned by the caller until qjob_free.
 */
#ifndef FW_BACKEND_H
#define FW_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "quantum/circuit.h"

enum qjob_state { QJOB_QUEUED, QJOB_RUNNING, QJOB_DONE, QJOB_FAILED, QJOB_CANCELLED };

const char *qjob_state_name(enum qjob_state state);

/* What a batch will cost: how many circuits, shots in all, provider jobs. */
struct qplan {
    size_t circuits, jobs;
    uint64_t shots_total;
};

struct qbackend;
struct qjob;

struct qbackend_ops {
    const char *name; /* "exact", "sampler", "ionq", "ibm" */
    int remote;
    void (*plan)(struct qbackend *b, size_t n_circuits, int shots, struct qplan *plan);
    int (*submit)(struct qbackend *b, const struct qcircuit *circuits, size_t n, int shots,
                  struct qjob **job, fw_error *err);
    int (*poll)(struct qbackend *b, struct qjob *job, enum qjob_state *state, fw_error *err);
    /* p0[n], and zeros[n] (may be NULL; left 0 when no shots were drawn) */
    int (*fetch)(struct qbackend *b, struct qjob *job, double *p0, uint64_t *zeros, fw_error *err);
    int (*cancel)(struct qbackend *b, struct qjob *job, fw_error *err);
    /* The provider's job ids, comma-separated, for display (a quantum job's progress). */
    void (*job_ids)(const struct qjob *job, char *buf, size_t size);
    void (*job_free)(struct qjob *job);
    void (*destroy)(struct qbackend *b);
};

struct qbackend {
    const struct qbackend_ops *ops;
};

void qbackend_plan(struct qbackend *b, size_t n_circuits, int shots, struct qplan *plan);
void qjob_free(struct qbackend *b, struct qjob *job);
void qbackend_destroy(struct qbackend *b);

/* Told the provider's job ids and state after the submission and after every poll whose state
 * differs from the last one (for a job's progress page). Called on the running thread. */
struct qrun_observer {
    void (*update)(void *ctx, const char *job_ids, enum qjob_state state);
    void *ctx;
};

/* Submits, polls (starting at poll_seconds, doubling to 30 s) until done, fetches. Gives up
 * with FW_EIO after timeout_seconds, cancelling the remote job; FW_ECANCELLED (after cancelling
 * it) when *cancel becomes non-zero; a poll that fails (its message says why: the provider's
 * failure reason, say) also cancels what is left of the batch. cancel and observer may be
 * NULL. */
int qbackend_run(struct qbackend *b, const struct qcircuit *circuits, size_t n, int shots,
                 double *p0, uint64_t *zeros, double poll_seconds, double timeout_seconds,
                 const atomic_int *cancel, fw_error *err);
int qbackend_run_observed(struct qbackend *b, const struct qcircuit *circuits, size_t n, int shots,
                          double *p0, uint64_t *zeros, double poll_seconds, double timeout_seconds,
                          const atomic_int *cancel, const struct qrun_observer *observer,
                          fw_error *err);

/* The exact backend: P(0) from the circuit's unitary, no shots. */
int exact_backend_create(struct qbackend **out);

/* A single-qubit noise model (quantum-apis.md §4): n depolarising gates of strength r shrink
 * <Z> by (1-r)^n, then an asymmetric readout confusion e0 = P(1|0), e1 = P(0|1). */
struct noise_model {
    char name[48];
    double gate_error; /* r per native gate */
    int native_gates;  /* n per circuit */
    double readout_e0, readout_e1;
};

/* The built-in device presets ("ideal", "ionq-aria-1", "ionq-forte-1", "ibm-heron-r2", ...). */
size_t noise_preset_count(void);
const struct noise_model *noise_preset_at(size_t i);
/* A preset by name, or one from a JSON file of presets ({"name": {"gate_error": ..,
 * "native_gates": .., "readout_e0": .., "readout_e1": ..}, ...}) when path is not NULL. */
int noise_model_find(const char *name, const char *presets_path, struct noise_model *out,
                     fw_error *err);

/* Noise applied to an ideal P(0): the probability that a shot reads 0. */
double noise_apply(const struct noise_model *noise, double p0);

/* The sampler: `shots` draws per circuit from a seeded generator (binomial, not one draw per
 * shot), through an optional noise model (NULL: noiseless). */
int sampler_backend_create(const struct noise_model *noise, uint64_t seed, struct qbackend **out);

#endif
