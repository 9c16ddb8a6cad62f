/* wire.h - on-the-wire constants and bounds-safe big-endian loads and stores.
 *
 * Every header is read through these helpers from a buffer whose length the caller has
 * already checked; no struct is ever overlaid on frame bytes (no alignment or padding traps).
 * Must not: do I/O, allocate, or know about flows.
 */
#ifndef TAPIR_WIRE_H
#define TAPIR_WIRE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

#define ARP_LEN 28 /* Ethernet/IPv4 ARP body */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define IP4_HDR_MIN 20
#define IP4_HDR_MAX 60
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_FRAG_OFF_MASK 0x1fff

#define IP6_HDR_LEN 40
#define IP6_MIN_MTU 1280 /* RFC 8200 5: every link carries 1280-byte packets */

/* RFC 8200 4, IANA protocol numbers used as IPv6 next headers */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_ICMP6 58
#define IP6_NH_NONE 59
#define IP6_NH_DSTOPTS 60
#define IP6_FRAG_HDR_LEN 8
#define IP6_FRAG_OFF_MASK 0xfff8
#define IP6_FRAG_MF 0x0001

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_ADMIN 13
#define ICMP_EXC_TTL 0 /* time exceeded: time to live exceeded in transit (RFC 792) */

/* ICMPv6 (RFC 4443, RFC 4861) */
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_RS 133
#define ICMP6_RA 134
#define ICMP6_NS 135
#define ICMP6_NA 136
#define ICMP6_REDIRECT 137
#define ICMP6_EXC_HOPLIMIT 0 /* time exceeded: hop limit exceeded in transit (RFC 4443 3.3) */
#define ICMP6_UNREACH_NOROUTE 0
#define ICMP6_UNREACH_ADMIN 1
#define ICMP6_UNREACH_ADDR 3
#define ICMP6_UNREACH_PORT 4
#define ICMP6_PARAM_HEADER 0   /* erroneous header field */
#define ICMP6_PARAM_NEXTHDR 1  /* unrecognized next header */
#define ICMP6_PARAM_OPTION 2   /* unrecognized IPv6 option */
#define ICMP6_PARAM_FIRSTFRAG 3 /* RFC 7112: the first fragment lacks the header chain */

#define UDP_HDR_LEN 8
#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

/* The virtio-net header (virtio 1.x, 5.1.6: struct virtio_net_hdr_v1) in front of every frame
 * of a TAP opened with IFF_VNET_HDR: flags, gso_type, then five little-endian 16-bit fields
 * (tap.c makes the TAP little-endian whatever the host). */
#define VNET_HDR_LEN 12
#define VNET_OFF_FLAGS 0
#define VNET_OFF_GSO_TYPE 1
#define VNET_OFF_HDR_LEN 2
#define VNET_OFF_GSO_SIZE 4
#define VNET_OFF_CSUM_START 6
#define VNET_OFF_CSUM_OFFSET 8
#define VNET_OFF_NUM_BUFFERS 10
#define VNET_F_NEEDS_CSUM 1 /* checksum partial: the sum from csum_start goes at +csum_offset */
#define VNET_F_DATA_VALID 2 /* the sender's kernel validated the checksum */
#define VNET_F_RSC_INFO 4
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80 /* the TCP super-frame has CWR set: only its first segment may */

/* Largest frame the stack will build or accept: IPv4 total length is 16 bits. */
#define FRAME_MAX (ETH_HDR_LEN + 65535)

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t rd16le(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[1] << 8 | p[0]);
}

static inline void wr16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
