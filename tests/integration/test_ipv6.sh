#!/bin/bash
# tests/integration/test_ipv6.sh - IPv6 for the container (issue 13), with the container's own
# kernel as the peer: its address fd00::100/64 and default route set over netlink at attach,
# router advertisements (SLAAC from the advertised prefix), neighbour discovery for the
# gateway fd00::2, ICMPv6 echo to the gateway answered by the stack (also 3000 bytes at MTU
# 1500: fragments both ways), and the IPv6 counters in `tapirctl stats`.
#
# Namespaces of our own only (tv6-*); traffic only inside them and to ::1.
#   bash tests/integration/test_ipv6.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSC=tv6-c-$$
WORK=$(mktemp -d /tmp/tv6-ipv6-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# counter NAME: the link's counter from `tapirctl --json stats`
counter() {
	"$TAPIRCTL" -s "$SOCK" --json stats 2>/dev/null | "$PY" -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if sys.argv[1] in o and isinstance(o[sys.argv[1]], int):
            return o[sys.argv[1]]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
try:
    print(find(json.load(sys.stdin)))
except ValueError:
    print(-1)' "$1"
}

# received OUTPUT: the "N received" of ping(8)'s summary
received() { printf '%s\n' "$1" | grep -o '[0-9]* received' | grep -o '[0-9]*'; }

ip netns add "$NSC" || { notok "namespace $NSC"; finish; }
ip -n "$NSC" link set lo up

"$TAPIRD" -f --netns "$NSC" --control "$SOCK" --mtu 1500 --log-level warn \
	${TAPIRD_ARGS:-} >"$LOG" 2>&1 &
TPID=$!
for i in $(seq 100); do
	kill -0 $TPID 2>/dev/null || break
	ip -n "$NSC" -6 -br addr show tap0 2>/dev/null | grep -q fd00::100 && [ -S "$SOCK" ] && break
	sleep 0.1
done
if ! ip -n "$NSC" -6 -br addr show tap0 2>/dev/null | grep -q 'fd00::100/64'; then
	notok "tapird attaches to $NSC with fd00::100/64 (log: $(tail -5 "$LOG"))"
	finish
fi
ok "tap0 in $NSC has fd00::100/64: $(ip -n "$NSC" -6 -br addr show tap0 | tr -s ' ')"

route=$(ip -n "$NSC" -6 route show default)
if printf '%s' "$route" | grep -q 'via fe80::74:61ff:fe70:6972 dev tap0 metric 2048'; then
	ok "IPv6 default route via tapird's link-local: $route"
else
	notok "IPv6 default route: '$route'"
fi

# (a) ping the gateway: neighbour discovery for fd00::2, then echo answered by the stack
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 3 -i 0.3 -W 2 fd00::2 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 3 ] && [ "$(counter ndp_neighbor_adverts)" -ge 1 ] &&
	[ "$(counter icmp6_echo_replies)" -ge 3 ]; then
	ok "(a) ping -6 fd00::2: $n of 3 answered; NAs $(counter ndp_neighbor_adverts), replies $(counter icmp6_echo_replies)"
else
	notok "(a) ping -6 fd00::2: received ${n:-0} of 3: $(printf '%s' "$out" | tail -2)"
fi
nb=$(ip -n "$NSC" -6 neigh show fd00::2 dev tap0)
if printf '%s' "$nb" | grep -q '02:74:61:70:69:72'; then
	ok "(a) the container's neighbour entry for fd00::2: $nb"
else
	notok "(a) neighbour entry for fd00::2: '$nb'"
fi

# (b) 3000 bytes at MTU 1500: the container fragments, tapird reassembles, answers in fragments
out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 2 -i 0.3 -W 2 -s 3000 fd00::2 2>&1)
n=$(received "$out")
if [ "${n:-0}" = 2 ] && [ "$(counter ip6_frag_reassembled)" -ge 2 ]; then
	ok "(b) ping -6 -s 3000 fd00::2 at MTU 1500 (fragments both ways): $n of 2; reassembled $(counter ip6_frag_reassembled)"
else
	notok "(b) ping -6 -s 3000 fd00::2: received ${n:-0} of 2, reassembled $(counter ip6_frag_reassembled): $(printf '%s' "$out" | tail -2)"
fi

# (c) router advertisements: the container took an address from the prefix by SLAAC (its
# interface identifier from its MAC), and the link MTU from the MTU option
slaac=
for i in $(seq 50); do
	slaac=$(ip -n "$NSC" -6 addr show dev tap0 scope global dynamic 2>/dev/null |
		grep -o 'fd00::[0-9a-f:]*/64' | head -1)
	[ -n "$slaac" ] && break
	sleep 0.1
done
if [ -n "$slaac" ] && [ "$(counter ndp_router_adverts)" -ge 1 ]; then
	ok "(c) SLAAC address from the advertised prefix: $slaac (RAs sent: $(counter ndp_router_adverts))"
else
	notok "(c) no SLAAC address on tap0 (RAs sent: $(counter ndp_router_adverts)): $(ip -n "$NSC" -6 addr show dev tap0 | tr -s ' ')"
fi
if [ -n "$slaac" ]; then
	out=$(timeout 20 ip netns exec "$NSC" ping -6 -n -c 2 -i 0.3 -W 2 -I "${slaac%/64}" fd00::3 2>&1)
	n=$(received "$out")
	if [ "${n:-0}" = 2 ]; then
		ok "(c) ping -6 fd00::3 from the SLAAC address: $n of 2"
	else
		notok "(c) ping -6 fd00::3 from ${slaac%/64}: ${n:-0} of 2: $(printf '%s' "$out" | tail -2)"
	fi
fi

# (d) the counters are in `tapirctl stats` and the drops of IPv6 are named there
st=$("$TAPIRCTL" -s "$SOCK" stats 2>&1)
if printf '%s' "$st" | grep -q ip6_chain_too_long &&
	printf '%s' "$st" | grep -q ip6_rh0; then
	ok "(d) tapirctl stats lists the IPv6 drop counters"
else
	notok "(d) tapirctl stats: $(printf '%s' "$st" | head -3)"
fi

# tapird survived, exits 0 on SIGTERM, no sanitizer report
if kill -0 $TPID 2>/dev/null; then
	kill $TPID
	wait $TPID
	rc=$?
	TPID=
	check "tapird exits 0 on SIGTERM (rc $rc)" test $rc = 0
else
	notok "tapird died: $(tail -5 "$LOG")"
	TPID=
fi
if grep -q 'Sanitizer\|runtime error' "$LOG"; then
	notok "sanitizer report in the log: $(grep -m3 'Sanitizer\|runtime error' "$LOG")"
else
	ok "no sanitizer report in tapird's log"
fi
finish
