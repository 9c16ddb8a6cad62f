/* netlink.h - configure an interface of the current network namespace with libnl-route:
 * MTU and up (rtnl_link), its address (rtnl_addr), the default route (rtnl_route); read its
 * MTU, and hear of later changes to it (RTM_NEWLINK on RTNLGRP_LINK).
 *
 * Every netlink socket belongs to the namespace the caller is in when it is opened: the
 * configuration calls open their own; a watch, opened once inside the container's namespace,
 * keeps hearing from there after the caller has left it. Must not: enter namespaces or
 * create interfaces.
 */
#ifndef TAPIR_NETLINK_H
#define TAPIR_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct netlink_ifcfg - what to set on one interface; addresses in host byte order
 * @ifindex:	the interface
 * @mtu:	its MTU
 * @addr:	its IPv4 address
 * @prefix_len:	the address's prefix length
 * @gateway:	next hop of the default route
 * @mac:	its MAC address (NULL: keep the kernel's random one)
 * @loopback_up: bring "lo" of the namespace up as well (slirp4netns -c does: a container
 *		whose lo is down cannot reach its own services)
 */
struct netlink_ifcfg {
	int ifindex;
	uint32_t mtu;
	uint32_t addr;
	uint8_t prefix_len;
	uint32_t gateway;
	const uint8_t *mac;
	bool loopback_up;
};

/**
 * netlink_configure() - set MTU (and MAC), bring the interface up, add the address, add the
 * default route, in that order (the route's gateway must be on a connected, up subnet); then
 * lo up if asked
 * @why, @whylen: on failure, the step and the kernel's reason ("set MTU 9000: Invalid input")
 * Return: 0, or -1
 */
int netlink_configure(const struct netlink_ifcfg *cfg, char *why, size_t whylen);

/**
 * netlink_mtu() - read the MTU of interface @ifindex of the current namespace
 * @mtu:	set to it
 * Return: 0, or a negative errno
 */
int netlink_mtu(int ifindex, uint32_t *mtu);

struct nl_sock;

/**
 * netlink_watch_socket() - a non-blocking, close-on-exec netlink socket in the current
 * namespace that hears of every change to its interfaces (RTNLGRP_LINK): opened where the
 * interfaces are (the TAP's child), used wherever the fd is passed to (netlink_watch_adopt())
 * Return: its file descriptor, or a negative errno
 */
int netlink_watch_socket(void);

/**
 * netlink_watch_adopt() - take a socket made by netlink_watch_socket() into libnl
 * @fd:		the socket; owned by the watch from now on, closed on failure
 * Return: the watch (netlink_watch_close() it), or NULL
 */
struct nl_sock *netlink_watch_adopt(int fd);

/** netlink_watch_fd() - the file descriptor of watch @sk, for the event loop */
int netlink_watch_fd(struct nl_sock *sk);

/**
 * netlink_watch_read() - take what the kernel said on watch @sk (a bounded number of
 * messages); messages from anyone but the kernel, and malformed ones, are ignored
 * @ifindex:	the interface of interest
 * @mtu:	set to its MTU as last announced, when the return is 1
 * Return: 1 if an RTM_NEWLINK of @ifindex carried its MTU, 0 if none did, or a negative errno
 * (messages may have been lost, as when the kernel found the socket's buffer full: ask again
 * with netlink_watch_resync())
 */
int netlink_watch_read(struct nl_sock *sk, int ifindex, uint32_t *mtu);

/**
 * netlink_watch_resync() - ask, on watch @sk itself, for @ifindex's current state (after
 * -ENOBUFS): the answer arrives as an RTM_NEWLINK that netlink_watch_read() takes
 * Return: 0, or a negative errno
 */
int netlink_watch_resync(struct nl_sock *sk, int ifindex);

/** netlink_watch_close() - close watch @sk (NULL is fine) */
void netlink_watch_close(struct nl_sock *sk);

#endif
