/* test_ip4.c - IPv4 input validation (RFC 791, RFC 1122 3.2.1), dispatch, and ip4_output():
 * one test per rule, each drop counted exactly once, and hostile prefixes and corruptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checksum.h"
#include "frames.h"
#include "stack_internal.h"

#define OUR_MAC ((const uint8_t[6]){ 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 })
#define IPH (ETH_HDR_LEN) /* offset of the IPv4 header in a frame */

static uint8_t buf[FRAME_MAX];
static const uint8_t payload[] = "tapir tests the IPv4 layer";

/* Drops the IP layer and below may count; none may move for a valid datagram */
static const char *const lower_drops[] = {
	"drop_short_frame",	"drop_not_for_us",	"drop_bad_ethertype",  "drop_arp_malformed",
	"drop_ip_bad_version", "drop_ip_bad_ihl",	"drop_ip_bad_length",  "drop_ip_bad_checksum",
	"drop_ip_bad_source",  "drop_ip_fragment",	"drop_ip_bad_proto",
	"drop_ip_frag_malformed", "drop_ip_frag_too_big", "drop_ip_frag_overlap",
	"drop_ip_frag_duplicate", "drop_ip_frag_timeout", "drop_ip_frag_over_limit",
	"drop_ip_ttl_expired",	  "drop_ip_too_big",
};

/** echo() - a valid echo request to the gateway carrying @payload; returns its length */
static size_t echo(uint8_t *f)
{
	return fr_icmp_echo(f, OUR_MAC, T_GW, 0x1234, 7, payload, sizeof(payload), false);
}

/** fix_ip_csum() - recompute the IPv4 header checksum of @f after a test changed a field */
static void fix_ip_csum(uint8_t *f)
{
	uint8_t *h = f + IPH;
	size_t hl = (size_t)(h[0] & 0xf) * 4;

	wr16(h + 10, 0);
	wr16(h + 10, csum_fold(csum_partial(h, hl, 0)));
}

/** expect_echo_reply() - one echo reply for the echo() request was sent */
static void expect_echo_reply(const struct tstack *t)
{
	struct parsed p;

	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.icmp_body_len, sizeof(payload));
	assert_memory_equal(p.icmp_body, payload, sizeof(payload));
}

static void expect_silence(const struct tstack *t)
{
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(stack_counters(t->s)->tx_frames, t->before.tx_frames);
}

/** feed_dropped() - feed @f, expect exactly @drop and nothing sent */
static void feed_dropped(struct tstack *t, const uint8_t *f, size_t len, const char *drop)
{
	tstack_feed(t, f, len);
	tstack_expect_drop(t, drop);
	expect_silence(t);
}

/* --- what is accepted --------------------------------------------------------------------- */

static void test_ip_valid_echo_answered(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, echo(buf));
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

static void test_ip_ethernet_padding_ignored(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	memset(buf + n, 0xee, 64);
	tstack_feed(t, buf, n + 64);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t); /* the padding is not echoed back */
}

/* The shortest frame (14 + 20 + 8 = 42 bytes) padded to the 60-byte Ethernet minimum */
static void test_ip_minimum_frame_padding_ignored(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 2, NULL, 0, false);
	struct parsed p;

	assert_int_equal(n, 42);
	memset(buf + n, 0, 60 - n);
	tstack_feed(t, buf, 60);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.ip_len, 28);
}

static void test_ip_options_accepted(void **state)
{
	struct tstack *t = *state;
	uint8_t icmp[8 + sizeof(payload)];
	struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .opt_len = 40 };
	size_t n;

	icmp[0] = ICMP_ECHO_REQUEST;
	icmp[1] = 0;
	wr16(icmp + 2, 0);
	wr16(icmp + 4, 0x1234);
	wr16(icmp + 6, 7);
	memcpy(icmp + 8, payload, sizeof(payload));
	wr16(icmp + 2, csum_fold(csum_partial(icmp, sizeof(icmp), 0)));
	n = fr_ip4(buf, OUR_MAC, &ip, icmp, sizeof(icmp));
	assert_int_equal(buf[IPH] & 0xf, 15);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

/* RFC 1122 3.2.1.7: a host MUST NOT discard a datagram just because its TTL is below 2 */
static void test_ip_ttl_one_and_zero_accepted(void **state)
{
	struct tstack *t = *state;

	for (int ttl = 0; ttl <= 1; ttl++) {
		size_t n = echo(buf);

		buf[IPH + 8] = (uint8_t)ttl;
		fix_ip_csum(buf);
		tstack_feed(t, buf, n);
		tstack_expect_drop(t, NULL);
		expect_echo_reply(t);
	}
}

static void test_ip_dont_fragment_accepted(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	wr16(buf + IPH + 6, IP4_FLAG_DF);
	fix_ip_csum(buf);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t);
}

/* A valid TCP segment is TCP's business: no lower layer may count it */
static void test_ip_tcp_reaches_tcp_layer(void **state)
{
	struct tstack *t = *state;
	struct fr_tcp seg = { .sport = 40000, .dport = 80, .seq = 1, .flags = TCP_RST };
	size_t n = fr_tcp(buf, OUR_MAC, &seg, NULL, 0);

	tstack_feed(t, buf, n);
	for (size_t i = 0; i < sizeof(lower_drops) / sizeof(lower_drops[0]); i++)
		assert_int_equal(cnt_get(stack_counters(t->s), lower_drops[i]),
				 cnt_get(&t->before, lower_drops[i]));
}

/* --- header checks, outside in ------------------------------------------------------------- */

static void test_ip_short_header_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	assert_true(n > IPH + IP4_HDR_MIN);
	for (size_t len = IPH; len < IPH + IP4_HDR_MIN; len++) {
		uint8_t *f = malloc(len);

		memcpy(f, buf, len);
		feed_dropped(t, f, len, "drop_short_frame");
		free(f);
	}
}

static void test_ip_bad_version_dropped(void **state)
{
	static const uint8_t versions[] = { 0, 5, 6, 15 };
	struct tstack *t = *state;

	for (size_t i = 0; i < sizeof(versions); i++) {
		size_t n = echo(buf);

		buf[IPH] = (uint8_t)(versions[i] << 4 | 5);
		fix_ip_csum(buf);
		feed_dropped(t, buf, n, "drop_ip_bad_version");
	}
}

static void test_ip_bad_ihl_dropped(void **state)
{
	struct tstack *t = *state;

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		size_t n = echo(buf);

		buf[IPH] = (uint8_t)(0x40 | ihl);
		feed_dropped(t, buf, n, "drop_ip_bad_ihl");
	}
}

static void test_ip_ihl_longer_than_frame_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 2, NULL, 0, false); /* 28 IP bytes */

	buf[IPH] = 0x48; /* 32-byte header: 4 bytes more than the frame has */
	feed_dropped(t, buf, n, "drop_ip_bad_ihl");
}

static void test_ip_total_length_shorter_than_header_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	wr16(buf + IPH + 2, 19);
	fix_ip_csum(buf);
	feed_dropped(t, buf, n, "drop_ip_bad_length");
}

static void test_ip_total_length_longer_than_frame_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	wr16(buf + IPH + 2, (uint16_t)(n - IPH + 1));
	fix_ip_csum(buf);
	feed_dropped(t, buf, n, "drop_ip_bad_length");
	wr16(buf + IPH + 2, 0xffff);
	fix_ip_csum(buf);
	feed_dropped(t, buf, n, "drop_ip_bad_length");
}

static void test_ip_bad_checksum_dropped(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .bad_checksum = true };
	uint8_t icmp[8] = { ICMP_ECHO_REQUEST, 0, 0xf7, 0xff, 0, 0, 0, 0 };
	size_t n = fr_ip4(buf, OUR_MAC, &ip, icmp, sizeof(icmp));

	feed_dropped(t, buf, n, "drop_ip_bad_checksum");
}

/* Every single-bit error in the header is caught by the checksum (or an earlier check) */
static void test_ip_any_header_bit_flip_dropped(void **state)
{
	struct tstack *t = *state;

	for (size_t bit = 0; bit < IP4_HDR_MIN * 8; bit++) {
		size_t n = echo(buf);
		uint64_t drops;

		buf[IPH + bit / 8] ^= (uint8_t)(1 << (bit % 8));
		tstack_feed(t, buf, n);
		drops = cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before);
		assert_int_equal(drops, 1);
		expect_silence(t);
	}
}

/* --- addresses ------------------------------------------------------------------------------ */

/** feed_addrs() - echo with @saddr -> @daddr (header checksum fixed), expect @drop */
static void feed_addrs(struct tstack *t, uint32_t saddr, uint32_t daddr, const char *drop)
{
	size_t n = echo(buf);

	wr32(buf + IPH + 12, saddr);
	wr32(buf + IPH + 16, daddr);
	fix_ip_csum(buf);
	feed_dropped(t, buf, n, drop);
}

static void test_ip_bad_source_dropped(void **state)
{
	feed_addrs(*state, 0x0a000232u /* 10.0.2.50 */, T_GW, "drop_ip_bad_source");
	feed_addrs(*state, T_PEER, T_GW, "drop_ip_bad_source");
	feed_addrs(*state, T_GW, T_GW, "drop_ip_bad_source");
}

static void test_ip_zero_source_dropped(void **state)
{
	feed_addrs(*state, 0, T_GW, "drop_ip_bad_source");
}

static void test_ip_broadcast_source_dropped(void **state)
{
	feed_addrs(*state, 0xffffffffu, T_GW, "drop_ip_bad_source");
}

static void test_ip_limited_broadcast_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0xffffffffu, "drop_not_for_us");
}

static void test_ip_subnet_broadcast_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0x0a0002ffu, "drop_not_for_us");
	feed_addrs(*state, T_CADDR, 0x0a000200u, "drop_not_for_us"); /* RFC 1122 obsolete form */
}

static void test_ip_multicast_destination_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0xe00000fbu, "drop_not_for_us"); /* 224.0.0.251 */
	feed_addrs(*state, T_CADDR, 0xefffffffu, "drop_not_for_us");
}

static void test_ip_class_e_destination_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0xf0000001u, "drop_not_for_us");
}

static void test_ip_container_own_address_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, T_CADDR, "drop_not_for_us");
}

static void test_ip_loopback_destination_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0x7f000001u, "drop_not_for_us");
}

static void test_ip_zero_destination_not_for_us(void **state)
{
	feed_addrs(*state, T_CADDR, 0, "drop_not_for_us");
	feed_addrs(*state, T_CADDR, 0x00010203u, "drop_not_for_us");
}

/* Another subnet's .255 is someone's unicast address as far as we can tell */
static void test_ip_other_subnet_255_is_unicast(void **state)
{
	struct tstack *t = *state;

	assert_true(ip4_addr_unicast(t->s, 0x0a0003ffu));
	assert_true(ip4_addr_unicast(t->s, T_PEER));
	assert_true(ip4_addr_unicast(t->s, T_GW));
	assert_false(ip4_addr_unicast(t->s, 0x0a0002ffu));
}

/* --- fragments and protocols -------------------------------------------------------------- */

/* A fragment goes to reassembly (test_ip4_reass.c): held, nothing dropped, nothing sent */
static void test_ip_fragment_more_fragments_held(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	wr16(buf + IPH + 6, IP4_FLAG_MF);
	/* RFC 791: a fragment with MF carries a multiple of 8 data bytes */
	wr16(buf + IPH + 2, (uint16_t)(IP4_HDR_MIN + ((n - IPH - IP4_HDR_MIN) & ~(size_t)7)));
	fix_ip_csum(buf);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip4_reass_pending(t->s), 1);
}

static void test_ip_fragment_offset_held(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	wr16(buf + IPH + 6, 185); /* offset 1480 bytes, the last fragment */
	fix_ip_csum(buf);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip4_reass_pending(t->s), 1);
}

/* RFC 1122 3.2.2.1: an unsupported transport gets a Protocol Unreachable, from the address
 * the container sent to, quoting its datagram */
static void test_ip_unknown_proto_dropped_with_proto_unreachable(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = T_PEER, .proto = 47 /* GRE */ };
	size_t n = fr_ip4(buf, OUR_MAC, &ip, payload, sizeof(payload));
	struct parsed p;

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_bad_proto");
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_PROTO);
	assert_int_equal(p.saddr, T_PEER);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.icmp_body_len, n - IPH);
	assert_memory_equal(p.icmp_body, buf + IPH, n - IPH);
	assert_int_equal(stack_counters(t->s)->icmp_errors_sent, t->before.icmp_errors_sent + 1);
}

/* Only the first drop is counted: a suppressed error drops nothing more */
static void test_ip_unknown_proto_errors_rate_limited(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = T_PEER, .proto = 132 /* SCTP */ };
	size_t n = fr_ip4(buf, OUR_MAC, &ip, payload, sizeof(payload));
	uint64_t sent = 0, limited = 0;

	for (int i = 0; i < 200; i++) {
		tstack_feed(t, buf, n);
		tstack_expect_drop(t, "drop_ip_bad_proto");
		sent += t->cap.n;
	}
	limited = stack_counters(t->s)->icmp_errors_rate_limited;
	assert_true(sent > 0 && sent < 200);
	assert_int_equal(sent + limited, 200);
	assert_int_equal(stack_counters(t->s)->icmp_errors_sent, sent);
}

/* --- the first hop: time exceeded, fragmentation needed ----------------------------------- */

/** relayed_echo() - an echo request to T_PEER (a host the relay reaches) with @ttl, @frag
 * (flags and offset) and @len bytes of data */
static size_t relayed_echo(uint8_t *f, uint8_t ttl, uint16_t frag, size_t len)
{
	static uint8_t d[FRAME_MAX];
	size_t n;

	memset(d, 0x5a, len);
	n = fr_icmp_echo(f, OUR_MAC, T_PEER, 0x4242, 9, d, len, false);
	f[IPH + 8] = ttl;
	wr16(f + IPH + 6, frag);
	fix_ip_csum(f);
	return n;
}

/** expect_error() - one ICMP @type/@code from the gateway quoting the datagram in @f */
static void expect_error(const struct tstack *t, const uint8_t *f, size_t n, uint8_t type,
			 uint8_t code, struct parsed *p)
{
	size_t quote = n - IPH < 576 - IP4_HDR_MIN - ICMP_HDR_LEN ? n - IPH
								   : 576 - IP4_HDR_MIN - ICMP_HDR_LEN;

	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], p);
	assert_int_equal(p->proto, PROTO_ICMP);
	assert_int_equal(p->icmp_type, type);
	assert_int_equal(p->icmp_code, code);
	assert_int_equal(p->saddr, T_GW);
	assert_int_equal(p->daddr, T_CADDR);
	assert_int_equal(p->icmp_body_len, quote);
	assert_memory_equal(p->icmp_body, f + IPH, quote);
	assert_int_equal(stack_counters(t->s)->icmp_errors_sent, t->before.icmp_errors_sent + 1);
}

/* RFC 1812 5.3.1, RFC 792: TTL 1 or 0 for a host we relay to: Time Exceeded code 0 from the
 * gateway, and the datagram goes no further (traceroute's hop 1) */
static void test_ip_ttl_expired_to_relayed_host_answered(void **state)
{
	struct tstack *t = *state;
	struct parsed p;

	for (int ttl = 0; ttl <= 1; ttl++) {
		size_t n = relayed_echo(buf, (uint8_t)ttl, 0, 32);

		tstack_feed(t, buf, n);
		tstack_expect_drop(t, "drop_ip_ttl_expired");
		expect_error(t, buf, n, ICMP_TIME_EXCEEDED, 0, &p);
		assert_int_equal(stack_counters(t->s)->icmp_time_exceeded_sent,
				 t->before.icmp_time_exceeded_sent + 1);
		assert_int_equal(stack_counters(t->s)->icmp_echo_relayed, 0);
	}
}

/* TTL 2 passes this hop: the datagram goes on to the relay (which this stack lacks) */
static void test_ip_ttl_two_to_relayed_host_passes(void **state)
{
	struct tstack *t = *state;
	size_t n = relayed_echo(buf, 2, 0, 32);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_no_route");
	expect_silence(t);
}

/* UDP and TCP probes (traceroute -U, -T) are answered the same way */
static void test_ip_ttl_expired_udp_and_tcp_answered(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = T_PEER, .ttl = 1 };
	struct fr_tcp seg = { .sport = 40000, .dport = 80, .seq = 1, .flags = TCP_SYN,
			      .win = 65535 };
	struct parsed p;
	size_t n;

	n = fr_udp_ip(buf, OUR_MAC, &ip, 40000, 33434, payload, sizeof(payload), false);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_ttl_expired");
	expect_error(t, buf, n, ICMP_TIME_EXCEEDED, 0, &p);
	assert_int_equal(flow_count(stack_flows(t->s)), 0);

	t->now_us += 1000000; /* a fresh token */
	n = fr_tcp(buf, OUR_MAC, &seg, NULL, 0);
	buf[IPH + 8] = 1;
	fix_ip_csum(buf);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_ttl_expired");
	expect_error(t, buf, n, ICMP_TIME_EXCEEDED, 0, &p);
	assert_int_equal(flow_count(stack_flows(t->s)), 0);
}

/* RFC 1122 3.2.2: never an error about an ICMP error */
static void test_ip_ttl_expired_icmp_error_silent(void **state)
{
	struct tstack *t = *state;
	uint8_t m[ICMP_HDR_LEN + IP4_HDR_MIN + 8] = { ICMP_DEST_UNREACH, ICMP_UNREACH_PORT };
	struct fr_ip ip = { .daddr = T_PEER, .proto = PROTO_ICMP, .ttl = 1 };
	size_t n;

	wr16(m + 2, csum_fold(csum_partial(m, sizeof(m), 0)));
	n = fr_ip4(buf, OUR_MAC, &ip, m, sizeof(m));
	feed_dropped(t, buf, n, "drop_ip_ttl_expired");
}

/* Only the first fragment is answered (RFC 1812 4.3.2.7); the others are dropped quietly */
static void test_ip_ttl_expired_non_initial_fragment_silent(void **state)
{
	struct tstack *t = *state;
	size_t n = relayed_echo(buf, 1, 8, 32); /* offset 64 bytes */

	feed_dropped(t, buf, n, "drop_ip_ttl_expired");
}

/* Multicast and broadcast are never relayed, so never "expire" here: not for us, silent */
static void test_ip_ttl_one_multicast_not_answered(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = 0xe00000fbu /* 224.0.0.251, mDNS */, .ttl = 1 };
	size_t n = fr_udp_ip(buf, OUR_MAC, &ip, 5353, 5353, payload, sizeof(payload), false);

	feed_dropped(t, buf, n, "drop_not_for_us");
	ip.daddr = 0x0a0002ffu; /* the subnet's broadcast */
	n = fr_udp_ip(buf, OUR_MAC, &ip, 5353, 5353, payload, sizeof(payload), false);
	feed_dropped(t, buf, n, "drop_not_for_us");
}

/* RFC 1812 4.3.2.8: rate limited like every error; each datagram still dropped once */
static void test_ip_ttl_expired_rate_limited(void **state)
{
	struct tstack *t = *state;
	uint64_t sent = 0;

	for (int i = 0; i < 200; i++) {
		size_t n = relayed_echo(buf, 1, 0, 8);

		tstack_feed(t, buf, n);
		tstack_expect_drop(t, "drop_ip_ttl_expired");
		sent += t->cap.n;
	}
	assert_true(sent > 0 && sent < 200);
	assert_int_equal(sent + stack_counters(t->s)->icmp_errors_rate_limited, 200);
	assert_int_equal(stack_counters(t->s)->icmp_time_exceeded_sent, sent);
}

/** small_mtu() - the stack of @t at MTU 1280 (as the TAP's MTU, followed) */
static void small_mtu(struct tstack *t)
{
	assert_int_equal(stack_set_mtu(t->s, 1280), 1280);
}

/* RFC 1191 4: DF set and larger than the link's MTU (no GSO header): fragmentation needed,
 * carrying the MTU, from the gateway; not relayed */
static void test_ip_df_over_mtu_answered_frag_needed(void **state)
{
	struct tstack *t = *state;
	size_t n;
	struct parsed p;

	small_mtu(t);
	n = relayed_echo(buf, 64, IP4_FLAG_DF, 1281 - IP4_HDR_MIN - ICMP_HDR_LEN);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_too_big");
	expect_error(t, buf, n, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, &p);
	assert_int_equal(rd16(p.payload + 4), 0);
	assert_int_equal(rd16(p.payload + 6), 1280);
	assert_int_equal(stack_counters(t->s)->icmp_too_big_sent, 1);
}

/* At the MTU exactly it fits; without DF a hop may fragment, so it is taken */
static void test_ip_at_mtu_or_without_df_passes(void **state)
{
	struct tstack *t = *state;
	size_t n;

	small_mtu(t);
	n = relayed_echo(buf, 64, IP4_FLAG_DF, 1280 - IP4_HDR_MIN - ICMP_HDR_LEN);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_no_route");
	n = relayed_echo(buf, 64, 0, 2000);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_no_route");
	expect_silence(t);
}

/* The gateway is the datagram's destination, not forwarded: nothing of a router applies */
static void test_ip_ttl_one_to_gateway_answered(void **state)
{
	struct tstack *t = *state;
	size_t n;

	small_mtu(t);
	n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, NULL, 0, false);
	buf[IPH + 8] = 1;
	fix_ip_csum(buf);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(stack_counters(t->s)->drop_ip_ttl_expired, 0);
}

/* --- ip4_output ------------------------------------------------------------------------------ */

/** learn() - teach the stack the container's MAC with an ARP request */
static void learn(struct tstack *t)
{
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, (const uint8_t[6]){ 0 }, T_GW);

	tstack_feed(t, buf, n);
	cap_reset(&t->cap);
}

/** put_udp() - a UDP datagram with a valid checksum at stack_tx_l4(); returns its length */
static size_t put_udp(struct stack *s, uint32_t saddr, size_t plen)
{
	uint8_t *u = stack_tx_l4(s);
	size_t len = UDP_HDR_LEN + plen;

	wr16(u, 53);
	wr16(u + 2, 40000);
	wr16(u + 4, (uint16_t)len);
	wr16(u + 6, 0);
	for (size_t i = 0; i < plen; i++)
		u[UDP_HDR_LEN + i] = (uint8_t)(i * 7);
	wr16(u + 6, csum_fold(csum_partial(u, len, csum_pseudo4(saddr, T_CADDR, PROTO_UDP,
								   (uint16_t)len))));
	return len;
}

static void test_ip_output_builds_headers(void **state)
{
	struct tstack *t = *state;
	struct stack_counters before;
	const uint8_t *f;
	struct parsed p;
	size_t l4;

	learn(t);
	before = *stack_counters(t->s);
	l4 = put_udp(t->s, T_DNS, 100);
	ip4_output(t->s, T_DNS, T_CADDR, PROTO_UDP, l4);
	assert_int_equal(t->cap.n, 1);
	f = t->cap.frame[0];
	assert_int_equal(t->cap.len[0], ETH_HDR_LEN + IP4_HDR_MIN + l4);
	fr_parse(f, t->cap.len[0], &p); /* both checksums verified */
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_memory_equal(p.src, OUR_MAC, 6);
	assert_int_equal(p.ethertype, ETHERTYPE_IPV4);
	assert_int_equal(f[IPH], 0x45);
	assert_int_equal(f[IPH + 1], 0);
	assert_int_equal(p.ip_len, IP4_HDR_MIN + l4);
	assert_int_equal(p.frag, IP4_FLAG_DF);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.saddr, T_DNS);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.payload_len, 100);
	assert_int_equal(stack_counters(t->s)->tx_frames, before.tx_frames + 1);
	assert_int_equal(stack_counters(t->s)->tx_bytes, before.tx_bytes + t->cap.len[0]);
	cnt_expect_drop(&before, stack_counters(t->s), NULL);
}

static void test_ip_output_ids_increment(void **state)
{
	struct tstack *t = *state;
	uint16_t first;

	learn(t);
	for (int i = 0; i < 3; i++)
		ip4_output(t->s, T_GW, T_CADDR, PROTO_UDP, put_udp(t->s, T_GW, 1));
	assert_int_equal(t->cap.n, 3);
	first = rd16(t->cap.frame[0] + IPH + 4);
	assert_int_equal(rd16(t->cap.frame[1] + IPH + 4), (uint16_t)(first + 1));
	assert_int_equal(rd16(t->cap.frame[2] + IPH + 4), (uint16_t)(first + 2));
}

static void test_ip_output_unknown_mac_sends_arp_and_drops(void **state)
{
	struct tstack *t = *state;
	struct stack_counters before = *stack_counters(t->s);
	const uint8_t *a;

	cap_reset(&t->cap);
	ip4_output(t->s, T_GW, T_CADDR, PROTO_UDP, put_udp(t->s, T_GW, 10));
	cnt_expect_drop(&before, stack_counters(t->s), "drop_not_for_us");
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(rd16(t->cap.frame[0] + 12), ETHERTYPE_ARP);
	a = t->cap.frame[0] + ETH_HDR_LEN;
	assert_int_equal(rd16(a + 6), ARP_OP_REQUEST);
	assert_int_equal(rd32(a + 24), T_CADDR);
	assert_int_equal(stack_counters(t->s)->tx_frames, before.tx_frames + 1);
}

/* A bug guard: nothing larger than the MTU leaves, the largest that fits does */
static void test_ip_output_refuses_more_than_mtu(void **state)
{
	struct tstack *t = *state;
	size_t max = stack_l4_max(t->s);
	struct parsed p;

	learn(t);
	assert_int_equal(max, STACK_DEFAULT_MTU - IP4_HDR_MIN);
	ip4_output(t->s, T_GW, T_CADDR, PROTO_UDP, put_udp(t->s, T_GW, max - UDP_HDR_LEN + 1));
	assert_int_equal(t->cap.n, 0);
	ip4_output(t->s, T_GW, T_CADDR, PROTO_UDP, put_udp(t->s, T_GW, max - UDP_HDR_LEN));
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(t->cap.len[0], ETH_HDR_LEN + STACK_DEFAULT_MTU);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.ip_len, STACK_DEFAULT_MTU);
}

/* --- hostile input ----------------------------------------------------------------------- */

/* Every proper prefix of a valid datagram is dropped once, silently, without overreads */
static void test_ip_truncation_never_sends(void **state)
{
	struct tstack *t = *state;
	size_t n = echo(buf);

	for (size_t len = 0; len < n; len++) {
		uint8_t *f = malloc(len ? len : 1);

		memcpy(f, buf, len);
		tstack_feed(t, f, len);
		assert_int_equal(cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before), 1);
		expect_silence(t);
		free(f);
	}
}

static uint32_t rnd_state = 0x9e3779b9;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * 50000 echo requests with 1..4 random bytes of the IPv4 header changed, half of them with
 * the header checksum fixed up so that the checks behind it are reached: at most one drop
 * each, and whatever goes out is well formed. Datagrams turned into TCP or UDP are skipped:
 * those layers are tested on their own, and this stack has no hooks for them.
 */
static void test_ip_random_header_corruption(void **state)
{
	struct tstack *t = *state;

	for (int i = 0; i < 50000; i++) {
		size_t n = echo(buf), hl;
		int k = 1 + (int)(rnd() % 4);

		while (k--)
			buf[IPH + rnd() % IP4_HDR_MIN] = (uint8_t)rnd();
		hl = (size_t)(buf[IPH] & 0xf) * 4;
		if (rnd() % 2 && hl >= IP4_HDR_MIN && IPH + hl <= n)
			fix_ip_csum(buf);
		if (buf[IPH + 9] == PROTO_TCP || buf[IPH + 9] == PROTO_UDP)
			continue;
		tstack_feed(t, buf, n);
		assert_true(cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before) <= 1);
		assert_true(t->cap.n <= 1);
		for (size_t j = 0; j < t->cap.n; j++) {
			struct parsed p;

			if (rd16(t->cap.frame[j] + 12) == ETHERTYPE_ARP)
				continue;
			fr_parse(t->cap.frame[j], t->cap.len[j], &p);
			assert_int_equal(p.proto, PROTO_ICMP);
			assert_int_equal(p.daddr, T_CADDR);
		}
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ip_valid_echo_answered),
		T(test_ip_ethernet_padding_ignored),
		T(test_ip_minimum_frame_padding_ignored),
		T(test_ip_options_accepted),
		T(test_ip_ttl_one_and_zero_accepted),
		T(test_ip_dont_fragment_accepted),
		T(test_ip_tcp_reaches_tcp_layer),
		T(test_ip_short_header_dropped),
		T(test_ip_bad_version_dropped),
		T(test_ip_bad_ihl_dropped),
		T(test_ip_ihl_longer_than_frame_dropped),
		T(test_ip_total_length_shorter_than_header_dropped),
		T(test_ip_total_length_longer_than_frame_dropped),
		T(test_ip_bad_checksum_dropped),
		T(test_ip_any_header_bit_flip_dropped),
		T(test_ip_bad_source_dropped),
		T(test_ip_zero_source_dropped),
		T(test_ip_broadcast_source_dropped),
		T(test_ip_limited_broadcast_not_for_us),
		T(test_ip_subnet_broadcast_not_for_us),
		T(test_ip_multicast_destination_not_for_us),
		T(test_ip_class_e_destination_not_for_us),
		T(test_ip_container_own_address_not_for_us),
		T(test_ip_loopback_destination_not_for_us),
		T(test_ip_zero_destination_not_for_us),
		T(test_ip_other_subnet_255_is_unicast),
		T(test_ip_fragment_more_fragments_held),
		T(test_ip_fragment_offset_held),
		T(test_ip_unknown_proto_dropped_with_proto_unreachable),
		T(test_ip_unknown_proto_errors_rate_limited),
		T(test_ip_output_builds_headers),
		T(test_ip_output_ids_increment),
		T(test_ip_output_unknown_mac_sends_arp_and_drops),
		T(test_ip_ttl_expired_to_relayed_host_answered),
		T(test_ip_ttl_two_to_relayed_host_passes),
		T(test_ip_ttl_expired_udp_and_tcp_answered),
		T(test_ip_ttl_expired_icmp_error_silent),
		T(test_ip_ttl_expired_non_initial_fragment_silent),
		T(test_ip_ttl_one_multicast_not_answered),
		T(test_ip_ttl_expired_rate_limited),
		T(test_ip_df_over_mtu_answered_frag_needed),
		T(test_ip_at_mtu_or_without_df_passes),
		T(test_ip_ttl_one_to_gateway_answered),
		T(test_ip_output_refuses_more_than_mtu),
		T(test_ip_truncation_never_sends),
		T(test_ip_random_header_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
