/* Tests for quantum/ibm against the fake IBM IAM + Qiskit Runtime server (tests/fakes/fake_ibm.c,
 * a real libmicrohttpd server on 127.0.0.1): counts within shot noise of the exact P(0), ISA
 * circuits on the chosen qubit, PUB packing over jobs, the job-creation pacing, token expiry,
 * revocation and refresh, ISA rejection (1517), jobs that run too long, every fault of the
 * fake's table ending in a retry or a clean error (never a hang, never a job run twice), cancel,
 * and no key, token or CRN in any error message or in the fake's log. The sample counter on its
 * own: test_ibm_samples.c. */
#include "testutil.h"
#include "../fakes/fake_ibm.c"
#include "quantum/backend.h"
#include "quantum/circuit.h"
#include "quantum/http_client.h"
#include "quantum/ibm.h"
#include "quantum/ibm_samples.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "ibm-test-key-Wd4Kc81M"
#define CRN "crn:v1:bluemix:public:quantum-computing:us-east:a/acct42:inst-9f::"

static fw_error last_err;

static struct fake_ibm *start(struct fake_ibm_options o)
{
    o.api_key = KEY;
    o.crn = CRN;
    if (!o.seed)
        o.seed = 21;
    if (!o.creates_per_window) /* the pacing test sets it; elsewhere it must not bite */
        o.creates_per_window = 1000;
    struct fake_ibm *f = fake_ibm_start(&o);
    assert_non_null(f);
    return f;
}

static struct ibm_config config(const struct fake_ibm *f)
{
    struct ibm_config cfg = {0};
    cfg.iam_url = fake_ibm_iam_url(f);
    cfg.api_url = fake_ibm_api_url(f);
    cfg.api_key = KEY;
    cfg.crn = CRN;
    cfg.backend = "ibm_fez";
    cfg.qubit = 3;
    cfg.timeout_seconds = 1; /* the fake answers at once unless told to be slow */
    cfg.max_attempts = 4;
    cfg.retry_base_seconds = 0.01;
    cfg.pacing_window_seconds = 1;
    cfg.jobs_per_minute = 50;
    return cfg;
}

static struct qbackend *client(const struct ibm_config *cfg)
{
    struct qbackend *b = NULL;
    fw_error err = {0};
    assert_int_equal(ibm_backend_create(cfg, &b, &err), 0);
    return b;
}

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
    if (n > 2) {
        c[0].n = 0; /* the golden vector */
        circuit_add(&c[0], QGATE_RY, M_PI / 4);
        circuit_add(&c[0], QGATE_RZ, -1.2);
        circuit_add(&c[0], QGATE_RY, 0.31);
        c[1].n = 0;
        circuit_add(&c[1], QGATE_RY, 0.0);
        c[2].n = 0;
        circuit_add(&c[2], QGATE_RY, M_PI);
    }
    return c;
}

static int run(struct qbackend *b, const struct qcircuit *c, size_t n, int shots, double *p0,
               uint64_t *zeros, double timeout)
{
    fw_error_clear(&last_err);
    int rc = qbackend_run(b, c, n, shots, p0, zeros, 0.01, timeout, NULL, &last_err);
    assert_null(strstr(last_err.msg, KEY));
    assert_null(strstr(last_err.msg, "acct42"));
    assert_null(strstr(last_err.msg, "fake-token-"));
    return rc;
}

/* Within 5 standard errors of the exact P(0) (the fake is noiseless unless told otherwise). */
static void assert_shot_noise(const struct qcircuit *c, const double *p0, size_t n, int shots)
{
    for (size_t i = 0; i < n; i++) {
        double p = circuit_p0(&c[i]), sd = sqrt(p * (1 - p) / shots);
        if (!(fabs(p0[i] - p) <= 5 * sd + 1e-12))
            fail_msg("circuit %zu: %.6f vs exact %.6f (sd %.6f)", i, p0[i], p, sd);
    }
}

static void assert_log_clean(struct fake_ibm *f)
{
    char *log = fake_ibm_log(f);
    assert_non_null(log);
    assert_null(strstr(log, KEY));
    assert_null(strstr(log, "Wd4Kc81M"));
    assert_null(strstr(log, "acct42"));
    assert_null(strstr(log, "fake-token-"));
    free(log);
}

/* ---- results ------------------------------------------------------------------------------- */

static void test_shot_noise(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    struct qbackend *b = client(&cfg);
    size_t n = 40;
    int shots = 4096;
    struct qcircuit *c = circuits(n, 1);
    double p0[40];
    uint64_t zeros[40];
    struct qplan plan;
    qbackend_plan(b, n, shots, &plan);
    assert_int_equal(plan.jobs, 1);
    assert_int_equal(plan.shots_total, (uint64_t)n * shots);
    assert_int_equal(run(b, c, n, shots, p0, zeros, 10), 0);
    assert_shot_noise(c, p0, n, shots);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs((double)zeros[i] / shots - p0[i]) < 1e-12);
    assert_int_equal(zeros[1], (uint64_t)shots); /* RY(0) always reads 0 */
    assert_int_equal(zeros[2], 0);               /* RY(pi) never does */
    /* what was sent: Sampler V2, ISA circuits on $3, default_shots, no support_qiskit */
    char *body = fake_ibm_last_job_body(f);
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "program_id")), "sampler");
    assert_string_equal(json_string_value(json_object_get(doc, "backend")), "ibm_fez");
    const json_t *params = json_object_get(doc, "params");
    assert_int_equal(json_integer_value(json_object_get(params, "version")), 2);
    assert_null(json_object_get(params, "support_qiskit"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(params, "options"), "default_shots")),
        shots);
    const json_t *pubs = json_object_get(params, "pubs");
    assert_int_equal(json_array_size(pubs), n);
    const char *qasm0 = json_string_value(json_array_get(json_array_get(pubs, 0), 0));
    assert_non_null(strstr(qasm0, "rz(4.0748275699126735) $3"));
    assert_non_null(strstr(qasm0, "c[0] = measure $3;"));
    assert_null(strstr(body, "ry("));
    assert_null(strstr(body, "rx("));
    json_decref(doc);
    free(body);
    struct fake_ibm_stats st;
    fake_ibm_stats(f, &st);
    assert_int_equal(st.no_version, 0); /* IBM-API-Version on every call */
    assert_int_equal(st.tokens_issued, 1);
    assert_int_equal(st.unauthorized, 0);
    assert_int_equal(st.forbidden, 0);
    assert_log_clean(f);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

/* A noise model in the fake moves P(0) the way §4 says: checks the counts are the fake's. */
static void test_readout_noise_visible(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    o.readout_e0 = 0.2;
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    struct qbackend *b = client(&cfg);
    struct qcircuit *c = circuits(3, 2);
    double p0[3];
    assert_int_equal(run(b, c, 3, 4096, p0, NULL, 10), 0);
    double sd = sqrt(0.8 * 0.2 / 4096);
    assert_true(fabs(p0[1] - 0.8) < 5 * sd); /* |0> read as 1 with probability 0.2 */
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

/* PUBs packed within max_executions: 20 circuits x 1000 shots at 7000 per job = 7 + 7 + 6. */
static void test_packing(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    o.max_executions = 7000;
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    cfg.max_executions_per_job = 7000;
    struct qbackend *b = client(&cfg);
    size_t n = 20;
    struct qcircuit *c = circuits(n, 3);
    double p0[20];
    struct qplan plan;
    qbackend_plan(b, n, 1000, &plan);
    assert_int_equal(plan.jobs, 3);
    assert_int_equal(run(b, c, n, 1000, p0, NULL, 10), 0);
    assert_shot_noise(c, p0, n, 1000);
    struct fake_ibm_stats st;
    fake_ibm_stats(f, &st);
    assert_int_equal(st.jobs_created, 3);
    assert_int_equal(st.invalid, 0);
    /* the real limit, by default: floor(10^7 / shots) circuits per job */
    struct ibm_config big = config(f);
    struct qbackend *b2 = client(&big);
    qbackend_plan(b2, 20000, 1024, &plan);
    assert_int_equal(plan.jobs, 3); /* 9765 per job */
    qbackend_plan(b2, 9765, 1024, &plan);
    assert_int_equal(plan.jobs, 1);
    qbackend_destroy(b2);
    /* a job above the fake's limit is a clean FW_EINVAL */
    struct ibm_config over = config(f);
    over.max_executions_per_job = 8000;
    struct qbackend *b3 = client(&over);
    assert_int_equal(run(b3, c, 8, 1000, p0, NULL, 10), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "executions"));
    qbackend_destroy(b3);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

/* 5 jobs at 2 per 0.5 s window: never more than 2 in a window (the fake would say 429), and the
 * batch waits for the window rather than failing. */
static void test_pacing(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    o.creates_per_window = 2;
    o.window_seconds = 0.5;
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    cfg.jobs_per_minute = 2;
    cfg.pacing_window_seconds = 0.5;
    cfg.max_executions_per_job = 200; /* 2 circuits of 100 shots per job */
    struct qbackend *b = client(&cfg);
    size_t n = 10;
    struct qcircuit *c = circuits(n, 4);
    double p0[10];
    double t0 = hc_now();
    struct qjob *job = NULL;
    fw_error err = {0};
    assert_int_equal(b->ops->submit(b, c, n, 100, &job, &err), 0);
    double submit_took = hc_now() - t0;
    assert_true(submit_took < 0.5); /* submit does not sleep for the pacing */
    char ids[1024];
    b->ops->job_ids(job, ids, sizeof ids);
    assert_int_equal((int)strlen(ids), 2 * 20 + 1); /* two created so far */
    qjob_free(b, job);
    /* the whole cycle, on a fresh window, polled every 0.1 s (qbackend_run's doubling interval
     * would stretch the test) */
    hc_sleep(0.55);
    t0 = hc_now();
    assert_int_equal(b->ops->submit(b, c, n, 100, &job, &err), 0);
    enum qjob_state s = QJOB_QUEUED;
    while (s != QJOB_DONE && hc_now() - t0 < 8) {
        hc_sleep(0.1);
        assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    }
    assert_int_equal(s, QJOB_DONE);
    double took = hc_now() - t0;
    assert_true(took >= 0.95); /* 2 + 2 + 1 over three windows */
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), 0);
    qjob_free(b, job);
    assert_shot_noise(c, p0, n, 100);
    struct fake_ibm_stats st;
    fake_ibm_stats(f, &st);
    assert_int_equal(st.rate_limited, 0);
    assert_true(st.max_creates_in_window <= 2);
    assert_int_equal(st.jobs_created, 2 + 5);
    /* the uncreated rest of a cancelled batch is never created */
    assert_int_equal(b->ops->submit(b, c, n, 100, &job, &err), 0);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    hc_sleep(0.55);
    assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    assert_int_equal(s, QJOB_CANCELLED);
    qjob_free(b, job);
    fake_ibm_stats(f, &st);
    assert_true(st.jobs_created <= 2 + 5 + 2);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

/* ---- tokens -------------------------------------------------------------------------------- */

static void test_token_refresh(void **state)
{
    (void)state;
    struct qcircuit *c = circuits(4, 5);
    double p0[4];
    /* expiry: tokens of 302 s with the default 5-minute margin are stale after 1 to 2 s (whole
     * seconds) */
    struct fake_ibm_options o = {0};
    o.token_seconds = 302;
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    struct qbackend *b = client(&cfg);
    assert_int_equal(run(b, c, 4, 256, p0, NULL, 10), 0);
    struct fake_ibm_stats st;
    fake_ibm_stats(f, &st);
    assert_int_equal(st.tokens_issued, 1);
    hc_sleep(2.1);
    assert_int_equal(run(b, c, 4, 256, p0, NULL, 10), 0);
    fake_ibm_stats(f, &st);
    assert_int_equal(st.tokens_issued, 2);
    assert_int_equal(st.unauthorized, 0); /* refreshed before it expired, not after a 401 */
    qbackend_destroy(b);
    fake_ibm_stop(f);

    /* tokens good for 3 requests: a 401, a new token, the request again */
    o.token_seconds = 0;
    o.token_max_uses = 3;
    f = start(o);
    cfg = config(f);
    b = client(&cfg);
    assert_int_equal(run(b, c, 4, 256, p0, NULL, 10), 0);
    assert_shot_noise(c, p0, 4, 256);
    fake_ibm_stats(f, &st);
    assert_true(st.tokens_issued >= 2);
    assert_true(st.unauthorized >= 1);
    qbackend_destroy(b);
    fake_ibm_stop(f);

    /* revoked in the middle of a run */
    o.token_max_uses = 0;
    f = start(o);
    cfg = config(f);
    b = client(&cfg);
    struct qjob *job = NULL;
    fw_error err = {0};
    assert_int_equal(b->ops->submit(b, c, 4, 256, &job, &err), 0);
    struct fake_ibm_fault revoke = {FAKE_IBM_REVOKE_TOKENS, 1, NULL, NULL, 0, 0, 0};
    fake_ibm_inject(f, &revoke);
    enum qjob_state s = QJOB_QUEUED;
    for (int i = 0; i < 20 && s != QJOB_DONE; i++)
        assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), 0);
    qjob_free(b, job);
    fake_ibm_stats(f, &st);
    assert_int_equal(st.tokens_issued, 2);
    qbackend_destroy(b);
    assert_log_clean(f);
    fake_ibm_stop(f);
    free(c);
}

static void test_bad_credentials(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    struct fake_ibm *f = start(o);
    struct qcircuit *c = circuits(3, 6);
    double p0[3];
    struct ibm_config cfg = config(f);
    cfg.api_key = "not-the-key-Yy7";
    struct qbackend *b = client(&cfg);
    assert_int_equal(run(b, c, 3, 10, p0, NULL, 5), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "IBM_CLOUD_API_KEY"));
    assert_null(strstr(last_err.msg, "not-the-key-Yy7"));
    qbackend_destroy(b);
    cfg = config(f);
    cfg.crn = "crn:v1:bluemix:public:quantum-computing:us-east:a/other:x::";
    b = client(&cfg);
    assert_int_equal(run(b, c, 3, 10, p0, NULL, 5), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "IBM_QUANTUM_CRN"));
    assert_null(strstr(last_err.msg, "a/other"));
    qbackend_destroy(b);
    /* configuration errors name what to set */
    fw_error err = {0};
    cfg = config(f);
    cfg.crn = NULL;
    assert_int_equal(ibm_backend_create(&cfg, &b, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IBM_QUANTUM_CRN"));
    cfg = config(f);
    cfg.api_key = "";
    assert_int_equal(ibm_backend_create(&cfg, &b, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IBM_CLOUD_API_KEY"));
    cfg = config(f);
    cfg.backend = NULL;
    assert_int_equal(ibm_backend_create(&cfg, &b, &err), FW_EINVAL);
    cfg = config(f);
    cfg.qubit = -1;
    assert_int_equal(ibm_backend_create(&cfg, &b, &err), FW_ERANGE);
    /* a non-finite angle and a shot count out of range are refused before anything is sent */
    cfg = config(f);
    b = client(&cfg);
    struct fake_ibm_stats st;
    fake_ibm_stats(f, &st);
    c[2].gates[0].angle = INFINITY;
    assert_int_equal(run(b, c, 3, 10, p0, NULL, 5), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "circuit 2"));
    assert_int_equal(run(b, c, 2, 0, p0, NULL, 5), FW_ERANGE);
    assert_int_equal(run(b, c, 2, 10000001, p0, NULL, 5), FW_ERANGE);
    struct fake_ibm_stats after;
    fake_ibm_stats(f, &after);
    assert_int_equal(after.requests, st.requests);
    c[2].gates[0].angle = M_PI;
    qbackend_destroy(b);
    /* an unknown backend: the service's 404 */
    cfg = config(f);
    cfg.backend = "ibm_nowhere";
    b = client(&cfg);
    assert_int_equal(run(b, c, 3, 10, p0, NULL, 5), FW_ENOTFOUND);
    qbackend_destroy(b);
    assert_log_clean(f);
    free(c);
    fake_ibm_stop(f);
}

/* ---- job failures -------------------------------------------------------------------------- */

/* The fake rejects a non-ISA circuit (ry) with 1517 and accepts the sx/rz form of the same
 * circuit; the client maps 1517 to a clear FW_EINVAL. */
static void test_isa_rejection(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    struct fake_ibm *f = start(o);
    /* a raw client: token, then a job with ry */
    const char *form_h[] = {"Content-Type: application/x-www-form-urlencoded"};
    const char *form = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=" KEY;
    struct hc_request iam = {"POST", fake_ibm_iam_url(f), form_h, 1, form, strlen(form), 2};
    struct hc_response resp;
    assert_int_equal(hc_send(&iam, &resp, NULL), 0);
    assert_int_equal(resp.status, 200);
    json_t *tok = json_loads(resp.body, 0, NULL);
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             json_string_value(json_object_get(tok, "access_token")));
    assert_true(json_integer_value(json_object_get(tok, "expiration")) > 0);
    json_decref(tok);
    hc_response_free(&resp);
    const char *h[] = {auth, "Service-CRN: " CRN, "IBM-API-Version: 2026-04-15",
                       "Content-Type: application/json"};
    char url[256];
    snprintf(url, sizeof url, "%s/v1/jobs", fake_ibm_api_url(f));
    static const char *const bodies[] = {
        "{\"program_id\":\"sampler\",\"backend\":\"ibm_fez\",\"params\":{\"version\":2,\"pubs\":"
        "[[\"OPENQASM 3.0; include \\\"stdgates.inc\\\"; bit[1] c; ry(0.7) $0; c[0] = measure "
        "$0;\"]],\"options\":{\"default_shots\":100}}}",
        "{\"program_id\":\"sampler\",\"backend\":\"ibm_fez\",\"params\":{\"version\":2,\"pubs\":"
        "[[\"OPENQASM 3.0; include \\\"stdgates.inc\\\"; bit[1] c; sx $0; rz(3.8415926535897931) "
        "$0; sx $0; c[0] = measure $0;\"]],\"options\":{\"default_shots\":4000}}}",
    };
    char ids[2][32];
    for (int k = 0; k < 2; k++) {
        struct hc_request post = {"POST", url, h, 4, bodies[k], strlen(bodies[k]), 2};
        assert_int_equal(hc_send(&post, &resp, NULL), 0);
        assert_int_equal(resp.status, 200);
        json_t *doc = json_loads(resp.body, 0, NULL);
        snprintf(ids[k], sizeof ids[k], "%s", json_string_value(json_object_get(doc, "id")));
        json_decref(doc);
        hc_response_free(&resp);
    }
    char *s0 = fake_ibm_job_status(f, ids[0]);
    assert_string_equal(s0, "Failed");
    free(s0);
    snprintf(url, sizeof url, "%s/v1/jobs/%s", fake_ibm_api_url(f), ids[0]);
    struct hc_request get = {"GET", url, h, 3, NULL, 0, 2};
    assert_int_equal(hc_send(&get, &resp, NULL), 0);
    json_t *doc = json_loads(resp.body, 0, NULL);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "state"), "reason_code")), 1517);
    json_decref(doc);
    hc_response_free(&resp);
    /* the ISA twin (theta = 0.7) runs: P(0) = cos^2(0.35) */
    snprintf(url, sizeof url, "%s/v1/jobs/%s", fake_ibm_api_url(f), ids[1]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hc_send(&get, &resp, NULL), 0);
        hc_response_free(&resp);
    }
    snprintf(url, sizeof url, "%s/v1/jobs/%s/results", fake_ibm_api_url(f), ids[1]);
    assert_int_equal(hc_send(&get, &resp, NULL), 0);
    assert_int_equal(resp.status, 200);
    uint64_t z, t;
    assert_int_equal(ibm_count_samples(resp.body, resp.len, 1, &z, &t), 0);
    assert_int_equal(t, 4000);
    double p = cos(0.35) * cos(0.35);
    assert_true(fabs((double)z / t - p) < 5 * sqrt(p * (1 - p) / 4000));
    hc_response_free(&resp);

    /* the client, told by the service that its circuits are not ISA */
    struct fake_ibm_fault isa = {FAKE_IBM_JOB_FAILS, 1, NULL, NULL, 1517, 0, 0};
    fake_ibm_inject(f, &isa);
    struct ibm_config cfg = config(f);
    struct qbackend *b = client(&cfg);
    struct qcircuit *c = circuits(3, 7);
    double p0[3];
    assert_int_equal(run(b, c, 3, 100, p0, NULL, 10), FW_EINVAL);
    assert_non_null(strstr(last_err.msg, "1517"));
    assert_non_null(strstr(last_err.msg, "ISA"));
    assert_non_null(strstr(last_err.msg, "ibm_fez"));
    /* a job that ran too long */
    struct fake_ibm_fault ran = {FAKE_IBM_JOB_FAILS, 1, NULL, NULL, 1305, 0, 0};
    fake_ibm_inject(f, &ran);
    assert_int_equal(run(b, c, 3, 100, p0, NULL, 10), FW_EIO);
    assert_non_null(strstr(last_err.msg, "too long"));
    /* any other failure, in a batch of three jobs: the others are cancelled */
    struct fake_ibm_fault other = {FAKE_IBM_JOB_FAILS, 1, NULL, NULL, 1003, 0, 0};
    fake_ibm_inject(f, &other);
    struct ibm_config small = config(f);
    small.max_executions_per_job = 100;
    struct qbackend *b3 = client(&small);
    struct fake_ibm_stats before, after;
    fake_ibm_stats(f, &before);
    assert_int_equal(run(b3, c, 3, 100, p0, NULL, 10), FW_EIO);
    assert_non_null(strstr(last_err.msg, "1003"));
    fake_ibm_stats(f, &after);
    assert_true(after.cancels - before.cancels >= 1);
    qbackend_destroy(b3);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

/* ---- faults -------------------------------------------------------------------------------- */

struct fault_case {
    enum fake_ibm_fault_kind kind;
    const char *method, *path;
    int status, count, retry_after, expect; /* expect 0: the run succeeds */
};

static void test_faults_retried_or_clean(void **state)
{
    (void)state;
    static const struct fault_case cases[] = {
        /* every route, POST included, retries 500/502/503/504/520/524 */
        {FAKE_IBM_STATUS, "GET", "/jobs/", 500, 1, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 502, 1, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 503, 2, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 504, 1, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 520, 1, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 524, 1, -1, 0},
        {FAKE_IBM_STATUS, "GET", "/results", 503, 1, -1, 0},
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 500, 1, -1, 0},
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 503, 2, -1, 0},
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 429, 1, 0, 0},
        {FAKE_IBM_STATUS, "POST", "/identity/token", 503, 1, -1, 0},
        {FAKE_IBM_STATUS, "POST", "/identity/token", 500, 2, -1, 0},
        {FAKE_IBM_MALFORMED, "GET", "/jobs/", 0, 1, -1, 0},
        {FAKE_IBM_MALFORMED, "GET", "/results", 0, 1, -1, 0},
        {FAKE_IBM_MALFORMED, "POST", "/identity/token", 0, 1, -1, 0},
        {FAKE_IBM_DROP, "GET", "/jobs/", 0, 1, -1, 0},
        {FAKE_IBM_SLOW, "GET", "/jobs/", 0, 1, -1, 0},
        {FAKE_IBM_SLOW, "GET", "/results", 0, 1, -1, 0},
        /* a create whose answer is lost: found by its tag, never run twice */
        {FAKE_IBM_MALFORMED, "POST", "/api/v1/jobs", 0, 1, -1, 0},
        {FAKE_IBM_SLOW, "POST", "/api/v1/jobs", 0, 1, -1, 0},
        {FAKE_IBM_DROP, "POST", "/api/v1/jobs", 0, 1, -1, 0},
        /* final answers: clean errors */
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 409, 1, -1, FW_ECONFLICT},
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 400, 1, -1, FW_EINVAL},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 404, 1, -1, FW_ENOTFOUND},
        {FAKE_IBM_STATUS, "GET", "/jobs/", 503, 50, -1, FW_EIO},
        {FAKE_IBM_STATUS, "POST", "/identity/token", 401, 1, -1, FW_EINVAL},
        {FAKE_IBM_MALFORMED, "GET", "/results", 0, 50, -1, FW_ECORRUPT},
        {FAKE_IBM_STATUS, "POST", "/api/v1/jobs", 429, 1, 3600, FW_EIO},
    };
    size_t n = 5;
    struct qcircuit *c = circuits(n, 8);
    double p0[5];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct fault_case *fc = &cases[k];
        struct fake_ibm_options o = {0};
        struct fake_ibm *f = start(o);
        struct fake_ibm_fault fault = {fc->kind,   fc->count,       fc->method, fc->path,
                                       fc->status, fc->retry_after, 1300};
        fake_ibm_inject(f, &fault);
        struct ibm_config cfg = config(f);
        cfg.max_executions_per_job = 2 * 1000; /* 3 jobs: 2 + 2 + 1 */
        struct qbackend *b = client(&cfg);
        double t0 = hc_now();
        int rc = run(b, c, n, 1000, p0, NULL, 8);
        double took = hc_now() - t0;
        if (rc != fc->expect)
            fail_msg("fault case %zu: rc %d (%s), expected %d", k, rc, last_err.msg, fc->expect);
        if (rc == 0)
            assert_shot_noise(c, p0, n, 1000);
        else
            assert_true(last_err.msg[0] != '\0');
        assert_true(took < 6.0);
        struct fake_ibm_stats st;
        fake_ibm_stats(f, &st);
        if (rc == 0)
            assert_int_equal(st.jobs_created, 3); /* no job run twice */
        assert_true(st.jobs_created <= 3);
        qbackend_destroy(b);
        assert_log_clean(f);
        fake_ibm_stop(f);
    }
    free(c);
}

static void test_cancel(void **state)
{
    (void)state;
    struct fake_ibm_options o = {0};
    o.polls_per_state = 1000000;
    struct fake_ibm *f = start(o);
    struct ibm_config cfg = config(f);
    cfg.max_executions_per_job = 200;
    struct qbackend *b = client(&cfg);
    struct qcircuit *c = circuits(4, 9);
    double p0[4];
    struct qjob *job = NULL;
    fw_error err = {0};
    assert_int_equal(b->ops->submit(b, c, 4, 100, &job, &err), 0);
    enum qjob_state s;
    assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    assert_int_equal(s, QJOB_QUEUED);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    char ids[256];
    b->ops->job_ids(job, ids, sizeof ids);
    for (char *id = strtok(ids, ","); id; id = strtok(NULL, ",")) {
        char *st = fake_ibm_job_status(f, id);
        assert_string_equal(st, "Cancelled");
        free(st);
    }
    assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    assert_int_equal(s, QJOB_CANCELLED);
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), FW_ECONFLICT);
    /* cancelling again sends nothing and is no error */
    struct fake_ibm_stats before, after;
    fake_ibm_stats(f, &before);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    qjob_free(b, job);
    /* the deadline of qbackend_run cancels what it started */
    assert_int_equal(run(b, c, 4, 100, p0, NULL, 0.3), FW_EIO);
    fake_ibm_stats(f, &after);
    assert_int_equal(after.cancels - before.cancels, 2);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);

    /* cancel after completion: 409 from the service, no error, results still there */
    memset(&o, 0, sizeof o);
    f = start(o);
    cfg = config(f);
    b = client(&cfg);
    c = circuits(3, 10);
    assert_int_equal(b->ops->submit(b, c, 3, 100, &job, &err), 0);
    s = QJOB_QUEUED;
    for (int i = 0; i < 10 && s != QJOB_DONE; i++)
        assert_int_equal(b->ops->poll(b, job, &s, &err), 0);
    assert_int_equal(s, QJOB_DONE);
    assert_int_equal(b->ops->cancel(b, job, &err), 0);
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), 0);
    assert_shot_noise(c, p0, 3, 100);
    /* a job the service has forgotten: 404, a clean FW_ENOTFOUND */
    b->ops->job_ids(job, ids, sizeof ids);
    char url[256];
    snprintf(url, sizeof url, "%s/v1/jobs/%.40s", fake_ibm_api_url(f), ids);
    const char *form_h[] = {"Content-Type: application/x-www-form-urlencoded"};
    const char *form = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=" KEY;
    struct hc_request iam = {"POST", fake_ibm_iam_url(f), form_h, 1, form, strlen(form), 2};
    struct hc_response resp;
    assert_int_equal(hc_send(&iam, &resp, NULL), 0);
    json_t *tok = json_loads(resp.body, 0, NULL);
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             json_string_value(json_object_get(tok, "access_token")));
    json_decref(tok);
    hc_response_free(&resp);
    const char *h[] = {auth, "Service-CRN: " CRN, "IBM-API-Version: 2026-04-15"};
    struct hc_request del = {"DELETE", url, h, 3, NULL, 0, 2};
    assert_int_equal(hc_send(&del, &resp, NULL), 0);
    assert_int_equal(resp.status, 204);
    hc_response_free(&resp);
    assert_int_equal(b->ops->fetch(b, job, p0, NULL, &err), FW_ENOTFOUND);
    qjob_free(b, job);
    free(c);
    qbackend_destroy(b);
    fake_ibm_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shot_noise),    cmocka_unit_test(test_readout_noise_visible),
        cmocka_unit_test(test_packing),       cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_token_refresh), cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_isa_rejection), cmocka_unit_test(test_faults_retried_or_clean),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
