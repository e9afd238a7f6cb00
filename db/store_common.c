/*
 * store_common — the helpers the store's table files share (declared in db/store_private.h):
 * name and text checks, period indexes, column copies, optional bindings and the small
 * statement runners; and store_check_name(), the public form of the name rule (db/store.h).
 * Owns nothing: every helper borrows its arguments, and the copies it makes (st_dup_column,
 * st_dup_blob_column, st_grow) belong to the caller.
 */
#include "db/store_private.h"
#include "db/db.h"
#include "base/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 if s is valid UTF-8 of at most max_len bytes without control characters. */
static int text_ok(const char *s, size_t max_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = 0, n = strlen(s);
    while (len < n) {
        if (p[len] < 0x20 || p[len] == 0x7f)
            return 0;
        size_t step = utf8_sequence(p + len, n - len);
        if (!step)
            return 0;
        len += step;
    }
    return len <= max_len;
}

int st_check_name(const char *what, const char *name, size_t cap, fw_error *err)
{
    if (!name || !*name)
        return fw_error_set(err, FW_EINVAL, "%s must not be empty", what);
    if (!text_ok(name, cap - 1))
        return fw_error_set(err, FW_EINVAL,
                            "%s must be at most %zu bytes of UTF-8 without control characters",
                            what, cap - 1);
    return FW_OK;
}

int store_check_name(const char *what, const char *name, fw_error *err)
{
    return st_check_name(what, name, STORE_NAME_MAX, err);
}

int st_check_optional_text(const char *what, const char *text, size_t cap, fw_error *err)
{
    if (text && !text_ok(text, cap - 1))
        return fw_error_set(err, FW_EINVAL,
                            "%s must be at most %zu bytes of UTF-8 without control characters",
                            what, cap - 1);
    return FW_OK;
}

void st_copy_column(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    snprintf(dst, cap, "%s", text ? text : "");
}

/* A malloc'd copy of a text column, *out NULL for SQL NULL. */
int st_dup_column(sqlite3_stmt *stmt, int col, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return FW_OK;
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (!text)
        return FW_ENOMEM;
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    char *copy = malloc(len + 1);
    if (!copy)
        return FW_ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = copy;
    return FW_OK;
}

int st_dup_blob_column(sqlite3_stmt *stmt, int col, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return FW_OK;
    const void *blob = sqlite3_column_blob(stmt, col);
    size_t n = (size_t)sqlite3_column_bytes(stmt, col);
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy)
        return FW_ENOMEM;
    if (n)
        memcpy(copy, blob, n);
    *out = copy;
    *len = n;
    return FW_OK;
}

int st_bind_opt_text(sqlite3_stmt *stmt, int idx, const char *text)
{
    return text ? sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC)
                : sqlite3_bind_null(stmt, idx);
}

int st_bind_opt_id(sqlite3_stmt *stmt, int idx, int64_t id)
{
    return id > 0 ? sqlite3_bind_int64(stmt, idx, id) : sqlite3_bind_null(stmt, idx);
}

int st_bind_opt_double(sqlite3_stmt *stmt, int idx, double value)
{
    return isnan(value) ? sqlite3_bind_null(stmt, idx) : sqlite3_bind_double(stmt, idx, value);
}

/* Steps a statement that returns no rows. */
int st_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, fw_error *err)
{
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE)
        return FW_OK;
    return db_fail(db, src, what, err);
}

/* 1 in *exists if `sql` (one ?1 parameter) returns a row for id. */
static int row_exists(sqlite3 *db, const char *sql, int64_t id, int *exists, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW || src == SQLITE_DONE)
        *exists = src == SQLITE_ROW;
    else
        rc = db_fail(db, src, "looking up a row", err);
    sqlite3_finalize(stmt);
    return rc;
}

/* FW_ENOTFOUND with a message when no row of `table` has this id (table is a constant). */
int st_require_row(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err)
{
    int exists = 0;
    int rc = row_exists(db, sql, id, &exists, err);
    if (rc)
        return rc;
    if (!exists)
        return fw_error_set(err, FW_ENOTFOUND, "%s %lld not found", what, (long long)id);
    return FW_OK;
}

/* Doubles an array's capacity when full. */
int st_grow(void **items, size_t *cap, size_t count, size_t item_size)
{
    if (count < *cap)
        return FW_OK;
    size_t new_cap = *cap ? *cap * 2 : 16;
    if (new_cap > SIZE_MAX / item_size)
        return FW_ENOMEM;
    void *p = realloc(*items, new_cap * item_size);
    if (!p)
        return FW_ENOMEM;
    *items = p;
    *cap = new_cap;
    return FW_OK;
}

/* A stored period ("YYYY-MM" or "YYYY") as a consecutive integer: a month index or a year. */
int st_period_index(enum store_frequency frequency, const char *text, int *index)
{
    size_t len = strnlen(text, PERIOD_TEXT_MAX);
    if (frequency == STORE_FREQ_MONTH)
        return len == 7 ? period_parse_n(text, len, index) : FW_EINVAL;
    if (frequency != STORE_FREQ_YEAR || len != 4)
        return FW_EINVAL;
    int year = 0;
    for (size_t i = 0; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9')
            return FW_EINVAL;
        year = year * 10 + (text[i] - '0');
    }
    if (year < 1)
        return FW_EINVAL;
    *index = year;
    return FW_OK;
}

/* Runs a one-parameter DELETE/UPDATE by id; FW_ENOTFOUND if it touched no row. */
int st_change_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if ((rc = st_step_done(db, stmt, what, err)) == 0 && sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "%s: %lld not found", what, (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}

/* Sets one text column (NULL allowed) of the row `id`; FW_ENOTFOUND naming `what` if none. */
int st_update_text_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id,
                         const char *text, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if (st_bind_opt_text(stmt, 2, text))
        rc = db_fail(db, sqlite3_errcode(db), "binding text", err);
    else if ((rc = st_step_done(db, stmt, "updating a row", err)) == 0 && sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "%s %lld not found", what, (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}
