/*
 * bench_model — speed of the gated QKAN-FWP on the paper protocol: seconds per training epoch
 * (2,084 windows forward + backward + Adam, plus validation over 260), by thread count and by
 * recursion path; single 528 -> 132 forecasts (latency and throughput); peak RSS. Prints a
 * Markdown table. Timings are medians over repeats in this one run.
 *
 * Usage: bench_model [DATASET] [EPOCHS_PER_POINT] [ARCH [THREADS]]
 *   (defaults: the authors' SILSO copy, 3). With ARCH, only that architecture's median seconds
 *   per epoch on THREADS threads (default 2) is printed, one line (`make bench` runs them all).
 */
#include "ingest/import.h"
#include "model/forecaster.h"
#include "base/period.h"
#include "model/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *colon = strchr(line, ':');
            if (colon) {
                snprintf(buf, size, "%s", colon + 2);
                buf[strcspn(buf, "\n")] = '\0';
            }
            break;
        }
    if (f)
        fclose(f);
}

struct epoch_timer {
    double seconds[64];
    int n;
};

static void on_epoch(void *ctx, const struct train_progress *p, const struct train_state *s)
{
    (void)s;
    struct epoch_timer *t = ctx;
    if (t->n < 64)
        t->seconds[t->n++] = p->seconds;
}

/* Median seconds per epoch of an architecture for a config and thread count. */
static double time_arch_epochs(const struct split_plan *plan, const char *arch, const char *config,
                               int threads, int epochs, size_t *n_params)
{
    struct model *m = NULL;
    fw_error err;
    if (model_create(arch, config, 0, &m, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    struct train_options o;
    train_options_default(&o);
    o.epochs = epochs;
    o.threads = threads;
    struct train_state s;
    struct epoch_timer t = {{0}, 0};
    if (train_state_init(&s, m, &o) || train_run(m, plan, &o, &s, on_epoch, &t, NULL, &err)) {
        fprintf(stderr, "bench: training failed: %s\n", err.msg);
        exit(1);
    }
    train_state_free(&s);
    if (n_params)
        *n_params = m->n_params;
    model_destroy(m);
    return median(t.seconds, (size_t)t.n);
}

static double time_epochs(const struct split_plan *plan, const char *config, int threads,
                          int epochs)
{
    return time_arch_epochs(plan, "gated-qkan-fwp", config, threads, epochs, NULL);
}

/* Every other registered model on the same protocol and threads (one epoch: a closed-form fit
 * for models that have one). */
static void per_model_table(const struct split_plan *plan, double gated_epoch, int epochs)
{
    printf("\n| model (paper protocol, 2 threads) | parameters | s/epoch (median of %d) | vs "
           "gated-qkan-fwp |\n|---|---|---|---|\n",
           epochs);
    for (size_t i = 0; i < model_registry_count(); i++) {
        const struct model_ops *ops = model_registry_at(i);
        if (!strcmp(ops->name, "ensemble"))
            continue; /* trained member by member: its epochs are its members' */
        int gated = !strcmp(ops->name, "gated-qkan-fwp");
        size_t n_params = 12474;
        double sec =
            gated ? gated_epoch : time_arch_epochs(plan, ops->name, "", 2, epochs, &n_params);
        printf("| %s%s | %zu | %.3f s | %.2fx |\n", ops->name,
               ops->fit_closed_form ? " (closed-form fit)" : "", n_params, sec, sec / gated_epoch);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/benchmarks/authors-Sunspots.csv";
    int epochs = argc > 2 ? atoi(argv[2]) : 3;
    struct import_result *r = NULL;
    fw_error err;
    if (import_file(path, NULL, &r, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double *values = malloc(r->n_points * sizeof *values);
    for (size_t i = 0; i < r->n_points; i++)
        values[i] = r->points[i].value;
    int first;
    period_parse(r->points[0].period, &first);
    struct split_plan plan;
    if (series_prepare(values, r->n_points, first, PROTOCOL_PAPER, -1, 528, 132, &plan, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    if (argc > 3) {
        int threads = argc > 4 ? atoi(argv[4]) : 2;
        size_t n_params = 0;
        double sec = time_arch_epochs(&plan, argv[3], "", threads, epochs, &n_params);
        printf("%s: %zu parameters, %d threads, median of %d epochs: %.3f s/epoch\n", argv[3],
               n_params, threads, epochs, sec);
        series_free(&plan);
        import_result_free(r);
        free(values);
        return 0;
    }
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("machine: %s, %ld online CPUs; data: %s (%zu months, %zu/%zu/%zu windows)\n\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), path, plan.n_months, plan.train.end,
           plan.val.end - plan.val.begin, plan.test.end - plan.test.begin);

    double epoch1 = time_epochs(&plan, "", 1, epochs);
    double epoch2 = time_epochs(&plan, "", 2, epochs);
    double par2 = time_epochs(&plan, "recurrence=parallel", 2, epochs);
    double seq2 = time_epochs(&plan, "recurrence=sequential", 2, 1);

    /* single forecasts: one window of 528 months, one thread, like one API request */
    struct model *m = NULL;
    model_create("gated-qkan-fwp", "", 0, &m, &err);
    struct forecaster *f = NULL;
    forecaster_create(m, &plan.scaler, &f);
    forecaster_calibrate(f, &plan, NULL);
    enum { N_FORECASTS = 2000 };
    static double lat[N_FORECASTS];
    double point[132], lo[264], hi[264], levels[2] = {80, 95};
    for (int i = 0; i < 50; i++) /* warm-up */
        forecaster_predict(f, values, 3265, 132, levels, 2, NULL, point, lo, hi, NULL, &err);
    double t_all = now();
    for (int i = 0; i < N_FORECASTS; i++) {
        double t0 = now();
        forecaster_predict(f, values, 3265 - (size_t)(i % 200), 132, levels, 2, NULL, point, lo, hi,
                           NULL, &err);
        lat[i] = now() - t0;
    }
    double per_second = N_FORECASTS / (now() - t_all);
    double lat_median = median(lat, N_FORECASTS), lat_p99 = lat[(size_t)(0.99 * N_FORECASTS)];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("| measure | fwpcast | authors' PyTorch (anchors-measured.md) | ratio |\n");
    printf("|---|---|---|---|\n");
    printf("| epoch, 2 threads (median of %d) | %.3f s | 80 s (fastest CPU path), 127 s "
           "(qkan exact solver) | %.0fx, %.0fx faster |\n",
           epochs, epoch2, 80 / epoch2, 127 / epoch2);
    printf("| epoch, 1 thread | %.3f s | 169 s | %.0fx faster |\n", epoch1, 169 / epoch1);
    printf("| epoch vs one H100 GPU | %.3f s (2 CPU cores) | 0.49 s | %.2fx |\n", epoch2,
           0.49 / epoch2);
    printf("| single forecast 528->132, median | %.3f ms | 30 ms (CPU), 1.26 ms (H100) | %.0fx, "
           "%.1fx faster |\n",
           1e3 * lat_median, 30 / (1e3 * lat_median), 1.26 / (1e3 * lat_median));
    printf("| single forecast, p99 | %.3f ms | | |\n", 1e3 * lat_p99);
    printf("| forecasts per second, 1 thread | %.0f | | |\n", per_second);
    printf("| peak RSS (whole benchmark) | %.1f MiB | 2.2-4.6 GiB training | |\n",
           ru.ru_maxrss / 1024.0);
    printf("\nrecursion paths (exact; same run, 2 threads): batch scan %.3f s/epoch, per-window "
           "closed form %.3f s (%.2fx the scan), per-window sequential %.3f s (%.2fx)\n",
           epoch2, par2, par2 / epoch2, seq2, seq2 / epoch2);
    printf("thread scaling: %.2fx from 1 to 2 threads\n", epoch1 / epoch2);
    per_model_table(&plan, epoch2, epochs > 2 ? 2 : epochs);
    forecaster_free(f);
    series_free(&plan);
    import_result_free(r);
    free(values);
    return 0;
}
