/* forecast_cycle — the smoothed forecast and the next cycle extremes (see forecast_cycle.h). */
#include "core/forecast_cycle.h"
#include "model/cycle.h"
#include "model/smooth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cycle detection on the point path looks this far back: a minimum needs 40 months on each side,
 * and numbering the next cycle needs the previous minimum (cycles last 9 to 14 years). The band's
 * edges only place the extremes in time: the months before the first pending one that a minimum's
 * window reaches are enough. */
#define CYCLE_LOOKBACK 360
#define EDGE_LOOKBACK  48

/* The first month whose smoothing reaches a forecast month (last observed - 5, whose window ends
 * at the first forecast month): its index into history ++ path. */
static size_t smoothed_start(size_t n_history)
{
    return n_history > SMOOTH13_HALF ? n_history - SMOOTH13_HALF : 0;
}

/* out[0..n) = the smoothing of history ++ path from index `first` (path is h long). */
static void smooth_path(const struct forecast_request *rq, const double *path, size_t first,
                        double *out)
{
    smooth13_joined(rq->history, rq->n_history, path, rq->h, first, out);
}

/* The next extremes on the smoothed history ++ path (its last `lookback` observed months).
 * scratch holds n_history + h values. */
static void extremes_of(const struct forecast_request *rq, const double *path, size_t lookback,
                        double *scratch, struct cycle_next *next)
{
    size_t from = rq->n_history > lookback ? rq->n_history - lookback : 0;
    size_t n = rq->n_history + rq->h - from;
    int first_month = rq->last_month - (int)rq->n_history + 1 + (int)from;
    smooth_path(rq, path, from, scratch);
    memset(next, 0, sizeof *next);
    /* from the first month whose smoothed value is not final yet (it depends on the forecast) */
    size_t pending = smoothed_start(rq->n_history);
    cycle_next_extrema(scratch, n, first_month, (pending > from ? pending : from) - from, NULL,
                       next);
}

static void widen(struct forecast_extreme *e, int found, int month)
{
    if (!found)
        return;
    e->earliest = month < e->earliest ? month : e->earliest;
    e->latest = month > e->latest ? month : e->latest;
}

/* The extreme's value band: the smoothed band at its month. */
static void band_at(const struct forecast_result *r, struct forecast_extreme *e)
{
    size_t k = (size_t)(e->month - r->smoothed_first);
    for (size_t i = 0; i < r->n_levels; i++) {
        int inside = e->month >= r->smoothed_first && k < r->n_smoothed;
        e->lo[i] = inside ? r->smoothed_lo[i * r->n_smoothed + k] : NAN;
        e->hi[i] = inside ? r->smoothed_hi[i * r->n_smoothed + k] : NAN;
    }
}

static void set_extreme(struct forecast_extreme *e, int found, const struct cycle_point *p)
{
    memset(e, 0, sizeof *e);
    e->found = found;
    if (found) {
        e->month = e->earliest = e->latest = p->month;
        e->value = p->value;
    }
}

/* The extremes and their ranges: on the point path, then on the widest band's edges. */
static void fill_extremes(const struct forecast_request *rq, struct forecast_result *r,
                          double *scratch)
{
    struct cycle_next next;
    extremes_of(rq, r->point, CYCLE_LOOKBACK, scratch, &next);
    r->cycle_number = next.has_min ? next.number : 0;
    set_extreme(&r->next_minimum, next.has_min, &next.min);
    set_extreme(&r->next_maximum, next.has_min && next.has_max, &next.max);
    if (r->n_levels > 0) {
        size_t widest = 0;
        for (size_t i = 1; i < r->n_levels; i++)
            widest = rq->levels[i] > rq->levels[widest] ? i : widest;
        const double *edges[2] = {r->lo + widest * r->h, r->hi + widest * r->h};
        for (int k = 0; k < 2; k++) {
            struct cycle_next edge;
            extremes_of(rq, edges[k], EDGE_LOOKBACK, scratch, &edge);
            widen(&r->next_minimum, r->next_minimum.found && edge.has_min, edge.min.month);
            widen(&r->next_maximum, r->next_maximum.found && edge.has_max, edge.max.month);
        }
    }
    if (r->next_minimum.found)
        band_at(r, &r->next_minimum);
    if (r->next_maximum.found)
        band_at(r, &r->next_maximum);
}

int forecast_cycle_fill(const struct forecast_request *rq, struct forecast_result *r)
{
    size_t first = smoothed_start(rq->n_history);
    size_t written = rq->n_history + rq->h - first; /* the last SMOOTH13_HALF are NaN */
    size_t n = written > SMOOTH13_HALF ? written - SMOOTH13_HALF : 0;
    size_t bands = (r->n_levels ? r->n_levels : 1) * (n ? n : 1);
    r->smoothed_first = rq->last_month - (int)(rq->n_history - first) + 1;
    r->n_smoothed = n;
    r->smoothed = malloc((n ? n : 1) * sizeof *r->smoothed);
    r->smoothed_lo = malloc(bands * sizeof *r->smoothed_lo);
    r->smoothed_hi = malloc(bands * sizeof *r->smoothed_hi);
    double *scratch = malloc((rq->n_history + rq->h) * sizeof *scratch);
    if (!r->smoothed || !r->smoothed_lo || !r->smoothed_hi || !scratch) {
        free(scratch);
        return FW_ENOMEM;
    }
    /* smooth13_joined writes from `first` to the end; the last months (NaN) are dropped */
    smooth_path(rq, r->point, first, scratch);
    memcpy(r->smoothed, scratch, n * sizeof *scratch);
    for (size_t i = 0; i < r->n_levels; i++) {
        smooth_path(rq, r->lo + i * r->h, first, scratch);
        memcpy(r->smoothed_lo + i * n, scratch, n * sizeof *scratch);
        smooth_path(rq, r->hi + i * r->h, first, scratch);
        memcpy(r->smoothed_hi + i * n, scratch, n * sizeof *scratch);
    }
    fill_extremes(rq, r, scratch);
    free(scratch);
    return FW_OK;
}
