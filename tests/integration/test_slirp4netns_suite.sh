#!/bin/bash
# tests/integration/test_slirp4netns_suite.sh - slirp4netns's own tests (tests/*.sh of its 1.2
# source, unchanged) against tapird started under the name slirp4netns.
#
# The upstream tests call `slirp4netns` from PATH (as its `make check` does). This script puts
# first on PATH a directory whose `slirp4netns` is a symlink to BUILD/daemon/tapird, or to
# NETCMD when given (NETCMD=/usr/bin/slirp4netns runs them against the real one: the way this
# script is validated). Each upstream test runs in a fresh working directory (several write
# files into it), bounded by a timeout, and becomes one line: ok (exit 0), skip (exit 77, the
# automake code the tests use, with the test's own reason) or not ok (with the end of its log).
#
# The upstream code is not part of tapir and is never committed. Where it comes from:
#   1. SLIRP4NETNS_SRC=DIR, a slirp4netns source tree (DIR/tests/*.sh), else
#   2. `apt-get source slirp4netns` (Debian 12 has 1.2.0) with deb-src lines made from the
#      host's configured Debian mirrors, in a private list directory under the test's work
#      directory (the host's apt configuration and lists are not changed), else
#   3. the script skips, saying why.
# The tests need ncat, jq, udhcpc, getpcaps, nsenter, unshare, ping (tests/deps.sh).
# RUN_AS=root (default) runs them as root; RUN_AS=user runs them as an unprivileged user
# (tpodtest, created and deleted) as upstream's CI does: rootless.
#
#   bash tests/integration/test_slirp4netns_suite.sh BUILD_DIR    (as root)
#   NETCMD=/usr/bin/slirp4netns SLIRP4NETNS_SRC=DIR bash tests/integration/test_slirp4netns_suite.sh BUILD_DIR
# Prints one "ok - ..." / "not ok - ..." / "ok - # SKIP ..." line per upstream test and
# "N passed, N failed[, N skipped]" last.
# Traffic: none leaves the network namespace this script runs the tests in (see below): they
# talk to its 127.0.0.1 and to the namespaces they create and kill.
set -u
. "$(dirname "$0")/lib.sh"
need_root "the upstream tests create namespaces; a test user for RUN_AS=user"

RUN_AS=${RUN_AS:-root}
TUSER=tpodtest
NETCMD=${NETCMD:-}
NETBIN=${NETCMD:-$TAPIRD}
need_exec "missing" "$NETBIN"
PER_TEST=${PER_TEST:-60} # seconds; the longest upstream wait loops are 40 x 0.5 s
for t in ncat jq udhcpc getpcaps nsenter unshare ping ip; do
	command -v "$t" >/dev/null || {
		notok "$t is missing (tests/deps.sh installs it)"
		finish
	}
done

# --- the upstream source ---------------------------------------------------------------------

# apt_source: fetch and unpack `apt-get source slirp4netns` into $WORK/apt; prints the tree's
# path, or why not on stderr
apt_source() {
	local a=$WORK/apt line n=0
	mkdir -p "$a/lists/partial" "$a/src" || return 1
	# deb-src twins of the configured Debian mirrors (main only, no third-party repositories)
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' 2>/dev/null |
		awk '$4 == "Packages" && $3 == "main" && $1 ~ /debian/ {print "deb-src", $1, $2, $3}' |
		sort -u >"$a/sources.list"
	n=$(wc -l <"$a/sources.list")
	[ "$n" -gt 0 ] || { echo "no Debian mirror configured for deb-src" >&2; return 1; }
	local opts=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$a/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
		-o APT::Sandbox::User=root -q)
	# apt-get update exits 0 when an index could not be fetched: look for its E:/W: lines
	if ! timeout 120 apt-get "${opts[@]}" update >"$a/update.log" 2>&1 ||
		grep -q -E '^(E|W): (Failed|Some index)' "$a/update.log"; then
		echo "apt-get update (deb-src): $(grep -m1 -E '^(E|W):' "$a/update.log")" >&2
		return 1
	fi
	(cd "$a/src" && timeout 120 apt-get "${opts[@]}" source slirp4netns) >"$a/source.log" 2>&1 ||
		{ echo "apt-get source slirp4netns: $(grep -m1 -E '^(E|W):' "$a/source.log")" >&2; return 1; }
	line=$(find "$a/src" -maxdepth 3 -name test-slirp4netns-configure.sh -path '*/tests/*' | head -1)
	[ -n "$line" ] || { echo "apt-get source: no tests/ in the unpacked tree" >&2; return 1; }
	dirname "$(dirname "$line")"
}

if [ -z "${TPOD_S4N_INNER:-}" ]; then
	# first, in the host's network: the source tree; WORK and the tree pass to the inner run
	WORK=$(mktemp -d /tmp/tpod-s4n-$$.XXXXXX)
	chmod 755 "$WORK"
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 1' INT TERM
	if [ -n "${SLIRP4NETNS_SRC:-}" ]; then
		SRC=$SLIRP4NETNS_SRC
		FROM="SLIRP4NETNS_SRC"
	else
		SRC=$(apt_source 2>"$WORK/why")
		FROM="apt-get source"
	fi
	if [ -z "$SRC" ] || ! ls "$SRC"/tests/test-*.sh >/dev/null 2>&1; then
		if [ -n "${SLIRP4NETNS_SRC:-}" ]; then
			why="SLIRP4NETNS_SRC=$SLIRP4NETNS_SRC has no tests/test-*.sh"
		else
			why="SLIRP4NETNS_SRC unset, and $(tr '\n' ' ' <"$WORK/why")"
		fi
		skip "slirp4netns's own tests: no source tree ($why)"
		finish
	fi
	# then a network namespace of our own as the tests' host (below); our /etc/resolv.conf
	# and /dev/net/tun binds stay in a mount namespace of our own
	trap - EXIT
	export TPOD_S4N_INNER=1 TPOD_S4N_WORK=$WORK TPOD_S4N_SRC=$SRC TPOD_S4N_FROM=$FROM
	exec unshare -m -n --propagation private -- "$BASH" "$0" "$@"
fi

WORK=$TPOD_S4N_WORK
SRC=$TPOD_S4N_SRC
FROM=$TPOD_S4N_FROM
CREATED_USER=0
cleanup() {
	[ "$CREATED_USER" = 1 ] && userdel "$TUSER" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

VERSION=$(sed -n 's/^AC_INIT(\[slirp4netns\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac" 2>/dev/null)
echo "# slirp4netns ${VERSION:-?} tests from $SRC ($FROM), binary: $NETBIN"
case "$VERSION" in
1.2.*) ;;
*) echo "# note: written for the 1.2 tests; this tree says ${VERSION:-nothing}" ;;
esac

# a copy, so that nothing the tests write lands in the source tree; unchanged
cp -r "$SRC/tests" "$WORK/tests" || { notok "copy $SRC/tests"; finish; }
chmod -R a+rX "$WORK/tests"
mkdir -p "$WORK/bin"
ln -s "$NETBIN" "$WORK/bin/slirp4netns"

# --- the "host": a network namespace of our own ---------------------------------------------

# The tests treat the namespace they run in as the host. This script gives them one of their
# own (unshare -n above): loopback up, and tpods0 with 10.99.77.1/24 and the default route, one
# end of a veth pair whose other end (tpods1, no address) drops what it gets, so that nothing
# they send leaves this namespace. That matters for
# test-slirp4netns-disable-dns.sh: with --disable-dns, libslirp 4.7 connects to 10.0.2.3:53
# on the host's own network (it no longer translates that address) and the test expects the
# connection to time out; on this machine's real network something answers port 53 anywhere.
# In here the SYN goes into tpods0 and is dropped at tpods1. test-slirp4netns-outbound-addr.sh
# finds 10.99.77.1 as the host's first non-loopback address. The fixed ports of the tests
# (12121, 12122) are then ours alone.
if ip link set lo up && ip link add tpods0 type veth peer name tpods1 &&
	ip addr add 10.99.77.1/24 dev tpods0 && ip link set tpods0 up && ip link set tpods1 up &&
	ip route add default dev tpods0; then
	echo "# host side: a network namespace of the test's own (lo, tpods0 10.99.77.1/24 default)"
else
	notok "network namespace setup (lo, veth tpods0/tpods1)"
	finish
fi
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf ||
	{ notok "bind a resolv.conf of ours"; finish; }

# --- who runs them ---------------------------------------------------------------------------

run_prefix=()
if [ "$RUN_AS" = user ]; then
	if ! id "$TUSER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$TUSER" >/dev/null 2>&1 ||
			{ notok "useradd $TUSER"; finish; }
		CREATED_USER=1
	fi
	if ! runuser -u "$TUSER" -- unshare -r -n true 2>/dev/null; then
		skip "RUN_AS=user: unprivileged user namespaces are disabled here"
		finish
	fi
	if [ "$(stat -L -c %a /dev/net/tun)" != 666 ]; then
		# rootless, the network process opens /dev/net/tun as "other" (Debian's is 0666)
		mknod -m 666 "$WORK/tun" c 10 200 && chmod 666 "$WORK/tun" &&
			mount --bind "$WORK/tun" /dev/net/tun || { notok "a 0666 /dev/net/tun"; finish; }
		echo "# /dev/net/tun is not 0666 here: a 0666 node is bind-mounted in the test's namespace"
	fi
	runuser -u "$TUSER" -- test -x "$NETBIN" || { notok "$TUSER cannot execute $NETBIN"; finish; }
	run_prefix=(runuser -u "$TUSER" --)
fi
echo "# running as $RUN_AS"

# --- the tests -------------------------------------------------------------------------------

# A binary without slirp4netns's command line fails every test only after its waits run out
# (about 5 minutes in all): say so per test at once instead.
help=$("$WORK/bin/slirp4netns" --help 2>&1)
hrc=$?
nocompat=
case "$help" in
*"--netns-type"*) [ $hrc = 0 ] || nocompat="--help exits $hrc" ;;
*) nocompat="--help exits $hrc without slirp4netns's options: $(echo "$help" | head -1 | cut -c1-80)" ;;
esac

for t in "$WORK"/tests/test-*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "$nocompat" ]; then
		notok "$name: not run: $NETBIN as slirp4netns has no slirp4netns command line ($nocompat)"
		continue
	fi
	dir=$WORK/run/$name
	mkdir -p "$dir" && chmod 777 "$dir"
	start=$(date +%s)
	# setsid: a test's leftovers (it kills what it started, but on failure some may stay) are
	# in one process group, which we end by its id
	# no inherited descriptors beyond 0-2: test-slirp4netns-exit-fd.sh passes "-e 10" with fd 10
	# not open (its "10<(...)" is an operand, not a redirection) and expects an exit
	(for f in "/proc/$BASHPID/fd"/*; do fd=${f##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		cd "$dir" && exec setsid timeout -k 5 "$PER_TEST" "${run_prefix[@]}" \
		env PATH="$WORK/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		HOME="$dir" bash "$t") >"$dir/log" 2>&1 &
	tpid=$!
	wait $tpid
	rc=$?
	kill -9 -- -$tpid 2>/dev/null
	secs=$(($(date +%s) - start))
	case $rc in
	0) ok "$name (${secs}s)" ;;
	77) skip "$name: $(grep -v '^+' "$dir/log" | grep -v '^$' | tail -1 | cut -c1-200)" ;;
	124 | 137) notok "$name: timed out after ${PER_TEST}s; log: $(tail -3 "$dir/log" | tr '\n' ' ' | cut -c1-300)" ;;
	*) notok "$name: exit $rc (${secs}s); log: $(tail -4 "$dir/log" | tr '\n' ' ' | cut -c1-400)" ;;
	esac
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$dir/log"
done

finish
