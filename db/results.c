/* results — stored comparison runs and their summaries (see results.h). */
#include "db/results.h"
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULT_COLUMNS                                                                             \
    "suite, task, architecture, config, data_sha256, seed, epochs, best_epoch, parameters, "       \
    "n_windows, mse, mae, r2, peak_amplitude_error, peak_timing_error, train_seconds, created_at"

#define KEY_WHERE                                                                                  \
    "suite = ?1 AND task = ?2 AND architecture = ?3 AND config = ?4 AND data_sha256 = ?5 AND "     \
    "seed = ?6 AND epochs = ?7"

static void copy_text(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    snprintf(dst, cap, "%s", text ? text : "");
}

static double column_real(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, col);
}

static void read_row(sqlite3_stmt *stmt, struct result_row *r)
{
    copy_text(stmt, 0, r->suite, sizeof r->suite);
    copy_text(stmt, 1, r->task, sizeof r->task);
    copy_text(stmt, 2, r->architecture, sizeof r->architecture);
    copy_text(stmt, 3, r->config, sizeof r->config);
    copy_text(stmt, 4, r->data_sha256, sizeof r->data_sha256);
    r->seed = sqlite3_column_int64(stmt, 5);
    r->epochs = sqlite3_column_int(stmt, 6);
    r->best_epoch = sqlite3_column_int(stmt, 7);
    r->parameters = sqlite3_column_int64(stmt, 8);
    r->n_windows = sqlite3_column_int64(stmt, 9);
    r->mse = column_real(stmt, 10);
    r->mae = column_real(stmt, 11);
    r->r2 = column_real(stmt, 12);
    r->peak_amplitude_error = column_real(stmt, 13);
    r->peak_timing_error = column_real(stmt, 14);
    r->train_seconds = column_real(stmt, 15);
    copy_text(stmt, 16, r->created_at, sizeof r->created_at);
}

static void bind_key(sqlite3_stmt *stmt, const struct result_row *r)
{
    sqlite3_bind_text(stmt, 1, r->suite, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r->task, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, r->architecture, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, r->config, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, r->data_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, r->seed);
    sqlite3_bind_int(stmt, 7, r->epochs);
}

int results_find(sqlite3 *db, struct result_row *row, int *found, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db, "SELECT " RESULT_COLUMNS " FROM results WHERE " KEY_WHERE, &stmt, err);
    if (rc)
        return rc;
    bind_key(stmt, row);
    int src = sqlite3_step(stmt);
    *found = src == SQLITE_ROW;
    if (src == SQLITE_ROW)
        read_row(stmt, row);
    else if (src != SQLITE_DONE)
        rc = db_fail(db, src, "looking up a result", err);
    sqlite3_finalize(stmt);
    return rc;
}

static int bind_real(sqlite3_stmt *stmt, int idx, double v)
{
    return isfinite(v) ? sqlite3_bind_double(stmt, idx, v) : sqlite3_bind_null(stmt, idx);
}

int results_insert(sqlite3 *db, const struct result_row *row, fw_error *err)
{
    if (!isfinite(row->mse) || !isfinite(row->mae) || !isfinite(row->r2))
        return fw_error_set(err, FW_EINVAL, "a result's test metrics must be finite numbers");
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "INSERT INTO results (suite, task, architecture, config, data_sha256, "
                        "seed, epochs, best_epoch, parameters, n_windows, mse, mae, r2, "
                        "peak_amplitude_error, peak_timing_error, train_seconds, created_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                        "?15, ?16, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                        &stmt, err);
    if (rc)
        return rc;
    bind_key(stmt, row);
    sqlite3_bind_int(stmt, 8, row->best_epoch);
    sqlite3_bind_int64(stmt, 9, row->parameters);
    sqlite3_bind_int64(stmt, 10, row->n_windows);
    sqlite3_bind_double(stmt, 11, row->mse);
    sqlite3_bind_double(stmt, 12, row->mae);
    sqlite3_bind_double(stmt, 13, row->r2);
    bind_real(stmt, 14, row->peak_amplitude_error);
    bind_real(stmt, 15, row->peak_timing_error);
    bind_real(stmt, 16, row->train_seconds);
    int src = sqlite3_step(stmt);
    if (src == SQLITE_CONSTRAINT)
        rc = fw_error_set(err, FW_ECONFLICT, "this run (%s %s seed %lld) is already stored",
                          row->architecture, row->task, (long long)row->seed);
    else if (src != SQLITE_DONE)
        rc = db_fail(db, src, "storing a result", err);
    sqlite3_finalize(stmt);
    return rc;
}

int results_list(sqlite3 *db, const char *suite, const char *task, struct result_row **rows,
                 size_t *count, fw_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = db_prepare(db,
                        "SELECT " RESULT_COLUMNS " FROM results WHERE suite = ?1 AND "
                        "(?2 IS NULL OR task = ?2) ORDER BY id",
                        &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, suite, -1, SQLITE_STATIC);
    if (task)
        sqlite3_bind_text(stmt, 2, task, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    struct result_row *list = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t next = cap ? cap * 2 : 16;
            struct result_row *p = realloc(list, next * sizeof *p);
            if (!p) {
                rc = FW_ENOMEM;
                break;
            }
            list = p, cap = next;
        }
        read_row(stmt, &list[n++]);
    }
    if (!rc && src != SQLITE_DONE)
        rc = db_fail(db, src, "listing results", err);
    sqlite3_finalize(stmt);
    if (rc) {
        free(list);
        return rc;
    }
    *rows = list;
    *count = n;
    return FW_OK;
}

static int same_group(const struct result_row *r, const struct result_row *first)
{
    return !strcmp(r->suite, first->suite) && !strcmp(r->task, first->task) &&
           !strcmp(r->architecture, first->architecture) && !strcmp(r->config, first->config) &&
           !strcmp(r->data_sha256, first->data_sha256) && r->epochs == first->epochs;
}

/* Mean and sample standard deviation of one field over the group's rows. */
static struct result_stat stat_of(const struct result_row *rows, const unsigned char *member,
                                  size_t count, size_t offset)
{
    double sum = 0.0, sq = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (member[i])
            sum += *(const double *)((const char *)&rows[i] + offset), n++;
    double mean = n ? sum / (double)n : NAN;
    for (size_t i = 0; i < count; i++)
        if (member[i]) {
            double d = *(const double *)((const char *)&rows[i] + offset) - mean;
            sq += d * d;
        }
    return (struct result_stat){mean, n > 1 ? sqrt(sq / (double)(n - 1)) : NAN};
}

int results_summarize(const struct result_row *rows, size_t count, struct result_summary **out,
                      size_t *n_out)
{
    struct result_summary *list = calloc(count ? count : 1, sizeof *list);
    unsigned char *done = calloc(count ? count : 1, 1), *member = calloc(count ? count : 1, 1);
    if (!list || !done || !member) {
        free(list), free(done), free(member);
        return FW_ENOMEM;
    }
    size_t groups = 0;
    for (size_t i = 0; i < count; i++) {
        if (done[i])
            continue;
        struct result_summary *s = &list[groups++];
        const struct result_row *first = &rows[i];
        memset(member, 0, count);
        for (size_t j = i; j < count; j++)
            if (!done[j] && same_group(&rows[j], first))
                member[j] = done[j] = 1, s->n_seeds++;
        snprintf(s->suite, sizeof s->suite, "%s", first->suite);
        snprintf(s->task, sizeof s->task, "%s", first->task);
        snprintf(s->architecture, sizeof s->architecture, "%s", first->architecture);
        snprintf(s->config, sizeof s->config, "%s", first->config);
        s->epochs = first->epochs;
        s->parameters = first->parameters;
        s->n_windows = first->n_windows;
#define STAT(field) stat_of(rows, member, count, offsetof(struct result_row, field))
        s->mse = STAT(mse);
        s->mae = STAT(mae);
        s->r2 = STAT(r2);
        s->peak_amplitude_error = STAT(peak_amplitude_error);
        s->peak_timing_error = STAT(peak_timing_error);
        s->train_seconds = STAT(train_seconds);
#undef STAT
    }
    free(done), free(member);
    *out = list;
    *n_out = groups;
    return FW_OK;
}

static json_t *stat_json(struct result_stat st)
{
    return json_pack("{s:o, s:o}", "mean", isfinite(st.mean) ? json_real(st.mean) : json_null(),
                     "sd", isfinite(st.sd) ? json_real(st.sd) : json_null());
}

json_t *results_summary_json(const struct result_summary *s)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I}", "suite", s->suite, "task",
                          s->task, "model", s->architecture, "config", s->config, "epochs",
                          s->epochs, "seeds", s->n_seeds, "parameters", (json_int_t)s->parameters,
                          "test_windows", (json_int_t)s->n_windows);
    if (!o)
        return NULL;
    int failed = json_object_set_new(o, "mse", stat_json(s->mse));
    failed |= json_object_set_new(o, "mae", stat_json(s->mae));
    failed |= json_object_set_new(o, "r2", stat_json(s->r2));
    if (isfinite(s->peak_amplitude_error.mean)) {
        failed |=
            json_object_set_new(o, "peak_amplitude_error", stat_json(s->peak_amplitude_error));
        failed |= json_object_set_new(o, "peak_timing_error", stat_json(s->peak_timing_error));
    }
    failed |= json_object_set_new(o, "train_seconds", stat_json(s->train_seconds));
    if (failed) { /* out of memory: no summary rather than one without some of its members */
        json_decref(o);
        return NULL;
    }
    return o;
}
