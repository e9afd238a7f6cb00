/* Tests for db/store against a real SQLite file in a temporary directory: datasets (metadata,
 * ranges, validation, atomicity), the points fingerprint, models (blobs, defaults), jobs (the
 * state machine, progress, checkpoints, restart), forecasts. */
#include "testutil.h"
#include "db/db.h"
#include "base/sha256.h"
#include "db/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    return tu_db_setup(state, "var/store.db");
}

/* n monthly points from start_year-01, value i * 1.5, every 5th missing, last 2 provisional. */
static struct store_point *make_points(size_t n, int start_year)
{
    struct store_point *p = calloc(n, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        period_format(start_year * 12 + (int)i, p[i].period);
        p[i].value = i % 5 == 4 ? NAN : (double)i * 1.5;
        p[i].std = i % 2 ? 0.25 * (double)i : NAN;
        p[i].n_obs = i % 3 ? (int)i : -1;
        p[i].provisional = i + 2 >= n;
    }
    return p;
}

static int64_t create_dataset(sqlite3 *db, const char *name, struct store_point *points, size_t n)
{
    struct store_dataset_new ds = {name, "test source", "count", STORE_FREQ_MONTH, points, n};
    fw_error err = {0};
    int64_t id = 0;
    int rc = store_dataset_create(db, &ds, &id, &err);
    if (rc)
        fail_msg("store_dataset_create: %s", err.msg);
    assert_true(id > 0);
    return id;
}

/* --- datasets ------------------------------------------------------------------------------- */

static void test_dataset_roundtrip(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *points = make_points(30, 2000);
    int64_t id = create_dataset(f->db, "series-a", points, 30);

    struct store_dataset_meta meta;
    assert_int_equal(store_dataset_get_meta(f->db, id, &meta, &err), 0);
    assert_string_equal(meta.name, "series-a");
    assert_string_equal(meta.source, "test source");
    assert_string_equal(meta.unit, "count");
    assert_int_equal(meta.frequency, STORE_FREQ_MONTH);
    assert_string_equal(meta.first_period, "2000-01");
    assert_string_equal(meta.last_period, "2002-06");
    assert_int_equal(meta.row_count, 30);
    assert_int_equal(meta.missing_count, 6);
    char sha[SHA256_HEX_LEN];
    store_points_sha256(points, 30, sha);
    assert_string_equal(meta.sha256, sha);
    assert_int_equal(strlen(meta.created_at), 20);

    struct store_dataset *ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, NULL, NULL, &ds, &err), 0);
    assert_int_equal(ds->n_points, 30);
    assert_int_equal(ds->meta.id, id);
    for (size_t i = 0; i < 30; i++) {
        assert_string_equal(ds->points[i].period, points[i].period);
        if (isnan(points[i].value))
            assert_true(isnan(ds->points[i].value)); /* missing stays missing, not 0 */
        else
            assert_true(ds->points[i].value == points[i].value);
        if (isnan(points[i].std))
            assert_true(isnan(ds->points[i].std));
        else
            assert_true(ds->points[i].std == points[i].std);
        assert_int_equal(ds->points[i].n_obs, points[i].n_obs);
        assert_int_equal(ds->points[i].provisional, points[i].provisional);
    }
    store_dataset_free(ds);
    ds = NULL;

    /* Ranges: inclusive, YYYY-MM-DD accepted, partial overlap, empty, reversed, malformed. */
    assert_int_equal(store_dataset_get(f->db, id, "2000-03", "2000-05-31", &ds, &err), 0);
    assert_int_equal(ds->n_points, 3);
    assert_string_equal(ds->points[0].period, "2000-03");
    assert_string_equal(ds->points[2].period, "2000-05");
    assert_int_equal(ds->meta.row_count, 30); /* metadata is always of the whole dataset */
    store_dataset_free(ds);
    ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, "2002-05", NULL, &ds, &err), 0);
    assert_int_equal(ds->n_points, 2);
    store_dataset_free(ds);
    ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, "1990-01", "1990-12", &ds, &err), 0);
    assert_int_equal(ds->n_points, 0);
    store_dataset_free(ds);
    ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, "2001-01", "2000-01", &ds, &err), FW_EINVAL);
    assert_int_equal(store_dataset_get(f->db, id, "2001-13", NULL, &ds, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "2001-13"));
    assert_null(ds);
    assert_int_equal(store_dataset_get(f->db, id + 100, NULL, NULL, &ds, &err), FW_ENOTFOUND);
    assert_null(ds);

    int64_t found = 0;
    assert_int_equal(store_dataset_find(f->db, "series-a", &found, &err), 0);
    assert_int_equal(found, id);
    assert_int_equal(store_dataset_find(f->db, "series-b", &found, &err), FW_ENOTFOUND);
    free(points);
}

static void test_dataset_list_delete_and_ids(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *points = make_points(12, 1990);
    struct store_dataset_meta *items = NULL;
    size_t count = 99;
    int64_t n = -1;

    assert_int_equal(store_dataset_list(f->db, &items, &count, &err), 0);
    assert_int_equal(count, 0);
    free(items);
    int64_t a = create_dataset(f->db, "a", points, 12);
    int64_t b = create_dataset(f->db, "b", points, 6);
    assert_int_equal(store_dataset_list(f->db, &items, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(items[0].id, a);
    assert_string_equal(items[1].name, "b");
    assert_int_equal(items[1].row_count, 6);
    assert_string_equal(items[1].last_period, "1990-06");
    free(items);

    assert_int_equal(store_dataset_delete(f->db, a, &err), 0);
    assert_int_equal(store_dataset_delete(f->db, a, &err), FW_ENOTFOUND);
    assert_int_equal(store_dataset_count(f->db, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 6);
    /* An id once given is never given again, so an API client cannot confuse two datasets. */
    int64_t c = create_dataset(f->db, "a", points, 12);
    assert_true(c > b);
    free(points);
}

static void test_dataset_yearly(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point p[3] = {
        {"1700", 8.3, NAN, -1, 0}, {"1701", NAN, NAN, -1, 0}, {"1702", 26.7, 1.5, 12, 1}};
    struct store_dataset_new ds = {"yearly", NULL, NULL, STORE_FREQ_YEAR, p, 3};
    int64_t id;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), 0);
    struct store_dataset *got = NULL;
    assert_int_equal(store_dataset_get(f->db, id, "1701", "1702", &got, &err), 0);
    assert_int_equal(got->meta.frequency, STORE_FREQ_YEAR);
    assert_string_equal(got->meta.source, "");
    assert_int_equal(got->meta.missing_count, 1);
    assert_int_equal(got->n_points, 2);
    assert_true(isnan(got->points[0].value));
    assert_int_equal(got->points[1].n_obs, 12);
    store_dataset_free(got);
    got = NULL;
    /* Monthly bounds make no sense for a yearly dataset, and monthly periods are refused in
     * one. */
    assert_int_equal(store_dataset_get(f->db, id, "1701-01", NULL, &got, &err), FW_EINVAL);
    strcpy(p[1].period, "1701-01");
    ds.name = "yearly-2";
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
}

/* Each bad dataset is refused with a message and writes nothing. */
static void test_dataset_validation(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *p = make_points(10, 2000);
    int64_t id = 0;
    create_dataset(f->db, "taken", p, 10);
    struct store_dataset_new ds = {"fresh", NULL, NULL, STORE_FREQ_MONTH, p, 10};

    /* A gap. */
    strcpy(p[5].period, "2000-07");
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "contiguous"));
    /* A duplicate. */
    strcpy(p[5].period, "2000-05");
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    /* Not a period. */
    strcpy(p[5].period, "2000-6");
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    strcpy(p[5].period, "2000-06");
    /* Infinity, negative std, n_obs below -1, a provisional flag that is not 0/1. */
    p[3].value = INFINITY;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "2000-04"));
    p[3].value = 1;
    p[3].std = -2;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    p[3].std = NAN;
    p[3].n_obs = -5;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    p[3].n_obs = 1;
    p[3].provisional = 2;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    p[3].provisional = 0;
    /* Names: empty, control characters, invalid UTF-8, too long, taken. */
    const char *bad_names[] = {"", "tab\there", "bad\xff", NULL};
    for (int i = 0; bad_names[i]; i++) {
        ds.name = bad_names[i];
        assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    }
    char long_name[STORE_NAME_MAX + 1];
    memset(long_name, 'x', STORE_NAME_MAX);
    long_name[STORE_NAME_MAX] = '\0';
    ds.name = long_name;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    ds.name = "taken";
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_ECONFLICT);
    assert_non_null(strstr(err.msg, "already exists"));
    /* No points. */
    ds.name = "fresh";
    ds.n_points = 0;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);
    ds.n_points = 10;
    ds.frequency = (enum store_frequency)7;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), FW_EINVAL);

    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 10);
    /* A UTF-8 name is fine. */
    ds.frequency = STORE_FREQ_MONTH;
    ds.name = "Sonnenflecken \xc3\xa9t\xc3\xa9";
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), 0);
    free(p);
}

/* A failure after some points are written (forced by a trigger) leaves no trace, whether the
 * create runs alone or inside a caller's transaction. */
static void test_dataset_create_is_atomic(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *p = make_points(40, 1800);
    int64_t id = 0;
    create_dataset(f->db, "before", p, 5);
    assert_int_equal(sqlite3_exec(f->db,
                                  "CREATE TEMP TRIGGER fail_at BEFORE INSERT ON main.dataset_points"
                                  " WHEN NEW.period = '1801-08'"
                                  " BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct store_dataset_new ds = {"doomed", NULL, NULL, STORE_FREQ_MONTH, p, 40};
    int rc = store_dataset_create(f->db, &ds, &id, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "forced failure"));
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 5);

    /* Inside a caller's transaction: only the failed create is undone. */
    struct db_tx tx;
    assert_int_equal(db_tx_begin(f->db, &tx, &err), 0);
    ds.n_points = 10;
    ds.name = "kept";
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), 0);
    ds.n_points = 40;
    ds.name = "doomed";
    assert_true(store_dataset_create(f->db, &ds, &id, &err) < 0);
    assert_int_equal(db_tx_commit(&tx, &err), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 2);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 15);
    free(p);
}

static void test_points_sha256(void **state)
{
    (void)state;
    struct store_point p[2] = {{"2024-01", 1.5, NAN, -1, 0}, {"2024-02", NAN, NAN, -1, 0}};
    const char text[] = "period,value\n2024-01,1.5\n2024-02,NA\n";
    unsigned char digest[SHA256_DIGEST_LEN];
    char expect[SHA256_HEX_LEN], got[SHA256_HEX_LEN], again[SHA256_HEX_LEN];
    sha256_buffer(text, sizeof text - 1, digest);
    sha256_hex(digest, expect);
    store_points_sha256(p, 2, got);
    assert_string_equal(got, expect);
    /* std, n_obs and flags do not count; values and periods do, to the last bit. */
    p[0].std = 3;
    p[0].n_obs = 7;
    p[1].provisional = 1;
    store_points_sha256(p, 2, again);
    assert_string_equal(again, got);
    p[0].value = nextafter(1.5, 2.0);
    store_points_sha256(p, 2, again);
    assert_string_not_equal(again, got);
    p[0].value = 1.5;
    strcpy(p[0].period, "2023-12");
    store_points_sha256(p, 2, again);
    assert_string_not_equal(again, got);
}

/* --- models --------------------------------------------------------------------------------- */

static const unsigned char weights_a[] = {'F', 'W', 0, 1, 0xff, 0, 42};

static struct store_model_new model_new(const char *name, int64_t dataset_id, int is_default)
{
    struct store_model_new m = {
        .name = name,
        .architecture = "gated-qkan-fwp",
        .config_json = "{\"hidden\":8}",
        .parameters = 1234,
        .seed = UINT64_MAX - 1,
        .dataset_id = dataset_id,
        .data_sha256 = "9d3c1f6ab6c1987e58b9f407910cd1c2746ed7d9ef837b9781140d26bcf82be5",
        .cutoff = "2019-12",
        .protocol = "paper-sunspot",
        .format_version = 1,
        .weights = weights_a,
        .weights_len = sizeof weights_a,
        .metrics_json = "{\"mse\":0.01}",
        .is_default = is_default,
    };
    return m;
}

static void test_model_roundtrip(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *p = make_points(12, 2000);
    int64_t ds = create_dataset(f->db, "train", p, 12);
    struct store_model_new in = model_new("m1", ds, 0);
    int64_t id = 0;
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), 0);

    struct store_model *m = NULL;
    assert_int_equal(store_model_get(f->db, id, &m, &err), 0);
    assert_int_equal(m->id, id);
    assert_string_equal(m->name, "m1");
    assert_string_equal(m->architecture, "gated-qkan-fwp");
    assert_string_equal(m->config_json, "{\"hidden\":8}");
    assert_int_equal(m->parameters, 1234);
    assert_true(m->seed == UINT64_MAX - 1); /* all 64 bits survive */
    assert_int_equal(m->dataset_id, ds);
    assert_string_equal(m->data_sha256, in.data_sha256);
    assert_string_equal(m->cutoff, "2019-12");
    assert_string_equal(m->protocol, "paper-sunspot");
    assert_int_equal(m->format_version, 1);
    assert_int_equal(m->weights_len, sizeof weights_a);
    assert_memory_equal(m->weights, weights_a, sizeof weights_a); /* NUL bytes included */
    assert_string_equal(m->metrics_json, "{\"mse\":0.01}");
    assert_int_equal(m->is_default, 0);
    store_model_free(m);
    m = NULL;

    assert_int_equal(store_model_set_metrics(f->db, id, NULL, &err), 0);
    assert_int_equal(store_model_set_metrics(f->db, id + 9, "{}", &err), FW_ENOTFOUND);
    /* Deleting the training dataset keeps the model, unlinked. */
    assert_int_equal(store_dataset_delete(f->db, ds, &err), 0);
    assert_int_equal(store_model_get(f->db, id, &m, &err), 0);
    assert_int_equal(m->dataset_id, 0);
    assert_null(m->metrics_json);
    store_model_free(m);
    m = NULL;

    assert_int_equal(store_model_delete(f->db, id, &err), 0);
    assert_int_equal(store_model_get(f->db, id, &m, &err), FW_ENOTFOUND);
    assert_null(m);
    assert_int_equal(store_model_delete(f->db, id, &err), FW_ENOTFOUND);
    store_model_free(NULL);
    free(p);
}

static void test_model_validation(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int64_t id = 0;
    struct store_model_new in = model_new("m", 0, 0);
    in.dataset_id = 77;
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), FW_ENOTFOUND);
    assert_non_null(strstr(err.msg, "77"));
    in = model_new("m", 0, 0);
    in.weights_len = 0;
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), FW_EINVAL);
    in = model_new("m", 0, 0);
    in.data_sha256 = "abc";
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), FW_EINVAL);
    in = model_new("m", 0, 0);
    in.cutoff = "2019-13";
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), FW_EINVAL);
    in = model_new("", 0, 0);
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), FW_EINVAL);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM models"), 0);
    /* Optional fields may all be absent. */
    in = model_new("bare", 0, 0);
    in.config_json = in.data_sha256 = in.cutoff = in.protocol = in.metrics_json = NULL;
    assert_int_equal(store_model_insert(f->db, &in, &id, &err), 0);
    struct store_model *m = NULL;
    assert_int_equal(store_model_get(f->db, id, &m, &err), 0);
    assert_null(m->config_json);
    assert_string_equal(m->cutoff, "");
    assert_int_equal(m->dataset_id, 0);
    store_model_free(m);
}

static void test_model_default_and_list(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_model *m = NULL;
    int64_t a, b, c;
    assert_int_equal(store_model_get_default(f->db, &m, &err), FW_ENOTFOUND);
    struct store_model_new in = model_new("a", 0, 1);
    assert_int_equal(store_model_insert(f->db, &in, &a, &err), 0);
    in = model_new("b", 0, 1);
    assert_int_equal(store_model_insert(f->db, &in, &b, &err), 0);
    in = model_new("c", 0, 0);
    assert_int_equal(store_model_insert(f->db, &in, &c, &err), 0);
    assert_int_equal(store_model_get_default(f->db, &m, &err), 0);
    assert_int_equal(m->id, b); /* the newer default replaced the older */
    assert_memory_equal(m->weights, weights_a, sizeof weights_a);
    store_model_free(m);
    m = NULL;
    assert_int_equal(store_model_set_default(f->db, c, &err), 0);
    assert_int_equal(store_model_set_default(f->db, c + 10, &err), FW_ENOTFOUND);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM models WHERE is_default = 1"), 1);

    struct store_model *items = NULL;
    size_t count = 0;
    assert_int_equal(store_model_list(f->db, &items, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(items[0].name, "a");
    assert_int_equal(items[2].is_default, 1);
    assert_int_equal(items[1].is_default, 0);
    assert_null(items[1].weights); /* lists leave the blobs in the database */
    assert_int_equal(items[1].weights_len, sizeof weights_a);
    assert_string_equal(items[1].config_json, "{\"hidden\":8}");
    store_model_list_free(items, count);

    assert_int_equal(store_model_delete(f->db, c, &err), 0);
    assert_int_equal(store_model_get_default(f->db, &m, &err), FW_ENOTFOUND);
}

/* --- jobs ----------------------------------------------------------------------------------- */

static void test_job_lifecycle(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_job *job = NULL;
    int64_t id = 0, claimed = 0, second = 0;
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), FW_ENOTFOUND);
    assert_int_equal(store_job_create(f->db, STORE_JOB_TRAIN, "{\"epochs\":3}", 3, &id, &err), 0);
    assert_int_equal(store_job_create(f->db, STORE_JOB_BACKTEST, NULL, 0, &second, &err), 0);

    assert_int_equal(store_job_get(f->db, id, &job, &err), 0);
    assert_int_equal(job->state, STORE_JOB_QUEUED);
    assert_int_equal(job->kind, STORE_JOB_TRAIN);
    assert_string_equal(job->request_json, "{\"epochs\":3}");
    assert_int_equal(job->epochs, 3);
    assert_true(isnan(job->eta_seconds));
    assert_string_equal(job->started_at, "");
    assert_null(job->checkpoint);
    store_job_free(job);
    job = NULL;

    /* Claims take the oldest queued job, once. */
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);
    assert_int_equal(claimed, id);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);
    assert_int_equal(claimed, second);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), FW_ENOTFOUND);

    struct store_job_progress pr = {0.5, 2, 12.5, "[0.9,0.5]"};
    assert_int_equal(store_job_update_progress(f->db, id, &pr, &err), 0);
    pr.progress = 0.75;
    pr.loss_curve_json = NULL; /* keeps the stored curve */
    pr.eta_seconds = NAN;
    assert_int_equal(store_job_update_progress(f->db, id, &pr, &err), 0);
    pr.progress = 1.5;
    assert_int_equal(store_job_update_progress(f->db, id, &pr, &err), FW_EINVAL);
    const unsigned char ckpt[] = {1, 2, 0, 3};
    assert_int_equal(store_job_set_checkpoint(f->db, id, ckpt, sizeof ckpt, &err), 0);
    assert_int_equal(store_job_get(f->db, id, &job, &err), 0);
    assert_int_equal(job->state, STORE_JOB_RUNNING);
    assert_true(job->progress == 0.75);
    assert_int_equal(job->epoch, 2);
    assert_true(isnan(job->eta_seconds));
    assert_string_equal(job->loss_curve_json, "[0.9,0.5]");
    assert_int_equal(job->checkpoint_len, sizeof ckpt);
    assert_memory_equal(job->checkpoint, ckpt, sizeof ckpt);
    assert_int_not_equal(strlen(job->started_at), 0);
    assert_string_equal(job->finished_at, "");
    store_job_free(job);
    job = NULL;

    /* It produces a model and succeeds; a finished job cannot move again. */
    struct store_model_new mn = model_new("trained", 0, 0);
    int64_t model_id;
    assert_int_equal(store_model_insert(f->db, &mn, &model_id, &err), 0);
    assert_int_equal(store_job_set_model(f->db, id, model_id, &err), 0);
    assert_int_equal(store_job_set_model(f->db, id, model_id + 5, &err), FW_ENOTFOUND);
    assert_int_equal(store_job_set_state(f->db, id, STORE_JOB_SUCCEEDED, NULL, &err), 0);
    assert_int_equal(store_job_set_state(f->db, id, STORE_JOB_RUNNING, NULL, &err), FW_ECONFLICT);
    assert_non_null(strstr(err.msg, "succeeded"));
    assert_int_equal(store_job_set_state(f->db, id, STORE_JOB_CANCELLED, NULL, &err), FW_ECONFLICT);
    pr.progress = 1;
    assert_int_equal(store_job_update_progress(f->db, id, &pr, &err), FW_ECONFLICT);
    assert_int_equal(store_job_get(f->db, id, &job, &err), 0);
    assert_int_equal(job->state, STORE_JOB_SUCCEEDED);
    assert_int_equal(job->model_id, model_id);
    assert_int_not_equal(strlen(job->finished_at), 0);
    store_job_free(job);
    job = NULL;

    /* The second one fails with a message. */
    assert_int_equal(store_job_set_state(f->db, second, STORE_JOB_FAILED, "diverged", &err), 0);
    assert_int_equal(store_job_get(f->db, second, &job, &err), 0);
    assert_string_equal(job->error, "diverged");
    store_job_free(job);
    job = NULL;

    assert_int_equal(store_job_get(f->db, 999, &job, &err), FW_ENOTFOUND);
    assert_int_equal(store_job_set_state(f->db, 999, STORE_JOB_RUNNING, NULL, &err), FW_ENOTFOUND);
    assert_int_equal(store_job_set_checkpoint(f->db, 999, NULL, 0, &err), FW_ENOTFOUND);
    assert_int_equal(store_job_create(f->db, (enum store_job_kind)9, NULL, 0, &id, &err),
                     FW_EINVAL);
    assert_int_equal(store_job_create(f->db, STORE_JOB_TRAIN, NULL, -1, &id, &err), FW_EINVAL);
}

static void test_job_cancel_and_restart(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int64_t a, b, c, claimed;
    struct store_job *job = NULL;
    assert_int_equal(store_job_create(f->db, STORE_JOB_TRAIN, NULL, 10, &a, &err), 0);
    assert_int_equal(store_job_create(f->db, STORE_JOB_TRAIN, NULL, 10, &b, &err), 0);
    assert_int_equal(store_job_create(f->db, STORE_JOB_QUANTUM, NULL, 0, &c, &err), 0);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);

    /* Cancelled while running: the worker's next progress report says so. */
    assert_int_equal(store_job_set_state(f->db, a, STORE_JOB_CANCELLED, NULL, &err), 0);
    struct store_job_progress pr = {0.1, 1, 5, NULL};
    assert_int_equal(store_job_update_progress(f->db, a, &pr, &err), FW_ECANCELLED);

    /* The process dies: at the next start, running jobs become interrupted. */
    int n = -1;
    assert_int_equal(store_job_mark_interrupted(f->db, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_job_mark_interrupted(f->db, &n, &err), 0);
    assert_int_equal(n, 0);

    struct store_job *items = NULL;
    size_t count = 0;
    assert_int_equal(store_job_list(f->db, STORE_JOB_INTERRUPTED, &items, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(items[0].id, b);
    store_job_list_free(items, count);
    assert_int_equal(store_job_list(f->db, 0, &items, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(items[0].state, STORE_JOB_CANCELLED);
    assert_int_equal(items[2].kind, STORE_JOB_QUANTUM);
    store_job_list_free(items, count);
    assert_int_equal(store_job_list(f->db, 99, &items, &count, &err), FW_EINVAL);

    /* An interrupted job is requeued (it keeps its checkpoint) and claimed after c. */
    assert_int_equal(store_job_set_state(f->db, b, STORE_JOB_QUEUED, NULL, &err), 0);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);
    assert_int_equal(claimed, b);
    assert_int_equal(store_job_claim_next(f->db, &claimed, &err), 0);
    assert_int_equal(claimed, c);
    assert_int_equal(store_job_get(f->db, b, &job, &err), 0);
    assert_int_equal(job->state, STORE_JOB_RUNNING);
    store_job_free(job);

    assert_int_equal(store_job_delete(f->db, a, &err), 0);
    assert_int_equal(store_job_delete(f->db, a, &err), FW_ENOTFOUND);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM jobs"), 2);
}

static void test_job_names(void **state)
{
    (void)state;
    enum store_job_state s;
    enum store_job_kind k;
    for (int i = STORE_JOB_QUEUED; i <= STORE_JOB_INTERRUPTED; i++) {
        assert_int_equal(store_job_state_parse(store_job_state_name(i), &s), 0);
        assert_int_equal(s, i);
    }
    assert_int_equal(store_job_state_parse("done", &s), FW_EINVAL);
    assert_int_equal(store_job_kind_parse("backtest", &k), 0);
    assert_int_equal(k, STORE_JOB_BACKTEST);
    assert_string_equal(store_job_kind_name((enum store_job_kind)0), "?");
    assert_true(store_job_state_is_final(STORE_JOB_CANCELLED));
    assert_false(store_job_state_is_final(STORE_JOB_INTERRUPTED));
}

/* --- forecasts ------------------------------------------------------------------------------ */

static void test_forecast_insert(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point *p = make_points(12, 2000);
    int64_t ds = create_dataset(f->db, "history", p, 12);
    struct store_model_new mn = model_new("m", ds, 1);
    int64_t model_id, id;
    assert_int_equal(store_model_insert(f->db, &mn, &model_id, &err), 0);
    assert_int_equal(
        store_forecast_insert(f->db, model_id, ds, "{\"h\":12}", "{\"y\":[1]}", &id, &err), 0);
    assert_true(id > 0);
    assert_int_equal(store_forecast_insert(f->db, model_id, 0, "{}", "{}", &id, &err), 0);
    assert_int_equal(store_forecast_insert(f->db, model_id + 1, 0, "{}", "{}", &id, &err),
                     FW_ENOTFOUND);
    assert_int_equal(store_forecast_insert(f->db, model_id, ds + 1, "{}", "{}", &id, &err),
                     FW_ENOTFOUND);
    assert_int_equal(store_forecast_insert(f->db, model_id, 0, NULL, "{}", &id, &err), FW_EINVAL);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM forecasts"), 2);
    assert_int_equal(
        tu_query_int(f->db,
                     "SELECT request_json = '{\"h\":12}' FROM forecasts ORDER BY id LIMIT 1"),
        1);
    /* A model's forecasts go with it. */
    assert_int_equal(store_model_delete(f->db, model_id, &err), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM forecasts"), 0);
    free(p);
}

static int count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

/* The provider work of a quantum job: one row per (job, provider), updated in place, gone with
 * the job; bad arguments and unknown jobs change nothing. */
static void test_quantum_jobs(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int64_t id = 0;
    assert_int_equal(store_job_create(f->db, STORE_JOB_QUANTUM, "{}", 0, &id, &err), 0);
    assert_int_equal(
        store_quantum_job_record(f->db, id, "ionq", "a1", "queued", 200, 204800, NULL, &err), 0);
    assert_int_equal(store_quantum_job_record(f->db, id, "ionq", "a1", "done", 200, 204800,
                                              "{\"backend\":\"ionq\"}", &err),
                     0);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM quantum_jobs"), 1);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM quantum_jobs WHERE state = 'done' "
                                       "AND remote_id = 'a1' AND shots = 204800"),
                     1);
    assert_int_equal(
        store_quantum_job_record(f->db, id + 100, "ionq", "x", "queued", 1, 1, NULL, &err),
        FW_ENOTFOUND);
    assert_int_equal(store_quantum_job_record(f->db, id, "", "x", "queued", 1, 1, NULL, &err),
                     FW_EINVAL);
    assert_int_equal(store_quantum_job_record(f->db, id, "ibm", "x", NULL, 1, 1, NULL, &err),
                     FW_EINVAL);
    assert_int_equal(store_quantum_job_record(f->db, id, "ibm", "x", "queued", -1, 1, NULL, &err),
                     FW_EINVAL);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM quantum_jobs"), 1);
    assert_int_equal(store_job_delete(f->db, id, &err), 0);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM quantum_jobs"), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_db_teardown)
    const struct CMUnitTest tests[] = {
        T(test_dataset_roundtrip),        T(test_dataset_list_delete_and_ids),
        T(test_dataset_yearly),           T(test_dataset_validation),
        T(test_dataset_create_is_atomic), cmocka_unit_test(test_points_sha256),
        T(test_model_roundtrip),          T(test_model_validation),
        T(test_model_default_and_list),   T(test_job_lifecycle),
        T(test_job_cancel_and_restart),   cmocka_unit_test(test_job_names),
        T(test_forecast_insert),          T(test_quantum_jobs),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
