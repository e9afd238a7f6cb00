/* fit — series in, trained forecaster out (see fit.h). */
#include "model/fit.h"
#include "model/ensemble.h"
#include "model/fit_ensemble.h"

#include <stdio.h>
#include <string.h>

double fit_seconds_per_epoch(const struct train_state *s)
{
    double total = 0;
    for (int e = 0; e < s->epochs_done; e++)
        total += s->curve[e].seconds;
    return s->epochs_done ? total / s->epochs_done : 0.0;
}

/* Any model but an ensemble: the trainer, resumed from checkpoint when there is one. */
static int fit_single(struct model *m, const struct split_plan *plan, const struct fit_request *rq,
                      const uint8_t *checkpoint, size_t checkpoint_len,
                      const struct fit_callbacks *cb, const atomic_int *cancel,
                      struct train_state *state, struct fit_summary *out, fw_error *err)
{
    int rc = checkpoint ? train_state_load(state, m, &rq->train, checkpoint, checkpoint_len, err)
                        : train_state_init(state, m, &rq->train);
    if (rc)
        return rc;
    if (cb && cb->ready)
        cb->ready(cb->ctx, m, plan);
    rc = train_run(m, plan, &rq->train, state, cb ? cb->epoch : NULL, cb ? cb->ctx : NULL, cancel,
                   err);
    if (rc)
        return rc;
    *out = (struct fit_summary){state->epochs_done, state->best_epoch,
                                state->curve[state->epochs_done - 1].train_loss, state->best_val};
    return FW_OK;
}

int fit_run(const struct fit_request *rq, const double *values, size_t n, int first_month,
            const char *data_sha256, const uint8_t *checkpoint, size_t checkpoint_len,
            const struct fit_callbacks *cb, const atomic_int *cancel, struct train_state *state,
            struct forecaster **out, fw_error *err)
{
    struct model *m = NULL;
    struct split_plan plan = {0};
    struct forecaster *f = NULL;
    struct fit_summary sum;
    memset(state, 0, sizeof *state);
    int rc = model_create(rq->architecture, rq->config, rq->train.seed, &m, err);
    if (!rc)
        rc = series_prepare(values, n, first_month, rq->protocol, rq->cutoff_month,
                            (size_t)m->window, (size_t)m->horizon, &plan, err);
    if (!rc)
        rc = ensemble_size(m) ? fit_ensemble(&m, &plan, rq, checkpoint, checkpoint_len, cb, cancel,
                                             state, &sum, err)
                              : fit_single(m, &plan, rq, checkpoint, checkpoint_len, cb, cancel,
                                           state, &sum, err);
    if (rc)
        goto cleanup;
    rc = forecaster_create(m, &plan.scaler, &f);
    if (rc)
        goto cleanup;
    m = NULL; /* owned by f */
    f->protocol = rq->protocol;
    f->seed = rq->train.seed;
    f->cutoff_month = rq->cutoff_month;
    f->data_first_month = plan.first_month;
    f->data_last_month = plan.first_month + (int)plan.n_months - 1;
    snprintf(f->data_sha256, sizeof f->data_sha256, "%s", data_sha256 ? data_sha256 : "");
    f->epochs = sum.epochs;
    f->best_epoch = sum.best_epoch;
    f->train_loss = sum.train_loss;
    f->val_loss = sum.val_loss;
    if ((rc = forecaster_calibrate(f, &plan, NULL)))
        goto cleanup;
    if (rq->protocol == PROTOCOL_PAPER) {
        if ((rc = forecaster_evaluate(f, &plan, plan.test, NULL, &f->test)))
            goto cleanup;
        f->has_test_metrics = 1;
    }
    *out = f;
    f = NULL;
cleanup:
    if (rc && err && !err->msg[0])
        fw_error_set(err, rc, "%s", fw_strerror(rc));
    forecaster_free(f);
    model_destroy(m);
    series_free(&plan);
    return rc;
}
