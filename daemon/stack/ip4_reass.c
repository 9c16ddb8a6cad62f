/* ip4_reass.c - reassembly of the IPv4 fragments the container sends (RFC 791 3.2, RFC 815,
 * RFC 1122 3.3.2): the IPv4 front of reass.c, which keeps the slots, bounds, overlap check
 * and timeouts (and the reasons for each bound).
 *
 * A container fragments a UDP or ICMP datagram larger than its MTU (at MTU 1500, any above
 * 1472 bytes of payload); TCP does not, as it sets DF and sizes its segments, but RFC 1122
 * 3.3.2 makes reassembly a host's duty whatever the protocol, so every protocol is reassembled
 * and the layer above judges the result as it would any datagram.
 *
 * IPv4's own rules here: the key is source, destination, protocol and identification (RFC
 * 791 3.2); a fragment ending beyond 65515 bytes of data (65535 with the header, the "ping of
 * death") discards its datagram (drop_ip_frag_too_big); a non-last fragment whose data is not
 * a multiple of 8 bytes, or an empty one, is malformed (drop_ip_frag_malformed, RFC 791 3.2);
 * a datagram that times out after fragment zero came is answered with ICMP time exceeded
 * (RFC 1122 3.3.2, RFC 792). The datagram is rebuilt with fragment zero's header without
 * options. Overlaps discard the datagram (drop_ip_frag_overlap), as RFC 5722 asks of IPv6.
 * Must not: know about flows or transport headers.
 */
#include <stdlib.h>

#include "stack_internal.h"
#include "checksum.h"
#include "reass.h"

#define IP4_REASS_MAX_DATA (65535 - IP4_HDR_MIN) /* we rebuild with a 20-byte header */
#define IP4_REASS_HDRS (ETH_HDR_LEN + IP4_HDR_MIN) /* in front of the data in a buffer */

static const struct reass_family ip4_family = {
	.hdrs = IP4_REASS_HDRS,
	.max_data = IP4_REASS_MAX_DATA,
	.hdr_len = IP4_HDR_MIN,
};

/**
 * ip4_reass_complete() - every fragment is in: hand the datagram to the layers above
 * @s:		the link's stack
 * @done:	the datagram: fragment zero's header is in front of its data
 * @eth:	the Ethernet header of the fragment that completed it
 * @now_us:	time
 *
 * The datagram is rebuilt as if it had come whole: @eth, fragment zero's IPv4 header without
 * options, not a fragment, its total length and checksum set.
 */
static void ip4_reass_complete(struct stack *s, const struct reass_done *done,
			       const uint8_t *eth, uint64_t now_us)
{
	uint8_t *buf = done->buf, *h = buf + ETH_HDR_LEN;
	size_t total = done->total;
	struct pkt p;

	memcpy(buf, eth, ETH_HDR_LEN);
	h[0] = 0x45;
	wr16(h + 2, (uint16_t)(IP4_HDR_MIN + total));
	wr16(h + 6, 0);
	wr16(h + 10, 0);
	wr16(h + 10, csum_fold(csum_partial(h, IP4_HDR_MIN, 0)));

	memset(&p, 0, sizeof(p));
	p.frame = buf;
	p.frame_len = IP4_REASS_HDRS + total;
	p.ip = h;
	p.ip_len = IP4_HDR_MIN + total;
	p.ihl = IP4_HDR_MIN;
	p.l4 = h + IP4_HDR_MIN;
	p.l4_len = total;
	p.tos = h[1];
	p.ttl = h[8];
	p.proto = h[9];
	p.saddr = rd32(h + 12);
	p.daddr = rd32(h + 16);
	p.now_us = now_us;
	ip4_dispatch(s, &p);
	free(buf);
}

void ip4_reass_input(struct stack *s, const struct pkt *p)
{
	uint16_t frag = rd16(p->ip + 6);
	size_t off = (size_t)(frag & IP4_FRAG_OFF_MASK) * 8, len = p->l4_len;
	bool mf = frag & IP4_FLAG_MF;
	struct reass_key k = { .id = rd16(p->ip + 4), .proto = p->proto };
	struct reass_done done;

	/* RFC 791 3.2: every fragment but the last carries a multiple of 8 data bytes; an
	 * empty one only costs a slot */
	if (!len || (mf && len % 8)) {
		s->cnt.drop_ip_frag_malformed++;
		return;
	}
	if (!s->reass) {
		const struct reass_counters c = {
			.fragment = &s->cnt.drop_ip_fragment,
			.too_big = &s->cnt.drop_ip_frag_too_big,
			.overlap = &s->cnt.drop_ip_frag_overlap,
			.duplicate = &s->cnt.drop_ip_frag_duplicate,
			.timeout = &s->cnt.drop_ip_frag_timeout,
			.over_limit = &s->cnt.drop_ip_frag_over_limit,
			.reassembled = &s->cnt.ip_frag_reassembled,
		};

		s->reass = reass_new(&ip4_family, &c);
		if (!s->reass) {
			s->cnt.drop_ip_fragment++;
			return;
		}
	}
	wr32(k.saddr, p->saddr);
	wr32(k.daddr, p->daddr);
	if (reass_add(s->reass, &k, off, p->l4, len, !mf, p->ip, p->now_us, &done) == REASS_DONE)
		ip4_reass_complete(s, &done, p->frame, p->now_us);
}

/**
 * ip4_reass_time_exceeded() - RFC 1122 3.3.2: tell the container its datagram timed out,
 * quoting fragment zero's header and the data held from offset 0 (RFC 792 type 11 code 1,
 * "fragment reassembly time exceeded"; icmp_send_error rate limits it); a reass_expired_fn
 */
static void ip4_reass_time_exceeded(void *ctx, const uint8_t *hdr, const uint8_t *data,
				    size_t len, uint64_t now_us)
{
	uint8_t q[IP4_HDR_MIN + 64];
	struct pkt p;

	memcpy(q, hdr, IP4_HDR_MIN);
	q[0] = 0x45;
	memcpy(q + IP4_HDR_MIN, data, len);

	memset(&p, 0, sizeof(p));
	p.ip = q;
	p.ip_len = IP4_HDR_MIN + len;
	p.ihl = IP4_HDR_MIN;
	p.l4 = q + IP4_HDR_MIN;
	p.l4_len = len;
	p.proto = q[9];
	p.saddr = rd32(q + 12);
	p.daddr = rd32(q + 16);
	p.now_us = now_us;
	icmp_send_error(ctx, &p, ICMP_TIME_EXCEEDED, 1, p.daddr);
}

void ip4_reass_tick(struct stack *s, uint64_t now_us)
{
	reass_tick(s->reass, now_us, ip4_reass_time_exceeded, s);
}

uint64_t ip4_reass_deadline(const struct stack *s)
{
	return reass_deadline(s->reass);
}

void ip4_reass_free(struct stack *s)
{
	reass_free(s->reass);
	s->reass = NULL;
}

size_t ip4_reass_pending(const struct stack *s)
{
	return reass_pending(s->reass);
}
