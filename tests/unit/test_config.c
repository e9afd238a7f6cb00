/* Tests for model/config: parsing and formatting, every refusal with a message naming the key,
 * typed reads with ranges and recorded defaults, unused-key reports and real formatting. */
#include "testutil.h"
#include "model/config.h"
#include "base/error.h"
#include "model/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void assert_option(const struct model_config *cfg, size_t i, const char *key,
                          const char *value)
{
    assert_true(i < cfg->n);
    assert_string_equal(cfg->options[i].key, key);
    assert_string_equal(cfg->options[i].value, value);
}

static void assert_msg_contains(const fw_error *err, const char *needle)
{
    if (!strstr(err->msg, needle))
        fail_msg("message '%s' does not mention '%s'", err->msg, needle);
}

/* ---- parse / format -------------------------------------------------------------------------- */

static void test_parse_format_round_trip(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    const char *text = "window=528;horizon=132;readout=amplitude;lr=2.5e-3;shift=-1;x_2=+0.5";
    assert_int_equal(config_parse(&cfg, text, &err), FW_OK);
    assert_int_equal(cfg.n, 6);
    assert_option(&cfg, 0, "window", "528");
    assert_option(&cfg, 1, "horizon", "132");
    assert_option(&cfg, 2, "readout", "amplitude");
    assert_option(&cfg, 3, "lr", "2.5e-3");
    assert_option(&cfg, 4, "shift", "-1");
    assert_option(&cfg, 5, "x_2", "+0.5");
    for (size_t i = 0; i < cfg.n; i++)
        assert_int_equal(cfg.options[i].used, 0);

    char buf[256];
    assert_int_equal(config_format(&cfg, buf, sizeof buf), FW_OK);
    assert_string_equal(buf, text);
    struct model_config again;
    assert_int_equal(config_parse(&again, buf, &err), FW_OK);
    assert_int_equal(again.n, cfg.n);
    for (size_t i = 0; i < cfg.n; i++)
        assert_option(&again, i, cfg.options[i].key, cfg.options[i].value);

    /* empty text and NULL are the empty config */
    assert_int_equal(config_parse(&cfg, "", &err), FW_OK);
    assert_int_equal(cfg.n, 0);
    assert_int_equal(config_parse(&cfg, NULL, &err), FW_OK);
    assert_int_equal(cfg.n, 0);
    assert_int_equal(config_format(&cfg, buf, sizeof buf), FW_OK);
    assert_string_equal(buf, "");
}

static void test_separators(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg, " ;a=1, b=two\tc=3.5\n\nd=x;;,", &err), FW_OK);
    assert_int_equal(cfg.n, 4);
    assert_option(&cfg, 0, "a", "1");
    assert_option(&cfg, 1, "b", "two");
    assert_option(&cfg, 2, "c", "3.5");
    assert_option(&cfg, 3, "d", "x");
    char buf[64];
    assert_int_equal(config_format(&cfg, buf, sizeof buf), FW_OK);
    assert_string_equal(buf, "a=1;b=two;c=3.5;d=x"); /* always written with ';' */
}

static void test_refusals(void **state)
{
    (void)state;
    struct {
        const char *text, *mentions;
    } bad[] = {
        {"a=1;a=2", "'a' given twice"},
        {"window=5;horizon=3,window=5", "'window' given twice"},
        {"Window=5", "Window"}, /* keys are lower case */
        {"a-b=1", "a-b"},       /* no '-' in keys */
        {"a=b/c", "'a'"},       /* '/' is no value character */
        {"a=b=c", "'a'"},       /* nor is '=' */
        {"a=\"x\"", "'a'"},     /* nor quotes */
        {"a=1;b", "b"},         /* no '=' */
        {"a=1;b;c=2", "b"},     /* no '=' */
        {"=1", ""},             /* empty key */
        {"a=", "'a'"},          /* empty value */
        {"a= 1", "'a'"},        /* the separator ends the (empty) value */
        {"é=1", ""},            /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct model_config cfg;
        fw_error err = {0};
        assert_int_equal(config_parse(&cfg, "keep=1", &err), FW_OK);
        int rc = config_parse(&cfg, bad[i].text, &err);
        if (rc != FW_EINVAL)
            fail_msg("'%s' gave %d", bad[i].text, rc);
        assert_int_equal(err.code, FW_EINVAL);
        assert_msg_contains(&err, bad[i].mentions);
        /* a failed parse leaves the config as it was */
        assert_int_equal(cfg.n, 1);
        assert_option(&cfg, 0, "keep", "1");
    }
}

static void test_lengths_and_count(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    char key[64], value[64], text[256];
    /* the longest key and value that fit (with their NUL) */
    memset(key, 'k', CONFIG_KEY_MAX - 1);
    key[CONFIG_KEY_MAX - 1] = '\0';
    memset(value, 'v', CONFIG_VALUE_MAX - 1);
    value[CONFIG_VALUE_MAX - 1] = '\0';
    snprintf(text, sizeof text, "%s=%s", key, value);
    assert_int_equal(config_parse(&cfg, text, &err), FW_OK);
    assert_option(&cfg, 0, key, value);
    /* one more character is too long */
    snprintf(text, sizeof text, "%sk=1", key);
    assert_int_equal(config_parse(&cfg, text, &err), FW_EINVAL);
    assert_msg_contains(&err, "too long");
    snprintf(text, sizeof text, "a=%sv", value);
    assert_int_equal(config_parse(&cfg, text, &err), FW_EINVAL);
    assert_msg_contains(&err, "too long");
    assert_msg_contains(&err, "'a'");
    /* the same limits through config_set */
    struct model_config empty = {0};
    assert_int_equal(config_set(&empty, key, value, &err), FW_OK);
    snprintf(text, sizeof text, "%sk", key);
    assert_int_equal(config_set(&empty, text, "1", &err), FW_EINVAL);
    snprintf(text, sizeof text, "%sv", value);
    assert_int_equal(config_set(&empty, "a", text, &err), FW_EINVAL);
    assert_int_equal(empty.n, 1);

    /* CONFIG_MAX_OPTIONS options fit, one more does not */
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; i < CONFIG_MAX_OPTIONS; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "k%d=%d;", i, i);
    assert_true(used < sizeof text - 8);
    assert_int_equal(config_parse(&cfg, text, &err), FW_OK);
    assert_int_equal(cfg.n, CONFIG_MAX_OPTIONS);
    snprintf(text + used, sizeof text - used, "one_more=1");
    assert_int_equal(config_parse(&cfg, text, &err), FW_EINVAL);
    assert_msg_contains(&err, "too many");
    assert_int_equal(cfg.n, CONFIG_MAX_OPTIONS);
    /* replacing an existing key in a full config is fine */
    assert_int_equal(config_set(&cfg, "k3", "33", &err), FW_OK);
    assert_int_equal(cfg.n, CONFIG_MAX_OPTIONS);
    assert_option(&cfg, 3, "k3", "33");
}

static void test_set(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg, "a=1;b=2", &err), FW_OK);
    long v = 0;
    assert_int_equal(config_int(&cfg, "a", 0, 0, 10, &v, &err), FW_OK);
    assert_int_equal(config_set(&cfg, "a", "7", &err), FW_OK); /* replaced in place */
    assert_int_equal(config_set(&cfg, "c", "x", &err), FW_OK); /* appended */
    assert_int_equal(cfg.n, 3);
    assert_option(&cfg, 0, "a", "7");
    assert_option(&cfg, 2, "c", "x");
    assert_int_equal(cfg.options[2].used, 0);
    assert_int_equal(config_set(&cfg, "Bad", "1", &err), FW_EINVAL);
    assert_msg_contains(&err, "Bad");
    assert_int_equal(config_set(&cfg, "d", "a;b", &err), FW_EINVAL);
    assert_msg_contains(&err, "'d'");
    assert_int_equal(config_set(&cfg, "d", "", &err), FW_EINVAL);
    assert_int_equal(config_set(&cfg, "", "1", &err), FW_EINVAL);
    assert_int_equal(cfg.n, 3);
}

static void test_format_buffer_size(void **state)
{
    (void)state;
    struct model_config cfg;
    assert_int_equal(config_parse(&cfg, "ab=1;c=23", NULL), FW_OK);
    char buf[16];
    size_t len = strlen("ab=1;c=23");
    assert_int_equal(config_format(&cfg, buf, len + 1), FW_OK);
    assert_string_equal(buf, "ab=1;c=23");
    assert_int_equal(config_format(&cfg, buf, len), FW_ERANGE);
    assert_int_equal(config_format(&cfg, buf, 3), FW_ERANGE);
    assert_int_equal(config_format(&cfg, buf, 0), FW_ERANGE);
}

/* ---- typed reads ----------------------------------------------------------------------------- */

static void test_int(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg,
                                  "window=528;neg=-3;big=99;frac=1.5;word=abc;huge="
                                  "99999999999999999999999",
                                  &err),
                     FW_OK);
    long v = -1;
    assert_int_equal(config_int(&cfg, "window", 10, 1, 1000, &v, &err), FW_OK);
    assert_int_equal(v, 528);
    assert_int_equal(cfg.options[0].used, 1);
    assert_int_equal(config_int(&cfg, "neg", 0, -5, 5, &v, &err), FW_OK);
    assert_int_equal(v, -3);
    /* the bounds are inclusive */
    assert_int_equal(config_int(&cfg, "big", 0, 99, 99, &v, &err), FW_OK);
    assert_int_equal(v, 99);

    v = -1;
    assert_int_equal(config_int(&cfg, "big", 0, 1, 98, &v, &err), FW_ERANGE);
    assert_int_equal(err.code, FW_ERANGE);
    assert_msg_contains(&err, "'big'");
    assert_msg_contains(&err, "1..98");
    assert_int_equal(v, -1); /* no output on failure */
    assert_int_equal(config_int(&cfg, "neg", 0, 0, 5, &v, &err), FW_ERANGE);
    assert_msg_contains(&err, "'neg'");
    const char *not_int[] = {"frac", "word", "huge"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(config_int(&cfg, not_int[i], 0, -1000, 1000, &v, &err), FW_EINVAL);
        assert_msg_contains(&err, not_int[i]);
        assert_msg_contains(&err, "not an integer");
        assert_int_equal(v, -1);
    }
}

static void test_real(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(
        config_parse(&cfg, "lr=2.5e-3;a=1;p=0.3;inf=inf;nan=nan;w=abc;t=1.5x;big=2", &err), FW_OK);
    double v = -1;
    assert_int_equal(config_real(&cfg, "lr", 0.1, 0.0, 1.0, &v, &err), FW_OK);
    assert_true(v == 2.5e-3);
    assert_int_equal(config_real(&cfg, "a", 0.1, 0.0, 1.0, &v, &err), FW_OK); /* inclusive */
    assert_true(v == 1.0);
    assert_int_equal(config_real(&cfg, "p", 0.0, 0.0, 1.0, &v, &err), FW_OK);
    assert_true(v == 0.3);
    v = -1;
    assert_int_equal(config_real(&cfg, "big", 0.0, 0.0, 1.0, &v, &err), FW_ERANGE);
    assert_msg_contains(&err, "'big'");
    assert_true(v == -1);
    const char *bad[] = {"inf", "nan", "w", "t"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(config_real(&cfg, bad[i], 0.0, -1e300, 1e300, &v, &err), FW_EINVAL);
        char quoted[16];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_msg_contains(&err, quoted);
        assert_true(v == -1);
    }
}

static void test_choice(void **state)
{
    (void)state;
    static const char *const readouts[] = {"amplitude", "probability", "expectation", NULL};
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg, "readout=expectation;mode=fast", &err), FW_OK);
    int v = -1;
    assert_int_equal(config_choice(&cfg, "readout", readouts, 0, &v, &err), FW_OK);
    assert_int_equal(v, 2);
    v = -1;
    static const char *const modes[] = {"slow", "exact", NULL};
    assert_int_equal(config_choice(&cfg, "mode", modes, 0, &v, &err), FW_EINVAL);
    assert_int_equal(v, -1);
    assert_msg_contains(&err, "'mode'");
    assert_msg_contains(&err, "'fast'");
    assert_msg_contains(&err, "slow, exact"); /* the choices are listed */
    /* a choice is matched exactly */
    assert_int_equal(config_parse(&cfg, "readout=Amplitude", &err), FW_OK);
    assert_int_equal(config_choice(&cfg, "readout", readouts, 0, &v, &err), FW_EINVAL);
}

static void test_defaults_are_recorded(void **state)
{
    (void)state;
    static const char *const readouts[] = {"amplitude", "probability", NULL};
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg, "window=24", &err), FW_OK);
    long window = 0, horizon = 0;
    double lr = 0, dropout = 0;
    int readout = -1;
    assert_int_equal(config_int(&cfg, "window", 528, 1, 10000, &window, &err), FW_OK);
    assert_int_equal(config_int(&cfg, "horizon", 132, 1, 10000, &horizon, &err), FW_OK);
    assert_int_equal(config_real(&cfg, "lr", 2.5e-3, 0, 1, &lr, &err), FW_OK);
    assert_int_equal(config_real(&cfg, "dropout", 0.3, 0, 1, &dropout, &err), FW_OK);
    assert_int_equal(config_choice(&cfg, "readout", readouts, 1, &readout, &err), FW_OK);
    assert_int_equal(window, 24);
    assert_int_equal(horizon, 132);
    assert_true(lr == 2.5e-3 && dropout == 0.3);
    assert_int_equal(readout, 1);
    /* the resolved configuration: every option, defaults included, all marked used */
    char buf[256];
    assert_int_equal(config_format(&cfg, buf, sizeof buf), FW_OK);
    assert_string_equal(buf, "window=24;horizon=132;lr=0.0025;dropout=0.3;readout=probability");
    assert_int_equal(config_check_unused(&cfg, &err), FW_OK);

    /* read back with other defaults, the recorded values win */
    struct model_config again;
    assert_int_equal(config_parse(&again, buf, &err), FW_OK);
    assert_int_equal(config_int(&again, "horizon", 1, 1, 10000, &horizon, &err), FW_OK);
    assert_int_equal(config_real(&again, "dropout", 0.9, 0, 1, &dropout, &err), FW_OK);
    assert_int_equal(config_choice(&again, "readout", readouts, 0, &readout, &err), FW_OK);
    assert_int_equal(horizon, 132);
    assert_true(dropout == 0.3);
    assert_int_equal(readout, 1);

    /* a negative default is recorded as written */
    assert_int_equal(config_int(&again, "shift", -7, -10, 10, &window, &err), FW_OK);
    assert_int_equal(window, -7);
    assert_int_equal(config_format(&again, buf, sizeof buf), FW_OK);
    assert_non_null(strstr(buf, ";shift=-7"));
}

static void test_check_unused(void **state)
{
    (void)state;
    struct model_config cfg;
    fw_error err = {0};
    assert_int_equal(config_parse(&cfg, "window=24;windwo=3;horizon=12", &err), FW_OK);
    long v;
    assert_int_equal(config_int(&cfg, "window", 1, 1, 100, &v, &err), FW_OK);
    assert_int_equal(config_int(&cfg, "horizon", 1, 1, 100, &v, &err), FW_OK);
    assert_int_equal(config_check_unused(&cfg, &err), FW_EINVAL);
    assert_msg_contains(&err, "'windwo'");
    /* a read that fails still counts as a read: the error is the bad value, not the key */
    assert_int_equal(config_int(&cfg, "windwo", 1, 5, 100, &v, &err), FW_ERANGE);
    assert_int_equal(config_check_unused(&cfg, &err), FW_OK);
    /* an empty config has nothing unused */
    struct model_config empty = {0};
    assert_int_equal(config_check_unused(&empty, &err), FW_OK);
}

/* ---- config_format_real ---------------------------------------------------------------------- */

static void test_format_real(void **state)
{
    (void)state;
    char buf[40];
    struct {
        double v;
        const char *text;
    } cases[] = {
        {0.3, "0.3"},
        {0.1 + 0.2, "0.30000000000000004"}, /* not 0.3: a different double */
        {2.5e-3, "0.0025"},
        {1.0, "1"},
        {-0.5, "-0.5"},
        {1e-6, "1e-06"},
        {0.0, "0"},
        {100.0, "100"},
        {1.0 / 3.0, "0.3333333333333333"}, /* 16 digits suffice, 15 do not */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        config_format_real(cases[i].v, buf, sizeof buf);
        if (strcmp(buf, cases[i].text))
            fail_msg("%.17g formatted as '%s', expected '%s'", cases[i].v, buf, cases[i].text);
    }

    /* random doubles of every magnitude, and uniform ones, read back exactly */
    rng r;
    rng_seed(&r, 99);
    for (int i = 0; i < 20000; i++) {
        double v;
        if (i % 2) {
            uint64_t bits = rng_next(&r);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else {
            v = rng_uniform_range(&r, -1000, 1000);
        }
        config_format_real(v, buf, sizeof buf);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) != 0)
            fail_msg("%.17g formatted as '%s' reads back as %.17g", v, buf, back);
        /* and every such text is a valid config value */
        struct model_config cfg = {0};
        assert_int_equal(config_set(&cfg, "x", buf, NULL), FW_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_lengths_and_count),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_format_buffer_size),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_real),
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_defaults_are_recorded),
        cmocka_unit_test(test_check_unused),
        cmocka_unit_test(test_format_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
