/*
 * textbuf — a growable text buffer for responses written by hand (Prometheus text, the forecast
 * JSON on the hot path), with a fast formatter for doubles. The buffer owns its memory until
 * textbuf_take. It grows as base/buf.h does: the first failure (out of memory, or a size that would
 * overflow) is recorded and later appends are ignored.
 */
#ifndef FW_TEXTBUF_H
#define FW_TEXTBUF_H

#include <stddef.h>

struct textbuf {
    char *buf;
    size_t len, cap;
    int failed;
};

void textbuf_printf(struct textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void textbuf_put(struct textbuf *t, const char *s, size_t n);
void textbuf_puts(struct textbuf *t, const char *s);
/* A finite double as a JSON number with 10 significant digits ("null" if not finite). */
void textbuf_number(struct textbuf *t, double v);

/* Hands over the NUL-terminated text (caller frees); NULL if an append failed. */
char *textbuf_take(struct textbuf *t, size_t *len);
void textbuf_free(struct textbuf *t);

/* Formats v with 10 significant digits into out (at least 32 bytes); returns the length. The
 * same digits as "%.10g" up to the last digit's rounding, several times faster. */
int textbuf_format_double(char *out, double v);

#endif
