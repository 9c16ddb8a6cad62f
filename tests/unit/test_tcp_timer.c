/* test_tcp_timer.c - reliability: RTO (RFC 6298) with back-off, Karn's rule and give-up,
 * SYN-ACK and FIN retransmission, fast retransmit and NewReno (RFC 5681/6582), cwnd, the
 * persist timer (zero-window probes), and the timer heap with many flows. */
#include "seq.h"
#include "stack_internal.h"
#include "tcp_fixture.h"

static const struct stack_counters *cnt(struct fx *fx)
{
	return stack_counters(fx->s);
}

static struct tcp_view view(struct fx *fx)
{
	struct tcp_view v;

	assert_true(tcp_get_view(fx->f, &v));
	return v;
}

/* Established, 1000 bytes sent and unacknowledged; the frame cleared. */
static void one_segment_out(struct fx *fx)
{
	fx_to_established(fx);
	fx_upstream(fx, NULL, 1000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
}

static void test_initial_rto_is_one_second(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_syn_rcvd(fx);
	assert_int_equal(view(fx).rto_ms, 1000);
	fx_tick(fx, 999999);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 1);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(cnt(fx)->tcp_rto_expired, 1);
}

static void test_synack_retransmit_gives_up(void **state)
{
	struct fx *fx = FX;

	fx_to_syn_rcvd(fx);
	for (int i = 0; i < 10 && fx_lookup(fx); i++)
		fx_tick(fx, 60000000);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
	assert_int_equal(fx->m.reset_calls, 1);
	/* 5 retransmissions (Linux's tcp_synack_retries), then the RST */
	assert_int_equal(fx_nout(fx), 6);
	{
		struct parsed p;

		fx_last(fx, &p);
		assert_true(p.flags & TCP_RST);
	}
}

static void test_rtt_sample_sets_rto(void **state)
{
	struct fx *fx = FX;
	struct tcp_view v;

	one_segment_out(fx);
	fx->now += 10000; /* 10 ms RTT */
	fx_ack(fx, fx->rnxt);
	v = view(fx);
	assert_true(v.srtt_us > 0);
	/* RFC 6298: srtt + 4 rttvar, then the 200 ms floor */
	assert_int_equal(v.rto_ms, 200);
}

static void test_rto_retransmits_first_segment(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	one_segment_out(fx);
	fx_tick(fx, 1000000);
	fx_one(fx, &p);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(p.payload_len, 1000);
	assert_int_equal(p.payload[0], fx_pattern(0));
	assert_int_equal(cnt(fx)->tcp_retransmits, 1);
	assert_int_equal(view(fx).retransmits, 1);
	assert_int_equal(fx->m.up_consumed, 0);
}

static void test_rto_backoff_doubles(void **state)
{
	struct fx *fx = FX;
	uint64_t rto;

	one_segment_out(fx);
	/* the handshake's RTT sample (0 µs here) put the RTO at its 200 ms floor */
	rto = (uint64_t)view(fx).rto_ms * 1000;
	assert_int_equal(rto, 200000);
	for (int i = 0; i < 5; i++) {
		fx_tick(fx, (rto << i) - 1);
		assert_int_equal(fx_nout(fx), 0);
		fx_tick(fx, 1);
		assert_int_equal(fx_nout(fx), 1);
		fx_clear(fx);
	}
	assert_int_equal(view(fx).rto_ms, 200 << 5);
}

static void test_rto_capped_at_60s(void **state)
{
	struct fx *fx = FX;

	one_segment_out(fx);
	for (int i = 0; i < 12; i++)
		fx_tick(fx, 60000000);
	assert_int_equal(view(fx).rto_ms, 60000);
}

static void test_rto_gives_up_with_rst(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	one_segment_out(fx);
	for (int i = 0; i < 40 && fx_lookup(fx); i++)
		fx_tick(fx, 60000000);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
	assert_int_equal(fx->m.reset_calls, 1);
	fx_last(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(cnt(fx)->tcp_retransmits, 15);
}

static void test_karn_no_rtt_sample_from_retransmit(void **state)
{
	struct fx *fx = FX;
	uint32_t srtt, rto;

	one_segment_out(fx);
	srtt = view(fx).srtt_us;
	rto = view(fx).rto_ms;
	fx_tick(fx, rto * 1000); /* retransmitted */
	fx_absorb(fx);
	fx->now += 5000;
	fx_ack(fx, fx->rnxt);
	/* the ACK is ambiguous: no sample (a 5 ms one would move SRTT), the backed-off RTO stays */
	assert_int_equal(view(fx).srtt_us, srtt);
	assert_int_equal(view(fx).rto_ms, 2 * rto);
}

static void test_rto_timer_stops_when_all_acked(void **state)
{
	struct fx *fx = FX;

	one_segment_out(fx);
	fx_ack(fx, fx->rnxt);
	fx_tick(fx, 100000000);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(stack_next_deadline(fx->s), UINT64_MAX);
}

static void test_fin_retransmitted(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_fin_wait_1(fx);
	fx_tick(fx, 1000000);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(fx_state(fx), TCP_FIN_WAIT_1);
}

static void test_rto_go_back_n_resends_data_then_fin(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 3000);
	tcp_upstream_eof(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 4); /* 1460 1460 80 FIN */
	fx_clear(fx);
	fx_tick(fx, 1000000);
	fx_one(fx, &p);
	assert_int_equal(p.seq, fx->iss + 1);
	fx_clear(fx);
	/* the first is ACKed: slow start sends the rest again, then the FIN */
	fx_ack(fx, fx->iss + 1 + 1460);
	assert_true(fx_nout(fx) >= 2);
	fx_last(fx, &p);
	assert_true(p.seq == fx->iss + 1 + 2920 || (p.flags & TCP_FIN));
}

static void dupack(struct fx *fx, uint32_t ack)
{
	fx_ack(fx, ack);
}

static void test_fast_retransmit_after_three_dupacks(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint32_t una;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 10 * 1460);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	una = fx->iss + 1 + 1460;
	fx_ack(fx, una); /* first segment arrives, the second is lost */
	fx_absorb(fx);
	dupack(fx, una);
	dupack(fx, una);
	assert_int_equal(fx_nout(fx), 0);
	dupack(fx, una);
	assert_true(fx_nout(fx) >= 1);
	fx_out(fx, 0, &p);
	assert_int_equal(p.seq, una);
	assert_int_equal(p.payload_len, 1460);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 1);
	assert_int_equal(view(fx).dupacks, 3);
}

static void test_newreno_partial_ack_retransmits_next_hole(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint32_t una;

	fx->syn.sack_perm = false; /* NewReno: with SACK, RFC 6675 recovers (test_tcp_sack.c) */
	fx_to_established(fx);
	fx_upstream(fx, NULL, 10 * 1460);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	una = fx->iss + 1;
	for (int i = 0; i < 3; i++)
		dupack(fx, una);
	fx_clear(fx);
	/* partial ACK: the first hole filled, the next one (second segment) lost too */
	fx_ack(fx, una + 1460);
	assert_true(fx_nout(fx) >= 1);
	fx_out(fx, 0, &p);
	assert_int_equal(p.seq, una + 1460);
	fx_clear(fx);
	/* full ACK ends recovery: RFC 6582 3.2 (3) option 1, min(ssthresh, max(FlightSize,
	 * SMSS) + SMSS), with nothing in flight */
	fx_ack(fx, una + 10 * 1460);
	assert_int_equal(view(fx).cwnd, 2 * 1460);
	assert_true(view(fx).ssthresh >= 2 * 1460);
	assert_int_equal(view(fx).in_flight, 0);
}

/* RFC 6582 3.2 (2): fast retransmit again once the ACK "covers more than recover", recover
 * being the highest sequence number sent when recovery began: an ACK exactly at SND.MAX of
 * then (the first segment sent after recovery lost) qualifies */
static void test_newreno_fast_retransmit_when_ack_equals_recover_plus_one(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint32_t una, recover;
	bool found;

	fx->syn.sack_perm = false;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 30 * 1460);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	una = fx->iss + 1;
	for (int i = 0; i < 3; i++)
		dupack(fx, una);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 1);
	recover = una + view(fx).in_flight; /* SND.MAX when recovery began */
	fx_clear(fx);
	fx_ack(fx, recover); /* full acknowledgment: recovery ends; new data goes out */
	fx_clear(fx);
	assert_true(seq_gt(view(fx).snd_nxt, recover));
	/* the segment at recover was lost: three duplicate ACKs of it */
	for (int i = 0; i < 3; i++)
		dupack(fx, recover);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 2);
	found = false;
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		found |= p.seq == recover && p.payload_len > 0;
	}
	assert_true(found);
}

static void test_slow_start_grows_cwnd(void **state)
{
	struct fx *fx = FX;
	uint32_t before;

	fx_to_established(fx);
	before = view(fx).cwnd;
	assert_int_equal(before, 10 * 1460);
	fx_upstream(fx, NULL, 5000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	fx_ack(fx, fx->rnxt);
	/* RFC 5681 3.1: + min(N, SMSS) per ACK */
	assert_int_equal(view(fx).cwnd, before + 1460);
}

static void test_rto_collapses_cwnd(void **state)
{
	struct fx *fx = FX;

	one_segment_out(fx);
	fx_tick(fx, 1000000);
	assert_int_equal(view(fx).cwnd, 1460);
	assert_int_equal(view(fx).ssthresh, 2 * 1460);
}

static void test_zero_window_probe_sent(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint64_t rto;

	fx_to_established(fx);
	rto = (uint64_t)view(fx).rto_ms * 1000;
	fx->win = 0;
	fx_ack(fx, fx->rnxt); /* the container's window closes */
	fx_upstream(fx, NULL, 100);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, rto - 1);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 1);
	fx_one(fx, &p);
	/* a probe: one below SND.UNA, no data */
	assert_int_equal(p.seq, fx->iss);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(cnt(fx)->tcp_zero_window_probes, 1);
	fx_clear(fx);
	/* backing off: the next one after twice the interval */
	fx_tick(fx, 2 * rto - 1);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 1);
	assert_int_equal(fx_nout(fx), 1);
	fx_clear(fx);
	/* the window opens: data flows, probes stop */
	fx->win = 100;
	fx_ack(fx, fx->rnxt);
	fx_one(fx, &p);
	assert_int_equal(p.payload_len, 100);
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	fx_tick(fx, 100000000);
	assert_int_equal(cnt(fx)->tcp_zero_window_probes, 2);
}

static void test_persist_never_gives_up(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx->win = 0;
	fx_ack(fx, fx->rnxt);
	fx_upstream(fx, NULL, 100);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	for (int i = 0; i < 50; i++) {
		fx_tick(fx, 60000000);
		fx_absorb(fx);
		fx_ack(fx, fx->rnxt); /* the container answers each probe */
	}
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_true(cnt(fx)->tcp_zero_window_probes >= 40);
}

static void test_timer_heap_many_flows(void **state)
{
	struct stack_cfg cfg;
	struct fx *fx;
	struct fr_tcp t;
	struct flow *f;
	int n = 500;

	(void)state;
	fx_cfg_default(&cfg);
	cfg.max_flows = 1024;
	cfg.max_half_open = 1024;
	cfg.time_wait_ms = 1000;
	fx = fx_new_cfg(&cfg);
	/* SYN-ACKs armed at staggered times: each fires exactly at its own deadline */
	for (int i = 0; i < n; i++) {
		t = fx->syn;
		t.flags = TCP_SYN;
		t.seq = 1;
		t.sport = (uint16_t)(10000 + i);
		fx_send(fx, &t, NULL, 0);
		f = flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, t.sport, T_PEER, FX_PPORT);
		assert_non_null(f);
		tcp_upstream_connected(fx->s, f, fx->now);
		fx->now += 1000;
	}
	fx_clear(fx);
	assert_int_equal(stack_next_deadline(fx->s), fx->now - 1000 * (uint64_t)n + 1000000);
	fx_tick(fx, 1000000 - 1000 * (uint64_t)n + 250 * 1000);
	assert_int_equal(fx_nout(fx), 251);
	fx_free(fx);
}

/**
 * idle_fx() - a world with a 10 s idle timeout and one ESTABLISHED connection
 * Return: the world
 */
static struct fx *idle_fx(void)
{
	struct stack_cfg cfg;
	struct fx *fx;

	fx_cfg_default(&cfg);
	cfg.idle_timeout_ms = 10000;
	fx = fx_new_cfg(&cfg);
	fx_to_established(fx);
	return fx;
}

/* Finding 5: an ESTABLISHED connection silent for the idle timeout is reset both ways */
static void test_idle_timeout_resets_both_ways(void **state)
{
	struct fx *fx = idle_fx();
	struct parsed p;

	(void)state;
	fx_tick(fx, 9900000);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 200000);
	assert_null(fx_lookup(fx));
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(fx->m.reset_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_TIMEOUT);
	assert_int_equal(cnt(fx)->tcp_idle_timeout, 1);
	fx_free(fx);
}

/* Traffic restarts the idle clock: the timer re-arms from the last segment */
static void test_idle_timeout_rearmed_by_traffic(void **state)
{
	struct fx *fx = idle_fx();

	(void)state;
	fx_tick(fx, 6000000);
	fx_data(fx, "ping", 4);
	fx_tick(fx, 1000000);
	fx_absorb(fx);
	fx_tick(fx, 8000000); /* 15 s since ESTABLISHED, 9 s since the data */
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(cnt(fx)->tcp_idle_timeout, 0);
	fx_tick(fx, 3000000);
	assert_null(fx_lookup(fx));
	assert_int_equal(cnt(fx)->tcp_idle_timeout, 1);
	fx_free(fx);
}

/* Off by default, as slirp4netns: an hour of silence changes nothing */
static void test_idle_timeout_off_by_default(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	for (int i = 0; i < 60; i++)
		fx_tick(fx, 60000000);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(cnt(fx)->tcp_idle_timeout, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_initial_rto_is_one_second),
		T(test_idle_timeout_resets_both_ways),
		T(test_idle_timeout_rearmed_by_traffic),
		T(test_idle_timeout_off_by_default),
		T(test_synack_retransmit_gives_up),
		T(test_rtt_sample_sets_rto),
		T(test_rto_retransmits_first_segment),
		T(test_rto_backoff_doubles),
		T(test_rto_capped_at_60s),
		T(test_rto_gives_up_with_rst),
		T(test_karn_no_rtt_sample_from_retransmit),
		T(test_rto_timer_stops_when_all_acked),
		T(test_fin_retransmitted),
		T(test_rto_go_back_n_resends_data_then_fin),
		T(test_fast_retransmit_after_three_dupacks),
		T(test_newreno_partial_ack_retransmits_next_hole),
		T(test_newreno_fast_retransmit_when_ack_equals_recover_plus_one),
		T(test_slow_start_grows_cwnd),
		T(test_rto_collapses_cwnd),
		T(test_zero_window_probe_sent),
		T(test_persist_never_gives_up),
		cmocka_unit_test(test_timer_heap_many_flows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
