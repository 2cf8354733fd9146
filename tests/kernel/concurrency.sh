#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# concurrency.sh - four ups at once, and up racing down: every command ends cleanly.
#
#   vnet up A &  vnet up B &  vnet up C &  vnet up D &      (four topologies, one store)
#   vnet up X &  vnet down X &   x 8                          (one topology, racing)
#
# Proves: commands that change the kernel serialize on the state store's lock: four `vnet up`
# of different topologies started together all succeed and each matches its file; `vnet up`
# and `vnet down` of the same topology started together each succeed or fail with a one-line
# message (never a crash, never a half-built topology); afterwards the store passes SQLite's
# integrity check, no object is recorded twice, and a last up/down leaves nothing behind. A
# command that has to wait for the lock says whom it waits for (as the holder wrote it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init cc

files=(examples/docker-explicit.yaml examples/stp-loop.yaml examples/bridge-veth.yaml examples/bridge-ip.yaml)
pids=()
for i in 0 1 2 3; do
	track "$PFX.$i"
	"$VNET" up "${files[$i]}" --sandbox --no-wait --name "$PFX.$i" >"$KT_TMP/up$i.log" 2>&1 &
	pids+=($!)
done
for i in 0 1 2 3; do
	wait "${pids[$i]}" || { cat "$KT_TMP/up$i.log"; fail "concurrent up of ${files[$i]} failed"; }
done
for i in 0 1 2 3; do
	expect_rc 0 "$VNET" diff "${files[$i]}" --sandbox --name "$PFX.$i" >/dev/null
done
expect_eq "topologies up" "$("$VNET" list --json | jq length)" 4
echo "ok - four concurrent ups, each complete"

# up and down of one topology, started together
X=$PFX.x
track "$X"
for round in 1 2 3 4 5 6 7 8; do
	"$VNET" up examples/docker-explicit.yaml --sandbox --name "$X" >"$KT_TMP/u.log" 2>&1 &
	u=$!
	"$VNET" down "$X" >"$KT_TMP/d.log" 2>&1 &
	d=$!
	for p in "$u:u" "$d:d"; do
		rc=0
		wait "${p%%:*}" || rc=$?
		log=$KT_TMP/${p##*:}.log
		case $rc in
		0) ;;
		# down before up: nothing to take down, said in one line
		*) [ "$(grep -c '^vnet: ' "$log")" = 1 ] && [ "$rc" -lt 64 ] ||
			{ cat "$log"; fail "round $round: exit $rc without a one-line message"; } ;;
		esac
	done
	# whichever ran last, the topology is either whole or gone
	if "$VNET" list --json | jq -e --arg x "$X" 'any(.[]; .name == $x)' >/dev/null; then
		expect_rc 0 "$VNET" diff examples/docker-explicit.yaml --sandbox --name "$X" >/dev/null
	else
		[ -z "$(ls /run/netns | grep "^$X-" || true)" ] || fail "round $round: gone from the store, not from the kernel"
	fi
done
echo "ok - 8 rounds of up racing down: each command succeeded or said why, in one line"

db=$VNET_STATE_DIR/state.db
if command -v sqlite3 >/dev/null; then
	expect_eq "integrity of the store" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok
	expect_eq "objects recorded twice" "$(sqlite3 "$db" \
		'SELECT count(*) FROM (SELECT 1 FROM object GROUP BY kind, ns, name HAVING count(*) > 1)')" 0
	expect_eq "rows of topologies not up" "$(sqlite3 "$db" \
		'SELECT count(*) FROM object WHERE topo NOT IN (SELECT name FROM topology)')" 0
fi
for t in "$PFX.0" "$PFX.1" "$PFX.2" "$PFX.3" "$X"; do
	"$VNET" down "$t" >/dev/null 2>&1 || true
done

# A command that must wait for the lock says for whom, then goes on when it is free.
exec {hold}>>"$VNET_STATE_DIR/lock"
flock -x "$hold"
echo "pid 4242 (vnet up held-by-the-test.yaml)" >"$VNET_STATE_DIR/lock"
"$VNET" up examples/docker-explicit.yaml --sandbox --name "$PFX.w" >"$KT_TMP/wait.log" 2>&1 &
w=$!
track "$PFX.w"
wait_until 20 grep -q "waiting for the state store" "$KT_TMP/wait.log" ||
	fail "a command waiting for the lock says nothing: $(cat "$KT_TMP/wait.log")"
grep -qF "in use by pid 4242 (vnet up held-by-the-test.yaml)" "$KT_TMP/wait.log" ||
	fail "the waiting command does not name the lock's holder: $(cat "$KT_TMP/wait.log")"
kill -0 "$w" 2>/dev/null || fail "the waiting command did not wait"
[ "$(ls /run/netns | grep -c "^$PFX.w-" || true)" = 0 ] || fail "the waiting command went on"
flock -u "$hold"
exec {hold}>&-
wait "$w" || fail "the command that waited for the lock failed: $(cat "$KT_TMP/wait.log")"
echo "ok - a command waiting for the lock names its holder, then goes on"
"$VNET" down "$PFX.w" >/dev/null
expect_eq "topologies left" "$("$VNET" list --json | jq length)" 0
expect_eq "namespaces left" "$(ls /run/netns | grep -c "^$PFX" || true)" 0

# Six commands that open a new store at once: one turns it to WAL while the others wait
# (SQLite answers them "busy" at once there, busy timeout or not; vnet tries again).
for round in $(seq 1 20); do
	d=$KT_TMP/race$round
	for j in 1 2 3 4 5 6; do
		VNET_STATE_DIR=$d "$VNET" list >/dev/null 2>"$KT_TMP/race.$j" &
		bg_pid $!
	done
	wait
	if grep -h . "$KT_TMP"/race.*; then
		fail "round $round: a command that opened a new store at once with five others failed"
	fi
done
echo "ok - 20 rounds of six commands opening a new store at once: none failed"
echo "PASS: concurrency.sh"
