/*
 * vqc — the multi-qubit variational circuit of the original quantum fast weight programmer
 * (arXiv 2402.17760; paper.md §1.6/§1.8), simulated exactly on a real statevector (every gate in
 * it is real, so the state stays real): Hadamard on every qubit, RY(x) on qubit 0, then `depth`
 * layers of a two-step CNOT ladder ((0,1),(2,3),... then (1,2),(3,4),...) and RY(angle[k][q]) on
 * every qubit q; the outputs are <Z_q> for the first n_out qubits. Gradients by adjoint
 * differentiation (one backward sweep, no parameter shifts). Caller-owned arrays; the scratch
 * holds vqc_scratch_size doubles.
 */
#ifndef FW_VQC_H
#define FW_VQC_H

#include <stddef.h>

#define VQC_MAX_QUBITS 12

struct vqc {
    int qubits, depth, n_out;
};

size_t vqc_scratch_size(const struct vqc *c);

/* angles: depth x qubits; out: n_out expectations. */
void vqc_forward(const struct vqc *c, double x, const double *angles, double *out, double *scratch);

/* Gradients of sum_q dout[q] <Z_q>: writes (overwrites) dangles (depth x qubits) and *dx. */
void vqc_backward(const struct vqc *c, double x, const double *angles, const double *dout,
                  double *dangles, double *dx, double *scratch);

#endif
