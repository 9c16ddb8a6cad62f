#!/bin/bash
# tests/integration/test_offload.sh - the TAP's offloads with a real kernel on the other side:
# iperf3 from the container to a host loopback server and back, at MTU 1500.
#
# tapird serves a namespace of our own with --mtu 1500, offloads on (the default), then with
# --no-offload to compare. For each direction:
#   (a) upload (container to host) and (b) download (host to container): iperf3 finishes and
#       its receiver counted bytes; the Gbit/s are printed (never asserted: the machine is
#       shared). iperf3's two ends stop counting at different moments, so the byte counts
#       are checked exactly by (e).
#   (c) with offloads, the container's kernel handed tapird super-frames (rx_gso_frames > 0)
#       with partial checksums (rx_csum_trusted > 0), none of which tapird refused (no
#       drop_vnet_*)
#   (d) no loss recovery by the container's kernel while it sends: over (e)'s transfer its
#       own counters (nstat in its namespace) show no fast retransmit and no retransmission
#       timeout; tail-loss probes (RFC 8985 7: an ACK that a busy machine delayed past 2*SRTT)
#       and iperf3's upload retransmissions are printed. (iperf3's upload cannot be judged
#       this way: its server resets the connection at the end with data in flight, and the
#       container's kernel recovers from that too.)
#   (e) one connection moving BIG bytes each way at once (tests/integration/tcppeer): every
#       byte arrives, in order, exactly BIG of them, half-closes included; and with offloads
#       tapird dropped no frame read from the TAP for want of room meanwhile (drop_tcp_no_room,
#       drop_tcp_ooo_full unchanged; printed without offloads, where tap0's own queue of 1000
#       frames is what overflows). (iperf3 is no judge of that: its server resets the
#       connection at the end of an upload while data is in flight, which those counters
#       count too.)
#   and: tapird survived and its log has no sanitizer report.
#
#   bash tests/integration/test_offload.sh BUILD_DIR     (as root; or BUILD=... in the env)
#   SECS= sets each iperf3 run's length (5; QUICK=1: 2), BIG= the duplex size (200M; 32M).
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	SECS=${SECS:-2} BIG=${BIG:-32M}
else
	SECS=${SECS:-5} BIG=${BIG:-200M}
fi
PEER=$BUILD/tests/integration/tcppeer

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"
need_exec "missing (tests/deps.sh installs it)" /usr/bin/iperf3
[ -x "$PEER" ] || make -C "$BUILD" tests/integration/tcppeer >/dev/null 2>&1
need_exec "not built" "$PEER"

WORK=$(mktemp -d /tmp/tof-offload-$$.XXXXXX)
NS=
cleanup() {
	stop_pids
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start NAME [ARGS...]: a fresh namespace and tapird with MTU 1500; sets NS, TAPIRD_PID, SOCK
start() {
	local name=$1
	shift
	NS=tof-off-$name-$$
	SOCK=$WORK/$name.sock
	ns_with_tapird "$NS" "$SOCK" "$WORK/$name.log" --mtu 1500 --log-level warn "$@" &&
		wait_link_up "$NS"
}

# stop NAME: stop tapird, check it survived and left no sanitizer report, drop the namespace
stop() {
	local name=$1
	if kill -0 $TAPIRD_PID 2>/dev/null; then
		ok "$name: tapird survived"
	else
		notok "$name: tapird died: $(tail -5 "$WORK/$name.log")"
	fi
	kill $TAPIRD_PID 2>/dev/null
	wait $TAPIRD_PID 2>/dev/null
	if grep -qE 'Sanitizer|runtime error' "$WORK/$name.log"; then
		notok "$name: sanitizer report: $(grep -E -m3 'Sanitizer|runtime error' "$WORK/$name.log")"
	fi
	ip netns del "$NS"
	NS=
}

# iperf NAME DIR: one iperf3 run, DIR "up" (container sends) or "down" (-R); the JSON report
# in $WORK/NAME-DIR.json. Prints "SENT RECEIVED RETRANSMITS GBITS" of the receiver's view.
iperf() {
	local name=$1 dir=$2 port rev=
	[ "$dir" = down ] && rev=-R
	port=$(free_port) || return 1
	timeout $((SECS + 30)) iperf3 -s -B 127.0.0.1 -p "$port" -1 >/dev/null 2>&1 &
	pids+=($!)
	sleep 0.3
	timeout $((SECS + 30)) ip netns exec "$NS" iperf3 -c 10.0.2.2 -p "$port" -t "$SECS" $rev -J \
		>"$WORK/$name-$dir.json" 2>&1
	$PY - "$WORK/$name-$dir.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
e = r["end"]
s, v = e["sum_sent"], e["sum_received"]
print(s["bytes"], v["bytes"], s.get("retransmits", 0), "%.2f" % (v["bits_per_second"] / 1e9))
EOF
}

# counter NAME: a counter from tapirctl stats (drops as listed there, without "drop_")
counter() {
	"$TAPIRCTL" -s "$SOCK" stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
}

# nstat_get FILE NAME: the container's own TCP counter NAME as FILE has it (0 if absent)
nstat_get() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}

# run MODE ARGS: both directions; MODE "offload" also checks (c) and (d)
run() {
	local mode=$1 dir out sent rcvd retr gbit
	shift
	if ! start "$mode" "$@"; then
		notok "$mode: tapird attaches to $NS: $(tail -5 "$WORK/$mode.log")"
		[ -n "$NS" ] && ip netns del "$NS"
		NS=
		return
	fi
	for dir in up down; do
		out=$(iperf "$mode" "$dir")
		read -r sent rcvd retr gbit <<<"$out"
		if [ -z "$gbit" ]; then
			notok "$mode: iperf3 $dir: $(head -c 300 "$WORK/$mode-$dir.json")"
			continue
		fi
		echo "# $mode MTU 1500 $dir: $gbit Gbit/s; $sent bytes sent, $rcvd received; $retr retransmissions"
		if [ "$rcvd" -gt 0 ] && [ "$rcvd" -le "$sent" ]; then
			ok "$mode: iperf3 $dir at MTU 1500: $gbit Gbit/s"
		else
			notok "$mode: iperf3 $dir: sent $sent, received $rcvd"
		fi
		[ "$dir" = up ] && UP_RETR=$retr
	done
	if [ "$mode" = offload ]; then
		local gso trusted vnet probes rsegs
		gso=$(counter rx_gso_frames)
		trusted=$(counter rx_csum_trusted)
		vnet=$("$TAPIRCTL" -s "$SOCK" stats 2>/dev/null | awk '$1 ~ /^vnet_/ { s += $2 } END { print s + 0 }')
		echo "# rx_gso_frames $gso, rx_csum_trusted $trusted, drop_vnet_* $vnet"
		if [ "${gso:-0}" -gt 0 ] && [ "${trusted:-0}" -gt 0 ] && [ "$vnet" = 0 ]; then
			ok "(c) super-frames and partial checksums from the container, none refused"
		else
			notok "(c) rx_gso_frames '$gso' rx_csum_trusted '$trusted' drop_vnet_* '$vnet'"
		fi
		echo "# iperf3 upload retransmissions: ${UP_RETR:-?}"
	fi
	duplex "$mode"
	stop "$mode"
}

# duplex MODE: (e) BIG bytes each way at once on one connection, every byte checked, and no
# frame from the TAP dropped for want of room meanwhile
duplex() {
	local mode=$1 port out rc src room0 ooo0 room1 ooo1
	room0=$(counter tcp_no_room)
	ooo0=$(counter tcp_ooo_full)
	ip netns exec "$NS" nstat -n >/dev/null 2>&1 # the container's counters: deltas from here
	port=$(free_port) || { notok "$mode: (e) no free port"; return; }
	timeout 150 "$PEER" serve "$port" "$BIG" "$BIG" >"$WORK/srv-$mode.out" 2>&1 &
	src=$!
	pids+=($src)
	for i in $(seq 50); do grep -q listening "$WORK/srv-$mode.out" 2>/dev/null && break; sleep 0.1; done
	out=$(timeout 120 ip netns exec "$NS" "$PEER" connect 10.0.2.2 "$port" "$BIG" "$BIG" 2>&1)
	rc=$?
	wait $src
	src=$?
	echo "# $mode duplex: $out"
	if [ $rc = 0 ] && [ $src = 0 ]; then
		ok "$mode: (e) $BIG each way at once at MTU 1500, every byte checked"
	else
		notok "$mode: (e) duplex: client rc $rc, server rc $src: $(tail -2 "$WORK/srv-$mode.out")"
	fi
	ip netns exec "$NS" nstat >"$WORK/$mode-duplex.nstat" 2>/dev/null
	room1=$(counter tcp_no_room)
	ooo1=$(counter tcp_ooo_full)
	local nf=$WORK/$mode-duplex.nstat fast rto probes txdrop
	fast=$(nstat_get "$nf" TcpExtTCPFastRetrans)
	rto=$(nstat_get "$nf" TcpExtTCPTimeouts)
	probes=$(nstat_get "$nf" TcpExtTCPLossProbes)
	txdrop=$(ip -n "$NS" -s link show tap0 | awk '/TX:/ { getline; print $4 }')
	echo "# $mode duplex: drop_tcp_no_room $room0 -> $room1, drop_tcp_ooo_full $ooo0 -> $ooo1;" \
		"the container: $fast fast retransmits, $rto timeouts, $probes tail-loss probes;" \
		"tap0 TX dropped $txdrop"
	[ "$mode" = offload ] || return
	if [ -n "$room1" ] && [ "$room0" = "$room1" ] && [ "$ooo0" = "$ooo1" ]; then
		ok "$mode: (e) no frame from the TAP dropped for want of room meanwhile"
	else
		notok "$mode: (e) drop_tcp_no_room $room0 -> $room1, drop_tcp_ooo_full $ooo0 -> $ooo1"
	fi
	if [ "$fast" = 0 ] && [ "$rto" = 0 ]; then
		ok "$mode: (d) the container's kernel did no loss recovery ($probes tail-loss probes)"
	else
		notok "$mode: (d) the container's kernel: $fast fast retransmits, $rto timeouts"
	fi
}

run offload
run no-offload --no-offload
finish
