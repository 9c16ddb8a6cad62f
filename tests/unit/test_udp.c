/* test_udp.c - the UDP module (udp.c, ip4_frag.c): validation, flows, replies, timeouts,
 * eviction, ICMP errors and the DNS and gateway rules, driven through stack_input() and the
 * udp.h calls with time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "checksum.h"
#include "frames.h"
#include "stack.h"
#include "udp.h"
#include "wire.h"

#define SEC 1000000ULL
#define MAXSENT 16

/**
 * struct fx - one stack and everything it told us
 * @cap:	frames sent to the container (first: cap_tx casts ctx to it)
 * @s:		the stack
 * @cfg:	its configuration
 * @mac:	our MAC (frames to the stack go there)
 * @send_ret:	what udp_send returns
 * @nsent:	udp_send calls
 * @sent:	their payloads (first MAXSENT)
 * @sent_len:	their lengths
 * @sent_flow:	their flows
 * @nclosed:	flow_closed calls
 * @closed_id:	ids of the closed flows, in order
 * @nstate:	STACK_EV_STATE events
 * @last_from:	the @from of the last one
 * @last_to:	the state it went to
 * @path_mtu:	nonzero: udp_send refuses datagrams that may not be fragmented (f->udp_df)
 *		and are larger than this, as the relay does (udp_upstream_too_big, -EMSGSIZE)
 * @ndf:	udp_send calls with f->udp_df set
 */
struct fx {
	struct capture cap;
	struct stack *s;
	struct stack_cfg cfg;
	uint8_t mac[6];
	int send_ret;
	size_t nsent;
	uint8_t *sent[MAXSENT];
	size_t sent_len[MAXSENT];
	struct flow *sent_flow[MAXSENT];
	size_t nclosed;
	uint64_t closed_id[64];
	size_t nstate;
	int last_from;
	int last_to;
	uint32_t path_mtu;
	size_t ndf;
};

static int fx_udp_send(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	struct fx *x = ctx;

	if (x->nsent < MAXSENT) {
		x->sent[x->nsent] = malloc(len + 1);
		memcpy(x->sent[x->nsent], data, len);
		x->sent_len[x->nsent] = len;
		x->sent_flow[x->nsent] = f;
	}
	x->nsent++;
	x->ndf += f->udp_df;
	if (x->path_mtu && f->udp_df && IP4_HDR_MIN + UDP_HDR_LEN + len > x->path_mtu) {
		udp_upstream_too_big(x->s, f, data, len, x->path_mtu, f->last_us);
		return -EMSGSIZE;
	}
	return x->send_ret;
}

static void fx_flow_closed(void *ctx, struct flow *f)
{
	struct fx *x = ctx;

	if (x->nclosed < 64)
		x->closed_id[x->nclosed] = f->id;
	x->nclosed++;
}

static void fx_flow_event(void *ctx, struct flow *f, enum stack_flow_event ev, int from)
{
	struct fx *x = ctx;

	if (ev == STACK_EV_STATE) {
		x->nstate++;
		x->last_from = from;
		x->last_to = f->state;
	}
}

/* fx_start() - the stack for @x, after the test adjusted x->cfg (fx_setup filled defaults) */
static void fx_start(struct fx *x)
{
	struct stack_ops ops = {
		.tx = cap_tx,
		.flow_event = fx_flow_event,
		.flow_closed = fx_flow_closed,
		.udp_send = fx_udp_send,
	};

	memcpy(x->mac, x->cfg.mac, 6);
	x->s = stack_new(&x->cfg, &ops, x);
	assert_non_null(x->s);
}

static int fx_setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	stack_cfg_defaults(&x->cfg);
	memset(x->cfg.secret, 7, sizeof(x->cfg.secret));
	*state = x;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *x = *state;

	stack_free(x->s);
	cap_reset(&x->cap);
	for (size_t i = 0; i < x->nsent && i < MAXSENT; i++)
		free(x->sent[i]);
	free(x);
	return 0;
}

/* fx_send() - a datagram from the container to @daddr:@dport from port @sport at @now */
static void fx_send(struct fx *x, uint32_t daddr, uint16_t sport, uint16_t dport,
		    const uint8_t *data, size_t len, uint64_t now)
{
	uint8_t *buf = malloc(FRAME_MAX);
	size_t n = fr_udp(buf, x->mac, 0, daddr, sport, dport, data, len, false, false);

	stack_input(x->s, buf, n, now);
	free(buf);
}

/* fx_send_raw() - an IPv4 datagram carrying @l4 (a hand-made UDP header and data) */
static void fx_send_raw(struct fx *x, uint32_t daddr, const uint8_t *l4, size_t len,
			uint64_t now)
{
	uint8_t buf[2048];
	struct fr_ip ip = { .daddr = daddr, .proto = PROTO_UDP };
	size_t n = fr_ip4(buf, x->mac, &ip, l4, len);

	stack_input(x->s, buf, n, now);
}

/* udp_hdr() - write a UDP header with @ulen in its length field and a checksum computed over
 * the first @sumlen bytes at @d (header included) */
static void udp_hdr(uint8_t *d, uint16_t sport, uint16_t dport, uint16_t ulen, size_t sumlen,
		    uint32_t daddr)
{
	uint16_t sum;

	wr16(d, sport);
	wr16(d + 2, dport);
	wr16(d + 4, ulen);
	wr16(d + 6, 0);
	sum = csum_fold(csum_partial(d, sumlen, csum_pseudo4(T_CADDR, daddr, PROTO_UDP,
							       (uint16_t)sumlen)));
	wr16(d + 6, sum ? sum : 0xffff);
}

/* assert_drops() - every drop_* counter is zero except @name, which is @n (NULL: none) */
static void assert_drops(const struct stack *s, const char *name, uint64_t n)
{
	const struct stack_counters *c = stack_counters(s);

#define X_CHECK(cn, help)                                                                   \
	if (!strncmp(#cn, "drop_", 5)) {                                                     \
		if (name && !strcmp(#cn, name))                                              \
			assert_int_equal(c->cn, n);                                          \
		else if (c->cn)                                                              \
			fail_msg("%s is %llu, expected 0", #cn, (unsigned long long)c->cn);  \
	}
	STACK_COUNTERS(X_CHECK)
#undef X_CHECK
}

/* the_flow() - the only UDP flow of the link */
static struct flow *the_flow(struct fx *x)
{
	struct flow *f = flow_next(stack_flows(x->s), NULL);

	assert_non_null(f);
	assert_null(flow_next(stack_flows(x->s), f));
	assert_int_equal(f->proto, PROTO_UDP);
	return f;
}

/* --- validation (RFC 768) ---------------------------------------------------------------- */

static void test_udp_short_header_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t d[6] = { 0x30, 0x39, 0x00, 0x35, 0x00, 0x06 };

	fx_start(x);
	fx_send_raw(x, T_PEER, d, sizeof(d), 1);
	assert_drops(x->s, "drop_udp_malformed", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
}

static void test_udp_length_beyond_ip_payload_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t d[8 + 10] = { 0 };

	fx_start(x);
	udp_hdr(d, 40000, 9999, 8 + 11, sizeof(d), T_PEER); /* claims one byte more */
	fx_send_raw(x, T_PEER, d, sizeof(d), 1);
	assert_drops(x->s, "drop_udp_malformed", 1);
	assert_int_equal(x->nsent, 0);
}

static void test_udp_length_below_header_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t d[8 + 10] = { 0 };

	fx_start(x);
	udp_hdr(d, 40000, 9999, 7, sizeof(d), T_PEER);
	fx_send_raw(x, T_PEER, d, sizeof(d), 1);
	assert_drops(x->s, "drop_udp_malformed", 1);
	assert_int_equal(x->nsent, 0);
}

static void test_udp_length_shorter_than_ip_payload_trimmed(void **state)
{
	struct fx *x = *state;
	uint8_t d[8 + 10];

	fx_start(x);
	memcpy(d + 8, "abcdeXXXXX", 10);
	/* UDP says 5 data bytes, IP carries 10: the 5 after them are not the datagram's */
	udp_hdr(d, 40000, 9999, 8 + 5, 8 + 5, T_PEER);
	fx_send_raw(x, T_PEER, d, sizeof(d), 1);
	assert_drops(x->s, NULL, 0);
	assert_int_equal(x->nsent, 1);
	assert_int_equal(x->sent_len[0], 5);
	assert_memory_equal(x->sent[0], "abcde", 5);
	assert_int_equal(the_flow(x)->bytes_in, 5);
}

static void test_udp_bad_checksum_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t buf[256];
	size_t n;

	fx_start(x);
	n = fr_udp(buf, x->mac, 0, T_PEER, 40000, 9999, (const uint8_t *)"hello", 5, true, false);
	stack_input(x->s, buf, n, 1);
	assert_drops(x->s, "drop_udp_bad_checksum", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
}

static void test_udp_zero_checksum_accepted(void **state)
{
	struct fx *x = *state;
	uint8_t buf[256];
	size_t n;

	fx_start(x);
	n = fr_udp(buf, x->mac, 0, T_PEER, 40000, 9999, (const uint8_t *)"hello", 5, false, true);
	stack_input(x->s, buf, n, 1);
	assert_drops(x->s, NULL, 0);
	assert_int_equal(x->nsent, 1);
	assert_memory_equal(x->sent[0], "hello", 5);
}

static void test_udp_port_zero_dropped(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 0, (const uint8_t *)"x", 1, 1);
	assert_drops(x->s, "drop_udp_malformed", 1);
	assert_int_equal(x->nsent, 0);
}

/* --- flows --------------------------------------------------------------------------------- */

static void test_udp_flow_created_then_reused(void **state)
{
	struct fx *x = *state;
	struct flow *f;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"one", 3, 1 * SEC);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"second", 6, 2 * SEC);
	f = the_flow(x);
	assert_int_equal(f->caddr, T_CADDR);
	assert_int_equal(f->cport, 40000);
	assert_int_equal(f->paddr, T_PEER);
	assert_int_equal(f->pport, 9999);
	assert_int_equal(f->state, UDP_ACTIVE);
	assert_int_equal(f->origin, FLOW_ORIGIN_CONTAINER);
	assert_int_equal(f->pkts_in, 2);
	assert_int_equal(f->bytes_in, 9);
	assert_int_equal(f->last_us, 2 * SEC);
	assert_int_equal(f->nhist, 1);
	assert_int_equal(f->hist[0].state, UDP_ACTIVE);
	assert_int_equal(stack_counters(x->s)->flows_opened, 1);
	assert_int_equal(x->nsent, 2);
	assert_ptr_equal(x->sent_flow[0], f);
	assert_ptr_equal(x->sent_flow[1], f);
	assert_memory_equal(x->sent[1], "second", 6);
	assert_int_equal(udp_flow_count(x->s), 1);

	/* another source port is another flow */
	fx_send(x, T_PEER, 40001, 9999, (const uint8_t *)"x", 1, 3 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 2);
	assert_ptr_not_equal(x->sent_flow[2], f);
	assert_drops(x->s, NULL, 0);
}

static void test_udp_reply_from_peer_address_and_port(void **state)
{
	struct fx *x = *state;
	struct parsed p;
	struct flow *f;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"ping", 4, 1 * SEC);
	f = the_flow(x);
	udp_upstream_datagram(x->s, f, (const uint8_t *)"pong!", 5, 2 * SEC);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p); /* checks IP and UDP checksums */
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.saddr, T_PEER);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.sport, 9999);
	assert_int_equal(p.dport, 40000);
	assert_memory_equal(p.dst, T_CMAC, 6);
	assert_memory_equal(p.src, x->mac, 6);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "pong!", 5);
	/* a real checksum, not zero (optional over IPv4, but we always send one) */
	assert_int_not_equal(rd16(x->cap.frame[0] + ETH_HDR_LEN + IP4_HDR_MIN + 6), 0);
	assert_int_equal(f->bytes_out, 5);
	assert_int_equal(f->pkts_out, 1);
}

static void test_udp_state_active_to_replied(void **state)
{
	struct fx *x = *state;
	struct flow *f;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	f = the_flow(x);
	assert_int_equal(x->nstate, 1);
	assert_int_equal(x->last_to, UDP_ACTIVE);
	udp_upstream_datagram(x->s, f, (const uint8_t *)"a", 1, 2 * SEC);
	assert_int_equal(f->state, UDP_REPLIED);
	assert_int_equal(x->nstate, 2);
	assert_int_equal(x->last_from, UDP_ACTIVE);
	assert_int_equal(x->last_to, UDP_REPLIED);
	assert_int_equal(f->nhist, 2);
	assert_int_equal(f->hist[1].state, UDP_REPLIED);
	assert_int_equal(f->hist[1].at_us, 2 * SEC);
	/* a second reply is not a transition */
	udp_upstream_datagram(x->s, f, (const uint8_t *)"b", 1, 3 * SEC);
	assert_int_equal(x->nstate, 2);
	assert_int_equal(f->nhist, 2);
	assert_string_equal(flow_state_name(f), "REPLIED");
}

static void test_udp_reply_larger_than_mtu_fragmented(void **state)
{
	struct fx *x = *state;
	uint8_t *data = malloc(4000), *dgram = calloc(1, 8 + 4000);
	size_t got = 0, total = 0;
	uint16_t id = 0;
	struct flow *f;

	x->cfg.mtu = 1500;
	fx_start(x);
	for (size_t i = 0; i < 4000; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	f = the_flow(x);
	udp_upstream_datagram(x->s, f, data, 4000, 2 * SEC);
	/* RFC 791: 1480 data bytes (a multiple of 8) per fragment: 4008 = 1480 + 1480 + 1048 */
	assert_int_equal(x->cap.n, 3);
	for (size_t i = 0; i < x->cap.n; i++) {
		const uint8_t *h = x->cap.frame[i] + ETH_HDR_LEN;
		size_t tl = rd16(h + 2), off = (size_t)(rd16(h + 6) & IP4_FRAG_OFF_MASK) * 8;
		bool mf = rd16(h + 6) & IP4_FLAG_MF;

		assert_true(x->cap.len[i] <= ETH_HDR_LEN + 1500);
		assert_int_equal(x->cap.len[i], ETH_HDR_LEN + tl);
		assert_true(csum_ok(h, IP4_HDR_MIN, 0));
		assert_int_equal(h[9], PROTO_UDP);
		assert_int_equal(rd32(h + 12), T_PEER);
		assert_int_equal(rd32(h + 16), T_CADDR);
		assert_false(rd16(h + 6) & IP4_FLAG_DF);
		assert_int_equal(mf, i < 2);
		if (i == 0)
			id = rd16(h + 4);
		assert_int_equal(rd16(h + 4), id);
		assert_int_equal(off, got);
		assert_true(mf ? (tl - IP4_HDR_MIN) % 8 == 0 : true);
		assert_true(off + tl - IP4_HDR_MIN <= 8 + 4000);
		memcpy(dgram + off, h + IP4_HDR_MIN, tl - IP4_HDR_MIN);
		got += tl - IP4_HDR_MIN;
		total += tl - IP4_HDR_MIN;
	}
	assert_int_equal(total, 8 + 4000);
	/* the reassembled datagram: right ports, length and checksum, same bytes */
	assert_int_equal(rd16(dgram), 9999);
	assert_int_equal(rd16(dgram + 2), 40000);
	assert_int_equal(rd16(dgram + 4), 8 + 4000);
	assert_true(csum_ok(dgram, 8 + 4000, csum_pseudo4(T_PEER, T_CADDR, PROTO_UDP, 8 + 4000)));
	assert_memory_equal(dgram + 8, data, 4000);
	free(data);
	free(dgram);
}

static void test_udp_reply_sizes_at_default_mtu(void **state)
{
	struct fx *x = *state;
	size_t one = 65520 - IP4_HDR_MIN - UDP_HDR_LEN, most = 65507;
	uint8_t *data = malloc(most);
	struct parsed p;

	fx_start(x);
	for (size_t i = 0; i < most; i++)
		data[i] = (uint8_t)(i % 251);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	/* the largest that fits one frame at MTU 65520 goes whole, DF set */
	udp_upstream_datagram(x->s, the_flow(x), data, one, 2 * SEC);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.payload_len, one);
	assert_memory_equal(p.payload, data, one);
	assert_true(p.frag & IP4_FLAG_DF);
	cap_reset(&x->cap);
	/* 65507 bytes, the most IPv4 holds, need two fragments even at MTU 65520 */
	udp_upstream_datagram(x->s, the_flow(x), data, most, 3 * SEC);
	assert_int_equal(x->cap.n, 2);
	assert_int_equal(rd16(x->cap.frame[0] + ETH_HDR_LEN + 6), IP4_FLAG_MF);
	assert_int_equal(rd16(x->cap.frame[1] + ETH_HDR_LEN + 6), (65500 & ~7) / 8);
	assert_memory_equal(x->cap.frame[1] + ETH_HDR_LEN + IP4_HDR_MIN,
			    data + (65500 & ~7) - UDP_HDR_LEN, most + UDP_HDR_LEN - (65500 & ~7));
	free(data);
	assert_drops(x->s, NULL, 0);
}

static void test_udp_reply_beyond_ipv4_limit_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t *data = calloc(1, 65508);

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	udp_upstream_datagram(x->s, the_flow(x), data, 65508, 2 * SEC);
	assert_int_equal(x->cap.n, 0);
	assert_drops(x->s, "drop_udp_upstream_error", 1);
	free(data);
}

/* --- timeouts (conntrack: 30 s unreplied, 180 s replied) ------------------------------------ */

static void test_udp_unreplied_flow_expires_after_30s(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 10 * SEC);
	assert_int_equal(stack_next_deadline(x->s), 40 * SEC);
	stack_tick(x->s, 40 * SEC - 1);
	assert_int_equal(flow_count(stack_flows(x->s)), 1);
	/* activity pushes the deadline */
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 20 * SEC);
	assert_int_equal(stack_next_deadline(x->s), 50 * SEC);
	stack_tick(x->s, 49 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 1);
	stack_tick(x->s, 50 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
	assert_int_equal(x->nclosed, 1);
	assert_int_equal(stack_counters(x->s)->flows_closed_timeout, 1);
	assert_int_equal(udp_flow_count(x->s), 0);
	assert_int_equal(stack_next_deadline(x->s), UINT64_MAX);
}

static void test_udp_replied_flow_expires_after_180s(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 10 * SEC);
	udp_upstream_datagram(x->s, the_flow(x), (const uint8_t *)"a", 1, 11 * SEC);
	assert_int_equal(stack_next_deadline(x->s), 191 * SEC);
	stack_tick(x->s, 100 * SEC); /* long past the unreplied timeout */
	assert_int_equal(flow_count(stack_flows(x->s)), 1);
	stack_tick(x->s, 191 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
	assert_int_equal(stack_counters(x->s)->flows_closed_timeout, 1);
}

static void test_udp_timeouts_configurable(void **state)
{
	struct fx *x = *state;

	x->cfg.udp_timeout_ms = 2000;
	x->cfg.udp_timeout_stream_ms = 5000;
	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	fx_send(x, T_PEER, 40001, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	udp_upstream_datagram(x->s, x->sent_flow[1], (const uint8_t *)"a", 1, 1 * SEC);
	assert_int_equal(stack_next_deadline(x->s), 3 * SEC);
	stack_tick(x->s, 3 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 1);
	assert_int_equal(stack_next_deadline(x->s), 6 * SEC);
	stack_tick(x->s, 6 * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
	assert_int_equal(stack_counters(x->s)->flows_closed_timeout, 2);
}

static void test_udp_many_flows_expire_in_one_tick(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	for (uint16_t i = 0; i < 500; i++)
		fx_send(x, T_PEER, (uint16_t)(20000 + i), 9999, (const uint8_t *)"q", 1,
			1 * SEC + i);
	assert_int_equal(udp_flow_count(x->s), 500);
	stack_tick(x->s, 31 * SEC + 249);
	assert_int_equal(udp_flow_count(x->s), 250);
	stack_tick(x->s, 32 * SEC);
	assert_int_equal(udp_flow_count(x->s), 0);
	assert_int_equal(x->nclosed, 500);
}

/* --- bounds ------------------------------------------------------------------------------ */

static void test_udp_eviction_at_bound_takes_oldest_idle(void **state)
{
	struct fx *x = *state;
	struct flow *f;
	uint64_t id2;

	x->cfg.max_udp_flows = 4;
	fx_start(x);
	for (uint16_t i = 1; i <= 4; i++)
		fx_send(x, T_PEER, (uint16_t)(40000 + i), 9999, (const uint8_t *)"q", 1, i * SEC);
	id2 = x->sent_flow[1]->id;
	/* flow 1 is the oldest but active again: flow 2 is now the longest idle */
	fx_send(x, T_PEER, 40001, 9999, (const uint8_t *)"q", 1, 5 * SEC);
	fx_send(x, T_PEER, 40005, 9999, (const uint8_t *)"q", 1, 6 * SEC);
	assert_int_equal(udp_flow_count(x->s), 4);
	assert_int_equal(x->nclosed, 1);
	assert_int_equal(x->closed_id[0], id2);
	assert_int_equal(stack_counters(x->s)->flows_closed_evicted, 1);
	assert_null(flow_lookup(stack_flows(x->s), PROTO_UDP, T_CADDR, 40002, T_PEER, 9999));
	f = flow_lookup(stack_flows(x->s), PROTO_UDP, T_CADDR, 40005, T_PEER, 9999);
	assert_non_null(f);
	assert_int_equal(f->end, FLOW_END_NONE);
	assert_drops(x->s, NULL, 0);
}

static void test_udp_eviction_prefers_unreplied_flows(void **state)
{
	struct fx *x = *state;

	x->cfg.max_udp_flows = 2;
	fx_start(x);
	fx_send(x, T_PEER, 40001, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	udp_upstream_datagram(x->s, x->sent_flow[0], (const uint8_t *)"a", 1, 1 * SEC);
	fx_send(x, T_PEER, 40002, 9999, (const uint8_t *)"q", 1, 10 * SEC);
	/* the replied flow is older, but expires later (181 s against 40 s): a flood of new
	 * tuples recycles its own kind first */
	fx_send(x, T_PEER, 40003, 9999, (const uint8_t *)"q", 1, 11 * SEC);
	assert_non_null(flow_lookup(stack_flows(x->s), PROTO_UDP, T_CADDR, 40001, T_PEER, 9999));
	assert_null(flow_lookup(stack_flows(x->s), PROTO_UDP, T_CADDR, 40002, T_PEER, 9999));
	assert_int_equal(stack_counters(x->s)->flows_closed_evicted, 1);
}

static void test_udp_flow_table_full_evicts_udp(void **state)
{
	struct fx *x = *state;

	x->cfg.max_flows = 3;
	fx_start(x);
	for (uint16_t i = 1; i <= 4; i++)
		fx_send(x, T_PEER, (uint16_t)(40000 + i), 9999, (const uint8_t *)"q", 1, i * SEC);
	assert_int_equal(flow_count(stack_flows(x->s)), 3);
	assert_null(flow_lookup(stack_flows(x->s), PROTO_UDP, T_CADDR, 40001, T_PEER, 9999));
	assert_int_equal(stack_counters(x->s)->flows_closed_evicted, 1);
	assert_drops(x->s, NULL, 0);
}

static void test_udp_no_udp_flows_allowed_counts_over_limit(void **state)
{
	struct fx *x = *state;

	x->cfg.max_udp_flows = 0;
	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	assert_drops(x->s, "drop_udp_over_limit", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
}

/* --- ICMP errors --------------------------------------------------------------------------- */

/* sent_dgram() - the container's datagram as the stack received it, for quote comparison */
static size_t sent_dgram(uint8_t *buf, const uint8_t *mac, uint16_t sport, const char *data)
{
	return fr_udp(buf, mac, 0, T_PEER, sport, 9999, (const uint8_t *)data, strlen(data),
		      false, false);
}

static void test_udp_upstream_port_unreachable_quotes_last_datagram(void **state)
{
	struct fx *x = *state;
	uint8_t orig[256];
	struct parsed p;
	size_t n;

	fx_start(x);
	n = sent_dgram(orig, x->mac, 40000, "are you there?");
	stack_input(x->s, orig, n, 1 * SEC);
	udp_upstream_error(x->s, the_flow(x), ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 2 * SEC);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.proto, PROTO_ICMP);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_PORT);
	assert_int_equal(p.saddr, T_PEER);
	assert_int_equal(p.daddr, T_CADDR);
	/* RFC 792: the original IP header and the first 64 bits (the UDP header), byte for byte */
	assert_true(p.icmp_body_len >= IP4_HDR_MIN + UDP_HDR_LEN);
	assert_memory_equal(p.icmp_body, orig + ETH_HDR_LEN, IP4_HDR_MIN + UDP_HDR_LEN);
	assert_int_equal(stack_counters(x->s)->icmp_errors_sent, 1);
	/* the flow stays: the container may try again */
	assert_int_equal(flow_count(stack_flows(x->s)), 1);
}

static void test_udp_upstream_host_unreachable_and_ttl_exceeded(void **state)
{
	struct fx *x = *state;
	struct parsed p;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	udp_upstream_error(x->s, the_flow(x), ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 2 * SEC);
	udp_upstream_error(x->s, the_flow(x), ICMP_TIME_EXCEEDED, 0, 2 * SEC);
	udp_upstream_error(x->s, the_flow(x), ICMP_ECHO_REPLY, 0, 2 * SEC); /* not an error */
	assert_int_equal(x->cap.n, 2);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_HOST);
	fr_parse(x->cap.frame[1], x->cap.len[1], &p);
	assert_int_equal(p.icmp_type, ICMP_TIME_EXCEEDED);
	assert_int_equal(p.icmp_code, 0);
}

static void test_udp_send_refused_answers_port_unreachable(void **state)
{
	struct fx *x = *state;
	uint8_t orig[256];
	struct parsed p;
	size_t n;

	fx_start(x);
	x->send_ret = -ECONNREFUSED;
	n = sent_dgram(orig, x->mac, 40000, "hi");
	stack_input(x->s, orig, n, 1 * SEC);
	assert_drops(x->s, "drop_udp_upstream_error", 1);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_PORT);
	assert_memory_equal(p.icmp_body, orig + ETH_HDR_LEN, IP4_HDR_MIN + UDP_HDR_LEN);
}

/* Finding 4: a datagram the reach policy denies gets RFC 1812 5.2.7.1's "communication
 * administratively prohibited" and is counted as drop_policy_denied, not as an upstream error */
static void test_udp_policy_denied_answers_admin_prohibited(void **state)
{
	struct fx *x = *state;
	uint8_t orig[256];
	struct parsed p;
	size_t n;

	fx_start(x);
	x->send_ret = -STACK_E_POLICY;
	n = sent_dgram(orig, x->mac, 40000, "hi");
	stack_input(x->s, orig, n, 1 * SEC);
	assert_drops(x->s, "drop_policy_denied", 1);
	assert_int_equal(stack_counters(x->s)->drop_udp_upstream_error, 0);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_ADMIN);
	assert_int_equal(p.icmp_code, 13);
}

static void test_udp_send_would_block_is_silent_loss(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	x->send_ret = -EAGAIN;
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	assert_drops(x->s, "drop_udp_upstream_error", 1);
	assert_int_equal(x->cap.n, 0);
}

/** df_dgram() - a datagram of @len bytes to T_PEER:9999 from port 40000, DF as @df */
static size_t df_dgram(uint8_t *buf, const uint8_t *mac, bool df, size_t len)
{
	static uint8_t d[4000];
	struct fr_ip ip = { .daddr = T_PEER, .proto = PROTO_UDP, .frag = df ? IP4_FLAG_DF : 0 };

	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 13);
	return fr_udp_ip(buf, mac, &ip, 40000, 9999, d, len, false);
}

/* RFC 1191 4: a DF datagram the host's path cannot carry (EMSGSIZE) is answered with
 * fragmentation needed and the path MTU, from the gateway, quoting the datagram (576 bytes
 * of the error, RFC 1812 4.3.2.3); counted once, as drop_udp_too_big */
static void test_udp_too_big_for_path_answers_frag_needed(void **state)
{
	struct fx *x = *state;
	static uint8_t orig[4096];
	struct parsed p;
	size_t n;

	fx_start(x);
	x->path_mtu = 1280;
	n = df_dgram(orig, x->mac, true, 1400);
	stack_input(x->s, orig, n, 1 * SEC);
	assert_int_equal(x->ndf, 1);
	assert_drops(x->s, "drop_udp_too_big", 1);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_NEEDFRAG);
	assert_int_equal(rd16(p.payload + 6), 1280);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.icmp_body_len, 576 - IP4_HDR_MIN - ICMP_HDR_LEN);
	assert_memory_equal(p.icmp_body, orig + ETH_HDR_LEN, p.icmp_body_len);
	assert_int_equal(stack_counters(x->s)->icmp_too_big_sent, 1);
	/* a datagram that fits goes */
	n = df_dgram(orig, x->mac, true, 1000);
	stack_input(x->s, orig, n, 2 * SEC);
	assert_int_equal(x->nsent, 2);
	assert_int_equal(x->cap.n, 1);
	assert_drops(x->s, "drop_udp_too_big", 1);
}

/* Without DF the host may fragment: the relay is told so (f->udp_df clear) */
static void test_udp_without_df_may_be_fragmented(void **state)
{
	struct fx *x = *state;
	static uint8_t orig[4096];
	size_t n;

	fx_start(x);
	x->path_mtu = 1280;
	n = df_dgram(orig, x->mac, false, 1400);
	stack_input(x->s, orig, n, 1 * SEC);
	assert_int_equal(x->nsent, 1);
	assert_int_equal(x->ndf, 0);
	assert_drops(x->s, NULL, 0);
	assert_int_equal(x->cap.n, 0);
}

/* An MTU the datagram would fit in (it was refused for its size past 65535 bytes), or none
 * known: counted, no error that could teach the container anything */
static void test_udp_too_big_without_useful_mtu_silent(void **state)
{
	struct fx *x = *state;
	static uint8_t orig[4096];
	size_t n;

	fx_start(x);
	n = df_dgram(orig, x->mac, true, 100);
	stack_input(x->s, orig, n, 1 * SEC);
	udp_upstream_too_big(x->s, the_flow(x), orig + 42, 100, 65535, 2 * SEC);
	udp_upstream_too_big(x->s, the_flow(x), orig + 42, 100, 0, 2 * SEC);
	assert_drops(x->s, "drop_udp_too_big", 2);
	assert_int_equal(x->cap.n, 0);
}

static void test_udp_icmp_errors_rate_limited(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	for (int i = 0; i < 200; i++)
		udp_upstream_error(x->s, the_flow(x), ICMP_DEST_UNREACH, ICMP_UNREACH_PORT,
				   1 * SEC);
	assert_true(stack_counters(x->s)->icmp_errors_sent < 200);
	assert_int_equal(stack_counters(x->s)->icmp_errors_sent +
				 stack_counters(x->s)->icmp_errors_rate_limited,
			 200);
}

/* --- DNS and the gateway --------------------------------------------------------------------- */

static void test_udp_dns_runt_dropped(void **state)
{
	struct fx *x = *state;
	uint8_t q[11] = { 0x12, 0x34 };

	fx_start(x);
	fx_send(x, T_DNS, 40000, 53, q, sizeof(q), 1 * SEC);
	assert_drops(x->s, "drop_udp_dns_malformed", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
	assert_int_equal(x->cap.n, 0);
}

static void test_udp_dns_query_relayed_answer_from_dns_address(void **state)
{
	struct fx *x = *state;
	uint8_t q[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1 }, a[40] = { 0x12, 0x34, 0x81, 0x80 };
	struct parsed p;

	fx_start(x);
	fx_send(x, T_DNS, 40000, 53, q, sizeof(q), 1 * SEC);
	assert_drops(x->s, NULL, 0);
	assert_int_equal(x->nsent, 1);
	assert_memory_equal(x->sent[0], q, sizeof(q));
	assert_int_equal(x->sent_flow[0]->paddr, T_DNS);
	assert_int_equal(x->sent_flow[0]->pport, 53);
	udp_upstream_datagram(x->s, x->sent_flow[0], a, sizeof(a), 2 * SEC);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.saddr, T_DNS);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 40000);
	assert_memory_equal(p.payload, a, sizeof(a));
}

static void test_udp_dns_address_other_port_unreachable(void **state)
{
	struct fx *x = *state;
	struct parsed p;

	fx_start(x);
	fx_send(x, T_DNS, 40000, 5353, (const uint8_t *)"q", 1, 1 * SEC);
	assert_drops(x->s, "drop_udp_no_service", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_PORT);
	assert_int_equal(p.saddr, T_DNS);
}

static void test_udp_gateway_relayed(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_GW, 40000, 7, (const uint8_t *)"echo", 4, 1 * SEC);
	assert_drops(x->s, NULL, 0);
	assert_int_equal(x->nsent, 1);
	assert_int_equal(x->sent_flow[0]->paddr, T_GW);
	assert_int_equal(x->cap.n, 0);
}

static void test_udp_gateway_no_host_loopback_port_unreachable(void **state)
{
	struct fx *x = *state;
	struct parsed p;

	x->cfg.no_host_loopback = true;
	fx_start(x);
	fx_send(x, T_GW, 40000, 7, (const uint8_t *)"echo", 4, 1 * SEC);
	assert_drops(x->s, "drop_udp_no_service", 1);
	assert_int_equal(x->nsent, 0);
	assert_int_equal(flow_count(stack_flows(x->s)), 0);
	assert_int_equal(x->cap.n, 1);
	fr_parse(x->cap.frame[0], x->cap.len[0], &p);
	assert_int_equal(p.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(p.icmp_code, ICMP_UNREACH_PORT);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(stack_counters(x->s)->icmp_errors_sent, 1);
}

/* --- lifecycle --------------------------------------------------------------------------- */

static void test_udp_stack_free_closes_every_flow(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	fx_send(x, T_GW, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	stack_free(x->s);
	x->s = NULL;
	assert_int_equal(x->nclosed, 2);
}

static void test_udp_abort_releases(void **state)
{
	struct fx *x = *state;

	fx_start(x);
	fx_send(x, T_PEER, 40000, 9999, (const uint8_t *)"q", 1, 1 * SEC);
	udp_abort(x->s, the_flow(x), FLOW_END_UNREACHABLE, 2 * SEC);
	assert_int_equal(x->nclosed, 1);
	assert_int_equal(udp_flow_count(x->s), 0);
	assert_int_equal(stack_counters(x->s)->flows_closed_unreachable, 1);
	assert_int_equal(stack_next_deadline(x->s), UINT64_MAX);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_udp_short_header_dropped),
		T(test_udp_length_beyond_ip_payload_dropped),
		T(test_udp_length_below_header_dropped),
		T(test_udp_length_shorter_than_ip_payload_trimmed),
		T(test_udp_bad_checksum_dropped),
		T(test_udp_zero_checksum_accepted),
		T(test_udp_port_zero_dropped),
		T(test_udp_flow_created_then_reused),
		T(test_udp_reply_from_peer_address_and_port),
		T(test_udp_state_active_to_replied),
		T(test_udp_reply_larger_than_mtu_fragmented),
		T(test_udp_reply_sizes_at_default_mtu),
		T(test_udp_reply_beyond_ipv4_limit_dropped),
		T(test_udp_unreplied_flow_expires_after_30s),
		T(test_udp_replied_flow_expires_after_180s),
		T(test_udp_timeouts_configurable),
		T(test_udp_many_flows_expire_in_one_tick),
		T(test_udp_eviction_at_bound_takes_oldest_idle),
		T(test_udp_eviction_prefers_unreplied_flows),
		T(test_udp_flow_table_full_evicts_udp),
		T(test_udp_no_udp_flows_allowed_counts_over_limit),
		T(test_udp_upstream_port_unreachable_quotes_last_datagram),
		T(test_udp_upstream_host_unreachable_and_ttl_exceeded),
		T(test_udp_send_refused_answers_port_unreachable),
		T(test_udp_policy_denied_answers_admin_prohibited),
		T(test_udp_send_would_block_is_silent_loss),
		T(test_udp_too_big_for_path_answers_frag_needed),
		T(test_udp_without_df_may_be_fragmented),
		T(test_udp_too_big_without_useful_mtu_silent),
		T(test_udp_icmp_errors_rate_limited),
		T(test_udp_dns_runt_dropped),
		T(test_udp_dns_query_relayed_answer_from_dns_address),
		T(test_udp_dns_address_other_port_unreachable),
		T(test_udp_gateway_relayed),
		T(test_udp_gateway_no_host_loopback_port_unreachable),
		T(test_udp_stack_free_closes_every_flow),
		T(test_udp_abort_releases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
