/* import — SILSO, CSV and JSON series into points and datasets (see import.h). */
#include "db/import.h"
#include "db/db.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FIELDS 8  /* more than any format has; extra ones are only counted */
#define WHERE_MAX  64 /* "line 123456789, column 3" or "points[123456]" */
#define QUOTE_MAX  40 /* bytes of offending text quoted in a message */
#define NUMBER_MAX 64 /* longest number text accepted */

const char *import_format_name(enum import_format format)
{
    switch (format) {
    case IMPORT_AUTO:
        return "auto";
    case IMPORT_SILSO_MONTHLY:
        return "silso-monthly";
    case IMPORT_SILSO_YEARLY:
        return "silso-yearly";
    case IMPORT_CSV:
        return "csv";
    case IMPORT_JSON:
        return "json";
    }
    return "?";
}

/* --- the series being built ----------------------------------------------------------------- */

struct series {
    enum store_frequency frequency; /* 0 until the first period fixes it */
    struct store_point *points;
    size_t n_points, cap;
    size_t missing, provisional;
    int last_index;             /* month index or year of the last point */
    char last_where[WHERE_MAX]; /* where the last point came from, for messages */
};

static void series_free(struct series *s)
{
    free(s->points);
    s->points = NULL;
}

static void format_index(enum store_frequency frequency, int index, char out[PERIOD_TEXT_MAX])
{
    if (frequency == STORE_FREQ_MONTH)
        period_format(index, out);
    else
        snprintf(out, PERIOD_TEXT_MAX, "%04d", index % 10000);
}

/* Appends a point at period `index`, which must directly follow the previous one. */
static int series_add(struct series *s, const char *where, int index, double value, double std,
                      int n_obs, int provisional, const char *how_to_mark_missing, fw_error *err)
{
    char period[PERIOD_TEXT_MAX], last[PERIOD_TEXT_MAX];
    format_index(s->frequency, index, period);
    if (s->n_points > 0 && index != s->last_index + 1) {
        format_index(s->frequency, s->last_index, last);
        const char *unit = s->frequency == STORE_FREQ_MONTH ? "month" : "year";
        if (index == s->last_index)
            return fw_error_set(err, FW_EINVAL, "%s: period %s repeats the period of %s", where,
                                period, s->last_where);
        if (index < s->last_index)
            return fw_error_set(err, FW_EINVAL,
                                "%s: period %s comes after %s (%s); periods must increase", where,
                                period, last, s->last_where);
        char gap_first[PERIOD_TEXT_MAX], gap_last[PERIOD_TEXT_MAX];
        format_index(s->frequency, s->last_index + 1, gap_first);
        format_index(s->frequency, index - 1, gap_last);
        int gap = index - s->last_index - 1;
        return fw_error_set(err, FW_EINVAL,
                            "%s: period %s follows %s (%s), skipping %d %s%s (%s%s%s); a series "
                            "must be contiguous: %s",
                            where, period, last, s->last_where, gap, unit, gap == 1 ? "" : "s",
                            gap_first, gap == 1 ? "" : "..", gap == 1 ? "" : gap_last,
                            how_to_mark_missing);
    }
    if (s->n_points == s->cap) {
        size_t new_cap = s->cap ? s->cap * 2 : 1024;
        struct store_point *p = realloc(s->points, new_cap * sizeof *p);
        if (!p)
            return fw_error_set(err, FW_ENOMEM, "out of memory reading points");
        s->points = p;
        s->cap = new_cap;
    }
    struct store_point *p = &s->points[s->n_points++];
    memcpy(p->period, period, sizeof p->period);
    p->value = value;
    p->std = std;
    p->n_obs = n_obs;
    p->provisional = provisional;
    s->missing += isnan(value);
    s->provisional += provisional != 0;
    s->last_index = index;
    /* Remembered as "line 12" (the column adds nothing when citing a row) or "points[3]". */
    snprintf(s->last_where, sizeof s->last_where, "%s", where);
    char *column = strstr(s->last_where, ", column");
    if (column)
        *column = '\0';
    return FW_OK;
}

/* --- fields and numbers --------------------------------------------------------------------- */

struct field {
    const char *text;
    size_t len;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct field trim(const char *text, size_t len)
{
    while (len > 0 && is_blank(*text)) {
        text++;
        len--;
    }
    while (len > 0 && is_blank(text[len - 1]))
        len--;
    struct field f = {text, len};
    return f;
}

/* Splits a line at sep into trimmed fields; fills at most MAX_FIELDS, returns how many. */
static size_t split(const char *line, size_t len, char sep, struct field fields[MAX_FIELDS])
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == sep) {
            if (count < MAX_FIELDS)
                fields[count] = trim(line + start, i - start);
            count++;
            start = i + 1;
        }
    }
    return count;
}

/* The field text for a message: at most QUOTE_MAX bytes, cut at a character boundary. */
static void quote(struct field f, char out[QUOTE_MAX + 4])
{
    size_t n = f.len;
    if (n > QUOTE_MAX) {
        n = QUOTE_MAX;
        while (n > 0 && ((unsigned char)f.text[n] & 0xc0) == 0x80)
            n--;
    }
    snprintf(out, QUOTE_MAX + 4, "%.*s%s", (int)n, f.text, n < f.len ? "..." : "");
}

static int equals_nocase(struct field f, const char *word)
{
    size_t n = strlen(word);
    if (f.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = f.text[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static int is_nan_or_inf(struct field f)
{
    if (f.len > 0 && (f.text[0] == '+' || f.text[0] == '-')) {
        f.text++;
        f.len--;
    }
    return equals_nocase(f, "nan") || equals_nocase(f, "inf") || equals_nocase(f, "infinity");
}

/* A decimal number: [+-] digits [. digits] [e [+-] digits], finite. 0 or FW_EINVAL. */
static int scan_number(struct field f, double *out)
{
    char buf[NUMBER_MAX + 1];
    size_t i = 0, digits = 0;
    if (f.len == 0 || f.len > NUMBER_MAX)
        return FW_EINVAL;
    if (f.text[i] == '+' || f.text[i] == '-')
        i++;
    for (; i < f.len && f.text[i] >= '0' && f.text[i] <= '9'; i++)
        digits++;
    if (i < f.len && f.text[i] == '.')
        for (i++; i < f.len && f.text[i] >= '0' && f.text[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return FW_EINVAL;
    if (i < f.len && (f.text[i] == 'e' || f.text[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < f.len && (f.text[i] == '+' || f.text[i] == '-'))
            i++;
        for (; i < f.len && f.text[i] >= '0' && f.text[i] <= '9'; i++)
            exp_digits++;
        if (exp_digits == 0)
            return FW_EINVAL;
    }
    if (i != f.len)
        return FW_EINVAL;
    memcpy(buf, f.text, f.len);
    buf[f.len] = '\0';
    double value = strtod(buf, NULL);
    if (!isfinite(value))
        return FW_ERANGE;
    *out = value;
    return FW_OK;
}

/* An integer [-]digits in [min, max]. */
static int scan_int(struct field f, long min, long max, int *out)
{
    size_t i = 0;
    int negative = 0;
    long value = 0;
    if (f.len > 0 && f.text[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (i == f.len || f.len > 12)
        return FW_EINVAL;
    for (; i < f.len; i++) {
        if (f.text[i] < '0' || f.text[i] > '9')
            return FW_EINVAL;
        value = value * 10 + (f.text[i] - '0');
    }
    if (negative)
        value = -value;
    if (value < min || value > max)
        return FW_ERANGE;
    *out = (int)value;
    return FW_OK;
}

/* Reads a number field, with the message a user needs when it is not one. */
static int number_field(const char *where, struct field f, const char *what, double *out,
                        fw_error *err)
{
    char shown[QUOTE_MAX + 4];
    int rc = scan_number(f, out);
    if (rc == 0)
        return FW_OK;
    quote(f, shown);
    if (is_nan_or_inf(f))
        return fw_error_set(err, FW_EINVAL,
                            "%s: %s must be a finite number, got '%s' (NaN and infinity are not "
                            "allowed; mark a missing value as the format says)",
                            where, what, shown);
    if (rc == FW_ERANGE)
        return fw_error_set(err, FW_EINVAL, "%s: %s is out of range, got '%s'", where, what, shown);
    return fw_error_set(err, FW_EINVAL, "%s: expected a number (%s), got '%s'", where, what, shown);
}

static int int_field(const char *where, struct field f, const char *what, long min, long max,
                     int *out, fw_error *err)
{
    char shown[QUOTE_MAX + 4];
    if (scan_int(f, min, max, out) == 0)
        return FW_OK;
    quote(f, shown);
    return fw_error_set(err, FW_EINVAL, "%s: expected %s (an integer from %ld to %ld), got '%s'",
                        where, what, min, max, shown);
}

/* --- encoding ------------------------------------------------------------------------------- */

/* Refuses NUL bytes and invalid UTF-8, naming the line and column (in characters). */
static int check_encoding(const char *data, size_t len, fw_error *err)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t line = 1, column = 1;
    for (size_t i = 0; i < len; column++) {
        unsigned char c = p[i];
        if (c == 0)
            return fw_error_set(err, FW_EINVAL, "line %zu, column %zu: NUL byte in the input", line,
                                column);
        if (c < 0x80) {
            if (c == '\n') {
                line++;
                column = 0;
            }
            i++;
            continue;
        }
        size_t extra;
        unsigned int cp;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            extra = 0;
            cp = 0;
        }
        int ok = extra > 0;
        for (size_t k = 1; ok && k <= extra; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                ok = 0;
            else
                cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (ok && ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                   (extra == 3 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = 0;
        if (!ok)
            return fw_error_set(err, FW_EINVAL,
                                "line %zu, column %zu: invalid UTF-8 (byte 0x%02x); the input "
                                "must be UTF-8 text",
                                line, column, c);
        i += extra + 1;
    }
    return FW_OK;
}

/* --- line-based formats --------------------------------------------------------------------- */

struct line_reader {
    const char *data;
    size_t len, pos;
    size_t number; /* 1-based number of the line last returned */
};

/* The next line that is not blank, without its line end; 0 at the end of the input. */
static int next_line(struct line_reader *r, const char **line, size_t *len)
{
    while (r->pos < r->len) {
        const char *start = r->data + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += n + (nl ? 1 : 0);
        r->number++;
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (trim(start, n).len == 0)
            continue;
        *line = start;
        *len = n;
        return 1;
    }
    return 0;
}

static void where_at(char out[WHERE_MAX], size_t line, size_t column)
{
    snprintf(out, WHERE_MAX, "line %zu, column %zu", line, column);
}

/* The error for a line with the wrong number of fields, pointing at the first missing or extra
 * field. */
static int field_count_error(size_t line, size_t found, size_t expected, char sep,
                             const char *layout, fw_error *err)
{
    return fw_error_set(err, FW_EINVAL,
                        "line %zu, column %zu: %s (expected %zu fields separated by '%c': %s; "
                        "found %zu)",
                        line, found < expected ? found + 1 : expected + 1,
                        found < expected ? "missing field" : "unexpected extra field", expected,
                        sep, layout, found);
}

#define SILSO_MISSING_HOW "keep the row with -1 as its value to mark a missing value"
#define CSV_MISSING_HOW   "add the row with an empty value to mark a missing value"

/* SILSO value, std, n_obs and flag fields (the last four of both layouts), column numbers
 * starting at first_column. */
static int silso_tail(size_t line, const struct field *f, size_t first_column, double *value,
                      double *std, int *n_obs, int *provisional, fw_error *err)
{
    char where[WHERE_MAX];
    int rc, flag;
    where_at(where, line, first_column);
    if ((rc = number_field(where, f[0], "the value", value, err)))
        return rc;
    if (*value == -1)
        *value = NAN;
    else if (*value < 0)
        return fw_error_set(err, FW_EINVAL,
                            "%s: negative value %g (SILSO marks a missing value with -1)", where,
                            *value);
    where_at(where, line, first_column + 1);
    if ((rc = number_field(where, f[1], "the standard deviation", std, err)))
        return rc;
    if (*std == -1)
        *std = NAN;
    else if (*std < 0)
        return fw_error_set(err, FW_EINVAL, "%s: negative standard deviation %g (-1 means unknown)",
                            where, *std);
    where_at(where, line, first_column + 2);
    if ((rc = int_field(where, f[2], "the number of observations", -1, 100000000, n_obs, err)))
        return rc;
    where_at(where, line, first_column + 3);
    if ((rc = int_field(where, f[3], "the definitive/provisional flag", 0, 1, &flag, err)))
        return rc;
    *provisional = flag == 0;
    return FW_OK;
}

static int parse_silso_monthly(struct line_reader *r, struct series *s, fw_error *err)
{
    static const char layout[] = "year;month;decimal date;value;std;n_obs;flag";
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len;
    char where[WHERE_MAX];
    int rc;
    s->frequency = STORE_FREQ_MONTH;
    while (next_line(r, &line, &len)) {
        size_t n = split(line, len, ';', f);
        if (n != 7)
            return field_count_error(r->number, n, 7, ';', layout, err);
        int year, month, n_obs, provisional;
        double decimal, value, std;
        where_at(where, r->number, 1);
        if ((rc = int_field(where, f[0], "a year", 1, 9999, &year, err)))
            return rc;
        where_at(where, r->number, 2);
        if ((rc = int_field(where, f[1], "a month", 1, 12, &month, err)))
            return rc;
        where_at(where, r->number, 3);
        if ((rc = number_field(where, f[2], "the decimal date", &decimal, err)))
            return rc;
        /* SILSO dates each month at its middle; a date in another month means shifted
         * columns or an edited row. */
        if (fabs(decimal - (year + (month - 0.5) / 12.0)) > 1.0 / 24.0)
            return fw_error_set(err, FW_EINVAL, "%s: decimal date %.3f does not fall in %04d-%02d",
                                where, decimal, year, month);
        if ((rc = silso_tail(r->number, &f[3], 4, &value, &std, &n_obs, &provisional, err)))
            return rc;
        where_at(where, r->number, 1);
        if ((rc = series_add(s, where, year * 12 + month - 1, value, std, n_obs, provisional,
                             SILSO_MISSING_HOW, err)))
            return rc;
    }
    return FW_OK;
}

static int parse_silso_yearly(struct line_reader *r, struct series *s, fw_error *err)
{
    static const char layout[] = "decimal year;value;std;n_obs;flag";
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len;
    char where[WHERE_MAX], shown[QUOTE_MAX + 4];
    int rc;
    s->frequency = STORE_FREQ_YEAR;
    while (next_line(r, &line, &len)) {
        size_t n = split(line, len, ';', f);
        if (n != 5)
            return field_count_error(r->number, n, 5, ';', layout, err);
        double decimal_year, value, std;
        int n_obs, provisional;
        where_at(where, r->number, 1);
        if ((rc = number_field(where, f[0], "a year such as 1700.5", &decimal_year, err)))
            return rc;
        double year = floor(decimal_year);
        if (year < 1 || year > 9999 || (decimal_year - year != 0.5 && decimal_year != year)) {
            quote(f[0], shown);
            return fw_error_set(err, FW_EINVAL, "%s: expected a year such as 1700.5, got '%s'",
                                where, shown);
        }
        if ((rc = silso_tail(r->number, &f[1], 2, &value, &std, &n_obs, &provisional, err)))
            return rc;
        if ((rc = series_add(s, where, (int)year, value, std, n_obs, provisional, SILSO_MISSING_HOW,
                             err)))
            return rc;
    }
    return FW_OK;
}

/* A field without the double quotes a spreadsheet may put around it. */
static struct field unquote(struct field f)
{
    if (f.len >= 2 && f.text[0] == '"' && f.text[f.len - 1] == '"' &&
        !memchr(f.text + 1, '"', f.len - 2))
        return trim(f.text + 1, f.len - 2);
    return f;
}

/* A CSV period: YYYY-MM or YYYY-MM-DD (monthly) or YYYY (yearly). */
static int scan_period(struct field f, enum store_frequency *frequency, int *index)
{
    if (f.len == 7 || f.len == 10) {
        if (period_parse_n(f.text, f.len, index))
            return FW_EINVAL;
        *frequency = STORE_FREQ_MONTH;
        return FW_OK;
    }
    if (f.len == 4 && scan_int(f, 1, 9999, index) == 0) {
        *frequency = STORE_FREQ_YEAR;
        return FW_OK;
    }
    return FW_EINVAL;
}

static int parse_csv(struct line_reader *r, struct series *s, fw_error *err)
{
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len, n_columns = 0;
    char where[WHERE_MAX], shown[QUOTE_MAX + 4];
    int rc, first = 1;
    while (next_line(r, &line, &len)) {
        size_t n = split(line, len, ',', f);
        for (size_t i = 0; i < n && i < MAX_FIELDS; i++)
            f[i] = unquote(f[i]);
        if (first) {
            first = 0;
            if (n != 2 && n != 3)
                return fw_error_set(err, FW_EINVAL,
                                    "line %zu, column %zu: expected 2 columns (period,value) or 3 "
                                    "(index,period,value) separated by ',', found %zu",
                                    r->number, n < 2 ? n + 1 : (size_t)4, n);
            n_columns = n;
            /* A header: neither a period where the period goes nor a number where the value
             * goes (a data row with one bad field is reported as such, not skipped). */
            enum store_frequency frequency;
            int index;
            double value;
            struct field period = f[n_columns - 2], value_text = f[n_columns - 1];
            if (scan_period(period, &frequency, &index) != 0 && value_text.len > 0 &&
                scan_number(value_text, &value) != 0)
                continue;
        }
        if (n != n_columns)
            return field_count_error(r->number, n, n_columns, ',',
                                     n_columns == 2 ? "period,value" : "index,period,value", err);
        int row_index, index;
        enum store_frequency frequency;
        if (n_columns == 3) {
            where_at(where, r->number, 1);
            if ((rc = int_field(where, f[0], "a row index", 0, 2147483647L, &row_index, err)))
                return rc;
        }
        size_t period_column = n_columns - 1;
        where_at(where, r->number, period_column);
        struct field period = f[period_column - 1];
        if (scan_period(period, &frequency, &index) != 0 ||
            (s->frequency && frequency != s->frequency)) {
            quote(period, shown);
            return fw_error_set(err, FW_EINVAL, "%s: expected a period %s, got '%s'", where,
                                !s->frequency                      ? "YYYY-MM, YYYY-MM-DD or YYYY"
                                : s->frequency == STORE_FREQ_MONTH ? "YYYY-MM or YYYY-MM-DD"
                                                                   : "YYYY",
                                shown);
        }
        s->frequency = frequency;
        double value = NAN;
        char value_where[WHERE_MAX];
        where_at(value_where, r->number, n_columns);
        if (f[n_columns - 1].len > 0 &&
            (rc = number_field(value_where, f[n_columns - 1], "the value", &value, err)))
            return rc;
        if ((rc = series_add(s, where, index, value, NAN, -1, 0, CSV_MISSING_HOW, err)))
            return rc;
    }
    return FW_OK;
}

/* --- JSON ----------------------------------------------------------------------------------- */

#define JSON_MISSING_HOW "add the point with \"value\": null to mark a missing value"

static int json_text_member(json_t *root, const char *key, char *dst, size_t cap, fw_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return FW_OK;
    if (!json_is_string(v))
        return fw_error_set(err, FW_EINVAL, "\"%s\" must be a string", key);
    if (json_string_length(v) >= cap)
        return fw_error_set(err, FW_EINVAL, "\"%s\" is longer than %zu bytes", key, cap - 1);
    snprintf(dst, cap, "%s", json_string_value(v));
    return FW_OK;
}

static int json_point(json_t *point, size_t i, struct series *s, fw_error *err)
{
    char where[WHERE_MAX];
    const char *key;
    json_t *v;
    snprintf(where, sizeof where, "points[%zu]", i);
    if (!json_is_object(point))
        return fw_error_set(err, FW_EINVAL, "%s: expected an object {\"period\", \"value\"}",
                            where);
    json_object_foreach(point, key, v)
    {
        if (strcmp(key, "period") && strcmp(key, "value") && strcmp(key, "std") &&
            strcmp(key, "n_obs") && strcmp(key, "provisional"))
            return fw_error_set(err, FW_EINVAL,
                                "%s: unknown key \"%.40s\" (a point has period, value, std, "
                                "n_obs, provisional)",
                                where, key);
    }
    json_t *period = json_object_get(point, "period");
    if (!json_is_string(period))
        return fw_error_set(err, FW_EINVAL, "%s: \"period\" must be a string such as \"%s\"", where,
                            s->frequency == STORE_FREQ_YEAR ? "2024" : "2024-10");
    struct field pf = {json_string_value(period), json_string_length(period)};
    enum store_frequency frequency;
    int index;
    if (scan_period(pf, &frequency, &index) != 0 || frequency != s->frequency) {
        char shown[QUOTE_MAX + 4];
        quote(pf, shown);
        return fw_error_set(err, FW_EINVAL, "%s: expected a period %s, got \"%s\"", where,
                            s->frequency == STORE_FREQ_MONTH ? "YYYY-MM or YYYY-MM-DD" : "YYYY",
                            shown);
    }

    double value = NAN, std = NAN;
    int n_obs = -1, provisional = 0;
    json_t *jv = json_object_get(point, "value");
    if (!jv)
        return fw_error_set(err, FW_EINVAL,
                            "%s: \"value\" is required (null marks a missing "
                            "value)",
                            where);
    if (json_is_number(jv))
        value = json_number_value(jv);
    else if (!json_is_null(jv))
        return fw_error_set(err, FW_EINVAL, "%s: \"value\" must be a number or null", where);
    if (json_is_number(jv) && !isfinite(value))
        return fw_error_set(err, FW_EINVAL, "%s: \"value\" must be finite", where);

    if ((jv = json_object_get(point, "std")) && !json_is_null(jv)) {
        if (!json_is_number(jv) || !(json_number_value(jv) >= 0) ||
            !isfinite(json_number_value(jv)))
            return fw_error_set(err, FW_EINVAL, "%s: \"std\" must be a number >= 0 or null", where);
        std = json_number_value(jv);
    }
    if ((jv = json_object_get(point, "n_obs")) && !json_is_null(jv)) {
        if (!json_is_integer(jv) || json_integer_value(jv) < 0 ||
            json_integer_value(jv) > 100000000)
            return fw_error_set(err, FW_EINVAL, "%s: \"n_obs\" must be an integer >= 0 or null",
                                where);
        n_obs = (int)json_integer_value(jv);
    }
    if ((jv = json_object_get(point, "provisional")) && !json_is_null(jv)) {
        if (json_is_boolean(jv))
            provisional = json_is_true(jv);
        else if (json_is_integer(jv) &&
                 (json_integer_value(jv) == 0 || json_integer_value(jv) == 1))
            provisional = (int)json_integer_value(jv);
        else
            return fw_error_set(err, FW_EINVAL, "%s: \"provisional\" must be true or false", where);
    }
    return series_add(s, where, index, value, std, n_obs, provisional, JSON_MISSING_HOW, err);
}

/* jansson says "out of memory" in the error's code, or, when it could not even start (its lexer's
 * buffer), with no message at all: a parse error always has one. */
static int json_out_of_memory(const json_error_t *jerr)
{
    return json_error_code(jerr) == json_error_out_of_memory || jerr->text[0] == '\0';
}

static int parse_json(const char *data, size_t len, struct series *s, struct import_result *res,
                      fw_error *err)
{
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *key;
    json_t *v;
    int rc = FW_OK;
    if (!root && json_out_of_memory(&jerr))
        return fw_error_set(err, FW_ENOMEM, "out of memory reading the JSON");
    if (!root)
        return fw_error_set(err, FW_EINVAL, "line %d, column %d: invalid JSON: %s", jerr.line,
                            jerr.column, jerr.text);
    if (!json_is_object(root)) {
        rc = fw_error_set(err, FW_EINVAL,
                          "line 1, column 1: the JSON body must be an object "
                          "{\"name\", \"frequency\", \"points\": [...]}");
        goto cleanup;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "frequency") && strcmp(key, "unit") &&
            strcmp(key, "source") && strcmp(key, "points")) {
            rc = fw_error_set(err, FW_EINVAL,
                              "unknown key \"%.40s\" (the body has name, frequency, unit, "
                              "source, points)",
                              key);
            goto cleanup;
        }
    }
    if ((rc = json_text_member(root, "name", res->name, sizeof res->name, err)) ||
        (rc = json_text_member(root, "unit", res->unit, sizeof res->unit, err)) ||
        (rc = json_text_member(root, "source", res->source, sizeof res->source, err)))
        goto cleanup;
    json_t *frequency = json_object_get(root, "frequency");
    s->frequency = STORE_FREQ_MONTH;
    if (frequency && (!json_is_string(frequency) ||
                      store_frequency_parse(json_string_value(frequency), &s->frequency))) {
        rc = fw_error_set(err, FW_EINVAL, "\"frequency\" must be \"month\" or \"year\"");
        goto cleanup;
    }
    json_t *points = json_object_get(root, "points");
    if (!json_is_array(points)) {
        rc = fw_error_set(err, FW_EINVAL,
                          "\"points\" must be an array of "
                          "{\"period\", \"value\"} objects");
        goto cleanup;
    }
    size_t i;
    json_array_foreach(points, i, v)
    {
        if ((rc = json_point(v, i, s, err)))
            goto cleanup;
    }
cleanup:
    json_decref(root);
    return rc;
}

/* --- entry points --------------------------------------------------------------------------- */

static enum import_format detect(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (is_blank(data[i]) || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i < len && (data[i] == '{' || data[i] == '['))
        return IMPORT_JSON;
    const char *end = memchr(data + i, '\n', len - i);
    size_t line_len = end ? (size_t)(end - (data + i)) : len - i;
    if (!memchr(data + i, ';', line_len))
        return IMPORT_CSV;
    struct field f[MAX_FIELDS];
    return split(data + i, line_len, ';', f) == 5 ? IMPORT_SILSO_YEARLY : IMPORT_SILSO_MONTHLY;
}

static int copy_option(const char *what, const char *value, char *dst, size_t cap, fw_error *err)
{
    if (!value)
        return FW_OK;
    if (strlen(value) >= cap)
        return fw_error_set(err, FW_EINVAL, "the dataset %s is longer than %zu bytes", what,
                            cap - 1);
    snprintf(dst, cap, "%s", value);
    return FW_OK;
}

int import_buffer(const char *data, size_t len, const struct import_options *options,
                  struct import_result **out, fw_error *err)
{
    static const struct import_options defaults = {0};
    const struct import_options *opt = options ? options : &defaults;
    size_t max_bytes = opt->max_bytes ? opt->max_bytes : IMPORT_DEFAULT_MAX_BYTES;
    struct series s = {0};
    struct import_result *res = NULL;
    int rc;

    if (len > max_bytes)
        return fw_error_set(err, FW_ETOOBIG,
                            "the input is %zu bytes, over the import limit of %zu bytes", len,
                            max_bytes);
    if (!data && len > 0)
        return fw_error_set(err, FW_EINVAL, "no input");
    if ((rc = check_encoding(data, len, err)))
        return rc;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) { /* byte order mark */
        data += 3;
        len -= 3;
    }
    size_t first_text = 0;
    while (first_text < len &&
           (is_blank(data[first_text]) || data[first_text] == '\r' || data[first_text] == '\n'))
        first_text++;
    if (first_text == len)
        return fw_error_set(err, FW_EINVAL, "line 1, column 1: the input is empty (no data)");
    if (!(res = calloc(1, sizeof *res)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");

    enum import_format format = opt->format ? opt->format : detect(data, len);
    struct line_reader reader = {data, len, 0, 0};
    switch (format) {
    case IMPORT_SILSO_MONTHLY:
        rc = parse_silso_monthly(&reader, &s, err);
        break;
    case IMPORT_SILSO_YEARLY:
        rc = parse_silso_yearly(&reader, &s, err);
        break;
    case IMPORT_CSV:
        rc = parse_csv(&reader, &s, err);
        break;
    case IMPORT_JSON:
        rc = parse_json(data, len, &s, res, err);
        break;
    default:
        rc = fw_error_set(err, FW_EINVAL, "unknown import format %d", (int)format);
        break;
    }
    if (rc)
        goto cleanup;
    if (s.n_points == 0) {
        if (format == IMPORT_JSON)
            rc = fw_error_set(err, FW_EINVAL, "\"points\" is empty: no data");
        else
            rc = fw_error_set(err, FW_EINVAL, "line %zu, column 1: no data rows in the input",
                              reader.number + 1);
        goto cleanup;
    }
    if ((rc = copy_option("name", opt->name, res->name, sizeof res->name, err)) ||
        (rc = copy_option("source", opt->source, res->source, sizeof res->source, err)) ||
        (rc = copy_option("unit", opt->unit, res->unit, sizeof res->unit, err)))
        goto cleanup;
    res->format = format;
    res->frequency = s.frequency;
    res->points = s.points;
    res->n_points = s.n_points;
    res->missing_count = s.missing;
    res->provisional_count = s.provisional;
    s.points = NULL;
    store_points_sha256(res->points, res->n_points, res->sha256);
    *out = res;
    res = NULL;
cleanup:
    series_free(&s);
    import_result_free(res);
    return rc;
}

void import_result_free(struct import_result *result)
{
    if (!result)
        return;
    free(result->points);
    free(result);
}

int import_file(const char *path, const struct import_options *options, struct import_result **out,
                fw_error *err)
{
    size_t max_bytes =
        options && options->max_bytes ? options->max_bytes : IMPORT_DEFAULT_MAX_BYTES;
    fw_error local = {0}; /* every message below gets the path in front */
    char *buf = NULL;
    size_t len = 0, cap;
    struct stat st;
    int rc = FW_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fw_error_set(err, errno == ENOENT ? FW_ENOTFOUND : FW_EIO, "%s: %s", path,
                            strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = fw_error_set(&local, FW_EIO, "%s", strerror(errno));
        goto cleanup;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fw_error_set(&local, FW_EINVAL, "is a directory");
        goto cleanup;
    }
    /* A regular file is judged by its size before a byte is read; anything else (a pipe) is
     * read up to the limit plus one byte. */
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_bytes) {
        rc = fw_error_set(&local, FW_ETOOBIG,
                          "the file is %jd bytes, over the import limit of %zu bytes",
                          (intmax_t)st.st_size, max_bytes);
        goto cleanup;
    }
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    if (cap > max_bytes + 1)
        cap = max_bytes + 1;
    if (!(buf = malloc(cap))) {
        rc = fw_error_set(&local, FW_ENOMEM, "out of memory reading the file");
        goto cleanup;
    }
    for (;;) {
        if (len == cap) {
            if (len > max_bytes)
                break;
            size_t new_cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *p = realloc(buf, new_cap);
            if (!p) {
                rc = fw_error_set(&local, FW_ENOMEM, "out of memory reading the file");
                goto cleanup;
            }
            buf = p;
            cap = new_cap;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = fw_error_set(&local, FW_EIO, "%s", strerror(errno));
            goto cleanup;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > max_bytes) {
        rc = fw_error_set(&local, FW_ETOOBIG, "the input is over the import limit of %zu bytes",
                          max_bytes);
        goto cleanup;
    }
    rc = import_buffer(buf, len, options, out, &local);
cleanup:
    if (rc)
        fw_error_set(err, rc, "%s: %s", path, local.msg);
    free(buf);
    close(fd);
    return rc;
}

int import_result_to_store(sqlite3 *db, const struct import_result *res, int64_t *id, fw_error *err)
{
    struct db_tx tx = {0};
    int64_t new_id;
    int rc;
    if (!res->name[0])
        return fw_error_set(err, FW_EINVAL,
                            "the dataset needs a name (give one, or \"name\" in a JSON body)");
    struct store_dataset_new ds = {
        .name = res->name,
        .source = res->source[0] ? res->source : NULL,
        .unit = res->unit[0] ? res->unit : NULL,
        .frequency = res->frequency,
        .points = res->points,
        .n_points = res->n_points,
    };
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = store_dataset_create(db, &ds, &new_id, err)) || (rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    db_tx_rollback(&tx);
    return rc;
}

int import_buffer_to_store(sqlite3 *db, const char *data, size_t len,
                           const struct import_options *options, int64_t *id, fw_error *err)
{
    struct import_result *res = NULL;
    int rc = import_buffer(data, len, options, &res, err);
    if (rc == 0)
        rc = import_result_to_store(db, res, id, err);
    import_result_free(res);
    return rc;
}

int import_file_to_store(sqlite3 *db, const char *path, const struct import_options *options,
                         int64_t *id, fw_error *err)
{
    struct import_result *res = NULL;
    int rc = import_file(path, options, &res, err);
    if (rc == 0)
        rc = import_result_to_store(db, res, id, err);
    import_result_free(res);
    return rc;
}
