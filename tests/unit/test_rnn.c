/* Tests for model/rnn: the parameter count of the chosen structure (paper.md §5, docs/MODELS.md),
 * PyTorch names and initialisation, gradients of every parameter by central differences (with and
 * without the BatchNorm/dropout path, across several chunks), thread-count invariance,
 * deterministic evaluation, and a short training run that learns. */
#include "model_harness.h"
#include "model/rnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "rnn"

/* h^2 + (2 + recurrent_bias) h + (batchnorm ? 2h : 0) + horizon (h + 1) */
static size_t rnn_count(long h, int recurrent_bias, int bn, long horizon)
{
    return (size_t)(h * h + (2 + recurrent_bias) * h + (bn ? 2 * h : 0) + horizon * (h + 1));
}

static void test_parameter_counts(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err;
    assert_int_equal(model_create(ARCH, "", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 11519); /* h = 59, one bias: rounds to the paper's 11.5k */
    assert_int_equal(m->n_buffers, 0);
    assert_int_equal(m->window, 528);
    assert_int_equal(m->horizon, 132);
    const struct tensor_info *t = model_tensor(m, "rnn.weight_hh_l0");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 59);
    assert_int_equal(t->shape[1], 59);
    t = model_tensor(m, "rnn.weight_ih_l0");
    assert_int_equal(t->shape[0], 59);
    assert_int_equal(t->shape[1], 1);
    assert_int_equal(model_tensor(m, "rnn.bias_ih_l0")->kind, TENSOR_TRAINED);
    /* PyTorch's second bias is exported as a frozen zero */
    t = model_tensor(m, "rnn.bias_hh_l0");
    assert_int_equal(t->kind, TENSOR_CONST);
    assert_true(t->fill == 0.0);
    assert_null(model_tensor(m, "batch_norm.weight"));
    t = model_tensor(m, "output_layer.weight");
    assert_int_equal(t->shape[0], 132);
    assert_int_equal(t->shape[1], 59);
    model_destroy(m);
    /* the alternatives of docs/MODELS.md */
    assert_int_equal(model_create(ARCH, "hidden=58;recurrent_bias=1;batchnorm=1", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 11442);
    assert_int_equal(model_tensor(m, "rnn.bias_hh_l0")->kind, TENSOR_TRAINED);
    assert_int_equal(model_tensor(m, "batch_norm.running_var")->kind, TENSOR_BUFFER);
    model_destroy(m);
    assert_int_equal(model_create(ARCH, "recurrent_bias=1", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 11578);
    model_destroy(m);
    long sizes[] = {1, 7, 100};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int rb = 0; rb < 2; rb++)
            for (int bn = 0; bn < 2; bn++) {
                char cfg[96];
                long h = sizes[i];
                snprintf(cfg, sizeof cfg, "hidden=%ld;recurrent_bias=%d;batchnorm=%d;horizon=9", h,
                         rb, bn);
                assert_int_equal(model_create(ARCH, cfg, 0, &m, &err), 0);
                assert_int_equal(m->n_params, rnn_count(h, rb, bn, 9));
                model_destroy(m);
            }
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
    /* PyTorch's RNN init: U(-1/sqrt(h), 1/sqrt(h)) everywhere, spread over the range */
    size_t n_cell = 16 * 18;
    double lo = 1, hi = -1;
    for (size_t k = 0; k < n_cell; k++) {
        assert_true(fabs(a->params[k]) <= 0.25);
        lo = fmin(lo, a->params[k]), hi = fmax(hi, a->params[k]);
    }
    assert_true(lo < -0.24 && hi > 0.24);
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
 * (nn.RNN, BatchNorm1d, Linear): every parameter p[k] = 0.5 sin(0.37k + 0.1) in tensor order,
 * running mean 0.01j and variance 1 + 0.1j, input x_t = 0.3 + 0.2 cos(0.9t), evaluation mode. */
static void known_answer_bn(void)
{
    struct model *m = NULL;
    assert_int_equal(
        model_create(ARCH, "window=4;horizon=2;hidden=3;recurrent_bias=1;batchnorm=1", 0, &m, NULL),
        0);
    for (size_t k = 0; k < m->n_params; k++)
        m->params[k] = 0.5 * sin(0.37 * (double)k + 0.1);
    double *rm = model_tensor_data(m, "batch_norm.running_mean");
    double *rv = model_tensor_data(m, "batch_norm.running_var");
    for (int j = 0; j < 3; j++) {
        rm[j] = 0.01 * j;
        rv[j] = 1 + 0.1 * j;
    }
    model_params_changed(m);
    double x[4], out[2];
    for (int t = 0; t < 4; t++)
        x[t] = 0.3 + 0.2 * cos(0.9 * t);
    size_t start = 0;
    struct model_batch b = {x, NULL, &start, 1};
    assert_int_equal(model_forward(m, &b, 0, NULL, out), 0);
    const double expected[2] = {-0.4745490825458945, -0.7660194737582706};
    for (int j = 0; j < 2; j++)
        assert_true(tu_reldiff(out[j], expected[j], 1e-12) < 1e-12);
    model_destroy(m);
}

/* the default structure: one bias, no BatchNorm */
static void known_answer_default(void)
{
    struct model *m = NULL;
    assert_int_equal(model_create(ARCH, "window=4;horizon=2;hidden=3", 0, &m, NULL), 0);
    for (size_t k = 0; k < m->n_params; k++)
        m->params[k] = 0.5 * sin(0.37 * (double)k + 0.1);
    model_params_changed(m);
    double x[4], out[2];
    for (int t = 0; t < 4; t++)
        x[t] = 0.3 + 0.2 * cos(0.9 * t);
    size_t start = 0;
    struct model_batch b = {x, NULL, &start, 1};
    assert_int_equal(model_forward(m, &b, 0, NULL, out), 0);
    const double expected[2] = {0.8407727203979565, -0.015192434254756082};
    for (int j = 0; j < 2; j++)
        assert_true(tu_reldiff(out[j], expected[j], 1e-12) < 1e-12);
    model_destroy(m);
}

static void test_known_answer(void **state)
{
    (void)state;
    known_answer_bn();
    known_answer_default();
}

/* A small configuration; 20 windows make three chunks. */
#define SMALL_DIMS "window=7;horizon=4;hidden=3"
#define SMALL      SMALL_DIMS ";dropout=0.3;batchnorm=1;recurrent_bias=1"

static const struct harness_shape SHAPE = {.n_series = 64, .n_windows = 20};

static void test_model_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL, 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL_DIMS ";dropout=0", 5);
    /* the default: one bias, no BatchNorm, dropout */
    harness_check_gradients(&SHAPE, ARCH, SMALL_DIMS, 5);
    harness_check_gradients(&SHAPE, ARCH, "window=3;horizon=4;hidden=5;dropout=0.1", 5);
    harness_check_gradients(&SHAPE, ARCH, "window=1;horizon=4;hidden=2", 5);
}

static void test_threads_give_identical_results(void **state)
{
    (void)state;
    harness_check_threads(&SHAPE, ARCH, "window=7;horizon=4;hidden=9", 11,
                          HARNESS_BUFFERS | HARNESS_EVAL);
}

static void test_eval_is_deterministic(void **state)
{
    (void)state;
    harness_check_eval(&SHAPE, ARCH, SMALL, 3);
}

static void test_training_learns(void **state)
{
    (void)state;
    harness_check_learns(ARCH, "window=24;horizon=6;hidden=8");
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
