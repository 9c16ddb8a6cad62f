/* config_link.c - the keys of one link ([link] and [link NAME] in the file, the link options
 * on the command line): their defaults, setters and table (link_cfg_set()), and the checks of a
 * whole link (link_cfg_check()). Parsing only: nothing here touches the network.
 */
#include "config_internal.h"
#include "stack.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_NETNS_DIR "/run/netns/"	/* where iproute2 pins named namespaces */

void link_cfg_defaults(struct link_cfg *lc)
{
	memset(lc, 0, sizeof(*lc));
	snprintf(lc->ifname, sizeof(lc->ifname), "%s", CONFIG_DEFAULT_IFNAME);
	lc->addr = STACK_DEFAULT_ADDR;
	lc->prefix_len = STACK_DEFAULT_PREFIX;
	lc->gateway = STACK_DEFAULT_GATEWAY;
	lc->dns = STACK_DEFAULT_DNS;
	lc->mtu = STACK_DEFAULT_MTU;
	lc->prefix6[0] = 0xfd; /* fd00::/64, slirp4netns's */
	lc->prefix6_len = STACK_DEFAULT_PREFIX6_LEN;
}

int set_netns(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	int n;

	if (!*v || !strcmp(v, ".") || !strcmp(v, "..")) {
		snprintf(why, whylen, "\"%s\" is not a namespace name or path", v);
		return -1;
	}
	if (strchr(v, '/'))
		n = snprintf(c->netns, sizeof(c->netns), "%s", v);
	else
		n = snprintf(c->netns, sizeof(c->netns), CONFIG_NETNS_DIR "%s", v);
	if (n < 0 || (size_t)n >= sizeof(c->netns)) {
		c->netns[0] = '\0';
		snprintf(why, whylen, "\"%.40s...\" is too long", v);
		return -1;
	}
	c->pid = 0;
	return 0;
}

int set_pid(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	uint32_t pid;

	if (parse_u32(v, 1, 0x7fffffff, &pid, why, whylen))
		return -1;
	c->pid = (int)pid;
	c->netns[0] = '\0';
	return 0;
}

int set_ifname(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	const char *p;

	/* the kernel's dev_valid_name(): 1..15 bytes, no '/', ':' or blanks, not "." or ".." */
	if (!*v || strlen(v) >= IFNAMSIZ || !strcmp(v, ".") || !strcmp(v, "..")) {
		snprintf(why, whylen, "\"%s\" is not an interface name of 1 to %d characters", v,
			 IFNAMSIZ - 1);
		return -1;
	}
	for (p = v; *p; p++) {
		/* '%' too: the kernel would take "tap%d" as a pattern and pick a name itself */
		if (*p == '/' || *p == ':' || *p == '%' || *p <= ' ' || *p == 0x7f) {
			snprintf(why, whylen, "\"%s\": '/', ':', '%%' and blanks are not allowed",
				 v);
			return -1;
		}
	}
	snprintf(c->ifname, sizeof(c->ifname), "%s", v);
	return 0;
}

int set_address(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	char buf[INET_ADDRSTRLEN + 4];
	uint32_t addr, prefix;
	char *slash;

	if (strlen(v) >= sizeof(buf) || !(slash = strchr(strcpy(buf, v), '/'))) {
		snprintf(why, whylen, "\"%s\" is not ADDRESS/PREFIX (like 10.0.2.100/24)", v);
		return -1;
	}
	*slash = '\0';
	if (parse_ip4(buf, &addr, why, whylen))
		return -1;
	/* a /31 or /32 leaves no room for the gateway and DNS addresses on the link */
	if (parse_u32(slash + 1, 1, 30, &prefix, why, whylen)) {
		snprintf(why, whylen, "\"%s\": the prefix length must be 1 to 30", v);
		return -1;
	}
	c->addr = addr;
	c->prefix_len = (uint8_t)prefix;
	return 0;
}

/**
 * set_ipv6() - [link] ipv6 = yes|no
 * @c:		the link
 * @v:		the value
 * @why:	what is wrong, on failure
 * @whylen:	its size
 *
 * Return: 0, or -1
 */
static int set_ipv6(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	c->no_ipv6 = !yes;
	return 0;
}

/**
 * set_ipv6_prefix() - "PREFIX/LEN" (fd00::/64): the container is ::100 of it, the gateway
 * ::2, DNS ::3. The length is 64 for SLAAC (RFC 4862 5.5.3), 8 to 112 allowed (a fixed
 * address needs no SLAAC); host bits must be zero.
 * @c:		the link
 * @v:		the value
 * @why:	what is wrong, on failure
 * @whylen:	its size
 *
 * Return: 0, or -1
 */
int set_ipv6_prefix(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	char buf[INET6_ADDRSTRLEN + 5];
	uint8_t a[16];
	uint32_t len;
	char *slash;

	if (strlen(v) >= sizeof(buf) || !(slash = strchr(strcpy(buf, v), '/'))) {
		snprintf(why, whylen, "\"%s\" is not PREFIX/LENGTH (like fd00::/64)", v);
		return -1;
	}
	*slash = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1) {
		snprintf(why, whylen, "\"%s\" is not an IPv6 address", buf);
		return -1;
	}
	if (parse_u32(slash + 1, 8, 112, &len, why, whylen)) {
		snprintf(why, whylen, "\"%s\": the prefix length must be 8 to 112", v);
		return -1;
	}
	for (unsigned int i = len; i < 128; i++) {
		if (a[i / 8] & (0x80 >> (i % 8))) {
			snprintf(why, whylen, "\"%s\": bits set past the prefix length", v);
			return -1;
		}
	}
	memcpy(c->prefix6, a, 16);
	c->prefix6_len = (uint8_t)len;
	return 0;
}

/**
 * source6_invalid() - why @a cannot be the source of upstream sockets
 * @a:		an IPv6 address
 *
 * Return: NULL if it may be, else the reason: ::, multicast (RFC 4291 2.5.2, 2.7), v4-mapped
 * (an IPv4 address: --outbound-addr's business), link-local (bound without an interface it
 * means nothing: RFC 4007 6)
 */
static const char *source6_invalid(const uint8_t a[16])
{
	static const uint8_t zero[16];

	if (!memcmp(a, zero, 16))
		return "the unspecified address is no source";
	if (a[0] == 0xff)
		return "a multicast address is no source";
	if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff)
		return "an IPv4-mapped address: use an IPv6 one";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "a link-local address needs an interface: use a global or ULA one";
	return NULL;
}

/**
 * set_outbound_addr6() - the source address of the link's IPv6 upstream sockets: a unicast
 * address of the host (whether it is one is checked when the link attaches: link.c)
 * @c:		the link
 * @v:		the value
 * @why:	what is wrong, on failure
 * @whylen:	its size
 *
 * Return: 0, or -1
 */
int set_outbound_addr6(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	uint8_t a[16];

	if (inet_pton(AF_INET6, v, a) != 1) {
		snprintf(why, whylen, "\"%s\" is not an IPv6 address", v);
		return -1;
	}
	if (source6_invalid(a)) {
		snprintf(why, whylen, "\"%s\": %s", v, source6_invalid(a));
		return -1;
	}
	memcpy(c->outbound_addr6, a, 16);
	c->has_outbound6 = true;
	return 0;
}

int set_gateway(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	return parse_ip4(v, &c->gateway, why, whylen);
}

int set_dns(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	return parse_ip4(v, &c->dns, why, whylen);
}

int set_mtu(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, STACK_MIN_MTU, STACK_MAX_MTU, &c->mtu, why, whylen);
}

static int set_configure(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	c->no_configure = !yes;
	return 0;
}

/**
 * set_dhcp() - a link's "dhcp = yes|no": whether its stack answers DHCP
 * Return: 0, or -1 with @why filled
 */
static int set_dhcp(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	c->no_dhcp = !yes;
	return 0;
}

/**
 * set_offload() - a link's "offload = yes|no": whether its TAP uses the virtio-net offloads
 * Return: 0, or -1 with @why filled
 */
static int set_offload(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	c->no_offload = !yes;
	return 0;
}

static int set_link_host_loopback(struct link_cfg *lc, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	lc->no_host_loopback = !yes;
	lc->host_loopback_set = true;
	return 0;
}

/**
 * set_name() - a link's name: up to LINK_NAME_MAX - 1 printable characters, no blanks, '/' or
 * quotes (it appears in listings, JSON and file names); "" = derived from the namespace
 * Return: 0, or -1 with @why set
 */
int set_name(struct link_cfg *lc, const char *v, char *why, size_t whylen)
{
	const char *p;

	if (!*v) {
		lc->name[0] = '\0'; /* derived from the namespace (link_cfg_check()) */
		return 0;
	}
	if (strlen(v) >= sizeof(lc->name)) {
		snprintf(why, whylen, "\"%.40s\" is not a name of 1 to %d characters", v,
			 LINK_NAME_MAX - 1);
		return -1;
	}
	for (p = v; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == '"' || *p == '\\' ||
		    (unsigned char)*p >= 0x80) {
			snprintf(why, whylen,
				 "\"%.40s\": blanks, '/', quotes and non-ASCII are not allowed", v);
			return -1;
		}
	}
	snprintf(lc->name, sizeof(lc->name), "%s", v);
	return 0;
}

static int set_link_deny(struct link_cfg *lc, const char *v, char *why, size_t whylen)
{
	return policy_set_deny(&lc->policy, v, why, whylen);
}

static int set_link_deny_link_local(struct link_cfg *lc, const char *v, char *why,
				    size_t whylen)
{
	return parse_bool(v, &lc->policy.deny_link_local, why, whylen);
}

static int set_link_deny_host_addrs(struct link_cfg *lc, const char *v, char *why,
				    size_t whylen)
{
	return parse_bool(v, &lc->policy.deny_host_addrs, why, whylen);
}

/**
 * struct link_key - one key of a [link] or [link NAME] section
 * @key:	its name
 * @set:	the setter shared with the command line
 */
static const struct link_key {
	const char *key;
	link_setter set;
} link_keys[] = {
	{ "netns", set_netns },
	{ "pid", set_pid },
	{ "ifname", set_ifname },
	{ "address", set_address },
	{ "gateway", set_gateway },
	{ "dns", set_dns },
	{ "mtu", set_mtu },
	{ "configure", set_configure },
	{ "dhcp", set_dhcp },
	{ "offload", set_offload },
	{ "host-loopback", set_link_host_loopback },
	{ "name", set_name },
	{ "ipv6", set_ipv6 },
	{ "ipv6-prefix", set_ipv6_prefix },
	{ "outbound-addr6", set_outbound_addr6 },
	{ "deny", set_link_deny },
	{ "deny-link-local", set_link_deny_link_local },
	{ "deny-host-addresses", set_link_deny_host_addrs },
};

int link_cfg_set(struct link_cfg *lc, const char *key, const char *value, char *why,
		 size_t whylen)
{
	for (size_t i = 0; i < sizeof(link_keys) / sizeof(link_keys[0]); i++)
		if (!strcmp(key, link_keys[i].key))
			return link_keys[i].set(lc, value, why, whylen) ? -1 : 0;
	snprintf(why, whylen, "unknown key");
	return -2;
}

/**
 * in_subnet() - is @a inside @net/@prefix?
 * Return: true if so
 */
static bool in_subnet(uint32_t a, uint32_t net, unsigned int prefix)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;

	return (a & mask) == (net & mask);
}

int link_cfg_check(struct link_cfg *lc, char *err, size_t errlen)
{
	uint32_t mask = ~0u << (32 - lc->prefix_len);
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
	struct in_addr ia;

	ia.s_addr = htonl(lc->addr);
	inet_ntop(AF_INET, &ia, a, sizeof(a));
	ia.s_addr = htonl(lc->gateway);
	inet_ntop(AF_INET, &ia, g, sizeof(g));
	ia.s_addr = htonl(lc->dns);
	inet_ntop(AF_INET, &ia, n, sizeof(n));

	if (!link_cfg_has_ns(lc)) {
		snprintf(err, errlen, "%s%sno namespace: give netns or pid", lc->name,
			 lc->name[0] ? ": " : "");
		return -1;
	}
	if (!lc->name[0]) {
		/* the namespace file's basename, or "pid:N" */
		const char *base = strrchr(lc->netns, '/');

		if (lc->pid)
			snprintf(lc->name, sizeof(lc->name), "pid:%d", lc->pid);
		else
			snprintf(lc->name, sizeof(lc->name), "%.*s", (int)sizeof(lc->name) - 1,
				 base ? base + 1 : lc->netns);
	}
	/* RFC 919: the all-zeros and all-ones host parts name the network and its broadcast */
	if (!(lc->addr & ~mask) || (lc->addr & ~mask) == ~mask) {
		snprintf(err, errlen, "%s: address %s/%u is the network or broadcast address",
			 lc->name, a, lc->prefix_len);
		return -1;
	}
	if (!in_subnet(lc->gateway, lc->addr, lc->prefix_len) || lc->gateway == lc->addr) {
		snprintf(err, errlen, "%s: gateway %s must be another address inside %s/%u",
			 lc->name, g, a, lc->prefix_len);
		return -1;
	}
	if (!in_subnet(lc->dns, lc->addr, lc->prefix_len) || lc->dns == lc->addr) {
		snprintf(err, errlen, "%s: dns %s must be another address inside %s/%u", lc->name,
			 n, a, lc->prefix_len);
		return -1;
	}
	return 0;
}
