/* Tests for base/textbuf: the fast number formatter against strtod and printf, JSON-safe
 * output for non-finite values, and the buffer's growth. */
#include "testutil.h"
#include "model/rng.h"
#include "base/textbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_known_values(void **state)
{
    (void)state;
    struct {
        double v;
        const char *text;
    } cases[] = {{61.01234567891, "61.01234568"},
                 {0.0012345, "0.0012345"},
                 {100, "100"},
                 {-5.5, "-5.5"},
                 {0, "0"},
                 {0.1, "0.1"},
                 {9.99999999999, "10"},
                 {123456789.4, "123456789.4"}};
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        textbuf_format_double(buf, cases[i].v);
        assert_string_equal(buf, cases[i].text);
    }
    /* outside the fast range it is printf's %.10g */
    textbuf_format_double(buf, 3e12);
    assert_string_equal(buf, "3e+12");
    textbuf_format_double(buf, -2.5e-7);
    assert_string_equal(buf, "-2.5e-07");
}

static void test_round_trip_within_ten_digits(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 17);
    char buf[32];
    for (int i = 0; i < 200000; i++) {
        double v = (rng_uniform(&r) - 0.5) * pow(10, (double)rng_below(&r, 16) - 4);
        int n = textbuf_format_double(buf, v);
        assert_int_equal(n, (int)strlen(buf));
        double back = strtod(buf, NULL);
        assert_true(fabs(back - v) <= 1e-9 * fabs(v) + 1e-300);
    }
}

static void test_buffer(void **state)
{
    (void)state;
    struct textbuf t = {0};
    for (int i = 0; i < 1000; i++) {
        textbuf_printf(&t, "%d,", i);
        textbuf_number(&t, i * 0.5);
        textbuf_puts(&t, ";");
    }
    textbuf_number(&t, NAN);
    size_t len = 0;
    char *s = textbuf_take(&t, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_non_null(strstr(s, "999,499.5;null"));
    assert_true(!strncmp(s, "0,0;1,0.5;", 10));
    free(s);
    struct textbuf empty = {0};
    s = textbuf_take(&empty, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
}

/* A length whose room (with the NUL) would overflow size_t fails the buffer; nothing is copied. */
static void test_overflow_fails(void **state)
{
    (void)state;
    struct textbuf t = {0};
    textbuf_puts(&t, "ok");
    textbuf_put(&t, "x", SIZE_MAX);
    assert_true(t.failed);
    assert_int_equal(t.len, 2);
    textbuf_puts(&t, "ignored");
    assert_int_equal(t.len, 2);
    size_t len = 99;
    assert_null(textbuf_take(&t, &len));
    assert_null(t.buf); /* freed, not leaked */

    textbuf_put(&t, "x", SIZE_MAX - 1); /* fits in size_t with the NUL, but over BUF_MAX */
    assert_true(t.failed);
    textbuf_free(&t);
    assert_false(t.failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_round_trip_within_ten_digits),
        cmocka_unit_test(test_buffer),
        cmocka_unit_test(test_overflow_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
