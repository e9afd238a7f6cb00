/* bytes — little-endian writer/reader and CRC-32 (see bytes.h). */
#include "base/bytes.h"
#include "base/buf.h"

#include <string.h>

/* The writer keeps its own fields (callers read data and len); its growth is struct buf's. */
static struct buf as_buf(const struct bytes_writer *w)
{
    return (struct buf){w->data, w->len, w->cap, w->failed};
}

static void from_buf(struct bytes_writer *w, struct buf b)
{
    *w = (struct bytes_writer){b.data, b.len, b.cap, b.failed};
}

void bytes_put(struct bytes_writer *w, const void *src, size_t n)
{
    struct buf b = as_buf(w);
    buf_append(&b, src, n);
    from_buf(w, b);
}

void bytes_put_u32(struct bytes_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    bytes_put(w, b, 4);
}

void bytes_put_u64(struct bytes_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    bytes_put(w, b, 8);
}

void bytes_put_f64(struct bytes_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bytes_put_u64(w, bits);
}

void bytes_put_f64s(struct bytes_writer *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bytes_put_f64(w, v[i]);
}

void bytes_put_str(struct bytes_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    bytes_put_u32(w, (uint32_t)n);
    bytes_put(w, s, n);
}

void bytes_patch_u32(struct bytes_writer *w, size_t offset, uint32_t v)
{
    if (w->failed || offset > w->len || w->len - offset < 4)
        return;
    for (int i = 0; i < 4; i++)
        w->data[offset + i] = (uint8_t)(v >> (8 * i));
}

uint8_t *bytes_take(struct bytes_writer *w, size_t *len)
{
    struct buf b = as_buf(w);
    uint8_t *d = buf_take(&b, len);
    from_buf(w, b);
    return d;
}

void bytes_writer_free(struct bytes_writer *w)
{
    struct buf b = as_buf(w);
    buf_free(&b);
    from_buf(w, b);
}

void bytes_get(struct bytes_reader *r, void *dst, size_t n)
{
    if (r->failed || n > r->len - r->pos) {
        r->failed = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->data + r->pos, n);
    r->pos += n;
}

uint32_t bytes_get_u32(struct bytes_reader *r)
{
    uint8_t b[4];
    bytes_get(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t bytes_get_u64(struct bytes_reader *r)
{
    uint8_t b[8];
    bytes_get(r, b, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

double bytes_get_f64(struct bytes_reader *r)
{
    uint64_t bits = bytes_get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void bytes_get_f64s(struct bytes_reader *r, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = bytes_get_f64(r);
}

void bytes_get_str(struct bytes_reader *r, char *buf, size_t size)
{
    uint32_t n = bytes_get_u32(r);
    if (r->failed || n >= size || n > r->len - r->pos) {
        r->failed = 1;
        if (size)
            buf[0] = '\0';
        return;
    }
    bytes_get(r, buf, n);
    buf[n] = '\0';
}

uint32_t bytes_crc32(uint32_t crc, const void *data, size_t n)
{
    /* nibble-at-a-time table for the reflected polynomial 0xedb88320 */
    static const uint32_t table[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
                                       0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
                                       0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                       0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = table[crc & 0x0f] ^ (crc >> 4);
        crc = table[crc & 0x0f] ^ (crc >> 4);
    }
    return ~crc;
}
