/* tsdata — the time-series benchmark suite (see tsdata.h). */
#include "model/tsdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct ts_dataset datasets[] = {
    {"bessel_j2", NULL, 256, 1, 0},
    {"damped_shm", NULL, 240, 1, 0},
    {"delayed_quantum_control", NULL, 2200, 1, 0},
    {"narma_5", NULL, 300, 0, 1},
    {"narma_10", NULL, 300, 0, 1},
    {"jaynes_cummings", "jaynes_cummings.csv", 3000, 1, 0},
    {"transmon", "transmon.csv", 3000, 1, 0},
};

#define N_DATASETS (sizeof datasets / sizeof datasets[0])

size_t tsdata_count(void)
{
    return N_DATASETS;
}

const struct ts_dataset *tsdata_at(size_t i)
{
    return i < N_DATASETS ? &datasets[i] : NULL;
}

const struct ts_dataset *tsdata_find(const char *name)
{
    for (size_t i = 0; i < N_DATASETS; i++)
        if (!strcmp(datasets[i].name, name))
            return &datasets[i];
    return NULL;
}

/* numpy.linspace(a, b, n)[k] */
static double linspace(double a, double b, size_t n, size_t k)
{
    if (k + 1 == n)
        return b;
    return a + (b - a) / (double)(n - 1) * (double)k;
}

/* J2(x) on linspace(2, 100, 256). */
static void bessel_j2(double *y, size_t n)
{
    for (size_t k = 0; k < n; k++)
        y[k] = jn(2, linspace(2.0, 100.0, n, k));
}

/* The damped pendulum theta'' = -(b/m) theta' - g sin(theta), theta(0) = 0, theta'(0) = 3,
 * sampled on linspace(0, 20, 240); the series is theta'. Classical Runge-Kutta with 2,000
 * steps per sample interval: its error (~1e-13) is far below odeint's default tolerance. */
static void damped_shm(double *y, size_t n)
{
    const double b = 0.15, g = 9.81, mass = 1.0;
    const int sub = 2000;
    double th = 0.0, om = 3.0;
    y[0] = om;
    for (size_t k = 1; k < n; k++) {
        double h = (linspace(0.0, 20.0, n, k) - linspace(0.0, 20.0, n, k - 1)) / sub;
        for (int s = 0; s < sub; s++) {
#define ACC(t, o) (-(b / mass) * (o)-g * sin(t))
            double k1t = om, k1o = ACC(th, om);
            double k2t = om + 0.5 * h * k1o, k2o = ACC(th + 0.5 * h * k1t, om + 0.5 * h * k1o);
            double k3t = om + 0.5 * h * k2o, k3o = ACC(th + 0.5 * h * k2t, om + 0.5 * h * k2o);
            double k4t = om + h * k3o, k4o = ACC(th + h * k3t, om + h * k3o);
#undef ACC
            th += h / 6.0 * (k1t + 2 * k2t + 2 * k3t + k4t);
            om += h / 6.0 * (k1o + 2 * k2o + 2 * k3o + k4o);
        }
        y[k] = om;
    }
}

/* s(x) = sum_{n=0..10} exp(-10 (x - 2n)^2) exp(-x/16) on numpy.arange(-2, 20, 0.01). */
static void delayed_quantum_control(double *y, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        double x = -2.0 + 0.01 * (double)k, s = 0.0;
        for (int p = 0; p <= 10; p++)
            s += exp(-10.0 * (x - 2.0 * p) * (x - 2.0 * p)) * exp(-x / 16.0);
        y[k] = s;
    }
}

/* NARMA-n0: u_t = 0.1 (sin(2pi 2.11 t/T) sin(2pi 3.73 t/T) sin(2pi 4.11 t/T) + 1),
 * y_0 = 0.196, y_{t+1} = 0.3 y_t + 0.05 y_t sum_{j<n0} y_{t-j} + 1.5 u_{t-n0+1} u_t + 0.1,
 * negative indices 0. */
static void narma(int order, double *y, double *u, size_t n)
{
    const double tau = 2.0 * 3.14159265358979323846, T = (double)n;
    for (size_t t = 0; t < n; t++) {
        double x = (double)t / T;
        u[t] = 0.1 * (sin(tau * 2.11 * x) * sin(tau * 3.73 * x) * sin(tau * 4.11 * x) + 1.0);
    }
    y[0] = 0.196;
    for (size_t t = 0; t + 1 < n; t++) {
        double sum = 0.0;
        for (int j = 0; j < order && (size_t)j <= t; j++)
            sum += y[t - (size_t)j];
        double lag = t + 1 >= (size_t)order ? u[t + 1 - (size_t)order] : 0.0;
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * sum + 1.5 * lag * u[t] + 0.1;
    }
}

int tsdata_generate(const struct ts_dataset *d, double *y, double *u, fw_error *err)
{
    size_t n = d->points;
    if (!strcmp(d->name, "bessel_j2"))
        bessel_j2(y, n);
    else if (!strcmp(d->name, "damped_shm"))
        damped_shm(y, n);
    else if (!strcmp(d->name, "delayed_quantum_control"))
        delayed_quantum_control(y, n);
    else if (!strcmp(d->name, "narma_5"))
        narma(5, y, u, n);
    else if (!strcmp(d->name, "narma_10"))
        narma(10, y, u, n);
    else
        return fw_error_set(err, FW_EINVAL, "%s is read from %s, not generated", d->name,
                            d->csv ? d->csv : "a file");
    return FW_OK;
}

/* sklearn's MinMaxScaler(feature_range=(-1, 1)) over the whole series. */
static int minmax(double *v, size_t n)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++)
        lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    if (!(hi > lo))
        return FW_EINVAL;
    for (size_t i = 0; i < n; i++)
        v[i] = (v[i] - lo) / (hi - lo) * 2.0 - 1.0;
    return FW_OK;
}

int tsdata_plan(const struct ts_dataset *d, const double *y, const double *u, size_t n,
                size_t window, struct split_plan *plan, fw_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (d->driven && !u)
        return fw_error_set(err, FW_EINVAL, "%s needs its driver series", d->name);
    if (window < 1 || n < window + 2 + 4)
        return fw_error_set(err, FW_EINVAL, "%s: %zu values are too few for windows of %zu",
                            d->name, n, window);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]) || (u && !isfinite(u[i])))
            return fw_error_set(err, FW_EINVAL, "%s: value %zu is not a finite number", d->name,
                                i + 1);
    plan->scaled = malloc(n * sizeof *plan->scaled);
    if (d->driven)
        plan->input = malloc(n * sizeof *plan->input);
    if (!plan->scaled || (d->driven && !plan->input)) {
        series_free(plan);
        return FW_ENOMEM;
    }
    memcpy(plan->scaled, y, n * sizeof *y);
    if (d->driven)
        memcpy(plan->input, u, n * sizeof *u);
    if (d->minmax && minmax(plan->scaled, n)) {
        series_free(plan);
        return fw_error_set(err, FW_EINVAL, "%s: the series is constant", d->name);
    }
    plan->protocol = PROTOCOL_PAPER;
    plan->first_month = 0;
    plan->n_months = n;
    plan->window = window;
    plan->horizon = 1;
    plan->n_windows = n - window - 1; /* i = 0 .. N-L-2 */
    size_t n_train = plan->n_windows * 4 / 5;
    plan->train = (struct split_range){0, n_train};
    plan->test = (struct split_range){n_train, plan->n_windows};
    plan->val = plan->test; /* logged, never selected on */
    plan->scaler = (struct scaler){0.0, 1.0};
    return FW_OK;
}

/* paper.md §1.6: hidden_size 8, R = 1, no BatchNorm or dropout, Linear(.->1) heads. */
static const struct {
    const char *architecture, *config;
} ts_configs[] = {
    {"gated-qkan-fwp", "slow_dim=3;hidden=5;fast_in=3;fast_out=3;slow_reps=1;fast_reps=1;"
                       "slow_preacts=0;batchnorm=0;dropout=0"},
    {"gqkanfwp", "hidden=7;fast_in=2;fast_out=3;fast_reps=1;batchnorm=0;dropout=0"},
    {"gqkan-fwp", "slow_dim=2;hidden=4;fast_in=4;fast_out=5;slow_reps=1;slow_preacts=0;"
                  "batchnorm=0;dropout=0"},
    {"gqkan-qfwp", "slow_dim=3;hidden=3;qubits=8;depth=2;fast_out=4;slow_reps=1;slow_preacts=0;"
                   "batchnorm=0;dropout=0"},
    {"qfwp", "hidden=8;qubits=8;depth=2;fast_out=4;batchnorm=0;dropout=0"},
};

const char *tsdata_model_config(const char *architecture)
{
    for (size_t i = 0; i < sizeof ts_configs / sizeof ts_configs[0]; i++)
        if (!strcmp(ts_configs[i].architecture, architecture))
            return ts_configs[i].config;
    return NULL;
}
