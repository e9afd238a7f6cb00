/*
 * series_source — where the CLI gets a monthly series: the bundled SILSO monthly file (no
 * argument), a dataset in the database (a numeric id), or any file `fwpcast import` reads.
 * What it loads is a struct month_series (core/month_series.h).
 */
#ifndef FW_SERIES_SOURCE_H
#define FW_SERIES_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/month_series.h"
#include "base/error.h"

/* The bundled file's name inside the data directory. */
#define SERIES_SOURCE_DEFAULT_FILE "SN_m_tot_V2.0.csv"

/* The series spec names (NULL: the bundled file); the caller frees it (month_series_free). */
int series_source_load(const char *spec, const char *db_path, struct month_series *out,
                       fw_error *err);

#endif
