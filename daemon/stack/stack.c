/* stack.c - a link's stack: creation, the entry points the shell calls, and the flow
 * bookkeeping every protocol shares (ids, states, history, outcomes). */
#include "checksum.h"
#include "siphash.h"
#include "stack_internal.h"
#include "tcp.h"

#include <stdlib.h>
#include <string.h>

void stack_cfg_defaults(struct stack_cfg *cfg)
{
	static const uint8_t mac[6] = { 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 }; /* "\2tapir" */

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = STACK_DEFAULT_ADDR;
	cfg->prefix_len = STACK_DEFAULT_PREFIX;
	cfg->gateway = STACK_DEFAULT_GATEWAY;
	cfg->dns = STACK_DEFAULT_DNS;
	cfg->dhcp = true;
	cfg->mtu = STACK_DEFAULT_MTU;
	memcpy(cfg->mac, mac, sizeof(mac));
	cfg->time_wait_ms = STACK_DEFAULT_TIME_WAIT_MS;
	cfg->max_flows = STACK_DEFAULT_MAX_FLOWS;
	cfg->max_half_open = STACK_DEFAULT_MAX_HALF_OPEN;
	cfg->udp_timeout_ms = STACK_DEFAULT_UDP_TIMEOUT_MS;
	cfg->udp_timeout_stream_ms = STACK_DEFAULT_UDP_TIMEOUT_STREAM_MS;
	cfg->max_udp_flows = STACK_DEFAULT_MAX_UDP_FLOWS;
	cfg->ipv6 = true;
	stack_cfg_prefix6(cfg, (const uint8_t[16]){ 0xfd }, STACK_DEFAULT_PREFIX6_LEN);
}

void stack_cfg_prefix6(struct stack_cfg *cfg, const uint8_t prefix[16], uint8_t len)
{
	/* slirp4netns's host numbers: ::100 for the container, ::2 and ::3 for us */
	memcpy(cfg->addr6, prefix, 16);
	memcpy(cfg->gateway6, prefix, 16);
	memcpy(cfg->dns6, prefix, 16);
	cfg->addr6[14] = 0x01;
	cfg->addr6[15] = 0x00;
	cfg->gateway6[15] = 0x02;
	cfg->dns6[15] = 0x03;
	cfg->prefix6_len = len;
}

struct stack *stack_new(const struct stack_cfg *cfg, const struct stack_ops *ops, void *ctx)
{
	struct stack *s;

	if (cfg->mtu < STACK_MIN_MTU || cfg->mtu > STACK_MAX_MTU || cfg->prefix_len > 32 ||
	    !cfg->max_flows || !ops->tx)
		return NULL;
	/* RFC 8200 5: IPv6 needs a link MTU of 1280; a prefix that leaves ::2, ::3 and ::100
	 * no room is no prefix for us */
	if (cfg->ipv6 && (cfg->mtu < IP6_MIN_MTU || cfg->prefix6_len < 8 ||
			  cfg->prefix6_len > 112))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->lease_mtu = cfg->mtu;
	s->ops = *ops;
	s->ctx = ctx;
	s->txbuf = malloc(FRAME_MAX);
	s->own_txq = stack_txq_new(STACK_TXQ_DEFAULT);
	s->txq = s->own_txq;
	/* Issue 14, finding 7: separate keys for the ISNs (on the wire) and the flow hash. */
	siphash_derive_key(cfg->secret, SIPHASH_LABEL_ISN, s->isn_key);
	siphash_derive_key(cfg->secret, SIPHASH_LABEL_FLOW, s->flow_key);
	s->flows = flow_table_new(cfg->max_flows, s->flow_key);
	/* RFC 1812 4.3.2.8: rate-limit ICMP we originate; 100/s with a burst of 50 is what
	 * Linux's icmp_ratelimit defaults amount to. */
	s->icmp_rl = (struct ratelimit){ .per_sec = 100, .burst = 50, .tokens = 50 };
	/* RFC 4443 2.4 (f): ICMPv6 errors limited the same way (Linux: icmpv6 ratelimit) */
	s->icmp6_rl = s->icmp_rl;
	ip6_ll_from_mac(s->ll6, cfg->mac);
	if (!s->txbuf || !s->own_txq || !s->flows || tcp_init(s) < 0 || udp_init(s) < 0) {
		if (s->tcp)
			tcp_fini(s);
		flow_table_free(s->flows);
		stack_txq_free(s->own_txq);
		free(s->txbuf);
		free(s);
		return NULL;
	}
	return s;
}

void stack_free(struct stack *s)
{
	struct flow *f, *next;

	if (!s)
		return;
	for (f = flow_next(s->flows, NULL); f; f = next) {
		next = flow_next(s->flows, f);
		stack_flow_release(s, f, FLOW_END_SHUTDOWN, f->last_us);
	}
	tcp_fini(s);
	udp_fini(s);
	ip4_reass_free(s);
	ip6_reass_free(s);
	flow_table_free(s->flows);
	stack_txq_free(s->own_txq);
	free(s->txbuf);
	free(s);
}

void stack_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us)
{
	stack_enter(s);
	s->cnt.rx_frames++;
	s->cnt.rx_bytes += len;
	eth_input(s, frame, len, NULL, now_us);
	stack_leave(s, now_us);
}

void stack_input_vnet(struct stack *s, const uint8_t *buf, size_t len, uint64_t now_us)
{
	struct vnet_meta m;

	stack_enter(s);
	s->cnt.rx_frames++;
	if (len < VNET_HDR_LEN) {
		s->cnt.drop_vnet_malformed++;
	} else if (!vnet_parse(s, buf, len - VNET_HDR_LEN, &m)) {
		s->cnt.rx_bytes += len - VNET_HDR_LEN;
		eth_input(s, buf + VNET_HDR_LEN, len - VNET_HDR_LEN, &m, now_us);
	}
	stack_leave(s, now_us);
}

void stack_tick(struct stack *s, uint64_t now_us)
{
	stack_enter(s);
	tcp_tick(s, now_us);
	udp_tick(s, now_us);
	ip4_reass_tick(s, now_us);
	ip6_reass_tick(s, now_us);
	ndp_tick(s, now_us);
	stack_leave(s, now_us);
}

/* --- the transmit batch --------------------------------------------------------------------- */

struct stack_txq *stack_txq_new(unsigned int cap)
{
	struct stack_txq *q = calloc(1, sizeof(*q));

	if (!q || !cap)
		goto fail;
	q->slot = calloc(cap, sizeof(*q->slot));
	q->frame = calloc(cap, sizeof(*q->frame));
	if (!q->slot || !q->frame)
		goto fail;
	for (q->cap = 0; q->cap < cap; q->cap++) {
		q->slot[q->cap] = malloc(STACK_TX_SLOT);
		if (!q->slot[q->cap])
			goto fail;
	}
	return q;
fail:
	stack_txq_free(q);
	return NULL;
}

void stack_txq_free(struct stack_txq *q)
{
	if (!q)
		return;
	for (unsigned int i = 0; q->slot && i < q->cap; i++)
		free(q->slot[i]);
	free(q->slot);
	free(q->frame);
	free(q);
}

void stack_set_txq(struct stack *s, struct stack_txq *q)
{
	if (s->batch)
		return;
	stack_tx_flush(s);
	s->txq = q && q->cap ? q : s->own_txq;
	s->txq->n = 0;
}

void stack_tx_flush(struct stack *s)
{
	struct stack_txq *q = s->txq;

	if (!q->n)
		return;
	s->ops.tx(s->ctx, q);
	q->n = 0;
}

void stack_tx_raw(struct stack *s, const uint8_t *frame, size_t len)
{
	uint8_t *e = stack_tx_frame(s);
	struct stack_frame *fr = &s->txq->frame[s->txq->n];

	if (len > FRAME_MAX)
		return;
	memcpy(e, frame, len);
	memset(fr, 0, sizeof(*fr));
	fr->data = e;
	fr->len = len;
	s->txq->n++;
	s->cnt.tx_frames++;
	s->cnt.tx_bytes += len;
	if (!s->batch)
		stack_tx_flush(s); /* built outside any batch (an internal call): send it now */
}

void stack_txq_forget(struct stack *s, const struct flow *f)
{
	struct stack_txq *q = s->txq;

	for (unsigned int i = 0; i < q->n; i++) {
		if (q->frame[i].fill_flow == f) {
			q->frame[i].fill_flow = NULL;
			q->frame[i].len = 0;
		}
	}
}

void stack_frame_seal(struct stack_frame *fr)
{
	uint8_t *l4 = fr->data + fr->l4_off;
	size_t l4_len;

	if (!fr->fill_flow || !fr->len || fr->len <= fr->l4_off)
		return;
	l4_len = fr->len - fr->l4_off;
	wr16(l4 + fr->csum_off, 0);
	wr16(l4 + fr->csum_off, csum_fold(csum_partial(l4, l4_len, fr->csum_pseudo)));
}

void stack_frame_seal_partial(struct stack_frame *fr)
{
	if (!fr->fill_flow || !fr->len || fr->len <= fr->l4_off)
		return;
	wr16(fr->data + fr->l4_off + fr->csum_off, (uint16_t)~csum_fold(fr->csum_pseudo));
}

void stack_batch_begin(struct stack *s)
{
	if (!s->batch++ && s->ops.prepare)
		s->ops.prepare(s->ctx);
}

void stack_batch_end(struct stack *s, uint64_t now_us)
{
	if (!s->batch || --s->batch)
		return;
	s->batch++; /* what dispatching makes due joins this batch */
	tcp_dispatch(s, now_us);
	s->batch--;
	stack_tx_flush(s);
}

uint64_t stack_next_deadline(struct stack *s)
{
	uint64_t t = tcp_next_deadline(s), u = udp_next_deadline(s), r = ip4_reass_deadline(s);
	uint64_t r6 = ip6_reass_deadline(s), ra = ndp_deadline(s);

	if (u < t)
		t = u;
	if (r6 < t)
		t = r6;
	if (ra < t)
		t = ra;
	return r < t ? r : t;
}

uint32_t stack_set_mtu(struct stack *s, uint32_t mtu)
{
	if (mtu < STACK_MIN_MTU)
		mtu = STACK_MIN_MTU;
	if (mtu > STACK_MAX_MTU)
		mtu = STACK_MAX_MTU;
	s->cfg.mtu = mtu;
	return mtu;
}

const struct stack_counters *stack_counters(const struct stack *s)
{
	return &s->cnt;
}

void stack_note_sockbuf_capped(struct stack *s)
{
	s->cnt.tcp_sockbuf_capped++;
}

void stack_note_udp_gso(struct stack *s, bool sent)
{
	if (sent)
		s->cnt.udp_gso_sends++;
	else
		s->cnt.udp_gso_fallbacks++;
}

const struct stack_cfg *stack_get_cfg(const struct stack *s)
{
	return &s->cfg;
}

struct flow_table *stack_flows(struct stack *s)
{
	return s->flows;
}

bool stack_container_mac(const struct stack *s, uint8_t mac[6])
{
	if (s->cmac_known)
		memcpy(mac, s->cmac, ETH_ALEN);
	return s->cmac_known;
}

uint32_t stack_flows_in_state(const struct stack *s, unsigned int state)
{
	return state < TCP_NSTATES ? s->nstate[state] : 0;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_us)
{
	if (now_us > rl->last_us) {
		uint64_t add = (now_us - rl->last_us) * rl->per_sec / 1000000;

		if (add) {
			rl->tokens = add + rl->tokens > rl->burst ? rl->burst
								  : rl->tokens + (uint32_t)add;
			rl->last_us = now_us;
		}
	} else if (now_us < rl->last_us) {
		rl->last_us = now_us; /* clock went back (tests): restart the interval */
	}
	if (!rl->tokens)
		return false;
	rl->tokens--;
	return true;
}

/**
 * stack_flow_id() - the flow id counter: the shell's (shared by its links) or the stack's own
 */
static uint64_t *stack_flow_id(struct stack *s)
{
	return s->cfg.next_flow_id ? s->cfg.next_flow_id : &s->own_flow_id;
}

/**
 * stack_flow_opened() - account for flow @f, just allocated with the next id: the id is
 * taken, counted, and announced (STACK_EV_OPEN)
 * @f:		the flow, or NULL when the table was full
 * Return: @f
 */
static struct flow *stack_flow_opened(struct stack *s, struct flow *f)
{
	if (!f)
		return NULL;
	++*stack_flow_id(s);
	s->cnt.flows_opened++;
	if (f->proto == PROTO_TCP)
		s->nstate[TCP_CLOSED]++;
	if (s->ops.flow_event)
		s->ops.flow_event(s->ctx, f, STACK_EV_OPEN, -1);
	return f;
}

struct flow *stack_flow_new(struct stack *s, uint8_t proto, uint32_t caddr, uint16_t cport,
			    uint32_t paddr, uint16_t pport, uint64_t now_us)
{
	return stack_flow_opened(s, flow_alloc(s->flows, *stack_flow_id(s) + 1, proto, caddr,
					       cport, paddr, pport, now_us));
}

struct flow *stack_flow_new6(struct stack *s, uint8_t proto, const uint8_t caddr[16],
			     uint16_t cport, const uint8_t paddr[16], uint16_t pport,
			     uint64_t now_us)
{
	return stack_flow_opened(s, flow_alloc6(s->flows, *stack_flow_id(s) + 1, proto, caddr,
						cport, paddr, pport, now_us));
}

void ip_pair_output(struct stack *s, const struct ip_pair *a, uint8_t proto, size_t l4_len,
		    bool frag)
{
	if (a->v6) {
		if (frag && l4_len > stack_l4_max6(s))
			ip6_output_fragments(s, a->src6, a->dst6, proto, l4_len, 0);
		else
			ip6_output(s, a->src6, a->dst6, proto, l4_len, 0);
	} else {
		if (frag && l4_len > stack_l4_max(s))
			ip4_output_fragments(s, a->src4, a->dst4, proto, l4_len);
		else
			ip4_output(s, a->src4, a->dst4, proto, l4_len);
	}
}

void stack_set_state(struct stack *s, struct flow *f, uint8_t state, uint64_t now_us)
{
	uint8_t from = f->state;

	if (f->proto == PROTO_TCP && from < TCP_NSTATES && state < TCP_NSTATES) {
		s->nstate[from]--;
		s->nstate[state]++;
	}
	flow_record(f, state, now_us);
	if (s->ops.flow_event)
		s->ops.flow_event(s->ctx, f, STACK_EV_STATE, from);
}

void stack_flow_release(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	if (!f->end)
		f->end = (uint8_t)end;
	switch (f->end) {
	case FLOW_END_FIN:
		s->cnt.flows_closed_fin++;
		break;
	case FLOW_END_RST_CONTAINER:
		s->cnt.flows_closed_rst_container++;
		break;
	case FLOW_END_RST_UPSTREAM:
		s->cnt.flows_closed_rst_upstream++;
		break;
	case FLOW_END_REFUSED:
		s->cnt.flows_closed_refused++;
		break;
	case FLOW_END_UNREACHABLE:
		s->cnt.flows_closed_unreachable++;
		break;
	case FLOW_END_EVICTED:
		s->cnt.flows_closed_evicted++;
		break;
	default: /* timeout, shutdown */
		s->cnt.flows_closed_timeout++;
		break;
	}
	if (f->proto == PROTO_TCP && f->state != TCP_CLOSED)
		stack_set_state(s, f, TCP_CLOSED, now_us);
	if (s->ops.flow_event)
		s->ops.flow_event(s->ctx, f, STACK_EV_CLOSE, f->state);
	if (s->ops.flow_closed)
		s->ops.flow_closed(s->ctx, f);
	if (f->proto == PROTO_TCP) {
		s->nstate[TCP_CLOSED]--;
		tcp_release(s, f);
	} else if (f->proto == PROTO_UDP) {
		udp_release(s, f);
	}
	flow_free(s->flows, f);
}
