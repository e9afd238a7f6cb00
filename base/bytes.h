/*
 * bytes — little-endian serialisation into a growable buffer, and bounds-checked reading back.
 * Used by the model file format and training checkpoints. The writer grows as base/buf.h does: it
 * records its first failure (out of memory, or a size that would overflow) and ignores later
 * writes, so callers check once at the end; a reader likewise records running off the end. The
 * writer owns its buffer until bytes_take.
 */
#ifndef FW_BYTES_H
#define FW_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes_writer {
    uint8_t *data;
    size_t len, cap;
    int failed;
};

void bytes_put(struct bytes_writer *w, const void *src, size_t n);
void bytes_put_u32(struct bytes_writer *w, uint32_t v);
void bytes_put_u64(struct bytes_writer *w, uint64_t v);
void bytes_put_f64(struct bytes_writer *w, double v);
void bytes_put_f64s(struct bytes_writer *w, const double *v, size_t n);
/* A string as u32 length + bytes (no NUL). */
void bytes_put_str(struct bytes_writer *w, const char *s);
/* Overwrites 4 bytes at offset (for a length or checksum filled in later). */
void bytes_patch_u32(struct bytes_writer *w, size_t offset, uint32_t v);
/* Hands the buffer to the caller (who frees it); the writer is reset. NULL if a write failed. */
uint8_t *bytes_take(struct bytes_writer *w, size_t *len);
void bytes_writer_free(struct bytes_writer *w);

struct bytes_reader {
    const uint8_t *data;
    size_t len, pos;
    int failed;
};

void bytes_get(struct bytes_reader *r, void *dst, size_t n);
uint32_t bytes_get_u32(struct bytes_reader *r);
uint64_t bytes_get_u64(struct bytes_reader *r);
double bytes_get_f64(struct bytes_reader *r);
void bytes_get_f64s(struct bytes_reader *r, double *v, size_t n);
/* Reads a string written by bytes_put_str into buf (NUL-terminated); fails if it does not fit. */
void bytes_get_str(struct bytes_reader *r, char *buf, size_t size);

/* CRC-32 (IEEE 802.3, as zlib) of n bytes, continuing from crc (start with 0). */
uint32_t bytes_crc32(uint32_t crc, const void *data, size_t n);

#endif
