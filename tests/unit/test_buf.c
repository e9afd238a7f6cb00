/* Tests for base/buf: growth keeps every byte, take and free reset the buffer, the first failure
 * sticks, and a reserve whose size would overflow size_t (or pass BUF_MAX) fails cleanly instead
 * of wrapping. The overflow cases fake len and cap on a buffer with a small real allocation; the
 * reserve must fail before it writes or reallocates anything (under ASan a huge realloc would
 * abort the test). */
#include "testutil.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

static void test_growth(void **state)
{
    (void)state;
    struct buf b = {0};
    unsigned char chunk[300];
    size_t total = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i * 7 % 300);
        for (size_t k = 0; k < n; k++)
            chunk[k] = (unsigned char)(total + k);
        buf_append(&b, chunk, n);
        total += n;
        assert_int_equal(b.len, total);
        assert_true(b.cap >= b.len);
    }
    assert_false(b.failed);
    const unsigned char *p = b.data;
    for (size_t k = 0; k < total; k++)
        assert_int_equal(p[k], (unsigned char)k);

    /* a reserve within the capacity does not move the data; appending n == 0 is a no-op */
    assert_int_equal(buf_reserve(&b, b.cap - b.len), 0);
    void *before = b.data;
    size_t cap = b.cap;
    buf_append(&b, NULL, 0);
    assert_ptr_equal(b.data, before);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, total);

    /* the capacity doubles from the first 256 bytes */
    buf_free(&b);
    assert_int_equal(buf_reserve(&b, 1), 0);
    assert_int_equal(b.cap, 256);
    assert_int_equal(buf_reserve(&b, 257), 0);
    assert_int_equal(b.cap, 512);
    assert_int_equal(buf_reserve(&b, 5000), 0);
    assert_int_equal(b.cap, 8192);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_take(void **state)
{
    (void)state;
    /* an empty buffer hands over a block the caller can free */
    struct buf b = {0};
    size_t len = 99;
    void *data = buf_take(&b, &len);
    assert_non_null(data);
    assert_int_equal(len, 0);
    free(data);

    /* taking resets the buffer, which can be used again */
    buf_append(&b, "abc", 3);
    char *first = buf_take(&b, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(first, "abc", 3);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    buf_append(&b, "xy", 2);
    char *second = buf_take(&b, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(second, "xy", 2);
    assert_memory_equal(first, "abc", 3);
    free(first);
    free(second);
}

static void test_failure_sticks(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_append(&b, "abcd", 4);
    b.failed = 1;
    buf_append(&b, "efgh", 4);
    assert_int_equal(b.len, 4);
    assert_int_equal(buf_reserve(&b, 1), -1);
    assert_int_equal(buf_reserve(&b, 0), -1);
    size_t len = 99;
    assert_null(buf_take(&b, &len));
    assert_int_equal(len, 99);
    assert_null(b.data); /* freed, not leaked */
    assert_false(b.failed);

    /* a failure the buffer found itself sticks too */
    buf_append(&b, "abcd", 4);
    assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
    assert_true(b.failed);
    buf_append(&b, "efgh", 4);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "abcd", 4);
    assert_null(buf_take(&b, &len));
    assert_null(b.data);
}

/* Asserts that reserving `more` on a buffer faking len and cap fails and changes nothing. */
static void expect_refused(size_t fake_len, size_t fake_cap, size_t more)
{
    struct buf b = {0};
    buf_append(&b, "0123456789abcdef", 16); /* a real allocation of 256 bytes */
    void *data = b.data;
    b.len = fake_len;
    b.cap = fake_cap;
    assert_int_equal(buf_reserve(&b, more), -1);
    assert_true(b.failed);
    assert_ptr_equal(b.data, data);
    assert_true(b.len == fake_len);
    assert_true(b.cap == fake_cap);
    buf_append(&b, "x", 1); /* ignored: nothing is written at data + fake_len */
    assert_true(b.len == fake_len);
    assert_memory_equal(b.data, "0123456789abcdef", 16);
    buf_free(&b);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    /* len + more wraps around size_t */
    expect_refused(16, 256, SIZE_MAX);
    expect_refused(16, 256, SIZE_MAX - 15);
    expect_refused(SIZE_MAX - 8, SIZE_MAX - 4, 16);
    expect_refused(SIZE_MAX, SIZE_MAX, 1);
    /* len + more fits in size_t but is over BUF_MAX: no realloc is attempted */
    expect_refused(16, 256, BUF_MAX);
    expect_refused(16, 256, BUF_MAX - 15);
    expect_refused(BUF_MAX, BUF_MAX, 1);
    /* doubling the capacity would wrap (the old `cap *= 2`): cap near SIZE_MAX, or just past
     * half of it */
    expect_refused(16, SIZE_MAX - 1, SIZE_MAX - 10);
    expect_refused(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, 1);
    expect_refused(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, SIZE_MAX / 2);

    /* the largest size that is not refused outright is exactly BUF_MAX */
    struct buf b = {0};
    buf_append(&b, "x", 1);
    b.len = BUF_MAX - 4;
    b.cap = BUF_MAX; /* room for 4, so no realloc */
    assert_int_equal(buf_reserve(&b, 4), 0);
    assert_false(b.failed);
    assert_int_equal(buf_reserve(&b, 5), -1);
    assert_true(b.failed);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_failure_sticks),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
