/*
 * bench_quantum — speed of the local quantum backends on the paper's workload: the 52,400
 * fast-programmer circuits of the 262 test windows (20 x 10 DARUAN edges each, reps 2), as
 * random circuits of the same shape. Reports the exact backend in circuits per second and the
 * sampler in circuit-shots per second at 1,024 and 65,536 shots, noiseless and with a device
 * preset (the goal: >= 1e8 shots/s on 2 cores; the sampler draws one binomial per circuit, not
 * one generator call per shot). Medians over repeats in this one run; one thread.
 *
 * Usage: bench_quantum [REPEATS]   (default 5)
 */
#include "model/rng.h"
#include "quantum/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_CIRCUITS 52400

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

/* Median seconds of `repeats` runs of the whole batch through b. */
static double time_backend(struct qbackend *b, const struct qcircuit *c, int shots, int repeats,
                           double *p0, uint64_t *zeros)
{
    double t[64];
    for (int r = 0; r < repeats && r < 64; r++) {
        fw_error err = {0};
        double t0 = now();
        if (qbackend_run(b, c, N_CIRCUITS, shots, p0, zeros, 0.01, 60, NULL, &err)) {
            fprintf(stderr, "bench_quantum: %s\n", err.msg);
            exit(1);
        }
        t[r] = now() - t0;
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    return repeats % 2 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    repeats = repeats < 1 ? 1 : repeats > 64 ? 64 : repeats;
    struct qcircuit *c = calloc(N_CIRCUITS, sizeof *c);
    double *p0 = malloc(N_CIRCUITS * sizeof *p0);
    uint64_t *zeros = malloc(N_CIRCUITS * sizeof *zeros);
    rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < N_CIRCUITS; i++) { /* H, then 2 x (RZ RY RZ(x)), then RZ RY */
        circuit_add(&c[i], QGATE_RY, 1.5707963267948966);
        for (int k = 0; k < 7; k++)
            circuit_add(&c[i], k % 2 ? QGATE_RY : QGATE_RZ, rng_uniform_range(&r, -3.2, 3.2));
    }
    struct qbackend *exact = NULL, *ideal = NULL, *noisy = NULL;
    struct noise_model heron;
    fw_error err = {0};
    if (exact_backend_create(&exact) || sampler_backend_create(NULL, 7, &ideal) ||
        noise_model_find("ibm-heron-r2", NULL, &heron, &err) ||
        sampler_backend_create(&heron, 7, &noisy)) {
        fprintf(stderr, "bench_quantum: %s\n", err.msg[0] ? err.msg : "cannot create backends");
        return 1;
    }
    double te = time_backend(exact, c, 0, repeats, p0, zeros);
    printf("| backend (%d circuits, 1 thread, median of %d) | time | throughput |\n", N_CIRCUITS,
           repeats);
    printf("|---|---|---|\n");
    printf("| exact | %.2f ms | %.3g circuits/s |\n", 1e3 * te, N_CIRCUITS / te);
    const int shot_counts[2] = {1024, 65536};
    for (int s = 0; s < 2; s++) {
        double ti = time_backend(ideal, c, shot_counts[s], repeats, p0, zeros);
        double tn = time_backend(noisy, c, shot_counts[s], repeats, p0, zeros);
        double shots = (double)N_CIRCUITS * shot_counts[s];
        printf("| sampler, %d shots | %.2f ms | %.3g shots/s (goal 1e8: %.0fx) |\n", shot_counts[s],
               1e3 * ti, shots / ti, shots / ti / 1e8);
        printf("| sampler + ibm-heron-r2 noise, %d shots | %.2f ms | %.3g shots/s |\n",
               shot_counts[s], 1e3 * tn, shots / tn);
    }
    qbackend_destroy(exact), qbackend_destroy(ideal), qbackend_destroy(noisy);
    free(c), free(p0), free(zeros);
    return 0;
}
