/* dhcp.c - the link's DHCPv4 server (RFC 2131; options RFC 2132; client identifier RFC 6842).
 *
 * The container's client is answered from the gateway address (the server identifier) with
 * the link's own configuration: the address is the link's container address, the only one
 * the stack relays from, so there is no pool and no lease table (dhcp.h). Every message is
 * hostile input: the fixed header and the options are read within what the datagram
 * carries, and each message that is not answered is counted in one drop_dhcp_* counter.
 * Must not: do I/O, read clocks, or look at any datagram not addressed to the server port.
 */
#include "stack_internal.h"
#include "checksum.h"
#include "dhcp.h"

#define IP4_BROADCAST 0xffffffffu /* RFC 919: the limited broadcast */

/**
 * dhcp_lease_addr() - the address the server leases
 * @s:		the link's stack
 *
 * Return: cfg.dhcp_addr if set, else the container address
 */
static uint32_t dhcp_lease_addr(const struct stack *s)
{
	return s->cfg.dhcp_addr ? s->cfg.dhcp_addr : s->cfg.addr;
}

static const uint8_t dhcp_bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const char dhcp_nak_text[] = "requested address not available"; /* as libslirp */

/**
 * struct dhcp_msg - what a client's message says, as far as the server reads it
 * @type:	DHO_MSG_TYPE (0: none, a BOOTP request)
 * @has_req:	DHO_REQUESTED_ADDR was present
 * @req:	its address
 * @has_srv:	DHO_SERVER_ID was present
 * @srv:	its address
 * @cid:	DHO_CLIENT_ID's value (NULL: absent), echoed in replies (RFC 6842 3)
 * @cid_len:	its length
 * @xid:	transaction id
 * @flags:	flags field
 * @ciaddr:	client address field
 * @giaddr:	relay agent address field
 * @chaddr:	the 16-byte client hardware address field
 */
struct dhcp_msg {
	uint8_t type;
	bool has_req;
	uint32_t req;
	bool has_srv;
	uint32_t srv;
	const uint8_t *cid;
	uint8_t cid_len;
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr;
	uint32_t giaddr;
	const uint8_t *chaddr;
};

/**
 * dhcp_parse_options() - read the options the server needs from the options field
 * @o:		the options after the magic cookie
 * @len:	their length (what the datagram carries, nothing beyond)
 * @m:		filled in
 *
 * RFC 2132 2: every option but PAD and END is code, length, value. An option whose length
 * runs past the datagram, or a list without END, is malformed; so are a duplicated or
 * wrongly sized message type, requested address or server identifier, and a client
 * identifier shorter than RFC 2132 9.14's two bytes. Option overload (52) is not followed:
 * the server reads nothing from sname or file, whose options carry nothing it uses.
 * Each pass moves forward at least one byte: at most @len passes.
 *
 * Return: 0, or -1 if the options are malformed
 */
static int dhcp_parse_options(const uint8_t *o, size_t len, struct dhcp_msg *m)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = o[i], l;
		const uint8_t *v;

		if (code == DHO_PAD) {
			i++;
			continue;
		}
		if (code == DHO_END)
			return 0;
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return -1;
		l = o[i + 1];
		v = o + i + 2;
		switch (code) {
		case DHO_MSG_TYPE:
			if (l != 1 || m->type)
				return -1;
			m->type = v[0];
			if (!m->type)
				return -1;
			break;
		case DHO_REQUESTED_ADDR:
			if (l != 4 || m->has_req)
				return -1;
			m->has_req = true;
			m->req = rd32(v);
			break;
		case DHO_SERVER_ID:
			if (l != 4 || m->has_srv)
				return -1;
			m->has_srv = true;
			m->srv = rd32(v);
			break;
		case DHO_CLIENT_ID:
			if (l < 2 || m->cid)
				return -1;
			m->cid = v;
			m->cid_len = l;
			break;
		default:
			break;
		}
		i += 2 + (size_t)l;
	}
	return -1; /* RFC 2131 3: the options end with END */
}

/**
 * dhcp_put() - append one option to a reply
 * @q:		where it goes (dhcp_reply() sized the buffer for every option it writes)
 * @code:	option code
 * @len:	value length
 * @v:		value
 *
 * Return: the byte after it
 */
static uint8_t *dhcp_put(uint8_t *q, uint8_t code, uint8_t len, const uint8_t *v)
{
	q[0] = code;
	q[1] = len;
	memcpy(q + 2, v, len);
	return q + 2 + len;
}

/**
 * dhcp_put32() - append an option whose value is one 32-bit number or address
 * @q:		where it goes
 * @code:	option code
 * @v:		the value, host byte order
 *
 * Return: the byte after it
 */
static uint8_t *dhcp_put32(uint8_t *q, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	wr32(b, v);
	return dhcp_put(q, code, 4, b);
}

/**
 * dhcp_reply() - build and send a reply to the client's message @m
 * @s:		the link's stack
 * @p:		the client's datagram (its Ethernet source is where a ciaddr lives)
 * @m:		the client's message
 * @type:	DHCPOFFER, DHCPACK or DHCPNAK
 *
 * RFC 2131 table 3 says which field and option each reply carries; 4.1 where it goes (with
 * giaddr zero, the only case served): a NAK to the limited broadcast; a message from a
 * client with an address (ciaddr: RENEWING, REBINDING, INFORM) to that address; otherwise
 * to the broadcast if the client asked for it (broadcast flag), else to yiaddr at chaddr.
 */
static void dhcp_reply(struct stack *s, const struct pkt *p, const struct dhcp_msg *m,
		       uint8_t type)
{
	uint8_t *u = stack_tx_l4(s), *b = u + UDP_HDR_LEN, *q;
	bool inform = m->type == DHCPINFORM, lease = type != DHCPNAK && !inform;
	const uint8_t *dmac;
	uint32_t daddr, mask;
	size_t blen, ulen;
	uint16_t sum;
	uint8_t t = type;

	memset(b, 0, DHCP_MAX_MSG);
	b[0] = BOOTREPLY;
	b[1] = DHCP_HTYPE_ETHER;
	b[2] = ETH_ALEN;
	wr32(b + 4, m->xid);
	wr16(b + 10, m->flags);
	/* ciaddr: the client's own, in an ACK to a client that has one; 0 otherwise */
	if (type == DHCPACK)
		wr32(b + 12, m->ciaddr);
	/* yiaddr: the lease; none in a NAK or in the ACK to an INFORM (4.3.5) */
	if (lease)
		wr32(b + 16, dhcp_lease_addr(s));
	wr32(b + 24, m->giaddr);
	memcpy(b + 28, m->chaddr, 16);

	q = b + DHCP_FIXED_LEN;
	wr32(q, DHCP_COOKIE);
	q += 4;
	q = dhcp_put(q, DHO_MSG_TYPE, 1, &t);
	q = dhcp_put32(q, DHO_SERVER_ID, s->cfg.gateway);
	if (type == DHCPNAK) {
		q = dhcp_put(q, DHO_MESSAGE, sizeof(dhcp_nak_text) - 1,
			     (const uint8_t *)dhcp_nak_text);
	} else {
		if (lease) {
			q = dhcp_put32(q, DHO_LEASE_TIME, DHCP_LEASE_S);
			q = dhcp_put32(q, DHO_RENEWAL_TIME, DHCP_T1_S);
			q = dhcp_put32(q, DHO_REBINDING_TIME, DHCP_T2_S);
		}
		mask = s->cfg.prefix_len ? ~0u << (32 - s->cfg.prefix_len) : 0;
		q = dhcp_put32(q, DHO_SUBNET_MASK, mask);
		q = dhcp_put32(q, DHO_ROUTER, s->cfg.gateway);
		q = dhcp_put32(q, DHO_DNS, s->cfg.dns);
		/* RFC 2132 5.1: the interface MTU (68 at least; the stack's is 576 or more) */
		q[0] = DHO_MTU;
		q[1] = 2;
		wr16(q + 2, (uint16_t)(s->cfg.mtu > 65535 ? 65535 : s->cfg.mtu));
		q += 4;
	}
	/* RFC 6842 3: a client identifier the client sent MUST be returned */
	if (m->cid)
		q = dhcp_put(q, DHO_CLIENT_ID, m->cid_len, m->cid);
	*q++ = DHO_END;
	blen = (size_t)(q - b);
	if (blen < DHCP_MIN_MSG)
		blen = DHCP_MIN_MSG; /* PAD (0) bytes, zeroed above */

	if (type == DHCPNAK) {
		daddr = IP4_BROADCAST;
		dmac = dhcp_bcast_mac;
	} else if (m->ciaddr) {
		daddr = m->ciaddr;
		dmac = p->frame + ETH_ALEN;
	} else if (m->flags & DHCP_FLAG_BROADCAST) {
		daddr = IP4_BROADCAST;
		dmac = dhcp_bcast_mac;
	} else {
		daddr = dhcp_lease_addr(s);
		dmac = m->chaddr;
	}

	ulen = UDP_HDR_LEN + blen;
	wr16(u, DHCP_SERVER_PORT);
	wr16(u + 2, DHCP_CLIENT_PORT);
	wr16(u + 4, (uint16_t)ulen);
	wr16(u + 6, 0);
	sum = csum_fold(csum_partial(u, ulen, csum_pseudo4(s->cfg.gateway, daddr, PROTO_UDP,
							      (uint16_t)ulen)));
	wr16(u + 6, sum ? sum : 0xffff); /* RFC 768: a computed zero is sent as all ones */

	switch (type) {
	case DHCPOFFER:
		s->cnt.dhcp_offers++;
		break;
	case DHCPACK:
		s->cnt.dhcp_acks++;
		break;
	default:
		s->cnt.dhcp_naks++;
		break;
	}
	ip4_output_to(s, dmac, s->cfg.gateway, daddr, PROTO_UDP, ulen);
}

/**
 * dhcp_held() - whether the container's client declined the address lately (4.3.3)
 * @s:		the link's stack
 * @now_us:	the time of the message being answered
 *
 * Return: true while the address is not to be offered
 */
static bool dhcp_held(const struct stack *s, uint64_t now_us)
{
	return s->dhcp_held_until && now_us < s->dhcp_held_until;
}

/**
 * dhcp_request() - RFC 2131 4.3.2: which state the client is in tells what to check
 * @s:		the link's stack
 * @p:		the datagram
 * @m:		the REQUEST
 *
 * SELECTING names the server and the address offered; INIT-REBOOT only the address it
 * remembers; RENEWING and REBINDING carry it in ciaddr. A REQUEST that names another server
 * is NAKed here, where RFC 2131 has a server that was not chosen stay silent: on a TAP we
 * are the only server, so no other answer comes, and the NAK sends the client back to INIT
 * at once instead of leaving it to time out.
 */
static void dhcp_request(struct stack *s, const struct pkt *p, const struct dhcp_msg *m)
{
	uint32_t want;

	if (m->has_srv)
		want = m->srv == s->cfg.gateway && m->has_req ? m->req : 0;
	else if (m->has_req)
		want = m->req;
	else if (m->ciaddr)
		want = m->ciaddr;
	else {
		s->cnt.drop_dhcp_malformed++; /* no state of 4.3.2 sends this */
		return;
	}
	if (want != dhcp_lease_addr(s) || dhcp_held(s, p->now_us)) {
		dhcp_reply(s, p, m, DHCPNAK);
		return;
	}
	/* The client is bound to the lease now (4.3.2): from here on it sends from it, so it
	 * is the container's address (the stack relays from that one only) */
	s->cfg.addr = dhcp_lease_addr(s);
	dhcp_reply(s, p, m, DHCPACK);
}

/**
 * dhcp_dispatch() - act on a well-formed client message
 * @s:		the link's stack
 * @p:		the datagram
 * @m:		the message
 */
static void dhcp_dispatch(struct stack *s, const struct pkt *p, const struct dhcp_msg *m)
{
	switch (m->type) {
	case DHCPDISCOVER:
		/* 4.3.1: offer the address, whatever the client asked for (we have one) */
		if (dhcp_held(s, p->now_us)) {
			s->cnt.drop_dhcp_unavailable++;
			return;
		}
		dhcp_reply(s, p, m, DHCPOFFER);
		return;
	case DHCPREQUEST:
		dhcp_request(s, p, m);
		return;
	case DHCPDECLINE:
		/* 4.3.3, table 5: the requested address and the server identifier MUST be
		 * there. The address is marked unavailable; the operator learns of it from
		 * the counter. No reply. */
		if (!m->has_srv || m->srv != s->cfg.gateway || !m->has_req ||
		    m->req != dhcp_lease_addr(s)) {
			s->cnt.drop_dhcp_not_ours++;
			return;
		}
		s->dhcp_held_until = p->now_us + DHCP_DECLINE_HOLD_US;
		s->cnt.dhcp_declines++;
		return;
	case DHCPRELEASE:
		/* 4.3.4: the address in ciaddr is given back; with no lease table there is
		 * nothing to free (the address remains the link's). No reply. */
		if (!m->has_srv || m->srv != s->cfg.gateway || m->ciaddr != dhcp_lease_addr(s)) {
			s->cnt.drop_dhcp_not_ours++;
			return;
		}
		s->cnt.dhcp_releases++;
		return;
	case DHCPINFORM:
		/* 4.3.5: configuration only, for a client that has its address; a server
		 * MUST NOT NAK an INFORM, so one from another address goes unanswered */
		if (m->ciaddr != s->cfg.addr) {
			s->cnt.drop_dhcp_not_ours++;
			return;
		}
		dhcp_reply(s, p, m, DHCPACK);
		return;
	default:
		/* OFFER, ACK, NAK are the server's; 9 and beyond (RFC 3203, 4388...) are
		 * not served */
		s->cnt.drop_dhcp_unsupported++;
		return;
	}
}

bool dhcp_input(struct stack *s, const struct pkt *p)
{
	const uint8_t *h = p->l4, *b;
	struct dhcp_msg m;
	size_t ulen, blen;

	if (p->proto != PROTO_UDP || p->l4_len < UDP_HDR_LEN ||
	    rd16(h + 2) != DHCP_SERVER_PORT)
		return false;
	/* A client without an address sends from 0.0.0.0, one with its lease from it (4.1);
	 * to the broadcast, or to the server identifier when RENEWING (4.4.5) */
	if (p->saddr && p->saddr != s->cfg.addr && p->saddr != dhcp_lease_addr(s))
		return false;
	if (p->daddr != IP4_BROADCAST && p->daddr != s->cfg.gateway)
		return false;

	/* From here the datagram is the server's: answered, or dropped and counted here */
	if (rd16(p->ip + 6) & (IP4_FLAG_MF | IP4_FRAG_OFF_MASK)) {
		/* A DHCP message fits 576 bytes (RFC 2131 2): no client fragments one */
		s->cnt.drop_dhcp_malformed++;
		return true;
	}
	ulen = rd16(h + 4);
	if (ulen < UDP_HDR_LEN || ulen > p->l4_len) {
		s->cnt.drop_udp_malformed++;
		return true;
	}
	if (rd16(h + 6) &&
	    !csum_ok(h, ulen, csum_pseudo4(p->saddr, p->daddr, PROTO_UDP, (uint16_t)ulen))) {
		s->cnt.drop_udp_bad_checksum++;
		return true;
	}
	b = h + UDP_HDR_LEN;
	blen = ulen - UDP_HDR_LEN;
	/* RFC 2131 2: op BOOTREQUEST from a client; only Ethernet's 6-byte addresses are on a
	 * TAP (htype 1, hlen 6); the options begin with the magic cookie */
	if (blen < DHCP_OPTS_OFF || b[0] != BOOTREQUEST || b[1] != DHCP_HTYPE_ETHER ||
	    b[2] != ETH_ALEN || rd32(b + DHCP_FIXED_LEN) != DHCP_COOKIE) {
		s->cnt.drop_dhcp_malformed++;
		return true;
	}
	memset(&m, 0, sizeof(m));
	m.xid = rd32(b + 4);
	m.flags = rd16(b + 10);
	m.ciaddr = rd32(b + 12);
	m.giaddr = rd32(b + 24);
	m.chaddr = b + 28;
	if (dhcp_parse_options(b + DHCP_OPTS_OFF, blen - DHCP_OPTS_OFF, &m) < 0) {
		s->cnt.drop_dhcp_malformed++;
		return true;
	}
	/* A BOOTP client (no message type, RFC 951) or a relay agent (giaddr, RFC 1542):
	 * neither is on a TAP link with one container */
	if (!m.type || m.giaddr) {
		s->cnt.drop_dhcp_unsupported++;
		return true;
	}
	/* The frame is the container's: its MAC is the one to answer (eth_learn_container
	 * refuses group and zero addresses) */
	eth_learn_container(s, p->frame + ETH_ALEN);
	dhcp_dispatch(s, p, &m);
	return true;
}
