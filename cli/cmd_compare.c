/* cmd_compare — `fwpcast compare` (every model on the paper's solar protocol, several seeds)
 * and `fwpcast benchmark --suite timeseries` (paper.md §3.2). Each run is trained, evaluated on
 * its test windows and stored in the database's results table as soon as it ends, so a
 * comparison that stops resumes where it was; runs already stored are not repeated. Both end
 * with the per-model table (mean ± sample sd over the seeds). */
#include "cli/cli.h"
#include "cli/series_source.h"
#include "db/db.h"
#include "db/results.h"
#include "base/sha256.h"
#include "model/fit.h"
#include "model/forecaster.h"
#include "model/tsdata.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 64

struct compare_args {
    const char *cmd, *suite, *protocol, *models, *datasets, *seeds, *dataset, *db;
    long epochs, threads;
    int json, quiet;
    const char *model_list[MAX_ITEMS], *task_list[MAX_ITEMS];
    size_t n_models, n_tasks;
    long seed_list[MAX_ITEMS];
    size_t n_seeds;
    char model_buf[1024], task_buf[1024];
};

/* "all" or a comma list into list (pointers into buf). */
static int split_list(const char *text, char *buf, size_t cap, const char **list, size_t *n)
{
    if (snprintf(buf, cap, "%s", text) >= (int)cap)
        return -1;
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_ITEMS)
            return -1;
        list[(*n)++] = tok;
    }
    return *n ? 0 : -1;
}

/* "0-4", "0,2,7" or a mix ("0-2,5"). */
static int parse_seeds(const char *text, long *list, size_t *n)
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
            if (*n == MAX_ITEMS)
                return -1;
            list[(*n)++] = s;
        }
    }
    return *n ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct compare_args *a)
{
    static const struct option options[] = {
        {"suite", required_argument, 0, 'S'},   {"protocol", required_argument, 0, 'p'},
        {"models", required_argument, 0, 'm'},  {"datasets", required_argument, 0, 'T'},
        {"seeds", required_argument, 0, 's'},   {"epochs", required_argument, 0, 'e'},
        {"threads", required_argument, 0, 't'}, {"dataset", required_argument, 0, 'd'},
        {"db", required_argument, 0, 'D'},      {"json", no_argument, 0, 'j'},
        {"quiet", no_argument, 0, 'q'},         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'S':
            a->suite = optarg;
            break;
        case 'p':
            a->protocol = optarg;
            break;
        case 'm':
            a->models = optarg;
            break;
        case 'T':
            a->datasets = optarg;
            break;
        case 's':
            a->seeds = optarg;
            break;
        case 'd':
            a->dataset = optarg;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'e':
            if (cli_parse_long(optarg, 1, 100000, &a->epochs))
                return cli_fail(a->cmd, "--epochs: '%s' is not a number in 1..100000", optarg);
            break;
        case 't':
            if (cli_parse_long(optarg, 1, 256, &a->threads))
                return cli_fail(a->cmd, "--threads: '%s' is not a number in 1..256", optarg);
            break;
        default:
            return cli_fail(a->cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail(a->cmd, "unexpected argument '%s'", argv[optind]);
    if (parse_seeds(a->seeds, a->seed_list, &a->n_seeds))
        return cli_fail(a->cmd, "--seeds: '%s' is not like 0-4 or 0,2,5 (at most %d seeds)",
                        a->seeds, MAX_ITEMS);
    return 0;
}

/* The requested models: "all" (the registry, or those with a time-series configuration) or a
 * list of registered names. */
static int resolve_models(struct compare_args *a, int timeseries)
{
    if (!strcmp(a->models, "all")) {
        a->n_models = 0;
        for (size_t i = 0; i < model_registry_count() && a->n_models < MAX_ITEMS; i++) {
            const char *name = model_registry_at(i)->name;
            if (!timeseries || tsdata_model_config(name))
                a->model_list[a->n_models++] = name;
        }
        return 0;
    }
    if (split_list(a->models, a->model_buf, sizeof a->model_buf, a->model_list, &a->n_models))
        return cli_fail(a->cmd, "--models: give 'all' or a comma list of at most %d names",
                        MAX_ITEMS);
    for (size_t i = 0; i < a->n_models; i++) {
        if (!model_find(a->model_list[i]))
            return cli_fail(a->cmd,
                            "--models: unknown architecture '%s' (see fwpcast "
                            "architectures)",
                            a->model_list[i]);
        if (timeseries && !tsdata_model_config(a->model_list[i]))
            return cli_fail(a->cmd, "--models: '%s' has no time-series configuration",
                            a->model_list[i]);
    }
    return 0;
}

/* The model's resolved configuration and parameter count, without training it. */
static int resolve_config(const char *arch, const char *config, char *resolved, size_t cap,
                          int64_t *parameters, fw_error *err)
{
    struct model *m = NULL;
    int rc = model_create(arch, config, 0, &m, err);
    if (rc)
        return rc;
    if (config_format(&m->config, resolved, cap))
        rc = fw_error_set(err, FW_ERANGE, "the configuration of %s is too long", arch);
    *parameters = (int64_t)m->n_params;
    model_destroy(m);
    return rc;
}

/* --- one run ------------------------------------------------------------------------------ */

static void run_progress(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    const struct compare_args *a = ctx;
    if (!a->quiet && (p->epoch == p->epochs || p->epoch % 10 == 0))
        fprintf(stderr, "  epoch %3d/%d  train %.6f  val %.6f  %.2fs\n", p->epoch, p->epochs,
                p->train_loss, p->val_loss, p->seconds);
}

static double total_seconds(const struct train_state *s)
{
    double t = 0.0;
    for (int e = 0; e < s->epochs_done; e++)
        t += s->curve[e].seconds;
    return t;
}

/* The paper protocol through the shared pipeline (what `fwpcast train` runs). */
static int run_solar(const struct compare_args *a, const struct month_series *src,
                     struct result_row *row, fw_error *err)
{
    struct fit_request rq = {.architecture = row->architecture,
                             .config = row->config,
                             .protocol = PROTOCOL_PAPER,
                             .cutoff_month = -1};
    train_options_default(&rq.train);
    rq.train.epochs = (int)a->epochs;
    rq.train.seed = (uint64_t)row->seed;
    rq.train.threads = (int)a->threads;
    struct train_state state;
    struct forecaster *f = NULL;
    struct fit_callbacks cb = {NULL, run_progress, (void *)a};
    int rc = fit_run(&rq, src->values, src->n, src->first_month, src->sha256, NULL, 0, &cb, NULL,
                     &state, &f, err);
    if (!rc && !f->has_test_metrics)
        rc = fw_error_set(err, FW_EINVAL, "no test windows to evaluate");
    if (!rc) {
        row->best_epoch = state.best_epoch;
        row->train_seconds = total_seconds(&state);
        row->n_windows = (int64_t)f->test.n_windows;
        row->mse = f->test.scaled_mse;
        row->mae = f->test.scaled_mae;
        row->r2 = f->test.r2;
        row->peak_amplitude_error = f->test.peak_amplitude_error;
        row->peak_timing_error = f->test.peak_timing_error;
    }
    forecaster_free(f);
    train_state_free(&state);
    return rc;
}

/* paper.md §3.2: batch 4, Adam 1e-3 without decay, plain MSE, the last epoch's weights. */
static int run_timeseries(const struct compare_args *a, const struct split_plan *plan,
                          struct result_row *row, fw_error *err)
{
    struct model *m = NULL;
    struct forecaster *f = NULL;
    struct train_state state = {0};
    struct train_options o;
    train_options_default(&o);
    o.epochs = (int)a->epochs;
    o.batch_size = TSDATA_BATCH;
    o.lr = TSDATA_LR;
    o.lr_decay = 0.0;
    o.loss_alpha = 0.0;
    o.keep_last = 1;
    o.seed = (uint64_t)row->seed;
    o.threads = (int)a->threads;
    int rc = model_create(row->architecture, row->config, (uint64_t)row->seed, &m, err);
    if (!rc)
        rc = train_state_init(&state, m, &o);
    if (!rc)
        rc = train_run(m, plan, &o, &state, run_progress, (void *)a, NULL, err);
    if (!rc && !(rc = forecaster_create(m, &plan->scaler, &f)))
        m = NULL; /* the forecaster owns it */
    struct forecast_metrics metrics;
    if (!rc)
        rc = forecaster_evaluate(f, plan, plan->test, NULL, &metrics);
    if (!rc) {
        row->best_epoch = state.best_epoch;
        row->train_seconds = total_seconds(&state);
        row->n_windows = (int64_t)metrics.n_windows;
        row->mse = metrics.scaled_mse;
        row->mae = metrics.scaled_mae;
        row->r2 = metrics.r2;
        row->peak_amplitude_error = row->peak_timing_error = NAN;
    }
    if (rc && !err->msg[0])
        fw_error_set(err, rc, "%s", fw_strerror(rc));
    model_destroy(m);
    forecaster_free(f);
    train_state_free(&state);
    return rc;
}

/* --- the table ---------------------------------------------------------------------------- */

static int requested(const struct compare_args *a, const struct result_summary *s)
{
    if (s->epochs != (int)a->epochs)
        return 0;
    for (size_t i = 0; i < a->n_models; i++)
        if (!strcmp(a->model_list[i], s->architecture))
            return 1;
    return 0;
}

static void print_stat(struct result_stat st, const char *fmt)
{
    char mean[32], sd[32];
    snprintf(mean, sizeof mean, fmt, st.mean);
    if (isfinite(st.sd))
        snprintf(sd, sizeof sd, fmt, st.sd);
    else
        snprintf(sd, sizeof sd, "-");
    printf(" | %s ± %s", mean, sd);
}

/* The stored runs of the requested models (this epoch count) for one task: a table, or JSON
 * rows appended to `rows`. */
static int report_task(const struct compare_args *a, sqlite3 *db, const char *suite,
                       const char *task, json_t *rows, fw_error *err)
{
    struct result_row *list = NULL;
    struct result_summary *sums = NULL;
    size_t n = 0, m = 0;
    int rc = results_list(db, suite, task, &list, &n, err);
    if (!rc)
        rc = results_summarize(list, n, &sums, &m);
    free(list);
    if (rc)
        return rc;
    int solar = !strcmp(suite, "solar");
    if (!rows) {
        printf("\n%s, %s, %ld epochs\n\n", solar ? "solar cycle" : "time series", task, a->epochs);
        printf("| model | parameters | seeds | %s | %s%s | train s |\n",
               solar ? "scaled MSE" : "test MSE", solar ? "peak amplitude error" : "test MAE",
               solar ? " | peak timing error (months)" : "");
        printf("|---|---|---|---|---|%s---|\n", solar ? "---|" : "");
    }
    /* in the order the models were asked for */
    for (size_t i = 0; i < a->n_models; i++)
        for (size_t k = 0; k < m; k++) {
            const struct result_summary *s = &sums[k];
            if (strcmp(s->architecture, a->model_list[i]) || !requested(a, s))
                continue;
            if (rows) {
                json_array_append_new(rows, results_summary_json(s));
                continue;
            }
            printf("| %s | %lld | %d", s->architecture, (long long)s->parameters, s->n_seeds);
            print_stat(s->mse, solar ? "%.4f" : "%.3g");
            if (solar) {
                print_stat(s->peak_amplitude_error, "%.1f");
                print_stat(s->peak_timing_error, "%.1f");
            } else {
                print_stat(s->mae, "%.3g");
            }
            printf(" | %.1f |\n", s->train_seconds.mean);
        }
    free(sums);
    return FW_OK;
}

/* --- the runs ----------------------------------------------------------------------------- */

/* Runs (or finds) every model x seed of one task; runner trains and evaluates one. */
typedef int (*run_fn)(const struct compare_args *a, const void *data, struct result_row *row,
                      fw_error *err);

static int run_solar_cb(const struct compare_args *a, const void *data, struct result_row *row,
                        fw_error *err)
{
    return run_solar(a, data, row, err);
}

static int run_timeseries_cb(const struct compare_args *a, const void *data, struct result_row *row,
                             fw_error *err)
{
    return run_timeseries(a, data, row, err);
}

static int run_task(const struct compare_args *a, sqlite3 *db, const char *suite, const char *task,
                    const char *sha256, const char *base_config, run_fn run, const void *data,
                    fw_error *err)
{
    for (size_t i = 0; i < a->n_models; i++) {
        const char *arch = a->model_list[i];
        char config[RESULT_CONFIG_MAX];
        const char *extra = !strcmp(suite, "timeseries") ? tsdata_model_config(arch) : NULL;
        snprintf(config, sizeof config, "%s%s%s", base_config, extra ? ";" : "",
                 extra ? extra : "");
        for (size_t s = 0; s < a->n_seeds; s++) {
            struct result_row row = {.seed = a->seed_list[s], .epochs = (int)a->epochs};
            snprintf(row.suite, sizeof row.suite, "%s", suite);
            snprintf(row.task, sizeof row.task, "%s", task);
            snprintf(row.architecture, sizeof row.architecture, "%s", arch);
            snprintf(row.data_sha256, sizeof row.data_sha256, "%s", sha256);
            int found = 0;
            int rc =
                resolve_config(arch, config, row.config, sizeof row.config, &row.parameters, err);
            if (!rc)
                rc = results_find(db, &row, &found, err);
            if (rc)
                return rc;
            if (found) {
                if (!a->quiet)
                    fprintf(stderr, "%s %s seed %lld: stored (%s)\n", task, arch,
                            (long long)row.seed, row.created_at);
                continue;
            }
            if (!a->quiet)
                fprintf(stderr, "%s %s seed %lld: training (%lld parameters, %ld epochs)\n", task,
                        arch, (long long)row.seed, (long long)row.parameters, a->epochs);
            if ((rc = run(a, data, &row, err)) || (rc = results_insert(db, &row, err)))
                return rc;
            if (!a->quiet)
                fprintf(stderr, "%s %s seed %lld: test MSE %.6g, %.1f s\n", task, arch,
                        (long long)row.seed, row.mse, row.train_seconds);
        }
    }
    return FW_OK;
}

static void sha256_of_values(const double *y, const double *u, size_t n, char hex[SHA256_HEX_LEN])
{
    struct sha256_ctx ctx;
    unsigned char digest[SHA256_DIGEST_LEN];
    sha256_init(&ctx);
    sha256_update(&ctx, y, n * sizeof *y);
    if (u)
        sha256_update(&ctx, u, n * sizeof *u);
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
}

/* A CSV of one value per line, as the authors ship the CUDA-Q series. */
static int read_values(const char *path, size_t expect, double *out, fw_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0, n = 0;
    int rc = cli_read_file(path, 1 << 24, &data, &len, err);
    if (rc)
        return rc;
    char *text = (char *)data, *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        if (n == expect || cli_parse_double(line, &out[n])) {
            rc = fw_error_set(err, FW_EINVAL, "%s line %zu: expected %zu numbers, one per line",
                              path, n + 1, expect);
            break;
        }
        n++;
    }
    if (!rc && n != expect)
        rc = fw_error_set(err, FW_EINVAL, "%s: %zu values, expected %zu", path, n, expect);
    free(data);
    return rc;
}

static int timeseries_task(struct compare_args *a, sqlite3 *db, const struct ts_dataset *d,
                           fw_error *err)
{
    double *y = malloc(d->points * sizeof *y), *u = malloc(d->points * sizeof *u);
    struct split_plan plan = {0};
    int rc = y && u ? FW_OK : FW_ENOMEM;
    if (!rc && d->csv) {
        char path[1024];
        snprintf(path, sizeof path, "%s/benchmarks/%s", cli_data_dir(), d->csv);
        rc = read_values(path, d->points, y, err);
    } else if (!rc) {
        rc = tsdata_generate(d, y, u, err);
    }
    if (!rc)
        rc = tsdata_plan(d, y, d->driven ? u : NULL, d->points, TSDATA_WINDOW, &plan, err);
    char sha[SHA256_HEX_LEN], base[64];
    if (!rc) {
        sha256_of_values(y, d->driven ? u : NULL, d->points, sha);
        snprintf(base, sizeof base, "window=%d;horizon=1", TSDATA_WINDOW);
        rc = run_task(a, db, "timeseries", d->name, sha, base, run_timeseries_cb, &plan, err);
    }
    series_free(&plan);
    free(y), free(u);
    return rc;
}

static int open_results_db(const struct compare_args *a, sqlite3 **db, fw_error *err)
{
    int rc = db_open(cli_db_path(a->db), db, err);
    if (!rc && (rc = db_migrate(*db, NULL, err))) {
        db_close(*db);
        *db = NULL;
    }
    return rc;
}

static int finish(const struct compare_args *a, sqlite3 *db, const char *suite, int rc,
                  fw_error *err)
{
    json_t *rows = a->json ? json_array() : NULL;
    if (!rc) {
        for (size_t t = 0; !rc && t < a->n_tasks; t++)
            rc = report_task(a, db, suite, a->task_list[t], rows, err);
    }
    if (!rc && rows) {
        cli_print_json(
            json_pack("{s:s, s:i, s:o}", "suite", suite, "epochs", (int)a->epochs, "models", rows));
    } else {
        json_decref(rows);
    }
    db_close(db);
    return rc ? cli_fail(a->cmd, "%s", err->msg[0] ? err->msg : fw_strerror(rc)) : 0;
}

int cmd_compare(int argc, char **argv)
{
    struct compare_args a = {.cmd = "compare",
                             .protocol = "paper",
                             .models = "all",
                             .seeds = "0-4",
                             .epochs = 100,
                             .threads = 1};
    if (parse_args(argc, argv, &a) || resolve_models(&a, 0))
        return 2;
    if (strcmp(a.protocol, "paper"))
        return cli_fail("compare", "--protocol: only 'paper' has a test split to compare on") + 1;
    a.task_list[0] = "paper";
    a.n_tasks = 1;
    fw_error err = {0};
    struct month_series src;
    sqlite3 *db = NULL;
    /* by default the authors' copy of the series, which the measured anchors used */
    char authors[1024];
    snprintf(authors, sizeof authors, "%s/benchmarks/authors-Sunspots.csv", cli_data_dir());
    if (!a.dataset && cli_file_exists(authors))
        a.dataset = authors;
    if (series_source_load(a.dataset, a.db, &src, &err))
        return cli_fail("compare", "%s", err.msg);
    if (!a.quiet)
        fprintf(stderr, "fwpcast compare: data %s; %zu models x %zu seeds, %ld epochs\n", src.label,
                a.n_models, a.n_seeds, a.epochs);
    int rc = open_results_db(&a, &db, &err);
    if (!rc) {
        char base[64];
        snprintf(base, sizeof base, "window=%d;horizon=%d", 528, 132);
        rc = run_task(&a, db, "solar", "paper", src.sha256, base, run_solar_cb, &src, &err);
    }
    month_series_free(&src);
    if (!db)
        return cli_fail("compare", "%s", err.msg);
    return finish(&a, db, "solar", rc, &err);
}

int cmd_benchmark(int argc, char **argv)
{
    struct compare_args a = {.cmd = "benchmark",
                             .suite = "timeseries",
                             .models = "all",
                             .datasets = "all",
                             .seeds = "0-2",
                             .epochs = 100,
                             .threads = 1};
    if (parse_args(argc, argv, &a))
        return 2;
    if (strcmp(a.suite, "timeseries"))
        return cli_fail("benchmark", "--suite: the suite is 'timeseries'") + 1;
    if (resolve_models(&a, 1))
        return 2;
    if (!strcmp(a.datasets, "all")) {
        for (size_t i = 0; i < tsdata_count(); i++)
            a.task_list[a.n_tasks++] = tsdata_at(i)->name;
    } else if (split_list(a.datasets, a.task_buf, sizeof a.task_buf, a.task_list, &a.n_tasks)) {
        return cli_fail("benchmark", "--datasets: give 'all' or a comma list") + 1;
    }
    for (size_t t = 0; t < a.n_tasks; t++)
        if (!tsdata_find(a.task_list[t]))
            return cli_fail("benchmark", "--datasets: unknown dataset '%s'", a.task_list[t]) + 1;
    fw_error err = {0};
    sqlite3 *db = NULL;
    if (open_results_db(&a, &db, &err))
        return cli_fail("benchmark", "%s", err.msg);
    int rc = FW_OK;
    for (size_t t = 0; !rc && t < a.n_tasks; t++)
        rc = timeseries_task(&a, db, tsdata_find(a.task_list[t]), &err);
    return finish(&a, db, "timeseries", rc, &err);
}
