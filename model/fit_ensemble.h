/*
 * fit_ensemble — the ensemble path of fit_run (see fit.h for what it does; model/ensemble.h for
 * the model). Private to model/fit.c and model/fit_ensemble.c.
 */
#ifndef FW_FIT_ENSEMBLE_H
#define FW_FIT_ENSEMBLE_H

#include "model/fit.h"

/* What the forecaster records of a training. */
struct fit_summary {
    int epochs, best_epoch;
    double train_loss, val_loss;
};

/* Trains the ensemble *m (created from rq) on plan, resuming from checkpoint (may be NULL), and
 * replaces *m by the ensemble of the kept members when keep= drops some. state is the whole
 * ensemble's (see fit.h); out: epochs = each member's, best_epoch 0, train_loss the mean of the
 * kept members' last training losses, val_loss the ensemble's validation loss. */
int fit_ensemble(struct model **m, const struct split_plan *plan, const struct fit_request *rq,
                 const uint8_t *checkpoint, size_t checkpoint_len, const struct fit_callbacks *cb,
                 const atomic_int *cancel, struct train_state *state, struct fit_summary *out,
                 fw_error *err);

#endif
