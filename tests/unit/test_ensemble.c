/* Tests for model/ensemble and its training (model/fit_ensemble.c): the config (every good and
 * bad case), the mean forward against independently created members bit for bit, the tensor
 * table, the member forwards, the spec builder of the API and CLI, then fit_run: a tiny
 * end-to-end training with progress across members, keep=K choosing the lowest validation losses
 * (each kept member identical to the same model trained alone), a byte-identical model file for
 * 1 and 2 threads, the save/load round trip, and a resumed run matching an uninterrupted one. */
#include "model_harness.h"
#include "model/ensemble.h"
#include "model/fit.h"
#include "model/forecaster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TINY_RNN   "window=7;horizon=4;hidden=3"
#define TINY_GQKAN "slow_dim=3;hidden=4;fast_in=2;fast_out=3"

static const char *option_value(const struct model *m, const char *key)
{
    for (size_t i = 0; i < m->config.n; i++)
        if (!strcmp(m->config.options[i].key, key))
            return m->config.options[i].value;
    return NULL;
}

static void refused(const char *config, const char *needle)
{
    struct model *m = NULL;
    fw_error err = {0};
    int rc = model_create("ensemble", config, 0, &m, &err);
    if (rc == 0 || !strstr(err.msg, needle))
        print_error("'%s': rc %d, message '%s' (expected '%s')\n", config, rc, err.msg, needle);
    assert_int_not_equal(rc, 0);
    assert_null(m);
    assert_non_null(strstr(err.msg, needle));
}

static void test_config_good(void **state)
{
    (void)state;
    struct model *m = NULL;
    fw_error err = {0};
    /* single architecture: the resolved config carries the members' defaults and the seeds */
    assert_int_equal(model_create("ensemble", "members=rnn.3;" TINY_RNN, 10, &m, &err), 0);
    assert_int_equal(ensemble_size(m), 3);
    assert_int_equal(ensemble_keep(m), 3);
    assert_string_equal(option_value(m, "seeds"), "10-12");
    assert_string_equal(option_value(m, "keep"), "3");
    assert_string_equal(option_value(m, "dropout"), "0.3");
    assert_non_null(option_value(m, "batchnorm"));
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(ensemble_member_seed(m, k), 10 + k);
    assert_int_equal(m->window, 7);
    assert_int_equal(m->horizon, 4);
    model_destroy(m);
    /* mixed: only the options given; explicit seeds */
    assert_int_equal(model_create("ensemble",
                                  "members=rnn.1+gated-qkan-fwp.2;seeds=7+0-1;window=7;horizon=4;"
                                  "keep=2;" TINY_GQKAN,
                                  0, &m, &err),
                     0);
    assert_int_equal(ensemble_size(m), 3);
    assert_string_equal(ensemble_member(m, 0)->ops->name, "rnn");
    assert_string_equal(ensemble_member(m, 2)->ops->name, "gated-qkan-fwp");
    assert_int_equal(ensemble_member_seed(m, 0), 7);
    assert_int_equal(ensemble_member_seed(m, 2), 1);
    assert_null(option_value(m, "dropout"));
    assert_string_equal(option_value(m, "seeds"), "7+0-1");
    /* each member's own config is what it read: rnn did not read slow_dim */
    assert_null(option_value(ensemble_member(m, 0), "slow_dim"));
    assert_string_equal(option_value(ensemble_member(m, 1), "slow_dim"), "3");
    model_destroy(m);
    /* the same seed for two architectures is fine; kept= builds the kept members only */
    assert_int_equal(
        model_create("ensemble", "members=rnn.3;seeds=4-6;keep=2;kept=x5;" TINY_RNN, 0, &m, &err),
        0);
    assert_int_equal(ensemble_size(m), 2);
    assert_int_equal(ensemble_member_seed(m, 0), 4);
    assert_int_equal(ensemble_member_seed(m, 1), 6);
    model_destroy(m);
    /* the default: ten paper models */
    assert_int_equal(model_create("ensemble", "", 0, &m, &err), 0);
    assert_int_equal(ensemble_size(m), 10);
    assert_string_equal(option_value(m, "members"), "gated-qkan-fwp.10");
    assert_int_equal(m->n_params, 124740);
    assert_int_equal(ensemble_size(ensemble_member(m, 0)), 0);
    model_destroy(m);
}

static void test_config_bad(void **state)
{
    (void)state;
    refused("members=nope.3", "unknown member architecture 'nope'");
    refused("members=ensemble.2", "an ensemble cannot be a member");
    refused("members=rnn.0", "0 members");
    refused("members=rnn.40+lstm.25", "more than 64");
    refused("members=rnn.65", "is not ARCH.COUNT");
    refused("members=rnn", "is not ARCH.COUNT");
    refused("members=rnn.x", "is not ARCH.COUNT");
    refused("members=.3", "is not ARCH.COUNT");
    refused("members=rnn.2+", "is not ARCH.COUNT");
    refused("members=rnn.2;seeds=1", "2 members but 1 seeds");
    refused("members=rnn.2;seeds=3-1", "seeds entry '3-1'");
    refused("members=rnn.2;seeds=a+b", "seeds entry 'a'");
    refused("members=rnn.2;seeds=0-70", "more than 64 seeds");
    refused("members=rnn.2;seeds=5+5", "identical members");
    refused("members=rnn.2;keep=0", "keep");
    refused("members=rnn.2;keep=3", "keep");
    refused("members=rnn.3;keep=2;kept=x7", "kept");
    refused("members=rnn.3;keep=2;kept=x9", "kept");
    refused("members=rnn.3;keep=2;kept=5", "kept");
    refused("members=rnn.3;kept=x3", "kept"); /* keep defaults to all members: 3 bits */
    refused("members=rnn.2;hiden=4", "unknown config option 'hiden'");
    refused("members=rnn.2;hidden=0", "ensemble member 0 (rnn)");
    refused("members=rnn.2;seeds=0-1;seeds=2-3", "given twice");
    refused("members=rnn.1+lstm.1+rnn.1+lstm.1+rnn.1+lstm.1+rnn.1+lstm.1", "too long");
}

/* The mean forward equals the mean of independently created members' forwards, bit for bit. */
static void test_mean_forward(void **state)
{
    (void)state;
    const struct harness_shape shape = {.n_series = 80, .n_windows = 9};
    struct harness h;
    harness_init(&h, &shape, "ensemble",
                 "members=rnn.2+gated-qkan-fwp.1;window=7;horizon=4;seeds=5-6+9;" TINY_GQKAN, 1);
    const char *member_cfg = "window=7;horizon=4;" TINY_GQKAN;
    struct model *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(model_create("rnn", "window=7;horizon=4;hidden=4", 5, &a, NULL), 0);
    assert_int_equal(model_create("rnn", "window=7;horizon=4;hidden=4", 6, &b, NULL), 0);
    assert_int_equal(model_create("gated-qkan-fwp", member_cfg, 9, &c, NULL), 0);
    size_t cells = h.n * 4;
    double *oa = malloc(cells * sizeof(double)), *ob = malloc(cells * sizeof(double));
    double *oc = malloc(cells * sizeof(double)), *all = malloc(3 * cells * sizeof(double));
    assert_true(oa && ob && oc && all);
    struct model_batch batch = {h.series, NULL, h.starts, h.n};
    assert_int_equal(model_forward(a, &batch, 0, NULL, oa), 0);
    assert_int_equal(model_forward(b, &batch, 0, NULL, ob), 0);
    assert_int_equal(model_forward(c, &batch, 0, NULL, oc), 0);
    for (size_t i = 0; i < cells; i++)
        oa[i] = (oa[i] + ob[i] + oc[i]) / 3.0;
    assert_int_equal(model_forward(h.m, &batch, 0, NULL, h.out), 0);
    assert_memory_equal(h.out, oa, cells * sizeof(double));
    /* every member's output, in member order */
    assert_int_equal(ensemble_member_forward(h.m, &batch, NULL, all), 0);
    assert_memory_equal(all + 1 * cells, ob, cells * sizeof(double));
    assert_memory_equal(all + 2 * cells, oc, cells * sizeof(double));
    assert_int_equal(ensemble_member_forward(a, &batch, NULL, all), FW_EINVAL);
    /* the same with a 2-thread pool */
    struct pool *pool = NULL;
    assert_int_equal(pool_create(2, &pool), 0);
    struct model_run run = {pool, {{0}}};
    assert_int_equal(model_forward(h.m, &batch, 0, &run, oc), 0);
    assert_memory_equal(h.out, oc, cells * sizeof(double));
    pool_destroy(pool);
    /* an ensemble is never trained as a whole */
    assert_int_equal(model_forward(h.m, &batch, 1, &run, oc), FW_EINVAL);
    assert_int_equal(model_backward(h.m, &run, oc), FW_EINVAL);
    free(oa), free(ob), free(oc), free(all);
    model_destroy(a), model_destroy(b), model_destroy(c);
    harness_free(&h);
}

/* A stand-in for a quantum backend: any deterministic probabilities do. */
static int fake_p0(void *ctx, size_t n, int reps, const double *theta, const double *x, double *p0,
                   fw_error *err)
{
    (void)ctx, (void)reps, (void)err;
    for (size_t i = 0; i < n; i++)
        p0[i] = 0.5 + 0.4 * sin(x[i] + theta[i * 2 * (size_t)(reps + 1)]);
    return FW_OK;
}

/* The quantum forward averages the members' (and refuses a member without circuits). */
static void test_quantum_forward(void **state)
{
    (void)state;
    const struct harness_shape shape = {.n_series = 80, .n_windows = 3};
    struct harness h;
    harness_init(&h, &shape, "ensemble", "members=gated-qkan-fwp.2;window=7;horizon=4;" TINY_GQKAN,
                 1);
    struct daruan_evaluator ev = {fake_p0, NULL};
    struct model_batch batch = {h.series, NULL, h.starts, h.n};
    size_t cells = h.n * 4;
    double sum[12], one[12];
    int readout = -1, r = -1;
    fw_error err = {0};
    for (size_t k = 0; k < 2; k++) {
        struct model *mk = ensemble_member(h.m, k);
        assert_int_equal(mk->ops->forward_quantum(mk, &batch, &ev, &r, k ? one : sum, &err), 0);
        for (size_t i = 0; k && i < cells; i++)
            sum[i] += one[i];
    }
    for (size_t i = 0; i < cells; i++)
        sum[i] /= 2.0;
    assert_int_equal(h.m->ops->forward_quantum(h.m, &batch, &ev, &readout, one, &err), 0);
    assert_memory_equal(sum, one, cells * sizeof(double));
    assert_int_equal(readout, r);
    harness_free(&h);
    harness_init(&h, &shape, "ensemble",
                 "members=gated-qkan-fwp.1+rnn.1;window=7;horizon=4;" TINY_GQKAN, 1);
    batch = (struct model_batch){h.series, NULL, h.starts, h.n};
    assert_int_equal(h.m->ops->forward_quantum(h.m, &batch, &ev, &readout, one, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "member 1 (rnn) has no circuits"));
    harness_free(&h);
}

static void test_tensors(void **state)
{
    (void)state;
    struct model *e = NULL, *a = NULL;
    assert_int_equal(model_create("ensemble", "members=rnn.2;batchnorm=1;" TINY_RNN, 3, &e, NULL),
                     0);
    assert_int_equal(model_create("rnn", "batchnorm=1;" TINY_RNN, 4, &a, NULL), 0);
    assert_int_equal(e->n_tensors, 2 * a->n_tensors);
    assert_int_equal(e->n_params, 2 * a->n_params);
    assert_int_equal(e->n_buffers, 2 * a->n_buffers);
    for (size_t i = 0; i < a->n_tensors; i++) {
        char name[TENSOR_NAME_MAX + 16];
        snprintf(name, sizeof name, "members.1.%s", a->tensors[i].name);
        const struct tensor_info *t = model_tensor(e, name);
        assert_non_null(t);
        assert_int_equal(t->kind, a->tensors[i].kind);
        assert_int_equal(t->ndim, a->tensors[i].ndim);
        if (t->kind == TENSOR_TRAINED)
            assert_int_equal(t->offset, a->n_params + a->tensors[i].offset);
        if (t->kind == TENSOR_BUFFER)
            assert_int_equal(t->offset, a->n_buffers + a->tensors[i].offset);
    }
    /* member 1 (seed 4) is the independently created model, in the second half */
    assert_memory_equal(e->params + a->n_params, a->params, a->n_params * sizeof(double));
    assert_null(model_tensor(e, "rnn.weight_hh_l0"));
    /* params_changed pushes the flat arrays into the members */
    double *w = model_tensor_data(e, "members.1.output_layer.bias");
    assert_non_null(w);
    w[0] += 1.0;
    model_params_changed(e);
    assert_true(model_tensor_data(ensemble_member(e, 1), "output_layer.bias")[0] == w[0]);
    model_destroy(e), model_destroy(a);
}

static void test_spec(void **state)
{
    (void)state;
    struct ensemble_spec s;
    memset(&s, 0, sizeof s);
    fw_error err = {0};
    char text[256];
    assert_int_equal(ensemble_spec_add_text(&s, "rnn:0-2", 0x7fffffff, &err), 0);
    uint64_t seeds[] = {4, 0, 1, 2, 9};
    assert_int_equal(ensemble_spec_add(&s, "gated-qkan-fwp", seeds, 5, &err), 0);
    assert_int_equal(ensemble_spec_config(&s, 3, text, sizeof text, &err), 0);
    assert_string_equal(text, "members=rnn.3+gated-qkan-fwp.5;seeds=0-2+4+0-2+9;keep=3");
    assert_int_equal(ensemble_spec_config(&s, 0, text, sizeof text, &err), 0);
    assert_string_equal(text, "members=rnn.3+gated-qkan-fwp.5;seeds=0-2+4+0-2+9");
    assert_int_not_equal(ensemble_spec_config(&s, 9, text, sizeof text, &err), 0);
    assert_non_null(strstr(err.msg, "keep"));
    /* refusals */
    assert_int_not_equal(ensemble_spec_add(&s, "rnn", seeds + 3, 1, &err), 0); /* rnn seed 2 */
    assert_non_null(strstr(err.msg, "seed 2 is given twice for rnn"));
    assert_int_not_equal(ensemble_spec_add(&s, "ensemble", seeds, 1, &err), 0);
    assert_int_not_equal(ensemble_spec_add(&s, "nope", seeds, 1, &err), 0);
    assert_non_null(strstr(err.msg, "unknown member architecture"));
    assert_int_not_equal(ensemble_spec_add(&s, "lstm", seeds, 0, &err), 0);
    assert_int_not_equal(ensemble_spec_add_text(&s, "lstm", 0x7fffffff, &err), 0);
    assert_int_not_equal(ensemble_spec_add_text(&s, "lstm:2147483648", 0x7fffffff, &err), 0);
    assert_int_not_equal(ensemble_spec_add_text(&s, "lstm:0-60", 0x7fffffff, &err), 0);
    assert_non_null(strstr(err.msg, "more than 64"));
    /* seeds that do not fit a config value */
    struct ensemble_spec t;
    memset(&t, 0, sizeof t);
    assert_int_equal(
        ensemble_spec_add_text(&t, "rnn:0+2+4+6+8+10+12+14+16+18+20+22+24+26+28", 99, &err), 0);
    assert_int_equal(ensemble_spec_config(&t, 0, text, sizeof text, &err), 0);
    assert_int_equal(ensemble_spec_add_text(&t, "lstm:1000+2000", 99999, &err), 0);
    assert_int_not_equal(ensemble_spec_config(&t, 0, text, sizeof text, &err), 0);
    assert_non_null(strstr(err.msg, "seeds"));
}

/* --- training ------------------------------------------------------------------------------ */

#define N_MONTHS 220
static double series_values[N_MONTHS];

static void sine_series(void)
{
    rng r;
    rng_seed(&r, 77);
    for (int t = 0; t < N_MONTHS; t++)
        series_values[t] = 60 + 50 * sin(2 * M_PI * t / 40.0) + 5 * rng_normal(&r);
}

static void request(struct fit_request *rq, const char *arch, const char *config, int threads)
{
    *rq = (struct fit_request){
        .architecture = arch, .config = config, .protocol = PROTOCOL_PAPER, .cutoff_month = -1};
    train_options_default(&rq->train);
    rq->train.epochs = 3;
    rq->train.batch_size = 16;
    rq->train.lr = 1e-2;
    rq->train.threads = threads;
    rq->train.seed = 2;
}

struct progress_log {
    int calls, last_epoch, epochs, member, members, ordered;
    int cancel_at; /* raise cancel after this epoch (0: never), keeping the checkpoint */
    atomic_int *cancel;
    uint8_t *checkpoint;
    size_t checkpoint_len;
};

static void on_epoch(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    struct progress_log *log = ctx;
    log->ordered &= p->epoch == log->last_epoch + 1 && p->epoch == s->epochs_done;
    log->calls++;
    log->last_epoch = p->epoch;
    log->epochs = p->epochs;
    log->member = p->member;
    log->members = p->members;
    if (log->cancel_at && p->epoch == log->cancel_at) {
        free(log->checkpoint);
        assert_int_equal(train_state_save(s, &log->checkpoint, &log->checkpoint_len), 0);
        atomic_store(log->cancel, 1);
    }
}

/* Trains and returns the model file's bytes. */
static uint8_t *train_bytes(const struct fit_request *rq, const uint8_t *ckpt, size_t ckpt_len,
                            struct progress_log *log, size_t *len, struct forecaster **keep)
{
    struct train_state s;
    struct forecaster *f = NULL;
    struct fit_callbacks cb = {NULL, on_epoch, log};
    fw_error err = {0};
    int rc = fit_run(rq, series_values, N_MONTHS, 1800 * 12, NULL, ckpt, ckpt_len, log ? &cb : NULL,
                     log ? log->cancel : NULL, &s, &f, &err);
    if (rc)
        print_error("fit_run %s %s: %s\n", rq->architecture, rq->config, err.msg);
    assert_int_equal(rc, 0);
    uint8_t *bytes = NULL;
    assert_int_equal(forecaster_save(f, &bytes, len), 0);
    train_state_free(&s);
    if (keep)
        *keep = f;
    else
        forecaster_free(f);
    return bytes;
}

#define THREE "members=rnn.2+gated-qkan-fwp.1;window=24;horizon=6;" TINY_GQKAN

static void test_fit_end_to_end(void **state)
{
    (void)state;
    struct fit_request rq;
    request(&rq, "ensemble", THREE, 1);
    struct progress_log log = {.ordered = 1};
    size_t len;
    struct forecaster *f = NULL;
    free(train_bytes(&rq, NULL, 0, &log, &len, &f));
    /* epochs counted across members, the last call from member 3 of 3 */
    assert_int_equal(log.calls, 9);
    assert_true(log.ordered);
    assert_int_equal(log.epochs, 9);
    assert_int_equal(log.member, 3);
    assert_int_equal(log.members, 3);
    assert_int_equal(fit_total_epochs(f->model, 3), 9);
    assert_int_equal(ensemble_size(f->model), 3);
    assert_int_equal(f->epochs, 3);
    assert_true(f->has_test_metrics && isfinite(f->test.scaled_mse));
    assert_true(f->n_calibration > 0 && isfinite(f->val_loss));
    /* member k got seed 2 + k */
    assert_string_equal(option_value(f->model, "seeds"), "2-4");
    /* it forecasts, with bands */
    double point[6], lo[6], hi[6], level = 80;
    fw_error err = {0};
    assert_int_equal(forecaster_predict(f, series_values, N_MONTHS, 6, &level, 1, NULL, point, lo,
                                        hi, NULL, &err),
                     0);
    for (int j = 0; j < 6; j++)
        assert_true(lo[j] <= point[j] && point[j] <= hi[j]);
    forecaster_free(f);
    /* a closed-form member counts one epoch */
    request(&rq, "ensemble", "members=esn.1+rnn.1;window=24;horizon=6;units=20;hidden=3", 1);
    struct progress_log mixed = {.ordered = 1};
    free(train_bytes(&rq, NULL, 0, &mixed, &len, &f));
    assert_int_equal(mixed.calls, 4);
    assert_true(mixed.ordered);
    assert_int_equal(mixed.epochs, 4);
    assert_int_equal(fit_total_epochs(f->model, 3), 4);
    forecaster_free(f);
}

/* A model file round trip: the loaded ensemble saves the same bytes and forecasts the same. */
static void test_save_load(void **state)
{
    (void)state;
    struct fit_request rq;
    request(&rq, "ensemble", THREE, 1);
    size_t len, len2;
    struct forecaster *f = NULL, *g = NULL;
    uint8_t *bytes = train_bytes(&rq, NULL, 0, NULL, &len, &f);
    fw_error err = {0};
    assert_int_equal(forecaster_load(bytes, len, &g, &err), 0);
    assert_int_equal(ensemble_size(g->model), 3);
    uint8_t *again = NULL;
    assert_int_equal(forecaster_save(g, &again, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, again, len);
    double p1[6], p2[6];
    assert_int_equal(forecaster_predict(f, series_values, N_MONTHS, 6, NULL, 0, NULL, p1, NULL,
                                        NULL, NULL, &err),
                     0);
    assert_int_equal(forecaster_predict(g, series_values, N_MONTHS, 6, NULL, 0, NULL, p2, NULL,
                                        NULL, NULL, &err),
                     0);
    assert_memory_equal(p1, p2, sizeof p1);
    free(bytes), free(again);
    forecaster_free(f), forecaster_free(g);
}

/* The same request gives the same model file for 1 and 2 threads. */
static void test_threads_byte_identical(void **state)
{
    (void)state;
    struct fit_request one, two;
    request(&one, "ensemble", THREE, 1);
    request(&two, "ensemble", THREE, 2);
    size_t l1, l2;
    uint8_t *b1 = train_bytes(&one, NULL, 0, NULL, &l1, NULL);
    uint8_t *b2 = train_bytes(&two, NULL, 0, NULL, &l2, NULL);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    free(b1), free(b2);
}

/* keep=2 of 4 keeps the two lowest best-validation losses; each kept member is the very model
 * that trains alone with its seed. */
static void test_keep_lowest_validation(void **state)
{
    (void)state;
    double val[4];
    struct forecaster *single[4];
    for (int k = 0; k < 4; k++) {
        struct fit_request rq;
        request(&rq, "rnn", "window=24;horizon=6;hidden=3", 1);
        rq.train.seed = 2 + (uint64_t)k;
        size_t len;
        free(train_bytes(&rq, NULL, 0, NULL, &len, &single[k]));
        val[k] = single[k]->val_loss;
    }
    int order[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (val[order[j]] < val[order[i]]) {
                int t = order[i];
                order[i] = order[j], order[j] = t;
            }
    unsigned mask = (1u << order[0]) | (1u << order[1]);
    struct fit_request rq;
    request(&rq, "ensemble", "members=rnn.4;keep=2;window=24;horizon=6;hidden=3", 1);
    size_t len;
    struct forecaster *f = NULL;
    free(train_bytes(&rq, NULL, 0, NULL, &len, &f));
    char want[16];
    snprintf(want, sizeof want, "x%x", mask);
    assert_string_equal(option_value(f->model, "kept"), want);
    assert_int_equal(ensemble_size(f->model), 2);
    for (int k = 0, j = 0; k < 4; k++) {
        if (!(mask >> k & 1))
            continue;
        struct model *m = ensemble_member(f->model, (size_t)j++);
        assert_int_equal(ensemble_member_seed(f->model, (size_t)j - 1), 2 + k);
        assert_memory_equal(m->params, single[k]->model->params, m->n_params * sizeof(double));
    }
    /* the kept ensemble reloads, and refits as itself (its two members, no selection) */
    uint8_t *bytes = NULL;
    assert_int_equal(forecaster_save(f, &bytes, &len), 0);
    struct forecaster *g = NULL;
    assert_int_equal(forecaster_load(bytes, len, &g, NULL), 0);
    assert_int_equal(ensemble_size(g->model), 2);
    free(bytes);
    forecaster_free(f), forecaster_free(g);
    for (int k = 0; k < 4; k++)
        forecaster_free(single[k]);
}

/* Cancelled in member 2 and resumed from the checkpoint of that epoch: the same file as an
 * uninterrupted run (member 2 restarts); a checkpoint inside member 1 and after member 3 too. */
static void test_resume(void **state)
{
    (void)state;
    struct fit_request rq;
    request(&rq, "ensemble", "members=rnn.3;keep=2;window=24;horizon=6;hidden=3", 2);
    size_t len;
    uint8_t *whole = train_bytes(&rq, NULL, 0, NULL, &len, NULL);
    const int stops[] = {2, 5, 6, 9};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        atomic_int cancel;
        atomic_init(&cancel, 0);
        struct progress_log log = {.ordered = 1, .cancel_at = stops[i], .cancel = &cancel};
        struct train_state s;
        struct forecaster *f = NULL;
        struct fit_callbacks cb = {NULL, on_epoch, &log};
        int rc = fit_run(&rq, series_values, N_MONTHS, 1800 * 12, NULL, NULL, 0, &cb, &cancel, &s,
                         &f, NULL);
        /* the flag is seen at the next batch: the last epoch completes the run instead */
        assert_int_equal(rc, stops[i] == 9 ? FW_OK : FW_ECANCELLED);
        train_state_free(&s);
        forecaster_free(f);
        /* the resumed run starts after the last finished member */
        int boundary = stops[i] / 3 * 3;
        struct progress_log again = {.ordered = 1, .last_epoch = boundary};
        size_t len2;
        uint8_t *resumed =
            train_bytes(&rq, log.checkpoint, log.checkpoint_len, &again, &len2, NULL);
        assert_int_equal(len, len2);
        assert_memory_equal(whole, resumed, len);
        assert_true(again.ordered);
        assert_int_equal(again.calls, 9 - boundary);
        free(resumed);
        free(log.checkpoint);
    }
    free(whole);
}

int main(void)
{
    sine_series();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_mean_forward),
        cmocka_unit_test(test_quantum_forward),
        cmocka_unit_test(test_tensors),
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_fit_end_to_end),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_threads_byte_identical),
        cmocka_unit_test(test_keep_lowest_validation),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
