/* backtest_json — a backtest result as the API's JSON (see backtest.h). */
#include "base/period.h"
#include "core/backtest.h"

#include <math.h>
#include <stdio.h>

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Adds key: v to o; steals v whatever happens (json_pack would keep an "o" argument it did not
 * reach when an allocation fails). 1 on failure, so failures can be or-ed. */
static int put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) != 0;
}

/* o, or NULL (o released) after a failure. */
static json_t *whole(json_t *o, int failed)
{
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A window's or the aggregate's metrics; `all` adds what only the aggregate has. */
static json_t *scores_json(const struct backtest_scores *s, const double *levels, size_t n_levels,
                           int all)
{
    json_t *o = json_object();
    int failed = put(o, "mae", real_or_null(s->mae));
    failed |= put(o, "rmse", real_or_null(s->rmse));
    failed |= put(o, "mase", real_or_null(s->mase));
    failed |= put(o, "peak_amplitude_error", real_or_null(s->peak_amplitude_error));
    failed |= put(o, "peak_timing_error", real_or_null(s->peak_timing_error));
    failed |= put(o, "points", json_integer((json_int_t)s->points));
    if (all) {
        failed |= put(o, "scaled_mse", real_or_null(s->scaled_mse));
        failed |= put(o, "smape", real_or_null(s->smape));
    }
    for (size_t i = 0; i < n_levels; i++) {
        char key[32];
        snprintf(key, sizeof key, "coverage-%g", levels[i]);
        failed |= put(o, key, json_real(s->coverage[i]));
    }
    return whole(o, failed);
}

static json_t *sample_json(int in_sample)
{
    return in_sample < 0 ? json_null() : json_boolean(in_sample);
}

/* Window w's month j: {"period", "value", "actual", "lo-N", "hi-N"}. */
static json_t *row_json(const struct backtest_result *r, size_t w, size_t j)
{
    size_t h = r->h, nl = r->n_levels;
    const double *lo = r->lo + w * nl * h, *hi = r->hi + w * nl * h;
    char period[PERIOD_TEXT_MAX];
    period_format(r->windows[w].cutoff + 1 + (int)j, period);
    json_t *row = json_object();
    int failed = put(row, "period", json_string(period));
    failed |= put(row, "value", real_or_null(r->point[w * h + j]));
    failed |= put(row, "actual", real_or_null(r->actual[w * h + j]));
    for (size_t i = 0; i < nl; i++) {
        char kl[32], kh[32];
        snprintf(kl, sizeof kl, "lo-%g", r->levels[i]);
        snprintf(kh, sizeof kh, "hi-%g", r->levels[i]);
        failed |= put(row, kl, real_or_null(lo[i * h + j]));
        failed |= put(row, kh, real_or_null(hi[i * h + j]));
    }
    return whole(row, failed);
}

static json_t *rows_json(const struct backtest_result *r, size_t w)
{
    json_t *rows = json_array();
    int failed = !rows;
    for (size_t j = 0; !failed && j < r->h; j++)
        failed = json_array_append_new(rows, row_json(r, w, j)) != 0;
    return whole(rows, failed);
}

static json_t *window_json(const struct backtest_result *r, size_t w)
{
    const struct backtest_window *bw = &r->windows[w];
    char cutoff[PERIOD_TEXT_MAX];
    period_format(bw->cutoff, cutoff);
    json_t *o = json_object();
    int failed = put(o, "cutoff", json_string(cutoff));
    failed |= put(o, "in_sample", sample_json(bw->in_sample));
    failed |= put(o, "metrics", scores_json(&bw->scores, r->levels, r->n_levels, 0));
    failed |= put(o, "forecast", rows_json(r, w));
    return whole(o, failed);
}

json_t *backtest_json(const struct backtest_result *r)
{
    json_t *windows = json_array();
    int failed = !windows;
    for (size_t w = 0; !failed && w < r->n_windows; w++)
        failed = json_array_append_new(windows, window_json(r, w)) != 0;
    json_t *doc = json_object();
    failed |= put(doc, "in_sample", sample_json(r->in_sample));
    failed |= put(doc, "windows", windows);
    failed |= put(doc, "metrics", scores_json(&r->metrics, r->levels, r->n_levels, 1));
    if (r->in_sample == 1)
        failed |= put(doc, "warning",
                      json_string("the model saw some of these months in training: these scores "
                                  "are in sample, not skill (\"refit\": true trains at every "
                                  "cutoff)"));
    return whole(doc, failed);
}
