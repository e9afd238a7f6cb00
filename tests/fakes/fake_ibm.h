/*
 * fake_ibm — a fake IBM Cloud IAM token endpoint and Qiskit Runtime REST API for tests
 * (quantum-apis.md §6.2): a real libmicrohttpd server on 127.0.0.1 (port 0: the kernel picks
 * one) serving POST /identity/token and /api/v1/... .
 *
 * IAM issues bearer tokens for the one API key it knows (400 otherwise), lasting token_seconds
 * and, if asked, only token_max_uses API requests. The API checks the token (401), the
 * Service-CRN (403) and counts requests without IBM-API-Version; validates Sampler V2 job bodies
 * (400/404 with IBM's {"trace", "errors": [...]} body), limits executions per job and job
 * creations per window (429); parses the OpenQASM 3 ISA subset (rz, sx, x, id, measure on
 * hardware qubits) and fails a job whose circuit uses any other gate with reason code 1517; runs
 * jobs Queued -> Running -> Completed, one step every polls_per_state GETs; and serves results as
 * one hex sample per shot, drawn with a seeded generator from the simulated circuit (plus an
 * optional noise model). Cancel (204, or 409 when finished), delete, list by tag, 404 for unknown
 * jobs, and a fault-injection queue: an HTTP status (with Retry-After), a truncated JSON body, a
 * slow answer, a dropped connection, revoked tokens, and jobs that fail or run too long.
 *
 * The server, its lock, the fault queue and the log are the shared core's (fake_http.h); this
 * fake is IBM's protocol. Tests include fake_ibm.c directly and link tests/fakes/fake_http.c (the
 * Makefile's FAKE_HTTP). The fake owns what it allocates; strings it returns are malloc'd copies
 * owned by the caller. Its log never holds the key, a token or the CRN.
 */
#ifndef FW_FAKE_IBM_H
#define FW_FAKE_IBM_H

#include <stddef.h>
#include <stdint.h>

struct fake_ibm_options {
    const char *api_key;     /* the key IAM accepts (required) */
    const char *crn;         /* the Service-CRN the API accepts (required) */
    int token_seconds;       /* expires_in of issued tokens; <= 0: 3600 */
    int token_max_uses;      /* API requests per token before it is refused; <= 0: no limit */
    int polls_per_state;     /* GETs of a job per state change; <= 0: 1 */
    uint64_t seed;           /* of the shot sampling */
    int creates_per_window;  /* job creations allowed per window (429 beyond); <= 0: 5 */
    double window_seconds;   /* <= 0: 60 */
    long max_executions;     /* circuits x shots per job; <= 0: 10,000,000 */
    int versions_as_objects; /* GET /versions: [{"version","status"}] instead of strings */
    double gate_error;       /* depolarising strength per sx / x gate */
    double readout_e0;       /* P(read 1 | 0) */
    double readout_e1;       /* P(read 0 | 1) */
};

enum fake_ibm_fault_kind {
    FAKE_IBM_STATUS,        /* answer `status` with IBM's error body (and Retry-After if >= 0) */
    FAKE_IBM_MALFORMED,     /* process the request, then send half of the answer */
    FAKE_IBM_SLOW,          /* process the request, answer after delay_ms */
    FAKE_IBM_DROP,          /* close the connection without answering */
    FAKE_IBM_REVOKE_TOKENS, /* now: every token issued so far is refused (count unused) */
    FAKE_IBM_JOB_FAILS,     /* the next `count` jobs fail with reason code `status` (1517, 1305
                               = "Cancelled - Ran too long", or any other code) */
};

struct fake_ibm_fault {
    enum fake_ibm_fault_kind kind;
    int count;          /* matching requests (or jobs) it applies to */
    const char *method; /* NULL: any */
    const char *path;   /* a substring of the request path; NULL: any */
    int status;         /* FAKE_IBM_STATUS: HTTP status; FAKE_IBM_JOB_FAILS: reason code */
    int retry_after;    /* FAKE_IBM_STATUS: Retry-After seconds; -1: no header */
    int delay_ms;       /* FAKE_IBM_SLOW */
};

struct fake_ibm_stats {
    int requests, tokens_issued, iam_refused, unauthorized, forbidden, no_version, invalid,
        rate_limited, jobs_created, cancels, faults_served, result_reads, max_creates_in_window;
};

struct fake_ibm;

struct fake_ibm *fake_ibm_start(const struct fake_ibm_options *options);
void fake_ibm_stop(struct fake_ibm *f);
int fake_ibm_port(const struct fake_ibm *f);
/* "http://127.0.0.1:<port>/identity/token" and "http://127.0.0.1:<port>/api" (borrowed). */
const char *fake_ibm_iam_url(const struct fake_ibm *f);
const char *fake_ibm_api_url(const struct fake_ibm *f);

void fake_ibm_inject(struct fake_ibm *f, const struct fake_ibm_fault *fault);
void fake_ibm_stats(struct fake_ibm *f, struct fake_ibm_stats *out);
/* The body of the last POST /api/v1/jobs (malloc'd, or NULL). */
char *fake_ibm_last_job_body(struct fake_ibm *f);
/* A job's state.status ("Completed", ...) or NULL if unknown (malloc'd). */
char *fake_ibm_job_status(struct fake_ibm *f, const char *id);
/* Every request so far, one line each (malloc'd). */
char *fake_ibm_log(struct fake_ibm *f);

#endif
