/*
 * conformal — split-conformal prediction intervals per horizon step. From n calibration windows
 * (the validation split, never trained on) a conformity score of every step is kept sorted; the
 * level-N% interval at step j is read off order statistics of step j's scores, which covers a new
 * window's truth with probability >= N% when the calibration and new windows are exchangeable.
 * Rolling-origin windows of one series overlap and are serially dependent, so for forecasts the
 * guarantee is a caveat, not a theorem: coverage has to be measured out of sample
 * (forecaster_coverage). Levels that n cannot support (the rank exceeds n) take the extreme score
 * and are reported as not guaranteed. Caller-owned arrays.
 *
 * Three methods (enum conformal_method):
 *
 *   ABSOLUTE  score |y - yhat|; interval yhat +- the ceil((n+1) N/100)-th smallest score.
 *             Symmetric; a series that is never negative needs it clipped at 0. What model files
 *             of format version 1 store, and read exactly as before.
 *   SIGNED    score y - yhat; the two tails separately, each with miscoverage (1 - N/100) / 2:
 *             upper offset the k-th smallest score with k = ceil((n+1)(1/2 + N/200)), lower
 *             offset the (n+1-k)-th. Asymmetric where the model is biased; not non-negative.
 *   SQRT      SIGNED on a variance-stabilised scale: score sqrt(y + c) - sqrt(yhat + c) (values
 *             below 0 count as 0; c >= 0 in the series' own units), mapped back as
 *             lo = max(sqrt(c), sqrt(yhat + c) + q_lo)^2 - c, hi likewise with q_hi. The floor
 *             is sqrt(c), the transform of 0, so a band is >= 0 by construction and loses no
 *             coverage of truths >= 0 (with a floor of 0, as a plain square-root inverse has, it
 *             could reach -c). Counts like sunspot numbers are Poisson-like: their spread grows
 *             with the level, which the square root evens out, so the band is wide at a cycle's
 *             maximum and narrow, never below 0, at its minimum.
 *
 * SQRT is the default for a series that is never negative (forecaster_default_bands): the
 * intervals are non-negative by construction rather than clipped, they follow the level as
 * Poisson-like errors do, and the separate tails keep a model's bias (e.g. peaks forecast too
 * low) in the band. The price of two tails is the calibration size: a level is guaranteed from
 * n >= 200 / (100 - N) - 1 windows (39 for 95%) instead of 100 / (100 - N) - 1 (19).
 *
 * Monotone in h (struct conformal_bands.monotone): each step's quantile is replaced by the
 * running extreme over steps 0..j (the upper offset by the running maximum, the lower by the
 * running minimum), so a band never narrows with h on the score scale. A running maximum rather
 * than an isotonic regression: it only widens intervals, so every per-step coverage guarantee
 * still holds and `guaranteed` stays true to its word; isotonic regression pools steps and
 * lowers some steps' quantiles below what their own calibration scores support. The cost is
 * conservatism after one noisy step. A small calibration set (260 solar validation windows over
 * 132 steps, overlapping) makes per-step quantiles noisy, and forecast errors do not shrink with
 * h, so it is on by default; off, the data's own per-step quantiles are used.
 */
#ifndef FW_CONFORMAL_H
#define FW_CONFORMAL_H

#include <stddef.h>

enum conformal_method {
    CONFORMAL_ABSOLUTE = 0, /* |y - yhat|, symmetric (model file version 1) */
    CONFORMAL_SIGNED = 1,   /* y - yhat, lower and upper tails */
    CONFORMAL_SQRT = 2,     /* sqrt(y + c) - sqrt(yhat + c), lower and upper tails */
};
#define CONFORMAL_N_METHODS 3

struct conformal_bands {
    enum conformal_method method;
    int monotone;  /* 1: running extreme of the per-step quantiles over steps */
    double offset; /* c of CONFORMAL_SQRT, >= 0; 0 for the other methods */
};

/* residuals (horizon x n, row j = step j, sorted ascending) of |truth - pred| from pred and truth
 * (n x horizon): the ABSOLUTE scores. */
void conformal_fit(size_t n, size_t horizon, const double *pred, const double *truth,
                   double *residuals);

/* Sorted per-step scores (horizon x n) of b's method from pred and truth (n x horizon). */
void conformal_fit_scores(const struct conformal_bands *b, size_t n, size_t horizon,
                          const double *pred, const double *truth, double *scores);

/* The SQRT score of a truth y against a forecast yhat (both clamped at 0). */
double conformal_sqrt_score(double y, double yhat, double c);

/* Half-width at step j for a level in (0, 100) from ABSOLUTE residuals, without smoothing.
 * *guaranteed (may be NULL) says whether n calibration windows suffice for the level. */
double conformal_halfwidth(const double *residuals, size_t n, size_t step, double level,
                           int *guaranteed);

/* The score-scale offsets of the level's interval at step j: the interval on the score scale
 * is [t(yhat) + *q_lo, t(yhat) + *q_hi] (t the identity or the square root). ABSOLUTE gives
 * -halfwidth and +halfwidth. Monotone smoothing applied when b says so. Returns 1 when n
 * supports the level, 0 otherwise; n == 0 gives -inf and +inf. */
int conformal_quantiles(const struct conformal_bands *b, const double *scores, size_t n,
                        size_t step, double level, double *q_lo, double *q_hi);

/* The interval around yhat from offsets q_lo <= q_hi. ABSOLUTE and SIGNED: yhat + q * scale
 * (scale: yhat's units per score unit); SQRT: the square-root map back above (scale unused),
 * always >= 0. */
void conformal_bounds(const struct conformal_bands *b, double yhat, double q_lo, double q_hi,
                      double scale, double *lo, double *hi);

/* 1 when residuals (horizon x n) are what conformal_fit writes: finite, non-negative, each row
 * sorted ascending; 0 otherwise. For readers of stored residuals (a file may hold anything). */
int conformal_valid(const double *residuals, size_t n, size_t horizon);

/* 1 when b is a known method with a valid offset and scores are what conformal_fit_scores
 * writes for it (finite, sorted per row, non-negative for ABSOLUTE); 0 otherwise. */
int conformal_valid_bands(const struct conformal_bands *b, const double *scores, size_t n,
                          size_t horizon);

/* "absolute", "signed", "sqrt"; NULL for an unknown method. */
const char *conformal_method_name(enum conformal_method method);

/* The method of a name above; -1 when there is none. */
int conformal_method_parse(const char *name);

#endif
