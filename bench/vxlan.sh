#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vxlan.sh - VXLAN across hosts (issue 12): the bring-up of a topology spanning three hosts,
# host by host, beside the same nodes on one host alone; and the TCP throughput of one
# stream across vnet's overlay beside a bare veth pair and a hand-made kernel VXLAN, in the
# same run. (The issue measured bare veth at about 29 Gbit/s and kernel VXLAN at about 18;
# vnet's overlay should equal the hand-made VXLAN within noise.)
#
# The hosts are namespaces of this run, P-h1, P-h2, P-h3 (and P-ha, P-hb for the hand-made
# VXLAN), each with an eth0 veth into the underlay namespace P-u, whose bridge ub0 joins
# them; eth0 has 192.168.50.N/24 (h1 .1, h2 .2, h3 .3, ha .11, hb .12), MTU 1500. vnet runs
# in a host as the contract says: `VNET_STATE_DIR=WORK/state-hN nsenter --net=/run/netns/P-hN
# vnet up FILE --host hN --name NAME` (nsenter, not `ip netns exec`: vnet's node namespaces
# must be bind-mounted under the real /run/netns). Each host has its own state store.
#
# 1. Bring-up. A generated file with hosts h1..h3, a bridge br0 spanning all three, and N
#    nodes per host (BENCH_VXLAN_N, default 100), each joined to br0 by a veth pair with an
#    address in 10.1.0.0/16. Per round (BENCH_VXLAN_REPS, default 3): `vnet up --host h1`,
#    then h2, then h3, each timed alone; node 1 pings a node on h2 and one on h3 (through
#    the overlay); the no-op re-up of each host (`vnet diff --host` must find nothing
#    first); `vnet down` of each host. Beside it, in the same rounds, the same N nodes in a
#    one-host file (no hosts:, br0 not spanning) brought up, re-upped and taken down in
#    the host namespace P-1. Medians; the times include the env and nsenter that start vnet
#    (the same for both). Each timed command starts on a quiet machine (settle), and each
#    teardown waits until the kernel has freed the namespaces (wait_freed).
# 2. Throughput: one TCP stream, `iperf3 -c ADDR -C cubic -t BENCH_VXLAN_SECONDS` (default
#    3), BENCH_VXLAN_ROUNDS rounds (default 3, the three cases taking turns in each round),
#    the median (and the range) of the receiver's Gbit/s, between two node namespaces
#    joined by
#    (a) a bare veth pair (P-va, P-vb; 10.44.0.1/24, .2; MTU 1500);
#    (b) a hand-made kernel VXLAN, made here with iproute2 (the anchor): in hosts ha and hb
#        a bridge br0, `vx0 type vxlan id 42 local A remote B dstport 4789 learning` (MTU
#        1450) on it, and a veth (MTU 1450) into the node namespace P-xa / P-xb
#        (10.42.0.1/24, .2);
#    (c) vnet's overlay: the same shape from a two-host file (h1 and h2, br0 spanning both,
#        one node on each with 10.43.0.1/24 and .2), built by vnet in h1 and h2.
#    The iperf3 server runs in the second namespace of each case, backgrounded for the whole
#    part and killed after it (and on exit).
# Without a vnet that knows hosts (`vnet validate FILE --host h1` fails) vnet's figures are
# "-" and the rest runs.
#
# Everything lives in namespaces named P-* (P = vbvx<pid>), removed on exit even on failure,
# after `vnet down` in each host; no process is left. Nothing touches the root namespace's
# links, addresses, routes or firewall; all traffic stays inside the namespaces. Nothing is
# asserted about the figures: it is a report.
# Output: a markdown table on stdout; progress and problems on stderr.
# Needs root, iproute2, iperf3, jq, nsenter. Env: VNET_BIN (default build/vnet),
# BENCH_VXLAN_N, BENCH_VXLAN_REPS, BENCH_VXLAN_SECONDS, BENCH_VXLAN_ROUNDS,
# BENCH_VXLAN_ONLY=bringup|throughput (one part only).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
# (shellcheck -x follows it; plain shellcheck need not)
# shellcheck source-path=SCRIPTDIR disable=SC1091
. "$here/lib.sh"
VNET=${VNET_BIN:-$here/../build/vnet}
N=${BENCH_VXLAN_N:-100}
REPS=${BENCH_VXLAN_REPS:-3}
SECS=${BENCH_VXLAN_SECONDS:-3}
ROUNDS=${BENCH_VXLAN_ROUNDS:-3}
ONLY=${BENCH_VXLAN_ONLY:-}

say() { printf 'vxlan.sh: %s\n' "$*" >&2; }
die() {
	say "FAILED: $*"
	[ -s "${log:-/dev/null}" ] && tail -n 20 "$log" | sed 's/^/    /' >&2
	exit 1
}

case "$N$REPS$SECS$ROUNDS" in '' | *[!0-9]*) die "BENCH_VXLAN_N, _REPS, _SECONDS and _ROUNDS are numbers" ;; esac
if [ "$N" -lt 1 ] || [ "$N" -gt 1000 ] || [ "$REPS" -lt 1 ] || [ "$SECS" -lt 1 ] || [ "$ROUNDS" -lt 1 ]; then
	die "BENCH_VXLAN_N is 1..1000, the others at least 1"
fi
case $ONLY in '' | bringup | throughput) ;; *) die "BENCH_VXLAN_ONLY is bringup or throughput" ;; esac
[ "$(id -u)" = 0 ] || die "needs root"
for c in ip iperf3 jq nsenter ss; do command -v "$c" >/dev/null || die "needs $c"; done

# ---- the run's names, scratch dir and cleanup ----

P=vbvx$$
M=$P-m # the three-host topology: nodes P-m-n1 .. P-m-n(3N)
S=$P-s # the same N nodes on one host: P-s-n1 .. P-s-nN, in host namespace P-1
O=$P-o # the two-host overlay of the throughput: P-o-a (on h1), P-o-b (on h2)
work=$(mktemp -d /tmp/vnet-bench-vxlan.XXXXXX) || exit 1
log=$work/log
: >"$log"
pids=() # iperf3 servers

ours() { ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 {print $1}'; }
has_ns() { [ -e "/run/netns/$1" ]; }

# vnet_in H ARGS...: vnet ARGS in host namespace P-H with H's state store (never run in
# the root namespace: nsenter fails when P-H does not exist)
vnet_in() {
	local h=$1
	shift
	has_ns "$P-$h" || return 1
	env VNET_STATE_DIR="$work/state-$h" nsenter --net="/run/netns/$P-$h" "$VNET" "$@"
}

stop_servers() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
}

cleanup() {
	local rc=$? before n h t
	trap - EXIT INT TERM HUP
	stop_servers
	if [ -x "$VNET" ]; then
		for t in "h1 $M" "h2 $M" "h3 $M" "1 $S" "h1 $O" "h2 $O"; do
			h=${t%% *}
			[ -d "$work/state-$h" ] && vnet_in "$h" down "${t#* }" >/dev/null 2>&1
		done
	fi
	before=$(slab_ns)
	n=$(ours | wc -l)
	if [ "$n" -gt 0 ]; then
		ours | sed 's/^/netns del /' | ip -force -batch - 2>/dev/null
		ours | while read -r ns; do ip netns del "$ns" 2>/dev/null; done
		wait_freed "$n" "$before" # leave the machine quiet for whatever runs next
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- vnet: there, and does it know hosts? ----

vnet_on=0 vnet_why=
if [ ! -x "$VNET" ]; then
	vnet_why="no vnet at $VNET"
else
	vnet_desc="$(realpath "$VNET"), $(date -r "$VNET" '+%F %T') (tree $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo '?'))"
fi

# ---- the files ----

addr() { local a=$(($1 + 1)); echo "10.1.$((a / 256)).$((a % 256))"; } # node K's address

# multi: 3 hosts, br0 spanning them, N nodes per host (n1..nN on h1, and so on)
{
	echo "# bench/vxlan.sh: three hosts, $N nodes each on the spanning bridge br0"
	echo "name: $M"
	echo "hosts:"
	for h in 1 2 3; do echo "  h$h: {address: 192.168.50.$h}"; done
	echo "bridges:"
	echo "  br0: {hosts: [h1, h2, h3]}"
	echo "nodes:"
	for ((k = 1; k <= 3 * N; k++)); do echo "  n$k: {host: h$(((k - 1) / N + 1))}"; done
	echo "veths:"
	for ((k = 1; k <= 3 * N; k++)); do
		printf '  - v%d: {master: br0}\n    n%d/eth0: {addresses: %s/16}\n' "$k" "$k" "$(addr "$k")"
	done
} >"$work/multi.yaml"
# single: the same first N nodes, one host, br0 not spanning
{
	echo "# bench/vxlan.sh: the same $N nodes on one host"
	echo "name: $S"
	echo "bridges:"
	echo "  br0: {}"
	echo "nodes:"
	for ((k = 1; k <= N; k++)); do echo "  n$k: {}"; done
	echo "veths:"
	for ((k = 1; k <= N; k++)); do
		printf '  - v%d: {master: br0}\n    n%d/eth0: {addresses: %s/16}\n' "$k" "$k" "$(addr "$k")"
	done
} >"$work/single.yaml"
# overlay: two hosts, one node each
cat >"$work/overlay.yaml" <<EOF
# bench/vxlan.sh: two hosts, a node on each, joined by the spanning bridge br0
name: $O
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
bridges:
  br0: {hosts: [h1, h2]}
nodes:
  a: {host: h1}
  b: {host: h2}
veths:
  - va: {master: br0}
    a/eth0: {addresses: 10.43.0.1/24}
  - vb: {master: br0}
    b/eth0: {addresses: 10.43.0.2/24}
EOF

if [ -x "$VNET" ]; then
	if "$VNET" validate "$work/overlay.yaml" --host h1 >"$work/out" 2>&1 &&
		"$VNET" validate "$work/multi.yaml" --host h1 >>"$work/out" 2>&1; then
		vnet_on=1
	else
		vnet_why="vnet does not take these files yet ($(grep -m 1 . "$work/out"))"
	fi
fi
[ "$vnet_on" = 1 ] || say "$vnet_why: vnet's figures are -"

# ---- the hosts and their underlay ----

mkns() {
	ip netns add "$1" || die "ip netns add $1"
	ip -n "$1" link set lo up || die "lo up in $1"
}
# host H OCTET: host namespace P-H with eth0 (192.168.50.OCTET/24) on the underlay bridge
host() {
	mkns "$P-$1"
	{
		ip -n "$P-u" link add "u-$1" type veth peer name eth0 netns "$P-$1" &&
			ip -n "$P-u" link set "u-$1" master ub0 up &&
			ip -n "$P-$1" addr add "192.168.50.$2/24" dev eth0 &&
			ip -n "$P-$1" link set eth0 up
	} 2>>"$log" || die "host $1"
	mkdir -p "$work/state-$1"
}
mkns "$P-u"
{ ip -n "$P-u" link add ub0 type bridge && ip -n "$P-u" link set ub0 up; } 2>>"$log" || die "the underlay bridge"
host h1 1
host h2 2
host h3 3
mkns "$P-1"
mkdir -p "$work/state-1"

# ping_ok NS ADDR: NS reaches ADDR (3 tries)
ping_ok() {
	local i
	for i in 1 2 3; do
		ip netns exec "$1" ping -n -q -c 1 -W 2 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}
for a in 2 3; do ping_ok "$P-h1" "192.168.50.$a" || die "the underlay: h1 cannot ping 192.168.50.$a"; done

t_start=$(now_us)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
declare -A R # R[case,what] = a figure, or "fail"

# ==== 2. throughput ====

# serve NS ADDR: an iperf3 server in NS on ADDR, in the background until stop_servers
serve() {
	local i
	ip netns exec "$1" iperf3 -s -B "$2" -p 5201 >>"$log" 2>&1 &
	pids+=("$!")
	for ((i = 0; i < 250; i++)); do
		[ -n "$(ip netns exec "$1" ss -Hltn 'sport = :5201' 2>/dev/null)" ] && return 0
		sleep 0.02
	done
	die "the iperf3 server in $1 does not listen after 5 s"
}

# stream CASE CLIENT-NS ADDR: one iperf3 run; appends bits/s and retransmits to the case's
# lists, "fail" on failure
declare -A BPS RETR
stream() {
	local c=$1 v
	settle
	if ip netns exec "$2" iperf3 -c "$3" -p 5201 -C cubic -t "$SECS" -J >"$work/iperf.json" 2>>"$log" &&
		v=$(jq -r '[(.end.sum_received.bits_per_second | floor), (.end.sum_sent.retransmits // 0)] | @tsv' "$work/iperf.json" 2>>"$log") &&
		[ -n "$v" ]; then
		BPS[$c]+="${v%%$'\t'*} " RETR[$c]+="${v#*$'\t'} "
		say "  $c: $(awk -v b="${v%%$'\t'*}" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, ${v#*$'\t'} retransmits"
	else
		say "  $c: iperf3 failed: $(jq -r '.error // empty' "$work/iperf.json" 2>/dev/null | head -n 1)"
		R[$c,fail]=1
		status=1
	fi
}

# link_json NS DEV: `ip -d -j link show DEV` as one object
link_json() { ip -n "$1" -d -j link show "$2" 2>/dev/null | jq -c '.[0] // {}'; }

throughput() {
	local r cases=() e
	say "throughput: building (a) bare veth, (b) the hand-made VXLAN, (c) vnet's overlay"
	# (a) bare veth
	mkns "$P-va"
	mkns "$P-vb"
	{
		ip -n "$P-va" link add eth0 type veth peer name eth0 netns "$P-vb" &&
			ip -n "$P-va" addr add 10.44.0.1/24 dev eth0 &&
			ip -n "$P-vb" addr add 10.44.0.2/24 dev eth0 &&
			ip -n "$P-va" link set eth0 up &&
			ip -n "$P-vb" link set eth0 up
	} 2>>"$log" || die "the bare veth"
	ping_ok "$P-va" 10.44.0.2 || die "bare veth: no ping"
	serve "$P-vb" 10.44.0.2
	cases+=(veth)

	# (b) the hand-made VXLAN
	host ha 11
	host hb 12
	local h x me peer node a
	for x in "ha 11 12 xa 1" "hb 12 11 xb 2"; do
		read -r h me peer node a <<<"$x"
		mkns "$P-$node"
		{
			ip -n "$P-$h" link add br0 type bridge &&
				ip -n "$P-$h" link add vx0 type vxlan id 42 local "192.168.50.$me" remote "192.168.50.$peer" dstport 4789 learning &&
				ip -n "$P-$h" link set vx0 mtu 1450 master br0 up &&
				ip -n "$P-$h" link add v0 mtu 1450 type veth peer name eth0 mtu 1450 netns "$P-$node" &&
				ip -n "$P-$h" link set v0 master br0 up &&
				ip -n "$P-$h" link set br0 up &&
				ip -n "$P-$node" addr add "10.42.0.$a/24" dev eth0 &&
				ip -n "$P-$node" link set eth0 up
		} 2>>"$log" || die "the hand-made VXLAN in $h"
	done
	ping_ok "$P-xa" 10.42.0.2 || die "hand-made VXLAN: no ping from xa to xb"
	serve "$P-xb" 10.42.0.2
	cases+=(hand)

	# (c) vnet's overlay
	if [ "$vnet_on" = 1 ]; then
		if vnet_in h1 up "$work/overlay.yaml" --host h1 --name "$O" >>"$log" 2>&1 &&
			vnet_in h2 up "$work/overlay.yaml" --host h2 --name "$O" >>"$log" 2>&1; then
			if ping_ok "$O-a" 10.43.0.2; then
				serve "$O-b" 10.43.0.2
				cases+=(vnet)
				e=$(ip -n "$P-h1" -j link show master br0 type vxlan 2>/dev/null | jq -r '.[0].ifname // empty')
				R[vnet,vx]=${e:-}
			else
				say "vnet's overlay: $O-a cannot ping 10.43.0.2 (b, on h2)"
				R[vnet,fail]=1 status=1
			fi
		else
			say "vnet up of the two-host overlay failed: $(tail -n 3 "$log" | tr '\n' ' ')"
			R[vnet,fail]=1 status=1
		fi
	fi
	R[veth,mtu]=$(link_json "$P-va" eth0 | jq -r '.mtu')
	R[hand,mtu]=$(link_json "$P-xa" eth0 | jq -r '.mtu')
	[ "${R[vnet,fail]:-}" = 1 ] || [ "$vnet_on" != 1 ] || R[vnet,mtu]=$(link_json "$O-a" eth0 | jq -r '.mtu')

	for ((r = 1; r <= ROUNDS; r++)); do
		say "throughput: round $r/$ROUNDS (${#cases[@]} cases, $SECS s each)"
		stream veth "$P-va" 10.44.0.2
		stream hand "$P-xa" 10.42.0.2
		case " ${cases[*]} " in *" vnet "*) stream vnet "$O-a" 10.43.0.2 ;; esac
	done
	stop_servers

	# how vnet's vxlan differs from the hand-made one (not counting the addresses and VNI)
	if [ -n "${R[vnet,vx]:-}" ]; then
		R[vnet,vxinfo]=$(link_json "$P-h1" "${R[vnet,vx]}" | jq -c '{mtu, data: .linkinfo.info_data}')
		R[hand,vxinfo]=$(link_json "$P-ha" vx0 | jq -c '{mtu, data: .linkinfo.info_data}')
		R[vxdiff]=$(jq -rn --argjson v "${R[vnet,vxinfo]}" --argjson h "${R[hand,vxinfo]}" '
			def flat: [paths(type != "object" and type != "array") as $p
				| {key: ($p | map(tostring) | join(".")), value: getpath($p)}] | from_entries;
			def show($o; $k): if $o | has($k) then $o[$k] | tostring else "-" end;
			($v | flat) as $a | ($h | flat) as $b
			| [($a + $b | keys[]) | select(test("^data\\.(id|local|remote|link)$") | not)
			   | . as $k | select(($a | has($k)) != ($b | has($k)) or $a[$k] != $b[$k])
			   | "\($k): vnet \(show($a; $k)), hand-made \(show($b; $k))"]
			| if length == 0 then "none" else join("; ") end' 2>>"$log")
	fi

	if [ "$vnet_on" = 1 ] && [ "${R[vnet,fail]:-}" != 1 ]; then
		vnet_in h1 down "$O" >>"$log" 2>&1 || { say "vnet down $O in h1 failed"; status=1; }
		vnet_in h2 down "$O" >>"$log" 2>&1 || { say "vnet down $O in h2 failed"; status=1; }
	fi
	for x in va vb xa xb ha hb; do ip netns del "$P-$x" 2>/dev/null; done
	wait_freed 6
}

# ==== 1. bring-up ====

# shellcheck disable=SC2034 # filled and read through namerefs (push, cell_ms, med_of)
declare -a up_h1 up_h2 up_h3 up_sum noop_h1 noop_h2 noop_h3 down_h1 down_h2 down_h3 up_1 noop_1 down_1

push() { local -n a=$1; a+=("$2"); } # push ARRAY-NAME VALUE
count_ns() { ip netns list 2>/dev/null | awk -v p="$1-" 'index($1, p) == 1' | wc -l; }

bringup_round() {
	local h sum=0 before
	for h in h1 h2 h3; do
		settle
		timed vnet_in "$h" up "$work/multi.yaml" --host "$h" --name "$M" || { say "vnet up --host $h failed: $(tail -n 3 "$log" | tr '\n' ' ')"; return 1; }
		push "up_$h" "$T"
		sum=$((sum + T))
	done
	up_sum+=("$sum")
	[ "$(count_ns "$M")" = $((3 * N)) ] || { say "after vnet up of the three hosts: $(count_ns "$M") node namespaces, not $((3 * N))"; return 1; }
	ping_ok "$M-n1" "$(addr $((N + 1)))" || { say "n1 (h1) cannot ping n$((N + 1)) (h2) through the overlay"; return 1; }
	ping_ok "$M-n1" "$(addr $((3 * N)))" || { say "n1 (h1) cannot ping n$((3 * N)) (h3) through the overlay"; return 1; }
	for h in h1 h2 h3; do
		vnet_in "$h" diff "$work/multi.yaml" --host "$h" --name "$M" >>"$log" 2>&1 || { say "vnet diff --host $h after up: the kernel differs"; return 1; }
		settle
		timed vnet_in "$h" up "$work/multi.yaml" --host "$h" --name "$M" || { say "vnet up --host $h (again) failed"; return 1; }
		push "noop_$h" "$T"
	done
	for h in h1 h2 h3; do
		settle
		before=$(slab_ns)
		timed vnet_in "$h" down "$M" || { say "vnet down in $h failed"; return 1; }
		push "down_$h" "$T"
		wait_freed "$N" "$before"
	done
	[ "$(count_ns "$M")" = 0 ] || { say "after vnet down in the three hosts: $(count_ns "$M") node namespaces left"; return 1; }

	# the same N nodes, one host
	settle
	timed vnet_in 1 up "$work/single.yaml" --name "$S" || { say "vnet up (one host) failed: $(tail -n 3 "$log" | tr '\n' ' ')"; return 1; }
	up_1+=("$T")
	ping_ok "$S-n1" "$(addr "$N")" || { say "one host: n1 cannot ping n$N"; return 1; }
	vnet_in 1 diff "$work/single.yaml" --name "$S" >>"$log" 2>&1 || { say "vnet diff (one host) after up: the kernel differs"; return 1; }
	settle
	timed vnet_in 1 up "$work/single.yaml" --name "$S" || { say "vnet up (one host, again) failed"; return 1; }
	noop_1+=("$T")
	settle
	before=$(slab_ns)
	timed vnet_in 1 down "$S" || { say "vnet down (one host) failed"; return 1; }
	down_1+=("$T")
	wait_freed "$N" "$before"
	[ "$(count_ns "$S")" = 0 ] || { say "after vnet down (one host): $(count_ns "$S") node namespaces left"; return 1; }
	return 0
}

bringup() {
	local r
	for ((r = 1; r <= REPS; r++)); do
		say "bring-up: round $r/$REPS (3 hosts x $N nodes, then $N nodes on one host)"
		bringup_round || { R[bringup,fail]=1 status=1; return 1; }
	done
}

[ "$ONLY" = bringup ] || throughput
if [ "$ONLY" != throughput ] && [ "$vnet_on" = 1 ]; then bringup; fi
t_total=$(($(now_us) - t_start))

# ==== the table ====

# cell_ms NAME: the median of the array NAME in ms; "-" or "fail"
cell_ms() {
	local -n v=$1
	if [ "${#v[@]}" -gt 0 ]; then
		ms "$(median "${v[@]}")"
	elif [ "${R[bringup,fail]:-}" = 1 ]; then echo fail; else echo -; fi
}
ratio() { # A B: A / B as "0.93x", "-" unless both are figures
	case "$1" in '' | *[!0-9]*) echo -; return ;; esac
	case "$2" in '' | *[!0-9]* | 0) echo -; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'
}
med_of() { # NAME: the median of the array NAME (empty when none)
	local -n v=$1
	[ "${#v[@]}" -gt 0 ] && median "${v[@]}"
}
# gbit CASE: "18.2 (17.9-18.6)": the median and the range of the case's rounds
gbit() {
	local c=$1 v
	v=${BPS[$c]:-}
	if [ -z "$v" ]; then
		if [ "${R[$c,fail]:-}" = 1 ]; then echo fail; else echo -; fi
		return
	fi
	# shellcheck disable=SC2086 # the list is blank-separated numbers
	printf '%s\n' $v | sort -n | awk '{x[NR] = $1} END {
		m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
		if (NR > 1) printf "%.2f Gbit/s (%.2f-%.2f)", m / 1e9, x[1] / 1e9, x[NR] / 1e9
		else printf "%.2f Gbit/s", m / 1e9 }'
}
gmed() { # CASE: the median bits/s, or empty
	# shellcheck disable=SC2086
	[ -n "${BPS[$1]:-}" ] && median ${BPS[$1]}
}
retr() { # CASE: the median retransmits per run
	# shellcheck disable=SC2086
	if [ -n "${RETR[$1]:-}" ]; then median ${RETR[$1]}; else echo -; fi
}
row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }

echo "### VXLAN across hosts: bring-up and throughput (bench/vxlan.sh)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'); kernel $(uname -r); $(nproc) CPUs; $(iperf3 --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2); load average before: $load0"
echo
row measure vnet anchor "vnet / anchor" "anchor is"
row --- ---: ---: ---: ---
if [ "$ONLY" != throughput ]; then
	one="the same $N nodes, one-host file, one namespace"
	for h in h1 h2 h3; do
		row "vnet up --host $h ($N nodes; 3 hosts, br0 spanning)" "$(cell_ms "up_$h")" "$(cell_ms up_1)" "$(ratio "$(med_of "up_$h")" "$(med_of up_1)")" "$one: vnet up"
	done
	row "vnet up of the 3 hosts, one after another (sum)" "$(cell_ms up_sum)" "$(cell_ms up_1)" "$(ratio "$(med_of up_sum)" "$(med_of up_1)")" "$one: vnet up"
	for h in h1 h2 h3; do
		row "vnet up --host $h again (no-op)" "$(cell_ms "noop_$h")" "$(cell_ms noop_1)" "$(ratio "$(med_of "noop_$h")" "$(med_of noop_1)")" "$one: vnet up again"
	done
	for h in h1 h2 h3; do
		row "vnet down in $h" "$(cell_ms "down_$h")" "$(cell_ms down_1)" "$(ratio "$(med_of "down_$h")" "$(med_of down_1)")" "$one: vnet down"
	done
fi
if [ "$ONLY" != bringup ]; then
	row "TCP, 1 stream, cubic: vnet's overlay (2 hosts)" "$(gbit vnet)" "$(gbit hand)" "$(ratio "$(gmed vnet)" "$(gmed hand)")" "hand-made kernel VXLAN (iproute2), same underlay"
	row "TCP, 1 stream, cubic: vnet's overlay beside bare veth" "$(gbit vnet)" "$(gbit veth)" "$(ratio "$(gmed vnet)" "$(gmed veth)")" "bare veth pair, no overlay"
fi
echo
if [ "$ONLY" != throughput ]; then
	echo "Bring-up: medians of $REPS rounds, wall times with the env and nsenter that start vnet in the"
	echo "host namespace; each host is brought up alone (h1, then h2, then h3), each timed command on"
	echo "a quiet machine. Three hosts: namespaces on an underlay bridge (192.168.50.0/24, MTU 1500);"
	echo "br0 spans them (its derived vxlan, head-end replication to the other two), $N nodes per"
	echo "host, each a veth on br0. The no-op re-up follows a \`vnet diff --host\` that found nothing."
fi
if [ "$ONLY" != bringup ]; then
	echo "Throughput: \`iperf3 -C cubic -t $SECS\`, one stream, the receiver's rate; median (range) of $ROUNDS"
	echo "rounds, the cases taking turns. Median retransmits per run: vnet $(retr vnet), hand-made $(retr hand),"
	echo "veth $(retr veth). Hand-made VXLAN / bare veth: $(ratio "$(gmed hand)" "$(gmed veth)"). Node MTU: vnet ${R[vnet,mtu]:--},"
	echo "hand-made ${R[hand,mtu]:--}, veth ${R[veth,mtu]:--}."
	[ -n "${R[vxdiff]:-}" ] && echo "vnet's ${R[vnet,vx]} beside the hand-made vx0 (ip -d -j link, other than VNI and addresses): ${R[vxdiff]}."
	echo "The issue measured bare veth at about 29 Gbit/s and kernel VXLAN at about 18; vnet's overlay"
	echo "should equal the hand-made VXLAN within noise (the range of its rounds)."
fi
if [ "$vnet_on" = 1 ]; then
	echo "vnet: $vnet_desc."
else
	echo "vnet: not measured ($vnet_why)."
fi
echo "Run time: $(ms "$t_total"); load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
[ "$status" = 0 ]
