/* policy.c - deny rules: parse, format, match; the host's own addresses (policy.h). */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* 169.254.0.0/16, RFC 3927: link-local; clouds serve instance metadata (and credentials) at
 * 169.254.169.254, the first thing a compromised workload asks for */
#define POLICY_LINK_LOCAL_NET 0xa9fe0000u
#define POLICY_LINK_LOCAL_MASK 0xffff0000u

/**
 * parse_port() - a decimal port 1..65535, digits only
 * @s:		start
 * @n:		its length
 * @out:	the port
 * Return: 0, or -1
 */
static int parse_port(const char *s, size_t n, uint16_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/**
 * mask4() - the IPv4 netmask of prefix length @plen, host order
 * @plen:	0..32
 * Return: the mask
 */
static uint32_t mask4(unsigned int plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

/**
 * parse_proto() - "tcp", "udp", "any" (or nothing: any)
 * @s:		the word
 * @out:	enum policy_proto
 * Return: 0, or -1
 */
static int parse_proto(const char *s, uint8_t *out)
{
	if (!*s || !strcmp(s, "any"))
		*out = POLICY_ANY;
	else if (!strcmp(s, "tcp"))
		*out = POLICY_TCP;
	else if (!strcmp(s, "udp"))
		*out = POLICY_UDP;
	else
		return -1;
	return 0;
}

int policy_rule_parse(const char *text, struct policy_rule *r, char *why, size_t whylen)
{
	char buf[POLICY_RULE_TEXT], addr[INET_ADDRSTRLEN];
	const char *proto = "", *colon, *slash, *dash;
	struct policy_rule n = { .family = AF_INET, .plen = 32, .port_hi = 65535 };
	size_t len, alen;
	struct in_addr a;
	char *sp;

	if (!text || (len = strnlen(text, sizeof(buf))) >= sizeof(buf)) {
		snprintf(why, whylen, "a rule is at most %d bytes", POLICY_RULE_TEXT - 1);
		return -1;
	}
	while (*text == ' ' || *text == '\t')
		text++, len--;
	memcpy(buf, text, len + 1);
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	sp = strpbrk(buf, " \t");
	if (sp) {
		*sp = '\0';
		proto = sp + 1;
		while (*proto == ' ' || *proto == '\t')
			proto++;
	}
	if (parse_proto(proto, &n.proto)) {
		snprintf(why, whylen, "\"%s\": the protocol is tcp, udp or any", proto);
		return -1;
	}
	if (buf[0] == '[' || (strchr(buf, ':') && strchr(buf, ':') != strrchr(buf, ':'))) {
		snprintf(why, whylen, "\"%s\": IPv6 rules are not supported yet", buf);
		return -1;
	}
	colon = strchr(buf, ':');
	slash = strchr(buf, '/');
	if (slash && colon && slash > colon)
		goto bad;
	alen = slash ? (size_t)(slash - buf) : colon ? (size_t)(colon - buf) : strlen(buf);
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, buf, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		goto bad;
	if (slash) {
		size_t plen_n = colon ? (size_t)(colon - slash - 1) : strlen(slash + 1);
		unsigned int plen = 0;

		if (plen_n == 0 || plen_n > 2)
			goto bad_plen;
		for (size_t i = 0; i < plen_n; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				goto bad_plen;
			plen = plen * 10 + (unsigned int)(slash[1 + i] - '0');
		}
		if (plen > 32)
			goto bad_plen;
		n.plen = (uint8_t)plen;
	}
	if (ntohl(a.s_addr) & ~mask4(n.plen)) {
		snprintf(why, whylen, "\"%s\": host bits set beyond the /%u prefix", buf, n.plen);
		return -1;
	}
	memcpy(n.addr, &a.s_addr, 4);
	if (colon) {
		dash = strchr(colon + 1, '-');
		if (parse_port(colon + 1, dash ? (size_t)(dash - colon - 1) : strlen(colon + 1),
			       &n.port_lo))
			goto bad_port;
		n.port_hi = n.port_lo;
		if (dash && (parse_port(dash + 1, strlen(dash + 1), &n.port_hi) ||
			     n.port_hi < n.port_lo))
			goto bad_port;
	} else {
		n.port_lo = 0;
	}
	*r = n;
	return 0;
bad:
	snprintf(why, whylen, "\"%s\" is not CIDR[:PORT[-PORT]] [tcp|udp|any]", buf);
	return -1;
bad_plen:
	snprintf(why, whylen, "\"%s\": the prefix length is 0 to 32", buf);
	return -1;
bad_port:
	snprintf(why, whylen, "\"%s\": ports are 1 to 65535, a range low-high", buf);
	return -1;
}

char *policy_rule_format(const struct policy_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", port[16] = "";
	const char *proto = r->proto == POLICY_TCP ? "tcp" : r->proto == POLICY_UDP ? "udp" : "any";

	if (r->family == AF_INET)
		inet_ntop(AF_INET, r->addr, a, sizeof(a));
	if (r->port_lo == r->port_hi)
		snprintf(port, sizeof(port), ":%u", r->port_lo);
	else if (r->port_lo != 0 || r->port_hi != 65535)
		snprintf(port, sizeof(port), ":%u-%u", r->port_lo, r->port_hi);
	snprintf(buf, len, "%s/%u%s %s", a, r->plen, port, proto);
	return buf;
}

/**
 * rule_eq() - do @a and @b cover exactly the same flows?
 * @a:	one rule
 * @b:	the other
 * Return: true if equal
 */
static bool rule_eq(const struct policy_rule *a, const struct policy_rule *b)
{
	return a->family == b->family && a->plen == b->plen && a->proto == b->proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

int policy_add(struct policy *p, const char *text, char *why, size_t whylen)
{
	struct policy_rule r;

	if (policy_rule_parse(text, &r, why, whylen))
		return -1;
	for (unsigned int i = 0; i < p->nrules; i++)
		if (rule_eq(&p->rule[i], &r))
			return 0;
	if (p->nrules >= POLICY_MAX_RULES) {
		snprintf(why, whylen, "at most %d deny rules", POLICY_MAX_RULES);
		return -2;
	}
	p->rule[p->nrules++] = r;
	return 0;
}

int policy_remove(struct policy *p, const char *text, char *why, size_t whylen)
{
	struct policy_rule r;
	char t[POLICY_RULE_TEXT];

	if (policy_rule_parse(text, &r, why, whylen))
		return -1;
	for (unsigned int i = 0; i < p->nrules; i++) {
		if (!rule_eq(&p->rule[i], &r))
			continue;
		memmove(&p->rule[i], &p->rule[i + 1], (p->nrules - i - 1) * sizeof(r));
		p->nrules--;
		return 0;
	}
	snprintf(why, whylen, "no rule %s", policy_rule_format(&r, t, sizeof(t)));
	return -2;
}

/**
 * rule_match4() - does rule @r cover IPv4 @a (host order), @port, @proto?
 * @r:		the rule
 * @a:		destination address, host order
 * @port:	destination port
 * @proto:	POLICY_TCP or POLICY_UDP
 * Return: true if so
 */
static bool rule_match4(const struct policy_rule *r, uint32_t a, uint16_t port, int proto)
{
	uint32_t net;

	if (r->family != AF_INET || (r->proto != POLICY_ANY && r->proto != proto))
		return false;
	if (port < r->port_lo || port > r->port_hi)
		return false;
	memcpy(&net, r->addr, 4);
	return (a & mask4(r->plen)) == ntohl(net);
}

bool policy_check(const struct policy *p, const struct policy_host *host, int family,
		  const void *addr, uint16_t port, int proto, char *why, size_t whylen)
{
	uint32_t a;

	if (!p || family != AF_INET)
		return false;
	memcpy(&a, addr, 4);
	a = ntohl(a);
	if (p->deny_link_local && (a & POLICY_LINK_LOCAL_MASK) == POLICY_LINK_LOCAL_NET) {
		snprintf(why, whylen, "deny-link-local");
		return true;
	}
	if (p->deny_host_addrs && host) {
		for (unsigned int i = 0; i < host->n; i++) {
			if (ntohl(host->addr[i]) == a) {
				snprintf(why, whylen, "deny-host-addresses");
				return true;
			}
		}
	}
	for (unsigned int i = 0; i < p->nrules; i++) {
		if (rule_match4(&p->rule[i], a, port, proto)) {
			policy_rule_format(&p->rule[i], why, whylen);
			return true;
		}
	}
	return false;
}

int policy_host_read(struct policy_host *h)
{
	struct ifaddrs *ifa, *i;
	struct policy_host n = { .n = 0 };

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		/* loopback is reached through the gateway mapping, governed by host-loopback */
		if ((ntohl(a) >> 24) == 127)
			continue;
		if (n.n >= POLICY_HOST_ADDRS_MAX) {
			n.truncated = true;
			break;
		}
		n.addr[n.n++] = a;
	}
	freeifaddrs(ifa);
	*h = n;
	return 0;
}

const struct policy_host *policy_host_get(uint64_t now_ms)
{
	static struct policy_host cache;
	static uint64_t read_at;
	static bool have;

	if (!have || now_ms - read_at >= POLICY_HOST_REFRESH_MS || now_ms < read_at) {
		/* on failure the last good list stays: better stale than nothing denied */
		if (policy_host_read(&cache) == 0)
			have = true;
		read_at = now_ms;
	}
	return &cache;
}
