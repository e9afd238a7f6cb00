/*
 * backtest — rolling-origin evaluation of forecasts against what happened: n windows whose
 * cutoffs step back from the end of a series, each forecast h months ahead and compared with the
 * actual months. The result keeps every window's forecast, actual months and bands, each window's
 * errors (MAE, RMSE, MASE against the one-step naive forecast of its history, peak amplitude and
 * timing) and band coverage, and the aggregate metrics over all windows (adding sMAPE and the
 * scaled MSE). The forecasts come from a callback: one fixed model (POST /backtest with
 * "refit": false) or a model trained per cutoff (a refit job). backtest_json renders a result.
 *
 * In sample: a window is in sample when its forecast months are months the fixed model was trained
 * or selected on (series_in_sample with spec.model_protocol and spec.model_first/model_last, the
 * months it was fit on); spec.refit for a model trained per cutoff, never in sample. Such scores
 * are not skill, and the answer says so.
 *
 * Ownership: a result owns its arrays until backtest_result_free (which accepts a zeroed one).
 */
#ifndef FW_BACKTEST_H
#define FW_BACKTEST_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define BACKTEST_MAX_LEVELS  16
#define BACKTEST_MAX_WINDOWS 500

struct backtest_spec {
    size_t h, n_windows, step;
    size_t window; /* months of history a forecast needs */
    double levels[BACKTEST_MAX_LEVELS];
    size_t n_levels;
    double scale; /* the scaler's range, for the scaled MSE */
    /* the fixed model's protocol and months (model_first -1: unknown), or refit */
    int refit, model_protocol, model_first, model_last;
};

/* Errors and coverage, of one window or of all of them. */
struct backtest_scores {
    double mae, rmse, mase, peak_amplitude_error, peak_timing_error;
    double smape, scaled_mse; /* the aggregate only */
    size_t points;            /* months with an actual value */
    double coverage[BACKTEST_MAX_LEVELS];
};

struct backtest_window {
    int cutoff;    /* the last month of its history (period index) */
    int in_sample; /* 1, 0, or -1 unknown */
    struct backtest_scores scores;
};

struct backtest_result {
    size_t n_windows, h, n_levels;
    double levels[BACKTEST_MAX_LEVELS];
    struct backtest_window *windows;
    double *point, *actual; /* n_windows x h (actual NaN where missing) */
    double *lo, *hi;        /* n_windows x n_levels x h */
    struct backtest_scores metrics;
    int in_sample; /* 1 when any window is in sample, -1 when unknown, else 0 */
};

/* Forecast window w (0 = earliest) from the first n_history values: point (h), lo and hi
 * (n_levels x h). */
typedef int (*backtest_forecast_fn)(void *ctx, size_t w, const double *values, size_t n_history,
                                    double *point, double *lo, double *hi, fw_error *err);

/* FW_EINVAL with a message when the series is too short for the windows. */
int backtest_check(const struct backtest_spec *spec, size_t n, fw_error *err);

/* Runs every window into *out (zeroed on failure). */
int backtest_run(const struct backtest_spec *spec, const double *values, size_t n, int first_month,
                 backtest_forecast_fn forecast, void *ctx, struct backtest_result *out,
                 fw_error *err);

void backtest_result_free(struct backtest_result *r);

/* {"in_sample", ["warning",] "windows": [{"cutoff", "in_sample", "metrics", "forecast":
 * [{"period", "value", "actual", "lo-N", "hi-N"}]}], "metrics": {...}}; NULL out of memory. */
json_t *backtest_json(const struct backtest_result *r);

#endif
