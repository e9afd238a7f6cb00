/*
 * ibm_samples — the IBM backend's reader of Sampler V2 results (quantum-apis.md §3.6): counts the
 * hex samples ("0x0", "0x1", ...) of each PUB straight from the result text, without building a
 * JSON tree (a 10^7-shot result is ~70 MB of text and would take many times that as a tree).
 *
 * A hand-written scanner over the caller's text: it allocates nothing and keeps no state; the
 * text and the output arrays are the caller's. Used by ibm.c's fetch; exposed for the tests and
 * the fuzzer (tests/unit/test_ibm_samples.c, tests/fuzz/fuzz_ibm.c).
 */
#ifndef FW_IBM_SAMPLES_H
#define FW_IBM_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

/* Counts the hex samples of a Sampler V2 pure-JSON result (§3.6): for each of n_pubs results,
 * the samples of register "c" (else of the only register), zeros[i] those with bit 0 clear and
 * totals[i] all of them. Returns 0, or FW_ECORRUPT when the text is not such a result. Its
 * structure is checked on the way (objects, arrays, strings, separators, nothing after the end)
 * but not all of JSON's grammar: skipped numbers, escapes and UTF-8 are not validated. On valid
 * JSON it agrees with a JSON parser (tests/fuzz/fuzz_ibm.c checks that). */
int ibm_count_samples(const char *text, size_t len, size_t n_pubs, uint64_t *zeros,
                      uint64_t *totals);

#endif
