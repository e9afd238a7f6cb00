/*
 * db — opening the SQLite database, applying migrations, and small transaction helpers.
 *
 * One connection per thread: a sqlite3 handle from db_open() must only be used by the thread
 * that opened it (or handed over whole, never shared). Each connection is configured the same
 * way: WAL journal, busy_timeout 5000 ms, foreign keys on, synchronous=NORMAL.
 *
 * The caller owns the handle returned by db_open() and releases it with db_close(). Messages go
 * into the caller's fw_error (NULL allowed). All SQL issued by db/ is prepared with bound
 * parameters, except constant statements without parameters (PRAGMAs, migration scripts).
 */
#ifndef FW_DB_H
#define FW_DB_H

#include <sqlite3.h>

#include "db/migrations.h"
#include "base/error.h"

#define DB_BUSY_TIMEOUT_MS 5000

/* Opens (creating if needed) the database file at path, creating its parent directories first
 * (e.g. "var/" for the default "var/fwpcast.db"), and configures the connection as above.
 * ":memory:" opens a private in-memory database (its journal cannot be WAL). Does not migrate.
 * On success *out is a new connection owned by the caller. */
int db_open(const char *path, sqlite3 **out, fw_error *err);

/* Closes a connection; finalizes nothing for the caller (all statements must be finalized).
 * Accepts NULL. */
void db_close(sqlite3 *db);

/* Applies the migrations compiled into the binary (db_migrations) that the database lacks, in
 * version order, each in its own BEGIN IMMEDIATE transaction, and records each in
 * schema_migrations(version, name, applied_at). Refuses with FW_EVERSION, before changing
 * anything, a database that records a version this binary does not know (written by a newer
 * fwpcast). Must not be called inside a transaction. *applied (may be NULL) receives the number
 * of migrations applied by this call. */
int db_migrate(sqlite3 *db, int *applied, fw_error *err);

/* The same with an explicit table of migrations, which must be in strictly ascending version
 * order with versions >= 1 (FW_EINVAL otherwise). Used by db_migrate() and by tests. */
int db_migrate_with(sqlite3 *db, const struct migration *migrations, int count, int *applied,
                    fw_error *err);

/* The highest migration version recorded in the database (0 if none, or no schema yet). */
int db_schema_version(sqlite3 *db, int *version, fw_error *err);

/* A write transaction that composes: db_tx_begin() issues BEGIN IMMEDIATE when the connection
 * has no transaction open, and a SAVEPOINT inside a caller's transaction, so a store function
 * is atomic on its own and still part of an enclosing import or bootstrap. Pattern:
 *
 *     struct db_tx tx;
 *     if ((rc = db_tx_begin(db, &tx, err)) != 0) return rc;
 *     ... on error: goto cleanup ...
 *     rc = db_tx_commit(&tx, err);
 *   cleanup:
 *     db_tx_rollback(&tx);   // no-op once committed
 */
struct db_tx {
    sqlite3 *db;
    int savepoint; /* 1 if nested inside a caller's transaction */
    int open;      /* 1 until committed or rolled back */
};

int db_tx_begin(sqlite3 *db, struct db_tx *tx, fw_error *err);
int db_tx_commit(struct db_tx *tx, fw_error *err);
void db_tx_rollback(struct db_tx *tx);

/* A ROLLBACK can fail for want of memory (SQLite cannot prepare it), and then the connection
 * stays inside the transaction: the next db_tx_begin would nest in it as a savepoint, and
 * everything written afterwards would be lost when the connection closes. A caller that owns a
 * connection between units of work (a request, a job) calls this before each: it rolls back a
 * transaction left open. Returns 0 when the connection is outside any transaction, else an
 * error (the caller should then close the connection and open another). */
int db_end_stray_transaction(sqlite3 *db);

/* Prepares one statement (the whole of sql); on failure fills err with "what: <sqlite
 * message>" and returns a negative status. The caller finalizes *stmt. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, fw_error *err);

/* Turns a SQLite result code into an fw_status (SQLITE_NOMEM -> FW_ENOMEM, SQLITE_CONSTRAINT ->
 * FW_ECONFLICT, SQLITE_FULL -> FW_ENOSPC, SQLITE_NOTADB/CORRUPT -> FW_ECORRUPT, others ->
 * FW_EDB), fills err with "<what>: <sqlite message>" and returns the status. */
int db_fail(sqlite3 *db, int sqlite_rc, const char *what, fw_error *err);

#endif
