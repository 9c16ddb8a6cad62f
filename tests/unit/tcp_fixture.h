/* tcp_fixture.h - a sans-IO harness for the TCP tests: one stack, a mock shell with an
 * in-memory upstream, and helpers that drive a connection into each RFC 9293 state with
 * frames, as smoltcp's tcp.rs tests do.
 *
 * Time is fx->now (µs), advanced by the test; nothing here sleeps or reads a clock.
 */
#ifndef TAPIR_TCP_FIXTURE_H
#define TAPIR_TCP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "frames.h"
#include "stack.h"
#include "tcp.h"
#include "wire.h"

#define FX_UP_MAX (4u << 20)
#define FX_SINK_MAX (4u << 20)
#define FX_CPORT 40000
#define FX_PPORT 8080
#define FX_CISN 1000000u /* the container's ISN */

/**
 * struct mock - the shell as the stack sees it
 * @cap:		frames sent to the container
 * @up:			bytes "upstream" has sent us, from the start of the stream
 * @up_len:		how many
 * @up_consumed:	how many the stack consumed (acknowledged by the container)
 * @sink:		bytes delivered upstream (all of them, for checking)
 * @sink_len:		how many
 * @sink_room:		how many more upstream takes now (tcp_upstream_set_room, tcp_deliver's
 *			limit)
 * @deliver_err:	nonzero: tcp_deliver takes nothing and returns -@deliver_err, as the
 *			relay does once upstream was reset (ECONNRESET, EPIPE)
 * @deliver_ok:		with @deliver_err, how many calls still succeed before it applies
 * @open_ret:		what tcp_open returns
 * @*_calls:		how often each callback ran
 * @peek_max:		largest payload ever filled into a frame
 * @closed_end:		f->end seen by flow_closed
 * @vnet:		offloads on: fx_send() puts @vnet_in before each frame (stack_input_vnet)
 *			and frames out get their virtio-net header (stack_frame_vnet), which the
 *			mock keeps in @vh and acts on as the container's kernel would (a partial
 *			checksum completed)
 * @vnet_in:		the virtio-net header fx_send() sends
 * @vnet_partial:	fx_send() leaves the TCP checksum partial: the pseudo-header sum only,
 *			as a kernel does under NEEDS_CSUM (with @vnet or without)
 * @vh:			the virtio-net header of each captured frame (index as in @cap)
 */
struct mock {
	struct capture cap;
	uint8_t *up;
	size_t up_len, up_consumed;
	uint8_t *sink;
	size_t sink_len;
	uint32_t sink_room;
	int deliver_err, deliver_ok;
	int open_ret;
	int open_calls, fin_calls, reset_calls, closed_calls, consume_calls, deliver_calls;
	size_t peek_max;
	int closed_end;
	bool vnet;
	uint8_t vnet_in[STACK_VNET_HDR_LEN];
	bool vnet_partial;
	uint8_t vh[CAP_MAX][STACK_VNET_HDR_LEN];
};

/**
 * struct fx - one test's world
 * @s:		the stack
 * @cfg:	its configuration
 * @m:		the mock shell
 * @now:	current time, µs
 * @f:		the connection under test (once the SYN made it)
 * @cseq:	the container's next sequence number
 * @rnxt:	the container's RCV.NXT (what it acknowledges)
 * @iss:	our ISN, read from the SYN-ACK
 * @ts:		the container uses timestamps
 * @tsval:	its timestamp clock
 * @tsecr:	the last TSval it saw from us
 * @win:	window field the container sends
 * @syn:	the container's SYN options
 */
struct fx {
	struct stack *s;
	struct stack_cfg cfg;
	struct mock m;
	uint64_t now;
	struct flow *f;
	uint32_t cseq, rnxt, iss;
	bool ts;
	uint32_t tsval, tsecr;
	uint16_t win;
	struct fr_tcp syn;
};

/** fx_new() - a fresh world (MTU 1500, MSS 1460 SYN with WS 7 and SACK, no timestamps) */
struct fx *fx_new(void);
/** fx_new_cfg() - same with a caller's configuration */
struct fx *fx_new_cfg(const struct stack_cfg *cfg);
/** fx_free() - tear it down (checks that the stack freed every flow) */
void fx_free(struct fx *fx);
/** fx_cfg_default() - the configuration fx_new() uses */
void fx_cfg_default(struct stack_cfg *cfg);

/** fx_setup / fx_teardown - cmocka group-less per-test state */
int fx_setup(void **state);
int fx_teardown(void **state);

/** fx_send() - a segment from the container: @t's zero fields defaulted (ports, window, TS) */
void fx_send(struct fx *fx, struct fr_tcp *t, const void *data, size_t len);
/** fx_seg() - shorthand: flags, seq, ack and payload */
void fx_seg(struct fx *fx, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	    size_t len);
/** fx_ack() - the container acknowledges @ack at its current sequence number */
void fx_ack(struct fx *fx, uint32_t ack);
/** fx_data() - the container sends @len bytes at fx->cseq (ACK = fx->rnxt), cseq advances */
void fx_data(struct fx *fx, const void *data, size_t len);

/** fx_nout() - frames the stack has sent since the last fx_clear() */
size_t fx_nout(struct fx *fx);
/** fx_out() - parse frame @i; also tracks fx->rnxt and fx->tsecr as the container would */
void fx_out(struct fx *fx, size_t i, struct parsed *p);
/** fx_last() - parse the last frame sent (fails if none) */
void fx_last(struct fx *fx, struct parsed *p);
/** fx_one() - exactly one frame was sent: parse it */
void fx_one(struct fx *fx, struct parsed *p);
/** fx_clear() - forget captured frames */
void fx_clear(struct fx *fx);
/** fx_absorb() - parse every captured frame (advancing fx->rnxt) and clear */
void fx_absorb(struct fx *fx);

/** fx_upstream() - upstream has @len more bytes for the container (pattern if @data NULL) */
void fx_upstream(struct fx *fx, const void *data, size_t len);
/** fx_pattern() - the byte at stream offset @i of the fixture's pattern */
uint8_t fx_pattern(size_t i);

/** fx_tick() - advance time by @us and run the timers */
void fx_tick(struct fx *fx, uint64_t us);
/** fx_lookup() - the test connection's flow if it is still in the table */
struct flow *fx_lookup(struct fx *fx);
/** fx_state() - its state, or -1 if it is gone */
int fx_state(struct fx *fx);

/* Fixtures: a connection driven by frames into each state. Each leaves no frame captured. */
void fx_to_syn_rcvd_waiting(struct fx *fx); /* SYN in, upstream connect pending */
void fx_to_syn_rcvd(struct fx *fx);         /* SYN-ACK sent */
void fx_to_established(struct fx *fx);
void fx_to_fin_wait_1(struct fx *fx);       /* upstream EOF: our FIN sent, not ACKed */
void fx_to_fin_wait_2(struct fx *fx);
void fx_to_close_wait(struct fx *fx);       /* container FIN in */
void fx_to_last_ack(struct fx *fx);
void fx_to_closing(struct fx *fx);
void fx_to_time_wait(struct fx *fx);

#define FX (*(struct fx **)state)

#endif
