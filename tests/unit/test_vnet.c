/* test_vnet.c - the TAP's offloads as the stack sees them: virtio-net headers in (super-frames
 * from the container, partial checksums trusted only where the header says so, hostile
 * headers dropped and counted) and out (partial checksums, super-frames the container's
 * kernel cuts at gso_size). Frames are built by hand: tcp_fixture's fx_send() puts the
 * header the test chose before them and can leave the checksum partial as a kernel does. */
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "stack_internal.h"
#include "tcp_fixture.h"

#define GSO_SIZE 1448

/** hdr() - set the virtio-net header fx_send() sends from now on */
static void hdr(struct fx *fx, uint8_t flags, uint8_t gso_type, uint16_t gso_size,
		uint16_t csum_start, uint16_t csum_offset)
{
	uint8_t *h = fx->m.vnet_in;

	memset(h, 0, STACK_VNET_HDR_LEN);
	h[VNET_OFF_FLAGS] = flags;
	h[VNET_OFF_GSO_TYPE] = gso_type;
	wr16le(h + VNET_OFF_GSO_SIZE, gso_size);
	wr16le(h + VNET_OFF_CSUM_START, csum_start);
	wr16le(h + VNET_OFF_CSUM_OFFSET, csum_offset);
}

/** partial_tcp() - the header a kernel sends with a TCP segment whose checksum it left */
static void partial_tcp(struct fx *fx, uint8_t gso_type, uint16_t gso_size)
{
	hdr(fx, VNET_F_NEEDS_CSUM, gso_type, gso_size, ETH_HDR_LEN + IP4_HDR_MIN, 16);
	fx->m.vnet_partial = true;
}

/** pattern() - @len bytes of a recognisable pattern */
static uint8_t *pattern(size_t len)
{
	uint8_t *d = malloc(len);

	assert_non_null(d);
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	return d;
}

/** established() - a connection with offloads on (header of zeroes for the handshake) */
static struct fx *established(bool tso)
{
	struct stack_cfg cfg;
	struct fx *fx;

	fx_cfg_default(&cfg);
	cfg.tso = tso;
	fx = fx_new_cfg(&cfg);
	fx->m.vnet = true;
	fx_to_established(fx);
	return fx;
}

/** cnt() - counter @name of the test's stack */
static uint64_t cnt(struct fx *fx, const char *name)
{
	return cnt_get(stack_counters(fx->s), name);
}

/* --- frames in ---------------------------------------------------------------------------- */

static void test_super_frame_in_delivered_and_acked(void **state)
{
	struct fx *fx = established(false);
	uint8_t *d = pattern(30000);
	struct parsed p;

	(void)state;
	/* 30000 bytes in one frame at MTU 1500: a super-frame of 21 segments, checksum partial */
	partial_tcp(fx, VNET_GSO_TCPV4, GSO_SIZE);
	fx_data(fx, d, 30000);
	assert_int_equal(fx->m.sink_len, 30000);
	assert_memory_equal(fx->m.sink, d, 30000);
	assert_int_equal(cnt(fx, "rx_gso_frames"), 1);
	assert_int_equal(cnt(fx, "rx_csum_trusted"), 1);
	assert_int_equal(cnt_drops(stack_counters(fx->s)), 0);
	/* RFC 9293 3.8.6.3: many segments in one: acknowledged at once, not delayed */
	fx_last(fx, &p);
	assert_int_equal(p.ack, fx->cseq);
	free(d);
	fx_free(fx);
}

static void test_partial_checksum_without_header_dropped(void **state)
{
	struct fx *fx = established(false);

	(void)state;
	/* offloads off: no header vouches for the partial checksum, so it is verified (and
	 * fails) */
	fx->m.vnet = false;
	fx->m.vnet_partial = true;
	fx_data(fx, "partial", 7);
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(cnt(fx, "drop_tcp_bad_checksum"), 1);
	fx_free(fx);
}

static void test_header_without_flags_still_verified(void **state)
{
	struct fx *fx = established(false);
	struct fr_tcp t = { .flags = TCP_ACK | TCP_PSH, .bad_checksum = true };

	(void)state;
	hdr(fx, 0, VNET_GSO_NONE, 0, 0, 0);
	t.seq = fx->cseq;
	t.ack = fx->rnxt;
	fx_send(fx, &t, "corrupt", 7);
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(cnt(fx, "drop_tcp_bad_checksum"), 1);
	assert_int_equal(cnt(fx, "rx_csum_trusted"), 0);
	fx_free(fx);
}

static void test_data_valid_trusted(void **state)
{
	struct fx *fx = established(false);
	struct fr_tcp t = { .flags = TCP_ACK | TCP_PSH, .bad_checksum = true };

	(void)state;
	/* the container's kernel checked it (its own loopback of a veth, say): not summed again */
	hdr(fx, VNET_F_DATA_VALID, VNET_GSO_NONE, 0, 0, 0);
	t.seq = fx->cseq;
	t.ack = fx->rnxt;
	fx_send(fx, &t, "trusted", 7);
	assert_int_equal(fx->m.sink_len, 7);
	assert_int_equal(cnt(fx, "rx_csum_trusted"), 1);
	assert_int_equal(cnt_drops(stack_counters(fx->s)), 0);
	fx_free(fx);
}

/**
 * hostile() - a segment under header @h (flags, gso, sizes, csum offsets) is dropped under
 * exactly @drop, and nothing of it reaches upstream
 */
static void hostile(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t csum_start,
		    uint16_t csum_offset, const char *drop)
{
	struct fx *fx = established(false);
	struct stack_counters before = *stack_counters(fx->s);
	uint8_t *d = pattern(3000);

	hdr(fx, flags, gso_type, gso_size, csum_start, csum_offset);
	fx->m.vnet_partial = !!(flags & VNET_F_NEEDS_CSUM);
	fx_seg(fx, TCP_ACK | TCP_PSH, fx->cseq, fx->rnxt, d, 3000);
	cnt_expect_drop(&before, stack_counters(fx->s), drop);
	assert_int_equal(fx->m.sink_len, 0);
	free(d);
	fx_free(fx);
}

static void test_hostile_headers_dropped_and_counted(void **state)
{
	const uint16_t l4 = ETH_HDR_LEN + IP4_HDR_MIN, end = ETH_HDR_LEN + IP4_HDR_MIN + 20 + 3000;

	(void)state;
	/* flags we do not know (RSC_INFO, anything the spec may add) */
	hostile(VNET_F_RSC_INFO, VNET_GSO_NONE, 0, 0, 0, "drop_vnet_malformed");
	hostile(0x80 | VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, 16, "drop_vnet_malformed");
	/* GSO types we never offered, or none at all */
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_UDP, GSO_SIZE, l4, 16, "drop_vnet_bad_gso");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4, GSO_SIZE, l4, 16, "drop_vnet_bad_gso");
	hostile(VNET_F_NEEDS_CSUM, 2, GSO_SIZE, l4, 16, "drop_vnet_bad_gso");
	hostile(VNET_F_NEEDS_CSUM, 0x7f, GSO_SIZE, l4, 16, "drop_vnet_bad_gso");
	/* gso_size 0 or past any MTU */
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 0, l4, 16, "drop_vnet_bad_gso");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 65535, l4, 16, "drop_vnet_bad_gso");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 | VNET_GSO_ECN, 65482, l4, 16,
		"drop_vnet_bad_gso");
	/* IPv6 GSO on an IPv4 segment */
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6, GSO_SIZE, l4, 16, "drop_vnet_bad_gso");
	/* csum_start/csum_offset beyond the frame, wrapping, or not on the TCP checksum */
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, end, 0, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, end - 1, 0, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, end, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0xffff, 0xffff, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, ETH_HDR_LEN + 10, 0, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, 6, "drop_vnet_bad_csum");
	hostile(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4 + 4, 12, "drop_vnet_bad_csum");
}

static void test_gso_within_bounds_accepted(void **state)
{
	struct fx *fx = established(false);
	uint8_t *d = pattern(3000);

	(void)state;
	/* the largest sane gso_size (a segment of the largest MTU), ECN bit set: taken */
	partial_tcp(fx, VNET_GSO_TCPV4 | VNET_GSO_ECN, STACK_MAX_MTU - 40);
	fx_data(fx, d, 3000);
	assert_int_equal(fx->m.sink_len, 3000);
	assert_int_equal(cnt_drops(stack_counters(fx->s)), 0);
	free(d);
	fx_free(fx);
}

static void test_header_cut_short_dropped(void **state)
{
	struct fx *fx = established(false);
	struct stack_counters before = *stack_counters(fx->s);
	uint8_t b[STACK_VNET_HDR_LEN] = { 0 };

	(void)state;
	for (size_t len = 0; len <= STACK_VNET_HDR_LEN; len++)
		stack_input_vnet(fx->s, b, len, fx->now);
	/* 0..11 bytes: no header; 12: a header and an empty frame */
	assert_int_equal(cnt(fx, "drop_vnet_malformed"), before.drop_vnet_malformed + 12);
	assert_int_equal(cnt(fx, "drop_short_frame"), before.drop_short_frame + 1);
	fx_free(fx);
}

/**
 * raw_in() - feed frame @f (@len bytes, built at @buf + STACK_VNET_HDR_LEN) under header @h
 * and expect exactly @drop
 */
static void raw_in(struct fx *fx, uint8_t *buf, size_t len, const char *drop)
{
	struct stack_counters before = *stack_counters(fx->s);

	memcpy(buf, fx->m.vnet_in, STACK_VNET_HDR_LEN);
	stack_input_vnet(fx->s, buf, STACK_VNET_HDR_LEN + len, fx->now);
	cnt_expect_drop(&before, stack_counters(fx->s), drop);
}

static void test_offloads_on_other_protocols(void **state)
{
	struct fx *fx = established(false);
	uint8_t *buf = malloc(STACK_VNET_HDR_LEN + FRAME_MAX);
	uint8_t *f = buf + STACK_VNET_HDR_LEN;
	const uint16_t l4 = ETH_HDR_LEN + IP4_HDR_MIN;
	static const uint8_t msg[] = "not TCP", big[64];
	size_t len;

	(void)state;
	assert_non_null(buf);
	/* GSO TCPV4 on a UDP datagram */
	len = fr_udp(f, fx->cfg.mac, T_CADDR, T_PEER, 5000, 53, msg, sizeof(msg), false, false);
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, GSO_SIZE, l4, 6);
	raw_in(fx, buf, len, "drop_vnet_bad_gso");
	/* a partial checksum on the UDP checksum field is trusted (this mock has no UDP relay:
	 * the datagram goes no further, but not for its checksum) */
	len = fr_udp(f, fx->cfg.mac, T_CADDR, T_PEER, 5000, 53, msg, sizeof(msg), true, false);
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, 6);
	raw_in(fx, buf, len, "drop_udp_upstream_error");
	assert_int_equal(cnt(fx, "rx_csum_trusted"), 1);
	/* ... not on the TCP one (a datagram long enough to have a byte 16) */
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, 16);
	len = fr_udp(f, fx->cfg.mac, T_CADDR, T_PEER, 5000, 53, big, sizeof(big), false, false);
	raw_in(fx, buf, len, "drop_vnet_bad_csum");
	/* ICMP: the kernel never offloads its checksum; DATA_VALID only */
	len = fr_icmp_echo(f, fx->cfg.mac, T_GW, 1, 1, msg, sizeof(msg), false);
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, l4, 2);
	raw_in(fx, buf, len, "drop_vnet_bad_csum");
	len = fr_icmp_echo(f, fx->cfg.mac, T_GW, 1, 2, msg, sizeof(msg), true);
	hdr(fx, VNET_F_DATA_VALID, VNET_GSO_NONE, 0, 0, 0);
	raw_in(fx, buf, len, NULL);
	assert_int_equal(cnt(fx, "icmp_echo_replies"), 1);
	free(buf);
	fx_free(fx);
}

static void test_offloads_on_fragments_dropped(void **state)
{
	struct fx *fx = established(false);
	uint8_t *buf = malloc(STACK_VNET_HDR_LEN + FRAME_MAX);
	uint8_t *f = buf + STACK_VNET_HDR_LEN;
	struct fr_ip ip = { .saddr = T_CADDR, .daddr = T_PEER, .proto = PROTO_TCP,
			    .frag = IP4_FLAG_MF };
	uint8_t seg[64] = { 0 };
	size_t len;

	(void)state;
	assert_non_null(buf);
	/* a first fragment of a "TCP super-frame": neither GSO nor a partial checksum can
	 * cover a fragment */
	len = fr_ip4(f, fx->cfg.mac, &ip, seg, sizeof(seg));
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, GSO_SIZE, ETH_HDR_LEN + IP4_HDR_MIN, 16);
	raw_in(fx, buf, len, "drop_vnet_bad_gso");
	hdr(fx, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, ETH_HDR_LEN + IP4_HDR_MIN, 16);
	raw_in(fx, buf, len, "drop_vnet_bad_csum");
	free(buf);
	fx_free(fx);
}

/* --- frames out --------------------------------------------------------------------------- */

static void test_super_frame_out(void **state)
{
	struct fx *fx = established(true);
	const uint8_t *vh;
	struct parsed p;

	(void)state;
	fx_upstream(fx, NULL, 200000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_true(fx_nout(fx) >= 1);
	/* the initial window (10 segments) in one frame far past the MTU; fr_parse() checks the
	 * checksum the mock completed from the partial sum, as the container's kernel does */
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 10 * 1460);
	assert_true(p.ip_len > fx->cfg.mtu);
	assert_int_equal(p.payload[0], fx_pattern(0));
	assert_int_equal(p.payload[p.payload_len - 1], fx_pattern(p.payload_len - 1));
	vh = fx->m.vh[0];
	assert_int_equal(vh[VNET_OFF_FLAGS], VNET_F_NEEDS_CSUM);
	assert_int_equal(vh[VNET_OFF_GSO_TYPE], VNET_GSO_TCPV4);
	/* the container's kernel cuts it at its MSS (no options here): 1460-byte segments */
	assert_int_equal(rd16le(vh + VNET_OFF_GSO_SIZE), 1460);
	assert_int_equal(rd16le(vh + VNET_OFF_HDR_LEN), ETH_HDR_LEN + IP4_HDR_MIN + TCP_HDR_MIN);
	assert_int_equal(rd16le(vh + VNET_OFF_CSUM_START), ETH_HDR_LEN + IP4_HDR_MIN);
	assert_int_equal(rd16le(vh + VNET_OFF_CSUM_OFFSET), 16);
	/* acknowledged whole: the window opens, the next super-frames go */
	fx_ack(fx, p.seq + (uint32_t)p.payload_len);
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		assert_true(p.ip_len <= 65535);
	}
	assert_true(fx_nout(fx) >= 1);
	fx_free(fx);
}

static void test_gso_size_leaves_room_for_timestamps(void **state)
{
	struct stack_cfg cfg;
	struct fx *fx;
	struct parsed p;

	(void)state;
	fx_cfg_default(&cfg);
	cfg.tso = true;
	fx = fx_new_cfg(&cfg);
	fx->m.vnet = true;
	fx->ts = true;
	fx->syn.has_ts = true;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 50000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_out(fx, 0, &p);
	assert_true(p.has_ts);
	/* RFC 6691: each cut segment repeats the 12 option bytes within the MSS */
	assert_int_equal(rd16le(fx->m.vh[0] + VNET_OFF_GSO_SIZE), 1460 - 12);
	assert_int_equal(rd16le(fx->m.vh[0] + VNET_OFF_HDR_LEN),
			 ETH_HDR_LEN + IP4_HDR_MIN + TCP_HDR_MIN + 12);
	fx_free(fx);
}

static void test_gso_size_follows_a_lower_mtu(void **state)
{
	struct fx *fx = established(true);
	struct parsed p;

	(void)state;
	/* the container lowered its MTU after the connection agreed MSS 1460: the kernel cuts
	 * our super-frames to segments of the MTU in force */
	stack_set_mtu(fx->s, 1300);
	fx_upstream(fx, NULL, 50000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_out(fx, 0, &p);
	assert_int_equal(fx->m.vh[0][VNET_OFF_GSO_TYPE], VNET_GSO_TCPV4);
	assert_int_equal(rd16le(fx->m.vh[0] + VNET_OFF_GSO_SIZE), 1260);
	fx_free(fx);
}

static void test_one_segment_out_partial_without_gso(void **state)
{
	struct fx *fx = established(true);
	struct parsed p;

	(void)state;
	fx_upstream(fx, "hello", 5);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(fx->m.vh[0][VNET_OFF_FLAGS], VNET_F_NEEDS_CSUM);
	assert_int_equal(fx->m.vh[0][VNET_OFF_GSO_TYPE], VNET_GSO_NONE);
	assert_int_equal(rd16le(fx->m.vh[0] + VNET_OFF_GSO_SIZE), 0);
	fx_free(fx);
}

static void test_control_frames_out_complete(void **state)
{
	struct fx *fx = established(true);
	static const uint8_t zero[STACK_VNET_HDR_LEN];
	struct parsed p;

	(void)state;
	/* a pure ACK: its checksum computed, its header zeroes (nothing to complete or cut) */
	fx_data(fx, "x", 1);
	fx_tick(fx, 100000);
	fx_last(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_memory_equal(fx->m.vh[fx_nout(fx) - 1], zero, STACK_VNET_HDR_LEN);
	assert_true(fr_cksum_l4_ok(fx->m.cap.frame[fx_nout(fx) - 1], fx->m.cap.len[fx_nout(fx) - 1]));
	fx_free(fx);
}

static void test_without_tso_segments_fit_the_mtu(void **state)
{
	struct fx *fx = established(false);
	struct parsed p;

	(void)state;
	/* offload header but no TSO (cfg.tso off): segments of the MTU, checksums partial */
	fx_upstream(fx, NULL, 20000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 10);
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		assert_true(p.ip_len <= fx->cfg.mtu);
		assert_int_equal(fx->m.vh[i][VNET_OFF_GSO_TYPE], VNET_GSO_NONE);
		assert_int_equal(fx->m.vh[i][VNET_OFF_FLAGS], VNET_F_NEEDS_CSUM);
	}
	fx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_super_frame_in_delivered_and_acked),
		cmocka_unit_test(test_partial_checksum_without_header_dropped),
		cmocka_unit_test(test_header_without_flags_still_verified),
		cmocka_unit_test(test_data_valid_trusted),
		cmocka_unit_test(test_hostile_headers_dropped_and_counted),
		cmocka_unit_test(test_gso_within_bounds_accepted),
		cmocka_unit_test(test_header_cut_short_dropped),
		cmocka_unit_test(test_offloads_on_other_protocols),
		cmocka_unit_test(test_offloads_on_fragments_dropped),
		cmocka_unit_test(test_super_frame_out),
		cmocka_unit_test(test_gso_size_leaves_room_for_timestamps),
		cmocka_unit_test(test_gso_size_follows_a_lower_mtu),
		cmocka_unit_test(test_one_segment_out_partial_without_gso),
		cmocka_unit_test(test_control_frames_out_complete),
		cmocka_unit_test(test_without_tso_segments_fit_the_mtu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
