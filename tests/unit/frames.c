/* frames.c - frame builders and output parsers shared by every unit test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checksum.h"
#include "frames.h"
#include "wire.h"

size_t fr_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	wr16(buf + 12, type);
	return ETH_HDR_LEN;
}

size_t fr_arp(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
	      uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = buf + ETH_HDR_LEN;

	fr_eth(buf, op == ARP_OP_REQUEST ? bcast : tha, sha, ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha, 6);
	wr32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	wr32(a + 24, tpa);
	return ETH_HDR_LEN + ARP_LEN;
}

size_t fr_ip4(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_ip *ip, const uint8_t *payload,
	      size_t len)
{
	uint8_t *h = buf + ETH_HDR_LEN;
	size_t hl = IP4_HDR_MIN + ip->opt_len;
	uint16_t sum;

	fr_eth(buf, dst_mac, T_CMAC, ETHERTYPE_IPV4);
	memset(h, 0, hl);
	h[0] = (uint8_t)(0x40 | (hl / 4));
	wr16(h + 2, (uint16_t)(hl + len));
	wr16(h + 4, ip->id);
	wr16(h + 6, ip->frag);
	h[8] = ip->ttl ? ip->ttl : 64;
	h[9] = ip->proto;
	wr32(h + 12, ip->src_zero ? 0 : ip->saddr ? ip->saddr : T_CADDR);
	wr32(h + 16, ip->daddr);
	memset(h + IP4_HDR_MIN, TCPOPT_NOP, ip->opt_len);
	sum = csum_fold(csum_partial(h, hl, 0));
	wr16(h + 10, ip->bad_checksum ? (uint16_t)(sum ^ 0x5555) : sum);
	if (len)
		memmove(h + hl, payload, len);
	return ETH_HDR_LEN + hl + len;
}

size_t fr_udp_ip(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_ip *ip, uint16_t sport,
		 uint16_t dport, const uint8_t *payload, size_t len, bool bad_checksum)
{
	uint8_t *d = malloc(UDP_HDR_LEN + len);
	uint32_t src = ip->src_zero ? 0 : ip->saddr ? ip->saddr : T_CADDR;
	struct fr_ip i = *ip;
	uint16_t sum;
	size_t n;

	i.proto = PROTO_UDP;
	wr16(d, sport);
	wr16(d + 2, dport);
	wr16(d + 4, (uint16_t)(UDP_HDR_LEN + len));
	wr16(d + 6, 0);
	if (len)
		memcpy(d + 8, payload, len);
	sum = csum_fold(csum_partial(d, UDP_HDR_LEN + len,
				     csum_pseudo4(src, ip->daddr, PROTO_UDP,
						  (uint16_t)(UDP_HDR_LEN + len))));
	if (sum == 0)
		sum = 0xffff;
	wr16(d + 6, bad_checksum ? (uint16_t)(sum ^ 0x00ff) : sum);
	n = fr_ip4(buf, dst_mac, &i, d, UDP_HDR_LEN + len);
	free(d);
	return n;
}

size_t fr_bootp(uint8_t *buf, uint32_t xid, uint16_t flags, uint32_t ciaddr,
		const uint8_t chaddr[6], const uint8_t *opts, size_t opts_len)
{
	memset(buf, 0, 240);
	buf[0] = 1; /* BOOTREQUEST */
	buf[1] = 1; /* Ethernet */
	buf[2] = 6;
	wr32(buf + 4, xid);
	wr16(buf + 10, flags);
	wr32(buf + 12, ciaddr);
	memcpy(buf + 28, chaddr, 6);
	wr32(buf + 236, 0x63825363u);
	if (opts_len)
		memcpy(buf + 240, opts, opts_len);
	return 240 + opts_len;
}

size_t fr_icmp_echo(uint8_t *buf, const uint8_t dst_mac[6], uint32_t daddr, uint16_t ident,
		    uint16_t seq, const uint8_t *data, size_t len, bool bad_checksum)
{
	uint8_t *m = malloc(ICMP_HDR_LEN + len);
	struct fr_ip ip = { .daddr = daddr, .proto = PROTO_ICMP };
	uint16_t sum;
	size_t n;

	m[0] = ICMP_ECHO_REQUEST;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 4, ident);
	wr16(m + 6, seq);
	if (len)
		memcpy(m + 8, data, len);
	sum = csum_fold(csum_partial(m, ICMP_HDR_LEN + len, 0));
	wr16(m + 2, bad_checksum ? (uint16_t)(sum ^ 0x1234) : sum);
	n = fr_ip4(buf, dst_mac, &ip, m, ICMP_HDR_LEN + len);
	free(m);
	return n;
}

static size_t tcp_opts(uint8_t *o, const struct fr_tcp *t)
{
	size_t n = 0;

	if (t->raw_opts) {
		memcpy(o, t->raw_opts, t->raw_opts_len);
		n = t->raw_opts_len;
		goto pad;
	}
	if (t->mss) {
		o[n++] = TCPOPT_MSS;
		o[n++] = 4;
		wr16(o + n, t->mss);
		n += 2;
	}
	if (t->has_wscale) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WSCALE;
		o[n++] = 3;
		o[n++] = (uint8_t)t->wscale;
	}
	if (t->sack_perm) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = 2;
	}
	if (t->has_ts) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TIMESTAMP;
		o[n++] = 10;
		wr32(o + n, t->tsval);
		wr32(o + n + 4, t->tsecr);
		n += 8;
	}
	if (t->nsack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK;
		o[n++] = (uint8_t)(2 + 8 * t->nsack);
		for (int i = 0; i < t->nsack; i++) {
			wr32(o + n, t->sack[i][0]);
			wr32(o + n + 4, t->sack[i][1]);
			n += 8;
		}
	}
pad:
	while (n % 4)
		o[n++] = TCPOPT_EOL;
	return n;
}

size_t fr_tcp(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_tcp *t, const uint8_t *payload,
	      size_t len)
{
	uint8_t *seg = malloc(TCP_HDR_MAX + len + 64);
	uint32_t saddr = t->saddr ? t->saddr : T_CADDR, daddr = t->daddr ? t->daddr : T_PEER;
	struct fr_ip ip = { .saddr = saddr, .daddr = daddr, .proto = PROTO_TCP };
	size_t ol, hl, n;
	uint16_t sum;

	memset(seg, 0, TCP_HDR_MAX);
	ol = tcp_opts(seg + TCP_HDR_MIN, t);
	hl = TCP_HDR_MIN + ol;
	wr16(seg, t->sport);
	wr16(seg + 2, t->dport);
	wr32(seg + 4, t->seq);
	wr32(seg + 8, t->ack);
	seg[12] = (uint8_t)((t->doff_override ? (uint8_t)t->doff_override : hl / 4) << 4);
	seg[13] = t->flags;
	wr16(seg + 14, t->win);
	if (len)
		memcpy(seg + hl, payload, len);
	sum = csum_fold(csum_partial(seg, hl + len,
				     csum_pseudo4(saddr, daddr, PROTO_TCP, (uint16_t)(hl + len))));
	wr16(seg + 16, t->bad_checksum ? (uint16_t)(sum ^ 0x0f0f) : sum);
	n = fr_ip4(buf, dst_mac, &ip, seg, hl + len);
	free(seg);
	return n;
}

size_t fr_udp(uint8_t *buf, const uint8_t dst_mac[6], uint32_t saddr, uint32_t daddr, uint16_t sport,
	      uint16_t dport, const uint8_t *payload, size_t len, bool bad_checksum, bool csum_zero)
{
	uint8_t *d = malloc(UDP_HDR_LEN + len);
	struct fr_ip ip = { .saddr = saddr, .daddr = daddr, .proto = PROTO_UDP };
	uint16_t sum;
	size_t n;

	wr16(d, sport);
	wr16(d + 2, dport);
	wr16(d + 4, (uint16_t)(UDP_HDR_LEN + len));
	wr16(d + 6, 0);
	if (len)
		memcpy(d + 8, payload, len);
	sum = csum_fold(csum_partial(d, UDP_HDR_LEN + len,
				     csum_pseudo4(saddr ? saddr : T_CADDR, daddr, PROTO_UDP,
						  (uint16_t)(UDP_HDR_LEN + len))));
	if (sum == 0)
		sum = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	if (csum_zero)
		sum = 0;
	else if (bad_checksum)
		sum ^= 0x00ff;
	wr16(d + 6, sum);
	n = fr_ip4(buf, dst_mac, &ip, d, UDP_HDR_LEN + len);
	free(d);
	return n;
}

void cap_frame(struct capture *c, const uint8_t *frame, size_t len)
{
	if (c->n >= CAP_MAX) {
		c->lost++;
		return;
	}
	c->frame[c->n] = malloc(len);
	memcpy(c->frame[c->n], frame, len);
	c->len[c->n] = len;
	c->n++;
}

void cap_tx(void *ctx, struct stack_txq *q)
{
	for (unsigned int i = 0; i < q->n; i++) {
		struct stack_frame *fr = &q->frame[i];

		/* no upstream here: a frame still to fill cannot be completed */
		assert_null(fr->fill_flow);
		if (fr->len)
			cap_frame(ctx, fr->data, fr->len);
	}
	q->n = 0;
}

void cap_reset(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->frame[i]);
	memset(c, 0, sizeof(*c));
}

bool fr_cksum_l4_ok(const uint8_t *frame, size_t len)
{
	const uint8_t *h = frame + ETH_HDR_LEN;
	size_t hl = (size_t)(h[0] & 0xf) * 4, tl = rd16(h + 2);
	uint8_t proto = h[9];
	uint64_t ph = 0;

	if (len < ETH_HDR_LEN + tl || tl < hl)
		return false;
	if (proto != PROTO_ICMP)
		ph = csum_pseudo4(rd32(h + 12), rd32(h + 16), proto, (uint16_t)(tl - hl));
	return csum_ok(h + hl, tl - hl, ph);
}

static void parse_tcp_opts(const uint8_t *o, size_t n, struct parsed *p)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], l;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		assert_true(i + 1 < n);
		l = o[i + 1];
		assert_true(l >= 2 && i + l <= n);
		switch (kind) {
		case TCPOPT_MSS:
			assert_int_equal(l, 4);
			p->mss = rd16(o + i + 2);
			break;
		case TCPOPT_WSCALE:
			assert_int_equal(l, 3);
			p->wscale = (int8_t)o[i + 2];
			break;
		case TCPOPT_SACK_PERM:
			assert_int_equal(l, 2);
			p->sack_perm = true;
			break;
		case TCPOPT_TIMESTAMP:
			assert_int_equal(l, 10);
			p->has_ts = true;
			p->tsval = rd32(o + i + 2);
			p->tsecr = rd32(o + i + 6);
			break;
		case TCPOPT_SACK:
			assert_true((l - 2) % 8 == 0 && (l - 2) / 8 <= 4);
			p->nsack = (uint8_t)((l - 2) / 8);
			for (int k = 0; k < p->nsack; k++) {
				p->sack[k][0] = rd32(o + i + 2 + 8 * k);
				p->sack[k][1] = rd32(o + i + 6 + 8 * k);
			}
			break;
		default:
			break;
		}
		i += l;
	}
}

void fr_parse(const uint8_t *frame, size_t len, struct parsed *p)
{
	const uint8_t *h, *l4;
	size_t hl, tl, l4len;

	memset(p, 0, sizeof(*p));
	p->wscale = -1;
	assert_true(len >= ETH_HDR_LEN + IP4_HDR_MIN);
	memcpy(p->dst, frame, 6);
	memcpy(p->src, frame + 6, 6);
	p->ethertype = rd16(frame + 12);
	assert_int_equal(p->ethertype, ETHERTYPE_IPV4);
	h = frame + ETH_HDR_LEN;
	assert_int_equal(h[0] >> 4, 4);
	hl = (size_t)(h[0] & 0xf) * 4;
	assert_true(hl >= IP4_HDR_MIN);
	tl = rd16(h + 2);
	assert_true(tl >= hl && ETH_HDR_LEN + tl <= len);
	assert_true(csum_ok(h, hl, 0));
	p->ip_len = (uint16_t)tl;
	p->frag = rd16(h + 6);
	p->ttl = h[8];
	p->proto = h[9];
	p->saddr = rd32(h + 12);
	p->daddr = rd32(h + 16);
	l4 = h + hl;
	l4len = tl - hl;
	assert_true(fr_cksum_l4_ok(frame, len));
	if (p->proto == PROTO_TCP) {
		size_t doff;

		assert_true(l4len >= TCP_HDR_MIN);
		doff = (size_t)(l4[12] >> 4) * 4;
		assert_true(doff >= TCP_HDR_MIN && doff <= l4len);
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		p->seq = rd32(l4 + 4);
		p->ack = rd32(l4 + 8);
		p->flags = l4[13];
		p->win = rd16(l4 + 14);
		parse_tcp_opts(l4 + TCP_HDR_MIN, doff - TCP_HDR_MIN, p);
		p->payload = l4 + doff;
		p->payload_len = l4len - doff;
	} else if (p->proto == PROTO_UDP) {
		assert_true(l4len >= UDP_HDR_LEN);
		assert_int_equal(rd16(l4 + 4), l4len);
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		p->payload = l4 + UDP_HDR_LEN;
		p->payload_len = l4len - UDP_HDR_LEN;
	} else if (p->proto == PROTO_ICMP) {
		assert_true(l4len >= ICMP_HDR_LEN);
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->icmp_body = l4 + ICMP_HDR_LEN;
		p->icmp_body_len = l4len - ICMP_HDR_LEN;
		p->payload = l4;
		p->payload_len = l4len;
	}
}

/**
 * struct cnt_desc - one counter's name and place in struct stack_counters
 * @name:	as spelled in counters.h
 * @off:	offset of its field
 */
struct cnt_desc {
	const char *name;
	size_t off;
};

static const struct cnt_desc cnt_descs[] = {
#define X_DESC(n, help) { #n, offsetof(struct stack_counters, n) },
	STACK_COUNTERS(X_DESC)
#undef X_DESC
};

static uint64_t cnt_at(const struct stack_counters *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)c + off, sizeof(v));
	return v;
}

uint64_t cnt_get(const struct stack_counters *c, const char *name)
{
	for (size_t i = 0; i < sizeof(cnt_descs) / sizeof(cnt_descs[0]); i++)
		if (!strcmp(cnt_descs[i].name, name))
			return cnt_at(c, cnt_descs[i].off);
	fail_msg("no counter called %s", name);
	return 0;
}

uint64_t cnt_drops(const struct stack_counters *c)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(cnt_descs) / sizeof(cnt_descs[0]); i++)
		if (!strncmp(cnt_descs[i].name, "drop_", 5))
			sum += cnt_at(c, cnt_descs[i].off);
	return sum;
}

void cnt_expect_drop(const struct stack_counters *before, const struct stack_counters *after,
		     const char *drop)
{
	if (drop)
		(void)cnt_get(after, drop); /* a misspelt name fails here */
	for (size_t i = 0; i < sizeof(cnt_descs) / sizeof(cnt_descs[0]); i++) {
		const char *name = cnt_descs[i].name;
		uint64_t b = cnt_at(before, cnt_descs[i].off), a = cnt_at(after, cnt_descs[i].off);
		uint64_t want = drop && !strcmp(name, drop) ? b + 1 : b;

		if (strncmp(name, "drop_", 5))
			continue;
		if (a != want)
			fail_msg("%s went from %llu to %llu (expected %llu; the one drop expected: %s)",
				 name, (unsigned long long)b, (unsigned long long)a,
				 (unsigned long long)want, drop ? drop : "none");
	}
}

int tstack_setup(void **state)
{
	struct tstack *t = calloc(1, sizeof(*t));
	struct stack_ops ops = { .tx = cap_tx };
	struct stack_cfg cfg;

	if (!t)
		return -1;
	stack_cfg_defaults(&cfg);
	t->s = stack_new(&cfg, &ops, &t->cap);
	if (!t->s) {
		free(t);
		return -1;
	}
	t->now_us = 1000000;
	*state = t;
	return 0;
}

int tstack_teardown(void **state)
{
	struct tstack *t = *state;

	stack_free(t->s);
	cap_reset(&t->cap);
	free(t);
	return 0;
}

void tstack_feed(struct tstack *t, const uint8_t *frame, size_t len)
{
	cap_reset(&t->cap);
	t->before = *stack_counters(t->s);
	stack_input(t->s, frame, len, t->now_us);
}

void tstack_expect_drop(const struct tstack *t, const char *drop)
{
	cnt_expect_drop(&t->before, stack_counters(t->s), drop);
}
