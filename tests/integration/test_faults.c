/*
 * Fault injection on every request type, in-process, after SQLite's own malloc-failure and
 * I/O-error loops: app_handle (server/app.h) on a real app, as tests/fuzz/fuzz_http.c drives it,
 * over a temporary SQLite file bootstrapped from a small data directory (the last 50 years of
 * the bundled SILSO series from FWPCAST_ROOT/data and a tiny default model), so that the
 * database's checks after each run stay quick; the dashboard is FWPCAST_ROOT/static.
 *
 * Allocation failures. One counter sees every allocation made by the thread running app_handle,
 * and only while a request is armed (a _Thread_local flag): libfwpcast.a's calls to malloc,
 * calloc, realloc, strdup, strndup and fopen (this binary is linked with -Wl,--wrap=..., see the
 * Makefile: --wrap only redirects calls from the static objects, so ASan's interceptors stay
 * underneath as __real_*), SQLite's allocations (SQLITE_CONFIG_MALLOC wraps its default methods)
 * and jansson's (json_set_alloc_funcs). Not seen: OpenBLAS's own buffers and glibc's internal
 * ones (realpath's, stdio's). The library calls no other allocating libc function (no
 * aligned_alloc, posix_memalign, asprintf or open_memstream; `grep` in model/ quantum/ db/
 * server/ cli/ says so). One exception, jansson's parser (json_loadb, json_loads and
 * json_load_file, wrapped too):
 * only its first allocation (its lexer's buffer) is failed. jansson 2.14 cannot survive a later
 * one: its lexer ignores a failed append to a token's buffer (lex_save), then either drops the
 * byte silently or aborts on assert(c == d) in lex_unget_unsave. docs/RELIABILITY.md says so.
 *
 * SQLite I/O errors. A VFS wrapped around "unix" is the default one; its files delegate every
 * method (the WAL index's xShm* too) except when armed: "disk full" fails the Nth write and every
 * one after it with SQLITE_FULL; "I/O error" fails the Nth read, write, sync or truncate with
 * SQLITE_IOERR_READ / _WRITE / _FSYNC / _TRUNCATE, once or from then on.
 *
 * For each request (every route, some twice: JSON and CSV uploads, binary and JSON exports and
 * imports, exact and sampler forecasts, plus a refit backtest, a queued cloud forecast, a CORS
 * preflight and a static file), the request first runs unarmed, which counts its fault points and
 * records its answer. Then for each fault point N: arm, run, disarm, and check that
 * - the status is the unarmed one, with a body of the same shape (the same members, the same
 *   array lengths; the same bytes for a static file) and the same header names: a request may
 *   survive a fault (a retried read, a cache that is only an optimisation) but then it must give
 *   the whole answer; or
 * - it is a problem+json whose "status" is the response's: 500 or 503 for an allocation
 *   failure, 507 for a full disk, 503 for an I/O error; and then the database is unchanged (a
 *   digest of every row of every table, read through another connection, when its
 *   `PRAGMA data_version` says another connection committed) and, after an I/O fault, passes
 *   `PRAGMA integrity_check`;
 * - and after an I/O fault, the same request unarmed answers as it did at first.
 * No crash, no leak (LeakSanitizer in the ASan variant), no sanitizer report.
 *
 * Before each run the app's model and dataset caches are emptied and its connection's page cache
 * released, so every run takes the same path (the cache-miss one) and reads the pages it needs.
 * A request that changed the database is undone by restoring it from a template (backup API).
 *
 * Sampling, to stay fast (a forecast makes thousands of allocations, and reading a model's blob
 * a hundred page reads): the allocation loop fails every allocation up to ALLOC_DENSE, then
 * takes a deterministic stride so that about ALLOC_SPARSE more points are spread over the rest,
 * the last one included; the I/O loops likewise with IO_DENSE and IO_SPARSE. The "from then on"
 * variants take every PERSIST_STRIDE-th of those points (a full disk: every point).
 * FAULTS_VERBOSE=1 prints the counts and times per request.
 */
#include "testutil.h"

#include "db/bootstrap.h"
#include "db/db.h"
#include "base/sha256.h"
#include "db/store.h"
#include "model/forecaster.h"
#include "server/app.h"
#include "server/http.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOKEN  "faults-token-0123456789"
#define ORIGIN "https://lab.example.org"

#define ALLOC_DENSE    200
#define ALLOC_SPARSE   200
#define IO_DENSE       24
#define IO_SPARSE      16
#define PERSIST_STRIDE 4

/* ---- the fault counters ------------------------------------------------------------------- */

enum io_op { IO_READ = 1, IO_WRITE = 2, IO_SYNC = 4, IO_TRUNCATE = 8 };

struct fault {
    int armed;      /* counting this thread's calls */
    long target;    /* fail the target-th call (from 1); 0: only count */
    int persistent; /* ... and every one after it */
    long calls;     /* seen since armed */
    long injected;  /* failures injected since armed */
    int ops;        /* I/O: the operations counted (enum io_op) */
    int disk_full;  /* I/O: writes fail with SQLITE_FULL rather than SQLITE_IOERR_WRITE */
};

static _Thread_local struct fault alloc_fault, io_fault;
static _Thread_local int in_parser; /* 1 + the allocations made so far by json_load* */

static int fault_hit(struct fault *f)
{
    if (!f->armed)
        return 0;
    long n = ++f->calls;
    if (f->target && (n == f->target || (f->persistent && n > f->target))) {
        f->injected++;
        return 1;
    }
    return 0;
}

/* ---- allocation hooks ------------------------------------------------------------------------ */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
FILE *__real_fopen(const char *path, const char *mode);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
FILE *__wrap_fopen(const char *path, const char *mode);

static int alloc_fails(void)
{
    if (in_parser && in_parser++ > 1) /* jansson's parser: its first allocation only (see above) */
        return 0;
    if (!fault_hit(&alloc_fault))
        return 0;
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return alloc_fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
    return alloc_fails() ? NULL : __real_fopen(path, mode);
}

json_t *__real_json_loadb(const char *text, size_t len, size_t flags, json_error_t *error);
json_t *__real_json_loads(const char *text, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *text, size_t len, size_t flags, json_error_t *error);
json_t *__wrap_json_loads(const char *text, size_t flags, json_error_t *error);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *error);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error);

json_t *__wrap_json_loadb(const char *text, size_t len, size_t flags, json_error_t *error)
{
    in_parser = 1;
    json_t *v = __real_json_loadb(text, len, flags, error);
    in_parser = 0;
    return v;
}

json_t *__wrap_json_loads(const char *text, size_t flags, json_error_t *error)
{
    in_parser = 1;
    json_t *v = __real_json_loads(text, flags, error);
    in_parser = 0;
    return v;
}

json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error)
{
    in_parser = 1;
    json_t *v = __real_json_load_file(path, flags, error);
    in_parser = 0;
    return v;
}

static sqlite3_mem_methods sqlite_mem;

static void *sqlite_malloc(int size)
{
    return alloc_fails() ? NULL : sqlite_mem.xMalloc(size);
}

static void *sqlite_realloc(void *p, int size)
{
    return alloc_fails() ? NULL : sqlite_mem.xRealloc(p, size);
}

static void *json_malloc(size_t size)
{
    return alloc_fails() ? NULL : __real_malloc(size);
}

static void json_free(void *p)
{
    free(p);
}

/* Before anything initialises SQLite. */
static void install_alloc_hooks(void)
{
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_mem) != SQLITE_OK)
        abort();
    sqlite3_mem_methods hooked = sqlite_mem;
    hooked.xMalloc = sqlite_malloc;
    hooked.xRealloc = sqlite_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &hooked) != SQLITE_OK)
        abort();
    json_set_alloc_funcs(json_malloc, json_free);
}

/* ---- the I/O-error VFS ----------------------------------------------------------------------- */

struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* the unix VFS's file, right after this struct */
};

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_io;

#define REAL(f) (((struct fault_file *)(f))->real)

static int io_fails(enum io_op op)
{
    return (io_fault.ops & (int)op) && fault_hit(&io_fault);
}

static int ff_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}

static int ff_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset)
{
    if (io_fails(IO_READ))
        return SQLITE_IOERR_READ;
    return REAL(f)->pMethods->xRead(REAL(f), buf, amount, offset);
}

static int ff_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset)
{
    if (io_fails(IO_WRITE))
        return io_fault.disk_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), buf, amount, offset);
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (io_fails(IO_TRUNCATE))
        return SQLITE_IOERR_TRUNCATE;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int ff_sync(sqlite3_file *f, int flags)
{
    if (io_fails(IO_SYNC))
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int ff_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int ff_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int ff_check_reserved_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int ff_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int ff_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int ff_device_characteristics(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int ff_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

static int ff_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void ff_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int ff_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int ff_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out)
{
    return REAL(f)->pMethods->xFetch(REAL(f), offset, amount, out);
}

static int ff_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), offset, p);
}

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    struct fault_file *f = (struct fault_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
    /* SQLite calls xClose on a file whose pMethods is set, even after a failed open */
    f->base.pMethods = f->real->pMethods ? &fault_io : NULL;
    return rc;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static void install_fault_vfs(void)
{
    unix_vfs = sqlite3_vfs_find(NULL);
    if (!unix_vfs || unix_vfs->iVersion < 3)
        abort();
    fault_io = (sqlite3_io_methods){3,
                                    ff_close,
                                    ff_read,
                                    ff_write,
                                    ff_truncate,
                                    ff_sync,
                                    ff_file_size,
                                    ff_lock,
                                    ff_unlock,
                                    ff_check_reserved_lock,
                                    ff_file_control,
                                    ff_sector_size,
                                    ff_device_characteristics,
                                    ff_shm_map,
                                    ff_shm_lock,
                                    ff_shm_barrier,
                                    ff_shm_unmap,
                                    ff_fetch,
                                    ff_unfetch};
    fault_vfs = *unix_vfs; /* the rest (time, randomness, sleep, dlopen) use no app data */
    fault_vfs.szOsFile = (int)sizeof(struct fault_file) + unix_vfs->szOsFile;
    fault_vfs.zName = "faults";
    fault_vfs.pNext = NULL;
    fault_vfs.xOpen = fv_open;
    fault_vfs.xDelete = fv_delete;
    fault_vfs.xAccess = fv_access;
    fault_vfs.xFullPathname = fv_full_pathname;
    if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK)
        abort();
}

/* ---- the app and its database ---------------------------------------------------------------- */

static char *dir, work_db[1024], template_db[1024];
static struct app_config config;
static struct app *app;
static sqlite3 *side, *template_conn; /* the test's own connections (never armed) */
static unsigned char template_digest[SHA256_DIGEST_LEN];
static int verbose;

static void check_sqlite(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        fail_msg("%s: %s (%d)", what, db ? sqlite3_errmsg(db) : "", rc);
}

static void hash_text(struct sha256_ctx *ctx, const void *data, size_t len)
{
    uint64_t n = len;
    sha256_update(ctx, &n, sizeof n);
    sha256_update(ctx, data, len);
}

/* Every row of every table, tables in sqlite_master order, rows in rowid (or primary key) order. */
static void db_digest(sqlite3 *db, unsigned char digest[SHA256_DIGEST_LEN])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sqlite3_stmt *tables = NULL;
    check_sqlite(db,
                 sqlite3_prepare_v2(db,
                                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "ORDER BY rowid",
                                    -1, &tables, NULL),
                 "listing tables");
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", name); /* rowid or key order */
        hash_text(&ctx, name, strlen(name));
        sqlite3_stmt *rows = NULL;
        check_sqlite(db, sqlite3_prepare_v2(db, sql, -1, &rows, NULL), sql);
        int rc;
        while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                unsigned char type = (unsigned char)sqlite3_column_type(rows, c);
                sha256_update(&ctx, &type, 1);
                const void *bytes = sqlite3_column_blob(rows, c);
                hash_text(&ctx, bytes ? bytes : "", (size_t)sqlite3_column_bytes(rows, c));
            }
        }
        check_sqlite(db, rc, sql);
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    sha256_final(&ctx, digest);
}

static int integrity_ok(sqlite3 *db, char *message, size_t size)
{
    sqlite3_stmt *st = NULL;
    check_sqlite(db, sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                 "integrity_check");
    int ok = sqlite3_step(st) == SQLITE_ROW;
    snprintf(message, size, "%s", ok ? (const char *)sqlite3_column_text(st, 0) : "no answer");
    ok = ok && !strcmp(message, "ok");
    sqlite3_finalize(st);
    return ok;
}

static void backup(sqlite3 *to, sqlite3 *from)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b)
        fail_msg("backup: %s", sqlite3_errmsg(to));
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        fail_msg("backup: %s", sqlite3_errstr(rc));
}

/* Changes whenever another connection (the app's) commits: a cheap first look before the
 * digest. */
static long data_version(void)
{
    sqlite3_stmt *st = NULL;
    check_sqlite(side, sqlite3_prepare_v2(side, "PRAGMA data_version", -1, &st, NULL),
                 "data_version");
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* 1 if the content differs from the template's. */
static int changed_since(long version)
{
    unsigned char now[SHA256_DIGEST_LEN];
    if (data_version() == version)
        return 0;
    db_digest(side, now);
    return memcmp(now, template_digest, sizeof now) != 0;
}

/* The database as the template has it (after a request that changed it). */
static void restore_if_changed(long version)
{
    if (changed_since(version))
        backup(side, template_conn);
}

/* ---- requests ------------------------------------------------------------------------------- */

struct body {
    char *data;
    size_t len;
};

enum fixture {
    FX_NONE,
    FX_MONTHLY,     /* the bundled monthly dataset */
    FX_SMALL,       /* a small dataset to read and delete */
    FX_MODEL,       /* the default model */
    FX_MODEL2,      /* an imported model to delete */
    FX_QUEUED_JOB,  /* a queued training job */
    FX_STOPPED_JOB, /* an interrupted one */
};

static int64_t fixture_ids[FX_STOPPED_JOB + 1];
static struct body export_binary, export_json;
static struct body inline_series; /* POST /forecast with 600 months inline */

struct request_case {
    const char *name;
    const char *method;
    const char *path; /* "%lld" stands for the fixture's id */
    enum fixture id;
    const char *query;        /* "k=v&k=v" */
    const char *content_type; /* NULL: none */
    const char *body;         /* NULL: none (or the body below) */
    struct body *body_ref;
    int no_origin;
};

#define JSON "application/json"

static const struct request_case cases[] = {
    {"GET /healthz", "GET", "/healthz", FX_NONE, NULL, NULL, NULL, NULL, 0},
    {"GET /metrics", "GET", "/metrics", FX_NONE, NULL, NULL, NULL, NULL, 0},
    {"GET /datasets", "GET", "/datasets", FX_NONE, NULL, NULL, NULL, NULL, 0},
    {"GET /datasets/{id}", "GET", "/datasets/%lld", FX_MONTHLY, "from=2000-01&to=2001-12", NULL,
     NULL, NULL, 0},
    {"GET /datasets/{id} (small)", "GET", "/datasets/%lld", FX_SMALL, NULL, NULL, NULL, NULL, 0},
    {"POST /datasets (JSON)", "POST", "/datasets", FX_NONE, NULL, JSON,
     "{\"name\":\"posted-json\",\"frequency\":\"month\",\"points\":[{\"period\":\"2000-01\","
     "\"value\":1.5},{\"period\":\"2000-02\",\"value\":null},{\"period\":\"2000-03\","
     "\"value\":3}]}",
     NULL, 0},
    {"POST /datasets (CSV)", "POST", "/datasets", FX_NONE, "name=posted-csv&source=faults",
     "text/csv", "period,value\n2000-01,1.5\n2000-02,\n2000-03,3\n2000-04,4.25\n", NULL, 0},
    {"DELETE /datasets/{id}", "DELETE", "/datasets/%lld", FX_SMALL, NULL, NULL, NULL, NULL, 0},
    {"POST /models", "POST", "/models", FX_NONE, NULL, JSON,
     "{\"dataset\":1,\"window\":24,\"horizon\":6,\"epochs\":2,\"name\":\"faults\","
     "\"config\":{\"slow_dim\":3,\"hidden\":4,\"fast_in\":2,\"fast_out\":3}}",
     NULL, 0},
    {"GET /models", "GET", "/models", FX_NONE, NULL, NULL, NULL, NULL, 0},
    {"GET /models/{id}", "GET", "/models/%lld", FX_MODEL, NULL, NULL, NULL, NULL, 0},
    {"DELETE /models/{id}", "DELETE", "/models/%lld", FX_MODEL2, NULL, NULL, NULL, NULL, 0},
    {"GET /models/{id}/export (binary)", "GET", "/models/%lld/export", FX_MODEL, NULL, NULL, NULL,
     NULL, 0},
    {"GET /models/{id}/export (JSON)", "GET", "/models/%lld/export", FX_MODEL, "format=json", NULL,
     NULL, NULL, 0},
    {"POST /models/import (binary)", "POST", "/models/import", FX_NONE, "name=imported-binary",
     "application/octet-stream", NULL, &export_binary, 0},
    {"POST /models/import (JSON)", "POST", "/models/import", FX_NONE, "name=imported-json", JSON,
     NULL, &export_json, 0},
    {"GET /jobs/{id}", "GET", "/jobs/%lld", FX_QUEUED_JOB, NULL, NULL, NULL, NULL, 0},
    {"DELETE /jobs/{id}", "DELETE", "/jobs/%lld", FX_QUEUED_JOB, NULL, NULL, NULL, NULL, 0},
    {"POST /jobs/{id}/resume", "POST", "/jobs/%lld/resume", FX_STOPPED_JOB, NULL, NULL, NULL, NULL,
     0},
    {"POST /forecast (exact)", "POST", "/forecast", FX_NONE, NULL, JSON,
     "{\"h\":6,\"level\":[80,95],\"cutoff\":\"2019-12\"}", NULL, 0},
    {"POST /forecast (sampler)", "POST", "/forecast", FX_NONE, NULL, JSON,
     "{\"h\":2,\"backend\":\"sampler\",\"shots\":8,\"seed\":3,\"noise\":\"ionq-aria-1\"}", NULL, 0},
    {"POST /forecast (inline series)", "POST", "/forecast", FX_NONE, NULL, JSON, NULL,
     &inline_series, 0},
    {"POST /forecast (ionq, queued)", "POST", "/forecast", FX_NONE, NULL, JSON,
     "{\"h\":2,\"backend\":\"ionq\",\"shots\":100}", NULL, 0},
    {"POST /backtest", "POST", "/backtest", FX_NONE, NULL, JSON,
     "{\"h\":6,\"n_windows\":2,\"refit\":false}", NULL, 0},
    {"POST /backtest (refit)", "POST", "/backtest", FX_NONE, NULL, JSON,
     "{\"refit\":true,\"dataset\":1,\"h\":6,\"n_windows\":1,\"epochs\":1}", NULL, 0},
    {"GET /compare", "GET", "/compare", FX_NONE, "suite=solar", NULL, NULL, NULL, 0},
    {"GET /hindcasts", "GET", "/hindcasts", FX_NONE, "cycles=24-25", NULL, NULL, NULL, 0},
    {"GET / (static)", "GET", "/", FX_NONE, NULL, NULL, NULL, NULL, 1},
    {"OPTIONS /forecast (CORS preflight)", "OPTIONS", "/forecast", FX_NONE, NULL, NULL, NULL, NULL,
     0},
};
#define N_CASES (sizeof cases / sizeof cases[0])

struct prepared {
    char path[128];
    char query_text[256];
    struct http_request req;
};

static void prepare(const struct request_case *c, struct prepared *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, c->path, (long long)fixture_ids[c->id]);
    struct http_request *req = &p->req;
    req->method = c->method;
    req->path = p->path;
    req->content_type = c->content_type;
    req->authorization = "Bearer " TOKEN;
    req->origin = c->no_origin ? NULL : ORIGIN;
    const struct body *b = c->body_ref;
    req->body = b ? b->data : c->body ? c->body : "";
    req->body_len = b ? b->len : c->body ? strlen(c->body) : 0;
    if (!c->query)
        return;
    snprintf(p->query_text, sizeof p->query_text, "%s", c->query);
    for (char *item = p->query_text; item && *item && req->n_query < HTTP_MAX_QUERY;) {
        char *next = strchr(item, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (eq)
            *eq++ = '\0';
        req->query[req->n_query].key = item;
        req->query[req->n_query].value = eq ? eq : "";
        req->n_query++;
        item = next;
    }
}

/* Every run starts from the same state: empty caches, no pages cached. */
static void cold_start(void)
{
    for (int64_t id = 1; id <= 64; id++) {
        app_model_forget(app, id);
        app_dataset_forget(app, id);
    }
    sqlite3 *db = app_db(app);
    if (db)
        sqlite3_db_release_memory(db);
}

static void run(const struct request_case *c, struct http_response *resp)
{
    struct prepared p;
    prepare(c, &p);
    memset(resp, 0, sizeof *resp);
    app_handle(app, &p.req, resp);
}

static void run_unarmed_ok(const struct request_case *c, int want, struct http_response *resp)
{
    run(c, resp);
    if (resp->status != want)
        fail_msg("%s (setup): %d, not %d: %.300s", c->name, resp->status, want,
                 resp->body ? resp->body : "");
}

/* ---- checks --------------------------------------------------------------------------------- */

/* What a request answers when nothing fails. */
struct baseline {
    int status;
    const char *content_type;
    json_t *json; /* parsed body, if JSON */
    char *body;
    size_t body_len;
    size_t n_headers;
    const char *header_names[HTTP_MAX_HEADERS];
    long allocs, io_calls, io_writes;
};

static int is_json_type(const char *ct)
{
    return ct && (!strcmp(ct, "application/json") || !strcmp(ct, "application/problem+json"));
}

/* Same types, the same members of objects, the same lengths of arrays. */
static int same_shape(const json_t *a, const json_t *b, char *where, size_t size)
{
    if (json_typeof(a) != json_typeof(b) &&
        !(json_is_number(a) && json_is_number(b))) { /* 1.0 may print as 1 */
        snprintf(where, size, "a %d where %d was", json_typeof(a), json_typeof(b));
        return 0;
    }
    if (json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b)) {
            snprintf(where, size, "an object of %zu members, not %zu", json_object_size(a),
                     json_object_size(b));
            return 0;
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)b, key, v)
        {
            const json_t *other = json_object_get(a, key);
            if (!other) {
                snprintf(where, size, "no member '%s'", key);
                return 0;
            }
            if (!same_shape(other, v, where, size))
                return 0;
        }
    } else if (json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) {
            snprintf(where, size, "an array of %zu, not %zu", json_array_size(a),
                     json_array_size(b));
            return 0;
        }
        for (size_t i = 0; i < json_array_size(b); i++)
            if (!same_shape(json_array_get(a, i), json_array_get(b, i), where, size))
                return 0;
    }
    return 1;
}

static void baseline_take(struct baseline *b, const struct http_response *resp)
{
    b->status = resp->status;
    b->content_type = resp->content_type;
    b->body = malloc(resp->body_len + 1);
    assert_non_null(b->body);
    memcpy(b->body, resp->body ? resp->body : "", resp->body_len);
    b->body[resp->body_len] = '\0';
    b->body_len = resp->body_len;
    b->json = is_json_type(resp->content_type)
                  ? json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL)
                  : NULL;
    b->n_headers = resp->n_headers;
    for (size_t i = 0; i < resp->n_headers; i++)
        b->header_names[i] = resp->headers[i].name;
}

static void baseline_free(struct baseline *b)
{
    json_decref(b->json);
    free(b->body);
}

enum fault_kind { FK_ALLOC, FK_DISK_FULL, FK_IOERR };

static const char *const kind_names[] = {"allocation failure", "disk full", "I/O error"};

struct point {
    const struct request_case *c;
    enum fault_kind kind;
    long n;
    int persistent;
};

static void fail_at(const struct point *pt, const struct http_response *resp, const char *what)
{
    fail_msg("%s, %s %s at %ld of its fault points: %s\n  got %d %s: %.400s", pt->c->name,
             kind_names[pt->kind], pt->persistent ? "from then on" : "once", pt->n, what,
             resp->status, resp->content_type ? resp->content_type : "(no type)",
             resp->body ? resp->body : "(no body)");
}

static int status_allowed(enum fault_kind kind, int status)
{
    switch (kind) {
    case FK_ALLOC:
        return status == 500 || status == 503;
    case FK_DISK_FULL:
        return status == 507;
    default:
        return status == 503;
    }
}

/* 1 if the request failed (and so must have left the database as it was). */
static int check_answer(const struct point *pt, const struct baseline *b,
                        const struct http_response *resp)
{
    char where[256];
    if (resp->status < 100 || resp->status > 599)
        fail_at(pt, resp, "no valid status");
    if (resp->status == b->status) {
        if (resp->content_type != b->content_type && (!resp->content_type || !b->content_type ||
                                                      strcmp(resp->content_type, b->content_type)))
            fail_at(pt, resp, "the status of a success with another content type");
        if (b->json) {
            json_error_t jerr;
            json_t *doc = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, &jerr);
            if (!doc)
                fail_at(pt, resp, "the status of a success with a body that is not JSON");
            int same = same_shape(doc, b->json, where, sizeof where);
            json_decref(doc);
            if (!same) {
                char what[400];
                snprintf(what, sizeof what, "an incomplete success: %s", where);
                fail_at(pt, resp, what);
            }
        } else if (strcmp(b->content_type ? b->content_type : "", "text/plain; version=0.0.4") &&
                   (resp->body_len != b->body_len ||
                    memcmp(resp->body ? resp->body : "", b->body, b->body_len))) {
            fail_at(pt, resp, "a success with another body");
        } else if (!resp->body_len && b->body_len) {
            fail_at(pt, resp, "a success with no body");
        }
        if (resp->n_headers != b->n_headers)
            fail_at(pt, resp, "a success without all its headers");
        for (size_t i = 0; i < resp->n_headers; i++)
            if (strcmp(resp->headers[i].name, b->header_names[i]) || !resp->headers[i].value)
                fail_at(pt, resp, "a success with other headers");
        return 0;
    }
    /* GET /healthz fails with its own document saying "degraded" (docs/openapi.yaml) */
    if (!strcmp(pt->c->path, "/healthz") && resp->status == 503 && b->json) {
        json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
        int same = doc && same_shape(doc, b->json, where, sizeof where) &&
                   !strcmp(json_string_value(json_object_get(doc, "status")), "degraded");
        json_decref(doc);
        if (!same)
            fail_at(pt, resp, "not the health document saying \"degraded\"");
        return 1;
    }
    if (!status_allowed(pt->kind, resp->status)) {
        char what[128];
        snprintf(what, sizeof what, "status %d is not the one for a %s", resp->status,
                 kind_names[pt->kind]);
        fail_at(pt, resp, what);
    }
    if (!resp->content_type || strcmp(resp->content_type, "application/problem+json"))
        fail_at(pt, resp, "an error that is not problem+json");
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    if (!doc)
        fail_at(pt, resp, "a problem that is not JSON");
    int ok = json_integer_value(json_object_get(doc, "status")) == resp->status &&
             json_is_string(json_object_get(doc, "title")) &&
             json_is_string(json_object_get(doc, "detail"));
    json_decref(doc);
    if (!ok)
        fail_at(pt, resp, "a problem without its status, title and detail");
    return 1;
}

/* ---- the loops ------------------------------------------------------------------------------ */

static void arm(struct fault *f, long target, int persistent)
{
    f->calls = f->injected = 0;
    f->target = target;
    f->persistent = persistent;
    f->armed = 1;
}

static void disarm(struct fault *f)
{
    f->armed = 0;
}

static void measure(const struct request_case *c, struct baseline *b)
{
    struct http_response resp;
    long version = data_version();
    cold_start();
    arm(&alloc_fault, 0, 0);
    io_fault.ops = IO_READ | IO_WRITE | IO_SYNC | IO_TRUNCATE;
    arm(&io_fault, 0, 0);
    run(c, &resp);
    disarm(&alloc_fault), disarm(&io_fault);
    b->allocs = alloc_fault.calls;
    b->io_calls = io_fault.calls;
    baseline_take(b, &resp);
    http_response_free(&resp);
    restore_if_changed(version);
    /* writes alone, for the disk-full loop */
    version = data_version();
    cold_start();
    io_fault.ops = IO_WRITE;
    arm(&io_fault, 0, 0);
    run(c, &resp);
    disarm(&io_fault);
    b->io_writes = io_fault.calls;
    if (resp.status != b->status)
        fail_msg("%s: answered %d, then %d: not deterministic", c->name, b->status, resp.status);
    http_response_free(&resp);
    restore_if_changed(version);
    if (b->status >= 400)
        fail_msg("%s: the request itself fails (%d): %.300s", c->name, b->status, b->body);
}

/* One armed run and its checks. */
static void run_point(const struct point *pt, const struct baseline *b)
{
    struct http_response resp;
    struct fault *f = pt->kind == FK_ALLOC ? &alloc_fault : &io_fault;
    long version = data_version();
    cold_start();
    if (pt->kind != FK_ALLOC) {
        io_fault.ops =
            pt->kind == FK_DISK_FULL ? IO_WRITE : IO_READ | IO_WRITE | IO_SYNC | IO_TRUNCATE;
        io_fault.disk_full = pt->kind == FK_DISK_FULL;
    }
    arm(f, pt->n, pt->persistent);
    run(pt->c, &resp);
    disarm(f);
    int failed = check_answer(pt, b, &resp);
    if (failed) {
        char message[256];
        if (changed_since(version))
            fail_at(pt, &resp, "the request failed but changed the database");
        if (pt->kind != FK_ALLOC && !integrity_ok(side, message, sizeof message))
            fail_at(pt, &resp, message);
    }
    http_response_free(&resp);
    restore_if_changed(version);
    if (pt->kind != FK_ALLOC) { /* the app recovers: the same request answers as at first */
        version = data_version();
        cold_start();
        run(pt->c, &resp);
        if (resp.status != b->status)
            fail_at(pt, &resp, "the request failed again once the fault was gone");
        http_response_free(&resp);
        restore_if_changed(version);
    }
}

/* Every point up to dense, then about sparse more spread to the last. */
static long next_point(long n, long count, long dense, long sparse)
{
    if (n < dense)
        return n + 1;
    long stride = (count - dense) / sparse;
    if (stride < 1)
        stride = 1;
    if (n < count && n + stride > count)
        return count;
    return n + stride;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long total_points[3];

static void test_alloc(void **state)
{
    const struct request_case *c = *state;
    struct baseline b = {0};
    double t0 = now_seconds();
    measure(c, &b);
    long points = 0, persistent_points = 0, k = 0;
    for (long n = 1; n <= b.allocs; n = next_point(n, b.allocs, ALLOC_DENSE, ALLOC_SPARSE), k++) {
        struct point pt = {c, FK_ALLOC, n, 0};
        run_point(&pt, &b);
        points++;
        if (k % PERSIST_STRIDE == 0) {
            pt.persistent = 1;
            run_point(&pt, &b);
            persistent_points++;
        }
    }
    total_points[FK_ALLOC] += points + persistent_points;
    if (verbose)
        fprintf(stderr, "  %-36s %6ld allocations: %ld points once, %ld from then on, %.2f s\n",
                c->name, b.allocs, points, persistent_points, now_seconds() - t0);
    baseline_free(&b);
}

static void test_io(void **state)
{
    const struct request_case *c = *state;
    struct baseline b = {0};
    double t0 = now_seconds();
    measure(c, &b);
    long full = 0, once = 0, persistent = 0, k = 0;
    for (long n = 1; n <= b.io_writes; n = next_point(n, b.io_writes, IO_DENSE, IO_SPARSE)) {
        struct point pt = {c, FK_DISK_FULL, n, 1};
        run_point(&pt, &b);
        full++;
    }
    for (long n = 1; n <= b.io_calls; n = next_point(n, b.io_calls, IO_DENSE, IO_SPARSE), k++) {
        struct point pt = {c, FK_IOERR, n, 0};
        run_point(&pt, &b);
        once++;
        if (k % PERSIST_STRIDE == 0) {
            pt.persistent = 1;
            run_point(&pt, &b);
            persistent++;
        }
    }
    total_points[FK_DISK_FULL] += full;
    total_points[FK_IOERR] += once + persistent;
    if (verbose)
        fprintf(stderr,
                "  %-36s %4ld I/O calls, %ld writes: %ld points disk full, %ld I/O error once, "
                "%ld from then on, %.2f s\n",
                c->name, b.io_calls, b.io_writes, full, once, persistent, now_seconds() - t0);
    baseline_free(&b);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void copy_body(struct body *to, const struct http_response *resp)
{
    to->data = malloc(resp->body_len + 1);
    assert_non_null(to->data);
    memcpy(to->data, resp->body, resp->body_len);
    to->len = resp->body_len;
}

static void make_inline_series(void)
{
    size_t cap = 64 * 1024, len = 0;
    inline_series.data = malloc(cap);
    assert_non_null(inline_series.data);
    len += (size_t)snprintf(inline_series.data, cap, "{\"h\":6,\"series\":[");
    for (int i = 0; i < 600; i++) /* a cycle of about 11 years */
        len += (size_t)snprintf(inline_series.data + len, cap - len,
                                "%s{\"period\":\"%04d-%02d\",\"value\":%.1f}", i ? "," : "",
                                1960 + i / 12, i % 12 + 1, 80.0 + 70.0 * sin(i / 21.0));
    len += (size_t)snprintf(inline_series.data + len, cap - len, "]}");
    inline_series.len = len;
}

static int64_t created_id(const struct http_response *resp, const char *member)
{
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    int64_t id = json_integer_value(json_object_get(doc, member));
    json_decref(doc);
    assert_true(id > 0);
    return id;
}

static const struct request_case *find_case(const char *name)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (!strcmp(cases[i].name, name))
            return &cases[i];
    fail_msg("no case %s", name);
    return NULL;
}

static void open_side(const char *path, sqlite3 **db)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        fail_msg("opening %s: %s", path, sqlite3_errmsg(*db));
    sqlite3_busy_timeout(*db, DB_BUSY_TIMEOUT_MS);
}

static void make_fixtures(void)
{
    struct http_response resp;
    fw_error err = {0};
    assert_int_equal(store_dataset_find(side, "silso-monthly", &fixture_ids[FX_MONTHLY], &err), 0);
    assert_int_equal(store_model_default_id(side, &fixture_ids[FX_MODEL], &err), 0);
    /* a small dataset: the CSV upload under another name */
    struct request_case small = *find_case("POST /datasets (CSV)");
    small.query = "name=small";
    run_unarmed_ok(&small, 201, &resp);
    fixture_ids[FX_SMALL] = created_id(&resp, "id");
    http_response_free(&resp);
    /* the default model's exports, to import */
    run_unarmed_ok(find_case("GET /models/{id}/export (binary)"), 200, &resp);
    copy_body(&export_binary, &resp);
    http_response_free(&resp);
    run_unarmed_ok(find_case("GET /models/{id}/export (JSON)"), 200, &resp);
    copy_body(&export_json, &resp);
    http_response_free(&resp);
    struct request_case second = *find_case("POST /models/import (binary)");
    second.query = "name=second";
    run_unarmed_ok(&second, 201, &resp);
    fixture_ids[FX_MODEL2] = created_id(&resp, "id");
    http_response_free(&resp);
    /* a queued training job, and an interrupted one */
    run_unarmed_ok(find_case("POST /models"), 202, &resp);
    fixture_ids[FX_QUEUED_JOB] = created_id(&resp, "job");
    http_response_free(&resp);
    int64_t job = 0;
    assert_int_equal(store_job_create(side, STORE_JOB_TRAIN, "{}", 2, &job, &err), 0);
    assert_int_equal(store_job_set_state(side, job, STORE_JOB_RUNNING, NULL, &err), 0);
    assert_int_equal(store_job_set_state(side, job, STORE_JOB_INTERRUPTED, NULL, &err), 0);
    fixture_ids[FX_STOPPED_JOB] = job;
    /* stored comparison results for GET /compare, and a hindcast run for GET /hindcasts */
    check_sqlite(side,
                 sqlite3_exec(side,
                              "INSERT INTO results (suite, task, architecture, config, "
                              "data_sha256, seed, epochs, best_epoch, parameters, n_windows, mse, "
                              "mae, r2, peak_amplitude_error, peak_timing_error, train_seconds, "
                              "created_at) "
                              "VALUES ('solar', 'paper', 'lstm', 'hidden=4', 'abc', 1, 5, 4, 100, "
                              "10, 0.1, 0.2, 0.3, 4, 5, 1.5, '2024-01-01T00:00:00Z'), ('solar', "
                              "'paper', 'lstm', 'hidden=4', 'abc', 2, 5, 5, 100, 10, 0.2, 0.1, "
                              "0.4, 6, 7, 1.25, '2024-01-01T00:00:00Z'), ('hindcast', 'cycle-25', "
                              "'lstm', 'hidden=4', 'abc', 1, 5, 4, 100, 75, 400, 20, 0.3, -40, 6, "
                              "1.5, '2024-01-01T00:00:00Z')",
                              NULL, NULL, NULL),
                 "inserting results");
}

/* The last `lines` lines of the project's data/name into data_dir/name. */
static void copy_tail(const char *name, const char *data_dir, size_t lines)
{
    char from[256], to[2048];
    snprintf(from, sizeof from, "data/%s", name);
    char *path = tu_path(from);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    free(path);
    assert_non_null(text);
    size_t start = len, seen = 0;
    while (start > 0 && seen <= lines)
        if (text[--start] == '\n' && start + 1 < len)
            seen++;
    start = seen > lines ? start + 1 : 0;
    snprintf(to, sizeof to, "%s/%s", data_dir, name);
    assert_int_equal(tu_write_file(to, text + start, len - start), 0);
    free(text);
}

/* A data directory that keeps the database small, so that every check of it is quick: the last
 * 50 years of the bundled SILSO series, the noise presets, and a tiny default model (the tiny
 * configuration the integration tests train, untrained, with made-up conformal residuals). */
static void make_data_dir(const char *data_dir)
{
    char path[2048];
    assert_int_equal(mkdir(data_dir, 0755), 0);
    copy_tail(BOOTSTRAP_MONTHLY_FILE, data_dir, 600);
    copy_tail(BOOTSTRAP_SMOOTHED_FILE, data_dir, 600);
    copy_tail("noise_presets.json", data_dir, 100000);
    snprintf(path, sizeof path, "%s/models", data_dir);
    assert_int_equal(mkdir(path, 0755), 0);
    struct model *m = NULL;
    fw_error err = {0};
    assert_int_equal(model_create("gated-qkan-fwp",
                                  "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3", 7,
                                  &m, &err),
                     0);
    struct forecaster *f = NULL;
    struct scaler scaler = {0, 400};
    assert_int_equal(forecaster_create(m, &scaler, &f), 0);
    f->n_calibration = 8;
    f->residuals = malloc(6 * f->n_calibration * sizeof *f->residuals);
    assert_non_null(f->residuals);
    for (size_t i = 0; i < 6 * f->n_calibration; i++) /* sorted per step */
        f->residuals[i] = 0.01 * (double)(i % f->n_calibration + 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    snprintf(path, sizeof path, "%s/models/default.fwp", data_dir);
    assert_int_equal(tu_write_file(path, bytes, len), 0);
    free(bytes);
    forecaster_free(f);
}

static int group_setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    snprintf(work_db, sizeof work_db, "%s/work.db", dir);
    snprintf(template_db, sizeof template_db, "%s/template.db", dir);
    static char data_dir[1024], static_dir[1024];
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    snprintf(static_dir, sizeof static_dir, "%s/static", tu_root());
    make_data_dir(data_dir);
    config = (struct app_config){.db_path = work_db,
                                 .data_dir = data_dir,
                                 .static_dir = static_dir,
                                 .token = TOKEN,
                                 .cors_origins = ORIGIN,
                                 .workers = 0, /* jobs are queued, never run */
                                 .train_threads = 1,
                                 .max_queued_jobs = 16,
                                 .max_points = 100000,
                                 .max_epochs = 10,
                                 .quiet = 1};
    fw_error err = {0};
    if (app_create(&config, &app, &err))
        fail_msg("app_create: %s", err.msg);
    open_side(work_db, &side);
    make_fixtures();
    make_inline_series();
    open_side(template_db, &template_conn);
    backup(template_conn, side);
    db_digest(side, template_digest);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_destroy(app);
    sqlite3_close(side);
    sqlite3_close(template_conn);
    free(export_binary.data), free(export_json.data), free(inline_series.data);
    tu_rmtree(dir);
    if (verbose)
        fprintf(stderr, "fault points: %ld allocation, %ld disk full, %ld I/O error\n",
                total_points[FK_ALLOC], total_points[FK_DISK_FULL], total_points[FK_IOERR]);
    return 0;
}

int main(void)
{
    install_alloc_hooks();
    install_fault_vfs();
    verbose = getenv("FAULTS_VERBOSE") && *getenv("FAULTS_VERBOSE") == '1';
    /* the cloud request is queued, never sent: fake keys let it get that far */
    setenv("IONQ_API_KEY", "faults-not-a-key", 1);
    setenv("IBM_CLOUD_API_KEY", "faults-not-a-key", 1);
    unsetenv("FWPCAST_CREDENTIALS");
    static struct CMUnitTest tests[2 * N_CASES];
    static char names[2 * N_CASES][96];
    for (size_t i = 0; i < N_CASES; i++) {
        snprintf(names[2 * i], sizeof names[0], "allocations: %s", cases[i].name);
        snprintf(names[2 * i + 1], sizeof names[0], "I/O errors: %s", cases[i].name);
        tests[2 * i] = (struct CMUnitTest){names[2 * i], test_alloc, NULL, NULL, (void *)&cases[i]};
        tests[2 * i + 1] =
            (struct CMUnitTest){names[2 * i + 1], test_io, NULL, NULL, (void *)&cases[i]};
    }
    return _cmocka_run_group_tests("faults", tests, 2 * N_CASES, group_setup, group_teardown);
}
