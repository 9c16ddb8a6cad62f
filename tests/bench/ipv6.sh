#!/bin/bash
# ipv6.sh - tapird's TCP throughput over IPv6 beside IPv4 in the same run (issue 13): iperf3 in
# a namespace served by tapird, to a server on the host's loopback reached through the gateway
# (10.0.2.2 -> 127.0.0.1 and fd00::2 -> ::1), each direction, at each MTU; then pasta with
# the same two workloads and the same addresses (--config-net -a/-g for both families: pasta
# maps its gateway address to the host's loopback, 127.0.0.1 and ::1). Prints, never asserts:
# a loaded machine moves every figure.
# pasta started as root switches to nobody unless told otherwise, and nobody cannot join the
# namespace ("Couldn't switch to pasta namespaces: Operation not permitted", which -q hid:
# the earlier "failed to attach"): --runas 0, as shared/bench/anchors.sh does.
# Usage: TAPIRD=build/daemon/tapird [PASTA=path] [SECONDS_PER=5] [MTUS="65520 1500"]
#        tests/bench/ipv6.sh   (root, iperf3; host-local only). PASTA defaults to pasta on
#        the PATH; set it to run another build.
#        Namespaces are named tv6-bench-PID, removed on exit.
set -u
: "${TAPIRD:?set TAPIRD to the tapird binary}"
T=${SECONDS_PER:-5}
MTUS=${MTUS:-65520 1500}
PASTA=${PASTA:-pasta}
NS=tv6-bench-$$
PORT=$((15400 + $$ % 200))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ip netns del $NS 2>/dev/null
	rm -f /tmp/tv6-bench-$$.sock /tmp/tv6-bench-pasta-$$.log /tmp/tv6-bench-$$.log
}
trap cleanup EXIT

# gbps DST [-R]: one iperf3 run from the namespace, Gbit/s received
gbps() {
	ip netns exec $NS timeout $((T + 15)) iperf3 -c "$1" -p $PORT -t "$T" ${2:-} -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null ||
		echo "-"
}

# server on both loopbacks: iperf3 -s on [::] with dual stack takes 127.0.0.1 too
iperf3 -s -p $PORT --logfile /dev/null &
pids+=($!)
sleep 0.5

if command -v "$PASTA" >/dev/null; then
	echo "pasta: $PASTA ($("$PASTA" --version 2>&1 | head -1))"
else
	echo "pasta: $PASTA not found: its rows are left out"
fi
echo "up: namespace -> host (iperf3), down: host -> namespace (-R); ${T} s each"
printf '%-8s %6s %-5s %12s %12s\n' who mtu ip "up Gbit/s" "down Gbit/s"
for mtu in $MTUS; do
	ip netns add $NS
	ip -n $NS link set lo up
	"$TAPIRD" -f --netns $NS --control /tmp/tv6-bench-$$.sock --mtu "$mtu" \
		>/tmp/tv6-bench-$$.log 2>&1 &
	tp=$!
	for i in $(seq 50); do
		ip -n $NS -6 -br addr show tap0 2>/dev/null | grep -q fd00::100 && break
		sleep 0.1
	done
	sleep 1 # the router advertisement's default route
	for dst in 10.0.2.2 fd00::2; do
		printf '%-8s %6s %-5s %12s %12s\n' tapird "$mtu" "$([ "$dst" = fd00::2 ] && echo v6 || echo v4)" \
			"$(gbps $dst)" "$(gbps $dst -R)"
	done
	kill $tp
	wait $tp 2>/dev/null
	ip netns del $NS
	if command -v "$PASTA" >/dev/null; then
		ip netns add $NS
		# pasta maps its gateway address to the host's loopback (unless --no-map-gw)
		"$PASTA" -f --config-net --runas 0 -m "$mtu" -a 10.0.2.100 -n 24 -g 10.0.2.2 \
			-a fd00::100 -g fd00::2 --netns /run/netns/$NS >/tmp/tv6-bench-pasta-$$.log 2>&1 &
		pp=$!
		for i in $(seq 50); do
			kill -0 $pp 2>/dev/null || break
			ip -n $NS -6 -br addr 2>/dev/null | grep -q fd00::100 && break
			sleep 0.1
		done
		if ! kill -0 $pp 2>/dev/null ||
			! ip -n $NS -6 -br addr 2>/dev/null | grep -q fd00::100; then
			echo "pasta $mtu: did not attach: $(grep -v '^ ' /tmp/tv6-bench-pasta-$$.log | tail -2 | tr '\n' ' ')"
			kill $pp 2>/dev/null
			wait $pp 2>/dev/null
			ip netns del $NS
			continue
		fi
		sleep 0.5 # its neighbour entries
		for dst in 10.0.2.2 fd00::2; do
			printf '%-8s %6s %-5s %12s %12s\n' pasta "$mtu" "$([ "$dst" = fd00::2 ] && echo v6 || echo v4)" \
				"$(gbps $dst)" "$(gbps $dst -R)"
		done
		kill $pp 2>/dev/null
		wait $pp 2>/dev/null
		ip netns del $NS
	fi
done
