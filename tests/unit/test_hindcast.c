/* Tests for core/hindcast and core/hindcast_report on the real SILSO monthly record: the cutoffs
 * and actual maxima of cycles 21-25, the baselines checked by hand, the NOAA/NASA panel's errors
 * for cycle 25, fake forecasters through the training callback (the true future: every error
 * zero; a constant), failures, and the groups and JSON of stored runs. */
#include "testutil.h"
#include "base/period.h"
#include "core/hindcast.h"
#include "core/hindcast_report.h"
#include "model/cycle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(y, m)     ((y)*12 + (m)-1)
#define FIRST_MONTH M(1749, 1)

static double *monthly;
static size_t n_monthly;

/* The SILSO monthly file (year;month;decimal date;value;...), consecutive from 1749-01. */
static int load_record(void **state)
{
    (void)state;
    char *path = tu_path("data/SN_m_tot_V2.0.csv");
    size_t len = 0;
    char *text = path ? tu_read_file(path, &len) : NULL;
    free(path);
    if (!text)
        return -1;
    size_t cap = 4096;
    monthly = malloc(cap * sizeof *monthly);
    for (char *line = text; monthly && line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int year, month;
        double date, value;
        if (sscanf(line, "%d;%d;%lf;%lf", &year, &month, &date, &value) != 4 ||
            M(year, month) - FIRST_MONTH != (int)n_monthly || n_monthly == cap)
            return -1;
        monthly[n_monthly++] = value < 0 ? NAN : value;
    }
    free(text);
    return monthly ? 0 : -1;
}

static int free_record(void **state)
{
    (void)state;
    free(monthly);
    return 0;
}

static void make_plan(int from, int to, struct hindcast_plan *p)
{
    fw_error err = {0};
    if (hindcast_plan_make(monthly, n_monthly, FIRST_MONTH, from, to, p, &err))
        fail_msg("plan %d-%d: %s", from, to, err.msg);
}

/* SILSO's cycle 21-25 minima and maxima (test_cycle.c's table; this release's values). */
static const struct {
    int number, min_month, max_month;
    double max_value;
    size_t scored;
} silso[] = {
    {21, M(1976, 3), M(1979, 12), 232.9, 126}, {22, M(1986, 9), M(1989, 11), 212.5, 126},
    {23, M(1996, 8), M(2001, 11), 180.3, 126}, {24, M(2008, 12), M(2014, 4), 116.4, 126},
    {25, M(2019, 12), M(2024, 10), 160.9, 75}, /* the smoothed record ends 2026-03 */
};

static void test_cutoffs_and_actuals(void **state)
{
    (void)state;
    struct hindcast_plan p;
    make_plan(21, 25, &p);
    assert_int_equal(p.n_cycles, 5);
    for (size_t k = 0; k < 5; k++) {
        const struct hindcast_cycle *c = &p.cycle[k];
        assert_int_equal(c->number, silso[k].number);
        /* within a month of SILSO's minima (flat minima, test_cycle.c); exact here */
        assert_true(abs(c->cutoff_month - silso[k].min_month) <= 1);
        assert_int_equal(c->cutoff_month, silso[k].min_month);
        assert_int_equal(c->cutoff_index, (size_t)(c->cutoff_month - FIRST_MONTH));
        assert_int_equal(c->actual_month, silso[k].max_month);
        assert_true(fabs(c->actual_value - silso[k].max_value) <= 0.05);
        assert_int_equal(c->n_scored, silso[k].scored);
        assert_int_equal(hindcast_plan_find(&p, c->number), (int)k);
    }
    assert_int_equal(hindcast_plan_find(&p, 20), -1);
    hindcast_plan_free(&p);
}

/* Persistence: the previous cycle's curve from its minimum, only values known at the cutoff. */
static void test_persistence(void **state)
{
    (void)state;
    struct hindcast_plan p;
    make_plan(23, 24, &p);
    /* cycle 24 = cycle 23's curve: its maximum 180.3 (2001-11) 63 months after 1996-08 */
    const struct hindcast_score *s = &p.cycle[1].baseline[HINDCAST_PERSISTENCE];
    assert_true(s->has && s->has_path);
    assert_int_equal(M(2001, 11) - M(1996, 8), 63);
    assert_int_equal(s->max_month, M(2008, 12) + 63);
    assert_true(fabs(s->max_value - 180.3) <= 0.05);
    assert_true(fabs(s->amplitude_error - fabs(s->max_value - p.cycle[1].actual_value)) < 1e-12);
    assert_true(fabs(s->amplitude_error - 63.9) <= 0.1);
    assert_true(s->timing_error == 1.0 && s->timing_bias == -1.0);
    /* cycle 23's from cycle 22 (1986-09, 119 months long): month 1986-09 + 1 + j is known at
     * 1996-08 while it is at most 1996-02, j <= 112 */
    double path[HINDCAST_SPAN];
    assert_int_equal(hindcast_baseline_path(&p, 0, HINDCAST_PERSISTENCE, path), 0);
    assert_true(isfinite(path[112]) && isnan(path[113]) && isnan(path[HINDCAST_SPAN - 1]));
    assert_true(path[0] == p.smoothed[M(1986, 10) - FIRST_MONTH]);
    assert_int_equal(hindcast_baseline_path(&p, 0, HINDCAST_PANEL, path), FW_ENOTFOUND);
    hindcast_plan_free(&p);
}

/* The mean cycle of cycle 21, by hand from cycle_find's minima of cycles 1..20. */
static void test_mean_cycle(void **state)
{
    (void)state;
    struct hindcast_plan p;
    make_plan(21, 21, &p);
    size_t cap = cycle_capacity(n_monthly, NULL), count = 0;
    struct solar_cycle *c = calloc(cap, sizeof *c);
    assert_non_null(c);
    assert_int_equal(cycle_find(p.smoothed, n_monthly, FIRST_MONTH, NULL, c, cap, &count), 0);
    assert_int_equal(c[20].number, 21);
    double path[HINDCAST_SPAN];
    assert_int_equal(hindcast_baseline_path(&p, 0, HINDCAST_MEAN_CYCLE, path), 0);
    size_t cut = c[20].min.index;
    for (size_t j = 0; j < HINDCAST_SPAN; j += 25) {
        double sum = 0;
        int used = 0;
        for (int i = 0; i < 20; i++) {
            size_t t = c[i].min.index + 1 + j;
            if (t + 6 <= cut) /* all of them: cycles 1..20 are known at 1976-03 */
                sum += p.smoothed[t], used++;
        }
        assert_int_equal(used, 20);
        assert_true(fabs(path[j] - sum / 20) < 1e-9);
    }
    const struct hindcast_score *s = &p.cycle[0].baseline[HINDCAST_MEAN_CYCLE];
    assert_true(s->has && s->max_value < p.cycle[0].actual_value);
    /* cycle 2's mean cycle is cycle 1's curve: the same as persistence */
    struct hindcast_plan q;
    make_plan(1, 2, &q);
    assert_false(q.cycle[0].baseline[HINDCAST_MEAN_CYCLE].has);
    assert_false(q.cycle[0].baseline[HINDCAST_PERSISTENCE].has);
    const struct hindcast_score *a = &q.cycle[1].baseline[HINDCAST_MEAN_CYCLE];
    const struct hindcast_score *b = &q.cycle[1].baseline[HINDCAST_PERSISTENCE];
    assert_true(a->has && a->max_month == b->max_month && a->max_value == b->max_value);
    free(c);
    hindcast_plan_free(&q);
    hindcast_plan_free(&p);
}

/* The panel: cycle 25 only, 115 in 2025-07 against 160.9 in 2024-10. */
static void test_panel(void **state)
{
    (void)state;
    struct hindcast_plan p;
    make_plan(24, 25, &p);
    assert_false(p.cycle[0].baseline[HINDCAST_PANEL].has);
    const struct hindcast_score *s = &p.cycle[1].baseline[HINDCAST_PANEL];
    assert_true(s->has && !s->has_path && isnan(s->mae));
    assert_int_equal(s->max_month, M(2025, 7));
    assert_true(fabs(s->amplitude_error - 45.9) <= 0.05);
    assert_true(s->timing_error == 9.0 && s->timing_bias == 9.0);
    struct hindcast_mean means[HINDCAST_N_BASELINES];
    hindcast_baseline_means(&p, means);
    assert_int_equal(means[HINDCAST_PANEL].cycles, 1);
    assert_int_equal(means[HINDCAST_PANEL].mae_cycles, 0);
    assert_true(isnan(means[HINDCAST_PANEL].mae));
    assert_int_equal(means[HINDCAST_PERSISTENCE].cycles, 2);
    hindcast_plan_free(&p);
}

/* --- fake forecasters ----------------------------------------------------------------------- */

struct fake {
    double constant; /* NAN: the true future */
    int calls;
    uint64_t seed;
    int fail;
};

static int fake_train(void *ctx, const struct fit_request *rq, const double *history, size_t n,
                      int first_month, double *path, struct hindcast_fit *fit, fw_error *err)
{
    struct fake *f = ctx;
    f->calls++;
    assert_int_equal(rq->protocol, PROTOCOL_LIVE);
    assert_int_equal(first_month, FIRST_MONTH);
    assert_int_equal(rq->cutoff_month, first_month + (int)n - 1); /* ends at the cutoff */
    assert_true(history == monthly);
    assert_true(rq->train.seed == f->seed);
    if (f->fail)
        return fw_error_set(err, FW_EINVAL, "the fake refuses");
    for (size_t i = 0; i < HINDCAST_HORIZON; i++) {
        size_t t = n + i;
        path[i] = isnan(f->constant) ? (t < n_monthly ? monthly[t] : 0.0) : f->constant;
    }
    fit->epochs = 1;
    fit->parameters = 7;
    return FW_OK;
}

static void run_fake(struct fake *f, int from, int to, struct hindcast_result *r)
{
    struct fit_request rq = {.architecture = "fake", .config = "", .cutoff_month = -1};
    train_options_default(&rq.train);
    rq.train.seed = f->seed = 3;
    fw_error err = {0};
    if (hindcast_run(monthly, n_monthly, FIRST_MONTH, from, to, &rq, fake_train, f, r, &err))
        fail_msg("hindcast_run: %s", err.msg);
    assert_int_equal(f->calls, to - from + 1);
}

static void test_true_future(void **state)
{
    (void)state;
    struct fake f = {.constant = NAN};
    struct hindcast_result r;
    run_fake(&f, 21, 25, &r);
    for (size_t k = 0; k < 5; k++) {
        const struct hindcast_score *s = &r.model[k];
        assert_true(s->has && s->has_path);
        assert_int_equal(s->max_month, r.plan.cycle[k].actual_month);
        assert_true(s->amplitude_error < 1e-9 && s->timing_error == 0.0);
        assert_true(s->mae < 1e-9 && s->mse < 1e-12 && s->r2 > 1 - 1e-12);
        assert_int_equal(s->n_scored, silso[k].scored);
        assert_int_equal(r.fit[k].parameters, 7);
    }
    assert_int_equal(r.model_mean.cycles, 5);
    assert_true(r.model_mean.amplitude_error < 1e-9 && r.model_mean.mae < 1e-9);
    assert_int_equal(r.baseline_mean[HINDCAST_MEAN_CYCLE].cycles, 5);
    assert_int_equal(r.baseline_mean[HINDCAST_PANEL].cycles, 1);
    hindcast_result_free(&r);
}

/* A flat forecast of 100: its smoothed path reaches 100 at the 7th month (the first window of
 * forecast months only) and stays there, the first of equal values. */
static void test_constant(void **state)
{
    (void)state;
    struct fake f = {.constant = 100.0};
    struct hindcast_result r;
    run_fake(&f, 21, 25, &r);
    double amp = 0, timing = 0;
    for (size_t k = 0; k < 5; k++) {
        const struct hindcast_score *s = &r.model[k];
        const struct hindcast_cycle *c = &r.plan.cycle[k];
        assert_true(s->max_value == 100.0);
        assert_int_equal(s->max_month, c->cutoff_month + 7);
        assert_true(fabs(s->amplitude_error - fabs(100.0 - c->actual_value)) < 1e-12);
        assert_true(s->timing_error == (double)(c->actual_month - c->cutoff_month - 7));
        assert_true(s->mae > 10);
        amp += s->amplitude_error, timing += s->timing_error;
    }
    assert_true(fabs(r.model_mean.amplitude_error - amp / 5) < 1e-9);
    assert_true(fabs(r.model_mean.timing_error - timing / 5) < 1e-9);
    hindcast_result_free(&r);
}

static void test_failures(void **state)
{
    (void)state;
    int from = 0, to = 0;
    fw_error err = {0};
    assert_int_equal(hindcast_parse_cycles("21-25", &from, &to, &err), 0);
    assert_true(from == 21 && to == 25);
    assert_int_equal(hindcast_parse_cycles("25", &from, &to, &err), 0);
    assert_true(from == 25 && to == 25);
    const char *bad[] = {"0-0", "0", "25-21", "21-", "-3", "x", "", "21-25x", "1-40", "99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hindcast_parse_cycles(bad[i], &from, &to, &err), FW_EINVAL);
    assert_int_equal(hindcast_parse_cycles(NULL, &from, &to, &err), FW_EINVAL);
    struct hindcast_plan p;
    assert_int_equal(hindcast_plan_make(monthly, n_monthly, FIRST_MONTH, 30, 31, &p, &err),
                     FW_EINVAL);
    assert_non_null(strstr(err.msg, "cycle 30 is not in the series"));
    assert_non_null(strstr(err.msg, "cycles 1-25"));
    assert_int_equal(hindcast_plan_make(monthly, 2000, FIRST_MONTH, 24, 25, &p, &err), FW_EINVAL);
    assert_int_equal(hindcast_plan_make(monthly, n_monthly, FIRST_MONTH, 0, 0, &p, &err),
                     FW_EINVAL);
    /* a training failure stops the run, its message kept; the result is freed */
    struct fake f = {.constant = 1.0, .fail = 1, .seed = 0};
    struct fit_request rq = {.architecture = "fake", .config = ""};
    train_options_default(&rq.train);
    struct hindcast_result r;
    memset(&err, 0, sizeof err);
    assert_int_equal(
        hindcast_run(monthly, n_monthly, FIRST_MONTH, 24, 25, &rq, fake_train, &f, &r, &err),
        FW_EINVAL);
    assert_string_equal(err.msg, "the fake refuses");
    assert_int_equal(f.calls, 1);
    assert_null(r.plan.smoothed);
    /* a non-finite forecast is refused */
    make_plan(24, 24, &p);
    double path[HINDCAST_HORIZON];
    for (size_t i = 0; i < HINDCAST_HORIZON; i++)
        path[i] = i == 40 ? NAN : 50.0;
    struct hindcast_score s;
    assert_int_equal(hindcast_score_forecast(&p, 0, path, &s), FW_EINVAL);
    hindcast_plan_free(&p);
}

/* --- stored runs ---------------------------------------------------------------------------- */

static struct result_row run_row(int cycle, const char *arch, int64_t seed, double amp,
                                 double timing, double mae)
{
    struct result_row r = {.seed = seed, .epochs = 2, .parameters = 99};
    snprintf(r.suite, sizeof r.suite, "%s", HINDCAST_SUITE);
    hindcast_task_name(cycle, r.task);
    snprintf(r.architecture, sizeof r.architecture, "%s", arch);
    snprintf(r.config, sizeof r.config, "window=24;horizon=132");
    snprintf(r.data_sha256, sizeof r.data_sha256, "abc");
    struct hindcast_score s = {.has = 1,
                               .has_path = 1,
                               .amplitude_bias = amp,
                               .timing_bias = timing,
                               .mae = mae,
                               .mse = mae * mae,
                               .r2 = NAN,
                               .n_scored = 126};
    struct hindcast_fit fit = {.parameters = 99, .best_epoch = 2, .train_seconds = 1.5};
    hindcast_row_fill(&r, &s, &fit);
    return r;
}

static void test_groups_and_json(void **state)
{
    (void)state;
    char task[RESULT_TEXT_MAX];
    hindcast_task_name(5, task);
    assert_string_equal(task, "cycle-05");
    assert_int_equal(hindcast_task_cycle("cycle-25"), 25);
    assert_int_equal(hindcast_task_cycle("cycle-5"), -1);
    assert_int_equal(hindcast_task_cycle("paper"), -1);
    assert_int_equal(hindcast_task_cycle("cycle-25x"), -1);
    struct hindcast_plan p;
    make_plan(24, 25, &p);
    struct result_row rows[5] = {
        run_row(24, "lstm", 0, 10.0, -4.0, 20.0), run_row(24, "lstm", 1, -30.0, 2.0, 30.0),
        run_row(25, "lstm", 0, 5.0, 3.0, 10.0), run_row(23, "lstm", 0, 1.0, 1.0, 1.0),
        run_row(24, "rnn", 0, 1.0, 1.0, 1.0)};
    assert_true(rows[0].r2 == 0.0 && rows[0].peak_amplitude_error == 10.0);
    struct hindcast_group *g = NULL;
    size_t n = 0;
    struct hindcast_filter only_lstm = {.architecture = "lstm"};
    assert_int_equal(hindcast_groups(&p, rows, 5, &only_lstm, &g, &n), 0);
    assert_int_equal(n, 1); /* cycle 23 is not in the plan; rnn filtered out */
    assert_int_equal(g->n_seeds, 2);
    const struct hindcast_score *c24 = &g->cycle[0];
    assert_int_equal(c24->runs, 2);
    assert_true(c24->amplitude_error == 20.0 && c24->timing_error == 3.0 && c24->mae == 25.0);
    assert_true(fabs(c24->max_value - (p.cycle[0].actual_value - 10.0)) < 1e-9);
    assert_int_equal(c24->max_month, p.cycle[0].actual_month - 1);
    assert_int_equal(g->mean.cycles, 2);
    assert_true(fabs(g->mean.amplitude_error - 12.5) < 1e-12 && g->mean.mae == 17.5);
    json_t *doc = hindcast_report_json(&p, "abc", g, n);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(text, "\"method\":\"noaa-nasa-panel\""));
    assert_non_null(strstr(text, "\"actual\":{\"month\":\"2024-10\""));
    json_t *panel = json_array_get(json_object_get(doc, "baselines"), HINDCAST_PANEL);
    json_t *only = json_array_get(json_object_get(panel, "cycles"), 0);
    assert_int_equal(json_array_size(json_object_get(panel, "cycles")), 1);
    assert_int_equal(json_integer_value(json_object_get(only, "cycle")), 25);
    assert_true(json_is_null(json_object_get(only, "mae")));
    json_t *model = json_array_get(json_object_get(doc, "models"), 0);
    assert_string_equal(json_string_value(json_object_get(model, "architecture")), "lstm");
    assert_int_equal(json_array_size(json_object_get(model, "seeds")), 2);
    free(text);
    json_decref(doc);
    free(g);
    /* no runs at all: no groups, a report with the baselines */
    assert_int_equal(hindcast_groups(&p, rows, 0, NULL, &g, &n), 0);
    assert_int_equal(n, 0);
    doc = hindcast_report_json(&p, NULL, g, n);
    assert_int_equal(json_array_size(json_object_get(doc, "models")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "baselines")), 3);
    assert_true(json_is_null(json_object_get(doc, "data_sha256")));
    json_decref(doc);
    free(g);
    hindcast_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cutoffs_and_actuals),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_mean_cycle),
        cmocka_unit_test(test_panel),
        cmocka_unit_test(test_true_future),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_groups_and_json),
    };
    return cmocka_run_group_tests(tests, load_record, free_record);
}
