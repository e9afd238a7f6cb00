/*
 * buf — the one growable byte buffer under bytes_writer (bytes.h) and textbuf (textbuf.h).
 *
 * Growth doubles the capacity (256 bytes at first) and is checked for size_t overflow: a request
 * whose size cannot be represented, or is over BUF_MAX, fails like an allocation failure instead
 * of wrapping. The first failure is recorded in `failed` and every later reserve or append is
 * ignored, so callers check once at the end. The buffer owns `data` until buf_take or buf_free.
 * A zeroed struct is an empty buffer.
 */
#ifndef FW_BUF_H
#define FW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    void *data;
    size_t len, cap; /* len <= cap; cap is the size of the allocation behind data */
    int failed;
};

/* The largest buffer: no object may be larger than PTRDIFF_MAX (pointer differences). */
#define BUF_MAX ((size_t)PTRDIFF_MAX)

/* Makes room for `more` bytes after len; 0, or -1 with the buffer marked failed (or it already
 * was). data, len and cap are unchanged on failure. */
int buf_reserve(struct buf *b, size_t more);
/* Appends n bytes of src (ignored once the buffer has failed). */
void buf_append(struct buf *b, const void *src, size_t n);
/* Hands the data to the caller (who frees it) and sets *len; the buffer is reset. An empty buffer
 * still hands over a block the caller can free. NULL (buffer freed, *len untouched) if it failed.
 */
void *buf_take(struct buf *b, size_t *len);
/* Frees the data and resets the buffer to empty. */
void buf_free(struct buf *b);

#endif
