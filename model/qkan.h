/*
 * qkan — a QKAN layer: n_out outputs, each a sum over n_in inputs of a DARUAN edge plus an
 * optional SiLU base branch (paper.md §1.3):
 *
 *   out_j = sum_i  phi_ji(z_i) + w_base[j,i] * SiLU(z_i)
 *
 * (post-activation weight 1, bias 0 and mask 1 are frozen in the paper's models and not stored).
 * Parameters live in the owning model's flat array; the layer holds borrowed pointers to them
 * and to their gradients. Tensor layouts follow the authors' PyTorch code: theta is
 * [out][in][rep][{RZ,RY}], w_base is [out][in], preact weight/bias are [out][in][rep].
 *
 * Inputs and outputs are feature-major matrices: in[i * n + v] is feature i of row v, so the hot
 * loops run over long contiguous rows. For reps = 1 the layer uses an exact closed form,
 * P(0) = K0 + K1 cos(phi) + K2 sin(phi) with phi = pw*z + pb + theta[1][0], whose constants
 * depend only on the parameters and are computed once per parameter update (qkan_prepare); other
 * rep counts run the reference circuit of daruan.c. Both give the same numbers (tested).
 *
 * Work can be split across threads without any reduction: forward by output range, backward by
 * input range; each call writes only its own slice. Gradients are accumulated into a
 * caller-owned accumulator (qkan_accum_size doubles, zeroed by the caller), then turned into
 * parameter gradients by qkan_accum_to_grads.
 */
#ifndef FW_QKAN_H
#define FW_QKAN_H

#include <stddef.h>

#include "model/daruan.h"

struct qkan_layer {
    int n_in, n_out, reps;
    int has_base;   /* SiLU base branch with trainable weight */
    int has_preact; /* trainable pre-activation weight and bias per repetition */
    enum daruan_readout readout;
    /* Borrowed parameter pointers (NULL when the layer does not have them). */
    double *theta, *base_weight, *preact_w, *preact_b;
    /* Borrowed gradient pointers, same shapes; qkan_accum_to_grads adds into them. */
    double *d_theta, *d_base_weight, *d_preact_w, *d_preact_b;
};

/* Constants derived from the parameters (closed form); owned by the caller. */
struct qkan_work {
    size_t n_edges;
    double *k0, *k1, *k2; /* P0 = k0 + k1 cos(phi) + k2 sin(phi) */
    double *pw, *offset;  /* phi = pw * z + offset */
};

/* Number of trainable parameters of the layer. */
size_t qkan_param_count(const struct qkan_layer *layer);

int qkan_work_init(struct qkan_work *work, const struct qkan_layer *layer);
void qkan_work_free(struct qkan_work *work);

/* Recomputes the constants from the current parameters. Call after every parameter update. */
void qkan_prepare(struct qkan_work *work, const struct qkan_layer *layer);

/* SiLU(z) and SiLU'(z) of inputs i in [i_begin, i_end), feature-major like `in`; the base
 * branch reads them (compute them once per input matrix, only when has_base). dsilu may be NULL
 * when only the forward pass follows. */
void qkan_silu_rows(size_t n, const double *in, double *silu, double *dsilu, int i_begin,
                    int i_end);

/* Forward for outputs j in [j_begin, j_end): out[j*n + v] for v < n. silu is NULL without a
 * base branch. */
void qkan_forward(const struct qkan_layer *layer, const struct qkan_work *work, size_t n,
                  const double *in, const double *silu, double *out, int j_begin, int j_end);

/* Size of the gradient accumulator, in doubles. */
size_t qkan_accum_size(const struct qkan_layer *layer);

/* Backward for inputs i in [i_begin, i_end): adds into acc (the slices of those inputs' edges)
 * and writes din[i*n + v] (overwrites). dout is n_out x n. */
void qkan_backward(const struct qkan_layer *layer, const struct qkan_work *work, size_t n,
                   const double *in, const double *silu, const double *dsilu, const double *dout,
                   double *acc, double *din, int i_begin, int i_end);

/* Adds the parameter gradients held in acc into the layer's d_* arrays. */
void qkan_accum_to_grads(const struct qkan_layer *layer, const double *acc);

#endif
