/*
 * Integration: the dashboard's static files on a real server — served with their types and the
 * security headers (a Content-Security-Policy that forbids inline code and framing, nosniff),
 * and nothing outside the static directory reachable: `..` segments raw and percent-encoded,
 * encoded slashes and backslashes, and symlinks that lead out of it all give 404. And CORS: off
 * by default (no header for any origin), on for the allow-list of --cors-origins only.
 */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct itest_server *srv, *cors;
static char *dir; /* the static directory: index.html, js/app.js, and symlinks */

static int group_setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/js", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/index.html", dir);
    const char *html = "<!doctype html><title>t</title><script type=module src=js/app.js></script>";
    assert_int_equal(tu_write_file(path, html, strlen(html)), 0);
    snprintf(path, sizeof path, "%s/js/app.js", dir);
    assert_int_equal(tu_write_file(path, "export {};\n", 11), 0);
    /* a symlink out of the directory, and one that stays inside */
    snprintf(path, sizeof path, "%s/leak", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/inside.js", dir);
    assert_int_equal(symlink("js/app.js", path), 0);
    /* a secret beside the static directory */
    char secret[1024];
    snprintf(secret, sizeof secret, "%s/../fwpcast-secret-%d", dir, (int)getpid());
    assert_int_equal(tu_write_file(secret, "s3cret", 6), 0);
    const char *args[] = {"--static", dir, NULL};
    srv = its_start(args, NULL);
    const char *cargs[] = {"--cors-origins", "https://lab.example.org, http://localhost:3000",
                           NULL};
    cors = its_start(cargs, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv), its_stop(cors);
    its_free(srv), its_free(cors);
    char secret[1024];
    snprintf(secret, sizeof secret, "%s/../fwpcast-secret-%d", dir, (int)getpid());
    unlink(secret);
    tu_rmtree(dir);
    return 0;
}

static void test_served_with_headers(void **state)
{
    (void)state;
    struct it_resp r;
    it_get(srv, "/", &r);
    IT_STATUS(&r, 200);
    assert_non_null(strstr(r.content_type, "text/html"));
    assert_non_null(strstr(r.body, "js/app.js"));
    assert_non_null(r.csp);
    assert_non_null(strstr(r.csp, "default-src 'self'"));
    assert_non_null(strstr(r.csp, "frame-ancestors 'none'"));
    assert_null(strstr(r.csp, "unsafe-inline"));
    assert_string_equal(r.nosniff, "nosniff");
    it_resp_free(&r);
    it_get(srv, "/js/app.js", &r);
    IT_STATUS(&r, 200);
    assert_non_null(strstr(r.content_type, "javascript"));
    it_resp_free(&r);
    it_get(srv, "/inside.js", &r); /* a symlink that stays inside is fine */
    IT_STATUS(&r, 200);
    it_resp_free(&r);
    /* API answers carry nosniff too */
    it_get(srv, "/healthz", &r);
    IT_STATUS(&r, 200);
    assert_string_equal(r.nosniff, "nosniff");
    it_resp_free(&r);
}

static void test_nothing_outside(void **state)
{
    (void)state;
    char secret[128];
    snprintf(secret, sizeof secret, "fwpcast-secret-%d", (int)getpid());
    const char *patterns[] = {
        "/../%s",
        "/%%2e%%2e/%s",
        "/%%2E%%2E/%s",
        "/js/../../%s",
        "/js/%%2e%%2e/%%2e%%2e/%s",
        "/..%%2f%s",
        "/%%2e%%2e%%2f%s",
        "/js%%2f..%%2f..%%2f%s",
        "/..%%5c%s",
        "/..\\%s",
        "/./../%s",
        "/js/./../../%s",
        "//../%s",
        "/%%252e%%252e/%s",
        "/.%%2e/%s",
        "/%%2e./%s",
    };
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, patterns[i], secret);
        struct it_req rq = {.method = "GET", .path = path};
        struct it_resp r;
        it_do(srv, &rq, &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("GET %s: %ld %s", path, r.status, r.body);
        assert_null(strstr(r.body ? r.body : "", "s3cret"));
        it_resp_free(&r);
    }
    const char *other[] = {"/leak", "/js/../leak",      "/%2e%2e/%2e%2e/etc/passwd", "/js/",
                           "/js",   "/no-such-file.js", "/index.html%00.js"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        struct it_req rq = {.method = "GET", .path = other[i]};
        struct it_resp r;
        it_do(srv, &rq, &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("GET %s: %ld %s", other[i], r.status, r.body);
        assert_null(strstr(r.body ? r.body : "", "root:"));
        it_resp_free(&r);
    }
}

static void request_from(struct itest_server *s, const char *method, const char *path,
                         const char *origin, struct it_resp *r)
{
    char header[256];
    snprintf(header, sizeof header, "Origin: %s", origin);
    const char *headers[] = {header, "Access-Control-Request-Method: POST", NULL};
    struct it_req rq = {.method = method, .path = path, .headers = headers};
    it_do(s, &rq, r);
}

static void test_cors(void **state)
{
    (void)state;
    struct it_resp r;
    /* off by default: no header for any origin, and no preflight */
    request_from(srv, "GET", "/healthz", "https://lab.example.org", &r);
    IT_STATUS(&r, 200);
    assert_null(r.acao);
    it_resp_free(&r);
    request_from(srv, "OPTIONS", "/forecast", "https://lab.example.org", &r);
    assert_int_not_equal(r.status, 204);
    assert_null(r.acao);
    it_resp_free(&r);
    /* the allow-list: an allowed origin gets its own name back, on answers and preflights */
    request_from(cors, "GET", "/healthz", "http://localhost:3000", &r);
    IT_STATUS(&r, 200);
    assert_string_equal(r.acao, "http://localhost:3000");
    it_resp_free(&r);
    request_from(cors, "OPTIONS", "/forecast", "https://lab.example.org", &r);
    IT_STATUS(&r, 204);
    assert_string_equal(r.acao, "https://lab.example.org");
    assert_non_null(strstr(r.acam, "POST"));
    it_resp_free(&r);
    /* a problem answer to an allowed origin is readable by it too */
    request_from(cors, "GET", "/datasets/999999", "https://lab.example.org", &r);
    IT_PROBLEM(&r, 404);
    assert_string_equal(r.acao, "https://lab.example.org");
    it_resp_free(&r);
    /* anything else is not: prefixes, suffixes, other schemes, null */
    const char *others[] = {"https://lab.example.org.evil.com",
                            "https://lab.example.or",
                            "http://lab.example.org",
                            "null",
                            "https://evil.com",
                            "http://localhost:30000"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        request_from(cors, "GET", "/healthz", others[i], &r);
        IT_STATUS(&r, 200);
        assert_null(r.acao);
        it_resp_free(&r);
        request_from(cors, "OPTIONS", "/forecast", others[i], &r);
        assert_int_not_equal(r.status, 204);
        assert_null(r.acao);
        it_resp_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_with_headers),
        cmocka_unit_test(test_nothing_outside),
        cmocka_unit_test(test_cors),
    };
    return cmocka_run_group_tests_name("integration: static files", tests, group_setup,
                                       group_teardown);
}
