#!/bin/bash
# tests/integration/test_tcp_relay.sh - the TCP relay against real kernel peers.
#
# A namespace of our own ("the container") gets tapird on tap0; servers listen on the host's
# 127.0.0.1 and the container reaches them as 10.0.2.2 (the gateway maps to the host's
# loopback). Checks:
#   (a) one connection, BIG bytes each way at once, half-closes at the end, every byte checked
#   (b) the same, smaller, with 2% random frame loss each way on tap0 (nftables netdev hooks)
#   (c) a port nobody listens on: ECONNREFUSED, quickly
#   (d) many short sequential connections (connect, 64-byte echo, close); afterwards tapird
#       holds no more sockets than before (its one spare socket included: nothing piles up)
#   (e) thousands of connections held open at once, each pinged (shared/bench/tcpperf conc)
#   (f) --no-host-loopback: 10.0.2.2 is refused even with a server listening
#   (g) a container that does not read for 3 s: tapird stays idle (no busy loop on the
#       unacknowledged data it peeks), then every byte arrives
#   (h) an upstream server that does not read for 3 s: the window closes, tapird stays idle,
#       then every byte arrives
#   (i) the upstream server aborts (RST): the container's socket is reset (ECONNRESET)
#   (j) the container aborts: the upstream server's socket is reset
#   (k) a SYN crafted to 127.0.0.1 (a listening port) gets no SYN-ACK: the host's loopback is
#       reachable only through the gateway address
#   (l) the upstream server resets while the container is still sending (iperf3's server at the
#       end of a test): ECONNRESET each time, and what met the reset is not counted as
#       drop_tcp_no_room (it is drop_tcp_upstream_gone)
#   and: tapird survived everything and its log has no sanitizer report.
#
#   bash tests/integration/test_tcp_relay.sh BUILD_DIR     (as root; or BUILD=... in the env)
#   QUICK=1 scales the sizes down (sanitizer builds). BIG=, LOSSY=, SHORT_N=, CONC_N= override.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PEER=$BUILD/tests/integration/tcppeer

if [ "${QUICK:-0}" = 1 ]; then
	BIG=${BIG:-32M} LOSSY=${LOSSY:-4M} SHORT_N=${SHORT_N:-500} CONC_N=${CONC_N:-1000}
else
	BIG=${BIG:-200M} LOSSY=${LOSSY:-20M} SHORT_N=${SHORT_N:-2000} CONC_N=${CONC_N:-5000}
fi

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD"
[ -x "$PEER" ] || make -C "$BUILD" tests/integration/tcppeer >/dev/null 2>&1
if [ ! -x "$PEER" ]; then
	echo "test_tcp_relay.sh: cannot build $PEER" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

NS=tapir-relay-$$
NS2=tapir-relay-nl-$$
WORK=$(mktemp -d /tmp/tapir-relay-$$.XXXXXX)
cleanup_on_exit "$NS" "$NS2"

# start_tapird NS SOCK LOG [ARGS...]: namespace, daemon, wait for tap0 and the gateway to answer
# ping. Sets TAPIRD_PID. Return: 0 when the link works.
start_tapird() {
	ns_with_tapird "$1" "$2" "$3" --log-level warn "${@:4}" && wait_link_up "$1"
}

# serve PORT SEND RECV OUT: one tcppeer server in the background; waits until it listens.
# Sets SRV_PID.
serve() {
	local i
	timeout 150 "$PEER" serve "$1" "$2" "$3" >"$4" 2>&1 &
	SRV_PID=$!
	pids+=($SRV_PID)
	for i in $(seq 50); do
		grep -q listening "$4" 2>/dev/null && return 0
		kill -0 $SRV_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# serve_mode MODE PORT OUT: a tcppeer MODE ("abort", "expect-reset") server; sets SRV_PID
serve_mode() {
	local i
	timeout 60 "$PEER" "$1" serve "$2" >"$3" 2>&1 &
	SRV_PID=$!
	pids+=($SRV_PID)
	for i in $(seq 50); do
		grep -q listening "$3" 2>/dev/null && return 0
		kill -0 $SRV_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# xfer NAME SIZE: a duplex transfer of SIZE each way; ok if both ends saw every byte right
xfer() {
	local name=$1 size=$2 port out rc src
	port=$(free_port) || { notok "$name: no free port"; return; }
	if ! serve "$port" "$size" "$size" "$WORK/srv-$port.out"; then
		notok "$name: server on 127.0.0.1:$port did not start: $(cat "$WORK/srv-$port.out")"
		return
	fi
	out=$(timeout 120 ip netns exec "$NS" "$PEER" connect 10.0.2.2 "$port" "$size" "$size" 2>&1)
	rc=$?
	wait $SRV_PID
	src=$?
	echo "# $out"
	echo "# $(grep -v listening "$WORK/srv-$port.out")"
	if [ $rc = 0 ] && [ $src = 0 ]; then
		ok "$name: $size each way at once, half-closed, every byte checked"
	else
		notok "$name: client rc $rc, server rc $src"
	fi
}

if ! start_tapird "$NS" "$WORK/control.sock" "$WORK/tapird.log"; then
	notok "tapird attaches to $NS and the gateway answers ping (log: $(tail -5 "$WORK/tapird.log"))"
	for c in a b c d e f g h i j k l; do notok "($c) not run: no working link"; done
	finish
fi
ok "tapird attaches to $NS and the gateway answers ping"
MAIN_PID=$TAPIRD_PID

# (a) both directions at once on one connection
xfer "(a) duplex transfer" "$BIG"

# (b) 2% random loss each way; this kernel has no netem: nftables netdev ingress/egress
if ip netns exec "$NS" nft -f - 2>"$WORK/nft.err" <<'EOF'
table netdev loss {
	chain in { type filter hook ingress device tap0 priority 0; numgen random mod 100 < 2 counter drop; }
	chain out { type filter hook egress device tap0 priority 0; numgen random mod 100 < 2 counter drop; }
}
EOF
then
	xfer "(b) duplex transfer under 2% frame loss each way" "$LOSSY"
	echo "# frames dropped (in, out):" $(ip netns exec "$NS" nft list table netdev loss 2>/dev/null | grep -o 'packets [0-9]*' | cut -d' ' -f2)
	ip netns exec "$NS" nft delete table netdev loss
else
	skip "(b) lossy transfer: nftables netdev ingress/egress unavailable: $(cat "$WORK/nft.err")"
fi

# (c) nobody listens: the container must get ECONNREFUSED at once (RST), not a timeout
port=$(free_port)
out=$(timeout 10 ip netns exec "$NS" "$PEER" refused 10.0.2.2 "$port" 2>&1)
rc=$?
ms=$(echo "$out" | sed -n 's/.* after \([0-9]*\)\..*/\1/p')
echo "# $out"
if [ $rc = 0 ] && [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
	ok "(c) connection to a closed port refused in ${ms} ms"
else
	notok "(c) connection to a closed port: rc $rc: $out"
fi

# sockets PID: how many sockets the process holds open
sockets() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in socket:*) n=$((n + 1)) ;; esac
	done
	echo $n
}

# (d) and (e) use the echo server of shared/bench/tcpperf.c
TCPPERF=$WORK/tcpperf
SRC=$TOP/../shared/bench/tcpperf.c
[ -f "$SRC" ] || SRC=/work/shared/bench/tcpperf.c
if [ -f "$SRC" ] && gcc -O2 -o "$TCPPERF" "$SRC" 2>"$WORK/gcc.err"; then
	EPORT=$(free_port)
	"$TCPPERF" server "$EPORT" 127.0.0.1 >"$WORK/echo.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$EPORT")" ] && break; sleep 0.1; done

	# (a)-(c) opened connections already, so tapird holds its spare socket (relay.c) now:
	# afterwards it must hold no more than before, one spare and no more (fewer if a flow
	# of (a)-(c) still held its socket before and closed meanwhile)
	s0=$(sockets "$MAIN_PID")
	out=$(timeout 120 ip netns exec "$NS" "$PEER" short 10.0.2.2 "$EPORT" "$SHORT_N" 2>&1)
	rc=$?
	echo "# $(echo "$out" | tail -3)"
	if [ $rc = 0 ]; then
		ok "(d) $SHORT_N sequential short connections all echoed: $(echo "$out" | tail -1)"
	else
		notok "(d) sequential short connections: rc $rc: $(echo "$out" | tail -1)"
	fi
	# the flows end with the container's last ACK (tapird in LAST_ACK): wait up to 5 s
	for _ in $(seq 50); do s1=$(sockets "$MAIN_PID"); [ "$s1" -le "$s0" ] && break; sleep 0.1; done
	if [ "$s1" -le "$s0" ]; then
		ok "(d) tapird holds $s1 sockets after them, $s0 before: none leaked, no spare piled up"
	else
		notok "(d) tapird held $s0 sockets before the short connections and $s1 after"
	fi

	out=$(timeout 120 ip netns exec "$NS" "$TCPPERF" conc 10.0.2.2 "$EPORT" "$CONC_N" 1 2>&1)
	rc=$?
	echo "# $out"
	if [ $rc = 0 ] && echo "$out" | grep -q "^conc_ok $CONC_N of $CONC_N"; then
		ok "(e) $CONC_N connections held open at once, each pinged: $out"
	else
		notok "(e) $CONC_N concurrent connections: rc $rc: $out"
	fi
else
	skip "(d) short connections: cannot build tcpperf from $SRC: $(cat "$WORK/gcc.err" 2>/dev/null)"
	skip "(e) concurrent connections: same"
	EPORT=
fi

# cpu_ticks PID: user + system clock ticks the process used so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# stalled NAME SERVER-DELAY CLIENT-DELAY SIZE DIRECTION: a one-way transfer whose receiver waits
# before reading; tapird must not burn CPU meanwhile (at most 10% of a core: 20 ticks of 2 s
# at USER_HZ 100), and all bytes must arrive afterwards
stalled() {
	local name=$1 sdelay=$2 cdelay=$3 size=$4 dir=$5 port t0 t1 rc src ss cs sr cr
	if [ "$dir" = down ]; then ss=$size sr=0 cs=0 cr=$size; else ss=0 sr=$size cs=$size cr=0; fi
	port=$(free_port) || { notok "$name: no free port"; return; }
	if ! TCPPEER_DELAY=$sdelay serve "$port" "$ss" "$sr" "$WORK/srv-$port.out"; then
		notok "$name: server did not start"
		return
	fi
	TCPPEER_DELAY=$cdelay timeout 120 ip netns exec "$NS" "$PEER" connect 10.0.2.2 "$port" \
		"$cs" "$cr" >"$WORK/cli-$port.out" 2>&1 &
	local cpid=$!
	sleep 1
	t0=$(cpu_ticks $MAIN_PID)
	sleep 2
	t1=$(cpu_ticks $MAIN_PID)
	wait $cpid
	rc=$?
	wait $SRV_PID
	src=$?
	echo "# $(cat "$WORK/cli-$port.out")"
	echo "# $(grep -v listening "$WORK/srv-$port.out")"
	echo "# tapird used $((t1 - t0)) ticks (1/100 s) in the 2 s the receiver did not read"
	if [ $rc = 0 ] && [ $src = 0 ] && [ $((t1 - t0)) -le 20 ]; then
		ok "$name: $size, receiver idle 3 s, tapird idle meanwhile ($((t1 - t0)) ticks in 2 s), every byte checked"
	else
		notok "$name: client rc $rc, server rc $src, tapird $((t1 - t0)) ticks in 2 s"
	fi
}
stalled "(g) container not reading" 0 3 "${STALL_SIZE:-64M}" down
stalled "(h) upstream not reading" 3 0 "${STALL_SIZE:-64M}" up

# resets NAME SERVER-MODE CLIENT-MODE: one side aborts, the other must see ECONNRESET
resets() {
	local name=$1 smode=$2 cmode=$3 port out rc src
	port=$(free_port) || { notok "$name: no free port"; return; }
	if ! serve_mode "$smode" "$port" "$WORK/srv-$port.out"; then
		notok "$name: server did not start"
		return
	fi
	out=$(timeout 60 ip netns exec "$NS" "$PEER" "$cmode" connect 10.0.2.2 "$port" 2>&1)
	rc=$?
	wait $SRV_PID
	src=$?
	echo "# client: $out"
	echo "# server: $(grep -v listening "$WORK/srv-$port.out")"
	if [ $rc = 0 ] && [ $src = 0 ]; then
		ok "$name"
	else
		notok "$name: client rc $rc, server rc $src"
	fi
}
resets "(i) upstream RST reaches the container as ECONNRESET" abort expect-reset
resets "(j) container RST reaches the upstream server as ECONNRESET" expect-reset abort

# (l) RESET_N connections: the server reads 1 MiB of each, then aborts it (SO_LINGER 0) while
# the container is still sending. Whether a segment meets the reset in tapird (counted
# drop_tcp_upstream_gone, the flow reset at once) or the reset is seen first (the flow reset
# before the next segment) is a race, so only the count is shown; drop_tcp_no_room must not
# move: the upstream socket never lacked room, it was gone.
reset_while_sending() {
	local name=$1 n=${RESET_N:-20} port out rc room0 room1 gone0 gone1 i
	port=$(free_port) || { notok "$name: no free port"; return; }
	timeout 60 "$PY" - "$port" "$n" >"$WORK/rst-srv.out" 2>&1 <<'PY' &
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
for _ in range(int(sys.argv[2])):
    c, _ = s.accept()
    got = 0
    while got < (1 << 20):
        b = c.recv(1 << 16)
        if not b:
            break
        got += len(b)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
	SRV_PID=$!
	pids+=($SRV_PID)
	for i in $(seq 50); do
		grep -q listening "$WORK/rst-srv.out" 2>/dev/null && break
		sleep 0.1
	done
	room0=$(counter "$WORK/control.sock" drop_tcp_no_room)
	gone0=$(counter "$WORK/control.sock" drop_tcp_upstream_gone)
	out=$(timeout 60 ip netns exec "$NS" "$PY" - "$port" "$n" 2>&1 <<'PY'
import errno, socket, sys
n, resets, other = int(sys.argv[2]), 0, []
buf = b"x" * 65536
for _ in range(n):
    c = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=20)
    try:
        while True:
            c.sendall(buf)
    except (ConnectionResetError, BrokenPipeError):
        resets += 1
    except OSError as e:
        other.append(str(e))
    c.close()
print("%d of %d connections reset while sending%s" % (resets, n, (": " + other[0]) if other else ""))
sys.exit(0 if resets == n else 1)
PY
)
	rc=$?
	wait $SRV_PID
	room1=$(counter "$WORK/control.sock" drop_tcp_no_room)
	gone1=$(counter "$WORK/control.sock" drop_tcp_upstream_gone)
	echo "# $out; drop_tcp_upstream_gone $gone0 -> $gone1, drop_tcp_no_room $room0 -> $room1"
	if [ $rc = 0 ] && [ "$room0" -ge 0 ] && [ "$room1" = "$room0" ] && [ "$gone1" -ge "$gone0" ]; then
		ok "$name"
	else
		notok "$name: client rc $rc, drop_tcp_no_room $room0 -> $room1, drop_tcp_upstream_gone $gone0 -> $gone1"
	fi
}
reset_while_sending "(l) upstream RST while the container sends: ECONNRESET, not counted as no room"

# (k) needs scapy (a raw frame: the container's own kernel will not route 127.0.0.1 to tap0)
if [ -n "${EPORT:-}" ] && /usr/bin/python3 -c 'import scapy' 2>/dev/null; then
	out=$(timeout 30 ip netns exec "$NS" /usr/bin/python3 - "$EPORT" 2>&1 <<'PY'
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, TCP, srp1, conf, get_if_hwaddr, getmacbyip
conf.verb = 0
port = int(sys.argv[1])
gw = getmacbyip("10.0.2.2")
syn = Ether(src=get_if_hwaddr("tap0"), dst=gw) / IP(src="10.0.2.100", dst="127.0.0.1") / \
      TCP(sport=47123, dport=port, flags="S", seq=1000)
r = srp1(syn, iface="tap0", timeout=3, filter="tcp and src port %d" % port)
flags = str(r[TCP].flags) if r is not None and TCP in r else "none"
print("reply to SYN for 127.0.0.1:%d: %s" % (port, flags))
sys.exit(1 if "S" in flags and "A" in flags else 0)
PY
)
	rc=$?
	echo "# $out"
	if [ $rc = 0 ]; then
		ok "(k) a crafted SYN to 127.0.0.1:$EPORT is not connected"
	else
		notok "(k) a crafted SYN to 127.0.0.1:$EPORT: rc $rc: $out"
	fi
else
	skip "(k) crafted SYN to 127.0.0.1: needs scapy and the echo server"
fi

if kill -0 $MAIN_PID 2>/dev/null; then
	ok "tapird still running after (a)-(e), (g)-(l)"
else
	notok "tapird died: $(tail -5 "$WORK/tapird.log")"
fi

# (f) --no-host-loopback: a listening server on 127.0.0.1 must stay out of reach
if [ -z "${EPORT:-}" ]; then
	EPORT=$(free_port)
	serve "$EPORT" 0 0 "$WORK/srv-nl.out"
fi
if start_tapird "$NS2" "$WORK/control2.sock" "$WORK/tapird2.log" --no-host-loopback; then
	out=$(timeout 10 ip netns exec "$NS2" "$PEER" refused 10.0.2.2 "$EPORT" 2>&1)
	rc=$?
	echo "# $out"
	if [ $rc = 0 ]; then
		ok "(f) --no-host-loopback: 10.0.2.2:$EPORT refused although 127.0.0.1:$EPORT listens"
	else
		notok "(f) --no-host-loopback: rc $rc: $out"
	fi
else
	notok "(f) tapird --no-host-loopback did not attach: $(tail -5 "$WORK/tapird2.log")"
fi

# Stop the daemons first, so that what the sanitizers report at exit (leaks) is in the logs
stop_pids
for log in "$WORK/tapird.log" "$WORK/tapird2.log"; do
	[ -f "$log" ] || continue
	if grep -qE 'Sanitizer|runtime error' "$log"; then
		notok "sanitizer report in $(basename "$log"): $(grep -E -m3 'Sanitizer|runtime error' "$log")"
	fi
done
grep -v '^$' "$WORK/tapird.log" | tail -20 | sed 's/^/# tapird: /'
finish
