/* ip6_reass.c - reassembly of the IPv6 fragments the container sends (RFC 8200 4.5), bounded
 * as ip4_reass.c is (see there for the reasoning behind each bound):
 *  - IP6_REASS_SLOTS packets at a time per link, the oldest evicted for a new one
 *    (drop_ip6_frag_over_limit); all buffers of a link under IP6_REASS_BUDGET bytes;
 *  - IP6_REASS_TIMEOUT_US after its first fragment an incomplete packet is discarded
 *    (drop_ip6_frag_timeout), answered with time exceeded code 1 if fragment zero came;
 *  - any overlap discards the packet (RFC 5722, drop_ip6_frag_overlap), an exact duplicate
 *    only itself (drop_ip6_frag_duplicate); a fragment ending past 65535 bytes of payload (drop_ip6_frag_too_big) or a
 *    non-last one whose length is not a multiple of 8 (drop_ip6_frag_malformed) is answered
 *    with a parameter problem as 4.5 asks.
 * Atomic fragments (RFC 6946) never come here: ip6_walk() takes them as whole packets.
 * The packet is rebuilt with the fixed header only (the unfragmentable extension headers
 * were walked and accepted on each fragment), whose next header is the fragment header's,
 * and walked again from there. Must not: know about flows or transport headers.
 */
#include <stdlib.h>

#include "stack_internal.h"

#define IP6_REASS_SLOTS 16
#define IP6_REASS_MAX_DATA (65535 - IP6_HDR_LEN) /* payload length is 16 bits */
#define IP6_REASS_UNITS ((IP6_REASS_MAX_DATA + 7) / 8)
#define IP6_REASS_HDRS (ETH_HDR_LEN + IP6_HDR_LEN)
#define IP6_REASS_BUDGET (4u * (IP6_REASS_HDRS + IP6_REASS_MAX_DATA))
/* ip4_reass.c's 15 s: fragments cross one TAP back to back (RFC 8200 4.5's 60 s is the most
 * a node waits, for paths across the Internet) */
#define IP6_REASS_TIMEOUT_US (15 * 1000000ull)

/**
 * struct reass6 - one packet being reassembled
 * @used:	the slot holds a packet
 * @have_first:	fragment zero arrived
 * @saddr, @daddr, @id: the key (RFC 8200 4.5)
 * @nh:		next header of the fragmentable part (from fragment zero)
 * @first_us:	arrival of its first fragment
 * @total:	payload length, once the last fragment came; 0 before
 * @maxend:	the highest byte received, plus one
 * @have:	bytes received
 * @hdr:	fragment zero's fixed header
 * @buf:	room for Ethernet and fixed headers, then the data (IP6_REASS_HDRS + maxend)
 * @bits:	8-byte units received
 */
struct reass6 {
	bool used;
	bool have_first;
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint8_t nh;
	uint64_t first_us;
	size_t total;
	size_t maxend;
	size_t have;
	uint8_t hdr[IP6_HDR_LEN];
	uint8_t *buf;
	size_t cap;
	uint64_t bits[(IP6_REASS_UNITS + 63) / 64];
};

/**
 * struct ip6_reass - a link's IPv6 reassembly state
 * @held:	bytes of buffer allocated (bounded by IP6_REASS_BUDGET)
 * @d:		the packets
 */
struct ip6_reass {
	size_t held;
	struct reass6 d[IP6_REASS_SLOTS];
};

/**
 * r6_release() - forget a packet and free its buffer
 * @r:		the link's state
 * @d:		the packet
 */
static void r6_release(struct ip6_reass *r, struct reass6 *d)
{
	r->held -= d->cap;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

/**
 * r6_units_set() - how many of units [@from, @to) are marked received
 * @d:		the packet
 * @from:	first unit
 * @to:		past the last unit
 *
 * Return: the count
 */
static size_t r6_units_set(const struct reass6 *d, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t u = from; u < to; u++)
		n += (d->bits[u / 64] >> (u % 64)) & 1;
	return n;
}

/**
 * r6_find() - the packet a fragment belongs to, or a new slot (the oldest evicted and
 * counted when all are taken)
 * @s:		the link's stack
 * @r:		its state
 * @p:		the fragment
 * @id:		its identification
 * @create:	take a slot when none holds the packet
 * @evicted:	set when a packet was evicted to make room
 *
 * Return: the slot, or NULL
 */
static struct reass6 *r6_find(struct stack *s, struct ip6_reass *r, const struct pkt *p,
			      uint32_t id, bool create, bool *evicted)
{
	struct reass6 *free_slot = NULL, *old = NULL;

	for (unsigned int i = 0; i < IP6_REASS_SLOTS; i++) {
		struct reass6 *d = &r->d[i];

		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (d->id == id && !memcmp(d->saddr, p->saddr6, 16) &&
		    !memcmp(d->daddr, p->daddr6, 16))
			return d;
		if (!old || d->first_us < old->first_us)
			old = d;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		s->cnt.drop_ip6_frag_over_limit++;
		r6_release(r, old);
		free_slot = old;
		*evicted = true;
	}
	free_slot->used = true;
	memcpy(free_slot->saddr, p->saddr6, 16);
	memcpy(free_slot->daddr, p->daddr6, 16);
	free_slot->id = id;
	free_slot->first_us = p->now_us;
	return free_slot;
}

/**
 * r6_grow() - make @d's buffer hold @end bytes of data, within the link's budget
 * @r:		the link's state
 * @d:		the packet
 * @end:	data bytes needed
 *
 * Return: true on success
 */
static bool r6_grow(struct ip6_reass *r, struct reass6 *d, size_t end)
{
	size_t need = IP6_REASS_HDRS + end, cap = d->cap ? d->cap : 2048;
	uint8_t *nb;

	if (need <= d->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > IP6_REASS_HDRS + IP6_REASS_MAX_DATA)
		cap = IP6_REASS_HDRS + IP6_REASS_MAX_DATA;
	if (r->held - d->cap + cap > IP6_REASS_BUDGET)
		return false;
	nb = realloc(d->buf, cap);
	if (!nb)
		return false;
	r->held += cap - d->cap;
	d->buf = nb;
	d->cap = cap;
	return true;
}

/**
 * r6_complete() - every fragment is in: rebuild the packet and walk it again
 * @s:		the link's stack
 * @r:		its state
 * @d:		the packet, complete
 * @eth:	the Ethernet header of the fragment that completed it
 * @now_us:	time
 */
static void r6_complete(struct stack *s, struct ip6_reass *r, struct reass6 *d,
			const uint8_t *eth, uint64_t now_us)
{
	uint8_t *buf = d->buf, *h = buf + ETH_HDR_LEN;
	size_t total = d->total;
	struct pkt p;

	memcpy(buf, eth, ETH_HDR_LEN);
	memcpy(h, d->hdr, IP6_HDR_LEN);
	wr16(h + 4, (uint16_t)total);
	h[6] = d->nh;
	d->buf = NULL;
	r->held -= d->cap;
	d->cap = 0;
	r6_release(r, d);
	s->cnt.ip6_frag_reassembled++;

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
	size_t len = p->ip_len - data, end = off + len, u0, u1, set;
	bool mf = fo & IP6_FRAG_MF, evicted = false;
	uint32_t id = rd32(fh + 4);
	struct ip6_reass *r = s->reass6;
	struct reass6 *d;

	/* RFC 8200 4.5: a non-last fragment whose length is not a multiple of 8 gets a
	 * parameter problem pointing at the payload length; an empty one is only a cost */
	if (!len || (mf && len % 8)) {
		s->cnt.drop_ip6_frag_malformed++;
		if (len)
			icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 4,
					 s->cfg.gateway6);
		return;
	}
	if (!r) {
		r = s->reass6 = calloc(1, sizeof(*r));
		if (!r) {
			s->cnt.drop_ip6_fragment++;
			return;
		}
	}
	/* 4.5: past 65535 bytes: parameter problem pointing at the fragment offset */
	if (end > IP6_REASS_MAX_DATA) {
		d = r6_find(s, r, p, id, false, &evicted);
		if (d)
			r6_release(r, d);
		s->cnt.drop_ip6_frag_too_big++;
		icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER,
				 (uint32_t)(frag_off + 2), s->cfg.gateway6);
		return;
	}
	d = r6_find(s, r, p, id, true, &evicted);
	if ((d->total && end > d->total) ||
	    (!mf && (d->maxend > end || (d->total && d->total != end)))) {
		r6_release(r, d);
		s->cnt.drop_ip6_frag_overlap++;
		return;
	}
	u0 = off / 8;
	u1 = (end + 7) / 8;
	set = r6_units_set(d, u0, u1);
	if (set) {
		/* RFC 5722 3: overlapping fragments discard the whole packet. A retransmitted
		 * identical fragment is no overlap of different bytes: only it goes. */
		if (set == u1 - u0 && !memcmp(d->buf + IP6_REASS_HDRS + off, p->ip + data, len)) {
			s->cnt.drop_ip6_frag_duplicate++;
			return;
		}
		r6_release(r, d);
		s->cnt.drop_ip6_frag_overlap++;
		return;
	}
	if (!r6_grow(r, d, end)) {
		r6_release(r, d);
		if (!evicted)
			s->cnt.drop_ip6_frag_over_limit++;
		return;
	}
	memcpy(d->buf + IP6_REASS_HDRS + off, p->ip + data, len);
	for (size_t u = u0; u < u1; u++)
		d->bits[u / 64] |= 1ull << (u % 64);
	d->have += len;
	if (end > d->maxend)
		d->maxend = end;
	if (!mf)
		d->total = end;
	if (!off) {
		memcpy(d->hdr, p->ip, IP6_HDR_LEN);
		d->nh = fh[0];
		d->have_first = true;
	}
	if (d->total && d->have == d->total && d->have_first)
		r6_complete(s, r, d, p->frame, p->now_us);
}

/**
 * r6_time_exceeded() - RFC 8200 4.5: tell the container its packet timed out (time exceeded
 * code 1), quoting fragment zero's header and the data held from offset 0
 * @s:		the link's stack
 * @d:		the packet, with fragment zero
 * @now_us:	time
 */
static void r6_time_exceeded(struct stack *s, const struct reass6 *d, uint64_t now_us)
{
	uint8_t q[IP6_HDR_LEN + 64];
	size_t units = 0, data;
	struct pkt p;

	while (units < 8 && r6_units_set(d, units, units + 1))
		units++;
	data = units * 8 < d->maxend ? units * 8 : d->maxend;
	memcpy(q, d->hdr, IP6_HDR_LEN);
	q[6] = d->nh;
	memcpy(q + IP6_HDR_LEN, d->buf + IP6_REASS_HDRS, data);
	memset(&p, 0, sizeof(p));
	p.ip = q;
	p.ip_len = IP6_HDR_LEN + data;
	p.v6 = true;
	/* the upper layer, so that an ICMPv6 error is never answered by one (RFC 4443 2.4) */
	p.proto = d->nh;
	p.l4 = q + IP6_HDR_LEN;
	p.l4_len = data;
	memcpy(p.saddr6, q + 8, 16);
	memcpy(p.daddr6, q + 24, 16);
	p.now_us = now_us;
	icmp6_send_error(s, &p, ICMP6_TIME_EXCEEDED, 1, 0, s->cfg.gateway6);
}

void ip6_reass_tick(struct stack *s, uint64_t now_us)
{
	struct ip6_reass *r = s->reass6;

	if (!r)
		return;
	for (unsigned int i = 0; i < IP6_REASS_SLOTS; i++) {
		struct reass6 *d = &r->d[i];

		if (!d->used || now_us - d->first_us < IP6_REASS_TIMEOUT_US)
			continue;
		s->cnt.drop_ip6_frag_timeout++;
		if (d->have_first)
			r6_time_exceeded(s, d, now_us);
		r6_release(r, d);
	}
}

uint64_t ip6_reass_deadline(const struct stack *s)
{
	const struct ip6_reass *r = s->reass6;
	uint64_t t = UINT64_MAX;

	if (!r)
		return t;
	for (unsigned int i = 0; i < IP6_REASS_SLOTS; i++)
		if (r->d[i].used && r->d[i].first_us + IP6_REASS_TIMEOUT_US < t)
			t = r->d[i].first_us + IP6_REASS_TIMEOUT_US;
	return t;
}

void ip6_reass_free(struct stack *s)
{
	struct ip6_reass *r = s->reass6;

	if (!r)
		return;
	for (unsigned int i = 0; i < IP6_REASS_SLOTS; i++)
		if (r->d[i].used)
			r6_release(r, &r->d[i]);
	free(r);
	s->reass6 = NULL;
}

size_t ip6_reass_pending(const struct stack *s)
{
	size_t n = 0;

	if (s->reass6)
		for (unsigned int i = 0; i < IP6_REASS_SLOTS; i++)
			n += s->reass6->d[i].used;
	return n;
}
