/* factory — backends by name (see factory.h). */
#include "quantum/factory.h"

#include <string.h>

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
    if (qbackend_is_remote(name))
        return fw_error_set(err, FW_EINVAL, "the %s backend is not built into this fwpcast yet",
                            name);
    return fw_error_set(err, FW_EINVAL, "unknown backend '%.32s': exact, sampler, ionq or ibm",
                        name);
}
