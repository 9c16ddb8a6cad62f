/* tcp.h - the TCP module's face to the shell: upstream events going into the stack, and a
 * read-only view of a connection's internals for the control socket.
 *
 * The state machine itself (RFC 9293, all eleven states) lives in tcp_conn.c (transitions),
 * tcp_input.c (segment arrival, RFC 9293 3.10.7), tcp_output.c (segment building) and
 * tcp_timer.c (RTO, persist, delayed ACK, TIME_WAIT). Must not: do I/O or read clocks.
 */
#ifndef TAPIR_TCP_H
#define TAPIR_TCP_H

#include <stdbool.h>
#include <stdint.h>

struct stack;
struct flow;

/* The relay's figures for a flow: inputs the shell sets before a batch runs (or from
 * ops->prepare). They cause no output by themselves; the events below do. */

/**
 * tcp_upstream_set_avail() - upstream holds @avail bytes of the stream not yet acknowledged
 * by the container (the receive queue: SIOCINQ, the FIN not counted). The stack sends from
 * them as the container's window allows and has the shell place them (ops->tx, fill).
 */
void tcp_upstream_set_avail(struct stack *s, struct flow *f, uint32_t avail);

/**
 * tcp_upstream_set_room() - upstream takes @room more bytes now: the window offered to the
 * container never reaches beyond it (RFC 9293 3.8.6). Bytes delivered since are taken off it.
 */
void tcp_upstream_set_room(struct stack *s, struct flow *f, uint32_t room);

/**
 * tcp_fill_offset() - where in the upstream receive queue the payload of a frame to fill
 * (struct stack_frame's fill_flow, fill_seq) starts: bytes after what the container has
 * acknowledged. For ops->tx only.
 * Return: true with @off set; false if the container has acknowledged those bytes meanwhile
 * (the frame is obsolete: drop it)
 */
bool tcp_fill_offset(const struct flow *f, uint32_t seq, uint32_t *off);

/* Upstream events, from the relay into the stack. Each may emit frames and callbacks. */

/** tcp_upstream_connected() - the upstream connect() succeeded: answer the SYN (SYN-ACK) */
void tcp_upstream_connected(struct stack *s, struct flow *f, uint64_t now_us);

/**
 * tcp_upstream_failed() - the upstream connect() failed with @err (positive errno):
 * ECONNREFUSED → RST to the container; EHOSTUNREACH/ENETUNREACH → ICMP host/net unreachable;
 * ETIMEDOUT and anything else → RST. The flow is released (flow_closed is called).
 */
void tcp_upstream_failed(struct stack *s, struct flow *f, int err, uint64_t now_us);

/** tcp_upstream_readable() - upstream has new data (tcp_upstream_set_avail() says how much):
 * send what the container's window allows */
void tcp_upstream_readable(struct stack *s, struct flow *f, uint64_t now_us);

/** tcp_upstream_writable() - upstream has room again (tcp_upstream_set_room() says how much):
 * open the window we advertise */
void tcp_upstream_writable(struct stack *s, struct flow *f, uint64_t now_us);

/** tcp_upstream_eof() - upstream sent FIN: FIN to the container once all data is sent */
void tcp_upstream_eof(struct stack *s, struct flow *f, uint64_t now_us);

/** tcp_upstream_reset() - upstream reset or failed: RST to the container, flow released */
void tcp_upstream_reset(struct stack *s, struct flow *f, uint64_t now_us);

/**
 * tcp_abort() - the shell gives up on a flow (shutdown, eviction): RST to the container if
 * synchronised, then release with @end (enum flow_end)
 */
void tcp_abort(struct stack *s, struct flow *f, int end, uint64_t now_us);

/**
 * tcp_connect() - active open towards the container (port forwards): a flow with origin
 * FLOW_ORIGIN_HOST from @paddr:@pport to the container's @caddr:@cport, in SYN_SENT, our SYN
 * sent. The shell learns of ESTABLISHED (or of the flow's end) from flow events.
 * Return: the flow, or NULL if the 4-tuple is in use or the table is full
 */
struct flow *tcp_connect(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			 uint16_t pport, uint64_t now_us);

/**
 * tcp_connect6() - tcp_connect() over IPv6: to the container's @caddr:@cport from
 * @paddr:@pport (a forward's client, or the gateway address for one on ::1)
 * Return: the flow in SYN_SENT, or NULL (4-tuple in use, table full)
 */
struct flow *tcp_connect6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			  const uint8_t paddr[16], uint16_t pport, uint64_t now_us);

/**
 * tcp_listen_row() - a flow row in state LISTEN for a port forward's host listener, so that
 * listings show listeners as `ss -l` does: container side @caddr:@cport, peer 0.0.0.0:0,
 * origin FLOW_ORIGIN_HOST, no TCB. No segment ever matches it: tcp_input() drops port 0 and
 * passes over flows without a TCB.
 * Return: the flow (the shell fills in uaddr/uport), or NULL if the table is full
 */
struct flow *tcp_listen_row(struct stack *s, uint32_t caddr, uint16_t cport, uint64_t now_us);

/**
 * tcp_listen_row6() - tcp_listen_row() for a forward on an IPv6 host address: container side
 * @caddr (IPv6):@cport, peer [::]:0
 * Return: the flow (the shell fills in uaddr6/uv6/uport), or NULL if the table is full
 */
struct flow *tcp_listen_row6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			     uint64_t now_us);

/** tcp_listen_row_release() - remove a row made by tcp_listen_row() (the listener closed) */
void tcp_listen_row_release(struct stack *s, struct flow *f, uint64_t now_us);

/**
 * struct tcp_view - a snapshot of one connection's internals, for `conns` and `conn`
 * Sequence numbers are absolute (as on the wire). Windows are in bytes (already scaled).
 */
struct tcp_view {
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t rcv_nxt, rcv_wnd;
	uint16_t mss;            /* effective MSS we send to the container */
	uint16_t peer_mss;       /* MSS the container offered */
	int8_t wscale_snd;       /* shift the container applies to its windows; -1 = off */
	int8_t wscale_rcv;       /* shift we apply to ours; -1 = off */
	bool ts;                 /* RFC 7323 timestamps negotiated */
	bool sack;               /* SACK-permitted negotiated */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh;
	uint64_t retransmits;
	uint32_t dupacks;
	uint32_t ooo_bytes;      /* out-of-order bytes queued */
	uint32_t in_flight;      /* snd_nxt - snd_una */
	bool fin_rcvd, fin_sent, upstream_eof;
};

/** tcp_get_view() - fill @v from TCP flow @f; false if @f has no TCP state */
bool tcp_get_view(const struct flow *f, struct tcp_view *v);

#endif
