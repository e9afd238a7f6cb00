/* jobs — training workers fed from the jobs table (see jobs.h). */
#include "core/jobs.h"
#include "db/store.h"
#include "model/fit.h"
#include "base/period.h"
#include "core/backtest.h"
#include "core/forecast_json.h"
#include "core/job_request.h"
#include "core/model_json.h"
#include "core/model_record.h"
#include "base/textbuf.h"
#include "core/json_text.h"
#include "quantum/evaluator.h"
#include "quantum/factory.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    int64_t job_id; /* 0 when idle */
    atomic_int cancel;
};

struct jobs {
    struct jobs_env env;
    int n_workers, train_threads;
    pthread_t *threads;
    struct slot *slots;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    atomic_int alive;
};

struct worker_arg {
    struct jobs *jobs;
    int index;
};

static void count_epoch(struct jobs *jobs)
{
    if (jobs->env.count_epoch)
        jobs->env.count_epoch(jobs->env.ctx);
}

struct job_run {
    struct jobs *jobs;
    struct slot *slot;
    sqlite3 *db;
    int64_t id;
    int epochs;
};

static char *curve_json(const struct train_state *s)
{
    json_t *a = json_array();
    for (int e = 0; a && e < s->epochs_done; e++)
        json_array_append_new(a, json_pack("{s:i, s:f, s:f, s:f}", "epoch", e + 1, "train_loss",
                                           s->curve[e].train_loss, "val_loss", s->curve[e].val_loss,
                                           "seconds", s->curve[e].seconds));
    char *text = a ? json_text(a, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(a);
    return text;
}

/* After every epoch: progress, loss curve and the checkpoint go to the database. */
static void on_epoch(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    struct job_run *run = ctx;
    count_epoch(run->jobs);
    char *curve = curve_json(s);
    struct store_job_progress progress = {(double)p->epoch / p->epochs, p->epoch, p->eta_seconds,
                                          curve};
    fw_error err = {0};
    int rc = store_job_update_progress(run->db, run->id, &progress, &err);
    free(curve);
    if (rc == FW_ECANCELLED) {
        atomic_store(&run->slot->cancel, 1); /* cancelled through another connection */
        return;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!rc && train_state_save(s, &bytes, &len) == FW_OK)
        store_job_set_checkpoint(run->db, run->id, bytes, len, &err);
    free(bytes);
}

static int store_result(struct job_run *run, const struct train_job *tj, const struct forecaster *f,
                        const struct store_dataset *ds, fw_error *err)
{
    char name[STORE_NAME_MAX];
    if (tj->name[0])
        snprintf(name, sizeof name, "%s", tj->name);
    else
        snprintf(name, sizeof name, "job-%lld", (long long)run->id);
    struct model_record record = {name, ds->meta.id, tj->make_default};
    int64_t model_id = 0;
    int rc = model_record_insert(run->db, f, &record, &model_id, err);
    if (!rc)
        rc = store_job_set_model(run->db, run->id, model_id, err);
    return rc;
}

/* --- refit backtests: one model per cutoff ------------------------------------------------ */

struct refit {
    struct jobs *jobs;
    struct slot *slot;
    sqlite3 *db;
    int64_t id;
    struct train_job tj;
    const struct backtest_spec *spec;
    int first_month;
    size_t window_index;
};

static void on_refit_epoch(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    struct refit *r = ctx;
    count_epoch(r->jobs);
    double done = (double)r->window_index + (double)p->epoch / p->epochs;
    struct store_job_progress progress = {done / (double)r->spec->n_windows,
                                          (int)r->window_index * p->epochs + p->epoch, NAN, NULL};
    fw_error err = {0};
    if (store_job_update_progress(r->db, r->id, &progress, &err) == FW_ECANCELLED)
        atomic_store(&r->slot->cancel, 1);
}

static int refit_forecast(void *ctx, size_t w, const double *values, size_t n_history,
                          double *point, double *lo, double *hi, fw_error *err)
{
    struct refit *r = ctx;
    r->window_index = w;
    struct fit_request rq = r->tj.rq;
    rq.cutoff_month = r->first_month + (int)n_history - 1;
    struct fit_callbacks cb = {NULL, on_refit_epoch, r};
    struct train_state state = {0};
    struct forecaster *f = NULL;
    int rc = fit_run(&rq, values, n_history, r->first_month, NULL, NULL, 0, &cb, &r->slot->cancel,
                     &state, &f, err);
    train_state_free(&state);
    if (!rc)
        rc = forecaster_predict(f, values, n_history, r->spec->h, r->spec->levels,
                                r->spec->n_levels, NULL, point, lo, hi, NULL, err);
    forecaster_free(f);
    return rc;
}

static int run_refit_backtest(struct jobs *jobs, struct slot *slot, sqlite3 *db, int64_t id,
                              const struct store_job *job, const struct store_dataset *ds,
                              const double *values, int first_month, fw_error *err)
{
    struct refit r;
    memset(&r, 0, sizeof r);
    r.jobs = jobs, r.slot = slot, r.db = db, r.id = id, r.first_month = first_month;
    int rc = job_request_train_decode(job->request_json, &r.tj, err);
    if (rc)
        return rc;
    r.tj.rq.train.threads = jobs->train_threads;
    json_t *o = json_loads(job->request_json, 0, NULL);
    struct backtest_spec spec = {0};
    spec.h = (size_t)json_integer_value(json_object_get(o, "h"));
    spec.n_windows = (size_t)json_integer_value(json_object_get(o, "n_windows"));
    spec.step = (size_t)json_integer_value(json_object_get(o, "step"));
    const json_t *levels = json_object_get(o, "level");
    for (size_t i = 0; i < json_array_size(levels) && i < BACKTEST_MAX_LEVELS; i++)
        spec.levels[spec.n_levels++] = json_number_value(json_array_get(levels, i));
    json_decref(o);
    struct model *probe = NULL;
    if ((rc = model_create(r.tj.rq.architecture, r.tj.rq.config, 0, &probe, err)))
        return rc;
    spec.window = (size_t)probe->window;
    model_destroy(probe);
    /* the scaled MSE uses the whole series' range: each refit has its own scaler */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ds->n_points; i++)
        if (!isnan(values[i])) {
            lo = fmin(lo, values[i]);
            hi = fmax(hi, values[i]);
        }
    spec.scale = hi > lo ? hi - lo : 1.0;
    spec.refit = 1;
    r.spec = &spec;
    struct backtest_result result;
    rc = backtest_run(&spec, values, ds->n_points, first_month, refit_forecast, &r, &result, err);
    if (!rc) {
        json_t *doc = backtest_json(&result);
        char *text = doc ? json_text(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        rc = text ? store_job_set_result(db, id, text, err) : FW_ENOMEM;
        free(text);
        json_decref(doc);
    }
    backtest_result_free(&result);
    return rc;
}

/* --- quantum forecasts on a cloud ----------------------------------------------------------- */

/* What GET /jobs/{id} shows while the circuits run: the provider's job ids, their state, and
 * the run's size (circuits, shots, provider jobs). */
struct quantum_watch {
    struct slot *slot;
    sqlite3 *db;
    int64_t id;
    json_t *quantum; /* {"backend", "device", "provider_jobs", "provider_state", ...} */
};

static void on_quantum_update(void *ctx, const char *job_ids, enum qjob_state state)
{
    struct quantum_watch *w = ctx;
    json_object_set_new(w->quantum, "provider_jobs", json_string(job_ids));
    json_object_set_new(w->quantum, "provider_state", json_string(qjob_state_name(state)));
    json_t *doc = json_pack("{s:O}", "quantum", w->quantum);
    char *text = doc ? json_text(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    fw_error err = {0};
    if (text)
        store_job_set_result(w->db, w->id, text, &err);
    free(text);
    /* and the provider work, in the quantum_jobs table (kept after the result replaces this) */
    json_t *q = w->quantum;
    char *cost = json_text(q, JSON_COMPACT);
    if (store_quantum_job_record(w->db, w->id, json_string_value(json_object_get(q, "backend")),
                                 job_ids, qjob_state_name(state),
                                 json_integer_value(json_object_get(q, "circuits")),
                                 json_integer_value(json_object_get(q, "shots_total")), cost, &err))
        fprintf(stderr, "fwpcast: job %lld: recording its provider jobs: %s\n", (long long)w->id,
                err.msg);
    free(cost);
    static const double progress[] = {0.1, 0.5, 1.0, 1.0, 1.0};
    struct store_job_progress p = {progress[state <= QJOB_CANCELLED ? state : 0], 0, NAN, NULL};
    if (store_job_update_progress(w->db, w->id, &p, &err) == FW_ECANCELLED)
        atomic_store(&w->slot->cancel, 1); /* cancelled meanwhile: the run cancels its jobs */
}

/* The "quantum" member of a cloud forecast's result: where it ran and what it cost. */
static json_t *quantum_summary(const struct quantum_job *q)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I}", "backend", q->backend.name, "device",
                     qbackend_device(&q->backend), "circuits", (json_int_t)q->plan.circuits,
                     "shots_total", (json_int_t)q->plan.shots_total, "jobs",
                     (json_int_t)q->plan.jobs);
}

/* The first polling interval (doubling to 30 s): $FWPCAST_QUANTUM_POLL seconds, else 1. */
static double quantum_poll_seconds(void)
{
    const char *poll_env = getenv("FWPCAST_QUANTUM_POLL");
    double poll = poll_env ? atof(poll_env) : 1.0;
    return poll >= 0.01 && poll <= 60 ? poll : 1.0;
}

/* Stores the forecast, with the run's provider jobs and cost, as the job's result. */
static int store_quantum_result(sqlite3 *db, int64_t id, const struct forecast_request *rq,
                                const struct forecast_result *r, const struct quantum_job *q,
                                const json_t *quantum, fw_error *err)
{
    char *quantum_text = quantum ? json_text(quantum, JSON_COMPACT) : NULL;
    struct forecast_doc doc = {
        .rq = rq, .r = r, .model = q->model, .dataset = q->dataset, .quantum_json = quantum_text};
    size_t len = 0;
    char *text = !quantum || quantum_text ? forecast_json(&doc, &len) : NULL;
    int rc = text ? store_job_set_result(db, id, text, err) : FW_ENOMEM;
    free(text);
    free(quantum_text);
    return rc;
}

/* Runs the forecast's circuits on the cloud and stores the forecast as the job's result. */
static int run_quantum_job(struct jobs *jobs, struct slot *slot, sqlite3 *db, int64_t id,
                           const struct store_job *job, fw_error *err)
{
    struct quantum_job q;
    struct forecaster *f = NULL;
    int64_t resolved = 0;
    int rc = job_request_quantum_decode(job->request_json, &q, err);
    if (!rc)
        rc = model_cache_acquire(jobs->env.models, jobs->env.db(jobs->env.ctx), q.model, &resolved,
                                 &f, err);
    struct quantum_watch watch = {slot, db, id, rc ? NULL : quantum_summary(&q)};
    struct qrun_observer observer = {on_quantum_update, &watch};
    struct forecast_request rq = {.model = f,
                                  .history = q.values,
                                  .n_history = q.n,
                                  .last_month = q.first_month + (int)q.n - 1,
                                  .h = q.h,
                                  .levels = q.levels,
                                  .n_levels = q.n_levels,
                                  .backend = &q.backend,
                                  .poll_seconds = quantum_poll_seconds(),
                                  .timeout_seconds = 24 * 3600.0,
                                  .cancel = &slot->cancel,
                                  .observer = &observer};
    struct forecast_result r = {0};
    if (!rc)
        rc = forecast_run(&rq, &r, err);
    if (!rc)
        rc = store_quantum_result(db, id, &rq, &r, &q, watch.quantum, err);
    forecast_result_free(&r);
    json_decref(watch.quantum);
    if (f)
        model_cache_release(jobs->env.models, resolved, f);
    job_request_quantum_free(&q);
    return rc;
}

static void run_job(struct jobs *jobs, struct slot *slot, sqlite3 *db, int64_t id)
{
    fw_error err = {0};
    struct store_job *job = NULL;
    struct store_dataset *ds = NULL;
    struct train_job tj;
    struct train_state state = {0};
    struct forecaster *f = NULL;
    double *values = NULL;
    int first_month = 0, rc;
    if ((rc = store_job_get(db, id, &job, &err)))
        goto finish;
    if (job->kind == STORE_JOB_QUANTUM) {
        rc = run_quantum_job(jobs, slot, db, id, job, &err);
        goto finish;
    }
    if ((rc = job_request_train_decode(job->request_json, &tj, &err)))
        goto finish;
    tj.rq.train.threads = jobs->train_threads;
    if ((rc = store_dataset_get(db, tj.dataset_id, NULL, NULL, &ds, &err)))
        goto finish;
    if (ds->n_points == 0 || period_parse(ds->points[0].period, &first_month)) {
        rc = fw_error_set(&err, FW_EINVAL, "dataset %lld is not a monthly series",
                          (long long)tj.dataset_id);
        goto finish;
    }
    values = malloc(ds->n_points * sizeof *values);
    if (!values) {
        rc = FW_ENOMEM;
        goto finish;
    }
    for (size_t i = 0; i < ds->n_points; i++)
        values[i] = ds->points[i].value;
    if (job->kind == STORE_JOB_BACKTEST) {
        rc = run_refit_backtest(jobs, slot, db, id, job, ds, values, first_month, &err);
        goto finish;
    }
    struct job_run run = {jobs, slot, db, id, tj.rq.train.epochs};
    struct fit_callbacks cb = {NULL, on_epoch, &run};
    rc = fit_run(&tj.rq, values, ds->n_points, first_month, ds->meta.sha256, job->checkpoint,
                 job->checkpoint_len, &cb, &slot->cancel, &state, &f, &err);
    if (!rc)
        rc = store_result(&run, &tj, f, ds, &err);
finish:;
    enum store_job_state final = STORE_JOB_SUCCEEDED;
    const char *message = NULL;
    if (rc == FW_ECANCELLED) {
        pthread_mutex_lock(&jobs->lock);
        int stopping = jobs->stopping;
        pthread_mutex_unlock(&jobs->lock);
        /* a shutdown leaves the job resumable; a user's cancel was already recorded */
        final = stopping ? STORE_JOB_INTERRUPTED : STORE_JOB_CANCELLED;
    } else if (rc) {
        final = STORE_JOB_FAILED;
        message = err.msg[0] ? err.msg : fw_strerror(rc);
    }
    fw_error serr = {0};
    int src = store_job_set_state(db, id, final, message, &serr);
    if (src && !(final == STORE_JOB_CANCELLED && src == FW_ECONFLICT))
        fprintf(stderr, "fwpcast: job %lld: recording its end: %s\n", (long long)id, serr.msg);
    fprintf(stderr, "fwpcast: job %lld %s%s%s\n", (long long)id, store_job_state_name(final),
            message ? ": " : "", message ? message : "");
    free(values);
    forecaster_free(f);
    train_state_free(&state);
    store_dataset_free(ds);
    store_job_free(job);
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct jobs *jobs = wa->jobs;
    struct slot *slot = &jobs->slots[wa->index];
    free(wa);
    atomic_fetch_add(&jobs->alive, 1);
    for (;;) {
        pthread_mutex_lock(&jobs->lock);
        int stopping = jobs->stopping;
        pthread_mutex_unlock(&jobs->lock);
        jobs->env.db_settle(jobs->env.ctx);
        sqlite3 *db = jobs->env.db(jobs->env.ctx);
        if (stopping || !db)
            break;
        int64_t id = 0;
        fw_error err = {0};
        int rc = store_job_claim_next(db, &id, &err);
        if (rc == FW_OK) {
            pthread_mutex_lock(&jobs->lock);
            slot->job_id = id;
            atomic_store(&slot->cancel, jobs->stopping);
            pthread_mutex_unlock(&jobs->lock);
            run_job(jobs, slot, db, id);
            pthread_mutex_lock(&jobs->lock);
            slot->job_id = 0;
            pthread_mutex_unlock(&jobs->lock);
            continue;
        }
        if (rc != FW_ENOTFOUND)
            fprintf(stderr, "fwpcast: worker: %s\n", err.msg);
        /* nothing queued: sleep until woken, or a second (jobs queued by another process) */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&jobs->lock);
        if (!jobs->stopping)
            pthread_cond_timedwait(&jobs->wake, &jobs->lock, &until);
        pthread_mutex_unlock(&jobs->lock);
    }
    atomic_fetch_sub(&jobs->alive, 1);
    return NULL;
}

int jobs_start(const struct jobs_env *env, struct jobs **out, fw_error *err)
{
    struct jobs *jobs = calloc(1, sizeof *jobs);
    if (!jobs)
        return FW_ENOMEM;
    jobs->env = *env;
    jobs->n_workers = env->workers < 0 ? 0 : env->workers;
    jobs->train_threads = env->train_threads > 0 ? env->train_threads : 1;
    jobs->threads = calloc((size_t)jobs->n_workers + 1, sizeof *jobs->threads);
    jobs->slots = calloc((size_t)jobs->n_workers + 1, sizeof *jobs->slots);
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_cond_init(&jobs->wake, NULL);
    atomic_init(&jobs->alive, 0);
    if (!jobs->threads || !jobs->slots) {
        jobs_stop(jobs);
        return FW_ENOMEM;
    }
    for (int i = 0; i < jobs->n_workers; i++) {
        atomic_init(&jobs->slots[i].cancel, 0);
        struct worker_arg *wa = malloc(sizeof *wa);
        int rc = -1;
        if (wa) {
            wa->jobs = jobs;
            wa->index = i;
            rc = pthread_create(&jobs->threads[i], NULL, worker_main, wa);
        }
        if (rc) {
            free(wa);
            jobs->n_workers = i;
            jobs_stop(jobs);
            return fw_error_set(err, FW_ENOMEM, "cannot start training workers");
        }
    }
    *out = jobs;
    return FW_OK;
}

void jobs_stop(struct jobs *jobs)
{
    if (!jobs)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->stopping = 1;
    for (int i = 0; i < jobs->n_workers; i++)
        if (jobs->slots[i].job_id)
            atomic_store(&jobs->slots[i].cancel, 1);
    pthread_cond_broadcast(&jobs->wake);
    pthread_mutex_unlock(&jobs->lock);
    for (int i = 0; i < jobs->n_workers; i++)
        pthread_join(jobs->threads[i], NULL);
    pthread_mutex_destroy(&jobs->lock);
    pthread_cond_destroy(&jobs->wake);
    free(jobs->threads);
    free(jobs->slots);
    free(jobs);
}

void jobs_wake(struct jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    pthread_cond_signal(&jobs->wake);
    pthread_mutex_unlock(&jobs->lock);
}

void jobs_cancel(struct jobs *jobs, int64_t id)
{
    pthread_mutex_lock(&jobs->lock);
    for (int i = 0; i < jobs->n_workers; i++)
        if (jobs->slots[i].job_id == id)
            atomic_store(&jobs->slots[i].cancel, 1);
    pthread_mutex_unlock(&jobs->lock);
}

int jobs_alive(struct jobs *jobs)
{
    return jobs ? atomic_load(&jobs->alive) : 0;
}
