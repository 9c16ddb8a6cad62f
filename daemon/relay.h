/* relay.h - the upstream half of every flow: host sockets on the daemon's loop.
 *
 * Implements the stack's TCP callbacks (struct stack_ops) with non-blocking host sockets and
 * feeds upstream events back into the stack (tcp.h). Must not: parse or build frames.
 */
#ifndef TAPIR_RELAY_H
#define TAPIR_RELAY_H

struct stack_ops;

/**
 * relay_fill_ops() - set the tcp_* and flow_closed callbacks of @ops; the callbacks' ctx is
 * the struct link * the stack belongs to
 */
void relay_fill_ops(struct stack_ops *ops);

#endif
