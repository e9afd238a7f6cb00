/*
 * forecast_cycle — what a forecast says about the solar cycle: SILSO's 13-month smoothed number
 * over the observed months followed by the forecast ones (model/smooth.h), with bands, and the
 * next cycle minimum and maximum (model/cycle.h) with their value bands and a range of months.
 *
 * The smoothed series covers the months whose 13-month window reaches a forecast month and fits
 * in the observed + forecast months: last observed - 5 .. last observed + h - 6 (h months). Its
 * bands are the smoothing of the monthly bands' edges (observed months have zero width): under
 * positive dependence between months the band of a mean is no wider than the mean of the bands,
 * so these are conservative. The extremes are found on the smoothed point path; each one's value
 * band is the smoothed band at its month, and its month range spans where the same extreme falls
 * on the point path and on the smoothed edges of the widest band (a crude timing range: an
 * ensemble's members give a better one).
 *
 * Ownership: forecast_cycle_fill allocates the smoothed arrays in the result, which
 * forecast_result_free frees.
 */
#ifndef FW_FORECAST_CYCLE_H
#define FW_FORECAST_CYCLE_H

#include "core/forecast.h"

/* Fills r's smoothed series and cycle summary from the request's history and r's forecast and
 * bands. FW_ENOMEM, or 0. */
int forecast_cycle_fill(const struct forecast_request *rq, struct forecast_result *r);

#endif
