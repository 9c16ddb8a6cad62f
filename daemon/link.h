/* link.h - one attached container: its namespace, its TAP, its stack.
 *
 * link_attach() has a child process enter the namespace, create the TAP and configure it with
 * netlink (unless told not to) and hand the TAP back; it then wires the TAP to a stack on the
 * loop.
 * Must not: parse frames (the stack does) or know about the control protocol.
 */
#ifndef TAPIR_LINK_H
#define TAPIR_LINK_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "relay_env.h"

struct tapird;
struct stack;
struct event;
struct capture;
struct nl_sock;

/**
 * struct link - one container
 * @name:	its name in listings and commands (given, or the netns name, or "pid:N")
 * @cfg:	what it was attached with (addresses, MTU, host loopback...)
 * @netns:	path of the namespace (/run/netns/NAME or /proc/PID/ns/net)
 * @ifname:	TAP name inside the namespace
 * @ifindex:	its index there
 * @tap_fd:	the TAP (non-blocking), -1 when closed
 * @configured:	addresses and routes were set (false with --no-configure)
 * @stack:	the userspace stack for this link
 * @ev_tap:	readable event on @tap_fd
 * @ev_timer:	the stack's next deadline
 * @d:		the daemon
 * @tx_errors:	frames the TAP refused (queue full, link down)
 * @capture:	a running pcap capture (capture.h), NULL when off: the data path tests it
 * @offload:	the TAP has its offloads (IFF_VNET_HDR, TUNSETOFFLOAD): every frame read and
 *		written has a virtio-net header; TCP super-frames and partial checksums
 * @tap_mtu:	the TAP's MTU as the container's kernel has it (read at attach, followed)
 * @nl_watch:	netlink socket in the container's namespace hearing of changes to the TAP
 *		(its MTU), NULL if it could not be opened
 * @ev_nl:	readable event on @nl_watch
 * @reach:	per-destination connection counts (reach.h), also in @env for the relays
 * @env:	what the relays know of this link (its stack, the loop, its configuration)
 * @ev_turn:	made active when the stack is fed: re-arms @ev_timer once per loop turn
 */
struct link {
	char name[LINK_NAME_MAX];
	struct link_cfg cfg;
	char netns[PATH_MAX];
	char ifname[IFNAMSIZ];
	int ifindex;
	int tap_fd;
	bool configured;
	struct stack *stack;
	struct event *ev_tap;
	struct event *ev_timer;
	struct tapird *d;
	uint64_t tx_errors;
	struct capture *capture;
	bool offload;
	uint32_t tap_mtu;
	struct nl_sock *nl_watch;
	struct event *ev_nl;
	struct reach *reach;
	struct relay_env env;
	struct event *ev_turn;
};

/**
 * link_attach() - attach to the container @lc names and start serving it
 * @lc:		the link's configuration, checked (link_cfg_check(): its name is set)
 * @err, @errlen: a one-line message naming the namespace and interface on failure
 * Return: the link, or NULL (a link of that name exists already, the namespace cannot be
 * entered, the TAP cannot be made...)
 */
struct link *link_attach(struct tapird *d, const struct link_cfg *lc, char *err, size_t errlen);

/**
 * struct link_tap - what link_tap_create() brings back from the container's namespace
 * @fd:		the TAP (non-blocking, close-on-exec)
 * @ifindex:	its index there
 * @mtu:	its MTU once configured (the container's own with --no-configure)
 * @watch_fd:	a netlink socket opened there that hears of changes to its interfaces
 *		(netlink_watch_socket()), -1 if none could be opened
 */
struct link_tap {
	int fd;
	int ifindex;
	uint32_t mtu;
	int watch_fd;
};

/**
 * link_tap_create() - create TAP @lc->ifname in network namespace @netns, joining user
 * namespace @lc->userns first when set (rootless: the runtime's user namespace owns the
 * network namespace), with its offloads unless @lc->no_offload, and configure it unless
 * @lc->no_configure. A child process does it, as slirp4netns does: joining a user namespace
 * is one way, so the daemon never leaves its own; the TAP's fd and a netlink socket of that
 * namespace come back over a socketpair (SCM_RIGHTS), with the TAP's MTU.
 * @netns:	the network namespace's path (for messages)
 * @netns_fd:	the network namespace, opened with netns_open()
 * @t:		filled on success
 * @err, @errlen: on failure, the object and the reason ("tap0 in /run/netns/c1: Device or
 *		resource busy")
 * Return: 0, or -1
 */
int link_tap_create(const struct link_cfg *lc, const char *netns, int netns_fd,
		    struct link_tap *t, char *err, size_t errlen);

/** link_find() - the attached link named @name, or NULL */
struct link *link_find(struct tapird *d, const char *name);

/** link_detach() - stop serving: forwards into it closed, flows released, TAP closed (the
 * kernel removes it) */
void link_detach(struct link *l);

/**
 * link_touch() - the shell fed @l's stack (from any loop callback): its timer is re-armed
 * once, when the callbacks of this loop turn are done
 */
void link_touch(struct link *l);

/**
 * link_bind_outbound() - bind upstream socket @fd to the outbound address of link @cfg
 * (slirp4netns --outbound-addr) before it connects to @dst (IPv4), or to its outbound-addr6
 * (upstream_bind6()) when @dst is IPv6; nothing when none is set.
 * As libslirp does, this holds for the gateway's host-loopback connections too: Linux lets a
 * socket bound to any local address reach 127.0.0.1, and the server there sees that address.
 * Return: 0, or -errno from bind()
 */
int link_bind_outbound(const struct link_cfg *cfg, int fd, const struct sockaddr_storage *dst);

#endif
