/*
 * job_request — the codec of what a queued job asked for: the JSON text a front end stores in
 * the jobs table and the worker reads back when it runs the job. A training job's text is the
 * validated POST /models body (or what a refit backtest derives from its model); a cloud
 * forecast's is the history it forecasts from with the backend it runs on and the plan quoted to
 * the user.
 *
 * Ownership: encode borrows its input and returns malloc'd text; a decoded request owns its
 * arrays and the document its strings point into, until its _free function (which accepts a
 * zeroed request).
 */
#ifndef FW_JOB_REQUEST_H
#define FW_JOB_REQUEST_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "core/forecast.h"
#include "db/store.h"
#include "model/fit.h"

/* What a training job asked for (validated by the API before it was queued). */
struct train_job {
    struct fit_request rq;
    char architecture[64];
    char config[1024];
    int64_t dataset_id;
    char name[STORE_NAME_MAX];
    int make_default;
};

/* FW_ECORRUPT if the text is not a training job's request (or its recipe fails the checks). */
int job_request_train_decode(const char *text, struct train_job *tj, fw_error *err);

/* Reads a training request's recipe members into t, over what t holds (absent or null: kept):
 * "optimizer" ("adam", "adamw", "lion"), "weight_decay", "schedule" ("constant", "linear",
 * "wsd"), "warmup", "decay_fraction", "final_lr"; then checks them with t->lr
 * (train_options_check). FW_EINVAL with a message naming the member. POST /models validates with
 * it, the worker decodes with it. */
int job_request_train_recipe(const json_t *request, struct train_options *t, fw_error *err);

/* An ensemble's options from a POST /models body: "members" ({"architecture", "seeds"} or a list
 * of them; seeds "A-B" or a list of integers in 0..2^31-1) and "keep" become
 * "members=...;seeds=...[;keep=K]" (model/ensemble.h) in text; "" when the body has neither.
 * FW_EINVAL with a message for the API's 422: either member without "architecture": "ensemble",
 * an unknown or nested architecture, no or more than 64 members, a bad or repeated seed, keep
 * outside 1..members, options that do not fit a model config. */
int job_request_ensemble_config(const json_t *body, char *text, size_t size, fw_error *err);

/* A forecast whose circuits run on a cloud backend. */
struct quantum_job {
    int64_t model, dataset; /* dataset 0: an inline series */
    int first_month;
    double *values; /* the history, NaN where missing */
    size_t n, h, n_levels;
    double levels[FORECAST_MAX_LEVELS];
    struct qbackend_request backend;
    struct qplan plan; /* what the user was told the run would use */
    json_t *doc;       /* the decoded text, which backend's strings point into */
};

/* The job's text (NULL out of memory). */
char *job_request_quantum_encode(const struct quantum_job *q);
/* FW_ECORRUPT if the text is not a quantum forecast's request. */
int job_request_quantum_decode(const char *text, struct quantum_job *q, fw_error *err);
void job_request_quantum_free(struct quantum_job *q);

#endif
