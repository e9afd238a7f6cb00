/*
 * rng — the project's seeded pseudo-random generator: xoshiro256** (Blackman & Vigna), seeded
 * through splitmix64. Used for initialisation, shuffling, dropout masks and shot sampling, so
 * that the same seed gives the same numbers on every machine. The state is a plain value owned by
 * whoever holds it; there is no global generator.
 */
#ifndef FW_RNG_H
#define FW_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seeds the generator; different seeds give independent-looking streams. */
void rng_seed(rng *r, uint64_t seed);

/* A stream derived from (seed, stream id): used to give each purpose (init, shuffle, dropout of
 * batch k, ...) its own reproducible generator. */
void rng_seed_stream(rng *r, uint64_t seed, uint64_t stream);

uint64_t rng_next(rng *r);

/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(rng *r);

/* Uniform in [lo, hi). */
double rng_uniform_range(rng *r, double lo, double hi);

/* Standard normal (Box–Muller, one value per call, the pair's second value discarded so the
 * stream position does not depend on call history). */
double rng_normal(rng *r);

/* Uniform integer in [0, n), unbiased (Lemire's method). n must be > 0. */
uint64_t rng_below(rng *r, uint64_t n);

/* Fisher–Yates shuffle of n size_t values. */
void rng_shuffle(rng *r, size_t *items, size_t n);

#endif
