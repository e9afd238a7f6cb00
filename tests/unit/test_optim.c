/* Tests for model/optim: Adam and AdamW against trajectories of PyTorch's update rule, Lion
 * against its reference update, the keras learning-rate decay and the linear, warmup and WSD
 * schedules, weight decay coupled and decoupled, and convergence on a quadratic. */
#include "testutil.h"
#include "base/error.h"
#include "model/optim.h"

#include <math.h>
#include <string.h>

enum { NP = 4, STEPS = 3 };

static const double start[NP] = {0.5, -1.0, 2.0, 0.0};
/* The third gradient is tiny, so eps (1e-8) dominates its denominator: a misplaced eps shows.
 * The fourth is zero: that parameter must not move (except by decoupled decay, which is 0). */
static const double grads[STEPS][NP] = {
    {0.3, -0.2, 1e-9, 0.0},
    {-0.1, -0.4, 2e-9, 0.0},
    {0.2, 0.5, -1e-9, 0.0},
};

/* The expected parameters after each step were computed, in doubles, by this transcription of
 * PyTorch's _single_tensor_adam (torch/optim/adam.py), with lr_k = lr / (1 + decay * k):
 *
 *     for k, g in enumerate(grads):
 *         lrk = lr / (1 + decay * k); t = k + 1
 *         if adamw: p *= 1 - lrk * wd
 *         elif wd:  g = g + wd * p
 *         m = m + (1 - 0.9) * (g - m)                # exp_avg.lerp_
 *         v = v * 0.999 + (1 - 0.999) * g * g
 *         denom = sqrt(v) / sqrt(1 - 0.999**t) + 1e-8
 *         p -= lrk / (1 - 0.9**t) * m / denom
 */
static const double adam_plain[STEPS][NP] = {
    {0.4900000003333333, -0.99000000050000003, 1.999090909090909, 0},
    {0.48599781479280807, -0.98034818054695394, 1.9977730037089718, 0},
    {0.47996695015761393, -0.98013862151227904, 1.9972525158594558, 0},
};
/* lr 0.01, decay 0.5: the steps use 0.01, 0.01/1.5, 0.01/2 */
static const double adam_decay[STEPS][NP] = {
    {0.4900000003333333, -0.99000000050000003, 1.999090909090909, 0},
    {0.48733187663964977, -0.9835654538646359, 1.9982123055029508, 0},
    {0.48431644432205267, -0.98346067434729845, 1.9979520615781929, 0},
};
/* AdamW, lr 0.01, decay 0.5, weight decay 0.1 */
static const double adamw_decay[STEPS][NP] = {
    {0.4895000003333333, -0.98900000049999992, 1.997090909090909, 0},
    {0.48650554330609419, -0.98190612053096904, 1.9948809115635568, 0},
    {0.48324685821684404, -0.98131038795336611, 1.9936232271830172, 0},
};
/* Adam, lr 0.01, no decay, weight decay 0.1 added to the gradient */
static const double adam_l2[STEPS][NP] = {
    {0.49000000028571428, -0.99000000033333335, 1.9900000005, 0},
    {0.48444301749677032, -0.98017039020183416, 1.9800013389536268, 0},
    {0.47725482552358767, -0.9775498437463247, 1.9700049129978365, 0},
};

/* Lion, by this transcription of the paper's reference lion_pytorch.py (betas 0.9, 0.99), with
 * the same lr_k; every step moves a parameter by lr_k exactly (the sign of a zero is 0), which
 * can be checked by hand: e.g. parameter 0's second step has c = 0.9 * 0.003 + 0.1 * -0.1 < 0.
 *
 *     for k, g in enumerate(grads):
 *         lrk = lr / (1 + decay * k)
 *         p *= 1 - lrk * wd
 *         c = 0.9 * m + (1 - 0.9) * g
 *         p -= lrk * sign(c)
 *         m = 0.99 * m + (1 - 0.99) * g
 */
static const double lion_plain[STEPS][NP] = {
    {0.49, -0.99, 1.99, 0},
    {0.5, -0.98, 1.98, 0},
    {0.49, -0.99, 1.99, 0},
};
/* Lion, lr 0.01, decay 0.5, weight decay 0.1 */
static const double lion_decay[STEPS][NP] = {
    {0.4895, -0.989, 1.988, 0},
    {0.49584033333333327, -0.9816739999999999, 1.980008, 0},
    {0.49059241316666663, -0.986183163, 1.984017996, 0},
};

static void check_trajectory(enum optim_kind kind, double lr, double decay, double wd,
                             const double expect[STEPS][NP])
{
    struct optim o;
    assert_int_equal(optim_init(&o, kind, NP, lr, decay, wd), FW_OK);
    assert_true(o.beta1 == 0.9 && o.beta2 == (kind == OPTIM_LION ? 0.99 : 0.999) && o.eps == 1e-8);
    double p[NP];
    memcpy(p, start, sizeof p);
    for (int s = 0; s < STEPS; s++) {
        optim_step(&o, p, grads[s]);
        assert_int_equal(o.steps, (uint64_t)s + 1);
        for (int i = 0; i < NP; i++) {
            /* |p| is at least 0.48 except the zero one, which must be exactly 0 */
            if (expect[s][i] == 0.0)
                assert_true(p[i] == 0.0);
            else if (tu_reldiff(p[i], expect[s][i], 1e-300) > 1e-13)
                fail_msg("step %d param %d: %.17g, expected %.17g", s + 1, i, p[i], expect[s][i]);
        }
    }
    optim_free(&o);
}

static void test_adam_trajectory(void **state)
{
    (void)state;
    check_trajectory(OPTIM_ADAM, 0.01, 0.0, 0.0, adam_plain);
}

static void test_adam_first_step_is_lr_sized(void **state)
{
    (void)state;
    /* bias correction makes the first step lr * g / (|g| + eps): about lr for |g| >> eps */
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 2, 0.05, 0.0, 0.0), FW_OK);
    double p[2] = {1.0, 1.0}, g[2] = {1e3, -1e-3};
    optim_step(&o, p, g);
    assert_true(fabs(p[0] - (1.0 - 0.05 * 1e3 / (1e3 + 1e-8))) < 1e-15);
    assert_true(fabs(p[1] - (1.0 + 0.05 * 1e-3 / (1e-3 + 1e-8))) < 1e-15);
    optim_free(&o);
}

static void test_keras_decay(void **state)
{
    (void)state;
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_ADAM, NP, 0.01, 0.5, 0.0), FW_OK);
    double p[NP];
    memcpy(p, start, sizeof p);
    /* k = steps already taken */
    assert_true(optim_current_lr(&o) == 0.01);
    optim_step(&o, p, grads[0]);
    assert_true(fabs(optim_current_lr(&o) - 0.01 / 1.5) < 1e-18);
    optim_step(&o, p, grads[1]);
    assert_true(fabs(optim_current_lr(&o) - 0.01 / 2.0) < 1e-18);
    optim_free(&o);
    check_trajectory(OPTIM_ADAM, 0.01, 0.5, 0.0, adam_decay);

    /* the paper's schedule: 2.5e-3 / (1 + 1e-6 k) */
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 1, 2.5e-3, 1e-6, 0.0), FW_OK);
    o.steps = 6600;
    assert_true(fabs(optim_current_lr(&o) - 2.5e-3 / 1.0066) < 1e-18);
    optim_free(&o);
}

static void test_adamw_decoupled(void **state)
{
    (void)state;
    check_trajectory(OPTIM_ADAMW, 0.01, 0.5, 0.1, adamw_decay);

    /* with zero gradients Adam's step is 0 / (0 + eps) = 0: only the decay acts,
     * p *= 1 - lr_k * wd, with the decayed lr_k */
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_ADAMW, 2, 0.1, 1.0, 0.5), FW_OK);
    double p[2] = {2.0, -4.0}, zero[2] = {0.0, 0.0};
    optim_step(&o, p, zero); /* lr 0.1 */
    optim_step(&o, p, zero); /* lr 0.05 */
    optim_step(&o, p, zero); /* lr 0.1/3 */
    double factor = (1 - 0.1 * 0.5) * (1 - 0.05 * 0.5) * (1 - 0.1 / 3 * 0.5);
    assert_true(fabs(p[0] - 2.0 * factor) < 1e-15);
    assert_true(fabs(p[1] + 4.0 * factor) < 1e-15);
    optim_free(&o);

    /* Adam with weight decay and zero gradients moves by a full Adam step instead */
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 2, 0.1, 0.0, 0.5), FW_OK);
    p[0] = 2.0;
    p[1] = -4.0;
    optim_step(&o, p, zero);
    assert_true(fabs(p[0] - (2.0 - 0.1)) < 1e-8);
    assert_true(fabs(p[1] - (-4.0 + 0.1)) < 1e-8);
    optim_free(&o);
}

/* AdamW by hand: a constant gradient g makes every bias-corrected m_hat = g and v_hat = g^2, so
 * each step is p = p (1 - lr wd) - lr g / (|g| + eps), the decay applied to the weights before
 * the Adam step (PyTorch's order), with the step's own (decayed) lr. */
static void test_adamw_by_hand(void **state)
{
    (void)state;
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_ADAMW, 2, 0.1, 1.0, 0.5), FW_OK);
    double p[2] = {1.0, -2.0}, g[2] = {2.0, -0.5};
    double e0 = 1.0, e1 = -2.0;
    for (int k = 0; k < 3; k++) {
        double lr = 0.1 / (1.0 + k); /* keras decay 1 */
        optim_step(&o, p, g);
        e0 = e0 * (1 - lr * 0.5) - lr * 2.0 / (2.0 + 1e-8);
        e1 = e1 * (1 - lr * 0.5) + lr * 0.5 / (0.5 + 1e-8);
        assert_true(fabs(p[0] - e0) < 1e-15 && fabs(p[1] - e1) < 1e-15);
    }
    /* 1 * 0.95 - 0.1 * 2/(2 + 1e-8), then * 0.975 - 0.05, then * (1 - 0.1/6) - 0.1/3 */
    assert_true(fabs(p[0] - ((0.85 * 0.975 - 0.05) * (1 - 0.1 / 6) - 0.1 / 3)) < 1e-8);
    optim_free(&o);
}

static void test_lion_trajectory(void **state)
{
    (void)state;
    check_trajectory(OPTIM_LION, 0.01, 0.0, 0.0, lion_plain);
    check_trajectory(OPTIM_LION, 0.01, 0.5, 0.1, lion_decay);

    /* a step is lr in every coordinate, whatever the gradient's size; zero gradients and a zero
     * moment leave the parameter to the decoupled decay alone */
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_LION, 3, 1e-3, 0.0, 2.0), FW_OK);
    double p[3] = {1.0, 1.0, 1.0}, g[3] = {1e-12, -1e6, 0.0};
    optim_step(&o, p, g);
    assert_true(p[0] == 1.0 * (1 - 2e-3) - 1e-3);
    assert_true(p[1] == 1.0 * (1 - 2e-3) + 1e-3);
    assert_true(p[2] == 1.0 * (1 - 2e-3));
    /* the moment is the slow average (beta2), the update's interpolation the fast one (beta1) */
    assert_true(o.m[1] == (1 - 0.99) * -1e6);
    assert_true(o.v[0] == 0.0 && o.v[1] == 0.0);
    optim_free(&o);
}

static void expect_lrs(struct optim *o, const double *expect, int n)
{
    double zero[1] = {0.0}, p[1] = {0.0};
    for (int k = 0; k < n; k++) {
        if (fabs(optim_current_lr(o) - expect[k]) > 1e-15)
            fail_msg("step %d: lr %.17g, expected %.17g", k, optim_current_lr(o), expect[k]);
        optim_step(o, p, zero);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    struct optim o;
    /* linear to 0.1 over 10 steps: 1 - 0.9 k / 10; the keras decay (0.5) is not applied */
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 1, 1.0, 0.5, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_LINEAR, 0.0, 0.2, 0.1, 10});
    const double linear[11] = {1, 0.91, 0.82, 0.73, 0.64, 0.55, 0.46, 0.37, 0.28, 0.19, 0.1};
    expect_lrs(&o, linear, 11); /* past the end: the final lr */
    optim_free(&o);

    /* linear with warmup 0.2 of 10 steps: 0.5, 1 over two steps, then 1 - 0.9 (k - 2) / 8 */
    assert_int_equal(optim_init(&o, OPTIM_ADAMW, 1, 2.0, 0.0, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_LINEAR, 0.2, 0.2, 0.0, 10});
    const double warm_linear[10] = {1.0, 2.0, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25};
    expect_lrs(&o, warm_linear, 10);
    optim_free(&o);

    /* wsd, warmup 0.2, decay 0.4 of 10 steps, to 0.1: warm 2 steps, stable 4, then 1 - sqrt */
    assert_int_equal(optim_init(&o, OPTIM_LION, 1, 1.0, 0.0, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_WSD, 0.2, 0.4, 0.1, 10});
    const double wsd[11] = {
        0.5, 1, 1, 1, 1, 1, 1, 0.55, 0.1 + 0.9 * (1 - sqrt(0.5)), 0.1 + 0.9 * (1 - sqrt(0.75)),
        0.1};
    expect_lrs(&o, wsd, 11);
    optim_free(&o);

    /* the keras decay with a warmup of 3 of 12 steps: (k + 1) / 3 * lr / (1 + decay k) */
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 1, 1.0, 0.5, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_CONSTANT, 0.25, 0.2, 0.0, 12});
    const double warm_keras[5] = {1.0 / 3, 2.0 / 3 / 1.5, 1.0 / 2.0, 1.0 / 2.5, 1.0 / 3.0};
    expect_lrs(&o, warm_keras, 5);
    optim_free(&o);

    /* no total step count: no warmup, and linear and wsd stay at lr */
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 1, 1.0, 0.5, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_WSD, 0.5, 0.5, 0.0, 0});
    const double flat[3] = {1, 1, 1};
    expect_lrs(&o, flat, 3);
    optim_free(&o);
}

/* The schedule is what the step uses: Lion moves a parameter by exactly lr_k a step. */
static void test_schedule_drives_the_step(void **state)
{
    (void)state;
    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_LION, 1, 0.5, 0.0, 0.0), FW_OK);
    optim_set_plan(&o, &(struct lr_plan){LR_WSD, 0.25, 0.5, 0.0, 8});
    double p[1] = {0.0}, g[1] = {-1.0}, sum = 0.0;
    for (int k = 0; k < 8; k++) {
        sum += optim_current_lr(&o);
        optim_step(&o, p, g);
    }
    /* warm 0.25, 0.5; stable 0.5, 0.5; decay 0.5 (1 - sqrt(q)), q = 0, 1/4, 2/4, 3/4 */
    double expect = 0.25 + 0.5 * 3 + 0.5 * (1 + 0.5 + (1 - sqrt(0.5)) + (1 - sqrt(0.75)));
    assert_true(fabs(sum - expect) < 1e-15);
    assert_true(fabs(p[0] - expect) < 1e-15);
    optim_free(&o);
}

static void test_adam_weight_decay_in_gradient(void **state)
{
    (void)state;
    check_trajectory(OPTIM_ADAM, 0.01, 0.0, 0.1, adam_l2);

    /* the same as plain Adam fed g + wd * p */
    struct optim a, b;
    assert_int_equal(optim_init(&a, OPTIM_ADAM, NP, 0.01, 0.0, 0.1), FW_OK);
    assert_int_equal(optim_init(&b, OPTIM_ADAM, NP, 0.01, 0.0, 0.0), FW_OK);
    double pa[NP], pb[NP], g[NP];
    memcpy(pa, start, sizeof pa);
    memcpy(pb, start, sizeof pb);
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < NP; i++)
            g[i] = grads[s][i] + 0.1 * pb[i];
        optim_step(&a, pa, grads[s]);
        optim_step(&b, pb, g);
        assert_memory_equal(pa, pb, sizeof pa);
    }
    optim_free(&a);
    optim_free(&b);
}

static void test_converges_on_quadratic(void **state)
{
    (void)state;
    /* f(p) = sum a_i (p_i - t_i)^2 with curvatures over three decades */
    enum { N = 5 };
    const double a[N] = {0.1, 1.0, 10.0, 100.0, 3.0};
    const double target[N] = {1.0, -2.0, 0.5, 3.0, -0.25};
    double p[N] = {0}, g[N];
    const enum optim_kind kinds[2] = {OPTIM_ADAM, OPTIM_ADAMW};
    for (int k = 0; k < 2; k++) {
        struct optim o;
        assert_int_equal(optim_init(&o, kinds[k], N, 0.05, 1e-3, 0.0), FW_OK);
        if (k == 1) /* and with a schedule: warmup, then linear decay to 1% */
            optim_set_plan(&o, &(struct lr_plan){LR_LINEAR, 0.05, 0.2, 0.01, 5000});
        memset(p, 0, sizeof p);
        double f0 = 0;
        for (int i = 0; i < N; i++)
            f0 += a[i] * target[i] * target[i];
        for (int s = 0; s < 5000; s++) {
            for (int i = 0; i < N; i++)
                g[i] = 2 * a[i] * (p[i] - target[i]);
            optim_step(&o, p, g);
        }
        double f = 0;
        for (int i = 0; i < N; i++) {
            f += a[i] * (p[i] - target[i]) * (p[i] - target[i]);
            assert_true(fabs(p[i] - target[i]) < 1e-3);
        }
        assert_true(f < 1e-8 * f0);
        optim_free(&o);
    }
}

static void test_kind_parse_and_free(void **state)
{
    (void)state;
    enum optim_kind k = OPTIM_ADAM;
    assert_int_equal(optim_kind_parse("adamw", &k), FW_OK);
    assert_int_equal(k, OPTIM_ADAMW);
    assert_int_equal(optim_kind_parse("adam", &k), FW_OK);
    assert_int_equal(k, OPTIM_ADAM);
    assert_int_equal(optim_kind_parse("lion", &k), FW_OK);
    assert_int_equal(k, OPTIM_LION);
    k = OPTIM_ADAMW;
    assert_int_equal(optim_kind_parse("Adam", &k), FW_EINVAL);
    assert_int_equal(optim_kind_parse("sgd", &k), FW_EINVAL);
    assert_int_equal(optim_kind_parse("", &k), FW_EINVAL);
    assert_int_equal(optim_kind_parse(NULL, &k), FW_EINVAL);
    assert_int_equal(k, OPTIM_ADAMW);

    enum lr_schedule sc = LR_CONSTANT;
    assert_int_equal(lr_schedule_parse("wsd", &sc), FW_OK);
    assert_int_equal(sc, LR_WSD);
    assert_int_equal(lr_schedule_parse("linear", &sc), FW_OK);
    assert_int_equal(sc, LR_LINEAR);
    assert_int_equal(lr_schedule_parse("constant", &sc), FW_OK);
    assert_int_equal(sc, LR_CONSTANT);
    assert_int_equal(lr_schedule_parse("cosine", &sc), FW_EINVAL);
    assert_int_equal(lr_schedule_parse("WSD", &sc), FW_EINVAL);
    assert_int_equal(lr_schedule_parse(NULL, &sc), FW_EINVAL);
    assert_int_equal(sc, LR_CONSTANT);

    struct optim o;
    assert_int_equal(optim_init(&o, OPTIM_ADAM, 0, 0.01, 0.0, 0.0), FW_OK);
    optim_step(&o, NULL, NULL); /* nothing to update */
    assert_int_equal(o.steps, 1);
    optim_free(&o);
    optim_free(&o); /* twice is harmless */
    optim_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_trajectory),
        cmocka_unit_test(test_adam_first_step_is_lr_sized),
        cmocka_unit_test(test_keras_decay),
        cmocka_unit_test(test_adamw_decoupled),
        cmocka_unit_test(test_adamw_by_hand),
        cmocka_unit_test(test_lion_trajectory),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_schedule_drives_the_step),
        cmocka_unit_test(test_adam_weight_decay_in_gradient),
        cmocka_unit_test(test_converges_on_quadratic),
        cmocka_unit_test(test_kind_parse_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
