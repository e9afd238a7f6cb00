/*
 * Integration: GET /hindcasts on a real `fwpcast serve` — with no run stored, 200 with the
 * baselines computed from the bundled SILSO series (cutoffs, actual maxima, the panel's errors
 * for cycle 25) and no models; after `fwpcast hindcast` stored runs in the server's database
 * (the CLI and the server share the SQLite file), their group per recipe, the architecture and
 * cycles filters; bad queries 422; and the baselines still there once the bundled dataset is
 * deleted (read from the bundled file).
 */
#include "itest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct itest_server *srv;

static int group_setup(void **state)
{
    (void)state;
    srv = its_start(NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    its_stop(srv);
    its_free(srv);
    srv = NULL;
    return 0;
}

/* The method named `name` in the document's baselines or models. */
static json_t *method(json_t *doc, const char *list, const char *name)
{
    json_t *items = JA(doc, list);
    for (size_t i = 0; i < json_array_size(items); i++)
        if (!strcmp(JS(json_array_get(items, i), "method"), name))
            return json_array_get(items, i);
    fail_msg("no method %s in %s", name, list);
    return NULL;
}

/* The score of cycle `number` in a method, or NULL. */
static json_t *cycle_of(json_t *m, int number)
{
    json_t *items = JA(m, "cycles");
    for (size_t i = 0; i < json_array_size(items); i++)
        if (JI(json_array_get(items, i), "cycle") == number)
            return json_array_get(items, i);
    return NULL;
}

static void check_baselines(json_t *doc)
{
    assert_string_equal(JS(doc, "suite"), "hindcast");
    assert_int_equal(JI(doc, "horizon"), 132);
    json_t *cycles = JA(doc, "cycles");
    static const char *const cutoffs[] = {"1976-03", "1986-09", "1996-08", "2008-12", "2019-12"};
    static const char *const maxima[] = {"1979-12", "1989-11", "2001-11", "2014-04", "2024-10"};
    assert_int_equal(json_array_size(cycles), 5);
    for (size_t k = 0; k < 5; k++) {
        json_t *c = json_array_get(cycles, k);
        assert_int_equal(JI(c, "cycle"), 21 + (int)k);
        assert_string_equal(JS(c, "cutoff"), cutoffs[k]);
        assert_string_equal(JS(JO(c, "actual"), "month"), maxima[k]);
    }
    json_t *panel = method(doc, "baselines", "noaa-nasa-panel");
    assert_int_equal(json_array_size(JA(panel, "cycles")), 1);
    json_t *p25 = cycle_of(panel, 25);
    assert_non_null(p25);
    assert_true(fabs(JD(p25, "amplitude_error") - 45.9) < 0.05);
    assert_true(JD(p25, "timing_error") == 9.0);
    assert_true(json_is_null(json_object_get(p25, "mae")));
    json_t *p24 = cycle_of(method(doc, "baselines", "persistence"), 24);
    assert_string_equal(JS(JO(p24, "max"), "month"), "2014-03");
    assert_true(fabs(JD(p24, "amplitude_error") - 63.85) < 0.05);
    assert_int_equal(JI(JO(method(doc, "baselines", "mean-cycle"), "means"), "cycles"), 5);
}

static void test_empty(void **state)
{
    (void)state;
    json_t *doc = IT_GET_JSON(srv, "/hindcasts");
    check_baselines(doc);
    assert_int_equal(json_array_size(JA(doc, "models")), 0);
    assert_int_equal(strlen(JS(doc, "data_sha256")), 64);
    json_decref(doc);
}

static void test_stored_runs(void **state)
{
    (void)state;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "FWPCAST_DATA='%s/data' '%s' hindcast --cycles 24-25 --seeds 0-1 --epochs 1 --config "
             "'window=24;slow_dim=3;hidden=4;fast_in=2;fast_out=3' --quiet --db '%s' >/dev/null",
             tu_root(), getenv("FWPCAST_BIN"), srv->db_path);
    assert_int_equal(system(cmd), 0);
    json_t *doc = IT_GET_JSON(srv, "/hindcasts");
    check_baselines(doc);
    json_t *models = JA(doc, "models");
    assert_int_equal(json_array_size(models), 1);
    json_t *m = json_array_get(models, 0);
    assert_string_equal(JS(m, "architecture"), "gated-qkan-fwp");
    assert_int_equal(JI(m, "epochs"), 1);
    assert_int_equal(json_array_size(JA(m, "seeds")), 2);
    /* the CLI's bundled file and the server's bundled dataset are the same series */
    assert_string_equal(JS(m, "data_sha256"), JS(doc, "data_sha256"));
    assert_null(cycle_of(m, 23));
    json_t *c25 = cycle_of(m, 25);
    assert_non_null(c25);
    assert_int_equal(JI(c25, "runs"), 2);
    assert_int_equal(JI(c25, "scored_months"), 75);
    assert_true(JD(c25, "amplitude_error") >= 0 && JD(c25, "mae") > 0);
    assert_int_equal(JI(JO(m, "means"), "cycles"), 2);
    json_decref(doc);

    doc = IT_GET_JSON(srv, "/hindcasts?architecture=lstm");
    assert_int_equal(json_array_size(JA(doc, "models")), 0);
    assert_int_equal(json_array_size(JA(doc, "baselines")), 3);
    json_decref(doc);
    doc = IT_GET_JSON(srv, "/hindcasts?cycles=25&architecture=gated-qkan-fwp");
    assert_int_equal(json_array_size(JA(doc, "cycles")), 1);
    m = json_array_get(JA(doc, "models"), 0);
    assert_int_equal(json_array_size(JA(m, "cycles")), 1);
    assert_null(cycle_of(method(doc, "baselines", "persistence"), 24));
    json_decref(doc);
}

static void test_bad_queries(void **state)
{
    (void)state;
    const char *bad[] = {"/hindcasts?cycles=0-0", "/hindcasts?cycles=30-31",
                         "/hindcasts?cycles=x",   "/hindcasts?cycles=25-21",
                         "/hindcasts?cycles=",    "/hindcasts?architecture="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct it_resp r;
        it_get(srv, bad[i], &r);
        IT_PROBLEM(&r, 422);
        it_resp_free(&r);
    }
    struct it_resp r;
    it_post_json(srv, "/hindcasts", "{}", &r);
    IT_PROBLEM(&r, 405);
    it_resp_free(&r);
}

/* Without the bundled dataset in the store, the baselines come from the bundled file. */
static void test_without_dataset(void **state)
{
    (void)state;
    json_t *list = IT_GET_JSON(srv, "/datasets");
    json_t *items = json_is_array(list) ? list : JA(list, "datasets");
    int deleted = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *d = json_array_get(items, i);
        if (strcmp(JS(d, "name"), "silso-monthly"))
            continue;
        char path[64];
        snprintf(path, sizeof path, "/datasets/%lld", (long long)JI(d, "id"));
        struct it_resp r;
        it_delete(srv, path, &r);
        IT_STATUS(&r, 204);
        it_resp_free(&r);
        deleted++;
    }
    json_decref(list);
    assert_int_equal(deleted, 1);
    json_t *doc = IT_GET_JSON(srv, "/hindcasts");
    check_baselines(doc);
    assert_int_equal(json_array_size(JA(doc, "models")), 1);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_stored_runs),
        cmocka_unit_test(test_bad_queries),
        cmocka_unit_test(test_without_dataset),
    };
    return cmocka_run_group_tests_name("integration: GET /hindcasts", tests, group_setup,
                                       group_teardown);
}
