/* upstream.c - the IPv6 destination mapping the relays share (see upstream.h). */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "flow.h"
#include "relay_env.h"
#include "resolver.h"
#include "stack.h"

/**
 * upstream_unicast6() - whether the host may connect to @a for the container: not ::, ::1,
 * v4-mapped or -compatible (the host's loopback by another name), multicast or link-local
 * (RFC 4291 2.5.2, 2.5.3, 2.5.5, 2.5.6, 2.7)
 * @a:		the address
 *
 * Return: true if it names one host beyond the link
 */
static bool upstream_unicast6(const uint8_t a[16])
{
	static const uint8_t zero[12];

	if (!memcmp(a, zero, 12))
		return false; /* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d */
	if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff)
		return false; /* ::ffff:a.b.c.d: IPv4 reached by the back door */
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return false;
	return true;
}

int upstream_dest6(const struct relay_env *env, const struct flow *f, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	const struct stack_cfg *sc = stack_get_cfg(env->stack);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!memcmp(f->paddr6, sc->dns6, 16)) {
		/* RFC 1035 4.2, RFC 7766 5: DNS, over UDP or TCP, to the host's resolver */
		if (env->cfg->no_dns || f->pport != RESOLVER_DNS_PORT ||
		    resolver_get(env->dcfg, ss, len))
			return -ECONNREFUSED;
		return 0;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(f->pport);
	*len = sizeof(*sin6);
	if (!memcmp(f->paddr6, sc->gateway6, 16)) {
		/* DESIGN.md: the gateway is the host's loopback, unless no_host_loopback */
		if (env->cfg->no_host_loopback)
			return -ECONNREFUSED;
		sin6->sin6_addr = in6addr_loopback;
		return 0;
	}
	if (!upstream_unicast6(f->paddr6))
		return -ECONNREFUSED;
	memcpy(&sin6->sin6_addr, f->paddr6, 16);
	return 0;
}

void upstream_note(struct flow *f, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		f->uaddr = ntohl(sin->sin_addr.s_addr);
		f->uport = ntohs(sin->sin_port);
		f->uv6 = false;
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(f->uaddr6, &sin6->sin6_addr, 16);
		f->uport = ntohs(sin6->sin6_port);
		f->uv6 = true;
	}
}

int upstream_bind6(int fd, const uint8_t src[16])
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	memcpy(&sin6.sin6_addr, src, 16);
	return bind(fd, (const struct sockaddr *)&sin6, sizeof(sin6)) < 0 ? -errno : 0;
}

int upstream_check_source6(const uint8_t src[16])
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	rc = upstream_bind6(fd, src);
	close(fd);
	return rc;
}
