/* optim — Adam, AdamW and Lion with constant (keras), linear and WSD schedules (see optim.h). */
#include "model/optim.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int optim_init(struct optim *o, enum optim_kind kind, size_t n, double lr, double decay,
               double weight_decay)
{
    memset(o, 0, sizeof *o);
    o->m = calloc(n ? n : 1, sizeof *o->m);
    o->v = calloc(n ? n : 1, sizeof *o->v);
    if (!o->m || !o->v) {
        optim_free(o);
        return FW_ENOMEM;
    }
    o->kind = kind;
    o->n = n;
    o->lr = lr;
    o->decay = decay;
    o->beta1 = 0.9;
    o->beta2 = kind == OPTIM_LION ? 0.99 : 0.999;
    o->eps = 1e-8;
    o->weight_decay = weight_decay;
    o->plan.kind = LR_CONSTANT;
    return FW_OK;
}

void optim_free(struct optim *o)
{
    if (o) {
        free(o->m);
        free(o->v);
        o->m = o->v = NULL;
    }
}

void optim_set_plan(struct optim *o, const struct lr_plan *plan)
{
    o->plan = *plan;
}

/* round(fraction * total), at most total. */
static uint64_t fraction_steps(double fraction, uint64_t total)
{
    double s = floor(fraction * (double)total + 0.5);
    return s <= 0 ? 0 : s >= (double)total ? total : (uint64_t)s;
}

/* The linear or wsd factor of step k (k steps taken before it). */
static double decay_factor(const struct lr_plan *p, uint64_t k)
{
    uint64_t total = p->total_steps;
    if (total == 0)
        return 1.0;
    if (k > total)
        k = total;
    double f = p->final_lr;
    if (p->kind == LR_LINEAR) {
        uint64_t w = fraction_steps(p->warmup, total);
        if (k < w || w >= total)
            return 1.0;
        return 1.0 - (1.0 - f) * (double)(k - w) / (double)(total - w);
    }
    uint64_t d = fraction_steps(p->decay_fraction, total), start = total - d;
    if (d == 0 || k < start)
        return 1.0;
    return f + (1.0 - f) * (1.0 - sqrt((double)(k - start) / (double)d));
}

double optim_current_lr(const struct optim *o)
{
    uint64_t k = o->steps;
    double lr = o->plan.kind == LR_CONSTANT ? o->lr / (1.0 + o->decay * (double)k)
                                            : o->lr * decay_factor(&o->plan, k);
    uint64_t w = fraction_steps(o->plan.warmup, o->plan.total_steps);
    if (k < w)
        lr *= (double)(k + 1) / (double)w;
    return lr;
}

/* PyTorch's _single_tensor_adam, decoupled decay first for AdamW. */
static void adam_step(struct optim *o, double lr, double *params, const double *grads)
{
    double t = (double)o->steps;
    double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    double step_size = lr / bc1, sqrt_bc2 = sqrt(bc2);
    for (size_t i = 0; i < o->n; i++) {
        double g = grads[i];
        if (o->kind == OPTIM_ADAMW)
            params[i] *= 1.0 - lr * o->weight_decay;
        else if (o->weight_decay != 0.0)
            g += o->weight_decay * params[i];
        o->m[i] = o->beta1 * o->m[i] + (1.0 - o->beta1) * g;
        o->v[i] = o->beta2 * o->v[i] + (1.0 - o->beta2) * g * g;
        double denom = sqrt(o->v[i]) / sqrt_bc2 + o->eps;
        params[i] -= step_size * o->m[i] / denom;
    }
}

/* The Lion paper's reference step (its Program 1 / lion_pytorch.py). The sign of 0 is 0; a NaN
 * stays NaN, so a broken gradient is not hidden. */
static void lion_step(struct optim *o, double lr, double *params, const double *grads)
{
    for (size_t i = 0; i < o->n; i++) {
        double g = grads[i];
        params[i] *= 1.0 - lr * o->weight_decay;
        double c = o->beta1 * o->m[i] + (1.0 - o->beta1) * g;
        params[i] -= lr * (c > 0 ? 1.0 : c < 0 ? -1.0 : c);
        o->m[i] = o->beta2 * o->m[i] + (1.0 - o->beta2) * g;
    }
}

void optim_step(struct optim *o, double *params, const double *grads)
{
    double lr = optim_current_lr(o);
    o->steps++;
    if (o->kind == OPTIM_LION)
        lion_step(o, lr, params, grads);
    else
        adam_step(o, lr, params, grads);
}

int optim_kind_parse(const char *text, enum optim_kind *out)
{
    static const char *const names[] = {"adam", "adamw", "lion"};
    for (int i = 0; text && i < 3; i++)
        if (!strcmp(text, names[i])) {
            *out = (enum optim_kind)i;
            return FW_OK;
        }
    return FW_EINVAL;
}

int lr_schedule_parse(const char *text, enum lr_schedule *out)
{
    static const char *const names[] = {"constant", "linear", "wsd"};
    for (int i = 0; text && i < 3; i++)
        if (!strcmp(text, names[i])) {
            *out = (enum lr_schedule)i;
            return FW_OK;
        }
    return FW_EINVAL;
}
