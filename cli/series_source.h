/*
 * series_source — where the CLI gets a monthly series: the bundled SILSO monthly file (no
 * argument), a dataset in the database (a numeric id), or any file `fwpcast import` reads.
 * The source owns its values.
 */
#ifndef FW_SERIES_SOURCE_H
#define FW_SERIES_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "base/error.h"

struct series_source {
    double *values; /* n months, NaN where missing */
    size_t n;
    int first_month;
    char sha256[SHA256_HEX_LEN];
    char label[256];    /* what to call it in messages: "dataset 3 (silso-monthly)" or a path */
    int64_t dataset_id; /* 0 unless it came from the database */
};

/* The bundled file's name inside the data directory. */
#define SERIES_SOURCE_DEFAULT_FILE "SN_m_tot_V2.0.csv"

int series_source_load(const char *spec, const char *db_path, struct series_source *out,
                       fw_error *err);
void series_source_free(struct series_source *s);

#endif
