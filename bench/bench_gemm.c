/*
 * bench_gemm — the fixed-order products of model/gemm.h against OpenBLAS (single-threaded, as
 * fwpcast used it) on the shapes the models run at their default sizes on the paper protocol,
 * and the ESN's ridge solve against LAPACKE dposv. Prints a Markdown table: microseconds per
 * call (median of 7 timings, each over enough calls for ~20 ms) for OpenBLAS, the AVX2 path
 * and the baseline path, and the ratio fixed AVX2 / OpenBLAS.
 *
 * Usage: bench_gemm
 */
#include "model/gemm.h"
#include "model/rng.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct shape {
    const char *what;
    char ta, tb;
    int m, n, k;
    double beta;
};

/* The models' products (defaults, paper protocol: batches of 32 windows of 528 months, about
 * 1,400 distinct values per batch for the slow programmer). */
static const struct shape SHAPES[] = {
    {"gated-qkan-fwp slow r = q^T W2^T (nu x dh x ds)", 'T', 'T', 1400, 48, 25, 1},
    {"gated-qkan-fwp head A: r W_A^T (nu x na x dh)", 'N', 'T', 1400, 60, 48, 1},
    {"gated-qkan-fwp head B: r W_B^T", 'N', 'T', 1400, 20, 48, 1},
    {"gated-qkan-fwp dW_A += dA^T r", 'T', 'N', 60, 48, 1400, 1},
    {"gated-qkan-fwp dr = dA W_A", 'N', 'N', 1400, 48, 60, 0},
    {"gated-qkan-fwp dW2 += dr^T q^T", 'T', 'T', 48, 25, 1400, 1},
    {"gated-qkan-fwp dq = W2^T dr^T", 'T', 'T', 25, 1400, 48, 0},
    {"gated-qkan-fwp output Linear (32 x 132 x 20)", 'N', 'T', 32, 132, 20, 1},
    {"lstm step h W_hh^T (chunk 8 x 4h x h)", 'N', 'N', 8, 256, 64, 1},
    {"lstm backward dh = dgates W_hh", 'N', 'N', 8, 64, 256, 0},
    {"lstm dW_hh += dA^T h (4h x h x 527*8)", 'T', 'N', 256, 64, 4216, 1},
    {"rnn step (8 x 59 x 59)", 'N', 'N', 8, 59, 59, 1},
    {"rnn dW_hh (59 x 59 x 527*8)", 'T', 'N', 59, 59, 4216, 1},
    {"wavenet dilated conv tap (527 x 2C x C)", 'N', 'T', 527, 64, 32, 1},
    {"wavenet skip conv (528 x S x C)", 'N', 'T', 528, 32, 32, 1},
    {"wavenet backward dW tap (2C x C x 527)", 'T', 'N', 64, 32, 527, 1},
    {"wavenet backward dr (527 x C x 2C)", 'N', 'N', 527, 32, 64, 1},
    {"wavenet-lstm step (8 x 600 x 150)", 'N', 'N', 8, 600, 150, 1},
    {"esn readout X^T Y (1000 x 132 x 2084)", 'T', 'N', 1000, 132, 2084, 0},
    {"one forecast: output Linear (1 x 132 x 20)", 'N', 'T', 1, 132, 20, 1},
};

static void fill(rng *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rng_uniform_range(r, -1.0, 1.0);
}

/* Median microseconds per call of fn over 7 timings. */
typedef void (*call_fn)(const void *ctx);

static double time_calls(call_fn fn, const void *ctx)
{
    fn(ctx);
    double t0 = now();
    fn(ctx);
    double once = now() - t0;
    long reps = once > 0.02 ? 1 : (long)(0.02 / (once > 1e-8 ? once : 1e-8)) + 1;
    double v[7];
    for (int i = 0; i < 7; i++) {
        t0 = now();
        for (long r = 0; r < reps; r++)
            fn(ctx);
        v[i] = (now() - t0) / (double)reps;
    }
    qsort(v, 7, sizeof v[0], cmp_double);
    return 1e6 * v[3];
}

struct gemm_ctx {
    const struct shape *s;
    const double *a, *b;
    double *c;
    int lda, ldb;
};

static void call_openblas(const void *p)
{
    const struct gemm_ctx *g = p;
    const struct shape *s = g->s;
    cblas_dgemm(CblasRowMajor, s->ta == 'N' ? CblasNoTrans : CblasTrans,
                s->tb == 'N' ? CblasNoTrans : CblasTrans, s->m, s->n, s->k, 1.0, g->a, g->lda, g->b,
                g->ldb, s->beta, g->c, s->n);
}

static void call_fixed(const void *p)
{
    const struct gemm_ctx *g = p;
    const struct shape *s = g->s;
    gemm(s->ta == 'N' ? GEMM_N : GEMM_T, s->tb == 'N' ? GEMM_N : GEMM_T, (size_t)s->m, (size_t)s->n,
         (size_t)s->k, 1.0, g->a, (size_t)g->lda, g->b, (size_t)g->ldb, s->beta, g->c,
         (size_t)s->n);
}

struct ridge_ctx {
    int n, nrhs, k;
    const double *x, *y;
    double *a, *b;
    int fixed;
};

/* The ESN fit's algebra after the states: A = X^T X + ridge I (upper), B = X^T Y, solve. */
static void call_ridge(const void *p)
{
    const struct ridge_ctx *r = p;
    size_t n = (size_t)r->n, h = (size_t)r->nrhs, k = (size_t)r->k;
    if (r->fixed) {
        gemm_syrk_upper(NULL, n, k, 1.0, r->x, n, 0.0, r->a, n);
        for (size_t i = 0; i < n; i++)
            r->a[i * n + i] += 0.01;
        gemm(GEMM_T, GEMM_N, n, h, k, 1.0, r->x, n, r->y, h, 0.0, r->b, h);
        gemm_cholesky_solve(n, h, r->a, n, r->b, h);
    } else {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, r->n, r->k, 1.0, r->x, r->n, 0.0, r->a,
                    r->n);
        for (size_t i = 0; i < n; i++)
            r->a[i * n + i] += 0.01;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r->n, r->nrhs, r->k, 1.0, r->x, r->n,
                    r->y, r->nrhs, 0.0, r->b, r->nrhs);
        LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', r->n, r->nrhs, r->a, r->n, r->b, r->nrhs);
    }
}

static void ridge_row(rng *rg)
{
    struct ridge_ctx r = {1000, 132, 2084, NULL, NULL, NULL, NULL, 0};
    double *x = malloc((size_t)r.k * (size_t)r.n * sizeof *x);
    double *y = malloc((size_t)r.k * (size_t)r.nrhs * sizeof *y);
    r.a = malloc((size_t)r.n * (size_t)r.n * sizeof *r.a);
    r.b = malloc((size_t)r.n * (size_t)r.nrhs * sizeof *r.b);
    fill(rg, x, (size_t)r.k * (size_t)r.n);
    fill(rg, y, (size_t)r.k * (size_t)r.nrhs);
    r.x = x, r.y = y;
    double blas = time_calls(call_ridge, &r);
    r.fixed = 1;
    gemm_set_path(GEMM_PATH_AUTO);
    double fixed = time_calls(call_ridge, &r);
    gemm_set_path(GEMM_PATH_BASELINE);
    double base = time_calls(call_ridge, &r);
    gemm_set_path(GEMM_PATH_AUTO);
    printf("| esn ridge fit: A^T A, X^T Y, Cholesky solve | 1000 units, 132 outputs, 2084 "
           "windows | %.0f | %.0f | %.0f | %.2fx |\n",
           blas, fixed, base, fixed / blas);
    free(x), free(y), free(r.a), free(r.b);
}

int main(void)
{
    openblas_set_num_threads(1);
    int avx2 = gemm_set_path(GEMM_PATH_AVX2) == 0;
    gemm_set_path(GEMM_PATH_AUTO);
    printf("fixed-order products (model/gemm.c, %s path by default) against OpenBLAS "
           "cblas_dgemm, one thread; microseconds per call\n\n",
           avx2 ? "AVX2" : "baseline");
    printf(
        "| product (row-major, op(A) m x k, op(B) k x n) | shape | OpenBLAS | fixed, %s | fixed, "
        "baseline | fixed / OpenBLAS |\n|---|---|---|---|---|---|\n",
        avx2 ? "AVX2" : "baseline");
    rng rg;
    rng_seed(&rg, 1);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const struct shape *s = &SHAPES[i];
        int ar = s->ta == 'N' ? s->m : s->k, ac = s->ta == 'N' ? s->k : s->m;
        int br = s->tb == 'N' ? s->k : s->n, bc = s->tb == 'N' ? s->n : s->k;
        double *a = malloc((size_t)ar * (size_t)ac * sizeof *a);
        double *b = malloc((size_t)br * (size_t)bc * sizeof *b);
        double *c = malloc((size_t)s->m * (size_t)s->n * sizeof *c);
        fill(&rg, a, (size_t)ar * (size_t)ac);
        fill(&rg, b, (size_t)br * (size_t)bc);
        fill(&rg, c, (size_t)s->m * (size_t)s->n);
        struct gemm_ctx g = {s, a, b, c, ac, bc};
        double blas = time_calls(call_openblas, &g);
        gemm_set_path(GEMM_PATH_AUTO);
        double fixed = time_calls(call_fixed, &g);
        gemm_set_path(GEMM_PATH_BASELINE);
        double base = time_calls(call_fixed, &g);
        gemm_set_path(GEMM_PATH_AUTO);
        printf("| %s | %c%c %dx%dx%d | %.2f | %.2f | %.2f | %.2fx |\n", s->what, s->ta, s->tb, s->m,
               s->n, s->k, blas, fixed, base, fixed / blas);
        fflush(stdout);
        free(a), free(b), free(c);
    }
    ridge_row(&rg);
    return 0;
}
