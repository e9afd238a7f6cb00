/* Tests for core/forecast and core/forecast_json: the forecast service gives the model's own
 * forecast, checks h, levels and the cutoff before running anything, runs the circuits through a
 * sampler when asked, and renders one JSON document; and core/job_request round-trips a cloud
 * forecast's request. */
#include "testutil.h"
#include "base/period.h"
#include "core/forecast.h"
#include "core/forecast_cycle.h"
#include "core/forecast_json.h"
#include "model/smooth.h"
#include "core/job_request.h"
#include "model/trainer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG   "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"
#define N_MONTHS 160
#define FIRST    (1800 * 12)

static double series[N_MONTHS];

static struct forecaster *trained(void)
{
    rng r;
    rng_seed(&r, 7);
    for (int t = 0; t < N_MONTHS; t++)
        series[t] = fmax(0, 60 + 50 * sin(2 * M_PI * t / 40.0) + 8 * rng_normal(&r));
    struct split_plan plan;
    assert_int_equal(
        series_prepare(series, N_MONTHS, FIRST, PROTOCOL_PAPER, -1, 24, 6, &plan, NULL), 0);
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, 1, &m, NULL), 0);
    struct train_options o;
    train_options_default(&o);
    o.epochs = 2;
    o.batch_size = 8;
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, NULL), 0);
    train_state_free(&s);
    struct forecaster *f = NULL;
    assert_int_equal(forecaster_create(m, &plan.scaler, &f), 0);
    assert_int_equal(forecaster_calibrate(f, &plan, NULL), 0);
    series_free(&plan);
    return f;
}

static void test_history_end(void **state)
{
    (void)state;
    size_t n = 0;
    int last = 0;
    fw_error err = {0};
    assert_int_equal(forecast_history_end(FIRST, 100, -1, &n, &last, &err), 0);
    assert_int_equal(n, 100);
    assert_int_equal(last, FIRST + 99);
    assert_int_equal(forecast_history_end(FIRST, 100, FIRST + 9, &n, &last, &err), 0);
    assert_int_equal(n, 10);
    assert_int_equal(last, FIRST + 9);
    assert_int_equal(forecast_history_end(FIRST, 100, FIRST + 100, &n, &last, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "outside the data (1800-01..1808-04)"));
    assert_int_equal(forecast_history_end(FIRST, 100, FIRST - 1, &n, &last, &err), FW_EINVAL);
    assert_int_equal(forecast_history_end(FIRST, 0, -1, &n, &last, &err), FW_EINVAL);
}

static void test_exact_forecast_is_the_models(void **state)
{
    (void)state;
    struct forecaster *f = trained();
    double levels[2] = {80, 95};
    struct forecast_request rq = {.model = f,
                                  .history = series,
                                  .n_history = 150,
                                  .last_month = FIRST + 149,
                                  .h = 4,
                                  .levels = levels,
                                  .n_levels = 2};
    struct forecast_result r;
    fw_error err = {0};
    assert_int_equal(forecast_run(&rq, &r, &err), 0);
    double point[4], lo[8], hi[8];
    int guaranteed = 1;
    assert_int_equal(
        forecaster_predict(f, series, 150, 4, levels, 2, NULL, point, lo, hi, &guaranteed, &err),
        0);
    assert_memory_equal(r.point, point, sizeof point);
    assert_memory_equal(r.lo, lo, sizeof lo);
    assert_memory_equal(r.hi, hi, sizeof hi);
    assert_int_equal(r.guaranteed, guaranteed);
    assert_int_equal(r.readout, -1);
    assert_int_equal(r.last_month, FIRST + 149);
    /* one JSON document: the months after the last observed one, with the bands */
    struct forecast_doc doc = {.rq = &rq, .r = &r, .model = 3, .dataset = 0, .dataset_label = NULL};
    size_t len = 0;
    char *text = forecast_json(&doc, &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "model")), 3);
    assert_string_equal(json_string_value(json_object_get(o, "last_observed")), "1812-06");
    assert_true(json_is_null(json_object_get(o, "dataset")));
    json_t *rows = json_object_get(o, "forecast");
    assert_int_equal(json_array_size(rows), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "period")),
                        "1812-07");
    assert_non_null(json_object_get(json_array_get(rows, 3), "hi-95"));
    json_decref(o);
    free(text);
    forecast_result_free(&r);
    forecast_result_free(&r); /* a freed result may be freed again */
    forecaster_free(f);
}

static void test_bad_requests_run_nothing(void **state)
{
    (void)state;
    struct forecaster *f = trained();
    double bad_level = 100;
    struct forecast_request rq = {
        .model = f, .history = series, .n_history = 150, .last_month = FIRST + 149, .h = 7};
    struct forecast_result r = {.h = 99};
    fw_error err = {0};
    assert_int_equal(forecast_run(&rq, &r, &err), FW_EINVAL); /* beyond the horizon (6) */
    assert_non_null(strstr(err.msg, "horizon"));
    assert_null(r.point);
    assert_int_equal(r.h, 0);
    rq.h = 0;
    assert_int_equal(forecast_check(&rq, &err), FW_EINVAL);
    /* months past 9999-12 have no text: refused, not wrapped to 0000-01 */
    rq.h = 6;
    rq.last_month = PERIOD_LAST - 3;
    assert_int_equal(forecast_check(&rq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "9999-12"));
    rq.last_month = PERIOD_LAST - 6;
    assert_int_equal(forecast_check(&rq, &err), 0);
    rq.last_month = FIRST + 149;
    rq.h = 6;
    rq.levels = &bad_level;
    rq.n_levels = 1;
    assert_int_equal(forecast_check(&rq, &err), FW_EINVAL);
    rq.n_levels = 0;
    struct qbackend_request unknown = {.name = "abacus", .shots = 10};
    rq.backend = &unknown;
    assert_int_equal(forecast_run(&rq, &r, &err), FW_EINVAL);
    forecaster_free(f);
}

static void test_sampler_counts_its_circuits(void **state)
{
    (void)state;
    struct forecaster *f = trained();
    struct qbackend_request sampler = {.name = "sampler", .shots = 256, .seed = 3};
    struct forecast_request rq = {.model = f,
                                  .history = series,
                                  .n_history = N_MONTHS,
                                  .last_month = FIRST + N_MONTHS - 1,
                                  .h = 3,
                                  .backend = &sampler};
    struct forecast_result a, b;
    fw_error err = {0};
    assert_int_equal(forecast_run(&rq, &a, &err), 0);
    assert_int_equal(forecast_run(&rq, &b, &err), 0);
    assert_memory_equal(a.point, b.point, 3 * sizeof *a.point); /* seeded */
    assert_true(a.readout >= 0);
    assert_int_equal(a.circuits % forecast_circuits(f), 0);
    assert_true(a.circuits > 0);
    assert_int_equal(a.shots_total, a.circuits * 256);
    struct qplan plan;
    assert_int_equal(forecast_plan(&rq, &plan, &err), 0);
    assert_int_equal(plan.circuits, forecast_circuits(f));
    forecast_result_free(&a), forecast_result_free(&b);
    forecaster_free(f);
}

static void test_quantum_job_request_round_trip(void **state)
{
    (void)state;
    double values[3] = {1.5, NAN, 3};
    struct quantum_job q = {.model = 4,
                            .dataset = 0,
                            .first_month = FIRST,
                            .values = values,
                            .n = 3,
                            .h = 2,
                            .n_levels = 1,
                            .levels = {80},
                            .backend = {.name = "ionq", .shots = 100, .seed = 9, .qubit = 0},
                            .plan = {12, 1, 1200}};
    char *text = job_request_quantum_encode(&q);
    assert_non_null(text);
    struct quantum_job back;
    fw_error err = {0};
    assert_int_equal(job_request_quantum_decode(text, &back, &err), 0);
    assert_int_equal(back.model, 4);
    assert_int_equal(back.first_month, FIRST);
    assert_int_equal(back.n, 3);
    assert_true(back.values[0] == 1.5 && isnan(back.values[1]) && back.values[2] == 3);
    assert_int_equal(back.h, 2);
    assert_true(back.n_levels == 1 && back.levels[0] == 80);
    assert_string_equal(back.backend.name, "ionq");
    assert_int_equal(back.backend.shots, 100);
    assert_null(back.backend.noise);
    assert_int_equal(back.plan.shots_total, 1200);
    job_request_quantum_free(&back);
    free(text);
    assert_int_equal(job_request_quantum_decode("{\"h\": 2}", &back, &err), FW_ECORRUPT);
    job_request_quantum_free(&back);
    assert_int_equal(job_request_quantum_decode("not json", &back, &err), FW_ECORRUPT);
    job_request_quantum_free(&back);
}

/* A cycle-like series: period P months, amplitude A above a floor of 2, minimum at phase 0. */
static double cyclic(int t, double period)
{
    return 2 + 90 * (1 - cos(2 * M_PI * t / period)) / 2;
}

/* The smoothed forecast and the next extremes, on a history and a forecast path made by hand
 * (no model): the months covered, the values (those of smooth13 on the joined series), the
 * minimum and maximum where the path puts them, the cycle number from SILSO's table. */
static void test_cycle_summary_on_a_known_path(void **state)
{
    (void)state;
    enum { N_HIST = 400, H = 132, P = 132 };
    static double hist[N_HIST], path[H], lo[H], hi[H], joined[N_HIST + H], smooth[N_HIST + H];
    /* the history ends 30 months before a minimum that falls at 2019-12 */
    int min_month = 2019 * 12 + 11, last = min_month - 30, first = last - N_HIST + 1;
    for (int i = 0; i < N_HIST + H; i++)
        joined[i] = cyclic(first + i - min_month, P);
    memcpy(hist, joined, sizeof hist);
    for (int j = 0; j < H; j++) {
        path[j] = joined[N_HIST + j];
        lo[j] = 0.8 * path[j];
        hi[j] = 1.25 * path[j];
    }
    double levels[1] = {80};
    struct forecast_request rq = {.history = hist,
                                  .n_history = N_HIST,
                                  .last_month = last,
                                  .h = H,
                                  .levels = levels,
                                  .n_levels = 1};
    struct forecast_result r = {.h = H, .n_levels = 1, .point = path, .lo = lo, .hi = hi};
    assert_int_equal(forecast_cycle_fill(&rq, &r), 0);
    assert_int_equal(r.smoothed_first, last - 5);
    assert_int_equal(r.n_smoothed, H);
    assert_int_equal(smooth13(joined, N_HIST + H, smooth), 0);
    for (size_t k = 0; k < r.n_smoothed; k++) {
        assert_true(fabs(r.smoothed[k] - smooth[N_HIST - 6 + k]) < 1e-12);
        assert_true(r.smoothed_lo[k] <= r.smoothed[k] && r.smoothed[k] <= r.smoothed_hi[k]);
    }
    assert_true(r.next_minimum.found);
    assert_int_equal(r.next_minimum.month, min_month);
    assert_int_equal(r.cycle_number, 25); /* within 24 months of SILSO's cycle-25 start */
    assert_true(r.next_maximum.found);
    assert_true(abs(r.next_maximum.month - (min_month + P / 2)) <= 1);
    const struct forecast_extreme *e = &r.next_maximum;
    assert_true(e->lo[0] <= e->value && e->value <= e->hi[0]);
    assert_true(e->earliest <= e->month && e->month <= e->latest);
    free(r.smoothed), free(r.smoothed_lo), free(r.smoothed_hi);
    /* a horizon that ends 30 months after the minimum, before the maximum: the minimum only
     * (10 months after it would be too few to tell it is one) */
    rq.h = r.h = 60;
    assert_int_equal(forecast_cycle_fill(&rq, &r), 0);
    assert_true(r.next_minimum.found);
    assert_false(r.next_maximum.found);
    free(r.smoothed), free(r.smoothed_lo), free(r.smoothed_hi);
}

/* A model trained through month T: a forecast from before T on the same data is in sample (and
 * its JSON says so with a warning); from T, or on other data, it is not. */
static void test_in_sample_is_said(void **state)
{
    (void)state;
    struct forecaster *f = trained();
    f->protocol = PROTOCOL_LIVE;
    f->data_first_month = FIRST;
    f->data_last_month = FIRST + N_MONTHS - 1;
    strcpy(f->data_sha256, "ab12");
    struct forecast_request rq = {.model = f,
                                  .history = series,
                                  .n_history = 100,
                                  .last_month = FIRST + 99,
                                  .h = 6,
                                  .history_sha256 = "ab12"};
    struct forecast_result r;
    fw_error err = {0};
    assert_int_equal(forecast_run(&rq, &r, &err), 0);
    assert_int_equal(r.in_sample, 1);
    assert_int_equal(r.trained_through, FIRST + N_MONTHS - 1);
    struct forecast_doc doc = {.rq = &rq, .r = &r, .model = 1};
    size_t len = 0;
    char *text = forecast_json(&doc, &len);
    json_t *o = json_loads(text, 0, NULL);
    assert_true(json_is_true(json_object_get(o, "in_sample")));
    assert_string_equal(json_string_value(json_object_get(o, "trained_through")), "1813-04");
    assert_non_null(strstr(json_string_value(json_object_get(o, "warning")), "1813-04"));
    json_decref(o);
    free(text);
    forecast_result_free(&r);
    rq.history_sha256 = "cd34"; /* another series: its months were never seen */
    assert_int_equal(forecast_run(&rq, &r, &err), 0);
    assert_int_equal(r.in_sample, 0);
    forecast_result_free(&r);
    rq.history_sha256 = "ab12";
    rq.n_history = N_MONTHS;
    rq.last_month = FIRST + N_MONTHS - 1;
    assert_int_equal(forecast_run(&rq, &r, &err), 0);
    assert_int_equal(r.in_sample, 0);
    forecast_result_free(&r);
    f->data_first_month = f->data_last_month = -1; /* an imported model: unknown */
    assert_int_equal(forecast_run(&rq, &r, &err), 0);
    assert_int_equal(r.in_sample, -1);
    forecast_result_free(&r);
    /* the paper protocol: the test windows start after the last validation window's origin */
    int paper = series_fit_origin(PROTOCOL_PAPER, 1749 * 12, PAPER_LAST_MONTH, 528, 132);
    assert_int_equal(paper, 1749 * 12 + 2084 + 260 - 1 + 528 - 1);
    assert_true(1749 * 12 + (2084 + 260) + 528 - 1 > paper); /* the first test window's origin */
    assert_int_equal(series_fit_origin(PROTOCOL_LIVE, 1749 * 12, PAPER_LAST_MONTH, 528, 132),
                     PAPER_LAST_MONTH - 132);
    assert_int_equal(series_fit_origin(PROTOCOL_LIVE, -1, PAPER_LAST_MONTH, 528, 132), -1);
    assert_int_equal(series_in_sample(PROTOCOL_PAPER, 1749 * 12, PAPER_LAST_MONTH, 528, 132, paper),
                     1);
    assert_int_equal(
        series_in_sample(PROTOCOL_PAPER, 1749 * 12, PAPER_LAST_MONTH, 528, 132, paper + 1), 0);
    /* a live model saw every month up to its last as a training or validation target */
    assert_int_equal(series_in_sample(PROTOCOL_LIVE, 1749 * 12, PAPER_LAST_MONTH, 528, 132,
                                      PAPER_LAST_MONTH - 1),
                     1);
    assert_int_equal(
        series_in_sample(PROTOCOL_LIVE, 1749 * 12, PAPER_LAST_MONTH, 528, 132, PAPER_LAST_MONTH),
        0);
    assert_int_equal(series_trained_through(PROTOCOL_PAPER, 1749 * 12, PAPER_LAST_MONTH, 528, 132),
                     paper + 132);
    forecaster_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_end),
        cmocka_unit_test(test_exact_forecast_is_the_models),
        cmocka_unit_test(test_bad_requests_run_nothing),
        cmocka_unit_test(test_sampler_counts_its_circuits),
        cmocka_unit_test(test_quantum_job_request_round_trip),
        cmocka_unit_test(test_cycle_summary_on_a_known_path),
        cmocka_unit_test(test_in_sample_is_said),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
