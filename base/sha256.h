/*
 * sha256 — SHA-256 (FIPS 180-4), used for the fingerprint of a dataset's normalised points.
 *
 * Plain incremental hashing over a caller-owned context; no allocation, no global state.
 * Written for fwpcast from the FIPS specification (public domain style).
 */
#ifndef FW_SHA256_H
#define FW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN    65 /* 64 hex digits plus NUL */

struct sha256_ctx {
    uint32_t state[8];
    uint64_t total_len; /* bytes hashed so far */
    unsigned char block[64];
    size_t block_len;
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest; the context must be re-initialised before reuse. */
void sha256_final(struct sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_LEN]);

/* One-shot digest of a buffer. */
void sha256_buffer(const void *data, size_t len, unsigned char digest[SHA256_DIGEST_LEN]);

/* Lower-case hex of a digest, NUL-terminated. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN]);

#endif
