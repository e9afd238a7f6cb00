/* series — protocols, scaling and chronological splits (see series.h). */
#include "model/series.h"
#include "base/period.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double scaler_apply(const struct scaler *s, double x)
{
    return (x - s->min) / (s->max - s->min);
}

double scaler_invert(const struct scaler *s, double scaled)
{
    return scaled * (s->max - s->min) + s->min;
}

int series_protocol_parse(const char *text, enum protocol *out)
{
    if (text && !strcmp(text, "paper"))
        *out = PROTOCOL_PAPER;
    else if (text && !strcmp(text, "live"))
        *out = PROTOCOL_LIVE;
    else
        return FW_EINVAL;
    return FW_OK;
}

const char *series_protocol_name(enum protocol protocol)
{
    return protocol == PROTOCOL_PAPER ? "paper" : "live";
}

/* Forward fill, then backward fill the leading gap; returns how many were filled, or -1 when
 * every value is missing. */
static long fill_missing(double *v, size_t n)
{
    long filled = 0;
    size_t first = 0;
    while (first < n && isnan(v[first]))
        first++;
    if (first == n)
        return -1;
    for (size_t i = 0; i < first; i++, filled++)
        v[i] = v[first];
    for (size_t i = first + 1; i < n; i++)
        if (isnan(v[i])) {
            v[i] = v[i - 1];
            filled++;
        }
    return filled;
}

static int fit_scaler(const double *v, size_t n, struct scaler *s, fw_error *err)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    if (!(hi > lo))
        return fw_error_set(err, FW_EINVAL, "the series is constant (%g): nothing to scale", lo);
    s->min = lo;
    s->max = hi;
    return FW_OK;
}

/* The splits: the paper's 80/10/10 of the windows; the live protocol's last 10% (at least one)
 * for validation. */
static size_t paper_train_windows(size_t nw)
{
    return nw * 8 / 10;
}

static size_t paper_val_windows(size_t nw)
{
    return nw / 10;
}

static size_t live_val_windows(size_t nw)
{
    return nw / 10 > 0 ? nw / 10 : 1;
}

int series_fit_origin(enum protocol protocol, int first_month, int last_month, size_t window,
                      size_t horizon)
{
    if (first_month < 0 || last_month < first_month)
        return -1;
    size_t used = (size_t)(last_month - first_month) + 1;
    if (used < window + horizon)
        return -1;
    size_t nw = used - window - horizon + 1;
    size_t fit = protocol == PROTOCOL_PAPER ? paper_train_windows(nw) + paper_val_windows(nw) : nw;
    if (fit == 0)
        return -1;
    return first_month + (int)(fit - 1 + window - 1);
}

int series_in_sample(enum protocol protocol, int first_month, int last_month, size_t window,
                     size_t horizon, int origin)
{
    if (first_month < 0 || last_month < first_month)
        return -1;
    if (protocol != PROTOCOL_PAPER)
        return origin < last_month;
    int fit = series_fit_origin(protocol, first_month, last_month, window, horizon);
    return fit < 0 ? -1 : origin <= fit;
}

int series_trained_through(enum protocol protocol, int first_month, int last_month, size_t window,
                           size_t horizon)
{
    if (protocol != PROTOCOL_PAPER)
        return first_month < 0 ? -1 : last_month;
    int fit = series_fit_origin(protocol, first_month, last_month, window, horizon);
    return fit < 0 ? -1 : fit + (int)horizon;
}

int series_prepare(const double *values, size_t n, int first_month, enum protocol protocol,
                   int cutoff_month, size_t window, size_t horizon, struct split_plan *plan,
                   fw_error *err)
{
    char a[PERIOD_TEXT_MAX], b[PERIOD_TEXT_MAX];
    if (n == 0 || window == 0 || horizon == 0)
        return fw_error_set(err, FW_EINVAL, "empty series or zero window/horizon");
    int last_month = first_month + (int)n - 1;
    int end = last_month;
    if (protocol == PROTOCOL_PAPER && end > PAPER_LAST_MONTH)
        end = PAPER_LAST_MONTH;
    if (cutoff_month >= 0) {
        if (cutoff_month < first_month || cutoff_month > last_month) {
            period_format(first_month, a);
            period_format(last_month, b);
            return fw_error_set(err, FW_ERANGE, "cutoff is outside the data (%s..%s)", a, b);
        }
        if (cutoff_month < end)
            end = cutoff_month; /* a cutoff only shortens: the paper protocol still ends 2021-01 */
    }
    if (end < first_month)
        return fw_error_set(err, FW_EINVAL, "the series ends before the protocol starts");
    size_t used = (size_t)(end - first_month) + 1;
    if (used < window + horizon + 2) {
        return fw_error_set(err, FW_EINVAL,
                            "%zu months are too few for windows of %zu in and %zu out (need at "
                            "least %zu)",
                            used, window, horizon, window + horizon + 2);
    }
    double *scaled = malloc(used * sizeof *scaled);
    if (!scaled)
        return FW_ENOMEM;
    memcpy(scaled, values, used * sizeof *scaled);
    long filled = fill_missing(scaled, used);
    if (filled < 0) {
        free(scaled);
        return fw_error_set(err, FW_EINVAL, "every value is missing");
    }

    struct split_plan p = {0};
    p.protocol = protocol;
    p.first_month = first_month;
    p.n_months = used;
    p.window = window;
    p.horizon = horizon;
    p.n_windows = used - window - horizon + 1;
    p.filled = (size_t)filled;
    size_t nw = p.n_windows;
    int rc;
    if (protocol == PROTOCOL_PAPER) {
        size_t n_train = paper_train_windows(nw), n_val = paper_val_windows(nw);
        if (n_train < 2 || n_val < 1 || nw - n_train - n_val < 1) {
            free(scaled);
            return fw_error_set(err, FW_EINVAL, "%zu windows are too few for an 80/10/10 split",
                                nw);
        }
        p.train = (struct split_range){0, n_train};
        p.val = (struct split_range){n_train, n_train + n_val};
        p.test = (struct split_range){n_train + n_val, nw};
        rc = fit_scaler(scaled, used, &p.scaler, err);
    } else {
        size_t n_val = live_val_windows(nw);
        if (nw - n_val < 2) {
            free(scaled);
            return fw_error_set(err, FW_EINVAL, "%zu windows are too few to train and validate",
                                nw);
        }
        p.train = (struct split_range){0, nw - n_val};
        p.val = (struct split_range){nw - n_val, nw};
        p.test = (struct split_range){nw, nw};
        /* the months the training windows cover, inputs and targets */
        rc = fit_scaler(scaled, p.train.end - 1 + window + horizon, &p.scaler, err);
    }
    if (rc) {
        free(scaled);
        return rc;
    }
    for (size_t i = 0; i < used; i++)
        scaled[i] = scaler_apply(&p.scaler, scaled[i]);
    p.scaled = scaled;
    *plan = p;
    return FW_OK;
}

void series_free(struct split_plan *plan)
{
    if (plan) {
        free(plan->scaled), free(plan->input);
        plan->scaled = plan->input = NULL;
    }
}

void series_rescale(struct split_plan *plan, const struct scaler *scaler)
{
    if (plan->scaler.min == scaler->min && plan->scaler.max == scaler->max)
        return; /* already so: no rounding through the inverse */
    for (size_t i = 0; i < plan->n_months; i++)
        plan->scaled[i] = scaler_apply(scaler, scaler_invert(&plan->scaler, plan->scaled[i]));
    plan->scaler = *scaler;
}
