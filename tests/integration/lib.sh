# tests/integration/lib.sh - what the integration scripts share, sourced after `set -u` with
# the script's own arguments in place:  . "$(dirname "$0")/lib.sh"
#
# Sets BUILD (the build directory: $1, or BUILD from the environment; without one it prints
# the usage and "0 passed, 1 failed" and exits 1), TAPIRD, TAPIRCTL and PY. Gives the checks'
# counters and their report: ok, notok, skip, check, finish ("N passed, N failed[, N skipped]"
# last); need_root and need_exec, which fail the script (one failed check) when it cannot run.
# And the start-up and shut-down every script repeats: pids (the script's background
# processes), stop_pids and cleanup_on_exit, wait_socket, ns_with_tapird (a namespace served by tapird),
# wait_tap_addr, wait_link_up, counter (one counter of `tapirctl --json stats`), tapird_end_checks.
# It runs nothing when sourced: a script sets its cleanup at exit (cleanup_on_exit, or its own
# trap that calls stop_pids) before it starts anything.

BUILD=${1:-${BUILD:-}}
if [ -z "$BUILD" ] || [ ! -d "$BUILD" ]; then
	echo "usage: $0 BUILD_DIR (or BUILD=... in the environment)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
BUILD=$(cd "$BUILD" && pwd)
TAPIRD=$BUILD/daemon/tapird
TAPIRCTL=$BUILD/ctl/tapirctl
PY=/usr/bin/python3

PASS=0
FAIL=0
SKIP=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
skip() { SKIP=$((SKIP + 1)); echo "ok - # SKIP $*"; }
check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
finish() { # the summary line; exits 0 if nothing failed
	if [ $SKIP -gt 0 ]; then
		echo "$PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$PASS passed, $FAIL failed"
	fi
	[ $FAIL = 0 ]
	exit
}

need_root() { # need_root WHY: not root, say why root is needed and fail
	if [ "$(id -u)" != 0 ]; then
		echo "$(basename "$0"): needs root ($1)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
}

need_exec() { # need_exec WORD FILE...: a FILE not executable: "NAME: FILE WORD" and fail
	local word=$1 f
	shift
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			echo "$(basename "$0"): $f $word" >&2
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}

# free_port: a TCP port nobody uses at all on this host, below the ephemeral range (32768 up
# by default: tapird's own upstream sockets take ports there, and a listener cannot bind a
# port a connected socket holds). Other test scripts may run at the same time: start
# from a $$-dependent point. Call it again only once the last port it gave is bound.
NEXT_PORT=$((10000 + ($$ % 20000)))
free_port() {
	local i
	for i in $(seq 200); do
		NEXT_PORT=$((NEXT_PORT + 1))
		[ $NEXT_PORT -ge 32000 ] && NEXT_PORT=10001
		if [ -z "$(ss -Htan "sport = :$NEXT_PORT" 2>/dev/null)" ]; then
			echo $NEXT_PORT
			return 0
		fi
	done
	return 1
}

# --- processes and daemons ---------------------------------------------------------------------

# pids: the script's background processes (tapird, servers); stop_pids ends them, and every
# script's cleanup calls it
pids=()
stop_pids() { # stop_pids: kill every process of pids, then reap them all; pids is emptied
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}

# cleanup_on_exit NS...: at exit, also on INT and TERM: stop_pids, delete the namespaces NS...
# (and any added to EXIT_NETNS later), remove $WORK (kept with KEEP=1, for a post-mortem)
EXIT_NETNS=()
cleanup_on_exit() {
	EXIT_NETNS+=("$@")
	trap exit_cleanup EXIT
	trap 'exit 1' INT TERM
}
exit_cleanup() { # what cleanup_on_exit arranges
	local ns
	stop_pids
	for ns in "${EXIT_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || [ -z "${WORK:-}" ] || rm -rf "$WORK"
}

# wait_socket PID SOCK: the control socket SOCK appears (0), or the daemon PID dies or 10 s
# pass (1)
wait_socket() {
	local _
	for _ in $(seq 100); do
		[ -S "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	[ -S "$2" ]
}

# ns_with_tapird NS SOCK LOG [TAPIRD ARGS...]: namespace NS (made unless it exists) served by
# a tapird started in the background (`tapird -f --netns NS --control SOCK ARGS...`, its output in LOG), whose
# pid goes into TAPIRD_PID and pids (stop_pids ends it). Return: 0 once SOCK is there; 1 if
# the namespace could not be made (TAPIRD_PID empty) or the daemon died or did not create
# SOCK within 10 s
ns_with_tapird() {
	local ns=$1 sock=$2 log=$3
	shift 3
	TAPIRD_PID=
	[ -e "/run/netns/$ns" ] || ip netns add "$ns" || return 1
	"$TAPIRD" -f --netns "$ns" --control "$sock" "$@" >"$log" 2>&1 &
	TAPIRD_PID=$!
	pids+=("$TAPIRD_PID")
	wait_socket "$TAPIRD_PID" "$sock"
}

# received OUTPUT: the "N received" of ping(8)'s summary
received() { printf '%s\n' "$1" | grep -o '[0-9]* received' | grep -o '[0-9]*'; }

# host_peer_tapird NSH NSP NSC VETH NET4 NET6 SOCK LOG [VETH_MTU]: the three namespaces of
# test_ping.sh and test_icmp_errors.sh. NSH is "the host": tapird runs there, serving NSC
# (tap0, MTU 1500), and its ping_group_range holds the data path's group (tapird's after the
# privilege drop, root's with --user root: the one group its ping sockets need). NSP is a
# peer at NET4.2/30 and NET6::2/64 behind a veth pair (VETHh in NSH with NET4.1 and NET6::1,
# VETHp in NSP), of MTU VETH_MTU when given. Sets TPID and G (that group). Any step failing
# is a "not ok" and ends the test (finish); cleanup_on_exit removes the namespaces.
host_peer_tapird() {
	local nsh=$1 nsp=$2 nsc=$3 veth=$4 net4=$5 net6=$6 sock=$7 log=$8 mtu=()
	[ -n "${9:-}" ] && mtu=(mtu "$9")
	ip netns add "$nsh" && ip netns add "$nsp" && ip netns add "$nsc" || {
		notok "namespaces"
		finish
	}
	ip -n "$nsh" link set lo up
	ip -n "$nsp" link set lo up
	if ! ip -n "$nsh" link add "${veth}h" "${mtu[@]}" type veth peer name "${veth}p" "${mtu[@]}" \
		netns "$nsp" ||
		! ip -n "$nsh" addr add "$net4.1/30" dev "${veth}h" ||
		! ip -n "$nsp" addr add "$net4.2/30" dev "${veth}p" ||
		! ip -n "$nsh" link set "${veth}h" up || ! ip -n "$nsp" link set "${veth}p" up; then
		notok "veth pair between $nsh and $nsp"
		finish
	fi
	ip -n "$nsh" addr add "$net6::1/64" dev "${veth}h" nodad 2>/dev/null
	ip -n "$nsp" addr add "$net6::2/64" dev "${veth}p" nodad 2>/dev/null

	ip netns exec "$nsh" "$TAPIRD" -f --netns "$nsc" --control "$sock" --mtu 1500 \
		--log-level warn >"$log" 2>&1 &
	TPID=$!
	pids+=("$TPID")
	wait_socket "$TPID" "$sock" && wait_tap_addr "$nsc"
	if ! ip -n "$nsc" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100; then
		notok "tapird attaches to $nsc from $nsh (log: $(tail -5 "$log"))"
		finish
	fi
	G=$(awk '/^Gid:/ { print $3 }' "/proc/$TPID/status")
	ip netns exec "$nsh" sysctl -q -w net.ipv4.ping_group_range="$G $G"
}

# wait_tap_addr NS [ADDR]: tap0 in NS has ADDR (default the container's 10.0.2.100) within
# 10 s (0), else 1
wait_tap_addr() {
	local _
	for _ in $(seq 100); do
		ip -n "$1" -br addr show tap0 2>/dev/null | grep -qF "${2:-10.0.2.100}" && return 0
		sleep 0.1
	done
	return 1
}

# wait_link_up NS: tap0 in NS has the container's 10.0.2.100 and the gateway 10.0.2.2 answers
# a ping (0); 1 after 100 tries
wait_link_up() {
	local _
	for _ in $(seq 100); do
		if ip -n "$1" -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 &&
			timeout 5 ip netns exec "$1" ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# counter SOCK NAME [LINK]: the counter NAME in `tapirctl --json stats` of the tapird on SOCK
# (LINK's; without LINK the first link's), -1 if there is no such counter or no answer
counter() {
	local link=()
	[ -n "${3:-}" ] && link=(--link "$3")
	"$TAPIRCTL" -s "$1" --json stats "${link[@]}" 2>/dev/null | "$PY" -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if sys.argv[1] in o and isinstance(o[sys.argv[1]], int):
            return o[sys.argv[1]]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
    return None
try:
    r = find(json.load(sys.stdin))
except ValueError:
    r = None
print(-1 if r is None else r)' "$2"
}

# tapird_end_checks PID LOG: the checks a script ends with: tapird PID still runs ("tapird
# survived"), then every process of pids is stopped (stop_pids), LOG has no sanitizer report,
# and LOG's last lines are shown as comments
tapird_end_checks() {
	if kill -0 "$1" 2>/dev/null; then
		ok "tapird survived"
	else
		notok "tapird died: $(tail -5 "$2")"
	fi
	stop_pids
	if grep -qE 'Sanitizer|runtime error' "$2"; then
		notok "sanitizer report: $(grep -E -m3 'Sanitizer|runtime error' "$2")"
	fi
	grep -v '^$' "$2" | tail -8 | sed 's/^/# tapird: /'
}
