/*
 * config — a model's configuration: a small ordered list of `key=value` options (numbers or
 * words), parsed from text like "window=528;horizon=132;readout=amplitude". The CLI and the
 * server turn a flat JSON object into this text; model files store the resolved text, so a model
 * describes itself. The config owns its strings.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stddef.h>

#include "base/error.h"

#define CONFIG_MAX_OPTIONS 32
#define CONFIG_KEY_MAX     32
#define CONFIG_VALUE_MAX   48

struct config_option {
    char key[CONFIG_KEY_MAX];
    char value[CONFIG_VALUE_MAX];
    int used; /* set when a model read it: unknown keys are reported */
};

struct model_config {
    size_t n;
    struct config_option options[CONFIG_MAX_OPTIONS];
};

/* Parses "k=v;k=v" (also ',' or whitespace as separators). Keys are [a-z0-9_]; values are
 * numbers or words [A-Za-z0-9_.+-]. Duplicate keys are an error. */
int config_parse(struct model_config *cfg, const char *text, fw_error *err);

/* Sets (or replaces) an option. */
int config_set(struct model_config *cfg, const char *key, const char *value, fw_error *err);

/* Reads an integer option in [min, max], marking it used. An absent option takes the default,
 * which is added to cfg, so after a model has read its options cfg is the complete, resolved
 * configuration. */
int config_int(struct model_config *cfg, const char *key, long def, long min, long max, long *out,
               fw_error *err);

/* Reads a finite real option in [min, max]. */
int config_real(struct model_config *cfg, const char *key, double def, double min, double max,
                double *out, fw_error *err);

/* Reads a word option that must be one of the NULL-terminated `choices`; *out is its index. */
int config_choice(struct model_config *cfg, const char *key, const char *const *choices, int def,
                  int *out, fw_error *err);

/* The shortest of %.15g..%.17g that reads back as exactly v ("0.3", not "0.29999..."). */
void config_format_real(double v, char *buf, size_t size);

/* FW_EINVAL naming the first option no model read (a typo in a key). */
int config_check_unused(const struct model_config *cfg, fw_error *err);

/* Writes the options as "k=v;k=v" into buf (NUL-terminated). Returns FW_ERANGE if too small. */
int config_format(const struct model_config *cfg, char *buf, size_t size);

#endif
