/* gqkan_fwp — the gated QKAN-FWP solar model and its family (see gqkan_fwp.h): options,
 * tensors in the authors' order, initialisation, the workspace, the registry entries. The
 * passes are in gqkan_fwp_pass.c, the slow and fast programmers in gqkan_fwp_slow.c and
 * gqkan_fwp_fast.c (gqkan_fwp_internal.h). */
#include "model/gqkan_fwp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static void gqkan_params_changed(struct model *base)
{
    struct gqkan *m = (struct gqkan *)base;
    if (m->kind.slow == SLOW_HQKAN)
        qkan_prepare(&m->slow_work, &m->slow);
    gqkan_memo_clear(m->memo);
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

int gqkan_ensure_workspace(struct gqkan *m, size_t n, size_t span, int threads)
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

/* ---- the registry ------------------------------------------------------------------------ */

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
