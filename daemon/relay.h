/* relay.h - the upstream half of every flow: host sockets on the daemon's loop.
 *
 * Implements the stack's TCP callbacks (struct stack_ops) with non-blocking host sockets and
 * feeds upstream events back into the stack (tcp.h). Must not: parse or build frames.
 */
#ifndef TAPIR_RELAY_H
#define TAPIR_RELAY_H

struct stack_ops;
struct stack_frame;
struct flow;
struct tcp_info;
struct link;

/**
 * relay_fill_ops() - set the tcp_* and flow_closed callbacks of @ops; the callbacks' ctx is
 * the struct link * the stack belongs to
 */
void relay_fill_ops(struct stack_ops *ops);

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
 * relay_tcp_refresh() - measure the room of the flows of @l written to since the last call
 * and give it to the stack: once per batch, before it ends
 */
void relay_tcp_refresh(struct link *l);

/**
 * relay_adopt() - make @fd, a connected host socket (a port forward's accepted client), the
 * upstream of @f, a flow that tcp_connect() opened towards the container. Nothing is read from
 * @fd into the stack before the connection is ESTABLISHED (the relay hears of that through
 * stack_ops.flow_event, which relay_fill_ops() takes over and chains); a reset of the client
 * before that aborts the flow; a flow that ends before that resets the client (SO_LINGER 0).
 * On success the flow owns @fd (closed by flow_closed).
 * Return: 0, or a negative errno (@fd untouched, the caller still owns it)
 */
int relay_adopt(struct link *l, struct flow *f, int fd);

#endif
