/* Tests for core/model_json: the export carries exactly the authors' PyTorch state_dict keys
 * and shapes (paper.md appendix), export -> import is lossless, and bad documents are refused
 * with the offending tensor named. */
#include "testutil.h"
#include "core/model_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* paper.md, Appendix: the authors' state_dict for the solar model. */
static const struct {
    const char *key;
    int ndim, shape[4];
} authors_keys[] = {
    {"fwp_cell.slow_program_encoder.0.weight", 2, {25, 1}},
    {"fwp_cell.slow_program_encoder.0.bias", 1, {25}},
    {"fwp_cell.slow_program_encoder.1.layers.0.theta", 4, {25, 25, 2, 2}},
    {"fwp_cell.slow_program_encoder.1.layers.0.base_weight", 2, {25, 25}},
    {"fwp_cell.slow_program_encoder.1.layers.0.preacts_weight", 3, {25, 25, 1}},
    {"fwp_cell.slow_program_encoder.1.layers.0.preacts_bias", 3, {25, 25, 1}},
    {"fwp_cell.slow_program_encoder.1.layers.0.postact_weights", 2, {25, 25}},
    {"fwp_cell.slow_program_encoder.1.layers.0.postact_bias", 2, {25, 25}},
    {"fwp_cell.slow_program_encoder.1.layers.0.mask", 2, {25, 25}},
    {"fwp_cell.slow_program_encoder.2.weight", 2, {48, 25}},
    {"fwp_cell.slow_program_encoder.2.bias", 1, {48}},
    {"fwp_cell.theta_head_A.weight", 2, {60, 48}},
    {"fwp_cell.theta_head_A.bias", 1, {60}},
    {"fwp_cell.theta_head_B.weight", 2, {20, 48}},
    {"fwp_cell.theta_head_B.bias", 1, {20}},
    {"fwp_cell.fast_gate.weight", 2, {1, 48}},
    {"fwp_cell.fast_gate.bias", 1, {1}},
    {"fwp_cell.prelinear.weight", 2, {10, 1}},
    {"fwp_cell.prelinear.bias", 1, {10}},
    {"fwp_cell.qkan_layer.layers.0.theta", 4, {20, 10, 3, 2}},
    {"fwp_cell.qkan_layer.layers.0.base_weight", 2, {20, 10}},
    {"fwp_cell.qkan_layer.layers.0.preacts_weight", 3, {20, 10, 2}},
    {"fwp_cell.qkan_layer.layers.0.preacts_bias", 3, {20, 10, 2}},
    {"fwp_cell.qkan_layer.layers.0.postact_weights", 2, {20, 10}},
    {"fwp_cell.qkan_layer.layers.0.postact_bias", 2, {20, 10}},
    {"fwp_cell.qkan_layer.layers.0.mask", 2, {20, 10}},
    {"batch_norm.weight", 1, {20}},
    {"batch_norm.bias", 1, {20}},
    {"batch_norm.running_mean", 1, {20}},
    {"batch_norm.running_var", 1, {20}},
    {"batch_norm.num_batches_tracked", 0, {0}},
    {"output_layer.weight", 2, {132, 20}},
    {"output_layer.bias", 1, {132}},
};
#define N_KEYS (sizeof authors_keys / sizeof authors_keys[0])

static struct forecaster *paper_model(uint64_t seed)
{
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", "", seed, &m, NULL), 0);
    struct scaler s = {0.0, 398.2};
    struct forecaster *f = NULL;
    assert_int_equal(forecaster_create(m, &s, &f), 0);
    f->n_calibration = 3;
    f->residuals = malloc(3 * 132 * sizeof(double));
    for (int k = 0; k < 3 * 132; k++)
        f->residuals[k] = 0.01 * (k % 3 + 1);
    m->buffers[0] = 0.123456789012345678; /* a running mean that needs all 17 digits */
    return f;
}

static void test_export_has_authors_keys(void **state)
{
    (void)state;
    struct forecaster *f = paper_model(0);
    json_t *doc = model_json_export(f);
    assert_non_null(doc);
    json_t *sd = json_object_get(doc, "state_dict");
    assert_int_equal(json_object_size(sd), N_KEYS);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(sd, key, value)
    {
        /* same keys, same order as PyTorch's state_dict */
        assert_string_equal(key, authors_keys[i].key);
        json_t *shape = json_object_get(value, "shape");
        assert_int_equal(json_array_size(shape), authors_keys[i].ndim);
        size_t count = 1;
        for (int d = 0; d < authors_keys[i].ndim; d++) {
            assert_int_equal(json_integer_value(json_array_get(shape, (size_t)d)),
                             authors_keys[i].shape[d]);
            count *= (size_t)authors_keys[i].shape[d];
        }
        assert_int_equal(json_array_size(json_object_get(value, "data")), count);
        i++;
    }
    /* the gate bias starts at 2.0; row-major: output_layer.weight[1][0] is element 20 */
    json_t *gate = json_object_get(json_object_get(sd, "fwp_cell.fast_gate.bias"), "data");
    assert_true(json_real_value(json_array_get(gate, 0)) == 2.0);
    const double *wo = model_tensor_data(f->model, "output_layer.weight");
    json_t *wod = json_object_get(json_object_get(sd, "output_layer.weight"), "data");
    assert_true(json_real_value(json_array_get(wod, 20)) == wo[1 * 20 + 0]);
    json_t *scaler = json_object_get(doc, "scaler");
    assert_true(json_real_value(json_object_get(scaler, "max")) == 398.2);
    json_decref(doc);
    forecaster_free(f);
}

static void test_round_trip_is_lossless(void **state)
{
    (void)state;
    struct forecaster *f = paper_model(3);
    json_t *doc = model_json_export(f);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(doc);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    free(text);
    struct forecaster *g = NULL;
    fw_error err;
    assert_int_equal(model_json_import(back, NULL, &g, &err), 0);
    json_decref(back);
    uint8_t *a = NULL, *b = NULL;
    size_t la, lb;
    assert_int_equal(forecaster_save(f, &a, &la), 0);
    assert_int_equal(forecaster_save(g, &b, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a), free(b);
    forecaster_free(f), forecaster_free(g);
}

/* Square-root bands (signed scores, negative ones too) survive the round trip with their method;
 * a document without one reads as absolute residuals, and an unknown method is refused. */
static void test_band_method_round_trip(void **state)
{
    (void)state;
    struct forecaster *f = paper_model(4), *g = NULL;
    f->bands = (struct conformal_bands){CONFORMAL_SQRT, 1, 1.0};
    for (int k = 0; k < 3 * 132; k++)
        f->residuals[k] = 0.5 * (k % 3) - 0.75; /* -0.75 -0.25 0.25 per step */
    json_t *doc = model_json_export(f);
    assert_string_equal(json_string_value(json_object_get(doc, "conformal_method")), "sqrt");
    fw_error err;
    assert_int_equal(model_json_import(doc, NULL, &g, &err), 0);
    uint8_t *a = NULL, *b = NULL;
    size_t la, lb;
    assert_int_equal(forecaster_save(f, &a, &la), 0);
    assert_int_equal(forecaster_save(g, &b, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a), free(b);
    forecaster_free(g);
    json_object_del(doc, "conformal_method"); /* absolute: negative residuals are impossible */
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    json_object_set_new(doc, "conformal_method", json_string("cubic"));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "conformal_method"));
    json_decref(doc);
    forecaster_free(f);
}

static void test_bad_documents(void **state)
{
    (void)state;
    struct forecaster *f = paper_model(1), *g = NULL;
    fw_error err;
    json_t *doc = model_json_export(f);
    json_t *sd = json_object_get(doc, "state_dict");

    /* a bare state_dict (what the authors' torch.save holds) needs a scaler */
    json_t *bare = json_deep_copy(sd);
    assert_int_equal(model_json_import(bare, NULL, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "scaler"));
    struct scaler sc = {0, 398.2};
    assert_int_equal(model_json_import(bare, &sc, &g, &err), 0);
    forecaster_free(g);

    /* a wrong shape names the tensor */
    json_t *w = json_object_get(json_object_get(bare, "output_layer.weight"), "shape");
    json_array_set_new(w, 0, json_integer(131));
    assert_int_equal(model_json_import(bare, &sc, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "output_layer.weight"));
    json_array_set_new(w, 0, json_integer(132));

    /* a frozen tensor with another value is not this model */
    json_t *mask = json_object_get(
        json_object_get(bare, "fwp_cell.slow_program_encoder.1.layers.0.mask"), "data");
    json_array_set_new(mask, 5, json_real(0.0));
    assert_int_equal(model_json_import(bare, &sc, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "mask"));
    json_array_set_new(mask, 5, json_real(1.0));

    /* the unused fast theta may hold anything */
    json_t *dead =
        json_object_get(json_object_get(bare, "fwp_cell.qkan_layer.layers.0.theta"), "data");
    json_array_set_new(dead, 0, json_real(0.77));
    if (model_json_import(bare, &sc, &g, &err))
        fail_msg("%s", err.msg);
    forecaster_free(g);

    /* NaN, text and missing tensors */
    json_t *bias = json_object_get(json_object_get(bare, "output_layer.bias"), "data");
    json_array_set_new(bias, 3, json_string("x"));
    assert_int_equal(model_json_import(bare, &sc, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "output_layer.bias[3]"));
    json_object_del(bare, "output_layer.bias");
    assert_int_equal(model_json_import(bare, &sc, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "lacks output_layer.bias"));
    json_t *not_object = json_string("x");
    assert_int_equal(model_json_import(not_object, &sc, &g, &err), FW_EINVAL);
    json_decref(not_object);

    /* a bad scaler */
    json_object_set_new(doc, "scaler", json_pack("{s:f, s:f}", "min", 5.0, "max", 5.0));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    json_decref(bare);
    json_decref(doc);
    forecaster_free(f);
}

/* Found by tests/fuzz/fuzz_model_json.c and fuzz_model_file.c: every model the import accepts
 * exports and saves to a file that loads. */
static void test_accepted_models_export_and_load(void **state)
{
    (void)state;
    struct forecaster *f = paper_model(2), *g = NULL, *h = NULL;
    fw_error err;
    struct scaler sc = {0, 398.2};
    json_t *doc = model_json_export(f);

    /* a bare state_dict has no residuals: its export has empty rows (it offset a NULL pointer) */
    json_t *bare = json_deep_copy(json_object_get(doc, "state_dict"));
    assert_int_equal(model_json_import(bare, &sc, &g, &err), 0);
    assert_int_equal(g->n_calibration, 0);
    json_t *out = model_json_export(g);
    assert_non_null(out);
    json_t *rows = json_object_get(out, "conformal_residuals");
    assert_int_equal(json_array_size(rows), 132);
    assert_int_equal(json_array_size(json_array_get(rows, 0)), 0);
    json_decref(out);
    forecaster_free(g);

    /* num_batches_tracked beyond int64 (a file may hold any double) exports as the number it is */
    double *tracked = model_tensor_data(f->model, "batch_norm.num_batches_tracked");
    assert_non_null(tracked);
    *tracked = 1e158;
    out = model_json_export(f);
    assert_int_equal(model_json_import(out, NULL, &g, &err), 0);
    assert_true(*model_tensor_data(g->model, "batch_norm.num_batches_tracked") == 1e158);
    json_decref(out);
    forecaster_free(g);

    /* a fingerprint that is not a hex digest is dropped: the model file must load */
    json_object_set_new(doc, "data_sha256", json_string("not-a-digest"));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), 0);
    assert_string_equal(g->data_sha256, "");
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(forecaster_save(g, &bytes, &len), 0);
    assert_int_equal(forecaster_load(bytes, len, &h, &err), 0);
    free(bytes);
    forecaster_free(h);
    forecaster_free(g);

    /* residuals that are not sorted absolute values, and a scaler range that overflows */
    json_t *row = json_array_get(json_object_get(doc, "conformal_residuals"), 4);
    json_array_set_new(row, 0, json_real(-0.5));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "conformal_residuals"));
    json_array_set_new(row, 0, json_real(0.5)); /* now larger than the next one */
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    json_array_set_new(row, 0, json_real(0.01));
    json_object_set_new(doc, "scaler", json_pack("{s:f, s:f}", "min", -1e308, "max", 1e308));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), FW_EINVAL);
    json_object_set_new(doc, "scaler", json_pack("{s:f, s:f}", "min", 0.0, "max", 398.2));
    assert_int_equal(model_json_import(doc, NULL, &g, &err), 0);
    forecaster_free(g);
    json_decref(bare);
    json_decref(doc);
    forecaster_free(f);
}

static void test_config_text(void **state)
{
    (void)state;
    char text[256];
    fw_error err;
    json_t *o = json_pack("{s:i, s:s, s:f, s:b}", "hidden", 8, "readout", "born", "dropout", 0.3,
                          "batchnorm", 0);
    assert_int_equal(model_json_config_text(o, text, sizeof text, &err), 0);
    assert_string_equal(text, "hidden=8;readout=born;dropout=0.3;batchnorm=0");
    json_object_set_new(o, "bad", json_array());
    assert_int_equal(model_json_config_text(o, text, sizeof text, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "bad"));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_has_authors_keys),
        cmocka_unit_test(test_round_trip_is_lossless),
        cmocka_unit_test(test_band_method_round_trip),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_accepted_models_export_and_load),
        cmocka_unit_test(test_config_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
