/* Tests for model/gemm: every product is byte-identical to the plain triple loop that sums each
 * output in order p = 0, 1, ... (both kernel paths, the four transposes, odd shapes, row
 * strides, alpha and beta, sums longer than a block); the baseline and AVX2 paths agree on
 * random shapes; a row of C does not depend on the rows computed with it; beta = 0 does not read
 * C; a pool splits the outputs without changing a bit; the upper-triangle product; the Cholesky
 * solve (its residual, its refusal of a matrix that
 * is not positive definite, the same bits on both paths). */
#include "testutil.h"
#include "model/gemm.h"
#include "model/pool.h"
#include "model/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The reference must not be contracted into FMAs either: GCC in ISO C mode does not contract
 * (and warns about this pragma); clang is asked to. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static void naive(enum gemm_op ta, enum gemm_op tb, size_t m, size_t n, size_t k, double alpha,
                  const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
                  size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double *out = c + i * ldc + j;
            if (k == 0) {
                *out = beta == 0.0 ? 0.0 : beta == 1.0 ? *out : beta * *out;
                continue;
            }
            double s = 0.0;
            for (size_t p = 0; p < k; p++) {
                double x = ta == GEMM_N ? a[i * lda + p] : a[p * lda + i];
                double y = tb == GEMM_N ? b[p * ldb + j] : b[j * ldb + p];
                s = s + x * y;
            }
            *out = beta == 0.0 ? alpha * s : alpha * s + beta * *out;
        }
}

/* Values of many magnitudes, so that another summation order would round differently. */
static void fill(rng *r, double *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] = ldexp(rng_uniform_range(r, -1.0, 1.0), (int)rng_below(r, 40) - 20);
}

struct shape {
    size_t m, n, k;
};

/* One product on the current path against the reference, with padded row strides. */
static void check_one(rng *r, enum gemm_op ta, enum gemm_op tb, struct shape s, double alpha,
                      double beta)
{
    size_t ar = ta == GEMM_N ? s.m : s.k, ac = ta == GEMM_N ? s.k : s.m;
    size_t br = tb == GEMM_N ? s.k : s.n, bc = tb == GEMM_N ? s.n : s.k;
    size_t lda = ac + 3, ldb = bc + 1, ldc = s.n + 5;
    double *a = malloc((ar * lda + 1) * sizeof *a), *b = malloc((br * ldb + 1) * sizeof *b);
    double *c = malloc((s.m * ldc + 1) * sizeof *c), *ref = malloc((s.m * ldc + 1) * sizeof *ref);
    assert_non_null(a), assert_non_null(b), assert_non_null(c), assert_non_null(ref);
    fill(r, a, ar * lda + 1);
    fill(r, b, br * ldb + 1);
    fill(r, c, s.m * ldc + 1);
    if (beta == 0.0) /* C is not read: NaN must not show through (except in the padding) */
        for (size_t i = 0; i < s.m * ldc + 1; i++)
            c[i] = NAN;
    memcpy(ref, c, (s.m * ldc + 1) * sizeof *c);
    gemm(ta, tb, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, c, ldc);
    naive(ta, tb, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, ref, ldc);
    if (memcmp(c, ref, (s.m * ldc + 1) * sizeof *c) != 0)
        print_error("gemm %c%c m=%zu n=%zu k=%zu alpha=%g beta=%g path=%d differs\n",
                    ta == GEMM_N ? 'N' : 'T', tb == GEMM_N ? 'N' : 'T', s.m, s.n, s.k, alpha, beta,
                    (int)gemm_active_path());
    assert_memory_equal(c, ref, (s.m * ldc + 1) * sizeof *c);
    free(a), free(b), free(c), free(ref);
}

/* Shapes around the tile (4 x 4 or 4 x 8), block (64 x 64) and sum block (256) edges, and the
 * models' own. */
static const struct shape SHAPES[] = {
    {1, 1, 1},    {1, 7, 3},    {3, 1, 5},    {4, 8, 1},     {5, 9, 2},      {7, 13, 11},
    {8, 256, 64}, {2, 256, 64}, {13, 64, 64}, {65, 63, 17},  {64, 65, 255},  {67, 129, 256},
    {3, 5, 257},  {9, 17, 600}, {1, 132, 20}, {48, 25, 211}, {25, 211, 48},  {131, 2, 45},
    {0, 5, 3},    {5, 0, 3},    {6, 7, 0},    {70, 70, 520}, {256, 64, 300}, {20, 132, 1},
};

static const double ALPHA_BETA[][2] = {{1, 0}, {1, 1}, {-1, 1}, {0.5, -2}, {2, 0}, {1, 0.25}};

static void check_all(void)
{
    rng r;
    rng_seed(&r, 5);
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
        for (int t = 0; t < 4; t++)
            for (size_t v = 0; v < sizeof ALPHA_BETA / sizeof ALPHA_BETA[0]; v++)
                check_one(&r, t & 1 ? GEMM_T : GEMM_N, t & 2 ? GEMM_T : GEMM_N, SHAPES[s],
                          ALPHA_BETA[v][0], ALPHA_BETA[v][1]);
}

static int have_avx2(void)
{
    if (gemm_set_path(GEMM_PATH_AVX2) != 0) {
        print_message("no AVX2 on this CPU: the AVX2 path is not tested here\n");
        return 0;
    }
    gemm_set_path(GEMM_PATH_AUTO);
    return 1;
}

static void test_baseline_matches_the_triple_loop(void **state)
{
    (void)state;
    assert_int_equal(gemm_set_path(GEMM_PATH_BASELINE), 0);
    assert_int_equal(gemm_active_path(), GEMM_PATH_BASELINE);
    check_all();
    gemm_set_path(GEMM_PATH_AUTO);
}

static void test_avx2_matches_the_triple_loop(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    assert_int_equal(gemm_set_path(GEMM_PATH_AVX2), 0);
    assert_int_equal(gemm_active_path(), GEMM_PATH_AVX2);
    check_all();
    gemm_set_path(GEMM_PATH_AUTO);
}

/* The check can fail: summing the same products in another order changes some bits (so the
 * equality above says something about the order). */
static void test_another_order_differs(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 6);
    enum { M = 9, N = 11, K = 300 };
    double *a = malloc(M * K * sizeof *a), *b = malloc(K * N * sizeof *b);
    double c[M * N];
    fill(&r, a, M * K);
    fill(&r, b, K * N);
    gemm(GEMM_N, GEMM_N, M, N, K, 1.0, a, K, b, N, 0.0, c, N);
    int differ = 0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t p = K; p-- > 0;)
                s = s + a[i * K + p] * b[p * N + j];
            differ += s != c[i * N + j];
        }
    assert_true(differ > 0);
    free(a), free(b);
}

/* Random shapes and options: both paths give the same bytes. */
static void test_paths_agree_on_random_shapes(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    rng r;
    rng_seed(&r, 7);
    for (int trial = 0; trial < 300; trial++) {
        size_t m = 1 + rng_below(&r, 90), n = 1 + rng_below(&r, 150), k = rng_below(&r, 700);
        enum gemm_op ta = rng_below(&r, 2) ? GEMM_T : GEMM_N,
                     tb = rng_below(&r, 2) ? GEMM_T : GEMM_N;
        double alpha = rng_below(&r, 2) ? 1.0 : rng_uniform_range(&r, -2, 2);
        double beta = rng_below(&r, 3) == 0 ? 0.0 : rng_uniform_range(&r, -2, 2);
        size_t lda = (ta == GEMM_N ? k : m) + rng_below(&r, 4);
        size_t ldb = (tb == GEMM_N ? n : k) + rng_below(&r, 4), ldc = n + rng_below(&r, 4);
        size_t na = (ta == GEMM_N ? m : k) * lda + 1, nb = (tb == GEMM_N ? k : n) * ldb + 1;
        double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
        double *c1 = malloc(m * ldc * sizeof *c1), *c2 = malloc(m * ldc * sizeof *c2);
        fill(&r, a, na);
        fill(&r, b, nb);
        fill(&r, c1, m * ldc);
        memcpy(c2, c1, m * ldc * sizeof *c1);
        gemm_set_path(GEMM_PATH_BASELINE);
        gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
        gemm_set_path(GEMM_PATH_AVX2);
        gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
        assert_memory_equal(c1, c2, m * ldc * sizeof *c1);
        free(a), free(b), free(c1), free(c2);
    }
    gemm_set_path(GEMM_PATH_AUTO);
}

/* A row computed alone is the same row computed among others (a window's forecast does not
 * depend on its batch): x W^T + b, as in a Linear layer. */
static void test_rows_do_not_depend_on_the_batch(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 8);
    enum { N = 37, IN = 50, OUT = 132 };
    double *x = malloc(N * IN * sizeof *x), *w = malloc(OUT * IN * sizeof *w);
    double *all = malloc(N * OUT * sizeof *all), *init = malloc(N * OUT * sizeof *init);
    fill(&r, x, N * IN);
    fill(&r, w, OUT * IN);
    fill(&r, init, N * OUT);
    memcpy(all, init, N * OUT * sizeof *all);
    gemm(GEMM_N, GEMM_T, N, OUT, IN, 1.0, x, IN, w, IN, 1.0, all, OUT);
    for (size_t k = 0; k < N; k++) {
        double row[OUT];
        memcpy(row, init + k * OUT, sizeof row);
        gemm(GEMM_N, GEMM_T, 1, OUT, IN, 1.0, x + k * IN, IN, w, IN, 1.0, row, OUT);
        assert_memory_equal(row, all + k * OUT, sizeof row);
    }
    /* and every row alone, with beta = 0 */
    gemm(GEMM_N, GEMM_T, N, OUT, IN, 1.0, x, IN, w, IN, 0.0, all, OUT);
    for (size_t k = 0; k < N; k++) {
        double row[OUT];
        gemm(GEMM_N, GEMM_T, 1, OUT, IN, 1.0, x + k * IN, IN, w, IN, 0.0, row, OUT);
        assert_memory_equal(row, all + k * OUT, sizeof row);
    }
    free(x), free(w), free(all), free(init);
}

/* gemm_pool and gemm_syrk_upper on a 3-thread pool: gemm's bytes, by rows and by columns. */
static void test_pool_gives_the_same_bits(void **state)
{
    (void)state;
    struct pool *pool = NULL;
    assert_int_equal(pool_create(3, &pool), 0);
    rng r;
    rng_seed(&r, 11);
    const struct shape shapes[] = {{1400, 60, 48}, {60, 48, 1400}, {8, 600, 150}, {25, 1400, 48},
                                   {97, 33, 300},  {31, 31, 200},  {200, 9, 70}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (int op = 0; op < 4; op++) {
            struct shape s = shapes[t];
            enum gemm_op ta = op & 1 ? GEMM_T : GEMM_N, tb = op & 2 ? GEMM_T : GEMM_N;
            size_t lda = ta == GEMM_N ? s.k : s.m, ldb = tb == GEMM_N ? s.n : s.k;
            double *a = malloc(s.m * s.k * sizeof *a), *b = malloc(s.k * s.n * sizeof *b);
            double *c1 = malloc(s.m * s.n * sizeof *c1), *c2 = malloc(s.m * s.n * sizeof *c2);
            fill(&r, a, s.m * s.k);
            fill(&r, b, s.k * s.n);
            fill(&r, c1, s.m * s.n);
            memcpy(c2, c1, s.m * s.n * sizeof *c1);
            gemm(ta, tb, s.m, s.n, s.k, 1.0, a, lda, b, ldb, 1.0, c1, s.n);
            gemm_pool(pool, ta, tb, s.m, s.n, s.k, 1.0, a, lda, b, ldb, 1.0, c2, s.n);
            assert_memory_equal(c1, c2, s.m * s.n * sizeof *c1);
            free(a), free(b), free(c1), free(c2);
        }
    const size_t n = 333, k = 150;
    double *x = malloc(k * n * sizeof *x), *u1 = malloc(n * n * sizeof *u1);
    double *u2 = malloc(n * n * sizeof *u2);
    fill(&r, x, k * n);
    for (size_t i = 0; i < n * n; i++)
        u1[i] = u2[i] = -7.0;
    gemm_syrk_upper(NULL, n, k, 1.0, x, n, 0.0, u1, n);
    gemm_syrk_upper(pool, n, k, 1.0, x, n, 0.0, u2, n);
    assert_memory_equal(u1, u2, n * n * sizeof *u1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_true(u2[i * n + j] == -7.0); /* the lower triangle is not touched */
    free(x), free(u1), free(u2);
    pool_destroy(pool);
}

static void test_syrk_upper(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 9);
    const size_t sizes[][2] = {{1, 1}, {5, 3}, {70, 300}, {131, 17}, {200, 64}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t][0], k = sizes[t][1], ld = n + 2;
        double *a = malloc(k * ld * sizeof *a), *full = malloc(n * ld * sizeof *full);
        double *up = malloc(n * ld * sizeof *up);
        fill(&r, a, k * ld);
        fill(&r, full, n * ld);
        for (size_t i = 0; i < n; i++) /* a symmetric C, so that the result is too */
            for (size_t j = 0; j < i; j++)
                full[i * ld + j] = full[j * ld + i];
        memcpy(up, full, n * ld * sizeof *up);
        gemm(GEMM_T, GEMM_N, n, n, k, 1.0, a, ld, a, ld, 0.5, full, ld);
        const double sentinel = -12345.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++)
                up[i * ld + j] = sentinel;
        gemm_syrk_upper(NULL, n, k, 1.0, a, ld, 0.5, up, ld);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (j < i) {
                    assert_true(up[i * ld + j] == sentinel); /* not touched */
                } else {
                    assert_memory_equal(&up[i * ld + j], &full[i * ld + j], sizeof(double));
                }
                /* the full product is exactly symmetric: the same products in the same order */
                assert_memory_equal(&full[i * ld + j], &full[j * ld + i], sizeof(double));
            }
        free(a), free(full), free(up);
    }
}

/* A = X^T X + ridge I for random X (k x n): symmetric positive definite, as in the ESN fit. */
static void ridge_system(rng *r, size_t n, size_t k, double *a, double *b, size_t nrhs)
{
    double *x = malloc(k * n * sizeof *x);
    for (size_t i = 0; i < k * n; i++)
        x[i] = rng_uniform_range(r, -1.0, 1.0);
    gemm(GEMM_T, GEMM_N, n, n, k, 1.0, x, n, x, n, 0.0, a, n);
    for (size_t i = 0; i < n; i++)
        a[i * n + i] += 0.01;
    for (size_t i = 0; i < n * nrhs; i++)
        b[i] = rng_uniform_range(r, -1.0, 1.0);
    free(x);
}

static void test_cholesky_solve(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 10);
    const size_t sizes[][3] = {{1, 1, 3}, {7, 20, 2}, {33, 40, 5}, {100, 150, 13}, {150, 90, 1}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t][0], k = sizes[t][1], h = sizes[t][2];
        double *a = malloc(n * n * sizeof *a), *b = malloc(n * h * sizeof *b);
        double *a0 = malloc(n * n * sizeof *a0), *b0 = malloc(n * h * sizeof *b0);
        ridge_system(&r, n, k, a, b, h);
        memcpy(a0, a, n * n * sizeof *a);
        memcpy(b0, b, n * h * sizeof *b);
        /* only the upper triangle is read */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++)
                a[i * n + j] = NAN;
        assert_int_equal(gemm_cholesky_solve(n, h, a, n, b, h), 0);
        /* A0 X = B0 up to rounding, relative to the sizes involved */
        double worst = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < h; j++) {
                double s = 0.0, scale = fabs(b0[i * h + j]);
                for (size_t p = 0; p < n; p++) {
                    s += a0[i * n + p] * b[p * h + j];
                    scale += fabs(a0[i * n + p] * b[p * h + j]);
                }
                worst = fmax(worst, fabs(s - b0[i * h + j]) / scale);
            }
        assert_true(worst < 1e-11);
        /* the factor's diagonal is positive and U^T U reproduces A0's diagonal */
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t p = 0; p <= i; p++)
                s += a[p * n + i] * a[p * n + i];
            assert_true(a[i * n + i] > 0.0);
            assert_true(fabs(s - a0[i * n + i]) <= 1e-12 * a0[i * n + i]);
        }
        /* the same bits on both paths */
        if (gemm_set_path(GEMM_PATH_BASELINE) == 0) {
            double *a1 = malloc(n * n * sizeof *a1), *b1 = malloc(n * h * sizeof *b1);
            memcpy(a1, a0, n * n * sizeof *a0);
            memcpy(b1, b0, n * h * sizeof *b0);
            assert_int_equal(gemm_cholesky_solve(n, h, a1, n, b1, h), 0);
            assert_memory_equal(b1, b, n * h * sizeof *b);
            if (gemm_set_path(GEMM_PATH_AVX2) == 0) {
                memcpy(a1, a0, n * n * sizeof *a0);
                memcpy(b1, b0, n * h * sizeof *b0);
                assert_int_equal(gemm_cholesky_solve(n, h, a1, n, b1, h), 0);
                assert_memory_equal(b1, b, n * h * sizeof *b);
            }
            gemm_set_path(GEMM_PATH_AUTO);
            free(a1), free(b1);
        }
        free(a), free(b), free(a0), free(b0);
    }
}

/* Not positive definite: the order of the first non-positive leading minor, as LAPACK's info. */
static void test_cholesky_refuses_indefinite(void **state)
{
    (void)state;
    double a[9] = {4, 2, 0, 0, 1, 0, 0, 0, 1}, b[3] = {1, 2, 3}; /* minor 2: 4 - 4 = 0 */
    assert_int_equal(gemm_cholesky_solve(3, 1, a, 3, b, 1), 2);
    double c[4] = {-1, 0, 0, 1}, d[2] = {1, 1};
    assert_int_equal(gemm_cholesky_solve(2, 1, c, 2, d, 1), 1);
    /* 40 x 40 with a negative eigenvalue direction late: the row it shows in */
    enum { N = 40 };
    double *e = calloc(N * N, sizeof *e), f[N];
    for (size_t i = 0; i < N; i++) {
        e[i * N + i] = 1.0;
        f[i] = 1.0;
    }
    e[35 * N + 35] = -0.5;
    assert_int_equal(gemm_cholesky_solve(N, 1, e, N, f, 1), 36);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_matches_the_triple_loop),
        cmocka_unit_test(test_avx2_matches_the_triple_loop),
        cmocka_unit_test(test_another_order_differs),
        cmocka_unit_test(test_paths_agree_on_random_shapes),
        cmocka_unit_test(test_rows_do_not_depend_on_the_batch),
        cmocka_unit_test(test_pool_gives_the_same_bits),
        cmocka_unit_test(test_syrk_upper),
        cmocka_unit_test(test_cholesky_solve),
        cmocka_unit_test(test_cholesky_refuses_indefinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
