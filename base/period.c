/* period — month indices and `YYYY-MM` text (see period.h). */
#include "base/period.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>

static int digits(const char *s, size_t n, int *value)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return FW_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return FW_OK;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int period_parse_n(const char *text, size_t len, int *month_index)
{
    int year, month, day;
    if (!text || (len != 7 && len != 10) || text[4] != '-')
        return FW_EINVAL;
    if (digits(text, 4, &year) || digits(text + 5, 2, &month))
        return FW_EINVAL;
    if (year < 1 || month < 1 || month > 12)
        return FW_EINVAL;
    if (len == 10) {
        if (text[7] != '-' || digits(text + 8, 2, &day))
            return FW_EINVAL;
        if (day < 1 || day > days_in_month(year, month))
            return FW_EINVAL;
    }
    *month_index = year * 12 + (month - 1);
    return FW_OK;
}

int period_parse(const char *text, int *month_index)
{
    if (!text)
        return FW_EINVAL;
    return period_parse_n(text, strlen(text), month_index);
}

int period_year(int month_index)
{
    return month_index / 12;
}

int period_month(int month_index)
{
    return month_index % 12 + 1;
}

void period_format(int month_index, char out[PERIOD_TEXT_MAX])
{
    snprintf(out, PERIOD_TEXT_MAX, "%04d-%02d", period_year(month_index) % 10000,
             period_month(month_index));
}
