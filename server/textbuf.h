/*
 * textbuf — a growable text buffer for responses written by hand (Prometheus text, the forecast
 * JSON on the hot path), with a fast formatter for doubles. The buffer owns its memory until
 * textbuf_take. Like bytes.h, the first failure is recorded and later appends are ignored.
 */
#ifndef FW_TEXTBUF_H
#define FW_TEXTBUF_H

#include <jansson.h>
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
/* json_dumps(value, flags), but never a partial document: out of memory, jansson's json_dumps
 * (2.14) can drop an object's key and still return the text, which is then not JSON (its dumper
 * ignores a failed write of a key). This sizes the text first and writes it into a buffer that
 * cannot fail. NULL if out of memory or value is NULL; the caller frees the text. */
char *textbuf_json(const json_t *value, size_t flags);

/* Hands over the NUL-terminated text (caller frees); NULL if an append failed. */
char *textbuf_take(struct textbuf *t, size_t *len);
void textbuf_free(struct textbuf *t);

/* Formats v with 10 significant digits into out (at least 32 bytes); returns the length. The
 * same digits as "%.10g" up to the last digit's rounding, several times faster. */
int textbuf_format_double(char *out, double v);

#endif
