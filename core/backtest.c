/* backtest — rolling-origin evaluation (see backtest.h). */
#include "core/backtest.h"
#include "model/metrics.h"
#include "base/period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct totals {
    double abs_err, sq_err, scaled_sq, smape, mase, peak_amp, peak_time;
    size_t count, smape_count, windows;
    size_t covered[BACKTEST_MAX_LEVELS];
};

int backtest_check(const struct backtest_spec *spec, size_t n, fw_error *err)
{
    size_t needed = spec->window + spec->h + (spec->n_windows - 1) * spec->step;
    if (n < needed)
        return fw_error_set(err, FW_EINVAL,
                            "%zu windows of %zu months in and %zu out, %zu apart, need %zu months; "
                            "the series has %zu",
                            spec->n_windows, spec->window, spec->h, spec->step, needed, n);
    return FW_OK;
}

static void level_keys(double level, char *lo, char *hi, size_t size)
{
    snprintf(lo, size, "lo-%g", level);
    snprintf(hi, size, "hi-%g", level);
}

/* One window's rows, and its share of the totals; NULL out of memory. */
static json_t *score_window(const struct backtest_spec *spec, const double *history,
                            size_t n_history, int first_month, const double *point,
                            const double *lo, const double *hi, struct totals *tot)
{
    const double *actual = history + n_history;
    size_t h = spec->h, ip = 0, it = 0, count = 0;
    double naive = metrics_naive_mae(history, n_history), abs_sum = 0;
    json_t *rows = json_array();
    int failed = !rows;
    for (size_t j = 0; j < h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(first_month + (int)(n_history + j), period);
        double y = actual[j], yh = point[j];
        json_t *row = json_pack("{s:s, s:f, s:o}", "period", period, "value", yh, "actual",
                                isnan(y) ? json_null() : json_real(y));
        for (size_t i = 0; i < spec->n_levels; i++) {
            char kl[32], kh[32];
            level_keys(spec->levels[i], kl, kh, sizeof kl);
            double l = lo[i * h + j], u = hi[i * h + j];
            failed |= json_object_set_new(row, kl, json_real(l));
            failed |= json_object_set_new(row, kh, json_real(u));
            if (!isnan(y) && y >= l && y <= u)
                tot->covered[i]++;
        }
        failed |= json_array_append_new(rows, row);
        if (point[j] > point[ip])
            ip = j;
        if (isnan(y))
            continue;
        if (isnan(actual[it]) || y > actual[it])
            it = j;
        double e = yh - y;
        tot->abs_err += fabs(e);
        tot->sq_err += e * e;
        tot->scaled_sq += (e / spec->scale) * (e / spec->scale);
        if (fabs(y) + fabs(yh) > 0) {
            tot->smape += 200 * fabs(e) / (fabs(y) + fabs(yh));
            tot->smape_count++;
        }
        tot->count++;
        abs_sum += fabs(e);
        count++;
    }
    if (count && naive > 0)
        tot->mase += (abs_sum / (double)count) / naive;
    if (!isnan(actual[it])) {
        tot->peak_amp += fabs(actual[it] - point[ip]);
        tot->peak_time += fabs((double)it - (double)ip);
    }
    tot->windows++;
    if (failed) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}

int backtest_run(const struct backtest_spec *spec, const double *values, size_t n, int first_month,
                 backtest_forecast_fn forecast, void *ctx, json_t **result, fw_error *err)
{
    int rc = backtest_check(spec, n, err);
    if (rc)
        return rc;
    size_t h = spec->h, nl = spec->n_levels;
    double *point = malloc(h * sizeof *point);
    double *lo = malloc((nl + 1) * h * sizeof *lo), *hi = malloc((nl + 1) * h * sizeof *hi);
    json_t *windows = json_array();
    struct totals tot;
    memset(&tot, 0, sizeof tot);
    if (!point || !lo || !hi || !windows)
        rc = FW_ENOMEM;
    for (size_t w = 0; !rc && w < spec->n_windows; w++) {
        size_t n_history = n - h - (spec->n_windows - 1 - w) * spec->step;
        rc = forecast(ctx, w, values, n_history, point, lo, hi, err);
        if (rc)
            break;
        json_t *rows = score_window(spec, values, n_history, first_month, point, lo, hi, &tot);
        char cutoff[PERIOD_TEXT_MAX];
        period_format(first_month + (int)n_history - 1, cutoff);
        if (json_array_append_new(windows,
                                  json_pack("{s:s, s:o}", "cutoff", cutoff, "forecast", rows)))
            rc = FW_ENOMEM;
    }
    free(point), free(lo), free(hi);
    if (rc) {
        json_decref(windows);
        return rc;
    }
    double count = tot.count ? (double)tot.count : 1.0, nw = (double)tot.windows;
    json_t *metrics =
        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "mae", tot.abs_err / count, "rmse",
                  sqrt(tot.sq_err / count), "scaled_mse", tot.scaled_sq / count, "smape",
                  tot.smape_count ? tot.smape / (double)tot.smape_count : 0.0, "mase",
                  tot.mase / nw, "peak_amplitude_error", tot.peak_amp / nw, "peak_timing_error",
                  tot.peak_time / nw, "points", (json_int_t)tot.count);
    int failed = 0;
    for (size_t i = 0; i < nl; i++) {
        char key[32];
        snprintf(key, sizeof key, "coverage-%g", spec->levels[i]);
        failed |= json_object_set_new(metrics, key, json_real((double)tot.covered[i] / count));
    }
    if (failed) {
        json_decref(metrics);
        metrics = NULL;
    }
    json_t *doc = json_pack("{s:o, s:o}", "windows", windows, "metrics", metrics);
    if (!doc)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    *result = doc;
    return FW_OK;
}
