/*
 * store_private — what the parts of the store (db/store_*.c) share, and nothing outside db/
 * includes: the timestamp expression, the row-existence queries, checks of names and text, and
 * the statement, column and binding helpers. The public API and its conventions are in
 * db/store.h; one file per table implements it:
 *
 *   store_common.c     these helpers, and store_check_name()
 *   store_datasets.c   datasets and dataset_points
 *   store_models.c     models
 *   store_jobs.c       jobs
 *   store_quantum.c    quantum_jobs (the provider work of a quantum job)
 *   store_forecasts.c  forecasts
 *
 * The helpers are prefixed st_. They borrow everything passed in; those that fail fill err
 * (when given) and return a negative fw_status, as the store functions do.
 */
#ifndef FW_STORE_PRIVATE_H
#define FW_STORE_PRIVATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "db/store.h"

/* The current time as stored in every timestamp column. */
#define SQL_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* For st_require_row(): one ?1 parameter, the id. */
#define SQL_DATASET_EXISTS "SELECT 1 FROM datasets WHERE id = ?1"
#define SQL_MODEL_EXISTS   "SELECT 1 FROM models WHERE id = ?1"
#define SQL_JOB_EXISTS     "SELECT 1 FROM jobs WHERE id = ?1"

/* --- checks --------------------------------------------------------------------------------- */

/* FW_EINVAL (naming `what`) unless name is 1..cap-1 bytes of UTF-8 without control characters. */
int st_check_name(const char *what, const char *name, size_t cap, fw_error *err);

/* The same for optional text: NULL passes, "" passes. */
int st_check_optional_text(const char *what, const char *text, size_t cap, fw_error *err);

/* A stored period ("YYYY-MM" or "YYYY") as a consecutive integer: a month index or a year;
 * FW_EINVAL if text is not a period of that frequency. */
int st_period_index(enum store_frequency frequency, const char *text, int *index);

/* --- reading columns ------------------------------------------------------------------------ */

/* A text column into dst (cap bytes, truncated), "" for SQL NULL. */
void st_copy_column(sqlite3_stmt *stmt, int col, char *dst, size_t cap);

/* A malloc'd copy of a text column, *out NULL for SQL NULL; FW_ENOMEM. */
int st_dup_column(sqlite3_stmt *stmt, int col, char **out);

/* A malloc'd copy of a blob column and its length, *out NULL for SQL NULL; FW_ENOMEM. */
int st_dup_blob_column(sqlite3_stmt *stmt, int col, unsigned char **out, size_t *len);

/* Doubles an array's capacity (from 16) when count has reached it; FW_ENOMEM. */
int st_grow(void **items, size_t *cap, size_t count, size_t item_size);

/* --- binding (SQLite result codes) ---------------------------------------------------------- */

/* text, or NULL when text is NULL (bound SQLITE_STATIC: it must outlive the step). */
int st_bind_opt_text(sqlite3_stmt *stmt, int idx, const char *text);
/* id, or NULL when id <= 0 ("none"). */
int st_bind_opt_id(sqlite3_stmt *stmt, int idx, int64_t id);
/* value, or NULL when it is NAN ("missing" or "unknown"). */
int st_bind_opt_double(sqlite3_stmt *stmt, int idx, double value);

/* --- statements ----------------------------------------------------------------------------- */

/* Steps a statement that returns no rows; db_fail() naming `what` unless it is done. */
int st_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, fw_error *err);

/* FW_ENOTFOUND ("<what> <id> not found") when `sql` (one of SQL_*_EXISTS) finds no row. */
int st_require_row(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err);

/* Runs a one-parameter DELETE/UPDATE by id (?1); FW_ENOTFOUND if it touched no row. */
int st_change_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err);

/* Runs an UPDATE setting one text column (?2, NULL allowed) of the row ?1 = id; FW_ENOTFOUND
 * naming `what` if there is no such row. */
int st_update_text_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id,
                         const char *text, fw_error *err);

#endif
