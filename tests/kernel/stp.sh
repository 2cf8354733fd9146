#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stp.sh - seed section 3.1 "stp": three switches in a loop; STP blocks exactly one port.
#
# +------------------------------------------------------------------+
# |  host (NAME-host): three bridges, stp on, kernel-minimum timers  |
# |                                                                  |
# |                s1-s2          s2-s1                              |
# |       +-----+ <-------------------> +-----+                      |
# |       | sw1 |                       | sw2 |                      |
# |       +-----+                       +-----+                      |
# |    s1-s3 ↑  \ sw1-pc1        sw2-pc2 /  ↑ s2-s3                  |
# |          |   \                      /   |                        |
# |    s3-s1 ↓    \       +-----+      /    ↓ s3-s2                  |
# |          +---------->| sw3 |<-----------+                        |
# |                  \    +-----+     /                              |
# +-------------------\--------------/-------------------------------+
#                      ↓            ↓
#               pc1/eth0 10.0.0.1   pc2/eth0 10.0.0.2
#
# Proves: examples/stp-loop.yaml converges, and `vnet up` itself waits for it (it reports
# the time, and no port is listening or learning when it returns); exactly one port of the
# loop is blocking (the rest forward); pc1 reaches pc2 through the loop without a storm; the
# root is the bridge with the lowest bridge id; the roles and states `vnet stp` prints agree
# with `bridge -d -j link` and sysfs; after the cable between the root and one switch is
# cut, STP converges again and the ping works again; `vnet up` mends the cut.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init stp

T=$PFX H=$PFX-host
# no port of the host's bridges listening or learning (settled also waits for IPv6 DAD)
stp_settled() {
	bridge -n "$H" -j link | jq -e '[.[] | select(.state | test("listening|learning"))]
		| length == 0' >/dev/null
}
track "$T"
out=$("$VNET" up examples/stp-loop.yaml --sandbox --name "$T") || fail "vnet up failed"
printf '%s\n' "$out" | tail -n 2
grep -Eq "^$T: STP converged in [0-9.]+ s$" <<<"$out" || fail "vnet up did not report STP converging"
stp_settled || fail "vnet up returned before STP converged"
echo "ok - vnet up waited for STP to converge"
for b in sw1 sw2 sw3; do
	expect_eq "$b stp_state" "$(lget "$H" $b .linkinfo.info_data.stp_state)" 1
done
states() { bridge -n "$H" -j link | jq -r '.[] | "\(.ifname) \(.master) \(.state)"' | sort; }
expect_eq "ports of the three switches" "$(states | wc -l)" 8

# Listening and learning each last forward_delay (2 s); allow for a topology change or two.
if ! wait_until 30 settled "$H"; then
	states
	fail "the ports did not leave listening/learning within 30 s"
fi
states
expect_eq "blocking ports" "$(states | grep -c ' blocking$')" 1
expect_eq "forwarding ports" "$(states | grep -c ' forwarding$')" 7
blocked=$(states | awk '$3 == "blocking" {print $1}')
case $blocked in
s1-s2 | s2-s1 | s2-s3 | s3-s2 | s3-s1 | s1-s3) echo "ok - the blocked port $blocked is in the loop" ;;
*) fail "the blocked port $blocked is not one of the loop's" ;;
esac
# polled: right after convergence the bridges may still be in their topology-change state
wait_until 10 nsx "$PFX-pc1" ping -c 1 -W 1 10.0.0.2 || fail "pc1 cannot reach pc2 through the loop"

# ---- the root is the lowest bridge id; vnet stp agrees with the kernel's own views ----
ids=$(for b in sw1 sw2 sw3; do echo "$(nsx "$H" cat /sys/class/net/$b/bridge/bridge_id) $b"; done)
root=$(sort <<<"$ids" | head -n 1 | cut -d' ' -f2)
echo "# bridge ids: $(tr '\n' ' ' <<<"$ids"); root should be $root"
for b in sw1 sw2 sw3; do
	j=$("$VNET" stp "$b" --name "$T" --json) || fail "vnet stp $b failed"
	expect_eq "$b root id (vnet stp = sysfs)" "$(jq -r .root_id <<<"$j")" \
		"$(nsx "$H" cat /sys/class/net/$b/bridge/root_id)"
	expect_eq "$b is_root" "$(jq -r .is_root <<<"$j")" "$([ "$b" = "$root" ] && echo true || echo false)"
	for p in $(jq -r '.ports[].name' <<<"$j"); do
		pj=$(jq -c --arg p "$p" '.ports[] | select(.name == $p)' <<<"$j")
		expect_eq "$p state (vnet stp = bridge -d -j link)" "$(jq -r .state <<<"$pj")" \
			"$(bridge -n "$H" -d -j link show dev "$p" | jq -r '.[0].state')"
		expect_eq "$p designated bridge (vnet stp = sysfs)" \
			"$(jq -r .designated_bridge <<<"$pj")" \
			"$(nsx "$H" cat /sys/class/net/$p/brport/designated_bridge)"
		# the role, derived again here from sysfs as the kernel decides it
		role=designated
		if [ "$(jq -r .state <<<"$pj")" = blocking ]; then
			role=alternate
		elif [ "$(nsx "$H" cat /sys/class/net/$b/bridge/root_port)" != 0 ] &&
			[ $(($(nsx "$H" cat /sys/class/net/$p/brport/port_no))) = \
			$(($(nsx "$H" cat /sys/class/net/$b/bridge/root_port))) ]; then
			role=root
		fi
		expect_eq "$p role (vnet stp = sysfs)" "$(jq -r .role <<<"$pj")" "$role"
	done
done
expect_eq "root ports" "$(for b in sw1 sw2 sw3; do "$VNET" stp "$b" --name "$T" --json; done |
	jq -s '[.[].ports[] | select(.role == "root")] | length')" 2
"$VNET" stp "$root" --name "$T"

# ---- cut the cable between the root and one switch; STP heals around it ----
cut=$(bridge -n "$H" -j link | jq -r --arg r "$root" '[.[] | select(.master == $r and
	(.ifname | test("^s[0-9]-s[0-9]$")))][0].ifname')
echo "# cutting $cut (a port of the root $root)"
ip -n "$H" link del "$cut"
# The triangle is now a line: no port needs to block. The blocked port's stored root
# information has to age out first (max_age 6 s), then it listens and learns (2 x 2 s).
no_blocking() { stp_settled && ! states | grep -q ' blocking$'; }
wait_until 30 no_blocking || { states; fail "STP did not converge again after the cut"; }
echo "ok - converged again after the cut, with no port blocking"
# The kernel's bridge goes on forwarding by MAC entries that have expired until its garbage
# collection next runs, and a topology change does not bring that run forward: the third
# switch may send pc1's frames for pc2 back the way they came for up to ageing_time
# (measured: 0 to 14 s). Traffic from pc2 re-teaches it, as in any real conversation; the
# other direction always works at once (its entries point along the surviving path).
both_ways() {
	nsx "$PFX-pc2" ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1 || true
	nsx "$PFX-pc1" ping -c 1 -W 1 10.0.0.2
}
wait_until 15 both_ways || fail "pc1 cannot reach pc2 after the cut"
echo "ok - pc1 reaches pc2 again after the cut"
nsx "$PFX-pc2" ping -c 1 -W 1 10.0.0.1 >/dev/null || fail "pc2 cannot reach pc1 after the cut"
echo "ok - pc2 reaches pc1 after the cut"

# ---- vnet up mends the cut, and waits again ----
expect_rc 1 "$VNET" diff examples/stp-loop.yaml --sandbox --name "$T"
out=$("$VNET" up examples/stp-loop.yaml --sandbox --name "$T") || fail "vnet up failed"
stp_settled || fail "vnet up returned before STP converged"
expect_eq "blocking ports after the repair" "$(states | grep -c ' blocking$')" 1
wait_until 10 nsx "$PFX-pc1" ping -c 1 -W 1 10.0.0.2 || fail "pc1 cannot reach pc2 after the repair"
echo "PASS: stp.sh"
