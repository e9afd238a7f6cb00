/* pool — worker threads for numbered tasks (see pool.h). */
#include "model/pool.h"
#include "base/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    unsigned long generation; /* bumped for every pool_run */
    int stopping;
    int busy; /* workers still running the current generation */
    /* the current job */
    pool_task_fn fn;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
};

struct worker_arg {
    struct pool *pool;
    int index;
};

static void run_tasks(struct pool *p, int thread)
{
    for (;;) {
        size_t task = atomic_fetch_add(&p->next, 1);
        if (task >= p->n_tasks)
            break;
        p->fn(p->ctx, task, thread);
    }
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct pool *p = wa->pool;
    int index = wa->index;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stopping && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stopping)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        run_tasks(p, index);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int pool_create(int n_threads, struct pool **out)
{
    if (n_threads < 1)
        return FW_EINVAL;
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return FW_ENOMEM;
    p->n_threads = n_threads;
    atomic_init(&p->next, 0);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            free(p);
            return FW_ENOMEM;
        }
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 1; i < n_threads; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        int rc = -1;
        if (wa) {
            wa->pool = p;
            wa->index = i;
            rc = pthread_create(&p->threads[i - 1], NULL, worker_main, wa);
        }
        if (rc != 0) {
            free(wa);
            p->n_threads = i; /* join the ones that started */
            pool_destroy(p);
            return FW_ENOMEM;
        }
    }
    *out = p;
    return FW_OK;
}

void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->n_threads; i++)
        pthread_join(p->threads[i - 1], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int pool_threads(const struct pool *p)
{
    return p ? p->n_threads : 1;
}

void pool_run(struct pool *p, size_t n_tasks, pool_task_fn fn, void *ctx)
{
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    run_tasks(p, 0);

    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
