#!/bin/bash
# tests/integration/test_cni.sh - the CNI plugin ctl/tapir-cni driven exactly as the CNI spec
# 1.0.0 says runtimes drive plugins (SPEC.md section 2: CNI_COMMAND, CNI_CONTAINERID,
# CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH in a clean environment, the plugin's network
# configuration on stdin, the result or error object on stdout), against a tapird started
# with no link: VERSION; ADD (the result's fields, the TAP with its address in the namespace,
# a fetch from a host loopback server through the gateway); CHECK (passes; fails once the link
# is detached behind the plugin's back); DEL twice, DEL with the namespace or the daemon gone;
# bad parameters and configurations with their error codes; the CNI project's cnitool
# add/check/del when one is given (CNITOOL=PATH); then, if podman has a CNI backend here, a
# container on a tapir-cni network fetching from the host.
#
#   sudo bash tests/integration/test_cni.sh BUILD_DIR
#
# Self-contained: runs in a private mount namespace of its own (unshare -m); namespaces
# tcn-*-$$, a socket and files under a temporary directory, podman's storage there too; kills
# only what it started (by pid); traffic stays on 127.0.0.1 and inside its namespaces.
set -u
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TAP devices"
CNI=$BUILD/ctl/tapir-cni
need_exec "not built" "$TAPIRD" "$TAPIRCTL" "$CNI"

if [ -z "${TCN_INNER:-}" ]; then
	# a private mount namespace: the podman part lifts a cgroup mount there, and the
	# namespaces' bind mounts (ip netns, podman's) must be seen by tapird, run in here too
	export TCN_INNER=1
	exec unshare -m --propagation private -- "$BASH" "$0" "$@"
fi

NSA=tcn-a-$$
NSB=tcn-b-$$
NSC=tcn-c-$$
TMP=$(mktemp -d /tmp/tapir-cni.XXXXXX)
SOCK=$TMP/control.sock
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for p in "$NSA" "$NSB" "$NSC"; do ip netns del "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for COMMAND...: up to 5 s
wait_for() {
	local i
	for i in $(seq 50); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# cni COMMAND CONTAINERID NETNS IFNAME CONFFILE: run the plugin as a runtime does (a clean
# environment with only the CNI variables and PATH; an empty NETNS leaves CNI_NETNS unset);
# its stdout in $OUT (and $TMP/out.json), its exit status in $RC
cni() {
	local envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$1" CNI_CONTAINERID="$2"
		CNI_IFNAME="$4" CNI_ARGS="IgnoreUnknown=1" CNI_PATH="$BUILD/ctl")
	[ -n "$3" ] && envs+=(CNI_NETNS="$3")
	OUT=$(env -i "${envs[@]}" timeout 20 "$CNI" <"$5" 2>>"$TMP/cni.stderr")
	RC=$?
	printf '%s\n' "$OUT" >"$TMP/out.json"
}

# jget EXPR: evaluate the Python expression EXPR on the last output (parsed as j)
jget() {
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$TMP/out.json" "$1" 2>/dev/null
}

# expect_error WHAT CODE: the last run failed with exit status != 0 and printed an error object
# with this code, a message and details, and cniVersion
expect_error() {
	local code
	code=$(jget 'j["code"] if j["msg"] and "details" in j and j["cniVersion"] else "malformed"')
	if [ "$RC" != 0 ] && [ "$code" = "$2" ]; then
		ok "$1: code $2 ($(jget 'j["msg"]'))"
	else
		notok "$1: exit $RC, want code $2: $OUT"
	fi
}

# conf FILE JSON-OBJECT-BODY: a plugin configuration file with our socket
conf() {
	printf '{"cniVersion": "1.0.0", "name": "tapir", "type": "tapir-cni", "socket": "%s"%s}\n' \
		"$SOCK" "${2:+, $2}" >"$1"
}

# with_prev CONF RESULT OUT: CONF with prevResult = RESULT, as the runtime passes to CHECK/DEL
with_prev() {
	"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["prevResult"]=json.load(open(sys.argv[2])); json.dump(c, open(sys.argv[3], "w"))' "$@"
}

for n in "$NSA" "$NSB" "$NSC"; do
	ip netns add "$n" || { notok "create namespace $n"; finish; }
done
conf "$TMP/conf.json"

# --- VERSION (no daemon needed) -----------------------------------------------------------
echo '{"cniVersion": "1.0.0"}' >"$TMP/version.json"
cni VERSION "" "" "" "$TMP/version.json"
if [ "$RC" = 0 ] && [ "$(jget 'j["cniVersion"], j["supportedVersions"]')" = \
	"('1.0.0', ['0.3.0', '0.3.1', '0.4.0', '1.0.0'])" ]; then
	ok "VERSION: cniVersion 1.0.0, supportedVersions 0.3.0 0.3.1 0.4.0 1.0.0"
else
	notok "VERSION: exit $RC: $OUT"
fi

# --- no daemon yet ------------------------------------------------------------------------
cni ADD early "/run/netns/$NSA" eth0 "$TMP/conf.json"
expect_error "ADD with no tapird on the socket: try again later" 11
check "... and no interface was made in the namespace" \
	bash -c "! ip -n '$NSA' link show dev eth0 2>/dev/null"
cni DEL early "/run/netns/$NSA" eth0 "$TMP/conf.json"
if [ "$RC" = 0 ] && [ -z "$OUT" ]; then
	ok "DEL with no tapird: success (its TAPs are gone with it), nothing on stdout"
else
	notok "DEL with no tapird: exit $RC: $OUT"
fi

# --- tapird with no link ------------------------------------------------------------------
"$TAPIRD" -f --control "$SOCK" 2>>"$TMP/daemon.log" &
DPID=$!
PIDS+=("$DPID")
if wait_for test -S "$SOCK"; then ok "tapird listens with no link"; else
	notok "tapird listens with no link"
	cat "$TMP/daemon.log"
	finish
fi

# a host loopback server the container reaches through the gateway (10.0.2.2 maps to 127.0.0.1)
mkdir -p "$TMP/www"
echo "tapir-cni $$" >"$TMP/www/hello.txt"
PORT=$(free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
wait_for bash -c "ss -Htln 'sport = :$PORT' | grep -q ."

# --- ADD ----------------------------------------------------------------------------------
ID=c0ffee$$
LINK="cni-$ID:eth0"
cni ADD "$ID" "/run/netns/$NSA" eth0 "$TMP/conf.json"
cp "$TMP/out.json" "$TMP/result-a.json"
echo "# ADD result: $(tr -d ' \n' <"$TMP/out.json")"
check "ADD: exit 0" test "$RC" = 0
MAC=$(ip -n "$NSA" -o link show dev eth0 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
check "ADD: cniVersion 1.0.0" test "$(jget 'j["cniVersion"]')" = 1.0.0
check "ADD: interfaces [{name eth0, mac of eth0 in the namespace ($MAC), sandbox}]" \
	test "$(jget '[(i["name"], i["mac"], i["sandbox"]) for i in j["interfaces"]]')" = \
	"[('eth0', '$MAC', '/run/netns/$NSA')]"
check "ADD: ips [{address 10.0.2.100/24, gateway 10.0.2.2, interface 0}], no 'version' in 1.0.0" \
	test "$(jget '[(i["address"], i["gateway"], i["interface"], "version" in i) for i in j["ips"]]')" = \
	"[('10.0.2.100/24', '10.0.2.2', 0, False)]"
check "ADD: routes [{dst 0.0.0.0/0, gw 10.0.2.2}]" \
	test "$(jget '[(r["dst"], r["gw"]) for r in j["routes"]]')" = "[('0.0.0.0/0', '10.0.2.2')]"
check "ADD: dns {nameservers [10.0.2.3]}" \
	test "$(jget 'j["dns"]["nameservers"]')" = "['10.0.2.3']"
check "the TAP eth0 exists in the namespace, up" \
	bash -c "ip -n '$NSA' link show dev eth0 | grep -q '<.*,UP[,>]'"
check "eth0 has 10.0.2.100/24" bash -c "ip -n '$NSA' -o -4 addr show dev eth0 | grep -q 'inet 10.0.2.100/24 '"
check "default route via 10.0.2.2 dev eth0" \
	bash -c "ip -n '$NSA' route show default | grep -q '^default via 10.0.2.2 dev eth0'"
check "tapirctl status lists link $LINK" \
	bash -c "'$TAPIRCTL' -s '$SOCK' --json status | grep -qF '\"name\": \"$LINK\"'"
got=$(ip netns exec "$NSA" curl -s --max-time 10 "http://10.0.2.2:$PORT/hello.txt")
if [ "$got" = "tapir-cni $$" ]; then
	ok "the container fetches from the host's loopback server through the gateway"
else
	notok "the container fetches from the host's loopback server through the gateway: '$got'"
fi

# ADD again for the same attachment: the spec forbids it; the first must stay as it was
cni ADD "$ID" "/run/netns/$NSA" eth0 "$TMP/conf.json"
expect_error "a second ADD of the same attachment is refused by tapird" 1000
check "... and names the link in use" bash -c "grep -qF 'attached already' '$TMP/out.json'"

# section 2 "ADD": an interface of the requested name in the container is an error
cni ADD other$$ "/run/netns/$NSA" eth0 "$TMP/conf.json"
expect_error "ADD of another container ID onto the namespace's existing eth0" 1000
ip -n "$NSC" link add eth0 type veth peer name tcn-peer
cni ADD other$$ "/run/netns/$NSC" eth0 "$TMP/conf.json"
expect_error "ADD where the namespace has a (veth) eth0 already" 1000
check "... the veth eth0 is left as it was" bash -c "ip -n '$NSC' -d link show dev eth0 | grep -q veth"
ip -n "$NSC" link del eth0
check "... and the refused ADDs left no link in tapird" \
	bash -c "! '$TAPIRCTL' -s '$SOCK' --json status | grep -qF 'other$$'"

# --- CHECK --------------------------------------------------------------------------------
with_prev "$TMP/conf.json" "$TMP/result-a.json" "$TMP/check-a.json"
cni CHECK "$ID" "/run/netns/$NSA" eth0 "$TMP/check-a.json"
if [ "$RC" = 0 ] && [ -z "$OUT" ]; then ok "CHECK after ADD: success, nothing on stdout"; else
	notok "CHECK after ADD: exit $RC: $OUT"
fi
cni CHECK "$ID" "/run/netns/$NSA" eth0 "$TMP/conf.json"
expect_error "CHECK without prevResult" 7
sed 's/"cniVersion": "1.0.0"/"cniVersion": "0.3.1"/' "$TMP/check-a.json" >"$TMP/check-031.json"
cni CHECK "$ID" "/run/netns/$NSA" eth0 "$TMP/check-031.json"
expect_error "CHECK with cniVersion 0.3.1 (CHECK came with 0.4.0)" 1
ip -n "$NSA" addr del 10.0.2.100/24 dev eth0
cni CHECK "$ID" "/run/netns/$NSA" eth0 "$TMP/check-a.json"
expect_error "CHECK with the address removed inside the container" 1003
ip -n "$NSA" addr add 10.0.2.100/24 dev eth0
ip -n "$NSA" route add default via 10.0.2.2 dev eth0 2>/dev/null

# --- a second container: its own values, an older result format ---------------------------
conf "$TMP/conf-b.json" '"address": "10.0.7.50/24", "gateway": "10.0.7.1", "dns": "10.0.7.3", "mtu": 1500, "hostLoopback": false'
sed -i 's/"cniVersion": "1.0.0"/"cniVersion": "0.4.0"/' "$TMP/conf-b.json"
cni ADD beef$$ "/run/netns/$NSB" net1 "$TMP/conf-b.json"
cp "$TMP/out.json" "$TMP/result-b.json"
check "ADD (0.4.0, address/gateway/dns/mtu given): exit 0" test "$RC" = 0
check "... the result is what attach returned: 10.0.7.50/24 via 10.0.7.1, 'version' 4, dns 10.0.7.3" \
	test "$(jget 'j["cniVersion"], j["ips"][0]["address"], j["ips"][0]["gateway"], j["ips"][0]["version"], j["routes"][0]["gw"], j["dns"]["nameservers"]')" = \
	"('0.4.0', '10.0.7.50/24', '10.0.7.1', '4', '10.0.7.1', ['10.0.7.3'])"
check "... net1 in the second namespace has 10.0.7.50/24 and MTU 1500" \
	bash -c "ip -n '$NSB' -o -4 addr show dev net1 | grep -q 'inet 10.0.7.50/24 ' && ip -n '$NSB' link show dev net1 | grep -q 'mtu 1500 '"
check "... hostLoopback false: the gateway does not lead to the host's loopback server" \
	bash -c "! ip netns exec '$NSB' curl -s --max-time 3 'http://10.0.7.1:$PORT/hello.txt' >/dev/null"
check "... while the gateway itself answers ping" bash -c "ip netns exec '$NSB' ping -c 1 -W 2 10.0.7.1 >/dev/null"
with_prev "$TMP/conf-b.json" "$TMP/result-b.json" "$TMP/check-b.json"
cni CHECK beef$$ "/run/netns/$NSB" net1 "$TMP/check-b.json"
check "CHECK of the second container (0.4.0): success" test "$RC" = 0
cni CHECK beef$$ "/run/netns/$NSA" net1 "$TMP/check-b.json"
expect_error "CHECK naming the wrong namespace" 1003

# --- CHECK after the link is detached behind the plugin's back ----------------------------
check "tapirctl detach $LINK" bash -c "'$TAPIRCTL' -s '$SOCK' detach '$LINK' >/dev/null"
cni CHECK "$ID" "/run/netns/$NSA" eth0 "$TMP/check-a.json"
expect_error "CHECK once the link is detached" 1003
check "... and says the link is not attached" \
	bash -c "grep -qF 'not attached in tapird' '$TMP/out.json'"

# --- DEL ------------------------------------------------------------------------------------
cni ADD "$ID" "/run/netns/$NSA" eth0 "$TMP/conf.json"
check "ADD again after the detach: exit 0" test "$RC" = 0
cni DEL "$ID" "/run/netns/$NSA" eth0 "$TMP/check-a.json"
if [ "$RC" = 0 ] && [ -z "$OUT" ]; then ok "DEL: success, nothing on stdout"; else
	notok "DEL: exit $RC: $OUT"
fi
check "... the TAP is gone from the namespace" wait_for bash -c "! ip -n '$NSA' link show dev eth0"
check "... and the link from tapird" \
	bash -c "! '$TAPIRCTL' -s '$SOCK' --json status | grep -qF '\"name\": \"$LINK\"'"
cni DEL "$ID" "/run/netns/$NSA" eth0 "$TMP/check-a.json"
check "DEL again: success (idempotent)" test "$RC" = 0 -a -z "$OUT"
ip netns del "$NSB"
cni DEL beef$$ "" net1 "$TMP/check-b.json"
check "DEL with the namespace deleted and CNI_NETNS unset: success" test "$RC" = 0 -a -z "$OUT"
check "... the second link is detached too" \
	bash -c "! '$TAPIRCTL' -s '$SOCK' --json status | grep -qF 'beef$$'"

# --- runtimeConfig.portMappings (the portMappings capability): forwards into the container --
HP=$(free_port)
printf '{"cniVersion": "1.0.0", "name": "tapir", "type": "tapir-cni", "socket": "%s", "runtimeConfig": {"portMappings": [{"hostPort": %d, "containerPort": 8080, "protocol": "tcp", "hostIP": "127.0.0.1"}]}}\n' \
	"$SOCK" "$HP" >"$TMP/ports.json"
mkdir -p "$TMP/cwww"
echo "served-by-container $$" >"$TMP/cwww/index.html"
ip netns exec "$NSC" ip link set lo up
cni ADD ports$$ "/run/netns/$NSC" eth0 "$TMP/ports.json"
check "ADD with a port mapping 127.0.0.1:$HP -> 8080: exit 0" test "$RC" = 0
ip netns exec "$NSC" "$PY" -m http.server --bind 10.0.2.100 --directory "$TMP/cwww" 8080 \
	>/dev/null 2>&1 &
PIDS+=($!)
wait_for ip netns exec "$NSC" bash -c "ss -Htln 'sport = :8080' | grep -q ."
got=$(curl -s --max-time 10 "http://127.0.0.1:$HP/")
if [ "$got" = "served-by-container $$" ]; then
	ok "the host reaches the container's server through the port mapping"
else
	notok "the host reaches the container's server through the port mapping: '$got'"
fi
check "... tapirctl fwd list --link shows it" \
	bash -c "'$TAPIRCTL' -s '$SOCK' fwd list --link 'cni-ports$$:eth0' | grep -q ':$HP'"
cni DEL ports$$ "/run/netns/$NSC" eth0 "$TMP/ports.json"
check "DEL: the port mapping's host socket is closed with the link" \
	bash -c "[ '$RC' = 0 ] && [ -z \"\$(ss -Htln 'sport = :$HP')\" ]"
printf '{"cniVersion": "1.0.0", "name": "tapir", "type": "tapir-cni", "socket": "%s", "runtimeConfig": {"portMappings": [{"hostPort": %d, "containerPort": 8080, "hostIP": "127.0.0.1"}]}}\n' \
	"$SOCK" "$PORT" >"$TMP/ports-busy.json"
cni ADD ports$$ "/run/netns/$NSC" eth0 "$TMP/ports-busy.json"
expect_error "ADD with a port mapping whose host port is taken (the test's HTTP server)" 1000
check "... the link is detached again, and eth0 gone" \
	bash -c "! '$TAPIRCTL' -s '$SOCK' --json status | grep -qF 'ports$$' && ! ip -n '$NSC' link show dev eth0 2>/dev/null"

# --- a container ID longer than a link name: a stable shortening -------------------------
LONGID=cnitool-$(printf 'a%.0s' $(seq 150))
cni ADD "$LONGID" "/run/netns/$NSC" eth0 "$TMP/conf.json"
check "ADD with a 158-character container ID: exit 0" test "$RC" = 0
lname=$("$TAPIRCTL" -s "$SOCK" --json status | "$PY" -c 'import json,sys; print(" ".join(l["name"] for l in json.load(sys.stdin)["links"]))')
check "... its link name is 127 characters, cni-HEAD~HASH:eth0 ($lname)" \
	bash -c "[[ '$lname' =~ ^cni-cnitool-a+~[0-9a-f]{16}:eth0$ ]] && [ ${#lname} = 127 ]"
cni DEL "$LONGID" "/run/netns/$NSC" eth0 "$TMP/conf.json"
check "... DEL finds the same name" \
	bash -c "[ '$RC' = 0 ] && ! '$TAPIRCTL' -s '$SOCK' --json status | grep -qF 'cni-cnitool'"

# --- bad input ----------------------------------------------------------------------------
cni "" "$ID" "/run/netns/$NSC" eth0 "$TMP/conf.json"
expect_error "no CNI_COMMAND" 4
cni ADD "$ID" "" eth0 "$TMP/conf.json"
expect_error "ADD without CNI_NETNS" 4
check "... the message names CNI_NETNS" bash -c "grep -qF 'CNI_NETNS' '$TMP/out.json'"
cni ADD "bad/id" "/run/netns/$NSC" eth0 "$TMP/conf.json"
expect_error "a container ID with '/'" 4
cni ADD "$ID" "/run/netns/$NSC" "much-too-long-ifname" "$TMP/conf.json"
expect_error "an interface name over 15 characters" 4
echo '{"cniVersion": "1.0.0", "name": ' >"$TMP/bad.json"
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/bad.json"
expect_error "a configuration that is not JSON" 6
conf "$TMP/v020.json"
sed -i 's/"cniVersion": "1.0.0"/"cniVersion": "0.2.0"/' "$TMP/v020.json"
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/v020.json"
expect_error "cniVersion 0.2.0" 1
check "... the error carries the configuration's cniVersion" test "$(jget 'j["cniVersion"]')" = 0.2.0
conf "$TMP/badaddr.json" '"address": "10.0.2.300/24"'
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/badaddr.json"
expect_error "address 10.0.2.300/24" 7
conf "$TMP/ipam.json" '"ipam": {"type": "host-local", "subnet": "10.0.9.0/24"}'
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/ipam.json"
expect_error "an ipam section (unsupported field)" 2
conf "$TMP/mtu.json" '"mtu": 100'
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/mtu.json"
expect_error "mtu 100: tapird refuses it" 1000
check "... with tapird's own message naming mtu" bash -c "grep -q 'mtu' '$TMP/out.json'"
cni ADD "$ID" "/run/netns/tcn-none-$$" eth0 "$TMP/conf.json"
expect_error "a namespace that does not exist" 1000
check "... nothing is left attached after the refusals" \
	test "$("$TAPIRCTL" -s "$SOCK" --json status | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["links"]))')" = 0
head -c 1100000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
cni ADD "$ID" "/run/netns/$NSC" eth0 "$TMP/big.json"
expect_error "stdin over 1 MiB" 5
check "tapird still runs" kill -0 "$DPID"

# --- the CNI project's cnitool (libcni: what containerd and CRI-O use) ----------------------
# Not packaged in Debian 12 (golang-github-appc-cni-dev has libcni without cnitool/): set
# CNITOOL=PATH to a build of it, e.g. cnitool/cnitool.go of the cni repository's v1.1.2 built
# with Debian's golang-go in GOPATH mode against /usr/share/gocode (that package's libcni).
CNITOOL=${CNITOOL:-$(command -v cnitool)}
if [ -z "$CNITOOL" ]; then
	skip "cnitool add/check/del: no cnitool (not in Debian 12; CNITOOL=PATH to use a build)"
else
	mkdir -p "$TMP/net.d"
	printf '{"cniVersion": "1.0.0", "name": "tcn-tapir", "plugins": [{"type": "tapir-cni", "socket": "%s"}]}\n' \
		"$SOCK" >"$TMP/net.d/tcn-tapir.conflist"
	ct() { NETCONFPATH=$TMP/net.d CNI_PATH=$BUILD/ctl timeout 20 "$CNITOOL" "$@" "/run/netns/$NSC"; }
	if ct add tcn-tapir >"$TMP/out.json" 2>>"$TMP/cni.stderr" &&
		[ "$(jget 'j["ips"][0]["address"], j["interfaces"][0]["name"]')" = "('10.0.2.100/24', 'eth0')" ]; then
		ok "cnitool add: the result has 10.0.2.100/24 on eth0"
	else
		notok "cnitool add: $(cat "$TMP/out.json")"
	fi
	check "cnitool check" ct check tcn-tapir
	check "cnitool del" ct del tcn-tapir
	check "cnitool del again" ct del tcn-tapir
	check "... nothing left attached" \
		test "$("$TAPIRCTL" -s "$SOCK" --json status | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["links"]))')" = 0
fi

# --- podman with a CNI backend --------------------------------------------------------------
# Debian 12's podman 4.3 has both backends (netavark by default); with network_backend="cni"
# in a containers.conf of the test's own (CONTAINERS_CONF), its own storage (--root) and
# network_config_dir, podman runs the tapir-cni conflist from cni_plugin_dirs.
podman_test() {
	local P=(podman --root "$TMP/podman/root" --runroot "$TMP/podman/run") got name=tcn-pod-$$
	mkdir -p "$TMP/podman/net.d" "$TMP/rootfs/bin" "$TMP/cnibin"
	cp "$CNI" "$TMP/cnibin/tapir-cni"
	# podman as root raises RLIMIT_NOFILE/NPROC to 1048576/4194304, which fails where the
	# test runs with lower hard limits and no CAP_SYS_RESOURCE: ask for what we have
	local nofile nproc
	nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
	[ "$nofile" = unlimited ] || [ "$nofile" -gt 4096 ] && nofile=4096
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ] && nproc=4096
	cat >"$TMP/podman/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		[network]
		network_backend = "cni"
		cni_plugin_dirs = ["$TMP/cnibin", "/usr/lib/cni"]
		network_config_dir = "$TMP/podman/net.d"
		[engine]
		tmp_dir = "$TMP/podman/tmp"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
	EOF
	cat >"$TMP/podman/net.d/tcn-tapir.conflist" <<-EOF
		{"cniVersion": "1.0.0", "name": "tcn-tapir",
		 "plugins": [{"type": "tapir-cni", "socket": "$SOCK"}]}
	EOF
	export CONTAINERS_CONF=$TMP/podman/containers.conf
	# crun refuses hybrid cgroups (cgroup2 on /sys/fs/cgroup/unified beside v1 controllers):
	# lift that mount, in this script's private mount namespace only
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
		[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		umount /sys/fs/cgroup/unified && echo "# hybrid cgroups: /sys/fs/cgroup/unified lifted"
	fi
	if [ "$("${P[@]}" info --format '{{.Host.NetworkBackend}}' 2>"$TMP/podman.err")" != cni ]; then
		skip "podman: no CNI backend here ($(tail -1 "$TMP/podman.err"))"
		return
	fi
	# the image: busybox-static alone (its wget crashes on this Debian build: nc does HTTP)
	cp /bin/busybox "$TMP/rootfs/bin/busybox"
	for a in sh nc cat printf tail httpd; do ln -s busybox "$TMP/rootfs/bin/$a"; done
	mkdir -p "$TMP/rootfs/etc" "$TMP/rootfs/proc" "$TMP/rootfs/sys" "$TMP/rootfs/dev" \
		"$TMP/rootfs/www"
	echo "served-by-podman $$" >"$TMP/rootfs/www/index.html"
	echo 'root:x:0:0:root:/:/bin/sh' >"$TMP/rootfs/etc/passwd"
	echo 'root:x:0:' >"$TMP/rootfs/etc/group"
	touch "$TMP/rootfs/etc/hosts" "$TMP/rootfs/etc/hostname" "$TMP/rootfs/etc/resolv.conf"
	tar -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" .
	"${P[@]}" import -q "$TMP/rootfs.tar" localhost/tcn-busybox >/dev/null 2>>"$TMP/podman.err"
	timeout 120 "${P[@]}" run --rm --name "$name" --network tcn-tapir localhost/tcn-busybox \
		/bin/sh -c "printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | nc -w 10 10.0.2.2 $PORT | tail -1;
			echo --; cat /etc/resolv.conf" >"$TMP/podman.out" 2>>"$TMP/podman.err"
	got=$(head -1 "$TMP/podman.out")
	if [ "$got" = "tapir-cni $$" ]; then
		ok "podman (CNI backend): a container on the tapir-cni network fetches from the host"
	else
		notok "podman (CNI backend): the container's fetch: '$got' ($(tail -3 "$TMP/podman.err" | tr '\n' ' '))"
	fi
	check "... podman wrote the result's nameserver 10.0.2.3 into the container's resolv.conf" \
		grep -q '^nameserver 10.0.2.3$' "$TMP/podman.out"
	check "... tapird logged the attach of the container's namespace" \
		grep -q 'cni-[0-9a-f]\{64\}:eth0: eth0 in /run/netns/' "$TMP/daemon.log"
	# a published port: podman 4.3 binds each -p host port itself (its port reservation,
	# made for DNAT plugins), so a forward's listening socket cannot have it; publish with
	# tapirctl on the container's link instead (README, "CNI")
	local hp id
	hp=$(free_port)
	id=$(timeout 60 "${P[@]}" run -d --name "$name-p" --network tcn-tapir \
		localhost/tcn-busybox /bin/httpd -f -p 8080 -h /www 2>>"$TMP/podman.err")
	if [ -n "$id" ] && "$TAPIRCTL" -s "$SOCK" fwd add --link "cni-$id:eth0" "127.0.0.1:$hp:8080" \
		>/dev/null 2>>"$TMP/podman.err"; then
		got=""
		for _ in $(seq 50); do
			got=$(curl -s --max-time 5 "http://127.0.0.1:$hp/") && break
			sleep 0.1
		done
	else
		got="podman run -d or fwd add failed: $(tail -2 "$TMP/podman.err" | tr '\n' ' ')"
	fi
	if [ "$got" = "served-by-podman $$" ]; then
		ok "podman container's link cni-ID:eth0 takes a forward (tapirctl fwd add --link): the host reaches its server"
	else
		notok "a forward into the podman container's link: '$got'"
	fi
	timeout 60 "${P[@]}" rm -f -t 0 "$name-p" >/dev/null 2>>"$TMP/podman.err"
	check "... podman rm: the forward's host socket is closed with the link" \
		bash -c "[ -z \"\$(ss -Htln 'sport = :$hp')\" ]"
	check "... and after podman removed them, tapird has no link left" \
		test "$("$TAPIRCTL" -s "$SOCK" --json status | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["links"]))')" = 0
	"${P[@]}" rmi -f localhost/tcn-busybox >/dev/null 2>&1
	unset CONTAINERS_CONF
}
case "$BUILD" in
*asan*) skip "podman with the CNI backend: plain build only (the plugin runs the same code)" ;;
*)
	if ! command -v podman >/dev/null || [ ! -x /bin/busybox ]; then
		skip "podman with the CNI backend: podman or busybox-static not installed (tests/deps.sh)"
	else
		podman_test
	fi
	;;
esac

check "no sanitizer report in the plugin's or tapird's output" \
	bash -c "! grep -q 'Sanitizer' '$TMP/cni.stderr' '$TMP/daemon.log'"
finish
