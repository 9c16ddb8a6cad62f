/* flow.c - the preallocated flow table with a keyed hash over the container-side 4-tuple. */
#include "flow.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/**
 * struct flow_table - fixed array of flows plus hash buckets
 * @max:	capacity
 * @count:	live flows
 * @nbuckets:	power of two, at least 2 * @max
 * @buckets:	slot index + 1 of each chain's head (0 = empty)
 * @free_head:	slot index + 1 of the first freed slot, chained through hnext (0 = none)
 * @fresh:	slots below this index have been used at least once; those above never were
 * @k0, @k1:	hash key
 * @slots:	the flows
 */
struct flow_table {
	uint32_t max;
	uint32_t count;
	uint32_t nbuckets;
	uint32_t *buckets;
	uint32_t free_head;
	uint32_t fresh;
	uint64_t k0, k1;
	struct flow *slots;
};

static const char *const tcp_names[TCP_NSTATES] = {
	"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2",  "CLOSE_WAIT", "CLOSING",    "LAST_ACK", "TIME_WAIT",
};

static const char *const end_names[] = {
	[FLOW_END_NONE] = "none",
	[FLOW_END_FIN] = "fin",
	[FLOW_END_RST_CONTAINER] = "rst_container",
	[FLOW_END_RST_UPSTREAM] = "rst_upstream",
	[FLOW_END_REFUSED] = "refused",
	[FLOW_END_UNREACHABLE] = "unreachable",
	[FLOW_END_TIMEOUT] = "timeout",
	[FLOW_END_EVICTED] = "evicted",
	[FLOW_END_SHUTDOWN] = "shutdown",
};

const char *tcp_state_name(unsigned int state)
{
	return state < TCP_NSTATES ? tcp_names[state] : "?";
}

int tcp_state_parse(const char *name)
{
	for (unsigned int i = 0; i < TCP_NSTATES; i++)
		if (!strcasecmp(name, tcp_names[i]))
			return (int)i;
	return -1;
}

const char *udp_state_name(unsigned int state)
{
	switch (state) {
	case UDP_ACTIVE:
		return "ACTIVE";
	case UDP_REPLIED:
		return "REPLIED";
	default:
		return "CLOSED";
	}
}

const char *flow_state_name(const struct flow *f)
{
	return f->proto == PROTO_UDP ? udp_state_name(f->state) : tcp_state_name(f->state);
}

const char *flow_end_name(unsigned int end)
{
	return end < sizeof(end_names) / sizeof(end_names[0]) ? end_names[end] : "?";
}

/* A keyed mix (two rounds of a 64-bit multiply-xorshift): cheap, and with a secret key a
 * container cannot choose ports that all land in one chain. */
static uint32_t hash4(const struct flow_table *t, uint8_t proto, uint32_t caddr, uint16_t cport,
		      uint32_t paddr, uint16_t pport)
{
	uint64_t a = ((uint64_t)caddr << 32 | paddr) ^ t->k0;
	uint64_t b = ((uint64_t)cport << 32 | (uint64_t)pport << 16 | proto) ^ t->k1;

	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdULL;
	a ^= b;
	a ^= a >> 29;
	a *= 0xc4ceb9fe1a85ec53ULL;
	a ^= a >> 32;
	return (uint32_t)a & (t->nbuckets - 1);
}

/**
 * hash6() - hash4() over an IPv6 4-tuple: every 64-bit word of both addresses goes through
 * the keyed mix, so that no choice of addresses collides without the key
 * @t:		the table (its key)
 * @proto:	protocol
 * @caddr:	container address
 * @cport:	container port
 * @paddr:	peer address
 * @pport:	peer port
 *
 * Return: the bucket
 */
static uint32_t hash6(const struct flow_table *t, uint8_t proto, const uint8_t caddr[16],
		      uint16_t cport, const uint8_t paddr[16], uint16_t pport)
{
	uint64_t a = t->k0 ^ ((uint64_t)cport << 32 | (uint64_t)pport << 16 | proto | 1u << 8);
	uint64_t w;

	for (int i = 0; i < 4; i++) {
		memcpy(&w, (i < 2 ? caddr : paddr) + (i % 2) * 8, 8);
		a ^= w ^ t->k1;
		a ^= a >> 33;
		a *= 0xff51afd7ed558ccdULL;
		a ^= a >> 29;
		a *= 0xc4ceb9fe1a85ec53ULL;
	}
	a ^= a >> 32;
	return (uint32_t)a & (t->nbuckets - 1);
}

/**
 * flow_bucket() - the bucket of a flow's key, by its family
 * @t:		the table
 * @f:		the flow
 *
 * Return: the bucket
 */
static uint32_t flow_bucket(const struct flow_table *t, const struct flow *f)
{
	if (f->v6)
		return hash6(t, f->proto, f->caddr6, f->cport, f->paddr6, f->pport);
	return hash4(t, f->proto, f->caddr, f->cport, f->paddr, f->pport);
}

struct flow_table *flow_table_new(uint32_t max, const uint8_t key[16])
{
	struct flow_table *t;
	uint32_t n = 1;

	if (max == 0 || max > (1u << 24))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (n < 2 * max)
		n <<= 1;
	t->max = max;
	t->nbuckets = n;
	memcpy(&t->k0, key, 8);
	memcpy(&t->k1, key + 8, 8);
	/* calloc: pages of untouched slots are never faulted in, so a large table costs only
	 * what is used. */
	t->buckets = calloc(n, sizeof(*t->buckets));
	t->slots = calloc(max, sizeof(*t->slots));
	if (!t->buckets || !t->slots) {
		flow_table_free(t);
		return NULL;
	}
	/* No free list is built here: writing every slot would fault in the whole table
	 * (tens of MiB at the default size). Never-used slots are handed out in order from
	 * @fresh; freed ones are reused first, so listings stay compact. */
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t->slots);
	free(t);
}

struct flow *flow_lookup(struct flow_table *t, uint8_t proto, uint32_t caddr, uint16_t cport,
			 uint32_t paddr, uint16_t pport)
{
	uint32_t i = t->buckets[hash4(t, proto, caddr, cport, paddr, pport)];

	while (i) {
		struct flow *f = &t->slots[i - 1];

		if (f->proto == proto && !f->v6 && f->caddr == caddr && f->cport == cport &&
		    f->paddr == paddr && f->pport == pport)
			return f;
		i = f->hnext;
	}
	return NULL;
}

struct flow *flow_lookup6(struct flow_table *t, uint8_t proto, const uint8_t caddr[16],
			  uint16_t cport, const uint8_t paddr[16], uint16_t pport)
{
	uint32_t i = t->buckets[hash6(t, proto, caddr, cport, paddr, pport)];

	while (i) {
		struct flow *f = &t->slots[i - 1];

		if (f->proto == proto && f->v6 && f->cport == cport && f->pport == pport &&
		    !memcmp(f->caddr6, caddr, 16) && !memcmp(f->paddr6, paddr, 16))
			return f;
		i = f->hnext;
	}
	return NULL;
}

struct flow *flow_alloc6(struct flow_table *t, uint64_t id, uint8_t proto, const uint8_t caddr[16],
			 uint16_t cport, const uint8_t paddr[16], uint16_t pport, uint64_t now_us)
{
	struct flow *f = flow_alloc(t, id, proto, 0, cport, 0, pport, now_us);
	uint32_t h, *pp;

	if (!f)
		return NULL;
	/* re-index under the IPv6 key: out of the IPv4 chain flow_alloc() put it in (its
	 * head, so the unlink is one step) and into its own */
	pp = &t->buckets[hash4(t, proto, 0, cport, 0, pport)];
	*pp = f->hnext;
	f->v6 = true;
	memcpy(f->caddr6, caddr, 16);
	memcpy(f->paddr6, paddr, 16);
	h = flow_bucket(t, f);
	f->hnext = t->buckets[h];
	t->buckets[h] = f->idx + 1;
	return f;
}

struct flow *flow_alloc(struct flow_table *t, uint64_t id, uint8_t proto, uint32_t caddr,
			uint16_t cport, uint32_t paddr, uint16_t pport, uint64_t now_us)
{
	uint32_t idx, h;
	struct flow *f;

	if (t->free_head) {
		idx = t->free_head - 1;
		t->free_head = t->slots[idx].hnext;
	} else if (t->fresh < t->max) {
		idx = t->fresh++;
	} else {
		return NULL;
	}
	f = &t->slots[idx];

	memset(f, 0, sizeof(*f));
	f->id = id;
	f->idx = idx;
	f->proto = proto;
	f->caddr = caddr;
	f->cport = cport;
	f->paddr = paddr;
	f->pport = pport;
	f->created_us = now_us;
	f->last_us = now_us;
	f->in_use = true;

	h = hash4(t, proto, caddr, cport, paddr, pport);
	f->hnext = t->buckets[h];
	t->buckets[h] = idx + 1;
	t->count++;
	return f;
}

void flow_free(struct flow_table *t, struct flow *f)
{
	uint32_t h = flow_bucket(t, f);
	uint32_t *pp = &t->buckets[h];

	while (*pp) {
		struct flow *g = &t->slots[*pp - 1];

		if (g == f) {
			*pp = f->hnext;
			break;
		}
		pp = &g->hnext;
	}
	f->in_use = false;
	f->hnext = t->free_head;
	t->free_head = f->idx + 1;
	t->count--;
}

uint32_t flow_count(const struct flow_table *t)
{
	return t->count;
}

uint32_t flow_capacity(const struct flow_table *t)
{
	return t->max;
}

struct flow *flow_at(struct flow_table *t, uint32_t idx)
{
	if (idx >= t->fresh || !t->slots[idx].in_use)
		return NULL;
	return &t->slots[idx];
}

struct flow *flow_next(struct flow_table *t, const struct flow *prev)
{
	uint32_t i = prev ? prev->idx + 1 : 0;

	/* slots at and above @fresh were never used: no need to read (fault in) them */
	for (; i < t->fresh; i++)
		if (t->slots[i].in_use)
			return &t->slots[i];
	return NULL;
}

void flow_record(struct flow *f, uint8_t state, uint64_t now_us)
{
	f->state = state;
	if (f->nhist < FLOW_HIST_MAX) {
		f->nhist++;
	} else {
		f->hist_lost++;
	}
	f->hist[f->nhist - 1].state = state;
	f->hist[f->nhist - 1].at_us = now_us;
}
