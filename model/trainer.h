/*
 * trainer — trains any registered model on a split plan (series.h): Adam, AdamW or Lion with a
 * learning-rate schedule (the keras decay by default; optim.h), seeded shuffling, the peak-aware
 * loss, validation after every epoch, the best-validation checkpoint, progress after every epoch,
 * cancellation between batches, and a resumable state.
 *
 * Determinism: epoch e shuffles with the stream (seed, e) and batch b of it draws dropout from
 * the stream (seed, e, b), so the order of work never depends on history and a resumed run
 * reaches the same weights as an uninterrupted one. Work inside a batch is split across the
 * trainer's thread pool with a fixed reduction order, so results do not depend on the thread
 * count either.
 *
 * The train_state holds the last epoch boundary (weights, optimiser, best checkpoint, loss
 * curve); train_run updates it at every epoch end and the caller may persist it then
 * (train_state_save). The state owns its arrays.
 */
#ifndef FW_TRAINER_H
#define FW_TRAINER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/optim.h"
#include "model/series.h"

struct train_options {
    int epochs, batch_size, threads;
    int keep_last; /* 0: end on the best-validation checkpoint; 1: on the last epoch's weights
                      (the validation loss is then only logged) */
    double lr, lr_decay, loss_alpha, weight_decay;
    enum optim_kind optimizer;
    /* the schedule (optim.h); lr_decay is the constant schedule's keras decay. Its length is
     * epochs x the batches of an epoch, which train_run counts on the plan. */
    enum lr_schedule schedule;
    double warmup, decay_fraction, final_lr;
    uint64_t seed;
};

/* The paper's settings: 100 epochs, batch 32, Adam 2.5e-3, keras decay 1e-6, alpha 1; no weight
 * decay, no warmup; decay_fraction 0.2 and final_lr 0 for the schedules that use them. */
void train_options_default(struct train_options *o);

/* Checks the optimiser and schedule options (FW_EINVAL with a message naming the option):
 * weight_decay >= 0 (and lr * weight_decay < 1 when decoupled), warmup in [0, 1),
 * decay_fraction and final_lr in [0, 1], warmup + decay_fraction <= 1 for wsd, and no
 * decay_fraction (wsd only) or final_lr (linear and wsd only) other than the default on a
 * schedule that ignores it. */
int train_options_check(const struct train_options *o, fw_error *err);

struct train_epoch {
    double train_loss, val_loss, seconds;
};

struct train_state {
    int epochs_done, epochs_total;
    struct optim opt;
    size_t n_params, n_buffers;
    double *params, *buffers;           /* at the end of epochs_done */
    double *best_params, *best_buffers; /* the best-validation checkpoint */
    double best_val;
    int best_epoch;            /* 1-based; 0 before the first epoch */
    struct train_epoch *curve; /* epochs_total entries */
};

int train_state_init(struct train_state *s, const struct model *m, const struct train_options *o);
void train_state_free(struct train_state *s);

/* Serialises the state (for a checkpoint) and reads it back for the same model shape. */
int train_state_save(const struct train_state *s, uint8_t **data, size_t *len);
int train_state_load(struct train_state *s, const struct model *m, const struct train_options *o,
                     const uint8_t *data, size_t len, fw_error *err);

struct train_progress {
    int epoch, epochs;
    double train_loss, val_loss, seconds, eta_seconds, best_val;
    int best_epoch;
    /* training an ensemble (model/fit.h): the member (1-based) of members; epoch and epochs then
     * count across members, best_val and best_epoch are the member's; 0 and 0 otherwise */
    int member, members;
};

/* Called after every epoch with the updated state. */
typedef void (*train_callback)(void *ctx, const struct train_progress *p,
                               const struct train_state *s);

/* Trains from s (fresh or loaded) to o->epochs, first setting the optimiser's schedule from o
 * and the plan's batch count. On success the model holds the best-validation
 * weights (the last epoch's with keep_last). Returns FW_ECANCELLED when *cancel became non-zero
 * (the state is at the last epoch boundary, ready to resume). */
int train_run(struct model *m, const struct split_plan *plan, const struct train_options *o,
              struct train_state *s, train_callback cb, void *cb_ctx, const atomic_int *cancel,
              fw_error *err);

/* Evaluation-mode predictions for windows starting at starts[0..n) of series; out is n x
 * horizon. Runs in chunks, with the pool's threads. */
int train_predict(struct model *m, const double *series, const size_t *starts, size_t n,
                  struct pool *pool, double *out);

/* Mean peak-aware loss of evaluation-mode predictions over a split range. */
int train_eval_loss(struct model *m, const struct split_plan *plan, struct split_range range,
                    double alpha, struct pool *pool, double *loss);

#endif
