/* config_daemon.c - the daemon-wide keys ([daemon], [tcp], [udp], [policy], [dns], [forward],
 * [monitor] in the file, their options on the command line): the defaults, the setters and the
 * file's table of them (config_keys[]). Parsing only: nothing here touches the network.
 */
#include "config_internal.h"
#include "fwdspec.h"
#include "log.h"
#include "sandbox.h"
#include "stack.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

/* Bounds that are ours, not the stack's */
#define CONFIG_MAX_TIME_WAIT_S 3600	/* RFC 9293 suggests 2MSL = 4 min; an hour is plenty */
#define CONFIG_MAX_UDP_TIMEOUT_S 86400 /* a day: anything longer is a leak, not a flow */
#define CONFIG_MAX_IDLE_TIMEOUT_S (7u * 86400) /* a week: beyond, "off" says it better */
#define CONFIG_MAX_SOCK_MEM_MIB (1u << 20)	/* 1 TiB: a bound, not a limit anyone hits */
#define CONFIG_MAX_BUSY_POLL_US 10000 /* 10 ms: longer is a spinning daemon, not a poll */
#define CONFIG_MAX_FLOWS (1u << 20)	/* each TCP flow holds a host socket: RLIMIT_NOFILE */
#define CONFIG_MAX_CLOSED_HISTORY 1000000 /* ~0.5 KiB per closed flow remembered */
#define CONFIG_DEFAULT_CLOSED_HISTORY 1024

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	link_cfg_defaults(&c->link);
	snprintf(c->control, sizeof(c->control), "%s", CONFIG_DEFAULT_CONTROL);
	snprintf(c->capture_dir, sizeof(c->capture_dir), "%s", CONFIG_DEFAULT_CAPTURE_DIR);
	snprintf(c->user, sizeof(c->user), "%s", CONFIG_DEFAULT_USER);
	c->seccomp = SANDBOX_SECCOMP_KILL;
	c->busy_poll_us = CONFIG_DEFAULT_BUSY_POLL_US;
	c->log_level = LOG_LVL_INFO;
	c->time_wait_s = STACK_DEFAULT_TIME_WAIT_MS / 1000;
	c->max_flows = STACK_DEFAULT_MAX_FLOWS;
	c->max_half_open = STACK_DEFAULT_MAX_HALF_OPEN;
	c->udp_timeout_s = STACK_DEFAULT_UDP_TIMEOUT_MS / 1000;
	c->udp_timeout_stream_s = STACK_DEFAULT_UDP_TIMEOUT_STREAM_MS / 1000;
	c->max_udp_flows = STACK_DEFAULT_MAX_UDP_FLOWS;
	c->closed_history = CONFIG_DEFAULT_CLOSED_HISTORY;
}

int set_control(struct config *c, const char *v, char *why, size_t whylen)
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
int set_capture_dir(struct config *c, const char *v, char *why, size_t whylen)
{
	if (*v != '/' || strlen(v) >= sizeof(c->capture_dir)) {
		snprintf(why, whylen, "\"%s\" is not an absolute path", v);
		return -1;
	}
	snprintf(c->capture_dir, sizeof(c->capture_dir), "%s", v);
	return 0;
}

/* user: a name (or number) of at most 63 bytes; whether it exists is checked at start */
int set_user(struct config *c, const char *v, char *why, size_t whylen)
{
	if (!*v || strlen(v) >= sizeof(c->user) || strchr(v, '/') || strchr(v, ':')) {
		snprintf(why, whylen, "\"%s\" is not a user name", v);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", v);
	return 0;
}

int set_seccomp(struct config *c, const char *v, char *why, size_t whylen)
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

int set_log_level(struct config *c, const char *v, char *why, size_t whylen)
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

/**
 * set_busy_poll() - [daemon] busy-poll, --busy-poll: microseconds, 0 to 10000 (0: off)
 */
int set_busy_poll(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_BUSY_POLL_US, &c->busy_poll_us, why, whylen);
}

int set_time_wait(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_TIME_WAIT_S, &c->time_wait_s, why, whylen);
}

int set_max_flows(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_FLOWS, &c->max_flows, why, whylen);
}

int set_max_half_open(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_FLOWS, &c->max_half_open, why, whylen);
}

int set_udp_timeout(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_UDP_TIMEOUT_S, &c->udp_timeout_s, why, whylen);
}

int set_udp_timeout_stream(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 1, CONFIG_MAX_UDP_TIMEOUT_S, &c->udp_timeout_stream_s, why, whylen);
}

int set_max_udp_flows(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_FLOWS, &c->max_udp_flows, why, whylen);
}

int set_deny(struct config *c, const char *v, char *why, size_t whylen)
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

int set_idle_timeout(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_IDLE_TIMEOUT_S, &c->idle_timeout_s, why, whylen);
}

int set_max_per_dest(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_FLOWS, &c->max_per_dest, why, whylen);
}

/**
 * set_max_sock_mem() - [tcp] max-socket-memory in MiB (0: no bound)
 * Return: 0, or -1 with @why set
 */
int set_max_sock_mem(struct config *c, const char *v, char *why, size_t whylen)
{
	uint32_t mib;

	if (parse_u32(v, 0, CONFIG_MAX_SOCK_MEM_MIB, &mib, why, whylen))
		return -1;
	c->max_sock_mem = (uint64_t)mib << 20;
	return 0;
}

int set_closed_history(struct config *c, const char *v, char *why, size_t whylen)
{
	return parse_u32(v, 0, CONFIG_MAX_CLOSED_HISTORY, &c->closed_history, why, whylen);
}

/**
 * set_metrics() - "ADDR:PORT" or "[IPV6]:PORT" for the Prometheus endpoint; "" or "off"
 * switches it off
 * Return: 0, or -1 with @why set
 */
int set_metrics(struct config *c, const char *v, char *why, size_t whylen)
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

int set_tcp_forward(struct config *c, const char *v, char *why, size_t whylen)
{
	return add_forward(c, PROTO_TCP, v, why, whylen);
}

int set_udp_forward(struct config *c, const char *v, char *why, size_t whylen)
{
	return add_forward(c, PROTO_UDP, v, why, whylen);
}

/**
 * set_dns_upstream() - "ADDR", "ADDR:PORT", "IPV6" or "[IPV6]:PORT"; stored as given
 * Return: 0, or -1 with @why set
 */
int set_dns_upstream(struct config *c, const char *v, char *why, size_t whylen)
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

const struct config_key config_keys[] = {
	{ "daemon", "control", set_control },
	{ "daemon", "control-group", set_control_group },
	{ "daemon", "admin-group", set_admin_group },
	{ "daemon", "capture-dir", set_capture_dir },
	{ "daemon", "user", set_user },
	{ "daemon", "seccomp", set_seccomp },
	{ "daemon", "log-level", set_log_level },
	{ "daemon", "busy-poll", set_busy_poll },
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

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
