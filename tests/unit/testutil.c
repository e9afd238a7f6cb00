/* testutil — shared test helpers (see testutil.h). */
#include "testutil.h"
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t n = strlen(base) + 32;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/fwpcast-test-XXXXXX", base);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

void tu_rmtree(char *path)
{
    if (!path)
        return;
    size_t n = strlen(path) + 16;
    char *cmd = malloc(n);
    if (cmd) {
        snprintf(cmd, n, "rm -rf '%s'", path);
        if (system(cmd) != 0)
            fprintf(stderr, "testutil: could not remove %s\n", path);
        free(cmd);
    }
    free(path);
}

const char *tu_root(void)
{
    const char *root = getenv("FWPCAST_ROOT");
    return root && *root ? root : ".";
}

char *tu_path(const char *rel)
{
    const char *root = tu_root();
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", root, rel);
    return p;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)size + 1);
            if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
                free(buf);
                buf = NULL;
            }
            if (buf) {
                buf[size] = '\0';
                if (len)
                    *len = (size_t)size;
            }
        }
    }
    fclose(f);
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

double tu_reldiff(double a, double b, double floor)
{
    double m = fmax(fabs(a), fabs(b));
    if (m < floor)
        m = floor;
    return fabs(a - b) / m;
}

int tu_db_setup_path(void **state, const char *rel)
{
    struct tu_db *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    assert_non_null(f->dir);
    size_t n = strlen(f->dir) + strlen(rel) + 2;
    f->path = malloc(n);
    assert_non_null(f->path);
    snprintf(f->path, n, "%s/%s", f->dir, rel);
    *state = f;
    return 0;
}

int tu_db_setup(void **state, const char *rel)
{
    fw_error err = {0};
    tu_db_setup_path(state, rel);
    struct tu_db *f = *state;
    if (db_open(f->path, &f->db, &err) || db_migrate(f->db, NULL, &err))
        fail_msg("temporary database %s: %s", f->path, err.msg);
    return 0;
}

int tu_db_teardown(void **state)
{
    struct tu_db *f = *state;
    db_close(f->db);
    free(f->path);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

long long tu_query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    long long v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}
