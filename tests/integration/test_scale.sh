#!/bin/bash
# tests/integration/test_scale.sh - many idle connections cost little and are all listed.
#
# tapird serves a namespace of our own; a listener on 127.0.0.1 accepts and holds whatever
# comes. From the namespace, tests/bench/connhold.c opens SCALE_N (2000) connections to it
# and holds them idle. Checks:
#   (a) all SCALE_N come up through tapird
#   (b) tapird's RSS grew by less than 1 KiB per idle flow (FLOW_IDLE_BYTES_MAX in
#       daemon/stack/flow.h; VmRSS with the flows held minus VmRSS before the first): skipped
#       under the sanitizers, whose shadow memory and redzones are no measure of ours
#   (c) `tapirctl conns` lists every one of them ESTABLISHED, and so does `--json conns`
#   and: tapird survived and its log has no sanitizer report.
# The 50,000-flow figures are tests/bench/conns_scale.sh's (a benchmark: it prints).
#
#   bash tests/integration/test_scale.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

N=${SCALE_N:-2000}
MAX_FLOWS=4096 # a table sized for the test: the hash buckets' pages are touched at random
TOP=$(cd "$(dirname "$0")/../.." && pwd)

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"

NS=tof-scale-$$
WORK=$(mktemp -d /tmp/tof-scale-$$.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

if ! gcc -O2 -o "$WORK/connhold" "$TOP/tests/bench/connhold.c"; then
	notok "cannot build tests/bench/connhold.c"
	finish
fi
[ "$(ulimit -Hn)" -gt $((N + 100)) ] || { notok "RLIMIT_NOFILE $(ulimit -Hn) < $N + 100"; finish; }
ulimit -n "$(ulimit -Hn)"
# The listener: another script may take a port between free_port and bind, so it is
# checked to be listening, with another port if not.
spid=
for try in 1 2 3; do
	PORT=$(free_port)
	$PY -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4096)
held = []
while True:
    held.append(s.accept()[0])
' "$PORT" 2>"$WORK/server.err" &
	spid=$!
	for i in $(seq 50); do
		[ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ] && break
		kill -0 $spid 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $spid 2>/dev/null && [ -n "$(ss -Hltn "sport = :$PORT")" ] && break
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	spid=
done
[ -n "$spid" ] || { notok "no listener on 127.0.0.1: $(tail -1 "$WORK/server.err")"; finish; }
pids+=($spid)

ip netns add "$NS" || { notok "ip netns add $NS"; finish; }
"$TAPIRD" -f --netns "$NS" --control "$WORK/control.sock" --log-level warn \
	--max-flows $MAX_FLOWS >"$WORK/tapird.log" 2>&1 &
TAPIRD_PID=$!
pids+=($TAPIRD_PID)
up=0
for i in $(seq 100); do
	if ip -n "$NS" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 &&
		[ -S "$WORK/control.sock" ] &&
		timeout 5 ip netns exec "$NS" ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[ $up = 1 ] || { notok "tapird did not come up: $(tail -3 "$WORK/tapird.log")"; finish; }

r0=$(rss_kib $TAPIRD_PID)
ip netns exec "$NS" "$WORK/connhold" 10.0.2.2 "$PORT" 1 "$N" 300 64 >"$WORK/hold" 2>&1 &
pids+=($!)
for i in $(seq 600); do
	grep -qs '^open' "$WORK/hold" && break
	sleep 0.1
done
line=$(grep '^open' "$WORK/hold")
if [ "${line#open $N of $N }" != "$line" ]; then
	ok "(a) $N connections came up through tapird: $line"
else
	notok "(a) not all $N connections came up: $(tr '\n' ' ' <"$WORK/hold")"
fi

# (b) once every flow is ESTABLISHED (the last ACKs processed); asked of `stats`, whose reply
# is small: a listing would grow tapird's heap by its own output before we measure
for i in $(seq 100); do
	est=$("$TAPIRCTL" -s "$WORK/control.sock" --json stats | $PY -c '
import json, sys
print(json.load(sys.stdin)["total"]["flows"]["by_state"]["ESTABLISHED"])')
	[ "${est:-0}" -ge "$N" ] && break
	sleep 0.1
done
r1=$(rss_kib $TAPIRD_PID)
per=$(((r1 - r0) * 1024 / N))
if ldd "$TAPIRD" | grep -q libasan; then
	skip "(b) RSS per idle flow under the sanitizers (measured $per bytes: not ours)"
elif [ "$per" -lt 1024 ]; then
	ok "(b) tapird's RSS grew by $per bytes per idle flow (${r0} -> ${r1} KiB for $N), under 1 KiB"
else
	notok "(b) tapird's RSS grew by $per bytes per idle flow (${r0} -> ${r1} KiB for $N): 1 KiB at most"
fi

# (c)
a=$(date +%s%N)
rows=$("$TAPIRCTL" -s "$WORK/control.sock" -t 30 conns | grep -c " ESTABLISHED .*:$PORT ")
b=$(date +%s%N)
jn=$("$TAPIRCTL" -s "$WORK/control.sock" -t 30 --json conns | $PY -c '
import json, sys
port = ":" + sys.argv[1]
print(sum(1 for f in json.load(sys.stdin)["flows"]
          if f["state"] == "ESTABLISHED" and f["upstream"].endswith(port)))' "$PORT")
c=$(date +%s%N)
if [ "$rows" = "$N" ] && [ "$jn" = "$N" ]; then
	ok "(c) tapirctl conns lists all $N ESTABLISHED (table $(((b - a) / 1000000)) ms," \
		"--json $(((c - b) / 1000000)) ms with its check)"
else
	notok "(c) tapirctl conns lists $rows (table) and $jn (--json) of $N ESTABLISHED"
fi

if kill -0 $TAPIRD_PID 2>/dev/null; then
	ok "tapird survived"
else
	notok "tapird died: $(tail -3 "$WORK/tapird.log")"
fi
if grep -qE 'Sanitizer|runtime error' "$WORK/tapird.log"; then
	notok "sanitizer report: $(grep -E -m3 'Sanitizer|runtime error' "$WORK/tapird.log")"
else
	ok "no sanitizer report"
fi
finish
