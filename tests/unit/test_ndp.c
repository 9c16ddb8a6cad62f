/* test_ndp.c - neighbour discovery (RFC 4861): NA for the gateway, DNS and link-local
 * addresses, DAD probes left unanswered, the validity checks of 6.1.1 and 7.1.1, router
 * advertisements (solicited and unsolicited) with the prefix (SLAAC), MTU and RDNSS
 * (RFC 8106) options, and learning the container's link-local address. */
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
#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

static const uint8_t caddr[16] = T_CADDR6, gw[16] = T_GW6, dns[16] = T_DNS6;
static const uint8_t cll[16] = T_CLL6, ourll[16] = T_OURLL6;
static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 2 };
static const uint8_t unspec[16];
static uint8_t buf[FRAME_MAX];

/** solicited() - the solicited-node group of @a (RFC 4291 2.7.1) */
static void solicited(uint8_t g[16], const uint8_t a[16])
{
	static const uint8_t pre[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	memcpy(g, pre, 13);
	memcpy(g + 13, a + 13, 3);
}

/** feed_ns() - a neighbour solicitation for @target from @src with hop limit @hlim */
static void feed_ns(struct tstack *t, const uint8_t src[16], const uint8_t target[16],
		    uint8_t hlim, bool slla)
{
	uint8_t body[4 + 16 + 8] = { 0 }, g[16], mac[6] = { 0x33, 0x33, 0xff };

	solicited(g, target);
	memcpy(mac + 3, g + 13, 3);
	memcpy(body + 4, target, 16);
	body[20] = 1;
	body[21] = 1;
	memcpy(body + 22, T_CMAC, 6);
	tstack_feed(t, buf, fr_icmp6(buf, mac,
				     &(struct fr_ip6){ .saddr = src, .daddr = g, .hlim = hlim },
				     ICMP6_NS, 0, body, slla ? 28 : 20));
}

/** expect_na() - exactly one NA for @target to @dst, with our MAC, flags @flags */
static void expect_na(const struct tstack *t, const uint8_t target[16], const uint8_t dst[16],
		      uint8_t flags)
{
	struct parsed6 p;

	assert_int_equal(t->cap.n, 1);
	fr_parse6(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.hlim, 255);
	assert_memory_equal(p.src, OUR_MAC, 6);
	assert_memory_equal(p.saddr, target, 16);
	assert_memory_equal(p.daddr, dst, 16);
	assert_int_equal(p.icmp_type, ICMP6_NA);
	assert_int_equal(p.l4[4], flags);
	assert_memory_equal(p.l4 + 8, target, 16);
	assert_int_equal(p.l4_len, 32);
	assert_int_equal(p.l4[24], 2); /* target link-layer address */
	assert_int_equal(p.l4[25], 1);
	assert_memory_equal(p.l4 + 26, OUR_MAC, 6);
}

static void test_ndp_ns_gateway_answered(void **state)
{
	struct tstack *t = *state;

	feed_ns(t, cll, gw, 255, true);
	tstack_expect_drop(t, NULL);
	expect_na(t, gw, cll, 0xe0); /* router, solicited, override */
	assert_int_equal(cnt_get(stack_counters(t->s), "ndp_neighbor_adverts"), 1);
}

static void test_ndp_ns_dns_and_link_local_answered(void **state)
{
	struct tstack *t = *state;

	feed_ns(t, caddr, dns, 255, true);
	tstack_expect_drop(t, NULL);
	expect_na(t, dns, caddr, 0xe0);
	feed_ns(t, cll, ourll, 255, false);
	tstack_expect_drop(t, NULL);
	expect_na(t, ourll, cll, 0xe0);
}

static void test_ndp_dad_for_container_unanswered(void **state)
{
	struct tstack *t = *state;

	/* RFC 4862 5.4: the container probes fd00::100 from :: */
	feed_ns(t, unspec, caddr, 255, false);
	tstack_expect_drop(t, "drop_ndp_not_ours");
	assert_int_equal(t->cap.n, 0);
}

static void test_ndp_dad_for_gateway_defended(void **state)
{
	struct tstack *t = *state;

	/* RFC 4861 7.2.4: to all-nodes, S clear */
	feed_ns(t, unspec, gw, 255, false);
	tstack_expect_drop(t, NULL);
	expect_na(t, gw, all_nodes, 0xa0);
}

static void test_ndp_ns_hop_limit_not_255_dropped(void **state)
{
	struct tstack *t = *state;

	feed_ns(t, cll, gw, 254, true);
	tstack_expect_drop(t, "drop_ndp_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ndp_ns_from_unspecified_with_slla_dropped(void **state)
{
	struct tstack *t = *state;

	feed_ns(t, unspec, gw, 255, true);
	tstack_expect_drop(t, "drop_ndp_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ndp_ns_zero_length_option_dropped(void **state)
{
	struct tstack *t = *state;
	uint8_t body[28] = { 0 };

	memcpy(body + 4, gw, 16);
	body[20] = 1; /* length 0: RFC 4861 4.6 */
	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC, &(struct fr_ip6){ .saddr = cll, .hlim = 255 },
				     ICMP6_NS, 0, body, sizeof(body)));
	tstack_expect_drop(t, "drop_ndp_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ndp_ns_other_target_not_ours(void **state)
{
	struct tstack *t = *state;
	const uint8_t other[16] = { 0xfd, [15] = 0x77 };

	feed_ns(t, cll, other, 255, true);
	tstack_expect_drop(t, "drop_ndp_not_ours");
	assert_int_equal(t->cap.n, 0);
}

/** expect_ra() - exactly one RA from our link-local to @dst with every option checked */
static void expect_ra(const struct tstack *t, size_t i, const uint8_t dst[16])
{
	const uint8_t *o;
	struct parsed6 p;

	fr_parse6(t->cap.frame[i], t->cap.len[i], &p);
	assert_int_equal(p.hlim, 255);
	assert_memory_equal(p.saddr, ourll, 16);
	assert_memory_equal(p.daddr, dst, 16);
	assert_int_equal(p.icmp_type, ICMP6_RA);
	assert_int_equal(p.l4[4], 64);
	assert_int_equal(p.l4[5], 0);
	assert_int_equal(rd16(p.l4 + 6), 1800);
	assert_int_equal(p.l4_len, 16 + 8 + 8 + 32 + 24);
	o = p.l4 + 16;
	assert_int_equal(o[0], 1); /* source link-layer address */
	assert_memory_equal(o + 2, OUR_MAC, 6);
	o += 8;
	assert_int_equal(o[0], 5); /* MTU */
	assert_int_equal(rd32(o + 4), STACK_DEFAULT_MTU);
	o += 8;
	assert_int_equal(o[0], 3); /* prefix: fd00::/64, on-link and autonomous */
	assert_int_equal(o[1], 4);
	assert_int_equal(o[2], 64);
	assert_int_equal(o[3], 0xc0);
	assert_true(rd32(o + 4) >= rd32(o + 8));
	assert_memory_equal(o + 16, (const uint8_t[16]){ 0xfd }, 16);
	o += 32;
	assert_int_equal(o[0], 25); /* RDNSS (RFC 8106): fd00::3 */
	assert_int_equal(o[1], 3);
	assert_true(rd32(o + 4) >= 600);
	assert_memory_equal(o + 8, dns, 16);
}

static void test_ndp_rs_answered_unicast(void **state)
{
	struct tstack *t = *state;
	const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };
	uint8_t body[4 + 8] = { 0 };

	body[4] = 1;
	body[5] = 1;
	memcpy(body + 6, T_CMAC, 6);
	tstack_feed(t, buf, fr_icmp6(buf, mac,
				     &(struct fr_ip6){ .saddr = cll, .daddr = all_routers,
						       .hlim = 255 },
				     ICMP6_RS, 0, body, sizeof(body)));
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 1);
	expect_ra(t, 0, cll);
	assert_memory_equal(t->cap.frame[0], T_CMAC, 6);
}

static void test_ndp_rs_from_unspecified_multicast_answer(void **state)
{
	struct tstack *t = *state;
	const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };

	tstack_feed(t, buf, fr_icmp6(buf, mac,
				     &(struct fr_ip6){ .saddr = unspec, .daddr = all_routers,
						       .hlim = 255 },
				     ICMP6_RS, 0, (const uint8_t[4]){ 0 }, 4));
	tstack_expect_drop(t, NULL);
	assert_int_equal(t->cap.n, 1);
	expect_ra(t, 0, all_nodes);
}

static void test_ndp_rs_bad_hop_limit_dropped(void **state)
{
	struct tstack *t = *state;

	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC,
				     &(struct fr_ip6){ .saddr = cll, .daddr = all_routers },
				     ICMP6_RS, 0, (const uint8_t[4]){ 0 }, 4));
	tstack_expect_drop(t, "drop_ndp_malformed");
	assert_int_equal(t->cap.n, 0);
}

static void test_ndp_unsolicited_ra_at_start_and_periodic(void **state)
{
	struct tstack *t = *state;
	uint64_t now = t->now_us;

	assert_true(stack_next_deadline(t->s) == UINT64_MAX);
	stack_ipv6_start(t->s, now);
	assert_int_equal(t->cap.n, 1);
	expect_ra(t, 0, all_nodes);
	/* RFC 4861 6.2.4: two more initial ones, 16 s apart, then every 600 s */
	for (int i = 0; i < 2; i++) {
		now += 16000000;
		assert_int_equal(stack_next_deadline(t->s), now);
		cap_reset(&t->cap);
		stack_tick(t->s, now);
		assert_int_equal(t->cap.n, 1);
		expect_ra(t, 0, all_nodes);
	}
	assert_int_equal(stack_next_deadline(t->s), now + 600000000);
	assert_int_equal(cnt_get(stack_counters(t->s), "ndp_router_adverts"), 3);
}

static void test_ndp_container_link_local_learned(void **state)
{
	struct tstack *t = *state;
	uint8_t ll[16];

	assert_false(stack_container_ll6(t->s, ll));
	feed_ns(t, cll, gw, 255, true);
	assert_true(stack_container_ll6(t->s, ll));
	assert_memory_equal(ll, cll, 16);
}

static void test_ndp_na_from_container_ignored(void **state)
{
	struct tstack *t = *state;
	uint8_t body[20] = { 0 };

	memcpy(body + 4, caddr, 16);
	tstack_feed(t, buf, fr_icmp6(buf, OUR_MAC,
				     &(struct fr_ip6){ .saddr = caddr, .daddr = all_nodes, .hlim = 255 },
				     ICMP6_NA, 0, body, sizeof(body)));
	tstack_expect_drop(t, "drop_ndp_not_ours");
	assert_int_equal(t->cap.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ndp_ns_gateway_answered),
		T(test_ndp_ns_dns_and_link_local_answered),
		T(test_ndp_dad_for_container_unanswered),
		T(test_ndp_dad_for_gateway_defended),
		T(test_ndp_ns_hop_limit_not_255_dropped),
		T(test_ndp_ns_from_unspecified_with_slla_dropped),
		T(test_ndp_ns_zero_length_option_dropped),
		T(test_ndp_ns_other_target_not_ours),
		T(test_ndp_rs_answered_unicast),
		T(test_ndp_rs_from_unspecified_multicast_answer),
		T(test_ndp_rs_bad_hop_limit_dropped),
		T(test_ndp_unsolicited_ra_at_start_and_periodic),
		T(test_ndp_container_link_local_learned),
		T(test_ndp_na_from_container_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
