#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nosandbox.sh - without --sandbox the host part lands in the namespace vnet runs in.
#
# +--------------------------------------------+-------------------+-------------------+
# |  outer namespace NAME-o (made by the test, |  node c1          |  node c2          |
# |  standing in for the machine's own)        |  (NAME-c1)        |  (NAME-c2)        |
# |      +--------+     +---------+            |     +-------+     |     +-------+     |
# |      |  .9.1  |<--->| veth-c1 |<------------------>| eth0  |     |     | eth0  |     |
# |      |   br0  |     +---------+            |     |  .9.2 |     |     |  .9.3 |     |
# |      +--------+     +---------+            |     +-------+     |     +-------+     |
# |           ↑-------->| veth-c2 |<-------------------------------------->↑           |
# |                     +---------+            |                   |                   |
# |   mine0 <---> mine1  (the test's own pair, .50.1/24: not vnet's)                   |
# +--------------------------------------------+-------------------+-------------------+
#
# Proves: `vnet up examples/docker-explicit.yaml` without --sandbox puts br0 and the host ends of the
# veths in the namespace it runs in (no NAME-host), the nodes in NAME-NODE, tags every link it
# made with the alias vnet:NAME; the network works; and `vnet down` removes exactly those,
# leaving the namespace's own interfaces, addresses and routes as they were.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init ns

T=$PFX O=$PFX-o C1=$PFX-c1 C2=$PFX-c2
own_ns "$O"
ip -n "$O" link add mine0 type veth peer name mine1
ip -n "$O" addr add 192.168.50.1/24 dev mine0
ip -n "$O" link set mine0 up
ip -n "$O" link set mine1 up
wait_until 10 settled "$O" || fail "$O did not settle"
before=$(dump "$O")

track "$T" "$O"
in_outer "$O" "$VNET" up examples/docker-explicit.yaml --name "$T" || fail "vnet up (no sandbox) in $O"
has_ns "$T-host" && fail "a namespace $T-host was made without --sandbox"
for n in "$C1" "$C2"; do has_ns "$n" || fail "no namespace $n"; done
expect_eq "vnet list: not a sandbox" \
	"$("$VNET" list --json | jq -r --arg n "$T" '.[] | select(.name == $n) | .sandbox')" false

# Every link vnet made carries its tag; the test's own links and lo do not.
expect_eq "tagged links in $O" "$(ip -n "$O" -j link |
	jq -r --arg t "vnet:$T" '[.[] | select(.ifalias == $t) | .ifname] | sort | join(" ")')" \
	"br0 veth-c1 veth-c2"
expect_eq "untagged links in $O" "$(ip -n "$O" -j link |
	jq -r '[.[] | select((.ifalias // "") == "") | .ifname] | sort | join(" ")')" "lo mine0 mine1"
for n in "$C1" "$C2"; do
	expect_eq "eth0 tag in $n" "$(lget "$n" eth0 .ifalias)" "vnet:$T"
done
expect_eq "br0 kind" "$(lget "$O" br0 .linkinfo.info_kind)" bridge
expect_eq "br0 address" "$(addrs "$O" br0)" 192.168.9.1/24
for c in c1 c2; do
	expect_eq "veth-$c master" "$(lget "$O" "veth-$c" .master)" br0
done
expect_eq "mine0 address untouched" "$(addrs "$O" mine0)" 192.168.50.1/24

wait_until 10 settled "$O" || fail "br0's ports did not reach forwarding"
nsx "$C1" ping -c 1 -W 2 192.168.9.3 || fail "c1 cannot reach c2"
nsx "$C1" ping -c 1 -W 2 192.168.9.1 || fail "c1 cannot reach br0 in the outer namespace"
expect_rc 0 in_outer "$O" "$VNET" diff examples/docker-explicit.yaml --name "$T"

# ---- down: exactly what vnet made goes ----
expect_rc 0 in_outer "$O" "$VNET" down "$T"
for n in "$C1" "$C2"; do has_ns "$n" && fail "namespace $n still there after down"; done
wait_until 10 settled "$O" || fail "$O did not settle"
diff <(echo "$before") <(dump "$O") || fail "$O differs from before vnet up"
echo "ok - $O is exactly as before vnet up (links, addresses, routes)"
expect_eq "state store rows for $T" \
	"$("$VNET" list --json | jq -c --arg n "$T" 'map(select(.name == $n))')" "[]"
