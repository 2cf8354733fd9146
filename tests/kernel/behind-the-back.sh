#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# behind-the-back.sh - the kernel or the state store changed by hand: clear words, no damage.
#
#   examples/docker-explicit.yaml in the sandbox, then by hand:
#   ip netns del NAME-c2 | ip link set veth-c1 nomaster | ip link del veth-c1
#   rm state.db | a state.db of garbage | an empty file /run/netns/NAME.x-c1
#
# Proves: a namespace deleted behind vnet's back, a port taken off its bridge and a veth
# deleted by hand are each drift that `vnet diff` names and `vnet up` repairs (and diff is
# then clean); a lost state store makes `vnet up` refuse (exit 5), naming the topology the
# objects belong to, and change nothing — it never rebuilds ownership silently; a corrupt
# store is a one-line error, not a crash. A plain file where a namespace of the topology
# goes (someone's `ip netns add` at work, or debris not of vnet's) stops `up` with a
# message naming that file, and is left alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init bb

T=$PFX H=$PFX-host F=examples/docker-explicit.yaml

touch "/run/netns/$T.x-c1"
KT_OWN_NS+=("$T.x-c1") # removed on exit, with the namespaces made by hand
expect_rc 5 "$VNET" up "$F" --sandbox --name "$T.x"
grep -qx "vnet: /run/netns/$T.x-c1 exists and is not a namespace; vnet did not make it, and leaves it alone" <<<"$OUT" ||
	fail "the refusal does not name the file in the way"
[ -f "/run/netns/$T.x-c1" ] && [ ! -s "/run/netns/$T.x-c1" ] || fail "the stranger's file was touched"
[ -z "$(ns_list | grep -v "^$T.x-c1$")" ] || fail "the refused up left: $(ns_list | tr '\n' ' ')"
[ "$("$VNET" list --json | jq length)" = 0 ] || fail "the refused up left a record"
echo "ok - a plain file where a namespace goes: named, left alone, nothing changed"

vup "$T" "$F"
repaired() { # WHAT: diff names it, up repairs it, diff is clean
	expect_rc 1 "$VNET" diff "$F" --sandbox --name "$T"
	grep -q "$2" <<<"$OUT" || fail "$1: diff does not name $2"
	vup "$T" "$F"
	expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
	echo "ok - $1: named by diff, repaired by up"
}

ip netns del "$T-c2"
# the kernel frees c2's devices, and with them the host end of its veth, in a moment
wait_until 10 bash -c "! ip -n '$H' link show veth-c2 >/dev/null 2>&1" || fail "veth-c2 lingers"
repaired "namespace c2 deleted by hand" "create namespace $T-c2"
nsx "$T-c1" ping -c 1 -W 2 192.168.9.3 >/dev/null || fail "c1 cannot reach the rebuilt c2"

ip -n "$H" link set veth-c1 nomaster
repaired "port veth-c1 taken off br0" "set veth-c1 in $H: master br0"

ip -n "$H" link del veth-c1
repaired "veth-c1 deleted by hand" "create veth veth-c1"
nsx "$T-c1" ping -c 1 -W 2 192.168.9.1 >/dev/null || fail "c1 cannot reach br0 after the repair"

# The state store lost: the kernel's objects carry the topology's tag, but no record.
# (after the repairs the kernel is still finishing IPv6 duplicate address detection)
wait_until 10 settled "$H" "$T-c1" "$T-c2" || fail "the namespaces did not settle"
before=$(dump "$H" "$T-c1" "$T-c2")
mv "$VNET_STATE_DIR" "$VNET_STATE_DIR.kept"
mkdir "$VNET_STATE_DIR"
expect_rc 5 "$VNET" up "$F" --sandbox --name "$T"
grep -q "carries this topology.s tag, but the state store has no record" <<<"$OUT" ||
	fail "the refusal does not say the store lost its record"
grep -q "vnet recover $T" <<<"$OUT" || fail "the refusal does not point to vnet recover"
diff <(echo "$before") <(dump "$H" "$T-c1" "$T-c2") >/dev/null || fail "the refused up changed the kernel"
expect_rc 2 "$VNET" down "$T"
echo "ok - with the store lost, up refuses and changes nothing; down knows nothing to remove"

# A corrupt store: one line, no crash.
head -c 4096 /dev/urandom >"$VNET_STATE_DIR/state.db"
expect_rc 3 "$VNET" list
[ "$(grep -c '^vnet: state store' <<<"$OUT")" = 1 ] || fail "no one-line error for a corrupt store"
echo "ok - a corrupt store is a one-line error"

rm -rf "$VNET_STATE_DIR"
mv "$VNET_STATE_DIR.kept" "$VNET_STATE_DIR"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
echo "PASS: behind-the-back.sh"
