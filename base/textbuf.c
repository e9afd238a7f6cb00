/* textbuf — growable text and fast number formatting (see textbuf.h). */
#include "base/textbuf.h"
#include "base/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

/* The text buffer keeps its own fields; its growth is struct buf's. */
static struct buf as_buf(const struct textbuf *t)
{
    return (struct buf){t->buf, t->len, t->cap, t->failed};
}

static void from_buf(struct textbuf *t, struct buf b)
{
    *t = (struct textbuf){b.data, b.len, b.cap, b.failed};
}

/* Room for `more` bytes and the NUL after them; 0, or -1 once the buffer has failed. */
static int reserve(struct textbuf *t, size_t more)
{
    /* the common case (room already there) costs no call */
    if (!t->failed && t->len < t->cap && more < t->cap - t->len)
        return 0;
    if (more == SIZE_MAX) { /* more + 1 would wrap */
        t->failed = 1;
        return -1;
    }
    struct buf b = as_buf(t);
    int rc = buf_reserve(&b, more + 1);
    from_buf(t, b);
    return rc;
}

void textbuf_put(struct textbuf *t, const char *s, size_t n)
{
    if (reserve(t, n))
        return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

void textbuf_puts(struct textbuf *t, const char *s)
{
    textbuf_put(t, s, strlen(s));
}

void textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(t, (size_t)n)) {
        t->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

int textbuf_format_double(char *out, double v)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5,  1e6,
                                   1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};
    double a = fabs(v);
    if (!(a >= 1e-3 && a < 1e9)) /* zero, tiny, huge: the general path */
        return a == 0 ? (out[0] = '0', out[1] = '\0', 1) : snprintf(out, 32, "%.10g", v);
    int int_digits = 1; /* digits before the point */
    while (int_digits < 10 && a >= pow10[int_digits])
        int_digits++;
    int decimals = 10 - int_digits;
    if (a < 1) { /* zeros after the point do not count: 0.00123 needs 12 decimals */
        decimals = 10;
        while (a * pow10[decimals - 9] < 1)
            decimals++;
    }
    unsigned long long scaled = (unsigned long long)llround(a * pow10[decimals]);
    unsigned long long unit = (unsigned long long)pow10[decimals];
    unsigned long long whole = scaled / unit, frac = scaled % unit;
    int n = 0;
    if (v < 0)
        out[n++] = '-';
    char rev[24];
    int k = 0;
    do {
        rev[k++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    while (k > 0)
        out[n++] = rev[--k];
    out[n] = '\0';
    if (frac) {
        char digits[24];
        int w = decimals;
        for (int i = w - 1; i >= 0; i--) {
            digits[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        while (w > 0 && digits[w - 1] == '0')
            w--;
        out[n++] = '.';
        memcpy(out + n, digits, (size_t)w);
        n += w;
        out[n] = '\0';
    }
    return n;
}

void textbuf_number(struct textbuf *t, double v)
{
    char tmp[32];
    if (!isfinite(v)) {
        textbuf_put(t, "null", 4);
        return;
    }
    int n = textbuf_format_double(tmp, v);
    textbuf_put(t, tmp, (size_t)n);
}

char *textbuf_take(struct textbuf *t, size_t *len)
{
    if (reserve(t, 0) == 0)
        t->buf[t->len] = '\0'; /* an empty buffer too hands over "" */
    struct buf b = as_buf(t);
    char *s = buf_take(&b, len);
    from_buf(t, b);
    return s;
}

void textbuf_free(struct textbuf *t)
{
    struct buf b = as_buf(t);
    buf_free(&b);
    from_buf(t, b);
}
