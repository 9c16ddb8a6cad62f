/* tcp_conn.c - TCP connections: the per-link pool of TCBs, the one transition function of the
 * RFC 9293 state machine, opening (passive on a container SYN, active for port forwards),
 * the upstream events from the relay, ending, RFC 6528 ISNs and the control-socket view.
 *
 * Segment arrival (RFC 9293 3.10.7) is tcp_input.c's, building segments tcp_output.c's,
 * timers tcp_timer.c's; all of them change state only through tcp_transition() here, or end
 * the connection through tcp_close_flow(). Must not: do I/O or read clocks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "siphash.h"
#include "tcp_internal.h"

/* --- RFC 6528 ISNs: SipHash-2-4 under the key derived for them (siphash.h) --------------- */

/**
 * tcp_isn() - RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4 µs timer, F SipHash-2-4; the hash's other half is the connection's timestamp offset
 * (RFC 7323 5.4), so TSvals do not reveal our clock either
 * @s:			the stack (its ISN key, s->isn_key: never the raw secret)
 * @caddr, @cport:	container side
 * @paddr, @pport:	peer side as the container sees it
 * @now_us:		current time
 * @ts_off:		timestamp offset out (may be NULL)
 * Return: the ISN
 */
static uint32_t tcp_isn(const struct stack *s, const struct flow *f, uint64_t now_us,
			uint32_t *ts_off)
{
	uint8_t in[36];
	size_t n;
	uint64_t h;

	/* the 4-tuple of the flow's own family: IPv4 hashes 12 bytes, IPv6 36 */
	if (f->v6) {
		memcpy(in, f->paddr6, 16);
		wr16(in + 16, f->pport);
		memcpy(in + 18, f->caddr6, 16);
		wr16(in + 34, f->cport);
		n = 36;
	} else {
		wr32(in, f->paddr);
		wr16(in + 4, f->pport);
		wr32(in + 6, f->caddr);
		wr16(in + 10, f->cport);
		n = 12;
	}
	h = siphash24(s->isn_key, in, n);
	if (ts_off)
		*ts_off = (uint32_t)(h >> 32);
	return (uint32_t)(now_us / 4) + (uint32_t)h;
}

/* --- the pool and the TIME_WAIT list ------------------------------------------------------ */

int tcp_init(struct stack *s)
{
	struct tcp_stack *ts = calloc(1, sizeof(*ts));
	uint32_t n = flow_capacity(s->flows);

	if (!ts)
		return -1;
	/* calloc: a slot's page is touched only when a flow there first uses TCP. */
	ts->conns = calloc(n, sizeof(*ts->conns));
	ts->heap = calloc(n, sizeof(*ts->heap));
	if (!ts->conns || !ts->heap) {
		free(ts->conns);
		free(ts->heap);
		free(ts);
		return -1;
	}
	ts->nconns = n;
	ts->challenge_rl = (struct ratelimit){ .per_sec = TCP_CHALLENGE_PER_SEC,
					       .burst = TCP_CHALLENGE_BURST,
					       .tokens = TCP_CHALLENGE_BURST };
	ts->rst_rl = (struct ratelimit){ .per_sec = TCP_RST_PER_SEC, .burst = TCP_RST_BURST,
					 .tokens = TCP_RST_BURST };
	s->tcp = ts;
	return 0;
}

void tcp_fini(struct stack *s)
{
	if (!s->tcp)
		return;
	free(s->tcp->conns);
	free(s->tcp->heap);
	free(s->tcp);
	s->tcp = NULL;
}

/**
 * age_unlink() - take @c out of the age list that holds it, if any
 * @ts:	the link's TCP state
 * @c:	the connection
 */
static void age_unlink(struct tcp_stack *ts, struct tcp_conn *c)
{
	struct tcp_age *l;

	if (c->age_list == TCP_AGE_NONE || c->age_list >= TCP_AGE_NLISTS)
		return;
	l = &ts->age[c->age_list];
	if (c->age_prev)
		ts->conns[c->age_prev - 1].age_next = c->age_next;
	else
		l->head = c->age_next;
	if (c->age_next)
		ts->conns[c->age_next - 1].age_prev = c->age_prev;
	else
		l->tail = c->age_prev;
	c->age_prev = c->age_next = 0;
	c->age_list = TCP_AGE_NONE;
}

/**
 * age_link() - append @c (the youngest) to age list @list
 * @ts:		the link's TCP state
 * @c:		the connection, in no list
 * @list:	enum tcp_age_list, not TCP_AGE_NONE
 */
static void age_link(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_age_list list)
{
	uint32_t me = (uint32_t)(c - ts->conns) + 1;
	struct tcp_age *l = &ts->age[list];

	c->age_list = (uint8_t)list;
	c->age_next = 0;
	c->age_prev = l->tail;
	if (l->tail)
		ts->conns[l->tail - 1].age_next = me;
	else
		l->head = me;
	l->tail = me;
}

/**
 * age_list_of() - the age list a connection in @state belongs to
 * @state:	a TCP state
 * Return: enum tcp_age_list
 */
static enum tcp_age_list age_list_of(uint8_t state)
{
	if (state == TCP_TIME_WAIT)
		return TCP_AGE_TIME_WAIT;
	if (state == TCP_SYN_RCVD)
		return TCP_AGE_HALF_OPEN;
	return TCP_AGE_NONE;
}

static void ooo_free(struct stack *s, struct tcp_conn *c)
{
	for (unsigned int i = 0; i < c->nooo; i++)
		free(c->ooo[i].data);
	s->tcp->ooo_bytes -= c->ooo_bytes;
	free(c->ooo);
	c->ooo = NULL;
	c->nooo = 0;
	c->ooo_bytes = 0;
}

void tcp_release(struct stack *s, struct flow *f)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c || !s->tcp)
		return;
	ooo_free(s, c);
	tcp_sack_clear(c);
	tcp_timer_stop_all(s, c);
	age_unlink(s->tcp, c);
	tcp_pend_unlink(s, c);
	stack_txq_forget(s, f);
	f->tcp = NULL;
}

/**
 * conn_new() - give @f a fresh TCB from the pool
 * @s:		the stack
 * @f:		the flow (its slot index picks the TCB)
 * @now_us:	current time (ISN)
 * Return: the TCB
 */
static struct tcp_conn *conn_new(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = &s->tcp->conns[f->idx];

	memset(c, 0, sizeof(*c));
	c->fidx = f->idx;
	for (int t = 0; t < TCP_NTIMERS; t++)
		c->timer[t] = TCP_T_OFF;
	c->deadline = TCP_T_OFF;
	c->rto_us = TCP_RTO_INIT_US;
	c->iss = tcp_isn(s, f, now_us, &c->ts_off);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss;
	c->ssthresh = TCP_CWND_MAX; /* RFC 5681 3.1: initially arbitrarily high */
	c->mss = TCP_DEFAULT_MSS;
	c->peer_mss = TCP_DEFAULT_MSS;
	f->tcp = c;
	return c;
}

/**
 * our_shift() - RFC 7323 2.3: the smallest shift that lets our largest window fit in 16 bits
 * Return: the shift
 */
static uint8_t our_shift(void)
{
	uint8_t shift = 0;

	while (shift < TCP_WSCALE_MAX && (65535u << shift) < TCP_MAX_RCV_WND)
		shift++;
	return shift;
}

/**
 * tcp_negotiate() - take the container's SYN options (RFC 9293 3.7.1, RFC 7323, RFC 2018):
 * each extension is on only if we offered it (active open) and the SYN carries it
 * @s:	the stack
 * @c:	the connection
 * @g:	the SYN or SYN-ACK
 */
void tcp_negotiate(struct stack *s, struct tcp_conn *c, const struct tcp_seg *g)
{
	const struct flow *f = flow_at(s->flows, c->fidx);
	/* RFC 8200 8.3: over IPv6 the MSS is the MTU less 60 */
	uint32_t ours = s->cfg.mtu - (f && f->v6 ? IP6_HDR_LEN : IP4_HDR_MIN) - TCP_HDR_MIN;
	uint32_t peer = g->mss ? g->mss : TCP_DEFAULT_MSS;

	if (peer < TCP_MIN_PEER_MSS)
		peer = TCP_MIN_PEER_MSS;
	c->peer_mss = (uint16_t)peer;
	c->mss = (uint16_t)(peer < ours ? peer : ours);

	/* RFC 7323 2.2: window scaling only if both SYNs carry the option */
	if (g->wscale >= 0 && (!c->active || c->ws_ok)) {
		c->ws_ok = true;
		c->snd_shift = (uint8_t)(g->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : g->wscale);
		c->rcv_shift = our_shift();
	} else {
		c->ws_ok = false;
		c->snd_shift = c->rcv_shift = 0;
	}
	c->sack_ok = g->sack_perm && (!c->active || c->sack_ok);
	c->ts_ok = g->has_ts && (!c->active || c->ts_ok);
	if (c->ts_ok)
		c->ts_recent = g->tsval;
	/* RFC 5681 3.1 / RFC 6928: initial window (see TCP_IW_SEGS) */
	c->cwnd = TCP_IW_SEGS * (uint32_t)c->mss;
}

/* --- the transition function -------------------------------------------------------------- */

/**
 * tcp_set_state() - move @f to @state (keeps the age lists and the 2MSL timer)
 * @s:		the stack
 * @f:		the flow
 * @state:	new state
 * @now_us:	current time
 */
static void tcp_set_state(struct stack *s, struct flow *f, uint8_t state, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	enum tcp_age_list list = age_list_of(state);

	if (c)
		age_unlink(s->tcp, c);
	stack_set_state(s, f, state, now_us);
	if (c && list != TCP_AGE_NONE)
		age_link(s->tcp, c, list);
	if (state == TCP_TIME_WAIT && c) {
		/* Nothing of ours is outstanding any more; only the 2MSL wait remains. */
		tcp_timer_set(s, c, TCP_T_RTX, TCP_T_OFF);
		tcp_timer_set(s, c, TCP_T_PERSIST, TCP_T_OFF);
		tcp_timer_set(s, c, TCP_T_2MSL, now_us + (uint64_t)s->cfg.time_wait_ms * 1000);
	}
	if (c)
		tcp_timer_set(s, c, TCP_T_IDLE,
			      state == TCP_ESTABLISHED && s->cfg.idle_timeout_ms ?
				      now_us + (uint64_t)s->cfg.idle_timeout_ms * 1000 :
				      TCP_T_OFF);
}

/**
 * tcp_transition() - the RFC 9293 state diagram (3.3.2, Figure 5): the next state for @ev
 * in the current state. Events that do not apply in a state change nothing.
 * @s:		the stack
 * @f:		the flow (released when LAST_ACK's FIN is acknowledged)
 * @ev:		what happened
 * @now_us:	current time
 */
void tcp_transition(struct stack *s, struct flow *f, enum tcp_event ev, uint64_t now_us)
{
	switch (f->state) {
	case TCP_SYN_SENT:
		if (ev == TCP_EV_SYNACK_RCVD)
			tcp_set_state(s, f, TCP_ESTABLISHED, now_us);
		else if (ev == TCP_EV_SYN_RCVD)
			tcp_set_state(s, f, TCP_SYN_RCVD, now_us); /* simultaneous open */
		break;
	case TCP_SYN_RCVD:
		if (ev == TCP_EV_SYN_ACKED)
			tcp_set_state(s, f, TCP_ESTABLISHED, now_us);
		else if (ev == TCP_EV_FIN_RCVD)
			tcp_set_state(s, f, TCP_CLOSE_WAIT, now_us);
		else if (ev == TCP_EV_FIN_SENT)
			tcp_set_state(s, f, TCP_FIN_WAIT_1, now_us);
		break;
	case TCP_ESTABLISHED:
		if (ev == TCP_EV_FIN_SENT)
			tcp_set_state(s, f, TCP_FIN_WAIT_1, now_us);
		else if (ev == TCP_EV_FIN_RCVD)
			tcp_set_state(s, f, TCP_CLOSE_WAIT, now_us);
		break;
	case TCP_FIN_WAIT_1:
		if (ev == TCP_EV_FIN_ACKED)
			tcp_set_state(s, f, TCP_FIN_WAIT_2, now_us);
		else if (ev == TCP_EV_FIN_RCVD)
			tcp_set_state(s, f, TCP_CLOSING, now_us); /* simultaneous close */
		break;
	case TCP_FIN_WAIT_2:
		if (ev == TCP_EV_FIN_RCVD)
			tcp_set_state(s, f, TCP_TIME_WAIT, now_us);
		break;
	case TCP_CLOSE_WAIT:
		if (ev == TCP_EV_FIN_SENT)
			tcp_set_state(s, f, TCP_LAST_ACK, now_us);
		break;
	case TCP_CLOSING:
		if (ev == TCP_EV_FIN_ACKED)
			tcp_set_state(s, f, TCP_TIME_WAIT, now_us);
		break;
	case TCP_LAST_ACK:
		if (ev == TCP_EV_FIN_ACKED)
			tcp_close_flow(s, f, FLOW_END_FIN, now_us); /* → CLOSED, TCB deleted */
		break;
	case TCP_TIME_WAIT:
		if (ev == TCP_EV_FIN_RCVD) /* 3.10.7.4: a retransmitted FIN restarts 2MSL */
			tcp_timer_set(s, tcp_conn_of(f), TCP_T_2MSL,
				      now_us + (uint64_t)s->cfg.time_wait_ms * 1000);
		break;
	default: /* CLOSED, LISTEN: no TCB that events could move */
		break;
	}
}

/**
 * tcp_close_flow() - end @f (state CLOSED, TCB freed, flow_closed called)
 * @s:		the stack
 * @f:		the flow; invalid afterwards
 * @end:	enum flow_end
 * @now_us:	current time
 */
void tcp_close_flow(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	stack_flow_release(s, f, end, now_us);
}

/**
 * refuse() - answer the container's SYN with <SEQ=0><ACK=ISN+1><CTL=RST,ACK> (what a closed
 * port answers, RFC 9293 3.10.7.1) before any SYN-ACK went out
 * @s:	the stack
 * @f:	the flow
 */
static void refuse(struct stack *s, struct flow *f)
{
	struct ip_pair a = ip_pair_of_flow(f);

	tcp_send_rst_raw(s, &a, f->pport, f->cport, 0, tcp_conn_of(f)->irs + 1,
			 TCP_RST | TCP_ACK);
}

/**
 * reset_container() - RST to the container as fits the state: the refusal form while the
 * SYN is unanswered, <SEQ=SND.NXT> once synchronised or our SYN-ACK went out, nothing in
 * TIME_WAIT (the connection is over)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void reset_container(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (f->state == TCP_TIME_WAIT || f->state == TCP_CLOSED)
		return;
	if (f->state == TCP_SYN_RCVD && c->waiting_upstream)
		refuse(s, f);
	else if (f->state == TCP_SYN_SENT) {
		struct ip_pair a = ip_pair_of_flow(f);

		tcp_send_rst_raw(s, &a, f->pport, f->cport, c->snd_max, 0, TCP_RST);
	} else
		tcp_send_rst(s, f, now_us);
}

/**
 * tcp_fail() - give up on @f from our side (retransmission limit): RST to the container,
 * abort upstream, release
 * @s:		the stack
 * @f:		the flow; invalid afterwards
 * @end:	enum flow_end
 * @now_us:	current time
 */
void tcp_fail(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	reset_container(s, f, now_us);
	if (s->ops.tcp_reset)
		s->ops.tcp_reset(s->ctx, f);
	tcp_close_flow(s, f, end, now_us);
}

/* --- opening ------------------------------------------------------------------------------ */

/**
 * evict_oldest() - end the oldest flow of age list @list to make room
 * @s:		the stack
 * @list:	TCP_AGE_TIME_WAIT or TCP_AGE_HALF_OPEN
 * @now_us:	current time
 *
 * Silently, as RFC 4987 3.5 recycles a half-open TCB: the container is not told (a genuine
 * opener retransmits its SYN and gets a new flow), upstream's connect is aborted.
 * Return: true if one was evicted
 */
static bool evict_oldest(struct stack *s, enum tcp_age_list list, uint64_t now_us)
{
	struct tcp_stack *ts = s->tcp;
	uint32_t head = ts->age[list].head;
	struct flow *f;

	if (!head)
		return false;
	f = flow_at(s->flows, head - 1);
	if (!f) {
		age_unlink(ts, &ts->conns[head - 1]);
		return false;
	}
	if (list == TCP_AGE_HALF_OPEN) {
		s->cnt.tcp_half_open_evicted++;
		if (s->ops.tcp_reset)
			s->ops.tcp_reset(s->ctx, f);
	}
	tcp_close_flow(s, f, FLOW_END_EVICTED, now_us);
	return true;
}

/**
 * tcp_passive_open() - a container SYN for a new 4-tuple: create the flow in SYN_RCVD,
 * waiting for the upstream connect (ops->tcp_open); the SYN-ACK goes out from
 * tcp_upstream_connected()
 * @s:	the stack
 * @p:	the packet
 * @g:	the SYN (flags exactly SYN, checked by the caller)
 */
void tcp_passive_open(struct stack *s, const struct pkt *p, const struct tcp_seg *g)
{
	uint16_t sport = rd16(p->l4), dport = rd16(p->l4 + 2);
	uint64_t now = p->now_us;
	struct tcp_conn *c;
	struct flow *f;
	int rc;

	/* RFC 4987 3.5: at the half-open bound the oldest half-open connection makes way, so
	 * that a flood of SYNs that never complete cannot keep a genuine one from its SYN-ACK */
	if (s->nstate[TCP_SYN_RCVD] >= s->cfg.max_half_open &&
	    !evict_oldest(s, TCP_AGE_HALF_OPEN, now)) {
		s->cnt.drop_tcp_over_limit++;
		s->cnt.tcp_syn_cookies_or_drops++;
		return;
	}
	if (flow_count(s->flows) >= flow_capacity(s->flows) &&
	    !evict_oldest(s, TCP_AGE_TIME_WAIT, now)) {
		s->cnt.drop_tcp_over_limit++;
		return;
	}
	f = p->v6 ? stack_flow_new6(s, PROTO_TCP, p->saddr6, sport, p->daddr6, dport, now)
		  : stack_flow_new(s, PROTO_TCP, p->saddr, sport, p->daddr, dport, now);
	if (!f) {
		s->cnt.drop_tcp_over_limit++;
		return;
	}
	f->origin = FLOW_ORIGIN_CONTAINER;
	f->pkts_in++;
	c = conn_new(s, f, now);
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->snd_wnd = g->wnd; /* RFC 7323 2.2: a SYN's window is never scaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = c->iss;
	tcp_negotiate(s, c, g);
	c->waiting_upstream = true;
	tcp_set_state(s, f, TCP_SYN_RCVD, now);

	rc = s->ops.tcp_open ? s->ops.tcp_open(s->ctx, f) : -ECONNREFUSED;
	if (rc == -ETIMEDOUT) {
		/* the shell wants the container to see no answer at all (slirp4netns's
		 * --disable-dns): nothing is sent, the container's own SYN timer decides */
		tcp_close_flow(s, f, FLOW_END_TIMEOUT, now);
	} else if (rc < 0) {
		/* RST for a refusal, ICMP for an unreachable network or host: as for a connect()
		 * that fails later */
		tcp_upstream_failed(s, f, -rc, now);
	}
}

/*
 * tcp_connect_do() - the active open of tcp_connect() and tcp_connect6(): @c6 and @p6 are the
 * IPv6 addresses (then @caddr and @paddr are unused), NULL for IPv4
 */
static struct flow *tcp_connect_do(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			 uint16_t pport, uint64_t now_us, const uint8_t *c6, const uint8_t *p6)
{
	struct tcp_conn *c;
	struct flow *f;

	if (c6 ? flow_lookup6(s->flows, PROTO_TCP, c6, cport, p6, pport)
	       : flow_lookup(s->flows, PROTO_TCP, caddr, cport, paddr, pport))
		return NULL;
	if (flow_count(s->flows) >= flow_capacity(s->flows) && !evict_oldest(s, TCP_AGE_TIME_WAIT, now_us))
		return NULL;
	f = c6 ? stack_flow_new6(s, PROTO_TCP, c6, cport, p6, pport, now_us)
	       : stack_flow_new(s, PROTO_TCP, caddr, cport, paddr, pport, now_us);
	if (!f)
		return NULL;
	f->origin = FLOW_ORIGIN_HOST;
	c = conn_new(s, f, now_us);
	c->active = true;
	/* We offer every extension; tcp_negotiate() keeps what the SYN-ACK accepts. */
	c->ws_ok = c->sack_ok = c->ts_ok = true;
	c->rcv_shift = our_shift();
	tcp_set_state(s, f, TCP_SYN_SENT, now_us);
	tcp_send_syn(s, f, now_us);
	c->rtt_timing = true;
	c->rtt_seq = c->iss + 1;
	c->rtt_start = now_us;
	tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
	return f;
}

struct flow *tcp_listen_row(struct stack *s, uint32_t caddr, uint16_t cport, uint64_t now_us)
{
	struct flow *f;

	if (flow_count(s->flows) >= flow_capacity(s->flows) && !evict_oldest(s, TCP_AGE_TIME_WAIT, now_us))
		return NULL;
	f = stack_flow_new(s, PROTO_TCP, caddr, cport, 0, 0, now_us);
	if (!f)
		return NULL;
	f->origin = FLOW_ORIGIN_HOST;
	tcp_set_state(s, f, TCP_LISTEN, now_us);
	return f;
}

struct flow *tcp_listen_row6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			     uint64_t now_us)
{
	static const uint8_t any[16];
	struct flow *f;

	if (flow_count(s->flows) >= flow_capacity(s->flows) && !evict_oldest(s, TCP_AGE_TIME_WAIT, now_us))
		return NULL;
	f = stack_flow_new6(s, PROTO_TCP, caddr, cport, any, 0, now_us);
	if (!f)
		return NULL;
	f->origin = FLOW_ORIGIN_HOST;
	tcp_set_state(s, f, TCP_LISTEN, now_us);
	return f;
}

void tcp_listen_row_release(struct stack *s, struct flow *f, uint64_t now_us)
{
	if (!f->in_use || f->proto != PROTO_TCP || f->state != TCP_LISTEN || f->tcp)
		return;
	stack_flow_release(s, f, FLOW_END_SHUTDOWN, now_us);
}

/**
 * tcp_fin_sent() - our FIN went out for the first time
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_fin_sent(struct stack *s, struct flow *f, uint64_t now_us)
{
	tcp_transition(s, f, TCP_EV_FIN_SENT, now_us);
}

/* --- upstream events ---------------------------------------------------------------------- */

static void tcp_upstream_connected_do(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c || f->state != TCP_SYN_RCVD || !c->waiting_upstream)
		return;
	c->waiting_upstream = false;
	tcp_send_synack(s, f, now_us);
	c->rtt_timing = true;
	c->rtt_seq = c->iss + 1;
	c->rtt_start = now_us;
	tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
}

/**
 * unreachable6() - unreachable() for an IPv6 flow: the SYN's IPv6 header rebuilt, ICMPv6
 * destination unreachable with the code RFC 4443 3.1 gives the same cause
 * @s:		the stack
 * @f:		the flow
 * @code:	the ICMP (IPv4) code
 * @tcp:	the rebuilt first TCP_HDR_MIN bytes of the SYN
 * @now_us:	current time
 */
static void unreachable6(struct stack *s, struct flow *f, uint8_t code, const uint8_t *tcp,
			 uint64_t now_us)
{
	uint8_t b[ETH_HDR_LEN + IP6_HDR_LEN + TCP_HDR_MIN] = { 0 };
	uint8_t *ip = b + ETH_HDR_LEN;
	struct pkt p = {
		.frame = b,
		.frame_len = sizeof(b),
		.ip = ip,
		.ip_len = IP6_HDR_LEN + TCP_HDR_MIN,
		.ihl = IP6_HDR_LEN,
		.l4 = ip + IP6_HDR_LEN,
		.l4_len = TCP_HDR_MIN,
		.proto = PROTO_TCP,
		.v6 = true,
		.now_us = now_us,
	};

	wr16(b + 12, ETHERTYPE_IPV6);
	wr32(ip, 6u << 28);
	wr16(ip + 4, TCP_HDR_MIN);
	ip[6] = PROTO_TCP;
	ip[7] = 64;
	memcpy(ip + 8, f->caddr6, 16);
	memcpy(ip + 24, f->paddr6, 16);
	memcpy(p.saddr6, f->caddr6, 16);
	memcpy(p.daddr6, f->paddr6, 16);
	memcpy(ip + IP6_HDR_LEN, tcp, TCP_HDR_MIN);
	icmp6_send_error(s, &p, ICMP6_DEST_UNREACH, icmp6_unreach_code(code), 0, s->cfg.gateway6);
}

/**
 * unreachable() - ICMP destination unreachable for the container's SYN. The SYN itself is
 * gone, so its IPv4 header and first 8 TCP bytes (ports and sequence number: all the
 * container's stack needs to match the error, RFC 792 / RFC 5927) are rebuilt from the TCB.
 * @s:		the stack
 * @f:		the flow
 * @code:	ICMP_UNREACH_HOST or ICMP_UNREACH_NET
 * @now_us:	current time
 */
static void unreachable(struct stack *s, struct flow *f, uint8_t code, uint64_t now_us)
{
	uint8_t b[ETH_HDR_LEN + IP4_HDR_MIN + TCP_HDR_MIN] = { 0 };
	uint8_t *ip = b + ETH_HDR_LEN, *t = ip + IP4_HDR_MIN;
	struct pkt p = {
		.frame = b,
		.frame_len = sizeof(b),
		.ip = ip,
		.ip_len = IP4_HDR_MIN + TCP_HDR_MIN,
		.ihl = IP4_HDR_MIN,
		.l4 = t,
		.l4_len = TCP_HDR_MIN,
		.saddr = f->caddr,
		.daddr = f->paddr,
		.proto = PROTO_TCP,
		.ttl = 64,
		.now_us = now_us,
	};

	wr16(b + 12, ETHERTYPE_IPV4);
	ip[0] = 0x45;
	wr16(ip + 2, IP4_HDR_MIN + TCP_HDR_MIN);
	wr16(ip + 6, IP4_FLAG_DF);
	ip[8] = 64;
	ip[9] = PROTO_TCP;
	wr32(ip + 12, f->caddr);
	wr32(ip + 16, f->paddr);
	wr16(ip + 10, csum_fold(csum_partial(ip, IP4_HDR_MIN, 0)));
	wr16(t, f->cport);
	wr16(t + 2, f->pport);
	wr32(t + 4, tcp_conn_of(f)->irs);
	t[12] = (TCP_HDR_MIN / 4) << 4;
	t[13] = TCP_SYN;
	if (f->v6) {
		unreachable6(s, f, code, t, now_us);
		return;
	}
	icmp_send_error(s, &p, ICMP_DEST_UNREACH, code, s->cfg.gateway);
}

static void tcp_upstream_failed_do(struct stack *s, struct flow *f, int err, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c)
		return;
	if (f->state != TCP_SYN_RCVD || !c->waiting_upstream) {
		tcp_upstream_reset(s, f, now_us);
		return;
	}
	switch (err) {
	case EHOSTUNREACH:
		unreachable(s, f, ICMP_UNREACH_HOST, now_us);
		tcp_close_flow(s, f, FLOW_END_UNREACHABLE, now_us);
		break;
	case ENETUNREACH:
		unreachable(s, f, ICMP_UNREACH_NET, now_us);
		tcp_close_flow(s, f, FLOW_END_UNREACHABLE, now_us);
		break;
	case ETIMEDOUT:
		refuse(s, f);
		tcp_close_flow(s, f, FLOW_END_TIMEOUT, now_us);
		break;
	case STACK_E_POLICY:
		/* Denied by policy: a RST, as from a closed port (what a host firewall's "REJECT
		 * --reject-with tcp-reset" answers). We are the container's TCP peer, not a router
		 * on its path, so RFC 1812 5.2.7.1's ICMP code 13 is the routers' answer; a RST
		 * fails the connect at once and names no rule. */
		s->cnt.drop_policy_denied++;
		refuse(s, f);
		tcp_close_flow(s, f, FLOW_END_REFUSED, now_us);
		break;
	case STACK_E_PER_DEST:
		s->cnt.drop_tcp_per_destination++;
		refuse(s, f);
		tcp_close_flow(s, f, FLOW_END_REFUSED, now_us);
		break;
	default: /* ECONNREFUSED and anything else: what a closed port says */
		refuse(s, f);
		tcp_close_flow(s, f, FLOW_END_REFUSED, now_us);
		break;
	}
}

static void tcp_upstream_readable_do(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c)
		return;
	tcp_kick(s, f, now_us);
}

static void tcp_upstream_writable_do(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t old, now_wnd;

	if (!c)
		return;
	switch (f->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		break;
	default:
		return; /* the container has sent FIN or is not connected: no window to open */
	}
	old = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	now_wnd = tcp_rcv_window(s, f);
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): update when the window opens by a
	 * full segment, or from below one segment (a zero window the container is probing). */
	if (now_wnd > old && (old < c->mss || now_wnd - old >= c->mss))
		c->ack_now = true;
	tcp_kick(s, f, now_us);
}

static void tcp_upstream_eof_do(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c || c->upstream_eof)
		return;
	c->upstream_eof = true;
	tcp_kick(s, f, now_us);
}

/**
 * tcp_upstream_gone() - the upstream connection was reset (or can take nothing more): the
 * container's side is aborted as its user would abort it (RFC 9293 3.10.5 ABORT: a RST, in the
 * form reset_container() gives the state), nothing goes upstream (it is gone already), the flow
 * is released
 * @s:		the stack
 * @f:		the flow; invalid afterwards
 * @now_us:	current time
 */
void tcp_upstream_gone(struct stack *s, struct flow *f, uint64_t now_us)
{
	reset_container(s, f, now_us);
	tcp_close_flow(s, f, FLOW_END_RST_UPSTREAM, now_us);
}

static void tcp_upstream_reset_do(struct stack *s, struct flow *f, uint64_t now_us)
{
	if (!tcp_conn_of(f))
		return;
	tcp_upstream_gone(s, f, now_us);
}

static void tcp_abort_do(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	if (!tcp_conn_of(f))
		return;
	reset_container(s, f, now_us);
	tcp_close_flow(s, f, end, now_us);
}

/* --- the control socket's view ------------------------------------------------------------ */

bool tcp_get_view(const struct flow *f, struct tcp_view *v)
{
	const struct tcp_conn *c = tcp_conn_of(f);

	if (!c)
		return false;
	memset(v, 0, sizeof(*v));
	v->iss = c->iss;
	v->irs = c->irs;
	v->snd_una = c->snd_una;
	v->snd_nxt = c->snd_nxt;
	v->snd_wnd = c->snd_wnd;
	v->snd_wl1 = c->snd_wl1;
	v->snd_wl2 = c->snd_wl2;
	v->rcv_nxt = c->rcv_nxt;
	v->rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	v->mss = c->mss;
	v->peer_mss = c->peer_mss;
	v->wscale_snd = c->ws_ok ? (int8_t)c->snd_shift : -1;
	v->wscale_rcv = c->ws_ok ? (int8_t)c->rcv_shift : -1;
	v->ts = c->ts_ok;
	v->sack = c->sack_ok;
	v->srtt_us = c->srtt_us;
	v->rttvar_us = c->rttvar_us;
	v->rto_ms = c->rto_us / 1000;
	v->cwnd = c->cwnd;
	v->ssthresh = c->ssthresh;
	v->retransmits = c->retransmits;
	v->dupacks = c->dupacks;
	v->ooo_bytes = c->ooo_bytes;
	v->in_flight = c->snd_max - c->snd_una;
	v->fin_rcvd = c->fin_rcvd;
	v->fin_sent = c->fin_sent;
	v->upstream_eof = c->upstream_eof;
	return true;
}

void tcp_upstream_set_avail(struct stack *s, struct flow *f, uint32_t avail)
{
	struct tcp_conn *c = tcp_conn_of(f);

	(void)s;
	if (c)
		c->up_avail = avail;
}

void tcp_upstream_set_room(struct stack *s, struct flow *f, uint32_t room)
{
	struct tcp_conn *c = tcp_conn_of(f);

	(void)s;
	if (c)
		c->up_room = room;
}

bool tcp_fill_offset(const struct flow *f, uint32_t seq, uint32_t *off)
{
	const struct tcp_conn *c = f ? tcp_conn_of(f) : NULL;

	if (!c || seq_lt(seq, c->snd_una))
		return false;
	*off = seq - c->snd_una;
	return true;
}

/* --- entry points: each runs as a batch (stack_enter/stack_leave) ------------------ */

struct flow *tcp_connect(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			 uint16_t pport, uint64_t now_us)
{
	struct flow *r;

	stack_enter(s);
	r = tcp_connect_do(s, caddr, cport, paddr, pport, now_us, NULL, NULL);
	stack_leave(s, now_us);
	return r;
}

struct flow *tcp_connect6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			  const uint8_t paddr[16], uint16_t pport, uint64_t now_us)
{
	struct flow *r;

	stack_enter(s);
	r = tcp_connect_do(s, 0, cport, 0, pport, now_us, caddr, paddr);
	stack_leave(s, now_us);
	return r;
}

void tcp_upstream_connected(struct stack *s, struct flow *f, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_connected_do(s, f, now_us);
	stack_leave(s, now_us);
}

void tcp_upstream_failed(struct stack *s, struct flow *f, int err, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_failed_do(s, f, err, now_us);
	stack_leave(s, now_us);
}

void tcp_upstream_readable(struct stack *s, struct flow *f, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_readable_do(s, f, now_us);
	stack_leave(s, now_us);
}

void tcp_upstream_writable(struct stack *s, struct flow *f, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_writable_do(s, f, now_us);
	stack_leave(s, now_us);
}

void tcp_upstream_eof(struct stack *s, struct flow *f, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_eof_do(s, f, now_us);
	stack_leave(s, now_us);
}

void tcp_upstream_reset(struct stack *s, struct flow *f, uint64_t now_us)
{
	stack_enter(s);
	tcp_upstream_reset_do(s, f, now_us);
	stack_leave(s, now_us);
}

void tcp_abort(struct stack *s, struct flow *f, int end, uint64_t now_us)
{
	stack_enter(s);
	tcp_abort_do(s, f, end, now_us);
	stack_leave(s, now_us);
}
