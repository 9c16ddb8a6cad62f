/* test_icmp6.c - ICMPv6 (RFC 4443): echo answered for our addresses and relayed for others,
 * checksums with the pseudo-header, errors quoting as much as fits in 1280 bytes, never about
 * an error nor about a packet to a multicast group, rate limited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "icmp.h"
#include "stack_internal.h"

#define OUR_MAC ((const uint8_t[6]){ 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 })
#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

static const uint8_t caddr[16] = T_CADDR6, gw[16] = T_GW6, dns[16] = T_DNS6;
static const uint8_t peer[16] = T_PEER6, ourll[16] = T_OURLL6, cll[16] = T_CLL6;
static uint8_t buf[FRAME_MAX];
static const uint8_t echo_body[8] = { 0xab, 0xcd, 0x00, 0x07, 'x', 'y', 'z', 'w' };

/** expect_reply_from() - exactly one echo reply from @from to @to */
static void expect_reply_from(const struct tstack *t, const uint8_t from[16], const uint8_t to[16])
{
	struct parsed6 p;

	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP6_ECHO_REPLY);
	assert_memory_equal(p.saddr, from, 16);
	assert_memory_equal(p.daddr, to, 16);
	assert_memory_equal(p.l4 + 4, echo_body, sizeof(echo_body));
}

static void test_icmp6_echo_dns_and_link_local_answered(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = dns },
				     ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body)));
	expect_reply_from(t, dns, caddr);
	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .saddr = cll, .daddr = ourll },
				     ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body)));
	expect_reply_from(t, ourll, cll);
	assert_int_equal(cnt_get(stack_counters(t->s), "icmp6_echo_replies"), 2);
}

static void test_icmp6_bad_checksum_dropped(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .bad_checksum = true },
				     ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_icmp6_bad_checksum");
	assert_int_equal(t->cap.n, 0);
}

static void test_icmp6_short_dropped(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .nh = IP6_NH_ICMP6 },
				   echo_body, 7));
	tstack_expect_drop(t, "drop_icmp6_malformed");
	assert_int_equal(t->cap.n, 0);
}

static struct {
	int calls;
	uint8_t saddr[16], daddr[16];
	uint16_t id, seq;
	size_t len;
} relayed;

/** relay_echo() - a stack_ops.icmp6_echo that records the request */
static int relay_echo(void *ctx, const uint8_t saddr[16], const uint8_t daddr[16], uint16_t id,
		      uint16_t seq, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	relayed.calls++;
	memcpy(relayed.saddr, saddr, 16);
	memcpy(relayed.daddr, daddr, 16);
	relayed.id = id;
	relayed.seq = seq;
	relayed.len = len;
	return 0;
}

static void test_icmp6_echo_to_peer_relayed_and_reply_sent(void **state)
{
	struct tstack *t = *state;
	const uint8_t slaac[16] = { 0xfd, [8] = 0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56 };

	t->s->ops.icmp6_echo = relay_echo;
	memset(&relayed, 0, sizeof(relayed));
	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .saddr = slaac, .daddr = peer },
				     ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, NULL);
	assert_int_equal(relayed.calls, 1);
	assert_memory_equal(relayed.saddr, slaac, 16);
	assert_memory_equal(relayed.daddr, peer, 16);
	assert_int_equal(relayed.id, 0xabcd);
	assert_int_equal(relayed.seq, 7);
	assert_int_equal(relayed.len, 4);

	cap_reset(&t->cap);
	icmp6_echo_reply(t->s, peer, slaac, 0xabcd, 7, echo_body + 4, 4, t->now_us);
	expect_reply_from(t, peer, slaac);
	/* never from our own addresses, never to one off the prefix */
	cap_reset(&t->cap);
	icmp6_echo_reply(t->s, gw, slaac, 1, 1, NULL, 0, t->now_us);
	icmp6_echo_reply(t->s, peer, peer, 1, 1, NULL, 0, t->now_us);
	assert_int_equal(t->cap.n, 0);
}

static void test_icmp6_echo_to_peer_without_relay_counted(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer },
				     ICMP6_ECHO_REQUEST, 0, echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_icmp_no_route");
	assert_int_equal(t->cap.n, 0);
}

static void test_icmp6_error_quotes_up_to_1280_bytes(void **state)
{
	struct tstack *t = *state;
	static uint8_t payload[3000];
	struct parsed6 p;
	size_t n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	n = fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .nh = 253 }, payload, sizeof(payload));
	tstack_feed(t, buf, n);
	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	/* RFC 4443 2.4 (c): the whole error is 1280 bytes, the quote the packet's start */
	assert_int_equal(IP6_HDR_LEN + p.l4_len, 1280);
	assert_memory_equal(p.icmp_body, buf + ETH_HDR_LEN, 1280 - 48);
	assert_memory_equal(p.saddr, gw, 16);
}

static void test_icmp6_no_error_about_error(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000];

	/* a destination unreachable in two fragments, the second never sent: the timeout's
	 * time exceeded would be an error about an error (RFC 4443 2.4 (e.1)) */
	memset(m, 0, sizeof(m));
	m[0] = ICMP6_DEST_UNREACH;
	{
		uint8_t ext[9] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0, 0, 1, 0, 0, 0, 5 };

		tstack_feed(t, buf, fr_ip6(buf, OUR_MAC,
					   &(struct fr_ip6){ .ext = ext, .ext_len = 8 }, m, 1600));
	}
	cap_reset(&t->cap);
	stack_tick(t->s, t->now_us + 60000000);
	assert_int_equal(cnt_get(stack_counters(t->s), "drop_ip6_frag_timeout"), 1);
	assert_int_equal(t->cap.n, 0);
}

static void test_icmp6_no_error_about_multicast(void **state)
{
	struct tstack *t = *state;
	const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

	tstack_feed(t, buf, fr_ip6(buf, mac, &(struct fr_ip6){ .nh = 253, .daddr = all_nodes },
				   echo_body, sizeof(echo_body)));
	tstack_expect_drop(t, "drop_ip6_bad_proto");
	assert_int_equal(t->cap.n, 0);
}

/** pkt6_of() - describe the IPv6 frame @f of @len bytes (no extension headers) as ip6_walk
 * would, arriving at @now */
static struct pkt pkt6_of(const uint8_t *f, size_t len, uint64_t now)
{
	const uint8_t *h = f + ETH_HDR_LEN;
	struct pkt p = {
		.frame = f, .frame_len = len, .ip = h, .ip_len = IP6_HDR_LEN + rd16(h + 4),
		.ihl = IP6_HDR_LEN, .proto = h[6], .ttl = h[7], .v6 = true, .now_us = now,
	};

	memcpy(p.saddr6, h + 8, 16);
	memcpy(p.daddr6, h + 24, 16);
	p.l4 = h + IP6_HDR_LEN;
	p.l4_len = p.ip_len - IP6_HDR_LEN;
	return p;
}

/* RFC 8201 4: no MTU below 1280 is ever told; the MTU field carries the next hop's */
static void test_icmp6_packet_too_big_mtu_at_least_1280(void **state)
{
	struct tstack *t = *state;
	struct parsed6 p;
	struct pkt orig;
	size_t n;

	n = fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer }, ICMP6_ECHO_REQUEST, 0,
		     echo_body, sizeof(echo_body));
	tstack_feed(t, buf, n); /* learns the container's MAC */
	cap_reset(&t->cap);
	orig = pkt6_of(buf, n, t->now_us);
	assert_true(icmp6_send_too_big(t->s, &orig, 1000, gw));
	assert_true(icmp6_send_too_big(t->s, &orig, 1400, gw));
	assert_int_equal(t->cap.n, 2);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.icmp_param, 1280);
	assert_memory_equal(p.saddr, gw, 16);
	assert_memory_equal(p.daddr, caddr, 16);
	fr_parse6(t->cap.frame[1], t->cap.len[1], &p);
	assert_int_equal(p.icmp_param, 1400);
	assert_int_equal(cnt_get(stack_counters(t->s), "icmp_too_big_sent"), 2);
}

/* RFC 4443 2.4 (e.3): Packet Too Big is the one error also about a packet to a multicast
 * group; never about an ICMPv6 error (e.1) */
static void test_icmp6_packet_too_big_multicast_yes_error_no(void **state)
{
	struct tstack *t = *state;
	const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t err[IP6_HDR_LEN + 8] = { 0x60 };
	struct pkt orig;
	size_t n;

	n = fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer }, ICMP6_ECHO_REQUEST, 0,
		     echo_body, sizeof(echo_body));
	tstack_feed(t, buf, n);
	cap_reset(&t->cap);
	n = fr_icmp6(buf, mac, &(struct fr_ip6){ .daddr = all_nodes }, ICMP6_ECHO_REQUEST, 0,
		     echo_body, sizeof(echo_body));
	orig = pkt6_of(buf, n, t->now_us);
	assert_true(icmp6_send_too_big(t->s, &orig, 1300, gw));
	assert_int_equal(t->cap.n, 1);
	n = fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .daddr = peer }, ICMP6_DEST_UNREACH, 0, err,
		     sizeof(err));
	orig = pkt6_of(buf, n, t->now_us);
	assert_false(icmp6_send_too_big(t->s, &orig, 1300, gw));
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(cnt_get(stack_counters(t->s), "icmp_too_big_sent"), 1);
}

static void test_icmp6_errors_rate_limited(void **state)
{
	struct tstack *t = *state;
	size_t sent = 0;

	for (int i = 0; i < 60; i++) {
		tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .nh = 253 }, echo_body,
					   sizeof(echo_body)));
		sent += t->cap.n;
	}
	assert_int_equal(sent, 50);
	assert_int_equal(cnt_get(stack_counters(t->s), "icmp_errors_rate_limited"), 10);
	/* a second later, 100 more tokens (capped at the burst) */
	t->now_us += 1000000;
	tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .nh = 253 }, echo_body,
				   sizeof(echo_body)));
	assert_int_equal(t->cap.n, 1);
}

static void test_icmp6_large_echo_answered_in_fragments(void **state)
{
	struct tstack *t = *state;
	static uint8_t m[3000], whole[3000];
	struct parsed6 p;
	size_t got = 0;

	/* MTU 1500: a reassembled 3000-byte request is answered whole, in fragments */
	t->s->cfg.mtu = 1500;
	memset(m, 0, sizeof(m));
	m[0] = ICMP6_ECHO_REQUEST;
	for (size_t i = 4; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 13);
	wr16(m + 2, fr_csum6(caddr, gw, IP6_NH_ICMP6, m, sizeof(m)));
	for (size_t off = 0; off < sizeof(m); off += 1448) {
		uint8_t ext[9] = { IP6_NH_FRAGMENT, IP6_NH_ICMP6, 0 };
		size_t n = sizeof(m) - off < 1448 ? sizeof(m) - off : 1448;

		wr16(ext + 3, (uint16_t)(off | (off + n < sizeof(m))));
		wr32(ext + 5, 77);
		tstack_feed(t, buf, fr_ip6(buf, OUR_MAC, &(struct fr_ip6){ .ext = ext, .ext_len = 8 },
					   m + off, n));
	}
	assert_int_equal(t->cap.n, 3);
	for (size_t i = 0; i < t->cap.n; i++) {
		uint16_t fo;

		assert_true(t->cap.len[i] <= 14 + 1500);
		fr_parse6(t->cap.frame[i], t->cap.len[i], &p);
		assert_int_equal(p.nh, IP6_NH_FRAGMENT);
		assert_int_equal(p.l4[0], IP6_NH_ICMP6);
		fo = rd16(p.l4 + 2);
		assert_int_equal(fo & 0xfff8, got);
		assert_int_equal(fo & 1, i + 1 < t->cap.n);
		memcpy(whole + got, p.l4 + 8, p.l4_len - 8);
		got += p.l4_len - 8;
	}
	assert_int_equal(got, sizeof(m));
	assert_int_equal(whole[0], ICMP6_ECHO_REPLY);
	assert_memory_equal(whole + 4, m + 4, sizeof(m) - 4);
	assert_int_equal(fr_csum6(gw, caddr, IP6_NH_ICMP6, whole, sizeof(whole)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_icmp6_echo_dns_and_link_local_answered),
		T(test_icmp6_bad_checksum_dropped),
		T(test_icmp6_short_dropped),
		T(test_icmp6_echo_to_peer_relayed_and_reply_sent),
		T(test_icmp6_echo_to_peer_without_relay_counted),
		T(test_icmp6_error_quotes_up_to_1280_bytes),
		T(test_icmp6_no_error_about_error),
		T(test_icmp6_no_error_about_multicast),
		T(test_icmp6_packet_too_big_mtu_at_least_1280),
		T(test_icmp6_packet_too_big_multicast_yes_error_no),
		T(test_icmp6_errors_rate_limited),
		T(test_icmp6_large_echo_answered_in_fragments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
