/* Tests for db/results against a real SQLite file: storing, finding and refusing duplicate
 * runs, listing by suite and task, the per-model summary (mean, sample sd) and its JSON. */
#include "testutil.h"
#include "db/db.h"
#include "db/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    return tu_db_setup(state, "results.db");
}

static struct result_row make_row(const char *suite, const char *task, const char *arch,
                                  int64_t seed, double mse)
{
    struct result_row r = {.seed = seed,
                           .epochs = 100,
                           .best_epoch = 50,
                           .parameters = 12474,
                           .n_windows = 262,
                           .mse = mse,
                           .mae = 2 * mse,
                           .r2 = 0.5,
                           .peak_amplitude_error = NAN,
                           .peak_timing_error = NAN,
                           .train_seconds = 60.0};
    snprintf(r.suite, sizeof r.suite, "%s", suite);
    snprintf(r.task, sizeof r.task, "%s", task);
    snprintf(r.architecture, sizeof r.architecture, "%s", arch);
    snprintf(r.config, sizeof r.config, "window=528;horizon=132");
    snprintf(r.data_sha256, sizeof r.data_sha256, "%064d", 7);
    return r;
}

static void test_insert_find(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct result_row r = make_row("solar", "paper", "lstm", 3, 0.02);
    r.peak_amplitude_error = 41.5;
    r.peak_timing_error = 22.0;
    struct result_row probe = r;
    int found = 1;
    assert_int_equal(results_find(f->db, &probe, &found, &err), 0);
    assert_int_equal(found, 0);
    assert_int_equal(results_insert(f->db, &r, &err), 0);
    memset(probe.created_at, 0, sizeof probe.created_at);
    probe.mse = 0;
    assert_int_equal(results_find(f->db, &probe, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_true(probe.mse == 0.02 && probe.peak_amplitude_error == 41.5);
    assert_int_equal(strlen(probe.created_at), 20);
    /* the same key again is a conflict; another seed, epochs or config is a new run */
    assert_int_equal(results_insert(f->db, &r, &err), FW_ECONFLICT);
    r.seed = 4;
    assert_int_equal(results_insert(f->db, &r, &err), 0);
    r.epochs = 5;
    assert_int_equal(results_insert(f->db, &r, &err), 0);
    snprintf(r.config, sizeof r.config, "window=528;horizon=132;hidden=96");
    assert_int_equal(results_insert(f->db, &r, &err), 0);
    /* non-finite metrics are refused and store nothing */
    r.seed = 9;
    r.mse = NAN;
    assert_int_equal(results_insert(f->db, &r, &err), FW_EINVAL);
    struct result_row *rows;
    size_t n;
    assert_int_equal(results_list(f->db, "solar", NULL, &rows, &n, &err), 0);
    assert_int_equal(n, 4);
    free(rows);
}

static void test_summary(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    const double mse[3] = {1.0, 2.0, 4.0};
    for (int s = 0; s < 3; s++) {
        struct result_row a = make_row("timeseries", "narma_5", "qfwp", s, mse[s]);
        struct result_row b = make_row("timeseries", "narma_5", "gqkanfwp", s, 0.5);
        assert_int_equal(results_insert(f->db, &a, &err), 0);
        if (s == 0)
            assert_int_equal(results_insert(f->db, &b, &err), 0);
    }
    struct result_row other = make_row("timeseries", "bessel_j2", "qfwp", 0, 9.0);
    assert_int_equal(results_insert(f->db, &other, &err), 0);

    struct result_row *rows;
    struct result_summary *sums;
    size_t n, m;
    assert_int_equal(results_list(f->db, "timeseries", "narma_5", &rows, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(results_summarize(rows, n, &sums, &m), 0);
    free(rows);
    assert_int_equal(m, 2);
    /* in order of first appearance: qfwp (seeds 0-2), then gqkanfwp (one seed) */
    assert_string_equal(sums[0].architecture, "qfwp");
    assert_int_equal(sums[0].n_seeds, 3);
    double mean = 7.0 / 3.0;
    double sd =
        sqrt(((1 - mean) * (1 - mean) + (2 - mean) * (2 - mean) + (4 - mean) * (4 - mean)) / 2.0);
    assert_true(fabs(sums[0].mse.mean - mean) < 1e-15);
    assert_true(fabs(sums[0].mse.sd - sd) < 1e-15);
    assert_true(fabs(sums[0].mae.mean - 2 * mean) < 1e-15);
    assert_true(isnan(sums[0].peak_amplitude_error.mean));
    assert_int_equal(sums[1].n_seeds, 1);
    assert_true(isnan(sums[1].mse.sd));

    json_t *o = results_summary_json(&sums[1]);
    assert_true(json_is_null(json_object_get(json_object_get(o, "mse"), "sd")));
    assert_true(json_real_value(json_object_get(json_object_get(o, "mse"), "mean")) == 0.5);
    assert_null(json_object_get(o, "peak_amplitude_error")); /* not a solar run */
    assert_int_equal(json_integer_value(json_object_get(o, "seeds")), 1);
    json_decref(o);
    free(sums);

    /* an empty list summarises to nothing */
    assert_int_equal(results_summarize(NULL, 0, &sums, &m), 0);
    assert_int_equal(m, 0);
    free(sums);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_find, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, tu_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
