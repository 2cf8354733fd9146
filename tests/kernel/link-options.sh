#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# link-options.sh - MTU, MAC, IPv4 and IPv6 addresses and routes reach the kernel and carry traffic.
#
# +-------------------------------+-------------------------------+-------------------+
# |             node a            |             node b            |       node c      |
# |  +-------------------------+  |  +-------------------------+  |  +-------------+  |
# |  |  Network Protocol Stack |  |  |  Network Protocol Stack |  |  |    Stack    |  |
# |  +-------------------------+  |  +-------------------------+  |  +-------------+  |
# |               ↑               |         ↑             ↑       |         ↑         |
# |...............|...............|.........|.............|.......|.........|.........|
# |          +---------+          |    +---------+   +---------+  |    +---------+    |
# |          |  eth0   |<--------------->|  eth0   |   |  eth1   |<------->|  eth0   |    |
# |          +---------+          |    +---------+   +---------+  |    +---------+    |
# |  10.7.0.1/24 fd07::1/64       | 10.7.0.2 fd07::2  10.8.0.1 fd08::1 | 10.8.0.2 fd08::2 |
# |  mtu 1400, mac 02:..:07:01    |  mtu 1400, mac 02:..:07:02    |                   |
# |  routes: 10.8.0.0/24, fd08::/64 via b                         |                   |
# +-------------------------------+-------------------------------+-------------------+
#
# Proves: mtu and mac of both veth ends are set (ip -j link) and the MTU holds for real
# packets (a 1400-byte packet passes with DF, 1401 does not); IPv4 and IPv6 addresses are
# usable at once (no DAD wait) and a ping crosses over each; routes via a gateway reach b's
# other subnet in both families; a TCP connection carries data from a to b over the route;
# an MTU changed by hand is drift that `vnet up` puts back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init lo
command -v nc >/dev/null || skip "needs nc (netcat-openbsd) for the TCP check"

T=$PFX A=$PFX-a B=$PFX-b
F=$KT_TMP/links.yaml
cat >"$F" <<'YAML'
nodes:
  a: {routes: ["10.8.0.0/24 via 10.7.0.2", "fd08::/64 via fd07::2"]}
  b:
  c:
veths:
  - a/eth0: {addresses: [10.7.0.1/24, "fd07::1/64"], mtu: 1400, mac: "02:00:00:00:07:01"}
    b/eth0: {addresses: [10.7.0.2/24, "fd07::2/64"], mtu: 1400, mac: "02:00:00:00:07:02"}
  - b/eth1: {addresses: [10.8.0.1/24, "fd08::1/64"]}
    c/eth0: {addresses: [10.8.0.2/24, "fd08::2/64"]}
YAML
vup "$T" "$F"

for n in a b; do
	expect_eq "$n/eth0 mtu" "$(lget "$PFX-$n" eth0 .mtu)" 1400
done
expect_eq "a/eth0 mac" "$(lget "$A" eth0 .address)" 02:00:00:00:07:01
expect_eq "b/eth0 mac" "$(lget "$B" eth0 .address)" 02:00:00:00:07:02
expect_eq "a/eth0 addresses" "$(addrs "$A" eth0 | tr '\n' ' ')" "10.7.0.1/24 fd07::1/64 "
expect_eq "a's routes" "$(ip -n "$A" -j route show proto 118 | jq -r '.[] | "\(.dst) \(.gateway)"';
	ip -n "$A" -6 -j route show proto 118 | jq -r '.[] | "\(.dst) \(.gateway)"')" \
	"10.8.0.0/24 10.7.0.2
fd08::/64 fd07::2"
expect_eq "no tentative IPv6 address" \
	"$(ip -n "$A" -j -6 addr show dev eth0 | jq '[.[0].addr_info[] | select(.tentative and .scope == "global")] | length')" 0

nsx "$A" ping -c 1 -W 2 10.7.0.2 >/dev/null || fail "a cannot reach b over IPv4"
nsx "$A" ping -6 -c 1 -W 2 fd07::2 >/dev/null || fail "a cannot reach b over IPv6"
nsx "$A" ping -c 1 -W 2 10.8.0.1 >/dev/null || fail "a cannot reach b's 10.8.0.1 through its route"
nsx "$A" ping -6 -c 1 -W 2 fd08::1 >/dev/null || fail "a cannot reach b's fd08::1 through its route"
echo "ok - pings over both families, direct and routed"

# The MTU for real: 1372 bytes of ICMP payload + 28 of headers = 1400 passes with DF set.
nsx "$A" ping -M do -s 1372 -c 1 -W 2 10.7.0.2 >/dev/null || fail "a 1400-byte packet did not pass"
if nsx "$A" ping -M do -s 1373 -c 1 -W 2 10.7.0.2 >/dev/null 2>&1; then
	fail "a 1401-byte packet with DF passed an MTU of 1400"
fi
echo "ok - MTU 1400 holds on the wire"

# TCP over the route: a listener on b's 10.8.0.1, a client in a.
nsx "$B" timeout 10 nc -l -N 10.8.0.1 5555 >"$KT_TMP/got" &
bg_pid $!
wait_until 5 bash -c "ip netns exec '$B' ss -ltn | grep -q '10.8.0.1:5555'" ||
	fail "the TCP listener did not start"
echo "hello over tcp" | nsx "$A" timeout 5 nc -N 10.8.0.1 5555 || fail "the TCP client failed"
wait_until 5 grep -q "hello over tcp" "$KT_TMP/got" || fail "b did not receive the TCP data"
echo "ok - TCP from a reaches b's 10.8.0.1 through the route"

# Drift: an MTU changed by hand is reported and put back, alone.
ip -n "$B" link set eth0 mtu 1300
expect_rc 1 "$VNET" diff "$F" --sandbox --name "$T"
expect_eq "the drift" "$(plan_steps "$T" "$F")" "~ set eth0 in $B: mtu"
vup "$T" "$F"
expect_eq "b/eth0 mtu restored" "$(lget "$B" eth0 .mtu)" 1400
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
echo "PASS: link-options.sh"
