/*
 * ibm — the IBM Quantum backend (Qiskit Runtime REST, quantum-apis.md §3, §5): an IBM Cloud API
 * key is exchanged at IAM for a bearer token (cached, refreshed a margin before it expires, and
 * once more when the API answers 401); each circuit becomes the OpenQASM 3 ISA circuit
 * `sx; rz(theta+pi); sx; measure` on one physical qubit (circuit_qasm_isa), one PUB per circuit,
 * packed into `sampler` (Sampler V2) jobs of at most max_executions / shots PUBs; job creation
 * is paced to jobs_per_minute per pacing window (the rest of a batch is created by later polls,
 * so neither submit nor poll sleeps for the pacing); jobs are polled on state.status and their
 * pure-JSON results are counted sample by sample ("0x0" / "0x1"), with a streaming scanner
 * rather than a JSON tree (a 10^7-shot result would not fit in memory as one): ibm_samples.h.
 *
 * Every job carries a unique tag. When a create's answer is lost (a timeout, a 5xx, a body that
 * is not JSON), the client looks the tag up (GET /v1/jobs?tags=...) before trying again, so a
 * retry never runs a batch twice and no created job is lost.
 *
 * Errors (§3.8): 1517 (non-ISA circuits) is FW_EINVAL naming the backend and qubit; a refused
 * key or CRN is FW_EINVAL naming the variable; 409 on create (usage limit) is FW_ECONFLICT; a
 * failed job makes poll set *state = QJOB_FAILED and return a negative code with IBM's reason,
 * after cancelling the batch's other jobs. 409 on cancel (the job already finished) is not an
 * error.
 *
 * The backend copies its configuration, key, CRN and token (wiped on destroy, never logged or put
 * in an error message). It may be shared between threads.
 */
#ifndef FW_IBM_H
#define FW_IBM_H

#include "quantum/backend.h"

#define IBM_DEFAULT_IAM_URL     "https://iam.cloud.ibm.com/identity/token"
#define IBM_DEFAULT_API_URL     "https://quantum.cloud.ibm.com/api"
#define IBM_DEFAULT_API_VERSION "2026-04-15"
#define IBM_MAX_EXECUTIONS      10000000L /* circuits x shots per Sampler job (§3.4) */

struct ibm_config {
    const char *iam_url;     /* NULL: IBM_DEFAULT_IAM_URL */
    const char *api_url;     /* NULL: IBM_DEFAULT_API_URL, or https://eu-de.quantum.cloud.ibm.com
                                /api when the CRN's region is eu-de (§3.1); routes are /v1/... */
    const char *api_key;     /* required: IBM_CLOUD_API_KEY */
    const char *crn;         /* required: IBM_QUANTUM_CRN, sent as Service-CRN */
    const char *backend;     /* required, e.g. "ibm_fez" (IBM has no cloud simulator) */
    int qubit;               /* the physical qubit $q, 0..999 */
    int jobs_per_minute;     /* job creations per pacing window; <= 0: 5 */
    int timeout_seconds;     /* one HTTP exchange; <= 0: 30 */
    const char *api_version; /* IBM-API-Version header; NULL: IBM_DEFAULT_API_VERSION */
    double pacing_window_seconds;     /* <= 0: 60 */
    int token_refresh_margin_seconds; /* refresh this long before expiry; <= 0: 300 */
    int max_attempts;                 /* per request, first try included; <= 0: 5 */
    double retry_base_seconds;        /* first back-off, doubling; <= 0: 0.5 */
    long max_executions_per_job;      /* circuits x shots; <= 0: IBM_MAX_EXECUTIONS */
};

int ibm_backend_create(const struct ibm_config *cfg, struct qbackend **out, fw_error *err);

#endif
