/* Tests for model/smooth: SILSO's 13-month smoothing, on hand-made series and on the whole SILSO
 * record (data/SN_m_tot_V2.0.csv against SILSO's own data/SN_ms_tot_V2.0.csv). */
#include "testutil.h"
#include "model/smooth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE(a, b) assert_true(fabs((a) - (b)) <= 1e-12 * (1.0 + fabs(b)))

/* Reads a SILSO monthly file (year;month;decimal date;value;...) into a malloc'd array, -1 as NaN.
 * Checks that the months are consecutive from 1749-01. */
static double *load_silso(const char *rel, size_t *n)
{
    char *path = tu_path(rel);
    size_t len = 0;
    char *text = path ? tu_read_file(path, &len) : NULL;
    if (!text)
        fail_msg("cannot read %s (run from the project root or set FWPCAST_ROOT)", rel);
    free(path);
    size_t cap = 4096, count = 0;
    double *values = malloc(cap * sizeof *values);
    assert_non_null(values);
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int year, month;
        double date, value;
        assert_int_equal(sscanf(line, "%d;%d;%lf;%lf", &year, &month, &date, &value), 4);
        assert_int_equal((year - 1749) * 12 + month - 1, (int)count);
        assert_true(count < cap);
        values[count++] = value < 0 ? NAN : value;
    }
    free(text);
    *n = count;
    return values;
}

static void test_formula_by_hand(void **state)
{
    (void)state;
    /* 15 months 1, 2, ..., 15: a straight line is its own smoothing (the weights are symmetric) */
    double line[15], out[15];
    for (int i = 0; i < 15; i++)
        line[i] = i + 1.0;
    assert_int_equal(smooth13(line, 15, out), 0);
    for (int i = 0; i < 15; i++) {
        if (i < 6 || i > 8)
            assert_true(isnan(out[i]));
        else
            CLOSE(out[i], i + 1.0);
    }
    /* one month of 12 at the centre or inside: 12 / 12; at the ends (weight 1/2): 6 / 12 */
    double spike[13] = {0};
    spike[6] = 12.0;
    assert_int_equal(smooth13(spike, 13, out), 0);
    CLOSE(out[6], 1.0);
    spike[6] = 0.0;
    spike[1] = 12.0;
    assert_int_equal(smooth13(spike, 13, out), 0);
    CLOSE(out[6], 1.0);
    spike[1] = 0.0;
    spike[0] = 12.0;
    assert_int_equal(smooth13(spike, 13, out), 0);
    CLOSE(out[6], 0.5);
    spike[0] = 0.0;
    spike[12] = 12.0;
    assert_int_equal(smooth13(spike, 13, out), 0);
    CLOSE(out[6], 0.5);
}

static void test_missing_and_short(void **state)
{
    (void)state;
    double x[30], out[30];
    for (int i = 0; i < 30; i++)
        x[i] = 10.0;
    x[15] = NAN; /* spoils months 9..21 exactly */
    assert_int_equal(smooth13(x, 30, out), 0);
    for (int i = 0; i < 30; i++) {
        if (i < 6 || i >= 24 || (i >= 9 && i <= 21))
            assert_true(isnan(out[i]));
        else
            CLOSE(out[i], 10.0);
    }
    /* fewer than 13 months: nothing is defined */
    assert_int_equal(smooth13(x, 12, out), 0);
    for (int i = 0; i < 12; i++)
        assert_true(isnan(out[i]));
    /* an infinite month gives NaN, not an infinite smoothed value */
    x[15] = INFINITY;
    assert_int_equal(smooth13(x, 30, out), 0);
    assert_true(isnan(out[15]) && isnan(out[9]) && !isnan(out[8]));
    /* empty and bad arguments */
    assert_int_equal(smooth13(NULL, 0, NULL), 0);
    assert_int_equal(smooth13(NULL, 5, out), FW_EINVAL);
    assert_int_equal(smooth13(x, 5, NULL), FW_EINVAL);
    assert_int_equal(smooth13(x, 30, x), FW_EINVAL);
}

static void test_joined_equals_concatenation(void **state)
{
    (void)state;
    /* observed 40 months, forecast 25 months */
    double all[65], ref[65], out[65];
    for (int i = 0; i < 65; i++)
        all[i] = 50.0 + 40.0 * sin(i * 0.3) + (i % 7);
    assert_int_equal(smooth13(all, 65, ref), 0);
    for (size_t cut = 0; cut <= 65; cut += 13) {
        for (size_t first = 0; first <= 65; first += 5) {
            memset(out, 0, sizeof out);
            assert_int_equal(smooth13_joined(cut ? all : NULL, cut, cut < 65 ? all + cut : NULL,
                                             65 - cut, first, out),
                             0);
            for (size_t i = first; i < 65; i++) {
                if (isnan(ref[i]))
                    assert_true(isnan(out[i - first]));
                else
                    assert_true(out[i - first] == ref[i]); /* same sums in the same order */
            }
        }
    }
    /* bands: only months from 6 before the junction on depend on the forecast */
    double other[25];
    for (int i = 0; i < 25; i++)
        other[i] = 3.0 * i;
    assert_int_equal(smooth13_joined(all, 40, other, 25, 0, out), 0);
    for (size_t i = 0; i < 34; i++)
        assert_true(isnan(ref[i]) ? isnan(out[i]) : out[i] == ref[i]);
    assert_true(out[34] != ref[34]);
    /* bad arguments */
    assert_int_equal(smooth13_joined(all, 40, other, 25, 66, out), FW_EINVAL);
    assert_int_equal(smooth13_joined(all, 40, other, 25, 65, NULL), 0); /* nothing to write */
    assert_int_equal(smooth13_joined(all, 40, NULL, 25, 0, out), FW_EINVAL);
    assert_int_equal(smooth13_joined(NULL, 40, other, 25, 0, out), FW_EINVAL);
    assert_int_equal(smooth13_joined(all, 40, other, 25, 0, other), FW_EINVAL);
    assert_int_equal(smooth13_joined(all, 40, other, 25, 0, all), FW_EINVAL);
}

/* The whole SILSO record: every month SILSO gives a smoothed value for, we give it within 0.05
 * (their values are rounded to 0.1) plus floating-point rounding; where SILSO writes -1 (the
 * first and the last 6 months), we give NaN, and nowhere else. */
static void test_reproduces_silso(void **state)
{
    (void)state;
    size_t n_m = 0, n_s = 0;
    double *monthly = load_silso("data/SN_m_tot_V2.0.csv", &n_m);
    double *silso = load_silso("data/SN_ms_tot_V2.0.csv", &n_s);
    assert_int_equal(n_m, n_s);
    assert_true(n_m >= 3333);
    double *ours = malloc(n_m * sizeof *ours);
    assert_non_null(ours);
    assert_int_equal(smooth13(monthly, n_m, ours), 0);
    double worst = 0.0;
    size_t compared = 0, worst_at = 0;
    for (size_t i = 0; i < n_m; i++) {
        assert_true(isnan(silso[i]) == isnan(ours[i]));
        if (isnan(silso[i]))
            continue;
        double d = fabs(ours[i] - silso[i]);
        if (d > worst) {
            worst = d;
            worst_at = i;
        }
        compared++;
    }
    assert_int_equal(compared, n_m - 12);
    if (worst > 0.05 + 1e-9)
        fail_msg("month %zu: ours %.4f, SILSO %.1f", worst_at, ours[worst_at], silso[worst_at]);
    /* and the agreement is not trivially loose: the rounding error reaches 0.05 somewhere */
    assert_true(worst > 0.049);
    free(ours);
    free(silso);
    free(monthly);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formula_by_hand),
        cmocka_unit_test(test_missing_and_short),
        cmocka_unit_test(test_joined_equals_concatenation),
        cmocka_unit_test(test_reproduces_silso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
