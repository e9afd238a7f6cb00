/*
 * results — the comparison results (`fwpcast compare`, `fwpcast benchmark`, GET /compare): one
 * stored row per trained and evaluated run, keyed by what determines it (suite, task,
 * architecture, resolved config, seed, epochs, data fingerprint), so a comparison that stops
 * resumes where it was; and their summary per model, mean and sample standard deviation over
 * the seeds, as a table and as JSON. Same conventions as store.h (one connection per thread,
 * caller-owned outputs, FW_* codes with err filled).
 */
#ifndef FW_RESULTS_H
#define FW_RESULTS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "base/error.h"

#define RESULT_TEXT_MAX   64
#define RESULT_CONFIG_MAX 1024

struct result_row {
    char suite[RESULT_TEXT_MAX];        /* "solar" or "timeseries" */
    char task[RESULT_TEXT_MAX];         /* "paper", or a time-series dataset */
    char architecture[RESULT_TEXT_MAX]; /* registry name */
    char config[RESULT_CONFIG_MAX];     /* resolved config text */
    char data_sha256[SHA256_HEX_LEN];
    int64_t seed;
    int epochs, best_epoch;
    int64_t parameters, n_windows;
    double mse, mae, r2;
    double peak_amplitude_error, peak_timing_error; /* NAN outside the solar suite */
    double train_seconds;
    char created_at[24]; /* set by the database */
};

/* Looks up the run with row's key fields; *found 0 or 1, and *row completed when found. */
int results_find(sqlite3 *db, struct result_row *row, int *found, fw_error *err);

/* Stores a run (FW_ECONFLICT if that key is already stored). */
int results_insert(sqlite3 *db, const struct result_row *row, fw_error *err);

/* The runs of a suite (and task, unless NULL), oldest first; free() the array. */
int results_list(sqlite3 *db, const char *suite, const char *task, struct result_row **rows,
                 size_t *count, fw_error *err);

struct result_stat {
    double mean, sd; /* sd: sample standard deviation, NAN for one seed */
};

struct result_summary {
    char suite[RESULT_TEXT_MAX], task[RESULT_TEXT_MAX], architecture[RESULT_TEXT_MAX];
    char config[RESULT_CONFIG_MAX];
    int epochs, n_seeds;
    int64_t parameters, n_windows;
    struct result_stat mse, mae, r2, peak_amplitude_error, peak_timing_error, train_seconds;
};

/* Groups runs by (suite, task, architecture, config, epochs, data) in order of first
 * appearance; free() the array. */
int results_summarize(const struct result_row *rows, size_t count, struct result_summary **out,
                      size_t *n_out);

/* A summary as a JSON object (new reference; NULL on allocation failure). */
json_t *results_summary_json(const struct result_summary *s);

#endif
