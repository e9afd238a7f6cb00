/*
 * optim — optimisers over a model's flat parameter array: Adam and AdamW with PyTorch's
 * defaults (betas 0.9/0.999, eps 1e-8) and PyTorch's update order, plus the authors' "keras"
 * learning-rate decay lr_k = lr / (1 + decay * k), k the number of steps taken before this one.
 * The optimiser owns its moment arrays; its whole state can be saved and restored, so training
 * resumes exactly.
 */
#ifndef FW_OPTIM_H
#define FW_OPTIM_H

#include <stddef.h>
#include <stdint.h>

enum optim_kind { OPTIM_ADAM = 0, OPTIM_ADAMW = 1 };

struct optim {
    enum optim_kind kind;
    size_t n;
    double lr, decay, beta1, beta2, eps, weight_decay;
    uint64_t steps;
    double *m, *v;
};

int optim_init(struct optim *o, enum optim_kind kind, size_t n, double lr, double decay,
               double weight_decay);
void optim_free(struct optim *o);

/* The learning rate the next step will use. */
double optim_current_lr(const struct optim *o);

/* One update of params from grads. */
void optim_step(struct optim *o, double *params, const double *grads);

/* Parses "adam" / "adamw". */
int optim_kind_parse(const char *text, enum optim_kind *out);

#endif
