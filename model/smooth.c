/*
 * smooth — SILSO's 13-month smoothed sunspot number (see smooth.h). Each output month is the
 * 13-term weighted sum computed afresh (no running sum, so no drift and NaN cannot leak out of a
 * window it has left); that is 13 additions per month, O(n).
 */
#include "model/smooth.h"

#include <math.h>

/* Month i of the joined series head ++ tail. */
static double joined_at(const double *head, size_t n_head, const double *tail, size_t i)
{
    return i < n_head ? head[i] : tail[i - n_head];
}

/* S[i] of the joined series of n months; NaN where the window does not fit or holds a NaN. */
static double smooth_at(const double *head, size_t n_head, const double *tail, size_t n, size_t i)
{
    if (i < SMOOTH13_HALF || i + SMOOTH13_HALF >= n)
        return NAN;
    double sum = 0.5 * (joined_at(head, n_head, tail, i - SMOOTH13_HALF) +
                        joined_at(head, n_head, tail, i + SMOOTH13_HALF));
    for (size_t j = i - (SMOOTH13_HALF - 1); j <= i + (SMOOTH13_HALF - 1); j++)
        sum += joined_at(head, n_head, tail, j);
    double value = sum / 12.0;
    return isfinite(value) ? value : NAN;
}

int smooth13_joined(const double *head, size_t n_head, const double *tail, size_t n_tail,
                    size_t first, double *out)
{
    if ((n_head > 0 && head == NULL) || (n_tail > 0 && tail == NULL))
        return FW_EINVAL;
    size_t n = n_head + n_tail;
    if (n < n_head || first > n)
        return FW_EINVAL;
    if (first == n)
        return FW_OK;
    if (out == NULL || (n_head > 0 && out == head) || (n_tail > 0 && out == tail))
        return FW_EINVAL;
    for (size_t i = first; i < n; i++)
        out[i - first] = smooth_at(head, n_head, tail, n, i);
    return FW_OK;
}

int smooth13(const double *monthly, size_t n, double *out)
{
    return smooth13_joined(monthly, n, NULL, 0, 0, out);
}
