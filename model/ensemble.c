/* ensemble — the mean of independently trained members as one model (see ensemble.h). */
#include "model/ensemble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEMBERS "gated-qkan-fwp.10"

struct ensemble {
    struct model base;
    size_t n;         /* members built */
    size_t requested; /* members in the members= list (n, or more with kept=) */
    size_t keep;
    int selected; /* built from a kept= selection */
    struct model *members[ENSEMBLE_MAX_MEMBERS];
    uint64_t seeds[ENSEMBLE_MAX_MEMBERS];
    size_t param_base[ENSEMBLE_MAX_MEMBERS + 1], buffer_base[ENSEMBLE_MAX_MEMBERS + 1];
};

/* What the ensemble options say: the requested members, their seeds, keep and kept. */
struct plan {
    size_t requested, n;
    const struct model_ops *ops[ENSEMBLE_MAX_MEMBERS]; /* requested */
    uint64_t seeds[ENSEMBLE_MAX_MEMBERS];              /* requested */
    size_t index[ENSEMBLE_MAX_MEMBERS];                /* built member -> requested member */
    long keep;
    int selected;
};

static const char *const OWN_KEYS[] = {"members", "seeds", "keep", "kept", NULL};

static struct config_option *option(struct model_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->options[i].key, key))
            return &cfg->options[i];
    return NULL;
}

static int is_own_key(const char *key)
{
    for (size_t i = 0; OWN_KEYS[i]; i++)
        if (!strcmp(OWN_KEYS[i], key))
            return 1;
    return 0;
}

/* Sets an option the model resolved (a default) and marks it read. */
static int set_resolved(struct model_config *cfg, const char *key, const char *value, fw_error *err)
{
    int rc = config_set(cfg, key, value, err);
    if (!rc)
        option(cfg, key)->used = 1;
    return rc;
}

static int read_seeds(struct model_config *cfg, uint64_t seed, struct plan *p, fw_error *err)
{
    struct config_option *o = option(cfg, "seeds");
    if (!o) {
        if (seed > UINT64_MAX - ENSEMBLE_MAX_MEMBERS)
            return fw_error_set(err, FW_ERANGE, "ensemble: the seed is too large");
        for (size_t k = 0; k < p->requested; k++)
            p->seeds[k] = seed + k;
        char text[CONFIG_VALUE_MAX];
        ensemble_seeds_format(p->seeds, p->requested, text, sizeof text);
        return set_resolved(cfg, "seeds", text, err);
    }
    o->used = 1;
    size_t n = 0;
    int rc = ensemble_seeds_parse(o->value, UINT64_MAX - 1, p->seeds, &n, err);
    if (rc)
        return rc;
    if (n != p->requested)
        return fw_error_set(err, FW_EINVAL, "ensemble: %zu members but %zu seeds", p->requested, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (p->seeds[i] == p->seeds[j] && p->ops[i] == p->ops[j])
                return fw_error_set(err, FW_EINVAL,
                                    "ensemble: members %zu and %zu are both %s with seed %llu "
                                    "(identical members)",
                                    j, i, p->ops[i]->name, (unsigned long long)p->seeds[i]);
    return FW_OK;
}

/* kept=xHEX: which requested members this model is built from. */
static int read_kept(struct model_config *cfg, struct plan *p, fw_error *err)
{
    struct config_option *o = option(cfg, "kept");
    p->n = 0;
    if (!o) {
        for (size_t k = 0; k < p->requested; k++)
            p->index[p->n++] = k;
        return FW_OK;
    }
    o->used = 1;
    size_t len = strlen(o->value);
    char *end = NULL;
    unsigned long long mask = len >= 2 && len <= 17 && o->value[0] == 'x' &&
                                      strspn(o->value + 1, "0123456789abcdef") == len - 1
                                  ? strtoull(o->value + 1, &end, 16)
                                  : 0;
    for (size_t k = 0; k < p->requested; k++)
        if (mask >> k & 1)
            p->index[p->n++] = k;
    if (!end || (p->requested < 64 && mask >> p->requested) || p->n != (size_t)p->keep)
        return fw_error_set(err, FW_EINVAL,
                            "ensemble: kept = '%s': expected x and a hexadecimal mask of %ld of "
                            "the %zu members (keep)",
                            o->value, p->keep, p->requested);
    p->selected = 1;
    return FW_OK;
}

static int read_plan(struct model_config *cfg, uint64_t seed, struct plan *p, fw_error *err)
{
    memset(p, 0, sizeof *p);
    struct config_option *o = option(cfg, "members");
    int rc = o ? FW_OK : set_resolved(cfg, "members", DEFAULT_MEMBERS, err);
    if (rc)
        return rc;
    o = option(cfg, "members");
    o->used = 1;
    if ((rc = ensemble_members_parse(o->value, p->ops, &p->requested, err)) ||
        (rc = read_seeds(cfg, seed, p, err)) ||
        (rc = config_int(cfg, "keep", (long)p->requested, 1, (long)p->requested, &p->keep, err)))
        return rc;
    return read_kept(cfg, p, err);
}

/* The member's copy of the options it may read: all but the ensemble's own, none read yet. */
static void member_options(const struct model_config *cfg, struct model_config *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cfg->n; i++)
        if (!is_own_key(cfg->options[i].key)) {
            out->options[out->n] = cfg->options[i];
            out->options[out->n++].used = 0;
        }
}

/* Creates built member k; marks in cfg what it read; its config becomes what it read. */
static int create_member(struct ensemble *e, struct model_config *cfg, const struct plan *p,
                         size_t k, fw_error *err)
{
    struct model_config mc;
    member_options(cfg, &mc);
    size_t r = p->index[k];
    fw_error merr = {0};
    struct model *m = NULL;
    int rc = p->ops[r]->create(&mc, p->seeds[r], &m, &merr);
    if (rc)
        return fw_error_set(err, rc, "ensemble member %zu (%s): %s", k, p->ops[r]->name,
                            merr.msg[0] ? merr.msg : fw_strerror(rc));
    e->members[k] = m;
    e->seeds[k] = p->seeds[r];
    struct model_config own = {0};
    for (size_t i = 0; i < mc.n; i++) {
        if (!mc.options[i].used)
            continue;
        struct config_option *given = option(cfg, mc.options[i].key);
        if (given)
            given->used = 1;
        own.options[own.n++] = mc.options[i];
    }
    m->config = own;
    if (m->window != e->members[0]->window || m->horizon != e->members[0]->horizon)
        return fw_error_set(err, FW_EINVAL,
                            "ensemble: member %zu (%s) has window/horizon %d/%d, member 0 "
                            "%d/%d: give window and horizon",
                            k, p->ops[r]->name, m->window, m->horizon, e->members[0]->window,
                            e->members[0]->horizon);
    return FW_OK;
}

/* A single-architecture ensemble's resolved config carries its members' defaults too. */
static int resolve_config(struct ensemble *e, struct model_config *cfg, const struct plan *p,
                          fw_error *err)
{
    int single = 1;
    for (size_t k = 1; k < p->requested; k++)
        single &= p->ops[k] == p->ops[0];
    const struct model_config *mc = &e->members[0]->config;
    for (size_t i = 0; single && i < mc->n; i++) {
        if (option(cfg, mc->options[i].key))
            continue;
        int rc = set_resolved(cfg, mc->options[i].key, mc->options[i].value, err);
        if (rc)
            return rc;
    }
    /* training records a selection as kept=, which needs room */
    if (!p->selected && (size_t)p->keep < p->requested && cfg->n >= CONFIG_MAX_OPTIONS)
        return fw_error_set(err, FW_EINVAL,
                            "ensemble: too many options to record which members keep kept "
                            "(at most %d options)",
                            CONFIG_MAX_OPTIONS - 1);
    return FW_OK;
}

/* The tensor table: every member's, prefixed, with offsets into the flat arrays. */
static int build_tensors(struct ensemble *e, fw_error *err)
{
    size_t count = 0;
    for (size_t k = 0; k < e->n; k++)
        count += e->members[k]->n_tensors;
    struct tensor_info *t = malloc((count ? count : 1) * sizeof *t);
    if (!t)
        return FW_ENOMEM;
    e->base.tensors = t;
    e->base.n_tensors = count;
    for (size_t k = 0; k < e->n; k++) {
        const struct model *m = e->members[k];
        e->param_base[k + 1] = e->param_base[k] + m->n_params;
        e->buffer_base[k + 1] = e->buffer_base[k] + m->n_buffers;
        for (size_t i = 0; i < m->n_tensors; i++, t++) {
            *t = m->tensors[i];
            int w = snprintf(t->name, sizeof t->name, "members.%zu.%s", k, m->tensors[i].name);
            if (w < 0 || (size_t)w >= sizeof t->name)
                return fw_error_set(err, FW_EINVAL,
                                    "ensemble: tensor name members.%zu.%s is too long", k,
                                    m->tensors[i].name);
            if (t->kind == TENSOR_TRAINED)
                t->offset += e->param_base[k];
            else if (t->kind == TENSOR_BUFFER)
                t->offset += e->buffer_base[k];
        }
    }
    e->base.n_params = e->param_base[e->n];
    e->base.n_buffers = e->buffer_base[e->n];
    e->base.params = calloc(e->base.n_params ? e->base.n_params : 1, sizeof(double));
    e->base.grads = calloc(e->base.n_params ? e->base.n_params : 1, sizeof(double));
    e->base.buffers = calloc(e->base.n_buffers ? e->base.n_buffers : 1, sizeof(double));
    if (!e->base.params || !e->base.grads || !e->base.buffers)
        return FW_ENOMEM;
    ensemble_members_changed(&e->base);
    return FW_OK;
}

static void ensemble_destroy(struct model *m)
{
    struct ensemble *e = (struct ensemble *)m;
    for (size_t k = 0; k < e->n; k++)
        model_destroy(e->members[k]);
    free(m->tensors), free(m->params), free(m->grads), free(m->buffers);
    free(e);
}

static int ensemble_create(struct model_config *cfg, uint64_t seed, struct model **out,
                           fw_error *err)
{
    struct plan *p = malloc(sizeof *p);
    struct ensemble *e = calloc(1, sizeof *e);
    int rc = p && e ? read_plan(cfg, seed, p, err) : FW_ENOMEM;
    if (e)
        e->base.ops = &ensemble_ops;
    for (size_t k = 0; !rc && k < p->n; k++) {
        rc = create_member(e, cfg, p, k, err);
        e->n = k + 1 - (e->members[k] == NULL);
    }
    if (!rc)
        rc = resolve_config(e, cfg, p, err);
    if (!rc) {
        e->requested = p->requested;
        e->keep = (size_t)p->keep;
        e->selected = p->selected;
        e->base.window = e->members[0]->window;
        e->base.horizon = e->members[0]->horizon;
        rc = build_tensors(e, err);
    }
    free(p);
    if (rc) {
        if (e)
            ensemble_destroy(&e->base);
        return rc;
    }
    *out = &e->base;
    return FW_OK;
}

/* out = the members' mean: member 0 into out, the others through tmp, summed in member order. */
static int ensemble_forward(struct model *m, const struct model_batch *b, int training,
                            struct model_run *run, double *out)
{
    struct ensemble *e = (struct ensemble *)m;
    if (training)
        return FW_EINVAL; /* trained member by member (model/fit.h) */
    size_t cells = b->n * (size_t)m->horizon;
    double *tmp = e->n > 1 ? malloc((cells ? cells : 1) * sizeof *tmp) : NULL;
    if (e->n > 1 && !tmp)
        return FW_ENOMEM;
    int rc = model_forward(e->members[0], b, 0, run, out);
    for (size_t k = 1; !rc && k < e->n; k++) {
        rc = model_forward(e->members[k], b, 0, run, tmp);
        for (size_t i = 0; !rc && i < cells; i++)
            out[i] += tmp[i];
    }
    for (size_t i = 0; !rc && i < cells; i++)
        out[i] /= (double)e->n;
    free(tmp);
    return rc;
}

static int ensemble_backward(struct model *m, struct model_run *run, const double *dout)
{
    (void)m, (void)run, (void)dout;
    return FW_EINVAL; /* trained member by member (model/fit.h) */
}

static void ensemble_params_changed(struct model *m)
{
    struct ensemble *e = (struct ensemble *)m;
    for (size_t k = 0; k < e->n; k++) {
        struct model *mk = e->members[k];
        memcpy(mk->params, m->params + e->param_base[k], mk->n_params * sizeof(double));
        memcpy(mk->buffers, m->buffers + e->buffer_base[k], mk->n_buffers * sizeof(double));
        model_params_changed(mk);
    }
}

/* The members' quantum forwards, averaged like forward; every member must have one. */
static int ensemble_forward_quantum(struct model *m, const struct model_batch *b,
                                    const struct daruan_evaluator *ev, int *readout, double *out,
                                    fw_error *err)
{
    struct ensemble *e = (struct ensemble *)m;
    for (size_t k = 0; k < e->n; k++)
        if (!e->members[k]->ops->forward_quantum)
            return fw_error_set(err, FW_EINVAL,
                                "ensemble member %zu (%s) has no circuits to run on a quantum "
                                "backend",
                                k, e->members[k]->ops->name);
    size_t cells = b->n * (size_t)m->horizon;
    double *tmp = malloc((cells ? cells : 1) * sizeof *tmp);
    if (!tmp)
        return FW_ENOMEM;
    int rc = FW_OK, first = -1;
    for (size_t k = 0; !rc && k < e->n; k++) {
        int r = -1;
        struct model *mk = e->members[k];
        rc = mk->ops->forward_quantum(mk, b, ev, &r, k ? tmp : out, err);
        if (!rc && k && r != first)
            rc = fw_error_set(err, FW_EINVAL, "ensemble members %zu and 0 use different readouts",
                              k);
        first = k ? first : r;
        for (size_t i = 0; !rc && k && i < cells; i++)
            out[i] += tmp[i];
    }
    for (size_t i = 0; !rc && i < cells; i++)
        out[i] /= (double)e->n;
    if (!rc && readout)
        *readout = first;
    free(tmp);
    return rc;
}

const struct model_ops ensemble_ops = {
    .name = "ensemble",
    .description = "Ensemble: the mean forecast of independently trained members (members="
                   "ARCH.COUNT+..., seeds, keep the K best on validation); default 10 "
                   "gated-qkan-fwp",
    .create = ensemble_create,
    .destroy = ensemble_destroy,
    .forward = ensemble_forward,
    .backward = ensemble_backward,
    .params_changed = ensemble_params_changed,
    .forward_quantum = ensemble_forward_quantum,
};

static struct ensemble *as_ensemble(const struct model *m)
{
    return m && m->ops == &ensemble_ops ? (struct ensemble *)m : NULL;
}

size_t ensemble_size(const struct model *m)
{
    const struct ensemble *e = as_ensemble(m);
    return e ? e->n : 0;
}

struct model *ensemble_member(struct model *m, size_t k)
{
    struct ensemble *e = as_ensemble(m);
    return e && k < e->n ? e->members[k] : NULL;
}

uint64_t ensemble_member_seed(const struct model *m, size_t k)
{
    const struct ensemble *e = as_ensemble(m);
    return e && k < e->n ? e->seeds[k] : 0;
}

size_t ensemble_keep(const struct model *m)
{
    const struct ensemble *e = as_ensemble(m);
    return e ? e->keep : 0;
}

int ensemble_member_forward(struct model *m, const struct model_batch *b, struct model_run *run,
                            double *out)
{
    struct ensemble *e = as_ensemble(m);
    if (!e)
        return FW_EINVAL;
    size_t cells = b->n * (size_t)m->horizon;
    for (size_t k = 0; k < e->n; k++) {
        int rc = model_forward(e->members[k], b, 0, run, out + k * cells);
        if (rc)
            return rc;
    }
    return FW_OK;
}

void ensemble_members_changed(struct model *m)
{
    struct ensemble *e = as_ensemble(m);
    for (size_t k = 0; e && k < e->n; k++) {
        const struct model *mk = e->members[k];
        memcpy(m->params + e->param_base[k], mk->params, mk->n_params * sizeof(double));
        memcpy(m->buffers + e->buffer_base[k], mk->buffers, mk->n_buffers * sizeof(double));
    }
}

int ensemble_select(struct model **mp, uint64_t mask, fw_error *err)
{
    struct ensemble *e = as_ensemble(*mp);
    size_t bits = 0;
    for (size_t k = 0; e && k < e->n; k++)
        bits += mask >> k & 1;
    if (!e || e->selected || e->n != e->requested || bits != e->keep || (e->n < 64 && mask >> e->n))
        return fw_error_set(err, FW_EINVAL, "ensemble: not a selection of %zu members",
                            e ? e->keep : 0);
    struct model_config cfg = (*mp)->config;
    char kept[CONFIG_VALUE_MAX], text[CONFIG_MAX_OPTIONS * (CONFIG_KEY_MAX + CONFIG_VALUE_MAX + 2)];
    snprintf(kept, sizeof kept, "x%llx", (unsigned long long)mask);
    struct model *sub = NULL;
    int rc = config_set(&cfg, "kept", kept, err);
    if (!rc && config_format(&cfg, text, sizeof text))
        rc = fw_error_set(err, FW_ERANGE, "ensemble: the selection's config is too long");
    if (!rc)
        rc = model_create(ensemble_ops.name, text, 0, &sub, err);
    struct ensemble *s = as_ensemble(sub);
    for (size_t k = 0, j = 0; !rc && k < e->n; k++) {
        if (!(mask >> k & 1))
            continue;
        const struct model *from = e->members[k], *to = s->members[j];
        if (from->n_params != to->n_params || from->n_buffers != to->n_buffers) {
            rc = fw_error_set(err, FW_EINVAL, "ensemble: member %zu changed shape", k);
            break;
        }
        memcpy(sub->params + s->param_base[j], from->params, from->n_params * sizeof(double));
        memcpy(sub->buffers + s->buffer_base[j], from->buffers, from->n_buffers * sizeof(double));
        j++;
    }
    if (rc) {
        model_destroy(sub);
        return rc;
    }
    model_params_changed(sub);
    model_destroy(*mp);
    *mp = sub;
    return FW_OK;
}
