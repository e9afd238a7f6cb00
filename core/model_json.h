/*
 * model_json — JSON forms of models for the CLI and the HTTP API (jansson):
 *
 *   - the interchange export: every tensor by name, shape and row-major data — for
 *     gated-qkan-fwp exactly the authors' PyTorch state_dict keys — plus the scaler, the
 *     resolved config, the conformal residuals and the provenance; and the matching import,
 *     which accepts such a document (or a bare authors' state_dict with a scaler given);
 *   - a model's config as a flat JSON object, and a flat JSON object of options turned into
 *     the config text model_create takes;
 *   - metrics as a JSON object.
 * Functions returning json_t return a new reference (NULL on allocation failure).
 */
#ifndef FW_MODEL_JSON_H
#define FW_MODEL_JSON_H

#include <jansson.h>

#include "model/forecaster.h"

#define MODEL_JSON_FORMAT  "fwpcast-model-json"
#define MODEL_JSON_VERSION 1

json_t *model_json_export(const struct forecaster *f);

/* Builds a forecaster from an export document. A document without "architecture" is read as
 * gated-qkan-fwp with the default config (the authors' state_dict); a document without a
 * "scaler" needs one passed in (scaler may be NULL otherwise). */
int model_json_import(const json_t *doc, const struct scaler *scaler, struct forecaster **out,
                      fw_error *err);

json_t *model_json_config(const struct model_config *cfg);

/* {"hidden": 48, "readout": "born"} -> "hidden=48;readout=born". Only numbers, strings and
 * booleans; anything else is FW_EINVAL naming the key. */
int model_json_config_text(const json_t *obj, char *text, size_t size, fw_error *err);

json_t *model_json_metrics(const struct forecast_metrics *m);

/* The model's summary as the API and `--json` outputs show it (no weights). */
json_t *model_json_summary(const struct forecaster *f);

#endif
