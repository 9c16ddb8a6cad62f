#!/usr/bin/python3
"""seeds.py DIR - write a few valid conversations for fuzz_stack (see fuzz_stack.c for the
input format) into DIR, so that the fuzzer starts past ARP and into ICMP, TCP, UDP, IPv4
reassembly and full-MTU segments. They grew tests/fuzz/corpus/stack/ (run.sh's header says
how to refresh it); run.sh itself starts from that committed corpus.
Checksums are left zero: every seed sets flag bit 0 (fix checksums), and the TCP ones bit 2
(acknowledgment numbers relative to the stack's ISN). The *_offload seeds set bit 3: each
frame starts with its virtio-net header (super-frames and partial checksums)."""
import os
import struct
import sys

OUR = bytes([0x02, 0x74, 0x61, 0x70, 0x69, 0x72])
CMAC = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
BCAST = b"\xff" * 6
C, GW, DNS, PEER = (10, 0, 2, 100), (10, 0, 2, 2), (10, 0, 2, 3), (93, 184, 216, 34)
EV = {"none": 0, "connected": 1, "readable": 2, "writable": 3, "eof": 4, "reset": 5,
      "refused": 6, "unreachable": 7, "abort": 8, "udp_reply": 9, "udp_error": 10,
      "connect": 11, "room": 12, "refuse_open": 13, "udp_fail": 14, "readable_big": 15}
NEEDS_CSUM, DATA_VALID, GSO_TCPV4 = 1, 2, 1


def eth(dst, typ):
    return dst + CMAC + struct.pack(">H", typ)


def arp(tpa):
    return eth(BCAST, 0x0806) + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + CMAC + \
        bytes(C) + b"\0" * 6 + bytes(tpa)


def ip(dst, proto, l4):
    return eth(OUR, 0x0800) + struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(l4), 1, 0x4000, 64,
                                          proto, 0) + bytes(C) + bytes(dst) + l4


def ip_frags(dst, proto, l4, size):
    """l4 in IPv4 fragments carrying @size bytes each (a multiple of 8, the last shorter)"""
    out = []
    for off in range(0, len(l4), size):
        part = l4[off:off + size]
        mf = 0x2000 if off + size < len(l4) else 0
        out.append(eth(OUR, 0x0800) + struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(part), 7,
                                                   mf | off // 8, 64, proto, 0) +
                   bytes(C) + bytes(dst) + part)
    return out


def udp_frags(dst, sport, dport, data, size):
    """a UDP datagram (checksum 0: none, RFC 768) from the container, in fragments"""
    return ip_frags(dst, 17, struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data, size)


def icmp_echo(dst, data):
    return ip(dst, 1, struct.pack(">BBHHH", 8, 0, 0, 0x1234, 1) + data)


def tcp(dst, sport, dport, seq, ack, flags, opts=b"", data=b""):
    opts += b"\0" * (-len(opts) % 4)
    hdr = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) // 4 << 4, flags,
                      65535, 0, 0)
    return ip(dst, 6, hdr + opts + data)


def udp(dst, sport, dport, data):
    return ip(dst, 17, struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data)


def rec(frame, ms=0, ev="none"):
    return struct.pack(">HH", len(frame), EV[ev] << 12 | ms) + frame


def vnet(frame, flags=0, gso_type=0, gso_size=0, csum_start=0, csum_offset=0):
    """frame with a virtio-net header in front (little-endian fields, num_buffers 0)"""
    return struct.pack("<BBHHHHH", flags, gso_type, 0, gso_size, csum_start, csum_offset, 0) + \
        frame


SYN_OPTS = b"\x02\x04\x05\xb4" + b"\x01\x03\x03\x07" + b"\x01\x01\x04\x02" + \
    b"\x01\x01\x08\x0a" + struct.pack(">II", 1, 0)
DNSQ = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")

SEEDS = {
    "arp": b"\x01" + rec(arp(GW)) + rec(arp(DNS)),
    "ping": b"\x01" + rec(arp(GW)) + rec(icmp_echo(GW, bytes(range(56)))) +
            rec(icmp_echo(PEER, b"x" * 8), 1000),
    "tcp": b"\x05" + rec(arp(GW)) +
           rec(tcp(GW, 40000, 80, 1000, 0, 0x02, SYN_OPTS), 0, "connected") +
           rec(tcp(GW, 40000, 80, 1001, 1, 0x10), 1) +
           rec(tcp(GW, 40000, 80, 1001, 1, 0x18, data=b"GET / HTTP/1.0\r\n\r\n"), 1, "readable") +
           rec(tcp(GW, 40000, 80, 1019, 1, 0x11), 200, "eof") +
           rec(tcp(GW, 40000, 80, 1020, 2, 0x10), 1),
    "tcp_small_mtu": b"\x07" + rec(arp(GW)) +
           rec(tcp(PEER, 40001, 443, 5, 0, 0x02, SYN_OPTS), 0, "connected") +
           rec(tcp(PEER, 40001, 443, 6, 1, 0x10), 1, "readable") +
           rec(tcp(PEER, 40001, 443, 6, 1, 0x10), 300) +
           rec(tcp(PEER, 40001, 443, 6, 1, 0x04), 1),
    "tcp_refused": b"\x01" + rec(arp(GW)) +
           rec(tcp(PEER, 40002, 22, 9, 0, 0x02, SYN_OPTS), 0, "refused"),
    "udp": b"\x01" + rec(arp(GW)) + rec(udp(DNS, 5353, 53, DNSQ), 0, "udp_reply") +
           rec(udp(PEER, 40003, 123, b"\x23" + b"\0" * 47), 0, "udp_error"),
    "udp_small_mtu": b"\x03" + rec(arp(GW)) + rec(udp(PEER, 40004, 9999, b"hi"), 0, "udp_reply"),
    # reassembly: 3000 and 9000 bytes in 1480-byte fragments, one set out of order; a
    # full-MTU (65520) TCP segment: inputs far past a few hundred bytes (run.sh -max_len=65536)
    "udp_frag": b"\x01" + rec(arp(GW)) +
           b"".join(rec(f) for f in udp_frags(PEER, 40005, 7777, bytes(range(256)) * 12, 1480)),
    "udp_frag_reverse": b"\x03" + rec(arp(GW)) +
           b"".join(rec(f) for f in reversed(udp_frags(PEER, 40006, 7777, b"z" * 9000, 1480))),
    "tcp_full_mtu": b"\x05" + rec(arp(GW)) +
           rec(tcp(GW, 40007, 80, 1000, 0, 0x02, SYN_OPTS), 0, "connected") +
           rec(tcp(GW, 40007, 80, 1001, 1, 0x10), 1) +
           rec(tcp(GW, 40007, 80, 1001, 1, 0x18, data=b"d" * 65440), 1, "readable_big"),
    "port_forward": b"\x05" + rec(arp(GW)) + rec(b"", 0, "connect") +
           rec(tcp(GW, 8001, 40001, 77, 1, 0x12, SYN_OPTS), 1, "readable"),
    # offloads on, MTU 1500: a 6000-byte super-frame in, super-frames out
    "tcp_offload": b"\x0f" + rec(vnet(arp(GW))) +
           rec(vnet(tcp(GW, 40005, 80, 1000, 0, 0x02, SYN_OPTS)), 0, "connected") +
           rec(vnet(tcp(GW, 40005, 80, 1001, 1, 0x10)), 1) +
           rec(vnet(tcp(GW, 40005, 80, 1001, 1, 0x18, data=bytes(6000)), NEEDS_CSUM,
                    GSO_TCPV4, 1448, 34, 16), 1, "readable_big") +
           rec(vnet(tcp(GW, 40005, 80, 7001, 60000, 0x10)), 1) +
           rec(vnet(tcp(GW, 40005, 80, 7001, 60000, 0x11), DATA_VALID), 200, "eof"),
    "udp_offload": b"\x09" + rec(vnet(arp(GW))) +
           rec(vnet(udp(DNS, 5353, 53, DNSQ), NEEDS_CSUM, 0, 0, 34, 6), 0, "udp_reply") +
           rec(vnet(icmp_echo(GW, bytes(range(56))), DATA_VALID)),
}

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)
