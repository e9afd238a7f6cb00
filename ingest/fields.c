/*
 * fields — the pieces the import parsers share (see parse.h): the series being built and its
 * contiguity check, fields and numbers with their messages, the line reader. Pure text work: no
 * I/O, no database. The points a struct series collects are its own (grown here with realloc).
 */
#include "ingest/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_MAX 64 /* longest number text accepted */

static void format_index(enum store_frequency frequency, int index, char out[PERIOD_TEXT_MAX])
{
    if (frequency == STORE_FREQ_MONTH)
        period_format(index, out);
    else
        snprintf(out, PERIOD_TEXT_MAX, "%04d", index % 10000);
}

/* Appends a point at period `index`, which must directly follow the previous one. */
int ingest_series_add(struct series *s, const char *where, int index, double value, double std,
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

struct field ingest_trim(const char *text, size_t len)
{
    while (len > 0 && ingest_is_blank(*text)) {
        text++;
        len--;
    }
    while (len > 0 && ingest_is_blank(text[len - 1]))
        len--;
    struct field f = {text, len};
    return f;
}

/* Splits a line at sep into trimmed fields; fills at most MAX_FIELDS, returns how many. */
size_t ingest_split(const char *line, size_t len, char sep, struct field fields[MAX_FIELDS])
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == sep) {
            if (count < MAX_FIELDS)
                fields[count] = ingest_trim(line + start, i - start);
            count++;
            start = i + 1;
        }
    }
    return count;
}

/* The field text for a message: at most QUOTE_MAX bytes, cut at a character boundary. */
void ingest_quote(struct field f, char out[QUOTE_MAX + 4])
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
int ingest_scan_number(struct field f, double *out)
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
int ingest_number_field(const char *where, struct field f, const char *what, double *out,
                        fw_error *err)
{
    char shown[QUOTE_MAX + 4];
    int rc = ingest_scan_number(f, out);
    if (rc == 0)
        return FW_OK;
    ingest_quote(f, shown);
    if (is_nan_or_inf(f))
        return fw_error_set(err, FW_EINVAL,
                            "%s: %s must be a finite number, got '%s' (NaN and infinity are not "
                            "allowed; mark a missing value as the format says)",
                            where, what, shown);
    if (rc == FW_ERANGE)
        return fw_error_set(err, FW_EINVAL, "%s: %s is out of range, got '%s'", where, what, shown);
    return fw_error_set(err, FW_EINVAL, "%s: expected a number (%s), got '%s'", where, what, shown);
}

int ingest_int_field(const char *where, struct field f, const char *what, long min, long max,
                     int *out, fw_error *err)
{
    char shown[QUOTE_MAX + 4];
    if (scan_int(f, min, max, out) == 0)
        return FW_OK;
    ingest_quote(f, shown);
    return fw_error_set(err, FW_EINVAL, "%s: expected %s (an integer from %ld to %ld), got '%s'",
                        where, what, min, max, shown);
}

/* The next line that is not blank, without its line end; 0 at the end of the input. */
int ingest_next_line(struct line_reader *r, const char **line, size_t *len)
{
    while (r->pos < r->len) {
        const char *start = r->data + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += n + (nl ? 1 : 0);
        r->number++;
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (ingest_trim(start, n).len == 0)
            continue;
        *line = start;
        *len = n;
        return 1;
    }
    return 0;
}

void ingest_where_at(char out[WHERE_MAX], size_t line, size_t column)
{
    snprintf(out, WHERE_MAX, "line %zu, column %zu", line, column);
}

/* The error for a line with the wrong number of fields, pointing at the first missing or extra
 * field. */
int ingest_field_count_error(size_t line, size_t found, size_t expected, char sep,
                             const char *layout, fw_error *err)
{
    return fw_error_set(err, FW_EINVAL,
                        "line %zu, column %zu: %s (expected %zu fields separated by '%c': %s; "
                        "found %zu)",
                        line, found < expected ? found + 1 : expected + 1,
                        found < expected ? "missing field" : "unexpected extra field", expected,
                        sep, layout, found);
}

/* A CSV period: YYYY-MM or YYYY-MM-DD (monthly) or YYYY (yearly). */
int ingest_scan_period(struct field f, enum store_frequency *frequency, int *index)
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
