/*
 * gqkan_fwp — the paper's GQKAN-QKANFWP ("gated QKAN-FWP", registry name `gated-qkan-fwp`),
 * paper.md §1.4: a slow HQKAN programmer applied to every month, rank-1 write heads and a scalar
 * gate, the gated fast-weight recursion, a fast QKAN evaluated once on the last month with the
 * programmed angles, then BatchNorm1d, dropout and a Linear head emitting the whole horizon.
 *
 * Options (defaults are the paper's solar model, 12,474 parameters):
 *   window=528 horizon=132 slow_dim=25 hidden=48 fast_in=10 fast_out=20 slow_reps=1
 *   fast_reps=2 readout=amplitude|born dropout=0.3 batchnorm=1 gate_bias=2.0
 *   recurrence=scan|parallel|sequential
 *
 * The same module builds the rest of the family (paper.md §1.1, §1.8), sharing the slow
 * programmer's batching, the recursion paths and the head; only the parts named differ:
 *   gqkanfwp    linear slow programmer r = W1 x + b1 (hidden=48), fast QKAN as above;
 *   gqkan-fwp   HQKAN slow, a plain linear fast layer h = W u + b with theta = [W | b]
 *               (na = fast_out, nb = fast_in + 1);
 *   gqkan-qfwp  HQKAN slow, fast VQC (model/vqc.h; qubits=8 depth=2, fast_out=4 measured
 *               qubits) fed the raw last value, theta = depth x qubits rotation angles;
 *   qfwp        the original QFWP: linear slow (hidden=8), ungated additive update
 *               theta = sum_t a_t b_t^T (no gate tensors), fast VQC as above.
 * slow_preacts=0 freezes the slow QKAN's pre-activations (the time-series configuration).
 * Only the fast-QKAN models have forward_quantum (their fast circuits are single-qubit DARUANs).
 *
 * Exact shortcuts (same numbers up to rounding, less work): the slow programmer depends only on
 * each month's value, so it runs once per distinct value in a batch; the recursion runs once
 * over the batch's whole span of months and each window's state is a difference of two points
 * of it (recurrence=scan, fwp.h); `parallel` evaluates each window's closed form
 * theta_L = A^T diag(w) B and `sequential` each window's recursion, for checking. Work is split
 * across the run's pool with a fixed reduction order, so results do not depend on the number of
 * threads.
 *
 * Implementation: gqkan_fwp.c (construction, workspace, registry), gqkan_fwp_slow.c,
 * gqkan_fwp_fast.c, gqkan_fwp_pass.c, sharing the private gqkan_fwp_internal.h.
 */
#ifndef FW_GQKAN_FWP_H
#define FW_GQKAN_FWP_H

#include "model/model.h"

extern const struct model_ops gqkan_fwp_ops;        /* gated-qkan-fwp */
extern const struct model_ops gqkanfwp_ops;         /* gqkanfwp */
extern const struct model_ops gqkan_fwp_linear_ops; /* gqkan-fwp */
extern const struct model_ops gqkan_qfwp_ops;       /* gqkan-qfwp */
extern const struct model_ops qfwp_ops;             /* qfwp */

#endif
