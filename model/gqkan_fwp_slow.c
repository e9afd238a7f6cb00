/* gqkan_fwp_slow — the slow programmer of the gated family (gqkan_fwp_internal.h): it depends
 * only on a month's value, so it runs once per distinct value of a batch (padded to whole
 * vectors), with an evaluation cache of its outputs while the weights stay the same; and its
 * backward pass from the per-value gradients of the write heads and the gate. */
#include "model/gemm.h"
#include "model/gqkan_fwp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Finds the batch's span of months and their distinct values, and maps every month of the span
 * to its value's index. */
int gqkan_index_values(struct gqkan *m, const struct model_batch *b, int threads)
{
    size_t lo = b->starts[0], hi = b->starts[0];
    for (size_t k = 0; k < b->n; k++) {
        lo = b->starts[k] < lo ? b->starts[k] : lo;
        hi = b->starts[k] > hi ? b->starts[k] : hi;
    }
    size_t span = hi - lo + (size_t)m->L;
    int rc = gqkan_ensure_workspace(m, b->n, span, threads);
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

static void slow_qkan_forward_task(void *arg, size_t j, int thread)
{
    (void)thread;
    struct task_ctx *c = arg;
    struct gqkan *m = c->m;
    struct span_arrays *sp = &m->ws.sp;
    qkan_forward(&m->slow, &m->slow_work, m->ws.nu, sp->z, sp->silu, sp->q, (int)j, (int)j + 1);
}

/* The slow programmer for every distinct value: r, then a, b and the gate (1 when ungated). */
void gqkan_slow_forward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
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

void gqkan_memo_clear(struct slow_memo *memo)
{
    if (memo) {
        memo->count = 0;
        memset(memo->used, 0, sizeof memo->used);
    }
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
void gqkan_slow_forward_cached(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
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
            gqkan_slow_forward(m, pool, ctx); /* no cache, same numbers */
            return;
        }
    }
    struct slow_memo *memo = m->memo;
    if (memo->count + nu > MEMO_SLOTS / 2)
        gqkan_memo_clear(memo);
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
        gqkan_slow_forward(m, pool, ctx);
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

/* Per-month gradients summed per distinct value, in month order; the gate's through its
 * sigmoid. */
void gqkan_value_gradients(struct gqkan *m)
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
void gqkan_slow_backward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx)
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
