/* api_forecast — POST /forecast and POST /backtest. */
#include "model/metrics.h"
#include "model/period.h"
#include "server/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS           16
#define MAX_BACKTEST_WINDOWS 500
#define FORECAST_DIGITS      10

/* The request's model: an id, "default" or absent. Returns -1 after filling resp. */
static int read_model_ref(const json_t *body, int64_t *id, struct http_response *resp)
{
    const json_t *v = json_object_get(body, "model");
    *id = 0;
    if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "default")))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *id = json_integer_value(v);
        return 0;
    }
    http_problem(resp, 422, "'model' must be a model id or \"default\"");
    return -1;
}

static int read_levels(const json_t *body, double *levels, size_t *n, const double *def,
                       size_t n_def, struct http_response *resp)
{
    const json_t *v = json_object_get(body, "level");
    if (!v || json_is_null(v)) {
        memcpy(levels, def, n_def * sizeof *def);
        *n = n_def;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > MAX_LEVELS) {
        http_problem(resp, 422, "'level' must be an array of at most %d numbers in (0, 100)",
                     MAX_LEVELS);
        return -1;
    }
    *n = json_array_size(v);
    for (size_t i = 0; i < *n; i++) {
        const json_t *x = json_array_get(v, i);
        double l = json_is_number(x) ? json_number_value(x) : NAN;
        if (!(l > 0 && l < 100)) {
            http_problem(resp, 422, "level[%zu] must be a number in (0, 100)", i);
            return -1;
        }
        levels[i] = l;
    }
    return 0;
}

static int read_backend(const json_t *body, struct http_response *resp)
{
    const json_t *v = json_object_get(body, "backend");
    if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "exact")))
        return 0;
    http_problem(resp, 422,
                 "'backend' must be \"exact\" (the quantum backends are not "
                 "available on this server yet)");
    return -1;
}

static void level_keys(double level, char *lo, char *hi, size_t size)
{
    snprintf(lo, size, "lo-%g", level);
    snprintf(hi, size, "hi-%g", level);
}

static json_t *level_array(const double *levels, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(levels[i]));
    return a;
}

/* Where the history ends: the cutoff (validated against the series) or its last month. */
static int history_end(const json_t *body, const struct api_series *s, size_t *n_history,
                       int *last_month, struct http_response *resp)
{
    const json_t *c = json_object_get(body, "cutoff");
    int last = s->first_month + (int)s->n - 1, cutoff;
    *n_history = s->n;
    *last_month = last;
    if (!c || json_is_null(c))
        return 0;
    if (!json_is_string(c) || period_parse(json_string_value(c), &cutoff) ||
        strlen(json_string_value(c)) != 7) {
        http_problem(resp, 422, "'cutoff' must be a month, YYYY-MM");
        return -1;
    }
    if (cutoff < s->first_month || cutoff > last) {
        char a[PERIOD_TEXT_MAX], b[PERIOD_TEXT_MAX];
        period_format(s->first_month, a);
        period_format(last, b);
        http_problem(resp, 422, "cutoff %s is outside the data (%s..%s)", json_string_value(c), a,
                     b);
        return -1;
    }
    *n_history = (size_t)(cutoff - s->first_month) + 1;
    *last_month = cutoff;
    return 0;
}

void api_forecast(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object_or_empty(req, resp);
    if (!body)
        return;
    static const double default_levels[2] = {80, 95};
    double levels[MAX_LEVELS], *point = NULL, *lo = NULL, *hi = NULL;
    size_t n_levels = 0, n_history;
    int64_t model_id = 0, resolved = 0;
    long long h;
    int last_month;
    struct api_series series = {0};
    struct forecaster *f = NULL;
    fw_error err = {0};
    if (read_model_ref(body, &model_id, resp) ||
        read_levels(body, levels, &n_levels, default_levels, 2, resp) || read_backend(body, resp))
        goto done;
    int rc = app_model_acquire(req->app, model_id, &resolved, &f, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        goto done;
    }
    if (api_int_member(body, "h", f->model->horizon, 1, f->model->horizon, &h, resp) ||
        api_read_series(req, body, &series, resp) ||
        history_end(body, &series, &n_history, &last_month, resp))
        goto done;
    point = malloc((size_t)h * sizeof *point);
    lo = malloc((n_levels + 1) * (size_t)h * sizeof *lo);
    hi = malloc((n_levels + 1) * (size_t)h * sizeof *hi);
    if (!point || !lo || !hi) {
        http_problem(resp, 500, "out of memory");
        goto done;
    }
    int guaranteed = 1;
    if ((rc = forecaster_predict(f, series.values, n_history, (size_t)h, levels, n_levels, NULL,
                                 point, lo, hi, &guaranteed, &err))) {
        api_fail(resp, rc, &err);
        goto done;
    }
    json_t *rows = json_array();
    for (long long j = 0; j < h; j++) {
        char period[PERIOD_TEXT_MAX], kl[32], kh[32];
        period_format(last_month + 1 + (int)j, period);
        json_t *row = json_pack("{s:s, s:f}", "period", period, "value", point[j]);
        for (size_t i = 0; i < n_levels; i++) {
            level_keys(levels[i], kl, kh, sizeof kl);
            json_object_set_new(row, kl, json_real(lo[i * (size_t)h + (size_t)j]));
            json_object_set_new(row, kh, json_real(hi[i * (size_t)h + (size_t)j]));
        }
        json_array_append_new(rows, row);
    }
    char last[PERIOD_TEXT_MAX];
    period_format(last_month, last);
    app_count_forecast(req->app);
    /* 10 significant digits: far below any forecast's uncertainty, and half the formatting cost
     * of a request */
    api_json_digits(resp, 200,
                    json_pack("{s:I, s:s, s:I, s:s, s:s, s:o, s:b, s:o, s:o}", "model",
                              (json_int_t)resolved, "architecture", f->model->ops->name, "h",
                              (json_int_t)h, "backend", "exact", "last_observed", last, "level",
                              level_array(levels, n_levels), "intervals_guaranteed", guaranteed,
                              "dataset",
                              series.dataset_id ? json_integer(series.dataset_id) : json_null(),
                              "forecast", rows),
                    FORECAST_DIGITS);
done:
    if (f)
        app_model_release(req->app, resolved, f);
    free(point), free(lo), free(hi);
    api_series_free(&series);
    json_decref(body);
}

/* --- backtest ---------------------------------------------------------------------------- */

struct backtest_totals {
    double abs_err, sq_err, scaled_sq, smape, mase, peak_amp, peak_time;
    size_t count, smape_count, windows;
    size_t covered[MAX_LEVELS];
};

void api_backtest(const struct http_request *req, struct http_response *resp)
{
    json_t *body = api_parse_object_or_empty(req, resp);
    if (!body)
        return;
    static const double default_levels[2] = {80, 95};
    double levels[MAX_LEVELS], *point = NULL, *lo = NULL, *hi = NULL;
    size_t n_levels = 0;
    int64_t model_id = 0, resolved = 0;
    long long h, n_windows, step;
    struct api_series series = {0};
    struct forecaster *f = NULL;
    fw_error err = {0};
    json_t *windows = NULL;
    const json_t *refit = json_object_get(body, "refit");
    if (refit && !json_is_boolean(refit)) {
        http_problem(resp, 422, "'refit' must be true or false");
        goto done;
    }
    if (json_is_true(refit)) {
        http_problem(resp, 422,
                     "refit backtests train one model per cutoff: start them with "
                     "POST /models and a \"cutoff\" for each (a refit job is not "
                     "available on this server yet)");
        goto done;
    }
    if (read_model_ref(body, &model_id, resp) ||
        read_levels(body, levels, &n_levels, default_levels, 2, resp))
        goto done;
    int rc = app_model_acquire(req->app, model_id, &resolved, &f, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        goto done;
    }
    size_t L = (size_t)f->model->window;
    if (api_int_member(body, "h", f->model->horizon, 1, f->model->horizon, &h, resp) ||
        api_int_member(body, "n_windows", 1, 1, MAX_BACKTEST_WINDOWS, &n_windows, resp) ||
        api_int_member(body, "step", h, 1, 100000, &step, resp) ||
        api_read_series(req, body, &series, resp))
        goto done;
    /* cutoffs: the last window ends at the last month; earlier ones step back */
    long long needed = (long long)L + h + (n_windows - 1) * step;
    if ((long long)series.n < needed) {
        http_problem(resp, 422,
                     "%lld windows of %zu months in and %lld out, %lld apart, need %lld months; "
                     "the series has %zu",
                     n_windows, L, h, step, needed, series.n);
        goto done;
    }
    point = malloc((size_t)h * sizeof *point);
    lo = malloc((n_levels + 1) * (size_t)h * sizeof *lo);
    hi = malloc((n_levels + 1) * (size_t)h * sizeof *hi);
    windows = json_array();
    if (!point || !lo || !hi || !windows) {
        http_problem(resp, 500, "out of memory");
        goto done;
    }
    struct backtest_totals tot;
    memset(&tot, 0, sizeof tot);
    double range = f->scaler.max - f->scaler.min;
    for (long long w = 0; w < n_windows; w++) {
        size_t n_history = series.n - (size_t)h - (size_t)((n_windows - 1 - w) * step);
        const double *actual = series.values + n_history;
        if ((rc = forecaster_predict(f, series.values, n_history, (size_t)h, levels, n_levels, NULL,
                                     point, lo, hi, NULL, &err))) {
            api_fail(resp, rc, &err);
            goto done;
        }
        double naive = metrics_naive_mae(series.values, n_history), w_abs = 0;
        size_t w_count = 0, ip = 0, it = 0;
        json_t *rows = json_array();
        for (long long j = 0; j < h; j++) {
            char period[PERIOD_TEXT_MAX];
            period_format(series.first_month + (int)n_history + (int)j, period);
            double y = actual[j], yh = point[j];
            json_t *row = json_pack("{s:s, s:f, s:o}", "period", period, "value", yh, "actual",
                                    isnan(y) ? json_null() : json_real(y));
            for (size_t i = 0; i < n_levels; i++) {
                char kl[32], kh[32];
                level_keys(levels[i], kl, kh, sizeof kl);
                double l = lo[i * (size_t)h + (size_t)j], u = hi[i * (size_t)h + (size_t)j];
                json_object_set_new(row, kl, json_real(l));
                json_object_set_new(row, kh, json_real(u));
                if (!isnan(y) && y >= l && y <= u)
                    tot.covered[i]++;
            }
            json_array_append_new(rows, row);
            if (isnan(y))
                continue;
            double e = yh - y;
            tot.abs_err += fabs(e);
            tot.sq_err += e * e;
            tot.scaled_sq += (e / range) * (e / range);
            if (fabs(y) + fabs(yh) > 0) {
                tot.smape += 200 * fabs(e) / (fabs(y) + fabs(yh));
                tot.smape_count++;
            }
            tot.count++;
            w_abs += fabs(e);
            w_count++;
            if (point[j] > point[ip])
                ip = (size_t)j;
            if (isnan(actual[it]) || y > actual[it])
                it = (size_t)j;
        }
        if (w_count && naive > 0)
            tot.mase += (w_abs / (double)w_count) / naive;
        tot.peak_amp += fabs(actual[it] - point[ip]);
        tot.peak_time += fabs((double)it - (double)ip);
        tot.windows++;
        char cutoff[PERIOD_TEXT_MAX];
        period_format(series.first_month + (int)n_history - 1, cutoff);
        json_array_append_new(windows, json_pack("{s:s, s:o}", "cutoff", cutoff, "forecast", rows));
    }
    app_count_forecast(req->app);
    double n = tot.count ? (double)tot.count : 1.0, nw = (double)tot.windows;
    json_t *metrics =
        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "mae", tot.abs_err / n, "rmse",
                  sqrt(tot.sq_err / n), "scaled_mse", tot.scaled_sq / n, "smape",
                  tot.smape_count ? tot.smape / (double)tot.smape_count : 0.0, "mase",
                  tot.mase / nw, "peak_amplitude_error", tot.peak_amp / nw, "peak_timing_error",
                  tot.peak_time / nw, "points", (json_int_t)tot.count);
    for (size_t i = 0; i < n_levels; i++) {
        char key[32];
        snprintf(key, sizeof key, "coverage-%g", levels[i]);
        json_object_set_new(metrics, key, json_real((double)tot.covered[i] / n));
    }
    api_json(resp, 200,
             json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "model", (json_int_t)resolved, "h",
                       (json_int_t)h, "n_windows", (json_int_t)n_windows, "step", (json_int_t)step,
                       "level", level_array(levels, n_levels), "windows", windows, "metrics",
                       metrics));
    windows = NULL;
done:
    if (f)
        app_model_release(req->app, resolved, f);
    json_decref(windows);
    free(point), free(lo), free(hi);
    api_series_free(&series);
    json_decref(body);
}
