/* upstream.h - where a container's IPv6 flow goes on the host, and what the flow records of
 * it: shared by the TCP and UDP relays so that both map fd00::2 and fd00::3 alike.
 *
 * Must not: open sockets (the relays do) or touch the stack beyond reading its configuration.
 */
#ifndef TAPIR_UPSTREAM_H
#define TAPIR_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct relay_env;
struct flow;

/**
 * upstream_dest6() - the host address an IPv6 flow of the container goes to: the gateway
 * (fd00::2) is the host's ::1 unless host loopback is off, DNS (fd00::3) port 53 is the
 * host's resolver, any other unicast address beyond the link is itself
 * @env:	the link
 * @f:		the flow (f->v6)
 * @ss:		filled with the address
 * @len:	its length
 * Return: 0, or -ECONNREFUSED for what the container may not reach (the host's loopback by
 * any other name, DNS on another port or switched off, no unicast address)
 */
int upstream_dest6(const struct relay_env *env, const struct flow *f, struct sockaddr_storage *ss,
		   socklen_t *len);

/**
 * upstream_note() - record where @f really went (f->uaddr or f->uaddr6, f->uport)
 * @f:		the flow
 * @ss:		the address connected to (AF_INET or AF_INET6)
 */
void upstream_note(struct flow *f, const struct sockaddr_storage *ss);

/**
 * upstream_bind6() - bind IPv6 upstream socket @fd to source address @src, port 0 (the
 * kernel picks the port), before it connects (slirp4netns 1.2 --outbound-addr6, [link]
 * outbound-addr6). As for IPv4's, this holds for the gateway's connections to ::1 too: Linux
 * lets a socket bound to any local address reach ::1, and the server sees that address.
 * @fd:		an AF_INET6 socket, not yet bound
 * @src:	the address (network order)
 * Return: 0, or -errno from bind() (-EADDRNOTAVAIL: not an address of the host)
 */
int upstream_bind6(int fd, const uint8_t src[16]);

/**
 * upstream_check_source6() - whether @src can be the source of IPv6 upstream sockets at all:
 * a datagram socket is bound to it and closed, so that a link whose outbound-addr6 is no
 * address of the host fails when it attaches instead of at each connection
 * @src:	the address (network order)
 * Return: 0, or -errno (-EADDRNOTAVAIL: not an address of the host)
 */
int upstream_check_source6(const uint8_t src[16]);

#endif
