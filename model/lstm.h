/*
 * lstm — the `lstm` baseline (paper.md §5, docs/MODELS.md): one PyTorch-style LSTM(1 -> h) over
 * the window, its last hidden state -> BatchNorm1d(h) -> dropout -> Linear(h -> horizon). With
 * two bias vectors, as PyTorch has, the count is P(h) = 4h^2 + 146h + 132 for horizon 132
 * (hidden=64: 25,860, the default; hidden=132: 89,100).
 *
 * Options: window=528 horizon=132 hidden=64 dropout=0.3 batchnorm=1
 *
 * This module also holds the recurrent building blocks the other classical baselines share
 * (rnn, wavenet-lstm, esn):
 *   - vectorised activations (libmvec);
 *   - the split of a batch of windows into chunks, which depends on the batch size only: every
 *     chunk is a pool task that runs its windows through the whole time loop and writes only its
 *     own outputs and partial gradients, which are then summed in chunk order, so results never
 *     depend on the number of threads;
 *   - one LSTM layer over a chunk of sequences (batched products through gemm.h, full
 *     backpropagation through time);
 *   - the readout head (BatchNorm1d, dropout, Linear) with PyTorch's tensor names;
 *   - the chunked model frame: the per-chunk workspace, the finite-input check, and the forward
 *     and backward that run a model's chunk tasks on the pool, the head, and the chunk-order sum
 *     of the partial gradients (lstm, rnn and wavenet-lstm differ only in their chunk tasks).
 * All arrays passed in are caller-owned; parameter pointers in the structs below are borrowed
 * views into a model's params (or grads); what a struct owns is said at the struct.
 */
#ifndef FW_LSTM_H
#define FW_LSTM_H

#include <stddef.h>

#include "model/layers.h"
#include "model/model.h"

extern const struct model_ops lstm_ops;

/* ---- activations ------------------------------------------------------------------------- */

/* y = 1 / (1 + exp(-x)) and y = tanh(x) over n values (y may equal x). */
void lstm_sigmoid(size_t n, const double *x, double *y);
void lstm_tanh(size_t n, const double *x, double *y);

/* ---- chunks ------------------------------------------------------------------------------ */

/* 8 rows per product: at that size OpenBLAS's small-matrix kernels multiply without packing the
 * weights (measured here: 55 GFLOP/s for h = 64..150, against 36-40 at 16 rows for h >= 132). */
#define LSTM_CHUNK_MAX 8

/* A batch of n windows is cut into ceil(n / LSTM_CHUNK_MAX) chunks of near-equal size. */
size_t lstm_chunk_count(size_t n);
/* Chunk c covers windows [*first, *first + *count). */
void lstm_chunk_range(size_t n, size_t c, size_t *first, size_t *count);

/* ---- one LSTM layer ---------------------------------------------------------------------- */

/* PyTorch nn.LSTM, one layer, zero initial state, gate order i, f, g, o. The parameter pointers
 * are borrowed views; the transposed copies are owned by the struct (lstm_layer_alloc_transposed,
 * lstm_layer_free) and must be refreshed by lstm_layer_transpose whenever the parameters change.
 * They make the per-step products plain row-major GEMMs, which OpenBLAS runs faster here. */
struct lstm_layer {
    int in, hidden;
    const double *w_ih; /* 4h x in */
    const double *w_hh; /* 4h x h */
    const double *b_ih; /* 4h */
    const double *b_hh; /* 4h */
    double *w_ih_t;     /* in x 4h */
    double *w_hh_t;     /* h x 4h */
};

/* Where the layer's gradients are added (same shapes as the parameters). */
struct lstm_layer_grads {
    double *w_ih, *w_hh, *b_ih, *b_hh;
};

/* Number of parameters, and views of a block laid out in the PyTorch order w_ih, w_hh, b_ih,
 * b_hh starting at base (a model's params or grads, or a partial-gradient array). */
size_t lstm_layer_param_count(int in, int hidden);
void lstm_layer_views(struct lstm_layer *l, int in, int hidden, const double *base);
/* Allocates the transposed copies (freed by lstm_layer_free) and fills them. */
int lstm_layer_alloc_transposed(struct lstm_layer *l);
void lstm_layer_transpose(struct lstm_layer *l);
void lstm_layer_free(struct lstm_layer *l);
void lstm_layer_grad_views(struct lstm_layer_grads *g, int in, int hidden, double *base);

/* Doubles a training forward keeps for backward (n sequences of T steps), the scratch of an
 * evaluation forward (which keeps nothing), and the scratch of backward. */
size_t lstm_keep_size(int hidden, size_t n, size_t T);
size_t lstm_eval_scratch_size(int hidden, size_t n);
size_t lstm_backward_scratch_size(int hidden, size_t n);
/* Scratch for one chunk (LSTM_CHUNK_MAX sequences) that serves evaluation and backward alike. */
size_t lstm_chunk_scratch_size(int hidden);

/* Runs n sequences of T steps; x is time-major (step t of sequence b at row t*n + b, `in` values
 * each). Writes the last hidden states h_last (n x hidden). keep != NULL: a training forward
 * that keeps what backward needs there (scratch unused); keep == NULL: evaluation, using
 * scratch (lstm_eval_scratch_size). */
void lstm_layer_forward(const struct lstm_layer *l, size_t n, size_t T, const double *x,
                        double *keep, double *scratch, double *h_last);

/* Backpropagation through time from dh_last (n x hidden), for the forward that filled keep
 * (which this overwrites). Adds the parameter gradients into g; writes dx (time-major like x)
 * when it is not NULL. */
void lstm_layer_backward(const struct lstm_layer *l, size_t n, size_t T, const double *x,
                         double *keep, const double *dh_last, const struct lstm_layer_grads *g,
                         double *dx, double *scratch);

/* PyTorch's initialisation of nn.LSTM: every weight and bias ~ U(-1/sqrt(h), 1/sqrt(h)), drawn
 * in the order w_ih, w_hh, b_ih, b_hh. params is the layer's block (lstm_layer_views order). */
void lstm_layer_init(rng *r, int in, int hidden, double *params);

/* ---- the readout head: BatchNorm1d (optional) -> dropout -> Linear ------------------------ */

/* Owns its workspace (lstm_head_free); the parameter pointers are views. */
struct lstm_head {
    int features, horizon, use_bn;
    double dropout;
    /* views into the model's params and grads (lstm_head_bind) */
    double *gamma, *beta, *weight, *bias;
    double *d_gamma, *d_beta, *d_weight, *d_bias;
    struct batchnorm bn;
    /* workspace, owned: n x features each, and inv_std (features) */
    size_t cap;
    double *y, *xhat, *mask, *inv_std;
    int trained; /* the last forward was a training one (mask and xhat valid) */
};

/* The head's tensors (batch_norm.* when use_bn, output_layer.*), written to t (room for 7);
 * returns how many. */
size_t lstm_head_tensors(struct tensor_info *t, int features, int horizon, int use_bn);
/* Binds the views after model_alloc_tensors. */
void lstm_head_bind(struct lstm_head *h, struct model *m);
/* BatchNorm: gamma 1, beta 0, running mean 0 and variance 1; Linear: PyTorch default. */
void lstm_head_init(struct lstm_head *h, rng *r);
/* x (n x features) -> out (n x horizon). Training: batch statistics (n >= 2) and dropout drawn
 * from `dropout` (which must not be NULL when the rate is not 0). */
int lstm_head_forward(struct lstm_head *h, size_t n, const double *x, int training, rng *dropout,
                      double *out);
/* From dout (n x horizon) of the last training forward: adds the head's gradients and writes dx
 * (n x features). */
void lstm_head_backward(struct lstm_head *h, size_t n, const double *dout, double *dx);
void lstm_head_free(struct lstm_head *h);

/* ---- the chunked model frame ------------------------------------------------------------- */

/* What a model's chunk task is given: windows [first, first + count) of the batch, and the
 * chunk's slices of the frame's workspace. Forward: batch is the caller's, keep is NULL unless
 * training, part is NULL. Backward: batch is NULL, keep holds what the training forward kept,
 * part (part_size values) is zeroed for the task to add the chunk's partial gradients into. */
struct lstm_chunk {
    const struct model_batch *batch;
    size_t first, count;
    double *x, *scratch, *keep, *part;
};

/* A chunk task: writes the chunk's rows of the frame's hl (forward) or its part (backward),
 * and nothing another chunk reads. model is the pointer given to lstm_frame_forward/backward. */
typedef void (*lstm_chunk_fn)(void *model, const struct lstm_chunk *ch);

/* The frame a chunked model (lstm, rnn, wavenet-lstm) keeps: the sizes, which the model sets
 * (with the head) before its first forward; the workspace, owned and grown as batches need
 * (freed with the head's by lstm_frame_free); and the state of the last forward. */
struct lstm_frame {
    size_t window;               /* inputs per window (checked finite before a forward) */
    size_t x_size, scratch_size; /* doubles per chunk, every forward */
    size_t keep_size, part_size; /* doubles per chunk, training only */
    size_t n_grads;              /* a part's first n_grads values are the model's grads[0..) */
    struct lstm_head head;
    /* workspace, sized by the number of chunks (training arrays by the training batch's) */
    size_t cap_chunks, cap_keep, cap_n;
    double *x, *scratch, *keep, *part; /* chunk c's slice at c times its size */
    double *hl, *dhl;                  /* n x head.features: the head's input and its gradient */
    size_t n;                          /* windows in the last forward */
    int training, have_forward;
};

/* FW_EINVAL for an empty batch or a non-finite input; else reserves the workspace, runs fn for
 * every chunk of b on run's pool (NULL: this thread), then the head from hl into out
 * (n x horizon), with dropout from run. A training forward enables one backward. */
int lstm_frame_forward(struct lstm_frame *f, const struct model_batch *b, int training,
                       struct model_run *run, lstm_chunk_fn fn, void *model, double *out);
/* After a training forward (else FW_EINVAL): the head's backward from dout (its gradients into
 * its views, dhl), fn for every chunk, then each chunk's first n_grads partial gradients added
 * into grads in chunk order, so the sum does not depend on the number of threads. */
int lstm_frame_backward(struct lstm_frame *f, struct model_run *run, const double *dout,
                        lstm_chunk_fn fn, void *model, double *grads);
void lstm_frame_free(struct lstm_frame *f);

/* Copies the chunk's windows (`window` values each) into ch->x, time-major: value t of its
 * window j at x[t * count + j]. */
void lstm_chunk_gather(const struct lstm_chunk *ch, size_t window);

#endif
