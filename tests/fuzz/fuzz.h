/*
 * fuzz — what the libFuzzer harnesses in tests/fuzz/ share: the entry points libFuzzer calls, a
 * property check that aborts (so libFuzzer keeps the input as a crash), and a reader that takes
 * bytes off the front of an input. Harnesses own everything they allocate and free it before
 * returning (leaks are reported as crashes).
 */
#ifndef FW_FUZZ_H
#define FW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_input {
    const uint8_t *data;
    size_t len;
};

/* The next byte, 0 once the input is used up. */
static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
    if (!in->len)
        return 0;
    in->len--;
    return *in->data++;
}

/* Up to n bytes as a NUL-terminated malloc'd string (a NUL byte inside ends it early). */
static inline char *fuzz_string(struct fuzz_input *in, size_t n)
{
    if (n > in->len)
        n = in->len;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, in->data, n);
    s[n] = '\0';
    in->data += n;
    in->len -= n;
    return s;
}

/* The rest of the input in a buffer of exactly its size (so reads past it are caught). */
static inline char *fuzz_rest(struct fuzz_input *in, size_t *len)
{
    char *copy = malloc(in->len ? in->len : 1);
    if (!copy)
        abort();
    memcpy(copy, in->data, in->len);
    *len = in->len;
    in->data += in->len;
    in->len = 0;
    return copy;
}

#endif
