/* Tests for the import (ingest/import.h, db/import_store.h): the bundled SILSO files and the
 * authors' CSV import exactly (rows, range, missing values, provisional flags); CSV and JSON
 * variants parse; every kind of broken input fails with a message naming the line and column (or
 * JSON element), and leaves the database exactly as it was. */
#include "testutil.h"
#include "db/db.h"
#include "db/import_store.h"
#include "db/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return tu_db_setup(state, "var/import.db");
}

static char *read_data(const char *rel, size_t *len)
{
    char *path = tu_path(rel);
    assert_non_null(path);
    char *data = tu_read_file(path, len);
    if (!data)
        fail_msg("cannot read %s (run from the project root or set FWPCAST_ROOT)", path);
    free(path);
    return data;
}

static int64_t import_ok(sqlite3 *db, const char *rel, const char *name)
{
    char *path = tu_path(rel);
    fw_error err = {0};
    struct import_options opt = {.name = name};
    int64_t id = 0;
    if (import_file_to_store(db, path, &opt, &id, &err))
        fail_msg("import %s: %s", rel, err.msg);
    free(path);
    return id;
}

/* --- the bundled data ----------------------------------------------------------------------- */

static void test_silso_monthly(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int64_t id = import_ok(f->db, "data/SN_m_tot_V2.0.csv", "monthly");
    struct store_dataset *ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, NULL, NULL, &ds, &err), 0);
    assert_int_equal(ds->meta.frequency, STORE_FREQ_MONTH);
    assert_int_equal(ds->meta.row_count, 3333);
    assert_int_equal(ds->n_points, 3333);
    assert_string_equal(ds->meta.first_period, "1749-01");
    assert_string_equal(ds->meta.last_period, "2026-09");
    assert_int_equal(ds->meta.missing_count, 0);
    /* Every month, in order (the store refuses gaps, but check the stored rows themselves). */
    for (size_t i = 0; i < ds->n_points; i++) {
        char expect[PERIOD_TEXT_MAX];
        period_format(1749 * 12 + (int)i, expect);
        assert_string_equal(ds->points[i].period, expect);
        assert_false(isnan(ds->points[i].value));
        /* Provisional exactly from 2026-04 on. */
        assert_int_equal(ds->points[i].provisional, strcmp(expect, "2026-04") >= 0);
    }
    /* Values, std and n_obs as in the file: first row, a row with std known, the last row. */
    assert_true(ds->points[0].value == 96.7);
    assert_true(isnan(ds->points[0].std));
    assert_int_equal(ds->points[0].n_obs, -1);
    assert_true(ds->points[3332].value == 60.3);
    assert_true(ds->points[3332].std == 13.0);
    assert_int_equal(ds->points[3332].n_obs, 1117);
    assert_int_equal(ds->points[3326].provisional, 0); /* 2026-03 */
    store_dataset_free(ds);
}

static void test_silso_smoothed_keeps_missing(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    int64_t id = import_ok(f->db, "data/SN_ms_tot_V2.0.csv", "smoothed");
    struct store_dataset *ds = NULL;
    assert_int_equal(store_dataset_get(f->db, id, NULL, NULL, &ds, &err), 0);
    assert_int_equal(ds->n_points, 3333);
    assert_int_equal(ds->meta.missing_count, 12);
    size_t missing = 0;
    for (size_t i = 0; i < ds->n_points; i++) {
        int expect_missing = i < 6 || i >= 3327; /* 1749-01..06 and 2026-04..09 */
        assert_int_equal(isnan(ds->points[i].value) != 0, expect_missing);
        missing += isnan(ds->points[i].value) != 0;
    }
    assert_int_equal(missing, 12);
    assert_string_equal(ds->points[3326].period, "2026-03");
    assert_true(ds->points[3326].value == 94.5);
    /* Stored as NULL, never as 0 or -1. */
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points WHERE value IS NULL"),
                     12);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points WHERE value < 0"), 0);
    store_dataset_free(ds);
}

static void test_silso_yearly(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct import_result *r = NULL;
    char *path = tu_path("data/SN_y_tot_V2.0.csv");
    assert_int_equal(import_file(path, NULL, &r, &err), 0);
    assert_int_equal(r->format, IMPORT_SILSO_YEARLY);
    assert_int_equal(r->frequency, STORE_FREQ_YEAR);
    assert_int_equal(r->n_points, 325);
    assert_string_equal(r->points[0].period, "1700");
    assert_true(r->points[0].value == 8.3);
    assert_string_equal(r->points[324].period, "2024");
    assert_true(r->points[324].value == 154.7);
    assert_int_equal(r->points[324].n_obs, 12265);
    assert_int_equal(r->missing_count, 0);
    assert_string_equal(r->name, ""); /* the caller names it */
    int64_t id;
    assert_int_equal(import_result_to_store(f->db, r, &id, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "name"));
    import_result_free(r);
    free(path);
    int64_t yid = import_ok(f->db, "data/SN_y_tot_V2.0.csv", "yearly");
    struct store_dataset_meta meta;
    assert_int_equal(store_dataset_get_meta(f->db, yid, &meta, &err), 0);
    assert_string_equal(meta.first_period, "1700");
    assert_string_equal(meta.last_period, "2024");
}

/* The authors' Kaggle-layout copy (index column, YYYY-MM-DD month ends, CRLF) equals SILSO's
 * monthly series except three late-2020 months (data/PROVENANCE.md). */
static void test_authors_csv_matches_silso(void **state)
{
    (void)state;
    fw_error err = {0};
    struct import_result *authors = NULL, *silso = NULL;
    char *a_path = tu_path("data/benchmarks/authors-Sunspots.csv");
    char *s_path = tu_path("data/SN_m_tot_V2.0.csv");
    assert_int_equal(import_file(a_path, NULL, &authors, &err), 0);
    assert_int_equal(import_file(s_path, NULL, &silso, &err), 0);
    assert_int_equal(authors->format, IMPORT_CSV);
    assert_int_equal(silso->format, IMPORT_SILSO_MONTHLY);
    assert_int_equal(authors->n_points, 3265);
    assert_string_equal(authors->points[0].period, "1749-01");
    assert_string_equal(authors->points[3264].period, "2021-01");
    assert_int_equal(authors->missing_count, 0);
    int differ = 0;
    for (size_t i = 0; i < authors->n_points; i++) {
        assert_string_equal(authors->points[i].period, silso->points[i].period);
        if (authors->points[i].value != silso->points[i].value) {
            differ++;
            assert_true(strcmp(authors->points[i].period, "2020-10") >= 0 &&
                        strcmp(authors->points[i].period, "2020-12") <= 0);
        }
    }
    assert_int_equal(differ, 3);
    import_result_free(authors);
    import_result_free(silso);
    free(a_path);
    free(s_path);
}

/* --- CSV and JSON variants ------------------------------------------------------------------ */

static struct import_result *parse_ok(const char *text, const struct import_options *opt)
{
    fw_error err = {0};
    struct import_result *r = NULL;
    if (import_buffer(text, strlen(text), opt, &r, &err))
        fail_msg("parse failed: %s\n--- input:\n%s", err.msg, text);
    return r;
}

static void test_csv_variants(void **state)
{
    (void)state;
    struct import_result *r;
    /* Header, empty value = missing, YYYY-MM-DD. */
    r = parse_ok("period,value\n2024-01-31,1.5\n2024-02-29,\n2024-03-31,-2e1\n", NULL);
    assert_int_equal(r->format, IMPORT_CSV);
    assert_int_equal(r->n_points, 3);
    assert_string_equal(r->points[1].period, "2024-02");
    assert_true(isnan(r->points[1].value));
    assert_true(r->points[2].value == -20); /* generic series may be negative */
    assert_int_equal(r->missing_count, 1);
    import_result_free(r);
    /* No header, CRLF, a byte order mark, spaces, quotes, a trailing blank line. */
    r = parse_ok("\xef\xbb\xbf\"Month\",\"Sunspots\"\r\n\"1749-01\", 58.0\r\n1749-02 ,62.6\r\n\r\n",
                 NULL);
    assert_int_equal(r->n_points, 2);
    assert_true(r->points[1].value == 62.6);
    import_result_free(r);
    r = parse_ok("1749-01,58\n1749-02,62.6", NULL); /* no header, no final newline */
    assert_int_equal(r->n_points, 2);
    import_result_free(r);
    /* A yearly CSV. */
    r = parse_ok("year,value\n1700,8.3\n1701,18.3\n", NULL);
    assert_int_equal(r->frequency, STORE_FREQ_YEAR);
    assert_string_equal(r->points[1].period, "1701");
    import_result_free(r);
    /* Options name the dataset. */
    struct import_options opt = {.name = "given", .source = "src", .unit = "u"};
    r = parse_ok("2024-01,1\n", &opt);
    assert_string_equal(r->name, "given");
    assert_string_equal(r->source, "src");
    assert_string_equal(r->unit, "u");
    import_result_free(r);
}

static void test_json_body(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    const char *body = "{\"name\": \"cycle25\", \"frequency\": \"month\", \"unit\": \"SN\","
                       " \"points\": [{\"period\": \"2024-10\", \"value\": 160.9},"
                       " {\"period\": \"2024-11\", \"value\": null, \"provisional\": true},"
                       " {\"period\": \"2024-12\", \"value\": 154, \"std\": 1.5, \"n_obs\": 30}]}";
    struct import_result *r = parse_ok(body, NULL);
    assert_int_equal(r->format, IMPORT_JSON);
    assert_string_equal(r->name, "cycle25");
    assert_string_equal(r->unit, "SN");
    assert_int_equal(r->n_points, 3);
    assert_true(isnan(r->points[1].value));
    assert_int_equal(r->points[1].provisional, 1);
    assert_true(r->points[2].value == 154);
    assert_int_equal(r->points[2].n_obs, 30);
    assert_int_equal(r->missing_count, 1);
    import_result_free(r);

    int64_t id;
    assert_int_equal(import_buffer_to_store(f->db, body, strlen(body), NULL, &id, &err), 0);
    int64_t found;
    assert_int_equal(store_dataset_find(f->db, "cycle25", &found, &err), 0);
    assert_int_equal(found, id);
    /* The same name again conflicts and writes nothing; an option renames it. */
    assert_int_equal(import_buffer_to_store(f->db, body, strlen(body), NULL, &id, &err),
                     FW_ECONFLICT);
    struct import_options opt = {.name = "renamed"};
    assert_int_equal(import_buffer_to_store(f->db, body, strlen(body), &opt, &id, &err), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 2);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 6);

    r = parse_ok("{\"name\":\"y\",\"frequency\":\"year\",\"points\":[{\"period\":\"1700\","
                 "\"value\":8.3}]}",
                 NULL);
    assert_int_equal(r->frequency, STORE_FREQ_YEAR);
    import_result_free(r);
}

/* Expects a parse failure with `code` whose message contains each of the given pieces. */
static void expect_parse_error(const char *text, size_t len, int code, const char *piece1,
                               const char *piece2)
{
    fw_error err = {0};
    struct import_result *r = NULL;
    int rc = import_buffer(text, len, NULL, &r, &err);
    if (rc != code)
        fail_msg("expected %d, got %d (%s) for:\n%.*s", code, rc, err.msg, (int)len, text);
    assert_null(r);
    if (piece1 && !strstr(err.msg, piece1))
        fail_msg("message '%s' lacks '%s'", err.msg, piece1);
    if (piece2 && !strstr(err.msg, piece2))
        fail_msg("message '%s' lacks '%s'", err.msg, piece2);
}

#define EXPECT_ERROR(text, piece1, piece2)                                                         \
    expect_parse_error(text, strlen(text), FW_EINVAL, piece1, piece2)

static void test_csv_errors(void **state)
{
    (void)state;
    EXPECT_ERROR("", "line 1, column 1", "empty");
    EXPECT_ERROR(" \r\n\n\t\n", "line 1, column 1", "empty");
    EXPECT_ERROR("period,value\n", "line 2", "no data");
    EXPECT_ERROR("2024-01,1\n2024-02,abc\n", "line 2, column 2", "'abc'");
    EXPECT_ERROR("2024-01,1\n2024-02,NaN\n", "line 2, column 2", "NaN");
    EXPECT_ERROR("2024-01,1\n2024-02,-inf\n", "line 2, column 2", "finite");
    EXPECT_ERROR("2024-01,1\n2024-02,1e999\n", "line 2, column 2", "range");
    EXPECT_ERROR("2024-01,1\n2024-02,0x10\n", "line 2, column 2", "0x10");
    EXPECT_ERROR("2024-01,1\n2024-02,1,2\n", "line 2, column 3", "extra");
    EXPECT_ERROR("2024-01,1\n2024-02\n", "line 2, column 2", "missing field");
    EXPECT_ERROR("a,b,c,d\n2024-01,1\n", "line 1", "found 4");
    EXPECT_ERROR("2024-01,1\n2024-13,2\n", "line 2, column 1", "2024-13");
    EXPECT_ERROR("2024-01,1\n2024,2\n", "line 2, column 1", "'2024'");
    EXPECT_ERROR("2024-01,1\n2024-01,2\n", "line 2, column 1", "repeats the period of line 1");
    EXPECT_ERROR("2024-02,1\n2024-03,2\n2024-01,2\n", "line 3, column 1",
                 "2024-01 comes after 2024-03 (line 2); periods must increase");
    EXPECT_ERROR("2024-01,1\n2024-04,2\n", "line 2, column 1",
                 "skipping 2 months (2024-02..2024-03)");
    EXPECT_ERROR(",Date,Value\nx,1749-01-31,1\n", "line 2, column 1", "row index");
    /* A bad first data row is reported, not taken for a header. */
    EXPECT_ERROR("2024-13,5\n2024-02,1\n", "line 1, column 1", "2024-13");
}

static void test_encoding_errors(void **state)
{
    (void)state;
    const char nul[] = "2024-01,1\n2024-02,2\0\n";
    expect_parse_error(nul, sizeof nul - 1, FW_EINVAL, "line 2, column 10", "NUL");
    EXPECT_ERROR("2024-01,1\n2024-02,\xff\n", "line 2, column 9", "UTF-8");
    EXPECT_ERROR("2024-01,1\nx\xc3(\n", "line 2, column 2", "UTF-8");         /* bad continuation */
    EXPECT_ERROR("2024-01,1\n\xc0\xaf,1\n", "line 2, column 1", "UTF-8");     /* overlong */
    EXPECT_ERROR("2024-01,1\n\xed\xa0\x80,1\n", "line 2, column 1", "UTF-8"); /* surrogate */
    EXPECT_ERROR("2024-01,1\n2024-02,2\xe2\x82", "line 2, column 10", "UTF-8"); /* cut short */
    /* Valid multi-byte text before the error counts as one column per character. */
    EXPECT_ERROR("2024-01,1\n\xc3\xa9\xc3\xa9,\xff\n", "line 2, column 4", "UTF-8");
}

static void test_json_errors(void **state)
{
    (void)state;
    EXPECT_ERROR("{\"name\": \"x\",\n \"points\": [}", "line 2", "invalid JSON");
    EXPECT_ERROR("[1, 2]", "must be an object", NULL);
    EXPECT_ERROR("{\"points\": []}", "empty", NULL);
    EXPECT_ERROR("{\"points\": {}}", "\"points\" must be an array", NULL);
    EXPECT_ERROR("{\"nmae\": \"x\", \"points\": []}", "unknown key \"nmae\"", NULL);
    EXPECT_ERROR("{\"frequency\": \"day\", \"points\": []}", "frequency", NULL);
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": \"160\"}]}", "points[0]",
                 "number or null");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\"}]}", "points[0]", "required");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": 1},"
                 " {\"period\": \"2024-03\", \"value\": 2}]}",
                 "points[1]", "skipping 1 month");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": 1},"
                 " {\"period\": \"2024-01\", \"value\": 2}]}",
                 "points[1]", "repeats the period of points[0]");
    EXPECT_ERROR("{\"points\": [{\"period\": 2024, \"value\": 1}]}", "points[0]", "period");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": 1, \"std\": -1}]}",
                 "points[0]", "std");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": 1, \"extra\": 1}]}",
                 "points[0]", "extra");
    EXPECT_ERROR("{\"name\": \"a\", \"name\": \"b\", \"points\": []}", "line 1", "duplicate");
    EXPECT_ERROR("{\"points\": [{\"period\": \"2024-01\", \"value\": 1e999}]}", "invalid JSON",
                 NULL);
}

/* --- broken copies of the real file leave the database unchanged ---------------------------- */

/* The real monthly file with line `line` (1-based) replaced by `replacement` (which may hold
 * several lines, or be "" to delete the line). */
static char *edit_line(const char *data, size_t len, int line, const char *replacement,
                       size_t *out_len)
{
    size_t start = 0;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(data + start, '\n', len - start);
        assert_non_null(nl);
        start = (size_t)(nl - data) + 1;
    }
    const char *nl = memchr(data + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - data) + 1 : len;
    size_t rlen = strlen(replacement);
    char *out = malloc(len - (end - start) + rlen + 1);
    assert_non_null(out);
    memcpy(out, data, start);
    memcpy(out + start, replacement, rlen);
    memcpy(out + start + rlen, data + end, len - end);
    *out_len = len - (end - start) + rlen;
    out[*out_len] = '\0';
    return out;
}

struct broken_case {
    int line;                /* line to edit; 0: use `whole` as the file */
    const char *replacement; /* the new text of that line */
    const char *whole;
    const char *expect1; /* pieces the message must contain */
    const char *expect2;
};

static void test_broken_copies_change_nothing(void **state)
{
    struct tu_db *f = *state;
    size_t len = 0;
    char *good = read_data("data/SN_m_tot_V2.0.csv", &len);
    /* Something already in the database, which must stay exactly as it is. */
    import_ok(f->db, "data/SN_ms_tot_V2.0.csv", "existing");
    long long datasets = tu_query_int(f->db, "SELECT count(*) FROM datasets");
    long long points = tu_query_int(f->db, "SELECT count(*) FROM dataset_points");
    long long seq = tu_query_int(f->db, "SELECT seq FROM sqlite_sequence WHERE name = 'datasets'");

    const struct broken_case cases[] = {
        {12, "1749;12;1749.958; abc; -1.0;   -1;1\n", NULL, "line 12, column 4", "'abc'"},
        {12, "1749;12;1749.958;  NaN; -1.0;   -1;1\n", NULL, "line 12, column 4", "NaN"},
        {12, "1749;12;1749.958;  -5.0; -1.0;   -1;1\n", NULL, "line 12, column 4", "negative"},
        {12, "1749;12;1749.958; 80.0; -1.0;   xx;1\n", NULL, "line 12, column 6", "'xx'"},
        {12, "1749;12;1749.958; 80.0; -1.0;   -1;7\n", NULL, "line 12, column 7", "'7'"},
        {12, "1749;12;1750.958; 80.0; -1.0;   -1;1\n", NULL, "line 12, column 3", "1749-12"},
        {12, "1749;12;1749.958; 80.0; -1.0;1\n", NULL, "line 12, column 7", "found 6"},
        {3333, "2026;09;2026.70", NULL, "line 3333, column 4", "missing field"},
        {3333, "2026;09;2026.705;  60.3; 13.0; 1117;", NULL, "line 3333, column 7", "''"},
        {101, "1757;05;1757.371;  49.0; -1.0;   -1;1\n1757;05;1757.371;  49.0; -1.0;   -1;1\n",
         NULL, "line 102, column 1", "repeats the period of line 101"},
        {200, "", NULL, "line 200, column 1", "skipping 1 month (1765-08)"},
        {300, "1773;10;1773.790;  10.0; -1.0;   -1;1\n", NULL, "line 300, column 1",
         "comes after 1773-11 (line 299); periods must increase"},
        {50, "1753;02;1753.123;  \xff; -1.0;   -1;1\n", NULL, "line 50, column 20", "UTF-8"},
        {0, NULL, "", "line 1, column 1", "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct broken_case *c = &cases[i];
        size_t blen;
        char *broken =
            c->line ? edit_line(good, len, c->line, c->replacement, &blen) : strdup(c->whole);
        assert_non_null(broken);
        if (!c->line)
            blen = strlen(broken);
        char path[600];
        snprintf(path, sizeof path, "%s/broken-%zu.csv", f->dir, i);
        assert_int_equal(tu_write_file(path, broken, blen), 0);
        fw_error err = {0};
        struct import_options opt = {.name = "broken"};
        int64_t id = -1;
        int rc = import_file_to_store(f->db, path, &opt, &id, &err);
        if (rc != FW_EINVAL)
            fail_msg("case %zu: expected FW_EINVAL, got %d (%s)", i, rc, err.msg);
        if (!strstr(err.msg, c->expect1) || !strstr(err.msg, c->expect2))
            fail_msg("case %zu: message '%s' lacks '%s' or '%s'", i, err.msg, c->expect1,
                     c->expect2);
        assert_int_equal(id, -1); /* outputs untouched on failure */
        assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), datasets);
        assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), points);
        free(broken);
    }
    assert_int_equal(tu_query_int(f->db, "SELECT seq FROM sqlite_sequence WHERE name = 'datasets'"),
                     seq);
    /* And the unbroken file imports. */
    import_ok(f->db, "data/SN_m_tot_V2.0.csv", "fine");
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), points + 3333);
    free(good);
}

/* A failure while the points are being written (forced by a trigger on the 3000th) rolls the
 * whole import back. */
static void test_store_failure_rolls_back(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    size_t len = 0;
    char *good = read_data("data/SN_m_tot_V2.0.csv", &len);
    assert_int_equal(sqlite3_exec(f->db,
                                  "CREATE TEMP TRIGGER fail_late BEFORE INSERT ON"
                                  " main.dataset_points WHEN NEW.period = '1998-12'"
                                  " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct import_options opt = {.name = "doomed"};
    int64_t id = -1;
    assert_true(import_buffer_to_store(f->db, good, len, &opt, &id, &err) < 0);
    assert_non_null(strstr(err.msg, "disk trouble"));
    assert_int_equal(id, -1);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM dataset_points"), 0);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
    free(good);
}

static void test_size_limits(void **state)
{
    struct tu_db *f = *state;
    fw_error err = {0};
    struct import_result *r = NULL;
    char *path = tu_path("data/SN_m_tot_V2.0.csv");
    struct import_options small = {.name = "x", .max_bytes = 1000};
    assert_int_equal(import_file(path, &small, &r, &err), FW_ETOOBIG);
    assert_non_null(strstr(err.msg, "126654 bytes"));
    assert_non_null(strstr(err.msg, "1000"));
    assert_null(r);
    const char *text = "2024-01,1\n";
    assert_int_equal(import_buffer(text, strlen(text), &small, &r, &err), 0);
    import_result_free(r);
    r = NULL;
    small.max_bytes = 5;
    assert_int_equal(import_buffer(text, strlen(text), &small, &r, &err), FW_ETOOBIG);

    /* A 2 GiB file (sparse: it takes no disk) is refused from its size, before any read:
     * the call returns at once and allocates nothing near that size (ASan would notice). */
    char big[600];
    snprintf(big, sizeof big, "%s/huge.csv", f->dir);
    assert_int_equal(tu_write_file(big, "2024-01,1\n", 10), 0);
    assert_int_equal(truncate(big, (off_t)2 * 1024 * 1024 * 1024 + 10), 0);
    int64_t id = -1;
    assert_int_equal(import_file_to_store(f->db, big, NULL, &id, &err), FW_ETOOBIG);
    assert_non_null(strstr(err.msg, "2147483658 bytes"));
    assert_non_null(strstr(err.msg, "67108864"));
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM datasets"), 0);

    /* Through a pipe the size is unknown: reading stops at the limit. */
    struct import_options tiny = {.name = "x", .max_bytes = 100};
    int rc = import_file("/dev/zero", &tiny, &r, &err);
    assert_int_equal(rc, FW_ETOOBIG);

    assert_int_equal(import_file("/no/such/file.csv", NULL, &r, &err), FW_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/no/such/file.csv"));
    assert_int_equal(import_file(f->dir, NULL, &r, &err), FW_EINVAL);
    assert_null(r);
    free(path);
}

static void test_format_names(void **state)
{
    (void)state;
    assert_string_equal(import_format_name(IMPORT_SILSO_MONTHLY), "silso-monthly");
    assert_string_equal(import_format_name(IMPORT_JSON), "json");
    /* An explicit format is obeyed, not guessed. */
    struct import_options opt = {.format = IMPORT_CSV};
    fw_error err = {0};
    struct import_result *r = NULL;
    const char *silso = "1749;01;1749.042;  96.7; -1.0;   -1;1\n";
    assert_int_equal(import_buffer(silso, strlen(silso), &opt, &r, &err), FW_EINVAL);
    assert_null(r);
    import_result_free(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_db_teardown)
    const struct CMUnitTest tests[] = {
        T(test_silso_monthly),
        T(test_silso_smoothed_keeps_missing),
        T(test_silso_yearly),
        cmocka_unit_test(test_authors_csv_matches_silso),
        cmocka_unit_test(test_csv_variants),
        T(test_json_body),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_encoding_errors),
        cmocka_unit_test(test_json_errors),
        T(test_broken_copies_change_nothing),
        T(test_store_failure_rolls_back),
        T(test_size_limits),
        cmocka_unit_test(test_format_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
