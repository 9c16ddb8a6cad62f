#!/bin/bash
# tests/integration/test_udp.sh - UDP flows, the DNS forwarder and ICMP errors, against real
# kernel peers.
#
# A namespace of our own ("the container") gets tapird on tap0; a UDP echo server and a tiny
# DNS resolver listen on the host's 127.0.0.1 (the container reaches the first as 10.0.2.2,
# the second as 10.0.2.3:53 through --dns-upstream). Checks:
#   (a) UDP echo through the gateway at 1, 1400, 9000, 32000 and 60000 bytes, content exact
#   (b) a DNS query to 10.0.2.3 answered by the test's resolver: id and address checked
#   (b2) DNS over TCP to 10.0.2.3:53 relayed to the same resolver, 2-byte length prefixes;
#   (b3) that flow listed with the resolver as upstream; (b4) TCP to 10.0.2.3:80 refused
#   (c) a closed host port: a connected UDP socket in the container gets ECONNREFUSED
#   (d) `tapirctl conns --proto udp` lists the flows (container, peer, upstream, state)
#   (e) many flows, each answered, expire with a 2 s timeout (from a config file): the
#       count of `tapirctl --json conns --proto udp` goes from N to 0
#   (f) MTU 1500 (a second namespace): replies of 9000 and 60000 bytes reach the container
#       as IPv4 fragments, reassembled by its kernel, content exact; (f2) the container's own
#       9000- and 60000-byte datagrams, which it fragments, reassembled by tapird, echoed
#       back intact, counted in ip_frag_reassembled
#   (g) --no-host-loopback (a third namespace): the gateway answers ICMP port unreachable
#   (h) the second link bounded at 20 UDP flows: 60 new flows evict the oldest, counted, and
#       the evicted flows' host sockets are closed
#   and: every tapird survived and its log has no sanitizer report.
#
#   bash tests/integration/test_udp.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
# Traffic goes only to 127.0.0.1 and to the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"
MANY_N=${MANY_N:-50}

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY"

NS=tapir-udp-$$
NS2=tapir-udp-mtu-$$
NS3=tapir-udp-nl-$$
WORK=$(mktemp -d /tmp/tapir-udp-$$.XXXXXX)
tpids=()
cleanup_on_exit "$NS" "$NS2" "$NS3"

# --- helpers in Python: servers on the host, clients in the container -----------------------

# echo server: "BIG n" asks for n bytes of a fixed pattern; anything else comes back as is
cat >"$WORK/echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    d, a = s.recvfrom(65535)
    if d.startswith(b"BIG "):
        n = int(d[4:])
        d = bytes((i * 7 + 3) % 256 for i in range(n))
    s.sendto(d, a)
EOF

# DNS resolver on one port for UDP and TCP: answers every query with one A record 192.0.2.1
# (RFC 5737 TEST-NET-1, only a field in the answer; 192.0.2.2 over TCP, to tell them apart),
# echoing the id and the question. Over TCP each message has a 2-byte length prefix (RFC 1035
# 4.2.2, RFC 7766 8); a connection may carry several queries.
cat >"$WORK/dns.py" <<'EOF'
import select, socket, struct
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", u.getsockname()[1]))
        break
    except OSError:
        u.close(); t.close()
t.listen(8)
print(u.getsockname()[1], flush=True)

def answer(q, addr):
    if len(q) < 12:
        return None
    i = 12
    while i < len(q) and q[i]:
        i += q[i] + 1
    question = q[12:i + 5]
    hdr = q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
    return hdr + question + struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr)

def recvn(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b

while True:
    r, _, _ = select.select([u, t], [], [])
    if u in r:
        q, a = u.recvfrom(4096)
        m = answer(q, "192.0.2.1")
        if m:
            u.sendto(m, a)
    if t in r:
        c, _ = t.accept()
        c.settimeout(5)
        try:
            while True:
                h = recvn(c, 2)
                if h is None:
                    break
                q = recvn(c, struct.unpack(">H", h)[0])
                m = answer(q or b"", "192.0.2.2")
                if m is None:
                    break
                c.sendall(struct.pack(">H", len(m)) + m)
        except OSError:
            pass
        c.close()
EOF

cat >"$WORK/client.py" <<'EOF'
import os, socket, struct, sys, time
mode = sys.argv[1]

def conn(addr, port, timeout=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s

def ask(s, data, tries=3):
    # UDP may lose a datagram (the first one waits for ARP): retry a few times
    for _ in range(tries):
        s.send(data)
        try:
            return s.recv(65535)
        except socket.timeout:
            continue
    return None

if mode == "echo":
    port = int(sys.argv[2])
    bad = []
    for n in map(int, sys.argv[3].split(",")):
        d = os.urandom(n)
        r = ask(conn("10.0.2.2", port), d)
        if r != d:
            bad.append("%d bytes: %s" % (n, "no answer" if r is None else "got %d bytes, differ" % len(r)))
    print("; ".join(bad) if bad else "all equal")
    sys.exit(1 if bad else 0)

if mode == "big":
    port = int(sys.argv[2])
    bad = []
    for n in map(int, sys.argv[3].split(",")):
        r = ask(conn("10.0.2.2", port), b"BIG %d" % n)
        want = bytes((i * 7 + 3) % 256 for i in range(n))
        if r != want:
            bad.append("%d bytes: %s" % (n, "no answer" if r is None else "got %d, differ" % len(r)))
    print("; ".join(bad) if bad else "all equal")
    sys.exit(1 if bad else 0)

if mode == "dns":
    qid = struct.unpack(">H", os.urandom(2))[0]
    name = b"".join(bytes([len(l)]) + l for l in b"udp.tapir.test".split(b".")) + b"\0"
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
    r = ask(conn("10.0.2.3", 53), q)
    if r is None:
        print("no answer"); sys.exit(1)
    rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    addr = socket.inet_ntoa(r[-4:])
    print("id %04x (sent %04x) answers %d address %s" % (rid, qid, an, addr))
    sys.exit(0 if rid == qid and an == 1 and addr == "192.0.2.1" else 1)

if mode == "dnstcp":
    # two queries on one connection, each with its 2-byte length prefix (RFC 7766 6.2.1)
    s = socket.create_connection(("10.0.2.3", 53), timeout=5)
    got = []
    for n in range(2):
        qid = struct.unpack(">H", os.urandom(2))[0]
        name = b"".join(bytes([len(l)]) + l for l in b"tcp.tapir.test".split(b".")) + b"\0"
        q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
        s.sendall(struct.pack(">H", len(q)) + q)
        b = b""
        while len(b) < 2 or len(b) < 2 + struct.unpack(">H", b[:2])[0]:
            d = s.recv(4096)
            if not d:
                break
            b += d
        if len(b) < 14:
            print("short answer %r" % b); sys.exit(1)
        r = b[2:]
        rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
        addr = socket.inet_ntoa(r[-4:])
        got.append("id %04x (sent %04x) address %s" % (rid, qid, addr))
        if rid != qid or an != 1 or addr != "192.0.2.2":
            print("; ".join(got)); sys.exit(1)
    print("; ".join(got)); sys.exit(0)

if mode == "tcprefused":
    addr, port = sys.argv[2], int(sys.argv[3])
    try:
        socket.create_connection((addr, port), timeout=5)
        print("connected"); sys.exit(1)
    except ConnectionRefusedError:
        print("ECONNREFUSED"); sys.exit(0)
    except OSError as e:
        print("not refused: %s" % e); sys.exit(1)

if mode == "refused":
    addr, port = sys.argv[2], int(sys.argv[3])
    s = conn(addr, port)
    for _ in range(3):
        s.send(b"anyone?")
        try:
            s.recv(100)
            print("an answer from a closed port"); sys.exit(1)
        except ConnectionRefusedError:
            print("ECONNREFUSED"); sys.exit(0)
        except socket.timeout:
            continue
    print("timeout, no error"); sys.exit(1)

if mode == "many":
    port, n = int(sys.argv[2]), int(sys.argv[3])
    socks = [conn("10.0.2.2", port) for _ in range(n)]
    good = sum(1 for i, s in enumerate(socks) if ask(s, b"flow %d" % i) == b"flow %d" % i)
    print("%d of %d answered" % (good, n))
    sys.exit(0 if good == n else 1)
EOF

# count_flows SOCK PEER: UDP flows to PEER ("10.0.2.2:1234") in `tapirctl --json conns`
count_flows() {
	"$TAPIRCTL" -s "$1" --json conns --proto udp 2>/dev/null | "$PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)
except ValueError:
    print(-1); sys.exit()
flows = r["flows"] if isinstance(r, dict) else r
print(sum(1 for f in flows if f.get("proto") == "udp" and f.get("peer") == sys.argv[1]))' "$2"
}

# start_bg OUT CMD...: a server in the background that prints its port first; sets BG_PORT
start_bg() {
	local out=$1 i
	shift
	timeout 600 "$@" >"$out" 2>&1 &
	pids+=($!)
	for i in $(seq 50); do
		BG_PORT=$(head -1 "$out" 2>/dev/null)
		[ -n "$BG_PORT" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_tapird NS SOCK LOG [ARGS...]: namespace and daemon; waits for tap0 with its address.
# Sets TAPIRD_PID. Return: 0 when the link is up.
start_tapird() {
	local rc
	ns_with_tapird "$1" "$2" "$3" --log-level warn "${@:4}"
	rc=$?
	[ -n "$TAPIRD_PID" ] && tpids+=("$TAPIRD_PID")
	[ $rc = 0 ] && wait_tap_addr "$1"
}

# in_ns NS ARGS...: the client in namespace NS, bounded in time
in_ns() {
	local ns=$1
	shift
	timeout 60 ip netns exec "$ns" "$PY" "$WORK/client.py" "$@"
}

# --- setup --------------------------------------------------------------------------------------
if ! start_bg "$WORK/echo.out" "$PY" "$WORK/echo.py"; then
	notok "echo server starts: $(cat "$WORK/echo.out")"
	finish
fi
EPORT=$BG_PORT
if ! start_bg "$WORK/echo2.out" "$PY" "$WORK/echo.py"; then
	notok "second echo server starts: $(cat "$WORK/echo2.out")"
	finish
fi
MPORT=$BG_PORT
if ! start_bg "$WORK/dns.out" "$PY" "$WORK/dns.py"; then
	notok "resolver starts: $(cat "$WORK/dns.out")"
	finish
fi
DPORT=$BG_PORT
# a port nobody listens on: bound by the kernel's choice, then released
CPORT=$("$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

printf '[udp]\ntimeout = 2\ntimeout-stream = 2\n' >"$WORK/tapird.conf"
SOCK=$WORK/control.sock
if ! start_tapird "$NS" "$SOCK" "$WORK/tapird.log" -c "$WORK/tapird.conf" \
	--dns-upstream "127.0.0.1:$DPORT"; then
	notok "tapird attaches to $NS (log: $(tail -5 "$WORK/tapird.log"))"
	finish
fi
ok "tapird attaches to $NS with a 2 s UDP timeout from $WORK/tapird.conf"
MAIN_PID=$TAPIRD_PID

# (a) echo at every size, content checked
out=$(in_ns "$NS" echo "$EPORT" 1,1400,9000,32000,60000 2>&1)
if [ $? = 0 ]; then
	ok "(a) UDP echo through 10.0.2.2 at 1, 1400, 9000, 32000, 60000 bytes: $out"
else
	notok "(a) UDP echo through 10.0.2.2: $out"
fi

# (d) right after (a): the flows are listed, with the gateway mapped to 127.0.0.1
table=$("$TAPIRCTL" -s "$SOCK" conns --proto udp 2>&1)
n=$(printf '%s\n' "$table" | grep -c "10.0.2.2:$EPORT .*127.0.0.1:$EPORT")
if [ "$n" -ge 5 ] && ! printf '%s\n' "$table" | grep -q tcp; then
	ok "(d) tapirctl conns --proto udp lists the $n echo flows, peer 10.0.2.2:$EPORT, upstream 127.0.0.1:$EPORT"
else
	notok "(d) tapirctl conns --proto udp: $n echo flows listed: $table"
fi
printf '%s\n' "$table" | head -3 | sed 's/^/# /'

# (b) DNS through 10.0.2.3
out=$(in_ns "$NS" dns 2>&1)
if [ $? = 0 ]; then
	ok "(b) DNS query to 10.0.2.3:53 answered by the resolver on 127.0.0.1:$DPORT: $out"
else
	notok "(b) DNS query to 10.0.2.3:53: $out"
fi

# (b2) DNS over TCP through 10.0.2.3:53, relayed to the same resolver (RFC 7766)
out=$(in_ns "$NS" dnstcp 2>&1)
if [ $? = 0 ]; then
	ok "(b2) DNS over TCP to 10.0.2.3:53, two queries on one connection, answered by the resolver's TCP side: $out"
else
	notok "(b2) DNS over TCP to 10.0.2.3:53: $out"
fi
table=$("$TAPIRCTL" -s "$SOCK" conns --all --proto tcp 2>&1)
if printf '%s\n' "$table" | grep -q "10.0.2.3:53 .*127.0.0.1:$DPORT"; then
	ok "(b3) the (closed) TCP DNS flow is listed by conns --all with upstream 127.0.0.1:$DPORT"
else
	notok "(b3) the TCP DNS flow with upstream 127.0.0.1:$DPORT not listed: $table"
fi
out=$(in_ns "$NS" tcprefused 10.0.2.3 80 2>&1)
if [ $? = 0 ]; then
	ok "(b4) TCP to 10.0.2.3:80 (not DNS) is refused: $out"
else
	notok "(b4) TCP to 10.0.2.3:80: $out"
fi

# (c) closed port: ICMP port unreachable from the host's kernel, relayed to the container
out=$(in_ns "$NS" refused 10.0.2.2 "$CPORT" 2>&1)
if [ $? = 0 ]; then
	ok "(c) closed host port 127.0.0.1:$CPORT: connected socket in the container gets $out"
else
	notok "(c) closed host port: $out"
fi

# (e) many flows, then all of them expire
out=$(in_ns "$NS" many "$MPORT" "$MANY_N" 2>&1)
rc=$?
before=$(count_flows "$SOCK" "10.0.2.2:$MPORT")
t0=$(date +%s%N)
after=$before
for i in $(seq 100); do
	after=$(count_flows "$SOCK" "10.0.2.2:$MPORT")
	[ "$after" = 0 ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc = 0 ] && [ "$before" = "$MANY_N" ] && [ "$after" = 0 ]; then
	ok "(e) $MANY_N flows ($out) listed, then all expired, $ms ms after the listing (timeout 2 s)"
else
	notok "(e) many flows: $out; listed $before (want $MANY_N), left after $ms ms: $after"
fi
exp=$("$TAPIRCTL" -s "$SOCK" --json stats 2>/dev/null | grep -o '"flows_closed_timeout": *[0-9]*' | head -1)
echo "# $exp"

# (f) a second link at MTU 1500: large replies arrive as fragments
if start_tapird "$NS2" "$WORK/control2.sock" "$WORK/tapird2.log" --mtu 1500 --max-udp-flows 20
then
	NS2_UP=1
	mtu=$(ip -n "$NS2" -o link show tap0 | grep -o 'mtu [0-9]*')
	out=$(in_ns "$NS2" big "$EPORT" 1000,9000,60000 2>&1)
	if [ $? = 0 ] && [ "$mtu" = "mtu 1500" ]; then
		ok "(f) $mtu: replies of 1000, 9000 and 60000 bytes reassembled in the container: $out"
	else
		notok "(f) $mtu: large replies: $out"
	fi
	out=$(in_ns "$NS2" echo "$EPORT" 1473,9000,60000 2>&1)
	rc=$?
	re=$("$TAPIRCTL" -s "$WORK/control2.sock" --json stats 2>/dev/null |
		grep -o '"ip_frag_reassembled": *[0-9]*' | head -1 | grep -o '[0-9]*$')
	if [ $rc = 0 ] && [ "${re:-0}" -ge 3 ] && [ "$out" = "all equal" ]; then
		ok "(f2) $mtu: the container's datagrams of 1473, 9000 and 60000 bytes, sent as fragments, reassembled by tapird ($re) and echoed intact"
	else
		notok "(f2) $mtu: fragmented datagrams from the container: $out; ip_frag_reassembled ${re:-none}"
	fi
else
	NS2_UP=0
	notok "(f) tapird attaches to $NS2 at MTU 1500 (log: $(tail -5 "$WORK/tapird2.log"))"
fi

# (h) the same link holds at most 20 UDP flows: 60 new 4-tuples evict the oldest, and the
# evicted flows' sockets are closed
if [ "$NS2_UP" = 1 ]; then
	T2=${tpids[${#tpids[@]} - 1]}
	fds0=$(ls /proc/$T2/fd | wc -l)
	out=$(in_ns "$NS2" many "$MPORT" 60 2>&1)
	rc=$?
	n=$(count_flows "$WORK/control2.sock" "10.0.2.2:$MPORT")
	ev=$(counter "$WORK/control2.sock" flows_closed_evicted)
	fds1=$(ls /proc/$T2/fd | wc -l)
	if [ $rc = 0 ] && [ "$n" = 20 ] && [ "$ev" -ge 40 ] 2>/dev/null && [ $((fds1 - fds0)) -le 21 ]; then
		ok "(h) --max-udp-flows 20: 60 flows ($out), 20 kept, $ev evicted, tapird fds $fds0 -> $fds1"
	else
		notok "(h) --max-udp-flows 20: $out; kept $n (want 20), evicted $ev (want >= 40), fds $fds0 -> $fds1"
	fi
fi

# (g) a third link without host loopback: the gateway refuses, even with the server there
if start_tapird "$NS3" "$WORK/control3.sock" "$WORK/tapird3.log" --no-host-loopback; then
	out=$(in_ns "$NS3" refused 10.0.2.2 "$EPORT" 2>&1)
	if [ $? = 0 ]; then
		ok "(g) --no-host-loopback: 10.0.2.2:$EPORT answers port unreachable: $out"
	else
		notok "(g) --no-host-loopback: $out"
	fi
else
	notok "(g) tapird attaches to $NS3 (log: $(tail -5 "$WORK/tapird3.log"))"
fi

# every daemon alive; stopped, each exits cleanly with no sanitizer report (leaks included)
alive=1
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || alive=0; done
clean=1
for p in "${tpids[@]}"; do
	kill -TERM "$p" 2>/dev/null
	wait "$p" || clean=0
done
if [ $alive = 1 ] && [ $clean = 1 ] && ! grep -qE 'Sanitizer|runtime error' "$WORK"/tapird*.log; then
	ok "every tapird and server stayed alive; each tapird exits 0 on SIGTERM; no sanitizer report"
else
	notok "alive $alive, clean exits $clean: $(grep -hE 'Sanitizer|runtime error|ERROR' "$WORK"/tapird*.log | head -5)"
fi
finish
