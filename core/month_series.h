/*
 * month_series — a monthly series as the front ends and the core pass it around: its values
 * (NaN where missing), its first month, and where it came from (a stored dataset's id and
 * fingerprint, or a label such as a file name). The one struct for a series in hand; the
 * server's dataset cache, POST /forecast's history and the CLI's --dataset all use it.
 *
 * Ownership: a series owns its values until month_series_free, which accepts a zeroed or freed
 * series.
 */
#ifndef FW_MONTH_SERIES_H
#define FW_MONTH_SERIES_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/sha256.h"
#include "ingest/points.h"

struct month_series {
    double *values; /* n months, NaN where missing */
    size_t n;
    int first_month;             /* period index of values[0] */
    int64_t dataset_id;          /* 0 unless it came from the database */
    char sha256[SHA256_HEX_LEN]; /* the dataset's fingerprint, "" if unknown */
    char label[256];             /* what to call it in messages: "dataset 3 (name)", a path */
};

/* The values of n points whose first period is a month (FW_EINVAL: empty, or not monthly). */
int month_series_from_points(const struct store_point *points, size_t n, struct month_series *out,
                             fw_error *err);

/* A stored dataset (FW_ENOTFOUND; FW_EINVAL if it is not monthly), labelled and fingerprinted. */
int month_series_from_dataset(sqlite3 *db, int64_t id, struct month_series *out, fw_error *err);

/* A copy with its own values (FW_ENOMEM). */
int month_series_copy(const struct month_series *src, struct month_series *out);

void month_series_free(struct month_series *s);

#endif
