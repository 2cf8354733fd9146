#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docker.sh - seed section 3.2 "docker", the whole figure: br0 is the gateway of two
# containers, NATed to the host's NIC eth0; the outside world is a node; drift repaired.
#
# +----------------------------------------------+------------------+------------------+
# |               Host (NAME-host)               | Container 1 (c1) | Container 2 (c2) |
# |  +----------------------------------------+  |  +------------+  |  +------------+  |
# |  |         Network Protocol Stack         |  |  |   Stack    |  |  |   Stack    |  |
# |  |  nft table ip vnet-NAME: masquerade    |  |  | nc -lk 80  |  |  |            |  |
# |  |  out of .9.0/24, 8080/tcp -> c1:80     |  |  +------------+  |  +------------+  |
# |  +----------------------------------------+  |        ↑         |        ↑         |
# |      ↑              ↑                        |        |         |        |         |
# |......|..............|........................|........|.........|........|.........|
# |  +--------+     +--------+                   |    +-------+     |    +-------+     |
# |  | .3.101 |     |  .9.1  |                   |    |  .9.2 |     |    |  .9.3 |     |
# |  +--------+     +--------+     +-------+     |    +-------+     |    +-------+     |
# |  |  eth0  |     |   br0  |<--->| ve-c1 |<-------->| eth0  |     |    | eth0  |     |
# |  +--------+     +--------+     +-------+     |    +-------+     |    +-------+     |
# |      ↑              ↑          +-------+     |                  |        ↑         |
# |      |              +--------->| ve-c2 |<--------------------------------+         |
# |      |                         +-------+     | default via .9.1 | default via .9.1 |
# |      |     default via 192.168.3.1           |  (static .9.2)   |  (IPAM: .9.3)    |
# +------|---------------------------------------+------------------+------------------+
#        ↓  (a veth pair: "Physical Network (192.168.3.0/24)")
# +------|-----------------------------------------+
# |  +--------+   internet (NAME-internet)         |
# |  |  eth0  |   192.168.3.1/24 (the LAN router)  |
# |  +--------+   203.0.113.10/24 (a server:       |
# |               nc -lk 80, logs each peer)       |
# +------------------------------------------------+
#
# Proves: examples/docker.yaml gives each container its address (c1 its static one, c2 the
# lowest free one from IPAM) and its default route through br0, whose ports are ve-c1 and
# ve-c2; containers reach each other and the gateway; c1 reaches the server out on the
# internet, and the server sees the host's address 192.168.3.101 (masquerade, seen from the
# far side); a client out on the internet reaches c1's port 80 through 192.168.3.101:8080;
# `vnet diff` sees no drift, then names an address deleted by hand (exit 1), and `vnet up`
# restores exactly what was lost, nothing else.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init dk
command -v nc >/dev/null || skip "needs nc (netcat-openbsd)"
command -v ss >/dev/null || skip "needs ss (iproute2)"

T=$PFX H=$PFX-host C1=$PFX-c1 C2=$PFX-c2 I=$PFX-internet
F=examples/docker.yaml
vup "$T" "$F"
for c in c1 c2; do
	expect_eq "$c default route" "$(ip -n "$PFX-$c" -j route show default |
		jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.9.1 eth0"
	expect_eq "$c master of ve-$c" "$(lget "$H" "ve-$c" .master)" br0
done
expect_eq "c1 address (static)" "$(addrs "$C1" eth0)" 192.168.9.2/24
expect_eq "c2 address (IPAM, the lowest free)" "$(addrs "$C2" eth0)" 192.168.9.3/24
expect_eq "br0 address" "$(addrs "$H" br0)" 192.168.9.1/24
expect_eq "the host's NIC eth0" "$(addrs "$H" eth0)" 192.168.3.101/24
expect_eq "the host's default route" "$(ip -n "$H" -j route show default |
	jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.3.1 eth0"
expect_eq "internet's eth0" "$(addrs "$I" eth0 | tr '\n' ' ')" "192.168.3.1/24 203.0.113.10/24 "
wait_until 10 settled "$H" || fail "br0's ports did not reach forwarding"
nsx "$C1" ping -c 1 -W 2 192.168.9.3 || fail "c1 cannot reach c2"
nsx "$C1" ping -c 1 -W 2 192.168.9.1 || fail "c1 cannot reach the gateway br0"
nsx "$C2" ping -c 1 -W 2 192.168.9.1 || fail "c2 cannot reach the gateway br0"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
# the state store records ownership: readable by root alone
for f in "$VNET_STATE_DIR"/state.db*; do
	expect_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done

# ---- NAT: out through masquerade, in through the published port ----
tcp_server "$I" 80 "$KT_TMP/internet.log"
tcp_server "$C1" 80 "$KT_TMP/c1.log"
tcp_reaches "c1 reaches the server on the internet (203.0.113.10:80)" \
	"$C1" 203.0.113.10 80 "$KT_TMP/internet.log"
expect_eq "the source address the internet server saw from c1 (masquerade)" "$PEER" 192.168.3.101
tcp_reaches "c2 reaches the server on the internet too" \
	"$C2" 203.0.113.10 80 "$KT_TMP/internet.log"
expect_eq "the source address the internet server saw from c2 (masquerade)" "$PEER" 192.168.3.101
tcp_reaches "a client on the internet reaches c1:80 through 192.168.3.101:8080 (published)" \
	"$I" 192.168.3.101 8080 "$KT_TMP/c1.log"

# ---- drift: c2's address deleted by hand ----
ip -n "$C2" addr del 192.168.9.3/24 dev eth0
wait_until 10 settled "$H" "$C1" "$I" || fail "namespaces did not settle"
others_before=$(dump_ns "$H" "$C1" "$I")
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
expect_eq "c2 address repaired (IPAM kept its lease)" "$(addrs "$C2" eth0)" 192.168.9.3/24
expect_eq "c2 default route repaired" "$(ip -n "$C2" -j route show default |
	jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.9.1 eth0"
diff <(echo "$others_before") <(dump_ns "$H" "$C1" "$I") ||
	fail "the repair changed c1, the host or the internet"
echo "ok - the repair left c1, the host and the internet as they were"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
nsx "$C2" ping -c 1 -W 2 192.168.9.2 || fail "c2 cannot reach c1 after the repair"
tcp_reaches "after the repair, c2 reaches the internet server again" \
	"$C2" 203.0.113.10 80 "$KT_TMP/internet.log"
expect_eq "the source address the internet server saw from c2 after the repair" "$PEER" 192.168.3.101
