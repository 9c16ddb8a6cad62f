/* tcp_timer.c - TCP timers: retransmission (RFC 6298), persist (RFC 9293 3.8.6.1), delayed
 * ACK (RFC 9293 3.8.6.3) and TIME_WAIT (2MSL), plus the RTT estimator.
 *
 * Every connection keeps one deadline per timer; a binary min-heap over connections, keyed
 * by each one's earliest deadline, finds what is due. A link may hold tens of thousands of
 * flows, most of them idle: the heap makes tcp_tick() O(due · log n) and
 * tcp_next_deadline() O(1), where a scan would be O(flows) on every tick. A timer wheel
 * would make re-arming O(1) too, but needs a fixed granularity and cascading for deadlines
 * from 40 ms to 60 s; re-arming costs O(log n) here, a few dozen compares at most.
 * Must not: read clocks (now is passed in), do I/O.
 */
#include "tcp_internal.h"

static uint64_t heap_key(const struct tcp_stack *ts, uint32_t i)
{
	return ts->conns[ts->heap[i]].deadline;
}

static void heap_place(struct tcp_stack *ts, uint32_t i, uint32_t ci)
{
	ts->heap[i] = ci;
	ts->conns[ci].heap_pos = i + 1;
}

static void heap_up(struct tcp_stack *ts, uint32_t i)
{
	uint32_t ci = ts->heap[i];
	uint64_t key = ts->conns[ci].deadline;

	while (i) {
		uint32_t parent = (i - 1) / 2;

		if (heap_key(ts, parent) <= key)
			break;
		heap_place(ts, i, ts->heap[parent]);
		i = parent;
	}
	heap_place(ts, i, ci);
}

static void heap_down(struct tcp_stack *ts, uint32_t i)
{
	uint32_t ci = ts->heap[i];
	uint64_t key = ts->conns[ci].deadline;

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		uint64_t mkey = key;

		if (l < ts->nheap && heap_key(ts, l) < mkey) {
			m = l;
			mkey = heap_key(ts, l);
		}
		if (l + 1 < ts->nheap && heap_key(ts, l + 1) < mkey)
			m = l + 1;
		if (m == i)
			break;
		heap_place(ts, i, ts->heap[m]);
		i = m;
	}
	heap_place(ts, i, ci);
}

static void heap_remove(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t i = c->heap_pos - 1;

	c->heap_pos = 0;
	if (--ts->nheap == i)
		return;
	heap_place(ts, i, ts->heap[ts->nheap]);
	heap_down(ts, i);
	heap_up(ts, ts->conns[ts->heap[i]].heap_pos - 1);
}

/**
 * timer_update() - recompute @c's earliest deadline and fix its place in the heap
 * @ts:	the link's TCP state
 * @c:	the connection
 */
static void timer_update(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t d = TCP_T_OFF;
	uint32_t ci = (uint32_t)(c - ts->conns);

	for (int t = 0; t < TCP_NTIMERS; t++)
		if (c->timer[t] < d)
			d = c->timer[t];
	if (d == TCP_T_OFF) {
		if (c->heap_pos)
			heap_remove(ts, c);
		c->deadline = d;
		return;
	}
	c->deadline = d;
	if (!c->heap_pos) {
		heap_place(ts, ts->nheap++, ci);
		heap_up(ts, ts->nheap - 1);
		return;
	}
	heap_up(ts, c->heap_pos - 1);
	heap_down(ts, c->heap_pos - 1);
}

/**
 * tcp_timer_set() - arm (or with TCP_T_OFF, stop) one timer of @c
 * @s:		the stack
 * @c:		the connection
 * @t:		which timer
 * @at_us:	deadline, or TCP_T_OFF
 */
void tcp_timer_set(struct stack *s, struct tcp_conn *c, enum tcp_timer t, uint64_t at_us)
{
	if (c->timer[t] == at_us)
		return;
	c->timer[t] = at_us;
	timer_update(s->tcp, c);
}

/**
 * tcp_timer_stop_all() - stop every timer of @c and take it out of the heap
 * @s:	the stack
 * @c:	the connection
 */
void tcp_timer_stop_all(struct stack *s, struct tcp_conn *c)
{
	for (int t = 0; t < TCP_NTIMERS; t++)
		c->timer[t] = TCP_T_OFF;
	timer_update(s->tcp, c);
}

/**
 * tcp_rtt_sample() - feed one RTT measurement into the RFC 6298 estimator
 * @c:		the connection
 * @rtt_us:	the measured round trip
 */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us)
{
	uint64_t rto;
	uint32_t k;

	if (!c->rtt_seen) {
		/* RFC 6298 2.2: first measurement */
		c->srtt_us = rtt_us;
		c->rttvar_us = rtt_us / 2;
		c->rtt_seen = true;
	} else {
		/* RFC 6298 2.3: beta = 1/4, alpha = 1/8 */
		uint32_t delta = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;

		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + delta / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + rtt_us / 8;
	}
	k = 4 * c->rttvar_us;
	rto = (uint64_t)c->srtt_us + (k > TCP_CLOCK_G_US ? k : TCP_CLOCK_G_US);
	/* RFC 6298 2.4 and 2.5: clamp to [min, max] */
	if (rto < TCP_RTO_MIN_US)
		rto = TCP_RTO_MIN_US;
	if (rto > TCP_RTO_MAX_US)
		rto = TCP_RTO_MAX_US;
	c->rto_us = (uint32_t)rto;
}

/**
 * tcp_rearm_rtx() - RFC 6298 5.2/5.3: restart the retransmission timer if anything is
 * outstanding, stop it otherwise
 * @s:		the stack
 * @c:		the connection
 * @now_us:	current time
 */
void tcp_rearm_rtx(struct stack *s, struct tcp_conn *c, uint64_t now_us)
{
	if (c->snd_una != c->snd_max)
		tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
	else
		tcp_timer_set(s, c, TCP_T_RTX, TCP_T_OFF);
}

static void backoff(struct tcp_conn *c)
{
	/* RFC 6298 5.5: double the RTO, up to the maximum */
	c->rto_us = c->rto_us > TCP_RTO_MAX_US / 2 ? TCP_RTO_MAX_US : c->rto_us * 2;
}

/**
 * rtx_expired() - the retransmission timer fired (RFC 6298 5.4-5.7, RFC 5681 3.1)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void rtx_expired(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t flight, limit;

	switch (f->state) {
	case TCP_SYN_RCVD:
		limit = TCP_SYNACK_RETRIES;
		break;
	case TCP_SYN_SENT:
		limit = TCP_SYN_RETRIES;
		break;
	default:
		limit = TCP_MAX_RETRIES;
		break;
	}
	if (c->snd_una == c->snd_max || c->waiting_upstream)
		return;
	if (++c->nrtx > limit) {
		tcp_fail(s, f, FLOW_END_TIMEOUT, now_us);
		return;
	}
	s->cnt.tcp_rto_expired++;
	backoff(c);
	c->rtt_timing = false; /* Karn: no sample from what gets retransmitted */
	if (f->state == TCP_SYN_RCVD) {
		tcp_send_synack(s, f, now_us);
	} else if (f->state == TCP_SYN_SENT) {
		tcp_send_syn(s, f, now_us);
	} else {
		/* RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2 * SMSS), cwnd = 1 SMSS;
		 * RFC 6582 3.2 (4 after a timeout): recover = the highest sequence sent. */
		flight = c->snd_max - c->snd_una;
		c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
		c->cwnd = c->mss;
		c->recover = c->snd_max;
		c->in_recovery = false;
		c->dupacks = 0;
		/* RFC 2018 5.1: after a timeout, forget what was SACKed (the container may have
		 * reneged); go-back-N resends it */
		tcp_sack_clear(c);
		/* Go back N: everything after the first segment is resent as ACKs clock it. */
		c->snd_nxt = c->snd_una;
		tcp_retransmit_first(s, f, now_us);
	}
	tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
}

/**
 * persist_expired() - the persist timer fired: probe the zero window (RFC 9293 3.8.6.1)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void persist_expired(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint64_t iv;

	if (c->snd_wnd || c->snd_una != c->snd_max)
		return;
	tcp_send_probe(s, f, now_us);
	/* RFC 9293 3.8.6.1: keep probing, backing off, as long as the container answers. */
	if (c->persist_shift < 10)
		c->persist_shift++;
	iv = (uint64_t)c->rto_us << c->persist_shift;
	if (iv > TCP_RTO_MAX_US)
		iv = TCP_RTO_MAX_US;
	tcp_timer_set(s, c, TCP_T_PERSIST, now_us + iv);
}

/**
 * idle_expired() - the idle timer fired: reset an ESTABLISHED flow silent for the whole
 * idle timeout both ways, or re-arm it from its last activity. Arming lazily (at ESTABLISHED
 * and here, never per segment) keeps the heap untouched on the data path.
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void idle_expired(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint64_t idle_us = (uint64_t)s->cfg.idle_timeout_ms * 1000;

	if (f->state != TCP_ESTABLISHED || !idle_us)
		return;
	if (f->last_us + idle_us > now_us) {
		tcp_timer_set(s, c, TCP_T_IDLE, f->last_us + idle_us);
		return;
	}
	/* No RFC sets this limit (RFC 9293 3.8.4's keep-alives are optional and off here): it
	 * bounds what a container can pin on the host, a socket and a flow slot, by opening
	 * connections and never using them. Both ends hear of it as a reset. */
	s->cnt.tcp_idle_timeout++;
	tcp_fail(s, f, FLOW_END_TIMEOUT, now_us);
}

/**
 * fire() - run @c's timers that are due at @now_us
 * @s:		the stack
 * @c:		the connection (its flow may be released on return)
 * @now_us:	current time
 */
static void fire(struct stack *s, struct tcp_conn *c, uint64_t now_us)
{
	struct flow *f = tcp_flow_of(s, c);

	if (!f || f->tcp != c) {
		tcp_timer_stop_all(s, c);
		return;
	}
	if (c->timer[TCP_T_2MSL] <= now_us) {
		c->timer[TCP_T_2MSL] = TCP_T_OFF;
		timer_update(s->tcp, c);
		/* RFC 9293 3.10.7.4: "When the time-wait timeout expires, delete the TCB" */
		tcp_close_flow(s, f, FLOW_END_FIN, now_us);
		return;
	}
	if (c->timer[TCP_T_IDLE] <= now_us) {
		c->timer[TCP_T_IDLE] = TCP_T_OFF;
		timer_update(s->tcp, c);
		idle_expired(s, f, now_us);
		if (f->tcp != c || !f->in_use)
			return;
	}
	if (c->timer[TCP_T_RTX] <= now_us) {
		c->timer[TCP_T_RTX] = TCP_T_OFF;
		timer_update(s->tcp, c);
		rtx_expired(s, f, now_us);
		if (f->tcp != c || !f->in_use)
			return;
	}
	if (c->timer[TCP_T_PERSIST] <= now_us) {
		c->timer[TCP_T_PERSIST] = TCP_T_OFF;
		timer_update(s->tcp, c);
		persist_expired(s, f, now_us);
	}
	if (c->timer[TCP_T_DELACK] <= now_us) {
		c->timer[TCP_T_DELACK] = TCP_T_OFF;
		timer_update(s->tcp, c);
		if (c->delack_segs)
			tcp_send_ack(s, f, now_us);
	}
}

void tcp_tick(struct stack *s, uint64_t now_us)
{
	struct tcp_stack *ts = s->tcp;
	/* Bound the work: each connection's handlers re-arm into the future, so one pass over
	 * the due ones suffices; the bound only guards against a bug looping forever. */
	uint32_t budget = ts->nheap * 2 + 16;

	while (ts->nheap && heap_key(ts, 0) <= now_us && budget--) {
		struct tcp_conn *c = &ts->conns[ts->heap[0]];

		fire(s, c, now_us);
		/* A handler that left a due deadline behind would spin: push it forward. */
		if (c->heap_pos && c->deadline <= now_us) {
			for (int t = 0; t < TCP_NTIMERS; t++)
				if (c->timer[t] <= now_us)
					c->timer[t] = now_us + 1;
			timer_update(ts, c);
		}
	}
}

uint64_t tcp_next_deadline(struct stack *s)
{
	struct tcp_stack *ts = s->tcp;

	return ts->nheap ? heap_key(ts, 0) : UINT64_MAX;
}
