/* Tests for server/http's response helpers (the server itself is tested over loopback in
 * tests/integration/): a problem document is valid JSON whatever bytes its detail quotes. */
#include "testutil.h"
#include "server/http.h"

#include <jansson.h>
#include <string.h>

/* A detail quoting bytes that are not UTF-8 (a client's percent-decoded path): the document must
 * still parse, with U+FFFD in their place. 0xf5..0xf7 once passed as 3-byte sequences (found by
 * tests/fuzz/fuzz_http.c). */
static void test_problem_is_json_for_any_bytes(void **state)
{
    (void)state;
    static const char *const details[] = {
        "/a\xf7\xbf\xbfz", "/\xf5\x80\x80", "/\xf8\x88\x80\x80\x80", "/\xff",    "/\xc0\xaf",
        "/\xed\xa0\x80",   "/\xe2\x82",     "/\xf0\x9f\x98",         "\x01\"\\",
    };
    for (size_t i = 0; i < sizeof details / sizeof details[0]; i++) {
        struct http_response resp = {0};
        assert_int_equal(http_problem(&resp, 404, "no such resource: %s", details[i]), 404);
        json_error_t jerr;
        json_t *doc = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!doc)
            fail_msg("detail %zu: %s", i, jerr.text);
        assert_int_equal(json_integer_value(json_object_get(doc, "status")), 404);
        assert_non_null(strstr(json_string_value(json_object_get(doc, "detail")), "resource"));
        json_decref(doc);
        http_response_free(&resp);
    }
    /* valid UTF-8 is kept as it is */
    struct http_response resp = {0};
    http_problem(&resp, 422, "%s", "caf\xc3\xa9 \xf0\x9f\x8c\x9e");
    json_t *doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "detail")),
                        "caf\xc3\xa9 \xf0\x9f\x8c\x9e");
    json_decref(doc);
    http_response_free(&resp);
}

/* A logged path is one line of printable ASCII whatever the client sent (log forging with %0a, a
 * terminal escape with %1b), and is cut, never overrun, at the buffer's size. */
static void test_log_escape(void **state)
{
    (void)state;
    char out[64];
    http_log_escape(out, sizeof out, "/x\nGET /admin 200\r\x1b[31m%\x7f\xc3\xa9");
    assert_string_equal(out, "/x%0AGET /admin 200%0D%1B[31m%25%7F%C3%A9");
    char small[8];
    memset(small, 'Z', sizeof small);
    http_log_escape(small, sizeof small, "/abcdefghij");
    assert_string_equal(small, "/abcd");
    http_log_escape(small, sizeof small, "\n\n\n");
    assert_string_equal(small, "%0A%0A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problem_is_json_for_any_bytes),
        cmocka_unit_test(test_log_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
