/* privsep.h - privilege separation: the small privileged helper that the unprivileged data
 * path asks, over a socketpair, for what needs privilege after start-up.
 *
 * The helper is forked at start-up, before any link is attached, and keeps CAP_SYS_ADMIN
 * (setns), CAP_NET_ADMIN (the TAP, netlink) and CAP_SYS_PTRACE when it had it (namespaces of
 * other users' processes by /proc/PID/ns/net); nothing else. It sets no_new_privs and
 * installs its own seccomp filter (sandbox_seccomp_helper(), the --seccomp mode of the data
 * path's): only the calls of its requests. It answers four requests, one
 * SOCK_SEQPACKET message each, whose replies carry descriptors by SCM_RIGHTS:
 *   ATTACH        a namespace path and the TAP's configuration -> the configured TAP's fd
 *                 and the namespace's netlink watch (link_tap_create() does the work)
 *   CAPTURE_OPEN  a bare file name -> a new file in the configured capture directory
 *   CONFIG_OPEN   (nothing) -> the configuration file given at start, for SIGHUP
 *   UNLINK_CONTROL (nothing) -> the control socket given at start is removed
 * The data path may be compromised: every request is checked (privsep_req_check()) against
 * fixed rules and what the configuration allowed at start; paths and names never come from
 * the request except a namespace path of the allowed shapes and a capture name. Must not:
 * touch the event loop or the stack; the helper serves one request at a time, blocking.
 */
#ifndef TAPIR_PRIVSEP_H
#define TAPIR_PRIVSEP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct link_cfg;
struct link_tap;

enum privsep_op {
	PRIVSEP_ATTACH = 1,
	PRIVSEP_CAPTURE_OPEN,
	PRIVSEP_CONFIG_OPEN,
	PRIVSEP_UNLINK_CONTROL,
};

/* struct privsep_req's flags */
#define PRIVSEP_F_NO_CONFIGURE (1u << 0)
#define PRIVSEP_F_NO_OFFLOAD (1u << 1)
#define PRIVSEP_F_TAP_REUSE (1u << 2)
#define PRIVSEP_F_NO_IPV6 (1u << 3)
#define PRIVSEP_F_HAS_MAC (1u << 4)
#define PRIVSEP_F_ALL 0x1fu

/* A namespace path: /run/netns/NAME with NAME up to 255 bytes, or one from the file */
#define PRIVSEP_PATH_MAX 512

/**
 * struct privsep_req - one request; exactly this size, or refused
 * @op:		enum privsep_op
 * @flags:	PRIVSEP_F_* (ATTACH)
 * @path:	ATTACH: the network namespace's path; CAPTURE_OPEN: the bare file name;
 *		NUL-terminated inside the field, NUL-padded
 * @ifname:	ATTACH: the TAP's name (the kernel's rules for a device name)
 * @mtu:	ATTACH: the TAP's MTU
 * @addr:	ATTACH: the container's IPv4 address (host order)
 * @gateway:	ATTACH: its gateway
 * @prefix_len:	ATTACH: 1 to 32
 * @prefix6_len: ATTACH: 1 to 128
 * @prefix6:	ATTACH: the IPv6 prefix
 * @mac:	ATTACH: the TAP's MAC when PRIVSEP_F_HAS_MAC
 */
struct privsep_req {
	uint32_t op;
	uint32_t flags;
	char path[PRIVSEP_PATH_MAX];
	char ifname[IFNAMSIZ];
	uint32_t mtu;
	uint32_t addr;
	uint32_t gateway;
	uint8_t prefix_len;
	uint8_t prefix6_len;
	uint8_t prefix6[16];
	uint8_t mac[6];
};

/**
 * struct privsep_allow - what the helper accepts besides the fixed shapes
 * @paths:	namespace paths the configuration named at start (its links)
 * @npaths:	used entries of @paths
 */
struct privsep_allow {
	const char *paths[65];
	unsigned int npaths;
};

/**
 * privsep_netns_path_ok() - whether @path is a namespace path the helper opens:
 * /run/netns/NAME or /var/run/netns/NAME (NAME one component, not "." or ".."),
 * /proc/PID/ns/net (PID decimal, no leading zero), or one of @allow's paths exactly
 * Return: true if so
 */
bool privsep_netns_path_ok(const char *path, const struct privsep_allow *allow);

/**
 * privsep_req_check() - check a request as received: @len bytes at @buf
 * @why, @whylen: what is wrong, for the reply
 * Return: 0 if the helper may act on it, -1 if not
 */
int privsep_req_check(const void *buf, size_t len, const struct privsep_allow *allow,
		      char *why, size_t whylen);

/**
 * privsep_req_attach() - the ATTACH request for link @lc in namespace @netns
 * Return: 0, or -1 with @err filled (a path too long for the protocol)
 */
int privsep_req_attach(struct privsep_req *r, const struct link_cfg *lc, const char *netns,
		       char *err, size_t errlen);

struct privsep;

/**
 * privsep_start() - fork the helper; it keeps CAP_SYS_ADMIN, CAP_NET_ADMIN and, when held,
 * CAP_SYS_PTRACE, sets no_new_privs, installs its seccomp filter (@cfg->seccomp), says it is
 * ready, and serves until the data path's end closes
 * @cfg:	the configuration (the helper keeps its copy: capture-dir, control, the file)
 * Return: the data path's handle once the helper is ready, or NULL with @err filled (the
 * helper's own reason when it could not confine itself)
 */
struct privsep *privsep_start(const struct config *cfg, char *err, size_t errlen);

/** privsep_pid() - the helper's process id */
pid_t privsep_pid(const struct privsep *p);

/**
 * privsep_attach() - ask for link @lc's TAP in @netns (link_tap_create()'s result)
 * Return: 0, or -1 with @err filled
 */
int privsep_attach(struct privsep *p, const struct link_cfg *lc, const char *netns,
		   struct link_tap *t, char *err, size_t errlen);

/**
 * privsep_capture_open() - ask for the new capture file @name (capture_start()'s rules)
 * Return: its fd, or -1 with @err filled
 */
int privsep_capture_open(struct privsep *p, const char *name, char *err, size_t errlen);

/**
 * privsep_config_open() - ask for the configuration file given at start (-c)
 * Return: its fd (read-only), or -1 with @err filled
 */
int privsep_config_open(struct privsep *p, char *err, size_t errlen);

/** privsep_unlink_control() - ask for the control socket to be removed (at exit) */
void privsep_unlink_control(struct privsep *p);

/** privsep_stop() - close the channel (the helper exits) and reap it if it is our child */
void privsep_stop(struct privsep *p);

#endif
