/*
 * points — a series as the parsers (ingest/) produce it and the store (db/store.h) keeps it:
 * its frequency, its points, its fingerprint, and the limits of the text that describes it.
 * Pure: no database, no I/O. The names keep their store_ prefix because the store's API is built
 * on them and its callers use them under those names (db/store.h includes this header).
 *
 * Periods are "YYYY-MM" for monthly series and "YYYY" for yearly ones; a missing observation is
 * a point whose value is NAN, never zero.
 */
#ifndef FW_POINTS_H
#define FW_POINTS_H

#include <stddef.h>

#include "base/period.h"
#include "base/sha256.h"

#define STORE_NAME_MAX   128 /* dataset and model names: 1..127 bytes of UTF-8, no control chars */
#define STORE_SOURCE_MAX 512
#define STORE_UNIT_MAX   64

enum store_frequency {
    STORE_FREQ_MONTH = 1, /* periods "YYYY-MM" */
    STORE_FREQ_YEAR = 2,  /* periods "YYYY" */
};

/* "month" / "year" (static strings; "?" for anything else). */
const char *store_frequency_name(enum store_frequency frequency);
/* Parses "month" or "year"; FW_EINVAL otherwise. */
int store_frequency_parse(const char *text, enum store_frequency *frequency);

struct store_point {
    char period[PERIOD_TEXT_MAX]; /* "YYYY-MM" or "YYYY" */
    double value;                 /* NAN if missing */
    double std;                   /* NAN if unknown */
    int n_obs;                    /* number of observations, -1 if unknown */
    int provisional;              /* 1 if the source marks the value provisional */
};

/* The fingerprint of a series: SHA-256 of the text "period,value\n" followed by one line
 * "<period>,<value>\n" per point, the value printed with "%.17g" or "NA" when missing. Only
 * periods and values count (not std, n_obs or provisional flags), so it identifies exactly the
 * numbers a model trains on. */
void store_points_sha256(const struct store_point *points, size_t n_points,
                         char hex[SHA256_HEX_LEN]);

#endif
