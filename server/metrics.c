/* metrics — the service's Prometheus counters (see metrics.h). */
#include "server/metrics.h"

#include <pthread.h>
#include <stdlib.h>

#define N_BUCKETS 12
static const double latency_buckets[N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
#define MAX_SERIES 256

struct metrics {
    pthread_mutex_t lock;
    struct {
        const char *route;
        const char *method;
        int status;
        unsigned long long count;
    } requests[MAX_SERIES];
    size_t n_requests;
    unsigned long long bucket_counts[N_BUCKETS + 1];
    double latency_sum;
    unsigned long long latency_count, forecasts, epochs;
};

void metrics_record(struct metrics *mx, const char *route, const char *method, int status,
                    double seconds)
{
    pthread_mutex_lock(&mx->lock);
    size_t i;
    for (i = 0; i < mx->n_requests; i++)
        if (mx->requests[i].route == route && mx->requests[i].method == method &&
            mx->requests[i].status == status)
            break;
    if (i == mx->n_requests && i < MAX_SERIES) {
        mx->requests[i].route = route;
        mx->requests[i].method = method;
        mx->requests[i].status = status;
        mx->requests[i].count = 0;
        mx->n_requests++;
    }
    if (i < MAX_SERIES)
        mx->requests[i].count++;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > latency_buckets[b])
        b++;
    mx->bucket_counts[b]++;
    mx->latency_sum += seconds;
    mx->latency_count++;
    pthread_mutex_unlock(&mx->lock);
}

int metrics_create(struct metrics **out)
{
    struct metrics *mx = calloc(1, sizeof *mx);
    if (!mx)
        return -1;
    pthread_mutex_init(&mx->lock, NULL);
    *out = mx;
    return 0;
}

void metrics_destroy(struct metrics *mx)
{
    if (!mx)
        return;
    pthread_mutex_destroy(&mx->lock);
    free(mx);
}

void metrics_count_forecast(struct metrics *mx)
{
    pthread_mutex_lock(&mx->lock);
    mx->forecasts++;
    pthread_mutex_unlock(&mx->lock);
}

void metrics_count_epoch(struct metrics *mx)
{
    pthread_mutex_lock(&mx->lock);
    mx->epochs++;
    pthread_mutex_unlock(&mx->lock);
}

void metrics_text(struct metrics *mx, struct textbuf *out)
{
    struct textbuf *tb = out;
    pthread_mutex_lock(&mx->lock);
    textbuf_printf(tb, "# HELP fwpcast_http_requests_total HTTP requests by route and status.\n"
                       "# TYPE fwpcast_http_requests_total counter\n");
    for (size_t i = 0; i < mx->n_requests; i++)
        textbuf_printf(
            tb, "fwpcast_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
            mx->requests[i].route, mx->requests[i].method, mx->requests[i].status,
            mx->requests[i].count);
    textbuf_printf(tb,
                   "# HELP fwpcast_http_request_duration_seconds Time spent handling requests.\n"
                   "# TYPE fwpcast_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        cumulative += mx->bucket_counts[b];
        textbuf_printf(tb, "fwpcast_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       latency_buckets[b], cumulative);
    }
    cumulative += mx->bucket_counts[N_BUCKETS];
    textbuf_printf(tb, "fwpcast_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                   cumulative);
    textbuf_printf(tb, "fwpcast_http_request_duration_seconds_sum %.6f\n", mx->latency_sum);
    textbuf_printf(tb, "fwpcast_http_request_duration_seconds_count %llu\n", mx->latency_count);
    textbuf_printf(tb,
                   "# HELP fwpcast_forecasts_total Forecasts served.\n"
                   "# TYPE fwpcast_forecasts_total counter\nfwpcast_forecasts_total %llu\n",
                   mx->forecasts);
    textbuf_printf(
        tb,
        "# HELP fwpcast_training_epochs_total Training epochs completed.\n"
        "# TYPE fwpcast_training_epochs_total counter\nfwpcast_training_epochs_total %llu\n",
        mx->epochs);
    pthread_mutex_unlock(&mx->lock);
}
