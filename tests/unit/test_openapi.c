/* Tests that docs/openapi.yaml and the server's route table (server/app.c) agree: every route is
 * documented and every documented operation is a route, and each operation has responses.
 * The document is read with a small line-based parser of the layout the file keeps (2-space
 * indentation: a path key is two spaces + "/..." + ":", a method key four spaces + a lower-case
 * method + ":", its "responses:" six spaces, and the status codes eight), which the first tests
 * check on its own. */
#include "testutil.h"
#include "server/app.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_OPS      256
#define MAX_PATHS    128
#define PATH_MAX_LEN 256

struct doc_op {
    char method[16]; /* upper case, as the route table spells it */
    char path[PATH_MAX_LEN];
    int has_responses; /* a "responses:" block */
    int n_responses;   /* status codes (or "default") in it */
    int line;
};

struct doc_path {
    char path[PATH_MAX_LEN];
    int has_parameters; /* a "parameters:" list at the path or an operation */
    int line;
};

struct doc {
    int found_openapi; /* an "openapi: 3.x" line */
    int found_paths;   /* a top-level "paths:" */
    struct doc_op ops[MAX_OPS];
    size_t n_ops;
    struct doc_path paths[MAX_PATHS];
    size_t n_paths;
    char error[256]; /* the first problem found, "" if none */
};

static const char *const http_methods[] = {"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};
#define N_HTTP_METHODS (sizeof http_methods / sizeof http_methods[0])

static int is_lower_method(const char *key, size_t len)
{
    for (size_t i = 0; i < N_HTTP_METHODS; i++)
        if (strlen(http_methods[i]) == len && !strncmp(http_methods[i], key, len))
            return 1;
    return 0;
}

static int is_method_any_case(const char *key, size_t len)
{
    for (size_t i = 0; i < N_HTTP_METHODS; i++)
        if (strlen(http_methods[i]) == len && !strncasecmp(http_methods[i], key, len))
            return 1;
    return 0;
}

/* The fields a Path Item may have besides its operations (OpenAPI 3.0.3, 4.7.9). */
static int is_path_item_field(const char *key, size_t len)
{
    static const char *const fields[] = {"$ref", "summary", "description", "servers", "parameters"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i]) == len && !strncmp(fields[i], key, len))
            return 1;
    return len > 2 && !strncmp(key, "x-", 2);
}

/* A response key: "200", '404', 201, 2XX or default. */
static int is_response_key(const char *key, size_t len)
{
    if (len >= 2 && (key[0] == '"' || key[0] == '\'') && key[len - 1] == key[0]) {
        key++;
        len -= 2;
    }
    if (len == 7 && !strncmp(key, "default", 7))
        return 1;
    if (len != 3 || key[0] < '1' || key[0] > '5')
        return 0;
    int xx = (key[1] == 'X' && key[2] == 'X');
    return xx || (isdigit((unsigned char)key[1]) && isdigit((unsigned char)key[2]));
}

/* The key of a "key:" or "key: value" line (len 0 if the line is no mapping key). Sets
 * *bare when nothing follows the colon. */
static size_t key_of(const char *content, size_t len, int *bare)
{
    size_t k = 0;
    if (len && (content[0] == '"' || content[0] == '\'')) {
        const char *close = memchr(content + 1, content[0], len - 1);
        if (!close)
            return 0;
        k = (size_t)(close - content) + 1;
        if (k >= len || content[k] != ':')
            return 0;
    } else {
        while (k < len && content[k] != ':')
            k++;
        if (k == len)
            return 0;
    }
    *bare = (k + 1 == len);
    if (!*bare && content[k + 1] != ' ')
        return 0; /* "a:b" is a plain scalar, not a key */
    return k;
}

static void doc_fail(struct doc *d, int line, const char *what, const char *text, size_t len)
{
    if (!d->error[0])
        snprintf(d->error, sizeof d->error, "line %d: %s: '%.*s'", line, what,
                 (int)(len > 80 ? 80 : len), text);
}

/* Parses the operations under the top-level "paths:". Returns 0, or -1 with d->error set. */
static int parse_doc(const char *text, struct doc *d)
{
    memset(d, 0, sizeof *d);
    int in_paths = 0, in_responses = 0, line_no = 0;
    long cur_path = -1, cur_op = -1;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *line = p;
        p = eol ? eol + 1 : p + len;
        line_no++;
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            len--;
        if (len == 0)
            continue;
        size_t indent = 0;
        while (indent < len && line[indent] == ' ')
            indent++;
        if (indent < len && line[indent] == '\t') {
            doc_fail(d, line_no, "a tab in the indentation", line, len);
            return -1;
        }
        const char *content = line + indent;
        size_t clen = len - indent;
        if (content[0] == '#')
            continue;
        if (indent == 0) {
            if (clen > 10 && !strncmp(content, "openapi: 3", 10))
                d->found_openapi = 1;
            in_paths = (clen == 6 && !strncmp(content, "paths:", 6));
            if (in_paths && d->found_paths++) {
                doc_fail(d, line_no, "a second top-level paths", line, len);
                return -1;
            }
            cur_path = cur_op = -1;
            in_responses = 0;
            continue;
        }
        if (!in_paths)
            continue;
        int bare = 0;
        size_t klen = key_of(content, clen, &bare);
        if (indent == 2) {
            cur_path = cur_op = -1;
            in_responses = 0;
            const char *key = content;
            size_t kl = klen;
            if (kl >= 2 && (key[0] == '"' || key[0] == '\'')) {
                key++;
                kl -= 2;
            }
            if (kl && key[0] == '/' && bare) {
                if (d->n_paths == MAX_PATHS || kl >= PATH_MAX_LEN) {
                    doc_fail(d, line_no, "too many or too long paths", line, len);
                    return -1;
                }
                for (size_t i = 0; i < d->n_paths; i++)
                    if (strlen(d->paths[i].path) == kl && !strncmp(d->paths[i].path, key, kl)) {
                        doc_fail(d, line_no, "a path given twice", line, len);
                        return -1;
                    }
                struct doc_path *dp = &d->paths[d->n_paths];
                memcpy(dp->path, key, kl);
                dp->path[kl] = '\0';
                dp->line = line_no;
                cur_path = (long)d->n_paths++;
            } else if (!(kl > 2 && !strncmp(key, "x-", 2))) {
                doc_fail(d, line_no, "not a path key", line, len);
                return -1;
            }
            continue;
        }
        if (cur_path < 0)
            continue; /* inside an x- extension */
        if (indent == 4) {
            cur_op = -1;
            in_responses = 0;
            if (klen && bare && is_lower_method(content, klen)) {
                if (d->n_ops == MAX_OPS) {
                    doc_fail(d, line_no, "too many operations", line, len);
                    return -1;
                }
                struct doc_op *op = &d->ops[d->n_ops];
                for (size_t i = 0; i < klen; i++)
                    op->method[i] = (char)toupper((unsigned char)content[i]);
                op->method[klen] = '\0';
                memcpy(op->path, d->paths[cur_path].path, sizeof op->path);
                op->line = line_no;
                for (size_t i = 0; i < d->n_ops; i++)
                    if (!strcmp(d->ops[i].method, op->method) &&
                        !strcmp(d->ops[i].path, op->path)) {
                        doc_fail(d, line_no, "an operation given twice", line, len);
                        return -1;
                    }
                cur_op = (long)d->n_ops++;
            } else if (klen && is_method_any_case(content, klen)) {
                doc_fail(d, line_no, "a method key that is not a lower-case block", line, len);
                return -1;
            } else if (klen && is_path_item_field(content, klen)) {
                if (klen == 10 && !strncmp(content, "parameters", 10))
                    d->paths[cur_path].has_parameters = 1;
            } else {
                doc_fail(d, line_no, "not a field of a path item", line, len);
                return -1;
            }
            continue;
        }
        if (cur_op < 0)
            continue;
        if (indent == 6) {
            in_responses = (klen == 9 && bare && !strncmp(content, "responses", 9));
            if (in_responses)
                d->ops[cur_op].has_responses = 1;
            if (klen == 10 && !strncmp(content, "parameters", 10))
                d->paths[cur_path].has_parameters = 1;
        } else if (indent == 8 && in_responses && klen && is_response_key(content, klen)) {
            d->ops[cur_op].n_responses++;
        }
    }
    return 0;
}

static struct doc *parse_text(const char *text)
{
    struct doc *d = malloc(sizeof *d);
    assert_non_null(d);
    parse_doc(text, d);
    return d;
}

static const struct doc_op *find_op(const struct doc *d, const char *method, const char *path)
{
    for (size_t i = 0; i < d->n_ops; i++)
        if (!strcmp(d->ops[i].method, method) && !strcmp(d->ops[i].path, path))
            return &d->ops[i];
    return NULL;
}

/* ---- the parser on small documents ---------------------------------------------------------- */

static void test_parser_reads_operations(void **state)
{
    (void)state;
    static const char text[] = "openapi: 3.0.3\n"
                               "info:\n"
                               "  title: t\n"
                               "x-static-files:\n"
                               "  paths:\n"
                               "    - /\n"
                               "paths:\n"
                               "  # a comment\n"
                               "  /a:\n"
                               "    get:\n"
                               "      summary: read a\n"
                               "      description: |\n"
                               "        /not-a-path:\n"
                               "        post:\n"
                               "      responses:\n"
                               "        \"200\":\n"
                               "          description: ok\n"
                               "        '404':\n"
                               "          description: no\n"
                               "    post:\n"
                               "      responses:\n"
                               "        default:\n"
                               "          description: any\n"
                               "  \"/a/{id}\":\r\n"
                               "    parameters:\r\n"
                               "      - name: id\r\n"
                               "    delete:\r\n"
                               "      requestBody:\r\n"
                               "        content: {}\r\n"
                               "  x-extension:\n"
                               "    get:\n"
                               "      responses: {}\n"
                               "components:\n"
                               "  schemas:\n"
                               "    /b:\n"
                               "      get:\n";
    struct doc *d = parse_text(text);
    assert_string_equal(d->error, "");
    assert_true(d->found_openapi);
    assert_int_equal(d->found_paths, 1);
    assert_int_equal(d->n_paths, 2);
    assert_int_equal(d->n_ops, 3);
    const struct doc_op *op = find_op(d, "GET", "/a");
    assert_non_null(op);
    assert_true(op->has_responses);
    assert_int_equal(op->n_responses, 2);
    op = find_op(d, "POST", "/a");
    assert_non_null(op);
    assert_int_equal(op->n_responses, 1);
    op = find_op(d, "DELETE", "/a/{id}");
    assert_non_null(op);
    assert_false(op->has_responses);
    assert_int_equal(op->n_responses, 0);
    assert_false(d->paths[0].has_parameters);
    assert_true(d->paths[1].has_parameters);
    assert_null(find_op(d, "GET", "/b"));
    assert_null(find_op(d, "POST", "/not-a-path:"));
    free(d);
}

static void test_parser_refuses_garbage(void **state)
{
    (void)state;
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"paths:\n  /a:\n    GET:\n      responses:\n", "lower-case"},
        {"paths:\n  /a:\n    get: {responses: {}}\n", "lower-case"},
        {"paths:\n  /a:\n    fetch:\n", "not a field"},
        {"paths:\n  a:\n    get:\n", "not a path key"},
        {"paths:\n  /a: {}\n", "not a path key"},
        {"paths:\n  /a:\n    get:\n    get:\n", "operation given twice"},
        {"paths:\n  /a:\n  /a:\n", "path given twice"},
        {"paths:\n  /a:\n\t get:\n", "tab"},
        {"paths:\n  /a:\nother:\npaths:\n", "second top-level"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct doc *d = parse_text(cases[i].text);
        if (!strstr(d->error, cases[i].error))
            fail_msg("case %zu: error '%s' does not mention '%s'", i, d->error, cases[i].error);
        free(d);
    }
    /* nothing to read is no error, and no operations */
    struct doc *d = parse_text("");
    assert_string_equal(d->error, "");
    assert_int_equal(d->n_ops, 0);
    assert_int_equal(d->found_paths, 0);
    free(d);
    /* a document whose paths are nested one level too deep has none */
    d = parse_text("openapi: 3.0.3\npaths:\n    /a:\n      get:\n");
    assert_int_equal(d->n_ops, 0);
    free(d);
}

/* ---- the route table and the document ------------------------------------------------------- */

static void test_route_table(void **state)
{
    (void)state;
    size_t n = app_route_count();
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        struct app_route_info r = app_route_at(i);
        assert_non_null(r.method);
        assert_non_null(r.pattern);
        assert_int_equal(r.pattern[0], '/');
        int known = 0;
        for (size_t m = 0; m < N_HTTP_METHODS; m++) {
            char upper[16];
            size_t k;
            for (k = 0; http_methods[m][k]; k++)
                upper[k] = (char)toupper((unsigned char)http_methods[m][k]);
            upper[k] = '\0';
            known |= !strcmp(upper, r.method);
        }
        if (!known)
            fail_msg("route %zu: method '%s' is not an upper-case HTTP method", i, r.method);
        for (size_t j = 0; j < i; j++) {
            struct app_route_info o = app_route_at(j);
            if (!strcmp(o.method, r.method) && !strcmp(o.pattern, r.pattern))
                fail_msg("route %s %s is in the table twice", r.method, r.pattern);
        }
    }
    struct app_route_info past = app_route_at(n);
    assert_null(past.method);
    assert_null(past.pattern);
}

static struct doc *read_openapi(void)
{
    char *path = tu_path("docs/openapi.yaml");
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    if (!text)
        print_error("cannot read %s (run from the project root or set FWPCAST_ROOT)\n", path);
    free(path);
    if (!text)
        fail();
    int has_nul = memchr(text, '\0', len) != NULL;
    struct doc *d = has_nul ? NULL : parse_text(text);
    free(text);
    if (has_nul)
        fail_msg("docs/openapi.yaml has a NUL byte");
    if (d->error[0]) {
        print_error("docs/openapi.yaml: %s\n", d->error);
        free(d);
        fail();
    }
    return d;
}

static void test_document_matches_routes(void **state)
{
    (void)state;
    struct doc *d = read_openapi();
    size_t n = app_route_count();
    assert_true(d->found_openapi);
    assert_int_equal(d->found_paths, 1);
    /* a sensible document: at least as many operations as a small API has */
    if (d->n_ops < 10)
        fail_msg("docs/openapi.yaml: only %zu operations found under paths", d->n_ops);

    int missing = 0, extra = 0;
    for (size_t i = 0; i < n; i++) {
        struct app_route_info r = app_route_at(i);
        if (!find_op(d, r.method, r.pattern)) {
            print_error("route %s %s is not in docs/openapi.yaml\n", r.method, r.pattern);
            missing++;
        }
    }
    for (size_t i = 0; i < d->n_ops; i++) {
        int routed = 0;
        for (size_t j = 0; j < n && !routed; j++) {
            struct app_route_info r = app_route_at(j);
            routed = !strcmp(r.method, d->ops[i].method) && !strcmp(r.pattern, d->ops[i].path);
        }
        if (!routed) {
            print_error("docs/openapi.yaml line %d: %s %s is not a route of server/app.c\n",
                        d->ops[i].line, d->ops[i].method, d->ops[i].path);
            extra++;
        }
    }
    if (missing || extra)
        fail_msg("%d route(s) undocumented, %d documented operation(s) not routed", missing, extra);
    assert_int_equal(d->n_ops, n);
    free(d);
}

static void test_operations_have_responses(void **state)
{
    (void)state;
    struct doc *d = read_openapi();
    for (size_t i = 0; i < d->n_ops; i++) {
        const struct doc_op *op = &d->ops[i];
        if (!op->has_responses || op->n_responses == 0)
            fail_msg("docs/openapi.yaml line %d: %s %s has no responses block with status codes",
                     op->line, op->method, op->path);
    }
    /* every path with an {id} declares its path parameter */
    for (size_t i = 0; i < d->n_paths; i++)
        if (strstr(d->paths[i].path, "{id}") && !d->paths[i].has_parameters)
            fail_msg("docs/openapi.yaml line %d: %s declares no parameters", d->paths[i].line,
                     d->paths[i].path);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_reads_operations),
        cmocka_unit_test(test_parser_refuses_garbage),
        cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_document_matches_routes),
        cmocka_unit_test(test_operations_have_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
