/* gqkan_fwp_fast — the fast programmer of the gated family on one window
 * (gqkan_fwp_internal.h): the DARUAN QKAN edges with the programmed angles, the plain linear
 * layer theta = [W | b], or the VQC; forward and gradients. */
#include "model/gqkan_fwp_internal.h"

#include <string.h>

/* The fast QKAN's edges of one window, edge (o, i) at o * fin + i: its angles from the
 * programmed theta (na x nb = [o][r] x [i][k]) and its input u_i. */
void gqkan_gather_edges(const struct gqkan *m, const double *theta, const double *u,
                        struct thread_scratch *s)
{
    size_t nt = 2 * (size_t)(m->rf + 1);
    for (int o = 0; o < m->fout; o++)
        for (int i = 0; i < m->fin; i++) {
            double *angles = s->edge_theta + (size_t)(o * m->fin + i) * nt;
            for (int r = 0; r <= m->rf; r++)
                for (int k = 0; k < 2; k++)
                    angles[2 * r + k] = theta[(size_t)(o * (m->rf + 1) + r) * m->nb + 2 * i + k];
            s->edge_x[o * m->fin + i] = u[i];
        }
}

/* The fast programmer with programmed theta on input u (fin): its outputs h (fout). */
void gqkan_fast_forward(const struct gqkan *m, const double *theta, const double *u, double *h,
                        struct thread_scratch *s)
{
    size_t nb = (size_t)m->nb;
    switch (m->kind.fast) {
    case FAST_QKAN:
        gqkan_gather_edges(m, theta, u, s);
        daruan_forward_batch((size_t)m->fout * (size_t)m->fin, m->rf, s->edge_theta, s->edge_x,
                             m->readout, s->edge_y, s->trig);
        for (int o = 0; o < m->fout; o++) {
            double sum = 0.0;
            for (int i = 0; i < m->fin; i++)
                sum += s->edge_y[o * m->fin + i];
            h[o] = sum;
        }
        break;
    case FAST_LINEAR: /* h = W u + b with theta = [W | b] */
        for (int o = 0; o < m->fout; o++) {
            const double *row = theta + (size_t)o * nb;
            double sum = row[m->fin];
            for (int i = 0; i < m->fin; i++)
                sum += row[i] * u[i];
            h[o] = sum;
        }
        break;
    case FAST_VQC:
        vqc_forward(&m->vqc, u[0], theta, h, s->vqc);
        break;
    }
}

/* Its gradients from dh: G (na x nb, overwritten) and du (fin, overwritten; zero for the VQC,
 * whose input is data). Uses the scratch's edge arrays. */
void gqkan_fast_backward(const struct gqkan *m, const double *theta, const double *u,
                         const double *dh, double *G, double *du, struct thread_scratch *s)
{
    size_t nb = (size_t)m->nb, nt = 2 * (size_t)(m->rf + 1);
    memset(du, 0, (size_t)m->fin * sizeof *du);
    switch (m->kind.fast) {
    case FAST_QKAN:
        gqkan_gather_edges(m, theta, u, s);
        for (int o = 0; o < m->fout; o++)
            for (int i = 0; i < m->fin; i++)
                s->edge_y[o * m->fin + i] = dh[o]; /* the edges' cotangents */
        daruan_backward_batch((size_t)m->fout * (size_t)m->fin, m->rf, s->edge_theta, s->edge_x,
                              m->readout, s->edge_y, s->edge_dtheta, s->edge_dx, s->trig);
        for (int o = 0; o < m->fout; o++)
            for (int i = 0; i < m->fin; i++) {
                const double *dangles = s->edge_dtheta + (size_t)(o * m->fin + i) * nt;
                for (int r = 0; r <= m->rf; r++)
                    for (int kk = 0; kk < 2; kk++)
                        G[(size_t)(o * (m->rf + 1) + r) * nb + 2 * i + kk] = dangles[2 * r + kk];
                du[i] += s->edge_dx[o * m->fin + i];
            }
        break;
    case FAST_LINEAR:
        for (int o = 0; o < m->fout; o++) {
            double *grow = G + (size_t)o * nb;
            const double *row = theta + (size_t)o * nb;
            for (int i = 0; i < m->fin; i++) {
                grow[i] = dh[o] * u[i];
                du[i] += dh[o] * row[i];
            }
            grow[m->fin] = dh[o];
        }
        break;
    case FAST_VQC: {
        double dx;
        vqc_backward(&m->vqc, u[0], theta, dh, G, &dx, s->vqc);
        break;
    }
    }
}
