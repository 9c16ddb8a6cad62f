#!/bin/bash
# tests/bench/podman_iperf.sh - podman bulk TCP throughput through a slirp4netns-style network
# binary (tapird, or the real slirp4netns): iperf3 in a podman container, iperf3 on the host.
# A benchmark, not a test: it prints Gbit/s and fails only if the setup does.
#
#   bash tests/bench/podman_iperf.sh NETBIN [SECONDS]        (as root; SECONDS defaults to 4)
#   e.g. for tapird beside slirp4netns in one run:
#     for b in build/daemon/tapird /usr/bin/slirp4netns; do bash tests/bench/podman_iperf.sh $b; done
#
# NETBIN is reached as podman's engine.network_cmd_path through a symlink named slirp4netns, as
# podman 4.3 runs it: --mtu=65520 --enable-sandbox --enable-seccomp --enable-ipv6 -c -e 3 -r 4
# [--api-socket PATH] --netns-type=path NETNS tap0. Rows (each one iperf3 run of SECONDS):
#   published  host -> container   iperf3 -c 127.0.0.1 -p PORT, -p 127.0.0.1:PORT:5201 with
#   published  container -> host   port_handler=slirp4netns (the network binary's add_hostfwd);
#                                  the second row is the same with -R
#   rootlessport ...               the same with podman's default port handler; rootlessport
#                                  connects to the container inside its namespace, so these rows
#                                  do not go through the network binary (for reference)
#   outbound  container -> host    iperf3 -c 10.0.2.2 in the container, server on the host's
#   outbound  host -> container    127.0.0.1 (allow_host_loopback=true); the second with -R
# The image is a rootfs the script makes (busybox-static, iperf3 and its libraries); podman's
# storage is the script's own; all of it in a private mount namespace, removed at the end.
# Traffic goes only to 127.0.0.1 and to the container's namespace.
set -u
NETBIN=${1:?usage: $0 NETBIN [SECONDS]}
SECS=${2:-4}
NETBIN=$(cd "$(dirname "$NETBIN")" && pwd)/$(basename "$NETBIN")
[ -x "$NETBIN" ] || { echo "$NETBIN: not executable" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (podman, mount namespace)" >&2; exit 1; }
if [ -z "${TPOD_BENCH_INNER:-}" ]; then
	export TPOD_BENCH_INNER=1
	exec unshare -m --propagation private -- "$BASH" "$0" "$@"
fi

WORK=$(mktemp -d /tmp/tpodbXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
	pm rm -af -t 0 >/dev/null 2>&1
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pm() {
	CONTAINERS_CONF=$WORK/containers.conf timeout -k 5 $((SECS + 60)) podman \
		--root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs "$@"
}

# hybrid cgroups (cgroup2 beside v1): crun refuses them; lift the v2 mount in here only
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	umount /sys/fs/cgroup/unified || exit 1
fi

R=$WORK/rootfs
mkdir -p "$R"/{bin,etc,proc,sys,dev,tmp,run,lib64} && cp /bin/busybox /usr/bin/iperf3 "$R/bin/" || exit 1
for a in sh sleep; do ln -s busybox "$R/bin/$a"; done
for l in $(ldd /usr/bin/iperf3 | awk '/=> \// {print $3} /^[ \t]*\// {print $1}'); do
	mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l" || exit 1
done
echo 'root:x:0:0:root:/:/bin/sh' >"$R/etc/passwd"
touch "$R/etc/hosts" "$R/etc/hostname" "$R/etc/resolv.conf"

mkdir -p "$WORK/bin" "$WORK/tmp"
ln -s "$NETBIN" "$WORK/bin/slirp4netns"
NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 4096 ] && NOFILE=4096
NPROC=$(ulimit -Hu)
[ "$NPROC" = unlimited ] || [ "$NPROC" -gt 4096 ] && NPROC=4096
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]
[engine]
network_cmd_path = "$WORK/bin/slirp4netns"
tmp_dir = "$WORK/tmp"
events_logger = "none"
EOF

free_port() { # a TCP port nothing on the host uses
	local p
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % 20000))
		[ -z "$(ss -Htan "sport = :$p")" ] && { echo $p; return 0; }
	done
	return 1
}
# gbits FILE: the receiver's rate from iperf3 -J output, in Gbit/s
gbits() {
	python3 -c 'import json,sys
try:
    j = json.load(open(sys.argv[1]))
    print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception as e:
    print("failed")' "$1"
}
row() { # row LABEL RATE [ERRFILE]: one line; a failed run with the first line of ERRFILE
	case $2 in
	[0-9]*) printf '%-46s %s Gbit/s\n' "$1" "$2" ;;
	*) printf '%-46s %s %s\n' "$1" "$2" "$(head -1 "${3:-/dev/null}" 2>/dev/null)" ;;
	esac
}

echo "# podman $(podman --version | awk '{print $3}'), network binary $NETBIN" \
	"($("$NETBIN" --version 2>&1 | head -1)), ${SECS}s per row, MTU 65520"

# published ports: iperf3 -s in the container, the client on the host
for handler in slirp4netns rootlesskit; do
	port=$(free_port)
	name=tpodb-$handler-$$
	if ! pm run -d --rm --name "$name" -p "127.0.0.1:$port:5201" \
		--network "slirp4netns:port_handler=$handler" --rootfs "$R" iperf3 -s >"$WORK/run.log" 2>&1; then
		echo "podman run ($handler): $(tail -2 "$WORK/run.log")" >&2
		continue
	fi
	for _ in $(seq 50); do
		timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5 # iperf3 -s in the container listens once the probe connection above is gone
	label=published
	[ $handler = rootlesskit ] && label="rootlessport (bypasses it)"
	timeout $((SECS + 20)) iperf3 -c 127.0.0.1 -p "$port" -t "$SECS" -J >"$WORK/f.json" 2>&1
	row "$label host -> container" "$(gbits "$WORK/f.json")"
	timeout $((SECS + 20)) iperf3 -c 127.0.0.1 -p "$port" -t "$SECS" -R -J >"$WORK/r.json" 2>&1
	row "$label container -> host" "$(gbits "$WORK/r.json")"
	pm stop -t 0 "$name" >/dev/null 2>&1
done

# outbound: iperf3 -s on the host's loopback, the client in the container through 10.0.2.2
port=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$port" >"$WORK/srv.log" 2>&1 &
PIDS+=($!)
sleep 0.3
pm run --rm --network slirp4netns:allow_host_loopback=true --rootfs "$R" \
	iperf3 -c 10.0.2.2 -p "$port" -t "$SECS" -J >"$WORK/o.json" 2>"$WORK/o.err"
row "outbound container -> host" "$(gbits "$WORK/o.json")" "$WORK/o.err"
pm run --rm --network slirp4netns:allow_host_loopback=true --rootfs "$R" \
	iperf3 -c 10.0.2.2 -p "$port" -t "$SECS" -R -J >"$WORK/or.json" 2>"$WORK/or.err"
row "outbound host -> container" "$(gbits "$WORK/or.json")" "$WORK/or.err"
