#!/bin/bash
# tests/integration/test_icmp_errors.sh - the ICMP errors tapird sends as the container's first
# hop (issue 13): Time Exceeded for TTL / hop limit 1 to a host it relays to, and Packet Too
# Big / fragmentation needed for a UDP datagram the upstream path cannot carry, as the
# container's own kernel sees them.
#
# Three namespaces of our own, as test_ping.sh: "host" (tapird runs there), "peer" (a host at
# 169.254.89.2 and 2001:db8:89::2 behind a veth pair whose MTU is 1280) and "container" (tap0,
# MTU 1500). Nothing else is ever addressed. Checks:
#   (a) ping -t 1 to the peer: "Time to live exceeded" from 10.0.2.2, counted in
#       icmp_time_exceeded_sent, not relayed; ping -t 2 is answered by the peer
#   (b) ping -6 -t 1 to the peer: "Time exceeded: Hop limit" from fd00::2
#   (c) a 1400-byte UDP datagram with DF (IP_PMTUDISC_DO) to the peer: tapird's socket refuses
#       it (EMSGSIZE, path MTU 1280), the container's kernel learns MTU 1280 from the
#       fragmentation needed (the socket's IP_MTU, the next send's EMSGSIZE, ip route get)
#   (d) the same over IPv6: Packet Too Big, IPV6_MTU 1280
#   and: tapird survived, no sanitizer report in its log.
#
#   bash tests/integration/test_icmp_errors.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSH=tapir-eh-$$
NSP=tapir-ep-$$
NSC=tapir-ec-$$
PEER=169.254.89.2
PEER6=2001:db8:89::2
WORK=$(mktemp -d /tmp/tapir-icmperr-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup_on_exit "$NSC" "$NSP" "$NSH"

# --- setup: host and peer joined by a veth pair at MTU 1280; tapird in the host namespace ---
host_peer_tapird "$NSH" "$NSP" "$NSC" tev$$ 169.254.89 2001:db8:89 "$SOCK" "$LOG" 1280
ok "tapird runs in $NSH (ping_group_range $G $G there: its data path's group) and serves $NSC at MTU 1500; the path to the peer has MTU 1280"

# (a) TTL 1: the gateway says time exceeded; TTL 2 reaches the peer
rel0=$(counter "$SOCK" icmp_echo_relayed)
te0=$(counter "$SOCK" icmp_time_exceeded_sent)
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 2 -i 0.3 -W 2 -t 1 $PEER 2>&1)
te1=$(counter "$SOCK" icmp_time_exceeded_sent)
rel1=$(counter "$SOCK" icmp_echo_relayed)
hits=$(printf '%s\n' "$out" | grep -c 'From 10.0.2.2 .*Time to live exceeded')
if [ "$hits" = 2 ] && [ $((te1 - te0)) = 2 ] && [ "$rel0" = "$rel1" ]; then
	ok "(a) ping -t 1 $PEER: 2 'Time to live exceeded' from 10.0.2.2, icmp_time_exceeded_sent $te0 -> $te1, none relayed"
else
	notok "(a) ping -t 1 $PEER: $hits from 10.0.2.2, icmp_time_exceeded_sent $te0 -> $te1, relayed $rel0 -> $rel1: $(printf '%s' "$out" | tail -3)"
fi
out=$(timeout 20 ip netns exec "$NSC" ping -n -c 2 -i 0.3 -W 2 -t 2 $PEER 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 2 ]; then
	ok "(a) ping -t 2 $PEER: $n of 2 answered by the peer (the gateway is one hop)"
else
	notok "(a) ping -t 2 $PEER: received ${n:-0} of 2: $(printf '%s' "$out" | tail -2)"
fi

# (b) hop limit 1 over IPv6 (the container's address and default route come from tapird)
for i in $(seq 50); do
	ip -n "$NSC" -6 route show default 2>/dev/null | grep -q . && break
	sleep 0.1
done
te0=$(counter "$SOCK" icmp_time_exceeded_sent)
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 2 -i 0.3 -W 2 -t 1 $PEER6 2>&1)
te1=$(counter "$SOCK" icmp_time_exceeded_sent)
hits=$(printf '%s\n' "$out" | grep -c 'From fd00::2 .*Time exceeded: Hop limit')
if [ "$hits" = 2 ] && [ $((te1 - te0)) = 2 ]; then
	ok "(b) ping -6 -t 1 $PEER6: 2 'Time exceeded: Hop limit' from fd00::2, icmp_time_exceeded_sent $te0 -> $te1"
else
	notok "(b) ping -6 -t 1 $PEER6: $hits from fd00::2, icmp_time_exceeded_sent $te0 -> $te1: $(printf '%s' "$out" | tail -3)"
fi

# too_big FAMILY ADDR: in the container, a connected UDP socket with path MTU discovery on
# ("do": DF, never fragmented) sends 1400 bytes to ADDR:9 (nobody listens: no answer needed);
# prints the first send's result, the second's (after the error had time to come back) and
# the socket's path MTU
too_big() {
	timeout 20 ip netns exec "$NSC" "$PY" -c '
import errno, socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, 23, 2)   # IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO
else:
    s.setsockopt(socket.IPPROTO_IP, 10, 2)     # IP_MTU_DISCOVER, IP_PMTUDISC_DO
s.connect((sys.argv[2], 9))
res = []
for i in range(2):
    try:
        s.send(b"x" * 1400)
        res.append("sent")
    except OSError as e:
        res.append(errno.errorcode.get(e.errno, str(e.errno)))
    time.sleep(0.5)
mtu = s.getsockopt(socket.IPPROTO_IPV6, 24) if fam == socket.AF_INET6 else s.getsockopt(socket.IPPROTO_IP, 14)
print(res[0], res[1], mtu)' "$1" "$2" 2>&1
}

# (c) IPv4: fragmentation needed with the path MTU
tb0=$(counter "$SOCK" icmp_too_big_sent)
d0=$(counter "$SOCK" drop_udp_too_big)
out=$(too_big 4 $PEER)
tb1=$(counter "$SOCK" icmp_too_big_sent)
d1=$(counter "$SOCK" drop_udp_too_big)
route=$(ip -n "$NSC" route get $PEER 2>&1 | tr '\n' ' ')
if [ "$out" = "sent EMSGSIZE 1280" ] && [ $((tb1 - tb0)) -ge 1 ] && [ $((d1 - d0)) -ge 1 ] &&
	printf '%s' "$route" | grep -q 'mtu 1280'; then
	ok "(c) UDP 1400 bytes with DF to $PEER: fragmentation needed, the container's socket says '$out' (first send, second, IP_MTU); icmp_too_big_sent $tb0 -> $tb1, drop_udp_too_big $d0 -> $d1; route: $route"
else
	notok "(c) UDP with DF to $PEER: '$out', icmp_too_big_sent $tb0 -> $tb1, drop_udp_too_big $d0 -> $d1, route: $route"
fi

# (d) IPv6: Packet Too Big with the path MTU
tb0=$(counter "$SOCK" icmp_too_big_sent)
out=$(too_big 6 $PEER6)
tb1=$(counter "$SOCK" icmp_too_big_sent)
route=$(ip -n "$NSC" -6 route get $PEER6 2>&1 | tr '\n' ' ')
if [ "$out" = "sent EMSGSIZE 1280" ] && [ $((tb1 - tb0)) -ge 1 ] &&
	printf '%s' "$route" | grep -q 'mtu 1280'; then
	ok "(d) UDP 1400 bytes to $PEER6: Packet Too Big, the container's socket says '$out'; icmp_too_big_sent $tb0 -> $tb1; route: $route"
else
	notok "(d) UDP to $PEER6: '$out', icmp_too_big_sent $tb0 -> $tb1, route: $route"
fi

tapird_end_checks "$TPID" "$LOG"
finish
