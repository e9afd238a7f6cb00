/*
 * store_datasets — the datasets and dataset_points tables (db/store.h, "datasets"): validating
 * and creating a dataset with its points in one transaction, reading its metadata and a range
 * of its points, finding, counting and deleting datasets. The rows belong to the database; the
 * structs returned (struct store_dataset, the arrays of store_dataset_list) belong to the caller.
 */
#include "db/store_private.h"
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_points(const struct store_dataset_new *ds, int64_t *missing, fw_error *err)
{
    int64_t n_missing = 0;
    int previous = 0;
    for (size_t i = 0; i < ds->n_points; i++) {
        const struct store_point *p = &ds->points[i];
        int index;
        if (memchr(p->period, '\0', PERIOD_TEXT_MAX) == NULL ||
            st_period_index(ds->frequency, p->period, &index))
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

    if ((rc = st_check_name("dataset name", ds->name, STORE_NAME_MAX, err)) ||
        (rc = st_check_optional_text("dataset source", ds->source, STORE_SOURCE_MAX, err)) ||
        (rc = st_check_optional_text("dataset unit", ds->unit, STORE_UNIT_MAX, err)))
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
        st_bind_opt_text(stmt, 2, ds->source) ||
        sqlite3_bind_text(stmt, 3, store_frequency_name(ds->frequency), -1, SQLITE_STATIC) ||
        st_bind_opt_text(stmt, 4, ds->unit) ||
        sqlite3_bind_text(stmt, 5, ds->points[0].period, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(stmt, 6, ds->points[ds->n_points - 1].period, -1, SQLITE_STATIC) ||
        sqlite3_bind_int64(stmt, 7, (sqlite3_int64)ds->n_points) ||
        sqlite3_bind_int64(stmt, 8, missing) ||
        sqlite3_bind_text(stmt, 9, sha, -1, SQLITE_STATIC)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding dataset values", err);
        goto cleanup;
    }
    if ((rc = st_step_done(db, stmt, "inserting a dataset", err)))
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
            st_bind_opt_double(stmt, 3, p->value) || st_bind_opt_double(stmt, 4, p->std) ||
            (p->n_obs >= 0 ? sqlite3_bind_int(stmt, 5, p->n_obs) : sqlite3_bind_null(stmt, 5)) ||
            sqlite3_bind_int(stmt, 6, p->provisional)) {
            rc = db_fail(db, sqlite3_errcode(db), "binding a point", err);
            goto cleanup;
        }
        if ((rc = st_step_done(db, stmt, "inserting a point", err)))
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
    st_copy_column(stmt, 1, meta->name, sizeof meta->name);
    st_copy_column(stmt, 2, meta->source, sizeof meta->source);
    if (store_frequency_parse((const char *)sqlite3_column_text(stmt, 3), &meta->frequency))
        return fw_error_set(err, FW_ECORRUPT, "dataset %lld has an unknown frequency",
                            (long long)meta->id);
    st_copy_column(stmt, 4, meta->unit, sizeof meta->unit);
    st_copy_column(stmt, 5, meta->first_period, sizeof meta->first_period);
    st_copy_column(stmt, 6, meta->last_period, sizeof meta->last_period);
    meta->row_count = sqlite3_column_int64(stmt, 7);
    meta->missing_count = sqlite3_column_int64(stmt, 8);
    st_copy_column(stmt, 9, meta->sha256, sizeof meta->sha256);
    st_copy_column(stmt, 10, meta->created_at, sizeof meta->created_at);
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
        if (st_grow((void **)&list, &cap, n, sizeof *list)) {
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
    } else if (st_period_index(frequency, text, &index) == 0) {
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
    if (st_bind_opt_text(stmt, 2, from ? from_text : NULL) ||
        st_bind_opt_text(stmt, 3, to ? to_text : NULL)) {
        rc = db_fail(db, sqlite3_errcode(db), "binding a range", err);
        goto cleanup;
    }
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (st_grow((void **)&ds->points, &cap, ds->n_points, sizeof *ds->points)) {
            rc = fw_error_set(err, FW_ENOMEM, "out of memory reading points");
            goto cleanup;
        }
        struct store_point *p = &ds->points[ds->n_points++];
        st_copy_column(stmt, 0, p->period, sizeof p->period);
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

int store_dataset_delete(sqlite3 *db, int64_t id, fw_error *err)
{
    return st_change_by_id(db, "DELETE FROM datasets WHERE id = ?1", "deleting dataset", id, err);
}
