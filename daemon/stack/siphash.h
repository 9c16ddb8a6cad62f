/* siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012)
 * and the keys the stack derives with it from a link's one random secret.
 *
 * One secret, several uses: the RFC 6528 ISN function and the flow table's hash must not share
 * a key (issue 14, finding 7), so that what leaks about one (the flow hash's bucket order is
 * visible in timing; ISNs go on the wire) says nothing about the other. Each use gets
 * SipHash(secret, label) under its own label. Must not: do I/O, or keep state.
 */
#ifndef TAPIR_SIPHASH_H
#define TAPIR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* The labels of the derived keys: distinct strings, so the keys are independent PRF outputs. */
#define SIPHASH_LABEL_ISN "tapir/rfc6528-isn"
#define SIPHASH_LABEL_FLOW "tapir/flow-hash"

/**
 * siphash24() - SipHash-2-4 of @len bytes at @in under the 16-byte key @key
 * @key:	the key, as the reference implementation takes it (k0 = bytes 0-7 little-endian)
 * @in:		message
 * @len:	its length
 * Return: the 64-bit hash (the reference's 8 output bytes read little-endian)
 */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *in, size_t len);

/**
 * siphash_derive_key() - a 16-byte key for one use, derived from @secret under @label:
 * SipHash(secret, label || 0x00 || 0x01) || SipHash(secret, label || 0x00 || 0x02), each
 * written little-endian
 * @secret:	the link's random secret (stack_cfg.secret)
 * @label:	the use (SIPHASH_LABEL_*), at most 62 bytes
 * @out:	the derived key
 */
void siphash_derive_key(const uint8_t secret[SIPHASH_KEY_LEN], const char *label,
			uint8_t out[SIPHASH_KEY_LEN]);

#endif
