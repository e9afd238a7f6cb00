/* Tests for model/cycle: the cycles of SILSO's smoothed record against SILSO's own table of cycle
 * minima and maxima, the next extrema of a forecast at several cuts of the real record, and edge
 * cases. */
#include "testutil.h"
#include "model/cycle.h"
#include "model/smooth.h"
#include "base/period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(y, m)     ((y)*12 + (m)-1)
#define FIRST_MONTH M(1749, 1) /* the SILSO files' first month */
#define AT(y, m)    ((size_t)(M(y, m) - FIRST_MONTH))

/* Reads a SILSO monthly file (year;month;decimal date;value;...) into a malloc'd array, -1 as NaN.
 * Checks that the months are consecutive from 1749-01. */
static double *load_silso(const char *rel, size_t *n)
{
    char *path = tu_path(rel);
    size_t len = 0;
    char *text = path ? tu_read_file(path, &len) : NULL;
    if (!text)
        fail_msg("cannot read %s (run from the project root or set FWPCAST_ROOT)", rel);
    free(path);
    size_t cap = 4096, count = 0;
    double *values = malloc(cap * sizeof *values);
    assert_non_null(values);
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int year, month;
        double date, value;
        assert_int_equal(sscanf(line, "%d;%d;%lf;%lf", &year, &month, &date, &value), 4);
        assert_int_equal(M(year, month) - FIRST_MONTH, (int)count);
        assert_true(count < cap);
        values[count++] = value < 0 ? NAN : value;
    }
    free(text);
    *n = count;
    return values;
}

/* SILSO's table of cycle extrema (https://www.sidc.be/SILSO/DATA/Cycles/TableCyclesMiMa.txt,
 * cycles 1..24, as copied in cmoestl/heliocats data/TableCyclesMiMa.txt) and cycle 25: its start
 * as SILSO declared it (2019-12, 1.8) and its maximum in this release of the smoothed file
 * (2024-10, 160.9; NOAA's observed-solar-cycle-indices.json, an older release, has 160.8). The
 * table's values predate a few revisions: 264.2 (3), 0.1 (7) and 9.3 (16) are 264.3, 0.2 and 9.4
 * in this release, so values are compared within 0.1.
 * `slack` is the months the detector may be off the minimum's date, where the minimum is flat in
 * this release (equal smoothed values; cycle.h places such a minimum at the middle of its plateau,
 * SILSO's table is not consistent on ties). Every maximum must match exactly. */
static const struct official {
    int number, min_month;
    double min_value;
    int max_month;
    double max_value;
    int slack;
} official[] = {
    {1, M(1755, 2), 14.0, M(1761, 6), 144.1, 1}, /* 1755-02 and -03 are both 14.0 */
    {2, M(1766, 6), 18.6, M(1769, 9), 193.0, 0},
    {3, M(1775, 6), 12.0, M(1778, 5), 264.2, 0},
    {4, M(1784, 9), 15.9, M(1788, 2), 235.3, 0},
    {5, M(1798, 4), 5.3, M(1805, 2), 82.0, 0},
    {6, M(1810, 7), 0.0, M(1816, 5), 81.2, 1},   /* 0.0 from 1810-03 to 1810-12 */
    {7, M(1823, 5), 0.1, M(1829, 11), 119.2, 1}, /* 0.2 from 1823-03 to 1823-05 */
    {8, M(1833, 11), 12.2, M(1837, 3), 244.9, 0},
    {9, M(1843, 7), 17.6, M(1848, 2), 219.9, 0},
    {10, M(1855, 12), 6.0, M(1860, 2), 186.2, 0},
    {11, M(1867, 3), 9.9, M(1870, 8), 234.0, 0},
    {12, M(1878, 12), 3.7, M(1883, 12), 124.4, 0},
    {13, M(1890, 3), 8.3, M(1894, 1), 146.5, 0},
    {14, M(1902, 1), 4.5, M(1906, 2), 107.1, 0},
    {15, M(1913, 7), 2.5, M(1917, 8), 175.7, 1}, /* 1913-07 and -08 are both 2.5 */
    {16, M(1923, 8), 9.3, M(1928, 4), 130.2, 0}, /* 1923-07 and -08 both 9.4: the later */
    {17, M(1933, 9), 5.8, M(1937, 4), 198.6, 0},
    {18, M(1944, 2), 12.9, M(1947, 5), 218.7, 0},
    {19, M(1954, 4), 5.1, M(1958, 3), 285.0, 0},
    {20, M(1964, 10), 14.3, M(1968, 11), 156.6, 0},
    {21, M(1976, 3), 17.8, M(1979, 12), 232.9, 0},
    {22, M(1986, 9), 13.5, M(1989, 11), 212.5, 0},
    {23, M(1996, 8), 11.2, M(2001, 11), 180.3, 0}, /* 1996-05 is 11.2 too: the plateau's middle */
    {24, M(2008, 12), 2.2, M(2014, 4), 116.4, 0},
    {25, M(2019, 12), 1.8, M(2024, 10), 160.9, 0},
};

#define N_CYCLES (sizeof official / sizeof official[0])

static void expect_month(int got, int want, int slack, const char *what, int number)
{
    if (abs(got - want) > slack) {
        char g[PERIOD_TEXT_MAX], w[PERIOD_TEXT_MAX];
        period_format(got, g);
        period_format(want, w);
        fail_msg("cycle %d %s: %s, SILSO %s (slack %d)", number, what, g, w, slack);
    }
}

/* The cycles of a series of SILSO's whole record against the table; value_tol for the values. */
static void check_record(const double *s, size_t n, double value_tol)
{
    size_t cap = cycle_capacity(n, NULL), count = 0;
    struct solar_cycle *c = calloc(cap, sizeof *c);
    assert_non_null(c);
    assert_int_equal(cycle_find(s, n, FIRST_MONTH, NULL, c, cap, &count), 0);
    assert_int_equal(count, N_CYCLES);
    for (size_t k = 0; k < N_CYCLES; k++) {
        const struct official *o = &official[k];
        assert_int_equal(c[k].number, o->number);
        expect_month(c[k].min.month, o->min_month, o->slack, "minimum", o->number);
        assert_true(c[k].min.month == FIRST_MONTH + (int)c[k].min.index);
        assert_true(c[k].min.value == s[c[k].min.index]);
        assert_true(fabs(c[k].min.value - o->min_value) <= value_tol);
        assert_true(c[k].has_max);
        expect_month(c[k].max.month, o->max_month, 0, "maximum", o->number);
        assert_true(c[k].max.value == s[c[k].max.index]);
        assert_true(fabs(c[k].max.value - o->max_value) <= value_tol);
    }
    free(c);
}

static void test_silso_table(void **state)
{
    (void)state;
    size_t n = 0;
    double *s = load_silso("data/SN_ms_tot_V2.0.csv", &n);
    check_record(s, n, 0.1 + 1e-9);
    /* the dates the brief names, exactly, with this release's values */
    struct solar_cycle c[N_CYCLES + 1];
    size_t count = 0;
    assert_int_equal(cycle_find(s, n, FIRST_MONTH, NULL, c, N_CYCLES + 1, &count), 0);
    assert_true(c[23].min.month == M(2008, 12) && c[23].min.value == 2.2);
    assert_true(c[24].min.month == M(2019, 12) && c[24].min.value == 1.8);
    assert_true(c[23].max.month == M(2014, 4) && c[23].max.value == 116.4);
    assert_true(c[24].max.month == M(2024, 10) && c[24].max.value == 160.9);
    assert_true(c[22].max.month == M(2001, 11) && c[22].max.value == 180.3);
    assert_true(c[18].max.month == M(1958, 3) && c[18].max.value == 285.0);
    /* too small a buffer */
    assert_int_equal(cycle_find(s, n, FIRST_MONTH, NULL, c, 24, &count), FW_ERANGE);
    free(s);
}

/* Our own smoothing of the monthly record (unrounded) gives the same cycles. */
static void test_own_smoothing(void **state)
{
    (void)state;
    size_t n = 0;
    double *monthly = load_silso("data/SN_m_tot_V2.0.csv", &n);
    double *s = malloc(n * sizeof *s);
    assert_non_null(s);
    assert_int_equal(smooth13(monthly, n, s), 0);
    check_record(s, n, 0.15 + 1e-9); /* table rounding plus our unrounded values */
    free(s);
    free(monthly);
}

static void expect_next(const double *s, size_t n, int cut, int min_month, int number,
                        int max_month)
{
    struct cycle_next next;
    memset(&next, 0xFF, sizeof next);
    assert_int_equal(
        cycle_next_extrema(s, n, FIRST_MONTH, (size_t)(cut - FIRST_MONTH), NULL, &next), 0);
    char text[PERIOD_TEXT_MAX];
    period_format(cut, text);
    if (min_month < 0) {
        if (next.has_min)
            fail_msg("cut %s: unexpected minimum", text);
        assert_false(next.has_max);
        assert_int_equal(next.number, 0);
        return;
    }
    if (!next.has_min)
        fail_msg("cut %s: no minimum", text);
    expect_month(next.min.month, min_month, 0, "next minimum", number);
    assert_int_equal(next.number, number);
    assert_true(next.min.value == s[next.min.index]);
    if (max_month < 0) {
        assert_false(next.has_max);
        return;
    }
    assert_true(next.has_max);
    expect_month(next.max.month, max_month, 0, "next maximum", number);
    assert_true(next.max.value == s[next.max.index]);
}

/* The record cut at several months, the true future (to the file's end) as the forecast. */
static void test_next_at_real_cuts(void **state)
{
    (void)state;
    size_t n = 0;
    double *s = load_silso("data/SN_ms_tot_V2.0.csv", &n);
    expect_next(s, n, M(2019, 6), M(2019, 12), 25, M(2024, 10));
    expect_next(s, n, M(2019, 12), M(2019, 12), 25, M(2024, 10)); /* at the minimum */
    expect_next(s, n, M(2020, 1), -1, 0, -1); /* past it: cycle 26's is beyond the data */
    expect_next(s, n, M(2026, 9), -1, 0, -1);
    expect_next(s, n, M(2008, 6), M(2008, 12), 24, M(2014, 4));
    expect_next(s, n, M(2009, 6), M(2019, 12), 25, M(2024, 10)); /* cycle 24 past its minimum */
    expect_next(s, n, M(2014, 6), M(2019, 12), 25, M(2024, 10));
    expect_next(s, n, M(1958, 3), M(1964, 10), 20, M(1968, 11));
    expect_next(s, n, M(1749, 1), M(1755, 2) + 1, 1, M(1761, 6)); /* 1755-02/-03 tie: -03 */
    free(s);
}

/* Cycle 26, made up: the monthly record to 2026-09, then months where cycle 25 decays
 * exponentially and a cycle 26 of Hathaway's shape (A (t/b)^3 / (exp((t/b)^2) - 0.71)) starts in
 * 2029-06; the whole is smoothed as observed ++ forecast. */
#define FORECAST 180
static double *synthetic_future(size_t *n_out)
{
    size_t n_obs = 0;
    double *monthly = load_silso("data/SN_m_tot_V2.0.csv", &n_obs);
    assert_true(FIRST_MONTH + (int)n_obs - 1 == M(2026, 9));
    double forecast[FORECAST];
    for (int k = 0; k < FORECAST; k++) {
        double t = k + 1.0, u = (M(2026, 9) + k + 1 - M(2029, 6)) / 50.0;
        double rise = u > 0 ? 130.0 * u * u * u / (exp(u * u) - 0.71) : 0.0;
        forecast[k] = 65.0 * exp(-t / 24.0) + rise + 2.0;
    }
    double *s = malloc((n_obs + FORECAST) * sizeof *s);
    assert_non_null(s);
    assert_int_equal(smooth13_joined(monthly, n_obs, forecast, FORECAST, 0, s), 0);
    free(monthly);
    *n_out = n_obs + FORECAST;
    return s;
}

/* The index of the lowest (highest when sign < 0) finite value in [lo, hi), first on ties. */
static size_t brute_extreme(const double *s, size_t lo, size_t hi, int sign)
{
    size_t best = hi;
    for (size_t i = lo; i < hi; i++) {
        if (isfinite(s[i]) && (best == hi || sign * s[i] < sign * s[best]))
            best = i;
    }
    return best;
}

/* The middle of the contiguous run of months within 0.05 of s[at] (from above for a minimum,
 * sign 1), the later of the two middle months: where cycle.h reports a flat extremum. */
static size_t plateau_middle(const double *s, size_t at, int sign)
{
    size_t first = at, last = at;
    while (sign * (s[first - 1] - s[at]) <= 0.05)
        first--;
    while (sign * (s[last + 1] - s[at]) <= 0.05)
        last++;
    return (first + last + 1) / 2;
}

static void test_next_synthetic_cycle_26(void **state)
{
    (void)state;
    size_t n = 0;
    double *s = synthetic_future(&n);
    /* cycle 26's peak is the highest month after 2028; its minimum the lowest before it (the
     * series ends in cycle 26's decline, lower still, but not a minimum: it does not rise) */
    size_t cut = AT(2026, 9), hi = brute_extreme(s, AT(2028, 1), n, -1);
    size_t lo = brute_extreme(s, cut, hi, 1);
    assert_true(lo > AT(2028, 1) && lo < AT(2031, 1) && hi > lo + 24 && hi < n - 24);
    struct cycle_next next;
    assert_int_equal(cycle_next_extrema(s, n, FIRST_MONTH, cut, NULL, &next), 0);
    assert_true(next.has_min && next.has_max);
    assert_int_equal(next.number, 26);
    /* the top is flat within the tie t = 0.05 over two months: the later is reported */
    size_t bottom = plateau_middle(s, lo, 1), top = plateau_middle(s, hi, -1);
    assert_true(bottom == lo && top == hi + 1);
    assert_int_equal(next.min.index, bottom);
    assert_int_equal(next.min.month, FIRST_MONTH + (int)bottom);
    assert_int_equal(next.max.index, top);
    assert_true(next.max.value == s[top]);
    /* the same from an earlier cut in cycle 25's decline, or at the end of the observed months */
    struct cycle_next again;
    assert_int_equal(cycle_next_extrema(s, n, FIRST_MONTH, AT(2025, 3), NULL, &again), 0);
    assert_true(again.has_min && again.min.index == bottom && again.max.index == top);

    /* a horizon that ends before the maximum: the minimum, no maximum (still rising) */
    assert_int_equal(cycle_next_extrema(s, hi - 6, FIRST_MONTH, cut, NULL, &next), 0);
    assert_true(next.has_min && !next.has_max && next.number == 26);
    assert_int_equal(next.min.index, bottom);
    /* past the maximum, but it has not fallen a quarter of the amplitude yet */
    size_t end = hi + 1;
    while (end < n && s[end] > s[hi] - 0.25 * (s[hi] - s[lo]))
        end++;
    assert_true(end < n);
    assert_int_equal(cycle_next_extrema(s, end, FIRST_MONTH, cut, NULL, &next), 0);
    assert_true(next.has_min && !next.has_max);
    assert_int_equal(cycle_next_extrema(s, end + 1, FIRST_MONTH, cut, NULL, &next), 0);
    assert_true(next.has_min && next.has_max && next.max.index == top);
    /* a horizon that ends at the minimum: nothing yet (the rise after it is not there) */
    assert_int_equal(cycle_next_extrema(s, lo + 3, FIRST_MONTH, cut, NULL, &next), 0);
    assert_false(next.has_min || next.has_max);
    assert_int_equal(next.number, 0);
    free(s);
}

/* A pure cosine cycle of 132 months, far from SILSO's numbered cycles: minima at 132 k, maxima
 * half-way; the first month (a minimum without a fall before it) is not one; no numbers. */
static void test_cosine(void **state)
{
    (void)state;
    double s[700];
    for (int i = 0; i < 700; i++)
        s[i] = 90.0 - 85.0 * cos(2.0 * M_PI * i / 132.0);
    struct solar_cycle c[8];
    size_t count = 0;
    assert_int_equal(cycle_capacity(700, NULL), 700 / 41 + 1);
    assert_int_equal(cycle_find(s, 700, M(2300, 1), NULL, c, 8, &count), 0);
    assert_int_equal(count, 5); /* 132, 264, 396, 528, 660 */
    for (size_t k = 0; k < count; k++) {
        assert_int_equal(c[k].min.index, 132 * (k + 1));
        assert_int_equal(c[k].number, 0);
        if (k + 1 < count) {
            assert_true(c[k].has_max);
            assert_int_equal(c[k].max.index, 132 * (k + 1) + 66);
        }
    }
    assert_false(c[4].has_max); /* 660..699: still rising */
    /* numbering from SILSO's table: the same shape with a minimum at 2019-12 */
    int first = M(2019, 12) - 132;
    assert_int_equal(cycle_find(s, 700, first, NULL, c, 8, &count), 0);
    assert_int_equal(count, 5);
    assert_int_equal(c[0].min.month, M(2019, 12));
    for (size_t k = 0; k < count; k++)
        assert_int_equal(c[k].number, 25 + (int)k);
    /* the minimum before cycle 25 starts cycle 24 here too (2008-12 is 132 months earlier) */
    assert_int_equal(cycle_find(s, 700, first - 132, NULL, c, 8, &count), 0);
    assert_int_equal(c[0].number, 24);
    assert_int_equal(c[1].number, 25);
}

/* Piecewise linear through (x[k], y[k]), k < count, at the months 0..n-1. */
static void polyline(const double *x, const double *y, size_t count, double *s, size_t n)
{
    for (size_t i = 0, k = 0; i < n; i++) {
        while (k + 2 < count && i > x[k + 1])
            k++;
        s[i] = y[k] + (y[k + 1] - y[k]) * ((double)i - x[k]) / (x[k + 1] - x[k]);
    }
}

/* A double-peaked open cycle: minimum 5 at 40, a first peak 100 at 90, a dip to 82 (a fifth of
 * the amplitude) at 110, the true peak 120 at 140, then the decline. Until the series has fallen
 * a quarter of the amplitude below its highest month, the cycle has no maximum yet. */
static void test_double_peak(void **state)
{
    (void)state;
    const double x[] = {0, 40, 90, 110, 140, 240}, y[] = {80, 5, 100, 82, 120, 20};
    double s[241];
    polyline(x, y, 6, s, 241);
    struct cycle_next next;
    assert_int_equal(cycle_next_extrema(s, 118, M(2100, 1), 0, NULL, &next), 0);
    assert_true(next.has_min && next.min.index == 40 && !next.has_max);
    assert_int_equal(next.number, 0);
    assert_int_equal(cycle_next_extrema(s, 241, M(2100, 1), 0, NULL, &next), 0);
    assert_true(next.has_min && next.has_max);
    assert_int_equal(next.max.index, 140);
    /* just before the fall reaches a quarter (120 - 28.75 at month 169): none; at it: 140 */
    assert_int_equal(cycle_next_extrema(s, 169, M(2100, 1), 0, NULL, &next), 0);
    assert_false(next.has_max);
    assert_int_equal(cycle_next_extrema(s, 170, M(2100, 1), 0, NULL, &next), 0);
    assert_true(next.has_max && next.max.index == 140);
}

/* A short piece of the record around cycle 25's minimum, shorter than a cycle. */
static void test_short_series(void **state)
{
    (void)state;
    size_t n = 0;
    double *s = load_silso("data/SN_ms_tot_V2.0.csv", &n);
    struct solar_cycle c[4];
    size_t count = 0;
    /* 2017-06 .. 2022-05: the minimum, and a cycle still rising */
    const double *piece = s + AT(2017, 6);
    assert_int_equal(cycle_find(piece, 60, M(2017, 6), NULL, c, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_true(c[0].min.month == M(2019, 12) && c[0].number == 25 && !c[0].has_max);
    /* 2019-01 .. 2020-06: too flat on the left (the highest is below 1.8 + 10): no minimum */
    piece = s + AT(2019, 1);
    assert_int_equal(cycle_find(piece, 18, M(2019, 1), NULL, c, 4, &count), 0);
    assert_int_equal(count, 0);
    /* the last observed month in a short series */
    struct cycle_next next;
    assert_int_equal(cycle_next_extrema(s + AT(2017, 6), 60, M(2017, 6), 59, NULL, &next), 0);
    assert_false(next.has_min);
    free(s);
}

static void test_degenerate(void **state)
{
    (void)state;
    struct solar_cycle c[4];
    struct cycle_next next;
    size_t count = 99;
    /* empty */
    assert_int_equal(cycle_find(NULL, 0, 0, NULL, c, 4, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(cycle_find(NULL, 0, 0, NULL, NULL, 0, &count), 0);
    assert_int_equal(cycle_next_extrema(NULL, 0, 0, 0, NULL, &next), FW_EINVAL);
    /* all NaN, constant */
    double s[300];
    for (int i = 0; i < 300; i++)
        s[i] = NAN;
    count = 99;
    assert_int_equal(cycle_find(s, 300, 0, NULL, c, 4, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(cycle_next_extrema(s, 300, 0, 0, NULL, &next), 0);
    assert_false(next.has_min || next.has_max);
    for (int i = 0; i < 300; i++)
        s[i] = 42.0;
    assert_int_equal(cycle_find(s, 300, 0, NULL, c, 4, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(cycle_next_extrema(s, 300, 0, 150, NULL, &next), 0);
    assert_false(next.has_min || next.has_max);
    /* a V with NaN holes: the holes are skipped */
    for (int i = 0; i < 300; i++)
        s[i] = i % 7 == 3 ? NAN : fabs(i - 150.0);
    s[150] = NAN;
    assert_int_equal(cycle_find(s, 300, 0, NULL, c, 4, &count), 0);
    assert_int_equal(count, 1);
    /* 149 and 151 tie (the middle, 150, is a hole): the later; the open cycle is still rising */
    assert_true(c[0].min.index == 151 && !c[0].has_max);
    /* bad arguments and rules */
    struct cycle_rule bad = CYCLE_RULE_DEFAULT;
    bad.min_fraction = 0.0;
    assert_int_equal(cycle_find(s, 300, 0, &bad, c, 4, &count), FW_EINVAL);
    assert_int_equal(cycle_next_extrema(s, 300, 0, 0, &bad, &next), FW_EINVAL);
    bad = (struct cycle_rule)CYCLE_RULE_DEFAULT;
    bad.half_window = 0;
    assert_int_equal(cycle_find(s, 300, 0, &bad, c, 4, &count), FW_EINVAL);
    bad = (struct cycle_rule)CYCLE_RULE_DEFAULT;
    bad.tie = NAN;
    assert_int_equal(cycle_find(s, 300, 0, &bad, c, 4, &count), FW_EINVAL);
    assert_int_equal(cycle_find(NULL, 300, 0, NULL, c, 4, &count), FW_EINVAL);
    assert_int_equal(cycle_find(s, 300, 0, NULL, NULL, 4, &count), FW_EINVAL);
    assert_int_equal(cycle_find(s, 300, 0, NULL, c, 4, NULL), FW_EINVAL);
    assert_int_equal(cycle_next_extrema(s, 300, 0, 300, NULL, &next), FW_EINVAL);
    assert_int_equal(cycle_next_extrema(s, 300, 0, 0, NULL, NULL), FW_EINVAL);
    assert_int_equal(cycle_find(s, 300, 0, NULL, c, 0, &count), FW_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silso_table),
        cmocka_unit_test(test_own_smoothing),
        cmocka_unit_test(test_next_at_real_cuts),
        cmocka_unit_test(test_next_synthetic_cycle_26),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_double_peak),
        cmocka_unit_test(test_short_series),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
