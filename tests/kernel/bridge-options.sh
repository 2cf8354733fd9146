#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bridge-options.sh - every bridge and port option reaches the kernel, and changes only what changed.
#
# +-------------------------------------------------------------------+
# |                          host (NAME-host)                         |
# |    +-------------------------------------------------------+      |
# |    | br0  stp on, priority 4096, forward_delay 3,          |      |
# |    |      hello_time 2, max_age 12, ageing_time 120        |      |
# |    +-------------------------------------------------------+      |
# |       |p1              |p2              |p3              |p4      |
# |   cost 10, prio 5   isolated       isolated, cost 7   (defaults)  |
# |   hairpin, no learn,    |               |                |        |
# |   no flood   |          |               |                |        |
# +--------------|----------|---------------|----------------|--------+
#                ↓          ↓               ↓                ↓
#            n1/eth0     n2/eth0         n3/eth0          n4/eth0
#            .7.1        .7.2            .7.3             .7.4      (192.168.7.0/24)
#
# Proves: each option is what `ip -d -j link` and sysfs report; an edit of the file changes
# exactly the edited values (plan and kernel); isolated ports cannot reach each other while a
# non-isolated one reaches both, and clearing "isolated" lets them talk.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init bo

T=$PFX H=$PFX-host
F=$KT_TMP/options.yaml
cat >"$F" <<'EOF'
nodes: {n1: , n2: , n3: , n4: }
bridges:
  br0: {stp: on, priority: 4096, forward_delay: 3, hello_time: 2, max_age: 12, ageing_time: 120}
veths:
  - p1: {master: br0, cost: 10, priority: 5, hairpin: on, learning: off, flood: off}
    n1/eth0: {addresses: 192.168.7.1/24}
  - p2: {master: br0, isolated: on}
    n2/eth0: {addresses: 192.168.7.2/24}
  - p3: {master: br0, isolated: on, cost: 7}
    n3/eth0: {addresses: 192.168.7.3/24}
  - p4: {master: br0}
    n4/eth0: {addresses: 192.168.7.4/24}
EOF

# check_br KEY WANT: bridge option KEY of br0, from `ip -d -j link` and from sysfs. Timers are
# in centiseconds in both (USER_HZ), so 3 s is 300.
check_br() {
	expect_eq "br0 $1 (ip -d)" "$(lget "$H" br0 ".linkinfo.info_data.$1")" "$2"
	expect_eq "br0 $1 (sysfs)" "$(nsx "$H" cat "/sys/class/net/br0/bridge/$1")" "$2"
}

# check_port PORT KEY WANT (0/1 for flags): port option KEY, from `ip -d -j link` and sysfs.
check_port() {
	local file
	case $2 in
	cost) file=path_cost ;; hairpin) file=hairpin_mode ;; flood) file=unicast_flood ;;
	*) file=$2 ;;
	esac
	expect_eq "$1 $2 (ip -d)" \
		"$(lget "$H" "$1" ".linkinfo.info_slave_data.$2 | if type == \"boolean\" then
			(if . then 1 else 0 end) else . end")" "$3"
	expect_eq "$1 $2 (sysfs)" "$(nsx "$H" cat "/sys/class/net/br0/brif/$1/$file")" "$3"
}

check_all() { # FORWARD_DELAY PRIORITY P2_COST P3_ISOLATED
	check_br stp_state 1
	check_br priority "$2"
	check_br forward_delay "$1"
	check_br hello_time 200
	check_br max_age 1200
	# During a topology change the kernel ages MACs out after 2 x forward_delay and reports
	# that as ageing_time (br_stp.c); `vnet up` now returns right after STP converged, when
	# the bridge is usually still in that state.
	# (when it sets and restores that value depends on the timers: accept either then)
	local ageing
	ageing=$(lget "$H" br0 .linkinfo.info_data.ageing_time)
	if [ "$(lget "$H" br0 .linkinfo.info_data.topology_change)" = 1 ] &&
		[ "$ageing" = $((2 * $1)) ]; then
		check_br ageing_time $((2 * $1))
	else
		check_br ageing_time 12000
	fi
	check_port p1 cost 10
	check_port p1 priority 5
	check_port p1 hairpin 1
	check_port p1 learning 0
	check_port p1 flood 0
	check_port p1 isolated 0
	check_port p2 isolated 1
	check_port p2 cost "$3"
	check_port p3 isolated "$4"
	check_port p3 cost 7
	for p in p2 p3 p4; do
		check_port $p hairpin 0
		check_port $p learning 1
		check_port $p flood 1
	done
	check_port p4 isolated 0
	for p in p1 p2 p3 p4; do
		expect_eq "$p master" "$(lget "$H" $p .master)" br0
	done
}

vup "$T" "$F"
default_cost=$(lget "$H" p4 .linkinfo.info_slave_data.cost)
check_all 300 4096 "$default_cost" 1

# STP: the ports go listening -> learning -> forwarding in 2 x forward_delay.
wait_until 20 settled "$H" || fail "br0's ports did not reach forwarding"
# Reachability is polled: after an STP or isolation change the bridge may sit in its
# topology-change state for a moment, and a neighbour entry that failed before (n2 -> n3
# while both were isolated) is probed again only on the next packet.
ping_ok() {
	wait_until 10 nsx "$PFX-$1" ping -c 1 -W 1 "$2" || fail "$1 cannot reach $2"
	echo "ok - $1 reaches $2"
}
ping_ok n2 192.168.7.4
ping_ok n3 192.168.7.4
if nsx "$PFX-n2" ping -c 1 -W 2 192.168.7.3 >/dev/null; then
	fail "n2 reached n3 although p2 and p3 are both isolated"
fi
echo "ok - n2 (isolated p2) cannot reach n3 (isolated p3)"

# ---- edit: forward_delay 3 -> 5, priority 4096 -> 8192, p2 cost -> 20, p3 no longer isolated
F2=$KT_TMP/options2.yaml
sed -e 's/forward_delay: 3/forward_delay: 5/; s/priority: 4096/priority: 8192/' \
	-e 's/p2: {master: br0, isolated: on}/p2: {master: br0, isolated: on, cost: 20}/' \
	-e 's/p3: {master: br0, isolated: on, cost: 7}/p3: {master: br0, isolated: off, cost: 7}/' \
	"$F" >"$F2"
[ "$(diff "$F" "$F2" | grep -c '^>')" = 3 ] || fail "the edit of the file did not apply"
idx_before=$(ip -n "$H" -j link | jq -c '[.[] | [.ifname, .ifindex]]')
expect_eq "plan of the edit" "$(plan_steps "$T" "$F2")" "~ set br0 in $H: priority 8192, forward_delay 5
~ set p2 in $H: cost 20
~ set p3 in $H: isolated false"
vup "$T" "$F2"
check_all 500 8192 20 0
expect_eq "no link re-created" "$(ip -n "$H" -j link | jq -c '[.[] | [.ifname, .ifindex]]')" \
	"$idx_before"
expect_eq "re-run plan" "$(plan_steps "$T" "$F2")" ""
wait_until 20 settled "$H" || fail "br0's ports did not return to forwarding"
ping_ok n2 192.168.7.3
