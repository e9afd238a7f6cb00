/* forecast_json — one forecast as JSON (see forecast_json.h). */
#include "core/forecast_json.h"
#include "model/daruan.h"
#include "quantum/factory.h"
#include "base/period.h"
#include "base/textbuf.h"
#include "core/json_text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string (escaped), or null. */
static void put_string_or_null(struct textbuf *out, const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    char *text = v ? json_text(v, JSON_ENCODE_ANY) : NULL;
    if (s && !text)
        out->failed = 1; /* out of memory: not a null for the string */
    textbuf_puts(out, text ? text : "null");
    free(text);
    json_decref(v);
}

/* A stored id as a number, else the label as a string, else null. */
static void put_id_or_label(struct textbuf *out, int64_t id, const char *label)
{
    if (id)
        textbuf_printf(out, "%lld", (long long)id);
    else
        put_string_or_null(out, label);
}

/* The shots, seed, noise, device, readout and cost of a run through a backend's shots. */
static void put_backend_run(struct textbuf *out, const struct qbackend_request *b,
                            const struct forecast_result *r)
{
    textbuf_printf(out, "\"shots\":%d,\"seed\":%llu,\"noise\":", b->shots,
                   (unsigned long long)b->seed);
    put_string_or_null(out, b->noise);
    if (qbackend_is_remote(b->name)) {
        textbuf_puts(out, ",\"device\":");
        put_string_or_null(out, qbackend_device(b));
    }
    textbuf_printf(out, ",\"readout\":\"%s\",\"circuits\":%llu,\"shots_total\":%llu,",
                   r->readout == DARUAN_BORN ? "born" : "amplitude",
                   (unsigned long long)r->circuits, (unsigned long long)r->shots_total);
}

static void put_rows(struct textbuf *out, const struct forecast_result *r, const double *levels)
{
    char keys[FORECAST_MAX_LEVELS][2][32];
    size_t n_levels = r->n_levels < FORECAST_MAX_LEVELS ? r->n_levels : FORECAST_MAX_LEVELS;
    for (size_t i = 0; i < n_levels; i++) {
        snprintf(keys[i][0], sizeof keys[i][0], "lo-%g", levels[i]);
        snprintf(keys[i][1], sizeof keys[i][1], "hi-%g", levels[i]);
    }
    textbuf_puts(out, "\"forecast\":[");
    for (size_t j = 0; j < r->h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(r->last_month + 1 + (int)j, period);
        textbuf_printf(out, "%s{\"period\":\"%s\",\"value\":", j ? "," : "", period);
        textbuf_number(out, r->point[j]);
        for (size_t i = 0; i < n_levels; i++) {
            textbuf_printf(out, ",\"%s\":", keys[i][0]);
            textbuf_number(out, r->lo[i * r->h + j]);
            textbuf_printf(out, ",\"%s\":", keys[i][1]);
            textbuf_number(out, r->hi[i * r->h + j]);
        }
        textbuf_puts(out, "}");
    }
    textbuf_puts(out, "]");
}

/* "in_sample", "trained_through" and, in sample, a "warning". */
static void put_sample(struct textbuf *out, const struct forecast_result *r)
{
    char through[PERIOD_TEXT_MAX];
    if (r->trained_through >= 0)
        period_format(r->trained_through, through);
    textbuf_printf(out, "\"in_sample\":%s,\"trained_through\":",
                   r->in_sample < 0 ? "null"
                   : r->in_sample   ? "true"
                                    : "false");
    put_string_or_null(out, r->trained_through >= 0 ? through : NULL);
    if (r->in_sample == 1)
        textbuf_printf(out,
                       ",\"warning\":\"the model saw months up to %s in training, past the last "
                       "observed month: this is not an out-of-sample forecast (train with a cutoff "
                       "for a hindcast)\"",
                       through);
    textbuf_puts(out, ",");
}

/* One point of a series with its bands: {"period", "value", "lo-N", "hi-N"... (left open). */
static void put_banded(struct textbuf *out, int month, double value, const double *lo,
                       const double *hi, size_t stride, const double *levels, size_t n_levels)
{
    char period[PERIOD_TEXT_MAX];
    period_format(month, period);
    textbuf_printf(out, "{\"period\":\"%s\",\"value\":", period);
    textbuf_number(out, value);
    for (size_t i = 0; i < n_levels; i++) {
        textbuf_printf(out, ",\"lo-%g\":", levels[i]);
        textbuf_number(out, lo[i * stride]);
        textbuf_printf(out, ",\"hi-%g\":", levels[i]);
        textbuf_number(out, hi[i * stride]);
    }
}

static void put_smoothed(struct textbuf *out, const struct forecast_result *r, const double *levels)
{
    textbuf_puts(out, "\"smoothed\":[");
    for (size_t k = 0; k < r->n_smoothed; k++) {
        textbuf_puts(out, k ? "," : "");
        put_banded(out, r->smoothed_first + (int)k, r->smoothed[k], r->smoothed_lo + k,
                   r->smoothed_hi + k, r->n_smoothed, levels, r->n_levels);
        textbuf_puts(out, "}");
    }
    textbuf_puts(out, "],");
}

static void put_extreme(struct textbuf *out, const char *key, const struct forecast_extreme *e,
                        const double *levels, size_t n_levels)
{
    textbuf_printf(out, "\"%s\":", key);
    if (!e->found) {
        textbuf_puts(out, "null");
        return;
    }
    put_banded(out, e->month, e->value, e->lo, e->hi, 1, levels, n_levels);
    char a[PERIOD_TEXT_MAX], b[PERIOD_TEXT_MAX];
    period_format(e->earliest, a);
    period_format(e->latest, b);
    textbuf_printf(out, ",\"earliest\":\"%s\",\"latest\":\"%s\"}", a, b);
}

static void put_cycle(struct textbuf *out, const struct forecast_result *r, const double *levels)
{
    textbuf_puts(out, "\"cycle\":{\"number\":");
    if (r->cycle_number > 0)
        textbuf_printf(out, "%d", r->cycle_number);
    else
        textbuf_puts(out, "null");
    textbuf_puts(out, ",");
    put_extreme(out, "next_minimum", &r->next_minimum, levels, r->n_levels);
    textbuf_puts(out, ",");
    put_extreme(out, "next_maximum", &r->next_maximum, levels, r->n_levels);
    textbuf_puts(out, "},");
}

char *forecast_json(const struct forecast_doc *d, size_t *len)
{
    const struct forecast_request *rq = d->rq;
    const struct forecast_result *r = d->r;
    const char *backend = rq->backend && rq->backend->name ? rq->backend->name : "exact";
    char last[PERIOD_TEXT_MAX];
    period_format(r->last_month, last);
    struct textbuf out = {0};
    textbuf_puts(&out, "{\"model\":");
    put_id_or_label(&out, d->model, d->model_label);
    textbuf_printf(&out, ",\"architecture\":\"%s\",\"h\":%zu,\"backend\":\"%s\",",
                   rq->model->model->ops->name, r->h, backend);
    textbuf_printf(&out, "\"last_observed\":\"%s\",", last);
    if (strcmp(backend, "exact"))
        put_backend_run(&out, rq->backend, r);
    textbuf_puts(&out, "\"level\":[");
    for (size_t i = 0; i < r->n_levels; i++) {
        textbuf_puts(&out, i ? "," : "");
        textbuf_number(&out, rq->levels[i]);
    }
    textbuf_printf(&out,
                   "],\"intervals_guaranteed\":%s,\"dataset\":", r->guaranteed ? "true" : "false");
    put_id_or_label(&out, d->dataset, d->dataset_label);
    textbuf_puts(&out, ",");
    put_sample(&out, r);
    put_cycle(&out, r, rq->levels);
    put_smoothed(&out, r, rq->levels);
    if (d->quantum_json)
        textbuf_printf(&out, "\"quantum\":%s,", d->quantum_json);
    put_rows(&out, r, rq->levels);
    textbuf_puts(&out, "}");
    return textbuf_take(&out, len);
}
