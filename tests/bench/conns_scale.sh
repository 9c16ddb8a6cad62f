#!/bin/bash
# tests/bench/conns_scale.sh - N concurrent idle TCP connections from a namespace to the host's
# loopback, through tapird and through pasta in one run. Prints, for each:
#   - how fast the N connections open (connections per second, INFLIGHT connect()s pending at
#     once: tests/bench/connhold.c),
#   - the daemon's RSS growth per idle flow (VmRSS with N flows held minus VmRSS before the
#     first, divided by N; kernel socket memory is not in it),
# and for tapird how long `tapirctl conns` (table and --json) takes over the N flows, next to
# `ss -tan` listing the host side. When N had to be lowered below 50,000, tapird's table is
# then filled up to 50,000 flows with connections in TIME_WAIT (which hold no host socket),
# and tapirctl is timed over those 50,000. A benchmark, not a test: it prints figures and
# fails only if the setup does.
#
#   bash tests/bench/conns_scale.sh BUILD_DIR [N] [PASTA]      (as root)
# N defaults to 50000; PASTA to $PASTA, then pasta on $PATH;
# TAPIRCTL= runs another tapirctl binary for the listings (to compare one with another).
# Each daemon holds one host socket per flow: N is lowered to what RLIMIT_NOFILE's hard limit
# allows (a process without CAP_SYS_RESOURCE cannot raise it), and the script says so.
# Traffic goes only to 127.0.0.1 and to the namespaces this script creates and deletes.
set -u
BUILD=$(cd "${1:?usage: $0 BUILD_DIR [N] [PASTA]}" && pwd)
N=${2:-50000}
PASTA=${3:-${PASTA:-pasta}}
command -v "$PASTA" >/dev/null || PASTA=
INFLIGHT=${INFLIGHT:-256}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$TOP/../shared/bench/tcpperf.c
[ -f "$SRC" ] || SRC=/work/shared/bench/tcpperf.c
TAPIRCTL=${TAPIRCTL:-$BUILD/ctl/tapirctl} # another tapirctl to compare (it only reads)
WORK=$(mktemp -d /tmp/tapir-scale-$$.XXXXXX)
SOCK=$WORK/control.sock
NS=tapir-scale-$$
PORT0=$((20000 + ($$ % 400) * 20))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
elapsed() { awk "BEGIN{printf \"%.3f\", $2 - $1}"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

hard=$(ulimit -Hn)
ulimit -n "$hard"
if [ "$N" -gt $((hard - 256)) ]; then
	echo "N lowered from $N to $((hard - 256)): RLIMIT_NOFILE's hard limit here is $hard" \
		"(one host socket per flow in the daemon; raising it needs CAP_SYS_RESOURCE)"
	N=$((hard - 256))
fi
# pasta spends two descriptors per TCP flow (the socket and a timerfd): it is measured with
# NP flows, and tapird's rate over its first NP connections is printed beside it.
NP=$(((hard - 400) / 2))
[ "$NP" -gt "$N" ] && NP=$N
# One destination port holds at most ~28,000 source ports (ip_local_port_range) on either
# side, and each server process at most its own RLIMIT_NOFILE: 8,000 connections per port.
NPORTS=$(((N + 7999) / 8000))

gcc -O2 -o "$WORK/tcpperf" "$SRC" || exit 1
gcc -O2 -Wall -o "$WORK/connhold" "$TOP/tests/bench/connhold.c" || exit 1
for i in $(seq 0 $((NPORTS - 1))); do
	"$WORK/tcpperf" server $((PORT0 + i)) >/dev/null 2>&1 &
	pids+=($!)
done
sleep 0.3

# hold NAME PID GW: open N connections from $NS to GW through the daemon PID, print the
# open rate and RSS per flow; leaves the holder running (its pid in $holder) for the caller
hold() {
	local name=$1 dpid=$2 gw=$3 n=$4 r0 r1 line k0 k1
	r0=$(rss_kib "$dpid")
	k0=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
	ip netns exec "$NS" env CONNHOLD_MARK=$NP "$WORK/connhold" "$gw" $PORT0 $NPORTS "$n" 600 \
		"$INFLIGHT" \
		>"$WORK/hold.$name" 2>&1 &
	holder=$!
	pids+=($holder)
	for _ in $(seq 1200); do
		grep -qs "^open" "$WORK/hold.$name" && break
		kill -0 $holder 2>/dev/null || break
		sleep 0.1
	done
	line=$(grep '^open' "$WORK/hold.$name")
	[ -n "$line" ] || { echo "$name: the connections did not come up:" \
		"$(cat "$WORK/hold.$name")" >&2; return 1; }
	sleep 1 # let the daemon finish its side (the last ACKs, the relay's bookkeeping)
	r1=$(rss_kib "$dpid")
	k1=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
	[ "$n" -gt "$NP" ] && echo "$name: $(grep '^mark' "$WORK/hold.$name")"
	true
	echo "$name: $line"
	echo "$name: RSS ${r0} KiB with no flow, ${r1} KiB with $n:" \
		"$(awk "BEGIN{printf \"%.0f\", ($r1 - $r0) * 1024 / $n}") bytes per idle flow"
	echo "$name: kernel slab (not the daemon's RSS) grew by" \
		"$(awk "BEGIN{printf \"%.0f\", ($k1 - $k0) * 1024 / $n}") bytes per connection:" \
		"its three sockets (the container's, the daemon's upstream one, the server's), their" \
		"files and epoll entries (a shared machine: other work moves it too)"
}

stop() { # PID...: end what this script started, by pid
	for p in "$@"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

# start_pasta / start_tapird [MAX_FLOWS]: a fresh $NS served by the daemon, its pid in $dpid
# and the address the namespace reaches the host's loopback by in $gw (empty: it failed)
start_pasta() {
	ip netns add "$NS" || exit 1
	"$PASTA" --config-net -f -q --runas 0 -t none -u none -T none -U none \
		--netns "/run/netns/$NS" -I eth0 >/dev/null 2>&1 &
	dpid=$!
	pids+=($dpid)
	gw=
	for _ in $(seq 50); do
		gw=$(ip netns exec "$NS" ip -4 route show default 2>/dev/null | awk '{print $3; exit}')
		[ -n "$gw" ] && break
		sleep 0.1
	done
}
start_tapird() {
	ip netns add "$NS" || exit 1
	rm -f "$SOCK"
	"$BUILD/daemon/tapird" -f --netns "$NS" --control "$SOCK" --log-level warn \
		--max-flows "${1:-65536}" --time-wait 600 >"$WORK/log" 2>&1 &
	dpid=$!
	pids+=($dpid)
	gw=
	for _ in $(seq 50); do [ -S "$SOCK" ] && gw=10.0.2.2 && break; sleep 0.1; done
	[ -n "$gw" ] || echo "tapird did not start: $(cat "$WORK/log")" >&2
}
rate() { grep -E "^(mark $NP|open)" "$WORK/hold.$1" | head -1 | grep -o '[0-9]* conn/s' | awk '{print $1}'; }

# --- open rate: pasta and tapird in turn, ROUNDS times, NP connections each ---------------
ROUNDS=${ROUNDS:-3}
if [ -n "$PASTA" ]; then
	echo "pasta: $PASTA"
	ratios=()
	for r in $(seq "$ROUNDS"); do
		start_pasta
		holder=
		[ -n "$gw" ] && hold pasta $dpid "$gw" "$NP" >"$WORK/round"
		sed "s/^/round $r: /" "$WORK/round"
		stop $holder $dpid
		ip netns del "$NS"
		start_tapird
		holder=
		[ -n "$gw" ] && hold tapird $dpid "$gw" "$NP" >"$WORK/round"
		sed "s/^/round $r: /" "$WORK/round"
		stop $holder $dpid
		ip netns del "$NS"
		rp=$(rate pasta)
		rt=$(rate tapird)
		[ -n "$rp" ] && [ -n "$rt" ] && ratios+=($(awk "BEGIN{printf \"%.2f\", $rt / $rp}"))
	done
	[ ${#ratios[@]} -gt 0 ] && echo "open rate over $NP connections, tapird / pasta, each" \
		"round: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -n |
		awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')"
else
	echo "pasta: not found, skipped (give its path as the third argument)"
fi

# --- tapird with N flows: RSS, kernel memory, listing ------------------------------------
start_tapird $((N + 1024 > 65536 ? N + 1024 : 65536))
[ -n "$gw" ] || exit 1
tpid=$dpid
hold tapird $tpid "$gw" "$N" || exit 1

for run in 1 2 3; do
	a=$(date +%s.%N)
	rows=$("$TAPIRCTL" -s "$SOCK" -t 60 conns | wc -l)
	b=$(date +%s.%N)
	bytes=$("$TAPIRCTL" -s "$SOCK" -t 60 --json conns | wc -c)
	c=$(date +%s.%N)
	ss -Htan state established "( dport >= :$PORT0 and dport < :$((PORT0 + NPORTS)) )" >/dev/null
	d=$(date +%s.%N)
	echo "run $run: tapirctl conns: $((rows - 1)) rows in $(elapsed "$a" "$b") s;" \
		"tapirctl --json conns: $bytes bytes in $(elapsed "$b" "$c") s;" \
		"ss -tan (host side): $(elapsed "$c" "$d") s"
done
# --- 50,000 flows in tapird's own table, when RLIMIT_NOFILE let fewer be held open --------
# A flow in TIME_WAIT holds no host socket (tapird closes the upstream one once both FINs are
# through), so tapird's table reaches 50,000 flows here all the same: the N idle connections
# held above plus 50,000 - N that the host's server closed first, whose TIME_WAIT (2MSL, 600 s
# for this daemon) tapird's side waits out. tapirctl then lists 50,000 flows of the real
# daemon, end to end: its reply built, sent and parsed.
if [ "$N" -lt 50000 ]; then
	NTW=$((50000 - N))
	# Each connection from a source port of its own below the ephemeral range (where the held
	# connections are), one destination port per 31,000: a SYN that repeated a TIME_WAIT
	# flow's four-tuple would reopen that flow (RFC 6191), not add one. The ports past the
	# held ones, in the script's block of 20 (NPORTS is at most 7).
	TWPORT=$((PORT0 + NPORTS))
	TWN=$(((NTW + 30999) / 31000))
	python3 - $TWPORT $TWN <<'PYEOF' &
import selectors, socket, sys
sel = selectors.DefaultSelector()
for i in range(int(sys.argv[2])):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1]) + i))
    s.listen(4096)
    sel.register(s, selectors.EVENT_READ)
while True:
    for k, _ in sel.select():
        a, _ = k.fileobj.accept()
        a.close() # the server closes first: tapird's flow ends in TIME_WAIT, the container's in CLOSED
PYEOF
	pids+=($!)
	sleep 0.3
	r0=$(rss_kib $tpid)
	line=$(ip netns exec "$NS" python3 - 10.0.2.2 $TWPORT $NTW <<'PYEOF'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = fail = 0
t0 = time.monotonic()
for i in range(n):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) # the last one on the port may be in LAST_ACK
    try:
        c.bind(("0.0.0.0", 1024 + i % 31000))
        c.connect((host, port + i // 31000))
        if c.recv(1) == b"":
            ok += 1 # the server's FIN came through: close after it
        else:
            fail += 1
    except OSError:
        fail += 1
    c.close()
    if fail > 100:
        break
print("%d of %d closed by the server in %.1f s (failed %d)" % (ok, n, time.monotonic() - t0, fail))
PYEOF
)
	sleep 1
	r1=$(rss_kib $tpid)
	echo "tapird: $line: RSS $r0 KiB before, $r1 KiB after:" \
		"$(awk "BEGIN{printf \"%.0f\", ($r1 - $r0) * 1024 / $NTW}") bytes per TIME_WAIT flow"
	for run in 1 2 3; do
		a=$(date +%s.%N)
		"$TAPIRCTL" -s "$SOCK" -t 60 conns >"$WORK/table"
		b=$(date +%s.%N)
		bytes=$("$TAPIRCTL" -s "$SOCK" -t 60 --json conns | wc -c)
		c=$(date +%s.%N)
		echo "run $run, tapird itself with $N idle flows and $NTW in TIME_WAIT: tapirctl conns:" \
			"$(($(wc -l <"$WORK/table") - 1)) rows ($(grep -c ESTABLISHED "$WORK/table")" \
			"ESTABLISHED, $(grep -c TIME_WAIT "$WORK/table") TIME_WAIT) in $(elapsed "$a" "$b") s;" \
			"tapirctl --json conns: $bytes bytes in $(elapsed "$b" "$c") s"
	done
fi

rr=$(ip netns exec "$NS" "$WORK/tcpperf" rr 10.0.2.2 $PORT0 2)
( for _ in 1 2 3 4 5; do "$TAPIRCTL" -s "$SOCK" -t 60 --json conns >/dev/null; done ) &
L=$!
rr_busy=$(ip netns exec "$NS" "$WORK/tcpperf" rr 10.0.2.2 $PORT0 2)
wait $L
echo "1-byte round trips on another connection: $rr idle, $rr_busy while conns is listed repeatedly"
