/* loss — peak-aware mean squared error (see loss.h). */
#include "model/loss.h"

double loss_peak_mse(size_t count, const double *yhat, const double *y, double alpha, double *grad)
{
    if (count == 0)
        return 0.0;
    double sum = 0.0, scale = 1.0 / (double)count;
    for (size_t k = 0; k < count; k++) {
        double d = yhat[k] - y[k], weight = 1.0 + alpha * y[k];
        sum += d * d * weight;
        if (grad)
            grad[k] = 2.0 * d * weight * scale;
    }
    return sum * scale;
}
