/* tcp_input.c - a TCP segment from the container arrives (RFC 9293 3.10.7).
 *
 * tcp_input() checks the header (checksum, data offset, every option's length), finds the
 * flow, and either opens one (a SYN for a new 4-tuple), answers for none (3.10.7.1), or runs
 * the segment through the steps of 3.10.7.3 (SYN_SENT) and 3.10.7.4 (every other state):
 * sequence check, RST, SYN, ACK, text, FIN, hardened per RFC 5961 and RFC 7323 (PAWS).
 * Container to upstream data is handed to ops->tcp_deliver; only what it takes is
 * acknowledged. Must not: build segments itself (tcp_output.c) or change state other than
 * through tcp_transition() / tcp_close_flow().
 */
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "tcp_internal.h"

/**
 * parse_options() - decode the options, checking every length (RFC 9293 3.2: a malformed
 * option list means a malformed segment)
 * @o:		options
 * @n:		their length (data offset minus 20)
 * @g:		segment to fill
 * Return: 0, or -1 if malformed
 */
static int parse_options(const uint8_t *o, size_t n, struct tcp_seg *g)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			return -1;
		switch (kind) {
		case TCPOPT_MSS:
			if (len != 4)
				return -1;
			g->mss = rd16(o + i + 2);
			break;
		case TCPOPT_WSCALE:
			if (len != 3)
				return -1;
			g->wscale = (int8_t)(o[i + 2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o[i + 2]);
			break;
		case TCPOPT_SACK_PERM:
			if (len != 2)
				return -1;
			g->sack_perm = true;
			break;
		case TCPOPT_TIMESTAMP:
			if (len != 10)
				return -1;
			g->has_ts = true;
			g->tsval = rd32(o + i + 2);
			g->tsecr = rd32(o + i + 6);
			break;
		case TCPOPT_SACK:
			/* RFC 2018 3: 1 to 4 blocks of two edges. Kept as sent: tcp_sack_update()
			 * checks them against what we sent. A second SACK option is ignored. */
			if ((len - 2) % 8 || len < 10)
				return -1;
			if (g->nsack)
				break;
			for (unsigned int b = 0; b < (len - 2u) / 8 && b < TCP_SACK_MAX_BLOCKS; b++) {
				g->sack[b][0] = rd32(o + i + 2 + 8 * b);
				g->sack[b][1] = rd32(o + i + 6 + 8 * b);
				g->nsack = (uint8_t)(b + 1);
			}
			break;
		default:
			break; /* unknown options are skipped by their length (RFC 9293 3.2) */
		}
		i += len;
	}
	return 0;
}

/**
 * rcv_wnd() - RCV.WND: what we last advertised beyond RCV.NXT
 * @c:	the connection
 * Return: bytes
 */
static uint32_t rcv_wnd(const struct tcp_conn *c)
{
	return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/**
 * acceptable() - RFC 9293 3.10.7.4, "first, check sequence number": the four cases of the
 * table for SEG.LEN zero or not, RCV.WND zero or not
 * @c:	the connection
 * @g:	the segment
 * Return: true if acceptable
 */
static bool acceptable(const struct tcp_conn *c, const struct tcp_seg *g)
{
	uint32_t len = tcp_seg_len(g), wnd = rcv_wnd(c), nxt = c->rcv_nxt;

	if (!len && !wnd)
		return g->seq == nxt;
	if (!len)
		return seq_between(g->seq, nxt, nxt + wnd);
	if (!wnd)
		return false;
	return seq_between(g->seq, nxt, nxt + wnd) ||
	       seq_between(g->seq + len - 1, nxt, nxt + wnd);
}

/**
 * challenge() - RFC 5961: answer with a challenge ACK (rate limited) and drop the segment
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void challenge(struct stack *s, struct flow *f, uint64_t now_us)
{
	if (tcp_send_challenge_ack(s, f, now_us))
		s->cnt.drop_tcp_challenged++;
	else
		s->cnt.drop_tcp_rate_limited++;
}

/* --- out-of-order queue ------------------------------------------------------------------- */

static void ooo_remove(struct stack *s, struct tcp_conn *c, unsigned int i)
{
	free(c->ooo[i].data);
	c->ooo_bytes -= c->ooo[i].len;
	s->tcp->ooo_bytes -= c->ooo[i].len;
	memmove(&c->ooo[i], &c->ooo[i + 1], (c->nooo - i - 1) * sizeof(c->ooo[0]));
	c->nooo--;
}

/**
 * ooo_trim_front() - drop the first @n bytes of entry @i
 * @s:	the stack
 * @c:	the connection
 * @i:	entry
 * @n:	bytes (less than its length)
 */
static void ooo_trim_front(struct stack *s, struct tcp_conn *c, unsigned int i, uint32_t n)
{
	struct tcp_ooo *e = &c->ooo[i];

	memmove(e->data, e->data + n, e->len - n);
	e->seq += n;
	e->len -= n;
	c->ooo_bytes -= n;
	s->tcp->ooo_bytes -= n;
}

/**
 * ooo_insert() - hold an out-of-order segment [@seq, @seq + @len) (+ FIN) until the gap
 * fills; bytes already held are not stored twice
 * @s:		the stack
 * @c:		the connection
 * @seq:	its first sequence number (after RCV.NXT)
 * @data:	payload
 * @len:	payload bytes
 * @fin:	a FIN follows
 */
static void ooo_insert(struct stack *s, struct tcp_conn *c, uint32_t seq, const uint8_t *data,
		       uint32_t len, bool fin)
{
	uint32_t end = seq + len;
	unsigned int i, pos;
	struct tcp_ooo *e;

	/* Cut away what entries already hold; remove entries the new segment covers. */
	for (i = 0; i < c->nooo;) {
		struct tcp_ooo *o = &c->ooo[i];
		uint32_t l = o->seq, r = l + o->len;

		if (seq_geq(seq, l) && seq_leq(end, r)) {
			if (fin && end == r)
				o->fin = true; /* the FIN after bytes we hold */
			c->ooo_last = l;
			return; /* nothing new */
		}
		if (seq_leq(seq, l) && seq_geq(end, r)) {
			ooo_remove(s, c, i); /* the new segment holds all of it */
			continue;
		}
		if (seq_lt(seq, l) && seq_gt(end, l)) {
			len = l - seq; /* keep what comes before entry i */
			end = l;
			fin = false;
		} else if (seq_lt(seq, r) && seq_gt(end, r)) {
			data += r - seq; /* keep what comes after entry i */
			len -= r - seq;
			seq = r;
		}
		i++;
	}
	if (!len && !fin)
		return;
	if (c->nooo >= TCP_OOO_MAX_SEGS || c->ooo_bytes + len > TCP_OOO_CONN_BYTES ||
	    s->tcp->ooo_bytes + len > TCP_OOO_LINK_BYTES) {
		s->cnt.drop_tcp_ooo_full++;
		return;
	}
	if (!c->ooo) {
		c->ooo = calloc(TCP_OOO_MAX_SEGS, sizeof(*c->ooo));
		if (!c->ooo) {
			s->cnt.drop_tcp_ooo_full++;
			return;
		}
	}
	for (pos = 0; pos < c->nooo && seq_gt(seq, c->ooo[pos].seq); pos++)
		;
	memmove(&c->ooo[pos + 1], &c->ooo[pos], (c->nooo - pos) * sizeof(c->ooo[0]));
	e = &c->ooo[pos];
	e->data = len ? malloc(len) : NULL;
	if (len && !e->data) {
		memmove(&c->ooo[pos], &c->ooo[pos + 1], (c->nooo - pos) * sizeof(c->ooo[0]));
		s->cnt.drop_tcp_ooo_full++;
		return;
	}
	if (len)
		memcpy(e->data, data, len);
	e->seq = seq;
	e->len = len;
	e->fin = fin;
	c->nooo++;
	c->ooo_bytes += len;
	s->tcp->ooo_bytes += len;
	c->ooo_last = seq;
}

/**
 * deliver() - hand in-order bytes to upstream; RCV.NXT advances by what it takes
 * @s:		the stack
 * @f:		the flow
 * @data:	bytes starting at RCV.NXT
 * @len:	how many
 * Return: bytes taken; 0 with c->upstream_gone set if upstream will never take any (the
 * caller ends the connection: tcp_upstream_gone())
 */
static uint32_t deliver(struct stack *s, struct flow *f, const uint8_t *data, uint32_t len)
{
	struct tcp_conn *c = tcp_conn_of(f);
	ssize_t r;
	uint32_t took;

	if (!len || c->upstream_gone)
		return 0;
	r = s->ops.tcp_deliver ? s->ops.tcp_deliver(s->ctx, f, data, len) : 0;
	if (r < 0) {
		c->upstream_gone = true;
		return 0;
	}
	took = (size_t)r < len ? (uint32_t)r : len;
	c->up_room = c->up_room > took ? c->up_room - took : 0;
	c->rcv_nxt += took;
	f->bytes_in += took;
	return took;
}

/**
 * ooo_drain() - deliver queued segments that the arrival of in-order data made contiguous
 * @s:	the stack
 * @f:	the flow
 * Return: true if a queued FIN is now in order
 */
static bool ooo_drain(struct stack *s, struct flow *f)
{
	struct tcp_conn *c = tcp_conn_of(f);

	while (c->nooo && seq_leq(c->ooo[0].seq, c->rcv_nxt)) {
		struct tcp_ooo *e = &c->ooo[0];
		uint32_t skip = c->rcv_nxt - e->seq, took;
		bool fin = e->fin;

		if (skip >= e->len) {
			bool at_end = skip == e->len;

			ooo_remove(s, c, 0);
			if (fin && at_end)
				return true;
			continue;
		}
		if (skip)
			ooo_trim_front(s, c, 0, skip);
		took = deliver(s, f, e->data, e->len);
		if (c->upstream_gone) {
			s->cnt.drop_tcp_upstream_gone++; /* queued, now never to be taken */
			return false;
		}
		if (took < e->len) {
			if (took)
				ooo_trim_front(s, c, 0, took);
			return false;
		}
		ooo_remove(s, c, 0);
		if (fin)
			return true;
	}
	return false;
}

/**
 * receive_text() - RFC 9293 3.10.7.4 "seventh, process the segment text" (and find whether
 * the FIN, eighth, is now in order): trim to the window, deliver or queue
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * Return: true if a FIN is in order at RCV.NXT
 */
static bool receive_text(struct stack *s, struct flow *f, const struct tcp_seg *g)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t seq = g->seq + !!(g->flags & TCP_SYN), len = g->len;
	const uint8_t *data = g->data;
	bool fin = g->flags & TCP_FIN;
	uint32_t edge = c->rcv_nxt + rcv_wnd(c), took;

	/* Trim what we already have (before RCV.NXT) ... */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - seq;

		if (d > len) {
			return false; /* only an old FIN: already acknowledged */
		}
		data += d;
		len -= d;
		seq = c->rcv_nxt;
	}
	/* ... and what lies beyond the window (3.10.7.4: "trimmed to the window") */
	if (seq_gt(seq + len, edge)) {
		len = seq_gt(edge, seq) ? edge - seq : 0;
		fin = false;
	}
	if (seq != c->rcv_nxt) {
		ooo_insert(s, c, seq, data, len, fin);
		/* RFC 5681 4.2 / RFC 2018: an out-of-order segment is acknowledged at once, the
		 * SACK blocks telling what we hold */
		c->ack_now = true;
		return false;
	}
	if (len) {
		took = deliver(s, f, data, len);
		if (c->upstream_gone) {
			/* Not for want of room: nothing will ever take it. segment() resets. */
			s->cnt.drop_tcp_upstream_gone++;
			return false;
		}
		if (took < len) {
			/* Upstream is full: the rest is dropped and not acknowledged; the window we
			 * advertise now tells the container so. */
			s->cnt.drop_tcp_no_room++;
			c->ack_now = true;
			return false;
		}
		/* RFC 9293 3.8.6.3: acknowledge at least every second segment, else delay. A
		 * super-frame is as many segments as the container's kernel cut it into. */
		c->delack_segs += g->gso_size && len > g->gso_size ? 2 : 1;
		if (c->delack_segs >= 2 || c->nooo)
			c->ack_now = true;
		else
			tcp_timer_set(s, c, TCP_T_DELACK, f->last_us + TCP_DELACK_US);
	}
	if (c->nooo) {
		c->ack_now = true; /* a filled gap is acknowledged at once (RFC 5681 4.2) */
		if (ooo_drain(s, f))
			fin = true;
	}
	return fin;
}

/**
 * new_ack() - SND.UNA < SEG.ACK =< SND.MAX: data (or our SYN/FIN) acknowledged. Consume it
 * upstream, sample the RTT, grow cwnd or run NewReno recovery (RFC 5681 3.1, RFC 6582 3.2)
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @now_us:	current time
 */
static void new_ack(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t acked = g->ack - c->snd_una, data = acked;
	uint32_t mss = c->mss;

	if (c->snd_una == c->iss)
		data--; /* our SYN */
	if (c->fin_sent && seq_gt(g->ack, c->fin_seq))
		data--; /* our FIN */
	if (data && s->ops.tcp_consume)
		s->ops.tcp_consume(s->ctx, f, data);
	c->up_avail = c->up_avail > data ? c->up_avail - data : 0;
	c->snd_una = g->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	/* RFC 6298 / Karn: a sample only from a segment that was never retransmitted */
	if (c->rtt_timing && seq_geq(g->ack, c->rtt_seq)) {
		uint64_t rtt = now_us - c->rtt_start;

		tcp_rtt_sample(c, rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt);
		c->rtt_timing = false;
	}
	c->nrtx = 0;
	c->persist_shift = 0;

	if (c->in_recovery && c->sack_ok) {
		/* RFC 6675 recovery: cwnd stays; sack_ack() ends it or fills holes */
	} else if (c->in_recovery) {
		if (seq_geq(g->ack, c->recover)) {
			/* RFC 6582 3.2 (3): full acknowledgment */
			uint32_t flight = c->snd_max - c->snd_una;

			c->cwnd = flight > mss ? flight + mss : 2 * mss;
			if (c->cwnd > c->ssthresh)
				c->cwnd = c->ssthresh;
			c->in_recovery = false;
			c->dupacks = 0;
		} else {
			/* (3) partial acknowledgment: retransmit the next hole, deflate */
			tcp_retransmit_first(s, f, now_us);
			c->cwnd = c->cwnd > data ? c->cwnd - data : mss;
			if (data >= mss)
				c->cwnd += mss;
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh)
			c->cwnd += data < mss ? data : mss; /* slow start (RFC 5681 3.1, ABC L=1) */
		else
			c->cwnd += c->cwnd > (uint64_t)mss * mss ? 1 : (uint32_t)((uint64_t)mss * mss / c->cwnd);
		if (c->cwnd > TCP_CWND_MAX)
			c->cwnd = TCP_CWND_MAX;
	}
	tcp_rearm_rtx(s, c, now_us); /* RFC 6298 5.2, 5.3 */
}

/**
 * dupthresh() - how many duplicate ACKs start a fast retransmit: DupThresh (RFC 5681 3.2),
 * or with fewer than four segments in flight and no new segment to send (upstream has
 * nothing more, or the container's window is full), one less than the segments in flight
 * (RFC 5827 Early Retransmit, byte-based variant 3.2): a loss near the end of a burst then
 * needs no RTO. On a TAP the path cannot reorder, so the lower threshold costs nothing.
 * @c:	the connection
 * Return: the threshold, at least 1
 */
static uint32_t dupthresh(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una, mss = c->mss, oseg;

	if (flight >= 4 * mss || (tcp_unsent(c) && flight < c->snd_wnd))
		return TCP_DUPTHRESH;
	oseg = (flight + mss - 1) / mss;
	return oseg > 1 ? oseg - 1 : 1;
}

/**
 * dup_ack() - RFC 5681 2 "duplicate acknowledgment" seen: fast retransmit on the third,
 * inflate cwnd after (RFC 5681 3.2, RFC 6582 3.2)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void dup_ack(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t flight, mss = c->mss;

	c->dupacks++;
	if (c->in_recovery) {
		c->cwnd += mss; /* RFC 6582 3.2 (4) */
		return;
	}
	/* RFC 6582 3.2 (2): only if the ACK covers more than "recover", the highest sequence
	 * number sent when recovery last began; @recover holds one past it (SND.MAX then) */
	if (c->dupacks < dupthresh(c) || !seq_geq(c->snd_una, c->recover))
		return;
	flight = c->snd_max - c->snd_una;
	c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
	c->recover = c->snd_max;
	c->in_recovery = true;
	s->cnt.tcp_fast_retransmits++;
	tcp_retransmit_first(s, f, now_us);
	c->cwnd = c->ssthresh + c->dupacks * mss;
	tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
}

/**
 * sack_recovery_enter() - RFC 6675 5 (4): fast retransmit and enter loss recovery
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void sack_recovery_enter(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t flight = c->snd_max - c->snd_una, mss = c->mss;

	/* (4.1) RecoveryPoint = HighData; (4.2) ssthresh = cwnd = FlightSize / 2 (no less than
	 * 2 * SMSS, RFC 5681 3.1 (4)) */
	c->recover = c->snd_max;
	c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
	c->cwnd = c->ssthresh;
	c->in_recovery = true;
	s->cnt.tcp_fast_retransmits++;
	/* (4.3) retransmit the first segment; HighRxt after it */
	c->high_rxt = c->snd_una;
	c->high_rxt = c->snd_una + (uint32_t)tcp_retransmit_first(s, f, now_us);
	tcp_timer_set(s, c, TCP_T_RTX, now_us + c->rto_us);
	/* (4.4), (4.5): tcp_output() sends on under cwnd - pipe (RFC 6675 5 (C)) */
}

/**
 * sack_ack() - RFC 6675 5: an ACK on a connection with SACK. Update the scoreboard, count
 * duplicate ACKs as RFC 6675 2 defines them (an ACK that SACKs new data, whatever its
 * window: a Linux receiver's window changes with nearly every ACK, so RFC 5681's definition
 * alone would almost never reach three), enter recovery, or end it.
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @advanced:	@g moved SND.UNA (already applied)
 * @dup:	@g is also a duplicate ACK by RFC 5681 2's definition
 * @now_us:	current time
 */
static void sack_ack(struct stack *s, struct flow *f, const struct tcp_seg *g, bool advanced,
		     bool dup, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	bool news = tcp_sack_update(c, g);

	if (c->in_recovery) {
		if (seq_geq(c->snd_una, c->recover)) {
			/* (A) the cumulative ACK covers RecoveryPoint: recovery ends */
			c->in_recovery = false;
			c->cwnd = c->ssthresh;
			c->dupacks = 0;
		} else if (advanced && seq_geq(c->snd_una, c->high_rxt)) {
			/* A partial ACK (RFC 6582 3.2) stopping at a byte never retransmitted:
			 * the segment there is lost even if nothing above it was SACKed (several
			 * losses in a row), which IsLost() cannot tell. */
			c->high_rxt = c->snd_una + (uint32_t)tcp_retransmit_first(s, f, now_us);
		}
		/* (B), (C): tcp_output() sends what NextSeg() picks, under cwnd - pipe */
		return;
	}
	if (advanced)
		c->dupacks = 0;
	if (!news && !dup)
		return;
	c->dupacks++;
	/* (1), (2); RFC 6675 5.1: not before the cumulative ACK reached the RecoveryPoint of a
	 * timeout (recover, as RFC 6582 3.2 (2)) */
	if (c->snd_una != c->snd_max && seq_geq(c->snd_una, c->recover) &&
	    (c->dupacks >= dupthresh(c) || tcp_sack_is_lost(c, c->snd_una)))
		sack_recovery_enter(s, f, now_us);
}

/**
 * check_ack() - RFC 9293 3.10.7.4 "fifth, check the ACK field" for synchronised states,
 * with RFC 5961 5.2's bounds
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @now_us:	current time
 * Return: false if the segment was dropped
 */
static bool check_ack(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	uint32_t wnd = (uint32_t)g->wnd << c->snd_shift, una = c->snd_una;
	bool advanced, dup;

	/* RFC 5961 5.2: acceptable only if SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT; "All
	 * incoming segments whose ACK value doesn't satisfy the above condition MUST be
	 * discarded and an ACK sent back": a challenge ACK, so that the limit of section 7 keeps
	 * a container from drawing one ACK per frame out of us (3.10.7.4's "send an ACK" for an
	 * ACK of unsent data is the same ACK). */
	if (seq_gt(g->ack, c->snd_max) || seq_lt(g->ack, una - c->max_snd_wnd)) {
		s->cnt.drop_tcp_bad_ack++;
		tcp_send_challenge_ack(s, f, now_us);
		return false;
	}
	advanced = seq_gt(g->ack, c->snd_una);
	/* RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": (a) data outstanding, (b) no data, (c) neither
	 * SYN nor FIN, (d) SEG.ACK = SND.UNA, (e) the same window */
	dup = g->ack == c->snd_una && !g->len && !(g->flags & (TCP_SYN | TCP_FIN)) &&
	      wnd == c->snd_wnd && c->snd_max != c->snd_una;
	if (advanced)
		new_ack(s, f, g, now_us);
	if (c->sack_ok)
		sack_ack(s, f, g, advanced, dup, now_us);
	else if (dup)
		dup_ack(s, f, now_us);
	/* Window update (3.10.7.4): "If SND.UNA =< SEG.ACK =< SND.NXT", and only from a segment
	 * not older than the last update */
	if (seq_geq(g->ack, una) &&
	    (seq_lt(c->snd_wl1, g->seq) || (c->snd_wl1 == g->seq && seq_leq(c->snd_wl2, g->ack)))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
	}
	return true;
}

/**
 * reset_by_container() - RST accepted: RFC 9293 3.10.7.4 "second, check the RST bit", per
 * state; the connection ends
 * @s:		the stack
 * @f:		the flow; invalid afterwards
 * @now_us:	current time
 */
static void reset_by_container(struct stack *s, struct flow *f, uint64_t now_us)
{
	switch (f->state) {
	case TCP_TIME_WAIT:
		/* both FINs were exchanged: the connection already ended well */
		tcp_close_flow(s, f, FLOW_END_FIN, now_us);
		break;
	default:
		/* SYN_RCVD (our connection was passively opened: back to CLOSED, the "listener"
		 * is the stack itself), ESTABLISHED, FIN_WAIT_*, CLOSE_WAIT, CLOSING, LAST_ACK */
		if (s->ops.tcp_reset)
			s->ops.tcp_reset(s->ctx, f);
		tcp_close_flow(s, f, FLOW_END_RST_CONTAINER, now_us);
		break;
	}
}

/**
 * take_syn_window() - the window of a <SYN,ACK> or of the ACK completing a handshake becomes
 * SND.WND, and SND.WL1/WL2 start from this segment (RFC 9293 3.10.7.3, 3.10.7.4 fifth)
 * @c:		the connection
 * @g:		the segment
 * @scaled:	the window field is scaled (RFC 7323 2.2: never in a <SYN,ACK>)
 */
static void take_syn_window(struct tcp_conn *c, const struct tcp_seg *g, bool scaled)
{
	c->snd_wnd = scaled ? (uint32_t)g->wnd << c->snd_shift : g->wnd;
	if (c->snd_wnd > c->max_snd_wnd)
		c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
}

/**
 * synack_accepted() - the container's <SYN,ACK> acknowledged our SYN (RFC 9293 3.10.7.3 in
 * SYN_SENT, or Figure 8's simultaneous open in SYN_RCVD): the handshake is done, ACK it
 * @s:		the stack
 * @f:		the flow
 * @g:		the <SYN,ACK>
 * @ev:		the transition (TCP_EV_SYNACK_RCVD from SYN_SENT, TCP_EV_SYN_ACKED from SYN_RCVD)
 * @now_us:	current time
 */
static void synack_accepted(struct stack *s, struct flow *f, const struct tcp_seg *g,
			    enum tcp_event ev, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	new_ack(s, f, g, now_us);
	take_syn_window(c, g, false);
	tcp_transition(s, f, ev, now_us);
	c->ack_now = true;
	tcp_kick(s, f, now_us);
}

/**
 * syn_sent() - RFC 9293 3.10.7.3: a segment arrives for our SYN_SENT connection
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @now_us:	current time
 */
static void syn_sent(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	bool ack_ok = false;

	if (g->flags & TCP_ACK) {
		if (seq_leq(g->ack, c->iss) || seq_gt(g->ack, c->snd_max)) {
			s->cnt.drop_tcp_bad_ack++;
			if (!(g->flags & TCP_RST)) {
				struct ip_pair a = ip_pair_of_flow(f);

				tcp_send_rst_raw(s, &a, f->pport, f->cport, g->ack, 0, TCP_RST);
			}
			return;
		}
		ack_ok = true;
	}
	if (g->flags & TCP_RST) {
		if (ack_ok) {
			if (s->ops.tcp_reset)
				s->ops.tcp_reset(s->ctx, f);
			tcp_close_flow(s, f, FLOW_END_RST_CONTAINER, now_us);
		} else {
			s->cnt.drop_tcp_bad_state++;
		}
		return;
	}
	if (!(g->flags & TCP_SYN)) {
		s->cnt.drop_tcp_bad_state++;
		return;
	}
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	tcp_negotiate(s, c, g);
	c->max_snd_wnd = 0;
	take_syn_window(c, g, false);
	if (ack_ok) {
		synack_accepted(s, f, g, TCP_EV_SYNACK_RCVD, now_us);
		return;
	}
	/* Simultaneous open: SYN_RCVD, and our SYN is sent again with an ACK. */
	tcp_transition(s, f, TCP_EV_SYN_RCVD, now_us);
	tcp_send_synack(s, f, now_us);
}

/* --- RFC 9293 3.10.7.4: one function per step, run in order by segment() ---------------- */

/**
 * before_upstream() - SYN_RCVD while upstream connects: our SYN-ACK has not gone out, so the
 * container can only be repeating its SYN (absorbed) or giving up with a RST
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @now_us:	current time
 * Return: true if the segment was handled here (nothing more to do)
 */
static bool before_upstream(struct stack *s, struct flow *f, const struct tcp_seg *g,
			    uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (f->state != TCP_SYN_RCVD || !c->waiting_upstream)
		return false;
	if ((g->flags & TCP_RST) && g->seq == c->rcv_nxt) {
		if (s->ops.tcp_reset)
			s->ops.tcp_reset(s->ctx, f);
		tcp_close_flow(s, f, FLOW_END_RST_CONTAINER, now_us);
	} else if ((g->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && g->seq == c->irs) {
		s->cnt.drop_tcp_dup_syn++;
	} else {
		s->cnt.drop_tcp_bad_state++;
	}
	return true;
}

/**
 * step_syn() - RFC 9293 3.10.7.4 "fourth, check the SYN bit", taken first as RFC 5961 4.2
 * says: a SYN in a synchronised state, whatever its sequence number, gets a challenge ACK. In
 * SYN_RCVD a repeated SYN means our SYN-ACK was lost (answered again), and the container's
 * <SYN,ACK> completes a simultaneous open (RFC 9293 Figure 8)
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * @now_us:	current time
 * Return: true if the segment goes on to the next step
 */
static bool step_syn(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!(g->flags & TCP_SYN))
		return true;
	if (f->state == TCP_SYN_RCVD && g->seq == c->irs && !(g->flags & TCP_RST)) {
		if ((g->flags & TCP_ACK) && c->active && seq_gt(g->ack, c->snd_una) &&
		    seq_leq(g->ack, c->snd_max)) {
			synack_accepted(s, f, g, TCP_EV_SYN_ACKED, now_us);
			return false;
		}
		s->cnt.drop_tcp_dup_syn++;
		tcp_send_synack(s, f, now_us);
		return false;
	}
	challenge(s, f, now_us);
	return false;
}

/**
 * step_seq() - RFC 9293 3.10.7.4 "first, check sequence number", with RFC 7323 5.3's PAWS
 * test before it. With a zero window, "special allowance should be made to accept valid
 * ACKs, URGs, and RSTs": a probe at RCV.NXT goes on with its text and FIN cut off
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment; replaced by @trimmed when cut
 * @trimmed:	room for the cut segment
 * @now_us:	current time
 * Return: true if the segment goes on to the next step
 */
static bool step_seq(struct stack *s, struct flow *f, const struct tcp_seg **g,
		     struct tcp_seg *trimmed, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);
	const struct tcp_seg *in = *g;

	/* RFC 7323 5.3: PAWS, an old timestamp means an old duplicate */
	if (c->ts_ok && in->has_ts && !(in->flags & TCP_RST) && seq_lt(in->tsval, c->ts_recent)) {
		s->cnt.drop_tcp_out_of_window++;
		tcp_send_ack(s, f, now_us);
		return false;
	}
	if (acceptable(c, in))
		return true;
	if (!rcv_wnd(c) && in->seq == c->rcv_nxt && !(in->flags & TCP_RST)) {
		*trimmed = *in;
		trimmed->len = 0;
		trimmed->flags &= (uint8_t)~TCP_FIN;
		*g = trimmed;
		c->ack_now = true;
		s->cnt.drop_tcp_no_room++;
		return true;
	}
	s->cnt.drop_tcp_out_of_window++;
	if (in->flags & TCP_RST)
		return false; /* RFC 5961 3.2: out-of-window RST silently dropped */
	if (f->state == TCP_TIME_WAIT && (in->flags & TCP_FIN))
		tcp_transition(s, f, TCP_EV_FIN_RCVD, now_us);
	tcp_send_ack(s, f, now_us);
	return false;
}

/**
 * step_rst() - RFC 9293 3.10.7.4 "second, check the RST bit", as RFC 5961 3.2 narrows it:
 * exactly RCV.NXT resets, any other in-window RST draws a challenge ACK
 * @s:		the stack
 * @f:		the flow (invalid afterwards if it was reset)
 * @g:		the segment
 * @now_us:	current time
 * Return: true if the segment goes on to the next step
 */
static bool step_rst(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	if (!(g->flags & TCP_RST))
		return true;
	if (g->seq == tcp_conn_of(f)->rcv_nxt)
		reset_by_container(s, f, now_us);
	else
		challenge(s, f, now_us);
	return false;
}

/**
 * update_ts_recent() - RFC 7323 4.3: TS.Recent follows the segment that covers what we last
 * acknowledged (after the sequence and RST checks, before the ACK is processed)
 * @c:	the connection
 * @g:	the segment
 */
static void update_ts_recent(struct tcp_conn *c, const struct tcp_seg *g)
{
	if (c->ts_ok && g->has_ts && seq_leq(g->seq, c->last_ack_sent) &&
	    seq_geq(g->tsval, c->ts_recent))
		c->ts_recent = g->tsval;
}

/**
 * step_ack() - RFC 9293 3.10.7.4 "fifth, check the ACK field": without ACK the segment is
 * dropped; in SYN_RCVD an acceptable ACK completes the handshake (an unacceptable one gets
 * <SEQ=SEG.ACK><CTL=RST>); in the synchronised states check_ack(). Then our FIN's
 * acknowledgment moves FIN_WAIT_1, CLOSING and LAST_ACK on
 * @s:		the stack
 * @f:		the flow (invalid afterwards if LAST_ACK ended)
 * @g:		the segment
 * @now_us:	current time
 * Return: true if the segment goes on to the next step
 */
static bool step_ack(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (!(g->flags & TCP_ACK)) {
		s->cnt.drop_tcp_bad_state++;
		return false;
	}
	switch (f->state) {
	case TCP_SYN_RCVD:
		if (!seq_gt(g->ack, c->snd_una) || seq_gt(g->ack, c->snd_max)) {
			struct ip_pair a = ip_pair_of_flow(f);

			s->cnt.drop_tcp_bad_ack++;
			tcp_send_rst_raw(s, &a, f->pport, f->cport, g->ack, 0, TCP_RST);
			return false;
		}
		new_ack(s, f, g, now_us);
		take_syn_window(c, g, true);
		tcp_transition(s, f, TCP_EV_SYN_ACKED, now_us);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
		if (!check_ack(s, f, g, now_us))
			return false;
		break;
	default:
		s->cnt.drop_tcp_bad_state++;
		return false;
	}
	if (c->fin_sent && seq_gt(c->snd_una, c->fin_seq)) {
		/* FIN_WAIT_1 → FIN_WAIT_2, CLOSING → TIME_WAIT, LAST_ACK → CLOSED (ends) */
		bool last = f->state == TCP_LAST_ACK;

		tcp_transition(s, f, TCP_EV_FIN_ACKED, now_us);
		if (last)
			return false;
	}
	return true;
}

/**
 * step_text() - RFC 9293 3.10.7.4 "sixth, check the URG bit" (urgent data is passed as
 * ordinary data: tapir has no out-of-band channel upstream) and "seventh, process the segment
 * text": in ESTABLISHED and FIN_WAIT_* the text is delivered or queued (receive_text); in the
 * states after the container's FIN, anything more is a repeat, acknowledged
 * @s:		the stack
 * @f:		the flow
 * @g:		the segment
 * Return: true if the container's FIN is now in order at RCV.NXT
 */
static bool step_text(struct stack *s, struct flow *f, const struct tcp_seg *g)
{
	if (!g->len && !(g->flags & TCP_FIN))
		return false;
	switch (f->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		return receive_text(s, f, g);
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT */
		tcp_conn_of(f)->ack_now = true;
		return false;
	}
}

/**
 * step_fin() - RFC 9293 3.10.7.4 "eighth, check the FIN bit": the container's FIN, in order,
 * advances RCV.NXT over it, is acknowledged, goes upstream as shutdown(SHUT_WR), and moves
 * the state (ESTABLISHED → CLOSE_WAIT, FIN_WAIT_1 → CLOSING, FIN_WAIT_2 → TIME_WAIT)
 * @s:		the stack
 * @f:		the flow
 * @now_us:	current time
 */
static void step_fin(struct stack *s, struct flow *f, uint64_t now_us)
{
	struct tcp_conn *c = tcp_conn_of(f);

	if (c->fin_rcvd)
		return;
	c->fin_rcvd = true;
	c->rcv_nxt++;
	c->ack_now = true;
	if (s->ops.tcp_fin)
		s->ops.tcp_fin(s->ctx, f);
	tcp_transition(s, f, TCP_EV_FIN_RCVD, now_us);
}

/**
 * segment() - RFC 9293 3.10.7.4: a segment arrives for a connection in SYN_RCVD or a
 * synchronised state. Each step is a function that says whether the segment goes on
 * (3.10.7.4's "third, check security" has nothing to check here: no IP security options).
 * @s:	the stack
 * @f:	the flow
 * @g:	the segment
 * @now_us: current time
 */
static void segment(struct stack *s, struct flow *f, const struct tcp_seg *g, uint64_t now_us)
{
	struct tcp_seg trimmed;
	bool fin;

	if (before_upstream(s, f, g, now_us) || !step_syn(s, f, g, now_us) ||
	    !step_seq(s, f, &g, &trimmed, now_us) || !step_rst(s, f, g, now_us))
		return;
	update_ts_recent(tcp_conn_of(f), g);
	if (!step_ack(s, f, g, now_us))
		return;
	fin = step_text(s, f, g);
	if (tcp_conn_of(f)->upstream_gone) {
		tcp_upstream_gone(s, f, now_us);
		return;
	}
	if (fin)
		step_fin(s, f, now_us);
	tcp_kick(s, f, now_us);
}

/**
 * time_wait_reusable() - RFC 6191: a SYN may reopen a TIME_WAIT 4-tuple if its timestamp is
 * newer than the old connection's, or, without timestamps, its ISN lies beyond RCV.NXT
 * @c:	the TIME_WAIT connection
 * @g:	the SYN
 * Return: true if the old connection may be dropped for the new one
 */
static bool time_wait_reusable(const struct tcp_conn *c, const struct tcp_seg *g)
{
	if (c->ts_ok && g->has_ts)
		return seq_gt(g->tsval, c->ts_recent);
	return seq_gt(g->seq, c->rcv_nxt);
}

void tcp_input(struct stack *s, const struct pkt *p)
{
	const uint8_t *h = p->l4;
	struct tcp_seg g = { .wscale = -1 };
	struct flow *f;
	size_t doff;

	if (p->l4_len < TCP_HDR_MIN || p->l4_len > 65535) {
		s->cnt.drop_tcp_malformed++;
		return;
	}
	/* Verified unless the virtio-net header vouched for it (vnet_l4_check) */
	if (!p->csum_trusted && !csum_ok(h, p->l4_len, pkt_pseudo(p, PROTO_TCP, p->l4_len))) {
		s->cnt.drop_tcp_bad_checksum++;
		return;
	}
	doff = (size_t)(h[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > p->l4_len ||
	    parse_options(h + TCP_HDR_MIN, doff - TCP_HDR_MIN, &g) < 0) {
		s->cnt.drop_tcp_malformed++;
		return;
	}
	g.seq = rd32(h + 4);
	g.ack = rd32(h + 8);
	g.flags = h[13];
	g.wnd = rd16(h + 14);
	g.data = h + doff;
	g.len = (uint32_t)(p->l4_len - doff);
	g.gso_size = p->vnet.gso_size; /* nonzero only for a super-frame */
	if (!rd16(h) || !rd16(h + 2)) {
		s->cnt.drop_tcp_malformed++; /* port 0 is reserved (RFC 9293 3.1) */
		return;
	}

	f = p->v6 ? flow_lookup6(s->flows, PROTO_TCP, p->saddr6, rd16(h), p->daddr6, rd16(h + 2))
		  : flow_lookup(s->flows, PROTO_TCP, p->saddr, rd16(h), p->daddr, rd16(h + 2));
	if (f && f->tcp && f->state == TCP_TIME_WAIT &&
	    (g.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN &&
	    time_wait_reusable(tcp_conn_of(f), &g)) {
		tcp_close_flow(s, f, FLOW_END_FIN, p->now_us);
		f = NULL;
	}
	if (f && f->tcp) {
		f->pkts_in++;
		f->last_us = p->now_us;
		if (f->state == TCP_SYN_SENT)
			syn_sent(s, f, &g, p->now_us);
		else
			segment(s, f, &g, p->now_us);
		return;
	}
	if (g.flags & TCP_RST) {
		s->cnt.drop_tcp_no_flow++; /* 3.10.7.1: a RST for nothing is dropped */
		return;
	}
	if ((g.flags & (TCP_SYN | TCP_ACK | TCP_FIN)) == TCP_SYN) {
		tcp_passive_open(s, p, &g);
		return;
	}
	/* 3.10.7.1: anything else for no connection is answered by a RST */
	if (!ratelimit_allow(&s->tcp->rst_rl, p->now_us)) {
		s->cnt.drop_tcp_rate_limited++;
		return;
	}
	s->cnt.drop_tcp_no_flow++;
	tcp_send_reset_reply(s, p, rd16(h), rd16(h + 2), &g);
}
