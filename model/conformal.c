/* conformal — split-conformal intervals per horizon step (see conformal.h). */
#include "model/conformal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const METHOD_NAMES[CONFORMAL_N_METHODS] = {"absolute", "signed", "sqrt"};

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

double conformal_sqrt_score(double y, double yhat, double c)
{
    return sqrt(fmax(y, 0.0) + c) - sqrt(fmax(yhat, 0.0) + c);
}

void conformal_fit_scores(const struct conformal_bands *b, size_t n, size_t horizon,
                          const double *pred, const double *truth, double *scores)
{
    if (b->method == CONFORMAL_ABSOLUTE) {
        conformal_fit(n, horizon, pred, truth, scores);
        return;
    }
    for (size_t j = 0; j < horizon; j++) {
        double *row = scores + j * n;
        for (size_t k = 0; k < n; k++) {
            double y = truth[k * horizon + j], yhat = pred[k * horizon + j];
            row[k] =
                b->method == CONFORMAL_SQRT ? conformal_sqrt_score(y, yhat, b->offset) : y - yhat;
        }
        qsort(row, n, sizeof *row, cmp_double);
    }
}

/* The 1-based rank ceil((n+1) level / 100), at least 1; may exceed n. */
static size_t level_rank(size_t n, double level)
{
    /* a relative nudge below the ceiling, so a decimal level whose product rounds up by one ulp
     * (250 * 64.4 / 100 = 161.00000000000003) keeps its exact rank */
    double x = (double)(n + 1) * level / 100.0;
    double rank = ceil(x * (1.0 - 1e-12));
    return rank < 1 ? 1 : (size_t)rank;
}

double conformal_halfwidth(const double *residuals, size_t n, size_t step, double level,
                           int *guaranteed)
{
    if (n == 0) {
        if (guaranteed)
            *guaranteed = 0;
        return INFINITY;
    }
    size_t index = level_rank(n, level);
    if (guaranteed)
        *guaranteed = index <= n;
    if (index > n)
        index = n;
    return residuals[step * n + index - 1];
}

/* The unsmoothed offsets of one step; returns whether n supports the level. */
static int step_quantiles(const struct conformal_bands *b, const double *scores, size_t n,
                          size_t step, double level, double *q_lo, double *q_hi)
{
    int g = 0;
    if (b->method == CONFORMAL_ABSOLUTE) {
        double half = conformal_halfwidth(scores, n, step, level, &g);
        *q_lo = -half, *q_hi = half;
        return g;
    }
    /* each tail misses (100 - level) / 2 percent: the upper rank is that of 50 + level / 2,
     * the lower one its mirror n + 1 - k */
    size_t k = level_rank(n, 50.0 + level / 2.0);
    g = k <= n;
    if (k > n)
        k = n;
    *q_lo = scores[step * n + (n - k)];
    *q_hi = scores[step * n + k - 1];
    return g;
}

int conformal_quantiles(const struct conformal_bands *b, const double *scores, size_t n,
                        size_t step, double level, double *q_lo, double *q_hi)
{
    if (n == 0) {
        *q_lo = -INFINITY, *q_hi = INFINITY;
        return 0;
    }
    int g = step_quantiles(b, scores, n, step, level, q_lo, q_hi);
    for (size_t s = 0; b->monotone && s < step; s++) {
        double lo, hi;
        step_quantiles(b, scores, n, s, level, &lo, &hi); /* the same n: the same guarantee */
        *q_lo = fmin(*q_lo, lo);
        *q_hi = fmax(*q_hi, hi);
    }
    return g;
}

/* The inverse of the square-root transform, floored at the transform of 0. */
static double sqrt_back(double u, double c)
{
    double v = fmax(u, sqrt(c));
    /* sqrt(c)^2 can round below c (c = 3): never below 0 */
    return fmax(v * v - c, 0.0);
}

void conformal_bounds(const struct conformal_bands *b, double yhat, double q_lo, double q_hi,
                      double scale, double *lo, double *hi)
{
    if (b->method != CONFORMAL_SQRT) {
        *lo = yhat + q_lo * scale;
        *hi = yhat + q_hi * scale;
        return;
    }
    double t = sqrt(fmax(yhat, 0.0) + b->offset);
    *lo = sqrt_back(t + q_lo, b->offset);
    *hi = sqrt_back(t + q_hi, b->offset);
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

int conformal_valid_bands(const struct conformal_bands *b, const double *scores, size_t n,
                          size_t horizon)
{
    if (b->method == CONFORMAL_ABSOLUTE)
        return b->offset == 0 && conformal_valid(scores, n, horizon);
    if (b->method == CONFORMAL_SIGNED
            ? b->offset != 0
            : !(b->method == CONFORMAL_SQRT && b->offset >= 0 && isfinite(b->offset)))
        return 0;
    for (size_t j = 0; j < horizon; j++)
        for (size_t k = 0; k < n; k++) {
            double s = scores[j * n + k];
            if (!isfinite(s) || (k > 0 && s < scores[j * n + k - 1]))
                return 0;
        }
    return 1;
}

const char *conformal_method_name(enum conformal_method method)
{
    return (unsigned)method < CONFORMAL_N_METHODS ? METHOD_NAMES[method] : NULL;
}

int conformal_method_parse(const char *name)
{
    for (int i = 0; name && i < CONFORMAL_N_METHODS; i++)
        if (!strcmp(name, METHOD_NAMES[i]))
            return i;
    return -1;
}
