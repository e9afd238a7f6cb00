/* rnn — the vanilla tanh RNN baseline (see rnn.h). */
#include "model/rnn.h"
#include "model/lstm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rnn_model {
    struct model base;
    int L, H, hidden;
    int recurrent_bias;
    size_t n_cell; /* the RNN's parameters, first in params: w_ih, w_hh, b_ih[, b_hh] */
    const double *w_ih, *w_hh, *b_ih, *b_hh; /* b_hh: zeros when recurrent_bias is 0 */
    double *zeros;
    double *w_hh_t; /* h x h: w_hh transposed, for a plain row-major GEMM per step */
    struct lstm_head head;
    /* workspace, sized by the number of chunks (training arrays by the training batch's) */
    size_t cap_chunks, cap_keep, cap_n;
    double *x;        /* per chunk: L x LSTM_CHUNK_MAX inputs, time-major */
    double *scratch;  /* per chunk: 2 x LSTM_CHUNK_MAX x h + 2h */
    double *part;     /* per chunk: partial gradients (n_cell) */
    double *keep;     /* per chunk: hidden states and their pre-activation gradients, 2 x L x
                         LSTM_CHUNK_MAX x h */
    double *hl, *dhl; /* n x hidden */
    size_t n;
    int training, have_forward;
};

struct rnn_task {
    struct rnn_model *m;
    const struct model_batch *b;
};

static size_t chunk_scratch(const struct rnn_model *m)
{
    return (2 * LSTM_CHUNK_MAX + 2) * (size_t)m->hidden;
}

static size_t chunk_keep(const struct rnn_model *m)
{
    return 2 * (size_t)m->L * LSTM_CHUNK_MAX * (size_t)m->hidden;
}

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
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)hd, (int)hd, 1.0,
                    h_prev, (int)hd, m->w_hh_t, (int)hd, 1.0, pre, (int)hd);
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

/* Backpropagation through time; adds into the partial gradients g (n_cell, params order). */
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
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)hd, (int)hd, 1.0, d,
                        (int)hd, m->w_hh, (int)hd, 0.0, dh, (int)hd);
    }
    if (T > 1)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)hd, (int)hd, (int)((T - 1) * n),
                    1.0, dA + step, (int)hd, hs, (int)hd, 1.0, dw_hh, (int)hd);
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

static void free_workspace(struct rnn_model *m)
{
    free(m->x), free(m->scratch), free(m->part), free(m->keep), free(m->hl), free(m->dhl);
    m->x = m->scratch = m->part = m->keep = m->hl = m->dhl = NULL;
    m->cap_chunks = m->cap_keep = m->cap_n = 0;
}

static int reserve(struct rnn_model *m, size_t n, int training)
{
    size_t chunks = lstm_chunk_count(n), hd = (size_t)m->hidden;
    if (chunks > m->cap_chunks || n > m->cap_n) {
        free(m->x), free(m->scratch), free(m->hl), free(m->dhl);
        m->x = malloc(chunks * LSTM_CHUNK_MAX * (size_t)m->L * sizeof(double));
        m->scratch = malloc(chunks * chunk_scratch(m) * sizeof(double));
        m->hl = malloc(n * hd * sizeof(double));
        m->dhl = malloc(n * hd * sizeof(double));
        m->cap_chunks = m->cap_n = 0;
        if (!m->x || !m->scratch || !m->hl || !m->dhl) {
            free_workspace(m);
            return FW_ENOMEM;
        }
        m->cap_chunks = chunks;
        m->cap_n = n;
    }
    if (training && chunks > m->cap_keep) {
        free(m->keep), free(m->part);
        m->keep = malloc(chunks * chunk_keep(m) * sizeof(double));
        m->part = malloc(chunks * m->n_cell * sizeof(double));
        m->cap_keep = 0;
        if (!m->keep || !m->part) {
            free_workspace(m);
            return FW_ENOMEM;
        }
        m->cap_keep = chunks;
    }
    return FW_OK;
}

static void forward_task(void *arg, size_t c, int thread)
{
    (void)thread;
    struct rnn_task *task = arg;
    struct rnn_model *m = task->m;
    size_t first, count, L = (size_t)m->L;
    lstm_chunk_range(task->b->n, c, &first, &count);
    double *x = m->x + c * LSTM_CHUNK_MAX * L;
    for (size_t b = 0; b < count; b++) {
        const double *src = task->b->input + task->b->starts[first + b];
        for (size_t t = 0; t < L; t++)
            x[t * count + b] = src[t];
    }
    chunk_forward(m, count, x, m->training ? m->keep + c * chunk_keep(m) : NULL,
                  m->scratch + c * chunk_scratch(m), m->hl + first * (size_t)m->hidden);
}

static int rnn_forward(struct model *base, const struct model_batch *b, int training,
                       struct model_run *run, double *out)
{
    struct rnn_model *m = (struct rnn_model *)base;
    m->have_forward = 0;
    if (b->n == 0)
        return FW_EINVAL;
    for (size_t k = 0; k < b->n; k++)
        for (size_t t = 0; t < (size_t)m->L; t++)
            if (!isfinite(b->input[b->starts[k] + t]))
                return FW_EINVAL;
    int rc = reserve(m, b->n, training);
    if (rc)
        return rc;
    m->n = b->n;
    m->training = training;
    struct rnn_task task = {m, b};
    pool_run(run ? run->pool : NULL, lstm_chunk_count(b->n), forward_task, &task);
    rc = lstm_head_forward(&m->head, b->n, m->hl, training, run ? &run->dropout : NULL, out);
    if (rc)
        return rc;
    m->have_forward = training;
    return FW_OK;
}

static void backward_task(void *arg, size_t c, int thread)
{
    (void)thread;
    struct rnn_task *task = arg;
    struct rnn_model *m = task->m;
    size_t first, count, L = (size_t)m->L;
    lstm_chunk_range(m->n, c, &first, &count);
    double *part = m->part + c * m->n_cell;
    memset(part, 0, m->n_cell * sizeof(double));
    chunk_backward(m, count, m->x + c * LSTM_CHUNK_MAX * L, m->keep + c * chunk_keep(m),
                   m->dhl + first * (size_t)m->hidden, part, m->scratch + c * chunk_scratch(m));
}

static int rnn_backward(struct model *base, struct model_run *run, const double *dout)
{
    struct rnn_model *m = (struct rnn_model *)base;
    if (!m->have_forward)
        return FW_EINVAL;
    lstm_head_backward(&m->head, m->n, dout, m->dhl);
    struct rnn_task task = {m, NULL};
    size_t chunks = lstm_chunk_count(m->n);
    pool_run(run ? run->pool : NULL, chunks, backward_task, &task);
    for (size_t c = 0; c < chunks; c++) {
        const double *part = m->part + c * m->n_cell;
        for (size_t k = 0; k < m->n_cell; k++)
            m->base.grads[k] += part[k];
    }
    m->have_forward = 0;
    return FW_OK;
}

static void rnn_params_changed(struct model *base)
{
    struct rnn_model *m = (struct rnn_model *)base;
    size_t hd = (size_t)m->hidden;
    for (size_t r = 0; r < hd; r++)
        for (size_t c = 0; c < hd; c++)
            m->w_hh_t[c * hd + r] = m->w_hh[r * hd + c];
    m->have_forward = 0;
}

static void rnn_destroy(struct model *base)
{
    struct rnn_model *m = (struct rnn_model *)base;
    if (!m)
        return;
    free_workspace(m);
    lstm_head_free(&m->head);
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
    m->head = (struct lstm_head){
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
    size_t count = 4 + lstm_head_tensors(t + 4, h, m->H, m->head.use_bn);
    rc = model_alloc_tensors(&m->base, t, count);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    m->n_cell = (size_t)h * (size_t)(h + 2 + m->recurrent_bias);
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
    lstm_head_bind(&m->head, &m->base);
    /* PyTorch's nn.RNN init: everything ~ U(-1/sqrt(h), 1/sqrt(h)) */
    rng r;
    rng_seed_stream(&r, seed, 1);
    double bound = 1.0 / sqrt((double)h);
    for (size_t k = 0; k < m->n_cell; k++)
        m->base.params[k] = rng_uniform_range(&r, -bound, bound);
    lstm_head_init(&m->head, &r);
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
