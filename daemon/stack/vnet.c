/* vnet.c - the virtio-net header in front of each frame when the TAP's offloads are on
 * (virtio 1.x 5.1.6): what the container's kernel says of a frame, checked as hostile input.
 *
 * Two things it may say: the frame is a TCP super-frame (GSO) of gso_size-byte segments, up
 * to 64 KiB whatever the MTU; its L4 checksum is valid (DATA_VALID) or left partial for the
 * receiver (NEEDS_CSUM), so that nobody computes it over a TAP. We trust a checksum only
 * where the header says one of those, and only once its offsets point where the checksum
 * of the protocol carried really is. Out, stack_frame_vnet() says the same of our frames to
 * the container's kernel. Must not: look at the frame beyond its headers.
 */
#include "stack_internal.h"

/* Largest gso_size we take: a segment of the largest MTU a TAP has. Zero or more is not a
 * segment size any kernel sends. */
#define VNET_GSO_SIZE_MAX (STACK_MAX_MTU - IP4_HDR_MIN - TCP_HDR_MIN)

int vnet_parse(struct stack *s, const uint8_t *h, size_t frame_len, struct vnet_meta *m)
{
	uint8_t flags = h[VNET_OFF_FLAGS], gso = h[VNET_OFF_GSO_TYPE] & ~VNET_GSO_ECN;

	memset(m, 0, sizeof(*m));
	/* RSC_INFO and any bit the spec may add mean fields we do not read: refuse them */
	if (flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) {
		s->cnt.drop_vnet_malformed++;
		return -1;
	}
	/* We offered TUN_F_TSO4 and TSO6 only (no UFO, no USO); TCPV6 is for the IPv6 layer to
	 * drop, which counts it as such. */
	if (gso != VNET_GSO_NONE && gso != VNET_GSO_TCPV4 && gso != VNET_GSO_TCPV6) {
		s->cnt.drop_vnet_bad_gso++;
		return -1;
	}
	if (gso != VNET_GSO_NONE) {
		m->gso_size = rd16le(h + VNET_OFF_GSO_SIZE);
		if (!m->gso_size || m->gso_size > VNET_GSO_SIZE_MAX) {
			s->cnt.drop_vnet_bad_gso++;
			return -1;
		}
	}
	if (flags & VNET_F_NEEDS_CSUM) {
		m->csum_start = rd16le(h + VNET_OFF_CSUM_START);
		m->csum_offset = rd16le(h + VNET_OFF_CSUM_OFFSET);
		/* the 16-bit field it names must lie past the IPv4 header and inside the frame */
		if (m->csum_start < ETH_HDR_LEN + IP4_HDR_MIN ||
		    (size_t)m->csum_start + m->csum_offset + 2 > frame_len) {
			s->cnt.drop_vnet_bad_csum++;
			return -1;
		}
	}
	m->flags = flags;
	m->gso_type = gso;
	return 0;
}

int vnet_l4_check(struct stack *s, struct pkt *p)
{
	const struct vnet_meta *m = &p->vnet;
	size_t l4_off = (size_t)(p->l4 - p->frame);

	p->csum_trusted = false;
	if (m->gso_type != VNET_GSO_NONE && (m->gso_type != VNET_GSO_TCPV4 || p->proto != PROTO_TCP)) {
		s->cnt.drop_vnet_bad_gso++;
		return -1;
	}
	if (m->flags & VNET_F_NEEDS_CSUM) {
		/* RFC 9293 3.1 / RFC 768: the checksum is at 16 in TCP, at 6 in UDP; a partial
		 * sum anywhere else (or for another protocol, whose checksum the kernel does not
		 * offload) would have us skip the check of a frame nobody summed */
		size_t want = p->proto == PROTO_TCP ? 16 : p->proto == PROTO_UDP ? 6 : 0;

		if (!want || m->csum_start != l4_off || m->csum_offset != want ||
		    want + 2 > p->l4_len) {
			s->cnt.drop_vnet_bad_csum++;
			return -1;
		}
	}
	if (m->flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) {
		p->csum_trusted = true;
		s->cnt.rx_csum_trusted++;
	}
	if (m->gso_type != VNET_GSO_NONE)
		s->cnt.rx_gso_frames++;
	return 0;
}

void stack_frame_vnet(struct stack_frame *fr)
{
	uint8_t *vh = fr->data - VNET_HDR_LEN;

	memset(vh, 0, VNET_HDR_LEN);
	if (!fr->fill_flow || !fr->len || fr->len <= fr->l4_off)
		return; /* complete: every checksum computed, nothing to cut */
	/* 5.1.6.2: the sum from csum_start to the end goes at csum_start + csum_offset, the
	 * field holding the pseudo-header sum meanwhile; the container's kernel takes the
	 * segment as checksummed (CHECKSUM_PARTIAL) and nobody sums its payload */
	stack_frame_seal_partial(fr);
	vh[VNET_OFF_FLAGS] = VNET_F_NEEDS_CSUM;
	wr16le(vh + VNET_OFF_CSUM_START, fr->l4_off);
	wr16le(vh + VNET_OFF_CSUM_OFFSET, fr->csum_off);
	if (fr->mss && fr->fill_len > fr->mss) {
		/* 5.1.6.2.1: a super-frame the kernel cuts at gso_size payload bytes, each cut
		 * segment repeating the headers (hdr_len bytes of them) */
		vh[VNET_OFF_GSO_TYPE] = VNET_GSO_TCPV4;
		wr16le(vh + VNET_OFF_GSO_SIZE, fr->mss);
		wr16le(vh + VNET_OFF_HDR_LEN, fr->fill_at);
	}
}
