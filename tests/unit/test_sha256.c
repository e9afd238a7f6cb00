/* Tests for base/sha256: the FIPS 180-2 example vectors, incremental hashing at every split
 * point, and a bundled data file against its published digest. */
#include "testutil.h"
#include "base/sha256.h"

#include <stdlib.h>
#include <string.h>

static void hex_of(const void *data, size_t len, char hex[SHA256_HEX_LEN])
{
    unsigned char digest[SHA256_DIGEST_LEN];
    sha256_buffer(data, len, digest);
    sha256_hex(digest, hex);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    char hex[SHA256_HEX_LEN];
    hex_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *long_msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                           "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    hex_of(long_msg, strlen(long_msg), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
    (void)state;
    struct sha256_ctx ctx;
    unsigned char digest[SHA256_DIGEST_LEN];
    char hex[SHA256_HEX_LEN];
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        sha256_update(&ctx, chunk, sizeof chunk);
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the 55/56/64-byte padding boundaries, split at every position: incremental
 * updates must give the one-shot digest. */
static void test_incremental_splits(void **state)
{
    (void)state;
    unsigned char msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(i * 31 + 7);
    const size_t lengths[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t len = lengths[l];
        unsigned char expect[SHA256_DIGEST_LEN], got[SHA256_DIGEST_LEN];
        sha256_buffer(msg, len, expect);
        for (size_t split = 0; split <= len; split++) {
            struct sha256_ctx ctx;
            sha256_init(&ctx);
            sha256_update(&ctx, msg, split);
            sha256_update(&ctx, NULL, 0);
            sha256_update(&ctx, msg + split, len - split);
            sha256_final(&ctx, got);
            assert_memory_equal(expect, got, SHA256_DIGEST_LEN);
        }
    }
    /* Different inputs of the same length differ. */
    unsigned char a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
    sha256_buffer("abd", 3, a);
    sha256_buffer("abc", 3, b);
    assert_memory_not_equal(a, b, SHA256_DIGEST_LEN);
}

/* The digest data/PROVENANCE.md gives for the bundled monthly file. */
static void test_bundled_file(void **state)
{
    (void)state;
    char *path = tu_path("data/SN_m_tot_V2.0.csv");
    size_t len = 0;
    char *data = tu_read_file(path, &len);
    assert_non_null(data);
    char hex[SHA256_HEX_LEN];
    hex_of(data, len, hex);
    assert_string_equal(hex, "17f231851fadacf7f8375b250f3cb96646a27bc7cfc814616e2c9cc8ca4abe33");
    free(data);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_incremental_splits),
        cmocka_unit_test(test_bundled_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
