#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# edits.sh - a failed edit (A -> B) of every kind leaves the kernel exactly as A built it.
#
# (i) tests/data/edits/move-to-host-{a,b}.yaml: a veth end moves from a removed node to the host
#
#   A:  +-----------+      +-----------+          B:  +-----------------+      +-----------+
#       | c2        |      | c1        |              | host (NAME-host)|      | c1        |
#       |  x .0.2 <-------->  eth0 .0.1|              |  x .0.2 <-------------->  eth0 .0.1|
#       +-----------+      +-----------+              +-----------------+      +-----------+
#
# (ii) move-between: x moves from c2 to c3 (both stay), its route with it
# (iii) remove-node: c2 (v4 and v6 addresses, three routes) and its veth go; br0 stays
# (iv) examples/docker-explicit.yaml switched between --sandbox (host part in NAME-host) and no sandbox
#      (host part in an outer namespace O made by the test), both ways, same --name
# (v) peer-name: the node end of veth-c1 is renamed eth0 -> eth9
# (vi) port: veth-c2 becomes a port of br0 and veth-c1 stops being one
#
#   +------------------------------+-------------+-------------+
#   |  Host (NAME-host) or O       |  c1         |  c2         |
#   |   br0 <---> veth-c1 <----------> eth0      |             |
#   |      <---> veth-c2 <-------------------------> eth0     |
#   +------------------------------+-------------+-------------+
#
# Proves: for each edit A -> B (and back, B -> A, for (iv); for all with KT_BOTH_WAYS=1; KT_CASES
# picks edits), with VNET_FAULT_STEP=k for every step k of
# the plan, the failed `vnet up B` exits 3, the full link/address/route dumps of every namespace
# involved (and the list of the test's namespaces) are identical before and after, and the
# state store is unchanged; in particular, when it says "nothing changed" that is true. Without
# a fault, `vnet up B` succeeds and `vnet diff B` is clean, and `vnet up A` brings A back.
# Every failing step is reported (the test goes on, re-applying A), then the test fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init ed
need_test_hooks
# An undo makes links, addresses and routes again in its own order; the kernel lists them in
# the order they came, so compare them sorted (a primary/secondary swap still shows in its
# flags, and every index, mac and attribute must still be equal).
KT_VOLATILE="$KT_VOLATILE | if type == \"array\" then map(if type == \"object\" and has(\"addr_info\")
	then .addr_info |= sort_by(.family, .local) else . end)
	| sort_by(.ifname // \"\", .table // \"\", .dst // \"\", .dev // \"\", .gateway // \"\") else . end"

D=tests/data/edits
O=$PFX-o
own_ns "$O"
FAILS=()
CASES=${KT_CASES:-"i ii iii iv v vi"} # KT_CASES="iv" runs only that edit

# vcmd MODE CMD FILE [ARGS...]: vnet CMD FILE for topology $T, with --sandbox (MODE sb) or
# without it inside the outer namespace O (MODE out).
vcmd() {
	local mode=$1 cmd=$2 file=$3
	shift 3
	# both from inside O: vnet's own namespace ("the machine", the host part without the
	# sandbox) is whichever it runs in, so a switch is made from the same one
	case $mode in
	sb) in_outer "$O" "$VNET" "$cmd" "$file" --sandbox --name "$T" "$@" ;;
	out) in_outer "$O" "$VNET" "$cmd" "$file" --name "$T" "$@" ;;
	esac
}

# brief NS...: one line per link, address and route of each namespace (for failure messages)
brief() {
	local ns
	for ns in "$@"; do
		has_ns "$ns" || { echo "$ns: (absent)"; continue; }
		ip -n "$ns" -d -j link | jq -r --arg ns "$ns" '.[] | "\($ns): link \(.ifname) #\(.ifindex)
			\(.linkinfo.info_kind // "-") alias=\(.ifalias // "") master=\(.master // "-") \(.operstate)"'
		ip -n "$ns" -j addr | jq -r --arg ns "$ns" '.[] | .ifname as $i | .addr_info[]? |
			select(.scope != "link") | "\($ns): addr \(.local)/\(.prefixlen) on \($i)"'
		ip -n "$ns" -j route show table all | jq -r --arg ns "$ns" '.[] | select(.table != "local") |
			"\($ns): route \(.dst) via \(.gateway // "-") dev \(.dev) proto \(.protocol // "-")"'
	done
}

# addr_sorted NS...: the address dumps with each interface's addresses sorted (to tell a
# difference of order alone from a real one)
addr_sorted() {
	local ns
	for ns in "$@"; do
		has_ns "$ns" && ip -n "$ns" -j addr | jq -S -c "$KT_VOLATILE | map(.addr_info |= sort_by(.local))"
	done
	return 0
}

store() { "$VNET" list --json | jq -c 'map(del(.updated))'; }

# fault_walk WHAT FROM_FILE FROM_MODE TO_FILE TO_MODE NS...: topology $T is up as FROM; fail
# every step of the plan to TO in turn; each time the kernel (NS...) and the store must be as
# FROM built them.
fault_walk() {
	local what=$1 ff=$2 fm=$3 tf=$4 tm=$5 n k rc before after abefore bbefore sbefore steps step claim
	shift 5
	steps=$(vcmd "$tm" up "$tf" --dry-run --json | jq -r '.steps[] | "\(.change) \(.step)"')
	n=$(grep -c . <<<"$steps" || true)
	[ "$n" -ge 1 ] || { FAILS+=("$what: the plan has no step"); return 1; }
	note "$what: $n steps"
	while IFS= read -r step; do echo "#     $step"; done <<<"$steps"
	for k in $(seq 1 "$n"); do
		step=$(sed -n "${k}p" <<<"$steps")
		wait_until 20 settled "$@" || { FAILS+=("$what: namespaces did not settle before step $k"); return 1; }
		before=$(dump "$@")
		bbefore=$(brief "$@")
		abefore=$(addr_sorted "$@")
		sbefore=$(store)
		rc=0
		OUT=$(VNET_FAULT_STEP=$k vcmd "$tm" up "$tf" 2>&1) || rc=$?
		wait_until 20 settled "$@" || { FAILS+=("$what: namespaces did not settle after step $k"); return 1; }
		after=$(dump "$@")
		claim=""
		grep -q "nothing changed" <<<"$OUT" && claim=" although it said 'nothing changed'"
		if [ "$before" != "$after" ] && [ "$abefore" = "$(addr_sorted "$@")" ] &&
			[ "$(grep -v '"local"' <<<"$before" | sort)" = "$(grep -v '"local"' <<<"$after" | sort)" ]; then
			claim="$claim (only the order of the addresses of an interface differs)"
		fi
		if [ "$rc" != 3 ]; then
			FAILS+=("$what, fault at step $k/$n ($step): expected exit 3, got $rc")
		elif ! grep -q "injected fault at step $k " <<<"$OUT"; then
			FAILS+=("$what, fault at step $k/$n ($step): no 'injected fault at step $k' in the output")
		fi
		if [ "$before" != "$after" ]; then
			echo "--- $what, step $k/$n ($step): vnet said:"
			tail -n 4 <<<"$OUT" | sed 's/^/    | /'
			echo "--- kernel before (<) and after (>) the failed up, in brief:"
			diff <(echo "$bbefore") <(brief "$@") || true
			echo "--- and in full (first lines):"
			diff <(echo "$before") <(echo "$after") | head -12 || true
			FAILS+=("$what, fault at step $k/$n ($step): the kernel differs from A after the failed up$claim")
		fi
		if [ "$sbefore" != "$(store)" ]; then
			FAILS+=("$what, fault at step $k/$n ($step): the state store changed: before $sbefore, after $(store)")
		fi
		if [ "$before" != "$after" ] || [ "$sbefore" != "$(store)" ]; then
			# put A back for the next step (from the kernel as the failed up left it)
			vcmd "$fm" up "$ff" >/dev/null 2>&1 ||
				{ FAILS+=("$what: could not re-apply A after the failure at step $k"); return 1; }
		else
			echo "ok - $what: fault at step $k/$n ($step) left the kernel and the store as they were"
		fi
	done
}

# case_fail MSG: record MSG, take the case's topology down (wherever it is), go on with the next.
case_fail() {
	FAILS+=("$1")
	echo "FAILED: $1"
	in_outer "$O" "$VNET" down "$T" >/dev/null 2>&1 || true
	"$VNET" down "$T" >/dev/null 2>&1 || true
}

# up_clean WHAT MODE FILE: vnet up FILE without a fault succeeds and vnet diff is then clean;
# Return: 1 (the failure recorded) when not.
up_clean() {
	OUT=$(vcmd "$2" up "$3" 2>&1) ||
		{ echo "$OUT" | tail -n 3; case_fail "$1 without a fault failed: $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"; return 1; }
	OUT=$(vcmd "$2" diff "$3" 2>&1) || { echo "$OUT"; case_fail "$1: vnet diff is not clean after it"; return 1; }
	echo "ok - $1 succeeded, diff clean"
}

# edit_case ID FILE_A MODE_A FILE_B MODE_B NODE...: A up, every fault of A -> B, B up and clean,
# (for a sandbox switch) every fault of B -> A, A up and clean, down and nothing left.
edit_case() {
	local id=$1 fa=$2 ma=$3 fb=$4 mb=$5 ns=() x left
	shift 5
	T=$PFX.$id
	ns=("$T-host")
	for x in "$@"; do ns+=("$T-$x"); done
	ns+=("$O")
	track "$T" "$O"
	vcmd "$ma" up "$fa" >/dev/null || { case_fail "($id) vnet up A ($fa, $ma) failed"; return 0; }
	vcmd "$ma" diff "$fa" >/dev/null || { case_fail "($id) vnet diff A ($fa, $ma) is not clean after up A"; return 0; }
	fault_walk "($id) $fa -> $fb" "$fa" "$ma" "$fb" "$mb" "${ns[@]}" || { case_fail "($id) stopped: ${FAILS[-1]}"; return 0; }
	up_clean "($id) up B ($fb, $mb)" "$mb" "$fb" || return 0
	# faults on the way back too for the sandbox switch (asked both ways), or with KT_BOTH_WAYS=1
	if [ "$ma" != "$mb" ] || [ "${KT_BOTH_WAYS:-0}" = 1 ]; then
		fault_walk "($id) $fb -> $fa" "$fb" "$mb" "$fa" "$ma" "${ns[@]}" || { case_fail "($id) stopped: ${FAILS[-1]}"; return 0; }
	fi
	up_clean "($id) up A ($fa, $ma) back from B" "$ma" "$fa" || return 0
	in_outer "$O" "$VNET" down "$T" >/dev/null || { case_fail "($id) vnet down $T failed"; return 0; }
	left=$(ns_list | grep -vx "$O" | tr "\n" " " || true)
	[ -z "$left" ] || { case_fail "($id) namespaces left after down: $left"; return 0; }
	[ "$("$VNET" list --json | jq -c .)" = "[]" ] || { case_fail "($id) state rows left after down: $("$VNET" list)"; return 0; }
	echo "ok - ($id) down left nothing"
}

wait_until 10 settled "$O" || fail "$O did not settle"
O_BASE=$(dump_ns "$O")
for c in $CASES; do
	case $c in
	i) edit_case i "$D/move-to-host-a.yaml" sb "$D/move-to-host-b.yaml" sb c1 c2 ;;
	ii) edit_case ii "$D/move-between-a.yaml" sb "$D/move-between-b.yaml" sb c1 c2 c3 ;;
	iii) edit_case iii "$D/remove-node-a.yaml" sb "$D/remove-node-b.yaml" sb c1 c2 ;;
	iv) edit_case iv examples/docker-explicit.yaml sb examples/docker-explicit.yaml out c1 c2 ;;
	v) edit_case v "$D/peer-name-a.yaml" sb "$D/peer-name-b.yaml" sb c1 ;;
	vi) edit_case vi "$D/port-a.yaml" sb "$D/port-b.yaml" sb c1 c2 ;;
	*) fail "unknown case $c" ;;
	esac
done
[ "${#FAILS[@]}" = 0 ] || printf 'FAIL: %s\n' "${FAILS[@]}" >&2
wait_until 10 settled "$O" || fail "$O did not settle"
[ "$O_BASE" = "$(dump_ns "$O")" ] || { diff <(echo "$O_BASE") <(dump_ns "$O") | head -30 || true; fail "the outer namespace $O is not as it was"; }

if [ "${#FAILS[@]}" -gt 0 ]; then
	fail "${#FAILS[@]} failed edit(s) did not leave the kernel and the store as A built them"
fi
echo "ok - every failed edit left the kernel and the store as they were"
