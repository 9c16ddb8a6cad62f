/* ndp.c - neighbour discovery for IPv6 (RFC 4861) as the link's router: answer neighbour
 * solicitations for the gateway, DNS and our link-local addresses, answer router
 * solicitations and advertise unsolicited, with the prefix for SLAAC (RFC 4862), the MTU and
 * the DNS server (RDNSS, RFC 8106). Learns the container's link-local address.
 *
 * Duplicate address detection probes for the container's own addresses are left unanswered
 * (RFC 4862 5.4.3: an answer would tell it the address is taken). We never solicit: the
 * container's MAC comes from its frames. Must not: know about flows.
 */
#include "stack_internal.h"
#include "checksum.h"

#define NDP_HLIM 255 /* RFC 4861 6.1.1, 7.1.1: NDP packets come with, and go out with, 255 */
#define NDP_NS_LEN 24 /* ICMPv6 header, reserved, target */
#define NDP_RS_LEN 8

#define NDP_OPT_SLLA 1
#define NDP_OPT_TLLA 2
#define NDP_OPT_PREFIX 3
#define NDP_OPT_MTU 5
#define NDP_OPT_RDNSS 25 /* RFC 8106 5.1 */

#define NDP_NA_ROUTER 0x80000000u
#define NDP_NA_SOLICITED 0x40000000u
#define NDP_NA_OVERRIDE 0x20000000u

/* RFC 4861 6.2.1 defaults: MaxRtrAdvInterval 600 s, AdvDefaultLifetime 3 x that. We are the
 * only router of the link, so the interval is not randomised (6.2.4's jitter keeps routers
 * of one link from synchronising). */
#define NDP_RA_INTERVAL_US (600 * 1000000ull)
#define NDP_RA_ROUTER_LIFETIME 1800
/* 6.2.4: up to MAX_INITIAL_RTR_ADVERTISEMENTS (3), at most MAX_INITIAL_RTR_ADVERT_INTERVAL
 * (16 s) apart, so that a container that missed the first one learns soon */
#define NDP_RA_INITIAL 3
#define NDP_RA_INITIAL_US (16 * 1000000ull)
/* radvd's AdvValidLifetime and AdvPreferredLifetime defaults (RFC 4861 6.2.1) */
#define NDP_PREFIX_VALID 86400
#define NDP_PREFIX_PREFERRED 14400
/* RFC 8106 5.1: at least MaxRtrAdvInterval; 3 x like the router lifetime */
#define NDP_RDNSS_LIFETIME 1800

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };

void ndp_learn(struct stack *s, const uint8_t src[16])
{
	memcpy(s->cll6, src, 16);
	s->cll6_known = true;
}

/**
 * ndp_options_ok() - RFC 4861 6.1.1, 7.1.1: every option has a nonzero length and lies
 * within the message; a solicitation from :: carries no source link-layer option
 * @o:		the options
 * @len:	their bytes
 * @unspec:	the source is ::
 *
 * Return: true if the options are valid
 */
static bool ndp_options_ok(const uint8_t *o, size_t len, bool unspec)
{
	while (len) {
		size_t olen;

		if (len < 2 || !o[1])
			return false;
		olen = (size_t)o[1] * 8;
		if (olen > len)
			return false;
		if (unspec && o[0] == NDP_OPT_SLLA)
			return false;
		o += olen;
		len -= olen;
	}
	return true;
}

/**
 * ndp_valid() - the checks common to RS and NS (RFC 4861 6.1.1, 7.1.1)
 * @p:		the message, checksum verified
 * @min:	its fixed length
 *
 * Return: true if the hop limit is 255, the code 0, the length at least @min and the
 * options valid
 */
static bool ndp_valid(const struct pkt *p, size_t min)
{
	static const uint8_t zero[16];

	return p->ttl == NDP_HLIM && !p->l4[1] && p->l4_len >= min &&
	       ndp_options_ok(p->l4 + min, p->l4_len - min, !memcmp(p->saddr6, zero, 16));
}

/**
 * ndp_send_na() - advertise @target (one of our addresses) with our MAC
 * @s:		the link's stack
 * @target:	the address solicited
 * @dst:	the solicitor, or :: for a DAD probe of ours (then all-nodes, RFC 4861 7.2.4)
 */
static void ndp_send_na(struct stack *s, const uint8_t target[16], const uint8_t dst[16])
{
	static const uint8_t zero[16];
	uint8_t *m = stack_tx_l4_6(s);
	bool dad = !memcmp(dst, zero, 16);
	uint32_t flags = NDP_NA_ROUTER | NDP_NA_OVERRIDE;

	if (!dad)
		flags |= NDP_NA_SOLICITED; /* 7.2.4: S only for a unicast reply */
	m[0] = ICMP6_NA;
	m[1] = 0;
	wr32(m + 4, flags);
	memcpy(m + 8, target, 16);
	m[24] = NDP_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, s->cfg.mac, ETH_ALEN);
	s->cnt.ndp_neighbor_adverts++;
	icmp6_finish(s, target, dad ? all_nodes : dst, 32, NDP_HLIM);
}

/**
 * ndp_send_ra() - a router advertisement (RFC 4861 4.2) from our link-local address
 * @s:		the link's stack
 * @dst:	all-nodes, or the soliciting container's address (6.2.6 allows unicast)
 */
static void ndp_send_ra(struct stack *s, const uint8_t dst[16])
{
	uint8_t *m = stack_tx_l4_6(s), *o;
	uint8_t prefix[16] = { 0 };
	unsigned int bits = s->cfg.prefix6_len;

	memcpy(prefix, s->cfg.addr6, bits / 8);
	if (bits % 8)
		prefix[bits / 8] = s->cfg.addr6[bits / 8] & (uint8_t)(0xff << (8 - bits % 8));

	m[0] = ICMP6_RA;
	m[1] = 0;
	m[4] = 64;	/* cur hop limit: Linux's default */
	m[5] = 0;	/* M, O clear: no DHCPv6; addresses by SLAAC, DNS by RDNSS */
	wr16(m + 6, NDP_RA_ROUTER_LIFETIME);
	wr32(m + 8, 0);	/* reachable time: unspecified */
	wr32(m + 12, 0); /* retrans timer: unspecified */
	o = m + 16;

	o[0] = NDP_OPT_SLLA;
	o[1] = 1;
	memcpy(o + 2, s->cfg.mac, ETH_ALEN);
	o += 8;

	o[0] = NDP_OPT_MTU; /* 4.6.4 */
	o[1] = 1;
	wr16(o + 2, 0);
	wr32(o + 4, s->cfg.mtu);
	o += 8;

	o[0] = NDP_OPT_PREFIX; /* 4.6.2 */
	o[1] = 4;
	o[2] = (uint8_t)bits;
	/* L: on-link; A: autonomous configuration, which RFC 4862 5.5.3 (d) only does with a
	 * 64-bit interface identifier on Ethernet (RFC 2464) */
	o[3] = bits == 64 ? 0xc0 : 0x80;
	wr32(o + 4, NDP_PREFIX_VALID);
	wr32(o + 8, NDP_PREFIX_PREFERRED);
	wr32(o + 12, 0);
	memcpy(o + 16, prefix, 16);
	o += 32;

	o[0] = NDP_OPT_RDNSS; /* RFC 8106 5.1 */
	o[1] = 3;
	wr16(o + 2, 0);
	wr32(o + 4, NDP_RDNSS_LIFETIME);
	memcpy(o + 8, s->cfg.dns6, 16);
	o += 24;

	s->cnt.ndp_router_adverts++;
	icmp6_finish(s, s->ll6, dst, (size_t)(o - m), NDP_HLIM);
}

/**
 * ndp_ns() - a neighbour solicitation (RFC 4861 7.1.1, 7.2.3)
 * @s:		the link's stack
 * @p:		the message, checksum verified
 */
static void ndp_ns(struct stack *s, const struct pkt *p)
{
	const uint8_t *target = p->l4 + 8;

	if (!ndp_valid(p, NDP_NS_LEN) || ip6_is_multicast(target)) {
		s->cnt.drop_ndp_malformed++;
		return;
	}
	/* 7.1.1: a DAD probe (source ::) goes to the target's solicited-node group only */
	if (!memcmp(p->saddr6, (const uint8_t[16]){ 0 }, 16) &&
	    !(p->daddr6[0] == 0xff && p->daddr6[1] == 0x02 && p->daddr6[11] == 1 &&
	      p->daddr6[12] == 0xff)) {
		s->cnt.drop_ndp_malformed++;
		return;
	}
	if (!ip6_is_local(s, target)) {
		/* the container's own addresses (DAD), anything else on the link */
		s->cnt.drop_ndp_not_ours++;
		return;
	}
	ndp_send_na(s, target, p->saddr6);
}

/**
 * ndp_rs() - a router solicitation (RFC 4861 6.1.1, 6.2.6)
 * @s:		the link's stack
 * @p:		the message, checksum verified
 */
static void ndp_rs(struct stack *s, const struct pkt *p)
{
	static const uint8_t zero[16];

	if (!ndp_valid(p, NDP_RS_LEN)) {
		s->cnt.drop_ndp_malformed++;
		return;
	}
	/* 6.2.6: unicast to the solicitor when it has an address, so that a container that
	 * solicits again and again gets answers that cost it as much as us; to all-nodes
	 * when it has none yet */
	ndp_send_ra(s, memcmp(p->saddr6, zero, 16) ? p->saddr6 : all_nodes);
}

void ndp_input(struct stack *s, const struct pkt *p)
{
	switch (p->l4[0]) {
	case ICMP6_NS:
		ndp_ns(s, p);
		return;
	case ICMP6_RS:
		ndp_rs(s, p);
		return;
	default:
		/* NA (the container answering a probe of ours: we send none, its MAC comes from
		 * its frames), RA and redirects from a host: nothing for us to do */
		s->cnt.drop_ndp_not_ours++;
		return;
	}
}

void ndp_tick(struct stack *s, uint64_t now_us)
{
	if (!s->cfg.ipv6 || !s->ra_next_us || now_us < s->ra_next_us)
		return;
	ndp_send_ra(s, all_nodes);
	if (s->ra_initial) {
		s->ra_initial--;
		s->ra_next_us = now_us + NDP_RA_INITIAL_US;
	} else {
		s->ra_next_us = now_us + NDP_RA_INTERVAL_US;
	}
}

uint64_t ndp_deadline(const struct stack *s)
{
	return s->cfg.ipv6 && s->ra_next_us ? s->ra_next_us : UINT64_MAX;
}

/* --- entry point ------------------------------------------------------------------------ */

void stack_ipv6_start(struct stack *s, uint64_t now_us)
{
	if (!s->cfg.ipv6)
		return;
	stack_enter(s);
	s->ra_initial = NDP_RA_INITIAL - 1;
	s->ra_next_us = now_us ? now_us : 1;
	ndp_tick(s, s->ra_next_us);
	stack_leave(s, now_us);
}

bool stack_container_ll6(const struct stack *s, uint8_t ll[16])
{
	if (!s->cll6_known)
		return false;
	memcpy(ll, s->cll6, 16);
	return true;
}
