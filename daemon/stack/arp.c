/* arp.c - ARP for Ethernet and IPv4 (RFC 826): answer for the gateway and DNS addresses,
 * learn the container's MAC, and ask for it when we must send before we have heard it.
 *
 * Like slirp and pasta we answer only for the addresses the stack itself owns: the container
 * routes everything through the gateway, so it never needs to resolve anything else, and
 * answering for the whole subnet would hide address conflicts from it (RFC 5227). There is no
 * ARP cache beyond the one neighbour, the container. Must not: route, or touch IP state.
 */
#include "stack_internal.h"

/* Offsets in the ARP body (RFC 826 "Packet format"), Ethernet/IPv4 sizes */
#define ARP_HTYPE 0
#define ARP_PTYPE 2
#define ARP_HLEN 4
#define ARP_PLEN 5
#define ARP_OP 6
#define ARP_SHA 8
#define ARP_SPA 14
#define ARP_THA 18
#define ARP_TPA 24

#define ARP_HTYPE_ETHER 1

/**
 * arp_send() - build and send one Ethernet/IPv4 ARP frame
 * @s:		the link's stack
 * @eth_dst:	Ethernet destination
 * @op:		ARP_OP_REQUEST or ARP_OP_REPLY
 * @spa:	sender protocol address (one of ours); the sender hardware address is cfg.mac
 * @tha:	target hardware address
 * @tpa:	target protocol address
 *
 * Built in a local buffer and copied into the batch: arp_request_container() is called from
 * ip4_output() while the batch's next slot holds the frame being built (which it drops).
 */
static void arp_send(struct stack *s, const uint8_t eth_dst[ETH_ALEN], uint16_t op, uint32_t spa,
		     const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	uint8_t f[ETH_HDR_LEN + ARP_LEN];
	uint8_t *a = f + ETH_HDR_LEN;

	memcpy(f, eth_dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, s->cfg.mac, ETH_ALEN);
	wr16(f + 12, ETHERTYPE_ARP);
	wr16(a + ARP_HTYPE, ARP_HTYPE_ETHER);
	wr16(a + ARP_PTYPE, ETHERTYPE_IPV4);
	a[ARP_HLEN] = ETH_ALEN;
	a[ARP_PLEN] = 4;
	wr16(a + ARP_OP, op);
	memcpy(a + ARP_SHA, s->cfg.mac, ETH_ALEN);
	wr32(a + ARP_SPA, spa);
	memcpy(a + ARP_THA, tha, ETH_ALEN);
	wr32(a + ARP_TPA, tpa);

	/* No padding to the 60-byte Ethernet minimum: a TAP carries frames of any length,
	 * and the container's kernel accepts them (pasta sends 42-byte replies too). */
	stack_tx_raw(s, f, sizeof(f));
}

void arp_request_container(struct stack *s)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t unknown[ETH_ALEN];

	/* RFC 826: the target hardware address of a request is what we do not know yet */
	arp_send(s, bcast, ARP_OP_REQUEST, s->cfg.gateway, unknown, s->cfg.addr);
}

/**
 * arp_input() - process one ARP frame that eth_input() accepted
 * @s:		the link's stack
 * @frame:	the whole Ethernet frame
 * @len:	its length (Ethernet padding after the 28-byte body is ignored)
 * @now_us:	arrival time (unused: no ARP cache ages here)
 */
void arp_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us)
{
	const uint8_t *a = frame + ETH_HDR_LEN;
	const uint8_t *sha;
	uint32_t spa, tpa;
	uint16_t op;

	(void)now_us;
	if (len < ETH_HDR_LEN + ARP_LEN || rd16(a + ARP_HTYPE) != ARP_HTYPE_ETHER ||
	    rd16(a + ARP_PTYPE) != ETHERTYPE_IPV4 || a[ARP_HLEN] != ETH_ALEN || a[ARP_PLEN] != 4) {
		s->cnt.drop_arp_malformed++;
		return;
	}
	op = rd16(a + ARP_OP);
	sha = a + ARP_SHA;
	/* A group sender address cannot be answered by unicast, and is no station's own */
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || (sha[0] & 1)) {
		s->cnt.drop_arp_malformed++;
		return;
	}
	spa = rd32(a + ARP_SPA);
	tpa = rd32(a + ARP_TPA);

	/* RFC 826 "Packet Reception": merge the sender's pair before looking at the opcode.
	 * Our only neighbour is the container, so only its address is learned. */
	if (spa == s->cfg.addr)
		eth_learn_container(s, sha);

	if (op == ARP_OP_REQUEST && stack_is_local(s, tpa)) {
		/* A reply from the address asked for, to the requester. Probes (RFC 5227 2.1.1:
		 * sender address 0.0.0.0) for the gateway get one too: that is how the owner of
		 * an address defends it. */
		arp_send(s, sha, ARP_OP_REPLY, tpa, sha, spa);
		s->cnt.arp_replies++;
		return;
	}

	/* The container announcing itself (a gratuitous request, RFC 5227 2.3, or a reply to
	 * our own request) taught us its MAC: used, not dropped. */
	if (spa == s->cfg.addr && (op == ARP_OP_REPLY || tpa == spa))
		return;

	/* Requests for any other address (including the container's own, as in duplicate
	 * address detection, which must not see an answer), replies from anyone else */
	s->cnt.drop_not_for_us++;
}
