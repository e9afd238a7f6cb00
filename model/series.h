/*
 * series — from a monthly series to scaled training windows, under the two protocols:
 *
 *   paper: the series up to 2021-01 (the paper's 3,265 SILSO months when it starts in 1749-01),
 *          min-max scaled on that whole series (the authors' documented, deliberate leakage),
 *          stride-1 windows of `window` months in and `horizon` out, split chronologically by
 *          window index into floor(0.8 N) train, floor(0.1 N) validation and the rest test;
 *   live:  every month up to the latest (or the cutoff), min-max scaled on the months the
 *          training windows cover only, the last floor(0.1 N) (at least 1) windows for
 *          validation, no test set.
 *
 * A cutoff month (hindcast) ends the series there under either protocol (the paper protocol
 * still ends at 2021-01 at the latest). Missing values are
 * filled forward then backward, as the authors' pipeline does, and counted. The plan owns its
 * scaled copy of the series.
 */
#ifndef FW_SERIES_H
#define FW_SERIES_H

#include <stddef.h>

#include "base/error.h"

enum protocol { PROTOCOL_PAPER = 0, PROTOCOL_LIVE = 1 };

#define PAPER_LAST_MONTH (2021 * 12 + 0) /* 2021-01 */

struct scaler {
    double min, max; /* scaled = (x - min) / (max - min) */
};

double scaler_apply(const struct scaler *s, double x);
double scaler_invert(const struct scaler *s, double scaled);

struct split_range {
    size_t begin, end; /* window start indices [begin, end) */
};

struct split_plan {
    enum protocol protocol;
    int first_month; /* month index of scaled[0] */
    size_t n_months; /* months used (after the protocol's or the cutoff's end) */
    double *scaled;  /* n_months values, owned: the targets, and the inputs unless `input` */
    double *input;   /* NULL, or the models' inputs when they differ from the targets (NARMA's
                        driver u); n_months values, owned */
    size_t window, horizon, n_windows;
    struct split_range train, val, test; /* test is empty under the live protocol */
    struct scaler scaler;
    size_t filled; /* missing values filled */
};

/* cutoff_month < 0 means none. values may hold NaN for missing months. */
int series_prepare(const double *values, size_t n, int first_month, enum protocol protocol,
                   int cutoff_month, size_t window, size_t horizon, struct split_plan *plan,
                   fw_error *err);
void series_free(struct split_plan *plan);

/* The origin (the last input month) of the last window a model fit on months
 * first_month..last_month under protocol was trained or validated on: a forecast from that month
 * or an earlier one forecasts months the model was fit or selected on (in sample). Under the
 * paper protocol the test windows come after it; under the live protocol it is last_month -
 * horizon. -1 when unknown (first_month < 0) or when the months hold no window. */
int series_fit_origin(enum protocol protocol, int first_month, int last_month, size_t window,
                      size_t horizon);

/* Whether a forecast from `origin` (its last observed month) by such a model forecasts months it
 * was trained or selected on: under the paper protocol, origin <= series_fit_origin (its test
 * windows are held out by design); under the live protocol, every month up to last_month was a
 * training or validation target, so any origin before last_month. 1, 0, or -1 unknown. */
int series_in_sample(enum protocol protocol, int first_month, int last_month, size_t window,
                     size_t horizon, int origin);

/* The last month of such a model's training and validation windows (last_month under the live
 * protocol), -1 unknown. */
int series_trained_through(enum protocol protocol, int first_month, int last_month, size_t window,
                           size_t horizon);

/* What the models read: plan->input if set, else plan->scaled. */
static inline const double *series_inputs(const struct split_plan *plan)
{
    return plan->input ? plan->input : plan->scaled;
}

/* Re-expresses the plan's series with another scaler (a trained model's), in place. */
void series_rescale(struct split_plan *plan, const struct scaler *scaler);

/* Parses "paper" / "live". */
int series_protocol_parse(const char *text, enum protocol *out);
const char *series_protocol_name(enum protocol protocol);

#endif
