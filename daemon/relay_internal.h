/* relay_internal.h - what the TCP relay's two files share; nothing else includes it (relay.h
 * is the module's public face).
 *
 * The TCP relay, by concern:
 *   relay.c		a flow's host socket over its life: the per-link tables, where a
 *			connection goes and whether it may, connect() and a forward's accepted
 *			socket, the loop's read and write events, closing
 *   relay_data.c	the bytes through it: what the container sends (send(), and the room
 *			left for the window the stack offers), what the peer sent (peeked
 *			straight into frames, discarded when the container acknowledges it)
 *
 * Must not: parse or build frames.
 */
#ifndef TAPIR_RELAY_INTERNAL_H
#define TAPIR_RELAY_INTERNAL_H

#include <stdint.h>

#include <event2/event_struct.h>

struct flow;
struct relay_env;

/* Flag bits of struct relay_flow.flags */
#define RF_CONNECTING (1U << 0)   /* connect() in progress */
#define RF_CONNECTED (1U << 1)    /* tcp_upstream_connected() reported */
#define RF_EOF_SEEN (1U << 2)     /* the peer's FIN is in the receive queue */
#define RF_EOF_REPORTED (1U << 3) /* tcp_upstream_eof() reported */
#define RF_RESET_PENDING (1U << 4) /* an error to report as tcp_upstream_reset() */
#define RF_WR_SHUT (1U << 5)      /* shutdown(SHUT_WR) done */
#define RF_WANT_WRITE (1U << 6)   /* the stack waits for room: report tcp_upstream_writable() */
#define RF_FAIL_PENDING (1U << 7) /* connect() failed at once: report it from the loop */
#define RF_ADOPTED (1U << 8)      /* a port forward's accepted socket (relay_adopt) */
#define RF_ROOM_STALE (1U << 9)   /* written to in this batch: its room is measured again */
#define RF_ROOM_MEASURE (1U << 10) /* with RF_ROOM_STALE: by the kernel, not by the estimate */
#define RF_EST_AT_ONCE (1U << 11) /* with RF_CONNECTING: connect() returned established */

/* Flows whose room is measured again at the end of a batch; one batch of 64 frames touches
 * at most 64 flows, and any beyond are measured at once instead. */
#define RELAY_STALE_MAX 64

struct relay_pool;

/**
 * struct relay_flow - the relay's per-flow state
 * @env:	the link's environment (its stack, the loop, its configuration)
 * @pool:	the table this entry belongs to
 * @f:		the flow, NULL when the slot is free
 * @fd:		the host socket, -1 when closed
 * @flags:	RF_* bits
 * @fail_err:	positive errno of a connect() that failed at once (RF_FAIL_PENDING)
 * @peek_off:	the kernel's SO_PEEK_OFF for @fd as we last left it
 * @room_meas:	the room the kernel last measured (relay_room())
 * @room_est:	@room_meas less the estimated cost of the small sends since
 * @gen:	bumped whenever the slot is taken or released, so that a callback can tell that
 *		the flow it was serving went away under a call into the stack
 * @ev_rd:	while RF_CONNECTING, the one-shot write event of connect() completion (with
 *		its timeout); then the edge-triggered read (and EV_CLOSED) event, persistent
 * @ev_wr:	one-shot write event "room again", allocated by the first relay_want_write()
 *		(NULL until then), freed when the socket closes
 */
struct relay_flow {
	struct relay_env *env;
	struct relay_pool *pool;
	struct flow *f;
	int fd;
	uint32_t flags;
	int fail_err;
	uint32_t peek_off;
	uint32_t room_meas;
	uint32_t room_est;
	uint32_t gen;
	struct event ev_rd;
	struct event *ev_wr;
};

/* What the relay keeps per idle flow, inside the budget of FLOW_IDLE_BYTES_MAX (flow.h): the
 * stack takes up to FLOW_STACK_BYTES_MAX, libevent ~60 bytes for the descriptor. */
_Static_assert(sizeof(struct relay_flow) <= 200, "struct relay_flow outgrew its share of the "
	       "1 KiB an idle flow may cost (FLOW_IDLE_BYTES_MAX)");

/**
 * struct relay_pool - per-link table of relay_flow, indexed by flow slot
 * @env:	the link it serves (NULL: unused entry)
 * @cap:	entries in @slot (the link's flow table capacity)
 * @live:	slots in use; a pool with none may be handed to another link
 * @slot:	the entries
 * @stale:	slots written to in this batch (RF_ROOM_STALE), to measure before it ends
 * @nstale:	entries in @stale
 */
struct relay_pool {
	const struct relay_env *env;
	uint32_t cap;
	uint32_t live;
	struct relay_flow *slot;
	uint32_t stale[RELAY_STALE_MAX];
	unsigned int nstale;
};

/* relay.c */
struct relay_pool *relay_pool_find(const struct relay_env *env);
void relay_mark_reset(struct relay_flow *rf, int err);
void relay_maybe_close_early(struct relay_flow *rf, int inq);
void relay_want_write(struct relay_flow *rf);

/* relay_data.c */
void relay_peek_init(int fd);
void relay_set_room(struct relay_flow *rf);
int relay_set_avail(struct relay_flow *rf);

#endif
