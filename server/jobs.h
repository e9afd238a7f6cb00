/*
 * jobs — the training workers: a fixed pool of threads fed from the jobs table. A worker claims
 * the oldest queued job, trains it (fit.h) with the job's request, writes progress, the loss
 * curve and a checkpoint after every epoch, and stores the model it produces. DELETE /jobs/{id}
 * raises the job's cancel flag (checked between batches); at shutdown every running job is
 * cancelled at its next batch and left `interrupted` with its last checkpoint, so
 * POST /jobs/{id}/resume continues it after a restart. Owned by the app.
 */
#ifndef FW_JOBS_H
#define FW_JOBS_H

#include <stdint.h>

#include "base/error.h"

struct app;
struct jobs;

int jobs_start(struct app *app, int workers, int train_threads, struct jobs **out, fw_error *err);
/* Cancels running jobs (they become interrupted), joins the workers. Accepts NULL. */
void jobs_stop(struct jobs *jobs);
/* A job was queued: wake an idle worker. */
void jobs_wake(struct jobs *jobs);
/* Raises the cancel flag of a job running here (no effect otherwise). */
void jobs_cancel(struct jobs *jobs, int64_t id);
/* Workers alive. */
int jobs_alive(struct jobs *jobs);

#endif
