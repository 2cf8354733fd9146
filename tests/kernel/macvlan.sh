#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# macvlan.sh - containers straight on the LAN: two macvlans on one parent, in bridge,
# private and vepa mode; a mode change; passthru, which takes the parent whole.
#
# +--------------------+  +---------------------+  +---------------------+
# | c1                 |  | c2                  |  | lan                 |
# | mv0 192.168.50.11  |  | mv0 192.168.50.12   |  | eth0 192.168.50.1   |
# +---|----------------+  +---|-----------------+  +---|-----------------+
#     |  macvlan             |  macvlan                | veth
# +---|----------------------|-------------------------|-----------------+
# |   +----------------------+----------> uplink <-----+        host     |
# +----------------------------------------------------------------------+
#   examples/macvlan.yaml: the macvlans are made on host/uplink and placed in c1 and c2.
#
# Proves: vnet makes macvlans of the mode the file says on a parent in another node, each
# in its node, tagged, with its address; in bridge mode c1 reaches c2 inside the parent,
# in private and vepa mode it does not (the LAN side sends nothing back), while both
# reach the LAN; a mode change makes the macvlans anew and nothing else, and failed at
# any step it is undone (tags, addresses and routes as they were); the file may not put
# a passthru macvlan beside another on one parent; down leaves nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init mv
T=$PFX H=$PFX-host C1=$PFX-c1 C2=$PFX-c2 L=$PFX-lan
F=$KT_TMP/macvlan.yaml

# write_file MODE: the example, both macvlans in MODE
write_file() { sed "s/mode: bridge/mode: $1/" examples/macvlan.yaml >"$F"; }

write_file bridge
if ! "$VNET" up "$F" --sandbox --name "$T" >"$KT_TMP/up.log" 2>&1; then
	grep -q "Unknown device type\|not supported" "$KT_TMP/up.log" &&
		skip "this kernel has no macvlan: $(tail -n 1 "$KT_TMP/up.log")"
	cat "$KT_TMP/up.log"
	fail "vnet up $F"
fi
track "$T"
for c in "$C1" "$C2"; do
	expect_eq "$c mv0 kind" "$(lget "$c" mv0 .linkinfo.info_kind)" macvlan
	expect_eq "$c mv0 mode" "$(lget "$c" mv0 .linkinfo.info_data.mode)" bridge
	expect_eq "$c mv0 tag" "$(lget "$c" mv0 .ifalias)" "vnet:$T"
	expect_eq "$c mv0 parent index" "$(lget "$c" mv0 .link_index)" "$(lget "$H" uplink .ifindex)"
done
expect_eq "c1 mv0 address" "$(addrs "$C1" mv0)" 192.168.50.11/24
expect_eq "two MACs" "$(
	[ "$(lget "$C1" mv0 .address)" != "$(lget "$C2" mv0 .address)" ] && echo differ
)" differ

# reach_ok FROM ADDR / reach_no FROM ADDR: one ping
reach_ok() { nsx "$1" ping -c 1 -W 2 "$2" >/dev/null || fail "$1 cannot reach $2 ($3)"; echo "ok - $1 reaches $2 ($3)"; }
reach_no() {
	if nsx "$1" ping -c 1 -W 1 "$2" >/dev/null; then fail "$1 reached $2 ($3)"; fi
	echo "ok - $1 does not reach $2 ($3)"
}
reach_ok "$C1" 192.168.50.12 "bridge mode"
# Once c2's MAC is known, c1's pings to it never leave the parent. Broadcasts and IPv6's
# own multicasts (router solicitations, MLD) still do, so 40 pings may move the parent's
# counter by a few packets, never by 40.
tx0=$(ip -n "$H" -s -j link show uplink | jq '.[0].stats64.tx.packets')
nsx "$C1" ping -c 40 -i 0.01 -W 2 192.168.50.12 >/dev/null || fail "c1 -> c2, 40 pings"
tx1=$(ip -n "$H" -s -j link show uplink | jq '.[0].stats64.tx.packets')
[ $((tx1 - tx0)) -lt 40 ] || fail "c1 -> c2 went out of the parent (uplink tx $tx0 -> $tx1)"
echo "ok - 40 pings c1 -> c2 stayed inside the parent (uplink tx $tx0 -> $tx1)"
reach_ok "$C1" 192.168.50.1 "the LAN"
reach_ok "$C2" 192.168.50.1 "the LAN"

# what vnet show says of them
"$VNET" show "$T" >"$KT_TMP/show.txt"
grep -q "mv0@uplink macvlan bridge" "$KT_TMP/show.txt" || fail "show: $(cat "$KT_TMP/show.txt")"
expect_eq "show --json parent and mode" "$("$VNET" show "$T" --json |
	jq -r '.nodes[] | select(.name == "c1") | .links[] | select(.name == "mv0") |
	"\(.kind) \(.parent) \(.options.mode)"')" "macvlan uplink bridge"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"

# ---- private, then vepa: each a change of mode, made anew ----
for mode in private vepa; do
	write_file $mode
	# removed as undo would need it: routes and addresses first, then the links
	expect_eq "plan to $mode" "$(plan_steps "$T" "$F")" "- delete route default via 192.168.50.1 dev mv0 in $C1
- delete route default via 192.168.50.1 dev mv0 in $C2
- delete address 192.168.50.11/24 from mv0 in $C1
- delete address 192.168.50.12/24 from mv0 in $C2
- delete macvlan mv0 in $C1
- delete macvlan mv0 in $C2
+ create macvlan mv0 in $C1 on uplink in $H
+ create macvlan mv0 in $C2 on uplink in $H
~ set mv0 in $C1: up, tag
~ set mv0 in $C2: up, tag
+ add address 192.168.50.11/24 to mv0 in $C1
+ add address 192.168.50.12/24 to mv0 in $C2
+ add route default via 192.168.50.1 in $C1
+ add route default via 192.168.50.1 in $C2"
	idx=$(lget "$H" uplink .ifindex)
	vup "$T" "$F"
	expect_eq "c1 mv0 mode" "$(lget "$C1" mv0 .linkinfo.info_data.mode)" $mode
	expect_eq "uplink kept" "$(lget "$H" uplink .ifindex)" "$idx"
	reach_no "$C1" 192.168.50.12 "$mode mode"
	reach_ok "$C1" 192.168.50.1 "the LAN, $mode mode"
done

# ---- an edit that fails at any step is undone: back to bridge mode, fault at each step ----
write_file bridge
n=$(plan_steps "$T" "$F" | wc -l)
for k in $(seq 1 "$n"); do
	fault_run "$T" "$F" "$k" "$H" "$C1" "$C2" "$L"
done
echo "ok - the change of mode failed at each of its $n steps and was undone each time"
vup "$T" "$F"
reach_ok "$C1" 192.168.50.12 "bridge mode again"

# ---- passthru: one macvlan takes the parent whole; the file may not put two on it ----
write_file passthru
expect_rc 2 "$VNET" up "$F" --sandbox --name "$T"
sed -i -e '/c2\/mv0/d' -e 's/^  c2: .*/  c2: {}/' "$F"
vup "$T" "$F"
expect_eq "c1 mv0 passthru" "$(lget "$C1" mv0 .linkinfo.info_data.mode)" passthru
expect_eq "c2 mv0 removed" "$(ip -n "$C2" -j link show mv0 2>/dev/null | jq length)" ""
reach_ok "$C1" 192.168.50.1 "the LAN, passthru"

"$VNET" down "$T" >/dev/null || fail "vnet down $T"
expect_eq "nothing left" "$(ns_list)" ""
