/*
 * hindcast — the cycle hindcast suite: for each solar cycle, a model trained on the months up to
 * the smoothed minimum that starts the cycle forecasts the next 132 months, and the cycle maximum
 * it predicts (amplitude, month) and its smoothed path are scored against what happened, beside
 * baselines computed the same way. Pure computation plus a training callback; no I/O.
 *
 * The cutoff. The cycles are found with cycle_find (model/cycle.h) on smooth13 of the monthly
 * series (model/smooth.h): on the SILSO record this reproduces SILSO's published smoothed
 * series within 0.05 (tests/unit/test_smooth.c) and SILSO's cycle minima within a month
 * (tests/unit/test_cycle.c; exactly for cycles 21-25, 23's flat minimum, 11.2 in 1996-05 and
 * 1996-08, included). The cutoff m_c of cycle c is its minimum month: the model is
 * trained under the live protocol on the months up to and including m_c (fit_run with
 * cutoff_month = m_c). This is the usual "known start" hindcast: in real time a minimum is only
 * known some months after it.
 *
 * The forecast and the predicted maximum. The model forecasts HINDCAST_HORIZON = 132 months
 * (m_c+1 .. m_c+132); the observed months followed by the forecast are smoothed
 * (smooth13_joined), which defines the smoothed values of m_c+1 .. m_c+126 (the last 6 forecast
 * months have no full window). The scored window is these HINDCAST_SPAN = 126 months, and for the
 * model, the actual and every baseline alike the cycle maximum is the largest smoothed value in
 * it (the first of equal values) and its month. The actual comes from the smoothed record over
 * the months of the window it has (for cycle 25 the record ends earlier: the months that exist;
 * its maximum, 2024-10, is inside). Scores: amplitude error |pred - actual| (sunspots), timing
 * error |pred month - actual month| (months), and the MAE, MSE and R² of the predicted smoothed
 * path against the actual smoothed series over the scored months (the window's months the
 * record has).
 *
 * The baselines, with only what is known at the cutoff (the smoothed value of month t is final
 * once month t + 6 is observed, so months t <= m_c - 6):
 *   mean-cycle       for month k after the minimum, the mean over every earlier cycle c' of the
 *                    series (cycle 1 on) of S[m_c' + k], over the c' whose value is known;
 *   persistence      the previous cycle's curve from its minimum, S[m_{c-1} + k], where known;
 *   noaa-nasa-panel  cycle 25 only: the Solar Cycle 25 Prediction Panel's (NOAA, NASA and ISES)
 *                    consensus of December 2019, a maximum of 115 in July 2025; a maximum only
 *                    (amplitude and timing errors, no path, no MAE).
 * A baseline's maximum is over the window's months where it has a value.
 *
 * Ownership: a plan borrows the monthly values and owns its smoothed copy (hindcast_plan_free);
 * everything else is the caller's.
 */
#ifndef FW_HINDCAST_H
#define FW_HINDCAST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "model/fit.h"
#include "model/smooth.h"

#define HINDCAST_HORIZON    132                                /* months forecast per cycle */
#define HINDCAST_SPAN       (HINDCAST_HORIZON - SMOOTH13_HALF) /* scored months m+1..m+126 */
#define HINDCAST_MAX_CYCLES 32                                 /* cycles in one range */

/* Solar Cycle 25 Prediction Panel (NOAA/NASA/ISES), consensus released 9 December 2019: cycle 25
 * to peak at a smoothed sunspot number of 115 in July 2025 (https://www.swpc.noaa.gov/news/
 * solar-cycle-25-forecast-update). */
#define HINDCAST_PANEL_CYCLE 25
#define HINDCAST_PANEL_VALUE 115.0
#define HINDCAST_PANEL_MONTH (2025 * 12 + 6) /* 2025-07 */

enum hindcast_baseline {
    HINDCAST_MEAN_CYCLE,
    HINDCAST_PERSISTENCE,
    HINDCAST_PANEL,
    HINDCAST_N_BASELINES
};

/* "mean-cycle", "persistence", "noaa-nasa-panel". */
const char *hindcast_baseline_name(enum hindcast_baseline b);

/* One method's prediction for one cycle, scored. */
struct hindcast_score {
    int has;       /* 0: the method predicts nothing for this cycle (all else unset) */
    int has_path;  /* a smoothed path was scored (mae, mse, r2); the panel has a maximum only */
    int runs;      /* the runs averaged: 1 for one model run or a baseline, the seeds of a group */
    int max_month; /* the predicted maximum's month (period index) */
    double max_value;                     /* and value */
    double amplitude_bias, timing_bias;   /* predicted - actual (sunspots, months) */
    double amplitude_error, timing_error; /* |predicted - actual| (mean over the runs) */
    double mae, mse, r2;                  /* smoothed path vs the actual; NAN without a path */
    size_t n_scored;                      /* months in mae/mse/r2 */
};

struct hindcast_cycle {
    int number;          /* SILSO's cycle number */
    int cutoff_month;    /* the minimum that starts it (period index) */
    size_t cutoff_index; /* into the series */
    double cutoff_value; /* the smoothed minimum */
    size_t n_scored;     /* the window's months the smoothed record has (126, fewer at its end) */
    int actual_month;    /* the actual maximum in the window */
    double actual_value;
    struct hindcast_score baseline[HINDCAST_N_BASELINES];
};

struct hindcast_plan {
    const double *values; /* borrowed: n months from first_month */
    size_t n;
    int first_month;
    double *smoothed; /* n, owned */
    size_t n_cycles;
    struct hindcast_cycle cycle[HINDCAST_MAX_CYCLES]; /* cycles from..to, in order */
    size_t *minima;                                   /* owned: every cycle minimum of the */
    size_t n_minima;                                  /* series (indices), in order */
};

/* Parses "21-25" or "25" into 1 <= from <= to with fewer than HINDCAST_MAX_CYCLES cycles:
 * 0, or FW_EINVAL with a message. */
int hindcast_parse_cycles(const char *text, int *from, int *to, fw_error *err);

/* The cycles from..to of the series, their cutoffs and actual maxima and the baselines. FW_EINVAL
 * naming the problem when a cycle of the range is not in the series (no minimum found for it, or
 * no smoothed month after it) or the range is bad; FW_ENOMEM. */
int hindcast_plan_make(const double *values, size_t n, int first_month, int from, int to,
                       struct hindcast_plan *out, fw_error *err);
void hindcast_plan_free(struct hindcast_plan *p);

/* The index of cycle `number` in the plan, or -1. */
int hindcast_plan_find(const struct hindcast_plan *p, int number);

/* A baseline's smoothed path for cycle k of the plan: out[j] for month cutoff + 1 + j,
 * j < HINDCAST_SPAN, NAN where it has no value. FW_ENOTFOUND when it has none at all (the panel,
 * which has a maximum only; a first cycle, with no earlier one). */
int hindcast_baseline_path(const struct hindcast_plan *p, size_t k, enum hindcast_baseline b,
                           double out[HINDCAST_SPAN]);

/* Scores a model's forecast for cycle k: path holds the HINDCAST_HORIZON monthly values after
 * the cutoff. FW_EINVAL for a non-finite value (the score is then unset). */
int hindcast_score_forecast(const struct hindcast_plan *p, size_t k, const double *path,
                            struct hindcast_score *out);

/* --- training --- */

/* What training one cycle's model cost. */
struct hindcast_fit {
    int epochs, best_epoch;
    int64_t parameters;
    double train_seconds;
};

/* Trains rq (its protocol and cutoff set) on history[0..n) (from first_month, ending at the
 * cutoff) and writes the HINDCAST_HORIZON months after it into path. 0 or an FW_* code with err
 * filled. */
typedef int (*hindcast_train_fn)(void *ctx, const struct fit_request *rq, const double *history,
                                 size_t n, int first_month, double *path, struct hindcast_fit *fit,
                                 fw_error *err);

/* The real trainer's context (may be NULL: none of these). */
struct hindcast_fitter {
    const char *data_sha256;        /* recorded in the forecaster */
    const struct fit_callbacks *cb; /* progress */
    const atomic_int *cancel;
};

/* A hindcast_train_fn: fit_run, then forecaster_predict of the horizon (which the model's must
 * reach). ctx is a const struct hindcast_fitter * or NULL. */
int hindcast_fit_forecast(void *ctx, const struct fit_request *rq, const double *history, size_t n,
                          int first_month, double *path, struct hindcast_fit *fit, fw_error *err);

/* Trains and scores cycle k: recipe's architecture, config and train options (seed included)
 * with the live protocol and the cycle's cutoff. */
int hindcast_run_cycle(const struct hindcast_plan *p, size_t k, const struct fit_request *recipe,
                       hindcast_train_fn train, void *ctx, struct hindcast_score *score,
                       struct hindcast_fit *fit, fw_error *err);

/* --- means over cycles --- */

struct hindcast_mean {
    size_t cycles; /* with a prediction */
    double amplitude_error, timing_error;
    size_t mae_cycles; /* with a path */
    double mae;
};

void hindcast_mean_init(struct hindcast_mean *m);
void hindcast_mean_add(struct hindcast_mean *m, const struct hindcast_score *s);
/* Turns the sums into means (NAN over no cycle). */
void hindcast_mean_finish(struct hindcast_mean *m);

/* The whole suite for one recipe: the plan, every cycle's model score and the means. */
struct hindcast_result {
    struct hindcast_plan plan;
    struct hindcast_score model[HINDCAST_MAX_CYCLES];
    struct hindcast_fit fit[HINDCAST_MAX_CYCLES];
    struct hindcast_mean model_mean, baseline_mean[HINDCAST_N_BASELINES];
};

/* Plans cycles from..to of the series and trains and scores each. On failure out is freed. */
int hindcast_run(const double *values, size_t n, int first_month, int from, int to,
                 const struct fit_request *recipe, hindcast_train_fn train, void *ctx,
                 struct hindcast_result *out, fw_error *err);
void hindcast_result_free(struct hindcast_result *r);

#endif
