/* daruan — reference single-qubit DARUAN simulation with analytic gradients (see daruan.h). */
#include "model/daruan.h"

#include <math.h>

/* A single-qubit state: two complex amplitudes as (re, im) pairs. */
struct qstate {
    double ar, ai, br, bi;
};

/* Gate kinds along the circuit, in order. */
enum { GATE_RZ, GATE_RY };

struct gate {
    int kind;
    double angle;
    int theta_index; /* index into theta, or -1 for a data rotation */
    int rep;         /* for a data rotation: which repetition */
};

static void apply_rz(struct qstate *s, double phi)
{
    double c = cos(0.5 * phi), sn = sin(0.5 * phi);
    /* alpha *= e^{-i phi/2}, beta *= e^{+i phi/2} */
    double ar = s->ar * c + s->ai * sn, ai = s->ai * c - s->ar * sn;
    double br = s->br * c - s->bi * sn, bi = s->bi * c + s->br * sn;
    s->ar = ar, s->ai = ai, s->br = br, s->bi = bi;
}

static void apply_ry(struct qstate *s, double b)
{
    double c = cos(0.5 * b), sn = sin(0.5 * b);
    double ar = c * s->ar - sn * s->br, ai = c * s->ai - sn * s->bi;
    double br = sn * s->ar + c * s->br, bi = sn * s->ai + c * s->bi;
    s->ar = ar, s->ai = ai, s->br = br, s->bi = bi;
}

/* The adjoint of a gate applied to a cotangent vector. RZ(phi)^dagger = RZ(-phi), likewise RY. */
static void apply_gate(struct qstate *s, const struct gate *g, int adjoint)
{
    double angle = adjoint ? -g->angle : g->angle;
    if (g->kind == GATE_RZ)
        apply_rz(s, angle);
    else
        apply_ry(s, angle);
}

static double encoded(const struct daruan_edge *e, int l, double x)
{
    return e->pw ? e->pw[l] * x + e->pb[l] : x;
}

static int build_gates(const struct daruan_edge *e, double x, struct gate *gates)
{
    int n = 0;
    for (int l = 0; l < e->reps; l++) {
        gates[n++] = (struct gate){GATE_RZ, e->theta[2 * l], 2 * l, -1};
        gates[n++] = (struct gate){GATE_RY, e->theta[2 * l + 1], 2 * l + 1, -1};
        gates[n++] = (struct gate){GATE_RZ, encoded(e, l, x), -1, l};
    }
    gates[n++] = (struct gate){GATE_RZ, e->theta[2 * e->reps], 2 * e->reps, -1};
    gates[n++] = (struct gate){GATE_RY, e->theta[2 * e->reps + 1], 2 * e->reps + 1, -1};
    return n;
}

static struct qstate initial_state(void)
{
    double h = 1.0 / sqrt(2.0); /* H|0> */
    return (struct qstate){h, 0.0, h, 0.0};
}

double daruan_p0(const struct daruan_edge *edge, double x)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    int n = build_gates(edge, x, gates);
    struct qstate s = initial_state();
    for (int k = 0; k < n; k++)
        apply_gate(&s, &gates[k], 0);
    return s.ar * s.ar + s.ai * s.ai;
}

double daruan_readout_from_p0(double p0, enum daruan_readout readout)
{
    if (p0 < 0.0)
        p0 = 0.0;
    if (p0 > 1.0)
        p0 = 1.0;
    return readout == DARUAN_BORN ? 2.0 * p0 - 1.0 : sqrt(p0) - sqrt(1.0 - p0);
}

static double readout_value(const struct qstate *s, enum daruan_readout readout)
{
    double pa = s->ar * s->ar + s->ai * s->ai, pb = s->br * s->br + s->bi * s->bi;
    return readout == DARUAN_BORN ? pa - pb : sqrt(pa) - sqrt(pb);
}

double daruan_forward(const struct daruan_edge *edge, double x, enum daruan_readout readout)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    int n = build_gates(edge, x, gates);
    struct qstate s = initial_state();
    for (int k = 0; k < n; k++)
        apply_gate(&s, &gates[k], 0);
    return readout_value(&s, readout);
}

/* d(readout)/d(conj state) scaled so that dy/dp = Re(lambda^dagger dpsi/dp). The kernels'
 * guard: an amplitude below 1e-30 contributes no gradient. */
static struct qstate readout_cotangent(const struct qstate *s, enum daruan_readout readout)
{
    if (readout == DARUAN_BORN)
        return (struct qstate){2 * s->ar, 2 * s->ai, -2 * s->br, -2 * s->bi};
    double na = hypot(s->ar, s->ai), nb = hypot(s->br, s->bi);
    double ia = na < 1e-30 ? 0.0 : 1.0 / na, ib = nb < 1e-30 ? 0.0 : 1.0 / nb;
    return (struct qstate){s->ar * ia, s->ai * ia, -s->br * ib, -s->bi * ib};
}

/* Re(lambda^dagger v) */
static double re_inner(const struct qstate *l, const struct qstate *v)
{
    return l->ar * v->ar + l->ai * v->ai + l->br * v->br + l->bi * v->bi;
}

/* Derivative of a gate's output w.r.t. its angle, given the state after it (RZ) or before it
 * (RY), as a state vector. */
static struct qstate rz_derivative(const struct qstate *after)
{
    /* dU/dphi psi = diag(-i/2, +i/2) U psi */
    return (struct qstate){0.5 * after->ai, -0.5 * after->ar, -0.5 * after->bi, 0.5 * after->br};
}

static struct qstate ry_derivative(const struct qstate *before, double b)
{
    double c = 0.5 * cos(0.5 * b), sn = 0.5 * sin(0.5 * b);
    /* 1/2 [[-sin, -cos], [cos, -sin]] */
    return (struct qstate){-sn * before->ar - c * before->br, -sn * before->ai - c * before->bi,
                           c * before->ar - sn * before->br, c * before->ai - sn * before->bi};
}

double daruan_backward(const struct daruan_edge *edge, double x, enum daruan_readout readout,
                       double dy, double *dtheta, double *dpw, double *dpb, double *dx)
{
    struct gate gates[3 * DARUAN_MAX_REPS + 2];
    struct qstate states[3 * DARUAN_MAX_REPS + 3];
    int n = build_gates(edge, x, gates);
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
                                             : ry_derivative(&states[k], g->angle);
        double grad = dy * re_inner(&lambda, &d);
        if (g->theta_index >= 0) {
            if (dtheta)
                dtheta[g->theta_index] += grad;
        } else {
            double pw = edge->pw ? edge->pw[g->rep] : 1.0;
            if (dx)
                *dx += grad * pw;
            if (edge->pw && dpw)
                dpw[g->rep] += grad * x;
            if (edge->pw && dpb)
                dpb[g->rep] += grad;
        }
        apply_gate(&lambda, g, 1);
    }
    return y;
}
