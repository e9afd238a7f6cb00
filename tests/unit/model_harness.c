/* model_harness — the model tests' shared harness (see model_harness.h). */
#include "model_harness.h"
#include "model/loss.h"
#include "model/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void harness_init(struct harness *h, const struct harness_shape *shape, const char *arch,
                  const char *config, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->arch = arch;
    h->config = config;
    fw_error err = {0};
    int rc = model_create(arch, config, seed, &h->m, &err);
    if (rc)
        print_error("%s %s: %s\n", arch, config, err.msg);
    assert_int_equal(rc, 0);
    size_t W = (size_t)h->m->window, H = (size_t)h->m->horizon, n = shape->n_windows;
    assert_true(shape->n_series > W + H && n > 0);
    h->n = n;
    h->series = malloc(shape->n_series * sizeof(double));
    h->starts = malloc(n * sizeof(size_t));
    h->out = malloc(n * H * sizeof(double));
    h->target = malloc(n * H * sizeof(double));
    h->dout = malloc(n * H * sizeof(double));
    assert_true(h->series && h->starts && h->out && h->target && h->dout);
    rng r;
    rng_seed(&r, seed + 100);
    for (size_t k = 0; k < shape->n_series; k++) {
        double u = rng_uniform(&r);
        h->series[k] = shape->levels > 0 ? floor(u * shape->levels) / shape->levels : u;
    }
    for (size_t k = 0; k < n; k++) {
        h->starts[k] = shape->starts ? shape->starts[k] : (k * 37) % (shape->n_series - W - H);
        assert_true(h->starts[k] + W + H <= shape->n_series);
    }
    h->batch = (struct model_batch){h->series, h->series, h->starts, n};
}

void harness_free(struct harness *h)
{
    model_destroy(h->m);
    free(h->series), free(h->starts), free(h->out), free(h->target), free(h->dout);
    memset(h, 0, sizeof *h);
}

double harness_loss(struct harness *h, struct pool *pool, double *grad)
{
    struct model_run run = {pool, {{0}}};
    rng_seed(&run.dropout, 99); /* the same dropout mask on every call */
    assert_int_equal(model_forward(h->m, &h->batch, 1, &run, h->out), 0);
    size_t W = (size_t)h->m->window, H = (size_t)h->m->horizon;
    for (size_t k = 0; k < h->n; k++)
        for (size_t j = 0; j < H; j++)
            h->target[k * H + j] = h->series[h->starts[k] + W + j];
    double loss = loss_peak_mse(h->n * H, h->out, h->target, 1.0, h->dout);
    if (grad) {
        model_zero_grad(h->m);
        assert_int_equal(model_backward(h->m, &run, h->dout), 0);
        memcpy(grad, h->m->grads, h->m->n_params * sizeof(double));
    }
    return loss;
}

/* The trained tensor that holds parameter k, and k's index in it. */
static const char *param_name(const struct model *m, size_t k, size_t *index)
{
    for (size_t i = 0; i < m->n_tensors; i++) {
        const struct tensor_info *t = &m->tensors[i];
        if (t->kind != TENSOR_TRAINED)
            continue;
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++)
            n *= (size_t)t->shape[d];
        if (k >= t->offset && k < t->offset + n) {
            *index = k - t->offset;
            return t->name;
        }
    }
    *index = k;
    return "?";
}

void harness_check_gradients(const struct harness_shape *shape, const char *arch,
                             const char *config, uint64_t seed)
{
    struct harness h;
    harness_init(&h, shape, arch, config, seed);
    struct model *m = h.m;
    double *grad = malloc(m->n_params * sizeof(double));
    assert_non_null(grad);
    harness_loss(&h, NULL, grad);
    /* Fourth-order central differences: truncation O(h^4) and rounding O(eps/h) both stay far
     * below the 1e-6 tolerance, which the second-order formula cannot manage for every
     * parameter of a model as deep as gated-qkan-fwp. */
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
            size_t index;
            const char *name = param_name(m, k, &index);
            print_error("%s %s: param %zu (%s[%zu]): fd %.12g analytic %.12g\n", arch, config, k,
                        name, index, fd, grad[k]);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    free(grad);
    harness_free(&h);
}

/* Asserts a and b are bit-identical, naming what differs first. */
static void same_bits(const struct harness *h, const void *a, const void *b, size_t size,
                      const char *what)
{
    if (memcmp(a, b, size))
        print_error("%s %s: %s differ between 1 and 2 threads\n", h->arch, h->config, what);
    assert_memory_equal(a, b, size);
}

void harness_compare_threads(struct harness *one, struct harness *two, struct pool *pool,
                             unsigned flags)
{
    struct model *m1 = one->m, *m2 = two->m;
    size_t n_out = one->n * (size_t)m1->horizon * sizeof(double);
    double *g1 = malloc(m1->n_params * sizeof(double));
    double *g2 = malloc(m2->n_params * sizeof(double));
    assert_true(g1 && g2);
    double l1 = harness_loss(one, NULL, g1);
    double l2 = harness_loss(two, pool, g2);
    same_bits(one, &l1, &l2, sizeof l1, "losses");
    same_bits(one, one->out, two->out, n_out, "training outputs");
    same_bits(one, g1, g2, m1->n_params * sizeof(double), "gradients");
    if (flags & HARNESS_BUFFERS)
        same_bits(one, m1->buffers, m2->buffers, m1->n_buffers * sizeof(double), "buffers");
    if (flags & HARNESS_EVAL) {
        assert_int_equal(model_forward(m1, &one->batch, 0, NULL, one->out), 0);
        struct model_run run = {pool, {{0}}};
        assert_int_equal(model_forward(m2, &two->batch, 0, &run, two->out), 0);
        same_bits(one, one->out, two->out, n_out, "evaluation outputs");
    }
    free(g1), free(g2);
}

void harness_check_threads(const struct harness_shape *shape, const char *arch, const char *config,
                           uint64_t seed, unsigned flags)
{
    struct harness h1, h2;
    harness_init(&h1, shape, arch, config, seed);
    harness_init(&h2, shape, arch, config, seed);
    struct pool *pool = NULL;
    assert_int_equal(pool_create(2, &pool), 0);
    harness_compare_threads(&h1, &h2, pool, flags);
    pool_destroy(pool);
    harness_free(&h1), harness_free(&h2);
}

void harness_check_eval(const struct harness_shape *shape, const char *arch, const char *config,
                        uint64_t seed)
{
    struct harness h;
    harness_init(&h, shape, arch, config, seed);
    size_t H = (size_t)h.m->horizon, n_out = h.n * H;
    double *out1 = malloc(n_out * sizeof(double)), *out2 = malloc(n_out * sizeof(double));
    assert_true(out1 && out2);
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, out1), 0);
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, out2), 0);
    assert_memory_equal(out1, out2, n_out * sizeof(double));
    /* no dropout and running statistics: a window's forecast is its own, bit for bit, alone
     * or in any batch (here: alone, and in batches of 1..n windows, in reverse order) */
    assert_true(h.n > 2);
    struct model_batch one = {h.series, NULL, &h.starts[2], 1};
    assert_int_equal(model_forward(h.m, &one, 0, NULL, out2), 0);
    assert_memory_equal(out1 + 2 * H, out2, H * sizeof(double));
    size_t *rev = malloc(h.n * sizeof *rev);
    assert_non_null(rev);
    for (size_t count = 1; count <= h.n; count++) {
        for (size_t k = 0; k < count; k++)
            rev[k] = h.starts[count - 1 - k];
        struct model_batch some = {h.series, NULL, rev, count};
        assert_int_equal(model_forward(h.m, &some, 0, NULL, out2), 0);
        for (size_t k = 0; k < count; k++)
            assert_memory_equal(out1 + (count - 1 - k) * H, out2 + k * H, H * sizeof(double));
    }
    free(rev);
    /* training forwards differ (batch statistics, dropout) and need two windows */
    struct model_run run = {NULL, {{0}}};
    assert_int_not_equal(model_forward(h.m, &one, 1, &run, out2), 0);
    /* backward without a training forward is refused */
    assert_int_not_equal(model_backward(h.m, &run, out1), 0);
    free(out1), free(out2);
    harness_free(&h);
}

#define N_MONTHS 220

void harness_sine_plan(struct split_plan *plan)
{
    double values[N_MONTHS];
    rng r;
    rng_seed(&r, 77);
    for (int t = 0; t < N_MONTHS; t++)
        values[t] = 60 + 50 * sin(2 * M_PI * t / 40.0) + 5 * rng_normal(&r);
    assert_int_equal(
        series_prepare(values, N_MONTHS, 1800 * 12, PROTOCOL_PAPER, -1, 24, 6, plan, NULL), 0);
}

void harness_check_learns(const char *arch, const char *config)
{
    struct split_plan plan;
    harness_sine_plan(&plan);
    struct train_options o;
    train_options_default(&o);
    o.epochs = 12;
    o.batch_size = 16;
    o.threads = 2;
    o.lr = 1e-2;
    struct model *m = NULL;
    assert_int_equal(model_create(arch, config, 1, &m, NULL), 0);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(s.epochs_done, 12);
    if (!(s.curve[11].train_loss < 0.5 * s.curve[0].train_loss) ||
        !(s.best_val < s.curve[0].val_loss))
        print_error("%s %s: training loss %g -> %g, best validation loss %g (first %g)\n", arch,
                    config, s.curve[0].train_loss, s.curve[11].train_loss, s.best_val,
                    s.curve[0].val_loss);
    assert_true(s.curve[11].train_loss < 0.5 * s.curve[0].train_loss);
    assert_true(s.best_val < s.curve[0].val_loss);
    train_state_free(&s);
    model_destroy(m);
    series_free(&plan);
}
