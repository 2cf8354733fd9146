#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# uplink.sh [REPS] - taking a NIC over into a bridge (the seed's "right way to add a
# bridge"), and giving it back when the probe after it fails:
#
#  The scenario, in two namespaces of this run: M stands for the machine, R for its router.
#  M's eth0 is a veth to R's lan0 (192.168.12.1/24); eth0 has 192.168.12.2/24, the
#  secondary 192.168.12.3/24 and 2001:db8:12::2/64, and the routes default via
#  192.168.12.1, 10.99.0.0/16 via 192.168.12.1 metric 50 and default via 192.168.12.1 in
#  table 100. The take-over makes br-wan in M (eth0's MAC and MTU, STP off, up), enslaves
#  eth0 and moves every address and route of eth0 to br-wan; the rollback gives all of it
#  back to eth0 (and eth0 leaves the bridge) and deletes br-wan.
#
#  1. The outage during the take-over, as R sees it: `ping -D -i 0.001` from R to
#     192.168.12.2 runs in the background; the figure is the longest gap between two
#     consecutive replies (their -D timestamps) among those from the last reply before the
#     take-over began to the first one more than 100 ms after it ended (so it includes the
#     1 ms ping interval itself). Goal: <= 10 ms. vnet: `vnet up --json` of a topology with
#     `bridges: {br-wan: {uplink: eth0}}`, run in M. The anchor: a hand-tuned `ip -batch`
#     (one ip process, `ip -n M -batch`) that adds the addresses and replaces the routes on
#     br-wan before it enslaves eth0 and takes its addresses away, so that M always has a
#     way to answer; the order of the textbook (enslave, move the addresses, add the
#     routes) measured the same here, within the ping's resolution.
#  2. Giving the NIC back after a failed probe: with R's address removed (lan0 stays up, so
#     eth0 keeps its carrier), `vnet up --json` of the long form (probe 192.168.12.1,
#     timeout 1 s) must exit 6 after giving eth0 back; the figure is its own
#     "uplink_restore_ms" (from the failed probe to the restored NIC). Goal: <= 50 ms. The
#     anchor: the wall time of the hand-tuned `ip -n M -batch` rollback (process start-up
#     included, as in the other benchmarks); beside it, the same rollback in two processes:
#     eth0 given back (everything but the deletion of br-wan), then `ip link del br-wan`.
#  Also, for the record: the take-over's wall time (vnet's includes its probe; the probe's
#  own time from --json), `vnet down` (which gives eth0 back) and the failed `vnet up` as a
#  whole.
#
# REPS rounds (default 5), medians; vnet and the anchor take turns in each round, each timed
# command started on a quiet machine (settle). Every round checks that the take-over worked
# (eth0's master is br-wan, br-wan has eth0's addresses and routes and eth0 none, R reaches
# M's three addresses) and that the rollback restored eth0 exactly: `ip -j link show eth0`,
# `ip -j addr show eth0` and eth0's routes of `ip -j route show table all` (sorted) equal
# what they were before the first take-over, field for field, nothing ignored. (The IPv6
# address is made nodad, so that a moved address passes no DAD and the comparison can be
# exact; the setup waits for the DAD of eth0's link-local address, which stays on eth0.)
# When vnet does not know `uplink` yet (unknown key), its figures are "-" and the rest runs.
#
# Everything lives in the namespaces vbu<pid>-m and vbu<pid>-r of this run, removed on exit,
# even on failure, with the background ping; vnet runs inside M (`ip netns exec`, state in
# the work dir), never in the root namespace; nothing touches the root namespace's links,
# addresses, routes or firewall.
#
# Output on stdout, one tab-separated line per figure:
#   operation  vnet-us  anchor-us  goal-us
# (a field is "-" when it does not apply); progress and problems on stderr.
# Needs root, iproute2, ping (iputils), jq, stdbuf (coreutils). Env: VNET_BIN (default
# build/vnet), UPLINK_ONLY=anchor|vnet (run one part only).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
# (shellcheck -x follows it; plain shellcheck need not)
# shellcheck source-path=SCRIPTDIR disable=SC1091
. "$here/lib.sh"
REPS=${1:-5}
ONLY=${UPLINK_ONLY:-}
VNET=${VNET_BIN:-$here/../build/vnet}
case $REPS in '' | *[!0-9]*) echo "uplink.sh: REPS is a number" >&2; exit 2 ;; esac
[ "$REPS" -ge 1 ] || { echo "uplink.sh: REPS must be at least 1" >&2; exit 2; }
case $ONLY in '' | anchor | vnet) ;; *) echo "uplink.sh: UPLINK_ONLY is anchor or vnet" >&2; exit 2 ;; esac
run_anchor() { [ "$ONLY" != vnet ]; }
vnet_on=1 # 0 once we know vnet has no uplinks
[ "$ONLY" = anchor ] && vnet_on=0
run_vnet() { [ "$vnet_on" = 1 ]; }

say() { printf 'uplink.sh: %s\n' "$*" >&2; }
die() {
	say "FAILED: $*"
	[ -s "${log:-/dev/null}" ] && tail -n 20 "$log" | sed 's/^/    /' >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root"
for c in ip ping jq stdbuf; do command -v "$c" >/dev/null || die "needs $c"; done
if run_vnet; then
	[ -x "$VNET" ] || die "no vnet binary at $VNET (./dev build, or set VNET_BIN)"
fi

# ---- namespaces of this run, and their removal on exit ----

P=vbu$$ # namespaces P-m (the machine) and P-r (the router); topologies P and Pf
M=$P-m R=$P-r
NAME=$P FNAME=${P}f
pingpid=
work=$(mktemp -d /tmp/vnet-bench-uplink.XXXXXX) || exit 1
log=$work/log
: >"$log"

cleanup() {
	local rc=$? ns
	trap - EXIT INT TERM HUP
	stop_ping
	# deleting M takes br-wan and eth0 with it (and R's lan0, eth0's peer); vnet's record
	# of them is in the work dir
	for ns in /run/netns/"$P"-*; do
		[ -e "$ns" ] && ip netns del "${ns##*/}" 2>/dev/null
	done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- the background ping from R ----

# start_ping: a 1 ms ping from R to M's 192.168.12.2, its replies with their time (-D) in
# $work/ping, line by line; returns once replies have come for 200 ms.
start_ping() {
	: >"$work/ping"
	ip netns exec "$R" stdbuf -oL ping -n -D -i 0.001 192.168.12.2 >"$work/ping" 2>>"$log" &
	pingpid=$!
	local i
	for ((i = 0; i < 500; i++)); do
		grep -q 'bytes from' "$work/ping" && break
		kill -0 "$pingpid" 2>/dev/null || die "the ping from R stopped: $(tail -n 3 "$work/ping")"
		sleep 0.02
	done
	grep -q 'bytes from' "$work/ping" || die "no reply from M to R's ping in 10 s"
	sleep 0.2
}
stop_ping() {
	[ -n "$pingpid" ] || return 0
	kill -INT "$pingpid" 2>/dev/null
	wait "$pingpid" 2>/dev/null
	pingpid=
}
# reply times in us, one a line ("[1700000000.123456] 64 bytes from ...")
ping_times() { awk '/bytes from/ { t = $1; gsub(/[][.]/, "", t); print t }' "$work/ping"; }

# outage T0 T1: wait for a reply more than 100 ms after T1 (us), stop the ping; G = the
# longest gap between consecutive replies from the last one before T0 to the first one
# after T1 + 100 ms.
G=0
outage() {
	local t0=$1 end=$(($2 + 100000)) last i
	for ((i = 0; i < 3000; i++)); do
		last=$(ping_times | tail -n 1)
		[ -n "$last" ] && [ "$last" -gt "$end" ] && break
		sleep 0.02
	done
	stop_ping
	if [ -z "$last" ] || [ "$last" -le "$end" ]; then
		die "no reply from M for 60 s after the take-over: it broke R -> M"
	fi
	G=$(ping_times | awk -v t0="$t0" -v end="$end" '
		{ t = $1 + 0 }
		p && t > t0 && p <= end && t - p > g { g = t - p }
		{ p = t }
		END { print g + 0 }')
	[ "$G" -gt 0 ] || die "no gap found in the ping's replies around the take-over"
}

# ---- the scenario ----

ip netns add "$M" || die "ip netns add $M"
ip netns add "$R" || die "ip netns add $R"
{
	ip -n "$M" link set lo up &&
		ip -n "$R" link set lo up &&
		ip -n "$M" link add eth0 type veth peer name lan0 netns "$R" &&
		ip -n "$M" addr add 192.168.12.2/24 dev eth0 &&
		ip -n "$M" addr add 192.168.12.3/24 dev eth0 &&
		ip -n "$M" addr add 2001:db8:12::2/64 dev eth0 nodad &&
		ip -n "$R" addr add 192.168.12.1/24 dev lan0 &&
		ip -n "$R" addr add 2001:db8:12::1/64 dev lan0 nodad &&
		ip -n "$M" link set eth0 up &&
		ip -n "$R" link set lan0 up &&
		ip -n "$M" route add default via 192.168.12.1 &&
		ip -n "$M" route add 10.99.0.0/16 via 192.168.12.1 metric 50 &&
		ip -n "$M" route add default via 192.168.12.1 table 100
} 2>>"$log" || die "building the scenario"
for ((i = 0; i < 500; i++)); do # the DAD of eth0's link-local address
	[ -z "$(ip -n "$M" -6 addr show dev eth0 tentative)" ] && break
	sleep 0.02
done
[ -z "$(ip -n "$M" -6 addr show dev eth0 tentative)" ] || die "eth0's link-local address is still tentative after 10 s"
mac=$(ip -n "$M" -j link show eth0 | jq -r '.[0].address')
mtu=$(ip -n "$M" -j link show eth0 | jq -r '.[0].mtu')

# snapshot FILE: eth0 as the rollback must leave it (routes sorted: the dump's order across
# tables is not the point)
snapshot() {
	{
		ip -n "$M" -j link show eth0
		ip -n "$M" -j addr show eth0
		ip -n "$M" -j route show table all | jq '[.[] | select(.dev == "eth0")] | sort_by(tostring)'
	} | jq -S -s . >"$1" 2>>"$log" || die "snapshot of eth0"
}
# addrs_of DEV / routes_of DEV: DEV's global addresses and non-kernel routes, reduced to
# what a take-over must keep (not the flags, the lifetimes or the routes' protocol; ip -j
# leaves an empty object for each address that scope filters out)
addrs_of() {
	ip -n "$M" -j addr show dev "$1" scope global |
		jq -c '[(.[0].addr_info // [])[] | select(.scope == "global") | {family, local, prefixlen, secondary: (.secondary // false)}] | sort_by(tostring)'
}
routes_of() {
	ip -n "$M" -j route show table all |
		jq -c --arg d "$1" '[.[] | select(.dev == $d and .protocol != "kernel") |
			{dst, gateway, table: (.table // "main"), metric: (.metric // 0), type: (.type // "unicast")}] | sort_by(tostring)'
}
snapshot "$work/eth0.before"
addrs0=$(addrs_of eth0) routes0=$(routes_of eth0)
[ "$(jq length <<<"$addrs0") $(jq length <<<"$routes0")" = "3 3" ] || die "the scenario: eth0 has not 3 addresses and 3 routes: $addrs0 $routes0"

# reach WHAT: R pings M's three addresses (and M reaches R).
reach() {
	local a
	for a in 192.168.12.2 192.168.12.3 2001:db8:12::2; do
		for _ in 1 2 3; do
			ip netns exec "$R" ping -n -q -c 1 -W 2 "$a" >/dev/null 2>&1 && continue 2
		done
		die "$1: R cannot ping M's $a"
	done
	ip netns exec "$M" ping -n -q -c 1 -W 2 192.168.12.1 >/dev/null 2>&1 ||
		ip netns exec "$M" ping -n -q -c 1 -W 2 192.168.12.1 >/dev/null 2>&1 || die "$1: M cannot ping R"
}

# check_taken WHAT: eth0 is br-wan's port, br-wan has what eth0 had, eth0 has nothing left.
check_taken() {
	local master dev
	master=$(ip -n "$M" -j link show eth0 | jq -r '.[0].master // "none"')
	[ "$master" = br-wan ] || die "$1: eth0's master is $master, not br-wan"
	[ "$(addrs_of br-wan)" = "$addrs0" ] || die "$1: br-wan has the addresses $(addrs_of br-wan), eth0 had $addrs0"
	[ "$(routes_of br-wan)" = "$routes0" ] || die "$1: br-wan has the routes $(routes_of br-wan), eth0 had $routes0"
	[ "$(addrs_of eth0)" = "[]" ] || die "$1: eth0 kept the addresses $(addrs_of eth0)"
	[ "$(routes_of eth0)" = "[]" ] || die "$1: eth0 kept the routes $(routes_of eth0)"
	dev=$(ip -n "$M" -j route get 10.99.1.1 | jq -r '.[0].dev')
	[ "$dev" = br-wan ] || die "$1: 10.99.1.1 goes out of $dev, not br-wan"
	reach "$1"
}

# check_back WHAT: eth0 is as it was before the first take-over, and br-wan is gone.
check_back() {
	snapshot "$work/eth0.now"
	if ! cmp -s "$work/eth0.before" "$work/eth0.now"; then
		diff -u "$work/eth0.before" "$work/eth0.now" | head -n 60 >&2
		die "$1: eth0 differs from what it was before the take-over (diff above: - before, + now)"
	fi
	ip -n "$M" link show br-wan >/dev/null 2>&1 && die "$1: br-wan is still there"
	reach "$1"
}
reach "the scenario"

# ---- the anchor: hand-tuned ip -batch files ----

# the take-over: the bridge, then everything on it, then eth0 enslaved and emptied (the
# secondary address first: without promote_secondaries, deleting the primary takes it too)
cat >"$work/takeover.batch" <<EOF
link add br-wan address $mac mtu $mtu type bridge stp_state 0
link set br-wan up
addr add 192.168.12.2/24 dev br-wan
addr add 192.168.12.3/24 dev br-wan
addr add 2001:db8:12::2/64 dev br-wan nodad
route replace default via 192.168.12.1 dev br-wan
route replace 10.99.0.0/16 via 192.168.12.1 dev br-wan metric 50
route replace default via 192.168.12.1 dev br-wan table 100
link set eth0 master br-wan
addr del 192.168.12.3/24 dev eth0
addr del 192.168.12.2/24 dev eth0
addr del 2001:db8:12::2/64 dev eth0
EOF
# giving back: the addresses (the primary first), the routes, eth0 out of the bridge; then
# the bridge deleted (rollback.batch: all of it; giveback.batch: without the deletion)
cat >"$work/giveback.batch" <<EOF
addr add 192.168.12.2/24 dev eth0
addr add 192.168.12.3/24 dev eth0
addr add 2001:db8:12::2/64 dev eth0 nodad
route replace default via 192.168.12.1 dev eth0
route replace 10.99.0.0/16 via 192.168.12.1 dev eth0 metric 50
route replace default via 192.168.12.1 dev eth0 table 100
link set eth0 nomaster
EOF
{
	cat "$work/giveback.batch"
	echo "link del br-wan"
} >"$work/rollback.batch"

declare -a a_out a_take a_rb a_gb a_del
anchor_round() {
	local t0 t1
	settle
	start_ping
	t0=$(now_us)
	ip -n "$M" -batch "$work/takeover.batch" >>"$log" 2>&1 || die "anchor: ip -batch take-over"
	t1=$(now_us)
	outage "$t0" "$t1"
	a_out+=("$G") a_take+=($((t1 - t0)))
	check_taken "anchor take-over"
	settle
	timed ip -n "$M" -batch "$work/rollback.batch" || die "anchor: ip -batch rollback"
	a_rb+=("$T")
	check_back "anchor rollback"

	# the same rollback in two steps: eth0 restored, then the bridge deleted
	ip -n "$M" -batch "$work/takeover.batch" >>"$log" 2>&1 || die "anchor: ip -batch take-over (2)"
	check_taken "anchor take-over (2)"
	settle
	timed ip -n "$M" -batch "$work/giveback.batch" || die "anchor: ip -batch give-back"
	a_gb+=("$T")
	timed ip -n "$M" link del br-wan || die "anchor: ip link del br-wan"
	a_del+=("$T")
	check_back "anchor rollback in two steps"
}

# ---- vnet ----

cat >"$work/wan.yaml" <<EOF
# bench/uplink.sh: eth0 taken over by br-wan, probing the gateway
name: $NAME
bridges:
  br-wan: {uplink: eth0}
EOF
cat >"$work/wan-fail.yaml" <<EOF
# bench/uplink.sh: the same, its probe to fail (the router is made unreachable)
name: $FNAME
bridges:
  br-wan: {uplink: {nic: eth0, probe: [192.168.12.1], timeout: 1}}
EOF

# vnet_in_m OUT ARGS...: vnet ARGS run in M with this run's state dir, stdout to OUT,
# stderr to $work/err (and the log); RC = its exit code, T = its run time in us, taken
# inside M (the `ip netns exec` that enters M not counted).
RC=0
vnet_in_m() {
	local o=$1 r
	shift
	# shellcheck disable=SC2016 # the inner shell expands them
	r=$(ip netns exec "$M" env VNET_STATE_DIR="$work/state" bash -c \
		'o=$1 e=$2; shift 2; s=${EPOCHREALTIME/./}; "$@" >"$o" 2>"$e"; rc=$?; t=${EPOCHREALTIME/./}; echo "$rc $((t - s))"' \
		_ "$o" "$work/err" "$VNET" "$@") || die "ip netns exec $M"
	cat "$work/err" >>"$log"
	read -r RC T <<<"$r"
}
no_uplink() { grep -qE 'unknown key.*uplink' "$work/err"; }
vnet_off() {
	say "vnet does not know uplinks yet ($(head -n 1 "$work/err")): its figures are -"
	vnet_on=0
}
# json_us FILE KEY: KEY (milliseconds) anywhere in the JSON of FILE, in us; "-" if not there.
json_us() {
	jq -rs --arg k "$2" '[.. | objects | .[$k]? | numbers] | if length > 0 then (.[0] * 1000 | floor) else "-" end' "$1" 2>/dev/null || echo -
}

if run_vnet; then
	mkdir -p "$work/state"
	for f in wan wan-fail; do
		vnet_in_m "$work/out" validate "$work/$f.yaml"
		if [ "$RC" != 0 ]; then
			no_uplink && { vnet_off; break; }
			die "vnet validate $f.yaml: $(head -n 3 "$work/err")"
		fi
	done
fi

declare -a v_out v_take v_probe v_down v_fail v_rest
vnet_round() {
	local t0 t1
	settle
	start_ping
	t0=$(now_us)
	vnet_in_m "$work/up.json" up --json "$work/wan.yaml"
	t1=$(now_us)
	if [ "$RC" != 0 ]; then
		stop_ping
		no_uplink && { vnet_off; return 0; }
		die "vnet up (the take-over) exited $RC: $(head -n 3 "$work/err")"
	fi
	outage "$t0" "$t1"
	v_out+=("$G") v_take+=("$T") v_probe+=("$(json_us "$work/up.json" uplink_probe_ms)")
	check_taken "vnet up"
	settle
	vnet_in_m "$work/out" down "$NAME"
	[ "$RC" = 0 ] || die "vnet down exited $RC: $(head -n 3 "$work/err")"
	v_down+=("$T")
	check_back "vnet down"

	# the failed probe: R loses its address (its link stays up, so eth0 keeps its carrier)
	ip -n "$R" addr del 192.168.12.1/24 dev lan0 2>>"$log" || die "removing R's address"
	settle
	vnet_in_m "$work/fail.json" up --json "$work/wan-fail.yaml"
	ip -n "$R" addr add 192.168.12.1/24 dev lan0 2>>"$log" || die "giving R its address back"
	case $RC in
	6) ;;
	0) die "vnet up with the router unreachable succeeded" ;;
	*)
		no_uplink && { vnet_off; return 0; }
		die "vnet up with a failed probe exited $RC, not 6: $(head -n 3 "$work/err")"
		;;
	esac
	v_fail+=("$T") v_rest+=("$(json_us "$work/fail.json" uplink_restore_ms)")
	[ "${v_rest[-1]}" = - ] && say "vnet up's JSON has no uplink_restore_ms"
	check_back "vnet up with a failed probe"
}

for ((r = 1; r <= REPS; r++)); do
	if run_anchor; then
		say "round $r/$REPS: the ip -batch anchor"
		anchor_round
	fi
	if run_vnet; then
		say "round $r/$REPS: vnet"
		vnet_round
	fi
done

# ==== the figures ====

med() { # the median of the numbers among the arguments; "-" when there are none
	local v=() x
	for x in "$@"; do [ "$x" = - ] || v+=("$x"); done
	[ "${#v[@]}" -gt 0 ] && median "${v[@]}" || echo -
}
row() { printf '%s\t%s\t%s\t%s\n' "$@"; }
rb=$(med "${a_rb[@]}")
row "take-over outage, 1 ms ping from the router (max reply gap)" "$(med "${v_out[@]}")" "$(med "${a_out[@]}")" 10000
row "failed probe to restored NIC (anchor: ip -batch rollback)" "$(med "${v_rest[@]}")" "$rb" 50000
row "  anchor rollback in two: eth0 given back (ip -batch)" - "$(med "${a_gb[@]}")" -
row "  anchor rollback in two: then ip link del br-wan" - "$(med "${a_del[@]}")" -
row "take-over, wall (vnet up, its probe included; ip -batch)" "$(med "${v_take[@]}")" "$(med "${a_take[@]}")" -
row "  of which vnet's probe (up --json: uplink_probe_ms)" "$(med "${v_probe[@]}")" - -
row "give back, wall (vnet down; ip -batch rollback)" "$(med "${v_down[@]}")" "$rb" -
row "vnet up with a failed probe (timeout 1 s), wall" "$(med "${v_fail[@]}")" - -
