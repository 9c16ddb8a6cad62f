#!/bin/bash
# tests/integration/test_udp_gso.sh - the container's UDP datagrams go upstream in runs of one
# size as single UDP GSO sends (udprelay.c), and arrive as they left: each datagram whole, with
# its own length, in order; what the kernel refuses to send that way goes one by one, with the
# errors it always had.
#
# Three namespaces of our own, as test_icmp_errors.sh: "host" (tapird runs there; the receivers
# of (a) and (b) listen on its loopback), "peer" (169.254.90.2 and 2001:db8:90::2 behind a veth
# pair of MTU 1280) and "container" (tap0, MTU 1500). Runs form only when tapird finds several
# datagrams in the TAP at once: the test stops tapird (SIGSTOP), lets the container send a
# burst into the TAP's queue, and lets tapird go on (SIGCONT). Checks:
#   (a) a burst of ~200 datagrams to 10.0.2.2 (host 127.0.0.1) mixing runs of one size with a
#       shorter last one, a larger one, an empty one, sizes past one GSO send's bytes: all
#       received, each byte-identical and of its own length, in order; udp_gso_sends grew and
#       udp_gso_fallbacks did not
#   (b) the same over IPv6, to fd00::2 (host ::1)
#   (c) 1400-byte datagrams without DF to the peer: the path's MTU (1280) is too small for a
#       GSO segment, the kernel refuses (EINVAL), tapird sends them one by one and its socket
#       fragments them: all arrive intact; udp_gso_fallbacks grew, udp_gso_sends did not
#   (d) the same with DF: refused, then each datagram fails alone with EMSGSIZE and the
#       container is told the path MTU (drop_udp_too_big counts every one, icmp_too_big_sent;
#       the container's socket is gone by then: test_icmp_errors.sh checks what it learns)
#   (e) 2000-byte IPv6 datagrams (the container fragments them, tapird reassembles: no DF
#       meaning) to the peer: as (c)
#   and: tapird survived, no sanitizer report in its log.
#
#   bash tests/integration/test_udp_gso.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
# Traffic goes only to the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices, SIGSTOP of tapird"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSH=tapir-gh-$$
NSP=tapir-gp-$$
NSC=tapir-gc-$$
PEER=169.254.90.2
PEER6=2001:db8:90::2
WORK=$(mktemp -d /tmp/tapir-udpgso-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup_on_exit "$NSC" "$NSP" "$NSH"

# The bursts, by name, for the sender and the receiver alike: datagram i of a burst is i as 4
# bytes, then bytes of a pattern that starts where i says (cut to the datagram's length)
cat >"$WORK/burst.py" <<'EOF'
import struct

def sizes(name):
    if name == "mixed":
        # runs of 1400 (the last of a run may be shorter: 1000), a larger one (1401) that
        # starts a new run, an empty datagram, short ones, 9000-byte ones (7 fill one GSO
        # send's 65507 bytes; the container fragments them), one 1 byte shorter, and so on
        return ([1400] * 40 + [1000] + [1400] * 20 + [1401] + [1400] * 3 + [0] + [1400] * 5 +
                [700] * 2 + [1] * 3 + [9000] * 10 + [8999] + [512] * 17 + [100, 200, 300] +
                [1472] * 30 + [1])
    if name == "nodf":
        return [1400] * 60
    if name == "df":
        return [1400] * 20
    if name == "big6":
        return [2000] * 30
    raise SystemExit("no burst " + name)

PATTERN = bytes(range(251)) * 40

def datagram(i, n):
    off = (i * 31) % 251
    return (struct.pack(">I", i) + PATTERN[off:off + n])[:n]
EOF

# recv.py FAMILY ADDR BURST: bound to ADDR, prints its port, then takes datagrams until the
# burst is complete or 3 s pass without one (30 s for the first); prints what it found and
# exits 0 if every datagram came, intact and in order
cat >"$WORK/recv.py" <<'EOF'
import socket, sys
sys.path.insert(0, sys.argv[4])
from burst import sizes, datagram
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE: a whole burst at once
s.bind((sys.argv[2], 0))
print(s.getsockname()[1], flush=True)
want = [datagram(i, n) for i, n in enumerate(sizes(sys.argv[3]))]
got = []
s.settimeout(30)
while len(got) < len(want):
    try:
        got.append(s.recv(65536))
    except socket.timeout:
        break
    s.settimeout(3)
bad = [i for i in range(min(len(got), len(want))) if got[i] != want[i]]
if bad:
    i = bad[0]
    print("%d of %d received, %d differ; first: #%d, %d bytes, want %d bytes" %
          (len(got), len(want), len(bad), i, len(got[i]), len(want[i])))
    sys.exit(1)
print("%d of %d received, all intact and in order (%d bytes)" %
      (len(got), len(want), sum(map(len, got))))
sys.exit(0 if len(got) == len(want) else 1)
EOF

# send.py FAMILY ADDR PORT BURST DF: the burst to ADDR:PORT from one socket; DF "do" or "dont"
# (IP_MTU_DISCOVER; IPv6: the default, fragmenting what passes the MTU)
cat >"$WORK/send.py" <<'EOF'
import socket, sys
sys.path.insert(0, sys.argv[6])
from burst import sizes, datagram
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)   # SO_SNDBUFFORCE
if fam == socket.AF_INET:
    s.setsockopt(socket.IPPROTO_IP, 10, 2 if sys.argv[5] == "do" else 0)  # IP_MTU_DISCOVER
s.connect((sys.argv[2], int(sys.argv[3])))
for i, n in enumerate(sizes(sys.argv[4])):
    s.send(datagram(i, n))
EOF

# burst NSRECV FAMILY RECVADDR DSTADDR BURST DF: a receiver in NSRECV on RECVADDR, the burst
# sent to DSTADDR (from the container) while tapird is stopped; prints the receiver's verdict.
# Return: the receiver's
burst() {
	local out=$WORK/recv.$1.$5.$2 port i
	timeout 60 ip netns exec "$1" "$PY" "$WORK/recv.py" "$2" "$3" "$5" "$WORK" >"$out" 2>&1 &
	local rp=$!
	for i in $(seq 50); do
		port=$(head -1 "$out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		kill $rp 2>/dev/null
		wait $rp
		echo "receiver did not start: $(cat "$out")"
		return 1
	fi
	kill -STOP "$TPID"
	timeout 20 ip netns exec "$NSC" "$PY" "$WORK/send.py" "$2" "$4" "$port" "$5" "$6" "$WORK"
	kill -CONT "$TPID"
	wait $rp
	local rc=$?
	tail -n +2 "$out"
	return $rc
}

# --- setup: host and peer joined by a veth pair at MTU 1280; tapird in the host namespace ---
host_peer_tapird "$NSH" "$NSP" "$NSC" tgv$$ 169.254.90 2001:db8:90 "$SOCK" "$LOG" 1280
ok "tapird runs in $NSH and serves $NSC at MTU 1500; the path to the peer has MTU 1280"
for i in $(seq 50); do
	ip -n "$NSC" -6 route show default 2>/dev/null | grep -q . && break
	sleep 0.1
done
# the gateway's addresses resolved (ARP, NDP) before tapird stops: the bursts must not wait on
# them
timeout 10 ip netns exec "$NSC" ping -n -c 1 -W 2 10.0.2.2 >/dev/null 2>&1
timeout 10 ip netns exec "$NSC" ping -6 -n -c 1 -W 2 fd00::2 >/dev/null 2>&1

# counted_burst WHAT GROWS STAYS RECVNS FAMILY RECVADDR DSTADDR BURST: burst ... BURST dont; ok if
# it arrived whole, the counter GROWS grew and the counter STAYS did not move
counted_burst() {
	local what=$1 grows=$2 stays=$3 g0 g1 s0 s1 out rc
	shift 3
	g0=$(counter "$SOCK" "$grows")
	s0=$(counter "$SOCK" "$stays")
	out=$(burst "$@" dont)
	rc=$?
	g1=$(counter "$SOCK" "$grows")
	s1=$(counter "$SOCK" "$stays")
	local good=no
	[ $rc = 0 ] && [ "$g0" -ge 0 ] && [ "$g1" -gt "$g0" ] && [ "$s1" = "$s0" ] && good=yes
	check "$what $5 burst to $4 (host $3): $out; $grows $g0 -> $g1, $stays $s0 -> $s1" \
		[ $good = yes ]
}

# (a), (b): runs go out with UDP GSO, none falls back
gso_check() { counted_burst "$1" udp_gso_sends udp_gso_fallbacks "$NSH" "$2" "$3" "$4" mixed; }
gso_check "(a)" 4 127.0.0.1 10.0.2.2
gso_check "(b)" 6 ::1 fd00::2

# (c), (e): to the peer behind the path of MTU 1280 the kernel refuses GSO, every datagram
# still arrives
fallback_check() {
	counted_burst "$1" udp_gso_fallbacks udp_gso_sends "$NSP" "$2" "$3" "$3" "$4"
}
fallback_check "(c)" 4 $PEER nodf

# (d) with DF: every datagram refused alone with EMSGSIZE, the container told the path MTU
f0=$(counter "$SOCK" udp_gso_fallbacks)
d0=$(counter "$SOCK" drop_udp_too_big)
tb0=$(counter "$SOCK" icmp_too_big_sent)
kill -STOP "$TPID"
timeout 20 ip netns exec "$NSC" "$PY" "$WORK/send.py" 4 $PEER 9 df do "$WORK"
kill -CONT "$TPID"
for i in $(seq 50); do
	d1=$(counter "$SOCK" drop_udp_too_big)
	[ "$d1" -ge $((d0 + 20)) ] && break
	sleep 0.1
done
f1=$(counter "$SOCK" udp_gso_fallbacks)
tb1=$(counter "$SOCK" icmp_too_big_sent)
if [ $((d1 - d0)) = 20 ] && [ "$f1" -gt "$f0" ] && [ "$tb1" -gt "$tb0" ]; then
	ok "(d) 20 datagrams of 1400 bytes with DF to $PEER: drop_udp_too_big $d0 -> $d1, icmp_too_big_sent $tb0 -> $tb1, udp_gso_fallbacks $f0 -> $f1"
else
	notok "(d) 20 DF datagrams to $PEER: drop_udp_too_big $d0 -> $d1 (want +20), icmp_too_big_sent $tb0 -> $tb1, udp_gso_fallbacks $f0 -> $f1"
fi

fallback_check "(e)" 6 $PEER6 big6

tapird_end_checks "$TPID" "$LOG"
finish
