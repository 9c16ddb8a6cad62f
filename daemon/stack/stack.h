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
#define STACK_DEFAULT_TIME_WAIT_MS 60000
#define STACK_DEFAULT_MAX_FLOWS 65536   /* per link; each costs ~1 KiB when touched */
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
	uint32_t idle_timeout_ms;
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
 * @tx:		send one Ethernet frame of @len bytes on the TAP. The buffer is the stack's and is
 *		reused after return.
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
 * @tcp_room:	how many more bytes upstream would take now (for the advertised window).
 * @tcp_peek:	copy up to @len bytes of upstream data starting @off bytes after snd_una into
 *		@buf, without consuming them. Return bytes copied (0 = nothing more now).
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
 *		answer the container with the matching ICMP destination unreachable.
 *
 * ICMP (see icmp.h for the call going the other way):
 * @icmp_echo:	an echo request from the container to @daddr, an address other than the
 *		gateway and DNS (which the stack answers itself): send an echo request with
 *		the same @id, @seq and @len bytes of @data upstream (RFC 792) and pass the
 *		reply back with icmp_echo_reply(). Return 0, or a negative errno (not
 *		permitted, no route...): the request is lost and counted. Optional (NULL: such
 *		requests are counted in drop_icmp_no_route).
 */
struct stack_ops {
	void (*tx)(void *ctx, const uint8_t *frame, size_t len);
	void (*flow_event)(void *ctx, struct flow *f, enum stack_flow_event ev, int from);

	int (*tcp_open)(void *ctx, struct flow *f);
	size_t (*tcp_deliver)(void *ctx, struct flow *f, const uint8_t *data, size_t len);
	uint32_t (*tcp_room)(void *ctx, struct flow *f);
	size_t (*tcp_peek)(void *ctx, struct flow *f, uint32_t off, uint8_t *buf, size_t len);
	void (*tcp_consume)(void *ctx, struct flow *f, uint32_t n);
	void (*tcp_fin)(void *ctx, struct flow *f);
	void (*tcp_reset)(void *ctx, struct flow *f);

	void (*flow_closed)(void *ctx, struct flow *f);

	int (*udp_send)(void *ctx, struct flow *f, const uint8_t *data, size_t len);

	int (*icmp_echo)(void *ctx, uint32_t daddr, uint16_t id, uint16_t seq, const uint8_t *data,
			 size_t len);
};

struct stack;

/**
 * stack_cfg_defaults() - fill @cfg with the DESIGN.md defaults (secret left zero: the shell
 * must fill it from getrandom)
 */
void stack_cfg_defaults(struct stack_cfg *cfg);

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

/**
 * stack_tick() - run every timer due at @now_us (retransmissions, delayed ACKs, TIME_WAIT...)
 */
void stack_tick(struct stack *s, uint64_t now_us);

/**
 * stack_next_deadline() - when stack_tick() next has work
 * Return: monotonic microseconds, or UINT64_MAX if no timer is armed
 */
uint64_t stack_next_deadline(struct stack *s);

/** stack_counters() - the link's counters (read only for the shell) */
const struct stack_counters *stack_counters(const struct stack *s);

/**
 * stack_note_sockbuf_capped() - the shell shrank a new upstream socket's buffers to stay
 * within its socket memory budget: count it (tcp_sockbuf_capped)
 * @s:	the stack
 */
void stack_note_sockbuf_capped(struct stack *s);

/** stack_cfg() - the configuration the stack runs with */
const struct stack_cfg *stack_get_cfg(const struct stack *s);

/** stack_flows() - the link's flow table, for listing (read only for the shell) */
struct flow_table *stack_flows(struct stack *s);

/**
 * stack_container_mac() - the container's MAC once learned (from ARP or any valid frame)
 * Return: true and the MAC in @mac, or false if not yet known
 */
bool stack_container_mac(const struct stack *s, uint8_t mac[6]);

/** stack_flows_in_state() - live TCP flows in @state (kept up to date, O(1)) */
uint32_t stack_flows_in_state(const struct stack *s, unsigned int state);

#endif
