#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vxlan.sh - VXLAN across hosts (issue 12): the vxlan kind, a bridge stretched over three hosts
# (head-end replication), a host removed, bad input, and the routed variant (flannel's backend).
#
# Three "machines" are namespaces the test makes (NAME-oh1..3); vnet runs in each through
# nsenter --net, with a state store of its own ($KT_TMP/h1..3), as on three real hosts.
#
# +--------------------+  +--------------------+  +--------------------+  +-------------------+
# | host h1 (NAME-oh1) |  | host h2 (NAME-oh2) |  | host h3 (NAME-oh3) |  | internet (NAME-oi)|
# |  n1 --v1--+        |  |  n2 --v2--+        |  |  n3 --v3--+        |  |  203.0.113.1/24   |
# |          br0       |  |          br0       |  |          br0       |  |  (nc -lk 80)      |
# |         vx-br0     |  |         vx-br0     |  |         vx-br0     |  |                   |
# |  c1 - pods vx-pods |  |  c2 - pods vx-pods |  |  c3 - pods vx-pods |  |                   |
# |  eth0 .50.1/24     |  |  eth0 .50.2/24     |  |  eth0 .50.3/24     |  |  eth0 .50.254/24  |
# |  default via .254  |  |  default via .254  |  |  default via .254  |  |                   |
# +------|-------------+  +------|-------------+  +------|-------------+  +------|------------+
#        |                       |                       |                       |
# +------|-----------------------|-----------------------|-----------------------|------------+
# |  underlay (NAME-ou): bridge ul, 192.168.50.0/24, MTU 1500                                  |
# +--------------------------------------------------------------------------------------------+
#
# Proves:
# 1. the vxlan kind: `vxlans:` makes a vxlan with the file's VNI, local, remote, port,
#    learning, master, and the MTU the underlay leaves (1450); mtu 1500 over a 1500 underlay
#    is refused (exit 2) naming 1450, nothing made;
# 2. a bridge spanning h1..h3: each host has vx-br0 (one VNI everywhere, learning, mtu 1450,
#    master br0, its own address as local), one all-zero fdb entry per other host; n1 reaches
#    n2 and n3; an ARP request is flooded to every host; 1450-byte packets with DF pass,
#    1500-byte ones are refused; TCP goes through (iperf3's rate as a note); diff is clean;
#    show names the remote VTEPs;
# 3. h3 removed from the file: up on h1 and h2 drops h3's fdb entry and keeps vx-br0 (same
#    ifindex); a fdb entry deleted behind vnet's back is drift for diff, and up restores it;
# 3b. an adversary on h1: vnet killed at each crash point of up --host h1 (the next up repairs,
#    down leaves h1 bare), each step failed in turn (h1 as before), the VTEPs' edit failed
#    (the old VTEPs stay), a stranger's vx-br0 and a stranger's vxlan on the same VNI (both
#    conflicts, exit 5, nothing left);
# 4. bad input is refused (exit 2) with nothing changed: hosts without --host, an unknown
#    --host, --host without hosts, a spanning bridge's mtu 1500, a loop through the overlay
#    without STP (with stp: true it validates); another host's part on h1 (its address is
#    not here, exit 3);
# 5. the routed variant: pods on h1..h3, c1..c3 one per host; containers reach each other
#    with their own addresses, the outside sees the host's address (masquerade); routes
#    (proto 0x76), permanent neighbours and fdb entries name the other hosts' vx-pods;
# 5b. vnet-cni's containers on a routed network of a topology with no containers, as the
#    README's Kubernetes recipe: across hosts without NAT, out through the masquerade.
# 6. vnet down on each host leaves no namespace, no link and no row in any host's store.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# ---- the hosts, and a cleanup that runs vnet down in each before lib.sh's ----
VX_TOPOS=() # "host|topology": vnet down in that host on exit
HOSTS="h1 h2 h3"

# on HOST CMD...: run CMD in HOST's namespace with HOST's state store (vnet as on that machine).
on() {
	local h=$1
	shift
	VNET_STATE_DIR=$KT_TMP/$h nsenter --net="/run/netns/$PFX-o$h" "$@"
}
# vtrack HOST NAME: vnet down NAME in HOST on exit.
vtrack() { VX_TOPOS+=("$1|$2"); }
# store_names HOST: the topologies HOST's store lists, space-separated.
store_names() { on "$1" "$VNET" list --json | jq -r '[.[].name] | sort | join(" ")'; }

vx_cleanup() {
	local rc=$? t h n left
	set +e
	stop_servers
	for t in "${VX_TOPOS[@]}"; do
		h=${t%%|*} n=${t#*|}
		has_ns "$PFX-o$h" && on "$h" "$VNET" down "$n" >/dev/null 2>&1
	done
	if [ -n "${KT_TMP:-}" ]; then
		for h in $HOSTS; do
			[ -d "$KT_TMP/$h" ] || continue
			left=$(VNET_STATE_DIR=$KT_TMP/$h "$VNET" list --json 2>/dev/null |
				jq -r '.[].name' 2>/dev/null | tr '\n' ' ')
			[ -z "$left" ] && continue
			echo "LEAK: $h's state store still lists: $left" >&2
			if [ "$rc" = 0 ]; then
				echo "FAIL: a host's store kept a topology after vnet down" >&2
				rc=1
			fi
		done
	fi
	(exit "$rc")
	cleanup
}
trap vx_cleanup EXIT
kt_init vx
for c in nc ss nft; do
	command -v "$c" >/dev/null || skip "needs $c (netcat-openbsd, iproute2, nftables)"
done
modprobe -q vxlan 2>/dev/null || true

U=$PFX-ou I=$PFX-oi
H1=$PFX-oh1 H2=$PFX-oh2 H3=$PFX-oh3
own_ns "$U"
ip -n "$U" link add ul type bridge
ip -n "$U" link set ul up
# uplink NS PORT ADDR...: NS's eth0, a veth whose other end PORT is a port of the underlay.
uplink() {
	local ns=$1 port=$2 a
	shift 2
	ip -n "$U" link add "$port" type veth peer name eth0 netns "$ns"
	ip -n "$U" link set "$port" master ul up
	for a in "$@"; do ip -n "$ns" addr add "$a" dev eth0; done
	ip -n "$ns" link set eth0 up
}
i=0
for h in $HOSTS; do
	i=$((i + 1))
	own_ns "$PFX-o$h"
	uplink "$PFX-o$h" "p$h" "192.168.50.$i/24"
	mkdir -p "$KT_TMP/$h"
done
own_ns "$I"
uplink "$I" pi 192.168.50.254/24 203.0.113.1/24
# the machines' own default route (not vnet's): the way out for the routed variant's masquerade
for h in $HOSTS; do ip -n "$PFX-o$h" route add default via 192.168.50.254; done
wait_until 10 nsx "$H1" ping -c 1 -W 1 192.168.50.3 || fail "the underlay does not carry h1 to h3"
echo "ok - underlay: h1 reaches h3 (192.168.50.3) through ul"

L=$KT_TMP/log
mkdir "$L"

# zero_fdb NS DEV: the all-zero (flood) entries of DEV: "dst flags state", sorted, ","-joined.
zero_fdb() {
	bridge -n "$1" -j fdb show dev "$2" | jq -r '[.[] | select(.mac == "00:00:00:00:00:00")
		| "\(.dst) \(.flags | join("+")) \(.state)"] | sort | join(",")'
}
# reaches WHAT NS ADDR: NS pings ADDR (a few tries within 6 s: the first ARP may be slow).
reaches() {
	wait_until 6 nsx "$2" ping -c 1 -W 1 "$3" || fail "$1: $2 cannot ping $3"
	echo "ok - $1"
}

# =============================== 1. the vxlan kind alone ===============================
K=$PFX.k
KF=$KT_TMP/kind.yaml
cat >"$KF" <<'EOF'
bridges:
  br0: {}
vxlans:
  vx0: {vni: 42, local: 192.168.50.1, remote: 192.168.50.2, port: 4789, learning: false,
        master: br0}
EOF
vtrack h1 "$K"
on h1 "$VNET" up "$KF" --name "$K" || fail "vnet up $KF in h1"
vx=$(ljson "$H1" vx0)
kv() { jq -r "$1" <<<"$vx"; }
expect_eq "vx0: kind" "$(kv .linkinfo.info_kind)" vxlan
expect_eq "vx0: vni" "$(kv .linkinfo.info_data.id)" 42
expect_eq "vx0: local" "$(kv .linkinfo.info_data.local)" 192.168.50.1
expect_eq "vx0: remote" "$(kv .linkinfo.info_data.remote)" 192.168.50.2
expect_eq "vx0: port" "$(kv .linkinfo.info_data.port)" 4789
expect_eq "vx0: learning" "$(kv .linkinfo.info_data.learning)" false
expect_eq "vx0: master" "$(kv .master)" br0
expect_eq "vx0: mtu (underlay eth0's 1500 - 50)" "$(kv .mtu)" 1450
expect_eq "vx0: up" "$(kv '.flags | index("UP") != null')" true
expect_rc 0 on h1 "$VNET" diff "$KF" --name "$K"

KM=$KT_TMP/kind-mtu.yaml
cat >"$KM" <<'EOF'
bridges:
  br9: {}
vxlans:
  vx9: {vni: 43, local: 192.168.50.1, remote: 192.168.50.2, mtu: 1500, master: br9}
EOF
before=$(dump_ns "$H1")
expect_rc 2 on h1 "$VNET" up "$KM" --name "$PFX.m"
grep -q 1450 <<<"$OUT" || fail "the refusal of vx9's mtu 1500 does not name 1450"
echo "ok - vx9's mtu 1500 over eth0's 1500 is refused, naming the largest that fits (1450)"
for l in vx9 br9; do
	ip -n "$H1" link show dev "$l" >/dev/null 2>&1 && fail "$l was made by a refused up"
done
[ "$before" = "$(dump_ns "$H1")" ] ||
	{ diff <(echo "$before") <(dump_ns "$H1") | head -30; fail "a refused up changed h1"; }
expect_eq "h1's store after the refused up" "$(store_names h1)" "$K"
echo "ok - the refused up changed nothing in h1 (links, addresses, routes, ruleset)"
expect_rc 0 on h1 "$VNET" down "$K"
for l in vx0 br0; do
	ip -n "$H1" link show dev "$l" >/dev/null 2>&1 && fail "$l still in h1 after down"
done
echo "ok - down removed vx0 and br0 from h1"

# =============================== 2. a bridge stretched over three hosts ===============================
T=$PFX
N1=$T-n1 N2=$T-n2 N3=$T-n3
F=$KT_TMP/lab.yaml
cat >"$F" <<'EOF'
name: lab
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
  h3: {address: 192.168.50.3, mtu: 1500}
bridges:
  br0: {hosts: [h1, h2, h3]}
nodes:
  n1: {host: h1}
  n2: {host: h2}
  n3: {host: h3}
veths:
  - v1: {master: br0}
    n1/eth0: {addresses: 10.0.0.1/24}
  - v2: {master: br0}
    n2/eth0: {addresses: 10.0.0.2/24}
  - v3: {master: br0}
    n3/eth0: {addresses: 10.0.0.3/24}
EOF
for h in $HOSTS; do
	vtrack "$h" "$T"
	on "$h" "$VNET" up "$F" --host "$h" --name "$T" || fail "vnet up $F --host $h"
done
for n in "$N1" "$N2" "$N3"; do has_ns "$n" || fail "no namespace $n"; done
i=0 vni=""
for h in $HOSTS; do
	i=$((i + 1))
	ns=$PFX-o$h
	vx=$(ljson "$ns" vx-br0)
	expect_eq "$h: vx-br0 kind" "$(kv .linkinfo.info_kind)" vxlan
	v=$(kv .linkinfo.info_data.id)
	if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -lt 1 ] || [ "$v" -gt 16777215 ]; then
		fail "$h: vx-br0's VNI '$v' is not in 1..16777215"
	fi
	[ -z "$vni" ] && vni=$v
	expect_eq "$h: vx-br0 VNI (the same on every host)" "$v" "$vni"
	expect_eq "$h: vx-br0 local" "$(kv .linkinfo.info_data.local)" "192.168.50.$i"
	expect_eq "$h: vx-br0 port" "$(kv .linkinfo.info_data.port)" 4789
	expect_eq "$h: vx-br0 learning" "$(kv .linkinfo.info_data.learning)" true
	expect_eq "$h: vx-br0 mtu" "$(kv .mtu)" 1450
	expect_eq "$h: vx-br0 master" "$(kv .master)" br0
	expect_eq "$h: v$i master" "$(lget "$ns" "v$i" .master)" br0
	expect_eq "$h: v$i mtu (a port of a spanning bridge)" "$(lget "$ns" "v$i" .mtu)" 1450
	expect_eq "n$i: eth0 mtu (its peer's)" "$(lget "$T-n$i" eth0 .mtu)" 1450
	others=$(for j in 1 2 3; do [ "$j" = "$i" ] || echo "192.168.50.$j self permanent"; done |
		sort | paste -sd,)
	expect_eq "$h: vx-br0's all-zero fdb entries (one per other host)" \
		"$(zero_fdb "$ns" vx-br0)" "$others"
done
wait_until 10 settled "$H1" "$H2" "$H3" || fail "br0's ports did not reach forwarding"
reaches "n1 reaches n2 (10.0.0.2) across the overlay" "$N1" 10.0.0.2
reaches "n1 reaches n3 (10.0.0.3) across the overlay" "$N1" 10.0.0.3
reaches "n3 reaches n2 (10.0.0.2) across the overlay" "$N3" 10.0.0.2

# An ARP request (a broadcast) from n1 for n3 reaches n2 too: head-end replication to every host.
nsx "$N2" nft -f - <<'EOF'
table netdev vxt {
	chain arp_in {
		type filter hook ingress device eth0 priority 0;
		arp operation request arp daddr ip 10.0.0.3 counter
	}
}
EOF
nsx "$N1" ip neigh flush dev eth0
nsx "$N1" ping -c 1 -W 2 10.0.0.3 >/dev/null || fail "n1 cannot ping n3 after its neighbours were flushed"
expect_eq "n1's neighbour 10.0.0.3: n3's MAC (resolved by ARP across the overlay)" \
	"$(ip -n "$N1" -j neigh show 10.0.0.3 dev eth0 | jq -r '.[0].lladdr // "none"')" \
	"$(lget "$N3" eth0 .address)"
arps=$(nsx "$N2" nft -j list table netdev vxt |
	jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0')
[ "$arps" -ge 1 ] || fail "n1's ARP request for 10.0.0.3 did not reach n2 (on h2)"
echo "ok - n1's ARP request for n3 was flooded to n2 on h2 too ($arps seen)"
nsx "$N2" nft delete table netdev vxt

# MTU: 1450 bytes with DF fit (1422 + 8 ICMP + 20 IP), 1500 do not.
nsx "$N1" ping -M "do" -s 1422 -c 1 -W 2 10.0.0.2 >/dev/null ||
	fail "a 1450-byte packet with DF from n1 does not reach n2"
echo "ok - a 1450-byte packet with DF goes from n1 to n2 (1500 bytes on the underlay)"
rc=0 out=$(nsx "$N1" ping -M "do" -s 1472 -c 1 -W 2 10.0.0.2 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    | /'
[ "$rc" != 0 ] || fail "a 1500-byte packet with DF went from n1 to n2"
grep -qi "message too long" <<<"$out" || fail "a 1500-byte ping with DF failed, but not with 'message too long'"
echo "ok - a 1500-byte packet with DF is refused in n1 (message too long)"

tcp_server "$N2" 80 "$L/n2"
tcp_reaches "TCP: n1 reaches n2:80 across the overlay" "$N1" 10.0.0.2 80 "$L/n2"
expect_eq "the source n2's server saw" "$PEER" 10.0.0.1
if command -v iperf3 >/dev/null; then
	ip netns exec "$N2" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	bg_pid $!
	wait_until 10 listening "$N2" 5201 || fail "iperf3 does not listen in n2"
	json=$(nsx "$N1" iperf3 -c 10.0.0.2 -p 5201 -t 2 -J) || fail "iperf3 from n1 to n2 failed"
	note "iperf3 n1 -> n2 over VXLAN: $(jq -r '.end.sum_received.bits_per_second / 1e9 * 100
		| floor / 100' <<<"$json") Gbit/s"
	echo "ok - iperf3: 2 s of TCP from n1 to n2 across the overlay"
else
	note "no iperf3: no bulk TCP"
fi

for h in $HOSTS; do
	expect_rc 0 on "$h" "$VNET" diff "$F" --host "$h" --name "$T"
done
txt=$(on h1 "$VNET" show "$T") || fail "vnet show $T in h1"
printf '%s\n' "$txt" | sed 's/^/    | /'
grep -qF "topology $T (host h1 of 3)" <<<"$txt" || fail "vnet show $T in h1 does not say it is h1"
grep -qE "^  vx-br0  vni [0-9]+  mtu 1450  local 192.168.50.1 -> h2 192.168.50.2, h3 192.168.50.3$" \
	<<<"$txt" || fail "vnet show $T in h1 does not name the remote VTEPs by host"
echo "ok - vnet show in h1 says it is h1 and names the remote VTEPs h2 and h3"
sj=$(on h1 "$VNET" show "$T" --json) || fail "vnet show $T --json in h1"
expect_eq "vnet show --json in h1: host and vx-br0's VTEPs" "$(jq -r '.host + ": " +
	([.. | objects | select(.kind? == "vxlan") | .vteps[] | "\(.host)=\(.dst)"] | join(" "))' \
	<<<"$sj")" "h1: h2=192.168.50.2 h3=192.168.50.3"

# =============================== 3. a host removed ===============================
F2=$KT_TMP/lab2.yaml
cat >"$F2" <<'EOF'
name: lab
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
bridges:
  br0: {hosts: [h1, h2]}
nodes:
  n1: {host: h1}
  n2: {host: h2}
veths:
  - v1: {master: br0}
    n1/eth0: {addresses: 10.0.0.1/24}
  - v2: {master: br0}
    n2/eth0: {addresses: 10.0.0.2/24}
EOF
ifx=$(lget "$H1" vx-br0 .ifindex)
for h in h1 h2; do
	on "$h" "$VNET" up "$F2" --host "$h" --name "$T" || fail "vnet up $F2 --host $h (h3 removed)"
done
expect_rc 0 on h3 "$VNET" down "$T"
has_ns "$N3" && fail "n3 still there after vnet down in h3"
ip -n "$H3" link show dev vx-br0 >/dev/null 2>&1 && fail "vx-br0 still in h3 after vnet down"
expect_eq "h3's store after down" "$(store_names h3)" ""
expect_eq "h1: vx-br0's all-zero fdb entries without h3" "$(zero_fdb "$H1" vx-br0)" \
	"192.168.50.2 self permanent"
expect_eq "h2: vx-br0's all-zero fdb entries without h3" "$(zero_fdb "$H2" vx-br0)" \
	"192.168.50.1 self permanent"
expect_eq "h1: vx-br0 kept (its ifindex)" "$(lget "$H1" vx-br0 .ifindex)" "$ifx"
reaches "n1 still reaches n2" "$N1" 10.0.0.2
expect_rc 0 on h1 "$VNET" diff "$F2" --host h1 --name "$T"

# behind vnet's back: h2's flood entry deleted in h1
bridge -n "$H1" fdb del 00:00:00:00:00:00 dev vx-br0 dst 192.168.50.2 self
expect_eq "h1: all-zero fdb entries after bridge fdb del" "$(zero_fdb "$H1" vx-br0)" ""
expect_rc 1 on h1 "$VNET" diff "$F2" --host h1 --name "$T"
on h1 "$VNET" up "$F2" --host h1 --name "$T" || fail "vnet up $F2 --host h1 after the fdb del"
expect_eq "h1: the entry is back" "$(zero_fdb "$H1" vx-br0)" "192.168.50.2 self permanent"
expect_eq "h1: vx-br0 still the same (ifindex)" "$(lget "$H1" vx-br0 .ifindex)" "$ifx"
expect_rc 0 on h1 "$VNET" diff "$F2" --host h1 --name "$T"
nsx "$N1" ip neigh flush dev eth0
reaches "n1 reaches n2 again (ARP resolved anew)" "$N1" 10.0.0.2

# =========================== 3b. an adversary on h1 ===========================
# vnet killed at each crash point of h1's part, each of its steps failed in turn, the edit
# of the VTEPs failed, and strangers' devices in the way: after each, h1 is as it was, or as
# the next up makes it, and every message vnet printed held.
lib=$(ldd "$VNET" 2>/dev/null | awk '$1 ~ /^libvnet\.so/ { print $3 }')
hooks=false
# shellcheck disable=SC2086 # no libvnet (a static vnet): the binary alone
grep -qa VNET_FAULT_STEP "$VNET" $lib && hooks=true
expect_rc 0 on h1 "$VNET" down "$T"
wait_until 10 settled "$H1" || fail "h1 did not settle after down"
bare=$(dump_ns "$H1")
# h1_bare WHAT: h1 holds nothing of vnet's, and its store no topology.
h1_bare() {
	wait_until 10 settled "$H1" || fail "$1: h1 did not settle"
	[ "$bare" = "$(dump_ns "$H1")" ] ||
		{ diff <(echo "$bare") <(dump_ns "$H1") | head -30; fail "$1: h1 is not as before"; }
	[ -z "$(store_names h1)" ] || fail "$1: h1's store lists $(store_names h1)"
}
if $hooks; then
	n=1
	while :; do
		rc=0
		on h1 env VNET_CRASH_AT=$n "$VNET" up "$F2" --host h1 --name "$T" >/dev/null 2>&1 ||
			rc=$?
		[ "$rc" = 0 ] && break
		[ "$rc" = 99 ] || fail "crash point $n of up --host h1: exit $rc, not the crash (99)"
		on h1 "$VNET" up "$F2" --host h1 --name "$T" >/dev/null ||
			fail "crash point $n: the next up --host h1 failed"
		[ "$(zero_fdb "$H1" vx-br0)" = "192.168.50.2 self permanent" ] ||
			fail "crash point $n, then up: h1's VTEPs are '$(zero_fdb "$H1" vx-br0)'"
		on h1 "$VNET" diff "$F2" --host h1 --name "$T" >/dev/null ||
			fail "crash point $n, then up: diff is not clean"
		on h1 "$VNET" down "$T" >/dev/null || fail "crash point $n: down failed"
		h1_bare "crash point $n, up, down"
		n=$((n + 1))
		[ $n -le 100 ] || fail "more than 100 crash points in up --host h1?"
	done
	[ $n -gt 5 ] || fail "only $((n - 1)) crash points in up --host h1: the switch does not work"
	echo "ok - killed at each of the $((n - 1)) crash points of up --host h1; each time the next" \
		"up gave h1 its VTEPs, diff was clean, and down left h1 bare"
	expect_rc 0 on h1 "$VNET" down "$T"
	h1_bare "the uninterrupted up, then down"
	steps=$(on h1 "$VNET" up "$F2" --host h1 --name "$T" --dry-run --json | jq '.steps | length')
	[ "$steps" -ge 5 ] || fail "up --host h1 plans $steps steps, expected 5 or more"
	for k in $(seq 1 "$steps"); do
		rc=0
		OUT=$(on h1 env VNET_FAULT_STEP="$k" "$VNET" up "$F2" --host h1 --name "$T" 2>&1) ||
			rc=$?
		[ "$rc" = 3 ] || { echo "$OUT"; fail "fault at step $k: exit $rc, not 3"; }
		grep -q "injected fault at step $k " <<<"$OUT" || fail "fault at step $k: not said"
		h1_bare "fault at step $k of up --host h1"
	done
	echo "ok - each of the $steps steps of up --host h1 failed in turn: each time h1 was left as before"
	# the edit of the VTEPs: h3 back in the file, and the step that adds its entry fails
	on h1 "$VNET" up "$F2" --host h1 --name "$T" >/dev/null || fail "up --host h1 with $F2"
	rc=0
	OUT=$(on h1 env VNET_FAULT_STEP=1 "$VNET" up "$F" --host h1 --name "$T" 2>&1) || rc=$?
	[ "$rc" = 3 ] || { echo "$OUT"; fail "the VTEPs' edit with a fault: exit $rc, not 3"; }
	expect_eq "h1: VTEPs after their failed edit" "$(zero_fdb "$H1" vx-br0)" \
		"192.168.50.2 self permanent"
	expect_rc 0 on h1 "$VNET" diff "$F2" --host h1 --name "$T"
else
	note "vnet without test hooks: no crash points, no injected faults"
	on h1 "$VNET" up "$F2" --host h1 --name "$T" >/dev/null || fail "up --host h1 with $F2"
fi
vni=$(lget "$H1" vx-br0 .linkinfo.info_data.id)
expect_rc 0 on h1 "$VNET" down "$T"
h1_bare "down before the strangers"
# a stranger's device named as the vxlan vnet derives: a conflict, nothing made
ip -n "$H1" link add vx-br0 type bridge
bare=$(dump_ns "$H1")
expect_rc 5 on h1 "$VNET" up "$F2" --host h1 --name "$T"
grep -q "vx-br0" <<<"$OUT" || fail "the conflict does not name vx-br0"
h1_bare "a stranger's vx-br0"
ip -n "$H1" link del vx-br0
# a stranger's vxlan on the same VNI and UDP port: the kernel refuses a second (EEXIST), which
# vnet reports as a conflict with what it does not own, and undoes the steps before
ip -n "$H1" link add sx type vxlan id "$vni" local 192.168.50.1 dstport 4789
bare=$(dump_ns "$H1")
expect_rc 5 on h1 "$VNET" up "$F2" --host h1 --name "$T"
grep -qi "vx-br0" <<<"$OUT" || fail "the kernel's refusal does not name vx-br0"
h1_bare "a stranger's vxlan on VNI $vni"
ip -n "$H1" link del sx
bare=$(dump_ns "$H1")
on h1 "$VNET" up "$F2" --host h1 --name "$T" >/dev/null || fail "up --host h1 after the strangers"
reaches "n1 reaches n2 after the adversary" "$N1" 10.0.0.2

# =============================== 4. bad input ===============================
B=$PFX.b
FM=$KT_TMP/bad-mtu.yaml
cat >"$FM" <<'EOF'
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
bridges:
  br5: {hosts: [h1, h2], mtu: 1500}
EOF
FL=$KT_TMP/loop.yaml
cat >"$FL" <<'EOF'
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
bridges:
  br6: {hosts: [h1, h2]}
  br7: {hosts: [h1, h2]}
veths:
  - la: {host: h1, master: br6}
    lb: {host: h1, master: br7}
  - lc: {host: h2, master: br6}
    ld: {host: h2, master: br7}
EOF
FS=$KT_TMP/loop-stp.yaml
sed 's/{hosts: \[h1, h2\]}/{hosts: [h1, h2], stp: true}/' "$FL" >"$FS"
grep -c 'stp: true' "$FS" | grep -qx 2 || fail "the test's sed did not add stp: true to both bridges"

wait_until 10 settled "$H1" || fail "h1 did not settle"
before=$(dump_ns "$H1") nsb=$(ns_list)
# refused WHAT PATTERN CMD...: exit 2, the message matches PATTERN (grep -Ei), h1 unchanged.
refused() {
	local what=$1 pat=$2
	shift 2
	expect_rc 2 "$@"
	grep -Eqi -- "$pat" <<<"$OUT" || fail "$what: the message does not match /$pat/"
	[ "$before" = "$(dump_ns "$H1")" ] ||
		{ diff <(echo "$before") <(dump_ns "$H1") | head -30; fail "$what: h1 changed"; }
	[ "$nsb" = "$(ns_list)" ] || fail "$what: the namespaces changed: $(ns_list | tr '\n' ' ')"
	expect_eq "$what: h1's store" "$(store_names h1)" "$T"
	echo "ok - $what: refused, nothing changed"
}
refused "a file with hosts, no --host" 'h1.*h2|h2.*h1' on h1 "$VNET" up "$F2" --name "$B"
refused "--host h9, not a host of the file" 'h9' on h1 "$VNET" up "$F2" --host h9 --name "$B"
refused "--host on a file without hosts" 'hosts' on h1 "$VNET" up "$KF" --host h1 --name "$B"
refused "a spanning bridge with mtu 1500" '1450' on h1 "$VNET" up "$FM" --host h1 --name "$B"
refused "a loop through the overlay (br6, br7 joined on h1 and on h2), no STP" 'loop|stp' \
	on h1 "$VNET" up "$FL" --host h1 --name "$B"
# h2's part, run on h1's machine by mistake: the tunnels would start at an address h1 lacks
expect_rc 3 on h1 "$VNET" up "$F2" --host h2 --name "$B"
grep -q "192.168.50.2 is on no interface of this machine" <<<"$OUT" ||
	fail "--host h2 on h1: the message does not say h2's address is not here"
[ "$before" = "$(dump_ns "$H1")" ] || fail "--host h2 on h1: h1 changed"
expect_eq "--host h2 on h1: h1's store" "$(store_names h1)" "$T"
echo "ok - --host h2 on h1's machine: refused, nothing changed"
expect_rc 2 on h1 "$VNET" validate "$FL" --host h1 --name "$B"
grep -Eqi 'loop|stp' <<<"$OUT" || fail "validate of the loop: no mention of loop or STP"
expect_rc 0 on h1 "$VNET" validate "$FS" --host h1 --name "$B"
echo "ok - with stp: true on br6 and br7 the loop validates"

expect_rc 0 on h1 "$VNET" down "$T"
expect_rc 0 on h2 "$VNET" down "$T"
for n in "$N1" "$N2"; do has_ns "$n" && fail "namespace $n still there after down"; done
for ns in "$H1" "$H2"; do
	for l in vx-br0 br0; do
		ip -n "$ns" link show dev "$l" >/dev/null 2>&1 && fail "$l still in $ns after down"
	done
done
echo "ok - down in h1 and h2 removed n1, n2, br0 and vx-br0"
stop_servers

# =============================== 5. the routed variant ===============================
R=$PFX.r
FR=$KT_TMP/pods.yaml
cat >"$FR" <<'EOF'
hosts:
  h1: {address: 192.168.50.1}
  h2: {address: 192.168.50.2}
  h3: {address: 192.168.50.3}
networks:
  pods:
    subnet: 10.244.0.0/16
    hosts: {h1: 10.244.1.0/24, h2: 10.244.2.0/24, h3: 10.244.3.0/24}
    masquerade: true
containers:
  c1: {host: h1, networks: [pods]}
  c2: {host: h2, networks: [pods]}
  c3: {host: h3, networks: [pods]}
EOF
for h in $HOSTS; do
	vtrack "$h" "$R"
	on "$h" "$VNET" up "$FR" --host "$h" --name "$R" || fail "vnet up $FR --host $h"
done
# the protocol 0x76 as ip prints it: a number (hex or decimal) or a name of rt_protos
protos=" 0x76 118 $(cat /etc/iproute2/rt_protos /etc/iproute2/rt_protos.d/*.conf 2>/dev/null |
	awk '$1 == "118" || $1 == "0x76" { print $2 }' | tr '\n' ' ' || true)"
declare -A MAC
for h in $HOSTS; do
	MAC[$h]=$(lget "$PFX-o$h" vx-pods .address)
done
i=0
for h in $HOSTS; do
	i=$((i + 1))
	ns=$PFX-o$h
	vx=$(ljson "$ns" vx-pods)
	expect_eq "$h: vx-pods kind" "$(kv .linkinfo.info_kind)" vxlan
	expect_eq "$h: vx-pods local" "$(kv .linkinfo.info_data.local)" "192.168.50.$i"
	expect_eq "$h: vx-pods learning" "$(kv .linkinfo.info_data.learning)" false
	expect_eq "$h: vx-pods address" "$(addrs "$ns" vx-pods)" "10.244.$i.0/16"
	expect_eq "$h: the bridge pods's address (the gateway)" "$(addrs "$ns" pods)" "10.244.$i.1/24"
	got=$(addrs "$R-c$i" eth0)
	expect_eq "c$i's address (the first of $h's subnet)" "${got%/*}" "10.244.$i.2"
	neigh="" fdb=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] && continue
		rt=$(ip -n "$ns" -j route show "10.244.$j.0/24")
		expect_eq "$h: route to h$j's pods" "$(jq -r '.[0] | "\(.dst) via \(.gateway) dev \(.dev)"' \
			<<<"$rt")" "10.244.$j.0/24 via 10.244.$j.0 dev vx-pods"
		p=$(jq -r '.[0].protocol' <<<"$rt")
		[[ $protos == *" $p "* ]] || fail "$h: route to h$j's pods: protocol '$p', not 0x76"
		echo "ok - $h: route to h$j's pods has vnet's protocol 0x76 ($p)"
		neigh+="10.244.$j.0 ${MAC[h$j]} PERMANENT"$'\n'
		fdb+="${MAC[h$j]} 192.168.50.$j self permanent"$'\n'
	done
	expect_eq "$h: vx-pods's neighbours (one permanent per other host)" \
		"$(ip -n "$ns" -j neigh show dev vx-pods | jq -r '[.[] |
			"\(.dst) \(.lladdr) \(.state | join("+"))"] | sort | join(",")')" \
		"$(LC_ALL=C sort <<<"${neigh%$'\n'}" | paste -sd,)"
	expect_eq "$h: vx-pods's fdb entries with a dst (one per other host)" \
		"$(bridge -n "$ns" -j fdb show dev vx-pods | jq -r '[.[] | select(.dst != null) |
			"\(.mac) \(.dst) \(.flags | join("+")) \(.state)"] | sort | join(",")')" \
		"$(LC_ALL=C sort <<<"${fdb%$'\n'}" | paste -sd,)"
done
wait_until 10 settled "$H1" "$H2" "$H3" || fail "the pods bridges' ports did not reach forwarding"
reaches "c1 reaches c2 (10.244.2.2)" "$R-c1" 10.244.2.2
reaches "c1 reaches c3 (10.244.3.2)" "$R-c1" 10.244.3.2
reaches "c3 reaches c2 (10.244.2.2)" "$R-c3" 10.244.2.2
tcp_server "$R-c2" 80 "$L/c2"
tcp_reaches "TCP: c1 reaches c2:80" "$R-c1" 10.244.2.2 80 "$L/c2"
expect_eq "the source c2's server saw from c1 (no NAT inside the cluster)" "$PEER" 10.244.1.2
tcp_reaches "TCP: c3 reaches c2:80" "$R-c3" 10.244.2.2 80 "$L/c2"
expect_eq "the source c2's server saw from c3" "$PEER" 10.244.3.2
tcp_server "$I" 80 "$L/internet"
tcp_reaches "TCP: c1 reaches the internet's 203.0.113.1:80" "$R-c1" 203.0.113.1 80 "$L/internet"
expect_eq "the source the internet saw from c1 (masquerade to h1's address)" "$PEER" 192.168.50.1
tcp_reaches "TCP: c2 reaches the internet's 203.0.113.1:80" "$R-c2" 203.0.113.1 80 "$L/internet"
expect_eq "the source the internet saw from c2 (masquerade to h2's address)" "$PEER" 192.168.50.2
for h in $HOSTS; do
	expect_rc 0 on "$h" "$VNET" diff "$FR" --host "$h" --name "$R"
done
stop_servers

for h in $HOSTS; do
	expect_rc 0 on "$h" "$VNET" down "$R"
done

# ============ 5b. vnet-cni's containers on a routed network (README: Kubernetes) ============
# The cluster's file has the hosts and the routed network, no containers; on each host the
# runtime's vnet-cni puts pods on the network's bridge, with the host's part as its IPAM
# subnet and ipMasq off: the topology's table masquerades what leaves the range.
CNI=${VNET_CNI_BIN:-$KT_ROOT/build/vnet-cni}
[ -x "$CNI" ] || fail "no vnet-cni binary at $CNI (build first, or set VNET_CNI_BIN)"
K=$PFX.k
FK=$KT_TMP/cluster.yaml
sed '/^containers:/,$d' "$FR" >"$FK"
for h in $HOSTS; do
	vtrack "$h" "$K"
	on "$h" "$VNET" up "$FK" --host "$h" --name "$K" || fail "vnet up $FK --host $h"
done
# kcni HOST N VERB CID: vnet-cni VERB for container CID (namespace $PFX-CID) on HOST, whose
# part of the range is 10.244.N.0/24; the answer on stdout.
kcni() {
	printf '{"cniVersion": "1.1.0", "name": "k8s", "type": "vnet-cni", "bridge": "pods",
		"isGateway": true, "ipMasq": false, "cni.dev/valid-attachments": [],
		"ipam": {"type": "vnet", "subnet": "10.244.%s.0/24",
			 "routes": [{"dst": "0.0.0.0/0"}]}}' "$2" |
		CNI_COMMAND=$3 CNI_CONTAINERID=$4 CNI_NETNS=/run/netns/$PFX-$4 CNI_IFNAME=eth0 \
			CNI_PATH=/usr/lib/cni on "$1" "$CNI"
}
own_ns "$PFX-k1"
own_ns "$PFX-k2"
got=$(kcni h1 1 ADD k1 | jq -r '.ips[0].address') || fail "vnet-cni ADD k1 on h1"
expect_eq "vnet-cni on h1: k1's address (from h1's part)" "$got" 10.244.1.2/24
got=$(kcni h2 2 ADD k2 | jq -r '.ips[0].address') || fail "vnet-cni ADD k2 on h2"
expect_eq "vnet-cni on h2: k2's address (from h2's part)" "$got" 10.244.2.2/24
wait_until 10 settled "$H1" "$H2" || fail "the pods bridges' ports did not reach forwarding"
reaches "vnet-cni's k1 on h1 reaches k2 on h2 (10.244.2.2)" "$PFX-k1" 10.244.2.2
tcp_server "$PFX-k2" 80 "$L/k2"
tcp_reaches "TCP: k1 reaches k2:80" "$PFX-k1" 10.244.2.2 80 "$L/k2"
expect_eq "the source k2's server saw from k1 (no NAT between vnet-cni's pods)" "$PEER" 10.244.1.2
tcp_server "$I" 80 "$L/internet"
tcp_reaches "TCP: k1 reaches the internet's 203.0.113.1:80" "$PFX-k1" 203.0.113.1 80 \
	"$L/internet"
expect_eq "the source the internet saw from k1 (the topology's masquerade)" "$PEER" 192.168.50.1
stop_servers
kcni h1 1 DEL k1 >/dev/null || fail "vnet-cni DEL k1 on h1"
kcni h2 2 DEL k2 >/dev/null || fail "vnet-cni DEL k2 on h2"
kcni h1 1 GC gc >/dev/null || fail "vnet-cni GC on h1"
kcni h2 2 GC gc >/dev/null || fail "vnet-cni GC on h2"
for h in $HOSTS; do
	expect_rc 0 on "$h" "$VNET" down "$K"
done

# =============================== 6. everything down ===============================

expect_eq "namespaces of this test left (besides the hand-made)" \
	"$(ns_list | grep -vxF -f <(printf '%s\n' "${KT_OWN_NS[@]}") | tr '\n' ' ' || true)" ""
for h in $HOSTS; do
	ns=$PFX-o$h
	expect_eq "$h: links left" "$(ip -n "$ns" -j link | jq -r '[.[].ifname] | sort | join(" ")')" \
		"eth0 lo"
	expect_eq "$h: routes left" "$(ip -n "$ns" -j route | jq -r '[.[] | .dst] | sort | join(" ")')" \
		"192.168.50.0/24 default"
	expect_eq "$h: its store" "$(store_names "$h")" ""
done
