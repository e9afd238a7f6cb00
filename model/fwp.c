/* fwp — gated fast-weight recursion, sequential and closed form (see fwp.h). */
#include "model/fwp.h"

#include <cblas.h>
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
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)na, (int)nb, (int)L, 1.0, scratch,
                (int)na, b, (int)nb, 0.0, theta, (int)nb);
}

void fwp_backward_parallel(size_t L, size_t na, size_t nb, const double *a, const double *b,
                           const double *g, const double *w, const double *p, const double *dtheta,
                           double *da, double *db, double *dg, double *scratch)
{
    (void)scratch;
    /* da_t = w_t G b_t: first B G^T (L x na) into da, unscaled */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)na, (int)nb, 1.0, b, (int)nb,
                dtheta, (int)nb, 0.0, da, (int)na);
    /* db_t = w_t G^T a_t: A G (L x nb) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)nb, (int)na, 1.0, a,
                (int)na, dtheta, (int)nb, 0.0, db, (int)nb);
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
