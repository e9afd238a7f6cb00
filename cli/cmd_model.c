/* cmd_model — `fwpcast architectures | train | eval | forecast | export | import-model`. */
#include "cli/cli.h"
#include "cli/series_source.h"
#include "db/db.h"
#include "db/store.h"
#include "model/ensemble.h"
#include "model/fit.h"
#include "model/forecaster.h"
#include "base/period.h"
#include "model/trainer.h"
#include "core/forecast.h"
#include "core/forecast_json.h"
#include "core/model_json.h"
#include "core/model_record.h"
#include "quantum/evaluator.h"
#include "quantum/factory.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS FORECAST_MAX_LEVELS

/* Prints a JSON object as the last line of stdout. */
/* --- architectures ---------------------------------------------------------------------- */

int cmd_architectures(int argc, char **argv)
{
    int json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc > 1 && !json)
        return cli_fail("architectures", "usage: fwpcast architectures [--json]");
    json_t *list = json_array();
    for (size_t i = 0; i < model_registry_count(); i++) {
        const struct model_ops *ops = model_registry_at(i);
        struct model *m = NULL;
        fw_error err;
        if (model_create(ops->name, "", 0, &m, &err))
            return cli_fail("architectures", "%s: %s", ops->name, err.msg);
        if (json)
            json_array_append_new(list, json_pack("{s:s, s:I, s:s}", "name", ops->name,
                                                  "parameters", (json_int_t)m->n_params,
                                                  "description", ops->description));
        else
            printf("%-18s %8zu  %s\n", ops->name, m->n_params, ops->description);
        model_destroy(m);
    }
    if (json)
        return cli_print_json(json_pack("{s:o}", "architectures", list));
    json_decref(list);
    return 0;
}

/* --- train ------------------------------------------------------------------------------ */

struct train_args {
    const char *architecture, *protocol, *dataset, *out, *db, *config, *name;
    long window, horizon, epochs, seed, threads, batch;
    double lr;
    struct train_options recipe; /* --optimizer, --weight-decay, --schedule, --warmup, ... */
    int cutoff_month, json, quiet, make_default;
    struct ensemble_spec members; /* --members ARCH:SEEDS (repeatable) */
    long keep;                    /* --keep K; 0: all */
};

static void print_progress(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    const struct train_args *a = ctx;
    if (a->quiet)
        return;
    if (p->members)
        fprintf(stderr, "member %d/%d  ", p->member, p->members);
    fprintf(stderr, "epoch %3d/%d  train %.6f  val %.6f  best %.6f (epoch %d)  %.2fs  eta %.0fs\n",
            p->epoch, p->epochs, p->train_loss, p->val_loss, p->best_val, p->best_epoch, p->seconds,
            p->eta_seconds);
}

/* One of the numeric options (--window, --horizon, --epochs, --seed, --threads, --batch-size);
 * -1 after printing why. */
static int parse_train_number(int code, const char *arg, struct train_args *a)
{
    const struct {
        int code;
        const char *name;
        long min, max;
        long *target;
    } flags[] = {{'w', "window", 1, 100000, &a->window}, {'H', "horizon", 1, 10000, &a->horizon},
                 {'e', "epochs", 1, 100000, &a->epochs}, {'s', "seed", 0, 0x7fffffffL, &a->seed},
                 {'t', "threads", 1, 256, &a->threads},  {'b', "batch-size", 2, 100000, &a->batch}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        long v;
        if (flags[i].code != code)
            continue;
        if (cli_parse_long(arg, flags[i].min, flags[i].max, &v)) {
            cli_fail("train", "--%s: '%s' is not a number in %ld..%ld", flags[i].name, arg,
                     flags[i].min, flags[i].max);
            return -1;
        }
        *flags[i].target = v;
    }
    return 0;
}

/* One of the recipe options (--optimizer, --schedule, --weight-decay, --warmup,
 * --decay-fraction, --final-lr); -1 after printing why. The ranges are train_options_check's. */
static int parse_recipe_option(int code, const char *arg, struct train_options *r)
{
    if (code == 'O' && optim_kind_parse(arg, &r->optimizer))
        return -cli_fail("train", "--optimizer must be adam, adamw or lion, not '%s'", arg);
    if (code == 'S' && lr_schedule_parse(arg, &r->schedule))
        return -cli_fail("train", "--schedule must be constant, linear or wsd, not '%s'", arg);
    const struct {
        int code;
        const char *name;
        double *target;
    } flags[] = {{'W', "weight-decay", &r->weight_decay},
                 {'u', "warmup", &r->warmup},
                 {'F', "decay-fraction", &r->decay_fraction},
                 {'L', "final-lr", &r->final_lr}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].code == code && cli_parse_double(arg, flags[i].target))
            return -cli_fail("train", "--%s: '%s' is not a number", flags[i].name, arg);
    return 0;
}

/* --members ARCH:SEEDS (code 'M') or --keep K ('K'); -1 after printing why. */
static int parse_ensemble_flag(int code, const char *arg, struct train_args *a)
{
    fw_error err = {0};
    if (code == 'M' && ensemble_spec_add_text(&a->members, arg, 0x7fffffff, &err))
        return cli_fail("train", "--members: %s", err.msg);
    if (code == 'K' && cli_parse_long(arg, 1, ENSEMBLE_MAX_MEMBERS, &a->keep))
        return cli_fail("train", "--keep: '%s' is not a number in 1..%d", arg,
                        ENSEMBLE_MAX_MEMBERS);
    return 0;
}

static int parse_train_args(int argc, char **argv, struct train_args *a)
{
    static const struct option options[] = {{"model", required_argument, 0, 'm'},
                                            {"protocol", required_argument, 0, 'p'},
                                            {"dataset", required_argument, 0, 'd'},
                                            {"window", required_argument, 0, 'w'},
                                            {"horizon", required_argument, 0, 'H'},
                                            {"epochs", required_argument, 0, 'e'},
                                            {"seed", required_argument, 0, 's'},
                                            {"cutoff", required_argument, 0, 'c'},
                                            {"threads", required_argument, 0, 't'},
                                            {"out", required_argument, 0, 'o'},
                                            {"json", no_argument, 0, 'j'},
                                            {"db", required_argument, 0, 'D'},
                                            {"config", required_argument, 0, 'C'},
                                            {"batch-size", required_argument, 0, 'b'},
                                            {"lr", required_argument, 0, 'l'},
                                            {"optimizer", required_argument, 0, 'O'},
                                            {"weight-decay", required_argument, 0, 'W'},
                                            {"schedule", required_argument, 0, 'S'},
                                            {"warmup", required_argument, 0, 'u'},
                                            {"decay-fraction", required_argument, 0, 'F'},
                                            {"final-lr", required_argument, 0, 'L'},
                                            {"quiet", no_argument, 0, 'q'},
                                            {"name", required_argument, 0, 'n'},
                                            {"default", no_argument, 0, 'X'},
                                            {"members", required_argument, 0, 'M'},
                                            {"keep", required_argument, 0, 'K'},
                                            {0, 0, 0, 0}};
    *a = (struct train_args){.architecture = "gated-qkan-fwp",
                             .protocol = "paper",
                             .window = 528,
                             .horizon = 132,
                             .epochs = 100,
                             .threads = 1,
                             .batch = 32,
                             .lr = 2.5e-3,
                             .cutoff_month = -1};
    train_options_default(&a->recipe);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'm':
            a->architecture = optarg;
            break;
        case 'p':
            a->protocol = optarg;
            break;
        case 'd':
            a->dataset = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'X':
            a->make_default = 1;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'C':
            a->config = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'w':
        case 'H':
        case 'e':
        case 's':
        case 't':
        case 'b':
            if (parse_train_number(c, optarg, a))
                return 2;
            break;
        case 'O':
        case 'W':
        case 'S':
        case 'u':
        case 'F':
        case 'L':
            if (parse_recipe_option(c, optarg, &a->recipe))
                return 2;
            break;
        case 'M':
        case 'K':
            if (parse_ensemble_flag(c, optarg, a))
                return 2;
            break;
        case 'l':
            if (cli_parse_double(optarg, &a->lr) || !(a->lr > 0))
                return cli_fail("train", "--lr: '%s' is not a positive number", optarg) + 1;
            break;
        case 'c':
            if (period_parse(optarg, &a->cutoff_month))
                return cli_fail("train", "--cutoff: '%s' is not YYYY-MM", optarg) + 1;
            break;
        default:
            return cli_fail("train", "unknown or incomplete option '%s'", argv[optind - 1]) + 1;
        }
    }
    if (optind < argc)
        return cli_fail("train", "unexpected argument '%s'", argv[optind]) + 1;
    if (!a->out && !a->db)
        return cli_fail("train", "say where the model goes: --out FILE and/or --db PATH") + 1;
    return 0;
}

/* The config text: window and horizon from the flags, an ensemble's --members and --keep, then
 * --config's options. -1 after printing why. */
static int build_config(const struct train_args *a, char *text, size_t size)
{
    char members[256] = "";
    fw_error err = {0};
    int ensemble = !strcmp(a->architecture, "ensemble");
    if ((a->members.n_members || a->keep) && !ensemble)
        return cli_fail("train", "--members and --keep are for --model ensemble");
    if (a->members.n_members &&
        ensemble_spec_config(&a->members, a->keep, members, sizeof members, &err))
        return cli_fail("train", "--members: %s", err.msg);
    if (!a->members.n_members && a->keep)
        snprintf(members, sizeof members, "keep=%ld", a->keep);
    int w = snprintf(text, size, "window=%ld;horizon=%ld%s%s%s%s", a->window, a->horizon,
                     members[0] ? ";" : "", members, a->config && *a->config ? ";" : "",
                     a->config ? a->config : "");
    return w < 0 || (size_t)w >= size ? cli_fail("train", "--config is too long") : 0;
}

static json_t *train_result_json(const struct forecaster *f, const struct train_state *s,
                                 double seconds_per_epoch)
{
    json_t *curve = json_array();
    for (int e = 0; e < s->epochs_done; e++)
        json_array_append_new(curve,
                              json_pack("{s:i, s:f, s:f, s:f}", "epoch", e + 1, "train_loss",
                                        s->curve[e].train_loss, "val_loss", s->curve[e].val_loss,
                                        "seconds", s->curve[e].seconds));
    json_t *o = model_json_summary(f);
    json_object_set_new(o, "epochs", json_integer(s->epochs_done));
    json_object_set_new(o, "train_loss",
                        json_real(s->epochs_done ? s->curve[s->epochs_done - 1].train_loss : 0));
    json_object_set_new(o, "val_loss", json_real(s->best_val));
    json_object_set_new(o, "best_epoch", json_integer(s->best_epoch));
    json_object_set_new(o, "seconds_per_epoch", json_real(seconds_per_epoch));
    json_object_set_new(o, "loss_curve", curve);
    return o;
}

/* Stores the model in the database too. */
static int store_trained(const struct train_args *a, const struct forecaster *f,
                         const struct month_series *src, int64_t *id, fw_error *err)
{
    sqlite3 *db = NULL;
    int rc = db_open(cli_db_path(a->db), &db, err);
    if (!rc)
        rc = db_migrate(db, NULL, err);
    char name[STORE_NAME_MAX];
    if (a->name)
        snprintf(name, sizeof name, "%s", a->name);
    else
        snprintf(name, sizeof name, "%s-%s-seed%llu", f->model->ops->name,
                 series_protocol_name(f->protocol), (unsigned long long)f->seed);
    struct model_record record = {name, src->dataset_id, a->make_default};
    if (!rc)
        rc = model_record_insert(db, f, &record, id, err);
    db_close(db);
    return rc;
}

static void print_ready(void *ctx, const struct model *m, const struct split_plan *plan)
{
    const struct train_args *a = ctx;
    if (a->quiet)
        return;
    char first[PERIOD_TEXT_MAX], last[PERIOD_TEXT_MAX];
    period_format(plan->first_month, first);
    period_format(plan->first_month + (int)plan->n_months - 1, last);
    fprintf(stderr,
            "fwpcast train: %s, %zu parameters, %s protocol (%s..%s, %zu months, %zu filled); "
            "windows %zu/%zu/%zu; seed %ld, %ld thread(s)\n",
            a->architecture, m->n_params, a->protocol, first, last, plan->n_months, plan->filled,
            plan->train.end - plan->train.begin, plan->val.end - plan->val.begin,
            plan->test.end - plan->test.begin, a->seed, a->threads);
}

int cmd_train(int argc, char **argv)
{
    struct train_args a;
    int rc = parse_train_args(argc, argv, &a);
    if (rc)
        return rc - 1 ? rc - 1 : 2;
    fw_error err = {0};
    struct fit_request rq = {.architecture = a.architecture, .cutoff_month = a.cutoff_month};
    if (series_protocol_parse(a.protocol, &rq.protocol))
        return cli_fail("train", "--protocol must be 'paper' or 'live', not '%s'", a.protocol);
    char config[1024];
    if (build_config(&a, config, sizeof config))
        return 1;
    rq.config = config;
    train_options_default(&rq.train);
    rq.train.epochs = (int)a.epochs;
    rq.train.seed = (uint64_t)a.seed;
    rq.train.threads = (int)a.threads;
    rq.train.batch_size = (int)a.batch;
    rq.train.lr = a.lr;
    rq.train.optimizer = a.recipe.optimizer;
    rq.train.weight_decay = a.recipe.weight_decay;
    rq.train.schedule = a.recipe.schedule;
    rq.train.warmup = a.recipe.warmup;
    rq.train.decay_fraction = a.recipe.decay_fraction;
    rq.train.final_lr = a.recipe.final_lr;
    if (train_options_check(&rq.train, &err))
        return cli_fail("train", "%s", err.msg);

    struct month_series src;
    if (series_source_load(a.dataset, a.db, &src, &err))
        return cli_fail("train", "%s", err.msg);
    if (!a.quiet)
        fprintf(stderr, "fwpcast train: data %s\n", src.label);
    struct train_state state;
    struct forecaster *f = NULL;
    struct fit_callbacks cb = {print_ready, print_progress, &a};
    uint8_t *bytes = NULL;
    size_t len = 0;
    int exit_code = 1;
    rc = fit_run(&rq, src.values, src.n, src.first_month, src.sha256, NULL, 0, &cb, NULL, &state,
                 &f, &err);
    if (rc) {
        cli_fail("train", "%s", err.msg);
        goto cleanup;
    }
    double seconds_per_epoch = fit_seconds_per_epoch(&state);
    if ((rc = forecaster_save(f, &bytes, &len))) {
        cli_fail("train", "%s", fw_strerror(rc));
        goto cleanup;
    }
    if (a.out && cli_write_file(a.out, bytes, len, &err)) {
        cli_fail("train", "%s", err.msg);
        goto cleanup;
    }
    int64_t model_id = 0;
    if (a.db && store_trained(&a, f, &src, &model_id, &err)) {
        cli_fail("train", "storing the model: %s", err.msg);
        goto cleanup;
    }
    if (!a.quiet) {
        fprintf(stderr, "fwpcast train: best validation loss %.6f at epoch %d; %.3f s/epoch",
                state.best_val, state.best_epoch, seconds_per_epoch);
        if (a.out)
            fprintf(stderr, "; wrote %s (%zu bytes)", a.out, len);
        if (model_id)
            fprintf(stderr, "; model %lld in %s", (long long)model_id, cli_db_path(a.db));
        fputc('\n', stderr);
    }
    if (a.json) {
        json_t *o = train_result_json(f, &state, seconds_per_epoch);
        if (model_id)
            json_object_set_new(o, "model_id", json_integer(model_id));
        cli_print_json(o);
    } else if (f->has_test_metrics) {
        printf("test (%zu windows): scaled MSE %.4f, peak amplitude error %.1f, peak timing "
               "error %.1f months, R2 %.3f\n",
               f->test.n_windows, f->test.scaled_mse, f->test.peak_amplitude_error,
               f->test.peak_timing_error, f->test.r2);
    }
    exit_code = 0;
cleanup:
    free(bytes);
    forecaster_free(f);
    train_state_free(&state);
    month_series_free(&src);
    return exit_code;
}

/* --- shared by eval, forecast, export ---------------------------------------------------- */

/* Loads a model given as a file path, or as a numeric id from the database. */
static int load_model(const char *cmd, const char *spec, const char *db_path,
                      struct forecaster **out)
{
    fw_error err = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    long id;
    struct store_model *sm = NULL;
    sqlite3 *db = NULL;
    int rc;
    if (!cli_parse_long(spec, 1, 0x7fffffffL, &id) && !cli_file_exists(spec)) {
        rc = db_open(cli_db_path(db_path), &db, &err);
        if (!rc)
            rc = db_migrate(db, NULL, &err);
        if (!rc)
            rc = store_model_get(db, id, &sm, &err);
        db_close(db);
        if (rc)
            return cli_fail(cmd, "model %ld: %s", id, err.msg);
        rc = forecaster_load(sm->weights, sm->weights_len, out, &err);
        store_model_free(sm);
    } else {
        if (cli_read_file(spec, 1u << 30, &bytes, &len, &err))
            return cli_fail(cmd, "%s", err.msg);
        rc = forecaster_load(bytes, len, out, &err);
        free(bytes);
    }
    if (rc)
        return cli_fail(cmd, "%s: %s", spec, err.msg);
    return 0;
}

/* --- eval --------------------------------------------------------------------------------- */

/* What the evaluated windows are to this model: "in_sample" when the first forecasts months the
 * model was trained or selected on, on the same data (series_in_sample: a live model evaluated on
 * the paper's test windows), else "test" (the paper protocol's) or "validation". */
static const char *eval_split_name(const struct forecaster *f, const struct split_plan *plan,
                                   struct split_range range, const char *data_sha256)
{
    int first_origin = plan->first_month + (int)(range.begin + plan->window) - 1;
    int seen = series_in_sample(f->protocol, f->data_first_month, f->data_last_month,
                                (size_t)f->model->window, (size_t)f->model->horizon, first_origin);
    int same_data = !f->data_sha256[0] || !data_sha256[0] || !strcmp(f->data_sha256, data_sha256);
    if (seen == 1 && same_data && range.end > range.begin)
        return "in_sample";
    return plan->protocol == PROTOCOL_PAPER ? "test" : "validation";
}

int cmd_eval(int argc, char **argv)
{
    static const struct option options[] = {{"protocol", required_argument, 0, 'p'},
                                            {"dataset", required_argument, 0, 'd'},
                                            {"db", required_argument, 0, 'D'},
                                            {"json", no_argument, 0, 'j'},
                                            {0, 0, 0, 0}};
    const char *protocol_text = "paper", *dataset = NULL, *db = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'p')
            protocol_text = optarg;
        else if (c == 'd')
            dataset = optarg;
        else if (c == 'D')
            db = optarg;
        else if (c == 'j')
            json = 1;
        else
            return cli_fail("eval", "unknown or incomplete option '%s'", argv[optind - 1]) + 1;
    }
    if (optind != argc - 1)
        return cli_fail("eval", "usage: fwpcast eval MODEL [--protocol paper|live] "
                                "[--dataset ID|FILE] [--json]") +
               1;
    enum protocol protocol;
    if (series_protocol_parse(protocol_text, &protocol))
        return cli_fail("eval", "--protocol must be 'paper' or 'live'") + 1;
    struct forecaster *f = NULL;
    if (load_model("eval", argv[optind], db, &f))
        return 1;
    fw_error err = {0};
    struct month_series src;
    struct split_plan plan = {0};
    int exit_code = 1;
    if (series_source_load(dataset, db, &src, &err)) {
        forecaster_free(f);
        return cli_fail("eval", "%s", err.msg);
    }
    if (series_prepare(src.values, src.n, src.first_month, protocol, f->cutoff_month,
                       (size_t)f->model->window, (size_t)f->model->horizon, &plan, &err)) {
        cli_fail("eval", "%s", err.msg);
        goto cleanup;
    }
    series_rescale(&plan, &f->scaler);
    struct split_range range = protocol == PROTOCOL_PAPER ? plan.test : plan.val;
    struct forecast_metrics m;
    if (forecaster_evaluate(f, &plan, range, NULL, &m)) {
        cli_fail("eval", "evaluation failed");
        goto cleanup;
    }
    const char *split = eval_split_name(f, &plan, range, src.sha256);
    if (json) {
        json_t *o = model_json_metrics(&m);
        json_object_set_new(o, "split", json_string(split));
        json_object_set_new(o, "in_sample", json_boolean(!strcmp(split, "in_sample")));
        json_object_set_new(o, "scaled_mse", json_real(m.scaled_mse));
        json_object_set_new(o, "dataset", json_string(src.label));
        cli_print_json(o);
    } else {
        printf("%s split, %zu windows of %zu months (%s)\n", split, m.n_windows, m.horizon,
               src.label);
        if (!strcmp(split, "in_sample"))
            printf("  the model saw these months in training: in-sample scores, not skill\n");
        printf("  scaled MSE            %.6f\n  scaled MAE            %.6f\n"
               "  scaled RMSE           %.6f\n  R2                    %.4f\n"
               "  MAE                   %.2f\n  RMSE                  %.2f\n"
               "  peak amplitude error  %.2f\n  peak timing error     %.2f months\n"
               "  sMAPE                 %.2f %%\n",
               m.scaled_mse, m.scaled_mae, m.scaled_rmse, m.r2, m.mae, m.rmse,
               m.peak_amplitude_error, m.peak_timing_error, m.smape);
    }
    exit_code = 0;
cleanup:
    series_free(&plan);
    month_series_free(&src);
    forecaster_free(f);
    return exit_code;
}

/* --- forecast ----------------------------------------------------------------------------- */

struct forecast_args {
    const char *dataset, *db;
    struct qbackend_request backend;
    long h, shots, seed;
    double levels[MAX_LEVELS];
    size_t n_levels;
    int json, cutoff;
};

/* -1 after printing why; 0 when the options are read. */
static int parse_forecast_args(int argc, char **argv, struct forecast_args *a)
{
    static const struct option options[] = {{"dataset", required_argument, 0, 'd'},
                                            {"db", required_argument, 0, 'D'},
                                            {"h", required_argument, 0, 'h'},
                                            {"level", required_argument, 0, 'l'},
                                            {"cutoff", required_argument, 0, 'c'},
                                            {"json", no_argument, 0, 'j'},
                                            {"backend", required_argument, 0, 'b'},
                                            {"shots", required_argument, 0, 's'},
                                            {"noise", required_argument, 0, 'n'},
                                            {"seed", required_argument, 0, 'S'},
                                            {0, 0, 0, 0}};
    *a = (struct forecast_args){.backend = {.name = "exact"}, .h = -1, .shots = -1, .cutoff = -1};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->dataset = optarg;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            if (cli_parse_long(optarg, 1, 100000, &a->h))
                return cli_fail("forecast", "--h must be a positive integer, not '%s'", optarg);
            break;
        case 'b':
            a->backend.name = optarg;
            break;
        case 'n':
            a->backend.noise = optarg;
            break;
        case 's':
            if (cli_parse_long(optarg, 1, QBACKEND_MAX_SHOTS, &a->shots))
                return cli_fail("forecast", "--shots must be in 1..%d", QBACKEND_MAX_SHOTS);
            break;
        case 'S':
            if (cli_parse_long(optarg, 0, 0x7fffffffL, &a->seed))
                return cli_fail("forecast", "--seed must be a non-negative integer");
            break;
        case 'l': {
            double level;
            fw_error err = {0};
            if (cli_parse_double(optarg, &level))
                return cli_fail("forecast", "--level must be a number in (0, 100), not '%s'",
                                optarg);
            if (forecast_add_level(a->levels, &a->n_levels, level, &err))
                return cli_fail("forecast", "--level: %s", err.msg);
            break;
        }
        case 'c':
            if (period_parse(optarg, &a->cutoff))
                return cli_fail("forecast", "--cutoff: '%s' is not YYYY-MM", optarg);
            break;
        default:
            return cli_fail("forecast", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_fail("forecast", "usage: fwpcast forecast MODEL [--dataset ID|FILE] [--h N] "
                                    "[--level 80 ...] [--cutoff YYYY-MM] [--json]");
    return 0;
}

/* The backend the circuits run on: the closed form unless --backend, --shots or --noise say
 * otherwise. -1 after printing why. */
static int forecast_backend(struct forecast_args *a, char *presets, size_t size)
{
    struct qbackend_request *b = &a->backend;
    if (!strcmp(b->name, "exact") && !b->noise && a->shots <= 0)
        return 0;
    if (qbackend_is_remote(b->name))
        return cli_fail("forecast", "the %s backend runs through the HTTP API (POST /forecast)",
                        b->name);
    if (!strcmp(b->name, "exact"))
        return cli_fail("forecast", "--shots and --noise need --backend sampler");
    b->noise_path = forecast_noise_file(cli_data_dir(), presets, size);
    b->shots = a->shots > 0 ? (int)a->shots : 1024;
    b->seed = (uint64_t)a->seed;
    return 0;
}

static void print_forecast_text(const struct forecast_result *r, const double *levels,
                                const char *label)
{
    char last[PERIOD_TEXT_MAX];
    period_format(r->last_month, last);
    printf("forecast after %s (%s), %zu months:\n", last, label, r->h);
    for (size_t j = 0; j < r->h; j++) {
        char period[PERIOD_TEXT_MAX];
        period_format(r->last_month + 1 + (int)j, period);
        printf("%s %8.1f", period, r->point[j]);
        for (size_t i = 0; i < r->n_levels; i++)
            printf("  [%g%%: %.1f .. %.1f]", levels[i], r->lo[i * r->h + j], r->hi[i * r->h + j]);
        printf("\n");
    }
}

static int print_forecast_json(const struct forecast_request *rq, const struct forecast_result *r,
                               const char *model_file, const struct month_series *src)
{
    struct forecast_doc doc = {.rq = rq,
                               .r = r,
                               .model_label = model_file,
                               .dataset = src->dataset_id,
                               .dataset_label = src->label};
    size_t len = 0;
    char *text = forecast_json(&doc, &len);
    if (!text)
        return cli_fail("forecast", "out of memory");
    printf("%s\n", text);
    free(text);
    return 0;
}

int cmd_forecast(int argc, char **argv)
{
    struct forecast_args a;
    char presets[4096];
    if (parse_forecast_args(argc, argv, &a))
        return 2;
    if (forecast_backend(&a, presets, sizeof presets))
        return 1;
    struct forecaster *f = NULL;
    if (load_model("forecast", argv[optind], a.db, &f))
        return 1;
    fw_error err = {0};
    struct month_series src = {0};
    struct forecast_result r = {0};
    struct forecast_request rq = {.model = f,
                                  .h = a.h < 0 ? (size_t)f->model->horizon : (size_t)a.h,
                                  .levels = a.levels,
                                  .n_levels = a.n_levels,
                                  .backend = &a.backend,
                                  .poll_seconds = 1,
                                  .timeout_seconds = 3600};
    int rc = forecast_check(&rq, &err);
    if (!rc)
        rc = series_source_load(a.dataset, a.db, &src, &err);
    if (!rc)
        rc = forecast_history_end(src.first_month, src.n, a.cutoff, &rq.n_history, &rq.last_month,
                                  &err);
    rq.history = src.values;
    rq.history_sha256 = src.sha256;
    if (!rc)
        rc = forecast_run(&rq, &r, &err);
    int exit_code = 1;
    if (rc)
        cli_fail("forecast", "%s", err.msg[0] ? err.msg : fw_strerror(rc));
    else if (a.json)
        exit_code = print_forecast_json(&rq, &r, argv[optind], &src) ? 1 : 0;
    else
        print_forecast_text(&r, a.levels, src.label), exit_code = 0;
    forecast_result_free(&r);
    month_series_free(&src);
    forecaster_free(f);
    return exit_code;
}

/* --- export / import-model ---------------------------------------------------------------- */

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {{"format", required_argument, 0, 'f'},
                                            {"out", required_argument, 0, 'o'},
                                            {"db", required_argument, 0, 'D'},
                                            {0, 0, 0, 0}};
    const char *format = "json", *out = NULL, *db = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'f')
            format = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'D')
            db = optarg;
        else
            return cli_fail("export", "unknown or incomplete option '%s'", argv[optind - 1]) + 1;
    }
    if (optind != argc - 1 || (strcmp(format, "json") && strcmp(format, "binary")))
        return cli_fail("export",
                        "usage: fwpcast export MODEL [--format json|binary] [--out FILE]") +
               1;
    struct forecaster *f = NULL;
    if (load_model("export", argv[optind], db, &f))
        return 1;
    fw_error err = {0};
    int rc = 1;
    if (!strcmp(format, "json")) {
        json_t *doc = model_json_export(f);
        char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(doc);
        if (text) {
            size_t len = strlen(text);
            text[len] = '\n';
            rc = out ? cli_write_file(out, text, len + 1, &err)
                     : (fwrite(text, 1, len + 1, stdout) != len + 1);
            free(text);
        }
    } else {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!forecaster_save(f, &bytes, &len))
            rc = out ? cli_write_file(out, bytes, len, &err)
                     : (fwrite(bytes, 1, len, stdout) != len);
        free(bytes);
    }
    forecaster_free(f);
    if (rc)
        return cli_fail("export", "%s", err.msg[0] ? err.msg : "writing failed");
    return 0;
}

int cmd_import_model(int argc, char **argv)
{
    static const struct option options[] = {{"out", required_argument, 0, 'o'},
                                            {"scaler-min", required_argument, 0, 'a'},
                                            {"scaler-max", required_argument, 0, 'b'},
                                            {0, 0, 0, 0}};
    const char *out = NULL;
    struct scaler scaler = {NAN, NAN};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if ((c == 'a' && !cli_parse_double(optarg, &scaler.min)) ||
                 (c == 'b' && !cli_parse_double(optarg, &scaler.max)))
            continue;
        else
            return cli_fail("import-model", "bad or unknown option '%s'", argv[optind - 1]) + 1;
    }
    if (optind != argc - 1 || !out)
        return cli_fail("import-model", "usage: fwpcast import-model FILE.json --out MODEL.fwp "
                                        "[--scaler-min X --scaler-max Y]") +
               1;
    json_error_t jerr;
    json_t *doc = json_load_file(argv[optind], 0, &jerr);
    if (!doc)
        return cli_fail("import-model", "%s: line %d, column %d: %s", argv[optind], jerr.line,
                        jerr.column, jerr.text);
    fw_error err = {0};
    struct forecaster *f = NULL;
    int have_scaler = isfinite(scaler.min) && isfinite(scaler.max);
    int rc = model_json_import(doc, have_scaler ? &scaler : NULL, &f, &err);
    json_decref(doc);
    if (rc)
        return cli_fail("import-model", "%s: %s", argv[optind], err.msg);
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = forecaster_save(f, &bytes, &len);
    if (!rc)
        rc = cli_write_file(out, bytes, len, &err);
    if (!rc)
        printf("%s: %s, %zu parameters\n", out, f->model->ops->name, f->model->n_params);
    free(bytes);
    forecaster_free(f);
    return rc ? cli_fail("import-model", "%s", err.msg[0] ? err.msg : fw_strerror(rc)) : 0;
}
