/* model_record — a forecaster as a models row (see model_record.h). */
#include "core/model_record.h"
#include "db/store.h"
#include "base/period.h"
#include "core/model_json.h"
#include "base/textbuf.h"
#include "core/json_text.h"

#include <stdlib.h>

int model_record_insert(sqlite3 *db, const struct forecaster *f, const struct model_record *r,
                        int64_t *id, fw_error *err)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = forecaster_save(f, &bytes, &len);
    if (rc)
        return rc;
    json_t *cfg = model_json_config(&f->model->config);
    json_t *metrics = f->has_test_metrics ? model_json_metrics(&f->test) : NULL;
    char *cfg_text = cfg ? json_text(cfg, JSON_COMPACT) : NULL;
    char *metrics_text =
        metrics ? json_text(metrics, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    char cutoff[PERIOD_TEXT_MAX] = "";
    if (f->cutoff_month >= 0)
        period_format(f->cutoff_month, cutoff);
    struct store_model_new nm = {.name = r->name,
                                 .architecture = f->model->ops->name,
                                 .config_json = cfg_text,
                                 .parameters = (int64_t)f->model->n_params,
                                 .seed = f->seed,
                                 .dataset_id = r->dataset_id,
                                 .data_sha256 = f->data_sha256[0] ? f->data_sha256 : NULL,
                                 .cutoff = cutoff[0] ? cutoff : NULL,
                                 .protocol = series_protocol_name(f->protocol),
                                 .format_version = FORECASTER_FORMAT_VERSION,
                                 .weights = bytes,
                                 .weights_len = len,
                                 .metrics_json = metrics_text,
                                 .is_default = r->make_default};
    /* out of memory for a JSON text is a failure, not a row without its config or metrics */
    rc = !cfg_text || (f->has_test_metrics && !metrics_text)
             ? fw_error_set(err, FW_ENOMEM, "out of memory")
             : store_model_insert(db, &nm, id, err);
    free(cfg_text), free(metrics_text), free(bytes);
    json_decref(cfg), json_decref(metrics);
    return rc;
}
