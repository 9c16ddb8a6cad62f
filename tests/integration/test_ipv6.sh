#!/bin/bash
# tests/integration/test_ipv6.sh - IPv6 for the container (issue 13), with the container's own
# kernel as the peer: its address fd00::100/64 and default route set over netlink at attach,
# router advertisements (SLAAC from the advertised prefix), neighbour discovery for the
# gateway fd00::2, ICMPv6 echo to the gateway answered by the stack (also 3000 bytes at MTU
# 1500: fragments both ways), the IPv6 counters in `tapirctl stats`; TCP to a host server on
# ::1 through fd00::2 (curl -6, a bulk transfer each way byte-exact, half-close), the flow
# shown as [addr]:port; UDP to ::1 through fd00::2; DNS through fd00::3 to a test resolver on
# ::1 (tapird --dns-upstream [::1]:PORT), AAAA over IPv6 and A over IPv4; forwards into the
# container over IPv6, TCP and UDP: from [::1]:PORT (the client seen as the gateway fd00::2)
# and from [::]:PORT with a client in a namespace of ours behind a veth pair (the container
# sees the client's own address; the host end's address is also --outbound-addr6, which the
# server on ::1 sees, and one the host has not fails at start); their LISTEN rows in `tapirctl conns` as [addr]:port; a
# bulk transfer each way through a forward on [::1]. BULK_MB (default 200, QUICK=1: 64) sets
# each bulk transfer's size each way.
#
# Namespaces of our own only (tv6-*), a veth pair between the host and one of them with
# addresses of a ULA prefix made from our pid (fd7e:0:PID::/64); traffic only inside the
# namespaces, on that pair and to ::1.
#   bash tests/integration/test_ipv6.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL" "$PY" /usr/bin/ping

NSC=tv6-c-$$
NSV=tv6-v-$$ # a client beyond the host, behind a veth pair
VH=tv6h$$
VPFX=fd7e:0:$(printf %x $(($$ & 0xffff)))
WORK=$(mktemp -d /tmp/tv6-ipv6-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
TPID=
cleanup() {
	exit_cleanup
	ip link del "$VH" 2>/dev/null
}
EXIT_NETNS=("$NSC" "$NSV")
trap cleanup EXIT
trap 'exit 1' INT TERM

# received OUTPUT: the "N received" of ping(8)'s summary
received() { printf '%s\n' "$1" | grep -o '[0-9]* received' | grep -o '[0-9]*'; }

# QUICK=1 (run-all.sh under ASan) moves less: the sizes are printed in each check's line
if [ "${QUICK:-0}" = 1 ]; then BULK_MB=${BULK_MB:-64}; else BULK_MB=${BULK_MB:-200}; fi

# --- host-side servers on ::1: TCP (xfer.py: PUT N, read to EOF, answer the SHA-256 after the
# client's FIN; GET N: N pattern bytes; WHO: the client's address), an HTTP file, UDP echo, and a
# DNS resolver -----------------------------------------------------------------------------------
XFER=$(cd "$(dirname "$0")" && pwd)/xfer.py # the same PUT/GET server in the container, in (k)
cat >"$WORK/srv.py" <<'PYEOF'
import socket, struct, sys, threading, http.server, functools
uport, dport, hport, root = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def udp_echo(s):
    while True:
        d, a = s.recvfrom(65535); s.sendto(b"echo:" + d, a)
def dns(s):
    while True:
        q, a = s.recvfrom(4096)
        qid, = struct.unpack("!H", q[:2]); i = 12
        while q[i]:
            i += 1 + q[i]
        qtype, = struct.unpack("!H", q[i + 1:i + 3]); qs = q[12:i + 5]
        rdata = socket.inet_pton(socket.AF_INET6, "fd00::beef") if qtype == 28 else socket.inet_aton("192.0.2.7")
        ans = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qs + ans, a)
class H(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
# every socket bound before "ready", so that nothing connects too early
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", uport))
d = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); d.bind(("::1", dport))
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
h = H(("::1", hport), handler)
for f, a in ((udp_echo, u), (dns, d)):
    threading.Thread(target=f, args=(a,), daemon=True).start()
threading.Thread(target=h.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PYEOF
TPORT=$(free_port); UPORT=$((TPORT + 1)); DPORT=$((TPORT + 2)); HPORT=$((TPORT + 3))
FPORT=$((TPORT + 4)) # the forward's host port on [::1]
FUPORT=$((TPORT + 5)) # a UDP forward on [::1]
FAPORT=$((FUPORT + 1)) # TCP and UDP forwards on [::] (the same port number for both)
FBPORT=$((FUPORT + 2)) # the bulk forward on [::1]
mkdir -p "$WORK/www" && head -c 300000 /dev/urandom >"$WORK/www/f.bin"
"$PY" "$XFER" serve ::1 $TPORT >"$WORK/xsrv.log" 2>&1 &
pids+=($!)
"$PY" "$WORK/srv.py" $UPORT $DPORT $HPORT "$WORK/www" >"$WORK/srv.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do
	grep -q ready "$WORK/srv.log" 2>/dev/null && grep -q ready "$WORK/xsrv.log" 2>/dev/null && break
	sleep 0.1
done

ip netns add "$NSC" || { notok "namespace $NSC"; finish; }
ip -n "$NSC" link set lo up

# the veth pair to a client namespace beyond the host; its host address is also the link's
# outbound-addr6 (an address of the host that is not ::1, so that the server on ::1 can tell)
OUT6=
if ip link add "$VH" type veth peer name tv6v0 && ip netns add "$NSV" &&
	ip link set tv6v0 netns "$NSV" &&
	ip addr add "$VPFX::1/64" dev "$VH" nodad && ip link set "$VH" up &&
	ip -n "$NSV" addr add "$VPFX::2/64" dev tv6v0 nodad && ip -n "$NSV" link set tv6v0 up &&
	ip -n "$NSV" link set lo up; then
	OUT6="$VPFX::1"
else
	notok "veth pair $VH between the host and $NSV"
fi

# --outbound-addr6 that is no address of the host: tapird says so and exits, having made
# nothing in the namespace
NSX=tv6-x-$$
if ip netns add "$NSX"; then
	out=$(timeout 20 "$TAPIRD" -f --netns "$NSX" --control "$WORK/x.sock" --log-level warn \
		--outbound-addr6 "$VPFX::99" 2>&1)
	rc=$?
	taps=$(ip -n "$NSX" -br link show 2>/dev/null | grep -vc '^lo ')
	ip netns del "$NSX"
	what="--outbound-addr6 $VPFX::99 (not the host's): exit $rc, no TAP made ($taps), message: $out"
	if [ $rc != 0 ] && [ "$taps" = 0 ] && printf '%s' "$out" |
		grep -q "outbound-addr6 $VPFX::99 cannot be a source address: .*not an address of this host"; then
		ok "$what"
	else
		notok "$what"
	fi
else
	notok "namespace $NSX"
fi

ns_with_tapird "$NSC" "$SOCK" "$LOG" --mtu 1500 --log-level warn \
	--dns-upstream "[::1]:$DPORT" -t "[::1]:$FPORT:8080" -u "[::1]:$FUPORT:5353" \
	-t "[::]:$FAPORT:8081" -u "[::]:$FAPORT:5354" -t "[::1]:$FBPORT:8082" \
	${OUT6:+--outbound-addr6 "$OUT6"} ${TAPIRD_ARGS:-} &&
	wait_tap_addr "$NSC" fd00::100
TPID=$TAPIRD_PID
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
if [ "${n:-0}" = 3 ] && [ "$(counter "$SOCK" ndp_neighbor_adverts)" -ge 1 ] &&
	[ "$(counter "$SOCK" icmp6_echo_replies)" -ge 3 ]; then
	ok "(a) ping -6 fd00::2: $n of 3 answered; NAs $(counter "$SOCK" ndp_neighbor_adverts), replies $(counter "$SOCK" icmp6_echo_replies)"
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
if [ "${n:-0}" = 2 ] && [ "$(counter "$SOCK" ip6_frag_reassembled)" -ge 2 ]; then
	ok "(b) ping -6 -s 3000 fd00::2 at MTU 1500 (fragments both ways): $n of 2; reassembled $(counter "$SOCK" ip6_frag_reassembled)"
else
	notok "(b) ping -6 -s 3000 fd00::2: received ${n:-0} of 2, reassembled $(counter "$SOCK" ip6_frag_reassembled): $(printf '%s' "$out" | tail -2)"
fi

# (c) router advertisements: the container took an address from the prefix by SLAAC (its
# interface identifier from its MAC), and the link MTU from the MTU option
slaac=
# (once duplicate address detection is over: a tentative address cannot be bound, ~1 s)
for i in $(seq 100); do
	slaac=$(ip -n "$NSC" -6 addr show dev tap0 scope global dynamic -tentative 2>/dev/null |
		grep -o 'fd00::[0-9a-f:]*/64' | head -1)
	[ -n "$slaac" ] && break
	sleep 0.1
done
if [ -n "$slaac" ] && [ "$(counter "$SOCK" ndp_router_adverts)" -ge 1 ]; then
	ok "(c) SLAAC address from the advertised prefix: $slaac (RAs sent: $(counter "$SOCK" ndp_router_adverts))"
else
	notok "(c) no SLAAC address on tap0 (RAs sent: $(counter "$SOCK" ndp_router_adverts)): $(ip -n "$NSC" -6 addr show dev tap0 | tr -s ' ')"
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

# (e) TCP through fd00::2 to the host's ::1: curl -6 fetches a file byte-exact
if [ -x /usr/bin/curl ]; then
	if timeout 30 ip netns exec "$NSC" /usr/bin/curl -6 -s -o "$WORK/got.bin" \
		"http://[fd00::2]:$HPORT/f.bin" && cmp -s "$WORK/got.bin" "$WORK/www/f.bin"; then
		ok "(e) curl -6 http://[fd00::2]:$HPORT/f.bin: 300000 bytes, byte-exact"
	else
		notok "(e) curl -6 through fd00::2: $(ls -l "$WORK/got.bin" 2>&1)"
	fi
else
	skip "(e) curl not installed (tests/deps.sh installs it)"
fi

# (f) bulk each way, byte-exact, and half-close (xfer.py's client): PUT sends, shuts down its
# side, and reads the server's digest, which the server sends only after our FIN; GET reads N
# pattern bytes
N=$((BULK_MB * 1048576))
out=$(timeout 300 ip netns exec "$NSC" "$PY" "$XFER" fd00::2 $TPORT PUT $N 2>&1)
check "(f) $BULK_MB MiB container -> host over IPv6, then half-close: the digest comes back after our FIN ($out)" \
	test "$out" = "PUT $N ok"
out=$(timeout 300 ip netns exec "$NSC" "$PY" "$XFER" fd00::2 $TPORT GET $N 2>&1)
check "(f) $BULK_MB MiB host -> container over IPv6, byte-exact ($out)" test "$out" = "GET $N ok"
conns=$("$TAPIRCTL" -s "$SOCK" conns --all 2>&1)
if printf '%s' "$conns" | grep -q "\[fd00::2\]:$TPORT .*\[::1\]:$TPORT" &&
	printf '%s' "$conns" | grep -q '\[fd00::[0-9a-f:]*\]:[0-9]'; then
	ok "(f) tapirctl conns shows [addr]:port: $(printf '%s' "$conns" | grep -m1 "\[fd00::2\]:$TPORT" | tr -s ' ')"
else
	notok "(f) tapirctl conns: $(printf '%s' "$conns" | head -4)"
fi

# (l) --outbound-addr6: the server on ::1 sees the container's connection come from it
if [ -n "$OUT6" ]; then
	out=$(timeout 20 ip netns exec "$NSC" "$PY" -c '
import socket, sys
s = socket.create_connection(("fd00::2", int(sys.argv[1])), timeout=5); s.sendall(b"WHO 0\n")
print(s.makefile().readline().strip())' $TPORT 2>&1)
	check "(l) --outbound-addr6 $OUT6: the server on [::1]:$TPORT sees the connection from $out" \
		test "$out" = "$OUT6"
else
	skip "(l) --outbound-addr6: no veth pair, no address of the host to bind"
fi

# (g) UDP through fd00::2 to ::1, and DNS through fd00::3 to the test resolver on ::1
out=$(timeout 20 ip netns exec "$NSC" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"ping6", ("fd00::2", int(sys.argv[1]))); print(s.recv(100).decode())' $UPORT 2>&1)
check "(g) UDP to [fd00::2]:$UPORT reaches [::1]:$UPORT and back ($out)" test "$out" = "echo:ping6"
cat >"$WORK/dnsq.py" <<'PYEOF'
import socket, struct, sys
server, qtype = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(3)
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x04test\x05tapir\x00" + struct.pack("!HH", qtype, 1)
s.sendto(q, (server, 53)); r = s.recv(512)
assert r[:2] == b"\x42\x42" and r[3] & 0xf == 0
rdata = r[-16:] if qtype == 28 else r[-4:]
print(socket.inet_ntop(socket.AF_INET6 if qtype == 28 else socket.AF_INET, rdata))
PYEOF
out=$(timeout 20 ip netns exec "$NSC" "$PY" "$WORK/dnsq.py" fd00::3 28 2>&1)
check "(g) DNS AAAA through fd00::3 to the resolver on [::1]:$DPORT: $out" test "$out" = "fd00::beef"
out=$(timeout 20 ip netns exec "$NSC" "$PY" "$WORK/dnsq.py" 10.0.2.3 1 2>&1)
check "(g) DNS A through 10.0.2.3 to the same IPv6 resolver: $out" test "$out" = "192.0.2.7"

# (h) a forward from [::1]:FPORT into the container over IPv6: the container's server sees the
# gateway fd00::2 as the client (a client on the host's ::1), and the bytes go both ways
ip netns exec "$NSC" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8080)); s.listen(4); print("ready", flush=True)
c, a = s.accept(); d = c.recv(100); c.sendall(a[0].encode() + b" " + d); c.close()' \
	>"$WORK/csrv.log" 2>&1 &
CSPID=$!
for i in $(seq 50); do grep -q ready "$WORK/csrv.log" 2>/dev/null && break; sleep 0.1; done
out=$(timeout 20 "$PY" -c '
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5); s.sendall(b"hi6")
print(s.recv(200).decode())' $FPORT 2>&1)
kill $CSPID 2>/dev/null
wait $CSPID 2>/dev/null
check "(h) forward [::1]:$FPORT -> [fd00::100]:8080 over IPv6, the client seen as fd00::2 ($out)" \
	test "$out" = "fd00::2 hi6"

# (i) UDP forwards over IPv6, and TCP on [::]: the container's servers answer with the client
# address they saw; a client on ::1 is the gateway fd00::2, one in the namespace behind the veth
# pair is itself
ip netns exec "$NSC" "$PY" -c '
import socket, threading
def udp(port):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", port))
    while True:
        d, a = u.recvfrom(2000); u.sendto(a[0].encode() + b" " + d, a)
def tcp(port):
    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(4)
    while True:
        c, a = s.accept(); d = c.recv(100); c.sendall(a[0].encode() + b" " + d); c.close()
for f, p in ((udp, 5353), (udp, 5354), (tcp, 8081)):
    threading.Thread(target=f, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()' >"$WORK/csrv2.log" 2>&1 &
CSPID=$!
for i in $(seq 50); do grep -q ready "$WORK/csrv2.log" 2>/dev/null && break; sleep 0.1; done
cat >"$WORK/ucli.py" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2]))); print(s.recv(200).decode())
PYEOF
out=$(timeout 20 "$PY" "$WORK/ucli.py" ::1 $FUPORT u6 2>&1)
check "(i) UDP forward [::1]:$FUPORT -> [fd00::100]:5353 over IPv6, the client seen as fd00::2 ($out)" \
	test "$out" = "fd00::2 u6"
# the same through slirp4netns's API (add_hostfwd on the control socket) with IPv6
# host_addr and guest_addr, then list_hostfwd and remove_hostfwd
APORT=$((FUPORT + 3))
out=$(timeout 20 "$PY" - "$SOCK" $APORT <<'PYEOF' 2>&1
import json, socket, sys
path, port = sys.argv[1], int(sys.argv[2])
def call(req):
    c = socket.socket(socket.AF_UNIX); c.connect(path); c.settimeout(5)
    c.sendall(json.dumps(req).encode() + b"\n"); r = b""
    while not r.endswith(b"\n"):
        x = c.recv(4096)
        if not x:
            break
        r += x
    c.close(); return json.loads(r)
r = call({"execute": "add_hostfwd", "arguments": {"proto": "udp", "host_addr": "::1",
          "host_port": port, "guest_addr": "fd00::100", "guest_port": 5353}})
fid = r["return"]["id"]
e = [x for x in call({"execute": "list_hostfwd"})["return"]["entries"] if x["id"] == fid][0]
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.settimeout(3)
u.sendto(b"api6", ("::1", port)); got = u.recv(200).decode()
rm = call({"execute": "remove_hostfwd", "arguments": {"id": fid}})
print("%s|%s %s %s|%s" % (got, e["proto"], e["host_addr"], e["guest_addr"], "removed" if rm.get("return") == {} else rm))
PYEOF
)
check "(i) API add_hostfwd udp [::1]:$APORT -> [fd00::100]:5353: answer, list, remove ($out)" \
	test "$out" = "fd00::2 api6|udp ::1 fd00::100|removed"
if [ -n "$OUT6" ]; then
	out=$(timeout 20 ip netns exec "$NSV" "$PY" "$WORK/ucli.py" "$VPFX::1" $FAPORT uv 2>&1)
	check "(i) UDP forward [::]:$FAPORT from $VPFX::2 beyond the host: the container sees $VPFX::2 ($out)" \
		test "$out" = "$VPFX::2 uv"
	out=$(timeout 20 ip netns exec "$NSV" "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5); s.sendall(b"tv")
print(s.recv(200).decode())' "$VPFX::1" $FAPORT 2>&1)
	check "(i) TCP forward [::]:$FAPORT from $VPFX::2 beyond the host: the container sees $VPFX::2 ($out)" \
		test "$out" = "$VPFX::2 tv"
else
	skip "(i) forwards on [::] from beyond the host: no veth pair"
fi
kill $CSPID 2>/dev/null
wait $CSPID 2>/dev/null

# (j) the forwards' listeners as LISTEN rows, IPv6 ones as [addr]:port (as `ss -l` would show
# them), beside the UDP forwards (which have none, as over IPv4)
L=$("$TAPIRCTL" -s "$SOCK" --json conns --state LISTEN 2>&1)
n=$(printf '%s' "$L" | "$PY" -c '
import json, sys
j = json.load(sys.stdin); want = {("[fd00::100]:8080", "[::1]:%s" % sys.argv[1]),
    ("[fd00::100]:8081", "[::]:%s" % sys.argv[2]), ("[fd00::100]:8082", "[::1]:%s" % sys.argv[3])}
got = {(f["container"], f["upstream"]) for f in j["flows"] if f["proto"] == "tcp" and
       f["state"] == "LISTEN" and f["origin"] == "host" and f["peer"] == "[::]:0"}
print("ok" if got == want and len(j["flows"]) == 3 else "got %s" % sorted((f["container"], f["peer"], f["upstream"]) for f in j["flows"]))' \
	$FPORT $FAPORT $FBPORT 2>&1)
check "(j) conns --state LISTEN: [fd00::100]:8080/8081/8082 from [::1]:$FPORT, [::]:$FAPORT, [::1]:$FBPORT, peer [::]:0 ($n)" \
	test "$n" = ok
out=$("$TAPIRCTL" -s "$SOCK" conns --state LISTEN 2>&1)
check "(j) tapirctl conns (text) shows the row of [::]:$FAPORT: $(printf '%s' "$out" | grep -m1 "\[::\]:$FAPORT" | tr -s ' ')" \
	bash -c "printf '%s' \"\$1\" | grep -q 'LISTEN.*\[fd00::100\]:8081.*\[::\]:$FAPORT\|\[fd00::100\]:8081.*LISTEN.*\[::\]:$FAPORT'" _ "$out"

# (k) bulk each way through a forward on [::1] (host -> container and back), byte-exact: the
# container runs xfer.py's server, the host its client
ip netns exec "$NSC" "$PY" "$XFER" serve :: 8082 >"$WORK/csrv3.log" 2>&1 &
CSPID=$!
for i in $(seq 50); do grep -q ready "$WORK/csrv3.log" 2>/dev/null && break; sleep 0.1; done
out=$(timeout 300 "$PY" "$XFER" ::1 $FBPORT PUT $N 2>&1)
check "(k) $BULK_MB MiB host -> container through the forward [::1]:$FBPORT, byte-exact (sha256 from the container: $out)" \
	test "$out" = "PUT $N ok"
out=$(timeout 300 "$PY" "$XFER" ::1 $FBPORT GET $N 2>&1)
check "(k) $BULK_MB MiB container -> host through the forward [::1]:$FBPORT, byte-exact ($out)" \
	test "$out" = "GET $N ok"
kill $CSPID 2>/dev/null
wait $CSPID 2>/dev/null

# (d) the counters are in `tapirctl stats` and the drops of IPv6 are named there
st=$("$TAPIRCTL" -s "$SOCK" stats 2>&1)
if printf '%s' "$st" | grep -q ip6_chain_too_long &&
	printf '%s' "$st" | grep -q ip6_rh0 && printf '%s' "$st" | grep -q ip6_frag_incomplete_chain; then
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
