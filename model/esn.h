/*
 * esn — the `esn` baseline, the "modified echo state network" of paper.md §5 (docs/MODELS.md):
 * a fixed, sparse, random leaky-integrator reservoir run over each window from a zero state,
 *
 *   x_t = (1 - a) x_{t-1} + a tanh(W x_{t-1} + w_in u_t + b),   x_0 = 0,  t = 1..window,
 *
 * and a linear readout from the last state to the whole horizon, y = W_out x_L + b_out, fitted
 * in closed form by ridge regression (model_ops.fit_closed_form, solved by gemm.h's Cholesky).
 * Only the readout is trained: horizon x (units + 1) parameters, 132,132 at the defaults
 * (1,000 units, horizon 132).
 *
 * The reservoir is drawn from the create seed: every unit has exactly round(density * units)
 * (at least 1) incoming weights from distinct random units, ~ U(-1, 1), rescaled to the given
 * spectral radius (estimated by power iteration); w_in ~ U(-1, 1) * input_scaling, b ~ U(-1, 1) *
 * bias_scaling. It is kept in the model's buffers (values, column indices, w_in, b), so a saved
 * model carries it and reloads it exactly, whatever seed the loader passes.
 *
 * Options: window=528 horizon=132 units=1000 density=0.01 spectral_radius=0.9 leak=0.1
 *          input_scaling=1 bias_scaling=0.2 ridge=0.01
 *
 * Windows run in groups of 8 in lock-step (vector lanes), one pool task per group, each window
 * computed the same way whatever its group or the thread count, so forecasts and the fitted
 * readout do not depend on either. backward gives the readout's gradients (for checking; the
 * trainer fits it in closed form). The model owns its parameters, buffers and workspace.
 */
#ifndef FW_ESN_H
#define FW_ESN_H

#include "model/model.h"

extern const struct model_ops esn_ops;

#endif
