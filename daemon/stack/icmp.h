/* icmp.h - the ICMP module's face to the shell: echo replies relayed from upstream.
 *
 * Echo requests from the container to addresses other than the gateway and DNS reach the
 * shell through stack_ops.icmp_echo; the shell relays them (unprivileged ping sockets) and
 * passes each reply back here. Must not: do I/O or read clocks.
 */
#ifndef TAPIR_ICMP_H
#define TAPIR_ICMP_H

#include <stddef.h>
#include <stdint.h>

struct stack;

/**
 * icmp_echo_reply() - upstream answered a relayed echo request: send the container an echo
 * reply (RFC 792) from @saddr with its identifier @id, sequence number @seq and data
 * @s:		the link's stack
 * @saddr:	the address the container pinged (not the gateway or DNS address, which the
 *		stack answers itself; any address that is no unicast destination is ignored)
 * @id:		the container's echo identifier (the shell maps the ping socket's back to it)
 * @seq:	sequence number
 * @data:	the reply's data after the 8-byte ICMP header (read only, not kept)
 * @len:	its length; more than an IPv4 datagram holds (65507) is ignored
 * @now_us:	monotonic time
 *
 * Larger than the link's MTU allows in one frame, the reply is fragmented (RFC 791 3.2).
 */
void icmp_echo_reply(struct stack *s, uint32_t saddr, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len, uint64_t now_us);

/**
 * icmp6_echo_reply() - upstream answered a relayed ICMPv6 echo request: send the container
 * an echo reply (RFC 4443 4.2) from @saddr to @daddr
 * @s:		the link's stack
 * @saddr:	the address the container pinged (unicast beyond the link, else ignored)
 * @daddr:	the container address the request came from (in the link's prefix, else
 *		ignored)
 * @id:		the container's echo identifier
 * @seq:	sequence number
 * @data:	the reply's data after the 8-byte header (read only, not kept)
 * @len:	its length (at most 65479); more than one frame carries goes in fragments
 * @now_us:	monotonic time
 */
void icmp6_echo_reply(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16],
		      uint16_t id, uint16_t seq, const uint8_t *data, size_t len, uint64_t now_us);

#endif
