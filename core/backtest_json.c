/* backtest_json — a backtest result as the API's JSON (see backtest.h). */
#include "base/period.h"
#include "core/backtest.h"

#include <math.h>
#include <stdio.h>

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* A window's or the aggregate's metrics; `all` adds what only the aggregate has. */
static json_t *scores_json(const struct backtest_scores *s, const double *levels, size_t n_levels,
                           int all)
{
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:I}", "mae", real_or_null(s->mae), "rmse",
                  real_or_null(s->rmse), "mase", real_or_null(s->mase), "peak_amplitude_error",
                  real_or_null(s->peak_amplitude_error), "peak_timing_error",
                  real_or_null(s->peak_timing_error), "points", (json_int_t)s->points);
    int failed = !o;
    if (!failed && all) {
        failed |= json_object_set_new(o, "scaled_mse", real_or_null(s->scaled_mse));
        failed |= json_object_set_new(o, "smape", real_or_null(s->smape));
    }
    for (size_t i = 0; !failed && i < n_levels; i++) {
        char key[32];
        snprintf(key, sizeof key, "coverage-%g", levels[i]);
        failed |= json_object_set_new(o, key, json_real(s->coverage[i]));
    }
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sample_json(int in_sample)
{
    return in_sample < 0 ? json_null() : json_boolean(in_sample);
}

/* Window w's months: {"period", "value", "actual", "lo-N", "hi-N"}. */
static json_t *rows_json(const struct backtest_result *r, size_t w)
{
    size_t h = r->h, nl = r->n_levels;
    const double *point = r->point + w * h, *actual = r->actual + w * h;
    const double *lo = r->lo + w * nl * h, *hi = r->hi + w * nl * h;
    json_t *rows = json_array();
    int failed = !rows;
    for (size_t j = 0; !failed && j < h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(r->windows[w].cutoff + 1 + (int)j, period);
        json_t *row = json_pack("{s:s, s:o, s:o}", "period", period, "value",
                                real_or_null(point[j]), "actual", real_or_null(actual[j]));
        failed = !row;
        for (size_t i = 0; !failed && i < nl; i++) {
            char kl[32], kh[32];
            snprintf(kl, sizeof kl, "lo-%g", r->levels[i]);
            snprintf(kh, sizeof kh, "hi-%g", r->levels[i]);
            failed |= json_object_set_new(row, kl, real_or_null(lo[i * h + j]));
            failed |= json_object_set_new(row, kh, real_or_null(hi[i * h + j]));
        }
        failed = failed || json_array_append_new(rows, row);
    }
    if (failed) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}

static json_t *window_json(const struct backtest_result *r, size_t w)
{
    const struct backtest_window *bw = &r->windows[w];
    char cutoff[PERIOD_TEXT_MAX];
    period_format(bw->cutoff, cutoff);
    return json_pack("{s:s, s:o, s:o, s:o}", "cutoff", cutoff, "in_sample",
                     sample_json(bw->in_sample), "metrics",
                     scores_json(&bw->scores, r->levels, r->n_levels, 0), "forecast",
                     rows_json(r, w));
}

json_t *backtest_json(const struct backtest_result *r)
{
    json_t *windows = json_array();
    int failed = !windows;
    for (size_t w = 0; !failed && w < r->n_windows; w++)
        failed = json_array_append_new(windows, window_json(r, w));
    json_t *doc =
        failed ? NULL
               : json_pack("{s:o, s:o, s:o}", "in_sample", sample_json(r->in_sample), "windows",
                           windows, "metrics", scores_json(&r->metrics, r->levels, r->n_levels, 1));
    if (failed)
        json_decref(windows);
    if (doc && r->in_sample == 1 &&
        json_object_set_new(doc, "warning",
                            json_string("the model saw some of these months in training: these "
                                        "scores are in sample, not skill (\"refit\": true "
                                        "trains at every cutoff)"))) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}
