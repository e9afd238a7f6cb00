/* vqc — real statevector simulation of the QFWP circuit with adjoint gradients (see vqc.h).
 * Qubit q is bit q of the basis-state index. */
#include "model/vqc.h"

#include <math.h>
#include <string.h>

size_t vqc_scratch_size(const struct vqc *c)
{
    return 3 * ((size_t)1 << c->qubits);
}

static void ry(double *s, size_t dim, int q, double angle)
{
    double c = cos(0.5 * angle), sn = sin(0.5 * angle);
    size_t bit = (size_t)1 << q;
    for (size_t i = 0; i < dim; i++)
        if (!(i & bit)) {
            double a = s[i], b = s[i | bit];
            s[i] = c * a - sn * b;
            s[i | bit] = sn * a + c * b;
        }
}

/* d RY / d angle applied to s (in place): 1/2 [[-sin, -cos], [cos, -sin]] */
static void ry_derivative(double *s, size_t dim, int q, double angle)
{
    double c = 0.5 * cos(0.5 * angle), sn = 0.5 * sin(0.5 * angle);
    size_t bit = (size_t)1 << q;
    for (size_t i = 0; i < dim; i++)
        if (!(i & bit)) {
            double a = s[i], b = s[i | bit];
            s[i] = -sn * a - c * b;
            s[i | bit] = c * a - sn * b;
        }
}

static void cnot(double *s, size_t dim, int control, int target)
{
    size_t cb = (size_t)1 << control, tb = (size_t)1 << target;
    for (size_t i = 0; i < dim; i++)
        if ((i & cb) && !(i & tb)) {
            double t = s[i];
            s[i] = s[i | tb];
            s[i | tb] = t;
        }
}

static void ladder(double *s, size_t dim, int qubits, int reverse)
{
    /* forward: (0,1),(2,3),... then (1,2),(3,4),...; CNOTs are their own inverses */
    for (int pass = 0; pass < 2; pass++) {
        int start = reverse ? 1 - pass : pass;
        for (int q = start; q + 1 < qubits; q += 2)
            cnot(s, dim, q, q + 1);
    }
}

static void prepare(const struct vqc *c, double x, double *s)
{
    size_t dim = (size_t)1 << c->qubits;
    double amp = 1.0 / sqrt((double)dim);
    for (size_t i = 0; i < dim; i++)
        s[i] = amp; /* Hadamard on every qubit */
    ry(s, dim, 0, x);
}

static void layers(const struct vqc *c, const double *angles, double *s)
{
    size_t dim = (size_t)1 << c->qubits;
    for (int k = 0; k < c->depth; k++) {
        ladder(s, dim, c->qubits, 0);
        for (int q = 0; q < c->qubits; q++)
            ry(s, dim, q, angles[k * c->qubits + q]);
    }
}

static void expectations(const struct vqc *c, const double *s, double *out)
{
    size_t dim = (size_t)1 << c->qubits;
    for (int q = 0; q < c->n_out; q++) {
        double z = 0;
        for (size_t i = 0; i < dim; i++)
            z += (i >> q & 1 ? -1.0 : 1.0) * s[i] * s[i];
        out[q] = z;
    }
}

void vqc_forward(const struct vqc *c, double x, const double *angles, double *out, double *scratch)
{
    prepare(c, x, scratch);
    layers(c, angles, scratch);
    expectations(c, scratch, out);
}

void vqc_backward(const struct vqc *c, double x, const double *angles, const double *dout,
                  double *dangles, double *dx, double *scratch)
{
    size_t dim = (size_t)1 << c->qubits;
    double *psi = scratch, *lambda = scratch + dim, *tmp = scratch + 2 * dim;
    prepare(c, x, psi);
    layers(c, angles, psi);
    /* lambda = O psi with O = sum_q dout[q] Z_q; d<psi|O|psi>/dp = 2 <lambda| dU/dp |phi> */
    for (size_t i = 0; i < dim; i++) {
        double o = 0;
        for (int q = 0; q < c->n_out; q++)
            o += (i >> q & 1 ? -1.0 : 1.0) * dout[q];
        lambda[i] = o * psi[i];
    }
    for (int k = c->depth - 1; k >= 0; k--) {
        for (int q = c->qubits - 1; q >= 0; q--) {
            double a = angles[k * c->qubits + q];
            ry(psi, dim, q, -a); /* the state before this gate */
            memcpy(tmp, psi, dim * sizeof *tmp);
            ry_derivative(tmp, dim, q, a);
            double g = 0;
            for (size_t i = 0; i < dim; i++)
                g += lambda[i] * tmp[i];
            dangles[k * c->qubits + q] = 2 * g;
            ry(lambda, dim, q, -a);
        }
        ladder(psi, dim, c->qubits, 1);
        ladder(lambda, dim, c->qubits, 1);
    }
    /* the input rotation RY(x) on qubit 0 */
    ry(psi, dim, 0, -x);
    memcpy(tmp, psi, dim * sizeof *tmp);
    ry_derivative(tmp, dim, 0, x);
    double g = 0;
    for (size_t i = 0; i < dim; i++)
        g += lambda[i] * tmp[i];
    *dx = 2 * g;
}
