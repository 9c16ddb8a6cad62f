#!/bin/bash
# tests/fuzz/run.sh SECONDS - run every libFuzzer target (ASan and UBSan) for SECONDS in all:
# half to the stack (tests/fuzz/fuzz_stack.c, inputs up to 64 KiB so reassembly and full-MTU
# frames are reached), the rest split evenly among the control request handler
# (fuzz_control.c), the configuration parser (fuzz_config.c), the forward-spec parser
# (fuzz_fwdspec.c) and tapirctl's in-place reader of replies (fuzz_stream.c); each at least 5 s.
#
# Each target starts from its committed, minimised corpus in tests/fuzz/corpus/TARGET/
# (copied to $FUZZ_WORK, default /tmp/tapir-fuzz, so a run never changes the tree); what it
# finds new stays in $FUZZ_WORK/corpus/TARGET. A target is rebuilt when a source is newer,
# with clang straight from the sources (the configured CC may be gcc).
#
# Prints one line per target: "fuzz_TARGET: N runs, C crashes" (and the crash file), or that a
# signal interrupted it, then exits 0 if every target ran its time without a crash, 1 if one
# crashed or was interrupted, 2 if a build failed.
#
# The committed corpora were grown from seeds (tests/fuzz/seeds.py for the stack; valid
# requests, the shipped tapird.conf and sample specs for the others) and minimised to edge
# coverage. To refresh one after a long run (and commit the result):
#   mkdir tests/fuzz/corpus/TARGET.new
#   $FUZZ_WORK/fuzz_TARGET -set_cover_merge=1 -use_counters=0 -max_len=65536 \
#       tests/fuzz/corpus/TARGET.new tests/fuzz/corpus/TARGET $FUZZ_WORK/corpus/TARGET
#   rm -r tests/fuzz/corpus/TARGET && mv tests/fuzz/corpus/TARGET.new tests/fuzz/corpus/TARGET
set -u
SECS=${1:?usage: run.sh SECONDS}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${FUZZ_WORK:-/tmp/tapir-fuzz}
TARGETS=(stack control config fwdspec stream)
mkdir -p "$WORK/crashes" || exit 2

CFLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-I"$TOP/daemon" -I"$TOP/daemon/stack" -I"$TOP/ctl")
SHELL_LIBS=$(pkg-config --cflags --libs libevent libnl-3.0 libnl-route-3.0 jansson inih \
	libsystemd libseccomp 2>/dev/null)

# sources TARGET: what the target is built from
sources() {
	case $1 in
	stack) echo "$TOP"/daemon/stack/*.c ;;
	control) echo "$TOP"/daemon/stack/*.c $(ls "$TOP"/daemon/*.c | grep -v '/main\.c$') ;;
	config) echo "$TOP"/daemon/config.c "$TOP"/daemon/config_value.c "$TOP"/daemon/config_link.c \
		"$TOP"/daemon/config_daemon.c "$TOP"/daemon/fwdspec.c "$TOP"/daemon/log.c "$TOP"/daemon/policy.c \
		"$TOP"/daemon/sandbox.c ;;
	fwdspec) echo "$TOP"/daemon/fwdspec.c ;;
	stream) echo "$TOP"/ctl/stream.c ;;
	esac
}

# build TARGET: $WORK/fuzz_TARGET, if missing or older than a source
build() {
	local t=$1 bin=$WORK/fuzz_$1 f libs=() need=0
	[ -x "$bin" ] || need=1
	for f in "$TOP/tests/fuzz/fuzz_$t.c" $(sources "$t") "$TOP"/daemon/*.h "$TOP"/daemon/stack/*.h \
		"$TOP"/ctl/stream.h; do
		[ "$f" -nt "$bin" ] && need=1
	done
	[ $need = 1 ] || return 0
	[ "$t" = control ] && libs=($SHELL_LIBS -levent_extra)
	[ "$t" = config ] && libs=(-linih -lseccomp)
	[ "$t" = stream ] && libs=(-ljansson)
	echo "run.sh: building $bin"
	clang "${CFLAGS[@]}" -o "$bin.tmp" "$TOP/tests/fuzz/fuzz_$t.c" $(sources "$t") "${libs[@]}" ||
		return 1
	mv "$bin.tmp" "$bin"
}

# The time: half to the stack, the rest shared; at least 5 s each.
share=$(((SECS / 2) / (${#TARGETS[@]} - 1)))
[ $share -lt 5 ] && share=5
stack_secs=$((SECS - share * (${#TARGETS[@]} - 1)))
[ $stack_secs -lt 5 ] && stack_secs=5

rc=0
for t in "${TARGETS[@]}"; do
	if ! build "$t"; then
		echo "fuzz_$t: build failed"
		rc=2
		continue
	fi
	mkdir -p "$WORK/corpus/$t"
	[ -d "$TOP/tests/fuzz/corpus/$t" ] && cp -n "$TOP/tests/fuzz/corpus/$t"/* "$WORK/corpus/$t/" 2>/dev/null
	secs=$share max_len=4096
	[ $t = stack ] && secs=$stack_secs max_len=65536
	[ $t = control ] && max_len=65536 # a request line is up to 64 KiB (CTL_MAX_REQUEST)
	log=$WORK/fuzz_$t.log
	# One process (the machine is shared); a stuck input is a bug too (-timeout).
	"$WORK/fuzz_$t" -max_total_time="$secs" -max_len=$max_len -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$WORK/crashes/$t-" -print_final_stats=1 "$WORK/corpus/$t" \
		>"$log" 2>&1
	frc=$?
	runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
	if [ $frc = 0 ]; then
		echo "fuzz_$t: ${runs:-0} runs, 0 crashes (${secs}s, coverage ${cov:-?} edges)"
	elif [ $frc = 72 ] && grep -q 'libFuzzer: run interrupted' "$log"; then
		# libFuzzer's -interrupted_exitcode: a signal ended it (SIGINT, SIGTERM), no input did
		echo "fuzz_$t: ${runs:-0} runs, interrupted by a signal before its ${secs}s (not a crash)"
		[ $rc = 0 ] && rc=1
	else
		echo "fuzz_$t: ${runs:-0} runs, 1 crashes (${secs}s, exit $frc): $(grep -Eo "$WORK/crashes/[^ ]*" "$log" | tail -1)"
		tail -40 "$log" >&2
		[ $rc = 0 ] && rc=1
	fi
done
exit $rc
