#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# store.sh - the state store full, corrupt, or lost: vnet says so truly and never guesses.
#
#   (a) VNET_STATE_DIR on a 1 MiB tmpfs, filled up by a file after a small topology is up:
#       +-- tmpfs 1m (KT_TMP/small) -----------------+
#       |  state/state.db   filler (dd until ENOSPC) |
#       +--------------------------------------------+
#       NAME.s (examples/docker-explicit.yaml, sandbox) up; then 100-node stars NAME.bK until one fails
#   (b) state.db with a page overwritten by garbage (a 20-node star NAME.c was up)
#   (c) state.db deleted under a 200-node star NAME.l that is up:
#
#   +------------------+  +-----------+       +-------------+   +---------------------------+
#   | NAME.l-host      |  | NAME.l-n1 |  ...  | NAME.l-n200 |   | NAME.l-zz: made BY HAND,   |
#   |  br0, v1..v200   |  |  eth0     |       |  eth0       |   | lo not tagged: not vnet's |
#   +------------------+  +-----------+       +-------------+   +---------------------------+
#
# Proves: (a) with the store's disk full, each `vnet up` either is recorded whole (the store's
# log and reserve hold a few) or fails with exit 3 and SQLite's own words ("database or disk is
# full", not "Input/output error"), leaving the kernel as it was; `vnet
# down` of what is up still works (the store keeps a reserve), or fails saying why and works
# once there is room. (b) A corrupt store is an error (exit 3, naming the state store), never
# an empty list. (c) A lost store: `vnet up` refuses (exit 5) saying the objects carry the
# topology's tag and pointing to `vnet recover`; `vnet down` says it is not up (exit 2); `vnet
# recover NAME` takes back exactly the namespaces and links tagged vnet:NAME (says how many),
# after which `vnet down` removes them all; a namespace whose lo is not tagged survives; recover
# of a name nobody used exits 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init st

PARTS=${KT_PARTS:-abc} # KT_PARTS=c runs only part (c)
MNT=$KT_TMP/small
FILLER=$MNT/filler
STATE0=$VNET_STATE_DIR

# The tmpfs must go before lib.sh's cleanup removes KT_TMP; the store on it is copied out first
# so that cleanup's vnet down and its leak guard still see the rows.
store_cleanup() {
	local rc=$?
	set +e
	rm -f "$FILLER"
	if mountpoint -q "$MNT"; then
		if [ "$VNET_STATE_DIR" = "$MNT/state" ]; then
			cp -a "$MNT/state" "$KT_TMP/state-a"
			export VNET_STATE_DIR=$KT_TMP/state-a
		fi
		umount "$MNT"
	fi
	(exit "$rc")
	cleanup
}
trap store_cleanup EXIT

no_rows() { [ "$("$VNET" list --json 2>/dev/null | jq -c .)" = "[]" ]; }
# ns_of TOPO: the namespaces of topology TOPO (TOPO-*), sorted, one a line.
ns_of() {
	local n
	for n in $(ns_list); do
		[[ $n == "$1-"* ]] && echo "$n"
	done
	return 0
}

# ---- (a) the store's file system is full ----
if [[ $PARTS == *a* ]]; then
	mkdir -p "$MNT"
	mount -t tmpfs -o size=1m tmpfs "$MNT"
	export VNET_STATE_DIR=$MNT/state
	mkdir -p "$VNET_STATE_DIR"
	S=$PFX.s
	"$KT_ROOT/bench/gen-star" "${KT_STAR:-100}" >"$KT_TMP/star100.yaml" # KT_STAR: another size
	vup "$S" examples/docker-explicit.yaml
	dd if=/dev/zero of="$FILLER" bs=4k 2>/dev/null || true
	expect_eq "(a) free blocks on the store's tmpfs after the filler" "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" 0
	wait_until 20 settled "$S-host" "$S-c1" "$S-c2" || fail "(a) $S did not settle"
	before=$(dump_ns "$S-host" "$S-c1" "$S-c2") # dump_ns: the stars that succeed are other namespaces
	# Stars go up until the store cannot record one (its log and its reserve take a few):
	# each up that succeeds must be whole and recorded; the one that fails must say so in
	# SQLite's words and leave nothing of its star.
	k=0 rc=0
	while [ "$rc" = 0 ]; do
		k=$((k + 1))
		[ "$k" -le 12 ] || fail "(a) 12 stars recorded on a full 1 MiB disk: is the store really on it?"
		B=$PFX.b$k
		track "$B"
		OUT=$("$VNET" up "$KT_TMP/star100.yaml" --sandbox --name "$B" 2>&1) || rc=$?
		left=$(ns_of "$B" | wc -l)
		if [ "$rc" = 0 ]; then
			[ "$left" = "$((${KT_STAR:-100} + 1))" ] || fail "(a) up of $B succeeded with $left namespaces"
			"$VNET" list --json | jq -e --arg b "$B" 'any(.[]; .name == $b)' >/dev/null ||
				fail "(a) up of $B succeeded but the store does not list it"
			echo "ok - (a) star $k recorded on the full disk$(grep -q 'is full' <<<"$OUT" && echo ', saying the disk is full')"
		fi
	done
	tail -n 4 <<<"$OUT" | sed 's/^/    | /'
	[ "$rc" = 3 ] || fail "(a) vnet up of $B with the store's disk full: expected exit 3, got $rc"
	grep -q "database or disk is full" <<<"$OUT" ||
		fail "(a) vnet up with the store's disk full: expected SQLite's 'database or disk is full' in the message, got: $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"
	if grep -q "Input/output error" <<<"$OUT"; then
		fail "(a) vnet up with the store's disk full says 'Input/output error' (a disk full is not an I/O error)"
	fi
	grep -q "nothing changed" <<<"$OUT" || fail "(a) the failed up of $B does not say what became of its steps"
	[ "$left" = 0 ] || fail "(a) the failed up said 'nothing changed', yet $left namespaces of $B are left"
	after=$(dump_ns "$S-host" "$S-c1" "$S-c2")
	[ "$before" = "$after" ] || fail "(a) the failed up of $B changed $S's namespaces:
$(diff <(echo "$before") <(echo "$after") | head -n 20)"
	echo "ok - (a) star $k: exit 3, 'database or disk is full', nothing of it left"
	rc=0
	OUT=$("$VNET" down "$S" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok - (a) down of $S with the disk full succeeded (the reserve)"
	else
		tail -n 3 <<<"$OUT" | sed 's/^/    | /'
		grep -qiE "full|no space" <<<"$OUT" ||
			fail "(a) down of $S with the disk full failed ($rc) without saying the disk is full: $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"
		note "(a) down of $S with the disk full failed ($rc), saying so; retrying with room"
		rm -f "$FILLER"
		expect_rc 0 "$VNET" down "$S"
	fi
	rm -f "$FILLER"
	expect_eq "(a) namespaces of $S left" "$(ns_of "$S" | tr '\n' ' ')" ""
	for j in $(seq 1 "$k"); do
		"$VNET" down "$PFX.b$j" >/dev/null 2>&1 || true # the failed one may be on record
		expect_eq "(a) namespaces of $PFX.b$j left" "$(ns_of "$PFX.b$j" | tr '\n' ' ')" ""
	done
	expect_eq "(a) state rows left" "$("$VNET" list --json | jq -c .)" "[]"
	umount "$MNT"
	export VNET_STATE_DIR=$STATE0
fi

# ---- (b) a corrupt store ----
if [[ $PARTS == *b* ]]; then
	C=$PFX.c
	"$KT_ROOT/bench/gen-star" 20 >"$KT_TMP/star20.yaml"
	vup "$C" "$KT_TMP/star20.yaml"
	db=$VNET_STATE_DIR/state.db
	# fold a write-ahead log (if any) into the file, so that the garbage is what is read
	if [ -s "$db-wal" ]; then
		command -v sqlite3 >/dev/null || skip "needs sqlite3 to fold $db-wal into the database"
		sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	fi
	rm -f "$db-wal" "$db-shm"
	cp "$db" "$KT_TMP/state.db.good"
	page=2 # the first page after the schema: the topology table's root in vnet's schema
	if command -v sqlite3 >/dev/null; then
		page=$(sqlite3 "$db" "SELECT rootpage FROM sqlite_master WHERE name = 'topology'")
	fi
	size=$(stat -c %s "$db")
	[ $((page * 4096)) -le "$size" ] || fail "(b) $db has no page $page ($size bytes)"
	note "(b) overwriting page $page (offset $(((page - 1) * 4096))) of $db ($size bytes) with garbage"
	dd if=/dev/zero bs=4096 count=1 2>/dev/null | tr '\0' '\377' |
		dd of="$db" bs=4096 seek=$((page - 1)) conv=notrunc 2>/dev/null
	rc=0
	OUT=$("$VNET" list 2>&1) || rc=$?
	printf '%s\n' "$OUT" | sed 's/^/    | /'
	if grep -q "no topologies are up" <<<"$OUT"; then
		fail "(b) vnet list of a corrupt store says 'no topologies are up' (exit $rc): expected exit 3 and an error naming the state store"
	fi
	[ "$rc" = 3 ] || fail "(b) vnet list of a corrupt store: expected exit 3, got $rc"
	grep -qiE "state store|state\.db" <<<"$OUT" ||
		fail "(b) vnet list of a corrupt store: the error does not name the state store: $OUT"
	rc=0
	OUT=$("$VNET" list --json 2>&1) || rc=$?
	[ "$rc" = 3 ] || fail "(b) vnet list --json of a corrupt store: expected exit 3, got $rc: ${OUT:0:200}"
	echo "ok - (b) a corrupt store is an error naming it, not an empty list"
	cp "$KT_TMP/state.db.good" "$db"
	expect_rc 0 "$VNET" list
	expect_rc 0 "$VNET" down "$C"
	expect_eq "(b) namespaces of $C left" "$(ns_of "$C" | tr '\n' ' ')" ""
fi

# ---- (c) a lost store ----
if [[ $PARTS == *c* ]]; then
	L=$PFX.l F=$KT_TMP/star200.yaml
	"$KT_ROOT/bench/gen-star" 200 >"$F"
	vup "$L" "$F" >/dev/null
	expect_eq "(c) namespaces of $L" "$(ns_of "$L" | wc -l)" 201
	db=$VNET_STATE_DIR/state.db
	rm -f "$db" "$db-wal" "$db-shm"
	before=$(ns_of "$L")
	rc=0
	OUT=$("$VNET" up "$F" --sandbox --name "$L" 2>&1) || rc=$?
	tail -n 4 <<<"$OUT" | sed 's/^/    | /'
	[ "$rc" = 5 ] || fail "(c) vnet up after the store was lost: expected exit 5 (objects in the way), got $rc"
	grep -qE "tag|vnet:$L" <<<"$OUT" ||
		fail "(c) vnet up after the store was lost does not say the objects carry the tag vnet:$L: $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"
	grep -q "vnet recover" <<<"$OUT" ||
		fail "(c) vnet up after the store was lost does not point to 'vnet recover': $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"
	expect_eq "(c) namespaces after the refused up" "$(ns_of "$L")" "$before"
	expect_rc 2 "$VNET" down "$L" # not up, as far as the store knows: a bad operand
	expect_eq "(c) namespaces after down of a topology not up" "$(ns_of "$L" | wc -l)" 201

	own_ns "$L-zz" # by hand: its lo carries no tag
	ip -n "$L-zz" link add mine type veth peer name mine2 # no dummy module here
	rc=0
	OUT=$("$VNET" recover "$L" 2>&1) || rc=$?
	tail -n 4 <<<"$OUT" | sed 's/^/    | /'
	[ "$rc" = 0 ] || fail "(c) vnet recover $L: expected exit 0, got $rc: $(tail -n 2 <<<"$OUT" | tr '\n' ' ')"
	grep -qE "[0-9]+ (object|namespace|link)" <<<"$OUT" ||
		fail "(c) vnet recover $L does not say how many objects it recovered: $OUT"
	expect_eq "(c) vnet list after recover" "$("$VNET" list --json | jq -r '.[].name')" "$L"
	expect_rc 0 "$VNET" down "$L"
	expect_eq "(c) namespaces of $L left after recover + down (the hand-made one only)" \
		"$(ns_of "$L" | tr '\n' ' ')" "$L-zz "
	expect_eq "(c) the hand-made $L-zz: its veth 'mine'" "$(lget "$L-zz" mine .linkinfo.info_kind)" veth
	expect_eq "(c) state rows after down" "$("$VNET" list --json | jq -c .)" "[]"
	echo "ok - (c) recover took back $L's tagged objects, not $L-zz; down removed them all"

	rc=0
	OUT=$("$VNET" recover "$PFX.nobody" 2>&1) || rc=$?
	printf '%s\n' "$OUT" | sed 's/^/    | /'
	[ "$rc" = 2 ] || fail "(c) vnet recover of a name nobody used: expected exit 2, got $rc"
	grep -q "$PFX.nobody" <<<"$OUT" || fail "(c) vnet recover of a name nobody used: the message does not name it: $OUT"
	expect_eq "(c) state rows after recover of nothing" "$("$VNET" list --json | jq -c .)" "[]"
	has_ns "$L-zz" || fail "(c) the hand-made $L-zz is gone"
fi
