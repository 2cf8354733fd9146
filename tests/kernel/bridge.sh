#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bridge.sh - seed section 3.1: br0 alone, veth0 as its port, the address moved to br0.
#
# +----------------------------------------------------------------+
# |       +------------------------------------------------+       |
# |       |             Network Protocol Stack             |       |
# |       +------------------------------------------------+       |
# |                   ↑                           ↑                |
# |...................|...........................|................|
# |                   ↓                           ↓                |
# |              +--------+     +-------+    +-------+             |
# |              | .3.101 |     |       |    | .3.102|             |
# |              +--------+     +-------+    +-------+             |
# |              |   br0  |<--->| veth0 |    | veth1 |             |
# |              +--------+     +-------+    +-------+             |
# |                                 ↑            ↑                 |
# |                                 +------------+                 |
# +----------------------------------------------------------------+
#   (the figure's eth0 is not part of the files), and for forwarding between ports:
#
#        n1/eth0 (.5.1) <---> veth-n1 --+-- br0 --+-- veth-n2 <---> n2/eth0 (.5.2)
#
# Proves: bridge.yaml makes a bare bridge; bridge-veth.yaml makes veth0 its port;
# bridge-ip.yaml applied over bridge-veth.yaml is only an address move, after which veth1's
# side reaches .3.101 on br0 (and did not before, as the seed says); a bridge forwards between
# its ports and learns the MACs of the nodes behind them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init br

# ---- bridge.yaml: br0 alone ----
T1=$PFX.1 H1=$PFX.1-host
vup "$T1" examples/bridge.yaml
expect_eq "br0 kind" "$(lget "$H1" br0 .linkinfo.info_kind)" bridge
expect_eq "br0 admin up" "$(lget "$H1" br0 '.flags | index("UP") != null')" true
expect_eq "br0 ports" "$(bridge -n "$H1" -j link | jq -c '[.[] | select(.master == "br0")]')" "[]"

# ---- bridge-veth.yaml, then bridge-ip.yaml under the same name ----
T2=$PFX.2 H2=$PFX.2-host
vup "$T2" examples/bridge-veth.yaml
expect_eq "veth0 master (bridge link)" \
	"$(bridge -n "$H2" -j link | jq -r '.[] | select(.ifname == "veth0") | .master')" br0
expect_eq "veth1 is not a port" \
	"$(bridge -n "$H2" -j link | jq -r '[.[] | select(.ifname == "veth1")] | length')" 0
expect_eq "veth0 addresses" "$(addrs "$H2" veth0)" 192.168.3.101/24
expect_eq "br0 addresses" "$(addrs "$H2" br0)" ""

move="- delete address 192.168.3.101/24 from veth0 in $H2
+ add address 192.168.3.101/24 to br0 in $H2"
expect_eq "bridge-veth -> bridge-ip plan" "$(plan_steps "$T2" examples/bridge-ip.yaml)" "$move"
vup "$T2" examples/bridge-ip.yaml
expect_eq "veth0 addresses after the move" "$(addrs "$H2" veth0)" ""
expect_eq "br0 addresses after the move" "$(addrs "$H2" br0)" 192.168.3.101/24
expect_eq "veth0 still a port" "$(lget "$H2" veth0 .master)" br0
expect_eq "re-run plan" "$(plan_steps "$T2" examples/bridge-ip.yaml)" ""

# The same two files with veth1 in a node n, so that "veth1's side reaches br0" is a packet
# through the pair and the bridge, not a local delivery through lo.
for f in bridge-veth bridge-ip; do
	sed 's|^    veth1:|    n/veth1:|' "examples/$f.yaml" >"$KT_TMP/$f.yaml"
	printf 'nodes:\n  n:\n' >>"$KT_TMP/$f.yaml"
	grep -q 'n/veth1' "$KT_TMP/$f.yaml" || fail "could not derive $f with veth1 in a node"
done
T3=$PFX.3 H3=$PFX.3-host N3=$PFX.3-n
vup "$T3" "$KT_TMP/bridge-veth.yaml"
# Seed: with veth0 a port, its address is of no use: frames from veth1 go to br0, not the stack.
if nsx "$N3" ping -c 1 -W 1 192.168.3.101 >/dev/null; then
	fail "192.168.3.101 on the port veth0 answered from veth1's side"
fi
echo "ok - .3.101 on the port veth0 is unreachable from veth1's side"
move3=${move//$H2/$H3}
expect_eq "moved-address plan (node variant)" \
	"$(plan_steps "$T3" "$KT_TMP/bridge-ip.yaml")" "$move3"
vup "$T3" "$KT_TMP/bridge-ip.yaml"
nsx "$N3" ping -c 2 -W 2 192.168.3.101 || fail "veth1's side cannot reach 192.168.3.101 on br0"

# ---- forwarding between two ports ----
T4=$PFX.4 H4=$PFX.4-host
cat >"$KT_TMP/two.yaml" <<'EOF'
nodes:
  n1:
  n2:
bridges:
  br0:
veths:
  - veth-n1: {master: br0}
    n1/eth0: {addresses: 192.168.5.1/24}
  - veth-n2: {master: br0}
    n2/eth0: {addresses: 192.168.5.2/24}
EOF
vup "$T4" "$KT_TMP/two.yaml"
wait_until 10 settled "$H4" || fail "ports of br0 did not reach forwarding"
nsx "$PFX.4-n1" ping -c 2 -W 2 192.168.5.2 || fail "n1 cannot reach n2 through br0"
for n in n1 n2; do
	mac=$(lget "$PFX.4-$n" eth0 .address)
	port=$(bridge -n "$H4" -j fdb show br br0 |
		jq -r --arg m "$mac" '.[] | select(.mac == $m and .state != "permanent") | .ifname')
	expect_eq "fdb learned $n's MAC $mac on" "$port" "veth-$n"
done
