/* icmp.c - ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): answer echo requests to the gateway and
 * DNS addresses, relay echo to any other address through the shell (stack_ops.icmp_echo,
 * icmp_echo_reply()), and send the container the errors other layers ask for.
 *
 * Errors the container sends us are ignored for now: TCP has no use for them while every
 * upstream is a host socket. Must not: know about flows.
 */
#include "stack_internal.h"
#include "checksum.h"
#include "icmp.h"

/* RFC 1812 4.3.2.3: quote as much of the original datagram as fits in 576 bytes (what
 * Linux does, and more useful to the container than RFC 792's header plus 8 bytes, which
 * RFC 1122 3.2.2 sets only as the minimum). Every link's MTU is at least 576. */
#define ICMP_ERR_MAX 576
#define ICMP_QUOTE_MAX (ICMP_ERR_MAX - IP4_HDR_MIN - ICMP_HDR_LEN)

#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_PARAM_PROBLEM 12
#define ICMP_TYPE_LAST_KNOWN 18 /* address mask reply (RFC 950) */

/**
 * icmp_is_error() - whether an ICMP type is an error message (or unknown, so possibly one)
 * @type:	ICMP type
 *
 * Return: true for the error types of RFC 792 and for types we do not know, which are
 * treated as errors so that we never answer an error with an error (as Linux does)
 */
static bool icmp_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAM_PROBLEM:
		return true;
	default:
		return type > ICMP_TYPE_LAST_KNOWN;
	}
}

/**
 * icmp_echo_answer() - answer an echo request addressed to the gateway or DNS address
 * @s:		the link's stack
 * @p:		the request, checksum verified, at least ICMP_HDR_LEN long
 *
 * RFC 792, RFC 1122 3.2.2.6: the reply carries the request's identifier, sequence number
 * and data unchanged, and comes from the address that was pinged.
 *
 * Not rate limited: a reply costs us what the request cost the container, so there is no
 * amplification to bound, and Linux does not limit echo replies either (net.ipv4.
 * icmp_ratemask leaves type 0 out by default): `ping -f` from the container must work.
 */
static void icmp_echo_answer(struct stack *s, const struct pkt *p)
{
	uint8_t *m = stack_tx_l4(s);

	memcpy(m, p->l4, p->l4_len);
	m[0] = ICMP_ECHO_REPLY;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 2, csum_fold(csum_partial(m, p->l4_len, 0)));
	/* Without the container's MAC (it came from a group address) ip4_output counts the
	 * drop and asks for the MAC instead */
	if (s->cmac_known)
		s->cnt.icmp_echo_replies++;
	/* RFC 1122 3.2.2.6: the data comes back whole. A request larger than one frame was
	 * reassembled from fragments (ip4_reass.c), and so the reply goes back in fragments */
	if (p->l4_len > stack_l4_max(s))
		ip4_output_fragments(s, p->daddr, p->saddr, PROTO_ICMP, p->l4_len);
	else
		ip4_output(s, p->daddr, p->saddr, PROTO_ICMP, p->l4_len);
}

/**
 * icmp_echo_relay() - pass an echo request to another address to the shell, which sends it
 * from the host (RFC 792: identifier, sequence number and data as the container chose them)
 * @s:		the link's stack
 * @p:		the request, checksum verified, at least ICMP_HDR_LEN long; its destination
 *		passed ip4_input()'s unicast checks
 */
static void icmp_echo_relay(struct stack *s, const struct pkt *p)
{
	const uint8_t *m = p->l4;

	if (!s->ops.icmp_echo) {
		s->cnt.drop_icmp_no_route++;
		return;
	}
	if (s->ops.icmp_echo(s->ctx, p->daddr, rd16(m + 4), rd16(m + 6), m + ICMP_HDR_LEN,
			     p->l4_len - ICMP_HDR_LEN) < 0) {
		s->cnt.drop_icmp_echo_failed++;
		return;
	}
	s->cnt.icmp_echo_relayed++;
}

static void icmp_echo_reply_do(struct stack *s, uint32_t saddr, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len, uint64_t now_us)
{
	uint8_t *m = stack_tx_l4(s);
	size_t l4_len = ICMP_HDR_LEN + len;

	(void)now_us;
	/* The shell's business to get right; checked so that no caller can make us send from
	 * our own addresses or from one that is no single host */
	if (len > 65535 - IP4_HDR_MIN - ICMP_HDR_LEN || stack_is_local(s, saddr) ||
	    saddr == s->cfg.addr || !ip4_addr_unicast(s, saddr))
		return;
	m[0] = ICMP_ECHO_REPLY;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 4, id);
	wr16(m + 6, seq);
	if (len)
		memcpy(m + ICMP_HDR_LEN, data, len);
	wr16(m + 2, csum_fold(csum_partial(m, l4_len, 0)));
	if (s->cmac_known)
		s->cnt.icmp_echo_relayed_replies++;
	/* A ping with more data than one frame carries: the request came as fragments and
	 * was reassembled, so the reply goes back the same way */
	if (l4_len > stack_l4_max(s))
		ip4_output_fragments(s, saddr, s->cfg.addr, PROTO_ICMP, l4_len);
	else
		ip4_output(s, saddr, s->cfg.addr, PROTO_ICMP, l4_len);
}

/**
 * icmp_input() - process one ICMP message from the container
 * @s:		the link's stack
 * @p:		the datagram, validated by ip4_input()
 */
void icmp_input(struct stack *s, const struct pkt *p)
{
	if (p->l4_len < ICMP_HDR_LEN) {
		s->cnt.drop_icmp_malformed++;
		return;
	}
	/* RFC 792: the checksum covers the whole ICMP message (DATA_VALID: the container's
	 * kernel checked it, vnet_l4_check) */
	if (!p->csum_trusted && !csum_ok(p->l4, p->l4_len, 0)) {
		s->cnt.drop_icmp_bad_checksum++;
		return;
	}
	if (p->l4[0] != ICMP_ECHO_REQUEST) {
		/* RFC 1122 3.2.2: an unknown type MUST be silently discarded. Errors from the
		 * container (about datagrams we sent it) and the other informational types
		 * have no consumer yet. */
		s->cnt.drop_icmp_malformed++;
		return;
	}
	if (!stack_is_local(s, p->daddr)) {
		icmp_echo_relay(s, p);
		return;
	}
	icmp_echo_answer(s, p);
}

/**
 * icmp_error_allowed() - whether RFC 1122 3.2.2 lets us answer @orig with an error
 * @s:		the link's stack
 * @orig:	the datagram that caused the error
 *
 * Return: false for a datagram whose header does not hold together, that did not come from
 * the container, that was a link-layer or IP broadcast or multicast, a non-initial fragment,
 * or an ICMP error itself (RFC 1122 3.2.2, RFC 1812 4.3.2.7)
 */
static bool icmp_error_allowed(const struct stack *s, const struct pkt *orig)
{
	const uint8_t *h = orig->ip;

	if (!h || orig->ihl < IP4_HDR_MIN || orig->ihl > orig->ip_len)
		return false;
	/* Errors go to the container only: this also rules out sources that do not define a
	 * single host (0.0.0.0, broadcast, multicast) */
	if (rd32(h + 12) != s->cfg.addr)
		return false;
	if (rd32(h + 16) == s->cfg.addr || !ip4_addr_unicast(s, rd32(h + 16)))
		return false;
	if (orig->frame && orig->frame_len >= ETH_HDR_LEN && (orig->frame[0] & 1))
		return false;
	if (rd16(h + 6) & IP4_FRAG_OFF_MASK)
		return false;
	if (h[9] == PROTO_ICMP &&
	    (orig->ip_len == orig->ihl || icmp_is_error(h[orig->ihl])))
		return false;
	return true;
}

/**
 * icmp_send_error_mtu() - send an ICMP error about @orig to the container
 * @s:		the link's stack
 * @orig:	the datagram that caused it: @ip, @ip_len and @ihl must describe its header and
 *		as much of its payload as is at hand; @frame may be NULL (no link-layer check)
 * @type:	ICMP type (an error type)
 * @code:	ICMP code
 * @from:	source address of the error
 * @mtu:	for "fragmentation needed", the next-hop MTU (RFC 1191 4)
 *
 * Silently does nothing where RFC 1122 3.2.2 forbids an error. Suppressed by the rate limit
 * (RFC 1812 4.3.2.8), it is counted in icmp_errors_rate_limited, not in a drop_* counter: the
 * datagram that caused it has been counted by its caller already, and an error caused by an
 * upstream event (connect() failed) drops nothing the container sent.
 * Return: true if the error was built and handed to ip4_output()
 */
static bool icmp_send_error_mtu(struct stack *s, const struct pkt *orig, uint8_t type,
				uint8_t code, uint32_t from, uint32_t mtu)
{
	uint8_t *m = stack_tx_l4(s);
	size_t quote;

	if (!icmp_error_allowed(s, orig))
		return false;
	if (!ratelimit_allow(&s->icmp_rl, orig->now_us)) {
		s->cnt.icmp_errors_rate_limited++;
		return false;
	}
	quote = orig->ip_len < ICMP_QUOTE_MAX ? orig->ip_len : ICMP_QUOTE_MAX;

	m[0] = type;
	m[1] = code;
	wr16(m + 2, 0);
	wr32(m + 4, 0); /* unused (RFC 792) */
	/* RFC 1191 4: "fragmentation needed" carries the next-hop MTU in the low 16 bits */
	if (type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_NEEDFRAG)
		wr16(m + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
	memcpy(m + ICMP_HDR_LEN, orig->ip, quote);
	wr16(m + 2, csum_fold(csum_partial(m, ICMP_HDR_LEN + quote, 0)));

	if (s->cmac_known)
		s->cnt.icmp_errors_sent++;
	ip4_output(s, from, s->cfg.addr, PROTO_ICMP, ICMP_HDR_LEN + quote);
	return true;
}

bool icmp_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code,
		     uint32_t from)
{
	return icmp_send_error_mtu(s, orig, type, code, from, s->cfg.mtu);
}

bool icmp_send_frag_needed(struct stack *s, const struct pkt *orig, uint32_t mtu, uint32_t from)
{
	/* RFC 1191 3: only a datagram with DF set is answered; without it the sender lets any
	 * hop fragment, and the caller does so (or the host's socket does) */
	if (!orig->ip || orig->ip_len < IP4_HDR_MIN || !(rd16(orig->ip + 6) & IP4_FLAG_DF))
		return false;
	/* RFC 791: every IPv4 link carries 68 bytes; a smaller MTU is no MTU */
	if (mtu < 68)
		mtu = 68;
	if (!icmp_send_error_mtu(s, orig, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, from, mtu))
		return false;
	s->cnt.icmp_too_big_sent++;
	return true;
}

/* --- entry points: each runs as a batch (stack_enter/stack_leave) ------------------ */

void icmp_echo_reply(struct stack *s, uint32_t saddr, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len, uint64_t now_us)
{
	stack_enter(s);
	icmp_echo_reply_do(s, saddr, id, seq, data, len, now_us);
	stack_leave(s, now_us);
}
