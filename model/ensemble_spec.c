/*
 * ensemble_spec — the text of an ensemble's members= and seeds= options (see ensemble.h): their
 * parsers, which the ensemble model uses when it is created, and the builder the API and the CLI
 * use to turn a request's member list into those options. Pure text; owns nothing.
 */
#include "model/ensemble.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One unsigned decimal number of text[0..len), at most max. */
static int parse_number(const char *text, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int ensemble_members_parse(const char *text, const struct model_ops **ops, size_t *n, fw_error *err)
{
    size_t total = 0;
    const char *p = text ? text : "";
    if (!*p)
        return fw_error_set(err, FW_EINVAL, "ensemble: members is empty (ARCH.COUNT[+...])");
    for (;;) {
        size_t len = strcspn(p, "+");
        const char *dot = NULL;
        for (size_t i = 0; i < len; i++)
            if (p[i] == '.')
                dot = p + i;
        uint64_t count = 0;
        if (!dot || dot == p ||
            parse_number(dot + 1, (size_t)(p + len - dot - 1), ENSEMBLE_MAX_MEMBERS, &count))
            return fw_error_set(err, FW_EINVAL,
                                "ensemble: members entry '%.*s' is not ARCH.COUNT (COUNT 1..%d)",
                                (int)(len < 64 ? len : 64), p, ENSEMBLE_MAX_MEMBERS);
        char arch[64];
        snprintf(arch, sizeof arch, "%.*s", (int)(dot - p < 63 ? dot - p : 63), p);
        const struct model_ops *o = model_find(arch);
        if (!o)
            return fw_error_set(err, FW_EINVAL,
                                "ensemble: unknown member architecture '%s' (fwpcast "
                                "architectures lists them)",
                                arch);
        if (!strcmp(o->name, ensemble_ops.name))
            return fw_error_set(err, FW_EINVAL, "ensemble: an ensemble cannot be a member");
        if (count == 0 || total + count > ENSEMBLE_MAX_MEMBERS)
            return fw_error_set(err, FW_EINVAL, "ensemble: %s members; an ensemble has 1..%d",
                                count == 0 ? "0" : "more than 64", ENSEMBLE_MAX_MEMBERS);
        for (uint64_t k = 0; k < count; k++)
            ops[total++] = o;
        if (!p[len])
            break;
        p += len + 1;
    }
    *n = total;
    return FW_OK;
}

int ensemble_seeds_parse(const char *text, uint64_t max, uint64_t *seeds, size_t *n, fw_error *err)
{
    size_t total = 0;
    const char *p = text ? text : "";
    for (;;) {
        size_t len = strcspn(p, "+,");
        const char *dash = memchr(p, '-', len);
        uint64_t a, b;
        int bad = dash ? parse_number(p, (size_t)(dash - p), max, &a) ||
                             parse_number(dash + 1, (size_t)(p + len - dash - 1), max, &b)
                       : parse_number(p, len, max, &a);
        if (!dash)
            b = a;
        if (bad || a > b)
            return fw_error_set(err, FW_EINVAL,
                                "ensemble: seeds entry '%.*s' is not A or A-B (A <= B, "
                                "each 0..%llu)",
                                (int)(len < 40 ? len : 40), p, (unsigned long long)max);
        if (b - a >= (uint64_t)(ENSEMBLE_MAX_MEMBERS - total))
            return fw_error_set(err, FW_EINVAL, "ensemble: more than %d seeds",
                                ENSEMBLE_MAX_MEMBERS);
        for (uint64_t s = a;; s++) {
            seeds[total++] = s;
            if (s == b)
                break;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    *n = total;
    return FW_OK;
}

int ensemble_seeds_format(const uint64_t *seeds, size_t n, char *text, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return FW_ERANGE;
    text[0] = '\0';
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && seeds[j] != UINT64_MAX && seeds[j + 1] == seeds[j] + 1)
            j++;
        int w = j > i ? snprintf(text + used, size - used, "%s%llu-%llu", used ? "+" : "",
                                 (unsigned long long)seeds[i], (unsigned long long)seeds[j])
                      : snprintf(text + used, size - used, "%s%llu", used ? "+" : "",
                                 (unsigned long long)seeds[i]);
        if (w < 0 || (size_t)w >= size - used)
            return FW_ERANGE;
        used += (size_t)w;
        i = j + 1;
    }
    return FW_OK;
}

/* The index of the group the member at `member` belongs to. */
static size_t group_of(const struct ensemble_spec *s, size_t member)
{
    size_t g = 0, first = 0;
    while (g + 1 < s->n_groups && member >= first + s->count[g])
        first += s->count[g++];
    return g;
}

int ensemble_spec_add(struct ensemble_spec *s, const char *arch, const uint64_t *seeds, size_t n,
                      fw_error *err)
{
    const struct model_ops *o = model_find(arch);
    if (!o)
        return fw_error_set(err, FW_EINVAL,
                            "unknown member architecture '%.60s' (fwpcast architectures lists "
                            "them)",
                            arch ? arch : "(none)");
    if (!strcmp(o->name, ensemble_ops.name))
        return fw_error_set(err, FW_EINVAL, "an ensemble cannot be a member of an ensemble");
    if (n == 0)
        return fw_error_set(err, FW_EINVAL, "member architecture %s has no seeds", o->name);
    if (n > ENSEMBLE_MAX_MEMBERS - s->n_members)
        return fw_error_set(err, FW_EINVAL, "more than %d members", ENSEMBLE_MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < s->n_members; j++)
            if (s->seeds[j] == seeds[i] && !strcmp(s->arch[group_of(s, j)], o->name))
                return fw_error_set(err, FW_EINVAL, "seed %llu is given twice for %s",
                                    (unsigned long long)seeds[i], o->name);
        for (size_t j = 0; j < i; j++)
            if (seeds[j] == seeds[i])
                return fw_error_set(err, FW_EINVAL, "seed %llu is given twice for %s",
                                    (unsigned long long)seeds[i], o->name);
    }
    s->arch[s->n_groups] = o->name;
    s->count[s->n_groups++] = n;
    memcpy(s->seeds + s->n_members, seeds, n * sizeof *seeds);
    s->n_members += n;
    return FW_OK;
}

int ensemble_spec_add_text(struct ensemble_spec *s, const char *text, uint64_t max, fw_error *err)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || !colon[1])
        return fw_error_set(err, FW_EINVAL, "'%.60s' is not ARCH:SEEDS (like gated-qkan-fwp:0-9)",
                            text);
    char arch[64];
    snprintf(arch, sizeof arch, "%.*s", (int)(colon - text < 63 ? colon - text : 63), text);
    uint64_t seeds[ENSEMBLE_MAX_MEMBERS];
    size_t n = 0;
    int rc = ensemble_seeds_parse(colon + 1, max, seeds, &n, err);
    return rc ? rc : ensemble_spec_add(s, arch, seeds, n, err);
}

int ensemble_spec_config(const struct ensemble_spec *s, long keep, char *text, size_t size,
                         fw_error *err)
{
    if (s->n_members == 0)
        return fw_error_set(err, FW_EINVAL, "an ensemble needs at least one member");
    if (keep < 0 || keep > (long)s->n_members)
        return fw_error_set(err, FW_EINVAL, "keep = %ld: must be in 1..%zu (the members)", keep,
                            s->n_members);
    char members[CONFIG_VALUE_MAX * 4] = "", seeds[CONFIG_VALUE_MAX * 4];
    size_t used = 0;
    for (size_t g = 0; g < s->n_groups; g++) {
        int w = snprintf(members + used, sizeof members - used, "%s%s.%zu", g ? "+" : "",
                         s->arch[g], s->count[g]);
        if (w < 0 || (size_t)w >= sizeof members - used || used + (size_t)w >= CONFIG_VALUE_MAX)
            return fw_error_set(err, FW_EINVAL,
                                "the member list does not fit a model config: members=ARCH.COUNT"
                                "+... holds at most %d characters (give fewer entries)",
                                CONFIG_VALUE_MAX - 1);
        used += (size_t)w;
    }
    if (ensemble_seeds_format(s->seeds, s->n_members, seeds, sizeof seeds) ||
        strlen(seeds) >= CONFIG_VALUE_MAX)
        return fw_error_set(err, FW_EINVAL,
                            "the members' seeds do not fit a model config: seeds=A-B+... holds at "
                            "most %d characters (use ranges of consecutive seeds, like 0-9)",
                            CONFIG_VALUE_MAX - 1);
    int w = keep > 0 ? snprintf(text, size, "members=%s;seeds=%s;keep=%ld", members, seeds, keep)
                     : snprintf(text, size, "members=%s;seeds=%s", members, seeds);
    if (w < 0 || (size_t)w >= size)
        return fw_error_set(err, FW_EINVAL, "the ensemble's options are too long");
    return FW_OK;
}
