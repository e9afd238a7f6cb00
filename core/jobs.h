/*
 * jobs — the training workers: a fixed pool of threads fed from the jobs table. A worker claims
 * the oldest queued job, trains it (fit.h) with the job's request, writes progress, the loss
 * curve and a checkpoint after every epoch, and stores the model it produces. DELETE /jobs/{id}
 * raises the job's cancel flag (checked between batches); at shutdown every running job is
 * cancelled at its next batch and left `interrupted` with its last checkpoint, so
 * POST /jobs/{id}/resume continues it after a restart. Owned by whoever starts it (the app);
 * it knows the service only through its jobs_env.
 */
#ifndef FW_JOBS_H
#define FW_JOBS_H

#include <stdint.h>

#include "base/error.h"

#include <sqlite3.h>

#include "core/model_cache.h"

struct jobs;

/* What the workers need from the service that runs them (borrowed; it outlives the workers). */
struct jobs_env {
    void *ctx;
    /* the calling thread's database connection (NULL if it cannot be opened), and the settling
     * of a transaction a failed ROLLBACK left open on it, before each job */
    sqlite3 *(*db)(void *ctx);
    void (*db_settle)(void *ctx);
    void (*count_epoch)(void *ctx); /* for /metrics; may be NULL */
    struct model_cache *models;     /* the models a cloud forecast runs */
    int workers, train_threads;
};

int jobs_start(const struct jobs_env *env, struct jobs **out, fw_error *err);
/* Cancels running jobs (they become interrupted), joins the workers. Accepts NULL. */
void jobs_stop(struct jobs *jobs);
/* A job was queued: wake an idle worker. */
void jobs_wake(struct jobs *jobs);
/* Raises the cancel flag of a job running here (no effect otherwise). */
void jobs_cancel(struct jobs *jobs, int64_t id);
/* Workers alive. */
int jobs_alive(struct jobs *jobs);

#endif
