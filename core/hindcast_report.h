/*
 * hindcast_report — the cycle hindcast suite's stored runs and its one report, shared by
 * `fwpcast hindcast` and GET /hindcasts.
 *
 * A run is one row of the comparison results table (db/results.h): suite "hindcast", task
 * "cycle-NN" (the cycle number, two digits), the recipe's architecture, resolved config, seed,
 * epochs and data fingerprint as its key (so a rerun finds it and skips it), and the columns
 *     mae                   the smoothed MAE over the scored months (sunspots)
 *     mse, r2               the smoothed MSE and R² over the same months (r2 0 when undefined)
 *     peak_amplitude_error  predicted - actual maximum (sunspots), signed: the amplitude error
 *                           is its absolute value
 *     peak_timing_error     predicted - actual month of the maximum (months), signed: the timing
 *                           error is its absolute value
 *     n_windows             the scored months (126; fewer for a cycle the record has not ended)
 *     parameters, best_epoch, train_seconds   as for `fwpcast compare`
 * The signs are stored so that the predicted maximum (actual + bias) can be shown again.
 *
 * A group is a recipe: the runs of one (architecture, config, epochs, data), each cycle's score
 * the mean over its seeds (absolute errors and MAE averaged per run; the predicted maximum is the
 * actual plus the mean bias, its month rounded), and the mean over the cycles it has. The report
 * is one JSON document: the cycles (cutoff, actual maximum), the baselines and the groups, each
 * with its per-cycle scores and means (docs/openapi.yaml, HindcastReport).
 */
#ifndef FW_HINDCAST_REPORT_H
#define FW_HINDCAST_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hindcast.h"
#include "db/results.h"

#define HINDCAST_SUITE     "hindcast"
#define HINDCAST_MAX_SEEDS 64

/* "cycle-21" into buf (RESULT_TEXT_MAX); the cycle number of such a task, or -1. */
void hindcast_task_name(int cycle, char buf[RESULT_TEXT_MAX]);
int hindcast_task_cycle(const char *task);

/* The row of one run (its key fields already set by the caller) from its score and fit. */
void hindcast_row_fill(struct result_row *row, const struct hindcast_score *s,
                       const struct hindcast_fit *fit);

/* Which stored runs a report shows (NULL / 0: any). */
struct hindcast_filter {
    const char *architecture, *config, *data_sha256;
    int epochs;
    const int64_t *seeds;
    size_t n_seeds;
};

struct hindcast_group {
    char architecture[RESULT_TEXT_MAX];
    char config[RESULT_CONFIG_MAX];
    char data_sha256[SHA256_HEX_LEN];
    int epochs;
    int64_t parameters;
    size_t n_seeds;
    int64_t seeds[HINDCAST_MAX_SEEDS]; /* the distinct seeds of its runs (the first 64) */
    double train_seconds;              /* of all its runs */
    struct hindcast_score cycle[HINDCAST_MAX_CYCLES]; /* per plan cycle; has 0 without a run */
    struct hindcast_mean mean;
};

/* The groups of the rows that pass the filter, whose task is a cycle of the plan, in order of
 * first appearance; free() the array. FW_ENOMEM, or 0. */
int hindcast_groups(const struct hindcast_plan *p, const struct result_row *rows, size_t n,
                    const struct hindcast_filter *filter, struct hindcast_group **out,
                    size_t *n_out);

/* The baselines' means over the plan's cycles. */
void hindcast_baseline_means(const struct hindcast_plan *p,
                             struct hindcast_mean out[HINDCAST_N_BASELINES]);

/* The report (new reference; NULL on allocation failure). data_sha256 (may be NULL) names the
 * series the plan was made on. */
json_t *hindcast_report_json(const struct hindcast_plan *p, const char *data_sha256,
                             const struct hindcast_group *groups, size_t n_groups);

#endif
