/* Tests for quantum/ibm_samples, the streaming counter of IBM Sampler V2 results, on texts
 * written here (no server): the counts of each PUB, which register is read, hex digits and white
 * space, every truncation and malformed shape refused, nesting bounded, nothing read past len. */
#include "testutil.h"
#include "base/error.h"
#include "quantum/ibm_samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_count_samples(void **state)
{
    (void)state;
    uint64_t z[3], t[3];
    const char *good = "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\", \"0x1\", "
                       "\"0x0\"], \"num_bits\": 1}}, \"metadata\": {\"circuit_metadata\": {}}}, "
                       "{\"data\": {\"meas\": {\"samples\": [\"0x1\",\"0X3\",\"0x2\"], "
                       "\"num_bits\": 2}}}], \"metadata\": {\"version\": 2, \"x\": [1.5e3, "
                       "-2, true, null, \"a\\\"b\"]}}";
    assert_int_equal(ibm_count_samples(good, strlen(good), 2, z, t), 0);
    assert_int_equal(z[0], 2);
    assert_int_equal(t[0], 3);
    assert_int_equal(z[1], 1); /* 0x2: bit 0 clear */
    assert_int_equal(t[1], 3);
    assert_int_equal(ibm_count_samples(good, strlen(good), 3, z, t), FW_ECORRUPT);
    assert_int_equal(ibm_count_samples(good, strlen(good), 1, z, t), FW_ECORRUPT);
    for (size_t cut = 0; cut < strlen(good); cut += 7) /* every truncation */
        assert_int_equal(ibm_count_samples(good, cut, 2, z, t), FW_ECORRUPT);
    static const char *const bad[] = {
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0y1\"]}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x\"]}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [1]}}}]}",
        "{\"results\": [{\"data\": {\"a\": {\"samples\": []}, \"b\": {\"samples\": []}}}]}",
        "{\"results\": [{\"data\": {}}]}",
        "{\"results\": [{}]}",
        "{\"results\": {}}",
        "{}",
        "[]",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}]} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ibm_count_samples(bad[i], strlen(bad[i]), 1, z, t), FW_ECORRUPT);
    /* deep nesting is refused, not recursed into without bound */
    char deep[4096];
    size_t len = (size_t)snprintf(deep, sizeof deep, "{\"x\": ");
    for (int i = 0; i < 1000; i++)
        deep[len++] = '[';
    deep[len] = '\0';
    assert_int_equal(ibm_count_samples(deep, len, 1, z, t), FW_ECORRUPT);
}

/* Register "c" wins wherever it stands; without it, the only register is read. */
static void test_register_choice(void **state)
{
    (void)state;
    uint64_t z[1], t[1];
    const char *c_second = "{\"results\": [{\"data\": {\"meas\": {\"samples\": [\"0x1\"]}, "
                           "\"c\": {\"samples\": [\"0x0\", \"0x0\", \"0x1\"]}}}]}";
    assert_int_equal(ibm_count_samples(c_second, strlen(c_second), 1, z, t), 0);
    assert_int_equal(z[0], 2);
    assert_int_equal(t[0], 3);
    const char *only = "{\"results\": [{\"data\": {\"alpha\": {\"num_bits\": 1, "
                       "\"samples\": [\"0x1\", \"0x0\"]}}}]}";
    assert_int_equal(ibm_count_samples(only, strlen(only), 1, z, t), 0);
    assert_int_equal(z[0], 1);
    assert_int_equal(t[0], 2);
}

/* Bit 0 is the last hex digit's; digits in either case; white space anywhere between tokens. */
static void test_hex_and_space(void **state)
{
    (void)state;
    uint64_t z[2], t[2];
    const char *text = " {\r\n\t\"results\" :\n [ { \"data\" : { \"c\" : { \"samples\" : "
                       "[ \"0x10\" , \"0xff\" , \"0XA\" , \"0xb\" , \"0x0000\" ] } } } ,\n"
                       "{\"metadata\": {}, \"data\": {\"c\": {\"samples\": []}}} ] } \n";
    assert_int_equal(ibm_count_samples(text, strlen(text), 2, z, t), 0);
    assert_int_equal(z[0], 3); /* 0x10, 0XA, 0x0000 */
    assert_int_equal(t[0], 5);
    assert_int_equal(z[1], 0); /* an empty register counts nothing (fetch refuses that) */
    assert_int_equal(t[1], 0);
    const char *none = "{\"results\": [], \"metadata\": {\"version\": 2}}";
    assert_int_equal(ibm_count_samples(none, strlen(none), 0, z, t), 0);
}

/* The text ends at len: what follows is not read, and a result cut short of its end fails. */
static void test_reads_only_len(void **state)
{
    (void)state;
    uint64_t z[1], t[1];
    const char *result = "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x1\"]}}}]}";
    size_t len = strlen(result);
    char *exact = malloc(len); /* no NUL after the text */
    assert_non_null(exact);
    memcpy(exact, result, len);
    assert_int_equal(ibm_count_samples(exact, len, 1, z, t), 0);
    assert_int_equal(z[0], 0);
    assert_int_equal(t[0], 1);
    free(exact);
    char padded[128];
    snprintf(padded, sizeof padded, "%s{\"not\": \"read\"", result);
    assert_int_equal(ibm_count_samples(padded, len, 1, z, t), 0);
    assert_int_equal(ibm_count_samples(padded, strlen(padded), 1, z, t), FW_ECORRUPT);
}

/* Shapes a result must not have. */
static void test_malformed_shapes(void **state)
{
    (void)state;
    uint64_t z[2], t[2];
    static const char *const bad[] = {
        "{\"results\": [{\"data\": {\"c\": {\"samples\": \"0x0\"}}}]}",
        "{\"results\": [{\"data\": {\"c\": {}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"num_bits\": 1}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\",]}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}],}",
        "{\"results\": [{\"data\": []}]}",
        "{\"results\": [{\"metadata\": {}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}} {}]}",
        "{\"results\" [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}]}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}], \"x\": tru}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}], \"x\": -}",
        "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x\\u0001\"]}}}]}",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ibm_count_samples(bad[i], strlen(bad[i]), 1, z, t), FW_ECORRUPT);
    /* a string with a raw control character is not a string */
    char ctl[] = "{\"results\": [{\"data\": {\"c\": {\"samples\": [\"0x0\"]}}}], \"m\": \"a b\"}";
    ctl[strlen(ctl) - 4] = '\x01';
    assert_int_equal(ibm_count_samples(ctl, strlen(ctl), 1, z, t), FW_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_samples),    cmocka_unit_test(test_register_choice),
        cmocka_unit_test(test_hex_and_space),    cmocka_unit_test(test_reads_only_len),
        cmocka_unit_test(test_malformed_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
