/*
 * fit_ensemble — trains an ensemble member by member and keeps the best on validation (see
 * fit.h and fit_ensemble.h). The whole ensemble's train_state is the job's state: member k's
 * epochs are curve[first[k] .. first[k+1]), its weights (once it finished) the k-th slices of
 * params and best_params; the optimiser part stays unused (a member restarts rather than
 * resuming mid-way, so no optimiser state has to be kept).
 */
#include "model/fit_ensemble.h"
#include "model/ensemble.h"

#include <math.h>
#include <string.h>

/* Where each member sits in the ensemble's state. */
struct layout {
    size_t n;
    int closed_form[ENSEMBLE_MAX_MEMBERS];
    int first[ENSEMBLE_MAX_MEMBERS + 1]; /* member k's epochs: first[k] .. first[k+1] */
    size_t pbase[ENSEMBLE_MAX_MEMBERS + 1], bbase[ENSEMBLE_MAX_MEMBERS + 1];
};

static void layout_init(const struct model *m, int epochs, struct layout *l)
{
    memset(l, 0, sizeof *l);
    l->n = ensemble_size(m);
    for (size_t k = 0; k < l->n; k++) {
        const struct model *mk = ensemble_member((struct model *)m, k);
        l->closed_form[k] = mk->ops->fit_closed_form != NULL;
        l->first[k + 1] = l->first[k] + (l->closed_form[k] ? 1 : epochs);
        l->pbase[k + 1] = l->pbase[k] + mk->n_params;
        l->bbase[k + 1] = l->bbase[k] + mk->n_buffers;
    }
}

int fit_total_epochs(const struct model *m, int epochs)
{
    if (!ensemble_size(m))
        return epochs;
    struct layout l;
    layout_init(m, epochs, &l);
    return l.first[l.n];
}

/* Member k finished with these weights: they go to its slices of the state. */
static void store_member(struct train_state *s, const struct layout *l, size_t k,
                         const double *params, const double *buffers)
{
    size_t np = l->pbase[k + 1] - l->pbase[k], nb = l->bbase[k + 1] - l->bbase[k];
    memcpy(s->params + l->pbase[k], params, np * sizeof(double));
    memcpy(s->best_params + l->pbase[k], params, np * sizeof(double));
    memcpy(s->buffers + l->bbase[k], buffers, nb * sizeof(double));
    memcpy(s->best_buffers + l->bbase[k], buffers, nb * sizeof(double));
}

struct member_run {
    struct train_state *all;
    const struct layout *l;
    size_t k;
    const struct fit_callbacks *cb;
};

/* After each of a member's epochs: the ensemble's state and progress, then the caller's. */
static void on_member_epoch(void *ctx, const struct train_progress *p, const struct train_state *ms)
{
    struct member_run *r = ctx;
    struct train_state *s = r->all;
    int first = r->l->first[r->k], total = r->l->first[r->l->n];
    for (int e = 0; e < ms->epochs_done; e++)
        s->curve[first + e] = ms->curve[e];
    s->epochs_done = first + ms->epochs_done;
    /* its last epoch: what train_run leaves in the member is the best checkpoint */
    if (s->epochs_done == r->l->first[r->k + 1])
        store_member(s, r->l, r->k, ms->best_params, ms->best_buffers);
    if (!r->cb || !r->cb->epoch)
        return;
    double seconds = 0;
    for (int e = 0; e < s->epochs_done; e++)
        seconds += s->curve[e].seconds;
    struct train_progress q = *p;
    q.epoch = s->epochs_done;
    q.epochs = total;
    q.eta_seconds = seconds / s->epochs_done * (total - s->epochs_done);
    q.member = (int)r->k + 1;
    q.members = (int)r->l->n;
    r->cb->epoch(r->cb->ctx, &q, s);
}

static int train_member(struct model *m, const struct split_plan *plan,
                        const struct fit_request *rq, const struct layout *l, size_t k,
                        const struct fit_callbacks *cb, const atomic_int *cancel,
                        struct train_state *all, fw_error *err)
{
    struct model *mk = ensemble_member(m, k);
    struct train_options o = rq->train;
    o.seed = ensemble_member_seed(m, k);
    struct train_state ms;
    int rc = train_state_init(&ms, mk, &o);
    if (rc)
        return rc;
    struct member_run run = {all, l, k, cb};
    fw_error merr = {0};
    rc = train_run(mk, plan, &o, &ms, on_member_epoch, &run, cancel, &merr);
    if (!rc) {
        store_member(all, l, k, mk->params, mk->buffers);
        all->epochs_done = l->first[k + 1];
    } else if (merr.msg[0]) {
        fw_error_set(err, rc, "ensemble member %zu (%s): %s", k, mk->ops->name, merr.msg);
    }
    train_state_free(&ms);
    return rc;
}

/* Resuming: the members the checkpoint holds whole get their weights back; the state goes back
 * to the end of the last of them (the next member restarts). Returns how many finished. */
static size_t restore_finished(struct model *m, struct train_state *s, const struct layout *l)
{
    size_t done = 0;
    while (done < l->n && l->first[done + 1] <= s->epochs_done)
        done++;
    for (size_t k = 0; k < done; k++) {
        struct model *mk = ensemble_member(m, k);
        memcpy(mk->params, s->best_params + l->pbase[k], mk->n_params * sizeof(double));
        memcpy(mk->buffers, s->best_buffers + l->bbase[k], mk->n_buffers * sizeof(double));
        model_params_changed(mk);
    }
    s->epochs_done = l->first[done];
    return done;
}

/* A member's best validation loss, as the trainer chose it, from its curve (so a resumed run
 * selects exactly as an uninterrupted one). */
static double member_best(const struct train_state *s, const struct layout *l, size_t k,
                          int keep_last)
{
    const struct train_epoch *c = s->curve + l->first[k];
    if (l->closed_form[k])
        return c[0].val_loss;
    double best = INFINITY;
    for (int e = 0; e < l->first[k + 1] - l->first[k]; e++)
        if (keep_last || c[e].val_loss < best)
            best = c[e].val_loss;
    return best;
}

/* The keep members of lowest loss (NaN counts as worst; ties: the lower index). */
static uint64_t select_mask(const double *loss, size_t n, size_t keep)
{
    uint64_t mask = 0;
    for (size_t picked = 0; picked < keep; picked++) {
        size_t best = n;
        for (size_t k = 0; k < n; k++) {
            if (mask >> k & 1)
                continue;
            double a = isnan(loss[k]) ? INFINITY : loss[k];
            double b = best < n ? (isnan(loss[best]) ? INFINITY : loss[best]) : INFINITY;
            if (best == n || a < b)
                best = k;
        }
        mask |= (uint64_t)1 << best;
    }
    return mask;
}

/* Selection, then the ensemble's own validation loss and the summary. */
static int finish(struct model **m, const struct split_plan *plan, const struct fit_request *rq,
                  const struct layout *l, struct train_state *s, struct fit_summary *out,
                  fw_error *err)
{
    size_t keep = ensemble_keep(*m);
    double best[ENSEMBLE_MAX_MEMBERS], train_loss = 0;
    for (size_t k = 0; k < l->n; k++)
        best[k] = member_best(s, l, k, rq->train.keep_last);
    uint64_t mask = select_mask(best, l->n, keep < l->n ? keep : l->n);
    for (size_t k = 0; k < l->n; k++)
        if (mask >> k & 1)
            train_loss += s->curve[l->first[k + 1] - 1].train_loss;
    int rc = keep < l->n ? ensemble_select(m, mask, err) : FW_OK;
    struct pool *pool = NULL;
    double val = NAN;
    if (!rc)
        rc = pool_create(rq->train.threads > 0 ? rq->train.threads : 1, &pool);
    if (!rc)
        rc = train_eval_loss(*m, plan, plan->val, rq->train.loss_alpha, pool, &val);
    pool_destroy(pool);
    if (rc)
        return rc;
    s->best_val = val;
    s->best_epoch = 0;
    *out = (struct fit_summary){rq->train.epochs, 0,
                                train_loss / (double)(keep < l->n ? keep : l->n), val};
    return FW_OK;
}

int fit_ensemble(struct model **m, const struct split_plan *plan, const struct fit_request *rq,
                 const uint8_t *checkpoint, size_t checkpoint_len, const struct fit_callbacks *cb,
                 const atomic_int *cancel, struct train_state *state, struct fit_summary *out,
                 fw_error *err)
{
    struct layout l;
    layout_init(*m, rq->train.epochs, &l);
    struct train_options all = rq->train;
    all.epochs = l.first[l.n];
    int rc = checkpoint ? train_state_load(state, *m, &all, checkpoint, checkpoint_len, err)
                        : train_state_init(state, *m, &all);
    if (rc)
        return rc;
    size_t k = checkpoint ? restore_finished(*m, state, &l) : 0;
    if (cb && cb->ready)
        cb->ready(cb->ctx, *m, plan);
    for (; k < l.n; k++)
        if ((rc = train_member(*m, plan, rq, &l, k, cb, cancel, state, err)))
            return rc;
    ensemble_members_changed(*m);
    return finish(m, plan, rq, &l, state, out, err);
}
