#!/bin/bash
# tests/integration/test_podman.sh - podman runs containers with tapird as its slirp4netns
# (engine.network_cmd_path), as root and rootless.
#
# The network binary: by default a temporary directory's `slirp4netns` -> BUILD/daemon/tapird
# symlink (tapird started under the name slirp4netns takes slirp4netns's command line);
# NETCMD=/usr/bin/slirp4netns tests the real slirp4netns instead, which is how this test itself
# is validated: every check passes against it (one is skipped with the reason).
# podman reaches it through a small wrapper that records each network process's pid and argv
# (for the exit checks) and then execs it.
#
# The test builds its own image (no registry is reachable in CI): a rootfs directory with
# busybox-static, iperf3 and its shared libraries, used with `podman run --rootfs`, deleted at
# the end. podman's storage, runroot and tmp_dir are the test's own, and everything runs in a
# private mount namespace (the script re-executes itself under `unshare -m`), where:
#   - /etc/resolv.conf is bind-mounted to name the test's resolver 127.77.X.53, so the
#     network process forwards 10.0.2.3 there (the same for both binaries);
#   - on a host with hybrid cgroups (cgroup2 on /sys/fs/cgroup/unified beside v1 controllers)
#     that mount is lifted, which crun otherwise refuses ("cgroups in hybrid mode not
#     supported"); nothing changes outside the namespace;
#   - if /dev/net/tun is not world-read/writable (Debian's default is 0666), a 0666 node of the
#     same device is bind-mounted over it, so that a rootless network process can open it.
# Checks, each as root and rootless (an unprivileged user tpodtest with subordinate ids;
# rootless is skipped with the reason when this host cannot run it):
#   (h) `--help` names what podman 4.3 probes for (--enable-ipv6 is required: podman's default
#       enable_ipv6=true fails "enable_ipv6 not supported" without it)
#   (a) an outbound HTTP fetch from a server on the host's 127.0.0.1, through the gateway
#       10.0.2.2 (allow_host_loopback=true); the body is checked
#   (b) a DNS query to 10.0.2.3 answered by the test's resolver (the address is checked and the
#       resolver must have seen the query)
#   (c) a published port -p 127.0.0.1:PORT:80 to busybox httpd in the container, with
#       port_handler=slirp4netns (podman's add_hostfwd on the API socket) and with podman's
#       default rootlesskit handler (rootlessport)
#   (d) exit with the container: after `podman run --rm` returns (or `podman stop` of a
#       detached --rm container), the network process (pid recorded by the wrapper) is gone,
#       its namespace path is gone, the API socket answers no more, and its file is gone (the
#       real slirp4netns 1.2 leaves the file: its --enable-sandbox mounts /run read-only and
#       hides other paths, so its unlink fails; skipped with that reason for it)
# Every wait is bounded. Slow (podman): the plain build only, skipped under the sanitizers.
#
#   bash tests/integration/test_podman.sh BUILD_DIR    (as root; or BUILD=... in the env)
#   NETCMD=/usr/bin/slirp4netns bash tests/integration/test_podman.sh BUILD_DIR
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed[, N skipped]" last.
# Traffic goes only to 127.0.0.0/8 and to the containers' namespaces, which podman creates and
# deletes.
set -u
. "$(dirname "$0")/lib.sh"

case "$BUILD" in
*asan*)
	skip "podman tests run on the plain build only (slow; the binary under test is the same code)"
	finish
	;;
esac
need_root "podman as root, a private mount namespace, a test user for rootless podman"

if [ -z "${TPOD_PODMAN_INNER:-}" ]; then
	# our mounts (resolv.conf, cgroup, tun) and podman's (netns, storage) stay in here
	export TPOD_PODMAN_INNER=1
	exec unshare -m --propagation private -- "$BASH" "$0" "$@"
fi

NETCMD=${NETCMD:-}
if [ -n "$NETCMD" ]; then
	NETBIN=$NETCMD
	REAL=1
else
	NETBIN=$TAPIRD
	REAL=0
fi
PODMAN=$(command -v podman)
need_exec "missing (tests/deps.sh installs it)" "$NETBIN" "${PODMAN:-/usr/bin/podman}" \
	/bin/busybox /usr/bin/iperf3 /usr/bin/curl "$PY"

TO=30 # bound on every podman command, seconds
TUSER=tpodtest
# short: a rootless API socket is WORK/ru/libpod/tmp/<64 hex>.net, and sun_path holds 107
WORK=$(mktemp -d /tmp/tpodXXXX)
chmod 755 "$WORK"
DNS_IP=127.77.$(($$ % 250 + 1)).53
CREATED_USER=0
PIDS=()
MODES_RUN=()

cleanup() {
	local p m
	for m in "${MODES_RUN[@]}"; do
		pm "$m" rm -af -t 0 >/dev/null 2>&1
	done
	# network processes that outlived their container (a failed check): ours, by recorded pid
	if [ -f "$WORK/netcmd.log" ]; then
		for p in $(awk '{print $1}' "$WORK/netcmd.log"); do
			grep -q slirp4netns "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
		done
	fi
	# the rootless podman's pause process (it holds the user namespace)
	if [ -f "$WORK/ru/libpod/tmp/pause.pid" ]; then
		kill -9 "$(cat "$WORK/ru/libpod/tmp/pause.pid")" 2>/dev/null
	fi
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ "$CREATED_USER" = 1 ] && userdel "$TUSER" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# pm MODE ARGS...: podman as root or as the rootless test user, on the test's storage
pm() {
	local mode=$1
	shift
	if [ "$mode" = root ]; then
		CONTAINERS_CONF=$WORK/containers.conf timeout -k 5 $TO "$PODMAN" \
			--root "$WORK/root/storage" --runroot "$WORK/root/run" --storage-driver vfs "$@"
	else
		(cd / && timeout -k 5 $TO runuser -u "$TUSER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME="$WORK/ru" XDG_RUNTIME_DIR="$WORK/ru" \
			CONTAINERS_CONF="$WORK/containers-rootless.conf" "$PODMAN" \
			--root "$WORK/ru/storage" --runroot "$WORK/ru/run" --storage-driver vfs "$@")
	fi
}

# --- the image, the network binary, podman's configuration --------------------------------

R=$WORK/rootfs
mkdir -p "$R"/{bin,etc,proc,sys,dev,tmp,run,www,lib64} && cp /bin/busybox "$R/bin/" &&
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done &&
	cp /usr/bin/iperf3 "$R/bin/" || { notok "rootfs in $R"; finish; }
for l in $(ldd /usr/bin/iperf3 | awk '/=> \// {print $3} /^[ \t]*\// {print $1}'); do
	mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l"
done
echo 'root:x:0:0:root:/:/bin/sh' >"$R/etc/passwd"
echo 'root:x:0:' >"$R/etc/group"
# mount points podman binds over: present already, so a rootless run need not create them
touch "$R/etc/hosts" "$R/etc/hostname" "$R/etc/resolv.conf" "$R/run/.containerenv"
TOKEN=tpod-$$-$RANDOM
echo "served-by-container $TOKEN" >"$R/www/index.html"
if chroot "$R" /bin/iperf3 --version >/dev/null 2>&1 && chroot "$R" /bin/sh -c 'true'; then
	ok "image: a rootfs with busybox and iperf3 ($(du -sh "$R" | cut -f1)), made in $WORK"
else
	notok "image: iperf3 or sh does not run in the rootfs $R"
	finish
fi

mkdir -p "$WORK/bin" "$WORK/tmp" "$WORK/www"
ln -s "$NETBIN" "$WORK/bin/slirp4netns"
: >"$WORK/netcmd.log"
chmod 666 "$WORK/netcmd.log" # a rootless podman runs the wrapper as the test user
cat >"$WORK/bin/netcmd" <<EOF
#!/bin/bash
# what podman runs as its slirp4netns: note the pid and argv of each network process (not of
# the --help probe), then become slirp4netns (the same pid)
case " \$* " in *" --help "*) ;; *) echo "\$\$ \$*" >>"$WORK/netcmd.log" ;; esac
exec "$WORK/bin/slirp4netns" "\$@"
EOF
chmod 755 "$WORK/bin/netcmd"

NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 4096 ] && NOFILE=4096
NPROC=$(ulimit -Hu)
[ "$NPROC" = unlimited ] || [ "$NPROC" -gt 4096 ] && NPROC=4096
# podman as root raises RLIMIT_NOFILE/NPROC to 1048576/4194304 by default, which fails where
# the test itself runs with lower hard limits and no CAP_SYS_RESOURCE: ask for what we have
common_conf="[containers]
default_ulimits = [\"nofile=$NOFILE:$NOFILE\", \"nproc=$NPROC:$NPROC\"]
[engine]
network_cmd_path = \"$WORK/bin/netcmd\"
events_logger = \"none\""
printf '%s\ntmp_dir = "%s"\n' "$common_conf" "$WORK/tmp" >"$WORK/containers.conf"
printf '%s\n' "$common_conf" >"$WORK/containers-rootless.conf"
chmod 644 "$WORK"/containers*.conf

# (h) what podman 4.3 greps from --help; it also fails if --help exits non-zero
help=$("$WORK/bin/slirp4netns" --help 2>&1)
hrc=$?
missing=
for o in --disable-host-loopback --mtu --enable-sandbox --enable-seccomp --cidr --outbound-addr \
	--enable-ipv6; do
	case "$help" in *"$o"*) ;; *) missing="$missing $o" ;; esac
done
if [ $hrc = 0 ] && [ -z "$missing" ]; then
	ok "(h) $NETBIN as slirp4netns: --help exits 0 and names every option podman probes"
else
	notok "(h) --help as slirp4netns: exit $hrc, missing:${missing:-nothing} (podman fails" \
		"without --enable-ipv6)"
fi

# --- the host side: an HTTP server on 127.0.0.1, a resolver on $DNS_IP ------------------------

mount_setup() {
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
		[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		umount /sys/fs/cgroup/unified || return 1
		echo "# hybrid cgroups: /sys/fs/cgroup/unified lifted in the test's mount namespace"
	fi
	echo "nameserver $DNS_IP" >"$WORK/resolv.conf"
	mount --bind "$WORK/resolv.conf" /etc/resolv.conf || return 1
	# podman rootless wants / shared; these mounts are ours alone (private from the host)
	mount --make-rshared / || return 1
}
mount_setup || { notok "mount setup in the test's namespace"; finish; }

echo "served-by-host $TOKEN" >"$WORK/www/probe.txt"
HTTP_PORT=$(free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$HTTP_PORT" >"$WORK/http.log" 2>&1 &
PIDS+=($!)

# the resolver: A queries get 192.0.2.77 (RFC 5737 TEST-NET-1: only a field in the answer),
# others an empty NOERROR answer; each question is appended to dns.log
cat >"$WORK/dns.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(300)
while True:
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        break
    if len(q) < 17:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0 and len(labels) < 64:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    i += 1
    if i + 4 > len(q):
        continue
    qtype = struct.unpack("!H", q[i:i + 2])[0]
    with open(sys.argv[2], "a") as f:
        f.write("%s %d\n" % (".".join(labels), qtype))
    ans = b""
    if qtype == 1:
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.77")
    hdr = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180, 1, 1 if ans else 0, 0, 0)
    s.sendto(hdr + q[12:i + 4] + ans, peer)
EOF
"$PY" "$WORK/dns.py" "$DNS_IP" "$WORK/dns.log" >"$WORK/dns.err" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	[ -e "$WORK/dns.log.ready" ] && [ -n "$(ss -Htln "sport = :$HTTP_PORT")" ] && break
	sleep 0.1
done
if [ -e "$WORK/dns.log.ready" ] && [ -n "$(ss -Htln "sport = :$HTTP_PORT")" ]; then
	ok "host: HTTP server on 127.0.0.1:$HTTP_PORT, resolver on $DNS_IP:53 (in /etc/resolv.conf)"
else
	notok "host servers: http $(tail -1 "$WORK/http.log") dns $(tail -1 "$WORK/dns.err")"
	finish
fi

# --- helpers for the checks -----------------------------------------------------------------

# last_net: "PID ARGV..." of the newest network process the wrapper recorded
last_net() { tail -n 1 "$WORK/netcmd.log"; }
# arg_after LINE OPT: the word after OPT in the recorded argv LINE
arg_after() { echo "$1" | tr ' ' '\n' | grep -A1 -x -- "$2" | tail -n 1; }

# check_exit MODE WHAT LINE: the network process of recorded LINE is gone with its namespace
# path and its API socket (if it had one)
check_exit() {
	local mode=$1 what=$2 line=$3 pid nspath api
	pid=${line%% *}
	nspath=$(echo "$line" | awk '{print $(NF-1)}')
	api=$(arg_after "$line" --api-socket)
	[ "$api" = "$line" ] && api=
	for _ in $(seq 50); do
		grep -q slirp4netns "/proc/$pid/cmdline" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q slirp4netns "/proc/$pid/cmdline" 2>/dev/null; then
		notok "(d) $mode $what: network process $pid still runs 5 s after the container ended"
	else
		ok "(d) $mode $what: network process $pid exited with the container"
	fi
	for _ in $(seq 30); do [ -e "$nspath" ] || break; sleep 0.1; done
	check "(d) $mode $what: its namespace $nspath is gone" test ! -e "$nspath"
	[ -z "$api" ] && return
	if "$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])' \
		"$api" 2>/dev/null; then
		notok "(d) $mode $what: the API socket $api still accepts connections"
	else
		ok "(d) $mode $what: the API socket accepts no connection any more"
	fi
	if [ ! -e "$api" ]; then
		ok "(d) $mode $what: the API socket file is removed"
	elif [ $REAL = 1 ]; then
		skip "(d) $mode $what: the API socket file stays with slirp4netns 1.2 (its sandbox" \
			"mounts /run read-only and hides /tmp, so its unlink fails; podman 4.3.1 leaves it)"
	else
		notok "(d) $mode $what: the API socket file $api is left behind"
	fi
}

# fetch_port PORT: the body of http://127.0.0.1:PORT/ (retried up to 5 s: the container's
# server may still be starting)
fetch_port() {
	local out
	for _ in $(seq 25); do
		out=$(curl -s --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null) && [ -n "$out" ] &&
			{ echo "$out"; return 0; }
		sleep 0.2
	done
	return 1
}

# --- the checks, for one mode (root or rootless) ----------------------------------------------

suite() {
	local mode=$1 out runout n0 line port name handler
	MODES_RUN+=("$mode")

	# (a) + (b) in one `podman run --rm`; (d) once it returned
	n0=$(wc -l <"$WORK/netcmd.log")
	out=$(pm "$mode" run --rm --network slirp4netns:allow_host_loopback=true --rootfs "$R" \
		sh -c "timeout 10 wget -q -O - http://10.0.2.2:$HTTP_PORT/probe.txt; echo '--dns--';
			timeout 10 nslookup -type=a tpod-probe.test 10.0.2.3" 2>&1)
	if [ "$(wc -l <"$WORK/netcmd.log")" -le "$n0" ]; then
		notok "$mode: podman did not start the network process ($(echo "$out" | tail -3))"
		return
	fi
	line=$(last_net)
	echo "# $mode: podman ran: slirp4netns ${line#* }"
	case "$line" in
	*" -c -e 3 -r 4 "*"--netns-type=path "*" tap0") ok "$mode: podman's argv as recorded for 4.3.1" ;;
	*) notok "$mode: unexpected argv: ${line#* }" ;;
	esac
	if echo "$out" | grep -qx "served-by-host $TOKEN"; then
		ok "(a) $mode: the container fetched http://10.0.2.2:$HTTP_PORT/ from the host's loopback"
	else
		notok "(a) $mode: outbound fetch through 10.0.2.2: $(echo "$out" | head -5 | tr '\n' ' ')"
	fi
	if echo "$out" | sed -n '/--dns--/,$p' | grep -q '192\.0\.2\.77' &&
		grep -q '^tpod-probe\.test 1$' "$WORK/dns.log" 2>/dev/null; then
		ok "(b) $mode: DNS through 10.0.2.3 answered by the resolver in /etc/resolv.conf"
	else
		notok "(b) $mode: DNS: $(echo "$out" | sed -n '/--dns--/,$p' | tr '\n' ' ')" \
			"resolver saw: $(tr '\n' ' ' <"$WORK/dns.log" 2>/dev/null)"
	fi
	check_exit "$mode" "run --rm" "$line"

	# (c) published ports, both handlers; (d) after `podman stop` of each
	for handler in slirp4netns rootlesskit; do
		port=$(free_port)
		name=tpod-$mode-$handler-$$
		n0=$(wc -l <"$WORK/netcmd.log")
		runout=$(pm "$mode" run -d --rm --name "$name" -p "127.0.0.1:$port:80" \
			--network "slirp4netns:port_handler=$handler" --rootfs "$R" \
			httpd -f -p 80 -h /www 2>&1)
		if [ "$(wc -l <"$WORK/netcmd.log")" -le "$n0" ]; then
			notok "(c) $mode port_handler=$handler: no network process ($(echo "$runout" | tail -2))"
			pm "$mode" rm -f -t 0 "$name" >/dev/null 2>&1
			continue
		fi
		line=$(last_net)
		if [ $handler = slirp4netns ]; then
			case "$line" in *" --api-socket "*) ;;
			*) notok "(c) $mode: no --api-socket with port_handler=slirp4netns" ;;
			esac
		fi
		out=$(fetch_port "$port")
		if [ "$out" = "served-by-container $TOKEN" ]; then
			ok "(c) $mode port_handler=$handler: 127.0.0.1:$port reaches httpd in the container"
		else
			notok "(c) $mode port_handler=$handler: 127.0.0.1:$port gave '$out'" \
				"(podman run: $(echo "$runout" | tail -2 | tr '\n' ' '))"
		fi
		pm "$mode" stop -t 0 "$name" >/dev/null 2>&1
		for _ in $(seq 50); do
			pm "$mode" container exists "$name" || break
			sleep 0.1
		done
		check_exit "$mode" "stop, port_handler=$handler" "$line"
	done
}

suite root

# --- rootless ---------------------------------------------------------------------------------

rootless_why_not() { # prints why rootless podman cannot run here (nothing: it can)
	command -v newuidmap >/dev/null || { echo "newuidmap missing (package uidmap)"; return; }
	if ! id "$TUSER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$TUSER" >/dev/null 2>&1 ||
			{ echo "useradd $TUSER failed"; return; }
		CREATED_USER=1
	fi
	grep -q "^$TUSER:" /etc/subuid && grep -q "^$TUSER:" /etc/subgid ||
		{ echo "$TUSER has no /etc/subuid or /etc/subgid range"; return; }
	runuser -u "$TUSER" -- unshare -U true 2>/dev/null ||
		{ echo "unprivileged user namespaces are disabled here"; return; }
	# rootless, the network process is uid 0 only inside podman's user namespace: it opens
	# /dev/net/tun as "other"
	if [ "$(stat -L -c %a /dev/net/tun)" != 666 ]; then
		rm -f "$WORK/tun"
		mknod -m 666 "$WORK/tun" c 10 200 && chmod 666 "$WORK/tun" &&
			mount --bind "$WORK/tun" /dev/net/tun ||
			{ echo "/dev/net/tun is $(stat -L -c %a /dev/net/tun) and no 0666 node could replace it"; return; }
		echo "# /dev/net/tun is not 0666 here: a 0666 node is bind-mounted in the test's namespace" >&2
	fi
	mkdir -p "$WORK/ru" && chown "$TUSER:" "$WORK/ru" && chmod 700 "$WORK/ru" ||
		{ echo "cannot make $WORK/ru"; return; }
	runuser -u "$TUSER" -- test -x "$NETBIN" || { echo "$TUSER cannot execute $NETBIN"; return; }
}
rootless_why_not >"$WORK/why" # not in $(): it sets CREATED_USER
why=$(cat "$WORK/why")
if [ -n "$why" ]; then
	skip "(e) rootless: $why"
else
	suite rootless
fi

finish
