/* checksum.c - RFC 1071 Internet checksum with a 64-bit accumulator. */
#include "checksum.h"

#include <string.h>

uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;

	/* 32-bit big-endian words into a 64-bit accumulator: no carry handling in the loop,
	 * 2^32 words would be needed to overflow it. */
	while (len >= 4) {
		sum += (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint64_t csum_pseudo4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t len)
{
	return (uint64_t)(saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) +
	       proto + len;
}

int csum_ok(const void *buf, size_t len, uint64_t sum)
{
	return csum_fold(csum_partial(buf, len, sum)) == 0;
}

uint64_t csum_pseudo6(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		      uint32_t len)
{
	/* RFC 8200 8.1: source, destination, 32-bit upper-layer length, 24 zero bits and the
	 * next header; the sum of the 16-bit words is the same in any order */
	uint64_t sum = csum_partial(saddr, 16, 0);

	sum = csum_partial(daddr, 16, sum);
	return sum + (len >> 16) + (len & 0xffff) + proto;
}
