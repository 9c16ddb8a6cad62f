#!/usr/bin/python3
"""fwd_rawpeer.py - the container side of a TCP port forward, in raw frames.

tapird runs with --no-configure and a forward HOSTPORT -> 10.0.2.100:GPORT. We play the
container with an AF_PACKET socket on tap0 (opened inside the namespace through setns(2);
the process itself stays in the host's namespace, where it also plays the host clients on
127.0.0.1:HOSTPORT). Every check prints "ok - ..." or "not ok - ...":
SYN_SENT seen in `tapirctl --json conns` with the client's address (as the gateway) and port,
the handshake to ESTABLISHED and data both ways, simultaneous open (SYN_SENT -> SYN_RCVD ->
ESTABLISHED), the container refusing (RST in SYN_SENT: the client is reset), a SYN-ACK with a
bad ACK (RST with seq = SEG.ACK, RFC 9293 3.10.7.3), SYN retransmission when the container is
silent, a client that resets before the container answers (flow gone), SYN-ACKs for
connections that do not exist (RST or silence, never a crash).

    fwd_rawpeer.py NETNS CONTROL_SOCKET TAPIRCTL HOSTPORT GPORT
Environment: SLACK (multiplies waits). Traffic: 127.0.0.1 and tap0 of NETNS only.
"""
import ctypes
import errno
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

NETNS, CTL, TAPIRCTL = sys.argv[1], sys.argv[2], sys.argv[3]
HPORT, GPORT = int(sys.argv[4]), int(sys.argv[5])
SLACK = float(os.environ.get("SLACK", "1"))

ETH_P_ALL = 3
MY_MAC = bytes.fromhex("020000000a64")
MY_IP = socket.inet_aton("10.0.2.100")
GW_IP = socket.inet_aton("10.0.2.2")
SYN, RST, ACK, FIN, PSH = 0x02, 0x04, 0x10, 0x01, 0x08

FAILED = [0]


def ok(cond, what, detail=""):
    if cond:
        print("ok - " + what, flush=True)
    else:
        FAILED[0] += 1
        print("not ok - " + what + (": " + str(detail) if detail else ""), flush=True)
    return cond


def open_tap_socket():
    """AF_PACKET socket bound to tap0 of NETNS; the process returns to its own namespace"""
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet = 0x40000000
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + NETNS, os.O_RDONLY)
    if libc.setns(there, clone_newnet) != 0:
        raise OSError(ctypes.get_errno(), "setns into " + NETNS)
    try:
        sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sk.bind(("tap0", ETH_P_ALL))
    finally:
        if libc.setns(home, clone_newnet) != 0:
            raise OSError(ctypes.get_errno(), "setns back home")
        os.close(home)
        os.close(there)
    return sk


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Seg:
    """a TCP segment tapird sent to the container"""

    def __init__(self, frame):
        ip = frame[14:]
        ihl = (ip[0] & 0xF) * 4
        self.src = ip[12:16]
        self.dst = ip[16:20]
        t = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
        (self.sport, self.dport, self.seq, self.ack, off, self.flags,
         self.wnd) = struct.unpack("!HHIIBBH", t[:16])
        self.data = t[(off >> 4) * 4:]
        self.mss = None
        o = t[20:(off >> 4) * 4]
        i = 0
        while i < len(o):
            if o[i] == 0:
                break
            if o[i] == 1:
                i += 1
                continue
            if i + 1 >= len(o) or o[i + 1] < 2:
                break
            if o[i] == 2 and o[i + 1] == 4:
                self.mss = struct.unpack("!H", o[i + 2:i + 4])[0]
            i += o[i + 1]


class Wire:
    def __init__(self):
        self.sk = open_tap_socket()
        self.gw_mac = None
        self.ip_id = 1

    def send(self, frame):
        self.sk.send(frame)

    def arp_gateway(self):
        """who-has 10.0.2.2 from the container: tapird learns our MAC, we learn its"""
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MY_MAC, MY_IP, b"\0" * 6, GW_IP)
        self.send(b"\xff" * 6 + MY_MAC + b"\x08\x06" + arp)
        end = time.monotonic() + 2 * SLACK
        while time.monotonic() < end:
            r, _, _ = select.select([self.sk], [], [], 0.1)
            if not r:
                continue
            f = self.sk.recv(65535)
            if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02" \
                    and f[28:32] == GW_IP:
                self.gw_mac = f[22:28]
                return True
        return False

    def tcp(self, src_port, dst_ip, dport, seq, ack, flags, data=b"", mss=1460):
        opts = struct.pack("!BBH", 2, 4, mss) if flags & SYN else b""
        tcp = struct.pack("!HHIIBBHHH", src_port, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0) + opts + data
        c = csum(MY_IP + dst_ip + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ip_id, 0x4000, 64, 6, 0,
                         MY_IP, dst_ip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.send(self.gw_mac + MY_MAC + b"\x08\x00" + ip + tcp)

    def expect(self, pred, timeout=1.5):
        """the next TCP segment to 10.0.2.100 for which pred(seg) holds, or None"""
        end = time.monotonic() + timeout * SLACK
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sk], [], [], left)
            if not r:
                return None
            f = self.sk.recv(65535)
            if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6 or f[30:34] != MY_IP:
                continue
            s = Seg(f)
            if pred(s):
                return s

    def drain(self):
        while select.select([self.sk], [], [], 0)[0]:
            self.sk.recv(65535)


def ctl_conns():
    try:
        out = subprocess.run([TAPIRCTL, "-s", CTL, "--json", "-t", "5", "conns"],
                             capture_output=True, timeout=10 * SLACK).stdout
        return json.loads(out).get("flows", [])
    except Exception as e:  # noqa: BLE001 - a failed check later
        print("# tapirctl conns: %s" % e, flush=True)
        return []


def flow_for(cport):
    for f in ctl_conns():
        if f.get("proto") == "tcp" and f.get("peer") == "10.0.2.2:%d" % cport and \
                f.get("container") == "10.0.2.100:%d" % GPORT:
            return f
    return None


def wait_flow_state(cport, want, timeout=1.5):
    end = time.monotonic() + timeout * SLACK
    while True:
        f = flow_for(cport)
        st = f.get("state") if f else None
        if st == want or time.monotonic() > end:
            return f
        time.sleep(0.03)


def client():
    """a host client connecting to the forward; returns (socket, its port)"""
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", HPORT))
    except BlockingIOError:
        pass
    # the kernel completes the host handshake at once: the listener queues it for tapird
    select.select([], [c], [], 2 * SLACK)
    return c, c.getsockname()[1]


def syn_for(w, cport):
    return w.expect(lambda s: s.flags & SYN and s.sport == cport and s.dport == GPORT)


def client_reset(c, timeout=2.0):
    """True if the client's socket sees a reset (ECONNRESET) or EOF within @timeout"""
    c.setblocking(True)
    c.settimeout(timeout * SLACK)
    try:
        d = c.recv(100)
        return d == b""
    except ConnectionResetError:
        return True
    except OSError as e:
        return e.errno in (errno.ECONNRESET, errno.EPIPE)


def t_active_open(w):
    c, cport = client()
    syn = syn_for(w, cport)
    if not ok(syn is not None, "our SYN on tap0 for a host client of the forward"):
        return
    ok(syn.flags == SYN and syn.src == GW_IP and syn.mss is not None,
       "the SYN comes from the gateway address (loopback client) and the client's port %d"
       " with an MSS option" % cport, "flags %#x mss %s" % (syn.flags, syn.mss))
    f = wait_flow_state(cport, "SYN_SENT")
    ok(f is not None and f.get("state") == "SYN_SENT" and f.get("origin") == "host" and
       f.get("upstream") == "127.0.0.1:%d" % cport,
       "conns: SYN_SENT, origin host, upstream the client's own 127.0.0.1:%d" % cport, f)
    # a SYN-ACK with an unacceptable ACK: RST <SEQ=SEG.ACK> and the state stays (3.10.7.3)
    bad = syn.seq + 1000
    w.tcp(GPORT, GW_IP, cport, 777, bad, SYN | ACK)
    r = w.expect(lambda s: s.flags & RST and s.sport == cport)
    ok(r is not None and r.seq == bad and not r.flags & ACK,
       "SYN-ACK with a bad ACK in SYN_SENT: RST with seq = SEG.ACK",
       r and "seq %d flags %#x" % (r.seq, r.flags))
    f = flow_for(cport)
    ok(f is not None and f.get("state") == "SYN_SENT", "still SYN_SENT after the bad ACK", f)
    # the real SYN-ACK
    iss = 5000
    w.tcp(GPORT, GW_IP, cport, iss, syn.seq + 1, SYN | ACK)
    a = w.expect(lambda s: s.sport == cport and s.flags & ACK and s.ack == iss + 1)
    ok(a is not None and not a.flags & SYN, "SYN-ACK answered by an ACK")
    f = wait_flow_state(cport, "ESTABLISHED")
    ok(f is not None and f.get("state") == "ESTABLISHED",
       "conns: SYN_SENT -> ESTABLISHED", f)
    # data both ways
    c.setblocking(True)
    c.settimeout(2 * SLACK)
    c.sendall(b"ping")
    d = w.expect(lambda s: s.sport == cport and len(s.data) > 0)
    ok(d is not None and d.data == b"ping" and d.seq == syn.seq + 1,
       "the client's bytes reach the container after ESTABLISHED", d and d.data)
    w.tcp(GPORT, GW_IP, cport, iss + 1, syn.seq + 5, ACK | PSH, b"pong")
    try:
        got = c.recv(100)
    except OSError as e:
        got = e
    ok(got == b"pong", "the container's bytes reach the client", got)
    w.tcp(GPORT, GW_IP, cport, iss + 5, syn.seq + 5, RST | ACK)
    ok(client_reset(c), "the container's RST resets the client")
    ok(wait_flow_state(cport, None) is None, "the flow is gone after the RST")
    c.close()


def t_early_data(w):
    """bytes the client sends before the container answers wait for ESTABLISHED"""
    c, cport = client()
    syn = syn_for(w, cport)
    if not ok(syn is not None, "SYN for a client that sends at once"):
        return
    c.setblocking(True)
    c.sendall(b"early")
    d = w.expect(lambda s: s.sport == cport and len(s.data) > 0, timeout=0.4)
    ok(d is None, "nothing of the client's data goes out in SYN_SENT", d and d.data)
    w.tcp(GPORT, GW_IP, cport, 9000, syn.seq + 1, SYN | ACK)
    d = w.expect(lambda s: s.sport == cport and len(s.data) > 0)
    ok(d is not None and d.data == b"early", "queued data follows the handshake",
       d and d.data)
    w.tcp(GPORT, GW_IP, cport, 9001, syn.seq + 6, RST | ACK)
    client_reset(c)
    c.close()


def t_simultaneous_open(w):
    c, cport = client()
    syn = syn_for(w, cport)
    if not ok(syn is not None, "SYN for the simultaneous open"):
        return
    ok(wait_flow_state(cport, "SYN_SENT") is not None, "simultaneous open starts in SYN_SENT")
    iss = 70000
    w.tcp(GPORT, GW_IP, cport, iss, 0, SYN)  # our SYN crosses tapird's
    sa = w.expect(lambda s: s.sport == cport and s.flags & SYN)
    ok(sa is not None and sa.flags & ACK and sa.seq == syn.seq and sa.ack == iss + 1,
       "a crossing SYN is answered by SYN-ACK <SEQ=ISS><ACK=RCV.NXT> (3.10.7.3)",
       sa and "flags %#x seq %d ack %d" % (sa.flags, sa.seq, sa.ack))
    f = wait_flow_state(cport, "SYN_RCVD")
    ok(f is not None and f.get("state") == "SYN_RCVD", "conns: SYN_SENT -> SYN_RCVD", f)
    w.tcp(GPORT, GW_IP, cport, iss + 1, syn.seq + 1, ACK)
    f = wait_flow_state(cport, "ESTABLISHED")
    ok(f is not None and f.get("state") == "ESTABLISHED",
       "conns: SYN_RCVD -> ESTABLISHED on the ACK", f)
    hist = [h.get("state") for h in (f or {}).get("history", [])] if f else []
    if hist:
        ok(hist[-3:] == ["SYN_SENT", "SYN_RCVD", "ESTABLISHED"],
           "history SYN_SENT, SYN_RCVD, ESTABLISHED", hist)
    c.setblocking(True)
    c.settimeout(2 * SLACK)
    w.tcp(GPORT, GW_IP, cport, iss + 1, syn.seq + 1, ACK | PSH, b"hello")
    try:
        got = c.recv(100)
    except OSError as e:
        got = e
    ok(got == b"hello", "data after a simultaneous open reaches the client", got)
    w.tcp(GPORT, GW_IP, cport, iss + 6, syn.seq + 1, RST | ACK)
    client_reset(c)
    c.close()


def t_refused(w):
    c, cport = client()
    syn = syn_for(w, cport)
    if not ok(syn is not None, "SYN for the refused connection"):
        return
    t0 = time.monotonic()
    w.tcp(GPORT, GW_IP, cport, 0, syn.seq + 1, RST | ACK)
    reset = client_reset(c)
    ok(reset and time.monotonic() - t0 < 1.0 * SLACK,
       "the container refusing (RST,ACK in SYN_SENT) resets the client at once",
       "%.2fs" % (time.monotonic() - t0))
    ok(wait_flow_state(cport, None) is None, "no flow left after the refusal")
    c.close()


def t_silent_then_client_resets(w):
    c, cport = client()
    syn = syn_for(w, cport)
    if not ok(syn is not None, "SYN for a container that stays silent"):
        return
    again = w.expect(lambda s: s.sport == cport and s.flags == SYN, timeout=3.0)
    ok(again is not None and again.seq == syn.seq,
       "the SYN is retransmitted (same ISN) when the container is silent")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST from the client, before the container ever answered
    r = w.expect(lambda s: s.sport == cport and s.flags & RST, timeout=1.0)
    ok(r is not None, "the client's reset is passed on as a RST in SYN_SENT")
    ok(wait_flow_state(cport, None) is None,
       "a client that resets before the container answers leaves no flow")


def t_synack_flood(w):
    """SYN-ACKs for connections that do not exist: RST (rate limited) or silence"""
    before = len(ctl_conns())
    for i in range(200):
        w.tcp(GPORT, GW_IP, 20000 + i, 1000 + i, 4242 + i, SYN | ACK)
    rsts = 0
    while True:
        s = w.expect(lambda s: s.flags & RST, timeout=0.3)
        if not s:
            break
        rsts += 1
        if s.seq not in [4242 + i for i in range(200)]:
            ok(False, "RST for a stray SYN-ACK has seq = its ACK", s.seq)
            break
    ok(rsts > 0 and rsts <= 200, "stray SYN-ACKs get RSTs with seq = SEG.ACK (%d of 200,"
       " rate limited)" % rsts)
    ok(len(ctl_conns()) <= before, "stray SYN-ACKs create no flow")


def main():
    w = Wire()
    if not ok(w.arp_gateway(), "ARP: the gateway answers from tapird"):
        return 1
    for t in (t_active_open, t_early_data, t_simultaneous_open, t_refused,
              t_silent_then_client_resets, t_synack_flood):
        w.drain()
        try:
            t(w)
        except Exception as e:  # noqa: BLE001 - report, go on
            ok(False, "%s raised %r" % (t.__name__, e))
    return 1 if FAILED[0] else 0


if __name__ == "__main__":
    sys.exit(main())
