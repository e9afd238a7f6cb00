/*
 * fuzz_model_json — model_json_import (core/model_json.h): fwpcast's JSON model export and the
 * authors' bare PyTorch state_dict, as POST /models/import and `fwpcast import-model` read them.
 * Input: one byte (bit 0: pass a scaler, as `--scaler-min/--scaler-max` does for a bare
 * state_dict), then the document.
 *
 * Properties: a model it accepts saves to a model file that loads, and exports to a document
 * that imports to the same model file (the round trip docs/MODEL_FORMAT.md promises).
 */
#include "fuzz.h"
#include "model/forecaster.h"
#include "core/model_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    int give_scaler = fuzz_byte(&in) & 1;
    size_t len;
    char *text = fuzz_rest(&in, &len);
    static const struct scaler paper = {0, 398.2};
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    struct forecaster *f = NULL, *loaded = NULL, *again = NULL;
    fw_error err = {0};
    if (doc && model_json_import(doc, give_scaler ? &paper : NULL, &f, &err) == FW_OK) {
        uint8_t *bytes = NULL, *bytes_again = NULL;
        size_t n = 0, n_again = 0;
        FUZZ_CHECK(forecaster_save(f, &bytes, &n) == FW_OK);
        int rc = forecaster_load(bytes, n, &loaded, &err);
        if (rc)
            fprintf(stderr, "the imported model's file does not load: %s\n", err.msg);
        FUZZ_CHECK(rc == FW_OK);
        json_t *exported = model_json_export(f);
        FUZZ_CHECK(exported != NULL);
        char *dumped = json_dumps(exported, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_t *reread = dumped ? json_loads(dumped, 0, NULL) : NULL;
        FUZZ_CHECK(reread != NULL);
        FUZZ_CHECK(model_json_import(reread, NULL, &again, &err) == FW_OK);
        FUZZ_CHECK(forecaster_save(again, &bytes_again, &n_again) == FW_OK);
        FUZZ_CHECK(n == n_again && !memcmp(bytes, bytes_again, n));
        json_decref(reread), json_decref(exported);
        free(dumped), free(bytes), free(bytes_again);
    }
    forecaster_free(again);
    forecaster_free(loaded);
    forecaster_free(f);
    json_decref(doc);
    free(text);
    return 0;
}
