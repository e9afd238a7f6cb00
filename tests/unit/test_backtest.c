/* Tests for core/backtest: every window's forecast, actual months and bands are kept, each
 * window's errors and coverage are right on a forecaster whose errors are known, the aggregate is
 * over all months, and in-sample windows are said (and a refit backtest never is). */
#include "testutil.h"
#include "base/period.h"
#include "core/backtest.h"
#include "model/series.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define N     60
#define FIRST (2000 * 12)

static double series[N];

/* Forecasts the truth + (w + 1) everywhere, with a band of +-1.5 around it: window 0 is covered
 * (error 1), later windows are not (error 2, 3, ...). */
static int offset_forecast(void *ctx, size_t w, const double *values, size_t n_history,
                           double *point, double *lo, double *hi, fw_error *err)
{
    (void)err;
    const struct backtest_spec *spec = ctx;
    for (size_t j = 0; j < spec->h; j++) {
        point[j] = values[n_history + j] + (double)(w + 1);
        lo[j] = point[j] - 1.5;
        hi[j] = point[j] + 1.5;
    }
    return 0;
}

static struct backtest_spec spec_of(int refit, int model_last)
{
    struct backtest_spec s = {.h = 4,
                              .n_windows = 3,
                              .step = 2,
                              .window = 10,
                              .n_levels = 1,
                              .scale = 10,
                              .refit = refit,
                              .model_protocol = PROTOCOL_LIVE,
                              .model_first = FIRST,
                              .model_last = model_last};
    s.levels[0] = 80;
    return s;
}

static void test_windows_keep_their_errors_and_coverage(void **state)
{
    (void)state;
    for (int t = 0; t < N; t++)
        series[t] = 10 + t;
    struct backtest_spec spec = spec_of(1, FIRST + N - 1);
    struct backtest_result r;
    fw_error err = {0};
    assert_int_equal(backtest_run(&spec, series, N, FIRST, offset_forecast, &spec, &r, &err), 0);
    assert_int_equal(r.n_windows, 3);
    /* the last window ends at the series' end; cutoffs step back by 2 */
    assert_int_equal(r.windows[2].cutoff, FIRST + N - 4 - 1);
    assert_int_equal(r.windows[0].cutoff, FIRST + N - 4 - 1 - 4);
    for (size_t w = 0; w < 3; w++) {
        assert_true(fabs(r.windows[w].scores.mae - (double)(w + 1)) < 1e-12);
        assert_true(fabs(r.windows[w].scores.rmse - (double)(w + 1)) < 1e-12);
        assert_true(fabs(r.windows[w].scores.coverage[0] - (w == 0 ? 1.0 : 0.0)) < 1e-12);
        assert_int_equal(r.windows[w].scores.points, 4);
        assert_int_equal(r.windows[w].in_sample, 0);
        assert_true(r.actual[w * 4] == series[r.windows[w].cutoff - FIRST + 1]);
    }
    assert_true(fabs(r.metrics.mae - 2.0) < 1e-12);
    assert_true(fabs(r.metrics.coverage[0] - 1.0 / 3.0) < 1e-12);
    assert_true(fabs(r.metrics.scaled_mse - (1 + 4 + 9) / 3.0 / 100.0) < 1e-12);
    assert_int_equal(r.metrics.points, 12);
    assert_int_equal(r.in_sample, 0);
    json_t *doc = backtest_json(&r);
    assert_non_null(doc);
    assert_true(json_is_false(json_object_get(doc, "in_sample")));
    assert_null(json_object_get(doc, "warning"));
    json_t *w1 = json_array_get(json_object_get(doc, "windows"), 1);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(w1, "metrics"), "mae")) - 2) <
                1e-12);
    json_t *row = json_array_get(json_object_get(w1, "forecast"), 0);
    assert_non_null(json_object_get(row, "actual"));
    assert_non_null(json_object_get(row, "hi-80"));
    json_decref(doc);
    backtest_result_free(&r);
    backtest_result_free(&r);
}

static void test_in_sample_windows_are_said(void **state)
{
    (void)state;
    for (int t = 0; t < N; t++)
        series[t] = 10 + t;
    /* a live model fit on the months up to the middle window's cutoff + 1: the first two windows
     * forecast months it saw, the last does not */
    struct backtest_spec spec = spec_of(0, FIRST + N - 4 - 1 - 2 + 1);
    struct backtest_result r;
    fw_error err = {0};
    assert_int_equal(backtest_run(&spec, series, N, FIRST, offset_forecast, &spec, &r, &err), 0);
    assert_int_equal(r.windows[0].in_sample, 1);
    assert_int_equal(r.windows[1].in_sample, 1);
    assert_int_equal(r.windows[2].in_sample, 0);
    assert_int_equal(r.in_sample, 1);
    json_t *doc = backtest_json(&r);
    assert_true(json_is_true(json_object_get(doc, "in_sample")));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "warning")), "in sample"));
    json_decref(doc);
    backtest_result_free(&r);
    spec.model_first = -1; /* unknown (an imported model) */
    assert_int_equal(backtest_run(&spec, series, N, FIRST, offset_forecast, &spec, &r, &err), 0);
    assert_int_equal(r.in_sample, -1);
    doc = backtest_json(&r);
    assert_true(json_is_null(json_object_get(doc, "in_sample")));
    json_decref(doc);
    backtest_result_free(&r);
    /* too short a series: refused, nothing kept */
    spec.n_windows = 30;
    assert_int_equal(backtest_run(&spec, series, N, FIRST, offset_forecast, &spec, &r, &err),
                     FW_EINVAL);
    assert_null(r.windows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_keep_their_errors_and_coverage),
        cmocka_unit_test(test_in_sample_windows_are_said),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
