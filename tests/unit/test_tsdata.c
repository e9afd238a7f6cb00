/* Tests of the time-series benchmark suite: the generators against values computed by hand or
 * from their definitions, the §3.2 windows and splits, scaling, and bad input. */
#include "testutil.h"

#include "model/model.h"
#include "model/tsdata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *generate(const char *name, double **u)
{
    const struct ts_dataset *d = tsdata_find(name);
    assert_non_null(d);
    double *y = malloc(d->points * sizeof *y);
    *u = malloc(d->points * sizeof **u);
    assert_int_equal(tsdata_generate(d, y, *u, NULL), 0);
    return y;
}

static void test_narma(void **state)
{
    (void)state;
    double *u, *y = generate("narma_5", &u);
    const double T = 300, tau = 2 * 3.14159265358979323846;
    /* u_t by its definition; y_1 and y_2 by hand (negative indices are zero) */
    for (int t = 0; t < 300; t++) {
        double x = t / T;
        double want = 0.1 * (sin(tau * 2.11 * x) * sin(tau * 3.73 * x) * sin(tau * 4.11 * x) + 1);
        assert_true(fabs(u[t] - want) < 1e-15);
    }
    assert_true(y[0] == 0.196);
    double y1 = 0.3 * 0.196 + 0.05 * 0.196 * 0.196 + 0.1; /* u_{-4} = 0 */
    assert_true(fabs(y[1] - y1) < 1e-15);
    double y2 = 0.3 * y1 + 0.05 * y1 * (y1 + 0.196) + 0.1;
    assert_true(fabs(y[2] - y2) < 1e-15);
    double y6 =
        0.3 * y[5] + 0.05 * y[5] * (y[5] + y[4] + y[3] + y[2] + y[1]) + 1.5 * u[1] * u[5] + 0.1;
    assert_true(fabs(y[6] - y6) < 1e-15);
    /* NARMA-10 differs from NARMA-5 once the longer memory matters */
    double *u10, *y10 = generate("narma_10", &u10);
    assert_memory_equal(u, u10, 300 * sizeof *u);
    assert_true(fabs(y10[6] - y[6]) > 1e-6);
    free(u), free(y), free(u10), free(y10);
}

static void test_generators(void **state)
{
    (void)state;
    double *u, *y = generate("bessel_j2", &u);
    assert_true(fabs(y[0] - 0.35283402861563773) < 1e-14); /* J2(2) */
    assert_true(fabs(y[255] - jn(2, 100.0)) < 1e-15);
    free(u), free(y);

    y = generate("delayed_quantum_control", &u);
    /* x = -2 + 0.01 k: at k = 200 (x = 0) the n = 0 pulse peaks at 1 */
    double s0 = 0;
    for (int n = 0; n <= 10; n++)
        s0 += exp(-10.0 * (2.0 * n) * (2.0 * n));
    assert_true(fabs(y[200] - s0) < 1e-12);
    free(u), free(y);

    /* the damped pendulum: theta'(0) = 3, energy strictly decreasing with damping */
    y = generate("damped_shm", &u);
    assert_true(y[0] == 3.0);
    double peak_early = 0, peak_late = 0;
    for (int k = 0; k < 40; k++)
        peak_early = fmax(peak_early, fabs(y[k]));
    for (int k = 200; k < 240; k++)
        peak_late = fmax(peak_late, fabs(y[k]));
    assert_true(peak_late < 0.5 * peak_early);
    /* an independent integration (midpoint rule, state as a vector, 20,000 steps per sample
     * interval) of theta'' = -0.15 theta' - 9.81 sin(theta) agrees to its own accuracy */
    double th[2] = {0.0, 3.0};
    for (int k = 1; k < 240; k++) {
        double h = 20.0 / 239.0 / 20000.0;
        for (int s = 0; s < 20000; s++) {
            double mid[2] = {th[0] + 0.5 * h * th[1],
                             th[1] + 0.5 * h * (-0.15 * th[1] - 9.81 * sin(th[0]))};
            th[0] += h * mid[1];
            th[1] += h * (-0.15 * mid[1] - 9.81 * sin(mid[0]));
        }
        assert_true(fabs(y[k] - th[1]) < 1e-6);
    }
    free(u), free(y);

    const struct ts_dataset *jc = tsdata_find("jaynes_cummings");
    assert_non_null(jc->csv);
    assert_int_not_equal(tsdata_generate(jc, NULL, NULL, NULL), 0);
    assert_null(tsdata_find("nope"));
}

static void test_plan(void **state)
{
    (void)state;
    /* paper.md §3.2's table: windows total / train / test */
    const struct {
        const char *name;
        size_t total, train;
    } expect[] = {{"bessel_j2", 191, 152},
                  {"damped_shm", 175, 140},
                  {"delayed_quantum_control", 2135, 1708},
                  {"narma_5", 235, 188}};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const struct ts_dataset *d = tsdata_find(expect[i].name);
        double *u, *y = generate(expect[i].name, &u);
        struct split_plan plan;
        assert_int_equal(tsdata_plan(d, y, d->driven ? u : NULL, d->points, 64, &plan, NULL), 0);
        assert_int_equal(plan.n_windows, expect[i].total);
        assert_int_equal(plan.train.end, expect[i].train);
        assert_int_equal(plan.test.begin, expect[i].train);
        assert_int_equal(plan.test.end, expect[i].total);
        assert_int_equal(plan.val.begin, plan.test.begin);
        /* the last window's target is the next-to-last value (the authors drop one) */
        assert_true(plan.test.end - 1 + 64 == d->points - 2);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < d->points; k++)
            lo = fmin(lo, plan.scaled[k]), hi = fmax(hi, plan.scaled[k]);
        if (d->minmax) {
            assert_true(lo == -1.0 && fabs(hi - 1.0) < 1e-15);
            assert_null(plan.input);
        } else { /* NARMA: raw targets, the driver as input */
            assert_memory_equal(plan.scaled, y, d->points * sizeof *y);
            assert_memory_equal(series_inputs(&plan), u, d->points * sizeof *u);
        }
        series_free(&plan);
        free(u), free(y);
    }
}

static void test_plan_bad_input(void **state)
{
    (void)state;
    const struct ts_dataset *d = tsdata_find("bessel_j2"), *narma = tsdata_find("narma_5");
    double y[100];
    struct split_plan plan;
    fw_error err = {0};
    for (int k = 0; k < 100; k++)
        y[k] = k;
    assert_int_not_equal(tsdata_plan(d, y, NULL, 60, 64, &plan, &err), 0);     /* too short */
    assert_int_not_equal(tsdata_plan(d, y, NULL, 0, 64, &plan, &err), 0);      /* empty */
    assert_int_not_equal(tsdata_plan(narma, y, NULL, 100, 8, &plan, &err), 0); /* no driver */
    y[7] = NAN;
    assert_int_not_equal(tsdata_plan(d, y, NULL, 100, 8, &plan, &err), 0);
    assert_non_null(strstr(err.msg, "value 8"));
    for (int k = 0; k < 100; k++)
        y[k] = 2.5;
    assert_int_not_equal(tsdata_plan(d, y, NULL, 100, 8, &plan, &err), 0); /* constant */
}

/* Every time-series configuration builds, and the headline one has paper.md §1.6's 159. */
static void test_model_configs(void **state)
{
    (void)state;
    const char *names[] = {"gated-qkan-fwp", "gqkanfwp", "gqkan-fwp", "gqkan-qfwp", "qfwp"};
    for (size_t i = 0; i < 5; i++) {
        char config[512];
        const char *extra = tsdata_model_config(names[i]);
        assert_non_null(extra);
        snprintf(config, sizeof config, "window=64;horizon=1;%s", extra);
        struct model *m = NULL;
        fw_error err = {0};
        assert_int_equal(model_create(names[i], config, 0, &m, &err), 0);
        assert_true(m->n_params > 90 && m->n_params < 170);
        if (i == 0)
            assert_int_equal(m->n_params, 159);
        model_destroy(m);
    }
    assert_null(tsdata_model_config("no-such-model"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narma),         cmocka_unit_test(test_generators),
        cmocka_unit_test(test_plan),          cmocka_unit_test(test_plan_bad_input),
        cmocka_unit_test(test_model_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
