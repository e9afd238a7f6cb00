/*
 * optim — optimisers over a model's flat parameter array, and their learning-rate schedules.
 *
 * Optimisers: Adam and AdamW with PyTorch's defaults (betas 0.9/0.999, eps 1e-8) and PyTorch's
 * update order (AdamW: p -= lr * wd * p, then the Adam step; Adam adds wd * p to the gradient),
 * and Lion (Chen et al. 2023): update = sign(beta1 m + (1 - beta1) g), p -= lr * wd * p, then
 * p -= lr * update, then m = beta2 m + (1 - beta2) g, betas 0.9/0.99 (the reference code's
 * order and defaults).
 *
 * Schedules, with k the number of steps taken before this one and T the run's total steps:
 *   constant  the authors' "keras" decay, lr_k = lr / (1 + decay k) (the default);
 *   linear    lr decays linearly from lr to final * lr over the run (Defazio et al. 2023);
 *   wsd       warmup-stable-decay: lr until the last decay_fraction of the steps, which decay
 *             from lr to final * lr as 1 - sqrt (Hägele et al. 2024).
 * Any of them may start with a linear warmup over the first W = round(warmup T) steps, whose
 * lr is multiplied by (k + 1) / W. Warmup, linear and wsd need total_steps (the trainer sets it);
 * with total_steps 0 there is no warmup and linear and wsd stay at lr.
 *
 * The optimiser owns its moment arrays; its whole state (the moments and the step count; the
 * schedule is a function of the step count) can be saved and restored, so training resumes
 * exactly.
 */
#ifndef FW_OPTIM_H
#define FW_OPTIM_H

#include <stddef.h>
#include <stdint.h>

enum optim_kind { OPTIM_ADAM = 0, OPTIM_ADAMW = 1, OPTIM_LION = 2 };

enum lr_schedule { LR_CONSTANT = 0, LR_LINEAR = 1, LR_WSD = 2 };

struct lr_plan {
    enum lr_schedule kind;
    double warmup;         /* fraction of the total steps warmed up linearly, [0, 1) */
    double decay_fraction; /* wsd: fraction of the total steps in the decay phase, [0, 1] */
    double final_lr;       /* linear, wsd: the last lr as a fraction of lr, [0, 1] */
    uint64_t total_steps;  /* T; 0 = unknown */
};

struct optim {
    enum optim_kind kind;
    size_t n;
    double lr, decay, beta1, beta2, eps, weight_decay;
    struct lr_plan plan; /* constant, no warmup unless optim_set_plan says otherwise */
    uint64_t steps;
    double *m, *v; /* v: Adam(W)'s second moment; Lion has none (v stays 0) */
};

int optim_init(struct optim *o, enum optim_kind kind, size_t n, double lr, double decay,
               double weight_decay);
void optim_free(struct optim *o);

/* Sets the learning-rate schedule (plan is copied). */
void optim_set_plan(struct optim *o, const struct lr_plan *plan);

/* The learning rate the next step will use. */
double optim_current_lr(const struct optim *o);

/* One update of params from grads. */
void optim_step(struct optim *o, double *params, const double *grads);

/* Parse "adam" / "adamw" / "lion" and "constant" / "linear" / "wsd" (FW_EINVAL otherwise, *out
 * unchanged). */
int optim_kind_parse(const char *text, enum optim_kind *out);
int lr_schedule_parse(const char *text, enum lr_schedule *out);

#endif
