/* Tests for model/vqc: known states, <Z> bounds, and adjoint gradients against central
 * differences. */
#include "testutil.h"
#include "model/rng.h"
#include "model/vqc.h"

#include <math.h>
#include <stdlib.h>

static void test_known_states(void **state)
{
    (void)state;
    /* no layers: H then RY(x) on qubit 0 gives <Z_0> = -sin(x) (from |+>), others 0 */
    struct vqc c = {4, 0, 4};
    double scratch[3 * 16], out[4];
    vqc_forward(&c, 0.7, NULL, out, scratch);
    assert_true(fabs(out[0] + sin(0.7)) < 1e-14);
    for (int q = 1; q < 4; q++)
        assert_true(fabs(out[q]) < 1e-14);
    /* every output of a random circuit is an expectation in [-1, 1] */
    struct vqc d = {8, 2, 4};
    double *s = malloc(vqc_scratch_size(&d) * sizeof *s), angles[16], o[4];
    rng r;
    rng_seed(&r, 1);
    for (int t = 0; t < 50; t++) {
        for (int k = 0; k < 16; k++)
            angles[k] = rng_uniform_range(&r, -4, 4);
        vqc_forward(&d, rng_uniform_range(&r, -2, 2), angles, o, s);
        for (int q = 0; q < 4; q++)
            assert_true(o[q] >= -1 - 1e-12 && o[q] <= 1 + 1e-12);
    }
    free(s);
}

static double objective(const struct vqc *c, double x, const double *angles, const double *w,
                        double *scratch)
{
    double out[VQC_MAX_QUBITS];
    vqc_forward(c, x, angles, out, scratch);
    double s = 0;
    for (int q = 0; q < c->n_out; q++)
        s += w[q] * out[q];
    return s;
}

static void test_gradients(void **state)
{
    (void)state;
    struct vqc c = {6, 3, 4};
    double *scratch = malloc(vqc_scratch_size(&c) * sizeof *scratch);
    double angles[18], grad[18], w[4], dx;
    rng r;
    rng_seed(&r, 2);
    for (int trial = 0; trial < 10; trial++) {
        for (int k = 0; k < 18; k++)
            angles[k] = rng_uniform_range(&r, -3, 3);
        for (int q = 0; q < 4; q++)
            w[q] = rng_uniform_range(&r, -1, 1);
        double x = rng_uniform_range(&r, -1, 1);
        vqc_backward(&c, x, angles, w, grad, &dx, scratch);
        const double h = 1e-5;
        for (int k = 0; k < 18; k++) {
            double keep = angles[k];
            angles[k] = keep + h;
            double up = objective(&c, x, angles, w, scratch);
            angles[k] = keep - h;
            double down = objective(&c, x, angles, w, scratch);
            angles[k] = keep;
            assert_true(tu_reldiff((up - down) / (2 * h), grad[k], 1e-2) < 1e-6);
        }
        double fd =
            (objective(&c, x + h, angles, w, scratch) - objective(&c, x - h, angles, w, scratch)) /
            (2 * h);
        assert_true(tu_reldiff(fd, dx, 1e-2) < 1e-6);
    }
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_states),
        cmocka_unit_test(test_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
