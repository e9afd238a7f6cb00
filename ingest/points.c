/*
 * points — the series types' functions (see points.h): frequency names and the fingerprint of a
 * series. Pure: they read only what they are given and allocate nothing.
 */
#include "ingest/points.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *store_frequency_name(enum store_frequency frequency)
{
    switch (frequency) {
    case STORE_FREQ_MONTH:
        return "month";
    case STORE_FREQ_YEAR:
        return "year";
    }
    return "?";
}

int store_frequency_parse(const char *text, enum store_frequency *frequency)
{
    if (text && strcmp(text, "month") == 0)
        *frequency = STORE_FREQ_MONTH;
    else if (text && strcmp(text, "year") == 0)
        *frequency = STORE_FREQ_YEAR;
    else
        return FW_EINVAL;
    return FW_OK;
}

void store_points_sha256(const struct store_point *points, size_t n_points,
                         char hex[SHA256_HEX_LEN])
{
    struct sha256_ctx ctx;
    unsigned char digest[SHA256_DIGEST_LEN];
    char line[PERIOD_TEXT_MAX + 40];
    sha256_init(&ctx);
    sha256_update(&ctx, "period,value\n", 13);
    for (size_t i = 0; i < n_points; i++) {
        int n =
            isnan(points[i].value)
                ? snprintf(line, sizeof line, "%.*s,NA\n", PERIOD_TEXT_MAX - 1, points[i].period)
                : snprintf(line, sizeof line, "%.*s,%.17g\n", PERIOD_TEXT_MAX - 1, points[i].period,
                           points[i].value);
        sha256_update(&ctx, line, (size_t)n);
    }
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
}
