/* netlink.h - configure an interface of the current network namespace with libnl-route:
 * MTU and up (rtnl_link), its address (rtnl_addr), the default route (rtnl_route).
 *
 * The netlink socket is opened by each call, so it belongs to the namespace the caller is in
 * at that moment. Must not: enter namespaces or create interfaces.
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

#endif
