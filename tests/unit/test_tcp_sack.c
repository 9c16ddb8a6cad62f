/* test_tcp_sack.c - the sender's side of SACK: the scoreboard fed by the container's blocks
 * (RFC 2018), RFC 6675 loss recovery (duplicate ACKs by its definition, IsLost, NextSeg,
 * pipe, the end of recovery), Early Retransmit (RFC 5827) and Limited Transmit (RFC 3042),
 * and hostile blocks. */
#include "stack_internal.h"
#include "tcp_fixture.h"
#include "tcp_internal.h"

#define MSS 1460

static const struct stack_counters *cnt(struct fx *fx)
{
	return stack_counters(fx->s);
}

static struct tcp_conn *tcb(struct fx *fx)
{
	return fx->f->tcp;
}

/* The container acknowledges @ack, SACKing @n blocks given as offsets (in segments) from
 * @base, each [l, r); its window field varies as a Linux receiver's does. */
static void sack(struct fx *fx, uint32_t ack, uint32_t base, unsigned int n, const int (*b)[2])
{
	struct fr_tcp t = { .flags = TCP_ACK, .seq = fx->cseq, .ack = ack };

	t.win = (uint16_t)(fx->win - cnt(fx)->tcp_fast_retransmits - fx->m.cap.n);
	t.nsack = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		t.sack[i][0] = base + (uint32_t)b[i][0] * MSS;
		t.sack[i][1] = base + (uint32_t)b[i][1] * MSS;
	}
	fx_send(fx, &t, NULL, 0);
}

/* Established with @segs full segments sent and unacknowledged (upstream holds @more more) */
static uint32_t flight(struct fx *fx, unsigned int segs, unsigned int more)
{
	fx_to_established(fx);
	fx_upstream(fx, NULL, (size_t)(segs + more) * MSS);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	assert_int_equal(tcb(fx)->snd_max - tcb(fx)->snd_una, segs * MSS);
	return fx->iss + 1;
}

/* Was a segment with payload starting at @seq sent since the last fx_clear()? */
static bool sent_at(struct fx *fx, uint32_t seq)
{
	struct parsed p;

	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		if (p.seq == seq && p.payload_len)
			return true;
	}
	return false;
}

/* RFC 6675 2: an ACK that SACKs new data is a duplicate ACK "even if it ... changes the
 * advertised window"; three of them start recovery with the first segment resent */
static void test_sack_dupacks_count_despite_window_changes(void **state)
{
	static const int b1[][2] = { { 1, 2 } }, b2[][2] = { { 1, 3 } }, b3[][2] = { { 1, 4 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 0);

	fx->win = 2000; /* unscaled field 2000 << 7: far more than the flight */
	sack(fx, una, una, 1, b1);
	sack(fx, una, una, 1, b2);
	fx_clear(fx);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 0);
	sack(fx, una, una, 1, b3);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 1);
	assert_true(tcb(fx)->in_recovery);
	assert_true(sent_at(fx, una));
}

/* RFC 6675 5 (2): IsLost(HighACK + 1), more than (DupThresh - 1) * SMSS SACKed above it,
 * starts recovery on the first such ACK */
static void test_sack_is_lost_enters_recovery_on_one_ack(void **state)
{
	static const int b[][2] = { { 1, 4 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 0);

	sack(fx, una, una, 1, b);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 1);
	assert_true(sent_at(fx, una));
	/* (4.2): ssthresh = cwnd = FlightSize / 2 */
	assert_int_equal(tcb(fx)->cwnd, 5 * MSS);
	assert_int_equal(tcb(fx)->ssthresh, 5 * MSS);
	assert_int_equal(tcb(fx)->recover, una + 10 * MSS);
}

/* RFC 6675 NextSeg (1): holes deemed lost are retransmitted, SACKed data never */
static void test_sack_recovery_resends_holes_not_sacked_data(void **state)
{
	/* segments 0 and 4 lost; 1-3 and 5-9 arrived */
	static const int b[][2] = { { 5, 10 }, { 1, 4 } };
	struct fx *fx = FX;
	struct parsed p;
	uint32_t una = flight(fx, 10, 0);

	sack(fx, una, una, 2, b);
	assert_true(tcb(fx)->in_recovery);
	assert_true(sent_at(fx, una));
	assert_true(sent_at(fx, una + 4 * MSS));
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		if (!p.payload_len)
			continue;
		assert_true(p.seq == una || p.seq == una + 4 * MSS);
	}
	assert_int_equal(tcb(fx)->high_rxt, una + 5 * MSS);
}

/* RFC 6675 5 (A): the cumulative ACK reaching RecoveryPoint ends recovery, cwnd = ssthresh */
static void test_sack_recovery_ends_at_recovery_point(void **state)
{
	static const int b[][2] = { { 1, 10 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 0);

	sack(fx, una, una, 1, b);
	assert_true(tcb(fx)->in_recovery);
	fx_ack(fx, una + 10 * MSS);
	assert_false(tcb(fx)->in_recovery);
	assert_int_equal(tcb(fx)->cwnd, tcb(fx)->ssthresh);
	assert_int_equal(tcb(fx)->nsacked, 0);
}

/* RFC 6675 5 (C): during recovery no more than cwnd - pipe is sent; new data (NextSeg
 * rule 2) goes out once the holes are resent */
static void test_sack_recovery_sends_new_data_within_pipe(void **state)
{
	static const int b[][2] = { { 1, 10 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 10);

	sack(fx, una, una, 1, b);
	/* pipe = the resent segment only; cwnd 5 segments: four new ones fit */
	assert_true(sent_at(fx, una));
	for (unsigned int i = 0; i < 4; i++)
		assert_true(sent_at(fx, una + (10 + i) * MSS));
	assert_false(sent_at(fx, una + 14 * MSS));
	assert_true(tcp_sack_pipe(tcb(fx)) <= tcb(fx)->cwnd);
}

/* A partial ACK in SACK recovery whose next byte was never resent: resent at once (RFC 6582
 * 3.2 semantics; IsLost() cannot see consecutive losses with nothing SACKed above) */
static void test_sack_partial_ack_resends_next_segment(void **state)
{
	static const int b[][2] = { { 3, 10 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 0);

	sack(fx, una, una, 1, b); /* 0, 1, 2 lost; all three deemed lost and resent */
	assert_true(sent_at(fx, una));
	fx_clear(fx);
	tcb(fx)->high_rxt = una + MSS; /* as if only the first could be resent */
	sack(fx, una + MSS, una, 1, b);
	assert_true(sent_at(fx, una + MSS));
}

/* RFC 2018 / RFC 2883: blocks outside (SND.UNA, SND.MAX], empty or inverted are ignored:
 * a container cannot plant data we never sent in the scoreboard or start a recovery */
static void test_sack_hostile_blocks_ignored(void **state)
{
	struct fx *fx = FX;
	uint32_t una = flight(fx, 4, 0);
	struct fr_tcp t = { .flags = TCP_ACK, .ack = una };

	t.seq = fx->cseq;
	t.nsack = 4;
	t.sack[0][0] = una + 5 * MSS; /* beyond SND.MAX */
	t.sack[0][1] = una + 6 * MSS;
	t.sack[1][0] = una - 100; /* D-SACK, below SND.UNA */
	t.sack[1][1] = una;
	t.sack[2][0] = una + 3 * MSS; /* inverted */
	t.sack[2][1] = una + MSS;
	t.sack[3][0] = una + 2 * MSS; /* empty */
	t.sack[3][1] = una + 2 * MSS;
	for (int i = 0; i < 10; i++) {
		t.win = (uint16_t)(1000 + i); /* no RFC 5681 duplicate ACKs either */
		fx_send(fx, &t, NULL, 0);
	}
	assert_int_equal(tcb(fx)->nsacked, 0);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 0);
}

/* The scoreboard holds at most TCP_SACKED_MAX ranges whatever the container reports */
static void test_sack_scoreboard_bounded(void **state)
{
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 0);
	struct fr_tcp t = { .flags = TCP_ACK, .ack = una };

	fx->f->tcp->in_recovery = true; /* keep recovery from ending anything */
	fx->f->tcp->recover = una + 10 * MSS;
	for (uint32_t i = 0; i < 100; i++) {
		t.seq = fx->cseq;
		t.nsack = 1;
		t.sack[0][0] = una + 2 * i * 100 + 1;
		t.sack[0][1] = una + 2 * i * 100 + 100;
		fx_send(fx, &t, NULL, 0);
	}
	assert_int_equal(tcb(fx)->nsacked, TCP_SACKED_MAX);
	for (unsigned int i = 1; i < tcb(fx)->nsacked; i++)
		assert_true(seq_lt(tcb(fx)->sacked[i - 1][1], tcb(fx)->sacked[i][0]));
}

/* RFC 2018 5.1: "After a retransmit timeout the data sender SHOULD turn off all of the
 * SACKed bits" (the container may have reneged) */
static void test_rto_clears_scoreboard(void **state)
{
	static const int b[][2] = { { 2, 3 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 4, 0);

	sack(fx, una, una, 1, b);
	assert_int_equal(tcb(fx)->nsacked, 1);
	fx_tick(fx, 1000000);
	assert_int_equal(cnt(fx)->tcp_rto_expired, 1);
	assert_int_equal(tcb(fx)->nsacked, 0);
	assert_false(tcb(fx)->in_recovery);
}

/* An idle connection holds no scoreboard: the first SACK block allocates it, and the
 * cumulative ACK past every SACKed range releases it (FLOW_IDLE_BYTES_MAX, flow.h) */
static void test_scoreboard_held_only_while_sacked(void **state)
{
	static const int b[][2] = { { 2, 3 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 4, 0);

	assert_null(tcb(fx)->sacked);
	sack(fx, una, una, 1, b);
	assert_non_null(tcb(fx)->sacked);
	sack(fx, una + 4 * MSS, una, 0, b);
	assert_int_equal(tcb(fx)->snd_una, una + 4 * MSS);
	assert_int_equal(tcb(fx)->nsacked, 0);
	assert_null(tcb(fx)->sacked);
}

/* What the stack keeps per flow (its row and its TCB) stays within its share of the 1 KiB an
 * idle flow may cost; a member added to either must find its bytes elsewhere */
static void test_idle_flow_fits_stack_budget(void **state)
{
	(void)state;
	assert_true(sizeof(struct flow) + sizeof(struct tcp_conn) <= FLOW_STACK_BYTES_MAX);
	assert_true(FLOW_STACK_BYTES_MAX < FLOW_IDLE_BYTES_MAX);
}

/* RFC 5827 3.2 (byte-based Early Retransmit): three segments in flight, nothing more to
 * send: two duplicate ACKs suffice */
static void test_early_retransmit_with_small_flight(void **state)
{
	static const int b1[][2] = { { 1, 2 } }, b2[][2] = { { 1, 3 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 3, 0);

	assert_int_equal(tcp_unsent(tcb(fx)), 0); /* nothing more to send */
	sack(fx, una, una, 1, b1);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 0);
	sack(fx, una, una, 1, b2);
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 1);
	assert_true(sent_at(fx, una));
}

/* RFC 3042 Limited Transmit: the first two duplicate ACKs each let one new segment out
 * beyond cwnd */
static void test_limited_transmit_on_first_dupacks(void **state)
{
	static const int b1[][2] = { { 1, 2 } }, b2[][2] = { { 1, 3 } };
	struct fx *fx = FX;
	uint32_t una = flight(fx, 10, 10); /* cwnd-limited: IW 10 */

	sack(fx, una, una, 1, b1);
	assert_true(sent_at(fx, una + 10 * MSS));
	assert_false(sent_at(fx, una + 11 * MSS));
	fx_clear(fx);
	sack(fx, una, una, 1, b2);
	assert_true(sent_at(fx, una + 11 * MSS));
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 0);
}

/* RFC 5681 2 still governs a connection without SACK: an ACK with another window is no
 * duplicate ACK */
static void test_no_sack_window_change_is_not_dupack(void **state)
{
	struct fx *fx = FX;
	uint32_t una;

	fx->syn.sack_perm = false;
	una = flight(fx, 10, 0);
	for (int i = 0; i < 5; i++) {
		fx->win = (uint16_t)(1000 + i);
		fx_ack(fx, una);
	}
	assert_int_equal(cnt(fx)->tcp_fast_retransmits, 0);
	assert_int_equal(tcb(fx)->dupacks, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sack_dupacks_count_despite_window_changes),
		T(test_sack_is_lost_enters_recovery_on_one_ack),
		T(test_sack_recovery_resends_holes_not_sacked_data),
		T(test_sack_recovery_ends_at_recovery_point),
		T(test_sack_recovery_sends_new_data_within_pipe),
		T(test_sack_partial_ack_resends_next_segment),
		T(test_sack_hostile_blocks_ignored),
		T(test_sack_scoreboard_bounded),
		T(test_rto_clears_scoreboard),
		T(test_scoreboard_held_only_while_sacked),
		cmocka_unit_test(test_idle_flow_fits_stack_budget),
		T(test_early_retransmit_with_small_flight),
		T(test_limited_transmit_on_first_dupacks),
		T(test_no_sack_window_change_is_not_dupack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
