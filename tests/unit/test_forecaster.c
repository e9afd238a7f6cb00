/* Tests for model/forecaster: the model file round trip, refusal of damaged, truncated and
 * future-version files and of checksummed files with impossible content, and forecasting with
 * conformal intervals. */
#include "testutil.h"
#include "base/bytes.h"
#include "model/forecaster.h"
#include "model/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG   "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"
#define N_MONTHS 160

static double series[N_MONTHS];

static struct forecaster *trained(struct split_plan *plan)
{
    rng r;
    rng_seed(&r, 5);
    for (int t = 0; t < N_MONTHS; t++)
        series[t] = fmax(0, 60 + 50 * sin(2 * M_PI * t / 40.0) + 8 * rng_normal(&r));
    assert_int_equal(
        series_prepare(series, N_MONTHS, 1800 * 12, PROTOCOL_PAPER, -1, 24, 6, plan, NULL), 0);
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, 1, &m, NULL), 0);
    struct train_options o;
    train_options_default(&o);
    o.epochs = 3;
    o.batch_size = 8;
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    assert_int_equal(train_run(m, plan, &o, &s, NULL, NULL, NULL, NULL), 0);
    train_state_free(&s);
    struct forecaster *f = NULL;
    assert_int_equal(forecaster_create(m, &plan->scaler, &f), 0);
    f->protocol = PROTOCOL_PAPER;
    f->seed = 1;
    f->cutoff_month = 1810 * 12 + 5;
    strcpy(f->data_sha256, "abc123");
    assert_int_equal(forecaster_calibrate(f, plan, NULL), 0);
    assert_int_equal(forecaster_evaluate(f, plan, plan->test, NULL, &f->test), 0);
    f->has_test_metrics = 1;
    return f;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    uint8_t *bytes = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    struct forecaster *g = NULL;
    fw_error err;
    assert_int_equal(forecaster_load(bytes, len, &g, &err), 0);
    assert_int_equal(forecaster_save(g, &again, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, again, len);
    assert_int_equal(g->cutoff_month, f->cutoff_month);
    assert_string_equal(g->data_sha256, "abc123");
    assert_true(g->test.scaled_mse == f->test.scaled_mse);
    /* both forecast the same numbers */
    double p1[6], p2[6], lo1[12], hi1[12], lo2[12], hi2[12], levels[2] = {80, 95};
    assert_int_equal(
        forecaster_predict(f, series, N_MONTHS, 6, levels, 2, NULL, p1, lo1, hi1, NULL, &err), 0);
    assert_int_equal(
        forecaster_predict(g, series, N_MONTHS, 6, levels, 2, NULL, p2, lo2, hi2, NULL, &err), 0);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(hi1, hi2, sizeof hi1);
    free(bytes), free(again);
    forecaster_free(f), forecaster_free(g);
    series_free(&plan);
}

static void test_damaged_files_are_refused(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan), *g = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    fw_error err;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    /* one flipped bit anywhere after the header */
    for (size_t pos = 40; pos < len; pos += len / 7) {
        bytes[pos] ^= 0x10;
        assert_int_equal(forecaster_load(bytes, len, &g, &err), FW_ECORRUPT);
        assert_non_null(strstr(err.msg, "checksum"));
        bytes[pos] ^= 0x10;
    }
    /* truncated */
    assert_int_not_equal(forecaster_load(bytes, len - 9, &g, &err), 0);
    assert_int_not_equal(forecaster_load(bytes, 5, &g, &err), 0);
    /* not a model file */
    assert_int_equal(forecaster_load((const uint8_t *)"hello world, not a model", 24, &g, &err),
                     FW_ECORRUPT);
    /* a newer format version */
    bytes[8] = 2;
    assert_int_equal(forecaster_load(bytes, len, &g, &err), FW_EVERSION);
    assert_non_null(strstr(err.msg, "version 2"));
    free(bytes);
    forecaster_free(f);
    series_free(&plan);
}

static void test_forecast_and_intervals(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    double point[6], lo[18], hi[18], levels[3] = {50, 80, 95};
    int guaranteed = 0;
    fw_error err;
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, levels, 3, NULL, point, lo, hi,
                                        &guaranteed, &err),
                     0);
    /* 13 calibration windows support 80% (rank ceil(14*0.8) = 12) but not 95% (rank 14) */
    assert_int_equal(f->n_calibration, 13);
    assert_false(guaranteed);
    double p80[6], lo80[6], hi80[6];
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, &levels[1], 1, NULL, p80, lo80,
                                        hi80, &guaranteed, &err),
                     0);
    assert_true(guaranteed);
    assert_memory_equal(lo80, lo + 6, sizeof lo80);
    for (int j = 0; j < 6; j++) {
        assert_true(isfinite(point[j]));
        for (int i = 0; i < 3; i++)
            assert_true(lo[i * 6 + j] <= point[j] && point[j] <= hi[i * 6 + j]);
        /* wider levels give wider intervals */
        assert_true(hi[6 + j] - lo[6 + j] >= hi[j] - lo[j]);
        assert_true(hi[12 + j] - lo[12 + j] >= hi[6 + j] - lo[6 + j]);
    }
    /* the model looks only at the last window: earlier history changes nothing */
    double shorter[6];
    assert_int_equal(forecaster_predict(f, series + 100, N_MONTHS - 100, 6, NULL, 0, NULL, shorter,
                                        NULL, NULL, NULL, &err),
                     0);
    assert_memory_equal(point, shorter, sizeof shorter);
    /* bad requests */
    assert_int_equal(
        forecaster_predict(f, series, N_MONTHS, 7, NULL, 0, NULL, point, NULL, NULL, NULL, &err),
        FW_ERANGE);
    assert_int_equal(
        forecaster_predict(f, series, N_MONTHS, 0, NULL, 0, NULL, point, NULL, NULL, NULL, &err),
        FW_ERANGE);
    assert_int_equal(
        forecaster_predict(f, series, 10, 6, NULL, 0, NULL, point, NULL, NULL, NULL, &err),
        FW_EINVAL);
    double bad_level = 100;
    assert_int_equal(
        forecaster_predict(f, series, N_MONTHS, 6, &bad_level, 1, NULL, point, lo, hi, NULL, &err),
        FW_ERANGE);
    /* a missing month in the history is filled, not treated as zero */
    double gappy[N_MONTHS];
    memcpy(gappy, series, sizeof gappy);
    gappy[N_MONTHS - 3] = NAN;
    double filled[N_MONTHS];
    memcpy(filled, series, sizeof filled);
    filled[N_MONTHS - 3] = filled[N_MONTHS - 4];
    double a[6], b[6];
    assert_int_equal(
        forecaster_predict(f, gappy, N_MONTHS, 6, NULL, 0, NULL, a, NULL, NULL, NULL, &err), 0);
    assert_int_equal(
        forecaster_predict(f, filled, N_MONTHS, 6, NULL, 0, NULL, b, NULL, NULL, NULL, &err), 0);
    assert_memory_equal(a, b, sizeof a);
    forecaster_free(f);
    series_free(&plan);
}

/* A file with a right checksum over wrong content (what tests/fuzz/fuzz_model_file.c makes):
 * saves f after `damage` changed it, or patches the bytes, rewrites the CRC and loads. */
static int load_with_crc(uint8_t *bytes, size_t len, fw_error *err)
{
    uint32_t crc = bytes_crc32(0, bytes, len - 4);
    for (int i = 0; i < 4; i++)
        bytes[len - 4 + i] = (uint8_t)(crc >> (8 * i));
    struct forecaster *g = NULL;
    int rc = forecaster_load(bytes, len, &g, err);
    forecaster_free(g);
    return rc;
}

static int load_saved(const struct forecaster *f, fw_error *err)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    int rc = load_with_crc(bytes, len, err);
    free(bytes);
    return rc;
}

static void test_checksummed_nonsense_is_refused(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    fw_error err;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    /* a parameter count that is not the architecture's: the message names the right one (it was
     * read from the model after freeing it) */
    size_t count_at = 8 + 4 + 4 + strlen("gated-qkan-fwp");
    uint32_t config_len = (uint32_t)bytes[count_at] | (uint32_t)bytes[count_at + 1] << 8;
    count_at += 4 + config_len;
    bytes[count_at] ^= 0x40;
    assert_int_equal(load_with_crc(bytes, len, &err), FW_ECORRUPT);
    char expected[32];
    snprintf(expected, sizeof expected, "has %zu", f->model->n_params);
    assert_non_null(strstr(err.msg, expected));
    free(bytes);

    /* residuals that conformal_fit cannot have written: negative, NaN, unsorted */
    double saved = f->residuals[1];
    double bad_residuals[] = {-1.0, NAN, f->residuals[0] - 1e-3};
    for (size_t i = 0; i < 3; i++) {
        f->residuals[1] = bad_residuals[i];
        assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
        assert_non_null(strstr(err.msg, "residuals"));
    }
    f->residuals[1] = saved;
    /* a scaler whose range is not finite, a fingerprint that is not hex, a NaN running mean */
    struct scaler scaler = f->scaler;
    f->scaler.max = INFINITY;
    assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
    f->scaler.min = -1e308, f->scaler.max = 1e308;
    assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
    f->scaler = scaler;
    strcpy(f->data_sha256, "ab\xff\xfe");
    assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
    strcpy(f->data_sha256, "abc123");
    f->model->buffers[0] = NAN;
    assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
    f->model->buffers[0] = 0;
    assert_int_equal(load_saved(f, &err), 0);
    forecaster_free(f);
    series_free(&plan);
}

/* An output that is finite in scaled units but overflows when scaled back is refused, not
 * answered as an infinite forecast (found by tests/fuzz/fuzz_model_file.c). */
static void test_overflowing_forecast_is_refused(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    const struct tensor_info *w = model_tensor(f->model, "output_layer.weight");
    const struct tensor_info *b = model_tensor(f->model, "output_layer.bias");
    assert_non_null(w);
    assert_non_null(b);
    memset(f->model->params + w->offset, 0, (size_t)w->shape[0] * w->shape[1] * sizeof(double));
    f->model->params[b->offset + 2] = 1e307; /* step 3: finite, but 1e307 x the range is not */
    model_params_changed(f->model);
    double point[6];
    fw_error err;
    assert_int_equal(
        forecaster_predict(f, series, N_MONTHS, 6, NULL, 0, NULL, point, NULL, NULL, NULL, &err),
        FW_ERANGE);
    assert_non_null(strstr(err.msg, "not finite"));
    forecaster_free(f);
    series_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_files_are_refused),
        cmocka_unit_test(test_forecast_and_intervals),
        cmocka_unit_test(test_checksummed_nonsense_is_refused),
        cmocka_unit_test(test_overflowing_forecast_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
