/* Tests for model/wavenet_lstm: the parameter count at the defaults and its formula
 * (docs/MODELS.md), PyTorch names, shapes and initialisation, gradients of every parameter by
 * central differences (with and without the BatchNorm/dropout path, across several chunks),
 * thread-count invariance, deterministic evaluation, and a short training run that learns. */
#include "model_harness.h"
#include "model/wavenet_lstm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "wavenet-lstm"

/* 2C + B (2 C^2 K + 2C + S C + S) + (B-1)(C^2 + C) + 4h (S + h + 2) + 2h + horizon (h + 1) */
static size_t wavenet_count(long C, long S, long B, long K, long h, long horizon, int bn)
{
    return (size_t)(2 * C + B * (2 * C * C * K + 2 * C + S * C + S) + (B - 1) * (C * C + C) +
                    4 * h * (S + h + 2) + (bn ? 2 * h : 0) + horizon * (h + 1));
}

static void test_parameter_counts(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err;
    assert_int_equal(model_create(ARCH, "", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 167272); /* the paper's 167k */
    assert_int_equal(m->n_params, wavenet_count(32, 32, 6, 2, 150, 132, 1));
    assert_int_equal(m->window, 528);
    assert_int_equal(m->horizon, 132);
    const struct tensor_info *t = model_tensor(m, "wavenet.blocks.3.dilated_conv.weight");
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[0], 64);
    assert_int_equal(t->shape[1], 32);
    assert_int_equal(t->shape[2], 2);
    t = model_tensor(m, "wavenet.blocks.5.skip_conv.weight");
    assert_int_equal(t->shape[0], 32);
    assert_int_equal(t->shape[1], 32);
    assert_int_equal(t->shape[2], 1);
    assert_non_null(model_tensor(m, "wavenet.blocks.4.residual_conv.weight"));
    assert_null(model_tensor(m, "wavenet.blocks.5.residual_conv.weight")); /* feeds nothing */
    t = model_tensor(m, "lstm.weight_ih_l0");
    assert_int_equal(t->shape[0], 600);
    assert_int_equal(t->shape[1], 32);
    t = model_tensor(m, "output_layer.weight");
    assert_int_equal(t->shape[0], 132);
    assert_int_equal(t->shape[1], 150);
    /* the tensors tile params in order */
    size_t at = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        if (m->tensors[i].kind != TENSOR_TRAINED)
            continue;
        assert_int_equal(m->tensors[i].offset, at);
        size_t n = 1;
        for (int d = 0; d < m->tensors[i].ndim; d++)
            n *= (size_t)m->tensors[i].shape[d];
        at += n;
    }
    assert_int_equal(at, m->n_params);
    model_destroy(m);
    assert_int_equal(model_create(ARCH,
                                  "channels=5;skip_channels=7;blocks=3;kernel=3;hidden=11;"
                                  "horizon=9;batchnorm=0",
                                  0, &m, &err),
                     0);
    assert_int_equal(m->n_params, wavenet_count(5, 7, 3, 3, 11, 9, 0));
    assert_int_equal(m->n_buffers, 0);
    model_destroy(m);
    assert_int_equal(model_create(ARCH, "blocks=1", 0, &m, &err), 0);
    assert_int_equal(m->n_params, wavenet_count(32, 32, 1, 2, 150, 132, 1));
    model_destroy(m);
}

static void test_initialisation(void **state)
{
    (void)state;
    struct model *a = NULL, *b = NULL, *c = NULL;
    const char *cfg = "channels=8;skip_channels=4;hidden=16";
    assert_int_equal(model_create(ARCH, cfg, 7, &a, NULL), 0);
    assert_int_equal(model_create(ARCH, cfg, 7, &b, NULL), 0);
    assert_int_equal(model_create(ARCH, cfg, 8, &c, NULL), 0);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(double));
    assert_memory_not_equal(a->params, c->params, a->n_params * sizeof(double));
    /* PyTorch's Conv1d init: U(-1/sqrt(in * kernel), ...); LSTM: U(-1/sqrt(h), ...) */
    const double *wd = model_tensor_data(a, "wavenet.blocks.2.dilated_conv.weight");
    double lo = 1, hi = -1;
    for (int k = 0; k < 16 * 8 * 2; k++) {
        assert_true(fabs(wd[k]) <= 0.25);
        lo = fmin(lo, wd[k]), hi = fmax(hi, wd[k]);
    }
    assert_true(lo < -0.2 && hi > 0.2);
    const double *whh = model_tensor_data(a, "lstm.weight_hh_l0");
    for (int k = 0; k < 64 * 16; k++)
        assert_true(fabs(whh[k]) <= 0.25);
    assert_true(model_tensor_data(a, "batch_norm.weight")[3] == 1.0);
    assert_true(model_tensor_data(a, "batch_norm.running_var")[5] == 1.0);
    model_destroy(a), model_destroy(b), model_destroy(c);
    fw_error err;
    assert_int_not_equal(model_create(ARCH, "blocks=17", 0, &a, &err), 0);
    assert_non_null(strstr(err.msg, "blocks"));
    assert_int_not_equal(model_create(ARCH, "chanels=5", 0, &a, &err), 0);
    assert_non_null(strstr(err.msg, "chanels"));
}

/* Known answer, against an independent plain-Python implementation of PyTorch's semantics
 * (causal dilated Conv1d, nn.LSTM, BatchNorm1d, Linear): every parameter p[k] = 0.5 sin(0.37k +
 * 0.1) in tensor order, running mean 0.01j and variance 1 + 0.1j, input x_t = 0.3 + 0.2 cos(0.9t),
 * evaluation mode. */
static void test_known_answer(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(
        model_create(ARCH,
                     "window=6;horizon=2;channels=2;skip_channels=3;blocks=2;kernel=2;hidden=2", 0,
                     &m, NULL),
        0);
    for (size_t k = 0; k < m->n_params; k++)
        m->params[k] = 0.5 * sin(0.37 * (double)k + 0.1);
    double *rm = model_tensor_data(m, "batch_norm.running_mean");
    double *rv = model_tensor_data(m, "batch_norm.running_var");
    for (int j = 0; j < 2; j++) {
        rm[j] = 0.01 * j;
        rv[j] = 1 + 0.1 * j;
    }
    model_params_changed(m);
    double x[6], out[2];
    for (int t = 0; t < 6; t++)
        x[t] = 0.3 + 0.2 * cos(0.9 * t);
    size_t start = 0;
    struct model_batch b = {x, NULL, &start, 1};
    assert_int_equal(model_forward(m, &b, 0, NULL, out), 0);
    const double expected[2] = {-0.5167895816451524, -0.4913143892785592};
    for (int j = 0; j < 2; j++)
        assert_true(tu_reldiff(out[j], expected[j], 1e-12) < 1e-12);
    model_destroy(m);
}

/* A small configuration; 20 windows make three chunks. */
#define SMALL_DIMS "window=9;horizon=4;channels=2;skip_channels=3;blocks=3;kernel=2;hidden=3"
#define SMALL      SMALL_DIMS ";dropout=0.3"

static const struct harness_shape SHAPE = {.n_series = 64, .n_windows = 20};

static void test_model_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL, 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL_DIMS ";batchnorm=0;dropout=0", 5);
    /* wider kernel; a dilation beyond the window (the last block's taps skip) */
    harness_check_gradients(&SHAPE, ARCH,
                            "window=9;horizon=4;channels=3;skip_channels=2;blocks=4;kernel=3;"
                            "hidden=2;dropout=0.1",
                            5);
    harness_check_gradients(&SHAPE, ARCH,
                            "window=9;horizon=4;channels=2;skip_channels=2;blocks=1;kernel=1;"
                            "hidden=2",
                            5);
}

static void test_threads_give_identical_results(void **state)
{
    (void)state;
    harness_check_threads(&SHAPE, ARCH,
                          "window=9;horizon=4;channels=4;skip_channels=3;blocks=3;hidden=5", 11,
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
    harness_check_learns(ARCH, "window=24;horizon=6;channels=4;skip_channels=4;blocks=3;hidden=8");
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
