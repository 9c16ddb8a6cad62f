/* config.c - tapird's configuration: defaults, the INI file (libinih), the command line.
 *
 * Both sources go through the same setters, so a value means the same thing and is checked the
 * same way wherever it comes from; only the message prefix differs ("--mtu: ..." on the
 * command line, "FILE:LINE: mtu: ..." in the file). Parsing only: nothing here touches the
 * network or the file system beyond reading the file.
 */
#include "config.h"
#include "log.h"
#include "sandbox.h"
#include "stack.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

/* Bounds that are ours, not the stack's */
#define CONFIG_MAX_TIME_WAIT_S 3600	/* RFC 9293 suggests 2MSL = 4 min; an hour is plenty */
#define CONFIG_MAX_UDP_TIMEOUT_S 86400 /* a day: anything longer is a leak, not a flow */
#define CONFIG_MAX_IDLE_TIMEOUT_S (7u * 86400) /* a week: beyond, "off" says it better */
#define CONFIG_MAX_SOCK_MEM_MIB (1u << 20)	/* 1 TiB: a bound, not a limit anyone hits */
#define CONFIG_MAX_FLOWS (1u << 20)	/* each TCP flow holds a host socket: RLIMIT_NOFILE */
#define CONFIG_MAX_CLOSED_HISTORY 1000000 /* ~0.5 KiB per closed flow remembered */
#define CONFIG_DEFAULT_CLOSED_HISTORY 1024
#define CONFIG_NETNS_DIR "/run/netns/"	/* where iproute2 pins named namespaces */

/**
 * struct config_src - what one source (file or command line) has set so far
 * @netns:	it named a namespace path
 * @pid:	it named a process
 */
struct config_src {
	bool netns;
	bool pid;
};

/* Every setter: apply @v to @c, or write why it is wrong into @why and return -1. */
typedef int (*config_setter)(struct config *c, const char *v, char *why, size_t whylen);
/* The same for a key of one link */
typedef int (*link_setter)(struct link_cfg *lc, const char *v, char *why, size_t whylen);

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

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	link_cfg_defaults(&c->link);
	snprintf(c->control, sizeof(c->control), "%s", CONFIG_DEFAULT_CONTROL);
	snprintf(c->capture_dir, sizeof(c->capture_dir), "%s", CONFIG_DEFAULT_CAPTURE_DIR);
	snprintf(c->user, sizeof(c->user), "%s", CONFIG_DEFAULT_USER);
	c->seccomp = SANDBOX_SECCOMP_KILL;
	c->log_level = LOG_LVL_INFO;
	c->time_wait_s = STACK_DEFAULT_TIME_WAIT_MS / 1000;
	c->max_flows = STACK_DEFAULT_MAX_FLOWS;
	c->max_half_open = STACK_DEFAULT_MAX_HALF_OPEN;
	c->udp_timeout_s = STACK_DEFAULT_UDP_TIMEOUT_MS / 1000;
	c->udp_timeout_stream_s = STACK_DEFAULT_UDP_TIMEOUT_STREAM_MS / 1000;
	c->max_udp_flows = STACK_DEFAULT_MAX_UDP_FLOWS;
	c->closed_history = CONFIG_DEFAULT_CLOSED_HISTORY;
}

/**
 * parse_u32() - a decimal number in [@min, @max], digits only (no sign, no blanks)
 * Return: 0, or -1 with @why set
 */
static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out, char *why,
		     size_t whylen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoul(v, &end, 10) : 0;
	if (*v < '0' || *v > '9' || *end || errno || n < min || n > max) {
		snprintf(why, whylen, "\"%s\" is not a number between %u and %u", v, min, max);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/**
 * parse_bool() - yes/no, true/false, on/off, 1/0 (any case)
 * Return: 0, or -1 with @why set
 */
static int parse_bool(const char *v, bool *out, char *why, size_t whylen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	unsigned int i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	snprintf(why, whylen, "\"%s\" is not yes or no", v);
	return -1;
}

/**
 * parse_ip4() - a dotted-quad IPv4 address usable as a host address
 * @out:	the address in host byte order
 * Return: 0, or -1 with @why set
 */
static int parse_ip4(const char *v, uint32_t *out, char *why, size_t whylen)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, v, &a) != 1) {
		snprintf(why, whylen, "\"%s\" is not an IPv4 address", v);
		return -1;
	}
	h = ntohl(a.s_addr);
	/* RFC 1122 3.2.1.3: 0/8, 127/8, class D/E and broadcast are never a host's address */
	if ((h >> 24) == 0 || (h >> 24) == 127 || h >= 0xe0000000u) {
		snprintf(why, whylen, "\"%s\" is not a unicast host address", v);
		return -1;
	}
	*out = h;
	return 0;
}

static int set_netns(struct link_cfg *c, const char *v, char *why, size_t whylen)
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

static int set_pid(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	uint32_t pid;

	if (parse_u32(v, 1, 0x7fffffff, &pid, why, whylen))
		return -1;
	c->pid = (int)pid;
	c->netns[0] = '\0';
	return 0;
}

static int set_ifname(struct link_cfg *c, const char *v, char *why, size_t whylen)
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

static int set_address(struct link_cfg *c, const char *v, char *why, size_t whylen)
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
static int set_ipv6_prefix(struct link_cfg *c, const char *v, char *why, size_t whylen)
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
static int set_outbound_addr6(struct link_cfg *c, const char *v, char *why, size_t whylen)
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

static int set_gateway(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	return parse_ip4(v, &c->gateway, why, whylen);
}

static int set_dns(struct link_cfg *c, const char *v, char *why, size_t whylen)
{
	return parse_ip4(v, &c->dns, why, whylen);
}

static int set_mtu(struct link_cfg *c, const char *v, char *why, size_t whylen)
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

static int set_control(struct config *c, const char *v, char *why, size_t whylen)
{
	struct sockaddr_un sun;

	if (*v != '/' || strlen(v) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "\"%s\" is not an absolute path shorter than %zu bytes", v,
			 sizeof(sun.sun_path));
		return -1;
	}
	snprintf(c->control, sizeof(c->control), "%s", v);
	return 0;
}

/* capture-dir: trust (owner, mode, no symbolic link) is checked at each capture's start */
static int set_capture_dir(struct config *c, const char *v, char *why, size_t whylen)
{
	if (*v != '/' || strlen(v) >= sizeof(c->capture_dir)) {
		snprintf(why, whylen, "\"%s\" is not an absolute path", v);
		return -1;
	}
	snprintf(c->capture_dir, sizeof(c->capture_dir), "%s", v);
	return 0;
}

/* user: a name (or number) of at most 63 bytes; whether it exists is checked at start */
static int set_user(struct config *c, const char *v, char *why, size_t whylen)
{
	if (!*v || strlen(v) >= sizeof(c->user) || strchr(v, '/') || strchr(v, ':')) {
		snprintf(why, whylen, "\"%s\" is not a user name", v);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", v);
	return 0;
}

static int set_seccomp(struct config *c, const char *v, char *why, size_t whylen)
{
	enum sandbox_seccomp m;

	if (sandbox_seccomp_parse(v, &m)) {
		snprintf(why, whylen, "\"%s\" is not kill, log or off", v);
		return -1;
	}
	c->seccomp = (int)m;
	return 0;
}

/**
 * set_group() - a group name or number ("" = none); existence is checked when it is used
 * Return: 0, or -1 with @why set
 */
static int set_group(char *dst, size_t dstlen, const char *v, char *why, size_t whylen)
{
	const char *p;

	if (strlen(v) >= dstlen || *v == '-') {
		snprintf(why, whylen, "\"%s\" is not a group name", v);
		return -1;
	}
	for (p = v; *p; p++) {
		if (*p == ':' || *p == '/' || *p <= ' ' || *p == 0x7f) {
			snprintf(why, whylen, "\"%s\" is not a group name", v);
			return -1;
		}
	}
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

static int set_control_group(struct config *c, const char *v, char *why, size_t whylen)
{
	return set_group(c->control_group, sizeof(c->control_group), v, why, whylen);
}

static int set_admin_group(struct config *c, const char *v, char *why, size_t whylen)
{
	return set_group(c->admin_group, sizeof(c->admin_group), v, why, whylen);
}

static int set_log_level(struct config *c, const char *v, char *why, size_t whylen)
{
	int level = log_level_parse(v);

	if (level < 0) {
		snprintf(why, whylen, "\"%s\" is not one of error, warn, info, debug", v);
		return -1;
	}
	c->log_level = level;
	return 0;
}

static int set_host_loopback(struct config *c, const char *v, char *why, size_t whylen)
{
	bool yes;

	if (parse_bool(v, &yes, why, whylen))
		return -1;
	c->no_host_loopback = !yes;
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
static int set_name(struct link_cfg *lc, const char *v, char *why, size_t whylen)
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

static int set_time_wait(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_TIME_WAIT_S, &c->time_wait_s, why, whylen);
}

static int set_max_flows(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_FLOWS, &c->max_flows, why, whylen);
}

static int set_max_half_open(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_FLOWS, &c->max_half_open, why, whylen);
}

static int set_udp_timeout(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_UDP_TIMEOUT_S, &c->udp_timeout_s, why, whylen);
}

static int set_udp_timeout_stream(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_UDP_TIMEOUT_S, &c->udp_timeout_stream_s, why, whylen);
}

static int set_max_udp_flows(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_FLOWS, &c->max_udp_flows, why, whylen);
}

/**
 * policy_set_deny() - add one deny rule (repeatable key) to @p
 * Return: 0, or -1 with @why set
 */
static int policy_set_deny(struct policy *p, const char *v, char *why, size_t whylen)
{
	return policy_add(p, v, why, whylen) ? -1 : 0;
}

static int set_deny(struct config *c, const char *v, char *why, size_t whylen)
{
	return policy_set_deny(&c->policy, v, why, whylen);
}

static int set_deny_link_local(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_bool(v, &c->policy.deny_link_local, why, whylen);
}

static int set_deny_host_addrs(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_bool(v, &c->policy.deny_host_addrs, why, whylen);
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

static int set_idle_timeout(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_IDLE_TIMEOUT_S, &c->idle_timeout_s, why, whylen);
}

static int set_max_per_dest(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_FLOWS, &c->max_per_dest, why, whylen);
}

/**
 * set_max_sock_mem() - [tcp] max-socket-memory in MiB (0: no bound)
 * Return: 0, or -1 with @why set
 */
static int set_max_sock_mem(struct config *c, const char *v, char *why, size_t whylen)
{
	uint32_t mib;

	if (parse_u32(v, 0, CONFIG_MAX_SOCK_MEM_MIB, &mib, why, whylen))
		return -1;
	c->max_sock_mem = (uint64_t)mib << 20;
	return 0;
}

static int set_closed_history(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_CLOSED_HISTORY, &c->closed_history, why, whylen);
}

/**
 * set_metrics() - "ADDR:PORT" or "[IPV6]:PORT" for the Prometheus endpoint; "" or "off"
 * switches it off
 * Return: 0, or -1 with @why set
 */
static int set_metrics(struct config *c, const char *v, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 2];
	unsigned char a[16];
	const char *colon = strrchr(v, ':');
	uint32_t p;
	size_t n;

	if (!*v || !strcmp(v, "off")) {
		c->metrics[0] = '\0';
		return 0;
	}
	if (!colon || strlen(v) >= sizeof(c->metrics))
		goto bad;
	n = (size_t)(colon - v);
	if (*v == '[') {
		if (n < 2 || v[n - 1] != ']' || n - 2 >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, n - 2);
		host[n - 2] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			goto bad;
	} else {
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, v, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, a) != 1)
			goto bad;
	}
	if (parse_u32(colon + 1, 1, 65535, &p, why, whylen))
		goto bad;
	snprintf(c->metrics, sizeof(c->metrics), "%s", v);
	return 0;
bad:
	snprintf(why, whylen, "\"%s\" is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT) or off", v);
	return -1;
}

/**
 * add_forward() - append one forward specification (fwdspec.h) of protocol @proto
 * Return: 0, or -1 with @why set
 */
static int add_forward(struct config *c, uint8_t proto, const char *v, char *why,
		       size_t whylen)
{
	struct fwd_spec sp;
	char what[160];

	if (c->nforwards >= CONFIG_MAX_FORWARDS) {
		snprintf(why, whylen, "more than %d forwards", CONFIG_MAX_FORWARDS);
		return -1;
	}
	if (fwd_spec_parse(v, proto, &sp, what, sizeof(what))) {
		snprintf(why, whylen, "\"%.64s\": %s", v, what);
		return -1;
	}
	c->forwards[c->nforwards++] = sp;
	return 0;
}

static int set_tcp_forward(struct config *c, const char *v, char *why, size_t whylen)
{
	return add_forward(c, PROTO_TCP, v, why, whylen);
}

static int set_udp_forward(struct config *c, const char *v, char *why, size_t whylen)
{
	return add_forward(c, PROTO_UDP, v, why, whylen);
}

/**
 * set_dns_upstream() - "ADDR", "ADDR:PORT", "IPV6" or "[IPV6]:PORT"; stored as given
 * Return: 0, or -1 with @why set
 */
static int set_dns_upstream(struct config *c, const char *v, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	unsigned char a[16];
	uint32_t p;
	size_t n;

	if (strlen(v) >= sizeof(c->dns_upstream))
		goto bad;
	if (*v == '[') {
		const char *close = strchr(v, ']');

		if (!close || (n = (size_t)(close - v - 1)) >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, n);
		host[n] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			goto bad;
		if (inet_pton(AF_INET6, host, a) != 1)
			goto bad;
	} else if (strchr(v, ':') && strchr(v, ':') == strrchr(v, ':')) {
		n = (size_t)(strchr(v, ':') - v);
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, v, n);
		host[n] = '\0';
		port = v + n + 1;
		if (inet_pton(AF_INET, host, a) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
		goto bad;
	}
	if (port && parse_u32(port, 1, 65535, &p, why, whylen))
		goto bad;
	snprintf(c->dns_upstream, sizeof(c->dns_upstream), "%s", v);
	return 0;
bad:
	snprintf(why, whylen, "\"%s\" is not ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT)", v);
	return -1;
}

/**
 * struct config_key - one key of the file
 * @section:	its section
 * @key:	its name there
 * @set:	the setter shared with the command line
 */
static const struct config_key {
	const char *section;
	const char *key;
	config_setter set;
} config_keys[] = {
	{ "daemon", "control", set_control },
	{ "daemon", "control-group", set_control_group },
	{ "daemon", "admin-group", set_admin_group },
	{ "daemon", "capture-dir", set_capture_dir },
	{ "daemon", "user", set_user },
	{ "daemon", "seccomp", set_seccomp },
	{ "daemon", "log-level", set_log_level },
	{ "tcp", "time-wait", set_time_wait },
	{ "tcp", "max-flows", set_max_flows },
	{ "tcp", "max-half-open", set_max_half_open },
	{ "tcp", "host-loopback", set_host_loopback },
	{ "tcp", "idle-timeout", set_idle_timeout },
	{ "tcp", "max-per-destination", set_max_per_dest },
	{ "tcp", "max-socket-memory", set_max_sock_mem },
	{ "policy", "deny", set_deny },
	{ "policy", "deny-link-local", set_deny_link_local },
	{ "policy", "deny-host-addresses", set_deny_host_addrs },
	{ "dns", "upstream", set_dns_upstream },
	{ "forward", "tcp", set_tcp_forward },
	{ "forward", "udp", set_udp_forward },
	{ "udp", "timeout", set_udp_timeout },
	{ "udp", "timeout-stream", set_udp_timeout_stream },
	{ "udp", "max-flows", set_max_udp_flows },
	{ "monitor", "closed-history", set_closed_history },
	{ "monitor", "metrics", set_metrics },
};

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
 * struct ini_ctx - state of one file parse
 * @f:		the file
 * @line:	number of the line last read (inih counts the same way)
 * @c:		the configuration being built (copied out only if the whole file is good)
 * @src:	what the file set in [link], to refuse both netns and pid
 * @lsrc:	the same for each [link NAME] section (indexed like c.links)
 * @err_line:	line of the first error found by us (0 = none)
 * @msg:	its message, without the "FILE:LINE: " prefix
 */
struct ini_ctx {
	FILE *f;
	unsigned int line;
	struct config c;
	struct config_src src;
	struct config_src lsrc[CONFIG_MAX_LINKS];
	unsigned int err_line;
	char msg[256];
};

/**
 * ini_fail() - record the first error of the file (at the line just read)
 * Return: 0, what inih expects from a handler that refuses
 */
static int ini_fail(struct ini_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err_line)
		return 0;
	x->err_line = x->line;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/**
 * ini_read_line() - inih's line reader: fgets() that counts lines and refuses long ones
 *
 * inih would silently split a line longer than its buffer into two; and it goes on after an
 * error, so this reader also stops the parse at the first error the handler recorded.
 * Return: @str, or NULL at the end (or to stop)
 */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *x = stream;
	size_t len;
	int ch;

	if (x->err_line || !fgets(str, num, x->f))
		return NULL;
	x->line++;
	len = strlen(str);
	if (len && str[len - 1] != '\n' && (ch = getc(x->f)) != EOF) {
		ungetc(ch, x->f);
		ini_fail(x, "line longer than %d characters", num - 2);
		return NULL;
	}
	return str;
}

/**
 * ini_link() - the link a [link] or [link NAME] section sets, created at its first key
 * @src:	set to what that section has set so far
 * Return: the link, or NULL with the error recorded
 */
static struct link_cfg *ini_link(struct ini_ctx *x, const char *section,
				 struct config_src **src)
{
	const char *name = section + 4;
	char why[200];
	unsigned int i;

	if (!*name) {
		*src = &x->src;
		return &x->c.link;
	}
	while (*name == ' ' || *name == '\t')
		name++;
	for (i = 0; i < x->c.nlinks; i++) {
		if (!strcmp(x->c.links[i].name, name)) {
			*src = &x->lsrc[i];
			return &x->c.links[i];
		}
	}
	if (x->c.nlinks >= CONFIG_MAX_LINKS) {
		ini_fail(x, "[%s]: more than %d [link NAME] sections", section, CONFIG_MAX_LINKS);
		return NULL;
	}
	link_cfg_defaults(&x->c.links[x->c.nlinks]);
	if (set_name(&x->c.links[x->c.nlinks], name, why, sizeof(why))) {
		ini_fail(x, "[%s]: %s", section, why);
		return NULL;
	}
	*src = &x->lsrc[x->c.nlinks];
	return &x->c.links[x->c.nlinks++];
}

/**
 * config_ini_link_key() - one "key = value" of a [link] or [link NAME] section
 * Return: 1 if applied, 0 (with the message recorded) if refused
 */
static int config_ini_link_key(struct ini_ctx *x, const char *section, const char *name,
			       const char *value)
{
	struct config_src *src;
	struct link_cfg *lc = ini_link(x, section, &src);
	char why[200];

	if (!lc)
		return 0;
	if (section[4] && !strcmp(name, "name"))
		return ini_fail(x, "name: [%s] names its link already", section);
	switch (link_cfg_set(lc, name, value, why, sizeof(why))) {
	case 0:
		break;
	case -2:
		return ini_fail(x, "%s: unknown key in [%s]", name, section);
	default:
		return ini_fail(x, "%s: %s", name, why);
	}
	if (!strcmp(name, "netns"))
		src->netns = true;
	if (!strcmp(name, "pid"))
		src->pid = true;
	if (src->netns && src->pid)
		return ini_fail(x, "%s: give either netns or pid, not both", name);
	return 1;
}

/**
 * config_ini_key() - one "key = value" of section @section
 * Return: 1 if applied, 0 (with the message recorded) if refused
 */
static int config_ini_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	bool section_known = false;
	char why[200];
	unsigned int i;

	if (!*section)
		return ini_fail(x, "%s: key outside of any [section]", name);
	if (!strcmp(section, "link") || !strncmp(section, "link ", 5))
		return config_ini_link_key(x, section, name, value);
	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(section, k->section))
			continue;
		section_known = true;
		if (strcmp(name, k->key))
			continue;
		if (k->set(&x->c, value, why, sizeof(why)))
			return ini_fail(x, "%s: %s", name, why);
		return 1;
	}
	if (!section_known)
		return ini_fail(x, "[%s]: unknown section", section);
	return ini_fail(x, "%s: unknown key in [%s]", name, section);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return config_load_fd(c, fd, path, err, errlen);
}

int config_load_fd(struct config *c, int fd, const char *path, char *err, size_t errlen)
{
	struct ini_ctx x;
	int ret;

	memset(&x, 0, sizeof(x));
	x.c = *c;
	x.f = fdopen(fd, "re");
	if (!x.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ret = ini_parse_stream(ini_read_line, &x, config_ini_key, &x);
	if (!ret && ferror(x.f)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -1;
	}
	fclose(x.f);
	if (ret > 0 && (!x.err_line || (unsigned int)ret < x.err_line)) {
		snprintf(err, errlen, "%s:%d: not \"key = value\", \"[section]\" or a comment",
			 path, ret);
		return -1;
	}
	if (x.err_line) {
		snprintf(err, errlen, "%s:%u: %s", path, x.err_line, x.msg);
		return -1;
	}
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, ret == -2 ? "out of memory" : "read error");
		return -1;
	}
	*c = x.c;
	if (!realpath(path, c->config_path))
		snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	return 0;
}

/* Long options that have no short form */
enum {
	OPT_NETNS = 256,
	OPT_PID,
	OPT_IFNAME,
	OPT_ADDRESS,
	OPT_GATEWAY,
	OPT_DNS,
	OPT_MTU,
	OPT_NO_CONFIGURE,
	OPT_NO_OFFLOAD,
	OPT_CONTROL,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_NO_HOST_LOOPBACK,
	OPT_TIME_WAIT,
	OPT_MAX_FLOWS,
	OPT_MAX_HALF_OPEN,
	OPT_DNS_UPSTREAM,
	OPT_UDP_TIMEOUT,
	OPT_UDP_TIMEOUT_STREAM,
	OPT_MAX_UDP_FLOWS,
	OPT_CLOSED_HISTORY,
	OPT_METRICS,
	OPT_NAME,
	OPT_IPV6_PREFIX,
	OPT_NO_IPV6,
	OPT_OUTBOUND_ADDR6,
	OPT_CAPTURE_DIR,
	OPT_DENY,
	OPT_DENY_LINK_LOCAL,
	OPT_DENY_HOST_ADDRS,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_PER_DEST,
	OPT_MAX_SOCK_MEM,
	OPT_USER,
	OPT_SECCOMP,
};

static const struct option config_longopts[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'c' },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "ifname", required_argument, NULL, OPT_IFNAME },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "tcp-forward", required_argument, NULL, 't' },
	{ "udp-forward", required_argument, NULL, 'u' },
	{ "no-configure", no_argument, NULL, OPT_NO_CONFIGURE },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
	{ "time-wait", required_argument, NULL, OPT_TIME_WAIT },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "max-half-open", required_argument, NULL, OPT_MAX_HALF_OPEN },
	{ "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
	{ "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },
	{ "udp-timeout-stream", required_argument, NULL, OPT_UDP_TIMEOUT_STREAM },
	{ "max-udp-flows", required_argument, NULL, OPT_MAX_UDP_FLOWS },
	{ "closed-history", required_argument, NULL, OPT_CLOSED_HISTORY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ipv6-prefix", required_argument, NULL, OPT_IPV6_PREFIX },
	{ "no-ipv6", no_argument, NULL, OPT_NO_IPV6 },
	{ "outbound-addr6", required_argument, NULL, OPT_OUTBOUND_ADDR6 },
	{ "capture-dir", required_argument, NULL, OPT_CAPTURE_DIR },
	{ "deny", required_argument, NULL, OPT_DENY },
	{ "deny-link-local", no_argument, NULL, OPT_DENY_LINK_LOCAL },
	{ "deny-host-addresses", no_argument, NULL, OPT_DENY_HOST_ADDRS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-per-destination", required_argument, NULL, OPT_MAX_PER_DEST },
	{ "max-socket-memory", required_argument, NULL, OPT_MAX_SOCK_MEM },
	{ "user", required_argument, NULL, OPT_USER },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ NULL, 0, NULL, 0 },
};

/* leading ':' so that a missing value is reported as ':' and we write the message */
static const char config_shortopts[] = ":fc:ht:u:";

/**
 * opt_setter() - the setter behind a long option that takes a value
 * Return: the setter, or NULL for options handled in place
 */
static config_setter opt_setter(int opt)
{
	switch (opt) {
	case 't':		return set_tcp_forward;
	case 'u':		return set_udp_forward;
	case OPT_CONTROL:	return set_control;
	case OPT_LOG_LEVEL:	return set_log_level;
	case OPT_TIME_WAIT:	return set_time_wait;
	case OPT_MAX_FLOWS:	return set_max_flows;
	case OPT_MAX_HALF_OPEN:	return set_max_half_open;
	case OPT_DNS_UPSTREAM:	return set_dns_upstream;
	case OPT_UDP_TIMEOUT:	return set_udp_timeout;
	case OPT_UDP_TIMEOUT_STREAM: return set_udp_timeout_stream;
	case OPT_MAX_UDP_FLOWS:	return set_max_udp_flows;
	case OPT_CLOSED_HISTORY: return set_closed_history;
	case OPT_METRICS:	return set_metrics;
	case OPT_CAPTURE_DIR:	return set_capture_dir;
	case OPT_DENY:		return set_deny;
	case OPT_IDLE_TIMEOUT:	return set_idle_timeout;
	case OPT_MAX_PER_DEST:	return set_max_per_dest;
	case OPT_MAX_SOCK_MEM:	return set_max_sock_mem;
	case OPT_USER:		return set_user;
	case OPT_SECCOMP:	return set_seccomp;
	default:		return NULL;
	}
}

/**
 * opt_link_setter() - the setter behind a long option that sets the command line's link
 * Return: the setter, or NULL for other options
 */
static link_setter opt_link_setter(int opt)
{
	switch (opt) {
	case OPT_NETNS:		return set_netns;
	case OPT_PID:		return set_pid;
	case OPT_IFNAME:	return set_ifname;
	case OPT_ADDRESS:	return set_address;
	case OPT_GATEWAY:	return set_gateway;
	case OPT_DNS:		return set_dns;
	case OPT_MTU:		return set_mtu;
	case OPT_NAME:		return set_name;
	case OPT_IPV6_PREFIX:	return set_ipv6_prefix;
	case OPT_OUTBOUND_ADDR6: return set_outbound_addr6;
	default:		return NULL;
	}
}

/**
 * opt_name() - how the user spelled option @opt, for messages
 * Return: "--name" (static storage)
 */
static const char *opt_name(int opt)
{
	static char buf[32];
	const struct option *o;

	for (o = config_longopts; o->name; o++) {
		if (o->val == opt) {
			snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	}
	return "?";
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

/**
 * config_check() - the rules that span options, once every source is applied: each link's
 * own (link_cfg_check()), unique names, and the daemon's limits
 * Return: 0, or -1 with a message in @err
 */
static int config_check(struct config *c, char *err, size_t errlen)
{
	struct link_cfg *all[CONFIG_MAX_LINKS + 1];
	unsigned int n = 0, i, j;

	if (link_cfg_has_ns(&c->link))
		all[n++] = &c->link;
	for (i = 0; i < c->nlinks; i++)
		all[n++] = &c->links[i];
	for (i = 0; i < n; i++) {
		/* [tcp] host-loopback is the default of every link that does not say */
		if (!all[i]->host_loopback_set)
			all[i]->no_host_loopback = c->no_host_loopback;
		if (link_cfg_check(all[i], err, errlen))
			return -1;
		for (j = 0; j < i; j++) {
			if (!strcmp(all[i]->name, all[j]->name)) {
				snprintf(err, errlen, "two links are named \"%s\"", all[i]->name);
				return -1;
			}
		}
	}
	if (c->max_half_open > c->max_flows) {
		snprintf(err, errlen, "max-half-open %u is more than max-flows %u",
			 c->max_half_open, c->max_flows);
		return -1;
	}
	return 0;
}

/**
 * bad_option() - the message for getopt's '?' and ':' answers
 * @argv:	the command line
 * @opt:	what getopt_long returned
 */
static void bad_option(char **argv, int opt, char *err, size_t errlen)
{
	const char *tok = argv[optind - 1];

	if (optopt && optopt < 256 && !(tok[0] == '-' && tok[1] == '-')) {
		snprintf(err, errlen, "-%c: %s", optopt,
			 opt == ':' ? "needs a value" : "unknown option");
		return;
	}
	if (opt == ':')
		snprintf(err, errlen, "%s: needs a value", tok);
	else if (optopt && strchr(tok, '='))
		snprintf(err, errlen, "%s: %s takes no value", tok, opt_name(optopt));
	else
		snprintf(err, errlen, "%s: unknown option", tok);
}

int config_parse_args(struct config *c, int argc, char **argv, enum config_action *action,
		      char *err, size_t errlen)
{
	struct config_src src = { 0 };
	const char *file = NULL;
	struct config n = *c;
	char why[200];
	int opt;

	*action = CONFIG_RUN;
	opterr = 0;

	/* First pass: only -c, --help and --version, so the file goes under every flag. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, config_shortopts, config_longopts, NULL)) != -1) {
		if (opt == 'c')
			file = optarg;
		else if (opt == 'h')
			*action = CONFIG_HELP;
		else if (opt == OPT_VERSION && *action == CONFIG_RUN)
			*action = CONFIG_VERSION;
	}
	if (*action != CONFIG_RUN)
		return 0;
	if (file && config_load_file(&n, file, err, errlen))
		return -1;

	optind = 0;
	while ((opt = getopt_long(argc, argv, config_shortopts, config_longopts, NULL)) != -1) {
		config_setter set = opt_setter(opt);
		link_setter lset = opt_link_setter(opt);

		if (lset) {
			if (lset(&n.link, optarg, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", opt_name(opt), why);
				return -1;
			}
			if (opt == OPT_NETNS)
				src.netns = true;
			if (opt == OPT_PID)
				src.pid = true;
			if (src.netns && src.pid) {
				snprintf(err, errlen, "%s: give either --netns or --pid, not both",
					 opt_name(opt));
				return -1;
			}
			continue;
		}
		if (set) {
			if (set(&n, optarg, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", opt_name(opt), why);
				return -1;
			}
			if (opt == OPT_LOG_LEVEL)
				n.log_level_from_args = true;
			continue;
		}
		switch (opt) {
		case 'f':
			n.foreground = true;
			break;
		case 'c':
			break;
		case OPT_NO_CONFIGURE:
			n.link.no_configure = true;
			break;
		case OPT_NO_OFFLOAD:
			n.link.no_offload = true;
			break;
		case OPT_NO_HOST_LOOPBACK:
			n.link.no_host_loopback = true;
			n.link.host_loopback_set = true;
			break;
		case OPT_NO_IPV6:
			n.link.no_ipv6 = true;
			break;
		case OPT_DENY_LINK_LOCAL:
			n.policy.deny_link_local = true;
			break;
		case OPT_DENY_HOST_ADDRS:
			n.policy.deny_host_addrs = true;
			break;
		default:
			bad_option(argv, opt, err, errlen);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "\"%s\": unexpected argument (see --help)", argv[optind]);
		return -1;
	}
	/* A namespace on the command line says which container this daemon is for: the shared
	 * file's [link NAME] sections belong to another daemon (tapird@NAME.service beside
	 * tapird.service reads the same file) */
	if (src.netns || src.pid)
		n.nlinks = 0;
	if (config_check(&n, err, errlen))
		return -1;
	*c = n;
	return 0;
}

const char *config_usage(void)
{
	return "Usage: tapird [-f] [-c FILE] [--netns PATH|NAME | --pid PID] [options]\n"
	       "Give network namespaces their network through TAPs served by tapird's own stack.\n"
	       "With no namespace (here or in the file's [link] sections) tapird starts with no\n"
	       "link and waits for `tapirctl attach`.\n"
	       "\n"
	       "  -f, --foreground        stay in the foreground (systemd runs it so)\n"
	       "  -c, --config FILE       read FILE (INI, see tapird.conf) before the flags\n"
	       "      --netns PATH|NAME   the namespace: a path, or NAME for /run/netns/NAME\n"
	       "      --pid PID           or: the namespace of process PID (/proc/PID/ns/net)\n"
	       "      --name NAME         the link's name (the namespace's basename, or pid:N)\n"
	       "      --ifname NAME       TAP name in the namespace (" CONFIG_DEFAULT_IFNAME ")\n"
	       "      --address CIDR      container address (10.0.2.100/24)\n"
	       "      --gateway ADDR      gateway; connections to it reach the host's loopback "
	       "(10.0.2.2)\n"
	       "      --dns ADDR          DNS address, forwarded to the host's resolver "
	       "(10.0.2.3)\n"
	       "      --mtu N             TAP MTU, 576 to 65521 (65520)\n"
	       "      --ipv6-prefix PREFIX/LEN  IPv6 prefix: container ::100, gateway ::2, DNS ::3\n"
	       "                          of it, advertised for SLAAC (fd00::/64)\n"
	       "      --no-ipv6           no IPv6 on the link\n"
	       "      --outbound-addr6 ADDR  source address of IPv6 upstream sockets (a unicast\n"
	       "                          address of the host; default: the kernel chooses)\n"
	       "      --no-configure      create the TAP but set no address, route, MTU or state\n"
	       "      --no-offload        no TAP offloads: no 64 KiB super-frames (GSO) or partial\n"
	       "                          checksums with the container's kernel\n"
	       "      --control PATH      control socket (" CONFIG_DEFAULT_CONTROL ")\n"
	       "      --log-level LEVEL   error, warn, info or debug (info)\n"
	       "      --no-host-loopback  the gateway address does not lead to the host's "
	       "loopback\n"
	       "  -t, --tcp-forward [HOSTADDR:]HOSTPORT:CONTAINERPORT\n"
	       "                          forward a host TCP port into the container (repeatable;\n"
	       "                          ranges 8000-8010:80-90; HOSTADDR 0.0.0.0)\n"
	       "  -u, --udp-forward [HOSTADDR:]HOSTPORT:CONTAINERPORT  the same for UDP\n"
	       "      --time-wait SECONDS TCP TIME_WAIT (2MSL), 0 to 3600 (60)\n"
	       "      --max-flows N       flows per link, 1 to 1048576 (65536)\n"
	       "      --max-half-open N   TCP connections waiting for their upstream, per link "
	       "(1024)\n"
	       "      --dns-upstream ADDR[:PORT]  resolver to forward to (first nameserver of\n"
	       "                          /etc/resolv.conf)\n"
	       "      --udp-timeout SECONDS  idle UDP flow without a reply, 1 to 86400 (30)\n"
	       "      --udp-timeout-stream SECONDS  idle UDP flow with replies (180)\n"
	       "      --max-udp-flows N   UDP flows per link, 0 to 1048576 (4096)\n"
	       "      --closed-history N  closed flows remembered, 0 to 1000000 (1024)\n"
	       "      --metrics ADDR:PORT serve Prometheus metrics at http://ADDR:PORT/metrics"
	       " (off)\n"
	       "      --capture-dir DIR   where `tapirctl capture` files go (" CONFIG_DEFAULT_CAPTURE_DIR
	       ")\n"
	       "      --deny RULE         deny every link CIDR[:PORT[-PORT]] [tcp|udp|any]\n"
	       "                          (repeatable; [policy] deny)\n"
	       "      --deny-link-local   deny 169.254.0.0/16 (cloud metadata) to every link\n"
	       "      --deny-host-addresses  deny the host's own non-loopback addresses\n"
	       "      --idle-timeout SECONDS  reset ESTABLISHED TCP flows idle this long (0: off)\n"
	       "      --max-per-destination N  upstream TCP connections per link towards one\n"
	       "                          ADDRESS:PORT (0: no cap)\n"
	       "      --max-socket-memory MIB  kernel socket buffers of a link's TCP flows (0: no"
	       " bound)\n"
	       "      --user NAME         the data path's user once started, as root (" CONFIG_DEFAULT_USER
	       ");\n"
	       "                          a privileged helper keeps setns/TAP/netlink (root: no\n"
	       "                          privilege separation)\n"
	       "      --seccomp MODE      the data path's system call filter: kill, log or off"
	       " (kill)\n"
	       "      --version           print the version and exit\n"
	       "  -h, --help              print this help and exit\n"
	       "\n"
	       "Flags override the file. Signals: SIGTERM/SIGINT stop, SIGHUP re-reads the log "
	       "level.\n"
	       "Started as `slirp4netns`, or as `tapird --slirp4netns-compat ARGS...`, it takes\n"
	       "slirp4netns 1.2's command line instead (see --slirp4netns-compat --help).\n";
}
