#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# dummy.sh - a service address on a dummy link, reached across a veth pair.
#
# +-----------------------+         +-------------------------------+
# | cl                    |         | srv                           |
# | eth0 192.168.60.1 ===========  eth0 192.168.60.2              |
# | 10.99.0.1/32 via .2   |         | svc0 (dummy) 10.99.0.1/32     |
# +-----------------------+         +-------------------------------+
#   examples/dummy.yaml
#
# Proves: vnet makes a dummy link of the kind, tagged, up, with its address; the client
# reaches the address on it; vnet show draws it as a dummy; down leaves nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init dm

# The kernel must have the dummy driver (CONFIG_DUMMY): probe it in a namespace of ours.
own_ns "$PFX-probe"
if ! err=$(ip -n "$PFX-probe" link add probe0 type dummy 2>&1); then
	skip "this kernel has no dummy links (CONFIG_DUMMY): ip link add type dummy: $err"
fi
ip netns del "$PFX-probe"

T=$PFX S=$PFX-srv C=$PFX-cl
vup "$T" examples/dummy.yaml
expect_eq "svc0 kind" "$(lget "$S" svc0 .linkinfo.info_kind)" dummy
expect_eq "svc0 tag" "$(lget "$S" svc0 .ifalias)" "vnet:$T"
expect_eq "svc0 up" "$(lget "$S" svc0 '.flags | index("UP") != null')" true
expect_eq "svc0 address" "$(addrs "$S" svc0)" 10.99.0.1/32
nsx "$C" ping -c 1 -W 2 10.99.0.1 >/dev/null || fail "cl cannot reach 10.99.0.1 on srv/svc0"
echo "ok - cl reaches the service address on the dummy link"
"$VNET" show "$T" | grep -q "svc0 dummy" || fail "show does not draw svc0 as a dummy"
expect_rc 0 "$VNET" diff examples/dummy.yaml --sandbox --name "$T"
"$VNET" down "$T" >/dev/null || fail "vnet down $T"
expect_eq "nothing left" "$(ns_list)" ""
