/* Tests for model/layers: Linear and BatchNorm1d against hand loops and PyTorch's rules, their
 * gradients by fourth-order central differences, and inverted dropout. */
#include "testutil.h"
#include "base/error.h"
#include "model/layers.h"
#include "model/rng.h"

#include <math.h>
#include <string.h>

/* Fourth-order central differences: truncation error O(h^4), so with h = 1e-4 the estimate is
 * good to roughly 1e-12 relative, well inside the 1e-6 the checks ask for. */
#define FD_STEP      1e-4
#define FD_TOLERANCE 1e-6
#define FD_FLOOR     1e-4

static void fill_uniform(rng *r, double *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        v[i] = rng_uniform_range(r, lo, hi);
}

/* Derivative of objective() w.r.t. *param by the five-point stencil; *param is restored. */
static double fd_derivative(double (*objective)(void *), void *ctx, double *param)
{
    double keep = *param, h = FD_STEP;
    *param = keep - 2 * h;
    double m2 = objective(ctx);
    *param = keep - h;
    double m1 = objective(ctx);
    *param = keep + h;
    double p1 = objective(ctx);
    *param = keep + 2 * h;
    double p2 = objective(ctx);
    *param = keep;
    return (m2 - 8 * m1 + 8 * p1 - p2) / (12 * h);
}

/* ---- Linear ---------------------------------------------------------------------------------- */

enum { LN = 5, LIN = 4, LOUT = 3 };

static void test_linear_forward_matches_loop(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 11);
    double x[LN * LIN], w[LOUT * LIN], b[LOUT], y[LN * LOUT];
    fill_uniform(&r, x, LN * LIN, -2, 2);
    fill_uniform(&r, w, LOUT * LIN, -1, 1);
    fill_uniform(&r, b, LOUT, -1, 1);
    for (size_t i = 0; i < LN * LOUT; i++)
        y[i] = NAN; /* y is an output only: whatever it held must not leak in */
    linear_forward(NULL, LN, LIN, LOUT, x, w, b, y);
    for (int k = 0; k < LN; k++)
        for (int o = 0; o < LOUT; o++) {
            double expect = b[o];
            for (int i = 0; i < LIN; i++)
                expect += x[k * LIN + i] * w[o * LIN + i]; /* weight is [out][in] */
            assert_true(fabs(y[k * LOUT + o] - expect) < 1e-14);
        }
}

static void test_linear_forward_known_values(void **state)
{
    (void)state;
    /* one sample, 2 in, 2 out: y0 = 1*1 + 2*2 + 0.5, y1 = 1*3 + 2*4 - 1 */
    double x[2] = {1, 2}, w[4] = {1, 2, 3, 4}, b[2] = {0.5, -1}, y[2];
    linear_forward(NULL, 1, 2, 2, x, w, b, y);
    assert_true(y[0] == 5.5);
    assert_true(y[1] == 10.0);
}

static void test_linear_backward_matches_loop(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 12);
    double x[LN * LIN], w[LOUT * LIN], dy[LN * LOUT];
    double dw[LOUT * LIN], db[LOUT], dx[LN * LIN];
    double dw0[LOUT * LIN], db0[LOUT];
    fill_uniform(&r, x, LN * LIN, -2, 2);
    fill_uniform(&r, w, LOUT * LIN, -1, 1);
    fill_uniform(&r, dy, LN * LOUT, -1, 1);
    /* gradients accumulate: start from non-zero values */
    fill_uniform(&r, dw0, LOUT * LIN, -1, 1);
    fill_uniform(&r, db0, LOUT, -1, 1);
    memcpy(dw, dw0, sizeof dw);
    memcpy(db, db0, sizeof db);
    for (size_t i = 0; i < LN * LIN; i++)
        dx[i] = 12345.0; /* dx is overwritten, not added into */
    linear_backward(NULL, LN, LIN, LOUT, x, w, dy, dw, db, dx);
    for (int o = 0; o < LOUT; o++) {
        double sum = db0[o];
        for (int k = 0; k < LN; k++)
            sum += dy[k * LOUT + o];
        assert_true(fabs(db[o] - sum) < 1e-14);
        for (int i = 0; i < LIN; i++) {
            double g = dw0[o * LIN + i];
            for (int k = 0; k < LN; k++)
                g += dy[k * LOUT + o] * x[k * LIN + i];
            assert_true(fabs(dw[o * LIN + i] - g) < 1e-14);
        }
    }
    for (int k = 0; k < LN; k++)
        for (int i = 0; i < LIN; i++) {
            double g = 0;
            for (int o = 0; o < LOUT; o++)
                g += dy[k * LOUT + o] * w[o * LIN + i];
            assert_true(fabs(dx[k * LIN + i] - g) < 1e-14);
        }

    /* dx may be NULL: the parameter gradients still accumulate */
    double dw2[LOUT * LIN], db2[LOUT];
    memcpy(dw2, dw, sizeof dw2);
    memcpy(db2, db, sizeof db2);
    linear_backward(NULL, LN, LIN, LOUT, x, w, dy, dw2, db2, NULL);
    for (int o = 0; o < LOUT; o++) {
        assert_true(fabs(db2[o] - (2 * db[o] - db0[o])) < 1e-13);
        for (int i = 0; i < LIN; i++)
            assert_true(fabs(dw2[o * LIN + i] - (2 * dw[o * LIN + i] - dw0[o * LIN + i])) < 1e-13);
    }
}

struct linear_problem {
    double x[LN * LIN], w[LOUT * LIN], b[LOUT], c[LN * LOUT], y[LN * LOUT];
};

static double linear_objective(void *ctx)
{
    struct linear_problem *p = ctx;
    linear_forward(NULL, LN, LIN, LOUT, p->x, p->w, p->b, p->y);
    double s = 0;
    for (int i = 0; i < LN * LOUT; i++)
        s += p->c[i] * p->y[i];
    return s;
}

static void test_linear_gradient_fd(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 13);
    struct linear_problem p;
    fill_uniform(&r, p.x, LN * LIN, -2, 2);
    fill_uniform(&r, p.w, LOUT * LIN, -1, 1);
    fill_uniform(&r, p.b, LOUT, -1, 1);
    fill_uniform(&r, p.c, LN * LOUT, -1, 1);
    double dw[LOUT * LIN] = {0}, db[LOUT] = {0}, dx[LN * LIN];
    /* d(sum c*y)/dy = c */
    linear_backward(NULL, LN, LIN, LOUT, p.x, p.w, p.c, dw, db, dx);
    for (int i = 0; i < LN * LIN; i++)
        assert_true(tu_reldiff(fd_derivative(linear_objective, &p, &p.x[i]), dx[i], FD_FLOOR) <=
                    FD_TOLERANCE);
    for (int i = 0; i < LOUT * LIN; i++)
        assert_true(tu_reldiff(fd_derivative(linear_objective, &p, &p.w[i]), dw[i], FD_FLOOR) <=
                    FD_TOLERANCE);
    for (int i = 0; i < LOUT; i++)
        assert_true(tu_reldiff(fd_derivative(linear_objective, &p, &p.b[i]), db[i], FD_FLOOR) <=
                    FD_TOLERANCE);
}

/* ---- BatchNorm1d ----------------------------------------------------------------------------- */

static void test_batchnorm_train_known_values(void **state)
{
    (void)state;
    /* one feature, x = 1 2 3 4: mean 2.5, biased var 1.25, unbiased var 5/3 */
    double gamma = 2.0, beta = 0.5, rm = 0.0, rv = 1.0, tracked = 0.0;
    struct batchnorm bn = {1, &gamma, &beta, &rm, &rv, &tracked};
    double x[4] = {1, 2, 3, 4}, y[4], xhat[4], inv_std;
    assert_int_equal(batchnorm_forward_train(&bn, 4, x, y, xhat, &inv_std), FW_OK);
    double is = 1.0 / sqrt(1.25 + 1e-5);
    assert_true(fabs(inv_std - is) < 1e-15);
    for (int k = 0; k < 4; k++) {
        assert_true(fabs(xhat[k] - (x[k] - 2.5) * is) < 1e-15);
        assert_true(fabs(y[k] - (2.0 * (x[k] - 2.5) * is + 0.5)) < 1e-14);
    }
    /* PyTorch: running var uses the UNBIASED variance (0.9 + 0.1 * 5/3, not 0.9 + 0.1 * 1.25) */
    assert_true(fabs(rm - 0.25) < 1e-15);
    assert_true(fabs(rv - (0.9 + 0.1 * 5.0 / 3.0)) < 1e-15);
    assert_true(tracked == 1.0);

    /* a second batch compounds with momentum 0.1 */
    double x2[2] = {10, 14}; /* mean 12, unbiased var 8 */
    double y2[2], xhat2[2];
    assert_int_equal(batchnorm_forward_train(&bn, 2, x2, y2, xhat2, &inv_std), FW_OK);
    assert_true(fabs(rm - (0.9 * 0.25 + 0.1 * 12)) < 1e-14);
    assert_true(fabs(rv - (0.9 * (0.9 + 0.1 * 5.0 / 3.0) + 0.1 * 8)) < 1e-14);
    assert_true(tracked == 2.0);
    /* biased var of {10, 14} is 4: xhat = -+2/sqrt(4 + eps) */
    assert_true(fabs(xhat2[0] + 2.0 / sqrt(4.0 + 1e-5)) < 1e-15);
    assert_true(fabs(xhat2[1] - 2.0 / sqrt(4.0 + 1e-5)) < 1e-15);
}

enum { BN_N = 7, BN_F = 3 };

static void test_batchnorm_train_matches_loop(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 21);
    double x[BN_N * BN_F], gamma[BN_F], beta[BN_F], rm[BN_F], rv[BN_F], tracked = 5.0;
    double rm0[BN_F], rv0[BN_F];
    double y[BN_N * BN_F], xhat[BN_N * BN_F], inv_std[BN_F];
    /* features on different scales and offsets */
    for (int k = 0; k < BN_N; k++)
        for (int j = 0; j < BN_F; j++)
            x[k * BN_F + j] = (j + 1) * 3.0 * rng_normal(&r) + 10.0 * j;
    fill_uniform(&r, gamma, BN_F, 0.5, 1.5);
    fill_uniform(&r, beta, BN_F, -1, 1);
    fill_uniform(&r, rm0, BN_F, -1, 1);
    fill_uniform(&r, rv0, BN_F, 0.5, 2);
    memcpy(rm, rm0, sizeof rm);
    memcpy(rv, rv0, sizeof rv);
    struct batchnorm bn = {BN_F, gamma, beta, rm, rv, &tracked};
    assert_int_equal(batchnorm_forward_train(&bn, BN_N, x, y, xhat, inv_std), FW_OK);
    for (int j = 0; j < BN_F; j++) {
        double mean = 0, ss = 0;
        for (int k = 0; k < BN_N; k++)
            mean += x[k * BN_F + j];
        mean /= BN_N;
        for (int k = 0; k < BN_N; k++)
            ss += (x[k * BN_F + j] - mean) * (x[k * BN_F + j] - mean);
        double biased = ss / BN_N, unbiased = ss / (BN_N - 1);
        double is = 1.0 / sqrt(biased + 1e-5);
        assert_true(tu_reldiff(inv_std[j], is, 1e-12) < 1e-13);
        double ymean = 0, yvar = 0;
        for (int k = 0; k < BN_N; k++) {
            double xh = (x[k * BN_F + j] - mean) * is;
            assert_true(fabs(xhat[k * BN_F + j] - xh) < 1e-13);
            assert_true(fabs(y[k * BN_F + j] - (gamma[j] * xh + beta[j])) < 1e-13);
            ymean += y[k * BN_F + j];
        }
        ymean /= BN_N;
        for (int k = 0; k < BN_N; k++)
            yvar += (y[k * BN_F + j] - ymean) * (y[k * BN_F + j] - ymean);
        yvar /= BN_N;
        /* the output has mean beta and (nearly: eps) variance gamma^2 */
        assert_true(fabs(ymean - beta[j]) < 1e-12);
        assert_true(fabs(yvar - gamma[j] * gamma[j] * biased / (biased + 1e-5)) < 1e-12);
        assert_true(fabs(rm[j] - (0.9 * rm0[j] + 0.1 * mean)) < 1e-13);
        assert_true(fabs(rv[j] - (0.9 * rv0[j] + 0.1 * unbiased)) < 1e-12);
    }
    assert_true(tracked == 6.0);
}

static void test_batchnorm_refuses_single_sample(void **state)
{
    (void)state;
    double gamma = 1, beta = 0, rm = 0.25, rv = 1.5, tracked = 3;
    struct batchnorm bn = {1, &gamma, &beta, &rm, &rv, &tracked};
    double x[1] = {2}, y[1] = {-7}, xhat[1] = {-7}, inv_std = -7;
    assert_int_equal(batchnorm_forward_train(&bn, 1, x, y, xhat, &inv_std), FW_EINVAL);
    assert_int_equal(batchnorm_forward_train(&bn, 0, x, y, xhat, &inv_std), FW_EINVAL);
    /* nothing written, no statistics touched */
    assert_true(rm == 0.25 && rv == 1.5 && tracked == 3);
    assert_true(y[0] == -7 && xhat[0] == -7 && inv_std == -7);
}

static void test_batchnorm_eval_uses_running_stats(void **state)
{
    (void)state;
    double gamma[2] = {2.0, -0.5}, beta[2] = {1.0, 0.25};
    double rm[2] = {3.0, -1.0}, rv[2] = {4.0, 0.25}, tracked = 9;
    struct batchnorm bn = {2, gamma, beta, rm, rv, &tracked};
    double x[3 * 2] = {3.0, -1.0, 5.0, 0.0, -1.0, 2.0}, y[3 * 2];
    batchnorm_forward_eval(&bn, 3, x, y);
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 2; j++) {
            double expect = gamma[j] * (x[k * 2 + j] - rm[j]) / sqrt(rv[j] + 1e-5) + beta[j];
            assert_true(fabs(y[k * 2 + j] - expect) < 1e-14);
        }
    /* x equal to the running mean maps to beta, whatever the batch says */
    assert_true(fabs(y[0] - 1.0) < 1e-15 && fabs(y[1] - 0.25) < 1e-15);
    assert_true(fabs(y[2] - (2.0 * 2.0 / sqrt(4.00001) + 1.0)) < 1e-14);
    /* evaluation leaves the buffers alone, and works for a single sample */
    assert_true(rm[0] == 3.0 && rm[1] == -1.0 && rv[0] == 4.0 && rv[1] == 0.25 && tracked == 9);
    double one[2] = {7.0, 7.0}, yone[2];
    batchnorm_forward_eval(&bn, 1, one, yone);
    assert_true(fabs(yone[0] - (2.0 * 4.0 / sqrt(4.00001) + 1.0)) < 1e-14);
}

struct bn_problem {
    double x[BN_N * BN_F], gamma[BN_F], beta[BN_F], c[BN_N * BN_F];
    double y[BN_N * BN_F], xhat[BN_N * BN_F], inv_std[BN_F];
};

static double bn_objective(void *ctx)
{
    struct bn_problem *p = ctx;
    double rm[BN_F] = {0}, rv[BN_F] = {1, 1, 1}, tracked = 0; /* scratch buffers */
    struct batchnorm bn = {BN_F, p->gamma, p->beta, rm, rv, &tracked};
    if (batchnorm_forward_train(&bn, BN_N, p->x, p->y, p->xhat, p->inv_std) != FW_OK)
        return NAN;
    double s = 0;
    for (int i = 0; i < BN_N * BN_F; i++)
        s += p->c[i] * p->y[i];
    return s;
}

static void check_batchnorm_gradients(uint64_t seed, double x_scale)
{
    rng r;
    rng_seed(&r, seed);
    struct bn_problem p;
    for (int i = 0; i < BN_N * BN_F; i++)
        p.x[i] = x_scale * rng_normal(&r) + 0.3;
    fill_uniform(&r, p.gamma, BN_F, 0.5, 1.5);
    fill_uniform(&r, p.beta, BN_F, -1, 1);
    fill_uniform(&r, p.c, BN_N * BN_F, -1, 1);
    assert_false(isnan(bn_objective(&p)));

    double rm[BN_F] = {0}, rv[BN_F] = {1, 1, 1}, tracked = 0;
    struct batchnorm bn = {BN_F, p.gamma, p.beta, rm, rv, &tracked};
    double dgamma[BN_F], dbeta[BN_F], dx[BN_N * BN_F];
    double dgamma0[BN_F] = {0.5, -0.25, 1.0}, dbeta0[BN_F] = {-1.0, 0.75, 0.125};
    memcpy(dgamma, dgamma0, sizeof dgamma);
    memcpy(dbeta, dbeta0, sizeof dbeta);
    for (int i = 0; i < BN_N * BN_F; i++)
        dx[i] = 999.0;
    batchnorm_forward_train(&bn, BN_N, p.x, p.y, p.xhat, p.inv_std);
    batchnorm_backward(&bn, BN_N, p.c, p.xhat, p.inv_std, dgamma, dbeta, dx);

    for (int i = 0; i < BN_N * BN_F; i++) {
        double fd = fd_derivative(bn_objective, &p, &p.x[i]);
        assert_true(tu_reldiff(fd, dx[i], FD_FLOOR) <= FD_TOLERANCE);
    }
    for (int j = 0; j < BN_F; j++) {
        /* dgamma and dbeta were added into the starting values */
        double fdg = fd_derivative(bn_objective, &p, &p.gamma[j]);
        double fdb = fd_derivative(bn_objective, &p, &p.beta[j]);
        assert_true(tu_reldiff(fdg, dgamma[j] - dgamma0[j], FD_FLOOR) <= FD_TOLERANCE);
        assert_true(tu_reldiff(fdb, dbeta[j] - dbeta0[j], FD_FLOOR) <= FD_TOLERANCE);
    }
    /* the input gradient of a batch norm sums to zero per feature (shift invariance) */
    for (int j = 0; j < BN_F; j++) {
        double s = 0;
        for (int k = 0; k < BN_N; k++)
            s += dx[k * BN_F + j];
        assert_true(fabs(s) < 1e-10);
    }
}

static void test_batchnorm_gradient_fd(void **state)
{
    (void)state;
    check_batchnorm_gradients(31, 1.0);
    check_batchnorm_gradients(32, 0.05); /* eps matters more when the variance is small */
    check_batchnorm_gradients(33, 20.0);
}

/* ---- dropout --------------------------------------------------------------------------------- */

enum { DROP_N = 100000 };

static void test_dropout_fraction_and_scale(void **state)
{
    (void)state;
    static double x[DROP_N], mask[DROP_N];
    const double ps[3] = {0.1, 0.3, 0.5};
    for (int t = 0; t < 3; t++) {
        double p = ps[t];
        rng r;
        rng_seed(&r, 40 + (uint64_t)t);
        for (size_t i = 0; i < DROP_N; i++)
            x[i] = 1.0 + (double)(i % 7);
        dropout_forward(&r, p, DROP_N, x, mask);
        size_t dropped = 0;
        for (size_t i = 0; i < DROP_N; i++) {
            double orig = 1.0 + (double)(i % 7);
            if (mask[i] == 0.0) {
                dropped++;
                assert_true(x[i] == 0.0);
            } else {
                assert_true(mask[i] == 1.0 / (1.0 - p));
                assert_true(x[i] == orig * (1.0 / (1.0 - p)));
            }
        }
        /* sd of the fraction is sqrt(p(1-p)/n) < 0.0016: 0.01 is over six sd */
        double frac = (double)dropped / DROP_N;
        assert_true(fabs(frac - p) < 0.01);
    }
}

static void test_dropout_zero_probability_keeps_all(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 5);
    double x[100], mask[100];
    for (int i = 0; i < 100; i++)
        x[i] = i - 50.0;
    dropout_forward(&r, 0.0, 100, x, mask);
    for (int i = 0; i < 100; i++) {
        assert_true(mask[i] == 1.0);
        assert_true(x[i] == i - 50.0);
    }
}

static void test_dropout_seeded(void **state)
{
    (void)state;
    enum { N = 1000 };
    double xa[N], xb[N], xc[N], ma[N], mb[N], mc[N];
    for (int i = 0; i < N; i++)
        xa[i] = xb[i] = xc[i] = 1.0;
    rng a, b, c;
    rng_seed(&a, 77);
    rng_seed(&b, 77);
    rng_seed(&c, 78);
    dropout_forward(&a, 0.4, N, xa, ma);
    dropout_forward(&b, 0.4, N, xb, mb);
    dropout_forward(&c, 0.4, N, xc, mc);
    assert_memory_equal(ma, mb, sizeof ma);
    assert_memory_equal(xa, xb, sizeof xa);
    int differ = 0;
    for (int i = 0; i < N; i++)
        differ += (ma[i] == 0.0) != (mc[i] == 0.0);
    assert_true(differ > 100); /* two independent masks disagree on ~48% of places */
}

static void test_dropout_backward(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 9);
    enum { N = 64 };
    double x[N], mask[N], dx[N], dx0[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0;
    dropout_forward(&r, 0.25, N, x, mask);
    fill_uniform(&r, dx0, N, -1, 1);
    memcpy(dx, dx0, sizeof dx);
    dropout_backward(N, mask, dx);
    int zeros = 0;
    for (int i = 0; i < N; i++) {
        assert_true(dx[i] == dx0[i] * mask[i]);
        zeros += dx[i] == 0.0;
    }
    assert_true(zeros > 0 && zeros < N); /* the mask really dropped and kept some */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_forward_matches_loop),
        cmocka_unit_test(test_linear_forward_known_values),
        cmocka_unit_test(test_linear_backward_matches_loop),
        cmocka_unit_test(test_linear_gradient_fd),
        cmocka_unit_test(test_batchnorm_train_known_values),
        cmocka_unit_test(test_batchnorm_train_matches_loop),
        cmocka_unit_test(test_batchnorm_refuses_single_sample),
        cmocka_unit_test(test_batchnorm_eval_uses_running_stats),
        cmocka_unit_test(test_batchnorm_gradient_fd),
        cmocka_unit_test(test_dropout_fraction_and_scale),
        cmocka_unit_test(test_dropout_zero_probability_keeps_all),
        cmocka_unit_test(test_dropout_seeded),
        cmocka_unit_test(test_dropout_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
