/*
 * metrics — the service's counters for GET /metrics (Prometheus text exposition): requests by
 * route, method and status, a latency histogram, forecasts served and training epochs. The
 * counters are thread-safe; the app owns the one instance.
 */
#ifndef FW_SERVER_METRICS_H
#define FW_SERVER_METRICS_H

#include "base/textbuf.h"

struct metrics;

int metrics_create(struct metrics **out); /* -1 out of memory */
void metrics_destroy(struct metrics *mx); /* accepts NULL */

/* route and method are static strings (compared by address). */
void metrics_record(struct metrics *mx, const char *route, const char *method, int status,
                    double seconds);
void metrics_count_forecast(struct metrics *mx);
void metrics_count_epoch(struct metrics *mx);

/* Appends the counters' exposition to out. */
void metrics_text(struct metrics *mx, struct textbuf *out);

#endif
