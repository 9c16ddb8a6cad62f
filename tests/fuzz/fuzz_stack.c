/* fuzz_stack.c - libFuzzer target: one link's stack, driven by a stream of frames, passing
 * time and upstream events, with a shell that accepts everything.
 *
 * Input:
 *   byte 0: flags. bit 0: fix checksums (IPv4 header, ICMP, ICMPv6, TCP, UDP) and IPv4/IPv6/
 *           UDP lengths before feeding, so that the fuzzer gets past the checksums into TCP and UDP;
 *           bit 1: run the link with MTU 1500 instead of the default 65520 (segmentation,
 *           fragmentation);
 *           bit 2: TCP acknowledgment numbers in the input are relative to the ISN the stack
 *           chose for that container port (learned from its SYN or SYN-ACK), so that the
 *           fuzzer gets through handshakes into the data paths without guessing a hash;
 *           bit 3: the TAP's offloads are on: each frame's first 12 bytes are its virtio-net
 *           header (stack_input_vnet; fewer than 12 are fed as they are, a hostile short
 *           header), and the stack sends super-frames (cfg.tso) with partial checksums,
 *           which the harness completes as the container's kernel would. With bit 0, a
 *           header that says NEEDS_CSUM gets the offsets of the frame's real L4 checksum
 *           and the partial sum in it, unless bit 0 of the header's last byte (num_buffers,
 *           which the stack ignores) asks to keep the fuzzer's own.
 *   then records: u16 length (big endian), u16 control, then that many frame bytes (fewer
 *   if the input ends first). Control bits 0-11: milliseconds that pass before the frame
 *   (timers fire: stack_tick); bits 12-15: an upstream event applied after it (enum below).
 *
 * Oracles beyond ASan/UBSan: every frame the stack sends must be well formed (lengths,
 * checksums, within the MTU unless it is a super-frame whose virtio-net header has the
 * kernel cut it at a sane gso_size), and the stack must never consume upstream bytes it was
 * never offered. A violation aborts, so the fuzzer reports it as a crash.
 *
 * Bit 2 takes effect with bit 0 only.
 *
 * Build: `make fuzz` in a configured build directory, or tests/fuzz/run.sh SECONDS.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "wire.h"

#define FZ_MAX_FLOWS 64 /* flows the harness tracks for upstream events; more are ignored */
#define FZ_ISS_SLOTS 256 /* ISNs remembered, by container port modulo this */

/* Upstream events, control bits 12-15 */
enum fz_event {
	EV_NONE,
	EV_CONNECTED,   /* every flow waiting on connect(): it succeeded */
	EV_READABLE,    /* upstream has 1 KiB .. 64 KiB more for the container */
	EV_WRITABLE,
	EV_EOF,
	EV_RESET,
	EV_REFUSED,     /* a waiting connect() fails with ECONNREFUSED */
	EV_UNREACHABLE, /* ... with EHOSTUNREACH */
	EV_ABORT,       /* the shell gives up on a flow */
	EV_UDP_REPLY,   /* a datagram from upstream, up to 65507 bytes */
	EV_UDP_ERROR,   /* the host socket got an ICMP error */
	EV_CONNECT,     /* a port forward opens a connection to the container */
	EV_ROOM,        /* upstream room toggles between none and plenty (arg bit 3: between
			 * deliveries taken and refused as by a reset upstream) */
	EV_REFUSE_OPEN, /* tcp_open toggles between accepting and refusing */
	EV_UDP_FAIL,    /* udp_send toggles between accepting and failing */
	EV_READABLE_BIG,
};

/**
 * struct fz_flow - what the fake shell knows of one flow
 * @f:		the flow
 * @avail:	upstream bytes not yet consumed (tcp_upstream_set_avail, what a fill may take)
 * @pending:	tcp_open accepted it, connect() not finished
 * @connected:	the upstream side is up (events like readable are legal)
 * @eof:	tcp_upstream_eof given
 */
struct fz_flow {
	struct flow *f;
	uint64_t avail;
	bool pending, connected, eof;
};

/**
 * struct fz - the fake shell
 * @fl, @nfl:	tracked flows
 * @room:	what tcp_upstream_set_room and tcp_deliver grant
 * @gone:	tcp_deliver fails as on a reset upstream (-EPIPE)
 * @s:		the stack (for ops->prepare)
 * @refuse_open: tcp_open refuses
 * @udp_fail:	udp_send fails
 * @mtu:	the link's MTU, to check frames against
 * @vnet:	offloads on (input bit 3)
 * @iss:	the ISN of the stack's last SYN to each container port (modulo FZ_ISS_SLOTS)
 */
static struct fz {
	struct fz_flow fl[FZ_MAX_FLOWS];
	unsigned int nfl;
	uint32_t room;
	bool gone;
	struct stack *s;
	bool refuse_open, udp_fail;
	uint32_t mtu;
	bool vnet;
	uint32_t iss[FZ_ISS_SLOTS];
} fz;

static bool fz_trace; /* FUZZ_TRACE set: print flow events and frames sent (reproducing) */

static struct fz_flow *fz_find(const struct flow *f)
{
	for (unsigned int i = 0; i < fz.nfl; i++)
		if (fz.fl[i].f == f)
			return &fz.fl[i];
	return NULL;
}

/** fz_bug() - an oracle failed: report and abort, so that libFuzzer keeps the input */
static void fz_bug(const char *what, size_t a, size_t b)
{
	fprintf(stderr, "fuzz_stack: %s (%zu, %zu)\n", what, a, b);
	abort();
}

/**
 * check_l4() - the transport part of a frame the stack sent: its header holds together and
 * its checksum (with pseudo-header sum @ph, or none for ICMP) verifies
 * @proto:	IP protocol (ICMP over IPv4, ICMPv6 over IPv6, TCP, UDP)
 * @l4:		the transport header
 * @l4len:	its length with the payload
 * @ph:		the pseudo-header sum (ICMPv6 included)
 */
static void check_l4(uint8_t proto, const uint8_t *l4, size_t l4len, uint64_t ph)
{
	switch (proto) {
	case PROTO_ICMP:
	case IP6_NH_ICMP6:
		if (l4len < ICMP_HDR_LEN || !csum_ok(l4, l4len, ph))
			fz_bug("ICMP", l4len, proto);
		return;
	case PROTO_TCP:
		if (l4len < TCP_HDR_MIN || (size_t)(l4[12] >> 4) * 4 < TCP_HDR_MIN ||
		    (size_t)(l4[12] >> 4) * 4 > l4len || !csum_ok(l4, l4len, ph))
			fz_bug("TCP", l4len, l4[12] >> 4);
		if (l4[13] & TCP_SYN)
			fz.iss[rd16(l4 + 2) % FZ_ISS_SLOTS] = rd32(l4 + 4);
		return;
	case PROTO_UDP:
		if (l4len < UDP_HDR_LEN || rd16(l4 + 4) != l4len ||
		    (rd16(l4 + 6) && !csum_ok(l4, l4len, ph)))
			fz_bug("UDP", l4len, rd16(l4 + 4));
		return;
	default:
		fz_bug("IP protocol", proto, 0);
	}
}

/**
 * check_frame6() - an IPv6 frame the stack sent: version, payload length, a group MAC only
 * for a multicast destination (and then the right one, RFC 2464 7), the transport checksum
 * unless it is a fragment
 * @f:		the frame
 * @len:	its length
 */
static void check_frame6(const uint8_t *f, size_t len)
{
	const uint8_t *h = f + ETH_HDR_LEN;
	size_t plen;

	if (len < ETH_HDR_LEN + IP6_HDR_LEN || h[0] >> 4 != 6)
		fz_bug("IPv6 header", len, h[0]);
	plen = rd16(h + 4);
	if (ETH_HDR_LEN + IP6_HDR_LEN + plen != len)
		fz_bug("IPv6 payload length", plen, len);
	if ((f[0] & 1) != (h[24] == 0xff) ||
	    (h[24] == 0xff && (f[0] != 0x33 || f[1] != 0x33 || memcmp(f + 2, h + 36, 4))))
		fz_bug("IPv6 destination MAC", f[0], h[24]);
	if (h[6] == IP6_NH_FRAGMENT)
		return; /* a fragment: its L4 checksum covers the whole packet */
	check_l4(h[6], h + IP6_HDR_LEN, plen,
		 h[6] == PROTO_TCP || h[6] == PROTO_UDP || h[6] == IP6_NH_ICMP6
			 ? csum_pseudo6(h + 8, h + 24, h[6], (uint32_t)plen)
			 : 0);
}

/**
 * check_frame() - every frame the stack sends must be well formed
 * @f, @len:	the frame
 * @gso:	its virtio-net header has the kernel cut it at this gso_size (0: none)
 */
static void check_frame(const uint8_t *f, size_t len, unsigned int gso)
{
	const uint8_t *h = f + ETH_HDR_LEN, *l4;
	size_t ihl, tot, l4len;
	uint64_t ph = 0;

	if (len < ETH_HDR_LEN || (len > ETH_HDR_LEN + fz.mtu && !gso))
		fz_bug("frame length", len, fz.mtu);
	/* a super-frame: TCP only (below), cut into segments that fit the MTU */
	if (gso && (!fz.vnet || gso + IP4_HDR_MIN + TCP_HDR_MIN > fz.mtu || len > FRAME_MAX))
		fz_bug("gso_size", gso, len);
	if (rd16(f + 12) == ETHERTYPE_ARP) {
		if (gso || len != ETH_HDR_LEN + ARP_LEN)
			fz_bug("ARP frame length", len, 0);
		return;
	}
	if (rd16(f + 12) == ETHERTYPE_IPV6) {
		check_frame6(f, len);
		return;
	}
	if (rd16(f + 12) != ETHERTYPE_IPV4)
		fz_bug("ethertype", rd16(f + 12), 0);
	if (f[0] & 1)
		fz_bug("IPv4 frame to a group MAC", f[0], 0);
	if (len < ETH_HDR_LEN + IP4_HDR_MIN || h[0] >> 4 != 4)
		fz_bug("IPv4 header", len, h[0]);
	ihl = (size_t)(h[0] & 0xf) * 4;
	tot = rd16(h + 2);
	if (ihl < IP4_HDR_MIN || tot < ihl || ETH_HDR_LEN + tot != len)
		fz_bug("IPv4 lengths", ihl, tot);
	if (!csum_ok(h, ihl, 0))
		fz_bug("IPv4 header checksum", tot, 0);
	if (rd16(h + 6) & (IP4_FLAG_MF | IP4_FRAG_OFF_MASK))
		return; /* a fragment: its L4 checksum covers the whole datagram */
	l4 = h + ihl;
	l4len = tot - ihl;
	if (gso && h[9] != PROTO_TCP)
		fz_bug("GSO on another protocol than TCP", h[9], gso);
	if (h[9] == PROTO_TCP || h[9] == PROTO_UDP)
		ph = csum_pseudo4(rd32(h + 12), rd32(h + 16), h[9], (uint16_t)l4len);
	check_l4(h[9], l4, l4len, ph);
}

/**
 * kernel_vnet() - with offloads: have the stack write @fr's virtio-net header, check it, and
 * do what the container's kernel does with it (complete a partial checksum, 5.1.6.2)
 * Return: the gso_size the kernel would cut the frame at, 0 if none
 */
static unsigned int kernel_vnet(struct stack_frame *fr)
{
	const uint8_t *vh = fr->data - VNET_HDR_LEN;
	unsigned int start, off, gso = 0;

	stack_frame_vnet(fr);
	if (vh[VNET_OFF_FLAGS] & ~VNET_F_NEEDS_CSUM)
		fz_bug("virtio-net flags out", vh[VNET_OFF_FLAGS], 0);
	if (vh[VNET_OFF_GSO_TYPE] == VNET_GSO_TCPV4) {
		gso = rd16le(vh + VNET_OFF_GSO_SIZE);
		if (!gso || !(vh[VNET_OFF_FLAGS] & VNET_F_NEEDS_CSUM) ||
		    rd16le(vh + VNET_OFF_HDR_LEN) > fr->len)
			fz_bug("virtio-net GSO out", gso, rd16le(vh + VNET_OFF_HDR_LEN));
	} else if (vh[VNET_OFF_GSO_TYPE] != VNET_GSO_NONE) {
		fz_bug("virtio-net gso_type out", vh[VNET_OFF_GSO_TYPE], 0);
	}
	if (!(vh[VNET_OFF_FLAGS] & VNET_F_NEEDS_CSUM))
		return gso;
	start = rd16le(vh + VNET_OFF_CSUM_START);
	off = rd16le(vh + VNET_OFF_CSUM_OFFSET);
	if (start != ETH_HDR_LEN + IP4_HDR_MIN || off != 16 || start + off + 2 > fr->len)
		fz_bug("virtio-net checksum offsets out", start, off);
	wr16(fr->data + start + off, csum_fold(csum_partial(fr->data + start, fr->len - start, 0)));
	return gso;
}

/**
 * op_tx() - stack_ops.tx: fill each frame's payload from the fake upstream (byte i of the
 * stream after SND.UNA is i), refuse a fill beyond what upstream holds, check each frame
 */
static void op_tx(void *ctx, struct stack_txq *q)
{
	(void)ctx;
	for (unsigned int i = 0; i < q->n; i++) {
		struct stack_frame *fr = &q->frame[i];
		struct fz_flow *x;
		unsigned int gso = 0;
		uint32_t off;

		if (fr->fill_flow) {
			x = fz_find(fr->fill_flow);
			if (!tcp_fill_offset(fr->fill_flow, fr->fill_seq, &off))
				continue;
			if (!x || off + (uint64_t)fr->fill_len > x->avail)
				fz_bug("fill beyond what upstream holds", off + fr->fill_len,
				       x ? (size_t)x->avail : 0);
			if (fr->fill_at + (size_t)fr->fill_len > fr->len)
				fz_bug("fill beyond the frame", fr->fill_at + fr->fill_len, fr->len);
			for (uint32_t k = 0; k < fr->fill_len; k++)
				fr->data[fr->fill_at + k] = (uint8_t)(off + k);
			if (!fz.vnet)
				stack_frame_seal(fr);
		}
		if (!fr->len)
			continue;
		if (fz.vnet)
			gso = kernel_vnet(fr);
		if (fz_trace)
			fprintf(stderr, "tx %zu bytes, ethertype %04x, gso %u\n", fr->len,
				fr->len >= 14 ? rd16(fr->data + 12) : 0, gso);
		check_frame(fr->data, fr->len, gso);
	}
	q->n = 0;
}

/** op_prepare() - stack_ops.prepare: the fake upstream's figures, set before each batch */
static void op_prepare(void *ctx)
{
	(void)ctx;
	for (unsigned int i = 0; i < fz.nfl; i++) {
		if (fz.fl[i].f->proto != PROTO_TCP)
			continue;
		tcp_upstream_set_avail(fz.s, fz.fl[i].f,
				       fz.fl[i].avail > UINT32_MAX ? UINT32_MAX : (uint32_t)fz.fl[i].avail);
		tcp_upstream_set_room(fz.s, fz.fl[i].f, fz.room);
	}
}

static void op_flow_event(void *ctx, struct flow *f, enum stack_flow_event ev, int from)
{
	struct fz_flow *x;

	(void)ctx;
	if (fz_trace)
		fprintf(stderr, "flow %llu proto %u event %d: state %d -> %u\n",
			(unsigned long long)f->id, f->proto, ev, from, f->state);
	if (ev == STACK_EV_OPEN && fz.nfl < FZ_MAX_FLOWS) {
		fz.fl[fz.nfl++] = (struct fz_flow){ .f = f, .connected = f->proto == PROTO_UDP };
	} else if (ev == STACK_EV_CLOSE && (x = fz_find(f))) {
		*x = fz.fl[--fz.nfl];
	}
}

static int op_tcp_open(void *ctx, struct flow *f)
{
	struct fz_flow *x = fz_find(f);

	(void)ctx;
	if (fz.refuse_open)
		return -ECONNREFUSED;
	if (x)
		x->pending = true;
	return 0;
}

static ssize_t op_tcp_deliver(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)f;
	if (len) /* touch every byte: ASan checks that the stack handed over valid memory */
		(void)(volatile uint8_t)(data[0] ^ data[len - 1]);
	if (fz.gone)
		return -EPIPE;
	return (ssize_t)(len < fz.room ? len : fz.room);
}


static void op_tcp_consume(void *ctx, struct flow *f, uint32_t n)
{
	struct fz_flow *x = fz_find(f);

	(void)ctx;
	if (!x)
		return;
	if (n > x->avail)
		fz_bug("consumed more than upstream offered", n, (size_t)x->avail);
	x->avail -= n;
}

static void op_tcp_fin(void *ctx, struct flow *f)
{
	(void)ctx;
	(void)f;
}

static void op_tcp_reset(void *ctx, struct flow *f)
{
	(void)ctx;
	(void)f;
}

static void op_flow_closed(void *ctx, struct flow *f)
{
	(void)ctx;
	(void)f;
}

static int op_udp_send(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)f;
	if (len)
		(void)(volatile uint8_t)(data[0] ^ data[len - 1]);
	return fz.udp_fail ? -ECONNREFUSED : 0;
}

static const struct stack_ops fz_ops = {
	.tx = op_tx,
	.prepare = op_prepare,
	.flow_event = op_flow_event,
	.tcp_open = op_tcp_open,
	.tcp_deliver = op_tcp_deliver,
	.tcp_consume = op_tcp_consume,
	.tcp_fin = op_tcp_fin,
	.tcp_reset = op_tcp_reset,
	.flow_closed = op_flow_closed,
	.udp_send = op_udp_send,
};

/**
 * fix_partial() - under a virtio-net header that says NEEDS_CSUM, leave the L4 checksum as
 * a kernel does (the pseudo-header sum) and point the header at it, unless the header's last
 * byte keeps the fuzzer's offsets
 * @vh:		the header, or NULL
 * @l4:		the transport header
 * @field:	offset of its checksum field
 * @start:	offset of @l4 in the frame
 * @ph:		the pseudo-header sum
 */
static void fix_partial(uint8_t *vh, uint8_t *l4, unsigned int field, size_t start, uint64_t ph)
{
	if (!vh || !(vh[VNET_OFF_FLAGS] & VNET_F_NEEDS_CSUM) || (vh[VNET_HDR_LEN - 1] & 1))
		return;
	wr16(l4 + field, (uint16_t)~csum_fold(ph));
	wr16le(vh + VNET_OFF_CSUM_START, (uint16_t)start);
	wr16le(vh + VNET_OFF_CSUM_OFFSET, (uint16_t)field);
}

/**
 * fix_sums6() - make an IPv6 frame's payload length and its upper-layer checksum right,
 * behind up to 8 extension headers (hop-by-hop, destination options, routing, fragment
 * offset 0), so that seeds with chains get past the checksum
 * @f:		the frame
 * @len:	its length
 * @rel_ack:	TCP acknowledgment numbers are relative to the stack's ISN
 */
static void fix_sums6(uint8_t *f, size_t len, bool rel_ack)
{
	uint8_t *h = f + ETH_HDR_LEN, *l4 = h + IP6_HDR_LEN, nh;
	size_t plen, off = 0;
	uint64_t ph;

	if (len < ETH_HDR_LEN + IP6_HDR_LEN)
		return;
	plen = len - ETH_HDR_LEN - IP6_HDR_LEN > 65535 ? 65535 : len - ETH_HDR_LEN - IP6_HDR_LEN;
	wr16(h + 4, (uint16_t)plen);
	nh = h[6];
	for (int n = 0; n < 8 && off + 8 <= plen; n++) {
		size_t hl;

		if (nh == IP6_NH_FRAGMENT) {
			if (rd16(l4 + off + 2) & (IP6_FRAG_OFF_MASK | IP6_FRAG_MF))
				return;
			hl = IP6_FRAG_HDR_LEN;
		} else if (nh == IP6_NH_HOPOPTS || nh == IP6_NH_DSTOPTS || nh == IP6_NH_ROUTING) {
			hl = ((size_t)l4[off + 1] + 1) * 8;
		} else {
			break;
		}
		nh = l4[off];
		off += hl;
	}
	if (off > plen)
		return;
	l4 += off;
	plen -= off;
	ph = csum_pseudo6(h + 8, h + 24, nh, (uint32_t)plen);
	if (nh == IP6_NH_ICMP6 && plen >= 4) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, csum_fold(csum_partial(l4, plen, ph)));
	} else if (nh == PROTO_TCP && plen >= TCP_HDR_MIN) {
		if (rel_ack)
			wr32(l4 + 8, rd32(l4 + 8) + fz.iss[rd16(l4) % FZ_ISS_SLOTS]);
		wr16(l4 + 16, 0);
		wr16(l4 + 16, csum_fold(csum_partial(l4, plen, ph)));
	} else if (nh == PROTO_UDP && plen >= UDP_HDR_LEN) {
		wr16(l4 + 4, (uint16_t)plen);
		wr16(l4 + 6, 0);
		wr16(l4 + 6, csum_fold(csum_partial(l4, plen, ph)));
	}
}

/**
 * fix_sums() - make an IPv4 frame's lengths and checksums right, so it is judged on the rest
 * @f, @len:	the frame
 * @rel_ack:	its TCP acknowledgment number is relative to the stack's ISN
 * @vh:		its virtio-net header (NULL: none): under NEEDS_CSUM the L4 checksum is left
 *		partial and, unless the header's last byte says otherwise, its offsets are
 *		made those of the real checksum field
 */
static void fix_sums(uint8_t *f, size_t len, bool rel_ack, uint8_t *vh)
{
	uint8_t *h = f + ETH_HDR_LEN, *l4;
	size_t ihl, tot, l4len;
	uint64_t ph;

	if (len >= ETH_HDR_LEN && rd16(f + 12) == ETHERTYPE_IPV6) {
		fix_sums6(f, len, rel_ack);
		return;
	}
	if (len < ETH_HDR_LEN + IP4_HDR_MIN || rd16(f + 12) != ETHERTYPE_IPV4)
		return;
	ihl = (size_t)(h[0] & 0xf) * 4;
	if (ihl < IP4_HDR_MIN || ETH_HDR_LEN + ihl > len)
		return;
	tot = rd16(h + 2);
	if (tot < ihl || ETH_HDR_LEN + tot > len) {
		tot = len - ETH_HDR_LEN > 65535 ? 65535 : len - ETH_HDR_LEN;
		wr16(h + 2, (uint16_t)tot);
	}
	wr16(h + 10, 0);
	wr16(h + 10, csum_fold(csum_partial(h, ihl, 0)));
	if (rd16(h + 6) & (IP4_FLAG_MF | IP4_FRAG_OFF_MASK))
		return;
	l4 = h + ihl;
	l4len = tot - ihl;
	ph = csum_pseudo4(rd32(h + 12), rd32(h + 16), h[9], (uint16_t)l4len);
	switch (h[9]) {
	case PROTO_ICMP:
		if (l4len >= 4) {
			wr16(l4 + 2, 0);
			wr16(l4 + 2, csum_fold(csum_partial(l4, l4len, 0)));
		}
		break;
	case PROTO_TCP:
		if (l4len >= TCP_HDR_MIN) {
			if (rel_ack)
				wr32(l4 + 8, rd32(l4 + 8) + fz.iss[rd16(l4) % FZ_ISS_SLOTS]);
			wr16(l4 + 16, 0);
			wr16(l4 + 16, csum_fold(csum_partial(l4, l4len, ph)));
			fix_partial(vh, l4, 16, ETH_HDR_LEN + ihl, ph);
		}
		break;
	case PROTO_UDP:
		if (l4len >= UDP_HDR_LEN) {
			wr16(l4 + 4, (uint16_t)l4len);
			wr16(l4 + 6, 0);
			wr16(l4 + 6, csum_fold(csum_partial(l4, l4len, ph)));
			fix_partial(vh, l4, 6, ETH_HDR_LEN + ihl, ph);
		}
		break;
	}
}

/** fz_event() - apply upstream event @ev (with argument @arg) to one of the tracked flows */
static void fz_event(struct stack *s, unsigned int ev, unsigned int arg, uint64_t now)
{
	static uint8_t dgram[65507];
	struct fz_flow *x = fz.nfl ? &fz.fl[arg % fz.nfl] : NULL;
	struct flow *f = x ? x->f : NULL;

	switch (ev) {
	case EV_CONNECTED:
	case EV_REFUSED:
	case EV_UNREACHABLE:
		/* the shell reports each connect() once; a failure releases the flow, so look
		 * for a waiting one afresh each time */
		for (unsigned int i = 0; i < fz.nfl; i++) {
			if (!fz.fl[i].pending)
				continue;
			fz.fl[i].pending = false;
			f = fz.fl[i].f;
			if (ev == EV_CONNECTED) {
				fz.fl[i].connected = true;
				tcp_upstream_connected(s, f, now);
			} else {
				tcp_upstream_failed(s, f, ev == EV_REFUSED ? ECONNREFUSED : EHOSTUNREACH,
						    now);
			}
			return;
		}
		return;
	case EV_READABLE:
	case EV_READABLE_BIG:
		if (!f || f->proto != PROTO_TCP || !x->connected || x->eof)
			return;
		x->avail += ev == EV_READABLE_BIG ? (1u << 20) : 1024u + (arg & 0xff) * 256u;
		tcp_upstream_readable(s, f, now);
		return;
	case EV_WRITABLE:
		if (f && f->proto == PROTO_TCP && x->connected)
			tcp_upstream_writable(s, f, now);
		return;
	case EV_EOF:
		if (f && f->proto == PROTO_TCP && x->connected && !x->eof) {
			x->eof = true;
			tcp_upstream_eof(s, f, now);
		}
		return;
	case EV_RESET:
		if (f && f->proto == PROTO_TCP && x->connected)
			tcp_upstream_reset(s, f, now);
		return;
	case EV_ABORT:
		if (!f)
			return;
		if (f->proto == PROTO_TCP)
			tcp_abort(s, f, FLOW_END_EVICTED, now);
		else
			udp_abort(s, f, FLOW_END_TIMEOUT, now);
		return;
	case EV_UDP_REPLY:
		if (f && f->proto == PROTO_UDP) {
			size_t n = (size_t)arg * 97 % sizeof(dgram);

			memset(dgram, (int)arg, n);
			udp_upstream_datagram(s, f, dgram, n, now);
		}
		return;
	case EV_UDP_ERROR:
		if (f && f->proto == PROTO_UDP)
			udp_upstream_error(s, f, arg & 1 ? ICMP_DEST_UNREACH : ICMP_TIME_EXCEEDED,
					   (uint8_t)(arg >> 1 & 0xf), now);
		return;
	case EV_CONNECT: {
		struct flow *nf = tcp_connect(s, STACK_DEFAULT_ADDR, (uint16_t)(8000 + arg % 8),
					      STACK_DEFAULT_GATEWAY, (uint16_t)(40000 + arg % 8), now);
		struct fz_flow *nx = nf ? fz_find(nf) : NULL;

		if (nx)
			nx->connected = true; /* a port forward's host socket is already up */
		return;
	}
	case EV_ROOM:
		if (arg & 8)
			fz.gone = !fz.gone;
		else
			fz.room = fz.room ? 0 : 1u << 20;
		return;
	case EV_REFUSE_OPEN:
		fz.refuse_open = !fz.refuse_open;
		return;
	case EV_UDP_FAIL:
		fz.udp_fail = !fz.udp_fail;
		return;
	default:
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000000;
	struct stack_cfg cfg;
	unsigned int nrec = 0;
	struct stack *s;
	size_t pos = 1;
	bool fix, rel_ack;

	if (size < 1)
		return 0;
	fz_trace = getenv("FUZZ_TRACE") != NULL;
	fix = data[0] & 1;
	rel_ack = data[0] & 4;
	memset(&fz, 0, sizeof(fz));
	fz.room = 1u << 20;
	stack_cfg_defaults(&cfg);
	/* The default table (65536 flows) costs ~100 ms per input to set up and tear down under
	 * ASan; a small one runs thousands of inputs a second and reaches the limits too. */
	cfg.max_flows = FZ_MAX_FLOWS;
	cfg.max_udp_flows = FZ_MAX_FLOWS / 2;
	cfg.max_half_open = FZ_MAX_FLOWS / 4;
	if (data[0] & 2)
		cfg.mtu = 1500;
	fz.mtu = cfg.mtu;
	fz.vnet = data[0] & 8;
	cfg.tso = fz.vnet;
	s = stack_new(&cfg, &fz_ops, NULL);
	fz.s = s;
	if (!s)
		abort();

	while (pos + 4 <= size) {
		size_t len = rd16(data + pos);
		unsigned int ctl = rd16(data + pos + 2);
		uint8_t *frame;

		pos += 4;
		if (len > size - pos)
			len = size - pos;
		now += (uint64_t)(ctl & 0xfff) * 1000;
		stack_tick(s, now);
		/* exactly @len bytes on the heap: ASan reports any read past the frame */
		frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, data + pos, len);
		if (!fz.vnet) {
			if (fix)
				fix_sums(frame, len, rel_ack, NULL);
			stack_input(s, frame, len, now);
		} else {
			if (fix && len >= VNET_HDR_LEN)
				fix_sums(frame + VNET_HDR_LEN, len - VNET_HDR_LEN, rel_ack, frame);
			stack_input_vnet(s, frame, len, now);
		}
		free(frame);
		pos += len;
		fz_event(s, ctl >> 12, nrec++ ^ (unsigned int)len, now);
	}

	/* let every timer run out: retransmissions give up, TIME_WAIT ends */
	for (int i = 0; i < 16; i++) {
		uint64_t d = stack_next_deadline(s);

		if (d == UINT64_MAX)
			break;
		now = d > now ? d : now + 1;
		stack_tick(s, now);
	}
	stack_free(s);
	return 0;
}
