/*
 * forecast_json — the JSON text of one forecast: POST /forecast's answer, the result of a
 * quantum forecast job and `fwpcast forecast --json` (one document, so a client reads them all
 * alike). Written by hand into a textbuf: formatting the numbers through jansson was most of a
 * request's cost. Everything passed in is borrowed; the text returned is malloc'd.
 */
#ifndef FW_FORECAST_JSON_H
#define FW_FORECAST_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/forecast.h"

struct forecast_doc {
    const struct forecast_request *rq;
    const struct forecast_result *r;
    int64_t model;           /* the stored model's id; 0: model_label names it */
    const char *model_label; /* a model file (the CLI), when model is 0 */
    int64_t dataset;         /* the stored dataset's id; 0: dataset_label, or null (inline) */
    const char *dataset_label;
    const char *quantum_json; /* a cloud job's "quantum" member (JSON text), may be NULL */
};

/* NULL out of memory. */
char *forecast_json(const struct forecast_doc *d, size_t *len);

#endif
