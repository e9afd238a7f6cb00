/*
 * forecast — the forecast service: one forecast of a trained model, whoever asks for it (the
 * HTTP handler, the job worker that runs a cloud forecast, the CLI). A request struct in, a result
 * struct out; the front ends only read their arguments into the request and render the result
 * (forecast_json.h), so the steps between (the history's end, the horizon check, the intervals'
 * buffers, the backend the circuits run on, what the run cost) exist once.
 *
 * Ownership: a request borrows everything it points to (the forecaster is used, not kept: one
 * request at a time per forecaster, as the model cache lends them). A result owns its arrays until
 * forecast_result_free, which accepts a zeroed or freed result.
 */
#ifndef FW_FORECAST_H
#define FW_FORECAST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "model/forecaster.h"
#include "quantum/backend.h"
#include "quantum/factory.h"

#define FORECAST_MAX_LEVELS 16

/* Where a history ends: its last month, or the month `cutoff` (a period index, -1 for none),
 * which must lie inside the series (FW_EINVAL naming the data's range otherwise). */
int forecast_history_end(int first_month, size_t n, int cutoff, size_t *n_history, int *last_month,
                         fw_error *err);

/* The noise presets a user may edit, <data_dir>/noise_presets.json, when it exists (buf), else
 * NULL: the sampler's built-in presets. */
const char *forecast_noise_file(const char *data_dir, char *buf, size_t size);

struct forecast_request {
    struct forecaster *model;
    const double *history; /* the months up to the last observed one, NaN where missing */
    size_t n_history;
    int last_month; /* the period index of history[n_history - 1] */
    /* the fingerprint of the series the history comes from (NULL or "": unknown, taken to be the
     * model's own data): a forecast is in sample only on the data the model was fit on */
    const char *history_sha256;
    size_t h; /* 1..the model's horizon */
    const double *levels;
    size_t n_levels; /* at most FORECAST_MAX_LEVELS, each in (0, 100) */
    /* the backend the model's circuits run on: NULL (or name "exact") for the closed form */
    const struct qbackend_request *backend;
    double poll_seconds, timeout_seconds; /* a remote backend's first poll and give-up time */
    const atomic_int *cancel;             /* may be NULL */
    const struct qrun_observer *observer; /* a remote run's job ids and states, may be NULL */
};

/* A cycle minimum or maximum a forecast predicts (core/forecast_cycle.h). */
struct forecast_extreme {
    int found;            /* 0: not within the forecast */
    int month;            /* period index */
    double value;         /* on the smoothed point path */
    int earliest, latest; /* the range of months (period indices) */
    double lo[FORECAST_MAX_LEVELS], hi[FORECAST_MAX_LEVELS]; /* the value's band per level */
};

struct forecast_result {
    size_t h, n_levels;
    int last_month;
    double *point;   /* h */
    double *lo, *hi; /* n_levels x h */
    int guaranteed;  /* every level is within what the calibration set supports */
    /* the 13-month smoothed series over observed + forecast months, from smoothed_first */
    int smoothed_first;
    size_t n_smoothed;
    double *smoothed;                  /* n_smoothed (NaN where a window has a missing month) */
    double *smoothed_lo, *smoothed_hi; /* n_levels x n_smoothed */
    int cycle_number;                  /* the cycle the next minimum starts; 0 unknown */
    struct forecast_extreme next_minimum, next_maximum;
    /* whether the forecast months are months the model was trained or selected on, on the same
     * data (series_in_sample): 1 in sample, 0 out of sample, -1 unknown (an imported model) */
    int in_sample;
    int trained_through; /* the last month of the model's training and validation windows */
    /* through a backend's shots only (readout -1 for the closed form) */
    int readout; /* enum daruan_readout */
    uint64_t circuits, shots_total;
};

/* Adds level (a percentage) to levels[0..*n) unless it is there already (levels are a set: a
 * repeated one would repeat its lo-N/hi-N keys). FW_EINVAL with a message for a level outside
 * (0, 100) — with a hint for a fraction in (0, 1): "levels are percentages: did you mean 80?" —
 * or past FORECAST_MAX_LEVELS distinct levels. */
int forecast_add_level(double *levels, size_t *n, double level, fw_error *err);

/* Checks the request (h against the model's horizon, the levels) without running anything. */
int forecast_check(const struct forecast_request *rq, fw_error *err);

/* Runs the forecast. On success *out holds it (the caller frees it); on failure *out is zeroed
 * and err says why. */
int forecast_run(const struct forecast_request *rq, struct forecast_result *out, fw_error *err);

void forecast_result_free(struct forecast_result *r);

/* The circuits one forecast runs on a backend (the fast QKAN's edges); 0 for a model without
 * DARUAN circuits, which a backend other than exact refuses. */
size_t forecast_circuits(const struct forecaster *f);

/* What running the request's circuits on its backend would use (circuits, shots, provider jobs),
 * without submitting anything (a backend opened with plan_only needs no credentials). */
int forecast_plan(const struct forecast_request *rq, struct qplan *plan, fw_error *err);

#endif
