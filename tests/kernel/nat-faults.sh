#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nat-faults.sh - vnet's nftables table under failures: a stranger's table in the way, a step
# that fails after the table changed, a crash inside the change, a table deleted under it.
#
# +-----------------------------------------------+------------------+------------------+
# |  outer namespace O (made by the test; stands  |  c1 (NAME-c1)    |  c2 (NAME-c2)    |
# |  for the machine's own: vnet runs in it)      |                  |                  |
# |   nft table ip vnet-NAME: masquerade,         |                  |                  |
# |     published ports        br0 .9.1           |                  |                  |
# |                              <---> ve-c1 <---------> eth0 .9.x   |                  |
# |                              <---> ve-c2 <----------------------------> eth0 .9.y   |
# +-----------------------------------------------+------------------+------------------+
#
# Proves, with vnet running in O as in a machine's own namespace:
# - a table "ip vnet-NAME" that vnet did not make (no tag) stops `vnet up`, which names it,
#   and changes nothing: O's links, addresses, routes, ruleset and forwarding as before;
# - a step that fails after the NAT step of an edit undoes the NAT change too (the published
#   port added by the edit is gone again, the old one there);
# - vnet killed at each crash point of an edit that changes the table: the next up repairs,
#   diff is clean;
# - down turns forwarding off again (vnet turned it on) and removes only its own table: a
#   stranger's table made after up survives up and down;
# - after the store is lost, vnet recover takes the table back by its tag and down removes it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init nf
need_test_hooks
command -v nft >/dev/null || skip "needs nft (Debian's nftables), the oracle of the NAT table"

T=$PFX O=$PFX-o
own_ns "$O"
track "$T" "$O"
v() { in_outer "$O" "$VNET" "$@"; }
nftO() { ip netns exec "$O" nft "$@"; }
fwd() { ip netns exec "$O" cat /proc/sys/net/ipv4/ip_forward; }
A=$KT_TMP/a.yaml B=$KT_TMP/b.yaml
# same_as WHAT BEFORE: O is as BEFORE (its dump: links, addresses, routes, ruleset, forwarding)
same_as() {
	local after
	wait_until 20 settled "$O" || fail "$1: O did not settle"
	after=$(dump "$O")
	[ "$after" = "$2" ] || { diff <(echo "$2") <(echo "$after") | head -30; fail "$1: O changed"; }
	echo "ok - $1: O as before"
}
cat >"$A" <<'EOF'
networks:
  br0: {subnet: 192.168.9.0/24}
containers:
  c1: {networks: [br0], publish: ["8080:80"]}
  c2: {networks: [br0]}
nodes:
  spare: {}
EOF
# B: c2 publishes a port too, and the node "spare" goes: its removal is the last step, after
# the NAT step
cat >"$B" <<'EOF'
networks:
  br0: {subnet: 192.168.9.0/24}
containers:
  c1: {networks: [br0], publish: ["8080:80"]}
  c2: {networks: [br0], publish: ["9090:90/udp"]}
EOF
expect_eq "forwarding in O before" "$(fwd)" 0

# ---- a stranger's table of vnet's name is in the way ----
nftO add table ip "vnet-$T"
wait_until 20 settled "$O" || fail "O did not settle"
before=$(dump "$O")
expect_rc 5 v up "$A" --name "$T"
grep -q "table ip vnet-$T in the host namespace is in the way: it does not carry vnet's tag" \
	<<<"$OUT" || fail "up does not name the stranger's table: $OUT"
same_as "the refused up" "$before"
expect_eq "namespaces after the refused up" "$(ls /run/netns | grep "^$T-" | grep -vxc "$O" || true)" 0
nftO delete table ip "vnet-$T"

# ---- up; forwarding turned on; a stranger's table made after ----
v up "$A" --name "$T" >/dev/null || fail "up $A"
expect_eq "forwarding in O after up" "$(fwd)" 1
expect_eq "tag of vnet's table" "$(nftO -t list table ip "vnet-$T" | sed -n 's/^\tcomment "\(.*\)"$/\1/p')" \
	"vnet:$T"
nftO add table inet stranger
nftO add chain inet stranger input '{ type filter hook input priority 0; policy accept; }'

# ---- the edit fails at its last step (removing node spare), after the NAT step ----
steps=$(v up "$B" --name "$T" --dry-run | grep -c '^  [-+~]')
nat_step=$(v up "$B" --name "$T" --dry-run | grep '^  [-+~]' | grep -n 'nftables table' | cut -d: -f1)
[ "$nat_step" -lt "$steps" ] || fail "the NAT step ($nat_step) is not before the last ($steps)"
wait_until 20 settled "$O" || fail "O did not settle"
before=$(dump "$O")
rc=0
OUT=$(VNET_FAULT_STEP=$steps v up "$B" --name "$T" 2>&1) || rc=$?
expect_eq "exit of the failed edit" "$rc" 3
grep -q "undid the $((steps - 1)) step(s)" <<<"$OUT" || fail "no undo said: $OUT"
same_as "the undone edit" "$before"
# (the listing first, then grep: grep -q quits at its match, and under pipefail the nft it
# cut off, killed by SIGPIPE, would fail the pipe)
udp_map=$(nftO list map ip "vnet-$T" udp_any)
grep -q 9090 <<<"$udp_map" && fail "the undone edit left 9090/udp published: $udp_map"

# ---- killed at every crash point of the edit; the next up repairs ----
n=1
while :; do
	rc=0
	VNET_CRASH_AT=$n v up "$B" --name "$T" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] && break
	[ "$rc" = 99 ] || fail "crash point $n: expected the injected crash (99), got $rc"
	v up "$B" --name "$T" >/dev/null || fail "crash point $n: the repairing up failed"
	expect_rc 0 v diff "$B" --name "$T" >/dev/null
	v up "$A" --name "$T" >/dev/null || fail "crash point $n: back to $A failed"
	n=$((n + 1))
	[ $n -le 60 ] || fail "more than 60 crash points in one edit?"
done
[ "$n" -gt 3 ] || fail "only $((n - 1)) crash points in the edit: the switch does not work"
echo "ok - killed at each of the $((n - 1)) crash points of the edit; each time up repaired it"
expect_rc 0 v diff "$B" --name "$T"
udp_map=$(nftO list map ip "vnet-$T" udp_any)
grep -q "9090 : 192.168.9.[0-9]* . 90" <<<"$udp_map" ||
	fail "9090/udp is not published after the edit: $udp_map"

# ---- the table deleted behind vnet's back: diff says so, up restores ----
nftO delete table ip "vnet-$T"
expect_rc 1 v diff "$B" --name "$T"
grep -q "create nftables table ip vnet-$T" <<<"$OUT" || fail "diff does not name the table: $OUT"
v up "$B" --name "$T" >/dev/null || fail "the restoring up"
expect_rc 0 v diff "$B" --name "$T"

# ---- down: only vnet's table goes, forwarding back off ----
v down "$T" >/dev/null || fail "down"
nftO list table ip "vnet-$T" >/dev/null 2>&1 && fail "vnet's table is still there after down"
nftO list chain inet stranger input >/dev/null || fail "the stranger's table did not survive"
expect_eq "forwarding in O after down" "$(fwd)" 0
expect_eq "leases after down" "$(sqlite3 "$VNET_STATE_DIR/state.db" 'select count(*) from lease')" 0
nftO delete table inet stranger

# ---- a lost store: recover takes the table back by its tag, down removes it ----
v up "$B" --name "$T" >/dev/null || fail "up before the store is lost"
rm -rf "$VNET_STATE_DIR"
v recover "$T" >/dev/null || fail "recover"
v down "$T" >/dev/null || fail "down after recover"
nftO list table ip "vnet-$T" >/dev/null 2>&1 && fail "the recovered table is still there after down"
# who turned forwarding on is not in the kernel: recover cannot know, and leaves it on
expect_eq "forwarding in O after recover and down (left on, as documented)" "$(fwd)" 1
echo 0 | ip netns exec "$O" tee /proc/sys/net/ipv4/ip_forward >/dev/null
echo "ok - nat-faults"
