#!/bin/bash
# tests/integration/test_control.sh - the control socket and tapirctl against a live tapird.
#
# A namespace of our own gets tapird on tap0 with its control socket in a private directory.
# Checks: tapirctl status names the link and tap0; --json output parses; the socket is 0660;
# raw socket clients: status answers, garbage / unknown command / non-object / a 70 KiB line
# each get an error and the daemon keeps serving; many requests on one connection; a one-shot
# client (shutdown(SHUT_WR)); tapirctl exit codes 0 / 1 / 2 (and 2 on a stalled daemon); conns and stats print tables; a
# TCP connection from the container to a host listener shows up in `conns` (skipped if the
# relay cannot carry one yet); a second daemon refuses the live socket; the socket is removed
# on exit; and tapird's log has no sanitizer report.
#
#   bash tests/integration/test_control.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespace this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"
CTL=$TAPIRCTL

need_root "namespaces, TAP devices"
need_exec "not built" "$TAPIRD" "$CTL"

NS=tapir-ctl-$$
WORK=$(mktemp -d /tmp/tapir-ctl-$$.XXXXXX)
SOCK=$WORK/run/control.sock # its parent does not exist yet: tapird creates it
LOG=$WORK/tapird.log
cleanup_on_exit "$NS" "thd-ctl3-$$" "thd-ctl4-$$"

if ! ns_with_tapird "$NS" "$SOCK" "$LOG" --log-level debug; then
	notok "tapird starts and creates $SOCK"
	sed 's/^/# /' "$LOG" 2>/dev/null
	finish
fi
ok "tapird starts and creates $SOCK (parent directory made)"
export TAPIR_CONTROL=$SOCK

# --- the socket file ---
mode=$(stat -c %a "$SOCK")
check "socket mode is 0660 (got $mode)" [ "$mode" = 660 ]

# --- tapirctl, for people ---
out=$("$CTL" status 2>&1)
rc=$?
check "tapirctl status exits 0 (rc $rc)" [ $rc = 0 ]
check "tapirctl status names the link" grep -q "link $NS" <<<"$out"
check "tapirctl status names tap0" grep -q "tap0" <<<"$out"
check "tapirctl status shows the address" grep -q "10.0.2.100/24" <<<"$out"
out=$("$CTL" -s "$SOCK" stats 2>&1)
check "tapirctl stats lists counters and drops" \
	bash -c 'grep -q "rx_frames" <<<"$1" && grep -q "drops by reason" <<<"$1"' _ "$out"

# --- tapirctl --json: valid JSON, for every command ---
for cmd in status stats conns; do
	if "$CTL" --json $cmd | $PY -m json.tool >/dev/null 2>&1; then
		ok "tapirctl --json $cmd is valid JSON"
	else
		notok "tapirctl --json $cmd is valid JSON"
	fi
done
check "tapirctl status --json (after the command) is valid JSON" bash -c \
	"'$CTL' status --json | $PY -m json.tool >/dev/null"
check "--json status has the link by name" bash -c \
	"'$CTL' --json status | $PY -c 'import json,sys; r=json.load(sys.stdin); \
	sys.exit(0 if r[\"links\"][0][\"name\"] == \"$NS\" and r[\"links\"][0][\"ifname\"] == \"tap0\" else 1)'"

# --- exit codes ---
"$CTL" conns --state NOT_A_STATE >/dev/null 2>"$WORK/err"
rc=$?
check "error reply: exit 1 (rc $rc)" [ $rc = 1 ]
check "error reply: 'tapirctl: CLASS: desc' on stderr" grep -q "^tapirctl: GenericError: unknown state" "$WORK/err"
"$CTL" conn 999999 >/dev/null 2>"$WORK/err"
rc=$?
check "unknown flow id: exit 1 (rc $rc)" [ $rc = 1 ]
"$CTL" -s "$WORK/nope.sock" status >/dev/null 2>"$WORK/err"
rc=$?
check "no daemon: exit 2 (rc $rc)" [ $rc = 2 ]
check "no daemon: says it cannot connect" grep -q "cannot connect to $WORK/nope.sock: No such file or directory" "$WORK/err"
# A "daemon" that accepts and never answers: tapirctl gives up (exit 2) instead of hanging.
$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); time.sleep(10)' "$WORK/stall.sock" &
pids+=($!)
for _ in $(seq 50); do [ -S "$WORK/stall.sock" ] && break; sleep 0.1; done
start=$(date +%s%N)
timeout 8 "$CTL" -s "$WORK/stall.sock" -t 1 status >/dev/null 2>"$WORK/err"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
check "stalled daemon: exit 2 after the timeout (rc $rc, ${took} ms)" [ $rc = 2 -a $took -lt 5000 ]
check "stalled daemon: says no reply" grep -q "no reply within 1 s" "$WORK/err"
out=$("$CTL" raw '{"execute": "status"}')
rc=$?
check "tapirctl raw: return, exit 0 (rc $rc)" bash -c '[ "$1" = 0 ] && grep -q "^{\"return\"" <<<"$2"' _ "$rc" "$out"
"$CTL" raw 'garbage' >/dev/null
rc=$?
check "tapirctl raw garbage: exit 1 (rc $rc)" [ $rc = 1 ]

# --- raw socket clients ---
cat >"$WORK/client.py" <<'EOF'
import json, socket, sys

path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s

def readline(s, buf):
    while b"\n" not in buf[0]:
        d = s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        buf[0] += d
    line, buf[0] = buf[0].split(b"\n", 1)
    return json.loads(line)

def ask(s, buf, data):
    s.sendall(data)
    return readline(s, buf)

results = []
def check(name, cond):
    results.append(cond)
    print(("ok - " if cond else "not ok - ") + name)

s, buf = conn(), [b""]
r = ask(s, buf, b'{"execute": "status"}\n')
check("socket: status answers with return", "return" in r and r["return"]["links"][0]["ifname"] == "tap0")
r = ask(s, buf, b"garbage\n")
check("socket: garbage gets an error", r.get("error", {}).get("class") == "GenericError")
r = ask(s, buf, b'{"execute": "no_such_command"}\n')
check("socket: unknown command gets CommandNotFound", r.get("error", {}).get("class") == "CommandNotFound")
r = ask(s, buf, b'[1, 2, 3]\n')
check("socket: non-object gets an error", "error" in r)
r = ask(s, buf, b'{"execute": 42}\n')
check("socket: non-string execute gets an error", "error" in r)
r = ask(s, buf, b'{"execute": "conns", "arguments": [1]}\n')
check("socket: arguments not an object gets an error", "error" in r)
r = ask(s, buf, b"x" * (70 * 1024) + b"\n")
check("socket: 70 KiB line gets an error", "too large" in r.get("error", {}).get("desc", ""))
r = ask(s, buf, b'{"execute": "status"}\n')
check("socket: after all of them, status still answers on the same connection", "return" in r)
s2, buf2 = conn(), [b""]
r = ask(s2, buf2, b'{"execute": "status"}\n')
check("socket: a new connection is served too", "return" in r)
s2.close()

# many requests on one connection, pipelined in one write
n = 200
s.sendall(b'{"execute": "stats"}\n' * n)
got = sum(1 for _ in range(n) if "return" in readline(s, buf))
check("socket: %d pipelined requests on one connection, %d answers" % (n, got), got == n)
s.close()

# one-shot client: write, shut down, read to EOF
s = conn()
s.sendall(b'{"execute": "status", "id": 1}')
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
s.close()
lines = data.split(b"\n")
check("socket: one-shot client (shutdown SHUT_WR) gets one reply, then EOF",
      len(lines) == 2 and lines[1] == b"" and json.loads(lines[0]).get("id") == 1
      and "return" in json.loads(lines[0]))
sys.exit(0 if all(results) else 1)
EOF
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) notok "${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done < <($PY "$WORK/client.py" "$SOCK" 2>&1)

# --- a flow in the table: container → 10.0.2.2 (the host's loopback) ---
PORT=$(free_port) || PORT=$((20000 + $$ % 10000))
$PY - "$PORT" >"$WORK/server.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(20)
c, _ = s.accept()
c.sendall(b"hello\n")
time.sleep(20)
EOF
pids+=($!)
sleep 0.3
ip netns exec "$NS" $PY - "$PORT" >"$WORK/client.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=5)
s.recv(16)
time.sleep(20)
EOF
pids+=($!)
found=
for _ in $(seq 50); do
	if "$CTL" conns --state ESTABLISHED | grep -q "10.0.2.2:$PORT"; then
		found=1
		break
	fi
	sleep 0.1
done
if [ -n "$found" ]; then
	out=$("$CTL" conns)
	check "conns: header line" grep -q "^ *ID  *LINK  *PROTO  *STATE  *CONTAINER  *PEER  *UPSTREAM  *BYTES-IN  *BYTES-OUT  *AGE" <<<"$out"
	check "conns: the flow, ESTABLISHED, upstream 127.0.0.1:$PORT" grep -Eq "tcp +ESTABLISHED +10\.0\.2\.100:[0-9]+ +10\.0\.2\.2:$PORT +127\.0\.0\.1:$PORT" <<<"$out"
	id=$("$CTL" --json conns --state ESTABLISHED | $PY -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["id"])')
	out=$("$CTL" conn "$id")
	check "conn $id: shows a history timeline" bash -c 'grep -q "^history" <<<"$1" && grep -q "ESTABLISHED" <<<"$1"' _ "$out"
	check "conn $id --json: parses" bash -c "'$CTL' --json conn '$id' | $PY -m json.tool >/dev/null"
	out=$("$CTL" conns --proto udp)
	check "conns --proto udp: no flows" [ "$out" = "no flows" ]
	out=$("$CTL" status)
	check "status counts the flow by state" grep -q "ESTABLISHED 1" <<<"$out"
else
	skip "no TCP flow from the container became ESTABLISHED (relay not carrying yet?)"
	out=$("$CTL" conns --proto udp)
	check "conns with nothing to show prints 'no flows'" [ "$out" = "no flows" ]
fi

# --- a second daemon must not steal the live socket ---
NS2=tapir-ctl2-$$
ip netns add "$NS2"
timeout 10 "$TAPIRD" -f --netns "$NS2" --control "$SOCK" >"$WORK/second.log" 2>&1
rc=$?
ip netns del "$NS2"
check "a second tapird on the same socket fails (rc $rc)" [ $rc != 0 -a $rc != 124 ]
check "... saying someone is listening" grep -q "listening" "$WORK/second.log"
check "the first daemon still answers" "$CTL" status >/dev/null

# --- the socket as a unit runs it (issue 14, finding 6) ----------------------------------------
# A second daemon with control-group and admin-group given by number, without CAP_SETGID (the
# units grant CAP_CHOWN only): the socket still gets its group, by descriptor; a user outside
# the group cannot connect; one uid gets 16 connections, the 17th is refused by name.
NS3=thd-ctl3-$$
SOCK3=$WORK/run3/control.sock
printf '[daemon]\ncontrol-group = 4244\nadmin-group = 4245\n' >"$WORK/unit.conf"
ip netns add "$NS3"
if command -v setpriv >/dev/null; then
	# --user root: becoming the user tapird needs CAP_SETGID; this checks the socket alone
	setpriv --bounding-set=-setgid -- "$TAPIRD" -f -c "$WORK/unit.conf" --netns "$NS3" \
		--control "$SOCK3" --user root >"$WORK/third.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$SOCK3" ] && break; sleep 0.1; done
	check "without CAP_SETGID the socket is 0660 group 4244 ($(stat -c '%a %g' "$SOCK3" 2>&1))" \
		[ "$(stat -c '%a %g' "$SOCK3" 2>/dev/null)" = "660 4244" ]
	chmod 0755 "$WORK" # let other uids reach run3/ (0755, made by tapird)
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups -- "$CTL" -s "$SOCK3" status 2>&1)
	check "a user outside the control group cannot connect: $out" grep -qi "permission denied" <<<"$out"
	out=$(setpriv --reuid 65534 --regid 65534 --groups 4244 -- "$CTL" -s "$SOCK3" status 2>&1)
	check "a member of the control group reads status" grep -q "link $NS3" <<<"$out"
	out=$(setpriv --reuid 65534 --regid 65534 --groups 4244 -- \
		"$CTL" -s "$SOCK3" capture status 2>&1)
	check "... but may not run a mutating command: $out" grep -q "permission denied" <<<"$out"
	out=$(setpriv --reuid 65534 --regid 65534 --groups 4244,4245 -- \
		"$CTL" -s "$SOCK3" capture status 2>&1)
	check "a member of the admin group (supplementary) may: $out" grep -q "no capture" <<<"$out"
	cat >"$WORK/hold.py" <<'EOF'
import socket, sys, time
socks = []
for i in range(17):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    socks.append(s)
    time.sleep(0.02)
s = socks[-1]
s.settimeout(3)
print(s.recv(4096).decode().strip())
socks[0].sendall(b'{"execute": "status"}\n')
socks[0].settimeout(3)
print("first still served" if b'"return"' in socks[0].recv(65536) else "first not served")
EOF
	out=$(setpriv --reuid 65534 --regid 65534 --groups 4244 -- $PY "$WORK/hold.py" "$SOCK3" 2>&1)
	check "one uid: the 17th connection is refused by name, the first still served" \
		bash -c 'grep -q "too many control clients for uid 65534 (limit 16 per user)" <<<"$1" &&
			 grep -q "first still served" <<<"$1"' _ "$out"
	out=$("$CTL" -s "$SOCK3" status 2>&1)
	check "... and root still gets in; status counts the refusal: $(grep '^control' <<<"$out")" \
		grep -q "^control socket: 1 clients (limit 64, 16 per user), refused 0 (full) 1 (per user)" <<<"$out"
else
	skip "setpriv not installed (util-linux)"
fi
# A control directory others may write to is refused at start, by name.
mkdir -m 0777 "$WORK/open"
chmod 0777 "$WORK/open"
ip netns add "thd-ctl4-$$"
out=$(timeout 10 "$TAPIRD" -f --netns "thd-ctl4-$$" --control "$WORK/open/c.sock" 2>&1)
rc=$?
ip netns del "thd-ctl4-$$"
check "a world-writable control directory is refused (rc $rc): $out" \
	bash -c '[ $1 != 0 ] && [ $1 != 124 ] && grep -q "control directory .*writable by its group or by others" <<<"$2"' _ $rc "$out"

# --- shutdown ---
kill "$TAPIRD_PID"
for _ in $(seq 50); do
	kill -0 "$TAPIRD_PID" 2>/dev/null || break
	sleep 0.1
done
check "tapird exits on SIGTERM" bash -c "! kill -0 $TAPIRD_PID 2>/dev/null"
check "the socket is removed on exit" [ ! -e "$SOCK" ]
if grep -q "Sanitizer" "$LOG"; then
	notok "no sanitizer report in tapird's log"
	sed 's/^/# /' "$LOG" | head -40
else
	ok "no sanitizer report in tapird's log"
fi
finish
