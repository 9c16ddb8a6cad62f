/* test_ip4_reass.c - reassembly of the container's IPv4 fragments (ip4_reass.c; RFC 791 3.2,
 * RFC 815, RFC 1122 3.3.2): in order, out of order, duplicates, overlaps (RFC 5722-style
 * strictness), the size limit, the timeout and its ICMP time exceeded, the slot and byte
 * bounds. The datagrams are ICMP echo requests to the gateway: the stack answers them once
 * whole, so a reply with the right data is the proof of a right reassembly. */
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
#define IPH (ETH_HDR_LEN)
#define SEC 1000000ull

static uint8_t buf[FRAME_MAX];
static uint8_t msg[65536]; /* the ICMP message being fragmented */
static size_t msg_len;

/**
 * make_echo() - an echo request to the gateway with @len data bytes (a pattern seeded by
 * @seed) in msg; returns the ICMP message length
 */
static size_t make_echo(size_t len, uint8_t seed)
{
	msg[0] = ICMP_ECHO_REQUEST;
	msg[1] = 0;
	wr16(msg + 2, 0);
	wr16(msg + 4, 0x7a7a);
	wr16(msg + 6, seed);
	for (size_t i = 0; i < len; i++)
		msg[ICMP_HDR_LEN + i] = (uint8_t)(i * 13 + seed + (i >> 9));
	msg_len = ICMP_HDR_LEN + len;
	wr16(msg + 2, csum_fold(csum_partial(msg, msg_len, 0)));
	return msg_len;
}

/**
 * frag() - the fragment of msg holding bytes [@off, @off + @len), with IPv4 id @id; MF set
 * unless it reaches the end of msg (or @mf forces it: 1 set, 0 clear, -1 automatic)
 */
static size_t frag(uint16_t id, size_t off, size_t len, int mf)
{
	struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .id = id };
	bool more = mf < 0 ? off + len < msg_len : mf;

	ip.frag = (uint16_t)((off / 8) | (more ? IP4_FLAG_MF : 0));
	return fr_ip4(buf, OUR_MAC, &ip, msg + off, len);
}

/** feed_frag() - feed frag(...) and assert the drop counter it moved (NULL: none) */
static void feed_frag(struct tstack *t, uint16_t id, size_t off, size_t len, int mf,
		      const char *drop)
{
	size_t n = frag(id, off, len, mf);

	tstack_feed(t, buf, n);
	tstack_expect_drop(t, drop);
}

/**
 * expect_reply() - one echo reply from the gateway carrying msg's data: one frame, or (above
 * the MTU) in-order fragments that glue back into it, checksum right
 */
static void expect_reply(const struct tstack *t)
{
	static uint8_t r[65536];
	size_t got = 0;

	assert_true(t->cap.n >= 1);
	for (size_t i = 0; i < t->cap.n; i++) {
		const uint8_t *h = t->cap.frame[i] + IPH;
		size_t tl = rd16(h + 2), off = (size_t)(rd16(h + 6) & IP4_FRAG_OFF_MASK) * 8;

		assert_true(csum_ok(h, IP4_HDR_MIN, 0));
		assert_int_equal(t->cap.len[i], IPH + tl);
		assert_int_equal(h[9], PROTO_ICMP);
		assert_int_equal(rd32(h + 12), T_GW);
		assert_int_equal(rd32(h + 16), T_CADDR);
		assert_int_equal(off, got);
		assert_int_equal(!!(rd16(h + 6) & IP4_FLAG_MF), i + 1 < t->cap.n);
		assert_true(off + tl - IP4_HDR_MIN <= sizeof(r));
		memcpy(r + off, h + IP4_HDR_MIN, tl - IP4_HDR_MIN);
		got += tl - IP4_HDR_MIN;
	}
	assert_int_equal(got, msg_len);
	assert_true(csum_ok(r, got, 0));
	assert_int_equal(r[0], ICMP_ECHO_REPLY);
	assert_int_equal(r[1], 0);
	assert_memory_equal(r + 4, msg + 4, msg_len - 4);
	assert_int_equal(ip4_reass_pending(t->s), 0);
}

/* RFC 791 3.2: three fragments in order, 1480 + 1480 + the rest, make the datagram */
static void test_reass_in_order(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 1);
	feed_frag(t, 1, 0, 1480, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	feed_frag(t, 1, 1480, 1480, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	feed_frag(t, 1, 2960, msg_len - 2960, -1, NULL);
	expect_reply(t);
	assert_int_equal(stack_counters(t->s)->ip_frag_reassembled, 1);
}

/* RFC 815: fragments may come in any order; the last one first fixes the length */
static void test_reass_out_of_order(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 2);
	feed_frag(t, 2, 2960, msg_len - 2960, -1, NULL);
	feed_frag(t, 2, 0, 1480, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	feed_frag(t, 2, 1480, 1480, -1, NULL);
	expect_reply(t);
}

/* The largest echo the container can send at MTU 1500 (and the test_udp.sh sizes), 45
 * fragments fed last to first */
static void test_reass_60000_reverse(void **state)
{
	struct tstack *t = *state;
	size_t off;

	make_echo(60000, 3);
	off = (msg_len - 1) / 1480 * 1480;
	for (;; off -= 1480) {
		size_t len = msg_len - off < 1480 ? msg_len - off : 1480;

		feed_frag(t, 3, off, len, -1, NULL);
		if (!off)
			break;
		assert_int_equal(t->cap.n, 0);
	}
	expect_reply(t);
}

/* RFC 8200 4.5 (the IPv6 rule, which we follow): an exact duplicate is dropped alone and the
 * datagram still completes */
static void test_reass_duplicate_dropped_alone(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 4);
	feed_frag(t, 4, 0, 1480, -1, NULL);
	feed_frag(t, 4, 0, 1480, -1, "drop_ip_frag_duplicate");
	feed_frag(t, 4, 1480, 1480, -1, NULL);
	feed_frag(t, 4, 2960, msg_len - 2960, -1, NULL);
	expect_reply(t);
	/* a duplicate of a fragment of a datagram already delivered starts a new one */
	feed_frag(t, 4, 1480, 1480, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip4_reass_pending(t->s), 1);
}

/* RFC 5722 strictness: a fragment overlapping another (by one 8-byte unit) discards the
 * whole datagram; what follows of it cannot complete it */
static void test_reass_overlap_discards_datagram(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 5);
	feed_frag(t, 5, 0, 1480, -1, NULL);
	feed_frag(t, 5, 1472, 1480, -1, "drop_ip_frag_overlap");
	assert_int_equal(ip4_reass_pending(t->s), 0);
	feed_frag(t, 5, 1480, 1480, -1, NULL);
	feed_frag(t, 5, 2960, msg_len - 2960, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip4_reass_pending(t->s), 1);
}

/* Same range, different bytes: the attack overlaps exist for; the datagram goes */
static void test_reass_same_range_other_bytes_is_overlap(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 6);
	feed_frag(t, 6, 0, 1480, -1, NULL);
	msg[100] ^= 0xff;
	feed_frag(t, 6, 0, 1480, -1, "drop_ip_frag_overlap");
	assert_int_equal(ip4_reass_pending(t->s), 0);
}

/* RFC 791: the fragment with MF clear fixes the length; anything past it, or a second last
 * fragment ending elsewhere, contradicts it */
static void test_reass_conflicting_end_discards_datagram(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 7);
	feed_frag(t, 7, 1480, 1480, 0, NULL);   /* "last", ends at 2960 */
	feed_frag(t, 7, 2960, 48, -1, "drop_ip_frag_overlap");
	assert_int_equal(ip4_reass_pending(t->s), 0);
	feed_frag(t, 7, 2960, 48, -1, NULL);    /* the true last, ends at 3008 */
	feed_frag(t, 7, 8, 1472, 0, "drop_ip_frag_overlap"); /* a last ending at 1480 */
	assert_int_equal(ip4_reass_pending(t->s), 0);
	/* a last fragment below data already held */
	feed_frag(t, 7, 1480, 1480, 1, NULL);
	feed_frag(t, 7, 8, 8, 0, "drop_ip_frag_overlap");
	assert_int_equal(t->cap.n, 0);
}

/* RFC 791 3.2: all but the last fragment carry a multiple of 8 bytes; an empty one is none */
static void test_reass_malformed_fragments_dropped(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 8);
	feed_frag(t, 8, 0, 1479, 1, "drop_ip_frag_malformed");
	feed_frag(t, 8, 1480, 0, 1, "drop_ip_frag_malformed");
	feed_frag(t, 8, 1480, 0, 0, "drop_ip_frag_malformed");
	assert_int_equal(ip4_reass_pending(t->s), 0);
}

/* RFC 791: 65535 bytes with the header at most (the "ping of death" went past it) */
static void test_reass_too_big_dropped(void **state)
{
	struct tstack *t = *state;

	make_echo(65000, 9);
	feed_frag(t, 9, 0, 1480, -1, NULL);
	/* offset 65512 + 8 bytes = 65520 > 65515 */
	wr16(msg + 65512, 0);
	{
		struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .id = 9,
				    .frag = (uint16_t)(65512 / 8) };
		size_t n = fr_ip4(buf, OUR_MAC, &ip, msg, 8);

		tstack_feed(t, buf, n);
		tstack_expect_drop(t, "drop_ip_frag_too_big");
	}
	assert_int_equal(ip4_reass_pending(t->s), 0);
	/* the most a datagram may hold, 65515 bytes after a 20-byte header, still works (the
	 * reply, 15 bytes over the MTU, goes back in two fragments) */
	make_echo(65515 - ICMP_HDR_LEN, 10);
	for (size_t off = 0; off < msg_len; off += 32000)
		feed_frag(t, 10, off, msg_len - off < 32000 ? msg_len - off : 32000, -1, NULL);
	expect_reply(t);
}

/* RFC 1122 3.3.2: an incomplete datagram is discarded at the timeout, and with fragment zero
 * held the container hears ICMP time exceeded, code 1, quoting its header */
static void test_reass_timeout_sends_time_exceeded(void **state)
{
	struct tstack *t = *state;
	struct stack_counters before;
	struct parsed p;

	make_echo(3000, 11);
	feed_frag(t, 11, 0, 1480, -1, NULL);
	assert_int_equal(stack_next_deadline(t->s), t->now_us + 15 * SEC);
	cap_reset(&t->cap);
	before = *stack_counters(t->s);
	stack_tick(t->s, t->now_us + 15 * SEC - 1);
	assert_int_equal(ip4_reass_pending(t->s), 1);
	stack_tick(t->s, t->now_us + 15 * SEC);
	cnt_expect_drop(&before, stack_counters(t->s), "drop_ip_frag_timeout");
	assert_int_equal(ip4_reass_pending(t->s), 0);
	assert_int_equal(stack_next_deadline(t->s), UINT64_MAX);
	assert_int_equal(t->cap.n, 1);
	fr_parse(t->cap.frame[0], t->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_TIME_EXCEEDED);
	assert_int_equal(p.icmp_code, 1);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(p.daddr, T_CADDR);
	assert_true(p.icmp_body_len >= IP4_HDR_MIN + 8);
	assert_int_equal(rd16(p.icmp_body + 4), 11);         /* the datagram's id */
	assert_int_equal(rd32(p.icmp_body + 16), T_GW);
	assert_memory_equal(p.icmp_body + IP4_HDR_MIN, msg, 8);
}

/* Without fragment zero there is nothing to quote: discarded silently (RFC 1122 3.3.2) */
static void test_reass_timeout_without_first_silent(void **state)
{
	struct tstack *t = *state;
	struct stack_counters before;

	make_echo(3000, 12);
	feed_frag(t, 12, 1480, 1480, -1, NULL);
	cap_reset(&t->cap);
	before = *stack_counters(t->s);
	stack_tick(t->s, t->now_us + 15 * SEC);
	cnt_expect_drop(&before, stack_counters(t->s), "drop_ip_frag_timeout");
	assert_int_equal(t->cap.n, 0);
	assert_int_equal(ip4_reass_pending(t->s), 0);
}

/* 16 datagrams at a time: a 17th evicts the oldest (counted once), the others still finish */
static void test_reass_slot_exhaustion_evicts_oldest(void **state)
{
	struct tstack *t = *state;

	make_echo(3000, 13);
	for (uint16_t id = 100; id < 116; id++) {
		feed_frag(t, id, 0, 1480, -1, NULL);
		t->now_us += 1000;
	}
	assert_int_equal(ip4_reass_pending(t->s), 16);
	feed_frag(t, 116, 0, 1480, -1, "drop_ip_frag_over_limit");
	assert_int_equal(ip4_reass_pending(t->s), 16);
	/* id 100 is gone: its other fragments start over (and evict 101) */
	feed_frag(t, 100, 1480, 1480, -1, "drop_ip_frag_over_limit");
	feed_frag(t, 100, 2960, msg_len - 2960, -1, NULL);
	assert_int_equal(t->cap.n, 0);
	/* id 102 was kept */
	feed_frag(t, 102, 1480, 1480, -1, NULL);
	feed_frag(t, 102, 2960, msg_len - 2960, -1, NULL);
	assert_int_equal(t->cap.n, 1);
	{
		struct parsed p;

		fr_parse(t->cap.frame[0], t->cap.len[0], &p);
		assert_int_equal(p.icmp_type, ICMP_ECHO_REPLY);
		assert_memory_equal(p.icmp_body, msg + ICMP_HDR_LEN, msg_len - ICMP_HDR_LEN);
	}
	assert_int_equal(ip4_reass_pending(t->s), 15);
}

/* The byte budget: four partial datagrams of the largest size; a fifth is refused, until the
 * four time out */
static void test_reass_byte_budget(void **state)
{
	struct tstack *t = *state;

	make_echo(65000, 14);
	for (uint16_t id = 200; id < 204; id++)
		feed_frag(t, id, 63992, 1000, -1, NULL);
	assert_int_equal(ip4_reass_pending(t->s), 4);
	feed_frag(t, 204, 63992, 1000, -1, "drop_ip_frag_over_limit");
	assert_int_equal(ip4_reass_pending(t->s), 4);
	t->now_us += 15 * SEC;
	stack_tick(t->s, t->now_us);
	assert_int_equal(ip4_reass_pending(t->s), 0);
	assert_int_equal(stack_counters(t->s)->drop_ip_frag_timeout, 4);
	feed_frag(t, 204, 63992, 1000, -1, NULL);
	feed_frag(t, 204, 0, 63992, -1, NULL);
	feed_frag(t, 204, 64992, msg_len - 64992, -1, NULL);
	expect_reply(t);
}

/* Fragments of a datagram to an address that is not ours never get a slot */
static void test_reass_not_for_us_first(void **state)
{
	struct tstack *t = *state;
	struct fr_ip ip = { .saddr = T_CADDR, .daddr = 0xe0000001u, .proto = PROTO_ICMP, .id = 1,
			    .frag = IP4_FLAG_MF };
	size_t n;

	make_echo(3000, 16);
	n = fr_ip4(buf, OUR_MAC, &ip, msg, 1480);
	tstack_feed(t, buf, n);
	tstack_expect_drop(t, "drop_not_for_us");
	assert_int_equal(ip4_reass_pending(t->s), 0);
}

static uint32_t rnd_state = 0x12345678;

/** rnd() - xorshift32: a fixed sequence so that a failure reproduces */
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Hostile fragments: random ids, offsets, lengths and flags. Never more than one drop per
 * frame, nothing but echo replies or time exceeded sent, bounds held (ASan checks memory) */
static void test_reass_random_fragments(void **state)
{
	struct tstack *t = *state;

	make_echo(65000, 17);
	for (int i = 0; i < 20000; i++) {
		uint16_t id = (uint16_t)(rnd() % 24);
		size_t off = (size_t)(rnd() % 8192) * 8;
		size_t len = rnd() % 4 ? (rnd() % 185) * 8 : rnd() % 1500;
		struct fr_ip ip = { .daddr = T_GW, .proto = PROTO_ICMP, .id = id };
		size_t n;

		if (rnd() % 3 == 0)
			off %= 4096;
		if (off + len > sizeof(msg))
			len = sizeof(msg) - off;
		ip.frag = (uint16_t)(off / 8 | (rnd() % 4 ? IP4_FLAG_MF : 0));
		if (!ip.frag)
			ip.frag = IP4_FLAG_MF;
		n = fr_ip4(buf, OUR_MAC, &ip, msg + off, len);
		tstack_feed(t, buf, n);
		assert_true(cnt_drops(stack_counters(t->s)) - cnt_drops(&t->before) <= 1);
		assert_true(ip4_reass_pending(t->s) <= 16);
		for (size_t j = 0; j < t->cap.n; j++) {
			struct parsed p;

			if (rd16(t->cap.frame[j] + 12) == ETHERTYPE_ARP)
				continue;
			if (rd16(t->cap.frame[j] + IPH + 6) & (IP4_FLAG_MF | IP4_FRAG_OFF_MASK))
				continue; /* a fragmented reply: checked whole elsewhere */
			fr_parse(t->cap.frame[j], t->cap.len[j], &p);
			assert_int_equal(p.proto, PROTO_ICMP);
			assert_int_equal(p.daddr, T_CADDR);
		}
		if (i % 1000 == 999) {
			t->now_us += 16 * SEC;
			stack_tick(t->s, t->now_us);
			assert_int_equal(ip4_reass_pending(t->s), 0);
		}
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tstack_setup, tstack_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reass_in_order),
		T(test_reass_out_of_order),
		T(test_reass_60000_reverse),
		T(test_reass_duplicate_dropped_alone),
		T(test_reass_overlap_discards_datagram),
		T(test_reass_same_range_other_bytes_is_overlap),
		T(test_reass_conflicting_end_discards_datagram),
		T(test_reass_malformed_fragments_dropped),
		T(test_reass_too_big_dropped),
		T(test_reass_timeout_sends_time_exceeded),
		T(test_reass_timeout_without_first_silent),
		T(test_reass_slot_exhaustion_evicts_oldest),
		T(test_reass_byte_budget),
		T(test_reass_not_for_us_first),
		T(test_reass_random_fragments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
