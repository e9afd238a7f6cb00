/*
 * gemm — fixed-order dense matrix products for model/ (instead of BLAS), and a small Cholesky
 * solve for the ESN's ridge readout (instead of LAPACK).
 *
 * Why: a model file and a forecast must be the same bits for the same seed and data on any
 * x86-64 machine with AVX2, whatever the thread count or batch. BLAS libraries choose kernels by
 * CPU and by shape, and a kernel decides how each dot product is split and summed (and whether
 * it is fused: FMA), so the same product rounds differently on another CPU or inside another
 * batch.
 *
 * The contract, for every path and every shape: each output element is
 *     s = 0; for p = 0, 1, ..., k-1: s = s + op(A)[i][p] * op(B)[p][j]    (a mul, then an add)
 *     C[i][j] = alpha * s + beta * C[i][j]    (beta == 0: C[i][j] = alpha * s, C not read;
 *                                              k == 0: C[i][j] = beta * C[i][j], or 0)
 * exactly that sequence of IEEE double operations, never fused, never split: so a row of C does
 * not depend on the other rows in the call (a window's result does not depend on its batch),
 * and the bits do not depend on blocking, the thread or the CPU. The kernels vectorise across
 * neighbouring outputs j (each lane its own element), never across the sum. This file is built
 * with -ffp-contract=off (Makefile); GCC and clang would otherwise be free to fuse under some
 * flags.
 *
 * Two paths give the same bits: the x86-64 baseline (SSE2) and, when the CPU has AVX2, the same
 * code compiled for AVX2 (wider vectors, no FMA), chosen once at the first call.
 * tests/unit/test_gemm.c checks both against the plain triple loop, byte for byte.
 *
 * Row-major throughout; lda, ldb, ldc are row strides in elements. Single-threaded: callers
 * split work across their own pool. No allocation (a per-thread packing buffer is static).
 */
#ifndef FW_GEMM_H
#define FW_GEMM_H

#include <stddef.h>

enum gemm_op { GEMM_N, GEMM_T }; /* op(X) = X or X^T */

/* C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n (the contract above). */
void gemm(enum gemm_op ta, enum gemm_op tb, size_t m, size_t n, size_t k, double alpha,
          const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
          size_t ldc);

struct pool;

/* gemm with the outputs split into row (or column) blocks run as tasks on pool (NULL or one
 * thread, or a small product: gemm itself). Each output is still computed whole by one task,
 * so the bits are gemm's whatever the pool. Not from inside a task of the same pool. */
void gemm_pool(struct pool *pool, enum gemm_op ta, enum gemm_op tb, size_t m, size_t n, size_t k,
               double alpha, const double *a, size_t lda, const double *b, size_t ldb, double beta,
               double *c, size_t ldc);

/* C (n x n) upper triangle (j >= i) = alpha A^T A + beta C, A k x n: the upper half of
 * gemm(GEMM_T, GEMM_N, n, n, k, alpha, A, lda, A, lda, beta, C, ldc), the same bits; the strict
 * lower triangle is not touched. (BLAS dsyrk 'U', 'T'.) Split in row blocks over pool (may be
 * NULL) like gemm_pool, the same bits. */
void gemm_syrk_upper(struct pool *pool, size_t n, size_t k, double alpha, const double *a,
                     size_t lda, double beta, double *c, size_t ldc);

/* Solves A X = B for symmetric positive definite A (n x n, only its upper triangle read; on
 * return it holds the Cholesky factor U, A = U^T U, in the upper triangle) and B (n x nrhs,
 * overwritten by X). Fixed order, like gemm: the same bits on every machine. Returns 0, or
 * j + 1 when the leading minor of order j + 1 is not positive (as LAPACK's info; B is then
 * unspecified). */
int gemm_cholesky_solve(size_t n, size_t nrhs, double *a, size_t lda, double *b, size_t ldb);

/* The kernels: GEMM_PATH_AUTO (AVX2 when the CPU has it, the default), or one forced, for the
 * tests and benchmarks that compare them. Not thread-safe: set it before any product runs.
 * Returns 0, or -1 (nothing changed) when AVX2 is asked for and the CPU lacks it. */
enum gemm_path { GEMM_PATH_AUTO, GEMM_PATH_BASELINE, GEMM_PATH_AVX2 };
int gemm_set_path(enum gemm_path path);
/* The path products take now (GEMM_PATH_BASELINE or GEMM_PATH_AVX2). */
enum gemm_path gemm_active_path(void);

#endif
