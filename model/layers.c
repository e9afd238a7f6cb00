/* layers — Linear, BatchNorm1d, dropout (see layers.h). */
#include "model/layers.h"
#include "model/gemm.h"
#include "base/error.h"

#include <math.h>
#include <string.h>

void linear_forward(struct pool *pool, size_t n, int in, int out, const double *x, const double *w,
                    const double *b, double *y)
{
    for (size_t k = 0; k < n; k++)
        memcpy(y + k * (size_t)out, b, (size_t)out * sizeof *y);
    gemm_pool(pool, GEMM_N, GEMM_T, n, out, in, 1.0, x, in, w, in, 1.0, y, out);
}

void linear_backward(struct pool *pool, size_t n, int in, int out, const double *x, const double *w,
                     const double *dy, double *dw, double *db, double *dx)
{
    gemm_pool(pool, GEMM_T, GEMM_N, out, in, n, 1.0, dy, out, x, in, 1.0, dw, in);
    for (size_t k = 0; k < n; k++)
        for (int j = 0; j < out; j++)
            db[j] += dy[k * (size_t)out + j];
    if (dx)
        gemm_pool(pool, GEMM_N, GEMM_N, n, in, out, 1.0, dy, out, w, in, 0.0, dx, in);
}

int batchnorm_forward_train(const struct batchnorm *bn, size_t n, const double *x, double *y,
                            double *xhat, double *inv_std)
{
    if (n < 2)
        return FW_EINVAL; /* PyTorch refuses too: one value per channel has no variance */
    int f = bn->features;
    for (int j = 0; j < f; j++) {
        double mean = 0.0, var = 0.0;
        for (size_t k = 0; k < n; k++)
            mean += x[k * f + j];
        mean /= (double)n;
        for (size_t k = 0; k < n; k++) {
            double d = x[k * f + j] - mean;
            var += d * d;
        }
        double biased = var / (double)n, unbiased = var / (double)(n - 1);
        double is = 1.0 / sqrt(biased + BN_EPS);
        inv_std[j] = is;
        for (size_t k = 0; k < n; k++) {
            double xh = (x[k * f + j] - mean) * is;
            xhat[k * f + j] = xh;
            y[k * f + j] = bn->gamma[j] * xh + bn->beta[j];
        }
        bn->running_mean[j] = (1.0 - BN_MOMENTUM) * bn->running_mean[j] + BN_MOMENTUM * mean;
        bn->running_var[j] = (1.0 - BN_MOMENTUM) * bn->running_var[j] + BN_MOMENTUM * unbiased;
    }
    *bn->batches_tracked += 1.0;
    return FW_OK;
}

void batchnorm_forward_eval(const struct batchnorm *bn, size_t n, const double *x, double *y)
{
    int f = bn->features;
    for (int j = 0; j < f; j++) {
        double is = 1.0 / sqrt(bn->running_var[j] + BN_EPS);
        for (size_t k = 0; k < n; k++)
            y[k * f + j] = bn->gamma[j] * (x[k * f + j] - bn->running_mean[j]) * is + bn->beta[j];
    }
}

void batchnorm_backward(const struct batchnorm *bn, size_t n, const double *dy, const double *xhat,
                        const double *inv_std, double *dgamma, double *dbeta, double *dx)
{
    int f = bn->features;
    for (int j = 0; j < f; j++) {
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (size_t k = 0; k < n; k++) {
            sum_dy += dy[k * f + j];
            sum_dy_xhat += dy[k * f + j] * xhat[k * f + j];
        }
        dgamma[j] += sum_dy_xhat;
        dbeta[j] += sum_dy;
        double g = bn->gamma[j] * inv_std[j] / (double)n;
        for (size_t k = 0; k < n; k++)
            dx[k * f + j] =
                g * ((double)n * dy[k * f + j] - sum_dy - xhat[k * f + j] * sum_dy_xhat);
    }
}

void dropout_forward(rng *r, double p, size_t n, double *x, double *mask)
{
    double keep = 1.0 / (1.0 - p);
    for (size_t k = 0; k < n; k++) {
        mask[k] = rng_uniform(r) < p ? 0.0 : keep;
        x[k] *= mask[k];
    }
}

void dropout_backward(size_t n, const double *mask, double *dx)
{
    for (size_t k = 0; k < n; k++)
        dx[k] *= mask[k];
}
