/*
 * model_harness — the machinery the model unit tests share (test_gqkan_fwp, test_lstm, test_rnn,
 * test_wavenet_lstm, test_esn): a model created by architecture name and config text, a random
 * series with a batch of windows cut from it, a training loss (fixed dropout seed, peak-aware
 * loss against the targets that follow each window) with its gradient, a fourth-order central
 * finite-difference check of every parameter, and a check that a 2-thread pool gives results
 * bit-identical to one thread; and the evaluation and learning checks the recurrent baselines
 * share.
 *
 * The window and horizon are the created model's (m->window, m->horizon). Every failure is a
 * cmocka assertion, preceded by a print_error line naming the architecture and config.
 *
 * Ownership: a harness owns its model, series, window starts, output array and loss scratch, all
 * released by harness_free. The shape and the strings passed in are borrowed and must outlive the
 * harness (string literals and static shapes in practice).
 */
#ifndef FW_MODEL_HARNESS_H
#define FW_MODEL_HARNESS_H

#include "testutil.h"
#include "model/model.h"
#include "model/series.h"

#include <stddef.h>
#include <stdint.h>

/* The series and the windows of a harness. */
struct harness_shape {
    size_t n_series;  /* values in the series */
    size_t n_windows; /* windows in the batch */
    /* 0: values uniform on [0, 1); k > 0: floor(u * k) / k, so values repeat (as in real data) */
    int levels;
    /* n_windows starts (may repeat or overlap); NULL: start k = 37k mod (n_series - window -
     * horizon) */
    const size_t *starts;
};

struct harness {
    const char *arch, *config; /* borrowed */
    struct model *m;
    double *series;           /* shape->n_series values */
    size_t *starts;           /* n windows */
    size_t n;                 /* windows */
    struct model_batch batch; /* every window, targets from the series */
    double *out;              /* n x horizon: the outputs of the last harness_loss */
    double *target, *dout;    /* n x horizon: harness_loss's scratch */
};

/* Creates the model arch/config from seed, and the series from seed + 100. */
void harness_init(struct harness *h, const struct harness_shape *shape, const char *arch,
                  const char *config, uint64_t seed);
void harness_free(struct harness *h);

/* One training forward of the whole batch (dropout drawn from seed 99, so the same mask on every
 * call) on pool (NULL: this thread), writing h->out; returns the peak-aware loss. grad != NULL:
 * also backward, copying the gradient (n_params) to grad. */
double harness_loss(struct harness *h, struct pool *pool, double *grad);

/* The analytic gradient of every parameter against fourth-order central differences (step 3e-4):
 * tu_reldiff(fd, grad, 1e-4) < 1e-6 for each, else a line naming the parameter, then a failed
 * assertion once all are checked. */
void harness_check_gradients(const struct harness_shape *shape, const char *arch,
                             const char *config, uint64_t seed);

/* What harness_compare_threads compares besides the loss, the outputs and the gradient. */
enum {
    HARNESS_BUFFERS = 1, /* the buffers after the training forward (running statistics) */
    HARNESS_EVAL = 2,    /* then an evaluation forward's outputs */
};

/* one and two are alike (the same shape, arch, config and seed): harness_loss with gradient on
 * this thread for one and on pool for two must agree bit for bit. */
void harness_compare_threads(struct harness *one, struct harness *two, struct pool *pool,
                             unsigned flags);

/* harness_compare_threads on two fresh harnesses and a 2-thread pool. */
void harness_check_threads(const struct harness_shape *shape, const char *arch, const char *config,
                           uint64_t seed, unsigned flags);

/* For a model with BatchNorm and dropout (lstm, rnn, wavenet-lstm): evaluation is deterministic
 * and gives a window the forecast it gets alone or in any batch (bit for bit; batches of 1..n
 * windows in reverse order); a training forward of one window and
 * a backward without a training forward are refused. */
void harness_check_eval(const struct harness_shape *shape, const char *arch, const char *config,
                        uint64_t seed);

/* A split plan (window 24, horizon 6) of 220 months of a noisy 40-month sine; series_free it. */
void harness_sine_plan(struct split_plan *plan);

/* 12 epochs on harness_sine_plan (batch 16, 2 threads, lr 1e-2) from seed 1: the last epoch's
 * training loss is under half the first's, and the best validation loss beats the first's. */
void harness_check_learns(const char *arch, const char *config);

#endif
