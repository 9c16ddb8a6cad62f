/* dhcp.h - the link's DHCPv4 server (RFC 2131, options RFC 2132): constants shared with tests.
 *
 * The stack answers the container's DHCP client itself (stack_cfg.dhcp, on by default): the
 * one address it leases is the link's container address (stack_cfg.addr, or
 * stack_cfg.dhcp_addr, which becomes the container address once ACKed), with the link's
 * netmask, the gateway as router and server identifier, the DNS address and the link's MTU.
 * There is no lease table: a link has exactly one container and the stack relays traffic
 * from that one address only, so every client on the link is offered it. The server lives in
 * dhcp.c, entered from ip4_input() (stack_internal.h: dhcp_input()); it has no call of its
 * own for the shell. Must not: do I/O, read clocks, or keep per-client state.
 */
#ifndef TAPIR_DHCP_H
#define TAPIR_DHCP_H

#define DHCP_SERVER_PORT 67 /* RFC 2131 4.1 */
#define DHCP_CLIENT_PORT 68

/* RFC 2131 2, figure 1: op .. file, then the options, which begin with the magic cookie */
#define DHCP_FIXED_LEN 236
#define DHCP_COOKIE 0x63825363u /* RFC 2131 3: 99.130.83.99 */
#define DHCP_OPTS_OFF (DHCP_FIXED_LEN + 4)
/* RFC 1542 2.1: BOOTP messages are at least 300 bytes; some relays and clients drop less */
#define DHCP_MIN_MSG 300
/* RFC 2131 2: a client must accept 312 bytes of options, a 576-byte IP datagram: our
 * replies never exceed it (a client identifier option is at most 257 bytes and fits) */
#define DHCP_MAX_MSG (DHCP_FIXED_LEN + 312)

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_HTYPE_ETHER 1 /* RFC 1700 hardware types */
#define DHCP_FLAG_BROADCAST 0x8000 /* RFC 2131 2, figure 2 */

/* RFC 2132 9.6: DHCP message types */
#define DHCPDISCOVER 1
#define DHCPOFFER 2
#define DHCPREQUEST 3
#define DHCPDECLINE 4
#define DHCPACK 5
#define DHCPNAK 6
#define DHCPRELEASE 7
#define DHCPINFORM 8

/* RFC 2132 option codes */
#define DHO_PAD 0
#define DHO_SUBNET_MASK 1
#define DHO_ROUTER 3
#define DHO_DNS 6
#define DHO_MTU 26
#define DHO_REQUESTED_ADDR 50
#define DHO_LEASE_TIME 51
#define DHO_MSG_TYPE 53
#define DHO_SERVER_ID 54
#define DHO_MESSAGE 56
#define DHO_RENEWAL_TIME 58
#define DHO_REBINDING_TIME 59
#define DHO_CLIENT_ID 61
#define DHO_END 255

/* What libslirp leases for (bootp.c LEASE_TIME): 24 hours. T1 and T2 are RFC 2131 4.4.5's
 * defaults, 0.5 and 0.875 of it. */
#define DHCP_LEASE_S 86400u
#define DHCP_T1_S (DHCP_LEASE_S / 2)
#define DHCP_T2_S (DHCP_LEASE_S / 8 * 7)
/* RFC 2131 4.3.3: a declined address MUST be marked unavailable. With one address to give,
 * that is no OFFER for this long; the client waits 10 s before it tries again (3.1.5), so it
 * sees a few rounds without an answer, then gets the address back. */
#define DHCP_DECLINE_HOLD_US (60ULL * 1000000)

#endif
