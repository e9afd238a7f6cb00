/*
 * backtest — rolling-origin evaluation of forecasts against what happened: n windows whose
 * cutoffs step back from the end of a series, each forecast h months ahead and compared with the
 * actual months, with per-window rows (period, value, actual, lo-N/hi-N) and aggregate metrics
 * (MAE, RMSE, MASE against the one-step naive forecast of each window's history, sMAPE, scaled
 * MSE, peak amplitude and timing errors, interval coverage per level). The forecasts come from a
 * callback: one fixed model (POST /backtest) or a model trained per cutoff (a refit job).
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
};

/* Forecast window w (0 = earliest) from the first n_history values: point (h), lo and hi
 * (n_levels x h). */
typedef int (*backtest_forecast_fn)(void *ctx, size_t w, const double *values, size_t n_history,
                                    double *point, double *lo, double *hi, fw_error *err);

/* FW_EINVAL with a message when the series is too short for the windows. */
int backtest_check(const struct backtest_spec *spec, size_t n, fw_error *err);

/* Runs every window; *result (new reference) is {"windows": [...], "metrics": {...}}. */
int backtest_run(const struct backtest_spec *spec, const double *values, size_t n, int first_month,
                 backtest_forecast_fn forecast, void *ctx, json_t **result, fw_error *err);

#endif
