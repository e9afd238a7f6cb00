/* daruan — single-qubit DARUAN simulation with analytic gradients (see daruan.h). Every gate is
 * applied from the cosine and sine of its half angle; the reference path computes them gate by
 * gate, the batch path for all gates of many edges at once in one vectorised loop. */
#include "model/daruan.h"
#include "model/simd_math.h"

#include <math.h>

/* A single-qubit state: two complex amplitudes as (re, im) pairs. */
struct qstate {
    double ar, ai, br, bi;
};

enum { GATE_RZ, GATE_RY };

struct gate {
    int kind;
    double c, s;     /* cos and sin of half the angle */
    int theta_index; /* index into theta, or -1 for a data rotation */
    int rep;         /* for a data rotation: which repetition */
};

/* RZ(phi): alpha *= e^{-i phi/2}, beta *= e^{+i phi/2}; adjoint: phi -> -phi. */
static void apply_rz(struct qstate *st, double c, double s)
{
    double ar = st->ar * c + st->ai * s, ai = st->ai * c - st->ar * s;
    double br = st->br * c - st->bi * s, bi = st->bi * c + st->br * s;
    st->ar = ar, st->ai = ai, st->br = br, st->bi = bi;
}

/* RY(b) = [[c, -s], [s, c]]; adjoint: s -> -s. */
static void apply_ry(struct qstate *st, double c, double s)
{
    double ar = c * st->ar - s * st->br, ai = c * st->ai - s * st->bi;
    double br = s * st->ar + c * st->br, bi = s * st->ai + c * st->bi;
    st->ar = ar, st->ai = ai, st->br = br, st->bi = bi;
}

static void apply_gate(struct qstate *st, const struct gate *g, int adjoint)
{
    double s = adjoint ? -g->s : g->s;
    if (g->kind == GATE_RZ)
        apply_rz(st, g->c, s);
    else
        apply_ry(st, g->c, s);
}

static double encoded(const struct daruan_edge *e, int l, double x)
{
    return e->pw ? e->pw[l] * x + e->pb[l] : x;
}

/* The angles of an edge's gates, in circuit order, with their kinds and sources. */
static int gate_layout(int reps, struct gate *gates)
{
    int n = 0;
    for (int l = 0; l < reps; l++) {
        gates[n++] = (struct gate){GATE_RZ, 0, 0, 2 * l, -1};
        gates[n++] = (struct gate){GATE_RY, 0, 0, 2 * l + 1, -1};
        gates[n++] = (struct gate){GATE_RZ, 0, 0, -1, l};
    }
    gates[n++] = (struct gate){GATE_RZ, 0, 0, 2 * reps, -1};
    gates[n++] = (struct gate){GATE_RY, 0, 0, 2 * reps + 1, -1};
    return n;
}

static double gate_angle(const struct daruan_edge *e, const struct gate *g, double x)
{
    return g->theta_index >= 0 ? e->theta[g->theta_index] : encoded(e, g->rep, x);
}

static int build_gates(const struct daruan_edge *e, double x, struct gate *gates)
{
    int n = gate_layout(e->reps, gates);
    for (int k = 0; k < n; k++) {
        double half = 0.5 * gate_angle(e, &gates[k], x);
        gates[k].c = cos(half);
        gates[k].s = sin(half);
    }
    return n;
}

static struct qstate initial_state(void)
{
    double h = 1.0 / sqrt(2.0); /* H|0> */
    return (struct qstate){h, 0.0, h, 0.0};
}

static struct qstate run_circuit(const struct gate *gates, int n)
{
    struct qstate st = initial_state();
    for (int k = 0; k < n; k++)
        apply_gate(&st, &gates[k], 0);
    return st;
}

double daruan_readout_from_p0(double p0, enum daruan_readout readout)
{
    if (p0 < 0.0)
        p0 = 0.0;
    if (p0 > 1.0)
        p0 = 1.0;
    return readout == DARUAN_BORN ? 2.0 * p0 - 1.0 : sqrt(p0) - sqrt(1.0 - p0);
}

static double readout_value(const struct qstate *st, enum daruan_readout readout)
{
    double pa = st->ar * st->ar + st->ai * st->ai, pb = st->br * st->br + st->bi * st->bi;
    return readout == DARUAN_BORN ? pa - pb : sqrt(pa) - sqrt(pb);
}

double daruan_p0(const struct daruan_edge *edge, double x)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    struct qstate st = run_circuit(gates, build_gates(edge, x, gates));
    return st.ar * st.ar + st.ai * st.ai;
}

double daruan_forward(const struct daruan_edge *edge, double x, enum daruan_readout readout)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    struct qstate st = run_circuit(gates, build_gates(edge, x, gates));
    return readout_value(&st, readout);
}

/* d(readout)/d(conj state), scaled so that dy/dp = Re(lambda^dagger dpsi/dp). The kernels'
 * guard: an amplitude below 1e-30 contributes no gradient. */
static struct qstate readout_cotangent(const struct qstate *st, enum daruan_readout readout)
{
    if (readout == DARUAN_BORN)
        return (struct qstate){2 * st->ar, 2 * st->ai, -2 * st->br, -2 * st->bi};
    double na = sqrt(st->ar * st->ar + st->ai * st->ai);
    double nb = sqrt(st->br * st->br + st->bi * st->bi);
    double ia = na < 1e-30 ? 0.0 : 1.0 / na, ib = nb < 1e-30 ? 0.0 : 1.0 / nb;
    return (struct qstate){st->ar * ia, st->ai * ia, -st->br * ib, -st->bi * ib};
}

/* Re(lambda^dagger v) */
static double re_inner(const struct qstate *l, const struct qstate *v)
{
    return l->ar * v->ar + l->ai * v->ai + l->br * v->br + l->bi * v->bi;
}

/* dU/dangle psi for RZ, given the state after the gate: diag(-i/2, +i/2) U psi. */
static struct qstate rz_derivative(const struct qstate *after)
{
    return (struct qstate){0.5 * after->ai, -0.5 * after->ar, -0.5 * after->bi, 0.5 * after->br};
}

/* dU/dangle psi for RY, given the state before the gate: 1/2 [[-s, -c], [c, -s]] psi. */
static struct qstate ry_derivative(const struct qstate *before, double c, double s)
{
    c *= 0.5, s *= 0.5;
    return (struct qstate){-s * before->ar - c * before->br, -s * before->ai - c * before->bi,
                           c * before->ar - s * before->br, c * before->ai - s * before->bi};
}

/* The backward pass over a built circuit: gradient w.r.t. every gate angle into dangle[k]. */
static double backward_gates(const struct gate *gates, int n, enum daruan_readout readout,
                             double dy, double *dangle)
{
    struct qstate states[3 * DARUAN_MAX_REPS + 3];
    states[0] = initial_state();
    for (int k = 0; k < n; k++) {
        states[k + 1] = states[k];
        apply_gate(&states[k + 1], &gates[k], 0);
    }
    double y = readout_value(&states[n], readout);
    struct qstate lambda = readout_cotangent(&states[n], readout);
    for (int k = n - 1; k >= 0; k--) {
        const struct gate *g = &gates[k];
        struct qstate d = g->kind == GATE_RZ ? rz_derivative(&states[k + 1])
                                             : ry_derivative(&states[k], g->c, g->s);
        dangle[k] = dy * re_inner(&lambda, &d);
        apply_gate(&lambda, g, 1);
    }
    return y;
}

double daruan_backward(const struct daruan_edge *edge, double x, enum daruan_readout readout,
                       double dy, double *dtheta, double *dpw, double *dpb, double *dx)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    double dangle[3 * DARUAN_MAX_REPS + 2];
    int n = build_gates(edge, x, gates);
    double y = backward_gates(gates, n, readout, dy, dangle);
    for (int k = 0; k < n; k++) {
        const struct gate *g = &gates[k];
        if (g->theta_index >= 0) {
            if (dtheta)
                dtheta[g->theta_index] += dangle[k];
            continue;
        }
        double pw = edge->pw ? edge->pw[g->rep] : 1.0;
        if (dx)
            *dx += dangle[k] * pw;
        if (edge->pw && dpw)
            dpw[g->rep] += dangle[k] * x;
        if (edge->pw && dpb)
            dpb[g->rep] += dangle[k];
    }
    return y;
}

/* ---- batches of edges ---------------------------------------------------------------------- */

size_t daruan_batch_scratch(size_t n, int reps)
{
    return 3 * n * (size_t)(3 * reps + 2);
}

/* Half-angle cos and sin of every gate of every edge: trig[(e*G + k)*2 + {0,1}]. */
HOT_KERNEL static void batch_trig(size_t count, const double *restrict angles, double *restrict c,
                                  double *restrict s)
{
#pragma omp simd
    for (size_t i = 0; i < count; i++) {
        c[i] = cos(0.5 * angles[i]);
        s[i] = sin(0.5 * angles[i]);
    }
}

/* Fills the angle list (edges x gates) and computes its trig; returns gates per edge. */
static int batch_prepare(size_t n, int reps, const double *theta, const double *x, double *scratch,
                         struct gate *layout)
{
    int g = gate_layout(reps, layout);
    size_t count = n * (size_t)g, nt = 2 * (size_t)(reps + 1);
    double *angles = scratch, *c = scratch + count, *s = scratch + 2 * count;
    for (size_t e = 0; e < n; e++)
        for (int k = 0; k < g; k++)
            angles[e * g + k] =
                layout[k].theta_index >= 0 ? theta[e * nt + layout[k].theta_index] : x[e];
    batch_trig(count, angles, c, s);
    return g;
}

static void edge_gates(const struct gate *layout, int g, const double *scratch, size_t count,
                       size_t e, struct gate *gates)
{
    const double *c = scratch + count + e * g, *s = scratch + 2 * count + e * g;
    for (int k = 0; k < g; k++) {
        gates[k] = layout[k];
        gates[k].c = c[k];
        gates[k].s = s[k];
    }
}

void daruan_forward_batch(size_t n, int reps, const double *theta, const double *x,
                          enum daruan_readout readout, double *y, double *scratch)
{
    struct gate layout[3 * DARUAN_MAX_REPS + 2], gates[3 * DARUAN_MAX_REPS + 2];
    int g = batch_prepare(n, reps, theta, x, scratch, layout);
    for (size_t e = 0; e < n; e++) {
        edge_gates(layout, g, scratch, n * (size_t)g, e, gates);
        struct qstate st = run_circuit(gates, g);
        y[e] = readout_value(&st, readout);
    }
}

void daruan_backward_batch(size_t n, int reps, const double *theta, const double *x,
                           enum daruan_readout readout, const double *dy, double *dtheta,
                           double *dx, double *scratch)
{
    struct gate layout[3 * DARUAN_MAX_REPS + 2], gates[3 * DARUAN_MAX_REPS + 2];
    double dangle[3 * DARUAN_MAX_REPS + 2];
    int g = batch_prepare(n, reps, theta, x, scratch, layout);
    size_t nt = 2 * (size_t)(reps + 1);
    for (size_t e = 0; e < n; e++) {
        edge_gates(layout, g, scratch, n * (size_t)g, e, gates);
        backward_gates(gates, g, readout, dy[e], dangle);
        double *dt = dtheta + e * nt, dxe = 0.0;
        for (size_t k = 0; k < nt; k++)
            dt[k] = 0.0;
        for (int k = 0; k < g; k++) {
            if (gates[k].theta_index >= 0)
                dt[gates[k].theta_index] += dangle[k];
            else
                dxe += dangle[k];
        }
        dx[e] = dxe;
    }
}
