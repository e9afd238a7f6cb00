/*
 * factory — opens a backend by name for the CLI and the server: "exact", "sampler" (with shots,
 * a seed and an optional noise preset), and the cloud backends "ionq" and "ibm" (credentials from
 * the environment or a 0600 file, see creds.h). Describes the resulting run's cost before
 * anything is submitted. The caller owns the backend.
 */
#ifndef FW_FACTORY_H
#define FW_FACTORY_H

#include <stdint.h>

#include "quantum/backend.h"

#define QBACKEND_MAX_SHOTS 1000000

struct qbackend_request {
    const char *name;        /* exact | sampler | ionq | ibm */
    int shots;               /* 0 with exact; 1..QBACKEND_MAX_SHOTS otherwise */
    const char *noise;       /* sampler: a preset name, NULL for noiseless; ionq: the
                                simulator's noise model */
    const char *noise_path;  /* a JSON file of presets the user can edit, may be NULL */
    uint64_t seed;           /* the sampler's */
    const char *device;      /* ionq: "simulator" (default) or "qpu.forte-1"...; ibm: required,
                                "ibm_fez"... */
    int qubit;               /* ibm: the physical qubit */
    const char *url;         /* a base URL override (tests, a proxy), may be NULL: else
                                $FWPCAST_IONQ_URL / $FWPCAST_IBM_URL, else the provider's */
    const char *iam_url;     /* ibm: the IAM token URL override; else $FWPCAST_IBM_IAM_URL */
    const char *credentials; /* a credentials file, may be NULL (the environment is used) */
    int plan_only;           /* open a cloud backend without credentials, for qbackend_plan
                                only (what a run would use: `dry_run`) */
};

/* Validates the request (names, shots range, noise preset) and opens the backend. FW_EINVAL
 * messages name the offending field. */
int qbackend_open(const struct qbackend_request *rq, struct qbackend **out, fw_error *err);

/* The provider's device a request runs on ("simulator", "ibm_fez", ...; "" for local ones). */
const char *qbackend_device(const struct qbackend_request *rq);

/* 1 for the backends that run remotely (answer later, cost money). */
int qbackend_is_remote(const char *name);

#endif
