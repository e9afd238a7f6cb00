/*
 * model — the one interface every forecasting architecture implements, and the registry of
 * architectures by name. The trainer, the server and the CLI see only this interface, so a new
 * model is one new file plus one line in model.c's registry.
 *
 * A model maps a batch of windows of a (scaled) series to `horizon` outputs each. Its trainable
 * parameters are one flat array (params, with grads beside it), and non-trained state such as
 * BatchNorm running statistics is a second flat array (buffers); both are described tensor by
 * tensor (name, shape, kind) for serialisation and export. The model owns params, grads,
 * buffers, its workspace and its tensor table; callers own batches and output arrays.
 */
#ifndef FW_MODEL_H
#define FW_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "base/error.h"
#include "model/pool.h"
#include "model/rng.h"

/* A batch of windows cut from one series: window k is input[starts[k] .. starts[k]+window), and
 * its target is target[starts[k]+window .. +horizon) (target may be NULL for forecasting). */
struct model_batch {
    const double *input;
    const double *target;
    const size_t *starts;
    size_t n;
};

/* Per-call resources: the thread pool (NULL = this thread only) and the dropout generator. */
struct model_run {
    struct pool *pool;
    rng dropout;
};

enum tensor_kind {
    TENSOR_TRAINED, /* in params, receives gradients */
    TENSOR_BUFFER,  /* in buffers: running statistics and the like */
    TENSOR_CONST,   /* not stored: a frozen constant, exported for interchange (fill value) */
    TENSOR_UNUSED,  /* not stored, never read: exported as fill for interchange, ignored on
                       import (the fast QKAN's own theta, always overridden) */
};

#define TENSOR_NAME_MAX 72
#define TENSOR_MAX_DIMS 4

struct tensor_info {
    char name[TENSOR_NAME_MAX];
    int ndim;
    int shape[TENSOR_MAX_DIMS];
    enum tensor_kind kind;
    size_t offset;     /* into params (TRAINED) or buffers (BUFFER) */
    double fill;       /* CONST */
    const char *block; /* human name of the block it belongs to, for the parameter breakdown */
};

struct model;

/* Evaluates n single-qubit DARUAN circuits without pre-activations (edge i: `reps`
 * repetitions, angles theta[i * 2(reps+1) ...], input x[i]) and writes each one's P(measure 0).
 * quantum/ implements it with a backend (exact, sampled, a cloud QPU), so inference can run a
 * model's circuits on hardware; model/ never depends on quantum/. */
struct daruan_evaluator {
    int (*p0)(void *ctx, size_t n, int reps, const double *theta, const double *x, double *p0,
              fw_error *err);
    void *ctx;
};

struct model_ops {
    const char *name;
    const char *description;
    /* Builds a model from cfg (reading its options; the window and horizon are options too) with
     * parameters initialised from seed. cfg is completed with every default. */
    int (*create)(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err);
    void (*destroy)(struct model *m);
    /* out[k*horizon + j]. training != 0: batch statistics, dropout, and keep what backward
     * needs; training == 0: running statistics, no dropout. */
    int (*forward)(struct model *m, const struct model_batch *b, int training,
                   struct model_run *run, double *out);
    /* Backpropagates dout (n x horizon) of the last training forward; adds into m->grads. */
    int (*backward)(struct model *m, struct model_run *run, const double *dout);
    /* Called after params or buffers were changed from outside (optimiser step, load). */
    void (*params_changed)(struct model *m);
    /* Optional: evaluation-mode forward whose DARUAN circuits (the fast programmer's) are
     * evaluated by ev, the readout applied to the P(0) it returns; *readout says which one. */
    int (*forward_quantum)(struct model *m, const struct model_batch *b,
                           const struct daruan_evaluator *ev, int *readout, double *out,
                           fw_error *err);
    /* Optional (NULL for gradient-trained models): fits the trained parameters in closed form on
     * the windows starts[0..n) of series, whose targets are series[starts[k]+window .. +horizon)
     * (the ESN's ridge readout). The trainer then calls it once instead of running epochs
     * (trainer.c). Work may be split over pool (may be NULL); the result must not depend on the
     * number of threads. */
    int (*fit_closed_form)(struct model *m, const double *series, const size_t *starts, size_t n,
                           struct pool *pool, fw_error *err);
};

struct model {
    const struct model_ops *ops;
    struct model_config config; /* resolved: every option with its value */
    int window, horizon;
    size_t n_params, n_buffers, n_tensors;
    double *params, *grads, *buffers;
    struct tensor_info *tensors;
};

/* The registry. */
const struct model_ops *model_find(const char *name);
size_t model_registry_count(void);
const struct model_ops *model_registry_at(size_t i);

/* Creates a model by architecture name from config text ("k=v;...") and a seed. */
int model_create(const char *architecture, const char *config_text, uint64_t seed,
                 struct model **out, fw_error *err);
void model_destroy(struct model *m);

int model_forward(struct model *m, const struct model_batch *b, int training, struct model_run *run,
                  double *out);
int model_backward(struct model *m, struct model_run *run, const double *dout);
void model_zero_grad(struct model *m);
void model_params_changed(struct model *m);

/* Helpers for implementations: allocate params/grads/buffers and the tensor table from a list of
 * tensors (offsets are assigned in order), and look a tensor up by name. */
int model_alloc_tensors(struct model *m, const struct tensor_info *list, size_t count);
const struct tensor_info *model_tensor(const struct model *m, const char *name);
double *model_tensor_data(struct model *m, const char *name);

/* PyTorch nn.Linear default initialisation: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)). */
void model_init_linear(rng *r, double *weight, double *bias, int in, int out);

#endif
