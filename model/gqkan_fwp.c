/* gqkan_fwp — the gated QKAN-FWP solar model (see gqkan_fwp.h). */
#include "model/gqkan_fwp.h"
#include "model/daruan.h"
#include "model/gemm.h"
#include "model/fwp.h"
#include "model/layers.h"
#include "model/qkan.h"
#include "model/vqc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* scan: one recursion over the batch's span (fwp_scan, the default); parallel: each window's
 * closed form; sequential: each window's recursion step by step. All three are exact. */
enum { RECURRENCE_SCAN, RECURRENCE_PARALLEL, RECURRENCE_SEQUENTIAL };

/* The slow programmer's vector loops see the distinct values in multiples of 8 (the widest
 * vector), so every value goes through the vectorised path and its result never depends on
 * where it falls in a batch (a scalar tail would round differently). This is what makes the
 * evaluation cache below exact. */
#define VALUE_PAD 8

/* Evaluation cache of the slow programmer: with fixed parameters its outputs (a, b, gate) are a
 * pure function of a month's value, and real series repeat values (SILSO's 3,333 months hold
 * 1,600 distinct ones), so forecasts compute each value once. Cleared whenever the parameters
 * change. Open addressing on the value's bits. */
#define MEMO_SLOTS 8192

struct slow_memo {
    size_t count;
    uint64_t keys[MEMO_SLOTS];
    unsigned char used[MEMO_SLOTS];
    double *rows; /* MEMO_SLOTS x (na + nb + 1) */
};

/* Per-thread scratch for the per-window paths (parallel, sequential). */
struct thread_scratch {
    /* the fast QKAN's edges of one window: angles, inputs, outputs and gradients */
    double *edge_theta, *edge_x, *edge_y, *edge_dtheta, *edge_dx, *trig;
    double *a, *b, *g; /* gathered rows: L x na, L x nb, L */
    double *tmp;       /* L x max(na, nb) + 3 na nb */
    double *states;    /* sequential recurrence: L x na x nb */
    double *vqc;       /* FAST_VQC: the simulator's scratch */
};

/* Sized by the batch's span of months (and so its distinct values). */
struct span_arrays {
    size_t cap;
    int *u_of_month;          /* span: index into uvals */
    double *uvals;            /* nu <= span */
    double *uvals_spare;      /* nu: the evaluation cache's misses */
    double *z, *silu, *dsilu; /* ds x nu */
    double *q;                /* ds x nu */
    double *rt;               /* nu x dh */
    double *at, *bt, *gate;   /* nu x na, nu x nb, nu */
    double *dat, *dbt, *dgt;  /* nu x na, nu x nb, nu */
    double *drt;              /* nu x dh */
    double *dq, *dz;          /* ds x nu */
    double *mda, *mdb, *mdg;  /* span x na, span x nb, span: per-month recursion gradients */
};

/* Sized by the number of windows. */
struct window_arrays {
    size_t cap;
    size_t *starts, *rel_start;        /* n: as given, and relative to the span */
    double *w, *p;                     /* n x L (per-window paths) */
    double *theta, *G;                 /* n x na x nb: programmed angles, their gradient */
    double *u, *h;                     /* n x fin, n x fout: fast QKAN in and out */
    double *bn_out, *xhat, *mask, *dh; /* n x fout */
    double *dwp, *dbp;                 /* n x fin */
    double *dA, *dB, *dG;              /* n x L x {na, nb, 1} (per-window paths) */
};

struct workspace {
    size_t nu, span, lo, n;
    int mode; /* the recursion path of the last forward (RECURRENCE_*) */
    int threads;
    struct span_arrays sp;
    struct window_arrays win;
    double *inv_std;  /* fout */
    double *qkan_acc; /* the slow QKAN's gradient accumulator */
    struct thread_scratch *scratch;
    struct fwp_scan scan;
};

/* The family (paper.md §1.1): which slow and fast programmers, and whether the write is gated. */
enum slow_kind { SLOW_HQKAN, SLOW_LINEAR };
enum fast_kind { FAST_QKAN, FAST_LINEAR, FAST_VQC };

struct variant {
    enum slow_kind slow;
    enum fast_kind fast;
    int gated;  /* 0: the original QFWP's additive update theta_t = theta_{t-1} + a_t b_t^T */
    int hidden; /* default width of the slow programmer's output r */
};

struct gqkan {
    struct model base;
    struct slow_memo *memo; /* evaluation cache (NULL until the first evaluation) */
    struct variant kind;
    int L, H, ds, dh, fin, fout, rs, rf, na, nb;
    int use_bn, recurrence, slow_preacts;
    struct vqc vqc; /* FAST_VQC: its qubits, depth and measured outputs (= fout) */
    enum daruan_readout readout;
    double dropout, gate_bias;
    /* parameter views */
    double *w1, *b1, *w2, *b2, *wa, *ba, *wb, *bb, *wg, *bg, *wp, *bp, *gamma, *beta, *wo, *bo;
    struct qkan_layer slow;
    struct qkan_work slow_work;
    struct batchnorm bn;
    /* the last training forward, for backward */
    const double *input;
    int have_forward;
    struct workspace ws;
};

static double *grad_of(struct gqkan *m, const double *param)
{
    return m->base.grads + (param - m->base.params);
}

/* ---- construction ------------------------------------------------------------------------ */

/* Reads only the options the variant has, so the resolved configuration lists exactly those
 * (in the headline model's historical order). */
static int read_options(struct gqkan *m, struct model_config *cfg, fw_error *err)
{
    static const char *const readouts[] = {"amplitude", "born", NULL};
    static const char *const recurrences[] = {"scan", "parallel", "sequential", NULL};
    int hqkan = m->kind.slow == SLOW_HQKAN, vqc = m->kind.fast == FAST_VQC;
    long v[13] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 2};
    int readout = DARUAN_AMPLITUDE, rc = FW_OK;
    m->recurrence = RECURRENCE_PARALLEL; /* the additive update has its own per-window path */
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &v[0], err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &v[1], err)) ||
        (hqkan && (rc = config_int(cfg, "slow_dim", 25, 1, 512, &v[2], err))) ||
        (rc = config_int(cfg, "hidden", m->kind.hidden, 1, 1024, &v[3], err)) ||
        (vqc && (rc = config_int(cfg, "qubits", 8, 2, VQC_MAX_QUBITS, &v[9], err))) ||
        (vqc && (rc = config_int(cfg, "depth", 2, 1, 64, &v[10], err))) ||
        (!vqc && (rc = config_int(cfg, "fast_in", 10, 1, 256, &v[4], err))) ||
        /* a VQC measures at most every qubit: the default 4 outputs shrink with fewer qubits */
        (rc = config_int(cfg, "fast_out", vqc ? (v[9] < 4 ? v[9] : 4) : 20, 1, vqc ? v[9] : 256,
                         &v[5], err)) ||
        (hqkan && (rc = config_int(cfg, "slow_reps", 1, 1, DARUAN_MAX_REPS, &v[6], err))) ||
        (m->kind.fast == FAST_QKAN &&
         (rc = config_int(cfg, "fast_reps", 2, 1, DARUAN_MAX_REPS, &v[7], err))) ||
        (rc = config_int(cfg, "batchnorm", 1, 0, 1, &v[8], err)) ||
        ((hqkan || m->kind.fast == FAST_QKAN) &&
         (rc = config_choice(cfg, "readout", readouts, 0, &readout, err))) ||
        (m->kind.gated && (rc = config_choice(cfg, "recurrence", recurrences, RECURRENCE_SCAN,
                                              &m->recurrence, err))) ||
        (rc = config_real(cfg, "dropout", 0.3, 0.0, 0.95, &m->dropout, err)) ||
        (m->kind.gated &&
         (rc = config_real(cfg, "gate_bias", 2.0, -20.0, 20.0, &m->gate_bias, err))) ||
        (hqkan && (rc = config_int(cfg, "slow_preacts", 1, 0, 1, &v[11], err))))
        return rc;
    m->L = (int)v[0], m->H = (int)v[1], m->ds = (int)v[2], m->dh = (int)v[3];
    m->fin = (int)v[4], m->fout = (int)v[5], m->rs = (int)v[6], m->rf = (int)v[7];
    m->use_bn = (int)v[8], m->slow_preacts = (int)v[11];
    m->readout = (enum daruan_readout)readout;
    switch (m->kind.fast) {
    case FAST_QKAN: /* theta: [o][r] x [i][k] */
        m->na = m->fout * (m->rf + 1);
        m->nb = m->fin * 2;
        break;
    case FAST_LINEAR: /* theta = [W | b], fout x (fin + 1) */
        m->na = m->fout;
        m->nb = m->fin + 1;
        break;
    case FAST_VQC: /* theta: depth x qubits; the raw last value is the circuit's input */
        m->vqc = (struct vqc){(int)v[9], (int)v[10], m->fout};
        m->fin = 1;
        m->na = (int)v[10];
        m->nb = (int)v[9];
        break;
    }
    return FW_OK;
}

/* Tensor table entries: trained, buffer, frozen constant, unused (see model.h). */
/* clang-format off */
#define TR(block, name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_TRAINED, 0, 0.0, block}
#define BUF(name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_BUFFER, 0, 0.0, NULL}
#define FROZEN(name, fill, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_CONST, 0, fill, NULL}
#define UNUSED(name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_UNUSED, 0, 0.0, NULL}
/* clang-format on */

static int build_tensors(struct gqkan *m)
{
    int ds = m->ds, dh = m->dh, rs = m->rs, rf = m->rf, fi = m->fin, fo = m->fout;
    enum tensor_kind preacts = m->slow_preacts ? TENSOR_TRAINED : TENSOR_CONST;
    /* In the authors' state_dict order (paper.md appendix). */
    struct tensor_info hqkan[] = {
        TR("Slow Linear 1->25", "fwp_cell.slow_program_encoder.0.weight", 2, ds, 1),
        TR("Slow Linear 1->25", "fwp_cell.slow_program_encoder.0.bias", 1, ds),
        TR("Slow QKAN theta", "fwp_cell.slow_program_encoder.1.layers.0.theta", 4, ds, ds, rs + 1,
           2),
        TR("Slow QKAN w_base", "fwp_cell.slow_program_encoder.1.layers.0.base_weight", 2, ds, ds),
        {"fwp_cell.slow_program_encoder.1.layers.0.preacts_weight",
         3,
         {ds, ds, rs},
         preacts,
         0,
         1.0,
         m->slow_preacts ? "Slow QKAN p_w" : NULL},
        {"fwp_cell.slow_program_encoder.1.layers.0.preacts_bias",
         3,
         {ds, ds, rs},
         preacts,
         0,
         0.0,
         m->slow_preacts ? "Slow QKAN p_b" : NULL},
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.postact_weights", 1.0, 2, ds, ds),
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.postact_bias", 0.0, 2, ds, ds),
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.mask", 1.0, 2, ds, ds),
        TR("Slow Linear 25->48", "fwp_cell.slow_program_encoder.2.weight", 2, dh, ds),
        TR("Slow Linear 25->48", "fwp_cell.slow_program_encoder.2.bias", 1, dh),
    };
    struct tensor_info linear[] = {
        TR("Slow Linear 1->hidden", "fwp_cell.slow_program_encoder.0.weight", 2, dh, 1),
        TR("Slow Linear 1->hidden", "fwp_cell.slow_program_encoder.0.bias", 1, dh),
    };
    struct tensor_info heads[] = {
        TR("theta-head A", "fwp_cell.theta_head_A.weight", 2, m->na, dh),
        TR("theta-head A", "fwp_cell.theta_head_A.bias", 1, m->na),
        TR("theta-head B", "fwp_cell.theta_head_B.weight", 2, m->nb, dh),
        TR("theta-head B", "fwp_cell.theta_head_B.bias", 1, m->nb),
        TR("Gate", "fwp_cell.fast_gate.weight", 2, 1, dh),
        TR("Gate", "fwp_cell.fast_gate.bias", 1, 1),
    };
    struct tensor_info prelinear[] = {
        TR("prelinear", "fwp_cell.prelinear.weight", 2, fi, 1),
        TR("prelinear", "fwp_cell.prelinear.bias", 1, fi),
    };
    struct tensor_info fast_qkan[] = {
        /* the fast QKAN's own theta is always overridden by the programmed angles */
        UNUSED("fwp_cell.qkan_layer.layers.0.theta", 4, fo, fi, rf + 1, 2),
        FROZEN("fwp_cell.qkan_layer.layers.0.base_weight", 0.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.preacts_weight", 1.0, 3, fo, fi, rf),
        FROZEN("fwp_cell.qkan_layer.layers.0.preacts_bias", 0.0, 3, fo, fi, rf),
        FROZEN("fwp_cell.qkan_layer.layers.0.postact_weights", 1.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.postact_bias", 0.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.mask", 1.0, 2, fo, fi),
    };
    struct tensor_info head[] = {
        TR("BatchNorm1d", "batch_norm.weight", 1, fo),
        TR("BatchNorm1d", "batch_norm.bias", 1, fo),
        BUF("batch_norm.running_mean", 1, fo),
        BUF("batch_norm.running_var", 1, fo),
        BUF("batch_norm.num_batches_tracked", 0, 0),
        TR("Output Linear", "output_layer.weight", 2, m->H, fo),
        TR("Output Linear", "output_layer.bias", 1, m->H),
    };
    struct tensor_info t[64];
    size_t count = 0;
#define PUSH(list, n)                                                                              \
    for (size_t i = 0; i < (n); i++)                                                               \
    t[count++] = (list)[i]
    if (m->kind.slow == SLOW_HQKAN)
        PUSH(hqkan, sizeof hqkan / sizeof hqkan[0]);
    else
        PUSH(linear, sizeof linear / sizeof linear[0]);
    PUSH(heads, m->kind.gated ? 6 : 4); /* the additive update has no gate */
    if (m->kind.fast != FAST_VQC)
        PUSH(prelinear, 2);
    if (m->kind.fast == FAST_QKAN)
        PUSH(fast_qkan, sizeof fast_qkan / sizeof fast_qkan[0]);
    /* without BatchNorm there are no BN tensors at all */
    PUSH(head + (m->use_bn ? 0 : 5), m->use_bn ? 7 : 2);
#undef PUSH
    return model_alloc_tensors(&m->base, t, count);
}

static void bind_views(struct gqkan *m)
{
    struct model *b = &m->base;
#define P(name) model_tensor_data(b, name)
    m->w1 = P("fwp_cell.slow_program_encoder.0.weight");
    m->b1 = P("fwp_cell.slow_program_encoder.0.bias");
    m->w2 = P("fwp_cell.slow_program_encoder.2.weight"); /* NULL unless HQKAN, like the rest */
    m->b2 = P("fwp_cell.slow_program_encoder.2.bias");
    m->wa = P("fwp_cell.theta_head_A.weight");
    m->ba = P("fwp_cell.theta_head_A.bias");
    m->wb = P("fwp_cell.theta_head_B.weight");
    m->bb = P("fwp_cell.theta_head_B.bias");
    m->wg = P("fwp_cell.fast_gate.weight");
    m->bg = P("fwp_cell.fast_gate.bias");
    m->wp = P("fwp_cell.prelinear.weight");
    m->bp = P("fwp_cell.prelinear.bias");
    m->wo = P("output_layer.weight");
    m->bo = P("output_layer.bias");
    if (m->kind.slow == SLOW_HQKAN) {
        struct qkan_layer *s = &m->slow;
        *s = (struct qkan_layer){.n_in = m->ds,
                                 .n_out = m->ds,
                                 .reps = m->rs,
                                 .has_base = 1,
                                 .has_preact = m->slow_preacts,
                                 .readout = m->readout};
        s->theta = P("fwp_cell.slow_program_encoder.1.layers.0.theta");
        s->base_weight = P("fwp_cell.slow_program_encoder.1.layers.0.base_weight");
        s->d_theta = grad_of(m, s->theta);
        s->d_base_weight = grad_of(m, s->base_weight);
        if (m->slow_preacts) {
            s->preact_w = P("fwp_cell.slow_program_encoder.1.layers.0.preacts_weight");
            s->preact_b = P("fwp_cell.slow_program_encoder.1.layers.0.preacts_bias");
            s->d_preact_w = grad_of(m, s->preact_w);
            s->d_preact_b = grad_of(m, s->preact_b);
        }
    }
    if (m->use_bn) {
        m->gamma = P("batch_norm.weight");
        m->beta = P("batch_norm.bias");
        m->bn = (struct batchnorm){m->fout,
                                   m->gamma,
                                   m->beta,
                                   P("batch_norm.running_mean"),
                                   P("batch_norm.running_var"),
                                   P("batch_norm.num_batches_tracked")};
    }
#undef P
}

/* paper.md §1.4 initialisation. */
static void init_params(struct gqkan *m, uint64_t seed)
{
    rng r;
    rng_seed_stream(&r, seed, 1);
    int ds = m->ds, dh = m->dh;
    if (m->kind.slow == SLOW_HQKAN) {
        model_init_linear(&r, m->w1, m->b1, 1, ds);
        /* Xavier normal on the 4-D theta: fan = n * 2(R+1) on each side */
        size_t nt = (size_t)ds * ds * 2 * (size_t)(m->rs + 1);
        double fan = (double)ds * 2 * (m->rs + 1);
        double std = sqrt(2.0 / (fan + fan));
        for (size_t k = 0; k < nt; k++)
            m->slow.theta[k] = std * rng_normal(&r);
        for (int k = 0; k < ds * ds; k++)
            m->slow.base_weight[k] = 0.5;
        for (int k = 0; m->slow_preacts && k < ds * ds * m->rs; k++) {
            m->slow.preact_w[k] = 1.0;
            m->slow.preact_b[k] = 0.0;
        }
        model_init_linear(&r, m->w2, m->b2, ds, dh);
    } else {
        model_init_linear(&r, m->w1, m->b1, 1, dh);
    }
    model_init_linear(&r, m->wa, m->ba, dh, m->na);
    model_init_linear(&r, m->wb, m->bb, dh, m->nb);
    if (m->kind.gated) {
        model_init_linear(&r, m->wg, m->bg, dh, 1);
        m->bg[0] = m->gate_bias;
    }
    if (m->kind.fast != FAST_VQC)
        model_init_linear(&r, m->wp, m->bp, 1, m->fin);
    if (m->use_bn) {
        for (int j = 0; j < m->fout; j++) {
            m->gamma[j] = 1.0;
            m->beta[j] = 0.0;
            m->bn.running_mean[j] = 0.0;
            m->bn.running_var[j] = 1.0;
        }
        *m->bn.batches_tracked = 0.0;
    }
    model_init_linear(&r, m->wo, m->bo, m->fout, m->H);
}

static void free_span(struct span_arrays *sp)
{
    free(sp->uvals_spare);
    double **arrays[] = {&sp->uvals, &sp->z,  &sp->silu, &sp->dsilu, &sp->q,   &sp->rt,
                         &sp->at,    &sp->bt, &sp->gate, &sp->dat,   &sp->dbt, &sp->dgt,
                         &sp->drt,   &sp->dq, &sp->dz,   &sp->mda,   &sp->mdb, &sp->mdg};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(*arrays[i]);
    free(sp->u_of_month);
    memset(sp, 0, sizeof *sp);
}

static void free_windows(struct window_arrays *w)
{
    double **arrays[] = {&w->w,    &w->p,  &w->theta, &w->G,   &w->u,  &w->h,  &w->bn_out, &w->xhat,
                         &w->mask, &w->dh, &w->dwp,   &w->dbp, &w->dA, &w->dB, &w->dG};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(*arrays[i]);
    free(w->starts), free(w->rel_start);
    memset(w, 0, sizeof *w);
}

static void free_scratch(struct workspace *ws)
{
    for (int t = 0; ws->scratch && t < ws->threads; t++) {
        struct thread_scratch *s = &ws->scratch[t];
        free(s->a), free(s->b), free(s->g), free(s->tmp), free(s->states);
        free(s->edge_theta), free(s->edge_x), free(s->edge_y), free(s->edge_dtheta);
        free(s->edge_dx), free(s->trig), free(s->vqc);
    }
    free(ws->scratch);
    ws->scratch = NULL;
    ws->threads = 0;
}

static void free_workspace(struct workspace *ws)
{
    free_span(&ws->sp);
    free_windows(&ws->win);
    free_scratch(ws);
    fwp_scan_free(&ws->scan);
    free(ws->inv_std), free(ws->qkan_acc);
    memset(ws, 0, sizeof *ws);
}

static void gqkan_destroy(struct model *base)
{
    struct gqkan *m = (struct gqkan *)base;
    if (!m)
        return;
    free_workspace(&m->ws);
    qkan_work_free(&m->slow_work);
    if (m->memo)
        free(m->memo->rows);
    free(m->memo);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

static void memo_clear(struct slow_memo *memo)
{
    if (memo) {
        memo->count = 0;
        memset(memo->used, 0, sizeof memo->used);
    }
}

static void gqkan_params_changed(struct model *base)
{
    struct gqkan *m = (struct gqkan *)base;
    if (m->kind.slow == SLOW_HQKAN)
        qkan_prepare(&m->slow_work, &m->slow);
    memo_clear(m->memo);
    m->have_forward = 0;
}

static int create_variant(const struct model_ops *ops, struct variant kind,
                          struct model_config *cfg, uint64_t seed, struct model **out,
                          fw_error *err)
{
    struct gqkan *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = ops;
    m->kind = kind;
    int rc = read_options(m, cfg, err);
    if (!rc)
        rc = build_tensors(m);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    bind_views(m);
    rc = m->kind.slow == SLOW_HQKAN ? qkan_work_init(&m->slow_work, &m->slow) : FW_OK;
    if (rc) {
        gqkan_destroy(&m->base);
        return rc;
    }
    init_params(m, seed);
    gqkan_params_changed(&m->base);
    *out = &m->base;
    return FW_OK;
}

/* ---- workspace --------------------------------------------------------------------------- */

static void *renew(void *old, size_t count, size_t size)
{
    free(old);
    return calloc(count > 0 ? count : 1, size);
}

#define ALLOC(ptr, count)                                                                          \
    do {                                                                                           \
        (ptr) = renew((ptr), (count), sizeof *(ptr));                                              \
        if (!(ptr))                                                                                \
            return FW_ENOMEM;                                                                      \
    } while (0)

static int ensure_span(struct gqkan *m, size_t span)
{
    struct span_arrays *sp = &m->ws.sp;
    if (sp->cap >= span)
        return FW_OK;
    size_t nu = span, ds = (size_t)m->ds, dh = (size_t)m->dh;
    size_t na = (size_t)m->na, nb = (size_t)m->nb;
    ALLOC(sp->u_of_month, span);
    ALLOC(sp->uvals, nu);
    ALLOC(sp->uvals_spare, nu);
    ALLOC(sp->z, ds * nu);
    ALLOC(sp->silu, ds * nu);
    ALLOC(sp->dsilu, ds * nu);
    ALLOC(sp->q, ds * nu);
    ALLOC(sp->rt, nu * dh);
    ALLOC(sp->at, nu * na);
    ALLOC(sp->bt, nu * nb);
    ALLOC(sp->gate, nu);
    ALLOC(sp->dat, nu * na);
    ALLOC(sp->dbt, nu * nb);
    ALLOC(sp->dgt, nu);
    ALLOC(sp->drt, nu * dh);
    ALLOC(sp->dq, ds * nu);
    ALLOC(sp->dz, ds * nu);
    ALLOC(sp->mda, span * na);
    ALLOC(sp->mdb, span * nb);
    ALLOC(sp->mdg, span);
    sp->cap = span;
    return FW_OK;
}

static int ensure_windows(struct gqkan *m, size_t n)
{
    struct window_arrays *w = &m->ws.win;
    if (w->cap >= n)
        return FW_OK;
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb, f = (size_t)m->fout;
    ALLOC(w->starts, n);
    ALLOC(w->rel_start, n);
    ALLOC(w->theta, n * na * nb);
    ALLOC(w->G, n * na * nb);
    ALLOC(w->u, n * m->fin);
    ALLOC(w->h, n * f);
    ALLOC(w->bn_out, n * f);
    ALLOC(w->xhat, n * f);
    ALLOC(w->mask, n * f);
    ALLOC(w->dh, n * f);
    ALLOC(w->dwp, n * m->fin);
    ALLOC(w->dbp, n * m->fin);
    ALLOC(w->w, n * L);
    ALLOC(w->p, n * L);
    ALLOC(w->dA, n * L * na);
    ALLOC(w->dB, n * L * nb);
    ALLOC(w->dG, n * L);
    w->cap = n;
    return FW_OK;
}

static int ensure_threads(struct gqkan *m, int threads)
{
    struct workspace *ws = &m->ws;
    if (ws->threads >= threads)
        return FW_OK;
    free_scratch(ws);
    ws->scratch = calloc((size_t)threads, sizeof *ws->scratch);
    if (!ws->scratch)
        return FW_ENOMEM;
    ws->threads = threads;
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    size_t wide = na > nb ? na : nb;
    size_t edges = (size_t)m->fout * (size_t)m->fin, nt = 2 * (size_t)(m->rf + 1);
    for (int t = 0; t < threads; t++) {
        struct thread_scratch *s = &ws->scratch[t];
        ALLOC(s->edge_theta, edges * nt);
        ALLOC(s->edge_x, edges);
        ALLOC(s->edge_y, edges);
        ALLOC(s->edge_dtheta, edges * nt);
        ALLOC(s->edge_dx, edges);
        ALLOC(s->trig, daruan_batch_scratch(edges, m->rf));
        ALLOC(s->a, L * na);
        ALLOC(s->b, L * nb);
        ALLOC(s->g, L);
        ALLOC(s->tmp, L * wide + 3 * na * nb);
        if (m->recurrence == RECURRENCE_SEQUENTIAL)
            ALLOC(s->states, L * na * nb);
        if (m->kind.fast == FAST_VQC)
            ALLOC(s->vqc, vqc_scratch_size(&m->vqc));
    }
    return FW_OK;
}

static int ensure_workspace(struct gqkan *m, size_t n, size_t span, int threads)
{
    struct workspace *ws = &m->ws;
    int rc = ensure_span(m, span + VALUE_PAD);
    if (!rc)
        rc = ensure_windows(m, n);
    if (!rc)
        rc = ensure_threads(m, threads);
    if (!rc && !ws->inv_std) {
        ALLOC(ws->inv_std, (size_t)m->fout);
        ALLOC(ws->qkan_acc, qkan_accum_size(&m->slow));
    }
    return rc;
}

/* ---- forward ----------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Finds the batch's span of months and their distinct values, and maps every month of the span
 * to its value's index. */
static int index_values(struct gqkan *m, const struct model_batch *b, int threads)
{
    size_t lo = b->starts[0], hi = b->starts[0];
    for (size_t k = 0; k < b->n; k++) {
        lo = b->starts[k] < lo ? b->starts[k] : lo;
        hi = b->starts[k] > hi ? b->starts[k] : hi;
    }
    size_t span = hi - lo + (size_t)m->L;
    int rc = ensure_workspace(m, b->n, span, threads);
    if (rc)
        return rc;
    struct workspace *ws = &m->ws;
    struct span_arrays *sp = &ws->sp;
    ws->lo = lo;
    ws->span = span;
    ws->n = b->n;
    for (size_t k = 0; k < b->n; k++) {
        ws->win.starts[k] = b->starts[k];
        ws->win.rel_start[k] = b->starts[k] - lo;
    }
    for (size_t i = 0; i < span; i++) {
        sp->uvals[i] = b->input[lo + i];
        if (!isfinite(sp->uvals[i]))
            return FW_EINVAL;
    }
    qsort(sp->uvals, span, sizeof *sp->uvals, cmp_double);
    size_t nu = 0;
    for (size_t i = 0; i < span; i++)
        if (nu == 0 || sp->uvals[i] != sp->uvals[nu - 1])
            sp->uvals[nu++] = sp->uvals[i];
    /* searched below before padding, then padded with copies of the largest value */
    size_t distinct = nu;
    while (nu % VALUE_PAD)
        sp->uvals[nu++] = sp->uvals[distinct - 1];
    ws->nu = nu;
    for (size_t i = 0; i < span; i++) {
        double v = b->input[lo + i];
        const double *hit = bsearch(&v, sp->uvals, distinct, sizeof v, cmp_double);
        sp->u_of_month[i] = (int)(hit - sp->uvals);
    }
    return FW_OK;
}

/* From r: the write heads a and b, and the gate. */
static void slow_heads_forward(struct gqkan *m, struct pool *pool)
{
    struct span_arrays *sp = &m->ws.sp;
    size_t nu = m->ws.nu;
    linear_forward(pool, nu, m->dh, m->na, sp->rt, m->wa, m->ba, sp->at);
    linear_forward(pool, nu, m->dh, m->nb, sp->rt, m->wb, m->bb, sp->bt);
    if (!m->kind.gated) {
        for (size_t u = 0; u < nu; u++)
            sp->gate[u] = 1.0;
        return;
    }
    linear_forward(pool, nu, m->dh, 1, sp->rt, m->wg, m->bg, sp->gate);
    for (size_t u = 0; u < nu; u++)
        sp->gate[u] = 1.0 / (1.0 + exp(-sp->gate[u]));
}

struct task_ctx {
    struct gqkan *m;
    const double *input;
    int defer_fast; /* window tasks stop before the fast programmer (forward_quantum) */
};

static void slow_qkan_forward_task(void *arg, size_t j, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct span_arrays *sp = &m->ws.sp;
    qkan_forward(&m->slow, &m->slow_work, m->ws.nu, sp->z, sp->silu, sp->q, (int)j, (int)j + 1);
}

/* The slow programmer for every distinct value: r, then a, b and the gate (1 when ungated). */
static void slow_forward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
{
    struct span_arrays *sp = &m->ws.sp;
    size_t nu = m->ws.nu;
    if (m->kind.slow == SLOW_LINEAR) {
        for (size_t u = 0; u < nu; u++)
            for (int j = 0; j < m->dh; j++)
                sp->rt[u * m->dh + j] = m->w1[j] * sp->uvals[u] + m->b1[j];
        slow_heads_forward(m, pool);
        return;
    }
    for (int i = 0; i < m->ds; i++)
        for (size_t u = 0; u < nu; u++)
            sp->z[(size_t)i * nu + u] = m->w1[i] * sp->uvals[u] + m->b1[i];
    qkan_silu_rows(nu, sp->z, sp->silu, sp->dsilu, 0, m->ds);
    pool_run(pool, (size_t)m->ds, slow_qkan_forward_task, ctx);
    /* r^T (nu x dh) = q^T W2^T + b2 */
    for (size_t u = 0; u < nu; u++)
        memcpy(sp->rt + u * m->dh, m->b2, (size_t)m->dh * sizeof(double));
    gemm_pool(pool, GEMM_T, GEMM_T, nu, m->dh, m->ds, 1.0, sp->q, nu, m->w2, m->ds, 1.0, sp->rt,
              m->dh);
    slow_heads_forward(m, pool);
}

static size_t memo_slot(const struct slow_memo *memo, uint64_t key, int *found)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ULL;
    size_t i = (size_t)(h >> 51) & (MEMO_SLOTS - 1);
    while (memo->used[i] && memo->keys[i] != key)
        i = (i + 1) & (MEMO_SLOTS - 1);
    *found = memo->used[i];
    return i;
}

/* The slow programmer in evaluation: cached values are copied, the others computed (padded to
 * whole vectors like any batch) and added to the cache. */
static void slow_forward_cached(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
{
    struct workspace *ws = &m->ws;
    struct span_arrays *sp = &ws->sp;
    size_t na = (size_t)m->na, nb = (size_t)m->nb, width = na + nb + 1, nu = ws->nu;
    if (!m->memo) {
        m->memo = calloc(1, sizeof *m->memo);
        if (m->memo)
            m->memo->rows = malloc(MEMO_SLOTS * width * sizeof(double));
        if (!m->memo || !m->memo->rows) {
            free(m->memo);
            m->memo = NULL;
            slow_forward(m, pool, ctx); /* no cache, same numbers */
            return;
        }
    }
    struct slow_memo *memo = m->memo;
    if (memo->count + nu > MEMO_SLOTS / 2)
        memo_clear(memo);
    size_t missing = 0;
    for (size_t u = 0; u < nu; u++) {
        uint64_t key;
        int found;
        memcpy(&key, &sp->uvals[u], sizeof key);
        memo_slot(memo, key, &found);
        if (!found && (missing == 0 || sp->uvals_spare[missing - 1] != sp->uvals[u]))
            sp->uvals_spare[missing++] = sp->uvals[u];
    }
    if (missing > 0) {
        size_t distinct = missing;
        while (missing % VALUE_PAD)
            sp->uvals_spare[missing++] = sp->uvals_spare[distinct - 1];
        double *all = sp->uvals;
        sp->uvals = sp->uvals_spare;
        ws->nu = missing;
        slow_forward(m, pool, ctx);
        for (size_t u = 0; u < distinct; u++) {
            uint64_t key;
            int found;
            memcpy(&key, &sp->uvals[u], sizeof key);
            size_t slot = memo_slot(memo, key, &found);
            double *row = memo->rows + slot * width;
            memcpy(row, sp->at + u * na, na * sizeof(double));
            memcpy(row + na, sp->bt + u * nb, nb * sizeof(double));
            row[na + nb] = sp->gate[u];
            memo->keys[slot] = key;
            memo->used[slot] = 1;
            memo->count++;
        }
        sp->uvals_spare = sp->uvals;
        sp->uvals = all;
        ws->nu = nu;
    }
    for (size_t u = 0; u < nu; u++) {
        uint64_t key;
        int found;
        memcpy(&key, &sp->uvals[u], sizeof key);
        const double *row = memo->rows + memo_slot(memo, key, &found) * width;
        memcpy(sp->at + u * na, row, na * sizeof(double));
        memcpy(sp->bt + u * nb, row + na, nb * sizeof(double));
        sp->gate[u] = row[na + nb];
    }
}

/* Rows of A, B and g for window k, in time order (per-window paths). */
static void gather_window(struct gqkan *m, size_t k, struct thread_scratch *s)
{
    struct workspace *ws = &m->ws;
    size_t na = (size_t)m->na, nb = (size_t)m->nb;
    for (size_t t = 0; t < (size_t)m->L; t++) {
        size_t u = (size_t)ws->sp.u_of_month[ws->win.rel_start[k] + t];
        memcpy(s->a + t * na, ws->sp.at + u * na, na * sizeof(double));
        memcpy(s->b + t * nb, ws->sp.bt + u * nb, nb * sizeof(double));
        s->g[t] = ws->sp.gate[u];
    }
}

static void scan_forward_task(void *arg, size_t block, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    fwp_scan_forward_block(&c->m->ws.scan, block);
}

static void scan_backward_task(void *arg, size_t block, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    fwp_scan_backward_block(&c->m->ws.scan, block);
}

/* The fast QKAN's edges of one window, edge (o, i) at o * fin + i: its angles from the
 * programmed theta (na x nb = [o][r] x [i][k]) and its input u_i. */
static void gather_edges(const struct gqkan *m, const double *theta, const double *u,
                         struct thread_scratch *s)
{
    size_t nt = 2 * (size_t)(m->rf + 1);
    for (int o = 0; o < m->fout; o++)
        for (int i = 0; i < m->fin; i++) {
            double *angles = s->edge_theta + (size_t)(o * m->fin + i) * nt;
            for (int r = 0; r <= m->rf; r++)
                for (int k = 0; k < 2; k++)
                    angles[2 * r + k] = theta[(size_t)(o * (m->rf + 1) + r) * m->nb + 2 * i + k];
            s->edge_x[o * m->fin + i] = u[i];
        }
}

/* The fast programmer with programmed theta on input u (fin): its outputs h (fout). */
static void fast_forward(const struct gqkan *m, const double *theta, const double *u, double *h,
                         struct thread_scratch *s)
{
    size_t nb = (size_t)m->nb;
    switch (m->kind.fast) {
    case FAST_QKAN:
        gather_edges(m, theta, u, s);
        daruan_forward_batch((size_t)m->fout * (size_t)m->fin, m->rf, s->edge_theta, s->edge_x,
                             m->readout, s->edge_y, s->trig);
        for (int o = 0; o < m->fout; o++) {
            double sum = 0.0;
            for (int i = 0; i < m->fin; i++)
                sum += s->edge_y[o * m->fin + i];
            h[o] = sum;
        }
        break;
    case FAST_LINEAR: /* h = W u + b with theta = [W | b] */
        for (int o = 0; o < m->fout; o++) {
            const double *row = theta + (size_t)o * nb;
            double sum = row[m->fin];
            for (int i = 0; i < m->fin; i++)
                sum += row[i] * u[i];
            h[o] = sum;
        }
        break;
    case FAST_VQC:
        vqc_forward(&m->vqc, u[0], theta, h, s->vqc);
        break;
    }
}

/* Its gradients from dh: G (na x nb, overwritten) and du (fin, overwritten; zero for the VQC,
 * whose input is data). Uses the scratch's edge arrays. */
static void fast_backward(const struct gqkan *m, const double *theta, const double *u,
                          const double *dh, double *G, double *du, struct thread_scratch *s)
{
    size_t nb = (size_t)m->nb, nt = 2 * (size_t)(m->rf + 1);
    memset(du, 0, (size_t)m->fin * sizeof *du);
    switch (m->kind.fast) {
    case FAST_QKAN:
        gather_edges(m, theta, u, s);
        for (int o = 0; o < m->fout; o++)
            for (int i = 0; i < m->fin; i++)
                s->edge_y[o * m->fin + i] = dh[o]; /* the edges' cotangents */
        daruan_backward_batch((size_t)m->fout * (size_t)m->fin, m->rf, s->edge_theta, s->edge_x,
                              m->readout, s->edge_y, s->edge_dtheta, s->edge_dx, s->trig);
        for (int o = 0; o < m->fout; o++)
            for (int i = 0; i < m->fin; i++) {
                const double *dangles = s->edge_dtheta + (size_t)(o * m->fin + i) * nt;
                for (int r = 0; r <= m->rf; r++)
                    for (int kk = 0; kk < 2; kk++)
                        G[(size_t)(o * (m->rf + 1) + r) * nb + 2 * i + kk] = dangles[2 * r + kk];
                du[i] += s->edge_dx[o * m->fin + i];
            }
        break;
    case FAST_LINEAR:
        for (int o = 0; o < m->fout; o++) {
            double *grow = G + (size_t)o * nb;
            const double *row = theta + (size_t)o * nb;
            for (int i = 0; i < m->fin; i++) {
                grow[i] = dh[o] * u[i];
                du[i] += dh[o] * row[i];
            }
            grow[m->fin] = dh[o];
        }
        break;
    case FAST_VQC: {
        double dx;
        vqc_backward(&m->vqc, u[0], theta, dh, G, &dx, s->vqc);
        break;
    }
    }
}

/* The original QFWP's additive update over one window: theta = sum_t a_t b_t^T = A^T B. */
static void additive_forward(size_t L, size_t na, size_t nb, const double *a, const double *b,
                             double *theta)
{
    gemm(GEMM_T, GEMM_N, na, nb, L, 1.0, a, na, b, nb, 0.0, theta, nb);
}

/* Its gradients: dA = B G^T, dB = A G, and no gate. */
static void additive_backward(size_t L, size_t na, size_t nb, const double *a, const double *b,
                              const double *G, double *dA, double *dB, double *dg)
{
    gemm(GEMM_N, GEMM_T, L, na, nb, 1.0, b, nb, G, nb, 0.0, dA, na);
    gemm(GEMM_N, GEMM_N, L, nb, na, 1.0, a, na, G, nb, 0.0, dB, nb);
    memset(dg, 0, L * sizeof *dg);
}

/* Window k: its recursion (per-window paths only), then the fast programmer on its last
 * month. */
static void window_forward_task(void *arg, size_t k, int thread)
{
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct window_arrays *w = &m->ws.win;
    struct thread_scratch *s = &m->ws.scratch[thread];
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    double *theta = w->theta + k * na * nb;
    if (m->ws.mode != RECURRENCE_SCAN) {
        gather_window(m, k, s);
        if (!m->kind.gated)
            additive_forward(L, na, nb, s->a, s->b, theta);
        else if (m->ws.mode == RECURRENCE_PARALLEL)
            fwp_forward_parallel(L, na, nb, s->a, s->b, s->g, theta, w->w + k * L, w->p + k * L,
                                 s->tmp);
        else
            fwp_forward_sequential(L, na, nb, s->a, s->b, s->g, theta, NULL);
    }
    double x_last = c->input[w->starts[k] + L - 1];
    double *u = w->u + k * m->fin;
    if (m->kind.fast == FAST_VQC)
        u[0] = x_last;
    else
        for (int i = 0; i < m->fin; i++)
            u[i] = m->wp[i] * x_last + m->bp[i];
    if (!c->defer_fast) /* else the circuits go to an evaluator afterwards */
        fast_forward(m, theta, u, w->h + k * m->fout, s);
}

/* Everything up to the fast programmer's inputs and angles (and, unless deferred, its outputs
 * h); forward_head finishes. */
static int forward_body(struct gqkan *m, const struct model_batch *b, int training,
                        struct pool *pool, int defer_fast)
{
    if (b->n == 0)
        return FW_EINVAL;
    if (training && m->use_bn && b->n < 2)
        return FW_EINVAL;
    m->have_forward = 0;
    int rc = index_values(m, b, pool_threads(pool));
    if (rc)
        return rc;
    struct workspace *ws = &m->ws;
    struct window_arrays *w = &ws->win;
    struct task_ctx ctx = {m, b->input, defer_fast};
    /* The batch scan is for training; evaluation runs each window on its own, so a window's
     * forecast does not depend (even in rounding) on the other windows it is batched with. */
    ws->mode = m->recurrence == RECURRENCE_SCAN && !training ? RECURRENCE_PARALLEL : m->recurrence;
    if (training)
        slow_forward(m, pool, &ctx);
    else
        slow_forward_cached(m, pool, &ctx);
    if (ws->mode == RECURRENCE_SCAN) {
        if (fwp_scan_prepare(&ws->scan, ws->span, (size_t)m->na, (size_t)m->nb, (size_t)m->L, b->n,
                             ws->sp.at, ws->sp.bt, ws->sp.gate, ws->sp.u_of_month, w->rel_start))
            return FW_ENOMEM;
        pool_run(pool, FWP_SCAN_BLOCKS, scan_forward_task, &ctx);
        fwp_scan_forward_finish(&ws->scan, w->theta);
    }
    pool_run(pool, b->n, window_forward_task, &ctx);
    return FW_OK;
}

/* BatchNorm, dropout and the Linear head from h. */
static int forward_head(struct gqkan *m, const struct model_batch *b, int training,
                        struct model_run *run, double *out)
{
    struct workspace *ws = &m->ws;
    struct window_arrays *w = &ws->win;
    int rc;
    size_t n = b->n, f = (size_t)m->fout;
    if (m->use_bn) {
        if (training) {
            rc = batchnorm_forward_train(&m->bn, n, w->h, w->bn_out, w->xhat, ws->inv_std);
            if (rc)
                return rc;
        } else {
            batchnorm_forward_eval(&m->bn, n, w->h, w->bn_out);
        }
    } else {
        memcpy(w->bn_out, w->h, n * f * sizeof(double));
    }
    if (training && m->dropout > 0.0)
        dropout_forward(&run->dropout, m->dropout, n * f, w->bn_out, w->mask);
    linear_forward(run ? run->pool : NULL, n, m->fout, m->H, w->bn_out, m->wo, m->bo, out);
    m->input = b->input;
    m->have_forward = training;
    return FW_OK;
}

static int gqkan_forward(struct model *base, const struct model_batch *b, int training,
                         struct model_run *run, double *out)
{
    struct gqkan *m = (struct gqkan *)base;
    int rc = forward_body(m, b, training, run ? run->pool : NULL, 0);
    return rc ? rc : forward_head(m, b, training, run, out);
}

/* The fast programmer's circuits of every window go to the evaluator in one call (one remote
 * job for the whole batch); the model's own readout is applied to the P(0) it returns. */
static int gqkan_forward_quantum(struct model *base, const struct model_batch *b,
                                 const struct daruan_evaluator *ev, int *readout, double *out,
                                 fw_error *err)
{
    struct gqkan *m = (struct gqkan *)base;
    int rc = forward_body(m, b, 0, NULL, 1);
    if (rc)
        return rc;
    struct window_arrays *w = &m->ws.win;
    size_t per = (size_t)m->fout * (size_t)m->fin, nt = 2 * (size_t)(m->rf + 1);
    size_t total = per * b->n, na = (size_t)m->na, nb = (size_t)m->nb;
    double *theta = malloc(total * nt * sizeof *theta), *x = malloc(total * sizeof *x);
    double *p0 = malloc(total * sizeof *p0);
    if (!theta || !x || !p0) {
        free(theta), free(x), free(p0);
        return FW_ENOMEM;
    }
    struct thread_scratch *s = &m->ws.scratch[0];
    for (size_t k = 0; k < b->n; k++) {
        gather_edges(m, w->theta + k * na * nb, w->u + k * m->fin, s);
        memcpy(theta + k * per * nt, s->edge_theta, per * nt * sizeof *theta);
        memcpy(x + k * per, s->edge_x, per * sizeof *x);
    }
    rc = ev->p0(ev->ctx, total, m->rf, theta, x, p0, err);
    for (size_t k = 0; !rc && k < b->n; k++)
        for (int o = 0; o < m->fout; o++) {
            double sum = 0.0;
            for (int i = 0; i < m->fin; i++)
                sum += daruan_readout_from_p0(p0[k * per + (size_t)(o * m->fin + i)], m->readout);
            w->h[k * m->fout + o] = sum;
        }
    free(theta), free(x), free(p0);
    if (rc)
        return rc;
    *readout = (int)m->readout;
    return forward_head(m, b, 0, NULL, out);
}

/* ---- backward ---------------------------------------------------------------------------- */

/* Window k: the fast QKAN's gradient w.r.t. the programmed angles (G) and the prelinear, then
 * (per-window paths) its recursion's gradients. */
static void window_backward_task(void *arg, size_t k, int thread)
{
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct window_arrays *w = &m->ws.win;
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    const double *theta = w->theta + k * na * nb;
    const double *u = w->u + k * m->fin, *dh = w->dh + k * m->fout;
    struct thread_scratch *s = &m->ws.scratch[thread];
    double *G = w->G + k * na * nb, du[256];
    fast_backward(m, theta, u, dh, G, du, s);
    double x_last = m->input[w->starts[k] + L - 1];
    for (int i = 0; i < m->fin; i++) {
        w->dwp[k * m->fin + i] = du[i] * x_last;
        w->dbp[k * m->fin + i] = du[i];
    }
    if (m->ws.mode == RECURRENCE_SCAN)
        return;
    gather_window(m, k, s);
    double *dA = w->dA + k * L * na, *dB = w->dB + k * L * nb, *dG = w->dG + k * L;
    if (!m->kind.gated) {
        additive_backward(L, na, nb, s->a, s->b, G, dA, dB, dG);
    } else if (m->ws.mode == RECURRENCE_PARALLEL) {
        fwp_backward_parallel(L, na, nb, s->a, s->b, s->g, w->w + k * L, w->p + k * L, G, dA, dB,
                              dG, NULL);
    } else {
        /* recompute the states this window's forward did not keep */
        double *final = s->tmp + L * (na > nb ? na : nb), *lambda = final + na * nb;
        fwp_forward_sequential(L, na, nb, s->a, s->b, s->g, final, s->states);
        fwp_backward_sequential(L, na, nb, s->a, s->b, s->g, s->states, G, dA, dB, dG, lambda);
    }
}

/* Per-month recursion gradients of the span (mda, mdb, mdg), from the scan directly or from
 * the per-window arrays summed in window order. */
static void month_gradients(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
{
    struct workspace *ws = &m->ws;
    struct span_arrays *sp = &ws->sp;
    size_t na = (size_t)m->na, nb = (size_t)m->nb, L = (size_t)m->L;
    if (ws->mode == RECURRENCE_SCAN) {
        ws->scan.dtheta = ws->win.G;
        ws->scan.da = sp->mda;
        ws->scan.db = sp->mdb;
        ws->scan.dg = sp->mdg;
        pool_run(pool, FWP_SCAN_BLOCKS, scan_backward_task, ctx);
        fwp_scan_backward_finish(&ws->scan);
        return;
    }
    memset(sp->mda, 0, ws->span * na * sizeof(double));
    memset(sp->mdb, 0, ws->span * nb * sizeof(double));
    memset(sp->mdg, 0, ws->span * sizeof(double));
    for (size_t k = 0; k < ws->n; k++)
        for (size_t t = 0; t < L; t++) {
            size_t month = ws->win.rel_start[k] + t, row = k * L + t;
            for (size_t i = 0; i < na; i++)
                sp->mda[month * na + i] += ws->win.dA[row * na + i];
            for (size_t i = 0; i < nb; i++)
                sp->mdb[month * nb + i] += ws->win.dB[row * nb + i];
            sp->mdg[month] += ws->win.dG[row];
        }
}

/* Per-month gradients summed per distinct value, in month order; the gate's through its
 * sigmoid. */
static void value_gradients(struct gqkan *m)
{
    struct workspace *ws = &m->ws;
    struct span_arrays *sp = &ws->sp;
    size_t na = (size_t)m->na, nb = (size_t)m->nb, nu = ws->nu;
    memset(sp->dat, 0, nu * na * sizeof(double));
    memset(sp->dbt, 0, nu * nb * sizeof(double));
    memset(sp->dgt, 0, nu * sizeof(double));
    for (size_t t = 0; t < ws->span; t++) {
        size_t u = (size_t)sp->u_of_month[t];
        double *da = sp->dat + u * na, *db = sp->dbt + u * nb;
        const double *ma = sp->mda + t * na, *mb = sp->mdb + t * nb;
        for (size_t i = 0; i < na; i++)
            da[i] += ma[i];
        for (size_t i = 0; i < nb; i++)
            db[i] += mb[i];
        sp->dgt[u] += sp->mdg[t];
    }
    for (size_t u = 0; u < nu; u++)
        sp->dgt[u] *= sp->gate[u] * (1.0 - sp->gate[u]);
}

static void slow_qkan_backward_task(void *arg, size_t i, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct span_arrays *sp = &m->ws.sp;
    qkan_backward(&m->slow, &m->slow_work, m->ws.nu, sp->z, sp->silu, sp->dsilu, sp->dq,
                  m->ws.qkan_acc, sp->dz, (int)i, (int)i + 1);
}

/* From the per-value gradients of a, b and the gate logit down to the slow parameters. */
static void slow_backward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
{
    struct span_arrays *sp = &m->ws.sp;
    size_t nu = m->ws.nu;
    /* heads and gate: dW += d^T r, dr = d W */
    double *drt = sp->drt;
    linear_backward(pool, nu, m->dh, m->na, sp->rt, m->wa, sp->dat, grad_of(m, m->wa),
                    grad_of(m, m->ba), drt);
    linear_backward(pool, nu, m->dh, m->nb, sp->rt, m->wb, sp->dbt, grad_of(m, m->wb),
                    grad_of(m, m->bb), NULL);
    gemm_pool(pool, GEMM_N, GEMM_N, nu, m->dh, m->nb, 1.0, sp->dbt, m->nb, m->wb, m->dh, 1.0, drt,
              m->dh);
    if (m->kind.gated) {
        linear_backward(pool, nu, m->dh, 1, sp->rt, m->wg, sp->dgt, grad_of(m, m->wg),
                        grad_of(m, m->bg), NULL);
        for (size_t u = 0; u < nu; u++)
            for (int j = 0; j < m->dh; j++)
                drt[u * m->dh + j] += sp->dgt[u] * m->wg[j];
    }
    double *dw1 = grad_of(m, m->w1), *db1 = grad_of(m, m->b1);
    if (m->kind.slow == SLOW_LINEAR) { /* r = W1 x + b1 */
        for (int j = 0; j < m->dh; j++) {
            double sw = 0.0, sb = 0.0;
            for (size_t u = 0; u < nu; u++) {
                sw += drt[u * m->dh + j] * sp->uvals[u];
                sb += drt[u * m->dh + j];
            }
            dw1[j] += sw;
            db1[j] += sb;
        }
        return;
    }

    /* slow Linear 25->48: r = W2 q + b2 with q feature-major */
    double *dw2 = grad_of(m, m->w2), *db2 = grad_of(m, m->b2);
    gemm_pool(pool, GEMM_T, GEMM_T, m->dh, m->ds, nu, 1.0, drt, m->dh, sp->q, nu, 1.0, dw2, m->ds);
    for (size_t u = 0; u < nu; u++)
        for (int j = 0; j < m->dh; j++)
            db2[j] += drt[u * m->dh + j];
    /* dq (ds x nu) = W2^T dr^T */
    gemm_pool(pool, GEMM_T, GEMM_T, m->ds, nu, m->dh, 1.0, m->w2, m->ds, drt, m->dh, 0.0, sp->dq,
              nu);

    /* slow QKAN, split by input */
    memset(m->ws.qkan_acc, 0, qkan_accum_size(&m->slow) * sizeof(double));
    pool_run(pool, (size_t)m->ds, slow_qkan_backward_task, ctx);
    qkan_accum_to_grads(&m->slow, m->ws.qkan_acc);

    /* slow Linear 1->25 */
    for (int i = 0; i < m->ds; i++) {
        double sw = 0.0, sb = 0.0;
        for (size_t u = 0; u < nu; u++) {
            double d = sp->dz[(size_t)i * nu + u];
            sw += d * sp->uvals[u];
            sb += d;
        }
        dw1[i] += sw;
        db1[i] += sb;
    }
}

static int gqkan_backward(struct model *base, struct model_run *run, const double *dout)
{
    struct gqkan *m = (struct gqkan *)base;
    if (!m->have_forward)
        return FW_EINVAL;
    struct workspace *ws = &m->ws;
    struct window_arrays *w = &ws->win;
    struct pool *pool = run ? run->pool : NULL;
    size_t n = ws->n, f = (size_t)m->fout;
    struct task_ctx ctx = {m, m->input, 0};

    /* head: Linear, dropout, BatchNorm (bn_out is free once the Linear's backward has run) */
    linear_backward(pool, n, m->fout, m->H, w->bn_out, m->wo, dout, grad_of(m, m->wo),
                    grad_of(m, m->bo), w->dh);
    if (m->dropout > 0.0)
        dropout_backward(n * f, w->mask, w->dh);
    if (m->use_bn) {
        memcpy(w->bn_out, w->dh, n * f * sizeof(double));
        batchnorm_backward(&m->bn, n, w->bn_out, w->xhat, ws->inv_std, grad_of(m, m->gamma),
                           grad_of(m, m->beta), w->dh);
    }

    /* fast programmer per window, then the recursion */
    pool_run(pool, n, window_backward_task, &ctx);
    if (m->kind.fast != FAST_VQC) {
        double *dwp = grad_of(m, m->wp), *dbp = grad_of(m, m->bp);
        for (size_t k = 0; k < n; k++)
            for (int i = 0; i < m->fin; i++) {
                dwp[i] += w->dwp[k * m->fin + i];
                dbp[i] += w->dbp[k * m->fin + i];
            }
    }
    month_gradients(m, pool, &ctx);
    value_gradients(m);
    slow_backward(m, pool, &ctx);
    m->have_forward = 0;
    return FW_OK;
}

/* paper.md §1.1's family; the head (BatchNorm, dropout, Linear to the horizon) is shared. */
static int create_gqkan_qkanfwp(struct model_config *cfg, uint64_t seed, struct model **out,
                                fw_error *err)
{
    return create_variant(&gqkan_fwp_ops, (struct variant){SLOW_HQKAN, FAST_QKAN, 1, 48}, cfg, seed,
                          out, err);
}

static int create_gqkan_fwp_linear(struct model_config *cfg, uint64_t seed, struct model **out,
                                   fw_error *err)
{
    return create_variant(&gqkan_fwp_linear_ops, (struct variant){SLOW_HQKAN, FAST_LINEAR, 1, 48},
                          cfg, seed, out, err);
}

static int create_gqkanfwp(struct model_config *cfg, uint64_t seed, struct model **out,
                           fw_error *err)
{
    return create_variant(&gqkanfwp_ops, (struct variant){SLOW_LINEAR, FAST_QKAN, 1, 48}, cfg, seed,
                          out, err);
}

static int create_gqkan_qfwp(struct model_config *cfg, uint64_t seed, struct model **out,
                             fw_error *err)
{
    return create_variant(&gqkan_qfwp_ops, (struct variant){SLOW_HQKAN, FAST_VQC, 1, 48}, cfg, seed,
                          out, err);
}

static int create_qfwp(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    return create_variant(&qfwp_ops, (struct variant){SLOW_LINEAR, FAST_VQC, 0, 8}, cfg, seed, out,
                          err);
}

const struct model_ops gqkan_fwp_ops = {
    .name = "gated-qkan-fwp",
    .description = "Gated QKAN-FWP (GQKAN-QKANFWP): HQKAN slow programmer, gated rank-1 "
                   "fast-weight recursion, DARUAN fast QKAN; the paper's 12,474-parameter model",
    .create = create_gqkan_qkanfwp,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
    .forward_quantum = gqkan_forward_quantum,
};

const struct model_ops gqkanfwp_ops = {
    .name = "gqkanfwp",
    .description = "GQKANFWP: linear slow programmer, gated rank-1 recursion, DARUAN fast QKAN",
    .create = create_gqkanfwp,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
    .forward_quantum = gqkan_forward_quantum,
};

const struct model_ops gqkan_fwp_linear_ops = {
    .name = "gqkan-fwp",
    .description = "GQKAN-FWP: HQKAN slow programmer writing a gated rank-1 update of a plain "
                   "linear fast layer [W | b]",
    .create = create_gqkan_fwp_linear,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
};

const struct model_ops gqkan_qfwp_ops = {
    .name = "gqkan-qfwp",
    .description = "GQKAN-QFWP: HQKAN slow programmer writing gated rotation angles of an "
                   "8-qubit, depth-2 VQC fast programmer (statevector simulated)",
    .create = create_gqkan_qfwp,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
};

const struct model_ops qfwp_ops = {
    .name = "qfwp",
    .description = "QFWP (arXiv 2402.17760): linear slow programmer, ungated additive updates "
                   "of an 8-qubit, depth-2 VQC fast programmer (statevector simulated)",
    .create = create_qfwp,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
};
