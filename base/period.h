/*
 * period — calendar months as integers, and their `YYYY-MM` text form.
 *
 * A month index is year * 12 + (month - 1), so consecutive months differ by one and month
 * arithmetic is integer arithmetic. Years 1..9999 are accepted. No allocation, no state.
 */
#ifndef FW_PERIOD_H
#define FW_PERIOD_H

#include <stddef.h>

#define PERIOD_TEXT_MAX 11               /* "YYYY-MM-DD" plus NUL */
#define PERIOD_LAST     (9999 * 12 + 11) /* 9999-12, the last month there is text for */

/* Parses "YYYY-MM" or "YYYY-MM-DD" (the day is checked against the month, then ignored) into a
 * month index. The whole string must match. Returns 0 or FW_EINVAL. */
int period_parse(const char *text, int *month_index);

/* Same, for a text of known length that need not be NUL-terminated. */
int period_parse_n(const char *text, size_t len, int *month_index);

/* Writes "YYYY-MM" (8 bytes with the NUL) into out. */
void period_format(int month_index, char out[PERIOD_TEXT_MAX]);

/* Year and month (1..12) of a month index. */
int period_year(int month_index);
int period_month(int month_index);

#endif
