/* ip4_frag.c - IPv4 fragmentation of the datagrams we send the container (RFC 791 2.3, 3.2).
 *
 * Only UDP needs it: a reply from upstream can hold up to 65507 bytes whatever the link's
 * MTU, and the datagram cannot be shortened (TCP sizes its segments to the MSS instead).
 * The datagram, built in the batch's next slot, is copied to the stack's scratch buffer, and
 * each fragment into a slot of its own: a copy, but only for datagrams the link cannot carry
 * whole, which are rare.
 * Inbound fragments are reassembled by ip4_reass.c.
 * Must not: know about flows or transport headers.
 */
#include "stack_internal.h"
#include "checksum.h"

#include <string.h>

#define IP4_TTL_OUT 64 /* as ip4_output() */

/**
 * ip4_output_fragments() - send the L4 data at stack_tx_l4(s) as IPv4 fragments
 * @s:		the link's stack
 * @saddr:	source address
 * @daddr:	destination address (the container's)
 * @proto:	IP protocol of the L4 data
 * @l4_len:	bytes of L4 header and payload at stack_tx_l4(s), at most 65515
 *
 * RFC 791 3.2: every fragment but the last carries a multiple of 8 data bytes and MF; all
 * share one Identification, unique for the source, destination and protocol while they
 * may live (RFC 6864 4.2: a per-stack counter). DF is clear on all of them.
 */
void ip4_output_fragments(struct stack *s, uint32_t saddr, uint32_t daddr, uint8_t proto,
			  size_t l4_len)
{
	size_t chunk = (stack_l4_max(s)) & ~(size_t)7, off;
	uint16_t id = s->ip_id++;

	if (l4_len > 65535 - IP4_HDR_MIN || !chunk)
		return;
	if (!s->cmac_known) {
		arp_request_container(s);
		s->cnt.drop_not_for_us++;
		return;
	}
	memcpy(s->txbuf, stack_tx_l4(s), l4_len);
	for (off = 0; off < l4_len; off += chunk) {
		size_t n = l4_len - off < chunk ? l4_len - off : chunk;
		uint8_t *e = stack_tx_frame(s);
		uint16_t frag = (uint16_t)(off / 8);

		if (off + n < l4_len)
			frag |= IP4_FLAG_MF;
		memcpy(e + ETH_HDR_LEN + IP4_HDR_MIN, s->txbuf + off, n);
		ip4_emit(s, e, saddr, daddr, proto, n, id, frag);
	}
}
