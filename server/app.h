/*
 * app — the fwpcast service behind the HTTP front end: configuration, the route table, bearer
 * token auth, per-thread SQLite connections, the model cache, the training workers and the
 * Prometheus counters. The app owns all of them; http.c calls app_handle for every request.
 */
#ifndef FW_APP_H
#define FW_APP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "core/month_series.h"
#include "model/forecaster.h"
#include "server/http.h"

struct app_config {
    const char *db_path;
    const char *data_dir;     /* bundled SILSO files and models/default.fwp */
    const char *static_dir;   /* the dashboard; NULL: none */
    const char *token;        /* NULL or "": writes need no token */
    const char *cors_origins; /* comma-separated origins a browser may call the API from
                                 (exact match, e.g. "https://lab.example.org"); NULL or "": no
                                 cross-origin access (no CORS headers at all) */
    int workers;              /* training threads */
    int train_threads;        /* threads per training job */
    int max_queued_jobs;      /* queued + running training jobs accepted at once */
    size_t max_points;        /* points per dataset */
    int max_epochs;
    int quiet;
};

struct app;

/* Opens (and migrates) the database, imports the bundled data and default model into an empty
 * one, marks jobs left running by a dead process as interrupted, and starts the workers. */
int app_create(const struct app_config *cfg, struct app **out, fw_error *err);

/* Stops the workers (running jobs are cancelled at their next batch, checkpointed and left
 * interrupted, so they resume after a restart) and closes the database. Accepts NULL. */
void app_destroy(struct app *app);

/* Routes one request (auth, method, path) to its handler. Never fails: errors become
 * problem+json responses. An http_handler: ctx is the struct app. */
void app_handle(void *ctx, const struct http_request *req, struct http_response *resp);

/* This thread's connection to the app's database (opened on first use, closed at thread exit
 * or app_destroy). NULL if it cannot be opened. */
sqlite3 *app_db(struct app *app);

/* Before a unit of work (a request, a job) on this thread: a transaction that a failed ROLLBACK
 * left open on its connection (db_end_stray_transaction) is rolled back, or the connection is
 * closed, which rolls it back, and the next app_db opens another. */
void app_db_settle(struct app *app);

const struct app_config *app_config(const struct app *app);

/* A route of the API, for the OpenAPI consistency test. */
struct app_route_info {
    const char *method;
    const char *pattern; /* "/datasets/{id}" */
};
size_t app_route_count(void);
struct app_route_info app_route_at(size_t i);

/* --- the model cache: loaded forecasters, several instances per model so that concurrent
 * requests never share one (a model's workspace is per call) --- */

/* Resolves "default" (id 0) or an id, and lends a forecaster. FW_ENOTFOUND if no such model. */
int app_model_acquire(struct app *app, int64_t id, int64_t *resolved, struct forecaster **out,
                      fw_error *err);
void app_model_release(struct app *app, int64_t id, struct forecaster *f);
/* Drops a model's cached instances (after DELETE). */
void app_model_forget(struct app *app, int64_t id);

/* --- the dataset cache (core/dataset_cache.h): a copy of a stored dataset's series, which the
 * caller owns (FW_ENOTFOUND, or FW_EINVAL if it is not monthly) --- */
int app_dataset_series(struct app *app, int64_t id, struct month_series *out, fw_error *err);
/* Drops a dataset from the cache (after DELETE). */
void app_dataset_forget(struct app *app, int64_t id);

/* --- jobs (server/jobs.c) --- */
struct jobs;
struct jobs *app_jobs(struct app *app);

/* --- counters for /metrics (server/metrics.h) --- */
struct metrics *app_metrics(struct app *app);
void app_count_forecast(struct app *app);
void app_count_epoch(struct app *app);
/* Prometheus text exposition of the counters (malloc'd). */
char *app_metrics_text(struct app *app, size_t *len);

#endif
