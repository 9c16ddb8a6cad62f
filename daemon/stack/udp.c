/* udp.c - UDP (RFC 768): validate the container's datagrams, keep one flow per 4-tuple with
 * conntrack-like idle timeouts, hand payloads to the shell, and build the replies.
 *
 * Policy that belongs to the link's addresses lives here, not in the shell: the DNS address
 * serves port 53 only, and the gateway is closed when host loopback is off; both answer
 * anything else with ICMP port unreachable (RFC 1122 4.1.3.1). Where the shell really sends a
 * datagram (127.0.0.1, the upstream resolver, the address itself) is the shell's business.
 *
 * Flows are kept on two LRU lists, unreplied and replied, each ordered by last activity. The
 * idle timeout is the same for every flow of a list, so the head of each list is the next to
 * expire: expiry and eviction look at two flows, never at the whole table.
 * Must not: do I/O, read clocks, or parse what the datagrams carry (beyond the DNS header's
 * length).
 */
#include "stack_internal.h"
#include "checksum.h"
#include "udp.h"

#include <errno.h>
#include <stdlib.h>

#define DNS_PORT 53
#define DNS_HDR_LEN 12 /* RFC 1035 4.1.1 */

/* Largest payload one IPv4 datagram holds: 65535 - 20 (IP) - 8 (UDP) */
#define UDP_PAYLOAD_MAX (65535 - IP4_HDR_MIN - UDP_HDR_LEN)

enum udp_list {
	UDP_LIST_NONE,
	UDP_LIST_UNREPLIED,
	UDP_LIST_REPLIED,
	UDP_NLISTS
};

/**
 * struct udp_side - what the UDP module keeps per flow, beside the flow (same slot index)
 * @prev:	previous flow on its LRU list (slot index + 1, 0 = none)
 * @next:	next flow on its LRU list (slot index + 1, 0 = none)
 * @list:	enum udp_list the flow is on
 * @qlen:	bytes in @quote (0 = nothing received yet)
 * @quote:	IPv4 header (options included) and UDP header of the container's last datagram,
 *		quoted in the ICMP errors about it (RFC 792: header plus 64 bits of data)
 */
struct udp_side {
	uint32_t prev;
	uint32_t next;
	uint8_t list;
	uint8_t qlen;
	uint8_t quote[IP4_HDR_MAX + UDP_HDR_LEN];
};

/**
 * struct udp_lru - one LRU list, least recently active first
 * @head:	slot index + 1 of the oldest flow (0 = empty)
 * @tail:	slot index + 1 of the newest flow
 * @timeout_us:	idle time after which a flow of this list expires
 */
struct udp_lru {
	uint32_t head;
	uint32_t tail;
	uint64_t timeout_us;
};

/**
 * struct udp_stack - the UDP module's per-link state
 * @side:	per-slot data, indexed like the flow table (calloc: untouched pages cost nothing)
 * @cap:	entries in @side (the flow table's capacity)
 * @lru:	the lists, indexed by enum udp_list
 * @count:	live UDP flows
 * @max:	bound on @count (cfg.max_udp_flows)
 */
struct udp_stack {
	struct udp_side *side;
	uint32_t cap;
	struct udp_lru lru[UDP_NLISTS];
	uint32_t count;
	uint32_t max;
};

/**
 * udp_init() - allocate the UDP state of a new stack
 * @s:		the stack, its cfg and flow table already set
 *
 * Return: 0, or -1 on allocation failure
 */
int udp_init(struct stack *s)
{
	struct udp_stack *u = calloc(1, sizeof(*u));
	uint32_t t = s->cfg.udp_timeout_ms ? s->cfg.udp_timeout_ms : STACK_DEFAULT_UDP_TIMEOUT_MS;
	uint32_t ts = s->cfg.udp_timeout_stream_ms ? s->cfg.udp_timeout_stream_ms
						   : STACK_DEFAULT_UDP_TIMEOUT_STREAM_MS;

	if (!u)
		return -1;
	u->cap = flow_capacity(s->flows);
	u->side = calloc(u->cap, sizeof(*u->side));
	if (!u->side) {
		free(u);
		return -1;
	}
	u->lru[UDP_LIST_UNREPLIED].timeout_us = (uint64_t)t * 1000;
	u->lru[UDP_LIST_REPLIED].timeout_us = (uint64_t)ts * 1000;
	u->max = s->cfg.max_udp_flows;
	s->udp = u;
	return 0;
}

/**
 * udp_fini() - free the UDP state (every flow has been released already)
 * @s:		the stack
 */
void udp_fini(struct stack *s)
{
	if (!s->udp)
		return;
	free(s->udp->side);
	free(s->udp);
	s->udp = NULL;
}

uint32_t udp_flow_count(const struct stack *s)
{
	return s->udp ? s->udp->count : 0;
}

/**
 * udp_unlink() - take @f off its LRU list
 * @u:		UDP state
 * @f:		a UDP flow
 */
static void udp_unlink(struct udp_stack *u, const struct flow *f)
{
	struct udp_side *d = &u->side[f->idx];
	struct udp_lru *l = &u->lru[d->list];

	if (d->list == UDP_LIST_NONE)
		return;
	if (d->prev)
		u->side[d->prev - 1].next = d->next;
	else
		l->head = d->next;
	if (d->next)
		u->side[d->next - 1].prev = d->prev;
	else
		l->tail = d->prev;
	d->prev = d->next = 0;
	d->list = UDP_LIST_NONE;
}

/**
 * udp_touch() - record activity on @f: it moves to the tail of the list for its state
 * @s:		the stack
 * @f:		a UDP flow
 * @now_us:	time of the activity
 *
 * The tail is the newest: with time never going back, each list stays ordered by last_us.
 */
static void udp_touch(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct udp_stack *u = s->udp;
	struct udp_side *d = &u->side[f->idx];
	uint8_t list = f->state == UDP_REPLIED ? UDP_LIST_REPLIED : UDP_LIST_UNREPLIED;
	struct udp_lru *l = &u->lru[list];

	if (now_us > f->last_us)
		f->last_us = now_us;
	udp_unlink(u, f);
	d->list = list;
	d->prev = l->tail;
	d->next = 0;
	if (l->tail)
		u->side[l->tail - 1].next = f->idx + 1;
	else
		l->head = f->idx + 1;
	l->tail = f->idx + 1;
}

/**
 * udp_release() - forget the UDP side of @f; called by stack_flow_release for UDP flows
 * @s:		the stack
 * @f:		the flow being released
 */
void udp_release(struct stack *s, struct flow *f)
{
	struct udp_stack *u = s->udp;

	if (!u || f->idx >= u->cap)
		return;
	udp_unlink(u, f);
	u->side[f->idx].qlen = 0;
	if (u->count)
		u->count--;
}

/**
 * udp_oldest() - the flow nearest to its idle timeout: the earlier-expiring of the two heads
 * @s:		the stack
 * @deadline:	set to its expiry time (UINT64_MAX if there is no flow)
 *
 * Return: the flow, or NULL if the link has no UDP flow
 */
static struct flow *udp_oldest(struct stack *s, uint64_t *deadline)
{
	struct udp_stack *u = s->udp;
	struct flow *best = NULL;

	*deadline = UINT64_MAX;
	for (int i = UDP_LIST_UNREPLIED; i < UDP_NLISTS; i++) {
		struct flow *f;
		uint64_t d;

		if (!u->lru[i].head)
			continue;
		f = flow_at(s->flows, u->lru[i].head - 1);
		if (!f)
			continue;
		d = f->last_us + u->lru[i].timeout_us;
		if (d < *deadline) {
			*deadline = d;
			best = f;
		}
	}
	return best;
}

void udp_tick(struct stack *s, uint64_t now_us)
{
	struct flow *f;
	uint64_t deadline;

	if (!s->udp)
		return;
	/* Each pass releases one flow, so this ends after at most count passes */
	while ((f = udp_oldest(s, &deadline)) && deadline <= now_us)
		stack_flow_release(s, f, FLOW_END_TIMEOUT, now_us);
}

uint64_t udp_next_deadline(struct stack *s)
{
	uint64_t deadline;

	if (!s->udp)
		return UINT64_MAX;
	udp_oldest(s, &deadline);
	return deadline;
}

static void udp_abort_do(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	if (!f->in_use || f->proto != PROTO_UDP)
		return;
	stack_flow_release(s, f, end, now_us);
}

/**
 * udp_flow_create() - a new flow within the link's bounds
 * @s:		the stack
 * @caddr:	container address
 * @cport:	container port
 * @paddr:	peer address
 * @pport:	peer port
 * @origin:	enum flow_origin: who sent the flow's first datagram
 * @now_us:	current time
 * @c6:		IPv6 container address (then @caddr and @paddr are unused), NULL for IPv4
 * @p6:		IPv6 peer address, with @c6
 *
 * At the UDP bound, or with the flow table full, the UDP flow nearest to its idle timeout
 * makes room (counted flows_closed_evicted): a flood of new 4-tuples recycles its own flows,
 * which never get a reply, before those that did (conntrack's early drop prefers unreplied
 * entries in the same way).
 *
 * Return: the flow in state ACTIVE, or NULL (counted drop_udp_over_limit)
 */
static struct flow *udp_flow_create(struct stack *s, uint32_t caddr, uint16_t cport,
				    uint32_t paddr, uint16_t pport, uint8_t origin, uint64_t now_us,
				    const uint8_t *c6, const uint8_t *p6)
{
	struct udp_stack *u = s->udp;
	struct flow *f, *victim;
	uint64_t deadline;

	if (!u->max) {
		s->cnt.drop_udp_over_limit++;
		return NULL;
	}
	if (u->count >= u->max || flow_count(s->flows) >= flow_capacity(s->flows)) {
		victim = udp_oldest(s, &deadline);
		if (!victim) {
			s->cnt.drop_udp_over_limit++;
			return NULL;
		}
		stack_flow_release(s, victim, FLOW_END_EVICTED, now_us);
	}
	f = c6 ? stack_flow_new6(s, PROTO_UDP, c6, cport, p6, pport, now_us)
	       : stack_flow_new(s, PROTO_UDP, caddr, cport, paddr, pport, now_us);
	if (!f) {
		s->cnt.drop_udp_over_limit++;
		return NULL;
	}
	f->origin = origin;
	u->count++;
	stack_set_state(s, f, UDP_ACTIVE, now_us);
	return f;
}

/*
 * udp_open_inbound_do() - udp_open_inbound() and udp_open_inbound6(): @c6 and @p6 are the
 * IPv6 addresses (then @caddr and @paddr are unused), NULL for IPv4
 */
static struct flow *udp_open_inbound_do(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			      uint16_t pport, uint64_t now_us, const uint8_t *c6,
			      const uint8_t *p6)
{
	struct flow *f;

	if (!s->udp || !cport || !pport ||
	    (c6 ? flow_lookup6(s->flows, PROTO_UDP, c6, cport, p6, pport)
		: flow_lookup(s->flows, PROTO_UDP, caddr, cport, paddr, pport)))
		return NULL;
	/* over IPv6, the container's address only: the flow's datagrams go out from @p6 to
	 * it, and the container's answers must come back from an address in the prefix */
	if (c6 && (!s->cfg.ipv6 || memcmp(c6, s->cfg.addr6, 16)))
		return NULL;
	f = udp_flow_create(s, caddr, cport, paddr, pport, FLOW_ORIGIN_HOST, now_us, c6, p6);
	if (f)
		udp_touch(s, f, now_us);
	return f;
}

/**
 * udp_errno_icmp() - the ICMP error that tells the container what a failed upstream send
 * means, as the kernel would have told a local socket
 * @err:	positive errno from the shell
 * @code:	set to the ICMP destination unreachable code
 *
 * Return: true if @err has an ICMP equivalent (RFC 1122 3.2.2.1, RFC 1812 5.2.7.1)
 */
static bool udp_errno_icmp(int err, uint8_t *code)
{
	switch (err) {
	case ECONNREFUSED:
		*code = ICMP_UNREACH_PORT;
		return true;
	case EHOSTUNREACH:
		*code = ICMP_UNREACH_HOST;
		return true;
	case ENETUNREACH:
		*code = ICMP_UNREACH_NET;
		return true;
	case EACCES:
	case EPERM:
		*code = ICMP_UNREACH_ADMIN;
		return true;
	default:
		return false;
	}
}

/**
 * udp_send_unreach() - destination unreachable @code about datagram @p, from the address
 * it was sent to, in its family (ICMP, or ICMPv6 with RFC 4443 3.1's code for the cause)
 * @s:		the link's stack
 * @p:		the datagram
 * @code:	the ICMP code (ICMP_UNREACH_PORT, _HOST, _NET, _ADMIN)
 */
static void udp_send_unreach(struct stack *s, const struct pkt *p, uint8_t code)
{
	if (p->v6)
		icmp6_send_error(s, p, ICMP6_DEST_UNREACH, icmp6_unreach_code(code), 0, p->daddr6);
	else
		icmp_send_error(s, p, ICMP_DEST_UNREACH, code, p->daddr);
}

/**
 * udp_input() - process one UDP datagram from the container
 * @s:		the link's stack
 * @p:		the datagram, validated by ip4_input() or ip6_input() (unicast, not a fragment)
 */
void udp_input(struct stack *s, const struct pkt *p)
{
	const uint8_t *h = p->l4;
	size_t ulen, plen, hl;
	uint16_t sport, dport;
	struct udp_side *d;
	struct flow *f;
	bool to_dns, to_gw;
	uint8_t code;
	int r;

	if (p->l4_len < UDP_HDR_LEN) {
		s->cnt.drop_udp_malformed++;
		return;
	}
	/* RFC 768: the length covers header and data. Longer than what IP carries, or shorter
	 * than the header, it cannot be right. Shorter than what IP carries, the bytes beyond it
	 * are not the datagram's (the "surplus area" of draft-ietf-tsvwg-udp-options, which
	 * relies on receivers ignoring them): they are trimmed, as Linux (__udp4_lib_rcv) and
	 * the BSDs (udp_input) do, and the checksum covers the UDP length only. */
	ulen = rd16(h + 4);
	if (ulen < UDP_HDR_LEN || ulen > p->l4_len) {
		s->cnt.drop_udp_malformed++;
		return;
	}
	/* RFC 768: a zero checksum means the sender computed none, legal over IPv4 (RFC 1122
	 * 4.1.3.4 leaves it to the sender); otherwise it covers the pseudo-header too. Over
	 * IPv6 it is mandatory (RFC 8200 8.1: a zero checksum is discarded). Verified unless the
	 * virtio-net header vouched for it (vnet_l4_check). */
	if ((rd16(h + 6) || p->v6) && !p->csum_trusted &&
	    !csum_ok(h, ulen, pkt_pseudo(p, PROTO_UDP, ulen))) {
		s->cnt.drop_udp_bad_checksum++;
		return;
	}
	sport = rd16(h);
	dport = rd16(h + 2);
	plen = ulen - UDP_HDR_LEN;
	/* Port 0 is reserved (RFC 6335 6): nothing can be sent to it. A zero source port means
	 * "no reply expected" (RFC 768) and is relayed. */
	if (!dport) {
		s->cnt.drop_udp_malformed++;
		return;
	}

	/* A reply to a port forward's flow (origin host) is no new conversation: the address
	 * rules below are for what the container starts, and a loopback client of a forward
	 * appears as the gateway even with host loopback off. */
	f = p->v6 ? flow_lookup6(s->flows, PROTO_UDP, p->saddr6, sport, p->daddr6, dport)
		  : flow_lookup(s->flows, PROTO_UDP, p->saddr, sport, p->daddr, dport);
	if (f && f->origin == FLOW_ORIGIN_HOST)
		goto known;

	to_dns = p->v6 ? !memcmp(p->daddr6, s->cfg.dns6, 16) : p->daddr == s->cfg.dns;
	to_gw = p->v6 ? !memcmp(p->daddr6, s->cfg.gateway6, 16) : p->daddr == s->cfg.gateway;
	if ((to_dns && dport != DNS_PORT) || (to_gw && s->cfg.no_host_loopback)) {
		s->cnt.drop_udp_no_service++;
		udp_send_unreach(s, p, ICMP_UNREACH_PORT);
		return;
	}
	/* The forwarder relays messages, it does not read them: only that a DNS header is there
	 * (RFC 1035 4.1.1) is checked, so the resolver never sees a runt. */
	if (to_dns && plen < DNS_HDR_LEN) {
		s->cnt.drop_udp_dns_malformed++;
		return;
	}
	/* Over IPv6 only a source in the prefix has a route beyond the link */
	if (p->v6 && !ip6_in_prefix(s, p->saddr6)) {
		s->cnt.drop_ip6_bad_source++;
		return;
	}

	if (!f) {
		f = udp_flow_create(s, p->saddr, sport, p->daddr, dport, FLOW_ORIGIN_CONTAINER,
				    p->now_us, p->v6 ? p->saddr6 : NULL, p->daddr6);
		if (!f)
			return;
	}
known:
	/* The container answers a forward's client: both sides have spoken now */
	if (f->origin == FLOW_ORIGIN_HOST && f->state == UDP_ACTIVE)
		stack_set_state(s, f, UDP_REPLIED, p->now_us);
	f->bytes_in += plen;
	f->pkts_in++;
	udp_touch(s, f, p->now_us);

	d = &s->udp->side[f->idx];
	if (p->v6) {
		/* the fixed header, as if UDP followed it (extension headers are not kept) */
		memcpy(d->quote, p->ip, IP6_HDR_LEN);
		d->quote[6] = PROTO_UDP;
		wr16(d->quote + 4, (uint16_t)ulen);
		hl = IP6_HDR_LEN;
	} else {
		hl = p->ihl <= IP4_HDR_MAX ? p->ihl : IP4_HDR_MAX;
		memcpy(d->quote, p->ip, hl);
	}
	memcpy(d->quote + hl, h, UDP_HDR_LEN);
	d->qlen = (uint8_t)(hl + UDP_HDR_LEN);

	/* RFC 1191 3 (DF), RFC 8200 5 (IPv6 is never fragmented on its way): whether the host
	 * may fragment the datagram, or must refuse one too big for the path */
	f->udp_df = p->v6 ? !p->reassembled : !!(rd16(p->ip + 6) & IP4_FLAG_DF);
	r = s->ops.udp_send ? s->ops.udp_send(s->ctx, f, h + UDP_HDR_LEN, plen) : -ENOSYS;
	if (r == -EMSGSIZE && f->udp_df)
		return; /* counted and answered by udp_upstream_too_big() */
	if (r < 0) {
		/* Lost, as the network may lose any datagram; what the kernel would have told a
		 * local sender goes back as the matching ICMP error. */
		if (r == -STACK_E_POLICY)
			s->cnt.drop_policy_denied++;
		else
			s->cnt.drop_udp_upstream_error++;
		if (udp_errno_icmp(-r, &code))
			udp_send_unreach(s, p, code);
	}
}

static void udp_upstream_error_do(struct stack *s, struct flow *f, uint8_t type, uint8_t code,
			uint64_t now_us)
{
	struct udp_side *d;
	struct pkt q;

	if (!f->in_use || f->proto != PROTO_UDP || !s->udp || f->idx >= s->udp->cap)
		return;
	if (!(type == ICMP_DEST_UNREACH && code <= 15) &&
	    !(type == ICMP_TIME_EXCEEDED && code <= 1))
		return;
	d = &s->udp->side[f->idx];
	if (d->qlen < IP4_HDR_MIN + UDP_HDR_LEN)
		return;
	if (f->v6) {
		memset(&q, 0, sizeof(q));
		q.v6 = true;
		q.ip = d->quote;
		q.ihl = IP6_HDR_LEN;
		q.ip_len = d->qlen;
		q.l4 = d->quote + IP6_HDR_LEN;
		q.l4_len = UDP_HDR_LEN;
		q.proto = PROTO_UDP;
		memcpy(q.saddr6, f->caddr6, 16);
		memcpy(q.daddr6, f->paddr6, 16);
		q.now_us = now_us;
		/* RFC 4443 3.1, 3.3: the same causes under their ICMPv6 types and codes */
		if (type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_NEEDFRAG)
			return; /* an upstream path MTU is the kernel's, never the container's */
		if (type == ICMP_DEST_UNREACH)
			icmp6_send_error(s, &q, ICMP6_DEST_UNREACH, icmp6_unreach_code(code), 0,
					 f->paddr6);
		else
			icmp6_send_error(s, &q, ICMP6_TIME_EXCEEDED, code, 0, f->paddr6);
		return;
	}
	/* The container's own header, so that it finds the socket (RFC 1122 4.1.3.3: UDP MUST
	 * pass ICMP errors up to the application) */
	memset(&q, 0, sizeof(q));
	q.ip = d->quote;
	q.ihl = (size_t)(d->quote[0] & 0xf) * 4;
	q.ip_len = d->qlen;
	q.l4 = d->quote + q.ihl;
	q.l4_len = UDP_HDR_LEN;
	q.saddr = f->caddr;
	q.daddr = f->paddr;
	q.proto = PROTO_UDP;
	q.ttl = d->quote[8];
	q.tos = d->quote[1];
	q.now_us = now_us;
	icmp_send_error(s, &q, type, code, f->paddr);
}

static void udp_upstream_too_big_do(struct stack *s, struct flow *f, const uint8_t *data,
				    size_t len, uint32_t mtu, uint64_t now_us)
{
	/* RFC 4443 2.4 (c): the error fits in 1280 bytes; the IPv4 one quotes less (icmp.c) */
	uint8_t buf[IP6_MIN_MTU - IP6_HDR_LEN - ICMP_HDR_LEN];
	size_t hl, n, ulen = UDP_HDR_LEN + len;
	struct udp_side *d;
	struct pkt q;

	if (!f->in_use || f->proto != PROTO_UDP || !s->udp || f->idx >= s->udp->cap)
		return;
	s->cnt.drop_udp_too_big++;
	d = &s->udp->side[f->idx];
	if (d->qlen < IP4_HDR_MIN + UDP_HDR_LEN || ulen > 0xffff)
		return;
	hl = d->qlen - UDP_HDR_LEN;
	/* too big for some other reason than the path (a datagram past 65535 bytes): no MTU
	 * would help */
	if (!mtu || hl + ulen <= mtu)
		return;
	n = len < sizeof(buf) - d->qlen ? len : sizeof(buf) - d->qlen;
	memcpy(buf, d->quote, d->qlen);
	memcpy(buf + d->qlen, data, n);
	/* the headers are those of the flow's last datagram (the one sent now, unless the
	 * shell reports later): with this one's lengths, as the container sent it */
	wr16(buf + hl + 4, (uint16_t)ulen);
	memset(&q, 0, sizeof(q));
	q.ip = buf;
	q.ihl = hl;
	q.ip_len = d->qlen + n;
	q.l4 = buf + hl;
	q.l4_len = UDP_HDR_LEN + n;
	q.proto = PROTO_UDP;
	q.now_us = now_us;
	/* From the gateway: the hop whose next link is too small is ours (as for the frames
	 * over the link's MTU, ip4_hop_check()) */
	if (f->v6) {
		q.v6 = true;
		wr16(buf + 4, (uint16_t)ulen);
		memcpy(q.saddr6, f->caddr6, 16);
		memcpy(q.daddr6, f->paddr6, 16);
		icmp6_send_too_big(s, &q, mtu, s->cfg.gateway6);
		return;
	}
	if (hl + ulen > 0xffff)
		return;
	wr16(buf + 2, (uint16_t)(hl + ulen));
	wr16(buf + 10, 0);
	wr16(buf + 10, csum_fold(csum_partial(buf, hl, 0)));
	q.saddr = f->caddr;
	q.daddr = f->paddr;
	icmp_send_frag_needed(s, &q, mtu, s->cfg.gateway);
}

static void udp_upstream_datagram_do(struct stack *s, struct flow *f, const uint8_t *data, size_t len,
			   uint64_t now_us)
{
	struct ip_pair a = ip_pair_of_flow(f);
	uint8_t *h = ip_pair_tx_l4(s, &a);
	size_t ulen = UDP_HDR_LEN + len;
	uint16_t sum;

	if (!f->in_use || f->proto != PROTO_UDP || !s->udp)
		return;
	if (len > UDP_PAYLOAD_MAX - (f->v6 ? IP6_HDR_LEN + IP6_FRAG_HDR_LEN - IP4_HDR_MIN : 0)) {
		s->cnt.drop_udp_upstream_error++;
		return;
	}
	f->bytes_out += len;
	f->pkts_out++;
	/* For a forward's flow (origin host) the datagrams from upstream are the opening side's */
	if (f->state != UDP_REPLIED && f->origin == FLOW_ORIGIN_CONTAINER)
		stack_set_state(s, f, UDP_REPLIED, now_us);
	udp_touch(s, f, now_us);

	/* RFC 768: from where the container sent to, back to its port */
	wr16(h, f->pport);
	wr16(h + 2, f->cport);
	wr16(h + 4, (uint16_t)ulen);
	wr16(h + 6, 0);
	memcpy(h + UDP_HDR_LEN, data, len);
	sum = csum_fold(csum_partial(h, ulen, ip_pair_pseudo(&a, PROTO_UDP, ulen)));
	/* RFC 768: a computed zero is sent as all ones; zero would mean "no checksum" */
	wr16(h + 6, sum ? sum : 0xffff);
	ip_pair_output(s, &a, PROTO_UDP, ulen, true);
}

/* --- entry points: each runs as a batch (stack_enter/stack_leave) ------------------ */

void udp_abort(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	stack_enter(s);
	udp_abort_do(s, f, end, now_us);
	stack_leave(s, now_us);
}

struct flow *udp_open_inbound(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			      uint16_t pport, uint64_t now_us)
{
	struct flow *r;

	stack_enter(s);
	r = udp_open_inbound_do(s, caddr, cport, paddr, pport, now_us, NULL, NULL);
	stack_leave(s, now_us);
	return r;
}

struct flow *udp_open_inbound6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			       const uint8_t paddr[16], uint16_t pport, uint64_t now_us)
{
	struct flow *r;

	stack_enter(s);
	r = udp_open_inbound_do(s, 0, cport, 0, pport, now_us, caddr, paddr);
	stack_leave(s, now_us);
	return r;
}

void udp_upstream_error(struct stack *s, struct flow *f, uint8_t type, uint8_t code,
			uint64_t now_us)
{
	stack_enter(s);
	udp_upstream_error_do(s, f, type, code, now_us);
	stack_leave(s, now_us);
}

void udp_upstream_too_big(struct stack *s, struct flow *f, const uint8_t *data, size_t len,
			  uint32_t mtu, uint64_t now_us)
{
	stack_enter(s);
	udp_upstream_too_big_do(s, f, data, len, mtu, now_us);
	stack_leave(s, now_us);
}

void udp_upstream_datagram(struct stack *s, struct flow *f, const uint8_t *data, size_t len,
			   uint64_t now_us)
{
	stack_enter(s);
	udp_upstream_datagram_do(s, f, data, len, now_us);
	stack_leave(s, now_us);
}
