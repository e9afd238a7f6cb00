/* cloud_job — the batch of provider jobs the cloud backends share (see cloud_job.h). The job and
 * its sub-jobs are the caller's until cj_job_free; nothing here talks HTTP itself. */
#include "quantum/cloud_job.h"
#include "quantum/creds.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *cj_cloud_new(size_t size, const struct qbackend_ops *ops, const struct cj_provider *provider)
{
    hc_global_init();
    struct cj_cloud *c = calloc(1, size);
    if (c) {
        c->base.ops = ops;
        c->provider = provider;
    }
    return c;
}

int cj_job_new(size_t n, int shots, size_t per, enum qjob_state initial, struct cj_job **out)
{
    struct cj_job *job = calloc(1, sizeof *job);
    if (!job)
        return FW_ENOMEM;
    job->n = n;
    job->shots = shots;
    job->n_subs = (n + per - 1) / per;
    if (job->n_subs && !(job->subs = calloc(job->n_subs, sizeof *job->subs))) {
        free(job);
        return FW_ENOMEM;
    }
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        sub->first = k * per;
        sub->count = n - sub->first < per ? n - sub->first : per;
        sub->state = initial;
    }
    *out = job;
    return FW_OK;
}

void cj_job_free(struct qjob *j)
{
    struct cj_job *job = (struct cj_job *)j;
    if (!job)
        return;
    for (size_t k = 0; k < job->n_subs; k++) {
        json_decref(job->subs[k].doc);
        free(job->subs[k].body);
    }
    free(job->subs);
    free(job);
}

void cj_job_ids(const struct qjob *j, char *buf, size_t size)
{
    const struct cj_job *job = (const struct cj_job *)j;
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (size_t k = 0; k < job->n_subs && used + 1 < size; k++) {
        if (!job->subs[k].id[0])
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "", job->subs[k].id);
        if (w < 0 || (size_t)w >= size - used) {
            buf[used] = '\0'; /* no half ids */
            break;
        }
        used += (size_t)w;
    }
}

void cj_plan(size_t n, int shots, size_t per, struct qplan *p)
{
    p->circuits = n;
    p->jobs = (n + per - 1) / per;
    p->shots_total = (uint64_t)n * (uint64_t)(shots > 0 ? shots : 0);
}

int cj_sub_active(const struct cj_sub *sub)
{
    return !sub->body && sub->id[0] && (sub->state == QJOB_QUEUED || sub->state == QJOB_RUNNING);
}

/* The batch's state from its sub-jobs' (cj_poll); *stop_rest when some ended early and others
 * still wait or run. */
static enum qjob_state overall(const struct cj_job *job, int *stop_rest)
{
    int any_running = 0, any_queued = 0, any_cancelled = 0;
    for (size_t k = 0; k < job->n_subs; k++) {
        enum qjob_state s = job->subs[k].state;
        any_running |= s == QJOB_RUNNING;
        any_queued |= s == QJOB_QUEUED;
        any_cancelled |= s == QJOB_CANCELLED || s == QJOB_FAILED;
    }
    *stop_rest = any_cancelled && (any_running || any_queued);
    return any_cancelled ? QJOB_CANCELLED
           : any_running ? QJOB_RUNNING
           : any_queued  ? QJOB_QUEUED
                         : QJOB_DONE;
}

int cj_poll(struct cj_cloud *c, struct cj_job *job, enum qjob_state *state, fw_error *err)
{
    const struct cj_provider *p = c->provider;
    fw_error failure; /* the first failed sub-job's, when the round goes on (finish_round) */
    int failed_rc = FW_OK;
    fw_error_clear(&failure);
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        if (!cj_sub_active(sub))
            continue;
        fw_error local;
        fw_error_clear(&local);
        int rc = p->poll_one(c, sub, &local);
        if (rc == FW_OK)
            continue;
        int failed = sub->state == QJOB_FAILED;
        if (failed && p->finish_round) {
            if (failed_rc == FW_OK) {
                failed_rc = rc;
                failure = local;
            }
            continue;
        }
        if (err)
            *err = local;
        cj_cancel(c, job, NULL); /* the batch cannot complete: stop paying for it */
        if (failed)
            *state = QJOB_FAILED;
        return rc;
    }
    if (failed_rc) {
        cj_cancel(c, job, NULL); /* the rest of the batch is of no use now */
        *state = QJOB_FAILED;
        if (err)
            *err = failure;
        return failed_rc;
    }
    int stop_rest;
    *state = overall(job, &stop_rest);
    if (stop_rest)
        cj_cancel(c, job, NULL);
    return FW_OK;
}

int cj_poll_op(struct qbackend *b, struct qjob *job, enum qjob_state *state, fw_error *err)
{
    return cj_poll((struct cj_cloud *)b, (struct cj_job *)job, state, err);
}

/* One sub-job's cancel: send, read the answer. */
static int cancel_sub(struct cj_cloud *c, struct cj_sub *sub, const char *url, fw_error *err)
{
    char what[CJ_ID_MAX + 24];
    snprintf(what, sizeof what, "cancelling job %s", sub->id);
    struct hc_response resp;
    int rc = c->provider->cancel_send(c, url, &resp, err);
    if (rc == FW_OK)
        rc = c->provider->cancel_read(c, sub, &resp, what, err);
    hc_response_free(&resp);
    return rc;
}

int cj_cancel(struct cj_cloud *c, struct cj_job *job, fw_error *err)
{
    int first_rc = FW_OK;
    for (size_t k = 0; k < job->n_subs; k++) {
        struct cj_sub *sub = &job->subs[k];
        if (sub->body) { /* never created: nothing to stop */
            free(sub->body);
            sub->body = NULL;
            sub->state = QJOB_CANCELLED;
            continue;
        }
        if (!cj_sub_active(sub))
            continue;
        char *url = c->provider->cancel_url(c, sub);
        if (!url)
            return FW_ENOMEM;
        fw_error local;
        fw_error_clear(&local);
        int rc = cancel_sub(c, sub, url, &local);
        free(url);
        if (rc && first_rc == FW_OK) {
            first_rc = rc;
            if (err)
                *err = local;
        }
    }
    return first_rc;
}

int cj_cancel_op(struct qbackend *b, struct qjob *job, fw_error *err)
{
    return cj_cancel((struct cj_cloud *)b, (struct cj_job *)job, err);
}

void cj_discard(struct cj_cloud *c, struct cj_job *job)
{
    cj_cancel(c, job, NULL); /* what was already created */
    cj_job_free((struct qjob *)job);
}

int cj_sub_done(const struct cj_sub *sub, const char *provider, fw_error *err)
{
    if (sub->state == QJOB_DONE)
        return FW_OK;
    return fw_error_set(err, FW_ECONFLICT, "%s job %s is %s, not done", provider,
                        sub->id[0] ? sub->id : "(not created)", qjob_state_name(sub->state));
}

int cj_valid_id(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    return len > 0 && len < CJ_ID_MAX &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

void cj_make_tag(char *buf, size_t size)
{
    static atomic_uint counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned mix = (unsigned)ts.tv_nsec ^ ((unsigned)ts.tv_sec << 7) ^ ((unsigned)getpid() << 16) ^
                   (atomic_fetch_add(&counter, 1) * 2654435761u);
    snprintf(buf, size, "%08x", mix);
}

int cj_status_code(long s)
{
    return s == 400 || s == 401 || s == 403 || s == 413 || s == 422 ? FW_EINVAL
           : s == 404                                               ? FW_ENOTFOUND
           : s == 409                                               ? FW_ECONFLICT
                                                                    : FW_EIO;
}

int cj_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 127)
            return 0;
    return 1;
}

int cj_http_url(const char *u)
{
    return !strncmp(u, "https://", 8) || !strncmp(u, "http://", 7);
}

void cj_free_secret(char *s)
{
    if (s) {
        creds_wipe(s, strlen(s));
        free(s);
    }
}
