/* api_data — /datasets: import (JSON, CSV or SILSO text), list, read, delete. */
#include "db/import_store.h"
#include "db/store.h"
#include "base/period.h"
#include "server/api.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static json_t *meta_json(const struct store_dataset_meta *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "id",
                     (json_int_t)m->id, "name", m->name, "source", m->source, "frequency",
                     store_frequency_name(m->frequency), "unit", m->unit, "first_period",
                     m->first_period, "last_period", m->last_period, "rows",
                     (json_int_t)m->row_count, "missing", (json_int_t)m->missing_count, "sha256",
                     m->sha256, "created_at", m->created_at);
}

/* ct is `type` exactly, or `type` followed by parameters (";charset=..."). */
static int content_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && !strncasecmp(ct, type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int is_text_upload(const char *ct)
{
    return content_type_is(ct, "text/csv") || content_type_is(ct, "text/plain") ||
           content_type_is(ct, "application/csv");
}

void api_datasets_create(const struct http_request *req, struct http_response *resp)
{
    const struct app_config *cfg = app_config(req->ctx);
    struct import_options opt = {.max_bytes = req->body_len + 1};
    const char *ct = req->content_type;
    if (is_text_upload(ct)) {
        opt.format = IMPORT_AUTO; /* SILSO or CSV, told apart by the content */
        opt.name = http_query(req, "name");
        if (!opt.name || !*opt.name) {
            http_problem(resp, 422, "a CSV upload needs its name: POST /datasets?name=NAME");
            return;
        }
        size_t first = 0;
        while (first < req->body_len && strchr(" \t\r\n", req->body[first]) && req->body[first])
            first++;
        if (first < req->body_len && req->body[first] == '{') {
            http_problem(resp, 415, "this is JSON: send it with Content-Type: application/json");
            return;
        }
    } else if (!ct || content_type_is(ct, "application/json") ||
               content_type_is(ct, "application/x-www-form-urlencoded")) {
        /* JSON, also under curl's default -d type as on every other route */
        json_t *probe = api_parse_object(req, resp); /* 400/422 for malformed JSON */
        if (!probe)
            return;
        json_decref(probe);
        opt.format = IMPORT_JSON;
        opt.name = http_query(req, "name"); /* wins over the body's "name" */
        if (opt.name && !*opt.name) {
            http_problem(resp, 422,
                         "?name= is empty: give a name, or leave it out to use the "
                         "body's \"name\"");
            return;
        }
    } else {
        http_problem(resp, 415, "send a dataset as application/json or text/csv (got '%.80s')", ct);
        return;
    }
    opt.source = http_query(req, "source");
    fw_error err = {0};
    struct import_result *r = NULL;
    int rc = import_buffer(req->body, req->body_len, &opt, &r, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    if (cfg->max_points && r->n_points > cfg->max_points) {
        http_problem(resp, 413, "%zu points: this server takes at most %zu per dataset",
                     r->n_points, cfg->max_points);
        import_result_free(r);
        return;
    }
    sqlite3 *db = api_db(req, resp);
    struct api_write w;
    if (!db || api_write_begin(db, &w, resp)) {
        import_result_free(r);
        return;
    }
    int64_t id = 0;
    struct store_dataset_meta meta;
    if ((rc = import_result_to_store(db, r, &id, &err)) ||
        (rc = store_dataset_get_meta(db, id, &meta, &err))) {
        api_fail(resp, rc, &err);
    } else {
        char location[64];
        snprintf(location, sizeof location, "/datasets/%lld", (long long)id);
        api_json(resp, 201, meta_json(&meta));
        if (resp->status == 201)
            http_add_header(resp, "Location", location);
    }
    import_result_free(r);
    api_write_end(&w, resp);
}

void api_datasets_list(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    struct store_dataset_meta *items = NULL;
    size_t n = 0;
    fw_error err = {0};
    int rc = store_dataset_list(db, &items, &n, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    json_t *list = json_array();
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed |= json_array_append_new(list, meta_json(&items[i]));
    free(items);
    if (failed) { /* out of memory: a 500, not a list with datasets missing */
        json_decref(list);
        list = NULL;
    }
    api_json(resp, 200, list ? json_pack("{s:o}", "datasets", list) : NULL);
}

static int valid_bound(const char *text, enum store_frequency freq)
{
    int month;
    if (freq == STORE_FREQ_MONTH)
        return period_parse(text, &month) == FW_OK && strlen(text) == 7;
    return strlen(text) == 4 && strspn(text, "0123456789") == 4;
}

void api_datasets_get(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    fw_error err = {0};
    struct store_dataset_meta meta;
    int rc = store_dataset_get_meta(db, req->id, &meta, &err);
    if (rc) {
        api_fail(resp, rc, &err);
        return;
    }
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    if ((from && !valid_bound(from, meta.frequency)) || (to && !valid_bound(to, meta.frequency))) {
        http_problem(resp, 422, "from and to must be periods like %s",
                     meta.frequency == STORE_FREQ_MONTH ? "2019-12" : "2019");
        return;
    }
    struct store_dataset *ds = NULL;
    if ((rc = store_dataset_get(db, req->id, from, to, &ds, &err))) {
        api_fail(resp, rc, &err);
        return;
    }
    json_t *points = json_array();
    int failed = !points;
    for (size_t i = 0; !failed && i < ds->n_points; i++) {
        const struct store_point *p = &ds->points[i];
        json_t *pt = json_pack("{s:s, s:o}", "period", p->period, "value",
                               isnan(p->value) ? json_null() : json_real(p->value));
        if (!isnan(p->std))
            failed |= json_object_set_new(pt, "std", json_real(p->std));
        if (p->n_obs >= 0)
            failed |= json_object_set_new(pt, "n_obs", json_integer(p->n_obs));
        if (p->provisional)
            failed |= json_object_set_new(pt, "provisional", json_true());
        failed |= json_array_append_new(points, pt);
    }
    json_t *o = meta_json(&ds->meta);
    failed |= json_object_set_new(o, "points", points);
    store_dataset_free(ds);
    if (failed) { /* out of memory: a 500, not a dataset with points or members missing */
        json_decref(o);
        o = NULL;
    }
    api_json(resp, 200, o);
}

void api_datasets_delete(const struct http_request *req, struct http_response *resp)
{
    sqlite3 *db = api_db(req, resp);
    if (!db)
        return;
    fw_error err = {0};
    struct api_write w;
    if (api_write_begin(db, &w, resp))
        return;
    int rc = store_dataset_delete(db, req->id, &err);
    if (rc)
        api_fail(resp, rc, &err);
    else
        http_respond(resp, 204, NULL, "", 0);
    if (api_write_end(&w, resp) == 0)
        app_dataset_forget(req->ctx, req->id);
}
