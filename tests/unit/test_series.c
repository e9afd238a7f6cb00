/* Tests for model/series: the paper protocol on the authors' CSV and on the current SILSO file
 * (paper.md §3.1 numbers), the live protocol's split and train-only scaler, cutoffs, refusals,
 * gap filling, rescaling and the protocol names. */
#include "testutil.h"
#include "ingest/import.h"
#include "base/error.h"
#include "base/period.h"
#include "model/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW  528
#define HORIZON 132

struct monthly {
    double *values;
    size_t n;
    int first_month;
};

struct data {
    struct monthly authors, silso;
};

static void load_monthly(const char *rel, struct monthly *out)
{
    char *path = tu_path(rel);
    assert_non_null(path);
    struct import_result *res = NULL;
    fw_error err = {0};
    if (import_file(path, NULL, &res, &err) != FW_OK)
        fail_msg("import %s: %s (run from the project root or set FWPCAST_ROOT)", path, err.msg);
    free(path);
    assert_true(res->n_points > 0);
    assert_int_equal(period_parse(res->points[0].period, &out->first_month), FW_OK);
    out->n = res->n_points;
    out->values = malloc(out->n * sizeof *out->values);
    assert_non_null(out->values);
    for (size_t i = 0; i < out->n; i++)
        out->values[i] = res->points[i].value;
    import_result_free(res);
}

static int setup(void **state)
{
    struct data *d = calloc(1, sizeof *d);
    assert_non_null(d);
    load_monthly("data/benchmarks/authors-Sunspots.csv", &d->authors);
    load_monthly("data/SN_m_tot_V2.0.csv", &d->silso);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct data *d = *state;
    free(d->authors.values);
    free(d->silso.values);
    free(d);
    return 0;
}

static int month(const char *text)
{
    int m = -1;
    assert_int_equal(period_parse(text, &m), FW_OK);
    return m;
}

static void assert_period(int month_index, const char *expect)
{
    char buf[PERIOD_TEXT_MAX];
    period_format(month_index, buf);
    assert_string_equal(buf, expect);
}

/* ---- the paper protocol ---------------------------------------------------------------------- */

static void check_paper_plan(const struct monthly *m, const struct split_plan *p)
{
    assert_int_equal(p->protocol, PROTOCOL_PAPER);
    assert_int_equal(p->first_month, month("1749-01"));
    assert_int_equal(p->n_months, 3265);
    assert_int_equal(p->window, WINDOW);
    assert_int_equal(p->horizon, HORIZON);
    assert_int_equal(p->n_windows, 2606);
    assert_int_equal(p->train.begin, 0);
    assert_int_equal(p->train.end, 2084);
    assert_int_equal(p->val.begin, 2084);
    assert_int_equal(p->val.end, 2084 + 260);
    assert_int_equal(p->test.begin, 2344);
    assert_int_equal(p->test.end, 2606);
    assert_int_equal(p->filled, 0);
    assert_true(p->scaler.min == 0.0);
    assert_true(p->scaler.max == 398.2);
    size_t at_max = 0, at_min = 0;
    for (size_t i = 0; i < p->n_months; i++) {
        assert_true(p->scaled[i] >= 0.0 && p->scaled[i] <= 1.0);
        assert_true(fabs(p->scaled[i] - m->values[i] / 398.2) < 1e-15);
        if (p->scaled[i] > p->scaled[at_max])
            at_max = i;
        if (p->scaled[i] < p->scaled[at_min])
            at_min = i;
    }
    assert_true(p->scaled[at_max] == 1.0 && p->scaled[at_min] == 0.0);
    assert_period(p->first_month + (int)at_max, "1778-05");
    assert_period(p->first_month + (int)at_min, "1754-01");
    /* the last test target month is 2021-01 */
    assert_period(p->first_month + (int)(p->test.end - 1 + WINDOW + HORIZON - 1), "2021-01");
    /* paper.md's table: the first validation window's targets start in 1966-09 */
    assert_period(p->first_month + (int)(p->val.begin + WINDOW), "1966-09");
}

static void test_paper_protocol_authors_csv(void **state)
{
    struct data *d = *state;
    assert_int_equal(d->authors.n, 3265);
    struct split_plan p;
    fw_error err = {0};
    int rc = series_prepare(d->authors.values, d->authors.n, d->authors.first_month, PROTOCOL_PAPER,
                            -1, WINDOW, HORIZON, &p, &err);
    if (rc)
        fail_msg("series_prepare: %s", err.msg);
    check_paper_plan(&d->authors, &p);
    series_free(&p);
    assert_null(p.scaled);
    series_free(&p); /* twice is harmless */
    series_free(NULL);
}

static void test_paper_protocol_truncates_current_silso(void **state)
{
    struct data *d = *state;
    /* the current file runs past the paper's end */
    assert_true(d->silso.n > 3265);
    assert_period(d->silso.first_month + (int)d->silso.n - 1, "2026-09");
    struct split_plan p;
    fw_error err = {0};
    int rc = series_prepare(d->silso.values, d->silso.n, d->silso.first_month, PROTOCOL_PAPER, -1,
                            WINDOW, HORIZON, &p, &err);
    if (rc)
        fail_msg("series_prepare: %s", err.msg);
    check_paper_plan(&d->silso, &p);
    series_free(&p);
}

/* ---- the live protocol ----------------------------------------------------------------------- */

static void test_live_protocol_silso(void **state)
{
    struct data *d = *state;
    struct split_plan p;
    fw_error err = {0};
    int rc = series_prepare(d->silso.values, d->silso.n, d->silso.first_month, PROTOCOL_LIVE, -1,
                            WINDOW, HORIZON, &p, &err);
    if (rc)
        fail_msg("series_prepare: %s", err.msg);
    size_t n = d->silso.n;
    assert_int_equal(p.protocol, PROTOCOL_LIVE);
    assert_int_equal(p.n_months, n); /* every month, 2021-01 is no limit */
    size_t nw = n - WINDOW - HORIZON + 1;
    assert_int_equal(p.n_windows, nw);
    assert_int_equal(p.val.end, nw);
    assert_int_equal(p.val.end - p.val.begin, nw / 10);
    assert_int_equal(p.train.begin, 0);
    assert_int_equal(p.train.end, p.val.begin);
    assert_int_equal(p.test.begin, p.test.end); /* no test set */

    /* the scaler is fit on the months the training windows cover, inputs and targets */
    size_t covered = p.train.end - 1 + WINDOW + HORIZON;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < covered; i++) {
        lo = fmin(lo, d->silso.values[i]);
        hi = fmax(hi, d->silso.values[i]);
    }
    assert_true(p.scaler.min == lo);
    assert_true(p.scaler.max == hi);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(p.scaled[i] - (d->silso.values[i] - lo) / (hi - lo)) < 1e-15);
    series_free(&p);
}

/* A series whose largest values lie after the training windows' months: a scaler fit on more
 * than those months would see them. */
static void test_live_scaler_ignores_validation_months(void **state)
{
    (void)state;
    enum { N = 60, W = 6, H = 3 };
    double v[N];
    for (int i = 0; i < N; i++)
        v[i] = 10.0 + (i % 5);
    /* nw = 52, val = last 5 windows, train windows 0..46 cover months 0..46+8 = 0..54 */
    size_t covered = (52 - 5) - 1 + W + H;
    assert_int_equal(covered, 55);
    v[covered - 1] = 50.0; /* last covered month: in */
    v[covered] = 1000.0;   /* first month after: out */
    v[N - 1] = -1000.0;
    struct split_plan p;
    fw_error err = {0};
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_OK);
    assert_int_equal(p.n_windows, 52);
    assert_int_equal(p.train.end, 47);
    assert_int_equal(p.val.begin, 47);
    assert_int_equal(p.val.end, 52);
    assert_true(p.scaler.min == 10.0);
    assert_true(p.scaler.max == 50.0);
    /* validation months may fall outside [0, 1] */
    assert_true(p.scaled[covered] == (1000.0 - 10.0) / 40.0);
    assert_true(p.scaled[N - 1] < 0.0);
    series_free(&p);

    /* the paper protocol, by contrast, fits the whole series */
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_PAPER, -1, W, H, &p, &err), FW_OK);
    assert_true(p.scaler.min == -1000.0 && p.scaler.max == 1000.0);
    series_free(&p);
}

static void test_live_validation_at_least_one(void **state)
{
    (void)state;
    /* 9 windows: floor(0.1 * 9) = 0, so one validation window */
    enum { W = 4, H = 2, N = 9 + W + H - 1 };
    double v[N];
    for (int i = 0; i < N; i++)
        v[i] = (double)(i * 7 % 11);
    struct split_plan p;
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, NULL), FW_OK);
    assert_int_equal(p.n_windows, 9);
    assert_int_equal(p.train.end, 8);
    assert_int_equal(p.val.begin, 8);
    assert_int_equal(p.val.end, 9);
    series_free(&p);
}

/* ---- cutoffs --------------------------------------------------------------------------------- */

static void test_cutoff_truncates(void **state)
{
    struct data *d = *state;
    struct split_plan p;
    fw_error err = {0};
    int cutoff = month("2000-12");
    assert_int_equal(series_prepare(d->silso.values, d->silso.n, d->silso.first_month,
                                    PROTOCOL_LIVE, cutoff, WINDOW, HORIZON, &p, &err),
                     FW_OK);
    size_t n = (size_t)(cutoff - d->silso.first_month) + 1;
    assert_int_equal(p.n_months, n);
    assert_int_equal(p.n_windows, n - WINDOW - HORIZON + 1);
    assert_int_equal(p.val.end, p.n_windows);
    /* the last validation window's targets end at the cutoff */
    assert_period(p.first_month + (int)(p.val.end - 1 + WINDOW + HORIZON - 1), "2000-12");
    series_free(&p);

    /* under the paper protocol too */
    cutoff = month("2010-06");
    assert_int_equal(series_prepare(d->authors.values, d->authors.n, d->authors.first_month,
                                    PROTOCOL_PAPER, cutoff, WINDOW, HORIZON, &p, &err),
                     FW_OK);
    n = (size_t)(cutoff - d->authors.first_month) + 1;
    assert_int_equal(p.n_months, n);
    size_t nw = n - WINDOW - HORIZON + 1;
    assert_int_equal(p.n_windows, nw);
    assert_int_equal(p.train.end, nw * 8 / 10);
    assert_int_equal(p.val.end - p.val.begin, nw / 10);
    assert_int_equal(p.test.end, nw);
    /* scaled on the truncated series only: its own min and max */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, d->authors.values[i]);
        hi = fmax(hi, d->authors.values[i]);
    }
    assert_true(p.scaler.min == lo && p.scaler.max == hi);
    series_free(&p);

    /* a cutoff on the very last month is allowed and changes nothing */
    int last = d->silso.first_month + (int)d->silso.n - 1;
    assert_int_equal(series_prepare(d->silso.values, d->silso.n, d->silso.first_month,
                                    PROTOCOL_LIVE, last, WINDOW, HORIZON, &p, &err),
                     FW_OK);
    assert_int_equal(p.n_months, d->silso.n);
    series_free(&p);
}

static void test_cutoff_outside_data(void **state)
{
    struct data *d = *state;
    struct split_plan p;
    memset(&p, 0xAB, sizeof p);
    struct split_plan untouched = p;
    const char *outside[] = {"2026-10", "2100-01", "1748-12", "0001-01"};
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        fw_error err = {0};
        int rc = series_prepare(d->silso.values, d->silso.n, d->silso.first_month, PROTOCOL_LIVE,
                                month(outside[i]), WINDOW, HORIZON, &p, &err);
        assert_int_equal(rc, FW_ERANGE);
        assert_int_equal(err.code, FW_ERANGE);
        assert_non_null(strstr(err.msg, "cutoff"));
        /* the message names the data's range */
        assert_non_null(strstr(err.msg, "1749-01"));
        assert_non_null(strstr(err.msg, "2026-09"));
        assert_memory_equal(&p, &untouched, sizeof p);
    }
}

/* ---- refusals -------------------------------------------------------------------------------- */

static void test_refuses_too_short(void **state)
{
    (void)state;
    enum { W = 4, H = 2 };
    double v[16];
    for (int i = 0; i < 16; i++)
        v[i] = (double)i;
    struct split_plan p;
    memset(&p, 0xCD, sizeof p);
    struct split_plan untouched = p;
    fw_error err = {0};
    /* W + H + 2 months is the least either protocol could accept */
    assert_int_equal(series_prepare(v, W + H + 1, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err),
                     FW_EINVAL);
    assert_true(err.msg[0] != '\0');
    assert_memory_equal(&p, &untouched, sizeof p);
    assert_int_equal(series_prepare(v, W + H + 2, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_OK);
    series_free(&p);
    /* the paper split needs at least one validation window, floor(0.1 N) >= 1: N >= 10 */
    memset(&p, 0xCD, sizeof p);
    assert_int_equal(series_prepare(v, 9 + W + H - 1, 24000, PROTOCOL_PAPER, -1, W, H, &p, &err),
                     FW_EINVAL);
    assert_memory_equal(&p, &untouched, sizeof p);
    assert_int_equal(series_prepare(v, 10 + W + H - 1, 24000, PROTOCOL_PAPER, -1, W, H, &p, &err),
                     FW_OK);
    assert_int_equal(p.train.end, 8);
    assert_int_equal(p.val.end, 9);
    assert_int_equal(p.test.end, 10);
    series_free(&p);
    /* a cutoff can make a long series too short */
    memset(&p, 0xCD, sizeof p);
    assert_int_equal(series_prepare(v, 16, 24000, PROTOCOL_LIVE, 24000 + 5, W, H, &p, &err),
                     FW_EINVAL);
    assert_memory_equal(&p, &untouched, sizeof p);
    /* empty series, zero window or horizon */
    assert_int_equal(series_prepare(v, 0, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_EINVAL);
    assert_int_equal(series_prepare(v, 16, 24000, PROTOCOL_LIVE, -1, 0, H, &p, &err), FW_EINVAL);
    assert_int_equal(series_prepare(v, 16, 24000, PROTOCOL_LIVE, -1, W, 0, &p, &err), FW_EINVAL);
    assert_memory_equal(&p, &untouched, sizeof p);
}

static void test_refuses_constant_and_all_missing(void **state)
{
    (void)state;
    enum { N = 20, W = 4, H = 2 };
    double v[N];
    struct split_plan p;
    memset(&p, 0xEF, sizeof p);
    struct split_plan untouched = p;
    fw_error err = {0};
    for (int i = 0; i < N; i++)
        v[i] = 42.0;
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_PAPER, -1, W, H, &p, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "constant"));
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_EINVAL);
    assert_memory_equal(&p, &untouched, sizeof p);
    /* constant once gaps are filled */
    v[3] = NAN;
    v[N - 1] = NAN;
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_EINVAL);
    /* every value missing */
    for (int i = 0; i < N; i++)
        v[i] = NAN;
    err.msg[0] = '\0';
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_PAPER, -1, W, H, &p, &err), FW_EINVAL);
    assert_memory_equal(&p, &untouched, sizeof p);
}

static void test_fills_gaps(void **state)
{
    (void)state;
    enum { N = 12, W = 3, H = 2 };
    double v[N] = {NAN, NAN, 3, NAN, 5, 6, NAN, NAN, 9, 10, 1, NAN};
    const double expect[N] = {3, 3, 3, 3, 5, 6, 6, 6, 9, 10, 1, 1};
    double copy[N];
    memcpy(copy, v, sizeof v);
    struct split_plan p;
    fw_error err = {0};
    assert_int_equal(series_prepare(v, N, 24000, PROTOCOL_LIVE, -1, W, H, &p, &err), FW_OK);
    assert_int_equal(p.filled, 6);
    assert_true(p.scaler.min == 1.0 && p.scaler.max == 10.0);
    for (int i = 0; i < N; i++)
        assert_true(fabs(scaler_invert(&p.scaler, p.scaled[i]) - expect[i]) < 1e-13);
    /* the caller's array is left as it was */
    assert_memory_equal(v, copy, sizeof v);
    series_free(&p);
}

/* ---- scalers --------------------------------------------------------------------------------- */

static void test_scaler_and_rescale(void **state)
{
    struct data *d = *state;
    struct scaler s = {-2.0, 6.0};
    assert_true(scaler_apply(&s, -2.0) == 0.0);
    assert_true(scaler_apply(&s, 6.0) == 1.0);
    assert_true(scaler_apply(&s, 0.0) == 0.25);
    assert_true(scaler_invert(&s, 0.75) == 4.0);

    struct split_plan p;
    assert_int_equal(series_prepare(d->authors.values, d->authors.n, d->authors.first_month,
                                    PROTOCOL_PAPER, -1, WINDOW, HORIZON, &p, NULL),
                     FW_OK);
    size_t n = p.n_months;
    double *orig = malloc(n * sizeof *orig);
    assert_non_null(orig);
    memcpy(orig, p.scaled, n * sizeof *orig);
    struct scaler first = p.scaler, other = {-10.0, 500.0};

    series_rescale(&p, &other);
    assert_true(p.scaler.min == -10.0 && p.scaler.max == 500.0);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(p.scaled[i] - (d->authors.values[i] + 10.0) / 510.0) < 1e-14);

    series_rescale(&p, &first); /* and back */
    assert_true(p.scaler.min == first.min && p.scaler.max == first.max);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(p.scaled[i] - orig[i]) < 1e-14);

    /* the same scaler is a no-op, bit for bit */
    memcpy(orig, p.scaled, n * sizeof *orig);
    series_rescale(&p, &first);
    assert_memory_equal(orig, p.scaled, n * sizeof *orig);
    free(orig);
    series_free(&p);
}

static void test_protocol_names(void **state)
{
    (void)state;
    enum protocol pr = PROTOCOL_LIVE;
    assert_int_equal(series_protocol_parse("paper", &pr), FW_OK);
    assert_int_equal(pr, PROTOCOL_PAPER);
    assert_int_equal(series_protocol_parse("live", &pr), FW_OK);
    assert_int_equal(pr, PROTOCOL_LIVE);
    const char *bad[] = {"Paper", "LIVE", "", "paper ", "pape", "lives"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pr = (enum protocol)7;
        assert_int_equal(series_protocol_parse(bad[i], &pr), FW_EINVAL);
        assert_int_equal(pr, 7);
    }
    assert_int_equal(series_protocol_parse(NULL, &pr), FW_EINVAL);
    assert_string_equal(series_protocol_name(PROTOCOL_PAPER), "paper");
    assert_string_equal(series_protocol_name(PROTOCOL_LIVE), "live");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(series_protocol_parse(series_protocol_name((enum protocol)i), &pr), FW_OK);
        assert_int_equal(pr, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_protocol_authors_csv),
        cmocka_unit_test(test_paper_protocol_truncates_current_silso),
        cmocka_unit_test(test_live_protocol_silso),
        cmocka_unit_test(test_live_scaler_ignores_validation_months),
        cmocka_unit_test(test_live_validation_at_least_one),
        cmocka_unit_test(test_cutoff_truncates),
        cmocka_unit_test(test_cutoff_outside_data),
        cmocka_unit_test(test_refuses_too_short),
        cmocka_unit_test(test_refuses_constant_and_all_missing),
        cmocka_unit_test(test_fills_gaps),
        cmocka_unit_test(test_scaler_and_rescale),
        cmocka_unit_test(test_protocol_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
