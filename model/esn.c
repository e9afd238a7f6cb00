/* esn — the modified echo state network baseline (see esn.h). */
#include "model/esn.h"
#include "model/gemm.h"
#include "model/layers.h"
#include "model/simd_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libmvec's vector tanh (glibc >= 2.35); simd_math.h declares the others. */
#pragma omp declare simd notinbranch
extern double tanh(double);

/* Windows run LANES at a time; a multiple of every vector width, so no lane is a scalar tail. */
#define LANES 8

/* Power iteration for the spectral radius: the geometric mean growth over MEASURE steps after
 * BURN_IN (robust to a complex dominant pair, whose single-step ratios oscillate). */
#define POWER_BURN_IN 100
#define POWER_MEASURE 500

struct esn {
    struct model base;
    int L, H, units, degree;
    double density, radius, leak, input_scaling, bias_scaling, ridge;
    /* buffers: the reservoir */
    double *values, *columns_f, *w_in, *bias;
    int *columns; /* columns_f as integers, rebuilt when the buffers change */
    int reservoir_ok;
    /* params: the readout */
    double *w_out, *b_out;
    /* workspace */
    size_t cap_n;
    int cap_threads;
    double *states;  /* n x units: last states of the last forward */
    double *scratch; /* per thread: 2 x units x LANES */
    size_t n;
    int have_forward;
};

/* ---- the reservoir ----------------------------------------------------------------------- */

/* Runs windows starts[0..LANES) of input through the reservoir in lock-step; leaves the last
 * states in x (units x LANES, lane-minor). pre is units x LANES scratch. */
HOT_KERNEL static void run_lanes(const struct esn *m, const double *input, const size_t *starts,
                                 double *restrict x, double *restrict pre)
{
    size_t U = (size_t)m->units, D = (size_t)m->degree, T = (size_t)m->L;
    const double a = m->leak, keep = 1.0 - m->leak;
    memset(x, 0, U * LANES * sizeof(double));
    for (size_t t = 0; t < T; t++) {
        double u[LANES];
        for (int l = 0; l < LANES; l++)
            u[l] = input[starts[l] + t];
        for (size_t i = 0; i < U; i++) {
            double acc[LANES];
            const double wi = m->w_in[i], bi = m->bias[i];
#pragma omp simd
            for (int l = 0; l < LANES; l++)
                acc[l] = bi + wi * u[l];
            const int *col = m->columns + i * D;
            const double *val = m->values + i * D;
            for (size_t k = 0; k < D; k++) {
                const double w = val[k], *xc = x + (size_t)col[k] * LANES;
#pragma omp simd
                for (int l = 0; l < LANES; l++)
                    acc[l] += w * xc[l];
            }
#pragma omp simd
            for (int l = 0; l < LANES; l++)
                pre[i * LANES + l] = acc[l];
        }
#pragma omp simd
        for (size_t k = 0; k < U * LANES; k++)
            x[k] = keep * x[k] + a * tanh(pre[k]);
    }
}

struct lanes_task {
    struct esn *m;
    const double *input;
    const size_t *starts;
    size_t n;
    double *states; /* n x units */
};

static void lanes_task(void *arg, size_t group, int thread)
{
    struct lanes_task *task = arg;
    struct esn *m = task->m;
    size_t U = (size_t)m->units, first = group * LANES;
    size_t count = task->n - first < LANES ? task->n - first : LANES;
    size_t starts[LANES];
    for (size_t l = 0; l < LANES; l++) /* idle lanes repeat the first window */
        starts[l] = task->starts[first + (l < count ? l : 0)];
    double *x = m->scratch + (size_t)thread * 2 * U * LANES, *pre = x + U * LANES;
    run_lanes(m, task->input, starts, x, pre);
    for (size_t l = 0; l < count; l++)
        for (size_t i = 0; i < U; i++)
            task->states[(first + l) * U + i] = x[i * LANES + l];
}

static int reserve(struct esn *m, size_t n, int threads)
{
    size_t U = (size_t)m->units;
    if (threads > m->cap_threads) {
        free(m->scratch);
        m->scratch = malloc((size_t)threads * 2 * U * LANES * sizeof(double));
        m->cap_threads = m->scratch ? threads : 0;
        if (!m->scratch)
            return FW_ENOMEM;
    }
    if (n > m->cap_n) {
        free(m->states);
        m->states = malloc(n * U * sizeof(double));
        m->cap_n = m->states ? n : 0;
        if (!m->states)
            return FW_ENOMEM;
    }
    return FW_OK;
}

/* Last states (n x units) of windows starts[0..n) of input. */
static int reservoir_states(struct esn *m, const double *input, const size_t *starts, size_t n,
                            struct pool *pool, double *states)
{
    if (!m->reservoir_ok)
        return FW_ECORRUPT;
    for (size_t k = 0; k < n; k++)
        for (size_t t = 0; t < (size_t)m->L; t++)
            if (!isfinite(input[starts[k] + t]))
                return FW_EINVAL;
    int rc = reserve(m, 0, pool_threads(pool));
    if (rc)
        return rc;
    struct lanes_task task = {m, input, starts, n, states};
    pool_run(pool, (n + LANES - 1) / LANES, lanes_task, &task);
    return FW_OK;
}

/* ---- forward, backward ------------------------------------------------------------------- */

static int esn_forward(struct model *base, const struct model_batch *b, int training,
                       struct model_run *run, double *out)
{
    struct esn *m = (struct esn *)base;
    m->have_forward = 0;
    if (b->n == 0)
        return FW_EINVAL;
    struct pool *pool = run ? run->pool : NULL;
    int rc = reserve(m, b->n, pool_threads(pool));
    if (!rc)
        rc = reservoir_states(m, b->input, b->starts, b->n, pool, m->states);
    if (rc)
        return rc;
    linear_forward(pool, b->n, m->units, m->H, m->states, m->w_out, m->b_out, out);
    m->n = b->n;
    m->have_forward = training;
    return FW_OK;
}

static int esn_backward(struct model *base, struct model_run *run, const double *dout)
{
    struct esn *m = (struct esn *)base;
    if (!m->have_forward)
        return FW_EINVAL;
    linear_backward(run ? run->pool : NULL, m->n, m->units, m->H, m->states, m->w_out, dout,
                    base->grads + (m->w_out - base->params),
                    base->grads + (m->b_out - base->params), NULL);
    m->have_forward = 0;
    return FW_OK;
}

/* ---- the ridge readout ------------------------------------------------------------------- */

/* Minimises sum ||y_k - W x_k - b||^2 + ridge ||W||^2 over the windows (the intercept is not
 * penalised): with centred states X and targets Y, (X^T X + ridge I) W^T = X^T Y by Cholesky
 * (gemm.h), then b = mean(y) - W mean(x). */
static int esn_fit(struct model *base, const double *series, const size_t *starts, size_t n,
                   struct pool *pool, fw_error *err)
{
    struct esn *m = (struct esn *)base;
    size_t U = (size_t)m->units, H = (size_t)m->H;
    if (n < 1)
        return fw_error_set(err, FW_EINVAL, "esn: no training windows to fit");
    double *X = malloc(n * U * sizeof(double)), *Y = malloc(n * H * sizeof(double));
    double *A = malloc(U * U * sizeof(double)), *B = malloc(U * H * sizeof(double));
    double *xm = calloc(U, sizeof(double)), *ym = calloc(H, sizeof(double));
    int rc = FW_ENOMEM;
    if (!X || !Y || !A || !B || !xm || !ym)
        goto cleanup;
    rc = reservoir_states(m, series, starts, n, pool, X);
    if (rc) {
        fw_error_set(err, rc, "esn: %s", rc == FW_EINVAL ? "non-finite input" : "bad reservoir");
        goto cleanup;
    }
    for (size_t k = 0; k < n; k++)
        memcpy(Y + k * H, series + starts[k] + (size_t)m->L, H * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < U; i++)
            xm[i] += X[k * U + i];
        for (size_t j = 0; j < H; j++)
            ym[j] += Y[k * H + j];
    }
    for (size_t i = 0; i < U; i++)
        xm[i] /= (double)n;
    for (size_t j = 0; j < H; j++)
        ym[j] /= (double)n;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < U; i++)
            X[k * U + i] -= xm[i];
        for (size_t j = 0; j < H; j++)
            Y[k * H + j] -= ym[j];
    }
    gemm_syrk_upper(pool, U, n, 1.0, X, U, 0.0, A, U);
    for (size_t i = 0; i < U; i++)
        A[i * U + i] += m->ridge;
    gemm_pool(pool, GEMM_T, GEMM_N, U, H, n, 1.0, X, U, Y, H, 0.0, B, H);
    int info = gemm_cholesky_solve(U, H, A, U, B, H);
    if (info != 0) {
        rc = fw_error_set(err, FW_ERANGE,
                          "esn: the ridge system is not positive definite (info %d); raise ridge",
                          info);
        goto cleanup;
    }
    for (size_t j = 0; j < H; j++) {
        double b = ym[j];
        for (size_t i = 0; i < U; i++) {
            m->w_out[j * U + i] = B[i * H + j];
            b -= B[i * H + j] * xm[i];
        }
        m->b_out[j] = b;
    }
    m->have_forward = 0;
    rc = FW_OK;
cleanup:
    free(X), free(Y), free(A), free(B), free(xm), free(ym);
    return rc;
}

/* ---- construction ------------------------------------------------------------------------ */

/* y = W x for the sparse reservoir matrix (without the cached integer columns). */
static void sparse_apply(const struct esn *m, const int *columns, const double *x, double *y)
{
    size_t D = (size_t)m->degree;
    for (size_t i = 0; i < (size_t)m->units; i++) {
        double s = 0.0;
        for (size_t k = 0; k < D; k++)
            s += m->values[i * D + k] * x[columns[i * D + k]];
        y[i] = s;
    }
}

static double spectral_radius(const struct esn *m, const int *columns, rng *r, double *v, double *w)
{
    size_t U = (size_t)m->units;
    double norm = 0.0, log_sum = 0.0;
    for (size_t i = 0; i < U; i++) {
        v[i] = rng_uniform_range(r, -1.0, 1.0);
        norm += v[i] * v[i];
    }
    norm = sqrt(norm);
    for (int it = 0; it < POWER_BURN_IN + POWER_MEASURE; it++) {
        for (size_t i = 0; i < U; i++)
            v[i] /= norm;
        sparse_apply(m, columns, v, w);
        norm = 0.0;
        for (size_t i = 0; i < U; i++)
            norm += w[i] * w[i];
        norm = sqrt(norm);
        if (!(norm > 1e-300))
            return 0.0; /* nilpotent: every state dies out */
        if (it >= POWER_BURN_IN)
            log_sum += log(norm);
        memcpy(v, w, U * sizeof(double));
    }
    return exp(log_sum / POWER_MEASURE);
}

static int draw_reservoir(struct esn *m, rng *r)
{
    size_t U = (size_t)m->units, D = (size_t)m->degree;
    int *perm = malloc(U * sizeof(int));
    double *v = malloc(U * sizeof(double)), *w = malloc(U * sizeof(double));
    if (!perm || !v || !w) {
        free(perm), free(v), free(w);
        return FW_ENOMEM;
    }
    for (size_t i = 0; i < U; i++)
        perm[i] = (int)i;
    for (size_t i = 0; i < U; i++) {
        /* D distinct sources: a partial Fisher-Yates shuffle (perm stays a permutation) */
        for (size_t k = 0; k < D; k++) {
            size_t j = k + (size_t)rng_below(r, U - k);
            int tmp = perm[k];
            perm[k] = perm[j];
            perm[j] = tmp;
        }
        int *col = m->columns + i * D;
        memcpy(col, perm, D * sizeof(int));
        for (size_t k = 1; k < D; k++) /* ascending, for locality */
            for (size_t j = k; j > 0 && col[j - 1] > col[j]; j--) {
                int tmp = col[j];
                col[j] = col[j - 1];
                col[j - 1] = tmp;
            }
        for (size_t k = 0; k < D; k++) {
            m->columns_f[i * D + k] = (double)col[k];
            m->values[i * D + k] = rng_uniform_range(r, -1.0, 1.0);
        }
    }
    for (size_t i = 0; i < U; i++)
        m->w_in[i] = m->input_scaling * rng_uniform_range(r, -1.0, 1.0);
    for (size_t i = 0; i < U; i++)
        m->bias[i] = m->bias_scaling * rng_uniform_range(r, -1.0, 1.0);
    double rho = spectral_radius(m, m->columns, r, v, w);
    if (rho > 0.0)
        for (size_t k = 0; k < U * D; k++)
            m->values[k] *= m->radius / rho;
    free(perm), free(v), free(w);
    return FW_OK;
}

/* The reservoir's column indices come from the buffers (a loaded file); they must be integers
 * naming units. */
static void esn_params_changed(struct model *base)
{
    struct esn *m = (struct esn *)base;
    size_t count = (size_t)m->units * (size_t)m->degree;
    m->reservoir_ok = 1;
    for (size_t k = 0; k < count; k++) {
        double c = m->columns_f[k];
        if (!(c >= 0.0 && c < (double)m->units && c == floor(c))) {
            m->reservoir_ok = 0;
            break;
        }
        m->columns[k] = (int)c;
    }
    m->have_forward = 0;
}

static void esn_destroy(struct model *base)
{
    struct esn *m = (struct esn *)base;
    if (!m)
        return;
    free(m->columns), free(m->states), free(m->scratch);
    free(base->params), free(base->grads), free(base->buffers), free(base->tensors);
    free(m);
}

/* clang-format off */
#define TR(block, name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_TRAINED, 0, 0.0, block}
#define BUF(name, nd, ...) {name, nd, {__VA_ARGS__}, TENSOR_BUFFER, 0, 0.0, NULL}
/* clang-format on */

static int esn_create(struct model_config *cfg, uint64_t seed, struct model **out, fw_error *err)
{
    struct esn *m = calloc(1, sizeof *m);
    if (!m)
        return FW_ENOMEM;
    m->base.ops = &esn_ops;
    long window, horizon, units;
    int rc;
    if ((rc = config_int(cfg, "window", 528, 1, 100000, &window, err)) ||
        (rc = config_int(cfg, "horizon", 132, 1, 10000, &horizon, err)) ||
        (rc = config_int(cfg, "units", 1000, 1, 20000, &units, err)) ||
        (rc = config_real(cfg, "density", 0.01, 0.0, 1.0, &m->density, err)) ||
        (rc = config_real(cfg, "spectral_radius", 0.9, 0.0, 10.0, &m->radius, err)) ||
        (rc = config_real(cfg, "leak", 0.1, 1e-6, 1.0, &m->leak, err)) ||
        (rc = config_real(cfg, "input_scaling", 1.0, 0.0, 100.0, &m->input_scaling, err)) ||
        (rc = config_real(cfg, "bias_scaling", 0.2, 0.0, 100.0, &m->bias_scaling, err)) ||
        (rc = config_real(cfg, "ridge", 0.01, 1e-12, 1e6, &m->ridge, err))) {
        free(m);
        return rc;
    }
    m->L = (int)window, m->H = (int)horizon, m->units = (int)units;
    long degree = lround(m->density * (double)units);
    m->degree = (int)(degree < 1 ? 1 : degree > units ? units : degree);
    int U = m->units, D = m->degree;
    struct tensor_info t[] = {
        BUF("reservoir.weight_values", 2, U, D),     BUF("reservoir.weight_columns", 2, U, D),
        BUF("reservoir.input_weight", 2, U, 1),      BUF("reservoir.bias", 1, U),
        TR("Readout", "readout.weight", 2, m->H, U), TR("Readout", "readout.bias", 1, m->H),
    };
    rc = model_alloc_tensors(&m->base, t, sizeof t / sizeof t[0]);
    if (rc) {
        free(m);
        return rc;
    }
    m->base.window = m->L;
    m->base.horizon = m->H;
    m->columns = malloc((size_t)U * (size_t)D * sizeof(int));
    if (!m->columns) {
        esn_destroy(&m->base);
        return FW_ENOMEM;
    }
    m->values = model_tensor_data(&m->base, "reservoir.weight_values");
    m->columns_f = model_tensor_data(&m->base, "reservoir.weight_columns");
    m->w_in = model_tensor_data(&m->base, "reservoir.input_weight");
    m->bias = model_tensor_data(&m->base, "reservoir.bias");
    m->w_out = model_tensor_data(&m->base, "readout.weight");
    m->b_out = model_tensor_data(&m->base, "readout.bias");
    rng r;
    rng_seed_stream(&r, seed, 1);
    rc = draw_reservoir(m, &r);
    if (rc) {
        esn_destroy(&m->base);
        return rc;
    }
    model_init_linear(&r, m->w_out, m->b_out, U, m->H);
    esn_params_changed(&m->base);
    *out = &m->base;
    return FW_OK;
}

const struct model_ops esn_ops = {
    .name = "esn",
    .description = "Modified echo state network: fixed sparse leaky-integrator reservoir (1,000 "
                   "units), ridge-regression readout from the last state to the whole horizon; "
                   "132,132 trained parameters",
    .create = esn_create,
    .destroy = esn_destroy,
    .forward = esn_forward,
    .backward = esn_backward,
    .params_changed = esn_params_changed,
    .fit_closed_form = esn_fit,
};
