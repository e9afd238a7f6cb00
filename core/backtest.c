/* backtest — rolling-origin evaluation (see backtest.h). */
#include "core/backtest.h"
#include "base/period.h"
#include "model/metrics.h"
#include "model/series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sums over the months scored, of one window or of all. */
struct sums {
    double abs_err, sq_err, scaled_sq, smape, mase, peak_amp, peak_time;
    size_t count, smape_count, windows, mase_windows;
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

static void add_month(const struct backtest_spec *spec, double y, double yh, struct sums *s)
{
    double e = yh - y;
    s->abs_err += fabs(e);
    s->sq_err += e * e;
    s->scaled_sq += (e / spec->scale) * (e / spec->scale);
    if (fabs(y) + fabs(yh) > 0) {
        s->smape += 200 * fabs(e) / (fabs(y) + fabs(yh));
        s->smape_count++;
    }
    s->count++;
}

/* One window's sums (w) from its forecast and the actual months. */
static void score_window(const struct backtest_spec *spec, const double *history, size_t n_history,
                         const double *point, const double *lo, const double *hi, struct sums *w)
{
    const double *actual = history + n_history;
    size_t h = spec->h, ip = 0, it = 0;
    memset(w, 0, sizeof *w);
    for (size_t j = 0; j < h; j++) {
        double y = actual[j];
        if (point[j] > point[ip])
            ip = j;
        if (isnan(y))
            continue;
        for (size_t i = 0; i < spec->n_levels; i++)
            if (y >= lo[i * h + j] && y <= hi[i * h + j])
                w->covered[i]++;
        if (isnan(actual[it]) || y > actual[it])
            it = j;
        add_month(spec, y, point[j], w);
    }
    double naive = metrics_naive_mae(history, n_history);
    if (w->count && naive > 0) {
        w->mase = (w->abs_err / (double)w->count) / naive;
        w->mase_windows = 1;
    }
    if (!isnan(actual[it])) {
        w->peak_amp = fabs(actual[it] - point[ip]);
        w->peak_time = fabs((double)it - (double)ip);
    }
    w->windows = 1;
}

static void add_sums(struct sums *total, const struct sums *w)
{
    total->abs_err += w->abs_err, total->sq_err += w->sq_err, total->scaled_sq += w->scaled_sq;
    total->smape += w->smape, total->mase += w->mase, total->peak_amp += w->peak_amp;
    total->peak_time += w->peak_time, total->count += w->count;
    total->smape_count += w->smape_count, total->windows += w->windows;
    total->mase_windows += w->mase_windows;
    for (size_t i = 0; i < BACKTEST_MAX_LEVELS; i++)
        total->covered[i] += w->covered[i];
}

static struct backtest_scores scores_of(const struct sums *s, size_t n_levels)
{
    double count = s->count ? (double)s->count : 1.0, nw = s->windows ? (double)s->windows : 1.0;
    struct backtest_scores o = {.mae = s->abs_err / count,
                                .rmse = sqrt(s->sq_err / count),
                                .mase = s->mase / nw,
                                .peak_amplitude_error = s->peak_amp / nw,
                                .peak_timing_error = s->peak_time / nw,
                                .smape = s->smape_count ? s->smape / (double)s->smape_count : 0.0,
                                .scaled_mse = s->scaled_sq / count,
                                .points = s->count};
    for (size_t i = 0; i < n_levels; i++)
        o.coverage[i] = (double)s->covered[i] / count;
    return o;
}

static int window_in_sample(const struct backtest_spec *spec, int cutoff)
{
    if (spec->refit)
        return 0;
    return series_in_sample((enum protocol)spec->model_protocol, spec->model_first,
                            spec->model_last, spec->window, spec->h, cutoff);
}

static int alloc_result(const struct backtest_spec *spec, struct backtest_result *r)
{
    size_t cells = spec->n_windows * spec->h, bands = cells * (spec->n_levels ? spec->n_levels : 1);
    memset(r, 0, sizeof *r);
    r->n_windows = spec->n_windows;
    r->h = spec->h;
    r->n_levels = spec->n_levels;
    memcpy(r->levels, spec->levels, sizeof r->levels);
    r->windows = calloc(spec->n_windows, sizeof *r->windows);
    r->point = malloc(cells * sizeof *r->point);
    r->actual = malloc(cells * sizeof *r->actual);
    r->lo = malloc(bands * sizeof *r->lo);
    r->hi = malloc(bands * sizeof *r->hi);
    return r->windows && r->point && r->actual && r->lo && r->hi ? FW_OK : FW_ENOMEM;
}

int backtest_run(const struct backtest_spec *spec, const double *values, size_t n, int first_month,
                 backtest_forecast_fn forecast, void *ctx, struct backtest_result *out,
                 fw_error *err)
{
    struct backtest_result r = {0};
    int rc = backtest_check(spec, n, err);
    if (!rc && (rc = alloc_result(spec, &r)))
        fw_error_set(err, rc, "out of memory");
    struct sums total = {0};
    size_t h = spec->h, nl = spec->n_levels;
    for (size_t w = 0; !rc && w < spec->n_windows; w++) {
        size_t n_history = n - h - (spec->n_windows - 1 - w) * spec->step;
        double *point = r.point + w * h, *lo = r.lo + w * nl * h, *hi = r.hi + w * nl * h;
        if ((rc = forecast(ctx, w, values, n_history, point, lo, hi, err)))
            break;
        memcpy(r.actual + w * h, values + n_history, h * sizeof *values);
        struct sums ws;
        score_window(spec, values, n_history, point, lo, hi, &ws);
        add_sums(&total, &ws);
        struct backtest_window *bw = &r.windows[w];
        bw->cutoff = first_month + (int)n_history - 1;
        bw->in_sample = window_in_sample(spec, bw->cutoff);
        bw->scores = scores_of(&ws, nl);
        if (bw->in_sample != 0 && r.in_sample != 1)
            r.in_sample = bw->in_sample;
    }
    if (rc) {
        backtest_result_free(&r);
        memset(out, 0, sizeof *out);
        return rc;
    }
    r.metrics = scores_of(&total, nl);
    *out = r;
    return FW_OK;
}

void backtest_result_free(struct backtest_result *r)
{
    if (!r)
        return;
    free(r->windows), free(r->point), free(r->actual), free(r->lo), free(r->hi);
    memset(r, 0, sizeof *r);
}
