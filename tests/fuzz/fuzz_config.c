/*
 * fuzz_config — config_parse (model/config.h), the `key=value;...` text every model file, CLI
 * flag and API request reaches model_create through, then model_create itself. Input: one byte
 * choosing the architecture, one byte of seed, then the config text.
 *
 * Properties: text config_parse accepts, written back by config_format, parses to the same
 * options; and a model built from it has a resolved config that builds the same model again
 * (model files store the resolved text and rebuild from it). model_create only runs on configs
 * whose numbers are all at most 64 in size (and, for the ESN, that set `units`), so that no
 * input asks for a model of gigabytes or a reservoir that takes seconds to build.
 */
#include "fuzz.h"
#include "model/config.h"
#include "model/model.h"

#include <math.h>

#define FORMATTED_MAX (CONFIG_MAX_OPTIONS * (CONFIG_KEY_MAX + CONFIG_VALUE_MAX + 2))

static int same_options(const struct model_config *a, const struct model_config *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->options[i].key, b->options[i].key) ||
            strcmp(a->options[i].value, b->options[i].value))
            return 0;
    return 1;
}

/* Every number at most 64, and for the ESN a reservoir size given: its default of 1,000 units
 * takes seconds to build under the sanitizers (tens of seconds on a busy machine), and
 * libFuzzer's 60 s limit would call that a hang. */
static int small(const struct model_ops *ops, const struct model_config *cfg)
{
    int has_units = 0;
    for (size_t i = 0; i < cfg->n; i++)
        has_units |= !strcmp(cfg->options[i].key, "units");
    if (!strcmp(ops->name, "esn") && !has_units)
        return 0;
    for (size_t i = 0; i < cfg->n; i++) {
        double v = strtod(cfg->options[i].value, NULL);
        if (!(fabs(v) <= 64))
            return 0;
    }
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    const struct model_ops *ops = model_registry_at(fuzz_byte(&in) % model_registry_count());
    uint64_t seed = fuzz_byte(&in);
    char *text = fuzz_string(&in, in.len);
    struct model_config cfg, again;
    char formatted[FORMATTED_MAX];
    fw_error err = {0};
    if (config_parse(&cfg, text, &err) == FW_OK) {
        FUZZ_CHECK(config_format(&cfg, formatted, sizeof formatted) == FW_OK);
        FUZZ_CHECK(config_parse(&again, formatted, &err) == FW_OK);
        FUZZ_CHECK(same_options(&cfg, &again));
    }
    struct model *m = NULL, *rebuilt = NULL;
    if (config_parse(&cfg, text, &err) == FW_OK && small(ops, &cfg) &&
        model_create(ops->name, text, seed, &m, &err) == FW_OK) {
        FUZZ_CHECK(m->window >= 1 && m->horizon >= 1);
        FUZZ_CHECK(config_format(&m->config, formatted, sizeof formatted) == FW_OK);
        FUZZ_CHECK(model_create(ops->name, formatted, seed, &rebuilt, &err) == FW_OK);
        FUZZ_CHECK(rebuilt->n_params == m->n_params && rebuilt->n_buffers == m->n_buffers);
        FUZZ_CHECK(same_options(&m->config, &rebuilt->config));
        FUZZ_CHECK(!memcmp(m->params, rebuilt->params, m->n_params * sizeof *m->params));
    }
    model_destroy(m);
    model_destroy(rebuilt);
    free(text);
    return 0;
}
