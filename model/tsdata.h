/*
 * tsdata — the time-series benchmark suite of paper.md §3.2: the datasets (five generated here
 * exactly as specified, two read by the caller from the authors' CSVs), their scaling, and the
 * suite's protocol as a split plan: stride-1 windows of `window` values in, the next value out
 * (windows i = 0 .. N-L-2: the authors' loop drops the last possible one), a chronological 80/20
 * split at window level, no validation set. The plan's validation range is the test range, so
 * the trainer logs the test loss every epoch as the authors do; train with keep_last, which
 * never selects on it.
 *
 * Also the time-series sizes of the models (paper.md §1.6) as config text. Pure computation;
 * caller-owned arrays.
 */
#ifndef FW_TSDATA_H
#define FW_TSDATA_H

#include <stddef.h>

#include "base/error.h"
#include "model/series.h"

struct ts_dataset {
    const char *name;
    const char *csv; /* file (one value per line) under data/benchmarks/, or NULL: generated */
    size_t points;   /* N */
    int minmax;      /* scaled to [-1, 1] by min-max over the whole series; 0: raw */
    int driven;      /* NARMA: the windows are of the driver u, the targets of y */
};

size_t tsdata_count(void);
const struct ts_dataset *tsdata_at(size_t i);
const struct ts_dataset *tsdata_find(const char *name);

/* Generates a dataset that has no CSV: y (points values) and, when driven, its input u. */
int tsdata_generate(const struct ts_dataset *d, double *y, double *u, fw_error *err);

/* The suite's plan from the raw series (y of n values, u as y or NULL). */
int tsdata_plan(const struct ts_dataset *d, const double *y, const double *u, size_t n,
                size_t window, struct split_plan *plan, fw_error *err);

/* The paper's time-series configuration of an architecture (window and horizon not included),
 * or NULL when the suite has none for it. */
const char *tsdata_model_config(const char *architecture);

/* The suite's settings (paper.md §3.2). */
#define TSDATA_WINDOW 64
#define TSDATA_BATCH  4
#define TSDATA_LR     1e-3

#endif
