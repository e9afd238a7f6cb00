/* buf — the growable byte buffer (see buf.h). */
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

#define BUF_FIRST_CAP 256

int buf_reserve(struct buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len <= b->cap && more <= b->cap - b->len)
        return 0;
    if (b->len > BUF_MAX || more > BUF_MAX - b->len) { /* len + more: over BUF_MAX or wraps */
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + more;
    /* cap < need <= BUF_MAX here, so doubling cannot wrap; past BUF_MAX it stops at need */
    size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
    while (cap < need)
        cap = cap > BUF_MAX / 2 ? need : cap * 2;
    void *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

void buf_append(struct buf *b, const void *src, size_t n)
{
    if (n == 0 || buf_reserve(b, n))
        return;
    memcpy((unsigned char *)b->data + b->len, src, n);
    b->len += n;
}

void *buf_take(struct buf *b, size_t *len)
{
    if (b->failed) {
        buf_free(b);
        return NULL;
    }
    void *data = b->data ? b->data : malloc(1);
    if (data)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return data;
}

void buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
