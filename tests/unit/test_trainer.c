/* Tests for model/trainer: determinism (same seed, any thread count), the best-validation
 * checkpoint, cancellation, and resume reaching the same weights as an uninterrupted run, for
 * every optimiser and schedule; the schedule's step count; the recipe options' checks. */
#include "testutil.h"
#include "model/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG   "window=24;horizon=6;slow_dim=3;hidden=4;fast_in=2;fast_out=3"
#define N_MONTHS 160

static void make_plan(struct split_plan *plan)
{
    double values[N_MONTHS];
    rng r;
    rng_seed(&r, 77);
    for (int t = 0; t < N_MONTHS; t++) /* an 11-"year" cycle with noise, rounded like SILSO */
        values[t] = round(10 * (60 + 50 * sin(2 * M_PI * t / 40.0) + 8 * rng_normal(&r))) / 10;
    assert_int_equal(
        series_prepare(values, N_MONTHS, 1800 * 12, PROTOCOL_PAPER, -1, 24, 6, plan, NULL), 0);
}

static void options(struct train_options *o, int epochs, int threads)
{
    train_options_default(o);
    o->epochs = epochs;
    o->threads = threads;
    o->batch_size = 8;
    o->seed = 3;
}

/* Trains a fresh model; returns it (caller destroys) and fills the state. */
static struct model *train(const struct split_plan *plan, const struct train_options *o,
                           struct train_state *s)
{
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, o->seed, &m, NULL), 0);
    assert_int_equal(train_state_init(s, m, o), 0);
    assert_int_equal(train_run(m, plan, o, s, NULL, NULL, NULL, NULL), 0);
    return m;
}

static void test_deterministic_across_threads(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct train_options o1, o2;
    options(&o1, 3, 1);
    options(&o2, 3, 2);
    struct train_state s1, s2, s3;
    struct model *a = train(&plan, &o1, &s1), *b = train(&plan, &o1, &s2),
                 *c = train(&plan, &o2, &s3);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(double));
    assert_memory_equal(a->params, c->params, a->n_params * sizeof(double));
    assert_memory_equal(a->buffers, c->buffers, a->n_buffers * sizeof(double));
    for (int e = 0; e < 3; e++) {
        assert_true(s1.curve[e].train_loss == s3.curve[e].train_loss);
        assert_true(s1.curve[e].val_loss == s3.curve[e].val_loss);
    }
    /* a different seed trains differently */
    struct train_options o4;
    options(&o4, 3, 1);
    o4.seed = 4;
    struct train_state s4;
    struct model *d = train(&plan, &o4, &s4);
    assert_memory_not_equal(a->params, d->params, a->n_params * sizeof(double));
    model_destroy(a), model_destroy(b), model_destroy(c), model_destroy(d);
    train_state_free(&s1), train_state_free(&s2), train_state_free(&s3), train_state_free(&s4);
    series_free(&plan);
}

static void test_learns_and_keeps_best(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct train_options o;
    options(&o, 8, 1);
    struct train_state s;
    struct model *m = train(&plan, &o, &s);
    assert_int_equal(s.epochs_done, 8);
    assert_true(s.curve[7].train_loss < s.curve[0].train_loss);
    /* the model ends with the best-validation weights, whose loss is the recorded best */
    assert_memory_equal(m->params, s.best_params, m->n_params * sizeof(double));
    double best = INFINITY;
    int best_epoch = 0;
    for (int e = 0; e < 8; e++)
        if (s.curve[e].val_loss < best) {
            best = s.curve[e].val_loss;
            best_epoch = e + 1;
        }
    assert_int_equal(s.best_epoch, best_epoch);
    double val;
    assert_int_equal(train_eval_loss(m, &plan, plan.val, 1.0, NULL, &val), 0);
    assert_true(val == s.best_val);
    model_destroy(m);
    train_state_free(&s);
    series_free(&plan);
}

/* keep_last ends on the last epoch's weights whatever the validation loss did; and separate
 * inputs (plan->input) are what the model reads, the targets staying plan->scaled. */
static void test_keep_last_and_inputs(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct train_options o;
    options(&o, 6, 1);
    o.keep_last = 1;
    struct train_state s;
    struct model *m = train(&plan, &o, &s);
    assert_int_equal(s.best_epoch, 6);
    assert_memory_equal(m->params, s.params, m->n_params * sizeof(double));
    assert_true(s.best_val == s.curve[5].val_loss);
    double before;
    assert_int_equal(train_eval_loss(m, &plan, plan.val, 1.0, NULL, &before), 0);
    /* the same targets read through other inputs give another loss */
    plan.input = malloc(plan.n_months * sizeof(double));
    for (size_t t = 0; t < plan.n_months; t++)
        plan.input[t] = 1.0 - plan.scaled[t];
    double after;
    assert_int_equal(train_eval_loss(m, &plan, plan.val, 1.0, NULL, &after), 0);
    assert_true(after != before);
    assert_memory_equal(series_inputs(&plan), plan.input, plan.n_months * sizeof(double));
    model_destroy(m);
    train_state_free(&s);
    series_free(&plan); /* frees the inputs too */
}

struct cancel_ctx {
    atomic_int flag;
    int at_epoch;
    uint8_t *saved;
    size_t saved_len;
};

static void cancel_after(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    struct cancel_ctx *c = ctx;
    if (p->epoch == c->at_epoch) {
        assert_int_equal(train_state_save(s, &c->saved, &c->saved_len), 0);
        atomic_store(&c->flag, 1);
    }
}

/* The state's bytes without the timings (which are not reproducible). */
static void save_untimed(struct train_state *s, uint8_t **data, size_t *len)
{
    for (int e = 0; e < s->epochs_done; e++)
        s->curve[e].seconds = 0.0;
    assert_int_equal(train_state_save(s, data, len), 0);
}

/* 5 epochs straight against 2, cancelled with the checkpoint saved, then loaded into a new model
 * and trained on to 5: the same weights, moments, step count and curve, byte for byte. */
static void check_resume(const struct split_plan *plan, const struct train_options *o)
{
    struct train_state full;
    struct model *reference = train(plan, o, &full);

    /* the same run, cancelled after epoch 2 (checkpoint saved there) */
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, o->seed, &m, NULL), 0);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, o), 0);
    struct cancel_ctx c = {.at_epoch = 2};
    atomic_init(&c.flag, 0);
    assert_int_equal(train_run(m, plan, o, &s, cancel_after, &c, &c.flag, NULL), FW_ECANCELLED);
    assert_int_equal(s.epochs_done, 2);
    model_destroy(m);
    train_state_free(&s);

    /* a new process: a fresh model, the checkpoint loaded, training continued */
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, 999, &m, NULL), 0);
    struct train_state resumed;
    fw_error err;
    assert_int_equal(train_state_load(&resumed, m, o, c.saved, c.saved_len, &err), 0);
    assert_int_equal(resumed.epochs_done, 2);
    assert_int_equal(train_run(m, plan, o, &resumed, NULL, NULL, NULL, NULL), 0);
    assert_memory_equal(m->params, reference->params, m->n_params * sizeof(double));
    assert_memory_equal(m->buffers, reference->buffers, m->n_buffers * sizeof(double));
    uint8_t *a, *b;
    size_t a_len, b_len;
    save_untimed(&full, &a, &a_len);
    save_untimed(&resumed, &b, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a), free(b);

    /* a damaged checkpoint is refused */
    c.saved[c.saved_len / 2] ^= 0x40;
    struct train_state bad;
    assert_int_equal(train_state_load(&bad, m, o, c.saved, c.saved_len, &err), FW_ECORRUPT);
    assert_int_equal(train_state_load(&bad, m, o, c.saved, 3, &err), FW_ECORRUPT);

    free(c.saved);
    model_destroy(m), model_destroy(reference);
    train_state_free(&resumed), train_state_free(&full);
}

static void test_cancel_and_resume_match_uninterrupted(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct train_options o;
    options(&o, 5, 2);
    check_resume(&plan, &o); /* Adam, the keras decay */
    series_free(&plan);
}

/* The same for each recipe; the warmups and decay phases span the checkpoint (epoch 2 of 5). */
static void test_resume_every_recipe(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct train_options o;
    options(&o, 5, 2);
    o.optimizer = OPTIM_ADAMW;
    o.weight_decay = 0.05;
    o.warmup = 0.3; /* the keras decay after a warmup */
    check_resume(&plan, &o);
    o.schedule = LR_LINEAR;
    o.final_lr = 0.1;
    check_resume(&plan, &o);
    o.optimizer = OPTIM_LION;
    o.lr = 5e-4;
    o.weight_decay = 0.5;
    o.schedule = LR_WSD;
    o.warmup = 0.1;
    o.decay_fraction = 0.7;
    o.final_lr = 0.0;
    check_resume(&plan, &o);
    o.optimizer = OPTIM_ADAM;
    o.weight_decay = 0.01; /* coupled, in the gradient */
    o.schedule = LR_LINEAR;
    o.decay_fraction = 0.2;
    check_resume(&plan, &o);
    series_free(&plan);
}

/* The schedule's length is epochs x the epoch's optimiser steps, a last batch of one window
 * joining the one before; and the recipes train differently from the default. */
static void test_schedule_length_and_recipes(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    size_t n_train = plan.train.end - plan.train.begin;
    int odd = 3; /* a batch size leaving one window over */
    while (n_train % (size_t)odd != 1)
        odd++;
    const int sizes[2] = {8, odd};
    for (int i = 0; i < 2; i++) {
        struct train_options o;
        options(&o, 3, 1);
        o.batch_size = sizes[i];
        o.schedule = LR_LINEAR;
        struct train_state s;
        struct model *m = train(&plan, &o, &s);
        size_t bs = (size_t)sizes[i];
        uint64_t per_epoch = n_train % bs == 1 ? n_train / bs : (n_train + bs - 1) / bs;
        assert_int_equal(s.opt.plan.total_steps, 3 * per_epoch);
        assert_int_equal(s.opt.steps, s.opt.plan.total_steps);
        /* the next step (there is none) would be at final_lr 0 */
        assert_true(optim_current_lr(&s.opt) == 0.0);
        model_destroy(m);
        train_state_free(&s);
    }
    struct train_options o;
    options(&o, 4, 1);
    struct train_state s0, s1;
    struct model *adam = train(&plan, &o, &s0);
    o.optimizer = OPTIM_LION;
    o.lr = 5e-4;
    o.schedule = LR_WSD;
    o.warmup = 0.1;
    struct model *lion = train(&plan, &o, &s1);
    assert_memory_not_equal(adam->params, lion->params, adam->n_params * sizeof(double));
    assert_true(s1.curve[3].train_loss < s1.curve[0].train_loss);
    model_destroy(adam), model_destroy(lion);
    train_state_free(&s0), train_state_free(&s1);
    series_free(&plan);
}

/* Each bad recipe option is refused, by train_options_check and by train_run, naming it. */
static void test_recipe_checks(void **state)
{
    (void)state;
    struct train_options o;
    fw_error err;
    train_options_default(&o);
    assert_int_equal(train_options_check(&o, &err), FW_OK);
    struct {
        const char *field, *message;
        double value;
    } bad[] = {
        {"weight_decay", "weight_decay", -0.1},
        {"weight_decay", "weight_decay", NAN},
        {"weight_decay", "weight_decay", INFINITY},
        {"adamw_wd", "lr * weight_decay", 400},
        {"warmup", "warmup", 1.0},
        {"warmup", "warmup", -0.01},
        {"warmup", "warmup", NAN},
        {"decay_fraction", "decay_fraction", 1.5},
        {"wsd_decay", "warmup + decay_fraction", 0.9},
        {"final_lr", "final_lr", 1.01},
        {"final_lr", "final_lr", NAN},
        {"constant_final", "final_lr applies", 0.5},
        {"linear_decay_fraction", "decay_fraction applies", 0.5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        train_options_default(&o);
        const char *f = bad[i].field;
        double v = bad[i].value;
        o.schedule = !strcmp(f, "constant_final")          ? LR_CONSTANT
                     : !strcmp(f, "linear_decay_fraction") ? LR_LINEAR
                                                           : LR_WSD;
        if (!strcmp(f, "weight_decay"))
            o.weight_decay = v;
        else if (!strcmp(f, "adamw_wd"))
            o.optimizer = OPTIM_ADAMW, o.weight_decay = v; /* lr 2.5e-3 * 400 = 1 */
        else if (!strcmp(f, "warmup"))
            o.warmup = v;
        else if (!strcmp(f, "wsd_decay"))
            o.warmup = 0.2, o.decay_fraction = v;
        else if (!strcmp(f, "final_lr") || !strcmp(f, "constant_final"))
            o.final_lr = v;
        else
            o.decay_fraction = v;
        if (train_options_check(&o, &err) != FW_EINVAL || !strstr(err.msg, bad[i].message))
            fail_msg("%s = %g: not refused with '%s' (%s)", f, v, bad[i].message, err.msg);
    }
    /* at the limits: accepted */
    train_options_default(&o);
    o.optimizer = OPTIM_LION;
    o.weight_decay = 399;
    o.schedule = LR_WSD;
    o.warmup = 0.3;
    o.decay_fraction = 0.7;
    o.final_lr = 1.0;
    assert_int_equal(train_options_check(&o, &err), FW_OK);
    o.optimizer = OPTIM_ADAM; /* coupled: no bound from lr */
    o.weight_decay = 1e6;
    assert_int_equal(train_options_check(&o, &err), FW_OK);
    o.optimizer = (enum optim_kind)7;
    assert_int_equal(train_options_check(&o, &err), FW_EINVAL);
}

/* train_run checks the recipe too, before any work. */
static void test_run_checks_recipe(void **state)
{
    (void)state;
    struct train_options o;
    fw_error err;
    struct split_plan plan;
    make_plan(&plan);
    options(&o, 1, 1);
    o.warmup = 2.0;
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", CONFIG, 0, &m, NULL), 0);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "warmup"));
    assert_int_equal(s.opt.steps, 0);
    model_destroy(m);
    train_state_free(&s);
    series_free(&plan);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct split_plan plan;
    make_plan(&plan);
    struct model *m = NULL;
    assert_int_equal(model_create("gated-qkan-fwp", "window=12;horizon=6", 0, &m, NULL), 0);
    struct train_options o;
    options(&o, 1, 1);
    struct train_state s;
    assert_int_equal(train_state_init(&s, m, &o), 0);
    fw_error err;
    /* the model's window differs from the data's */
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "window"));
    o.batch_size = 1;
    assert_int_equal(train_run(m, &plan, &o, &s, NULL, NULL, NULL, &err), FW_EINVAL);
    model_destroy(m);
    train_state_free(&s);
    series_free(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_learns_and_keeps_best),
        cmocka_unit_test(test_keep_last_and_inputs),
        cmocka_unit_test(test_cancel_and_resume_match_uninterrupted),
        cmocka_unit_test(test_resume_every_recipe),
        cmocka_unit_test(test_schedule_length_and_recipes),
        cmocka_unit_test(test_recipe_checks),
        cmocka_unit_test(test_run_checks_recipe),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
