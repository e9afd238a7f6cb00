/* rnn — the vanilla tanh RNN baseline (see rnn.h). */
#include "model/rnn.h"
#include "model/gemm.h"
#include "model/lstm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rnn_model {
    struct model base;
    int L, H, hidden;
    int recurrent_bias;
    const double *w_ih, *w_hh, *b_ih, *b_hh; /* b_hh: zeros when recurrent_bias is 0 */
    double *zeros;
    double *w_hh_t; /* h x h: w_hh transposed, for a plain row-major GEMM per step */
    /* the RNN's parameters (w_ih, w_hh, b_ih[, b_hh]) are the frame's n_grads, first in params;
     * per chunk its scratch is 2 x LSTM_CHUNK_MAX x h + 2h and its keep the hidden states and
     * their pre-activation gradients, 2 x L x LSTM_CHUNK_MAX x h */
    struct lstm_frame frame;
};

/* ---- the recurrence over one chunk -------------------------------------------------------- */

/* h = tanh((b_ih + b_hh) + w_ih x_t + h_prev W_hh^T) for n rows; h_prev NULL at t = 0; pre is
 * n x h scratch (may be h itself when h_prev is not h). */
static void rnn_step(const struct rnn_model *m, size_t n, const double *x_t, const double *h_prev,
                     double *pre, double *h)
{
    size_t hd = (size_t)m->hidden;
    for (size_t b = 0; b < n; b++) {
        double *row = pre + b * hd, x = x_t[b];
        for (size_t j = 0; j < hd; j++)
            row[j] = (m->b_ih[j] + m->b_hh[j]) + m->w_ih[j] * x;
    }
    if (h_prev)
        gemm(GEMM_N, GEMM_N, n, hd, hd, 1.0, h_prev, hd, m->w_hh_t, hd, 1.0, pre, hd);
    lstm_tanh(n * hd, pre, h);
}

static void chunk_forward(const struct rnn_model *m, size_t n, const double *x, double *keep,
                          double *scratch, double *h_last)
{
    size_t T = (size_t)m->L, step = n * (size_t)m->hidden;
    if (keep) {
        for (size_t t = 0; t < T; t++)
            rnn_step(m, n, x + t * n, t ? keep + (t - 1) * step : NULL, keep + t * step,
                     keep + t * step);
        memcpy(h_last, keep + (T - 1) * step, step * sizeof(double));
    } else {
        double *pre = scratch, *h = scratch + step;
        for (size_t t = 0; t < T; t++)
            rnn_step(m, n, x + t * n, t ? h : NULL, pre, h);
        memcpy(h_last, h, step * sizeof(double));
    }
}

/* Backpropagation through time; adds into the partial gradients g (n_grads, params order). */
static void chunk_backward(const struct rnn_model *m, size_t n, const double *x, double *keep,
                           const double *dh_last, double *g, double *scratch)
{
    size_t T = (size_t)m->L, hd = (size_t)m->hidden, step = n * hd;
    const double *hs = keep;
    double *dA = keep + T * step, *dh = scratch, *db = scratch + step;
    double *dw_ih = g, *dw_hh = dw_ih + hd, *db_ih = dw_hh + hd * hd;
    double *db_hh = m->recurrent_bias ? db_ih + hd : NULL;
    memcpy(dh, dh_last, step * sizeof(double));
    for (size_t t = T; t-- > 0;) {
        const double *h = hs + t * step;
        double *d = dA + t * step;
#pragma omp simd
        for (size_t k = 0; k < step; k++)
            d[k] = dh[k] * (1.0 - h[k] * h[k]);
        if (t > 0)
            gemm(GEMM_N, GEMM_N, n, hd, hd, 1.0, d, hd, m->w_hh, hd, 0.0, dh, hd);
    }
    if (T > 1)
        gemm(GEMM_T, GEMM_N, hd, hd, ((T - 1) * n), 1.0, dA + step, hd, hs, hd, 1.0, dw_hh, hd);
    /* one pass for the bias and input weights (a one-column GEMM would mostly pack dA) */
    double *dw = db + hd;
    memset(db, 0, 2 * hd * sizeof(double));
    for (size_t r = 0; r < T * n; r++) {
        const double *row = dA + r * hd;
        double xr = x[r];
#pragma omp simd
        for (size_t j = 0; j < hd; j++) {
            db[j] += row[j];
            dw[j] += row[j] * xr;
        }
    }
    for (size_t j = 0; j < hd; j++) {
        dw_ih[j] += dw[j];
        db_ih[j] += db[j];
    }
    if (db_hh)
        for (size_t j = 0; j < hd; j++)
            db_hh[j] += db[j];
}

/* ---- the model --------------------------------------------------------------------------- */

static void forward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct rnn_model *m = model;
    lstm_chunk_gather(ch, (size_t)m->L);
    chunk_forward(m, ch->count, ch->x, ch->keep, ch->scratch,
                  m->frame.hl + ch->first * (size_t)m->hidden);
}

static int rnn_forward(struct model *base, const struct model_batch *b, int training,
                       struct model_run *run, double *out)
{
    return lstm_frame_forward(&((struct rnn_model *)base)->frame, b, training, run, forward_chunk,
                              base, out);
}

static void backward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct rnn_model *m = model;
    chunk_backward(m, ch->count, ch->x, ch->keep, m->frame.dhl + ch->first * (size_t)m->hidden,
                   ch->part, ch->scratch);
}

static int rnn_backward(struct model *base, struct model_run *run, const double *dout)
{
    return lstm_frame_backward(&((struct rnn_model *)base)->frame, run, dout, backward_chunk, base,
                               base->grads);
}

static void rnn_params_changed(struct model *base)
{
    struct rnn_model *m = (struct rnn_model *)base;
    size_t hd = (size_t)m->hidden;
    for (size_t r = 0; r < hd; r++)
        for (size_t c = 0; c < hd; c++)
            m->w_hh_t[c * hd + r] = m->w_hh[r * hd + c];
    m->frame.have_forward = 0;
}

static void rnn_destroy(struct model *base)
{
    struct rnn_model *m = (struct rnn_model *)base;
    if (!m)
        return;
    lstm_frame_free(&m->frame);
    free(m->zeros), free(m->w_hh_t);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

/* clang-format off */
#define TR(block, name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_TRAINED, 0, 0.0, block}
#define FROZEN(name, fill, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_CONST, 0, fill, NULL}
/* clang-format on */

static int rnn_create(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    struct rnn_model *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = &rnn_ops;
    long window, horizon, hidden, use_bn, recurrent_bias;
    double dropout;
    int rc;
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &window, err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &horizon, err)) ||
        (rc = config_int(cfg, "hidden", 59, 1, 4096, &hidden, err)) ||
        (rc = config_int(cfg, "recurrent_bias", 0, 0, 1, &recurrent_bias, err)) ||
        (rc = config_int(cfg, "batchnorm", 0, 0, 1, &use_bn, err)) ||
        (rc = config_real(cfg, "dropout", 0.3, 0.0, 0.95, &dropout, err))) {
        free(m);
        return rc;
    }
    m->L = (int)window, m->H = (int)horizon, m->hidden = (int)hidden;
    m->recurrent_bias = (int)recurrent_bias;
    struct lstm_frame *f = &m->frame;
    f->head = (struct lstm_head){
        .features = m->hidden, .horizon = m->H, .use_bn = (int)use_bn, .dropout = dropout};
    int h = m->hidden;
    struct tensor_info t[4 + 7] = {
        TR("RNN", "rnn.weight_ih_l0", 2, h, 1),
        TR("RNN", "rnn.weight_hh_l0", 2, h, h),
        TR("RNN", "rnn.bias_ih_l0", 1, h),
        TR("RNN", "rnn.bias_hh_l0", 1, h),
    };
    if (!m->recurrent_bias) /* exported as PyTorch's b_hh, frozen at zero */
        t[3] = (struct tensor_info)FROZEN("rnn.bias_hh_l0", 0.0, 1, h);
    size_t count = 4 + lstm_head_tensors(t + 4, h, m->H, f->head.use_bn);
    rc = model_alloc_tensors(&m->base, t, count);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    f->window = (size_t)m->L;
    f->x_size = LSTM_CHUNK_MAX * (size_t)m->L;
    f->scratch_size = (2 * LSTM_CHUNK_MAX + 2) * (size_t)h;
    f->keep_size = 2 * (size_t)m->L * LSTM_CHUNK_MAX * (size_t)h;
    f->part_size = f->n_grads = (size_t)h * (size_t)(h + 2 + m->recurrent_bias);
    m->w_ih = m->base.params;
    m->w_hh = m->w_ih + h;
    m->b_ih = m->w_hh + (size_t)h * (size_t)h;
    m->zeros = calloc((size_t)h, sizeof(double));
    m->w_hh_t = malloc((size_t)h * (size_t)h * sizeof(double));
    if (!m->zeros || !m->w_hh_t) {
        rnn_destroy(&m->base);
        return FW_ENOMEM;
    }
    m->b_hh = m->recurrent_bias ? m->b_ih + h : m->zeros;
    lstm_head_bind(&f->head, &m->base);
    /* PyTorch's nn.RNN init: everything ~ U(-1/sqrt(h), 1/sqrt(h)) */
    rng r;
    rng_seed_stream(&r, seed, 1);
    double bound = 1.0 / sqrt((double)h);
    for (size_t k = 0; k < f->n_grads; k++)
        m->base.params[k] = rng_uniform_range(&r, -bound, bound);
    lstm_head_init(&f->head, &r);
    rnn_params_changed(&m->base);
    *out = &m->base;
    return FW_OK;
}

const struct model_ops rnn_ops = {
    .name = "rnn",
    .description =
        "Vanilla tanh RNN baseline: RNN(1->h) with one bias vector over the window, last "
        "hidden state, dropout, Linear(h->horizon); h^2+134h+132 parameters (h=59: "
        "11,519)",
    .create = rnn_create,
    .destroy = rnn_destroy,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .params_changed = rnn_params_changed,
};
