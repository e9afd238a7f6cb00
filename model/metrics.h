/*
 * metrics — forecast accuracy, as paper.md §3.1 defines it for the solar task, plus the usual
 * forecasting scores. Predictions and truths are n windows x h steps, row-major, in scaled units;
 * a scaler (max - min) turns them into the series' own units (sunspots).
 *
 *   scaled MSE / MAE / RMSE and R^2 = 1 - SS_res / SS_tot over the flattened arrays;
 *   the same de-normalised; peak amplitude error = mean over windows of |max y - max yhat| (in
 *   the series' units); peak timing error = mean |argmax y - argmax yhat| in steps (first index
 *   on ties, numpy's rule); sMAPE (percent); MASE against the in-sample one-step naive error;
 *   interval coverage.
 */
#ifndef FW_METRICS_H
#define FW_METRICS_H

#include <stddef.h>

struct forecast_metrics {
    size_t n_windows, horizon;
    double scaled_mse, scaled_mae, scaled_rmse, r2;
    double mse, mae, rmse;
    double peak_amplitude_error, peak_timing_error;
    double smape;
};

/* range = scaler max - min; offset = scaler min (for sMAPE, which needs real values). */
void metrics_compute(size_t n_windows, size_t horizon, const double *pred, const double *truth,
                     double range, double offset, struct forecast_metrics *out);

/* Mean absolute error of the one-step naive forecast over a history (MASE's denominator);
 * 0 when n < 2. */
double metrics_naive_mae(const double *history, size_t n);

/* Fraction of truths inside [lo, hi]. */
double metrics_coverage(size_t count, const double *truth, const double *lo, const double *hi);

/* Empirical coverage of interval bands over n rolling-origin windows. truth is n x horizon;
 * lo and hi are n x n_levels x horizon (each window's bands as forecaster_predict writes them,
 * level-major). per_level[i] (n_levels) is the fraction of all n x horizon truths inside level
 * i's band; per_step (may be NULL; n_levels x horizon) the fraction at each step over the
 * windows. A NaN truth counts as outside. All 0 when n == 0. */
void metrics_interval_coverage(size_t n, size_t horizon, size_t n_levels, const double *truth,
                               const double *lo, const double *hi, double *per_level,
                               double *per_step);

#endif
