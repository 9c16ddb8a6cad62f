#!/bin/bash
# tests/demo.sh - see tapir work in a minute: install, build, attach tapird to a fresh demo
# namespace ("the container"), ping through it, relay real TCP traffic to a server on the
# host's loopback, and list the connections with tapirctl. Cleans up after itself
# (KEEP=1 leaves the namespace and the daemon running so you can explore).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }

bash tests/deps.sh || exit 1
if [ ! -x daemon/tapird ] || [ ! -x ctl/tapirctl ]; then
	echo "== building"
	{ [ -x configure ] || autoreconf -fi; } >/dev/null 2>&1
	{ [ -f Makefile ] || ./configure; } >/dev/null || exit 1
	make -j2 >/dev/null || exit 1
fi

NS=tapir-demo
SOCK=/run/tapird/demo.sock
PY=/usr/bin/python3
pids=()
cleanup() {
	[ "${KEEP:-0}" = 1 ] && { echo "(KEEP=1: tapird pid ${pids[0]:-?} and namespace $NS left running)"; return; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del $NS 2>/dev/null
}
trap cleanup EXIT
run() { printf '\n$ %s\n' "$*"; "$@"; }

ip netns del $NS 2>/dev/null
ip netns add $NS
daemon/tapird -f --netns $NS --control $SOCK --log-level info & pids+=($!)
for _ in $(seq 50); do [ -S $SOCK ] && break; sleep 0.1; done

run ip -n $NS -br addr show tap0
run ip -n $NS route
run ip netns exec $NS ping -c 3 -i 0.2 10.0.2.2
run ctl/tapirctl -s $SOCK status

# Real traffic: a web server on the host's loopback, fetched from inside the container through
# the gateway address (10.0.2.2 means the host's 127.0.0.1).
mkdir -p /tmp/tapir-demo-www && echo "hello from the host, through tapir" >/tmp/tapir-demo-www/index.html
$PY -m http.server 18080 --bind 127.0.0.1 --directory /tmp/tapir-demo-www >/dev/null 2>&1 & pids+=($!)
sleep 0.5
printf '\n$ ip netns exec %s python3 (GET http://10.0.2.2:18080/, connection held open)\n' $NS
ip netns exec $NS $PY - <<'PY' &
import socket, time
s = socket.create_connection(("10.0.2.2", 18080), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
data = b""
while b"through tapir" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().split("\r\n\r\n", 1)[-1].strip())
time.sleep(3)  # the server has closed its side; ours stays open a moment (half-close)
s.close()
PY
pids+=($!)
sleep 1
run ctl/tapirctl -s $SOCK conns
sleep 3
run ctl/tapirctl -s $SOCK conns

# The other way: a web server in the container, reached from the host through a port forward.
# The server sees the client's real address (a host-loopback client appears as 10.0.2.2).
ip netns exec $NS $PY -m http.server 80 --bind 0.0.0.0 --directory /tmp/tapir-demo-www >/tmp/tapir-demo-srv.log 2>&1 & pids+=($!)
for _ in $(seq 50); do ip netns exec $NS ss -ltn | grep -q ':80 ' && break; sleep 0.1; done
run ctl/tapirctl -s $SOCK fwd add 127.0.0.1:18090:80
run ctl/tapirctl -s $SOCK conns --state LISTEN
ctl/tapirctl -s $SOCK watch >/tmp/tapir-demo-watch.log 2>&1 & wpid=$!
run curl -s http://127.0.0.1:18090/
sleep 0.5
printf '\n$ cat /tmp/tapir-demo-srv.log   (the container server saw the client as)\n'
cat /tmp/tapir-demo-srv.log
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
printf '\n$ tapirctl watch   (meanwhile, in another terminal)\n'
cat /tmp/tapir-demo-watch.log
run ctl/tapirctl -s $SOCK conns --all
id=$(ctl/tapirctl -s $SOCK --json conns --all | $PY -c 'import json,sys; print(max(f["id"] for f in json.load(sys.stdin)["flows"] if f["origin"]=="host" and f["state"]!="LISTEN"))')
run ctl/tapirctl -s $SOCK conn "$id"
run ctl/tapirctl -s $SOCK top -n 1
run ctl/tapirctl -s $SOCK stats
