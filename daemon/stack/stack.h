/* stack.h - the public face of tapir's userspace TCP/IP stack, one instance per link.
 *
 * Sans-IO: the stack knows nothing of file descriptors, libevent, sockets or clocks. The shell
 * drives it with frames (stack_input), time (stack_tick, and the now_us of every call) and
 * upstream events (tcp.h); the stack answers only through the callbacks in struct stack_ops.
 * Callbacks may be invoked from inside any stack_* or tcp_* call; they must not call back into
 * the stack for the same flow except where a callback's comment allows it.
 */
#ifndef TAPIR_STACK_H
#define TAPIR_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "counters.h"
#include "flow.h"

/* Defaults (DESIGN.md). Addresses in host byte order. */
#define STACK_DEFAULT_ADDR 0x0a000264u    /* 10.0.2.100 */
#define STACK_DEFAULT_PREFIX 24
#define STACK_DEFAULT_GATEWAY 0x0a000202u /* 10.0.2.2 */
#define STACK_DEFAULT_DNS 0x0a000203u     /* 10.0.2.3 */
#define STACK_DEFAULT_MTU 65520
#define STACK_MIN_MTU 576               /* RFC 791: every host must accept 576-byte datagrams */
#define STACK_MAX_MTU 65521             /* a TAP's limit: 65535 minus the Ethernet header */
/* IPv6 defaults as slirp4netns's (fd00::/64, container ::100, gateway ::2, DNS ::3) */
#define STACK_DEFAULT_PREFIX6_LEN 64 /* SLAAC needs a /64 (RFC 4862 5.5.3, RFC 7421) */
#define STACK_DEFAULT_TIME_WAIT_MS 60000
#define STACK_DEFAULT_MAX_FLOWS 65536   /* per link; an idle TCP flow costs < 1 KiB (flow.h) */
#define STACK_DEFAULT_MAX_HALF_OPEN 1024 /* per link: SYN_RCVD flows waiting on connect() */
/* UDP idle timeouts as Linux conntrack's (nf_conntrack_udp_timeout, _timeout_stream) */
#define STACK_DEFAULT_UDP_TIMEOUT_MS 30000         /* only the container has spoken */
#define STACK_DEFAULT_UDP_TIMEOUT_STREAM_MS 180000 /* both sides have */
#define STACK_DEFAULT_MAX_UDP_FLOWS 4096 /* per link: each holds a host socket (an fd) */

/* What a flow event reports to the shell (watchers, history consumers). */
enum stack_flow_event {
	STACK_EV_OPEN,  /* flow created */
	STACK_EV_STATE, /* state changed; @from is the old state */
	STACK_EV_CLOSE, /* flow about to be freed; f->end says how it ended */
};

/**
 * struct stack_cfg - a link's addresses and limits
 * @addr:		container address
 * @prefix_len:		container prefix length
 * @gateway:		gateway address (answered for by ARP and ICMP echo)
 * @dns:		DNS address (answered for by ARP and ICMP echo)
 * @dhcp:		serve DHCPv4 (dhcp.h): lease @addr to the container's client
 * @dhcp_addr:		the address DHCP leases instead of @addr (0: @addr). Once the client is
 *			ACKed for it, it becomes @addr: the runtime may configure @addr itself
 *			or leave the container's DHCP client to it (slirp4netns without -c)
 * @mtu:		TAP MTU (bounds every frame we build and the MSS we offer)
 * @mac:		our MAC, used for the gateway and DNS addresses and as source of all frames
 * @time_wait_ms:	2MSL
 * @max_flows:		flow table capacity
 * @max_half_open:	bound on connections in SYN_RCVD
 * @secret:		16 random bytes, from which the RFC 6528 ISN key and the flow hash key are
 *			derived (siphash.h); neither use sees it raw
 * @next_flow_id:	shared counter that gives flows ids unique across links (NULL: per stack)
 * @udp_timeout_ms:	idle timeout of a UDP flow that got no reply yet (0: the default)
 * @udp_timeout_stream_ms: idle timeout of a UDP flow that got a reply (0: the default)
 * @max_udp_flows:	bound on UDP flows; at the bound the one nearest its timeout is evicted
 * @no_host_loopback:	UDP to the gateway address is answered by ICMP port unreachable
 * @ipv6:		IPv6 is on: NDP, router advertisements, ICMPv6, TCP and UDP over IPv6
 * @addr6:		container IPv6 address (network order); its first @prefix6_len bits are
 *			the link's prefix, advertised for SLAAC
 * @prefix6_len:	IPv6 prefix length (64 for SLAAC)
 * @gateway6:		IPv6 gateway address (answered for by NDP and ICMPv6 echo)
 * @dns6:		IPv6 DNS address (answered for by NDP and ICMPv6 echo, sent in RDNSS)
 * @tso:		the shell has the kernel cut TCP super-frames (virtio-net GSO): TCP
 *			segments then carry up to 64 KiB of payload whatever the MSS and MTU, and
 *			each frame's @mss says where to cut (gso_size)
 * @idle_timeout_ms:	an ESTABLISHED TCP flow with no segment either way for this long is
 *			reset both ways (tcp_idle_timeout); 0: never
 */
struct stack_cfg {
	uint32_t addr;
	uint8_t prefix_len;
	uint32_t gateway;
	uint32_t dns;
	bool dhcp;
	uint32_t dhcp_addr;
	uint32_t mtu;
	uint8_t mac[6];
	uint32_t time_wait_ms;
	uint32_t max_flows;
	uint32_t max_half_open;
	uint8_t secret[16];
	uint64_t *next_flow_id;
	uint32_t udp_timeout_ms;
	uint32_t udp_timeout_stream_ms;
	uint32_t max_udp_flows;
	bool no_host_loopback;
	bool ipv6;
	uint8_t addr6[16];
	uint8_t prefix6_len;
	uint8_t gateway6[16];
	uint8_t dns6[16];
	uint32_t idle_timeout_ms;
	bool tso;
};

/* Bytes kept free in front of every frame the stack builds, so that the shell can prepend a
 * virtio-net header (struct virtio_net_hdr_v1: 12 bytes) without moving the frame. */
#define STACK_TX_HEADROOM 16
/* One transmit slot: the headroom and the largest frame (65535 bytes of IPv4 datagram plus the
 * Ethernet header) */
#define STACK_TX_SLOT (STACK_TX_HEADROOM + 14 + 65535)
/* Frames per batch the stack allocates for itself when the shell gives it none (tests) */
#define STACK_TXQ_DEFAULT 8

/**
 * struct stack_frame - one frame the stack built in the shell's transmit batch
 * @data:	its first byte (the Ethernet header); STACK_TX_HEADROOM writable bytes precede it
 * @len:	its length in bytes; the shell sets 0 to drop it (a payload it could not fill)
 * @fill_flow:	the TCP flow whose upstream bytes are the payload still to be placed, NULL when
 *		the frame is complete (every frame but TCP segments carrying data)
 * @fill_seq:	sequence number of the first payload byte (tcp_fill_offset() turns it into
 *		an offset in the upstream socket's receive queue)
 * @fill_len:	payload bytes to place at @data + @fill_at
 * @fill_at:	offset of the payload in the frame
 * @l4_off:	offset of the transport header in the frame (virtio csum_start)
 * @csum_off:	offset of the transport checksum field from @l4_off (virtio csum_offset)
 * @csum_pseudo: unfolded one's-complement sum of the IPv4 pseudo-header, for stack_frame_seal()
 *		or, folded into the checksum field, for a checksum the kernel completes
 * @mss:	for a TCP segment with payload, the most payload one wire segment carries (the
 *		MSS less the options every cut segment repeats): a longer payload (cfg.tso)
 *		must be cut by the kernel at this size (virtio gso_size); 0 otherwise
 */
struct stack_frame {
	uint8_t *data;
	size_t len;
	struct flow *fill_flow;
	uint32_t fill_seq;
	uint32_t fill_len;
	uint16_t fill_at;
	uint16_t l4_off;
	uint16_t csum_off;
	uint32_t csum_pseudo;
	uint16_t mss;
};

/**
 * struct stack_txq - a batch of frames: buffers the shell owns, filled by the stack
 * @slot:	@cap buffers of STACK_TX_SLOT bytes each
 * @frame:	@cap frame descriptors; frame[i] lies in slot[i]
 * @n:		frames built and not yet sent (frame[0..n))
 * @cap:	slots
 */
struct stack_txq {
	uint8_t **slot;
	struct stack_frame *frame;
	unsigned int n;
	unsigned int cap;
};

/* Errnos with which the shell's tcp_open and udp_send refuse a flow for a rule of its own
 * rather than for what a socket said; the stack counts each under its own name and answers
 * as a refusal (TCP: RST; UDP: ICMP communication administratively prohibited, RFC 1812
 * 5.2.7.1). The shell never passes a socket's own EACCES or EUSERS through (udprelay maps
 * them to EPERM; a TCP connect() to a unicast address returns neither), so these mean the
 * rule alone. */
#define STACK_E_POLICY EACCES	/* the link's reach policy denies it: drop_policy_denied */
#define STACK_E_PER_DEST EUSERS /* the per-destination cap is hit: drop_tcp_per_destination */

/**
 * struct stack_ops - how the stack reaches the shell; @ctx is passed back to every callback
 *
 * Output is batched (smoltcp's dispatch() is the model). The stack builds frames into a
 * struct stack_txq whose buffers the shell owns (stack_set_txq(); without one the stack makes
 * its own). Every entry point (stack_input, stack_tick, tcp_upstream_*, udp_upstream_*, ...)
 * runs inside a batch: an implicit one around the call, or the shell's own between
 * stack_batch_begin() and stack_batch_end(). While a batch runs, TCP output (data, ACKs,
 * window updates) is only noted per flow; when it ends, each noted flow is dispatched once:
 * one ACK per flow per batch. Then @tx gets the frames.
 * @tx:		the batch is full or has ended: complete and send q->frame[0..q->n), then set
 *		q->n to 0. Completing a frame whose @fill_flow is set means placing @fill_len
 *		upstream bytes at data + fill_at, read without consuming (MSG_PEEK) from offset
 *		tcp_fill_offset(), then stack_frame_seal() (or, with checksum offload, the
 *		pseudo-header sum in the checksum field). A frame that cannot be filled in full
 *		is dropped (len = 0) and its flow's upstream is broken: report
 *		tcp_upstream_reset() later, from the loop. Must not call into the stack except
 *		tcp_fill_offset() and stack_frame_seal().
 * @prepare:	optional: a batch begins: set the figures of flows (tcp_upstream_set_*) that
 *		changed since the last one. The shell that begins its own batches may set them
 *		before stack_batch_begin() instead and leave this NULL.
 * @flow_event:	a flow opened, changed state or is about to close (optional, may be NULL)
 *
 * TCP, container side to upstream (see tcp.h for the calls going the other way):
 * @tcp_open:	a container SYN asks for a connection to f->paddr:f->pport. Start a non-blocking
 *		connect and return 0; the shell later calls tcp_upstream_connected() or
 *		tcp_upstream_failed(). A negative errno fails it at once, as tcp_upstream_failed()
 *		does (RST; ICMP unreachable for -ENETUNREACH, -EHOSTUNREACH), except -ETIMEDOUT:
 *		nothing is sent, the container's connect() times out.
 * @tcp_deliver: in-order payload from the container for upstream. Return how many bytes were
 *		taken (0..@len); only those are acknowledged, so the kernel socket is the buffer.
 *		The stack takes the bytes taken off the room it was last given. 0 means no room
 *		now (drop_tcp_no_room; the window tells the container). A negative errno means
 *		upstream will never take another byte (reset, or shut for writing): the stack
 *		drops the payload (drop_tcp_upstream_gone), resets the container and releases the
 *		flow at once, as tcp_upstream_reset() would; the shell must not report it again.
 * Upstream to container: the stack sends what tcp_upstream_set_avail() says upstream holds,
 *		as the container's window allows, and has the bytes placed by @tx (fill).
 * @tcp_consume: the container acknowledged @n more bytes: drop them from the upstream stream.
 * @tcp_fin:	the container sent FIN after all its data: shutdown(SHUT_WR) upstream.
 * @tcp_reset:	the container reset the connection (or the stack aborted it): abort upstream.
 *
 * @flow_closed: the flow leaves the table after this returns: release the shell's resources.
 *		Called exactly once per flow whose @relay was set, and never from inside @tcp_*
 *		callbacks of the same flow.
 *
 * UDP, container side to upstream (see udp.h for the calls going the other way):
 * @udp_send:	one datagram's payload from the container for f->paddr:f->pport (the first of a
 *		new flow opens the upstream socket). Return 0, or a negative errno: the datagram
 *		is lost and counted, and ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EACCES/EPERM
 *		answer the container with the matching ICMP destination unreachable. With
 *		f->udp_df set the datagram may not be fragmented: too big for the path, the
 *		shell reports it with udp_upstream_too_big() and returns -EMSGSIZE (counted
 *		there, not again).
 *
 * ICMP (see icmp.h for the call going the other way):
 * @icmp_echo:	an echo request from the container to @daddr, an address other than the
 *		gateway and DNS (which the stack answers itself): send an echo request with
 *		the same @id, @seq and @len bytes of @data upstream (RFC 792) and pass the
 *		reply back with icmp_echo_reply(). Return 0, or a negative errno (not
 *		permitted, no route...): the request is lost and counted. Optional (NULL: such
 *		requests are counted in drop_icmp_no_route).
 * @icmp6_echo:	the same for an ICMPv6 echo request (RFC 4443 4.1) from the container's
 *		@saddr to @daddr, a unicast address beyond the link; the reply comes back
 *		through icmp6_echo_reply() with @saddr as its destination. Optional.
 */
struct stack_ops {
	void (*tx)(void *ctx, struct stack_txq *q);
	void (*prepare)(void *ctx);
	void (*flow_event)(void *ctx, struct flow *f, enum stack_flow_event ev, int from);

	int (*tcp_open)(void *ctx, struct flow *f);
	ssize_t (*tcp_deliver)(void *ctx, struct flow *f, const uint8_t *data, size_t len);
	void (*tcp_consume)(void *ctx, struct flow *f, uint32_t n);
	void (*tcp_fin)(void *ctx, struct flow *f);
	void (*tcp_reset)(void *ctx, struct flow *f);

	void (*flow_closed)(void *ctx, struct flow *f);

	int (*udp_send)(void *ctx, struct flow *f, const uint8_t *data, size_t len);

	int (*icmp_echo)(void *ctx, uint32_t daddr, uint16_t id, uint16_t seq, const uint8_t *data,
			 size_t len);
	int (*icmp6_echo)(void *ctx, const uint8_t saddr[16], const uint8_t daddr[16], uint16_t id,
			  uint16_t seq, const uint8_t *data, size_t len);
};

struct stack;

/**
 * stack_cfg_defaults() - fill @cfg with the DESIGN.md defaults (secret left zero: the shell
 * must fill it from getrandom)
 */
void stack_cfg_defaults(struct stack_cfg *cfg);

/**
 * stack_cfg_prefix6() - set the IPv6 prefix of @cfg: the container at ::100, the gateway at
 * ::2 and DNS at ::3 of it (slirp4netns's layout)
 * @cfg:	the configuration
 * @prefix:	the prefix (16 bytes, network order; host bits must be zero)
 * @len:	prefix length
 */
void stack_cfg_prefix6(struct stack_cfg *cfg, const uint8_t prefix[16], uint8_t len);

/**
 * stack_new() - create a stack for one link
 * Return: the stack, or NULL (bad configuration or out of memory)
 */
struct stack *stack_new(const struct stack_cfg *cfg, const struct stack_ops *ops, void *ctx);

/**
 * stack_free() - release every flow (flow_closed called for each with end SHUTDOWN, no frames
 * sent) and the stack
 */
void stack_free(struct stack *s);

/**
 * stack_input() - process one Ethernet frame read from the TAP
 * @frame:	the frame; read only, never past @len
 * @len:	its length
 * @now_us:	monotonic time in microseconds
 * Malformed frames are dropped and counted; replies go out through ops->tx.
 */
void stack_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us);

/* Bytes of the virtio-net header in front of each frame when offloads are on (tap.h) */
#define STACK_VNET_HDR_LEN 12

/**
 * stack_input_vnet() - process one frame read from a TAP opened with IFF_VNET_HDR
 * @buf:	the virtio-net header (STACK_VNET_HDR_LEN bytes), then the Ethernet frame; read
 *		only, never past @len
 * @len:	header and frame
 * @now_us:	monotonic time in microseconds
 * The header is hostile input as much as the frame: a bad one drops the frame (drop_vnet_*).
 * Where it says so, a TCP segment may be a super-frame (GSO) longer than the MTU, and the L4
 * checksum is trusted (DATA_VALID: checked by the container's kernel; NEEDS_CSUM: partial,
 * from the container's own kernel) instead of verified.
 */
void stack_input_vnet(struct stack *s, const uint8_t *buf, size_t len, uint64_t now_us);

/**
 * stack_set_txq() - build frames into the shell's @q from now on (NULL: the stack's own).
 * Not while a batch runs.
 */
void stack_set_txq(struct stack *s, struct stack_txq *q);

/**
 * stack_batch_begin() - start a batch: until stack_batch_end(), output is gathered (one
 * dispatch per flow) and frames are handed to ops->tx only when the batch is full. Batches
 * nest; only the outermost end dispatches.
 */
void stack_batch_begin(struct stack *s);

/**
 * stack_batch_end() - end a batch: dispatch every flow with output due (data the windows
 * allow, one ACK or window update), then hand the frames to ops->tx
 * @now_us:	monotonic time in microseconds
 */
void stack_batch_end(struct stack *s, uint64_t now_us);

/**
 * stack_frame_seal() - finish the transport checksum of a frame whose payload was filled
 * (a frame with @fill_flow set); a complete frame is left alone
 */
void stack_frame_seal(struct stack_frame *fr);

/**
 * stack_frame_seal_partial() - for a checksum the kernel completes (virtio-net NEEDS_CSUM,
 * csum_start @l4_off, csum_offset @csum_off): put the folded pseudo-header sum in the
 * checksum field of a frame with @fill_flow set, instead of stack_frame_seal()
 */
void stack_frame_seal_partial(struct stack_frame *fr);

/**
 * stack_frame_vnet() - with offloads (a TAP with IFF_VNET_HDR): write the frame's virtio-net
 * header in the STACK_VNET_HDR_LEN bytes before @fr->data, instead of stack_frame_seal().
 * A frame with @fill_flow set (its payload filled) gets a partial checksum (NEEDS_CSUM,
 * stack_frame_seal_partial()) and, longer than one segment of @fr->mss, GSO TCPV4 at that
 * size; a complete frame gets a header of zeroes. Then write STACK_VNET_HDR_LEN + @fr->len
 * bytes from @fr->data - STACK_VNET_HDR_LEN.
 */
void stack_frame_vnet(struct stack_frame *fr);

/**
 * stack_txq_new() - a transmit batch of @cap slots, for shells and tests that want one
 * Return: the batch, or NULL when out of memory
 */
struct stack_txq *stack_txq_new(unsigned int cap);

/** stack_txq_free() - release a batch made by stack_txq_new() */
void stack_txq_free(struct stack_txq *q);

/**
 * stack_tick() - run every timer due at @now_us (retransmissions, delayed ACKs, TIME_WAIT...)
 */
void stack_tick(struct stack *s, uint64_t now_us);

/**
 * stack_next_deadline() - when stack_tick() next has work
 * Return: monotonic microseconds, or UINT64_MAX if no timer is armed
 */
uint64_t stack_next_deadline(struct stack *s);

/**
 * stack_set_mtu() - the TAP's real MTU, read at attach or followed as it changes: the MSS
 * that new connections announce is @mtu - 40 (RFC 9293 3.7.1, RFC 879) and no frame we build
 * is longer. Connections already open keep the MSS they agreed on; their segments are cut to
 * the new MTU all the same.
 * @mtu:	the MTU in bytes
 * Return: the MTU now in force: @mtu bounded to STACK_MIN_MTU..STACK_MAX_MTU (below 576 the
 * container breaks RFC 791 and gets 576-byte datagrams regardless)
 */
uint32_t stack_set_mtu(struct stack *s, uint32_t mtu);

/** stack_counters() - the link's counters (read only for the shell) */
const struct stack_counters *stack_counters(const struct stack *s);

/**
 * stack_note_sockbuf_capped() - the shell shrank a new upstream socket's buffers to stay
 * within its socket memory budget: count it (tcp_sockbuf_capped)
 * @s:	the stack
 */
void stack_note_sockbuf_capped(struct stack *s);

/**
 * stack_note_udp_gso() - the shell sent a run of the container's UDP datagrams upstream with
 * one UDP GSO send (@sent), or the kernel refused that send and the run went out one datagram
 * at a time: count it (udp_gso_sends, udp_gso_fallbacks)
 * @s:		the stack
 * @sent:	the GSO send went through
 */
void stack_note_udp_gso(struct stack *s, bool sent);

/** stack_cfg() - the configuration the stack runs with */
const struct stack_cfg *stack_get_cfg(const struct stack *s);

/** stack_flows() - the link's flow table, for listing (read only for the shell) */
struct flow_table *stack_flows(struct stack *s);

/**
 * stack_container_mac() - the container's MAC once learned (from ARP or any valid frame)
 * Return: true and the MAC in @mac, or false if not yet known
 */
bool stack_container_mac(const struct stack *s, uint8_t mac[6]);

/**
 * stack_ipv6_start() - the container's interface is up: send the first unsolicited router
 * advertisements (RFC 4861 6.2.4), then one every 600 s from stack_tick(). Nothing without
 * cfg.ipv6.
 * @now_us:	monotonic time in microseconds
 */
void stack_ipv6_start(struct stack *s, uint64_t now_us);

/**
 * stack_container_ll6() - the container's IPv6 link-local address once learned
 * Return: true and the address in @ll, or false if not yet known
 */
bool stack_container_ll6(const struct stack *s, uint8_t ll[16]);

/** stack_flows_in_state() - live TCP flows in @state (kept up to date, O(1)) */
uint32_t stack_flows_in_state(const struct stack *s, unsigned int state);

#endif
