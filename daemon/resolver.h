/* resolver.h - the upstream DNS resolver that the link's DNS address forwards to.
 *
 * One choice for UDP (udprelay.c) and TCP (relay.c): --dns-upstream if given, else the first
 * usable "nameserver" line of /etc/resolv.conf (resolv.conf(5)), looked up once, at the first
 * query, and kept for the daemon's life. Must not: open sockets or know about flows.
 */
#ifndef TAPIR_RESOLVER_H
#define TAPIR_RESOLVER_H

#include <sys/socket.h>

struct config;

#define RESOLVER_DNS_PORT 53 /* RFC 1035 4.2.1, 4.2.2: UDP and TCP */

/**
 * resolver_get() - the upstream resolver's address
 * @cfg:	the daemon's configuration (dns_upstream)
 * @ss:		result: an AF_INET or AF_INET6 address with its port (53 unless given)
 * @len:	result: the length of @ss
 *
 * Return: 0, or -1 if there is none (logged once): the caller refuses the query
 */
int resolver_get(const struct config *cfg, struct sockaddr_storage *ss, socklen_t *len);

#endif
