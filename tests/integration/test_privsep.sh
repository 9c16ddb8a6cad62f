#!/bin/bash
# tests/integration/test_privsep.sh - privilege separation (issue 14, finding 2): `tapird -f`
# started as root with a link drops, once started, to the user tapird with
# CAP_NET_BIND_SERVICE alone, no_new_privs and a seccomp filter; its privileged helper keeps
# CAP_SYS_ADMIN + CAP_NET_ADMIN (+ CAP_SYS_PTRACE, which root had) and nothing else, with a
# seccomp filter of its own; traffic flows; what needs privilege after the drop still works
# through the helper, under its filter (a run-time attach by path and by pid, a capture in a
# root-only directory, SIGHUP re-reading a file only root may read, the control socket
# removed at exit from a root-only directory); hostile paths are refused by the helper;
# --seccomp off leaves both processes without a filter; --user root keeps the old single
# process, a user that does not exist is refused.
#
#   bash tests/integration/test_privsep.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Creates the system user tapird if it is missing (and then removes it at the end).
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib.sh"
need_root "namespaces, TAP devices, switching users"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"

NS=tpsv-$$
NS2=tpsv2-$$
TMP=$(mktemp -d /tmp/tapir-privsep.XXXXXX)
SOCK=$TMP/control.sock
LOG=$TMP/tapird.log
CREATED_USER=0
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	rm -rf "$TMP"
	[ $CREATED_USER = 1 ] && userdel tapird 2>/dev/null
}
trap cleanup EXIT

# wait_for COMMAND...: up to 5 s
wait_for() {
	local i
	for i in $(seq 50); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# field PID NAME: the value of NAME: in /proc/PID/status, blanks squeezed
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

if ! getent passwd tapird >/dev/null; then
	if getent group tapird >/dev/null; then g="-g tapird"; else g="-U"; fi
	if useradd --system -M -d / -s /usr/sbin/nologin $g tapird; then
		CREATED_USER=1
	else
		notok "cannot create the user tapird"
		finish
	fi
fi
TUID=$(id -u tapird)
TGID=$(id -g tapird)

ip netns add "$NS" && ip netns add "$NS2" || { notok "cannot create namespaces"; finish; }
ip -n "$NS" link set lo up

# a file only root may read (in a 0700 directory), for SIGHUP
CONF=$TMP/tapird.conf
printf '[daemon]\nlog-level = info\n' >"$CONF"
chmod 0600 "$CONF"
CAPDIR=$TMP/captures

"$TAPIRD" -f -c "$CONF" --netns "$NS" --control "$SOCK" --capture-dir "$CAPDIR" >"$LOG" 2>&1 &
DPID=$!
PIDS+=("$DPID")
if ! wait_for grep -q "serving 1 link" "$LOG"; then
	notok "tapird starts as root with a link (log: $(tail -3 "$LOG"))"
	finish
fi
ok "tapird -f started as root with $NS"

# --- the data path (MainPID): /proc/PID/status ---------------------------------------------
echo "# data path $DPID:"
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' \
	"/proc/$DPID/status" | sed 's/^/#   /'
check "data path: Uid is tapird's ($TUID) four times" \
	test "$(field $DPID Uid)" = "$TUID $TUID $TUID $TUID"
check "data path: Gid is tapird's ($TGID) four times" \
	test "$(field $DPID Gid)" = "$TGID $TGID $TGID $TGID"
check "data path: no supplementary groups" test -z "$(field $DPID Groups)"
# CAP_NET_BIND_SERVICE (10) alone: run-time forwards from host ports below 1024
check "data path: CapEff = CapPrm = CAP_NET_BIND_SERVICE only (0x400)" \
	test "$(field $DPID CapEff)" = 0000000000000400 -a "$(field $DPID CapPrm)" = 0000000000000400
check "data path: CapInh and CapAmb empty" \
	test "$(field $DPID CapInh)" = 0000000000000000 -a "$(field $DPID CapAmb)" = 0000000000000000
check "data path: CapBnd reduced to CAP_NET_BIND_SERVICE" \
	test "$(field $DPID CapBnd)" = 0000000000000400
check "data path: NoNewPrivs: 1" test "$(field $DPID NoNewPrivs)" = 1
check "data path: Seccomp: 2 (filter)" test "$(field $DPID Seccomp)" = 2

# --- the helper: the data path's child -------------------------------------------------------
HPID=$(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null | awk '{ print $1 }')
if [ -n "$HPID" ] && [ -r "/proc/$HPID/status" ]; then
	echo "# privileged helper $HPID:"
	grep -E '^(Name|Uid|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' \
		"/proc/$HPID/status" | sed 's/^/#   /'
	# CAP_SYS_ADMIN (21) + CAP_NET_ADMIN (12) + CAP_SYS_PTRACE (19, root had it: --pid)
	check "helper: CapEff = CapPrm = SYS_ADMIN + NET_ADMIN + SYS_PTRACE (0x281000)" \
		test "$(field $HPID CapEff)" = 0000000000281000 -a \
		"$(field $HPID CapPrm)" = 0000000000281000
	check "helper: CapBnd the same, CapAmb empty" \
		test "$(field $HPID CapBnd)" = 0000000000281000 -a \
		"$(field $HPID CapAmb)" = 0000000000000000
	check "helper: NoNewPrivs: 1" test "$(field $HPID NoNewPrivs)" = 1
	# its own filter (sandbox_seccomp_helper()), not the data path's: forked before that one
	check "helper: Seccomp: 2 (its own filter, default --seccomp kill)" \
		test "$(field "$HPID" Seccomp)" = 2
else
	notok "the privileged helper is a child of $DPID"
fi

# --- traffic still flows: a TCP transfer through the container --------------------------------
PORT=$(free_port)
head -c 1048576 /dev/urandom >"$TMP/blob"
$PY -m http.server --bind 127.0.0.1 --directory "$TMP" "$PORT" >/dev/null 2>&1 &
PIDS+=("$!")
wait_for bash -c "ss -Htln 'sport = :$PORT' | grep -q ."
got=$(timeout 20 ip netns exec "$NS" curl -s --max-time 15 "http://10.0.2.2:$PORT/blob" | sha256sum)
if [ "$got" = "$(sha256sum <"$TMP/blob")" ]; then
	ok "a 1 MiB HTTP transfer through the container after the drop"
else
	notok "HTTP transfer through the container: $(tail -3 "$LOG")"
fi
check "ping of the gateway after the drop" bash -c "ip netns exec $NS ping -c 1 -W 2 10.0.2.2 >/dev/null"

# --- what needs privilege, through the helper ------------------------------------------------
out=$("$TAPIRCTL" -s "$SOCK" attach --netns "$NS2" --name c2 2>&1)
if [ $? = 0 ] && ip -n "$NS2" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 &&
	ip netns exec "$NS2" ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1; then
	ok "run-time attach of a second namespace after the drop (TAP configured, gateway answers)"
else
	notok "run-time attach after the drop: $out"
fi

unshare -n sleep 60 &
HOLDER=$!
PIDS+=("$HOLDER")
wait_for test "$(readlink /proc/$HOLDER/ns/net)" != "$(readlink /proc/self/ns/net)"
out=$("$TAPIRCTL" -s "$SOCK" attach --pid "$HOLDER" --name c3 2>&1)
if [ $? = 0 ] && nsenter -t "$HOLDER" -n ip -br addr show tap0 2>/dev/null | grep -q 10.0.2.100; then
	ok "run-time attach --pid of an unnamed namespace after the drop"
else
	notok "run-time attach --pid after the drop: $out"
fi

: >"$TMP/notans"
out=$("$TAPIRCTL" -s "$SOCK" attach --netns "$TMP/notans" --name bad 2>&1)
if [ $? != 0 ] && printf '%s' "$out" | grep -q "refused: namespace path outside"; then
	ok "a namespace path outside the allowed set is refused by the helper ($out)"
else
	notok "path outside the allowed set: $out"
fi
out=$("$TAPIRCTL" -s "$SOCK" attach --netns /run/netns/../../etc/passwd --name bad2 2>&1)
if [ $? != 0 ] && printf '%s' "$out" | grep -q "refused"; then
	ok "/run/netns/../../etc/passwd refused"
else
	notok "/run/netns/../.. path: $out"
fi

out=$("$TAPIRCTL" -s "$SOCK" capture start c1.pcap --link "$NS" 2>&1)
ip netns exec "$NS" ping -c 2 -i 0.2 -W 1 10.0.2.2 >/dev/null 2>&1
"$TAPIRCTL" -s "$SOCK" capture stop --link "$NS" >/dev/null 2>&1
if [ -f "$CAPDIR/c1.pcap" ] && [ "$(stat -c %s "$CAPDIR/c1.pcap")" -gt 24 ] &&
	[ "$(stat -c '%u %a' "$CAPDIR")" = "0 700" ]; then
	ok "capture in a root-only directory after the drop ($(stat -c %s "$CAPDIR/c1.pcap") bytes)"
else
	notok "capture after the drop: $out; $(ls -la "$CAPDIR" 2>&1 | tail -2)"
fi

printf '[daemon]\nlog-level = debug\n' >"$CONF"
kill -HUP "$DPID"
if wait_for grep -q "log level debug" "$LOG"; then
	ok "SIGHUP re-reads a file only root may read (through the helper)"
else
	notok "SIGHUP: $(tail -2 "$LOG")"
fi

check "the data path is still running (no seccomp kill)" kill -0 "$DPID"
# every request above ran under the helper's filter: a call outside it would have killed it
check "the helper is still running after attach, attach --pid, capture and SIGHUP (no seccomp kill)" \
	test "$(field "$HPID" Name)" = tapird-priv -a "$(field "$HPID" State)" != "Z (zombie)" \
	-a "$(field "$HPID" Seccomp)" = 2
check "the data path still has its filter (Seccomp: 2)" test "$(field "$DPID" Seccomp)" = 2
kill -TERM "$DPID"
wait "$DPID"
rc=$?
check "SIGTERM: exit status 0 ($rc)" test "$rc" = 0
check "the control socket is removed from its root-only directory" test ! -e "$SOCK"
check "the helper is gone with the data path" wait_for test ! -e "/proc/$HPID/status"
if grep -q "SECCOMP\|ERROR: AddressSanitizer\|runtime error" "$LOG"; then
	notok "log free of sanitizer reports: $(grep -m1 "ERROR\|runtime error" "$LOG")"
else
	ok "log free of sanitizer reports"
fi

# --- --seccomp off: neither process has a filter (no_new_privs and the drop stay) -------------
"$TAPIRD" -f --seccomp off --netns "$NS" --control "$SOCK" >"$LOG" 2>&1 &
DPID=$!
PIDS+=("$DPID")
if wait_for grep -q "serving 1 link" "$LOG"; then
	HPID=$(awk '{ print $1 }' "/proc/$DPID/task/$DPID/children" 2>/dev/null)
	echo "# --seccomp off: data path $DPID Seccomp $(field "$DPID" Seccomp), helper $HPID Seccomp $(field "$HPID" Seccomp)"
	check "--seccomp off: data path Seccomp: 0, NoNewPrivs: 1" \
		test "$(field "$DPID" Seccomp)" = 0 -a "$(field "$DPID" NoNewPrivs)" = 1
	check "--seccomp off: helper Seccomp: 0, NoNewPrivs: 1" \
		test -n "$HPID" -a "$(field "$HPID" Seccomp)" = 0 -a "$(field "$HPID" NoNewPrivs)" = 1
else
	notok "tapird --seccomp off starts: $(tail -3 "$LOG")"
fi
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null

# --- --user root: one process, every privilege, as before ------------------------------------
"$TAPIRD" -f --user root --netns "$NS" --control "$SOCK" >"$LOG" 2>&1 &
DPID=$!
PIDS+=("$DPID")
if wait_for grep -q "serving 1 link" "$LOG" && [ "$(field $DPID Uid)" = "0 0 0 0" ] &&
	[ "$(field $DPID Seccomp)" = 0 ] && grep -q "no privilege separation" "$LOG"; then
	ok "--user root: uid 0, no filter, and it says so"
else
	notok "--user root: $(tail -2 "$LOG")"
fi
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null

out=$(timeout 10 "$TAPIRD" -f --user nosuchuser$$ --netns "$NS" --control "$SOCK" 2>&1 >/dev/null)
if [ $? = 1 ] && printf '%s' "$out" | grep -q "user 'nosuchuser$$' does not exist"; then
	ok "a user that does not exist is refused at start ($out)"
else
	notok "missing user: $out"
fi
finish
