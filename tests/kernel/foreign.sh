#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# foreign.sh - foreign objects that appear between a crash and the next run, and tags lost.
#
# (a) sandbox, a 20-node star crashed at its first crash point (and a 200-node star killed -9):
#
# +--------------------+  +-------------+       +-------------------------------+
# | Host (NAME-host)   |  | n1 (NAME-n1)|  ...  | NAME-nK: made BY HAND after   |
# |  br0 10.0.0.1/16   |  |   eth0      |       | the crash, before vnet made it|
# |  v1 .. vN (ports)  |  |             |       |   precious (bridge)           |
# +--------------------+  +-------------+       |   198.51.100.1/24             |
#                                               +-------------------------------+
#
# (b) no sandbox, inside an outer namespace O (standing for the machine), examples/docker-explicit.yaml
#     crashed at crash point N = 1..5, before its br0 exists:
#
# +--------------------------------------------+------------+------------+
# | outer O:  br0 192.0.2.1/24 made BY HAND     | c1         | c2         |
# |           after the crash (no alias)        | (NAME-c1)  | (NAME-c2)  |
# +--------------------------------------------+------------+------------+
#
# (c) no sandbox, in O: a finished topology; a stranger re-aliases br0 and untags br1:
#
# +--------------------------------------------+------------+
# | outer O:  br0 .20.1 (alias "someone-else") | c1         |
# |           br1 (alias removed)              | eth0 .20.2 |
# |           veth-c1 (port of br0) <------------> eth0     |
# +--------------------------------------------+------------+
#
# Proves: a namespace or a link that vnet did not make (its lo, or itself, carries no
# vnet:NAME tag) is never taken for vnet's, even when its name is one the crashed run was
# about to use: `vnet down` finishes the crashed topology and leaves the foreign object (and
# its address) untouched; `vnet up` refuses (exit 5) naming it and changes nothing; once the
# foreign object is gone, up completes and down cleans. A vnet-made link whose tag a stranger
# changed or removed is no longer provably vnet's: down leaves it, and says so naming it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init fo
need_test_hooks

# drop_own NS: the test removed its hand-made namespace NS; forget it (a namespace of the same
# name made later by vnet is vnet's, and the leak guard must see it).
drop_own() {
	local keep=() ns
	for ns in "${KT_OWN_NS[@]}"; do
		[ "$ns" = "$1" ] || keep+=("$ns")
	done
	KT_OWN_NS=("${keep[@]}")
}

# precious_ns NS: a hand-made namespace with a bridge "precious" holding 198.51.100.1/24.
precious_ns() {
	own_ns "$1"
	ip -n "$1" link add precious type bridge
	ip -n "$1" addr add 198.51.100.1/24 dev precious
	ip -n "$1" link set precious up
}

# precious_intact NS WHAT: the namespace, its untagged lo and precious with its address.
precious_intact() {
	has_ns "$1" || fail "$2: the foreign namespace $1 was deleted"
	mountpoint -q "/run/netns/$1" || fail "$2: /run/netns/$1 no longer holds a namespace"
	expect_eq "$2: precious in $1" "$(lget "$1" precious .linkinfo.info_kind)" bridge
	expect_eq "$2: precious's address" "$(addrs "$1" precious)" 198.51.100.1/24
	expect_eq "$2: tag of lo in $1" "$(lget "$1" lo '.ifalias // ""')" ""
}

# foreign_after_crash WHAT T F: the topology T (file F) was interrupted; pick a namespace name
# it uses and has not made, make it by hand, and run down, up (refused), up, down.
foreign_after_crash() {
	local what=$1 T=$2 F=$3 k X before after rc n recorded
	n=$(grep -c '^  n[0-9]*:$' "$F")
	X=""
	for k in $(seq "$n" -1 1); do
		has_ns "$T-n$k" || { X=$T-n$k; break; }
	done
	[ -n "$X" ] || fail "$what: the interrupted up had already made all $n node namespaces"
	note "$what: $(ns_list | wc -l) namespaces made; $X is made by hand"
	precious_ns "$X"

	rc=0
	recorded=$("$VNET" list --json | jq --arg t "$T" 'any(.[]; .name == $t)')
	OUT=$("$VNET" down "$T" 2>&1) || rc=$?
	# killed before its first record, the topology is not up as far as vnet knows: exit 2,
	# truly; otherwise down finishes it. Either way the stranger's namespace must survive.
	if [ "$recorded" = true ]; then
		[ "$rc" = 0 ] || { tail -n 5 <<<"$OUT"; fail "$what: expected vnet down $T to exit 0 (finish the crashed topology), got $rc"; }
	else
		[ "$rc" = 2 ] && grep -q "no topology named \"$T\" is up" <<<"$OUT" ||
			{ tail -n 5 <<<"$OUT"; fail "$what: killed before its first record: expected exit 2 'not up' from vnet down $T, got $rc"; }
	fi
	precious_intact "$X" "$what, after vnet down"
	expect_eq "$what: namespaces after down (only the foreign one)" "$(ns_list | tr '\n' ' ')" "$X "
	expect_eq "$what: state rows after down" "$("$VNET" list --json | jq -c .)" "[]"

	wait_until 20 settled "$X" || fail "$what: $X did not settle"
	before=$(dump "$X")
	rc=0
	OUT=$("$VNET" up "$F" --sandbox --name "$T" 2>&1) || rc=$?
	tail -n 5 <<<"$OUT" | sed 's/^/    | /'
	[ "$rc" = 5 ] || fail "$what: expected vnet up to refuse (exit 5) because of the foreign namespace $X, got $rc"
	grep -q -- "$X" <<<"$OUT" || fail "$what: the refusal does not name the foreign namespace $X"
	after=$(dump "$X")
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head -30 || true; fail "$what: the refused vnet up changed the kernel"; }
	expect_eq "$what: state rows after the refused up" "$("$VNET" list --json | jq -c .)" "[]"
	precious_intact "$X" "$what, after the refused up"

	ip netns delete "$X"
	drop_own "$X"
	"$VNET" up "$F" --sandbox --name "$T" >/dev/null || fail "$what: vnet up failed once the foreign $X was gone"
	expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T" >/dev/null
	expect_rc 0 "$VNET" down "$T" >/dev/null
	expect_eq "$what: namespaces at the end" "$(ns_list | tr '\n' ' ')" ""
	expect_eq "$what: state rows at the end" "$("$VNET" list --json | jq -c .)" "[]"
	echo "ok - $what: the foreign namespace $X survived down, blocked up, and its removal unblocked it"
}

PARTS=${KT_PARTS:-abc} # KT_PARTS=bc runs only parts (b) and (c)

# ---- (a) a foreign namespace after a crash, sandbox ----
if [[ $PARTS == *a* ]]; then
S20=$KT_TMP/star20.yaml S200=$KT_TMP/star200.yaml
"$KT_ROOT/bench/gen-star" 20 >"$S20"
"$KT_ROOT/bench/gen-star" 200 >"$S200"

T=$PFX.a
track "$T"
rc=0
VNET_CRASH_AT=1 "$VNET" up "$S20" --sandbox --name "$T" >/dev/null 2>&1 || rc=$?
[ "$rc" = 99 ] || fail "(a) expected the injected crash at point 1 (99), got $rc"
foreign_after_crash "(a) crash point 1" "$T" "$S20"

T=$PFX.k
track "$T"
"$VNET" up "$S200" --sandbox --name "$T" >/dev/null 2>&1 &
pid=$!
bg_pid "$pid"
sleep 0.03
kill -9 "$pid" 2>/dev/null || true
rc=0
wait "$pid" 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "(a) kill -9 after 30 ms: the up was not killed (exit $rc); it should run ~1 s"
foreign_after_crash "(a) kill -9 after 30 ms" "$T" "$S200"
fi

# ---- (b) a foreign br0 in the outer namespace after an early crash, no sandbox ----
O=$PFX-o
own_ns "$O"
v() { in_outer "$O" "$VNET" "$@"; }
if [[ $PARTS == *b* ]]; then
T=$PFX.b
track "$T" "$O"
wait_until 10 settled "$O" || fail "$O did not settle"
base=$(dump "$O")
for N in ${KT_CRASH_POINTS:-1 2 3 4 5}; do
	what="(b) crash point $N"
	rc=0
	VNET_CRASH_AT=$N v up examples/docker-explicit.yaml --name "$T" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 99 ] || fail "$what: expected the injected crash (99), got $rc"
	if ip -n "$O" link show br0 >/dev/null 2>&1; then
		note "$what: br0 already made by vnet; the early crash points end here"
		v down "$T" >/dev/null || fail "$what: vnet down failed"
		break
	fi
	ip -n "$O" link add br0 type bridge
	ip -n "$O" addr add 192.0.2.1/24 dev br0
	ip -n "$O" link set br0 up
	idx=$(lget "$O" br0 .ifindex)
	wait_until 10 settled "$O" || fail "$what: $O did not settle"
	before=$(dump "$O")
	rc=0
	OUT=$(v up examples/docker-explicit.yaml --name "$T" 2>&1) || rc=$?
	tail -n 5 <<<"$OUT" | sed 's/^/    | /'
	[ "$rc" = 5 ] || fail "$what: expected vnet up to refuse (exit 5) because of the hand-made br0, got $rc"
	grep -q br0 <<<"$OUT" || fail "$what: the refusal does not name br0"
	expect_eq "$what: br0's alias after the refused up (not adopted)" "$(lget "$O" br0 '.ifalias // ""')" ""
	expect_eq "$what: br0's address after the refused up" "$(addrs "$O" br0)" 192.0.2.1/24
	[ "$before" = "$(dump "$O")" ] || fail "$what: the refused up changed $O"
	rc=0
	OUT=$(v down "$T" 2>&1) || rc=$?
	[ "$rc" = 0 ] || { tail -n 5 <<<"$OUT"; fail "$what: expected vnet down to exit 0, got $rc"; }
	expect_eq "$what: the hand-made br0 (ifindex) after down" "$(lget "$O" br0 '.ifindex // "gone"')" "$idx"
	expect_eq "$what: br0's alias after down" "$(lget "$O" br0 '.ifalias // ""')" ""
	expect_eq "$what: br0's address after down" "$(addrs "$O" br0)" 192.0.2.1/24
	expect_eq "$what: namespaces left after down" "$(ns_list | grep -vx "$O" | tr '\n' ' ')" ""
	expect_eq "$what: state rows after down" "$("$VNET" list --json | jq -c .)" "[]"
	ip -n "$O" link del br0
	wait_until 10 settled "$O" || fail "$what: $O did not settle"
	[ "$base" = "$(dump "$O")" ] || { diff <(echo "$base") <(dump "$O") | head -30 || true; fail "$what: $O is not as before the crashed up"; }
	echo "ok - $what: the hand-made br0 was refused, not adopted, and survived down"
done
fi

# ---- (c) a vnet-made link re-aliased or untagged by a stranger, no sandbox ----
[[ $PARTS == *c* ]] || exit 0
T=$PFX.c
track "$T" "$O"
FC=$KT_TMP/tags.yaml
cat >"$FC" <<'EOF'
nodes:
  c1:
bridges:
  br0: {addresses: 192.168.20.1/24}
  br1:
veths:
  - veth-c1: {master: br0}
    c1/eth0: {addresses: 192.168.20.2/24}
EOF
v up "$FC" --name "$T" >/dev/null || fail "(c) vnet up $FC in $O failed"
expect_eq "(c) br0's tag" "$(lget "$O" br0 .ifalias)" "vnet:$T"
expect_eq "(c) br1's tag" "$(lget "$O" br1 .ifalias)" "vnet:$T"
ip -n "$O" link set dev br0 alias someone-else
ip -n "$O" link set dev br1 alias ""
expect_eq "(c) br1's tag removed by the stranger" "$(lget "$O" br1 '.ifalias // ""')" ""
i0=$(lget "$O" br0 .ifindex) i1=$(lget "$O" br1 .ifindex)
rc=0
OUT=$(v down "$T" 2>&1) || rc=$?
printf '%s\n' "$OUT" | sed 's/^/    | /'
expect_eq "(c) br0 (re-aliased someone-else) still there after down: ifindex" "$(lget "$O" br0 '.ifindex // "deleted"')" "$i0"
expect_eq "(c) br1 (tag removed) still there after down: ifindex" "$(lget "$O" br1 '.ifindex // "deleted"')" "$i1"
expect_eq "(c) br0's alias after down" "$(lget "$O" br0 '.ifalias // ""')" someone-else
for l in br0 br1; do
	grep -E "$l\b.*(left alone|not vnet|no longer|tag)" <<<"$OUT" >/dev/null ||
		fail "(c) vnet down did not say it left $l alone (no line naming $l with 'left alone'/'not vnet'/'tag'; output above)"
done
echo "ok - (c) down left the re-aliased br0 and the untagged br1, and said so"
expect_eq "(c) exit status of that down" "$rc" 0
expect_eq "(c) namespaces left after down" "$(ns_list | grep -vx "$O" | tr '\n' ' ')" ""
ip -n "$O" link del br0
ip -n "$O" link del br1
