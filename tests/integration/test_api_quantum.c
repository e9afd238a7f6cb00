/*
 * Integration: forecasts through the quantum backends of a real server. Local backends answer
 * inline; the clouds answer 202 + a job, run here against the fake IonQ and IBM servers
 * (tests/fakes/, real libmicrohttpd on 127.0.0.1) that the server reaches through
 * FWPCAST_IONQ_URL / FWPCAST_IBM_URL / FWPCAST_IBM_IAM_URL with credentials from the
 * environment. Checks the plan before submission (and dry_run without credentials), the
 * provider job ids, states and cost on GET /jobs/{id}, that each cloud's forecast equals the
 * exact one within shot noise, cancellation reaching the provider, a provider failure ending the
 * job failed with the reason, and missing credentials as a 422 naming the variable.
 */
#include "itest.h"

#include "tests/fakes/fake_ibm.c"
#include "tests/fakes/fake_ionq.c"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IONQ_KEY "ionq-test-key-Qx7"
#define IBM_KEY  "ibm-test-key-Zr4"
#define IBM_CRN  "crn:v1:bluemix:public:quantum-computing:us-east:a/1234:5678::"

static struct itest_server *srv, *bare;
static struct fake_ionq *ionq;
static struct fake_ibm *ibm;

static int group_setup(void **state)
{
    (void)state;
    struct fake_ionq_options io = {.api_key = IONQ_KEY, .polls_per_state = 1, .seed = 5};
    struct fake_ibm_options bo = {.api_key = IBM_KEY, .crn = IBM_CRN, .seed = 9};
    ionq = fake_ionq_start(&io);
    ibm = fake_ibm_start(&bo);
    assert_non_null(ionq);
    assert_non_null(ibm);
    char e[5][256];
    snprintf(e[0], sizeof e[0], "FWPCAST_IONQ_URL=%s", fake_ionq_url(ionq));
    snprintf(e[1], sizeof e[1], "FWPCAST_IBM_URL=%s", fake_ibm_api_url(ibm));
    snprintf(e[2], sizeof e[2], "FWPCAST_IBM_IAM_URL=%s", fake_ibm_iam_url(ibm));
    snprintf(e[3], sizeof e[3], "IONQ_API_KEY=" IONQ_KEY);
    snprintf(e[4], sizeof e[4], "IBM_QUANTUM_CRN=" IBM_CRN);
    const char *env[] = {
        e[0], e[1], e[2], e[3], e[4], "IBM_CLOUD_API_KEY=" IBM_KEY, "FWPCAST_QUANTUM_POLL=0.05",
        NULL};
    srv = its_start(NULL, env);
    /* a server with no credentials at all (and none inherited) */
    unsetenv("IONQ_API_KEY"), unsetenv("IBM_CLOUD_API_KEY"), unsetenv("IBM_QUANTUM_CRN");
    bare = its_start(NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv), its_stop(bare);
    its_free(srv), its_free(bare);
    fake_ionq_stop(ionq);
    fake_ibm_stop(ibm);
    return 0;
}

/* The forecast values of a POST /forecast answer or a job's result. */
static void values_of(const json_t *doc, double *out, size_t n)
{
    json_t *rows = JA(doc, "forecast");
    assert_int_equal(json_array_size(rows), n);
    for (size_t j = 0; j < n; j++)
        out[j] = JD(json_array_get(rows, j), "value");
}

static json_t *post_forecast(struct itest_server *s, const char *body, long status)
{
    struct it_resp r;
    it_post_json(s, "/forecast", body, &r);
    IT_STATUS(&r, status);
    json_t *o = IT_JSON(&r);
    it_resp_free(&r);
    return o;
}

static int job_final(const json_t *job, void *arg)
{
    (void)arg;
    const char *state = JS(job, "state");
    return !strcmp(state, "succeeded") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
}

static int provider_running(const json_t *job, void *arg)
{
    (void)arg;
    const json_t *q = json_object_get(json_object_get(job, "result"), "quantum");
    return q && json_string_value(json_object_get(q, "provider_jobs")) &&
           *json_string_value(json_object_get(q, "provider_jobs"));
}

/* Largest |a - b| over n values. */
static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t j = 0; j < n; j++)
        m = fmax(m, fabs(a[j] - b[j]));
    return m;
}

#define H 24

/* A cloud forecast: 202 with the plan, then a job that ends with the forecast, its provider
 * jobs and cost; returns the job. */
static json_t *cloud_forecast(const char *body, const char *backend, const char *device)
{
    json_t *accepted = post_forecast(srv, body, 202);
    assert_string_equal(JS(accepted, "backend"), backend);
    assert_string_equal(JS(accepted, "device"), device);
    assert_string_equal(JS(accepted, "state"), "queued");
    assert_int_equal(JI(accepted, "circuits"), 200); /* 20 x 10 fast-programmer edges */
    assert_int_equal(JI(accepted, "shots_total"), 200 * JI(accepted, "shots"));
    assert_true(JI(accepted, "jobs") >= 1);
    int64_t id = JI(accepted, "job");
    json_decref(accepted);
    json_t *job = it_job_wait(srv, id, job_final, NULL, 60);
    assert_string_equal(JS(job, "kind"), "quantum");
    if (strcmp(JS(job, "state"), "succeeded"))
        fail_msg("job %lld: %s: %s", (long long)id, JS(job, "state"),
                 json_string_value(json_object_get(job, "error")));
    json_t *result = JO(job, "result"), *q = JO(result, "quantum");
    assert_string_equal(JS(q, "backend"), backend);
    assert_string_equal(JS(q, "provider_state"), "done");
    assert_true(strlen(JS(q, "provider_jobs")) > 0);
    assert_int_equal(JI(q, "circuits"), 200);
    assert_int_equal(JI(result, "circuits"), 200);
    assert_string_equal(JS(result, "backend"), backend);
    assert_string_equal(JS(result, "device"), device);
    return job;
}

static void test_ionq_forecast(void **state)
{
    (void)state;
    double exact[H], cloud[H];
    json_t *o = post_forecast(srv, "{\"h\":24}", 200);
    values_of(o, exact, H);
    json_decref(o);
    /* the ideal simulator returns exact probabilities: the exact forecast, to rounding */
    json_t *job =
        cloud_forecast("{\"h\":24,\"backend\":\"ionq\",\"shots\":1000}", "ionq", "simulator");
    values_of(JO(job, "result"), cloud, H);
    assert_true(max_diff(exact, cloud, H) < 1e-6);
    json_decref(job);
    /* the provider work is on record in the quantum_jobs table */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(srv->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM quantum_jobs WHERE provider = 'ionq' "
                                        "AND state = 'done' AND circuits = 200 AND remote_id <> ''",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_true(sqlite3_column_int(stmt, 0) >= 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    /* the fake saw the circuits as one multi-circuit job with debiasing off */
    char *body = fake_ionq_last_job_body(ionq);
    assert_non_null(strstr(body, "ionq.multi-circuit.v1"));
    assert_non_null(strstr(body, "\"debiasing\":false"));
    free(body);
}

static void test_ibm_forecast(void **state)
{
    (void)state;
    double exact[H], cloud[H], sampled[H];
    json_t *o = post_forecast(srv, "{\"h\":24}", 200);
    values_of(o, exact, H);
    json_decref(o);
    o = post_forecast(srv, "{\"h\":24,\"backend\":\"sampler\",\"shots\":4096,\"seed\":3}", 200);
    values_of(o, sampled, H);
    json_decref(o);
    json_t *job = cloud_forecast(
        "{\"h\":24,\"backend\":\"ibm\",\"device\":\"ibm_fez\",\"qubit\":3,\"shots\":4096}", "ibm",
        "ibm_fez");
    values_of(JO(job, "result"), cloud, H);
    json_decref(job);
    /* both are the exact forecast plus shot noise of the same size */
    double d_sampler = max_diff(exact, sampled, H), d_ibm = max_diff(exact, cloud, H);
    assert_true(d_sampler > 0 && d_ibm > 0);
    assert_true(d_ibm < 4 * d_sampler + 0.5);
    char *body = fake_ibm_last_job_body(ibm);
    assert_non_null(strstr(body, "sx"));
    assert_non_null(strstr(body, "$3"));
    free(body);
}

static void test_plan_and_bad_requests(void **state)
{
    (void)state;
    /* dry_run needs no credentials and submits nothing */
    struct fake_ionq_stats before, after;
    fake_ionq_stats(ionq, &before);
    json_t *o = post_forecast(bare, "{\"backend\":\"ionq\",\"dry_run\":true,\"shots\":2048}", 200);
    assert_true(json_is_true(json_object_get(o, "dry_run")));
    assert_int_equal(JI(o, "circuits"), 200);
    assert_int_equal(JI(o, "shots_total"), 200 * 2048);
    assert_int_equal(JI(o, "jobs"), 1);
    json_decref(o);
    o = post_forecast(bare, "{\"backend\":\"ibm\",\"device\":\"ibm_fez\",\"dry_run\":true}", 200);
    assert_string_equal(JS(o, "device"), "ibm_fez");
    json_decref(o);
    fake_ionq_stats(ionq, &after);
    assert_int_equal(after.requests, before.requests);

    /* without credentials: 422 naming the variable, no job */
    struct it_resp r;
    it_post_json(bare, "/forecast", "{\"backend\":\"ionq\"}", &r);
    IT_PROBLEM(&r, 422);
    assert_non_null(strstr(r.body, "IONQ_API_KEY"));
    it_resp_free(&r);
    it_post_json(bare, "/forecast", "{\"backend\":\"ibm\",\"device\":\"ibm_fez\"}", &r);
    IT_PROBLEM(&r, 422);
    assert_non_null(strstr(r.body, "IBM_CLOUD_API_KEY"));
    it_resp_free(&r);
    const char *bad[] = {
        "{\"backend\":\"ibm\"}", /* no device */
        "{\"backend\":\"ibm\",\"device\":\"ibm_fez\",\"qubit\":-1}",
        "{\"backend\":\"ibm\",\"device\":\"ibm_fez\",\"qubit\":1000}",
        "{\"backend\":\"ibm\",\"device\":\"ibm fez\"}", /* not a name */
        "{\"backend\":\"ibm\",\"device\":\"\"}",
        "{\"backend\":\"ionq\",\"device\":7}",
        "{\"backend\":\"ionq\",\"shots\":0}",
        "{\"backend\":\"ionq\",\"shots\":1.5}",
        "{\"backend\":\"sampler\",\"device\":\"simulator\"}", /* devices are for clouds */
        "{\"backend\":\"exact\",\"qubit\":2}",
        "{\"backend\":\"ionq\",\"noise\":\"a\\\"b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_post_json(srv, "/forecast", bad[i], &r);
        if (r.status != 422)
            fail_msg("%s: %ld %s", bad[i], r.status, r.body);
        it_resp_free(&r);
    }
}

static void test_cancel_reaches_provider(void **state)
{
    (void)state;
    struct fake_ionq_stats before, after;
    fake_ionq_stats(ionq, &before);
    /* a slow provider: the job stays queued there for many polls */
    struct fake_ionq_fault slow = {
        .kind = FAKE_IONQ_SLOW, .count = 1000, .method = "GET", .path = "/jobs/", .delay_ms = 50};
    fake_ionq_inject(ionq, &slow);
    json_t *accepted = post_forecast(srv, "{\"h\":12,\"backend\":\"ionq\"}", 202);
    int64_t id = JI(accepted, "job");
    json_decref(accepted);
    json_t *job = it_job_wait(srv, id, provider_running, NULL, 30);
    char ids[256];
    snprintf(ids, sizeof ids, "%s", JS(JO(JO(job, "result"), "quantum"), "provider_jobs"));
    json_decref(job);
    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld", (long long)id);
    struct it_resp r;
    it_delete(srv, path, &r);
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    job = it_job_wait(srv, id, job_final, NULL, 30);
    assert_string_equal(JS(job, "state"), "cancelled");
    json_decref(job);
    /* the provider was told: its job is cancelled */
    for (int k = 0; k < 200; k++) {
        fake_ionq_stats(ionq, &after);
        if (after.cancels > before.cancels)
            break;
        it_sleep_ms(50);
    }
    assert_true(after.cancels > before.cancels);
    char *status = fake_ionq_job_status(ionq, ids);
    assert_non_null(status);
    assert_non_null(strstr(status, "cancel"));
    free(status);
}

static void test_provider_failure(void **state)
{
    (void)state;
    struct fake_ibm_fault fails = {.kind = FAKE_IBM_JOB_FAILS, .count = 1, .status = 1305};
    fake_ibm_inject(ibm, &fails);
    json_t *accepted = post_forecast(
        srv, "{\"h\":6,\"backend\":\"ibm\",\"device\":\"ibm_fez\",\"shots\":100}", 202);
    int64_t id = JI(accepted, "job");
    json_decref(accepted);
    json_t *job = it_job_wait(srv, id, job_final, NULL, 60);
    assert_string_equal(JS(job, "state"), "failed");
    assert_non_null(strstr(JS(job, "error"), "1305"));
    json_decref(job);
    /* the server still answers */
    json_t *o = post_forecast(srv, "{\"h\":6}", 200);
    json_decref(o);
}

/* After every run above: no key, token or CRN in the server's log or in any job it shows. */
static void test_no_secrets_anywhere(void **state)
{
    (void)state;
    char *log = its_log(srv);
    for (int64_t id = 1; id < 100; id++) {
        char path[64];
        snprintf(path, sizeof path, "/jobs/%lld", (long long)id);
        struct it_resp r;
        it_get(srv, path, &r);
        if (r.status == 404) {
            it_resp_free(&r);
            break;
        }
        IT_STATUS(&r, 200);
        const char *secrets[] = {IONQ_KEY, IBM_KEY, IBM_CRN, "Bearer", "apiKey"};
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
            assert_null(strstr(r.body, secrets[i]));
            assert_null(strstr(log, secrets[i]));
        }
        it_resp_free(&r);
    }
    assert_true(strlen(log) > 0);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_and_bad_requests),
        cmocka_unit_test(test_ionq_forecast),
        cmocka_unit_test(test_ibm_forecast),
        cmocka_unit_test(test_provider_failure),
        cmocka_unit_test(test_cancel_reaches_provider),
        cmocka_unit_test(test_no_secrets_anywhere),
    };
    return cmocka_run_group_tests_name("integration: quantum backends", tests, group_setup,
                                       group_teardown);
}
