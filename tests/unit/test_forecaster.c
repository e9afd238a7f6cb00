/* Tests for model/forecaster: the model file round trip, refusal of damaged, truncated and
 * future-version files and of checksummed files with impossible content, and forecasting with
 * conformal intervals; a version-1 file (tests/unit/fixtures/forecaster_v1.fwp) forecasting and
 * saving exactly as before version 2, the band methods' round trip, non-negative and monotone
 * bands, and out-of-sample coverage. */
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
    /* a newer format version, and none */
    bytes[8] = 3;
    assert_int_equal(forecaster_load(bytes, len, &g, &err), FW_EVERSION);
    assert_non_null(strstr(err.msg, "version 3"));
    bytes[8] = 0;
    assert_int_equal(forecaster_load(bytes, len, &g, &err), FW_EVERSION);
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
    /* calibrated with the default bands: square-root scale, c = 1, monotone */
    assert_int_equal(f->bands.method, CONFORMAL_SQRT);
    assert_true(f->bands.offset == 1.0 && f->bands.monotone == 1);
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
            assert_true(0 <= lo[i * 6 + j] && lo[i * 6 + j] <= point[j] &&
                        point[j] <= hi[i * 6 + j]);
        /* wider levels give wider intervals, nested */
        assert_true(lo[12 + j] <= lo[6 + j] && lo[6 + j] <= lo[j]);
        assert_true(hi[j] <= hi[6 + j] && hi[6 + j] <= hi[12 + j]);
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

/* tests/unit/fixtures/forecaster_v1.fwp: written by fwpcast before format version 2 (commit
 * 85f4833) from a forecaster trained as trained() above (3 epochs, 13 calibration windows,
 * scaler 0..125.955). Its forecasts then, for two histories of 24 months
 * max(0, 60 + 50 sin(2 pi (t + shift) / 40)), levels 50/80/95: point, lo, hi. */
static const double V1_SHIFT[2] = {16, 6};
static const double V1_POINT[2][6] = {
    {0x0p+0, 0x1.cba0b47b3f537p+4, 0x0p+0, 0x1.1aab2153f95a7p+6, 0x0p+0, 0x0p+0},
    {0x0p+0, 0x1.9e1c545e8ed24p+3, 0x0p+0, 0x1.70a27408d6c86p+6, 0x0p+0, 0x1.8669d3b659c1ep+2},
};
static const double V1_LO[2][18] = {
    {0x0p+0, 0x0p+0, 0x0p+0, 0x1.843e4e2da028p+3, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0,
     0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0},
    {0x0p+0, 0x0p+0, 0x0p+0, 0x1.0cfe38f522e5ep+5, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0,
     0x1.390b85f3360cp+2, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0},
};
static const double V1_HI[2][18] = {
    {0x1.ac463e899fd74p+4, 0x1.05f3de154da07p+6, 0x1.60a133326b272p+6, 0x1.02673c711f57fp+7,
     0x1.b6accd246f4c5p+5, 0x1.5beb074d9eb1ep+6, 0x1.15ac5d1f33d86p+5, 0x1.65ffb743d85d3p+6,
     0x1.ce17a8b356492p+6, 0x1.3bde6e7ece61p+7, 0x1.32593701da282p+6, 0x1.e7476dbabc1f9p+6,
     0x1.5f7228f1ce4f4p+5, 0x1.76d81b75dcfd6p+6, 0x1.da5a05a6c3bdcp+6, 0x1.4e5ebbba617c8p+7,
     0x1.3a7287650efcep+6, 0x1.ec83d49145e47p+6},
    {0x0p+0, 0x1.8d9e77049f4bcp+5, 0x1.5afed71600979p+6, 0x1.2d62e5cb8e0eep+7, 0x1.77aca3ee9a5ap+4,
     0x1.9d8215379be45p+6, 0x0p+0, 0x1.26db14b0da62ap+6, 0x1.c8754c96ebb99p+6, 0x1.66da17d93d18p+7,
     0x1.69dbf2d69230ep+5, 0x1.146f3dd25ca9p+7, 0x1.725a5129a5cep+2, 0x1.37b378e2df02cp+6,
     0x1.d4b7a98a592e3p+6, 0x1.795a6514d0338p+7, 0x1.7a0e939cfbda6p+5, 0x1.170d713da18b7p+7},
};

static uint8_t *read_fixture(size_t *len)
{
    char *path = tu_path("tests/unit/fixtures/forecaster_v1.fwp");
    uint8_t *bytes = (uint8_t *)tu_read_file(path, len);
    free(path);
    assert_non_null(bytes);
    return bytes;
}

/* The version-1 bands recomputed from the model's raw output: yhat +- halfwidth x range,
 * clipped at 0, exactly as forecaster_predict computed them before version 2. */
static void legacy_bands(struct forecaster *f, const double *history, const double *levels,
                         double *lo, double *hi)
{
    double window[24], out[6], range = f->scaler.max - f->scaler.min;
    size_t start = 0;
    for (int t = 0; t < 24; t++)
        window[t] = scaler_apply(&f->scaler, history[t]);
    assert_int_equal(train_predict(f->model, window, &start, 1, NULL, out), 0);
    for (int j = 0; j < 6; j++)
        for (int i = 0; i < 3; i++) {
            double raw = scaler_invert(&f->scaler, out[j]);
            double half =
                conformal_halfwidth(f->residuals, f->n_calibration, (size_t)j, levels[i], NULL) *
                range;
            lo[i * 6 + j] = fmax(raw - half, 0.0);
            hi[i * 6 + j] = fmax(raw + half, 0.0);
        }
}

static void test_version1_file_forecasts_as_before(void **state)
{
    (void)state;
    size_t len = 0, len2 = 0;
    uint8_t *bytes = read_fixture(&len), *again = NULL;
    assert_int_equal(bytes[8], 1);
    struct forecaster *f = NULL;
    fw_error err;
    assert_int_equal(forecaster_load(bytes, len, &f, &err), 0);
    assert_int_equal(f->bands.method, CONFORMAL_ABSOLUTE);
    assert_true(f->bands.monotone == 0 && f->bands.offset == 0);
    assert_int_equal(f->n_calibration, 13);
    /* saved again: version 1, byte for byte */
    assert_int_equal(forecaster_save(f, &again, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, again, len);
    double levels[3] = {50, 80, 95};
    for (int w = 0; w < 2; w++) {
        double history[24], point[6], lo[18], hi[18], lo_legacy[18], hi_legacy[18];
        for (int t = 0; t < 24; t++)
            history[t] = fmax(0, 60 + 50 * sin(2 * M_PI * (t + V1_SHIFT[w]) / 40.0));
        int guaranteed = -1;
        assert_int_equal(forecaster_predict(f, history, 24, 6, levels, 3, NULL, point, lo, hi,
                                            &guaranteed, &err),
                         0);
        assert_int_equal(guaranteed, 0); /* 13 windows do not support 95% */
        /* the bands are the version-1 formula's, bit for bit, whatever the model's arithmetic */
        legacy_bands(f, history, levels, lo_legacy, hi_legacy);
        assert_memory_equal(lo, lo_legacy, sizeof lo);
        assert_memory_equal(hi, hi_legacy, sizeof hi);
        /* and the numbers fwpcast answered before version 2 (to rounding, should the model's
         * arithmetic be reordered; today bit for bit) */
        for (int j = 0; j < 18; j++) {
            assert_true(tu_reldiff(lo[j], V1_LO[w][j], 1e-9) < 1e-9);
            assert_true(tu_reldiff(hi[j], V1_HI[w][j], 1e-9) < 1e-9);
            assert_true(j >= 6 || tu_reldiff(point[j], V1_POINT[w][j], 1e-9) < 1e-9);
        }
        if (!memcmp(point, V1_POINT[w], sizeof point)) {
            assert_memory_equal(lo, V1_LO[w], sizeof lo);
            assert_memory_equal(hi, V1_HI[w], sizeof hi);
        }
    }
    free(bytes), free(again);
    forecaster_free(f);
}

/* Every band method saves, loads and saves to the same bytes and forecasts the same numbers;
 * the version-1 bands are written as version 1, the others as version 2. */
static void test_band_methods_round_trip(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    const struct conformal_bands methods[] = {
        {CONFORMAL_SQRT, 1, 1.0},    {CONFORMAL_SQRT, 0, 0.0},   {CONFORMAL_SQRT, 1, 0.375},
        {CONFORMAL_SIGNED, 1, 0.0},  {CONFORMAL_SIGNED, 0, 0.0}, {CONFORMAL_ABSOLUTE, 1, 0.0},
        {CONFORMAL_ABSOLUTE, 0, 0.0}};
    double levels[3] = {50, 80, 95};
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        assert_int_equal(forecaster_calibrate_with(f, &plan, &methods[m], NULL), 0);
        uint8_t *bytes = NULL, *again = NULL;
        size_t len = 0, len2 = 0;
        assert_int_equal(forecaster_save(f, &bytes, &len), 0);
        int legacy = methods[m].method == CONFORMAL_ABSOLUTE && !methods[m].monotone;
        assert_int_equal(bytes[8], legacy ? 1 : 2);
        struct forecaster *g = NULL;
        fw_error err;
        assert_int_equal(forecaster_load(bytes, len, &g, &err), 0);
        assert_int_equal(g->bands.method, methods[m].method);
        assert_int_equal(g->bands.monotone, methods[m].monotone);
        assert_true(g->bands.offset == methods[m].offset);
        assert_memory_equal(g->residuals, f->residuals, 13 * 6 * sizeof(double));
        assert_int_equal(forecaster_save(g, &again, &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(bytes, again, len);
        double p1[6], p2[6], lo1[18], hi1[18], lo2[18], hi2[18];
        assert_int_equal(
            forecaster_predict(f, series, N_MONTHS, 6, levels, 3, NULL, p1, lo1, hi1, NULL, &err),
            0);
        assert_int_equal(
            forecaster_predict(g, series, N_MONTHS, 6, levels, 3, NULL, p2, lo2, hi2, NULL, &err),
            0);
        assert_memory_equal(lo1, lo2, sizeof lo1);
        assert_memory_equal(hi1, hi2, sizeof hi1);
        free(bytes), free(again);
        forecaster_free(g);
    }
    /* the version-1 bands calibrated now are the residuals conformal_fit always wrote */
    double *pred = malloc(13 * 6 * sizeof(double)), *truth = malloc(13 * 6 * sizeof(double));
    double res[13 * 6];
    size_t starts[13];
    assert_true(pred && truth);
    for (size_t k = 0; k < 13; k++) {
        starts[k] = plan.val.begin + k;
        memcpy(truth + k * 6, plan.scaled + starts[k] + plan.window, 6 * sizeof(double));
    }
    assert_int_equal(train_predict(f->model, series_inputs(&plan), starts, 13, NULL, pred), 0);
    conformal_fit(13, 6, pred, truth, res);
    assert_memory_equal(res, f->residuals, sizeof res);
    free(pred), free(truth);
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

    /* scores that the square-root method cannot have written: NaN, infinite, unsorted (negative
     * ones it can: they are signed) */
    double saved = f->residuals[1];
    double bad_scores[] = {NAN, INFINITY, f->residuals[0] - 1e-3};
    for (size_t i = 0; i < 3; i++) {
        f->residuals[1] = bad_scores[i];
        assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
        assert_non_null(strstr(err.msg, "residuals"));
    }
    f->residuals[1] = saved;
    /* residuals that conformal_fit cannot have written: negative, NaN, unsorted */
    struct conformal_bands absolute = {CONFORMAL_ABSOLUTE, 0, 0.0};
    assert_int_equal(forecaster_calibrate_with(f, &plan, &absolute, NULL), 0);
    saved = f->residuals[1];
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

/* Version 2's band fields: an unknown method or flag, an offset SQRT cannot have, SQRT bands
 * for a series with negative values. */
static void test_version2_band_fields_are_checked(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    uint8_t *bytes = NULL;
    size_t len = 0;
    fw_error err;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    size_t at = len - 4 - 8 * (f->model->n_params + f->model->n_buffers) -
                8 * f->n_calibration * 6 - 8 - 16; /* method u32, flags u32, offset f64 */
    assert_int_equal(bytes[at], CONFORMAL_SQRT);
    assert_int_equal(bytes[at + 4], 1);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    const struct {
        size_t pos;
        uint8_t value;
        const char *msg;
    } cases[] = {
        {at, 3, "band method"},              /* no such method */
        {at + 4, 2, "band method"},          /* an unknown flag */
        {at + 15, 0xBF, "residuals"},        /* offset -1 (0xBFF0...) */
        {at + 15, 0x7F, "residuals"},        /* offset +inf or NaN (0x7FF0...) */
        {at, CONFORMAL_SIGNED, "residuals"}, /* SIGNED with c = 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(copy, bytes, len);
        copy[cases[i].pos] = cases[i].value;
        if (cases[i].pos == at + 15)
            copy[at + 14] = 0xF0;
        assert_int_equal(load_with_crc(copy, len, &err), FW_ECORRUPT);
        assert_non_null(strstr(err.msg, cases[i].msg));
    }
    free(copy), free(bytes);
    /* a scaler with a negative min under SQRT bands */
    f->scaler.min = -1.0;
    assert_int_equal(load_saved(f, &err), FW_ECORRUPT);
    assert_non_null(strstr(err.msg, "negative"));
    forecaster_free(f);
    series_free(&plan);
}

/* SQRT bands are >= 0 for every history, also where the model's raw forecast is negative (this
 * 3-epoch model's often is; the point is clipped at 0 there, the band is not a clipped one). */
static void test_sqrt_bands_never_negative(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    double levels[4] = {10, 50, 80, 95};
    int negative_raw = 0;
    for (size_t start = 0; start + 24 <= N_MONTHS; start++) {
        double point[6], lo[24], hi[24], window[24], out[6];
        fw_error err;
        assert_int_equal(forecaster_predict(f, series + start, 24, 6, levels, 4, NULL, point, lo,
                                            hi, NULL, &err),
                         0);
        size_t s0 = 0;
        for (int t = 0; t < 24; t++)
            window[t] = scaler_apply(&f->scaler, series[start + t]);
        assert_int_equal(train_predict(f->model, window, &s0, 1, NULL, out), 0);
        for (int j = 0; j < 6; j++) {
            negative_raw += scaler_invert(&f->scaler, out[j]) < 0;
            for (int i = 0; i < 4; i++)
                assert_true(lo[i * 6 + j] >= 0 && lo[i * 6 + j] <= hi[i * 6 + j]);
        }
    }
    assert_true(negative_raw > 0);
    forecaster_free(f);
    series_free(&plan);
}

/* Monotone on: the score-scale offsets never narrow with h and each band contains the one the
 * per-step quantiles give (monotone off). */
static void test_monotone_bands(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    struct conformal_bands off = {CONFORMAL_SQRT, 0, 1.0};
    double levels[3] = {50, 80, 95}, point[6], lo_on[18], hi_on[18], lo_off[18], hi_off[18];
    fw_error err;
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, levels, 3, NULL, point, lo_on,
                                        hi_on, NULL, &err),
                     0);
    for (int i = 0; i < 3; i++) {
        double prev_lo = INFINITY, prev_hi = -INFINITY;
        for (size_t j = 0; j < 6; j++) {
            double q_lo, q_hi;
            conformal_quantiles(&f->bands, f->residuals, 13, j, levels[i], &q_lo, &q_hi);
            assert_true(q_lo <= prev_lo && q_hi >= prev_hi);
            prev_lo = q_lo, prev_hi = q_hi;
        }
    }
    assert_int_equal(forecaster_calibrate_with(f, &plan, &off, NULL), 0);
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, levels, 3, NULL, point, lo_off,
                                        hi_off, NULL, &err),
                     0);
    int narrower = 0;
    for (int k = 0; k < 18; k++) {
        assert_true(lo_on[k] <= lo_off[k] && hi_on[k] >= hi_off[k]);
        narrower += lo_on[k] < lo_off[k] || hi_on[k] > hi_off[k];
    }
    assert_true(narrower > 0); /* this calibration set has a step narrower than an earlier one */
    forecaster_free(f);
    series_free(&plan);
}

/* The guarantee follows the method: two tails need more windows than one (13 windows support
 * 86% with absolute residuals, rank ceil(14 x 0.86) = 13, but not with two tails,
 * ceil(14 x 0.93) = 14); bad bands and SQRT for a series with negative values are refused. */
static void test_guarantee_and_default_bands(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    double level = 86, point[6], lo[6], hi[6];
    int guaranteed = -1;
    fw_error err;
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, &level, 1, NULL, point, lo, hi,
                                        &guaranteed, &err),
                     0);
    assert_int_equal(guaranteed, 0);
    struct conformal_bands absolute = {CONFORMAL_ABSOLUTE, 0, 0.0};
    assert_int_equal(forecaster_calibrate_with(f, &plan, &absolute, NULL), 0);
    assert_int_equal(forecaster_predict(f, series, N_MONTHS, 6, &level, 1, NULL, point, lo, hi,
                                        &guaranteed, &err),
                     0);
    assert_int_equal(guaranteed, 1);
    const struct conformal_bands bad[] = {
        {CONFORMAL_SQRT, 1, -1.0}, {CONFORMAL_SIGNED, 1, 2.0}, {(enum conformal_method)5, 0, 0.0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(forecaster_calibrate_with(f, &plan, &bad[i], NULL), FW_EINVAL);
    assert_int_equal(f->bands.method, CONFORMAL_ABSOLUTE); /* unchanged */
    struct conformal_bands b;
    struct scaler negative = {-3.0, 5.0};
    forecaster_default_bands(&negative, &b);
    assert_int_equal(b.method, CONFORMAL_SIGNED);
    assert_true(b.monotone == 1 && b.offset == 0);
    forecaster_default_bands(&f->scaler, &b);
    assert_int_equal(b.method, CONFORMAL_SQRT);
    f->scaler.min = -1;
    assert_int_equal(forecaster_calibrate_with(f, &plan, &b, NULL), FW_EINVAL);
    forecaster_free(f);
    series_free(&plan);
}

/* forecaster_coverage counts what forecaster_predict draws: the same fractions from each test
 * window's own forecast. */
static void test_coverage_is_the_forecasts(void **state)
{
    (void)state;
    struct split_plan plan;
    struct forecaster *f = trained(&plan);
    double levels[3] = {50, 80, 95}, per_level[3], per_step[18];
    assert_int_equal(forecaster_coverage(f, &plan, plan.test, levels, 3, NULL, per_level, per_step),
                     0);
    size_t n = plan.test.end - plan.test.begin, inside[18] = {0};
    for (size_t k = 0; k < n; k++) {
        size_t s0 = plan.test.begin + k;
        double point[6], lo[18], hi[18];
        fw_error err;
        assert_int_equal(
            forecaster_predict(f, series + s0, 24, 6, levels, 3, NULL, point, lo, hi, NULL, &err),
            0);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 6; j++) {
                double y = series[s0 + 24 + j];
                inside[i * 6 + j] += y >= lo[i * 6 + j] && y <= hi[i * 6 + j];
            }
    }
    for (int i = 0; i < 3; i++) {
        double total = 0;
        for (int j = 0; j < 6; j++) {
            assert_true(fabs(per_step[i * 6 + j] - (double)inside[i * 6 + j] / (double)n) < 1e-12);
            total += (double)inside[i * 6 + j];
        }
        assert_true(fabs(per_level[i] - total / (double)(n * 6)) < 1e-12);
        print_message("test windows %zu, %2.0f%% band: coverage %.3f\n", n, levels[i],
                      per_level[i]);
    }
    double bad = 100;
    assert_int_equal(forecaster_coverage(f, &plan, plan.test, &bad, 1, NULL, per_level, NULL),
                     FW_ERANGE);
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
        cmocka_unit_test(test_version1_file_forecasts_as_before),
        cmocka_unit_test(test_band_methods_round_trip),
        cmocka_unit_test(test_version2_band_fields_are_checked),
        cmocka_unit_test(test_sqrt_bands_never_negative),
        cmocka_unit_test(test_monotone_bands),
        cmocka_unit_test(test_guarantee_and_default_bands),
        cmocka_unit_test(test_coverage_is_the_forecasts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
