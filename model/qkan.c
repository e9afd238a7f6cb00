/* qkan — QKAN layer: closed form for one repetition, reference circuits otherwise (qkan.h). */
#include "model/qkan.h"
#include "base/error.h"
#include "model/simd_math.h"

#include <stdlib.h>
#include <string.h>

/* Accumulator slots of the closed form, each n_edges long. */
enum { ACC_S0, ACC_SC, ACC_SS, ACC_SPHI, ACC_SPHIZ, ACC_SBASE, ACC_SLOTS };

/* Amplitudes below this carry no gradient (the authors' kernels guard |alpha| < 1e-30). */
#define AMP_EPS 1e-30

static size_t edge_count(const struct qkan_layer *l)
{
    return (size_t)l->n_in * (size_t)l->n_out;
}

size_t qkan_param_count(const struct qkan_layer *l)
{
    size_t e = edge_count(l);
    size_t n = e * 2 * (size_t)(l->reps + 1);
    if (l->has_base)
        n += e;
    if (l->has_preact)
        n += 2 * e * (size_t)l->reps;
    return n;
}

int qkan_work_init(struct qkan_work *w, const struct qkan_layer *l)
{
    memset(w, 0, sizeof *w);
    w->n_edges = edge_count(l);
    if (l->reps != 1)
        return FW_OK;
    double *block = calloc(5 * w->n_edges, sizeof *block);
    if (!block)
        return FW_ENOMEM;
    w->k0 = block;
    w->k1 = block + w->n_edges;
    w->k2 = block + 2 * w->n_edges;
    w->pw = block + 3 * w->n_edges;
    w->offset = block + 4 * w->n_edges;
    return FW_OK;
}

void qkan_work_free(struct qkan_work *w)
{
    if (w) {
        free(w->k0);
        memset(w, 0, sizeof *w);
    }
}

/*
 * With H|0>, RZ(t00) RY(t01), then RZ(phi) (the data rotation merged with the final RZ(t10)),
 * then RY(t11):
 *   P0 = 1/2 [1 - cos t11 sin t01 cos t00 - sin t11 cos t01 cos t00 cos phi
 *               + sin t11 sin t00 sin phi]
 */
void qkan_prepare(struct qkan_work *w, const struct qkan_layer *l)
{
    if (l->reps != 1)
        return;
    for (size_t e = 0; e < w->n_edges; e++) {
        const double *t = l->theta + 4 * e;
        double c00 = cos(t[0]), s00 = sin(t[0]), c01 = cos(t[1]), s01 = sin(t[1]);
        double c11 = cos(t[3]), s11 = sin(t[3]);
        w->k0[e] = 0.5 - 0.5 * c11 * s01 * c00;
        w->k1[e] = -0.5 * s11 * c01 * c00;
        w->k2[e] = 0.5 * s11 * s00;
        w->pw[e] = l->has_preact ? l->preact_w[e] : 1.0;
        w->offset[e] = (l->has_preact ? l->preact_b[e] : 0.0) + t[2];
    }
}

/* Rows are processed in blocks: first a loop of nothing but cos and sin (vectorised through
 * libmvec), then a call-free loop for the rest (vectorised with its selects if-converted). */
#define BLOCK 256

/* cos and sin of phi = pw * z + off for one block. */
static inline void block_cos_sin(size_t n, const double *restrict z, double pw, double off,
                                 double *restrict c, double *restrict s)
{
#pragma omp simd
    for (size_t v = 0; v < n; v++) {
        double phi = pw * z[v] + off;
        c[v] = cos(phi);
        s[v] = sin(phi);
    }
}

/* P(0) clamped against rounding just outside [0, 1]. */
static inline double clamp01(double p)
{
    p = p < 0.0 ? 0.0 : p;
    return p > 1.0 ? 1.0 : p;
}

/* One edge over all rows: o[v] += readout(P0(pw z[v] + off)). */
HOT_KERNEL static void edge_forward(int born, size_t n, const double *restrict z,
                                    double *restrict o, double pw, double off, double k0, double k1,
                                    double k2)
{
    double c[BLOCK], s[BLOCK];
    for (size_t v0 = 0; v0 < n; v0 += BLOCK) {
        size_t m = n - v0 < BLOCK ? n - v0 : BLOCK;
        block_cos_sin(m, z + v0, pw, off, c, s);
        double *ob = o + v0;
        if (born) {
#pragma omp simd
            for (size_t v = 0; v < m; v++)
                ob[v] += 2.0 * clamp01(k0 + k1 * c[v] + k2 * s[v]) - 1.0;
        } else {
#pragma omp simd
            for (size_t v = 0; v < m; v++) {
                double p0 = clamp01(k0 + k1 * c[v] + k2 * s[v]);
                ob[v] += sqrt(p0) - sqrt(1.0 - p0);
            }
        }
    }
}

static void forward_closed(const struct qkan_layer *l, const struct qkan_work *w, size_t n,
                           const double *in, const double *silu, double *out, int j_begin,
                           int j_end)
{
    const int born = l->readout == DARUAN_BORN;
    for (int j = j_begin; j < j_end; j++) {
        double *o = out + (size_t)j * n;
        memset(o, 0, n * sizeof *o);
        for (int i = 0; i < l->n_in; i++) {
            size_t e = (size_t)j * l->n_in + i;
            const double *z = in + (size_t)i * n;
            if (born)
                edge_forward(1, n, z, o, w->pw[e], w->offset[e], w->k0[e], w->k1[e], w->k2[e]);
            else
                edge_forward(0, n, z, o, w->pw[e], w->offset[e], w->k0[e], w->k1[e], w->k2[e]);
            if (l->has_base) {
                const double wb = l->base_weight[e], *sz = silu + (size_t)i * n;
#pragma omp simd
                for (size_t v = 0; v < n; v++)
                    o[v] += wb * sz[v];
            }
        }
    }
}

/* Per-edge sums the backward pass needs (see ACC_*). */
struct edge_sums {
    double s0, sc, ss, sphi, sphiz;
};

HOT_KERNEL static struct edge_sums edge_backward(int born, size_t n, const double *restrict z,
                                                 const double *restrict g, double *restrict dz,
                                                 double pw, double off, double k0, double k1,
                                                 double k2)
{
    double c[BLOCK], s[BLOCK];
    double s0 = 0, sc = 0, ss = 0, sphi = 0, sphiz = 0;
    for (size_t v0 = 0; v0 < n; v0 += BLOCK) {
        size_t m = n - v0 < BLOCK ? n - v0 : BLOCK;
        block_cos_sin(m, z + v0, pw, off, c, s);
        const double *zb = z + v0, *gb = g + v0;
        double *dzb = dz + v0;
#pragma omp simd reduction(+ : s0, sc, ss, sphi, sphiz)
        for (size_t v = 0; v < m; v++) {
            double p0 = clamp01(k0 + k1 * c[v] + k2 * s[v]);
            double slope;
            if (born) {
                slope = 2.0;
            } else {
                /* d(sqrt p - sqrt(1-p))/dp; amplitudes below AMP_EPS carry no gradient */
                double ra = sqrt(p0), rb = sqrt(1.0 - p0);
                double ia = 0.5 / (ra < AMP_EPS ? 1.0 : ra), ib = 0.5 / (rb < AMP_EPS ? 1.0 : rb);
                slope = (ra < AMP_EPS ? 0.0 : ia) + (rb < AMP_EPS ? 0.0 : ib);
            }
            double gp = gb[v] * slope;
            double dphi = gp * (k2 * c[v] - k1 * s[v]);
            s0 += gp;
            sc += gp * c[v];
            ss += gp * s[v];
            sphi += dphi;
            sphiz += dphi * zb[v];
            dzb[v] += dphi * pw;
        }
    }
    return (struct edge_sums){s0, sc, ss, sphi, sphiz};
}

static void backward_closed(const struct qkan_layer *l, const struct qkan_work *w, size_t n,
                            const double *in, const double *silu, const double *dsilu,
                            const double *dout, double *acc, double *din, int i_begin, int i_end)
{
    const int born = l->readout == DARUAN_BORN;
    const size_t ne = w->n_edges;
    for (int i = i_begin; i < i_end; i++) {
        const double *z = in + (size_t)i * n;
        double *dz = din + (size_t)i * n;
        memset(dz, 0, n * sizeof *dz);
        for (int j = 0; j < l->n_out; j++) {
            size_t e = (size_t)j * l->n_in + i;
            const double *g = dout + (size_t)j * n;
            struct edge_sums sums = born ? edge_backward(1, n, z, g, dz, w->pw[e], w->offset[e],
                                                         w->k0[e], w->k1[e], w->k2[e])
                                         : edge_backward(0, n, z, g, dz, w->pw[e], w->offset[e],
                                                         w->k0[e], w->k1[e], w->k2[e]);
            double sbase = 0;
            if (l->has_base) {
                const double wb = l->base_weight[e], *silu_z = silu + (size_t)i * n;
                const double *dsilu_z = dsilu + (size_t)i * n;
#pragma omp simd reduction(+ : sbase)
                for (size_t v = 0; v < n; v++) {
                    sbase += g[v] * silu_z[v];
                    dz[v] += g[v] * wb * dsilu_z[v];
                }
            }
            acc[ACC_S0 * ne + e] += sums.s0;
            acc[ACC_SC * ne + e] += sums.sc;
            acc[ACC_SS * ne + e] += sums.ss;
            acc[ACC_SPHI * ne + e] += sums.sphi;
            acc[ACC_SPHIZ * ne + e] += sums.sphiz;
            acc[ACC_SBASE * ne + e] += sbase;
        }
    }
}

/* Reference path for any number of repetitions: the circuit of daruan.c, edge by edge. */
static struct daruan_edge edge_of(const struct qkan_layer *l, size_t e)
{
    size_t r = (size_t)l->reps;
    return (struct daruan_edge){l->reps, l->theta + e * 2 * (r + 1),
                                l->has_preact ? l->preact_w + e * r : NULL,
                                l->has_preact ? l->preact_b + e * r : NULL};
}

static void forward_reference(const struct qkan_layer *l, size_t n, const double *in,
                              const double *silu, double *out, int j_begin, int j_end)
{
    for (int j = j_begin; j < j_end; j++) {
        double *o = out + (size_t)j * n;
        memset(o, 0, n * sizeof *o);
        for (int i = 0; i < l->n_in; i++) {
            size_t e = (size_t)j * l->n_in + i;
            struct daruan_edge edge = edge_of(l, e);
            const double *z = in + (size_t)i * n;
            for (size_t v = 0; v < n; v++) {
                o[v] += daruan_forward(&edge, z[v], l->readout);
                if (l->has_base)
                    o[v] += l->base_weight[e] * silu[(size_t)i * n + v];
            }
        }
    }
}

/* Reference accumulator layout: the parameter-gradient layout (theta, base, pw, pb). */
static void backward_reference(const struct qkan_layer *l, size_t n, const double *in,
                               const double *silu, const double *dsilu, const double *dout,
                               double *acc, double *din, int i_begin, int i_end)
{
    size_t ne = edge_count(l), r = (size_t)l->reps;
    double *dtheta = acc, *dbase = acc + ne * 2 * (r + 1);
    double *dpw = dbase + (l->has_base ? ne : 0), *dpb = dpw + ne * r;
    for (int i = i_begin; i < i_end; i++) {
        const double *z = in + (size_t)i * n;
        double *dz = din + (size_t)i * n;
        memset(dz, 0, n * sizeof *dz);
        for (int j = 0; j < l->n_out; j++) {
            size_t e = (size_t)j * l->n_in + i;
            struct daruan_edge edge = edge_of(l, e);
            const double *g = dout + (size_t)j * n;
            for (size_t v = 0; v < n; v++) {
                double dx = 0;
                daruan_backward(&edge, z[v], l->readout, g[v], dtheta + e * 2 * (r + 1),
                                l->has_preact ? dpw + e * r : NULL,
                                l->has_preact ? dpb + e * r : NULL, &dx);
                if (l->has_base) {
                    dbase[e] += g[v] * silu[(size_t)i * n + v];
                    dx += g[v] * l->base_weight[e] * dsilu[(size_t)i * n + v];
                }
                dz[v] += dx;
            }
        }
    }
}

void qkan_silu_rows(size_t n, const double *in, double *silu, double *dsilu, int i_begin, int i_end)
{
    for (int i = i_begin; i < i_end; i++) {
        const double *z = in + (size_t)i * n;
        double *s_out = silu + (size_t)i * n, *d_out = dsilu ? dsilu + (size_t)i * n : NULL;
#pragma omp simd
        for (size_t v = 0; v < n; v++) {
            double s = 1.0 / (1.0 + exp(-z[v]));
            s_out[v] = z[v] * s;
            if (d_out)
                d_out[v] = s * (1.0 + z[v] * (1.0 - s));
        }
    }
}

void qkan_forward(const struct qkan_layer *l, const struct qkan_work *w, size_t n, const double *in,
                  const double *silu, double *out, int j_begin, int j_end)
{
    if (l->reps == 1)
        forward_closed(l, w, n, in, silu, out, j_begin, j_end);
    else
        forward_reference(l, n, in, silu, out, j_begin, j_end);
}

size_t qkan_accum_size(const struct qkan_layer *l)
{
    return l->reps == 1 ? ACC_SLOTS * edge_count(l) : qkan_param_count(l);
}

void qkan_backward(const struct qkan_layer *l, const struct qkan_work *w, size_t n,
                   const double *in, const double *silu, const double *dsilu, const double *dout,
                   double *acc, double *din, int i_begin, int i_end)
{
    if (l->reps == 1)
        backward_closed(l, w, n, in, silu, dsilu, dout, acc, din, i_begin, i_end);
    else
        backward_reference(l, n, in, silu, dsilu, dout, acc, din, i_begin, i_end);
}

void qkan_accum_to_grads(const struct qkan_layer *l, const double *acc)
{
    size_t ne = edge_count(l);
    if (l->reps != 1) {
        size_t r = (size_t)l->reps, nt = ne * 2 * (r + 1);
        for (size_t k = 0; k < nt; k++)
            l->d_theta[k] += acc[k];
        const double *p = acc + nt;
        if (l->has_base) {
            for (size_t e = 0; e < ne; e++)
                l->d_base_weight[e] += p[e];
            p += ne;
        }
        if (l->has_preact) {
            for (size_t k = 0; k < ne * r; k++) {
                l->d_preact_w[k] += p[k];
                l->d_preact_b[k] += p[ne * r + k];
            }
        }
        return;
    }
    for (size_t e = 0; e < ne; e++) {
        const double *t = l->theta + 4 * e;
        double c00 = cos(t[0]), s00 = sin(t[0]), c01 = cos(t[1]), s01 = sin(t[1]);
        double c11 = cos(t[3]), s11 = sin(t[3]);
        double g0 = acc[ACC_S0 * ne + e], g1 = acc[ACC_SC * ne + e], g2 = acc[ACC_SS * ne + e];
        double sphi = acc[ACC_SPHI * ne + e];
        /* dK/dt for K0 = 1/2 - 1/2 c11 s01 c00, K1 = -1/2 s11 c01 c00, K2 = 1/2 s11 s00 */
        double d00 = g0 * 0.5 * c11 * s01 * s00 + g1 * 0.5 * s11 * c01 * s00 + g2 * 0.5 * s11 * c00;
        double d01 = -g0 * 0.5 * c11 * c01 * c00 + g1 * 0.5 * s11 * s01 * c00;
        double d11 = g0 * 0.5 * s11 * s01 * c00 - g1 * 0.5 * c11 * c01 * c00 + g2 * 0.5 * c11 * s00;
        double *dt = l->d_theta + 4 * e;
        dt[0] += d00;
        dt[1] += d01;
        dt[2] += sphi;
        dt[3] += d11;
        if (l->has_base)
            l->d_base_weight[e] += acc[ACC_SBASE * ne + e];
        if (l->has_preact) {
            l->d_preact_w[e] += acc[ACC_SPHIZ * ne + e];
            l->d_preact_b[e] += sphi;
        }
    }
}
