/* ip6.c - IPv6 (RFC 8200): validate what the container sends, walk its extension-header chain
 * within a bound, hand the upper layer to ICMPv6, TCP or UDP; put the IPv6 and Ethernet
 * headers in front of everything we send over IPv6.
 *
 * As ip4.c, we are the far end of every packet, never a router: a routing header with
 * segments left is refused, fragments go to ip6_reass.c and come back whole through
 * ip6_dispatch(). Must not: know about flows or transport headers beyond the next header.
 */
#include "stack_internal.h"
#include "checksum.h"

#define IP6_HLIM_OUT 64 /* RFC 8200 3 leaves it to the node; Linux's default hop limit */

/* RFC 8200 4.1 sets no bound on the chain; we walk at most this many extension headers. A
 * legitimate packet carries at most hop-by-hop, destination options twice, routing and
 * fragment (RFC 8200 4.1's order): 8 is room to spare, and a longer chain is only ever an
 * attack on the walk (RFC 8504 5.3 lets a node set such a limit). */
#define IP6_MAX_EXT_HDRS 8

#define IP6_RH_TYPE0 0

/* Option types (RFC 8200 4.2) whose meaning we know: padding. Everything else is unknown to
 * us: the Router Alert of MLD (5) in hop-by-hop is skipped by its "00" action bits, and the
 * Jumbo Payload (0xc2) is refused by its "11" bits, which suits a 64 KiB link. */
#define IP6_OPT_PAD1 0
#define IP6_OPT_PADN 1

void ip6_ll_from_mac(uint8_t ll[16], const uint8_t mac[ETH_ALEN])
{
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	/* RFC 4291 appendix A: the interface identifier is the MAC with ff:fe in the middle
	 * and the universal/local bit inverted */
	ll[8] = mac[0] ^ 0x02;
	ll[9] = mac[1];
	ll[10] = mac[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = mac[3];
	ll[14] = mac[4];
	ll[15] = mac[5];
}

bool ip6_in_prefix(const struct stack *s, const uint8_t a[16])
{
	unsigned int bits = s->cfg.prefix6_len, bytes = bits / 8;

	if (memcmp(a, s->cfg.addr6, bytes))
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		return (a[bytes] & mask) == (s->cfg.addr6[bytes] & mask);
	}
	return true;
}

bool ip6_is_local(const struct stack *s, const uint8_t a[16])
{
	return !memcmp(a, s->cfg.gateway6, 16) || !memcmp(a, s->cfg.dns6, 16) ||
	       !memcmp(a, s->ll6, 16);
}

/**
 * ip6_is_link_local() - fe80::/10 (RFC 4291 2.5.6)
 * @a:		an address
 *
 * Return: true if @a is link-local unicast
 */
static bool ip6_is_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/**
 * ip6_is_unspecified() - :: (RFC 4291 2.5.2)
 * @a:		an address
 *
 * Return: true if every bit of @a is zero
 */
static bool ip6_is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

bool ip6_addr_unicast(const struct stack *s, const uint8_t a[16])
{
	static const uint8_t loop[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	/* RFC 4291 2.5.2, 2.5.3: :: and ::1 never leave a node; 2.5.5.2: a v4-mapped address
	 * names an IPv4 node, which the container reaches over IPv4; multicast and
	 * link-local are not beyond the link; the prefix is the link itself. */
	if (ip6_is_unspecified(a) || !memcmp(a, loop, 16) || !memcmp(a, mapped, 12) ||
	    ip6_is_multicast(a) || ip6_is_link_local(a) || ip6_in_prefix(s, a))
		return false;
	return true;
}

/**
 * ip6_source_ok() - whether the container may send from @a: the link's prefix (fd00::100
 * and its SLAAC addresses), link-local, or :: (duplicate address detection, RFC 4862 5.4)
 * @s:		the link's stack
 * @a:		source address
 *
 * Return: true if acceptable; the upper layers narrow this further (ICMPv6 errors, TCP and
 * UDP need a source in the prefix)
 */
static bool ip6_source_ok(const struct stack *s, const uint8_t a[16])
{
	return ip6_in_prefix(s, a) || ip6_is_link_local(a) || ip6_is_unspecified(a);
}

/**
 * ip6_dest_ours() - whether a packet to @a is one we terminate: unicast beyond the link, an
 * address of ours, or a multicast group we take part in (all-nodes ff02::1, all-routers
 * ff02::2, the solicited-node groups, RFC 4291 2.7.1)
 * @s:		the link's stack
 * @a:		destination address
 *
 * Return: true if ours
 */
static bool ip6_dest_ours(const struct stack *s, const uint8_t a[16])
{
	static const uint8_t sol[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	if (ip6_is_multicast(a)) {
		if (a[1] != 0x02 || memcmp(a + 2, sol + 2, 9))
			return false;
		if (!a[11] && !a[12] && !a[13] && !a[14] && (a[15] == 1 || a[15] == 2))
			return true;
		/* solicited-node: NS for any address, DAD of the container's included; ndp.c
		 * sorts out whose */
		return !memcmp(a, sol, 13);
	}
	return ip6_is_local(s, a) || ip6_addr_unicast(s, a);
}

/**
 * ip6_options() - check the TLV options of a hop-by-hop or destination options header
 * (RFC 8200 4.2)
 * @s:		the link's stack
 * @p:		the packet (for the parameter problem)
 * @off:	offset of the extension header from p->ip
 * @len:	its length in bytes
 *
 * Return: true to go on with the packet; false when an option's action bits discard it
 * (counted, and answered by a parameter problem where 4.2 says so)
 */
static bool ip6_options(struct stack *s, const struct pkt *p, size_t off, size_t len)
{
	size_t i = 2; /* past next header and length */

	while (i < len) {
		uint8_t type = p->ip[off + i];
		size_t olen;

		if (type == IP6_OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + p->ip[off + i + 1] > len) {
			s->cnt.drop_ip6_malformed++;
			return false;
		}
		olen = 2 + (size_t)p->ip[off + i + 1];
		if (type == IP6_OPT_PADN) {
			i += olen;
			continue;
		}
		/* RFC 8200 4.2: the two high-order bits of an unrecognized option's type */
		switch (type >> 6) {
		case 0: /* skip over it */
			i += olen;
			continue;
		case 1: /* discard silently */
			s->cnt.drop_ip6_bad_option++;
			return false;
		case 2: /* discard, parameter problem code 2 even to a multicast destination */
			s->cnt.drop_ip6_bad_option++;
			icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_OPTION,
					 (uint32_t)(off + i), s->cfg.gateway6);
			return false;
		default: /* discard, parameter problem only for a unicast destination */
			s->cnt.drop_ip6_bad_option++;
			if (!ip6_is_multicast(p->daddr6))
				icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_OPTION,
						 (uint32_t)(off + i), s->cfg.gateway6);
			return false;
		}
	}
	return true;
}

/**
 * ip6_upper_min() - the fewest bytes of upper-layer header @nh that tell its ports or type
 * @nh:		a next header that is no extension header we walk
 *
 * Return: TCP's fixed header, UDP's header, ICMPv6's first 8 bytes (type to identifier or
 * MTU), one byte of anything else, none for No Next Header (as Linux's
 * ipv6_frag_thdr_truncated())
 */
static size_t ip6_upper_min(uint8_t nh)
{
	switch (nh) {
	case PROTO_TCP:
		return TCP_HDR_MIN;
	case PROTO_UDP:
		return UDP_HDR_LEN;
	case IP6_NH_ICMP6:
		return ICMP_HDR_LEN;
	case IP6_NH_NONE:
		return 0;
	default:
		return 1;
	}
}

/**
 * ip6_first_frag_chain_ok() - whether fragment zero holds the whole header chain up to and
 * including the upper-layer header (RFC 7112 5, RFC 8200 4.5)
 * @p:		the fragment
 * @off:	offset of what follows its fragment header, from p->ip
 * @nh:		the fragment header's next header
 * @n:		extension headers walked before it, the fragment header included
 *
 * Only the length of each header is read here: its content is checked once the packet is
 * whole, when ip6_walk() goes over the reassembled chain.
 * Return: true if the chain is all there (or too long: ip6_walk() drops that after
 * reassembly, counted as such); false if it is cut off by the end of the fragment
 */
static bool ip6_first_frag_chain_ok(const struct pkt *p, size_t off, uint8_t nh, unsigned int n)
{
	for (; n < IP6_MAX_EXT_HDRS; n++) {
		size_t hlen;

		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_DSTOPTS && nh != IP6_NH_ROUTING &&
		    nh != IP6_NH_FRAGMENT)
			return off + ip6_upper_min(nh) <= p->ip_len;
		if (off + 8 > p->ip_len)
			return false;
		hlen = nh == IP6_NH_FRAGMENT ? IP6_FRAG_HDR_LEN : ((size_t)p->ip[off + 1] + 1) * 8;
		if (off + hlen > p->ip_len)
			return false;
		nh = p->ip[off];
		off += hlen;
	}
	return true;
}

/**
 * ip6_hop_check() - what a router in our place would refuse: a packet for a host beyond the
 * link whose hop limit runs out here, or one larger than the link's MTU
 * @s:		the link's stack
 * @p:		the packet, its chain walked (so that an ICMPv6 error is known as one)
 *
 * As ip4_hop_check(): to the container we are the first hop of every packet for a host
 * beyond the link, which the relay forwards. RFC 4443 3.3: a router that receives a packet
 * with hop limit 0, or decrements it to 0, discards it and sends Time Exceeded code 0 from
 * its own address (the gateway's, fd00::2), so that `traceroute6` and `mtr` show the
 * gateway as hop 1 (pasta copies the hop limit to its socket and stays invisible).
 * Packets to the gateway, DNS and link-local addresses, to multicast groups (NDP, RA, MLD:
 * hop limit 255 or 1 by design) are ours, and never looked at here.
 * RFC 8200 5, RFC 4443 3.2: a packet larger than the link's MTU is answered with Packet Too
 * Big and the MTU, unless a virtio-net GSO header says it is a super-frame the container's
 * kernel cut as it may. A packet put together from fragments is measured by its fragments.
 * Return: true if the packet was dropped (counted, and answered where allowed)
 */
static bool ip6_hop_check(struct stack *s, const struct pkt *p)
{
	if (!ip6_addr_unicast(s, p->daddr6) || ip6_is_local(s, p->daddr6))
		return false;
	if (p->ttl <= 1) {
		s->cnt.drop_ip_ttl_expired++;
		if (icmp6_send_error(s, p, ICMP6_TIME_EXCEEDED, ICMP6_EXC_HOPLIMIT, 0,
				     s->cfg.gateway6))
			s->cnt.icmp_time_exceeded_sent++;
		return true;
	}
	if (!p->reassembled && p->ip_len > s->cfg.mtu && p->vnet.gso_type == VNET_GSO_NONE) {
		s->cnt.drop_ip_too_big++;
		icmp6_send_too_big(s, p, s->cfg.mtu, s->cfg.gateway6);
		return true;
	}
	return false;
}

/*
 * ip6_walk() - walk the extension-header chain of @p up to its upper-layer header, then
 * dispatch it (or hand a fragment to reassembly)
 * @s:		the link's stack
 * @p:		the packet: ip, ip_len, addresses filled; @ihl, @nh_off, @l4 are set here
 */
void ip6_walk(struct stack *s, struct pkt *p)
{
	size_t off = IP6_HDR_LEN, nh_off = 6; /* the fixed header's next header field */
	uint8_t nh = p->ip[6];
	unsigned int n;

	for (n = 0;; n++) {
		size_t hlen;

		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_DSTOPTS && nh != IP6_NH_ROUTING &&
		    nh != IP6_NH_FRAGMENT)
			break;
		if (n >= IP6_MAX_EXT_HDRS) {
			s->cnt.drop_ip6_chain_too_long++;
			return;
		}
		/* RFC 8200 4.3: hop-by-hop only right after the IPv6 header; elsewhere it is an
		 * unrecognized next header (code 1, pointer at the field naming it) */
		if (nh == IP6_NH_HOPOPTS && off != IP6_HDR_LEN) {
			s->cnt.drop_ip6_param_problem++;
			icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_NEXTHDR,
					 (uint32_t)nh_off, s->cfg.gateway6);
			return;
		}
		if (off + 8 > p->ip_len) {
			s->cnt.drop_ip6_malformed++;
			return;
		}
		hlen = nh == IP6_NH_FRAGMENT ? IP6_FRAG_HDR_LEN : ((size_t)p->ip[off + 1] + 1) * 8;
		if (off + hlen > p->ip_len) {
			s->cnt.drop_ip6_malformed++;
			return;
		}
		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_DSTOPTS:
			if (!ip6_options(s, p, off, hlen))
				return;
			break;
		case IP6_NH_ROUTING: {
			uint8_t type = p->ip[off + 2], left = p->ip[off + 3];

			/* RFC 5095 3: type 0 is deprecated, an amplification tool: drop it
			 * whatever its segments left, and say nothing */
			if (type == IP6_RH_TYPE0) {
				s->cnt.drop_ip6_rh0++;
				return;
			}
			/* RFC 8200 4.4: segments left 0 means we are the final destination:
			 * ignore the header. Otherwise we would have to route, which we never
			 * do for the container: parameter problem code 0 at the type field,
			 * as for a type we do not recognize. */
			if (left) {
				s->cnt.drop_ip6_param_problem++;
				icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER,
						 (uint32_t)(off + 2), s->cfg.gateway6);
				return;
			}
			break;
		}
		case IP6_NH_FRAGMENT: {
			uint16_t fo = rd16(p->ip + off + 2);

			/* RFC 6946 4: an atomic fragment (offset 0, M clear) is a whole packet,
			 * processed at once and never mixed with other fragments */
			if (!(fo & IP6_FRAG_OFF_MASK) && !(fo & IP6_FRAG_MF)) {
				s->cnt.ip6_atomic_fragments++;
				break;
			}
			/* RFC 7112 5: fragment zero without the whole chain, the upper-layer
			 * header included, is dropped with a parameter problem code 3 pointing
			 * at nothing (0), as Linux does; the other fragments then time out */
			if (!(fo & IP6_FRAG_OFF_MASK) &&
			    !ip6_first_frag_chain_ok(p, off + hlen, p->ip[off], n + 1)) {
				s->cnt.drop_ip6_frag_incomplete_chain++;
				icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_FIRSTFRAG,
						 0, s->cfg.gateway6);
				return;
			}
			p->ihl = off;
			p->nh_off = (uint16_t)nh_off;
			ip6_reass_input(s, p, off);
			return;
		}
		}
		nh_off = off;
		nh = p->ip[off];
		off += hlen;
	}
	p->ihl = off;
	p->nh_off = (uint16_t)nh_off;
	p->proto = nh;
	p->l4 = p->ip + off;
	p->l4_len = p->ip_len - off;
	if (ip6_hop_check(s, p))
		return;
	/* with offloads: a TCP super-frame, a partial checksum (vnet_l4_check, as IPv4's) */
	if (vnet_l4_check(s, p))
		return;
	ip6_dispatch(s, p);
}

void ip6_dispatch(struct stack *s, const struct pkt *p)
{
	switch (p->proto) {
	case IP6_NH_ICMP6:
		icmp6_input(s, p);
		return;
	case PROTO_TCP:
		/* a link-local or unspecified source has no route beyond the link, and our
		 * link-local address serves nothing */
		if (!ip6_in_prefix(s, p->saddr6) || ip6_is_multicast(p->daddr6) ||
		    !memcmp(p->daddr6, s->ll6, 16)) {
			s->cnt.drop_ip6_bad_source++;
			return;
		}
		tcp_input(s, p);
		return;
	case PROTO_UDP:
		if (ip6_is_multicast(p->daddr6) || !memcmp(p->daddr6, s->ll6, 16)) {
			s->cnt.drop_not_for_us++;
			return;
		}
		udp_input(s, p);
		return;
	case IP6_NH_NONE:
		/* RFC 8200 4.7: nothing follows; whatever the payload holds is ignored */
		s->cnt.drop_ip6_no_next++;
		return;
	default:
		/* RFC 8200 4: an unrecognized next header: parameter problem code 1 pointing
		 * at the field that named it */
		s->cnt.drop_ip6_bad_proto++;
		icmp6_send_error(s, p, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_NEXTHDR, p->nh_off,
				 s->cfg.gateway6);
		return;
	}
}

/**
 * ip6_input() - validate one IPv6 packet from the container and walk it to its upper layer
 * @s:		the link's stack
 * @frame:	the whole Ethernet frame, addressed to our MAC or a group we listen to
 * @len:	its length
 * @vm:		its virtio-net header, checked (NULL: none, offloads off)
 * @now_us:	arrival time
 *
 * Checks run from the outside in, so that each packet is counted once, under the first
 * thing wrong with it.
 */
void ip6_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us)
{
	const uint8_t *h = frame + ETH_HDR_LEN;
	size_t avail = len - ETH_HDR_LEN; /* eth_input guarantees len >= ETH_HDR_LEN */
	struct pkt p;
	size_t plen;

	if (avail < IP6_HDR_LEN) {
		s->cnt.drop_short_frame++;
		return;
	}
	if (h[0] >> 4 != 6) {
		s->cnt.drop_ip_bad_version++;
		return;
	}
	/* RFC 8200 3: the payload length counts what follows the fixed header; 0 would mean a
	 * jumbogram (RFC 2675), which no 64 KiB link carries. Bytes past it are padding. */
	plen = rd16(h + 4);
	if (!plen || plen > avail - IP6_HDR_LEN) {
		s->cnt.drop_ip6_bad_length++;
		return;
	}

	memset(&p, 0, sizeof(p));
	p.frame = frame;
	p.frame_len = len;
	p.ip = h;
	p.ip_len = IP6_HDR_LEN + plen;
	p.v6 = true;
	p.tos = (uint8_t)(rd16(h) >> 4);
	p.ttl = h[7];
	memcpy(p.saddr6, h + 8, 16);
	memcpy(p.daddr6, h + 24, 16);
	p.now_us = now_us;
	if (vm)
		p.vnet = *vm;

	if (!ip6_source_ok(s, p.saddr6)) {
		s->cnt.drop_ip6_bad_source++;
		return;
	}
	if (!ip6_dest_ours(s, p.daddr6)) {
		/* MLD reports to ff02::16, mDNS, a packet to the container's own address that
		 * came back on the wrong link: routine, counted only */
		s->cnt.drop_not_for_us++;
		return;
	}
	/* A valid header from the container: its MAC is the one to answer (NDP teaches it
	 * too; a static neighbour entry would not). Never from a DAD probe (RFC 4862 5.4.3:
	 * the prober does not own the address yet) and never a group MAC (eth_learn checks). */
	if (!ip6_is_unspecified(p.saddr6))
		eth_learn_container(s, frame + ETH_ALEN);
	if (ip6_is_link_local(p.saddr6))
		ndp_learn(s, p.saddr6);
	ip6_walk(s, &p);
}

void ip6_output(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		size_t l4_len, uint8_t hlim)
{
	uint8_t *e = stack_tx_frame(s);
	uint8_t *h = e + ETH_HDR_LEN;
	size_t len = ETH_HDR_LEN + IP6_HDR_LEN + l4_len;
	struct stack_frame *fr;

	if (l4_len > stack_l4_max6(s) &&
	    !(s->fill.flow && s->cfg.tso && l4_len <= 65535 - IP6_HDR_LEN)) {
		memset(&s->fill, 0, sizeof(s->fill));
		return;
	}
	if (ip6_is_multicast(daddr)) {
		/* RFC 2464 7: 33:33 and the low 32 bits of the group */
		e[0] = 0x33;
		e[1] = 0x33;
		memcpy(e + 2, daddr + 12, 4);
	} else if (s->cmac_known) {
		memcpy(e, s->cmac, ETH_ALEN);
	} else {
		/* No neighbour solicitation of our own: the container solicits us before it
		 * sends anything, and its first valid packet teaches us its MAC */
		memset(&s->fill, 0, sizeof(s->fill));
		s->cnt.drop_not_for_us++;
		return;
	}
	memcpy(e + ETH_ALEN, s->cfg.mac, ETH_ALEN);
	wr16(e + 12, ETHERTYPE_IPV6);

	wr32(h, 6u << 28); /* version 6, traffic class 0, flow label 0 */
	wr16(h + 4, (uint16_t)l4_len);
	h[6] = proto;
	h[7] = hlim ? hlim : IP6_HLIM_OUT;
	memcpy(h + 8, saddr, 16);
	memcpy(h + 24, daddr, 16);

	fr = &s->txq->frame[s->txq->n];
	fr->data = e;
	fr->len = len;
	fr->fill_flow = s->fill.flow;
	fr->fill_seq = s->fill.seq;
	fr->fill_len = s->fill.len;
	fr->fill_at = s->fill.at;
	fr->l4_off = TX_L4_OFF6;
	fr->csum_off = proto == PROTO_UDP ? 6 : proto == PROTO_TCP ? 16 : 2;
	fr->csum_pseudo = s->fill.pseudo;
	fr->mss = s->fill.mss;
	memset(&s->fill, 0, sizeof(s->fill));
	s->txq->n++;
	s->cnt.tx_frames++;
	s->cnt.tx_bytes += len;
	if (!s->batch)
		stack_tx_flush(s);
}

void ip6_output_fragments(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16],
			  uint8_t proto, size_t l4_len, uint8_t hlim)
{
	/* RFC 8200 4.5: every fragment but the last carries a multiple of 8 bytes */
	size_t chunk = (stack_l4_max6(s) - IP6_FRAG_HDR_LEN) & ~(size_t)7, off;
	uint32_t id = s->frag6_id++;

	if (l4_len > 65535 - IP6_FRAG_HDR_LEN)
		return;
	/* the slot the message was built in is the one the first fragment takes */
	memcpy(s->txbuf, stack_tx_l4_6(s), l4_len);
	for (off = 0; off < l4_len; off += chunk) {
		size_t n = l4_len - off < chunk ? l4_len - off : chunk;
		uint8_t *fh = stack_tx_l4_6(s);

		fh[0] = proto;
		fh[1] = 0;
		wr16(fh + 2, (uint16_t)(off | (off + n < l4_len ? IP6_FRAG_MF : 0)));
		wr32(fh + 4, id);
		memcpy(fh + IP6_FRAG_HDR_LEN, s->txbuf + off, n);
		ip6_output(s, saddr, daddr, IP6_NH_FRAGMENT, IP6_FRAG_HDR_LEN + n, hlim);
	}
}
