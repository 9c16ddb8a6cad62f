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

#include <stddef.h>
#include <stdint.h>

struct link;
struct sockaddr_in;

/**
 * udprelay_inbound() - a datagram from host client @client reached a UDP port forward's
 * socket @fd: pass it to the container's @caddr:@cport from @paddr:client port (the client as
 * the container sees it), opening the flow with the first one. The container's answers go
 * back to @client from @fd, which stays the forward's (never closed here).
 * Return: 0, or a negative errno: -EADDRINUSE (the 4-tuple is another conversation's),
 * -ENOBUFS (no room for a flow), -ENOMEM. The datagram is then dropped.
 */
int udprelay_inbound(struct link *l, int fd, const struct sockaddr_in *client, uint32_t paddr,
		     uint32_t caddr, uint16_t cport, const uint8_t *data, size_t len,
		     uint64_t now_us);

/**
 * udprelay_inbound_close() - the forward's socket @fd is about to close: end its flows
 */
void udprelay_inbound_close(struct link *l, int fd, uint64_t now_us);

#endif
