/* gqkan_fwp_pass — the forward and backward passes of the gated family
 * (gqkan_fwp_internal.h): the slow programmer, the recursion (the batch scan, or per window the
 * closed form, the step-by-step recursion or QFWP's additive update), the fast programmer per
 * window as pool tasks, then BatchNorm, dropout and the Linear head; the quantum forward that
 * sends every window's circuits to an evaluator in one call. */
#include "model/gemm.h"
#include "model/gqkan_fwp_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- forward ----------------------------------------------------------------------------- */

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
        gqkan_fast_forward(m, theta, u, w->h + k * m->fout, s);
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
    int rc = gqkan_index_values(m, b, pool_threads(pool));
    if (rc)
        return rc;
    struct workspace *ws = &m->ws;
    struct window_arrays *w = &ws->win;
    struct task_ctx ctx = {m, b->input, defer_fast};
    /* The batch scan is for training; evaluation runs each window on its own, so a window's
     * forecast does not depend (even in rounding) on the other windows it is batched with. */
    ws->mode = m->recurrence == RECURRENCE_SCAN && !training ? RECURRENCE_PARALLEL : m->recurrence;
    if (training)
        gqkan_slow_forward(m, pool, &ctx);
    else
        gqkan_slow_forward_cached(m, pool, &ctx);
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

int gqkan_forward(struct model *base, const struct model_batch *b, int training,
                  struct model_run *run, double *out)
{
    struct gqkan *m = (struct gqkan *)base;
    int rc = forward_body(m, b, training, run ? run->pool : NULL, 0);
    return rc ? rc : forward_head(m, b, training, run, out);
}

/* The fast programmer's circuits of every window go to the evaluator in one call (one remote
 * job for the whole batch); the model's own readout is applied to the P(0) it returns. */
int gqkan_forward_quantum(struct model *base, const struct model_batch *b,
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
        gqkan_gather_edges(m, w->theta + k * na * nb, w->u + k * m->fin, s);
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
    gqkan_fast_backward(m, theta, u, dh, G, du, s);
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

int gqkan_backward(struct model *base, struct model_run *run, const double *dout)
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
    gqkan_value_gradients(m);
    gqkan_slow_backward(m, pool, &ctx);
    m->have_forward = 0;
    return FW_OK;
}
