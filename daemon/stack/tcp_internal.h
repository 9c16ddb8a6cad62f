/* tcp_internal.h - what tcp_conn.c, tcp_input.c, tcp_output.c and tcp_timer.c share.
 *
 * The connection block (struct tcp_conn), the per-link TCP state (struct tcp_stack), a parsed
 * segment (struct tcp_seg), the limits with the reason for each, and the functions the four
 * files call in one another. Not for the shell: tcp.h is the module's public face.
 */
#ifndef TAPIR_TCP_INTERNAL_H
#define TAPIR_TCP_INTERNAL_H

#include "seq.h"
#include "stack_internal.h"
#include "tcp.h"

/* --- limits and constants -------------------------------------------------------------- */

/* Largest receive window we advertise. The upstream socket's room caps it anyway; ~8 MiB
 * matches what a Linux socket buffer grows to, and is the most a shift of 7 carries (RFC 7323
 * 2.3): 65535 << 7. */
#define TCP_MAX_RCV_WND (65535u << 7)
#define TCP_WSCALE_MAX 14           /* RFC 7323 2.3: larger shifts are treated as 14 */
#define TCP_DEFAULT_MSS 536         /* RFC 9293 3.7.1: MSS assumed when the option is absent */
/* Floor for the MSS a container may ask of us: 536 is deliverable on every link tapir runs
 * (STACK_MIN_MTU is 576, RFC 9293 3.7.1 / RFC 1122 3.3.3: every host accepts 576-byte
 * datagrams), and a container asking for MSS 1 could otherwise make us cut the upstream
 * stream into one-byte segments (the CVE-2019-11479 class of resource attack). */
#define TCP_MIN_PEER_MSS 536

/* RFC 6298 2.1: initial RTO 1 s. 2.4 says the RTO SHOULD be rounded up to 1 s, but allows
 * less; on a local TAP the RTT is microseconds, so we take Linux's TCP_RTO_MIN of 200 ms.
 * 2.5: a maximum of at least 60 s may be placed; we use exactly 60 s. */
#define TCP_RTO_INIT_US 1000000u
#define TCP_RTO_MIN_US 200000u
#define TCP_RTO_MAX_US 60000000u
#define TCP_CLOCK_G_US 1000u        /* RFC 6298 2.2 "G": we count RTTs in µs; 1 ms is plenty */
/* Give-up limits, as Linux's defaults: tcp_synack_retries = 5, tcp_retries2 = 15. */
#define TCP_SYNACK_RETRIES 5
#define TCP_SYN_RETRIES 6
#define TCP_MAX_RETRIES 15
/* RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: ACK at least every second full-sized segment and
 * within 500 ms; we use 40 ms, Linux's TCP_DELACK_MIN, as the TAP RTT is tiny. */
#define TCP_DELACK_US 40000u
/* RFC 6928 allows an initial window of 10 segments; it caps it at 14600 bytes for shared
 * Internet paths. Here the path is one TAP queue (txqueuelen 1000 frames) that 10 segments
 * cannot overflow whatever the MSS, so we take 10 * MSS without the byte cap. */
#define TCP_IW_SEGS 10
#define TCP_CWND_MAX (1u << 30)
/* Out-of-order queue bounds (RFC 9293 3.10.7.4 lets a receiver drop what it cannot hold):
 * segments per connection, bytes per connection, bytes per link. Only loss recovery uses
 * it; the steady-state data path never queues. */
#define TCP_OOO_MAX_SEGS 32
#define TCP_OOO_CONN_BYTES (2u << 20)
#define TCP_OOO_LINK_BYTES (16u << 20)
/* RFC 5961 7: challenge ACKs limited per link (Linux: tcp_challenge_ack_limit = 1000/s). */
#define TCP_CHALLENGE_PER_SEC 1000
#define TCP_CHALLENGE_BURST 100
/* RSTs for segments that match no flow (RFC 9293 3.10.7.1), limited the same way. */
#define TCP_RST_PER_SEC 1000
#define TCP_RST_BURST 100
#define TCP_SACK_MAX_BLOCKS 4       /* RFC 2018 3: 4 fit in 40 option bytes, 3 with TS */
/* RFC 6675 loss recovery: DupThresh as RFC 5681's, and how many SACKed ranges the sender's
 * scoreboard holds per connection. The container reports at most 4 per ACK; 16 cover a
 * window with that many holes, beyond which IsLost() merely errs on the cautious side. */
#define TCP_DUPTHRESH 3
#define TCP_SACKED_MAX 16

/* --- parsed segment ----------------------------------------------------------------------- */

/**
 * struct tcp_seg - one arriving segment, header and options decoded and checked
 * @seq, @ack:		sequence and acknowledgement numbers
 * @flags:		TCP_SYN, TCP_ACK ...
 * @wnd:		raw 16-bit window field (not yet scaled)
 * @data:		payload (inside the frame)
 * @len:		payload bytes
 * @mss:		MSS option (0 = absent)
 * @wscale:		window scale option (-1 = absent)
 * @sack_perm:		SACK-permitted option present
 * @has_ts:		timestamps option present
 * @tsval, @tsecr:	its values
 * @nsack:		SACK blocks carried (RFC 2018), at most TCP_SACK_MAX_BLOCKS
 * @sack:		the blocks, [left edge, right edge), unchecked
 * @gso_size:		the segment size of a super-frame (virtio-net GSO), 0 otherwise
 */
struct tcp_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *data;
	uint32_t len;
	uint16_t mss;
	int8_t wscale;
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[TCP_SACK_MAX_BLOCKS][2];
	uint16_t gso_size;
};

/** tcp_seg_len() - SEG.LEN: payload plus one for each of SYN and FIN (RFC 9293 3.4) */
static inline uint32_t tcp_seg_len(const struct tcp_seg *g)
{
	return g->len + !!(g->flags & TCP_SYN) + !!(g->flags & TCP_FIN);
}

/* --- connection block --------------------------------------------------------------------- */

/**
 * struct tcp_ooo - one out-of-order segment held until the gap before it fills
 * @seq:	first sequence number of @data
 * @len:	bytes of @data
 * @fin:	a FIN follows the last byte
 * @data:	the bytes (malloc'd: only loss recovery gets here, bounded by the OOO limits)
 */
struct tcp_ooo {
	uint32_t seq;
	uint32_t len;
	bool fin;
	uint8_t *data;
};

/* Timers of a connection; each has its own deadline, the heap holds the earliest. */
enum tcp_timer {
	TCP_T_RTX,     /* retransmission (RFC 6298): SYN-ACK, SYN, data, FIN */
	TCP_T_PERSIST, /* zero-window probe (RFC 9293 3.8.6.1) */
	TCP_T_DELACK,  /* delayed ACK (RFC 9293 3.8.6.3) */
	TCP_T_2MSL,    /* TIME_WAIT (RFC 9293 3.10.7.4) */
	TCP_T_IDLE,    /* ESTABLISHED with no traffic for cfg.idle_timeout_ms: reset both ways */
	TCP_NTIMERS
};

#define TCP_T_OFF UINT64_MAX

/**
 * struct tcp_conn - the TCB (RFC 9293 3.3.1) of one connection, in a per-link pool at f->idx
 * @fidx:		slot of the flow in the flow table (same index as in the pool)
 * @iss, @irs:		initial send / receive sequence numbers
 * @snd_una:		oldest unacknowledged sequence number
 * @snd_nxt:		next sequence number to send (moves back to @snd_una on RTO)
 * @snd_max:		highest sequence number sent plus one (what an ACK may reach)
 * @snd_wnd:		the container's window, scaled, in bytes
 * @max_snd_wnd:	largest window the container ever offered (RFC 5961 5.2 MAX.SND.WND)
 * @snd_wl1, @snd_wl2:	segment seq/ack of the last window update (RFC 9293 3.10.7.4)
 * @rcv_nxt:		next sequence number expected from the container
 * @rcv_adv:		right edge of the window we last advertised (never moved left)
 * @last_ack_sent:	the ACK number we last sent (RFC 7323 4.3, TS.Recent update)
 * @mss:		MSS we send with: min(peer MSS, MTU - 40), floored
 * @peer_mss:		MSS the container offered (TCP_DEFAULT_MSS if absent)
 * @snd_shift:		shift the container applies to its windows (RFC 7323; 0 if off)
 * @rcv_shift:		shift we apply to ours
 * @ws_ok, @ts_ok, @sack_ok: options negotiated on the SYN
 * @ts_recent:		TS.Recent (RFC 7323 4.3)
 * @ts_off:		our timestamp clock offset (RFC 7323 5.4: random per connection)
 * @srtt_us, @rttvar_us, @rto_us: RFC 6298 estimator state
 * @rtt_seen:		at least one RTT sample was taken (RFC 6298 2.2 vs 2.3)
 * @rtt_seq:		sequence number whose ACK ends the timed segment
 * @rtt_start:		when the timed segment was sent
 * @rtt_timing:		a segment is being timed (cleared by any retransmission: Karn)
 * @cwnd, @ssthresh:	congestion window and slow-start threshold (RFC 5681)
 * @recover:		NewReno "recover" (RFC 6582 3.2), stored as one past the highest
 *			sequence number sent when recovery began (SND.MAX then)
 * @in_recovery:	in fast recovery (NewReno, or RFC 6675 SACK recovery when @sack_ok)
 * @high_rxt:		RFC 6675 HighRxt, stored as one past the highest byte retransmitted
 *			in this recovery
 * @sacked:		the SACK scoreboard (tcp_sack.c): ranges the container SACKed, sorted,
 *			disjoint, inside (SND.UNA, SND.MAX]; TCP_SACKED_MAX entries malloc'd
 *			while it holds any (NULL when empty: idle connections do not pay for it)
 * @nsacked:		ranges in @sacked
 * @dupacks:		consecutive duplicate ACKs
 * @persist_shift:	back-off of the persist timer
 * @nrtx:		consecutive timeouts of the current retransmission (for give-up and
 *			back-off)
 * @retransmits:	segments retransmitted on this connection
 * @fin_seq:		sequence number our FIN takes (valid when @fin_queued)
 * @delack_segs:	segments received and not yet acknowledged
 * @waiting_upstream:	SYN_RCVD, connect() in progress: no SYN-ACK yet
 * @fin_queued:		upstream EOF seen and all its data sent: a FIN goes at @fin_seq
 * @fin_sent:		our FIN has been sent once (the state moved on)
 * @fin_rcvd:		the container's FIN was accepted
 * @upstream_eof:	upstream sent EOF
 * @upstream_gone:	tcp_deliver refused bytes for good (upstream reset or closed): the
 *			segment being processed ends the connection (tcp_upstream_gone())
 * @up_avail:		upstream bytes not yet acknowledged by the container, from SND.UNA on (an
 *			input: tcp_upstream_set_avail(), less what the container acknowledged since)
 * @up_room:		bytes upstream takes now (an input: tcp_upstream_set_room(), less what
 *			was delivered since)
 * @pend_prev, @pend_next: the batch's list of flows with output due (pool index + 1, 0 = none)
 * @pend_queued:	on that list
 * @ack_now:		an ACK must go out at the next output
 * @active:		we opened it (SYN_SENT path)
 * @ooo:		out-of-order segments sorted by @seq, non-overlapping (NULL when empty)
 * @nooo:		entries in @ooo
 * @ooo_bytes:		bytes held in @ooo
 * @ooo_last:		seq of the most recently queued OOO segment (first SACK block)
 * @timer:		each timer's deadline (TCP_T_OFF = off)
 * @deadline:		the earliest of @timer (the heap's key)
 * @heap_pos:		index + 1 in the timer heap (0 = not in the heap)
 * @age_prev, @age_next: links in the age list of the state (pool index + 1, 0 = none)
 * @age_list:		which age list holds it (enum tcp_age_list), TCP_AGE_NONE if none
 */
struct tcp_conn {
	uint32_t fidx;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd;
	uint32_t snd_wl1, snd_wl2;
	uint32_t rcv_nxt, rcv_adv;
	uint32_t last_ack_sent;
	uint16_t mss, peer_mss;
	uint8_t snd_shift, rcv_shift;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent;
	uint32_t ts_off;
	uint32_t srtt_us, rttvar_us, rto_us;
	bool rtt_seen;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	bool rtt_timing;
	uint32_t cwnd, ssthresh;
	uint32_t recover;
	bool in_recovery;
	uint32_t high_rxt;
	uint32_t (*sacked)[2];
	uint8_t nsacked;
	uint32_t dupacks;
	uint32_t nrtx;
	uint8_t persist_shift;
	uint64_t retransmits;
	uint32_t fin_seq;
	uint32_t delack_segs;
	bool waiting_upstream;
	bool fin_queued;
	bool fin_sent;
	bool fin_rcvd;
	bool upstream_eof;
	bool upstream_gone;
	uint32_t up_avail;
	uint32_t up_room;
	uint32_t pend_prev, pend_next;
	bool pend_queued;
	bool ack_now;
	bool active;
	struct tcp_ooo *ooo;
	uint8_t nooo;
	uint32_t ooo_bytes;
	uint32_t ooo_last;
	uint64_t timer[TCP_NTIMERS];
	uint64_t deadline;
	uint32_t heap_pos;
	uint32_t age_prev, age_next;
	uint8_t age_list;
};

/* The flows of a state that the link bounds by evicting the oldest, each kept in a list in
 * the order they entered that state: TIME_WAIT (a full flow table recycles the oldest, RFC
 * 6191's reasoning: it only waits out stray segments) and SYN_RCVD (RFC 4987 3.5: a SYN
 * flood recycles its own oldest half-open connections, so that a genuine SYN is answered). */
enum tcp_age_list {
	TCP_AGE_NONE,
	TCP_AGE_TIME_WAIT,
	TCP_AGE_HALF_OPEN,
	TCP_AGE_NLISTS
};

/**
 * struct tcp_age - one age list: oldest at @head (pool index + 1, 0 = empty)
 * @head, @tail:	its ends
 */
struct tcp_age {
	uint32_t head, tail;
};

/**
 * struct tcp_stack - a link's TCP state
 * @conns:	one TCB per flow-table slot (calloc'd: untouched slots cost no memory)
 * @nconns:	slots (the flow table's capacity)
 * @heap:	timer min-heap of pool indices, keyed by each connection's earliest deadline
 * @nheap:	entries in @heap
 * @age:	the age lists (index enum tcp_age_list; TCP_AGE_NONE's is unused)
 * @ooo_bytes:	out-of-order bytes held on the whole link
 * @pend_head, @pend_tail: flows with output due at the end of the batch (index + 1), in the
 *		order they became due
 * @challenge_rl: RFC 5961 7 challenge ACK limit
 * @rst_rl:	limit on RSTs answering segments for no flow
 */
struct tcp_stack {
	struct tcp_conn *conns;
	uint32_t nconns;
	uint32_t *heap;
	uint32_t nheap;
	struct tcp_age age[TCP_AGE_NLISTS];
	uint32_t ooo_bytes;
	uint32_t pend_head, pend_tail;
	struct ratelimit challenge_rl;
	struct ratelimit rst_rl;
};

/** tcp_conn_of() - the TCB of @f (NULL for a flow without one) */
static inline struct tcp_conn *tcp_conn_of(const struct flow *f)
{
	return f->tcp;
}

/** tcp_flow_of() - the flow that owns @c */
static inline struct flow *tcp_flow_of(struct stack *s, const struct tcp_conn *c)
{
	return flow_at(s->flows, c->fidx);
}

/** tcp_synchronized() - RFC 9293 3.5: the connection has reached a synchronized state */
static inline bool tcp_synchronized(uint8_t state)
{
	return state >= TCP_ESTABLISHED;
}

/* --- tcp_conn.c: the state machine ------------------------------------------------------- */

/* What moves a connection from one state to the next (besides RST and timeouts, which end
 * it through tcp_close_flow()). tcp_transition() maps (state, event) to the next state. */
enum tcp_event {
	TCP_EV_SYN_RCVD,    /* the container's SYN arrived in SYN_SENT: simultaneous open */
	TCP_EV_SYNACK_RCVD, /* the container's SYN-ACK acknowledged our SYN (SYN_SENT) */
	TCP_EV_SYN_ACKED,   /* the container acknowledged our SYN (SYN_RCVD) */
	TCP_EV_FIN_SENT,    /* we sent our FIN (upstream EOF, all data sent) */
	TCP_EV_FIN_ACKED,   /* the container acknowledged our FIN */
	TCP_EV_FIN_RCVD,    /* the container's FIN arrived in order */
};

void tcp_transition(struct stack *s, struct flow *f, enum tcp_event ev, uint64_t now_us);
void tcp_passive_open(struct stack *s, const struct pkt *p, const struct tcp_seg *g);
void tcp_close_flow(struct stack *s, struct flow *f, int end, uint64_t now_us);
void tcp_fail(struct stack *s, struct flow *f, int end, uint64_t now_us);
void tcp_upstream_gone(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_negotiate(struct stack *s, struct tcp_conn *c, const struct tcp_seg *g);
void tcp_fin_sent(struct stack *s, struct flow *f, uint64_t now_us);

/* --- tcp_output.c: building and sending segments ----------------------------------------- */

uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now_us);
void tcp_output(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_kick(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_pend_unlink(struct stack *s, struct tcp_conn *c);

/** tcp_unsent() - upstream bytes beyond SND.MAX: data waiting for the container's window */
static inline uint32_t tcp_unsent(const struct tcp_conn *c)
{
	uint32_t sent = c->snd_max - c->snd_una;

	return c->up_avail > sent ? c->up_avail - sent : 0;
}
void tcp_send_ack(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_send_synack(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_send_syn(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_send_rst(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_send_probe(struct stack *s, struct flow *f, uint64_t now_us);
bool tcp_send_challenge_ack(struct stack *s, struct flow *f, uint64_t now_us);
void tcp_send_reset_reply(struct stack *s, const struct pkt *p, uint16_t sport, uint16_t dport,
			  const struct tcp_seg *g);
void tcp_send_rst_raw(struct stack *s, const struct ip_pair *a, uint16_t sport, uint16_t dport,
		      uint32_t seq, uint32_t ack, uint8_t flags);
size_t tcp_retransmit_first(struct stack *s, struct flow *f, uint64_t now_us);
uint32_t tcp_rcv_window(struct stack *s, struct flow *f);

/* --- tcp_sack.c: the SACK scoreboard (RFC 6675) ---------------------------------------- */

bool tcp_sack_update(struct tcp_conn *c, const struct tcp_seg *g);
void tcp_sack_clear(struct tcp_conn *c);
bool tcp_sack_is_lost(const struct tcp_conn *c, uint32_t seq);
uint32_t tcp_sack_pipe(const struct tcp_conn *c);
bool tcp_sack_next_hole(const struct tcp_conn *c, bool lost, uint32_t *seq, uint32_t *len);

/* --- tcp_timer.c: timers, RTT and RTO ---------------------------------------------------- */

void tcp_timer_set(struct stack *s, struct tcp_conn *c, enum tcp_timer t, uint64_t at_us);
void tcp_timer_stop_all(struct stack *s, struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us);
void tcp_rearm_rtx(struct stack *s, struct tcp_conn *c, uint64_t now_us);

#endif
