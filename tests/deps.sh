#!/bin/bash
# tests/deps.sh - install what building and testing tapir needs on Debian 12 (as root).
# Skips apt entirely when everything is already there, so repeated runs are quick.
set -u
PKGS="build-essential autoconf automake pkg-config
libevent-dev libnl-3-dev libnl-route-3-dev libjansson-dev libinih-dev libsystemd-dev libcmocka-dev libseccomp-dev
iproute2 iputils-ping nftables tcpdump iperf3 python3 python3-scapy systemd prometheus curl
clang libclang-rt-14-dev"
# test_cni.sh: podman's CNI backend runs tapir-cni in a container made of busybox-static
PKGS="$PKGS podman containernetworking-plugins busybox-static"
# test_systemd.sh: a Debian root made with mmdebstrap, booted with systemd-nspawn
PKGS="$PKGS mmdebstrap systemd-container"
# test_podman.sh, test_slirp4netns_suite.sh, test_slirp4netns_compat.sh: tapird as slirp4netns
# under podman and rootlesskit, beside the real slirp4netns; slirp4netns's own tests' tools
PKGS="$PKGS slirp4netns uidmap catatonit ncat jq udhcpc libcap2-bin passwd util-linux rootlesskit"
# tapird's data path drops to the user `tapird` once started (systemd/tapird.sysusers makes it
# on an installed system; the integration tests start tapird as root from the build tree)
if ! getent passwd tapird >/dev/null; then
	if getent group tapird >/dev/null; then g="-g tapird"; else g="-U"; fi
	useradd --system -M -d / -s /usr/sbin/nologin $g tapird || exit 1
fi
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done)
[ -z "$missing" ] && exit 0
echo "deps: installing:" $missing
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
apt-get install -y -qq --no-install-recommends $missing >/tmp/tapir-apt.log 2>&1 || {
	tail -20 /tmp/tapir-apt.log
	exit 1
}
