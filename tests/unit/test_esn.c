/* Tests for model/esn: the paper's 132,132 trained parameters, the reservoir (in-degree, spectral
 * radius, determinism, carried in the buffers and checked on load), readout gradients by central
 * differences, the ridge fit (its normal equations hold), thread-count and batch invariance, and
 * the trainer's closed-form path (one fit recorded as one epoch, resume, cancel). */
#include "model_harness.h"
#include "model/esn.h"
#include "model/trainer.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "esn"

static void test_parameter_counts(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err;
    assert_int_equal(model_create(ARCH, "", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 132132); /* paper.md §5: 1000 x 132 + 132 */
    assert_int_equal(m->window, 528);
    assert_int_equal(m->horizon, 132);
    /* the fixed reservoir is not trained: 10 inputs per unit (values and columns), w_in, b */
    assert_int_equal(m->n_buffers, 1000 * 10 * 2 + 1000 + 1000);
    const struct tensor_info *t = model_tensor(m, "readout.weight");
    assert_int_equal(t->kind, TENSOR_TRAINED);
    assert_int_equal(t->shape[0], 132);
    assert_int_equal(t->shape[1], 1000);
    assert_int_equal(model_tensor(m, "reservoir.weight_values")->kind, TENSOR_BUFFER);
    assert_int_equal(model_tensor(m, "reservoir.weight_columns")->shape[1], 10);
    model_destroy(m);
    assert_int_equal(model_create(ARCH, "units=50;horizon=7;density=0.1", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 7 * 51);
    assert_int_equal(m->n_buffers, 50 * 5 * 2 + 100);
    model_destroy(m);
    assert_int_not_equal(model_create(ARCH, "leak=0", 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "leak"));
    assert_int_not_equal(model_create(ARCH, "unit=5", 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "unit"));
}

static void test_reservoir(void **state)
{
    (void)state;
    struct model *m = NULL;
    const int U = 60, D = 12;
    assert_int_equal(model_create(ARCH, "units=60;density=0.2;spectral_radius=0.8", 3, &m, NULL),
                     0);
    const double *values = model_tensor_data(m, "reservoir.weight_values");
    const double *columns = model_tensor_data(m, "reservoir.weight_columns");
    double *dense = calloc((size_t)U * U, sizeof(double));
    for (int i = 0; i < U; i++)
        for (int k = 0; k < D; k++) {
            double c = columns[i * D + k];
            assert_true(c >= 0 && c < U && c == floor(c));
            if (k > 0)
                assert_true(c > columns[i * D + k - 1]); /* distinct, ascending */
            dense[i * U + (int)c] = values[i * D + k];
        }
    /* the spectral radius is what was asked for (power iteration's estimate, within 3%) */
    double wr[60], wi[60];
    assert_int_equal(
        LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', U, dense, U, wr, wi, NULL, 1, NULL, 1), 0);
    double rho = 0;
    for (int i = 0; i < U; i++)
        rho = fmax(rho, hypot(wr[i], wi[i]));
    assert_true(fabs(rho - 0.8) < 0.03 * 0.8);
    free(dense);
    /* input weights and biases within their scales */
    const double *w_in = model_tensor_data(m, "reservoir.input_weight");
    const double *bias = model_tensor_data(m, "reservoir.bias");
    for (int i = 0; i < U; i++) {
        assert_true(fabs(w_in[i]) <= 1.0);
        assert_true(fabs(bias[i]) <= 0.2);
    }
    /* deterministic from the seed, different for another */
    struct model *a = NULL, *b = NULL;
    assert_int_equal(model_create(ARCH, "units=60;density=0.2;spectral_radius=0.8", 3, &a, NULL),
                     0);
    assert_int_equal(model_create(ARCH, "units=60;density=0.2;spectral_radius=0.8", 4, &b, NULL),
                     0);
    assert_memory_equal(m->buffers, a->buffers, m->n_buffers * sizeof(double));
    assert_memory_equal(m->params, a->params, m->n_params * sizeof(double));
    assert_memory_not_equal(m->buffers, b->buffers, m->n_buffers * sizeof(double));
    model_destroy(m), model_destroy(a), model_destroy(b);
}

/* Known answer for the leaky reservoir update and the readout, against a plain-Python
 * computation: a 3-unit reservoir set by hand, leak 0.5, input x_t = 0.3 + 0.2 cos(0.9t). */
static void test_known_answer(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(
        model_create(ARCH, "window=5;horizon=2;units=3;density=0.67;leak=0.5", 0, &m, NULL), 0);
    double *values = model_tensor_data(m, "reservoir.weight_values");
    double *columns = model_tensor_data(m, "reservoir.weight_columns");
    double *w_in = model_tensor_data(m, "reservoir.input_weight");
    double *bias = model_tensor_data(m, "reservoir.bias");
    const double cols[6] = {1, 2, 0, 2, 0, 1}, win[3] = {0.7, -0.4, 0.9}, b[3] = {0.05, -0.1, 0.2};
    for (int k = 0; k < 6; k++) {
        values[k] = 0.3 * sin(1.3 * k + 0.2);
        columns[k] = cols[k];
    }
    memcpy(w_in, win, sizeof win);
    memcpy(bias, b, sizeof b);
    for (size_t k = 0; k < m->n_params; k++)
        m->params[k] = 0.5 * sin(0.37 * (double)k + 0.1);
    model_params_changed(m);
    double x[5], out[2];
    for (int t = 0; t < 5; t++)
        x[t] = 0.3 + 0.2 * cos(0.9 * t);
    size_t start = 0;
    struct model_batch batch = {x, NULL, &start, 1};
    assert_int_equal(model_forward(m, &batch, 0, NULL, out), 0);
    const double expected[2] = {0.4234030752034657, 0.33935542931156204};
    for (int j = 0; j < 2; j++)
        assert_true(tu_reldiff(out[j], expected[j], 1e-12) < 1e-12);
    model_destroy(m);
}

/* A small configuration: 20 windows (three lane groups). */
#define SMALL   "window=7;horizon=4;units=12;density=0.25"
#define N_WIN   20
#define WINDOW  7
#define HORIZON 4

static const struct harness_shape SHAPE = {.n_series = 64, .n_windows = N_WIN};

static void test_readout_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL, 5);
}

/* The fitted readout satisfies the ridge normal equations: the residuals sum to zero (free
 * intercept) and X^T residual = ridge W. */
static void test_ridge_fit(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h, &SHAPE, ARCH, SMALL ";ridge=0.01", 9);
    struct model *m = h.m;
    assert_non_null(m->ops->fit_closed_form);
    double before = harness_loss(&h, NULL, NULL);
    assert_int_equal(m->ops->fit_closed_form(m, h.series, h.starts, N_WIN, NULL, NULL), 0);
    model_params_changed(m);
    assert_int_equal(model_forward(m, &h.batch, 0, NULL, h.out), 0);
    double after = harness_loss(&h, NULL, NULL);
    assert_true(after < 0.5 * before);
    /* the states, through the readout's gradient of 0.5 * squared error: dout = prediction -
     * target gives dW = sum (yhat - y) x^T and db = sum (yhat - y) */
    double dout[N_WIN * HORIZON];
    for (size_t k = 0; k < N_WIN; k++)
        for (int j = 0; j < HORIZON; j++)
            dout[k * HORIZON + j] = h.out[k * HORIZON + j] - h.series[h.starts[k] + WINDOW + j];
    struct model_run run = {NULL, {{0}}};
    assert_int_equal(model_forward(m, &h.batch, 1, &run, h.out), 0);
    model_zero_grad(m);
    assert_int_equal(model_backward(m, &run, dout), 0);
    const double *w = model_tensor_data(m, "readout.weight");
    const struct tensor_info *tw = model_tensor(m, "readout.weight");
    const struct tensor_info *tb = model_tensor(m, "readout.bias");
    for (int j = 0; j < HORIZON * 12; j++)
        assert_true(fabs(m->grads[tw->offset + (size_t)j] + 0.01 * w[j]) < 1e-10);
    for (int j = 0; j < HORIZON; j++)
        assert_true(fabs(m->grads[tb->offset + (size_t)j]) < 1e-10);
    harness_free(&h);
}

static void test_threads_and_batches_give_identical_results(void **state)
{
    (void)state;
    struct harness h1, h2;
    harness_init(&h1, &SHAPE, ARCH, SMALL, 11);
    harness_init(&h2, &SHAPE, ARCH, SMALL, 11);
    struct pool *pool = NULL;
    assert_int_equal(pool_create(2, &pool), 0);
    /* the loss, the training outputs and the readout gradients */
    harness_compare_threads(&h1, &h2, pool, 0);
    /* the ridge fit too */
    assert_int_equal(h1.m->ops->fit_closed_form(h1.m, h1.series, h1.starts, N_WIN, NULL, NULL), 0);
    assert_int_equal(h2.m->ops->fit_closed_form(h2.m, h2.series, h2.starts, N_WIN, pool, NULL), 0);
    assert_memory_equal(h1.m->params, h2.m->params, h1.m->n_params * sizeof(double));
    /* evaluation: deterministic, and a window's forecast does not depend on its batch */
    double out1[N_WIN * HORIZON], out2[N_WIN * HORIZON];
    assert_int_equal(model_forward(h1.m, &h1.batch, 0, NULL, out1), 0);
    struct model_run run = {pool, {{0}}};
    assert_int_equal(model_forward(h2.m, &h2.batch, 0, &run, out2), 0);
    assert_memory_equal(out1, out2, sizeof out1);
    for (size_t k = 0; k < N_WIN; k += 7) {
        struct model_batch one = {h1.series, NULL, &h1.starts[k], 1};
        assert_int_equal(model_forward(h1.m, &one, 0, NULL, out2), 0);
        assert_memory_equal(out1 + k * HORIZON, out2, HORIZON * sizeof(double));
    }
    pool_destroy(pool);
    harness_free(&h1), harness_free(&h2);
}

/* A model loaded from a file is created with another seed, then given the stored params and
 * buffers: the reservoir must come from the buffers; malformed column indices are refused. */
static void test_reservoir_travels_in_buffers(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h, &SHAPE, ARCH, SMALL, 21);
    struct model *loaded = NULL;
    assert_int_equal(model_create(ARCH, SMALL, 0, &loaded, NULL), 0);
    assert_memory_not_equal(loaded->buffers, h.m->buffers, h.m->n_buffers * sizeof(double));
    memcpy(loaded->params, h.m->params, h.m->n_params * sizeof(double));
    memcpy(loaded->buffers, h.m->buffers, h.m->n_buffers * sizeof(double));
    model_params_changed(loaded);
    double out[N_WIN * HORIZON];
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, h.out), 0);
    assert_int_equal(model_forward(loaded, &h.batch, 0, NULL, out), 0);
    assert_memory_equal(h.out, out, sizeof out);
    double *columns = model_tensor_data(loaded, "reservoir.weight_columns");
    columns[5] = 12; /* units = 12: out of range */
    model_params_changed(loaded);
    assert_int_not_equal(model_forward(loaded, &h.batch, 0, NULL, out), 0);
    columns[5] = 2.5;
    model_params_changed(loaded);
    assert_int_not_equal(model_forward(loaded, &h.batch, 0, NULL, out), 0);
    columns[5] = 3;
    model_params_changed(loaded);
    assert_int_equal(model_forward(loaded, &h.batch, 0, NULL, out), 0);
    model_destroy(loaded);
    harness_free(&h);
}

struct calls {
    int count;
    struct train_progress last;
};

static void on_epoch(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    struct calls *c = ctx;
    c->count++;
    c->last = *p;
}

static void test_trainer_fits_in_closed_form(void **state)
{
    (void)state;
    struct split_plan plan;
    harness_sine_plan(&plan);
    struct train_options o;
    train_options_default(&o);
    o.epochs = 5;
    o.threads = 2;
    const char *cfg = "window=24;horizon=6;units=80;ridge=0.01";
    struct model *m = NULL;
    assert_int_equal(model_create(ARCH, cfg, 1, &m, NULL), 0);
    double untrained;
    assert_int_equal(train_eval_loss(m, &plan, plan.train, 1.0, NULL, &untrained), 0);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    struct calls calls = {0};
    assert_int_equal(train_run(m, &plan, &o, &s, on_epoch, &calls, NULL, NULL), 0);
    /* one fit, recorded as one epoch */
    assert_int_equal(s.epochs_done, 1);
    assert_int_equal(s.best_epoch, 1);
    assert_int_equal(calls.count, 1);
    assert_int_equal(calls.last.epoch, 1);
    assert_int_equal(calls.last.epochs, 1);
    assert_true(s.curve[0].train_loss < 0.1 * untrained);
    assert_true(isfinite(s.curve[0].val_loss) && s.best_val == s.curve[0].val_loss);
    double check;
    assert_int_equal(train_eval_loss(m, &plan, plan.val, 1.0, NULL, &check), 0);
    assert_true(check == s.best_val);
    assert_memory_equal(m->params, s.best_params, m->n_params * sizeof(double));
    assert_memory_equal(m->params, s.params, m->n_params * sizeof(double));
    /* the same with one thread */
    struct model *m1 = NULL;
    assert_int_equal(model_create(ARCH, cfg, 1, &m1, NULL), 0);
    struct train_state s1;
    o.threads = 1;
    assert_int_equal(train_state_init(&s1, m1, &o), 0);
    assert_int_equal(train_run(m1, &plan, &o, &s1, NULL, NULL, NULL, NULL), 0);
    assert_memory_equal(m->params, m1->params, m->n_params * sizeof(double));
    assert_true(s1.curve[0].val_loss == s.curve[0].val_loss);
    /* resuming a state that holds the fit does not fit again */
    calls.count = 0;
    memset(m1->params, 0, m1->n_params * sizeof(double));
    assert_int_equal(train_run(m1, &plan, &o, &s1, on_epoch, &calls, NULL, NULL), 0);
    assert_int_equal(calls.count, 0);
    assert_memory_equal(m->params, m1->params, m->n_params * sizeof(double));
    /* cancelled before the fit: nothing done */
    struct model *m2 = NULL;
    assert_int_equal(model_create(ARCH, cfg, 1, &m2, NULL), 0);
    struct train_state s2;
    assert_int_equal(train_state_init(&s2, m2, &o), 0);
    atomic_int cancel = 1;
    assert_int_equal(train_run(m2, &plan, &o, &s2, NULL, NULL, &cancel, NULL), FW_ECANCELLED);
    assert_int_equal(s2.epochs_done, 0);
    train_state_free(&s), train_state_free(&s1), train_state_free(&s2);
    model_destroy(m), model_destroy(m1), model_destroy(m2);
    series_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts),
        cmocka_unit_test(test_reservoir),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_readout_gradients),
        cmocka_unit_test(test_ridge_fit),
        cmocka_unit_test(test_threads_and_batches_give_identical_results),
        cmocka_unit_test(test_reservoir_travels_in_buffers),
        cmocka_unit_test(test_trainer_fits_in_closed_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
