/* ip6_reass.c - reassembly of the IPv6 fragments the container sends (RFC 8200 4.5): the IPv6
 * front of reass.c, which keeps the slots, bounds, overlap check and timeouts (see reass.h
 * for the reasoning behind each bound).
 *
 * IPv6's own rules here, each checked before the fragment reaches the core:
 *  - the key is source, destination and identification (RFC 8200 4.5);
 *  - a non-last fragment whose length is not a multiple of 8 (drop_ip6_frag_malformed) or a
 *    fragment ending past 65535 bytes of payload (drop_ip6_frag_too_big) is answered with a
 *    parameter problem, as 4.5 asks;
 *  - any overlap discards the packet (RFC 5722, drop_ip6_frag_overlap), an exact duplicate
 *    only itself (drop_ip6_frag_duplicate);
 *  - a packet that times out after fragment zero came is answered with time exceeded code 1.
 * Atomic fragments (RFC 6946) never come here: ip6_walk() takes them as whole packets.
 * The packet is rebuilt with the fixed header only (the unfragmentable extension headers
 * were walked and accepted on each fragment), whose next header is the fragment header's,
 * and walked again from there. Must not: know about flows or transport headers.
 */
#include <stdlib.h>

#include "stack_internal.h"
#include "reass.h"

#define IP6_REASS_MAX_DATA (65535 - IP6_HDR_LEN) /* payload length is 16 bits */
#define IP6_REASS_HDRS (ETH_HDR_LEN + IP6_HDR_LEN)

static const struct reass_family ip6_family = {
	.hdrs = IP6_REASS_HDRS,
	.max_data = IP6_REASS_MAX_DATA,
	.hdr_len = IP6_HDR_LEN,
};

/**
 * ip6_reass_complete() - every fragment is in: rebuild the packet and walk it again
 * @s:		the link's stack
 * @done:	the packet: fragment zero's fixed header (next header: the fragmentable part's)
 *		is in front of its data
 * @eth:	the Ethernet header of the fragment that completed it
 * @now_us:	time
 */
static void ip6_reass_complete(struct stack *s, const struct reass_done *done,
			       const uint8_t *eth, uint64_t now_us)
{
	uint8_t *buf = done->buf, *h = buf + ETH_HDR_LEN;
	size_t total = done->total;
	struct pkt p;

	memcpy(buf, eth, ETH_HDR_LEN);
	wr16(h + 4, (uint16_t)total);

	memset(&p, 0, sizeof(p));
	p.frame = buf;
	p.frame_len = IP6_REASS_HDRS + total;
	p.ip = h;
	p.ip_len = IP6_HDR_LEN + total;
	p.v6 = true;
	p.ttl = h[7];
	memcpy(p.saddr6, h + 8, 16);
	memcpy(p.daddr6, h + 24, 16);
	p.now_us = now_us;
	p.reassembled = true;
	ip6_walk(s, &p);
	free(buf);
}

void ip6_reass_input(struct stack *s, const struct pkt *p, size_t frag_off)
{
	const uint8_t *fh = p->ip + frag_off;
	uint16_t fo = rd16(fh + 2);
	size_t off = fo & IP6_FRAG_OFF_MASK, data = frag_off + IP6_FRAG_HDR_LEN;
	size_t len = p->ip_len - data;
	bool mf = fo & IP6_FRAG_MF;
	struct reass_key k = { .id = rd32(fh + 4) };
	uint8_t hdr[IP6_HDR_LEN];
	struct reass_done done;

	/* RFC 8200 4.5: a non-last fragment whose length is not a multiple of 8 gets a
	 * parameter problem pointing at the payload length; an empty one is only a cost */
	if (!len || (mf && len % 8)) {
		s->cnt.drop_ip6_frag_malformed++;
		if (len)
			icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 4,
					 s->cfg.gateway6);
		return;
	}
	if (!s->reass6) {
		const struct reass_counters c = {
			.fragment = &s->cnt.drop_ip6_fragment,
			.too_big = &s->cnt.drop_ip6_frag_too_big,
			.overlap = &s->cnt.drop_ip6_frag_overlap,
			.duplicate = &s->cnt.drop_ip6_frag_duplicate,
			.timeout = &s->cnt.drop_ip6_frag_timeout,
			.over_limit = &s->cnt.drop_ip6_frag_over_limit,
			.reassembled = &s->cnt.ip6_frag_reassembled,
		};

		s->reass6 = reass_new(&ip6_family, &c);
		if (!s->reass6) {
			s->cnt.drop_ip6_fragment++;
			return;
		}
	}
	memcpy(k.saddr, p->saddr6, 16);
	memcpy(k.daddr, p->daddr6, 16);
	/* kept from fragment zero: the fixed header, its next header the fragmentable part's */
	memcpy(hdr, p->ip, IP6_HDR_LEN);
	hdr[6] = fh[0];
	switch (reass_add(s->reass6, &k, off, p->ip + data, len, !mf, hdr, p->now_us, &done)) {
	case REASS_TOO_BIG: /* 4.5: past 65535 bytes: parameter problem at the fragment offset */
		icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER,
				 (uint32_t)(frag_off + 2), s->cfg.gateway6);
		break;
	case REASS_DONE:
		ip6_reass_complete(s, &done, p->frame, p->now_us);
		break;
	default:
		break;
	}
}

/**
 * ip6_reass_time_exceeded() - RFC 8200 4.5: tell the container its packet timed out (time
 * exceeded code 1), quoting fragment zero's header and the data held from offset 0; a
 * reass_expired_fn
 */
static void ip6_reass_time_exceeded(void *ctx, const uint8_t *hdr, const uint8_t *data,
				    size_t len, uint64_t now_us)
{
	struct stack *s = ctx;
	uint8_t q[IP6_HDR_LEN + 64];
	struct pkt p;

	memcpy(q, hdr, IP6_HDR_LEN);
	memcpy(q + IP6_HDR_LEN, data, len);
	memset(&p, 0, sizeof(p));
	p.ip = q;
	p.ip_len = IP6_HDR_LEN + len;
	p.v6 = true;
	/* the upper layer, so that an ICMPv6 error is never answered by one (RFC 4443 2.4) */
	p.proto = q[6];
	p.l4 = q + IP6_HDR_LEN;
	p.l4_len = len;
	memcpy(p.saddr6, q + 8, 16);
	memcpy(p.daddr6, q + 24, 16);
	p.now_us = now_us;
	icmp6_send_error(s, &p, ICMP6_TIME_EXCEEDED, 1, 0, s->cfg.gateway6);
}

void ip6_reass_tick(struct stack *s, uint64_t now_us)
{
	reass_tick(s->reass6, now_us, ip6_reass_time_exceeded, s);
}

uint64_t ip6_reass_deadline(const struct stack *s)
{
	return reass_deadline(s->reass6);
}

void ip6_reass_free(struct stack *s)
{
	reass_free(s->reass6);
	s->reass6 = NULL;
}

size_t ip6_reass_pending(const struct stack *s)
{
	return reass_pending(s->reass6);
}
