/*
 * smooth — SILSO's 13-month smoothed sunspot number, the series that solar cycle minima and maxima
 * are defined on.
 *
 * The smoothed value of month i is the tapered 13-month running mean SILSO publishes
 * (SN_ms_tot_V2.0.csv):
 *
 *     S[i] = (0.5 R[i-6] + R[i-5] + ... + R[i+5] + 0.5 R[i+6]) / 12
 *
 * It is NaN where the window does not fit in the series (the first and the last 6 months, where
 * SILSO writes -1) and where any of the 13 months is missing (NaN) or the result is not finite.
 * On the whole SILSO monthly record it reproduces SILSO's published smoothed values (given to 0.1)
 * within 0.05 plus floating-point rounding (tests/unit/test_smooth.c).
 *
 * Observed months followed by forecast months are smoothed the same way, on their concatenation:
 * smooth13_joined reads the two parts as one series without copying them, and can start at any
 * month, so that an ensemble's bands (the smoothing of each member's path) cost O(forecast length)
 * per member: only the months from 6 before the junction on depend on the forecast. Every
 * function here is O(months written), allocates nothing and keeps no state; the caller owns every
 * buffer. out must not overlap the inputs.
 */
#ifndef FW_SMOOTH_H
#define FW_SMOOTH_H

#include <stddef.h>

#include "base/error.h"

#define SMOOTH13_HALF 6 /* months on each side of the centre month */

/* out[i] = S[i] for i < n (NaN where undefined, see above). n == 0 writes nothing. Returns 0, or
 * FW_EINVAL for a NULL pointer with n > 0 or out == monthly. */
int smooth13(const double *monthly, size_t n, double *out);

/* The smoothing of the series head[0..n_head) followed by tail[0..n_tail) (observed months, then
 * forecast months), for the months first .. n_head + n_tail - 1 of that series:
 * out[k] = S[first + k]. Equal to smooth13 on the concatenation. Either part may be empty (NULL
 * with length 0); first == n_head + n_tail writes nothing. Returns 0, or FW_EINVAL for a NULL
 * pointer with a non-zero length, first beyond the end, or out equal to head or tail. */
int smooth13_joined(const double *head, size_t n_head, const double *tail, size_t n_tail,
                    size_t first, double *out);

#endif
