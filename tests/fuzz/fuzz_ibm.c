/*
 * fuzz_ibm — ibm_count_samples (quantum/ibm_samples.h), the streaming counter of IBM Sampler V2
 * results, which reads a provider's answer byte by byte. Input: one byte for the number of PUBs
 * expected (0..7), then the result text.
 *
 * Properties: it never reads outside the text; on success every zeros[i] <= totals[i]; and on any
 * text that is valid JSON (no duplicate keys, no escapes: the scanner looks at raw string bytes)
 * it agrees with the same rules applied to jansson's tree: accepted or not, and the same counts
 * (texts with a NUL byte are left out: jansson skips them).
 */
#include "fuzz.h"
#include "base/error.h"
#include "quantum/ibm_samples.h"

#include <jansson.h>

#define MAX_PUBS 8

/* The scanner skips values it does not read, to a nesting depth of 64 counted from `depth`. */
static int skippable(const json_t *v, int depth)
{
    if (depth > 64)
        return 0;
    size_t i;
    const char *key;
    json_t *child;
    if (json_is_array(v))
        json_array_foreach(v, i, child) if (!skippable(child, depth + 1)) return 0;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, key, child) if (!skippable(child, depth + 1)) return 0;
    return 1;
}

/* A register: {"samples": ["0x..", ...], ...}; -1 if the scanner refuses it. */
static int count_register(const json_t *reg, uint64_t *zeros, uint64_t *total)
{
    const char *key;
    json_t *v;
    int seen = 0;
    if (!json_is_object(reg) || json_object_size(reg) == 0)
        return -1;
    json_object_foreach((json_t *)reg, key, v)
    {
        if (strcmp(key, "samples")) {
            if (!skippable(v, 3))
                return -1;
            continue;
        }
        seen = 1;
        size_t i;
        json_t *s;
        if (!json_is_array(v))
            return -1;
        json_array_foreach(v, i, s)
        {
            const char *hex = json_string_value(s);
            size_t n = hex ? strlen(hex) : 0;
            if (n < 3 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X') ||
                strspn(hex + 2, "0123456789abcdefABCDEF") != n - 2 || n != json_string_length(s))
                return -1;
            char last = hex[n - 1];
            int digit = last <= '9' ? last - '0' : (last | 0x20) - 'a' + 10;
            *zeros += (digit & 1) == 0;
            *total += 1;
        }
    }
    return seen ? 0 : -1;
}

/* The rules of ibm_samples.c's count_pub and ibm_count_samples, on a tree. */
static int count_tree(const json_t *doc, size_t n_pubs, uint64_t *zeros, uint64_t *totals)
{
    const char *key;
    json_t *v;
    int have_results = 0;
    if (!json_is_object(doc))
        return -1;
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "results")) {
            if (!skippable(v, 1))
                return -1;
            continue;
        }
        have_results = 1;
        if (!json_is_array(v) || json_array_size(v) != n_pubs)
            return -1;
        for (size_t i = 0; i < n_pubs; i++) {
            const json_t *pub = json_array_get(v, i), *data = NULL;
            uint64_t cz = 0, ct = 0, oz = 0, ot = 0;
            int have_c = 0, others = 0;
            json_t *m;
            if (!json_is_object(pub) || json_object_size(pub) == 0)
                return -1;
            json_object_foreach((json_t *)pub, key, m)
            {
                if (!strcmp(key, "data"))
                    data = m;
                else if (!skippable(m, 2))
                    return -1;
            }
            if (!json_is_object(data))
                return -1;
            json_object_foreach((json_t *)data, key, m)
            {
                int is_c = !strcmp(key, "c");
                have_c |= is_c, others += !is_c;
                if (count_register(m, is_c ? &cz : &oz, is_c ? &ct : &ot))
                    return -1;
            }
            if (!have_c && others != 1)
                return -1;
            zeros[i] = have_c ? cz : oz;
            totals[i] = have_c ? ct : ot;
        }
    }
    return have_results ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t n_pubs = fuzz_byte(&in) % MAX_PUBS, len;
    char *text = fuzz_rest(&in, &len);
    uint64_t zeros[MAX_PUBS], totals[MAX_PUBS];
    int rc = ibm_count_samples(text, len, n_pubs, zeros, totals);
    FUZZ_CHECK(rc == FW_OK || rc == FW_ECORRUPT);
    for (size_t i = 0; rc == FW_OK && i < n_pubs; i++)
        FUZZ_CHECK(zeros[i] <= totals[i]);
    /* jansson reads past a NUL byte as if it were not there (api_parse_object refuses them) */
    json_t *doc = memchr(text, '\\', len) || memchr(text, '\0', len)
                      ? NULL
                      : json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (doc) {
        uint64_t tree_zeros[MAX_PUBS], tree_totals[MAX_PUBS];
        int tree_rc = count_tree(doc, n_pubs, tree_zeros, tree_totals);
        FUZZ_CHECK((rc == FW_OK) == (tree_rc == 0));
        for (size_t i = 0; rc == FW_OK && i < n_pubs; i++)
            FUZZ_CHECK(zeros[i] == tree_zeros[i] && totals[i] == tree_totals[i]);
        json_decref(doc);
    }
    free(text);
    return 0;
}
