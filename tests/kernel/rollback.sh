#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rollback.sh - a failing `vnet up` leaves the kernel exactly as it found it; foreign objects win.
#
# Part A and B (sandbox), examples/docker-explicit.yaml, then an edit of it (c3, STP, mtu, cost, ...):
#
# +----------------------------------+-------------+-------------+- - - - - - - -+
# |        Host (NAME-host)          |  c1 (.9.2)  |  c2 (.9.3)  |  c3 (.9.4,    |
# |  +--------+     +---------+      |  +------+   |  +------+   |   B's edit)   |
# |  |  .9.1  |<--->| veth-c1 |<-------->| eth0 |   |  | eth0 |   |   +------+    |
# |  |   br0  |<-+  +---------+      |  +------+   |  +------+   |   | eth0 |    |
# |  +--------+  |  +---------+      |             |     ↑       |   +------+    |
# |              +->| veth-c2 |<---------------------------+       |       ↑       |
# |              +->| veth-c3 |<- - - - - - - - - - - - - - - - - - - - - -+       |
# +----------------------------------+-------------+-------------+- - - - - - - -+
#
# Part C (no sandbox), inside an outer namespace NAME-o made by the test:
#
# +--------------------------------------------+
# |  outer (NAME-o)                            |
# |  +---------+     +-----+                   |     docker.yaml's host part would
# |  | veth-c2 |<--->| vx0 |  made by hand     |     need veth-c2 (or br0): refused
# |  +---------+     +-----+  (or br0)         |
# +--------------------------------------------+
#
# Proves: with VNET_FAULT_STEP=k for every step k of a fresh build and of a reconcile, vnet up
# exits 3, says it undid the k-1 done steps, and the full link/address/route dumps of every
# namespace involved (and the namespace list) are identical before and after; the state store
# is unchanged. An interface vnet does not own with a name the file uses makes vnet up exit 5
# naming it, changing nothing; vnet down of another topology in that namespace leaves it alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init rb
need_test_hooks

# ---- A: a fresh build fails at every step in turn ----
T=$PFX.a
NS_A=("$T-host" "$T-c1" "$T-c2")
track "$T" # so that cleanup removes anything a broken rollback left (and flags it as a leak)
n=$(plan_steps "$T" examples/docker-explicit.yaml | wc -l)
[ "$n" -ge 6 ] || fail "docker.yaml plans only $n steps; this test needs at least 6"
for k in $(seq 1 "$n"); do
	fault_run "$T" examples/docker-explicit.yaml "$k" "${NS_A[@]}"
	expect_eq "namespaces after fault at step $k" "$(ns_list | tr '\n' ' ')" ""
	expect_eq "state store after fault at step $k" "$("$VNET" list --json | jq -c .)" "[]"
done
# Step 5 as the brief states it, shown in full.
fault_run "$T" examples/docker-explicit.yaml 5 "${NS_A[@]}"
echo "$OUT"
grep -q "undid the 4 step(s) already done; nothing changed" <<<"$OUT" || fail "no undo report"
echo "ok - a fresh build failing at any of its $n steps leaves nothing behind"

# ---- B: a reconcile of a built topology fails at every step in turn ----
T=$PFX.b
NS_B=("$T-host" "$T-c1" "$T-c2" "$T-c3")
vup "$T" examples/docker-explicit.yaml
F=$KT_TMP/docker-edit.yaml
cat >"$F" <<'EOF'
nodes:
  c1: {routes: [default via 192.168.9.1]}
  c2: {routes: [default via 192.168.9.1, 10.1.0.0/16 via 192.168.9.1 metric 5]}
  c3: {routes: [default via 192.168.9.1]}
bridges:
  br0: {addresses: [192.168.9.1/24, 192.168.10.1/24], stp: on, ageing_time: 60}
veths:
  - veth-c1: {master: br0, cost: 9}
    c1/eth0: {addresses: 192.168.9.2/24, mtu: 1400}
  - veth-c2: {master: br0}
    c2/eth0: {addresses: 192.168.9.3/24}
  - veth-c3: {master: br0}
    c3/eth0: {addresses: 192.168.9.4/24}
EOF
n=$(plan_steps "$T" "$F" | wc -l)
plan_steps "$T" "$F"
[ "$n" -ge 6 ] || fail "the edit plans only $n steps; this test needs at least 6"
# The store must not change either: vnet says "nothing changed". (Only "updated", a time stamp,
# is dropped from the comparison; "file" must still be the file that built the topology.)
list_before=$("$VNET" list --json | jq -c 'map(del(.updated))')
for k in $(seq 1 "$n"); do
	fault_run "$T" "$F" "$k" "${NS_B[@]}"
	expect_eq "state store after fault at step $k" \
		"$("$VNET" list --json | jq -c 'map(del(.updated))')" "$list_before"
	expect_rc 0 "$VNET" diff examples/docker-explicit.yaml --sandbox --name "$T"
done
echo "ok - a reconcile failing at any of its $n steps restores the topology as it was"

# ---- C: an interface vnet does not own, in the namespace vnet runs in ----
O=$PFX-o
own_ns "$O"
T=$PFX.c
for foreign in veth-c2 br0; do
	if [ $foreign = br0 ]; then
		ip -n "$O" link del veth-c2
		ip -n "$O" link add br0 type bridge
	else
		ip -n "$O" link add veth-c2 type veth peer name vx0
	fi
	before=$(dump "$O" "$T-c1" "$T-c2")
	expect_rc 5 in_outer "$O" "$VNET" up examples/docker-explicit.yaml --name "$T"
	grep -qE "$foreign.*(exists|not vnet)" <<<"$OUT" || fail "vnet up did not name the foreign $foreign"
	diff <(echo "$before") <(dump "$O" "$T-c1" "$T-c2") ||
		fail "a refused vnet up changed the kernel"
	expect_eq "state store rows for $T after the refusal" \
		"$("$VNET" list --json | jq -c --arg n "$T" 'map(select(.name == $n))')" "[]"
done

# Another topology in the same namespace, up then down: the foreign br0 is left alone.
before=$(dump "$O")
foreign_idx=$(lget "$O" br0 .ifindex)
track "$T.v" "$O"
in_outer "$O" "$VNET" up examples/veth.yaml --name "$T.v" || fail "vnet up veth.yaml in $O"
expect_eq "veth0 made in $O" "$(lget "$O" veth0 .ifalias)" "vnet:$T.v"
in_outer "$O" "$VNET" down "$T.v" || fail "vnet down $T.v"
expect_eq "foreign br0 untouched" "$(lget "$O" br0 .ifindex)" "$foreign_idx"
diff <(echo "$before") <(dump "$O") || fail "up + down of another topology changed $O"
echo "ok - up and down of $T.v in $O left the foreign br0 and everything else as it was"
