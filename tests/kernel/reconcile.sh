#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# reconcile.sh - `vnet up` over a built topology changes only what the file's edit changed.
#
# +---------------------------------------+-------------------+- - - - - - - - - -+
# |            Host (NAME-host)           |     node c1       |  node c2 (added,  |
# |      +--------+     +---------+       |     +-------+     |  then removed)    |
# |      |  .9.1  |     | veth-c1 |<----------->| eth0  |     |     +-------+     |
# |      |   br0  |<--->+---------+       |     | .9.2  |     |     | eth0  |     |
# |      | stp    |     +---------+       |     | (.9.20)     |     | .9.3  |     |
# |      | off/on |<--->| veth-c2 |<- - - - - - - - - - - - - - - - ->|       |     |
# |      +--------+     +---------+       |     +-------+     |     +-------+     |
# +---------------------------------------+-------------------+- - - - - - - - - -+
#
# Proves: adding a node plans and makes only that node's objects; removing it removes only its
# namespace and veth; an address edit is a delete and an add of that address (the rest stays);
# STP toggles on and off in place; an unchanged file says "nothing to change" and leaves every
# namespace's full link, address and route dump identical.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init rc

T=$PFX H=$PFX-host C1=$PFX-c1 C2=$PFX-c2
# write_file STP C1_ADDR WITH_C2
write_file() {
	{
		echo "nodes:"
		echo "  c1: {routes: [default via 192.168.9.1]}"
		[ "$3" = yes ] && echo "  c2: {routes: [default via 192.168.9.1]}"
		echo "bridges:"
		echo "  br0: {addresses: 192.168.9.1/24, stp: $1}"
		echo "veths:"
		echo "  - veth-c1: {master: br0}"
		echo "    c1/eth0: {addresses: $2}"
		if [ "$3" = yes ]; then
			echo "  - veth-c2: {master: br0}"
			echo "    c2/eth0: {addresses: 192.168.9.3/24}"
		fi
	} >"$KT_TMP/topo.yaml"
}
F=$KT_TMP/topo.yaml
ifindexes() { ip -n "$1" -j link | jq -c '[.[] | [.ifname, .ifindex]]'; }

# all_steps_match REGEX: every planned step (one a line in $1) matches REGEX; at least one step.
all_steps_match() {
	[ -n "$1" ] || fail "empty plan where steps were expected"
	if grep -vE -- "$2" <<<"$1"; then
		fail "the steps above do not match /$2/"
	fi
	echo "ok - all $(wc -l <<<"$1") planned steps match /$2/"
}

write_file off 192.168.9.2/24 no
vup "$T" "$F"
wait_until 10 settled "$H" "$C1" || fail "namespaces did not settle"

# ---- add node c2: only c2's namespace, its veth, its address and route ----
c1_before=$(dump_ns "$C1") host_idx=$(ifindexes "$H") c1_idx=$(ifindexes "$C1")
write_file off 192.168.9.2/24 yes
steps=$(plan_steps "$T" "$F")
printf '%s\n' "$steps"
all_steps_match "$steps" "(veth-c2|$C2)"
grep -q "^+ create namespace $C2" <<<"$steps" || fail "no step creates $C2"
vup "$T" "$F"
wait_until 10 settled "$H" "$C1" "$C2" || fail "namespaces did not settle"
diff <(echo "$c1_before") <(dump_ns "$C1") || fail "adding c2 changed c1"
expect_eq "host links kept their indexes (plus veth-c2)" \
	"$(ifindexes "$H" | jq -c 'map(select(.[0] != "veth-c2"))')" "$host_idx"
expect_eq "veth-c2 master" "$(lget "$H" veth-c2 .master)" br0
nsx "$C2" ping -c 1 -W 2 192.168.9.2 || fail "the new node c2 cannot reach c1"

# ---- remove node c2: only its namespace and its veth go ----
write_file off 192.168.9.2/24 no
steps=$(plan_steps "$T" "$F")
printf '%s\n' "$steps"
all_steps_match "$steps" "^- .*(veth-c2|$C2)"
vup "$T" "$F"
has_ns "$C2" && fail "namespace $C2 still there after c2 was removed from the file"
expect_eq "veth-c2 gone from the host" "$(ljson "$H" veth-c2)" "{}"
diff <(echo "$c1_before") <(dump_ns "$C1") || fail "removing c2 changed c1"
expect_eq "host links as before c2" "$(ifindexes "$H")" "$host_idx"

# ---- change c1's address ----
write_file off 192.168.9.20/24 no
steps=$(plan_steps "$T" "$F")
printf '%s\n' "$steps"
grep -qx -- "- delete address 192.168.9.2/24 from eth0 in $C1" <<<"$steps" ||
	fail "the plan does not delete the old address"
grep -qx -- "+ add address 192.168.9.20/24 to eth0 in $C1" <<<"$steps" ||
	fail "the plan does not add the new address"
# the default route goes with the old address in the kernel, so the plan makes it again
all_steps_match "$steps" "(address 192.168.9.20?/24 .* eth0 in $C1|route default via 192.168.9.1( dev eth0)? in $C1)"
vup "$T" "$F"
expect_eq "c1 address changed" "$(addrs "$C1" eth0)" 192.168.9.20/24
expect_eq "c1 default route kept" "$(ip -n "$C1" -j route show default |
	jq -r '.[] | "\(.gateway) \(.dev)"')" "192.168.9.1 eth0"
expect_eq "c1 links kept" "$(ifindexes "$C1")" "$c1_idx"
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"

# ---- toggle STP on, then off: in place ----
write_file on 192.168.9.20/24 no
expect_eq "stp on plan" "$(plan_steps "$T" "$F")" \
	"~ set br0 in $H: stp true, forward_delay 2, hello_time 1, max_age 6"
vup "$T" "$F"
expect_eq "br0 stp_state" "$(lget "$H" br0 .linkinfo.info_data.stp_state)" 1
expect_eq "br0 forward_delay (kernel minimum, filled in)" \
	"$(lget "$H" br0 .linkinfo.info_data.forward_delay)" 200
expect_eq "host links kept" "$(ifindexes "$H")" "$host_idx"
write_file off 192.168.9.20/24 no
expect_eq "stp off plan" "$(plan_steps "$T" "$F")" "~ set br0 in $H: stp false"
vup "$T" "$F"
expect_eq "br0 stp_state" "$(lget "$H" br0 .linkinfo.info_data.stp_state)" 0

# ---- unchanged file: nothing to change, nothing changed ----
wait_until 20 settled "$H" "$C1" || fail "namespaces did not settle"
before=$(dump "$H" "$C1")
expect_rc 0 "$VNET" up "$F" --sandbox --name "$T"
grep -q "nothing to change" <<<"$OUT" || fail "re-running an unchanged file did not say so"
after=$(dump "$H" "$C1")
diff <(echo "$before") <(echo "$after") || fail "re-running an unchanged file changed the kernel"
echo "ok - full dumps of $H and $C1 identical before and after"
