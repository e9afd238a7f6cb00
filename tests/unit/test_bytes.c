/* Tests for base/bytes: little-endian round trips (bit-exact doubles), strings, the reader's
 * refusal to run off the end, patching, taking the buffer, and CRC-32 check values. */
#include "testutil.h"
#include "base/bytes.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* Copies the writer's bytes into an exactly sized heap block, so that reading one byte too far
 * is caught by AddressSanitizer. */
static uint8_t *take_exact(struct bytes_writer *w, size_t *len)
{
    uint8_t *data = bytes_take(w, len);
    assert_non_null(data);
    uint8_t *exact = malloc(*len ? *len : 1);
    assert_non_null(exact);
    memcpy(exact, data, *len);
    free(data);
    return exact;
}

static void test_little_endian_layout(void **state)
{
    (void)state;
    struct bytes_writer w = {0};
    bytes_put_u32(&w, 0x01020304u);
    bytes_put_u64(&w, 0x1122334455667788ull);
    bytes_put_f64(&w, 1.0); /* 0x3ff0000000000000 */
    assert_false(w.failed);
    assert_int_equal(w.len, 20);
    const uint8_t expect[20] = {0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                                0x22, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f};
    assert_memory_equal(w.data, expect, sizeof expect);
    bytes_writer_free(&w);
    assert_null(w.data);
    assert_int_equal(w.len, 0);
}

static void test_integer_round_trip(void **state)
{
    (void)state;
    const uint32_t u32s[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xdeadbeefu, UINT32_MAX};
    const uint64_t u64s[] = {0, 1, 0x0123456789abcdefull, 0x8000000000000000ull, UINT64_MAX};
    struct bytes_writer w = {0};
    for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++)
        bytes_put_u32(&w, u32s[i]);
    for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++)
        bytes_put_u64(&w, u64s[i]);
    size_t len;
    uint8_t *data = take_exact(&w, &len);
    assert_int_equal(len, 6 * 4 + 5 * 8);
    struct bytes_reader r = {data, len, 0, 0};
    for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++)
        assert_true(bytes_get_u32(&r) == u32s[i]);
    for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++)
        assert_true(bytes_get_u64(&r) == u64s[i]);
    assert_false(r.failed);
    assert_int_equal(r.pos, len);
    free(data);
}

static void test_double_round_trip_bits(void **state)
{
    (void)state;
    const uint64_t special[] = {
        0x7ff8000000000000ull, /* quiet NaN */
        0x7ff8000000000123ull, /* quiet NaN with a payload */
        0xfff8000000000001ull, /* negative NaN with a payload */
        0x7ff0000000000001ull, /* signalling NaN */
        0x8000000000000000ull, /* -0.0 */
        0x7ff0000000000000ull, /* +inf */
        0xfff0000000000000ull, /* -inf */
        0x0000000000000001ull, /* smallest subnormal */
        0x000fffffffffffffull, /* largest subnormal */
        0x7fefffffffffffffull, /* DBL_MAX */
    };
    const double plain[] = {0.0, 1.0, -1.5, M_PI, 0.1, DBL_MIN, -DBL_MAX, 398.2, 1e-300};
    enum { NS = sizeof special / sizeof *special, NP = sizeof plain / sizeof *plain };
    struct bytes_writer w = {0};
    for (int i = 0; i < NS; i++)
        bytes_put_f64(&w, double_of(special[i]));
    bytes_put_f64s(&w, plain, NP);
    size_t len;
    uint8_t *data = take_exact(&w, &len);
    assert_int_equal(len, 8 * (NS + NP));
    struct bytes_reader r = {data, len, 0, 0};
    for (int i = 0; i < NS; i++) {
        double v = bytes_get_f64(&r);
        if (bits_of(v) != special[i])
            fail_msg("0x%016llx came back as 0x%016llx", (unsigned long long)special[i],
                     (unsigned long long)bits_of(v));
    }
    double back[NP];
    bytes_get_f64s(&r, back, NP);
    assert_memory_equal(back, plain, sizeof back);
    assert_true(signbit(double_of(special[4])) && back[0] == 0.0 && !signbit(back[0]));
    assert_false(r.failed);
    assert_int_equal(r.pos, len);
    free(data);
}

static void test_strings(void **state)
{
    (void)state;
    struct bytes_writer w = {0};
    bytes_put_str(&w, "hello");
    bytes_put_str(&w, "");
    bytes_put_str(&w, NULL); /* as the empty string */
    bytes_put_str(&w, "gated-qkan-fwp");
    size_t len;
    uint8_t *data = take_exact(&w, &len);
    assert_int_equal(len, 4 + 5 + 4 + 4 + 4 + 14);
    /* a u32 length, then the bytes, no NUL */
    assert_true(data[0] == 5 && data[1] == 0 && data[2] == 0 && data[3] == 0);
    assert_memory_equal(data + 4, "hello", 5);
    struct bytes_reader r = {data, len, 0, 0};
    char buf[32];
    memset(buf, 'X', sizeof buf);
    bytes_get_str(&r, buf, sizeof buf);
    assert_string_equal(buf, "hello");
    bytes_get_str(&r, buf, sizeof buf);
    assert_string_equal(buf, "");
    bytes_get_str(&r, buf, sizeof buf);
    assert_string_equal(buf, "");
    bytes_get_str(&r, buf, 15); /* 14 characters and the NUL: just fits */
    assert_string_equal(buf, "gated-qkan-fwp");
    assert_false(r.failed);
    assert_int_equal(r.pos, len);

    /* too small a buffer for the string and its NUL fails, and leaves an empty string */
    struct bytes_reader small = {data, len, 0, 0};
    char tiny[5];
    memset(tiny, 'X', sizeof tiny);
    bytes_get_str(&small, tiny, sizeof tiny);
    assert_true(small.failed);
    assert_int_equal(tiny[0], '\0');
    free(data);
}

static void test_reader_truncation(void **state)
{
    (void)state;
    struct bytes_writer w = {0};
    bytes_put_u32(&w, 7);
    bytes_put_u64(&w, 0x0102030405060708ull);
    size_t len;
    uint8_t *full = take_exact(&w, &len);
    assert_int_equal(len, 12);

    /* every truncation of the u32 + u64 record fails, never reading past the end */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *data = malloc(cut ? cut : 1);
        assert_non_null(data);
        memcpy(data, full, cut);
        struct bytes_reader r = {data, cut, 0, 0};
        uint32_t a = bytes_get_u32(&r);
        uint64_t b = bytes_get_u64(&r);
        assert_true(r.failed);
        if (cut < 4)
            assert_true(a == 0);
        else
            assert_true(a == 7);
        assert_true(b == 0); /* a failed read gives zero, never partial bytes */
        assert_true(r.pos <= cut);
        /* once failed, it stays failed, even for reads that would fit */
        r.pos = 0;
        assert_true(bytes_get_u32(&r) == 0);
        assert_true(r.failed);
        free(data);
    }

    /* reading exactly to the end is fine; one more byte is not */
    struct bytes_reader r = {full, len, 0, 0};
    assert_true(bytes_get_u32(&r) == 7);
    assert_true(bytes_get_u64(&r) == 0x0102030405060708ull);
    assert_false(r.failed);
    uint8_t one = 0xAA;
    bytes_get(&r, &one, 1);
    assert_true(r.failed);
    assert_int_equal(one, 0);
    double d = bytes_get_f64(&r);
    assert_true(d == 0.0);
    free(full);
}

static void test_string_length_beyond_data(void **state)
{
    (void)state;
    /* a length prefix claiming more bytes than there are */
    struct bytes_writer w = {0};
    bytes_put_u32(&w, 1000);
    bytes_put(&w, "abc", 3);
    size_t len;
    uint8_t *data = take_exact(&w, &len);
    char buf[2048];
    memset(buf, 'X', sizeof buf);
    struct bytes_reader r = {data, len, 0, 0};
    bytes_get_str(&r, buf, sizeof buf);
    assert_true(r.failed);
    assert_int_equal(buf[0], '\0');
    /* a length of UINT32_MAX must not wrap anything around */
    struct bytes_writer w2 = {0};
    bytes_put_u32(&w2, UINT32_MAX);
    uint8_t *data2 = take_exact(&w2, &len);
    struct bytes_reader r2 = {data2, len, 0, 0};
    bytes_get_str(&r2, buf, sizeof buf);
    assert_true(r2.failed);
    free(data);
    free(data2);
}

static void test_patch(void **state)
{
    (void)state;
    struct bytes_writer w = {0};
    bytes_put_u32(&w, 0); /* placeholder for a length */
    bytes_put_u64(&w, 42);
    bytes_put_u32(&w, 0); /* placeholder at the very end */
    bytes_patch_u32(&w, 0, 0xCAFEBABEu);
    bytes_patch_u32(&w, 12, 0x01020304u);
    /* out of range patches are ignored */
    bytes_patch_u32(&w, 13, 0xFFFFFFFFu);
    bytes_patch_u32(&w, 100, 0xFFFFFFFFu);
    assert_false(w.failed);
    size_t len;
    uint8_t *data = take_exact(&w, &len);
    assert_int_equal(len, 16);
    struct bytes_reader r = {data, len, 0, 0};
    assert_true(bytes_get_u32(&r) == 0xCAFEBABEu);
    assert_true(bytes_get_u64(&r) == 42);
    assert_true(bytes_get_u32(&r) == 0x01020304u);
    assert_false(r.failed);
    free(data);
}

static void test_take_and_failed_writer(void **state)
{
    (void)state;
    /* an empty writer still hands over a buffer the caller can free */
    struct bytes_writer w = {0};
    size_t len = 99;
    uint8_t *data = bytes_take(&w, &len);
    assert_non_null(data);
    assert_int_equal(len, 0);
    free(data);

    /* taking resets the writer, which can be used again */
    bytes_put_u32(&w, 1);
    data = bytes_take(&w, &len);
    assert_int_equal(len, 4);
    assert_null(w.data);
    assert_int_equal(w.len, 0);
    bytes_put_u32(&w, 2);
    uint8_t *second = bytes_take(&w, &len);
    assert_int_equal(len, 4);
    assert_int_equal(second[0], 2);
    assert_int_equal(data[0], 1);
    free(data);
    free(second);

    /* growth keeps every byte across reallocations */
    for (uint32_t i = 0; i < 10000; i++)
        bytes_put_u32(&w, i * 2654435761u);
    data = take_exact(&w, &len);
    assert_int_equal(len, 40000);
    struct bytes_reader r = {data, len, 0, 0};
    for (uint32_t i = 0; i < 10000; i++)
        assert_true(bytes_get_u32(&r) == i * 2654435761u);
    free(data);

    /* a writer that has failed ignores later writes and hands over nothing */
    bytes_put_u32(&w, 5);
    w.failed = 1;
    bytes_put_u64(&w, 6);
    assert_int_equal(w.len, 4);
    len = 99;
    assert_null(bytes_take(&w, &len));
    assert_null(w.data); /* freed, not leaked */
    bytes_writer_free(&w);

    /* a length that would overflow the buffer's size fails the writer; nothing is copied */
    bytes_put_u32(&w, 7);
    bytes_put(&w, "x", SIZE_MAX);
    assert_true(w.failed);
    assert_int_equal(w.len, 4);
    assert_null(bytes_take(&w, &len));
    assert_null(w.data);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_true(bytes_crc32(0, "123456789", 9) == 0xCBF43926u);
    assert_true(bytes_crc32(0, "", 0) == 0);
    assert_true(bytes_crc32(0, NULL, 0) == 0);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    assert_true(bytes_crc32(0, fox, strlen(fox)) == 0x414FA339u);
    assert_true(bytes_crc32(0, "a", 1) == 0xE8B7BE43u);
    /* continuing from a previous CRC equals the CRC of the whole */
    uint32_t part = bytes_crc32(0, "1234", 4);
    assert_true(bytes_crc32(part, "56789", 5) == 0xCBF43926u);
    uint32_t crc = 0;
    for (int i = 0; i < 9; i++)
        crc = bytes_crc32(crc, "123456789" + i, 1);
    assert_true(crc == 0xCBF43926u);
    /* one flipped bit changes it */
    assert_true(bytes_crc32(0, "123456788", 9) != 0xCBF43926u);
}

/* Regression: an offset near SIZE_MAX once wrapped the bounds check and wrote out of bounds. */
static void test_patch_out_of_range_is_ignored(void **state)
{
    (void)state;
    struct bytes_writer w = {0};
    bytes_put_u64(&w, 0);
    bytes_patch_u32(&w, SIZE_MAX - 1, 0xFFFFFFFFu);
    bytes_patch_u32(&w, 5, 0xFFFFFFFFu); /* 5 + 4 > 8: also ignored */
    size_t len;
    uint8_t *d = bytes_take(&w, &len);
    assert_int_equal(len, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(d[i], 0);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_little_endian_layout),
        cmocka_unit_test(test_patch_out_of_range_is_ignored),
        cmocka_unit_test(test_integer_round_trip),
        cmocka_unit_test(test_double_round_trip_bits),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_reader_truncation),
        cmocka_unit_test(test_string_length_beyond_data),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_take_and_failed_writer),
        cmocka_unit_test(test_crc32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
