/* udprelay.h - the upstream half of every UDP flow: one connected host UDP socket per flow.
 *
 * Implements stack_ops.udp_send with non-blocking host sockets on the daemon's loop and feeds
 * replies and ICMP errors (IP_RECVERR) back into the stack (udp.h). Maps the link's special
 * addresses: the gateway to 127.0.0.1, the DNS address to the upstream resolver (--dns-upstream,
 * or the first nameserver of /etc/resolv.conf). Must not: parse or build frames.
 */
#ifndef TAPIR_UDPRELAY_H
#define TAPIR_UDPRELAY_H

struct stack_ops;

/**
 * udprelay_fill_ops() - set udp_send, and chain flow_closed: UDP flows are released here, any
 * other goes to the flow_closed already in @ops (the TCP relay's). Call after relay_fill_ops().
 * The callbacks' ctx is the struct link * the stack belongs to.
 */
void udprelay_fill_ops(struct stack_ops *ops);

#endif
