/* db — connections, migrations and transactions (see db.h). */
#include "db/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

int db_fail(sqlite3 *db, int sqlite_rc, const char *what, fw_error *err)
{
    int code;
    switch (sqlite_rc & 0xff) {
    case SQLITE_NOMEM:
        code = FW_ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
        code = FW_ECONFLICT;
        break;
    case SQLITE_FULL:
        code = FW_ENOSPC;
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        code = FW_ECORRUPT;
        break;
    default:
        code = FW_EDB;
        break;
    }
    /* The connection's message is only about this failure if its code is the one we got. */
    const char *msg =
        db && sqlite3_errcode(db) == sqlite_rc ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc);
    return fw_error_set(err, code, "%s: %s", what, msg);
}

/* Runs a constant statement (no parameters, no rows wanted). */
static int exec_const(sqlite3 *db, const char *sql, const char *what, fw_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return FW_OK;
    int code = db_fail(db, rc, what, err);
    if (msg && err)
        fw_error_set(err, code, "%s: %s", what, msg);
    sqlite3_free(msg);
    return code;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, fw_error *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, stmt, NULL);
    if (rc != SQLITE_OK) {
        *stmt = NULL;
        return db_fail(db, rc, "preparing a statement", err);
    }
    return FW_OK;
}

/* mkdir -p of the directory part of path ("var/fwpcast.db" -> "var"). */
static int make_parent_dirs(const char *path, fw_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return FW_OK;
    size_t len = (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (!dir)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    memcpy(dir, path, len);
    dir[len] = '\0';
    int rc = FW_OK;
    for (size_t i = 1; i <= len; i++) {
        if (dir[i] != '/' && dir[i] != '\0')
            continue;
        char saved = dir[i];
        dir[i] = '\0';
        struct stat st;
        if (stat(dir, &st) != 0) {
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                rc = fw_error_set(err, FW_EIO, "cannot create directory %s: %s", dir,
                                  strerror(errno));
                goto cleanup;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            rc = fw_error_set(err, FW_EIO, "cannot create directory %s: a file is in the way", dir);
            goto cleanup;
        }
        dir[i] = saved;
    }
cleanup:
    free(dir);
    return rc;
}

int db_open(const char *path, sqlite3 **out, fw_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    fw_error local = {0}; /* messages below get the path in front */
    int rc;

    if (!path || !*path)
        return fw_error_set(err, FW_EINVAL, "no database path given");
    int in_memory = strcmp(path, ":memory:") == 0;
    if (!in_memory && (rc = make_parent_dirs(path, &local)) != 0)
        goto cleanup;

    int src = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(db, src, "cannot open the database", &local);
        goto cleanup;
    }
    sqlite3_extended_result_codes(db, 1);
    src = sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    if (src != SQLITE_OK) {
        rc = db_fail(db, src, "cannot set busy_timeout", &local);
        goto cleanup;
    }

    /* journal_mode answers with the mode it ended up in; anything but WAL on a file means the
     * file system refused it, and readers would then block the writer. This is also the first
     * read of the file, so a file that is not a database fails here. */
    if ((rc = db_prepare(db, "PRAGMA journal_mode=WAL", &stmt, &local)))
        goto cleanup;
    src = sqlite3_step(stmt);
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "cannot enable WAL journal", &local);
        goto cleanup;
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (!in_memory && (!mode || strcmp(mode, "wal") != 0)) {
        rc = fw_error_set(&local, FW_EDB, "cannot enable WAL journal (got %s)",
                          mode ? mode : "nothing");
        goto cleanup;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;

    if ((rc = exec_const(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                         "cannot configure the connection", &local)))
        goto cleanup;
    *out = db;
    db = NULL;
cleanup:
    if (rc)
        fw_error_set(err, rc, "%s: %s", path, local.msg);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rc;
}

void db_close(sqlite3 *db)
{
    if (db)
        sqlite3_close(db);
}

/* --- transactions -------------------------------------------------------------------------- */

int db_tx_begin(sqlite3 *db, struct db_tx *tx, fw_error *err)
{
    tx->db = db;
    tx->open = 0;
    tx->savepoint = !sqlite3_get_autocommit(db);
    int rc = exec_const(db, tx->savepoint ? "SAVEPOINT fw_tx" : "BEGIN IMMEDIATE",
                        "starting a transaction", err);
    if (rc == 0)
        tx->open = 1;
    return rc;
}

int db_tx_commit(struct db_tx *tx, fw_error *err)
{
    if (!tx->open)
        return fw_error_set(err, FW_ECONFLICT, "no transaction to commit");
    int rc = exec_const(tx->db, tx->savepoint ? "RELEASE fw_tx" : "COMMIT",
                        "committing a transaction", err);
    if (rc == 0)
        tx->open = 0;
    return rc;
}

void db_tx_rollback(struct db_tx *tx)
{
    if (!tx || !tx->open)
        return;
    tx->open = 0;
    /* Errors are ignored: SQLite may already have rolled the transaction back itself (after
     * SQLITE_FULL, for instance), and there is nothing more a caller could do. */
    if (tx->savepoint)
        sqlite3_exec(tx->db, "ROLLBACK TO fw_tx; RELEASE fw_tx", NULL, NULL, NULL);
    else if (!sqlite3_get_autocommit(tx->db))
        sqlite3_exec(tx->db, "ROLLBACK", NULL, NULL, NULL);
}

int db_end_stray_transaction(sqlite3 *db)
{
    if (sqlite3_get_autocommit(db))
        return FW_OK;
    int rc = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc == SQLITE_OK && sqlite3_get_autocommit(db) ? FW_OK
                                                         : db_fail(db, rc, "rollback", NULL);
}

/* --- migrations ---------------------------------------------------------------------------- */

static const struct migration *find_migration(const struct migration *migrations, int count,
                                              int version)
{
    int lo = 0, hi = count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (migrations[mid].version == version)
            return &migrations[mid];
        if (migrations[mid].version < version)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Refuses a database that records a migration this binary does not have (or has under
 * another name): it was written by another fwpcast, and running on it could corrupt it. */
static int check_recorded(sqlite3 *db, const struct migration *migrations, int count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc =
        db_prepare(db, "SELECT version, name FROM schema_migrations ORDER BY version", &stmt, err);
    if (rc)
        return rc;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        int version = sqlite3_column_int(stmt, 0);
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        const struct migration *m = find_migration(migrations, count, version);
        int latest = count > 0 ? migrations[count - 1].version : 0;
        if (!m) {
            rc = fw_error_set(err, FW_EVERSION,
                              "the database has schema migration %d (%s), which this fwpcast "
                              "does not know (it knows up to %d): it was written by a newer "
                              "fwpcast; upgrade fwpcast or use another database",
                              version, name ? name : "?", latest);
            goto cleanup;
        }
        if (name && strcmp(name, m->name) != 0) {
            rc = fw_error_set(err, FW_EVERSION,
                              "the database records schema migration %d as '%s' but this "
                              "fwpcast's migration %d is '%s'",
                              version, name, version, m->name);
            goto cleanup;
        }
    }
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "reading schema_migrations", err);
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

static int is_applied(sqlite3 *db, int version, int *applied, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int(stmt, 1, version);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW || src == SQLITE_DONE)
        *applied = src == SQLITE_ROW;
    else
        rc = db_fail(db, src, "reading schema_migrations", err);
    sqlite3_finalize(stmt);
    return rc;
}

static int record_migration(sqlite3 *db, const struct migration *m, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc =
        db_prepare(db, "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int(stmt, 1, m->version);
    sqlite3_bind_text(stmt, 2, m->name, -1, SQLITE_STATIC);
    int src = sqlite3_step(stmt);
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "recording a migration", err);
    sqlite3_finalize(stmt);
    return rc;
}

static int apply_one(sqlite3 *db, const struct migration *migrations, int count,
                     const struct migration *m, int *did_apply, fw_error *err)
{
    int rc, applied = 0;
    if ((rc = exec_const(db, "BEGIN IMMEDIATE", "starting a migration", err)))
        return rc;
    /* Checked again under the write lock: another process may have migrated meanwhile. */
    if ((rc = check_recorded(db, migrations, count, err)))
        goto cleanup;
    if ((rc = is_applied(db, m->version, &applied, err)))
        goto cleanup;
    if (!applied) {
        char what[160];
        snprintf(what, sizeof what, "migration %s failed", m->name);
        if ((rc = exec_const(db, m->sql, what, err)))
            goto cleanup;
        if ((rc = record_migration(db, m, err)))
            goto cleanup;
    }
    if ((rc = exec_const(db, "COMMIT", "committing a migration", err)))
        goto cleanup;
    *did_apply = !applied;
cleanup:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int db_migrate_with(sqlite3 *db, const struct migration *migrations, int count, int *applied,
                    fw_error *err)
{
    int rc;
    for (int i = 0; i < count; i++) {
        if (migrations[i].version < 1 || !migrations[i].name || !migrations[i].sql ||
            (i > 0 && migrations[i].version <= migrations[i - 1].version))
            return fw_error_set(err, FW_EINVAL,
                                "migration table is not in strictly ascending version order "
                                "(entry %d, version %d)",
                                i, migrations[i].version);
    }
    if (!sqlite3_get_autocommit(db))
        return fw_error_set(err, FW_ECONFLICT, "migrations cannot run inside a transaction");

    if ((rc = exec_const(db,
                         "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY,"
                         " name TEXT NOT NULL,"
                         " applied_at TEXT NOT NULL"
                         "  DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))",
                         "creating schema_migrations", err)))
        return rc;
    /* Refuse before touching anything. */
    if ((rc = check_recorded(db, migrations, count, err)))
        return rc;

    int n_applied = 0;
    for (int i = 0; i < count; i++) {
        int did_apply = 0;
        if ((rc = apply_one(db, migrations, count, &migrations[i], &did_apply, err)))
            return rc;
        n_applied += did_apply;
    }
    if (applied)
        *applied = n_applied;
    return FW_OK;
}

int db_migrate(sqlite3 *db, int *applied, fw_error *err)
{
    return db_migrate_with(db, db_migrations, db_migration_count, applied, err);
}

int db_schema_version(sqlite3 *db, int *version, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "SELECT count(*) FROM sqlite_master"
                        " WHERE type = 'table' AND name = 'schema_migrations'",
                        &stmt, err);
    if (rc)
        return rc;
    int src = sqlite3_step(stmt);
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading the schema", err);
        goto cleanup;
    }
    int exists = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!exists) {
        *version = 0;
        return FW_OK;
    }
    if ((rc =
             db_prepare(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", &stmt, err)))
        return rc;
    src = sqlite3_step(stmt);
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading schema_migrations", err);
        goto cleanup;
    }
    *version = sqlite3_column_int(stmt, 0);
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}
