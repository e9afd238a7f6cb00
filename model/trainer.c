/* trainer — the training loop (see trainer.h). */
#include "model/trainer.h"
#include "base/bytes.h"
#include "model/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREDICT_CHUNK 128
#define STATE_MAGIC   0x54535746u /* "FWST" */
#define STATE_VERSION 1u

void train_options_default(struct train_options *o)
{
    *o = (struct train_options){.epochs = 100,
                                .batch_size = 32,
                                .threads = 1,
                                .lr = 2.5e-3,
                                .lr_decay = 1e-6,
                                .loss_alpha = 1.0,
                                .weight_decay = 0.0,
                                .optimizer = OPTIM_ADAM,
                                .schedule = LR_CONSTANT,
                                .warmup = 0.0,
                                .decay_fraction = 0.2,
                                .final_lr = 0.0,
                                .seed = 0};
}

/* x in [0, 1] (NaN is not). */
static int is_fraction(double x)
{
    return x >= 0.0 && x <= 1.0;
}

int train_options_check(const struct train_options *o, fw_error *err)
{
    struct train_options d;
    train_options_default(&d);
    if ((unsigned)o->optimizer > OPTIM_LION || (unsigned)o->schedule > LR_WSD)
        return fw_error_set(err, FW_EINVAL, "unknown optimizer or schedule");
    if (!(o->weight_decay >= 0.0) || !isfinite(o->weight_decay))
        return fw_error_set(err, FW_EINVAL, "weight_decay must be a number >= 0");
    if (o->optimizer != OPTIM_ADAM && !(o->lr * o->weight_decay < 1.0))
        return fw_error_set(err, FW_EINVAL,
                            "lr * weight_decay must be below 1 (the decoupled decay multiplies "
                            "the weights by 1 - lr * weight_decay)");
    if (!is_fraction(o->warmup) || o->warmup == 1.0)
        return fw_error_set(err, FW_EINVAL, "warmup must be a fraction of the steps in [0, 1)");
    if (!is_fraction(o->decay_fraction))
        return fw_error_set(err, FW_EINVAL, "decay_fraction must be a fraction in [0, 1]");
    if (!is_fraction(o->final_lr))
        return fw_error_set(err, FW_EINVAL, "final_lr must be a fraction of lr in [0, 1]");
    if (o->schedule == LR_WSD && !(o->warmup + o->decay_fraction <= 1.0))
        return fw_error_set(err, FW_EINVAL, "warmup + decay_fraction must be at most 1");
    if (o->schedule != LR_WSD && o->decay_fraction != d.decay_fraction)
        return fw_error_set(err, FW_EINVAL, "decay_fraction applies to the wsd schedule only");
    if (o->schedule == LR_CONSTANT && o->final_lr != d.final_lr)
        return fw_error_set(err, FW_EINVAL,
                            "final_lr applies to the linear and wsd schedules only");
    return FW_OK;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int train_state_init(struct train_state *s, const struct model *m, const struct train_options *o)
{
    memset(s, 0, sizeof *s);
    s->n_params = m->n_params;
    s->n_buffers = m->n_buffers;
    s->epochs_total = o->epochs;
    s->best_val = INFINITY;
    size_t np = m->n_params ? m->n_params : 1, nbuf = m->n_buffers ? m->n_buffers : 1;
    s->params = malloc(np * sizeof(double));
    s->buffers = malloc(nbuf * sizeof(double));
    s->best_params = malloc(np * sizeof(double));
    s->best_buffers = malloc(nbuf * sizeof(double));
    s->curve = calloc((size_t)(o->epochs > 0 ? o->epochs : 1), sizeof *s->curve);
    int rc = optim_init(&s->opt, o->optimizer, m->n_params, o->lr, o->lr_decay, o->weight_decay);
    if (rc || !s->params || !s->buffers || !s->best_params || !s->best_buffers || !s->curve) {
        train_state_free(s);
        return FW_ENOMEM;
    }
    memcpy(s->params, m->params, m->n_params * sizeof(double));
    memcpy(s->buffers, m->buffers, m->n_buffers * sizeof(double));
    memcpy(s->best_params, m->params, m->n_params * sizeof(double));
    memcpy(s->best_buffers, m->buffers, m->n_buffers * sizeof(double));
    return FW_OK;
}

void train_state_free(struct train_state *s)
{
    if (!s)
        return;
    optim_free(&s->opt);
    free(s->params), free(s->buffers), free(s->best_params), free(s->best_buffers);
    free(s->curve);
    memset(s, 0, sizeof *s);
}

int train_state_save(const struct train_state *s, uint8_t **data, size_t *len)
{
    struct bytes_writer w = {0};
    bytes_put_u32(&w, STATE_MAGIC);
    bytes_put_u32(&w, STATE_VERSION);
    bytes_put_u32(&w, (uint32_t)s->epochs_done);
    bytes_put_u32(&w, (uint32_t)s->epochs_total);
    bytes_put_u64(&w, s->n_params);
    bytes_put_u64(&w, s->n_buffers);
    bytes_put_u64(&w, s->opt.steps);
    bytes_put_f64s(&w, s->opt.m, s->n_params);
    bytes_put_f64s(&w, s->opt.v, s->n_params);
    bytes_put_f64s(&w, s->params, s->n_params);
    bytes_put_f64s(&w, s->buffers, s->n_buffers);
    bytes_put_f64s(&w, s->best_params, s->n_params);
    bytes_put_f64s(&w, s->best_buffers, s->n_buffers);
    bytes_put_f64(&w, s->best_val);
    bytes_put_u32(&w, (uint32_t)s->best_epoch);
    for (int e = 0; e < s->epochs_done; e++) {
        bytes_put_f64(&w, s->curve[e].train_loss);
        bytes_put_f64(&w, s->curve[e].val_loss);
        bytes_put_f64(&w, s->curve[e].seconds);
    }
    uint32_t crc = bytes_crc32(0, w.data, w.len);
    bytes_put_u32(&w, crc);
    uint8_t *out = bytes_take(&w, len);
    if (!out)
        return FW_ENOMEM;
    *data = out;
    return FW_OK;
}

int train_state_load(struct train_state *s, const struct model *m, const struct train_options *o,
                     const uint8_t *data, size_t len, fw_error *err)
{
    if (len < 8 || bytes_crc32(0, data, len - 4) !=
                       ((uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 |
                        (uint32_t)data[len - 2] << 16 | (uint32_t)data[len - 1] << 24))
        return fw_error_set(err, FW_ECORRUPT, "training checkpoint: checksum mismatch");
    struct bytes_reader r = {data, len - 4, 0, 0};
    if (bytes_get_u32(&r) != STATE_MAGIC || bytes_get_u32(&r) != STATE_VERSION)
        return fw_error_set(err, FW_EVERSION, "training checkpoint: unknown format");
    struct train_state t;
    int rc = train_state_init(&t, m, o);
    if (rc)
        return rc;
    t.epochs_done = (int)bytes_get_u32(&r);
    int total = (int)bytes_get_u32(&r);
    uint64_t np = bytes_get_u64(&r), nbuf = bytes_get_u64(&r);
    if (r.failed || np != m->n_params || nbuf != m->n_buffers || total != o->epochs ||
        t.epochs_done < 0 || t.epochs_done > o->epochs) {
        train_state_free(&t);
        return fw_error_set(err, FW_ECORRUPT,
                            "training checkpoint does not match this model and epoch count");
    }
    t.opt.steps = bytes_get_u64(&r);
    bytes_get_f64s(&r, t.opt.m, np);
    bytes_get_f64s(&r, t.opt.v, np);
    bytes_get_f64s(&r, t.params, np);
    bytes_get_f64s(&r, t.buffers, nbuf);
    bytes_get_f64s(&r, t.best_params, np);
    bytes_get_f64s(&r, t.best_buffers, nbuf);
    t.best_val = bytes_get_f64(&r);
    t.best_epoch = (int)bytes_get_u32(&r);
    for (int e = 0; e < t.epochs_done; e++) {
        t.curve[e].train_loss = bytes_get_f64(&r);
        t.curve[e].val_loss = bytes_get_f64(&r);
        t.curve[e].seconds = bytes_get_f64(&r);
    }
    if (r.failed || r.pos != r.len) {
        train_state_free(&t);
        return fw_error_set(err, FW_ECORRUPT, "training checkpoint is truncated");
    }
    *s = t;
    return FW_OK;
}

int train_predict(struct model *m, const double *series, const size_t *starts, size_t n,
                  struct pool *pool, double *out)
{
    struct model_run run = {pool, {{0}}};
    for (size_t k = 0; k < n; k += PREDICT_CHUNK) {
        size_t count = n - k < PREDICT_CHUNK ? n - k : PREDICT_CHUNK;
        struct model_batch b = {series, NULL, starts + k, count};
        int rc = model_forward(m, &b, 0, &run, out + k * (size_t)m->horizon);
        if (rc)
            return rc;
    }
    return FW_OK;
}

/* Targets of windows starts[0..n): target[k*h + j] = series[starts[k] + window + j]. */
static void gather_targets(const struct model *m, const double *series, const size_t *starts,
                           size_t n, double *target)
{
    for (size_t k = 0; k < n; k++)
        memcpy(target + k * (size_t)m->horizon, series + starts[k] + (size_t)m->window,
               (size_t)m->horizon * sizeof(double));
}

int train_eval_loss(struct model *m, const struct split_plan *plan, struct split_range range,
                    double alpha, struct pool *pool, double *loss)
{
    size_t n = range.end - range.begin, h = (size_t)m->horizon;
    if (n == 0) {
        *loss = NAN;
        return FW_OK;
    }
    size_t *starts = malloc(n * sizeof *starts);
    double *pred = malloc(n * h * sizeof *pred), *target = malloc(n * h * sizeof *target);
    int rc = FW_ENOMEM;
    if (starts && pred && target) {
        for (size_t k = 0; k < n; k++)
            starts[k] = range.begin + k;
        rc = train_predict(m, series_inputs(plan), starts, n, pool, pred);
        if (!rc) {
            gather_targets(m, plan->scaled, starts, n, target);
            *loss = loss_peak_mse(n * h, pred, target, alpha, NULL);
        }
    }
    free(starts), free(pred), free(target);
    return rc;
}

/* The size of the batch that starts at window first of an epoch's n_train: bs, or what is left;
 * a last batch of one window has no batch variance, so it joins the batch before. */
static size_t batch_count(size_t n_train, size_t first, size_t bs)
{
    size_t count = n_train - first < bs ? n_train - first : bs;
    return n_train - first - count == 1 ? count + 1 : count;
}

/* The optimiser steps of an epoch. */
static uint64_t batches_per_epoch(size_t n_train, size_t bs)
{
    uint64_t n = 0;
    for (size_t first = 0; first < n_train; first += batch_count(n_train, first, bs))
        n++;
    return n;
}

struct epoch_buffers {
    size_t *order;
    double *pred, *target, *dout;
};

/* One epoch of minibatch steps; returns the mean training loss through *loss. */
static int run_epoch(struct model *m, const struct split_plan *plan, const struct train_options *o,
                     struct train_state *s, int epoch, struct pool *pool, struct epoch_buffers *eb,
                     const atomic_int *cancel, double *loss)
{
    size_t n_train = plan->train.end - plan->train.begin, h = (size_t)m->horizon;
    for (size_t k = 0; k < n_train; k++)
        eb->order[k] = plan->train.begin + k;
    rng shuffle;
    rng_seed_stream(&shuffle, o->seed, 1000u + (uint64_t)epoch);
    rng_shuffle(&shuffle, eb->order, n_train);

    size_t bs = (size_t)o->batch_size;
    double sum = 0.0;
    size_t batch_index = 0;
    for (size_t first = 0, count; first < n_train; first += count, batch_index++) {
        if (cancel && atomic_load(cancel))
            return FW_ECANCELLED;
        count = batch_count(n_train, first, bs);
        struct model_batch b = {series_inputs(plan), plan->scaled, eb->order + first, count};
        struct model_run run = {pool, {{0}}};
        rng_seed_stream(&run.dropout, o->seed, ((uint64_t)epoch << 20) + batch_index);
        int rc = model_forward(m, &b, 1, &run, eb->pred);
        if (rc)
            return rc;
        gather_targets(m, plan->scaled, b.starts, count, eb->target);
        double l = loss_peak_mse(count * h, eb->pred, eb->target, o->loss_alpha, eb->dout);
        if (!isfinite(l))
            return FW_ERANGE;
        sum += l * (double)count;
        model_zero_grad(m);
        rc = model_backward(m, &run, eb->dout);
        if (rc)
            return rc;
        optim_step(&s->opt, m->params, m->grads);
        model_params_changed(m);
    }
    *loss = sum / (double)n_train;
    return FW_OK;
}

/* A model fitted in closed form (model_ops.fit_closed_form) is fitted once on the training
 * windows instead of running epochs; the state then records that fit as one epoch (its training
 * loss is the fitted model's evaluation-mode loss on the training windows) and the callback runs
 * once, reporting 1 of 1 epochs. A state that already holds the fit is not fitted again. On
 * success the model holds the fitted weights. */
static int train_closed_form(struct model *m, const struct split_plan *plan,
                             const struct train_options *o, struct train_state *s,
                             struct pool *pool, train_callback cb, void *cb_ctx,
                             const atomic_int *cancel, fw_error *err)
{
    if (s->epochs_done == 0) {
        if (cancel && atomic_load(cancel))
            return FW_ECANCELLED;
        double t0 = now_seconds(), train_loss, val_loss;
        size_t n_train = plan->train.end - plan->train.begin;
        size_t *starts = malloc(n_train * sizeof *starts);
        if (!starts)
            return FW_ENOMEM;
        for (size_t k = 0; k < n_train; k++)
            starts[k] = plan->train.begin + k;
        int rc = m->ops->fit_closed_form(m, plan->scaled, starts, n_train, pool, err);
        free(starts);
        model_params_changed(m);
        if (!rc)
            rc = train_eval_loss(m, plan, plan->train, o->loss_alpha, pool, &train_loss);
        if (!rc)
            rc = train_eval_loss(m, plan, plan->val, o->loss_alpha, pool, &val_loss);
        if (rc) {
            memcpy(m->params, s->params, m->n_params * sizeof(double));
            memcpy(m->buffers, s->buffers, m->n_buffers * sizeof(double));
            model_params_changed(m);
            return rc;
        }
        double seconds = now_seconds() - t0;
        s->curve[0] = (struct train_epoch){train_loss, val_loss, seconds};
        s->best_val = val_loss;
        s->best_epoch = 1;
        memcpy(s->params, m->params, m->n_params * sizeof(double));
        memcpy(s->buffers, m->buffers, m->n_buffers * sizeof(double));
        memcpy(s->best_params, m->params, m->n_params * sizeof(double));
        memcpy(s->best_buffers, m->buffers, m->n_buffers * sizeof(double));
        s->epochs_done = 1;
        if (cb) {
            struct train_progress p = {1, 1, train_loss, val_loss, seconds, 0.0, val_loss, 1, 0, 0};
            cb(cb_ctx, &p, s);
        }
    }
    memcpy(m->params, s->best_params, m->n_params * sizeof(double));
    memcpy(m->buffers, s->best_buffers, m->n_buffers * sizeof(double));
    model_params_changed(m);
    return FW_OK;
}

int train_run(struct model *m, const struct split_plan *plan, const struct train_options *o,
              struct train_state *s, train_callback cb, void *cb_ctx, const atomic_int *cancel,
              fw_error *err)
{
    if (o->epochs < 1 || o->batch_size < 2 || o->threads < 1)
        return fw_error_set(err, FW_EINVAL, "epochs >= 1, batch size >= 2, threads >= 1");
    if ((size_t)m->window != plan->window || (size_t)m->horizon != plan->horizon)
        return fw_error_set(err, FW_EINVAL, "model window/horizon (%d/%d) differ from the data's",
                            m->window, m->horizon);
    size_t n_train = plan->train.end - plan->train.begin;
    if (n_train < 2)
        return fw_error_set(err, FW_EINVAL, "need at least two training windows");
    int rc = train_options_check(o, err);
    if (rc)
        return rc;
    struct lr_plan schedule = {o->schedule, o->warmup, o->decay_fraction, o->final_lr,
                               (uint64_t)o->epochs * batches_per_epoch(n_train, o->batch_size)};
    optim_set_plan(&s->opt, &schedule);

    /* restore the epoch boundary the state holds (fresh: the initial weights) */
    memcpy(m->params, s->params, m->n_params * sizeof(double));
    memcpy(m->buffers, s->buffers, m->n_buffers * sizeof(double));
    model_params_changed(m);

    struct pool *pool = NULL;
    rc = pool_create(o->threads, &pool);
    if (rc)
        return rc;
    size_t cap = (size_t)o->batch_size + 1, h = (size_t)m->horizon;
    struct epoch_buffers eb = {malloc(n_train * sizeof(size_t)), malloc(cap * h * sizeof(double)),
                               malloc(cap * h * sizeof(double)), malloc(cap * h * sizeof(double))};
    if (!eb.order || !eb.pred || !eb.target || !eb.dout) {
        rc = FW_ENOMEM;
        goto cleanup;
    }
    if (m->ops->fit_closed_form && plan->input) {
        rc = fw_error_set(err, FW_EINVAL,
                          "%s is fitted in closed form on one series; these data "
                          "have separate inputs and targets",
                          m->ops->name);
        goto cleanup;
    }
    if (m->ops->fit_closed_form) {
        rc = train_closed_form(m, plan, o, s, pool, cb, cb_ctx, cancel, err);
        goto cleanup;
    }
    for (int epoch = s->epochs_done; epoch < o->epochs; epoch++) {
        double t0 = now_seconds(), train_loss, val_loss;
        rc = run_epoch(m, plan, o, s, epoch, pool, &eb, cancel, &train_loss);
        if (rc == FW_ERANGE)
            fw_error_set(err, rc, "training diverged (non-finite loss) in epoch %d", epoch + 1);
        if (!rc)
            rc = train_eval_loss(m, plan, plan->val, o->loss_alpha, pool, &val_loss);
        if (rc) {
            /* back to the last epoch boundary, so a resume repeats this epoch exactly */
            memcpy(m->params, s->params, m->n_params * sizeof(double));
            memcpy(m->buffers, s->buffers, m->n_buffers * sizeof(double));
            model_params_changed(m);
            goto cleanup;
        }
        double seconds = now_seconds() - t0;
        s->curve[epoch] = (struct train_epoch){train_loss, val_loss, seconds};
        if (o->keep_last || val_loss < s->best_val) {
            s->best_val = val_loss;
            s->best_epoch = epoch + 1;
            memcpy(s->best_params, m->params, m->n_params * sizeof(double));
            memcpy(s->best_buffers, m->buffers, m->n_buffers * sizeof(double));
        }
        memcpy(s->params, m->params, m->n_params * sizeof(double));
        memcpy(s->buffers, m->buffers, m->n_buffers * sizeof(double));
        s->epochs_done = epoch + 1;
        if (cb) {
            double total = 0;
            for (int e = 0; e <= epoch; e++)
                total += s->curve[e].seconds;
            struct train_progress p = {epoch + 1,   o->epochs,
                                       train_loss,  val_loss,
                                       seconds,     total / (epoch + 1) * (o->epochs - epoch - 1),
                                       s->best_val, s->best_epoch,
                                       0,           0};
            cb(cb_ctx, &p, s);
        }
    }
    memcpy(m->params, s->best_params, m->n_params * sizeof(double));
    memcpy(m->buffers, s->best_buffers, m->n_buffers * sizeof(double));
    model_params_changed(m);
cleanup:
    free(eb.order), free(eb.pred), free(eb.target), free(eb.dout);
    pool_destroy(pool);
    return rc;
}
