/* Tests for model/conformal: sorted residuals per step, the ceil((n+1) N / 100)-th order
 * statistic, unsupported levels, and coverage on exchangeable synthetic data; the signed and
 * square-root methods on hand-computed cases, their bounds (never negative for SQRT), the
 * monotone smoothing and the validation of stored scores. tests/unit/test_bands.c measures the
 * three methods' coverage. */
#include "testutil.h"
#include "model/conformal.h"
#include "model/rng.h"

#include <math.h>
#include <stdlib.h>

static void test_fit_sorts_per_step(void **state)
{
    (void)state;
    /* 4 windows x 2 steps (row-major n x horizon) */
    const double pred[8] = {1.0, 0.0, /**/ 2.0, 5.0, /**/ -1.0, 1.0, /**/ 0.5, 0.5};
    const double truth[8] = {1.5, 3.0, /**/ 0.0, 4.0, /**/ -1.25, 3.0, /**/ 0.5, -0.5};
    /* step 0: |0.5| |-2| |-0.25| |0| -> 0 0.25 0.5 2; step 1: 3 1 2 1 -> 1 1 2 3 */
    double res[8];
    conformal_fit(4, 2, pred, truth, res);
    const double expect[8] = {0.0, 0.25, 0.5, 2.0, /**/ 1.0, 1.0, 2.0, 3.0};
    for (int i = 0; i < 8; i++)
        assert_true(res[i] == expect[i]);
    /* the step picks its own row */
    assert_true(conformal_halfwidth(res, 4, 0, 50, NULL) == 0.5); /* ceil(2.5) = 3rd */
    assert_true(conformal_halfwidth(res, 4, 1, 50, NULL) == 2.0);
}

static void test_halfwidth_rank(void **state)
{
    (void)state;
    /* 9 calibration residuals 1..9, one step: the k-th smallest is k */
    enum { N = 9 };
    double pred[N], truth[N], res[N];
    for (int k = 0; k < N; k++) {
        pred[k] = 0.0;
        truth[k] = (k % 2 ? -1.0 : 1.0) * (double)((k * 4) % N + 1); /* 1..9, scrambled */
    }
    conformal_fit(N, 1, pred, truth, res);
    for (int k = 0; k < N; k++)
        assert_true(res[k] == k + 1.0);
    struct {
        double level;
        double expect;
        int guaranteed;
    } cases[] = {
        {90, 9, 1},  /* ceil(10 * 0.9) = 9 */
        {50, 5, 1},  /* ceil(5) = 5 */
        {55, 6, 1},  /* ceil(5.5) = 6 */
        {80, 8, 1},  /* ceil(8) = 8 */
        {81, 9, 1},  /* ceil(8.1) = 9 */
        {10, 1, 1},  /* ceil(1) = 1 */
        {5, 1, 1},   /* ceil(0.5) = 1 */
        {0.1, 1, 1}, /* never below the smallest */
        {91, 9, 0},  /* ceil(9.1) = 10 > 9: the largest, not guaranteed */
        {95, 9, 0},  {99.9, 9, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int g = -1;
        double hw = conformal_halfwidth(res, N, 0, cases[i].level, &g);
        if (hw != cases[i].expect || g != cases[i].guaranteed)
            fail_msg("level %g: half-width %g guaranteed %d, expected %g and %d", cases[i].level,
                     hw, g, cases[i].expect, cases[i].guaranteed);
    }
}

static void test_guarantee_threshold(void **state)
{
    (void)state;
    /* 95% needs n >= 19: ceil(20 * 0.95) = 19 <= 19, while n = 18 gives ceil(18.05) = 19 > 18 */
    double res[19];
    for (int k = 0; k < 19; k++)
        res[k] = 0.1 * (k + 1);
    int g = -1;
    assert_true(conformal_halfwidth(res, 19, 0, 95, &g) == res[18]);
    assert_int_equal(g, 1);
    g = -1;
    assert_true(conformal_halfwidth(res, 18, 0, 95, &g) == res[17]);
    assert_int_equal(g, 0);
    /* no calibration data at all: an unbounded interval, never guaranteed */
    g = -1;
    assert_true(isinf(conformal_halfwidth(res, 0, 0, 50, &g)));
    assert_int_equal(g, 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_empirical_coverage(void **state)
{
    (void)state;
    /* residuals N(0, sd_j) with a different spread per step; calibration and test windows are
     * exchangeable, so a level-N interval covers about N% of the test truths */
    /* 20000 windows each keep the sampling sd of a coverage at most sqrt(2 * 0.25 / 20000) = 0.005,
     * so the 0.02 allowed below is four sd even at the 50% level */
    enum { NCAL = 20000, NTEST = 20000, H = 3 };
    const double sd[H] = {1.0, 2.5, 0.2};
    double *pred = malloc(sizeof(double) * NCAL * H), *truth = malloc(sizeof(double) * NCAL * H);
    double *res = malloc(sizeof(double) * NCAL * H);
    double *tpred = malloc(sizeof(double) * NTEST * H),
           *ttruth = malloc(sizeof(double) * NTEST * H);
    assert_true(pred && truth && res && tpred && ttruth);
    rng r;
    rng_seed(&r, 2024);
    for (int k = 0; k < NCAL; k++)
        for (int j = 0; j < H; j++) {
            pred[k * H + j] = rng_uniform_range(&r, -5, 5);
            truth[k * H + j] = pred[k * H + j] + sd[j] * rng_normal(&r);
        }
    for (int k = 0; k < NTEST; k++)
        for (int j = 0; j < H; j++) {
            tpred[k * H + j] = rng_uniform_range(&r, -5, 5);
            ttruth[k * H + j] = tpred[k * H + j] + sd[j] * rng_normal(&r);
        }
    conformal_fit(NCAL, H, pred, truth, res);
    for (int j = 0; j < H; j++)
        for (int k = 1; k < NCAL; k++)
            assert_true(res[j * NCAL + k - 1] <= res[j * NCAL + k]);

    const double levels[4] = {50, 80, 90, 95};
    /* two-sided normal quantiles for those levels */
    const double z[4] = {0.6744897501960817, 1.2815515655446004, 1.6448536269514722,
                         1.959963984540054};
    for (int l = 0; l < 4; l++)
        for (int j = 0; j < H; j++) {
            int g = -1;
            double hw = conformal_halfwidth(res, NCAL, (size_t)j, levels[l], &g);
            assert_int_equal(g, 1);
            /* the half-width estimates sd * z */
            assert_true(fabs(hw / (sd[j] * z[l]) - 1.0) < 0.05);
            int inside = 0;
            for (int k = 0; k < NTEST; k++)
                inside += fabs(ttruth[k * H + j] - tpred[k * H + j]) <= hw;
            double coverage = (double)inside / NTEST;
            if (fabs(coverage - levels[l] / 100.0) > 0.02)
                fail_msg("level %g step %d: coverage %.4f", levels[l], j, coverage);
        }

    /* the half-width is exactly an order statistic of the step's absolute residuals */
    double *col = malloc(sizeof(double) * NCAL);
    assert_non_null(col);
    for (int k = 0; k < NCAL; k++)
        col[k] = fabs(truth[k * H + 1] - pred[k * H + 1]);
    qsort(col, NCAL, sizeof *col, cmp_double);
    /* ceil(20001 * 0.9) = ceil(18000.9) = 18001 */
    assert_true(conformal_halfwidth(res, NCAL, 1, 90, NULL) == col[18001 - 1]);
    free(col);
    free(pred);
    free(truth);
    free(res);
    free(tpred);
    free(ttruth);
}

/* Regression: 250 * 64.4 / 100 rounds to 161.00000000000003, which once gave rank 162. */
static void test_decimal_level_rank(void **state)
{
    (void)state;
    double res[249];
    for (int k = 0; k < 249; k++)
        res[k] = k + 1;
    int guaranteed = 0;
    assert_true(conformal_halfwidth(res, 249, 0, 64.4, &guaranteed) == 161.0);
    assert_true(guaranteed);
    /* exact rank n is still guaranteed: ceil(250 * 99.6 / 100) = 249 */
    assert_true(conformal_halfwidth(res, 249, 0, 99.6, &guaranteed) == 249.0);
    assert_true(guaranteed);
}

/* Signed scores: each tail on its own, so an asymmetric error distribution gives an asymmetric
 * band. 9 windows, one step, scores y - yhat = -2 -1 -1 0 0 1 3 6 10 (scrambled). */
static void test_signed_hand(void **state)
{
    (void)state;
    struct conformal_bands b = {CONFORMAL_SIGNED, 0, 0.0};
    const double pred[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const double err[9] = {3, -1, 10, 0, -2, 6, 1, 0, -1};
    double truth[9], s[9];
    for (int k = 0; k < 9; k++)
        truth[k] = pred[k] + err[k];
    conformal_fit_scores(&b, 9, 1, pred, truth, s);
    const double sorted[9] = {-2, -1, -1, 0, 0, 1, 3, 6, 10};
    assert_memory_equal(s, sorted, sizeof s);
    struct {
        double level, lo, hi;
        int guaranteed;
    } cases[] = {
        {50, -1, 6, 1},  /* upper rank ceil(10 * 0.75) = 8, lower 10 - 8 = 2 */
        {20, 0, 1, 1},   /* ceil(10 * 0.6) = 6 and 10 - 6 = 4 */
        {80, -2, 10, 1}, /* ceil(10 * 0.9) = 9 and 1 */
        {81, -2, 10, 0}, /* ceil(9.05) = 10 > 9: the extremes, not guaranteed */
        {60, -1, 6, 1},  /* 50 + 60 / 2 = 80: ceil(8) = 8 and 2, as for 50% */
        {70, -2, 10, 1}, /* 85: ceil(8.5) = 9 and 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double lo, hi;
        int g = conformal_quantiles(&b, s, 9, 0, cases[i].level, &lo, &hi);
        if (lo != cases[i].lo || hi != cases[i].hi || g != cases[i].guaranteed)
            fail_msg("level %g: [%g, %g] guaranteed %d", cases[i].level, lo, hi, g);
    }
    /* bounds: yhat + q * scale */
    double lo, hi;
    conformal_bounds(&b, 10.0, -1.0, 6.0, 2.0, &lo, &hi);
    assert_true(lo == 8.0 && hi == 22.0);
    /* no calibration: unbounded, never guaranteed */
    assert_int_equal(conformal_quantiles(&b, s, 0, 0, 50, &lo, &hi), 0);
    assert_true(isinf(lo) && lo < 0 && isinf(hi) && hi > 0);
    /* 95% with two tails needs 39 windows (ceil(40 * 0.975) = 39), the absolute method 19 */
    double many[39];
    for (int k = 0; k < 39; k++)
        many[k] = k;
    assert_int_equal(conformal_quantiles(&b, many, 39, 0, 95, &lo, &hi), 1);
    assert_true(lo == 0 && hi == 38);
    assert_int_equal(conformal_quantiles(&b, many, 38, 0, 95, &lo, &hi), 0);
    struct conformal_bands a = {CONFORMAL_ABSOLUTE, 0, 0.0};
    assert_int_equal(conformal_quantiles(&a, many, 19, 0, 95, &lo, &hi), 1);
    assert_true(lo == -18 && hi == 18); /* -halfwidth, +halfwidth */
}

/* Square-root scores: truths and forecasts chosen so that every sqrt is exact. */
static void test_sqrt_hand(void **state)
{
    (void)state;
    struct conformal_bands b = {CONFORMAL_SQRT, 0, 0.0};
    /* yhat 16 (sqrt 4) for every window; sqrt(y) - 4 = -4..4 */
    const double truth[9] = {9, 25, 16, 36, 4, 49, 1, 64, 0};
    double pred[9], s[9];
    for (int k = 0; k < 9; k++)
        pred[k] = 16;
    conformal_fit_scores(&b, 9, 1, pred, truth, s);
    for (int k = 0; k < 9; k++)
        assert_true(s[k] == k - 4.0);
    double q_lo, q_hi, lo, hi;
    assert_int_equal(conformal_quantiles(&b, s, 9, 0, 50, &q_lo, &q_hi), 1);
    assert_true(q_lo == -3 && q_hi == 3);
    conformal_bounds(&b, 16, q_lo, q_hi, 999, &lo, &hi); /* scale is unused */
    assert_true(lo == 1 && hi == 49);                    /* (4 - 3)^2, (4 + 3)^2 */
    conformal_bounds(&b, 4, q_lo, q_hi, 1, &lo, &hi);
    assert_true(lo == 0 && hi == 25); /* (max(0, 2 - 3))^2 = 0: floored, not negative */
    conformal_bounds(&b, -5, q_lo, q_hi, 1, &lo, &hi);
    assert_true(lo == 0 && hi == 9); /* a negative forecast counts as 0 */
    /* c = 1: scores of y + 1 against yhat + 1, the floor is sqrt(1), the transform of 0 */
    b.offset = 1.0;
    assert_true(conformal_sqrt_score(8, 15, 1) == -1.0); /* 3 - 4 */
    assert_true(conformal_sqrt_score(-3, 8, 1) == -2.0); /* a negative truth counts as 0 */
    assert_true(conformal_sqrt_score(24, -7, 1) == 4.0); /* 5 - 1 */
    conformal_bounds(&b, 24, -3, 3, 1, &lo, &hi);
    assert_true(lo == 3 && hi == 63); /* (5 - 3)^2 - 1, (5 + 3)^2 - 1 */
    conformal_bounds(&b, 15, -3, 3, 1, &lo, &hi);
    assert_true(lo == 0 && hi == 48); /* 4 - 3 = 1 = sqrt(c): exactly 0, never -c */
    conformal_bounds(&b, 3, -3, -1.5, 1, &lo, &hi);
    assert_true(lo == 0 && hi == 0); /* both below the floor: [0, 0] */
    /* n = 0: [0, inf) */
    conformal_bounds(&b, 3, -INFINITY, INFINITY, 1, &lo, &hi);
    assert_true(lo == 0 && isinf(hi));
}

/* SQRT bounds are >= 0 and ordered for any forecast, offsets and c, with no clipping by the
 * caller: forecasts near 0, negative, huge; scores from truths >= 0. */
static void test_sqrt_never_negative(void **state)
{
    (void)state;
    const double cs[] = {0.0, 1e-9, 0.375, 1.0, 3.0, 7.0};
    const double special[] = {0.0, -0.0, 1e-300, -1e-300, 5e-324, -1.0, -1e6, 1e300, 0.5};
    rng r;
    rng_seed(&r, 11);
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        struct conformal_bands b = {CONFORMAL_SQRT, 1, cs[c]};
        for (int i = 0; i < 20000; i++) {
            double yhat = i < 9 ? special[i] : rng_uniform_range(&r, -50, 400);
            if (i % 7 == 0)
                yhat *= 1e-6; /* near 0 */
            double q_lo = rng_uniform_range(&r, -40, 3), q_hi = q_lo + rng_uniform_range(&r, 0, 40);
            double lo, hi;
            conformal_bounds(&b, yhat, q_lo, q_hi, 1, &lo, &hi);
            if (!(lo >= 0 && lo <= hi && isfinite(hi)))
                fail_msg("c %g yhat %g q [%g, %g]: [%g, %g]", cs[c], yhat, q_lo, q_hi, lo, hi);
        }
    }
    /* the whole path: scores fitted on forecasts that go negative, bands around new ones */
    enum { N = 50, H = 4 };
    double pred[N * H], truth[N * H], s[N * H];
    for (int k = 0; k < N * H; k++) {
        pred[k] = rng_uniform_range(&r, -20, 20);
        truth[k] = fmax(0, pred[k] + rng_uniform_range(&r, -10, 30));
    }
    struct conformal_bands b = {CONFORMAL_SQRT, 0, 1.0};
    conformal_fit_scores(&b, N, H, pred, truth, s);
    assert_true(conformal_valid_bands(&b, s, N, H));
    for (int j = 0; j < H; j++)
        for (double yhat = -30; yhat <= 30; yhat += 0.25) {
            double q_lo, q_hi, lo, hi;
            conformal_quantiles(&b, s, N, (size_t)j, 95, &q_lo, &q_hi);
            conformal_bounds(&b, yhat, q_lo, q_hi, 1, &lo, &hi);
            assert_true(lo >= 0 && lo <= hi);
        }
}

/* The running extreme over steps: the upper offset never falls and the lower one never rises
 * with h when monotone; off, each step keeps its own. */
static void test_monotone_hand(void **state)
{
    (void)state;
    /* 3 steps x 4 windows, sorted rows */
    const double abs_res[12] = {1, 2, 3, 4, /**/ 0.5, 1, 1.5, 2, /**/ 2, 3, 5, 8};
    const double signed_res[12] = {-3, -1, 1, 2, /**/ -1, 0, 0.5, 1, /**/ -5, -2, 1, 4};
    struct conformal_bands a = {CONFORMAL_ABSOLUTE, 0, 0.0}, s = {CONFORMAL_SIGNED, 0, 0.0};
    /* absolute at 50%: rank ceil(2.5) = 3 -> 3, 1.5, 5; monotone 3, 3, 5 */
    const double raw_hw[3] = {3, 1.5, 5}, mono_hw[3] = {3, 3, 5};
    /* signed at 20%: 50 + 10 = 60, upper rank ceil(3) = 3, lower 2:
     * [-1, 1], [0, 0.5], [-2, 1]; monotone [-1, 1], [-1, 1], [-2, 1] */
    const double raw_lo[3] = {-1, 0, -2}, raw_hi[3] = {1, 0.5, 1};
    const double mono_lo[3] = {-1, -1, -2}, mono_hi[3] = {1, 1, 1};
    for (int monotone = 0; monotone <= 1; monotone++) {
        a.monotone = s.monotone = monotone;
        for (size_t j = 0; j < 3; j++) {
            double lo, hi;
            assert_int_equal(conformal_quantiles(&a, abs_res, 4, j, 50, &lo, &hi), 1);
            double hw = monotone ? mono_hw[j] : raw_hw[j];
            assert_true(lo == -hw && hi == hw);
            assert_int_equal(conformal_quantiles(&s, signed_res, 4, j, 20, &lo, &hi), 1);
            assert_true(lo == (monotone ? mono_lo[j] : raw_lo[j]));
            assert_true(hi == (monotone ? mono_hi[j] : raw_hi[j]));
        }
    }
    /* off, the absolute quantile is exactly conformal_halfwidth's */
    a.monotone = 0;
    double lo, hi;
    conformal_quantiles(&a, abs_res, 4, 1, 50, &lo, &hi);
    assert_true(hi == conformal_halfwidth(abs_res, 4, 1, 50, NULL));
}

static void test_valid_bands_and_names(void **state)
{
    (void)state;
    const double ok_signed[4] = {-2, -1, 0, 3}, unsorted[4] = {-2, 0, -1, 3};
    const double nan_row[4] = {-2, NAN, 0, 3}, inf_row[4] = {-2, -1, 0, INFINITY};
    struct conformal_bands a = {CONFORMAL_ABSOLUTE, 0, 0.0}, s = {CONFORMAL_SIGNED, 1, 0.0};
    struct conformal_bands q = {CONFORMAL_SQRT, 1, 1.0};
    assert_true(conformal_valid_bands(&s, ok_signed, 4, 1));
    assert_true(conformal_valid_bands(&q, ok_signed, 4, 1));
    assert_false(conformal_valid_bands(&a, ok_signed, 4, 1)); /* absolute: never negative */
    assert_false(conformal_valid_bands(&s, unsorted, 4, 1));
    assert_false(conformal_valid_bands(&q, nan_row, 4, 1));
    assert_false(conformal_valid_bands(&q, inf_row, 4, 1));
    assert_true(conformal_valid_bands(&q, ok_signed, 2, 2)); /* rows -2 -1 | 0 3 */
    assert_false(conformal_valid_bands(&q, (const double[]){-2, 0, 3, -1}, 2, 2)); /* row 3 -1 */
    /* offsets: c >= 0 and finite for SQRT, 0 otherwise; unknown methods */
    struct conformal_bands bad[] = {{CONFORMAL_SQRT, 0, -0.5},    {CONFORMAL_SQRT, 0, INFINITY},
                                    {CONFORMAL_SQRT, 0, NAN},     {CONFORMAL_SIGNED, 0, 1.0},
                                    {CONFORMAL_ABSOLUTE, 0, 1.0}, {(enum conformal_method)3, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(conformal_valid_bands(&bad[i], ok_signed, 4, 1));
    assert_string_equal(conformal_method_name(CONFORMAL_ABSOLUTE), "absolute");
    assert_string_equal(conformal_method_name(CONFORMAL_SIGNED), "signed");
    assert_string_equal(conformal_method_name(CONFORMAL_SQRT), "sqrt");
    assert_null(conformal_method_name((enum conformal_method)7));
    assert_int_equal(conformal_method_parse("sqrt"), CONFORMAL_SQRT);
    assert_int_equal(conformal_method_parse("signed"), CONFORMAL_SIGNED);
    assert_int_equal(conformal_method_parse("absolute"), CONFORMAL_ABSOLUTE);
    assert_int_equal(conformal_method_parse("Sqrt"), -1);
    assert_int_equal(conformal_method_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_sorts_per_step), cmocka_unit_test(test_decimal_level_rank),
        cmocka_unit_test(test_halfwidth_rank),     cmocka_unit_test(test_guarantee_threshold),
        cmocka_unit_test(test_empirical_coverage), cmocka_unit_test(test_signed_hand),
        cmocka_unit_test(test_sqrt_hand),          cmocka_unit_test(test_sqrt_never_negative),
        cmocka_unit_test(test_monotone_hand),      cmocka_unit_test(test_valid_bands_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
