#!/bin/bash
# tests/integration/test_mss_mtu.sh - the MSS tapird announces follows the TAP's real MTU
# (RFC 9293 3.7.1, RFC 879: MSS = MTU - 40), read at attach and followed through netlink.
#
# tapird runs with --no-configure in a namespace of our own; the test plays the container's
# administrator (ip link/addr/route in the namespace) and a host server on 127.0.0.1 that the
# container reaches as 10.0.2.2. tcpdump on tap0 reads the MSS option of tapird's SYN-ACK:
#   (a) the TAP as created (MTU 1500): MSS 1460, not 65480 from tapird's default MTU
#   (b) the container sets MTU 1400: MSS 1360
#   (c) `ip link set tap0 mtu 1300` afterwards: tapirctl status shows MTU 1300
#   (d) and new connections get 1260
#   and: tapird survived and its log has no sanitizer report.
#
#   bash tests/integration/test_mss_mtu.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"
need_exec "missing (tests/deps.sh installs it)" /usr/bin/tcpdump

NS=tof-mtu-$$
WORK=$(mktemp -d /tmp/tof-mtu-$$.XXXXXX)
cleanup_on_exit "$NS"

if ! ns_with_tapird "$NS" "$WORK/control.sock" "$WORK/tapird.log" --no-configure \
	--log-level info || ! ip -n "$NS" link show tap0 >/dev/null 2>&1; then
	notok "tapird --no-configure creates tap0 in $NS: $(tail -5 "$WORK/tapird.log" 2>/dev/null)"
	finish
fi
# the container's administrator sets the link up (MTU left as the TAP was created: 1500)
ip -n "$NS" link set tap0 up &&
	ip -n "$NS" addr add 10.0.2.100/24 dev tap0 &&
	ip -n "$NS" route add default via 10.0.2.2 ||
	{ notok "configure tap0 in $NS"; finish; }

# a host server that accepts and closes, for as long as the test runs
PORT=$(free_port)
/usr/bin/python3 - "$PORT" >"$WORK/srv.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
EOF
pids+=($!)
for i in $(seq 50); do grep -q listening "$WORK/srv.out" && break; sleep 0.1; done

# synack_mss NAME: connect from the container once; print the MSS of tapird's SYN-ACK
synack_mss() {
	local cap=$WORK/$1.txt tp i
	timeout 10 ip netns exec "$NS" tcpdump -l -nn -v -i tap0 -c 1 \
		"tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) and src port $PORT" \
		>"$cap" 2>"$cap.err" &
	tp=$!
	for i in $(seq 50); do grep -q "listening on" "$cap.err" && break; sleep 0.1; done
	timeout 5 ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys
socket.create_connection(("10.0.2.2", int(sys.argv[1])), 3).close()' "$PORT" 2>>"$cap.err"
	wait $tp
	grep -o 'mss [0-9]*' "$cap" | head -1 | cut -d' ' -f2
}

# wait_mtu N: until tapird's status shows MTU N (it follows netlink asynchronously)
wait_mtu() {
	local i
	for i in $(seq 50); do
		"$TAPIRCTL" -s "$WORK/control.sock" status --json 2>/dev/null |
			grep -q "\"mtu\": *$1\b" && return 0
		sleep 0.1
	done
	return 1
}

mss=$(synack_mss a)
if [ "$mss" = 1460 ]; then
	ok "(a) the TAP as created (MTU 1500): SYN-ACK MSS 1460"
else
	notok "(a) MTU 1500: SYN-ACK MSS '$mss', want 1460 ($(cat "$WORK/a.txt.err" | tail -2))"
fi

ip -n "$NS" link set tap0 mtu 1400
wait_mtu 1400
mss=$(synack_mss b)
if [ "$mss" = 1360 ]; then
	ok "(b) the container set MTU 1400: SYN-ACK MSS 1360"
else
	notok "(b) MTU 1400: SYN-ACK MSS '$mss', want 1360"
fi

ip -n "$NS" link set tap0 mtu 1300
if wait_mtu 1300; then
	ok "(c) tapirctl status shows MTU 1300 after ip link set tap0 mtu 1300"
else
	notok "(c) status MTU: $("$TAPIRCTL" -s "$WORK/control.sock" status --json 2>&1 | grep -o '"mtu": *[0-9]*')"
fi
mss=$(synack_mss c)
if [ "$mss" = 1260 ]; then
	ok "(d) after ip link set tap0 mtu 1300: SYN-ACK MSS 1260"
else
	notok "(d) MTU 1300: SYN-ACK MSS '$mss', want 1260"
fi

tapird_end_checks "$TAPIRD_PID" "$WORK/tapird.log"
finish
