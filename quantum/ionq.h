/*
 * ionq — the IonQ Quantum Cloud backend (REST v0.4, quantum-apis.md §2): circuits go out as
 * `ionq.multi-circuit.v1` jobs (a lone circuit as `ionq.circuit.v1`) in the `qis` gateset, at
 * most max_circuits_per_job per job; jobs are polled on GET /jobs/{id}; results come from
 * /results/probabilities (…/aggregated for a multi-circuit parent), falling back to the job's
 * results URL, its artifacts, then the child jobs (§2.5); cancel is PUT /jobs/{id}/status/cancel.
 * Requests answered 429, 502–504 or 520–529 (and 409 on reads) are retried with exponential
 * back-off, honouring Retry-After, a bounded number of times.
 *
 * IonQ returns probabilities, not counts: fetch reports zeros = llround(P(0) * shots). For the
 * ideal simulator those are expected counts, not draws (the ideal simulator computes exact
 * probabilities; noisy simulations and QPUs are shot-based).
 *
 * The backend copies its configuration and API key (wiped on destroy, never logged or put in an
 * error message). A failed provider job makes poll set *state = QJOB_FAILED and return a negative
 * code whose message gives IonQ's failure code and message; sibling jobs of the batch are then
 * cancelled.
 */
#ifndef FW_IONQ_H
#define FW_IONQ_H

#include "quantum/backend.h"

#define IONQ_DEFAULT_URL "https://api.ionq.co/v0.4"
#define IONQ_MAX_SHOTS   1000000

struct ionq_config {
    const char *base_url;      /* NULL: IONQ_DEFAULT_URL (the versioned base, no trailing /) */
    const char *api_key;       /* required (see creds.h) */
    const char *backend;       /* NULL: "simulator"; "qpu.aria-1", "qpu.forte-1", ... */
    const char *noise_model;   /* simulator only ("aria-1", "forte-1", ...); NULL: ideal */
    int noise_seed;            /* sent with noise_model when >= 0 */
    int debias;                /* 0: send settings.error_mitigation.debiasing = false */
    int max_circuits_per_job;  /* <= 0: 1000 */
    int timeout_seconds;       /* one HTTP exchange; <= 0: 30 */
    int max_attempts;          /* per request, first try included; <= 0: 5 */
    double retry_base_seconds; /* first back-off, doubling; <= 0: 1 */
};

int ionq_backend_create(const struct ionq_config *cfg, struct qbackend **out, fw_error *err);

/* The result documents IonQ serves for a single circuit (§2.5). */
enum ionq_result_format {
    IONQ_PROBABILITIES_V1, /* {"0": 0.25, "1": 0.75}: decimal state keys */
    IONQ_PROBABILITIES_V2, /* {"probabilities": {"registers": {"output_all": {"0": p, "1": p}}}}
                              with zero-padded bitstring keys, qubit 0 last */
    IONQ_HISTOGRAM_V1,     /* counts, decimal state keys */
    IONQ_HISTOGRAM_V2,     /* {"histogram": {"registers": {"output_all": counts}}}, bitstrings */
};

/* P(0) of qubit 0 from len bytes of a result document in the given format, as fetch reads it:
 * probabilities must sum to between 0.5 and 1.5, counts to more than 0; a missing key is 0. Returns
 * 0, FW_ECORRUPT when the text is not such a document, or FW_EINVAL for an unknown format.
 * Exposed for tests. */
int ionq_result_p0(const char *text, size_t len, enum ionq_result_format format, double *p0);

#endif
