/* siphash.c - SipHash-2-4 and key derivation (siphash.h). Written from the paper; checked
 * against the 64 test vectors of the reference implementation (tests/unit/test_siphash.c). */
#include "siphash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/** rd64le() - the little-endian 64-bit word at @p */
static inline uint64_t rd64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/** wr64le() - @v into @p little-endian */
static inline void wr64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One SipRound (paper, section 2). */
#define SIPROUND                                                                           \
	do {                                                                               \
		v0 += v1;                                                                  \
		v1 = rotl(v1, 13);                                                         \
		v1 ^= v0;                                                                  \
		v0 = rotl(v0, 32);                                                         \
		v2 += v3;                                                                  \
		v3 = rotl(v3, 16);                                                         \
		v3 ^= v2;                                                                  \
		v0 += v3;                                                                  \
		v3 = rotl(v3, 21);                                                         \
		v3 ^= v0;                                                                  \
		v2 += v1;                                                                  \
		v1 = rotl(v1, 17);                                                         \
		v1 ^= v2;                                                                  \
		v2 = rotl(v2, 32);                                                         \
	} while (0)

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *in, size_t len)
{
	uint64_t k0 = rd64le(key), k1 = rd64le(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		m = rd64le(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	/* the last 0-7 bytes, with the length's low byte on top (paper, 2.2) */
	for (int j = (int)(len % 8) - 1; j >= 0; j--)
		b |= (uint64_t)in[end + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void siphash_derive_key(const uint8_t secret[SIPHASH_KEY_LEN], const char *label,
			uint8_t out[SIPHASH_KEY_LEN])
{
	uint8_t msg[64];
	size_t n = strnlen(label, sizeof(msg) - 2);

	memcpy(msg, label, n);
	msg[n] = 0; /* the label's end: "ab" + 1 and "a" + "b\1" never collide */
	msg[n + 1] = 1;
	wr64le(out, siphash24(secret, msg, n + 2));
	msg[n + 1] = 2;
	wr64le(out + 8, siphash24(secret, msg, n + 2));
}
