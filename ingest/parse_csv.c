/*
 * parse_csv — generic `period,value` CSV (see import.h): an optional header, an optional first
 * index column, periods YYYY-MM, YYYY-MM-DD or YYYY, an empty value for a missing one. Lines
 * in, points into the caller's struct series.
 */
#include "ingest/parse.h"

#include <math.h>
#include <string.h>

#define CSV_MISSING_HOW "add the row with an empty value to mark a missing value"

/* A field without the double quotes a spreadsheet may put around it. */
static struct field unquote(struct field f)
{
    if (f.len >= 2 && f.text[0] == '"' && f.text[f.len - 1] == '"' &&
        !memchr(f.text + 1, '"', f.len - 2))
        return ingest_trim(f.text + 1, f.len - 2);
    return f;
}

int ingest_parse_csv(struct line_reader *r, struct series *s, fw_error *err)
{
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len, n_columns = 0;
    char where[WHERE_MAX], shown[QUOTE_MAX + 4];
    int rc, first = 1;
    while (ingest_next_line(r, &line, &len)) {
        size_t n = ingest_split(line, len, ',', f);
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
            if (ingest_scan_period(period, &frequency, &index) != 0 && value_text.len > 0 &&
                ingest_scan_number(value_text, &value) != 0)
                continue;
        }
        if (n != n_columns)
            return ingest_field_count_error(r->number, n, n_columns, ',',
                                            n_columns == 2 ? "period,value" : "index,period,value",
                                            err);
        int row_index, index;
        enum store_frequency frequency;
        if (n_columns == 3) {
            ingest_where_at(where, r->number, 1);
            if ((rc =
                     ingest_int_field(where, f[0], "a row index", 0, 2147483647L, &row_index, err)))
                return rc;
        }
        size_t period_column = n_columns - 1;
        ingest_where_at(where, r->number, period_column);
        struct field period = f[period_column - 1];
        if (ingest_scan_period(period, &frequency, &index) != 0 ||
            (s->frequency && frequency != s->frequency)) {
            ingest_quote(period, shown);
            return fw_error_set(err, FW_EINVAL, "%s: expected a period %s, got '%s'", where,
                                !s->frequency                      ? "YYYY-MM, YYYY-MM-DD or YYYY"
                                : s->frequency == STORE_FREQ_MONTH ? "YYYY-MM or YYYY-MM-DD"
                                                                   : "YYYY",
                                shown);
        }
        s->frequency = frequency;
        double value = NAN;
        char value_where[WHERE_MAX];
        ingest_where_at(value_where, r->number, n_columns);
        if (f[n_columns - 1].len > 0 &&
            (rc = ingest_number_field(value_where, f[n_columns - 1], "the value", &value, err)))
            return rc;
        if ((rc = ingest_series_add(s, where, index, value, NAN, -1, 0, CSV_MISSING_HOW, err)))
            return rc;
    }
    return FW_OK;
}
