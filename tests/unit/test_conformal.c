/* Tests for model/conformal: sorted residuals per step, the ceil((n+1) N / 100)-th order
 * statistic, unsupported levels, and coverage on exchangeable synthetic data. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_sorts_per_step), cmocka_unit_test(test_decimal_level_rank),
        cmocka_unit_test(test_halfwidth_rank),     cmocka_unit_test(test_guarantee_threshold),
        cmocka_unit_test(test_empirical_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
