/* fwp — gated fast-weight recursion, sequential and closed form (see fwp.h). */
#include "model/fwp.h"
#include "model/gemm.h"
#include "model/simd_math.h"

#include <string.h>

void fwp_weights(size_t L, const double *g, double *w, double *p)
{
    double prod = 1.0;
    for (size_t t = L; t-- > 0;) {
        p[t] = prod;
        w[t] = (1.0 - g[t]) * prod;
        prod *= g[t];
        if (prod < FWP_TINY)
            prod = 0.0;
    }
}

void fwp_forward_sequential(size_t L, size_t na, size_t nb, const double *a, const double *b,
                            const double *g, double *theta, double *states)
{
    size_t n = na * nb;
    memset(theta, 0, n * sizeof *theta);
    for (size_t t = 0; t < L; t++) {
        const double *at = a + t * na, *bt = b + t * nb;
        double keep = g[t], write = 1.0 - g[t];
        for (size_t i = 0; i < na; i++)
            for (size_t k = 0; k < nb; k++)
                theta[i * nb + k] = keep * theta[i * nb + k] + write * at[i] * bt[k];
        if (states)
            memcpy(states + t * n, theta, n * sizeof *theta);
    }
}

void fwp_forward_parallel(size_t L, size_t na, size_t nb, const double *a, const double *b,
                          const double *g, double *theta, double *w, double *p, double *scratch)
{
    fwp_weights(L, g, w, p);
    for (size_t t = 0; t < L; t++)
        for (size_t i = 0; i < na; i++)
            scratch[t * na + i] = w[t] * a[t * na + i];
    /* theta (na x nb) = (diag(w) A)^T B */
    gemm(GEMM_T, GEMM_N, na, nb, L, 1.0, scratch, na, b, nb, 0.0, theta, nb);
}

void fwp_backward_parallel(size_t L, size_t na, size_t nb, const double *a, const double *b,
                           const double *g, const double *w, const double *p, const double *dtheta,
                           double *da, double *db, double *dg, double *scratch)
{
    (void)scratch;
    /* da_t = w_t G b_t: first B G^T (L x na) into da, unscaled */
    gemm(GEMM_N, GEMM_T, L, na, nb, 1.0, b, nb, dtheta, nb, 0.0, da, na);
    /* db_t = w_t G^T a_t: A G (L x nb) */
    gemm(GEMM_N, GEMM_N, L, nb, na, 1.0, a, na, dtheta, nb, 0.0, db, nb);
    /* c_t = a_t^T G b_t; S_t = g_t S_{t-1} + (1-g_t) c_t; dg_t = P_t (S_{t-1} - c_t) */
    double s_prev = 0.0;
    for (size_t t = 0; t < L; t++) {
        double *dat = da + t * na, *dbt = db + t * nb;
        const double *at = a + t * na;
        double c = 0.0;
        for (size_t i = 0; i < na; i++)
            c += at[i] * dat[i];
        dg[t] = p[t] * (s_prev - c);
        s_prev = g[t] * s_prev + (1.0 - g[t]) * c;
        for (size_t i = 0; i < na; i++)
            dat[i] *= w[t];
        for (size_t k = 0; k < nb; k++)
            dbt[k] *= w[t];
    }
}

void fwp_backward_sequential(size_t L, size_t na, size_t nb, const double *a, const double *b,
                             const double *g, const double *states, const double *dtheta,
                             double *da, double *db, double *dg, double *scratch)
{
    size_t n = na * nb;
    double *lambda = scratch; /* dLoss/dtheta_t */
    memcpy(lambda, dtheta, n * sizeof *lambda);
    for (size_t t = L; t-- > 0;) {
        const double *at = a + t * na, *bt = b + t * nb;
        const double *prev = t > 0 ? states + (t - 1) * n : NULL;
        double write = 1.0 - g[t], dgt = 0.0;
        for (size_t i = 0; i < na; i++) {
            double acc = 0.0;
            for (size_t k = 0; k < nb; k++) {
                double l = lambda[i * nb + k];
                acc += l * bt[k];
                dgt += l * ((prev ? prev[i * nb + k] : 0.0) - at[i] * bt[k]);
            }
            da[t * na + i] = write * acc;
        }
        for (size_t k = 0; k < nb; k++) {
            double acc = 0.0;
            for (size_t i = 0; i < na; i++)
                acc += lambda[i * nb + k] * at[i];
            db[t * nb + k] = write * acc;
        }
        dg[t] = dgt;
        for (size_t j = 0; j < n; j++)
            lambda[j] *= g[t];
    }
}

/* ---- the batch scan ------------------------------------------------------------------------ */

#include <stdlib.h>

static void *grow(void *old, size_t count, size_t size)
{
    free(old);
    return malloc((count ? count : 1) * size);
}

int fwp_scan_prepare(struct fwp_scan *s, size_t T, size_t na, size_t nb, size_t L, size_t n,
                     const double *a, const double *b, const double *g, const int *row,
                     const size_t *start)
{
    size_t m = na * nb;
    if (T > s->cap_T || n > s->cap_n || na * nb != s->na * s->nb) {
        size_t cap_T = T > s->cap_T ? T : s->cap_T, cap_n = n > s->cap_n ? n : s->cap_n;
        size_t cap_ckpt = (cap_T + FWP_SCAN_CHECKPOINT - 1) / FWP_SCAN_CHECKPOINT;
        s->prod = grow(s->prod, cap_n, sizeof(double));
        s->snap_end = grow(s->snap_end, cap_n * m, sizeof(double));
        s->snap_before = grow(s->snap_before, cap_n * m, sizeof(double));
        s->ckpt = grow(s->ckpt, cap_ckpt * m, sizeof(double));
        s->seg = grow(s->seg, FWP_SCAN_CHECKPOINT * m, sizeof(double));
        s->db_part = grow(s->db_part, FWP_SCAN_BLOCKS * cap_T * nb, sizeof(double));
        s->dg_part = grow(s->dg_part, FWP_SCAN_BLOCKS * cap_T, sizeof(double));
        s->lambda = grow(s->lambda, m, sizeof(double));
        s->event_start = grow(s->event_start, cap_T + 1, sizeof(size_t));
        s->event_fill = grow(s->event_fill, cap_T + 1, sizeof(size_t));
        s->events = grow(s->events, 2 * cap_n, sizeof(size_t));
        if (!s->prod || !s->snap_end || !s->snap_before || !s->ckpt || !s->seg || !s->db_part ||
            !s->dg_part || !s->lambda || !s->event_start || !s->event_fill || !s->events) {
            fwp_scan_free(s);
            return -1;
        }
        s->cap_T = cap_T;
        s->cap_n = cap_n;
    }
    s->T = T, s->na = na, s->nb = nb, s->L = L, s->n = n;
    s->a = a, s->b = b, s->g = g, s->row = row, s->start = start;
    /* events grouped by step, in window order: a counting sort */
    memset(s->event_start, 0, (T + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++) {
        s->event_start[start[k] + L - 1 + 1]++;
        if (start[k] > 0)
            s->event_start[start[k] - 1 + 1]++;
    }
    for (size_t t = 0; t < T; t++)
        s->event_start[t + 1] += s->event_start[t];
    size_t *fill = s->event_fill;
    memcpy(fill, s->event_start, (T + 1) * sizeof *fill);
    for (size_t k = 0; k < n; k++) {
        s->events[fill[start[k] + L - 1]++] = 2 * k;
        if (start[k] > 0)
            s->events[fill[start[k] - 1]++] = 2 * k + 1;
    }
    /* P_k */
    for (size_t k = 0; k < n; k++) {
        double p = 1.0;
        for (size_t t = start[k]; t < start[k] + L; t++) {
            p *= g[row[t]];
            if (p < FWP_TINY)
                p = 0.0;
        }
        s->prod[k] = p;
    }
    return 0;
}

void fwp_scan_free(struct fwp_scan *s)
{
    if (!s)
        return;
    free(s->prod), free(s->snap_end), free(s->snap_before), free(s->ckpt), free(s->seg);
    free(s->db_part), free(s->dg_part), free(s->lambda), free(s->event_start), free(s->events);
    free(s->event_fill);
    memset(s, 0, sizeof *s);
}

static void block_rows(const struct fwp_scan *s, size_t block, size_t *r0, size_t *r1)
{
    *r0 = s->na * block / FWP_SCAN_BLOCKS;
    *r1 = s->na * (block + 1) / FWP_SCAN_BLOCKS;
}

/* One step of the recursion on rows [r0, r1) of theta (full na x nb layout). */
static inline void scan_step(const struct fwp_scan *s, size_t t, size_t r0, size_t r1,
                             double *theta)
{
    const size_t nb = s->nb;
    const double *at = s->a + (size_t)s->row[t] * s->na, *bt = s->b + (size_t)s->row[t] * nb;
    const double keep = s->g[s->row[t]], write = 1.0 - keep;
    for (size_t i = r0; i < r1; i++) {
        double *th = theta + i * nb;
        const double w = write * at[i];
#pragma omp simd
        for (size_t k = 0; k < nb; k++)
            th[k] = keep * th[k] + w * bt[k];
    }
}

static void copy_rows(const struct fwp_scan *s, size_t r0, size_t r1, double *dst,
                      const double *src)
{
    memcpy(dst + r0 * s->nb, src + r0 * s->nb, (r1 - r0) * s->nb * sizeof(double));
}

HOT_KERNEL void fwp_scan_forward_block(struct fwp_scan *s, size_t block)
{
    size_t r0, r1, m = s->na * s->nb;
    block_rows(s, block, &r0, &r1);
    double *theta = s->seg; /* the running state, rows [r0, r1) (seg is free until backward) */
    memset(theta + r0 * s->nb, 0, (r1 - r0) * s->nb * sizeof(double));
    for (size_t t = 0; t < s->T; t++) {
        if (t % FWP_SCAN_CHECKPOINT == 0)
            copy_rows(s, r0, r1, s->ckpt + (t / FWP_SCAN_CHECKPOINT) * m, theta);
        scan_step(s, t, r0, r1, theta);
        for (size_t e = s->event_start[t]; e < s->event_start[t + 1]; e++) {
            size_t k = s->events[e] / 2;
            double *snap = (s->events[e] & 1 ? s->snap_before : s->snap_end) + k * m;
            copy_rows(s, r0, r1, snap, theta);
        }
    }
}

void fwp_scan_forward_finish(struct fwp_scan *s, double *theta)
{
    size_t m = s->na * s->nb;
    for (size_t k = 0; k < s->n; k++) {
        const double *end = s->snap_end + k * m, *before = s->snap_before + k * m;
        double *out = theta + k * m;
        if (s->start[k] == 0) {
            memcpy(out, end, m * sizeof(double));
            continue;
        }
        const double p = s->prod[k];
        for (size_t j = 0; j < m; j++)
            out[j] = end[j] - p * before[j];
    }
}

HOT_KERNEL void fwp_scan_backward_block(struct fwp_scan *s, size_t block)
{
    const size_t na = s->na, nb = s->nb, m = na * nb, T = s->T, CK = FWP_SCAN_CHECKPOINT;
    size_t r0, r1;
    block_rows(s, block, &r0, &r1);
    double *lambda = s->lambda, *seg = s->seg;
    double *db_part = s->db_part + block * T * nb, *dg_part = s->dg_part + block * T;
    memset(lambda + r0 * nb, 0, (r1 - r0) * nb * sizeof(double));
    size_t n_seg = (T + CK - 1) / CK;
    for (size_t c = n_seg; c-- > 0;) {
        size_t t0 = c * CK, t1 = t0 + CK < T ? t0 + CK : T;
        /* recompute Theta(t0 .. t1-1) for these rows from the checkpoint before t0 */
        const double *ck = s->ckpt + c * m;
        for (size_t t = t0; t < t1; t++) {
            double *state = seg + (t - t0) * m;
            copy_rows(s, r0, r1, state, t == t0 ? ck : seg + (t - t0 - 1) * m);
            scan_step(s, t, r0, r1, state);
        }
        for (size_t t = t1; t-- > t0;) {
            /* adjoints injected at this step by the windows that end here or start after it */
            for (size_t e = s->event_start[t]; e < s->event_start[t + 1]; e++) {
                size_t k = s->events[e] / 2;
                const double *G = s->dtheta + k * m;
                double coef = s->events[e] & 1 ? -s->prod[k] : 1.0;
                for (size_t j = r0 * nb; j < r1 * nb; j++)
                    lambda[j] += coef * G[j];
            }
            const double *prev = t == t0 ? ck : seg + (t - t0 - 1) * m;
            const double *at = s->a + (size_t)s->row[t] * na, *bt = s->b + (size_t)s->row[t] * nb;
            const double keep = s->g[s->row[t]], write = 1.0 - keep;
            double *dbt = db_part + t * nb, *da = s->da + t * na;
            double dot_prev = 0.0, dot_write = 0.0;
            memset(dbt, 0, nb * sizeof(double));
            for (size_t i = r0; i < r1; i++) {
                double *li = lambda + i * nb;
                const double *pi = prev + i * nb;
                double lb = 0.0, lp = 0.0;
#pragma omp simd reduction(+ : lb, lp)
                for (size_t k = 0; k < nb; k++) {
                    lb += li[k] * bt[k];
                    lp += li[k] * pi[k];
                }
                da[i] = write * lb;
                dot_prev += lp;
                dot_write += at[i] * lb;
                const double wa = write * at[i];
#pragma omp simd
                for (size_t k = 0; k < nb; k++) {
                    dbt[k] += wa * li[k];
                    li[k] *= keep;
                }
            }
            dg_part[t] = dot_prev - dot_write;
        }
    }
}

void fwp_scan_backward_finish(struct fwp_scan *s)
{
    const size_t nb = s->nb, T = s->T, m = s->na * s->nb;
    for (size_t t = 0; t < T; t++) {
        double *dbt = s->db + t * nb;
        double dg = 0.0;
        memset(dbt, 0, nb * sizeof(double));
        for (size_t blk = 0; blk < FWP_SCAN_BLOCKS; blk++) {
            const double *part = s->db_part + (blk * T + t) * nb;
            for (size_t k = 0; k < nb; k++)
                dbt[k] += part[k];
            dg += s->dg_part[blk * T + t];
        }
        s->dg[t] = dg;
    }
    /* d theta_k / d P_k = -Theta(s_k - 1), and dP_k / dg_t = P_k / g_t for t in window k */
    for (size_t k = 0; k < s->n; k++) {
        if (s->start[k] == 0 || s->prod[k] == 0.0)
            continue;
        const double *G = s->dtheta + k * m, *before = s->snap_before + k * m;
        double dp = 0.0;
        for (size_t j = 0; j < m; j++)
            dp -= G[j] * before[j];
        const double c = dp * s->prod[k];
        for (size_t t = s->start[k]; t < s->start[k] + s->L; t++)
            s->dg[t] += c / s->g[s->row[t]];
    }
}
