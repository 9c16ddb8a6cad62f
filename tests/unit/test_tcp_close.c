/* test_tcp_close.c - closing: four-way close from either side, half-close both ways,
 * simultaneous close through CLOSING, TIME_WAIT and its 2MSL, RFC 6191 reuse, RST per state,
 * upstream resets and aborts. */
#include <string.h>

#include "tcp_fixture.h"

static void test_established_fin_to_close_wait(void **state)
{
	struct fx *fx = FX;

	fx_to_close_wait(fx); /* asserts the ACK, the state and ops.tcp_fin */
	assert_int_equal(fx->f->nhist, 3);
	assert_int_equal(fx->f->hist[2].state, TCP_CLOSE_WAIT);
}

static void test_close_wait_upstream_eof_to_last_ack(void **state)
{
	fx_to_last_ack(FX);
}

static void test_last_ack_ack_to_closed(void **state)
{
	struct fx *fx = FX;

	fx_to_last_ack(fx);
	fx_ack(fx, fx->rnxt);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_FIN);
	assert_int_equal(fx->m.reset_calls, 0);
	assert_int_equal(stack_counters(fx->s)->flows_closed_fin, 1);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_LAST_ACK), 0);
}

static void test_last_ack_old_ack_keeps_state(void **state)
{
	struct fx *fx = FX;

	fx_to_last_ack(fx);
	fx_ack(fx, fx->rnxt - 1); /* acknowledges up to, not including, our FIN */
	assert_int_equal(fx_state(fx), TCP_LAST_ACK);
}

static void test_established_upstream_eof_to_fin_wait_1(void **state)
{
	fx_to_fin_wait_1(FX);
}

static void test_fin_wait_1_ack_to_fin_wait_2(void **state)
{
	fx_to_fin_wait_2(FX);
}

static void test_fin_wait_1_fin_to_closing(void **state)
{
	fx_to_closing(FX);
}

static void test_fin_wait_1_fin_ack_to_time_wait(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_fin_wait_1(fx);
	/* FIN that also acknowledges our FIN: straight to TIME_WAIT (3.10.7.4) */
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq, fx->rnxt, NULL, 0);
	fx->cseq++;
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT);
	assert_int_equal(fx->f->hist[fx->f->nhist - 2].state, TCP_FIN_WAIT_2);
}

static void test_closing_ack_to_time_wait(void **state)
{
	struct fx *fx = FX;

	fx_to_closing(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT);
}

static void test_fin_wait_2_fin_to_time_wait(void **state)
{
	fx_to_time_wait(FX);
}

static void test_time_wait_expires_after_2msl(void **state)
{
	struct fx *fx = FX;

	fx_to_time_wait(fx);
	fx_tick(fx, (uint64_t)fx->cfg.time_wait_ms * 1000 - 1);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT);
	fx_tick(fx, 1);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_FIN);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(stack_next_deadline(fx->s), UINT64_MAX);
}

static void test_time_wait_deadline_reported(void **state)
{
	struct fx *fx = FX;

	fx_to_time_wait(fx);
	assert_int_equal(stack_next_deadline(fx->s), fx->now + (uint64_t)fx->cfg.time_wait_ms * 1000);
}

static void test_time_wait_fin_retransmit_acked_and_restarts_2msl(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_time_wait(fx);
	fx_tick(fx, 30000000);
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq - 1, fx->rnxt, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
	fx_tick(fx, 59000000);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT); /* 89 s after entering: restarted */
	fx_tick(fx, 1000000);
	assert_null(fx_lookup(fx));
}

static void test_time_wait_new_syn_higher_isn_accepted(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;

	fx_to_time_wait(fx);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = fx->cseq + 100000;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_RCVD);
	assert_int_equal(fx->m.open_calls, 2);
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_FIN);
}

static void test_time_wait_new_syn_lower_isn_challenged(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p;

	fx_to_time_wait(fx);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = fx->cseq - 100000;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(fx->m.open_calls, 1);
}

static void test_time_wait_new_syn_newer_timestamp_accepted(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;

	fx->ts = true;
	fx->syn.has_ts = true;
	fx->syn.tsval = 100;
	fx_to_time_wait(fx);
	/* lower ISN, but a newer timestamp: RFC 6191 lets the timestamps decide */
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = fx->cseq - 100000;
	t.tsval = fx->tsval + 10;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_RCVD);
}

static void test_time_wait_new_syn_older_timestamp_rejected(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;

	fx->ts = true;
	fx->syn.has_ts = true;
	fx->syn.tsval = 100;
	fx_to_time_wait(fx);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = fx->cseq + 100000;
	t.tsval = 50;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_TIME_WAIT);
}

static void test_half_close_upstream_data_flows_after_container_fin(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_close_wait(fx);
	fx_upstream(fx, NULL, 3000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 3);
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 1460);
	fx_out(fx, 2, &p);
	assert_int_equal(p.payload_len, 80);
	fx_absorb(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx->m.up_consumed, 3000);
	assert_int_equal(fx_state(fx), TCP_CLOSE_WAIT);
}

static void test_half_close_container_data_flows_after_our_fin(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000];

	fx_to_fin_wait_2(fx);
	memset(d, 0xab, sizeof(d));
	for (int i = 0; i < 5; i++)
		fx_data(fx, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 5000);
	assert_int_equal(fx_state(fx), TCP_FIN_WAIT_2);
	/* no timeout ends FIN_WAIT_2 while the container keeps it open */
	fx_tick(fx, 3600000000ull);
	assert_int_equal(fx_state(fx), TCP_FIN_WAIT_2);
}

static void test_fin_sent_after_all_upstream_data(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 100);
	tcp_upstream_eof(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 2);
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 100);
	assert_false(p.flags & TCP_FIN);
	fx_out(fx, 1, &p);
	assert_int_equal(p.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(p.seq, fx->iss + 1 + 100);
	assert_int_equal(fx_state(fx), TCP_FIN_WAIT_1);
}

static void test_fin_waits_for_window(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->win = 10; /* scaled by 7: 1280 bytes */
	fx_to_established(fx);
	fx_upstream(fx, NULL, 2000);
	tcp_upstream_eof(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.payload_len, 1280);
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx_nout(fx), 2);
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 720);
	fx_out(fx, 1, &p);
	assert_true(p.flags & TCP_FIN);
}

static void test_container_fin_waits_for_upstream_room(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx->m.sink_room = 40;
	fx_seg(fx, TCP_FIN | TCP_ACK | TCP_PSH, fx->cseq, fx->rnxt, d, sizeof(d));
	/* only 40 bytes taken: the FIN behind the rest is not acknowledged */
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq + 40);
	assert_int_equal(fx->m.fin_calls, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	fx_clear(fx);
	fx->m.sink_room = 1000;
	fx_seg(fx, TCP_FIN | TCP_ACK | TCP_PSH, fx->cseq + 40, fx->rnxt, d + 40, 60);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq + 101);
	assert_int_equal(fx->m.fin_calls, 1);
	assert_int_equal(fx_state(fx), TCP_CLOSE_WAIT);
}

static void test_established_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.reset_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_CONTAINER);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_fin_wait_1_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_fin_wait_1(fx);
	fx_seg(fx, TCP_RST | TCP_ACK, fx->cseq, fx->rnxt, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_CONTAINER);
}

static void test_fin_wait_2_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_fin_wait_2(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
}

static void test_close_wait_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_close_wait(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.reset_calls, 1);
}

static void test_closing_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_closing(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
}

static void test_last_ack_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_last_ack(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
}

static void test_time_wait_rst_closes(void **state)
{
	struct fx *fx = FX;

	fx_to_time_wait(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_FIN);
	assert_int_equal(fx->m.reset_calls, 0);
}

static void test_upstream_reset_sends_rst_and_releases(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	tcp_upstream_reset(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_UPSTREAM);
	assert_int_equal(fx->m.reset_calls, 0);
}

static void test_abort_sends_rst_with_given_end(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	tcp_abort(fx->s, fx->f, FLOW_END_SHUTDOWN, fx->now);
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(fx->m.closed_end, FLOW_END_SHUTDOWN);
}

static void test_abort_in_time_wait_sends_nothing(void **state)
{
	struct fx *fx = FX;

	fx_to_time_wait(fx);
	tcp_abort(fx->s, fx->f, FLOW_END_SHUTDOWN, fx->now);
	assert_int_equal(fx_nout(fx), 0);
	assert_null(fx_lookup(fx));
}

static void test_full_lifecycle_history(void **state)
{
	struct fx *fx = FX;
	static const uint8_t want[] = { TCP_SYN_RCVD,	TCP_ESTABLISHED, TCP_FIN_WAIT_1,
					TCP_FIN_WAIT_2, TCP_TIME_WAIT,	 TCP_CLOSED };
	struct flow *f;

	fx_to_time_wait(fx);
	f = fx->f;
	fx_tick(fx, (uint64_t)fx->cfg.time_wait_ms * 1000);
	assert_int_equal(f->nhist, sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		assert_int_equal(f->hist[i].state, want[i]);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_established_fin_to_close_wait),
		T(test_close_wait_upstream_eof_to_last_ack),
		T(test_last_ack_ack_to_closed),
		T(test_last_ack_old_ack_keeps_state),
		T(test_established_upstream_eof_to_fin_wait_1),
		T(test_fin_wait_1_ack_to_fin_wait_2),
		T(test_fin_wait_1_fin_to_closing),
		T(test_fin_wait_1_fin_ack_to_time_wait),
		T(test_closing_ack_to_time_wait),
		T(test_fin_wait_2_fin_to_time_wait),
		T(test_time_wait_expires_after_2msl),
		T(test_time_wait_deadline_reported),
		T(test_time_wait_fin_retransmit_acked_and_restarts_2msl),
		T(test_time_wait_new_syn_higher_isn_accepted),
		T(test_time_wait_new_syn_lower_isn_challenged),
		T(test_time_wait_new_syn_newer_timestamp_accepted),
		T(test_time_wait_new_syn_older_timestamp_rejected),
		T(test_half_close_upstream_data_flows_after_container_fin),
		T(test_half_close_container_data_flows_after_our_fin),
		T(test_fin_sent_after_all_upstream_data),
		T(test_fin_waits_for_window),
		T(test_container_fin_waits_for_upstream_room),
		T(test_established_rst_closes),
		T(test_fin_wait_1_rst_closes),
		T(test_fin_wait_2_rst_closes),
		T(test_close_wait_rst_closes),
		T(test_closing_rst_closes),
		T(test_last_ack_rst_closes),
		T(test_time_wait_rst_closes),
		T(test_upstream_reset_sends_rst_and_releases),
		T(test_abort_sends_rst_with_given_end),
		T(test_abort_in_time_wait_sends_nothing),
		T(test_full_lifecycle_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
