/*
 * parse — what the import parsers (ingest/parse_*.c) share, private to ingest/: the series being
 * built, the line reader, fields and numbers with the messages that name where they went wrong.
 * The public API is ingest/import.h; the parts are
 *
 *   import.c       import_buffer and import_file: size limit, encoding, format detection, the
 *                  result
 *   fields.c       these helpers (ingest_ prefix)
 *   parse_silso.c  SILSO's monthly and yearly semicolon files
 *   parse_csv.c    generic period,value CSV
 *   parse_json.c   the JSON body
 *
 * Everything is borrowed; the points a struct series collects are its own until import.c hands
 * them to the result.
 */
#ifndef FW_INGEST_PARSE_H
#define FW_INGEST_PARSE_H

#include <stddef.h>

#include "base/error.h"
#include <jansson.h>

#include "ingest/import.h"
#include "ingest/points.h"

#define MAX_FIELDS 8  /* more than any format has; extra ones are only counted */
#define WHERE_MAX  64 /* "line 123456789, column 3" or "points[123456]" */
#define QUOTE_MAX  40 /* bytes of offending text quoted in a message */

/* --- the series being built ----------------------------------------------------------------- */

struct series {
    enum store_frequency frequency; /* 0 until the first period fixes it */
    struct store_point *points;
    size_t n_points, cap;
    size_t missing, provisional;
    int last_index;             /* month index or year of the last point */
    char last_where[WHERE_MAX]; /* where the last point came from, for messages */
};

/* Appends a point at period `index` (a month index or a year), which must directly follow the
 * previous one; otherwise FW_EINVAL naming `where`, the previous point's place, and how to mark
 * a missing value in this format. */
int ingest_series_add(struct series *s, const char *where, int index, double value, double std,
                      int n_obs, int provisional, const char *how_to_mark_missing, fw_error *err);

/* --- fields and numbers --------------------------------------------------------------------- */

struct field {
    const char *text;
    size_t len;
};

static inline int ingest_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The text without leading and trailing blanks. */
struct field ingest_trim(const char *text, size_t len);

/* Splits a line at sep into trimmed fields; fills at most MAX_FIELDS, returns how many. */
size_t ingest_split(const char *line, size_t len, char sep, struct field fields[MAX_FIELDS]);

/* The field text for a message: at most QUOTE_MAX bytes, cut at a character boundary. */
void ingest_quote(struct field f, char out[QUOTE_MAX + 4]);

/* A decimal number: [+-] digits [. digits] [e [+-] digits], finite. 0, FW_EINVAL, or FW_ERANGE
 * when it overflows. */
int ingest_scan_number(struct field f, double *out);

/* A period: YYYY-MM or YYYY-MM-DD (monthly: a month index) or YYYY (yearly: the year). */
int ingest_scan_period(struct field f, enum store_frequency *frequency, int *index);

/* Reads a number (or an integer in [min, max]) field, with the message a user needs when it is
 * not one: "<where>: expected <what> ..., got '<text>'". */
int ingest_number_field(const char *where, struct field f, const char *what, double *out,
                        fw_error *err);
int ingest_int_field(const char *where, struct field f, const char *what, long min, long max,
                     int *out, fw_error *err);

/* --- lines ---------------------------------------------------------------------------------- */

struct line_reader {
    const char *data;
    size_t len, pos;
    size_t number; /* 1-based number of the line last returned */
};

/* The next line that is not blank, without its line end; 0 at the end of the input. */
int ingest_next_line(struct line_reader *r, const char **line, size_t *len);

/* "line <line>, column <column>" into out. */
void ingest_where_at(char out[WHERE_MAX], size_t line, size_t column);

/* The error for a line with the wrong number of fields, pointing at the first missing or extra
 * field. */
int ingest_field_count_error(size_t line, size_t found, size_t expected, char sep,
                             const char *layout, fw_error *err);

/* --- the parsers: each fills s (and, for JSON, the result's name, unit and source) ---------- */

int ingest_parse_silso_monthly(struct line_reader *r, struct series *s, fw_error *err);
int ingest_parse_silso_yearly(struct line_reader *r, struct series *s, fw_error *err);
int ingest_parse_csv(struct line_reader *r, struct series *s, fw_error *err);
/* The points of a JSON body (an array of {"period", "value", ...}) into s, whose frequency is
 * set. */
int ingest_json_points(const json_t *points, struct series *s, fw_error *err);
int ingest_parse_json(const char *data, size_t len, struct series *s, struct import_result *res,
                      fw_error *err);

#endif
