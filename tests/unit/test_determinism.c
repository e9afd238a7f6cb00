/* Tests of the bit-for-bit determinism every model promises (model/gemm.h, model/simd_math.h):
 * for each registered architecture, a tiny model trained a few epochs ends with identical
 * parameters, buffers and learning curve (a) on 1 and 2 threads and (b) with the products on
 * the baseline and the AVX2 kernels; and (c) its forecasts of every window are identical
 * whatever batch a window is in (alone, all together, in reverse, in threes).
 * Across CPUs and OpenBLAS core types: tests/cli/test_determinism.sh. */
#include "model_harness.h"
#include "model/gemm.h"
#include "model/trainer.h"

#include <stdlib.h>
#include <string.h>

/* Tiny configurations of every architecture, on harness_sine_plan's window 24 -> 6. */
static const struct {
    const char *arch, *config;
} MODELS[] = {
    {"gated-qkan-fwp", "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"},
    {"gqkanfwp", "window=24;horizon=6;hidden=5;fast_in=3;fast_out=4"},
    {"gqkan-fwp", "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"},
    {"gqkan-qfwp", "window=24;horizon=6;slow_dim=3;hidden=4;qubits=3;depth=2;fast_out=2"},
    {"qfwp", "window=24;horizon=6;hidden=4;qubits=3;depth=2;fast_out=2"},
    {"lstm", "window=24;horizon=6;hidden=7"},
    {"rnn", "window=24;horizon=6;hidden=9"},
    {"wavenet-lstm", "window=24;horizon=6;channels=3;skip_channels=5;blocks=3;kernel=2;hidden=6"},
    {"esn", "window=24;horizon=6;units=45"},
};

#define EPOCHS 3

struct trained {
    struct model *m;
    struct train_state s;
};

static void train(const struct split_plan *plan, const char *arch, const char *config, int threads,
                  struct trained *t)
{
    struct train_options o;
    train_options_default(&o);
    o.epochs = EPOCHS;
    o.batch_size = 8;
    o.threads = threads;
    o.lr = 1e-2;
    o.seed = 4;
    assert_int_equal(model_create(arch, config, o.seed, &t->m, NULL), 0);
    assert_int_equal(train_state_init(&t->s, t->m, &o), 0);
    assert_int_equal(train_run(t->m, plan, &o, &t->s, NULL, NULL, NULL, NULL), 0);
}

static void release(struct trained *t)
{
    train_state_free(&t->s);
    model_destroy(t->m);
}

static void assert_same(const char *what, const char *arch, const struct trained *a,
                        const struct trained *b)
{
    int same = a->m->n_params == b->m->n_params && a->m->n_buffers == b->m->n_buffers &&
               a->s.epochs_done == b->s.epochs_done &&
               !memcmp(a->m->params, b->m->params, a->m->n_params * sizeof(double)) &&
               !memcmp(a->m->buffers, b->m->buffers, a->m->n_buffers * sizeof(double));
    for (int e = 0; same && e < a->s.epochs_done; e++)
        same = !memcmp(&a->s.curve[e].train_loss, &b->s.curve[e].train_loss, sizeof(double)) &&
               !memcmp(&a->s.curve[e].val_loss, &b->s.curve[e].val_loss, sizeof(double));
    if (!same)
        print_error("%s: %s differ\n", arch, what);
    assert_true(same);
}

/* Every window of the plan: alone, all in one batch, in reverse order, and in batches of 3
 * must give the same bytes. */
static void check_batches(const struct split_plan *plan, struct model *m, const char *arch)
{
    size_t n = plan->n_windows, H = plan->horizon;
    size_t *starts = malloc(n * sizeof *starts), *rev = malloc(n * sizeof *rev);
    double *all = malloc(n * H * sizeof *all), *other = malloc(n * H * sizeof *other);
    assert_true(starts && rev && all && other);
    for (size_t k = 0; k < n; k++) {
        starts[k] = k;
        rev[k] = n - 1 - k;
    }
    const double *x = series_inputs(plan);
    struct model_batch batch = {x, NULL, starts, n};
    assert_int_equal(model_forward(m, &batch, 0, NULL, all), 0);
    for (size_t k = 0; k < n; k++) {
        struct model_batch one = {x, NULL, starts + k, 1};
        assert_int_equal(model_forward(m, &one, 0, NULL, other), 0);
        if (memcmp(other, all + k * H, H * sizeof(double)))
            print_error("%s: window %zu alone differs from the batch\n", arch, k);
        assert_memory_equal(other, all + k * H, H * sizeof(double));
    }
    struct model_batch reversed = {x, NULL, rev, n};
    assert_int_equal(model_forward(m, &reversed, 0, NULL, other), 0);
    for (size_t k = 0; k < n; k++)
        assert_memory_equal(other + k * H, all + (n - 1 - k) * H, H * sizeof(double));
    for (size_t k = 0; k < n; k += 3) {
        struct model_batch three = {x, NULL, starts + k, n - k < 3 ? n - k : 3};
        assert_int_equal(model_forward(m, &three, 0, NULL, other), 0);
        assert_memory_equal(other, all + k * H, three.n * H * sizeof(double));
    }
    free(starts), free(rev), free(all), free(other);
}

static void test_every_model(void **state)
{
    (void)state;
    struct split_plan plan;
    harness_sine_plan(&plan);
    int avx2 = gemm_set_path(GEMM_PATH_AVX2) == 0;
    gemm_set_path(GEMM_PATH_AUTO);
    if (!avx2)
        print_message("no AVX2 on this CPU: the two product paths are not compared here\n");
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        const char *arch = MODELS[i].arch, *config = MODELS[i].config;
        struct trained one, two, base;
        train(&plan, arch, config, 1, &one);
        train(&plan, arch, config, 2, &two);
        assert_same("1 and 2 threads", arch, &one, &two);
        if (avx2) {
            gemm_set_path(GEMM_PATH_AVX2);
            struct trained fast;
            train(&plan, arch, config, 2, &fast);
            gemm_set_path(GEMM_PATH_BASELINE);
            train(&plan, arch, config, 2, &base);
            gemm_set_path(GEMM_PATH_AUTO);
            assert_same("the baseline and AVX2 products", arch, &fast, &base);
            assert_same("the forced and automatic paths", arch, &fast, &two);
            release(&fast);
            release(&base);
        }
        /* training moved the weights: the comparisons above compared something */
        struct model *fresh = NULL;
        assert_int_equal(model_create(arch, config, 4, &fresh, NULL), 0);
        assert_memory_not_equal(fresh->params, one.m->params, fresh->n_params * sizeof(double));
        model_destroy(fresh);
        check_batches(&plan, one.m, arch);
        release(&one);
        release(&two);
    }
    series_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
