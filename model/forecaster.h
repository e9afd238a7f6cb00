/*
 * forecaster — a trained model with everything needed to use it: the scaler, the conformal
 * residuals for intervals, where its data came from (protocol, cutoff, data fingerprint, seed)
 * and its training summary. It owns its model and arrays.
 *
 * Serialised in the fwpcast model file format (docs/MODEL_FORMAT.md): little-endian, the magic
 * "FWPCAST\0", a format version, the architecture and resolved config, the metadata, the
 * residuals, the parameters and buffers by the model's tensor table, then a CRC-32 of all that
 * precedes it. Files of an unknown version or with a bad checksum are refused.
 */
#ifndef FW_FORECASTER_H
#define FW_FORECASTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "model/metrics.h"
#include "model/model.h"
#include "model/series.h"

#define FORECASTER_FORMAT_VERSION 1u
/* A history value more than this many training ranges away is refused (FW_ERANGE). */
#define FORECASTER_MAX_SCALED 1e6

struct forecaster {
    struct model *model;
    struct scaler scaler;
    enum protocol protocol;
    uint64_t seed;
    int cutoff_month;                      /* -1: none */
    int data_first_month, data_last_month; /* the months the model was fit on */
    char data_sha256[SHA256_HEX_LEN];      /* fingerprint of the dataset, "" if unknown */
    int epochs, best_epoch;
    double train_loss, val_loss; /* timings are not stored: the file is reproducible */
    size_t n_calibration;
    double *residuals; /* horizon x n_calibration, sorted per step (scaled units) */
    int has_test_metrics;
    struct forecast_metrics test; /* on the paper protocol's test split */
};

/* Takes ownership of model. */
int forecaster_create(struct model *model, const struct scaler *scaler, struct forecaster **out);
void forecaster_free(struct forecaster *f);

/* Fits the conformal residuals on plan's validation windows. plan must be scaled with f's
 * scaler (series_rescale). */
int forecaster_calibrate(struct forecaster *f, const struct split_plan *plan, struct pool *pool);

/* Metrics of the windows in range (scaled with f's scaler). */
int forecaster_evaluate(struct forecaster *f, const struct split_plan *plan,
                        struct split_range range, struct pool *pool, struct forecast_metrics *out);

/* The same with the model's circuits evaluated by ev (all windows in one call). */
int forecaster_evaluate_quantum(struct forecaster *f, const struct split_plan *plan,
                                struct split_range range, const struct daruan_evaluator *ev,
                                int *readout, struct forecast_metrics *out, fw_error *err);

/* Forecasts h <= horizon steps after the last of n history values (the model's own units, NaN
 * for missing: filled as in training). Values and bounds are clipped at 0 when the training
 * data were never negative. lo and hi are n_levels x h (may be NULL when
 * n_levels == 0). *guaranteed (may be NULL) is cleared when a level exceeds what the
 * calibration set supports. */
int forecaster_predict(struct forecaster *f, const double *history, size_t n, size_t h,
                       const double *levels, size_t n_levels, struct pool *pool, double *point,
                       double *lo, double *hi, int *guaranteed, fw_error *err);

/* The same forecast with the model's circuits evaluated by ev (a quantum backend); *readout
 * says which readout was applied to the probabilities (enum daruan_readout). The intervals are
 * the classical model's conformal bands around it. */
int forecaster_predict_quantum(struct forecaster *f, const double *history, size_t n, size_t h,
                               const double *levels, size_t n_levels,
                               const struct daruan_evaluator *ev, int *readout, double *point,
                               double *lo, double *hi, int *guaranteed, fw_error *err);

int forecaster_save(const struct forecaster *f, uint8_t **data, size_t *len);
int forecaster_load(const uint8_t *data, size_t len, struct forecaster **out, fw_error *err);

#endif
