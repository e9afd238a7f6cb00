/*
 * gqkan_fwp — the paper's GQKAN-QKANFWP ("gated QKAN-FWP", registry name `gated-qkan-fwp`),
 * paper.md §1.4: a slow HQKAN programmer applied to every month, rank-1 write heads and a scalar
 * gate, the gated fast-weight recursion, a fast QKAN evaluated once on the last month with the
 * programmed angles, then BatchNorm1d, dropout and a Linear head emitting the whole horizon.
 *
 * Options (defaults are the paper's solar model, 12,474 parameters):
 *   window=528 horizon=132 slow_dim=25 hidden=48 fast_in=10 fast_out=20 slow_reps=1
 *   fast_reps=2 readout=amplitude|born dropout=0.3 batchnorm=1 gate_bias=2.0
 *   recurrence=parallel|sequential
 *
 * Exact shortcuts (same numbers, less work): the slow programmer depends only on each month's
 * value, so it runs once per distinct value in a batch; the recursion uses its closed form
 * theta_L = A^T diag(w) B. Work is split across the run's pool with a fixed reduction order, so
 * results do not depend on the number of threads.
 */
#ifndef FW_GQKAN_FWP_H
#define FW_GQKAN_FWP_H

#include "model/model.h"

extern const struct model_ops gqkan_fwp_ops;

#endif
