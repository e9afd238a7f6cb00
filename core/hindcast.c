/* hindcast — the cycle hindcast suite: cutoffs, actual maxima, baselines, scores (see
 * hindcast.h). */
#include "core/hindcast.h"
#include "base/period.h"
#include "model/cycle.h"
#include "model/forecaster.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hindcast_baseline_name(enum hindcast_baseline b)
{
    static const char *const names[] = {"mean-cycle", "persistence", "noaa-nasa-panel"};
    return (unsigned)b < HINDCAST_N_BASELINES ? names[b] : "?";
}

/* A whole-string decimal number in 0..9999 at *s; advances *s. -1 if there is none. */
static long read_number(const char **s)
{
    long v = 0;
    int digits = 0;
    while (**s >= '0' && **s <= '9' && digits < 5) {
        v = v * 10 + (**s - '0');
        (*s)++, digits++;
    }
    return digits && digits < 5 ? v : -1;
}

int hindcast_parse_cycles(const char *text, int *from, int *to, fw_error *err)
{
    const char *s = text ? text : "";
    long a = read_number(&s), b = a;
    if (*s == '-') {
        s++;
        b = read_number(&s);
    }
    if (*s || a < 1 || b < a || b - a >= HINDCAST_MAX_CYCLES)
        return fw_error_set(err, FW_EINVAL,
                            "cycles: '%.40s' is not a range of cycle numbers like 21-25 (from 1, "
                            "at most %d cycles)",
                            text ? text : "", HINDCAST_MAX_CYCLES);
    *from = (int)a;
    *to = (int)b;
    return FW_OK;
}

int hindcast_plan_find(const struct hindcast_plan *p, int number)
{
    for (size_t k = 0; k < p->n_cycles; k++)
        if (p->cycle[k].number == number)
            return (int)k;
    return -1;
}

/* --- the actual and the baselines ----------------------------------------------------------- */

/* The smoothed value of month index t as known at the cutoff (final: t + 6 <= cutoff), or NAN. */
static double known(const struct hindcast_plan *p, size_t t, size_t cutoff)
{
    return t + SMOOTH13_HALF <= cutoff && t < p->n ? p->smoothed[t] : NAN;
}

/* The previous cycle minimum before the cutoff: its position in minima[], or -1. */
static long previous_minimum(const struct hindcast_plan *p, size_t cutoff)
{
    long prev = -1;
    for (size_t i = 0; i < p->n_minima && p->minima[i] < cutoff; i++)
        prev = (long)i;
    return prev;
}

int hindcast_baseline_path(const struct hindcast_plan *p, size_t k, enum hindcast_baseline b,
                           double out[HINDCAST_SPAN])
{
    size_t cutoff = p->cycle[k].cutoff_index;
    long prev = previous_minimum(p, cutoff);
    if (b == HINDCAST_PANEL || prev < 0)
        return FW_ENOTFOUND;
    for (size_t j = 0; j < HINDCAST_SPAN; j++) {
        if (b == HINDCAST_PERSISTENCE) {
            out[j] = known(p, p->minima[prev] + 1 + j, cutoff);
            continue;
        }
        double sum = 0.0;
        size_t count = 0;
        for (long i = 0; i <= prev; i++) {
            double v = known(p, p->minima[i] + 1 + j, cutoff);
            if (isfinite(v))
                sum += v, count++;
        }
        out[j] = count ? sum / (double)count : NAN;
    }
    return FW_OK;
}

static void set_peak_errors(const struct hindcast_cycle *c, struct hindcast_score *s)
{
    s->amplitude_bias = s->max_value - c->actual_value;
    s->timing_bias = (double)(s->max_month - c->actual_month);
    s->amplitude_error = fabs(s->amplitude_bias);
    s->timing_error = fabs(s->timing_bias);
}

/* MAE, MSE and R² of pred against the actual smoothed months of the window. */
static void score_against_actual(const struct hindcast_plan *p, const struct hindcast_cycle *c,
                                 const double *pred, struct hindcast_score *s)
{
    double abs_sum = 0.0, sq_sum = 0.0, mean = 0.0, sst = 0.0;
    size_t n = 0;
    const double *actual = p->smoothed + c->cutoff_index + 1;
    for (size_t j = 0; j < c->n_scored; j++)
        if (isfinite(pred[j]) && isfinite(actual[j]))
            mean += actual[j], n++;
    mean = n ? mean / (double)n : 0.0;
    for (size_t j = 0; j < c->n_scored; j++) {
        if (!isfinite(pred[j]) || !isfinite(actual[j]))
            continue;
        double d = pred[j] - actual[j];
        abs_sum += fabs(d);
        sq_sum += d * d;
        sst += (actual[j] - mean) * (actual[j] - mean);
    }
    s->n_scored = n;
    s->has_path = n > 0;
    s->mae = n ? abs_sum / (double)n : NAN;
    s->mse = n ? sq_sum / (double)n : NAN;
    s->r2 = n && sst > 0.0 ? 1.0 - sq_sum / sst : NAN;
}

/* The maximum of a predicted smoothed path over the window, then its scores. */
static void score_path(const struct hindcast_plan *p, const struct hindcast_cycle *c,
                       const double *pred, struct hindcast_score *s)
{
    memset(s, 0, sizeof *s);
    s->mae = s->mse = s->r2 = NAN;
    long best = -1;
    for (size_t j = 0; j < HINDCAST_SPAN; j++)
        if (isfinite(pred[j]) && (best < 0 || pred[j] > pred[best]))
            best = (long)j;
    if (best < 0)
        return;
    s->has = 1;
    s->runs = 1;
    s->max_value = pred[best];
    s->max_month = c->cutoff_month + 1 + (int)best;
    set_peak_errors(c, s);
    score_against_actual(p, c, pred, s);
}

static void score_baselines(struct hindcast_plan *p, size_t k)
{
    struct hindcast_cycle *c = &p->cycle[k];
    double path[HINDCAST_SPAN];
    for (int b = 0; b < HINDCAST_N_BASELINES; b++) {
        struct hindcast_score *s = &c->baseline[b];
        memset(s, 0, sizeof *s);
        s->mae = s->mse = s->r2 = NAN;
        if (!hindcast_baseline_path(p, k, (enum hindcast_baseline)b, path))
            score_path(p, c, path, s);
    }
    struct hindcast_score *panel = &c->baseline[HINDCAST_PANEL];
    if (c->number == HINDCAST_PANEL_CYCLE) {
        panel->has = 1;
        panel->runs = 1;
        panel->max_value = HINDCAST_PANEL_VALUE;
        panel->max_month = HINDCAST_PANEL_MONTH;
        set_peak_errors(c, panel);
    }
}

/* --- the plan ------------------------------------------------------------------------------- */

/* Cycle `number` of the found cycles into c (its cutoff and actual maximum). */
static int plan_cycle(const struct hindcast_plan *p, const struct solar_cycle *found, size_t count,
                      int number, struct hindcast_cycle *c, fw_error *err)
{
    const struct solar_cycle *sc = NULL;
    int lo = INT_MAX, hi = 0;
    for (size_t i = 0; i < count; i++) {
        if (found[i].number == number)
            sc = &found[i];
        if (found[i].number > 0)
            lo = found[i].number < lo ? found[i].number : lo, hi = found[i].number;
    }
    if (!sc)
        return hi ? fw_error_set(err, FW_EINVAL,
                                 "cycle %d is not in the series: its smoothed record has cycles "
                                 "%d-%d",
                                 number, lo, hi)
                  : fw_error_set(err, FW_EINVAL,
                                 "cycle %d is not in the series: it has no numbered solar cycle",
                                 number);
    memset(c, 0, sizeof *c);
    c->number = number;
    c->cutoff_index = sc->min.index;
    c->cutoff_month = sc->min.month;
    c->cutoff_value = sc->min.value;
    long best = -1;
    for (size_t j = 0; j < HINDCAST_SPAN && c->cutoff_index + 1 + j < p->n; j++) {
        double v = p->smoothed[c->cutoff_index + 1 + j];
        c->n_scored = isfinite(v) ? j + 1 : c->n_scored;
        if (isfinite(v) && (best < 0 || v > p->smoothed[c->cutoff_index + 1 + best]))
            best = (long)j;
    }
    if (best < 0) {
        char m[PERIOD_TEXT_MAX];
        period_format(c->cutoff_month, m);
        return fw_error_set(err, FW_EINVAL,
                            "cycle %d starts at %s: the series has no smoothed month after it",
                            number, m);
    }
    c->actual_value = p->smoothed[c->cutoff_index + 1 + best];
    c->actual_month = c->cutoff_month + 1 + (int)best;
    return FW_OK;
}

static int plan_cycles(struct hindcast_plan *p, int from, int to, fw_error *err)
{
    size_t cap = cycle_capacity(p->n, NULL), count = 0;
    struct solar_cycle *found = malloc((cap ? cap : 1) * sizeof *found);
    p->minima = malloc((cap ? cap : 1) * sizeof *p->minima);
    if (!found || !p->minima) {
        free(found);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    int rc = cycle_find(p->smoothed, p->n, p->first_month, NULL, found, cap, &count);
    if (rc)
        fw_error_set(err, rc, "finding the solar cycles: %s", fw_strerror(rc));
    for (size_t i = 0; !rc && i < count; i++)
        p->minima[p->n_minima++] = found[i].min.index;
    for (int number = from; !rc && number <= to; number++)
        rc = plan_cycle(p, found, count, number, &p->cycle[p->n_cycles++], err);
    free(found);
    return rc;
}

int hindcast_plan_make(const double *values, size_t n, int first_month, int from, int to,
                       struct hindcast_plan *out, fw_error *err)
{
    memset(out, 0, sizeof *out);
    if (from < 1 || to < from || to - from >= HINDCAST_MAX_CYCLES)
        return fw_error_set(err, FW_EINVAL, "cycles %d-%d: not a range of at most %d cycles", from,
                            to, HINDCAST_MAX_CYCLES);
    if (!values || n == 0)
        return fw_error_set(err, FW_EINVAL, "the series is empty");
    out->values = values;
    out->n = n;
    out->first_month = first_month;
    out->smoothed = malloc(n * sizeof *out->smoothed);
    if (!out->smoothed)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    smooth13(values, n, out->smoothed);
    int rc = plan_cycles(out, from, to, err);
    for (size_t k = 0; !rc && k < out->n_cycles; k++)
        score_baselines(out, k);
    if (rc)
        hindcast_plan_free(out);
    return rc;
}

void hindcast_plan_free(struct hindcast_plan *p)
{
    free(p->smoothed);
    free(p->minima);
    memset(p, 0, sizeof *p);
}

/* --- the model ------------------------------------------------------------------------------ */

int hindcast_score_forecast(const struct hindcast_plan *p, size_t k, const double *path,
                            struct hindcast_score *out)
{
    for (size_t i = 0; i < HINDCAST_HORIZON; i++)
        if (!isfinite(path[i]))
            return FW_EINVAL;
    const struct hindcast_cycle *c = &p->cycle[k];
    size_t head = c->cutoff_index + 1;
    double smoothed[HINDCAST_HORIZON];
    smooth13_joined(p->values, head, path, HINDCAST_HORIZON, head, smoothed);
    score_path(p, c, smoothed, out);
    return out->has ? FW_OK : FW_EINVAL;
}

static double total_seconds(const struct train_state *s)
{
    double t = 0.0;
    for (int e = 0; e < s->epochs_done; e++)
        t += s->curve[e].seconds;
    return t;
}

int hindcast_fit_forecast(void *ctx, const struct fit_request *rq, const double *history, size_t n,
                          int first_month, double *path, struct hindcast_fit *fit, fw_error *err)
{
    const struct hindcast_fitter *fx = ctx;
    struct train_state state;
    struct forecaster *f = NULL;
    int rc = fit_run(rq, history, n, first_month, fx ? fx->data_sha256 : NULL, NULL, 0,
                     fx ? fx->cb : NULL, fx ? fx->cancel : NULL, &state, &f, err);
    if (!rc && f->model->horizon < HINDCAST_HORIZON)
        rc = fw_error_set(err, FW_EINVAL,
                          "the model forecasts %d months: the hindcast needs horizon=%d",
                          f->model->horizon, HINDCAST_HORIZON);
    if (!rc)
        rc = forecaster_predict(f, history, n, HINDCAST_HORIZON, NULL, 0, NULL, path, NULL, NULL,
                                NULL, err);
    if (!rc) {
        fit->epochs = state.epochs_done;
        fit->best_epoch = state.best_epoch;
        fit->parameters = (int64_t)f->model->n_params;
        fit->train_seconds = total_seconds(&state);
    }
    forecaster_free(f);
    train_state_free(&state);
    return rc;
}

int hindcast_run_cycle(const struct hindcast_plan *p, size_t k, const struct fit_request *recipe,
                       hindcast_train_fn train, void *ctx, struct hindcast_score *score,
                       struct hindcast_fit *fit, fw_error *err)
{
    const struct hindcast_cycle *c = &p->cycle[k];
    struct fit_request rq = *recipe;
    rq.protocol = PROTOCOL_LIVE;
    rq.cutoff_month = c->cutoff_month;
    double path[HINDCAST_HORIZON];
    memset(fit, 0, sizeof *fit);
    int rc = train(ctx, &rq, p->values, c->cutoff_index + 1, p->first_month, path, fit, err);
    if (rc && !err->msg[0])
        fw_error_set(err, rc, "cycle %d: %s", c->number, fw_strerror(rc));
    if (!rc && hindcast_score_forecast(p, k, path, score))
        rc = fw_error_set(err, FW_ERANGE, "cycle %d: the forecast is not finite", c->number);
    return rc;
}

/* --- means ---------------------------------------------------------------------------------- */

void hindcast_mean_init(struct hindcast_mean *m)
{
    memset(m, 0, sizeof *m);
}

void hindcast_mean_add(struct hindcast_mean *m, const struct hindcast_score *s)
{
    if (!s->has)
        return;
    m->cycles++;
    m->amplitude_error += s->amplitude_error;
    m->timing_error += s->timing_error;
    if (s->has_path && isfinite(s->mae)) {
        m->mae_cycles++;
        m->mae += s->mae;
    }
}

void hindcast_mean_finish(struct hindcast_mean *m)
{
    m->amplitude_error = m->cycles ? m->amplitude_error / (double)m->cycles : NAN;
    m->timing_error = m->cycles ? m->timing_error / (double)m->cycles : NAN;
    m->mae = m->mae_cycles ? m->mae / (double)m->mae_cycles : NAN;
}

int hindcast_run(const double *values, size_t n, int first_month, int from, int to,
                 const struct fit_request *recipe, hindcast_train_fn train, void *ctx,
                 struct hindcast_result *out, fw_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = hindcast_plan_make(values, n, first_month, from, to, &out->plan, err);
    const struct hindcast_plan *p = &out->plan;
    for (size_t k = 0; !rc && k < p->n_cycles; k++)
        rc = hindcast_run_cycle(p, k, recipe, train, ctx, &out->model[k], &out->fit[k], err);
    if (rc) {
        hindcast_result_free(out);
        return rc;
    }
    hindcast_mean_init(&out->model_mean);
    for (int b = 0; b < HINDCAST_N_BASELINES; b++)
        hindcast_mean_init(&out->baseline_mean[b]);
    for (size_t k = 0; k < p->n_cycles; k++) {
        hindcast_mean_add(&out->model_mean, &out->model[k]);
        for (int b = 0; b < HINDCAST_N_BASELINES; b++)
            hindcast_mean_add(&out->baseline_mean[b], &p->cycle[k].baseline[b]);
    }
    hindcast_mean_finish(&out->model_mean);
    for (int b = 0; b < HINDCAST_N_BASELINES; b++)
        hindcast_mean_finish(&out->baseline_mean[b]);
    return FW_OK;
}

void hindcast_result_free(struct hindcast_result *r)
{
    hindcast_plan_free(&r->plan);
    memset(r, 0, sizeof *r);
}
