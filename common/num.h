/*
 * num.h - parsing unsigned 64-bit integers from text and from JSON numbers,
 * strictly: decimal digits only (no sign, space, exponent or fraction), and
 * a JSON number only if it is integral and exactly representable (<= 2^53).
 */
#ifndef CH_NUM_H
#define CH_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* ch_parse_u64 parses a non-empty string of decimal digits that fits in uint64. */
bool ch_parse_u64(const char *s, uint64_t *out);

/* ch_double_u64 accepts an integral double in [0, 2^53]. */
bool ch_double_u64(double d, uint64_t *out);

#endif
