/* test_tcp_data.c - data both ways through the callbacks (the kernel sockets are the only
 * buffers): delivery and its window, peeking and consuming, trimming, the out-of-order queue
 * and SACK blocks, delayed ACKs, zero windows, sequence wrap-around. */
#include <errno.h>
#include <string.h>

#include "seq.h"
#include "stack_internal.h"
#include "tcp_fixture.h"

static void fill(uint8_t *d, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(seed + i * 13);
}

static void test_container_data_delivered_and_acked(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000];
	struct parsed p;

	fx_to_established(fx);
	fill(d, sizeof(d), 1);
	fx_data(fx, d, sizeof(d));
	fx_data(fx, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 2000);
	assert_memory_equal(fx->m.sink, d, 1000);
	assert_memory_equal(fx->m.sink + 1000, d, 1000);
	/* the second segment triggers the ACK (every second segment) */
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(fx->f->bytes_in, 2000);
}

static void test_delayed_ack_fires_after_40ms(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx_data(fx, d, sizeof(d));
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 39999);
	assert_int_equal(fx_nout(fx), 0);
	fx_tick(fx, 1);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
}

/* A short delivery for want of room is drop_tcp_no_room, not drop_tcp_upstream_gone: only what
 * upstream took is acknowledged, the rest waits for the window, the connection goes on */
static void test_ack_only_what_upstream_took(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000];
	struct parsed p;

	fx_to_established(fx);
	fill(d, sizeof(d), 3);
	fx->m.sink_room = 300;
	fx_data(fx, d, sizeof(d));
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq - 700);
	assert_int_equal(fx->m.sink_len, 300);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_no_room, 1);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_upstream_gone, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
}

/* Upstream was reset (iperf3's server resets at the end of a test while the container still
 * sends): tcp_deliver fails. That is not "no room": it is drop_tcp_upstream_gone, and as for
 * tcp_upstream_reset() the container's side is aborted at once (RFC 9293 3.10.5: a RST at
 * SND.NXT), the refused bytes not acknowledged, nothing asked of upstream (it is gone) */
static void test_deliver_to_reset_upstream_counts_gone_and_resets(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000] = { 0 };
	const struct stack_counters *c = stack_counters(fx->s);
	struct parsed p;

	fx_to_established(fx);
	fx->m.deliver_err = ECONNRESET;
	fx_data(fx, d, sizeof(d));
	assert_int_equal(c->drop_tcp_upstream_gone, 1);
	assert_int_equal(c->drop_tcp_no_room, 0);
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(p.seq, fx->iss + 1);
	assert_int_equal(p.ack, fx->cseq - sizeof(d));
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.closed_end, FLOW_END_RST_UPSTREAM);
	assert_int_equal(c->flows_closed_rst_upstream, 1);
	assert_int_equal(fx->m.reset_calls, 0);
	assert_int_equal(fx->m.sink_len, 0);
	/* bounded: what the container sends next meets no flow (RST), not the relay */
	fx_clear(fx);
	fx_data(fx, d, sizeof(d));
	assert_int_equal(fx->m.deliver_calls, 1);
	assert_int_equal(c->drop_tcp_upstream_gone, 1);
	assert_int_equal(c->drop_tcp_no_flow, 1);
}

/* The same in FIN_WAIT_2: upstream closed (our FIN went out), then reset when the container's
 * data reached it */
static void test_deliver_to_reset_upstream_after_its_fin_resets(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };
	struct parsed p;

	fx_to_fin_wait_2(fx);
	fx->m.deliver_err = EPIPE;
	fx_data(fx, d, sizeof(d));
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_int_equal(p.seq, fx->iss + 2); /* after our FIN */
	assert_null(fx_lookup(fx));
	assert_int_equal(stack_counters(fx->s)->drop_tcp_upstream_gone, 1);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_no_room, 0);
}

/* The gap fills, its bytes go upstream, and the queued segment behind it meets the reset: the
 * queued bytes are counted gone, the container reset, the queue freed with the flow */
static void test_ooo_drain_to_reset_upstream_counts_gone_and_resets(void **state)
{
	struct fx *fx = FX;
	uint8_t d[200] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 100, fx->rnxt, d + 100, 100);
	fx_clear(fx);
	fx->m.deliver_err = ECONNRESET;
	fx->m.deliver_ok = 1;
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 100);
	assert_int_equal(fx->m.sink_len, 100);
	fx_one(fx, &p);
	assert_true(p.flags & TCP_RST);
	assert_null(fx_lookup(fx));
	assert_int_equal(stack_counters(fx->s)->drop_tcp_upstream_gone, 1);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_no_room, 0);
}

static void test_window_follows_upstream_room(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->m.sink_room = 100000;
	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.win, 65535); /* SYN-ACK: unscaled, capped */
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	fx_upstream(fx, NULL, 10);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.win, 100000 >> 7);
}

static void test_zero_window_when_upstream_full(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000] = { 0 };
	struct parsed p;

	fx->m.sink_room = 1000;
	fx_to_established(fx);
	fx_data(fx, d, sizeof(d));
	fx_tick(fx, 40000);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(p.win, 0);
}

static void test_zero_window_probe_answered_with_ack(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000] = { 0 };
	struct parsed p;

	fx->m.sink_room = 1000;
	fx_to_established(fx);
	fx_data(fx, d, sizeof(d));
	fx_tick(fx, 40000);
	fx_clear(fx);
	/* the container probes with one byte past the zero window */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 1);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(p.win, 0);
	assert_int_equal(fx->m.sink_len, 1000);
}

static void test_window_update_on_upstream_writable(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000] = { 0 };
	struct parsed p;

	fx->m.sink_room = 1000;
	fx_to_established(fx);
	fx_data(fx, d, sizeof(d));
	fx_tick(fx, 40000);
	fx_clear(fx);
	fx->m.sink_room = 50000;
	tcp_upstream_writable(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.win, 50000 >> 7);
}

static void test_no_window_update_for_tiny_opening(void **state)
{
	struct fx *fx = FX;

	fx->m.sink_room = 100000;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 10); /* a segment that advertises the 100000 */
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_clear(fx);
	fx->m.sink_room = 100010;
	tcp_upstream_writable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_upstream_data_sent_in_mss_segments(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 5000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 4);
	for (size_t i = 0; i < 4; i++) {
		fx_out(fx, i, &p);
		assert_int_equal(p.seq, fx->iss + 1 + 1460 * i);
		assert_int_equal(p.payload_len, i < 3 ? 1460 : 5000 - 3 * 1460);
		for (size_t k = 0; k < p.payload_len; k++)
			assert_int_equal(p.payload[k], fx_pattern(1460 * i + k));
	}
	assert_int_equal(fx->f->bytes_out, 5000);
}

static void test_consume_on_ack(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 3000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	assert_int_equal(fx->m.up_consumed, 0);
	fx_ack(fx, fx->iss + 1 + 1000);
	assert_int_equal(fx->m.up_consumed, 1000);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx->m.up_consumed, 3000);
}

static void test_send_limited_by_container_window(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->syn.has_wscale = false;
	fx->win = 2000;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 10000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 2);
	fx_out(fx, 1, &p);
	assert_int_equal(p.payload_len, 540);
	fx_absorb(fx);
	/* the window slides with the ACK */
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx_nout(fx), 2);
}

static void test_peek_len_bounded_by_mss_and_mtu(void **state)
{
	struct fx *fx = FX;

	fx->syn.mss = 9000; /* larger than our MTU allows */
	fx_to_established(fx);
	fx_upstream(fx, NULL, 100000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_true(fx->m.peek_max <= 1460);
	assert_true(fx_nout(fx) > 0);
}

static void test_ooo_segment_queued_and_dup_ack_sent(void **state)
{
	struct fx *fx = FX;
	uint8_t d[3000];
	struct parsed p;

	fx_to_established(fx);
	fill(d, sizeof(d), 9);
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d + 1000, 1000);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	assert_int_equal(fx->m.sink_len, 0);
	fx_clear(fx);
	/* the gap fills: both go up in order, one ACK covers them */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 1000);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq + 2000);
	assert_int_equal(fx->m.sink_len, 2000);
	assert_memory_equal(fx->m.sink, d, 2000);
}

static void test_sack_blocks_in_ack(void **state)
{
	struct fx *fx = FX;
	uint8_t d[500] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d, 500);
	fx_clear(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 3000, fx->rnxt, d, 500);
	fx_one(fx, &p);
	assert_int_equal(p.nsack, 2);
	/* RFC 2018 4: the block with the latest segment first */
	assert_int_equal(p.sack[0][0], fx->cseq + 3000);
	assert_int_equal(p.sack[0][1], fx->cseq + 3500);
	assert_int_equal(p.sack[1][0], fx->cseq + 1000);
	assert_int_equal(p.sack[1][1], fx->cseq + 1500);
}

static void test_sack_adjacent_segments_one_block(void **state)
{
	struct fx *fx = FX;
	uint8_t d[500] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d, 500);
	fx_seg(fx, TCP_ACK, fx->cseq + 1500, fx->rnxt, d, 500);
	fx_last(fx, &p);
	assert_int_equal(p.nsack, 1);
	assert_int_equal(p.sack[0][0], fx->cseq + 1000);
	assert_int_equal(p.sack[0][1], fx->cseq + 2000);
}

static void test_no_sack_blocks_without_sack_permitted(void **state)
{
	struct fx *fx = FX;
	uint8_t d[500] = { 0 };
	struct parsed p;

	fx->syn.sack_perm = false;
	fx_to_established(fx);
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d, 500);
	fx_one(fx, &p);
	assert_int_equal(p.nsack, 0);
}

static void test_ooo_queue_bounded(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };
	struct tcp_view v;

	fx_to_established(fx);
	/* 40 disjoint segments, more than the queue holds */
	for (uint32_t i = 0; i < 40; i++)
		fx_seg(fx, TCP_ACK, fx->cseq + 1000 + 200 * i, fx->rnxt, d, 100);
	assert_true(tcp_get_view(fx->f, &v));
	assert_int_equal(v.ooo_bytes, 32 * 100);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_ooo_full, 8);
}

static void test_ooo_overlapping_segments_stored_once(void **state)
{
	struct fx *fx = FX;
	uint8_t d[3000];
	struct tcp_view v;

	fx_to_established(fx);
	fill(d, sizeof(d), 5);
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d + 1000, 500);
	fx_seg(fx, TCP_ACK, fx->cseq + 1200, fx->rnxt, d + 1200, 1000); /* overlaps the back */
	fx_seg(fx, TCP_ACK, fx->cseq + 800, fx->rnxt, d + 800, 400);    /* overlaps the front */
	fx_seg(fx, TCP_ACK, fx->cseq + 1100, fx->rnxt, d + 1100, 100);  /* held already */
	assert_true(tcp_get_view(fx->f, &v));
	assert_int_equal(v.ooo_bytes, 2200 - 800);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 800);
	assert_int_equal(fx->m.sink_len, 2200);
	assert_memory_equal(fx->m.sink, d, 2200);
	assert_true(tcp_get_view(fx->f, &v));
	assert_int_equal(v.ooo_bytes, 0);
}

static void test_ooo_fin_processed_when_gap_fills(void **state)
{
	struct fx *fx = FX;
	uint8_t d[200] = { 0 };

	fx_to_established(fx);
	fx_seg(fx, TCP_ACK | TCP_FIN, fx->cseq + 100, fx->rnxt, d + 100, 100);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(fx->m.fin_calls, 0);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 100);
	assert_int_equal(fx_state(fx), TCP_CLOSE_WAIT);
	assert_int_equal(fx->m.fin_calls, 1);
	assert_int_equal(fx->m.sink_len, 200);
}

/* RFC 9293 3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated";
 * an older ACK (still acceptable, RFC 5961 5.2) must not change it */
static void test_old_ack_does_not_update_window(void **state)
{
	struct fx *fx = FX;
	uint8_t d[10] = { 0 };
	struct fr_tcp t = { 0 };
	struct tcp_view v;

	fx->syn.has_wscale = false;
	fx->win = 1000;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 500);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_absorb(fx);
	fx_ack(fx, fx->rnxt); /* SND.UNA = ISS + 501, window 1000 */
	fx_data(fx, d, sizeof(d));
	t.flags = TCP_ACK | TCP_PSH;
	t.seq = fx->cseq; /* newer than SND.WL1 ... */
	t.ack = fx->iss + 1; /* ... but an ACK older than SND.UNA */
	t.win = 7;
	fx_send(fx, &t, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 20); /* the text is still processed */
	assert_true(tcp_get_view(fx->f, &v));
	assert_int_equal(v.snd_wnd, 1000);
}

/* RFC 2018 3: a SACK block reports received data [left, right); a FIN held out of order with
 * no data is no block (an empty block is invalid to the sender) */
static void test_ooo_bare_fin_not_reported_as_empty_sack_block(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq + 100, fx->rnxt, NULL, 0);
	fx_one(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	for (unsigned int i = 0; i < p.nsack; i++)
		assert_true(seq_gt(p.sack[i][1], p.sack[i][0]));
	assert_int_equal(fx->f->state, TCP_ESTABLISHED);
}

static void test_retransmitted_old_data_trimmed(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000];

	fx_to_established(fx);
	fill(d, sizeof(d), 7);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 600);
	/* a retransmission overlapping what was delivered: only the new part goes up */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 1000);
	assert_int_equal(fx->m.sink_len, 1000);
	assert_memory_equal(fx->m.sink, d, 1000);
}

static void test_data_beyond_window_trimmed(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1400] = { 0 };
	struct parsed p;

	fx->m.sink_room = 1000;
	fx_to_established(fx); /* advertised ~1000 (rounded to the scale) */
	fx->m.sink_room = 5000; /* upstream could take more, but the window said less */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, sizeof(d));
	assert_true(fx->m.sink_len <= 1024);
	assert_true(fx->m.sink_len >= 1000);
	fx_tick(fx, 40000);
	fx_last(fx, &p);
	assert_int_equal(p.ack, fx->cseq + fx->m.sink_len);
}

static void test_seq_wraparound_transfer(void **state)
{
	struct fx *fx = FX;
	uint8_t d[1000];

	/* the container's sequence numbers cross 2^32 */
	fx->cseq = 0xffffffffu - 2500;
	fx_to_established(fx);
	fill(d, sizeof(d), 11);
	for (int i = 0; i < 6; i++)
		fx_data(fx, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 6000);
	/* out-of-order across the wrap too */
	fx_seg(fx, TCP_ACK, fx->cseq + 1000, fx->rnxt, d, 1000);
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 1000);
	fx->cseq += 2000;
	assert_int_equal(fx->m.sink_len, 8000);
	fx_tick(fx, 40000);
	{
		struct parsed p;

		fx_last(fx, &p);
		assert_int_equal(p.ack, fx->cseq);
	}
}

static void test_upstream_sequence_wraparound(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint32_t iss;
	struct flow *f;

	/* find a moment whose ISN lies just below 2^32: ISN = M + F, M = now / 4 */
	fx_to_established(fx);
	iss = fx->iss;
	tcp_abort(fx->s, fx->f, FLOW_END_SHUTDOWN, fx->now);
	fx_clear(fx);
	fx->now += (uint64_t)(0xffffffffu - 3000 - iss) * 4;
	fx->cseq = FX_CISN;
	fx->rnxt = 0;
	fx->m.open_calls = 0;
	fx_to_established(fx);
	assert_int_equal(fx->iss, 0xffffffffu - 3000);
	f = fx->f;
	fx_upstream(fx, NULL, 8000);
	tcp_upstream_readable(fx->s, f, fx->now);
	fx_absorb(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx->m.up_consumed, 8000);
	fx_upstream(fx, NULL, 10);
	tcp_upstream_readable(fx->s, f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.seq, (uint32_t)(0xffffffffu - 3000 + 1 + 8000));
}

static void test_bytes_and_packets_counted(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };

	fx_to_established(fx);
	fx_data(fx, d, sizeof(d));
	fx_upstream(fx, NULL, 50);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx->f->bytes_in, 100);
	assert_int_equal(fx->f->bytes_out, 50);
	assert_int_equal(fx->f->pkts_in, 3);
	assert_int_equal(fx->f->pkts_out, 2);
}

static void test_data_piggybacks_ack(void **state)
{
	struct fx *fx = FX;
	uint8_t d[100] = { 0 };
	struct parsed p;

	fx_to_established(fx);
	fx_data(fx, d, sizeof(d)); /* delayed ACK pending */
	fx_upstream(fx, NULL, 10);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.payload_len, 10);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
	fx_tick(fx, 40000); /* nothing left to acknowledge */
	assert_int_equal(fx_nout(fx), 0);
}

/* RFC 9293 3.8.6 / 3.10.7.4 (issue 12, RFC gap 1): a sender that keeps filling whatever window
 * we offer, while upstream takes no more than the room it had (a stalled upstream): every
 * window we advertise must be backed by that room (never offer what upstream will not take:
 * the bytes would be dropped and retransmitted), the window closes to zero with every byte
 * taken (less than one unit of the scale short of the room at most), and the container's
 * zero-window probe is answered with the zero window, nothing it acknowledges lost. With a
 * window scale of 7, rounding the window field up so that the right edge does not move left
 * used to offer up to 127 bytes more than the room at each ACK, and those crept. */
static void test_window_backed_by_upstream_room(void **state)
{
	const uint32_t room = 10000 + 77; /* no multiple of 128: the rounding matters */
	struct fx *fx = FX;
	uint8_t d[1400];
	uint32_t edge, backed, start;
	struct parsed p;
	unsigned int acks = 0;

	fill(d, sizeof(d), 5);
	fx->m.sink_room = room;
	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	start = fx->cseq;
	backed = start + room; /* room shrinks by exactly what is delivered: a fixed edge */
	edge = p.ack + p.win;     /* a SYN-ACK's window is not scaled */
	assert_true(seq_leq(edge, backed));
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	fx_clear(fx);
	/* the container sends up to the right edge it was offered, in segments of up to 1400 */
	for (int round = 0; round < 100 && seq_lt(fx->cseq, edge); round++) {
		uint32_t n = edge - fx->cseq < sizeof(d) ? edge - fx->cseq : sizeof(d);

		fx_data(fx, d, n);
		fx_tick(fx, 40000); /* the delayed ACK, if one is owed */
		for (size_t i = 0; i < fx_nout(fx); i++) {
			fx_out(fx, i, &p);
			if (!(p.flags & TCP_ACK))
				continue;
			acks++;
			/* RFC 9293 3.8.6: never offer what upstream will not take */
			assert_true(seq_leq(p.ack + ((uint32_t)p.win << 7), backed));
			if (seq_gt(p.ack + ((uint32_t)p.win << 7), edge))
				edge = p.ack + ((uint32_t)p.win << 7);
		}
		fx_clear(fx);
	}
	assert_true(acks > 2);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_no_room, 0);
	assert_int_equal(fx->m.sink_len, fx->cseq - start); /* every byte offered was taken */
	assert_true(backed - fx->cseq < 128);	/* the window closed at the room's edge */
	/* a zero-window probe, one byte: answered with the zero window; what the ACK covers
	 * went upstream, nothing beyond it */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 1);
	fx_one(fx, &p);
	assert_int_equal(p.win, 0);
	assert_int_equal(fx->m.sink_len, p.ack - start);
	assert_true(seq_leq(p.ack, backed));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_container_data_delivered_and_acked),
		T(test_delayed_ack_fires_after_40ms),
		T(test_ack_only_what_upstream_took),
		T(test_deliver_to_reset_upstream_counts_gone_and_resets),
		T(test_deliver_to_reset_upstream_after_its_fin_resets),
		T(test_ooo_drain_to_reset_upstream_counts_gone_and_resets),
		T(test_window_follows_upstream_room),
		T(test_zero_window_when_upstream_full),
		T(test_zero_window_probe_answered_with_ack),
		T(test_window_update_on_upstream_writable),
		T(test_no_window_update_for_tiny_opening),
		T(test_upstream_data_sent_in_mss_segments),
		T(test_consume_on_ack),
		T(test_send_limited_by_container_window),
		T(test_peek_len_bounded_by_mss_and_mtu),
		T(test_ooo_segment_queued_and_dup_ack_sent),
		T(test_sack_blocks_in_ack),
		T(test_sack_adjacent_segments_one_block),
		T(test_no_sack_blocks_without_sack_permitted),
		T(test_ooo_queue_bounded),
		T(test_ooo_overlapping_segments_stored_once),
		T(test_ooo_fin_processed_when_gap_fills),
		T(test_old_ack_does_not_update_window),
		T(test_ooo_bare_fin_not_reported_as_empty_sack_block),
		T(test_retransmitted_old_data_trimmed),
		T(test_data_beyond_window_trimmed),
		T(test_seq_wraparound_transfer),
		T(test_upstream_sequence_wraparound),
		T(test_bytes_and_packets_counted),
		T(test_data_piggybacks_ack),
		T(test_window_backed_by_upstream_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
