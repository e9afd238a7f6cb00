/* config — key=value model options (see config.h). */
#include "model/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_value_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '+' || c == '-';
}

static int is_separator(char c)
{
    return c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

static struct config_option *find(struct model_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->options[i].key, key))
            return &cfg->options[i];
    return NULL;
}

int config_set(struct model_config *cfg, const char *key, const char *value, fw_error *err)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || kl >= CONFIG_KEY_MAX || vl == 0 || vl >= CONFIG_VALUE_MAX)
        return fw_error_set(err, FW_EINVAL, "config option '%.40s': key or value empty or too long",
                            key);
    for (size_t i = 0; i < kl; i++)
        if (!is_key_char(key[i]))
            return fw_error_set(err, FW_EINVAL, "config key '%.40s': only a-z, 0-9 and _", key);
    for (size_t i = 0; i < vl; i++)
        if (!is_value_char(value[i]))
            return fw_error_set(err, FW_EINVAL, "config option '%s': bad character in value", key);
    struct config_option *o = find(cfg, key);
    if (!o) {
        if (cfg->n == CONFIG_MAX_OPTIONS)
            return fw_error_set(err, FW_EINVAL, "too many config options (at most %d)",
                                CONFIG_MAX_OPTIONS);
        o = &cfg->options[cfg->n++];
        memcpy(o->key, key, kl + 1);
        o->used = 0;
    }
    memcpy(o->value, value, vl + 1);
    return FW_OK;
}

int config_parse(struct model_config *cfg, const char *text, fw_error *err)
{
    struct model_config tmp = {0};
    const char *p = text ? text : "";
    while (*p) {
        while (*p && is_separator(*p))
            p++;
        if (!*p)
            break;
        char key[CONFIG_KEY_MAX], value[CONFIG_VALUE_MAX];
        size_t kl = 0, vl = 0;
        while (*p && *p != '=' && !is_separator(*p)) {
            if (kl + 1 >= sizeof key)
                return fw_error_set(err, FW_EINVAL, "config: key too long");
            key[kl++] = *p++;
        }
        key[kl] = '\0';
        if (*p != '=')
            return fw_error_set(err, FW_EINVAL, "config: expected key=value near '%.20s'", key);
        p++;
        while (*p && !is_separator(*p)) {
            if (vl + 1 >= sizeof value)
                return fw_error_set(err, FW_EINVAL, "config option '%s': value too long", key);
            value[vl++] = *p++;
        }
        value[vl] = '\0';
        if (find(&tmp, key))
            return fw_error_set(err, FW_EINVAL, "config option '%s' given twice", key);
        int rc = config_set(&tmp, key, value, err);
        if (rc)
            return rc;
    }
    *cfg = tmp;
    return FW_OK;
}

void config_format_real(double v, char *buf, size_t size)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* An absent option takes its default, which is recorded so the resolved config is complete. */
static int set_default(struct model_config *cfg, const char *key, const char *text, void *out,
                       const void *def, size_t size, fw_error *err)
{
    int rc = config_set(cfg, key, text, err);
    if (rc)
        return rc;
    find(cfg, key)->used = 1;
    memcpy(out, def, size);
    return FW_OK;
}

int config_int(struct model_config *cfg, const char *key, long def, long min, long max, long *out,
               fw_error *err)
{
    struct config_option *o = find(cfg, key);
    if (!o) {
        char text[32];
        snprintf(text, sizeof text, "%ld", def);
        return set_default(cfg, key, text, out, &def, sizeof def, err);
    }
    o->used = 1;
    char *end;
    errno = 0;
    long v = strtol(o->value, &end, 10);
    if (errno || *end != '\0')
        return fw_error_set(err, FW_EINVAL, "config option '%s': '%s' is not an integer", key,
                            o->value);
    if (v < min || v > max)
        return fw_error_set(err, FW_ERANGE, "config option '%s' = %ld: must be in %ld..%ld", key, v,
                            min, max);
    *out = v;
    return FW_OK;
}

int config_real(struct model_config *cfg, const char *key, double def, double min, double max,
                double *out, fw_error *err)
{
    struct config_option *o = find(cfg, key);
    if (!o) {
        char text[32];
        config_format_real(def, text, sizeof text);
        return set_default(cfg, key, text, out, &def, sizeof def, err);
    }
    o->used = 1;
    char *end;
    errno = 0;
    double v = strtod(o->value, &end);
    if (errno || *end != '\0' || !isfinite(v))
        return fw_error_set(err, FW_EINVAL, "config option '%s': '%s' is not a finite number", key,
                            o->value);
    if (v < min || v > max)
        return fw_error_set(err, FW_ERANGE, "config option '%s' = %g: must be in [%g, %g]", key, v,
                            min, max);
    *out = v;
    return FW_OK;
}

int config_choice(struct model_config *cfg, const char *key, const char *const *choices, int def,
                  int *out, fw_error *err)
{
    struct config_option *o = find(cfg, key);
    if (!o)
        return set_default(cfg, key, choices[def], out, &def, sizeof def, err);
    o->used = 1;
    for (int i = 0; choices[i]; i++)
        if (!strcmp(choices[i], o->value)) {
            *out = i;
            return FW_OK;
        }
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return fw_error_set(err, FW_EINVAL, "config option '%s' = '%s': expected one of %s", key,
                        o->value, list);
}

int config_check_unused(const struct model_config *cfg, fw_error *err)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (!cfg->options[i].used)
            return fw_error_set(err, FW_EINVAL, "unknown config option '%s'", cfg->options[i].key);
    return FW_OK;
}

int config_format(const struct model_config *cfg, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return FW_ERANGE;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->n; i++) {
        int w = snprintf(buf + used, size - used, "%s%s=%s", i ? ";" : "", cfg->options[i].key,
                         cfg->options[i].value);
        if (w < 0 || (size_t)w >= size - used)
            return FW_ERANGE;
        used += (size_t)w;
    }
    return FW_OK;
}
