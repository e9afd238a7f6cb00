/* Tests for model/daruan: paper.md §1.2 test vectors, the theta = 0 identity, gradients by
 * central finite differences. */
#include "testutil.h"
#include "model/daruan.h"
#include "model/rng.h"

#include <math.h>

static const double paper_theta[6] = {0.3, -0.7, 1.1, 0.4, -0.5, 0.9};

static void test_paper_vectors(void **state)
{
    (void)state;
    struct daruan_edge e = {2, paper_theta, NULL, NULL};
    const double xs[3] = {0.0, 0.5, -1.2};
    const double amp[3] = {-0.1183981331, 0.3423986614, 0.0651258447};
    const double born[3] = {-0.1668524145, 0.4698182725, 0.0920041414};
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(daruan_forward(&e, xs[i], DARUAN_AMPLITUDE) - amp[i]) < 1e-9);
        assert_true(fabs(daruan_forward(&e, xs[i], DARUAN_BORN) - born[i]) < 1e-9);
        double p0 = daruan_p0(&e, xs[i]);
        assert_true(fabs(daruan_readout_from_p0(p0, DARUAN_BORN) - born[i]) < 1e-9);
        assert_true(fabs(daruan_readout_from_p0(p0, DARUAN_AMPLITUDE) - amp[i]) < 1e-9);
    }
}

static void test_zero_theta_gives_zero(void **state)
{
    (void)state;
    double theta[6] = {0};
    struct daruan_edge e = {2, theta, NULL, NULL};
    for (double x = -3; x <= 3; x += 0.37) {
        assert_true(fabs(daruan_forward(&e, x, DARUAN_AMPLITUDE)) < 1e-15);
        assert_true(fabs(daruan_forward(&e, x, DARUAN_BORN)) < 1e-15);
    }
}

/* Central-difference check of every gradient daruan_backward returns. */
static void check_gradients(int reps, enum daruan_readout readout, int with_preact, rng *r)
{
    double theta[2 * (DARUAN_MAX_REPS + 1)], pw[DARUAN_MAX_REPS], pb[DARUAN_MAX_REPS];
    for (int i = 0; i < 2 * (reps + 1); i++)
        theta[i] = rng_uniform_range(r, -2, 2);
    for (int i = 0; i < reps; i++) {
        pw[i] = rng_uniform_range(r, 0.5, 1.5);
        pb[i] = rng_uniform_range(r, -0.5, 0.5);
    }
    struct daruan_edge e = {reps, theta, with_preact ? pw : NULL, with_preact ? pb : NULL};
    double x = rng_uniform_range(r, -1.5, 1.5);
    double dtheta[2 * (DARUAN_MAX_REPS + 1)] = {0}, dpw[DARUAN_MAX_REPS] = {0},
                                         dpb[DARUAN_MAX_REPS] = {0}, dx = 0;
    double y = daruan_backward(&e, x, readout, 1.0, dtheta, dpw, dpb, &dx);
    assert_true(fabs(y - daruan_forward(&e, x, readout)) < 1e-15);

    const double h = 1e-6;
    double *params[3] = {theta, pw, pb};
    double *grads[3] = {dtheta, dpw, dpb};
    int counts[3] = {2 * (reps + 1), with_preact ? reps : 0, with_preact ? reps : 0};
    for (int g = 0; g < 3; g++) {
        for (int i = 0; i < counts[g]; i++) {
            double keep = params[g][i];
            params[g][i] = keep + h;
            double up = daruan_forward(&e, x, readout);
            params[g][i] = keep - h;
            double down = daruan_forward(&e, x, readout);
            params[g][i] = keep;
            double fd = (up - down) / (2 * h);
            assert_true(tu_reldiff(fd, grads[g][i], 1e-3) < 1e-6);
        }
    }
    double fd = (daruan_forward(&e, x + h, readout) - daruan_forward(&e, x - h, readout)) / (2 * h);
    assert_true(tu_reldiff(fd, dx, 1e-3) < 1e-6);
}

static void test_gradients(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 42);
    for (int trial = 0; trial < 40; trial++)
        for (int reps = 1; reps <= 3; reps++) {
            check_gradients(reps, DARUAN_AMPLITUDE, trial % 2, &r);
            check_gradients(reps, DARUAN_BORN, trial % 2, &r);
        }
}

static void test_gradient_is_scaled_by_dy(void **state)
{
    (void)state;
    struct daruan_edge e = {2, paper_theta, NULL, NULL};
    double g1[6] = {0}, g3[6] = {0};
    daruan_backward(&e, 0.5, DARUAN_AMPLITUDE, 1.0, g1, NULL, NULL, NULL);
    daruan_backward(&e, 0.5, DARUAN_AMPLITUDE, -3.0, g3, NULL, NULL, NULL);
    for (int i = 0; i < 6; i++)
        assert_true(fabs(g3[i] + 3.0 * g1[i]) < 1e-14);
}

/* The batched path gives the reference's numbers, forward and backward. */
static void test_batch_matches_reference(void **state)
{
    (void)state;
    enum { N = 37 };
    rng r;
    rng_seed(&r, 11);
    for (int reps = 1; reps <= 3; reps++)
        for (int readout = 0; readout < 2; readout++) {
            size_t nt = 2 * (size_t)(reps + 1);
            double theta[N * 8], x[N], y[N], dy[N], dtheta[N * 8], dx[N];
            double scratch[3 * N * 11];
            assert_true(daruan_batch_scratch(N, reps) <= sizeof scratch / sizeof scratch[0]);
            for (size_t k = 0; k < N * nt; k++)
                theta[k] = rng_uniform_range(&r, -3, 3);
            for (int e = 0; e < N; e++) {
                x[e] = rng_uniform_range(&r, -2, 2);
                dy[e] = rng_uniform_range(&r, -1, 1);
            }
            daruan_forward_batch(N, reps, theta, x, readout, y, scratch);
            daruan_backward_batch(N, reps, theta, x, readout, dy, dtheta, dx, scratch);
            for (int e = 0; e < N; e++) {
                struct daruan_edge edge = {reps, theta + e * nt, NULL, NULL};
                double rt[8] = {0}, rx = 0;
                double ry = daruan_backward(&edge, x[e], readout, dy[e], rt, NULL, NULL, &rx);
                assert_true(fabs(ry - y[e]) < 1e-14);
                assert_true(fabs(rx - dx[e]) < 1e-13);
                for (size_t k = 0; k < nt; k++)
                    assert_true(fabs(rt[k] - dtheta[e * nt + k]) < 1e-13);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_vectors),
        cmocka_unit_test(test_zero_theta_gives_zero),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_gradient_is_scaled_by_dy),
        cmocka_unit_test(test_batch_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
