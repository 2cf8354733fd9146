#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# star.sh - an 80-node star: enough namespaces that vnet reads the kernel on two threads.
#
# +------------------------------------------------+
# |  host (NAME-host)   br0 10.0.0.1/16            |
# |        +-----+                                 |
# |        | br0 |<--->| v1 |  ...  | v80 |         |
# |        +-----+     +----+       +-----+         |
# +---------------------|--------------|------------+
#                       |              |
#                  n1/eth0 .0.2   n80/eth0 .0.81     (one namespace each)
#
# Proves: with 81 namespaces (over the 64 from which observe splits the reading between two
# threads) the halves are merged right: veth peers across the halves are paired (diff finds
# nothing, re-running up plans nothing), show --json lists every node, the far ends reach
# each other, and down removes every namespace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init sta

N=80 T=$PFX
F=$KT_TMP/star.yaml
bench/gen-star $N >"$F"
vup "$T" "$F" --no-wait
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
expect_eq "re-run plan" "$(plan_steps "$T" "$F")" ""
expect_eq "nodes in show --json" "$("$VNET" show "$T" --json | jq '.nodes | length')" $((N + 1))
expect_eq "veth wires in show --json" "$("$VNET" show "$T" --json | jq '[.wires[] | select(.kind == "veth")] | length')" $N
expect_eq "namespaces" "$(ls /run/netns | grep -c "^$T-")" $((N + 1))
wait_until 10 nsx "$T-n1" ping -c 1 -W 1 10.0.0.81 || fail "n1 cannot reach n80"
echo "ok - n1 reaches n80 across br0"
"$VNET" down "$T" | tail -n 1
expect_eq "namespaces after down" "$(ls /run/netns | grep -c "^$T-" || true)" 0
echo "PASS: star.sh"
