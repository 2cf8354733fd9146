#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# veth.sh - seed section 2: a veth pair, both ends in the stack, each with its address.
#
# +----------------------------------------------------------------+
# |       +------------------------------------------------+       |
# |       |             Network Protocol Stack             |       |
# |       +------------------------------------------------+       |
# |                       ↑               ↑                        |
# |.......................|...............|........................|
# |                       ↓               ↓                        |
# |                 +-----------+   +-----------+                  |
# |                 |   veth0   |   |   veth1   |                  |
# |                 +-----------+   +-----------+                  |
# |                       ↑               ↑                        |
# |                       +---------------+                        |
# |                 192.168.2.11     192.168.2.1                   |
# +----------------------------------------------------------------+
#   part 1: examples/veth.yaml, both ends in NAME-host, as in the figure;
#   part 2: the same pair with veth0 in node a and veth1 in node b, so traffic must cross it.
#
# Proves: vnet makes both ends as veth peers of each other, up, with their addresses; a ping
# crosses the pair; and (the seed's remark) veth1 answers ARP only for its own address.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init ve

# ---- part 1: the seed's figure as written, one namespace ----
T=$PFX
vup "$T" examples/veth.yaml
H=$T-host
for end in veth0:veth1 veth1:veth0; do
	me=${end%%:*} peer=${end#*:}
	expect_eq "$me kind" "$(lget "$H" "$me" .linkinfo.info_kind)" veth
	expect_eq "$me peer" "$(lget "$H" "$me" .link)" "$peer"
	expect_eq "$me admin up" "$(lget "$H" "$me" '.flags | index("UP") != null')" true
	expect_eq "$me operstate" "$(lget "$H" "$me" .operstate)" UP
	expect_eq "$me tag" "$(lget "$H" "$me" .ifalias)" "vnet:$T"
done
expect_eq "veth0 addresses" "$(addrs "$H" veth0)" 192.168.2.11/24
expect_eq "veth1 addresses" "$(addrs "$H" veth1)" 192.168.2.1/24
# Both addresses are local to one stack here, so a ping between them is delivered through lo,
# never through the pair: it proves the addresses work, not the wire. Part 2 tests the wire.
nsx "$H" ping -c 1 -W 2 192.168.2.1 >/dev/null || fail "ping 192.168.2.1 in $H"
expect_eq "route to 192.168.2.1 in one namespace" \
	"$(ip -n "$H" -j route get 192.168.2.1 | jq -r '.[0].dev')" lo

# ---- part 2: veth0 in node a, veth1 in node b ----
T2=$PFX.2
cat >"$KT_TMP/veth2.yaml" <<'EOF'
nodes:
  a:
  b:
veths:
  - a/veth0: {addresses: 192.168.2.11/24}
    b/veth1: {addresses: 192.168.2.1/24}
EOF
vup "$T2" "$KT_TMP/veth2.yaml"
A=$T2-a B=$T2-b
# Across namespaces `ip -j link` names the peer by index and namespace id, not by name.
idx1=$(lget "$B" veth1 .ifindex)
expect_eq "a/veth0 peer index" "$(lget "$A" veth0 .link_index)" "$idx1"
nsid=$(lget "$A" veth0 .link_netnsid)
expect_eq "a/veth0 peer namespace" \
	"$(ip -n "$A" netns list-id | awk -v id="$nsid" '$2 == id {sub(/\)$/, "", $NF); print $NF}')" "$B"
expect_eq "b/veth1 peer index" "$(lget "$B" veth1 .link_index)" "$(lget "$A" veth0 .ifindex)"
tx0=$(ip -n "$A" -s -j link show veth0 | jq '.[0].stats64.tx.packets')
nsx "$A" ping -c 2 -W 2 192.168.2.1 || fail "ping from a/veth0 to b/veth1 (192.168.2.1)"
tx1=$(ip -n "$A" -s -j link show veth0 | jq '.[0].stats64.tx.packets')
[ "$tx1" -ge $((tx0 + 3)) ] || fail "the ping did not leave through veth0 (tx $tx0 -> $tx1)"
echo "ok - the ping crossed the pair (veth0 tx packets $tx0 -> $tx1)"
expect_eq "neighbour 192.168.2.1 resolved to veth1's MAC" \
	"$(ip -n "$A" -j neigh show 192.168.2.1 dev veth0 | jq -r '.[0].lladdr')" \
	"$(lget "$B" veth1 .address)"

# The seed: "if the destination is veth1's IP the stack handles it, otherwise it does not
# even get past ARP". 192.168.2.99 is in the subnet but on no interface: veth1 hears the ARP
# request and does not answer it, so the neighbour entry never resolves.
if nsx "$A" ping -c 1 -W 2 192.168.2.99; then
	fail "192.168.2.99 (no one's address) answered a ping through veth0"
fi
state=$(ip -n "$A" -j neigh show 192.168.2.99 dev veth0 | jq -r '.[0].state[0] // "none"')
case $state in
INCOMPLETE | FAILED) echo "ok - neighbour 192.168.2.99 on veth0 is $state" ;;
*) fail "neighbour 192.168.2.99 on veth0: expected INCOMPLETE or FAILED, got $state" ;;
esac
