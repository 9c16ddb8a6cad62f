/* udp.h - the UDP module's face to the shell: upstream events going into the stack.
 *
 * A UDP flow is the container's 4-tuple (RFC 768 has no connections: the flow is ours, as a
 * conntrack entry is the kernel's). The container's datagrams reach the shell through
 * stack_ops.udp_send; replies and ICMP errors that the host socket reports come back through
 * these calls. Idle flows expire by the stack's tick (udp_timeout_ms while only the container
 * has spoken, udp_timeout_stream_ms once both have). Must not: do I/O or read clocks.
 */
#ifndef TAPIR_UDP_H
#define TAPIR_UDP_H

#include <stddef.h>
#include <stdint.h>

struct stack;
struct flow;

/**
 * udp_upstream_datagram() - upstream answered: send @data to the container as a datagram from
 * the address it sent to (f->paddr:f->pport); the flow becomes REPLIED
 * @s:		the link's stack
 * @f:		a live UDP flow
 * @data:	payload (read only, not kept)
 * @len:	payload bytes; more than 65507 (what an IPv4 datagram holds) is dropped and counted
 * @now_us:	monotonic time
 *
 * Larger than the link's MTU allows in one frame, the datagram is fragmented (RFC 791 3.2).
 */
void udp_upstream_datagram(struct stack *s, struct flow *f, const uint8_t *data, size_t len,
			   uint64_t now_us);

/**
 * udp_upstream_error() - the host socket reported an ICMP error for this flow: send the same
 * error to the container, quoting the header of its last datagram of the flow, so that a
 * connected socket there sees ECONNREFUSED, EHOSTUNREACH... (rate limited like every ICMP
 * error). The flow stays (the container may retry) until it idles out.
 * @s:		the link's stack
 * @f:		a live UDP flow
 * @type:	ICMP_DEST_UNREACH or ICMP_TIME_EXCEEDED (anything else is ignored)
 * @code:	its code
 * @now_us:	monotonic time
 */
void udp_upstream_error(struct stack *s, struct flow *f, uint8_t type, uint8_t code,
			uint64_t now_us);

/**
 * udp_upstream_too_big() - the host socket refused a datagram of @f as larger than the path
 * allows (EMSGSIZE with path MTU discovery on, f->udp_df): tell the container, as the router
 * that could not forward it would, with ICMPv6 Packet Too Big (RFC 4443 3.2) or ICMP
 * "fragmentation needed" (RFC 1191 4) carrying @mtu, from the gateway address, quoting the
 * datagram's headers (those of the flow's last datagram, with this one's lengths) and as
 * much of @data as fits. Counted in drop_udp_too_big; rate limited like every ICMP error.
 * @s:		the link's stack
 * @f:		a live UDP flow
 * @data:	the datagram's payload as the stack handed it to stack_ops.udp_send (read
 *		only, not kept)
 * @len:	its length
 * @mtu:	the path MTU (IP_MTU / IPV6_MTU of the connected socket); 0 or one the
 *		datagram fits in (it was too big for another reason: an IPv4 datagram past 65535
 *		bytes) sends no error
 * @now_us:	monotonic time
 */
void udp_upstream_too_big(struct stack *s, struct flow *f, const uint8_t *data, size_t len,
			  uint32_t mtu, uint64_t now_us);

/**
 * udp_open_inbound() - a flow for a datagram that reached a UDP port forward's host socket:
 * container side @caddr:@cport, peer @paddr:@pport (the host client as the container is to
 * see it), origin FLOW_ORIGIN_HOST, state ACTIVE until the container answers (then REPLIED).
 * The link's UDP bound and eviction apply as to the container's flows. The shell sets
 * f->relay, then passes the datagram with udp_upstream_datagram(); the container's answers
 * reach it through stack_ops.udp_send.
 * Return: the flow, or NULL (4-tuple in use, a port 0, or no room: counted)
 */
struct flow *udp_open_inbound(struct stack *s, uint32_t caddr, uint16_t cport, uint32_t paddr,
			      uint16_t pport, uint64_t now_us);

/**
 * udp_open_inbound6() - udp_open_inbound() over IPv6: to the container's @caddr (its
 * configured IPv6 address, nothing else) from @paddr (a forward's client, or the gateway
 * address for one on ::1)
 * Return: the flow, or NULL (IPv6 off, not the container's address, 4-tuple in use, a port
 * 0, or no room)
 */
struct flow *udp_open_inbound6(struct stack *s, const uint8_t caddr[16], uint16_t cport,
			       const uint8_t paddr[16], uint16_t pport, uint64_t now_us);

/**
 * udp_abort() - the shell gives up on a flow (its socket failed for good): release it with
 * @end (enum flow_end); flow_closed is called
 */
void udp_abort(struct stack *s, struct flow *f, int end, uint64_t now_us);

/** udp_flow_count() - live UDP flows of the link */
uint32_t udp_flow_count(const struct stack *s);

#endif
