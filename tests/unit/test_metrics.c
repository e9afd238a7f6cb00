/* Tests for model/metrics: every score on small examples worked out by hand (paper.md §3.1). */
#include "testutil.h"
#include "model/metrics.h"

#include <math.h>
#include <string.h>

#define CLOSE(a, b) assert_true(tu_reldiff((a), (b), 1e-12) < 1e-12)

/* Two windows of three steps, in scaled units; range 100, offset 5.
 *   pred - truth = -0.1 0.1 -0.2 | -0.2 0.3 0.0
 *   squares 0.01 0.01 0.04 0.04 0.09 0 -> 0.19; absolutes -> 0.9
 *   truth * 30 = 6 12 12 18 3 9, mean 10, SS_tot = 138 / 900, SS_res = 171 / 900 */
static const double pred[6] = {0.1, 0.5, 0.2, 0.4, 0.4, 0.3};
static const double truth[6] = {0.2, 0.4, 0.4, 0.6, 0.1, 0.3};

static void test_scaled_and_denormalised(void **state)
{
    (void)state;
    struct forecast_metrics m;
    memset(&m, 0xFF, sizeof m);
    metrics_compute(2, 3, pred, truth, 100.0, 5.0, &m);
    assert_int_equal(m.n_windows, 2);
    assert_int_equal(m.horizon, 3);
    CLOSE(m.scaled_mse, 0.19 / 6);
    CLOSE(m.scaled_mae, 0.9 / 6);
    CLOSE(m.scaled_rmse, sqrt(0.19 / 6));
    CLOSE(m.r2, 1.0 - 171.0 / 138.0); /* negative: worse than predicting the mean */
    /* de-normalised: times the range (squared for the MSE); the offset does not enter */
    CLOSE(m.mse, 0.19 / 6 * 100.0 * 100.0);
    CLOSE(m.mae, 15.0);
    CLOSE(m.rmse, sqrt(0.19 / 6) * 100.0);
}

static void test_r2_good_forecast(void **state)
{
    (void)state;
    /* truth 0 1 2 3 (mean 1.5, SS_tot 5); errors 0.1 -0.1 0 0.2: SS_res 0.06 */
    double t[4] = {0, 1, 2, 3}, p[4] = {0.1, 0.9, 2.0, 3.2};
    struct forecast_metrics m;
    metrics_compute(1, 4, p, t, 1.0, 0.0, &m);
    CLOSE(m.r2, 1.0 - 0.06 / 5.0);
    metrics_compute(1, 4, t, t, 1.0, 0.0, &m);
    assert_true(m.r2 == 1.0 && m.scaled_mse == 0.0 && m.smape == 0.0);
    assert_true(m.peak_amplitude_error == 0.0 && m.peak_timing_error == 0.0);
}

static void test_peak_errors(void **state)
{
    (void)state;
    struct forecast_metrics m;
    /* window 1: max truth 0.4 (steps 1 and 2: first is 1), max pred 0.5 at step 1;
     * window 2: max truth 0.6 at 0, max pred 0.4 (steps 0 and 1: first is 0).
     * amplitude (|0.4 - 0.5| + |0.6 - 0.4|) * 100 / 2 = 15; timing (0 + 0) / 2 = 0, where
     * taking the last index on ties would give (1 + 1) / 2 */
    metrics_compute(2, 3, pred, truth, 100.0, 5.0, &m);
    CLOSE(m.peak_amplitude_error, 15.0);
    assert_true(m.peak_timing_error == 0.0);

    /* timing in steps: truth peaks at 1, prediction at 4 */
    double t1[5] = {0, 1, 0, 0, 0}, p1[5] = {0.1, 0, 0, 0, 0.7};
    metrics_compute(1, 5, p1, t1, 10.0, 0.0, &m);
    assert_true(m.peak_timing_error == 3.0);
    CLOSE(m.peak_amplitude_error, 3.0); /* |1 - 0.7| * 10 */

    /* a tie in the truth only: first index 0 against 1 is 1 step (the last index would be 2) */
    double t2[4] = {0.9, 0.1, 0.1, 0.9}, p2[4] = {0.1, 0.5, 0.1, 0.1};
    metrics_compute(1, 4, p2, t2, 1.0, 0.0, &m);
    assert_true(m.peak_timing_error == 1.0);
    CLOSE(m.peak_amplitude_error, 0.4);

    /* a tie in the prediction only: truth at 3, prediction first at 0 (the last would be 2) */
    double t3[4] = {0, 0, 0, 1}, p3[4] = {0.5, 0.2, 0.5, 0.1};
    metrics_compute(1, 4, p3, t3, 1.0, 0.0, &m);
    assert_true(m.peak_timing_error == 3.0);

    /* averaged over windows: 3, 1 and 0 steps; amplitudes 2, 0 and 5 units */
    double t4[9] = {1, 0, 0, /**/ 0, 3, 0, /**/ 0, 0, 2};
    double p4[9] = {0, 0, 3, /**/ 3, 0, 0, /**/ 0, 0, 7};
    metrics_compute(3, 3, p4, t4, 1.0, 0.0, &m);
    CLOSE(m.peak_timing_error, (2.0 + 1.0 + 0.0) / 3.0);
    CLOSE(m.peak_amplitude_error, (2.0 + 0.0 + 5.0) / 3.0);
}

static void test_smape(void **state)
{
    (void)state;
    struct forecast_metrics m;
    /* real values y = 100 truth + 5, yhat = 100 pred + 5:
     *   y    25 45 45 | 65 15 35
     *   yhat 15 55 25 | 45 45 35
     * 200 |y - yhat| / (|y| + |yhat|) = 50, 20, 4000/70, 4000/110, 100, 0 */
    metrics_compute(2, 3, pred, truth, 100.0, 5.0, &m);
    CLOSE(m.smape, (50.0 + 20.0 + 4000.0 / 70.0 + 4000.0 / 110.0 + 100.0 + 0.0) / 6.0);
    /* the offset matters for sMAPE: without it the values differ */
    metrics_compute(2, 3, pred, truth, 100.0, 0.0, &m);
    /* y 20 40 40 | 60 10 30; yhat 10 50 20 | 40 40 30 */
    CLOSE(m.smape,
          (2000.0 / 30 + 2000.0 / 90 + 4000.0 / 60 + 4000.0 / 100 + 6000.0 / 50 + 0.0) / 6.0);
    /* sign does not matter: |y| + |yhat| in the denominator */
    double t[2] = {-1.0, 1.0}, p[2] = {-3.0, 3.0};
    metrics_compute(1, 2, p, t, 1.0, 0.0, &m);
    CLOSE(m.smape, 100.0); /* 200 * 2 / 4 twice */
    /* a point where both are zero has no defined sMAPE: it is left out, never NaN */
    double tz[2] = {0.0, 0.5}, pz[2] = {0.0, 0.25};
    metrics_compute(1, 2, pz, tz, 1.0, 0.0, &m);
    assert_false(isnan(m.smape));
    CLOSE(m.smape, 200.0 * 0.25 / 0.75);
}

static void test_empty(void **state)
{
    (void)state;
    struct forecast_metrics m;
    memset(&m, 0xFF, sizeof m);
    metrics_compute(0, 132, pred, truth, 1.0, 0.0, &m);
    assert_int_equal(m.n_windows, 0);
    assert_int_equal(m.horizon, 132);
    assert_true(m.scaled_mse == 0.0 && m.peak_timing_error == 0.0 && m.smape == 0.0);
}

static void test_naive_mae(void **state)
{
    (void)state;
    double h[5] = {1.0, 3.0, 2.0, 6.0, 6.0}; /* steps 2, 1, 4, 0 */
    CLOSE(metrics_naive_mae(h, 5), 7.0 / 4.0);
    CLOSE(metrics_naive_mae(h, 2), 2.0);
    assert_true(metrics_naive_mae(h, 1) == 0.0);
    assert_true(metrics_naive_mae(h, 0) == 0.0);
}

static void test_coverage(void **state)
{
    (void)state;
    double t[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    double lo[6] = {0.0, 2.0, 3.5, 0.0, 5.5, 6.0};
    double hi[6] = {2.0, 3.0, 4.0, 3.9, 6.0, 6.0};
    /* in: 1 (inside), 2 (on lo), 6 (lo == hi == t); out: 3, 4, 5 */
    CLOSE(metrics_coverage(6, t, lo, hi), 0.5);
    CLOSE(metrics_coverage(2, t, lo, hi), 1.0);
    assert_true(metrics_coverage(1, t + 2, lo + 2, hi + 2) == 0.0);
    assert_true(metrics_coverage(0, t, lo, hi) == 0.0);
}

/* Two windows, three steps, two levels; lo and hi window-major then level-major, as
 * forecaster_predict writes one window's bands. */
static void test_interval_coverage(void **state)
{
    (void)state;
    const double truth[6] = {1, 2, 3, /**/ 4, 5, NAN};
    /* level 0: window 0 covers steps 0 and 2, window 1 step 1 (step 2's NaN never counts)
     * level 1: window 0 covers all, window 1 steps 0 and 1 (edges count as inside) */
    const double lo[12] = {0, 2.5, 3, /* */ 0, 0, 0, /**/ 4.5, 5, 0, /* */ 4, 0, 0};
    const double hi[12] = {1, 3, 9, /* */ 9, 9, 9, /**/ 9, 5, 9, /* */ 9, 5, 9};
    double per_level[2], per_step[6];
    memset(per_step, 0xFF, sizeof per_step);
    metrics_interval_coverage(2, 3, 2, truth, lo, hi, per_level, per_step);
    CLOSE(per_level[0], 3.0 / 6.0);
    CLOSE(per_level[1], 5.0 / 6.0);
    const double expect[6] = {0.5, 0.5, 0.5, /**/ 1.0, 1.0, 0.5};
    for (int i = 0; i < 6; i++)
        CLOSE(per_step[i], expect[i]);
    /* per_step may be NULL; no windows give 0 */
    metrics_interval_coverage(1, 3, 2, truth, lo, hi, per_level, NULL);
    CLOSE(per_level[0], 2.0 / 3.0);
    CLOSE(per_level[1], 1.0);
    metrics_interval_coverage(0, 3, 2, truth, lo, hi, per_level, per_step);
    assert_true(per_level[0] == 0.0 && per_level[1] == 0.0 && per_step[5] == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scaled_and_denormalised),
        cmocka_unit_test(test_r2_good_forecast),
        cmocka_unit_test(test_peak_errors),
        cmocka_unit_test(test_smape),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_naive_mae),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_interval_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
