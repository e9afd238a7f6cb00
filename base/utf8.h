/*
 * utf8 — the length of one UTF-8 sequence, validated (RFC 3629: shortest form, no surrogates,
 * at most U+10FFFF). Shared by the store's name checks and the importers' encoding check. No
 * allocation, no state.
 */
#ifndef FW_UTF8_H
#define FW_UTF8_H

#include <stddef.h>

/* The length (1..4) of the valid sequence at p, which has avail bytes; 0 when the bytes there
 * are not valid UTF-8 (avail 0 included). An ASCII byte, control characters included, is 1. */
size_t utf8_sequence(const unsigned char *p, size_t avail);

#endif
