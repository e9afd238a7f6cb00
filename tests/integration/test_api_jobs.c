/*
 * Integration: training jobs against a real server — concurrent forecasts while a job trains,
 * cancelling a running job, a full queue (429), refit backtests as jobs, training recipes
 * (optimizer, schedule) reaching the trainer, and restarts: SIGKILL and SIGTERM during training
 * leave the job interrupted and resumable, and a resumed job continues from its checkpoint to
 * the requested number of epochs (with a Lion + WSD recipe: to the uninterrupted run's model,
 * byte for byte).
 */
#include "itest.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static struct itest_server *srv;
static int64_t tiny_model;

static int group_setup(void **state)
{
    (void)state;
    srv = its_start(NULL, NULL);
    tiny_model = it_train_tiny(srv, 2);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv);
    its_free(srv);
    srv = NULL;
    return 0;
}

static char *dumps(const json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    assert_non_null(text);
    return text;
}

static int running_from_epoch(const json_t *job, void *arg)
{
    return !strcmp(JS(job, "state"), "running") && JI(job, "epoch") >= *(const int *)arg;
}

static void cancel_job(struct itest_server *s, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld", (long long)id);
    struct it_resp r;
    it_delete(s, path, &r);
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    json_t *job = it_job_wait(s, id, NULL, NULL, 30);
    assert_string_equal(JS(job, "state"), "cancelled");
    json_decref(job);
}

/* ---- concurrent forecasts while a job trains ------------------------------------------------ */

#define THREADS    8
#define PER_THREAD 50

struct fc_worker {
    struct itest_server *s;
    const char *bodies[2];
    const char *expected[2];
    int ok, failures;
    char first_failure[600];
};

static void *fc_thread(void *arg)
{
    struct fc_worker *w = arg;
    CURL *h = curl_easy_init(); /* one keep-alive connection per thread */
    for (int i = 0; i < PER_THREAD; i++) {
        int k = i % 2;
        struct it_req rq = {.method = "POST",
                            .path = "/forecast",
                            .content_type = "application/json",
                            .body = w->bodies[k],
                            .len = strlen(w->bodies[k]),
                            .curl = h};
        struct it_resp r;
        it_do(w->s, &rq, &r);
        if (r.status == 200 && !strcmp(r.body, w->expected[k])) {
            w->ok++;
        } else {
            if (!w->failures++)
                snprintf(w->first_failure, sizeof w->first_failure,
                         "request %d: status %ld (%s): %.400s", i, r.status,
                         curl_easy_strerror(r.rc), r.body);
        }
        it_resp_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_forecasts_while_training(void **state)
{
    (void)state;
    char a[160], b[200];
    snprintf(a, sizeof a, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80,95]}",
             (long long)tiny_model);
    snprintf(b, sizeof b,
             "{\"model\":%lld,\"dataset\":2,\"h\":3,\"level\":[50],\"cutoff\":"
             "\"2019-12\"}",
             (long long)tiny_model);
    /* the reference answers, before anything runs */
    struct it_resp ra, rb;
    it_post_json(srv, "/forecast", a, &ra);
    IT_STATUS(&ra, 200);
    it_post_json(srv, "/forecast", b, &rb);
    IT_STATUS(&rb, 200);

    int64_t job = it_train_start(srv, 48, 10000, ""); /* until cancelled */
    int one = 1;
    json_t *j = it_job_wait(srv, job, running_from_epoch, &one, 60);
    assert_string_equal(JS(j, "state"), "running");
    json_decref(j);
    struct it_resp m0;
    it_get(srv, "/metrics", &m0);
    double forecasts0 = it_metric(m0.body, "fwpcast_forecasts_total");
    it_resp_free(&m0);

    pthread_t threads[THREADS];
    struct fc_worker workers[THREADS];
    double t0 = it_now();
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct fc_worker){srv, {a, b}, {ra.body, rb.body}, 0, 0, ""};
        assert_int_equal(pthread_create(&threads[t], NULL, fc_thread, &workers[t]), 0);
    }
    int ok = 0, failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        ok += workers[t].ok;
        failures += workers[t].failures;
        if (workers[t].failures)
            print_error("thread %d: %d failures; first: %s\n", t, workers[t].failures,
                        workers[t].first_failure);
    }
    double seconds = it_now() - t0;
    print_message("    %d forecasts from %d threads in %.2f s while training\n", ok, THREADS,
                  seconds);
    assert_int_equal(failures, 0);
    assert_int_equal(ok, THREADS * PER_THREAD);

    /* the job kept training all along, and every forecast was counted */
    j = it_job(srv, job);
    assert_string_equal(JS(j, "state"), "running");
    json_decref(j);
    it_get(srv, "/metrics", &m0);
    assert_true(it_metric(m0.body, "fwpcast_forecasts_total") >= forecasts0 + THREADS * PER_THREAD);
    it_resp_free(&m0);
    cancel_job(srv, job);
    it_resp_free(&ra), it_resp_free(&rb);
}

/* ---- deleting what forecasts are using ----------------------------------------------------- */

struct churn {
    struct itest_server *s;
    char body[160];
    volatile int stop;
    int ok, gone, other;
    char other_text[400];
};

static void *churn_thread(void *arg)
{
    struct churn *c = arg;
    CURL *h = curl_easy_init();
    while (!c->stop) {
        struct it_req rq = {.method = "POST",
                            .path = "/forecast",
                            .content_type = "application/json",
                            .body = c->body,
                            .len = strlen(c->body),
                            .curl = h};
        struct it_resp r;
        it_do(c->s, &rq, &r);
        if (r.status == 200)
            c->ok++;
        else if (r.status == 404 || r.status == 422)
            c->gone++;
        else if (!c->other++)
            snprintf(c->other_text, sizeof c->other_text, "%ld (%s): %.300s", r.status,
                     curl_easy_strerror(r.rc), r.body);
        it_resp_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* Forecasts on a model and on a dataset while both are deleted under them: each answer is a
 * forecast or a 4xx naming what is gone, never a 5xx or a crash (ASan watches the server). */
static void test_delete_while_forecasting(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        /* a model of its own (a copy of the tiny one) and a dataset of its own (dataset 1) */
        char path[96];
        snprintf(path, sizeof path, "/models/%lld/export", (long long)tiny_model);
        struct it_resp bin, r;
        it_get(srv, path, &bin);
        IT_STATUS(&bin, 200);
        it_post(srv, "/models/import", "application/octet-stream", bin.body, bin.len, &r);
        IT_STATUS(&r, 201);
        json_t *o = IT_JSON(&r);
        int64_t model = JI(o, "id");
        json_decref(o);
        it_resp_free(&r);
        it_resp_free(&bin);
        it_get(srv, "/datasets/1", &r);
        IT_STATUS(&r, 200);
        json_t *ds = IT_JSON(&r);
        it_resp_free(&r);
        json_t *doc = json_pack("{s:s, s:O}", "name", "churn", "points", JA(ds, "points"));
        char *text = dumps(doc);
        json_decref(doc);
        json_decref(ds);
        it_post_json(srv, "/datasets", text, &r);
        free(text);
        IT_STATUS(&r, 201);
        o = IT_JSON(&r);
        int64_t dataset = JI(o, "id");
        json_decref(o);
        it_resp_free(&r);

        struct churn c[4];
        pthread_t t[4];
        for (int k = 0; k < 4; k++) {
            memset(&c[k], 0, sizeof c[k]);
            c[k].s = srv;
            snprintf(c[k].body, sizeof c[k].body, "{\"model\":%lld,\"dataset\":%lld,\"h\":6}",
                     (long long)(k % 2 ? model : tiny_model), (long long)(k % 2 ? 1 : dataset));
            assert_int_equal(pthread_create(&t[k], NULL, churn_thread, &c[k]), 0);
        }
        it_sleep_ms(50 + 50 * round);
        snprintf(path, sizeof path, "/models/%lld", (long long)model);
        it_delete(srv, path, &r);
        IT_STATUS(&r, 204);
        it_resp_free(&r);
        snprintf(path, sizeof path, "/datasets/%lld", (long long)dataset);
        it_delete(srv, path, &r);
        IT_STATUS(&r, 204);
        it_resp_free(&r);
        it_sleep_ms(100);
        int ok = 0, gone = 0, other = 0;
        for (int k = 0; k < 4; k++) {
            c[k].stop = 1;
            pthread_join(t[k], NULL);
            ok += c[k].ok, gone += c[k].gone, other += c[k].other;
            if (c[k].other)
                print_error("thread %d: %d unexpected answers; first: %s\n", k, c[k].other,
                            c[k].other_text);
        }
        assert_int_equal(other, 0);
        assert_true(ok > 0 && gone > 0); /* both sides of the delete were seen */
        struct it_resp h;
        it_get(srv, "/healthz", &h);
        IT_STATUS(&h, 200);
        it_resp_free(&h);
    }
}

/* ---- cancel ------------------------------------------------------------------------------ */

static void test_cancel_running(void **state)
{
    (void)state;
    size_t models = it_model_count(srv);
    int64_t job = it_train_start(srv, 48, 10000, ""); /* until cancelled */
    int one = 1;
    json_t *j = it_job_wait(srv, job, running_from_epoch, &one, 60);
    json_decref(j);

    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld", (long long)job);
    struct it_resp r;
    it_delete(srv, path, &r);
    IT_STATUS(&r, 200);
    json_t *o = IT_JSON(&r);
    assert_string_equal(JS(o, "state"), "cancelled");
    assert_false(json_is_true(json_object_get(o, "resumable")));
    json_int_t epoch = JI(o, "epoch");
    json_decref(o);
    it_resp_free(&r);

    /* it stays cancelled, and training stopped: no more epochs, no model */
    double until = it_now() + 1.5 * it_slow();
    while (it_now() < until) {
        j = it_job(srv, job);
        assert_string_equal(JS(j, "state"), "cancelled");
        if (JI(j, "epoch") != epoch)
            fail_msg("job %lld trained on after its cancel: epoch %lld, then %lld", (long long)job,
                     (long long)epoch, (long long)JI(j, "epoch"));
        assert_true(json_is_null(json_object_get(j, "model")));
        json_decref(j);
        it_sleep_ms(100);
    }
    j = it_job(srv, job);
    assert_true(json_is_string(json_object_get(j, "finished_at")));
    json_decref(j);
    assert_int_equal(it_model_count(srv), models);

    /* a second cancel and a resume are conflicts */
    it_delete(srv, path, &r);
    IT_PROBLEM(&r, 409);
    it_resp_free(&r);
    snprintf(path, sizeof path, "/jobs/%lld/resume", (long long)job);
    it_post(srv, path, NULL, NULL, 0, &r);
    IT_PROBLEM(&r, 409);
    it_resp_free(&r);

    /* the worker is free again: a new job runs to the end */
    int64_t model = it_train_tiny(srv, 1);
    assert_true(model > 0);
    assert_int_equal(it_model_count(srv), models + 1);
    struct it_resp m;
    it_get(srv, "/metrics", &m);
    assert_true(it_metric(m.body, "fwpcast_jobs{state=\"cancelled\"}") >= 1);
    it_resp_free(&m);
}

/* ---- a full queue ----------------------------------------------------------------------- */

static void test_queue_full(void **state)
{
    (void)state;
    const char *args[] = {"--max-jobs", "1", NULL};
    struct itest_server *s = its_start(args, NULL);
    int64_t model = it_train_tiny(s, 1);
    int64_t job = it_train_start(s, 48, 10000, ""); /* until cancelled */
    /* the snapshot counts jobs by state: take it once the job has left "queued" */
    int zero = 0;
    json_t *j = it_job_wait(s, job, running_from_epoch, &zero, 60);
    assert_string_equal(JS(j, "state"), "running");
    json_decref(j);
    char *before = it_snapshot(s);
    struct it_resp r;
    char body[256];
    snprintf(body, sizeof body,
             "{\"dataset\":1,\"window\":24,\"horizon\":6,\"epochs\":1," IT_TINY_CONFIG "}");
    it_post_json(s, "/models", body, &r);
    IT_PROBLEM(&r, 429);
    if (!r.retry_after)
        fail_msg("429 without Retry-After");
    it_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"model\":%lld,\"dataset\":1,\"refit\":true,\"n_windows\":2,\"step\":6,"
             "\"epochs\":1}",
             (long long)model);
    it_post_json(s, "/backtest", body, &r);
    IT_PROBLEM(&r, 429);
    it_resp_free(&r);
    char *after = it_snapshot(s);
    assert_string_equal(before, after);
    free(before), free(after);
    /* forecasts are not jobs: they still work */
    snprintf(body, sizeof body, "{\"model\":%lld,\"h\":2}", (long long)model);
    it_post_json(s, "/forecast", body, &r);
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    cancel_job(s, job);
    /* room again */
    int64_t next = it_train_start(s, 24, 1, "");
    j = it_job_wait(s, next, NULL, NULL, 60);
    assert_string_equal(JS(j, "state"), "succeeded");
    json_decref(j);
    its_stop(s);
    its_free(s);
}

/* ---- refit backtest jobs ----------------------------------------------------------------- */

static void test_refit_backtest_job(void **state)
{
    (void)state;
    char body[256];
    snprintf(body, sizeof body,
             "{\"model\":%lld,\"dataset\":1,\"refit\":true,\"n_windows\":2,\"step\":6,\"h\":6,"
             "\"epochs\":2}",
             (long long)tiny_model);
    size_t models = it_model_count(srv);
    struct it_resp r;
    it_post_json(srv, "/backtest", body, &r);
    IT_STATUS(&r, 202);
    json_t *o = IT_JSON(&r);
    int64_t job = JI(o, "job");
    char want[64];
    snprintf(want, sizeof want, "/jobs/%lld", (long long)job);
    assert_non_null(r.location);
    assert_string_equal(r.location, want);
    json_decref(o);
    it_resp_free(&r);
    json_t *j = it_job_wait(srv, job, NULL, NULL, 120);
    if (strcmp(JS(j, "state"), "succeeded")) {
        char *text = dumps(j);
        fail_msg("the refit backtest job ended %s: %.600s", JS(j, "state"), text);
    }
    assert_string_equal(JS(j, "kind"), "backtest");
    json_t *result = JO(j, "result");
    assert_int_equal(json_array_size(JA(result, "windows")), 2);
    json_t *m = JO(result, "metrics");
    static const char *const keys[] = {"mae", "rmse", "mase", "smape", "scaled_mse", "coverage-80"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        double v = JD(m, keys[k]);
        if (!(isfinite(v) && v >= 0))
            fail_msg("refit backtest metric %s = %g", keys[k], v);
    }
    json_decref(j);
    /* the refit models are the job's own, not new entries in /models */
    assert_int_equal(it_model_count(srv), models);
}

/* ---- training recipes ---------------------------------------------------------------------- */

#define LION_WSD                                                                                   \
    ",\"optimizer\":\"lion\",\"lr\":5e-4,\"weight_decay\":0.1,\"schedule\":\"wsd\",\"warmup\":0."  \
    "1,\"decay_fraction\":0.3"
#define ADAMW_LINEAR                                                                               \
    ",\"optimizer\":\"adamw\",\"weight_decay\":0.01,\"schedule\":\"linear\",\"final_lr\":0.1"

/* Trains a job to success; returns its model's id. */
static int64_t train_to_model(struct itest_server *s, int epochs, const char *extra)
{
    int64_t job = it_train_start(s, 24, epochs, extra);
    json_t *j = it_job_wait(s, job, NULL, NULL, 60 + 2.0 * epochs);
    if (strcmp(JS(j, "state"), "succeeded")) {
        char *text = dumps(j);
        fail_msg("the job with %s ended %s: %.600s", extra, JS(j, "state"), text);
    }
    int64_t model = JI(j, "model");
    json_decref(j);
    return model;
}

/* The model's binary export (its weights and training summary; not its name). */
static char *export_model(struct itest_server *s, int64_t model, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/models/%lld/export", (long long)model);
    struct it_resp r;
    it_get(s, path, &r);
    IT_STATUS(&r, 200);
    char *bytes = r.body;
    *len = r.len;
    r.body = NULL;
    it_resp_free(&r);
    return bytes;
}

static int same_export(struct itest_server *s, int64_t a, int64_t b)
{
    size_t la, lb;
    char *x = export_model(s, a, &la), *y = export_model(s, b, &lb);
    int same = la == lb && !memcmp(x, y, la);
    free(x), free(y);
    return same;
}

/* A job's recipe reaches the trainer: each trains another model than the default, and the same
 * recipe the same model. */
static void test_recipe_jobs(void **state)
{
    (void)state;
    int64_t plain = train_to_model(srv, 3, ""), plain2 = train_to_model(srv, 3, "");
    int64_t lion = train_to_model(srv, 3, LION_WSD), lion2 = train_to_model(srv, 3, LION_WSD);
    int64_t adamw = train_to_model(srv, 3, ADAMW_LINEAR);
    assert_true(same_export(srv, plain, plain2));
    assert_true(same_export(srv, lion, lion2));
    assert_false(same_export(srv, plain, lion));
    assert_false(same_export(srv, plain, adamw));
    assert_false(same_export(srv, lion, adamw));
    /* the defaults spelled out are the defaults */
    int64_t spelled = train_to_model(srv, 3,
                                     ",\"optimizer\":\"adam\",\"schedule\":\"constant\","
                                     "\"weight_decay\":0,\"warmup\":0,\"decay_fraction\":0.2,"
                                     "\"final_lr\":0,\"lr\":0.0025,\"batch_size\":32");
    assert_true(same_export(srv, plain, spelled));
}

/* ---- restarts ----------------------------------------------------------------------------- */

#define RESTART_EPOCHS 12

static char *get_text(struct itest_server *s, const char *path)
{
    struct it_resp r;
    it_get(s, path, &r);
    IT_STATUS(&r, 200);
    char *text = r.body;
    r.body = NULL;
    it_resp_free(&r);
    return text;
}

/* Starts a tiny job of RESTART_EPOCHS (extra: more request members) and returns once it has
 * finished 2 epochs (its first epoch's loss-curve entry in *first). Fails if it finished before
 * it could be stopped. */
static int64_t start_and_reach_epoch_2(struct itest_server *s, const char *extra, json_t **first)
{
    int64_t job = it_train_start(s, 24, RESTART_EPOCHS, extra);
    int two = 2;
    json_t *j = it_job_wait(s, job, running_from_epoch, &two, 60);
    if (strcmp(JS(j, "state"), "running"))
        fail_msg("job %lld was %s before the test could stop the server at epoch 2", (long long)job,
                 JS(j, "state"));
    *first = json_deep_copy(json_array_get(JA(j, "loss_curve"), 0));
    assert_non_null(*first);
    json_decref(j);
    return job;
}

/* After a restart: the job is interrupted and resumable; resume it and check it ends with all
 * its epochs, continued from its checkpoint. Returns the model it made. */
static int64_t resume_to_the_end(struct itest_server *s, int64_t job, const json_t *first)
{
    json_t *j = it_job(s, job);
    if (strcmp(JS(j, "state"), "interrupted")) {
        char *text = dumps(j);
        fail_msg("after the restart job %lld is %s, not interrupted: %.600s", (long long)job,
                 JS(j, "state"), text);
    }
    assert_true(json_is_true(json_object_get(j, "resumable")));
    json_int_t epoch = JI(j, "epoch");
    assert_true(epoch >= 1 && epoch < RESTART_EPOCHS);
    assert_true(json_is_null(json_object_get(j, "model")));
    json_decref(j);

    char path[64], want[64];
    snprintf(path, sizeof path, "/jobs/%lld/resume", (long long)job);
    snprintf(want, sizeof want, "/jobs/%lld", (long long)job);
    struct it_resp r;
    it_post(s, path, NULL, NULL, 0, &r);
    IT_STATUS(&r, 202);
    assert_non_null(r.location);
    assert_string_equal(r.location, want);
    json_t *o = IT_JSON(&r);
    assert_int_equal(JI(o, "id"), job);
    assert_true(!strcmp(JS(o, "state"), "queued") || !strcmp(JS(o, "state"), "running"));
    assert_false(json_is_true(json_object_get(o, "resumable")));
    json_decref(o);
    it_resp_free(&r);
    /* a second resume while it is queued or running is a conflict */
    it_post(s, path, NULL, NULL, 0, &r);
    IT_PROBLEM(&r, 409);
    it_resp_free(&r);

    j = it_job_wait(s, job, NULL, NULL, 60 + 2.0 * RESTART_EPOCHS);
    if (strcmp(JS(j, "state"), "succeeded")) {
        char *text = dumps(j);
        fail_msg("the resumed job ended %s: %.600s", JS(j, "state"), text);
    }
    assert_int_equal(JI(j, "epoch"), RESTART_EPOCHS);
    assert_int_equal(JI(j, "epochs"), RESTART_EPOCHS);
    assert_true(JD(j, "progress") == 1.0);
    json_t *curve = JA(j, "loss_curve"), *e;
    assert_int_equal(json_array_size(curve), RESTART_EPOCHS);
    size_t i;
    json_array_foreach(curve, i, e)
    {
        assert_int_equal(JI(e, "epoch"), (json_int_t)i + 1);
    }
    /* epoch 1 was not trained again: its entry (with its wall time) came from the checkpoint */
    char *a = dumps(first), *b = dumps(json_array_get(curve, 0));
    if (strcmp(a, b))
        fail_msg("epoch 1 after the resume differs from before the stop (retrained from scratch "
                 "instead of resumed?): %s vs %s",
                 a, b);
    free(a), free(b);
    int64_t model = JI(j, "model");
    json_decref(j);

    /* the model it made forecasts */
    char body[96];
    snprintf(body, sizeof body, "{\"model\":%lld,\"h\":3}", (long long)model);
    it_post_json(s, "/forecast", body, &r);
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    /* and it cannot be resumed again */
    it_post(s, path, NULL, NULL, 0, &r);
    IT_PROBLEM(&r, 409);
    it_resp_free(&r);
    return model;
}

/* ---- ensembles ------------------------------------------------------------------------------ */

#define ENS_EPOCHS 40 /* per member: 3 members, 120 epochs in all */
#define ENS_BODY                                                                                   \
    "{\"dataset\":1,\"architecture\":\"ensemble\",\"window\":24,\"horizon\":6,\"epochs\":40,"      \
    "\"members\":[{\"architecture\":\"rnn\",\"seeds\":[0]},{\"architecture\":\"gated-qkan-fwp\","  \
    "\"seeds\":\"0-1\"}],\"keep\":2," IT_TINY_CONFIG "}"

static int64_t ensemble_start(struct itest_server *s)
{
    struct it_resp r;
    it_post_json(s, "/models", ENS_BODY, &r);
    IT_STATUS(&r, 202);
    json_t *o = IT_JSON(&r);
    assert_int_equal(JI(o, "epochs"), 3 * ENS_EPOCHS);
    assert_int_equal(JI(o, "members"), 3);
    int64_t job = JI(o, "job");
    json_decref(o);
    it_resp_free(&r);
    return job;
}

/* A finished ensemble job: its epochs across members, its kept members, its binary model file. */
static char *ensemble_finished(struct itest_server *s, int64_t job, size_t *len)
{
    json_t *j = it_job_wait(s, job, NULL, NULL, 120 + 2.0 * ENS_EPOCHS);
    if (strcmp(JS(j, "state"), "succeeded")) {
        char *text = dumps(j);
        fail_msg("the ensemble job ended %s: %.600s", JS(j, "state"), text);
    }
    assert_int_equal(JI(j, "epoch"), 3 * ENS_EPOCHS);
    assert_int_equal(JI(j, "epochs"), 3 * ENS_EPOCHS);
    assert_int_equal(json_array_size(JA(j, "loss_curve")), 3 * ENS_EPOCHS);
    /* the stored request is the body as validated */
    assert_int_equal(json_array_size(JA(JO(j, "request"), "members")), 2);
    int64_t model = JI(j, "model");
    json_decref(j);
    char path[96];
    snprintf(path, sizeof path, "/models/%lld", (long long)model);
    json_t *m = IT_GET_JSON(s, path);
    assert_string_equal(JS(m, "architecture"), "ensemble");
    json_t *cfg = JO(m, "config");
    assert_string_equal(JS(cfg, "members"), "rnn.1+gated-qkan-fwp.2");
    assert_string_equal(JS(cfg, "seeds"), "0+0-1");
    assert_int_equal(JI(cfg, "keep"), 2);
    assert_non_null(JS(cfg, "kept"));
    json_decref(m);
    /* it forecasts */
    char body[96];
    snprintf(body, sizeof body, "{\"model\":%lld,\"dataset\":1,\"h\":6,\"level\":[80]}",
             (long long)model);
    struct it_resp r;
    it_post_json(s, "/forecast", body, &r);
    IT_STATUS(&r, 200);
    json_t *o = IT_JSON(&r);
    assert_int_equal(json_array_size(JA(o, "forecast")), 6);
    assert_string_equal(JS(o, "architecture"), "ensemble");
    json_decref(o);
    it_resp_free(&r);
    snprintf(path, sizeof path, "/models/%lld/export?format=binary", (long long)model);
    it_get(s, path, &r);
    IT_STATUS(&r, 200);
    char *bytes = malloc(r.len);
    assert_non_null(bytes);
    memcpy(bytes, r.body, r.len);
    *len = r.len;
    it_resp_free(&r);
    return bytes;
}

static char *ensemble_reference;
static size_t ensemble_reference_len;

/* POST /models with members and keep: the job trains every member and its model forecasts. */
static void test_ensemble_job(void **state)
{
    (void)state;
    int64_t job = ensemble_start(srv);
    ensemble_reference = ensemble_finished(srv, job, &ensemble_reference_len);
}

static int past_epoch(const json_t *job, void *arg)
{
    return !strcmp(JS(job, "state"), "running") && JI(job, "epoch") > *(const int *)arg;
}

/* SIGTERM while the second member trains: the resumed job keeps the first member (its curve
 * entries), restarts the second, and makes the same model file as the uninterrupted job. */
static void test_ensemble_sigterm_then_resume(void **state)
{
    (void)state;
    if (!ensemble_reference)
        skip();
    struct itest_server *s = its_start(NULL, NULL);
    int64_t job = ensemble_start(s);
    int in_second = ENS_EPOCHS + 1;
    json_t *j = it_job_wait(s, job, past_epoch, &in_second, 120);
    if (strcmp(JS(j, "state"), "running"))
        fail_msg("the ensemble job was %s before the second member", JS(j, "state"));
    char *first = dumps(json_array_get(JA(j, "loss_curve"), 0));
    json_decref(j);
    its_stop(s);
    its_restart(s);
    j = it_job(s, job);
    assert_string_equal(JS(j, "state"), "interrupted");
    json_decref(j);
    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld/resume", (long long)job);
    struct it_resp r;
    it_post(s, path, NULL, NULL, 0, &r);
    IT_STATUS(&r, 202);
    it_resp_free(&r);
    j = it_job(s, job);
    char *again = dumps(json_array_get(JA(j, "loss_curve"), 0));
    json_decref(j);
    assert_string_equal(first, again); /* member 1 is not trained again */
    free(first), free(again);
    size_t len = 0;
    char *bytes = ensemble_finished(s, job, &len);
    assert_int_equal(len, ensemble_reference_len);
    assert_memory_equal(bytes, ensemble_reference, len);
    free(bytes);
    free(ensemble_reference);
    ensemble_reference = NULL;
    its_stop(s);
    its_free(s);
}

static void test_sigkill_then_resume(void **state)
{
    (void)state;
    struct itest_server *s = its_start(NULL, NULL);
    int64_t done = it_train_tiny(s, 1);
    char *datasets = get_text(s, "/datasets");
    char *models = get_text(s, "/models");
    json_t *first = NULL;
    int64_t job = start_and_reach_epoch_2(s, "", &first);
    int64_t queued = it_train_start(s, 24, 1, ""); /* waits for the only worker */
    json_t *q = it_job(s, queued);
    assert_string_equal(JS(q, "state"), "queued");
    json_decref(q);
    its_kill(s); /* a crash: no chance to checkpoint or mark anything */
    its_restart(s);

    /* the job that had not started is still queued, and runs by itself */
    q = it_job_wait(s, queued, NULL, NULL, 60);
    assert_string_equal(JS(q, "state"), "succeeded");
    json_decref(q);

    /* what was stored survives, and the bundled data is not imported twice */
    char *datasets2 = get_text(s, "/datasets");
    assert_string_equal(datasets, datasets2);
    free(datasets), free(datasets2);
    json_t *before = json_loads(models, 0, NULL), *after = IT_GET_JSON(s, "/models");
    json_t *m;
    size_t i;
    json_array_foreach(JA(before, "models"), i, m)
    {
        /* every model from before is there, unchanged (the queued job added one since) */
        char *a = dumps(m), *b = dumps(json_array_get(JA(after, "models"), i));
        assert_string_equal(a, b);
        free(a), free(b);
    }
    assert_int_equal(json_array_size(JA(after, "models")),
                     json_array_size(JA(before, "models")) + 1);
    json_decref(before), json_decref(after);
    free(models);
    char path[64];
    snprintf(path, sizeof path, "/models/%lld", (long long)done);
    json_decref(IT_GET_JSON(s, path));

    /* resuming a job that is not interrupted is a conflict */
    resume_to_the_end(s, job, first);
    json_decref(first);
    its_stop(s);
    its_free(s);
}

static void test_sigterm_then_resume(void **state)
{
    (void)state;
    struct itest_server *s = its_start(NULL, NULL);
    json_t *first = NULL;
    int64_t job = start_and_reach_epoch_2(s, LION_WSD, &first);
    double t0 = it_now();
    its_stop(s); /* drains: the job is checkpointed and left interrupted; exit status 0 */
    double took = it_now() - t0;
    char *log = its_log(s);
    if (!strstr(log, "stopped cleanly"))
        fail_msg("no 'stopped cleanly' in the log after SIGTERM:\n%s", log);
    free(log);
    print_message("    SIGTERM during training: stopped in %.2f s\n", took);
    its_restart(s);
    int64_t resumed = resume_to_the_end(s, job, first);
    json_decref(first);
    /* the recipe's optimiser state and schedule resumed exactly: the uninterrupted run's model */
    assert_true(same_export(s, resumed, train_to_model(s, RESTART_EPOCHS, LION_WSD)));
    its_stop(s);
    its_free(s);
}

/* SIGINT (Ctrl-C) stops as cleanly as SIGTERM. */
static void test_sigint_idle(void **state)
{
    (void)state;
    struct itest_server *s = its_start(NULL, NULL);
    int status = its_signal_wait(s, SIGINT);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("after SIGINT the server ended with wait status 0x%x", status);
    its_restart(s);
    struct it_resp r;
    it_get(s, "/healthz", &r);
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    its_stop(s);
    its_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_forecasts_while_training),
        cmocka_unit_test(test_delete_while_forecasting),
        cmocka_unit_test(test_cancel_running),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_refit_backtest_job),
        cmocka_unit_test(test_recipe_jobs),
        cmocka_unit_test(test_ensemble_job),
        cmocka_unit_test(test_ensemble_sigterm_then_resume),
        cmocka_unit_test(test_sigkill_then_resume),
        cmocka_unit_test(test_sigterm_then_resume),
        cmocka_unit_test(test_sigint_idle),
    };
    return cmocka_run_group_tests_name("integration: jobs, concurrency and restarts", tests,
                                       group_setup, group_teardown);
}
