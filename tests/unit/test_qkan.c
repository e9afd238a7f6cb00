/* Tests for model/qkan: the R = 1 closed form against the reference circuits, gradients by
 * central differences, and split ranges giving the same numbers as one call. */
#include "testutil.h"
#include "model/qkan.h"
#include "model/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct qkan_layer layer;
    struct qkan_work work;
    double *params, *grads;
    size_t n_params;
    size_t n;
    double *in, *silu, *dsilu, *out, *weights; /* weights: the test loss is sum(weights*out) */
};

static void setup_layer(struct fixture *f, int n_in, int n_out, int reps, int base, int preact,
                        enum daruan_readout readout, size_t n, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    struct qkan_layer *l = &f->layer;
    *l = (struct qkan_layer){.n_in = n_in,
                             .n_out = n_out,
                             .reps = reps,
                             .has_base = base,
                             .has_preact = preact,
                             .readout = readout};
    f->n_params = qkan_param_count(l);
    f->params = calloc(f->n_params, sizeof(double));
    f->grads = calloc(f->n_params, sizeof(double));
    size_t e = (size_t)n_in * n_out, r = (size_t)reps;
    double *p = f->params, *g = f->grads;
    l->theta = p, l->d_theta = g;
    p += e * 2 * (r + 1), g += e * 2 * (r + 1);
    if (base) {
        l->base_weight = p, l->d_base_weight = g;
        p += e, g += e;
    }
    if (preact) {
        l->preact_w = p, l->d_preact_w = g;
        l->preact_b = p + e * r, l->d_preact_b = g + e * r;
    }
    rng r0;
    rng_seed(&r0, seed);
    for (size_t k = 0; k < f->n_params; k++)
        f->params[k] = rng_uniform_range(&r0, -1.5, 1.5);
    f->n = n;
    f->in = malloc(n * n_in * sizeof(double));
    f->silu = malloc(n * n_in * sizeof(double));
    f->dsilu = malloc(n * n_in * sizeof(double));
    f->out = malloc(n * n_out * sizeof(double));
    f->weights = malloc(n * n_out * sizeof(double));
    for (size_t k = 0; k < n * n_in; k++)
        f->in[k] = rng_uniform_range(&r0, -2, 2);
    for (size_t k = 0; k < n * n_out; k++)
        f->weights[k] = rng_uniform_range(&r0, -1, 1);
    assert_int_equal(qkan_work_init(&f->work, l), 0);
}

static void teardown_layer(struct fixture *f)
{
    qkan_work_free(&f->work);
    free(f->params), free(f->grads), free(f->in), free(f->silu), free(f->dsilu);
    free(f->out), free(f->weights);
}

static double loss(struct fixture *f)
{
    struct qkan_layer *l = &f->layer;
    qkan_prepare(&f->work, l);
    qkan_silu_rows(f->n, f->in, f->silu, f->dsilu, 0, l->n_in);
    qkan_forward(l, &f->work, f->n, f->in, f->silu, f->out, 0, l->n_out);
    double s = 0;
    for (size_t k = 0; k < f->n * l->n_out; k++)
        s += f->weights[k] * f->out[k];
    return s;
}

static void test_closed_form_matches_circuit(void **state)
{
    (void)state;
    for (int readout = 0; readout < 2; readout++) {
        struct fixture f;
        setup_layer(&f, 5, 4, 1, 1, 1, (enum daruan_readout)readout, 17, 7);
        loss(&f);
        struct qkan_layer *l = &f.layer;
        for (size_t v = 0; v < f.n; v++)
            for (int j = 0; j < l->n_out; j++) {
                double expect = 0;
                for (int i = 0; i < l->n_in; i++) {
                    size_t e = (size_t)j * l->n_in + i;
                    struct daruan_edge edge = {1, l->theta + 4 * e, l->preact_w + e,
                                               l->preact_b + e};
                    double z = f.in[(size_t)i * f.n + v];
                    expect += daruan_forward(&edge, z, l->readout) +
                              l->base_weight[e] * z / (1 + exp(-z));
                }
                assert_true(fabs(f.out[(size_t)j * f.n + v] - expect) < 1e-12);
            }
        teardown_layer(&f);
    }
}

/* Gradient check of parameters and inputs against central differences. */
static void check_layer_gradients(int reps, int base, int preact, enum daruan_readout readout)
{
    struct fixture f;
    setup_layer(&f, 4, 3, reps, base, preact, readout, 9, 100 + reps * 10 + base + 2 * preact);
    struct qkan_layer *l = &f.layer;
    loss(&f);
    double *acc = calloc(qkan_accum_size(l), sizeof(double));
    double *din = calloc(f.n * l->n_in, sizeof(double));
    /* The backward pass split in two input ranges, as two threads would run it. */
    qkan_backward(l, &f.work, f.n, f.in, f.silu, f.dsilu, f.weights, acc, din, 0, 1);
    qkan_backward(l, &f.work, f.n, f.in, f.silu, f.dsilu, f.weights, acc, din, 1, l->n_in);
    qkan_accum_to_grads(l, acc);

    const double h = 1e-6;
    for (size_t k = 0; k < f.n_params; k++) {
        double keep = f.params[k];
        f.params[k] = keep + h;
        double up = loss(&f);
        f.params[k] = keep - h;
        double down = loss(&f);
        f.params[k] = keep;
        double fd = (up - down) / (2 * h);
        if (tu_reldiff(fd, f.grads[k], 1e-4) >= 1e-6)
            print_error("param %zu: fd %.12g analytic %.12g\n", k, fd, f.grads[k]);
        assert_true(tu_reldiff(fd, f.grads[k], 1e-4) < 1e-6);
    }
    for (size_t k = 0; k < f.n * l->n_in; k++) {
        double keep = f.in[k];
        f.in[k] = keep + h;
        double up = loss(&f);
        f.in[k] = keep - h;
        double down = loss(&f);
        f.in[k] = keep;
        assert_true(tu_reldiff((up - down) / (2 * h), din[k], 1e-4) < 1e-6);
    }
    free(acc);
    free(din);
    teardown_layer(&f);
}

static void test_gradients_closed_form(void **state)
{
    (void)state;
    check_layer_gradients(1, 1, 1, DARUAN_AMPLITUDE);
    check_layer_gradients(1, 1, 1, DARUAN_BORN);
    check_layer_gradients(1, 0, 0, DARUAN_AMPLITUDE);
    check_layer_gradients(1, 1, 0, DARUAN_BORN);
}

static void test_gradients_reference(void **state)
{
    (void)state;
    check_layer_gradients(2, 1, 1, DARUAN_AMPLITUDE);
    check_layer_gradients(2, 0, 0, DARUAN_BORN);
    check_layer_gradients(3, 1, 0, DARUAN_AMPLITUDE);
}

static void test_split_forward_is_identical(void **state)
{
    (void)state;
    struct fixture f;
    setup_layer(&f, 6, 5, 1, 1, 1, DARUAN_AMPLITUDE, 31, 3);
    loss(&f);
    double *whole = malloc(f.n * 5 * sizeof(double));
    memcpy(whole, f.out, f.n * 5 * sizeof(double));
    memset(f.out, 0, f.n * 5 * sizeof(double));
    qkan_forward(&f.layer, &f.work, f.n, f.in, f.silu, f.out, 0, 2);
    qkan_forward(&f.layer, &f.work, f.n, f.in, f.silu, f.out, 2, 5);
    assert_memory_equal(whole, f.out, f.n * 5 * sizeof(double));
    free(whole);
    teardown_layer(&f);
}

static void test_param_count(void **state)
{
    (void)state;
    /* The solar slow QKAN: 25x25, R=1, base and pre-activations: 2500 + 625 + 625 + 625. */
    struct qkan_layer l = {.n_in = 25, .n_out = 25, .reps = 1, .has_base = 1, .has_preact = 1};
    assert_int_equal(qkan_param_count(&l), 4375);
    struct qkan_layer fast = {.n_in = 10, .n_out = 20, .reps = 2};
    assert_int_equal(qkan_param_count(&fast), 1200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form_matches_circuit),
        cmocka_unit_test(test_gradients_closed_form),
        cmocka_unit_test(test_gradients_reference),
        cmocka_unit_test(test_split_forward_is_identical),
        cmocka_unit_test(test_param_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
