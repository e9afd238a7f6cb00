/* Tests for model/fwp: sequential and closed-form paths agree (forward and backward), and the
 * backward passes match central differences. */
#include "testutil.h"
#include "model/fwp.h"
#include "model/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct problem {
    size_t L, na, nb;
    double *a, *b, *g, *G;
};

static struct problem make_problem(size_t L, size_t na, size_t nb, uint64_t seed, double gmin,
                                   double gmax)
{
    struct problem pr = {L,
                         na,
                         nb,
                         malloc(L * na * sizeof(double)),
                         malloc(L * nb * sizeof(double)),
                         malloc(L * sizeof(double)),
                         malloc(na * nb * sizeof(double))};
    rng r;
    rng_seed(&r, seed);
    for (size_t k = 0; k < L * na; k++)
        pr.a[k] = rng_normal(&r);
    for (size_t k = 0; k < L * nb; k++)
        pr.b[k] = rng_normal(&r);
    for (size_t t = 0; t < L; t++)
        pr.g[t] = rng_uniform_range(&r, gmin, gmax);
    for (size_t k = 0; k < na * nb; k++)
        pr.G[k] = rng_normal(&r);
    return pr;
}

static void free_problem(struct problem *pr)
{
    free(pr->a), free(pr->b), free(pr->g), free(pr->G);
}

static double max_rel(const double *x, const double *y, size_t n)
{
    double scale = 0, diff = 0;
    for (size_t k = 0; k < n; k++) {
        scale = fmax(scale, fmax(fabs(x[k]), fabs(y[k])));
        diff = fmax(diff, fabs(x[k] - y[k]));
    }
    return scale > 0 ? diff / scale : diff;
}

static void compare_paths(size_t L, double gmin, double gmax, uint64_t seed)
{
    struct problem pr = make_problem(L, 60, 20, seed, gmin, gmax);
    size_t n = 60 * 20;
    double *th_seq = malloc(n * sizeof(double)), *th_par = malloc(n * sizeof(double));
    double *states = malloc(L * n * sizeof(double));
    double *w = malloc(L * sizeof(double)), *p = malloc(L * sizeof(double));
    double *scratch = malloc((L * 60 + 2 * n) * sizeof(double));
    fwp_forward_sequential(L, 60, 20, pr.a, pr.b, pr.g, th_seq, states);
    fwp_forward_parallel(L, 60, 20, pr.a, pr.b, pr.g, th_par, w, p, scratch);
    assert_true(max_rel(th_seq, th_par, n) < 1e-12);

    double *da1 = malloc(L * 60 * sizeof(double)), *da2 = malloc(L * 60 * sizeof(double));
    double *db1 = malloc(L * 20 * sizeof(double)), *db2 = malloc(L * 20 * sizeof(double));
    double *dg1 = malloc(L * sizeof(double)), *dg2 = malloc(L * sizeof(double));
    fwp_backward_sequential(L, 60, 20, pr.a, pr.b, pr.g, states, pr.G, da1, db1, dg1, scratch);
    fwp_backward_parallel(L, 60, 20, pr.a, pr.b, pr.g, w, p, pr.G, da2, db2, dg2, scratch);
    assert_true(max_rel(da1, da2, L * 60) < 1e-12);
    assert_true(max_rel(db1, db2, L * 20) < 1e-12);
    assert_true(max_rel(dg1, dg2, L) < 1e-12);
    free(th_seq), free(th_par), free(states), free(w), free(p), free(scratch);
    free(da1), free(da2), free(db1), free(db2), free(dg1), free(dg2);
    free_problem(&pr);
}

static void test_paths_agree(void **state)
{
    (void)state;
    compare_paths(528, 0.80, 0.95, 1);  /* the solar window, gates near their initial 0.88 */
    compare_paths(528, 0.01, 0.999, 2); /* anything in (0,1) */
    compare_paths(64, 0.98, 0.9999, 3); /* long memory */
    compare_paths(1, 0.5, 0.5, 4);
}

static double objective(const struct problem *pr)
{
    size_t n = pr->na * pr->nb;
    double *theta = malloc(n * sizeof(double));
    fwp_forward_sequential(pr->L, pr->na, pr->nb, pr->a, pr->b, pr->g, theta, NULL);
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += pr->G[k] * theta[k];
    free(theta);
    return s;
}

static void test_finite_differences(void **state)
{
    (void)state;
    struct problem pr = make_problem(12, 4, 3, 9, 0.2, 0.95);
    double theta[12], w[12], p[12], scratch[12 * 4 + 24], da[48], db[36], dg[12];
    fwp_forward_parallel(12, 4, 3, pr.a, pr.b, pr.g, theta, w, p, scratch);
    fwp_backward_parallel(12, 4, 3, pr.a, pr.b, pr.g, w, p, pr.G, da, db, dg, scratch);
    const double h = 1e-6;
    double *vars[3] = {pr.a, pr.b, pr.g}, *grads[3] = {da, db, dg};
    size_t counts[3] = {48, 36, 12};
    for (int v = 0; v < 3; v++)
        for (size_t k = 0; k < counts[v]; k++) {
            double keep = vars[v][k];
            vars[v][k] = keep + h;
            double up = objective(&pr);
            vars[v][k] = keep - h;
            double down = objective(&pr);
            vars[v][k] = keep;
            double fd = (up - down) / (2 * h);
            if (tu_reldiff(fd, grads[v][k], 1e-2) >= 1e-6)
                print_error("var %d[%zu]: fd %.12g analytic %.12g\n", v, k, fd, grads[v][k]);
            assert_true(tu_reldiff(fd, grads[v][k], 1e-2) < 1e-6);
        }
    free_problem(&pr);
}

static void test_weights_are_subconvex(void **state)
{
    (void)state;
    /* sum_t w_t = 1 - prod g < 1 (geometric boundedness, paper.md §2). */
    double g[100], w[100], p[100];
    rng r;
    rng_seed(&r, 5);
    double prod = 1;
    for (int t = 0; t < 100; t++) {
        g[t] = rng_uniform_range(&r, 0.5, 0.99);
        prod *= g[t];
    }
    fwp_weights(100, g, w, p);
    double sum = 0;
    for (int t = 0; t < 100; t++) {
        assert_true(w[t] >= 0);
        sum += w[t];
    }
    assert_true(fabs(sum - (1 - prod)) < 1e-14);
}

/* The batch scan against the per-window closed form, forward and backward, with windows that
 * overlap, start at step 0, share ends with other windows' starts, and rows shared by steps. */
static void check_scan(size_t T, size_t L, size_t n, double gmin, double gmax, uint64_t seed)
{
    const size_t na = 6, nb = 4, m = na * nb, rows = T / 2 + 1;
    rng r;
    rng_seed(&r, seed);
    double *a = malloc(rows * na * sizeof(double)), *b = malloc(rows * nb * sizeof(double));
    double *g = malloc(rows * sizeof(double));
    int *row = malloc(T * sizeof(int));
    size_t *start = malloc(n * sizeof(size_t));
    for (size_t k = 0; k < rows * na; k++)
        a[k] = rng_normal(&r);
    for (size_t k = 0; k < rows * nb; k++)
        b[k] = rng_normal(&r);
    for (size_t k = 0; k < rows; k++)
        g[k] = rng_uniform_range(&r, gmin, gmax);
    for (size_t t = 0; t < T; t++)
        row[t] = (int)rng_below(&r, rows);
    start[0] = 0;
    for (size_t k = 1; k < n; k++)
        start[k] = k == 1 ? L : (size_t)rng_below(&r, T - L + 1);
    double *G = malloc(n * m * sizeof(double));
    for (size_t k = 0; k < n * m; k++)
        G[k] = rng_normal(&r);

    struct fwp_scan s = {0};
    assert_int_equal(fwp_scan_prepare(&s, T, na, nb, L, n, a, b, g, row, start), 0);
    for (size_t blk = FWP_SCAN_BLOCKS; blk-- > 0;) /* any order */
        fwp_scan_forward_block(&s, blk);
    double *theta = malloc(n * m * sizeof(double));
    fwp_scan_forward_finish(&s, theta);
    double *da = malloc(T * na * sizeof(double)), *db = malloc(T * nb * sizeof(double));
    double *dg = malloc(T * sizeof(double));
    s.dtheta = G, s.da = da, s.db = db, s.dg = dg;
    for (size_t blk = 0; blk < FWP_SCAN_BLOCKS; blk++)
        fwp_scan_backward_block(&s, blk);
    fwp_scan_backward_finish(&s);

    /* reference: each window on its own, gradients summed per step */
    double *wa = malloc(L * na * sizeof(double)), *wb = malloc(L * nb * sizeof(double));
    double *wg = malloc(L * sizeof(double)), *w = malloc(L * sizeof(double));
    double *p = malloc(L * sizeof(double)), *scratch = malloc(L * na * sizeof(double));
    double *rda = malloc(L * na * sizeof(double)), *rdb = malloc(L * nb * sizeof(double));
    double *rdg = malloc(L * sizeof(double)), *ref_theta = malloc(m * sizeof(double));
    double *sum_da = calloc(T * na, sizeof(double)), *sum_db = calloc(T * nb, sizeof(double));
    double *sum_dg = calloc(T, sizeof(double));
    for (size_t k = 0; k < n; k++) {
        for (size_t t = 0; t < L; t++) {
            size_t rw = (size_t)row[start[k] + t];
            memcpy(wa + t * na, a + rw * na, na * sizeof(double));
            memcpy(wb + t * nb, b + rw * nb, nb * sizeof(double));
            wg[t] = g[rw];
        }
        fwp_forward_parallel(L, na, nb, wa, wb, wg, ref_theta, w, p, scratch);
        assert_true(max_rel(ref_theta, theta + k * m, m) < 1e-12);
        fwp_backward_parallel(L, na, nb, wa, wb, wg, w, p, G + k * m, rda, rdb, rdg, NULL);
        for (size_t t = 0; t < L; t++) {
            size_t step = start[k] + t;
            for (size_t i = 0; i < na; i++)
                sum_da[step * na + i] += rda[t * na + i];
            for (size_t i = 0; i < nb; i++)
                sum_db[step * nb + i] += rdb[t * nb + i];
            sum_dg[step] += rdg[t];
        }
    }
    assert_true(max_rel(sum_da, da, T * na) < 1e-11);
    assert_true(max_rel(sum_db, db, T * nb) < 1e-11);
    assert_true(max_rel(sum_dg, dg, T) < 1e-11);
    fwp_scan_free(&s);
    free(a), free(b), free(g), free(row), free(start), free(G), free(theta), free(da), free(db);
    free(dg), free(wa), free(wb), free(wg), free(w), free(p), free(scratch), free(rda), free(rdb);
    free(rdg), free(ref_theta), free(sum_da), free(sum_db), free(sum_dg);
}

static void test_batch_scan_matches_windows(void **state)
{
    (void)state;
    check_scan(300, 40, 12, 0.8, 0.95, 1);  /* several checkpoint segments */
    check_scan(200, 64, 6, 0.05, 0.999, 2); /* any gates */
    check_scan(97, 97, 1, 0.9, 0.99, 3);    /* one window covering everything */
    check_scan(150, 10, 30, 0.3, 0.7, 4);   /* short windows, many events per step */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_weights_are_subconvex),
        cmocka_unit_test(test_batch_scan_matches_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
