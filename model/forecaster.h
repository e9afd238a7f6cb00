/*
 * forecaster — a trained model with everything needed to use it: the scaler, the conformal
 * residuals for intervals, where its data came from (protocol, cutoff, data fingerprint, seed)
 * and its training summary. It owns its model and arrays.
 *
 * Serialised in the fwpcast model file format (docs/MODEL_FORMAT.md): little-endian, the magic
 * "FWPCAST\0", a format version, the architecture and resolved config, the metadata, the
 * residuals, the parameters and buffers by the model's tensor table, then a CRC-32 of all that
 * precedes it. Files of an unknown version or with a bad checksum are refused. Version 2 adds
 * the band method (struct conformal_bands) before the residuals; a forecaster with the version-1
 * bands (symmetric absolute residuals, no smoothing) is still written as version 1, byte for
 * byte as before, and a version-1 file reads as exactly those bands.
 *
 * Intervals: forecaster_calibrate fits the conformity scores of the default band method
 * (forecaster_default_bands) on the validation windows; forecaster_calibrate_with takes another.
 * The method is stored with the scores and forecaster_predict uses it; callers see only lo/hi.
 */
#ifndef FW_FORECASTER_H
#define FW_FORECASTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "model/conformal.h"
#include "model/metrics.h"
#include "model/model.h"
#include "model/series.h"

/* The newest model file format version, the one written when the bands need it. */
#define FORECASTER_FORMAT_VERSION 2u
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
    /* what residuals are: forecaster_create sets the version-1 meaning (CONFORMAL_ABSOLUTE, not
     * monotone), which residuals set by hand (an imported document) have */
    struct conformal_bands bands;
    /* horizon x n_calibration conformity scores, sorted per step: scaled units for ABSOLUTE
     * and SIGNED, sqrt of the series' units for SQRT */
    double *residuals;
    int has_test_metrics;
    struct forecast_metrics test; /* on the paper protocol's test split */
};

/* Takes ownership of model. */
int forecaster_create(struct model *model, const struct scaler *scaler, struct forecaster **out);
void forecaster_free(struct forecaster *f);

/* The band method forecaster_calibrate uses for a series scaled by scaler: CONFORMAL_SQRT with
 * c = 1 (in the series' units) when the series was never negative (scaler->min >= 0),
 * CONFORMAL_SIGNED otherwise; monotone in h either way (model/conformal.h says why). */
void forecaster_default_bands(const struct scaler *scaler, struct conformal_bands *out);

/* Fits the conformal scores of the default bands on plan's validation windows. plan must be
 * scaled with f's scaler (series_rescale). */
int forecaster_calibrate(struct forecaster *f, const struct split_plan *plan, struct pool *pool);

/* The same with the given bands; FW_EINVAL when they are invalid or SQRT for a series with
 * negative values (scaler min < 0). */
int forecaster_calibrate_with(struct forecaster *f, const struct split_plan *plan,
                              const struct conformal_bands *bands, struct pool *pool);

/* Out-of-sample coverage of f's bands on the windows in range (rolling origins, scaled with f's
 * scaler): per_level[i] (n_levels) is the fraction of the range's truths inside level i's band
 * as forecaster_predict draws it; per_step (may be NULL; n_levels x horizon) the same per step.
 * FW_ERANGE for a level outside (0, 100). */
int forecaster_coverage(struct forecaster *f, const struct split_plan *plan,
                        struct split_range range, const double *levels, size_t n_levels,
                        struct pool *pool, double *per_level, double *per_step);

/* Metrics of the windows in range (scaled with f's scaler). */
int forecaster_evaluate(struct forecaster *f, const struct split_plan *plan,
                        struct split_range range, struct pool *pool, struct forecast_metrics *out);

/* The same with the model's circuits evaluated by ev (all windows in one call). */
int forecaster_evaluate_quantum(struct forecaster *f, const struct split_plan *plan,
                                struct split_range range, const struct daruan_evaluator *ev,
                                int *readout, struct forecast_metrics *out, fw_error *err);

/* Forecasts h <= horizon steps after the last of n history values (the model's own units, NaN
 * for missing: filled as in training). Values and bounds are clipped at 0 when the training
 * data were never negative (SQRT bands are >= 0 without it). lo and hi are n_levels x h (may be
 * NULL when n_levels == 0); each band contains its point forecast (a SIGNED or SQRT band that
 * would not is widened to it: only ever wider, so no coverage is lost). *guaranteed (may be
 * NULL) is cleared when a level exceeds what the calibration set supports. */
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
