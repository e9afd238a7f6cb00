/* gqkan_fwp — the gated QKAN-FWP solar model (see gqkan_fwp.h). */
#include "model/gqkan_fwp.h"
#include "model/daruan.h"
#include "model/fwp.h"
#include "model/layers.h"
#include "model/qkan.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RECURRENCE_PARALLEL, RECURRENCE_SEQUENTIAL };

/* Per-thread scratch for the per-window work. */
struct thread_scratch {
    double *a, *b, *g;    /* gathered rows: L x na, L x nb, L */
    double *tmp;          /* L x max(na, nb) */
    double *states;       /* sequential recurrence: L x na x nb */
    double *da, *db, *dg; /* sequential backward outputs before the copy */
};

struct workspace {
    size_t n_cap, nu_cap, span_cap;
    int threads;
    /* the batch's distinct values */
    size_t nu, span, lo;
    int *u_of_month;          /* span: index into uvals, -1 if not covered */
    double *uvals;            /* nu */
    double *z, *silu, *dsilu; /* ds x nu */
    double *q;                /* ds x nu */
    double *rt;               /* nu x dh */
    double *at, *bt, *gate;   /* nu x na, nu x nb, nu */
    /* per window */
    double *w, *p;                          /* n x L */
    double *theta;                          /* n x na x nb */
    double *u;                              /* n x fin: fast QKAN inputs */
    double *h;                              /* n x fout: fast QKAN outputs */
    double *bn_out, *xhat, *inv_std, *mask; /* n x fout, fout, n x fout */
    double *dh;                             /* n x fout */
    double *dA, *dB, *dG; /* n x L x na, n x L x nb, n x L: per-window recursion grads */
    double *dwp, *dbp;    /* n x fin */
    /* occurrences of each distinct value, as CSR over (window, step) */
    size_t *occ_start;  /* nu + 1 */
    size_t *occ_cursor; /* nu */
    size_t *occ;        /* n x L: window * L + step */
    /* slow backward */
    double *dat, *dbt, *dgt; /* nu x na, nu x nb, nu */
    double *drt;             /* nu x dh */
    double *dq, *dz;         /* ds x nu */
    double *qkan_acc;
    struct thread_scratch *scratch;
};

struct gqkan {
    struct model base;
    int L, H, ds, dh, fin, fout, rs, rf, na, nb;
    int use_bn, recurrence;
    enum daruan_readout readout;
    double dropout, gate_bias;
    /* parameter views */
    double *w1, *b1, *w2, *b2, *wa, *ba, *wb, *bb, *wg, *bg, *wp, *bp, *gamma, *beta, *wo, *bo;
    struct qkan_layer slow;
    struct qkan_work slow_work;
    struct batchnorm bn;
    /* the last training forward, for backward */
    const struct model_batch *batch;
    size_t batch_n;
    size_t *starts_copy;
    const double *input;
    int have_forward;
    struct workspace ws;
};

static double *grad_of(struct gqkan *m, const double *param)
{
    return m->base.grads + (param - m->base.params);
}

/* ---- construction ------------------------------------------------------------------------ */

static int read_options(struct gqkan *m, struct model_config *cfg, fw_error *err)
{
    static const char *const readouts[] = {"amplitude", "born", NULL};
    static const char *const recurrences[] = {"parallel", "sequential", NULL};
    long v[9];
    int readout, rc;
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &v[0], err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &v[1], err)) ||
        (rc = config_int(cfg, "slow_dim", 25, 1, 512, &v[2], err)) ||
        (rc = config_int(cfg, "hidden", 48, 1, 1024, &v[3], err)) ||
        (rc = config_int(cfg, "fast_in", 10, 1, 256, &v[4], err)) ||
        (rc = config_int(cfg, "fast_out", 20, 1, 256, &v[5], err)) ||
        (rc = config_int(cfg, "slow_reps", 1, 1, DARUAN_MAX_REPS, &v[6], err)) ||
        (rc = config_int(cfg, "fast_reps", 2, 1, DARUAN_MAX_REPS, &v[7], err)) ||
        (rc = config_int(cfg, "batchnorm", 1, 0, 1, &v[8], err)) ||
        (rc = config_choice(cfg, "readout", readouts, 0, &readout, err)) ||
        (rc = config_choice(cfg, "recurrence", recurrences, 0, &m->recurrence, err)) ||
        (rc = config_real(cfg, "dropout", 0.3, 0.0, 0.95, &m->dropout, err)) ||
        (rc = config_real(cfg, "gate_bias", 2.0, -20.0, 20.0, &m->gate_bias, err)))
        return rc;
    m->L = (int)v[0], m->H = (int)v[1], m->ds = (int)v[2], m->dh = (int)v[3];
    m->fin = (int)v[4], m->fout = (int)v[5], m->rs = (int)v[6], m->rf = (int)v[7];
    m->use_bn = (int)v[8];
    m->readout = (enum daruan_readout)readout;
    m->na = m->fout * (m->rf + 1);
    m->nb = m->fin * 2;
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
    /* In the authors' state_dict order (paper.md appendix). */
    struct tensor_info t[] = {
        TR("Slow Linear 1->25", "fwp_cell.slow_program_encoder.0.weight", 2, ds, 1),
        TR("Slow Linear 1->25", "fwp_cell.slow_program_encoder.0.bias", 1, ds),
        TR("Slow QKAN theta", "fwp_cell.slow_program_encoder.1.layers.0.theta", 4, ds, ds, rs + 1,
           2),
        TR("Slow QKAN w_base", "fwp_cell.slow_program_encoder.1.layers.0.base_weight", 2, ds, ds),
        TR("Slow QKAN p_w", "fwp_cell.slow_program_encoder.1.layers.0.preacts_weight", 3, ds, ds,
           rs),
        TR("Slow QKAN p_b", "fwp_cell.slow_program_encoder.1.layers.0.preacts_bias", 3, ds, ds, rs),
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.postact_weights", 1.0, 2, ds, ds),
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.postact_bias", 0.0, 2, ds, ds),
        FROZEN("fwp_cell.slow_program_encoder.1.layers.0.mask", 1.0, 2, ds, ds),
        TR("Slow Linear 25->48", "fwp_cell.slow_program_encoder.2.weight", 2, dh, ds),
        TR("Slow Linear 25->48", "fwp_cell.slow_program_encoder.2.bias", 1, dh),
        TR("theta-head A", "fwp_cell.theta_head_A.weight", 2, m->na, dh),
        TR("theta-head A", "fwp_cell.theta_head_A.bias", 1, m->na),
        TR("theta-head B", "fwp_cell.theta_head_B.weight", 2, m->nb, dh),
        TR("theta-head B", "fwp_cell.theta_head_B.bias", 1, m->nb),
        TR("Gate", "fwp_cell.fast_gate.weight", 2, 1, dh),
        TR("Gate", "fwp_cell.fast_gate.bias", 1, 1),
        TR("prelinear", "fwp_cell.prelinear.weight", 2, fi, 1),
        TR("prelinear", "fwp_cell.prelinear.bias", 1, fi),
        /* the fast QKAN's own theta is always overridden by the programmed angles */
        UNUSED("fwp_cell.qkan_layer.layers.0.theta", 4, fo, fi, rf + 1, 2),
        FROZEN("fwp_cell.qkan_layer.layers.0.base_weight", 0.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.preacts_weight", 1.0, 3, fo, fi, rf),
        FROZEN("fwp_cell.qkan_layer.layers.0.preacts_bias", 0.0, 3, fo, fi, rf),
        FROZEN("fwp_cell.qkan_layer.layers.0.postact_weights", 1.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.postact_bias", 0.0, 2, fo, fi),
        FROZEN("fwp_cell.qkan_layer.layers.0.mask", 1.0, 2, fo, fi),
        TR("BatchNorm1d", "batch_norm.weight", 1, fo),
        TR("BatchNorm1d", "batch_norm.bias", 1, fo),
        BUF("batch_norm.running_mean", 1, fo),
        BUF("batch_norm.running_var", 1, fo),
        BUF("batch_norm.num_batches_tracked", 0, 0),
        TR("Output Linear", "output_layer.weight", 2, m->H, fo),
        TR("Output Linear", "output_layer.bias", 1, m->H),
    };
    size_t count = sizeof t / sizeof t[0];
    if (!m->use_bn) {
        /* without BatchNorm there are no BN tensors at all */
        size_t k = 0;
        for (size_t i = 0; i < count; i++)
            if (strncmp(t[i].name, "batch_norm.", 11))
                t[k++] = t[i];
        count = k;
    }
    return model_alloc_tensors(&m->base, t, count);
}

static void bind_views(struct gqkan *m)
{
    struct model *b = &m->base;
#define P(name) model_tensor_data(b, name)
    m->w1 = P("fwp_cell.slow_program_encoder.0.weight");
    m->b1 = P("fwp_cell.slow_program_encoder.0.bias");
    m->w2 = P("fwp_cell.slow_program_encoder.2.weight");
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
    struct qkan_layer *s = &m->slow;
    *s = (struct qkan_layer){.n_in = m->ds,
                             .n_out = m->ds,
                             .reps = m->rs,
                             .has_base = 1,
                             .has_preact = 1,
                             .readout = m->readout};
    s->theta = P("fwp_cell.slow_program_encoder.1.layers.0.theta");
    s->base_weight = P("fwp_cell.slow_program_encoder.1.layers.0.base_weight");
    s->preact_w = P("fwp_cell.slow_program_encoder.1.layers.0.preacts_weight");
    s->preact_b = P("fwp_cell.slow_program_encoder.1.layers.0.preacts_bias");
    s->d_theta = grad_of(m, s->theta);
    s->d_base_weight = grad_of(m, s->base_weight);
    s->d_preact_w = grad_of(m, s->preact_w);
    s->d_preact_b = grad_of(m, s->preact_b);
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
    model_init_linear(&r, m->w1, m->b1, 1, ds);
    /* Xavier normal on the 4-D theta: fan = n * 2(R+1) on each side */
    size_t nt = (size_t)ds * ds * 2 * (size_t)(m->rs + 1);
    double fan = (double)ds * 2 * (m->rs + 1);
    double std = sqrt(2.0 / (fan + fan));
    for (size_t k = 0; k < nt; k++)
        m->slow.theta[k] = std * rng_normal(&r);
    for (int k = 0; k < ds * ds; k++)
        m->slow.base_weight[k] = 0.5;
    for (int k = 0; k < ds * ds * m->rs; k++) {
        m->slow.preact_w[k] = 1.0;
        m->slow.preact_b[k] = 0.0;
    }
    model_init_linear(&r, m->w2, m->b2, ds, dh);
    model_init_linear(&r, m->wa, m->ba, dh, m->na);
    model_init_linear(&r, m->wb, m->bb, dh, m->nb);
    model_init_linear(&r, m->wg, m->bg, dh, 1);
    m->bg[0] = m->gate_bias;
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

static void free_workspace(struct workspace *ws)
{
    if (ws->scratch) {
        for (int t = 0; t < ws->threads; t++) {
            struct thread_scratch *s = &ws->scratch[t];
            free(s->a), free(s->b), free(s->g), free(s->tmp), free(s->states);
            free(s->da), free(s->db), free(s->dg);
        }
    }
    free(ws->scratch);
    double **arrays[] = {
        &ws->uvals,   &ws->z,    &ws->silu, &ws->dsilu, &ws->q,  &ws->rt, &ws->at,      &ws->bt,
        &ws->gate,    &ws->w,    &ws->p,    &ws->theta, &ws->u,  &ws->h,  &ws->bn_out,  &ws->xhat,
        &ws->inv_std, &ws->mask, &ws->dh,   &ws->dA,    &ws->dB, &ws->dG, &ws->dwp,     &ws->dbp,
        &ws->dat,     &ws->dbt,  &ws->dgt,  &ws->drt,   &ws->dq, &ws->dz, &ws->qkan_acc};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(*arrays[i]);
    free(ws->u_of_month);
    free(ws->occ_start);
    free(ws->occ_cursor);
    free(ws->occ);
    memset(ws, 0, sizeof *ws);
}

static void gqkan_destroy(struct model *base)
{
    struct gqkan *m = (struct gqkan *)base;
    if (!m)
        return;
    free_workspace(&m->ws);
    qkan_work_free(&m->slow_work);
    free(m->starts_copy);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

static void gqkan_params_changed(struct model *base)
{
    struct gqkan *m = (struct gqkan *)base;
    qkan_prepare(&m->slow_work, &m->slow);
    m->have_forward = 0;
}

static int gqkan_create(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    struct gqkan *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = &gqkan_fwp_ops;
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
    rc = qkan_work_init(&m->slow_work, &m->slow);
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

static int ensure_workspace(struct gqkan *m, size_t n, size_t span, int threads)
{
    struct workspace *ws = &m->ws;
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    size_t nu = span; /* distinct values never exceed the covered months */
    if (ws->span_cap >= span) {
        if (ws->n_cap < n)
            goto per_window;
        if (ws->threads < threads)
            goto per_thread;
        return FW_OK;
    }
    ALLOC(ws->u_of_month, span);
    ALLOC(ws->uvals, nu);
    ALLOC(ws->z, (size_t)m->ds * nu);
    ALLOC(ws->silu, (size_t)m->ds * nu);
    ALLOC(ws->dsilu, (size_t)m->ds * nu);
    ALLOC(ws->q, (size_t)m->ds * nu);
    ALLOC(ws->rt, nu * m->dh);
    ALLOC(ws->at, nu * na);
    ALLOC(ws->bt, nu * nb);
    ALLOC(ws->gate, nu);
    ALLOC(ws->occ_start, nu + 1);
    ALLOC(ws->occ_cursor, nu);
    ALLOC(ws->dat, nu * na);
    ALLOC(ws->dbt, nu * nb);
    ALLOC(ws->dgt, nu);
    ALLOC(ws->drt, nu * m->dh);
    ALLOC(ws->dq, (size_t)m->ds * nu);
    ALLOC(ws->dz, (size_t)m->ds * nu);
    ALLOC(ws->qkan_acc, qkan_accum_size(&m->slow));
    ws->span_cap = span;
    ws->nu_cap = nu;
    if (ws->n_cap >= n && ws->threads >= threads)
        return FW_OK;
per_window:
    n = n > ws->n_cap ? n : ws->n_cap;
    ALLOC(ws->w, n * L);
    ALLOC(ws->p, n * L);
    ALLOC(ws->theta, n * na * nb);
    ALLOC(ws->u, n * m->fin);
    ALLOC(ws->h, n * m->fout);
    ALLOC(ws->bn_out, n * m->fout);
    ALLOC(ws->xhat, n * m->fout);
    ALLOC(ws->inv_std, (size_t)m->fout);
    ALLOC(ws->mask, n * m->fout);
    ALLOC(ws->dh, n * m->fout);
    ALLOC(ws->dA, n * L * na);
    ALLOC(ws->dB, n * L * nb);
    ALLOC(ws->dG, n * L);
    ALLOC(ws->dwp, n * m->fin);
    ALLOC(ws->dbp, n * m->fin);
    ALLOC(ws->occ, n * L);
    ws->n_cap = n;
    if (ws->threads >= threads)
        return FW_OK;
per_thread:
    if (ws->scratch) {
        for (int t = 0; t < ws->threads; t++) {
            struct thread_scratch *s = &ws->scratch[t];
            free(s->a), free(s->b), free(s->g), free(s->tmp), free(s->states);
            free(s->da), free(s->db), free(s->dg);
        }
        free(ws->scratch);
    }
    ws->threads = 0;
    ws->scratch = calloc((size_t)threads, sizeof *ws->scratch);
    if (!ws->scratch)
        return FW_ENOMEM;
    ws->threads = threads;
    for (int t = 0; t < threads; t++) {
        struct thread_scratch *s = &ws->scratch[t];
        size_t wide = na > nb ? na : nb;
        ALLOC(s->a, L * na);
        ALLOC(s->b, L * nb);
        ALLOC(s->g, L);
        ALLOC(s->tmp, L * wide + 4 * na * nb);
        if (m->recurrence == RECURRENCE_SEQUENTIAL)
            ALLOC(s->states, L * na * nb);
    }
    return FW_OK;
}

/* ---- forward ----------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Finds the batch's distinct values and maps every covered month to one. */
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
    ws->lo = lo;
    ws->span = span;
    for (size_t i = 0; i < span; i++)
        ws->u_of_month[i] = -1;
    for (size_t k = 0; k < b->n; k++)
        for (size_t t = 0; t < (size_t)m->L; t++)
            ws->u_of_month[b->starts[k] - lo + t] = 0;
    size_t count = 0;
    for (size_t i = 0; i < span; i++)
        if (ws->u_of_month[i] == 0)
            ws->uvals[count++] = b->input[lo + i];
    for (size_t i = 0; i < count; i++)
        if (!isfinite(ws->uvals[i]))
            return FW_EINVAL;
    qsort(ws->uvals, count, sizeof *ws->uvals, cmp_double);
    size_t nu = 0;
    for (size_t i = 0; i < count; i++)
        if (nu == 0 || ws->uvals[i] != ws->uvals[nu - 1])
            ws->uvals[nu++] = ws->uvals[i];
    ws->nu = nu;
    for (size_t i = 0; i < span; i++) {
        if (ws->u_of_month[i] < 0)
            continue;
        double v = b->input[lo + i];
        const double *hit = bsearch(&v, ws->uvals, nu, sizeof v, cmp_double);
        ws->u_of_month[i] = (int)(hit - ws->uvals);
    }
    return FW_OK;
}

struct task_ctx {
    struct gqkan *m;
    const struct model_batch *b;
    int training;
};

static void slow_qkan_forward_task(void *arg, size_t j, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    qkan_forward(&m->slow, &m->slow_work, m->ws.nu, m->ws.z, m->ws.silu, m->ws.q, (int)j,
                 (int)j + 1);
}

/* The slow programmer for every distinct value: r, then a, b and the gate. */
static void slow_forward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
{
    struct workspace *ws = &m->ws;
    size_t nu = ws->nu;
    for (int i = 0; i < m->ds; i++)
        for (size_t u = 0; u < nu; u++)
            ws->z[(size_t)i * nu + u] = m->w1[i] * ws->uvals[u] + m->b1[i];
    qkan_silu_rows(nu, ws->z, ws->silu, ws->dsilu, 0, m->ds);
    pool_run(pool, (size_t)m->ds, slow_qkan_forward_task, ctx);
    /* r^T (nu x dh) = q^T W2^T + b2 */
    for (size_t u = 0; u < nu; u++)
        memcpy(ws->rt + u * m->dh, m->b2, (size_t)m->dh * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)nu, m->dh, m->ds, 1.0, ws->q, (int)nu,
                m->w2, m->ds, 1.0, ws->rt, m->dh);
    linear_forward(nu, m->dh, m->na, ws->rt, m->wa, m->ba, ws->at);
    linear_forward(nu, m->dh, m->nb, ws->rt, m->wb, m->bb, ws->bt);
    linear_forward(nu, m->dh, 1, ws->rt, m->wg, m->bg, ws->gate);
    for (size_t u = 0; u < nu; u++)
        ws->gate[u] = 1.0 / (1.0 + exp(-ws->gate[u]));
}

/* Rows of A, B and g for window k, in time order. */
static void gather_window(struct gqkan *m, size_t start, struct thread_scratch *s)
{
    struct workspace *ws = &m->ws;
    size_t na = (size_t)m->na, nb = (size_t)m->nb;
    for (size_t t = 0; t < (size_t)m->L; t++) {
        size_t u = (size_t)ws->u_of_month[start - ws->lo + t];
        memcpy(s->a + t * na, ws->at + u * na, na * sizeof(double));
        memcpy(s->b + t * nb, ws->bt + u * nb, nb * sizeof(double));
        s->g[t] = ws->gate[u];
    }
}

/* Angles of fast edge (o, i) from the programmed theta (na x nb = [o][r] x [i][k]). */
static void edge_angles(const struct gqkan *m, const double *theta, int o, int i, double *angles)
{
    for (int r = 0; r <= m->rf; r++)
        for (int k = 0; k < 2; k++)
            angles[2 * r + k] = theta[(size_t)(o * (m->rf + 1) + r) * m->nb + 2 * i + k];
}

static void window_forward_task(void *arg, size_t k, int thread)
{
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct workspace *ws = &m->ws;
    struct thread_scratch *s = &ws->scratch[thread];
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    size_t start = c->b->starts[k];
    double *theta = ws->theta + k * na * nb;
    gather_window(m, start, s);
    if (m->recurrence == RECURRENCE_PARALLEL)
        fwp_forward_parallel(L, na, nb, s->a, s->b, s->g, theta, ws->w + k * L, ws->p + k * L,
                             s->tmp);
    else
        fwp_forward_sequential(L, na, nb, s->a, s->b, s->g, theta, NULL);
    /* fast QKAN on the last month */
    double x_last = c->b->input[start + L - 1];
    double *u = ws->u + k * m->fin, *h = ws->h + k * m->fout;
    for (int i = 0; i < m->fin; i++)
        u[i] = m->wp[i] * x_last + m->bp[i];
    double angles[2 * (DARUAN_MAX_REPS + 1)];
    for (int o = 0; o < m->fout; o++) {
        double sum = 0.0;
        for (int i = 0; i < m->fin; i++) {
            edge_angles(m, theta, o, i, angles);
            struct daruan_edge e = {m->rf, angles, NULL, NULL};
            sum += daruan_forward(&e, u[i], m->readout);
        }
        h[o] = sum;
    }
}

static int gqkan_forward(struct model *base, const struct model_batch *b, int training,
                         struct model_run *run, double *out)
{
    struct gqkan *m = (struct gqkan *)base;
    if (b->n == 0)
        return FW_EINVAL;
    if (training && m->use_bn && b->n < 2)
        return FW_EINVAL;
    struct pool *pool = run ? run->pool : NULL;
    int rc = index_values(m, b, pool_threads(pool));
    if (rc)
        return rc;
    struct workspace *ws = &m->ws;
    struct task_ctx ctx = {m, b, training};
    slow_forward(m, pool, &ctx);
    pool_run(pool, b->n, window_forward_task, &ctx);

    size_t n = b->n, f = (size_t)m->fout;
    double *head_in = ws->bn_out;
    if (m->use_bn) {
        if (training) {
            rc = batchnorm_forward_train(&m->bn, n, ws->h, ws->bn_out, ws->xhat, ws->inv_std);
            if (rc)
                return rc;
        } else {
            batchnorm_forward_eval(&m->bn, n, ws->h, ws->bn_out);
        }
    } else {
        memcpy(ws->bn_out, ws->h, n * f * sizeof(double));
    }
    if (training && m->dropout > 0.0)
        dropout_forward(&run->dropout, m->dropout, n * f, head_in, ws->mask);
    linear_forward(n, m->fout, m->H, head_in, m->wo, m->bo, out);

    m->have_forward = training;
    if (training) {
        m->batch_n = n;
        m->input = b->input;
        free(m->starts_copy);
        m->starts_copy = malloc(n * sizeof *m->starts_copy);
        if (!m->starts_copy)
            return FW_ENOMEM;
        memcpy(m->starts_copy, b->starts, n * sizeof *m->starts_copy);
    }
    return FW_OK;
}

/* ---- backward ---------------------------------------------------------------------------- */

static void window_backward_task(void *arg, size_t k, int thread)
{
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct workspace *ws = &m->ws;
    struct thread_scratch *s = &ws->scratch[thread];
    size_t L = (size_t)m->L, na = (size_t)m->na, nb = (size_t)m->nb;
    size_t start = m->starts_copy[k];
    const double *theta = ws->theta + k * na * nb;
    const double *u = ws->u + k * m->fin, *dh = ws->dh + k * m->fout;
    double *G = s->tmp + L * (na > nb ? na : nb); /* na x nb */
    memset(G, 0, na * nb * sizeof(double));
    double du[256] = {0};
    double angles[2 * (DARUAN_MAX_REPS + 1)], dangles[2 * (DARUAN_MAX_REPS + 1)];
    for (int o = 0; o < m->fout; o++) {
        for (int i = 0; i < m->fin; i++) {
            edge_angles(m, theta, o, i, angles);
            memset(dangles, 0, sizeof dangles);
            struct daruan_edge e = {m->rf, angles, NULL, NULL};
            daruan_backward(&e, u[i], m->readout, dh[o], dangles, NULL, NULL, &du[i]);
            for (int r = 0; r <= m->rf; r++)
                for (int kk = 0; kk < 2; kk++)
                    G[(size_t)(o * (m->rf + 1) + r) * nb + 2 * i + kk] += dangles[2 * r + kk];
        }
    }
    double x_last = m->input[start + L - 1];
    for (int i = 0; i < m->fin; i++) {
        ws->dwp[k * m->fin + i] = du[i] * x_last;
        ws->dbp[k * m->fin + i] = du[i];
    }
    gather_window(m, start, s);
    double *dA = ws->dA + k * L * na, *dB = ws->dB + k * L * nb, *dG = ws->dG + k * L;
    if (m->recurrence == RECURRENCE_PARALLEL) {
        fwp_backward_parallel(L, na, nb, s->a, s->b, s->g, ws->w + k * L, ws->p + k * L, G, dA, dB,
                              dG, NULL);
    } else {
        /* recompute the states this window's forward did not keep */
        double *final = G + na * nb, *lambda = final + na * nb;
        fwp_forward_sequential(L, na, nb, s->a, s->b, s->g, final, s->states);
        fwp_backward_sequential(L, na, nb, s->a, s->b, s->g, s->states, G, dA, dB, dG, lambda);
    }
}

/* Occurrences of every distinct value as (window, step), grouped by value in a fixed order, so
 * the per-value sums below are deterministic whatever the thread count. */
static void build_occurrences(struct gqkan *m)
{
    struct workspace *ws = &m->ws;
    size_t nu = ws->nu, n = m->batch_n, L = (size_t)m->L;
    memset(ws->occ_start, 0, (nu + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++)
        for (size_t t = 0; t < L; t++)
            ws->occ_start[ws->u_of_month[m->starts_copy[k] - ws->lo + t] + 1]++;
    for (size_t u = 0; u < nu; u++)
        ws->occ_start[u + 1] += ws->occ_start[u];
    size_t *cursor = ws->occ_cursor;
    memcpy(cursor, ws->occ_start, nu * sizeof *cursor);
    for (size_t k = 0; k < n; k++)
        for (size_t t = 0; t < L; t++) {
            size_t u = (size_t)ws->u_of_month[m->starts_copy[k] - ws->lo + t];
            ws->occ[cursor[u]++] = k * L + t;
        }
}

#define SCATTER_TASKS 16

static void scatter_task(void *arg, size_t task, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct workspace *ws = &m->ws;
    size_t nu = ws->nu, na = (size_t)m->na, nb = (size_t)m->nb;
    size_t u0 = nu * task / SCATTER_TASKS, u1 = nu * (task + 1) / SCATTER_TASKS;
    for (size_t u = u0; u < u1; u++) {
        double *da = ws->dat + u * na, *db = ws->dbt + u * nb;
        double dg = 0.0;
        memset(da, 0, na * sizeof(double));
        memset(db, 0, nb * sizeof(double));
        for (size_t o = ws->occ_start[u]; o < ws->occ_start[u + 1]; o++) {
            size_t row = ws->occ[o];
            const double *sa = ws->dA + row * na, *sb = ws->dB + row * nb;
            for (size_t i = 0; i < na; i++)
                da[i] += sa[i];
            for (size_t i = 0; i < nb; i++)
                db[i] += sb[i];
            dg += ws->dG[row];
        }
        /* through the sigmoid to the gate pre-activation */
        ws->dgt[u] = dg * ws->gate[u] * (1.0 - ws->gate[u]);
    }
}

static void slow_qkan_backward_task(void *arg, size_t i, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct workspace *ws = &m->ws;
    qkan_backward(&m->slow, &m->slow_work, ws->nu, ws->z, ws->silu, ws->dsilu, ws->dq, ws->qkan_acc,
                  ws->dz, (int)i, (int)i + 1);
}

static int gqkan_backward(struct model *base, struct model_run *run, const double *dout)
{
    struct gqkan *m = (struct gqkan *)base;
    if (!m->have_forward)
        return FW_EINVAL;
    struct workspace *ws = &m->ws;
    struct pool *pool = run ? run->pool : NULL;
    size_t n = m->batch_n, nu = ws->nu, f = (size_t)m->fout;
    struct task_ctx ctx = {m, NULL, 1};

    /* head: Linear, dropout, BatchNorm */
    double *dd = ws->dh; /* d(head input), then dh in place */
    linear_backward(n, m->fout, m->H, ws->bn_out, m->wo, dout, grad_of(m, m->wo), grad_of(m, m->bo),
                    dd);
    if (m->dropout > 0.0)
        dropout_backward(n * f, ws->mask, dd);
    if (m->use_bn) {
        double *tmp = ws->bn_out; /* no longer needed */
        memcpy(tmp, dd, n * f * sizeof(double));
        batchnorm_backward(&m->bn, n, tmp, ws->xhat, ws->inv_std, grad_of(m, m->gamma),
                           grad_of(m, m->beta), ws->dh);
    }

    /* fast programmer and recursion, per window */
    pool_run(pool, n, window_backward_task, &ctx);
    double *dwp = grad_of(m, m->wp), *dbp = grad_of(m, m->bp);
    for (size_t k = 0; k < n; k++)
        for (int i = 0; i < m->fin; i++) {
            dwp[i] += ws->dwp[k * m->fin + i];
            dbp[i] += ws->dbp[k * m->fin + i];
        }

    /* gather the per-step gradients per distinct value */
    build_occurrences(m);
    pool_run(pool, SCATTER_TASKS, scatter_task, &ctx);

    /* heads and gate: dW += d^T r, dr = d W */
    double *drt = ws->drt;
    linear_backward(nu, m->dh, m->na, ws->rt, m->wa, ws->dat, grad_of(m, m->wa), grad_of(m, m->ba),
                    drt);
    linear_backward(nu, m->dh, m->nb, ws->rt, m->wb, ws->dbt, grad_of(m, m->wb), grad_of(m, m->bb),
                    NULL);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nu, m->dh, m->nb, 1.0, ws->dbt,
                m->nb, m->wb, m->dh, 1.0, drt, m->dh);
    linear_backward(nu, m->dh, 1, ws->rt, m->wg, ws->dgt, grad_of(m, m->wg), grad_of(m, m->bg),
                    NULL);
    for (size_t u = 0; u < nu; u++)
        for (int j = 0; j < m->dh; j++)
            drt[u * m->dh + j] += ws->dgt[u] * m->wg[j];

    /* slow Linear 25->48: r = W2 q + b2 with q feature-major */
    double *dw2 = grad_of(m, m->w2), *db2 = grad_of(m, m->b2);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, m->dh, m->ds, (int)nu, 1.0, drt, m->dh,
                ws->q, (int)nu, 1.0, dw2, m->ds);
    for (size_t u = 0; u < nu; u++)
        for (int j = 0; j < m->dh; j++)
            db2[j] += drt[u * m->dh + j];
    /* dq (ds x nu) = W2^T dr^T */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, m->ds, (int)nu, m->dh, 1.0, m->w2, m->ds,
                drt, m->dh, 0.0, ws->dq, (int)nu);

    /* slow QKAN, split by input */
    memset(ws->qkan_acc, 0, qkan_accum_size(&m->slow) * sizeof(double));
    pool_run(pool, (size_t)m->ds, slow_qkan_backward_task, &ctx);
    qkan_accum_to_grads(&m->slow, ws->qkan_acc);

    /* slow Linear 1->25 */
    double *dw1 = grad_of(m, m->w1), *db1 = grad_of(m, m->b1);
    for (int i = 0; i < m->ds; i++) {
        double sw = 0.0, sb = 0.0;
        for (size_t u = 0; u < nu; u++) {
            double d = ws->dz[(size_t)i * nu + u];
            sw += d * ws->uvals[u];
            sb += d;
        }
        dw1[i] += sw;
        db1[i] += sb;
    }
    m->have_forward = 0;
    return FW_OK;
}

const struct model_ops gqkan_fwp_ops = {
    .name = "gated-qkan-fwp",
    .description = "Gated QKAN-FWP (GQKAN-QKANFWP): HQKAN slow programmer, gated rank-1 "
                   "fast-weight recursion, DARUAN fast QKAN; the paper's 12,474-parameter model",
    .create = gqkan_create,
    .destroy = gqkan_destroy,
    .forward = gqkan_forward,
    .backward = gqkan_backward,
    .params_changed = gqkan_params_changed,
};
