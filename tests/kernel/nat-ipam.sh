#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nat-ipam.sh - IPAM: leases kept across runs, released and handed out again, static
# addresses reserved, a full subnet refused with nothing changed, 100 allocations at once.
#
#  +--------------------------------------+--------+--------+--------+--------+
#  |  Host (NAME-host)                    | a      | b      | c      | s      |
#  |                                      | (NAME- | (NAME- | (NAME- | (NAME- |
#  |  +------------+                      |  a)    |  b)    |  c)    |  s)    |
#  |  |     n1     |<--> ve-a  <------------>eth0  |        |        |        |
#  |  | 10.40.0.1  |<--> ve-b  <--------------------->eth0  |        |        |
#  |  |  (/24)     |<--> ve-c  <------------------------------>eth0  |        |
#  |  +------------+<--> ve-s  <--------------------------------------->eth0  |
#  |                                      | IPAM   | IPAM   | IPAM   | static |
#  |                                      |        |        |        | .2     |
#  +--------------------------------------+--------+--------+--------+--------+
#  then b leaves the file and d comes (b's address); a failed run adds f on n1 and x, y, z on
#  tiny (10.41.0.0/30: one address after the gateway); then e comes (the next free address).
#  NAME.t: tiny and x, y, z alone, refused from nothing.
#  ipam-alloc (a test program): 100 owners of pool1 (10.9.0.0/16) in one state store at once.
#
# Proves: a static address is honoured and never handed out; the IPAM containers get the
# lowest free addresses (not the gateway); a second `vnet up`, with the containers listed in
# another order, keeps every address; a container removed from the file loses its namespace
# and its lease, and the next new container gets that address; a full subnet fails (exit 2 or
# 3) naming the network, and changes nothing: links, addresses, routes, nftables, the state
# store's list, and no lease (the next new container gets the address it would have got); the
# same from nothing leaves no namespace and no row; after `vnet down` the addresses are free
# again; 100 concurrent allocations get 100 distinct addresses of the pool.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init nip
command -v nft >/dev/null || skip "needs nft (nftables)"

# The test program comes from the build that vnet comes from: $VNET_BUILD (as tests/run and
# ./dev test set it), else the directory of $VNET.
if [ -n "${VNET_BUILD:-}" ]; then
	KT_BUILD=$VNET_BUILD
	[[ $KT_BUILD == /* ]] || KT_BUILD=$KT_ROOT/$KT_BUILD
else
	KT_BUILD=$(dirname "$VNET")
fi
IPAM_ALLOC=${IPAM_ALLOC_BIN:-$KT_BUILD/tests/ipam-alloc}
[ -x "$IPAM_ALLOC" ] || fail "no test program $IPAM_ALLOC (built with the tests; set VNET_BUILD)"

# topo FILE ITEM...: network n1 (10.40.0.0/24) and a container per ITEM: NAME (IPAM on n1),
# NAME=ADDR (static on n1) or tiny:NAME (IPAM on tiny, 10.41.0.0/30, added when used).
topo() {
	local f=$1 c
	shift
	{
		echo "networks:"
		echo "  n1: {subnet: 10.40.0.0/24}"
		[[ " $* " == *" tiny:"* ]] && echo "  tiny: {subnet: 10.41.0.0/30}"
		echo "containers:"
		for c in "$@"; do
			case $c in
			tiny:*) echo "  ${c#tiny:}: {networks: [tiny]}" ;;
			*=*) echo "  ${c%=*}: {networks: {n1: ${c#*=}}}" ;;
			*) echo "  $c: {networks: [n1]}" ;;
			esac
		done
	} >"$f"
}
# ip4 NODE: the IPv4 address of the container's eth0 (empty when it has none)
ip4() { ip -n "$PFX-$1" -j addr show dev eth0 2>/dev/null |
	jq -r '[.[0].addr_info[]? | select(.family == "inet") | .local][0] // ""'; }
# up_with WHAT ITEM...: write the file and bring it up
up_with() {
	local what=$1
	shift
	topo "$KT_TMP/$what.yaml" "$@"
	vup "$T" "$KT_TMP/$what.yaml"
	expect_rc 0 "$VNET" diff "$KT_TMP/$what.yaml" --sandbox --name "$T" >/dev/null
}
# refused WHAT NAME FILE: vnet up FILE --name NAME fails (2: the file; 3: the plan) naming tiny
refused() {
	local rc=0
	OUT=$("$VNET" up "$3" --sandbox --name "$2" 2>&1) || rc=$?
	printf '%s\n' "$OUT" | sed 's/^/    | /'
	[ "$rc" = 2 ] || [ "$rc" = 3 ] || fail "$1: expected vnet up to fail (exit 2 or 3), got $rc"
	grep -qw tiny <<<"$OUT" || fail "$1: the error does not name the network tiny"
	echo "ok - $1: vnet up failed (exit $rc) naming tiny"
}

T=$PFX H=$PFX-host

# ---- a static address, and the lowest free ones ----
up_with first a b c s=10.40.0.2
expect_eq "s (static)" "$(ip4 s)" 10.40.0.2
A=$(ip4 a) B=$(ip4 b) C=$(ip4 c)
expect_eq "a, b, c: the lowest free addresses (.1 the gateway, .2 reserved)" \
	"$(printf '%s\n' "$A" "$B" "$C" | sort | tr '\n' ' ')" "10.40.0.3 10.40.0.4 10.40.0.5 "
expect_eq "n1's gateway on the bridge" "$(addrs "$H" n1)" 10.40.0.1/24

# ---- the same containers in another order: every lease kept ----
up_with reordered s=10.40.0.2 c b a
expect_eq "a b c s after a second up, in another order" "$(ip4 a) $(ip4 b) $(ip4 c) $(ip4 s)" \
	"$A $B $C 10.40.0.2"

# ---- b leaves the file: its namespace and its lease go; d gets b's address ----
up_with without-b a c s=10.40.0.2
has_ns "$PFX-b" && fail "b's namespace is still there after b left the file"
ip -n "$H" link show ve-b >/dev/null 2>&1 && fail "ve-b is still in the host part"
echo "ok - b's namespace and ve-b are gone"
expect_eq "a c s after b left" "$(ip4 a) $(ip4 c) $(ip4 s)" "$A $C 10.40.0.2"
up_with with-d a c s=10.40.0.2 d
expect_eq "d, the next new container, gets b's released address" "$(ip4 d)" "$B"
expect_eq "a c s after d came" "$(ip4 a) $(ip4 c) $(ip4 s)" "$A $C 10.40.0.2"

# ---- a full subnet: refused, nothing changed, no lease taken ----
topo "$KT_TMP/full.yaml" a c s=10.40.0.2 d f tiny:x tiny:y tiny:z
mapfile -t nss < <(ns_list)
wait_until 10 settled "${nss[@]}" || fail "the namespaces did not settle"
before_ns=$(dump "${nss[@]}")
before_nft=$(nsx "$H" nft -j list ruleset | jq -S .)
before_list=$("$VNET" list --json | jq -S .)
refused "a /30 with three containers" "$T" "$KT_TMP/full.yaml"
wait_until 10 settled "${nss[@]}" || fail "the namespaces did not settle"
diff <(echo "$before_ns") <(dump "${nss[@]}") || fail "the failed up changed links, addresses or routes"
diff <(echo "$before_nft") <(nsx "$H" nft -j list ruleset | jq -S .) ||
	fail "the failed up changed the nftables ruleset of $H"
diff <(echo "$before_list") <("$VNET" list --json | jq -S .) || fail "the failed up changed vnet list"
echo "ok - the failed up changed no namespace, link, address, route, nftables rule or row"
# f's address was not leased by the failed run: e, next, gets the lowest free one
up_with with-e a c s=10.40.0.2 d e
expect_eq "e, after the failed run, gets the next free address" "$(ip4 e)" 10.40.0.6

# ---- the same from nothing: no namespace, no row ----
topo "$KT_TMP/tiny.yaml" tiny:x tiny:y tiny:z
track "$T.t"
refused "a /30 with three containers, from nothing" "$T.t" "$KT_TMP/tiny.yaml"
expect_eq "namespaces of $T.t" "$(ns_list | grep -cF "$T.t-" || true)" 0
expect_eq "rows of $T.t" "$("$VNET" list --json | jq --arg n "$T.t" 'map(select(.name == $n)) | length')" 0

# ---- down releases every lease ----
expect_rc 0 "$VNET" down "$T" >/dev/null
up_with after-down e
expect_eq "e, alone after down, gets the lowest free address" "$(ip4 e)" 10.40.0.2
expect_rc 0 "$VNET" down "$T" >/dev/null
expect_eq "namespaces left after down" "$(ns_list | tr '\n' ' ')" ""

# ---- 100 allocations at once ----
D=$KT_TMP/alloc
mkdir "$D"
pids=()
for i in $(seq 1 100); do
	"$IPAM_ALLOC" "$VNET_STATE_DIR" pool1 10.9.0.0/16 "owner$i" >"$D/$i.out" 2>"$D/$i.err" &
	pids+=($!)
	bg_pid $!
done
failed=0
for i in $(seq 1 100); do
	wait "${pids[$((i - 1))]}" || { failed=$((failed + 1)); sed "s/^/    owner$i: /" "$D/$i.err"; }
done
KT_PIDS=()
expect_eq "ipam-alloc runs that failed" "$failed" 0
got=$(for i in $(seq 1 100); do sed 's|/.*||' "$D/$i.out"; done)
expect_eq "addresses printed" "$(grep -c . <<<"$got")" 100
expect_eq "addresses outside 10.9.0.0/16 (or its network and broadcast addresses)" "$(grep -Evc \
	'^10\.9\.([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])\.([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$' \
	<<<"$got" || true)" 0
grep -qxE '10\.9\.(0\.0|255\.255)' <<<"$got" && fail "ipam-alloc handed out $(grep -xE '10\.9\.(0\.0|255\.255)' <<<"$got")"
expect_eq "distinct addresses among the 100" "$(sort -u <<<"$got" | wc -l)" 100
