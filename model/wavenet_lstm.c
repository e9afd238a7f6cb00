/* wavenet_lstm — the WaveNet + LSTM baseline (see wavenet_lstm.h). */
#include "model/wavenet_lstm.h"
#include "model/gemm.h"
#include "model/lstm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 16

/* Offsets of the tensors in params; the per-chunk partial gradients use the same layout for
 * everything before the head (`body` values). */
struct offsets {
    size_t in_w, in_b;
    size_t wd[MAX_BLOCKS], bd[MAX_BLOCKS], ws[MAX_BLOCKS], bs[MAX_BLOCKS];
    size_t wr[MAX_BLOCKS], br[MAX_BLOCKS]; /* blocks 0..B-2 */
    size_t lstm, body;
};

struct wn {
    struct model base;
    int L, H, C, S, B, K, hidden;
    struct offsets off;
    struct lstm_layer cell;
    double *packed; /* B x K x 2C x C: each block's dilated weights tap by tap (GEMM layout) */
    /* Per chunk, x holds LSTM_CHUNK_MAX windows x L inputs, then u, the LSTM's inputs
     * (L x LSTM_CHUNK_MAX x S, time-major); scratch is chunk_scratch_size(); keep every window's
     * activations, then the LSTM's keep; part the partial gradients of the body (off.body, the
     * frame's n_grads), then those of the packed dilated weights (packed_size()). */
    struct lstm_frame frame;
};

/* One window's activations: each block's input r_i (B x L x C), each block's activated
 * convolution [tanh f | sigmoid g] (B x L x 2C), and the skip sum before the ReLU (L x S). */
struct window_acts {
    double *r, *act, *s;
};

static size_t window_size(const struct wn *m)
{
    return (size_t)m->L * ((size_t)m->B * 3 * (size_t)m->C + (size_t)m->S);
}

static struct window_acts window_at(const struct wn *m, double *base)
{
    size_t T = (size_t)m->L, C = (size_t)m->C, B = (size_t)m->B;
    struct window_acts w = {base, base + B * T * C, base + B * T * 3 * C};
    return w;
}

/* Per-chunk scratch: z (L x C), the backward's ds (L x S), dz (L x C), da (L x 2C), dr (L x C),
 * du (L x LSTM_CHUNK_MAX x S), the LSTM's scratch, and one window for evaluation. */
struct chunk_scratch {
    double *z, *ds, *dz, *da, *dr, *du, *lstm, *window;
};

static size_t chunk_scratch_size(const struct wn *m)
{
    size_t T = (size_t)m->L, C = (size_t)m->C, S = (size_t)m->S;
    return T * (5 * C + S) + T * LSTM_CHUNK_MAX * S + lstm_chunk_scratch_size(m->hidden) +
           window_size(m);
}

static struct chunk_scratch chunk_scratch_at(const struct wn *m, double *base)
{
    size_t T = (size_t)m->L, C = (size_t)m->C, S = (size_t)m->S;
    struct chunk_scratch s;
    s.z = base;
    s.ds = s.z + T * C;
    s.dz = s.ds + T * S;
    s.da = s.dz + T * C;
    s.dr = s.da + T * 2 * C;
    s.du = s.dr + T * C;
    s.lstm = s.du + T * LSTM_CHUNK_MAX * S;
    s.window = s.lstm + lstm_chunk_scratch_size(m->hidden);
    return s;
}

static size_t chunk_keep(const struct wn *m)
{
    return LSTM_CHUNK_MAX * window_size(m) +
           lstm_keep_size(m->hidden, LSTM_CHUNK_MAX, (size_t)m->L);
}

static const double *packed_tap(const struct wn *m, const double *packed, int block, int tap)
{
    size_t C = (size_t)m->C;
    return packed + ((size_t)block * (size_t)m->K + (size_t)tap) * 2 * C * C;
}

static size_t packed_size(const struct wn *m)
{
    return (size_t)m->B * (size_t)m->K * 2 * (size_t)m->C * (size_t)m->C;
}

/* ---- forward ----------------------------------------------------------------------------- */

/* The convolution stack over one window of x (L values): fills w; z is L x C scratch. */
static void window_forward(const struct wn *m, const double *x, struct window_acts w, double *z)
{
    size_t T = (size_t)m->L, C = (size_t)m->C, S = (size_t)m->S, C2 = 2 * C;
    const double *p = m->base.params;
    const struct offsets *o = &m->off;
    for (size_t t = 0; t < T; t++)
        for (size_t c = 0; c < C; c++)
            w.r[t * C + c] = p[o->in_w + c] * x[t] + p[o->in_b + c];
    for (size_t k = 0; k < S; k++) {
        double bias = 0.0;
        for (int i = 0; i < m->B; i++)
            bias += p[o->bs[i] + k];
        for (size_t t = 0; t < T; t++)
            w.s[t * S + k] = bias;
    }
    for (int i = 0; i < m->B; i++) {
        size_t dilation = (size_t)1 << i;
        const double *r = w.r + (size_t)i * T * C;
        double *a = w.act + (size_t)i * T * C2;
        for (size_t t = 0; t < T; t++)
            memcpy(a + t * C2, p + o->bd[i], C2 * sizeof(double));
        for (int j = 0; j < m->K; j++) {
            size_t shift = (size_t)(m->K - 1 - j) * dilation;
            if (shift >= T)
                continue;
            gemm(GEMM_N, GEMM_T, (T - shift), C2, C, 1.0, r, C, packed_tap(m, m->packed, i, j), C,
                 1.0, a + shift * C2, C2);
        }
        for (size_t t = 0; t < T; t++) {
            lstm_tanh(C, a + t * C2, a + t * C2);
            lstm_sigmoid(C, a + t * C2 + C, a + t * C2 + C);
            for (size_t c = 0; c < C; c++)
                z[t * C + c] = a[t * C2 + c] * a[t * C2 + C + c];
        }
        gemm(GEMM_N, GEMM_T, T, S, C, 1.0, z, C, p + o->ws[i], C, 1.0, w.s, S);
        if (i < m->B - 1) {
            double *next = w.r + (size_t)(i + 1) * T * C;
            for (size_t t = 0; t < T; t++)
                for (size_t c = 0; c < C; c++)
                    next[t * C + c] = r[t * C + c] + p[o->br[i] + c];
            gemm(GEMM_N, GEMM_T, T, C, C, 1.0, z, C, p + o->wr[i], C, 1.0, next, C);
        }
    }
}

static void forward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct wn *m = model;
    size_t count = ch->count, T = (size_t)m->L, S = (size_t)m->S;
    struct chunk_scratch sc = chunk_scratch_at(m, ch->scratch);
    double *x = ch->x, *u = ch->x + LSTM_CHUNK_MAX * T, *keep = ch->keep;
    for (size_t b = 0; b < count; b++) {
        memcpy(x + b * T, ch->batch->input + ch->batch->starts[ch->first + b], T * sizeof(double));
        struct window_acts w = window_at(m, keep ? keep + b * window_size(m) : sc.window);
        window_forward(m, x + b * T, w, sc.z);
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < S; k++)
                u[(t * count + b) * S + k] = w.s[t * S + k] > 0.0 ? w.s[t * S + k] : 0.0;
    }
    lstm_layer_forward(&m->cell, count, T, u, keep ? keep + LSTM_CHUNK_MAX * window_size(m) : NULL,
                       sc.lstm, m->frame.hl + ch->first * (size_t)m->hidden);
}

/* ---- backward ---------------------------------------------------------------------------- */

static void add_column_sums(size_t rows, size_t cols, const double *a, double *sums)
{
    for (size_t t = 0; t < rows; t++)
        for (size_t k = 0; k < cols; k++)
            sums[k] += a[t * cols + k];
}

/* The convolution stack's backward for one window, from the gradient of its skip sum after
 * the ReLU (sc.ds on entry: already masked). Adds into part and ppart. */
static void window_backward(const struct wn *m, const double *x, struct window_acts w,
                            struct chunk_scratch sc, double *part, double *ppart)
{
    size_t T = (size_t)m->L, C = (size_t)m->C, S = (size_t)m->S, C2 = 2 * C;
    const double *p = m->base.params;
    const struct offsets *o = &m->off;
    double *ds = sc.ds, *dz = sc.dz, *da = sc.da, *dr = sc.dr, *z = sc.z;
    for (int i = 0; i < m->B; i++)
        add_column_sums(T, S, ds, part + o->bs[i]);
    memset(dr, 0, T * C * sizeof(double));
    for (int i = m->B - 1; i >= 0; i--) {
        size_t dilation = (size_t)1 << i;
        const double *r = w.r + (size_t)i * T * C, *a = w.act + (size_t)i * T * C2;
        for (size_t t = 0; t < T; t++)
            for (size_t c = 0; c < C; c++)
                z[t * C + c] = a[t * C2 + c] * a[t * C2 + C + c];
        /* skip conv */
        gemm(GEMM_N, GEMM_N, T, C, S, 1.0, ds, S, p + o->ws[i], C, 0.0, dz, C);
        gemm(GEMM_T, GEMM_N, S, C, T, 1.0, ds, S, z, C, 1.0, part + o->ws[i], C);
        /* residual conv: dr holds the gradient of r_{i+1} */
        if (i < m->B - 1) {
            gemm(GEMM_N, GEMM_N, T, C, C, 1.0, dr, C, p + o->wr[i], C, 1.0, dz, C);
            gemm(GEMM_T, GEMM_N, C, C, T, 1.0, dr, C, z, C, 1.0, part + o->wr[i], C);
            add_column_sums(T, C, dr, part + o->br[i]);
        }
        /* gated activation */
        for (size_t t = 0; t < T; t++)
            for (size_t c = 0; c < C; c++) {
                double th = a[t * C2 + c], sg = a[t * C2 + C + c], d = dz[t * C + c];
                da[t * C2 + c] = d * sg * (1.0 - th * th);
                da[t * C2 + C + c] = d * th * sg * (1.0 - sg);
            }
        add_column_sums(T, C2, da, part + o->bd[i]);
        /* dilated conv: dr becomes the gradient of r_i (the residual path is the identity) */
        for (int j = 0; j < m->K; j++) {
            size_t shift = (size_t)(m->K - 1 - j) * dilation;
            if (shift >= T)
                continue;
            gemm(GEMM_T, GEMM_N, C2, C, (T - shift), 1.0, da + shift * C2, C2, r, C, 1.0,
                 (double *)packed_tap(m, ppart, i, j), C);
            gemm(GEMM_N, GEMM_N, (T - shift), C, C2, 1.0, da + shift * C2, C2,
                 packed_tap(m, m->packed, i, j), C, 1.0, dr, C);
        }
    }
    for (size_t c = 0; c < C; c++) {
        double sw = 0.0, sb = 0.0;
        for (size_t t = 0; t < T; t++) {
            sw += dr[t * C + c] * x[t];
            sb += dr[t * C + c];
        }
        part[o->in_w + c] += sw;
        part[o->in_b + c] += sb;
    }
}

static void backward_chunk(void *model, const struct lstm_chunk *ch)
{
    struct wn *m = model;
    size_t count = ch->count, T = (size_t)m->L, S = (size_t)m->S, C = (size_t)m->C;
    struct chunk_scratch sc = chunk_scratch_at(m, ch->scratch);
    double *x = ch->x, *u = ch->x + LSTM_CHUNK_MAX * T, *keep = ch->keep;
    double *part = ch->part, *ppart = ch->part + m->off.body;
    struct lstm_layer_grads g;
    lstm_layer_grad_views(&g, m->S, m->hidden, part + m->off.lstm);
    lstm_layer_backward(&m->cell, count, T, u, keep + LSTM_CHUNK_MAX * window_size(m),
                        m->frame.dhl + ch->first * (size_t)m->hidden, &g, sc.du, sc.lstm);
    for (size_t b = 0; b < count; b++) {
        struct window_acts w = window_at(m, keep + b * window_size(m));
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < S; k++)
                sc.ds[t * S + k] = w.s[t * S + k] > 0.0 ? sc.du[(t * count + b) * S + k] : 0.0;
        window_backward(m, x + b * T, w, sc, part, ppart);
    }
    /* the packed dilated weights' gradients back into the (out, in, kernel) layout */
    for (int i = 0; i < m->B; i++)
        for (int j = 0; j < m->K; j++) {
            const double *pp = packed_tap(m, ppart, i, j);
            for (size_t oc = 0; oc < 2 * C * C; oc++)
                part[m->off.wd[i] + oc * (size_t)m->K + (size_t)j] += pp[oc];
        }
}

/* ---- the model --------------------------------------------------------------------------- */

static int wn_forward(struct model *base, const struct model_batch *b, int training,
                      struct model_run *run, double *out)
{
    return lstm_frame_forward(&((struct wn *)base)->frame, b, training, run, forward_chunk, base,
                              out);
}

static int wn_backward(struct model *base, struct model_run *run, const double *dout)
{
    return lstm_frame_backward(&((struct wn *)base)->frame, run, dout, backward_chunk, base,
                               base->grads);
}

/* Repacks the dilated weights (out, in, kernel) tap by tap for the GEMMs. */
static void wn_params_changed(struct model *base)
{
    struct wn *m = (struct wn *)base;
    size_t C = (size_t)m->C, K = (size_t)m->K;
    for (int i = 0; i < m->B; i++)
        for (size_t j = 0; j < K; j++) {
            double *pp = (double *)packed_tap(m, m->packed, i, (int)j);
            for (size_t oc = 0; oc < 2 * C * C; oc++)
                pp[oc] = base->params[m->off.wd[i] + oc * K + j];
        }
    lstm_layer_transpose(&m->cell);
    m->frame.have_forward = 0;
}

static void wn_destroy(struct model *base)
{
    struct wn *m = (struct wn *)base;
    if (!m)
        return;
    lstm_frame_free(&m->frame);
    lstm_layer_free(&m->cell);
    free(m->packed);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

static struct tensor_info trained(const char *block, const char *name, int ndim, int d0, int d1,
                                  int d2)
{
    struct tensor_info t = {.ndim = ndim, .kind = TENSOR_TRAINED, .block = block};
    snprintf(t.name, sizeof t.name, "%s", name);
    t.shape[0] = d0, t.shape[1] = d1, t.shape[2] = d2;
    return t;
}

static int build_tensors(struct wn *m)
{
    int C = m->C, S = m->S, K = m->K, h = m->hidden;
    struct tensor_info t[2 + 6 * MAX_BLOCKS + 4 + 7];
    size_t k = 0;
    char name[TENSOR_NAME_MAX];
    t[k++] = trained("WaveNet input conv", "wavenet.input_conv.weight", 3, C, 1, 1);
    t[k++] = trained("WaveNet input conv", "wavenet.input_conv.bias", 1, C, 0, 0);
    for (int i = 0; i < m->B; i++) {
        snprintf(name, sizeof name, "wavenet.blocks.%d.dilated_conv.weight", i);
        t[k++] = trained("WaveNet dilated convs", name, 3, 2 * C, C, K);
        snprintf(name, sizeof name, "wavenet.blocks.%d.dilated_conv.bias", i);
        t[k++] = trained("WaveNet dilated convs", name, 1, 2 * C, 0, 0);
        snprintf(name, sizeof name, "wavenet.blocks.%d.skip_conv.weight", i);
        t[k++] = trained("WaveNet skip convs", name, 3, S, C, 1);
        snprintf(name, sizeof name, "wavenet.blocks.%d.skip_conv.bias", i);
        t[k++] = trained("WaveNet skip convs", name, 1, S, 0, 0);
        if (i < m->B - 1) {
            snprintf(name, sizeof name, "wavenet.blocks.%d.residual_conv.weight", i);
            t[k++] = trained("WaveNet residual convs", name, 3, C, C, 1);
            snprintf(name, sizeof name, "wavenet.blocks.%d.residual_conv.bias", i);
            t[k++] = trained("WaveNet residual convs", name, 1, C, 0, 0);
        }
    }
    t[k++] = trained("LSTM", "lstm.weight_ih_l0", 2, 4 * h, S, 0);
    t[k++] = trained("LSTM", "lstm.weight_hh_l0", 2, 4 * h, h, 0);
    t[k++] = trained("LSTM", "lstm.bias_ih_l0", 1, 4 * h, 0, 0);
    t[k++] = trained("LSTM", "lstm.bias_hh_l0", 1, 4 * h, 0, 0);
    k += lstm_head_tensors(t + k, h, m->H, m->frame.head.use_bn);
    int rc = model_alloc_tensors(&m->base, t, k);
    if (rc)
        return rc;
    /* offsets, in the order above */
    struct offsets *o = &m->off;
    size_t at = 0;
#define TAKE(field, count) ((field) = at, at += (size_t)(count))
    TAKE(o->in_w, C);
    TAKE(o->in_b, C);
    for (int i = 0; i < m->B; i++) {
        TAKE(o->wd[i], 2 * C * C * K);
        TAKE(o->bd[i], 2 * C);
        TAKE(o->ws[i], S * C);
        TAKE(o->bs[i], S);
        if (i < m->B - 1) {
            TAKE(o->wr[i], C * C);
            TAKE(o->br[i], C);
        }
    }
    TAKE(o->lstm, lstm_layer_param_count(S, h));
#undef TAKE
    o->body = at;
    return FW_OK;
}

static void init_params(struct wn *m, uint64_t seed)
{
    rng r;
    rng_seed_stream(&r, seed, 1);
    double *p = m->base.params;
    const struct offsets *o = &m->off;
    /* PyTorch Conv1d default: weight and bias ~ U(-1/sqrt(in * kernel), ...) */
    model_init_linear(&r, p + o->in_w, p + o->in_b, 1, m->C);
    for (int i = 0; i < m->B; i++) {
        model_init_linear(&r, p + o->wd[i], p + o->bd[i], m->C * m->K, 2 * m->C);
        model_init_linear(&r, p + o->ws[i], p + o->bs[i], m->C, m->S);
        if (i < m->B - 1)
            model_init_linear(&r, p + o->wr[i], p + o->br[i], m->C, m->C);
    }
    lstm_layer_init(&r, m->S, m->hidden, p + o->lstm);
    lstm_head_init(&m->frame.head, &r);
}

static int wn_create(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    struct wn *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = &wavenet_lstm_ops;
    long v[8];
    double dropout;
    int rc;
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &v[0], err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &v[1], err)) ||
        (rc = config_int(cfg, "channels", 32, 1, 1024, &v[2], err)) ||
        (rc = config_int(cfg, "skip_channels", 32, 1, 1024, &v[3], err)) ||
        (rc = config_int(cfg, "blocks", 6, 1, MAX_BLOCKS, &v[4], err)) ||
        (rc = config_int(cfg, "kernel", 2, 1, 16, &v[5], err)) ||
        (rc = config_int(cfg, "hidden", 150, 1, 4096, &v[6], err)) ||
        (rc = config_int(cfg, "batchnorm", 1, 0, 1, &v[7], err)) ||
        (rc = config_real(cfg, "dropout", 0.3, 0.0, 0.95, &dropout, err))) {
        free(m);
        return rc;
    }
    m->L = (int)v[0], m->H = (int)v[1], m->C = (int)v[2], m->S = (int)v[3];
    m->B = (int)v[4], m->K = (int)v[5], m->hidden = (int)v[6];
    struct lstm_frame *f = &m->frame;
    f->head = (struct lstm_head){
        .features = m->hidden, .horizon = m->H, .use_bn = (int)v[7], .dropout = dropout};
    rc = build_tensors(m);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    m->packed = malloc(packed_size(m) * sizeof(double));
    if (!m->packed) {
        wn_destroy(&m->base);
        return FW_ENOMEM;
    }
    lstm_layer_views(&m->cell, m->S, m->hidden, m->base.params + m->off.lstm);
    f->window = (size_t)m->L;
    f->x_size = LSTM_CHUNK_MAX * (size_t)m->L * (1 + (size_t)m->S);
    f->scratch_size = chunk_scratch_size(m);
    f->keep_size = chunk_keep(m);
    f->n_grads = m->off.body;
    f->part_size = m->off.body + packed_size(m);
    lstm_head_bind(&f->head, &m->base);
    init_params(m, seed);
    rc = lstm_layer_alloc_transposed(&m->cell);
    if (rc) {
        wn_destroy(&m->base);
        return rc;
    }
    wn_params_changed(&m->base);
    *out = &m->base;
    return FW_OK;
}

const struct model_ops wavenet_lstm_ops = {
    .name = "wavenet-lstm",
    .description = "WaveNet-LSTM baseline: dilated causal gated convolutions with residual and "
                   "skip connections, an LSTM over their skip outputs, BatchNorm1d, dropout, "
                   "Linear; 167,272 parameters at the defaults",
    .create = wn_create,
    .destroy = wn_destroy,
    .forward = wn_forward,
    .backward = wn_backward,
    .params_changed = wn_params_changed,
};
