/* Tests for base/period: month indices from "YYYY-MM" and "YYYY-MM-DD" (days checked against
 * the calendar), every kind of malformed text refused, and the text form round trip. */
#include "testutil.h"
#include "base/error.h"
#include "base/period.h"

#include <stdio.h>
#include <string.h>

static void test_parse_months(void **state)
{
    (void)state;
    struct {
        const char *text;
        int year, month;
    } good[] = {
        {"2024-01", 2024, 1}, {"2024-12", 2024, 12}, {"1749-01", 1749, 1},
        {"0001-01", 1, 1},    {"9999-12", 9999, 12}, {"2021-01", 2021, 1},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int m = -1;
        assert_int_equal(period_parse(good[i].text, &m), FW_OK);
        assert_int_equal(m, good[i].year * 12 + good[i].month - 1);
        assert_int_equal(period_year(m), good[i].year);
        assert_int_equal(period_month(m), good[i].month);
    }
    /* consecutive months differ by one, across a year end */
    int dec = 0, jan = 0;
    assert_int_equal(period_parse("2023-12", &dec), FW_OK);
    assert_int_equal(period_parse("2024-01", &jan), FW_OK);
    assert_int_equal(jan - dec, 1);
}

static void test_parse_days(void **state)
{
    (void)state;
    const char *good[] = {
        "2024-02-29", /* leap year */
        "2000-02-29", /* divisible by 400 */
        "2023-02-28", "2024-01-31", "2024-04-30", "2024-12-31", "1749-01-31", "2024-01-01",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int m = -1, ym = -2;
        if (period_parse(good[i], &m) != FW_OK)
            fail_msg("'%s' refused", good[i]);
        /* the day is ignored: the same month as the YYYY-MM prefix */
        char prefix[8];
        memcpy(prefix, good[i], 7);
        prefix[7] = '\0';
        assert_int_equal(period_parse(prefix, &ym), FW_OK);
        assert_int_equal(m, ym);
    }
    const char *bad[] = {
        "2023-02-29", /* not a leap year */
        "1900-02-29", /* divisible by 100, not by 400 */
        "2024-02-30", "2024-04-31", "2024-06-31", "2024-09-31", "2024-11-31",
        "2024-01-32", "2024-01-00", "2024-13-01", "2024-00-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int m = -1;
        if (period_parse(bad[i], &m) != FW_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(m, -1);
    }
}

static void test_parse_refusals(void **state)
{
    (void)state;
    const char *bad[] = {
        "",           "2024",        "2024-",      "2024-13",     "2024-00",     "2024-1",
        "24-01",      "202-01",      "20240-01",   "2024-001",    "2024-01x",    "2024-01 ",
        " 2024-01",   "2024-01-01x", "2024-01-1",  "2024-01-001", "2024/01",     "2024_01",
        "2024-01/01", "20a4-01",     "2024-0a",    "+024-01",     "-024-01",     "2024-+1",
        "0000-01",    "2024-01-",    "2024-01-0a", "2024-1-01",   "2024-01-01 ", "２０２４-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int m = 12345;
        if (period_parse(bad[i], &m) != FW_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(m, 12345); /* no output on failure */
    }
    int m = 12345;
    assert_int_equal(period_parse(NULL, &m), FW_EINVAL);
    assert_int_equal(period_parse_n(NULL, 7, &m), FW_EINVAL);
    assert_int_equal(m, 12345);
}

static void test_parse_n(void **state)
{
    (void)state;
    /* not NUL-terminated: only len bytes count */
    const char buf[10] = {'2', '0', '2', '4', '-', '0', '5', 'X', 'Y', 'Z'};
    int m = -1;
    assert_int_equal(period_parse_n(buf, 7, &m), FW_OK);
    assert_int_equal(m, 2024 * 12 + 4);
    m = -1;
    assert_int_equal(period_parse_n(buf, 10, &m), FW_EINVAL);
    assert_int_equal(period_parse_n(buf, 6, &m), FW_EINVAL);
    assert_int_equal(period_parse_n(buf, 8, &m), FW_EINVAL);
    assert_int_equal(period_parse_n(buf, 0, &m), FW_EINVAL);
    assert_int_equal(m, -1);
    /* a date cut to its month */
    assert_int_equal(period_parse_n("2023-02-29", 7, &m), FW_OK);
    assert_int_equal(m, 2023 * 12 + 1);
    assert_int_equal(period_parse_n("2024-02-29,extra", 10, &m), FW_OK);
    assert_int_equal(m, 2024 * 12 + 1);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char buf[PERIOD_TEXT_MAX];
    period_format(2024 * 12 + 1, buf);
    assert_string_equal(buf, "2024-02");
    period_format(1 * 12 + 0, buf);
    assert_string_equal(buf, "0001-01");
    period_format(9999 * 12 + 11, buf);
    assert_string_equal(buf, "9999-12");
    period_format(2021 * 12 + 0, buf);
    assert_string_equal(buf, "2021-01");

    /* every month of the accepted range */
    for (int m = 1 * 12; m <= 9999 * 12 + 11; m++) {
        memset(buf, 'X', sizeof buf);
        period_format(m, buf);
        assert_int_equal(strlen(buf), 7);
        int back = -1;
        if (period_parse(buf, &back) != FW_OK || back != m)
            fail_msg("month %d formatted as '%s' parsed back as %d", m, buf, back);
        assert_int_equal(period_year(m) * 12 + period_month(m) - 1, m);
        assert_true(period_month(m) >= 1 && period_month(m) <= 12);
    }
    /* and every text of a year back to the same text */
    for (int month = 1; month <= 12; month++) {
        char text[32];
        snprintf(text, sizeof text, "1987-%02d", month);
        int idx = -1;
        assert_int_equal(period_parse(text, &idx), FW_OK);
        period_format(idx, buf);
        assert_string_equal(buf, text);
    }
}

static void test_year_month_helpers(void **state)
{
    (void)state;
    assert_int_equal(period_year(2024 * 12 + 11), 2024);
    assert_int_equal(period_month(2024 * 12 + 11), 12);
    assert_int_equal(period_year(2024 * 12 + 12), 2025);
    assert_int_equal(period_month(2024 * 12 + 12), 1);
    assert_int_equal(period_year(1749 * 12), 1749);
    assert_int_equal(period_month(1749 * 12), 1);
    assert_int_equal(period_month(1778 * 12 + 4), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_months),      cmocka_unit_test(test_parse_days),
        cmocka_unit_test(test_parse_refusals),    cmocka_unit_test(test_parse_n),
        cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_year_month_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
