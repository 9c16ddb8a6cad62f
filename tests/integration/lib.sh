# tests/integration/lib.sh - what the integration scripts share, sourced after `set -u` with
# the script's own arguments in place:  . "$(dirname "$0")/lib.sh"
#
# Sets BUILD (the build directory: $1, or BUILD from the environment; without one it prints
# the usage and "0 passed, 1 failed" and exits 1), TAPIRD, TAPIRCTL and PY. Gives the checks'
# counters and their report: ok, notok, skip, check, finish ("N passed, N failed[, N skipped]"
# last); need_root and need_exec, which fail the script (one failed check) when it cannot run.
# It runs nothing else: namespaces, daemons and their cleanup are each script's own.

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
