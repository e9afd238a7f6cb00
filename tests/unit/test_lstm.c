/* Tests for model/lstm: the paper's parameter counts (paper.md §5), PyTorch names and
 * initialisation, gradients of every parameter by central differences (with and without the
 * BatchNorm/dropout path, across several chunks), thread-count invariance, deterministic
 * evaluation, and a short training run that learns. */
#include "model_harness.h"
#include "model/lstm.h"

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

static const struct harness_shape SHAPE = {.n_series = 64, .n_windows = 20};

static void test_model_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL, 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL_DIMS ";batchnorm=0;dropout=0", 5);
    harness_check_gradients(&SHAPE, ARCH, "window=3;horizon=4;hidden=5;dropout=0.1", 5);
    harness_check_gradients(&SHAPE, ARCH, "window=1;horizon=4;hidden=2", 5);
}

static void test_threads_give_identical_results(void **state)
{
    (void)state;
    harness_check_threads(&SHAPE, ARCH, "window=7;horizon=4;hidden=8", 11,
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
