/* cmd_hindcast — `fwpcast hindcast`: the cycle hindcast suite (core/hindcast.h). For each cycle
 * of the range and each seed, a model of the recipe (architecture, config, epochs) is trained on
 * the months up to the cycle's smoothed minimum and scored on the 132 months after; each run is
 * stored in the results table as soon as it ends (suite "hindcast", task "cycle-NN";
 * core/hindcast_report.h has the columns), so a rerun resumes and trains only what is missing.
 * Ends with the table (cycle, cutoff, the actual maximum, the model's maximum and errors, the
 * baselines' errors, the means over the cycles) or, with --json, the report on one line. */
#include "cli/cli.h"
#include "cli/series_source.h"
#include "core/hindcast.h"
#include "core/hindcast_report.h"
#include "base/period.h"
#include "db/db.h"
#include "db/results.h"
#include "model/config.h"
#include "model/model.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hindcast_args {
    const char *cycles, *model, *seed, *seeds, *config, *dataset, *db;
    long epochs, threads;
    int json, quiet;
    int from, to;
    int64_t seed_list[HINDCAST_MAX_SEEDS];
    size_t n_seeds;
    char resolved[RESULT_CONFIG_MAX]; /* the key's config */
    int64_t parameters;               /* 0 until trained when the registry cannot tell */
};

/* "0-4", "0,2,7" or a mix ("0-2,5"): distinct seeds in order. */
static int parse_seeds(const char *text, int64_t *list, size_t *n)
{
    char buf[256], *save = NULL;
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    *n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        long lo, hi;
        if (dash)
            *dash = '\0';
        if (cli_parse_long(tok, 0, 0x7fffffffL, &lo) ||
            (dash ? cli_parse_long(dash + 1, lo, 0x7fffffffL, &hi) : (hi = lo, 0)))
            return -1;
        for (long s = lo; s <= hi; s++) {
            int seen = 0;
            for (size_t i = 0; i < *n; i++)
                seen |= list[i] == s;
            if (!seen && *n == HINDCAST_MAX_SEEDS)
                return -1;
            if (!seen)
                list[(*n)++] = s;
        }
    }
    return *n ? 0 : -1;
}

static int parse_number(const char *flag, const char *text, long max, long *out)
{
    if (cli_parse_long(text, 1, max, out))
        return cli_fail("hindcast", "%s: '%s' is not a number in 1..%ld", flag, text, max);
    return 0;
}

static int parse_options(int argc, char **argv, struct hindcast_args *a)
{
    static const struct option options[] = {
        {"cycles", required_argument, 0, 'c'},  {"model", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 's'},    {"seeds", required_argument, 0, 'S'},
        {"epochs", required_argument, 0, 'e'},  {"config", required_argument, 0, 'C'},
        {"threads", required_argument, 0, 't'}, {"dataset", required_argument, 0, 'd'},
        {"db", required_argument, 0, 'D'},      {"json", no_argument, 0, 'j'},
        {"quiet", no_argument, 0, 'q'},         {0, 0, 0, 0}};
    const char **text[128] = {0};
    text['c'] = &a->cycles, text['m'] = &a->model, text['s'] = &a->seed, text['S'] = &a->seeds;
    text['C'] = &a->config, text['d'] = &a->dataset, text['D'] = &a->db;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c > 0 && c < 128 && text[c])
            *text[c] = optarg;
        else if (c == 'j' || c == 'q')
            *(c == 'j' ? &a->json : &a->quiet) = 1;
        else if (c == 'e' || c == 't') {
            if (c == 'e' ? parse_number("--epochs", optarg, 100000, &a->epochs)
                         : parse_number("--threads", optarg, 256, &a->threads))
                return -1;
        } else
            return cli_fail("hindcast", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_fail("hindcast", "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int parse_args(int argc, char **argv, struct hindcast_args *a)
{
    if (parse_options(argc, argv, a))
        return -1;
    if (a->seed && a->seeds)
        return cli_fail("hindcast", "give --seed N or --seeds LIST, not both");
    const char *seeds = a->seeds ? a->seeds : a->seed ? a->seed : "0";
    if (parse_seeds(seeds, a->seed_list, &a->n_seeds) || (a->seed && a->n_seeds != 1))
        return cli_fail("hindcast", "%s: '%s' is not like %s (at most %d seeds)",
                        a->seeds ? "--seeds" : "--seed", seeds, a->seeds ? "0-4 or 0,2,5" : "3",
                        HINDCAST_MAX_SEEDS);
    fw_error err = {0};
    if (hindcast_parse_cycles(a->cycles, &a->from, &a->to, &err))
        return cli_fail("hindcast", "--%s", err.msg);
    return 0;
}

/* The recipe's config: the given options, window=528 and horizon=132 unless given, resolved by
 * the model when the registry has the architecture (its parameter count and horizon checked
 * too); otherwise (an architecture fit_run resolves itself) as given, normalised. */
static int resolve_config(struct hindcast_args *a, fw_error *err)
{
    struct model_config cfg;
    char text[RESULT_CONFIG_MAX] = "";
    int rc = config_parse(&cfg, a->config ? a->config : "", err);
    int has_window = 0, has_horizon = 0;
    for (size_t i = 0; !rc && i < cfg.n; i++) {
        has_window |= !strcmp(cfg.options[i].key, "window");
        has_horizon |= !strcmp(cfg.options[i].key, "horizon");
    }
    if (!rc && !has_window)
        rc = config_set(&cfg, "window", "528", err);
    if (!rc && !has_horizon)
        rc = config_set(&cfg, "horizon", "132", err);
    if (!rc && config_format(&cfg, text, sizeof text))
        rc = fw_error_set(err, FW_ERANGE, "the configuration is too long");
    if (rc || !model_find(a->model)) {
        snprintf(a->resolved, sizeof a->resolved, "%s", text);
        return rc;
    }
    struct model *m = NULL;
    if ((rc = model_create(a->model, text, 0, &m, err)))
        return rc;
    if (m->horizon != HINDCAST_HORIZON)
        rc = fw_error_set(err, FW_EINVAL,
                          "horizon=%d: the hindcast forecasts %d months (give "
                          "horizon=%d or leave it out)",
                          m->horizon, HINDCAST_HORIZON, HINDCAST_HORIZON);
    if (!rc && config_format(&m->config, a->resolved, sizeof a->resolved))
        rc = fw_error_set(err, FW_ERANGE, "the configuration of %s is too long", a->model);
    a->parameters = (int64_t)m->n_params;
    model_destroy(m);
    return rc;
}

/* --- the runs ------------------------------------------------------------------------------- */

static void run_progress(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    const struct hindcast_args *a = ctx;
    if (!a->quiet && (p->epoch == p->epochs || p->epoch % 10 == 0))
        fprintf(stderr, "  epoch %3d/%d  train %.6f  val %.6f  %.2fs\n", p->epoch, p->epochs,
                p->train_loss, p->val_loss, p->seconds);
}

static void key_row(const struct hindcast_args *a, const struct month_series *src, int cycle,
                    int64_t seed, struct result_row *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->suite, sizeof row->suite, "%s", HINDCAST_SUITE);
    hindcast_task_name(cycle, row->task);
    snprintf(row->architecture, sizeof row->architecture, "%s", a->model);
    snprintf(row->config, sizeof row->config, "%s", a->resolved);
    snprintf(row->data_sha256, sizeof row->data_sha256, "%s", src->sha256);
    row->seed = seed;
    row->epochs = (int)a->epochs;
}

/* Trains cycle k with one seed and stores the run. */
static int train_one(const struct hindcast_args *a, const struct hindcast_plan *p, size_t k,
                     const struct month_series *src, struct result_row *row, fw_error *err)
{
    struct fit_request rq = {.architecture = a->model, .config = a->resolved, .cutoff_month = -1};
    train_options_default(&rq.train);
    rq.train.epochs = (int)a->epochs;
    rq.train.seed = (uint64_t)row->seed;
    rq.train.threads = (int)a->threads;
    struct fit_callbacks cb = {NULL, run_progress, (void *)a};
    struct hindcast_fitter fx = {src->sha256, &cb, NULL};
    struct hindcast_score score;
    struct hindcast_fit fit;
    int rc = hindcast_run_cycle(p, k, &rq, hindcast_fit_forecast, &fx, &score, &fit, err);
    if (!rc)
        hindcast_row_fill(row, &score, &fit);
    return rc;
}

static int run_all(const struct hindcast_args *a, sqlite3 *db, const struct hindcast_plan *p,
                   const struct month_series *src, fw_error *err)
{
    for (size_t k = 0; k < p->n_cycles; k++)
        for (size_t s = 0; s < a->n_seeds; s++) {
            struct result_row row;
            key_row(a, src, p->cycle[k].number, a->seed_list[s], &row);
            int found = 0, rc = results_find(db, &row, &found, err);
            if (rc)
                return rc;
            if (!a->quiet)
                fprintf(stderr, "%s %s seed %lld: %s%s\n", row.task, a->model, (long long)row.seed,
                        found ? "stored " : "training", found ? row.created_at : "");
            if (found)
                continue;
            if ((rc = train_one(a, p, k, src, &row, err)) || (rc = results_insert(db, &row, err)))
                return rc;
            if (!a->quiet)
                fprintf(stderr,
                        "%s %s seed %lld: amplitude %+.1f, timing %+.0f months, MAE %.1f, "
                        "%.1f s\n",
                        row.task, a->model, (long long)row.seed, row.peak_amplitude_error,
                        row.peak_timing_error, row.mae, row.train_seconds);
        }
    return FW_OK;
}

/* --- the table ------------------------------------------------------------------------------ */

static void cell(double v, const char *fmt)
{
    if (isfinite(v))
        printf(" | "), printf(fmt, v);
    else
        printf(" | -");
}

static void peak_cell(int has, double value, int month)
{
    char m[PERIOD_TEXT_MAX];
    period_format(month, m);
    if (has)
        printf(" | %.1f (%s)", value, m);
    else
        printf(" | -");
}

static void score_cells(const struct hindcast_score *s, int with_mae)
{
    cell(s->has ? s->amplitude_error : NAN, "%.1f");
    cell(s->has ? s->timing_error : NAN, "%.1f");
    if (with_mae)
        cell(s->has && s->has_path ? s->mae : NAN, "%.1f");
}

static void mean_cells(const struct hindcast_mean *m, int with_mae)
{
    cell(m->amplitude_error, "%.1f");
    cell(m->timing_error, "%.1f");
    if (with_mae)
        cell(m->mae, "%.1f");
}

static void print_table(const struct hindcast_args *a, const struct hindcast_plan *p,
                        const struct hindcast_group *g)
{
    static const struct hindcast_group none;
    g = g ? g : &none;
    printf("\ncycle hindcast, %s (%s), %ld epochs, %zu seed%s\n\n", a->model, a->resolved,
           a->epochs, a->n_seeds, a->n_seeds == 1 ? "" : "s");
    printf("| cycle | cutoff | actual max | model max | amplitude error | timing error | MAE "
           "| mean-cycle amplitude | timing | MAE | persistence amplitude | timing | MAE "
           "| panel amplitude | timing |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < p->n_cycles; k++) {
        const struct hindcast_cycle *c = &p->cycle[k];
        char cut[PERIOD_TEXT_MAX];
        period_format(c->cutoff_month, cut);
        printf("| %d | %s", c->number, cut);
        peak_cell(1, c->actual_value, c->actual_month);
        peak_cell(g->cycle[k].has, g->cycle[k].max_value, g->cycle[k].max_month);
        score_cells(&g->cycle[k], 1);
        for (int b = 0; b < HINDCAST_N_BASELINES; b++)
            score_cells(&c->baseline[b], b != HINDCAST_PANEL);
        printf(" |\n");
    }
    struct hindcast_mean means[HINDCAST_N_BASELINES];
    hindcast_baseline_means(p, means);
    printf("| mean | | |");
    mean_cells(&g->mean, 1);
    for (int b = 0; b < HINDCAST_N_BASELINES; b++)
        mean_cells(&means[b], b != HINDCAST_PANEL);
    printf(" |\n");
}

/* The stored runs of this recipe and these seeds: the table, or the report on one line. */
static int report(const struct hindcast_args *a, sqlite3 *db, const struct hindcast_plan *p,
                  const struct month_series *src, fw_error *err)
{
    struct result_row *rows = NULL;
    struct hindcast_group *groups = NULL;
    size_t n = 0, m = 0;
    struct hindcast_filter f = {a->model,       a->resolved,  src->sha256,
                                (int)a->epochs, a->seed_list, a->n_seeds};
    int rc = results_list(db, HINDCAST_SUITE, NULL, &rows, &n, err);
    if (!rc && (rc = hindcast_groups(p, rows, n, &f, &groups, &m)))
        fw_error_set(err, rc, "out of memory");
    free(rows);
    if (rc)
        return rc;
    if (a->json) {
        if (cli_print_json(hindcast_report_json(p, src->sha256, groups, m)))
            rc = fw_error_set(err, FW_ENOMEM, "out of memory writing the report");
    } else {
        print_table(a, p, m ? &groups[0] : NULL);
    }
    free(groups);
    return rc;
}

static int run(struct hindcast_args *a, const struct month_series *src, fw_error *err)
{
    struct hindcast_plan plan;
    sqlite3 *db = NULL;
    int rc = hindcast_plan_make(src->values, src->n, src->first_month, a->from, a->to, &plan, err);
    if (rc)
        return rc;
    if (!a->quiet)
        fprintf(stderr, "fwpcast hindcast: data %s; cycles %d-%d x %zu seeds, %s, %ld epochs\n",
                src->label, a->from, a->to, a->n_seeds, a->model, a->epochs);
    rc = db_open(cli_db_path(a->db), &db, err);
    if (!rc)
        rc = db_migrate(db, NULL, err);
    if (!rc)
        rc = run_all(a, db, &plan, src, err);
    if (!rc)
        rc = report(a, db, &plan, src, err);
    db_close(db);
    hindcast_plan_free(&plan);
    return rc;
}

int cmd_hindcast(int argc, char **argv)
{
    struct hindcast_args a = {
        .cycles = "21-25", .model = "gated-qkan-fwp", .epochs = 100, .threads = 1};
    if (parse_args(argc, argv, &a))
        return 2;
    fw_error err = {0};
    if (resolve_config(&a, &err))
        return cli_fail("hindcast", "%s", err.msg) + 1;
    struct month_series src;
    if (series_source_load(a.dataset, a.db, &src, &err))
        return cli_fail("hindcast", "%s", err.msg);
    int rc = run(&a, &src, &err);
    month_series_free(&src);
    return rc ? cli_fail("hindcast", "%s", err.msg[0] ? err.msg : fw_strerror(rc)) : 0;
}
