/*
 * loss — the training losses. The paper's peak-aware MSE (paper.md §3.1):
 *
 *   loss = mean over n x h of (yhat - y)^2 (1 + alpha y),   alpha = 1 on the solar task
 *
 * which weighs errors near the (scaled) peaks more; alpha = 0 is plain MSE. Caller-owned arrays.
 */
#ifndef FW_LOSS_H
#define FW_LOSS_H

#include <stddef.h>

/* Returns the loss over `count` predictions. When grad is not NULL it receives d loss / d yhat. */
double loss_peak_mse(size_t count, const double *yhat, const double *y, double alpha, double *grad);

#endif
