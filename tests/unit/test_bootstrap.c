/* Tests for db/bootstrap: an empty database gets the two bundled SILSO series, exactly once;
 * a database with data is left alone; a missing file imports neither series. */
#include "testutil.h"
#include "db/bootstrap.h"
#include "db/db.h"
#include "db/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int setup(void **state)
{
    return tu_db_setup(state, "var/boot.db");
}

static int64_t count_datasets(sqlite3 *db)
{
    int64_t n = -1;
    fw_error err = {0};
    assert_int_equal(store_dataset_count(db, &n, &err), 0);
    return n;
}

static void test_empty_database_gets_both_series(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    char *data_dir = tu_path("data");
    if (db_bootstrap_bundled(f->db, data_dir, &err))
        fail_msg("bootstrap: %s", err.msg);
    assert_int_equal(count_datasets(f->db), 2);

    int64_t id;
    struct store_dataset_meta meta;
    assert_int_equal(store_dataset_find(f->db, BOOTSTRAP_MONTHLY_NAME, &id, &err), 0);
    assert_int_equal(store_dataset_get_meta(f->db, id, &meta, &err), 0);
    assert_int_equal(meta.row_count, 3333);
    assert_int_equal(meta.missing_count, 0);
    assert_string_equal(meta.first_period, "1749-01");
    assert_string_equal(meta.last_period, "2026-09");
    assert_non_null(strstr(meta.source, "WDC-SILSO, Royal Observatory of Belgium, Brussels"));
    assert_non_null(strstr(meta.source, BOOTSTRAP_MONTHLY_FILE));
    assert_string_equal(meta.unit, "sunspot number");
    assert_int_equal(store_dataset_find(f->db, BOOTSTRAP_SMOOTHED_NAME, &id, &err), 0);
    assert_int_equal(store_dataset_get_meta(f->db, id, &meta, &err), 0);
    assert_int_equal(meta.row_count, 3333);
    assert_int_equal(meta.missing_count, 12);

    /* A second start changes nothing. */
    assert_int_equal(db_bootstrap_bundled(f->db, data_dir, &err), 0);
    assert_int_equal(count_datasets(f->db), 2);
    free(data_dir);
}

static void test_database_with_data_left_alone(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct store_point p = {"2024-01", 1, 0, -1, 0};
    struct store_dataset_new ds = {"mine", NULL, NULL, STORE_FREQ_MONTH, &p, 1};
    int64_t id;
    assert_int_equal(store_dataset_create(f->db, &ds, &id, &err), 0);
    char *data_dir = tu_path("data");
    assert_int_equal(db_bootstrap_bundled(f->db, data_dir, &err), 0);
    assert_int_equal(count_datasets(f->db), 1);
    free(data_dir);
}

/* With only the monthly file present, the smoothed one fails and the monthly one, already
 * imported in the same transaction, is rolled back. */
static void test_missing_file_imports_neither(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    char dir[600], dst[700];
    snprintf(dir, sizeof dir, "%s/partial", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    size_t len = 0;
    char *src = tu_path("data/" BOOTSTRAP_MONTHLY_FILE);
    char *data = tu_read_file(src, &len);
    assert_non_null(data);
    snprintf(dst, sizeof dst, "%s/%s", dir, BOOTSTRAP_MONTHLY_FILE);
    assert_int_equal(tu_write_file(dst, data, len), 0);

    assert_int_equal(db_bootstrap_bundled(f->db, dir, &err), FW_ENOTFOUND);
    assert_non_null(strstr(err.msg, BOOTSTRAP_SMOOTHED_FILE));
    assert_int_equal(count_datasets(f->db), 0);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);

    /* A broken bundled file is reported with its line. */
    snprintf(dst, sizeof dst, "%s/%s", dir, BOOTSTRAP_SMOOTHED_FILE);
    assert_int_equal(tu_write_file(dst, "1749;01;1749.042;  x; -1.0;   -1;1\n", 35), 0);
    assert_int_equal(db_bootstrap_bundled(f->db, dir, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "line 1, column 4"));
    assert_int_equal(count_datasets(f->db), 0);

    assert_int_equal(db_bootstrap_bundled(f->db, "", &err), FW_EINVAL);
    free(data);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_database_gets_both_series, setup,
                                        tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_database_with_data_left_alone, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_imports_neither, setup, tu_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
