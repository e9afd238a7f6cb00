/* gemm — fixed-order dense products and a Cholesky solve (see gemm.h).
 *
 * One blocked product, written once with GCC vector types and compiled twice: for the x86-64
 * baseline (tiles of 4 x 4 outputs, SSE2 pairs) and for AVX2 (tiles of 5 x 8). A tile keeps
 * one running sum per output in a vector lane and adds the k products to it in order p = 0, 1,
 * ...: the tile shape and the blocking decide only which outputs are computed together, never
 * the operations on one output, so both builds give the same bits. Sums longer than KC are
 * carried between blocks in memory (an exact store and reload). No FMA: the Makefile builds
 * this file with -ffp-contract=off and the AVX2 target does not include FMA. */
#include "model/gemm.h"
#include "model/pool.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#define MR      5   /* rows of a register tile, at most (4 baseline, 5 AVX2) */
#define VW      4   /* doubles per vector value */
#define NV_MAX  2   /* vector values per tile row: 1 (baseline) or 2 (AVX2) */
#define KC      128 /* steps of the sum per block */
#define MC      40  /* rows of a block (a multiple of 4 and 5) */
#define NC      64  /* columns of a block (a multiple of NV_MAX * VW) */
#define CHOL_NB 32  /* rows per panel of the Cholesky factorisation and the solves */

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

typedef double vd __attribute__((vector_size(VW * sizeof(double))));

/* op(B) blocks that are not read in place (B transposed, or a partial last tile), zero padded,
 * row stride NC; and a block's partial sums between K blocks, row stride NC. Per thread:
 * 84 KiB. */
static _Thread_local double packed_b[KC * NC];
static _Thread_local double partial[MC * NC];

struct prod {
    enum gemm_op ta, tb;
    size_t m, n, k;
    double alpha, beta;
    const double *a, *b;
    size_t lda, ldb, ldc;
    double *c;
    int upper;       /* only C[i][j] with j - i + shift >= 0 is written */
    ptrdiff_t shift; /* 0, or minus the first row's index in the whole matrix (a row block) */
};

/* Unaligned loads and stores (no vector passed by value: the baseline ABI has no AVX). */
#define VLOAD(v, p)  memcpy(&(v), (p), sizeof(vd))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(vd))

/* Where a tile reads and writes. op(A)(r, p) = a[r * rsa + p * csa]; op(B)(p, j) = b[p * rsb +
 * j]; part: the tile's partial sums (row stride NC); c: its first output (row stride ldc). */
struct tile {
    const double *a, *b;
    size_t rsa, csa, rsb, kc;
    double *part, *c;
    size_t nr;   /* valid columns (<= nv VW) */
    ptrdiff_t d; /* column minus row of the tile's first output, for `upper` */
    int first, last;
};

/* One row of the tile: acc[r][v] += op(A)(r, p) * op(B)(p, v VW ..). */
#define STEP_ROW(r)                                                                                \
    if (mr > (r)) {                                                                                \
        const double x = ap[(size_t)(r)*t->rsa];                                                   \
        acc[r][0] = acc[r][0] + b0 * x;                                                            \
        if (nv > 1)                                                                                \
            acc[r][1] = acc[r][1] + b1 * x;                                                        \
    }

/* The final store of one output: C = alpha s + beta C (beta 0: C is not read). */
static ALWAYS_INLINE double finish(double s, double alpha, double beta, const double *c)
{
    return beta == 0.0 ? alpha * s : alpha * s + beta * *c;
}

static ALWAYS_INLINE void store_tile(const int mr, const int nv, const struct tile *t,
                                     const struct prod *q, vd acc[MR][NV_MAX])
{
    const size_t w = (size_t)nv * VW;
    if (!t->last) {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                VSTORE(t->part + (size_t)r * NC + (size_t)v * VW, acc[r][v]);
        return;
    }
    const double alpha = q->alpha, beta = q->beta;
    if (t->nr == w && (!q->upper || t->d >= mr - 1)) {
        const vd va = {alpha, alpha, alpha, alpha}, vb = {beta, beta, beta, beta};
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++) {
                double *c = t->c + (size_t)r * q->ldc + (size_t)v * VW;
                vd s = acc[r][v], old;
                if (beta == 0.0) {
                    s = alpha == 1.0 ? s : va * s;
                } else {
                    VLOAD(old, c);
                    s = alpha == 1.0 && beta == 1.0 ? s + old : va * s + vb * old;
                }
                VSTORE(c, s);
            }
        return;
    }
    double out[MR][NV_MAX * VW];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            VSTORE(out[r] + (size_t)v * VW, acc[r][v]);
    for (int r = 0; r < mr; r++)
        for (size_t j = 0; j < t->nr; j++) {
            if (q->upper && (ptrdiff_t)j + t->d < r)
                continue;
            double *c = t->c + (size_t)r * q->ldc + j;
            *c = finish(out[r][j], alpha, beta, c);
        }
}

/* One tile of mr x (nv VW) outputs over t->kc steps of the sum. */
static ALWAYS_INLINE void run_tile(const int mr, const int nv, const struct tile *t,
                                   const struct prod *q)
{
    vd acc[MR][NV_MAX];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV_MAX; v++) {
            acc[r][v] = (vd){0, 0, 0, 0};
            if (!t->first && r < mr && v < nv)
                VLOAD(acc[r][v], t->part + (size_t)r * NC + (size_t)v * VW);
        }
    const double *ap = t->a, *bp = t->b;
    for (size_t p = 0; p < t->kc; p++, ap += t->csa, bp += t->rsb) {
        vd b0, b1;
        VLOAD(b0, bp);
        if (nv > 1)
            VLOAD(b1, bp + VW);
        else
            b1 = b0;
        STEP_ROW(0)
        STEP_ROW(1)
        STEP_ROW(2)
        STEP_ROW(3)
        STEP_ROW(4)
    }
    store_tile(mr, nv, t, q, acc);
}

static ALWAYS_INLINE void dispatch_tile(size_t mr, const int nv, const struct tile *t,
                                        const struct prod *q)
{
    switch (mr) {
    case 5:
        run_tile(5, nv, t, q);
        break;
    case 4:
        run_tile(4, nv, t, q);
        break;
    case 3:
        run_tile(3, nv, t, q);
        break;
    case 2:
        run_tile(2, nv, t, q);
        break;
    default:
        run_tile(1, nv, t, q);
        break;
    }
}

/* Copies op(B)[pc .. pc+kc)[jc + j0 .. jc + nc) into packed_b (columns j0..), zero padding
 * the columns up to a multiple of w. */
static void pack_b(const struct prod *q, size_t pc, size_t kc, size_t jc, size_t j0, size_t nc,
                   size_t w)
{
    size_t end = j0 + (nc - j0 + w - 1) / w * w;
    if (q->tb == GEMM_T) {
        const double *src = q->b + jc * q->ldb + pc;
        for (size_t p = 0; p < kc; p++)
            for (size_t j = j0; j < nc; j++)
                packed_b[p * NC + j] = src[j * q->ldb + p];
    } else {
        for (size_t p = 0; p < kc; p++)
            memcpy(packed_b + p * NC + j0, q->b + (pc + p) * q->ldb + jc + j0,
                   (nc - j0) * sizeof(double));
    }
    for (size_t p = 0; p < kc; p++)
        for (size_t j = nc; j < end; j++)
            packed_b[p * NC + j] = 0.0;
}

/* One block: rows [ic, ic + mc), columns [jc, jc + nc), steps [pc, pc + kc). */
static ALWAYS_INLINE void run_block(const int nv, const struct prod *q, size_t ic, size_t mc,
                                    size_t jc, size_t nc, size_t pc, size_t kc, int pack)
{
    const size_t w = (size_t)nv * VW;
    const size_t rsa = q->ta == GEMM_N ? q->lda : 1, csa = q->ta == GEMM_N ? 1 : q->lda;
    /* op(B) in place when it is not transposed; its partial last tile (or all of it) packed,
     * unless packed_b already holds this block (pack 0) */
    size_t in_place = q->tb == GEMM_N ? nc / w * w : 0;
    if (in_place < nc && pack)
        pack_b(q, pc, kc, jc, in_place, nc, w);
    struct tile t = {.rsa = rsa, .csa = csa, .kc = kc, .first = pc == 0, .last = pc + kc == q->k};
    /* the tile: 10 AVX2 or 8 SSE2 registers of sums (6 x 8 would spill two of them) */
    const size_t rows = nv > 1 ? 5 : 4;
    for (size_t ir = 0; ir < mc; ir += rows) {
        size_t i = ic + ir, mr = mc - ir < rows ? mc - ir : rows;
        t.a = q->a + i * rsa + pc * csa;
        for (size_t jr = 0; jr < nc; jr += w) {
            size_t j = jc + jr;
            t.d = (ptrdiff_t)j - (ptrdiff_t)i + q->shift;
            if (q->upper && t.d + (ptrdiff_t)w <= 0) /* the whole tile is below the diagonal */
                continue;
            if (jr < in_place) {
                t.b = q->b + pc * q->ldb + j;
                t.rsb = q->ldb;
            } else {
                t.b = packed_b + jr;
                t.rsb = NC;
            }
            t.part = partial + ir * NC + jr;
            t.c = q->c + i * q->ldc + j;
            t.nr = nc - jr < w ? nc - jr : w;
            dispatch_tile(mr, nv, &t, q);
        }
    }
}

static ALWAYS_INLINE void run_prod(const int nv, const struct prod *q)
{
    for (size_t jc = 0; jc < q->n; jc += NC) {
        size_t nc = q->n - jc < NC ? q->n - jc : NC;
        int packed = 0; /* packed_b holds op(B)'s columns [jc, jc + nc) (one K block only) */
        for (size_t ic = 0; ic < q->m; ic += MC) {
            size_t mc = q->m - ic < MC ? q->m - ic : MC;
            if (q->upper && (ptrdiff_t)(jc + nc) - (ptrdiff_t)ic + q->shift <= 0)
                /* the whole block is below the diagonal */
                continue;
            for (size_t pc = 0; pc < q->k; pc += KC)
                run_block(nv, q, ic, mc, jc, nc, pc, q->k - pc < KC ? q->k - pc : KC,
                          !packed || q->k > KC);
            packed = 1;
        }
    }
}

static void prod_baseline(const struct prod *q)
{
    run_prod(1, q);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_PATH 1
__attribute__((target("avx2"))) static void prod_avx2(const struct prod *q)
{
    run_prod(2, q);
}
#endif

/* ---- the path ---------------------------------------------------------------------------- */

static atomic_int active_path; /* 0 until the first product, then a GEMM_PATH_* */

static int cpu_has_avx2(void)
{
#ifdef HAVE_AVX2_PATH
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

enum gemm_path gemm_active_path(void)
{
    int p = atomic_load_explicit(&active_path, memory_order_relaxed);
    if (p == 0) {
        p = cpu_has_avx2() ? GEMM_PATH_AVX2 : GEMM_PATH_BASELINE;
        atomic_store_explicit(&active_path, p, memory_order_relaxed);
    }
    return (enum gemm_path)p;
}

int gemm_set_path(enum gemm_path path)
{
    if (path == GEMM_PATH_AVX2 && !cpu_has_avx2())
        return -1;
    int p =
        path == GEMM_PATH_AUTO ? (cpu_has_avx2() ? GEMM_PATH_AVX2 : GEMM_PATH_BASELINE) : (int)path;
    atomic_store_explicit(&active_path, p, memory_order_relaxed);
    return 0;
}

static void run(const struct prod *q)
{
    if (q->m == 0 || q->n == 0)
        return;
    if (q->k == 0) { /* no products: C = beta C (nothing read when beta is 0) */
        for (size_t i = 0; i < q->m; i++)
            for (size_t j = 0; j < q->n; j++)
                if (q->beta != 1.0 && (!q->upper || (ptrdiff_t)j - (ptrdiff_t)i + q->shift >= 0))
                    q->c[i * q->ldc + j] = q->beta == 0.0 ? 0.0 : q->beta * q->c[i * q->ldc + j];
        return;
    }
#ifdef HAVE_AVX2_PATH
    if (gemm_active_path() == GEMM_PATH_AVX2) {
        prod_avx2(q);
        return;
    }
#endif
    prod_baseline(q);
}

void gemm(enum gemm_op ta, enum gemm_op tb, size_t m, size_t n, size_t k, double alpha,
          const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
          size_t ldc)
{
    struct prod q = {ta, tb, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c, 0, 0};
    run(&q);
}

/* ---- on a pool ---------------------------------------------------------------------------- */

#define POOL_MIN_WORK 32768 /* multiply-adds below which a product stays on the caller */
#define POOL_MIN_ROWS 16    /* rows (or columns) per task, at least */

struct pool_prod {
    struct prod q;
    size_t per; /* rows (by_rows) or columns per task */
    int by_rows;
};

static void pool_prod_task(void *arg, size_t task, int thread)
{
    (void)thread;
    const struct pool_prod *pp = arg;
    struct prod q = pp->q;
    size_t lo = task * pp->per;
    if (pp->by_rows) {
        q.m = q.m - lo < pp->per ? q.m - lo : pp->per;
        q.a += q.ta == GEMM_N ? lo * q.lda : lo;
        q.c += lo * q.ldc;
        q.shift -= (ptrdiff_t)lo;
    } else {
        q.n = q.n - lo < pp->per ? q.n - lo : pp->per;
        q.b += q.tb == GEMM_N ? lo : lo * q.ldb;
        q.c += lo;
    }
    run(&q);
}

void gemm_pool(struct pool *pool, enum gemm_op ta, enum gemm_op tb, size_t m, size_t n, size_t k,
               double alpha, const double *a, size_t lda, const double *b, size_t ldb, double beta,
               double *c, size_t ldc)
{
    struct pool_prod pp = {{ta, tb, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c, 0, 0}, 0, 1};
    size_t threads = (size_t)pool_threads(pool);
    int rows = m >= 2 * POOL_MIN_ROWS, cols = n >= 2 * POOL_MIN_ROWS;
    if (threads < 2 || (double)m * (double)n * (double)k < POOL_MIN_WORK || (!rows && !cols)) {
        run(&pp.q);
        return;
    }
    /* two tasks per thread, whole tiles (multiples of 40 rows or 8 columns) where possible */
    pp.by_rows = rows;
    size_t len = rows ? m : n, unit = rows ? MC : NV_MAX * VW, tasks = 2 * threads;
    pp.per = (len + tasks - 1) / tasks;
    if (pp.per < POOL_MIN_ROWS)
        pp.per = POOL_MIN_ROWS;
    if (pp.per > unit)
        pp.per = (pp.per + unit - 1) / unit * unit;
    pool_run(pool, (len + pp.per - 1) / pp.per, pool_prod_task, &pp);
}

void gemm_syrk_upper(struct pool *pool, size_t n, size_t k, double alpha, const double *a,
                     size_t lda, double beta, double *c, size_t ldc)
{
    struct pool_prod pp = {
        {GEMM_T, GEMM_N, n, n, k, alpha, beta, a, a, lda, lda, ldc, c, 1, 0}, 0, 1};
    size_t threads = (size_t)pool_threads(pool);
    if (threads < 2 || (double)n * (double)n * (double)k < 2 * POOL_MIN_WORK ||
        n < 2 * POOL_MIN_ROWS) {
        run(&pp.q);
        return;
    }
    /* row blocks of a triangle: the first hold the most work, so more blocks than threads */
    size_t tasks = 4 * threads;
    pp.per = (n + tasks - 1) / tasks;
    pp.per = pp.per < POOL_MIN_ROWS ? POOL_MIN_ROWS : (pp.per + MC - 1) / MC * MC;
    pool_run(pool, (n + pp.per - 1) / pp.per, pool_prod_task, &pp);
}

/* ---- Cholesky ---------------------------------------------------------------------------- */

/* A = U^T U by panels of CHOL_NB rows: a panel's rows first get every earlier panel's
 * contribution in one product (a - sum over earlier rows p, summed in order), then, row by
 * row, the contributions of the panel's own earlier rows in order, and are scaled by the
 * diagonal. */
static int cholesky(size_t n, double *a, size_t lda)
{
    for (size_t i0 = 0; i0 < n; i0 += CHOL_NB) {
        size_t ib = n - i0 < CHOL_NB ? n - i0 : CHOL_NB;
        struct prod q = {.ta = GEMM_T,
                         .tb = GEMM_N,
                         .m = ib,
                         .n = n - i0,
                         .k = i0,
                         .alpha = -1.0,
                         .beta = 1.0,
                         .a = a + i0,
                         .b = a + i0,
                         .lda = lda,
                         .ldb = lda,
                         .ldc = lda,
                         .c = a + i0 * lda + i0,
                         .upper = 1};
        run(&q);
        for (size_t i = i0; i < i0 + ib; i++) {
            double *row = a + i * lda;
            for (size_t p = i0; p < i; p++) {
                const double *up = a + p * lda, f = up[i];
                for (size_t j = i; j < n; j++)
                    row[j] = row[j] - f * up[j];
            }
            double d = row[i];
            if (!(d > 0.0) || !isfinite(d))
                return (int)(i + 1);
            double u = sqrt(d);
            row[i] = u;
            for (size_t j = i + 1; j < n; j++)
                row[j] = row[j] / u;
        }
    }
    return 0;
}

/* U^T Y = B, then U X = Y, by the same panels. */
static void solve(size_t n, size_t nrhs, const double *a, size_t lda, double *b, size_t ldb)
{
    for (size_t i0 = 0; i0 < n; i0 += CHOL_NB) {
        size_t ib = n - i0 < CHOL_NB ? n - i0 : CHOL_NB;
        gemm(GEMM_T, GEMM_N, ib, nrhs, i0, -1.0, a + i0, lda, b, ldb, 1.0, b + i0 * ldb, ldb);
        for (size_t i = i0; i < i0 + ib; i++) {
            double *bi = b + i * ldb;
            for (size_t p = i0; p < i; p++) {
                const double f = a[p * lda + i], *bp = b + p * ldb;
                for (size_t j = 0; j < nrhs; j++)
                    bi[j] = bi[j] - f * bp[j];
            }
            const double u = a[i * lda + i];
            for (size_t j = 0; j < nrhs; j++)
                bi[j] = bi[j] / u;
        }
    }
    for (size_t i1 = n; i1 > 0;) {
        size_t ib = i1 < CHOL_NB ? i1 : CHOL_NB, i0 = i1 - ib;
        gemm(GEMM_N, GEMM_N, ib, nrhs, n - i1, -1.0, a + i0 * lda + i1, lda, b + i1 * ldb, ldb, 1.0,
             b + i0 * ldb, ldb);
        for (size_t i = i1; i-- > i0;) {
            double *bi = b + i * ldb;
            for (size_t p = i + 1; p < i1; p++) {
                const double f = a[i * lda + p], *bp = b + p * ldb;
                for (size_t j = 0; j < nrhs; j++)
                    bi[j] = bi[j] - f * bp[j];
            }
            const double u = a[i * lda + i];
            for (size_t j = 0; j < nrhs; j++)
                bi[j] = bi[j] / u;
        }
        i1 = i0;
    }
}

int gemm_cholesky_solve(size_t n, size_t nrhs, double *a, size_t lda, double *b, size_t ldb)
{
    int info = cholesky(n, a, lda);
    if (info)
        return info;
    solve(n, nrhs, a, lda, b, ldb);
    return 0;
}
