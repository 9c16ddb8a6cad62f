#!/bin/bash
# tests/integration/test_slirp4netns_compat.sh - tapird started as `slirp4netns`, driven the way
# podman and rootlesskit drive slirp4netns 1.2: -c -e FD -r FD --netns-type=path|PID, the
# API socket, --cidr, --disable-host-loopback, no -c, the rootless --userns-path case as an
# unprivileged user; answers compared with the real /usr/bin/slirp4netns where installed.
#
#   sudo bash tests/integration/test_slirp4netns_compat.sh BUILD_DIR   (QUICK=1: fewer cases)
#
# Self-contained: its namespaces (tcm-*-$$), processes (killed by pid) and files are its own;
# traffic stays on 127.0.0.1 and inside its namespaces.
# shellcheck disable=SC2317 # cleanup (a trap) and helpers run through check/wait_for
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "namespaces, TAP devices, a test user"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"

QUICK=${QUICK:-0}
REAL=/usr/bin/slirp4netns
NS=tcm-p-$$
NSR=tcm-r-$$
TUSER=tcmuser
TMP=$(mktemp -d /tmp/tcm-s4n.XXXXXX)
chmod 755 "$TMP"
BIN=$TMP/bin
mkdir -p "$BIN"
# the name is what selects the mode: a link, as `make install` makes one
ln -s "$TAPIRD" "$BIN/slirp4netns"
S4N=$BIN/slirp4netns
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSR" 2>/dev/null
	ip netns del "tcm-d-$$" 2>/dev/null
	ip netns del "tcm-o-$$" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for COND_COMMAND...: up to 5 s
wait_for() {
	local _
	for _ in $(seq 50); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# api SOCK JSON: one request on its own connection, as podman sends it; prints the answer
api() {
	"$PY" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
EOF
}

# serve_loopback PORT TEXT: a loopback server answering TEXT to each connection (60 s idle)
serve_loopback() {
	"$PY" - "$1" "$2" <<'EOF' &
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(8)
ls.settimeout(60)
while True:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        break
    c.recv(4096)
    c.sendall(sys.argv[2].encode())
    c.close()
EOF
	PIDS+=($!)
}

# fetch ADDR PORT: connect, send a request, print the answer (REFUSED, or ERROR ...)
fetch() {
	local addr=$1 port=$2
	"$PY" - "$addr" "$port" <<'EOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    sys.stdout.write(out.decode())
except ConnectionRefusedError:
    sys.stdout.write("REFUSED")
except Exception as e:
    sys.stdout.write("ERROR %s" % e)
EOF
}

# start_s4n LOG ARGS...: the slirp4netns link in the background, with a ready pipe on fd 5
# and an exit pipe on fd 6 (its writer: EXITW, a sleep after one line); sets SPID, READY (what
# fd 5 gave)
start_s4n() {
	local log=$1
	shift
	rm -f "$TMP/ready"
	mkfifo "$TMP/ready"
	# the writer writes a line first: data on the exit fd must not stop it (slirp4netns
	# polls for POLLHUP only), only the writer's end closing does
	exec 6< <(echo tcm-data; exec sleep 600)
	EXITW=$!
	PIDS+=("$EXITW")
	"$@" 5>"$TMP/ready" >>"$log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	exec 6<&-
	# the reader opens after the writer: a daemon that fails before -r leaves us EOF
	READY=$(timeout 10 head -c1 "$TMP/ready" 2>/dev/null)
}

# stop_pid PID: SIGTERM, wait; sets RC
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	RC=$?
}

gone() { ! kill -0 "$1" 2>/dev/null; }
quiet() { "$@" >/dev/null 2>&1; }

# --- the command line: help, version, a bad option ----------------------------------------
out=$("$S4N" --help)
rc=$?
missing=""
for o in --netns-type --userns-path --enable-sandbox --enable-seccomp --disable-host-loopback \
	--mtu --api-socket --cidr --outbound-addr --disable-dns --enable-ipv6 --configure \
	--exit-fd --ready-fd --macaddress; do
	grep -q -- "$o" <<<"$out" || missing="$missing $o"
done
check "--help: status 0, every option podman and rootlesskit look for (missing:${missing:-none})" \
	test "$rc" = 0 -a -z "$missing"
check "--version: slirp4netns's first line, naming tapird" \
	bash -c "'$S4N' --version | head -1 | grep -q '^slirp4netns version 1\\.2\\.' &&
		'$S4N' --version | grep -q tapird"
check "tapird --slirp4netns-compat --version: the same" \
	bash -c "'$TAPIRD' --slirp4netns-compat --version | head -1 | grep -q '^slirp4netns version'"

"$S4N" --tcm-bogus 1 tap0 >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
check "unknown option: status 1, getopt's message on stderr, usage on stdout" \
	bash -c "[ $rc = 1 ] && grep -q \"unrecognized option '--tcm-bogus'\" '$TMP/bad.err' &&
		head -1 '$TMP/bad.out' | grep -q '^Usage: .*slirp4netns \\[OPTION\\]\\.\\.\\. PID|PATH'"
"$S4N" --mtu=abc 1 tap0 >"$TMP/mtu.out" 2>"$TMP/mtu.err"
rc=$?
check "bad --mtu: status 1, slirp4netns's words" \
	bash -c "[ $rc = 1 ] && grep -qx 'MTU must be a positive integer (< 65522)' '$TMP/mtu.err'"
"$S4N" --cidr=10.0.2.100/24 1 tap0 >"$TMP/cidr.out" 2>"$TMP/cidr.err"
rc=$?
check "bad --cidr: status 1, slirp4netns's words, no usage" \
	bash -c "[ $rc = 1 ] && grep -q 'CIDR needs to be a network address' '$TMP/cidr.err' &&
		! grep -q Usage '$TMP/cidr.out'"
if [ -x "$REAL" ]; then
	# the same bad command lines through the real slirp4netns: same status, same stderr
	for args in "--tcm-bogus 1 tap0" "--mtu=abc 1 tap0" "--cidr=10.0.2.100/24 1 tap0" \
		"-e x 1 tap0" "1" "--netns-type=path /nonexistent/tcm tap0" \
		"--macaddress=02:00:00:00:00:01 1 tap0"; do
		# shellcheck disable=SC2086
		"$REAL" $args >/dev/null 2>"$TMP/real.err"
		rr=$?
		# shellcheck disable=SC2086
		"$S4N" $args >/dev/null 2>"$TMP/ours.err"
		ro=$?
		sed -i "s|$REAL|slirp4netns|; s|$S4N|slirp4netns|" "$TMP/real.err" "$TMP/ours.err"
		check "'slirp4netns $args': status $ro and stderr as the real one's ($rr)" \
			bash -c "[ $rr = $ro ] && diff -u '$TMP/real.err' '$TMP/ours.err' >&2"
	done
else
	skip "comparison with the real slirp4netns: $REAL not installed (tests/deps.sh installs it)"
fi

# --- podman's way: -c -e -r --netns-type=path, the API socket --------------------------------
ip netns add "$NS"
HTTP_PORT=$(free_port)
serve_loopback "$HTTP_PORT" "hello from the host"
wait_for bash -c "ss -Htln 'sport = :$HTTP_PORT' | grep -q ."
API=$TMP/api.sock
start_s4n "$TMP/p.log" "$S4N" --mtu=65520 --enable-sandbox --enable-seccomp --enable-ipv6 -c \
	-e 6 -r 5 --netns-type=path --disable-dns --api-socket "$API" "/run/netns/$NS" tap0
check "ready fd gets \"1\"" test "$READY" = 1
[ "$READY" = 1 ] || tail -5 "$TMP/p.log"
check "-c: tap0 has 10.0.2.100/24, MTU 65520, default route via 10.0.2.2, lo up" \
	bash -c "ip -n $NS -4 addr show tap0 | grep -q 'inet 10.0.2.100/24' &&
		ip -n $NS link show tap0 | grep -q 'mtu 65520' &&
		ip -n $NS route show default | grep -q 'via 10.0.2.2 dev tap0' &&
		ip -n $NS link show lo | grep -q 'UP'"
check "ping the gateway 10.0.2.2" quiet ip netns exec "$NS" ping -c1 -W2 10.0.2.2
got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 10.0.2.2 $HTTP_PORT")
check "fetch from a loopback server through 10.0.2.2 (got '$got')" test "$got" = "hello from the host"
got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 10.0.2.3 53")
check "--disable-dns: 10.0.2.3:53 gets no answer, as with slirp4netns ('$got')" \
	test "$got" = "ERROR timed out"
CTL=/run/tapird/slirp4netns-$SPID.sock
check "control socket in the runtime directory: $CTL" test -S "$CTL"
check "tapirctl status names the link $NS" \
	bash -c "'$TAPIRCTL' -s '$CTL' -j status | grep -q '\"$NS\"'"
check "tapirctl conns --all lists the fetch's flow (peer 10.0.2.2:$HTTP_PORT)" \
	bash -c "'$TAPIRCTL' -s '$CTL' -j conns --all | grep -q '10.0.2.2:$HTTP_PORT'"
check "--enable-sandbox/--enable-seccomp: logged as done" \
	bash -c "grep -q 'enable-sandbox: an empty root' '$TMP/p.log' &&
		 grep -q 'enable-seccomp: seccomp filter installed' '$TMP/p.log'"
check "--enable-sandbox: CAP_NET_BIND_SERVICE alone, no_new_privs; --enable-seccomp: a filter" \
	bash -c "grep -q '^CapEff:.*0000000000000400' /proc/$SPID/status &&
		 grep -q '^CapPrm:.*0000000000000400' /proc/$SPID/status &&
		 grep -q '^NoNewPrivs:.*1' /proc/$SPID/status &&
		 grep -q '^Seccomp:.*2' /proc/$SPID/status"
check "--enable-sandbox: its root holds /etc and /run, not /home, /root or /var" \
	bash -c "test -e /proc/$SPID/root/etc -a -e /proc/$SPID/root/run -a \
		! -e /proc/$SPID/root/home -a ! -e /proc/$SPID/root/root -a ! -e /proc/$SPID/root/var"
check "--enable-ipv6 -c: tap0 has fd00::100/64 (issue 13)" \
	bash -c "ip -n '$NS' -6 addr show dev tap0 | grep -q 'fd00::100/64'"

# the API session: the same requests to tapird and (when installed) to the real slirp4netns;
# host ports differ between the two runs and are written HP (HP2) in the transcript
api_session() { # SOCK HP HP2 GUESTPORT
	local s=$1 hp=$2 hp2=$3 gp=$4
	{
		api "$s" '{"execute": "list_hostfwd"}'; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $hp, \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"udp\", \"host_port\": $hp2, \"guest_addr\": \"10.0.2.100\", \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $hp, \"guest_port\": $gp}}"; echo
		api "$s" '{"execute": "list_hostfwd"}'; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"sctp\", \"host_port\": $hp, \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"1.2.3\", \"host_port\": $hp, \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_port\": $hp, \"guest_addr\": \"10.0.2\", \"guest_port\": $gp}}"; echo
		api "$s" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_port\": $hp}}"; echo
		api "$s" '{"execute": "remove_hostfwd", "arguments": {"id": 1}}'; echo
		api "$s" '{"execute": "remove_hostfwd", "arguments": {"id": 1}}'; echo
		api "$s" '{"execute": "list_hostfwd"}'; echo
		api "$s" '{"execute": "nope"}'; echo
		api "$s" '{"arguments": {}}'; echo
		api "$s" '{"execute": '; echo
		api "$s" '[1, 2]'; echo
	} | sed "s/\\b$hp\\b/HP/g; s/\\b$hp2\\b/HP2/g"
}
# TCP and UDP on one host port, as podman publishes "-p 8080:80/tcp -p 8080:80/udp"
HP=$(free_port)
api_session "$API" "$HP" "$HP" 80 >"$TMP/api.ours"
check "API: add_hostfwd answers {\"return\":{\"id\":1}}" \
	bash -c "sed -n 2p '$TMP/api.ours' | grep -qx '{\"return\":{\"id\":1}}'"
check "API: list_hostfwd answers {\"entries\":[...]} (no \"return\")" \
	bash -c "sed -n 5p '$TMP/api.ours' | grep -qx '{\"entries\":\\[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":HP,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80},{\"id\":2,\"proto\":\"udp\",\"host_addr\":\"0.0.0.0\",\"host_port\":HP,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80}\\]}'"
check "API: errors as slirp4netns words them" \
	bash -c "sed -n 6p '$TMP/api.ours' | grep -qx '{\"error\":{\"desc\":\"bad request: add_hostfwd: bad arguments.proto\"}}' &&
		sed -n 12p '$TMP/api.ours' | grep -qx '{\"error\":{\"desc\":\"bad request: remove_hostfwd: bad arguments.id\"}}'"
# the forward works: host 127.0.0.1:FP → a server in the container on port 8081
FP=$(free_port)
fid=$(api "$API" "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $FP, \"guest_port\": 8081}}")
ip netns exec "$NS" "$PY" -c '
import socket
ls = socket.socket(); ls.bind(("0.0.0.0", 8081)); ls.listen(1); ls.settimeout(20)
c, a = ls.accept(); c.recv(4096); c.sendall(("from the container to %s" % a[0]).encode()); c.close()' &
PIDS+=($!)
wait_for bash -c "ip netns exec $NS ss -Htln 'sport = :8081' | grep -q ."
got=$(fetch 127.0.0.1 "$FP")
check "API forward $fid: 127.0.0.1:$FP reaches the container ('$got')" \
	test "$got" = "from the container to 10.0.2.2"
[ "$got" = "from the container to 10.0.2.2" ] || { echo "HP=$HP FP=$FP"; tail -5 "$TMP/p.log"; "$TAPIRCTL" -s "$CTL" conns --all; }

if [ -x "$REAL" ] && [ "$QUICK" != 1 ]; then
	ip netns add "$NSR"
	"$REAL" -c --netns-type=path --api-socket "$TMP/real.sock" "/run/netns/$NSR" tap0 \
		>"$TMP/real.log" 2>&1 &
	RPID=$!
	PIDS+=("$RPID")
	if wait_for test -S "$TMP/real.sock"; then
		RHP=$(free_port)
		api_session "$TMP/real.sock" "$RHP" "$RHP" 80 >"$TMP/api.real"
		if diff -u "$TMP/api.real" "$TMP/api.ours" >"$TMP/api.diff"; then
			ok "API: the session's $(wc -l <"$TMP/api.ours") answers are byte for byte the real slirp4netns's"
		else
			notok "API: answers differ from the real slirp4netns's"
			cat "$TMP/api.diff"
		fi
	else
		notok "the real slirp4netns did not start: $(tail -3 "$TMP/real.log")"
	fi
	stop_pid "$RPID"
	ip netns del "$NSR"
else
	skip "API comparison with the real slirp4netns: ${QUICK:+QUICK=1 or }$REAL not installed"
fi

# -e: data on it changed nothing; the runtime closes its end → the process ends, its sockets go
check "-e: a line written to the exit fd does not stop it" kill -0 "$SPID"
kill "$EXITW" 2>/dev/null
if wait_for gone "$SPID"; then
	wait "$SPID"
	RC=$?
	ok "-e: closing the exit fd ends the process (status $RC)"
	check "-e: exit status 0" test "$RC" = 0
else
	notok "-e: closing the exit fd did not end pid $SPID"
	stop_pid "$SPID"
fi
check "-e: API and control sockets removed, tap0 gone" \
	bash -c "[ ! -e '$API' ] && [ ! -e '$CTL' ] && ! ip -n $NS link show tap0 2>/dev/null"

# --- PID mode without -c: the TAP exists, unconfigured --------------------------------------
unshare -n sleep 600 &
UPID=$!
PIDS+=("$UPID")
sleep 0.2
start_s4n "$TMP/pid.log" "$S4N" -r 5 "$UPID" tap0
check "PID mode, no -c: ready" test "$READY" = 1
check "no -c: tap0 exists, down, no IPv4 address" \
	bash -c "nsenter -t $UPID -n ip link show tap0 | grep -qv 'state UP' &&
		! nsenter -t $UPID -n ip -4 addr show tap0 | grep -q inet"
check "PID mode: the link is named pid:$UPID" \
	bash -c "'$TAPIRCTL' -s /run/tapird/slirp4netns-$SPID.sock -j status | grep -q '\"pid:$UPID\"'"
stop_pid "$SPID"
check "SIGTERM: exit status 0, control socket removed" \
	bash -c "[ $RC = 0 ] && [ ! -e /run/tapird/slirp4netns-$SPID.sock ]"
kill "$UPID" 2>/dev/null
wait "$UPID" 2>/dev/null

# -e FD that is not open: ready, then exit 0 (slirp4netns: POLLNVAL at its first poll)
ip netns del "$NS"
ip netns add "$NS"
start_s4n "$TMP/nv.log" "$S4N" -c -r 5 -e 9 --netns-type=path "/run/netns/$NS" tap0
if wait_for gone "$SPID"; then
	wait "$SPID"
	RC=$?
else
	RC=running
	stop_pid "$SPID"
fi
check "-e 9, fd 9 not open: ready ($READY), then exit status 0 ($RC)" \
	test "$READY" = 1 -a "$RC" = 0

# SIGKILL (a runtime's cleanup) leaves the control socket: the next one started sweeps it
ip netns del "$NS"
ip netns add "$NS"
start_s4n "$TMP/k9.log" "$S4N" -c -r 5 --netns-type=path "/run/netns/$NS" tap0
K9=/run/tapird/slirp4netns-$SPID.sock
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
check "SIGKILL: $K9 is left behind" test -S "$K9"

# --- --disable-host-loopback, --cidr ----------------------------------------------------------
ip netns del "$NS"
ip netns add "$NS"
start_s4n "$TMP/dhl.log" "$S4N" -c -r 5 --disable-host-loopback --netns-type=path \
	"/run/netns/$NS" tap0
check "the next one removes the stale socket of the killed one" test ! -e "$K9"
got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 10.0.2.2 $HTTP_PORT")
check "--disable-host-loopback: 10.0.2.2:$HTTP_PORT: ICMP net unreachable, as slirp4netns ('$got')" \
	test "$got" = "ERROR [Errno 101] Network is unreachable"
check "--disable-host-loopback: ping 10.0.2.2 still answered" \
	quiet ip netns exec "$NS" ping -c1 -W2 10.0.2.2
stop_pid "$SPID"

if [ "$QUICK" != 1 ]; then
	ip netns del "$NS"
	ip netns add "$NS"
	start_s4n "$TMP/cidr.log" "$S4N" -c -r 5 --cidr=10.99.0.0/16 --macaddress=02:00:0a:63:00:64 \
		--netns-type=path "/run/netns/$NS" tap0
	check "--macaddress: tap0 has 02:00:0a:63:00:64" \
		bash -c "ip -n $NS link show tap0 | grep -q 'link/ether 02:00:0a:63:00:64'"
	check "--cidr=10.99.0.0/16: 10.99.0.100/16, default via 10.99.0.2" \
		bash -c "ip -n $NS -4 addr show tap0 | grep -q 'inet 10.99.0.100/16' &&
			ip -n $NS route show default | grep -q 'via 10.99.0.2'"
	check "--cidr: ping 10.99.0.2" \
		quiet ip netns exec "$NS" ping -c1 -W2 10.99.0.2
	got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 10.99.0.2 $HTTP_PORT")
	check "--cidr: fetch through 10.99.0.2 ('$got')" test "$got" = "hello from the host"
	stop_pid "$SPID"
else
	skip "--cidr: QUICK=1"
fi

# --- --outbound-addr: tapird in a namespace of the test's (D) with a veth to a peer (O); the
# peer sees the upstream connection come from the address asked for ---------------------------
if [ "$QUICK" != 1 ]; then
	ND=tcm-d-$$
	NO=tcm-o-$$
	ip netns add "$ND"
	ip netns add "$NO"
	ip -n "$ND" link add tcmd0 type veth peer name tcmo0 netns "$NO"
	ip -n "$ND" addr add 169.254.77.1/30 dev tcmd0
	ip -n "$ND" addr add 169.254.77.9/32 dev tcmd0
	ip -n "$NO" addr add 169.254.77.2/30 dev tcmo0
	ip -n "$ND" link set tcmd0 up
	ip -n "$NO" link set tcmo0 up
	ip -n "$NO" route add 169.254.77.9/32 dev tcmo0
	ip -n "$ND" link set lo up
	ip netns exec "$NO" "$PY" -c '
import socket
ls = socket.socket(); ls.bind(("169.254.77.2", 8099)); ls.listen(4); ls.settimeout(60)
for i in range(2):
    c, a = ls.accept(); c.recv(4096); c.sendall(a[0].encode()); c.close()' &
	PIDS+=($!)
	wait_for bash -c "ip netns exec $NO ss -Htln 'sport = :8099' | grep -q ."
	# and the gateway's host loopback (inside D): bound to it as well, as libslirp does
	ip netns exec "$ND" "$PY" -c '
import socket
ls = socket.socket(); ls.bind(("127.0.0.1", 8098)); ls.listen(4); ls.settimeout(60)
for i in range(2):
    c, a = ls.accept(); c.recv(4096); c.sendall(a[0].encode()); c.close()' &
	PIDS+=($!)
	wait_for bash -c "ip netns exec $ND ss -Htln 'sport = :8098' | grep -q ."
	for ob in 169.254.77.9 tcmd0; do
		want=169.254.77.9
		[ "$ob" = tcmd0 ] && want=169.254.77.1
		ip netns del "$NS"
		ip netns add "$NS"
		start_s4n "$TMP/ob.log" ip netns exec "$ND" "$S4N" -c -r 5 --outbound-addr="$ob" \
			--netns-type=path "/run/netns/$NS" tap0
		got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 169.254.77.2 8099")
		check "--outbound-addr=$ob: the peer sees $want ('$got')" test "$got" = "$want"
		got=$(ip netns exec "$NS" bash -c "PY=$PY; $(declare -f fetch); fetch 10.0.2.2 8098")
		check "--outbound-addr=$ob: a host-loopback server through 10.0.2.2 sees $want ('$got')" \
			test "$got" = "$want"
		stop_pid "$SPID"
	done
	ip netns del "$ND"
	ip netns del "$NO"
else
	skip "--outbound-addr: QUICK=1"
fi

# --- rootless: an unprivileged user, its own user+net namespace, --userns-path ---------------
if ! id "$TUSER" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$TUSER" 2>/dev/null
fi
if ! id "$TUSER" >/dev/null 2>&1; then
	notok "rootless: cannot create the test user $TUSER"
else
	TUID=$(id -u "$TUSER")
	RUNDIR=$TMP/xdg
	mkdir -p "$RUNDIR"
	chown "$TUSER" "$RUNDIR"
	chmod 700 "$RUNDIR"
	setpriv --reuid="$TUID" --regid="$(id -g "$TUSER")" --clear-groups \
		unshare --user --map-root-user --net sleep 600 &
	UPID=$!
	PIDS+=("$UPID")
	# setpriv execs unshare execs sleep: same pid; wait until it is in its own namespaces
	wait_for bash -c "[ \"\$(readlink /proc/$UPID/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
	# Debian's udev makes /dev/net/tun 0666; where the host keeps it 0600 (some container
	# hosts), the user gets a 0666 node of the same device in a mount namespace of its own
	ASUSER=()
	if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
		mknod "$TMP/tun" c 10 200 && chmod 666 "$TMP/tun"
		# shellcheck disable=SC2016 # expanded by that sh, not here
		ASUSER=(unshare -m sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$TMP/tun")
		echo "# /dev/net/tun is $(stat -c %a /dev/net/tun) here: the user gets a 0666 node"
	fi
	start_s4n "$TMP/rootless.log" "${ASUSER[@]}" setpriv --reuid="$TUID" --regid="$(id -g "$TUSER")" \
		--clear-groups env XDG_RUNTIME_DIR="$RUNDIR" "$S4N" -c -r 5 \
		--userns-path="/proc/$UPID/ns/user" --netns-type=path "/proc/$UPID/ns/net" tap0
	check "rootless: ready" test "$READY" = 1
	[ "$READY" = 1 ] || tail -5 "$TMP/rootless.log"
	check "rootless: the daemon runs as $TUSER (uid $TUID), in the host's namespaces" \
		bash -c "[ \"\$(stat -c %u /proc/$SPID)\" = $TUID ] &&
			[ \"\$(readlink /proc/$SPID/ns/net)\" = \"\$(readlink /proc/self/ns/net)\" ]"
	check "rootless: tap0 configured in the user's namespace" \
		bash -c "nsenter -t $UPID -n ip -4 addr show tap0 | grep -q 'inet 10.0.2.100/24'"
	check "rootless: ping 10.0.2.2" quiet nsenter -t "$UPID" -n ping -c1 -W2 10.0.2.2
	got=$(nsenter -t "$UPID" -n bash -c "PY=$PY; $(declare -f fetch); fetch 10.0.2.2 $HTTP_PORT")
	check "rootless: fetch from the loopback server through 10.0.2.2 ('$got')" \
		test "$got" = "hello from the host"
	UCTL=$RUNDIR/tapird/slirp4netns-$SPID.sock
	check "rootless: control socket at \$XDG_RUNTIME_DIR/tapird/slirp4netns-PID.sock" \
		test -S "$UCTL"
	check "rootless: tapirctl conns --all (as $TUSER) lists the fetch" \
		bash -c "setpriv --reuid=$TUID --regid=$(id -g "$TUSER") --clear-groups \
			'$TAPIRCTL' -s '$UCTL' -j conns --all | grep -q '10.0.2.2:$HTTP_PORT'"
	stop_pid "$SPID"
	check "rootless: SIGTERM ends it (status $RC), its socket removed" \
		bash -c "[ $RC = 0 ] && [ ! -e '$UCTL' ]"

	# podman's way: the network process runs as root of the user's own user namespace
	# (podman joins it first) and names only the network namespace; the control socket still
	# goes to the user's runtime directory, which the user outside can reach
	start_s4n "$TMP/rootless2.log" "${ASUSER[@]}" setpriv --reuid="$TUID" \
		--regid="$(id -g "$TUSER")" --clear-groups env XDG_RUNTIME_DIR="$RUNDIR" \
		nsenter -t "$UPID" -U --preserve-credentials "$S4N" -c -r 5 --netns-type=path "/proc/$UPID/ns/net" tap1
	check "rootless, inside the user namespace (podman): ready" test "$READY" = 1
	[ "$READY" = 1 ] || tail -5 "$TMP/rootless2.log"
	check "rootless, inside the user namespace: tap1 configured" \
		bash -c "nsenter -t $UPID -n ip -4 addr show tap1 | grep -q 'inet 10.0.2.100/24'"
	UCTL=$RUNDIR/tapird/slirp4netns-$SPID.sock
	check "rootless, inside the user namespace: control socket in \$XDG_RUNTIME_DIR/tapird/, tapirctl status as $TUSER" \
		bash -c "setpriv --reuid=$TUID --regid=$(id -g "$TUSER") --clear-groups \
			'$TAPIRCTL' -s '$UCTL' -j status | grep -q tap1"
	stop_pid "$SPID"
	check "rootless, inside the user namespace: SIGTERM ends it (status $RC), socket removed" \
		bash -c "[ $RC = 0 ] && [ ! -e '$UCTL' ]"
	kill "$UPID" 2>/dev/null
	wait "$UPID" 2>/dev/null

	# rootlesskit makes the TAP itself (persistent) before it starts slirp4netns, in PID
	# mode with no --userns-path, and publishes ports through the API socket
	if ! command -v rootlesskit >/dev/null; then
		skip "rootlesskit: not installed (tests/deps.sh installs it)"
	elif [ "$QUICK" = 1 ]; then
		skip "rootlesskit: QUICK=1"
	else
		if ! grep -q "^$TUSER:" /etc/subuid || ! grep -q "^$TUSER:" /etc/subgid; then
			# rootlesskit maps subordinate ids: give the test user a range above all others
			top=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: '{e = $2 + $3} e > m {m = e} END {print m + 0}')
			[ "$top" -lt 900000 ] && top=900000
			usermod --add-subuids "$top-$((top + 65535))" --add-subgids "$top-$((top + 65535))" "$TUSER"
		fi
		RKP=$(free_port)
		"${ASUSER[@]}" setpriv --reuid="$TUID" \
			--regid="$(id -g "$TUSER")" --clear-groups env XDG_RUNTIME_DIR="$RUNDIR" \
			HOME="$RUNDIR" rootlesskit --state-dir="$RUNDIR/rk" --net=slirp4netns \
			--slirp4netns-binary="$S4N" --port-driver=slirp4netns -p "127.0.0.1:$RKP:8080/tcp" \
			"$PY" -c "
import socket
ls = socket.socket(); ls.bind(('0.0.0.0', 8080)); ls.listen(1); ls.settimeout(30)
c, a = ls.accept(); c.recv(4096)
u = socket.create_connection(('10.0.2.2', $HTTP_PORT), timeout=5); u.sendall(b'GET /')
c.sendall(b'rootlesskit: ' + u.recv(4096)); c.close()" >>"$TMP/rk.log" 2>&1 &
		SPID=$!
		PIDS+=("$SPID")
		wait_for bash -c "ss -Htln 'sport = :$RKP' | grep -q ."
		got=$(fetch 127.0.0.1 "$RKP")
		check "rootlesskit --net=slirp4netns --slirp4netns-binary=tapird: published port in, host loopback out ('$got')" \
			test "$got" = "rootlesskit: hello from the host"
		[ "$got" = "rootlesskit: hello from the host" ] || tail -5 "$TMP/rk.log"
		stop_pid "$SPID"
	fi
fi

# sanitizer builds: a report in any daemon log is a failure, even when the exit status hid it
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$TMP"/*.log >/dev/null 2>&1; then
	notok "sanitizer reports in the daemons' logs"
	grep -h -A5 "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$TMP"/*.log | head -40
else
	ok "no sanitizer report in the daemons' logs"
fi

finish
