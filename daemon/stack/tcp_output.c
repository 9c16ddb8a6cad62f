/* tcp_output.c - building TCP segments for the container and deciding what to send.
 *
 * Every segment is written straight into the next slot of the shell's transmit batch at
 * ip_pair_tx_l4(): options, header, then ip_pair_output() adds IPv4 or IPv6 and Ethernet. A segment that
 * carries data leaves its payload area to the shell: the frame says which upstream bytes go
 * there (struct stack_frame's fill_*), and the shell peeks them from the upstream socket
 * straight into the frame when it sends the batch, then seals the checksum. So the stack
 * stays sans-IO and no copy of the data is kept: a retransmission is another fill from a
 * smaller offset. How much upstream holds and how much it takes are inputs
 * (tcp_upstream_set_avail/_room), never asked for.
 * Must not: change connection state except the send variables (SND.NXT, SND.MAX) and the
 * ACK bookkeeping of what it sends; transitions are tcp_conn.c's.
 */
#include "checksum.h"
#include "tcp_internal.h"

/**
 * tcp_ts_now() - our RFC 7323 TSval: a 1 ms clock (5.4: between 1 ms and 1 s per tick)
 * plus the connection's random offset
 * @c:		the connection
 * @now_us:	current time
 * Return: the timestamp value
 */
uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now_us)
{
	return (uint32_t)(now_us / 1000) + c->ts_off;
}

/**
 * sack_blocks() - RFC 2018 4: the SACK blocks describing the out-of-order queue, the block
 * holding the most recently received segment first
 * @c:		the connection
 * @b:		blocks out: [left edge, right edge)
 * @max:	how many fit
 * Return: number of blocks
 */
static unsigned int sack_blocks(const struct tcp_conn *c, uint32_t b[][2], unsigned int max)
{
	uint32_t all[TCP_OOO_MAX_SEGS][2];
	unsigned int n = 0, out = 0, first = 0;

	for (unsigned int i = 0; i < c->nooo; i++) {
		uint32_t l = c->ooo[i].seq, r = l + c->ooo[i].len;

		if (l == r)
			continue; /* a bare FIN held: no data, no block (RFC 2018 3) */
		if (n && all[n - 1][1] == l) {
			all[n - 1][1] = r; /* contiguous entries report as one block */
		} else {
			all[n][0] = l;
			all[n][1] = r;
			n++;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		if (seq_between(c->ooo_last, all[i][0], all[i][1]))
			first = i;
	if (!n || !max)
		return 0;
	b[out][0] = all[first][0];
	b[out][1] = all[first][1];
	out++;
	for (unsigned int i = 0; i < n && out < max; i++) {
		if (i == first)
			continue;
		b[out][0] = all[i][0];
		b[out][1] = all[i][1];
		out++;
	}
	return out;
}

/**
 * put_opts() - write the options of a segment of ours
 * @s:		the stack
 * @c:		the connection
 * @o:		where (40 bytes available)
 * @flags:	the segment's flags: SYN segments carry MSS, WS, SACK-permitted
 * @now_us:	current time (TSval)
 * Return: options length, a multiple of 4
 */
static size_t put_opts(const struct stack *s, const struct tcp_conn *c, uint8_t *o, uint8_t flags,
		       uint64_t now_us)
{
	size_t n = 0;

	if (flags & TCP_SYN) {
		/* RFC 9293 3.7.1: our MSS is what fits the TAP's MTU (RFC 6691: no options),
		 * less the IPv6 header's 40 bytes over IPv6 (RFC 8200 8.3) */
		const struct flow *f = flow_at(((struct stack *)s)->flows, c->fidx);
		uint32_t mss = s->cfg.mtu - (f && f->v6 ? IP6_HDR_LEN : IP4_HDR_MIN) - TCP_HDR_MIN;

		o[n++] = TCPOPT_MSS;
		o[n++] = 4;
		wr16(o + n, (uint16_t)(mss > 65535 ? 65535 : mss));
		n += 2;
		if (c->ws_ok) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_WSCALE;
			o[n++] = 3;
			o[n++] = c->rcv_shift;
		}
		if (c->sack_ok) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_SACK_PERM;
			o[n++] = 2;
		}
	}
	if (c->ts_ok) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TIMESTAMP;
		o[n++] = 10;
		wr32(o + n, tcp_ts_now(c, now_us));
		/* RFC 7323 3.2: TSecr is only meaningful when ACK is set; 0 on our first SYN */
		wr32(o + n + 4, (flags & TCP_ACK) ? c->ts_recent : 0);
		n += 8;
	}
	if (c->sack_ok && c->nooo && !(flags & TCP_SYN)) {
		uint32_t b[TCP_SACK_MAX_BLOCKS][2];
		unsigned int nb = sack_blocks(c, b, (unsigned int)((40 - n - 2) / 8));

		if (nb) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_SACK;
			o[n++] = (uint8_t)(2 + 8 * nb);
			for (unsigned int i = 0; i < nb; i++) {
				wr32(o + n, b[i][0]);
				wr32(o + n + 4, b[i][1]);
				n += 8;
			}
		}
	}
	return n;
}

/**
 * tcp_rcv_window() - the receive window to advertise, in bytes: what upstream has room for,
 * capped at our maximum, and never less than what we already offered (RFC 9293 3.8.6.2.2:
 * a receiver should not shrink the window)
 * @s:	the stack
 * @f:	the flow
 * Return: bytes
 */
uint32_t tcp_rcv_window(struct stack *s, struct flow *f)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t room = c->up_room;
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	if (room > TCP_MAX_RCV_WND)
		room = TCP_MAX_RCV_WND;
	return room > offered ? room : offered;
}

/**
 * window_field() - the 16-bit window field for a segment, and advance RCV.ADV with it
 * @s:		the stack
 * @f:		the flow
 * @syn:	a SYN segment: RFC 7323 2.2, its window is never scaled
 * Return: the field
 */
static uint16_t window_field(struct stack *s, struct flow *f, bool syn)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t wnd = tcp_rcv_window(s, f), field, room;
	uint8_t shift = syn ? 0 : c->rcv_shift;
	uint32_t edge;

	if (c->fin_rcvd)
		wnd = 0; /* nothing more may come: no window to offer (Linux does the same) */
	field = wnd >> shift;
	if (field > 65535)
		field = 65535;
	edge = c->rcv_nxt + (field << shift);
	room = c->up_room < TCP_MAX_RCV_WND ? c->up_room : TCP_MAX_RCV_WND;
	/* Rounding down must not pull the right edge back (RFC 9293 3.8.6.2.2: SHOULD NOT
	 * shrink), so we round up; but not past what upstream takes (3.8.6: the window is the
	 * room we have; bytes offered beyond it would be dropped and resent). Where the two
	 * meet, the edge on the wire moves left by less than one unit of the scale (RFC 7323
	 * 2.4 leaves a scaled window that granularity; a sender MUST be robust against a
	 * shrinking window, RFC 9293 3.8.6.2.1), while RCV.ADV stays: those bytes are still
	 * accepted, and upstream takes them. Always rounding up used to creep past the room by
	 * up to 2^shift - 1 bytes per ACK. */
	if (seq_lt(edge, c->rcv_adv) && field < 65535 && !c->fin_rcvd &&
	    seq_leq(edge + (1u << shift), c->rcv_nxt + room)) {
		field++;
		edge += 1u << shift;
	}
	if (seq_gt(edge, c->rcv_adv) || c->rcv_adv == 0)
		c->rcv_adv = edge;
	return (uint16_t)field;
}

/**
 * emit() - finish the segment whose options and payload are in place and send it
 * @s:		the stack
 * @f:		the flow
 * @seq:	sequence number
 * @flags:	flags (ACK is added once we have a receive sequence)
 * @hl:		header length including options
 * @plen:	payload bytes after the header, from SND.UNA + (@seq - SND.UNA) upstream: left
 *		for the shell to place (fill)
 * @now_us:	current time
 */
static void emit(struct stack *s, struct flow *f, uint32_t seq, uint8_t flags, size_t hl,
		 size_t plen, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	struct ip_pair a = ip_pair_of_flow(f);
	uint8_t *t = ip_pair_tx_l4(s, &a);
	size_t len = hl + plen, seg;
	uint16_t wnd = 0;

	if (flags & TCP_ACK) {
		wnd = window_field(s, f, flags & TCP_SYN);
		c->last_ack_sent = c->rcv_nxt;
		c->delack_segs = 0;
		c->ack_now = false;
		tcp_timer_set(s, c, TCP_T_DELACK, TCP_T_OFF);
	} else if (flags & TCP_SYN) {
		wnd = window_field(s, f, true);
	}
	wr16(t, f->pport);
	wr16(t + 2, f->cport);
	wr32(t + 4, seq);
	wr32(t + 8, (flags & TCP_ACK) ? c->rcv_nxt : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	wr16(t + 14, wnd);
	wr16(t + 16, 0);
	wr16(t + 18, 0);
	if (plen) {
		/* the payload is the shell's to place: the checksum is sealed after it */
		s->fill.pseudo = csum_reduce32(ip_pair_pseudo(&a, PROTO_TCP, len));
		s->fill.at = (uint16_t)(ip_pair_l4_off(&a) + hl);
		s->fill.len = (uint32_t)plen;
		s->fill.seq = seq;
		s->fill.flow = f;
		/* the segment the kernel cuts: the MSS, and no more than the MTU in force now
		 * (stack_set_mtu() may have lowered it since the MSS was agreed), less options */
		seg = c->mss < stack_l4_max(s) - TCP_HDR_MIN ? c->mss : stack_l4_max(s) - TCP_HDR_MIN;
		s->fill.mss = (uint16_t)(seg > hl - TCP_HDR_MIN ? seg - (hl - TCP_HDR_MIN) : 1);
	} else {
		wr16(t + 16, csum_fold(csum_partial(t, len, ip_pair_pseudo(&a, PROTO_TCP, len))));
	}
	f->pkts_out++;
	f->last_us = now_us;
	if (flags & TCP_RST)
		s->cnt.tcp_rst_sent++;
	ip_pair_output(s, &a, PROTO_TCP, len, false);
}

/**
 * send_ctl() - send a segment without payload
 * @s:		the stack
 * @f:		the flow
 * @seq:	sequence number
 * @flags:	flags
 * @now_us:	current time
 */
static void send_ctl(struct stack *s, struct flow *f, uint32_t seq, uint8_t flags,
		     uint64_t now_us)
{
	struct ip_pair a = ip_pair_of_flow(f);
	uint8_t *t = ip_pair_tx_l4(s, &a);
	size_t hl = TCP_HDR_MIN;

	if (!(flags & TCP_RST))
		hl += put_opts(s, tcp_conn_of(f), t + TCP_HDR_MIN, flags, now_us);
	emit(s, f, seq, flags, hl, 0, now_us);
}

/**
 * tcp_send_ack() - send a pure ACK (SEQ = SND.NXT, ACK = RCV.NXT, the current window)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_send_ack(struct stack *s, struct flow *f, uint64_t now_us)
{
	send_ctl(s, f, tcp_conn_of(f)->snd_nxt, TCP_ACK, now_us);
}

/**
 * tcp_send_synack() - send (or resend) our SYN-ACK (RFC 9293 3.10.7.2)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_send_synack(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	send_ctl(s, f, c->iss, TCP_SYN | TCP_ACK, now_us);
	c->snd_nxt = c->iss + 1;
	c->snd_max = seq_max(c->snd_max, c->snd_nxt);
}

/**
 * tcp_send_syn() - send (or resend) our SYN for an active open (RFC 9293 3.10.1)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_send_syn(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	send_ctl(s, f, c->iss, TCP_SYN, now_us);
	c->snd_nxt = c->iss + 1;
	c->snd_max = seq_max(c->snd_max, c->snd_nxt);
}

/**
 * tcp_send_rst() - abort: RST to the container (RFC 9293 3.10.5, ABORT:
 * <SEQ=SND.NXT><CTL=RST>; we add the ACK as Linux does, so that a peer in SYN_SENT accepts it
 * too)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_send_rst(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	send_ctl(s, f, c->snd_max, TCP_RST | TCP_ACK, now_us);
}

/**
 * tcp_send_probe() - a zero-window probe: an ACK one below SND.UNA, which the container must
 * find unacceptable and answer with an ACK carrying its current window (RFC 9293 3.8.6.1
 * and 3.10.7.4; Linux's tcp_xmit_probe_skb does the same, so no byte needs to go past the
 * window and no retransmission state is touched)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_send_probe(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	s->cnt.tcp_zero_window_probes++;
	send_ctl(s, f, c->snd_una - 1, TCP_ACK, now_us);
}

/**
 * tcp_send_challenge_ack() - RFC 5961 3.2/4.2/5.2 challenge ACK, rate limited per link (7)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 * Return: true if sent, false if the limit suppressed it
 */
bool tcp_send_challenge_ack(struct stack *s, struct flow *f, uint64_t now_us)
{
	if (!ratelimit_allow(&s->tcp->challenge_rl, now_us))
		return false;
	s->cnt.tcp_challenge_acks++;
	tcp_send_ack(s, f, now_us);
	return true;
}

/**
 * tcp_send_rst_raw() - a RST (or RST|ACK) outside any connection, from @a's source:@sport
 * (our side, the address the container used) to its destination:@dport (the container)
 * @s:		the stack
 * @a:		addresses, either family
 * @sport, @dport: ports, host order
 * @seq, @ack:	sequence and acknowledgement numbers
 * @flags:	TCP_RST, optionally | TCP_ACK
 */
void tcp_send_rst_raw(struct stack *s, const struct ip_pair *a, uint16_t sport, uint16_t dport,
		      uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t *t = ip_pair_tx_l4(s, a);

	memset(t, 0, TCP_HDR_MIN);
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	wr32(t + 8, (flags & TCP_ACK) ? ack : 0);
	t[12] = (TCP_HDR_MIN / 4) << 4;
	t[13] = flags;
	wr16(t + 16, csum_fold(csum_partial(t, TCP_HDR_MIN,
					    ip_pair_pseudo(a, PROTO_TCP, TCP_HDR_MIN))));
	s->cnt.tcp_rst_sent++;
	ip_pair_output(s, a, PROTO_TCP, TCP_HDR_MIN, false);
}

/**
 * tcp_send_reset_reply() - RFC 9293 3.10.7.1: the RST answering segment @g (which must not
 * itself be a RST): <SEQ=SEG.ACK><CTL=RST> if it had an ACK, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 * @s:		the stack
 * @p:		the packet that carried it (its addresses, either family)
 * @sport, @dport: its ports
 * @g:		the segment
 */
void tcp_send_reset_reply(struct stack *s, const struct pkt *p, uint16_t sport, uint16_t dport,
			  const struct tcp_seg *g)
{
	struct ip_pair a = ip_pair_reply(p);

	if (g->flags & TCP_ACK)
		tcp_send_rst_raw(s, &a, dport, sport, g->ack, 0, TCP_RST);
	else
		tcp_send_rst_raw(s, &a, dport, sport, 0, g->seq + tcp_seg_len(g),
				 TCP_RST | TCP_ACK);
}

/**
 * data_end() - the sequence number after the last data byte known to exist: our FIN's
 * place once queued, else the highest sent
 * @c:	the connection
 * Return: the sequence number
 */
static uint32_t data_end(const struct tcp_conn *c)
{
	return c->fin_queued ? c->fin_seq : c->snd_max;
}

/**
 * send_fin() - send our FIN at FIN_SEQ (first time: the state moves on, tcp_fin_sent)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void send_fin(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	bool again = c->fin_sent;

	send_ctl(s, f, c->fin_seq, TCP_FIN | TCP_ACK, now_us);
	c->snd_nxt = c->fin_seq + 1;
	c->snd_max = seq_max(c->snd_max, c->snd_nxt);
	if (again) {
		s->cnt.tcp_retransmits++;
		c->retransmits++;
	} else {
		c->fin_sent = true;
		tcp_fin_sent(s, f, now_us);
	}
	if (c->timer[TCP_T_RTX] == TCP_T_OFF)
		tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
}

/**
 * send_segment() - send up to @max of the upstream bytes at @seq (as many as upstream holds)
 * @s:		the stack
 * @f:		the flow
 * @seq:	the segment's sequence number
 * @max:	largest payload wanted (0: as much as the MSS allows)
 * @now_us:	current time
 * Return: payload bytes sent (0: upstream had none, nothing sent)
 */
static size_t send_segment(struct stack *s, struct flow *f, uint32_t seq, size_t max,
			   uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	struct ip_pair a = ip_pair_of_flow(f);
	uint8_t *t = ip_pair_tx_l4(s, &a);
	size_t hl = TCP_HDR_MIN + put_opts(s, c, t + TCP_HDR_MIN, TCP_ACK, now_us);
	size_t room = c->mss > hl - TCP_HDR_MIN ? c->mss - (hl - TCP_HDR_MIN) : 1;
	uint32_t off = seq - c->snd_una;
	size_t got;

	/* RFC 6691: the MSS bounds data plus options; never more than the MTU either. A shell
	 * with TSO has the kernel cut a segment of up to 64 KiB at the MSS (emit(): fill.mss). */
	if (s->cfg.tso)
		room = 65535 - ip_pair_hdr(&a) - hl;
	if (room > ip_pair_l4_max(s, &a) - hl && !s->cfg.tso)
		room = ip_pair_l4_max(s, &a) - hl;
	if (max && max < room)
		room = max;
	if (c->up_avail <= off)
		return 0;
	got = c->up_avail - off < room ? c->up_avail - off : room;
	emit(s, f, seq, TCP_ACK | TCP_PSH, hl, got, now_us);
	return got;
}

/**
 * tcp_retransmit_first() - resend the first unacknowledged segment, whatever the windows
 * (RFC 6298 5.4, RFC 5681 3.2 fast retransmit); SND.NXT moves past it if behind
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 * Return: payload bytes resent (0 for a FIN or nothing)
 */
size_t tcp_retransmit_first(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t end = data_end(c);
	size_t got = 0;

	c->rtt_timing = false; /* Karn's rule */
	if (c->fin_queued && c->snd_una == c->fin_seq) {
		if (c->fin_sent)
			send_fin(s, f, now_us);
		return 0;
	}
	if (seq_gt(end, c->snd_una))
		got = send_segment(s, f, c->snd_una, end - c->snd_una, now_us);
	if (!got)
		return 0;
	s->cnt.tcp_retransmits++;
	c->retransmits++;
	c->snd_nxt = seq_max(c->snd_nxt, c->snd_una + (uint32_t)got);
	return got;
}

/**
 * send_recovery() - RFC 6675 5 (C): in SACK loss recovery, while cwnd - pipe >= 1 SMSS, send
 * what NextSeg() picks: the first hole deemed lost (rule 1), else new data the window allows
 * (rule 2), else the first hole not yet retransmitted (rule 3)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 * Return: true if any segment went out
 */
static bool send_recovery(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t pipe = tcp_sack_pipe(c);
	bool sent = false, fresh = true;

	/* Bounded: each round sends a segment (pipe grows by it) or stops. */
	for (unsigned int rounds = 0; rounds < 4096; rounds++) {
		uint32_t seq, len, off = c->snd_max - c->snd_una;
		size_t got;

		if (pipe >= c->cwnd || c->cwnd - pipe < c->mss)
			break;
		if (tcp_sack_next_hole(c, true, &seq, &len)) {
			got = send_segment(s, f, seq, len, now_us);
		} else if (fresh && c->snd_nxt == c->snd_max && c->snd_wnd > off &&
			   !(c->fin_queued && seq_geq(c->snd_max, c->fin_seq))) {
			got = send_segment(s, f, c->snd_max, c->snd_wnd - off, now_us);
			if (!got) {
				fresh = false; /* nothing new upstream: on to rule 3 */
				continue;
			}
			f->bytes_out += got;
			c->snd_max += (uint32_t)got;
			c->snd_nxt = c->snd_max;
			pipe += (uint32_t)got;
			sent = true;
			continue;
		} else if (tcp_sack_next_hole(c, false, &seq, &len)) {
			got = send_segment(s, f, seq, len, now_us);
		} else {
			break;
		}
		if (!got)
			break;
		/* (C.2) a retransmission: HighRxt moves past it; Karn's rule */
		c->high_rxt = seq + (uint32_t)got;
		c->rtt_timing = false;
		s->cnt.tcp_retransmits++;
		c->retransmits++;
		pipe += (uint32_t)got;
		sent = true;
	}
	return sent;
}

/**
 * eof_reached() - upstream said EOF and has no byte left at SND.NXT: our FIN goes there
 * @s:		the stack
 * @f:		the flow
 * Return: true if FIN_SEQ was set
 */
static bool eof_reached(struct stack *s, struct flow *f)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!c->upstream_eof || c->fin_queued || c->snd_nxt != c->snd_max || tcp_unsent(c))
		return false;
	c->fin_queued = true;
	c->fin_seq = c->snd_nxt;
	return true;
}

/**
 * send_data() - send what the windows allow: min(SND.WND, cwnd) beyond SND.UNA (RFC 5681
 * 2 and 3.1), then our FIN when upstream ended
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 * Return: true if any segment went out
 */
static bool send_data(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	bool sent = false;

	if (c->in_recovery && c->sack_ok)
		return send_recovery(s, f, now_us);
	/* Bounded: each round sends a segment or stops; the window bounds the rounds. */
	for (unsigned int rounds = 0; rounds < 4096; rounds++) {
		uint32_t off = c->snd_nxt - c->snd_una, cwnd = c->cwnd;
		uint32_t wnd;

		/* RFC 3042 Limited Transmit: on the first two duplicate ACKs, up to two
		 * segments of new data beyond cwnd, to draw the ACKs a fast retransmit needs */
		if (c->dupacks && !c->in_recovery)
			cwnd += (c->dupacks < 2 ? c->dupacks : 2) * (uint32_t)c->mss;
		wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
		uint32_t room = wnd > off ? wnd - off : 0;
		size_t got;

		if (c->fin_queued) {
			if (c->snd_nxt == c->fin_seq) {
				send_fin(s, f, now_us);
				return true;
			}
			if (seq_gt(c->snd_nxt, c->fin_seq))
				break;
			if (room > c->fin_seq - c->snd_nxt)
				room = c->fin_seq - c->snd_nxt;
		}
		if (!room) {
			if (!c->snd_wnd && eof_reached(s, f))
				continue;
			break;
		}
		got = send_segment(s, f, c->snd_nxt, room, now_us);
		if (!got) {
			if (eof_reached(s, f))
				continue;
			break;
		}
		if (seq_lt(c->snd_nxt, c->snd_max)) {
			s->cnt.tcp_retransmits++; /* going back N after a timeout */
			c->retransmits++;
		} else {
			f->bytes_out += got;
			if (!c->rtt_timing) {
				c->rtt_timing = true;
				c->rtt_seq = c->snd_nxt + (uint32_t)got;
				c->rtt_start = now_us;
			}
		}
		c->snd_nxt += (uint32_t)got;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		/* RFC 6298 5.1: start the timer when sending data if it is not running */
		if (c->timer[TCP_T_RTX] == TCP_T_OFF)
			tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
		sent = true;
	}
	return sent;
}

/**
 * tcp_output() - send whatever is due: data and FIN as the windows allow, else an ACK if one
 * is owed; arm or stop the persist timer
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_output(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	bool sent = false, can_send;

	switch (f->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		can_send = true;
		break;
	default:
		can_send = false;
		break;
	}
	if (can_send)
		sent = send_data(s, f, now_us);
	if (!sent && c->ack_now)
		tcp_send_ack(s, f, now_us);

	/* RFC 9293 3.8.6.1: with a zero window and data waiting, probe on the persist timer. */
	if (can_send && !c->snd_wnd && c->snd_una == c->snd_max &&
	    (tcp_unsent(c) || (c->upstream_eof && !c->fin_queued))) {
		if (c->timer[TCP_T_PERSIST] == TCP_T_OFF)
			tcp_timer_set(s, c, TCP_T_PERSIST, now_us + c->rto_us);
	} else if (c->timer[TCP_T_PERSIST] != TCP_T_OFF) {
		tcp_timer_set(s, c, TCP_T_PERSIST, TCP_T_OFF);
		c->persist_shift = 0;
	}
}

/**
 * tcp_kick() - output is due on @f: noted for the end of the batch (one dispatch per flow,
 * so one ACK per flow per batch), or run now outside a batch
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
void tcp_kick(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_stack *ts = s->tcp;
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t me;

	if (!c)
		return;
	if (!s->batch) {
		tcp_output(s, f, now_us);
		return;
	}
	if (c->pend_queued)
		return;
	me = (uint32_t)(c - ts->conns) + 1;
	c->pend_queued = true;
	c->pend_next = 0;
	c->pend_prev = ts->pend_tail;
	if (ts->pend_tail)
		ts->conns[ts->pend_tail - 1].pend_next = me;
	else
		ts->pend_head = me;
	ts->pend_tail = me;
}

/**
 * tcp_pend_unlink() - take @c off the batch's list of flows with output due (if on it)
 * @s:	the stack
 * @c:	the connection
 */
void tcp_pend_unlink(struct stack *s, struct tcp_conn *c)
{
	struct tcp_stack *ts = s->tcp;

	if (!c->pend_queued)
		return;
	if (c->pend_prev)
		ts->conns[c->pend_prev - 1].pend_next = c->pend_next;
	else
		ts->pend_head = c->pend_next;
	if (c->pend_next)
		ts->conns[c->pend_next - 1].pend_prev = c->pend_prev;
	else
		ts->pend_tail = c->pend_prev;
	c->pend_prev = c->pend_next = 0;
	c->pend_queued = false;
}

void tcp_dispatch(struct stack *s, uint64_t now_us)
{
	struct tcp_stack *ts = s->tcp;

	/* Bounded: a flow leaves the list before its output runs, and output does not put it
	 * back (tcp_output calls no tcp_kick); a flow made due by another's output is on the
	 * list once. */
	for (uint32_t n = 0; ts && ts->pend_head && n <= 2 * ts->nconns; n++) {
		struct tcp_conn *c = &ts->conns[ts->pend_head - 1];
		struct flow *f = tcp_flow_of(s, c);

		tcp_pend_unlink(s, c);
		if (f && f->tcp == c)
			tcp_output(s, f, now_us);
	}
}
