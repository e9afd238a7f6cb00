/* Tests for quantum/ionq against the fake IonQ server (tests/fakes/fake_ionq.c, a real
 * libmicrohttpd server on 127.0.0.1): results within shot noise of the exact P(0), batches split
 * over jobs, every result style, both status spellings, every fault of the fake's table ending in
 * a retry or a clean error (never a hang), job failures, cancel, time-outs, and no API key in any
 * error message or in the fake's log. */
#include "testutil.h"
#include "../fakes/fake_ionq.c"
#include "quantum/backend.h"
#include "quantum/http_client.h"
#include "quantum/ionq.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "ionq-test-key-7Hq2Xv9R"

static struct fake_ionq *fake;
static fw_error last_err;

static struct fake_ionq *start(struct fake_ionq_options o)
{
    o.api_key = KEY;
    if (!o.seed)
        o.seed = 11;
    struct fake_ionq *f = fake_ionq_start(&o);
    assert_non_null(f);
    return f;
}

static struct qbackend *client(const char *url, const char *backend, const char *noise, int per_job)
{
    struct ionq_config cfg = {0};
    cfg.base_url = url;
    cfg.api_key = KEY;
    cfg.backend = backend;
    cfg.noise_model = noise;
    cfg.noise_seed = 5;
    cfg.max_circuits_per_job = per_job;
    cfg.timeout_seconds = 1; /* the fake answers at once unless told to be slow */
    cfg.max_attempts = 4;
    cfg.retry_base_seconds = 0.01;
    struct qbackend *b = NULL;
    fw_error err = {0};
    assert_int_equal(ionq_backend_create(&cfg, &b, &err), 0);
    return b;
}

/* Random circuits of every gate kind, plus the golden vector and the edge cases. */
static struct qcircuit *circuits(size_t n, uint64_t seed)
{
    struct qcircuit *c = calloc(n, sizeof *c);
    assert_non_null(c);
    rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        int gates = 1 + (int)rng_below(&r, 9);
        for (int g = 0; g < gates; g++)
            circuit_add(&c[i], (enum qgate_kind)rng_below(&r, 3),
                        rng_uniform_range(&r, -M_PI, M_PI));
    }
    if (n > 3) {
        c[0].n = 0; /* the golden vector (quantum-apis.md §1) */
        circuit_add(&c[0], QGATE_RY, M_PI / 4);
        circuit_add(&c[0], QGATE_RZ, -1.2);
        circuit_add(&c[0], QGATE_RY, 0.31);
        c[1].n = 0;
        circuit_add(&c[1], QGATE_RY, 0.0); /* {"0": 1} */
        c[2].n = 0;
        circuit_add(&c[2], QGATE_RY, M_PI); /* {"1": 1}: the "0" key is missing */
        c[3].n = 0;
        circuit_add(&c[3], QGATE_RX, M_PI / 2); /* 0.5 / 0.5 */
    }
    return c;
}

static int run(struct qbackend *b, const struct qcircuit *c, size_t n, int shots, double *p0,
               uint64_t *zeros, double timeout)
{
    fw_error_clear(&last_err);
    int rc = qbackend_run(b, c, n, shots, p0, zeros, 0.01, timeout, NULL, &last_err);
    assert_null(strstr(last_err.msg, KEY));
    return rc;
}

static void assert_exact(const struct qcircuit *c, const double *p0, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(p0[i] - circuit_p0(&c[i])) < 1e-12);
}

static void assert_log_clean(struct fake_ionq *f)
{
    char *log = fake_ionq_log(f);
    assert_non_null(log);
    assert_null(strstr(log, KEY));
    assert_null(strstr(log, "7Hq2Xv9R"));
    free(log);
}

/* ---- results ------------------------------------------------------------------------------- */

static void test_shot_noise(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    fake = start(o);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", "forte-1", 0);
    size_t n = 60;
    int shots = 4096;
    struct qcircuit *c = circuits(n, 1);
    double p0[60];
    uint64_t zeros[60];
    struct qplan plan;
    qbackend_plan(b, n, shots, &plan);
    assert_int_equal(plan.jobs, 1);
    assert_int_equal(plan.circuits, n);
    assert_int_equal(plan.shots_total, (uint64_t)n * shots);
    assert_int_equal(run(b, c, n, shots, p0, zeros, 10), 0);
    int exact_hits = 0;
    for (size_t i = 0; i < n; i++) {
        double p = circuit_p0(&c[i]), sd = sqrt(p * (1 - p) / shots);
        /* 5 standard errors, plus the depolarising bias of <= 9 gates at r = 2.7e-4 */
        assert_true(fabs(p0[i] - p) <= 5 * sd + 0.0015);
        assert_int_equal(zeros[i], (uint64_t)llround(p0[i] * shots));
        exact_hits += fabs(p0[i] - p) < 1e-12;
    }
    assert_true(exact_hits < 10); /* they were sampled, not exact */
    /* what was sent: one multi-circuit job, qis in radians, debiasing off, the noise model */
    char *body = fake_ionq_last_job_body(fake);
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "ionq.multi-circuit.v1");
    assert_int_equal(json_integer_value(json_object_get(doc, "shots")), shots);
    assert_true(json_is_false(json_object_get(
        json_object_get(json_object_get(doc, "settings"), "error_mitigation"), "debiasing")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "noise"), "model")),
                        "forte-1");
    const json_t *list = json_object_get(json_object_get(doc, "input"), "circuits");
    assert_int_equal(json_array_size(list), n);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 7), "name")), "c7");
    const json_t *g0 = json_array_get(json_object_get(json_array_get(list, 0), "circuit"), 0);
    assert_string_equal(json_string_value(json_object_get(g0, "gate")), "ry");
    assert_int_equal(json_integer_value(json_object_get(g0, "target")), 0);
    assert_true(fabs(json_number_value(json_object_get(g0, "rotation")) - M_PI / 4) < 1e-15);
    json_decref(doc);
    free(body);
    assert_log_clean(fake);
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

static void test_ideal_simulator_exact(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    fake = start(o);
    struct qbackend *b = client(fake_ionq_url(fake), NULL, NULL, 0);
    size_t n = 12;
    struct qcircuit *c = circuits(n, 2);
    double p0[12];
    uint64_t zeros[12];
    assert_int_equal(run(b, c, n, 1024, p0, zeros, 10), 0);
    assert_exact(c, p0, n);
    assert_true(fabs(p0[0] - 0.79761884265478133) < 1e-12);
    assert_true(p0[1] == 1.0 && zeros[1] == 1024);
    assert_true(p0[2] == 0.0 && zeros[2] == 0);
    assert_true(fabs(p0[3] - 0.5) < 1e-12 && zeros[3] == 512);
    /* a lone circuit goes as ionq.circuit.v1 */
    assert_int_equal(run(b, c, 1, 100, p0, NULL, 10), 0);
    assert_true(fabs(p0[0] - 0.79761884265478133) < 1e-12);
    char *body = fake_ionq_last_job_body(fake);
    assert_non_null(strstr(body, "\"ionq.circuit.v1\""));
    assert_null(strstr(body, "\"noise\""));
    free(body);
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

/* 15 circuits at 7 per job: 7 + 7 + 1, children listed in reverse (mapped by name). */
static void test_batches_split(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    o.shuffle_children = 1;
    o.max_circuits = 7;
    fake = start(o);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 7);
    size_t n = 15;
    struct qcircuit *c = circuits(n, 3);
    double p0[15];
    struct qplan plan;
    qbackend_plan(b, n, 256, &plan);
    assert_int_equal(plan.jobs, 3);
    assert_int_equal(run(b, c, n, 256, p0, NULL, 10), 0);
    assert_exact(c, p0, n);
    struct fake_ionq_stats st;
    fake_ionq_stats(fake, &st);
    assert_int_equal(st.jobs_created, 3);
    assert_int_equal(st.invalid, 0);
    /* one job too many for the fake's limit: a clean 400 naming the key */
    struct qbackend *big = client(fake_ionq_url(fake), "simulator", NULL, 8);
    assert_int_equal(run(big, c, 9, 256, p0, NULL, 10), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "input.circuits"));
    qbackend_destroy(big);
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

static void test_result_styles(void **state)
{
    (void)state;
    static const enum fake_ionq_results styles[] = {
        FAKE_IONQ_RESULTS_URL_ONLY, FAKE_IONQ_RESULTS_ARTIFACTS, FAKE_IONQ_RESULTS_CHILDREN};
    size_t n = 9;
    struct qcircuit *c = circuits(n, 4);
    double p0[9];
    for (size_t s = 0; s < 3 * 2; s++) {
        struct fake_ionq_options o = {0};
        o.results = styles[s % 3];
        o.hide_child_ids = s >= 3 && styles[s % 3] != FAKE_IONQ_RESULTS_CHILDREN;
        o.running_spelling = (int)(s & 1);
        fake = start(o);
        struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 4); /* 4 + 4 + 1 */
        assert_int_equal(run(b, c, n, 128, p0, NULL, 10), 0);
        assert_exact(c, p0, n);
        qbackend_destroy(b);
        fake_ionq_stop(fake);
    }
    free(c);
}

/* ---- faults -------------------------------------------------------------------------------- */

struct fault_case {
    enum fake_ionq_fault_kind kind;
    const char *method, *path;
    int status, count, expect; /* 0: the run succeeds after retries; else its error */
};

static void test_faults_retried_or_clean(void **state)
{
    (void)state;
    static const struct fault_case cases[] = {
        /* reads: every transient fault is retried */
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 429, 2, 0},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 502, 1, 0},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 503, 1, 0},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 504, 1, 0},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 520, 1, 0},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 409, 1, 0}, /* Cloudflare's 409, reads only */
        {FAKE_IONQ_STATUS, "GET", "/results", 503, 2, 0},
        {FAKE_IONQ_MALFORMED, "GET", "/jobs/", 0, 1, 0},
        {FAKE_IONQ_MALFORMED, "GET", "/aggregated", 0, 1, 0},
        {FAKE_IONQ_DROP, "GET", "/jobs/", 0, 1, 0},
        {FAKE_IONQ_SLOW, "GET", "/jobs/", 0, 1, 0},
        /* creates: retried only when nothing can have been created */
        {FAKE_IONQ_STATUS, "POST", "/jobs", 429, 1, 0},
        {FAKE_IONQ_STATUS, "POST", "/jobs", 502, 1, 0},
        {FAKE_IONQ_STATUS, "POST", "/jobs", 500, 1, FW_EIO},
        {FAKE_IONQ_STATUS, "POST", "/jobs", 401, 1, FW_EINVAL},
        {FAKE_IONQ_STATUS, "POST", "/jobs", 403, 1, FW_EINVAL},
        {FAKE_IONQ_MALFORMED, "POST", "/jobs", 0, 1, FW_EIO},
        {FAKE_IONQ_DROP, "POST", "/jobs", 0, 1, FW_EIO},
        {FAKE_IONQ_SLOW, "POST", "/jobs", 0, 1, FW_EIO},
        /* a fault that outlasts the attempts: a clean error, bounded */
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 503, 50, FW_EIO},
        {FAKE_IONQ_STATUS, "GET", "/jobs/", 404, 1, FW_ENOTFOUND},
        /* cancel (from a failing job's siblings) is not needed here: see test_job_failure */
    };
    size_t n = 6;
    struct qcircuit *c = circuits(n, 5);
    double p0[6];
    struct fake_ionq_options o = {0};
    fake = start(o);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct fault_case *fc = &cases[k];
        struct fake_ionq_fault fault = {fc->kind,   fc->count, fc->method, fc->path,
                                        fc->status, 0,         2500};
        fake_ionq_inject(fake, &fault);
        struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 3);
        double t0 = hc_now();
        int rc = run(b, c, n, 64, p0, NULL, 8);
        double took = hc_now() - t0;
        if (rc != fc->expect)
            fail_msg("fault case %zu: rc %d (%s), expected %d", k, rc, last_err.msg, fc->expect);
        if (rc == 0)
            assert_exact(c, p0, n);
        else
            assert_true(last_err.msg[0] != '\0');
        assert_true(took < 6.0);
        qbackend_destroy(b);
        /* a fresh fake: leftover faults (the 50 x 503) must not leak into the next case */
        fake_ionq_stop(fake);
        fake = start(o);
    }
    /* the lost create answer names the job so that it can be found */
    struct fake_ionq_fault lost = {FAKE_IONQ_MALFORMED, 1, "POST", "/jobs", 0, 0, 0};
    fake_ionq_inject(fake, &lost);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 0);
    assert_int_equal(run(b, c, n, 64, p0, NULL, 5), FW_EIO);
    assert_non_null(strstr(last_err.msg, "fwpcast-"));
    assert_non_null(strstr(last_err.msg, "may"));
    qbackend_destroy(b);
    assert_log_clean(fake);
    fake_ionq_stop(fake);
    free(c);
}

/* Retry-After is honoured: a 429 asking for 1 s delays the retry by about that. */
static void test_retry_after(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    fake = start(o);
    struct fake_ionq_fault fault = {FAKE_IONQ_STATUS, 1, "POST", "/jobs", 429, 1, 0};
    fake_ionq_inject(fake, &fault);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 0);
    struct qcircuit *c = circuits(4, 6);
    double p0[4];
    double t0 = hc_now();
    assert_int_equal(run(b, c, 4, 64, p0, NULL, 8), 0);
    assert_true(hc_now() - t0 >= 0.95);
    assert_exact(c, p0, 4);
    /* a Retry-After longer than the client waits for: a clean error saying how long */
    struct fake_ionq_fault longer = {FAKE_IONQ_STATUS, 1, "POST", "/jobs", 429, 3600, 0};
    fake_ionq_inject(fake, &longer);
    t0 = hc_now();
    assert_int_equal(run(b, c, 4, 64, p0, NULL, 8), FW_EIO);
    assert_true(hc_now() - t0 < 2.0);
    assert_non_null(strstr(last_err.msg, "3600"));
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

static void test_job_failure(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    o.polls_per_state = 2;
    fake = start(o);
    struct fake_ionq_fault fault = {FAKE_IONQ_JOB_FAILS, 1, NULL, NULL, 0, 0, 0};
    fake_ionq_inject(fake, &fault);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 3);
    struct qcircuit *c = circuits(9, 7);
    double p0[9];
    struct qjob *job = NULL;
    fw_error err = {0};
    assert_int_equal(b->ops->submit(b, c, 9, 64, &job, &err), 0);
    char ids[512];
    b->ops->job_ids(job, ids, sizeof ids);
    assert_int_equal((int)strlen(ids), 3 * 36 + 2);
    enum qjob_state st = QJOB_QUEUED;
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0 && st != QJOB_DONE; i++)
        rc = b->ops->poll(b, job, &st, &err);
    assert_int_equal(rc, FW_EIO);
    assert_int_equal(st, QJOB_FAILED);
    assert_non_null(strstr(err.msg, "UnsupportedGate"));
    /* the first job failed; its siblings were cancelled, not left running */
    char *first = strndup(ids, 36), *second = strndup(ids + 37, 36);
    char *s1 = fake_ionq_job_status(fake, first), *s2 = fake_ionq_job_status(fake, second);
    assert_string_equal(s1, "failed");
    assert_string_equal(s2, "canceled");
    free(first), free(second), free(s1), free(s2);
    qjob_free(b, job);
    /* through qbackend_run: a clean error */
    fake_ionq_inject(fake, &fault);
    assert_int_equal(run(b, c, 9, 64, p0, NULL, 8), FW_EIO);
    assert_non_null(strstr(last_err.msg, "failed"));
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

static void test_cancel_and_timeout(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    o.polls_per_state = 1000000; /* never finishes by itself */
    fake = start(o);
    struct qbackend *b = client(fake_ionq_url(fake), "simulator", NULL, 2);
    struct qcircuit *c = circuits(5, 8);
    double p0[5];
    struct qjob *job = NULL;
    fw_error err = {0};
    assert_int_equal(b->ops->submit(b, c, 5, 64, &job, &err), 0);
    enum qjob_state st;
    assert_int_equal(b->ops->poll(b, job, &st, &err), 0);
    assert_int_equal(st, QJOB_QUEUED);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    assert_int_equal(b->ops->poll(b, job, &st, &err), 0);
    assert_int_equal(st, QJOB_CANCELLED);
    char ids[512];
    b->ops->job_ids(job, ids, sizeof ids);
    for (char *id = strtok(ids, ","); id; id = strtok(NULL, ",")) {
        char *s = fake_ionq_job_status(fake, id);
        assert_string_equal(s, "canceled");
        free(s);
    }
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), FW_ECONFLICT);
    qjob_free(b, job);
    /* qbackend_run's deadline: cancels the remote jobs and says so */
    double t0 = hc_now();
    assert_int_equal(run(b, c, 5, 64, p0, NULL, 0.3), FW_EIO);
    assert_true(hc_now() - t0 < 3.0);
    struct fake_ionq_stats stats;
    fake_ionq_stats(fake, &stats);
    assert_int_equal(stats.cancels, 6);
    /* the cancel flag */
    atomic_int flag = 1;
    assert_int_equal(qbackend_run(b, c, 5, 64, p0, NULL, 0.01, 10, &flag, &err), FW_ECANCELLED);
    /* cancelling a completed job is a no-op that leaves it completed */
    fake_ionq_fast_forward(fake, 1);
    assert_int_equal(b->ops->submit(b, c, 2, 64, &job, &err), 0);
    assert_int_equal(b->ops->poll(b, job, &st, &err), 0);
    assert_int_equal(st, QJOB_DONE);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), 0);
    assert_exact(c, p0, 2);
    qjob_free(b, job);
    free(c);
    qbackend_destroy(b);
    fake_ionq_stop(fake);
}

/* The fake itself: auth, validation, 404 and the unauthenticated backends list. */
static void test_fake_protocol(void **state)
{
    (void)state;
    struct fake_ionq_options o = {0};
    fake = start(o);
    char url[256];
    struct hc_response resp;
    const char *auth[] = {"Authorization: apiKey " KEY, "Content-Type: application/json"};
    const char *wrong[] = {"Authorization: apiKey nope", "Content-Type: application/json"};
    snprintf(url, sizeof url, "%s/backends", fake_ionq_url(fake));
    struct hc_request req = {"GET", url, NULL, 0, NULL, 0, 2};
    assert_int_equal(hc_send(&req, &resp, NULL), 0);
    assert_int_equal(resp.status, 200);
    hc_response_free(&resp);
    snprintf(url, sizeof url, "%s/jobs/00000000-0000-4000-8000-000000000000", fake_ionq_url(fake));
    struct hc_request get = {"GET", url, wrong, 1, NULL, 0, 2};
    assert_int_equal(hc_send(&get, &resp, NULL), 0);
    assert_int_equal(resp.status, 401);
    assert_non_null(strstr(resp.body, "\"statusCode\":401"));
    hc_response_free(&resp);
    get.headers = auth;
    assert_int_equal(hc_send(&get, &resp, NULL), 0);
    assert_int_equal(resp.status, 404);
    hc_response_free(&resp);
    /* an extra key on a gate, an unknown gate, a noise model on a QPU: 400 naming the key */
    static const struct {
        const char *body, *key;
    } bad[] = {
        {"{\"type\":\"ionq.circuit.v1\",\"backend\":\"simulator\",\"input\":{\"gateset\":\"qis\","
         "\"qubits\":1,\"circuit\":[{\"gate\":\"ry\",\"target\":0,\"rotation\":1,\"angle\":2}]}}",
         "input.circuit.0.angle"},
        {"{\"type\":\"ionq.circuit.v1\",\"backend\":\"simulator\",\"input\":{\"gateset\":\"qis\","
         "\"qubits\":1,\"circuit\":[{\"gate\":\"u3\",\"target\":0}]}}",
         "input.circuit.0.gate"},
        {"{\"type\":\"ionq.circuit.v1\",\"backend\":\"qpu.forte-1\",\"noise\":{\"model\":"
         "\"aria-1\"},\"input\":{\"gateset\":\"qis\",\"qubits\":1,\"circuit\":[{\"gate\":\"x\","
         "\"target\":0}]}}",
         "noise"},
        {"{\"type\":\"ionq.circuit.v1\",\"backend\":\"simulator\",\"shots\":0,\"input\":{}}",
         "shots"},
        {"{\"type\":\"ionq.circuit.v1\",\"backend\":\"simulator\",\"name\":\"a/b\",\"input\":{}}",
         "name"},
    };
    snprintf(url, sizeof url, "%s/jobs", fake_ionq_url(fake));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hc_request post = {"POST", url, auth, 2, bad[i].body, strlen(bad[i].body), 2};
        assert_int_equal(hc_send(&post, &resp, NULL), 0);
        assert_int_equal(resp.status, 400);
        json_t *doc = json_loads(resp.body, 0, NULL);
        const char *key = json_string_value(
            json_array_get(json_object_get(json_object_get(doc, "validation"), "keys"), 0));
        assert_non_null(key);
        assert_string_equal(key, bad[i].key);
        json_decref(doc);
        hc_response_free(&resp);
    }
    /* the client: a refused key is a clean FW_EINVAL naming the variable */
    struct ionq_config cfg = {0};
    cfg.base_url = fake_ionq_url(fake);
    cfg.api_key = "wrong-key-Pp0";
    cfg.timeout_seconds = 2;
    struct qbackend *b = NULL;
    fw_error err = {0};
    assert_int_equal(ionq_backend_create(&cfg, &b, &err), 0);
    struct qcircuit *c = circuits(4, 9);
    double p0[4];
    assert_int_equal(qbackend_run(b, c, 4, 10, p0, NULL, 0.01, 5, NULL, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    assert_null(strstr(err.msg, "wrong-key-Pp0"));
    qbackend_destroy(b);
    /* configuration errors */
    cfg.api_key = NULL;
    assert_int_equal(ionq_backend_create(&cfg, &b, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    cfg.api_key = KEY;
    cfg.backend = "qpu.forte-1";
    cfg.noise_model = "aria-1";
    assert_int_equal(ionq_backend_create(&cfg, &b, &err), FW_EINVAL);
    cfg.noise_model = NULL;
    assert_int_equal(ionq_backend_create(&cfg, &b, &err), 0);
    /* a non-finite angle is refused before anything is sent */
    c[1].gates[0].angle = NAN;
    assert_int_equal(qbackend_run(b, c, 4, 10, p0, NULL, 0.01, 5, NULL, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "circuit 1"));
    assert_int_equal(qbackend_run(b, c, 4, 0, p0, NULL, 0.01, 5, NULL, &err), FW_ERANGE);
    qbackend_destroy(b);
    free(c);
    assert_log_clean(fake);
    fake_ionq_stop(fake);
}

/* ---- the result reader -------------------------------------------------------------------- */

static void test_result_p0(void **state)
{
    (void)state;
    double p = -1;
    const char *v1 = "{\"0\": 0.25, \"3\": 0.5, \"2\": 0.25}"; /* qubit 0 is bit 0 */
    assert_int_equal(ionq_result_p0(v1, strlen(v1), IONQ_PROBABILITIES_V1, &p), 0);
    assert_true(fabs(p - 0.5) < 1e-12);
    const char *v2 = "{\"probabilities\": {\"registers\": {\"output_all\": "
                     "{\"01\": 0.75, \"10\": 0.25}}}}";
    assert_int_equal(ionq_result_p0(v2, strlen(v2), IONQ_PROBABILITIES_V2, &p), 0);
    assert_true(fabs(p - 0.25) < 1e-12);
    const char *h1 = "{\"0\": 30, \"1\": 10}";
    assert_int_equal(ionq_result_p0(h1, strlen(h1), IONQ_HISTOGRAM_V1, &p), 0);
    assert_true(fabs(p - 0.75) < 1e-12);
    const char *h2 = "{\"histogram\": {\"registers\": {\"output_all\": {\"1\": 4}}}}";
    assert_int_equal(ionq_result_p0(h2, strlen(h2), IONQ_HISTOGRAM_V2, &p), 0);
    assert_true(p == 0);
    /* refused, and p untouched */
    static const char *const bad[] = {
        "{}",         "[]",           "{\"0\": 2}",     "{\"0\": -0.5, \"1\": 1.5}",
        "{\"x\": 1}", "{\"-1\": 1}",  "{\"0\": \"1\"}", "{\"\": 1}",
        "{\"0\": 1",  "{\"0\": 1} x",
    };
    p = -1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ionq_result_p0(bad[i], strlen(bad[i]), IONQ_PROBABILITIES_V1, &p),
                         FW_ECORRUPT);
    assert_int_equal(ionq_result_p0(v1, strlen(v1), IONQ_PROBABILITIES_V2, &p), FW_ECORRUPT);
    assert_int_equal(ionq_result_p0(h1, strlen(h1), IONQ_PROBABILITIES_V1, &p), FW_ECORRUPT);
    assert_int_equal(ionq_result_p0(v1, strlen(v1), (enum ionq_result_format)4, &p), FW_EINVAL);
    assert_true(p == -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shot_noise),
        cmocka_unit_test(test_ideal_simulator_exact),
        cmocka_unit_test(test_batches_split),
        cmocka_unit_test(test_result_styles),
        cmocka_unit_test(test_faults_retried_or_clean),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_job_failure),
        cmocka_unit_test(test_cancel_and_timeout),
        cmocka_unit_test(test_fake_protocol),
        cmocka_unit_test(test_result_p0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
