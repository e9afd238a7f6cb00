/* store — datasets, models, jobs and forecasts in SQLite (see store.h). */
#include "db/store.h"
#include "db/db.h"
#include "base/sha256.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The current time as stored in every timestamp column. */
#define SQL_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* --- small helpers -------------------------------------------------------------------------- */

/* 1 if s is valid UTF-8 of at most max_len bytes without control characters. */
static int text_ok(const char *s, size_t max_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = 0;
    while (p[len]) {
        unsigned char c = p[len];
        size_t extra;
        unsigned int cp;
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            len++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((p[len + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[len + k] & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        len += extra + 1;
    }
    return len <= max_len;
}

static int check_name(const char *what, const char *name, size_t cap, fw_error *err)
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
    return check_name(what, name, STORE_NAME_MAX, err);
}

static int check_optional_text(const char *what, const char *text, size_t cap, fw_error *err)
{
    if (text && !text_ok(text, cap - 1))
        return fw_error_set(err, FW_EINVAL,
                            "%s must be at most %zu bytes of UTF-8 without control characters",
                            what, cap - 1);
    return FW_OK;
}

static void copy_column(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    snprintf(dst, cap, "%s", text ? text : "");
}

/* A malloc'd copy of a text column, *out NULL for SQL NULL. */
static int dup_column(sqlite3_stmt *stmt, int col, char **out)
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

static int dup_blob_column(sqlite3_stmt *stmt, int col, unsigned char **out, size_t *len)
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

static int bind_opt_text(sqlite3_stmt *stmt, int idx, const char *text)
{
    return text ? sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC)
                : sqlite3_bind_null(stmt, idx);
}

static int bind_opt_id(sqlite3_stmt *stmt, int idx, int64_t id)
{
    return id > 0 ? sqlite3_bind_int64(stmt, idx, id) : sqlite3_bind_null(stmt, idx);
}

static int bind_opt_double(sqlite3_stmt *stmt, int idx, double value)
{
    return isnan(value) ? sqlite3_bind_null(stmt, idx) : sqlite3_bind_double(stmt, idx, value);
}

/* Steps a statement that returns no rows. */
static int step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, fw_error *err)
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
static int require_row(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err)
{
    int exists = 0;
    int rc = row_exists(db, sql, id, &exists, err);
    if (rc)
        return rc;
    if (!exists)
        return fw_error_set(err, FW_ENOTFOUND, "%s %lld not found", what, (long long)id);
    return FW_OK;
}

#define SQL_DATASET_EXISTS "SELECT 1 FROM datasets WHERE id = ?1"
#define SQL_MODEL_EXISTS   "SELECT 1 FROM models WHERE id = ?1"
#define SQL_JOB_EXISTS     "SELECT 1 FROM jobs WHERE id = ?1"

/* Doubles an array's capacity when full. */
static int grow(void **items, size_t *cap, size_t count, size_t item_size)
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

/* --- datasets ------------------------------------------------------------------------------- */

const char *store_frequency_name(enum store_frequency frequency)
{
    switch (frequency) {
    case STORE_FREQ_MONTH:
        return "month";
    case STORE_FREQ_YEAR:
        return "year";
    }
    return "?";
}

int store_frequency_parse(const char *text, enum store_frequency *frequency)
{
    if (text && strcmp(text, "month") == 0)
        *frequency = STORE_FREQ_MONTH;
    else if (text && strcmp(text, "year") == 0)
        *frequency = STORE_FREQ_YEAR;
    else
        return FW_EINVAL;
    return FW_OK;
}

/* A stored period ("YYYY-MM" or "YYYY") as a consecutive integer: a month index or a year. */
static int period_index(enum store_frequency frequency, const char *text, int *index)
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

void store_points_sha256(const struct store_point *points, size_t n_points,
                         char hex[SHA256_HEX_LEN])
{
    struct sha256_ctx ctx;
    unsigned char digest[SHA256_DIGEST_LEN];
    char line[PERIOD_TEXT_MAX + 40];
    sha256_init(&ctx);
    sha256_update(&ctx, "period,value\n", 13);
    for (size_t i = 0; i < n_points; i++) {
        int n =
            isnan(points[i].value)
                ? snprintf(line, sizeof line, "%.*s,NA\n", PERIOD_TEXT_MAX - 1, points[i].period)
                : snprintf(line, sizeof line, "%.*s,%.17g\n", PERIOD_TEXT_MAX - 1, points[i].period,
                           points[i].value);
        sha256_update(&ctx, line, (size_t)n);
    }
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
}

static int check_points(const struct store_dataset_new *ds, int64_t *missing, fw_error *err)
{
    int64_t n_missing = 0;
    int previous = 0;
    for (size_t i = 0; i < ds->n_points; i++) {
        const struct store_point *p = &ds->points[i];
        int index;
        if (memchr(p->period, '\0', PERIOD_TEXT_MAX) == NULL ||
            period_index(ds->frequency, p->period, &index))
            return fw_error_set(err, FW_EINVAL, "point %zu: period is not %s", i + 1,
                                ds->frequency == STORE_FREQ_MONTH ? "YYYY-MM" : "YYYY");
        if (i > 0 && index != previous + 1)
            return fw_error_set(err, FW_EINVAL,
                                "point %zu (%s): periods must be increasing and contiguous", i + 1,
                                p->period);
        previous = index;
        if (isnan(p->value))
            n_missing++;
        else if (!isfinite(p->value))
            return fw_error_set(err, FW_EINVAL, "point %zu (%s): value is not finite", i + 1,
                                p->period);
        if (!isnan(p->std) && !(isfinite(p->std) && p->std >= 0))
            return fw_error_set(err, FW_EINVAL, "point %zu (%s): std must be >= 0 or unknown",
                                i + 1, p->period);
        if (p->n_obs < -1)
            return fw_error_set(err, FW_EINVAL, "point %zu (%s): n_obs must be >= 0 or -1", i + 1,
                                p->period);
        if (p->provisional != 0 && p->provisional != 1)
            return fw_error_set(err, FW_EINVAL, "point %zu (%s): provisional must be 0 or 1", i + 1,
                                p->period);
    }
    *missing = n_missing;
    return FW_OK;
}

int store_dataset_create(sqlite3 *db, const struct store_dataset_new *ds, int64_t *id,
                         fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int64_t missing = 0;
    char sha[SHA256_HEX_LEN];
    int rc;

    if ((rc = check_name("dataset name", ds->name, STORE_NAME_MAX, err)) ||
        (rc = check_optional_text("dataset source", ds->source, STORE_SOURCE_MAX, err)) ||
        (rc = check_optional_text("dataset unit", ds->unit, STORE_UNIT_MAX, err)))
        return rc;
    if (ds->frequency != STORE_FREQ_MONTH && ds->frequency != STORE_FREQ_YEAR)
        return fw_error_set(err, FW_EINVAL, "dataset frequency must be month or year");
    if (ds->n_points == 0 || !ds->points)
        return fw_error_set(err, FW_EINVAL, "a dataset needs at least one point");
    if (ds->n_points > INT64_MAX / 2)
        return fw_error_set(err, FW_ETOOBIG, "too many points");
    if ((rc = check_points(ds, &missing, err)))
        return rc;
    store_points_sha256(ds->points, ds->n_points, sha);

    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    int64_t existing;
    fw_error find_err;
    rc = store_dataset_find(db, ds->name, &existing, &find_err);
    if (rc == FW_OK) {
        rc = fw_error_set(err, FW_ECONFLICT, "a dataset named '%s' already exists (id %lld)",
                          ds->name, (long long)existing);
        goto cleanup;
    } else if (rc != FW_ENOTFOUND) {
        if (err)
            *err = find_err;
        goto cleanup;
    }
    rc = FW_OK;

    if ((rc = db_prepare(db,
                         "INSERT INTO datasets (name, source, frequency, unit, first_period,"
                         " last_period, row_count, missing_count, sha256)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                         &stmt, err)))
        goto cleanup;
    if (sqlite3_bind_text(stmt, 1, ds->name, -1, SQLITE_STATIC) ||
        bind_opt_text(stmt, 2, ds->source) ||
        sqlite3_bind_text(stmt, 3, store_frequency_name(ds->frequency), -1, SQLITE_STATIC) ||
        bind_opt_text(stmt, 4, ds->unit) ||
        sqlite3_bind_text(stmt, 5, ds->points[0].period, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 6, ds->points[ds->n_points - 1].period, -1, SQLITE_STATIC) ||
        sqlite3_bind_int64(stmt, 7, (sqlite3_int64)ds->n_points) ||
        sqlite3_bind_int64(stmt, 8, missing) ||
        sqlite3_bind_text(stmt, 9, sha, -1, SQLITE_STATIC)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding dataset values", err);
        goto cleanup;
    }
    if ((rc = step_done(db, stmt, "inserting a dataset", err)))
        goto cleanup;
    int64_t new_id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(stmt);
    stmt = NULL;

    if ((rc = db_prepare(db,
                         "INSERT INTO dataset_points (dataset_id, period, value, std, n_obs,"
                         " provisional) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         &stmt, err)))
        goto cleanup;
    for (size_t i = 0; i < ds->n_points; i++) {
        const struct store_point *p = &ds->points[i];
        if (sqlite3_bind_int64(stmt, 1, new_id) ||
            sqlite3_bind_text(stmt, 2, p->period, -1, SQLITE_STATIC) ||
            bind_opt_double(stmt, 3, p->value) || bind_opt_double(stmt, 4, p->std) ||
            (p->n_obs >= 0 ? sqlite3_bind_int(stmt, 5, p->n_obs) : sqlite3_bind_null(stmt, 5)) ||
            sqlite3_bind_int(stmt, 6, p->provisional)) {
            rc = db_fail(db, sqlite3_errcode(db), "binding a point", err);
            goto cleanup;
        }
        if ((rc = step_done(db, stmt, "inserting a point", err)))
            goto cleanup;
        sqlite3_reset(stmt);
    }
    if ((rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

#define DATASET_COLUMNS                                                                            \
    "id, name, source, frequency, unit, first_period, last_period, row_count, missing_count,"      \
    " sha256, created_at"

static int read_dataset_meta(sqlite3_stmt *stmt, struct store_dataset_meta *meta, fw_error *err)
{
    memset(meta, 0, sizeof *meta);
    meta->id = sqlite3_column_int64(stmt, 0);
    copy_column(stmt, 1, meta->name, sizeof meta->name);
    copy_column(stmt, 2, meta->source, sizeof meta->source);
    if (store_frequency_parse((const char *)sqlite3_column_text(stmt, 3), &meta->frequency))
        return fw_error_set(err, FW_ECORRUPT, "dataset %lld has an unknown frequency",
                            (long long)meta->id);
    copy_column(stmt, 4, meta->unit, sizeof meta->unit);
    copy_column(stmt, 5, meta->first_period, sizeof meta->first_period);
    copy_column(stmt, 6, meta->last_period, sizeof meta->last_period);
    meta->row_count = sqlite3_column_int64(stmt, 7);
    meta->missing_count = sqlite3_column_int64(stmt, 8);
    copy_column(stmt, 9, meta->sha256, sizeof meta->sha256);
    copy_column(stmt, 10, meta->created_at, sizeof meta->created_at);
    return FW_OK;
}

int store_dataset_list(sqlite3 *db, struct store_dataset_meta **items, size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_dataset_meta *list = NULL;
    size_t n = 0, cap = 0;
    int rc, src;
    if ((rc = db_prepare(db, "SELECT " DATASET_COLUMNS " FROM datasets ORDER BY id", &stmt, err)))
        return rc;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (grow((void **)&list, &cap, n, sizeof *list)) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory listing datasets");
            goto cleanup;
        }
        if ((rc = read_dataset_meta(stmt, &list[n], err)))
            goto cleanup;
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "listing datasets", err);
        goto cleanup;
    }
    *items = list;
    *count = n;
    list = NULL;
cleanup:
    free(list);
    sqlite3_finalize(stmt);
    return rc;
}

int store_dataset_get_meta(sqlite3 *db, int64_t id, struct store_dataset_meta *meta, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_dataset_meta result;
    int rc;
    if ((rc = db_prepare(db, "SELECT " DATASET_COLUMNS " FROM datasets WHERE id = ?1", &stmt, err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "dataset %lld not found", (long long)id);
    else if (src != SQLITE_ROW)
        rc = db_fail(db, src, "reading a dataset", err);
    else if ((rc = read_dataset_meta(stmt, &result, err)) == 0)
        *meta = result;
    sqlite3_finalize(stmt);
    return rc;
}

/* A range bound in the stored form for the dataset's frequency. */
static int range_bound(enum store_frequency frequency, const char *text, const char *which,
                       char out[PERIOD_TEXT_MAX], fw_error *err)
{
    int index;
    if (frequency == STORE_FREQ_MONTH) {
        if (period_parse(text, &index) == 0) {
            period_format(index, out);
            return FW_OK;
        }
    } else if (period_index(frequency, text, &index) == 0) {
        snprintf(out, PERIOD_TEXT_MAX, "%04d", index);
        return FW_OK;
    }
    return fw_error_set(err, FW_EINVAL, "'%s' is not a valid %s period (expected %s)", text, which,
                        frequency == STORE_FREQ_MONTH ? "YYYY-MM" : "YYYY");
}

int store_dataset_get(sqlite3 *db, int64_t id, const char *from, const char *to,
                      struct store_dataset **out, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_dataset *ds = calloc(1, sizeof *ds);
    char from_text[PERIOD_TEXT_MAX], to_text[PERIOD_TEXT_MAX];
    size_t cap = 0;
    int rc, src;
    if (!ds)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    if ((rc = store_dataset_get_meta(db, id, &ds->meta, err)))
        goto cleanup;
    if ((from && (rc = range_bound(ds->meta.frequency, from, "from", from_text, err))) ||
        (to && (rc = range_bound(ds->meta.frequency, to, "to", to_text, err))))
        goto cleanup;
    if (from && to && strcmp(from_text, to_text) > 0) {
        rc = fw_error_set(err, FW_EINVAL, "the range %s..%s is empty: from is after to", from_text,
                          to_text);
        goto cleanup;
    }
    if ((rc = db_prepare(db,
                         "SELECT period, value, std, n_obs, provisional FROM dataset_points"
                         " WHERE dataset_id = ?1 AND (?2 IS NULL OR period >= ?2)"
                         " AND (?3 IS NULL OR period <= ?3) ORDER BY period",
                         &stmt, err)))
        goto cleanup;
    sqlite3_bind_int64(stmt, 1, id);
    if (bind_opt_text(stmt, 2, from ? from_text : NULL) ||
        bind_opt_text(stmt, 3, to ? to_text : NULL)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding a range", err);
        goto cleanup;
    }
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (grow((void **)&ds->points, &cap, ds->n_points, sizeof *ds->points)) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory reading points");
            goto cleanup;
        }
        struct store_point *p = &ds->points[ds->n_points++];
        copy_column(stmt, 0, p->period, sizeof p->period);
        p->value =
            sqlite3_column_type(stmt, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, 1);
        p->std = sqlite3_column_type(stmt, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, 2);
        p->n_obs = sqlite3_column_type(stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 3);
        p->provisional = sqlite3_column_int(stmt, 4) != 0;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "reading points", err);
        goto cleanup;
    }
    *out = ds;
    ds = NULL;
cleanup:
    sqlite3_finalize(stmt);
    store_dataset_free(ds);
    return rc;
}

void store_dataset_free(struct store_dataset *dataset)
{
    if (!dataset)
        return;
    free(dataset->points);
    free(dataset);
}

int store_dataset_find(sqlite3 *db, const char *name, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if (!name)
        return fw_error_set(err, FW_EINVAL, "no dataset name given");
    if ((rc = db_prepare(db, "SELECT id FROM datasets WHERE name = ?1", &stmt, err)))
        return rc;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    else if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "no dataset named '%s'", name);
    else
        rc = db_fail(db, src, "looking up a dataset", err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_dataset_count(sqlite3 *db, int64_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT count(*) FROM datasets", &stmt, err);
    if (rc)
        return rc;
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    else
        rc = db_fail(db, src, "counting datasets", err);
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs a one-parameter DELETE/UPDATE by id; FW_ENOTFOUND if it touched no row. */
static int change_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if ((rc = step_done(db, stmt, what, err)) == 0 && sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "%s: %lld not found", what, (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}

int store_dataset_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return change_by_id(db, "DELETE FROM datasets WHERE id = ?1", "deleting dataset", id, err);
}

/* --- models --------------------------------------------------------------------------------- */

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

static int check_model(const struct store_model_new *m, fw_error *err)
{
    int rc, index;
    if ((rc = check_name("model name", m->name, STORE_NAME_MAX, err)) ||
        (rc = check_name("model architecture", m->architecture, STORE_ARCH_MAX, err)) ||
        (rc = check_optional_text("model protocol", m->protocol, STORE_PROTOCOL_MAX, err)))
        return rc;
    if (m->data_sha256 && !is_hex64(m->data_sha256))
        return fw_error_set(err, FW_EINVAL, "data_sha256 must be 64 lower-case hex digits");
    if (m->cutoff && period_index(STORE_FREQ_MONTH, m->cutoff, &index) &&
        period_index(STORE_FREQ_YEAR, m->cutoff, &index))
        return fw_error_set(err, FW_EINVAL, "model cutoff must be a period YYYY-MM or YYYY");
    if (m->parameters < 0 || m->format_version < 0 || m->dataset_id < 0)
        return fw_error_set(err, FW_EINVAL,
                            "model parameters, format version and dataset id "
                            "must not be negative");
    if (!m->weights || m->weights_len == 0)
        return fw_error_set(err, FW_EINVAL, "a model needs its weights");
    return FW_OK;
}

int store_model_insert(sqlite3 *db, const struct store_model_new *m, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = check_model(m, err)))
        return rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if (m->dataset_id > 0 &&
        (rc = require_row(db, SQL_DATASET_EXISTS, "dataset", m->dataset_id, err)))
        goto cleanup;
    if (m->is_default &&
        (rc = db_prepare(db, "UPDATE models SET is_default = 0 WHERE is_default = 1", &stmt,
                         err)) == 0) {
        rc = step_done(db, stmt, "clearing the default model", err);
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (rc)
        goto cleanup;
    if ((rc = db_prepare(db,
                         "INSERT INTO models (name, architecture, config_json, parameters, seed,"
                         " dataset_id, data_sha256, cutoff, protocol, format_version, weights,"
                         " metrics_json, is_default)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                         &stmt, err)))
        goto cleanup;
    /* The seed's 64 bits are kept as SQLite's signed integer and read back unchanged. */
    if (sqlite3_bind_text(stmt, 1, m->name, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 2, m->architecture, -1, SQLITE_STATIC) ||
        bind_opt_text(stmt, 3, m->config_json) || sqlite3_bind_int64(stmt, 4, m->parameters) ||
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)m->seed) ||
        bind_opt_id(stmt, 6, m->dataset_id) || bind_opt_text(stmt, 7, m->data_sha256) ||
        bind_opt_text(stmt, 8, m->cutoff) || bind_opt_text(stmt, 9, m->protocol) ||
        sqlite3_bind_int(stmt, 10, m->format_version) ||
        sqlite3_bind_blob64(stmt, 11, m->weights, m->weights_len, SQLITE_STATIC) ||
        bind_opt_text(stmt, 12, m->metrics_json) ||
        sqlite3_bind_int(stmt, 13, m->is_default ? 1 : 0)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding model values", err);
        goto cleanup;
    }
    if ((rc = step_done(db, stmt, "inserting a model", err)))
        goto cleanup;
    int64_t new_id = sqlite3_last_insert_rowid(db);
    if ((rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

#define MODEL_COLUMNS                                                                              \
    "id, name, architecture, config_json, parameters, seed, dataset_id, data_sha256, cutoff,"      \
    " protocol, format_version, length(weights), metrics_json, is_default, created_at"
#define MODEL_WEIGHTS_COLUMN 15

static void model_clear(struct store_model *m)
{
    free(m->config_json);
    free(m->weights);
    free(m->metrics_json);
    memset(m, 0, sizeof *m);
}

static int read_model(sqlite3_stmt *stmt, int with_weights, struct store_model *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(stmt, 0);
    copy_column(stmt, 1, m->name, sizeof m->name);
    copy_column(stmt, 2, m->architecture, sizeof m->architecture);
    m->parameters = sqlite3_column_int64(stmt, 4);
    m->seed = (uint64_t)sqlite3_column_int64(stmt, 5);
    m->dataset_id = sqlite3_column_int64(stmt, 6);
    copy_column(stmt, 7, m->data_sha256, sizeof m->data_sha256);
    copy_column(stmt, 8, m->cutoff, sizeof m->cutoff);
    copy_column(stmt, 9, m->protocol, sizeof m->protocol);
    m->format_version = sqlite3_column_int(stmt, 10);
    m->weights_len = (size_t)sqlite3_column_int64(stmt, 11);
    m->is_default = sqlite3_column_int(stmt, 13);
    copy_column(stmt, 14, m->created_at, sizeof m->created_at);
    if (dup_column(stmt, 3, &m->config_json) || dup_column(stmt, 12, &m->metrics_json) ||
        (with_weights &&
         dup_blob_column(stmt, MODEL_WEIGHTS_COLUMN, &m->weights, &m->weights_len))) {
        model_clear(m);
        return FW_ENOMEM;
    }
    return FW_OK;
}

/* One model chosen by `sql` (SELECT MODEL_COLUMNS, weights ... with an optional ?1 id). */
static int get_model(sqlite3 *db, const char *sql, int64_t id, const char *not_found,
                     struct store_model **out, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_model *m = NULL;
    int rc;
    if ((rc = db_prepare(db, sql, &stmt, err)))
        return rc;
    if (id > 0)
        sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE) {
        rc = id > 0 ? fw_error_set(err, FW_ENOTFOUND, "model %lld not found", (long long)id)
                    : fw_error_set(err, FW_ENOTFOUND, "%s", not_found);
        goto cleanup;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading a model", err);
        goto cleanup;
    }
    if (!(m = malloc(sizeof *m)) || read_model(stmt, 1, m)) {
        free(m);
        rc = fw_error_set(err, FW_ENOMEM, "out of memory reading a model");
        goto cleanup;
    }
    *out = m;
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_get(sqlite3 *db, int64_t id, struct store_model **out, fw_error *err)
{
    if (id <= 0)
        return fw_error_set(err, FW_ENOTFOUND, "model %lld not found", (long long)id);
    return get_model(db, "SELECT " MODEL_COLUMNS ", weights FROM models WHERE id = ?1", id, NULL,
                     out, err);
}

int store_model_get_default(sqlite3 *db, struct store_model **out, fw_error *err)
{
    return get_model(db, "SELECT " MODEL_COLUMNS ", weights FROM models WHERE is_default = 1", 0,
                     "no default model is set", out, err);
}

int store_model_default_id(sqlite3 *db, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT id FROM models WHERE is_default = 1", &stmt, err);
    if (rc)
        return rc;
    int src = sqlite3_step(stmt);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    else if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "no default model is set");
    else
        rc = db_fail(db, src, "finding the default model", err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_count_by_state(sqlite3 *db, int64_t counts[8], fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT state, count(*) FROM jobs GROUP BY state", &stmt, err);
    if (rc)
        return rc;
    for (int i = 0; i < 8; i++)
        counts[i] = 0;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum store_job_state state;
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        if (name && store_job_state_parse(name, &state) == FW_OK && state >= 0 && state < 8)
            counts[state] = sqlite3_column_int64(stmt, 1);
    }
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "counting jobs", err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_list(sqlite3 *db, struct store_model **items, size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_model *list = NULL;
    size_t n = 0, cap = 0;
    int rc, src;
    if ((rc = db_prepare(db, "SELECT " MODEL_COLUMNS " FROM models ORDER BY id", &stmt, err)))
        return rc;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (grow((void **)&list, &cap, n, sizeof *list) || read_model(stmt, 0, &list[n])) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory listing models");
            goto cleanup;
        }
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "listing models", err);
        goto cleanup;
    }
    *items = list;
    *count = n;
    list = NULL;
    n = 0;
cleanup:
    store_model_list_free(list, n);
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_set_default(sqlite3 *db, int64_t id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = require_row(db, SQL_MODEL_EXISTS, "model", id, err)))
        goto cleanup;
    if ((rc =
             db_prepare(db, "UPDATE models SET is_default = 0 WHERE is_default = 1", &stmt, err)) ||
        (rc = step_done(db, stmt, "clearing the default model", err)))
        goto cleanup;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if ((rc = change_by_id(db, "UPDATE models SET is_default = 1 WHERE id = ?1",
                           "setting the default model", id, err)) ||
        (rc = db_tx_commit(&tx, err)))
        goto cleanup;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

/* Sets one text column (NULL allowed) of the row `id`; FW_ENOTFOUND naming `what` if none. */
static int update_text_by_id(sqlite3 *db, const char *sql, const char *what, int64_t id,
                             const char *text, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if (bind_opt_text(stmt, 2, text))
        rc = db_fail(db, sqlite3_errcode(db), "binding text", err);
    else if ((rc = step_done(db, stmt, "updating a row", err)) == 0 && sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "%s %lld not found", what, (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}

int store_model_set_metrics(sqlite3 *db, int64_t id, const char *metrics_json, fw_error *err)
{
    return update_text_by_id(db, "UPDATE models SET metrics_json = ?2 WHERE id = ?1", "model", id,
                             metrics_json, err);
}

int store_model_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return change_by_id(db, "DELETE FROM models WHERE id = ?1", "deleting model", id, err);
}

void store_model_free(struct store_model *model)
{
    if (!model)
        return;
    model_clear(model);
    free(model);
}

void store_model_list_free(struct store_model *items, size_t count)
{
    if (!items)
        return;
    for (size_t i = 0; i < count; i++)
        model_clear(&items[i]);
    free(items);
}

/* --- jobs ----------------------------------------------------------------------------------- */

static const char *const job_kind_names[] = {NULL, "train", "backtest", "quantum"};
static const char *const job_state_names[] = {NULL,     "queued",    "running",    "succeeded",
                                              "failed", "cancelled", "interrupted"};
#define N_KINDS  (int)(sizeof job_kind_names / sizeof job_kind_names[0])
#define N_STATES (int)(sizeof job_state_names / sizeof job_state_names[0])

const char *store_job_kind_name(enum store_job_kind kind)
{
    return (int)kind > 0 && (int)kind < N_KINDS ? job_kind_names[kind] : "?";
}

int store_job_kind_parse(const char *text, enum store_job_kind *kind)
{
    for (int i = 1; text && i < N_KINDS; i++)
        if (strcmp(text, job_kind_names[i]) == 0) {
            *kind = (enum store_job_kind)i;
            return FW_OK;
        }
    return FW_EINVAL;
}

const char *store_job_state_name(enum store_job_state state)
{
    return (int)state > 0 && (int)state < N_STATES ? job_state_names[state] : "?";
}

int store_job_state_parse(const char *text, enum store_job_state *state)
{
    for (int i = 1; text && i < N_STATES; i++)
        if (strcmp(text, job_state_names[i]) == 0) {
            *state = (enum store_job_state)i;
            return FW_OK;
        }
    return FW_EINVAL;
}

int store_job_state_is_final(enum store_job_state state)
{
    return state == STORE_JOB_SUCCEEDED || state == STORE_JOB_FAILED ||
           state == STORE_JOB_CANCELLED;
}

/* The states a job may move to each state from (0-terminated). */
static const enum store_job_state job_predecessors[][4] = {
    [STORE_JOB_QUEUED] = {STORE_JOB_INTERRUPTED},
    [STORE_JOB_RUNNING] = {STORE_JOB_QUEUED, STORE_JOB_INTERRUPTED},
    [STORE_JOB_SUCCEEDED] = {STORE_JOB_RUNNING},
    [STORE_JOB_FAILED] = {STORE_JOB_QUEUED, STORE_JOB_RUNNING, STORE_JOB_INTERRUPTED},
    [STORE_JOB_CANCELLED] = {STORE_JOB_QUEUED, STORE_JOB_RUNNING, STORE_JOB_INTERRUPTED},
    [STORE_JOB_INTERRUPTED] = {STORE_JOB_RUNNING},
};

int store_job_create(sqlite3 *db, enum store_job_kind kind, const char *request_json, int epochs,
                     int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if ((int)kind <= 0 || (int)kind >= N_KINDS)
        return fw_error_set(err, FW_EINVAL, "unknown job kind %d", (int)kind);
    if (epochs < 0)
        return fw_error_set(err, FW_EINVAL, "epochs must not be negative");
    if ((rc = db_prepare(db, "INSERT INTO jobs (kind, request_json, epochs) VALUES (?1, ?2, ?3)",
                         &stmt, err)))
        return rc;
    if (sqlite3_bind_text(stmt, 1, job_kind_names[kind], -1, SQLITE_STATIC) ||
        bind_opt_text(stmt, 2, request_json) || sqlite3_bind_int(stmt, 3, epochs))
        rc = db_fail(db, sqlite3_errcode(db), "binding job values", err);
    else if ((rc = step_done(db, stmt, "creating a job", err)) == 0)
        *id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(stmt);
    return rc;
}

#define JOB_COLUMNS                                                                                \
    "id, kind, state, request_json, progress, epoch, epochs, eta_seconds, loss_curve_json,"        \
    " error, model_id, length(checkpoint), created_at, started_at, finished_at, updated_at,"       \
    " result_json"
#define JOB_CHECKPOINT_COLUMN 17

static void job_clear(struct store_job *job)
{
    free(job->request_json);
    free(job->loss_curve_json);
    free(job->error);
    free(job->result_json);
    free(job->checkpoint);
    memset(job, 0, sizeof *job);
}

static int read_job(sqlite3_stmt *stmt, int with_checkpoint, struct store_job *job, fw_error *err)
{
    memset(job, 0, sizeof *job);
    job->id = sqlite3_column_int64(stmt, 0);
    if (store_job_kind_parse((const char *)sqlite3_column_text(stmt, 1), &job->kind) ||
        store_job_state_parse((const char *)sqlite3_column_text(stmt, 2), &job->state))
        return fw_error_set(err, FW_ECORRUPT, "job %lld has an unknown kind or state",
                            (long long)job->id);
    job->progress = sqlite3_column_double(stmt, 4);
    job->epoch = sqlite3_column_int(stmt, 5);
    job->epochs = sqlite3_column_int(stmt, 6);
    job->eta_seconds =
        sqlite3_column_type(stmt, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, 7);
    job->model_id = sqlite3_column_int64(stmt, 10);
    job->checkpoint_len = (size_t)sqlite3_column_int64(stmt, 11);
    copy_column(stmt, 12, job->created_at, sizeof job->created_at);
    copy_column(stmt, 13, job->started_at, sizeof job->started_at);
    copy_column(stmt, 14, job->finished_at, sizeof job->finished_at);
    copy_column(stmt, 15, job->updated_at, sizeof job->updated_at);
    if (dup_column(stmt, 3, &job->request_json) || dup_column(stmt, 8, &job->loss_curve_json) ||
        dup_column(stmt, 9, &job->error) || dup_column(stmt, 16, &job->result_json) ||
        (with_checkpoint &&
         dup_blob_column(stmt, JOB_CHECKPOINT_COLUMN, &job->checkpoint, &job->checkpoint_len))) {
        job_clear(job);
        return fw_error_set(err, FW_ENOMEM, "out of memory reading a job");
    }
    return FW_OK;
}

int store_job_get(sqlite3 *db, int64_t id, struct store_job **out, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_job *job = NULL;
    int rc;
    if ((rc = db_prepare(db, "SELECT " JOB_COLUMNS ", checkpoint FROM jobs WHERE id = ?1", &stmt,
                         err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE) {
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
        goto cleanup;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(db, src, "reading a job", err);
        goto cleanup;
    }
    if (!(job = malloc(sizeof *job))) {
        rc = fw_error_set(err, FW_ENOMEM, "out of memory reading a job");
        goto cleanup;
    }
    if ((rc = read_job(stmt, 1, job, err))) {
        free(job);
        goto cleanup;
    }
    *out = job;
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_list(sqlite3 *db, int state, struct store_job **items, size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct store_job *list = NULL;
    size_t n = 0, cap = 0;
    int rc, src;
    if (state < 0 || state >= N_STATES)
        return fw_error_set(err, FW_EINVAL, "unknown job state %d", state);
    if ((rc = db_prepare(db,
                         "SELECT " JOB_COLUMNS " FROM jobs WHERE ?1 IS NULL OR state = ?1"
                         " ORDER BY id",
                         &stmt, err)))
        return rc;
    bind_opt_text(stmt, 1, state ? job_state_names[state] : NULL);
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (grow((void **)&list, &cap, n, sizeof *list)) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory listing jobs");
            goto cleanup;
        }
        if ((rc = read_job(stmt, 0, &list[n], err)))
            goto cleanup;
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(db, src, "listing jobs", err);
        goto cleanup;
    }
    *items = list;
    *count = n;
    list = NULL;
    n = 0;
cleanup:
    store_job_list_free(list, n);
    sqlite3_finalize(stmt);
    return rc;
}

/* After an UPDATE of a job that touched no row: why not. */
static int job_unchanged(sqlite3 *db, int64_t id, enum store_job_state wanted, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    enum store_job_state current;
    int rc = db_prepare(db, "SELECT state FROM jobs WHERE id = ?1", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_DONE)
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
    else if (src != SQLITE_ROW)
        rc = db_fail(db, src, "reading a job", err);
    else if (store_job_state_parse((const char *)sqlite3_column_text(stmt, 0), &current))
        rc = fw_error_set(err, FW_ECORRUPT, "job %lld has an unknown state", (long long)id);
    else if (wanted == STORE_JOB_RUNNING && current == STORE_JOB_CANCELLED)
        rc = fw_error_set(err, FW_ECANCELLED, "job %lld was cancelled", (long long)id);
    else
        rc = fw_error_set(err, FW_ECONFLICT, "job %lld is %s; it cannot become %s", (long long)id,
                          job_state_names[current], job_state_names[wanted]);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_state(sqlite3 *db, int64_t id, enum store_job_state state, const char *error,
                        fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if ((int)state <= 0 || (int)state >= N_STATES)
        return fw_error_set(err, FW_EINVAL, "unknown job state %d", (int)state);
    if ((rc = db_prepare(
             db,
             "UPDATE jobs SET state = ?2,"
             " started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, " SQL_NOW ")"
             "   ELSE started_at END,"
             " finished_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'cancelled') THEN " SQL_NOW
             "   ELSE NULL END,"
             " error = CASE WHEN ?3 IS NOT NULL THEN ?3"
             "   WHEN ?2 IN ('queued', 'running') THEN NULL ELSE error END,"
             " updated_at = " SQL_NOW " WHERE id = ?1 AND state IN (?4, ?5, ?6, ?7)",
             &stmt, err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int bad = sqlite3_bind_text(stmt, 2, job_state_names[state], -1, SQLITE_STATIC) ||
              bind_opt_text(stmt, 3, error);
    for (int i = 0; i < 4; i++) {
        enum store_job_state from = job_predecessors[state][i];
        bad = bad || bind_opt_text(stmt, 4 + i, from ? job_state_names[from] : NULL);
    }
    if (bad)
        rc = db_fail(db, sqlite3_errcode(db), "binding job state", err);
    else if ((rc = step_done(db, stmt, "updating a job", err)) == 0 && sqlite3_changes(db) == 0)
        rc = job_unchanged(db, id, state, err);
    if (rc == FW_ECANCELLED) /* only progress updates report cancellation */
        rc = fw_error_set(err, FW_ECONFLICT, "job %lld is cancelled; it cannot become %s",
                          (long long)id, job_state_names[state]);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_claim_next(sqlite3 *db, int64_t *id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "UPDATE jobs SET state = 'running', error = NULL,"
                        " started_at = coalesce(started_at, " SQL_NOW "), updated_at = " SQL_NOW
                        " WHERE id = (SELECT id FROM jobs WHERE state = 'queued'"
                        " ORDER BY id LIMIT 1) RETURNING id",
                        &stmt, err);
    if (rc)
        return rc;
    int64_t claimed = 0;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW)
        claimed = sqlite3_column_int64(stmt, 0);
    if (src != SQLITE_DONE)
        rc = db_fail(db, src, "claiming a job", err);
    else if (claimed == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "no job is queued");
    else
        *id = claimed;
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_update_progress(sqlite3 *db, int64_t id, const struct store_job_progress *p,
                              fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;
    if (!(p->progress >= 0 && p->progress <= 1))
        return fw_error_set(err, FW_EINVAL, "job progress must be between 0 and 1");
    if (p->epoch < 0)
        return fw_error_set(err, FW_EINVAL, "job epoch must not be negative");
    if (!isnan(p->eta_seconds) && !(p->eta_seconds >= 0 && isfinite(p->eta_seconds)))
        return fw_error_set(err, FW_EINVAL, "job ETA must be >= 0 seconds or unknown");
    if ((rc = db_prepare(db,
                         "UPDATE jobs SET progress = ?2, epoch = ?3, eta_seconds = ?4,"
                         " loss_curve_json = coalesce(?5, loss_curve_json),"
                         " updated_at = " SQL_NOW " WHERE id = ?1 AND state = 'running'",
                         &stmt, err)))
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    if (sqlite3_bind_double(stmt, 2, p->progress) || sqlite3_bind_int(stmt, 3, p->epoch) ||
        bind_opt_double(stmt, 4, p->eta_seconds) || bind_opt_text(stmt, 5, p->loss_curve_json))
        rc = db_fail(db, sqlite3_errcode(db), "binding job progress", err);
    else if ((rc = step_done(db, stmt, "updating job progress", err)) == 0 &&
             sqlite3_changes(db) == 0)
        rc = job_unchanged(db, id, STORE_JOB_RUNNING, err);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_checkpoint(sqlite3 *db, int64_t id, const void *checkpoint, size_t len,
                             fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(
        db, "UPDATE jobs SET checkpoint = ?2, updated_at = " SQL_NOW " WHERE id = ?1", &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, id);
    int bad = checkpoint && len ? sqlite3_bind_blob64(stmt, 2, checkpoint, len, SQLITE_STATIC)
                                : sqlite3_bind_null(stmt, 2);
    if (bad)
        rc = db_fail(db, sqlite3_errcode(db), "binding a checkpoint", err);
    else if ((rc = step_done(db, stmt, "storing a checkpoint", err)) == 0 &&
             sqlite3_changes(db) == 0)
        rc = fw_error_set(err, FW_ENOTFOUND, "job %lld not found", (long long)id);
    sqlite3_finalize(stmt);
    return rc;
}

int store_job_set_model(sqlite3 *db, int64_t id, int64_t model_id, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = require_row(db, SQL_MODEL_EXISTS, "model", model_id, err)) ||
        (rc = require_row(db, SQL_JOB_EXISTS, "job", id, err)) ||
        (rc =
             db_prepare(db, "UPDATE jobs SET model_id = ?2, updated_at = " SQL_NOW " WHERE id = ?1",
                        &stmt, err)))
        goto cleanup;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, model_id);
    if ((rc = step_done(db, stmt, "updating a job", err)) || (rc = db_tx_commit(&tx, err)))
        goto cleanup;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}

int store_job_set_result(sqlite3 *db, int64_t id, const char *result_json, fw_error *err)
{
    return update_text_by_id(
        db, "UPDATE jobs SET result_json = ?2, updated_at = " SQL_NOW " WHERE id = ?1", "job", id,
        result_json, err);
}

int store_job_mark_interrupted(sqlite3 *db, int *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "UPDATE jobs SET state = 'interrupted', updated_at = " SQL_NOW
                        " WHERE state = 'running'",
                        &stmt, err);
    if (rc)
        return rc;
    if ((rc = step_done(db, stmt, "marking interrupted jobs", err)) == 0 && count)
        *count = sqlite3_changes(db);
    sqlite3_finalize(stmt);
    return rc;
}

int store_quantum_job_record(sqlite3 *db, int64_t job_id, const char *provider,
                             const char *remote_ids, const char *state, int64_t circuits,
                             int64_t shots, const char *cost_json, fw_error *err)
{
    if (!provider || !*provider || !state || !*state || circuits < 0 || shots < 0)
        return fw_error_set(err, FW_EINVAL,
                            "a quantum job needs a provider, a state and "
                            "non-negative counts");
    int rc = require_row(db, SQL_JOB_EXISTS, "job", job_id, err);
    if (rc)
        return rc;
    /* update the (job, provider) row if there is one, else insert it; both statements take the
     * same numbered parameters */
    static const char *const sql[] = {
        "UPDATE quantum_jobs SET remote_id = ?3, state = ?4, circuits = ?5, shots = ?6, "
        "cost_json = ?7, updated_at = " SQL_NOW " WHERE job_id = ?1 AND provider = ?2",
        "INSERT INTO quantum_jobs (job_id, provider, remote_id, state, circuits, shots, "
        "cost_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    };
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *stmt = NULL;
        if ((rc = db_prepare(db, sql[i], &stmt, err)))
            return rc;
        sqlite3_bind_int64(stmt, 1, job_id);
        sqlite3_bind_text(stmt, 2, provider, -1, SQLITE_STATIC);
        bind_opt_text(stmt, 3, remote_ids);
        sqlite3_bind_text(stmt, 4, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, circuits);
        sqlite3_bind_int64(stmt, 6, shots);
        bind_opt_text(stmt, 7, cost_json);
        rc = step_done(db, stmt, "recording a quantum job", err);
        int changed = sqlite3_changes(db);
        sqlite3_finalize(stmt);
        if (rc || changed)
            return rc;
    }
    return FW_OK;
}

int store_job_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return change_by_id(db, "DELETE FROM jobs WHERE id = ?1", "deleting job", id, err);
}

void store_job_free(struct store_job *job)
{
    if (!job)
        return;
    job_clear(job);
    free(job);
}

void store_job_list_free(struct store_job *items, size_t count)
{
    if (!items)
        return;
    for (size_t i = 0; i < count; i++)
        job_clear(&items[i]);
    free(items);
}

/* --- forecasts ------------------------------------------------------------------------------ */

int store_forecast_insert(sqlite3 *db, int64_t model_id, int64_t dataset_id,
                          const char *request_json, const char *response_json, int64_t *id,
                          fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct db_tx tx = {0};
    int rc;
    if (!request_json || !response_json)
        return fw_error_set(err, FW_EINVAL, "a forecast needs its request and response");
    if ((rc = db_tx_begin(db, &tx, err)))
        return rc;
    if ((rc = require_row(db, SQL_MODEL_EXISTS, "model", model_id, err)) ||
        (dataset_id > 0 && (rc = require_row(db, SQL_DATASET_EXISTS, "dataset", dataset_id, err))))
        goto cleanup;
    if ((rc = db_prepare(db,
                         "INSERT INTO forecasts (model_id, dataset_id, request_json, response_json)"
                         " VALUES (?1, ?2, ?3, ?4)",
                         &stmt, err)))
        goto cleanup;
    if (sqlite3_bind_int64(stmt, 1, model_id) || bind_opt_id(stmt, 2, dataset_id) ||
        sqlite3_bind_text(stmt, 3, request_json, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 4, response_json, -1, SQLITE_STATIC)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding forecast values", err);
        goto cleanup;
    }
    if ((rc = step_done(db, stmt, "inserting a forecast", err)))
        goto cleanup;
    int64_t new_id = sqlite3_last_insert_rowid(db);
    if ((rc = db_tx_commit(&tx, err)))
        goto cleanup;
    *id = new_id;
cleanup:
    sqlite3_finalize(stmt);
    db_tx_rollback(&tx);
    return rc;
}
