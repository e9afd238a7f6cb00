/* Tests for quantum/circuit: the golden vector of quantum-apis.md §1, DARUAN circuits against
 * the simulation in model/daruan, and the ISA form's probability. */
#include "testutil.h"
#include "model/rng.h"
#include "quantum/circuit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_golden_vector(void **state)
{
    (void)state;
    struct qcircuit c = {0};
    circuit_add(&c, QGATE_RY, M_PI / 4);
    circuit_add(&c, QGATE_RZ, -1.2);
    circuit_add(&c, QGATE_RY, 0.31);
    double theta, phi, lambda;
    circuit_zyz(&c, &theta, &phi, &lambda);
    assert_true(fabs(theta - 0.93323491632288069) < 1e-12);
    assert_true(fabs(phi - -0.96171638793922143) < 1e-12);
    assert_true(fabs(lambda - -0.36167161302997147) < 1e-12);
    assert_true(fabs(circuit_p0(&c) - 0.79761884265478133) < 1e-12);
    assert_true(fabs(cos(theta) - 0.59523768530956267) < 1e-12);
    char qasm[256];
    circuit_qasm_isa(&c, 3, qasm, sizeof qasm);
    assert_non_null(strstr(qasm, "rz(4.0748275699126735) $3"));
    assert_non_null(strstr(qasm, "c[0] = measure $3;"));
}

/* ZYZ: P0 = cos^2(theta/2) for random circuits of every gate kind. */
static void test_zyz_probability(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 8);
    for (int trial = 0; trial < 2000; trial++) {
        struct qcircuit c = {0};
        int n = 1 + (int)rng_below(&r, 9);
        for (int k = 0; k < n; k++)
            circuit_add(&c, (enum qgate_kind)rng_below(&r, 3), rng_uniform_range(&r, -7, 7));
        double theta, phi, lambda;
        circuit_zyz(&c, &theta, &phi, &lambda);
        double p0 = circuit_p0(&c);
        assert_true(fabs(p0 - cos(theta / 2) * cos(theta / 2)) < 1e-12);
        assert_true(theta >= 0 && theta <= M_PI + 1e-12);
        /* the Euler form reproduces the circuit: RZ(lambda) RY(theta) RZ(phi) in time order */
        struct qcircuit e = {0};
        circuit_add(&e, QGATE_RZ, lambda);
        circuit_add(&e, QGATE_RY, theta);
        circuit_add(&e, QGATE_RZ, phi);
        assert_true(fabs(circuit_p0(&e) - p0) < 1e-12);
    }
}

/* A DARUAN edge's circuit gives the probability daruan.c simulates. */
static void test_daruan_circuit(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 9);
    for (int trial = 0; trial < 200; trial++) {
        double theta[8], pw[3], pb[3];
        int reps = 1 + (int)rng_below(&r, 3);
        for (int k = 0; k < 2 * (reps + 1); k++)
            theta[k] = rng_uniform_range(&r, -3, 3);
        for (int k = 0; k < reps; k++) {
            pw[k] = rng_uniform_range(&r, 0.5, 1.5);
            pb[k] = rng_uniform_range(&r, -1, 1);
        }
        struct daruan_edge e = {reps, theta, trial % 2 ? pw : NULL, trial % 2 ? pb : NULL};
        double x = rng_uniform_range(&r, -2, 2);
        struct qcircuit c;
        circuit_from_daruan(&e, x, &c);
        assert_int_equal(c.n, 3 * reps + 3);
        assert_true(fabs(circuit_p0(&c) - daruan_p0(&e, x)) < 1e-12);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vector),
        cmocka_unit_test(test_zyz_probability),
        cmocka_unit_test(test_daruan_circuit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
