#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nat-isolation.sh - networks are isolated from each other unless the file connects them; an
# internal network has no way out; without --sandbox, vnet leaves the namespace's forwarding
# and its other nftables tables as it found them.
#
# (a) --sandbox:
#
#  +-----------------------------------------------------------+
#  | internet (NAME-internet): eth0 192.168.3.1/24 (router),   |
#  |   203.0.113.10/24 (server: nc -lk 80, logs each peer);    |
#  |   route 10.20.0.0/16 via 192.168.3.101                    |
#  +------|----------------------------------------------------+
#         | veth pair
#  +------|-------------------------------------------------------------------------------+
#  |  +--------+  Host (NAME-host): 192.168.3.101/24, default via 192.168.3.1             |
#  |  |  eth0  |  nft table ip vnet-NAME                                                  |
#  |  +--------+                                                                          |
#  |  +-------------+  +-------------+  +-------------+  +-------------+  +-------------+ |
#  |  |    front    |  |    back     |  |    lone     |  |     pa      |  |     pb      | |
#  |  |  10.20.1.1  |  |  10.20.2.1  |  |  10.20.3.1  |  |  10.20.4.1  |  |  10.20.5.1  | |
#  |  | masquerade  |  |  internal   |  | masquerade  |  |  connect:   |  |             | |
#  |  |             |  |             |  |   false     |  |    [pb]     |  |             | |
#  |  +-------------+  +-------------+  +-------------+  +-------------+  +-------------+ |
#  |   ve-f1 ve-duo-1   ve-in1 ve-duo       ve-l1            ve-pa1           ve-pb1      |
#  +----|-----|--------|------|----------|----------------|----------------|--------------+
#       |     |        |      |          |                |                |
#    f1/eth0  |    in1/eth0   |       l1/eth0          pa1/eth0         pb1/eth0
#    .1.x     |    .2.x       |       .3.2             .4.2             .5.2
#          duo/eth1        duo/eth0
#          .1.y            .2.y
#    (each of f1, l1, pa1, pb1 runs nc -lk 80; in1 has no default route; duo's is via
#     front's 10.20.1.1 on eth1: its first network, back, is internal)
#
# (b) no sandbox, the host part in an outer namespace NAME-o made by the test (standing for
#     the machine's own): net.ipv4.ip_forward set to 0 (then 1) by the test, and its own
#     nftables tables ip keepme and inet vnet-NAME.o; vnet adds bridge nb0 (10.30.0.1/24),
#     container c1 (NAME.o-c1) publishing 8080:80, and its table ip vnet-NAME.o.
#
# Proves: (a) two networks reach each other neither by ping nor by TCP unless one connects the
# other, and then both ways, without masquerade between them (each server sees the other's own
# address); a connected pair stays isolated from the rest; a container of a network with
# masquerade false reaches the internet with its own address; an internal network's container
# has no default route, and even with one added by hand reaches neither the internet nor another
# network, nor does the internet reach it; a container on [back, front] gets eth0 in back and
# eth1 in front, host ends ve-duo and ve-duo-1, and its default route via front.
# (b) ip_forward is 0 before up, 1 after, 0 after down; when it was already 1, down leaves it
# 1; the namespace's own tables survive up and down unchanged, and after down the namespace's
# ruleset, links, addresses and routes are exactly as before up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init nis
for c in nc ss nft; do
	command -v "$c" >/dev/null || skip "needs $c (netcat-openbsd, iproute2, nftables)"
done

# pings WHAT NS ADDR / ping_fails WHAT NS ADDR
pings() {
	wait_until 10 nsx "$2" ping -c 1 -W 1 "$3" || fail "$1: $2 cannot ping $3"
	echo "ok - $1"
}
ping_fails() {
	nsx "$2" ping -c 1 -W 1 "$3" >/dev/null 2>&1 && fail "$1: $2 pinged $3"
	echo "ok - $1"
}
# ip4 NS IFNAME: the interface's IPv4 address, without its length
ip4() { ip -n "$1" -j addr show dev "$2" | jq -r '[.[0].addr_info[]? | select(.family == "inet") |
	.local][0] // ""'; }
defroute() { ip -n "$1" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"'; }

# ---- (a) isolation, connect, internal ----
T=$PFX H=$PFX-host I=$PFX-internet
F=$KT_TMP/isolation.yaml
cat >"$F" <<'EOF'
nodes:
  internet: {routes: [10.20.0.0/16 via 192.168.3.101]}
  host: {routes: [default via 192.168.3.1]}
veths:
  - eth0: {addresses: 192.168.3.101/24}
    internet/eth0: {addresses: [192.168.3.1/24, 203.0.113.10/24]}
networks:
  front: {subnet: 10.20.1.0/24, masquerade: true}
  back: {subnet: 10.20.2.0/24, internal: true}
  lone: {subnet: 10.20.3.0/24, masquerade: false}
  pa: {subnet: 10.20.4.0/24, connect: [pb]}
  pb: {subnet: 10.20.5.0/24}
containers:
  f1: {networks: [front]}
  in1: {networks: [back]}
  l1: {networks: [lone]}
  pa1: {networks: [pa]}
  pb1: {networks: [pb]}
  duo: {networks: [back, front]}
EOF
vup "$T" "$F"
wait_until 10 settled "$H" || fail "the bridges' ports did not reach forwarding"
for c in f1:front in1:back l1:lone pa1:pa pb1:pb duo:back duo-1:front; do
	expect_eq "ve-${c%:*} is a port of ${c#*:}" "$(lget "$H" "ve-${c%:*}" .master)" "${c#*:}"
done
F1=$(ip4 "$PFX-f1" eth0) IN1=$(ip4 "$PFX-in1" eth0) L1=$(ip4 "$PFX-l1" eth0)
PA1=$(ip4 "$PFX-pa1" eth0) PB1=$(ip4 "$PFX-pb1" eth0)
expect_eq "addresses of l1 pa1 pb1 (IPAM: the lowest free)" "$L1 $PA1 $PB1" \
	"10.20.3.2 10.20.4.2 10.20.5.2"
# f1 and duo share front, in1 and duo back: which gets .2 is IPAM's choice
expect_eq "front: f1 and duo's eth1" \
	"$(printf '%s\n' "$F1" "$(ip4 "$PFX-duo" eth1)" | sort | tr '\n' ' ')" "10.20.1.2 10.20.1.3 "
expect_eq "back: in1 and duo's eth0" \
	"$(printf '%s\n' "$IN1" "$(ip4 "$PFX-duo" eth0)" | sort | tr '\n' ' ')" "10.20.2.2 10.20.2.3 "
expect_eq "duo's default route (front: back is internal)" "$(defroute "$PFX-duo")" "10.20.1.1 eth1"
for c in f1:10.20.1.1 l1:10.20.3.1 pa1:10.20.4.1 pb1:10.20.5.1; do
	expect_eq "${c%:*}'s default route" "$(defroute "$PFX-${c%:*}")" "${c#*:} eth0"
done
expect_eq "in1's default route (internal: none)" "$(defroute "$PFX-in1")" ""
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"

L=$KT_TMP/log
mkdir "$L"
tcp_server "$I" 80 "$L/internet"
for c in f1 l1 pa1 pb1; do tcp_server "$PFX-$c" 80 "$L/$c"; done

# out to the internet: masquerade where asked, the container's own address where not
tcp_reaches "f1 (front, masquerade) reaches the internet server" "$PFX-f1" 203.0.113.10 80 "$L/internet"
expect_eq "the address the server saw from f1" "$PEER" 192.168.3.101
tcp_reaches "l1 (lone, masquerade false) reaches the internet server" "$PFX-l1" 203.0.113.10 80 "$L/internet"
expect_eq "the address the server saw from l1 (its own)" "$PEER" "$L1"
tcp_reaches "pa1 reaches the internet server" "$PFX-pa1" 203.0.113.10 80 "$L/internet"
expect_eq "the address the server saw from pa1" "$PEER" 192.168.3.101

# two networks not connected: nothing either way
ping_fails "front -> lone: no ping" "$PFX-f1" "$L1"
ping_fails "lone -> front: no ping" "$PFX-l1" "$F1"
tcp_fails "front -> lone: no TCP" "$PFX-f1" "$L1" 80
tcp_fails "lone -> front: no TCP" "$PFX-l1" "$F1" 80

# a connected pair: both ways, each seeing the other's own address
pings "pa -> pb (connected): ping" "$PFX-pa1" "$PB1"
pings "pb -> pa (connected from pa's side only): ping" "$PFX-pb1" "$PA1"
tcp_reaches "pa -> pb: TCP" "$PFX-pa1" "$PB1" 80 "$L/pb1"
expect_eq "the address pb1 saw from pa1 (no masquerade between networks)" "$PEER" "$PA1"
tcp_reaches "pb -> pa: TCP" "$PFX-pb1" "$PA1" 80 "$L/pa1"
expect_eq "the address pa1 saw from pb1" "$PEER" "$PB1"
# ... and isolated from the rest
ping_fails "pa -> front: no ping" "$PFX-pa1" "$F1"
tcp_fails "pa -> front: no TCP" "$PFX-pa1" "$F1" 80
ping_fails "front -> pb: no ping" "$PFX-f1" "$PB1"
tcp_fails "front -> pb: no TCP" "$PFX-f1" "$PB1" 80

# internal: no way out, even with a default route added by hand; no way in
ping_fails "in1 (internal, no route) cannot reach the internet server" "$PFX-in1" 203.0.113.10
ip -n "$PFX-in1" route add default via 10.20.2.1
ping_fails "in1, with a default route by hand: still no ping to the internet" "$PFX-in1" 203.0.113.10
tcp_fails "in1, with a default route by hand: still no TCP to the internet" "$PFX-in1" 203.0.113.10 80
ping_fails "in1, with a default route by hand: no ping to front" "$PFX-in1" "$F1"
tcp_fails "in1, with a default route by hand: no TCP to front" "$PFX-in1" "$F1" 80
ip -n "$PFX-in1" route del default via 10.20.2.1
ping_fails "the internet (routed to 10.20.0.0/16) cannot reach in1" "$I" "$IN1"
ping_fails "front cannot reach in1" "$PFX-f1" "$IN1"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"

stop_servers
expect_rc 0 "$VNET" down "$T"
expect_eq "namespaces left after down" "$(ns_list | tr '\n' ' ')" ""

# ---- (b) no sandbox: forwarding and the namespace's own tables ----
T=$PFX.o O=$PFX-o TABLE=vnet-$PFX.o
own_ns "$O"
FO=$KT_TMP/outer.yaml
cat >"$FO" <<'EOF'
networks:
  nb0: {subnet: 10.30.0.0/24}
containers:
  c1: {networks: [nb0], publish: ["8080:80"]}
EOF
make_foreign "$O" "$TABLE"
forward() { nsx "$O" sysctl -n net.ipv4.ip_forward; }
ruleset() { nsx "$O" nft -j list ruleset | jq -S .; }
own_tables() { foreign_json "$O" "$TABLE"; }
v() { in_outer "$O" "$VNET" "$@"; }
track "$T" "$O"
for before in 0 1; do
	what="(b) ip_forward $before before up"
	nsx "$O" sysctl -qw net.ipv4.ip_forward="$before"
	expect_eq "$what: net.ipv4.ip_forward" "$(forward)" "$before"
	wait_until 10 settled "$O" || fail "$what: $O did not settle"
	rules0=$(ruleset) dump0=$(dump "$O") own0=$(own_tables)
	v up "$FO" --name "$T" || fail "$what: vnet up (no sandbox) in $O failed"
	has_ns "$T-host" && fail "$what: a namespace $T-host was made without --sandbox"
	expect_eq "$what: net.ipv4.ip_forward after up" "$(forward)" 1
	expect_eq "$what: tables after up" "$(nsx "$O" nft -j list tables |
		jq -r '[.nftables[] | .table? // empty | "\(.family) \(.name)"] | sort | join(", ")')" \
		"inet $TABLE, ip keepme, ip $TABLE"
	[ "$(own_tables)" = "$own0" ] ||
		{ diff <(echo "$own0") <(own_tables) || true; fail "$what: $O's own tables changed"; }
	echo "ok - $what: $O's own tables ip keepme and inet $TABLE are unchanged after up"
	wait_until 10 settled "$O" || fail "$what: $O did not settle after up"
	pings "$what: c1 reaches its gateway nb0" "$T-c1" 10.30.0.1
	expect_rc 0 v diff "$FO" --name "$T"
	expect_rc 0 v down "$T"
	expect_eq "$what: net.ipv4.ip_forward after down" "$(forward)" "$before"
	diff <(echo "$rules0") <(ruleset) || fail "$what: $O's ruleset differs from before up"
	echo "ok - $what: $O's ruleset after down is as before up (its own tables alone, unchanged)"
	wait_until 10 settled "$O" || fail "$what: $O did not settle after down"
	diff <(echo "$dump0") <(dump "$O") || fail "$what: $O differs from before vnet up"
	echo "ok - $what: $O is exactly as before up (links, addresses, routes, ruleset, forwarding)"
done
