#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# uplink.sh - a bridge takes over a NIC vnet did not make (uplink:), and gives it back exactly:
# at down, when the probe fails, at the deadline of an unconfirmed --try, after a crash.
#
# +-------------------------------------------------------+--------------------------------+
# |  machine M (NAME-m, made by the test; vnet runs in    |  router R (NAME-r, by hand)    |
# |  it as in a machine's own namespace)                  |                                |
# |                                                       |                                |
# |   br-wan  (vnet's: after up it carries all that       |                                |
# |     ↑  ↑   eth0 carried, and eth0's MAC)              |                                |
# |     |  +--> tap0                                      |                                |
# |     ↓                                                 |                                |
# |   eth0  192.168.12.2/24, 192.168.12.3/24 (eth0:1),    |   lan0  192.168.12.1/24        |
# |         2001:db8:12::2/64, mtu 1400  <------------------------>  2001:db8:12::1/64     |
# |   routes: default via .1; 10.99.0.0/16 via .1 metric  |         mtu 1400               |
# |   50; default via .1 table 100; 2001:db8:99::/48 via  |                                |
# |   2001:db8:12::1                                      |   lo  10.99.0.1 (a probe       |
# |                                                       |       target behind the route) |
# +-------------------------------------------------------+--------------------------------+
#
# Proves, with vnet up NAME.yaml (br-wan: {uplink: eth0}, tap0 on br-wan) run inside M:
# 1. the take-over loses at most a few packets of a 10 ms ping from R (the count is printed);
#    eth0 is a port of br-wan; br-wan has eth0's MAC and MTU, both IPv4 addresses (the
#    secondary's label eth0:1 become br-wan:1) and the global IPv6 one, none left on eth0
#    (its link-local stays); every route, of every table and family, metric kept, goes
#    through br-wan; R reaches every address, M its gateway; diff is clean, a second up
#    plans nothing;
# 2. down gives eth0 back: M's full dumps (links, addresses, routes of all tables, ruleset,
#    forwarding) as before;
# 3. a gateway that does not answer (its address gone; its ICMP dropped in R) or a probe
#    target that does not: up exits 6 naming it and saying eth0 was given back; M as
#    before, nothing in vnet list; a probe list that names the gateway too is answered;
# 4. --try: confirmed in time, the change stays past the deadline; unconfirmed, it is undone
#    at the deadline (M as before) and a late confirm exits 3, "too late"; the same when the
#    vnet command is killed -9 at once, while it waits, or (its process group) once it said
#    its word; no vnet process is left;
# 5. a NIC NetworkManager or systemd-networkd manages (a fake VNET_MANAGER_RUN) is refused,
#    exit 5, naming the manager and force: true, M as before; force: true (with a probe
#    target reached through a moved route), or a NIC they leave unmanaged, is taken;
# 6. a NIC M lacks, or a port of another bridge (its master named), is refused, M as before;
# 7. vnet killed at each crash point of up: down gives eth0 back (M as before), and up
#    completes the take-over instead; killed at each crash point of down: the next down
#    finishes, M as before;
# 8. the store lost: up refuses, recover takes the uplink back from its bridge, and down
#    gives eth0 back, M as before; the store's record of eth0 unreadable: down says so and
#    gives eth0 back all the same, M as before;
# 9. what a review found: a gateway reached only through a host route that moves too; a
#    take-over the kernel refuses halfway (the NIC a bridge) gives it back at once; a
#    record of another life of eth0 (bridge deleted by hand, eth0 set up again) is not
#    given back over what eth0 has now; nftables rules that name eth0 are warned of.
#    (It runs last: it leaves M changed.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init ul
need_test_hooks
for c in nft pgrep setsid sqlite3; do
	command -v "$c" >/dev/null || skip "needs $c"
done

T=$PFX M=$PFX-m R=$PFX-r
v() { in_outer "$M" "$VNET" "$@"; }
# vm ARGS...: vnet in M, with the managers' fake run directory of case 5
vm() { VNET_MANAGER_RUN=$MR v "$@"; }
MR=$KT_TMP/run

# ---- the world, by hand: M's eth0 on the LAN 192.168.12.0/24, its router R at .1 ----
own_ns "$M"
own_ns "$R"
ip -n "$M" link add eth0 type veth peer name lan0 netns "$R"
ip -n "$R" link set lan0 mtu 1400
ip -n "$R" addr add 192.168.12.1/24 dev lan0
ip -n "$R" addr add 2001:db8:12::1/64 dev lan0 nodad
ip -n "$R" link set lan0 up
ip -n "$M" link set eth0 mtu 1400
ip -n "$M" addr add 192.168.12.2/24 dev eth0
ip -n "$M" addr add 192.168.12.3/24 dev eth0 label eth0:1
ip -n "$M" addr add 2001:db8:12::2/64 dev eth0 nodad
ip -n "$M" link set eth0 up
ip -n "$M" route add default via 192.168.12.1
ip -n "$M" route add 10.99.0.0/16 via 192.168.12.1 metric 50
ip -n "$M" route add default via 192.168.12.1 table 100
ip -n "$M" -6 route add 2001:db8:99::/48 via 2001:db8:12::1
# beyond the gateway, a probe target: reached through the route 10.99.0.0/16 that moves too
ip -n "$R" addr add 10.99.0.1/32 dev lo
track "$T" "$M"

F=$KT_TMP/uplink.yaml
cat >"$F" <<EOF
name: $T
bridges:
  br-wan: {uplink: eth0}
taps:
  tap0: {master: br-wan}
EOF

FS=$KT_TMP/uplink-stp.yaml # the same with STP on: a take-over that takes seconds
sed 's/{uplink: eth0}/{uplink: eth0, stp: on}/' "$F" >"$FS"

# m_dump: M whole, once no address is tentative: its links (-d), addresses, routes of every
# table (`ip route show table all` lists both families), ruleset and forwarding
m_dump() {
	wait_until 20 settled "$M" || fail "M did not settle (an address still tentative)"
	dump_ns "$M"
}
# the veth's carrier and eth0's link-local (made once the carrier is up) before the first dump
has_ll() {
	[ -n "$(ip -n "$1" -j addr show dev "$2" | jq '.[0].addr_info[] | select(.scope == "link")')" ]
}
wait_until 20 has_ll "$M" eth0 || fail "eth0 got no IPv6 link-local address"
wait_until 20 has_ll "$R" lan0 || fail "lan0 got no IPv6 link-local address"
BEFORE=$(m_dump)
MAC=$(lget "$M" eth0 .address)
LL=$(ip -n "$M" -j addr show dev eth0 |
	jq -r '.[0].addr_info[] | select(.scope == "link") | .local')

# same_as_before WHAT: M's dump is the one taken before anything, whole
same_as_before() {
	local after
	after=$(m_dump)
	if [ "$after" != "$BEFORE" ]; then
		diff <(echo "$BEFORE") <(echo "$after") | head -60 || true
		fail "$1: M differs from before"
	fi
	echo "ok - $1: M's links, addresses, routes, ruleset as before"
}
# nothing_up WHAT: vnet list is empty, and no br-wan in M
nothing_up() {
	expect_eq "$1: topologies in vnet list" "$(v list --json | jq length)" 0
	ip -n "$M" link show br-wan >/dev/null 2>&1 && fail "$1: br-wan is still in M"
	echo "ok - $1: no br-wan in M"
}
# reaches WHAT NS ADDR: NS pings ADDR (a few tries: the first may wait for ARP)
reaches() {
	wait_until 10 nsx "$2" ping -n -c 1 -W 1 "$3" || fail "$1: $2 does not reach $3"
	echo "ok - $1: $2 reaches $3"
}
# forget_pid PID: PID was waited for, or is gone: the cleanup must not kill what reuses it
forget_pid() {
	local p keep=()
	for p in "${KT_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	KT_PIDS=("${keep[@]}")
}
# no_vnet_left WHAT: no process with this test's names on its command line (vnet up --try
# FILE, its holder, vnet confirm NAME)
no_vnet_left() {
	local left
	left=$(pgrep -af -- "$PFX" || true)
	[ -z "$left" ] || fail "$1: processes left: $left"
	echo "ok - $1: no vnet process of $T left"
}
# gone PID: no such process, or a zombie (whoever inherited it may not reap it)
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# routes DEV: M's routes through DEV that a table holds (not the kernel's for an address),
# of every table and both families, ";" between them: "DST via GW table TABLE metric N"
routes() {
	ip -n "$M" -j route show table all | jq -r --arg d "$1" '.[] | select(.dev == $d)
		| select((.protocol // "boot") != "kernel")
		| "\(.dst) via \(.gateway) table \(.table // "main") metric \(.metric // 0)"' |
		LC_ALL=C sort | paste -sd ';' -
}
ROUTES=$(routes eth0)
expect_eq "routes through eth0 before" "$ROUTES" "$(printf '%s;' \
	"10.99.0.0/16 via 192.168.12.1 table main metric 50" \
	"2001:db8:99::/48 via 2001:db8:12::1 table main metric 1024" \
	"default via 192.168.12.1 table 100 metric 0" \
	"default via 192.168.12.1 table main metric 0" | sed 's/;$//')"

# taken WHAT: eth0 is br-wan's port and br-wan carries all eth0 did
taken() {
	local what=$1
	expect_eq "$what: eth0's master" "$(lget "$M" eth0 .master)" br-wan
	expect_eq "$what: br-wan's MAC (eth0's)" "$(lget "$M" br-wan .address)" "$MAC"
	expect_eq "$what: br-wan's MTU" "$(lget "$M" br-wan .mtu)" 1400
	expect_eq "$what: br-wan's addresses" "$(ip -n "$M" -j addr show dev br-wan | jq -r \
		'[.[0].addr_info[] | select(.scope != "link") | "\(.local)/\(.prefixlen) \(.label // "-")"]
		| join(", ")')" "192.168.12.2/24 br-wan, 192.168.12.3/24 br-wan:1, 2001:db8:12::2/64 -"
	expect_eq "$what: eth0's global addresses" "$(addrs "$M" eth0 | tr '\n' ' ')" ""
	expect_eq "$what: eth0's link-local address (stays)" "$(ip -n "$M" -j addr show dev eth0 |
		jq -r '.[0].addr_info[] | select(.scope == "link") | .local')" "$LL"
	expect_eq "$what: routes through br-wan (eth0's, all tables)" "$(routes br-wan)" "$ROUTES"
	expect_eq "$what: routes through eth0" "$(routes eth0)" ""
	# the kernel's own routes of the moved addresses: on br-wan, not on eth0
	expect_eq "$what: the LAN's routes" "$(ip -n "$M" -j route show table all | jq -r \
		'[.[] | select(.dst == "192.168.12.0/24" or .dst == "2001:db8:12::/64")
		| "\(.dst) \(.dev)"] | sort | join(", ")')" \
		"192.168.12.0/24 br-wan, 2001:db8:12::/64 br-wan"
	reaches "$what" "$R" 192.168.12.2
	reaches "$what" "$R" 192.168.12.3
	reaches "$what" "$R" 2001:db8:12::2
	reaches "$what" "$M" 192.168.12.1
	reaches "$what" "$M" 2001:db8:12::1
}

# ======== 1. the take-over, under a 10 ms ping from R ========
reaches "before" "$R" 192.168.12.2
plog=$KT_TMP/ping.log
ip netns exec "$R" ping -n -i 0.01 -c 300 -W 1 192.168.12.2 >"$plog" 2>&1 &
pp=$!
bg_pid $pp
wait_until 10 grep -q "bytes from" "$plog" || fail "R's ping of 192.168.12.2 gets no answer"
expect_rc 0 v up "$F"
grep -q "take eth0 over into br-wan: 3 addresses, 4 routes, mtu 1400" <<<"$OUT" ||
	fail "up does not say what it takes over"
wait "$pp" || true # 1 when a packet was lost: counted below
forget_pid $pp
sent=$(sed -n 's/^\([0-9]*\) packets transmitted, .*/\1/p' "$plog")
got=$(sed -n 's/^[0-9]* packets transmitted, \([0-9]*\) received.*/\1/p' "$plog")
if [ -z "$sent" ] || [ -z "$got" ]; then
	cat "$plog"
	fail "no summary from ping"
fi
lost=$((sent - got))
note "10 ms ping R -> 192.168.12.2 across the take-over: $lost of $sent lost"
[ "$lost" -le 20 ] || fail "the take-over lost $lost of $sent pings (at most 20 allowed)"
echo "ok - the take-over lost $lost of $sent pings (<= 20)"
taken "up"
expect_rc 0 v diff "$F"
expect_rc 0 v up "$F"
grep -q "up to date" <<<"$OUT" || fail "a second up is not up to date: $OUT"

# ======== 2. down gives eth0 back ========
expect_rc 0 v down "$T"
grep -q "give eth0 back from br-wan" <<<"$OUT" || fail "down does not say it gives eth0 back"
same_as_before "down"
nothing_up "down"

# ======== 3. the probe fails: eth0 given back at once ========
# probe_fails WHAT FILE PATTERN: up exits 6, names what did not answer, gives eth0 back
probe_fails() {
	expect_rc 6 v up "$2"
	grep -q "$3" <<<"$OUT" || fail "$1: the failure does not name '$3'"
	grep -q "eth0 was given back as it was" <<<"$OUT" || fail "$1: no 'eth0 was given back'"
	same_as_before "$1"
	nothing_up "$1"
}
# the gateway's address gone from R (nothing of M's own link changes)
ip -n "$R" addr del 192.168.12.1/24 dev lan0
probe_fails "gateway gone" "$F" "gateway 192.168.12.1 (ARP not answered)"
ip -n "$R" addr add 192.168.12.1/24 dev lan0
# the gateway answers ARP, but R drops every ICMP echo request
nsx "$R" nft -f - <<'EOF'
table inet ulprobe {
	chain in { type filter hook input priority 0; policy accept; icmp type echo-request drop; }
}
EOF
probe_fails "gateway's ICMP dropped" "$F" "gateway 192.168.12.1 (ARP answered, ICMP echo not)"
nsx "$R" nft delete table inet ulprobe
# the gateway answers, a probe target does not
P=$KT_TMP/probe.yaml
cat >"$P" <<EOF
name: $T
bridges:
  br-wan: {uplink: {nic: eth0, probe: [192.168.12.77], timeout: 1}}
taps:
  tap0: {master: br-wan}
EOF
probe_fails "probe target silent" "$P" "no answer within 1.0 s from 192.168.12.77"
grep -q "gateway" <<<"$OUT" && fail "the gateway answered, yet the failure names it: $OUT"
reaches "after the failed probes" "$M" 192.168.12.1
# the gateway named as a probe target too (it answers): taken
G=$KT_TMP/gateway-probe.yaml
cat >"$G" <<EOF
name: $T
bridges:
  br-wan: {uplink: {nic: eth0, probe: [192.168.12.1, 10.99.0.1], timeout: 2}}
taps:
  tap0: {master: br-wan}
EOF
expect_rc 0 v up "$G"
taken "the gateway as a probe target"
expect_rc 0 v down "$T"
same_as_before "the gateway as a probe target"
nothing_up "the gateway as a probe target"

# ======== 4. --try ========
# try_up SECS: vnet up --try SECS; HOLDER: the process that holds the deadline, as it says
try_up() {
	expect_rc 0 v up --try "$1" "$F"
	HOLDER=$(sed -n 's/.*(pid \([0-9]*\) holds the deadline).*/\1/p' <<<"$OUT")
	[ -n "$HOLDER" ] || fail "up --try does not name the process that holds the deadline"
	bg_pid "$HOLDER"
}
# holder_ends WHAT PID: the holder ends (at the deadline, or after a confirm)
holder_ends() {
	wait_until 15 gone "$2" || fail "$1: the process holding the try ($2) did not end"
	forget_pid "$2"
}
# master_is NAME: eth0's master is NAME ("none": it has none)
master_is() { [ "$(lget "$M" eth0 '.master // "none"')" = "$1" ]; }
# undone_at_deadline WHAT: eth0 given back (polled), and M as before
undone_at_deadline() {
	wait_until 15 master_is none || fail "$1: eth0 is still taken 15 s after up --try"
	same_as_before "$1"
	nothing_up "$1"
}

# confirmed in time (5 s, so that a slow machine's confirm still comes first): stays
try_up 5
t0=$(date +%s)
expect_eq "try: eth0's master" "$(lget "$M" eth0 .master)" br-wan
expect_rc 0 v confirm "$T"
grep -q "confirmed" <<<"$OUT" || fail "confirm does not say confirmed"
holder_ends "after the confirm" "$HOLDER"
wait_s=$((t0 + 7 - $(date +%s)))
[ "$wait_s" -le 0 ] || sleep "$wait_s"
taken "confirmed, past the deadline"
expect_rc 0 v diff "$F"
expect_rc 0 v down "$T"
same_as_before "down after the confirmed try"

# not confirmed: undone at the deadline; a late confirm is too late
try_up 3
expect_eq "try: eth0's master" "$(lget "$M" eth0 .master)" br-wan
h=$HOLDER
undone_at_deadline "try not confirmed"
holder_ends "try not confirmed" "$h"
expect_rc 3 v confirm "$T"
grep -q "too late" <<<"$OUT" || fail "a late confirm does not say too late"

# the vnet command killed -9: the holder undoes the change at the deadline all the same.
# kill_run HOW: vnet up --try 3 in the background, killed -9 HOW: "at-once" (right after it
# started), "waiting" (once it forked the holder, while it waits for its word), "after-word"
# (its whole process group, once the holder said its word)
kill_run() {
	local how=$1 log=$KT_TMP/try-$1.log cmd holder="" rc=0 file=$F
	# while it waits: the holder's probe waits out STP's listening and learning (4 s)
	[ "$how" = waiting ] && file=$FS
	: >"$log" # (a kill at once can come before the job's own redirection)
	setsid nsenter --net="/run/netns/$M" "$VNET" up --try 3 "$file" >"$log" 2>&1 &
	cmd=$!
	case $how in
	at-once) kill -9 "$cmd" 2>/dev/null || true ;;
	waiting)
		# its child, while it waits; it may have had its word and ended already
		for _ in $(seq 500); do
			holder=$(pgrep -P "$cmd" | head -n 1 || true)
			if [ -n "$holder" ] || ! kill -0 "$cmd" 2>/dev/null; then break; fi
			sleep 0.01
		done
		kill -9 "$cmd" 2>/dev/null || true
		;;
	after-word)
		wait_until 20 grep -q "holds the deadline" "$log" || fail "$how: no word from vnet up --try"
		kill -9 -- "-$cmd" 2>/dev/null || true # the group may be gone already
		;;
	esac
	wait "$cmd" 2>/dev/null || rc=$? # (2>: not bash's "Killed" line)
	note "$how: the vnet command ended with status $rc$([ "$rc" = 137 ] && echo ' (killed)')"
	# else the pid it named in its word, or any left
	[ -n "$holder" ] || holder=$(sed -n 's/.*(pid \([0-9]*\) holds the deadline).*/\1/p' "$log")
	[ -n "$holder" ] || holder=$(pgrep -f -- "up --try 3 $file" | head -n 1 || true)
	if [ -z "$holder" ]; then
		[ "$how" = at-once ] || fail "$how: no process holds the try"
		note "$how: killed before the holder was forked: nothing was to change"
		same_as_before "try killed $how"
		nothing_up "try killed $how"
		return
	fi
	bg_pid "$holder"
	if [ "$how" != at-once ]; then
		wait_until 10 master_is br-wan ||
			fail "$how: the holder did not take eth0 over"
		echo "ok - try killed $how: eth0 taken by the holder ($holder)"
	fi
	undone_at_deadline "try killed $how"
	holder_ends "try killed $how" "$holder"
	expect_rc 3 v confirm "$T"
	grep -q "too late" <<<"$OUT" || fail "$how: a late confirm does not say too late"
}
kill_run at-once
kill_run waiting
kill_run after-word
no_vnet_left "after the tries"

# ======== 5. a NIC another manager manages ========
IX=$(lget "$M" eth0 .ifindex)
mkdir -p "$MR/NetworkManager/devices" "$MR/systemd/netif/links"
NMF=$MR/NetworkManager/devices/$IX ND=$MR/systemd/netif/links/$IX
# managed: refused, naming the manager and force: true; nothing changed
printf '[device]\nmanaged=true\n' >"$NMF"
expect_rc 5 vm up "$F"
grep -q "uplink eth0 is managed by NetworkManager.*force: true" <<<"$OUT" ||
	fail "the refusal does not name NetworkManager and force: true"
same_as_before "NetworkManager's NIC refused"
nothing_up "NetworkManager's NIC refused"
rm "$NMF"
printf 'ADMIN_STATE=configured\nOPER_STATE=routable\n' >"$ND"
expect_rc 5 vm up "$F"
grep -q "uplink eth0 is managed by systemd-networkd.*force: true" <<<"$OUT" ||
	fail "the refusal does not name systemd-networkd and force: true"
same_as_before "systemd-networkd's NIC refused"
nothing_up "systemd-networkd's NIC refused"
# force: true takes it all the same (both managers say so)
printf '[device]\nmanaged=true\n' >"$NMF"
FF=$KT_TMP/force.yaml
cat >"$FF" <<EOF
name: $T
bridges:
  br-wan: {uplink: {nic: eth0, probe: [10.99.0.1], timeout: 2, force: true}}
taps:
  tap0: {master: br-wan}
EOF
expect_rc 0 vm up "$FF"
taken "force: true"
expect_rc 0 vm diff "$FF"
expect_rc 0 v down "$T"
same_as_before "down after force"
# left unmanaged by both: taken
printf '[device]\nmanaged=false\n' >"$NMF"
printf 'ADMIN_STATE=unmanaged\n' >"$ND"
expect_rc 0 vm up "$F"
expect_eq "unmanaged: eth0's master" "$(lget "$M" eth0 .master)" br-wan
expect_rc 0 v down "$T"
same_as_before "down after unmanaged"

# ======== 6. bad uses ========
B=$KT_TMP/bad.yaml
sed 's/uplink: eth0/uplink: eth9/' "$F" >"$B"
rc=0
OUT=$(v up "$B" 2>&1) || rc=$?
printf '%s\n' "$OUT" | sed 's/^/    | /'
[ "$rc" != 0 ] || fail "up took over eth9, which M does not have"
grep -q "uplink eth9: no such interface" <<<"$OUT" || fail "the error does not name eth9"
echo "ok - a NIC M does not have: exit $rc, named"
same_as_before "no such NIC"
nothing_up "no such NIC"
# a port of another bridge, made by hand
ip -n "$M" link add eth1 type veth peer name eth1p
ip -n "$M" link add br-x type bridge
ip -n "$M" link set eth1 master br-x
sed 's/uplink: eth0/uplink: eth1/' "$F" >"$B"
before_x=$(m_dump)
expect_rc 5 v up "$B"
grep -q "uplink eth1 is a port of br-x already" <<<"$OUT" || fail "the refusal does not name br-x"
[ "$(m_dump)" = "$before_x" ] || fail "the refused up changed M"
echo "ok - a port of another bridge: M as before"
nothing_up "a port of br-x"
ip -n "$M" link del br-x
ip -n "$M" link del eth1
same_as_before "after the bad uses"

# ======== 7. killed at every crash point of up, and of down ========
# down_after_crash WHAT: vnet down must give eth0 back, M as before (this found a down that
# failed for good once the bridge was gone)
down_after_crash() {
	expect_rc 0 v down "$T"
	same_as_before "$1"
	nothing_up "$1"
}
n=1
while :; do
	rc=0
	VNET_CRASH_AT=$n v up "$F" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] && break # no crash point $n: the whole up ran
	[ "$rc" = 99 ] || fail "up, crash point $n: expected the injected crash (99), got $rc"
	down_after_crash "up, crash point $n, then down"
	# the same crash, then up: it completes the take-over
	rc=0
	VNET_CRASH_AT=$n v up "$F" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 99 ] || fail "up, crash point $n (again): expected the injected crash (99), got $rc"
	expect_rc 0 v up "$F"
	taken "up, crash point $n, then up"
	expect_rc 0 v diff "$F"
	expect_rc 0 v down "$T"
	same_as_before "up, crash point $n, then up and down"
	n=$((n + 1))
	[ $n -le 60 ] || fail "more than 60 crash points in one up?"
done
[ "$n" -gt 2 ] || fail "only $((n - 1)) crash points in up: the switch does not work"
echo "ok - killed at each of the $((n - 1)) crash points of up: down gave eth0 back, up completed"
taken "the uninterrupted up"
n=1
while :; do
	rc=0
	VNET_CRASH_AT=$n v down "$T" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] && break
	[ "$rc" = 99 ] || fail "down, crash point $n: expected the injected crash (99), got $rc"
	if [ "$(v list --json | jq length)" = 0 ]; then
		# killed after its last commit: forgotten, and the kernel must be as before too
		same_as_before "down, crash point $n (after its last commit)"
	else
		down_after_crash "down, crash point $n, then down"
	fi
	expect_rc 0 v up "$F"
	n=$((n + 1))
	[ $n -le 60 ] || fail "more than 60 crash points in one down?"
done
[ "$n" -gt 2 ] || fail "only $((n - 1)) crash points in down: the switch does not work"
echo "ok - killed at each of the $((n - 1)) crash points of down: the next down finished the job"
same_as_before "the uninterrupted down"
nothing_up "the uninterrupted down"

# ======== 8. the store lost, or its record of eth0 unreadable ========
# lost: up refuses (br-wan carries the tag, no record), recover takes the uplink back from
# the bridge (its foreign port wearing its MAC), and down gives eth0 back as it was
expect_rc 0 v up "$F"
rm -rf "$VNET_STATE_DIR"
mkdir -p "$VNET_STATE_DIR"
expect_rc 5 v up "$F"
expect_rc 0 v recover "$T"
expect_eq "recovered: the uplink" \
	"$(v show "$T" --json | jq -c '[.uplinks[] | [.bridge, .nic, .taken, .addresses, .routes]]')" \
	'[["br-wan","eth0",true,3,4]]'
expect_rc 0 v down "$T"
same_as_before "store lost, recovered, down"
nothing_up "store lost, recovered, down"
# unreadable: down reads eth0's state back from the bridge, and says so
expect_rc 0 v up "$F"
sqlite3 "$VNET_STATE_DIR/state.db" "UPDATE uplink SET saved = x'766e6574'"
expect_rc 0 v down "$T"
grep -q "record of eth0 as it was is not readable" <<<"$OUT" ||
	fail "down does not say that the record of eth0 was unreadable"
same_as_before "record unreadable, down"
nothing_up "record unreadable, down"
# ======== 9. what a review found: each of these once left eth0 bare ========
# a gateway reached only through a host route that moves too (a /32 address, as in clouds):
# device routes go first, so the default route's gateway is reachable when it moves
G2=$KT_TMP/uplink-host-route.yaml
sed 's/{uplink: eth0}/{uplink: eth1}/' "$F" >"$G2"
ip -n "$M" link add eth1 type veth peer name lan1 netns "$R"
ip -n "$R" addr add 10.128.0.1/20 dev lan1
ip -n "$R" link set lan1 up
ip -n "$M" addr add 10.128.0.5/32 dev eth1
ip -n "$M" link set eth1 up
ip -n "$M" route add 10.128.0.1 dev eth1 scope link
ip -n "$M" route add default via 10.128.0.1 dev eth1 table 200
BEFORE2=$(m_dump)
expect_rc 0 v up "$G2"
expect_eq "host route: eth1's master" "$(lget "$M" eth1 .master)" br-wan
reaches "host route: the gateway behind it" "$M" 10.128.0.1
expect_rc 0 v down "$T"
[ "$(m_dump)" = "$BEFORE2" ] || fail "host route: M differs after down"
echo "ok - host route: down gave eth1 back, M as before"
ip -n "$M" link del eth1
# a take-over the kernel refuses halfway (a bridge cannot be a port): eth0 is given back
cat >"$G2" <<EOF
name: $T
bridges:
  br-wan: {uplink: lanbr}
EOF
ip -n "$M" link add lanbr type bridge
ip -n "$M" addr add 192.168.77.2/24 dev lanbr
ip -n "$M" link set lanbr up
BEFORE2=$(m_dump)
expect_rc 3 v up "$G2"
grep -q "lanbr was given back as it was" <<<"$OUT" || fail "a refused take-over does not say lanbr was given back"
[ "$(m_dump)" = "$BEFORE2" ] || fail "refused take-over: M differs"
echo "ok - refused take-over: lanbr given back, M as before"
ip -n "$M" link del lanbr
same_as_before "after the review's cases"
nothing_up "after the review's cases"
# a record of another life: the bridge deleted behind vnet's back, eth0 set up again with
# another address: up takes over what eth0 has now, and down gives that back, not the record
expect_rc 0 v up "$F"
ip -n "$M" link del br-wan
ip -n "$M" addr add 192.168.12.7/24 dev eth0
ip -n "$M" route add default via 192.168.12.1
expect_rc 0 v up "$F"
expect_rc 0 v down "$T"
expect_eq "another life: eth0's IPv4 addresses after down" \
	"$(ip -n "$M" -j -4 addr show dev eth0 | jq -r '[.[0].addr_info[].local] | join(" ")')" \
	192.168.12.7
expect_eq "another life: the default route after down" \
	"$(ip -n "$M" -j route show default | jq -r '.[0].dev')" eth0
nothing_up "another life"
# rules that name eth0 do not follow it onto the bridge: up says so before it takes it
nsx "$M" nft add table inet vkfilter
nsx "$M" nft add chain inet vkfilter input '{ type filter hook input priority 0; policy accept; }'
nsx "$M" nft add rule inet vkfilter input iifname "eth0" tcp dport 22 accept
expect_rc 0 v up --dry-run "$F"
grep -q 'nftables rules name eth0 (table inet vkfilter, chain input)' <<<"$OUT" ||
	fail "up does not warn of the rules that name eth0"
nsx "$M" nft delete table inet vkfilter
no_vnet_left "at the end"
