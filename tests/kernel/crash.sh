#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crash.sh - vnet killed at every step of up and of down; the next run repairs, nothing leaks.
#
# +------------------------------------------+-----------------+-----------------+
# |  outer namespace O (made by the test;    |  c1 (NAME-c1)   |  c2 (NAME-c2)   |
# |  stands for the machine's own)           |                 |                 |
# |   br0 .9.1 <---> veth-c1 <------------------> eth0 .9.2   |                 |
# |           <---> veth-c2 <--------------------------------------> eth0 .9.3   |
# +------------------------------------------+-----------------+-----------------+
#
# Proves: with VNET_CRASH_AT=N vnet kills itself (as kill -9 would) at the Nth crash point
# (after every netlink batch, namespace or tun/tap change, and state-store commit, and between
# a namespace's file and its mount, both ways). For every
# N over the whole of `vnet up` of examples/docker-explicit.yaml, built outside the sandbox with
# outer namespace standing for the machine: `vnet list` shows the apply as interrupted, a
# second `vnet up` completes the topology (diff clean, a half-made namespace file removed and
# said), and `vnet down` leaves the outer
# namespace exactly as before (full dumps of links, addresses and routes), no namespace and
# no state row. The same for examples/docker.yaml (IPAM, the NAT table and forwarding in the
# outer namespace) and for examples/macvlan.yaml (macvlans made on a parent in the outer
# namespace and placed in the nodes, tagged there later). Then the same for every N over
# `vnet down` of docker.yaml: the next down finishes the job.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init cr
need_test_hooks

T=$PFX O=$PFX-o F=examples/docker-explicit.yaml
own_ns "$O"
track "$T" "$O"
v() { in_outer "$O" "$VNET" "$@"; }
before=$(dump "$O")
left_behind() { ls /run/netns | grep "^$T-" | grep -vx "$O" || true; }
# half_made: files of this topology in /run/netns that are not (mounted) namespaces
half_made() {
	local f
	for f in $(left_behind); do
		[ "$(stat -f -c %T "/run/netns/$f")" = nsfs ] || echo "$f"
	done
}

clean_after() { # WHAT: down, then everything as before
	v down "$T" >/dev/null || fail "$1: vnet down failed"
	[ -z "$(left_behind)" ] || fail "$1: namespaces left: $(left_behind | tr '\n' ' ')"
	[ "$(v list --json | jq length)" = 0 ] || fail "$1: state rows left: $(v list)"
	diff <(echo "$before") <(dump "$O") >/dev/null || fail "$1: the outer namespace changed"
}

# crash_up FILE: kill vnet up of FILE at each of its crash points in turn; each time the next
# up repairs and down cleans
crash_up() {
	local F=$1 n=1 rc interrupted debris out f up_points
	while :; do
		rc=0
		VNET_CRASH_AT=$n v up "$F" --name "$T" >/dev/null 2>&1 || rc=$?
		[ "$rc" = 0 ] && break # no crash point $n: the whole up ran
		[ "$rc" = 99 ] || fail "up $F, crash point $n: expected the injected crash (99), got $rc"
		interrupted=$(v list --json | jq -r 'if length == 0 then "none" else .[0].interrupted end')
		debris=$(half_made)
		out=$(v up "$F" --name "$T" 2>&1) || fail "up $F, crash point $n: the second up failed"
		for f in $debris; do # a crash between a namespace's file and its mount
			grep -q "removed /run/netns/$f, the file of a namespace that an interrupted run" \
				<<<"$out" || fail "up $F, crash point $n: the second up did not say it removed $f"
			echo "ok - up $F, crash point $n: the half-made /run/netns/$f removed, and said"
		done
		# the apply is journaled as interrupted, unless the crash came after its last commit
		# (then there is nothing left to do) or before its first (then nothing was recorded)
		case $interrupted in
		true) grep -q "repairing an apply that was interrupted" <<<"$out" ||
			fail "up $F, crash point $n: the second up did not say it repaired" ;;
		false) grep -q "nothing to change" <<<"$out" ||
			fail "up $F, crash point $n: not marked interrupted, yet there was work left" ;;
		none) [ "$n" = 1 ] || fail "up $F, crash point $n: no record of the topology" ;;
		esac
		expect_rc 0 v diff "$F" --name "$T" >/dev/null
		clean_after "up $F, crash point $n"
		n=$((n + 1))
		[ $n -le 100 ] || fail "more than 100 crash points in one up?"
	done
	up_points=$((n - 1))
	[ "$up_points" -ge 5 ] || fail "only $up_points crash points in up: the switch does not work"
	echo "ok - killed at each of the $up_points crash points of up $F; each time up repaired and down cleaned"
	clean_after "the uninterrupted up of $F"
}
crash_up "$F"
# the whole Docker figure: networks, containers and vnet's nftables table in O, forwarding
# turned on there (and off again by down: clean_after compares O's ruleset and forwarding)
crash_up examples/docker.yaml
# macvlans made on the outer namespace's uplink and placed in c1 and c2, tagged there by a
# later batch: a crash between the two leaves them untagged, proven vnet's by their parent
crash_up examples/macvlan.yaml

n=1
while :; do
	v up "$F" --name "$T" >/dev/null || fail "up before the down crash $n"
	rc=0
	VNET_CRASH_AT=$n v down "$T" >/dev/null 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		[ -z "$(left_behind)" ] && [ "$(v list --json | jq length)" = 0 ] &&
			diff <(echo "$before") <(dump "$O") >/dev/null ||
			fail "the uninterrupted down left something"
		break
	fi
	[ "$rc" = 99 ] || fail "down, crash point $n: expected the injected crash (99), got $rc"
	if [ "$(v list --json | jq length)" = 0 ]; then
		# killed after its last commit: the store forgot the topology, and the kernel must
		# hold nothing of it either
		[ -z "$(left_behind)" ] || fail "down, crash point $n: forgotten, yet namespaces left"
		diff <(echo "$before") <(dump "$O") >/dev/null ||
			fail "down, crash point $n: forgotten, yet the outer namespace changed"
	else
		clean_after "down, crash point $n"
	fi
	n=$((n + 1))
	[ $n -le 100 ] || fail "more than 100 crash points in one down?"
done
echo "ok - killed at each of the $((n - 1)) crash points of down; each time down finished the job"
echo "PASS: crash.sh"
