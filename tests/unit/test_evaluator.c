/* Tests for quantum/evaluator: a forecast whose circuits run on the exact backend equals the
 * classical forecast (both readouts), and the sampler's converges to it with shots. */
#include "testutil.h"
#include "model/forecaster.h"
#include "quantum/evaluator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"

static struct forecaster *make(const char *extra, double *history, size_t n)
{
    char config[256];
    snprintf(config, sizeof config, "%s%s", CONFIG, extra);
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", config, 5, &m, NULL), 0);
    /* untrained but not degenerate: perturb the running statistics so BN is not the identity */
    for (size_t i = 0; i < m->n_buffers; i++)
        m->buffers[i] = i % 2 ? 0.8 : 0.1;
    struct scaler sc = {0, 200};
    struct forecaster *f = NULL;
    assert_int_equal(forecaster_create(m, &sc, &f), 0);
    for (size_t i = 0; i < n; i++)
        history[i] = 100 + 80 * sin(i / 7.0);
    return f;
}

static void check_exact_equals_classical(const char *extra, int expect_readout)
{
    double history[40], classical[6], quantum[6];
    struct forecaster *f = make(extra, history, 40);
    fw_error err;
    assert_int_equal(
        forecaster_predict(f, history, 40, 6, NULL, 0, NULL, classical, NULL, NULL, NULL, &err), 0);
    struct qbackend *b = NULL;
    assert_int_equal(exact_backend_create(&b), 0);
    struct backend_evaluator be = {.backend = b, .poll_seconds = 0.01, .timeout_seconds = 10};
    struct daruan_evaluator ev = backend_evaluator(&be);
    int readout = -1;
    assert_int_equal(forecaster_predict_quantum(f, history, 40, 6, NULL, 0, &ev, &readout, quantum,
                                                NULL, NULL, NULL, &err),
                     0);
    assert_int_equal(readout, expect_readout);
    for (int j = 0; j < 6; j++)
        assert_true(fabs(classical[j] - quantum[j]) < 1e-9 * (1 + fabs(classical[j])));
    assert_int_equal(be.circuits, 3 * 2); /* fast_out x fast_in edges, one window */
    qbackend_destroy(b);
    forecaster_free(f);
}

static void test_exact_backend_is_the_model(void **state)
{
    (void)state;
    check_exact_equals_classical("", DARUAN_AMPLITUDE);
    check_exact_equals_classical(";readout=born", DARUAN_BORN);
}

static double sampler_error(struct forecaster *f, double *history, int shots, uint64_t seed)
{
    double classical[6], sampled[6];
    fw_error err;
    forecaster_predict(f, history, 40, 6, NULL, 0, NULL, classical, NULL, NULL, NULL, &err);
    struct qbackend *b = NULL;
    assert_int_equal(sampler_backend_create(NULL, seed, &b), 0);
    struct backend_evaluator be = {
        .backend = b, .shots = shots, .poll_seconds = 0.01, .timeout_seconds = 10};
    struct daruan_evaluator ev = backend_evaluator(&be);
    int readout;
    assert_int_equal(forecaster_predict_quantum(f, history, 40, 6, NULL, 0, &ev, &readout, sampled,
                                                NULL, NULL, NULL, &err),
                     0);
    assert_int_equal(be.shots_total, (uint64_t)6 * (uint64_t)shots);
    qbackend_destroy(b);
    double e = 0;
    for (int j = 0; j < 6; j++)
        e += (sampled[j] - classical[j]) * (sampled[j] - classical[j]);
    return e / 6;
}

static void test_sampler_converges(void **state)
{
    (void)state;
    double history[40];
    struct forecaster *f = make(";readout=born", history, 40);
    double e_few = 0, e_many = 0;
    for (uint64_t s = 0; s < 20; s++) {
        e_few += sampler_error(f, history, 64, s);
        e_many += sampler_error(f, history, 65536, s);
    }
    /* shot noise variance falls as 1/shots: 1024 times the shots, far smaller error */
    assert_true(e_many < e_few / 100);
    assert_true(e_few > 0);
    forecaster_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_backend_is_the_model),
        cmocka_unit_test(test_sampler_converges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
