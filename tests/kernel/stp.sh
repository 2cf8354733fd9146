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
# Proves: examples/stp-loop.yaml converges: within a timeout no port is listening or
# learning, exactly one port of the loop is blocking (the rest forward), and pc1 reaches pc2
# through the loop without a broadcast storm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init stp

T=$PFX H=$PFX-host
vup "$T" examples/stp-loop.yaml
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
