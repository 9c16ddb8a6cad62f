/* flow.h - the flow table: one row per relayed conversation (a TCP connection or a UDP
 * 4-tuple), preallocated, with O(1) lookup by 4-tuple through a keyed hash.
 *
 * A flow's container-side addresses are what the container sees; `upstream` is filled in by
 * the shell (where it really connected). The table never allocates after flow_table_new().
 * Must not: do I/O, read clocks (time is passed in), or know about sockets.
 */
#ifndef TAPIR_FLOW_H
#define TAPIR_FLOW_H

#include <stdbool.h>
#include <stdint.h>

/* The eleven RFC 9293 states, spelled as users see them. */
enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_NSTATES
};

/* UDP flows use these pseudo-states (shown as words in the table). */
enum udp_state {
	UDP_ACTIVE = 1, /* only the container has spoken */
	UDP_REPLIED,    /* both sides have spoken */
};

enum flow_origin {
	FLOW_ORIGIN_CONTAINER, /* outbound: the container opened it */
	FLOW_ORIGIN_HOST,      /* inbound: a port forward opened it */
};

/* How a flow ended (kept in the closed-flow history). */
enum flow_end {
	FLOW_END_NONE,
	FLOW_END_FIN,            /* both FINs exchanged */
	FLOW_END_RST_CONTAINER,  /* RST from the container */
	FLOW_END_RST_UPSTREAM,   /* reset from upstream */
	FLOW_END_REFUSED,        /* upstream connect refused */
	FLOW_END_UNREACHABLE,    /* upstream unreachable */
	FLOW_END_TIMEOUT,        /* retransmission give-up or idle timeout */
	FLOW_END_EVICTED,        /* evicted to make room */
	FLOW_END_SHUTDOWN,       /* tapird shutting down or the link removed */
};

/* History: a connection's life has at most ~7 transitions; a TIME_WAIT reuse starts a new
 * flow, so 16 slots cover every path; later transitions overwrite the last slot and count. */
#define FLOW_HIST_MAX 16

/**
 * struct flow_hist - one recorded transition, packed in 8 bytes (a uint8_t beside a uint64_t
 * would take 16: half of the history would be padding, 128 bytes of every flow)
 * @state:	state entered
 * @at_us:	when, on the caller's monotonic clock (microseconds; 56 bits hold 2,283 years)
 */
struct flow_hist {
	uint64_t state : 8;
	uint64_t at_us : 56;
};

struct tcp_conn;

/* Memory an idle TCP flow may cost tapird (RSS), every module together: 1 KiB, so that
 * 50,000 idle connections fit in 50 MiB (issue 12; pasta's table costs ~140 bytes a flow, but
 * keeps no per-flow history or view for `tapirctl conns`). The kernel's side (socket, file,
 * epoll entry: a few KiB per connection) is kernel memory, not counted here. The stack's
 * share is its struct flow and struct tcp_conn; the shell's (struct relay_flow with one
 * libevent event, libevent's entry for the descriptor, the hash bucket and timer-heap slots)
 * must fit in the rest. tests/unit/test_tcp_sack.c checks the stack's share,
 * relay_internal.h its own at compile time, tests/integration/test_scale.sh the whole by RSS. */
#define FLOW_IDLE_BYTES_MAX 1024
#define FLOW_STACK_BYTES_MAX 640

/**
 * struct flow - one row of the flow table (members ordered so that none is padding: every
 * byte of it is paid once per flow, see FLOW_IDLE_BYTES_MAX)
 * @id:		stable id, unique across all links of the daemon
 * @idx:	slot in the table (stable for the flow's life)
 * @proto:	PROTO_TCP or PROTO_UDP
 * @origin:	enum flow_origin
 * @state:	enum tcp_state for TCP, enum udp_state for UDP
 * @end:	enum flow_end once the flow has ended
 * @v6:		an IPv6 flow: the addresses are @caddr6, @paddr6, @uaddr6 (@caddr, @paddr
 *		and @uaddr are 0)
 * @caddr:	container address (host byte order)
 * @cport:	container port
 * @paddr:	peer address as the container used it (host byte order)
 * @pport:	peer port as the container used it
 * @uaddr:	upstream address the shell really used (host byte order; 0 = not yet)
 * @uport:	upstream port
 * @caddr6, @paddr6, @uaddr6: the same for IPv6 (network order)
 * @uv6:	the upstream address is @uaddr6 (an IPv6 upstream, whatever the flow's family)
 * @udp_df:	UDP: the datagram being handed to stack_ops.udp_send may not be fragmented on
 *		its way (IPv4 with DF set, IPv6 sent whole by the container): the shell sends it
 *		with path MTU discovery on (IP_PMTUDISC_DO) and reports one that does not fit
 *		with udp_upstream_too_big()
 * @created_us:	creation time
 * @last_us:	last activity (either direction)
 * @bytes_in:	payload bytes from the container
 * @bytes_out:	payload bytes to the container
 * @pkts_in:	segments/datagrams from the container
 * @pkts_out:	segments/datagrams to the container
 * @nhist:	used entries of @hist
 * @hist_lost:	transitions that did not fit in @hist
 * @hist:	transitions, oldest first
 * @tcp:	TCP state (NULL for UDP), owned by the TCP module
 * @relay:	the shell's per-flow data (upstream socket), opaque here
 * @hnext:	hash chain (slot index + 1, 0 = end)
 * @in_use:	slot holds a live flow
 */
struct flow {
	uint64_t id;
	uint32_t idx;
	uint32_t hnext;
	uint8_t proto;
	uint8_t origin;
	uint8_t state;
	uint8_t end;
	bool v6;
	bool uv6;
	bool in_use;
	uint8_t nhist;
	uint32_t caddr;
	uint32_t paddr;
	uint32_t uaddr;
	uint16_t cport;
	uint16_t pport;
	uint16_t uport;
	uint8_t caddr6[16];
	uint8_t paddr6[16];
	uint8_t uaddr6[16];
	bool udp_df; /* in the padding before @hist_lost: no byte more per flow */
	uint32_t hist_lost;
	uint64_t created_us;
	uint64_t last_us;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t pkts_in;
	uint64_t pkts_out;
	struct flow_hist hist[FLOW_HIST_MAX];
	struct tcp_conn *tcp;
	void *relay;
};

struct flow_table;

/**
 * flow_table_new() - allocate a table for at most @max flows
 * @max:	capacity (1 .. 1<<24)
 * @key:	16 random bytes keying the hash, so that a container cannot aim for collisions
 * Return: the table, or NULL on allocation failure or a bad @max
 */
struct flow_table *flow_table_new(uint32_t max, const uint8_t key[16]);
void flow_table_free(struct flow_table *t);

/**
 * flow_lookup() - find a live flow by protocol and container-side 4-tuple
 * Return: the flow or NULL
 */
struct flow *flow_lookup(struct flow_table *t, uint8_t proto, uint32_t caddr, uint16_t cport,
			 uint32_t paddr, uint16_t pport);

/**
 * flow_lookup6() - find a live IPv6 flow by protocol and container-side 4-tuple
 * Return: the flow or NULL
 */
struct flow *flow_lookup6(struct flow_table *t, uint8_t proto, const uint8_t caddr[16],
			  uint16_t cport, const uint8_t paddr[16], uint16_t pport);

/**
 * flow_alloc6() - flow_alloc() for an IPv6 4-tuple
 * Return: the flow, or NULL if the table is full
 */
struct flow *flow_alloc6(struct flow_table *t, uint64_t id, uint8_t proto, const uint8_t caddr[16],
			 uint16_t cport, const uint8_t paddr[16], uint16_t pport, uint64_t now_us);

/**
 * flow_alloc() - create and index a flow (state CLOSED, no history)
 * @id:		id to give it
 * @now_us:	creation time
 * Return: the flow, or NULL if the table is full (nothing changed)
 */
struct flow *flow_alloc(struct flow_table *t, uint64_t id, uint8_t proto, uint32_t caddr,
			uint16_t cport, uint32_t paddr, uint16_t pport, uint64_t now_us);

/** flow_free() - unindex and release a flow; @f is invalid afterwards */
void flow_free(struct flow_table *t, struct flow *f);

/** flow_count() - live flows */
uint32_t flow_count(const struct flow_table *t);

/** flow_capacity() - the @max the table was made with */
uint32_t flow_capacity(const struct flow_table *t);

/** flow_at() - the flow in slot @idx, or NULL if the slot is free or out of range */
struct flow *flow_at(struct flow_table *t, uint32_t idx);

/**
 * flow_next() - iterate over live flows in slot order
 * @prev:	NULL to start
 * Return: the next live flow, or NULL at the end. Freeing @prev during iteration is safe.
 */
struct flow *flow_next(struct flow_table *t, const struct flow *prev);

/**
 * flow_record() - set @f->state to @state and append the transition to the history
 * Does not notify anyone; the stack's stack_set_state() does that.
 */
void flow_record(struct flow *f, uint8_t state, uint64_t now_us);

/** tcp_state_name() - "ESTABLISHED" etc.; "?" for an out-of-range value */
const char *tcp_state_name(unsigned int state);
/** tcp_state_parse() - inverse of tcp_state_name (case-insensitive); -1 if unknown */
int tcp_state_parse(const char *name);
/** udp_state_name() - "ACTIVE", "REPLIED" */
const char *udp_state_name(unsigned int state);
/** flow_state_name() - the state's word for the flow's protocol */
const char *flow_state_name(const struct flow *f);
/** flow_end_name() - "fin", "rst_container", ... */
const char *flow_end_name(unsigned int end);

#endif
