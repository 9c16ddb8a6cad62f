/* test_tcp_handshake.c - opening connections: container SYNs (passive open, the SYN-ACK
 * only after upstream connected), refusals, limits, and our active open (SYN_SENT). */
#include <errno.h>
#include <string.h>

#include "stack_internal.h"
#include "tcp_fixture.h"

static void test_syn_creates_flow_waiting_for_upstream(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd_waiting(fx);
	assert_int_equal(fx->f->origin, FLOW_ORIGIN_CONTAINER);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_SYN_RCVD), 1);
	assert_int_equal(fx->f->nhist, 1);
	assert_int_equal(fx->f->hist[0].state, TCP_SYN_RCVD);
}

static void test_synack_only_after_upstream_connected(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	fx_tick(fx, 5000000); /* no timer may answer the SYN on its own */
	assert_int_equal(fx_nout(fx), 0);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(p.ack, FX_CISN + 1);
	assert_int_equal(p.saddr, T_PEER);
	assert_int_equal(p.daddr, T_CADDR);
}

static void test_syn_retransmit_absorbed_while_waiting(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;

	fx_to_syn_rcvd_waiting(fx);
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(fx->m.open_calls, 1);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_dup_syn, 1);
	assert_int_equal(flow_count(stack_flows(fx->s)), 1);
}

static void test_syn_rcvd_dup_syn_resends_synack(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	fx_to_syn_rcvd(fx);
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(p.seq, fx->iss);
	assert_int_equal(fx->f->state, TCP_SYN_RCVD);
}

static void test_syn_rcvd_ack_to_established(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd(fx);
	fx_ack(fx, fx->iss + 1);
	assert_int_equal(fx->f->state, TCP_ESTABLISHED);
	assert_int_equal(fx->f->nhist, 2);
	assert_int_equal(fx->f->hist[1].state, TCP_ESTABLISHED);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_ESTABLISHED), 1);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_SYN_RCVD), 0);
}

static void test_syn_rcvd_bad_ack_sends_rst(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd(fx);
	fx_ack(fx, fx->iss + 77);
	fx_one(fx, &p);
	/* RFC 9293 3.10.7.4: <SEQ=SEG.ACK><CTL=RST> */
	assert_int_equal(p.flags, TCP_RST);
	assert_int_equal(p.seq, fx->iss + 77);
	assert_int_equal(fx->f->state, TCP_SYN_RCVD);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_bad_ack, 1);
}

static void test_syn_rcvd_rst_returns_to_closed(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.reset_calls, 1);
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_CONTAINER);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_SYN_RCVD), 0);
}

static void test_syn_rcvd_waiting_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd_waiting(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.reset_calls, 1);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_syn_rcvd_ack_without_synack_dropped(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd_waiting(fx);
	fx_ack(fx, 12345);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(fx_state(fx), TCP_SYN_RCVD);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_bad_state, 1);
}

static void test_upstream_refused_sends_rst_ack(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_failed(fx->s, fx->f, ECONNREFUSED, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_int_equal(p.seq, 0);
	assert_int_equal(p.ack, FX_CISN + 1);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_REFUSED);
	assert_int_equal(stack_counters(fx->s)->flows_closed_refused, 1);
	assert_int_equal(stack_counters(fx->s)->tcp_rst_sent, 1);
}

static void test_upstream_host_unreachable_sends_icmp(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_failed(fx->s, fx->f, EHOSTUNREACH, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_HOST);
	/* the quote: the SYN's IPv4 header, then its ports and sequence number */
	assert_true(p.icmp_body_len >= IP4_HDR_MIN + 8);
	assert_int_equal(rd32(p.icmp_body + 12), T_CADDR);
	assert_int_equal(rd32(p.icmp_body + 16), T_PEER);
	assert_int_equal(rd16(p.icmp_body + 20), FX_CPORT);
	assert_int_equal(rd16(p.icmp_body + 22), FX_PPORT);
	assert_int_equal(rd32(p.icmp_body + 24), FX_CISN);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_UNREACHABLE);
}

static void test_upstream_net_unreachable_sends_icmp(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_failed(fx->s, fx->f, ENETUNREACH, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_NET);
	assert_int_equal(fx->m.closed_end, FLOW_END_UNREACHABLE);
}

static void test_upstream_timeout_sends_rst(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_failed(fx->s, fx->f, ETIMEDOUT, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
}

static void test_tcp_open_failure_refuses_at_once(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	fx->m.open_ret = -EACCES;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_int_equal(p.ack, FX_CISN + 1);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_calls, 1);
}

/* Finding 4: a connect the reach policy denies is refused with RST (we are the container's TCP
 * peer) and counted as drop_policy_denied */
static void test_tcp_open_policy_denied_rst_counted(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	fx->m.open_ret = -STACK_E_POLICY;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_int_equal(p.ack, FX_CISN + 1);
	assert_null(fx_lookup(fx));
	assert_int_equal(stack_counters(fx->s)->drop_policy_denied, 1);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_per_destination, 0);
}

/* Finding 5: at the per-destination cap the SYN is refused with RST, counted apart */
static void test_tcp_open_per_destination_cap_rst_counted(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	fx->m.open_ret = -STACK_E_PER_DEST;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_null(fx_lookup(fx));
	assert_int_equal(stack_counters(fx->s)->drop_tcp_per_destination, 1);
	assert_int_equal(stack_counters(fx->s)->drop_policy_denied, 0);
}

static void test_tcp_open_net_unreachable_sends_icmp_at_once(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	fx->m.open_ret = -ENETUNREACH;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_NET);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_UNREACHABLE);
}

static void test_tcp_open_timedout_sends_nothing(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;

	fx->m.open_ret = -ETIMEDOUT;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_nout(fx), 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
}

/**
 * flood() - @n SYNs from the container that never complete (sports 1000...), each waiting
 * on its upstream connect or, with @answered, with its SYN-ACK sent
 */
static void flood(struct fx *fx, int n, bool answered)
{
	struct fr_tcp t;

	for (int i = 0; i < n; i++) {
		t = fx->syn;
		t.flags = TCP_SYN;
		t.seq = 77;
		t.sport = (uint16_t)(1000 + i);
		fx_send(fx, &t, NULL, 0);
		if (answered) {
			struct flow *f = flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR,
						     t.sport, T_PEER, FX_PPORT);

			assert_non_null(f);
			tcp_upstream_connected(fx->s, f, fx->now);
		}
		fx->now += 10;
	}
}

static void test_half_open_limit_evicts_oldest(void **state)
{
	struct fx *fx = FX;
	uint32_t max = fx->cfg.max_half_open;

	flood(fx, 20, false);
	/* RFC 4987 3.5: at the bound each new SYN recycles the oldest half-open flow */
	assert_int_equal(stack_flows_in_state(fx->s, TCP_SYN_RCVD), max);
	assert_int_equal(stack_counters(fx->s)->tcp_half_open_evicted, 20 - max);
	assert_int_equal(stack_counters(fx->s)->flows_closed_evicted, 20 - max);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_over_limit, 0);
	assert_int_equal(fx->m.reset_calls, 20 - max); /* their upstream connects aborted */
	assert_int_equal(fx->m.closed_calls, 20 - max);
	/* the oldest went, the youngest stay */
	assert_null(flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, 1000, T_PEER, FX_PPORT));
	assert_null(flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, (uint16_t)(1000 + 19 - max),
				T_PEER, FX_PPORT));
	assert_non_null(flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR,
				    (uint16_t)(1000 + 20 - max), T_PEER, FX_PPORT));
	/* silently: the container was sent nothing for the evicted */
	assert_int_equal(fx_nout(fx), 0);
}

static void test_syn_flood_genuine_syn_answered_at_once(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	/* a flood whose SYN-ACKs the "container" never acknowledges fills the half-open bound */
	flood(fx, 200, true);
	fx_clear(fx);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_SYN_RCVD), fx->cfg.max_half_open);
	/* a genuine SYN still reaches upstream and gets its SYN-ACK without waiting for the
	 * flood's flows to time out */
	t.flags = TCP_SYN;
	t.seq = fx->cseq++;
	fx_send(fx, &t, NULL, 0);
	fx->f = fx_lookup(fx);
	assert_non_null(fx->f);
	assert_int_equal(fx->m.open_calls, 201);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(p.ack, FX_CISN + 1);
	assert_int_equal(stack_counters(fx->s)->tcp_half_open_evicted,
			 200 + 1 - fx->cfg.max_half_open);
	/* and completes */
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
}

static void test_established_flow_leaves_half_open_list(void **state)
{
	struct fx *fx = FX;

	/* an established connection is never evicted by a flood */
	fx_to_established(fx);
	flood(fx, 40, false);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(stack_counters(fx->s)->tcp_half_open_evicted, 40 - fx->cfg.max_half_open);
}

static void test_flow_limit_evicts_time_wait_first(void **state)
{
	struct stack_cfg cfg;
	struct fx *fx;
	struct fr_tcp t;

	fx_cfg_default(&cfg);
	cfg.max_flows = 2;
	fx = fx_new_cfg(&cfg);
	fx_to_time_wait(fx);
	/* one more flow fills the table */
	t = fx->syn;
	t.flags = TCP_SYN;
	t.sport = 2000;
	t.seq = 5;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(flow_count(stack_flows(fx->s)), 2);
	/* the next SYN evicts the TIME_WAIT flow */
	t = fx->syn;
	t.flags = TCP_SYN;
	t.sport = 2001;
	t.seq = 5;
	fx_send(fx, &t, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(flow_count(stack_flows(fx->s)), 2);
	assert_int_equal(stack_counters(fx->s)->flows_closed_evicted, 1);
	/* and with no TIME_WAIT flow left, a SYN is refused */
	t = fx->syn;
	t.flags = TCP_SYN;
	t.sport = 2002;
	t.seq = 5;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_over_limit, 1);
	fx_free(fx);
}

static void test_isn_differs_per_tuple_and_time(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p;
	uint32_t isn[3];

	for (int i = 0; i < 3; i++) {
		t = fx->syn;
		t.flags = TCP_SYN;
		t.seq = 1;
		t.sport = (uint16_t)(3000 + (i == 2 ? 0 : i));
		if (i == 2)
			fx->now += 1000; /* same tuple as 0 after its flow went away, 1 ms later */
		fx_send(fx, &t, NULL, 0);
		tcp_upstream_connected(fx->s,
				       flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR,
						   t.sport, T_PEER, FX_PPORT),
				       fx->now);
		fx_last(fx, &p);
		isn[i] = p.seq;
		if (i == 0)
			tcp_abort(fx->s,
				  flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, t.sport,
					      T_PEER, FX_PPORT),
				  FLOW_END_SHUTDOWN, fx->now);
	}
	assert_int_not_equal(isn[0], isn[1]);
	/* RFC 6528: the same tuple's ISN moves with the 4 µs clock: 1 ms = 250 */
	assert_int_equal(isn[2] - isn[0], 250);
}

static void test_syn_with_fin_dropped(void **state)
{
	struct fx *fx = FX;

	fx_seg(fx, TCP_SYN | TCP_FIN, 1, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.open_calls, 0);
}

static void test_handshake_history_and_flow_counters(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	assert_int_equal(fx->f->pkts_in, 2);
	assert_int_equal(fx->f->pkts_out, 1);
	assert_int_equal(fx->f->last_us, fx->now);
}

/* --- active open (port forwards) ----------------------------------------------------------- */

static struct flow *connect_fx(struct fx *fx, struct parsed *p)
{
	struct flow *f = tcp_connect(fx->s, T_CADDR, FX_CPORT, T_PEER, FX_PPORT, fx->now);

	assert_non_null(f);
	fx->f = f;
	fx_one(fx, p);
	fx_clear(fx);
	return f;
}

static void test_connect_sends_syn_in_syn_sent(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	struct flow *f;

	/* the container's MAC must be known before we can send to it */
	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	assert_int_equal(p.flags, TCP_SYN);
	assert_int_equal(p.mss, 1460);
	assert_true(p.wscale >= 0);
	assert_true(p.sack_perm);
	assert_true(p.has_ts);
	assert_int_equal(f->state, TCP_SYN_SENT);
	assert_int_equal(f->origin, FLOW_ORIGIN_HOST);
}

static void test_syn_sent_synack_to_established(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { 0 };
	struct parsed p;
	struct flow *f;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	t = fx->syn;
	t.flags = TCP_SYN | TCP_ACK;
	t.seq = 500;
	t.ack = p.seq + 1;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(f->state, TCP_ESTABLISHED);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, 501);
	assert_false(p.has_ts); /* the SYN-ACK did not take timestamps */
}

static void test_syn_sent_bad_ack_sends_rst(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p;
	struct flow *f;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	t = fx->syn;
	t.flags = TCP_SYN | TCP_ACK;
	t.seq = 500;
	t.ack = p.seq + 1000;
	fx_send(fx, &t, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_RST);
	assert_int_equal(p.seq, t.ack);
	assert_int_equal(f->state, TCP_SYN_SENT);
}

static void test_syn_sent_rst_with_good_ack_closes(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	struct flow *f;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	(void)f;
	fx_seg(fx, TCP_RST | TCP_ACK, 0, p.seq + 1, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_CONTAINER);
}

static void test_syn_sent_rst_without_ack_ignored(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	connect_fx(fx, &p);
	fx_seg(fx, TCP_RST, 0, 0, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_SENT);
}

static void test_simultaneous_open_through_syn_rcvd(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p;
	struct flow *f;
	uint32_t iss;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	iss = p.seq;
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = 900;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(f->state, TCP_SYN_RCVD);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(p.seq, iss);
	assert_int_equal(p.ack, 901);
	fx_clear(fx);
	/* the container's SYN-ACK completes it */
	t = fx->syn;
	t.flags = TCP_SYN | TCP_ACK;
	t.seq = 900;
	t.ack = iss + 1;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(f->state, TCP_ESTABLISHED);
}

/* RFC 7323 2.2: "The window field in a segment where the SYN bit is set (i.e., a <SYN> or
 * <SYN,ACK>) MUST NOT be scaled", also when the SYN-ACK completes a simultaneous open */
static void test_simultaneous_open_synack_window_not_scaled(void **state)
{
	struct fx *fx = FX;
	struct tcp_view v;
	struct fr_tcp t;
	struct parsed p;
	struct flow *f;
	uint32_t iss;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	f = connect_fx(fx, &p);
	iss = p.seq;
	t = fx->syn; /* wscale 7 */
	t.flags = TCP_SYN;
	t.seq = 900;
	t.win = 1000;
	fx_send(fx, &t, NULL, 0);
	fx_clear(fx);
	t = fx->syn;
	t.flags = TCP_SYN | TCP_ACK;
	t.seq = 900;
	t.ack = iss + 1;
	t.win = 2000;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(f->state, TCP_ESTABLISHED);
	assert_true(tcp_get_view(f, &v));
	assert_int_equal(v.wscale_snd, 7);
	assert_int_equal(v.snd_wnd, 2000);
}

static void test_syn_sent_retransmits_syn_then_gives_up(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0);
	fx_clear(fx);
	connect_fx(fx, &p);
	fx_tick(fx, 1000000);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN);
	fx_clear(fx);
	for (int i = 0; i < 20 && fx_lookup(fx); i++)
		fx_tick(fx, 60000000);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_syn_creates_flow_waiting_for_upstream),
		T(test_synack_only_after_upstream_connected),
		T(test_syn_retransmit_absorbed_while_waiting),
		T(test_syn_rcvd_dup_syn_resends_synack),
		T(test_syn_rcvd_ack_to_established),
		T(test_syn_rcvd_bad_ack_sends_rst),
		T(test_syn_rcvd_rst_returns_to_closed),
		T(test_syn_rcvd_waiting_rst_closes),
		T(test_syn_rcvd_ack_without_synack_dropped),
		T(test_upstream_refused_sends_rst_ack),
		T(test_upstream_host_unreachable_sends_icmp),
		T(test_upstream_net_unreachable_sends_icmp),
		T(test_upstream_timeout_sends_rst),
		T(test_tcp_open_failure_refuses_at_once),
		T(test_tcp_open_policy_denied_rst_counted),
		T(test_tcp_open_per_destination_cap_rst_counted),
		T(test_tcp_open_net_unreachable_sends_icmp_at_once),
		T(test_tcp_open_timedout_sends_nothing),
		T(test_half_open_limit_evicts_oldest),
		T(test_syn_flood_genuine_syn_answered_at_once),
		T(test_established_flow_leaves_half_open_list),
		T(test_flow_limit_evicts_time_wait_first),
		T(test_isn_differs_per_tuple_and_time),
		T(test_syn_with_fin_dropped),
		T(test_handshake_history_and_flow_counters),
		T(test_connect_sends_syn_in_syn_sent),
		T(test_syn_sent_synack_to_established),
		T(test_syn_sent_bad_ack_sends_rst),
		T(test_syn_sent_rst_with_good_ack_closes),
		T(test_syn_sent_rst_without_ack_ignored),
		T(test_simultaneous_open_through_syn_rcvd),
		T(test_simultaneous_open_synack_window_not_scaled),
		T(test_syn_sent_retransmits_syn_then_gives_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
