/*
 * fwp — the gated fast-weight recursion of paper.md §1.4 step 3, for one sample:
 *
 *   theta_0 = 0,  theta_t = g_t theta_{t-1} + (1 - g_t) a_t b_t^T,  t = 1..L
 *
 * with a_t in R^na, b_t in R^nb (the rank-1 write delta_t = a_t (x) b_t, flattened row-major as
 * [na][nb]) and a scalar gate g_t in (0,1). Two exact paths:
 *   - sequential: the recursion itself, O(L na nb), keeping every theta_t when asked;
 *   - parallel (closed form): theta_L = A^T diag(w) B with w_t = (1-g_t) prod_{s>t} g_s, one GEMM.
 * Their backward passes give dA, dB and dg from dtheta_L; the parallel one uses the O(L) gate
 * formula dL/dg_t = P_t (S_{t-1} - c_t) of paper.md §1.9. Matrices are row-major, caller-owned;
 * no allocation (callers pass scratch of the documented size).
 */
#ifndef FW_FWP_H
#define FW_FWP_H

#include <stddef.h>

/* Products below this are flushed to zero: they are far below double precision relative to
 * the sum they enter, and denormals would slow the loops a hundredfold. */
#define FWP_TINY 1e-250

/* Closed-form weights w_t = (1-g_t) prod_{s>t} g_s and P_t = prod_{s>t} g_s. */
void fwp_weights(size_t L, const double *g, double *w, double *p);

/* Sequential forward. states, when not NULL, receives theta_1..theta_L (L*na*nb doubles). */
void fwp_forward_sequential(size_t L, size_t na, size_t nb, const double *a, const double *b,
                            const double *g, double *theta, double *states);

/* Closed-form forward. w and p (L each) receive the weights; scratch has L*na doubles. */
void fwp_forward_parallel(size_t L, size_t na, size_t nb, const double *a, const double *b,
                          const double *g, double *theta, double *w, double *p, double *scratch);

/* Closed-form backward. w and p as computed by the forward; dtheta is na*nb. Writes (overwrites)
 * da (L*na), db (L*nb), dg (L). scratch has L*nb doubles. */
void fwp_backward_parallel(size_t L, size_t na, size_t nb, const double *a, const double *b,
                           const double *g, const double *w, const double *p, const double *dtheta,
                           double *da, double *db, double *dg, double *scratch);

/* Sequential backward (backpropagation through time) using the states kept by the sequential
 * forward. Writes da, db, dg. scratch has 2*na*nb doubles. */
void fwp_backward_sequential(size_t L, size_t na, size_t nb, const double *a, const double *b,
                             const double *g, const double *states, const double *dtheta,
                             double *da, double *db, double *dg, double *scratch);

#endif
