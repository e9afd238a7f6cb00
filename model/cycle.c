/*
 * cycle — solar cycle minima and maxima on a smoothed sunspot series (see cycle.h for the rule).
 * A walk over the series finds the minima one after the other; a cycle's maximum is looked for
 * between its minimum and the next one. Nothing is allocated.
 */
#include "model/cycle.h"

#include <math.h>

/* Months between a minimum and SILSO's start of a cycle for the minimum to take its number. */
#define NUMBER_MATCH 24

/* SILSO's cycle starts as month indices: cycles 1..24 from its table of cycle extrema
 * (https://www.sidc.be/SILSO/DATA/Cycles/TableCyclesMiMa.txt), cycle 25 as SILSO declared it in
 * September 2020 (2019-12). */
static const int official_starts[] = {
    1755 * 12 + 1, 1766 * 12 + 5,  1775 * 12 + 5,  1784 * 12 + 8,  1798 * 12 + 3,
    1810 * 12 + 6, 1823 * 12 + 4,  1833 * 12 + 10, 1843 * 12 + 6,  1855 * 12 + 11,
    1867 * 12 + 2, 1878 * 12 + 11, 1890 * 12 + 2,  1902 * 12 + 0,  1913 * 12 + 6,
    1923 * 12 + 7, 1933 * 12 + 8,  1944 * 12 + 1,  1954 * 12 + 3,  1964 * 12 + 9,
    1976 * 12 + 2, 1986 * 12 + 8,  1996 * 12 + 7,  2008 * 12 + 11, 2019 * 12 + 11,
};

#define N_OFFICIAL (sizeof official_starts / sizeof official_starts[0])

struct walk {
    const double *s;
    size_t n;
    int first_month;
    const struct cycle_rule *rule;
    size_t pos; /* the next month to test */
    int number; /* the last minimum's cycle number */
};

static int rule_ok(const struct cycle_rule *r)
{
    return r->half_window >= 1 && r->min_fraction > 0.0 && r->min_fraction <= 1.0 &&
           r->min_rise >= 0.0 && r->max_drop > 0.0 && r->max_drop <= 1.0 && r->tie >= 0.0 &&
           isfinite(r->min_rise) && isfinite(r->tie);
}

/* The months i-N .. i+N that exist. */
static void window(size_t n, size_t i, size_t half, size_t *lo, size_t *hi)
{
    *lo = i >= half ? i - half : 0;
    *hi = n - 1 - i > half ? i + half : n - 1;
}

/* Whether month i passes the minimum rule (cycle.h) before the plateau is placed. */
static int is_minimum(const double *s, size_t n, size_t i, const struct cycle_rule *r)
{
    if (!isfinite(s[i]))
        return 0;
    size_t lo, hi;
    window(n, i, r->half_window, &lo, &hi);
    double left = -INFINITY, right = -INFINITY;
    for (size_t j = lo; j < i; j++) {
        if (!isfinite(s[j]))
            continue;
        if (s[j] <= s[i])
            return 0;
        left = fmax(left, s[j]);
    }
    for (size_t j = i + 1; j <= hi; j++) {
        if (!isfinite(s[j]))
            continue;
        if (s[j] < s[i])
            return 0;
        right = fmax(right, s[j]);
    }
    double need = fmax(s[i] / r->min_fraction, s[i] + r->min_rise);
    return left >= need && right >= need;
}

/* Whether s[j] ties ref within tie: from above for a minimum (sign 1), below for a maximum. */
static int ties(double v, double ref, double tie, int sign)
{
    return isfinite(v) && (sign > 0 ? v <= ref + tie : v >= ref - tie);
}

/* Of the months lo..hi that tie ref, the one nearest the middle of the first and the last of
 * them, the later one when two are as near. ref's own month ties, so one always exists. */
static size_t plateau(const double *s, size_t lo, size_t hi, double ref, double tie, int sign)
{
    size_t first = hi, last = lo;
    for (size_t j = lo; j <= hi; j++) {
        if (ties(s[j], ref, tie, sign)) {
            first = j < first ? j : first;
            last = j;
        }
    }
    size_t twice_mid = first + last, best = first, best_dist = (size_t)-1;
    for (size_t j = first; j <= last; j++) {
        if (!ties(s[j], ref, tie, sign))
            continue;
        size_t dist = 2 * j > twice_mid ? 2 * j - twice_mid : twice_mid - 2 * j;
        if (dist <= best_dist) {
            best = j;
            best_dist = dist;
        }
    }
    return best;
}

static struct cycle_point point_at(const struct walk *w, size_t i)
{
    struct cycle_point p = {i, w->first_month + (int)i, w->s[i]};
    return p;
}

/* SILSO's number of a cycle starting at month, else the one after the previous cycle's. */
static int cycle_number(int month, int previous)
{
    for (size_t k = 0; k < N_OFFICIAL; k++) {
        int d = month - official_starts[k];
        if (d >= -NUMBER_MATCH && d <= NUMBER_MATCH)
            return (int)k + 1;
    }
    return previous > 0 ? previous + 1 : 0;
}

/* The next minimum from w->pos on; 1 if found (and w moves past it), 0 at the end. */
static int next_minimum(struct walk *w, struct cycle_point *min)
{
    for (size_t i = w->pos; i < w->n; i++) {
        if (!is_minimum(w->s, w->n, i, w->rule))
            continue;
        size_t lo, hi;
        window(w->n, i, w->rule->half_window, &lo, &hi);
        *min = point_at(w, plateau(w->s, lo, hi, w->s[i], w->rule->tie, 1));
        w->number = cycle_number(min->month, w->number);
        w->pos = i + 1;
        return 1;
    }
    w->pos = w->n;
    return 0;
}

/* Whether the series falls far enough after an open cycle's highest month top (cycle.h). */
static int confirmed_fall(const struct walk *w, size_t min, size_t top)
{
    double drop = fmax(w->rule->min_rise, w->rule->max_drop * (w->s[top] - w->s[min]));
    for (size_t q = top + 1; q < w->n; q++) {
        if (isfinite(w->s[q]) && w->s[q] <= w->s[top] - drop)
            return 1;
    }
    return 0;
}

/* The maximum of the cycle from the minimum at index min to the next minimum at end (w->n and
 * open when there is none yet); 1 if it has one. */
static int cycle_maximum(const struct walk *w, size_t min, size_t end, int open,
                         struct cycle_point *max)
{
    size_t top = end;
    for (size_t j = min + 1; j < end; j++) {
        if (isfinite(w->s[j]) && (top == end || w->s[j] > w->s[top]))
            top = j;
    }
    if (top == end || w->s[top] <= w->s[min])
        return 0;
    if (open && !confirmed_fall(w, min, top))
        return 0;
    *max = point_at(w, plateau(w->s, min + 1, end - 1, w->s[top], w->rule->tie, -1));
    return 1;
}

static int walk_start(struct walk *w, const double *s, size_t n, int first_month,
                      const struct cycle_rule *rule)
{
    if ((n > 0 && s == NULL) || (rule != NULL && !rule_ok(rule)))
        return FW_EINVAL;
    struct walk start = {s, n, first_month, rule, 0, 0};
    *w = start;
    return FW_OK;
}

size_t cycle_capacity(size_t n, const struct cycle_rule *rule)
{
    static const struct cycle_rule fallback = CYCLE_RULE_DEFAULT;
    size_t half = rule && rule->half_window ? rule->half_window : fallback.half_window;
    return n / (half + 1) + 1;
}

int cycle_find(const double *smoothed, size_t n, int first_month, const struct cycle_rule *rule,
               struct solar_cycle *out, size_t cap, size_t *count)
{
    const struct cycle_rule fallback = CYCLE_RULE_DEFAULT;
    struct walk w;
    int rc = walk_start(&w, smoothed, n, first_month, rule ? rule : &fallback);
    if (rc != FW_OK || count == NULL || (cap > 0 && out == NULL))
        return rc != FW_OK ? rc : FW_EINVAL;
    size_t found = 0;
    struct cycle_point min;
    while (next_minimum(&w, &min)) {
        if (found == cap)
            return FW_ERANGE;
        if (found > 0) {
            struct solar_cycle *prev = &out[found - 1];
            prev->has_max = cycle_maximum(&w, prev->min.index, min.index, 0, &prev->max);
        }
        struct solar_cycle c = {w.number, min, 0, {0, 0, NAN}};
        out[found++] = c;
    }
    if (found > 0) {
        struct solar_cycle *last = &out[found - 1];
        last->has_max = cycle_maximum(&w, last->min.index, n, 1, &last->max);
    }
    *count = found;
    return FW_OK;
}

int cycle_next_extrema(const double *smoothed, size_t n, int first_month, size_t last_observed,
                       const struct cycle_rule *rule, struct cycle_next *out)
{
    const struct cycle_rule fallback = CYCLE_RULE_DEFAULT;
    struct walk w;
    int rc = walk_start(&w, smoothed, n, first_month, rule ? rule : &fallback);
    if (rc != FW_OK || out == NULL || last_observed >= n)
        return rc != FW_OK ? rc : FW_EINVAL;
    struct cycle_next next = {0, 0, 0, {0, 0, NAN}, {0, 0, NAN}};
    struct cycle_point min, after;
    int found;
    while ((found = next_minimum(&w, &min)) && min.index < last_observed)
        ;
    if (found) {
        next.has_min = 1;
        next.number = w.number;
        next.min = min;
        int closed = next_minimum(&w, &after);
        next.has_max = cycle_maximum(&w, min.index, closed ? after.index : n, !closed, &next.max);
    }
    *out = next;
    return FW_OK;
}
