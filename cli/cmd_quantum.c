/* cmd_quantum — `fwpcast qcompare`: a model's test windows with its circuits evaluated exactly
 * and through shots (optionally noisy), the relative MSE difference the paper reports, the shot
 * noise's predicted share of it, and a sweep over shot counts. */
#include "cli/cli.h"
#include "cli/series_source.h"
#include "db/db.h"
#include "db/store.h"
#include "model/forecaster.h"
#include "quantum/evaluator.h"
#include "quantum/factory.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An evaluator that records the exact P(0) of every circuit it evaluates. */
struct recorder {
    struct backend_evaluator inner;
    double *p0;
    size_t n;
};

static int record(void *ctx, size_t n, int reps, const double *theta, const double *x, double *p0,
                  fw_error *err)
{
    struct recorder *r = ctx;
    struct daruan_evaluator inner = backend_evaluator(&r->inner);
    int rc = inner.p0(inner.ctx, n, reps, theta, x, p0, err);
    if (!rc) {
        free(r->p0);
        r->p0 = malloc(n * sizeof *r->p0);
        if (!r->p0)
            return FW_ENOMEM;
        memcpy(r->p0, p0, n * sizeof *p0);
        r->n = n;
    }
    return rc;
}

/* Variance of one edge's readout estimated from `shots` shots (delta method for amplitude). */
static double readout_variance(double p, int readout, int shots)
{
    double q = 1 - p;
    if (readout == DARUAN_BORN)
        return 4 * p * q / shots;
    return (1 + 2 * sqrt(p * q)) / (4.0 * shots);
}

/* Predicted increase of the scaled MSE from shot noise: independent shots make each fast-QKAN
 * output's variance the sum of its edges', carried through BatchNorm (evaluation mode: a
 * per-feature scale) and the Linear head. */
static double predicted_mse_increase(struct forecaster *f, const struct recorder *rec,
                                     size_t windows, int readout, int shots)
{
    struct model *m = f->model;
    const double *w = model_tensor_data(m, "output_layer.weight");
    const double *gamma = model_tensor_data(m, "batch_norm.weight");
    const double *rv = model_tensor_data(m, "batch_norm.running_var");
    const struct tensor_info *t = model_tensor(m, "output_layer.weight");
    if (!w || !t || rec->n == 0 || windows == 0)
        return NAN;
    int H = t->shape[0], fo = t->shape[1];
    size_t per = rec->n / windows;
    int fi = (int)(per / (size_t)fo);
    double total = 0;
    for (size_t k = 0; k < windows; k++)
        for (int j = 0; j < H; j++) {
            double v = 0;
            for (int o = 0; o < fo; o++) {
                double var_h = 0;
                for (int i = 0; i < fi; i++)
                    var_h +=
                        readout_variance(rec->p0[k * per + (size_t)(o * fi + i)], readout, shots);
                double scale = w[j * fo + o] * (gamma ? gamma[o] / sqrt(rv[o] + 1e-5) : 1.0);
                v += scale * scale * var_h;
            }
            total += v;
        }
    return total / ((double)windows * H);
}

struct qc_args {
    const char *dataset, *db, *noise, *noise_path, *backend;
    long shots, seed, repeats;
    int json, sweep;
    enum protocol protocol;
};

/* The scaled MSE through `shots`, averaged over a->repeats sampler seeds (seed, seed+1, ...). */
static int run_shots(struct forecaster *f, const struct split_plan *plan, struct split_range r,
                     const struct qc_args *a, long shots, const char *noise, double *mse,
                     struct backend_evaluator *counts, int *readout, fw_error *err)
{
    double sum = 0;
    struct backend_evaluator total = {0};
    for (long k = 0; k < a->repeats; k++) {
        struct qbackend_request rq = {.name = a->backend,
                                      .shots = (int)shots,
                                      .noise = noise,
                                      .noise_path = a->noise_path,
                                      .seed = (uint64_t)(a->seed + k)};
        struct qbackend *b = NULL;
        int rc = qbackend_open(&rq, &b, err);
        if (rc)
            return rc;
        struct backend_evaluator be = {
            .backend = b, .shots = (int)shots, .poll_seconds = 1.0, .timeout_seconds = 3600};
        struct daruan_evaluator ev = backend_evaluator(&be);
        struct forecast_metrics m;
        rc = forecaster_evaluate_quantum(f, plan, r, &ev, readout, &m, err);
        qbackend_destroy(b);
        if (rc)
            return rc;
        sum += m.scaled_mse;
        total.circuits += be.circuits;
        total.shots_total += be.shots_total;
        total.batches += be.batches;
    }
    *mse = sum / (double)a->repeats;
    if (counts)
        *counts = total;
    return FW_OK;
}

/* The options; 0, or the exit code after printing why. */
static int parse_qcompare_args(int argc, char **argv, struct qc_args *a)
{
    static const struct option options[] = {
        {"protocol", required_argument, 0, 'p'}, {"dataset", required_argument, 0, 'd'},
        {"db", required_argument, 0, 'D'},       {"shots", required_argument, 0, 's'},
        {"noise", required_argument, 0, 'n'},    {"noise-file", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 'S'},     {"backend", required_argument, 0, 'b'},
        {"sweep", no_argument, 0, 'w'},          {"json", no_argument, 0, 'j'},
        {"repeats", required_argument, 0, 'r'},  {0, 0, 0, 0}};
    *a = (struct qc_args){
        .backend = "sampler", .shots = 1024, .repeats = 1, .protocol = PROTOCOL_PAPER};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (series_protocol_parse(optarg, &a->protocol))
                return cli_fail("qcompare", "--protocol must be paper or live") + 1;
            break;
        case 'd':
            a->dataset = optarg;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'n':
            a->noise = optarg;
            break;
        case 'f':
            a->noise_path = optarg;
            break;
        case 'b':
            a->backend = optarg;
            break;
        case 'w':
            a->sweep = 1;
            break;
        case 'j':
            a->json = 1;
            break;
        case 's':
            if (cli_parse_long(optarg, 1, QBACKEND_MAX_SHOTS, &a->shots))
                return cli_fail("qcompare", "--shots must be in 1..%d", QBACKEND_MAX_SHOTS) + 1;
            break;
        case 'r':
            if (cli_parse_long(optarg, 1, 1000, &a->repeats))
                return cli_fail("qcompare", "--repeats must be in 1..1000") + 1;
            break;
        case 'S':
            if (cli_parse_long(optarg, 0, 0x7fffffffL, &a->seed))
                return cli_fail("qcompare", "--seed must be a non-negative integer") + 1;
            break;
        default:
            return cli_fail("qcompare", "unknown or incomplete option '%s'", argv[optind - 1]) + 1;
        }
    }
    if (optind != argc - 1)
        return cli_fail("qcompare",
                        "usage: fwpcast qcompare MODEL [--protocol paper|live] "
                        "[--shots 1024] [--noise NAME] [--repeats R] [--sweep] [--json]") +
               1;
    if (qbackend_is_remote(a->backend))
        return cli_fail("qcompare", "qcompare runs locally (--backend sampler); use the HTTP API "
                                    "for the clouds") +
               1;
    return 0;
}

/* What a qcompare run measured. */
struct qc_outcome {
    size_t windows;
    const char *readout;
    double mse_exact, mse_shots, rel, predicted;
    const struct backend_evaluator *used;
};

static void print_qcompare(const struct qc_args *a, const struct qc_outcome *q, json_t *sweep)
{
    if (a->json) {
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:o}", "split",
            a->protocol == PROTOCOL_PAPER ? "test" : "validation", "readout", q->readout, "backend",
            a->backend, "windows", (json_int_t)q->windows, "shots", (json_int_t)a->shots,
            "mse_exact", q->mse_exact, "mse_shots", q->mse_shots, "relative_mse_difference", q->rel,
            "predicted_relative_difference", q->predicted / q->mse_exact, "circuits",
            (json_int_t)q->used->circuits, "shots_total", (json_int_t)q->used->shots_total, "seed",
            (json_int_t)a->seed, "repeats", (json_int_t)a->repeats, "sweep", sweep);
        if (a->noise)
            json_object_set_new(o, "noise", json_string(a->noise));
        char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
        json_decref(o);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        printf("%s split, %zu windows, %s readout, backend %s%s%s, %ld shots per circuit, "
               "mean of %ld run(s)\n",
               a->protocol == PROTOCOL_PAPER ? "test" : "validation", q->windows, q->readout,
               a->backend, a->noise ? " noise " : "", a->noise ? a->noise : "", a->shots,
               a->repeats);
        printf("  scaled MSE exact     %.6f\n  scaled MSE shots     %.6f\n"
               "  relative difference  %+.4f%%  (shot noise alone predicts %+.4f%%)\n"
               "  circuits %llu, shots %llu\n",
               q->mse_exact, q->mse_shots, 100 * q->rel, 100 * q->predicted / q->mse_exact,
               (unsigned long long)q->used->circuits, (unsigned long long)q->used->shots_total);
        for (size_t i = 0; i < json_array_size(sweep); i++) {
            json_t *row = json_array_get(sweep, i);
            printf("  %6lld shots: relative difference %+.4f%% (predicted %+.4f%%)\n",
                   (long long)json_integer_value(json_object_get(row, "shots")),
                   100 * json_real_value(json_object_get(row, "relative_mse_difference")),
                   100 * json_real_value(json_object_get(row, "predicted_relative_difference")));
        }
        json_decref(sweep);
    }
}

int cmd_qcompare(int argc, char **argv)
{
    struct qc_args a;
    int bad = parse_qcompare_args(argc, argv, &a);
    if (bad)
        return bad;
    fw_error err = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct forecaster *f = NULL;
    if (cli_read_file(argv[optind], 1u << 30, &bytes, &len, &err) ||
        forecaster_load(bytes, len, &f, &err)) {
        free(bytes);
        return cli_fail("qcompare", "%s: %s", argv[optind], err.msg);
    }
    free(bytes);
    struct month_series src;
    struct split_plan plan = {0};
    int exit_code = 1;
    if (series_source_load(a.dataset, a.db, &src, &err)) {
        forecaster_free(f);
        return cli_fail("qcompare", "%s", err.msg);
    }
    if (series_prepare(src.values, src.n, src.first_month, a.protocol, f->cutoff_month,
                       (size_t)f->model->window, (size_t)f->model->horizon, &plan, &err)) {
        cli_fail("qcompare", "%s", err.msg);
        goto cleanup;
    }
    series_rescale(&plan, &f->scaler);
    struct split_range range = a.protocol == PROTOCOL_PAPER ? plan.test : plan.val;
    size_t windows = range.end - range.begin;

    /* exact: the circuits' probabilities recorded for the shot-noise prediction */
    struct qbackend *exact = NULL;
    exact_backend_create(&exact);
    struct recorder rec = {
        {.backend = exact, .poll_seconds = 1.0, .timeout_seconds = 3600}, NULL, 0};
    struct daruan_evaluator ev = {record, &rec};
    struct forecast_metrics m_exact;
    int readout = 0;
    int rc = forecaster_evaluate_quantum(f, &plan, range, &ev, &readout, &m_exact, &err);
    qbackend_destroy(exact);
    if (rc) {
        free(rec.p0);
        cli_fail("qcompare", "%s", err.msg);
        goto cleanup;
    }
    double mse_shots = 0;
    struct backend_evaluator used;
    if ((rc =
             run_shots(f, &plan, range, &a, a.shots, a.noise, &mse_shots, &used, &readout, &err))) {
        free(rec.p0);
        cli_fail("qcompare", "%s", err.msg);
        goto cleanup;
    }
    double rel = (mse_shots - m_exact.scaled_mse) / m_exact.scaled_mse;
    double predicted = predicted_mse_increase(f, &rec, windows, readout, (int)a.shots);
    const char *readout_name = readout == DARUAN_BORN ? "born" : "amplitude";
    json_t *sweep = json_array();
    if (a.sweep) {
        for (long shots = 256; shots <= 65536; shots *= 2) {
            double mse = 0;
            if (run_shots(f, &plan, range, &a, shots, a.noise, &mse, NULL, &readout, &err))
                break;
            json_array_append_new(
                sweep, json_pack("{s:I, s:f, s:f, s:f}", "shots", (json_int_t)shots, "mse", mse,
                                 "relative_mse_difference",
                                 (mse - m_exact.scaled_mse) / m_exact.scaled_mse,
                                 "predicted_relative_difference",
                                 predicted_mse_increase(f, &rec, windows, readout, (int)shots) /
                                     m_exact.scaled_mse));
        }
    }
    struct qc_outcome q = {windows,   readout_name, m_exact.scaled_mse, mse_shots, rel,
                           predicted, &used};
    print_qcompare(&a, &q, sweep);
    free(rec.p0);
    exit_code = 0;
cleanup:
    series_free(&plan);
    month_series_free(&src);
    forecaster_free(f);
    return exit_code;
}
