/* Tests for model/gqkan_fwp: the paper's parameter count and breakdown, initialisation,
 * gradients of the whole model by central differences, thread-count invariance, and the
 * sequential recursion path agreeing with the closed form. */
#include "model_harness.h"
#include "model/gqkan_fwp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_paper_parameter_count(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err;
    assert_int_equal(model_create("gated-qkan-fwp", "", 0, &m, &err), 0);
    assert_int_equal(m->n_params, 12474);
    assert_int_equal(m->window, 528);
    assert_int_equal(m->horizon, 132);
    /* paper.md §1.5 per block */
    struct {
        const char *block;
        size_t count;
    } expect[] = {
        {"Slow Linear 1->25", 50}, {"Slow QKAN theta", 2500}, {"Slow QKAN w_base", 625},
        {"Slow QKAN p_w", 625},    {"Slow QKAN p_b", 625},    {"Slow Linear 25->48", 1248},
        {"theta-head A", 2940},    {"theta-head B", 980},     {"Gate", 49},
        {"prelinear", 20},         {"BatchNorm1d", 40},       {"Output Linear", 2772}};
    size_t total = 0;
    for (size_t b = 0; b < sizeof expect / sizeof expect[0]; b++) {
        size_t count = 0;
        for (size_t i = 0; i < m->n_tensors; i++) {
            const struct tensor_info *t = &m->tensors[i];
            if (t->kind != TENSOR_TRAINED || !t->block || strcmp(t->block, expect[b].block))
                continue;
            size_t n = 1;
            for (int d = 0; d < t->ndim; d++)
                n *= (size_t)t->shape[d];
            count += n;
        }
        assert_int_equal(count, expect[b].count);
        total += count;
    }
    assert_int_equal(total, 12474);
    /* the dead fast theta is not a parameter, but is exported as a constant */
    const struct tensor_info *dead = model_tensor(m, "fwp_cell.qkan_layer.layers.0.theta");
    assert_non_null(dead);
    assert_int_equal(dead->kind, TENSOR_UNUSED);
    model_destroy(m);
}

static void test_initialisation(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", "", 7, &m, NULL), 0);
    assert_true(model_tensor_data(m, "fwp_cell.fast_gate.bias")[0] == 2.0);
    const double *theta = model_tensor_data(m, "fwp_cell.slow_program_encoder.1.layers.0.theta");
    double sum = 0, sq = 0;
    for (int k = 0; k < 2500; k++) {
        sum += theta[k];
        sq += theta[k] * theta[k];
    }
    double sd = sqrt(sq / 2500 - (sum / 2500) * (sum / 2500));
    assert_true(fabs(sd - 0.1) < 0.01); /* Xavier normal, std 0.1 for (25,25,2,2) */
    const double *wa = model_tensor_data(m, "fwp_cell.theta_head_A.weight");
    for (int k = 0; k < 60 * 48; k++)
        assert_true(fabs(wa[k]) <= 1.0 / sqrt(48.0));
    assert_true(model_tensor_data(m, "fwp_cell.slow_program_encoder.1.layers.0.base_weight")[3] ==
                0.5);
    assert_true(model_tensor_data(m, "batch_norm.running_var")[5] == 1.0);
    model_destroy(m);
    /* bad options are refused with the option's name */
    fw_error err;
    assert_int_not_equal(model_create("gated-qkan-fwp", "window=0", 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "window"));
    assert_int_not_equal(model_create("gated-qkan-fwp", "windw=5", 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "windw"));
    assert_int_not_equal(model_create("no-such-model", "", 0, &m, &err), 0);
}

/* A small configuration with every part present. */
#define ARCH       "gated-qkan-fwp"
#define SMALL_DIMS "window=12;horizon=5;slow_dim=4;hidden=5;fast_in=3;fast_out=4"
#define SMALL      SMALL_DIMS ";dropout=0.3"
#define N_SERIES   40

/* Values repeated (quantised to k/15), as in the real data, and six windows with overlapping
 * starts. Every configuration below has window 12 and horizon 5. */
static const size_t STARTS[6] = {0, 3, 4, 11, 17, 23};
static const struct harness_shape SHAPE = {
    .n_series = N_SERIES, .n_windows = 6, .levels = 15, .starts = STARTS};

static void test_model_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL, 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL ";readout=born", 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL_DIMS ";batchnorm=0;dropout=0", 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL ";slow_reps=2;fast_reps=1;recurrence=parallel", 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL ";slow_reps=2;fast_reps=1", 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL ";recurrence=parallel", 5);
    harness_check_gradients(&SHAPE, ARCH, SMALL ";recurrence=sequential", 5);
}

static void test_threads_give_identical_results(void **state)
{
    (void)state;
    harness_check_threads(&SHAPE, ARCH, SMALL, 11, 0);
}

/* The three exact recursion paths give the same outputs and gradients. */
static void test_recurrence_paths_agree(void **state)
{
    (void)state;
    const char *configs[3] = {SMALL, SMALL ";recurrence=parallel", SMALL ";recurrence=sequential"};
    struct harness h[3];
    double *g[3];
    for (int i = 0; i < 3; i++) {
        harness_init(&h[i], &SHAPE, ARCH, configs[i], 13);
        g[i] = malloc(h[i].m->n_params * sizeof(double));
        harness_loss(&h[i], NULL, g[i]);
    }
    for (int i = 1; i < 3; i++) {
        for (int k = 0; k < 30; k++)
            assert_true(tu_reldiff(h[0].out[k], h[i].out[k], 1e-3) < 1e-12);
        for (size_t k = 0; k < h[0].m->n_params; k++)
            assert_true(tu_reldiff(g[0][k], g[i][k], 1e-6) < 1e-9);
    }
    for (int i = 0; i < 3; i++) {
        free(g[i]);
        harness_free(&h[i]);
    }
}

static void test_eval_uses_running_statistics(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h, &SHAPE, ARCH, SMALL, 3);
    double out1[30], out2[30];
    /* evaluation is deterministic and independent of the batch it is in */
    assert_int_equal(model_forward(h.m, &h.batch, 0, NULL, out1), 0);
    struct model_batch one = {h.series, NULL, &h.starts[2], 1};
    assert_int_equal(model_forward(h.m, &one, 0, NULL, out2), 0);
    assert_memory_equal(out1 + 2 * 5, out2, 5 * sizeof(double));
    /* training with batch statistics needs at least two windows */
    struct model_run run = {NULL, {{0}}};
    assert_int_not_equal(model_forward(h.m, &one, 1, &run, out2), 0);
    harness_free(&h);
}

/* Evaluation caches the slow programmer per value: the numbers must not depend on what was
 * cached before, nor on where a value fell in a batch. */
static void test_eval_cache_is_exact(void **state)
{
    (void)state;
    struct harness a, b;
    harness_init(&a, &SHAPE, ARCH, SMALL, 21);
    harness_init(&b, &SHAPE, ARCH, SMALL, 21);
    double out_a[30], out_b[30], scratch[30];
    /* a: straight away; b: after evaluating other windows, one at a time and in odd batches */
    assert_int_equal(model_forward(a.m, &a.batch, 0, NULL, out_a), 0);
    for (size_t s0 = 0; s0 + 12 <= N_SERIES; s0 += 5) {
        size_t starts[3] = {s0, s0 > 3 ? s0 - 3 : 0, s0 / 2};
        struct model_batch other = {b.series, NULL, starts, 3};
        assert_int_equal(model_forward(b.m, &other, 0, NULL, scratch), 0);
    }
    assert_int_equal(model_forward(b.m, &b.batch, 0, NULL, out_b), 0);
    assert_memory_equal(out_a, out_b, sizeof out_a);
    /* and a parameter change empties the cache: the outputs follow the new parameters */
    b.m->params[3] += 0.25;
    model_params_changed(b.m);
    assert_int_equal(model_forward(b.m, &b.batch, 0, NULL, out_b), 0);
    assert_memory_not_equal(out_a, out_b, sizeof out_a);
    a.m->params[3] += 0.25;
    model_params_changed(a.m);
    assert_int_equal(model_forward(a.m, &a.batch, 0, NULL, out_a), 0);
    assert_memory_equal(out_a, out_b, sizeof out_a);
    harness_free(&a), harness_free(&b);
}

/* ---- the rest of the family (paper.md §1.1, §1.8) ---- */

#define VQC_SMALL "window=12;horizon=5;hidden=5;qubits=4;depth=2;fast_out=3;dropout=0.3"

static size_t count_of(const char *arch, const char *config)
{
    struct model *m;
    fw_error err = {0};
    assert_int_equal(model_create(arch, config, 0, &m, &err), 0);
    size_t n = m->n_params;
    model_destroy(m);
    return n;
}

static int has_tensor(const char *arch, const char *config, const char *name)
{
    struct model *m;
    assert_int_equal(model_create(arch, config, 0, &m, NULL), 0);
    int found = model_tensor(m, name) != NULL;
    model_destroy(m);
    return found;
}

static void test_variant_parameter_counts(void **state)
{
    (void)state;
    /* solar defaults; each term is a block: slow, heads A and B, gate, prelinear, BN, output */
    size_t hqkan = 2 * 25 + 25 * 25 * 4 + 3 * 25 * 25 + 48 * 25 + 48; /* 5,673 */
    size_t head20 = 2 * 20 + 20 * 132 + 132, head4 = 2 * 4 + 4 * 132 + 132;
    assert_int_equal(count_of("gqkan-fwp", ""),
                     hqkan + 48 * 20 + 20 + 48 * 11 + 11 + 49 + 20 + head20); /* 10,073 */
    assert_int_equal(count_of("gqkanfwp", ""),
                     2 * 48 + 48 * 60 + 60 + 48 * 20 + 20 + 49 + 20 + head20); /* 6,897 */
    assert_int_equal(count_of("gqkan-qfwp", ""),
                     hqkan + 48 * 2 + 2 + 48 * 8 + 8 + 49 + head4);                /* 6,880 */
    assert_int_equal(count_of("qfwp", ""), 2 * 8 + 8 * 2 + 2 + 8 * 8 + 8 + head4); /* 774 */
    /* the time-series GQKAN-QKANFWP of paper.md §1.6: 159 live parameters */
    assert_int_equal(count_of("gated-qkan-fwp", "window=64;horizon=1;slow_dim=3;hidden=5;"
                                                "fast_in=3;fast_out=3;fast_reps=1;batchnorm=0;"
                                                "dropout=0;slow_preacts=0"),
                     159);
    /* the original QFWP has no gate; the VQC models have no prelinear */
    assert_false(has_tensor("qfwp", "", "fwp_cell.fast_gate.weight"));
    assert_true(has_tensor("gqkan-qfwp", "", "fwp_cell.fast_gate.weight"));
    assert_false(has_tensor("gqkan-qfwp", "", "fwp_cell.prelinear.weight"));
    assert_true(has_tensor("gqkan-fwp", "", "fwp_cell.prelinear.weight"));
    /* options a variant does not have are unknown to it */
    fw_error err = {0};
    struct model *m = NULL;
    assert_int_not_equal(model_create("qfwp", "fast_reps=2", 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "fast_reps"));
    /* more measured qubits than the circuit has */
    assert_int_not_equal(model_create("gqkan-qfwp", "qubits=4;fast_out=5", 0, &m, &err), 0);
}

/* Fewer than 4 qubits and no fast_out: the default must fit the circuit, or the resolved config
 * (what a model file stores) names an invalid model and the file cannot be loaded back (found by
 * tests/fuzz/fuzz_config.c). */
static void test_vqc_default_outputs_fit_the_qubits(void **state)
{
    (void)state;
    static const char *const archs[] = {"qfwp", "gqkan-qfwp"};
    for (size_t i = 0; i < 2; i++) {
        struct model *m = NULL, *again = NULL;
        fw_error err = {0};
        char resolved[4096];
        assert_int_equal(model_create(archs[i], "window=8;horizon=2;qubits=2;depth=1", 0, &m, &err),
                         0);
        assert_int_equal(config_format(&m->config, resolved, sizeof resolved), 0);
        assert_non_null(strstr(resolved, "fast_out=2"));
        assert_int_equal(model_create(archs[i], resolved, 0, &again, &err), 0);
        assert_int_equal(again->n_params, m->n_params);
        model_destroy(m);
        model_destroy(again);
    }
}

static void test_variant_gradients(void **state)
{
    (void)state;
    harness_check_gradients(&SHAPE, ARCH, SMALL ";slow_preacts=0", 5);
    harness_check_gradients(&SHAPE, "gqkan-fwp", SMALL, 5);
    harness_check_gradients(&SHAPE, "gqkan-fwp", SMALL ";recurrence=sequential;batchnorm=0", 5);
    harness_check_gradients(&SHAPE, "gqkanfwp", "window=12;horizon=5;hidden=5;fast_in=3;fast_out=4",
                            5);
    harness_check_gradients(&SHAPE, "gqkan-qfwp", "slow_dim=4;" VQC_SMALL, 5);
    harness_check_gradients(&SHAPE, "gqkan-qfwp", "slow_dim=4;" VQC_SMALL ";recurrence=parallel",
                            5);
    harness_check_gradients(&SHAPE, "qfwp", VQC_SMALL, 5);
    harness_check_gradients(&SHAPE, "qfwp", VQC_SMALL ";batchnorm=0", 5);
}

static void test_variant_threads(void **state)
{
    (void)state;
    harness_check_threads(&SHAPE, "gqkan-fwp", SMALL, 11, 0);
    harness_check_threads(&SHAPE, "gqkanfwp", "window=12;horizon=5;hidden=5;fast_in=3;fast_out=4",
                          11, 0);
    harness_check_threads(&SHAPE, "gqkan-qfwp", "slow_dim=4;" VQC_SMALL, 11, 0);
    harness_check_threads(&SHAPE, "qfwp", VQC_SMALL, 11, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_parameter_count),
        cmocka_unit_test(test_initialisation),
        cmocka_unit_test(test_model_gradients),
        cmocka_unit_test(test_threads_give_identical_results),
        cmocka_unit_test(test_recurrence_paths_agree),
        cmocka_unit_test(test_eval_uses_running_statistics),
        cmocka_unit_test(test_eval_cache_is_exact),
        cmocka_unit_test(test_variant_parameter_counts),
        cmocka_unit_test(test_vqc_default_outputs_fit_the_qubits),
        cmocka_unit_test(test_variant_gradients),
        cmocka_unit_test(test_variant_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
