/*
 * api — the handlers of the HTTP API, one function per route (server/api_*.c). Each reads a
 * borrowed request and fills a response it owns; errors are problem+json with the right status:
 * 400 malformed JSON, 404 unknown id, 409 conflict, 413 too large, 415 wrong content type,
 * 422 well-formed but invalid, 500 out of memory, 503 the database failing, 507 the disk full.
 * Helpers shared by the handlers live here too.
 */
#ifndef FW_API_H
#define FW_API_H

#include <jansson.h>

#include "base/sha256.h"
#include "db/db.h"
#include "server/app.h"
#include "server/http.h"

typedef void (*api_handler)(const struct http_request *req, struct http_response *resp);

/* system */
void api_healthz(const struct http_request *req, struct http_response *resp);
void api_metrics(const struct http_request *req, struct http_response *resp);
void api_static(const struct http_request *req, struct http_response *resp);

/* datasets */
void api_datasets_create(const struct http_request *req, struct http_response *resp);
void api_datasets_list(const struct http_request *req, struct http_response *resp);
void api_datasets_get(const struct http_request *req, struct http_response *resp);
void api_datasets_delete(const struct http_request *req, struct http_response *resp);

/* models and jobs */
void api_models_create(const struct http_request *req, struct http_response *resp);
void api_models_list(const struct http_request *req, struct http_response *resp);
void api_models_get(const struct http_request *req, struct http_response *resp);
void api_models_delete(const struct http_request *req, struct http_response *resp);
void api_models_export(const struct http_request *req, struct http_response *resp);
void api_models_import(const struct http_request *req, struct http_response *resp);
void api_jobs_get(const struct http_request *req, struct http_response *resp);
void api_jobs_cancel(const struct http_request *req, struct http_response *resp);
void api_jobs_resume(const struct http_request *req, struct http_response *resp);

/* comparisons */
void api_compare(const struct http_request *req, struct http_response *resp);
void api_hindcasts(const struct http_request *req, struct http_response *resp);

/* forecasts */
void api_forecast(const struct http_request *req, struct http_response *resp);
void api_backtest(const struct http_request *req, struct http_response *resp);

/* --- helpers --- */

/* Serialises and sends a JSON value (stolen) with a status; numbers with 15 significant digits,
 * or `digits`. */
void api_json(struct http_response *resp, int status, json_t *value);
void api_json_digits(struct http_response *resp, int status, json_t *value, int digits);

/* 1 when a failed jansson parse ran out of memory: jansson says so in the error's code, or, when
 * it could not even start (its lexer's buffer), with no message at all (a parse error always has
 * one). jerr must have been zeroed before the parse. */
int api_json_out_of_memory(const json_error_t *jerr);

/* Parses the body as a JSON object. On failure fills resp (400 malformed, 415 not JSON when a
 * content type says otherwise, 422 not an object, 500 out of memory) and returns NULL. */
json_t *api_parse_object(const struct http_request *req, struct http_response *resp);
/* The same, but an empty body reads as {} (for requests whose members all have defaults). */
json_t *api_parse_object_or_empty(const struct http_request *req, struct http_response *resp);

/* Maps an fw_status to an HTTP status (FW_ENOTFOUND 404, FW_ECONFLICT 409, FW_EINVAL 422,
 * FW_EDB 503, FW_ENOSPC 507, ...)
 * and fills a problem with the message. */
void api_fail(struct http_response *resp, int rc, const fw_error *err);

/* The database for this request, or a 503 problem and NULL. */
sqlite3 *api_db(const struct http_request *req, struct http_response *resp);

/* A write request's transaction: everything the handler writes between api_write_begin and
 * api_write_end commits only together with a successful (2xx) answer, so a request that fails
 * (out of memory building its answer, a full disk at commit) has changed nothing. Pattern:
 *
 *     struct api_write w;
 *     if (api_write_begin(db, &w, resp)) return;      // resp: a problem
 *     ... store writes; the whole answer, headers included ...
 *     if (api_write_end(&w, resp) == 0) ...           // committed: wake workers, drop caches
 *
 * api_write_end rolls back unless resp is a success; when the commit itself fails it replaces
 * the answer (and the headers the handler added) with the problem. Both return 0 or -1. */
struct api_write {
    struct db_tx tx;
    size_t n_headers; /* the response's headers when the write began */
};
int api_write_begin(sqlite3 *db, struct api_write *w, struct http_response *resp);
int api_write_end(struct api_write *w, struct http_response *resp);

/* 429 (and -1) when the server already has its maximum of queued and running jobs. */
int api_job_capacity(const struct http_request *req, sqlite3 *db, struct http_response *resp);

/* A 422 naming the first member of obj not in the NULL-terminated list known, and -1. */
int api_known_members(const json_t *obj, const char *const *known, struct http_response *resp);

/* Reads an optional integer member in [min, max] (def if absent); on a wrong type or range
 * fills a 422 naming the member and returns -1. */
int api_int_member(const json_t *obj, const char *key, long long def, long long min, long long max,
                   long long *out, struct http_response *resp);

/* Reads a monthly series from a request: {"dataset": id} or {"series": [{"period", "value"}]};
 * with neither, the bundled SILSO monthly dataset. The caller frees out (month_series_free).
 * Fills a problem and returns -1 on failure. */
int api_read_series(const struct http_request *req, const json_t *body, struct month_series *out,
                    struct http_response *resp);

#endif
