/* optim — Adam/AdamW with keras-style decay (see optim.h). */
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
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = weight_decay;
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

double optim_current_lr(const struct optim *o)
{
    return o->lr / (1.0 + o->decay * (double)o->steps);
}

void optim_step(struct optim *o, double *params, const double *grads)
{
    double lr = optim_current_lr(o);
    o->steps++;
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

int optim_kind_parse(const char *text, enum optim_kind *out)
{
    if (text && !strcmp(text, "adam"))
        *out = OPTIM_ADAM;
    else if (text && !strcmp(text, "adamw"))
        *out = OPTIM_ADAMW;
    else
        return FW_EINVAL;
    return FW_OK;
}
