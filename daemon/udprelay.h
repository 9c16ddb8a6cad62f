/* udprelay.h - the upstream half of every UDP flow: one connected host UDP socket per flow.
 *
 * Does the stack's udp_send (link.c's stack_ops call it) with non-blocking host sockets on the
 * daemon's loop, knowing the link only through struct relay_env, and feeds
 * replies and ICMP errors (IP_RECVERR) back into the stack (udp.h). Maps the link's special
 * addresses: the gateway to 127.0.0.1, the DNS address to the upstream resolver (--dns-upstream,
 * or the first nameserver of /etc/resolv.conf). Must not: parse or build frames.
 */
#ifndef TAPIR_UDPRELAY_H
#define TAPIR_UDPRELAY_H

#include <stddef.h>
#include <stdint.h>

struct flow;
struct relay_env;
struct sockaddr_in;
struct sockaddr_in6;

/**
 * udprelay_send() - stack_ops.udp_send: one datagram from the container to upstream (the
 * flow's first opens and connects its socket)
 * Return: 0, or a negative errno (the datagram is lost; the stack counts it and maps the
 * errno to an ICMP error where there is one)
 */
int udprelay_send(struct relay_env *env, struct flow *f, const uint8_t *data, size_t len);

/**
 * udprelay_batch_begin() - from now until udprelay_flush(), the datagrams of @env's flows
 * that udprelay_send() takes are queued (copied), not sent: the link calls it before it feeds
 * a batch of frames read from the TAP to the stack
 */
void udprelay_batch_begin(struct relay_env *env);

/**
 * udprelay_flush() - send what udprelay_send() queued, socket by socket (the datagrams of one
 * flow in their order: runs of one size as single UDP GSO sends, the rest with sendmmsg()),
 * report the failures to the stack (udp_send_failed) and stop queueing. The link calls it
 * before it ends the stack batch.
 */
void udprelay_flush(struct relay_env *env);

/** udprelay_closed() - stack_ops.flow_closed for a UDP flow: close its socket */
void udprelay_closed(struct flow *f);

/**
 * udprelay_inbound() - a datagram from host client @client reached a UDP port forward's
 * socket @fd: pass it to the container's @caddr:@cport from @paddr:client port (the client as
 * the container sees it), opening the flow with the first one. The container's answers go
 * back to @client from @fd, which stays the forward's (never closed here).
 * Return: 0, or a negative errno: -EADDRINUSE (the 4-tuple is another conversation's),
 * -ENOBUFS (no room for a flow), -ENOMEM. The datagram is then dropped.
 */
int udprelay_inbound(struct relay_env *env, int fd, const struct sockaddr_in *client, uint32_t paddr,
		     uint32_t caddr, uint16_t cport, const uint8_t *data, size_t len,
		     uint64_t now_us);

/**
 * udprelay_inbound6() - udprelay_inbound() for a forward on an IPv6 host address: the
 * container's IPv6 @caddr sees @paddr (the client itself, or the gateway for ::1)
 * Return: as udprelay_inbound()
 */
int udprelay_inbound6(struct relay_env *env, int fd, const struct sockaddr_in6 *client,
		      const uint8_t paddr[16], const uint8_t caddr[16], uint16_t cport,
		      const uint8_t *data, size_t len, uint64_t now_us);

/**
 * udprelay_inbound_close() - the forward's socket @fd is about to close: end its flows
 */
void udprelay_inbound_close(struct relay_env *env, int fd, uint64_t now_us);

#endif
