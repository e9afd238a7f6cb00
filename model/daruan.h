/*
 * daruan — one single-qubit data re-uploading activation (a KAN edge), "pz" ansatz, computed
 * exactly on the 2-amplitude state (paper.md §1.2):
 *
 *   |0> -H-> then for l = 0..R-1: RZ(theta[l][0]) RY(theta[l][1]) RZ(enc_l)
 *        then the final RZ(theta[R][0]) RY(theta[R][1]),   enc_l = pw[l]*x + pb[l]
 *
 * and the readout, either amplitude |alpha|-|beta| (the authors' training default) or Born
 * |alpha|^2-|beta|^2 (what shots on hardware estimate). This is the reference implementation:
 * any number of repetitions, forward and exact analytic backward. The QKAN layer has a faster
 * closed form for R = 1 that is tested against this one. No allocation, no state.
 */
#ifndef FW_DARUAN_H
#define FW_DARUAN_H

#include <stddef.h>

#define DARUAN_MAX_REPS 8

enum daruan_readout {
    DARUAN_AMPLITUDE = 0, /* |alpha| - |beta| */
    DARUAN_BORN = 1,      /* |alpha|^2 - |beta|^2 */
};

/* One edge's description. theta has (reps+1)*2 angles, row-major [rep][{RZ, RY}].
 * pw and pb have reps entries each; NULL means the identity encoding enc_l = x. */
struct daruan_edge {
    int reps;
    const double *theta;
    const double *pw;
    const double *pb;
};

/* Amplitudes after the circuit: the probability of measuring 0 is p0 = |alpha|^2. */
double daruan_p0(const struct daruan_edge *edge, double x);

/* The activation's value. reps must be 1..DARUAN_MAX_REPS. */
double daruan_forward(const struct daruan_edge *edge, double x, enum daruan_readout readout);

/* Gradients of dy * y(x) added into the outputs that are not NULL: dtheta[(reps+1)*2],
 * dpw[reps], dpb[reps] (only when the edge has pre-activations), dx[0].
 * Returns y, so a caller needing both pays for one circuit simulation. */
double daruan_backward(const struct daruan_edge *edge, double x, enum daruan_readout readout,
                       double dy, double *dtheta, double *dpw, double *dpb, double *dx);

/* Many edges with the same repetitions and no pre-activations (the fast programmer's): theta is
 * n x (reps+1)*2, x has one input per edge. The trigonometry of all their gates runs in one
 * vectorised pass. scratch holds daruan_batch_scratch(n, reps) doubles. */
size_t daruan_batch_scratch(size_t n, int reps);
void daruan_forward_batch(size_t n, int reps, const double *theta, const double *x,
                          enum daruan_readout readout, double *y, double *scratch);
/* Writes (overwrites) dtheta (n x (reps+1)*2) and dx (n) for output cotangents dy. */
void daruan_backward_batch(size_t n, int reps, const double *theta, const double *x,
                           enum daruan_readout readout, const double *dy, double *dtheta,
                           double *dx, double *scratch);

/* The readout applied to a probability p0 = P(measure 0), as estimated from shots:
 * amplitude sqrt(p0) - sqrt(1-p0), Born 2 p0 - 1. */
double daruan_readout_from_p0(double p0, enum daruan_readout readout);

#endif
