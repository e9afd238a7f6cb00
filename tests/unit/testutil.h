/*
 * testutil — helpers shared by the cmocka unit tests: temporary directories, the project root,
 * reading files, a temporary database. Everything returned is owned by the caller unless said
 * otherwise.
 */
#ifndef FW_TESTUTIL_H
#define FW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_mkdtemp(void);

/* Removes a directory tree made by tu_mkdtemp and frees the path. Accepts NULL. */
void tu_rmtree(char *path);

/* The project root: $FWPCAST_ROOT, else "." (tests run from the root). Borrowed. */
const char *tu_root(void);

/* root + "/" + rel, malloc'd. */
char *tu_path(const char *rel);

/* Reads a whole file; returns malloc'd bytes (NUL-terminated) and sets *len. NULL on error. */
char *tu_read_file(const char *path, size_t *len);

/* Writes len bytes to path; returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);

/* Relative difference |a-b| / max(|a|,|b|,floor). */
double tu_reldiff(double a, double b, double floor);

/* A temporary database, as a cmocka test's state: a fresh directory (tu_mkdtemp), the path of a
 * database file in it, and a connection to that file. All three are the fixture's own. */
struct tu_db {
    char *dir;
    char *path;  /* dir + "/" + the name given to the setup */
    sqlite3 *db; /* open and migrated by tu_db_setup(); NULL after tu_db_setup_path() */
};

/* For a cmocka setup function: *state becomes a new struct tu_db whose database is dir/rel (rel
 * may name subdirectories: db_open creates them), opened with db_open() and migrated with
 * db_migrate(). Fails the test if any step fails; returns 0. */
int tu_db_setup(void **state, const char *rel);

/* The same without opening the database (db stays NULL): for tests of db_open and migrations. */
int tu_db_setup_path(void **state, const char *rel);

/* A cmocka teardown function for either: closes whatever connection ->db holds, removes the
 * directory, frees the fixture. */
int tu_db_teardown(void **state);

/* The integer in the first column of the first row `sql` (no parameters) returns; fails the
 * test if it cannot be prepared or returns no row. */
long long tu_query_int(sqlite3 *db, const char *sql);

#endif
