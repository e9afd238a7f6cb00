/*
 * fake_ionq — a fake IonQ Quantum Cloud v0.4 REST server for tests (quantum-apis.md §6.1): a real
 * libmicrohttpd server on 127.0.0.1 (port 0: the kernel picks one; fake_ionq_url says which).
 *
 * It checks `Authorization: apiKey <key>` (401 otherwise, except GET /backends), validates job
 * bodies as IonQ documents them (400 with a BadRequestError body naming the offending key),
 * runs each job through submitted -> ready -> started (or "running") -> completed, advancing one
 * state every polls_per_state GETs of the job, and computes results from the circuits
 * themselves: exact probabilities on the ideal simulator, else `shots` seeded Bernoulli draws of
 * the exact P(0) through IonQ's depolarising noise (§2.10). Multi-circuit jobs get child jobs
 * named after their circuits. Results are served in the style chosen (direct routes, only the
 * job's results URL, only artifacts, only the child jobs). Cancel, delete, 404 for unknown jobs,
 * and a fault-injection queue: an HTTP status (429 with Retry-After, 5xx, 409), a truncated JSON
 * body, a slow answer, a dropped connection, and jobs that fail.
 *
 * The server, its lock, the fault queue and the log are the shared core's (fake_http.h); this
 * fake is IonQ's protocol. Tests include fake_ionq.c directly and link tests/fakes/fake_http.c
 * (the Makefile's FAKE_HTTP). The fake owns everything it allocates; strings it returns are
 * malloc'd copies owned by the caller. Its log never holds the API key.
 */
#ifndef FW_FAKE_IONQ_H
#define FW_FAKE_IONQ_H

#include <stddef.h>
#include <stdint.h>

enum fake_ionq_results {
    FAKE_IONQ_RESULTS_DIRECT = 0, /* /results/probabilities[/aggregated] and results.url */
    FAKE_IONQ_RESULTS_URL_ONLY,   /* direct routes 404; only the job's results URL works */
    FAKE_IONQ_RESULTS_ARTIFACTS,  /* only descriptor-style results with artifact ids */
    FAKE_IONQ_RESULTS_CHILDREN,   /* a parent has no results; each child has its own */
};

struct fake_ionq_options {
    const char *api_key;  /* required */
    int polls_per_state;  /* GETs of a job per state change; <= 0: 1 */
    int running_spelling; /* 1: say "running" (v0.3, the UI) instead of "started" */
    uint64_t seed;        /* of the shot sampling */
    int max_circuits;     /* per job (400 beyond); <= 0: 5000 */
    enum fake_ionq_results results;
    int shuffle_children; /* child_job_ids in reverse circuit order */
    int hide_child_ids;   /* child_job_ids null on parents */
};

enum fake_ionq_fault_kind {
    FAKE_IONQ_STATUS,    /* answer `status` with IonQ's error body (and Retry-After if >= 0) */
    FAKE_IONQ_MALFORMED, /* process the request, then send half of the JSON answer */
    FAKE_IONQ_SLOW,      /* process the request, answer after delay_ms */
    FAKE_IONQ_DROP,      /* close the connection without answering */
    FAKE_IONQ_JOB_FAILS, /* the next `count` jobs created fail (UnsupportedGate) on their
                            first state change */
};

struct fake_ionq_fault {
    enum fake_ionq_fault_kind kind;
    int count;          /* matching requests (or jobs) it applies to */
    const char *method; /* NULL: any */
    const char *path;   /* a substring of the request path; NULL: any */
    int status;         /* FAKE_IONQ_STATUS */
    int retry_after;    /* FAKE_IONQ_STATUS: Retry-After seconds; -1: no header */
    int delay_ms;       /* FAKE_IONQ_SLOW */
};

struct fake_ionq_stats {
    int requests, unauthorized, invalid, jobs_created, cancels, faults_served, result_reads;
};

struct fake_ionq;

/* Starts the server; returns NULL on failure. */
struct fake_ionq *fake_ionq_start(const struct fake_ionq_options *options);
/* Stops it and frees everything. NULL is fine. */
void fake_ionq_stop(struct fake_ionq *f);
int fake_ionq_port(const struct fake_ionq *f);
/* "http://127.0.0.1:<port>/v0.4" (borrowed, valid until stop). */
const char *fake_ionq_url(const struct fake_ionq *f);

/* Queues a fault (faults are served in the order queued, each while its count lasts). */
void fake_ionq_inject(struct fake_ionq *f, const struct fake_ionq_fault *fault);
void fake_ionq_stats(struct fake_ionq *f, struct fake_ionq_stats *out);
/* The body of the last POST /jobs (malloc'd, or NULL). */
char *fake_ionq_last_job_body(struct fake_ionq *f);
/* A job's status ("completed", ...) or NULL if unknown (malloc'd). */
char *fake_ionq_job_status(struct fake_ionq *f, const char *id);
/* Every request so far, one line each (malloc'd). */
char *fake_ionq_log(struct fake_ionq *f);
/* Makes every job jump to `completed` on its next poll (1) or not (0). */
void fake_ionq_fast_forward(struct fake_ionq *f, int on);

#endif
