/* test_dhcp.c - the DHCPv4 server (dhcp.c): raw client messages in through stack_input(),
 * replies taken apart field by field (RFC 2131 table 3, 4.1, 4.3) and every hostile message
 * counted once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "frames.h"
#include "stack.h"
#include "wire.h"

#define SEC 1000000ULL
#define XID 0x3903f326u
#define BCAST 0xffffffffu

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/**
 * struct fx - a stack and its captured output
 * @cap:	frames sent (first member: cap_tx casts ctx to it)
 * @s:		the stack
 * @cfg:	its configuration
 * @before:	counters before the last feed()
 * @now_us:	time of the next feed()
 */
struct fx {
	struct capture cap;
	struct stack *s;
	struct stack_cfg cfg;
	struct stack_counters before;
	uint64_t now_us;
};

/**
 * fx_new() - a stack with the defaults changed by @edit (may be NULL)
 * Return: the fixture
 */
static struct fx *fx_new(void (*edit)(struct stack_cfg *))
{
	struct fx *x = calloc(1, sizeof(*x));
	struct stack_ops ops = { .tx = cap_tx };

	assert_non_null(x);
	stack_cfg_defaults(&x->cfg);
	if (edit)
		edit(&x->cfg);
	x->s = stack_new(&x->cfg, &ops, x);
	assert_non_null(x->s);
	x->now_us = SEC;
	return x;
}

/** setup() - cmocka setup: the default stack (DHCP on) */
static int setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

/** teardown() - cmocka teardown */
static int teardown(void **state)
{
	struct fx *x = *state;

	stack_free(x->s);
	cap_reset(&x->cap);
	free(x);
	return 0;
}

/**
 * feed_dhcp() - send a client message: BOOTP @b of @blen bytes in UDP 68 -> 67
 * @x:		fixture
 * @dst_mac:	Ethernet destination
 * @saddr:	IP source (0: 0.0.0.0)
 * @daddr:	IP destination
 * @b, @blen:	the BOOTP message
 */
static void feed_dhcp(struct fx *x, const uint8_t dst_mac[6], uint32_t saddr, uint32_t daddr,
		      const uint8_t *b, size_t blen)
{
	static uint8_t frame[2048];
	struct fr_ip ip = { .saddr = saddr, .daddr = daddr, .src_zero = !saddr };
	size_t n = fr_udp_ip(frame, dst_mac, &ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, b, blen,
			     false);

	cap_reset(&x->cap);
	x->before = *stack_counters(x->s);
	stack_input(x->s, frame, n, x->now_us);
}

/**
 * msg() - a client message of @type with the extra options @extra (no END), ending with END
 * @buf:	at least 600 bytes
 * Return: its length
 */
static size_t msg(uint8_t *buf, uint8_t type, uint16_t flags, uint32_t ciaddr,
		  const uint8_t *extra, size_t extra_len)
{
	uint8_t o[320];
	size_t n = 0;

	o[n++] = DHO_MSG_TYPE;
	o[n++] = 1;
	o[n++] = type;
	if (extra_len)
		memcpy(o + n, extra, extra_len);
	n += extra_len;
	o[n++] = DHO_END;
	return fr_bootp(buf, XID, flags, ciaddr, T_CMAC, o, n);
}

/** opt4() - write option @code with a 4-byte value @v at @o; returns 6 */
static size_t opt4(uint8_t *o, uint8_t code, uint32_t v)
{
	o[0] = code;
	o[1] = 4;
	wr32(o + 2, v);
	return 6;
}

/**
 * find_opt() - option @code in a reply's options (after the checked cookie)
 * @len:	set to its length
 * Return: its value, or NULL if absent (the options must end with END)
 */
static const uint8_t *find_opt(const struct parsed *p, uint8_t code, size_t *len)
{
	const uint8_t *o = p->payload + DHCP_OPTS_OFF;
	size_t n = p->payload_len - DHCP_OPTS_OFF, i = 0;

	while (i < n) {
		if (o[i] == DHO_PAD) {
			i++;
			continue;
		}
		if (o[i] == DHO_END)
			return NULL;
		assert_true(i + 2 <= n && i + 2 + o[i + 1] <= n);
		if (o[i] == code) {
			*len = o[i + 1];
			return o + i + 2;
		}
		i += 2 + (size_t)o[i + 1];
	}
	fail_msg("reply options without END");
	return NULL;
}

/** opt_u32() - the 4-byte option @code of a reply (fails the test if absent or sized wrong) */
static uint32_t opt_u32(const struct parsed *p, uint8_t code)
{
	size_t len = 0;
	const uint8_t *v = find_opt(p, code, &len);

	assert_non_null(v);
	assert_int_equal(len, 4);
	return rd32(v);
}

/** reply_type() - DHO_MSG_TYPE of a reply */
static uint8_t reply_type(const struct parsed *p)
{
	size_t len = 0;
	const uint8_t *v = find_opt(p, DHO_MSG_TYPE, &len);

	assert_non_null(v);
	assert_int_equal(len, 1);
	return v[0];
}

/**
 * one_reply() - exactly one frame was sent: a valid UDP 67 -> 68 BOOTREPLY from the gateway
 * for our XID and chaddr; parsed into @p
 */
static void one_reply(struct fx *x, struct parsed *p)
{
	const uint8_t *b;

	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], p);
	assert_int_equal(p->proto, PROTO_UDP);
	assert_int_equal(p->saddr, T_GW);
	assert_int_equal(p->sport, DHCP_SERVER_PORT);
	assert_int_equal(p->dport, DHCP_CLIENT_PORT);
	assert_memory_equal(p->src, x->cfg.mac, 6);
	assert_true(p->payload_len >= DHCP_MIN_MSG);
	assert_true(p->payload_len <= DHCP_MAX_MSG);
	b = p->payload;
	assert_int_equal(b[0], BOOTREPLY);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 6);
	assert_int_equal(rd32(b + 4), XID);
	assert_memory_equal(b + 28, T_CMAC, 6);
	assert_int_equal(rd32(b + DHCP_FIXED_LEN), DHCP_COOKIE);
}

/** expect_nothing() - no frame sent, and @drop (or no drop_* counter) went up by one */
static void expect_nothing(struct fx *x, const char *drop)
{
	assert_int_equal(x->cap.n, 0);
	cnt_expect_drop(&x->before, stack_counters(x->s), drop);
}

static void test_discover_gets_offer_of_link_address(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	struct parsed p;
	size_t len = 0;
	const uint8_t *v;

	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	one_reply(x, &p);
	cnt_expect_drop(&x->before, stack_counters(x->s), NULL);
	assert_int_equal(reply_type(&p), DHCPOFFER);
	/* RFC 2131 4.1: no broadcast flag, no ciaddr: to yiaddr at chaddr */
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(rd32(p.payload + 12), 0);       /* ciaddr */
	assert_int_equal(rd32(p.payload + 16), T_CADDR); /* yiaddr: the link's address */
	assert_int_equal(rd16(p.payload + 10), 0);       /* flags as the client's */
	assert_int_equal(opt_u32(&p, DHO_SERVER_ID), T_GW);
	assert_int_equal(opt_u32(&p, DHO_SUBNET_MASK), 0xffffff00u);
	assert_int_equal(opt_u32(&p, DHO_ROUTER), T_GW);
	assert_int_equal(opt_u32(&p, DHO_DNS), T_DNS);
	assert_int_equal(opt_u32(&p, DHO_LEASE_TIME), 86400);
	assert_int_equal(opt_u32(&p, DHO_RENEWAL_TIME), 43200);
	assert_int_equal(opt_u32(&p, DHO_REBINDING_TIME), 75600);
	v = find_opt(&p, DHO_MTU, &len);
	assert_non_null(v);
	assert_int_equal(len, 2);
	assert_int_equal(rd16(v), STACK_DEFAULT_MTU);
	assert_null(find_opt(&p, DHO_CLIENT_ID, &len)); /* none was sent */
	assert_int_equal(stack_counters(x->s)->dhcp_offers, 1);
	/* the container's MAC is known from its DHCP frame */
	{
		uint8_t mac[6];

		assert_true(stack_container_mac(x->s, mac));
		assert_memory_equal(mac, T_CMAC, 6);
	}
}

static void test_discover_broadcast_flag_gets_broadcast_offer(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	struct parsed p;

	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, DHCP_FLAG_BROADCAST, 0, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPOFFER);
	assert_memory_equal(p.dst, bcast_mac, 6);
	assert_int_equal(p.daddr, BCAST);
	assert_int_equal(rd16(p.payload + 10), DHCP_FLAG_BROADCAST);
}

static void test_discover_requesting_other_address_still_offers_ours(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[8];
	struct parsed p;

	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPDISCOVER, 0, 0, o, opt4(o, DHO_REQUESTED_ADDR, 0x0a00020fu)));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPOFFER);
	assert_int_equal(rd32(p.payload + 16), T_CADDR);
}

static void test_request_selecting_gets_ack(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[16];
	size_t n = opt4(o, DHO_SERVER_ID, T_GW);
	struct parsed p;

	n += opt4(o + n, DHO_REQUESTED_ADDR, T_CADDR);
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, 0, 0, o, n));
	one_reply(x, &p);
	cnt_expect_drop(&x->before, stack_counters(x->s), NULL);
	assert_int_equal(reply_type(&p), DHCPACK);
	assert_int_equal(rd32(p.payload + 16), T_CADDR);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(opt_u32(&p, DHO_LEASE_TIME), 86400);
	assert_int_equal(opt_u32(&p, DHO_ROUTER), T_GW);
	assert_int_equal(stack_counters(x->s)->dhcp_acks, 1);
}

static void test_request_init_reboot_right_address_gets_ack(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[8];
	struct parsed p;

	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPREQUEST, 0, 0, o, opt4(o, DHO_REQUESTED_ADDR, T_CADDR)));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPACK);
}

/** check_nak() - one reply, a NAK as RFC 2131 table 3 and 4.1 shape it */
static void check_nak(struct fx *x)
{
	struct parsed p;
	size_t len = 0;

	one_reply(x, &p);
	cnt_expect_drop(&x->before, stack_counters(x->s), NULL);
	assert_int_equal(reply_type(&p), DHCPNAK);
	/* 4.1: a NAK goes to the broadcast whatever the flag */
	assert_memory_equal(p.dst, bcast_mac, 6);
	assert_int_equal(p.daddr, BCAST);
	assert_int_equal(rd32(p.payload + 16), 0); /* no yiaddr */
	assert_int_equal(opt_u32(&p, DHO_SERVER_ID), T_GW);
	assert_null(find_opt(&p, DHO_LEASE_TIME, &len));
	assert_null(find_opt(&p, DHO_ROUTER, &len));
	assert_non_null(find_opt(&p, DHO_MESSAGE, &len));
	assert_int_equal(stack_counters(x->s)->dhcp_naks, x->before.dhcp_naks + 1);
}

static void test_request_wrong_server_id_gets_nak(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[16];
	size_t n = opt4(o, DHO_SERVER_ID, 0x0a000209u);

	n += opt4(o + n, DHO_REQUESTED_ADDR, T_CADDR);
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, 0, 0, o, n));
	check_nak(x);
}

static void test_request_wrong_address_gets_nak(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[16];
	size_t n = opt4(o, DHO_SERVER_ID, T_GW);

	/* SELECTING for an address we never offered */
	n += opt4(o + n, DHO_REQUESTED_ADDR, 0x0a00020fu);
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, DHCP_FLAG_BROADCAST, 0, o, n));
	check_nak(x);
	/* INIT-REBOOT with an address remembered from another network */
	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPREQUEST, 0, 0, o, opt4(o, DHO_REQUESTED_ADDR, 0xc0a80105u)));
	check_nak(x);
	/* SELECTING without the requested address it must carry (4.3.2) */
	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPREQUEST, 0, 0, o, opt4(o, DHO_SERVER_ID, T_GW)));
	check_nak(x);
}

static void test_request_renewing_unicast_gets_unicast_ack(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	struct parsed p;

	/* RENEWING (4.4.5): from the leased address to the server, ciaddr set, no options */
	feed_dhcp(x, x->cfg.mac, T_CADDR, T_GW, b, msg(b, DHCPREQUEST, 0, T_CADDR, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPACK);
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(rd32(p.payload + 12), T_CADDR); /* ciaddr returned */
	assert_int_equal(rd32(p.payload + 16), T_CADDR);
	/* REBINDING: the same, broadcast */
	feed_dhcp(x, bcast_mac, T_CADDR, BCAST, b, msg(b, DHCPREQUEST, 0, T_CADDR, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPACK);
	assert_int_equal(p.daddr, T_CADDR);
	/* RENEWING an address that is not the link's */
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, 0, 0x0a000277u, NULL, 0));
	check_nak(x);
}

static void test_request_without_state_is_malformed(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];

	/* no server id, no requested address, no ciaddr: no state of 4.3.2 sends this */
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, 0, 0, NULL, 0));
	expect_nothing(x, "drop_dhcp_malformed");
}

static void test_inform_gets_ack_without_lease(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	struct parsed p;
	size_t len = 0;

	feed_dhcp(x, x->cfg.mac, T_CADDR, T_GW, b, msg(b, DHCPINFORM, 0, T_CADDR, NULL, 0));
	one_reply(x, &p);
	cnt_expect_drop(&x->before, stack_counters(x->s), NULL);
	/* 4.3.5: an ACK to ciaddr with the configuration, no yiaddr, no lease time */
	assert_int_equal(reply_type(&p), DHCPACK);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(rd32(p.payload + 16), 0);
	assert_int_equal(rd32(p.payload + 12), T_CADDR);
	assert_null(find_opt(&p, DHO_LEASE_TIME, &len));
	assert_null(find_opt(&p, DHO_RENEWAL_TIME, &len));
	assert_int_equal(opt_u32(&p, DHO_ROUTER), T_GW);
	assert_int_equal(opt_u32(&p, DHO_DNS), T_DNS);
	/* an INFORM from an address that is not the link's is never NAKed: no answer */
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPINFORM, 0, 0x0a000277u, NULL, 0));
	expect_nothing(x, "drop_dhcp_not_ours");
}

static void test_release_counted_no_reply(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[8];

	feed_dhcp(x, x->cfg.mac, T_CADDR, T_GW, b,
		  msg(b, DHCPRELEASE, 0, T_CADDR, o, opt4(o, DHO_SERVER_ID, T_GW)));
	expect_nothing(x, NULL);
	assert_int_equal(stack_counters(x->s)->dhcp_releases, 1);
	/* for another server, or without the server id RFC 2131 table 5 requires */
	feed_dhcp(x, x->cfg.mac, T_CADDR, T_GW, b,
		  msg(b, DHCPRELEASE, 0, T_CADDR, o, opt4(o, DHO_SERVER_ID, 0x0a000209u)));
	expect_nothing(x, "drop_dhcp_not_ours");
	feed_dhcp(x, x->cfg.mac, T_CADDR, T_GW, b, msg(b, DHCPRELEASE, 0, T_CADDR, NULL, 0));
	expect_nothing(x, "drop_dhcp_not_ours");
	assert_int_equal(stack_counters(x->s)->dhcp_releases, 1);
	/* the address is still offered afterwards */
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	assert_int_equal(x->cap.n, 1);
}

static void test_decline_holds_address(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[16];
	size_t n = opt4(o, DHO_SERVER_ID, T_GW);
	struct parsed p;

	n += opt4(o + n, DHO_REQUESTED_ADDR, T_CADDR);
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDECLINE, 0, 0, o, n));
	expect_nothing(x, NULL);
	assert_int_equal(stack_counters(x->s)->dhcp_declines, 1);
	/* RFC 2131 4.3.3: marked unavailable: no OFFER, and a REQUEST for it is NAKed */
	x->now_us += 10 * SEC;
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	expect_nothing(x, "drop_dhcp_unavailable");
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPREQUEST, 0, 0, o, n));
	check_nak(x);
	/* until the hold ends */
	x->now_us += DHCP_DECLINE_HOLD_US;
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPOFFER);
	/* a DECLINE of another address, or for another server, changes nothing */
	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPDECLINE, 0, 0, o, opt4(o, DHO_REQUESTED_ADDR, T_CADDR)));
	expect_nothing(x, "drop_dhcp_not_ours");
	assert_int_equal(stack_counters(x->s)->dhcp_declines, 1);
}

static void test_client_id_echoed(void **state)
{
	struct fx *x = *state;
	uint8_t b[600], o[300];
	struct parsed p;
	const uint8_t *v;
	size_t len = 0;

	/* RFC 6842 3: returned as sent; the longest one (255 bytes) still fits the reply */
	o[0] = DHO_CLIENT_ID;
	o[1] = 255;
	for (int i = 0; i < 255; i++)
		o[2 + i] = (uint8_t)i;
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, o, 257));
	one_reply(x, &p);
	v = find_opt(&p, DHO_CLIENT_ID, &len);
	assert_non_null(v);
	assert_int_equal(len, 255);
	assert_memory_equal(v, o + 2, 255);
	assert_int_equal(opt_u32(&p, DHO_LEASE_TIME), 86400);
}

static void test_pad_and_unknown_options_skipped(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	/* PAD, a parameter request list, a hostname, then the type after them */
	static const uint8_t o[] = { 0, 0, 55, 4, 1, 3, 6, 26, 12, 3, 'a', 'b', 'c',
				     53, 1, DHCPDISCOVER, 255, 0, 0, 0 };

	feed_dhcp(x, bcast_mac, 0, BCAST, b, fr_bootp(b, XID, 0, 0, T_CMAC, o, sizeof(o)));
	assert_int_equal(x->cap.n, 1);
	cnt_expect_drop(&x->before, stack_counters(x->s), NULL);
}

/**
 * expect_malformed() - @b of @blen bytes is dropped and counted in @drop, unanswered
 */
static void expect_malformed(struct fx *x, const uint8_t *b, size_t blen, const char *drop)
{
	feed_dhcp(x, bcast_mac, 0, BCAST, b, blen);
	expect_nothing(x, drop);
}

static void test_malformed_messages_counted(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	size_t n;

	/* shorter than the fixed header and the cookie */
	n = msg(b, DHCPDISCOVER, 0, 0, NULL, 0);
	expect_malformed(x, b, DHCP_OPTS_OFF - 1, "drop_dhcp_malformed");
	expect_malformed(x, b, 100, "drop_dhcp_malformed");
	expect_malformed(x, b, 0, "drop_dhcp_malformed");
	/* op BOOTREPLY from a client */
	b[0] = BOOTREPLY;
	expect_malformed(x, b, n, "drop_dhcp_malformed");
	b[0] = BOOTREQUEST;
	/* htype not Ethernet, hlen not 6 */
	b[1] = 6;
	expect_malformed(x, b, n, "drop_dhcp_malformed");
	b[1] = 1;
	b[2] = 16;
	expect_malformed(x, b, n, "drop_dhcp_malformed");
	b[2] = 6;
	/* bad magic cookie */
	b[DHCP_FIXED_LEN] = 0x64;
	expect_malformed(x, b, n, "drop_dhcp_malformed");
	b[DHCP_FIXED_LEN] = 0x63;
	/* the same message intact is answered */
	feed_dhcp(x, bcast_mac, 0, BCAST, b, n);
	assert_int_equal(x->cap.n, 1);
}

static void test_malformed_options_counted(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	/* each without the trailing END, which the case adds or not */
	static const struct {
		uint8_t o[16];
		size_t len;
		const char *why;
	} bad[] = {
		{ { 53, 1, 1 }, 3, "missing END" },
		{ { 53, 1, 1, 0, 0 }, 5, "missing END after PAD" },
		{ { 53, 1, 1, 12, 40, 'a', 'b' }, 7, "option longer than the datagram" },
		{ { 53, 1, 1, 12 }, 4, "option code without a length" },
		{ { 53, 2, 1, 1, 255 }, 5, "message type of length 2" },
		{ { 53, 1, 1, 53, 1, 3, 255 }, 7, "message type twice" },
		{ { 53, 1, 0, 255 }, 4, "message type 0" },
		{ { 53, 1, 1, 50, 3, 10, 0, 2, 255 }, 9, "requested address of 3 bytes" },
		{ { 53, 1, 1, 54, 5, 10, 0, 2, 2, 0, 255 }, 11, "server id of 5 bytes" },
		{ { 53, 1, 1, 61, 1, 1, 255 }, 7, "client id of 1 byte" },
		{ { 53, 1, 1, 61, 0, 255 }, 6, "client id of 0 bytes" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = fr_bootp(b, XID, 0, 0, T_CMAC, bad[i].o, bad[i].len);

		print_message("case: %s\n", bad[i].why);
		expect_malformed(x, b, n, "drop_dhcp_malformed");
	}
}

static void test_unsupported_messages_counted(void **state)
{
	struct fx *x = *state;
	uint8_t b[600];
	static const uint8_t end[] = { 255 };
	size_t n;

	/* BOOTP: no message type */
	expect_malformed(x, b, fr_bootp(b, XID, 0, 0, T_CMAC, end, 1), "drop_dhcp_unsupported");
	/* a server's message types from the container */
	expect_malformed(x, b, msg(b, DHCPOFFER, 0, 0, NULL, 0), "drop_dhcp_unsupported");
	expect_malformed(x, b, msg(b, DHCPACK, 0, 0, NULL, 0), "drop_dhcp_unsupported");
	expect_malformed(x, b, msg(b, 200, 0, 0, NULL, 0), "drop_dhcp_unsupported");
	/* relayed (giaddr set) */
	n = msg(b, DHCPDISCOVER, 0, 0, NULL, 0);
	wr32(b + 24, 0x0a000201u);
	expect_malformed(x, b, n, "drop_dhcp_unsupported");
}

static void test_bad_udp_and_fragments_counted(void **state)
{
	struct fx *x = *state;
	static uint8_t frame[2048];
	uint8_t b[600];
	size_t blen = msg(b, DHCPDISCOVER, 0, 0, NULL, 0), n;
	struct fr_ip ip = { .daddr = BCAST, .src_zero = true };

	n = fr_udp_ip(frame, bcast_mac, &ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, b, blen, true);
	x->before = *stack_counters(x->s);
	cap_reset(&x->cap);
	stack_input(x->s, frame, n, x->now_us);
	expect_nothing(x, "drop_udp_bad_checksum");

	/* UDP length past the datagram */
	n = fr_udp_ip(frame, bcast_mac, &ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, b, blen, false);
	wr16(frame + ETH_HDR_LEN + IP4_HDR_MIN + 4, (uint16_t)(blen + 100));
	x->before = *stack_counters(x->s);
	stack_input(x->s, frame, n, x->now_us);
	expect_nothing(x, "drop_udp_malformed");

	/* a fragment (MF): no client fragments a DHCP message */
	ip.frag = IP4_FLAG_MF;
	n = fr_udp_ip(frame, bcast_mac, &ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, b, blen, false);
	x->before = *stack_counters(x->s);
	stack_input(x->s, frame, n, x->now_us);
	expect_nothing(x, "drop_dhcp_malformed");
}

static void test_other_broadcast_dropped(void **state)
{
	struct fx *x = *state;
	static uint8_t frame[2048];
	uint8_t data[32] = { 0 };
	struct fr_ip ip = { .daddr = BCAST };
	size_t n;

	/* RFC 1122 3.3.6: a broadcast that is not DHCP's goes no further (NetBIOS here) */
	n = fr_udp_ip(frame, bcast_mac, &ip, 137, 137, data, sizeof(data), false);
	x->before = *stack_counters(x->s);
	cap_reset(&x->cap);
	stack_input(x->s, frame, n, x->now_us);
	expect_nothing(x, "drop_not_for_us");
	/* a DHCP-port datagram from another source is not the server's either */
	ip.saddr = 0x0a000277u;
	n = fr_udp_ip(frame, bcast_mac, &ip, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, data,
		      sizeof(data), false);
	x->before = *stack_counters(x->s);
	stack_input(x->s, frame, n, x->now_us);
	expect_nothing(x, "drop_not_for_us");
}

/** cfg_no_dhcp() - dhcp = no */
static void cfg_no_dhcp(struct stack_cfg *c)
{
	c->dhcp = false;
}

static void test_dhcp_off_answers_nothing(void **state)
{
	struct fx *x = fx_new(cfg_no_dhcp);
	uint8_t b[600];

	(void)state;
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	expect_nothing(x, "drop_not_for_us");
	/* to our MAC, from 0.0.0.0: not the container's address */
	feed_dhcp(x, x->cfg.mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	expect_nothing(x, "drop_ip_bad_source");
	assert_int_equal(stack_counters(x->s)->dhcp_offers, 0);
	teardown((void **)&x);
}

/** cfg_small() - another link: /16, MTU 1500, other addresses */
static void cfg_small(struct stack_cfg *c)
{
	c->addr = 0xac10000fu;    /* 172.16.0.15 */
	c->prefix_len = 16;
	c->gateway = 0xac100002u; /* 172.16.0.2 */
	c->dns = 0xac100003u;
	c->mtu = 1500;
}

static void test_options_follow_link_config(void **state)
{
	struct fx *x = fx_new(cfg_small);
	uint8_t b[600];
	struct parsed p;
	size_t len = 0;
	const uint8_t *v;

	(void)state;
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.saddr, 0xac100002u);
	assert_int_equal(rd32(p.payload + 16), 0xac10000fu);
	assert_int_equal(opt_u32(&p, DHO_SERVER_ID), 0xac100002u);
	assert_int_equal(opt_u32(&p, DHO_SUBNET_MASK), 0xffff0000u);
	assert_int_equal(opt_u32(&p, DHO_ROUTER), 0xac100002u);
	assert_int_equal(opt_u32(&p, DHO_DNS), 0xac100003u);
	v = find_opt(&p, DHO_MTU, &len);
	assert_non_null(v);
	assert_int_equal(rd16(v), 1500);
	teardown((void **)&x);
}

/** cfg_lease15() - slirp4netns compat without -c: .100 until .15 is leased */
static void cfg_lease15(struct stack_cfg *c)
{
	c->dhcp_addr = 0x0a00020fu; /* 10.0.2.15 */
}

/** feed_udp_from() - a UDP datagram from @saddr to the gateway's port 9 */
static void feed_udp_from(struct fx *x, uint32_t saddr)
{
	static uint8_t frame[256];
	uint8_t data[4] = { 1, 2, 3, 4 };
	struct fr_ip ip = { .saddr = saddr, .daddr = T_GW };
	size_t n = fr_udp_ip(frame, x->cfg.mac, &ip, 40000, 9, data, sizeof(data), false);

	cap_reset(&x->cap);
	x->before = *stack_counters(x->s);
	stack_input(x->s, frame, n, x->now_us);
}

static void test_dhcp_addr_leased_then_container_address(void **state)
{
	struct fx *x = fx_new(cfg_lease15);
	uint8_t b[600], o[16];
	size_t n = opt4(o, DHO_SERVER_ID, T_GW);
	struct parsed p;

	(void)state;
	/* before any lease the configured address is the container's (a runtime that
	 * configures it itself), the lease address is not */
	feed_udp_from(x, 0x0a00020fu);
	cnt_expect_drop(&x->before, stack_counters(x->s), "drop_ip_bad_source");
	feed_dhcp(x, bcast_mac, 0, BCAST, b, msg(b, DHCPDISCOVER, 0, 0, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(rd32(p.payload + 16), 0x0a00020fu);
	assert_int_equal(p.daddr, 0x0a00020fu);
	/* the OFFER alone changes nothing */
	assert_int_equal(stack_get_cfg(x->s)->addr, T_CADDR);
	/* a REQUEST for the configured address is NAKed: it is not what is leased */
	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPREQUEST, 0, 0, o, n + opt4(o + n, DHO_REQUESTED_ADDR, T_CADDR)));
	check_nak(x);
	assert_int_equal(stack_get_cfg(x->s)->addr, T_CADDR);
	/* ACKed: the lease is the container's address from now on */
	feed_dhcp(x, bcast_mac, 0, BCAST, b,
		  msg(b, DHCPREQUEST, 0, 0, o, n + opt4(o + n, DHO_REQUESTED_ADDR, 0x0a00020fu)));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPACK);
	assert_int_equal(stack_get_cfg(x->s)->addr, 0x0a00020fu);
	/* relayed from it (no udp_send here: counted as the upstream's failure, not the source),
	 * not from the old one */
	feed_udp_from(x, 0x0a00020fu);
	cnt_expect_drop(&x->before, stack_counters(x->s), "drop_udp_upstream_error");
	feed_udp_from(x, T_CADDR);
	cnt_expect_drop(&x->before, stack_counters(x->s), "drop_ip_bad_source");
	/* RENEWING from it */
	feed_dhcp(x, x->cfg.mac, 0x0a00020fu, T_GW, b,
		  msg(b, DHCPREQUEST, 0, 0x0a00020fu, NULL, 0));
	one_reply(x, &p);
	assert_int_equal(reply_type(&p), DHCPACK);
	teardown((void **)&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discover_gets_offer_of_link_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_discover_broadcast_flag_gets_broadcast_offer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_requesting_other_address_still_offers_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_selecting_gets_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_init_reboot_right_address_gets_ack,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_wrong_server_id_gets_nak, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_wrong_address_gets_nak, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_renewing_unicast_gets_unicast_ack,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_without_state_is_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inform_gets_ack_without_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_counted_no_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_holds_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_id_echoed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pad_and_unknown_options_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed_messages_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_options_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_messages_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_udp_and_fragments_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_broadcast_dropped, setup, teardown),
		cmocka_unit_test(test_dhcp_off_answers_nothing),
		cmocka_unit_test(test_options_follow_link_config),
		cmocka_unit_test(test_dhcp_addr_leased_then_container_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
