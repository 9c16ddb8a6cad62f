#!/bin/bash
# tests/integration/test_dhcp.sh - tapird's DHCP server against busybox's udhcpc, a real client.
#
# A namespace of our own ("the container") gets a TAP that nothing configures; udhcpc in it
# asks for a lease and its script records what it got and configures the TAP with it. Checks:
#   (a) tapird --no-configure: the lease is the link's address 10.0.2.100/24, router and
#       server id 10.0.2.2, DNS 10.0.2.3, MTU 65520, lease 86400 s; with the lease applied,
#       the container pings the gateway
#   (b) the same with udhcpc -B (broadcast replies, RFC 2131 4.1)
#   (c) udhcpc -R releases the lease on exit: dhcp_releases counted
#   (d) the slirp4netns compat mode without -c (as slirp4netns's own dhcp test runs it): the
#       lease is 10.0.2.15, router 10.0.2.2, DNS 10.0.2.3, MTU 1500 (slirp4netns's default);
#       with --cidr 10.9.8.0/24 --mtu 9000: 10.9.8.15, router 10.9.8.2, MTU 9000
#   (e) dhcp = no in the link's configuration: udhcpc gets no lease, nothing answered
#   and: every tapird survived and its log has no sanitizer report.
#
#   bash tests/integration/test_dhcp.sh BUILD_DIR     (as root; or BUILD=... in the env)
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" last.
# Traffic stays inside the namespaces this script creates and deletes.
set -u
. "$(dirname "$0")/lib.sh"

need_root "namespaces, TAP devices"
need_exec "missing" "$TAPIRD" "$TAPIRCTL"
UDHCPC=$(command -v udhcpc || true)
if [ -z "$UDHCPC" ]; then
	echo "$(basename "$0"): udhcpc missing (tests/deps.sh installs the udhcpc package)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

NS=tdh-a-$$
NS2=tdh-c-$$
NS3=tdh-o-$$
WORK=$(mktemp -d /tmp/tdh-dhcp-$$.XXXXXX)
chmod 755 "$WORK"
ln -s "$TAPIRD" "$WORK/slirp4netns" # the name selects the compat mode
cleanup_on_exit "$NS" "$NS2" "$NS3"

# udhcpc's script: on bound, record the lease as KEY=VALUE lines and apply it to the TAP
cat >"$WORK/script.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
	{
		echo "ip=$ip"; echo "subnet=$subnet"; echo "router=$router"; echo "dns=$dns"
		echo "mtu=$mtu"; echo "lease=$lease"; echo "serverid=$serverid"
	} >"$LEASE_FILE"
	ip addr flush dev "$interface"
	ip addr add "$ip/$subnet" dev "$interface"
	ip route replace default via "$router" dev "$interface"
	;;
esac
exit 0
EOF
chmod 755 "$WORK/script.sh"

# wait_tap NS: tap0 exists in NS (up to 10 s)
wait_tap() {
	local i
	for i in $(seq 100); do
		ip -n "$1" link show tap0 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# dhcp NS LEASE_FILE [UDHCPC ARGS...]: bring tap0 up and run udhcpc once (bounded: 5
# discovers 1 s apart, then give up); its output goes to LEASE_FILE.log
dhcp() {
	local ns=$1 lf=$2
	shift 2
	rm -f "$lf"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set tap0 up
	LEASE_FILE=$lf timeout 20 ip netns exec "$ns" "$UDHCPC" -f -q -n -t 5 -T 1 -A 1 -i tap0 \
		-s "$WORK/script.sh" -O mtu "$@" >"$lf.log" 2>&1
}

# lease_is FILE KEY VALUE: the lease recorded KEY=VALUE
lease_is() {
	grep -qx "$2=$3" "$1" 2>/dev/null
}

# --- (a)-(c) tapird --no-configure ---------------------------------------------------------------
SOCK=$WORK/control.sock
ns_with_tapird "$NS" "$SOCK" "$WORK/tapird.log" --no-configure --log-level warn
TPID=$TAPIRD_PID
if ! wait_tap "$NS"; then
	notok "tapird --no-configure: tap0 appears ($(tail -3 "$WORK/tapird.log"))"
	finish
fi
check "(a) --no-configure: tap0 has no IPv4 address before DHCP" \
	bash -c "! ip -n $NS -4 addr show tap0 | grep -q inet"
dhcp "$NS" "$WORK/a.lease"
if lease_is "$WORK/a.lease" ip 10.0.2.100; then
	ok "(a) udhcpc's lease is the link's address 10.0.2.100"
else
	notok "(a) udhcpc's lease is the link's address: $(cat "$WORK/a.lease" "$WORK/a.lease.log" 2>&1 | tail -8)"
fi
check "(a) netmask 255.255.255.0, router 10.0.2.2, server id 10.0.2.2" \
	bash -c "grep -qx subnet=255.255.255.0 '$WORK/a.lease' && grep -qx router=10.0.2.2 '$WORK/a.lease' &&
		grep -qx serverid=10.0.2.2 '$WORK/a.lease'"
check "(a) DNS 10.0.2.3, MTU 65520 (the link's), lease 86400 s" \
	bash -c "grep -qx dns=10.0.2.3 '$WORK/a.lease' && grep -qx mtu=65520 '$WORK/a.lease' &&
		grep -qx lease=86400 '$WORK/a.lease'"
check "(a) with the lease applied, the container pings the gateway" \
	bash -c "timeout 10 ip netns exec $NS ping -c 1 -W 3 10.0.2.2 >/dev/null"
offers=$(counter "$SOCK" dhcp_offers)
acks=$(counter "$SOCK" dhcp_acks)
check "(a) counted: an OFFER and an ACK (dhcp_offers ${offers:-?}, dhcp_acks ${acks:-?})" \
	test "${offers:-0}" -ge 1 -a "${acks:-0}" -ge 1

ip -n "$NS" addr flush dev tap0
dhcp "$NS" "$WORK/b.lease" -B
check "(b) udhcpc -B (broadcast replies): the same lease, router, DNS, MTU" \
	bash -c "grep -qx ip=10.0.2.100 '$WORK/b.lease' && grep -qx router=10.0.2.2 '$WORK/b.lease' &&
		grep -qx dns=10.0.2.3 '$WORK/b.lease' && grep -qx mtu=65520 '$WORK/b.lease'"

rel0=$(counter "$SOCK" dhcp_releases)
ip -n "$NS" addr flush dev tap0
# udhcpc -q exits before it is BOUND and so releases nothing: a udhcpc that stays, ended by
# SIGTERM once bound, releases (-R) from the bound state
rm -f "$WORK/c.lease"
LEASE_FILE=$WORK/c.lease timeout 30 ip netns exec "$NS" "$UDHCPC" -f -R -t 5 -T 1 -A 1 \
	-i tap0 -s "$WORK/script.sh" >"$WORK/c.lease.log" 2>&1 &
UPID=$!
for _ in $(seq 100); do
	[ -s "$WORK/c.lease" ] && break
	sleep 0.1
done
sleep 0.2
kill -TERM $UPID 2>/dev/null
wait $UPID 2>/dev/null
rel1=""
for _ in $(seq 20); do
	rel1=$(counter "$SOCK" dhcp_releases)
	[ "${rel1:-0}" -gt "${rel0:-0}" ] && break
	sleep 0.1
done
check "(c) udhcpc -R: the lease obtained, released at exit (dhcp_releases ${rel0:-?} -> ${rel1:-?})" \
	bash -c "grep -qx ip=10.0.2.100 '$WORK/c.lease' && [ '${rel1:-0}' -gt '${rel0:-0}' ]"
mal=$(counter "$SOCK" drop_dhcp_malformed)
check "(a-c) no message of udhcpc's counted malformed (${mal:-?})" test "${mal:-x}" = 0
check "(a-c) tapird still running" kill -0 $TPID

# --- (d) slirp4netns compat mode without -c ------------------------------------------------------
ip netns add "$NS2"
"$WORK/slirp4netns" --netns-type=path "/run/netns/$NS2" tap0 >"$WORK/s4n.log" 2>&1 &
SPID=$!
pids+=($SPID)
if ! wait_tap "$NS2"; then
	notok "(d) slirp4netns compat: tap0 appears ($(tail -3 "$WORK/s4n.log"))"
else
	dhcp "$NS2" "$WORK/d.lease"
	if lease_is "$WORK/d.lease" ip 10.0.2.15; then
		ok "(d) slirp4netns compat without -c: the lease is 10.0.2.15, as libslirp's"
	else
		notok "(d) slirp4netns compat without -c: the lease is 10.0.2.15: $(cat "$WORK/d.lease" "$WORK/d.lease.log" 2>&1 | tail -8)"
	fi
	check "(d) router 10.0.2.2, DNS 10.0.2.3, MTU 1500 (slirp4netns's default), netmask /24" \
		bash -c "grep -qx router=10.0.2.2 '$WORK/d.lease' && grep -qx dns=10.0.2.3 '$WORK/d.lease' &&
			grep -qx mtu=1500 '$WORK/d.lease' && grep -qx subnet=255.255.255.0 '$WORK/d.lease'"
	check "(d) with the lease applied, the container pings the gateway" \
		bash -c "timeout 10 ip netns exec $NS2 ping -c 1 -W 3 10.0.2.2 >/dev/null"
fi
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
ip netns del "$NS2"
ip netns add "$NS2"
"$WORK/slirp4netns" --cidr 10.9.8.0/24 --mtu 9000 --netns-type=path "/run/netns/$NS2" tap0 \
	>"$WORK/s4n2.log" 2>&1 &
SPID=$!
pids+=($SPID)
if wait_tap "$NS2"; then
	dhcp "$NS2" "$WORK/d2.lease"
	check "(d) --cidr 10.9.8.0/24 --mtu 9000: lease 10.9.8.15, router 10.9.8.2, DNS 10.9.8.3, MTU 9000" \
		bash -c "grep -qx ip=10.9.8.15 '$WORK/d2.lease' && grep -qx router=10.9.8.2 '$WORK/d2.lease' &&
			grep -qx dns=10.9.8.3 '$WORK/d2.lease' && grep -qx mtu=9000 '$WORK/d2.lease'"
else
	notok "(d) --cidr: tap0 appears ($(tail -3 "$WORK/s4n2.log"))"
fi
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null

# --- (e) dhcp = no ---------------------------------------------------------------------------------
printf '[link]\nnetns = %s\nconfigure = no\ndhcp = no\n' "$NS3" >"$WORK/off.conf"
ip netns add "$NS3"
"$TAPIRD" -f --config "$WORK/off.conf" --control "$WORK/off.sock" --log-level warn \
	>"$WORK/off.log" 2>&1 &
OPID=$!
pids+=($OPID)
if wait_tap "$NS3"; then
	dhcp "$NS3" "$WORK/e.lease" -t 2
	check "(e) dhcp = no: udhcpc gets no lease" test ! -s "$WORK/e.lease"
	off=$(counter "$WORK/off.sock" dhcp_offers)
	check "(e) dhcp = no: no DHCP reply counted (dhcp_offers ${off:-?})" test "${off:-x}" = 0
else
	notok "(e) dhcp = no: tap0 appears ($(tail -3 "$WORK/off.log"))"
fi
check "(e) tapird with dhcp = no still running" kill -0 $OPID

# sanitizer builds: a report in any daemon log is a failure, even when the exit status hid it
kill "$TPID" "$OPID" 2>/dev/null
wait "$TPID" "$OPID" 2>/dev/null
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK"/*.log >/dev/null 2>&1; then
	notok "no sanitizer report in the daemons' logs: $(grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK"/*.log)"
else
	ok "no sanitizer report in the daemons' logs"
fi
finish
