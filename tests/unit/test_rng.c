/* Tests for model/rng: reproducible streams (with reference values), independence of seeds and
 * streams, and the distributions of uniform, normal, bounded-integer draws and shuffles. */
#include "testutil.h"
#include "model/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { DRAWS = 100000 };

static void test_reference_values(void **state)
{
    (void)state;
    /* splitmix64 from 0 gives these four words (Vigna's reference splitmix64.c) */
    rng r;
    rng_seed(&r, 0);
    assert_true(r.s[0] == 0xe220a8397b1dcdafull);
    assert_true(r.s[1] == 0x6e789e6aa1b965f4ull);
    assert_true(r.s[2] == 0x06c45d188009454full);
    assert_true(r.s[3] == 0xf88bb8a8724c81ecull);
    /* xoshiro256**: the output is rotl(s1 * 5, 7) * 9 of the state before the step */
    uint64_t s1 = r.s[1] * 5;
    uint64_t expect = ((s1 << 7) | (s1 >> 57)) * 9;
    assert_true(rng_next(&r) == expect);
    /* the state moved on: the next value differs */
    assert_true(rng_next(&r) != expect);
}

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    rng a, b;
    rng_seed(&a, 12345);
    rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++)
        assert_true(rng_next(&a) == rng_next(&b));
    /* interleaving kinds of draws keeps them in step */
    for (int i = 0; i < 1000; i++) {
        assert_true(rng_uniform(&a) == rng_uniform(&b));
        assert_true(rng_normal(&a) == rng_normal(&b));
        assert_true(rng_below(&a, 17) == rng_below(&b, 17));
    }
    rng_seed_stream(&a, 7, 3);
    rng_seed_stream(&b, 7, 3);
    for (int i = 0; i < 1000; i++)
        assert_true(rng_next(&a) == rng_next(&b));
    /* reseeding restarts the stream */
    rng_seed(&a, 99);
    uint64_t first = rng_next(&a);
    rng_next(&a);
    rng_seed(&a, 99);
    assert_true(rng_next(&a) == first);
}

static int count_equal(rng *a, rng *b, int n)
{
    int same = 0;
    for (int i = 0; i < n; i++)
        same += rng_next(a) == rng_next(b);
    return same;
}

static void test_seeds_and_streams_differ(void **state)
{
    (void)state;
    rng a, b;
    /* neighbouring seeds, including 0 and 1 */
    for (uint64_t s = 0; s < 20; s++) {
        rng_seed(&a, s);
        rng_seed(&b, s + 1);
        assert_int_equal(count_equal(&a, &b, 1000), 0);
    }
    /* streams of one seed, and one stream of two seeds */
    for (uint64_t st = 0; st < 20; st++) {
        rng_seed_stream(&a, 5, st);
        rng_seed_stream(&b, 5, st + 1);
        assert_int_equal(count_equal(&a, &b, 1000), 0);
        rng_seed_stream(&a, st, 0);
        rng_seed_stream(&b, st + 1, 0);
        assert_int_equal(count_equal(&a, &b, 1000), 0);
    }
    /* a stream is not the plain seed's sequence */
    rng_seed(&a, 5);
    rng_seed_stream(&b, 5, 0);
    assert_int_equal(count_equal(&a, &b, 1000), 0);
    /* (seed, stream) and (stream, seed) differ */
    rng_seed_stream(&a, 1, 2);
    rng_seed_stream(&b, 2, 1);
    assert_int_equal(count_equal(&a, &b, 1000), 0);
}

static void test_uniform(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 1);
    double sum = 0, sumsq = 0, lo = 1, hi = 0;
    int bins[10] = {0};
    for (int i = 0; i < DRAWS; i++) {
        double u = rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
        sumsq += u * u;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
        bins[(int)(u * 10)]++;
    }
    double mean = sum / DRAWS, var = sumsq / DRAWS - mean * mean;
    /* sd of the mean is 0.289 / 316 = 0.0009 */
    assert_true(fabs(mean - 0.5) < 0.005);
    assert_true(fabs(var - 1.0 / 12.0) < 0.002);
    assert_true(lo < 1e-3 && hi > 1 - 1e-3);
    for (int b = 0; b < 10; b++) /* expected 10000, sd ~95 */
        assert_true(abs(bins[b] - DRAWS / 10) < 600);
    /* 53 random bits: the value times 2^53 is an integer, odd about half the time */
    int odd = 0;
    for (int i = 0; i < 1000; i++) {
        double u = rng_uniform(&r) * 0x1.0p53;
        assert_true(u == floor(u));
        odd += fmod(u, 2.0) == 1.0;
    }
    assert_true(odd > 400 && odd < 600);
    /* the range form */
    for (int i = 0; i < 10000; i++) {
        double v = rng_uniform_range(&r, -3.0, 5.0);
        assert_true(v >= -3.0 && v < 5.0);
    }
}

static void test_normal(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 2);
    double sum = 0, sumsq = 0, sum3 = 0, sum4 = 0;
    int within1 = 0, within2 = 0;
    for (int i = 0; i < DRAWS; i++) {
        double z = rng_normal(&r);
        assert_true(isfinite(z));
        sum += z;
        sumsq += z * z;
        sum3 += z * z * z;
        sum4 += z * z * z * z;
        within1 += fabs(z) < 1;
        within2 += fabs(z) < 2;
    }
    double mean = sum / DRAWS, sd = sqrt(sumsq / DRAWS - mean * mean);
    assert_true(fabs(mean) < 0.02); /* sd of the mean is 0.0032 */
    assert_true(fabs(sd - 1.0) < 0.02);
    assert_true(fabs(sum3 / DRAWS) < 0.05);       /* skewness 0 */
    assert_true(fabs(sum4 / DRAWS - 3.0) < 0.15); /* kurtosis 3 */
    assert_true(fabs((double)within1 / DRAWS - 0.6826895) < 0.01);
    assert_true(fabs((double)within2 / DRAWS - 0.9544997) < 0.005);
}

static void test_below(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < 1000; i++)
        assert_true(rng_below(&r, 1) == 0);
    int counts[6] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t v = rng_below(&r, 6);
        assert_true(v < 6);
        counts[v]++;
    }
    for (int k = 0; k < 6; k++) /* expected 16667, sd ~118 */
        assert_true(abs(counts[k] - DRAWS / 6) < 700);

    /* a bound near 2^64 that is not a power of two: values in [2^63, 3 * 2^62) must come a third
     * of the time (a modulo reduction would give about half) */
    const uint64_t n = 3ull << 62;
    int high = 0;
    for (int i = 0; i < DRAWS; i++) {
        uint64_t v = rng_below(&r, n);
        assert_true(v < n);
        high += v >= (1ull << 63);
    }
    assert_true(fabs((double)high / DRAWS - 1.0 / 3.0) < 0.01);

    /* the same bound exposes a biased multiply-shift: without Lemire's rejection, v = floor(3x/4)
     * for a uniform 64-bit x, and v mod 3 is 0 half the time instead of a third */
    int residues[3] = {0};
    for (int i = 0; i < DRAWS; i++)
        residues[rng_below(&r, n) % 3]++;
    for (int k = 0; k < 3; k++) /* expected 33333, sd ~149 */
        assert_true(abs(residues[k] - DRAWS / 3) < 1000);

    /* the largest bound */
    for (int i = 0; i < 1000; i++)
        assert_true(rng_below(&r, UINT64_MAX) < UINT64_MAX);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void test_shuffle(void **state)
{
    (void)state;
    enum { N = 1000 };
    size_t a[N], b[N], c[N];
    for (size_t i = 0; i < N; i++)
        a[i] = b[i] = c[i] = i;
    rng ra, rb, rc;
    rng_seed(&ra, 10);
    rng_seed(&rb, 10);
    rng_seed(&rc, 11);
    rng_shuffle(&ra, a, N);
    rng_shuffle(&rb, b, N);
    rng_shuffle(&rc, c, N);
    assert_memory_equal(a, b, sizeof a); /* the same seed, the same order */
    int fixed = 0, same = 0;
    for (size_t i = 0; i < N; i++) {
        fixed += a[i] == i;
        same += a[i] == c[i];
    }
    assert_true(fixed < 10); /* about one fixed point expected */
    assert_true(same < 10);  /* another seed, another order */
    /* a permutation: sorted back it is 0..N-1 */
    qsort(a, N, sizeof *a, cmp_size);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(a[i], i);

    /* nothing to do for 0 or 1 items */
    size_t one = 42;
    rng_shuffle(&ra, &one, 1);
    assert_int_equal(one, 42);
    rng_shuffle(&ra, NULL, 0);

    /* all 6 orders of 3 items equally likely */
    int counts[6] = {0};
    for (int t = 0; t < 60000; t++) {
        size_t p[3] = {0, 1, 2};
        rng_shuffle(&ra, p, 3);
        /* index the permutation: first item * 2 + whether the other two are swapped */
        int rest_swapped = p[1] > p[2];
        counts[p[0] * 2 + (size_t)rest_swapped]++;
    }
    for (int k = 0; k < 6; k++) /* expected 10000, sd ~91 */
        assert_true(abs(counts[k] - 10000) < 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_seeds_and_streams_differ),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_below),
        cmocka_unit_test(test_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
