/* tcp_fixture.c - the TCP tests' harness: mock shell, frame helpers, per-state fixtures. */
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "seq.h"
#include "tcp_fixture.h"

/* --- the mock shell ------------------------------------------------------------------------ */

static int m_open(void *ctx, struct flow *f)
{
	struct fx *fx = ctx;

	(void)f;
	fx->m.open_calls++;
	return fx->m.open_ret;
}

static ssize_t m_deliver(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	struct fx *fx = ctx;
	size_t n = len < fx->m.sink_room ? len : fx->m.sink_room;

	(void)f;
	fx->m.deliver_calls++;
	if (fx->m.deliver_err && fx->m.deliver_ok-- <= 0)
		return -fx->m.deliver_err;
	assert_true(fx->m.sink_len + n <= FX_SINK_MAX);
	memcpy(fx->m.sink + fx->m.sink_len, data, n);
	fx->m.sink_len += n;
	fx->m.sink_room -= (uint32_t)n;
	return (ssize_t)n;
}

/**
 * m_prepare() - stack_ops.prepare: a batch begins; give every TCP flow the mock upstream's
 * figures (what it holds unacknowledged, what it takes), as the relay does
 */
static void m_prepare(void *ctx)
{
	struct fx *fx = ctx;
	struct flow_table *t = stack_flows(fx->s);

	for (struct flow *f = flow_next(t, NULL); f; f = flow_next(t, f)) {
		if (f->proto != PROTO_TCP)
			continue;
		tcp_upstream_set_avail(fx->s, f, (uint32_t)(fx->m.up_len - fx->m.up_consumed));
		tcp_upstream_set_room(fx->s, f, fx->m.sink_room);
	}
}

static void m_consume(void *ctx, struct flow *f, uint32_t n)
{
	struct fx *fx = ctx;

	(void)f;
	assert_true(n <= fx->m.up_len - fx->m.up_consumed);
	fx->m.up_consumed += n;
	fx->m.consume_calls++;
}

static void m_fin(void *ctx, struct flow *f)
{
	(void)f;
	((struct fx *)ctx)->m.fin_calls++;
}

static void m_reset(void *ctx, struct flow *f)
{
	(void)f;
	((struct fx *)ctx)->m.reset_calls++;
}

static void m_closed(void *ctx, struct flow *f)
{
	struct fx *fx = ctx;

	fx->m.closed_calls++;
	fx->m.closed_end = f->end;
}

/**
 * m_kernel_csum() - what the container's kernel does with a partial checksum (virtio 1.x
 * 5.1.6.2): sum from csum_start to the end, store the folded sum at csum_start + csum_offset.
 * A wrong pseudo-header sum left by the stack then fails fr_parse()'s checksum check.
 * @vh:		the frame's virtio-net header
 * @frame:	the frame
 * @len:	its length
 */
static void m_kernel_csum(const uint8_t *vh, uint8_t *frame, size_t len)
{
	uint16_t start = (uint16_t)(vh[VNET_OFF_CSUM_START] | vh[VNET_OFF_CSUM_START + 1] << 8);
	uint16_t off = (uint16_t)(vh[VNET_OFF_CSUM_OFFSET] | vh[VNET_OFF_CSUM_OFFSET + 1] << 8);
	uint64_t sum;

	if (!(vh[VNET_OFF_FLAGS] & VNET_F_NEEDS_CSUM))
		return;
	assert_true((size_t)start + off + 2 <= len);
	sum = csum_partial(frame + start, len - start, 0);
	wr16(frame + start + off, csum_fold(sum));
}

/**
 * m_tx() - stack_ops.tx: fill each frame's payload from the mock upstream (as the relay's
 * MSG_PEEK does), seal it, capture it
 */
static void m_tx(void *ctx, struct stack_txq *q)
{
	struct fx *fx = ctx;

	for (unsigned int i = 0; i < q->n; i++) {
		struct stack_frame *fr = &q->frame[i];
		uint32_t off;

		if (fr->fill_flow) {
			if (!tcp_fill_offset(fr->fill_flow, fr->fill_seq, &off))
				continue; /* acknowledged meanwhile: obsolete */
			assert_true(off + fr->fill_len <= fx->m.up_len - fx->m.up_consumed);
			if (fr->fill_len > fx->m.peek_max)
				fx->m.peek_max = fr->fill_len;
			memcpy(fr->data + fr->fill_at, fx->m.up + fx->m.up_consumed + off,
			       fr->fill_len);
			if (!fx->m.vnet)
				stack_frame_seal(fr);
		}
		if (!fr->len)
			continue;
		if (fx->m.vnet) {
			stack_frame_vnet(fr);
			if (fx->m.cap.n < CAP_MAX)
				memcpy(fx->m.vh[fx->m.cap.n], fr->data - STACK_VNET_HDR_LEN,
				       STACK_VNET_HDR_LEN);
			m_kernel_csum(fr->data - STACK_VNET_HDR_LEN, fr->data, fr->len);
		}
		cap_frame(&fx->m.cap, fr->data, fr->len);
	}
	q->n = 0;
}

/* --- setup --------------------------------------------------------------------------------- */

void fx_cfg_default(struct stack_cfg *cfg)
{
	stack_cfg_defaults(cfg);
	/* over IPv6 (fr_v6) 20 bytes more, so that the MSS is the same 1460 (RFC 8200 8.3) */
	cfg->mtu = fr_v6 ? 1520 : 1500;
	cfg->max_flows = 64;
	cfg->max_half_open = 16;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(0x42 + i); /* fixed: ISNs depend only on time */
}

struct fx *fx_new_cfg(const struct stack_cfg *cfg)
{
	static const struct stack_ops ops = {
		.tx = m_tx,
		.prepare = m_prepare,
		.tcp_open = m_open,
		.tcp_deliver = m_deliver,
		.tcp_consume = m_consume,
		.tcp_fin = m_fin,
		.tcp_reset = m_reset,
		.flow_closed = m_closed,
	};
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->cfg = *cfg;
	fx->m.up = malloc(FX_UP_MAX);
	fx->m.sink = malloc(FX_SINK_MAX);
	assert_non_null(fx->m.up);
	assert_non_null(fx->m.sink);
	fx->m.sink_room = 1u << 20;
	fx->now = 1000000000; /* 1000 s: far from zero, so "now - x" never wraps */
	fx->s = stack_new(&fx->cfg, &ops, fx);
	assert_non_null(fx->s);
	fx->cseq = FX_CISN;
	fx->win = 65535;
	fx->tsval = 5000;
	fx->syn = (struct fr_tcp){ .mss = 1460, .has_wscale = true, .wscale = 7,
				   .sack_perm = true };
	return fx;
}

struct fx *fx_new(void)
{
	struct stack_cfg cfg;

	fx_cfg_default(&cfg);
	return fx_new_cfg(&cfg);
}

void fx_free(struct fx *fx)
{
	if (!fx)
		return;
	stack_free(fx->s);
	cap_reset(&fx->m.cap);
	free(fx->m.up);
	free(fx->m.sink);
	free(fx);
}

int fx_setup(void **state)
{
	*state = fx_new();
	return 0;
}

int fx_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* --- frames in ------------------------------------------------------------------------------ */

void fx_send(struct fx *fx, struct fr_tcp *t, const void *data, size_t len)
{
	uint8_t *buf = malloc(STACK_VNET_HDR_LEN + FRAME_MAX + 64);

	assert_non_null(buf);
	if (!t->sport)
		t->sport = FX_CPORT;
	if (!t->dport)
		t->dport = FX_PPORT;
	if (!t->win && !(t->flags & TCP_RST))
		t->win = fx->win;
	if (fx->ts && !t->has_ts && !t->raw_opts) {
		t->has_ts = true;
		t->tsval = fx->tsval++;
		t->tsecr = fx->tsecr;
	}
	len = fr_tcp(buf + STACK_VNET_HDR_LEN, fx->cfg.mac, t, data, len);
	memcpy(buf, fx->m.vnet_in, STACK_VNET_HDR_LEN);
	if (fx->m.vnet_partial) {
		/* what a kernel leaves under NEEDS_CSUM: the pseudo-header sum, not complemented */
		uint8_t *ip = buf + STACK_VNET_HDR_LEN + ETH_HDR_LEN;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, l4len = rd16(ip + 2) - ihl;

		wr16(ip + ihl + 16, (uint16_t)~csum_fold(csum_pseudo4(rd32(ip + 12), rd32(ip + 16),
								       PROTO_TCP, (uint16_t)l4len)));
	}
	if (fx->m.vnet)
		stack_input_vnet(fx->s, buf, len + STACK_VNET_HDR_LEN, fx->now);
	else
		stack_input(fx->s, buf + STACK_VNET_HDR_LEN, len, fx->now);
	free(buf);
}

void fx_seg(struct fx *fx, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	    size_t len)
{
	struct fr_tcp t = { .flags = flags, .seq = seq, .ack = ack };

	fx_send(fx, &t, data, len);
}

void fx_ack(struct fx *fx, uint32_t ack)
{
	fx_seg(fx, TCP_ACK, fx->cseq, ack, NULL, 0);
}

void fx_data(struct fx *fx, const void *data, size_t len)
{
	fx_seg(fx, TCP_ACK | TCP_PSH, fx->cseq, fx->rnxt, data, len);
	fx->cseq += (uint32_t)len;
}

/* --- frames out ----------------------------------------------------------------------------- */

size_t fx_nout(struct fx *fx)
{
	return fx->m.cap.n;
}

void fx_out(struct fx *fx, size_t i, struct parsed *p)
{
	uint32_t end;

	assert_true(i < fx->m.cap.n);
	fr_parse(fx->m.cap.frame[i], fx->m.cap.len[i], p);
	/* only a super-frame the container's kernel cuts (GSO) may be longer than the MTU */
	assert_true(p->ip_len <= fx->cfg.mtu ||
		    (fx->m.vnet && i < CAP_MAX && fx->m.vh[i][VNET_OFF_GSO_TYPE] == VNET_GSO_TCPV4));
	if (fr_v6)
		assert_int_equal(fx->m.cap.frame[i][12] << 8 | fx->m.cap.frame[i][13], 0x86dd);
	if (p->proto != PROTO_TCP || (p->flags & TCP_RST))
		return;
	if (p->sport != FX_PPORT || p->dport != FX_CPORT)
		return; /* another connection's: not tracked */
	if (p->flags & TCP_SYN) {
		fx->iss = p->seq;
		if (!fx->rnxt || (p->flags & TCP_ACK))
			fx->rnxt = p->seq;
	}
	end = p->seq + (uint32_t)p->payload_len + !!(p->flags & TCP_SYN) + !!(p->flags & TCP_FIN);
	if (seq_leq(p->seq, fx->rnxt) && seq_gt(end, fx->rnxt))
		fx->rnxt = end;
	if (p->has_ts)
		fx->tsecr = p->tsval;
}

void fx_last(struct fx *fx, struct parsed *p)
{
	assert_true(fx->m.cap.n > 0);
	fx_out(fx, fx->m.cap.n - 1, p);
}

void fx_one(struct fx *fx, struct parsed *p)
{
	assert_int_equal(fx->m.cap.n, 1);
	fx_out(fx, 0, p);
}

void fx_clear(struct fx *fx)
{
	cap_reset(&fx->m.cap);
}

void fx_absorb(struct fx *fx)
{
	struct parsed p;

	for (size_t i = 0; i < fx->m.cap.n; i++)
		fx_out(fx, i, &p);
	fx_clear(fx);
}

/* --- upstream, time ------------------------------------------------------------------------- */

uint8_t fx_pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

void fx_upstream(struct fx *fx, const void *data, size_t len)
{
	assert_true(fx->m.up_len + len <= FX_UP_MAX);
	for (size_t i = 0; i < len; i++)
		fx->m.up[fx->m.up_len + i] = data ? ((const uint8_t *)data)[i]
						  : fx_pattern(fx->m.up_len + i);
	fx->m.up_len += len;
}

void fx_tick(struct fx *fx, uint64_t us)
{
	fx->now += us;
	stack_tick(fx->s, fx->now);
}

struct flow *fx_lookup(struct fx *fx)
{
	if (fr_v6) {
		uint8_t c6[16], p6[16];

		fr_v6_addr(c6, T_CADDR);
		fr_v6_addr(p6, T_PEER);
		return flow_lookup6(stack_flows(fx->s), PROTO_TCP, c6, FX_CPORT, p6, FX_PPORT);
	}
	return flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, FX_CPORT, T_PEER, FX_PPORT);
}

int fx_state(struct fx *fx)
{
	struct flow *f = fx_lookup(fx);

	return f ? f->state : -1;
}

/* --- per-state fixtures --------------------------------------------------------------------- */

void fx_to_syn_rcvd_waiting(struct fx *fx)
{
	struct fr_tcp t = fx->syn;

	t.flags = TCP_SYN;
	t.seq = fx->cseq;
	fx_send(fx, &t, NULL, 0);
	fx->cseq++;
	fx->f = fx_lookup(fx);
	assert_non_null(fx->f);
	assert_int_equal(fx->f->state, TCP_SYN_RCVD);
	assert_int_equal(fx->m.open_calls, 1);
	assert_int_equal(fx_nout(fx), 0);
}

void fx_to_syn_rcvd(struct fx *fx)
{
	struct parsed p;

	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
}

void fx_to_established(struct fx *fx)
{
	fx_to_syn_rcvd(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx->f->state, TCP_ESTABLISHED);
	assert_int_equal(fx_nout(fx), 0);
}

void fx_to_fin_wait_1(struct fx *fx)
{
	struct parsed p;

	fx_to_established(fx);
	tcp_upstream_eof(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_FIN | TCP_ACK);
	fx_clear(fx);
	assert_int_equal(fx->f->state, TCP_FIN_WAIT_1);
}

void fx_to_fin_wait_2(struct fx *fx)
{
	fx_to_fin_wait_1(fx);
	fx_ack(fx, fx->rnxt);
	assert_int_equal(fx->f->state, TCP_FIN_WAIT_2);
	assert_int_equal(fx_nout(fx), 0);
}

void fx_to_close_wait(struct fx *fx)
{
	struct parsed p;

	fx_to_established(fx);
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq, fx->rnxt, NULL, 0);
	fx->cseq++;
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
	assert_int_equal(fx->f->state, TCP_CLOSE_WAIT);
	assert_int_equal(fx->m.fin_calls, 1);
}

void fx_to_last_ack(struct fx *fx)
{
	struct parsed p;

	fx_to_close_wait(fx);
	tcp_upstream_eof(fx->s, fx->f, fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_FIN | TCP_ACK);
	fx_clear(fx);
	assert_int_equal(fx->f->state, TCP_LAST_ACK);
}

void fx_to_closing(struct fx *fx)
{
	struct parsed p;
	uint32_t before_fin;

	fx_to_fin_wait_1(fx);
	before_fin = fx->rnxt - 1;
	/* the container's FIN crosses ours: it acknowledges only what came before our FIN */
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq, before_fin, NULL, 0);
	fx->cseq++;
	fx_one(fx, &p);
	assert_true(p.flags & TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
	assert_int_equal(fx->f->state, TCP_CLOSING);
}

void fx_to_time_wait(struct fx *fx)
{
	struct parsed p;

	fx_to_fin_wait_2(fx);
	fx_seg(fx, TCP_FIN | TCP_ACK, fx->cseq, fx->rnxt, NULL, 0);
	fx->cseq++;
	fx_one(fx, &p);
	assert_int_equal(p.flags, TCP_ACK);
	assert_int_equal(p.ack, fx->cseq);
	fx_clear(fx);
	assert_int_equal(fx->f->state, TCP_TIME_WAIT);
}
