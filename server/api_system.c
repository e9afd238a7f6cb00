/* api_system — /healthz, /metrics and the dashboard's static files. */
#include "db/store.h"
#include "server/api.h"
#include "core/jobs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void api_healthz(const struct http_request *req, struct http_response *resp)
{
    const struct app_config *cfg = app_config(req->ctx);
    sqlite3 *db = app_db(req->ctx);
    int64_t count = 0;
    int db_ok = db && store_dataset_count(db, &count, NULL) == FW_OK;
    int alive = jobs_alive(app_jobs(req->ctx));
    int ok = db_ok && alive == cfg->workers;
    api_json(resp, ok ? 200 : 503,
             json_pack("{s:s, s:s, s:i, s:i, s:I}", "status", ok ? "ok" : "degraded", "db",
                       db_ok ? "ok" : "unavailable", "workers", alive, "workers_configured",
                       cfg->workers, "datasets", (json_int_t)count));
}

void api_metrics(const struct http_request *req, struct http_response *resp)
{
    size_t len = 0;
    char *text = app_metrics_text(req->ctx, &len);
    if (!text) {
        http_problem(resp, 500, "out of memory");
        return;
    }
    http_respond_owned(resp, 200, "text/plain; version=0.0.4", text, len);
}

static const char *content_type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".mjs", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".json", "application/json"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"},
                 {".txt", "text/plain; charset=utf-8"},
                 {".md", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* A request path is served only if no segment is "." or "..", it has no backslash or control
 * character, and the file it names (symlinks resolved) lies inside the static directory. */
static int safe_relative(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\'))
        return 0;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20)
            return 0;
    const char *seg = path + 1;
    while (*seg) {
        size_t len = strcspn(seg, "/");
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        seg += len;
        if (*seg == '/')
            seg++;
    }
    return 1;
}

void api_static(const struct http_request *req, struct http_response *resp)
{
    const char *dir = app_config(req->ctx)->static_dir;
    if (!dir || !safe_relative(req->path) || strlen(req->path) > 1024) {
        http_problem(resp, 404, "no such resource: %s", req->path);
        return;
    }
    char wanted[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    const char *rel = req->path[1] ? req->path : "/index.html";
    snprintf(wanted, sizeof wanted, "%s%s", dir, rel);
    struct stat st;
    if (!realpath(dir, real_dir) || !realpath(wanted, real_file) ||
        strncmp(real_file, real_dir, strlen(real_dir)) || real_file[strlen(real_dir)] != '/' ||
        stat(real_file, &st) || !S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024) {
        http_problem(resp, 404, "no such resource: %s", req->path);
        return;
    }
    FILE *f = fopen(real_file, "rb");
    char *buf = f ? malloc((size_t)st.st_size + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    if (f)
        fclose(f);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        http_problem(resp, 500, "cannot read %s", req->path);
        return;
    }
    http_respond_owned(resp, 200, content_type_of(real_file), buf, got);
    http_add_header(resp, "Cache-Control", "no-cache");
    /* the dashboard runs only its own files (no inline script or style) and is never framed */
    http_add_header(resp, "Content-Security-Policy",
                    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                    "form-action 'none'; object-src 'none'");
    http_add_header(resp, "Referrer-Policy", "no-referrer");
}
