/* checksum.h - the Internet checksum (RFC 1071) with a 64-bit accumulator.
 * Must not: know about any protocol beyond the IPv4 and IPv6 pseudo-headers.
 */
#ifndef TAPIR_CHECKSUM_H
#define TAPIR_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * csum_partial() - add @len bytes at @buf to a running 64-bit sum (unfolded)
 * @buf:	data, any alignment; an odd @len is padded with a zero byte (RFC 1071)
 * @len:	bytes
 * @sum:	running sum from an earlier call, or 0
 * Return: the new running sum; only the last call may have an odd @len
 */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum);

/**
 * csum_fold() - fold a running sum to 16 bits and complement it
 * Return: the checksum as it goes on the wire (host order value; store with wr16)
 */
uint16_t csum_fold(uint64_t sum);

/**
 * csum_pseudo4() - running sum of the IPv4 pseudo-header (RFC 793 3.1, RFC 768)
 * @saddr, @daddr: addresses in host byte order; @proto: IP protocol; @len: L4 length
 */
uint64_t csum_pseudo4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t len);

/**
 * csum_pseudo6() - running sum of the IPv6 pseudo-header (RFC 8200 8.1)
 * @saddr:	source address (16 bytes, network order)
 * @daddr:	destination address
 * @proto:	next header value of the upper layer
 * @len:	upper-layer packet length
 * Return: the running sum (unfolded)
 */
uint64_t csum_pseudo6(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		      uint32_t len);

/**
 * csum_reduce32() - a running sum brought under 2^32 without changing its value modulo
 * 0xffff (2^32 = 1 there), for a 32-bit field such as stack_frame.csum_pseudo
 * @sum:	running sum
 * Return: the equivalent sum, below 2^32
 */
static inline uint32_t csum_reduce32(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return (uint32_t)sum;
}

/**
 * csum_ok() - whether data that embeds its own checksum verifies
 * Return: nonzero if the folded sum over @buf (plus @sum) is zero
 */
int csum_ok(const void *buf, size_t len, uint64_t sum);

#endif
