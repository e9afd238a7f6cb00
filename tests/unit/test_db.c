/* Tests for db/db: opening (directories, pragmas), the migrations runner (fresh, repeated,
 * refusing unknown versions, rolling back a failing migration), transactions, and the schema's
 * foreign keys and checks. Every test works on a real SQLite file in a temporary directory. */
#include "testutil.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *join(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static int setup(void **state)
{
    return tu_db_setup_path(state, "var/sub/test.db");
}

static void query_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(stmt, 0);
    snprintf(out, cap, "%s", t ? t : "");
    sqlite3_finalize(stmt);
}

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                        " AND name = ?1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

static int exec_rc(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void test_open_creates_directories_and_configures(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    char mode[32];
    query_text(f->db, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(tu_query_int(f->db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(tu_query_int(f->db, "PRAGMA busy_timeout"), DB_BUSY_TIMEOUT_MS);
    assert_int_equal(tu_query_int(f->db, "PRAGMA synchronous"), 1); /* NORMAL */
    FILE *file = fopen(f->path, "rb");
    assert_non_null(file);
    fclose(file);
}

static void test_open_refuses_bad_paths(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    sqlite3 *db = NULL;
    /* A regular file where a directory must go. */
    char *blocker = join(f->dir, "blocker");
    assert_int_equal(tu_write_file(blocker, "x", 1), 0);
    char *under = join(f->dir, "blocker/test.db");
    assert_int_equal(db_open(under, &db, &err), FW_EIO);
    assert_null(db);
    assert_non_null(strstr(err.msg, "blocker"));
    /* A file that is not a database. */
    char *junk = join(f->dir, "junk.db");
    const char text[] = "this is not an SQLite database, just some text long enough to matter\n";
    assert_int_equal(tu_write_file(junk, text, sizeof text - 1), 0);
    int rc = db_open(junk, &db, &err);
    assert_true(rc == FW_ECORRUPT || rc == FW_EDB);
    assert_null(db);
    assert_non_null(strstr(err.msg, "junk.db"));
    assert_int_equal(db_open("", &db, &err), FW_EINVAL);
    free(blocker);
    free(under);
    free(junk);
}

static void test_migrate_fresh_then_idempotent(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int applied = -1, version = -1;
    assert_true(db_migration_count >= 1);
    assert_int_equal(db_migrations[0].version, 1);
    assert_string_equal(db_migrations[0].name, "0001_init");

    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(db_schema_version(f->db, &version, &err), 0);
    assert_int_equal(version, 0);
    assert_int_equal(db_migrate(f->db, &applied, &err), 0);
    assert_int_equal(applied, db_migration_count);
    assert_int_equal(db_schema_version(f->db, &version, &err), 0);
    assert_int_equal(version, db_migrations[db_migration_count - 1].version);
    const char *tables[] = {"schema_migrations", "datasets",    "dataset_points", "models", "jobs",
                            "forecasts",         "quantum_jobs"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        assert_int_equal(table_exists(f->db, tables[i]), 1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name ="
                                         " 'dataset_points' AND sql LIKE '%WITHOUT ROWID%'"),
                     1);

    /* Again, on a new connection: nothing to do. */
    db_close(f->db);
    f->db = NULL;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(db_migrate(f->db, &applied, &err), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM schema_migrations"),
                     db_migration_count);
}

static void test_refuses_unknown_version(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(db_migrate(f->db, NULL, &err), 0);
    exec_ok(f->db, "INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future')");

    /* A binary that knows one more migration than the file has, but not 999: refused before
     * anything is applied. */
    struct migration more[16];
    assert_true(db_migration_count < 16);
    for (int i = 0; i < db_migration_count; i++)
        more[i] = db_migrations[i];
    more[db_migration_count] =
        (struct migration){db_migration_count + 1, "extra", "CREATE TABLE extra (x);"};
    assert_int_equal(db_migrate_with(f->db, more, db_migration_count + 1, NULL, &err), FW_EVERSION);
    assert_non_null(strstr(err.msg, "999"));
    assert_non_null(strstr(err.msg, "newer"));
    assert_int_equal(table_exists(f->db, "extra"), 0);
    assert_int_equal(db_migrate(f->db, NULL, &err), FW_EVERSION);

    /* The same version under another name is refused too. */
    exec_ok(f->db, "DELETE FROM schema_migrations WHERE version = 999");
    exec_ok(f->db, "UPDATE schema_migrations SET name = '0001_other' WHERE version = 1");
    assert_int_equal(db_migrate(f->db, NULL, &err), FW_EVERSION);
    assert_non_null(strstr(err.msg, "0001_other"));
}

static void test_failing_migration_rolls_back(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int applied = -1, version = 0;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    struct migration list[3] = {
        db_migrations[0],
        {2, "0002_bad", "CREATE TABLE half (x); INSERT INTO no_such_table VALUES (1);"},
        {3, "0003_later", "CREATE TABLE later (x);"},
    };
    assert_int_equal(db_migrate_with(f->db, list, 3, &applied, &err), FW_EDB);
    assert_non_null(strstr(err.msg, "0002_bad"));
    assert_non_null(strstr(err.msg, "no_such_table"));
    assert_int_equal(table_exists(f->db, "half"), 0);  /* its first statement undone */
    assert_int_equal(table_exists(f->db, "later"), 0); /* and nothing after it ran */
    assert_int_equal(table_exists(f->db, "datasets"), 1);
    assert_int_equal(db_schema_version(f->db, &version, &err), 0);
    assert_int_equal(version, 1);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1); /* no transaction left open */

    /* Fixed, it applies the two missing ones. */
    list[1].sql = "CREATE TABLE half (x);";
    assert_int_equal(db_migrate_with(f->db, list, 3, &applied, &err), 0);
    assert_int_equal(applied, 2);
    assert_int_equal(table_exists(f->db, "half"), 1);
    assert_int_equal(table_exists(f->db, "later"), 1);
}

static void test_migration_table_checked(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    struct migration unordered[2] = {{2, "0002_b", "SELECT 1;"}, {1, "0001_a", "SELECT 1;"}};
    assert_int_equal(db_migrate_with(f->db, unordered, 2, NULL, &err), FW_EINVAL);
    struct migration duplicate[2] = {{1, "0001_a", "SELECT 1;"}, {1, "0001_b", "SELECT 1;"}};
    assert_int_equal(db_migrate_with(f->db, duplicate, 2, NULL, &err), FW_EINVAL);
    exec_ok(f->db, "BEGIN");
    assert_int_equal(db_migrate(f->db, NULL, &err), FW_ECONFLICT);
    exec_ok(f->db, "ROLLBACK");
    assert_int_equal(table_exists(f->db, "schema_migrations"), 0);
}

static void test_transactions_nest(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct db_tx outer, inner;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    exec_ok(f->db, "CREATE TABLE t (x INTEGER)");

    assert_int_equal(db_tx_begin(f->db, &outer, &err), 0);
    assert_int_equal(outer.savepoint, 0);
    exec_ok(f->db, "INSERT INTO t VALUES (1)");
    assert_int_equal(db_tx_begin(f->db, &inner, &err), 0);
    assert_int_equal(inner.savepoint, 1);
    exec_ok(f->db, "INSERT INTO t VALUES (2)");
    db_tx_rollback(&inner); /* undoes only the inner insert */
    assert_int_equal(sqlite3_get_autocommit(f->db), 0);
    assert_int_equal(db_tx_begin(f->db, &inner, &err), 0);
    exec_ok(f->db, "INSERT INTO t VALUES (3)");
    assert_int_equal(db_tx_commit(&inner, &err), 0);
    db_tx_rollback(&inner); /* no-op after commit */
    assert_int_equal(db_tx_commit(&outer, &err), 0);
    assert_int_equal(db_tx_commit(&outer, &err), FW_ECONFLICT);
    assert_int_equal(tu_query_int(f->db, "SELECT group_concat(x) = '1,3' FROM t"), 1);

    /* A rolled-back outer transaction takes its committed savepoints with it. */
    assert_int_equal(db_tx_begin(f->db, &outer, &err), 0);
    assert_int_equal(db_tx_begin(f->db, &inner, &err), 0);
    exec_ok(f->db, "INSERT INTO t VALUES (4)");
    assert_int_equal(db_tx_commit(&inner, &err), 0);
    db_tx_rollback(&outer);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM t"), 2);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
}

/* A second connection (as another thread or process would have) sees only committed data and
 * is not blocked by a writer: what WAL mode is for. */
static void test_wal_readers_see_committed_data(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    sqlite3 *reader = NULL;
    struct db_tx tx;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(db_migrate(f->db, NULL, &err), 0);
    assert_int_equal(db_open(f->path, &reader, &err), 0);
    assert_int_equal(db_tx_begin(f->db, &tx, &err), 0);
    exec_ok(f->db, "INSERT INTO datasets (name, frequency) VALUES ('a', 'month')");
    assert_int_equal(tu_query_int(reader, "SELECT count(*) FROM datasets"), 0);
    assert_int_equal(db_tx_commit(&tx, &err), 0);
    assert_int_equal(tu_query_int(reader, "SELECT count(*) FROM datasets"), 1);
    db_close(reader);
}

static void test_schema_constraints(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(db_migrate(f->db, NULL, &err), 0);
    exec_ok(f->db,
            "INSERT INTO datasets (id, name, frequency) VALUES (1, 'd', 'month');"
            "INSERT INTO dataset_points (dataset_id, period, value) VALUES (1, '2024-01', 1);"
            "INSERT INTO dataset_points (dataset_id, period, value) VALUES (1, '2024-02', NULL);"
            "INSERT INTO models (id, name, architecture, format_version, weights, dataset_id)"
            " VALUES (1, 'm', 'lstm', 1, x'00', 1);"
            "INSERT INTO jobs (id, kind, model_id) VALUES (1, 'train', 1);"
            "INSERT INTO forecasts (model_id, dataset_id, request_json, response_json)"
            " VALUES (1, 1, '{}', '{}');"
            "INSERT INTO quantum_jobs (job_id, provider, state) VALUES (1, 'ionq', 'x');");
    /* Checks and foreign keys are enforced. */
    assert_int_not_equal(
        exec_rc(f->db, "INSERT INTO datasets (name, frequency) VALUES ('e', 'day')"), SQLITE_OK);
    assert_int_not_equal(
        exec_rc(f->db, "INSERT INTO datasets (name, frequency) VALUES ('d', 'month')"), SQLITE_OK);
    assert_int_not_equal(exec_rc(f->db, "INSERT INTO jobs (kind, state) VALUES ('train', 'done')"),
                         SQLITE_OK);
    assert_int_not_equal(exec_rc(f->db, "INSERT INTO jobs (kind) VALUES ('sleep')"), SQLITE_OK);
    assert_int_not_equal(
        exec_rc(f->db, "INSERT INTO dataset_points (dataset_id, period) VALUES (42, '2024-01')"),
        SQLITE_OK);
    assert_int_not_equal(exec_rc(f->db, "INSERT INTO models (name, architecture, format_version,"
                                        " weights, is_default) VALUES ('a', 'b', 1, x'00', 1),"
                                        " ('c', 'd', 1, x'00', 1)"),
                         SQLITE_OK);
    /* Deleting the dataset removes its points and unlinks the model and forecast. */
    exec_ok(f->db, "DELETE FROM datasets WHERE id = 1");
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT dataset_id IS NULL FROM models WHERE id = 1"), 1);
    assert_int_equal(tu_query_int(f->db, "SELECT dataset_id IS NULL FROM forecasts"), 1);
    /* Deleting the model removes its forecasts and unlinks the job; deleting the job removes
     * its quantum jobs. */
    exec_ok(f->db, "DELETE FROM models WHERE id = 1");
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM forecasts"), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT model_id IS NULL FROM jobs WHERE id = 1"), 1);
    exec_ok(f->db, "DELETE FROM jobs WHERE id = 1");
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM quantum_jobs"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_directories_and_configures, setup,
                                        tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_bad_paths, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_fresh_then_idempotent, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_unknown_version, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_failing_migration_rolls_back, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_migration_table_checked, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_transactions_nest, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_wal_readers_see_committed_data, setup, tu_db_teardown),
        cmocka_unit_test_setup_teardown(test_schema_constraints, setup, tu_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
