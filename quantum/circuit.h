/*
 * circuit — single-qubit circuits: an ordered list of RX/RY/RZ rotations applied to |0>, then a Z
 * measurement (quantum-apis.md §1). Builds one from a DARUAN edge (H|0> = RY(pi/2)|0>, then the
 * pz ansatz's rotations), reduces it to its ZYZ Euler angles, gives the exact outcome
 * probability P(0) = cos^2(theta/2), and writes the two wire forms the clouds take: IonQ's qis
 * gate list and IBM's native ISA circuit `sx; rz(theta+pi); sx; measure`. Plain values, no
 * allocation.
 */
#ifndef FW_CIRCUIT_H
#define FW_CIRCUIT_H

#include <stddef.h>

#include "model/daruan.h"

#define CIRCUIT_MAX_GATES (3 * DARUAN_MAX_REPS + 3)

enum qgate_kind { QGATE_RX = 0, QGATE_RY = 1, QGATE_RZ = 2 };

struct qgate {
    enum qgate_kind kind;
    double angle; /* radians */
};

struct qcircuit {
    int n;
    struct qgate gates[CIRCUIT_MAX_GATES]; /* in time order */
};

/* Appends a gate; returns -1 when the circuit is full. */
int circuit_add(struct qcircuit *c, enum qgate_kind kind, double angle);

/* The circuit of a DARUAN edge at input x (the state prep H as RY(pi/2), then RZ RY RZ(enc)
 * per repetition, then the final RZ RY). */
void circuit_from_daruan(const struct daruan_edge *edge, double x, struct qcircuit *out);

/* ZYZ Euler angles of the circuit's unitary, U = RZ(phi) RY(theta) RZ(lambda) up to a phase. */
void circuit_zyz(const struct qcircuit *c, double *theta, double *phi, double *lambda);

/* Exact P(measure 0). */
double circuit_p0(const struct qcircuit *c);

/* IBM ISA form on physical qubit q (OpenQASM 3): "OPENQASM 3.0; include \"stdgates.inc\"; bit[1]
 * c; sx $q; rz(theta+pi) $q; sx $q; c[0] = measure $q;". Returns the length (snprintf). */
int circuit_qasm_isa(const struct qcircuit *c, int qubit, char *buf, size_t size);

/* Gate name for IonQ's qis gateset ("rx", "ry", "rz"). */
const char *circuit_gate_name(enum qgate_kind kind);

#endif
