/* conformal — split-conformal intervals per horizon step (see conformal.h). */
#include "model/conformal.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void conformal_fit(size_t n, size_t horizon, const double *pred, const double *truth,
                   double *residuals)
{
    for (size_t j = 0; j < horizon; j++) {
        double *row = residuals + j * n;
        for (size_t k = 0; k < n; k++)
            row[k] = fabs(truth[k * horizon + j] - pred[k * horizon + j]);
        qsort(row, n, sizeof *row, cmp_double);
    }
}

double conformal_halfwidth(const double *residuals, size_t n, size_t step, double level,
                           int *guaranteed)
{
    if (n == 0) {
        if (guaranteed)
            *guaranteed = 0;
        return INFINITY;
    }
    /* a relative nudge below the ceiling, so a decimal level whose product rounds up by one ulp
     * (250 * 64.4 / 100 = 161.00000000000003) keeps its exact rank */
    double x = (double)(n + 1) * level / 100.0;
    double rank = ceil(x * (1.0 - 1e-12));
    size_t index = rank < 1 ? 1 : (size_t)rank;
    if (guaranteed)
        *guaranteed = index <= n;
    if (index > n)
        index = n;
    return residuals[step * n + index - 1];
}

int conformal_valid(const double *residuals, size_t n, size_t horizon)
{
    for (size_t j = 0; j < horizon; j++)
        for (size_t k = 0; k < n; k++) {
            double r = residuals[j * n + k];
            if (!(r >= 0 && isfinite(r)) || (k > 0 && r < residuals[j * n + k - 1]))
                return 0;
        }
    return 1;
}
