/*
 * parse_json — the JSON body {"name", "frequency", "unit", "source", "points": [...]} (see
 * import.h), read with jansson (duplicate keys refused). Points into the caller's struct series,
 * name, unit and source into the caller's result; the parsed document is freed here.
 */
#include "ingest/parse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define JSON_MISSING_HOW "add the point with \"value\": null to mark a missing value"

static int json_text_member(json_t *root, const char *key, char *dst, size_t cap, fw_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return FW_OK;
    if (!json_is_string(v))
        return fw_error_set(err, FW_EINVAL, "\"%s\" must be a string", key);
    if (json_string_length(v) >= cap)
        return fw_error_set(err, FW_EINVAL, "\"%s\" is longer than %zu bytes", key, cap - 1);
    snprintf(dst, cap, "%s", json_string_value(v));
    return FW_OK;
}

static int json_point(json_t *point, size_t i, struct series *s, fw_error *err)
{
    char where[WHERE_MAX];
    const char *key;
    json_t *v;
    snprintf(where, sizeof where, "points[%zu]", i);
    if (!json_is_object(point))
        return fw_error_set(err, FW_EINVAL, "%s: expected an object {\"period\", \"value\"}",
                            where);
    json_object_foreach(point, key, v)
    {
        if (strcmp(key, "period") && strcmp(key, "value") && strcmp(key, "std") &&
            strcmp(key, "n_obs") && strcmp(key, "provisional"))
            return fw_error_set(err, FW_EINVAL,
                                "%s: unknown key \"%.40s\" (a point has period, value, std, "
                                "n_obs, provisional)",
                                where, key);
    }
    json_t *period = json_object_get(point, "period");
    if (!json_is_string(period))
        return fw_error_set(err, FW_EINVAL, "%s: \"period\" must be a string such as \"%s\"", where,
                            s->frequency == STORE_FREQ_YEAR ? "2024" : "2024-10");
    struct field pf = {json_string_value(period), json_string_length(period)};
    enum store_frequency frequency;
    int index;
    if (ingest_scan_period(pf, &frequency, &index) != 0 || frequency != s->frequency) {
        char shown[QUOTE_MAX + 4];
        ingest_quote(pf, shown);
        return fw_error_set(err, FW_EINVAL, "%s: expected a period %s, got \"%s\"", where,
                            s->frequency == STORE_FREQ_MONTH ? "YYYY-MM or YYYY-MM-DD" : "YYYY",
                            shown);
    }

    double value = NAN, std = NAN;
    int n_obs = -1, provisional = 0;
    json_t *jv = json_object_get(point, "value");
    if (!jv)
        return fw_error_set(err, FW_EINVAL,
                            "%s: \"value\" is required (null marks a missing "
                            "value)",
                            where);
    if (json_is_number(jv))
        value = json_number_value(jv);
    else if (!json_is_null(jv))
        return fw_error_set(err, FW_EINVAL, "%s: \"value\" must be a number or null", where);
    if (json_is_number(jv) && !isfinite(value))
        return fw_error_set(err, FW_EINVAL, "%s: \"value\" must be finite", where);

    if ((jv = json_object_get(point, "std")) && !json_is_null(jv)) {
        if (!json_is_number(jv) || !(json_number_value(jv) >= 0) ||
            !isfinite(json_number_value(jv)))
            return fw_error_set(err, FW_EINVAL, "%s: \"std\" must be a number >= 0 or null", where);
        std = json_number_value(jv);
    }
    if ((jv = json_object_get(point, "n_obs")) && !json_is_null(jv)) {
        if (!json_is_integer(jv) || json_integer_value(jv) < 0 ||
            json_integer_value(jv) > 100000000)
            return fw_error_set(err, FW_EINVAL, "%s: \"n_obs\" must be an integer >= 0 or null",
                                where);
        n_obs = (int)json_integer_value(jv);
    }
    if ((jv = json_object_get(point, "provisional")) && !json_is_null(jv)) {
        if (json_is_boolean(jv))
            provisional = json_is_true(jv);
        else if (json_is_integer(jv) &&
                 (json_integer_value(jv) == 0 || json_integer_value(jv) == 1))
            provisional = (int)json_integer_value(jv);
        else
            return fw_error_set(err, FW_EINVAL, "%s: \"provisional\" must be true or false", where);
    }
    return ingest_series_add(s, where, index, value, std, n_obs, provisional, JSON_MISSING_HOW,
                             err);
}

/* jansson says "out of memory" in the error's code, or, when it could not even start (its lexer's
 * buffer), with no message at all: a parse error always has one. */
static int json_out_of_memory(const json_error_t *jerr)
{
    return json_error_code(jerr) == json_error_out_of_memory || jerr->text[0] == '\0';
}

int ingest_json_points(const json_t *points, struct series *s, fw_error *err)
{
    if (!json_is_array(points))
        return fw_error_set(err, FW_EINVAL,
                            "\"points\" must be an array of "
                            "{\"period\", \"value\"} objects");
    for (size_t i = 0; i < json_array_size(points); i++) {
        int rc = json_point(json_array_get(points, i), i, s, err);
        if (rc)
            return rc;
    }
    return FW_OK;
}

int ingest_parse_json(const char *data, size_t len, struct series *s, struct import_result *res,
                      fw_error *err)
{
    json_error_t jerr;
    memset(&jerr, 0, sizeof jerr);
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *key;
    json_t *v;
    int rc = FW_OK;
    if (!root && json_out_of_memory(&jerr))
        return fw_error_set(err, FW_ENOMEM, "out of memory reading the JSON");
    if (!root)
        return fw_error_set(err, FW_EINVAL, "line %d, column %d: invalid JSON: %s", jerr.line,
                            jerr.column, jerr.text);
    if (!json_is_object(root)) {
        rc = fw_error_set(err, FW_EINVAL,
                          "line 1, column 1: the JSON body must be an object "
                          "{\"name\", \"frequency\", \"points\": [...]}");
        goto cleanup;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "frequency") && strcmp(key, "unit") &&
            strcmp(key, "source") && strcmp(key, "points")) {
            rc = fw_error_set(err, FW_EINVAL,
                              "unknown key \"%.40s\" (the body has name, frequency, unit, "
                              "source, points)",
                              key);
            goto cleanup;
        }
    }
    if ((rc = json_text_member(root, "name", res->name, sizeof res->name, err)) ||
        (rc = json_text_member(root, "unit", res->unit, sizeof res->unit, err)) ||
        (rc = json_text_member(root, "source", res->source, sizeof res->source, err)))
        goto cleanup;
    json_t *frequency = json_object_get(root, "frequency");
    s->frequency = STORE_FREQ_MONTH;
    if (frequency && (!json_is_string(frequency) ||
                      store_frequency_parse(json_string_value(frequency), &s->frequency))) {
        rc = fw_error_set(err, FW_EINVAL, "\"frequency\" must be \"month\" or \"year\"");
        goto cleanup;
    }
    rc = ingest_json_points(json_object_get(root, "points"), s, err);
cleanup:
    json_decref(root);
    return rc;
}
