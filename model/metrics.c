/* metrics — forecast accuracy scores (see metrics.h). */
#include "model/metrics.h"

#include <math.h>
#include <string.h>

static size_t argmax_first(const double *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

void metrics_compute(size_t n_windows, size_t horizon, const double *pred, const double *truth,
                     double range, double offset, struct forecast_metrics *out)
{
    struct forecast_metrics m;
    memset(&m, 0, sizeof m);
    m.n_windows = n_windows;
    m.horizon = horizon;
    size_t count = n_windows * horizon;
    if (count == 0) {
        *out = m;
        return;
    }
    double sse = 0, sae = 0, mean = 0, smape = 0;
    size_t smape_n = 0;
    for (size_t k = 0; k < count; k++)
        mean += truth[k];
    mean /= (double)count;
    double sst = 0;
    for (size_t k = 0; k < count; k++) {
        double d = pred[k] - truth[k];
        sse += d * d;
        sae += fabs(d);
        sst += (truth[k] - mean) * (truth[k] - mean);
        double y = truth[k] * range + offset, yh = pred[k] * range + offset;
        double denom = fabs(y) + fabs(yh);
        if (denom > 0) {
            smape += 200.0 * fabs(y - yh) / denom;
            smape_n++;
        }
    }
    m.scaled_mse = sse / (double)count;
    m.scaled_mae = sae / (double)count;
    m.scaled_rmse = sqrt(m.scaled_mse);
    m.r2 = sst > 0 ? 1.0 - sse / sst : 0.0;
    m.mse = m.scaled_mse * range * range;
    m.mae = m.scaled_mae * range;
    m.rmse = m.scaled_rmse * range;
    m.smape = smape_n ? smape / (double)smape_n : 0.0;
    double amp = 0, timing = 0;
    for (size_t w = 0; w < n_windows; w++) {
        const double *p = pred + w * horizon, *t = truth + w * horizon;
        size_t ip = argmax_first(p, horizon), it = argmax_first(t, horizon);
        amp += fabs(t[it] - p[ip]) * range;
        timing += fabs((double)it - (double)ip);
    }
    m.peak_amplitude_error = amp / (double)n_windows;
    m.peak_timing_error = timing / (double)n_windows;
    *out = m;
}

double metrics_naive_mae(const double *history, size_t n)
{
    if (n < 2)
        return 0.0;
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += fabs(history[i] - history[i - 1]);
    return s / (double)(n - 1);
}

double metrics_coverage(size_t count, const double *truth, const double *lo, const double *hi)
{
    if (count == 0)
        return 0.0;
    size_t inside = 0;
    for (size_t k = 0; k < count; k++)
        if (truth[k] >= lo[k] && truth[k] <= hi[k])
            inside++;
    return (double)inside / (double)count;
}

void metrics_interval_coverage(size_t n, size_t horizon, size_t n_levels, const double *truth,
                               const double *lo, const double *hi, double *per_level,
                               double *per_step)
{
    for (size_t i = 0; i < n_levels; i++) {
        size_t total = 0;
        for (size_t j = 0; j < horizon; j++) {
            size_t inside = 0;
            for (size_t k = 0; k < n; k++) {
                size_t at = (k * n_levels + i) * horizon + j;
                double y = truth[k * horizon + j];
                inside += y >= lo[at] && y <= hi[at];
            }
            total += inside;
            if (per_step)
                per_step[i * horizon + j] = n ? (double)inside / (double)n : 0.0;
        }
        per_level[i] = n && horizon ? (double)total / (double)(n * horizon) : 0.0;
    }
}
