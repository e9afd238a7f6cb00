/* Tests for quantum/cloud_job, the batch of provider jobs the cloud backends share, with a
 * scripted provider (no HTTP): the split into sub-jobs, ids for display, the poll round (the
 * batch's state, a failure reported at once or after the round, an error that is not a failure,
 * the rest of the batch cancelled), cancel (jobs never created, the first error kept, all tried,
 * a URL that cannot be made) and the small checks. */
#include "testutil.h"
#include "base/error.h"
#include "quantum/cloud_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUBS 8

/* A provider that answers from a script: the state each sub-job's next poll reports (-1: an
 * error that is not a failure), and whether its cancel fails. */
struct script {
    struct cj_cloud cloud;
    int next_state[MAX_SUBS];
    int cancel_fails[MAX_SUBS];
    int polled[MAX_SUBS], cancelled[MAX_SUBS];
    int no_url; /* cancel_url runs out of memory */
};

static size_t index_of(const struct cj_sub *sub)
{
    return sub->first; /* one circuit per sub-job in these tests */
}

static int poll_one(struct cj_cloud *c, struct cj_sub *sub, fw_error *err)
{
    struct script *s = (struct script *)c;
    size_t k = index_of(sub);
    s->polled[k]++;
    if (s->next_state[k] < 0)
        return fw_error_set(err, FW_EIO, "job %s: no answer", sub->id);
    sub->state = (enum qjob_state)s->next_state[k];
    if (sub->state == QJOB_FAILED)
        return fw_error_set(err, FW_EIO, "job %s failed", sub->id);
    return FW_OK;
}

static char *cancel_url(struct cj_cloud *c, const struct cj_sub *sub)
{
    struct script *s = (struct script *)c;
    char buf[128];
    snprintf(buf, sizeof buf, "http://x/%s/cancel", sub->id);
    return s->no_url ? NULL : strdup(buf);
}

static int cancel_send(struct cj_cloud *c, const char *url, struct hc_response *resp, fw_error *err)
{
    (void)c, (void)err;
    memset(resp, 0, sizeof *resp);
    resp->status = strstr(url, "/s1/") ? 500 : 204; /* sub-job s1's cancel is refused */
    return FW_OK;
}

static int cancel_read(struct cj_cloud *c, struct cj_sub *sub, const struct hc_response *resp,
                       const char *what, fw_error *err)
{
    struct script *s = (struct script *)c;
    size_t k = index_of(sub);
    s->cancelled[k]++;
    if (s->cancel_fails[k] || resp->status >= 300)
        return fw_error_set(err, FW_EIO, "%s: refused", what);
    sub->state = QJOB_CANCELLED;
    return FW_OK;
}

static const struct cj_provider at_once = {poll_one, 0, cancel_url, cancel_send, cancel_read};
static const struct cj_provider after_round = {poll_one, 1, cancel_url, cancel_send, cancel_read};

/* n created one-circuit sub-jobs "s0".."s<n-1>", all queued. */
static struct cj_job *created(size_t n)
{
    struct cj_job *job = NULL;
    assert_int_equal(cj_job_new(n, 10, 1, QJOB_QUEUED, &job), 0);
    for (size_t k = 0; k < n; k++)
        snprintf(job->subs[k].id, sizeof job->subs[k].id, "s%zu", k);
    return job;
}

static void setup_script(struct script *s, const struct cj_provider *p)
{
    memset(s, 0, sizeof *s);
    s->cloud.provider = p;
}

static void test_split_and_ids(void **state)
{
    (void)state;
    struct cj_job *job = NULL;
    assert_int_equal(cj_job_new(7, 100, 3, QJOB_CANCELLED, &job), 0);
    assert_int_equal(job->n, 7);
    assert_int_equal(job->n_subs, 3);
    assert_int_equal(job->subs[0].first, 0);
    assert_int_equal(job->subs[0].count, 3);
    assert_int_equal(job->subs[2].first, 6);
    assert_int_equal(job->subs[2].count, 1);
    assert_int_equal(job->subs[1].state, QJOB_CANCELLED);
    char ids[16];
    cj_job_ids((struct qjob *)job, ids, sizeof ids);
    assert_string_equal(ids, ""); /* nothing created yet */
    snprintf(job->subs[0].id, sizeof job->subs[0].id, "abcd");
    snprintf(job->subs[2].id, sizeof job->subs[2].id, "efghijkl");
    cj_job_ids((struct qjob *)job, ids, sizeof ids);
    assert_string_equal(ids, "abcd,efghijkl");
    cj_job_ids((struct qjob *)job, ids, 10);
    assert_string_equal(ids, "abcd"); /* no half ids */
    job->subs[1].body = strdup("{}");
    job->subs[2].doc = json_object();
    cj_job_free((struct qjob *)job); /* frees body and doc too */
    cj_job_free(NULL);
    assert_int_equal(cj_job_new(0, 1, 5, QJOB_QUEUED, &job), 0);
    assert_int_equal(job->n_subs, 0);
    cj_job_free((struct qjob *)job);
    struct qplan plan;
    cj_plan(1001, 50, 1000, &plan);
    assert_int_equal(plan.circuits, 1001);
    assert_int_equal(plan.jobs, 2);
    assert_int_equal(plan.shots_total, 50050);
}

static void test_poll_state(void **state)
{
    (void)state;
    struct script s;
    setup_script(&s, &at_once);
    struct cj_job *job = created(3);
    enum qjob_state st = QJOB_FAILED;
    s.next_state[0] = QJOB_DONE, s.next_state[1] = QJOB_RUNNING, s.next_state[2] = QJOB_QUEUED;
    assert_int_equal(cj_poll(&s.cloud, job, &st, NULL), 0);
    assert_int_equal(st, QJOB_RUNNING);
    s.next_state[1] = QJOB_DONE;
    assert_int_equal(cj_poll(&s.cloud, job, &st, NULL), 0);
    assert_int_equal(st, QJOB_QUEUED);
    assert_int_equal(s.polled[0], 1); /* a finished sub-job is not asked again */
    s.next_state[2] = QJOB_DONE;
    assert_int_equal(cj_poll(&s.cloud, job, &st, NULL), 0);
    assert_int_equal(st, QJOB_DONE);
    fw_error err;
    assert_int_equal(cj_sub_done(&job->subs[2], "Fake", &err), 0);
    cj_job_free((struct qjob *)job);
    /* one cancelled at the provider: the batch is cancelled, and so is the rest of it */
    setup_script(&s, &at_once);
    job = created(3);
    s.next_state[0] = QJOB_CANCELLED, s.next_state[1] = QJOB_RUNNING, s.next_state[2] = QJOB_DONE;
    assert_int_equal(cj_poll(&s.cloud, job, &st, NULL), 0);
    assert_int_equal(st, QJOB_CANCELLED);
    assert_int_equal(s.cancelled[1], 1);
    assert_int_equal(s.cancelled[2], 0);
    assert_int_equal(cj_sub_done(&job->subs[0], "Fake", &err), FW_ECONFLICT);
    assert_string_equal(err.msg, "Fake job s0 is cancelled, not done");
    cj_job_free((struct qjob *)job);
}

static void test_poll_failure(void **state)
{
    (void)state;
    struct script s;
    fw_error err;
    enum qjob_state st = QJOB_QUEUED;
    /* at once: the round stops at the failure, the rest is cancelled */
    setup_script(&s, &at_once);
    struct cj_job *job = created(4);
    s.next_state[0] = QJOB_RUNNING, s.next_state[1] = QJOB_FAILED, s.next_state[2] = QJOB_FAILED;
    s.next_state[3] = QJOB_DONE;
    assert_int_equal(cj_poll(&s.cloud, job, &st, &err), FW_EIO);
    assert_int_equal(st, QJOB_FAILED);
    assert_string_equal(err.msg, "job s1 failed");
    assert_int_equal(s.polled[2], 0);
    assert_int_equal(s.polled[3], 0);
    assert_int_equal(s.cancelled[0] + s.cancelled[2] + s.cancelled[3], 3);
    cj_job_free((struct qjob *)job);
    /* after the round: every sub-job is polled, the first failure is the one reported */
    setup_script(&s, &after_round);
    job = created(4);
    s.next_state[0] = QJOB_RUNNING, s.next_state[1] = QJOB_FAILED, s.next_state[2] = QJOB_FAILED;
    s.next_state[3] = QJOB_DONE;
    st = QJOB_QUEUED;
    assert_int_equal(cj_poll(&s.cloud, job, &st, &err), FW_EIO);
    assert_int_equal(st, QJOB_FAILED);
    assert_string_equal(err.msg, "job s1 failed");
    assert_int_equal(s.polled[2] + s.polled[3], 2);
    assert_int_equal(s.cancelled[0], 1);
    assert_int_equal(s.cancelled[3], 0); /* it had finished */
    cj_job_free((struct qjob *)job);
    /* an error that is not a failure: returned as it is, the state untouched, the batch cancelled
     * (after the round too: it ends the round) */
    setup_script(&s, &after_round);
    job = created(3);
    s.next_state[0] = QJOB_FAILED, s.next_state[1] = -1, s.next_state[2] = QJOB_RUNNING;
    st = QJOB_RUNNING;
    assert_int_equal(cj_poll(&s.cloud, job, &st, &err), FW_EIO);
    assert_int_equal(st, QJOB_RUNNING);
    assert_string_equal(err.msg, "job s1: no answer");
    assert_int_equal(s.polled[2], 0);
    assert_int_equal(s.cancelled[1] + s.cancelled[2], 2);
    cj_job_free((struct qjob *)job);
}

static void test_cancel(void **state)
{
    (void)state;
    struct script s;
    fw_error err;
    setup_script(&s, &at_once);
    struct cj_job *job = created(4);
    job->subs[0].body = strdup("{\"never\": \"sent\"}"); /* not created yet */
    job->subs[0].id[0] = '\0';
    job->subs[3].state = QJOB_DONE;
    assert_int_equal(cj_cancel(&s.cloud, job, &err), FW_EIO);
    assert_string_equal(err.msg, "cancelling job s1: refused"); /* the first error */
    assert_null(job->subs[0].body);
    assert_int_equal(job->subs[0].state, QJOB_CANCELLED);
    assert_int_equal(s.cancelled[1] + s.cancelled[2], 2); /* all were tried */
    assert_int_equal(s.cancelled[3], 0);
    assert_int_equal(job->subs[2].state, QJOB_CANCELLED);
    assert_int_equal(job->subs[1].state, QJOB_QUEUED);
    s.no_url = 1;
    assert_int_equal(cj_cancel(&s.cloud, job, NULL), FW_ENOMEM);
    cj_discard(&s.cloud, job);
}

static void test_checks(void **state)
{
    (void)state;
    assert_true(cj_valid_id("0a1B-c_d.e"));
    assert_false(cj_valid_id(""));
    assert_false(cj_valid_id(NULL));
    assert_false(cj_valid_id("a/b"));
    assert_false(cj_valid_id("a?b"));
    char long_id[CJ_ID_MAX + 1];
    memset(long_id, 'a', CJ_ID_MAX);
    long_id[CJ_ID_MAX] = '\0';
    assert_false(cj_valid_id(long_id));
    long_id[CJ_ID_MAX - 1] = '\0';
    assert_true(cj_valid_id(long_id));
    static const long invalid[] = {400, 401, 403, 413, 422};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_int_equal(cj_status_code(invalid[i]), FW_EINVAL);
    assert_int_equal(cj_status_code(404), FW_ENOTFOUND);
    assert_int_equal(cj_status_code(409), FW_ECONFLICT);
    assert_int_equal(cj_status_code(429), FW_EIO);
    assert_int_equal(cj_status_code(503), FW_EIO);
    assert_true(cj_printable("key-123_!~"));
    assert_false(cj_printable("two words"));
    assert_false(cj_printable("tab\there"));
    assert_true(cj_http_url("https://api.example"));
    assert_true(cj_http_url("http://127.0.0.1:1"));
    assert_false(cj_http_url("ftp://x"));
    char a[16], b[16];
    cj_make_tag(a, sizeof a);
    cj_make_tag(b, sizeof b);
    assert_int_equal(strlen(a), 8);
    assert_int_equal(strspn(a, "0123456789abcdef"), 8);
    assert_string_not_equal(a, b);
    cj_free_secret(strdup("secret"));
    cj_free_secret(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_ids), cmocka_unit_test(test_poll_state),
        cmocka_unit_test(test_poll_failure),  cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
