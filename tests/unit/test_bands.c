/* Coverage of the conformal band methods (model/conformal) on synthetic data whose true
 * quantiles are known, measured by metrics_interval_coverage (model/metrics): a calibration set
 * of a few hundred windows, a fresh test set, levels 50/80/95.
 *
 * Tolerances: per-step coverage after calibrating on n windows varies by about
 * sqrt(p (1 - p) / n) (0.029 at p = 0.5, n = 300; 0.1 is allowed per step); pooled over H = 12
 * steps calibrated independently that falls to 0.008, so the 0.03 allowed below nominal for a
 * level is over three sd. Above nominal 0.05 is allowed: the monotone running maximum widens
 * bands whenever a noisy step exceeds a later one (over 40 seeds: +0.016 on average at 50% for
 * SQRT with it, at most +0.034). */
#include "testutil.h"
#include "model/conformal.h"
#include "model/metrics.h"
#include "model/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { NCAL = 300, NTEST = 4000, H = 12, NL = 3 };
static const double LEVELS[NL] = {50, 80, 95};
/* two-sided normal quantiles of those levels */
static const double Z[NL] = {0.6744897501960817, 1.2815515655446004, 1.959963984540054};

struct synth {
    double *pred, *truth; /* n x H */
    size_t n;
};

/* Additive noise: truth = pred + sd[j] z, pred in -5..5. sqrt_scale: the noise is on the
 * square-root scale instead, truth = max(0, (sqrt(pred + 1) + sd[j] z)^2 - 1), with one level
 * in 5..300 per window (sunspot-like) for every step. */
static struct synth make(rng *r, size_t n, const double *sd, int sqrt_scale)
{
    struct synth s = {malloc(n * H * sizeof(double)), malloc(n * H * sizeof(double)), n};
    assert_true(s.pred && s.truth);
    for (size_t k = 0; k < n; k++) {
        double level = rng_uniform_range(r, 5, 300);
        for (size_t j = 0; j < H; j++) {
            double z = rng_normal(r), *p = &s.pred[k * H + j], *t = &s.truth[k * H + j];
            if (sqrt_scale) {
                double u = sqrt(level + 1) + sd[j] * z;
                *p = level;
                *t = fmax(0, u * u - 1);
            } else {
                *p = rng_uniform_range(r, -5, 5);
                *t = *p + sd[j] * z;
            }
        }
    }
    return s;
}

static void synth_free(struct synth *s)
{
    free(s->pred), free(s->truth);
}

/* Bands of every test window (NTEST x NL x H) from calibration scores. */
static void bands(const struct conformal_bands *b, const double *scores, const struct synth *t,
                  double *lo, double *hi)
{
    for (size_t k = 0; k < t->n; k++)
        for (size_t i = 0; i < NL; i++)
            for (size_t j = 0; j < H; j++) {
                double q_lo, q_hi;
                assert_int_equal(conformal_quantiles(b, scores, NCAL, j, LEVELS[i], &q_lo, &q_hi),
                                 1);
                size_t at = (k * NL + i) * H + j;
                conformal_bounds(b, t->pred[k * H + j], q_lo, q_hi, 1.0, &lo[at], &hi[at]);
            }
}

/* Calibrates b on cal, measures on test; per_step may be NULL. */
static void measure(const struct conformal_bands *b, const struct synth *cal,
                    const struct synth *test, double *per_level, double *per_step)
{
    double *scores = malloc(NCAL * H * sizeof(double));
    double *lo = malloc(NTEST * NL * H * sizeof(double)),
           *hi = malloc(NTEST * NL * H * sizeof(double));
    assert_true(scores && lo && hi);
    conformal_fit_scores(b, NCAL, H, cal->pred, cal->truth, scores);
    bands(b, scores, test, lo, hi);
    metrics_interval_coverage(test->n, H, NL, test->truth, lo, hi, per_level, per_step);
    free(scores), free(lo), free(hi);
}

static void check_nominal(const char *name, const double *per_level, const double *per_step)
{
    for (int i = 0; i < NL; i++) {
        double nominal = LEVELS[i] / 100;
        print_message("%-9s %2.0f%%: coverage %.4f\n", name, LEVELS[i], per_level[i]);
        if (per_level[i] < nominal - 0.03 || per_level[i] > nominal + 0.05)
            fail_msg("%s level %g: coverage %.4f", name, LEVELS[i], per_level[i]);
        for (int j = 0; per_step && j < H; j++)
            if (fabs(per_step[i * H + j] - nominal) > 0.1)
                fail_msg("%s level %g step %d: coverage %.4f", name, LEVELS[i], j,
                         per_step[i * H + j]);
    }
}

/* Gaussian noise with a spread growing in h: every method covers about nominally, and the
 * two-tailed offsets estimate the known quantiles -z sd, +z sd. */
static void test_additive_noise(void **state)
{
    (void)state;
    double sd[H];
    for (int j = 0; j < H; j++)
        sd[j] = 1.0 + 0.25 * j;
    rng r;
    rng_seed(&r, 2025);
    struct synth cal = make(&r, NCAL, sd, 0), test = make(&r, NTEST, sd, 0);
    struct conformal_bands methods[] = {{CONFORMAL_ABSOLUTE, 0, 0.0},
                                        {CONFORMAL_ABSOLUTE, 1, 0.0},
                                        {CONFORMAL_SIGNED, 0, 0.0},
                                        {CONFORMAL_SIGNED, 1, 0.0}};
    const char *names[] = {"absolute", "abs+mono", "signed", "sgn+mono"};
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        double per_level[NL], per_step[NL * H];
        measure(&methods[m], &cal, &test, per_level, per_step);
        check_nominal(names[m], per_level, per_step);
    }
    /* the 80% signed offsets estimate -z sd and +z sd: a 10% quantile of 300 draws has a
     * sampling sd of sqrt(0.09 / 300) / phi(z) = 0.1 sd, so 0.4 per step and 0.1 for the mean
     * over 12 steps are about 4 sd */
    double *scores = malloc(NCAL * H * sizeof(double)), mean_lo = 0, mean_hi = 0;
    assert_non_null(scores);
    conformal_fit_scores(&methods[2], NCAL, H, cal.pred, cal.truth, scores);
    for (size_t j = 0; j < H; j++) {
        double q_lo, q_hi;
        conformal_quantiles(&methods[2], scores, NCAL, j, 80, &q_lo, &q_hi);
        assert_true(fabs(q_lo / sd[j] + Z[1]) < 0.4 && fabs(q_hi / sd[j] - Z[1]) < 0.4);
        mean_lo += q_lo / sd[j] / H, mean_hi += q_hi / sd[j] / H;
    }
    print_message("80%% signed offsets / sd, mean over steps: %.3f %.3f (normal: -+%.3f)\n",
                  mean_lo, mean_hi, Z[1]);
    assert_true(fabs(mean_lo + Z[1]) < 0.1 && fabs(mean_hi - Z[1]) < 0.1);
    free(scores);
    synth_free(&cal), synth_free(&test);
}

/* Noise on the square-root scale (spread growing with the level, as counts have): SQRT covers
 * nominally overall and at low and high forecasts alike; the symmetric absolute band covers
 * about nominally overall only by over-covering low forecasts and under-covering high ones. */
static void test_sqrt_scale_noise(void **state)
{
    (void)state;
    double sd[H];
    for (int j = 0; j < H; j++)
        sd[j] = 0.5 + 0.1 * j; /* sqrt-sunspot units */
    rng r;
    rng_seed(&r, 7);
    struct synth cal = make(&r, NCAL, sd, 1), test = make(&r, NTEST, sd, 1);
    struct conformal_bands sq = {CONFORMAL_SQRT, 1, 1.0}, ab = {CONFORMAL_ABSOLUTE, 0, 0.0};
    double per_level[NL], per_step[NL * H];
    measure(&sq, &cal, &test, per_level, per_step);
    check_nominal("sqrt", per_level, per_step);
    /* conditional on the forecast: windows forecast below 100 and above 200 */
    struct synth low = {malloc(NTEST * H * sizeof(double)), malloc(NTEST * H * sizeof(double)), 0};
    struct synth high = {malloc(NTEST * H * sizeof(double)), malloc(NTEST * H * sizeof(double)), 0};
    assert_true(low.pred && low.truth && high.pred && high.truth);
    for (size_t k = 0; k < NTEST; k++) {
        double level = test.pred[k * H];
        struct synth *to = level < 100 ? &low : level > 200 ? &high : NULL;
        for (int j = 0; to && j < H; j++) {
            to->pred[to->n * H + j] = test.pred[k * H + j];
            to->truth[to->n * H + j] = test.truth[k * H + j];
        }
        if (to)
            to->n++;
    }
    double sq_low[NL], sq_high[NL], ab_low[NL], ab_high[NL];
    measure(&sq, &cal, &low, sq_low, NULL);
    measure(&sq, &cal, &high, sq_high, NULL);
    measure(&ab, &cal, &low, ab_low, NULL);
    measure(&ab, &cal, &high, ab_high, NULL);
    print_message("80%% band, low / high forecasts (%zu / %zu windows): sqrt %.4f / %.4f, "
                  "absolute %.4f / %.4f\n",
                  low.n, high.n, sq_low[1], sq_high[1], ab_low[1], ab_high[1]);
    for (int i = 0; i < NL; i++) {
        assert_true(fabs(sq_low[i] - LEVELS[i] / 100) < 0.04);
        assert_true(fabs(sq_high[i] - LEVELS[i] / 100) < 0.04);
    }
    assert_true(ab_low[1] > 0.85 && ab_high[1] < 0.75);
    synth_free(&cal), synth_free(&test), synth_free(&low), synth_free(&high);
}

/* A spread that shrinks with h: off, the per-step quantiles follow the data and cover nominally;
 * on, the running maximum keeps the early width, so later steps over-cover (never under). */
static void test_monotone_on_and_off(void **state)
{
    (void)state;
    double sd[H];
    for (int j = 0; j < H; j++)
        sd[j] = 4.0 - 0.25 * j;
    rng r;
    rng_seed(&r, 99);
    struct synth cal = make(&r, NCAL, sd, 0), test = make(&r, NTEST, sd, 0);
    struct conformal_bands off = {CONFORMAL_SIGNED, 0, 0.0}, on = {CONFORMAL_SIGNED, 1, 0.0};
    double cov_off[NL], step_off[NL * H], cov_on[NL], step_on[NL * H];
    measure(&off, &cal, &test, cov_off, step_off);
    measure(&on, &cal, &test, cov_on, step_on);
    check_nominal("signed", cov_off, step_off);
    for (int i = 0; i < NL; i++) {
        print_message("shrinking spread, %2.0f%%: monotone off %.4f, on %.4f (last step %.4f)\n",
                      LEVELS[i], cov_off[i], cov_on[i], step_on[i * H + H - 1]);
        assert_true(cov_on[i] >= cov_off[i]);
        assert_true(step_on[i * H + H - 1] > LEVELS[i] / 100 + (100 - LEVELS[i]) / 400);
        for (int j = 0; j < H; j++)
            assert_true(step_on[i * H + j] >= step_off[i * H + j]);
    }
    /* and the widths on the score scale never narrow with h when on */
    double *scores = malloc(NCAL * H * sizeof(double));
    assert_non_null(scores);
    conformal_fit_scores(&on, NCAL, H, cal.pred, cal.truth, scores);
    for (int i = 0; i < NL; i++) {
        double prev_lo = INFINITY, prev_hi = -INFINITY;
        for (size_t j = 0; j < H; j++) {
            double q_lo, q_hi;
            conformal_quantiles(&on, scores, NCAL, j, LEVELS[i], &q_lo, &q_hi);
            assert_true(q_lo <= prev_lo && q_hi >= prev_hi);
            prev_lo = q_lo, prev_hi = q_hi;
        }
    }
    free(scores);
    synth_free(&cal), synth_free(&test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_additive_noise),
        cmocka_unit_test(test_sqrt_scale_noise),
        cmocka_unit_test(test_monotone_on_and_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
