/* forecaster — a trained model with scaler, intervals and provenance (see forecaster.h). */
#include "model/forecaster.h"
#include "base/bytes.h"
#include "model/conformal.h"
#include "model/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'F', 'W', 'P', 'C', 'A', 'S', 'T', '\0'};

int forecaster_create(struct model *model, const struct scaler *scaler, struct forecaster **out)
{
    struct forecaster *f = calloc(1, sizeof *f);
    if (!f)
        return FW_ENOMEM;
    f->model = model;
    f->scaler = *scaler;
    f->cutoff_month = -1;
    f->data_first_month = f->data_last_month = -1;
    f->bands = (struct conformal_bands){CONFORMAL_ABSOLUTE, 0, 0.0};
    *out = f;
    return FW_OK;
}

void forecaster_free(struct forecaster *f)
{
    if (!f)
        return;
    model_destroy(f->model);
    free(f->residuals);
    free(f);
}

/* Predictions and truths of the windows in range. */
static int predict_range(struct forecaster *f, const struct split_plan *plan,
                         struct split_range range, struct pool *pool, double **pred_out,
                         double **truth_out)
{
    size_t n = range.end - range.begin, h = (size_t)f->model->horizon;
    size_t *starts = malloc((n ? n : 1) * sizeof *starts);
    double *pred = malloc((n ? n : 1) * h * sizeof *pred);
    double *truth = malloc((n ? n : 1) * h * sizeof *truth);
    if (!starts || !pred || !truth) {
        free(starts), free(pred), free(truth);
        return FW_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        starts[k] = range.begin + k;
        memcpy(truth + k * h, plan->scaled + starts[k] + plan->window, h * sizeof(double));
    }
    int rc = train_predict(f->model, series_inputs(plan), starts, n, pool, pred);
    free(starts);
    if (rc) {
        free(pred), free(truth);
        return rc;
    }
    *pred_out = pred;
    *truth_out = truth;
    return FW_OK;
}

void forecaster_default_bands(const struct scaler *scaler, struct conformal_bands *out)
{
    out->method = scaler->min >= 0 ? CONFORMAL_SQRT : CONFORMAL_SIGNED;
    out->monotone = 1;
    out->offset = out->method == CONFORMAL_SQRT ? 1.0 : 0.0;
}

int forecaster_calibrate(struct forecaster *f, const struct split_plan *plan, struct pool *pool)
{
    struct conformal_bands b;
    forecaster_default_bands(&f->scaler, &b);
    return forecaster_calibrate_with(f, plan, &b, pool);
}

int forecaster_calibrate_with(struct forecaster *f, const struct split_plan *plan,
                              const struct conformal_bands *bands, struct pool *pool)
{
    struct conformal_bands b = *bands;
    b.monotone = !!b.monotone;
    if (!conformal_valid_bands(&b, NULL, 0, 0) || (b.method == CONFORMAL_SQRT && f->scaler.min < 0))
        return FW_EINVAL;
    size_t n = plan->val.end - plan->val.begin, h = (size_t)f->model->horizon;
    double *pred, *truth;
    int rc = predict_range(f, plan, plan->val, pool, &pred, &truth);
    if (rc)
        return rc;
    double *residuals = malloc((n ? n : 1) * h * sizeof *residuals);
    if (!residuals) {
        free(pred), free(truth);
        return FW_ENOMEM;
    }
    /* the square root is taken on the series' own scale: sunspots, not [0, 1] */
    for (size_t i = 0; b.method == CONFORMAL_SQRT && i < n * h; i++) {
        pred[i] = scaler_invert(&f->scaler, pred[i]);
        truth[i] = scaler_invert(&f->scaler, truth[i]);
    }
    conformal_fit_scores(&b, n, h, pred, truth, residuals);
    free(pred), free(truth);
    free(f->residuals);
    f->residuals = residuals;
    f->n_calibration = n;
    f->bands = b;
    return FW_OK;
}

int forecaster_evaluate_quantum(struct forecaster *f, const struct split_plan *plan,
                                struct split_range range, const struct daruan_evaluator *ev,
                                int *readout, struct forecast_metrics *out, fw_error *err)
{
    struct model *m = f->model;
    if (!m->ops->forward_quantum)
        return fw_error_set(err, FW_EINVAL, "%s has no circuits to run on a quantum backend",
                            m->ops->name);
    size_t n = range.end - range.begin, h = (size_t)m->horizon;
    size_t *starts = malloc((n ? n : 1) * sizeof *starts);
    double *pred = malloc((n ? n : 1) * h * sizeof *pred);
    double *truth = malloc((n ? n : 1) * h * sizeof *truth);
    int rc = starts && pred && truth ? FW_OK : FW_ENOMEM;
    for (size_t k = 0; !rc && k < n; k++) {
        starts[k] = range.begin + k;
        memcpy(truth + k * h, plan->scaled + starts[k] + plan->window, h * sizeof(double));
    }
    if (!rc) {
        /* all windows in one batch: one evaluator call, one remote job on a cloud */
        struct model_batch b = {series_inputs(plan), NULL, starts, n};
        rc = m->ops->forward_quantum(m, &b, ev, readout, pred, err);
    }
    if (!rc)
        metrics_compute(n, h, pred, truth, f->scaler.max - f->scaler.min, f->scaler.min, out);
    free(starts), free(pred), free(truth);
    return rc;
}

int forecaster_evaluate(struct forecaster *f, const struct split_plan *plan,
                        struct split_range range, struct pool *pool, struct forecast_metrics *out)
{
    double *pred, *truth;
    int rc = predict_range(f, plan, range, pool, &pred, &truth);
    if (rc)
        return rc;
    metrics_compute(range.end - range.begin, (size_t)f->model->horizon, pred, truth,
                    f->scaler.max - f->scaler.min, f->scaler.min, out);
    free(pred), free(truth);
    return FW_OK;
}

static int check_levels(const double *levels, size_t n_levels, fw_error *err)
{
    for (size_t i = 0; i < n_levels; i++)
        if (!(levels[i] > 0 && levels[i] < 100))
            return fw_error_set(err, FW_ERANGE, "levels must be in (0, 100), got %g", levels[i]);
    return FW_OK;
}

/* The point forecast and bands of steps 0..h-1 from the model's scaled output out (lo and hi
 * n_levels x h, in the series' units); returns 1 when the calibration set supports every level. */
static int fill_bands(const struct forecaster *f, const double *out, size_t h, const double *levels,
                      size_t n_levels, double *point, double *lo, double *hi)
{
    double range = f->scaler.max - f->scaler.min;
    /* a series that was never negative (sunspots) gets no negative forecast or bound */
    double floor_value = f->scaler.min >= 0 ? 0.0 : -INFINITY;
    int all_guaranteed = 1;
    for (size_t j = 0; j < h; j++) {
        double raw = scaler_invert(&f->scaler, out[j]);
        point[j] = fmax(raw, floor_value);
        for (size_t i = 0; i < n_levels; i++) {
            double q_lo, q_hi, *l = &lo[i * h + j], *u = &hi[i * h + j];
            all_guaranteed &= conformal_quantiles(&f->bands, f->residuals, f->n_calibration, j,
                                                  levels[i], &q_lo, &q_hi);
            conformal_bounds(&f->bands, raw, q_lo, q_hi, range, l, u);
            *l = fmax(*l, floor_value);
            *u = fmax(*u, floor_value);
            if (f->bands.method != CONFORMAL_ABSOLUTE) { /* a symmetric band always contains it */
                *l = fmin(*l, point[j]);
                *u = fmax(*u, point[j]);
            }
        }
    }
    return all_guaranteed;
}

/* The classical forecast, or (ev not NULL) the one whose circuits ev evaluates. */
static int predict(struct forecaster *f, const double *history, size_t n, size_t h,
                   const double *levels, size_t n_levels, struct pool *pool,
                   const struct daruan_evaluator *ev, int *readout, double *point, double *lo,
                   double *hi, int *guaranteed, fw_error *err)
{
    struct model *m = f->model;
    size_t L = (size_t)m->window;
    if (h == 0 || h > (size_t)m->horizon)
        return fw_error_set(err, FW_ERANGE, "h must be in 1..%d (the model's horizon)", m->horizon);
    if (n < L)
        return fw_error_set(err, FW_EINVAL, "the model needs %zu months of history, got %zu", L, n);
    int rc = check_levels(levels, n_levels, err);
    if (rc)
        return rc;
    double *window = malloc(L * sizeof *window), *out = malloc((size_t)m->horizon * sizeof *out);
    if (!window || !out) {
        free(window), free(out);
        return FW_ENOMEM;
    }
    /* the last L months, missing values filled forward then backward as in training */
    const double *src = history + n - L;
    size_t first = 0;
    while (first < L && isnan(src[first]))
        first++;
    if (first == L) {
        free(window), free(out);
        return fw_error_set(err, FW_EINVAL, "every value of the last %zu months is missing", L);
    }
    for (size_t t = 0; t < L; t++) {
        double v = t < first ? src[first] : src[t];
        if (isnan(v))
            v = window[t - 1] * (f->scaler.max - f->scaler.min) + f->scaler.min;
        window[t] = scaler_apply(&f->scaler, v);
        if (!(fabs(window[t]) <= FORECASTER_MAX_SCALED)) {
            free(window), free(out);
            return fw_error_set(err, FW_ERANGE,
                                "a value of the history (%g) is far outside the range the model "
                                "was trained on (%g..%g)",
                                v, f->scaler.min, f->scaler.max);
        }
    }
    size_t start = 0;
    if (ev) {
        struct model_batch b = {window, NULL, &start, 1};
        rc = m->ops->forward_quantum
                 ? m->ops->forward_quantum(m, &b, ev, readout, out, err)
                 : fw_error_set(err, FW_EINVAL, "%s has no circuits to run on a quantum backend",
                                m->ops->name);
    } else {
        rc = train_predict(m, window, &start, 1, pool, out);
    }
    /* scaled back, a finite output can still overflow */
    for (size_t j = 0; !rc && j < (size_t)m->horizon; j++)
        if (!isfinite(out[j]) || !isfinite(scaler_invert(&f->scaler, out[j])))
            rc = fw_error_set(err, FW_ERANGE, "the model's output is not finite for this history");
    if (!rc) {
        int all_guaranteed = fill_bands(f, out, h, levels, n_levels, point, lo, hi);
        if (guaranteed)
            *guaranteed = all_guaranteed;
    }
    free(window), free(out);
    return rc;
}

int forecaster_coverage(struct forecaster *f, const struct split_plan *plan,
                        struct split_range range, const double *levels, size_t n_levels,
                        struct pool *pool, double *per_level, double *per_step)
{
    int rc = check_levels(levels, n_levels, NULL);
    if (rc)
        return rc;
    size_t n = range.end - range.begin, h = (size_t)f->model->horizon, L = n_levels;
    double *pred, *truth;
    if ((rc = predict_range(f, plan, range, pool, &pred, &truth)))
        return rc;
    double *lo = malloc((n ? n : 1) * (L ? L : 1) * h * sizeof *lo);
    double *hi = malloc((n ? n : 1) * (L ? L : 1) * h * sizeof *hi);
    double *point = malloc(h * sizeof *point);
    if (lo && hi && point) {
        for (size_t k = 0; k < n; k++) {
            fill_bands(f, pred + k * h, h, levels, L, point, lo + k * L * h, hi + k * L * h);
            for (size_t j = 0; j < h; j++)
                truth[k * h + j] = scaler_invert(&f->scaler, truth[k * h + j]);
        }
        metrics_interval_coverage(n, h, L, truth, lo, hi, per_level, per_step);
    } else {
        rc = FW_ENOMEM;
    }
    free(pred), free(truth), free(lo), free(hi), free(point);
    return rc;
}

int forecaster_predict(struct forecaster *f, const double *history, size_t n, size_t h,
                       const double *levels, size_t n_levels, struct pool *pool, double *point,
                       double *lo, double *hi, int *guaranteed, fw_error *err)
{
    return predict(f, history, n, h, levels, n_levels, pool, NULL, NULL, point, lo, hi, guaranteed,
                   err);
}

int forecaster_predict_quantum(struct forecaster *f, const double *history, size_t n, size_t h,
                               const double *levels, size_t n_levels,
                               const struct daruan_evaluator *ev, int *readout, double *point,
                               double *lo, double *hi, int *guaranteed, fw_error *err)
{
    return predict(f, history, n, h, levels, n_levels, NULL, ev, readout, point, lo, hi, guaranteed,
                   err);
}

static void put_metrics(struct bytes_writer *w, const struct forecast_metrics *m)
{
    bytes_put_u64(w, m->n_windows);
    bytes_put_u64(w, m->horizon);
    const double v[] = {
        m->scaled_mse, m->scaled_mae,           m->scaled_rmse,       m->r2,   m->mse, m->mae,
        m->rmse,       m->peak_amplitude_error, m->peak_timing_error, m->smape};
    bytes_put_f64s(w, v, sizeof v / sizeof v[0]);
}

static void get_metrics(struct bytes_reader *r, struct forecast_metrics *m)
{
    m->n_windows = bytes_get_u64(r);
    m->horizon = bytes_get_u64(r);
    double v[10];
    bytes_get_f64s(r, v, 10);
    m->scaled_mse = v[0], m->scaled_mae = v[1], m->scaled_rmse = v[2], m->r2 = v[3];
    m->mse = v[4], m->mae = v[5], m->rmse = v[6], m->peak_amplitude_error = v[7];
    m->peak_timing_error = v[8], m->smape = v[9];
}

/* Version 1 unless the bands need version 2: version-1 files stay byte for byte what they were,
 * and older readers still read a forecaster that has the bands they know. */
static uint32_t format_version(const struct forecaster *f)
{
    const struct conformal_bands *b = &f->bands;
    return b->method == CONFORMAL_ABSOLUTE && !b->monotone && b->offset == 0 ? 1u : 2u;
}

/* Provenance and the training summary, from the protocol to the test metrics. */
static void put_provenance(struct bytes_writer *w, const struct forecaster *f)
{
    bytes_put_u32(w, (uint32_t)f->protocol);
    bytes_put_u64(w, f->seed);
    bytes_put_u32(w, (uint32_t)f->cutoff_month);
    bytes_put_u32(w, (uint32_t)f->data_first_month);
    bytes_put_u32(w, (uint32_t)f->data_last_month);
    bytes_put_str(w, f->data_sha256);
    bytes_put_u32(w, (uint32_t)f->epochs);
    bytes_put_u32(w, (uint32_t)f->best_epoch);
    bytes_put_f64(w, f->train_loss);
    bytes_put_f64(w, f->val_loss);
    bytes_put_u32(w, (uint32_t)f->has_test_metrics);
    put_metrics(w, &f->test);
}

static void get_provenance(struct bytes_reader *r, struct forecaster *f)
{
    f->protocol = (enum protocol)bytes_get_u32(r);
    f->seed = bytes_get_u64(r);
    f->cutoff_month = (int)bytes_get_u32(r);
    f->data_first_month = (int)bytes_get_u32(r);
    f->data_last_month = (int)bytes_get_u32(r);
    bytes_get_str(r, f->data_sha256, sizeof f->data_sha256);
    f->epochs = (int)bytes_get_u32(r);
    f->best_epoch = (int)bytes_get_u32(r);
    f->train_loss = bytes_get_f64(r);
    f->val_loss = bytes_get_f64(r);
    f->has_test_metrics = (int)bytes_get_u32(r);
    get_metrics(r, &f->test);
}

int forecaster_save(const struct forecaster *f, uint8_t **data, size_t *len)
{
    const struct model *m = f->model;
    char config[CONFIG_MAX_OPTIONS * (CONFIG_KEY_MAX + CONFIG_VALUE_MAX + 2)];
    if (config_format(&m->config, config, sizeof config))
        return FW_ERANGE;
    uint32_t version = format_version(f);
    struct bytes_writer w = {0};
    bytes_put(&w, MAGIC, sizeof MAGIC);
    bytes_put_u32(&w, version);
    bytes_put_str(&w, m->ops->name);
    bytes_put_str(&w, config);
    bytes_put_u64(&w, m->n_params);
    bytes_put_u64(&w, m->n_buffers);
    bytes_put_f64(&w, f->scaler.min);
    bytes_put_f64(&w, f->scaler.max);
    put_provenance(&w, f);
    if (version >= 2) {
        bytes_put_u32(&w, (uint32_t)f->bands.method);
        bytes_put_u32(&w, f->bands.monotone ? 1u : 0u);
        bytes_put_f64(&w, f->bands.offset);
    }
    bytes_put_u64(&w, f->n_calibration);
    bytes_put_f64s(&w, f->residuals, f->n_calibration * (size_t)m->horizon);
    bytes_put_f64s(&w, m->params, m->n_params);
    bytes_put_f64s(&w, m->buffers, m->n_buffers);
    if (w.failed) {
        bytes_writer_free(&w);
        return FW_ENOMEM;
    }
    bytes_put_u32(&w, bytes_crc32(0, w.data, w.len));
    uint8_t *out = bytes_take(&w, len);
    if (!out)
        return FW_ENOMEM;
    *data = out;
    return FW_OK;
}

/* The magic, a version this reader knows (*version) and the checksum. */
static int check_envelope(const uint8_t *data, size_t len, uint32_t *version, fw_error *err)
{
    if (len < sizeof MAGIC + 8 || memcmp(data, MAGIC, sizeof MAGIC))
        return fw_error_set(err, FW_ECORRUPT, "not an fwpcast model file (bad magic)");
    *version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
               (uint32_t)data[11] << 24;
    if (*version < 1 || *version > FORECASTER_FORMAT_VERSION)
        return fw_error_set(err, FW_EVERSION,
                            "model file format version %u; this fwpcast reads versions 1 to %u",
                            *version, FORECASTER_FORMAT_VERSION);
    uint32_t stored = (uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 |
                      (uint32_t)data[len - 2] << 16 | (uint32_t)data[len - 1] << 24;
    if (bytes_crc32(0, data, len - 4) != stored)
        return fw_error_set(err, FW_ECORRUPT,
                            "model file checksum mismatch (corrupt or "
                            "truncated)");
    return FW_OK;
}

/* The architecture, its config and the tensor counts, as a fresh model of that shape. */
static int read_model(struct bytes_reader *r, struct model **out, fw_error *err)
{
    char arch[64], config[CONFIG_MAX_OPTIONS * (CONFIG_KEY_MAX + CONFIG_VALUE_MAX + 2)];
    bytes_get_str(r, arch, sizeof arch);
    bytes_get_str(r, config, sizeof config);
    uint64_t n_params = bytes_get_u64(r), n_buffers = bytes_get_u64(r);
    if (r->failed)
        return fw_error_set(err, FW_ECORRUPT, "model file header is truncated");
    struct model *m = NULL;
    int rc = model_create(arch, config, 0, &m, err);
    if (rc)
        return rc == FW_ENOMEM ? rc : fw_error_set(err, FW_ECORRUPT, "model file: %s", err->msg);
    if (n_params != m->n_params || n_buffers != m->n_buffers) {
        size_t expected = m->n_params;
        model_destroy(m);
        return fw_error_set(err, FW_ECORRUPT,
                            "model file has %llu parameters; %s with its config has %zu",
                            (unsigned long long)n_params, arch, expected);
    }
    *out = m;
    return FW_OK;
}

/* The bands (version 2; version 1 has the absolute ones forecaster_create set), the calibration
 * count and the scores, with the metadata read before them checked. */
static int read_calibration(struct bytes_reader *r, struct forecaster *f, uint32_t version,
                            fw_error *err)
{
    if (version >= 2) {
        uint32_t method = bytes_get_u32(r), flags = bytes_get_u32(r);
        f->bands.offset = bytes_get_f64(r);
        if (!r->failed && (method >= CONFORMAL_N_METHODS || flags > 1))
            return fw_error_set(err, FW_ECORRUPT, "model file's band method is unknown");
        f->bands.method = (enum conformal_method)method;
        f->bands.monotone = (int)flags;
    }
    uint64_t n_cal = bytes_get_u64(r);
    size_t h = (size_t)f->model->horizon;
    /* the range must be finite too: forecasts are scaled back by it; the fingerprint is a hex
     * digest (or empty), shown and exported as text */
    if (r->failed || n_cal > (r->len - r->pos) / 8 / h || !(f->scaler.max > f->scaler.min) ||
        !isfinite(f->scaler.max - f->scaler.min) ||
        strspn(f->data_sha256, "0123456789abcdefABCDEF") != strlen(f->data_sha256))
        return fw_error_set(err, FW_ECORRUPT, "model file metadata is invalid");
    f->n_calibration = n_cal;
    f->residuals = malloc((n_cal ? n_cal : 1) * h * sizeof(double));
    if (!f->residuals)
        return FW_ENOMEM;
    bytes_get_f64s(r, f->residuals, n_cal * h);
    return FW_OK;
}

/* What a checksum cannot vouch for: finite tensors, scores the bands' method can have written. */
static int check_contents(const struct forecaster *f, fw_error *err)
{
    const struct model *m = f->model;
    for (size_t i = 0; i < m->n_params + m->n_buffers; i++)
        if (!isfinite(i < m->n_params ? m->params[i] : m->buffers[i - m->n_params]))
            return fw_error_set(err, FW_ECORRUPT,
                                "model file has a non-finite parameter or buffer");
    size_t h = (size_t)m->horizon;
    if (f->bands.method == CONFORMAL_ABSOLUTE &&
        !conformal_valid(f->residuals, f->n_calibration, h))
        return fw_error_set(err, FW_ECORRUPT,
                            "model file's conformal residuals are not sorted non-negative numbers");
    if (!conformal_valid_bands(&f->bands, f->residuals, f->n_calibration, h))
        return fw_error_set(err, FW_ECORRUPT,
                            "model file's conformal residuals are not sorted finite numbers of "
                            "a valid band method");
    if (f->bands.method == CONFORMAL_SQRT && f->scaler.min < 0)
        return fw_error_set(err, FW_ECORRUPT,
                            "model file has square-root bands for a series with negative values");
    return FW_OK;
}

int forecaster_load(const uint8_t *data, size_t len, struct forecaster **out, fw_error *err)
{
    uint32_t version = 0;
    int rc = check_envelope(data, len, &version, err);
    if (rc)
        return rc;
    struct bytes_reader r = {data, len - 4, sizeof MAGIC + 4, 0};
    struct model *m = NULL;
    if ((rc = read_model(&r, &m, err)))
        return rc;
    struct scaler scaler;
    scaler.min = bytes_get_f64(&r);
    scaler.max = bytes_get_f64(&r);
    struct forecaster *f = NULL;
    if ((rc = forecaster_create(m, &scaler, &f))) {
        model_destroy(m);
        return rc;
    }
    get_provenance(&r, f);
    rc = read_calibration(&r, f, version, err);
    if (!rc) {
        bytes_get_f64s(&r, m->params, m->n_params);
        bytes_get_f64s(&r, m->buffers, m->n_buffers);
        if (r.failed || r.pos != r.len)
            rc = fw_error_set(err, FW_ECORRUPT, "model file is truncated or has trailing bytes");
    }
    if (!rc)
        rc = check_contents(f, err);
    if (rc) {
        forecaster_free(f);
        return rc;
    }
    model_params_changed(m);
    *out = f;
    return FW_OK;
}
