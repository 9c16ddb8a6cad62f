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
 * struct pkt - a received IPv4 packet, validated down to the IP layer
 * @frame, @frame_len:	the whole Ethernet frame
 * @ip, @ip_len:	IPv4 header and payload; @ip_len is the IP total length (<= what the frame
 *			carries; Ethernet padding beyond it is ignored)
 * @ihl:		IPv4 header length in bytes (20..60)
 * @l4, @l4_len:	transport header and payload
 * @saddr, @daddr:	addresses (host byte order)
 * @proto, @ttl, @tos:	header fields
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
	uint64_t now_us;
	struct vnet_meta vnet;
	bool csum_trusted;
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
	struct ip4_reass *reass;    /* fragments being reassembled (ip4_reass.c), NULL until one */
	/* Keys derived from cfg.secret (siphash.h), one per use: no two uses share a key. */
	uint8_t isn_key[16];        /* RFC 6528 ISNs and RFC 7323 timestamp offsets */
	uint8_t flow_key[16];       /* the flow table's hash */
	uint64_t dhcp_held_until;   /* the container's DHCP client declined the address (dhcp.c) */
};

struct ip4_reass; /* the reassembly state, private to ip4_reass.c */

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
bool dhcp_input(struct stack *s, const struct pkt *p);

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
 */
void icmp_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code,
		     uint32_t from);

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
