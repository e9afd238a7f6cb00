/*
 * layers — the small dense building blocks the architectures share: Linear (PyTorch nn.Linear
 * layout, weight [out][in]), BatchNorm1d (PyTorch semantics: batch statistics with the biased
 * variance in training, running statistics with the unbiased variance updated by momentum,
 * running statistics in evaluation) and inverted dropout. Row-major (n x features) activations.
 * All arrays are caller-owned; gradients are added into (+=) unless said otherwise.
 */
#ifndef FW_LAYERS_H
#define FW_LAYERS_H

#include <stddef.h>

#include "model/pool.h"
#include "model/rng.h"

/* y (n x out) = x (n x in) W^T + b. The products may be split over pool (NULL: this thread;
 * not from inside one of its tasks): the same bits either way (gemm.h). */
void linear_forward(struct pool *pool, size_t n, int in, int out, const double *x, const double *w,
                    const double *b, double *y);
/* dW += dy^T x, db += sum dy, dx = dy W (overwritten; dx may be NULL). pool as above. */
void linear_backward(struct pool *pool, size_t n, int in, int out, const double *x, const double *w,
                     const double *dy, double *dw, double *db, double *dx);

#define BN_EPS      1e-5
#define BN_MOMENTUM 0.1

struct batchnorm {
    int features;
    const double *gamma, *beta;
    double *running_mean, *running_var, *batches_tracked; /* buffers */
};

/* Training forward: normalises x (n x f) with batch statistics into y, keeps xhat (n x f) and
 * inv_std (f) for the backward pass, updates the running statistics. n must be >= 2. */
int batchnorm_forward_train(const struct batchnorm *bn, size_t n, const double *x, double *y,
                            double *xhat, double *inv_std);
/* Evaluation forward with the running statistics. */
void batchnorm_forward_eval(const struct batchnorm *bn, size_t n, const double *x, double *y);
/* dgamma += sum dy xhat, dbeta += sum dy, dx (overwritten). */
void batchnorm_backward(const struct batchnorm *bn, size_t n, const double *dy, const double *xhat,
                        const double *inv_std, double *dgamma, double *dbeta, double *dx);

/* Inverted dropout: draws mask (0 or 1/(1-p)) for n values from r and applies it in place. */
void dropout_forward(rng *r, double p, size_t n, double *x, double *mask);
/* dx *= mask, in place. */
void dropout_backward(size_t n, const double *mask, double *dx);

#endif
