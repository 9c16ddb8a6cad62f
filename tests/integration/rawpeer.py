#!/usr/bin/python3
"""rawpeer.py - the container's side of tapir's TCP, frame by frame, for test_tcp_states.sh.

We play the container with an AF_PACKET socket on tap0 inside the namespace (opened there
through setns(2), then the process returns to the host's namespace), so every segment is
built and checked by hand, and we play the upstream servers on the host's 127.0.0.1 with
ordinary sockets in the same process: a listening socket per test, accepted and driven
(send, shutdown, close, abort) from the test itself, so the order of events on both sides is
ours. The flow table and the counters come from `tapirctl --json`.

    rawpeer.py NETNS CONTROL_SOCKET TAPIRCTL [TIME_WAIT_SECONDS]

Prints "ok - ..." / "not ok - ..." per check; the shell script counts them. Every wait is
bounded; SLACK (environment, a factor, default 1) stretches them for sanitizer builds.
Traffic: only tap0 of the test's namespace and 127.0.0.1.
"""
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

NETNS, CTL, TAPIRCTL = sys.argv[1], sys.argv[2], sys.argv[3]
TIME_WAIT = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
SLACK = float(os.environ.get("SLACK", "1"))
MTU = int(os.environ.get("MTU", "1500"))

MY_MAC = bytes.fromhex("02aabbcc0064")
MY_IP = socket.inet_aton("10.0.2.100")
GW_IP = socket.inet_aton("10.0.2.2")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003

PASS = 0
FAIL = 0


def ok(cond, what, detail=""):
    """one check: print ok/not ok, count it"""
    global PASS, FAIL
    if cond:
        PASS += 1
        print("ok - " + what, flush=True)
    else:
        FAIL += 1
        print("not ok - " + what + (": " + detail if detail else ""), flush=True)
    return cond


def note(msg):
    print("# " + msg, flush=True)


# --- the packet socket, opened in the namespace ---------------------------------------------

def open_tap_socket():
    """AF_PACKET socket bound to tap0 of NETNS; the process stays in its own namespace"""
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNET = 0x40000000
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + NETNS, os.O_RDONLY)
    if libc.setns(there, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns into " + NETNS)
    try:
        sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sk.bind(("tap0", ETH_P_ALL))
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    finally:
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back home")
        os.close(home)
        os.close(there)
    return sk


# --- checksums and frames -------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_options(opts):
    """[('mss', n), ('ws', n), ('sackok',), ('ts', val, ecr), ('sack', [(l, r)...])] → bytes"""
    o = b""
    for opt in opts:
        k = opt[0]
        if k == "mss":
            o += struct.pack("!BBH", 2, 4, opt[1])
        elif k == "ws":
            o += struct.pack("!BBBB", 1, 3, 3, opt[1])
        elif k == "sackok":
            o += struct.pack("!BBBB", 1, 1, 4, 2)
        elif k == "ts":
            o += struct.pack("!BBBBII", 1, 1, 8, 10, opt[1] & 0xFFFFFFFF, opt[2] & 0xFFFFFFFF)
        elif k == "sack":
            o += struct.pack("!BBBB", 1, 1, 5, 2 + 8 * len(opt[1]))
            for left, right in opt[1]:
                o += struct.pack("!II", left & 0xFFFFFFFF, right & 0xFFFFFFFF)
    while len(o) % 4:
        o += b"\x01"
    return o


IP_ID = [1]


def build(gw_mac, sport, dport, seq, ack, flags, wnd=65535, opts=(), data=b"", bad_csum=False):
    """one Ethernet frame from the container to the gateway"""
    o = tcp_options(opts)
    doff = (20 + len(o)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      doff << 4, flags, wnd, 0, 0) + o + data
    pseudo = MY_IP + GW_IP + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(pseudo + tcp)
    if bad_csum:
        c ^= 0x5A5A
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    IP_ID[0] = (IP_ID[0] + 1) & 0xFFFF
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), IP_ID[0], 0x4000, 64, 6, 0,
                     MY_IP, GW_IP)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return gw_mac + MY_MAC + b"\x08\x00" + ip + tcp


class Seg:
    """a TCP segment from tapird, decoded (checksums verified)"""

    def __init__(self, frame, t):
        self.t = t
        self.frame = frame
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        ip = ip[:tot]
        self.ip_ok = csum(ip[:ihl]) == 0
        self.src, self.dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:]
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 6, len(tcp))
        self.csum_ok = csum(pseudo + tcp) == 0
        (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.wnd, _, _) = \
            struct.unpack("!HHIIBBHHH", tcp[:20])
        doff = (off >> 4) * 4
        self.data = tcp[doff:]
        self.opts = {}
        self.sack = []
        o = tcp[20:doff]
        i = 0
        while i < len(o):
            k = o[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(o) or o[i + 1] < 2:
                self.opts["malformed"] = True
                break
            ln = o[i + 1]
            v = o[i + 2:i + ln]
            if k == 2 and ln == 4:
                self.opts["mss"] = struct.unpack("!H", v)[0]
            elif k == 3 and ln == 3:
                self.opts["ws"] = v[0]
            elif k == 4:
                self.opts["sackok"] = True
            elif k == 8 and ln == 10:
                self.opts["ts"] = struct.unpack("!II", v)
            elif k == 5:
                self.sack = [struct.unpack("!II", v[j:j + 8]) for j in range(0, len(v) - 7, 8)]
                self.opts["sack"] = self.sack
            i += ln

    def fl(self):
        n = "".join(c for b, c in ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ACK, "."))
                    if self.flags & b)
        return n or "-"

    def __repr__(self):
        return "[%s seq=%u ack=%u len=%d wnd=%d opts=%s]" % (self.fl(), self.seq, self.ack,
                                                             len(self.data), self.wnd, self.opts)


# --- the wire: one socket, frames dispatched to each test connection by port ----------------

class Wire:
    def __init__(self):
        self.sk = open_tap_socket()
        self.inbox = {}      # our port -> [Seg]
        self.gw_mac = None

    def send(self, frame):
        self.sk.send(frame)

    def pump(self, timeout):
        """read frames for up to @timeout seconds (at least one poll); dispatch TCP ones"""
        end = time.monotonic() + timeout
        got = 0
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.sk], [], [], max(left, 0))
            if not r:
                return got
            frame, addr = self.sk.recvfrom(65600)
            if addr[2] == PACKET_OUTGOING:
                continue
            got += 1
            self.dispatch(frame)
            if time.monotonic() >= end:
                return got

    def dispatch(self, frame):
        if len(frame) < 14:
            return
        et = struct.unpack("!H", frame[12:14])[0]
        if et == 0x0806 and len(frame) >= 42:
            op = struct.unpack("!H", frame[20:22])[0]
            if op == 2 and frame[28:32] == GW_IP and frame[38:42] == MY_IP:
                self.gw_mac = frame[22:28]
            return
        if et != 0x0800 or len(frame) < 54 or frame[23] != 6:
            return
        s = Seg(frame, time.monotonic())
        if s.src != GW_IP or s.dst != MY_IP:
            return
        box = self.inbox.setdefault(s.dport, [])
        if len(box) < 10000:
            box.append(s)

    def arp(self):
        req = (b"\xff" * 6 + MY_MAC + b"\x08\x06" +
               struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MY_MAC + MY_IP + b"\0" * 6 + GW_IP)
        for _ in range(5):
            self.send(req)
            end = time.monotonic() + 1
            while self.gw_mac is None and time.monotonic() < end:
                self.pump(0.1)
            if self.gw_mac:
                return self.gw_mac
        return None


W = None
SENT_TS = {}     # our port -> TSval of our last SYN
NEXT_SPORT = [40000 + os.getpid() % 20000]


def ms_now():
    return int(time.monotonic() * 1000) & 0xFFFFFFFF


class Conn:
    """one connection of the container: our sequence space and what we know of tapird's"""

    def __init__(self, dport, opts=True, mss=1460, iss=None):
        NEXT_SPORT[0] += 1
        self.sport = NEXT_SPORT[0]
        self.dport = dport
        self.iss = iss if iss is not None else (0x10000000 * (self.sport % 13) + 12345)
        self.snd_nxt = self.iss
        self.rcv_nxt = 0
        self.opts = opts
        self.mss = mss
        self.ts = False
        self.ts_recent = 0
        self.ws = 0
        W.inbox.setdefault(self.sport, [])

    def send(self, flags, data=b"", seq=None, ack=None, wnd=None, extra=(), bad_csum=False,
             sack=None):
        opts = list(extra)
        if self.ts:
            opts.append(("ts", ms_now(), self.ts_recent))
        if sack:
            opts.append(("sack", sack))
        if wnd is None:
            wnd = 65535     # with our shift of 7: 8 MiB
        W.send(build(W.gw_mac, self.sport, self.dport, self.snd_nxt if seq is None else seq,
                     self.rcv_nxt if ack is None else ack, flags, wnd, opts, data, bad_csum))

    def syn(self, extra=None):
        """our SYN: MSS, and with @opts window scale 7, SACK-permitted and timestamps"""
        if extra is None:
            extra = [("mss", self.mss)]
            if self.opts:
                SENT_TS[self.sport] = ms_now()
                extra += [("ws", 7), ("sackok",), ("ts", SENT_TS[self.sport], 0)]
        W.send(build(W.gw_mac, self.sport, self.dport, self.iss, 0, SYN, 65535, extra))
        self.snd_nxt = self.iss + 1

    def next(self, timeout=1.0, pred=None):
        """the next segment for us matching @pred (others are consumed) or None"""
        end = time.monotonic() + timeout * SLACK
        box = W.inbox[self.sport]
        while True:
            while box:
                s = box.pop(0)
                if s.opts.get("ts"):
                    self.ts_recent = s.opts["ts"][0]
                if pred is None or pred(s):
                    return s
            left = end - time.monotonic()
            if left <= 0:
                return None
            W.pump(min(left, 0.05))

    def quiet(self, duration, pred=None):
        """every segment for us (matching @pred) arriving within @duration seconds"""
        end = time.monotonic() + duration
        out = []
        box = W.inbox[self.sport]
        while True:
            while box:
                s = box.pop(0)
                if pred is None or pred(s):
                    out.append(s)
            left = end - time.monotonic()
            if left <= 0:
                return out
            W.pump(min(left, 0.05))

    def handshake(self):
        """SYN, SYN-ACK, ACK; returns the SYN-ACK (None on failure)"""
        self.syn()
        sa = self.next(2, lambda s: s.flags & (SYN | RST))
        if not sa or sa.flags & (SYN | ACK) != (SYN | ACK):
            return None
        self.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
        self.ts = "ts" in sa.opts
        if self.ts:
            self.ts_recent = sa.opts["ts"][0]
        self.ws = sa.opts.get("ws", 0)
        self.send(ACK)
        return sa

    def recv_data(self, n, timeout=2.0, ack=True):
        """collect @n bytes of in-order data from tapird, ACKing each segment"""
        got = b""
        end = time.monotonic() + timeout * SLACK
        while len(got) < n and time.monotonic() < end:
            s = self.next(end - time.monotonic(), lambda s: len(s.data) or s.flags & (FIN | RST))
            if not s or s.flags & RST:
                break
            if s.seq == self.rcv_nxt and s.data:
                got += s.data
                self.rcv_nxt = (self.rcv_nxt + len(s.data)) & 0xFFFFFFFF
            if ack:
                self.send(ACK)
            if s.flags & FIN:
                break
        return got


# --- tapirctl ---------------------------------------------------------------------------------

def ctl(*args):
    try:
        out = subprocess.run([TAPIRCTL, "-s", CTL, "--json", "-t", "5"] + list(args),
                             capture_output=True, timeout=10 * SLACK).stdout
        return json.loads(out)
    except Exception as e:  # noqa: BLE001 - any failure is a failed check later
        note("tapirctl %s: %s" % (" ".join(args), e))
        return None


def flow_of(c):
    j = ctl("conns")
    if not j:
        return None
    me = "10.0.2.100:%d" % c.sport
    for f in j.get("flows", []):
        if f.get("container") == me and f.get("proto") == "tcp":
            return f
    return None


def wait_state(c, want, timeout=1.5):
    """poll conns until the flow of @c is in @want (None: gone); return the last flow seen"""
    end = time.monotonic() + timeout * SLACK
    while True:
        f = flow_of(c)
        st = f.get("state") if f else None
        if st == want or time.monotonic() > end:
            return f
        time.sleep(0.02)


def state_is(c, want, what, timeout=1.5):
    f = wait_state(c, want, timeout)
    st = f.get("state") if f else None
    return ok(st == want, what, "state %s (history %s)" % (st, f.get("history") if f else None))


def counters():
    j = ctl("stats")
    if not j:
        return {}
    t = j.get("total", {})
    out = dict(t.get("counters", {}))
    d = t.get("drops", {})
    if isinstance(d, dict):
        for k, v in d.items():
            out.setdefault(k if k.startswith("drop_") else "drop_" + k, v)
    return out


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


# --- the upstream side on the host's loopback -----------------------------------------------

class Upstream:
    def __init__(self, listen=True):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.port = self.ls.getsockname()[1]
        if listen:
            self.ls.listen(16)

    def accept(self, timeout=2.0):
        self.ls.settimeout(timeout * SLACK)
        try:
            s, _ = self.ls.accept()
        except OSError:
            return None
        s.settimeout(2 * SLACK)
        return s

    def close(self):
        self.ls.close()


def recv_exact(s, n, timeout=2.0):
    s.settimeout(timeout * SLACK)
    got = b""
    try:
        while len(got) < n:
            b = s.recv(n - len(got))
            if not b:
                break
            got += b
    except OSError:
        pass
    return got


def upstream_eof(s, timeout=1.5):
    """True if the upstream socket reads EOF (no data first) within @timeout"""
    s.settimeout(timeout * SLACK)
    try:
        return s.recv(100) == b""
    except OSError:
        return False


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def pattern(n, salt):
    return bytes((i * 7 + salt + (i >> 8)) & 0xFF for i in range(n))


# --- the checks -------------------------------------------------------------------------------

def open_conn(srv, opts=True, mss=1460, tag=""):
    """a connection brought to ESTABLISHED with its upstream socket accepted"""
    c = Conn(srv.port, opts, mss)
    sa = c.handshake()
    up = srv.accept() if sa else None
    if not sa or not up:
        ok(False, tag + ": connection opens", "syn-ack %r, upstream %r" % (sa, up))
        return None, None
    return c, up


def t_handshake_options():
    srv = Upstream()
    c = Conn(srv.port, True, 1460)
    c.syn()
    sa = c.next(2, lambda s: s.flags & (SYN | RST))
    if not ok(sa is not None and sa.flags == SYN | ACK and sa.ack == (c.iss + 1) & 0xFFFFFFFF,
              "handshake: SYN answered by SYN-ACK acknowledging ISS+1 (RFC 9293 3.5)", repr(sa)):
        srv.close()
        return
    ok(sa.csum_ok and sa.ip_ok, "handshake: SYN-ACK IPv4 and TCP checksums are right")
    o = sa.opts
    ok(o.get("mss") == MTU - 40, "handshake: SYN-ACK MSS is MTU-40 = %d (RFC 9293 3.7.1)"
       % (MTU - 40), repr(o))
    ok(o.get("ws") == 7, "handshake: SYN-ACK window scale 7 (RFC 7323 2.2)", repr(o))
    ok(o.get("sackok") is True, "handshake: SYN-ACK SACK-permitted (RFC 2018 2)", repr(o))
    ts = o.get("ts")
    ok(ts is not None and ts[1] == c_ts_sent(c), "handshake: SYN-ACK timestamps, TSecr echoes "
       "our TSval (RFC 7323 3.2)", repr(o))
    state_is(c, "SYN_RCVD", "state SYN_RCVD: upstream accepted, SYN-ACK sent, our ACK not yet")
    c.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
    c.ts = True
    c.ts_recent = ts[0] if ts else 0
    c.ws = 7
    c.send(ACK)
    f = state_is(c, "ESTABLISHED", "state ESTABLISHED after our ACK (RFC 9293 3.5 Figure 6)")
    f = flow_of(c)
    hist = [h["state"] for h in (f or {}).get("history", [])]
    ok(hist[:2] == ["SYN_RCVD", "ESTABLISHED"], "history SYN_RCVD → ESTABLISHED", repr(hist))
    tcp = (f or {}).get("tcp", {})
    ok(tcp.get("wscale") == [7, 7] and tcp.get("mss") == 1460,
       "flow JSON: mss 1460, wscale [7, 7]", repr(tcp))
    up = srv.accept()
    # MSS clamp in use: upstream sends 5000 bytes, no segment exceeds MSS minus the 12
    # timestamp bytes (RFC 6691)
    if up:
        data = pattern(5000, 1)
        up.sendall(data)
        segs = []
        got = b""
        end = time.monotonic() + 2 * SLACK
        while len(got) < 5000 and time.monotonic() < end:
            s = c.next(0.5, lambda s: len(s.data))
            if not s:
                continue
            segs.append(s)
            if s.seq == c.rcv_nxt:
                got += s.data
                c.rcv_nxt += len(s.data)
                c.send(ACK)
        ok(got == data and all(len(s.data) <= 1460 - 12 for s in segs) and
           all("ts" in s.opts for s in segs),
           "data segments at most MSS-12 = 1448 bytes, each with timestamps (RFC 7323 3.2)",
           "%d bytes, sizes %s" % (len(got), [len(s.data) for s in segs]))
        abort(up)
    srv.close()


def c_ts_sent(c):
    return SENT_TS.get(c.sport)


def t_handshake_plain():
    srv = Upstream()
    c = Conn(srv.port, False)
    W.send(build(W.gw_mac, c.sport, c.dport, c.iss, 0, SYN, 8192, []))
    c.snd_nxt = c.iss + 1
    sa = c.next(2, lambda s: s.flags & (SYN | RST))
    if not ok(sa is not None and sa.flags == SYN | ACK,
              "handshake without options: SYN-ACK", repr(sa)):
        srv.close()
        return
    o = sa.opts
    ok("ws" not in o and "ts" not in o and "sackok" not in o and o.get("mss") == MTU - 40,
       "handshake without options: SYN-ACK carries MSS only, no wscale/SACK/timestamps "
       "(RFC 7323 2.2, 3.2; RFC 2018 2)", repr(o))
    c.rcv_nxt = sa.seq + 1
    c.send(ACK, wnd=8192)
    up = srv.accept()
    f = wait_state(c, "ESTABLISHED")
    tcp = (f or {}).get("tcp", {})
    ok(f and f.get("state") == "ESTABLISHED" and tcp.get("wscale") is None and
       tcp.get("mss") == 536, "without options: ESTABLISHED, wscale off, MSS 536 assumed "
       "(RFC 9293 3.7.1)", repr(f))
    if up:
        data = pattern(3000, 2)
        up.sendall(data)
        got = b""
        sizes = []
        end = time.monotonic() + 2 * SLACK
        while len(got) < 3000 and time.monotonic() < end:
            s = c.next(0.5, lambda s: len(s.data))
            if not s:
                continue
            sizes.append(len(s.data))
            if s.seq == c.rcv_nxt:
                got += s.data
                c.rcv_nxt += len(s.data)
                c.send(ACK, wnd=8192)
        ok(got == data and max(sizes or [0]) <= 536,
           "without options: data segments at most 536 bytes", repr(sizes))
        abort(up)
    srv.close()


def t_mss_small():
    srv = Upstream()
    c = Conn(srv.port, True, 1000)
    sa = c.handshake()
    up = srv.accept() if sa else None
    if not ok(sa is not None and up is not None, "MSS 1000 offered: connection opens"):
        srv.close()
        return
    data = pattern(4000, 3)
    up.sendall(data)
    got = b""
    sizes = []
    end = time.monotonic() + 2 * SLACK
    while len(got) < 4000 and time.monotonic() < end:
        s = c.next(0.5, lambda s: len(s.data))
        if not s:
            continue
        sizes.append(len(s.data))
        if s.seq == c.rcv_nxt:
            got += s.data
            c.rcv_nxt += len(s.data)
            c.send(ACK)
    ok(got == data and sizes and max(sizes) <= 1000 - 12,
       "MSS 1000 offered: tapird sends at most 1000-12 bytes a segment (min(peer, MTU-40))",
       repr(sizes))
    abort(up)
    srv.close()


def t_data_ooo():
    srv = Upstream()
    c, up = open_conn(srv, tag="data")
    if not c:
        srv.close()
        return
    state_is(c, "ESTABLISHED", "data: ESTABLISHED")
    # container → upstream, exact bytes, in two segments
    d1 = pattern(1000, 11)
    d2 = pattern(1200, 12)
    c.send(ACK | PSH, d1)
    c.snd_nxt += len(d1)
    c.send(ACK | PSH, d2)
    c.snd_nxt += len(d2)
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None, "data: cumulative ACK of both segments (ack = %u)" % c.snd_nxt,
       "last seen %r" % W.inbox.get(c.sport))
    got = recv_exact(up, 2200)
    ok(got == d1 + d2, "data: upstream receives the 2200 bytes exactly", "%d bytes" % len(got))
    # upstream → container, exact bytes
    d3 = pattern(7000, 13)
    up.sendall(d3)
    got = c.recv_data(7000)
    ok(got == d3, "data: container receives upstream's 7000 bytes exactly", "%d" % len(got))
    # out of order: the second 500 bytes first
    base = c.snd_nxt
    p1, p2 = pattern(500, 21), pattern(500, 22)
    c.send(ACK | PSH, p2, seq=base + 500)
    a = c.next(1, lambda s: not s.data)
    ok(a is not None and a.ack == base,
       "OOO segment: immediate duplicate ACK at the hole (RFC 5681 4.2)", repr(a))
    ok(a is not None and a.sack and a.sack[0] == ((base + 500) & 0xFFFFFFFF,
                                                  (base + 1000) & 0xFFFFFFFF),
       "OOO segment: ACK carries the SACK block [%u, %u) (RFC 2018 4)" % (base + 500,
                                                                          base + 1000),
       repr(a))
    c.send(ACK | PSH, p1, seq=base)
    c.snd_nxt = base + 1000
    a = c.next(1, lambda s: s.ack == (base + 1000) & 0xFFFFFFFF)
    ok(a is not None and not a.sack,
       "hole filled: cumulative ACK jumps to %u, no SACK block left" % (base + 1000), repr(a))
    got = recv_exact(up, 1000)
    ok(got == p1 + p2, "OOO: upstream receives the 1000 bytes in order", "%d" % len(got))
    abort(up)
    srv.close()


def t_half_close():
    """CLOSE_WAIT with upstream data, then LAST_ACK and CLOSED"""
    srv = Upstream()
    c, up = open_conn(srv, tag="half-close")
    if not c:
        srv.close()
        return
    before = counters()
    c.send(FIN | ACK)
    c.snd_nxt += 1
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None, "our FIN acknowledged (ack = FIN+1)", repr(a))
    state_is(c, "CLOSE_WAIT", "state CLOSE_WAIT after the container's FIN")
    ok(upstream_eof(up), "upstream reads EOF after the container's FIN (shutdown relayed)")
    total = b""
    got = b""
    for i in range(5):
        chunk = pattern(800, 30 + i)
        total += chunk
        up.sendall(chunk)
        got += c.recv_data(800, 1.0)
        time.sleep(0.05)
    ok(got == total, "half-close: upstream keeps sending in CLOSE_WAIT, 4000 bytes received "
       "and ACKed", "%d bytes" % len(got))
    f = flow_of(c)
    ok(f and f.get("state") == "CLOSE_WAIT", "still CLOSE_WAIT while upstream sends",
       repr(f and f.get("state")))
    up.close()
    fin = c.next(1.5, lambda s: s.flags & FIN)
    ok(fin is not None and fin.seq == c.rcv_nxt, "upstream closes: tapird sends FIN at "
       "SND.NXT", repr(fin))
    state_is(c, "LAST_ACK", "state LAST_ACK: our FIN not acknowledged yet")
    if fin:
        c.rcv_nxt = (fin.seq + len(fin.data) + 1) & 0xFFFFFFFF
    c.send(ACK)
    f = wait_state(c, None)
    after = counters()
    ok(f is None and delta(before, after, "flows_closed_fin") >= 1,
       "LAST_ACK → CLOSED: FIN acknowledged, flow gone, flows_closed_fin +%d"
       % delta(before, after, "flows_closed_fin"), repr(f))
    srv.close()


def t_fin_wait():
    """FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT and its end"""
    srv = Upstream()
    c, up = open_conn(srv, tag="active close")
    if not c:
        srv.close()
        return
    up.sendall(b"bye")
    got = c.recv_data(3)
    up.shutdown(socket.SHUT_WR)     # half-close: it still reads what the container sends
    fin = c.next(1.5, lambda s: s.flags & FIN)
    ok(got == b"bye" and fin is not None and fin.seq == c.rcv_nxt,
       "upstream closes: data then FIN from tapird", repr(fin))
    state_is(c, "FIN_WAIT_1", "state FIN_WAIT_1: FIN sent, not acknowledged")
    again = c.next(1.5, lambda s: s.flags & FIN) if fin else None
    ok(again is not None and again.seq == fin.seq and not again.data,
       "FIN_WAIT_1: the unacknowledged FIN is retransmitted at the same seq (RFC 9293 3.8.1)",
       repr(again))
    c.rcv_nxt = (c.rcv_nxt + 1) & 0xFFFFFFFF
    c.send(ACK)
    state_is(c, "FIN_WAIT_2", "state FIN_WAIT_2: FIN acknowledged, ours not sent")
    c.send(ACK | PSH, b"late")
    c.snd_nxt += 4
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None and recv_exact(up, 4, 1) == b"late",
       "FIN_WAIT_2: the container's data still reaches upstream (half-close)", repr(a))
    c.send(FIN | ACK)
    c.snd_nxt += 1
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None, "FIN_WAIT_2: our FIN acknowledged", repr(a))
    state_is(c, "TIME_WAIT", "state TIME_WAIT after our FIN")
    # RFC 9293 3.10.7.4: a retransmitted FIN in TIME_WAIT is acknowledged again
    c.send(FIN | ACK, seq=c.snd_nxt - 1)
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None and not (a.flags & RST),
       "TIME_WAIT: a retransmitted FIN is acknowledged again (RFC 9293 3.10.7.4)", repr(a))
    t0 = time.monotonic()  # the retransmitted FIN restarted the 2MSL timer
    up.close()
    srv.close()
    # TIME_WAIT lasts --time-wait seconds from there (RFC 9293 3.10.7.4: 2MSL), then CLOSED
    last_tw = None
    gone = None
    while time.monotonic() < t0 + TIME_WAIT + 1.0 * SLACK:
        f = flow_of(c)
        if f is None:
            gone = time.monotonic() - t0
            break
        if f.get("state") == "TIME_WAIT":
            last_tw = time.monotonic() - t0
        time.sleep(0.05)
    ok(last_tw is not None and last_tw >= TIME_WAIT - 0.25,
       "TIME_WAIT held until %.2f s of --time-wait %g" % (last_tw or 0, TIME_WAIT))
    ok(gone is not None and TIME_WAIT - 0.05 <= gone <= TIME_WAIT + 0.5 * SLACK,
       "TIME_WAIT → CLOSED: flow gone %.2f s after the last FIN (--time-wait %g)"
       % (gone or -1, TIME_WAIT))


def t_time_wait_reuse():
    """RFC 6191: a SYN with a newer timestamp reopens a TIME_WAIT 4-tuple"""
    srv = Upstream()
    c, _ = t_fin_wait_quiet(srv)
    if not c:
        srv.close()
        return
    old = flow_of(c)
    time.sleep(0.02)
    c2 = Conn.__new__(Conn)
    c2.__dict__.update(c.__dict__)
    c2.iss = (c.snd_nxt + 100000) & 0xFFFFFFFF
    c2.ts = False
    c2.syn()
    sa = c2.next(2, lambda s: s.flags & (SYN | RST))
    up = srv.accept()
    new = flow_of(c2)
    ok(sa is not None and sa.flags == SYN | ACK and sa.ack == (c2.iss + 1) & 0xFFFFFFFF and
       up is not None and new and old and new.get("id") != old.get("id"),
       "TIME_WAIT: a new SYN with a newer timestamp opens a new connection (RFC 6191)",
       "syn-ack %r, old %s, new %s" % (sa, old and old.get("id"), new and new.get("id")))
    if up:
        abort(up)
    srv.close()


def t_fin_wait_quiet(srv):
    """bring a connection to TIME_WAIT without the checks (helper)"""
    c, up = open_conn(srv, tag="time-wait reuse")
    if not c:
        return None, None
    up.close()
    fin = c.next(1.5, lambda s: s.flags & FIN)
    if not fin:
        ok(False, "time-wait reuse: FIN from tapird")
        return None, None
    c.rcv_nxt = (fin.seq + 1) & 0xFFFFFFFF
    c.send(FIN | ACK)
    c.snd_nxt += 1
    c.next(1, lambda s: s.ack == c.snd_nxt)
    f = wait_state(c, "TIME_WAIT")
    if not f or f.get("state") != "TIME_WAIT":
        ok(False, "time-wait reuse: TIME_WAIT reached", repr(f))
        return None, None
    return c, up


def t_closing():
    """simultaneous close: CLOSING, then TIME_WAIT"""
    srv = Upstream()
    c, up = open_conn(srv, tag="simultaneous close")
    if not c:
        srv.close()
        return
    up.close()
    fin = c.next(1.5, lambda s: s.flags & FIN)
    if not ok(fin is not None, "simultaneous close: tapird's FIN", repr(fin)):
        srv.close()
        return
    # our FIN, crossing theirs: it does not acknowledge their FIN
    c.send(FIN | ACK, ack=fin.seq)
    c.snd_nxt += 1
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    ok(a is not None, "simultaneous close: our FIN acknowledged", repr(a))
    state_is(c, "CLOSING", "state CLOSING: FINs crossed, ours acknowledged, theirs not")
    c.rcv_nxt = (fin.seq + 1) & 0xFFFFFFFF
    c.send(ACK)
    state_is(c, "TIME_WAIT", "CLOSING → TIME_WAIT when their FIN is acknowledged")
    srv.close()


def t_refused():
    srv = Upstream(listen=False)   # bound, not listening: connect() is refused
    before = counters()
    c = Conn(srv.port)
    c.syn()
    r = c.next(2, lambda s: s.flags & (SYN | RST))
    ok(r is not None and r.flags == RST | ACK and r.seq == 0 and
       r.ack == (c.iss + 1) & 0xFFFFFFFF,
       "no upstream listener: <SEQ=0><ACK=ISS+1><CTL=RST,ACK> (RFC 9293 3.10.7.1)", repr(r))
    f = wait_state(c, None)
    after = counters()
    ok(f is None and delta(before, after, "flows_closed_refused") == 1,
       "state CLOSED: refused flow gone, flows_closed_refused +1",
       "flow %r, +%d" % (f, delta(before, after, "flows_closed_refused")))
    srv.close()


def t_rfc5961():
    srv = Upstream()
    c, up = open_conn(srv, tag="RFC 5961")
    if not c:
        srv.close()
        return
    state_is(c, "ESTABLISHED", "RFC 5961: ESTABLISHED")
    before = counters()
    c.send(RST, seq=c.snd_nxt + 10)
    a = c.next(1, lambda s: True)
    ok(a is not None and a.flags == ACK and a.seq == c.rcv_nxt and a.ack == c.snd_nxt,
       "RST in window, not exact: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 5961 3.2)",
       repr(a))
    f = flow_of(c)
    ok(f and f.get("state") == "ESTABLISHED", "after the in-window RST: still ESTABLISHED",
       repr(f and f.get("state")))
    c.send(RST, seq=c.snd_nxt + 10 * 65535 * 128)
    r = c.quiet(0.3)
    ok(not r and (flow_of(c) or {}).get("state") == "ESTABLISHED",
       "RST out of window: silently dropped, still ESTABLISHED (RFC 5961 3.2)", repr(r))
    c.send(SYN, seq=c.snd_nxt + 1000, extra=[("mss", 1460)])
    a = c.next(1, lambda s: True)
    ok(a is not None and a.flags == ACK and a.seq == c.rcv_nxt and a.ack == c.snd_nxt,
       "SYN in ESTABLISHED: challenge ACK (RFC 5961 4.2)", repr(a))
    c.send(SYN, seq=c.snd_nxt, extra=[("mss", 1460)])
    a = c.next(1, lambda s: True)
    f = flow_of(c)
    ok(a is not None and a.flags == ACK and f and f.get("state") == "ESTABLISHED",
       "SYN at RCV.NXT in ESTABLISHED: challenge ACK too, still ESTABLISHED (RFC 5961 4.2)",
       "%r %r" % (a, f and f.get("state")))
    mid = counters()
    ok(delta(before, mid, "tcp_challenge_acks") == 3,
       "tcp_challenge_acks counted 3 challenges",
       "+%d" % delta(before, mid, "tcp_challenge_acks"))
    # data still flows: the connection was not disturbed
    c.send(ACK | PSH, b"still")
    c.snd_nxt += 5
    ok(recv_exact(up, 5, 1) == b"still", "after the challenges the connection still carries "
       "data")
    c.next(0.5, lambda s: s.ack == c.snd_nxt)
    c.send(RST, seq=c.snd_nxt)
    f = wait_state(c, None)
    after = counters()
    ok(f is None and delta(before, after, "flows_closed_rst_container") == 1,
       "exact RST: flow gone, flows_closed_rst_container +1 (RFC 9293 3.10.7.4)", repr(f))
    reset = False
    try:
        up.settimeout(1.5 * SLACK)
        up.recv(100)
    except ConnectionResetError:
        reset = True
    except OSError as e:
        note("upstream recv: %r" % e)
    ok(reset, "exact RST: upstream sees a reset (ECONNRESET)")
    up.close()
    srv.close()


def t_checksum_and_noflow():
    srv = Upstream()
    c, up = open_conn(srv, tag="checksum")
    if not c:
        srv.close()
        return
    before = counters()
    c.send(ACK | PSH, b"corrupt!", bad_csum=True)
    r = c.quiet(0.4 * SLACK)
    after = counters()
    up.settimeout(0.2)
    try:
        leaked = up.recv(100)
    except OSError:
        leaked = b""
    ok(not r and not leaked and delta(before, after, "drop_tcp_bad_checksum") == 1,
       "bad TCP checksum: no reply, nothing upstream, drop_tcp_bad_checksum +1",
       "replies %r, upstream %r, +%d" % (r, leaked,
                                         delta(before, after, "drop_tcp_bad_checksum")))
    c.send(ACK | PSH, b"good")
    c.snd_nxt += 4
    ok(recv_exact(up, 4, 1) == b"good", "the same segment with a good checksum is delivered")
    abort(up)
    srv.close()
    # a segment for no connection
    nf = Conn(srv.port)
    nf.send(ACK, seq=777, ack=0xDEADBEEF)
    r = nf.next(1, lambda s: True)
    ok(r is not None and r.flags == RST and r.seq == 0xDEADBEEF,
       "ACK for no connection: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1)", repr(r))
    nf2 = Conn(srv.port)
    nf2.send(PSH, b"12345", seq=1000, ack=0)
    r = nf2.next(1, lambda s: True)
    ok(r is not None and r.flags == RST | ACK and r.seq == 0 and r.ack == 1005,
       "no-ACK segment for no connection: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
       repr(r))
    nf3 = Conn(srv.port)
    nf3.send(RST, seq=5, ack=0)
    r = nf3.quiet(0.3)
    ok(not r, "RST for no connection: dropped, no reply (RFC 9293 3.10.7.1)", repr(r))


def t_synrcvd():
    """SYN_RCVD: SYN-ACK retransmitted after the initial RTO; a bad ACK is reset; RST ends it"""
    srv = Upstream()
    c = Conn(srv.port)
    c.syn()
    s1 = c.next(2, lambda s: s.flags & (SYN | RST))
    s2 = c.next(2.5, lambda s: s.flags & (SYN | RST)) if s1 else None
    gap = (s2.t - s1.t) if s1 and s2 else 0
    ok(s1 is not None and s2 is not None and s2.flags == SYN | ACK and s2.seq == s1.seq and
       0.9 <= gap <= 1.6 * SLACK,
       "SYN_RCVD: unacknowledged SYN-ACK retransmitted after the initial RTO of 1 s, %.0f ms "
       "(RFC 6298 2.1)" % (gap * 1000), "%r / %r" % (s1, s2))
    if not s1:
        srv.close()
        return
    c.rcv_nxt = (s1.seq + 1) & 0xFFFFFFFF
    # an ACK that acknowledges nothing we sent: <SEQ=SEG.ACK><CTL=RST>, state kept
    c.send(ACK, ack=s1.seq + 5000, extra=[("ts", ms_now(), 0)])
    r = c.next(1, lambda s: s.flags & RST)
    f = flow_of(c)
    ok(r is not None and r.flags == RST and r.seq == (s1.seq + 5000) & 0xFFFFFFFF and
       f and f.get("state") == "SYN_RCVD",
       "SYN_RCVD: unacceptable ACK answered by <SEQ=SEG.ACK><CTL=RST>, still SYN_RCVD "
       "(RFC 9293 3.10.7.4)", "%r %r" % (r, f and f.get("state")))
    up = srv.accept()
    before = counters()
    c.send(RST, ack=0)
    f = wait_state(c, None)
    after = counters()
    reset = False
    if up:
        try:
            up.settimeout(1.5 * SLACK)
            up.recv(10)
        except ConnectionResetError:
            reset = True
        except OSError:
            pass
        up.close()
    ok(f is None and reset and delta(before, after, "flows_closed_rst_container") == 1,
       "SYN_RCVD: RST at RCV.NXT ends the flow, upstream reset (RFC 9293 3.10.7.4)",
       "flow %r, upstream reset %s" % (f, reset))
    srv.close()


def t_window():
    """tapird respects the container's window, scaled by its shift (RFC 7323 2.3)"""
    srv = Upstream()
    c = Conn(srv.port)
    sa = c.handshake()
    up = srv.accept() if sa else None
    if not ok(sa is not None and up is not None, "window: connection opens"):
        srv.close()
        return
    # wscale 7 offered: a window field of 8 is 1024 bytes
    c.send(ACK, wnd=8)
    time.sleep(0.05)
    data = pattern(6000, 40)
    up.sendall(data)
    segs = c.quiet(0.5 * SLACK, lambda s: len(s.data))
    first = sum(len(s.data) for s in segs)
    ok(segs and max(((s.seq + len(s.data) - c.rcv_nxt) & 0xFFFFFFFF) for s in segs) <= 1024,
       "window field 8 << 7 = 1024: tapird sends at most 1024 bytes beyond our ACK "
       "(RFC 9293 3.8.6, RFC 7323 2.3)", "%d bytes in %s" % (first, segs))
    # window 0: tapird stops, then probes (RFC 9293 3.8.6.1)
    got = b""
    for s in sorted(segs, key=lambda s: s.seq):
        if s.seq == (c.rcv_nxt + len(got)) & 0xFFFFFFFF:
            got += s.data
    c.rcv_nxt = (c.rcv_nxt + len(got)) & 0xFFFFFFFF
    c.send(ACK, wnd=0)
    probes = c.quiet(1.0 * SLACK)
    data_beyond = [s for s in probes if len(s.data) > 1]
    note("window 1024: %r; after window 0: %r" % (segs, probes))
    ok(probes and not data_beyond and all(s.seq in ((c.rcv_nxt - 1) & 0xFFFFFFFF, c.rcv_nxt)
                                          for s in probes),
       "zero window: only zero-window probes (at most one byte) go out (RFC 9293 3.8.6.1)",
       repr(probes))
    c.send(ACK, wnd=512)
    rest = c.recv_data(len(data) - len(got), 3)
    ok(got + rest == data, "window reopened: all 6000 bytes arrive exactly",
       "%d + %d bytes" % (len(got), len(rest)))
    abort(up)
    srv.close()


def t_misc_established():
    """ACK beyond SND.MAX, PAWS, upstream reset"""
    srv = Upstream()
    c, up = open_conn(srv, tag="misc")
    if not c:
        srv.close()
        return
    # RFC 9293 3.10.7.4 fifth: SEG.ACK > SND.NXT: send an ACK, drop the segment
    c.send(ACK | PSH, b"nope", ack=c.rcv_nxt + 100000)
    a = c.next(1, lambda s: True)
    up.settimeout(0.3)
    try:
        leaked = up.recv(10)
    except OSError:
        leaked = b""
    ok(a is not None and a.flags == ACK and a.ack == c.snd_nxt and not leaked,
       "ACK of data never sent: answered by an ACK, segment dropped (RFC 9293 3.10.7.4)",
       "%r, upstream got %r" % (a, leaked))
    # RFC 7323 5.3 PAWS: an old timestamp marks an old duplicate: dropped, ACKed
    c.ts = False
    c.send(ACK | PSH, b"old!", extra=[("ts", 1, c.ts_recent)])
    c.ts = True
    a = c.next(1, lambda s: True)
    try:
        leaked = up.recv(10)
    except OSError:
        leaked = b""
    ok(a is not None and a.ack == c.snd_nxt and not leaked,
       "PAWS: a segment with an old TSval is dropped and ACKed (RFC 7323 5.3)",
       "%r, upstream got %r" % (a, leaked))
    # upstream aborts: the container gets <SEQ=SND.NXT><CTL=RST>
    before = counters()
    abort(up)
    r = c.next(1.5, lambda s: s.flags & RST)
    f = wait_state(c, None)
    after = counters()
    ok(r is not None and r.seq == c.rcv_nxt and f is None and
       delta(before, after, "flows_closed_rst_upstream") == 1,
       "upstream reset: RST to the container at SND.NXT, flow gone, "
       "flows_closed_rst_upstream +1", "%r %r" % (r, f))
    srv.close()


def t_segments():
    """duplicates, overlaps, segments without ACK, data+FIN, an out-of-order FIN"""
    srv = Upstream()
    c, up = open_conn(srv, tag="segments")
    if not c:
        srv.close()
        return
    d = pattern(600, 50)
    c.send(ACK | PSH, d)
    c.snd_nxt += 600
    c.next(1, lambda s: s.ack == c.snd_nxt)
    first = recv_exact(up, 600)
    # an old duplicate (all before RCV.NXT): ACKed at once, not delivered again
    c.send(ACK | PSH, d[:300], seq=c.snd_nxt - 600)
    a = c.next(1, lambda s: True)
    # a segment straddling RCV.NXT: only its new part is delivered
    more = pattern(200, 51)
    c.send(ACK | PSH, d[500:] + more, seq=c.snd_nxt - 100)
    c.snd_nxt += 200
    b = c.next(1, lambda s: s.ack == c.snd_nxt)
    got = recv_exact(up, 200, 1)
    up.settimeout(0.2)
    try:
        extra = up.recv(1000)
    except OSError:
        extra = b""
    ok(first == d and a is not None and a.ack == c.snd_nxt - 200 and not a.data,
       "old duplicate segment: ACKed at once with RCV.NXT (RFC 9293 3.10.7.4 first)", repr(a))
    ok(b is not None and got == more and not extra,
       "segment straddling RCV.NXT: only the 200 new bytes reach upstream, ACK %u" % c.snd_nxt,
       "ack %r, upstream %d+%d bytes" % (b, len(got), len(extra)))
    # no ACK bit: dropped (RFC 9293 3.10.7.4 fifth: "if the ACK bit is off, drop")
    c.send(PSH, b"noack")
    r = c.quiet(0.3)
    up.settimeout(0.2)
    try:
        extra = up.recv(100)
    except OSError:
        extra = b""
    ok(not r and not extra, "data without the ACK bit: dropped, nothing upstream",
       "%r %r" % (r, extra))
    # FIN carried out of order, after a hole; the hole filled: data, EOF, CLOSE_WAIT
    p1, p2 = pattern(300, 52), pattern(300, 53)
    c.send(ACK | PSH | FIN, p2, seq=c.snd_nxt + 300)
    a = c.next(1, lambda s: True)
    f = flow_of(c)
    ok(a is not None and a.ack == c.snd_nxt and f and f.get("state") == "ESTABLISHED",
       "FIN beyond a hole: duplicate ACK, still ESTABLISHED", "%r %r" % (a, f and f["state"]))
    c.send(ACK | PSH, p1)
    c.snd_nxt += 601
    a = c.next(1, lambda s: s.ack == c.snd_nxt)
    got = recv_exact(up, 600, 1)
    ok(a is not None and got == p1 + p2 and upstream_eof(up),
       "hole filled: data and the queued FIN taken together, ACK %u, upstream EOF" % c.snd_nxt,
       "%r, %d bytes" % (a, len(got)))
    state_is(c, "CLOSE_WAIT", "out-of-order FIN → CLOSE_WAIT once in order")
    up.close()
    fin = c.next(1.5, lambda s: s.flags & FIN)
    if fin:
        c.rcv_nxt = (fin.seq + 1) & 0xFFFFFFFF
        c.send(ACK)
    wait_state(c, None)
    srv.close()


def t_fast_retransmit():
    """three duplicate ACKs: the first unacknowledged segment again, before the RTO"""
    srv = Upstream()
    c, up = open_conn(srv, tag="fast retransmit")
    if not c:
        srv.close()
        return
    before = counters()
    up.sendall(pattern(4 * 1448, 60))
    segs = []
    end = time.monotonic() + 1 * SLACK
    while len(segs) < 4 and time.monotonic() < end:
        s = c.next(0.2, lambda s: len(s.data))
        if s:
            segs.append(s)
    if not ok(len(segs) == 4, "fast retransmit: four segments sent in a row", repr(segs)):
        abort(up)
        srv.close()
        return
    # the first is "lost": acknowledge nothing three times (segments 2, 3, 4 arrived)
    t = time.monotonic()
    for i in range(3):
        c.send(ACK, sack=[(segs[1].seq, segs[3].seq + len(segs[3].data))])
    r = c.next(0.15, lambda s: len(s.data))
    after = counters()
    ok(r is not None and r.seq == segs[0].seq and r.t - t < 0.15 and
       delta(before, after, "tcp_fast_retransmits") == 1,
       "three duplicate ACKs: segment %u retransmitted in %.0f ms, before the RTO "
       "(RFC 5681 3.2)" % (segs[0].seq, ((r.t - t) if r else 0) * 1000),
       "%r, +%d" % (r, delta(before, after, "tcp_fast_retransmits")))
    abort(up)
    srv.close()


def t_time_wait_old_syn():
    """a SYN with an old timestamp in TIME_WAIT does not reopen: challenge ACK"""
    srv = Upstream()
    c, _ = t_fin_wait_quiet(srv)
    if not c:
        srv.close()
        return
    old = flow_of(c)
    c.ts = False
    c.send(SYN, seq=c.snd_nxt + 100000, extra=[("mss", 1460), ("ts", 1, 0)])
    a = c.next(1, lambda s: True)
    f = flow_of(c)
    ok(a is not None and a.flags == ACK and a.ack == c.snd_nxt and f and
       f.get("id") == old.get("id") and f.get("state") == "TIME_WAIT",
       "TIME_WAIT: a SYN with an old timestamp gets an ACK, the old flow stays (RFC 6191, "
       "RFC 5961 4.2)", "%r %r" % (a, f))
    srv.close()


def t_retransmit():
    srv = Upstream()
    c, up = open_conn(srv, tag="retransmission")
    if not c:
        srv.close()
        return
    up.sendall(b"X" * 100)
    s1 = c.next(1, lambda s: len(s.data))
    s2 = c.next(3, lambda s: len(s.data)) if s1 else None
    ok(s1 is not None and s2 is not None and s1.seq == s2.seq and s1.data == s2.data,
       "no ACK: the data segment is retransmitted with the same seq and bytes (RFC 6298 5.4)",
       "%r / %r" % (s1, s2))
    if s1 and s2:
        gap = s2.t - s1.t
        ok(0.18 <= gap <= 1.5 * SLACK, "first retransmission after RTO %.0f ms (min 200 ms, "
           "RFC 6298 2.4)" % (gap * 1000))
    s3 = c.next(3, lambda s: len(s.data)) if s2 else None
    if s1 and s2 and s3:
        g1, g2 = s2.t - s1.t, s3.t - s2.t
        ok(s3.seq == s1.seq and g2 >= 1.6 * g1,
           "second retransmission backs off: %.0f ms then %.0f ms (RFC 6298 5.5)"
           % (g1 * 1000, g2 * 1000))
    f = flow_of(c)
    rtx = ((f or {}).get("tcp") or {}).get("retransmits", 0)
    ok(rtx >= 2, "flow JSON counts the retransmissions (%d)" % rtx, repr(f))
    c.rcv_nxt = (s1.seq + 100) & 0xFFFFFFFF if s1 else c.rcv_nxt
    c.send(ACK)
    more = c.quiet(0.8, lambda s: len(s.data))
    ok(not more, "once ACKed, no more retransmissions", repr(more))
    abort(up)
    srv.close()


def main():
    global W
    W = Wire()
    if not ok(W.arp() is not None, "ARP: the gateway 10.0.2.2 answers with its MAC"):
        return
    note("gateway MAC %s" % W.gw_mac.hex(":"))
    t_handshake_options()
    t_handshake_plain()
    t_mss_small()
    t_fin_wait()
    t_closing()
    t_half_close()
    t_refused()
    t_data_ooo()
    t_rfc5961()
    t_checksum_and_noflow()
    t_retransmit()
    t_synrcvd()
    t_window()
    t_misc_established()
    t_time_wait_reuse()
    t_segments()
    t_fast_retransmit()
    t_time_wait_old_syn()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash is a failed check, with its trace
        import traceback
        traceback.print_exc()
        ok(False, "rawpeer.py ran to the end", repr(e))
    print("# rawpeer: %d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)
