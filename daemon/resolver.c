/* resolver.c - the upstream DNS resolver: --dns-upstream, else the first nameserver of
 * /etc/resolv.conf, found once for UDP and TCP alike.
 *
 * A loopback resolver such as systemd-resolved's 127.0.0.53 works: the relay's sockets live
 * in the daemon's namespace, not the container's. Must not: open sockets or know about flows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "resolver.h"

#define RESOLV_CONF "/etc/resolv.conf"

/**
 * struct resolver - the upstream resolver, found once
 * @state:	0 not looked up yet, 1 found, -1 none
 * @ss:		its address
 * @len:	length of @ss
 */
static struct resolver {
	int state;
	struct sockaddr_storage ss;
	socklen_t len;
} resolver;

/**
 * resolver_parse_addr() - "ADDR", "ADDR:PORT", "IPV6" or "[IPV6]:PORT" into @ss
 * @v:		the text (as validated by the configuration parser, or a resolv.conf word)
 * @port:	port when none is given
 * @ss:		result
 * @len:	its length
 *
 * Return: 0, or -1 if @v is not an address. A scoped IPv6 address ("fe80::1%eth0", which
 * resolv.conf may carry) is not one: link-local resolvers are not for us.
 */
static int resolver_parse_addr(const char *v, uint16_t port, struct sockaddr_storage *ss,
			       socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 8];
	const char *p = NULL, *c;
	unsigned long n;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (strlen(v) >= sizeof(host))
		return -1;
	if (*v == '[') {
		c = strchr(v, ']');
		if (!c)
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(c - v - 1), v + 1);
		if (c[1] == ':')
			p = c + 2;
	} else if ((c = strchr(v, ':')) && c == strrchr(v, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(c - v), v);
		p = c + 1;
	} else {
		snprintf(host, sizeof(host), "%s", v);
	}
	if (p) {
		n = strtoul(p, &end, 10);
		if (*end || !n || n > 65535)
			return -1;
		port = (uint16_t)n;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/**
 * resolver_lookup() - fill the resolver from the configuration or /etc/resolv.conf
 * @r:		the resolver (state 0)
 * @cfg:	the daemon's configuration
 */
static void resolver_lookup(struct resolver *r, const struct config *cfg)
{
	char line[512], addr[256];
	FILE *fp;

	r->state = -1;
	if (cfg->dns_upstream[0]) {
		if (!resolver_parse_addr(cfg->dns_upstream, RESOLVER_DNS_PORT, &r->ss, &r->len))
			r->state = 1;
		else
			log_err("dns-upstream %s: not an address", cfg->dns_upstream);
		return;
	}
	fp = fopen(RESOLV_CONF, "re");
	if (!fp) {
		log_warn("%s: %s; DNS queries will be refused", RESOLV_CONF, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, " nameserver %255s", addr) != 1)
			continue;
		if (!resolver_parse_addr(addr, RESOLVER_DNS_PORT, &r->ss, &r->len)) {
			r->state = 1;
			break;
		}
	}
	fclose(fp);
	if (r->state > 0)
		log_info("DNS: forwarding to %s, the first nameserver of %s", addr, RESOLV_CONF);
	else
		log_warn("%s: no usable nameserver; DNS queries will be refused", RESOLV_CONF);
}

int resolver_get(const struct config *cfg, struct sockaddr_storage *ss, socklen_t *len)
{
	if (!resolver.state)
		resolver_lookup(&resolver, cfg);
	if (resolver.state < 0)
		return -1;
	memcpy(ss, &resolver.ss, sizeof(*ss));
	*len = resolver.len;
	return 0;
}
