#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tap.sh - seed sections 1 and 3.2 "virtual machines": a QEMU-style tap on br0 beside a node.
#
# +------------------------------------------------------+-----------------+----------------+
# |                 host (NAME-host)                     |  "VM" = tapio   |  node c1       |
# |  +----------------------------------------------+    |  on tap0        |  (NAME-c1)     |
# |  |            Network Protocol Stack            |    |  .3.102         |                |
# |  +----------------------------------------------+    |  (vnet_hdr)     |  +----------+  |
# |                  ↑                                   |       ↑         |  |eth0 .3.103|  |
# |.................|...................................|.......|.........|  +----------+  |
# |             +--------+                               |       |         |       ↑        |
# |             | .3.101 |      +-------+                |       |         |       |        |
# |             |   br0  |<---->| tap0  |<-----------------------+         |       |        |
# |             +--------+      +-------+                |                 |       |        |
# |               ↑    ↑        +-------+                |  tapio on tap1  |       |        |
# |               |    +------->| tap1  |<------------------ .3.104        |       |        |
# |               |             +-------+ (multi_queue)  |  (multi-queue)  |       |        |
# |               |             +---------+              |                 |       |        |
# |               +------------>| veth-c1 |<-------------------------------------- +        |
# |                             +---------+              |                 |                |
# +------------------------------------------------------+-----------------+----------------+
#
# Proves: vnet's taps carry the requested owner, group, vnet_hdr, multi_queue and are
# persistent, with a MAC beginning with fe; show gives each the QEMU -netdev argument that
# opens it; check opens each as QEMU would (as the tap's owner), and explains a tap held by
# another program (EBUSY) and a file whose vnet_hdr or queue mode differs from the device's,
# changing nothing; a program attaching as QEMU does (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, or
# IFF_MULTI_QUEUE) exchanges ARP and ICMP with a node and br0 across the bridge, both ways;
# the tap stays after the program exits, and vnet still finds no drift.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init tap
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun/tap driver missing)"
[ -x "$TAPIO" ] || skip "no tapio helper at $TAPIO (build first)"

T=$PFX H=$PFX-host C1=$PFX-c1
F=$KT_TMP/vm.yaml
cat >"$F" <<'EOF'
nodes: {c1: }
bridges:
  br0: {addresses: 192.168.3.101/24, mtu: 1400}
taps:
  tap0: {master: br0, vnet_hdr: on, owner: 65534, group: 65534}
  tap1: {master: br0, multi_queue: on}
veths:
  - veth-c1: {master: br0}
    c1/eth0: {addresses: 192.168.3.103/24}
EOF
vup "$T" "$F"

# ip prints owner and group by name when the name resolves.
user=$(getent passwd 65534 | cut -d: -f1) && [ -n "$user" ] || user=65534
group=$(getent group 65534 | cut -d: -f1) && [ -n "$group" ] || group=65534
tun_info() { lget "$H" "$1" ".linkinfo.info_data | [.type, .pi, .vnet_hdr, .multi_queue,
	.persist, .user, .group] | map(tostring) | join(\" \")"; }
expect_eq "tap0 tun info (type pi vnet_hdr multi_queue persist user group)" "$(tun_info tap0)" \
	"tap false true false true $user $group"
expect_eq "tap1 tun info (type pi vnet_hdr multi_queue persist user group)" "$(tun_info tap1)" \
	"tap false false true true null null"
for t in tap0 tap1; do
	# the file gives them no MAC: vnet's begins with fe, which a bridge never takes over
	# from a NIC (it takes the lowest of its ports')
	expect_eq "$t's MAC begins with fe" "$(lget "$H" $t .address | cut -c1-3)" "fe:"
	expect_eq "$t master" "$(lget "$H" $t .master)" br0
	expect_eq "$t's MTU (its bridge's: the file gives it none)" "$(lget "$H" $t .mtu)" 1400
	expect_eq "$t has no carrier while no program holds it" \
		"$(lget "$H" $t '.flags | index("NO-CARRIER") != null')" true
done

# ---- what QEMU is told: vnet show's argument per tap, and vnet check opening them so ----
"$VNET" show "$T" >"$KT_TMP/show.txt"
for want in "host/tap0  -netdev tap,id=tap0,ifname=tap0,script=no,downscript=no,vnet_hdr=on" \
	"host/tap1  -netdev tap,id=tap1,ifname=tap1,script=no,downscript=no,vnet_hdr=off,queues=2"; do
	grep -qF "$want" "$KT_TMP/show.txt" || { cat "$KT_TMP/show.txt"; fail "show lacks: $want"; }
done
expect_eq "show --json: tap1's QEMU argument" \
	"$("$VNET" show "$T" --json | jq -r '.nodes[0].links[] | select(.name == "tap1") | .qemu')" \
	"-netdev tap,id=tap1,ifname=tap1,script=no,downscript=no,vnet_hdr=off,queues=2"
# tap0 is opened as its owner, 65534, as QEMU run by that user would
expect_rc 0 "$VNET" check "$F" --sandbox --name "$T" -v
grep -q "ok   tap tap0: QEMU can open it" <<<"$OUT" || fail "check did not open tap0"
grep -q "ok   tap tap1: QEMU can open it" <<<"$OUT" || fail "check did not open tap1"
# the file's flags, owner or queues other than the device's: said in words, nothing changed
F2=$KT_TMP/vm-other.yaml
sed -e 's/tap0: {master: br0, vnet_hdr: on, owner: 65534, group: 65534}/tap0: {master: br0, owner: 65534, group: 65534}/' \
	-e 's/tap1: {master: br0, multi_queue: on}/tap1: {master: br0, owner: 65534}/' "$F" >"$F2"
expect_rc 1 "$VNET" check "$F2" --sandbox --name "$T"
grep -q "tap tap0: open as QEMU: it was made with vnet_hdr on, the file says off" <<<"$OUT" ||
	fail "check does not explain the vnet_hdr mismatch"
grep -q "tap tap1: open as QEMU: it was made with multi_queue, the file says off: QEMU told one queue cannot open it (EINVAL)" <<<"$OUT" ||
	fail "check does not explain the queue-mode mismatch"
expect_eq "tap0 tun info after the failed check: unchanged" "$(tun_info tap0)" \
	"tap false true false true $user $group"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"

# ---- the "VM" pings: ARP then ICMP, through tap0 and br0 to c1, then to br0 itself ----
tapio() { timeout -k 2 30 ip netns exec "$H" "$TAPIO" "$@"; }
out=$(tapio tap0 --vnet-hdr --ip 192.168.3.102 --ping 192.168.3.103 --timeout 10) ||
	{ echo "$out"; fail "tapio on tap0 got no echo reply from c1 (192.168.3.103)"; }
echo "$out"
c1mac=$(lget "$C1" eth0 .address)
grep -q "ARP: 192.168.3.103 is at $c1mac" <<<"$out" || fail "tapio did not resolve c1 to $c1mac"
tapio tap0 --vnet-hdr --ip 192.168.3.102 --ping 192.168.3.101 --timeout 10 ||
	fail "tapio on tap0 got no echo reply from br0 (192.168.3.101)"
# A multi-queue tap must be attached with IFF_MULTI_QUEUE, as QEMU does with queues=N.
tapio tap1 --multi-queue --ip 192.168.3.104 --ping 192.168.3.101 --timeout 10 ||
	fail "tapio on the multi-queue tap1 got no echo reply from br0"

# ---- the node pings the "VM": tapio answers ARP and ICMP ----
log=$KT_TMP/tapio.log
ip netns exec "$H" timeout -k 2 30 "$TAPIO" tap0 --vnet-hdr --ip 192.168.3.102 --serve 25 \
	>"$log" 2>&1 &
bg_pid $!
carrier() { lget "$H" tap0 '.flags | index("LOWER_UP") != null' | grep -qx true; }
wait_until 10 carrier || fail "tap0 got no carrier with tapio attached"
# a single-queue tap takes one opener: QEMU would find it busy, and check says so
expect_rc 1 "$VNET" check "$F" --sandbox --name "$T"
grep -q "tap tap0: open as QEMU: a program holds it already (EBUSY)" <<<"$OUT" ||
	fail "check does not say that tap0 is held"
wait_until 10 settled "$H" || fail "tap0's bridge port did not reach forwarding"
# c1 learned tapio's MAC from its earlier ARP request: forget it, so that c1 must ask.
ip -n "$C1" neigh flush dev eth0
nsx "$C1" ping -c 2 -W 2 192.168.3.102 || { cat "$log"; fail "c1 cannot ping tapio (.3.102)"; }
cat "$log"
grep -q "answered ARP who-has 192.168.3.102 from 192.168.3.103" "$log" ||
	fail "tapio did not log the ARP answer to c1"
grep -q "answered ICMP echo request from 192.168.3.103" "$log" ||
	fail "tapio did not log the echo answer to c1"
kill "$(jobs -p)" 2>/dev/null || true
wait || true

# ---- persistence: the tap outlives the program; the kernel still matches the file ----
wait_until 10 bash -c "! ip -n $H -j link show tap0 | jq -e '.[0].flags | index(\"LOWER_UP\")'" ||
	fail "tap0 kept its carrier after tapio exited"
expect_eq "tap0 still persistent after tapio exited" "$(tun_info tap0)" \
	"tap false true false true $user $group"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
