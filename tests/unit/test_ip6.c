/* test_ip6.c - IPv6 input (RFC 8200): header checks, the bounded walk of the extension-header
 * chain (hop-by-hop, destination options, routing with RFC 5095's type 0, fragments with
 * RFC 6946's atomic ones), parameter problems where RFC 8200 asks for them, each drop counted
 * once; reassembly (RFC 8200 4.5, RFC 5722). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "frames.h"
#include "stack_internal.h"
#include "udp.h"

#define OUR_MAC ((const uint8_t[6]){ 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 })
#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

static const uint8_t caddr[16] = T_CADDR6, gw[16] = T_GW6, peer[16] = T_PEER6;
static uint8_t buf[FRAME_MAX];

/* an ICMPv6 echo request after its checksum: id, seq, 8 bytes of data */
static const uint8_t echo_body[12] = { 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '6', '6', '6', '6' };

/** feed_echo() - an echo request to the gateway behind the extension headers @ext */
static void feed_echo(struct tstack *t, const uint8_t *ext, size_t ext_len)
{
	struct fr_ip6 ip = { .ext = ext, .ext_len = ext_len };

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body,
				     sizeof(echo_body)));
}

/** expect_echo_reply() - exactly one echo reply from the gateway to the container */
static void expect_echo_reply(const struct tstack *t)
{
	struct parsed6 p;

	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_memory_equal(p.saddr, gw, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(p.icmp_type, ICMP6_ECHO_REPLY);
	assert_int_equal(p.icmp_body_len, sizeof(echo_body) - 4);
	assert_memory_equal(p.l4 + 4, echo_body, sizeof(echo_body));
}

/** expect_param_problem() - exactly one parameter problem @code with @pointer */
static void expect_param_problem(const struct tstack *t, uint8_t code, uint32_t pointer)
{
	struct parsed6 p;

	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(p.icmp_type, ICMP6_PARAM_PROBLEM);
	assert_int_equal(p.icmp_code, code);
	assert_int_equal(p.icmp_param, pointer);
	/* the quote starts with the offending packet's header, from the container */
	assert_true(p.icmp_body_len >= IP6_HDR_LEN);
	assert_int_equal(p.icmp_body[0] >> 4, 6);
	assert_memory_equal(p.icmp_body + 8, caddr, 16);
}

static void test_ip6_echo_to_gateway_answered(void **state)
{
	struct tstack *t = *state;

	feed_echo(t, NULL, 0);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_short_header_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .nh = IP6_NH_NONE }, NULL, 0);

	tstack_feed(t, buf, n - 1);
	tstack_expect_drop(t, "drop_short_frame");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_bad_version_dropped(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { 0 };
	size_t n = fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body));

	buf[ETH_HDR_LEN] = 0x40;
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_bad_version");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_payload_length_past_frame_dropped(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { 0 };
	size_t n = fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body));

	tstack_feed(t, buf, n - 1);
	tstack_expect_drop(t, "drop_ip6_bad_length");
	wr16(buf + ETH_HDR_LEN + 4, 0); /* a jumbogram's 0 */
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip6_bad_length");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_ethernet_padding_ignored(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { 0 };
	size_t n = fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body));

	memset(buf + n, 0xee, 30);
	tstack_feed(t, buf, n + 30);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_foreign_source_dropped(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { .saddr = peer };

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body,
				     sizeof(echo_body)));
	tstack_expect_drop(t, "drop_ip6_bad_source");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_mld_group_not_for_us(void **state)
{
	struct tstack *t = *state;
	const uint8_t mld[16] = { 0xff, 0x02, [15] = 0x16 };
	const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	struct fr_ip6 ip = { .daddr = mld };

	tstack_feed(t, buf, fr_icmp6(buf, mac, &ip, 143, 0, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_not_for_us");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_hop_by_hop_padding_walked(void **state)
{
	struct tstack *t = *state;
	/* hop-by-hop: next ICMPv6, length 0 (8 bytes): Pad1, PadN with 2 bytes, Pad1 */
	const uint8_t ext[] = { IP6_NH_HOPOPTS, IP6_NH_ICMP6, 0, 0, 1, 2, 0, 0, 0 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_unknown_option_skip_bits_walked(void **state)
{
	struct tstack *t = *state;
	/* destination options: an unknown option type 0x1e (action 00: skip over it) */
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_ICMP6, 0, 0x1e, 4, 1, 2, 3, 4 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_unknown_option_discard_silently(void **state)
{
	struct tstack *t = *state;
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_ICMP6, 0, 0x5e, 4, 1, 2, 3, 4 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_bad_option");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_unknown_option_param_problem(void **state)
{
	struct tstack *t = *state;
	/* action 10: discard and parameter problem code 2 pointing at the option (offset 42) */
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_ICMP6, 0, 0x9e, 4, 1, 2, 3, 4 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_bad_option");
	expect_param_problem(t, ICMP6_PARAM_OPTION, IP6_HDR_LEN + 2);
}

static void test_ip6_option_past_header_malformed(void **state)
{
	struct tstack *t = *state;
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_ICMP6, 0, 0x1e, 9, 1, 2, 3, 4 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_hop_by_hop_not_first_param_problem(void **state)
{
	struct tstack *t = *state;
	/* destination options, then a hop-by-hop header: RFC 8200 4.3 */
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
				IP6_NH_ICMP6, 0, 1, 4, 0, 0, 0, 0 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_param_problem");
	expect_param_problem(t, ICMP6_PARAM_NEXTHDR, IP6_HDR_LEN);
}

static void test_ip6_routing_type0_dropped(void **state)
{
	struct tstack *t = *state;
	/* RFC 5095: type 0, whatever its segments left (0 here), is dropped without a word */
	const uint8_t ext[] = { IP6_NH_ROUTING, IP6_NH_ICMP6, 0, 0, 0, 0, 0, 0, 0 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_rh0");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_routing_segments_left_zero_ignored(void **state)
{
	struct tstack *t = *state;
	/* RFC 8200 4.4: an unknown type with segments left 0 is ignored */
	const uint8_t ext[] = { IP6_NH_ROUTING, IP6_NH_ICMP6, 0, 4, 0, 0, 0, 0, 0 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_routing_segments_left_param_problem(void **state)
{
	struct tstack *t = *state;
	const uint8_t ext[] = { IP6_NH_ROUTING, IP6_NH_ICMP6, 0, 4, 1, 0, 0, 0, 0 };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, "drop_ip6_param_problem");
	expect_param_problem(t, ICMP6_PARAM_HEADER, IP6_HDR_LEN + 2);
}

static void test_ip6_unknown_next_header_param_problem(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { .nh = 253 }; /* RFC 3692 experimental */

	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &ip, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_ip6_bad_proto");
	expect_param_problem(t, ICMP6_PARAM_NEXTHDR, 6);
}

static void test_ip6_unknown_next_header_after_ext_points_there(void **state)
{
	struct tstack *t = *state;
	const uint8_t ext[] = { IP6_NH_DSTOPTS, 253, 0, 1, 4, 0, 0, 0, 0 };

	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
				   echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_ip6_bad_proto");
	expect_param_problem(t, ICMP6_PARAM_NEXTHDR, IP6_HDR_LEN);
}

static void test_ip6_no_next_header_dropped(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { .nh = IP6_NH_NONE };

	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &ip, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_ip6_no_next");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_chain_too_long_dropped(void **state)
{
	struct tstack *t = *state;
	uint8_t ext[1 + 9 * 8];

	ext[0] = IP6_NH_DSTOPTS;
	for (int i = 0; i < 9; i++) {
		uint8_t *h = ext + 1 + i * 8;

		memset(h, 0, 8);
		h[0] = i == 8 ? IP6_NH_ICMP6 : IP6_NH_DSTOPTS;
		h[2] = 1; /* PadN of 4 */
		h[3] = 4;
	}
	feed_echo(t, ext, 9 * 8);
	tstack_expect_drop(t, "drop_ip6_chain_too_long");
	assert_int_equal(t->cap.n, 0);

	/* eight are walked */
	ext[1 + 7 * 8] = IP6_NH_ICMP6;
	feed_echo(t, ext, 8 * 8);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip6_truncated_ext_header_dropped(void **state)
{
	struct tstack *t = *state;
	const uint8_t ext[] = { IP6_NH_DSTOPTS, IP6_NH_ICMP6, 3, 1, 4, 0, 0, 0, 0 };

	/* says 32 bytes, the packet holds 8 + the 16-byte echo */
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
				   echo_body, 8));
	tstack_expect_drop(t, "drop_ip6_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_atomic_fragment_processed(void **state)
{
	struct tstack *t = *state;
	/* RFC 6946: offset 0, M clear: a whole packet */
	const uint8_t ext[] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef };

	feed_echo(t, ext, sizeof(ext) - 1);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
	assert_int_equal(cnt_get(stack_counters(t->s), "ip6_atomic_fragments"), 1);
	assert_int_equal(ip6_reass_pending(t->s), 0);
}

/**
 * feed_frag() - one fragment of an ICMPv6 message @m (@mlen bytes) to the gateway: bytes
 * [@off, @off + @len) with M as @more
 */
static void feed_frag(struct tstack *t, const uint8_t *m, size_t off, size_t len, bool more,
		      uint32_t id)
{
	uint8_t ext[9] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0 };

	wr16(ext + 3, (uint16_t)(off | (more ? 1 : 0)));
	wr32(ext + 5, id);
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
				   m + off, len));
}

/** echo_msg() - a checksummed echo request of @len bytes in @m */
static void echo_msg(uint8_t *m, size_t len)
{
	memset(m, 0, len);
	m[0] = ICMP6_ECHO_REQUEST;
	for (size_t i = 4; i < len; i++)
		m[i] = (uint8_t)(i * 7);
	wr16(m + 2, fr_csum6(caddr, gw, IP6_NH_ICMP6, m, len));
}

static void test_ip6_fragments_reassembled(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];
	struct parsed6 p;

	echo_msg(m, sizeof(m));
	feed_frag(t, m, 1600, 1400, false, 7); /* out of order: the last first */
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip6_reass_pending(t->s), 1);
	feed_frag(t, m, 0, 1600, true, 7);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP6_ECHO_REPLY);
	assert_int_equal(p.l4_len, sizeof(m));
	assert_memory_equal(p.l4 + 4, m + 4, sizeof(m) - 4);
	assert_int_equal(ip6_reass_pending(t->s), 0);
	assert_int_equal(cnt_get(stack_counters(t->s), "ip6_frag_reassembled"), 1);
}

static void test_ip6_fragments_overlap_drop_packet(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	echo_msg(m, sizeof(m));
	feed_frag(t, m, 0, 1600, true, 9);
	feed_frag(t, m, 1592, 1408, false, 9); /* RFC 5722: overlaps the first by 8 bytes */
	tstack_expect_drop(t, "drop_ip6_frag_overlap");
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip6_reass_pending(t->s), 0);
}

static void test_ip6_fragment_misaligned_param_problem(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	echo_msg(m, sizeof(m));
	feed_frag(t, m, 0, 1601, true, 11);
	tstack_expect_drop(t, "drop_ip6_frag_malformed");
	expect_param_problem(t, ICMP6_PARAM_HEADER, 4);
}

static void test_ip6_fragment_past_64k_param_problem(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	echo_msg(m, sizeof(m));
	/* RFC 8200 4.5: offset + length past 65535: pointer at the fragment offset field */
	{
		uint8_t ext[9] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0 };

		wr16(ext + 3, (uint16_t)(65000 & 0xfff8));
		wr32(ext + 5, 12);
		tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
					   m, 1000));
	}
	tstack_expect_drop(t, "drop_ip6_frag_too_big");
	expect_param_problem(t, ICMP6_PARAM_HEADER, IP6_HDR_LEN + 2);
}

static void test_ip6_fragment_timeout_time_exceeded(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];
	struct parsed6 p;

	echo_msg(m, sizeof(m));
	feed_frag(t, m, 0, 1600, true, 13);
	assert_true(stack_next_deadline(t->s) <= t->now_us + 15000000);
	cap_reset(&t->cap);
	stack_tick(t->s, t->now_us + 15000000);
	assert_int_equal(cnt_get(stack_counters(t->s), "drop_ip6_frag_timeout"), 1);
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP6_TIME_EXCEEDED);
	assert_int_equal(p.icmp_code, 1);
	assert_int_equal(ip6_reass_pending(t->s), 0);
}

static void test_ip6_reass_slots_bounded(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	echo_msg(m, sizeof(m));
	for (uint32_t id = 100; id < 100 + 17; id++)
		feed_frag(t, m, 0, 1600, true, id);
	assert_int_equal(ip6_reass_pending(t->s), 16);
	assert_int_equal(cnt_get(stack_counters(t->s), "drop_ip6_frag_over_limit"), 1);
}

/**
 * feed_first_frag() - fragment zero (M set, id @id) whose fragment header names @nh and
 * carries the @len bytes at @data
 */
static void feed_first_frag(struct tstack *t, uint8_t nh, const uint8_t *data, size_t len,
			    uint32_t id)
{
	uint8_t ext[9] = { IP6_NH_FRAGMENT, nh, 0 };

	wr16(ext + 3, 1); /* offset 0, M */
	wr32(ext + 5, id);
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
				   data, len));
}

/** expect_incomplete_chain() - dropped as RFC 7112 says, nothing held for reassembly */
static void expect_incomplete_chain(struct tstack *t)
{
	tstack_expect_drop(t, "drop_ip6_frag_incomplete_chain");
	/* RFC 7112 5 / RFC 4443 3.4: code 3, pointer 0 (Linux sends the same) */
	expect_param_problem(t, ICMP6_PARAM_FIRSTFRAG, 0);
	assert_int_equal(ip6_reass_pending(t->s), 0);
}

static void test_ip6_first_fragment_tcp_header_cut_dropped(void **state)
{
	struct tstack *t = *state;
	uint8_t d[16] = { 0x9c, 0x40, 0x00, 0x50 }; /* 16 of TCP's 20 header bytes */

	feed_first_frag(t, PROTO_TCP, d, sizeof(d), 21);
	expect_incomplete_chain(t);
}

static void test_ip6_first_fragment_ext_header_cut_dropped(void **state)
{
	struct tstack *t = *state;
	/* a destination options header of 24 bytes (length 2) of which the fragment holds 16 */
	uint8_t d[16] = { IP6_NH_ICMP6, 2, 1, 12 };

	feed_first_frag(t, IP6_NH_DSTOPTS, d, sizeof(d), 22);
	expect_incomplete_chain(t);
}

static void test_ip6_first_fragment_chain_ends_at_ext_header_dropped(void **state)
{
	struct tstack *t = *state;
	/* a whole destination options header, then nothing of the UDP header it names */
	uint8_t d[8] = { PROTO_UDP, 0, 1, 4 };

	feed_first_frag(t, IP6_NH_DSTOPTS, d, sizeof(d), 23);
	expect_incomplete_chain(t);
}

static void test_ip6_first_fragment_whole_chain_held(void **state)
{
	struct tstack *t = *state;
	/* destination options, then a whole UDP header: held for reassembly, no error */
	uint8_t d[16] = { PROTO_UDP, 0, 1, 4, 0, 0, 0, 0, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x40 };

	feed_first_frag(t, IP6_NH_DSTOPTS, d, sizeof(d), 24);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip6_reass_pending(t->s), 1);
	assert_int_equal(cnt_get(stack_counters(t->s), "drop_ip6_frag_incomplete_chain"), 0);
}

static void test_ip6_later_fragment_without_chain_held(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	/* RFC 7112 asks it of fragment zero only: a later one carries data, not headers */
	echo_msg(m, sizeof(m));
	feed_frag(t, m, 1600, 8, true, 25);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip6_reass_pending(t->s), 1);
}

/* --- the first hop: time exceeded, packet too big -------------------------------------------- */

/** feed_peer_echo() - an echo request of @len bytes to a host beyond the link, hop limit @hlim */
static size_t feed_peer_echo(struct tstack *t, uint8_t hlim, size_t len)
{
	static uint8_t body[FRAME_MAX];
	struct fr_ip6 ip = { .daddr = peer, .hlim = hlim ? hlim : 1 };
	size_t n;

	memset(body, 0x6b, len);
	n = fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, body, len);
	buf[ETH_HDR_LEN + 7] = hlim; /* 0 too: the checksum does not cover it */
	tstack_feed(t, buf, n);
	return n;
}

/** expect_error6() - one ICMPv6 @type/@code with @param from the gateway quoting @n bytes of
 * the frame in buf (as much as fits in 1280 bytes) */
static void expect_error6(const struct tstack *t, size_t n, uint8_t type, uint8_t code,
			  uint32_t param)
{
	size_t quote = n - ETH_HDR_LEN;
	struct parsed6 p;

	if (quote > IP6_MIN_MTU - IP6_HDR_LEN - ICMP_HDR_LEN)
		quote = IP6_MIN_MTU - IP6_HDR_LEN - ICMP_HDR_LEN;
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_memory_equal(p.saddr, gw, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(p.icmp_type, type);
	assert_int_equal(p.icmp_code, code);
	assert_int_equal(p.icmp_param, param);
	assert_int_equal(p.icmp_body_len, quote);
	assert_memory_equal(p.icmp_body, buf + ETH_HDR_LEN, quote);
}

/* RFC 4443 3.3: hop limit 1 or 0 for a host beyond the link: Time Exceeded code 0 from the
 * gateway (traceroute6's hop 1), and the packet goes no further */
static void test_ip6_hop_limit_expired_to_relayed_host_answered(void **state)
{
	struct tstack *t = *state;

	for (uint8_t hlim = 0; hlim <= 1; hlim++) {
		size_t n = feed_peer_echo(t, hlim, 24);

		tstack_expect_drop(t, "drop_ip_ttl_expired");
		expect_error6(t, n, ICMP6_TIME_EXCEEDED, 0, 0);
		assert_int_equal(stack_counters(t->s)->icmp_time_exceeded_sent,
				 t->before.icmp_time_exceeded_sent + 1);
		assert_int_equal(stack_counters(t->s)->icmp_echo_relayed, 0);
	}
}

/* hop limit 2 passes: on to the relay (none in this stack) */
static void test_ip6_hop_limit_two_passes(void **state)
{
	struct tstack *t = *state;

	feed_peer_echo(t, 2, 24);
	tstack_expect_drop(t, "drop_icmp_no_route");
	assert_int_equal(t->cap.n, 0);
}

/* The gateway is the destination: answered, whatever the hop limit */
static void test_ip6_hop_limit_one_to_gateway_answered(void **state)
{
	struct tstack *t = *state;
	struct fr_ip6 ip = { .hlim = 1 };

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, ICMP6_ECHO_REQUEST, 0, echo_body,
				     sizeof(echo_body)));
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

/* RFC 4443 2.4 (e.1): never about an ICMPv6 error */
static void test_ip6_hop_limit_expired_icmp6_error_silent(void **state)
{
	struct tstack *t = *state;
	uint8_t body[IP6_HDR_LEN + 8] = { 0x60 };
	struct fr_ip6 ip = { .daddr = peer, .hlim = 1 };

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, ICMP6_DEST_UNREACH, 4, body, sizeof(body)));
	tstack_expect_drop(t, "drop_ip_ttl_expired");
	assert_int_equal(t->cap.n, 0);
}

/* Multicast (MLD's hop limit is 1) and NDP (255, link scope) are the link's, never expired */
static void test_ip6_hop_limit_one_multicast_not_answered(void **state)
{
	struct tstack *t = *state;
	const uint8_t mld[16] = { 0xff, 0x02, [15] = 0x16 };
	const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 0x02 };
	struct fr_ip6 ip = { .daddr = mld, .hlim = 1 };
	uint8_t rs[4] = { 0 };

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, 143, 0, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_not_for_us");
	assert_int_equal(t->cap.n, 0);
	/* an RS with hop limit 1 is invalid NDP (RFC 4861 6.1.1), never an expired hop */
	ip.daddr = all_routers;
	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &ip, ICMP6_RS, 0, rs, sizeof(rs)));
	assert_int_equal(stack_counters(t->s)->drop_ip_ttl_expired, 0);
	assert_int_equal(stack_counters(t->s)->icmp_time_exceeded_sent, 0);
}

static void test_ip6_hop_limit_expired_rate_limited(void **state)
{
	struct tstack *t = *state;
	uint64_t sent = 0;

	for (int i = 0; i < 200; i++) {
		feed_peer_echo(t, 1, 8);
		tstack_expect_drop(t, "drop_ip_ttl_expired");
		sent += t->cap.n;
	}
	assert_true(sent > 0 && sent < 200);
	assert_int_equal(sent + stack_counters(t->s)->icmp_errors_rate_limited, 200);
}

/* RFC 4443 3.2: larger than the link's MTU without a GSO header: Packet Too Big with the MTU,
 * from the gateway, quoting as much as fits in 1280 bytes; not relayed */
static void test_ip6_over_mtu_packet_too_big(void **state)
{
	struct tstack *t = *state;
	size_t n;

	assert_int_equal(stack_set_mtu(t->s, 1400), 1400);
	n = feed_peer_echo(t, 64, 1401 - IP6_HDR_LEN - 4);
	tstack_expect_drop(t, "drop_ip_too_big");
	expect_error6(t, n, ICMP6_PACKET_TOO_BIG, 0, 1400);
	assert_int_equal(stack_counters(t->s)->icmp_too_big_sent, 1);
	assert_int_equal(stack_counters(t->s)->icmp_echo_relayed, 0);
}

/* At the MTU it passes; a packet the container sent in fragments is measured by them */
static void test_ip6_at_mtu_and_reassembled_pass(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];
	uint8_t ext[9] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0 };

	assert_int_equal(stack_set_mtu(t->s, 1400), 1400);
	feed_peer_echo(t, 64, 1400 - IP6_HDR_LEN - 4);
	tstack_expect_drop(t, "drop_icmp_no_route");
	memset(m, 0, sizeof(m));
	m[0] = ICMP6_ECHO_REQUEST;
	wr16(m + 2, fr_csum6(caddr, peer, IP6_NH_ICMP6, m, sizeof(m)));
	for (size_t off = 0; off < sizeof(m); off += 1344) {
		size_t len = sizeof(m) - off < 1344 ? sizeof(m) - off : 1344;

		wr16(ext + 3, (uint16_t)(off | (off + len < sizeof(m) ? 1 : 0)));
		wr32(ext + 5, 99);
		tstack_feed(t, buf, fr_ip6(buf, OUR_MAC,
					   &(struct fr_ip6){ .daddr = peer, .ext = ext,
							     .ext_len = 8 }, m + off, len));
	}
	tstack_expect_drop(t, "drop_icmp_no_route");
	assert_int_equal(stack_counters(t->s)->drop_ip_too_big, 0);
}

static struct flow *udp_sent_flow;

/** udp_send_rec() - a stack_ops.udp_send that takes every datagram and remembers its flow */
static int udp_send_rec(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	udp_sent_flow = f;
	return 0;
}

static void test_ip6_udp_over_ipv6(void **state)
{
	struct tstack *t = *state;
	const uint8_t dns6[16] = T_DNS6;
	uint8_t d[8 + 12] = { 0x9c, 0x40, 0x00, 0x35, 0, 20, 0, 0, 0x12, 0x34, 1 };
	struct parsed6 p;

	t->s->ops.udp_send = udp_send_rec;
	udp_sent_flow = NULL;
	/* RFC 8200 8.1: a zero UDP checksum over IPv6 is dropped */
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = dns6, .nh = PROTO_UDP },
				   d, sizeof(d)));
	tstack_expect_drop(t, "drop_udp_bad_checksum");
	assert_null(udp_sent_flow);

	wr16(d + 6, fr_csum6(caddr, dns6, PROTO_UDP, d, sizeof(d)));
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = dns6, .nh = PROTO_UDP },
				   d, sizeof(d)));
	tstack_expect_drop(t, NULL);
	assert_non_null(udp_sent_flow);
	assert_true(udp_sent_flow->v6);
	assert_memory_equal(udp_sent_flow->caddr6, caddr, 16);
	assert_memory_equal(udp_sent_flow->paddr6, dns6, 16);
	assert_int_equal(udp_sent_flow->cport, 40000);
	assert_int_equal(udp_sent_flow->pport, 53);
	assert_ptr_equal(flow_lookup6(stack_flows(t->s), PROTO_UDP, caddr, 40000, dns6, 53),
			 udp_sent_flow);

	/* the answer comes from fd00::3:53, checksummed with the IPv6 pseudo-header */
	cap_reset(&t->cap);
	udp_upstream_datagram(t->s, udp_sent_flow, (const uint8_t *)"answer", 6, t->now_us);
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.nh, PROTO_UDP);
	assert_memory_equal(p.saddr, dns6, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(rd16(p.l4), 53);
	assert_int_equal(rd16(p.l4 + 2), 40000);
	assert_memory_equal(p.l4 + 8, "answer", 6);
}

static struct stack *too_big_stack;
static size_t too_big_calls, too_big_df;

/** udp_send_too_big() - a stack_ops.udp_send whose path takes 1280 bytes (as the relay with
 * IPV6_PMTUDISC_DO: EMSGSIZE, told with udp_upstream_too_big()) */
static int udp_send_too_big(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	too_big_calls++;
	too_big_df += f->udp_df;
	if (!f->udp_df || IP6_HDR_LEN + UDP_HDR_LEN + len <= 1280)
		return 0;
	udp_upstream_too_big(too_big_stack, f, data, len, 1280, f->last_us);
	return -EMSGSIZE;
}

/* RFC 4443 3.2: a datagram the upstream path cannot carry is answered with Packet Too Big
 * and the path MTU, from the gateway, quoting all that fits in 1280 bytes, counted once */
static void test_ip6_udp_too_big_for_path_packet_too_big(void **state)
{
	struct tstack *t = *state;
	static uint8_t d[UDP_HDR_LEN + 1400];
	struct parsed6 p;
	size_t n;

	t->s->ops.udp_send = udp_send_too_big;
	too_big_stack = t->s;
	too_big_calls = too_big_df = 0;
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 5);
	wr16(d, 40000);
	wr16(d + 2, 9999);
	wr16(d + 4, sizeof(d));
	wr16(d + 6, 0);
	wr16(d + 6, fr_csum6(caddr, peer, PROTO_UDP, d, sizeof(d)));
	n = fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer, .nh = PROTO_UDP }, d, sizeof(d));
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_udp_too_big");
	assert_int_equal(too_big_calls, 1);
	assert_int_equal(too_big_df, 1);
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_memory_equal(p.saddr, gw, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(p.icmp_type, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(p.icmp_param, 1280);
	assert_int_equal(p.icmp_body_len, 1280 - IP6_HDR_LEN - ICMP_HDR_LEN);
	assert_memory_equal(p.icmp_body, buf + ETH_HDR_LEN, p.icmp_body_len);
	assert_int_equal(stack_counters(t->s)->icmp_too_big_sent, 1);
}

static void test_ip6_tcp_syn_for_no_listener_reset_over_ipv6(void **state)
{
	struct tstack *t = *state;
	uint8_t seg[20] = { 0x9c, 0x41, 0x00, 0x50, 0, 0, 0, 7 };
	struct parsed6 p;

	/* no tcp_open hook: the connection is refused with RST|ACK (RFC 9293 3.10.7.1) */
	seg[12] = 0x50;
	seg[13] = TCP_SYN;
	wr16(seg + 14, 65535);
	wr16(seg + 16, fr_csum6(caddr, peer, PROTO_TCP, seg, sizeof(seg)));
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer, .nh = PROTO_TCP },
				   seg, sizeof(seg)));
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.nh, PROTO_TCP);
	assert_memory_equal(p.saddr, peer, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	assert_int_equal(p.l4[13], TCP_RST | TCP_ACK);
	assert_int_equal(rd32(p.l4 + 8), 8);
}

static void test_ip6_tcp_from_link_local_dropped(void **state)
{
	struct tstack *t = *state;
	const uint8_t cll[16] = T_CLL6;
	uint8_t seg[20] = { 0x9c, 0x41, 0x00, 0x50 };

	seg[12] = 0x50;
	seg[13] = TCP_SYN;
	wr16(seg + 16, fr_csum6(cll, peer, PROTO_TCP, seg, sizeof(seg)));
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC,
				   &(struct fr_ip6){ .saddr = cll, .daddr = peer, .nh = PROTO_TCP },
				   seg, sizeof(seg)));
	tstack_expect_drop(t, "drop_ip6_bad_source");
	assert_int_equal(t->cap.n, 0);
}

static void test_ip6_off_is_bad_ethertype(void **state)
{
	struct tstack *t = *state;

	feed_echo(t, NULL, 0);
	tstack_expect_drop(t, "drop_bad_ethertype");
	assert_int_equal(t->cap.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ip6_echo_to_gateway_answered),
		T(test_ip6_hop_limit_expired_to_relayed_host_answered),
		T(test_ip6_hop_limit_two_passes),
		T(test_ip6_hop_limit_one_to_gateway_answered),
		T(test_ip6_hop_limit_expired_icmp6_error_silent),
		T(test_ip6_hop_limit_one_multicast_not_answered),
		T(test_ip6_hop_limit_expired_rate_limited),
		T(test_ip6_over_mtu_packet_too_big),
		T(test_ip6_at_mtu_and_reassembled_pass),
		T(test_ip6_udp_too_big_for_path_packet_too_big),
		T(test_ip6_short_header_dropped),
		T(test_ip6_bad_version_dropped),
		T(test_ip6_payload_length_past_frame_dropped),
		T(test_ip6_ethernet_padding_ignored),
		T(test_ip6_foreign_source_dropped),
		T(test_ip6_mld_group_not_for_us),
		T(test_ip6_hop_by_hop_padding_walked),
		T(test_ip6_unknown_option_skip_bits_walked),
		T(test_ip6_unknown_option_discard_silently),
		T(test_ip6_unknown_option_param_problem),
		T(test_ip6_option_past_header_malformed),
		T(test_ip6_hop_by_hop_not_first_param_problem),
		T(test_ip6_routing_type0_dropped),
		T(test_ip6_routing_segments_left_zero_ignored),
		T(test_ip6_routing_segments_left_param_problem),
		T(test_ip6_unknown_next_header_param_problem),
		T(test_ip6_unknown_next_header_after_ext_points_there),
		T(test_ip6_no_next_header_dropped),
		T(test_ip6_chain_too_long_dropped),
		T(test_ip6_truncated_ext_header_dropped),
		T(test_ip6_atomic_fragment_processed),
		T(test_ip6_fragments_reassembled),
		T(test_ip6_fragments_overlap_drop_packet),
		T(test_ip6_fragment_misaligned_param_problem),
		T(test_ip6_fragment_past_64k_param_problem),
		T(test_ip6_fragment_timeout_time_exceeded),
		T(test_ip6_reass_slots_bounded),
		T(test_ip6_first_fragment_tcp_header_cut_dropped),
		T(test_ip6_first_fragment_ext_header_cut_dropped),
		T(test_ip6_first_fragment_chain_ends_at_ext_header_dropped),
		T(test_ip6_first_fragment_whole_chain_held),
		T(test_ip6_later_fragment_without_chain_held),
		T(test_ip6_udp_over_ipv6),
		T(test_ip6_tcp_syn_for_no_listener_reset_over_ipv6),
		T(test_ip6_tcp_from_link_local_dropped),
		cmocka_unit_test_setup_teardown(test_ip6_off_is_bad_ethertype, tstack_setup_v4only,
						tstack_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
