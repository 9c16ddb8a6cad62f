#!/bin/bash
# tests/integration/test_synflood.sh - a SYN flood from the container cannot keep a genuine
# connection from its SYN-ACK (RFC 4987 3.5: the oldest half-open connection is evicted).
#
# tapird serves a namespace of our own. On the host, 127.0.0.1 has a listener with a full
# accept queue that never accepts (so every upstream connect() of the flood stays pending
# and its flow half-open) and an ordinary one. Checks:
#   (a) scapy sends FLOOD_N SYNs (from the container's address, random ports) to the full
#       listener through tap0, never completing any: tapird's half-open table fills to its
#       bound (1024)
#   (b) then a real connect() from the container to the ordinary listener succeeds within a
#       second (before the fix it waited for the flood's flows to time out)
#   (c) tapirctl stats counts the evictions (tcp_half_open_evicted > 0)
#   and: tapird survived and its log has no sanitizer report.
#
#   bash tests/integration/test_synflood.sh BUILD_DIR     (as root; or BUILD=... in the env)
#   FLOOD_N= overrides the flood's size (3000).
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

FLOOD_N=${FLOOD_N:-3000}
HALF_OPEN_MAX=1024 # tapird's default --max-half-open

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"
if ! $PY -c 'import scapy' 2>/dev/null; then
	echo "test_synflood.sh: $PY has no scapy (tests/deps.sh installs python3-scapy)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

NS=tof-flood-$$
WORK=$(mktemp -d /tmp/tof-flood-$$.XXXXXX)
cleanup_on_exit "$NS"

if ! ns_with_tapird "$NS" "$WORK/control.sock" "$WORK/tapird.log" --log-level warn ||
	! wait_link_up "$NS"; then
	notok "tapird attaches to $NS: $(tail -5 "$WORK/tapird.log")"
	finish
fi
GWMAC=$(ip -n "$NS" neigh show 10.0.2.2 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
# tap0's queue holds the whole flood: a slow tapird (sanitizers) must still see every SYN
ip -n "$NS" link set tap0 txqueuelen $((FLOOD_N + 1000))

# two host listeners: FULL never accepts (backlog 0: its accept queue is full after one
# connection, later SYNs are dropped by the host kernel, their connects stay pending); OPEN
# accepts and closes
# accepts and closes. Ports: FULL from free_port, OPEN the next free one the server finds.
FULL=$(free_port)
$PY - "$FULL" >"$WORK/srv.out" 2>&1 <<'EOF' &
import select, socket, sys, time
full = socket.socket()
full.bind(("127.0.0.1", int(sys.argv[1])))
full.listen(0)
opn = socket.socket()
for p in range(int(sys.argv[1]) + 1, int(sys.argv[1]) + 200):
    try:
        opn.bind(("127.0.0.1", p))
        break
    except OSError:
        pass
opn.listen(64)
print("listening", opn.getsockname()[1], flush=True)
end = time.time() + 90
while time.time() < end:
    r, _, _ = select.select([opn], [], [], 1)
    if r:
        c, _ = opn.accept()
        c.close()
EOF
pids+=($!)
for i in $(seq 50); do grep -q listening "$WORK/srv.out" && break; sleep 0.1; done
OPEN=$(awk '/^listening/ { print $2 }' "$WORK/srv.out")

# (a) the flood: raw frames on tap0, as a hostile process of the container would send them
t0=$(date +%s.%N)
if timeout 60 ip netns exec "$NS" $PY - "$FLOOD_N" "$GWMAC" "$FULL" >"$WORK/flood.out" 2>&1 <<'EOF'
import random, sys
from scapy.all import Ether, IP, TCP, conf, raw
n, mac, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = conf.L2socket(iface="tap0")
frames = [raw(Ether(dst=mac) / IP(src="10.0.2.100", dst="10.0.2.2") /
              TCP(sport=sport, dport=port, flags="S", seq=random.getrandbits(32)))
          for sport in random.sample(range(20000, 60000), n)]
for f in frames:
    s.send(f)
print("sent", n)
EOF
then
	flood_ok=1
else
	flood_ok=0
fi
# wait (bounded) until tapird has taken the whole queue
for i in $(seq 50); do
	half=$("$TAPIRCTL" -s "$WORK/control.sock" conns --state SYN_RCVD 2>/dev/null | tail -n +2 | wc -l)
	[ "$half" -ge $HALF_OPEN_MAX ] && break
	sleep 0.2
done
echo "# flood sent in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s; half-open flows now: $half"
if [ $flood_ok = 1 ] && [ "$half" -ge $HALF_OPEN_MAX ]; then
	ok "(a) $FLOOD_N SYNs from the container to 10.0.2.2:$FULL, never completed: $half half-open"
else
	notok "(a) flood: $half half-open: $(tail -3 "$WORK/flood.out")"
fi

# (b) a genuine connection from the container's own kernel, timed
out=$(timeout 10 ip netns exec "$NS" $PY - "$OPEN" 2>&1 <<'EOF'
import socket, sys, time
t = time.monotonic()
try:
    socket.create_connection(("10.0.2.2", int(sys.argv[1])), 1.0).close()
except OSError as e:
    print("failed after %.3f s: %s" % (time.monotonic() - t, e))
    sys.exit(1)
print("connected in %.3f s" % (time.monotonic() - t))
EOF
)
rc=$?
echo "# $out"
if [ $rc = 0 ]; then
	ok "(b) after the flood a real connect() to 10.0.2.2:$OPEN succeeds within 1 s"
else
	notok "(b) after the flood: $out"
fi

# (c) counted
ev=$("$TAPIRCTL" -s "$WORK/control.sock" stats 2>/dev/null | awk '$1 == "tcp_half_open_evicted" { print $2 }')
echo "# tcp_half_open_evicted $ev"
if [ -n "$ev" ] && [ "$ev" -gt 0 ]; then
	ok "(c) tapirctl stats: tcp_half_open_evicted $ev"
else
	notok "(c) tapirctl stats: tcp_half_open_evicted '$ev'"
fi

tapird_end_checks "$TAPIRD_PID" "$WORK/tapird.log"
finish
