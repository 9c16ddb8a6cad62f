#!/bin/bash
# tests/bench/conns_scale.sh - how fast `tapirctl conns` lists 10,000 open connections,
# next to `ss -tan` listing the host side of the same connections, in one run. A benchmark,
# not a test: it prints figures and fails only if the setup does.
#
#   bash tests/bench/conns_scale.sh BUILD_DIR [N]      (as root; N defaults to 10000)
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
BUILD=$(cd "${1:?usage: $0 BUILD_DIR [N]}" && pwd)
N=${2:-10000}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$TOP/../shared/bench/tcpperf.c
[ -f "$SRC" ] || SRC=/work/shared/bench/tcpperf.c
PY=/usr/bin/python3
NS=tapir-scale-$$
WORK=$(mktemp -d /tmp/tapir-scale-$$.XXXXXX)
SOCK=$WORK/control.sock
PORT=$((30000 + $$ % 20000))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
gcc -O2 -o "$WORK/tcpperf" "$SRC" || exit 1
ip netns add "$NS" || exit 1
"$BUILD/daemon/tapird" -f --netns "$NS" --control "$SOCK" --log-level warn >"$WORK/log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
"$WORK/tcpperf" server $PORT >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
t0=$(date +%s.%N)
ip netns exec "$NS" "$WORK/tcpperf" conc 10.0.2.2 $PORT "$N" 600 >/dev/null 2>&1 &
pids+=($!)
est=0
for _ in $(seq 600); do
	est=$("$BUILD/ctl/tapirctl" -s "$SOCK" --json stats |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["total"]["flows"]["by_state"]["ESTABLISHED"])')
	[ "$est" -ge "$N" ] && break
	sleep 0.1
done
t1=$(date +%s.%N)
[ "$est" -ge "$N" ] || { echo "only $est of $N connections came up" >&2; exit 1; }
elapsed() { awk "BEGIN{printf \"%.3f\", $2 - $1}"; }
echo "connections: $N established through tapird in $(elapsed "$t0" "$t1") s"

# The daemon's loop must keep serving while it lists: a 1-byte round trip on another
# connection, timed during the listing.
for run in 1 2 3; do
	a=$(date +%s.%N)
	n=$("$BUILD/ctl/tapirctl" -s "$SOCK" -t 60 --json conns --state ESTABLISHED |
		$PY -c 'import json,sys; print(len(json.load(sys.stdin)["flows"]))')
	b=$(date +%s.%N)
	m=$(ss -Htan state established "( sport = :$PORT )" | wc -l)
	c=$(date +%s.%N)
	echo "run $run: tapirctl --json conns --state ESTABLISHED: $n flows in $(elapsed "$a" "$b") s;" \
		"ss -tan (host side): $m sockets in $(elapsed "$b" "$c") s"
done
a=$(date +%s.%N)
bytes=$("$BUILD/ctl/tapirctl" -s "$SOCK" --json conns | wc -c)
b=$(date +%s.%N)
echo "tapirctl --json conns (all): $bytes bytes in $(elapsed "$a" "$b") s"
rr=$(ip netns exec "$NS" "$WORK/tcpperf" rr 10.0.2.2 $PORT 2)
( for _ in 1 2 3 4 5; do "$BUILD/ctl/tapirctl" -s "$SOCK" --json conns >/dev/null; done ) &
L=$!
rr_busy=$(ip netns exec "$NS" "$WORK/tcpperf" rr 10.0.2.2 $PORT 2)
wait $L
echo "1-byte round trips on another connection: $rr idle, $rr_busy while conns is listed repeatedly"
