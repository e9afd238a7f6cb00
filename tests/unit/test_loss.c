/* Tests for model/loss: values by hand and the gradient by central differences. */
#include "testutil.h"
#include "model/loss.h"
#include "model/rng.h"

#include <math.h>

static void test_values(void **state)
{
    (void)state;
    double yhat[2] = {0.5, 0.1}, y[2] = {0.3, 0.4}, g[2];
    /* ((0.2)^2 * 1.3 + (0.3)^2 * 1.4) / 2 */
    double expect = (0.04 * 1.3 + 0.09 * 1.4) / 2;
    assert_true(fabs(loss_peak_mse(2, yhat, y, 1.0, g) - expect) < 1e-15);
    assert_true(fabs(loss_peak_mse(2, yhat, y, 0.0, NULL) - (0.04 + 0.09) / 2) < 1e-15);
    assert_true(loss_peak_mse(0, yhat, y, 1.0, NULL) == 0.0);
}

static void test_gradient(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 3);
    double yhat[20], y[20], g[20];
    for (int k = 0; k < 20; k++) {
        yhat[k] = rng_uniform(&r);
        y[k] = rng_uniform(&r);
    }
    loss_peak_mse(20, yhat, y, 1.0, g);
    for (int k = 0; k < 20; k++) {
        double keep = yhat[k], h = 1e-6;
        yhat[k] = keep + h;
        double up = loss_peak_mse(20, yhat, y, 1.0, NULL);
        yhat[k] = keep - h;
        double down = loss_peak_mse(20, yhat, y, 1.0, NULL);
        yhat[k] = keep;
        assert_true(tu_reldiff((up - down) / (2 * h), g[k], 1e-2) < 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
