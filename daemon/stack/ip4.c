/* ip4.c - IPv4 (RFC 791, RFC 1122 3.2.1): validate what the container sends and hand it to
 * ICMP or TCP; put the IPv4 and Ethernet headers in front of everything we send.
 *
 * We are the far end of every datagram the container sends, never a router: nothing is
 * forwarded, fragments go to ip4_reass.c and come back whole through ip4_dispatch(), options
 * are ignored. Must not: know about flows or transport headers beyond the protocol number.
 */
#include "stack_internal.h"
#include "checksum.h"

#define IP4_TTL_OUT 64 /* RFC 1700 default, Linux ip_default_ttl */

/**
 * ip4_prefix_mask() - the link's netmask
 * @s:		the link's stack
 *
 * Return: the mask for cfg.prefix_len, host byte order
 */
static uint32_t ip4_prefix_mask(const struct stack *s)
{
	return s->cfg.prefix_len ? ~0u << (32 - s->cfg.prefix_len) : 0;
}

bool ip4_addr_unicast(const struct stack *s, uint32_t addr)
{
	uint32_t mask = ip4_prefix_mask(s);
	uint8_t first = (uint8_t)(addr >> 24);

	/* RFC 1122 3.2.1.3: {0, *} is "this network", 127/8 never appears outside a host;
	 * 224/4 is multicast (RFC 5771); 240/4, which holds 255.255.255.255, is reserved. */
	if (first == 0 || first == 127 || first >= 224)
		return false;
	/* RFC 922, RFC 1122 3.2.1.3 (c), (d): the subnet's directed broadcast, and its
	 * all-zeroes host part, the obsolete form of it. A /31 (RFC 3021) or /32 has none. */
	if (s->cfg.prefix_len <= 30 && (addr & mask) == (s->cfg.addr & mask) &&
	    ((addr & ~mask) == ~mask || !(addr & ~mask)))
		return false;
	return true;
}

/**
 * ip4_hop_check() - what a router in our place would refuse: a datagram for a host we relay
 * to whose TTL runs out here, or one larger than the link's MTU that may not be fragmented
 * @s:		the link's stack
 * @p:		the datagram, from the container's address to a unicast address
 *
 * We are the far end of the container's datagrams, but to the container we are its first
 * hop: a datagram for any host but the gateway and DNS addresses is relayed on, as a router
 * forwards it. RFC 1812 5.3.1: a router that would forward a datagram with TTL 1 or 0
 * discards it and sends Time Exceeded code 0 (RFC 792) from its own address: that is what
 * makes `traceroute` and `mtr` in the container show the gateway as hop 1. (pasta instead
 * copies the TTL to its host socket, IP_TTL, and is invisible to traceroute; its host then
 * answers from beyond. Our relay sockets keep the host's TTL, so the gateway must answer.)
 * The gateway and DNS addresses are the datagram's destination, not forwarded: RFC 1122
 * 3.2.1.7, a host MUST NOT discard a datagram it receives with TTL below 2.
 * RFC 1191 4, RFC 1812 5.2.7.1: a datagram with DF set larger than the link's MTU is
 * answered with "fragmentation needed" and the MTU, unless a virtio-net GSO header says it
 * is a super-frame, which the container's kernel cut as it was allowed to. Without DF the
 * datagram is taken: a router would fragment it, and we reassemble nothing more by taking
 * it whole.
 * Return: true if the datagram was dropped (counted, and answered where allowed)
 */
static bool ip4_hop_check(struct stack *s, const struct pkt *p)
{
	if (stack_is_local(s, p->daddr))
		return false;
	if (p->ttl <= 1) {
		s->cnt.drop_ip_ttl_expired++;
		if (icmp_send_error(s, p, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, s->cfg.gateway))
			s->cnt.icmp_time_exceeded_sent++;
		return true;
	}
	if (p->ip_len > s->cfg.mtu && p->vnet.gso_type == VNET_GSO_NONE &&
	    (rd16(p->ip + 6) & IP4_FLAG_DF)) {
		s->cnt.drop_ip_too_big++;
		icmp_send_frag_needed(s, p, s->cfg.mtu, s->cfg.gateway);
		return true;
	}
	return false;
}

/**
 * ip4_input() - validate one IPv4 datagram from the container and dispatch it
 * @s:		the link's stack
 * @frame:	the whole Ethernet frame, addressed to our MAC
 * @len:	its length
 * @vm:		its virtio-net header, NULL if none
 * @now_us:	arrival time
 *
 * Checks run from the outside in, so that each datagram is counted once, under the first
 * thing wrong with it.
 */
void ip4_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us)
{
	const uint8_t *h = frame + ETH_HDR_LEN;
	size_t avail = len - ETH_HDR_LEN; /* eth_input guarantees len >= ETH_HDR_LEN */
	struct pkt p;
	uint16_t frag;
	size_t ihl, tot;

	if (avail < IP4_HDR_MIN) {
		s->cnt.drop_short_frame++;
		return;
	}
	if (h[0] >> 4 != 4) {
		s->cnt.drop_ip_bad_version++;
		return;
	}
	ihl = (size_t)(h[0] & 0xf) * 4;
	if (ihl < IP4_HDR_MIN || ihl > avail) {
		s->cnt.drop_ip_bad_ihl++;
		return;
	}
	/* RFC 1122 3.2.1.1 asks for the header checksum, version and length checks; bytes past
	 * the total length are Ethernet padding (frames shorter than 60 bytes) and ignored. */
	tot = rd16(h + 2);
	if (tot < ihl || tot > avail) {
		s->cnt.drop_ip_bad_length++;
		return;
	}
	if (!csum_ok(h, ihl, 0)) {
		s->cnt.drop_ip_bad_checksum++;
		return;
	}

	memset(&p, 0, sizeof(p));
	p.frame = frame;
	p.frame_len = len;
	p.ip = h;
	p.ip_len = tot;
	p.ihl = ihl;
	p.l4 = h + ihl;
	p.l4_len = tot - ihl;
	p.tos = h[1];
	p.ttl = h[8];
	p.proto = h[9];
	p.saddr = rd32(h + 12);
	p.daddr = rd32(h + 16);
	p.now_us = now_us;
	if (vm)
		p.vnet = *vm;

	/* A DHCP client speaks before it has an address (RFC 2131 4.1: from 0.0.0.0, to the
	 * limited broadcast): its messages are taken before the rules below refuse them. */
	if (s->cfg.dhcp && dhcp_input(s, &p))
		return;
	/* Broadcast frames come this far only for DHCP (eth_input): RFC 1122 3.3.6 */
	if (memcmp(frame, s->cfg.mac, ETH_ALEN)) {
		s->cnt.drop_not_for_us++;
		return;
	}

	/* One container, one address: anything else (0.0.0.0 of a DHCP client with dhcp off, and
	 * spoofing) is not relayed. */
	if (p.saddr != s->cfg.addr) {
		s->cnt.drop_ip_bad_source++;
		return;
	}
	/* The frame is the container's, with a valid header: its source MAC is the one to
	 * answer. (ARP usually taught it first; a static neighbour entry would not.) */
	eth_learn_container(s, frame + ETH_ALEN);

	/* We only terminate unicast; a datagram to the container's own address came back on
	 * the wrong link. */
	if (p.daddr == s->cfg.addr || !ip4_addr_unicast(s, p.daddr)) {
		s->cnt.drop_not_for_us++;
		return;
	}
	if (ip4_hop_check(s, &p))
		return;
	frag = rd16(h + 6);
	if ((frag & IP4_FLAG_MF) || (frag & IP4_FRAG_OFF_MASK)) {
		/* A super-frame or a partial checksum covers a whole datagram, never a fragment:
		 * the container's kernel does not make such frames. The reassembled datagram is
		 * verified like any other (its struct pkt has no virtio-net header). */
		if (p.vnet.gso_type != VNET_GSO_NONE) {
			s->cnt.drop_vnet_bad_gso++;
			return;
		}
		if (p.vnet.flags & VNET_F_NEEDS_CSUM) {
			s->cnt.drop_vnet_bad_csum++;
			return;
		}
		ip4_reass_input(s, &p);
		return;
	}
	ip4_dispatch(s, &p);
}

/**
 * ip4_dispatch() - hand a whole datagram to its protocol
 * @s:		the link's stack
 * @p:		validated by ip4_input(), or put together by ip4_reass.c; @p->csum_trusted
 *		is set here
 */
void ip4_dispatch(struct stack *s, struct pkt *p)
{
	if (vnet_l4_check(s, p))
		return;
	/* TTL was looked at by ip4_hop_check(), for relayed hosts only */
	switch (p->proto) {
	case PROTO_ICMP:
		icmp_input(s, p);
		return;
	case PROTO_TCP:
		tcp_input(s, p);
		return;
	case PROTO_UDP:
		udp_input(s, p);
		return;
	default:
		/* RFC 1122 3.2.2.1: a host SHOULD answer a transport protocol it does not
		 * support with Protocol Unreachable (pasta stays silent; we follow the RFC) */
		s->cnt.drop_ip_bad_proto++;
		icmp_send_error(s, p, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, p->daddr);
		return;
	}
}

/**
 * ip4_output() - put IPv4 and Ethernet headers in front of the L4 data at stack_tx_l4(s) and
 * send the frame to the container
 * @s:		the link's stack
 * @saddr:	source address (the peer the container talks to, or the gateway or DNS)
 * @daddr:	destination address (the container's)
 * @proto:	IP protocol of the L4 data
 * @l4_len:	bytes of L4 header and payload already written at stack_tx_l4(s)
 */
void ip4_output(struct stack *s, uint32_t saddr, uint32_t daddr, uint8_t proto, size_t l4_len)
{
	uint8_t *e = stack_tx_frame(s);

	/* A caller bug, not a container's doing: never emit a frame the link cannot carry (a
	 * TCP super-frame the kernel cuts, cfg.tso, excepted) */
	if (l4_len > stack_l4_max(s) && !(s->fill.flow && s->cfg.tso && l4_len <= 65535 - IP4_HDR_MIN)) {
		memset(&s->fill, 0, sizeof(s->fill));
		return;
	}
	if (!s->cmac_known) {
		memset(&s->fill, 0, sizeof(s->fill));
		/* Unicast to an unknown MAC would be broadcast or lost: ask, and let the caller's
		 * own retransmission carry the data once the container has answered. */
		arp_request_container(s);
		s->cnt.drop_not_for_us++;
		return;
	}

	/* RFC 6864 4.1: the ID of an atomic datagram (DF set, not a fragment) has no meaning;
	 * a counter is what Linux and pasta use and costs nothing */
	ip4_emit(s, e, saddr, daddr, proto, l4_len, s->ip_id++, IP4_FLAG_DF);
}

void ip4_output_to(struct stack *s, const uint8_t dmac[ETH_ALEN], uint32_t saddr, uint32_t daddr,
		   uint8_t proto, size_t l4_len)
{
	/* the frame starts where the L4 data the caller wrote begins, less our headers */
	uint8_t *e = stack_tx_l4(s) - TX_L4_OFF;

	if (l4_len > stack_l4_max(s))
		return;
	ip4_emit_to(s, dmac, e, saddr, daddr, proto, l4_len, s->ip_id++, IP4_FLAG_DF);
}

void ip4_emit(struct stack *s, uint8_t *e, uint32_t saddr, uint32_t daddr, uint8_t proto,
	      size_t data_len, uint16_t id, uint16_t frag)
{
	ip4_emit_to(s, s->cmac, e, saddr, daddr, proto, data_len, id, frag);
}

void ip4_emit_to(struct stack *s, const uint8_t dmac[ETH_ALEN], uint8_t *e, uint32_t saddr,
		 uint32_t daddr, uint8_t proto, size_t data_len, uint16_t id, uint16_t frag)
{
	uint8_t *h = e + ETH_HDR_LEN;
	size_t len = ETH_HDR_LEN + IP4_HDR_MIN + data_len;
	struct stack_frame *fr;

	memcpy(e, dmac, ETH_ALEN);
	memcpy(e + ETH_ALEN, s->cfg.mac, ETH_ALEN);
	wr16(e + 12, ETHERTYPE_IPV4);

	h[0] = 0x45; /* version 4, IHL 5: we never send options */
	h[1] = 0;
	wr16(h + 2, (uint16_t)(IP4_HDR_MIN + data_len));
	wr16(h + 4, id);
	wr16(h + 6, frag);
	h[8] = IP4_TTL_OUT;
	h[9] = proto;
	wr16(h + 10, 0);
	wr32(h + 12, saddr);
	wr32(h + 16, daddr);
	wr16(h + 10, csum_fold(csum_partial(h, IP4_HDR_MIN, 0)));

	fr = &s->txq->frame[s->txq->n];
	fr->data = e;
	fr->len = len;
	fr->fill_flow = s->fill.flow;
	fr->fill_seq = s->fill.seq;
	fr->fill_len = s->fill.len;
	fr->fill_at = s->fill.at;
	fr->l4_off = ETH_HDR_LEN + IP4_HDR_MIN;
	fr->csum_off = proto == PROTO_UDP ? 6 : proto == PROTO_TCP ? 16 : 2;
	fr->csum_pseudo = s->fill.pseudo;
	fr->mss = s->fill.mss;
	memset(&s->fill, 0, sizeof(s->fill));
	s->txq->n++;
	s->cnt.tx_frames++;
	s->cnt.tx_bytes += len;
	if (!s->batch)
		stack_tx_flush(s); /* built outside any batch (an internal call): send it now */
}
