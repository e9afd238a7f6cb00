/* Tests for model/lstm: the paper's parameter counts (paper.md §5), PyTorch names and
 * initialisation, gradients of every parameter by central differences (with and without the
 * BatchNorm/dropout path, across several chunks), thread-count invariance, deterministic
 * evaluation, and a short training run that learns. */
#include "testutil.h"
#include "model/loss.h"
#include "model/lstm.h"
#include "model/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "lstm"

static size_t lstm_count(long h, long horizon)
{
    return (size_t)(4 * h * h + 14 * h + horizon * h + horizon);
}

static void test_parameter_counts(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err;
    assert_int_equal(model_create(ARCH, "", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 25860); /* paper.md §5: 25.9k */
    assert_int_equal(m->window, 528);
    assert_int_equal(m->horizon, 132);
    const struct tensor_info *t = model_tensor(m, "lstm.weight_hh_l0");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 256);
    assert_int_equal(t->shape[1], 64);
    t = model_tensor(m, "lstm.weight_ih_l0");
    assert_int_equal(t->shape[0], 256);
    assert_int_equal(t->shape[1], 1);
    assert_non_null(model_tensor(m, "lstm.bias_ih_l0"));
    assert_non_null(model_tensor(m, "lstm.bias_hh_l0"));
    assert_int_equal(model_tensor(m, "batch_norm.running_mean")->kind, TENSOR_BUFFER);
    t = model_tensor(m, "output_layer.weight");
    assert_int_equal(t->shape[0], 132);
    assert_int_equal(t->shape[1], 64);
    model_destroy(m);

    assert_int_equal(model_create(ARCH, "hidden=132", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 89100); /* paper.md §5: 89.1k */
    model_destroy(m);
    /* P(h) = 4h^2 + 146h + 132 for horizon 132, and the general form for any horizon */
    long sizes[] = {1, 7, 96, 128};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "hidden=%ld", sizes[i]);
        assert_int_equal(model_create(ARCH, cfg, 0, &m, &err), 0);
        long h = sizes[i];
        assert_int_equal(m->n_params, (size_t)(4 * h * h + 146 * h + 132));
        model_destroy(m);
    }
    assert_int_equal(model_create(ARCH, "hidden=10;horizon=12;batchnorm=0", 0, &m, &err), 0);
    assert_int_equal(m->n_params, lstm_count(10, 12) - 20);
    assert_null(model_tensor(m, "batch_norm.weight"));
    assert_int_equal(m->n_buffers, 0);
    model_destroy(m);
}

static void test_initialisation(void **state)
{
    (void)state;
    struct model *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(model_create(ARCH, "hidden=16", 7, &a, NULL), 0);
    assert_int_equal(model_create(ARCH, "hidden=16", 7, &b, NULL), 0);
    assert_int_equal(model_create(ARCH, "hidden=16", 8, &c, NULL), 0);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(double));
    assert_memory_not_equal(a->params, c->params, a->n_params * sizeof(double));
    /* PyTorch's LSTM init: U(-1/sqrt(h), 1/sqrt(h)) everywhere, spread over the range */
    size_t n_cell = lstm_layer_param_count(1, 16);
    double lo = 1, hi = -1;
    for (size_t k = 0; k < n_cell; k++) {
        assert_true(fabs(a->params[k]) <= 0.25);
        lo = fmin(lo, a->params[k]), hi = fmax(hi, a->params[k]);
    }
    assert_true(lo < -0.24 && hi > 0.24);
    assert_true(model_tensor_data(a, "batch_norm.weight")[3] == 1.0);
    assert_true(model_tensor_data(a, "batch_norm.bias")[3] == 0.0);
    assert_true(model_tensor_data(a, "batch_norm.running_var")[5] == 1.0);
    const double *wo = model_tensor_data(a, "output_layer.weight");
    for (int k = 0; k < 132 * 16; k++)
        assert_true(fabs(wo[k]) <= 0.25);
    model_destroy(a), model_destroy(b), model_destroy(c);
    fw_error err;
    assert_int_not_equal(model_create(ARCH, "hidden=0", 0, &a, &err), 0);
    assert_non_null(strstr(err.msg, "hidden"));
    assert_int_not_equal(model_create(ARCH, "hiden=5", 0, &a, &err), 0);
    assert_non_null(strstr(err.msg, "hiden"));
}

/* Known answer, against an independent plain-Python implementation of PyTorch's semantics
 * (nn.LSTM, BatchNorm1d, Linear): every parameter p[k] = 0.5 sin(0.37k + 0.1) in tensor order,
 * running mean 0.01j and variance 1 + 0.1j, input x_t = 0.3 + 0.2 cos(0.9t), evaluation mode. */
static void test_known_answer(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create(ARCH, "window=5;horizon=3;hidden=2", 0, &m, NULL), 0);
    for (size_t k = 0; k < m->n_params; k++)
        m->params[k] = 0.5 * sin(0.37 * (double)k + 0.1);
    double *rm = model_tensor_data(m, "batch_norm.running_mean");
    double *rv = model_tensor_data(m, "batch_norm.running_var");
    for (int j = 0; j < 2; j++) {
        rm[j] = 0.01 * j;
        rv[j] = 1 + 0.1 * j;
    }
    model_params_changed(m);
    double x[5], out[3];
    for (int t = 0; t < 5; t++)
        x[t] = 0.3 + 0.2 * cos(0.9 * t);
    size_t start = 0;
    struct model_batch b = {x, NULL, &start, 1};
    assert_int_equal(model_forward(m, &b, 0, NULL, out), 0);
    const double expected[3] = {-0.07407817734963179, 0.11055866861623652, 0.2606591090919767};
    for (int j = 0; j < 3; j++)
        assert_true(tu_reldiff(out[j], expected[j], 1e-12) < 1e-12);
    model_destroy(m);
}

/* A small configuration; 20 windows make three chunks. */
#define SMALL_DIMS "window=7;horizon=4;hidden=3"
#define SMALL      SMALL_DIMS ";dropout=0.3"
#define N_SERIES   64
#define N_WIN      20
#define WINDOW     7
#define HORIZON    4

struct harness {
    struct model *m;
    double series[N_SERIES];
    size_t starts[N_WIN];
    struct model_batch batch;
    double out[N_WIN * HORIZON];
};

static void harness_init(struct harness *h, const char *config, uint64_t seed)
{
    assert_int_equal(model_create(ARCH, config, seed, &h->m, NULL), 0);
    rng r;
    rng_seed(&r, seed + 100);
    for (int k = 0; k < N_SERIES; k++)
        h->series[k] = rng_uniform(&r);
    for (size_t k = 0; k < N_WIN; k++)
        h->starts[k] = (k * 37) % (N_SERIES - WINDOW - HORIZON);
    h->batch = (struct model_batch){h->series, h->series, h->starts, N_WIN};
}

static double harness_loss(struct harness *h, struct pool *pool, double *grad_out)
{
    struct model_run run = {pool, {{0}}};
    rng_seed(&run.dropout, 99); /* the same dropout mask on every call */
    assert_int_equal(model_forward(h->m, &h->batch, 1, &run, h->out), 0);
    double target[N_WIN * HORIZON], dout[N_WIN * HORIZON];
    for (size_t k = 0; k < N_WIN; k++)
        for (int j = 0; j < HORIZON; j++)
            target[k * HORIZON + j] = h->series[h->starts[k] + WINDOW + j];
    double loss = loss_peak_mse(N_WIN * HORIZON, h->out, target, 1.0, dout);
    if (grad_out) {
        model_zero_grad(h->m);
        assert_int_equal(model_backward(h->m, &run, dout), 0);
        memcpy(grad_out, h->m->grads, h->m->n_params * sizeof(double));
    }
    return loss;
}

static void check_model_gradients(const char *config)
{
    struct harness h;
    harness_init(&h, config, 5);
    struct model *m = h.m;
    double *grad = malloc(m->n_params * sizeof(double));
    harness_loss(&h, NULL, grad);
    /* fourth-order central differences, as in test_gqkan_fwp */
    const double step = 3e-4;
    size_t failures = 0;
    for (size_t k = 0; k < m->n_params; k++) {
        double keep = m->params[k], f[4];
        const double offsets[4] = {-2, -1, 1, 2};
        for (int s = 0; s < 4; s++) {
            m->params[k] = keep + offsets[s] * step;
            model_params_changed(m);
            f[s] = harness_loss(&h, NULL, NULL);
        }
        m->params[k] = keep;
        model_params_changed(m);
        double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * step);
        if (tu_reldiff(fd, grad[k], 1e-4) >= 1e-6) {
            print_error("%s: param %zu: fd %.12g analytic %.12g\n", config, k, fd, grad[k]);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    free(grad);
    model_destroy(m);
}

static void test_model_gradients(void **state)
{
    (void)state;
    check_model_gradients(SMALL);
    check_model_gradients(SMALL_DIMS ";batchnorm=0;dropout=0");
    check_model_gradients("window=3;horizon=4;hidden=5;dropout=0.1");
    check_model_gradients("window=1;horizon=4;hidden=2");
}

static void test_threads_give_identical_results(void **state)
{
    (void)state;
    struct harness h1, h2;
    harness_init(&h1, "window=7;horizon=4;hidden=8", 11);
    harness_init(&h2, "window=7;horizon=4;hidden=8", 11);
    struct pool *pool = NULL;
    assert_int_equal(pool_create(2, &pool), 0);
    double *g1 = malloc(h1.m->n_params * sizeof(double));
    double *g2 = malloc(h2.m->n_params * sizeof(double));
    double l1 = harness_loss(&h1, NULL, g1);
    double l2 = harness_loss(&h2, pool, g2);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(h1.out, h2.out, sizeof h1.out);
    assert_memory_equal(g1, g2, h1.m->n_params * sizeof(double));
    assert_memory_equal(h1.m->buffers, h2.m->buffers, h1.m->n_buffers * sizeof(double));
    /* evaluation too */
    assert_int_equal(model_forward(h1.m, &h1.batch, 0, NULL, h1.out), 0);
    struct model_run run = {pool, {{0}}};
    assert_int_equal(model_forward(h2.m, &h2.batch, 0, &run, h2.out), 0);
    assert_memory_equal(h1.out, h2.out, sizeof h1.out);
    pool_destroy(pool);
    free(g1), free(g2);
    model_destroy(h1.m), model_destroy(h2.m);
}

static void test_eval_is_deterministic(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h, SMALL, 3);
    double out1[N_WIN * HORIZON], out2[N_WIN * HORIZON];
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, out1), 0);
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, out2), 0);
    assert_memory_equal(out1, out2, sizeof out1);
    /* no dropout and running statistics: a window's forecast is its own, up to rounding */
    struct model_batch one = {h.series, NULL, &h.starts[2], 1};
    assert_int_equal(model_forward(h.m, &one, 0, NULL, out2), 0);
    for (int j = 0; j < HORIZON; j++)
        assert_true(tu_reldiff(out1[2 * HORIZON + j], out2[j], 1e-12) < 1e-12);
    /* training forwards differ (batch statistics, dropout) and need two windows */
    struct model_run run = {NULL, {{0}}};
    assert_int_not_equal(model_forward(h.m, &one, 1, &run, out2), 0);
    /* backward without a training forward is refused */
    assert_int_not_equal(model_backward(h.m, &run, out1), 0);
    model_destroy(h.m);
}

#define N_MONTHS 220

static void test_training_learns(void **state)
{
    (void)state;
    double values[N_MONTHS];
    rng r;
    rng_seed(&r, 77);
    for (int t = 0; t < N_MONTHS; t++)
        values[t] = 60 + 50 * sin(2 * M_PI * t / 40.0) + 5 * rng_normal(&r);
    struct split_plan plan;
    assert_int_equal(
        series_prepare(values, N_MONTHS, 1800 * 12, PROTOCOL_PAPER, -1, 24, 6, &plan, NULL), 0);
    struct train_options o;
    train_options_default(&o);
    o.epochs = 12;
    o.batch_size = 16;
    o.threads = 2;
    o.lr = 1e-2;
    struct model *m = NULL;
    assert_int_equal(model_create(ARCH, "window=24;horizon=6;hidden=8", 1, &m, NULL), 0);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(s.epochs_done, 12);
    assert_true(s.curve[11].train_loss < 0.5 * s.curve[0].train_loss);
    assert_true(s.best_val < s.curve[0].val_loss);
    train_state_free(&s);
    model_destroy(m);
    series_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts),
        cmocka_unit_test(test_initialisation),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_model_gradients),
        cmocka_unit_test(test_threads_give_identical_results),
        cmocka_unit_test(test_eval_is_deterministic),
        cmocka_unit_test(test_training_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
