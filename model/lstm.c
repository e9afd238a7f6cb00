/* lstm — the LSTM baseline and the recurrent building blocks the baselines share (see lstm.h). */
#include "model/lstm.h"
#include "model/gemm.h"
#include "model/simd_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libmvec's vector tanh (glibc >= 2.35); simd_math.h declares the others. */
#pragma omp declare simd notinbranch
extern double tanh(double);

/* ---- activations ------------------------------------------------------------------------- */

/* Every value goes through the vector loop (libmvec): a loop's scalar tail would call the scalar
 * libm functions, which round differently, and then where a value falls in an array (how many
 * windows share its chunk) would decide its bits. The last n % ACT_PAD values are computed in a
 * padded block of ACT_PAD, a multiple of every vector width. */
#define ACT_PAD 8

HOT_KERNEL void lstm_sigmoid(size_t n, const double *x, double *y)
{
    size_t body = n - n % ACT_PAD;
#pragma omp simd
    for (size_t k = 0; k < body; k++)
        y[k] = 1.0 / (1.0 + exp(-x[k]));
    if (body == n)
        return;
    double t[ACT_PAD] = {0};
    memcpy(t, x + body, (n - body) * sizeof *t);
#pragma omp simd
    for (size_t k = 0; k < ACT_PAD; k++)
        t[k] = 1.0 / (1.0 + exp(-t[k]));
    memcpy(y + body, t, (n - body) * sizeof *t);
}

HOT_KERNEL void lstm_tanh(size_t n, const double *x, double *y)
{
    size_t body = n - n % ACT_PAD;
#pragma omp simd
    for (size_t k = 0; k < body; k++)
        y[k] = tanh(x[k]);
    if (body == n)
        return;
    double t[ACT_PAD] = {0};
    memcpy(t, x + body, (n - body) * sizeof *t);
#pragma omp simd
    for (size_t k = 0; k < ACT_PAD; k++)
        t[k] = tanh(t[k]);
    memcpy(y + body, t, (n - body) * sizeof *t);
}

/* ---- chunks ------------------------------------------------------------------------------ */

size_t lstm_chunk_count(size_t n)
{
    return (n + LSTM_CHUNK_MAX - 1) / LSTM_CHUNK_MAX;
}

void lstm_chunk_range(size_t n, size_t c, size_t *first, size_t *count)
{
    size_t chunks = lstm_chunk_count(n), base = n / chunks, extra = n % chunks;
    *first = c * base + (c < extra ? c : extra);
    *count = base + (c < extra ? 1 : 0);
}

/* ---- one LSTM layer ---------------------------------------------------------------------- */

size_t lstm_layer_param_count(int in, int hidden)
{
    size_t g = 4 * (size_t)hidden;
    return g * (size_t)in + g * (size_t)hidden + 2 * g;
}

void lstm_layer_views(struct lstm_layer *l, int in, int hidden, const double *base)
{
    size_t g = 4 * (size_t)hidden;
    l->in = in;
    l->hidden = hidden;
    l->w_ih = base;
    l->w_hh = l->w_ih + g * (size_t)in;
    l->b_ih = l->w_hh + g * (size_t)hidden;
    l->b_hh = l->b_ih + g;
}

int lstm_layer_alloc_transposed(struct lstm_layer *l)
{
    size_t g = 4 * (size_t)l->hidden;
    l->w_ih_t = malloc(g * (size_t)l->in * sizeof(double));
    l->w_hh_t = malloc(g * (size_t)l->hidden * sizeof(double));
    if (!l->w_ih_t || !l->w_hh_t) {
        lstm_layer_free(l);
        return FW_ENOMEM;
    }
    lstm_layer_transpose(l);
    return FW_OK;
}

static void transpose(size_t rows, size_t cols, const double *a, double *t)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            t[c * rows + r] = a[r * cols + c];
}

void lstm_layer_transpose(struct lstm_layer *l)
{
    size_t g = 4 * (size_t)l->hidden;
    transpose(g, (size_t)l->in, l->w_ih, l->w_ih_t);
    transpose(g, (size_t)l->hidden, l->w_hh, l->w_hh_t);
}

void lstm_layer_free(struct lstm_layer *l)
{
    free(l->w_ih_t), free(l->w_hh_t);
    l->w_ih_t = l->w_hh_t = NULL;
}

void lstm_layer_grad_views(struct lstm_layer_grads *gr, int in, int hidden, double *base)
{
    size_t g = 4 * (size_t)hidden;
    gr->w_ih = base;
    gr->w_hh = gr->w_ih + g * (size_t)in;
    gr->b_ih = gr->w_hh + g * (size_t)hidden;
    gr->b_hh = gr->b_ih + g;
}

void lstm_layer_init(rng *r, int in, int hidden, double *params)
{
    double bound = 1.0 / sqrt((double)hidden);
    size_t count = lstm_layer_param_count(in, hidden);
    for (size_t k = 0; k < count; k++)
        params[k] = rng_uniform_range(r, -bound, bound);
}

/* Per step: gates (n x 4h, activated), c, tanh(c) and h (n x h each). A training forward keeps
 * T of each, every kind contiguous over time (so backward's weight gradients are one GEMM); an
 * evaluation forward has one slot and updates it in place. */
size_t lstm_keep_size(int hidden, size_t n, size_t T)
{
    return T * n * 7 * (size_t)hidden;
}

size_t lstm_eval_scratch_size(int hidden, size_t n)
{
    return n * 7 * (size_t)hidden;
}

size_t lstm_backward_scratch_size(int hidden, size_t n)
{
    return 2 * n * (size_t)hidden + 8 * (size_t)hidden;
}

size_t lstm_chunk_scratch_size(int hidden)
{
    size_t e = lstm_eval_scratch_size(hidden, LSTM_CHUNK_MAX);
    size_t b = lstm_backward_scratch_size(hidden, LSTM_CHUNK_MAX);
    return e > b ? e : b;
}

struct lstm_arrays {
    double *gates, *c, *tc, *h;
};

static struct lstm_arrays lstm_split(double *base, int hidden, size_t n, size_t T)
{
    size_t step = n * (size_t)hidden;
    struct lstm_arrays a;
    a.gates = base;
    a.c = a.gates + 4 * step * T;
    a.tc = a.c + step * T;
    a.h = a.tc + step * T;
    return a;
}

/* c = f c_prev + i g (c_prev NULL: zero), tc = tanh(c), h = o tc, for n rows of gates. */
HOT_KERNEL static void cell_update(size_t n, size_t hd, const double *gates, const double *c_prev,
                                   double *c, double *tc, double *h)
{
    for (size_t b = 0; b < n; b++) {
        const double *i = gates + b * 4 * hd, *f = i + hd, *g = f + hd;
        double *cb = c + b * hd;
        if (c_prev) {
            const double *cp = c_prev + b * hd;
#pragma omp simd
            for (size_t j = 0; j < hd; j++)
                cb[j] = f[j] * cp[j] + i[j] * g[j];
        } else {
#pragma omp simd
            for (size_t j = 0; j < hd; j++)
                cb[j] = i[j] * g[j];
        }
    }
    lstm_tanh(n * hd, c, tc);
    for (size_t b = 0; b < n; b++) {
        const double *o = gates + b * 4 * hd + 3 * hd;
#pragma omp simd
        for (size_t j = 0; j < hd; j++)
            h[b * hd + j] = o[j] * tc[b * hd + j];
    }
}

/* One step: x_t (n x in), h_prev and c_prev (NULL at t = 0; may equal h and c). */
static void lstm_step(const struct lstm_layer *l, size_t n, const double *x_t, const double *h_prev,
                      const double *c_prev, struct lstm_arrays a)
{
    size_t hd = (size_t)l->hidden, g = 4 * hd;
    for (size_t b = 0; b < n; b++) {
        double *row = a.gates + b * g;
        if (l->in == 1) {
            double x = x_t[b];
            for (size_t r = 0; r < g; r++)
                row[r] = (l->b_ih[r] + l->b_hh[r]) + l->w_ih[r] * x;
        } else {
            for (size_t r = 0; r < g; r++)
                row[r] = l->b_ih[r] + l->b_hh[r];
        }
    }
    if (l->in != 1)
        gemm(GEMM_N, GEMM_N, n, g, l->in, 1.0, x_t, l->in, l->w_ih_t, g, 1.0, a.gates, g);
    if (h_prev)
        gemm(GEMM_N, GEMM_N, n, g, l->hidden, 1.0, h_prev, l->hidden, l->w_hh_t, g, 1.0, a.gates,
             g);
    for (size_t b = 0; b < n; b++) {
        double *row = a.gates + b * g;
        lstm_sigmoid(2 * hd, row, row);
        lstm_tanh(hd, row + 2 * hd, row + 2 * hd);
        lstm_sigmoid(hd, row + 3 * hd, row + 3 * hd);
    }
    cell_update(n, hd, a.gates, c_prev, a.c, a.tc, a.h);
}

void lstm_layer_forward(const struct lstm_layer *l, size_t n, size_t T, const double *x,
                        double *keep, double *scratch, double *h_last)
{
    size_t hd = (size_t)l->hidden, step = n * hd, in = (size_t)l->in;
    if (keep) {
        struct lstm_arrays all = lstm_split(keep, l->hidden, n, T);
        for (size_t t = 0; t < T; t++) {
            struct lstm_arrays a = {all.gates + t * 4 * step, all.c + t * step, all.tc + t * step,
                                    all.h + t * step};
            lstm_step(l, n, x + t * n * in, t ? a.h - step : NULL, t ? a.c - step : NULL, a);
        }
        memcpy(h_last, all.h + (T - 1) * step, step * sizeof(double));
    } else {
        struct lstm_arrays a = lstm_split(scratch, l->hidden, n, 1);
        for (size_t t = 0; t < T; t++)
            lstm_step(l, n, x + t * n * in, t ? a.h : NULL, t ? a.c : NULL, a);
        memcpy(h_last, a.h, step * sizeof(double));
    }
}

/* One step back: from dh and dc (n x h, dc updated to the previous step's) to the gates'
 * pre-activation gradients, written over the activated gates. c_prev NULL at t = 0. */
HOT_KERNEL static void gate_backward(size_t n, size_t hd, double *gates, const double *tc,
                                     const double *c_prev, const double *dh, double *dc)
{
    for (size_t b = 0; b < n; b++) {
        double *i = gates + b * 4 * hd, *f = i + hd, *g = f + hd, *o = g + hd;
        const double *tcb = tc + b * hd, *dhb = dh + b * hd;
        double *dcb = dc + b * hd;
#pragma omp simd
        for (size_t j = 0; j < hd; j++) {
            double cp = c_prev ? c_prev[b * hd + j] : 0.0;
            double iv = i[j], fv = f[j], gv = g[j], ov = o[j], t = tcb[j];
            double dcv = dcb[j] + dhb[j] * ov * (1.0 - t * t);
            o[j] = dhb[j] * t * ov * (1.0 - ov);
            i[j] = dcv * gv * iv * (1.0 - iv);
            f[j] = dcv * cp * fv * (1.0 - fv);
            g[j] = dcv * iv * (1.0 - gv * gv);
            dcb[j] = dcv * fv;
        }
    }
}

/* sums[j] += sum_r a[r][j] and, when x is not NULL, dots[j] += sum_r a[r][j] x[r]. */
HOT_KERNEL static void column_sums(size_t rows, size_t cols, const double *a, const double *x,
                                   double *sums, double *dots)
{
    for (size_t r = 0; r < rows; r++) {
        const double *row = a + r * cols;
        if (x) {
            double xr = x[r];
#pragma omp simd
            for (size_t j = 0; j < cols; j++) {
                sums[j] += row[j];
                dots[j] += row[j] * xr;
            }
        } else {
#pragma omp simd
            for (size_t j = 0; j < cols; j++)
                sums[j] += row[j];
        }
    }
}

void lstm_layer_backward(const struct lstm_layer *l, size_t n, size_t T, const double *x,
                         double *keep, const double *dh_last, const struct lstm_layer_grads *gr,
                         double *dx, double *scratch)
{
    size_t hd = (size_t)l->hidden, g = 4 * hd, step = n * hd, in = (size_t)l->in;
    struct lstm_arrays all = lstm_split(keep, l->hidden, n, T);
    double *dh = scratch, *dc = dh + step, *db = dc + step;
    memcpy(dh, dh_last, step * sizeof(double));
    memset(dc, 0, step * sizeof(double));
    for (size_t t = T; t-- > 0;) {
        double *dgates = all.gates + t * n * g;
        gate_backward(n, hd, dgates, all.tc + t * step, t ? all.c + (t - 1) * step : NULL, dh, dc);
        if (t > 0)
            gemm(GEMM_N, GEMM_N, n, hd, g, 1.0, dgates, g, l->w_hh, hd, 0.0, dh, hd);
    }
    /* all.gates now holds every step's pre-activation gradients (T n x 4h) */
    const double *dA = all.gates;
    if (T > 1)
        gemm(GEMM_T, GEMM_N, g, hd, ((T - 1) * n), 1.0, dA + n * g, g, all.h, hd, 1.0, gr->w_hh,
             hd);
    memset(db, 0, g * sizeof(double));
    if (in == 1) {
        /* a GEMM with one column would spend as long packing dA as multiplying */
        double *dw = db + g;
        memset(dw, 0, g * sizeof(double));
        column_sums(T * n, g, dA, x, db, dw);
        for (size_t j = 0; j < g; j++)
            gr->w_ih[j] += dw[j];
    } else {
        gemm(GEMM_T, GEMM_N, g, in, (T * n), 1.0, dA, g, x, in, 1.0, gr->w_ih, in);
        column_sums(T * n, g, dA, NULL, db, NULL);
    }
    for (size_t j = 0; j < g; j++) {
        gr->b_ih[j] += db[j];
        gr->b_hh[j] += db[j];
    }
    if (dx)
        gemm(GEMM_N, GEMM_N, (T * n), in, g, 1.0, dA, g, l->w_ih, in, 0.0, dx, in);
}

/* ---- the readout head -------------------------------------------------------------------- */

/* Tensor table entries: trained and buffer (see model.h). */
/* clang-format off */
#define TR(block, name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_TRAINED, 0, 0.0, block}
#define BUF(name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_BUFFER, 0, 0.0, NULL}
/* clang-format on */

size_t lstm_head_tensors(struct tensor_info *t, int features, int horizon, int use_bn)
{
    size_t k = 0;
    if (use_bn) {
        t[k++] = (struct tensor_info)TR("BatchNorm1d", "batch_norm.weight", 1, features);
        t[k++] = (struct tensor_info)TR("BatchNorm1d", "batch_norm.bias", 1, features);
        t[k++] = (struct tensor_info)BUF("batch_norm.running_mean", 1, features);
        t[k++] = (struct tensor_info)BUF("batch_norm.running_var", 1, features);
        t[k++] = (struct tensor_info)BUF("batch_norm.num_batches_tracked", 0, 0);
    }
    t[k++] = (struct tensor_info)TR("Output Linear", "output_layer.weight", 2, horizon, features);
    t[k++] = (struct tensor_info)TR("Output Linear", "output_layer.bias", 1, horizon);
    return k;
}

void lstm_head_bind(struct lstm_head *h, struct model *m)
{
#define P(name) model_tensor_data(m, name)
#define G(ptr)  (m->grads + ((ptr)-m->params))
    h->weight = P("output_layer.weight");
    h->bias = P("output_layer.bias");
    h->d_weight = G(h->weight);
    h->d_bias = G(h->bias);
    if (h->use_bn) {
        h->gamma = P("batch_norm.weight");
        h->beta = P("batch_norm.bias");
        h->d_gamma = G(h->gamma);
        h->d_beta = G(h->beta);
        h->bn = (struct batchnorm){h->features,
                                   h->gamma,
                                   h->beta,
                                   P("batch_norm.running_mean"),
                                   P("batch_norm.running_var"),
                                   P("batch_norm.num_batches_tracked")};
    }
#undef P
#undef G
}

void lstm_head_init(struct lstm_head *h, rng *r)
{
    if (h->use_bn) {
        for (int j = 0; j < h->features; j++) {
            h->gamma[j] = 1.0;
            h->beta[j] = 0.0;
            h->bn.running_mean[j] = 0.0;
            h->bn.running_var[j] = 1.0;
        }
        *h->bn.batches_tracked = 0.0;
    }
    model_init_linear(r, h->weight, h->bias, h->features, h->horizon);
}

static int head_reserve(struct lstm_head *h, size_t n)
{
    if (h->cap >= n && h->inv_std)
        return FW_OK;
    size_t f = (size_t)h->features;
    free(h->y), free(h->xhat), free(h->mask), free(h->inv_std);
    h->y = malloc(n * f * sizeof(double));
    h->xhat = malloc(n * f * sizeof(double));
    h->mask = malloc(n * f * sizeof(double));
    h->inv_std = malloc(f * sizeof(double));
    if (!h->y || !h->xhat || !h->mask || !h->inv_std) {
        free(h->y), free(h->xhat), free(h->mask), free(h->inv_std);
        h->y = h->xhat = h->mask = h->inv_std = NULL;
        h->cap = 0;
        return FW_ENOMEM;
    }
    h->cap = n;
    return FW_OK;
}

int lstm_head_forward(struct lstm_head *h, size_t n, const double *x, int training, rng *dropout,
                      double *out)
{
    h->trained = 0;
    if (training && ((h->use_bn && n < 2) || (h->dropout > 0.0 && !dropout)))
        return FW_EINVAL;
    int rc = head_reserve(h, n);
    if (rc)
        return rc;
    size_t nf = n * (size_t)h->features;
    if (!h->use_bn)
        memcpy(h->y, x, nf * sizeof(double));
    else if (training)
        rc = batchnorm_forward_train(&h->bn, n, x, h->y, h->xhat, h->inv_std);
    else
        batchnorm_forward_eval(&h->bn, n, x, h->y);
    if (rc)
        return rc;
    if (training && h->dropout > 0.0)
        dropout_forward(dropout, h->dropout, nf, h->y, h->mask);
    linear_forward(NULL, n, h->features, h->horizon, h->y, h->weight, h->bias, out);
    h->trained = training;
    return FW_OK;
}

void lstm_head_backward(struct lstm_head *h, size_t n, const double *dout, double *dx)
{
    size_t nf = n * (size_t)h->features;
    linear_backward(NULL, n, h->features, h->horizon, h->y, h->weight, dout, h->d_weight, h->d_bias,
                    dx);
    if (h->dropout > 0.0)
        dropout_backward(nf, h->mask, dx);
    if (h->use_bn) {
        /* y is free once the Linear's backward has run */
        memcpy(h->y, dx, nf * sizeof(double));
        batchnorm_backward(&h->bn, n, h->y, h->xhat, h->inv_std, h->d_gamma, h->d_beta, dx);
    }
    h->trained = 0;
}

void lstm_head_free(struct lstm_head *h)
{
    free(h->y), free(h->xhat), free(h->mask), free(h->inv_std);
    h->y = h->xhat = h->mask = h->inv_std = NULL;
    h->cap = 0;
}

/* ---- the chunked model frame ------------------------------------------------------------- */

static void frame_free_workspace(struct lstm_frame *f)
{
    free(f->x), free(f->scratch), free(f->part), free(f->keep), free(f->hl), free(f->dhl);
    f->x = f->scratch = f->part = f->keep = f->hl = f->dhl = NULL;
    f->cap_chunks = f->cap_keep = f->cap_n = 0;
}

static int frame_reserve(struct lstm_frame *f, size_t n, int training)
{
    size_t chunks = lstm_chunk_count(n), hd = (size_t)f->head.features;
    if (chunks > f->cap_chunks || n > f->cap_n) {
        free(f->x), free(f->scratch), free(f->hl), free(f->dhl);
        f->x = malloc(chunks * f->x_size * sizeof(double));
        f->scratch = malloc(chunks * f->scratch_size * sizeof(double));
        f->hl = malloc(n * hd * sizeof(double));
        f->dhl = malloc(n * hd * sizeof(double));
        f->cap_chunks = f->cap_n = 0;
        if (!f->x || !f->scratch || !f->hl || !f->dhl) {
            frame_free_workspace(f);
            return FW_ENOMEM;
        }
        f->cap_chunks = chunks;
        f->cap_n = n;
    }
    if (training && chunks > f->cap_keep) {
        free(f->keep), free(f->part);
        f->keep = malloc(chunks * f->keep_size * sizeof(double));
        f->part = malloc(chunks * f->part_size * sizeof(double));
        f->cap_keep = 0;
        if (!f->keep || !f->part) {
            frame_free_workspace(f);
            return FW_ENOMEM;
        }
        f->cap_keep = chunks;
    }
    return FW_OK;
}

struct frame_task {
    struct lstm_frame *f;
    const struct model_batch *b; /* forward only */
    lstm_chunk_fn fn;
    void *model;
};

static struct lstm_chunk frame_chunk(const struct frame_task *task, size_t c)
{
    const struct lstm_frame *f = task->f;
    struct lstm_chunk ch = {
        .batch = task->b, .x = f->x + c * f->x_size, .scratch = f->scratch + c * f->scratch_size};
    lstm_chunk_range(f->n, c, &ch.first, &ch.count);
    return ch;
}

static void frame_forward_task(void *arg, size_t c, int thread)
{
    (void)thread;
    const struct frame_task *task = arg;
    const struct lstm_frame *f = task->f;
    struct lstm_chunk ch = frame_chunk(task, c);
    ch.keep = f->training ? f->keep + c * f->keep_size : NULL;
    task->fn(task->model, &ch);
}

static void frame_backward_task(void *arg, size_t c, int thread)
{
    (void)thread;
    const struct frame_task *task = arg;
    const struct lstm_frame *f = task->f;
    struct lstm_chunk ch = frame_chunk(task, c);
    ch.keep = f->keep + c * f->keep_size;
    ch.part = f->part + c * f->part_size;
    memset(ch.part, 0, f->part_size * sizeof(double));
    task->fn(task->model, &ch);
}

int lstm_frame_forward(struct lstm_frame *f, const struct model_batch *b, int training,
                       struct model_run *run, lstm_chunk_fn fn, void *model, double *out)
{
    f->have_forward = 0;
    if (b->n == 0)
        return FW_EINVAL;
    for (size_t k = 0; k < b->n; k++)
        for (size_t t = 0; t < f->window; t++)
            if (!isfinite(b->input[b->starts[k] + t]))
                return FW_EINVAL;
    int rc = frame_reserve(f, b->n, training);
    if (rc)
        return rc;
    f->n = b->n;
    f->training = training;
    struct frame_task task = {f, b, fn, model};
    pool_run(run ? run->pool : NULL, lstm_chunk_count(b->n), frame_forward_task, &task);
    rc = lstm_head_forward(&f->head, b->n, f->hl, training, run ? &run->dropout : NULL, out);
    if (rc)
        return rc;
    f->have_forward = training;
    return FW_OK;
}

int lstm_frame_backward(struct lstm_frame *f, struct model_run *run, const double *dout,
                        lstm_chunk_fn fn, void *model, double *grads)
{
    if (!f->have_forward)
        return FW_EINVAL;
    lstm_head_backward(&f->head, f->n, dout, f->dhl);
    struct frame_task task = {f, NULL, fn, model};
    size_t chunks = lstm_chunk_count(f->n);
    pool_run(run ? run->pool : NULL, chunks, frame_backward_task, &task);
    for (size_t c = 0; c < chunks; c++) {
        const double *part = f->part + c * f->part_size;
        for (size_t k = 0; k < f->n_grads; k++)
            grads[k] += part[k];
    }
    f->have_forward = 0;
    return FW_OK;
}

void lstm_frame_free(struct lstm_frame *f)
{
    frame_free_workspace(f);
    lstm_head_free(&f->head);
}

void lstm_chunk_gather(const struct lstm_chunk *ch, size_t window)
{
    for (size_t b = 0; b < ch->count; b++) {
        const double *src = ch->batch->input + ch->batch->starts[ch->first + b];
        for (size_t t = 0; t < window; t++)
            ch->x[t * ch->count + b] = src[t];
    }
}

/* ---- the lstm model ---------------------------------------------------------------------- */

struct lstm_model {
    struct model base;
    int L, H, hidden;
    struct lstm_layer cell; /* its parameters first in params */
    struct lstm_frame frame;
};

static void forward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct lstm_model *m = model;
    lstm_chunk_gather(ch, (size_t)m->L);
    lstm_layer_forward(&m->cell, ch->count, (size_t)m->L, ch->x, ch->keep, ch->scratch,
                       m->frame.hl + ch->first * (size_t)m->hidden);
}

static int lstm_forward(struct model *base, const struct model_batch *b, int training,
                        struct model_run *run, double *out)
{
    return lstm_frame_forward(&((struct lstm_model *)base)->frame, b, training, run, forward_chunk,
                              base, out);
}

static void backward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct lstm_model *m = model;
    struct lstm_layer_grads g;
    lstm_layer_grad_views(&g, 1, m->hidden, ch->part);
    lstm_layer_backward(&m->cell, ch->count, (size_t)m->L, ch->x, ch->keep,
                        m->frame.dhl + ch->first * (size_t)m->hidden, &g, NULL, ch->scratch);
}

static int lstm_backward(struct model *base, struct model_run *run, const double *dout)
{
    return lstm_frame_backward(&((struct lstm_model *)base)->frame, run, dout, backward_chunk, base,
                               base->grads);
}

static void lstm_params_changed(struct model *base)
{
    struct lstm_model *m = (struct lstm_model *)base;
    lstm_layer_transpose(&m->cell);
    m->frame.have_forward = 0;
}

static void lstm_destroy(struct model *base)
{
    struct lstm_model *m = (struct lstm_model *)base;
    if (!m)
        return;
    lstm_frame_free(&m->frame);
    lstm_layer_free(&m->cell);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

static int lstm_create(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    struct lstm_model *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = &lstm_ops;
    long window, horizon, hidden, use_bn;
    double dropout;
    int rc;
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &window, err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &horizon, err)) ||
        (rc = config_int(cfg, "hidden", 64, 1, 4096, &hidden, err)) ||
        (rc = config_int(cfg, "batchnorm", 1, 0, 1, &use_bn, err)) ||
        (rc = config_real(cfg, "dropout", 0.3, 0.0, 0.95, &dropout, err))) {
        free(m);
        return rc;
    }
    m->L = (int)window, m->H = (int)horizon, m->hidden = (int)hidden;
    struct lstm_frame *f = &m->frame;
    f->head = (struct lstm_head){
        .features = m->hidden, .horizon = m->H, .use_bn = (int)use_bn, .dropout = dropout};
    int g = 4 * m->hidden;
    struct tensor_info t[4 + 7] = {
        TR("LSTM", "lstm.weight_ih_l0", 2, g, 1),
        TR("LSTM", "lstm.weight_hh_l0", 2, g, m->hidden),
        TR("LSTM", "lstm.bias_ih_l0", 1, g),
        TR("LSTM", "lstm.bias_hh_l0", 1, g),
    };
    size_t count = 4 + lstm_head_tensors(t + 4, m->hidden, m->H, f->head.use_bn);
    rc = model_alloc_tensors(&m->base, t, count);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    f->window = (size_t)m->L;
    f->x_size = LSTM_CHUNK_MAX * (size_t)m->L;
    f->scratch_size = lstm_chunk_scratch_size(m->hidden);
    f->keep_size = lstm_keep_size(m->hidden, LSTM_CHUNK_MAX, (size_t)m->L);
    f->part_size = f->n_grads = lstm_layer_param_count(1, m->hidden);
    lstm_layer_views(&m->cell, 1, m->hidden, m->base.params);
    lstm_head_bind(&f->head, &m->base);
    rng r;
    rng_seed_stream(&r, seed, 1);
    lstm_layer_init(&r, 1, m->hidden, m->base.params);
    lstm_head_init(&f->head, &r);
    rc = lstm_layer_alloc_transposed(&m->cell);
    if (rc) {
        lstm_destroy(&m->base);
        return rc;
    }
    *out = &m->base;
    return FW_OK;
}

const struct model_ops lstm_ops = {
    .name = "lstm",
    .description = "LSTM baseline: LSTM(1->h) over the window, last hidden state, BatchNorm1d, "
                   "dropout, Linear(h->horizon); 4h^2+146h+132 parameters (h=64: 25,860)",
    .create = lstm_create,
    .destroy = lstm_destroy,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .params_changed = lstm_params_changed,
};
