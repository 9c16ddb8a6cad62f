#!/bin/bash
# tests/integration/test_systemd.sh - the installed units under a real systemd, not only
# `systemd-analyze verify`: `make install DESTDIR=` into a Debian root, boot it with
# systemd-nspawn, and there start, query, kill -9 (Restart=), reload and stop tapird.service,
# run tapird@NAME.service for namespaces made with `ip netns add`, --pid under the unit's
# sandbox, two namespaces on one tapird.service; `systemd-analyze security` at most 2.5 for
# the units (systemd-networkd's printed beside), and what /proc/PID/status shows of the
# running tapird's processes: the user tapird, the unit's bounding set, and (a
# privilege-separated build) the data path with CAP_NET_BIND_SERVICE alone and the helper with
# the attach capabilities, each with a seccomp filter of its own on top of the unit's.
#
#   sudo bash tests/integration/test_systemd.sh BUILD_DIR     (or BUILD=... in the environment)
#
# The root (Debian's release as on this host, with systemd and tapird's runtime libraries) is
# made once by mmdebstrap from this host's apt sources and kept in $TAPIR_TEST_ROOT
# (/var/cache/tapir-test/debian12-root); it is made again when missing or when its package list
# changes. Each run boots a throw-away overlay of it (removed at the end), with
# --private-network (the container cannot touch this host's network; it keeps CAP_NET_ADMIN)
# and a /dev/net/tun of its own (nspawn makes the node in the container's /dev; never the
# host's bound in: the root's udev gives the node mode 0666 at boot, as on a real host, and
# that must not change this host's node). PID 1 here is not systemd, so nspawn runs without machined
# (--register=no --keep-unit) and the checks run inside: tests/integration/systemd_guest.sh,
# started at boot by a unit, writes one line per check to a bound directory and powers off.
# Everything is bounded by timeouts; only processes started here are killed, by pid.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

case "$BUILD" in
*asan*)
	skip "the units under a real systemd: run on the plain build only (the booted root has no sanitizer runtime, and the units, not tapird's code, are under test)"
	finish
	;;
esac
need_root "mmdebstrap, overlay mounts and systemd-nspawn"
need_exec "not built" "$TAPIRD" "$TAPIRCTL"
for t in mmdebstrap systemd-nspawn; do
	if ! command -v $t >/dev/null; then
		notok "$t is not installed (tests/deps.sh installs mmdebstrap and systemd-container)"
		finish
	fi
done

ROOT=${TAPIR_TEST_ROOT:-/var/cache/tapir-test/debian12-root}
# tapird's and tapirctl's shared libraries (ldd of the plain build), systemd as PID 1,
# iproute2 for `ip netns`, netcat-openbsd for a listener the relayed flows reach, udev for
# what every Debian host has and the units rely on: /dev/net/tun mode 0666 (its
# static-nodes-permissions.conf, applied at boot; udevd itself does not run in a container),
# since the units run tapird as the user tapird. libseccomp2: the privilege-separated
# tapird's filter.
ROOT_PKGS="systemd udev libevent-2.1-7 libnl-3-200 libnl-route-3-200 libjansson4 libinih1 libsystemd0 libseccomp2 iproute2 netcat-openbsd"
ROOT_STAMP=etc/tapir-test-root
MKROOT_TIMEOUT=900
BOOT_TIMEOUT=300
MACHINE=tsd-$$
T=$(mktemp -d /tmp/tsd-systemd.XXXXXX)
NSPAWN_PID=
OVERLAY=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	[ -n "$OVERLAY" ] && umount "$OVERLAY" 2>/dev/null
	# nspawn leaves its propagation directory when /run is not a tmpfs of its own
	rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
	rm -rf "$T"
}
trap cleanup EXIT

# apt_sources: this host's apt source files whose every URI is a Debian archive (the only
# mirror CI reaches), one path a line; nothing when there is none
apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] || continue
		grep -Eo '[a-z+]+://[^ ]+' "$f" | grep -vq debian && continue
		grep -Eq '[a-z+]+://' "$f" && echo "$f"
	done
}

# make_root: the cached root, made (or made again) under a lock; 0 when it is usable
make_root() {
	local suite new rc sources
	mkdir -p "$(dirname "$ROOT")"
	exec 9>"$(dirname "$ROOT")/.lock"
	flock -w "$MKROOT_TIMEOUT" 9 || { echo "# $ROOT: lock held too long" >&2; return 1; }
	if [ -x "$ROOT/lib/systemd/systemd" ] && [ "$(cat "$ROOT/$ROOT_STAMP" 2>/dev/null)" = "$ROOT_PKGS" ]; then
		exec 9>&-
		return 0
	fi
	# tapird is built here against this host's libraries: the root is the same release
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	mapfile -t sources < <(apt_sources)
	new=$ROOT.new.$$
	# what a run killed while making it left behind (nobody else makes one: we hold the lock)
	rm -rf "$ROOT".new.*
	echo "# making $ROOT ($suite) with mmdebstrap" >&2
	timeout "$MKROOT_TIMEOUT" mmdebstrap --quiet --variant=essential \
		--include="$(echo "$ROOT_PKGS" | tr ' ' ,)" \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$suite" "$new" "${sources[@]}" >"$T/mmdebstrap.log" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		tail -20 "$T/mmdebstrap.log" >&2
		rm -rf "$new"
		exec 9>&-
		return 1
	fi
	echo "$ROOT_PKGS" >"$new/$ROOT_STAMP"
	rm -rf "$ROOT"
	mv "$new" "$ROOT"
	exec 9>&-
}

start=$(date +%s)
if make_root; then
	ok "Debian root with systemd and tapird's libraries: $ROOT ($(($(date +%s) - start)) s)"
else
	notok "making the Debian root $ROOT with mmdebstrap (log above)"
	finish
fi

# a writable copy: an overlay over the cached root, or a plain copy where overlayfs is missing
R=$T/root
mkdir -p "$T/upper" "$T/work" "$R" "$T/results" "$T/guest"
if mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$T/upper,workdir=$T/work" "$R" 2>/dev/null; then
	OVERLAY=$R
elif ! cp -a "$ROOT/." "$R/"; then
	notok "a writable copy of $ROOT in $R"
	finish
fi

# make install into it, with the build's own prefix; then its directories, expanded by make
if make -C "$BUILD" install DESTDIR="$R" >"$T/install.log" 2>&1; then
	ok "make install DESTDIR=<the booted root>"
else
	tail -20 "$T/install.log"
	notok "make install DESTDIR=<the booted root>"
	finish
fi
# enabled as an administrator would (systemctl --root: the [Install] section's WantedBy=), so
# the boot itself starts tapird.service
if systemctl --root="$R" enable tapird.service >>"$T/install.log" 2>&1 &&
	[ -L "$R/etc/systemd/system/multi-user.target.wants/tapird.service" ]; then
	ok "systemctl --root=<the booted root> enable tapird.service"
else
	tail -5 "$T/install.log"
	notok "systemctl --root=<the booted root> enable tapird.service"
fi
# shellcheck disable=SC2016 # $(bindir)... are make's, expanded by make
dirs=$(printf 'tsd-print-dirs:\n\t@echo BINDIR=$(bindir) SBINDIR=$(sbindir) SYSCONFDIR=$(sysconfdir) UNITDIR=$(systemdsystemunitdir) SYSUSERSDIR=$(sysusersdir)\n' |
	make -s -C "$BUILD" -f Makefile -f - tsd-print-dirs)
echo "$dirs" | tr ' ' '\n' >"$T/guest/env"
cp "$SRC/tests/integration/systemd_guest.sh" "$T/guest/guest.sh"
mkdir -p "$R/tsd-test" "$R/tsd-results"
cat >"$R/etc/systemd/system/tsd-test.service" <<EOF
[Unit]
Description=test_systemd.sh: the checks, then power off
After=multi-user.target

[Service]
Type=exec
ExecStart=/bin/bash /tsd-test/guest.sh
ExecStopPost=-/bin/sh -c 'grep -qx done /tsd-results/results || systemctl poweroff --no-block'
StandardOutput=journal+console
EOF
ln -sf /etc/systemd/system/tsd-test.service "$R/etc/systemd/system/multi-user.target.wants/tsd-test.service"

# boot; the guest powers off when done (or fails: ExecStopPost). RLIMIT_NOFILE as systemd
# gives PID 1 on a host (hard 512Ki), not this shell's: the units' LimitNOFILE must fit under it.
start=$(date +%s)
timeout -k 20 "$BOOT_TIMEOUT" systemd-nspawn --quiet --directory="$R" --machine="$MACHINE" \
	--boot --register=no --keep-unit --private-network \
	--rlimit=RLIMIT_NOFILE=1024:524288 \
	--bind-ro="$T/guest:/tsd-test" --bind="$T/results:/tsd-results" \
	</dev/null >"$T/console.log" 2>&1 &
NSPAWN_PID=$!
wait "$NSPAWN_PID"
rc=$?
NSPAWN_PID=
secs=$(($(date +%s) - start))

if [ -s "$T/results/results" ]; then
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) notok "${line#not ok - }" ;;
		"skip - "*) skip "${line#skip - }" ;;
		"info - "*) echo "# ${line#info - }" ;;
		esac
	done <"$T/results/results"
fi
if grep -qx 'done' "$T/results/results" 2>/dev/null && [ $rc = 0 ]; then
	ok "the booted root ran every check and powered off ($secs s)"
else
	notok "the booted root ran every check and powered off (nspawn rc $rc after $secs s)"
	echo "# console (last lines):"
	sed 's/\x1b\[[0-9;]*m//g' "$T/console.log" | tail -40 | sed 's/^/#   /'
fi
for f in conns-two-sections attach-example conns-every-tapird; do
	[ -f "$T/results/$f.txt" ] || continue
	echo "# tapirctl conns ($f):"
	sed 's/^/#   /' "$T/results/$f.txt"
done
# KEEP_RESULTS=DIR keeps the guest's results, debug log and console for a look afterwards
if [ -n "${KEEP_RESULTS:-}" ]; then
	mkdir -p "$KEEP_RESULTS" && cp -a "$T/results/." "$T/console.log" "$KEEP_RESULTS/"
fi
if [ "$FAIL" != 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "# debug log of the guest (last lines):"
	tail -80 "$T/results/debug.log" 2>/dev/null | sed 's/^/#   /'
fi
finish
