#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crash-random.sh - vnet killed (kill -9) at random moments of up and of down of a 200-node star.
#
# +------------------------------+-------------+-------------+       +---------------+
# |       Host (NAME-host)       |  n1 (.0.2)  |  n2 (.0.3)  |       | n200 (.0.201) |
# |  +------------+   +------+   |  +------+   |  +------+   |       |  +------+     |
# |  | br0 .0.1/16|<->|  v1  |<---->| eth0 |   |  | eth0 |   |  ...  |  | eth0 |     |
# |  |            |   +------+   |  +------+   |  +------+   |       |  +------+     |
# |  |            |<->|  v2  |<-------------------->↑        |       |     ↑         |
# |  |            |<->| v200 |<--------------------------------------------+         |
# |  +------------+   +------+   |             |             |       |               |
# +------------------------------+-------------+-------------+       +---------------+
#
# Proves: crash.sh kills vnet at its own crash points; here a real SIGKILL lands at a random
# moment (30 rounds 5-300 ms into `vnet up`, 8 rounds 2-150 ms into `vnet down`, about 90 s in
# all; each round prints its delay; KT_UP_ROUNDS, KT_DOWN_ROUNDS change the counts, and
# KT_SEED=N replays the same delays). After every killed up, the next `vnet up` completes (exit 0), leaves
# no namespace file that is not a mounted namespace, `vnet diff` is clean, and `vnet down`
# leaves no namespace of the test (not even an empty file under /run/netns) and no state row.
# After every killed down, the next `vnet down` finishes the job (or, if the killed one had
# already forgotten the topology, nothing of it is left in the kernel).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init crr

T=$PFX
F=$KT_TMP/star200.yaml
"$KT_ROOT/bench/gen-star" 200 >"$F"
track "$T"
UP_ROUNDS=${KT_UP_ROUNDS:-30}
DOWN_ROUNDS=${KT_DOWN_ROUNDS:-8}
SEED=${KT_SEED:-$$}
RANDOM=$SEED
note "random seed $SEED (KT_SEED=$SEED replays these delays)"

# not_mounted: files of this test under /run/netns that hold no namespace (an empty file
# left by a namespace creation that was killed between the create and the bind mount).
not_mounted() {
	local ns
	for ns in $(ns_list); do
		mountpoint -q "/run/netns/$ns" || echo "$ns"
	done
}

# clean_now WHAT: no namespace (or file) of the test, no state row.
clean_now() {
	local left
	left=$(ns_list | tr '\n' ' ')
	[ -z "$left" ] || fail "$1: expected no namespace of $T under /run/netns, found: ${left:0:300}"
	left=$("$VNET" list --json | jq -c .)
	[ "$left" = "[]" ] || fail "$1: expected vnet list --json to be [], got: ${left:0:300}"
}

# kill_after MS CMD...: start CMD in the background, SIGKILL it MS ms later; $KRC is its status
# (137 when the kill landed, else its own exit status: it finished first).
kill_after() {
	local ms=$1 pid
	shift
	"$@" >"$KT_TMP/killed.log" 2>&1 &
	pid=$!
	bg_pid "$pid"
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	KRC=0
	wait "$pid" || KRC=$?
}

# must WHAT CMD...: CMD exits 0, or the test fails showing the end of its output
must() {
	local what=$1 rc=0 out
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = 0 ] || { tail -n 20 <<<"$out"; fail "$what: expected vnet $2 to exit 0, got $rc"; }
}

# ---- random kills of up ----
midway=0
for round in $(seq 1 "$UP_ROUNDS"); do
	ms=$((5 + RANDOM % 296))
	kill_after "$ms" "$VNET" up "$F" --sandbox --name "$T"
	what="up round $round (kill -9 after $ms ms)"
	case $KRC in
	137)
		made=$(ns_list | wc -l)
		note "$what: killed; $made namespaces of $T exist"
		[ "$made" -gt 0 ] && [ "$made" -lt 201 ] && midway=$((midway + 1))
		;;
	0) note "$what: the up finished before the kill" ;;
	*) cat "$KT_TMP/killed.log"; fail "$what: the up exited $KRC on its own before the kill" ;;
	esac
	must "$what, the next up" "$VNET" up "$F" --sandbox --name "$T"
	bad=$(not_mounted | tr '\n' ' ')
	[ -z "$bad" ] || fail "$what: after the repairing up, files under /run/netns that hold no namespace: $bad"
	expect_eq "$what: namespaces after the repairing up" "$(ns_list | wc -l)" 201
	must "$what, diff after the repairing up (drift)" "$VNET" diff "$F" --sandbox --name "$T"
	must "$what, down" "$VNET" down "$T"
	clean_now "$what, after down"
	echo "ok - $what: the next up completed, diff clean, down left nothing"
done

# a walk that never cut a build in the middle proved nothing
[ "$midway" -ge $((UP_ROUNDS / 3)) ] ||
	fail "only $midway of $UP_ROUNDS kills of up fell while it was making namespaces"
echo "ok - $midway of $UP_ROUNDS kills of up fell while it was making namespaces"

# ---- random kills of down ----
for round in $(seq 1 "$DOWN_ROUNDS"); do
	"$VNET" up "$F" --sandbox --name "$T" >/dev/null || fail "down round $round: the up before the kill failed"
	ms=$((2 + RANDOM % 149))
	kill_after "$ms" "$VNET" down "$T"
	what="down round $round (kill -9 after $ms ms)"
	case $KRC in
	137) note "$what: killed; $(ns_list | wc -l) namespaces of $T exist" ;;
	0) note "$what: the down finished before the kill" ;;
	*) cat "$KT_TMP/killed.log"; fail "$what: the down exited $KRC on its own before the kill" ;;
	esac
	if [ "$("$VNET" list --json | jq length)" = 0 ]; then
		# killed after its last commit (or not killed at all): the kernel must hold nothing either
		clean_now "$what, forgotten by the store"
		echo "ok - $what: the store forgot the topology and nothing of it is left"
		continue
	fi
	must "$what, the next down" "$VNET" down "$T"
	clean_now "$what, after the next down"
	echo "ok - $what: the next down finished the job"
done
