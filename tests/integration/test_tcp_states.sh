#!/bin/bash
# tests/integration/test_tcp_states.sh - raw-frame conformance of tapird's userspace TCP.
#
# A namespace of our own holds tapird's tap0, up and without an address (--no-configure), so
# the namespace's kernel stays out of the way; rawpeer.py plays the container with an
# AF_PACKET socket on tap0, building and checking every segment itself, and plays the upstream
# servers on the host's 127.0.0.1 (where tapird relays 10.0.2.2:PORT). The states come from
# `tapirctl --json conns`, the counters from `tapirctl --json stats`. Checks (RFC sections in
# each line): every state but LISTEN and SYN_SENT reached by real frames (SYN_RCVD,
# ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT and its end after --time-wait, CLOSE_WAIT,
# LAST_ACK, CLOSING, CLOSED), the handshake with and without options and the MSS in use,
# half-close with upstream data, data both ways byte-exact, out-of-order data with SACK,
# RFC 5961 challenge ACKs and exact RSTs, bad checksums, segments for no connection,
# retransmission and back-off, TIME_WAIT reuse (RFC 6191); then tapird is alive and its log
# has no sanitizer report.
#
#   bash tests/integration/test_tcp_states.sh BUILD_DIR     (as root; or BUILD=... in the env)
#   QUICK=1 (sanitizer builds) doubles the waits.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TIME_WAIT=2

need_root "namespaces, TAP devices, packet sockets"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY"

NS=tapir-states-$$
WORK=$(mktemp -d /tmp/tapir-states-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TAPIRD_PID=
cleanup() {
	if [ -n "$TAPIRD_PID" ]; then
		kill "$TAPIRD_PID" 2>/dev/null
		wait "$TAPIRD_PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SLACK=1
[ "${QUICK:-0}" = 1 ] && SLACK=2

# the namespace, with IPv6 off so that its kernel sends nothing on tap0 of its own accord
ip netns add "$NS" || { notok "ip netns add $NS"; finish; }
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
# --no-offload: rawpeer.py checks each segment as the wire would carry it, but it reads tap0
# itself, where a super-frame (GSO) arrives whole: the container's kernel cuts nothing it
# receives (its TCP takes a super-frame as one). The offloads have their own tests
# (test_offload.sh, tests/unit/test_vnet.c).
"$TAPIRD" -f --netns "$NS" --no-configure --no-offload --mtu 1500 --control "$SOCK" \
	--time-wait $TIME_WAIT --log-level warn >"$LOG" 2>&1 &
TAPIRD_PID=$!
up=0
for _ in $(seq 100); do
	kill -0 "$TAPIRD_PID" 2>/dev/null || break
	if ip -n "$NS" link show tap0 >/dev/null 2>&1 && [ -S "$SOCK" ]; then
		up=1
		break
	fi
	sleep 0.1
done
if [ $up = 1 ] && ip -n "$NS" link set tap0 up &&
	[ -z "$(ip -n "$NS" -4 -br addr show tap0 | awk '{print $3}')" ]; then
	ok "tapird --no-configure: tap0 in $NS, up, no address"
else
	notok "tapird did not start (log: $(tail -5 "$LOG"))"
	finish
fi

# rawpeer.py prints one line per check; count them here
OUT=$WORK/rawpeer.out
SLACK=$SLACK MTU=1500 timeout $((120 * SLACK)) "$PY" "$HERE/rawpeer.py" "$NS" "$SOCK" \
	"$TAPIRCTL" $TIME_WAIT >"$OUT" 2>&1
rc=$?
cat "$OUT"
p=$(grep -c '^ok - ' "$OUT")
f=$(grep -c '^not ok - ' "$OUT")
PASS=$((PASS + p))
FAIL=$((FAIL + f))
if [ $rc != 0 ] && [ "$f" = 0 ]; then
	notok "rawpeer.py exited with $rc and no failed check (crash or timeout)"
fi

if kill -0 "$TAPIRD_PID" 2>/dev/null; then
	ok "tapird survived every frame"
else
	notok "tapird died (log: $(tail -5 "$LOG"))"
fi
kill "$TAPIRD_PID" 2>/dev/null
wait "$TAPIRD_PID" 2>/dev/null
TAPIRD_PID=
if grep -qE 'Sanitizer|runtime error' "$LOG"; then
	notok "tapird's log has a sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error' "$LOG")"
else
	ok "tapird's log has no sanitizer report"
fi
finish
