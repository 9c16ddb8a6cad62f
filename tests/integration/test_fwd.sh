#!/bin/bash
# tests/integration/test_fwd.sh - port forwards: host ports into the container, with the
# client's real address.
#
# Part 1: tapird serves a namespace of its own (configured), with a TCP forward from the
# configuration file ([forward] tcp) and a UDP one from the command line (-u). A python server
# in the container echoes the peer address it saw. Clients: the host's loopback (the container
# sees 10.0.2.2) and a second namespace joined to the host by a veth pair with link-local
# addresses 169.254.77.1/30 (host) and .2/30 (client; the container sees 169.254.77.2).
# Checks: LISTEN rows in `tapirctl --json conns --state LISTEN`, the flow's origin, peer and
# upstream, UDP both ways, the runtime API on the raw socket (add, list, remove and their
# errors), tapirctl fwd add/list/del, a removed forward's open connection staying, the
# container refusing (no server: the client is reset), a forward on a busy port refused at
# start with address:port in the message.
# Part 2: tapird with --no-configure; fwd_rawpeer.py plays the container in raw frames on tap0:
# SYN_SENT and simultaneous open (SYN_RCVD) in `conns`, refusal, bad ACK, silence, a client
# that resets early, stray SYN-ACKs.
#
#   bash tests/integration/test_fwd.sh BUILD_DIR     (as root; or BUILD=... in the env)
#   QUICK=1 (sanitizer builds) doubles the waits.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
# Traffic goes only to 127.0.0.1, to 169.254.77.0/30 on the veth pair this script creates, and
# to the namespaces it creates; all are deleted at the end.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

both() { # both TEST1... -- TEST2...: the two [ ] tests hold
	local a=() b=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	"${a[@]}" && "${b[@]}"
}

need_root "namespaces, TAP devices, veth, packet sockets"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY"

SLACK=1
[ "${QUICK:-0}" = 1 ] && SLACK=2
NS=tapir-fwd-$$
NSC=tapir-fwdc-$$
NSR=tapir-fwdr-$$
VH=tfh$$
VC=tfc$$
HOST_IP=169.254.77.1
CLIENT_IP=169.254.77.2
WORK=$(mktemp -d /tmp/tapir-fwd-$$.XXXXXX)
SOCK=$WORK/control.sock
RSOCK=$WORK/raw.sock
LOG=$WORK/tapird.log
RLOG=$WORK/tapird-raw.log
# ports below the ephemeral range (32768-), spread by our pid so parallel runs do not collide
BASE=$((21000 + ($$ % 500) * 16))
P_TCP=$BASE             # [forward] tcp in the file -> container 8080
P_UDP=$((BASE + 1))     # -u -> container 7777
P_API=$((BASE + 2))     # add_hostfwd on the raw socket -> 8080
P_CTL=$((BASE + 3))     # tapirctl fwd add -> 8080
P_REF=$((BASE + 4))     # -> container 9 (nothing listens: refused)
P_RAW=$((BASE + 5))     # part 2
P_BUSY=$((BASE + 6))    # held by us: tapird must refuse to start with it
TAPIRD_PID=
RAW_PID=
cleanup() {
	stop_pids
	ip link del "$VH" 2>/dev/null
	exit_cleanup
}
EXIT_NETNS=("$NS" "$NSC" "$NSR")
trap cleanup EXIT
trap 'exit 1' INT TERM

# ctl ARGS...: tapirctl on part 1's socket
ctl() { "$TAPIRCTL" -s "$SOCK" -t 5 "$@"; }

# api JSON: one request on the raw control socket (python, one-shot as slirp4netns clients do);
# prints the reply line
api() {
	"$PY" - "$SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.decode().strip())
EOF
}

# jget JSON EXPR: evaluate a python expression on the parsed JSON (as j); prints the result
jget() {
	"$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" \
		2>/dev/null
}

# tcp_echo ADDR PORT [NS]: connect (from namespace NS if given), send "hi", print
# "LOCALADDR:LOCALPORT REPLY" (REPLY is what the container's server saw: "PEER:PORT hi")
tcp_echo() {
	local pre=()
	[ -n "${3:-}" ] && pre=(ip netns exec "$3")
	timeout $((5 * SLACK)) "${pre[@]}" "$PY" - "$1" "$2" <<'EOF'
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)
c.sendall(b"hi")
c.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = c.recv(4096)
    if not d:
        break
    out += d
print("%s:%d %s" % (c.getsockname()[0], c.getsockname()[1], out.decode()))
EOF
}

# --- part 1: a configured container -------------------------------------------------------

ip netns add "$NS" || { notok "ip netns add $NS"; finish; }
ip netns add "$NSC" || { notok "ip netns add $NSC"; finish; }
ip link add "$VH" type veth peer name "$VC" netns "$NSC" &&
	ip addr add "$HOST_IP/30" dev "$VH" && ip link set "$VH" up &&
	ip -n "$NSC" addr add "$CLIENT_IP/30" dev "$VC" && ip -n "$NSC" link set "$VC" up &&
	ip -n "$NSC" link set lo up || { notok "veth pair $VH/$VC"; finish; }

# the servers in the container: TCP on 8080 answers "PEER:PORT " + what it got, once the client
# has finished sending (so a connection can be held open); UDP on 7777 the same per datagram
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$PY" - <<'EOF' >"$WORK/server.log" 2>&1 &
import socket, threading
def tcp():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 8080))
    s.listen(64)
    while True:
        c, a = s.accept()
        threading.Thread(target=serve, args=(c, a), daemon=True).start()
def serve(c, a):
    got = b""
    while True:
        d = c.recv(4096)
        if not d or d.endswith(b"\n"):
            got += d
            break
        got += d
    c.sendall(("%s:%d " % a).encode() + got)
    if got.endswith(b"\n"):  # a held connection: echo lines until EOF
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
    c.close()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 7777))
    while True:
        d, a = u.recvfrom(65535)
        u.sendto(("%s:%d " % a).encode() + d, a)
threading.Thread(target=udp, daemon=True).start()
tcp()
EOF
pids+=($!)

cat >"$WORK/tapird.conf" <<EOF
[forward]
tcp = $P_TCP:8080
tcp = 127.0.0.1:$P_REF:9
EOF
"$TAPIRD" -f -c "$WORK/tapird.conf" --netns "$NS" --control "$SOCK" -u "$P_UDP:7777" \
	--log-level info >"$LOG" 2>&1 &
TAPIRD_PID=$!
pids+=($TAPIRD_PID)
if wait_socket "$TAPIRD_PID" "$SOCK"; then
	ok "tapird starts with a TCP forward from the file and a UDP forward from -u"
else
	notok "tapird did not start (log: $(tail -5 "$LOG"))"
	finish
fi
for _ in $(seq 50); do # the server is listening in the container
	ip netns exec "$NS" ss -ltn 2>/dev/null | grep -q ':8080 ' && break
	sleep 0.1
done

# LISTEN rows
L=$(ctl --json conns --state LISTEN)
n=$(jget "$L" "len([f for f in j['flows'] if f['proto']=='tcp' and f['state']=='LISTEN' and \
f['origin']=='host' and f['container']=='10.0.2.100:8080' and f['peer']=='0.0.0.0:0' and \
f['upstream']=='0.0.0.0:$P_TCP'])")
check "conns --state LISTEN: a row for 0.0.0.0:$P_TCP -> 10.0.2.100:8080, peer 0.0.0.0:0" \
	[ "$n" = 1 ]
n=$(jget "$L" "len(j['flows'])")
check "conns --state LISTEN: one row per TCP forward, none for UDP ($n)" [ "$n" = 2 ]

# the host's loopback: the container sees the gateway and the client's own port
out=$(tcp_echo 127.0.0.1 "$P_TCP")
lport=$(echo "$out" | awk '{print $1}' | cut -d: -f2)
seen=$(echo "$out" | awk '{print $2}')
check "loopback client: the container sees 10.0.2.2:$lport (got '$out')" \
	both [ -n "$lport" ] -- [ "$seen" = "10.0.2.2:$lport" ]

# a client beyond the host: the container sees its own address and port
out=$(tcp_echo "$HOST_IP" "$P_TCP" "$NSC")
lport=$(echo "$out" | awk '{print $1}' | cut -d: -f2)
seen=$(echo "$out" | awk '{print $2}')
check "veth client $CLIENT_IP: the container sees $CLIENT_IP:$lport (got '$out')" \
	both [ -n "$lport" ] -- [ "$seen" = "$CLIENT_IP:$lport" ]

# a held connection: its row while open
"$PY" - "$P_TCP" "$WORK/held" <<'EOF' &
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4)
c.sendall(b"hold\n")
c.recv(100)
open(sys.argv[2], "w").write(str(c.getsockname()[1]))
time.sleep(3)
c.close()
EOF
HELD=$!
for _ in $(seq 40); do [ -s "$WORK/held" ] && break; sleep 0.1; done
hp=$(cat "$WORK/held" 2>/dev/null)
C=$(ctl --json conns --proto tcp)
n=$(jget "$C" "len([f for f in j['flows'] if f['state']=='ESTABLISHED' and \
f['origin']=='host' and f['peer']=='10.0.2.2:$hp' and f['upstream']=='127.0.0.1:$hp' and \
f['container']=='10.0.2.100:8080'])")
check "an open forwarded connection: ESTABLISHED, origin host, peer 10.0.2.2:$hp, upstream \
127.0.0.1:$hp" [ "$n" = 1 ]
wait $HELD 2>/dev/null

# UDP
out=$(timeout $((5 * SLACK)) "$PY" - "$P_UDP" <<'EOF'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.bind(("127.0.0.1", 0))
u.sendto(b"one", ("127.0.0.1", int(sys.argv[1])))
a = u.recvfrom(100)[0].decode()
u.sendto(b"two", ("127.0.0.1", int(sys.argv[1])))
b = u.recvfrom(100)[0].decode()
print(u.getsockname()[1], a, b)
EOF
)
up=$(echo "$out" | awk '{print $1}')
check "UDP forward: two datagrams answered, the container sees 10.0.2.2:$up (got '$out')" \
	both [ -n "$up" ] -- [ "$out" = "$up 10.0.2.2:$up one 10.0.2.2:$up two" ]
C=$(ctl --json conns --proto udp)
n=$(jget "$C" "len([f for f in j['flows'] if f['origin']=='host' and f['state']=='REPLIED' \
and f['peer']=='10.0.2.2:$up' and f['upstream']=='127.0.0.1:$up' and \
f['container']=='10.0.2.100:7777'])")
check "UDP forward's flow: origin host, REPLIED, peer 10.0.2.2:$up" [ "$n" = 1 ]

# the container refusing: nothing listens on its port 9
t0=$(date +%s%N)
res=$(timeout $((5 * SLACK)) "$PY" - "$P_REF" <<'EOF'
import socket, sys
try:
    # with a timeout, connect() is non-blocking: a reset that came first is its error
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4)
    c.settimeout(4)
    print("eof" if c.recv(10) == b"" else "data")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("timeout")
EOF
)
ms=$((($(date +%s%N) - t0) / 1000000))
check "no server in the container: the client is reset ($res) in ${ms} ms" \
	both [ "$res" = reset ] -- [ $ms -lt $((2000 * SLACK)) ]

# --- the runtime API on the raw socket ---
r=$(api '{"execute": "list_hostfwd"}')
n=$(jget "$r" "[(e['id'],e['proto'],e['host_addr'],e['host_port'],e['guest_addr'],\
e['guest_port']) for e in j['return']['entries']] == [(1,'tcp','0.0.0.0',$P_TCP,'10.0.2.100',\
8080),(2,'tcp','127.0.0.1',$P_REF,'10.0.2.100',9),(3,'udp','0.0.0.0',$P_UDP,'10.0.2.100',7777)]")
check "list_hostfwd: the three configured forwards with every field ($r)" [ "$n" = True ]
r=$(api "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \
\"127.0.0.1\", \"host_port\": $P_API, \"guest_port\": 8080}}")
API_ID=$(jget "$r" "j['return']['id']")
check "add_hostfwd: {\"return\": {\"id\": $API_ID}} ($r)" [ "$API_ID" = 4 ]
out=$(tcp_echo 127.0.0.1 "$P_API")
lport=$(echo "$out" | awk '{print $1}' | cut -d: -f2)
check "the added forward carries a connection (got '$out')" \
	[ "$(echo "$out" | awk '{print $2}')" = "10.0.2.2:$lport" ]
r=$(api '{"execute": "list_hostfwd"}')
n=$(jget "$r" "j['return']['entries'][3] == {'id': 4, 'proto': 'tcp', 'host_addr': \
'127.0.0.1', 'host_port': $P_API, 'guest_addr': '10.0.2.100', 'guest_port': 8080, \
'link': '$NS'}")
check "list_hostfwd shows it exactly" [ "$n" = True ]

# errors
err() { # err "what" JSON needle: an error reply whose desc contains needle
	local r desc
	r=$(api "$2")
	desc=$(jget "$r" "j['error']['desc']")
	if [ -n "$desc" ] && [[ "$desc" == *"$3"* ]]; then
		ok "$1: $desc"
	else
		notok "$1: wanted an error with '$3', got $r"
	fi
}
err "port in use" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \
\"host_port\": $P_TCP, \"guest_port\": 80}}" "0.0.0.0:$P_TCP: Address already in use"
err "bad host address" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \
\"host_addr\": \"1.2.3\", \"host_port\": $P_API, \"guest_port\": 80}}" \
	"bad arguments.host_addr"
err "missing guest_port" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"udp\", \
\"host_port\": $P_API}}" "bad arguments.guest_port: missing"
err "wrong type" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \
\"host_port\": \"80\", \"guest_port\": 80}}" "bad arguments.host_port: must be an integer"
err "bad proto" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"sctp\", \
\"host_port\": 1, \"guest_port\": 80}}" "bad arguments.proto"
err "guest_addr not the container's" "{\"execute\": \"add_hostfwd\", \"arguments\": \
{\"proto\": \"tcp\", \"host_port\": $((BASE + 7)), \"guest_addr\": \"10.0.2.50\", \
\"guest_port\": 80}}" "10.0.2.50 is not the container's address"
err "unknown id" '{"execute": "remove_hostfwd", "arguments": {"id": 999}}' \
	"no forward with id 999"
err "remove without id" '{"execute": "remove_hostfwd"}' "bad arguments.id: missing"

# remove: the listener goes, an open connection stays
"$PY" - "$P_API" "$WORK/held2" "$WORK/go2" <<'EOF' >"$WORK/held2.out" 2>&1 &
import os, socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4)
c.sendall(b"hold\n")
c.recv(100)
open(sys.argv[2], "w").write("1")
for _ in range(100):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
c.sendall(b"after\n")
print(c.recv(100).decode().strip())
EOF
HELD=$!
for _ in $(seq 40); do [ -s "$WORK/held2" ] && break; sleep 0.1; done
r=$(api "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": $API_ID}}")
check "remove_hostfwd: {\"return\": {}} ($r)" [ "$r" = '{"return":{}}' ]
touch "$WORK/go2"
wait $HELD
check "a connection opened before the remove still works ($(cat "$WORK/held2.out"))" \
	[ "$(cat "$WORK/held2.out")" = after ]
res=$(timeout 5 "$PY" -c "import socket,sys
try:
    socket.create_connection(('127.0.0.1', $P_API), timeout=2); print('connected')
except ConnectionRefusedError:
    print('refused')")
check "the removed forward's port refuses connections ($res)" [ "$res" = refused ]
n=$(jget "$(ctl --json conns --state LISTEN)" "len([f for f in j['flows'] if \
f['upstream']=='127.0.0.1:$P_API'])")
check "its LISTEN row is gone" [ "$n" = 0 ]

# tapirctl fwd
out=$(ctl fwd add "127.0.0.1:$P_CTL:8080")
id=$(echo "$out" | sed -n 's/^forward \([0-9]*\):.*/\1/p')
check "tapirctl fwd add: '$out'" [ -n "$id" ]
check "tapirctl fwd list shows tcp 127.0.0.1:$P_CTL -> 10.0.2.100:8080" \
	sh -c "'$TAPIRCTL' -s '$SOCK' fwd list | grep -qE '^ *$id +tcp +127.0.0.1:$P_CTL +10.0.2.100:8080'"
out=$(tcp_echo 127.0.0.1 "$P_CTL")
lport=$(echo "$out" | awk '{print $1}' | cut -d: -f2)
check "tapirctl's forward carries a connection ('$out')" \
	[ "$(echo "$out" | awk '{print $2}')" = "10.0.2.2:$lport" ]
check "tapirctl fwd del $id" ctl fwd del "$id"
n=$(jget "$(ctl --json fwd list)" "len([e for e in j['entries'] if e['id']==$id])")
check "tapirctl --json fwd list: $id gone" [ "$n" = 0 ]
ctl fwd del "$id" >/dev/null 2>&1
check "tapirctl fwd del of an unknown id exits 1" [ $? = 1 ]

check "tapird survived part 1" kill -0 "$TAPIRD_PID"

# a forward on a busy port: tapird refuses to start and names it
"$PY" -c "import socket,time
s=socket.socket(); s.bind(('127.0.0.1', $P_BUSY)); s.listen(1); time.sleep(10)" &
BUSY=$!
pids+=($BUSY)
sleep 0.3
msg=$("$TAPIRD" -f --netns "$NS" --ifname tapb0 --no-configure --control "$WORK/busy.sock" \
	-t "127.0.0.1:$P_BUSY:80" 2>&1)
rc=$?
case "$msg" in
*"127.0.0.1:$P_BUSY: Address already in use"*) named=1 ;;
*) named=0 ;;
esac
check "a forward on a busy port: exit $rc, '$msg'" both [ $rc = 1 ] -- [ $named = 1 ]
kill $BUSY 2>/dev/null

kill "$TAPIRD_PID" 2>/dev/null
wait "$TAPIRD_PID" 2>/dev/null
TAPIRD_PID=
if grep -qE 'Sanitizer|runtime error' "$LOG"; then
	notok "tapird's log has a sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error' "$LOG")"
else
	ok "tapird's log (part 1) has no sanitizer report"
fi

# --- part 2: raw frames on tap0 -------------------------------------------------------------

ip netns add "$NSR" || { notok "ip netns add $NSR"; finish; }
ip netns exec "$NSR" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
ns_with_tapird "$NSR" "$RSOCK" "$RLOG" --no-configure --mtu 1500 -t "127.0.0.1:$P_RAW:80" \
	--log-level warn
RAW_PID=$TAPIRD_PID
if [ -S "$RSOCK" ] && ip -n "$NSR" link set tap0 up; then
	ok "tapird --no-configure with a forward; tap0 up without an address"
else
	notok "tapird (raw) did not start (log: $(tail -5 "$RLOG"))"
	finish
fi
OUT=$WORK/rawpeer.out
SLACK=$SLACK timeout $((90 * SLACK)) "$PY" "$HERE/fwd_rawpeer.py" "$NSR" "$RSOCK" \
	"$TAPIRCTL" "$P_RAW" 80 >"$OUT" 2>&1
rc=$?
cat "$OUT"
p=$(grep -c '^ok - ' "$OUT")
f=$(grep -c '^not ok - ' "$OUT")
PASS=$((PASS + p))
FAIL=$((FAIL + f))
if [ $rc != 0 ] && [ "$f" = 0 ]; then
	notok "fwd_rawpeer.py exited with $rc and no failed check (crash or timeout)"
fi
check "tapird survived every frame" kill -0 "$RAW_PID"
kill "$RAW_PID" 2>/dev/null
wait "$RAW_PID" 2>/dev/null
RAW_PID=
if grep -qE 'Sanitizer|runtime error' "$RLOG"; then
	notok "tapird's log (part 2) has a sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error' "$RLOG")"
else
	ok "tapird's log (part 2) has no sanitizer report"
fi
finish
