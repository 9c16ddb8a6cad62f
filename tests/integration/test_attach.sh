#!/bin/bash
# tests/integration/test_attach.sh - tapird attaches to a namespace: TAP created and configured
# over netlink, answers ping for the gateway and DNS addresses, refuses bad starts with one
# line naming the thing, and cleans up on SIGTERM (socket removed, TAP gone).
#
#   sudo bash tests/integration/test_attach.sh [BUILD_DIR]     (or BUILD=... in the environment)
#
# Self-contained: creates its own namespaces (named with $$), kills only the daemons it
# started (by pid), deletes what it created. Traffic stays inside those namespaces.
set -u
BUILD=${1:-${BUILD:-.}}
TAPIRD=$(cd "$BUILD" && pwd)/daemon/tapird
TAPIRCTL=$(cd "$BUILD" && pwd)/ctl/tapirctl
PY=/usr/bin/python3
NS=tapir-att-$$
NS2=tapir-att2-$$
TMP=$(mktemp -d /tmp/tapir-attach.XXXXXX)
SOCK=$TMP/control.sock
PASS=0
FAIL=0
PIDS=()

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else nok "$what"; fi
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "test_attach.sh: needs root (namespaces, TAP devices)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -x "$TAPIRD" ]; then
	echo "test_attach.sh: $TAPIRD not built"
	echo "0 passed, 1 failed"
	exit 1
fi

# wait_for COND_COMMAND...: up to 5 s
wait_for() {
	local i
	for i in $(seq 50); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_daemon ARGS...: tapird -f in the background; sets DPID
start_daemon() {
	"$TAPIRD" -f "$@" 2>>"$TMP/daemon.log" &
	DPID=$!
	PIDS+=("$DPID")
}

# stop_daemon: SIGTERM and wait; sets DRC to the exit status
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	DRC=$?
}

# one_line_error EXPECTED_RC REGEX ARGS...: tapird exits EXPECTED_RC with exactly one line
# on stderr matching REGEX
one_line_error() {
	local what=$1 re=$2 out rc
	shift 2
	out=$(timeout 10 "$TAPIRD" -f "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		printf '%s\n' "$out" | grep -Eq -- "$re"; then
		ok "$what (\"$out\")"
	else
		nok "$what: rc $rc, stderr: $out"
	fi
}

ip netns add "$NS" || { echo "cannot create namespace $NS"; echo "0 passed, 1 failed"; exit 1; }

# --- attach with the defaults ----------------------------------------------------------------
start_daemon --netns "$NS" --control "$SOCK"
if wait_for test -S "$SOCK"; then ok "control socket appears"; else nok "control socket appears"; fi

addr=$(ip -n "$NS" -o -4 addr show dev tap0 2>/dev/null)
echo "# $(ip -n "$NS" -br addr show dev tap0 2>&1)"
echo "# $(ip -n "$NS" route 2>&1 | tr '\n' ';')"
check "tap0 exists in the namespace" ip -n "$NS" link show dev tap0
if [[ $addr == *"inet 10.0.2.100/24 "* ]]; then ok "tap0 has 10.0.2.100/24"; else nok "tap0 has 10.0.2.100/24: $addr"; fi
check "tap0 MTU is 65520" bash -c "ip -n '$NS' link show dev tap0 | grep -q 'mtu 65520 '"
check "tap0 is up" bash -c "ip -n '$NS' link show dev tap0 | grep -q '<.*,UP[,>]'"
check "default route via 10.0.2.2 dev tap0" \
	bash -c "ip -n '$NS' route show default | grep -q '^default via 10.0.2.2 dev tap0'"
check "tap0 exists only in the namespace, not on the host" bash -c "! ip link show dev tap0"

# ping needs the stack's ARP and ICMP echo (daemon/stack/arp.c, icmp.c)
check "ping 10.0.2.2 (gateway) from the namespace" \
	ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 10.0.2.2
check "ping 10.0.2.3 (DNS) from the namespace" \
	ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 10.0.2.3

# a second daemon on the same namespace and interface name is refused
one_line_error "second daemon on the same tap0 refused" \
	"^tapird: tap0 in /run/netns/$NS: Device or resource busy$" \
	--netns "$NS" --control "$TMP/second.sock"

check "daemon still running after the refused second one" kill -0 "$DPID"

# --- SIGTERM: orderly shutdown ----------------------------------------------------------------
stop_daemon
if [ "$DRC" = 0 ]; then ok "SIGTERM: exit status 0"; else nok "SIGTERM: exit status $DRC"; fi
if [ ! -e "$SOCK" ]; then ok "SIGTERM: control socket removed"; else nok "SIGTERM: control socket left behind"; fi
if wait_for bash -c "! ip -n '$NS' link show dev tap0"; then ok "SIGTERM: tap0 gone"; else nok "SIGTERM: tap0 still there"; fi

# --- --no-configure, --pid, other names and addresses ----------------------------------------
start_daemon --netns "/run/netns/$NS" --control "$SOCK" --no-configure
wait_for test -S "$SOCK"
check "--no-configure: tap0 created" ip -n "$NS" link show dev tap0
if [ -z "$(ip -n "$NS" -o -4 addr show dev tap0)" ]; then ok "--no-configure: tap0 has no IPv4 address"; else nok "--no-configure: tap0 has an address"; fi
check "--no-configure: tap0 left down" bash -c "! ip -n '$NS' link show dev tap0 | grep -q '<.*,UP[,>]'"
stop_daemon

ip netns add "$NS2"
ip netns exec "$NS2" sleep 60 &
HOLDER=$!
PIDS+=("$HOLDER")
# until "ip netns exec" has entered the namespace, /proc/$HOLDER/ns/net is the host's own: never
# start tapird on it then (it would create eth9 on the host)
if wait_for bash -c "[ \"\$(stat -L -c %i /proc/$HOLDER/ns/net)\" = \"\$(stat -L -c %i /run/netns/$NS2)\" ]"; then
	start_daemon --pid "$HOLDER" --control "$SOCK" --ifname eth9 --address 192.168.77.5/28 \
		--gateway 192.168.77.1 --dns 192.168.77.2 --mtu 1500
	wait_for test -S "$SOCK"
	check "--pid: eth9 in the process's namespace with 192.168.77.5/28" \
		bash -c "ip -n '$NS2' -o -4 addr show dev eth9 | grep -q 'inet 192.168.77.5/28 '"
	check "--mtu 1500 applied" bash -c "ip -n '$NS2' link show dev eth9 | grep -q 'mtu 1500 '"
	check "--gateway applied" \
		bash -c "ip -n '$NS2' route show default | grep -q 'via 192.168.77.1 dev eth9'"
	check "ping the custom gateway 192.168.77.1" \
		ip netns exec "$NS2" ping -c 2 -i 0.2 -W 1 192.168.77.1
	stop_daemon
else
	nok "--pid: the holder process never entered $NS2"
fi
kill "$HOLDER" 2>/dev/null

# --- configuration file, and SIGHUP ------------------------------------------------------------
CONF=$TMP/tapird.conf
printf '[link]\nnetns = %s\n[daemon]\ncontrol = %s\nlog-level = info\n' "$NS" "$SOCK" >"$CONF"
: >"$TMP/daemon.log"
start_daemon -c "$CONF"
wait_for test -S "$SOCK"
check "-c FILE: started from the file's netns and control" ip -n "$NS" link show dev tap0
printf '[link]\nnetns = %s\n[daemon]\ncontrol = %s\nlog-level = debug\n' "$NS" "$SOCK" >"$CONF"
kill -HUP "$DPID"
if wait_for grep -q "log level debug" "$TMP/daemon.log"; then ok "SIGHUP: log level re-read"; else nok "SIGHUP: log level re-read"; fi
printf '[link]\nmtu = huge\n' >"$CONF"
kill -HUP "$DPID"
if wait_for grep -q "tapird.conf:2: mtu: .*configuration unchanged" "$TMP/daemon.log" &&
	kill -0 "$DPID"; then
	ok "SIGHUP with a bad file: logged, daemon keeps running"
else
	nok "SIGHUP with a bad file: $(tail -2 "$TMP/daemon.log")"
fi
stop_daemon
if [ "$DRC" = 0 ]; then ok "stopped after SIGHUPs with status 0"; else nok "exit status $DRC after SIGHUPs"; fi

# --- systemd's side: sd_notify, journal priorities; and the classic daemon without -f ----------
PY=/usr/bin/python3
if [ -x $PY ]; then
	$PY - "$TMP/notify.sock" "$TMP/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w", buffering=1) as log:
    end = time.time() + 20
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write(msg.replace("\n", " ") + "\n")
        if "STOPPING=1" in msg:
            break
PYEOF
	NPID=$!
	PIDS+=("$NPID")
	wait_for test -S "$TMP/notify.sock"
	: >"$TMP/journal.log"
	jst=$(stat -c '%d:%i' "$TMP/journal.log")
	# no -f: under NOTIFY_SOCKET tapird must still stay in the foreground
	NOTIFY_SOCKET=$TMP/notify.sock JOURNAL_STREAM=$jst \
		"$TAPIRD" --netns "$NS" --control "$SOCK" 2>>"$TMP/journal.log" &
	DPID=$!
	PIDS+=("$DPID")
	if wait_for grep -q "READY=1.*STATUS=serving $NS .*MAINPID=$DPID" "$TMP/notify.log"; then
		ok "sd_notify: READY=1 with STATUS and MAINPID"
	else
		nok "sd_notify: READY=1: $(cat "$TMP/notify.log")"
	fi
	check "under NOTIFY_SOCKET without -f: no fork (same pid still running)" kill -0 "$DPID"
	stop_daemon
	wait "$NPID" 2>/dev/null
	check "sd_notify: STOPPING=1 on SIGTERM" grep -q "STOPPING=1" "$TMP/notify.log"
	if grep -q '^<6>serving ' "$TMP/journal.log" && ! grep -qv '^<[0-7]>' "$TMP/journal.log"; then
		ok "under the journal every line has a <N> priority prefix"
	else
		nok "journal prefixes: $(head -3 "$TMP/journal.log")"
	fi
else
	echo "# skipped the sd_notify checks: $PY not installed"
fi

out=$("$TAPIRD" --netns "$NS" --control "$SOCK" 2>&1)
rc=$?
if [ $rc = 0 ] && ! printf '%s' "$out" | grep -q 'error' && test -S "$SOCK"; then ok "without -f: detaches, parent exits 0 once the socket is up"; else nok "without -f: rc $rc: $out"; fi
bg=$(ss -xlpn 2>/dev/null | grep -F "$SOCK" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
if [ -n "$bg" ] && [ "$(ps -o tty= -p "$bg" | tr -d ' ')" = "?" ] && [ "$bg" != "$$" ]; then
	ok "without -f: the daemon (pid $bg) has no controlling terminal"
else
	nok "without -f: daemon pid ${bg:-not found}"
fi
if [ -n "$bg" ]; then
	kill -TERM "$bg"
	if wait_for bash -c "! kill -0 $bg && ! test -e '$SOCK'"; then ok "without -f: SIGTERM stops it and removes the socket"; else nok "without -f: still running or socket left"; kill -KILL "$bg" 2>/dev/null; fi
fi

# --- systemd: the units verify, and tapird works with only the unit's capabilities ----------
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMP/units"
	for u in tapird.service tapird@.service; do
		sed "s|/usr/local/sbin/tapird|$TAPIRD|" "$SRC/systemd/$u" >"$TMP/units/$u"
	done
	cp "$TMP/units/tapird@.service" "$TMP/units/tapird@$NS.service"
	for u in tapird.service "tapird@$NS.service"; do
		out=$(systemd-analyze verify "$TMP/units/$u" 2>&1)
		if [ $? = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $u: clean"; else nok "systemd-analyze verify $u: $out"; fi
	done
else
	echo "# skipped systemd-analyze verify: systemd-analyze not installed"
fi
# tapird as the unit runs it: the user tapird (User=, Group=) with the unit's
# AmbientCapabilities= bounded by its CapabilityBoundingSet=, no_new_privs; in a mount
# namespace of its own where /dev/net/tun is a node of mode 0666, as udev makes it on a host
# and as the unit's private /dev binds it in (this machine's own node is left as it is).
# capnames KEY: the unit's KEY= capabilities as setpriv wants them (+cap,+cap...)
capnames() {
	sed -n "s/^$1=//p" "$SRC/systemd/tapird.service" | tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g'
}
# capbits KEY [LESS...]: the unit's KEY= capabilities, but LESS, as /proc/PID/status shows a set
capbits() {
	local key=$1 c n want=0
	shift
	for c in $(sed -n "s/^$key=//p" "$SRC/systemd/tapird.service"); do
		case " $* " in *" $c "*) continue ;; esac
		n=$(sed -n "s/^#define ${c}[[:space:]]*\([0-9]*\)\$/\1/p" /usr/include/linux/capability.h)
		want=$((want | (1 << ${n:-63})))
	done
	printf '%016x\n' "$want"
}
amb=$(capnames AmbientCapabilities)
bnd=$(capnames CapabilityBoundingSet)
if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	echo "# skipped the run as the unit runs it: setpriv or unshare not installed"
elif ! getent passwd tapird >/dev/null; then
	nok "the run as the unit runs it: no user tapird (tests/deps.sh makes it; the units need it)"
elif [ -z "$amb" ] || [ -z "$bnd" ]; then
	nok "the run as the unit runs it: no AmbientCapabilities= or CapabilityBoundingSet= in systemd/tapird.service"
else
	UD=$TMP/unit
	mkdir -p "$UD/dev" "$UD/run"
	# the path to the socket must be one the user may open (safedir opens every component),
	# its directory the user's own, as /run/tapird is (RuntimeDirectory=)
	chmod 0755 "$TMP"
	chown tapird:tapird "$UD/run"
	unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=0755 tsd-dev "$1/dev" && mknod -m 0666 "$1/dev/tun" c 10 200 &&
		mount --bind "$1/dev/tun" /dev/net/tun && shift && exec "$@"' sh "$UD" \
		setpriv --reuid=tapird --regid=tapird --init-groups --inh-caps="-all,$amb" \
		--ambient-caps="-all,$amb" --bounding-set="-all,$bnd" --no-new-privs \
		"$TAPIRD" -f --netns "$NS" --control "$UD/run/control.sock" 2>>"$TMP/daemon.log" &
	DPID=$!
	PIDS+=("$DPID")
	wait_for test -S "$UD/run/control.sock"
	uid=$(id -u tapird)
	st() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr -s '\t' ' '; }
	want=$(capbits AmbientCapabilities CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_PTRACE)
	if [ "$(st "$DPID" Uid)" = "$uid $uid $uid $uid" ] && [ "$(st "$DPID" CapEff)" = "$want" ] &&
		[ "$(st "$DPID" CapPrm)" = "$want" ] && [ "$(st "$DPID" CapAmb)" = 0000000000000000 ] &&
		[ "$(st "$DPID" NoNewPrivs)" = 1 ] && [ "$(st "$DPID" Seccomp)" = 2 ]; then
		ok "as the unit runs it (user tapird, ambient $amb): the data path has uid $uid, CapEff = CapPrm = $want, NoNewPrivs 1, Seccomp 2"
	else
		nok "as the unit runs it: the data path $DPID: Uid '$(st "$DPID" Uid)' CapEff '$(st "$DPID" CapEff)' CapPrm '$(st "$DPID" CapPrm)' CapAmb '$(st "$DPID" CapAmb)' NoNewPrivs '$(st "$DPID" NoNewPrivs)' Seccomp '$(st "$DPID" Seccomp)', want uid $uid, CapEff = CapPrm = $want"
	fi
	helper=$(cat /proc/"$DPID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1)
	want=$(capbits AmbientCapabilities CAP_NET_BIND_SERVICE)
	if [ -n "$helper" ] && [ "$(st "$helper" Name)" = tapird-priv ] &&
		[ "$(st "$helper" Uid)" = "$uid $uid $uid $uid" ] && [ "$(st "$helper" CapEff)" = "$want" ]; then
		ok "as the unit runs it: the helper $helper (tapird-priv) has uid $uid and CapEff $want, the unit's less CAP_NET_BIND_SERVICE"
	else
		nok "as the unit runs it: the helper '$helper': Name '$(st "$helper" Name)' Uid '$(st "$helper" Uid)' CapEff '$(st "$helper" CapEff)', want tapird-priv, uid $uid, CapEff $want"
	fi
	check "as the unit runs it: tap0 configured" \
		bash -c "ip -n '$NS' -o -4 addr show dev tap0 | grep -q 'inet 10.0.2.100/24 '"
	check "as the unit runs it: ping 10.0.2.2" \
		ip netns exec "$NS" ping -c 2 -i 0.2 -W 1 10.0.2.2
	check "as the unit runs it: tapirctl status (root, on the user's socket)" \
		"$TAPIRCTL" -s "$UD/run/control.sock" status
	stop_daemon
	if [ "$DRC" = 0 ] && [ ! -e "$UD/run/control.sock" ]; then
		ok "as the unit runs it: clean stop, socket removed"
	else
		nok "as the unit runs it: exit status $DRC, socket $(ls "$UD/run" 2>&1)"
		tail -5 "$TMP/daemon.log"
	fi
	chmod 0700 "$TMP"
fi

# --- refused starts: one line, naming the thing, exit 1 ----------------------------------------
one_line_error "missing namespace" \
	"^tapird: /run/netns/tapir-missing-$$: No such file or directory$" \
	--netns "tapir-missing-$$" --control "$SOCK"
one_line_error "a file that is not a namespace" "^tapird: $CONF: not a network namespace$" \
	--netns "$CONF" --control "$SOCK"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TAPIRD" -f --netns "$NS" --control "$SOCK" 2>&1)
	rc=$?
	if [ $rc = 1 ] && [ "$out" = "tapird: /run/netns/$NS: Operation not permitted" ]; then
		ok "no privileges: refused (\"$out\")"
	else
		nok "no privileges: rc $rc, stderr: $out"
	fi
else
	echo "# skipped the unprivileged start: setpriv not installed"
fi
ip -n "$NS" tuntap add dev tap0 mode tap
one_line_error "busy interface name (an existing tap0)" \
	"^tapird: tap0 in /run/netns/$NS: Device or resource busy$" \
	--netns "$NS" --control "$SOCK"
ip -n "$NS" link del tap0
printf '[link]\nnetns = %s\n\n[tcp]\nmax-flowz = 3\n' "$NS" >"$CONF"
one_line_error "bad configuration file" "^tapird: $CONF:5: max-flowz: unknown key in \[tcp\]$" \
	-c "$CONF"
one_line_error "bad option value" '^tapird: --mtu: "70000" is not a number between 576 and 65521$' \
	--netns "$NS" --mtu 70000
printf '[link web]\nmtu = 1500\n' >"$CONF"
one_line_error "a [link NAME] without a namespace" "^tapird: web: no namespace: give netns or pid$" \
	-c "$CONF" --control "$SOCK"
if [ ! -e "$SOCK" ] && ! ip -n "$NS" link show dev tap0 >/dev/null 2>&1; then
	ok "refused starts leave no socket and no TAP behind"
else
	nok "refused starts left something behind"
fi

# Neither --netns nor --pid: tapird starts with no link (the installed tapird.service does)
# and serves its control socket until a link is attached; losing no link, it stays up.
"$TAPIRD" -f --control "$SOCK" 2>"$TMP/nolink.log" &
DPID=$!
PIDS+=("$DPID")
if wait_for test -S "$SOCK" && kill -0 "$DPID" 2>/dev/null; then
	ok "no namespace: tapird starts with no link and listens"
else
	nok "no namespace: not serving: $(cat "$TMP/nolink.log")"
fi
out=$("$TAPIRCTL" -s "$SOCK" --json status 2>&1)
if printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["links"] == [] else 1)'; then
	ok "no namespace: status lists no link"
else
	nok "no namespace: status: $out"
fi
stop_daemon
check "no namespace: SIGTERM stops it with status 0" test "$DRC" = 0

# [link NAME] sections: one tapird attaches every namespace the file names, at start
NS3=tapir-att3-$$
ip netns add "$NS3"
printf '[link one]\nnetns = %s\n[link two]\nnetns = %s\nifname = eth7\nmtu = 1500\n' \
	"$NS" "$NS3" >"$CONF"
"$TAPIRD" -f -c "$CONF" --control "$SOCK" 2>"$TMP/twolinks.log" &
DPID=$!
PIDS+=("$DPID")
wait_for test -S "$SOCK"
check "[link one]: tap0 in $NS" ip -n "$NS" link show dev tap0
check "[link two]: eth7 in $NS3 with MTU 1500" bash -c "ip -n '$NS3' link show dev eth7 | grep -q 'mtu 1500'"
out=$("$TAPIRCTL" -s "$SOCK" --json status 2>&1)
if printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if sorted(l["name"] for l in d["links"]) == ["one", "two"] else 1)'; then
	ok "[link NAME]: status lists both links by name"
else
	nok "[link NAME]: status: $out"
fi
stop_daemon
check "[link NAME]: stopped with status 0" test "$DRC" = 0
ip netns del "$NS3"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
