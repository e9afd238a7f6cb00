/*
 * fit — the whole training pipeline behind `fwpcast train` and the server's training jobs:
 * a monthly series in, a forecaster out. Prepares the protocol's windows, builds the model,
 * trains it (optionally resuming from a checkpoint), fits the conformal residuals on the
 * validation windows and, under the paper protocol, computes the test metrics. Pure computation:
 * the caller loads the series and stores the results.
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

/* Mean seconds per epoch of a state's loss curve. */
double fit_seconds_per_epoch(const struct train_state *state);

#endif
