/*
 * Integration: the dashboard's static files on a real server — served with their types and the
 * security headers (a Content-Security-Policy that forbids inline code and framing, nosniff),
 * and nothing outside the static directory reachable: `..` segments raw and percent-encoded,
 * encoded slashes and backslashes, and symlinks that lead out of it all give 404.
 */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct itest_server *srv;
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
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv);
    its_free(srv);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_with_headers),
        cmocka_unit_test(test_nothing_outside),
    };
    return cmocka_run_group_tests_name("integration: static files", tests, group_setup,
                                       group_teardown);
}
