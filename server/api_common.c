/* api_common — helpers shared by the API handlers (see api.h). */
#include "db/db.h"
#include "ingest/import.h"
#include "db/store.h"
#include "base/period.h"
#include "server/api.h"
#include "base/textbuf.h"
#include "core/json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_json(struct http_response *resp, int status, json_t *value)
{
    api_json_digits(resp, status, value, 15);
}

void api_json_digits(struct http_response *resp, int status, json_t *value, int digits)
{
    char *text = value ? json_text(value, JSON_COMPACT | JSON_REAL_PRECISION(digits)) : NULL;
    json_decref(value);
    if (!text) {
        http_problem(resp, 500, "out of memory writing the response");
        return;
    }
    http_respond_owned(resp, status, "application/json", text, strlen(text));
}

static int content_type_is(const char *ct, const char *want)
{
    if (!ct)
        return 0;
    size_t n = strlen(want);
    return !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* JSON, or no type at all, or curl's default for -d (form-urlencoded), whose body is then
 * read as JSON: `curl -X POST host:8080/forecast -d '{"h": 12}'` works as typed. */
static int json_content_type(const char *ct)
{
    return !ct || content_type_is(ct, "application/json") ||
           content_type_is(ct, "application/x-www-form-urlencoded");
}

json_t *api_parse_object_or_empty(const struct http_request *req, struct http_response *resp)
{
    size_t i = 0;
    while (i < req->body_len && (req->body[i] == ' ' || req->body[i] == '\n' ||
                                 req->body[i] == '\r' || req->body[i] == '\t'))
        i++;
    if (i == req->body_len && json_content_type(req->content_type)) {
        json_t *empty = json_object();
        if (!empty)
            http_problem(resp, 500, "out of memory");
        return empty;
    }
    return api_parse_object(req, resp);
}

int api_json_out_of_memory(const json_error_t *jerr)
{
    return json_error_code(jerr) == json_error_out_of_memory || jerr->text[0] == '\0';
}

json_t *api_parse_object(const struct http_request *req, struct http_response *resp)
{
    if (!json_content_type(req->content_type)) {
        http_problem(resp, 415, "send JSON with Content-Type: application/json (got '%.80s')",
                     req->content_type);
        return NULL;
    }
    if (req->body_len == 0) {
        http_problem(resp, 400, "the request needs a JSON body");
        return NULL;
    }
    if (memchr(req->body, '\0', req->body_len)) {
        /* jansson stops at a NUL after a complete token; JSON text never contains one */
        http_problem(resp, 400, "malformed JSON: the body contains a NUL byte");
        return NULL;
    }
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *obj = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj && api_json_out_of_memory(&jerr)) {
        http_problem(resp, 500, "out of memory reading the JSON body");
        return NULL;
    }
    if (!obj) {
        http_problem(resp, 400, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        http_problem(resp, 422, "the body must be a JSON object");
        return NULL;
    }
    return obj;
}

void api_fail(struct http_response *resp, int rc, const fw_error *err)
{
    int status;
    switch (rc) {
    case FW_ENOTFOUND:
        status = 404;
        break;
    case FW_ECONFLICT:
        status = 409;
        break;
    case FW_ETOOBIG:
        status = 413;
        break;
    case FW_EINVAL:
    case FW_ERANGE:
    case FW_EVERSION:
    case FW_ECORRUPT:
        status = 422;
        break;
    case FW_EDB:
    case FW_EIO:
        status = 503;
        break;
    case FW_ENOSPC:
        status = 507;
        break;
    default:
        status = 500;
        break;
    }
    const char *msg = err && err->msg[0] ? err->msg : fw_strerror(rc);
    http_problem(resp, status, "%s", msg);
}

sqlite3 *api_db(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = app_db(req->ctx);
    if (!db)
        http_problem(resp, 503, "the database is not available");
    return db;
}

int api_write_begin(sqlite3 *db, struct api_write *w, struct http_response *resp)
{
    fw_error err = {0};
    w->n_headers = resp->n_headers;
    int rc = db_tx_begin(db, &w->tx, &err);
    if (rc)
        api_fail(resp, rc, &err);
    return rc ? -1 : 0;
}

int api_write_end(struct api_write *w, struct http_response *resp)
{
    fw_error err = {0};
    int success = resp->status >= 200 && resp->status < 300;
    int rc = success ? db_tx_commit(&w->tx, &err) : FW_OK;
    db_tx_rollback(&w->tx); /* a no-op once committed */
    if (success && rc) {
        http_drop_headers(resp, w->n_headers);
        api_fail(resp, rc, &err);
    }
    return success && !rc ? 0 : -1;
}

int api_known_members(const json_t *obj, const char *const *known, struct http_response *resp)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(key, known[i]);
        if (!ok) {
            http_problem(resp, 422, "unknown member '%.60s'", key);
            return -1;
        }
    }
    return 0;
}

int api_int_member(const json_t *obj, const char *key, long long def, long long min, long long max,
                   long long *out, struct http_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v)) {
        http_problem(resp, 422, "'%s' must be an integer", key);
        return -1;
    }
    long long x = json_integer_value(v);
    if (x < min || x > max) {
        http_problem(resp, 422, "'%s' = %lld: must be in %lld..%lld", key, x, min, max);
        return -1;
    }
    *out = x;
    return 0;
}

int api_read_series(const struct http_request *req, const json_t *body, struct month_series *out,
                    struct http_response *resp)
{
    memset(out, 0, sizeof *out);
    const json_t *dataset = json_object_get(body, "dataset");
    const json_t *series = json_object_get(body, "series");
    json_t *bundled = NULL;
    fw_error err = {0};
    if (!dataset && !series) {
        /* neither given: the bundled SILSO monthly series, if the database has it (a database
         * that fails is not a missing dataset) */
        sqlite3 *db = api_db(req, resp);
        int64_t id = 0;
        int rc = db ? store_dataset_find(db, "silso-monthly", &id, &err) : FW_EDB;
        if (rc && rc != FW_ENOTFOUND) {
            if (db)
                api_fail(resp, rc, &err);
            return -1;
        }
        if (!rc && !(dataset = bundled = json_integer(id))) {
            http_problem(resp, 500, "out of memory");
            return -1;
        }
    }
    if ((dataset != NULL) == (series != NULL)) {
        http_problem(resp, 422,
                     "give either \"dataset\": id or \"series\": [{\"period\": "
                     "\"YYYY-MM\", \"value\": number}, ...]");
        return -1;
    }
    if (dataset) {
        int rc = FW_EINVAL;
        if (!json_is_integer(dataset) || json_integer_value(dataset) <= 0)
            http_problem(resp, 422, "'dataset' must be a positive integer id");
        else if ((rc = app_dataset_series(req->ctx, json_integer_value(dataset), out, &err)))
            api_fail(resp, rc == FW_ENOTFOUND ? FW_EINVAL : rc, &err);
        json_decref(bundled);
        return rc ? -1 : 0;
    }
    if (!json_is_array(series)) {
        http_problem(resp, 422, "'series' must be an array of {\"period\", \"value\"}");
        return -1;
    }
    /* the importer reads the points as a JSON body's: periods, gaps, duplicates and values */
    struct import_options opt = {.format = IMPORT_JSON, .name = "inline"};
    struct import_result *r = NULL;
    int rc = import_json_points(series, &opt, &r, &err);
    if (rc == FW_ENOMEM) {
        api_fail(resp, rc, &err);
        return -1;
    }
    if (rc) {
        http_problem(resp, 422, "series: %s", err.msg);
        return -1;
    }
    rc = month_series_from_points(r->points, r->n_points, out, &err);
    if (rc == FW_EINVAL)
        http_problem(resp, 422, "the series must be monthly and not empty");
    else if (rc)
        api_fail(resp, rc, &err);
    else
        memcpy(out->sha256, r->sha256, sizeof out->sha256);
    import_result_free(r);
    return rc ? -1 : 0;
}
