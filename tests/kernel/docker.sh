#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docker.sh - seed section 3.2 "docker": br0 is the gateway of two containers; drift repaired.
#
# +---------------------------------------+-------------------+-------------------+
# |            Host (NAME-host)           |  Container 1 (c1) |  Container 2 (c2) |
# |  +---------------------------------+  |  +-------------+  |  +-------------+  |
# |  |     Network Protocol Stack      |  |  |    Stack    |  |  |    Stack    |  |
# |  +---------------------------------+  |  +-------------+  |  +-------------+  |
# |           ↑                           |         ↑         |         ↑         |
# |...........|...........................|.........|.........|.........|.........|
# |      +--------+                       |     +-------+     |     +-------+     |
# |      |  .9.1  |                       |     |  .9.2 |     |     |  .9.3 |     |
# |      +--------+     +---------+       |     +-------+     |     +-------+     |
# |      |   br0  |<--->| veth-c1 |<----------->| eth0  |     |     | eth0  |     |
# |      +--------+     +---------+       |     +-------+     |     +-------+     |
# |           ↑         +---------+       |                   |         ↑         |
# |           +-------->| veth-c2 |<--------------------------------------+         |
# |                     +---------+       |  default via .9.1 |  default via .9.1 |
# +---------------------------------------+-------------------+-------------------+
#
# Proves: examples/docker.yaml gives each container its address and default route through
# br0; containers reach each other and the gateway; `vnet diff` sees no drift, then names an
# address deleted by hand (exit 1), and `vnet up` restores exactly what was lost, nothing else.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init dk

T=$PFX H=$PFX-host C1=$PFX-c1 C2=$PFX-c2
F=examples/docker.yaml
vup "$T" "$F"
for c in c1 c2; do
	expect_eq "$c default route" "$(ip -n "$PFX-$c" -j route show default |
		jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.9.1 eth0"
	expect_eq "$c master of veth-$c" "$(lget "$H" "veth-$c" .master)" br0
done
expect_eq "c1 address" "$(addrs "$C1" eth0)" 192.168.9.2/24
expect_eq "c2 address" "$(addrs "$C2" eth0)" 192.168.9.3/24
expect_eq "br0 address" "$(addrs "$H" br0)" 192.168.9.1/24
wait_until 10 settled "$H" || fail "br0's ports did not reach forwarding"
nsx "$C1" ping -c 1 -W 2 192.168.9.3 || fail "c1 cannot reach c2"
nsx "$C1" ping -c 1 -W 2 192.168.9.1 || fail "c1 cannot reach the gateway br0"
nsx "$C2" ping -c 1 -W 2 192.168.9.1 || fail "c2 cannot reach the gateway br0"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
# the state store records ownership: readable by root alone
for f in "$VNET_STATE_DIR"/state.db*; do
	expect_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done

# ---- drift: c2's address deleted by hand ----
ip -n "$C2" addr del 192.168.9.3/24 dev eth0
wait_until 10 settled "$H" "$C1" || fail "namespaces did not settle"
others_before=$(dump_ns "$H" "$C1")
# Deleting the address also makes the kernel drop c2's default route (its gateway is no longer
# on a connected subnet), so the drift is two objects: the address and the route.
lost="+ add address 192.168.9.3/24 to eth0 in $C2
+ add route default via 192.168.9.1 in $C2"
expect_rc 1 "$VNET" diff "$F" --sandbox --name "$T"
grep -q "192.168.9.3/24 to eth0 in $C2" <<<"$OUT" || fail "vnet diff does not name the address"
expect_eq "diff --json steps" "$("$VNET" diff "$F" --sandbox --name "$T" --json |
	jq -r '.steps[] | "\(.change) \(.step)"')" "$lost"
expect_eq "repair plan" "$(plan_steps "$T" "$F")" "$lost"
vup "$T" "$F"
expect_eq "c2 address repaired" "$(addrs "$C2" eth0)" 192.168.9.3/24
expect_eq "c2 default route repaired" "$(ip -n "$C2" -j route show default |
	jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.9.1 eth0"
diff <(echo "$others_before") <(dump_ns "$H" "$C1") || fail "the repair changed c1 or the host"
echo "ok - the repair left c1 and the host as they were"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
nsx "$C2" ping -c 1 -W 2 192.168.9.2 || fail "c2 cannot reach c1 after the repair"
