/* relay.h - the upstream half of every TCP flow: host sockets on the daemon's loop.
 *
 * What the stack asks of upstream for TCP flows (link.c's stack_ops call these), done with
 * non-blocking host sockets; upstream events go back into the stack (tcp.h). A relay knows
 * its link only through struct relay_env. Must not: parse or build frames.
 */
#ifndef TAPIR_RELAY_H
#define TAPIR_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stack_frame;
struct flow;
struct tcp_info;
struct relay_env;

/**
 * relay_tcp_open() - stack_ops.tcp_open: start the upstream connect() for @f
 * Return: 0 (the result is reported later from the loop), or a negative errno (RST at once)
 */
int relay_tcp_open(struct relay_env *env, struct flow *f);

/**
 * relay_tcp_deliver() - stack_ops.tcp_deliver: send container payload upstream
 * Return: bytes the kernel took (0: no room now); the stack acknowledges only those. A
 * negative errno if the socket will take nothing more (reset, closed, shut for writing).
 */
ssize_t relay_tcp_deliver(struct flow *f, const uint8_t *data, size_t len);

/** relay_tcp_consume() - stack_ops.tcp_consume: the container ACKed @n bytes: drop them */
void relay_tcp_consume(struct flow *f, uint32_t n);

/** relay_tcp_fin() - stack_ops.tcp_fin: the container is done sending: FIN upstream */
void relay_tcp_fin(struct flow *f);

/** relay_tcp_reset() - stack_ops.tcp_reset: abort upstream (RST to the peer) */
void relay_tcp_reset(struct flow *f);

/** relay_tcp_closed() - stack_ops.flow_closed for a TCP flow: release socket and slot */
void relay_tcp_closed(struct flow *f);

/**
 * relay_tcp_state() - TCP flow @f changed state (stack_ops.flow_event): a forward's
 * connection that became synchronised (ESTABLISHED, or CLOSE_WAIT when the container's FIN
 * came with its handshake) has its client's socket read from now on, starting with whatever
 * it queued meanwhile
 */
void relay_tcp_state(struct flow *f);

/**
 * relay_tcp_info() - the kernel's TCP_INFO of TCP flow @f's upstream socket (for `conn`)
 * Return: 0, or a negative errno (-ENOTCONN: the flow has no upstream socket now)
 */
int relay_tcp_info(const struct flow *f, struct tcp_info *ti);

/**
 * relay_tcp_fill() - place the upstream payload of @n frames of one flow, consecutive in
 * sequence (fill_flow and fill_seq of @fr[0]), with one peek at the upstream socket; frames
 * that cannot be filled get len 0 (and the flow is reported reset from the loop). Their
 * checksums are the link's to seal: in full, or partial with offloads (link.c).
 * Return: @n (at most 64 are looked at)
 */
unsigned int relay_tcp_fill(struct stack_frame *fr, unsigned int n);

/**
 * relay_tcp_refresh() - measure the room of the flows of @env's link written to since the last call
 * and give it to the stack: once per batch, before it ends
 */
void relay_tcp_refresh(const struct relay_env *env);

/**
 * relay_tcp_spare() - make a spare socket for each family whose last spare a connection took
 * (at most one per family and call): between loop turns, after a batch's frames went out
 */
void relay_tcp_spare(void);

/**
 * relay_adopt() - make @fd, a connected host socket (a port forward's accepted client), the
 * upstream of @f, a flow that tcp_connect() opened towards the container. Nothing is read from
 * @fd into the stack before the connection is ESTABLISHED (the relay hears of that through
 * relay_tcp_state()); a reset of the client
 * before that aborts the flow; a flow that ends before that resets the client (SO_LINGER 0).
 * On success the flow owns @fd (closed by flow_closed).
 * Return: 0, or a negative errno (@fd untouched, the caller still owns it)
 */
int relay_adopt(struct relay_env *env, struct flow *f, int fd);

#endif
