/* ip4_reass.c - reassembly of the IPv4 fragments the container sends (RFC 791 3.2, RFC 815,
 * RFC 1122 3.3.2).
 *
 * A container fragments a UDP or ICMP datagram larger than its MTU (at MTU 1500, any above
 * 1472 bytes of payload); TCP does not, as it sets DF and sizes its segments, but RFC 1122
 * 3.3.2 makes reassembly a host's duty whatever the protocol, so every protocol is reassembled
 * and the layer above judges the result as it would any datagram.
 *
 * The container is hostile, so every resource is bounded and every conflict is fatal:
 *  - IP4_REASS_SLOTS datagrams at a time per link; a fragment of a new one when all are taken
 *    evicts the oldest (drop_ip_frag_over_limit, once for that datagram);
 *  - each datagram's buffer grows with the highest byte received, and all of a link's
 *    buffers together stay under IP4_REASS_BUDGET bytes: a datagram that would take them
 *    past it is discarded (drop_ip_frag_over_limit);
 *  - IP4_REASS_TIMEOUT_US after its first fragment an incomplete datagram is discarded
 *    (drop_ip_frag_timeout) and, if fragment zero was there, answered with ICMP time exceeded
 *    (RFC 1122 3.3.2, RFC 792);
 *  - overlapping fragments discard the whole datagram (drop_ip_frag_overlap), as RFC 5722
 *    asks of IPv6 (and RFC 8200 4.5 keeps): overlaps only serve to slip different bytes past
 *    a filter. An exact duplicate (every byte already held and the same) is harmless: only it
 *    is dropped (drop_ip_frag_duplicate). So is a fragment whose end contradicts the last
 *    fragment's (drop_ip_frag_overlap);
 *  - a fragment ending beyond 65515 bytes of data (RFC 791: 65535 with the header, the
 *    "ping of death") discards its datagram (drop_ip_frag_too_big); a non-last fragment
 *    whose data is not a multiple of 8 bytes, or an empty one, is malformed
 *    (drop_ip_frag_malformed, RFC 791 3.2).
 * Coverage is kept as a bitmap of 8-byte units (RFC 791's own bookkeeping, the "fragment
 * block bit table"): fragments start on unit boundaries, so two overlap exactly when they
 * share a unit. Counting rule: a fragment dropped at once counts once; a datagram given up
 * with the fragments it held counts once; no fragment makes us count more than one drop.
 * Must not: know about flows or transport headers.
 */
#include <errno.h>
#include <stdlib.h>

#include "stack_internal.h"
#include "checksum.h"

#define IP4_REASS_SLOTS 16 /* datagrams in reassembly per link (Linux bounds by memory only) */
/* Buffers held per link: four datagrams of the largest size. Linux's ipfrag_high_thresh
 * (4 MiB) is per namespace; a link is one container. */
#define IP4_REASS_BUDGET (4u * (IP4_REASS_HDRS + IP4_REASS_MAX_DATA))
/* RFC 1122 3.3.2 recommends 60 to 120 s for a reassembly timeout, tuned for fragments that
 * cross the Internet by different paths; Linux uses 30 s (ipfrag_time). Ours cross one TAP,
 * back to back from the container's kernel, so any missing after 15 s are lost for good,
 * and a short timeout bounds how long a container can hold a slot with a partial datagram. */
#define IP4_REASS_TIMEOUT_US (15 * 1000000ull)
#define IP4_REASS_MAX_DATA (65535 - IP4_HDR_MIN) /* we rebuild with a 20-byte header */
#define IP4_REASS_UNITS ((IP4_REASS_MAX_DATA + 7) / 8)
#define IP4_REASS_HDRS (ETH_HDR_LEN + IP4_HDR_MIN) /* in front of the data in a buffer */
#define IP4_REASS_MIN_CAP 2048

/**
 * struct reass_dgram - one datagram being reassembled
 * @used:	the slot holds a datagram
 * @have_first:	fragment zero arrived: @ip is its header
 * @daddr, @id, @proto: the datagram's key (RFC 791: with the source, always the container's)
 * @first_us:	arrival of its first fragment (the timeout runs from there)
 * @total:	data length, known once the last fragment (MF clear) arrived; 0 before
 * @maxend:	the highest data byte received, plus one
 * @have:	data bytes received (no overlaps, so each counted once)
 * @ip:		fragment zero's IPv4 header, first 20 bytes (options are not kept)
 * @buf:	Ethernet header, a 20-byte IPv4 header, then the data at its offsets
 * @cap:	size of @buf
 * @bits:	8-byte units of data received
 */
struct reass_dgram {
	bool used;
	bool have_first;
	uint32_t daddr;
	uint16_t id;
	uint8_t proto;
	uint64_t first_us;
	size_t total;
	size_t maxend;
	size_t have;
	uint8_t ip[IP4_HDR_MIN];
	uint8_t *buf;
	size_t cap;
	uint64_t bits[(IP4_REASS_UNITS + 63) / 64];
};

/**
 * struct ip4_reass - a link's reassembly state
 * @held:	bytes of buffer allocated across @d (bounded by IP4_REASS_BUDGET)
 * @d:		the datagrams
 */
struct ip4_reass {
	size_t held;
	struct reass_dgram d[IP4_REASS_SLOTS];
};

/**
 * reass_release() - forget a datagram and free its buffer
 * @r:		the link's reassembly state
 * @d:		the datagram
 */
static void reass_release(struct ip4_reass *r, struct reass_dgram *d)
{
	r->held -= d->cap;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

/**
 * reass_oldest() - the datagram that has waited longest
 * Return: it, or NULL if there is none
 */
static struct reass_dgram *reass_oldest(struct ip4_reass *r)
{
	struct reass_dgram *o = NULL;

	for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++) {
		struct reass_dgram *d = &r->d[i];

		if (d->used && (!o || d->first_us < o->first_us))
			o = d;
	}
	return o;
}

/**
 * reass_grow() - make @d's buffer hold data up to @end, within the link's budget
 * @r:		the link's reassembly state
 * @d:		the datagram
 * @end:	data bytes the buffer must hold
 *
 * Return: 0, -E2BIG past the budget, -ENOMEM when memory ran out (the caller drops the
 * datagram)
 */
static int reass_grow(struct ip4_reass *r, struct reass_dgram *d, size_t end)
{
	size_t need = IP4_REASS_HDRS + end, cap = d->cap ? d->cap : IP4_REASS_MIN_CAP;
	uint8_t *nb;

	if (need <= d->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > IP4_REASS_HDRS + IP4_REASS_MAX_DATA)
		cap = IP4_REASS_HDRS + IP4_REASS_MAX_DATA;
	/* Only a container that left other datagrams incomplete gets here: it loses this one
	 * too, until those time out or complete */
	if (r->held - d->cap + cap > IP4_REASS_BUDGET)
		return -E2BIG;
	nb = realloc(d->buf, cap);
	if (!nb)
		return -ENOMEM;
	r->held += cap - d->cap;
	d->buf = nb;
	d->cap = cap;
	return 0;
}

/**
 * reass_units_set() - how many of units [@from, @to) are marked received
 */
static size_t reass_units_set(const struct reass_dgram *d, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t u = from; u < to; u++)
		n += (d->bits[u / 64] >> (u % 64)) & 1;
	return n;
}

/** reass_units_mark() - mark units [@from, @to) received */
static void reass_units_mark(struct reass_dgram *d, size_t from, size_t to)
{
	for (size_t u = from; u < to; u++)
		d->bits[u / 64] |= 1ull << (u % 64);
}

/**
 * reass_find() - the datagram @p is a fragment of, or a new slot for it (evicting the oldest
 * datagram when all are taken, counted)
 * @s:		the link's stack
 * @r:		its reassembly state
 * @p:		the fragment
 * @id:		its IPv4 identification
 * @create:	whether to take a slot when none holds the datagram
 * @evicted:	set when a datagram was evicted (and counted) to make room
 * Return: the slot, or NULL
 */
static struct reass_dgram *reass_find(struct stack *s, struct ip4_reass *r, const struct pkt *p,
				      uint16_t id, bool create, bool *evicted)
{
	struct reass_dgram *free_slot = NULL;

	for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++) {
		struct reass_dgram *d = &r->d[i];

		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (d->daddr == p->daddr && d->id == id && d->proto == p->proto)
			return d;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		free_slot = reass_oldest(r);
		s->cnt.drop_ip_frag_over_limit++;
		reass_release(r, free_slot);
		*evicted = true;
	}
	free_slot->used = true;
	free_slot->daddr = p->daddr;
	free_slot->id = id;
	free_slot->proto = p->proto;
	free_slot->first_us = p->now_us;
	return free_slot;
}

/**
 * reass_complete() - every fragment is in: hand the datagram to the layers above
 * @s:		the link's stack
 * @r:		its reassembly state
 * @d:		the datagram, complete
 * @now_us:	time
 *
 * The datagram is rebuilt as if it had come whole: the Ethernet header of the fragment that
 * completed it, fragment zero's IPv4 header without options, not a fragment, its total
 * length and checksum set.
 */
static void reass_complete(struct stack *s, struct ip4_reass *r, struct reass_dgram *d,
			   const uint8_t *eth, uint64_t now_us)
{
	uint8_t *buf = d->buf, *h = buf + ETH_HDR_LEN;
	size_t total = d->total;
	struct pkt p;

	memcpy(buf, eth, ETH_HDR_LEN);
	memcpy(h, d->ip, IP4_HDR_MIN);
	h[0] = 0x45;
	wr16(h + 2, (uint16_t)(IP4_HDR_MIN + total));
	wr16(h + 6, 0);
	wr16(h + 10, 0);
	wr16(h + 10, csum_fold(csum_partial(h, IP4_HDR_MIN, 0)));

	/* The buffer leaves the slot first: the layers above may send (and so run anything),
	 * and must find the slot free */
	d->buf = NULL;
	r->held -= d->cap;
	d->cap = 0;
	reass_release(r, d);
	s->cnt.ip_frag_reassembled++;

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
	uint16_t frag = rd16(p->ip + 6), id = rd16(p->ip + 4);
	size_t off = (size_t)(frag & IP4_FRAG_OFF_MASK) * 8, len = p->l4_len, end = off + len;
	bool mf = frag & IP4_FLAG_MF;
	struct ip4_reass *r = s->reass;
	struct reass_dgram *d;
	bool evicted = false;
	size_t u0, u1, set;
	int rc;

	/* RFC 791 3.2: every fragment but the last carries a multiple of 8 data bytes; an
	 * empty one only costs a slot */
	if (!len || (mf && len % 8)) {
		s->cnt.drop_ip_frag_malformed++;
		return;
	}
	if (!r) {
		r = s->reass = calloc(1, sizeof(*r));
		if (!r) {
			s->cnt.drop_ip_fragment++;
			return;
		}
	}
	if (end > IP4_REASS_MAX_DATA) {
		d = reass_find(s, r, p, id, false, &evicted);
		if (d)
			reass_release(r, d);
		s->cnt.drop_ip_frag_too_big++;
		return;
	}
	d = reass_find(s, r, p, id, true, &evicted);

	/* Against what the last fragment said: nothing may end past it, and a second "last"
	 * must agree (RFC 791: the one with MF clear fixes the length) */
	if ((d->total && end > d->total) || (!mf && (d->maxend > end || (d->total &&
								      d->total != end)))) {
		reass_release(r, d);
		s->cnt.drop_ip_frag_overlap++;
		return;
	}
	u0 = off / 8;
	u1 = (end + 7) / 8;
	set = reass_units_set(d, u0, u1);
	if (set) {
		if (set == u1 - u0 && !memcmp(d->buf + IP4_REASS_HDRS + off, p->l4, len)) {
			s->cnt.drop_ip_frag_duplicate++;
			return;
		}
		reass_release(r, d);
		s->cnt.drop_ip_frag_overlap++;
		return;
	}
	rc = reass_grow(r, d, end);
	if (rc) {
		reass_release(r, d);
		/* the datagram evicted for this fragment's slot counted this frame already */
		if (!evicted) {
			if (rc == -E2BIG)
				s->cnt.drop_ip_frag_over_limit++;
			else
				s->cnt.drop_ip_fragment++;
		}
		return;
	}
	memcpy(d->buf + IP4_REASS_HDRS + off, p->l4, len);
	reass_units_mark(d, u0, u1);
	d->have += len;
	if (end > d->maxend)
		d->maxend = end;
	if (!mf)
		d->total = end;
	if (!off) {
		memcpy(d->ip, p->ip, IP4_HDR_MIN);
		d->have_first = true;
	}
	if (d->total && d->have == d->total && d->have_first)
		reass_complete(s, r, d, p->frame, p->now_us);
}

/**
 * reass_time_exceeded() - RFC 1122 3.3.2: tell the container its datagram timed out, quoting
 * fragment zero's header and the data held contiguously from offset 0 (RFC 792 type 11
 * code 1, "fragment reassembly time exceeded"; icmp_send_error rate limits it)
 * @s:		the link's stack
 * @d:		the datagram, with fragment zero
 * @now_us:	time
 */
static void reass_time_exceeded(struct stack *s, const struct reass_dgram *d, uint64_t now_us)
{
	uint8_t q[IP4_HDR_MIN + 64];
	size_t units = 0, data;
	struct pkt p;

	while (units < 8 && reass_units_set(d, units, units + 1))
		units++;
	data = units * 8 < d->maxend ? units * 8 : d->maxend;
	memcpy(q, d->ip, IP4_HDR_MIN);
	q[0] = 0x45;
	memcpy(q + IP4_HDR_MIN, d->buf + IP4_REASS_HDRS, data);

	memset(&p, 0, sizeof(p));
	p.ip = q;
	p.ip_len = IP4_HDR_MIN + data;
	p.ihl = IP4_HDR_MIN;
	p.l4 = q + IP4_HDR_MIN;
	p.l4_len = data;
	p.proto = q[9];
	p.saddr = rd32(q + 12);
	p.daddr = rd32(q + 16);
	p.now_us = now_us;
	icmp_send_error(s, &p, ICMP_TIME_EXCEEDED, 1, p.daddr);
}

void ip4_reass_tick(struct stack *s, uint64_t now_us)
{
	struct ip4_reass *r = s->reass;

	if (!r)
		return;
	for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++) {
		struct reass_dgram *d = &r->d[i];

		if (!d->used || now_us - d->first_us < IP4_REASS_TIMEOUT_US)
			continue;
		s->cnt.drop_ip_frag_timeout++;
		if (d->have_first)
			reass_time_exceeded(s, d, now_us);
		reass_release(r, d);
	}
}

uint64_t ip4_reass_deadline(const struct stack *s)
{
	const struct ip4_reass *r = s->reass;
	uint64_t t = UINT64_MAX;

	if (!r)
		return t;
	for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++)
		if (r->d[i].used && r->d[i].first_us + IP4_REASS_TIMEOUT_US < t)
			t = r->d[i].first_us + IP4_REASS_TIMEOUT_US;
	return t;
}

void ip4_reass_free(struct stack *s)
{
	struct ip4_reass *r = s->reass;

	if (!r)
		return;
	for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++)
		if (r->d[i].used)
			reass_release(r, &r->d[i]);
	free(r);
	s->reass = NULL;
}

size_t ip4_reass_pending(const struct stack *s)
{
	size_t n = 0;

	if (s->reass)
		for (unsigned int i = 0; i < IP4_REASS_SLOTS; i++)
			n += s->reass->d[i].used;
	return n;
}
