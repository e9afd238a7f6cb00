/*
 * fuzz_import — import_buffer (ingest/import.h): the SILSO monthly and yearly, CSV and JSON parsers
 * behind POST /datasets and `fwpcast import`. Input: one byte choosing the format (auto, silso-
 * monthly, silso-yearly, csv, json; higher values: auto), then the text.
 *
 * Properties: a result has at least one point; its counts of missing and provisional points are
 * right; its periods are valid and contiguous; its fingerprint is store_points_sha256 of its
 * points; and the series written back as `period,value` CSV imports to the same periods and
 * values (every parser yields series the others can carry).
 */
#include "fuzz.h"
#include "ingest/import.h"
#include "ingest/points.h"
#include "base/period.h"

#include <math.h>

static int period_index(enum store_frequency frequency, const char *text, int *index)
{
    if (frequency == STORE_FREQ_MONTH)
        return period_parse(text, index);
    char *end;
    long year = strtol(text, &end, 10);
    if (*end || end == text || year < 1 || year > 9999)
        return -1;
    *index = (int)year;
    return 0;
}

static char *as_csv(const struct import_result *r, size_t *len)
{
    size_t cap = 32 + r->n_points * 40, used = 0;
    char *csv = malloc(cap);
    if (!csv)
        abort();
    used += (size_t)snprintf(csv, cap, "period,value\n");
    for (size_t i = 0; i < r->n_points; i++) {
        const struct store_point *p = &r->points[i];
        used += (size_t)(isnan(p->value)
                             ? snprintf(csv + used, cap - used, "%s,\n", p->period)
                             : snprintf(csv + used, cap - used, "%s,%.17g\n", p->period, p->value));
        FUZZ_CHECK(used < cap);
    }
    *len = used;
    return csv;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint8_t format = fuzz_byte(&in);
    struct import_options opt = {.format = format <= IMPORT_JSON ? format : IMPORT_AUTO};
    size_t len;
    char *text = fuzz_rest(&in, &len);
    struct import_result *r = NULL, *again = NULL;
    fw_error err = {0};
    if (import_buffer(text, len, &opt, &r, &err) == FW_OK) {
        FUZZ_CHECK(r->n_points > 0 && r->format != IMPORT_AUTO);
        FUZZ_CHECK(r->frequency == STORE_FREQ_MONTH || r->frequency == STORE_FREQ_YEAR);
        size_t missing = 0, provisional = 0;
        int first = 0, index = 0;
        for (size_t i = 0; i < r->n_points; i++) {
            missing += isnan(r->points[i].value) != 0;
            provisional += r->points[i].provisional != 0;
            FUZZ_CHECK(isnan(r->points[i].value) || isfinite(r->points[i].value));
            FUZZ_CHECK(period_index(r->frequency, r->points[i].period, &index) == 0);
            if (i == 0)
                first = index;
            FUZZ_CHECK(index == first + (int)i);
        }
        FUZZ_CHECK(missing == r->missing_count && provisional == r->provisional_count);
        char sha[SHA256_HEX_LEN];
        store_points_sha256(r->points, r->n_points, sha);
        FUZZ_CHECK(!strcmp(sha, r->sha256));

        size_t csv_len;
        char *csv = as_csv(r, &csv_len);
        struct import_options csv_opt = {.format = IMPORT_CSV};
        int rc = import_buffer(csv, csv_len, &csv_opt, &again, &err);
        if (rc)
            fprintf(stderr, "the CSV form does not import: %s\n", err.msg);
        FUZZ_CHECK(rc == FW_OK);
        FUZZ_CHECK(again->n_points == r->n_points && again->frequency == r->frequency);
        for (size_t i = 0; i < r->n_points; i++) {
            const struct store_point *a = &r->points[i], *b = &again->points[i];
            FUZZ_CHECK(!strcmp(a->period, b->period));
            FUZZ_CHECK(a->value == b->value || (isnan(a->value) && isnan(b->value)));
        }
        free(csv);
    }
    import_result_free(again);
    import_result_free(r);
    free(text);
    return 0;
}
