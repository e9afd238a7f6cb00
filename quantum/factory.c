/* factory — backends by name (see factory.h). The caller owns the backend it opens; the
 * credentials read for it are wiped once the backend has its own copy. */
#include "quantum/factory.h"
#include "quantum/creds.h"
#include "quantum/ibm.h"
#include "quantum/ionq.h"

#include <stdlib.h>
#include <string.h>

/* An override from the request, else from the environment, else NULL (the default). */
static const char *url_of(const char *given, const char *env)
{
    const char *v = given ? given : getenv(env);
    return v && *v ? v : NULL;
}

const char *qbackend_device(const struct qbackend_request *rq)
{
    if (!rq->name || !qbackend_is_remote(rq->name))
        return "";
    return rq->device ? rq->device : !strcmp(rq->name, "ionq") ? "simulator" : "";
}

static int open_ionq(const struct qbackend_request *rq, struct qbackend **out, fw_error *err)
{
    struct ionq_creds creds = {{0}};
    if (!rq->plan_only) {
        int rc = creds_ionq(rq->credentials, &creds, err);
        if (rc)
            return rc;
    }
    struct ionq_config cfg = {.base_url = url_of(rq->url, "FWPCAST_IONQ_URL"),
                              .api_key = rq->plan_only ? "plan-only" : creds.api_key,
                              .backend = qbackend_device(rq),
                              .noise_model = rq->noise,
                              .noise_seed = rq->noise ? (int)(rq->seed & 0x7fffffff) : -1};
    int rc = ionq_backend_create(&cfg, out, err);
    creds_wipe(&creds, sizeof creds);
    return rc;
}

static int open_ibm(const struct qbackend_request *rq, struct qbackend **out, fw_error *err)
{
    if (!rq->device || !*rq->device)
        return fw_error_set(err, FW_EINVAL,
                            "the ibm backend needs a device: an IBM backend name, e.g. ibm_fez "
                            "(IBM Quantum has no cloud simulator)");
    if (rq->noise)
        return fw_error_set(err, FW_EINVAL, "the ibm backend runs on hardware: no noise model");
    if (rq->qubit < 0 || rq->qubit > 999)
        return fw_error_set(err, FW_EINVAL, "qubit must be a physical qubit, 0..999");
    struct ibm_creds creds = {{0}, {0}};
    if (!rq->plan_only) {
        int rc = creds_ibm(rq->credentials, &creds, err);
        if (rc)
            return rc;
    }
    struct ibm_config cfg = {.iam_url = url_of(rq->iam_url, "FWPCAST_IBM_IAM_URL"),
                             .api_url = url_of(rq->url, "FWPCAST_IBM_URL"),
                             .api_key = rq->plan_only ? "plan-only" : creds.api_key,
                             .crn = rq->plan_only ? "crn:v1:plan-only" : creds.crn,
                             .backend = rq->device,
                             .qubit = rq->qubit};
    int rc = ibm_backend_create(&cfg, out, err);
    creds_wipe(&creds, sizeof creds);
    return rc;
}

int qbackend_is_remote(const char *name)
{
    return name && (!strcmp(name, "ionq") || !strcmp(name, "ibm"));
}

int qbackend_open(const struct qbackend_request *rq, struct qbackend **out, fw_error *err)
{
    const char *name = rq->name ? rq->name : "exact";
    if (!strcmp(name, "exact")) {
        if (rq->noise)
            return fw_error_set(err, FW_EINVAL, "the exact backend takes no noise model");
        return exact_backend_create(out);
    }
    if (rq->shots < 1 || rq->shots > QBACKEND_MAX_SHOTS)
        return fw_error_set(err, FW_ERANGE, "shots must be in 1..%d for the %s backend",
                            QBACKEND_MAX_SHOTS, name);
    if (!strcmp(name, "sampler")) {
        struct noise_model noise;
        if (rq->noise) {
            int rc = noise_model_find(rq->noise, rq->noise_path, &noise, err);
            if (rc == FW_ENOTFOUND && err)
                err->code = FW_EINVAL; /* an unknown name in a request is invalid input */
            if (rc)
                return rc == FW_ENOTFOUND ? FW_EINVAL : rc;
        }
        return sampler_backend_create(rq->noise ? &noise : NULL, rq->seed, out);
    }
    if (!strcmp(name, "ionq"))
        return open_ionq(rq, out, err);
    if (!strcmp(name, "ibm"))
        return open_ibm(rq, out, err);
    return fw_error_set(err, FW_EINVAL, "unknown backend '%.32s': exact, sampler, ionq or ibm",
                        name);
}
