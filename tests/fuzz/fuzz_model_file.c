/*
 * fuzz_model_file — forecaster_load (model/forecaster.h), the binary model format of
 * docs/MODEL_FORMAT.md that POST /models/import (application/octet-stream), the database and
 * `fwpcast forecast --model` read. Input: one mode byte, then the file. A file must end with the
 * CRC-32 of everything before it, so random mutations of a seed would bounce off the checksum:
 * when the mode byte is odd the harness writes the right CRC over the mutated bytes first, and
 * the parser behind the checksum sees them.
 *
 * Properties: a file that loads saves to one that loads and saves to the same bytes; it exports
 * as JSON (GET /models/{id}/export?format=json); and the model forecasts from a history in its
 * training range, or refuses cleanly, but never answers with a point forecast that is not
 * finite or outside its own bands (bands may be infinite: a model without calibration has none).
 */
#include "fuzz.h"
#include "base/bytes.h"
#include "model/forecaster.h"
#include "core/model_json.h"

#include <math.h>

#define MAX_WINDOW 4096

static void check_forecast(struct forecaster *f)
{
    size_t n = (size_t)f->model->window, h = (size_t)f->model->horizon;
    static const double levels[2] = {80, 95};
    double *history = malloc(n * sizeof *history), *point = malloc(h * sizeof *point);
    double *lo = malloc(2 * h * sizeof *lo), *hi = malloc(2 * h * sizeof *hi);
    if (!history || !point || !lo || !hi)
        abort();
    for (size_t i = 0; i < n; i++) /* a cycle inside the training range */
        history[i] = f->scaler.min + (f->scaler.max - f->scaler.min) * (0.5 + 0.4 * sin(0.05 * i));
    fw_error err = {0};
    if (forecaster_predict(f, history, n, h, levels, 2, NULL, point, lo, hi, NULL, &err) == 0)
        for (size_t j = 0; j < h; j++) {
            FUZZ_CHECK(isfinite(point[j]));
            for (size_t i = 0; i < 2; i++)
                FUZZ_CHECK(lo[i * h + j] <= point[j] && point[j] <= hi[i * h + j]);
        }
    free(history), free(point), free(lo), free(hi);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    int fix_crc = fuzz_byte(&in) & 1;
    size_t len;
    uint8_t *file = (uint8_t *)fuzz_rest(&in, &len);
    if (fix_crc && len >= 4) {
        uint32_t crc = bytes_crc32(0, file, len - 4);
        for (int i = 0; i < 4; i++)
            file[len - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    struct forecaster *f = NULL, *reloaded = NULL;
    fw_error err = {0};
    if (forecaster_load(file, len, &f, &err) == FW_OK) {
        uint8_t *saved = NULL, *resaved = NULL;
        size_t saved_len = 0, resaved_len = 0;
        FUZZ_CHECK(forecaster_save(f, &saved, &saved_len) == FW_OK);
        FUZZ_CHECK(forecaster_load(saved, saved_len, &reloaded, &err) == FW_OK);
        FUZZ_CHECK(forecaster_save(reloaded, &resaved, &resaved_len) == FW_OK);
        FUZZ_CHECK(saved_len == resaved_len && !memcmp(saved, resaved, saved_len));
        json_t *exported = model_json_export(f);
        FUZZ_CHECK(exported != NULL);
        json_decref(exported);
        if (f->model->window <= MAX_WINDOW)
            check_forecast(f);
        free(saved), free(resaved);
    }
    forecaster_free(reloaded);
    forecaster_free(f);
    free(file);
    return 0;
}
