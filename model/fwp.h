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

/*
 * The batch scan: many windows over one shared sequence of T steps (a training batch cuts its
 * windows from one series). One recursion runs over the whole span,
 *   Theta(t) = g_t Theta(t-1) + (1 - g_t) a_t b_t^T,  Theta(-1) = 0,
 * and window k, covering steps [s_k, e_k], is exactly
 *   theta_k = Theta(e_k) - P_k Theta(s_k - 1),  P_k = prod_{t=s_k..e_k} g_t,
 * so the whole batch costs one O(T na nb) scan instead of n GEMMs of O(L na nb), and the
 * backward pass yields per-step gradients directly. The scan runs in FWP_SCAN_BLOCKS fixed row
 * blocks of theta (tasks for a pool; per-block partial sums are reduced in block order), so the
 * results do not depend on the number of threads. The backward pass recomputes states from
 * checkpoints every FWP_SCAN_CHECKPOINT steps instead of keeping all T of them.
 *
 * Step t reads its rows at a + row[t]*na, b + row[t]*nb, g[row[t]] (rows may repeat: the slow
 * programmer's outputs are shared by months with equal values). The struct owns its workspace;
 * the inputs are borrowed and must stay valid from forward to backward.
 */
#define FWP_SCAN_BLOCKS     4
#define FWP_SCAN_CHECKPOINT 64

struct fwp_scan {
    size_t T, na, nb, L, n, cap_T, cap_n;
    const double *a, *b, *g;
    const int *row;
    const size_t *start;
    double *prod;                     /* n: P_k */
    double *snap_end, *snap_before;   /* n x na x nb */
    double *ckpt;                     /* ceil(T / CK) x na x nb: Theta before step c*CK */
    double *seg;                      /* FWP_SCAN_BLOCKS x CK x na x nb (row slices) */
    double *db_part, *dg_part;        /* FWP_SCAN_BLOCKS x T x nb, FWP_SCAN_BLOCKS x T */
    double *lambda;                   /* na x nb */
    size_t *event_start, *event_fill; /* T + 1 each */
    size_t *events;                   /* 2n: window * 2 + (0: it ends here, 1: starts next) */
    const double *dtheta;             /* backward input, n x na x nb (borrowed) */
    double *da, *db, *dg;             /* backward outputs, T x na, T x nb, T (borrowed) */
};

/* Sets up a scan of T steps and n windows of length L starting at start[k] (start[k] + L <= T).
 * Reuses the workspace when it is large enough. */
int fwp_scan_prepare(struct fwp_scan *s, size_t T, size_t na, size_t nb, size_t L, size_t n,
                     const double *a, const double *b, const double *g, const int *row,
                     const size_t *start);
void fwp_scan_free(struct fwp_scan *s);

/* Forward for row block `block` (run all FWP_SCAN_BLOCKS, in any order or in parallel), then
 * fwp_scan_forward_finish writes theta (n x na x nb). */
void fwp_scan_forward_block(struct fwp_scan *s, size_t block);
void fwp_scan_forward_finish(struct fwp_scan *s, double *theta);

/* Backward: set dtheta (n x na x nb) and the outputs da (T x na), db (T x nb), dg (T), run
 * every block, then fwp_scan_backward_finish. */
void fwp_scan_backward_block(struct fwp_scan *s, size_t block);
void fwp_scan_backward_finish(struct fwp_scan *s);
