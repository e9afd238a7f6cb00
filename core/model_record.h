/*
 * model_record — stores a trained forecaster as a row of the models table: its model file as
 * the weights, its resolved config and test metrics as JSON, its provenance (seed, protocol,
 * cutoff, data fingerprint). The one way the CLI, the training workers, POST /models/import and
 * the first start record a model. Everything passed in is borrowed.
 */
#ifndef FW_MODEL_RECORD_H
#define FW_MODEL_RECORD_H

#include <sqlite3.h>
#include <stdint.h>

#include "model/forecaster.h"

struct model_record {
    const char *name;   /* required */
    int64_t dataset_id; /* 0: none */
    int make_default;
};

int model_record_insert(sqlite3 *db, const struct forecaster *f, const struct model_record *r,
                        int64_t *id, fw_error *err);

#endif
