/* app — the service's state: configuration, per-thread connections, caches, workers (app.h). */
#include "server/app.h"
#include "db/bootstrap.h"
#include "db/db.h"
#include "db/store.h"
#include "base/period.h"
#include "core/jobs.h"
#include "server/metrics.h"
#include "core/model_json.h"
#include "core/dataset_cache.h"
#include "core/model_cache.h"
#include "core/model_record.h"
#include "base/textbuf.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the app ------------------------------------------------------------------------------------
 */

struct app {
    struct app_config cfg;
    char *db_path, *data_dir, *static_dir, *token;
    pthread_key_t db_key;
    struct metrics *metrics;
    struct model_cache *cache;
    struct dataset_cache *datasets;
    struct jobs *jobs;
};

const struct app_config *app_config(const struct app *app)
{
    return &app->cfg;
}

struct jobs *app_jobs(struct app *app)
{
    return app->jobs;
}

static void close_thread_db(void *db)
{
    db_close(db);
}

sqlite3 *app_db(struct app *app)
{
    sqlite3 *db = pthread_getspecific(app->db_key);
    if (db)
        return db;
    fw_error err = {0};
    if (db_open(app->db_path, &db, &err)) {
        fprintf(stderr, "fwpcast: opening %s: %s\n", app->db_path, err.msg);
        return NULL;
    }
    pthread_setspecific(app->db_key, db);
    return db;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Loads data/models/default.fwp as the default model when the database has none. */
static int bootstrap_default_model(struct app *app, sqlite3 *db, fw_error *err)
{
    int64_t id;
    if (store_model_default_id(db, &id, NULL) == FW_OK)
        return FW_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/models/default.fwp", app->data_dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!app->cfg.quiet)
            fprintf(stderr, "fwpcast: no %s: POST /forecast needs a model first\n", path);
        return FW_OK;
    }
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0, got;
    uint8_t chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            uint8_t *grown = realloc(bytes, cap);
            if (!grown) {
                free(bytes);
                fclose(f);
                return FW_ENOMEM;
            }
            bytes = grown;
        }
        memcpy(bytes + len, chunk, got);
        len += got;
    }
    fclose(f);
    struct forecaster *fc = NULL;
    int rc = forecaster_load(bytes, len, &fc, err);
    if (!rc) {
        int64_t dataset_id = 0;
        store_dataset_find(db, "silso-monthly", &dataset_id, NULL);
        struct model_record record = {"default", dataset_id, 1};
        rc = model_record_insert(db, fc, &record, &id, err);
        if (!rc && !app->cfg.quiet)
            fprintf(stderr, "fwpcast: loaded %s as the default model (id %lld)\n", path,
                    (long long)id);
    }
    forecaster_free(fc);
    free(bytes);
    return rc;
}

/* The workers' view of the app (server/jobs.h). */
static sqlite3 *jobs_db(void *app)
{
    return app_db(app);
}

static void jobs_db_settle(void *app)
{
    app_db_settle(app);
}

static void jobs_count_epoch(void *app)
{
    app_count_epoch(app);
}

int app_create(const struct app_config *cfg, struct app **out, fw_error *err)
{
    struct app *app = calloc(1, sizeof *app);
    if (!app)
        return FW_ENOMEM;
    openblas_set_num_threads(1); /* request and worker threads each run their own BLAS calls */
    app->cfg = *cfg;
    app->db_path = strdup(cfg->db_path);
    app->data_dir = strdup(cfg->data_dir ? cfg->data_dir : "data");
    app->static_dir = dup_or_null(cfg->static_dir);
    app->token = dup_or_null(cfg->token);
    app->cfg.db_path = app->db_path;
    app->cfg.data_dir = app->data_dir;
    app->cfg.static_dir = app->static_dir;
    app->cfg.token = app->token;
    if (!app->db_path || !app->data_dir || metrics_create(&app->metrics) ||
        model_cache_create(&app->cache) || dataset_cache_create(&app->datasets) ||
        pthread_key_create(&app->db_key, close_thread_db)) {
        metrics_destroy(app->metrics);
        model_cache_destroy(app->cache);
        dataset_cache_destroy(app->datasets);
        free(app->db_path), free(app->data_dir), free(app->static_dir), free(app->token);
        free(app);
        return FW_ENOMEM;
    }
    sqlite3 *db = app_db(app);
    int rc = db ? FW_OK : fw_error_set(err, FW_EDB, "cannot open the database %s", cfg->db_path);
    int interrupted = 0;
    if (!rc)
        rc = db_migrate(db, NULL, err);
    if (!rc)
        rc = db_bootstrap_bundled(db, app->data_dir, err);
    if (!rc)
        rc = bootstrap_default_model(app, db, err);
    if (!rc)
        rc = store_job_mark_interrupted(db, &interrupted, err);
    if (!rc && interrupted && !cfg->quiet)
        fprintf(stderr,
                "fwpcast: %d job(s) were running when the last process stopped: now "
                "interrupted (POST /jobs/{id}/resume continues them)\n",
                interrupted);
    if (!rc)
        rc = jobs_start(&(struct jobs_env){.ctx = app,
                                           .db = jobs_db,
                                           .db_settle = jobs_db_settle,
                                           .count_epoch = jobs_count_epoch,
                                           .models = app->cache,
                                           .workers = cfg->workers,
                                           .train_threads = cfg->train_threads},
                        &app->jobs, err);
    if (rc) {
        app_destroy(app);
        return rc;
    }
    *out = app;
    return FW_OK;
}

void app_destroy(struct app *app)
{
    if (!app)
        return;
    jobs_stop(app->jobs);
    model_cache_destroy(app->cache);
    dataset_cache_destroy(app->datasets);
    sqlite3 *db = pthread_getspecific(app->db_key);
    db_close(db);
    pthread_setspecific(app->db_key, NULL);
    pthread_key_delete(app->db_key);
    metrics_destroy(app->metrics);
    free(app->db_path), free(app->data_dir), free(app->static_dir), free(app->token);
    free(app);
}

void app_db_settle(struct app *app)
{
    sqlite3 *db = pthread_getspecific(app->db_key);
    if (db && db_end_stray_transaction(db)) {
        db_close(db);
        pthread_setspecific(app->db_key, NULL);
    }
}

int app_dataset_series(struct app *app, int64_t id, struct month_series *out, fw_error *err)
{
    return dataset_cache_get(app->datasets, app_db(app), id, out, err);
}

void app_dataset_forget(struct app *app, int64_t id)
{
    dataset_cache_forget(app->datasets, id);
}

void app_count_forecast(struct app *app)
{
    metrics_count_forecast(app->metrics);
}

void app_count_epoch(struct app *app)
{
    metrics_count_epoch(app->metrics);
}

struct metrics *app_metrics(struct app *app)
{
    return app->metrics;
}

char *app_metrics_text(struct app *app, size_t *len)
{
    struct textbuf t = {0};
    metrics_text(app->metrics, &t);
    int64_t counts[8] = {0};
    sqlite3 *db = app_db(app);
    if (db && store_job_count_by_state(db, counts, NULL) == FW_OK) {
        textbuf_printf(&t, "# HELP fwpcast_jobs Jobs by state.\n# TYPE fwpcast_jobs gauge\n");
        for (int s = STORE_JOB_QUEUED; s <= STORE_JOB_INTERRUPTED; s++)
            textbuf_printf(&t, "fwpcast_jobs{state=\"%s\"} %lld\n",
                           store_job_state_name((enum store_job_state)s), (long long)counts[s]);
    }
    textbuf_printf(&t,
                   "# HELP fwpcast_training_workers Training worker threads alive.\n"
                   "# TYPE fwpcast_training_workers gauge\nfwpcast_training_workers %d\n",
                   jobs_alive(app->jobs));
    return textbuf_take(&t, len);
}

int app_model_acquire(struct app *app, int64_t id, int64_t *resolved, struct forecaster **out,
                      fw_error *err)
{
    return model_cache_acquire(app->cache, app_db(app), id, resolved, out, err);
}

void app_model_release(struct app *app, int64_t id, struct forecaster *f)
{
    model_cache_release(app->cache, id, f);
}

void app_model_forget(struct app *app, int64_t id)
{
    model_cache_forget(app->cache, id);
}
