/* forecast — one forecast, whoever asks (see forecast.h). */
#include "core/forecast.h"
#include "core/forecast_cycle.h"
#include "base/period.h"
#include "quantum/evaluator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int forecast_history_end(int first_month, size_t n, int cutoff, size_t *n_history, int *last_month,
                         fw_error *err)
{
    int last = first_month + (int)n - 1;
    if (n == 0)
        return fw_error_set(err, FW_EINVAL, "the series is empty");
    if (cutoff < 0) {
        *n_history = n;
        *last_month = last;
        return FW_OK;
    }
    if (cutoff < first_month || cutoff > last) {
        char c[PERIOD_TEXT_MAX], a[PERIOD_TEXT_MAX], b[PERIOD_TEXT_MAX];
        period_format(cutoff, c);
        period_format(first_month, a);
        period_format(last, b);
        return fw_error_set(err, FW_EINVAL, "cutoff %s is outside the data (%s..%s)", c, a, b);
    }
    *n_history = (size_t)(cutoff - first_month) + 1;
    *last_month = cutoff;
    return FW_OK;
}

const char *forecast_noise_file(const char *data_dir, char *buf, size_t size)
{
    if (!data_dir || snprintf(buf, size, "%s/noise_presets.json", data_dir) >= (int)size)
        return NULL;
    FILE *f = fopen(buf, "r");
    if (!f)
        return NULL;
    fclose(f);
    return buf;
}

size_t forecast_circuits(const struct forecaster *f)
{
    const struct tensor_info *t = model_tensor(f->model, "fwp_cell.qkan_layer.layers.0.theta");
    return f->model->ops->forward_quantum && t ? (size_t)t->shape[0] * (size_t)t->shape[1] : 0;
}

static int is_exact(const struct forecast_request *rq)
{
    return !rq->backend || !rq->backend->name || !strcmp(rq->backend->name, "exact");
}

int forecast_add_level(double *levels, size_t *n, double level, fw_error *err)
{
    if (level > 0 && level < 1)
        return fw_error_set(err, FW_EINVAL, "level %g: levels are percentages: did you mean %g?",
                            level, 100 * level);
    if (!(level > 0 && level < 100))
        return fw_error_set(err, FW_EINVAL, "level %g is not in (0, 100)", level);
    for (size_t i = 0; i < *n; i++)
        if (levels[i] == level)
            return FW_OK;
    if (*n == FORECAST_MAX_LEVELS)
        return fw_error_set(err, FW_EINVAL, "at most %d levels", FORECAST_MAX_LEVELS);
    levels[(*n)++] = level;
    return FW_OK;
}

int forecast_check(const struct forecast_request *rq, fw_error *err)
{
    const struct model *m = rq->model->model;
    if (rq->h < 1 || rq->h > (size_t)m->horizon)
        return fw_error_set(err, FW_EINVAL, "h %zu is beyond the model's horizon (1..%d)", rq->h,
                            m->horizon);
    if (rq->last_month > PERIOD_LAST - (int)rq->h)
        return fw_error_set(err, FW_EINVAL, "a forecast of %zu months would run past 9999-12",
                            rq->h);
    if (rq->n_levels > FORECAST_MAX_LEVELS)
        return fw_error_set(err, FW_EINVAL, "at most %d levels", FORECAST_MAX_LEVELS);
    for (size_t i = 0; i < rq->n_levels; i++)
        if (!(rq->levels[i] > 0 && rq->levels[i] < 100))
            return fw_error_set(err, FW_EINVAL, "level %g is not in (0, 100)", rq->levels[i]);
    if (!is_exact(rq) && !forecast_circuits(rq->model))
        return fw_error_set(err, FW_EINVAL, "%s has no circuits to run on a quantum backend",
                            m->ops->name);
    return FW_OK;
}

static int alloc_result(const struct forecast_request *rq, struct forecast_result *r)
{
    size_t cells = (rq->n_levels ? rq->n_levels : 1) * rq->h;
    r->h = rq->h;
    r->n_levels = rq->n_levels;
    r->last_month = rq->last_month;
    r->guaranteed = 1;
    r->readout = -1;
    const struct forecaster *f = rq->model;
    size_t window = (size_t)f->model->window, horizon = (size_t)f->model->horizon;
    r->trained_through = series_trained_through(f->protocol, f->data_first_month,
                                                f->data_last_month, window, horizon);
    int seen = series_in_sample(f->protocol, f->data_first_month, f->data_last_month, window,
                                horizon, rq->last_month);
    int same_data = !rq->history_sha256 || !rq->history_sha256[0] || !f->data_sha256[0] ||
                    !strcmp(rq->history_sha256, f->data_sha256);
    r->in_sample = seen < 0 ? -1 : same_data && seen;
    r->point = malloc(rq->h * sizeof *r->point);
    r->lo = malloc(cells * sizeof *r->lo);
    r->hi = malloc(cells * sizeof *r->hi);
    return r->point && r->lo && r->hi ? FW_OK : FW_ENOMEM;
}

/* The model's circuits through the request's backend (a local sampler, or a cloud). */
static int run_on_backend(const struct forecast_request *rq, struct forecast_result *r,
                          fw_error *err)
{
    struct qbackend *b = NULL;
    int rc = qbackend_open(rq->backend, &b, err);
    if (rc)
        return rc;
    struct backend_evaluator be = {.backend = b,
                                   .shots = rq->backend->shots,
                                   .poll_seconds = rq->poll_seconds > 0 ? rq->poll_seconds : 1.0,
                                   .timeout_seconds =
                                       rq->timeout_seconds > 0 ? rq->timeout_seconds : 60.0,
                                   .cancel = rq->cancel,
                                   .observer = rq->observer};
    struct daruan_evaluator ev = backend_evaluator(&be);
    rc = forecaster_predict_quantum(rq->model, rq->history, rq->n_history, rq->h, rq->levels,
                                    rq->n_levels, &ev, &r->readout, r->point, r->lo, r->hi,
                                    &r->guaranteed, err);
    r->circuits = be.circuits;
    r->shots_total = be.shots_total;
    qbackend_destroy(b);
    return rc;
}

int forecast_run(const struct forecast_request *rq, struct forecast_result *out, fw_error *err)
{
    struct forecast_result r = {0};
    int rc = forecast_check(rq, err);
    if (!rc && (rc = alloc_result(rq, &r)) == FW_ENOMEM)
        fw_error_set(err, FW_ENOMEM, "out of memory");
    if (!rc)
        rc = is_exact(rq)
                 ? forecaster_predict(rq->model, rq->history, rq->n_history, rq->h, rq->levels,
                                      rq->n_levels, NULL, r.point, r.lo, r.hi, &r.guaranteed, err)
                 : run_on_backend(rq, &r, err);
    if (!rc && (rc = forecast_cycle_fill(rq, &r)))
        fw_error_set(err, rc, "out of memory");
    if (rc) {
        forecast_result_free(&r);
        memset(out, 0, sizeof *out);
        return rc;
    }
    *out = r;
    return FW_OK;
}

void forecast_result_free(struct forecast_result *r)
{
    if (!r)
        return;
    free(r->point), free(r->lo), free(r->hi);
    free(r->smoothed), free(r->smoothed_lo), free(r->smoothed_hi);
    r->point = r->lo = r->hi = r->smoothed = r->smoothed_lo = r->smoothed_hi = NULL;
}

int forecast_plan(const struct forecast_request *rq, struct qplan *plan, fw_error *err)
{
    int rc = forecast_check(rq, err);
    if (rc)
        return rc;
    if (is_exact(rq))
        return fw_error_set(err, FW_EINVAL, "the exact backend runs no circuits to plan");
    struct qbackend *b = NULL;
    if ((rc = qbackend_open(rq->backend, &b, err)))
        return rc;
    qbackend_plan(b, forecast_circuits(rq->model), rq->backend->shots, plan);
    qbackend_destroy(b);
    return FW_OK;
}
