#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stp-repair.sh - a repairing `vnet up` on an STP loop returns only once the mended ports forward.
#
# +--------------------------------------------------------------+
# |  host (NAME-host): examples/stp-loop.yaml, stp on            |
# |                                                              |
# |       +-----+  s1-s2       s2-s1  +-----+                    |
# |       | sw1 |<--------- X ------->| sw2 |   X: one end of a   |
# |       +-----+                     +-----+   forwarding wire,  |
# |     s1-s3 ↑ \ sw1-pc1     sw2-pc2 / ↑ s2-s3  set down behind |
# |     s3-s1 ↓  \      +-----+      /  ↓ s3-s2  vnet's back;    |
# |           +-------->| sw3 |<--------+        a new one each  |
# |                \    +-----+    /             round           |
# +-----------------\-------------/------------------------------+
#                    ↓           ↓
#             pc1/eth0 10.0.0.1  pc2/eth0 10.0.0.2
#
# Proves (issue 7, item 8): round after round, a wire of the loop is cut (one end set down
# with ip), STP converges around the cut, and `vnet up` with the same file mends it; when
# that `vnet up` returns, no port is listening or learning and no port of the loop is still
# disabled (its link is up again, but the bridge has not yet seen the carrier), and pc1 and
# pc2 reach each other at once, both ways: the bridges forgot what they learned while the
# wire was cut. Before the fix about a third of the repairs returned at once, with the
# mended ports still disabled, and without the flush; the ping then failed for about 20 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init stpr

T=$PFX H=$PFX-host FILE=examples/stp-loop.yaml ROUNDS=${STP_REPAIR_ROUNDS:-6}
LOOP='^s[0-9]-s[0-9]$'
states() { bridge -n "$H" -j link | jq -r '.[] | "\(.ifname) \(.state)"' | sort; }
# The ports not yet settled: listening, learning, or a port of the loop disabled but for the
# two ends of the wire cut ($CUT): the rest are up with carrier, and a disabled one among
# them is one whose carrier the bridge has not seen yet.
CUT=""
transient() {
	bridge -n "$H" -j link | jq -r --arg re "$LOOP" --arg cut " $CUT " '.[] |
		select((.state | test("listening|learning")) or ((.ifname | test($re)) and
		.state == "disabled" and ($cut | contains(" \(.ifname) ") | not)))
		| "\(.ifname) \(.state)"'
}
# After the cut the loop is a line: nothing in transition and nothing blocking.
converged_cut() { [ -z "$(transient)" ] && ! states | grep -q ' blocking$'; }
state_of() { states | awk -v p="$1" '$1 == p {print $2}'; }
peer_of() { sed -E 's/^s([0-9])-s([0-9])$/s\2-s\1/' <<<"$1"; }
# The ends of wires of the loop forwarding at both ends.
forwarding_wires() {
	local p
	for p in $(states | awk -v re="$LOOP" '$1 ~ re && $2 == "forwarding" {print $1}'); do
		[ "$(state_of "$(peer_of "$p")")" = forwarding ] && echo "$p"
	done
}
# The kernel may still be resolving ARP after a flush: one echo each way, 2 s each, no more.
ping_both() {
	nsx "$PFX-pc1" ping -c 1 -W 2 10.0.0.2 >/dev/null &&
		nsx "$PFX-pc2" ping -c 1 -W 2 10.0.0.1 >/dev/null
}
# Before the repair: traffic flows around the cut. Entries learned before the cut may send
# pc1's frames the old way until they age out (see stp.sh); pc2's traffic re-teaches them.
both_ways() {
	nsx "$PFX-pc2" ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1 || true
	nsx "$PFX-pc1" ping -c 1 -W 1 10.0.0.2
}

vup "$T" "$FILE" >/dev/null
[ -z "$(transient)" ] || { states; fail "the first vnet up returned before STP converged"; }
bad=0
for round in $(seq 1 "$ROUNDS"); do
	mapfile -t wires < <(forwarding_wires)
	[ "${#wires[@]}" -gt 0 ] || { states; fail "round $round: no wire forwards at both ends"; }
	cut=${wires[$((round % ${#wires[@]}))]}
	ip -n "$H" link set "$cut" down
	CUT="$cut $(peer_of "$cut")"
	wait_until 30 converged_cut || { states; fail "round $round: STP did not converge after the cut"; }
	wait_until 30 both_ways || fail "round $round: pc1 cannot reach pc2 around the cut"
	out=$("$VNET" up "$FILE" --sandbox --name "$T") || fail "round $round: vnet up failed"
	CUT=""
	left=$(transient | tr '\n' ' ')
	if [ -n "$left" ]; then
		echo "not ok - round $round (cut $cut): vnet up returned with: $left($(tail -n 1 <<<"$out"))"
		bad=1
	elif ! ping_both; then
		echo "not ok - round $round (cut $cut): pc1 and pc2 do not reach each other after the repair"
		states | sed 's/^/    | /'
		bad=1
	else
		echo "ok - round $round (cut $cut): mended; $(tail -n 1 <<<"$out"); ping both ways"
	fi
	# a failed round leaves ports in transition: let the next round start from a settled loop
	wait_until 30 settled "$H" || fail "round $round: STP did not settle after the repair"
	wait_until 30 both_ways || fail "round $round: pc1 cannot reach pc2 after the repair"
done
[ "$bad" = 0 ] || fail "some repairs returned before the mended ports forwarded"
