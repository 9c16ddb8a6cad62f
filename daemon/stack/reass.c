/* reass.c - the family-neutral core of fragment reassembly (see reass.h for the bounds and
 * the counting rule; ip4_reass.c and ip6_reass.c are its fronts).
 *
 * Coverage is kept as a bitmap of 8-byte units (RFC 791's own bookkeeping, the "fragment
 * block bit table"; RFC 8200 4.5 offsets are in the same units): fragments start on unit
 * boundaries, so two overlap exactly when they share a unit.
 * Must not: know header formats, send anything, or know struct stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reass.h"

#define REASS_UNITS ((REASS_MAX_DATA + 7) / 8)
#define REASS_MIN_CAP 2048
#define REASS_QUOTE 64 /* data quoted to the front of a timed-out datagram (8 units) */

/**
 * struct reass_dgram - one datagram being reassembled
 * @used:	the slot holds a datagram
 * @have_first:	fragment zero arrived: @hdr is its header
 * @key:	what its fragments share
 * @first_us:	arrival of its first fragment (the timeout runs from there)
 * @total:	data length, known once the last fragment arrived; 0 before
 * @maxend:	the highest data byte received, plus one
 * @have:	data bytes received (no overlaps, so each counted once)
 * @hdr:	fragment zero's kept header
 * @buf:	the family's headers' room, then the data at its offsets
 * @cap:	size of @buf
 * @bits:	8-byte units of data received
 */
struct reass_dgram {
	bool used;
	bool have_first;
	struct reass_key key;
	uint64_t first_us;
	size_t total;
	size_t maxend;
	size_t have;
	uint8_t hdr[REASS_HDR_MAX];
	uint8_t *buf;
	size_t cap;
	uint64_t bits[(REASS_UNITS + 63) / 64];
};

/**
 * struct reass - one family's reassembly table on a link
 * @f:		the family's sizes
 * @cnt:	its counters
 * @held:	bytes of buffer allocated across @d (bounded by the budget)
 * @d:		the datagrams
 */
struct reass {
	const struct reass_family *f;
	struct reass_counters cnt;
	size_t held;
	struct reass_dgram d[REASS_SLOTS];
};

struct reass *reass_new(const struct reass_family *f, const struct reass_counters *c)
{
	struct reass *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->f = f;
	r->cnt = *c;
	return r;
}

/**
 * reass_release() - forget a datagram and free its buffer
 * @r:		the table
 * @d:		the datagram
 */
static void reass_release(struct reass *r, struct reass_dgram *d)
{
	r->held -= d->cap;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

void reass_free(struct reass *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < REASS_SLOTS; i++)
		if (r->d[i].used)
			reass_release(r, &r->d[i]);
	free(r);
}

/** reass_key_eq() - whether @d holds the datagram @k names */
static bool reass_key_eq(const struct reass_dgram *d, const struct reass_key *k)
{
	return d->key.id == k->id && d->key.proto == k->proto &&
	       !memcmp(d->key.saddr, k->saddr, sizeof(k->saddr)) &&
	       !memcmp(d->key.daddr, k->daddr, sizeof(k->daddr));
}

/**
 * reass_find() - the datagram @k names, or a new slot for it (evicting the oldest datagram
 * when all are taken, counted)
 * @r:		the table
 * @k:		the key
 * @create:	whether to take a slot when none holds the datagram
 * @now_us:	time, the new datagram's start
 * @evicted:	set when a datagram was evicted (and counted) to make room
 * Return: the slot, or NULL
 */
static struct reass_dgram *reass_find(struct reass *r, const struct reass_key *k, bool create,
				      uint64_t now_us, bool *evicted)
{
	struct reass_dgram *free_slot = NULL, *old = NULL;

	for (unsigned int i = 0; i < REASS_SLOTS; i++) {
		struct reass_dgram *d = &r->d[i];

		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (reass_key_eq(d, k))
			return d;
		if (!old || d->first_us < old->first_us)
			old = d;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		(*r->cnt.over_limit)++;
		reass_release(r, old);
		free_slot = old;
		*evicted = true;
	}
	free_slot->used = true;
	free_slot->key = *k;
	free_slot->first_us = now_us;
	return free_slot;
}

/**
 * reass_grow() - make @d's buffer hold data up to @end, within the table's budget
 * @r:		the table
 * @d:		the datagram
 * @end:	data bytes the buffer must hold
 *
 * Return: 0, -E2BIG past the budget, -ENOMEM when memory ran out (the caller drops the
 * datagram)
 */
static int reass_grow(struct reass *r, struct reass_dgram *d, size_t end)
{
	size_t most = r->f->hdrs + r->f->max_data;
	size_t need = r->f->hdrs + end, cap = d->cap ? d->cap : REASS_MIN_CAP;
	uint8_t *nb;

	if (need <= d->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > most)
		cap = most;
	/* Only a container that left other datagrams incomplete gets here: it loses this one
	 * too, until those time out or complete */
	if (r->held - d->cap + cap > REASS_BUDGET_DGRAMS * most)
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
 * reass_drop() - give up datagram @d for a fragment that contradicts it, counted in @cnt
 * Return: REASS_DROPPED
 */
static enum reass_verdict reass_drop(struct reass *r, struct reass_dgram *d, uint64_t *cnt)
{
	reass_release(r, d);
	(*cnt)++;
	return REASS_DROPPED;
}

/**
 * reass_finish() - every fragment is in: hand the buffer over with fragment zero's header
 * just in front of the data, and free the slot first (the front's dispatch may send, and so
 * run anything, and must find the slot free)
 */
static void reass_finish(struct reass *r, struct reass_dgram *d, struct reass_done *done)
{
	done->buf = d->buf;
	done->total = d->total;
	memcpy(d->buf + r->f->hdrs - r->f->hdr_len, d->hdr, r->f->hdr_len);
	d->buf = NULL;
	r->held -= d->cap;
	d->cap = 0;
	reass_release(r, d);
	(*r->cnt.reassembled)++;
}

enum reass_verdict reass_add(struct reass *r, const struct reass_key *k, size_t off,
			     const uint8_t *data, size_t len, bool last, const uint8_t *hdr,
			     uint64_t now_us, struct reass_done *done)
{
	size_t end = off + len, u0 = off / 8, u1 = (end + 7) / 8, set;
	struct reass_dgram *d;
	bool evicted = false;
	int rc;

	if (end > r->f->max_data) {
		d = reass_find(r, k, false, now_us, &evicted);
		if (d)
			reass_release(r, d);
		(*r->cnt.too_big)++;
		return REASS_TOO_BIG;
	}
	d = reass_find(r, k, true, now_us, &evicted);

	/* Against what the last fragment said: nothing may end past it, and a second "last"
	 * must agree (RFC 791 3.2, RFC 8200 4.5: the one with MF/M clear fixes the length) */
	if ((d->total && end > d->total) ||
	    (last && (d->maxend > end || (d->total && d->total != end))))
		return reass_drop(r, d, r->cnt.overlap);
	set = reass_units_set(d, u0, u1);
	if (set) {
		/* RFC 5722 3: overlapping fragments discard the whole datagram. A retransmitted
		 * identical fragment is no overlap of different bytes: only it goes. */
		if (set == u1 - u0 && !memcmp(d->buf + r->f->hdrs + off, data, len)) {
			(*r->cnt.duplicate)++;
			return REASS_DROPPED;
		}
		return reass_drop(r, d, r->cnt.overlap);
	}
	rc = reass_grow(r, d, end);
	if (rc) {
		reass_release(r, d);
		/* the datagram evicted for this fragment's slot counted this frame already */
		if (!evicted)
			(*(rc == -E2BIG ? r->cnt.over_limit : r->cnt.fragment))++;
		return REASS_DROPPED;
	}
	memcpy(d->buf + r->f->hdrs + off, data, len);
	reass_units_mark(d, u0, u1);
	d->have += len;
	if (end > d->maxend)
		d->maxend = end;
	if (last)
		d->total = end;
	if (!off) {
		memcpy(d->hdr, hdr, r->f->hdr_len);
		d->have_first = true;
	}
	if (!d->total || d->have != d->total || !d->have_first)
		return REASS_HELD;
	reass_finish(r, d, done);
	return REASS_DONE;
}

void reass_tick(struct reass *r, uint64_t now_us, reass_expired_fn expired, void *ctx)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < REASS_SLOTS; i++) {
		struct reass_dgram *d = &r->d[i];
		size_t units = 0, len;

		if (!d->used || now_us - d->first_us < REASS_TIMEOUT_US)
			continue;
		(*r->cnt.timeout)++;
		if (d->have_first) {
			while (units < REASS_QUOTE / 8 && reass_units_set(d, units, units + 1))
				units++;
			len = units * 8 < d->maxend ? units * 8 : d->maxend;
			expired(ctx, d->hdr, d->buf + r->f->hdrs, len, now_us);
		}
		reass_release(r, d);
	}
}

uint64_t reass_deadline(const struct reass *r)
{
	uint64_t t = UINT64_MAX;

	if (!r)
		return t;
	for (unsigned int i = 0; i < REASS_SLOTS; i++)
		if (r->d[i].used && r->d[i].first_us + REASS_TIMEOUT_US < t)
			t = r->d[i].first_us + REASS_TIMEOUT_US;
	return t;
}

size_t reass_pending(const struct reass *r)
{
	size_t n = 0;

	if (r)
		for (unsigned int i = 0; i < REASS_SLOTS; i++)
			n += r->d[i].used;
	return n;
}
