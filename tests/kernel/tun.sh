#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tun.sh - seed section 1: tun0 joins the protocol stack to "User Application B" (tapio).
#
# +----------------------------------------------------------------+
# |  host (NAME-host)                                              |
# |                               +--------------------+           |
# |                               | User Application B |<-----+    |
# |                               |  tapio, .3.12      |      |    |
# |                               +--------------------+      |    |
# |                                                           |    |
# |             +------------------------+                    |    |
# |             | Network Protocol Stack |  ping .3.12        |    |
# |             +------------------------+                    |    |
# |                            ↑ ↓                            |    |
# |                     +----------------+  raw IP packets    |    |
# |                     |      tun0      |--------------------+    |
# |                     +----------------+                         |
# |                       192.168.3.11/24                          |
# +----------------------------------------------------------------+
#
# Proves: examples/tun.yaml makes a persistent layer-3 tun with its address; a program
# attaching with IFF_TUN|IFF_NO_PI reads the stack's IP packets (no Ethernet, no ARP) and its
# replies reach the stack, both ways: the namespace pings tapio, and tapio pings 192.168.3.11.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init tun
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun/tap driver missing)"
[ -x "$TAPIO" ] || skip "no tapio helper at $TAPIO (build first)"

T=$PFX H=$PFX-host
vup "$T" examples/tun.yaml
expect_eq "tun0 kind" "$(lget "$H" tun0 .linkinfo.info_kind)" tun
expect_eq "tun0 type, pi, persist" \
	"$(lget "$H" tun0 '.linkinfo.info_data | "\(.type) \(.pi) \(.persist)"')" "tun false true"
expect_eq "tun0 link type (no Ethernet header)" "$(lget "$H" tun0 .link_type)" none
expect_eq "tun0 addresses" "$(addrs "$H" tun0)" 192.168.3.11/24
expect_eq "tun0 has no carrier while no program holds it" \
	"$(lget "$H" tun0 '.flags | index("NO-CARRIER") != null')" true

# ---- the stack pings tapio: 192.168.3.12 is routed through tun0 (its connected subnet) ----
expect_eq "route to 192.168.3.12" "$(ip -n "$H" -j route get 192.168.3.12 | jq -r '.[0].dev')" \
	tun0
log=$KT_TMP/tapio.log
ip netns exec "$H" timeout -k 2 30 "$TAPIO" tun0 --tun --ip 192.168.3.12 --serve 25 \
	>"$log" 2>&1 &
bg_pid $!
carrier() { lget "$H" tun0 '.flags | index("LOWER_UP") != null' | grep -qx true; }
wait_until 10 carrier || { cat "$log"; fail "tun0 got no carrier with tapio attached"; }
nsx "$H" ping -c 2 -W 2 192.168.3.12 || { cat "$log"; fail "no echo reply from tapio over tun0"; }
cat "$log"
grep -q "answered ICMP echo request from 192.168.3.11" "$log" ||
	fail "tapio did not log the echo request from the stack"
kill "$(jobs -p)" 2>/dev/null || true
wait || true

# ---- tapio pings the stack's own address on tun0 ----
timeout -k 2 30 ip netns exec "$H" "$TAPIO" tun0 --tun --ip 192.168.3.12 --ping 192.168.3.11 \
	--timeout 10 || fail "tapio got no echo reply from 192.168.3.11 over tun0"

wait_until 10 bash -c "! ip -n $H -j link show tun0 | jq -e '.[0].flags | index(\"LOWER_UP\")'" ||
	fail "tun0 kept its carrier after tapio exited"
expect_eq "tun0 still there, persistent" "$(lget "$H" tun0 .linkinfo.info_data.persist)" true
expect_rc 0 "$VNET" diff examples/tun.yaml --sandbox --name "$T"
