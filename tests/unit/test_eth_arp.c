/* test_eth_arp.c - Ethernet demultiplexing, learning the container's MAC, and ARP (RFC 826):
 * what is answered, what is learned, and that every frame not used is counted exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "stack_internal.h"

#define OUR_MAC ((const uint8_t[6]){ 0x02, 0x74, 0x61, 0x70, 0x69, 0x72 })
#define BCAST ((const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })
#define ZERO_MAC ((const uint8_t[6]){ 0 })
#define OTHER_MAC ((const uint8_t[6]){ 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc })
#define OTHER_ADDR 0x0a000232u /* 10.0.2.50: in the subnet, not ours */

static uint8_t buf[FRAME_MAX];

/**
 * expect_arp_reply() - assert that @t sent exactly one ARP reply for @spa to @tha/@tpa
 */
static void expect_arp_reply(const struct tstack *t, uint32_t spa, const uint8_t tha[6],
			     uint32_t tpa)
{
	const uint8_t *f, *a;

	assert_int_equal(t->cap.n, 1);
	assert_int_equal(t->cap.len[0], ETH_HDR_LEN + ARP_LEN);
	f = t->cap.frame[0];
	a = f + ETH_HDR_LEN;
	assert_memory_equal(f, tha, 6);
	assert_memory_equal(f + 6, OUR_MAC, 6);
	assert_int_equal(rd16(f + 12), ETHERTYPE_ARP);
	assert_int_equal(rd16(a), 1);
	assert_int_equal(rd16(a + 2), ETHERTYPE_IPV4);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(rd16(a + 6), ARP_OP_REPLY);
	assert_memory_equal(a + 8, OUR_MAC, 6);
	assert_int_equal(rd32(a + 14), spa);
	assert_memory_equal(a + 18, tha, 6);
	assert_int_equal(rd32(a + 24), tpa);
}

/** expect_nothing_sent() - no frame out, no reply counted */
static void expect_nothing_sent(const struct tstack *t)
{
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(stack_counters(t->s)->tx_frames, t->before.tx_frames);
	assert_int_equal(stack_counters(t->s)->arp_replies, t->before.arp_replies);
}

static void expect_cmac(const struct tstack *t, const uint8_t mac[6])
{
	uint8_t m[6];

	assert_true(stack_container_mac(t->s, m));
	assert_memory_equal(m, mac, 6);
}

static void expect_no_cmac(const struct tstack *t)
{
	uint8_t m[6];

	assert_false(stack_container_mac(t->s, m));
}

/* --- Ethernet --------------------------------------------------------------------------- */

static void test_eth_short_frame_dropped(void **state)
{
	struct tstack *t = *state;

	fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);
	for (size_t len = 0; len < ETH_HDR_LEN; len++) {
		/* exactly the bytes fed, so ASan sees any read beyond them */
		uint8_t *f = malloc(len ? len : 1);

		memcpy(f, buf, len);
		tstack_feed(t, f, len);
		tstack_expect_drop(t, "drop_short_frame");
		expect_nothing_sent(t);
		free(f);
	}
	assert_int_equal(stack_counters(t->s)->rx_frames, ETH_HDR_LEN);
}

static void test_eth_other_unicast_not_for_us(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OTHER_MAC, T_GW, 1, 1, NULL, 0, false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

static void test_eth_ipv4_multicast_not_for_us(void **state)
{
	struct tstack *t = *state;
	const uint8_t mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	size_t n = fr_udp(buf, mdns, 0, 0xe00000fbu, 5353, 5353, (const uint8_t *)"q", 1, false,
			  false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

static void test_eth_ipv6_multicast_not_for_us(void **state)
{
	struct tstack *t = *state;
	const uint8_t allrouters[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x02 };
	size_t n = fr_eth(buf, allrouters, T_CMAC, ETHERTYPE_IPV6);

	memset(buf + n, 0x60, 48); /* a router solicitation's worth of bytes */
	tstack_feed(t, buf, n + 48);
	/* IPv6 off: a group frame is for nobody here */
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

static void test_eth_ipv6_unicast_bad_ethertype(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_eth(buf, OUR_MAC, T_CMAC, ETHERTYPE_IPV6);

	memset(buf + n, 0x60, 40);
	tstack_feed(t, buf, n + 40);
	tstack_expect_drop(t, "drop_bad_ethertype");
	expect_nothing_sent(t);
}

static void test_eth_ipv6_on_reaches_ip6(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_eth(buf, OUR_MAC, T_CMAC, ETHERTYPE_IPV6);

	/* IPv6 on (the default): the same bytes reach ip6_input, whose payload length
	 * (0x6060) is more than the frame holds */
	memset(buf + n, 0x60, 40);
	tstack_feed(t, buf, n + 40);
	tstack_expect_drop(t, "drop_ip6_bad_length");
	expect_nothing_sent(t);
}

static void test_eth_unknown_ethertypes_dropped(void **state)
{
	static const uint16_t types[] = { 0x8100 /* 802.1Q */, 0x88cc /* LLDP */, 0x0000,
					  0x05dc /* 802.3 length */, 0xffff, 0x0801, 0x0805 };
	struct tstack *t = *state;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = fr_eth(buf, OUR_MAC, T_CMAC, types[i]);

		memset(buf + n, 0, 46);
		tstack_feed(t, buf, n + 46);
		tstack_expect_drop(t, "drop_bad_ethertype");
		expect_nothing_sent(t);
	}
}

/* RFC 1122 3.3.6: a unicast datagram received as a link-layer broadcast is discarded */
static void test_eth_broadcast_ipv4_not_for_us(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, BCAST, T_GW, 1, 1, NULL, 0, false);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

static void test_eth_broadcast_other_ethertype_not_for_us(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_eth(buf, BCAST, T_CMAC, 0x88cc);

	memset(buf + n, 0, 46);
	tstack_feed(t, buf, n + 46);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

static void test_eth_counts_rx(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	assert_int_equal(stack_counters(t->s)->rx_frames, t->before.rx_frames + 1);
	assert_int_equal(stack_counters(t->s)->rx_bytes, t->before.rx_bytes + n);
	assert_int_equal(stack_counters(t->s)->tx_frames, t->before.tx_frames + 1);
	assert_int_equal(stack_counters(t->s)->tx_bytes, t->before.tx_bytes + ETH_HDR_LEN + ARP_LEN);
}

static void test_eth_learns_mac_from_valid_ipv4(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, NULL, 0, false);

	expect_no_cmac(t);
	tstack_feed(t, buf, n);
	expect_cmac(t, T_CMAC);
	assert_int_equal(t->cap.n, 1); /* and the echo reply could go out at once */
	assert_memory_equal(t->cap.frame[0], T_CMAC, 6);
}

static void test_eth_no_learning_from_foreign_ipv4_source(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .saddr = OTHER_ADDR, .daddr = T_GW, .proto = PROTO_ICMP };
	uint8_t echo[8] = { ICMP_ECHO_REQUEST, 0, 0xf7, 0xff, 0, 0, 0, 0 };
	size_t n = fr_ip4(buf, OUR_MAC, &ip, echo, sizeof(echo));

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_bad_source");
	expect_no_cmac(t);
}

static void test_eth_no_learning_from_bad_ip_checksum(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .bad_checksum = true };
	uint8_t echo[8] = { ICMP_ECHO_REQUEST, 0, 0xf7, 0xff, 0, 0, 0, 0 };
	size_t n = fr_ip4(buf, OUR_MAC, &ip, echo, sizeof(echo));

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_ip_bad_checksum");
	expect_no_cmac(t);
}

static void test_eth_never_learns_group_source_mac(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_icmp_echo(buf, OUR_MAC, T_GW, 1, 1, NULL, 0, false);

	buf[6] |= 1; /* a multicast source MAC */
	tstack_feed(t, buf, n);
	expect_no_cmac(t);
	/* no MAC to answer to: the reply is replaced by an ARP who-has */
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(rd16(t->cap.frame[0] + 12), ETHERTYPE_ARP);
	memcpy(buf + 6, BCAST, 6);
	tstack_feed(t, buf, n);
	expect_no_cmac(t);
}

static void test_eth_never_learns_zero_mac(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, ZERO_MAC, T_CADDR, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	expect_no_cmac(t);
}

/* --- ARP answers ---------------------------------------------------------------------- */

static void test_arp_reply_for_gateway(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_arp_reply(t, T_GW, T_CMAC, T_CADDR);
	assert_int_equal(stack_counters(t->s)->arp_replies, t->before.arp_replies + 1);
}

static void test_arp_reply_for_dns(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_DNS);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_arp_reply(t, T_DNS, T_CMAC, T_CADDR);
}

/* Linux revalidates a neighbour with a unicast request to the cached MAC */
static void test_arp_unicast_request_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	memcpy(buf, OUR_MAC, 6);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_arp_reply(t, T_GW, T_CMAC, T_CADDR);
}

/* Ethernet pads frames to 60 bytes: the bytes after the ARP body are ignored */
static void test_arp_padded_request_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	memset(buf + n, 0xa5, 60 - n);
	tstack_feed(t, buf, 60);
	tstack_expect_drop(t, NULL);
	expect_arp_reply(t, T_GW, T_CMAC, T_CADDR);
}

/* The reply goes to the requester's sender hardware address, not the Ethernet source */
static void test_arp_reply_goes_to_sender_hw_address(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, OTHER_MAC, T_CADDR, ZERO_MAC, T_GW);

	memcpy(buf + 6, T_CMAC, 6);
	tstack_feed(t, buf, n);
	expect_arp_reply(t, T_GW, OTHER_MAC, T_CADDR);
}

static void test_arp_request_for_other_address_not_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, OTHER_ADDR);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
	expect_cmac(t, T_CMAC); /* RFC 826: the sender is merged before the target is checked */
}

static void test_arp_request_for_peer_address_not_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_PEER);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
}

/* RFC 5227 2.1.1: duplicate address detection must see no answer for the container's own */
static void test_arp_probe_for_container_address_not_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, 0, ZERO_MAC, T_CADDR);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
	expect_no_cmac(t); /* a probe's sender address is 0.0.0.0: nothing to learn */
}

static void test_arp_probe_for_gateway_answered(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, 0, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_arp_reply(t, T_GW, T_CMAC, 0);
}

/* --- ARP learning ------------------------------------------------------------------------ */

static void test_arp_request_teaches_container_mac(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	expect_no_cmac(t);
	tstack_feed(t, buf, n);
	expect_cmac(t, T_CMAC);
}

static void test_arp_from_other_address_teaches_nothing(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, OTHER_ADDR, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	expect_no_cmac(t);
	expect_arp_reply(t, T_GW, T_CMAC, OTHER_ADDR); /* still answered, like any host */
}

static void test_arp_gratuitous_request_teaches_not_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_CADDR);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_nothing_sent(t);
	expect_cmac(t, T_CMAC);
}

static void test_arp_reply_from_container_teaches_not_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REPLY, T_CMAC, T_CADDR, OUR_MAC, T_GW);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_nothing_sent(t);
	expect_cmac(t, T_CMAC);
}

static void test_arp_gratuitous_reply_broadcast_teaches(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REPLY, T_CMAC, T_CADDR, BCAST, T_CADDR);

	tstack_feed(t, buf, n); /* fr_arp sends replies to tha: broadcast here */
	tstack_expect_drop(t, NULL);
	expect_cmac(t, T_CMAC);
}

static void test_arp_reply_from_other_address_dropped(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REPLY, T_CMAC, OTHER_ADDR, OUR_MAC, T_GW);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	expect_nothing_sent(t);
	expect_no_cmac(t);
}

static void test_arp_changed_mac_relearned(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	tstack_feed(t, buf, n);
	expect_cmac(t, T_CMAC);
	n = fr_arp(buf, ARP_OP_REQUEST, OTHER_MAC, T_CADDR, ZERO_MAC, T_GW);
	tstack_feed(t, buf, n);
	expect_cmac(t, OTHER_MAC);
}

/* --- ARP malformed ----------------------------------------------------------------------- */

/** expect_malformed_after() - patch one byte of a valid request: drop_arp_malformed, silence */
static void expect_malformed_after(struct tstack *t, size_t off, uint8_t val)
{
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	buf[off] = val;
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_arp_malformed");
	expect_nothing_sent(t);
	expect_no_cmac(t);
}

static void test_arp_bad_htype_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 1, 6); /* IEEE 802 instead of Ethernet */
}

static void test_arp_bad_ptype_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 2, 0x86); /* 0x8600 */
}

static void test_arp_bad_hlen_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 4, 8);
}

static void test_arp_bad_plen_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 5, 16);
}

static void test_arp_bad_opcode_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 7, 3); /* RARP request */
}

static void test_arp_group_sender_hw_address_malformed(void **state)
{
	expect_malformed_after(*state, ETH_HDR_LEN + 8, 0x01);
}

static void test_arp_short_body_malformed(void **state)
{
	struct tstack *t = *state;
	size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);

	for (size_t len = ETH_HDR_LEN; len < n; len++) {
		uint8_t *f = malloc(len);

		memcpy(f, buf, len);
		tstack_feed(t, f, len);
		tstack_expect_drop(t, "drop_arp_malformed");
		expect_nothing_sent(t);
		free(f);
	}
	expect_no_cmac(t);
}

/* --- our own requests -------------------------------------------------------------------- */

static void test_arp_request_container_who_has(void **state)
{
	struct tstack *t = *state;
	const uint8_t *f, *a;

	cap_reset(&t->cap);
	arp_request_container(t->s);
	assert_int_equal(t->cap.n, 1);
	assert_int_equal(t->cap.len[0], ETH_HDR_LEN + ARP_LEN);
	f = t->cap.frame[0];
	a = f + ETH_HDR_LEN;
	assert_memory_equal(f, BCAST, 6);
	assert_memory_equal(f + 6, OUR_MAC, 6);
	assert_int_equal(rd16(f + 12), ETHERTYPE_ARP);
	assert_int_equal(rd16(a), 1);
	assert_int_equal(rd16(a + 2), ETHERTYPE_IPV4);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(rd16(a + 6), ARP_OP_REQUEST);
	assert_memory_equal(a + 8, OUR_MAC, 6);
	assert_int_equal(rd32(a + 14), T_GW);
	assert_memory_equal(a + 18, ZERO_MAC, 6);
	assert_int_equal(rd32(a + 24), T_CADDR);
	assert_int_equal(stack_counters(t->s)->tx_frames, 1);
	assert_int_equal(stack_counters(t->s)->arp_replies, 0);
}

/* The container's answer to our who-has teaches us its MAC, and is no drop */
static void test_arp_answer_to_our_request_learned(void **state)
{
	struct tstack *t = *state;
	size_t n;

	arp_request_container(t->s);
	n = fr_arp(buf, ARP_OP_REPLY, T_CMAC, T_CADDR, OUR_MAC, T_GW);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, NULL);
	expect_cmac(t, T_CMAC);
}

/* --- hostile input ----------------------------------------------------------------------- */

static uint32_t rnd_state = 0x2545f491;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * Corrupt 1..4 random bytes of a valid request, 20000 times: each frame is either answered
 * with a well-formed reply, used for learning, or counted once; never more than one frame out.
 */
static void test_arp_random_corruption(void **state)
{
	struct tstack *t = *state;

	for (int i = 0; i < 20000; i++) {
		size_t n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, ZERO_MAC, T_GW);
		int k = 1 + (int)(rnd() % 4);
		uint64_t drops;

		while (k--)
			buf[rnd() % n] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			n -= rnd() % n; /* and sometimes truncated */
		tstack_feed(t, buf, n);
		drops = cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before);
		assert_true(drops <= 1);
		assert_true(t->cap.n <= 1);
		if (t->cap.n) {
			const uint8_t *a = t->cap.frame[0] + ETH_HDR_LEN;

			assert_int_equal(drops, 0);
			assert_int_equal(t->cap.len[0], ETH_HDR_LEN + ARP_LEN);
			assert_true(rd16(t->cap.frame[0] + 12) == ETHERTYPE_ARP);
			assert_int_equal(rd16(a + 6), ARP_OP_REPLY);
			assert_true(rd32(a + 14) == T_GW || rd32(a + 14) == T_DNS);
			assert_false(t->cap.frame[0][0] & 1); /* never to a group address */
		}
	}
	assert_int_equal(stack_counters(t->s)->rx_frames, 20000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_eth_short_frame_dropped),
		T(test_eth_other_unicast_not_for_us),
		T(test_eth_ipv4_multicast_not_for_us),
		cmocka_unit_test_setup_teardown(test_eth_ipv6_multicast_not_for_us,
						tstack_setup_v4only, tstack_teardown),
		cmocka_unit_test_setup_teardown(test_eth_ipv6_unicast_bad_ethertype,
						tstack_setup_v4only, tstack_teardown),
		T(test_eth_ipv6_on_reaches_ip6),
		T(test_eth_unknown_ethertypes_dropped),
		T(test_eth_broadcast_ipv4_not_for_us),
		T(test_eth_broadcast_other_ethertype_not_for_us),
		T(test_eth_counts_rx),
		T(test_eth_learns_mac_from_valid_ipv4),
		T(test_eth_no_learning_from_foreign_ipv4_source),
		T(test_eth_no_learning_from_bad_ip_checksum),
		T(test_eth_never_learns_group_source_mac),
		T(test_eth_never_learns_zero_mac),
		T(test_arp_reply_for_gateway),
		T(test_arp_reply_for_dns),
		T(test_arp_unicast_request_answered),
		T(test_arp_padded_request_answered),
		T(test_arp_reply_goes_to_sender_hw_address),
		T(test_arp_request_for_other_address_not_answered),
		T(test_arp_request_for_peer_address_not_answered),
		T(test_arp_probe_for_container_address_not_answered),
		T(test_arp_probe_for_gateway_answered),
		T(test_arp_request_teaches_container_mac),
		T(test_arp_from_other_address_teaches_nothing),
		T(test_arp_gratuitous_request_teaches_not_dropped),
		T(test_arp_reply_from_container_teaches_not_dropped),
		T(test_arp_gratuitous_reply_broadcast_teaches),
		T(test_arp_reply_from_other_address_dropped),
		T(test_arp_changed_mac_relearned),
		T(test_arp_bad_htype_malformed),
		T(test_arp_bad_ptype_malformed),
		T(test_arp_bad_hlen_malformed),
		T(test_arp_bad_plen_malformed),
		T(test_arp_bad_opcode_malformed),
		T(test_arp_group_sender_hw_address_malformed),
		T(test_arp_short_body_malformed),
		T(test_arp_request_container_who_has),
		T(test_arp_answer_to_our_request_learned),
		T(test_arp_random_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
