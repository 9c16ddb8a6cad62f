/* frames.h - the one place where tests build frames for the stack and take its output apart.
 *
 * Builders write a complete Ethernet frame (valid checksums unless asked otherwise) into a
 * caller's buffer and return its length. Parsers check what the stack sent and fail the test
 * (cmocka) on anything malformed, so every test gets output validation for free.
 */
#ifndef TAPIR_TEST_FRAMES_H
#define TAPIR_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"

#define T_CMAC ((const uint8_t[6]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }) /* container */
#define T_CADDR 0x0a000264u /* 10.0.2.100 */
#define T_GW 0x0a000202u    /* 10.0.2.2 */
#define T_DNS 0x0a000203u   /* 10.0.2.3 */
#define T_PEER 0x5db8d822u  /* 93.184.216.34: only ever a field in a frame, never contacted */

/* --- building --------------------------------------------------------------------------- */

/** fr_eth() - Ethernet header at @buf; returns 14 */
size_t fr_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

/** fr_arp() - ARP request/reply from the container (full frame) */
size_t fr_arp(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
	      uint32_t tpa);

/**
 * struct fr_ip - IPv4 header fields for a test packet (zero = sensible default)
 */
struct fr_ip {
	uint32_t saddr, daddr;
	uint8_t proto;
	uint8_t ttl;         /* 0 → 64 */
	uint16_t id;
	uint16_t frag;       /* flags + offset as on the wire */
	bool bad_checksum;   /* corrupt the header checksum */
	uint8_t opt_len;     /* bytes of IP options (NOPs), multiple of 4 */
	bool src_zero;       /* from 0.0.0.0 (a DHCP client without an address), not @saddr */
};

/** fr_ip4() - Ethernet (to @dst_mac) + IPv4 + @payload; returns frame length */
size_t fr_ip4(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_ip *ip, const uint8_t *payload,
	      size_t len);

/** fr_icmp_echo() - ICMP echo request from the container to @daddr */
size_t fr_icmp_echo(uint8_t *buf, const uint8_t dst_mac[6], uint32_t daddr, uint16_t ident,
		    uint16_t seq, const uint8_t *data, size_t len, bool bad_checksum);

/**
 * struct fr_tcp - a TCP segment from the container (zero = default)
 * Options are written in this order when set: MSS, WS, SACK_PERM, TS, SACK blocks.
 */
struct fr_tcp {
	uint32_t saddr, daddr; /* 0 → T_CADDR, T_PEER */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;          /* raw 16-bit field */
	uint16_t mss;          /* 0 = no option */
	int8_t wscale;         /* -1 or 0..14 when has_wscale */
	bool has_wscale;
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;         /* SACK blocks */
	uint32_t sack[4][2];
	bool bad_checksum;
	const uint8_t *raw_opts; /* if set, used verbatim instead of the above (padded to 4) */
	uint8_t raw_opts_len;
	int8_t doff_override;  /* nonzero: data offset (words) written instead of the true one */
};

/** fr_tcp() - Ethernet + IPv4 + TCP + @payload from the container; returns frame length */
size_t fr_tcp(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_tcp *t, const uint8_t *payload,
	      size_t len);

/** fr_udp() - Ethernet + IPv4 + UDP from the container; @csum_zero sends checksum 0 */
size_t fr_udp(uint8_t *buf, const uint8_t dst_mac[6], uint32_t saddr, uint32_t daddr, uint16_t sport,
	      uint16_t dport, const uint8_t *payload, size_t len, bool bad_checksum, bool csum_zero);

/** fr_udp_ip() - Ethernet + IPv4 (@ip as given) + UDP; checksum over @ip's addresses */
size_t fr_udp_ip(uint8_t *buf, const uint8_t dst_mac[6], const struct fr_ip *ip, uint16_t sport,
		 uint16_t dport, const uint8_t *payload, size_t len, bool bad_checksum);

/**
 * fr_bootp() - a BOOTP/DHCP message from a client (RFC 2131 2): op BOOTREQUEST, htype 1,
 * hlen 6, @xid, @flags, @ciaddr, @chaddr, the magic cookie, then @opts verbatim
 * Return: its length (236 + 4 + @opts_len)
 */
size_t fr_bootp(uint8_t *buf, uint32_t xid, uint16_t flags, uint32_t ciaddr,
		const uint8_t chaddr[6], const uint8_t *opts, size_t opts_len);

/* --- capturing the stack's output --------------------------------------------------------- */

#define CAP_MAX 256

/** struct capture - frames the stack sent, in order */
struct capture {
	size_t n;
	size_t len[CAP_MAX];
	uint8_t *frame[CAP_MAX];
	size_t lost; /* frames beyond CAP_MAX */
};

/** cap_frame() - append one frame to @c */
void cap_frame(struct capture *c, const uint8_t *frame, size_t len);
/** cap_tx() - a stack_ops.tx that appends the batch's frames to the struct capture given as
 * ctx (frames with a payload still to fill from upstream fail the test) */
void cap_tx(void *ctx, struct stack_txq *q);
/** cap_reset() - forget captured frames */
void cap_reset(struct capture *c);

/* --- taking output apart ------------------------------------------------------------------- */

/**
 * struct parsed - an IPv4 frame the stack sent, fully validated (checksums included)
 */
struct parsed {
	uint8_t dst[6], src[6];
	uint16_t ethertype;
	uint32_t saddr, daddr;
	uint8_t proto, ttl;
	uint16_t ip_len, frag;
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;          /* 0 = absent */
	int8_t wscale;         /* -1 = absent */
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[4][2];
	const uint8_t *payload;
	size_t payload_len;
	/* ICMP */
	uint8_t icmp_type, icmp_code;
	const uint8_t *icmp_body; /* after the 8-byte ICMP header */
	size_t icmp_body_len;
};

/**
 * fr_parse() - validate and decode an IPv4 frame sent by the stack (TCP, UDP or ICMP);
 * fails the current test on any malformation or bad checksum
 */
void fr_parse(const uint8_t *frame, size_t len, struct parsed *p);

/** fr_cksum_l4_ok() - whether the L4 checksum of the IPv4 frame verifies */
bool fr_cksum_l4_ok(const uint8_t *frame, size_t len);

/* --- counters ------------------------------------------------------------------------------ */

/** cnt_get() - the counter called @name (as spelled in counters.h); fails the test if none */
uint64_t cnt_get(const struct stack_counters *c, const char *name);

/** cnt_drops() - the sum of every drop_* counter */
uint64_t cnt_drops(const struct stack_counters *c);

/**
 * cnt_expect_drop() - assert that between @before and @after the drop_* counter @drop went up
 * by exactly one and no other drop_* counter changed (@drop NULL: no drop_* counter changed)
 */
void cnt_expect_drop(const struct stack_counters *before, const struct stack_counters *after,
		     const char *drop);

/* --- a stack under test -------------------------------------------------------------------- */

/**
 * struct tstack - a stack with the default configuration whose output is captured
 * @s:		the stack (TCP and UDP hooks NULL: tests of the lower layers must never reach them)
 * @cap:	frames it sent since the last tstack_feed()
 * @before:	counters as they were before the last tstack_feed()
 * @now_us:	the time tstack_feed() passes to stack_input()
 */
struct tstack {
	struct stack *s;
	struct capture cap;
	struct stack_counters before;
	uint64_t now_us;
};

/** tstack_setup() - cmocka setup: *state becomes a new struct tstack */
int tstack_setup(void **state);
/** tstack_teardown() - cmocka teardown for tstack_setup() */
int tstack_teardown(void **state);

/** tstack_feed() - forget captured frames, snapshot the counters, feed one frame at now_us */
void tstack_feed(struct tstack *t, const uint8_t *frame, size_t len);

/** tstack_expect_drop() - cnt_expect_drop() across the last tstack_feed() */
void tstack_expect_drop(const struct tstack *t, const char *drop);

#endif
