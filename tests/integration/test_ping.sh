#!/bin/bash
# tests/integration/test_ping.sh - ICMP echo from the container to another host, relayed by
# tapird through unprivileged ping sockets (pingrelay.c).
#
# Three namespaces of our own: "host" (where tapird runs: its ping sockets live there, and so
# does net.ipv4.ping_group_range, which we set there and nowhere else), "peer" (a host at
# 169.254.88.2 behind a veth pair, 169.254.88.1/30 on the host end) and "container" (tap0).
# The container pings 169.254.88.2; nothing else is ever pinged. Checks:
#   (a) with the data path's group (tapird's, after the privilege drop) in ping_group_range,
#       and no other: replies come back (ping(8) in the container counts
#       them), counted in icmp_echo_relayed and icmp_echo_relayed_replies
#   (b) 9000 bytes of data (fragmented by the container at MTU 1500, reassembled by tapird,
#       relayed, the reply fragmented back): answered
#   (c) with ping sockets not permitted ("1 0", the kernel default): no reply, each request
#       counted in drop_icmp_echo_failed, and the log says why once
#   (d) ping to the gateway (also with 3000 bytes: fragments both ways) is still answered by
#       the stack itself, not relayed
#   and: tapird survived, exits 0 on SIGTERM, no sanitizer report in its log.
#
#   bash tests/integration/test_ping.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSH=tapir-ph-$$
NSP=tapir-pp-$$
NSC=tapir-pc-$$
PEER=169.254.88.2
WORK=$(mktemp -d /tmp/tapir-ping-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup_on_exit "$NSC" "$NSP" "$NSH"

# --- setup: host and peer joined by a veth pair; tapird in the host namespace ---------------
host_peer_tapird "$NSH" "$NSP" "$NSC" tpv$$ 169.254.88 2001:db8:88 "$SOCK" "$LOG"
ok "tapird runs in $NSH (ping_group_range $G $G there: its data path's group) and serves $NSC at MTU 1500"

# (a) replies come back
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 3 -i 0.3 -W 2 $PEER 2>&1)
n=$(received "$out")
rel=$(counter "$SOCK" icmp_echo_relayed)
rep=$(counter "$SOCK" icmp_echo_relayed_replies)
if [ "${n:-0}" = 3 ] && [ "$rel" -ge 3 ] && [ "$rep" -ge 3 ]; then
	ok "(a) ping $PEER from the container: $n of 3 answered; relayed $rel, replies $rep"
else
	notok "(a) ping $PEER: received ${n:-0} of 3, relayed $rel, replies $rep: $(printf '%s' "$out" | tail -2)"
fi

# (b) 9000 bytes: fragments both ways on the TAP (MTU 1500)
frag0=$(counter "$SOCK" drop_ip_fragment)
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 2 -i 0.3 -W 2 -s 9000 $PEER 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 2 ]; then
	ok "(b) ping -s 9000 $PEER at MTU 1500 (fragments both ways): $n of 2 answered"
else
	notok "(b) ping -s 9000 $PEER: received ${n:-0} of 2 (drop_ip_fragment $frag0 -> $(counter "$SOCK" drop_ip_fragment)): $(printf '%s' "$out" | tail -2)"
fi

# (d) the gateway is answered by the stack, not relayed
rel0=$(counter "$SOCK" icmp_echo_relayed)
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 2 -i 0.3 -W 2 10.0.2.2 2>&1)
n=$(received "$out")
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 2 -i 0.3 -W 2 -s 3000 10.0.2.2 2>&1)
nb=$(received "$out")
rel1=$(counter "$SOCK" icmp_echo_relayed)
if [ "${n:-0}" = 2 ] && [ "${nb:-0}" = 2 ] && [ "$rel0" = "$rel1" ]; then
	ok "(d) ping 10.0.2.2 (and -s 3000, in fragments both ways): $n and $nb of 2 answered by the stack, none relayed ($rel0 -> $rel1)"
else
	notok "(d) ping 10.0.2.2: received ${n:-0} and ${nb:-0} (-s 3000) of 2, relayed $rel0 -> $rel1"
fi

# (e) ping -6 the peer: relayed through an ICMPv6 ping socket (the same ping_group_range)
rel0=$(counter "$SOCK" icmp_echo_relayed)
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 3 -i 0.3 -W 2 2001:db8:88::2 2>&1)
n=$(received "$out")
rel1=$(counter "$SOCK" icmp_echo_relayed)
if [ "${n:-0}" = 3 ] && [ "$((rel1 - rel0))" -ge 3 ]; then
	ok "(e) ping -6 2001:db8:88::2 from the container: $n of 3 answered, relayed $rel0 -> $rel1"
else
	notok "(e) ping -6 2001:db8:88::2: received ${n:-0} of 3, relayed $rel0 -> $rel1: $(printf '%s' "$out" | tail -2)"
fi

# (c) ping sockets not permitted: nothing answered, each request counted. A new ping(8)
# process uses a new identifier, so tapird needs a new socket, which the kernel now refuses.
ip netns exec "$NSH" sysctl -q -w net.ipv4.ping_group_range="1 0"
f0=$(counter "$SOCK" drop_icmp_echo_failed)
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 3 -i 0.3 -W 1 $PEER 2>&1)
n=$(received "$out")
f1=$(counter "$SOCK" drop_icmp_echo_failed)
if [ "${n:-0}" = 0 ] && [ $((f1 - f0)) = 3 ] && [ "$(grep -c 'ping sockets not permitted' "$LOG")" = 1 ]; then
	ok "(c) ping_group_range 1 0: no reply, drop_icmp_echo_failed $f0 -> $f1, logged once"
else
	notok "(c) not permitted: received ${n:-0}, drop_icmp_echo_failed $f0 -> $f1, log: $(grep -c 'ping sockets' "$LOG")"
fi

alive=0
kill -0 $TPID 2>/dev/null && alive=1
kill -TERM $TPID 2>/dev/null
wait $TPID
rc=$?
TPID=
if [ $alive = 1 ] && [ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$LOG"; then
	ok "tapird stayed alive, exits 0 on SIGTERM, no sanitizer report"
else
	notok "alive $alive, exit $rc: $(grep -hE 'Sanitizer|runtime error|ERROR' "$LOG" | head -5)"
fi
finish
