/* hindcast_report — stored hindcast runs, their groups per recipe and the report's JSON (see
 * hindcast_report.h). */
#include "core/hindcast_report.h"
#include "base/period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hindcast_task_name(int cycle, char buf[RESULT_TEXT_MAX])
{
    snprintf(buf, RESULT_TEXT_MAX, "cycle-%02d", cycle);
}

int hindcast_task_cycle(const char *task)
{
    int cycle = -1, used = 0;
    if (strncmp(task, "cycle-", 6) || sscanf(task + 6, "%3d%n", &cycle, &used) != 1 ||
        task[6 + used] || used < 2 || cycle < 1)
        return -1;
    return cycle;
}

void hindcast_row_fill(struct result_row *row, const struct hindcast_score *s,
                       const struct hindcast_fit *fit)
{
    row->mae = s->mae;
    row->mse = s->mse;
    row->r2 = isfinite(s->r2) ? s->r2 : 0.0;
    row->peak_amplitude_error = s->amplitude_bias;
    row->peak_timing_error = s->timing_bias;
    row->n_windows = (int64_t)s->n_scored;
    row->parameters = fit->parameters;
    row->best_epoch = fit->best_epoch;
    row->train_seconds = fit->train_seconds;
}

/* --- groups --------------------------------------------------------------------------------- */

static int passes(const struct hindcast_filter *f, const struct result_row *r)
{
    if (!f)
        return 1;
    if ((f->architecture && strcmp(f->architecture, r->architecture)) ||
        (f->config && strcmp(f->config, r->config)) ||
        (f->data_sha256 && strcmp(f->data_sha256, r->data_sha256)) ||
        (f->epochs && f->epochs != r->epochs))
        return 0;
    if (!f->seeds)
        return 1;
    for (size_t i = 0; i < f->n_seeds; i++)
        if (f->seeds[i] == r->seed)
            return 1;
    return 0;
}

static struct hindcast_group *group_of(struct hindcast_group *list, size_t *n,
                                       const struct result_row *r)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i].architecture, r->architecture) && !strcmp(list[i].config, r->config) &&
            !strcmp(list[i].data_sha256, r->data_sha256) && list[i].epochs == r->epochs)
            return &list[i];
    struct hindcast_group *g = &list[(*n)++];
    memset(g, 0, sizeof *g);
    snprintf(g->architecture, sizeof g->architecture, "%s", r->architecture);
    snprintf(g->config, sizeof g->config, "%s", r->config);
    snprintf(g->data_sha256, sizeof g->data_sha256, "%s", r->data_sha256);
    g->epochs = r->epochs;
    g->parameters = r->parameters;
    return g;
}

static void add_seed(struct hindcast_group *g, int64_t seed)
{
    for (size_t i = 0; i < g->n_seeds; i++)
        if (g->seeds[i] == seed)
            return;
    if (g->n_seeds < HINDCAST_MAX_SEEDS)
        g->seeds[g->n_seeds++] = seed;
}

/* Sums one run into its cycle's score (hindcast_group_finish turns the sums into means). */
static void add_run(struct hindcast_score *s, const struct result_row *r)
{
    s->has = 1;
    s->runs++;
    s->amplitude_bias += r->peak_amplitude_error;
    s->timing_bias += r->peak_timing_error;
    s->amplitude_error += fabs(r->peak_amplitude_error);
    s->timing_error += fabs(r->peak_timing_error);
    s->mae += r->mae;
    s->mse += r->mse;
    s->r2 += r->r2;
    s->n_scored = r->n_windows > 0 ? (size_t)r->n_windows : 0;
}

static void finish_group(const struct hindcast_plan *p, struct hindcast_group *g)
{
    hindcast_mean_init(&g->mean);
    for (size_t k = 0; k < p->n_cycles; k++) {
        struct hindcast_score *s = &g->cycle[k];
        if (!s->has) {
            s->mae = s->mse = s->r2 = NAN;
            continue;
        }
        double n = (double)s->runs;
        s->amplitude_bias /= n, s->timing_bias /= n;
        s->amplitude_error /= n, s->timing_error /= n;
        s->mae /= n, s->mse /= n, s->r2 /= n;
        s->has_path = isfinite(s->mae);
        s->max_value = p->cycle[k].actual_value + s->amplitude_bias;
        s->max_month = p->cycle[k].actual_month + (int)lround(s->timing_bias);
        hindcast_mean_add(&g->mean, s);
    }
    hindcast_mean_finish(&g->mean);
}

int hindcast_groups(const struct hindcast_plan *p, const struct result_row *rows, size_t n,
                    const struct hindcast_filter *filter, struct hindcast_group **out,
                    size_t *n_out)
{
    struct hindcast_group *list = malloc((n ? n : 1) * sizeof *list);
    if (!list)
        return FW_ENOMEM;
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        const struct result_row *r = &rows[i];
        int k = strcmp(r->suite, HINDCAST_SUITE)
                    ? -1
                    : hindcast_plan_find(p, hindcast_task_cycle(r->task));
        if (k < 0 || !passes(filter, r))
            continue;
        struct hindcast_group *g = group_of(list, &groups, r);
        add_seed(g, r->seed);
        g->train_seconds += isfinite(r->train_seconds) ? r->train_seconds : 0.0;
        add_run(&g->cycle[k], r);
    }
    for (size_t i = 0; i < groups; i++)
        finish_group(p, &list[i]);
    *out = list;
    *n_out = groups;
    return FW_OK;
}

void hindcast_baseline_means(const struct hindcast_plan *p,
                             struct hindcast_mean out[HINDCAST_N_BASELINES])
{
    for (int b = 0; b < HINDCAST_N_BASELINES; b++) {
        hindcast_mean_init(&out[b]);
        for (size_t k = 0; k < p->n_cycles; k++)
            hindcast_mean_add(&out[b], &p->cycle[k].baseline[b]);
        hindcast_mean_finish(&out[b]);
    }
}

/* --- JSON ----------------------------------------------------------------------------------- */

static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *month_json(int month)
{
    char text[PERIOD_TEXT_MAX];
    period_format(month, text);
    return json_string(text);
}

static json_t *peak_json(int month, double value)
{
    return json_pack("{s:o, s:o}", "month", month_json(month), "value", number(value));
}

static json_t *score_json(int cycle, const struct hindcast_score *s)
{
    return json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:i}", "cycle", cycle, "runs",
                     s->runs, "max", peak_json(s->max_month, s->max_value), "amplitude_error",
                     number(s->amplitude_error), "timing_error", number(s->timing_error),
                     "amplitude_bias", number(s->amplitude_bias), "timing_bias",
                     number(s->timing_bias), "mae", number(s->has_path ? s->mae : NAN),
                     "scored_months", (int)(s->has_path ? s->n_scored : 0));
}

static json_t *mean_json(const struct hindcast_mean *m)
{
    return json_pack("{s:i, s:o, s:o, s:i, s:o}", "cycles", (int)m->cycles, "amplitude_error",
                     number(m->amplitude_error), "timing_error", number(m->timing_error),
                     "mae_cycles", (int)m->mae_cycles, "mae", number(m->mae));
}

/* {"cycles": [per-cycle scores the method has], "means": ...} merged into o (stolen). */
static json_t *method_json(json_t *o, const struct hindcast_plan *p,
                           const struct hindcast_score *first, size_t stride,
                           const struct hindcast_mean *mean)
{
    json_t *list = json_array();
    if (!o || !list)
        goto fail;
    for (size_t k = 0; k < p->n_cycles; k++) {
        const struct hindcast_score *s =
            (const struct hindcast_score *)((const char *)first + k * stride);
        if (s->has && json_array_append_new(list, score_json(p->cycle[k].number, s)))
            goto fail;
    }
    int failed = json_object_set_new(o, "cycles", list); /* steals list, also on failure */
    list = NULL;
    if (failed || json_object_set_new(o, "means", mean_json(mean)))
        goto fail;
    return o;
fail:
    json_decref(list);
    json_decref(o);
    return NULL;
}

static json_t *cycles_json(const struct hindcast_plan *p)
{
    json_t *list = json_array();
    for (size_t k = 0; list && k < p->n_cycles; k++) {
        const struct hindcast_cycle *c = &p->cycle[k];
        if (json_array_append_new(list, json_pack("{s:i, s:o, s:o, s:i, s:o}", "cycle", c->number,
                                                  "cutoff", month_json(c->cutoff_month), "minimum",
                                                  number(c->cutoff_value), "scored_months",
                                                  (int)c->n_scored, "actual",
                                                  peak_json(c->actual_month, c->actual_value)))) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *baselines_json(const struct hindcast_plan *p)
{
    static const char *const about[] = {
        "for month k after the minimum, the mean over every earlier cycle of its smoothed value "
        "k months after its own minimum (values known at the cutoff)",
        "the previous cycle's smoothed curve from its minimum (values known at the cutoff)",
        "Solar Cycle 25 Prediction Panel (NOAA, NASA, ISES), December 2019: maximum 115 in "
        "2025-07 (cycle 25 only; no path)"};
    struct hindcast_mean means[HINDCAST_N_BASELINES];
    hindcast_baseline_means(p, means);
    json_t *list = json_array();
    for (int b = 0; list && b < HINDCAST_N_BASELINES; b++) {
        json_t *o = json_pack("{s:s, s:s}", "method", hindcast_baseline_name(b), "about", about[b]);
        const struct hindcast_score *first = &p->cycle[0].baseline[b];
        if (json_array_append_new(list, method_json(o, p, first, sizeof p->cycle[0], &means[b]))) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *group_json(const struct hindcast_plan *p, const struct hindcast_group *g)
{
    json_t *seeds = json_array();
    for (size_t i = 0; seeds && i < g->n_seeds; i++)
        if (json_array_append_new(seeds, json_integer(g->seeds[i]))) {
            json_decref(seeds);
            seeds = NULL;
        }
    if (!seeds)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:o, s:f}", "method", "model",
                          "architecture", g->architecture, "config", g->config, "epochs", g->epochs,
                          "data_sha256", g->data_sha256, "parameters", (json_int_t)g->parameters,
                          "seeds", seeds, "train_seconds", g->train_seconds);
    return method_json(o, p, &g->cycle[0], sizeof g->cycle[0], &g->mean);
}

json_t *hindcast_report_json(const struct hindcast_plan *p, const char *data_sha256,
                             const struct hindcast_group *groups, size_t n_groups)
{
    json_t *models = json_array();
    for (size_t i = 0; models && i < n_groups; i++)
        if (json_array_append_new(models, group_json(p, &groups[i]))) {
            json_decref(models);
            models = NULL;
        }
    if (!models)
        return NULL;
    return json_pack("{s:s, s:i, s:i, s:s?, s:o, s:o, s:o}", "suite", HINDCAST_SUITE, "horizon",
                     HINDCAST_HORIZON, "window_months", HINDCAST_SPAN, "data_sha256",
                     data_sha256 && *data_sha256 ? data_sha256 : NULL, "cycles", cycles_json(p),
                     "baselines", baselines_json(p), "models", models);
}
