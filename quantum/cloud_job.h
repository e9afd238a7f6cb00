/*
 * cloud_job — cj_*, what the two cloud backends (ionq.c, ibm.c) share about a batch of circuits
 * run as provider jobs: the split of the batch into sub-jobs (each a run of consecutive
 * circuits), their provider ids and states, one poll round over them (a request per active
 * sub-job, the batch's overall state, cancelling the rest of the batch when a sub-job failed or
 * was cancelled), cancel, the ids for display, free, the cost plan; and the small checks both
 * make (provider ids, URLs, printable keys, the fw_status of an HTTP status, a job tag).
 *
 * What differs between the clouds comes in through struct cj_provider: how one sub-job is polled
 * and how one is cancelled; a cloud backend's struct starts with a struct cj_cloud that points
 * at its provider. The HTTP exchange, its retries (429/5xx, Retry-After) and time-outs
 * are http_client's; the loop over time (back-off between polls, the deadline, the caller's
 * cancellation) is qbackend_run's (backend.c).
 *
 * A struct cj_job is the struct qjob a cloud backend hands out (cast to struct qjob *): created
 * by cj_job_new in the backend's submit, owned by the caller until cj_job_free (the backend's
 * job_free). It owns its sub-jobs and what they hold (doc, body).
 */
#ifndef FW_CLOUD_JOB_H
#define FW_CLOUD_JOB_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"
#include "quantum/backend.h"
#include "quantum/http_client.h"

#define CJ_ID_MAX  96 /* a provider job id, with its NUL */
#define CJ_TAG_MAX 48

struct cj_sub {
    char id[CJ_ID_MAX];   /* the provider's job id; "" until the job exists */
    char tag[CJ_TAG_MAX]; /* IBM: the job's unique tag (looked up after a lost create) */
    size_t first, count;  /* the batch's circuits first .. first + count - 1 */
    enum qjob_state state;
    json_t *doc; /* IonQ: the job object once completed (results descriptors, child ids) */
    char *body;  /* IBM: the create request until the job exists */
};

struct cj_job {
    size_t n, n_subs; /* circuits, sub-jobs */
    int shots;
    struct cj_sub *subs;
    char tag[24]; /* IonQ: the batch's tag (in its jobs' names and metadata) */
};

struct cj_provider;

/* The head of a cloud backend's struct (ionq.c's, ibm.c's): the interface, and what differs about
 * the provider. A cloud backend's struct starts with one, so that a struct qbackend * of it is a
 * struct cj_cloud * too. */
struct cj_cloud {
    struct qbackend base;
    const struct cj_provider *provider;
};

/* What a cloud backend supplies to cj_poll and cj_cancel. */
struct cj_provider {
    /* Asks for the state of one sub-job that exists and is queued or running, and sets
     * sub->state. Returns 0; or an error: with sub->state = QJOB_FAILED when the provider job
     * failed (the message says why), else the state could not be had. */
    int (*poll_one)(struct cj_cloud *c, struct cj_sub *sub, fw_error *err);
    /* 1: after a failed sub-job, poll the rest of the round before reporting it (IonQ); 0: report
     * it at once (IBM). */
    int finish_round;
    /* The URL that cancels sub (malloc'd), NULL when out of memory. */
    char *(*cancel_url)(struct cj_cloud *c, const struct cj_sub *sub);
    /* Sends a cancel to url: 0 with the answer in *resp (any status; freed by the caller), or the
     * error of an exchange that got no answer. */
    int (*cancel_send)(struct cj_cloud *c, const char *url, struct hc_response *resp,
                       fw_error *err);
    /* Reads the answer to the cancel of sub (`what` names it for a message): sets sub->state,
     * returns 0 or the error the answer means. */
    int (*cancel_read)(struct cj_cloud *c, struct cj_sub *sub, const struct hc_response *resp,
                       const char *what, fw_error *err);
};

/* A zeroed cloud backend struct of `size` bytes (it starts with a struct cj_cloud) with its ops
 * and provider set, libcurl initialised; NULL when out of memory. Freed by the backend's destroy.
 */
void *cj_cloud_new(size_t size, const struct qbackend_ops *ops, const struct cj_provider *provider);

/* A job of n circuits, shots each, split into sub-jobs of at most `per` circuits, all in
 * `initial` state. Returns 0 or FW_ENOMEM. */
int cj_job_new(size_t n, int shots, size_t per, enum qjob_state initial, struct cj_job **out);
/* Frees a struct cj_job (a backend's job_free); NULL is fine. */
void cj_job_free(struct qjob *job);
/* The sub-jobs' provider ids, comma-separated, no half ids (a backend's job_ids). */
void cj_job_ids(const struct qjob *job, char *buf, size_t size);
/* What a batch of n circuits costs in sub-jobs of at most `per` circuits (per >= 1). */
void cj_plan(size_t n, int shots, size_t per, struct qplan *plan);

/* 1 when the sub-job exists at the provider and is queued or running. */
int cj_sub_active(const struct cj_sub *sub);

/* One poll round: every active sub-job is polled (provider->poll_one). A sub-job that failed
 * sets *state = QJOB_FAILED and returns its error; an error that is not a failure returns it with
 * *state untouched; both cancel what is left of the batch. Otherwise 0 with the batch's state:
 * cancelled if any sub-job failed or was cancelled (the others are then cancelled), else running
 * if any runs, else queued if any waits, else done. */
int cj_poll(struct cj_cloud *c, struct cj_job *job, enum qjob_state *state, fw_error *err);
/* cj_poll as the backend's poll. */
int cj_poll_op(struct qbackend *b, struct qjob *job, enum qjob_state *state, fw_error *err);

/* Cancels every active sub-job and drops the create requests of those never created. Returns
 * the first error (in err), having tried them all; FW_ENOMEM at once if a URL cannot be made. */
int cj_cancel(struct cj_cloud *c, struct cj_job *job, fw_error *err);
/* cj_cancel as the backend's cancel. */
int cj_cancel_op(struct qbackend *b, struct qjob *job, fw_error *err);

/* Cancels what a failed submit created and frees the job. */
void cj_discard(struct cj_cloud *c, struct cj_job *job);

/* FW_ECONFLICT naming the provider ("IonQ", "IBM") unless the sub-job is done. */
int cj_sub_done(const struct cj_sub *sub, const char *provider, fw_error *err);

/* 1 for a provider id fwpcast will put in a URL: 1 to CJ_ID_MAX - 1 of [A-Za-z0-9._-]. */
int cj_valid_id(const char *id);

/* Eight hex digits unlikely to repeat (the time, the process, a counter). */
void cj_make_tag(char *buf, size_t size);

/* The fw_status of a provider's non-2xx answer: 400/401/403/413/422 FW_EINVAL, 404 FW_ENOTFOUND,
 * 409 FW_ECONFLICT, anything else FW_EIO. */
int cj_status_code(long status);

/* 1 when s is only printable non-space ASCII. */
int cj_printable(const char *s);

/* 1 when u starts with https:// or http://. */
int cj_http_url(const char *u);

/* Wipes and frees a string that held a secret; NULL is fine. */
void cj_free_secret(char *s);

#endif
