/* eth.c - Ethernet II: which frames from the TAP are ours, demultiplexing by ethertype, and
 * learning the container's MAC.
 *
 * The TAP is a point-to-point link with exactly one other station, the container. We accept
 * frames to our own MAC (cfg.mac, used for the gateway and DNS addresses) and, for ARP and
 * DHCP only, to the broadcast address. Must not: build frames (ip4_output and arp.c do), or
 * look past the 14-byte header except to hand the frame on.
 */
#include "stack_internal.h"

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/**
 * eth_is_group() - whether @mac is a group (multicast or broadcast) address
 * @mac:	a MAC address
 *
 * Return: true if the I/G bit, the least significant bit of the first octet, is set
 * (IEEE 802-2014 8.2.2)
 */
static bool eth_is_group(const uint8_t mac[ETH_ALEN])
{
	return mac[0] & 1;
}

void eth_learn_container(struct stack *s, const uint8_t mac[ETH_ALEN])
{
	static const uint8_t zero[ETH_ALEN];

	/* A group address or all zeroes can never be a station's own address: sending our
	 * unicast frames there would flood them or lose them. */
	if (eth_is_group(mac) || !memcmp(mac, zero, ETH_ALEN))
		return;
	memcpy(s->cmac, mac, ETH_ALEN);
	s->cmac_known = true;
}

/**
 * eth_input() - take one frame from the TAP apart and hand it to ARP or IPv4
 * @s:		the link's stack
 * @frame:	the whole Ethernet frame (no FCS: the TAP never carries it)
 * @len:	its length
 * @vm:		its virtio-net header, NULL if none
 * @now_us:	arrival time
 *
 * Every frame that goes no further is counted in exactly one drop_* counter.
 */
void eth_input(struct stack *s, const uint8_t *frame, size_t len, const struct vnet_meta *vm,
	       uint64_t now_us)
{
	const uint8_t *dst = frame;
	uint16_t type;

	if (len < ETH_HDR_LEN) {
		s->cnt.drop_short_frame++;
		return;
	}
	type = rd16(frame + 12);

	if (!memcmp(dst, s->cfg.mac, ETH_ALEN)) {
		switch (type) {
		case ETHERTYPE_ARP:
			arp_input(s, frame, len, now_us);
			return;
		case ETHERTYPE_IPV4:
			ip4_input(s, frame, len, vm, now_us);
			return;
		default:
			/* IPv6 too, until the stack speaks it; 802.1Q tags; 802.3 lengths */
			s->cnt.drop_bad_ethertype++;
			return;
		}
	}

	/* Broadcast is for ARP requests only. RFC 1122 3.3.6: a datagram received as a
	 * link-layer broadcast without an IP broadcast or multicast destination SHOULD be
	 * discarded, and we take part in no broadcast or multicast IP protocol. The container's
	 * IPv4 and IPv6 multicast (IGMP, MLD, neighbour discovery, mDNS...) lands here too: it
	 * is routine, so it is only counted. */
	if (type == ETHERTYPE_ARP && !memcmp(dst, eth_bcast, ETH_ALEN)) {
		arp_input(s, frame, len, now_us);
		return;
	}
	/* ...and for a DHCP client's messages (RFC 2131 4.1: to the limited broadcast), which
	 * ip4_input() hands to dhcp.c; any other IPv4 broadcast it drops. */
	if (type == ETHERTYPE_IPV4 && s->cfg.dhcp && !memcmp(dst, eth_bcast, ETH_ALEN)) {
		ip4_input(s, frame, len, vm, now_us);
		return;
	}
	s->cnt.drop_not_for_us++;
}
