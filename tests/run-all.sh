#!/bin/bash
# tests/run-all.sh - the test command: install what is needed, build tapir twice (plain, and
# with AddressSanitizer + UndefinedBehaviorSanitizer), run every unit test (cmocka) and every
# integration test (network namespaces, as root) against each build, fuzz every target (the
# stack, control requests, the configuration file, forward specs, tapirctl's reply reader) for a
# bounded time, and end with one summary line "N passed, N failed".
#
#   sudo bash tests/run-all.sh            everything (CI runs this through .ci/run)
#   ONLY=unit sudo bash tests/run-all.sh  unit tests only (no root needed beyond deps)
#   FUZZ_SECONDS=N                        fuzzing time, all targets together (default 60; 0 skips it)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
PASS=0
FAIL=0
SKIP=0
FAILED=()
LOGDIR=$TOP/build-logs
mkdir -p "$LOGDIR"

note() { printf '== %s\n' "$*"; }
fail() { FAIL=$((FAIL + 1)); FAILED+=("$1"); }

if [ "$(id -u)" != 0 ]; then
	echo "run-all.sh: run as root (it installs packages and creates network namespaces)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

note "dependencies"
if ! bash tests/deps.sh; then
	echo "run-all.sh: installing dependencies failed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	note "autoreconf"
	autoreconf -fi >"$LOGDIR/autoreconf.log" 2>&1 || { cat "$LOGDIR/autoreconf.log"; echo "0 passed, 1 failed"; exit 1; }
fi

# build DIR CONFIGURE-ARGS...: configure (once) and build the programs and the unit tests.
build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$TOP/configure" "$@") >"$LOGDIR/$(basename "$dir")-configure.log" 2>&1 ||
			{ tail -30 "$LOGDIR/$(basename "$dir")-configure.log"; return 1; }
	fi
	make -C "$dir" -j2 all >"$LOGDIR/$(basename "$dir")-make.log" 2>&1 &&
		make -C "$dir" -j2 check TESTS= >>"$LOGDIR/$(basename "$dir")-make.log" 2>&1 ||
		{ grep -E 'error|warning' "$LOGDIR/$(basename "$dir")-make.log" | head -40; return 1; }
}

# unit DIR: run every cmocka program, counting its tests.
unit() {
	local dir=$1 t out p f
	for t in "$dir"/tests/unit/test_*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		case "$t" in *.o | *.log | *.trs) continue ;; esac
		out=$(timeout 300 "$t" 2>&1)
		local rc=$?
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		local sk=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
		PASS=$((PASS + ${p:-0}))
		SKIP=$((SKIP + ${sk:-0}))
		if [ "${f:-0}" != 0 ] || [ $rc != 0 ] || [ -z "$p" ]; then
			FAIL=$((FAIL + ${f:-1}))
			FAILED+=("$(basename "$dir"): $(basename "$t")")
			printf '%s\n' "$out" | grep -E 'FAILED|ERROR|Sanitizer|runtime error|Assert' | head -20
		fi
		printf '  %-40s %s passed, %s failed\n' "$(basename "$t")" "${p:-0}" "${f:-0}"
	done
}

# integ DIR: run every integration script against the build in DIR.
integ() {
	local dir=$1 s out line p f
	for s in tests/integration/test_*.sh; do
		[ -f "$s" ] || continue
		out=$(BUILD=$dir timeout 900 bash "$s" "$dir" 2>&1)
		local rc=$?
		printf '%s\n' "$out" >"$LOGDIR/$(basename "$dir")-$(basename "$s" .sh).log"
		line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		local sk=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		PASS=$((PASS + ${p:-0}))
		SKIP=$((SKIP + ${sk:-0}))
		if [ -z "$line" ] || [ "${f:-1}" != 0 ] || [ $rc != 0 ]; then
			FAIL=$((FAIL + ${f:-1}))
			[ "${f:-1}" = 0 ] && [ $rc != 0 ] && FAIL=$((FAIL + 1))
			FAILED+=("$(basename "$dir"): $(basename "$s") (rc $rc)")
			printf '%s\n' "$out" | grep -E '^not ok|Sanitizer|runtime error' | head -20
		fi
		printf '  %-40s %s\n' "$(basename "$s")" "${line:-no summary (rc $rc)}"
	done
}

for variant in plain asan; do
	dir=$TOP/build-$variant
	args=(--enable-werror)
	[ $variant = asan ] && args+=(--enable-sanitizers)
	note "build ($variant)"
	if ! build "$dir" "${args[@]}"; then
		fail "build-$variant"
		continue
	fi
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
	note "unit tests ($variant)"
	unit "$dir"
	if [ "${ONLY:-}" != unit ]; then
		note "integration tests ($variant)"
		# Under the sanitizers the data path is several times slower: the scripts scale their
		# transfer sizes down when QUICK=1.
		if [ $variant = asan ]; then QUICK=1 integ "$dir"; else integ "$dir"; fi
	fi
done

if [ "${ONLY:-}" != unit ] && [ "${FUZZ_SECONDS:-60}" != 0 ] && [ -f tests/fuzz/run.sh ]; then
	note "fuzzing every target for ${FUZZ_SECONDS:-60}s in all"
	bash tests/fuzz/run.sh "${FUZZ_SECONDS:-60}" >"$LOGDIR/fuzz.log" 2>&1
	frc=$?
	# one line per target from run.sh: "fuzz_T: N runs, C crashes (...)" or "fuzz_T: build failed"
	while read -r line; do
		t=${line%%:*}
		case $line in
		*" 0 crashes"*) PASS=$((PASS + 1)); echo "  $line" ;;
		*) fail "$t"; echo "  $line" ;;
		esac
	done < <(grep -E '^fuzz_[a-z]+: ' "$LOGDIR/fuzz.log")
	if [ $frc != 0 ]; then
		grep -qE '^fuzz_[a-z]+: ' "$LOGDIR/fuzz.log" || fail "fuzz (run.sh exit $frc)"
		tail -40 "$LOGDIR/fuzz.log"
	fi
fi

note "summary"
for f in "${FAILED[@]}"; do echo "  FAILED: $f"; done
if [ "$SKIP" != 0 ]; then
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
else
	echo "$PASS passed, $FAIL failed"
fi
[ "$FAIL" = 0 ]
