/* ibm_samples — the streaming count of a Sampler V2 result's hex samples (see ibm_samples.h).
 * Reads only the caller's text (never past text + len), allocates nothing. */
#include "quantum/ibm_samples.h"
#include "base/error.h"

#include <string.h>

/* The unread rest of the text. */
struct scan {
    const char *p, *end;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int eat(struct scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A string token; raw and len give its undecoded content. */
static int string(struct scan *s, const char **raw, size_t *len)
{
    ws(s);
    if (s->p >= s->end || *s->p != '"')
        return -1;
    const char *start = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        if ((unsigned char)*s->p < 0x20)
            return -1;
        if (*s->p == '\\') {
            if (++s->p >= s->end)
                return -1;
        }
        s->p++;
    }
    if (s->p >= s->end)
        return -1;
    *raw = start;
    *len = (size_t)(s->p - start);
    s->p++;
    return 0;
}

static int skip_value(struct scan *s, int depth)
{
    const char *raw;
    size_t len;
    if (depth > 64)
        return -1;
    ws(s);
    if (s->p >= s->end)
        return -1;
    char c = *s->p;
    if (c == '"')
        return string(s, &raw, &len);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        if (eat(s, close))
            return 0;
        do {
            if (c == '{' && (string(s, &raw, &len) || !eat(s, ':')))
                return -1;
            if (skip_value(s, depth + 1))
                return -1;
        } while (eat(s, ','));
        return eat(s, close) ? 0 : -1;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t wl = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= wl && !memcmp(s->p, words[i], wl)) {
            s->p += wl;
            return 0;
        }
    }
    const char *start = s->p;
    if (*s->p == '-')
        s->p++;
    while (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' || *s->p == 'e' ||
                             *s->p == 'E' || *s->p == '+' || *s->p == '-'))
        s->p++;
    return s->p > start && (s->p[-1] >= '0' && s->p[-1] <= '9') ? 0 : -1;
}

static int key_is(const char *raw, size_t len, const char *name)
{
    return len == strlen(name) && !memcmp(raw, name, len);
}

/* {"samples": ["0x0", ...], "num_bits": 1} */
static int count_register(struct scan *s, uint64_t *zeros, uint64_t *total)
{
    const char *raw;
    size_t len;
    int seen = 0;
    if (!eat(s, '{'))
        return -1;
    if (eat(s, '}'))
        return -1;
    do {
        if (string(s, &raw, &len) || !eat(s, ':'))
            return -1;
        if (!key_is(raw, len, "samples")) {
            if (skip_value(s, 3))
                return -1;
            continue;
        }
        if (!eat(s, '['))
            return -1;
        seen = 1;
        if (eat(s, ']'))
            continue;
        do {
            if (string(s, &raw, &len))
                return -1;
            if (len < 3 || raw[0] != '0' || (raw[1] != 'x' && raw[1] != 'X'))
                return -1;
            int digit = 0;
            for (size_t i = 2; i < len; i++) {
                char c = raw[i];
                if (c >= '0' && c <= '9')
                    digit = c - '0';
                else if (c >= 'a' && c <= 'f')
                    digit = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                    digit = c - 'A' + 10;
                else
                    return -1;
            }
            *zeros += (digit & 1) == 0; /* bit 0 is the register's bit 0 */
            *total += 1;
        } while (eat(s, ','));
        if (!eat(s, ']'))
            return -1;
    } while (eat(s, ','));
    return eat(s, '}') && seen ? 0 : -1;
}

/* {"data": {"c": {...}}, "metadata": {...}}: register c, else the only register. */
static int count_pub(struct scan *s, uint64_t *zeros, uint64_t *total)
{
    const char *raw;
    size_t len;
    int have_c = 0, others = 0, data = 0;
    uint64_t cz = 0, ct = 0, oz = 0, ot = 0;
    if (!eat(s, '{'))
        return -1;
    if (eat(s, '}'))
        return -1;
    do {
        if (string(s, &raw, &len) || !eat(s, ':'))
            return -1;
        if (!key_is(raw, len, "data")) {
            if (skip_value(s, 2))
                return -1;
            continue;
        }
        data = 1;
        if (!eat(s, '{'))
            return -1;
        if (eat(s, '}'))
            continue;
        do {
            if (string(s, &raw, &len) || !eat(s, ':'))
                return -1;
            if (key_is(raw, len, "c")) {
                have_c = 1;
                if (count_register(s, &cz, &ct))
                    return -1;
            } else {
                others++;
                if (count_register(s, &oz, &ot))
                    return -1;
            }
        } while (eat(s, ','));
        if (!eat(s, '}'))
            return -1;
    } while (eat(s, ','));
    if (!eat(s, '}') || !data)
        return -1;
    if (have_c) {
        *zeros = cz, *total = ct;
    } else if (others == 1) {
        *zeros = oz, *total = ot;
    } else {
        return -1;
    }
    return 0;
}

int ibm_count_samples(const char *text, size_t len, size_t n_pubs, uint64_t *zeros,
                      uint64_t *totals)
{
    struct scan s = {text, text + len};
    const char *raw;
    size_t klen, seen = 0;
    int have_results = 0;
    if (!eat(&s, '{'))
        return FW_ECORRUPT;
    if (!eat(&s, '}')) {
        do {
            if (string(&s, &raw, &klen) || !eat(&s, ':'))
                return FW_ECORRUPT;
            if (!key_is(raw, klen, "results")) {
                if (skip_value(&s, 1))
                    return FW_ECORRUPT;
                continue;
            }
            have_results = 1;
            if (!eat(&s, '['))
                return FW_ECORRUPT;
            if (eat(&s, ']'))
                continue;
            do {
                if (seen >= n_pubs)
                    return FW_ECORRUPT;
                uint64_t z = 0, t = 0;
                if (count_pub(&s, &z, &t))
                    return FW_ECORRUPT;
                zeros[seen] = z;
                totals[seen] = t;
                seen++;
            } while (eat(&s, ','));
            if (!eat(&s, ']'))
                return FW_ECORRUPT;
        } while (eat(&s, ','));
        if (!eat(&s, '}'))
            return FW_ECORRUPT;
    }
    ws(&s);
    return have_results && seen == n_pubs && s.p == s.end ? FW_OK : FW_ECORRUPT;
}
