/* model_json — JSON export/import and summaries of models (see model_json.h). */
#include "core/model_json.h"
#include "model/conformal.h"
#include "base/period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *model_json_config(const struct model_config *cfg)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < cfg->n; i++) {
        const char *v = cfg->options[i].value;
        char *end;
        double d = strtod(v, &end);
        json_t *value;
        if (*end == '\0' && end != v && isfinite(d))
            value = (d == floor(d) && fabs(d) < 1e15 && !strpbrk(v, ".eE"))
                        ? json_integer((json_int_t)d)
                        : json_real(d);
        else
            value = json_string(v);
        if (json_object_set_new(obj, cfg->options[i].key, value)) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* 1 when s is made of the characters config.h allows in a key (`key`) or a value: nothing that
 * could end an option and start another (';', ',', '=', spaces). */
static int config_safe(const char *s, int key)
{
    static const char key_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static const char value_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_.+-";
    size_t n = strlen(s);
    return n > 0 && strspn(s, key ? key_chars : value_chars) == n;
}

int model_json_config_text(const json_t *obj, char *text, size_t size, fw_error *err)
{
    if (!json_is_object(obj))
        return fw_error_set(err, FW_EINVAL, "config must be a JSON object");
    size_t used = 0;
    const char *key;
    json_t *value;
    text[0] = '\0';
    json_object_foreach((json_t *)obj, key, value)
    {
        char buf[64];
        if (json_is_integer(value))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(value));
        else if (json_is_real(value))
            config_format_real(json_real_value(value), buf, sizeof buf);
        else if (json_is_boolean(value))
            snprintf(buf, sizeof buf, "%d", json_is_true(value));
        else if (json_is_string(value) && json_string_length(value) < sizeof buf)
            snprintf(buf, sizeof buf, "%s", json_string_value(value));
        else
            return fw_error_set(err, FW_EINVAL,
                                "config option '%.40s' must be a number, string or boolean", key);
        if (!config_safe(key, 1))
            return fw_error_set(err, FW_EINVAL,
                                "config option '%.40s': a key is lower-case letters, digits and _",
                                key);
        if (!config_safe(buf, 0))
            return fw_error_set(err, FW_EINVAL,
                                "config option '%.40s': '%.40s' is not a number or a word "
                                "(letters, digits, _ . + -)",
                                key, buf);
        int w = snprintf(text + used, size - used, "%s%s=%s", used ? ";" : "", key, buf);
        if (w < 0 || (size_t)w >= size - used)
            return fw_error_set(err, FW_EINVAL, "config has too many options");
        used += (size_t)w;
    }
    return FW_OK;
}

/* A number, or null when it is not finite (JSON has no NaN or infinity; jansson's json_real
 * refuses them, which would fail the whole document). */
static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *model_json_metrics(const struct forecast_metrics *m)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "windows",
                     (json_int_t)m->n_windows, "horizon", (json_int_t)m->horizon, "scaled_mse",
                     real_or_null(m->scaled_mse), "scaled_mae", real_or_null(m->scaled_mae),
                     "scaled_rmse", real_or_null(m->scaled_rmse), "r2", real_or_null(m->r2), "mse",
                     real_or_null(m->mse), "mae", real_or_null(m->mae), "rmse",
                     real_or_null(m->rmse), "peak_amplitude_error",
                     real_or_null(m->peak_amplitude_error), "peak_timing_error",
                     real_or_null(m->peak_timing_error), "smape", real_or_null(m->smape));
}

static json_t *period_or_null(int month)
{
    if (month < 0)
        return json_null();
    char text[PERIOD_TEXT_MAX];
    period_format(month, text);
    return json_string(text);
}

json_t *model_json_summary(const struct forecaster *f)
{
    const struct model *m = f->model;
    json_t *o = json_pack(
        "{s:s, s:I, s:o, s:i, s:i, s:s, s:I, s:o, s:o, s:o, s:s, s:{s:f, s:f}, s:{s:i, s:i, "
        "s:o, s:o}, s:I}",
        "architecture", m->ops->name, "parameters", (json_int_t)m->n_params, "config",
        model_json_config(&m->config), "window", m->window, "horizon", m->horizon, "protocol",
        series_protocol_name(f->protocol), "seed", (json_int_t)f->seed, "cutoff",
        period_or_null(f->cutoff_month), "data_first", period_or_null(f->data_first_month),
        "data_last", period_or_null(f->data_last_month), "data_sha256", f->data_sha256, "scaler",
        "min", f->scaler.min, "max", f->scaler.max, "training", "epochs", f->epochs, "best_epoch",
        f->best_epoch, "train_loss", real_or_null(f->train_loss), "val_loss",
        real_or_null(f->val_loss), "calibration_windows", (json_int_t)f->n_calibration);
    if (o && f->has_test_metrics &&
        json_object_set_new(o, "test_metrics", model_json_metrics(&f->test))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static size_t tensor_count(const struct tensor_info *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

static json_t *tensor_json(const struct model *m, const struct tensor_info *t)
{
    json_t *shape = json_array();
    for (int d = 0; shape && d < t->ndim; d++)
        if (json_array_append_new(shape, json_integer(t->shape[d]))) {
            json_decref(shape);
            return NULL;
        }
    size_t n = tensor_count(t);
    json_t *data = NULL;
    if (t->kind == TENSOR_TRAINED) {
        data = doubles(m->params + t->offset, n);
    } else if (t->kind == TENSOR_BUFFER) {
        /* num_batches_tracked is an integer in PyTorch; a file or document may hold any number
         * there, and only one in int64's range converts */
        double v = m->buffers[t->offset];
        if (t->ndim == 0 && v == floor(v) && fabs(v) < 0x1p63)
            data = json_pack("[I]", (json_int_t)v);
        else
            data = doubles(m->buffers + t->offset, n);
    } else {
        data = json_array();
        for (size_t i = 0; data && i < n; i++)
            if (json_array_append_new(data, json_real(t->fill))) {
                json_decref(data);
                data = NULL;
            }
    }
    const char *kind = t->kind == TENSOR_TRAINED  ? "trained"
                       : t->kind == TENSOR_BUFFER ? "buffer"
                       : t->kind == TENSOR_UNUSED ? "unused"
                                                  : "frozen";
    return json_pack("{s:o, s:s, s:o}", "shape", shape, "kind", kind, "data", data);
}

json_t *model_json_export(const struct forecaster *f)
{
    const struct model *m = f->model;
    json_t *state = json_object();
    for (size_t i = 0; state && i < m->n_tensors; i++) {
        json_t *t = tensor_json(m, &m->tensors[i]);
        if (!t || json_object_set_new(state, m->tensors[i].name, t)) {
            json_decref(state);
            return NULL;
        }
    }
    json_t *residuals = json_array();
    int failed = !state || !residuals;
    for (int j = 0; !failed && j < m->horizon; j++) /* no residuals: NULL, no row to offset */
        failed = json_array_append_new(
            residuals,
            doubles(f->n_calibration ? f->residuals + (size_t)j * f->n_calibration : NULL,
                    f->n_calibration));
    json_t *doc = failed ? NULL : model_json_summary(f);
    if (!doc) {
        json_decref(state), json_decref(residuals);
        return NULL;
    }
    /* every call, so that each member is either added or released */
    failed = json_object_set_new(doc, "format", json_string(MODEL_JSON_FORMAT));
    failed |= json_object_set_new(doc, "version", json_integer(MODEL_JSON_VERSION));
    failed |= json_object_set_new(doc, "conformal_method",
                                  json_string(conformal_method_name(f->bands.method)));
    failed |= json_object_set_new(doc, "conformal_monotone", json_boolean(f->bands.monotone));
    failed |= json_object_set_new(doc, "conformal_offset", json_real(f->bands.offset));
    failed |= json_object_set_new(doc, "conformal_residuals", residuals);
    failed |= json_object_set_new(doc, "state_dict", state);
    if (failed) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* A tensor from {"shape": [...], "data": [...]} or a bare nested/flat list of numbers. */
static int read_tensor(const json_t *entry, const struct tensor_info *t, double *dst, fw_error *err)
{
    const json_t *data = json_is_object(entry) ? json_object_get(entry, "data") : entry;
    const json_t *shape = json_is_object(entry) ? json_object_get(entry, "shape") : NULL;
    if (shape) {
        if (!json_is_array(shape) || json_array_size(shape) != (size_t)t->ndim)
            return fw_error_set(err, FW_EINVAL, "%s: shape has %zu dimensions, expected %d",
                                t->name, json_array_size(shape), t->ndim);
        for (int d = 0; d < t->ndim; d++) {
            json_t *dim = json_array_get(shape, (size_t)d);
            if (!json_is_integer(dim) || json_integer_value(dim) != t->shape[d])
                return fw_error_set(err, FW_EINVAL, "%s: dimension %d is not %d", t->name, d,
                                    t->shape[d]);
        }
    }
    size_t n = tensor_count(t);
    if (!json_is_array(data) || json_array_size(data) != n)
        return fw_error_set(err, FW_EINVAL, "%s: expected %zu numbers", t->name, n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(data, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return fw_error_set(err, FW_EINVAL, "%s[%zu]: not a finite number", t->name, i);
        dst[i] = json_number_value(v);
    }
    return FW_OK;
}

static int check_frozen(const json_t *entry, const struct tensor_info *t, fw_error *err)
{
    size_t n = tensor_count(t);
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return FW_ENOMEM;
    int rc = read_tensor(entry, t, tmp, err);
    for (size_t i = 0; !rc && i < n; i++)
        if (tmp[i] != t->fill)
            rc = fw_error_set(err, FW_EINVAL, "%s is frozen at %g in this model, found %g", t->name,
                              t->fill, tmp[i]);
    free(tmp);
    return rc;
}

/* The document's scaler, else the caller's; FW_EINVAL when neither is there or it is empty. */
static int read_scaler(const json_t *doc, const struct scaler *fallback, struct scaler *sc,
                       fw_error *err)
{
    const json_t *js = json_object_get(doc, "scaler");
    if (js) {
        json_t *mn = json_object_get(js, "min"), *mx = json_object_get(js, "max");
        if (!json_is_number(mn) || !json_is_number(mx))
            return fw_error_set(err, FW_EINVAL, "scaler needs numbers min and max");
        sc->min = json_number_value(mn);
        sc->max = json_number_value(mx);
    } else if (fallback) {
        *sc = *fallback;
    } else {
        return fw_error_set(err, FW_EINVAL,
                            "no scaler: add \"scaler\": {\"min\": ..., \"max\": ...} (the paper "
                            "protocol's is min 0, max 398.2)");
    }
    if (!isfinite(sc->max - sc->min) || !(sc->max > sc->min))
        return fw_error_set(err, FW_EINVAL, "scaler max must exceed min");
    return FW_OK;
}

/* Every tensor of m from the state_dict (frozen ones are checked, unused ones ignored). */
static int read_state_dict(const json_t *state, struct model *m, fw_error *err)
{
    int rc = FW_OK;
    for (size_t i = 0; !rc && i < m->n_tensors; i++) {
        const struct tensor_info *t = &m->tensors[i];
        const json_t *entry = json_object_get(state, t->name);
        if (t->kind == TENSOR_UNUSED)
            continue;
        if (t->kind == TENSOR_CONST) {
            if (entry)
                rc = check_frozen(entry, t, err);
            continue;
        }
        if (!entry)
            return fw_error_set(err, FW_EINVAL, "state_dict lacks %s", t->name);
        double *dst = (t->kind == TENSOR_TRAINED ? m->params : m->buffers) + t->offset;
        rc = read_tensor(entry, t, dst, err);
    }
    return rc;
}

/* The band method of the residuals (model/conformal.h); a document without one has the
 * version-1 bands, absolute residuals. */
static int read_bands(const json_t *doc, struct conformal_bands *b, fw_error *err)
{
    const json_t *method = json_object_get(doc, "conformal_method");
    int m = method ? conformal_method_parse(json_string_value(method)) : CONFORMAL_ABSOLUTE;
    if (m < 0)
        return fw_error_set(err, FW_EINVAL, "conformal_method must be absolute, signed or sqrt");
    b->method = (enum conformal_method)m;
    b->monotone = json_is_true(json_object_get(doc, "conformal_monotone"));
    b->offset = json_number_value(json_object_get(doc, "conformal_offset"));
    return FW_OK;
}

/* The conformal residuals, when the document carries them (horizon rows of sorted values). */
static int read_residuals(const json_t *doc, struct forecaster *f, fw_error *err)
{
    const json_t *res = json_object_get(doc, "conformal_residuals");
    size_t H = (size_t)f->model->horizon;
    if (!json_is_array(res) || json_array_size(res) != H)
        return FW_OK;
    int rc = read_bands(doc, &f->bands, err);
    if (rc)
        return rc;
    size_t n = json_array_size(json_array_get(res, 0));
    f->residuals = malloc((n ? n : 1) * H * sizeof(double));
    if (!f->residuals)
        return FW_ENOMEM;
    for (size_t j = 0; j < H; j++) {
        const json_t *row = json_array_get(res, j);
        for (size_t k = 0; k < n; k++) {
            const json_t *v = json_array_get(row, k);
            if (!json_is_number(v) || json_array_size(row) != n)
                return fw_error_set(err, FW_EINVAL, "conformal_residuals[%zu] is malformed", j);
            f->residuals[j * n + k] = json_number_value(v);
        }
    }
    if (f->bands.method == CONFORMAL_ABSOLUTE && !conformal_valid(f->residuals, n, H))
        return fw_error_set(err, FW_EINVAL,
                            "conformal_residuals must be sorted non-negative numbers per step");
    if (!conformal_valid_bands(&f->bands, f->residuals, n, H) ||
        (f->bands.method == CONFORMAL_SQRT && f->scaler.min < 0))
        return fw_error_set(err, FW_EINVAL,
                            "conformal_residuals must be sorted finite numbers per step, with a "
                            "conformal_offset the conformal_method can have");
    f->n_calibration = n;
    return FW_OK;
}

static void read_test_metrics(const json_t *tm, struct forecast_metrics *m)
{
    m->n_windows = (size_t)json_integer_value(json_object_get(tm, "windows"));
    m->horizon = (size_t)json_integer_value(json_object_get(tm, "horizon"));
    const char *names[] = {
        "scaled_mse", "scaled_mae",           "scaled_rmse",       "r2",   "mse", "mae",
        "rmse",       "peak_amplitude_error", "peak_timing_error", "smape"};
    double *fields[] = {
        &m->scaled_mse, &m->scaled_mae,           &m->scaled_rmse,       &m->r2,   &m->mse, &m->mae,
        &m->rmse,       &m->peak_amplitude_error, &m->peak_timing_error, &m->smape};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        *fields[i] = json_number_value(json_object_get(tm, names[i]));
}

/* Provenance and the training summary, when the document carries them. */
static void read_provenance(const json_t *doc, struct forecaster *f)
{
    const char *protocol = json_string_value(json_object_get(doc, "protocol"));
    if (protocol)
        series_protocol_parse(protocol, &f->protocol);
    json_t *seed = json_object_get(doc, "seed");
    if (json_is_integer(seed))
        f->seed = (uint64_t)json_integer_value(seed);
    const char *sha = json_string_value(json_object_get(doc, "data_sha256"));
    /* a hex digest, as forecaster_load requires; anything else is not a fingerprint of ours */
    if (sha && strlen(sha) < sizeof f->data_sha256 &&
        strspn(sha, "0123456789abcdefABCDEF") == strlen(sha))
        strcpy(f->data_sha256, sha);
    const json_t *training = json_object_get(doc, "training");
    if (json_is_object(training)) {
        f->epochs = (int)json_integer_value(json_object_get(training, "epochs"));
        f->best_epoch = (int)json_integer_value(json_object_get(training, "best_epoch"));
        f->train_loss = json_number_value(json_object_get(training, "train_loss"));
        f->val_loss = json_number_value(json_object_get(training, "val_loss"));
    }
    const json_t *tm = json_object_get(doc, "test_metrics");
    if (json_is_object(tm)) {
        f->has_test_metrics = 1;
        read_test_metrics(tm, &f->test);
    }
    const char *periods[3] = {json_string_value(json_object_get(doc, "cutoff")),
                              json_string_value(json_object_get(doc, "data_first")),
                              json_string_value(json_object_get(doc, "data_last"))};
    int *months[3] = {&f->cutoff_month, &f->data_first_month, &f->data_last_month};
    for (int i = 0; i < 3; i++)
        if (periods[i])
            period_parse(periods[i], months[i]);
}

int model_json_import(const json_t *doc, const struct scaler *scaler, struct forecaster **out,
                      fw_error *err)
{
    if (!json_is_object(doc))
        return fw_error_set(err, FW_EINVAL, "model JSON must be an object");
    const json_t *state = json_object_get(doc, "state_dict");
    if (!state)
        state = doc; /* a bare state_dict */
    if (!json_is_object(state))
        return fw_error_set(err, FW_EINVAL, "state_dict must be an object");
    const char *arch = json_string_value(json_object_get(doc, "architecture"));
    char config[1024] = "";
    const json_t *cfg = json_object_get(doc, "config");
    struct scaler sc;
    int rc = cfg ? model_json_config_text(cfg, config, sizeof config, err) : FW_OK;
    if (!rc)
        rc = read_scaler(doc, scaler, &sc, err);
    struct model *m = NULL;
    if (!rc)
        rc = model_create(arch ? arch : "gated-qkan-fwp", config, 0, &m, err);
    if (rc)
        return rc;
    struct forecaster *f = NULL;
    rc = read_state_dict(state, m, err);
    if (!rc)
        rc = forecaster_create(m, &sc, &f);
    if (rc) {
        model_destroy(m);
        return rc;
    }
    model_params_changed(m);
    if ((rc = read_residuals(doc, f, err))) {
        forecaster_free(f);
        return rc;
    }
    read_provenance(doc, f);
    *out = f;
    return FW_OK;
}
