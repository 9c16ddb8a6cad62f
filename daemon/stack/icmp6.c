/* icmp6.c - ICMPv6 (RFC 4443): answer echo requests to the gateway and DNS addresses (and
 * our link-local), relay echo to other hosts through the shell (stack_ops.icmp6_echo), hand
 * neighbour discovery to ndp.c, and send the container the errors other layers ask for.
 *
 * Errors the container sends us are ignored, as for IPv4: every upstream is a host socket.
 * Must not: know about flows.
 */
#include "stack_internal.h"
#include "checksum.h"
#include "icmp.h"

/* RFC 4443 2.4 (c): an error carries as much of the offending packet as fits without the
 * error exceeding the minimum IPv6 MTU */
#define ICMP6_ERR_MAX IP6_MIN_MTU
#define ICMP6_QUOTE_MAX (ICMP6_ERR_MAX - IP6_HDR_LEN - ICMP_HDR_LEN)

/**
 * icmp6_csum() - the ICMPv6 checksum of @len bytes at @m (RFC 4443 2.3: with the
 * pseudo-header)
 * @saddr:	source address
 * @daddr:	destination address
 * @m:		the message, checksum field included
 * @len:	its length
 *
 * Return: the unfolded sum; csum_fold() of it is 0 for a message that verifies
 */
static uint64_t icmp6_csum(const uint8_t saddr[16], const uint8_t daddr[16], const uint8_t *m,
			   size_t len)
{
	return csum_partial(m, len, csum_pseudo6(saddr, daddr, IP6_NH_ICMP6, (uint32_t)len));
}

void icmp6_finish(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16], size_t len,
		  uint8_t hlim)
{
	uint8_t *m = stack_tx_l4_6(s);

	wr16(m + 2, 0);
	wr16(m + 2, csum_fold(icmp6_csum(saddr, daddr, m, len)));
	if (len > stack_l4_max6(s))
		ip6_output_fragments(s, saddr, daddr, IP6_NH_ICMP6, len, hlim);
	else
		ip6_output(s, saddr, daddr, IP6_NH_ICMP6, len, hlim);
}

/**
 * icmp6_echo_answer() - answer an echo request to one of our addresses (RFC 4443 4.2: the
 * reply carries the request's identifier, sequence number and data, from the address that
 * was pinged). Not rate limited, as for IPv4.
 * @s:		the link's stack
 * @p:		the request, checksum verified, at least 8 bytes
 */
static void icmp6_echo_answer(struct stack *s, const struct pkt *p)
{
	uint8_t *m = stack_tx_l4_6(s);
	size_t len = p->l4_len;

	/* RFC 4443 4.2: the data comes back entire; a request that came in fragments (and was
	 * reassembled) is answered in fragments (icmp6_finish) */
	if (len > 65535 - IP6_HDR_LEN - IP6_FRAG_HDR_LEN) {
		s->cnt.drop_icmp6_malformed++;
		return;
	}
	memcpy(m, p->l4, len);
	m[0] = ICMP6_ECHO_REPLY;
	m[1] = 0;
	if (s->cmac_known)
		s->cnt.icmp6_echo_replies++;
	icmp6_finish(s, p->daddr6, p->saddr6, len, 0);
}

/**
 * icmp6_echo_relay() - pass an echo request to another host to the shell
 * @s:		the link's stack
 * @p:		the request, checksum verified, from an address in the prefix to a unicast
 *		address beyond the link
 */
static void icmp6_echo_relay(struct stack *s, const struct pkt *p)
{
	const uint8_t *m = p->l4;

	if (!s->ops.icmp6_echo) {
		s->cnt.drop_icmp_no_route++;
		return;
	}
	if (s->ops.icmp6_echo(s->ctx, p->saddr6, p->daddr6, rd16(m + 4), rd16(m + 6), m + ICMP_HDR_LEN,
			      p->l4_len - ICMP_HDR_LEN) < 0) {
		s->cnt.drop_icmp_echo_failed++;
		return;
	}
	s->cnt.icmp_echo_relayed++;
}

void icmp6_input(struct stack *s, const struct pkt *p)
{
	uint8_t type;

	if (p->l4_len < ICMP_HDR_LEN) {
		s->cnt.drop_icmp6_malformed++;
		return;
	}
	if (csum_fold(icmp6_csum(p->saddr6, p->daddr6, p->l4, p->l4_len))) {
		s->cnt.drop_icmp6_bad_checksum++;
		return;
	}
	type = p->l4[0];
	if (type >= ICMP6_RS && type <= ICMP6_REDIRECT) {
		ndp_input(s, p);
		return;
	}
	if (type != ICMP6_ECHO_REQUEST || ip6_is_multicast(p->daddr6)) {
		/* RFC 4443 2.4 (b): an unknown informational message MUST be discarded; (a)
		 * errors from the container have no consumer. Echo to all-nodes is not ours
		 * to answer for the container's own group. MLD (130..132) lands here too. */
		s->cnt.drop_icmp6_malformed++;
		return;
	}
	if (ip6_is_local(s, p->daddr6)) {
		icmp6_echo_answer(s, p);
		return;
	}
	if (!ip6_in_prefix(s, p->saddr6)) {
		/* a link-local or unspecified source has no route beyond the link */
		s->cnt.drop_ip6_bad_source++;
		return;
	}
	icmp6_echo_relay(s, p);
}

/**
 * icmp6_error_allowed() - whether RFC 4443 2.4 (e) lets us answer @orig with @type/@code
 * @s:		the link's stack
 * @orig:	the packet that caused it
 * @type:	the error type
 * @code:	its code
 *
 * Return: false for a source that is not one unicast address of the container (::,
 * multicast, off the link), for an ICMPv6 error (or a packet too short to tell), and for a
 * packet sent to a multicast address (IPv6 or link layer) unless the error is Packet Too Big
 * or a parameter problem about an option whose type asks for it (code 2)
 */
static bool icmp6_error_allowed(const struct stack *s, const struct pkt *orig, uint8_t type,
				uint8_t code)
{
	const uint8_t *h = orig->ip;
	bool mcast;

	if (!h || orig->ip_len < IP6_HDR_LEN)
		return false;
	if (!ip6_in_prefix(s, h + 8) && !(h[8] == 0xfe && (h[9] & 0xc0) == 0x80))
		return false;
	mcast = ip6_is_multicast(h + 24) ||
		(orig->frame && orig->frame_len >= ETH_HDR_LEN && (orig->frame[0] & 1));
	if (mcast && type != ICMP6_PACKET_TOO_BIG &&
	    !(type == ICMP6_PARAM_PROBLEM && code == ICMP6_PARAM_OPTION))
		return false;
	/* RFC 4443 2.4 (e.1): never about an error (types 0..127); the upper layer is known
	 * only when the chain was walked to it */
	if (orig->proto == IP6_NH_ICMP6 && orig->l4 &&
	    (orig->l4_len < 1 || orig->l4[0] < ICMP6_ECHO_REQUEST))
		return false;
	return true;
}

bool icmp6_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code,
		      uint32_t param, const uint8_t from[16])
{
	uint8_t *m = stack_tx_l4_6(s);
	size_t quote, max = ICMP6_QUOTE_MAX;

	if (!icmp6_error_allowed(s, orig, type, code))
		return false;
	if (!ratelimit_allow(&s->icmp6_rl, orig->now_us)) {
		s->cnt.icmp_errors_rate_limited++;
		return false;
	}
	if (max > stack_l4_max6(s) - ICMP_HDR_LEN)
		max = stack_l4_max6(s) - ICMP_HDR_LEN;
	quote = orig->ip_len < max ? orig->ip_len : max;
	m[0] = type;
	m[1] = code;
	wr32(m + 4, param);
	memcpy(m + ICMP_HDR_LEN, orig->ip, quote);
	if (s->cmac_known)
		s->cnt.icmp_errors_sent++;
	/* to the source of the offending packet: the container's global or link-local */
	icmp6_finish(s, from, orig->ip + 8, ICMP_HDR_LEN + quote, 0);
	return true;
}

bool icmp6_send_too_big(struct stack *s, const struct pkt *orig, uint32_t mtu,
			const uint8_t from[16])
{
	/* RFC 8201 4: a node never takes an MTU below 1280 from a Packet Too Big; RFC 4443 3.2:
	 * the MTU field is the next hop's */
	if (mtu < IP6_MIN_MTU)
		mtu = IP6_MIN_MTU;
	if (!icmp6_send_error(s, orig, ICMP6_PACKET_TOO_BIG, 0, mtu, from))
		return false;
	s->cnt.icmp_too_big_sent++;
	return true;
}

uint8_t icmp6_unreach_code(uint8_t code)
{
	switch (code) {
	case ICMP_UNREACH_PORT:
		return ICMP6_UNREACH_PORT;
	case ICMP_UNREACH_ADMIN:
		return ICMP6_UNREACH_ADMIN;
	case ICMP_UNREACH_NET:
		return ICMP6_UNREACH_NOROUTE;
	default: /* host unreachable: the neighbour (here: the upstream) did not answer */
		return ICMP6_UNREACH_ADDR;
	}
}

/* --- entry points: each runs as a batch (stack_enter/stack_leave) ------------------ */

void icmp6_echo_reply(struct stack *s, const uint8_t saddr[16], const uint8_t daddr[16],
		      uint16_t id, uint16_t seq, const uint8_t *data, size_t len, uint64_t now_us)
{
	uint8_t *m;

	stack_enter(s);
	m = stack_tx_l4_6(s);
	/* The shell's business to get right; checked so that no caller can make us send from
	 * our own addresses or one that is no single host beyond the link */
	if (len <= 65535 - IP6_HDR_LEN - IP6_FRAG_HDR_LEN - ICMP_HDR_LEN &&
	    ip6_addr_unicast(s, saddr) &&
	    ip6_in_prefix(s, daddr)) {
		m[0] = ICMP6_ECHO_REPLY;
		m[1] = 0;
		wr16(m + 4, id);
		wr16(m + 6, seq);
		if (len)
			memcpy(m + ICMP_HDR_LEN, data, len);
		if (s->cmac_known)
			s->cnt.icmp_echo_relayed_replies++;
		icmp6_finish(s, saddr, daddr, ICMP_HDR_LEN + len, 0);
	}
	stack_leave(s, now_us);
}
