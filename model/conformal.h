/*
 * conformal — split-conformal prediction intervals per horizon step. From n calibration
 * windows (the validation split, never trained on) the absolute residuals |y - yhat| of every
 * step are kept sorted; the interval for level N% at step j is yhat +- the ceil((n+1) N/100)-th
 * smallest residual of step j, which covers a new window's truth with probability >= N% when
 * windows are exchangeable. Levels that n cannot support (the index exceeds n) take the largest
 * residual and are reported as not guaranteed. Caller-owned arrays.
 */
#ifndef FW_CONFORMAL_H
#define FW_CONFORMAL_H

#include <stddef.h>

/* residuals (horizon x n, row j = step j, sorted ascending) from pred and truth (n x horizon). */
void conformal_fit(size_t n, size_t horizon, const double *pred, const double *truth,
                   double *residuals);

/* Half-width at step j for a level in (0, 100). *guaranteed (may be NULL) says whether n
 * calibration windows suffice for the level. */
double conformal_halfwidth(const double *residuals, size_t n, size_t step, double level,
                           int *guaranteed);

/* 1 when residuals (horizon x n) are what conformal_fit writes: finite, non-negative, each row
 * sorted ascending; 0 otherwise. For readers of stored residuals (a file may hold anything). */
int conformal_valid(const double *residuals, size_t n, size_t horizon);

#endif
