/* test_tcp_rfc5961.c - blind-attack defences (RFC 5961): RST, SYN and ACK checks, challenge
 * ACKs and their rate limit; the sequence acceptability table (RFC 9293 3.10.7.4); PAWS. */
#include "stack_internal.h"
#include "tcp_fixture.h"

static const struct stack_counters *cnt(struct fx *fx)
{
	return stack_counters(fx->s);
}

static void test_rst_exact_seq_resets(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 0);
}

static void test_rst_in_window_not_exact_challenge_ack(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_RST, fx->cseq + 100, 0, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 1);
	assert_int_equal(cnt(fx)->drop_tcp_challenged, 1);
	assert_int_equal(fx->m.reset_calls, 0);
}

static void test_rst_out_of_window_dropped_silently(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx_seg(fx, TCP_RST, fx->cseq + 0x40000000u, 0, NULL, 0);
	fx_seg(fx, TCP_RST, fx->cseq - 1, 0, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(cnt(fx)->drop_tcp_out_of_window, 2);
}

static void test_syn_in_established_challenge_ack(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p;

	fx_to_established(fx);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = fx->cseq + 5; /* in window: RFC 793 would have reset; RFC 5961 4.2 challenges */
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 1);
}

static void test_syn_in_close_wait_challenge_ack(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;

	fx_to_close_wait(fx);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = 1;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_CLOSE_WAIT);
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 1);
}

static void test_challenge_acks_rate_limited(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	for (int i = 0; i < 300; i++)
		fx_seg(fx, TCP_RST, fx->cseq + 100, 0, NULL, 0);
	assert_int_equal(fx_nout(fx), 100); /* the burst */
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 100);
	assert_int_equal(cnt(fx)->drop_tcp_rate_limited, 200);
	assert_int_equal(cnt(fx)->drop_tcp_challenged, 100);
	fx_clear(fx);
	fx->now += 50000; /* 1000/s: 50 more tokens */
	for (int i = 0; i < 100; i++)
		fx_seg(fx, TCP_RST, fx->cseq + 100, 0, NULL, 0);
	assert_int_equal(fx_nout(fx), 50);
}

static void test_ack_of_unsent_data_answered(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint8_t d[10] = { 0 };

	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->iss + 1000, d, sizeof(d));
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(p.ack, fx->cseq); /* the data was not taken */
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(cnt(fx)->drop_tcp_bad_ack, 1);
}

/* RFC 5961 5.2: SEG.ACK < SND.UNA - MAX.SND.WND: "MUST be discarded and an ACK sent back"
 * (a challenge ACK, rate limited per section 7) */
static void test_ack_too_old_dropped_and_challenged(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };
	struct parsed p;

	fx->syn.has_wscale = false;
	fx->win = 1000;
	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->iss - 5000, d, sizeof(d));
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(cnt(fx)->drop_tcp_bad_ack, 1);
	assert_int_equal(cnt(fx)->tcp_challenge_acks, 1);
}

/* RFC 5961 5.2 / 7: the ACKs answering unacceptable ACK fields are challenge ACKs, so they
 * share the challenge ACK limit (a container cannot make us send one per frame forever) */
static void test_unacceptable_ack_answers_rate_limited(void **state)
{
	struct fx *fx = FX;
	size_t n;

	fx->syn.has_wscale = false;
	fx->win = 1000;
	fx_to_established(fx);
	for (int i = 0; i < 300; i++) {
		fx_seg(fx, TCP_ACK, fx->cseq, fx->iss + 100000, NULL, 0);
		fx_seg(fx, TCP_ACK, fx->cseq, fx->iss - 5000, NULL, 0);
	}
	n = fx_nout(fx);
	assert_true(n >= 50);
	assert_true(n <= 150);
	assert_int_equal(cnt(fx)->drop_tcp_bad_ack, 600);
}

static void test_ack_slightly_old_accepted(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };

	fx->syn.has_wscale = false;
	fx->win = 1000;
	fx_to_established(fx);
	/* SND.UNA - MAX.SND.WND <= SEG.ACK: still acceptable, the data goes up */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->iss + 1 - 500, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 10);
}

static void test_segment_without_ack_dropped(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };

	fx_to_established(fx);
	fx_seg(fx, TCP_PSH, fx->cseq, 0, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(cnt(fx)->drop_tcp_bad_state, 1);
}

static void test_unacceptable_segment_acked(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	/* entirely before RCV.NXT: an old duplicate */
	fx_seg(fx, TCP_ACK, fx->cseq - 100, fx->rnxt, d, sizeof(d));
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(cnt(fx)->drop_tcp_out_of_window, 1);
	assert_int_equal(fx->m.sink_len, 0);
}

static void test_segment_beyond_window_unacceptable(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };

	fx->m.sink_room = 1000;
	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 5000, fx->rnxt, d, sizeof(d));
	assert_int_equal(cnt(fx)->drop_tcp_out_of_window, 1);
	assert_int_equal(fx_nout(fx), 1);
}

static void test_zero_window_accepts_only_exact_empty(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000] = { 0 };

	fx->m.sink_room = 1000;
	fx_to_established(fx);
	fx_data(fx, d, sizeof(d)); /* window now 0 */
	fx_tick(fx, 40000);
	fx_clear(fx);
	/* empty segment at RCV.NXT with a fresh window: acceptable, no reply */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, NULL, 0);
	assert_int_equal(fx_nout(fx), 0);
	/* empty segment elsewhere: unacceptable, ACKed */
	fx_seg(fx, TCP_ACK, fx->cseq + 1, fx->rnxt, NULL, 0);
	assert_int_equal(fx_nout(fx), 1);
}

static void test_paws_old_timestamp_dropped(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { 0 };
	uint8_t d[10] = { 0 };
	struct parsed p;

	fx->ts = true;
	fx->syn.has_ts = true;
	fx->syn.tsval = 1000;
	fx->tsval = 2000;
	fx_to_established(fx);
	t.flags = TCP_ACK;
	t.seq = fx->cseq;
	t.ack = fx->rnxt;
	t.has_ts = true;
	t.tsval = 10; /* older than TS.Recent */
	fx_send(fx, &t, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 0);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(cnt(fx)->drop_tcp_out_of_window, 1);
}

static void test_no_flow_segment_answered_by_rst(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_seg(fx, TCP_ACK, 100, 5555, NULL, 0);
	fx_one(fx, &p);
	/* RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST> */
	assert_int_equal(p.flags, TCP_RST);
	assert_int_equal(p.seq, 5555);
	assert_int_equal(cnt(fx)->drop_tcp_no_flow, 1);
	assert_null(fx_lookup(fx));
}

static void test_no_flow_segment_without_ack_rst_ack(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };
	struct parsed p;

	fx_seg(fx, TCP_FIN, 100, 0, d, sizeof(d));
	fx_one(fx, &p);
	/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	assert_int_equal(p.flags, TCP_RST | TCP_ACK);
	assert_int_equal(p.seq, 0);
	assert_int_equal(p.ack, 100 + 10 + 1);
}

static void test_no_flow_rst_not_answered(void **state)
{
	struct fx *fx = FX;

	fx_seg(fx, TCP_RST, 100, 0, NULL, 0);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(cnt(fx)->drop_tcp_no_flow, 1);
}

static void test_no_flow_rsts_rate_limited(void **state)
{
	struct fx *fx = FX;

	for (int i = 0; i < 150; i++)
		fx_seg(fx, TCP_ACK, 100, 5555, NULL, 0);
	assert_int_equal(fx_nout(fx), 100);
	assert_int_equal(cnt(fx)->drop_tcp_no_flow, 100);
	assert_int_equal(cnt(fx)->drop_tcp_rate_limited, 50);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rst_exact_seq_resets),
		T(test_rst_in_window_not_exact_challenge_ack),
		T(test_rst_out_of_window_dropped_silently),
		T(test_syn_in_established_challenge_ack),
		T(test_syn_in_close_wait_challenge_ack),
		T(test_challenge_acks_rate_limited),
		T(test_ack_of_unsent_data_answered),
		T(test_ack_too_old_dropped_and_challenged),
		T(test_unacceptable_ack_answers_rate_limited),
		T(test_ack_slightly_old_accepted),
		T(test_segment_without_ack_dropped),
		T(test_unacceptable_segment_acked),
		T(test_segment_beyond_window_unacceptable),
		T(test_zero_window_accepts_only_exact_empty),
		T(test_paws_old_timestamp_dropped),
		T(test_no_flow_segment_answered_by_rst),
		T(test_no_flow_segment_without_ack_rst_ack),
		T(test_no_flow_rst_not_answered),
		T(test_no_flow_rsts_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
