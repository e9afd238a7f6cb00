/*
 * cycle — solar cycle minima and maxima on a 13-month smoothed sunspot series (model/smooth.h),
 * and, for forecasts, the next minimum and maximum after the last observed month.
 *
 * The series is given with the month index of its first value (base/period.h); NaN marks months
 * without a smoothed value (the ends of the record, missing months) and is skipped. The rule, with
 * the defaults of CYCLE_RULE_DEFAULT (N = 40 months, f = 0.5, r = 10, d = 0.25, t = 0.05):
 *
 *   minimum  month i is the lowest of the months i-N .. i+N (strictly below every earlier one,
 *            not above any later one: the first of equal values) and, on each side, the highest
 *            month of that window is at least max(S[i] / f, S[i] + r): the minimum lies below a
 *            fraction f of the activity on both sides and the series rises at least r on both
 *            sides, so a series that ends (or starts) while still falling has no minimum there.
 *            Two minima are therefore more than N months apart.
 *   plateau  a flat minimum is reported at its middle: of the months in i-N .. i+N within t of
 *            S[i], the one nearest the middle of the first and the last of them (the later one
 *            when two are as near). SILSO's table predates revisions that made some minima flat
 *            in this release (1810-03..1810-12 all 0.0; 1996-05 and 1996-08 both 11.2) and is
 *            not consistent on such ties; this rule is the simple one that puts each of its cycle
 *            1..25 minima within a month (exact for 21; cycles 1, 6, 7 and 15 are flat and one
 *            month off), where the first of equal values would be 2 to 4 months off for 3 of them.
 *   maximum  of a cycle (from its minimum to the next minimum): its highest month, a plateau
 *            again reported at its middle. The last cycle of the series, with no next minimum
 *            yet, has a maximum only once the series has fallen below the highest month by at
 *            least max(r, d x (highest - minimum)) after it; until then it is still rising (the
 *            dips between the two peaks of a double-peaked cycle are below 0.14 of its amplitude
 *            in cycles 1-25, d = 0.25 leaves a margin).
 *   numbers  a minimum within 24 months of the start of SILSO's cycle k (1..25, cycle 1 starting
 *            1755-02, cycle 25 2019-12) starts cycle k; any other minimum starts the cycle after
 *            the previous minimum's; before any numbered minimum the number is 0 (unknown).
 *
 * On SILSO's smoothed record this finds exactly cycles 1..25, each minimum and maximum within one
 * month of SILSO's table (tests/unit/test_cycle.c). Cost O(n N); nothing is allocated, no state is
 * kept; the caller owns every buffer.
 */
#ifndef FW_CYCLE_H
#define FW_CYCLE_H

#include <stddef.h>

#include "base/error.h"

#define CYCLE_ONE_START (1755 * 12 + 1) /* 1755-02, the minimum that starts SILSO's cycle 1 */

struct cycle_rule {
    size_t half_window;  /* N, months */
    double min_fraction; /* f, in (0, 1] */
    double min_rise;     /* r, in the series' units, >= 0 */
    double max_drop;     /* d, in (0, 1] */
    double tie;          /* t, in the series' units, >= 0 */
};

#define CYCLE_RULE_DEFAULT                                                                         \
    {                                                                                              \
        40, 0.5, 10.0, 0.25, 0.05                                                                  \
    }

struct cycle_point {
    size_t index; /* into the series */
    int month;    /* month index: first_month + index */
    double value; /* the smoothed value there */
};

struct solar_cycle {
    int number; /* SILSO's cycle number; 0 when unknown */
    struct cycle_point min;
    int has_max; /* 0 while the last cycle is still rising */
    struct cycle_point max;
};

/* The most cycles a series of n months can hold under rule (NULL: the default). */
size_t cycle_capacity(size_t n, const struct cycle_rule *rule);

/* Every cycle whose starting minimum is in the series, in order, into out[0..*count). rule may be
 * NULL (the default). Returns 0; FW_EINVAL for a NULL pointer (smoothed may be NULL when n == 0)
 * or a rule outside its ranges; FW_ERANGE when more than cap cycles are found (cycle_capacity is
 * always enough). On failure *count is unset and out[] may have been written. */
int cycle_find(const double *smoothed, size_t n, int first_month, const struct cycle_rule *rule,
               struct solar_cycle *out, size_t cap, size_t *count);

/* For a forecast: smoothed[0..n) is the smoothing of the observed months followed by the forecast
 * months (smooth13_joined), last_observed the index of the last observed month. The next minimum
 * is the first minimum at or after last_observed (when the current cycle is past its minimum,
 * that is the next cycle's); the next maximum is that cycle's maximum. has_min / has_max say
 * whether each is within the series (the horizon); number is the cycle the minimum starts
 * (0 when unknown or without a minimum). Returns 0, or FW_EINVAL for a NULL pointer, a bad rule
 * or last_observed >= n. */
struct cycle_next {
    int has_min, has_max;
    int number;
    struct cycle_point min, max;
};

int cycle_next_extrema(const double *smoothed, size_t n, int first_month, size_t last_observed,
                       const struct cycle_rule *rule, struct cycle_next *out);

#endif
