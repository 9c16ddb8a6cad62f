#!/bin/bash
# tests/integration/test_ipv6.sh - IPv6 for the container (issue 13), with the container's own
# kernel as the peer: its address fd00::100/64 and default route set over netlink at attach,
# router advertisements (SLAAC from the advertised prefix), neighbour discovery for the
# gateway fd00::2, ICMPv6 echo to the gateway answered by the stack (also 3000 bytes at MTU
# 1500: fragments both ways), the IPv6 counters in `tapirctl stats`; TCP to a host server on
# ::1 through fd00::2 (curl -6, a bulk transfer each way byte-exact, half-close), the flow
# shown as [addr]:port; UDP to ::1 through fd00::2; DNS through fd00::3 to a test resolver on
# ::1 (tapird --dns-upstream [::1]:PORT), AAAA over IPv6 and A over IPv4; a forward from
# [::1]:PORT into the container over IPv6 (the client seen as the gateway fd00::2).
# BULK_MB (default 64, QUICK=1: 4) sets the bulk transfer's size each way.
#
# Namespaces of our own only (tv6-*); traffic only inside them and to ::1.
#   bash tests/integration/test_ipv6.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSC=tv6-c-$$
WORK=$(mktemp -d /tmp/tv6-ipv6-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup_on_exit "$NSC"

# received OUTPUT: the "N received" of ping(8)'s summary
received() { printf '%s\n' "$1" | grep -o '[0-9]* received' | grep -o '[0-9]*'; }

if [ "${QUICK:-0}" = 1 ]; then BULK_MB=${BULK_MB:-4}; else BULK_MB=${BULK_MB:-64}; fi

# --- host-side servers on ::1: TCP (PUT: read to EOF, answer the SHA-256 after the client's
# FIN; GET N: N pattern bytes), an HTTP file, UDP echo, and a DNS resolver ---------------------
cat >"$WORK/srv.py" <<'PYEOF'
import hashlib, os, socket, struct, sys, threading, http.server, functools
tport, uport, dport, hport, root = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def pattern(n):
    block = bytes((i * 7 + (i >> 8)) & 0xff for i in range(65536))
    while n > 0:
        yield block[:min(n, len(block))]
        n -= len(block)
def tcp_client(c):
    with c:
        line = b""
        while not line.endswith(b"\n"):
            x = c.recv(1)
            if not x:
                return
            line += x
        cmd, n = line.split()
        if cmd == b"PUT":
            h, got = hashlib.sha256(), 0
            while True:
                x = c.recv(1 << 20)
                if not x:
                    break
                h.update(x); got += len(x)
            c.sendall(b"%d %s\n" % (got, h.hexdigest().encode()))
        else:
            for b in pattern(int(n)):
                c.sendall(b)
def tcp_server(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()
def udp_echo(s):
    while True:
        d, a = s.recvfrom(65535); s.sendto(b"echo:" + d, a)
def dns(s):
    while True:
        q, a = s.recvfrom(4096)
        qid, = struct.unpack("!H", q[:2]); i = 12
        while q[i]:
            i += 1 + q[i]
        qtype, = struct.unpack("!H", q[i + 1:i + 3]); qs = q[12:i + 5]
        rdata = socket.inet_pton(socket.AF_INET6, "fd00::beef") if qtype == 28 else socket.inet_aton("192.0.2.7")
        ans = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qs + ans, a)
class H(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
# every socket bound before "ready", so that nothing connects too early
t = socket.socket(socket.AF_INET6); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("::1", tport)); t.listen(16)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", uport))
d = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); d.bind(("::1", dport))
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
h = H(("::1", hport), handler)
for f, a in ((tcp_server, t), (udp_echo, u), (dns, d)):
    threading.Thread(target=f, args=(a,), daemon=True).start()
threading.Thread(target=h.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PYEOF
TPORT=$(free_port); UPORT=$((TPORT + 1)); DPORT=$((TPORT + 2)); HPORT=$((TPORT + 3))
FPORT=$((TPORT + 4)) # the forward's host port on [::1]
mkdir -p "$WORK/www" && head -c 300000 /dev/urandom >"$WORK/www/f.bin"
"$PY" "$WORK/srv.py" $TPORT $UPORT $DPORT $HPORT "$WORK/www" >"$WORK/srv.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do grep -q ready "$WORK/srv.log" 2>/dev/null && break; sleep 0.1; done

ip netns add "$NSC" || { notok "namespace $NSC"; finish; }
ip -n "$NSC" link set lo up

ns_with_tapird "$NSC" "$SOCK" "$LOG" --mtu 1500 --log-level warn \
	--dns-upstream "[::1]:$DPORT" -t "[::1]:$FPORT:8080" ${TAPIRD_ARGS:-} &&
	wait_tap_addr "$NSC" fd00::100
TPID=$TAPIRD_PID
if ! ip -n "$NSC" -6 -br addr show tap0 2>/dev/null | grep -q 'fd00::100/64'; then
	notok "tapird attaches to $NSC with fd00::100/64 (log: $(tail -5 "$LOG"))"
	finish
fi
ok "tap0 in $NSC has fd00::100/64: $(ip -n "$NSC" -6 -br addr show tap0 | tr -s ' ')"

route=$(ip -n "$NSC" -6 route show default)
if printf '%s' "$route" | grep -q 'via fe80::74:61ff:fe70:6972 dev tap0 metric 2048'; then
	ok "IPv6 default route via tapird's link-local: $route"
else
	notok "IPv6 default route: '$route'"
fi

# (a) ping the gateway: neighbour discovery for fd00::2, then echo answered by the stack
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 3 -i 0.3 -W 2 fd00::2 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 3 ] && [ "$(counter "$SOCK" ndp_neighbor_adverts)" -ge 1 ] &&
	[ "$(counter "$SOCK" icmp6_echo_replies)" -ge 3 ]; then
	ok "(a) ping -6 fd00::2: $n of 3 answered; NAs $(counter "$SOCK" ndp_neighbor_adverts), replies $(counter "$SOCK" icmp6_echo_replies)"
else
	notok "(a) ping -6 fd00::2: received ${n:-0} of 3: $(printf '%s' "$out" | tail -2)"
fi
nb=$(ip -n "$NSC" -6 neigh show fd00::2 dev tap0)
if printf '%s' "$nb" | grep -q '02:74:61:70:69:72'; then
	ok "(a) the container's neighbour entry for fd00::2: $nb"
else
	notok "(a) neighbour entry for fd00::2: '$nb'"
fi

# (b) 3000 bytes at MTU 1500: the container fragments, tapird reassembles, answers in fragments
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 2 -i 0.3 -W 2 -s 3000 fd00::2 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 2 ] && [ "$(counter "$SOCK" ip6_frag_reassembled)" -ge 2 ]; then
	ok "(b) ping -6 -s 3000 fd00::2 at MTU 1500 (fragments both ways): $n of 2; reassembled $(counter "$SOCK" ip6_frag_reassembled)"
else
	notok "(b) ping -6 -s 3000 fd00::2: received ${n:-0} of 2, reassembled $(counter "$SOCK" ip6_frag_reassembled): $(printf '%s' "$out" | tail -2)"
fi

# (c) router advertisements: the container took an address from the prefix by SLAAC (its
# interface identifier from its MAC), and the link MTU from the MTU option
slaac=
# (once duplicate address detection is over: a tentative address cannot be bound, ~1 s)
for i in $(seq 100); do
	slaac=$(ip -n "$NSC" -6 addr show dev tap0 scope global dynamic -tentative 2>/dev/null |
		grep -o 'fd00::[0-9a-f:]*/64' | head -1)
	[ -n "$slaac" ] && break
	sleep 0.1
done
if [ -n "$slaac" ] && [ "$(counter "$SOCK" ndp_router_adverts)" -ge 1 ]; then
	ok "(c) SLAAC address from the advertised prefix: $slaac (RAs sent: $(counter "$SOCK" ndp_router_adverts))"
else
	notok "(c) no SLAAC address on tap0 (RAs sent: $(counter "$SOCK" ndp_router_adverts)): $(ip -n "$NSC" -6 addr show dev tap0 | tr -s ' ')"
fi
if [ -n "$slaac" ]; then
	out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 2 -i 0.3 -W 2 -I "${slaac%/64}" fd00::3 2>&1)
	n=$(received "$out")
	if [ "${n:-0}" = 2 ]; then
		ok "(c) ping -6 fd00::3 from the SLAAC address: $n of 2"
	else
		notok "(c) ping -6 fd00::3 from ${slaac%/64}: ${n:-0} of 2: $(printf '%s' "$out" | tail -2)"
	fi
fi

# (e) TCP through fd00::2 to the host's ::1: curl -6 fetches a file byte-exact
if [ -x /usr/bin/curl ]; then
	if timeout 30 ip netns exec "$NSC" /usr/bin/curl -6 -s -o "$WORK/got.bin" \
		"http://[fd00::2]:$HPORT/f.bin" && cmp -s "$WORK/got.bin" "$WORK/www/f.bin"; then
		ok "(e) curl -6 http://[fd00::2]:$HPORT/f.bin: 300000 bytes, byte-exact"
	else
		notok "(e) curl -6 through fd00::2: $(ls -l "$WORK/got.bin" 2>&1)"
	fi
else
	skip "(e) curl not installed (tests/deps.sh installs it)"
fi

# (f) bulk each way, byte-exact, and half-close: PUT sends, shuts down its side, and reads the
# server's digest, which the server sends only after our FIN; GET reads N pattern bytes
cat >"$WORK/cli.py" <<'PYEOF'
import hashlib, socket, sys
host, port, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
block = bytes((i * 7 + (i >> 8)) & 0xff for i in range(65536))
def pattern_hash(n):
    h = hashlib.sha256()
    while n > 0:
        h.update(block[:min(n, len(block))]); n -= len(block)
    return h.hexdigest()
s = socket.create_connection((host, port), timeout=30)
if mode == "PUT":
    s.sendall(b"PUT %d\n" % n); left = n
    while left > 0:
        b = block[:min(left, len(block))]; s.sendall(b); left -= len(b)
    s.shutdown(socket.SHUT_WR)
    r = b""
    while not r.endswith(b"\n"):
        x = s.recv(100)
        if not x:
            break
        r += x
    got, digest = r.split()
    ok = int(got) == n and digest.decode() == pattern_hash(n)
    print("PUT", int(got), "ok" if ok else "MISMATCH")
else:
    s.sendall(b"GET %d\n" % n); h, got = hashlib.sha256(), 0
    while True:
        x = s.recv(1 << 20)
        if not x:
            break
        h.update(x); got += len(x)
    ok = got == n and h.hexdigest() == pattern_hash(n)
    print("GET", got, "ok" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
PYEOF
N=$((BULK_MB * 1048576))
out=$(timeout 120 ip netns exec "$NSC" "$PY" "$WORK/cli.py" fd00::2 $TPORT PUT $N 2>&1)
check "(f) $BULK_MB MiB container -> host over IPv6, then half-close: the digest comes back after our FIN ($out)" \
	test "$out" = "PUT $N ok"
out=$(timeout 120 ip netns exec "$NSC" "$PY" "$WORK/cli.py" fd00::2 $TPORT GET $N 2>&1)
check "(f) $BULK_MB MiB host -> container over IPv6, byte-exact ($out)" test "$out" = "GET $N ok"
conns=$("$TAPIRCTL" -s "$SOCK" conns --all 2>&1)
if printf '%s' "$conns" | grep -q "\[fd00::2\]:$TPORT .*\[::1\]:$TPORT" &&
	printf '%s' "$conns" | grep -q '\[fd00::[0-9a-f:]*\]:[0-9]'; then
	ok "(f) tapirctl conns shows [addr]:port: $(printf '%s' "$conns" | grep -m1 "\[fd00::2\]:$TPORT" | tr -s ' ')"
else
	notok "(f) tapirctl conns: $(printf '%s' "$conns" | head -4)"
fi

# (g) UDP through fd00::2 to ::1, and DNS through fd00::3 to the test resolver on ::1
out=$(timeout 20 ip netns exec "$NSC" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"ping6", ("fd00::2", int(sys.argv[1]))); print(s.recv(100).decode())' $UPORT 2>&1)
check "(g) UDP to [fd00::2]:$UPORT reaches [::1]:$UPORT and back ($out)" test "$out" = "echo:ping6"
cat >"$WORK/dnsq.py" <<'PYEOF'
import socket, struct, sys
server, qtype = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(3)
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x04test\x05tapir\x00" + struct.pack("!HH", qtype, 1)
s.sendto(q, (server, 53)); r = s.recv(512)
assert r[:2] == b"\x42\x42" and r[3] & 0xf == 0
rdata = r[-16:] if qtype == 28 else r[-4:]
print(socket.inet_ntop(socket.AF_INET6 if qtype == 28 else socket.AF_INET, rdata))
PYEOF
out=$(timeout 20 ip netns exec "$NSC" "$PY" "$WORK/dnsq.py" fd00::3 28 2>&1)
check "(g) DNS AAAA through fd00::3 to the resolver on [::1]:$DPORT: $out" test "$out" = "fd00::beef"
out=$(timeout 20 ip netns exec "$NSC" "$PY" "$WORK/dnsq.py" 10.0.2.3 1 2>&1)
check "(g) DNS A through 10.0.2.3 to the same IPv6 resolver: $out" test "$out" = "192.0.2.7"

# (h) a forward from [::1]:FPORT into the container over IPv6: the container's server sees the
# gateway fd00::2 as the client (a client on the host's ::1), and the bytes go both ways
ip netns exec "$NSC" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8080)); s.listen(4); print("ready", flush=True)
c, a = s.accept(); d = c.recv(100); c.sendall(a[0].encode() + b" " + d); c.close()' \
	>"$WORK/csrv.log" 2>&1 &
CSPID=$!
for i in $(seq 50); do grep -q ready "$WORK/csrv.log" 2>/dev/null && break; sleep 0.1; done
out=$(timeout 20 "$PY" -c '
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5); s.sendall(b"hi6")
print(s.recv(200).decode())' $FPORT 2>&1)
kill $CSPID 2>/dev/null
wait $CSPID 2>/dev/null
check "(h) forward [::1]:$FPORT -> [fd00::100]:8080 over IPv6, the client seen as fd00::2 ($out)" \
	test "$out" = "fd00::2 hi6"

# (d) the counters are in `tapirctl stats` and the drops of IPv6 are named there
st=$("$TAPIRCTL" -s "$SOCK" stats 2>&1)
if printf '%s' "$st" | grep -q ip6_chain_too_long &&
	printf '%s' "$st" | grep -q ip6_rh0; then
	ok "(d) tapirctl stats lists the IPv6 drop counters"
else
	notok "(d) tapirctl stats: $(printf '%s' "$st" | head -3)"
fi

# tapird survived, exits 0 on SIGTERM, no sanitizer report
if kill -0 $TPID 2>/dev/null; then
	kill $TPID
	wait $TPID
	rc=$?
	TPID=
	check "tapird exits 0 on SIGTERM (rc $rc)" test $rc = 0
else
	notok "tapird died: $(tail -5 "$LOG")"
	TPID=
fi
if grep -q 'Sanitizer\|runtime error' "$LOG"; then
	notok "sanitizer report in the log: $(grep -m3 'Sanitizer\|runtime error' "$LOG")"
else
	ok "no sanitizer report in tapird's log"
fi
finish
