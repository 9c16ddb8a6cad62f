#!/bin/bash
# tests/integration/test_monitor.sh - the connection monitor against a live tapird: watch
# (order and timestamps of a connection's events, filters, a stuck watcher that must not slow
# a bulk transfer and gets its "lost" event), conns --all and conn on closed flows, stats with
# flows per state, drop reasons provoked by raw frames sent from inside the namespace,
# /metrics checked by promtool, pcap capture read back by tcpdump (and captures refused outside
# the capture directory), tapirctl top in plain mode and over a 50,000-flow conns reply from a
# stand-in daemon (tests/integration/fake_conns.py; 10,000 with QUICK=1),
# and 10,000 concurrent connections all listed by `conns --state ESTABLISHED` (2,000 with
# QUICK=1, under the sanitizers).
#
#   bash tests/integration/test_monitor.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$TAPIRCTL
QUICK=${QUICK:-0}

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$CTL"

NS=tapir-mon-$$
WORK=$(mktemp -d /tmp/tapir-mon-$$.XXXXXX)
SOCK=$WORK/control.sock
LOG=$WORK/tapird.log
MPORT=$(free_port) || MPORT=$((20000 + $$ % 10000))
cleanup_on_exit "$NS"

# A host-side TCP server on 127.0.0.1: "echo" answers each line and closes when the client
# does; "sink" reads and discards (bulk transfers). Prints its port on stdout.
cat >"$WORK/server.py" <<'EOF'
import socket, sys, threading
mode = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4096)
print(s.getsockname()[1], flush=True)
def serve(c):
    try:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            if mode == "echo":
                c.sendall(b)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
start_server() { # start_server MODE: sets SPORT
	local f=$WORK/port.$1
	$PY "$WORK/server.py" "$1" >"$f" &
	pids+=($!)
	for _ in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
	SPORT=$(cat "$f")
}

ip netns add "$NS" || { notok "create namespace $NS"; finish; }
# No IPv6 in the namespace: its router solicitations would count as drops we did not cause.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
CAPDIR=$WORK/captures
if ! ns_with_tapird "$NS" "$SOCK" "$LOG" --time-wait 1 --closed-history 4096 \
	--capture-dir "$CAPDIR" --metrics 127.0.0.1:$MPORT --max-half-open 4096; then
	notok "tapird starts with --metrics"
	sed 's/^/# /' "$LOG"
	finish
fi
ok "tapird starts with --metrics 127.0.0.1:$MPORT"
export TAPIR_CONTROL=$SOCK
ip netns exec "$NS" ping -c1 -W2 10.0.2.2 >/dev/null 2>&1 # learn MACs

start_server echo
ECHO_PORT=$SPORT
start_server sink
SINK_PORT=$SPORT

# client.py PORT N [HOLD]: N connections in turn from the namespace, one line echoed each
cat >"$WORK/client.py" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
good = 0
for i in range(n):
    try:
        c = socket.create_connection(("10.0.2.2", port), timeout=5)
        c.sendall(b"hello\n")
        if c.recv(64) == b"hello\n":
            good += 1
        c.close()
    except OSError:
        pass
print(good)
EOF

# --- watch: one connection's life in order -------------------------------------------------
"$CTL" --json watch --proto tcp >"$WORK/watch1.json" 2>"$WORK/watch1.err" &
W1=$!
pids+=($W1)
"$CTL" --json watch --state ESTABLISHED >"$WORK/watch_est.json" 2>&1 &
W2=$!
pids+=($W2)
"$CTL" --json watch --proto udp >"$WORK/watch_udp.json" 2>&1 &
W3=$!
pids+=($W3)
sleep 0.5
got=$(ip netns exec "$NS" $PY "$WORK/client.py" "$ECHO_PORT" 1)
check "a connection through tapird echoes (got $got)" [ "$got" = 1 ]
sleep 2.5 # TIME_WAIT is 1 s here: the flow reaches CLOSED
kill $W1 $W2 $W3 2>/dev/null
wait $W1 $W2 $W3 2>/dev/null
out=$($PY - "$WORK/watch1.json" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = {e["data"]["id"] for e in evs if e["event"] != "lost"}
if len(ids) != 1:
    print("FAIL flows seen: %s" % sorted(ids)); sys.exit()
seq = []
for e in evs:
    d = e["data"]
    seq.append(e["event"] if e["event"] != "state" else d["from"] + ">" + d["state"])
ts = [e["timestamp"]["seconds"] * 1000000 + e["timestamp"]["microseconds"] for e in evs]
mono = all(a <= b for a, b in zip(ts, ts[1:]))
print(" ".join(seq), "MONO" if mono else "NOTMONO", evs[-1]["data"].get("end"))
EOF
)
echo "# events: $out"
check "watch sees open, CLOSED>SYN_RCVD, SYN_RCVD>ESTABLISHED first" \
	grep -q "^open CLOSED>SYN_RCVD SYN_RCVD>ESTABLISHED " <<<"$out"
# The container closes first, so tapird's side is the passive closer (RFC 9293 3.6).
check "then CLOSE_WAIT, LAST_ACK, CLOSED, and a close event ending in fin" \
	grep -Eq "SYN_RCVD>ESTABLISHED ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED close MONO fin$" <<<"$out"
check "event timestamps never go backwards" grep -q " MONO " <<<"$out"
n_est=$(grep -c '"event"' "$WORK/watch_est.json")
bad_est=$(grep '"event"' "$WORK/watch_est.json" | grep -vc 'ESTABLISHED')
only_est=no
[ "$n_est" = 2 ] && [ "$bad_est" = 0 ] && only_est=yes
check "a --state ESTABLISHED watcher sees entering and leaving it only ($n_est events)" \
	[ $only_est = yes ]
check "a --proto udp watcher sees no TCP event" [ "$(grep -c tcp "$WORK/watch_udp.json")" = 0 ]
"$CTL" watch --link nosuchlink >/dev/null 2>"$WORK/err"
rc=$?
check "watch --link of no link exits 1 with DeviceNotFound (rc $rc)" \
	bash -c "[ $rc = 1 ] && grep -q DeviceNotFound '$WORK/err'"

# --- conns --all and conn on the closed flow ----------------------------------------------
FID=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["data"]["id"])' \
	"$WORK/watch1.json")
"$CTL" --json watch --id "$FID" --count 1 >"$WORK/watch_id.json" 2>&1 &
W4=$!
pids+=($W4)
check "conns (live) no longer lists flow $FID" bash -c \
	"! '$CTL' --json conns | grep -q '\"id\": $FID,'"
out=$("$CTL" --json conns --all)
check "conns --all lists flow $FID as CLOSED, ended by fin" bash -c "$PY -c '
import json,sys
f=[f for f in json.load(sys.stdin)[\"flows\"] if f[\"id\"]==$FID]
assert f and f[0][\"state\"]==\"CLOSED\" and f[0][\"end\"]==\"fin\" and f[0][\"bytes\"][\"from_container\"]==6
' <<<'$out'"
check "tapirctl conns --all shows CLOSED/fin" bash -c "'$CTL' conns --all | grep -q 'CLOSED/fin'"
out=$("$CTL" conn "$FID")
check "conn $FID (closed) shows its history with wall-clock times" bash -c \
	"grep -q 'LAST_ACK' <<<'$out' && grep -Eq 'CLOSED +20[0-9-]+T' <<<'$out' && grep -q 'end *fin' <<<'$out'"
kill $W4 2>/dev/null

# --- conn on a live flow: TCP internals and TCP_INFO ------------------------------------------
ip netns exec "$NS" $PY -c "
import socket,time
c=socket.create_connection(('10.0.2.2',$ECHO_PORT)); c.sendall(b'x'*1000); c.recv(4096); time.sleep(4)" &
HOLD=$!
pids+=($HOLD)
sleep 1
LID=$("$CTL" --json conns --state ESTABLISHED | $PY -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["id"])' 2>/dev/null)
out=$("$CTL" --json conn "${LID:-0}" 2>&1)
check "conn of a live flow has tcp internals and the upstream's TCP_INFO" bash -c "$PY -c '
import json,sys
f=json.load(sys.stdin)
t,u=f[\"tcp\"],f[\"upstream_tcp\"]
for k in (\"snd_una\",\"snd_nxt\",\"snd_wnd\",\"snd_wl1\",\"snd_wl2\",\"rcv_nxt\",\"rcv_wnd\",\"mss\",\"wscale\",\"ts\",\"sack\",\"srtt_us\",\"rttvar_us\",\"rto_ms\",\"cwnd\",\"ssthresh\",\"retransmits\",\"dupacks\",\"ooo_bytes\",\"in_flight\"): t[k]
assert u[\"state\"]==\"ESTABLISHED\" and u[\"rtt_us\"]>0 and u[\"bytes_acked\"]>=1000
assert f[\"history\"][-1][\"state\"]==\"ESTABLISHED\" and f[\"history\"][0][\"at\"].endswith(\"Z\")
' <<<'$out'"
wait $HOLD 2>/dev/null

# --- stats: flows per state ------------------------------------------------------------------
out=$("$CTL" --json stats)
check "stats has flows by state per link and in total" bash -c "$PY -c '
import json,sys
r=json.load(sys.stdin)
assert \"ESTABLISHED\" in r[\"links\"][0][\"flows\"][\"by_state\"]
assert r[\"total\"][\"flows\"][\"by_state\"][\"TIME_WAIT\"]>=0
assert r[\"total\"][\"counters\"][\"flows_closed_fin\"]>=1
' <<<'$out'"

# --- a stuck watcher: events dropped and counted, never slowing the relay ---------------------
# stuck.py: watch, then read nothing until told (SIGUSR1), then read everything for 3 s.
cat >"$WORK/stuck.py" <<'EOF'
import json, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'{"execute":"watch"}\n')
go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
while not go:
    time.sleep(0.05)
s.settimeout(3)
buf = b""
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
except socket.timeout:
    pass
lines = [json.loads(l) for l in buf.split(b"\n") if l.strip()]
evs = [l for l in lines if "event" in l]
lost = [l for l in evs if l["event"] == "lost"]
after = evs.index(lost[0]) if lost else -1
print("events %d lost_events %d lost_count %d lost_at %d" % (len(evs), len(lost),
      sum(l["data"]["count"] for l in lost), after))
EOF
bulk() { # bulk SECONDS: MB/s of a container-to-host transfer
	ip netns exec "$NS" $PY - "$SINK_PORT" "$1" <<'EOF'
import socket, sys, time
c = socket.create_connection(("10.0.2.2", int(sys.argv[1])))
buf = b"x" * (1 << 20)
n, t0 = 0, time.time()
while time.time() - t0 < float(sys.argv[2]):
    n += c.send(buf)
c.close()
print("%.0f" % (n / (time.time() - t0) / 1e6))
EOF
}
secs=3
[ "$QUICK" = 1 ] && secs=2
mbs_free=$(bulk $secs)
$PY "$WORK/stuck.py" "$SOCK" >"$WORK/stuck.out" 2>&1 &
STUCK=$!
pids+=($STUCK)
sleep 0.5
# fill its 1 MiB: every connection makes ~8 events of ~300 bytes
nconn=1500
[ "$QUICK" = 1 ] && nconn=800
got=$(ip netns exec "$NS" $PY "$WORK/client.py" "$ECHO_PORT" $nconn)
check "$nconn short connections while a watcher is stuck ($got echoed)" [ "$got" = $nconn ]
mbs_stuck=$(bulk $secs)
echo "# bulk transfer: ${mbs_free} MB/s without a watcher, ${mbs_stuck} MB/s with a stuck one"
check "a stuck watcher does not slow a bulk transfer (${mbs_stuck} vs ${mbs_free} MB/s, >= 50%)" \
	[ "${mbs_stuck:-0}" -ge $((${mbs_free:-0} / 2)) ]
kill -USR1 $STUCK
wait $STUCK
out=$(cat "$WORK/stuck.out")
echo "# stuck watcher: $out"
check "the stuck watcher gets a lost event with a count once it reads" bash -c \
	"grep -Eq 'lost_events [1-9][0-9]* lost_count [1-9]' <<<'$out'"
check "tapird still answers after the stuck watcher" "$CTL" status >/dev/null

# --- drops by reason: raw frames from inside the namespace -----------------------------------
TMAC=$("$CTL" --json status | $PY -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["mac"])')
CMAC=$(ip netns exec "$NS" cat /sys/class/net/tap0/address)
cat >"$WORK/frames.py" <<'EOF'
import socket, struct, sys
ours = bytes.fromhex(sys.argv[1].replace(":", ""))
theirs = bytes.fromhex(sys.argv[2].replace(":", ""))
kind, n = sys.argv[3], int(sys.argv[4])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip(proto, payload, ver=4, frag=0, bad=False):
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | 5, 0, 20 + len(payload), 1, frag, 64, proto,
                    0, socket.inet_aton("10.0.2.100"), socket.inet_aton("10.0.2.2"))
    c = csum(h) ^ (0x1234 if bad else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload
def tcp_bad():
    return struct.pack("!HHIIBBHHH", 40000, 9, 1, 0, 5 << 4, 2, 65535, 0xdead, 0)
eth = lambda dst, typ, p: dst + theirs + struct.pack("!H", typ) + p
frames = {
    "bad_ethertype": eth(ours, 0x88b5, b"\0" * 46),
    "not_for_us": eth(b"\x02\0\0\0\0\x09", 0x0800, ip(17, b"\0" * 8)),
    "ip_bad_checksum": eth(ours, 0x0800, ip(17, b"\0" * 8, bad=True)),
    "ip_bad_version": eth(ours, 0x0800, ip(17, b"\0" * 8, ver=6)),
    "ip_frag_malformed": eth(ours, 0x0800, ip(17, b"\0" * 7, frag=0x2000)),
    "tcp_bad_checksum": eth(ours, 0x0800, ip(6, tcp_bad())),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("tap0", 0))
for _ in range(n):
    s.send(frames[kind])
EOF
counter() { "$CTL" --json stats | $PY -c "import json,sys; print(json.load(sys.stdin)['total']['drops']['$1'])"; }
for reason in bad_ethertype not_for_us ip_bad_checksum ip_bad_version ip_frag_malformed tcp_bad_checksum; do
	before=$(counter $reason)
	ip netns exec "$NS" $PY "$WORK/frames.py" "$TMAC" "$CMAC" $reason 7
	sleep 0.3
	after=$(counter $reason)
	check "7 frames with $reason counted under drops.$reason ($before -> $after)" \
		[ $((after - before)) = 7 ]
done

# --- /metrics ---------------------------------------------------------------------------------
if curl -sf "http://127.0.0.1:$MPORT/metrics" -o "$WORK/metrics.txt"; then
	ok "GET /metrics answers"
	check "/metrics has flow gauges, drop reasons and counters" bash -c \
		"grep -q '^tapir_flows{link=\"$NS\",proto=\"tcp\",state=\"ESTABLISHED\"} ' '$WORK/metrics.txt' &&
		 grep -q '^tapir_drops_total{link=\"$NS\",reason=\"ip_bad_checksum\"} 7' '$WORK/metrics.txt' &&
		 grep -q '^# HELP tapir_rx_frames_total ' '$WORK/metrics.txt' &&
		 grep -q '^tapir_flows_opened_total{link=\"$NS\"} ' '$WORK/metrics.txt'"
	if command -v promtool >/dev/null; then
		check "promtool check metrics accepts /metrics" bash -c \
			"promtool check metrics <'$WORK/metrics.txt' >'$WORK/promtool.out' 2>&1 || { cat '$WORK/promtool.out'; false; }"
	else
		skip "promtool not installed (Debian package prometheus; tests/deps.sh installs it)"
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")
	check "other paths get 404 (got $code)" [ "$code" = 404 ]
else
	notok "GET /metrics answers"
fi

# --- capture ----------------------------------------------------------------------------------
# The daemon writes only new files with bare names inside its capture directory (issue 14,
# finding 1): paths, "..", a file that exists and a symlinked directory are refused.
PCAP=$CAPDIR/cap.pcap
"$CTL" capture start cap.pcap >/dev/null
check "capture start NAME: the file exists in the capture directory" [ -f "$PCAP" ]
check "capture directory made 0700" [ "$(stat -c %a "$CAPDIR")" = 700 ]
ip netns exec "$NS" $PY "$WORK/client.py" "$ECHO_PORT" 3 >/dev/null
out=$("$CTL" capture stop)
echo "# $out"
if command -v tcpdump >/dev/null; then
	n=$(tcpdump -nr "$PCAP" 2>/dev/null | wc -l)
	syn=$(tcpdump -nr "$PCAP" "tcp[tcpflags] & tcp-syn != 0 and dst port $ECHO_PORT" 2>/dev/null | wc -l)
	back=$(tcpdump -nr "$PCAP" "src host 10.0.2.2 and src port $ECHO_PORT" 2>/dev/null | wc -l)
	read_ok=no
	[ "$n" -ge 20 ] && [ "$syn" = 3 ] && [ "$back" -ge 6 ] && read_ok=yes
	check "tcpdump -r reads the capture ($n frames, $syn SYNs, $back from the peer)" \
		[ $read_ok = yes ]
	"$CTL" capture start cap5.pcap --count 5 >/dev/null
	ip netns exec "$NS" $PY "$WORK/client.py" "$ECHO_PORT" 2 >/dev/null
	st=$("$CTL" --json capture status)
	"$CTL" capture stop >/dev/null
	n=$(tcpdump -nr "$CAPDIR/cap5.pcap" 2>/dev/null | wc -l)
	check "capture --count 5 stops at 5 frames by itself ($n)" bash -c \
		"[ $n = 5 ] && grep -q '\"full\": true' <<<'$st'"
else
	skip "tcpdump not installed"
fi
# refused(WHAT, NAME, TEXT): capture start NAME fails with exit 1 and TEXT in its message
refused() {
	local rc
	"$CTL" capture start "$2" >/dev/null 2>"$WORK/err"
	rc=$?
	"$CTL" capture stop >/dev/null 2>&1
	check "capture to $1 refused (rc $rc): $(head -c 160 "$WORK/err")" \
		bash -c "[ $rc = 1 ] && grep -q -- '$3' '$WORK/err'"
}
echo precious >"$WORK/victim"
refused "an absolute path" "$WORK/victim" "is a path"
check "the absolute path's file is untouched" [ "$(cat "$WORK/victim")" = precious ]
refused "../x" ../x "is a path"
check "nothing written beside the capture directory" [ ! -e "$WORK/x" ]
refused "an existing file" cap.pcap "exists already"
ln -s "$WORK/victim" "$CAPDIR/evil.pcap"
refused "a symbolic link in the directory" evil.pcap "exists already"
check "the link's target is untouched" [ "$(cat "$WORK/victim")" = precious ]
rm -f "$CAPDIR/evil.pcap"
mv "$CAPDIR" "$WORK/real-captures"
ln -s "$WORK/real-captures" "$CAPDIR"
refused "a symlinked capture directory" new.pcap "symbolic link"
check "nothing written through the symlinked directory" [ ! -e "$WORK/real-captures/new.pcap" ]
rm "$CAPDIR"
mv "$WORK/real-captures" "$CAPDIR"
chmod 0777 "$CAPDIR"
refused "a world-writable capture directory" new.pcap "writable by its group or by others"
chmod 0700 "$CAPDIR"

# --- top, plain -------------------------------------------------------------------------------
out=$("$CTL" top -n 2 -d 0.5 </dev/null 2>&1)
check "top without a terminal prints 2 plain snapshots" bash -c \
	"[ \$(grep -c '^tapir top' <<<'$out') = 2 ] && grep -q 'opened .*/s' <<<'$out' && ! grep -q \$'\\033' <<<'$out'"

# --- top over a large conns reply ---------------------------------------------------------------
# A stand-in daemon (fake_conns.py) answers stats and conns with BIG flows (~24 MB of conns
# reply at 50,000): top reads that reply in place (ctl/stream.c), as conns does. Its busiest
# rows must be the flows that --json conns, ranked here by bytes, puts first.
BIG=50000
[ "$QUICK" = 1 ] && BIG=10000
$PY "$TOP/tests/integration/fake_conns.py" "$WORK/fake.sock" $BIG >"$WORK/fake.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/fake.out" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s%N)
out=$("$CTL" -s "$WORK/fake.sock" -t 60 top -n 1 -d 0.1 --rows 5 </dev/null 2>&1)
rc=$?
t1=$(date +%s%N)
got=$(awk '$1 ~ /^[0-9]+$/ && NF == 11 { printf "%s%s", sep, $1; sep = " " }' <<<"$out")
want=$("$CTL" -s "$WORK/fake.sock" -t 60 --json conns | $PY -c '
import json, sys
f = json.load(sys.stdin)["flows"]
f.sort(key=lambda x: (-(x["bytes"]["from_container"] + x["bytes"]["to_container"]), x["id"]))
print(" ".join(str(x["id"]) for x in f[:5]))')
echo "# top over $BIG flows: two polls in $(((t1 - t0) / 1000000)) ms; busiest rows: $got (--json conns: $want)"
check "top reads a $BIG-flow conns reply (stand-in daemon): every flow counted, the 5 busiest first" \
	bash -c '[ "$1" = 0 ] && grep -q "^flows $2: ESTABLISHED $(($2 * 6 / 10)), " <<<"$3" && [ -n "$4" ] && [ "$4" = "$5" ]' \
	_ "$rc" "$BIG" "$out" "$got" "$want"

# --- 10,000 concurrent connections listed -------------------------------------------------------
N=10000
[ "$QUICK" = 1 ] && N=2000
TCPPERF=$WORK/tcpperf
if [ -f "$TOP/../shared/bench/tcpperf.c" ] || [ -f /work/shared/bench/tcpperf.c ]; then
	src=$TOP/../shared/bench/tcpperf.c
	[ -f "$src" ] || src=/work/shared/bench/tcpperf.c
	gcc -O2 -o "$TCPPERF" "$src" 2>/dev/null
fi
if [ -x "$TCPPERF" ]; then
	CPORT=$(free_port) || CPORT=$((20000 + $$ % 10000))
	"$TCPPERF" server $CPORT >"$WORK/tcpperf-server.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		[ -n "$(ss -Hltn "sport = :$CPORT" 2>/dev/null)" ] && break
		sleep 0.1
	done
	[ -n "$(ss -Hltn "sport = :$CPORT" 2>/dev/null)" ] ||
		echo "# tcpperf server on 127.0.0.1:$CPORT is not listening: $(cat "$WORK/tcpperf-server.log")"
	ip netns exec "$NS" "$TCPPERF" conc 10.0.2.2 $CPORT $N 120 >"$WORK/conc.out" 2>&1 &
	CONC=$!
	pids+=($CONC)
	# tcpperf reports only when it exits: watch the flow table fill instead (bounded: 50 s)
	est=0
	for _ in $(seq 250); do
		est=$("$CTL" --json stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["total"]["flows"]["by_state"]["ESTABLISHED"])')
		[ "$est" -ge $N ] && break
		sleep 0.2
	done
	echo "# $est flows ESTABLISHED"
	t0=$(date +%s.%N)
	n=$("$CTL" -t 30 --json conns --state ESTABLISHED | $PY -c "import json,sys; print(sum(1 for f in json.load(sys.stdin)['flows'] if f['peer'].endswith(':$CPORT')))")
	t1=$(date +%s.%N)
	echo "# conns --state ESTABLISHED listed $n flows in $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
	check "all $N concurrent connections listed as ESTABLISHED ($n)" [ "$n" = $N ]
	[ "$n" = $N ] || echo "# tcpperf conc: $(tail -3 "$WORK/conc.out" 2>/dev/null)"
	kill $CONC 2>/dev/null
else
	skip "tcpperf (shared/bench/tcpperf.c) not found or not built"
fi

# --- the daemon's log --------------------------------------------------------------------------
kill "$TAPIRD_PID"
wait "$TAPIRD_PID" 2>/dev/null
if grep -Eq 'Sanitizer|runtime error' "$LOG"; then
	notok "tapird's log has no sanitizer report"
	grep -E -A20 'Sanitizer|runtime error' "$LOG" | head -40 | sed 's/^/# /'
else
	ok "tapird's log has no sanitizer report"
fi
finish
