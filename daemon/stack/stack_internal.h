/* stack_internal.h - what the stack's layers share among themselves (not for the shell).
 *
 * Receive path: stack_input → eth_input → arp_input | ip4_input → icmp_input | tcp_input.
 * Transmit path: a layer writes its L4 header and payload at stack_tx_l4(s) (the next free
 * slot of the transmit batch), then calls ip4_output(), which writes the IPv4 and Ethernet
 * headers in front and adds the frame to the batch; the batch goes to ops->tx when it is
 * full or the batch ends (stack_leave()).
 */
#ifndef TAPIR_STACK_INTERNAL_H
#define TAPIR_STACK_INTERNAL_H

#include "stack.h"
#include "wire.h"
#include "checksum.h"

#include <string.h>

/**
 * struct vnet_meta - what a frame's virtio-net header said, checked by vnet_parse() against
 * the frame; all zero for a frame that came without one (offloads off, reassembled datagrams)
 * @flags:		VNET_F_NEEDS_CSUM, VNET_F_DATA_VALID
 * @gso_type:		VNET_GSO_NONE, _TCPV4 or _TCPV6 (the ECN bit removed)
 * @gso_size:		payload bytes per segment of a super-frame (nonzero when GSO)
 * @csum_start:		with NEEDS_CSUM: where the partial checksum starts (frame offset)
 * @csum_offset:	with NEEDS_CSUM: where from @csum_start the checksum field is
 */
struct vnet_meta {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/**
 * struct pkt - a received IPv4 or IPv6 packet, validated down to the IP layer
 * @frame, @frame_len:	the whole Ethernet frame
 * @ip, @ip_len:	IP header and payload; @ip_len is the IPv4 total length, or 40 plus the
 *			IPv6 payload length (<= what the frame carries; Ethernet padding beyond
 *			it is ignored)
 * @ihl:		IPv4 header length in bytes (20..60); for IPv6, the fixed header and
 *			every extension header walked: the offset of @l4 from @ip
 * @l4, @l4_len:	transport header and payload
 * @saddr, @daddr:	IPv4 addresses (host byte order); 0 for IPv6
 * @proto, @ttl, @tos:	header fields (IPv6: the upper-layer next header, hop limit, class)
 * @v6:			an IPv6 packet: @saddr6 and @daddr6 hold its addresses
 * @saddr6, @daddr6:	IPv6 addresses (network order)
 * @nh_off:		IPv6: offset from @ip of the next header field naming @proto (for a
 *			parameter problem's pointer)
 * @now_us:		arrival time
 * @vnet:		the frame's virtio-net header (zero: none)
 * @csum_trusted:	the L4 checksum is not to be verified: the header said the container's
 *			kernel validated it (DATA_VALID) or left it partial (NEEDS_CSUM, its
 *			offsets checked by vnet_l4_check()); set by ip4_dispatch()
 */
struct pkt {
	const uint8_t *frame;
	size_t frame_len;
	const uint8_t *ip;
	size_t ip_len;
	size_t ihl;
	const uint8_t *l4;
	size_t l4_len;
	uint32_t saddr, daddr;
	uint8_t proto, ttl, tos;
	bool v6;
	uint8_t saddr6[16], daddr6[16];
	uint16_t nh_off;
	uint64_t now_us;
	struct vnet_meta vnet;
	bool csum_trusted;
	bool reassembled;
};

/**
 * struct ratelimit - token bucket: @burst tokens, refilled at @per_sec per second
 */
struct ratelimit {
	uint32_t per_sec;
	uint32_t burst;
	uint32_t tokens;
	uint64_t last_us;
};

/** ratelimit_allow() - take a token if one is there; false means "suppress and count" */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now_us);

/**
 * struct stack_fill - what the TCP layer tells ip4_emit() about the payload of the frame it
 * builds, when that payload is left for the shell to place (struct stack_frame's fill_*)
 */
struct stack_fill {
	struct flow *flow;
	uint32_t seq;
	uint32_t len;
	uint16_t at;
	uint32_t pseudo;
	uint16_t mss;
};

struct tcp_stack; /* the TCP module's per-link state, private to tcp_*.c */
struct udp_stack; /* the UDP module's per-link state, private to udp.c */

/* Offsets in the transmit buffer: we never send IP options. */
#define TX_IP_OFF ETH_HDR_LEN
#define TX_L4_OFF (ETH_HDR_LEN + IP4_HDR_MIN)

struct stack {
	struct stack_cfg cfg;
	uint32_t lease_mtu;         /* the MTU the link was configured with, for DHCP's option
				     * 26: cfg.mtu follows the TAP's real one (stack_set_mtu) */
	struct stack_ops ops;
	void *ctx;
	struct stack_counters cnt;
	uint8_t cmac[ETH_ALEN];     /* the container's MAC, once learned */
	bool cmac_known;
	struct flow_table *flows;
	uint32_t nstate[TCP_NSTATES]; /* live TCP flows per state */
	uint64_t own_flow_id;       /* id counter when cfg.next_flow_id is NULL */
	uint16_t ip_id;             /* IPv4 identification for the datagrams we send */
	struct ratelimit icmp_rl;   /* ICMP errors (RFC 1812 4.3.2.8); echo is not limited */
	struct tcp_stack *tcp;
	uint8_t *txbuf;             /* FRAME_MAX bytes: scratch for ip4_output_fragments() */
	struct stack_txq *txq;      /* the batch frames are built into (the shell's or @own_txq) */
	struct stack_txq *own_txq;  /* the stack's own batch, when the shell gave none */
	struct stack_fill fill;     /* the payload of the frame being built is left to fill */
	unsigned int batch;         /* batch nesting depth (stack_enter/stack_leave) */
	struct udp_stack *udp;
	struct reass *reass;        /* fragments being reassembled (ip4_reass.c), NULL until one */
	struct reass *reass6;       /* IPv6 fragments being reassembled (ip6_reass.c) */
	struct ratelimit icmp6_rl;  /* ICMPv6 errors (RFC 4443 2.4 (f)) */
	uint8_t ll6[16];            /* our link-local address (from cfg.mac, RFC 4291 2.5.6) */
	uint8_t cll6[16];           /* the container's link-local address, once learned */
	bool cll6_known;
	uint64_t ra_next_us;        /* next unsolicited router advertisement, 0: none armed */
	uint8_t ra_initial;         /* initial advertisements still to send (RFC 4861 6.2.4) */
	uint32_t frag6_id;          /* identification of the IPv6 fragments we send */
	/* Keys derived from cfg.secret (siphash.h), one per use: no two uses share a key. */
	uint8_t isn_key[16];        /* RFC 6528 ISNs and RFC 7323 timestamp offsets */
	uint8_t flow_key[16];       /* the flow table's hash */
	uint64_t dhcp_held_until;   /* the container's DHCP client declined the address (dhcp.c) */
};

struct reass; /* a family's reassembly table, private to reass.c (reass.h) */

/* Offset of the L4 header of an IPv6 frame we build: we never send extension headers */
#define TX_L4_OFF6 (ETH_HDR_LEN + IP6_HDR_LEN)

/* --- IPv6 (ip6.c, ip6_reass.c, icmp6.c, ndp.c) ------------------------------------------ */
void ip6_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us);
/**
 * ip6_walk() - walk the extension-header chain of @p (ip, ip_len, addresses filled) up to
 * its upper-layer header and dispatch it, or hand a fragment to ip6_reass_input(); sets
 * @ihl, @nh_off, @proto, @l4, @l4_len
 */
void ip6_walk(struct stack *s, struct pkt *p);
/**
 * ip6_dispatch() - hand a packet whose header chain ip6_input() walked (or ip6_reass put
 * together) to its upper layer
 */
void ip6_dispatch(struct stack *s, const struct pkt *p);
/** ip6_ll_from_mac() - the link-local address of a MAC (modified EUI-64, RFC 4291 2.5.1) */
void ip6_ll_from_mac(uint8_t ll[16], const uint8_t mac[ETH_ALEN]);
/** ip6_in_prefix() - whether @a is in the link's prefix (cfg.addr6/cfg.prefix6_len) */
bool ip6_in_prefix(const struct stack *s, const uint8_t a[16]);
/** ip6_is_local() - whether @a is answered by the stack: gateway, DNS, our link-local */
bool ip6_is_local(const struct stack *s, const uint8_t a[16]);
/**
 * ip6_addr_unicast() - whether @a can be a unicast destination beyond the container: not
 * ::, ::1, multicast, link-local, v4-mapped, nor in the link's prefix (RFC 4291 2.5)
 */
bool ip6_addr_unicast(const struct stack *s, const uint8_t a[16]);
/** ip6_is_multicast() - ff00::/8 (RFC 4291 2.7) */
static inline bool ip6_is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

/** stack_tx_l4_6() - where the L4 header of the IPv6 frame being built goes */
static inline uint8_t *stack_tx_l4_6(struct stack *s);

/**
 * ip6_output() - put IPv6 and Ethernet headers in front of the L4 data at stack_tx_l4_6(s)
 * (checksum filled in) and send the frame: to the container's MAC, or for a multicast
 * @daddr to its group MAC (RFC 2464 7). Dropped and counted as drop_not_for_us while the
 * container's MAC is unknown (unicast only).
 * @hlim:	hop limit (255 for NDP, RFC 4861 6.1.2 and 7.1.2; else 64)
 */
void ip6_output(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		size_t l4_len, uint8_t hlim);

/**
 * ip6_output_fragments() - like ip6_output(), for L4 data longer than one frame carries
 * (checksum done): sends it in RFC 8200 4.5 fragments. @l4_len at most 65527.
 */
void ip6_output_fragments(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16],
			  uint8_t proto, size_t l4_len, uint8_t hlim);

void icmp6_input(struct stack *s, const struct pkt *p);
/**
 * icmp6_finish() - checksum the ICMPv6 message of @len bytes at stack_tx_l4_6(s) (type,
 * code and body written) and send it with ip6_output()
 * @hlim:	hop limit, 0 for the default
 */
void icmp6_finish(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16], size_t len,
		  uint8_t hlim);
/**
 * icmp6_send_error() - send ICMPv6 @type/@code (RFC 4443 3) to the container about @orig,
 * quoting as much of it as fits in 1280 bytes; rate limited, never about an ICMPv6 error
 * nor to a multicast or unspecified source (RFC 4443 2.4 (e))
 * @param:	the type's 32-bit field: the MTU (packet too big), the pointer (parameter
 *		problem), 0 otherwise
 * @from:	source address of the error
 * Return: true if sent (false: not allowed, or rate limited and counted)
 */
bool icmp6_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code,
		      uint32_t param, const uint8_t from[16]);

/**
 * icmp6_send_too_big() - Packet Too Big (RFC 4443 3.2) about @orig, with @mtu (raised to
 * 1280, RFC 8201 4) in its MTU field; also to a multicast destination (RFC 4443 2.4 (e.3))
 * @from:	source address of the error
 * Return: true if sent (counted in icmp_too_big_sent)
 */
bool icmp6_send_too_big(struct stack *s, const struct pkt *orig, uint32_t mtu,
			const uint8_t from[16]);

/**
 * icmp6_unreach_code() - the ICMPv6 destination unreachable code (RFC 4443 3.1) for an ICMP
 * one (RFC 792): port, administratively prohibited, no route, address unreachable
 */
uint8_t icmp6_unreach_code(uint8_t code);

/** ndp_input() - an NDP message (type 133..137), checksum verified (ndp.c) */
void ndp_input(struct stack *s, const struct pkt *p);
/** ndp_tick() - send the unsolicited router advertisement that is due */
void ndp_tick(struct stack *s, uint64_t now_us);
/** ndp_deadline() - when the next unsolicited router advertisement is due, UINT64_MAX if none */
uint64_t ndp_deadline(const struct stack *s);
/** ndp_learn() - a valid IPv6 packet came from link-local @src: remember it as the container's */
void ndp_learn(struct stack *s, const uint8_t src[16]);

/**
 * ip6_reass_input() - one fragment (offset or M nonzero) of @p, whose fragment header is at
 * @frag_off from p->ip (ip6_walk() checked it lies within the packet)
 */
void ip6_reass_input(struct stack *s, const struct pkt *p, size_t frag_off);
/** ip6_reass_tick() - discard packets whose reassembly timed out */
void ip6_reass_tick(struct stack *s, uint64_t now_us);
/** ip6_reass_deadline() - when the next reassembly times out, UINT64_MAX if none pending */
uint64_t ip6_reass_deadline(const struct stack *s);
/** ip6_reass_free() - drop every partial packet and the state (stack_free) */
void ip6_reass_free(struct stack *s);
/** ip6_reass_pending() - packets in reassembly (for tests) */
size_t ip6_reass_pending(const struct stack *s);

/* Layers (each in its own .c); @vm is the frame's virtio-net header, NULL if it had none */
void eth_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us);
void arp_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us);
void ip4_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us);
void icmp_input(struct stack *s, const struct pkt *p);
void tcp_input(struct stack *s, const struct pkt *p);
void udp_input(struct stack *s, const struct pkt *p);

/**
 * dhcp_input() - take a DHCP client's message (dhcp.c), before ip4_input()'s source and
 * destination rules, which a client without an address cannot meet
 * Return: true if @p was addressed to the DHCP server (answered, or dropped and counted);
 * false if it is no DHCP message and goes its usual way
 */
bool dhcp_input(struct stack *s, struct pkt *p);

/**
 * vnet_parse() - check a virtio-net header (@h, VNET_HDR_LEN bytes) against the @frame_len
 * bytes of frame after it: known flags and GSO type, a sane gso_size, a partial checksum
 * inside the frame. Each failure is counted in one drop_vnet_* counter.
 * @m:		filled when valid
 * Return: 0, or -1 (drop the frame)
 */
int vnet_parse(struct stack *s, const uint8_t *h, size_t frame_len, struct vnet_meta *m);

/**
 * vnet_l4_check() - whether the virtio-net header of datagram @p fits what it carries (GSO
 * only for TCP/IPv4, a partial checksum only on the TCP or UDP checksum field), and whether
 * the L4 checksum is to be trusted; counted in drop_vnet_* when not
 * @p:		validated by ip4_input(); @p->csum_trusted is set
 * Return: 0, or -1 (drop the datagram)
 */
int vnet_l4_check(struct stack *s, struct pkt *p);

/**
 * ip4_dispatch() - hand a datagram that ip4_input() validated (or ip4_reass put together)
 * to its protocol
 */
void ip4_dispatch(struct stack *s, struct pkt *p);

/* Reassembly of the container's fragments (ip4_reass.c) */
/** ip4_reass_input() - one fragment (MF set or offset nonzero), validated by ip4_input() */
void ip4_reass_input(struct stack *s, const struct pkt *p);
/** ip4_reass_tick() - discard datagrams whose reassembly timed out */
void ip4_reass_tick(struct stack *s, uint64_t now_us);
/** ip4_reass_deadline() - when the next reassembly times out, UINT64_MAX if none is pending */
uint64_t ip4_reass_deadline(const struct stack *s);
/** ip4_reass_free() - drop every partial datagram and the state (stack_free) */
void ip4_reass_free(struct stack *s);
/** ip4_reass_pending() - datagrams in reassembly (for tests) */
size_t ip4_reass_pending(const struct stack *s);

/**
 * eth_learn_container() - remember @mac as the container's MAC (never a group address)
 */
void eth_learn_container(struct stack *s, const uint8_t mac[ETH_ALEN]);

/**
 * arp_request_container() - broadcast an ARP who-has for the container's address, from the
 * gateway address (RFC 826), so that its MAC becomes known. Not rate limited: callers only
 * send when they had a frame for the container, and those are bounded by their own timers.
 */
void arp_request_container(struct stack *s);

/**
 * ip4_addr_unicast() - whether @addr can be a unicast destination beyond the container: not
 * 0.0.0.0/8, 127.0.0.0/8, multicast or class E (RFC 1122 3.2.1.3, RFC 5771), nor the limited
 * or the link's subnet broadcast address (RFC 919, RFC 922)
 */
bool ip4_addr_unicast(const struct stack *s, uint32_t addr);

/* TCP module lifecycle (tcp_conn.c / tcp_timer.c) */
/** tcp_dispatch() - run the output of every flow noted during the batch (tcp_output.c) */
void tcp_dispatch(struct stack *s, uint64_t now_us);
int tcp_init(struct stack *s);
void tcp_fini(struct stack *s);
void tcp_tick(struct stack *s, uint64_t now_us);
uint64_t tcp_next_deadline(struct stack *s);
/** tcp_release() - free the TCP state of @f (no frames sent); called by stack_flow_release */
void tcp_release(struct stack *s, struct flow *f);

/* UDP module lifecycle (udp.c) */
int udp_init(struct stack *s);
void udp_fini(struct stack *s);
void udp_tick(struct stack *s, uint64_t now_us);
uint64_t udp_next_deadline(struct stack *s);
/** udp_release() - drop the UDP state of @f (no frames sent); called by stack_flow_release */
void udp_release(struct stack *s, struct flow *f);

/**
 * ip4_output_fragments() - like ip4_output(), for L4 data longer than one frame can carry:
 * sends it as RFC 791 fragments (ip4_frag.c). @l4_len at most 65515.
 */
void ip4_output_fragments(struct stack *s, uint32_t saddr, uint32_t daddr, uint8_t proto,
			  size_t l4_len);

/**
 * stack_tx_flush() - hand the batch's frames to ops->tx (nothing if it is empty)
 */
void stack_tx_flush(struct stack *s);

/** stack_tx_frame() - the start of the frame being built: the next free slot of the batch,
 * sending the batch first if it is full */
static inline uint8_t *stack_tx_frame(struct stack *s)
{
	if (s->txq->n >= s->txq->cap)
		stack_tx_flush(s);
	return s->txq->slot[s->txq->n] + STACK_TX_HEADROOM;
}

/** stack_tx_l4() - where the L4 header of the frame being built goes */
static inline uint8_t *stack_tx_l4(struct stack *s)
{
	return stack_tx_frame(s) + TX_L4_OFF;
}

static inline uint8_t *stack_tx_l4_6(struct stack *s)
{
	return stack_tx_frame(s) + TX_L4_OFF6;
}

/** stack_l4_max6() - the largest L4 length one IPv6 frame may carry */
static inline size_t stack_l4_max6(const struct stack *s)
{
	return s->cfg.mtu - IP6_HDR_LEN;
}

/**
 * stack_tx_raw() - add a frame built elsewhere (@len bytes, at most FRAME_MAX) to the batch
 */
void stack_tx_raw(struct stack *s, const uint8_t *frame, size_t len);

/**
 * stack_txq_forget() - @f is going away: frames of the batch still to be filled with its
 * upstream bytes are dropped
 */
void stack_txq_forget(struct stack *s, const struct flow *f);

/**
 * stack_enter() - an entry point begins: a batch of its own unless one is running
 */
static inline void stack_enter(struct stack *s)
{
	stack_batch_begin(s);
}

/**
 * stack_leave() - an entry point ends: end its batch (dispatch and send when outermost)
 */
static inline void stack_leave(struct stack *s, uint64_t now_us)
{
	stack_batch_end(s, now_us);
}

/** stack_l4_max() - the largest L4 length (header + payload) one frame may carry */
static inline size_t stack_l4_max(const struct stack *s)
{
	return s->cfg.mtu - IP4_HDR_MIN;
}

/**
 * ip4_output() - finish and send the frame whose L4 part (@l4_len bytes, checksum already
 * filled in) is at stack_tx_l4(s): writes the IPv4 header (DF set, TTL 64) and the Ethernet
 * header to the container's MAC. Dropped (and counted as drop_not_for_us) if the container's
 * MAC is not known yet.
 */
void ip4_output(struct stack *s, uint32_t saddr, uint32_t daddr, uint8_t proto, size_t l4_len);

/**
 * ip4_emit() - write the Ethernet header (to the container's MAC, which must be known) at @e
 * and the IPv4 header after it, for @data_len bytes that follow, and send the frame
 * @id, @frag:	Identification, and flags with fragment offset, as on the wire
 * The one place where the stack builds those headers: ip4_output(), ip4_output_fragments().
 */
void ip4_emit(struct stack *s, uint8_t *e, uint32_t saddr, uint32_t daddr, uint8_t proto,
	      size_t data_len, uint16_t id, uint16_t frag);

/**
 * ip4_emit_to() - ip4_emit() to the Ethernet address @dmac instead of the container's
 */
void ip4_emit_to(struct stack *s, const uint8_t dmac[ETH_ALEN], uint8_t *e, uint32_t saddr,
		 uint32_t daddr, uint8_t proto, size_t data_len, uint16_t id, uint16_t frag);

/**
 * ip4_output_to() - ip4_output() to the Ethernet address @dmac (broadcast, or a DHCP client's
 * chaddr), which need not be the learned container MAC: for the DHCP server, whose client may
 * have sent nothing else yet. @l4_len at most stack_l4_max(s).
 */
void ip4_output_to(struct stack *s, const uint8_t dmac[ETH_ALEN], uint32_t saddr, uint32_t daddr,
		   uint8_t proto, size_t l4_len);

/**
 * icmp_send_error() - send ICMP @type/@code to the container about packet @orig, quoting its
 * IP header and first 8 bytes of payload (RFC 792; RFC 1812 4.3.2.3). Rate limited.
 * @from:	source address of the error (the peer the container addressed, or the gateway)
 * Return: true if sent (false: RFC 1122 3.2.2 forbids it, or rate limited and counted)
 */
bool icmp_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code,
		     uint32_t from);

/**
 * icmp_send_frag_needed() - destination unreachable "fragmentation needed and DF set" (RFC
 * 792, RFC 1191 4) about @orig with the next-hop @mtu; nothing unless @orig has DF set
 * @from:	source address of the error
 * Return: true if sent (counted in icmp_too_big_sent)
 */
bool icmp_send_frag_needed(struct stack *s, const struct pkt *orig, uint32_t mtu, uint32_t from);

/* --- either family: what TCP and UDP use to send, so that they hold no per-family code --- */

/**
 * struct ip_pair - source and destination of a packet the stack sends, IPv4 or IPv6
 * @v6:		IPv6: @src6 and @dst6 hold the addresses, else @src4 and @dst4 (host order)
 */
struct ip_pair {
	bool v6;
	uint32_t src4, dst4;
	uint8_t src6[16], dst6[16];
};

/** ip_pair_of_flow() - from a flow's peer (as the container addressed it) to the container */
static inline struct ip_pair ip_pair_of_flow(const struct flow *f)
{
	struct ip_pair a = { .v6 = f->v6, .src4 = f->paddr, .dst4 = f->caddr };

	if (f->v6) {
		memcpy(a.src6, f->paddr6, 16);
		memcpy(a.dst6, f->caddr6, 16);
	}
	return a;
}

/** ip_pair_reply() - from a received packet's destination back to its source */
static inline struct ip_pair ip_pair_reply(const struct pkt *p)
{
	struct ip_pair a = { .v6 = p->v6, .src4 = p->daddr, .dst4 = p->saddr };

	if (p->v6) {
		memcpy(a.src6, p->daddr6, 16);
		memcpy(a.dst6, p->saddr6, 16);
	}
	return a;
}

/** ip_pair_tx_l4() - where the L4 header of the frame being built over @a goes */
static inline uint8_t *ip_pair_tx_l4(struct stack *s, const struct ip_pair *a)
{
	return stack_tx_frame(s) + (a->v6 ? TX_L4_OFF6 : TX_L4_OFF);
}

/** ip_pair_l4_max() - the largest L4 length one frame over @a may carry */
static inline size_t ip_pair_l4_max(const struct stack *s, const struct ip_pair *a)
{
	return s->cfg.mtu - (a->v6 ? IP6_HDR_LEN : IP4_HDR_MIN);
}

/** ip_pair_hdr() - the IP header length of what goes from @a (we send no options) */
static inline size_t ip_pair_hdr(const struct ip_pair *a)
{
	return a->v6 ? IP6_HDR_LEN : IP4_HDR_MIN;
}

/** ip_pair_l4_off() - offset of the L4 header in a frame sent over @a */
static inline uint16_t ip_pair_l4_off(const struct ip_pair *a)
{
	return a->v6 ? TX_L4_OFF6 : TX_L4_OFF;
}

/** ip_pair_pseudo() - the pseudo-header sum of @a for @proto and @len L4 bytes */
static inline uint64_t ip_pair_pseudo(const struct ip_pair *a, uint8_t proto, size_t len)
{
	if (a->v6)
		return csum_pseudo6(a->src6, a->dst6, proto, (uint32_t)len);
	return csum_pseudo4(a->src4, a->dst4, proto, (uint16_t)len);
}

/** pkt_pseudo() - the pseudo-header sum of a received packet's L4 part */
static inline uint64_t pkt_pseudo(const struct pkt *p, uint8_t proto, size_t len)
{
	if (p->v6)
		return csum_pseudo6(p->saddr6, p->daddr6, proto, (uint32_t)len);
	return csum_pseudo4(p->saddr, p->daddr, proto, (uint16_t)len);
}

/**
 * ip_pair_output() - ip4_output() or ip6_output() of the L4 data at ip_pair_tx_l4()
 * @frag:	more than one frame carries may go in fragments (UDP, ICMP): else dropped
 */
void ip_pair_output(struct stack *s, const struct ip_pair *a, uint8_t proto, size_t l4_len,
		    bool frag);

/** stack_flow_new6() - stack_flow_new() for an IPv6 4-tuple */
struct flow *stack_flow_new6(struct stack *s, uint8_t proto, const uint8_t caddr[16],
			     uint16_t cport, const uint8_t paddr[16], uint16_t pport,
			     uint64_t now_us);

/** stack_is_local() - address answered by the stack itself (gateway or DNS) */
static inline bool stack_is_local(const struct stack *s, uint32_t addr)
{
	return addr == s->cfg.gateway || addr == s->cfg.dns;
}

/**
 * stack_flow_new() - create a flow with a fresh id, count it, report STACK_EV_OPEN
 * Return: the flow, or NULL if the table is full (caller counts the drop)
 */
struct flow *stack_flow_new(struct stack *s, uint8_t proto, uint32_t caddr, uint16_t cport,
			    uint32_t paddr, uint16_t pport, uint64_t now_us);

/**
 * stack_set_state() - move @f to @state: history, per-state counts, STACK_EV_STATE.
 * The one place where any flow changes state.
 */
void stack_set_state(struct stack *s, struct flow *f, uint8_t state, uint64_t now_us);

/**
 * stack_flow_release() - end @f with @end: count the outcome, report STACK_EV_CLOSE, call
 * ops->flow_closed, free the slot. @f is invalid afterwards.
 */
void stack_flow_release(struct stack *s, struct flow *f, int end, uint64_t now_us);

#endif
