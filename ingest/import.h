/*
 * import — turns a series given as text into points.
 *
 * Formats, detected from the content unless the caller names one:
 *   - SILSO's own semicolon files (https://www.sidc.be/SILSO/): monthly mean and 13-month
 *     smoothed `year;month;decimal date;value;std;n_obs;flag`, and yearly
 *     `decimal year;value;std;n_obs;flag` (period "1700" for "1700.5"). A value of -1 is a
 *     missing value, std -1 and n_obs -1 are unknown, flag 0 marks a provisional value.
 *   - Generic CSV `period,value` with an optional header line, period YYYY-MM, YYYY-MM-DD (the
 *     day is dropped) or YYYY (a yearly series); an empty value is a missing value. A first
 *     index column (`,Date,Value` as pandas writes it, the Kaggle "Sunspots" layout) is
 *     accepted and ignored. LF or CRLF line ends; an optional UTF-8 byte order mark.
 *   - A JSON body {"name": ..., "frequency": "month"|"year", "unit": ..., "source": ...,
 *     "points": [{"period": "2024-10", "value": 160.9}, ...]} where a point may also carry
 *     "std", "n_obs" and "provisional", and "value": null is a missing value.
 *
 * Input is refused, with FW_EINVAL and a message naming the line and column (field) — or
 * the JSON element — when it is empty, has the wrong number of columns, text where a number
 * belongs, NaN or infinity, a negative SILSO value other than -1, a duplicate, out-of-order or
 * skipped period (a series must be contiguous: a missing observation is a row with an empty
 * value, never an absent row), invalid UTF-8 or a NUL byte. Input larger than the size limit is
 * refused with FW_ETOOBIG before it is read. Missing values are kept as missing and counted.
 *
 * Parsing touches no database (ingest/ never includes db/). The functions that parse and then
 * create the dataset in one transaction, so that a failed import writes nothing, are in
 * db/import_store.h. Everything passed in is borrowed; a struct import_result returned is
 * owned by the caller. The parsers themselves are ingest/parse_*.c (ingest/parse.h).
 */
#ifndef FW_INGEST_IMPORT_H
#define FW_INGEST_IMPORT_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"
#include "base/sha256.h"
#include "ingest/points.h"

#define IMPORT_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)

enum import_format {
    IMPORT_AUTO = 0,      /* detect from the content */
    IMPORT_SILSO_MONTHLY, /* SILSO monthly mean or 13-month smoothed */
    IMPORT_SILSO_YEARLY,  /* SILSO yearly mean */
    IMPORT_CSV,           /* generic period,value CSV */
    IMPORT_JSON,          /* the JSON body described above */
};

/* "auto", "silso-monthly", "silso-yearly", "csv", "json" (static strings). */
const char *import_format_name(enum import_format format);

/* All optional: a NULL options pointer means all defaults. */
struct import_options {
    enum import_format format; /* IMPORT_AUTO by default */
    size_t max_bytes;          /* 0: IMPORT_DEFAULT_MAX_BYTES */
    const char *name;          /* dataset name; wins over a JSON body's "name" */
    const char *source;        /* where it came from (e.g. the file name); wins over JSON's */
    const char *unit;          /* wins over JSON's "unit" */
};

struct import_result {
    enum import_format format; /* the format read (never IMPORT_AUTO) */
    enum store_frequency frequency;
    char name[STORE_NAME_MAX];     /* from the options or the JSON body; "" if neither says */
    char source[STORE_SOURCE_MAX]; /* "" if none */
    char unit[STORE_UNIT_MAX];     /* "" if none */
    struct store_point *points;    /* owned; contiguous, in period order */
    size_t n_points;
    size_t missing_count;        /* points whose value is missing */
    size_t provisional_count;    /* points flagged provisional */
    char sha256[SHA256_HEX_LEN]; /* store_points_sha256() of the points */
};

/* Parses len bytes (need not be NUL-terminated). On success *out is a new result. */
int import_buffer(const char *data, size_t len, const struct import_options *options,
                  struct import_result **out, fw_error *err);

/* Reads and parses a file. A file over the size limit is refused from its size alone (or, for
 * a pipe, as soon as the limit is crossed), never read whole. */
int import_file(const char *path, const struct import_options *options, struct import_result **out,
                fw_error *err);

/* A monthly series' points as a JSON array already parsed (an inline series in a request), read
 * as the JSON body's "points" would be: the same checks, the same messages. */
int import_json_points(const json_t *points, const struct import_options *options,
                       struct import_result **out, fw_error *err);

void import_result_free(struct import_result *result);

#endif
