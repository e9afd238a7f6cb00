/* Tests for quantum/backend: the exact and sampler backends, exact binomial draws, the noise
 * model's formula and presets, and the run driver. */
#include "testutil.h"
#include "model/rng.h"
#include "quantum/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct qcircuit ry(double angle)
{
    struct qcircuit c = {0};
    circuit_add(&c, QGATE_RY, angle);
    return c;
}

static void test_exact(void **state)
{
    (void)state;
    struct qbackend *b = NULL;
    assert_int_equal(exact_backend_create(&b), 0);
    struct qcircuit c[3] = {ry(0), ry(M_PI), ry(M_PI / 2)};
    double p0[3];
    uint64_t zeros[3];
    assert_int_equal(qbackend_run(b, c, 3, 0, p0, zeros, 0.01, 5, NULL, NULL), 0);
    assert_true(fabs(p0[0] - 1) < 1e-15 && fabs(p0[1]) < 1e-15 && fabs(p0[2] - 0.5) < 1e-15);
    struct qplan plan;
    qbackend_plan(b, 200, 1024, &plan);
    assert_int_equal(plan.circuits, 200);
    assert_int_equal(plan.shots_total, 0);
    qbackend_destroy(b);
}

/* The sampler's counts follow Binomial(shots, p): chi-square over many draws. */
static void check_binomial(int shots, double p)
{
    struct qbackend *b = NULL;
    assert_int_equal(sampler_backend_create(NULL, 42, &b), 0);
    enum { DRAWS = 4000 };
    struct qcircuit *c = malloc(DRAWS * sizeof *c);
    double *p0 = malloc(DRAWS * sizeof *p0);
    uint64_t *zeros = malloc(DRAWS * sizeof *zeros);
    double theta = 2 * acos(sqrt(p));
    for (int i = 0; i < DRAWS; i++)
        c[i] = ry(theta);
    assert_int_equal(qbackend_run(b, c, DRAWS, shots, p0, zeros, 0.01, 5, NULL, NULL), 0);
    double mean = 0, var = 0;
    for (int i = 0; i < DRAWS; i++) {
        assert_true(zeros[i] <= (uint64_t)shots);
        assert_true(p0[i] == (double)zeros[i] / shots);
        mean += (double)zeros[i];
    }
    mean /= DRAWS;
    for (int i = 0; i < DRAWS; i++)
        var += ((double)zeros[i] - mean) * ((double)zeros[i] - mean);
    var /= DRAWS - 1;
    double exp_mean = shots * p, exp_var = shots * p * (1 - p);
    /* the mean within 5 standard errors, the variance within 15% */
    assert_true(fabs(mean - exp_mean) < 5 * sqrt(exp_var / DRAWS) + 1e-9);
    if (exp_var > 0)
        assert_true(fabs(var / exp_var - 1) < 0.15);
    free(c), free(p0), free(zeros);
    qbackend_destroy(b);
}

static void test_sampler_distribution(void **state)
{
    (void)state;
    check_binomial(1024, 0.5);
    check_binomial(1024, 0.97);
    check_binomial(1024, 0.003);
    check_binomial(65536, 0.3);
    check_binomial(7, 0.6);
    check_binomial(1, 0.25);
}

/* Exact probabilities of a small binomial against sampled frequencies (chi-square). */
static void test_binomial_pmf(void **state)
{
    (void)state;
    struct qbackend *b = NULL;
    assert_int_equal(sampler_backend_create(NULL, 7, &b), 0);
    enum { DRAWS = 20000, SHOTS = 10 };
    double p = 0.3, theta = 2 * acos(sqrt(p));
    struct qcircuit *c = malloc(DRAWS * sizeof *c);
    double *p0 = malloc(DRAWS * sizeof *p0);
    uint64_t *zeros = malloc(DRAWS * sizeof *zeros);
    for (int i = 0; i < DRAWS; i++)
        c[i] = ry(theta);
    assert_int_equal(qbackend_run(b, c, DRAWS, SHOTS, p0, zeros, 0.01, 5, NULL, NULL), 0);
    int hist[SHOTS + 1] = {0};
    for (int i = 0; i < DRAWS; i++)
        hist[zeros[i]]++;
    double chi2 = 0;
    for (int k = 0; k <= SHOTS; k++) {
        double pk = exp(lgamma(SHOTS + 1) - lgamma(k + 1) - lgamma(SHOTS - k + 1) + k * log(p) +
                        (SHOTS - k) * log(1 - p));
        double expect = DRAWS * pk;
        if (expect > 5)
            chi2 += (hist[k] - expect) * (hist[k] - expect) / expect;
    }
    assert_true(chi2 < 30); /* about 9 degrees of freedom: p(chi2 > 30) < 0.001 */
    free(c), free(p0), free(zeros);
    qbackend_destroy(b);
}

static void test_sampler_deterministic(void **state)
{
    (void)state;
    struct qcircuit c[50];
    for (int i = 0; i < 50; i++)
        c[i] = ry(0.1 * i);
    uint64_t z1[50], z2[50], z3[50];
    double p[50];
    struct qbackend *a = NULL, *b = NULL, *d = NULL;
    assert_int_equal(sampler_backend_create(NULL, 3, &a), 0);
    assert_int_equal(sampler_backend_create(NULL, 3, &b), 0);
    assert_int_equal(sampler_backend_create(NULL, 4, &d), 0);
    qbackend_run(a, c, 50, 1024, p, z1, 0.01, 5, NULL, NULL);
    qbackend_run(b, c, 50, 1024, p, z2, 0.01, 5, NULL, NULL);
    qbackend_run(d, c, 50, 1024, p, z3, 0.01, 5, NULL, NULL);
    assert_memory_equal(z1, z2, sizeof z1);
    assert_memory_not_equal(z1, z3, sizeof z1);
    fw_error err;
    assert_int_equal(qbackend_run(a, c, 50, 0, p, z1, 0.01, 5, NULL, &err), FW_EINVAL);
    qbackend_destroy(a), qbackend_destroy(b), qbackend_destroy(d);
}

static void test_noise_model(void **state)
{
    (void)state;
    struct noise_model ideal = {"ideal", 0, 0, 0, 0};
    for (double p = 0; p <= 1; p += 0.1)
        assert_true(fabs(noise_apply(&ideal, p) - p) < 1e-15);
    /* quantum-apis.md §4: <Z>_meas = (1 - e0 - e1) z + (e1 - e0) */
    struct noise_model m = {"x", 1e-3, 2, 0.005, 0.012};
    for (double p = 0; p <= 1; p += 0.125) {
        double z = (2 * p - 1) * pow(1 - 1e-3, 2);
        double zmeas = (1 - 0.005 - 0.012) * z + (0.012 - 0.005);
        assert_true(fabs(2 * noise_apply(&m, p) - 1 - zmeas) < 1e-15);
    }
    struct noise_model found;
    fw_error err;
    assert_int_equal(noise_model_find("ibm-heron-r2", NULL, &found, &err), 0);
    assert_int_equal(found.native_gates, 2);
    assert_true(found.readout_e1 > found.readout_e0);
    assert_int_equal(noise_model_find("ionq-forte-1", NULL, &found, &err), 0);
    assert_int_equal(noise_model_find("nope", NULL, &found, &err), FW_ENOTFOUND);
    assert_non_null(strstr(err.msg, "ibm-heron-r2"));
    /* a user's file overrides and adds presets; bad values are refused */
    char *dir = tu_mkdtemp(), path[512];
    snprintf(path, sizeof path, "%s/noise.json", dir);
    const char *doc = "{\"mine\": {\"gate_error\": 0.01, \"native_gates\": 4, \"readout_e0\": 0.02,"
                      " \"readout_e1\": 0.03}, \"bad\": {\"gate_error\": 2, \"native_gates\": 1,"
                      " \"readout_e0\": 0, \"readout_e1\": 0}}";
    assert_int_equal(tu_write_file(path, doc, strlen(doc)), 0);
    assert_int_equal(noise_model_find("mine", path, &found, &err), 0);
    assert_int_equal(found.native_gates, 4);
    assert_int_equal(noise_model_find("ibm-heron-r2", path, &found, &err), 0);
    assert_int_equal(noise_model_find("bad", path, &found, &err), FW_EINVAL);
    tu_rmtree(dir);
}

/* With noise, the sampler's mean follows the noisy probability. */
static void test_noisy_sampler_mean(void **state)
{
    (void)state;
    struct noise_model m = {"x", 0.01, 4, 0.02, 0.05};
    struct qbackend *b = NULL;
    assert_int_equal(sampler_backend_create(&m, 9, &b), 0);
    enum { N = 2000 };
    struct qcircuit *c = malloc(N * sizeof *c);
    double *p0 = malloc(N * sizeof *p0);
    for (int i = 0; i < N; i++)
        c[i] = ry(0.4);
    assert_int_equal(qbackend_run(b, c, N, 4096, p0, NULL, 0.01, 5, NULL, NULL), 0);
    double mean = 0;
    for (int i = 0; i < N; i++)
        mean += p0[i];
    mean /= N;
    double expect = noise_apply(&m, circuit_p0(&c[0]));
    assert_true(fabs(mean - expect) < 5 * sqrt(expect * (1 - expect) / (4096.0 * N)));
    assert_true(fabs(expect - circuit_p0(&c[0])) > 0.01); /* the noise is visible */
    free(c), free(p0);
    qbackend_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),        cmocka_unit_test(test_sampler_distribution),
        cmocka_unit_test(test_binomial_pmf), cmocka_unit_test(test_sampler_deterministic),
        cmocka_unit_test(test_noise_model),  cmocka_unit_test(test_noisy_sampler_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
