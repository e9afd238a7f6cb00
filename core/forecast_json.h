/*
 * forecast_json — the JSON text of one forecast: POST /forecast's answer, and the result of a
 * quantum forecast job (the same document, so a client reads both alike). Written by hand into
 * a textbuf: formatting the numbers through jansson was most of a request's cost. The caller
 * owns the arrays it passes; the text returned is malloc'd.
 */
#ifndef FW_FORECAST_JSON_H
#define FW_FORECAST_JSON_H

#include <stddef.h>
#include <stdint.h>

struct forecast_doc {
    int64_t model;
    const char *architecture;
    size_t h;
    const char *backend; /* exact | sampler | ionq | ibm */
    int last_month;      /* the last observed month (period index) */
    const double *levels;
    size_t n_levels;
    int guaranteed;
    int64_t dataset;               /* 0: an inline series */
    const double *point, *lo, *hi; /* h; n_levels x h; n_levels x h */
    /* shot-based backends only */
    long long shots, seed;
    const char *noise, *device; /* may be NULL */
    int readout;                /* enum daruan_readout */
    uint64_t circuits, shots_total;
};

/* NULL when out of memory; *len gets the length. */
char *forecast_json(const struct forecast_doc *d, size_t *len);

#endif
