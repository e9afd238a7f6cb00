/*
 * pool — a fixed set of worker threads that run numbered tasks. The calling thread takes part,
 * so a pool of 1 runs everything inline with no threads at all. Tasks are claimed in order from
 * a shared counter; callers keep results deterministic by making each task write only its own
 * outputs and reducing them in task order afterwards. One pool_run at a time per pool.
 */
#ifndef FW_POOL_H
#define FW_POOL_H

#include <stddef.h>

struct pool;

typedef void (*pool_task_fn)(void *ctx, size_t task, int thread);

/* Creates a pool of n_threads (>= 1) threads including the caller. */
int pool_create(int n_threads, struct pool **out);

/* Stops and joins the workers. Accepts NULL. */
void pool_destroy(struct pool *pool);

/* Number of threads, including the caller (1 for a NULL pool). */
int pool_threads(const struct pool *pool);

/* Runs fn(ctx, task, thread) for every task in [0, n_tasks); returns when all have finished.
 * `thread` is in [0, pool_threads) and names the thread running the task (for scratch space).
 * A NULL pool runs the tasks inline on the caller. */
void pool_run(struct pool *pool, size_t n_tasks, pool_task_fn fn, void *ctx);

#endif
