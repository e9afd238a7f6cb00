/*
 * parse_silso — SILSO's own semicolon files (https://www.sidc.be/SILSO/; see import.h): monthly
 * mean and 13-month smoothed `year;month;decimal date;value;std;n_obs;flag`, and yearly
 * `decimal year;value;std;n_obs;flag`. Lines in, points into the caller's struct series.
 */
#include "ingest/parse.h"

#include <math.h>

#define SILSO_MISSING_HOW "keep the row with -1 as its value to mark a missing value"

/* SILSO value, std, n_obs and flag fields (the last four of both layouts), column numbers
 * starting at first_column. */
static int silso_tail(size_t line, const struct field *f, size_t first_column, double *value,
                      double *std, int *n_obs, int *provisional, fw_error *err)
{
    char where[WHERE_MAX];
    int rc, flag;
    ingest_where_at(where, line, first_column);
    if ((rc = ingest_number_field(where, f[0], "the value", value, err)))
        return rc;
    if (*value == -1)
        *value = NAN;
    else if (*value < 0)
        return fw_error_set(err, FW_EINVAL,
                            "%s: negative value %g (SILSO marks a missing value with -1)", where,
                            *value);
    ingest_where_at(where, line, first_column + 1);
    if ((rc = ingest_number_field(where, f[1], "the standard deviation", std, err)))
        return rc;
    if (*std == -1)
        *std = NAN;
    else if (*std < 0)
        return fw_error_set(err, FW_EINVAL, "%s: negative standard deviation %g (-1 means unknown)",
                            where, *std);
    ingest_where_at(where, line, first_column + 2);
    if ((rc = ingest_int_field(where, f[2], "the number of observations", -1, 100000000, n_obs,
                               err)))
        return rc;
    ingest_where_at(where, line, first_column + 3);
    if ((rc = ingest_int_field(where, f[3], "the definitive/provisional flag", 0, 1, &flag, err)))
        return rc;
    *provisional = flag == 0;
    return FW_OK;
}

int ingest_parse_silso_monthly(struct line_reader *r, struct series *s, fw_error *err)
{
    static const char layout[] = "year;month;decimal date;value;std;n_obs;flag";
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len;
    char where[WHERE_MAX];
    int rc;
    s->frequency = STORE_FREQ_MONTH;
    while (ingest_next_line(r, &line, &len)) {
        size_t n = ingest_split(line, len, ';', f);
        if (n != 7)
            return ingest_field_count_error(r->number, n, 7, ';', layout, err);
        int year, month, n_obs, provisional;
        double decimal, value, std;
        ingest_where_at(where, r->number, 1);
        if ((rc = ingest_int_field(where, f[0], "a year", 1, 9999, &year, err)))
            return rc;
        ingest_where_at(where, r->number, 2);
        if ((rc = ingest_int_field(where, f[1], "a month", 1, 12, &month, err)))
            return rc;
        ingest_where_at(where, r->number, 3);
        if ((rc = ingest_number_field(where, f[2], "the decimal date", &decimal, err)))
            return rc;
        /* SILSO dates each month at its middle; a date in another month means shifted
         * columns or an edited row. */
        if (fabs(decimal - (year + (month - 0.5) / 12.0)) > 1.0 / 24.0)
            return fw_error_set(err, FW_EINVAL, "%s: decimal date %.3f does not fall in %04d-%02d",
                                where, decimal, year, month);
        if ((rc = silso_tail(r->number, &f[3], 4, &value, &std, &n_obs, &provisional, err)))
            return rc;
        ingest_where_at(where, r->number, 1);
        if ((rc = ingest_series_add(s, where, year * 12 + month - 1, value, std, n_obs, provisional,
                                    SILSO_MISSING_HOW, err)))
            return rc;
    }
    return FW_OK;
}

int ingest_parse_silso_yearly(struct line_reader *r, struct series *s, fw_error *err)
{
    static const char layout[] = "decimal year;value;std;n_obs;flag";
    struct field f[MAX_FIELDS];
    const char *line;
    size_t len;
    char where[WHERE_MAX], shown[QUOTE_MAX + 4];
    int rc;
    s->frequency = STORE_FREQ_YEAR;
    while (ingest_next_line(r, &line, &len)) {
        size_t n = ingest_split(line, len, ';', f);
        if (n != 5)
            return ingest_field_count_error(r->number, n, 5, ';', layout, err);
        double decimal_year, value, std;
        int n_obs, provisional;
        ingest_where_at(where, r->number, 1);
        if ((rc = ingest_number_field(where, f[0], "a year such as 1700.5", &decimal_year, err)))
            return rc;
        double year = floor(decimal_year);
        if (year < 1 || year > 9999 || (decimal_year - year != 0.5 && decimal_year != year)) {
            ingest_quote(f[0], shown);
            return fw_error_set(err, FW_EINVAL, "%s: expected a year such as 1700.5, got '%s'",
                                where, shown);
        }
        if ((rc = silso_tail(r->number, &f[1], 2, &value, &std, &n_obs, &provisional, err)))
            return rc;
        if ((rc = ingest_series_add(s, where, (int)year, value, std, n_obs, provisional,
                                    SILSO_MISSING_HOW, err)))
            return rc;
    }
    return FW_OK;
}
