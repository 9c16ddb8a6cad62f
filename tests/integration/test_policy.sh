#!/bin/bash
# tests/integration/test_policy.sh - what a container may reach, and what it may hold (issue 14,
# findings 4 and 5), against real kernel peers.
#
# Everything runs inside namespaces this script creates: a "host" namespace (tpo-h-PID) where
# tapird itself runs, with its loopback, an address of its own (192.0.2.1, for
# deny-host-addresses) and a veth to a "metadata" namespace (tpo-md-PID) that holds
# 169.254.169.254, as a cloud's metadata service would; two containers (tpo-a-PID, tpo-b-PID)
# attached as links "a" (locked down) and "b" (slirp4netns's defaults). Checks:
#   (a) b reaches 169.254.169.254 (the default is slirp4netns's), a is refused at once (RST:
#       ECONNREFUSED) and its UDP gets ICMP administratively prohibited (EHOSTUNREACH);
#       drop_policy_denied counts both; the log names link, destination and rule
#   (b) deny-host-addresses: a cannot reach the host's own 192.0.2.1, b can
#   (c) a deny rule on a gateway port: RST, counted; another port still works
#   (d) a run-time deny added (tapirctl policy add), listed, then removed
#   (e) idle timeout: an ESTABLISHED connection silent for 2 s is reset both ways
#   (f) per-destination cap: the 4th concurrent connection to one ADDRESS:PORT is refused
#   (g) max-socket-memory below one socket's autotuning maximum: new sockets are shrunk, counted
#   and: tapird survived everything and its log has no sanitizer report.
#
#   bash tests/integration/test_policy.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to addresses inside the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices, veth"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"

HNS=tpo-h-$$
MNS=tpo-md-$$
ANS=tpo-a-$$
BNS=tpo-b-$$
VETH=tpo-v$$
WORK=$(mktemp -d /tmp/tpo-policy-$$.XXXXXX)
SOCK=$WORK/ctl.sock
LOG=$WORK/tapird.log
cleanup_on_exit "$ANS" "$BNS" "$MNS" "$HNS"

# The peers: servers in the host and metadata namespaces, clients in the containers.
cat >"$WORK/peer.py" <<'EOF'
import errno, socket, sys, threading, time

def serve(port):
    """TCP echo on every address of the namespace, and a UDP echo, until killed."""
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port))
    t.listen(64)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", port))
    def udp():
        while True:
            d, a = u.recvfrom(2048)
            u.sendto(d, a)
    def conn(c):
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d)
        except OSError as e:
            print("server-conn", errno.errorcode.get(e.errno, e.errno), flush=True)
        c.close()
    threading.Thread(target=udp, daemon=True).start()
    print("listening", flush=True)
    while True:
        c, _ = t.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()

def name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__

def tcp(addr, port):
    """connect, echo one line: prints ok or the errno's name"""
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((addr, port))
        s.sendall(b"ping\n")
        print("ok" if s.recv(16) == b"ping\n" else "bad-echo")
    except OSError as e:
        print(name(e))

def udp(addr, port):
    """one datagram, wait for the echo or an error: ok or the errno's name"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((addr, port))
    try:
        s.send(b"ping")
        print("ok" if s.recv(16) == b"ping" else "bad-echo")
    except OSError as e:
        print(name(e))

def idle(addr, port, wait):
    """connect, echo, stay silent @wait seconds, then try again: what the socket says"""
    s = socket.socket()
    s.settimeout(5)
    s.connect((addr, port))
    s.sendall(b"ping\n")
    s.recv(16)
    time.sleep(wait)
    try:
        s.sendall(b"ping\n")
        d = s.recv(16)
        print("ok" if d == b"ping\n" else "eof" if not d else "bad-echo")
    except OSError as e:
        print(name(e))

def hold(addr, port, n, close_then):
    """open @n connections at once, print each result; then close the first and try once
    more (if close_then)"""
    socks, out = [], []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((addr, port))
            s.sendall(b"x\n")
            s.recv(4)
            out.append("ok")
            socks.append(s)
        except OSError as e:
            out.append(name(e))
    if close_then and socks:
        socks.pop(0).close()
        time.sleep(0.5)
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((addr, port))
            s.sendall(b"x\n")
            s.recv(4)
            out.append("ok")
        except OSError as e:
            out.append(name(e))
    print(" ".join(out))

cmd = sys.argv[1]
if cmd == "serve":
    serve(int(sys.argv[2]))
elif cmd == "tcp":
    tcp(sys.argv[2], int(sys.argv[3]))
elif cmd == "udp":
    udp(sys.argv[2], int(sys.argv[3]))
elif cmd == "idle":
    idle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif cmd == "hold":
    hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1")
EOF

# serve NS PORT: an echo server in namespace NS; waits until it listens
serve() {
	local i out=$WORK/srv-$1-$2.out
	ip netns exec "$1" timeout 120 "$PY" "$WORK/peer.py" serve "$2" >"$out" 2>&1 &
	pids+=($!)
	for i in $(seq 50); do
		grep -q listening "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# client NS ARGS...: run the peer in a container
client() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 30 "$PY" "$WORK/peer.py" "$@" 2>&1
}

# --- the namespaces --------------------------------------------------------------------------
ip netns add "$HNS" && ip netns add "$MNS" && ip netns add "$ANS" && ip netns add "$BNS" || {
	notok "namespaces not created"
	finish
}
ip -n "$HNS" link set lo up
ip -n "$HNS" link add "$VETH" type veth peer name tpo-md netns "$MNS"
ip -n "$HNS" addr add 169.254.169.1/24 dev "$VETH"
ip -n "$HNS" addr add 192.0.2.1/32 dev "$VETH"
ip -n "$HNS" link set "$VETH" up
ip -n "$MNS" link set lo up
ip -n "$MNS" addr add 169.254.169.254/24 dev tpo-md
ip -n "$MNS" link set tpo-md up

serve "$MNS" 80 || notok "metadata server did not start"
serve "$HNS" 8080 || notok "host server did not start"

cat >"$WORK/tapird.conf" <<EOF
[tcp]
idle-timeout = 2
max-per-destination = 3
max-socket-memory = 1

[link a]
netns = $ANS
deny-link-local = yes
deny-host-addresses = yes
deny = 10.0.2.2/32:8081 tcp

[link b]
netns = $BNS
EOF
ip netns exec "$HNS" "$TAPIRD" -f -c "$WORK/tapird.conf" --control "$SOCK" --log-level info \
	>"$LOG" 2>&1 &
TAPIRD_PID=$!
pids+=($TAPIRD_PID)
for i in $(seq 100); do
	[ -S "$SOCK" ] && ip -n "$ANS" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 &&
		ip -n "$BNS" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 && break
	sleep 0.1
done
if ! kill -0 $TAPIRD_PID 2>/dev/null || [ ! -S "$SOCK" ]; then
	notok "tapird did not start: $(tail -5 "$LOG")"
	finish
fi
serve "$HNS" 8081 || notok "host server 8081 did not start"
serve "$HNS" 8082 || notok "host server 8082 did not start"
serve "$HNS" 8083 || notok "host server 8083 did not start"

# --- (a) link-local ---------------------------------------------------------------------------
out=$(client "$BNS" tcp 169.254.169.254 80)
check "(a) b (defaults) reaches 169.254.169.254:80 [$out]" [ "$out" = ok ]
t0=$(date +%s%N)
out=$(client "$ANS" tcp 169.254.169.254 80)
ms=$((($(date +%s%N) - t0) / 1000000))
check "(a) a (deny-link-local) is refused with RST at once [$out, ${ms} ms]" \
	[ "$out" = ECONNREFUSED -a $ms -lt 3000 ]
out=$(client "$ANS" udp 169.254.169.254 80)
check "(a) a's UDP to 169.254.169.254 gets ICMP admin prohibited [$out]" [ "$out" = EHOSTUNREACH ]
out=$(client "$BNS" udp 169.254.169.254 80)
check "(a) b's UDP to 169.254.169.254 is echoed [$out]" [ "$out" = ok ]
n=$(counter "$SOCK" drop_policy_denied a)
check "(a) drop_policy_denied counts both [$n]" [ "$n" -ge 2 ]
n=$(counter "$SOCK" drop_policy_denied b)
check "(a) b's drop_policy_denied stays 0 [$n]" [ "$n" = 0 ]
check "(a) the log names link, destination and rule" \
	grep -q "a: TCP to 169.254.169.254:80 denied by policy (deny-link-local)" "$LOG"

# --- (b) the host's own addresses --------------------------------------------------------------
out=$(client "$ANS" tcp 192.0.2.1 8080)
check "(b) a (deny-host-addresses) cannot reach the host's 192.0.2.1 [$out]" \
	[ "$out" = ECONNREFUSED ]
out=$(client "$BNS" tcp 192.0.2.1 8080)
check "(b) b reaches the host's 192.0.2.1 [$out]" [ "$out" = ok ]
# an address the host gains after start is denied within POLICY_HOST_REFRESH_MS (1 s)
ip -n "$HNS" addr add 192.0.2.9/32 dev "$VETH"
sleep 1.2
out=$(client "$ANS" tcp 192.0.2.9 8080)
check "(b) an address added at run time is denied too [$out]" [ "$out" = ECONNREFUSED ]

# --- (c) a denied port on the gateway ----------------------------------------------------------
before=$(counter "$SOCK" drop_policy_denied a)
out=$(client "$ANS" tcp 10.0.2.2 8081)
after=$(counter "$SOCK" drop_policy_denied a)
check "(c) a's deny 10.0.2.2/32:8081: RST [$out]" [ "$out" = ECONNREFUSED ]
check "(c) drop_policy_denied moved [$before -> $after]" [ "$after" = $((before + 1)) ]
out=$(client "$ANS" tcp 10.0.2.2 8080)
check "(c) another gateway port still works [$out]" [ "$out" = ok ]
out=$(client "$BNS" tcp 10.0.2.2 8081)
check "(c) b is not bound by a's rule [$out]" [ "$out" = ok ]
n=$(counter "$SOCK" drop_policy_denied a)
"$TAPIRCTL" -s "$SOCK" stats --link a >"$WORK/stats.txt" 2>&1
check "(c) tapirctl stats shows the drop by reason [policy_denied $n]" \
	grep -qE "^ +policy_denied +$n\$" "$WORK/stats.txt"

# --- (d) a run-time deny ----------------------------------------------------------------------
out=$("$TAPIRCTL" -s "$SOCK" policy add --link b 10.0.2.2/32:8082 2>&1)
check "(d) policy add b 10.0.2.2/32:8082 [$out]" [ $? = 0 ]
out=$("$TAPIRCTL" -s "$SOCK" policy list 2>&1)
check "(d) policy list shows it" grep -q "10.0.2.2/32:8082 any" <<<"$out"
out=$(client "$BNS" tcp 10.0.2.2 8082)
check "(d) b is refused now [$out]" [ "$out" = ECONNREFUSED ]
out=$("$TAPIRCTL" -s "$SOCK" policy remove --link b 10.0.2.2/32:8082 2>&1)
check "(d) policy remove [$out]" [ $? = 0 ]
out=$(client "$BNS" tcp 10.0.2.2 8082)
check "(d) b reaches it again [$out]" [ "$out" = ok ]
out=$("$TAPIRCTL" -s "$SOCK" policy add --link b 10.0.2.2/33 2>&1)
check "(d) a bad rule is refused with a reason [$out]" grep -q "prefix length" <<<"$out"
out=$("$TAPIRCTL" -s "$SOCK" policy add --link nosuchlink 10.0.0.0/8 2>&1)
check "(d) an unknown link is named [$out]" grep -q "nosuchlink" <<<"$out"

out=$("$TAPIRCTL" -s "$SOCK" policy set --link b deny-link-local yes 2>&1)
check "(d) policy set --link b deny-link-local yes [$out]" [ $? = 0 ]
out=$(client "$BNS" tcp 169.254.169.254 80)
check "(d) b is refused 169.254.169.254 now [$out]" [ "$out" = ECONNREFUSED ]
"$TAPIRCTL" -s "$SOCK" policy set --link b deny-link-local no >/dev/null 2>&1
out=$(client "$BNS" tcp 169.254.169.254 80)
check "(d) and reaches it again after 'no' [$out]" [ "$out" = ok ]

# --- (e) idle timeout --------------------------------------------------------------------------
before=$(counter "$SOCK" tcp_idle_timeout b)
out=$(client "$BNS" idle 10.0.2.2 8080 4)
after=$(counter "$SOCK" tcp_idle_timeout b)
check "(e) a connection idle 4 s (idle-timeout 2) is reset [$out]" [ "$out" = ECONNRESET ]
check "(e) tcp_idle_timeout moved [$before -> $after]" [ "$after" = $((before + 1)) ]
check "(e) the upstream server's side was reset too" \
	grep -q "server-conn ECONNRESET" "$WORK/srv-$HNS-8080.out"
out=$(client "$BNS" idle 10.0.2.2 8080 1)
check "(e) a connection idle 1 s lives on [$out]" [ "$out" = ok ]

# --- (f) per-destination cap -------------------------------------------------------------------
before=$(counter "$SOCK" drop_tcp_per_destination b)
out=$(client "$BNS" hold 10.0.2.2 8083 4 1)
after=$(counter "$SOCK" drop_tcp_per_destination b)
check "(f) 3 held, the 4th refused, one closed lets the next in [$out]" \
	[ "$out" = "ok ok ok ECONNREFUSED ok" ]
check "(f) drop_tcp_per_destination moved [$before -> $after]" [ "$after" = $((before + 1)) ]
check "(f) the log says why" grep -q "b: TCP to 127.0.0.1:8083 refused: 3 connections" "$LOG"

# --- (g) socket memory: max-socket-memory = 1 (MiB) is less than one autotuned socket may take
n=$(counter "$SOCK" tcp_sockbuf_capped b)
check "(g) tcp_sockbuf_capped counts the shrunk sockets [$n]" [ "$n" -ge 4 ]
check "(g) the log says why" grep -q "upstream sockets: new ones get .* (max-socket-memory)" "$LOG"

check "tapird survived" kill -0 $TAPIRD_PID
check "no sanitizer report in the log" \
	bash -c "! grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' '$LOG'"
finish
