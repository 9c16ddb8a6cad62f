#!/bin/bash
# tests/integration/test_busy_poll.sh - [daemon] busy-poll: after request/response traffic the
# loop polls for up to --busy-poll microseconds before it sleeps (main.c, run_loop())
#   (a) a bad value is refused at start, the message naming the option
#   (b) with the default (on), round trips through tapird complete, none slower than 2 s
#   (c) once the traffic stops, tapird sleeps: under 60 ms of CPU over 2 idle seconds
#   (d) with --busy-poll 0 the round trips complete too, and the idle tapird sleeps as well
#   and: each tapird survived and its log has no sanitizer report.
# The round-trip rates with and without the poll are printed as "# ..." lines, not asserted
# (a shared machine moves them more than the poll does; tests/bench/compare.sh measures).
#
#   bash tests/integration/test_busy_poll.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.1 and to the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
TCPPEER=$BUILD/tests/integration/tcppeer
need_exec "not built" "$TAPIRD" "$TCPPEER"

RR_S=2
NS=tbp-$$
WORK=$(mktemp -d /tmp/tbp-$$.XXXXXX)
cleanup_on_exit "$NS"

# refused RC OUTPUT: tapird exited non-zero, its message naming --busy-poll
refused() { [ "$1" != 0 ] && grep -q -- '--busy-poll' <<<"$2"; }

# (a) refused before anything is made
out=$("$TAPIRD" -f --netns "$NS-none" --busy-poll 10001 2>&1)
rc=$?
check "--busy-poll 10001 is refused, naming the option (exit $rc: $out)" \
	refused "$rc" "$out"
out=$("$TAPIRD" -f --netns "$NS-none" --busy-poll soon 2>&1)
rc=$?
check "--busy-poll soon is refused, naming the option (exit $rc: $out)" \
	refused "$rc" "$out"

# cpu_ticks PID: clock ticks (1/100 s) of user and system time PID has used
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }

# round WHAT ARGS...: tapird with ARGS in a fresh $NS, round trips for RR_S seconds, then the
# CPU it takes over 2 idle seconds
round() {
	local what=$1 out rate t0 t1 idle
	shift
	ip netns del "$NS" 2>/dev/null
	EPORT=$(free_port)
	timeout 60 "$TCPPEER" echo "$EPORT" 50 >/dev/null 2>&1 &
	pids+=($!)
	if ! ns_with_tapird "$NS" "$WORK/control.sock" "$WORK/tapird.log" "$@"; then
		notok "tapird $* starts: $(tail -5 "$WORK/tapird.log")"
		return
	fi
	wait_link_up "$NS" || notok "$what: tap0 in $NS has 10.0.2.100 and reaches 10.0.2.2"
	out=$(timeout $((10 + RR_S * 2)) ip netns exec "$NS" "$TCPPEER" rr 10.0.2.2 "$EPORT" $RR_S 2000 2>&1)
	check "$what: round trips through tapird complete, each within 2 s ($out)" \
		grep -qE '^rr [1-9][0-9]* ' <<<"$out"
	rate=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' <<<"$out")
	echo "# $what: ${rate:-?} round trips/s"
	sleep 0.5
	t0=$(cpu_ticks "$TAPIRD_PID")
	sleep 2
	t1=$(cpu_ticks "$TAPIRD_PID")
	idle=no
	[ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -le 6 ] && idle=yes
	check "$what: the idle tapird sleeps ($((t1 - t0)) ticks of CPU over 2 s, at most 6)" \
		[ $idle = yes ]
	tapird_end_checks "$TAPIRD_PID" "$WORK/tapird.log"
}

round "busy poll on (the default)"
round "--busy-poll 0" --busy-poll 0
finish
