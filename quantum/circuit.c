/* circuit — single-qubit circuits, ZYZ fusion and wire forms (see circuit.h). Plain values in
 * and out, written into the caller's buffers; nothing is allocated. */
#include "quantum/circuit.h"

#include <math.h>
#include <stdio.h>

int circuit_add(struct qcircuit *c, enum qgate_kind kind, double angle)
{
    if (c->n >= CIRCUIT_MAX_GATES)
        return -1;
    c->gates[c->n++] = (struct qgate){kind, angle};
    return 0;
}

void circuit_from_daruan(const struct daruan_edge *e, double x, struct qcircuit *out)
{
    out->n = 0;
    circuit_add(out, QGATE_RY, M_PI / 2); /* H|0> = RY(pi/2)|0> exactly */
    for (int l = 0; l < e->reps; l++) {
        circuit_add(out, QGATE_RZ, e->theta[2 * l]);
        circuit_add(out, QGATE_RY, e->theta[2 * l + 1]);
        circuit_add(out, QGATE_RZ, e->pw ? e->pw[l] * x + e->pb[l] : x);
    }
    circuit_add(out, QGATE_RZ, e->theta[2 * e->reps]);
    circuit_add(out, QGATE_RY, e->theta[2 * e->reps + 1]);
}

/* 2x2 complex matrices as [row][col][re/im]. */
typedef double mat2[2][2][2];

static void gate_matrix(const struct qgate *g, mat2 m)
{
    double c = cos(0.5 * g->angle), s = sin(0.5 * g->angle);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            m[i][j][0] = m[i][j][1] = 0.0;
    switch (g->kind) {
    case QGATE_RX: /* [[c, -is], [-is, c]] */
        m[0][0][0] = c, m[0][1][1] = -s, m[1][0][1] = -s, m[1][1][0] = c;
        break;
    case QGATE_RY: /* [[c, -s], [s, c]] */
        m[0][0][0] = c, m[0][1][0] = -s, m[1][0][0] = s, m[1][1][0] = c;
        break;
    case QGATE_RZ: /* diag(e^{-ia/2}, e^{ia/2}) */
        m[0][0][0] = c, m[0][0][1] = -s, m[1][1][0] = c, m[1][1][1] = s;
        break;
    }
}

static void mat_mul(mat2 a, mat2 b, mat2 out) /* out = a b */
{
    mat2 r;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double re = 0, im = 0;
            for (int k = 0; k < 2; k++) {
                re += a[i][k][0] * b[k][j][0] - a[i][k][1] * b[k][j][1];
                im += a[i][k][0] * b[k][j][1] + a[i][k][1] * b[k][j][0];
            }
            r[i][j][0] = re, r[i][j][1] = im;
        }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            out[i][j][0] = r[i][j][0], out[i][j][1] = r[i][j][1];
}

static void unitary(const struct qcircuit *c, mat2 u)
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            u[i][j][0] = i == j, u[i][j][1] = 0.0;
    for (int k = 0; k < c->n; k++) {
        mat2 g;
        gate_matrix(&c->gates[k], g);
        mat_mul(g, u, u); /* later gates on the left */
    }
}

void circuit_zyz(const struct qcircuit *c, double *theta, double *phi, double *lambda)
{
    mat2 u;
    unitary(c, u);
    /* normalise the determinant to 1: divide by sqrt(det) */
    double dre = u[0][0][0] * u[1][1][0] - u[0][0][1] * u[1][1][1] -
                 (u[0][1][0] * u[1][0][0] - u[0][1][1] * u[1][0][1]);
    double dim = u[0][0][0] * u[1][1][1] + u[0][0][1] * u[1][1][0] -
                 (u[0][1][0] * u[1][0][1] + u[0][1][1] * u[1][0][0]);
    double half = 0.5 * atan2(dim, dre), cr = cos(half), ci = -sin(half);
    double u00 = hypot(u[0][0][0], u[0][0][1]), u10 = hypot(u[1][0][0], u[1][0][1]);
    *theta = 2.0 * atan2(u10, u00);
    /* arguments after the phase correction e^{-i half} */
    double a = atan2(u[1][1][0] * ci + u[1][1][1] * cr, u[1][1][0] * cr - u[1][1][1] * ci);
    double b = atan2(u[1][0][0] * ci + u[1][0][1] * cr, u[1][0][0] * cr - u[1][0][1] * ci);
    *phi = a + b;
    *lambda = a - b;
}

double circuit_p0(const struct qcircuit *c)
{
    mat2 u;
    unitary(c, u);
    return u[0][0][0] * u[0][0][0] + u[0][0][1] * u[0][0][1];
}

int circuit_qasm_isa(const struct qcircuit *c, int qubit, char *buf, size_t size)
{
    double theta, phi, lambda;
    circuit_zyz(c, &theta, &phi, &lambda);
    return snprintf(buf, size,
                    "OPENQASM 3.0; include \"stdgates.inc\"; bit[1] c; sx $%d; rz(%.17g) $%d; "
                    "sx $%d; c[0] = measure $%d;",
                    qubit, theta + M_PI, qubit, qubit, qubit);
}

const char *circuit_gate_name(enum qgate_kind kind)
{
    return kind == QGATE_RX ? "rx" : kind == QGATE_RY ? "ry" : "rz";
}
