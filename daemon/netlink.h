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
 * @ipv6:	also add @addr6/@prefix6_len (no duplicate address detection: the address is
 *		ours to give) and the IPv6 default route via @gateway6
 * @addr6:	IPv6 address (network order)
 * @prefix6_len: its prefix length
 * @gateway6:	next hop of the IPv6 default route (the stack's link-local address, as a
 *		router advertisement would give it, RFC 4861 6.3.4)
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
	bool ipv6;
	uint8_t addr6[16];
	uint8_t prefix6_len;
	uint8_t gateway6[16];
	const uint8_t *mac;
	bool loopback_up;
};

/**
 * netlink_configure() - set MTU (and MAC), bring the interface up, add the address, add the
 * default route, in that order (the route's gateway must be on a connected, up subnet); then
 * lo up if asked; then the IPv6 address and default route when asked
 * @why, @whylen: on failure, the step and the kernel's reason ("set MTU 9000: Invalid input")
 * Return: 0, or -1
 */
int netlink_configure(const struct netlink_ifcfg *cfg, char *why, size_t whylen);

#endif
