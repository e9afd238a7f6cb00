/* Tests for model/pool: every task runs exactly once on a valid thread index, for several task
 * and thread counts and over repeated runs; a NULL pool runs inline; bad sizes are refused. */
#include "testutil.h"
#include "base/error.h"
#include "model/pool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tally {
    size_t n_tasks;
    int n_threads;
    atomic_int *runs;        /* per task */
    atomic_int bad_thread;   /* thread index out of range */
    atomic_int bad_task;     /* task index out of range */
    atomic_int used[8];      /* tasks run per thread */
    unsigned long long work; /* a little arithmetic so tasks overlap */
};

static void count_task(void *ctx, size_t task, int thread)
{
    struct tally *t = ctx;
    if (task >= t->n_tasks) {
        atomic_fetch_add(&t->bad_task, 1);
        return;
    }
    if (thread < 0 || thread >= t->n_threads) {
        atomic_fetch_add(&t->bad_thread, 1);
        return;
    }
    atomic_fetch_add(&t->runs[task], 1);
    atomic_fetch_add(&t->used[thread], 1);
    volatile unsigned long long x = task;
    for (int i = 0; i < 200; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    (void)x;
}

static void run_and_check(struct pool *pool, int n_threads, size_t n_tasks)
{
    struct tally t;
    memset(&t, 0, sizeof t);
    t.n_tasks = n_tasks;
    t.n_threads = n_threads;
    t.runs = calloc(n_tasks ? n_tasks : 1, sizeof *t.runs);
    assert_non_null(t.runs);
    for (size_t i = 0; i < n_tasks; i++)
        atomic_init(&t.runs[i], 0);
    pool_run(pool, n_tasks, count_task, &t);
    /* pool_run has returned: every task has finished */
    assert_int_equal(atomic_load(&t.bad_task), 0);
    assert_int_equal(atomic_load(&t.bad_thread), 0);
    int total = 0;
    for (size_t i = 0; i < n_tasks; i++) {
        int runs = atomic_load(&t.runs[i]);
        if (runs != 1)
            fail_msg("%d threads, %zu tasks: task %zu ran %d times", n_threads, n_tasks, i, runs);
        total += runs;
    }
    int per_thread = 0;
    for (int i = 0; i < 8; i++)
        per_thread += atomic_load(&t.used[i]);
    assert_int_equal(total, (int)n_tasks);
    assert_int_equal(per_thread, (int)n_tasks);
    free(t.runs);
}

static void test_every_task_once(void **state)
{
    (void)state;
    const int threads[3] = {1, 2, 4};
    const size_t tasks[] = {0, 1, 2, 3, 4, 5, 7, 64, 1000, 10007};
    for (int i = 0; i < 3; i++) {
        struct pool *pool = NULL;
        assert_int_equal(pool_create(threads[i], &pool), FW_OK);
        assert_non_null(pool);
        assert_int_equal(pool_threads(pool), threads[i]);
        for (size_t j = 0; j < sizeof tasks / sizeof *tasks; j++)
            run_and_check(pool, threads[i], tasks[j]);
        pool_destroy(pool);
    }
}

static void test_repeated_runs(void **state)
{
    (void)state;
    struct pool *pool = NULL;
    assert_int_equal(pool_create(4, &pool), FW_OK);
    /* many short runs back to back: a worker must neither miss a run nor run one twice */
    for (int rep = 0; rep < 300; rep++)
        run_and_check(pool, 4, (size_t)(rep % 13) + 1);
    pool_destroy(pool);

    /* creating and destroying without ever running */
    assert_int_equal(pool_create(3, &pool), FW_OK);
    pool_destroy(pool);
    pool_destroy(NULL);
}

static void slow_task(void *ctx, size_t task, int thread)
{
    (void)thread;
    atomic_int *done = ctx;
    struct timespec pause = {0, 2000000}; /* 2 ms */
    nanosleep(&pause, NULL);
    atomic_store(&done[task], 1);
}

static void test_run_waits_for_all(void **state)
{
    (void)state;
    /* tasks that take a while, so workers are still busy when the caller's share is done:
     * pool_run must not return before every task has finished */
    struct pool *pool = NULL;
    assert_int_equal(pool_create(4, &pool), FW_OK);
    for (int rep = 0; rep < 20; rep++) {
        atomic_int done[8];
        for (int i = 0; i < 8; i++)
            atomic_init(&done[i], 0);
        size_t n = (size_t)(rep % 2 ? 4 : 7);
        pool_run(pool, n, slow_task, done);
        for (size_t i = 0; i < n; i++)
            if (!atomic_load(&done[i]))
                fail_msg("run %d: task %zu unfinished when pool_run returned", rep, i);
    }
    pool_destroy(pool);
}

struct order {
    size_t seen[16];
    size_t count;
    int max_thread;
};

static void record_order(void *ctx, size_t task, int thread)
{
    struct order *o = ctx;
    if (o->count < 16)
        o->seen[o->count] = task;
    o->count++;
    if (thread > o->max_thread)
        o->max_thread = thread;
}

static void test_inline(void **state)
{
    (void)state;
    /* a NULL pool runs on the caller, in task order, as thread 0 */
    struct order o = {.max_thread = -1};
    assert_int_equal(pool_threads(NULL), 1);
    pool_run(NULL, 10, record_order, &o);
    assert_int_equal(o.count, 10);
    assert_int_equal(o.max_thread, 0);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(o.seen[i], i);
    run_and_check(NULL, 1, 500);

    /* so does a pool of one */
    struct pool *pool = NULL;
    assert_int_equal(pool_create(1, &pool), FW_OK);
    memset(&o, 0, sizeof o);
    o.max_thread = -1;
    pool_run(pool, 7, record_order, &o);
    assert_int_equal(o.count, 7);
    assert_int_equal(o.max_thread, 0);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(o.seen[i], i);
    pool_destroy(pool);

    /* no tasks: fn is never called */
    memset(&o, 0, sizeof o);
    pool_run(NULL, 0, record_order, &o);
    assert_int_equal(o.count, 0);
}

static void test_create_refused(void **state)
{
    (void)state;
    struct pool *pool = (struct pool *)&pool; /* must stay untouched */
    struct pool *const sentinel = pool;
    assert_int_equal(pool_create(0, &pool), FW_EINVAL);
    assert_ptr_equal(pool, sentinel);
    assert_int_equal(pool_create(-1, &pool), FW_EINVAL);
    assert_ptr_equal(pool, sentinel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once),   cmocka_unit_test(test_repeated_runs),
        cmocka_unit_test(test_run_waits_for_all), cmocka_unit_test(test_inline),
        cmocka_unit_test(test_create_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
