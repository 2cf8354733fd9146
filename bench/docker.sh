#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docker.sh [N] [REPS] - networks and containers (issue 9: NAT, published ports, IPAM):
#
#  1. `vnet up --sandbox` of N containers (default 1000) on one network, one published port
#     each ("<8000+i>:80"), beside `vnet up` of the same topology written explicitly (nodes,
#     a bridge, veths with the addresses IPAM gave, default routes; no NAT, no IPAM): the
#     difference over N is what a container costs beyond its namespace and veth. Goal:
#     <= 0.5 ms. REPS rounds (default 3), medians, `vnet down` between them.
#  2. Adding one container: `vnet up` of the file with N containers, then the timed
#     `vnet up --json` of the file with N+1 (then `vnet down`), at 10 and at N containers;
#     also the observe/apply times that --json reports. Goal: the same at N as at 10,
#     within noise (the goal printed for N: the figure at 10 plus the spread of its rounds,
#     at least 10% of it).
#  3. The anchor: Debian's CNI `bridge` plugin (containernetworking-plugins) with
#     isGateway and ipMasq (iptables-nft rules) and host-local IPAM, attaching one container
#     (CNI ADD) to a network already holding 10 and one holding 100 containers (1000 are too
#     slow to set up through CNI); CNI_REPS ADDs (default 5) each, each followed by its DEL
#     so that the network keeps its size; medians. Each network lives in a "host" namespace
#     of its own (the plugin runs there through `ip netns exec`, so its bridge, sysctls and
#     iptables rules exist only there), containers in namespaces of their own, the IPAM
#     store in the work dir. Beside it, the same with the `portmap` plugin chained after
#     (one published port per container, the CNI form of `docker run -p`). The plugin's own
#     run is timed, not the `ip netns exec` that enters the namespace (about 3 ms here).
#
# Each timed command starts on a quiet machine (settle; wait_freed after a teardown), as in
# star.sh. Everything is built in namespaces of this run (vnet --sandbox; the anchors' are
# named the same way) with a private state dir, and removed on exit, even on failure;
# nothing touches the root namespace's links, addresses, routes or firewall.
#
# Output on stdout, one tab-separated line per figure:
#   operation  vnet-us  anchor-us  goal-us
# (a field is "-" when it does not apply); progress and problems on stderr.
# Needs root, iproute2, ping, jq; for the anchor the packages containernetworking-plugins
# and iptables (installed with apt-get if missing). Env: VNET_BIN (default build/vnet),
# CNI_REPS (default 5), DOCKER_ONLY=anchor|vnet (run one part only).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
N=${1:-1000}
REPS=${2:-3}
CREPS=${CNI_REPS:-5}
ONLY=${DOCKER_ONLY:-}
VNET=${VNET_BIN:-$here/../build/vnet}
case $N$REPS$CREPS in *[!0-9]*) echo "docker.sh: N, REPS and CNI_REPS are numbers" >&2; exit 2 ;; esac
if [ "$N" -lt 11 ] || [ "$N" -gt 60000 ]; then echo "docker.sh: N must be 11..60000" >&2; exit 2; fi
case $ONLY in '' | anchor | vnet) ;; *) echo "docker.sh: DOCKER_ONLY is anchor or vnet" >&2; exit 2 ;; esac
run_vnet() { [ "$ONLY" != anchor ]; }
run_anchor() { [ "$ONLY" != vnet ]; }

say() { printf 'docker.sh[N=%s]: %s\n' "$N" "$*" >&2; }
die() {
	say "FAILED: $*"
	[ -s "${log:-/dev/null}" ] && tail -n 20 "$log" | sed 's/^/    /' >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root"
command -v ip >/dev/null || die "needs iproute2 (ip)"
command -v jq >/dev/null || die "needs jq"
if run_vnet; then
	[ -x "$VNET" ] || die "no vnet binary at $VNET (./dev build, or set VNET_BIN)"
	command -v ping >/dev/null || die "needs ping"
fi

# Names unique to this run, so that cleanup never touches anything else.
D=vbdk$$   # vnet, networks/containers: namespaces D-host, D-c1..
E=vbdke$$  # vnet, the same written explicitly
C=vbcni$$  # the CNI anchor: C-b10 (host of network b10), C-b10-1 (a container), ...
bench_init docker "$D" "$E" "$C"
log=$work/log
: >"$log"

spread() { echo $(($(printf '%s\n' "$@" | sort -n | tail -n 1) - $(minimum "$@"))); }
row() { printf '%s\t%s\t%s\t%s\n' "$@"; }

# ==== vnet: networks and containers ====

# gen_nat K: K containers c1..cK on network br0 (10.0.0.0/16, gateway 10.0.0.1 by default),
# container i publishing host port 8000+i to its port 80.
gen_nat() {
	awk -v n="$1" 'BEGIN {
		print "# bench/docker.sh: " n " containers on one network, one published port each"
		print "networks:"
		print "  br0: {subnet: 10.0.0.0/16}"
		print "containers:"
		for (k = 1; k <= n; k++) printf "  c%d: {networks: [br0], publish: [\"%d:80\"]}\n", k, 8000 + k
	}'
}

# gen_explicit ADDRS: the same as nodes, a bridge and veths; ADDRS has "k address/prefix"
# lines, the addresses IPAM gave (veths named as vnet names a container's: ve-cK).
gen_explicit() {
	awk 'BEGIN { print "# bench/docker.sh: the containers written explicitly (no NAT, no IPAM)" }
	{ a[$1] = $2; if ($1 > n) n = $1 }
	END {
		print "nodes:"
		for (k = 1; k <= n; k++) printf "  c%d: {routes: [default via 10.0.0.1]}\n", k
		print "bridges:"
		print "  br0: {addresses: 10.0.0.1/16}"
		print "veths:"
		for (k = 1; k <= n; k++) printf "  - ve-c%d: {master: br0}\n    c%d/eth0: {addresses: %s}\n", k, k, a[k]
	}' "$1"
}

addr_of() { ip -n "$1" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4; exit}'; }
count_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -cE "^$1-" || true; }

# pings NAME ADDR: container c1 of topology NAME reaches the gateway and ADDR.
pings() {
	local dst
	for dst in 10.0.0.1 "$2"; do
		for _ in 1 2 3; do
			ip netns exec "$1-c1" ping -q -c 1 -W 2 "${dst%/*}" >/dev/null 2>&1 && continue 2
		done
		die "$1-c1 cannot ping $dst"
	done
}

# check_up NAME FILE K WHAT [nat]: vnet diff is clean, K containers exist and reach each other.
check_up() {
	local c a
	"$VNET" diff "$2" --sandbox --name "$1" >>"$log" 2>&1 || die "vnet diff after $4: the kernel differs from the file"
	c=$(count_ns "$1")
	[ "$c" = $(($3 + 1)) ] || die "$4: $c namespaces, expected $(($3 + 1))"
	a=$(addr_of "$1-c$3")
	[ -n "$a" ] || die "$4: $1-c$3 has no address on eth0"
	pings "$1" "$a"
	if [ "${5:-}" = nat ] && command -v nft >/dev/null; then
		ip netns exec "$1-host" nft list table ip "vnet-$1" >/dev/null 2>>"$log" ||
			die "$4: no nftables table ip vnet-$1 in $1-host"
	fi
}

# down NAME K: vnet down, then wait until the kernel has freed the K+1 namespaces.
down() {
	local before
	before=$(slab_ns)
	"$VNET" down "$1" >/dev/null 2>>"$log" || die "vnet down $1"
	[ "$(count_ns "$1")" = 0 ] || die "vnet down $1 left namespaces"
	wait_freed $(($2 + 1)) "$before"
}

# json_us KEY: KEY (milliseconds) of the last `vnet up --json`, in us; "-" if not there.
json_us() { jq -r --arg k "$1" 'if (.[$k] | type) == "number" then (.[$k] * 1000 | floor) else "-" end' "$work/out" 2>/dev/null || echo -; }

declare -a nu xu a1 a1o a1a a1i a1n s1 s1o s1a s1i s1n
if run_vnet; then
	gen_nat "$N" >"$work/nat$N.yaml"
	gen_nat $((N + 1)) >"$work/nat$((N + 1)).yaml"
	gen_nat 10 >"$work/nat10.yaml"
	gen_nat 11 >"$work/nat11.yaml"
	"$VNET" validate "$work/nat$N.yaml" >>"$log" 2>&1 || die "vnet validate of the networks/containers file"
	explicit=$work/explicit$N.yaml

	for ((r = 1; r <= REPS; r++)); do
		say "round $r/$REPS: $N containers"
		settle
		timed "$VNET" up "$work/nat$N.yaml" --sandbox --name "$D" || die "vnet up ($N containers)"
		nu+=("$T")
		if [ "$r" = 1 ]; then
			# the explicit file gets the addresses IPAM gave
			for ((k = 1; k <= N; k++)); do echo "$k $(addr_of "$D-c$k")"; done >"$work/addrs"
			awk 'NF != 2 {exit 1}' "$work/addrs" || die "a container has no address on eth0"
			gen_explicit "$work/addrs" >"$explicit"
		else
			[ "$(addr_of "$D-c1") $(addr_of "$D-c$N")" = "$(awk -v n="$N" '$1 == 1 {a = $2} $1 == n {b = $2} END {print a, b}' "$work/addrs")" ] ||
				die "round $r: IPAM gave other addresses than in round 1"
		fi
		check_up "$D" "$work/nat$N.yaml" "$N" "vnet up ($N containers)" nat

		settle
		timed "$VNET" up "$work/nat$((N + 1)).yaml" --sandbox --name "$D" --json || die "vnet up (container $((N + 1)))"
		a1+=("$T") a1o+=("$(json_us observe_ms)") a1a+=("$(json_us apply_ms)")
		a1i+=("$(json_us ipam_ms)") a1n+=("$(json_us nat_ms)")
		check_up "$D" "$work/nat$((N + 1)).yaml" $((N + 1)) "vnet up (container $((N + 1)))" nat
		down "$D" $((N + 1))

		settle
		timed "$VNET" up "$explicit" --sandbox --name "$E" || die "vnet up (the explicit file)"
		xu+=("$T")
		check_up "$E" "$explicit" "$N" "vnet up (the explicit file)"
		down "$E" "$N"

		say "round $r/$REPS: 10 containers"
		"$VNET" up "$work/nat10.yaml" --sandbox --name "$D" >/dev/null 2>>"$log" || die "vnet up (10 containers)"
		settle
		timed "$VNET" up "$work/nat11.yaml" --sandbox --name "$D" --json || die "vnet up (container 11)"
		s1+=("$T") s1o+=("$(json_us observe_ms)") s1a+=("$(json_us apply_ms)")
		s1i+=("$(json_us ipam_ms)") s1n+=("$(json_us nat_ms)")
		check_up "$D" "$work/nat11.yaml" 11 "vnet up (container 11)" nat
		down "$D" 11
	done
fi

# ==== the anchor: CNI bridge (+ portmap) ====

# Install what the anchor needs, if missing (as tools/install-deps does).
need_pkgs() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing$missing"
	command -v apt-get >/dev/null || die "missing:$missing (and no apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >>"$log" 2>&1 || die "apt-get update"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >>"$log" 2>&1 || die "apt-get install$missing"
}

CNI=/usr/lib/cni
# cni HOSTNS COMMAND PLUGIN ID NETNS CONF: run one plugin inside HOSTNS for the container in
# namespace NETNS; its result in $work/cni-out; T = the plugin's own run time in us.
cni() {
	local t
	# shellcheck disable=SC2016 # the inner shell expands them
	t=$(ip netns exec "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$2" \
		CNI_CONTAINERID="$4" CNI_NETNS="/run/netns/$5" CNI_IFNAME=eth0 CNI_PATH="$CNI" \
		bash -c 's=${EPOCHREALTIME/./}; "$0" <"$1" >"$2" || exit 1; e=${EPOCHREALTIME/./}; echo $((e - s))' \
		"$CNI/$3" "$6" "$work/cni-out" 2>>"$log") || {
		cat "$work/cni-out" >>"$log" 2>/dev/null
		die "CNI $2 of $3 for $4 in $1: $(jq -r '.msg // empty' "$work/cni-out" 2>/dev/null)"
	}
	T=$t
}

# The network's config; with portmap, the chained call's is made per container below.
cni_conf() { # NAME
	cat <<-EOF
		{"cniVersion": "1.0.0", "name": "$1", "type": "bridge", "bridge": "cni0",
		 "isGateway": true, "ipMasq": true,
		 "ipam": {"type": "host-local", "subnet": "10.88.0.0/16",
		          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$work/cni-ipam"}}
	EOF
}

# attach NET K PORTMAP: container K (namespace C-NET-K, id NET-K) joins network NET (host
# namespace C-NET); with PORTMAP=1 host port 8000+K goes to its port 80. TB, TP: the times
# of bridge and portmap.
TB=0 TP=0
attach() {
	local h=$C-$1 ns=$C-$1-$2 id=$1-$2
	ip netns add "$ns" 2>>"$log" || die "ip netns add $ns"
	cni "$h" ADD bridge "$id" "$ns" "$work/cni-$1.json"
	TB=$T TP=0
	[ "$3" = 1 ] || return 0
	# chained: portmap gets bridge's result as prevResult
	jq --slurpfile prev "$work/cni-out" --argjson port $((8000 + $2)) \
		'{cniVersion, name, type: "portmap", capabilities: {portMappings: true},
		  runtimeConfig: {portMappings: [{hostPort: $port, containerPort: 80, protocol: "tcp"}]},
		  prevResult: $prev[0]}' "$work/cni-$1.json" >"$work/pm-$id.json" || die "portmap config"
	cni "$h" ADD portmap "$id" "$ns" "$work/pm-$id.json"
	TP=$T
}
detach() { # NET K PORTMAP
	local h=$C-$1 ns=$C-$1-$2 id=$1-$2
	[ "$3" = 1 ] && cni "$h" DEL portmap "$id" "$ns" "$work/pm-$id.json"
	cni "$h" DEL bridge "$id" "$ns" "$work/cni-$1.json"
	ip netns del "$ns" 2>>"$log" || die "ip netns del $ns"
}

# anchor NET SIZE PORTMAP: a network of SIZE containers, then CREPS timed attachments, each
# detached again; then everything detached. AB, AP: the times (bridge; bridge + portmap).
declare -a AB AP
anchor() {
	local net=$1 size=$2 pm=$3 h=$C-$1 k
	AB=() AP=()
	ip netns add "$h" 2>>"$log" || die "ip netns add $h"
	ip -n "$h" link set lo up
	cni_conf "$net" >"$work/cni-$net.json"
	say "anchor $net: $size containers through CNI"
	for ((k = 1; k <= size; k++)); do attach "$net" "$k" "$pm"; done
	# (grep reads all of it: with -q, pipefail would count iptables' SIGPIPE as a failure)
	[ "$(ip netns exec "$h" iptables -t nat -S 2>>"$log" | grep -c -- '224.0.0.0/4 .*-j MASQUERADE')" = "$size" ] ||
		die "anchor $net: not one masquerading rule per container in $h"
	[ "$pm" = 0 ] || [ "$(ip netns exec "$h" iptables -t nat -S 2>>"$log" | grep -c -- '-j DNAT')" = "$size" ] ||
		die "anchor $net: not one DNAT rule per container in $h"
	[ "$(ip netns exec "$h" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || die "anchor $net: forwarding off in $h"
	ip netns exec "$C-$net-1" ping -q -c 1 -W 2 10.88.0.1 >/dev/null 2>&1 ||
		die "anchor $net: the container cannot ping its gateway"
	for ((r = 1; r <= CREPS; r++)); do
		k=$((size + r))
		settle
		attach "$net" "$k" "$pm"
		AB+=("$TB") AP+=($((TB + TP)))
		detach "$net" "$k" "$pm"
	done
	say "anchor $net: detaching"
	for ((k = 1; k <= size; k++)); do detach "$net" "$k" "$pm"; done
	[ "$(ip netns exec "$h" iptables -t nat -S 2>>"$log" | grep -c -- '224.0.0.0/4 .*-j MASQUERADE\|-j DNAT')" = 0 ] ||
		die "anchor $net: rules left after DEL of every container"
	ip netns del "$h" || die "ip netns del $h"
	wait_freed 1
}

declare -a b10 b100 p10 p100
if run_anchor; then
	need_pkgs containernetworking-plugins iptables
	for p in bridge host-local portmap; do [ -x "$CNI/$p" ] || die "no $CNI/$p"; done
	command -v iptables >/dev/null || die "no iptables command (the bridge plugin's ipMasq runs it)"
	anchor b10 10 0 && b10=("${AB[@]}")
	anchor b100 100 0 && b100=("${AB[@]}")
	anchor p10 10 1 && p10=("${AP[@]}")
	anchor p100 100 1 && p100=("${AP[@]}")
fi

# ==== the figures ====

med() { [ "$#" -gt 0 ] && median "$@" || echo -; }
medj() { # median of the numbers among the arguments ("-": not reported)
	local v=() x
	for x in "$@"; do [ "$x" = - ] || v+=("$x"); done
	med "${v[@]}"
}
cb10=$(med "${b10[@]}") cb100=$(med "${b100[@]}")
if run_vnet; then
	mn=$(median "${nu[@]}") mx=$(median "${xu[@]}") m1=$(median "${a1[@]}") m10=$(median "${s1[@]}")
	per=$(((mn - mx) / N))
	g=$((m10 + $(spread "${s1[@]}")))
	[ "$g" -lt $((m10 + m10 / 10)) ] && g=$((m10 + m10 / 10))
	row "up $N containers, 1 network, 1 port each (anchor: explicit file)" "$mn" "$mx" -
	row "per container: up / $N (anchor: CNI bridge ADD, 10)" $((mn / N)) "$cb10" -
	row "per container beyond netns+veth: (up - explicit) / $N" "$per" - 500
	row "add container 11 to 10 (anchor: CNI ADD, 10)" "$m10" "$cb10" -
	row "add container $((N + 1)) to $N (anchor: CNI ADD, 100)" "$m1" "$cb100" "$g"
	row "  of which observe (up --json), 10" "$(medj "${s1o[@]}")" - -
	row "  of which apply (up --json), 10" "$(medj "${s1a[@]}")" - -
	row "  of which observe (up --json), $N" "$(medj "${a1o[@]}")" - -
	row "  of which apply (up --json), $N" "$(medj "${a1a[@]}")" - -
	# what the networks add to an up: leases, and the one nftables transaction (an element
	# added to each map, whatever their size)
	row "  of which IPAM (up --json), 10" "$(medj "${s1i[@]}")" - -
	row "  of which IPAM (up --json), $N" "$(medj "${a1i[@]}")" - -
	row "  of which the NAT step (up --json), 10" "$(medj "${s1n[@]}")" - -
	row "  of which the NAT step (up --json), $N" "$(medj "${a1n[@]}")" - -
else
	row "CNI bridge ADD (ipMasq, host-local), network of 10" - "$cb10" -
	row "CNI bridge ADD (ipMasq, host-local), network of 100" - "$cb100" -
fi
row "anchor: CNI bridge + portmap ADD, network of 10" - "$(med "${p10[@]}")" -
row "anchor: CNI bridge + portmap ADD, network of 100" - "$(med "${p100[@]}")" -
