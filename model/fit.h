/*
 * fit — the whole training pipeline behind `fwpcast train` and the server's training jobs:
 * a monthly series in, a forecaster out. Prepares the protocol's windows, builds the model,
 * trains it (optionally resuming from a checkpoint), fits the conformal residuals on the
 * validation windows and, under the paper protocol, computes the test metrics. Pure computation:
 * the caller loads the series and stores the results.
 *
 * An `ensemble` (model/ensemble.h) is trained member by member on the same prepared windows
 * (fit_ensemble.c): member k with the trainer's options and its own seed (the seeds= option, by
 * default the request's seed + k) for both its initialisation and its training streams. Progress
 * counts epochs across members (train_progress.member/members say which one runs); the state
 * passed to the callback and returned is the whole ensemble's: its curve is every member's
 * epochs in order, its weights the finished members'. keep=K then keeps the K members with the
 * lowest best-validation loss (ties: the lower index; the test split is never looked at), and the
 * calibration and test metrics run on the ensemble's mean like any model's. Resume: a checkpoint
 * records the members that finished; the member that was training when the job stopped restarts
 * from its first epoch (it reaches the same weights: its seed fixes them), so a resumed ensemble
 * is byte-identical to an uninterrupted one.
 */
#ifndef FW_FIT_H
#define FW_FIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "model/forecaster.h"
#include "model/trainer.h"

struct fit_request {
    const char *architecture; /* registry name */
    const char *config;       /* config text, window and horizon included */
    enum protocol protocol;
    int cutoff_month; /* -1: none */
    struct train_options train;
};

/* Called once the data are prepared, before training starts (may be NULL). */
typedef void (*fit_ready_fn)(void *ctx, const struct model *m, const struct split_plan *plan);

struct fit_callbacks {
    fit_ready_fn ready;
    train_callback epoch; /* after every epoch, with the state to checkpoint */
    void *ctx;
};

/* values: n months from first_month (NaN = missing); data_sha256 may be NULL. checkpoint (may be
 * NULL) is a train_state_save() blob to resume from. *state receives the final training state
 * (the caller frees it with train_state_free, also on failure). FW_ECANCELLED when *cancel was
 * raised (state holds the last epoch boundary). */
int fit_run(const struct fit_request *rq, const double *values, size_t n, int first_month,
            const char *data_sha256, const uint8_t *checkpoint, size_t checkpoint_len,
            const struct fit_callbacks *cb, const atomic_int *cancel, struct train_state *state,
            struct forecaster **out, fw_error *err);

/* The epochs a training of m with `epochs` epochs runs in all: for an ensemble its members'
 * together (a closed-form member counts one), for any other model `epochs`. */
int fit_total_epochs(const struct model *m, int epochs);

/* Mean seconds per epoch of a state's loss curve. */
double fit_seconds_per_epoch(const struct train_state *state);

#endif
