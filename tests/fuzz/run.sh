#!/bin/bash
# tests/fuzz/run.sh SECONDS - fuzz the stack (tests/fuzz/fuzz_stack.c, libFuzzer with ASan and
# UBSan) for SECONDS. Builds the target first if it is missing or any stack source is newer,
# with the same command as `make fuzz`; keeps its corpus and crash files under $FUZZ_WORK
# (default /tmp/tapir-fuzz). Exit status: 0 no crash, 1 a crash (the input is saved and
# named in the output), 2 the build failed.
set -u
SECS=${1:?usage: run.sh SECONDS}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${FUZZ_WORK:-/tmp/tapir-fuzz}
BIN=$WORK/fuzz_stack
mkdir -p "$WORK/corpus" "$WORK/crashes" || exit 2

build=0
[ -x "$BIN" ] || build=1
for f in "$TOP"/tests/fuzz/fuzz_stack.c "$TOP"/daemon/stack/*.[ch]; do
	[ "$f" -nt "$BIN" ] && build=1
done
if [ $build = 1 ]; then
	echo "run.sh: building $BIN"
	clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$TOP/daemon/stack" -o "$BIN.tmp" "$TOP/tests/fuzz/fuzz_stack.c" \
		"$TOP"/daemon/stack/*.c || exit 2
	mv "$BIN.tmp" "$BIN"
fi

/usr/bin/python3 "$TOP/tests/fuzz/seeds.py" "$WORK/corpus" || exit 2

# One process (the machine is shared); frames up to 8 KiB (the MTU-sized paths are reached
# through upstream events); a stuck input is a bug too (-timeout).
"$BIN" -max_total_time="$SECS" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
	-artifact_prefix="$WORK/crashes/" -print_final_stats=1 "$WORK/corpus"
rc=$?
[ $rc = 0 ] || { echo "run.sh: fuzz_stack failed (exit $rc); inputs in $WORK/crashes" >&2; exit 1; }
exit 0
