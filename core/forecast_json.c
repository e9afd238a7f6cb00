/* forecast_json — one forecast as JSON (see forecast_json.h). */
#include "core/forecast_json.h"
#include "model/daruan.h"
#include "base/period.h"
#include "base/textbuf.h"
#include "core/json_text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 16

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

char *forecast_json(const struct forecast_doc *d, size_t *len)
{
    char last[PERIOD_TEXT_MAX], keys[MAX_KEYS][2][32];
    size_t n_levels = d->n_levels < MAX_KEYS ? d->n_levels : MAX_KEYS;
    period_format(d->last_month, last);
    for (size_t i = 0; i < n_levels; i++) {
        snprintf(keys[i][0], sizeof keys[i][0], "lo-%g", d->levels[i]);
        snprintf(keys[i][1], sizeof keys[i][1], "hi-%g", d->levels[i]);
    }
    struct textbuf out = {0};
    textbuf_printf(&out,
                   "{\"model\":%lld,\"architecture\":\"%s\",\"h\":%zu,\"backend\":\"%s\","
                   "\"last_observed\":\"%s\",",
                   (long long)d->model, d->architecture, d->h, d->backend, last);
    if (strcmp(d->backend, "exact")) {
        textbuf_printf(&out, "\"shots\":%lld,\"seed\":%lld,\"noise\":", d->shots, d->seed);
        put_string_or_null(&out, d->noise);
        if (d->device) {
            textbuf_puts(&out, ",\"device\":");
            put_string_or_null(&out, d->device);
        }
        textbuf_printf(&out, ",\"readout\":\"%s\",\"circuits\":%llu,\"shots_total\":%llu,",
                       d->readout == DARUAN_BORN ? "born" : "amplitude",
                       (unsigned long long)d->circuits, (unsigned long long)d->shots_total);
    }
    textbuf_puts(&out, "\"level\":[");
    for (size_t i = 0; i < n_levels; i++) {
        textbuf_puts(&out, i ? "," : "");
        textbuf_number(&out, d->levels[i]);
    }
    textbuf_printf(&out,
                   "],\"intervals_guaranteed\":%s,\"dataset\":", d->guaranteed ? "true" : "false");
    if (d->dataset)
        textbuf_printf(&out, "%lld", (long long)d->dataset);
    else
        textbuf_puts(&out, "null");
    textbuf_puts(&out, ",\"forecast\":[");
    for (size_t j = 0; j < d->h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(d->last_month + 1 + (int)j, period);
        textbuf_printf(&out, "%s{\"period\":\"%s\",\"value\":", j ? "," : "", period);
        textbuf_number(&out, d->point[j]);
        for (size_t i = 0; i < n_levels; i++) {
            textbuf_printf(&out, ",\"%s\":", keys[i][0]);
            textbuf_number(&out, d->lo[i * d->h + j]);
            textbuf_printf(&out, ",\"%s\":", keys[i][1]);
            textbuf_number(&out, d->hi[i * d->h + j]);
        }
        textbuf_puts(&out, "}");
    }
    textbuf_puts(&out, "]}");
    return textbuf_take(&out, len);
}
