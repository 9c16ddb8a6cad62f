/* test_icmp.c - ICMP (RFC 792, RFC 1122 3.2.2): echo replies for the gateway and DNS, what is
 * ignored and how it is counted, and icmp_send_error(): the quote, the RFC 1122 3.2.2 "never
 * in response to" rules and the rate limit (RFC 1812 4.3.2.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checksum.h"
#include "frames.h"
#include "icmp.h"
#include "stack_internal.h"

#define OUR_MAC ((const uint8_t[6]){ 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 })
#define BCAST ((const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })
#define IPH (ETH_HDR_LEN)
#define L4 (ETH_HDR_LEN + IP4_HDR_MIN)

static uint8_t buf[FRAME_MAX];
static uint8_t data[FRAME_MAX];

/** pattern() - @len bytes that differ at every offset that matters */
static const uint8_t *pattern(size_t len)
{
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	return data;
}

/** expect_echo_reply() - exactly one reply from @from with @ident, @seq and @len bytes of data */
static void expect_echo_reply(const struct tstack *t, uint32_t from, uint16_t ident, uint16_t seq,
			      const uint8_t *d, size_t len)
{
	struct parsed p;

	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p); /* checksums verified */
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_memory_equal(p.src, OUR_MAC, 6);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.saddr, from);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(rd16(p.payload + 4), ident);
	assert_int_equal(rd16(p.payload + 6), seq);
	assert_int_equal(p.icmp_body_len, len);
	if (len)
		assert_memory_equal(p.icmp_body, d, len);
	assert_int_equal(stack_counters(t->s)->icmp_echo_replies, t->before.icmp_echo_replies + 1);
}

static void expect_silence(const struct tstack *t)
{
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(stack_counters(t->s)->tx_frames, t->before.tx_frames);
}

/** icmp_frame() - an ICMP message of @type/@code with @len body bytes to @daddr, valid sums */
static size_t icmp_frame(uint8_t *f, uint32_t daddr, uint8_t type, uint8_t code, size_t len)
{
	uint8_t *m = malloc(ICMP_HDR_LEN + len);
	struct fr_ip ip = { .daddr = daddr, .proto = PROTO_ICMP };
	size_t n;

	m[0] = type;
	m[1] = code;
	wr16(m + 2, 0);
	wr32(m + 4, 0x01020304);
	memcpy(m + ICMP_HDR_LEN, pattern(len), len);
	wr16(m + 2, csum_fold(csum_partial(m, ICMP_HDR_LEN + len, 0)));
	n = fr_ip4(f, OUR_MAC, &ip, m, ICMP_HDR_LEN + len);
	free(m);
	return n;
}

/* --- echo ------------------------------------------------------------------------------- */

static void test_icmp_echo_reply_for_gateway(void **state)
{
	struct tstack *t = *state;
	const uint8_t *d = pattern(56);
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 0xbeef, 1, d, 56, false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t, T_GW, 0xbeef, 1, d, 56);
}

static void test_icmp_echo_reply_for_dns(void **state)
{
	struct tstack *t = *state;
	const uint8_t *d = pattern(56);
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_DNS, 7, 65535, d, 56, false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t, T_DNS, 7, 65535, d, 56);
}

static void test_icmp_echo_reply_no_data(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 2, NULL, 0, false);

	tstack_feed(t, buf, n);
	expect_echo_reply(t, T_GW, 1, 2, NULL, 0);
}

static void test_icmp_echo_reply_odd_length(void **state)
{
	struct tstack *t = *state;
	const uint8_t *d = pattern(1001);
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 3, 4, d, 1001, false);

	tstack_feed(t, buf, n);
	expect_echo_reply(t, T_GW, 3, 4, d, 1001);
}

/* The largest echo the MTU allows: 65520 - 20 - 8 bytes of data, returned intact */
static void test_icmp_echo_reply_same_payload_large(void **state)
{
	struct tstack *t = *state;
	size_t len = STACK_DEFAULT_MTU - IP4_HDR_MIN - ICMP_HDR_LEN;
	const uint8_t *d = pattern(len);
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 0x4242, 9, d, len, false);

	assert_int_equal(n, ETH_HDR_LEN + STACK_DEFAULT_MTU);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t, T_GW, 0x4242, 9, d, len);
}

/* RFC 1122 3.2.2.6: the data comes back whole; an echo larger than the MTU (reassembled, or
 * from a container with a larger MTU than the link's) is answered in fragments */
static void test_icmp_echo_larger_than_mtu_fragmented(void **state)
{
	struct stack_ops ops = { .tx = cap_tx };
	struct tstack t = { 0 };
	struct stack_cfg cfg;
	size_t n;

	(void)state;
	stack_cfg_defaults(&cfg);
	cfg.mtu = 1500;
	t.s = stack_new(&cfg, &ops, &t.cap);
	assert_non_null(t.s);
	n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, pattern(1473), 1473, false);
	tstack_feed(&t, buf, n);
	tstack_expect_drop(&t, NULL);
	/* 1481 bytes of ICMP: 1480 in the first fragment, 1 in the second */
	assert_int_equal(t.cap.n, 2);
	assert_int_equal(rd16(t.cap.frame[0] + IPH + 6), IP4_FLAG_MF);
	assert_int_equal(rd16(t.cap.frame[0] + IPH + 2), 1500);
	assert_int_equal(rd16(t.cap.frame[1] + IPH + 6), 1480 / 8);
	assert_int_equal(rd16(t.cap.frame[1] + IPH + 2), IP4_HDR_MIN + 1);
	assert_int_equal(t.cap.frame[0][L4], ICMP_ECHO_REPLY);
	assert_memory_equal(t.cap.frame[0] + L4 + ICMP_HDR_LEN, data, 1472);
	assert_int_equal(t.cap.frame[1][L4], data[1472]);
	cap_reset(&t.cap);
	n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, pattern(1472), 1472, false);
	tstack_feed(&t, buf, n);
	tstack_expect_drop(&t, NULL);
	expect_echo_reply(&t, T_GW, 1, 1, data, 1472);
	cap_reset(&t.cap);
	stack_free(t.s);
}

/* RFC 792 leaves the code of an echo request at 0; a nonzero one is answered with 0 */
static void test_icmp_echo_nonzero_code_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = icmp_frame(buf, T_GW, ICMP_ECHO_REQUEST, 5, 16);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_echo_reply(t, T_GW, 0x0102, 0x0304, pattern(16), 16);
}

/* Linux does not rate-limit echo replies (icmp_ratemask): neither do we, ping -f must work */
static void test_icmp_echo_replies_not_rate_limited(void **state)
{
	struct tstack *t = *state;

	for (int i = 0; i < 1000; i++) {
		size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, (uint16_t)i, NULL, 0, false);

		tstack_feed(t, buf, n);
		tstack_expect_drop(t, NULL);
		assert_int_equal(t->cap.n, 1);
	}
	assert_int_equal(stack_counters(t->s)->icmp_echo_replies, 1000);
}

/* Without a relay in the ops (stack_ops.icmp_echo NULL): not answered, counted */
static void test_icmp_echo_to_other_address_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 1, 1, NULL, 0, false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_no_route");
	expect_silence(t);
}

/* --- echo to other hosts, relayed by the shell (stack_ops.icmp_echo, icmp_echo_reply) ------- */

/**
 * struct echo_call - what the last stack_ops.icmp_echo call was given, and what it returns
 */
static struct echo_call {
	int calls;
	void *ctx;
	uint32_t daddr;
	uint16_t id, seq;
	uint8_t data[2048];
	size_t len;
	int rc;
} ec;

/** echo_hook() - a stack_ops.icmp_echo that records its arguments */
static int echo_hook(void *ctx, uint32_t daddr, uint16_t id, uint16_t seq, const uint8_t *d,
		     size_t len)
{
	ec.calls++;
	ec.ctx = ctx;
	ec.daddr = daddr;
	ec.id = id;
	ec.seq = seq;
	ec.len = len;
	assert_true(len <= sizeof(ec.data));
	if (len)
		memcpy(ec.data, d, len);
	return ec.rc;
}

/** relay_stack() - a stack at @mtu with echo_hook installed, its output captured in @t */
static void relay_stack(struct tstack *t, uint32_t mtu)
{
	struct stack_ops ops = { .tx = cap_tx, .icmp_echo = echo_hook };
	struct stack_cfg cfg;

	memset(t, 0, sizeof(*t));
	memset(&ec, 0, sizeof(ec));
	stack_cfg_defaults(&cfg);
	cfg.mtu = mtu;
	t->s = stack_new(&cfg, &ops, &t->cap);
	assert_non_null(t->s);
	t->now_us = 1000000;
}

static void relay_stack_free(struct tstack *t)
{
	cap_reset(&t->cap);
	stack_free(t->s);
}

/* RFC 792: the request goes out with the container's identifier, sequence number and data */
static void test_icmp_echo_to_other_address_relayed(void **state)
{
	struct tstack t;
	const uint8_t *d = pattern(56);
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 0x1234, 77, d, 56, false);
	tstack_feed(&t, buf, n);
	tstack_expect_drop(&t, NULL);
	expect_silence(&t);
	assert_int_equal(ec.calls, 1);
	assert_ptr_equal(ec.ctx, &t.cap);
	assert_int_equal(ec.daddr, T_PEER);
	assert_int_equal(ec.id, 0x1234);
	assert_int_equal(ec.seq, 77);
	assert_int_equal(ec.len, 56);
	assert_memory_equal(ec.data, d, 56);
	assert_int_equal(stack_counters(t.s)->icmp_echo_relayed, 1);
	relay_stack_free(&t);
}

/* The gateway and DNS addresses are answered by the stack, never relayed */
static void test_icmp_echo_to_gateway_not_relayed(void **state)
{
	struct tstack t;
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, pattern(8), 8, false);
	tstack_feed(&t, buf, n);
	expect_echo_reply(&t, T_GW, 1, 1, data, 8);
	n = fr_icmp_echo(buf, OUR_MAC, T_DNS, 1, 2, NULL, 0, false);
	tstack_feed(&t, buf, n);
	expect_echo_reply(&t, T_DNS, 1, 2, NULL, 0);
	assert_int_equal(ec.calls, 0);
	relay_stack_free(&t);
}

/* The host would not send it (ping sockets not permitted, no route): lost, counted once */
static void test_icmp_echo_relay_refused_counted(void **state)
{
	struct tstack t;
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	ec.rc = -13; /* EACCES */
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 5, 6, NULL, 0, false);
	tstack_feed(&t, buf, n);
	tstack_expect_drop(&t, "drop_icmp_echo_failed");
	expect_silence(&t);
	assert_int_equal(ec.calls, 1);
	assert_int_equal(stack_counters(t.s)->icmp_echo_relayed, 0);
	relay_stack_free(&t);
}

/* A bad checksum is dropped before the shell hears of it */
static void test_icmp_echo_relay_bad_checksum_not_relayed(void **state)
{
	struct tstack t;
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 5, 6, pattern(10), 10, true);
	tstack_feed(&t, buf, n);
	tstack_expect_drop(&t, "drop_icmp_bad_checksum");
	assert_int_equal(ec.calls, 0);
	relay_stack_free(&t);
}

/* RFC 792: the reply from the pinged host, with the container's identifier, the sequence
 * number and the data, checksums right (fr_parse verifies both) */
static void test_icmp_echo_reply_relayed_to_container(void **state)
{
	struct tstack t;
	const uint8_t *d;
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 0x1234, 77, pattern(56), 56, false);
	tstack_feed(&t, buf, n); /* teaches the stack the container's MAC */
	cap_reset(&t.cap);
	t.before = *stack_counters(t.s);
	d = pattern(57);
	icmp_echo_reply(t.s, T_PEER, 0x1234, 77, d, 57, t.now_us);
	assert_int_equal(t.cap.n, 1);
	{
		struct parsed p;

		fr_parse(t.cap.frame[0], t.cap.len[0], &p);
		assert_memory_equal(p.dst, T_CMAC, 6);
		assert_int_equal(p.saddr, T_PEER);
		assert_int_equal(p.daddr, T_CADDR);
		assert_int_equal(p.icmp_type, ICMP_ECHO_REPLY);
		assert_int_equal(p.icmp_code, 0);
		assert_int_equal(rd16(p.payload + 4), 0x1234);
		assert_int_equal(rd16(p.payload + 6), 77);
		assert_int_equal(p.icmp_body_len, 57);
		assert_memory_equal(p.icmp_body, d, 57);
	}
	cnt_expect_drop(&t.before, stack_counters(t.s), NULL);
	assert_int_equal(stack_counters(t.s)->icmp_echo_relayed_replies, 1);
	relay_stack_free(&t);
}

/* A reply larger than the MTU goes back as RFC 791 fragments, whole once reassembled */
static void test_icmp_echo_reply_relayed_fragmented(void **state)
{
	static uint8_t msg[ICMP_HDR_LEN + 4000];
	struct tstack t;
	size_t got = 0;
	size_t n;

	(void)state;
	relay_stack(&t, 1500);
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 9, 10, NULL, 0, false);
	tstack_feed(&t, buf, n);
	cap_reset(&t.cap);
	icmp_echo_reply(t.s, T_PEER, 9, 10, pattern(4000), 4000, t.now_us);
	assert_int_equal(t.cap.n, 3); /* 4008 = 1480 + 1480 + 1048 */
	for (size_t i = 0; i < t.cap.n; i++) {
		const uint8_t *h = t.cap.frame[i] + ETH_HDR_LEN;
		size_t tl = rd16(h + 2), off = (size_t)(rd16(h + 6) & IP4_FRAG_OFF_MASK) * 8;

		assert_true(t.cap.len[i] <= ETH_HDR_LEN + 1500);
		assert_true(csum_ok(h, IP4_HDR_MIN, 0));
		assert_int_equal(h[9], PROTO_ICMP);
		assert_int_equal(rd32(h + 12), T_PEER);
		assert_int_equal(off, got);
		assert_int_equal(!!(rd16(h + 6) & IP4_FLAG_MF), i < 2);
		assert_true(off + tl - IP4_HDR_MIN <= sizeof(msg));
		memcpy(msg + off, h + IP4_HDR_MIN, tl - IP4_HDR_MIN);
		got += tl - IP4_HDR_MIN;
	}
	assert_int_equal(got, sizeof(msg));
	assert_true(csum_ok(msg, sizeof(msg), 0));
	assert_int_equal(msg[0], ICMP_ECHO_REPLY);
	assert_int_equal(rd16(msg + 4), 9);
	assert_int_equal(rd16(msg + 6), 10);
	assert_memory_equal(msg + ICMP_HDR_LEN, data, 4000);
	relay_stack_free(&t);
}

/* The shell cannot make the stack speak for the gateway, DNS, the container, loopback or a
 * group address, nor send more than IPv4 holds */
static void test_icmp_echo_reply_bad_source_ignored(void **state)
{
	static const uint32_t bad[] = { T_GW, T_DNS, T_CADDR, 0x7f000001u, 0xe0000001u, 0,
					0xffffffffu, 0x0a0002ffu };
	struct tstack t;
	size_t n;

	(void)state;
	relay_stack(&t, STACK_DEFAULT_MTU);
	n = fr_icmp_echo(buf, OUR_MAC, T_PEER, 9, 10, NULL, 0, false);
	tstack_feed(&t, buf, n);
	cap_reset(&t.cap);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		icmp_echo_reply(t.s, bad[i], 9, 10, pattern(8), 8, t.now_us);
	icmp_echo_reply(t.s, T_PEER, 9, 10, pattern(65508), 65508, t.now_us);
	assert_int_equal(t.cap.n, 0);
	assert_int_equal(stack_counters(t.s)->icmp_echo_relayed_replies, 0);
	relay_stack_free(&t);
}

/* --- what is not answered ----------------------------------------------------------------- */

static void test_icmp_short_message_dropped(void **state)
{
	struct tstack *t = *state;

	for (size_t len = 0; len < ICMP_HDR_LEN; len++) {
		struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP };
		uint8_t m[ICMP_HDR_LEN] = { ICMP_ECHO_REQUEST };
		size_t n = fr_ip4(buf, OUR_MAC, &ip, m, len);

		tstack_feed(t, buf, n);
		tstack_expect_drop(t, "drop_icmp_malformed");
		expect_silence(t);
	}
}

static void test_icmp_bad_checksum_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, pattern(32), 32, true);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_bad_checksum");
	expect_silence(t);
}

/* The checksum covers the data, not just the header */
static void test_icmp_corrupt_data_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, pattern(32), 32, false);

	buf[n - 1] ^= 0x10;
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_bad_checksum");
	expect_silence(t);
}

/** expect_type_ignored() - a valid message of @type to the gateway: drop_icmp_malformed */
static void expect_type_ignored(struct tstack *t, uint8_t type)
{
	size_t n = icmp_frame(buf, T_GW, type, 0, 28);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_icmp_malformed");
	expect_silence(t);
}

static void test_icmp_echo_reply_from_container_ignored(void **state)
{
	expect_type_ignored(*state, ICMP_ECHO_REPLY);
}

static void test_icmp_error_from_container_ignored(void **state)
{
	expect_type_ignored(*state, ICMP_DEST_UNREACH);
	expect_type_ignored(*state, ICMP_TIME_EXCEEDED);
}

static void test_icmp_timestamp_request_ignored(void **state)
{
	expect_type_ignored(*state, 13);
}

/* RFC 1122 3.2.2: an ICMP message of unknown type MUST be silently discarded */
static void test_icmp_unknown_type_ignored(void **state)
{
	expect_type_ignored(*state, 200);
}

/* --- icmp_send_error ------------------------------------------------------------------------- */

/** pkt_of() - describe the IPv4 frame @f of @len bytes as ip4_input would, arriving at @now */
static struct pkt pkt_of(const uint8_t *f, size_t len, uint64_t now)
{
	const uint8_t *h = f + IPH;
	struct pkt p = {
		.frame = f, .frame_len = len, .ip = h, .ip_len = rd16(h + 2),
		.ihl = (size_t)(h[0] & 0xf) * 4, .proto = h[9], .ttl = h[8], .tos = h[1],
		.saddr = rd32(h + 12), .daddr = rd32(h + 16), .now_us = now,
	};

	p.l4 = h + p.ihl;
	p.l4_len = p.ip_len - p.ihl;
	return p;
}

/** learn() - teach the stack the container's MAC */
static void learn(struct tstack *t)
{
	uint8_t f[64];
	size_t n = fr_arp(f, ARP_OP_REQUEST, T_CMAC, T_CADDR, (const uint8_t[6]){ 0 }, T_GW);

	tstack_feed(t, f, n);
	cap_reset(&t->cap);
	t->before = *stack_counters(t->s);
}

/** tcp_syn() - a SYN from the container to T_PEER:443 with @len bytes of data */
static size_t tcp_syn(uint8_t *f, size_t len)
{
	struct fr_tcp seg = { .sport = 40000, .dport = 443, .seq = 1000, .flags = TCP_SYN,
			      .win = 65535, .mss = 1460 };

	return fr_tcp(f, OUR_MAC, &seg, pattern(len), len);
}

static void test_icmp_error_quotes_header(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);
	struct parsed p;

	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_HOST);
	assert_int_equal(rd32(p.payload + 4), 0); /* unused word */
	assert_int_equal(p.saddr, T_PEER);
	assert_int_equal(p.daddr, T_CADDR);
	/* the original header and its first 8 bytes of payload (ports, sequence number), and
	 * here the rest of the small datagram too */
	assert_int_equal(p.icmp_body_len, orig.ip_len);
	assert_memory_equal(p.icmp_body, buf + IPH, orig.ip_len);
	assert_int_equal(stack_counters(t->s)->icmp_errors_sent, t->before.icmp_errors_sent + 1);
	cnt_expect_drop(&t->before, stack_counters(t->s), NULL);
}

/* RFC 1812 4.3.2.3: as much as fits in 576 bytes */
static void test_icmp_error_quote_limited_to_576(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 1400);
	struct pkt orig = pkt_of(buf, n, t->now_us);
	struct parsed p;

	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_NET, T_PEER);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.ip_len, 576);
	assert_int_equal(p.icmp_body_len, 576 - IP4_HDR_MIN - ICMP_HDR_LEN);
	assert_memory_equal(p.icmp_body, buf + IPH, p.icmp_body_len);
}

/* The quote is of the datagram, never of Ethernet padding behind it */
static void test_icmp_error_quote_excludes_padding(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig;
	struct parsed p;

	memset(buf + n, 0xee, 30);
	orig = pkt_of(buf, n + 30, t->now_us);
	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_PEER);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_body_len, n - IPH);
}

/* RFC 1191 4: "fragmentation needed" tells the next-hop MTU */
static void test_icmp_needfrag_carries_mtu(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);
	struct parsed p;

	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, T_PEER);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(rd16(p.payload + 4), 0);
	assert_int_equal(rd16(p.payload + 6), STACK_DEFAULT_MTU);
}

/* RFC 1191 3, 4: "fragmentation needed" only about a datagram with DF set, carrying the MTU
 * asked for, at least 68 (RFC 791) and at most what 16 bits hold */
static void test_icmp_frag_needed_only_with_df(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig;
	struct parsed p;

	learn(t);
	wr16(buf + IPH + 6, 0);
	orig = pkt_of(buf, n, t->now_us);
	assert_false(icmp_send_frag_needed(t->s, &orig, 1280, T_GW));
	assert_int_equal(t->cap.n, 0);
	wr16(buf + IPH + 6, IP4_FLAG_DF);
	orig = pkt_of(buf, n, t->now_us);
	assert_true(icmp_send_frag_needed(t->s, &orig, 1280, T_GW));
	assert_true(icmp_send_frag_needed(t->s, &orig, 20, T_GW));
	assert_true(icmp_send_frag_needed(t->s, &orig, 70000, T_GW));
	assert_int_equal(t->cap.n, 3);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_NEEDFRAG);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(rd16(p.payload + 6), 1280);
	fr_parse(t->cap.frame[1], t->cap.len[1], &p);
	assert_int_equal(rd16(p.payload + 6), 68);
	fr_parse(t->cap.frame[2], t->cap.len[2], &p);
	assert_int_equal(rd16(p.payload + 6), 65535);
	assert_int_equal(stack_counters(t->s)->icmp_too_big_sent, 3);
}

/* Never about an ICMP error, even with DF (RFC 1122 3.2.2) */
static void test_icmp_frag_needed_never_about_error(void **state)
{
	struct tstack *t = *state;
	size_t n = icmp_frame(buf, T_PEER, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 28);
	struct pkt orig;

	learn(t);
	wr16(buf + IPH + 6, IP4_FLAG_DF);
	orig = pkt_of(buf, n, t->now_us);
	assert_false(icmp_send_frag_needed(t->s, &orig, 1280, T_GW));
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(stack_counters(t->s)->icmp_too_big_sent, 0);
}

static void test_icmp_error_source_is_from(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);
	struct parsed p;

	learn(t);
	icmp_send_error(t->s, &orig, ICMP_TIME_EXCEEDED, 0, T_GW);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(p.icmp_type, ICMP_TIME_EXCEEDED);
}

/* RFC 1812 4.3.2.8: a burst of 50, then 100 per second */
static void test_icmp_errors_rate_limited(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, 5000000);
	const struct stack_counters *c = stack_counters(t->s);

	learn(t);
	for (int i = 0; i < 80; i++)
		icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 50);
	assert_int_equal(c->icmp_errors_sent, 50);
	assert_int_equal(c->icmp_errors_rate_limited, 30);
	/* a suppressed error drops no frame of the container's */
	cnt_expect_drop(&t->before, c, NULL);

	orig.now_us += 10000; /* 10 ms: one token */
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(c->icmp_errors_sent, 51);
	assert_int_equal(c->icmp_errors_rate_limited, 31);

	orig.now_us += 10000000; /* long idle: the bucket refills to its burst, not beyond */
	cap_reset(&t->cap);
	for (int i = 0; i < 80; i++)
		icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 50);
}

/** expect_no_error() - icmp_send_error() about @orig sends and counts nothing */
static void expect_no_error(struct tstack *t, const struct pkt *orig)
{
	const struct stack_counters *c = stack_counters(t->s);

	learn(t);
	icmp_send_error(t->s, orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	expect_silence(t);
	assert_int_equal(c->icmp_errors_sent, t->before.icmp_errors_sent);
	assert_int_equal(c->icmp_errors_rate_limited, t->before.icmp_errors_rate_limited);
	cnt_expect_drop(&t->before, c, NULL);
}

/* RFC 1122 3.2.2: never about an ICMP error */
static void test_icmp_no_error_about_icmp_error(void **state)
{
	static const uint8_t errors[] = { ICMP_DEST_UNREACH, 4, 5, ICMP_TIME_EXCEEDED, 12, 19, 255 };
	struct tstack *t = *state;

	for (size_t i = 0; i < sizeof(errors); i++) {
		size_t n = icmp_frame(buf, T_PEER, errors[i], 0, 28);
		struct pkt orig = pkt_of(buf, n, t->now_us);

		expect_no_error(t, &orig);
	}
}

/* ...but about an informational ICMP message, yes */
static void test_icmp_error_about_echo_request_allowed(void **state)
{
	struct tstack *t = *state;
	size_t n = icmp_frame(buf, T_PEER, ICMP_ECHO_REQUEST, 0, 28);
	struct pkt orig = pkt_of(buf, n, t->now_us);

	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 1);
}

static void test_icmp_no_error_about_non_initial_fragment(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig;

	wr16(buf + IPH + 6, 100);
	orig = pkt_of(buf, n, t->now_us);
	expect_no_error(t, &orig);
}

static void test_icmp_no_error_about_link_broadcast(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig;

	memcpy(buf, BCAST, 6);
	orig = pkt_of(buf, n, t->now_us);
	expect_no_error(t, &orig);
	buf[0] = 0x01; /* multicast */
	expect_no_error(t, &orig);
}

static void test_icmp_no_error_about_broadcast_or_multicast_destination(void **state)
{
	static const uint32_t dst[] = { 0xffffffffu, 0x0a0002ffu, 0xe0000001u, T_CADDR };
	struct tstack *t = *state;

	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		size_t n = tcp_syn(buf, 0);
		struct pkt orig;

		wr32(buf + IPH + 16, dst[i]);
		orig = pkt_of(buf, n, t->now_us);
		expect_no_error(t, &orig);
	}
}

/* Errors go to the container only, so never about a source that is not it (0.0.0.0 too) */
static void test_icmp_no_error_about_foreign_source(void **state)
{
	static const uint32_t src[] = { 0, 0xffffffffu, 0x0a000232u, T_PEER };
	struct tstack *t = *state;

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		size_t n = tcp_syn(buf, 0);
		struct pkt orig;

		wr32(buf + IPH + 12, src[i]);
		orig = pkt_of(buf, n, t->now_us);
		expect_no_error(t, &orig);
	}
}

/* A caller's inconsistent description of the datagram is refused, never read beyond */
static void test_icmp_no_error_about_inconsistent_pkt(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);

	orig.ihl = orig.ip_len + 4;
	expect_no_error(t, &orig);
	orig = pkt_of(buf, n, t->now_us);
	orig.ihl = 12;
	expect_no_error(t, &orig);
	orig = pkt_of(buf, n, t->now_us);
	orig.ip = NULL;
	expect_no_error(t, &orig);
}

/* An error for an upstream event can come from a reconstructed datagram, without a frame */
static void test_icmp_error_without_frame(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);

	orig.frame = NULL;
	orig.frame_len = 0;
	learn(t);
	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 1);
}

static void test_icmp_error_without_mac_asks_arp(void **state)
{
	struct tstack *t = *state;
	size_t n = tcp_syn(buf, 0);
	struct pkt orig = pkt_of(buf, n, t->now_us);
	struct stack_counters before = *stack_counters(t->s);

	icmp_send_error(t->s, &orig, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, T_PEER);
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(rd16(t->cap.frame[0] + 12), ETHERTYPE_ARP);
	assert_int_equal(stack_counters(t->s)->icmp_errors_sent, 0);
	cnt_expect_drop(&before, stack_counters(t->s), "drop_not_for_us");
}

/* --- hostile input ----------------------------------------------------------------------- */

static void test_icmp_truncation_never_sends(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 9, 9, pattern(100), 100, false);

	for (size_t len = 0; len < n; len++) {
		uint8_t *f = malloc(len ? len : 1);

		memcpy(f, buf, len);
		tstack_feed(t, f, len);
		assert_int_equal(cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before), 1);
		expect_silence(t);
		free(f);
	}
}

static uint32_t rnd_state = 0x1234567;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * 50000 messages with 1..4 random bytes of the ICMP part changed, the checksum fixed up in
 * half of them: each is answered by a reply echoing it exactly, or dropped once.
 */
static void test_icmp_random_corruption(void **state)
{
	struct tstack *t = *state;

	for (int i = 0; i < 50000; i++) {
		size_t len = rnd() % 64, n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 2, pattern(len),
							   len, false);
		size_t mlen = n - L4;
		int k = 1 + (int)(rnd() % 4);
		uint64_t drops;

		while (k--)
			buf[L4 + rnd() % mlen] = (uint8_t)rnd();
		if (rnd() % 2) {
			wr16(buf + L4 + 2, 0);
			wr16(buf + L4 + 2, csum_fold(csum_partial(buf + L4, mlen, 0)));
		}
		tstack_feed(t, buf, n);
		drops = cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before);
		assert_int_equal(drops + t->cap.n, 1);
		if (t->cap.n) {
			struct parsed p;

			fr_parse(t->cap.frame[0], t->cap.len[0], &p);
			assert_int_equal(buf[L4], ICMP_ECHO_REQUEST);
			assert_int_equal(p.icmp_type, ICMP_ECHO_REPLY);
			assert_int_equal(p.payload_len, mlen);
			assert_memory_equal(p.payload + 4, buf + L4 + 4, mlen - 4);
		}
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_icmp_echo_reply_for_gateway),
		T(test_icmp_echo_reply_for_dns),
		T(test_icmp_echo_reply_no_data),
		T(test_icmp_echo_reply_odd_length),
		T(test_icmp_echo_reply_same_payload_large),
		T(test_icmp_echo_larger_than_mtu_fragmented),
		T(test_icmp_echo_nonzero_code_answered),
		T(test_icmp_echo_replies_not_rate_limited),
		T(test_icmp_echo_to_other_address_dropped),
		T(test_icmp_echo_to_other_address_relayed),
		T(test_icmp_echo_to_gateway_not_relayed),
		T(test_icmp_echo_relay_refused_counted),
		T(test_icmp_echo_relay_bad_checksum_not_relayed),
		T(test_icmp_echo_reply_relayed_to_container),
		T(test_icmp_echo_reply_relayed_fragmented),
		T(test_icmp_echo_reply_bad_source_ignored),
		T(test_icmp_short_message_dropped),
		T(test_icmp_bad_checksum_dropped),
		T(test_icmp_corrupt_data_dropped),
		T(test_icmp_echo_reply_from_container_ignored),
		T(test_icmp_error_from_container_ignored),
		T(test_icmp_timestamp_request_ignored),
		T(test_icmp_unknown_type_ignored),
		T(test_icmp_error_quotes_header),
		T(test_icmp_error_quote_limited_to_576),
		T(test_icmp_error_quote_excludes_padding),
		T(test_icmp_needfrag_carries_mtu),
		T(test_icmp_frag_needed_only_with_df),
		T(test_icmp_frag_needed_never_about_error),
		T(test_icmp_error_source_is_from),
		T(test_icmp_errors_rate_limited),
		T(test_icmp_no_error_about_icmp_error),
		T(test_icmp_error_about_echo_request_allowed),
		T(test_icmp_no_error_about_non_initial_fragment),
		T(test_icmp_no_error_about_link_broadcast),
		T(test_icmp_no_error_about_broadcast_or_multicast_destination),
		T(test_icmp_no_error_about_foreign_source),
		T(test_icmp_no_error_about_inconsistent_pkt),
		T(test_icmp_error_without_frame),
		T(test_icmp_error_without_mac_asks_arp),
		T(test_icmp_truncation_never_sends),
		T(test_icmp_random_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
