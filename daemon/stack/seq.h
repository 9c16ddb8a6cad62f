/* seq.h - modular 32-bit sequence-number arithmetic (RFC 9293 3.4).
 *
 * Sequence numbers live on a circle of 2^32; "a before b" means b - a, taken as a signed 32-bit
 * difference, is positive. Every comparison of sequence or acknowledgement numbers in the TCP
 * module goes through these helpers, never through < or > on raw values.
 * Must not: know about connections.
 */
#ifndef TAPIR_SEQ_H
#define TAPIR_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/** seq_diff() - signed distance from @b to @a (positive: @a is after @b) */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/** seq_lt() - @a comes strictly before @b */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

/** seq_leq() - @a comes before @b or equals it */
static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

/** seq_gt() - @a comes strictly after @b */
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

/** seq_geq() - @a comes after @b or equals it */
static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

/**
 * seq_between() - @lo <= @x < @hi on the circle (half-open, as RFC 9293 3.10.7.4 writes
 * "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND")
 */
static inline bool seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x - lo < hi - lo;
}

/** seq_max() - the later of @a and @b */
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

/** seq_min() - the earlier of @a and @b */
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
