# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - shared helpers of the kernel scenarios: names, cleanup with a leak guard, polling, jq
# shellcheck shell=bash disable=SC2034 # TAPIO, PFX, OUT: used by the scenarios that source this
#
# Usage, at the top of a scenario:
#   set -euo pipefail
#   . "$(dirname "$0")/lib.sh"
#   trap cleanup EXIT
#   kt_init br            # a short id (letters), unique among the scenarios
#
# Everything a scenario makes is named after $PFX (vk<pid><id>): topologies "$PFX" or
# "$PFX.x" (so their namespaces are "$PFX-node" or "$PFX.x-node"), outer namespaces
# "$PFX-o...". The EXIT trap runs `vnet down` for every topology brought up through vup
# (or registered with track), kills registered background processes, and then removes
# whatever is left: a namespace still matching $PFX that the test did not make by hand,
# an interface tagged vnet:* left in a hand-made namespace, or a row left in the state
# store is a leak of `vnet down`, and the test FAILS (exit 1) even if it had passed.

KT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VNET=${VNET_BIN:-$KT_ROOT/build/vnet}
TAPIO=${TAPIO_BIN:-$KT_ROOT/build/tests/tapio}
KT_TOPOS=()   # "name|outer-namespace-or-empty"
KT_OWN_NS=()  # namespaces the test made by hand (not vnet's)
KT_PIDS=()    # background processes to kill
KT_SKIP=""
PFX=""

# kt_init ID: the prefix, a private state store and a scratch directory.
kt_init() {
	[[ $1 =~ ^[a-z]{1,4}$ ]] || { echo "kt_init: id must be 1-4 lowercase letters" >&2; exit 2; }
	PFX=vk$$$1
	# tests/run's timeout sends SIGTERM: exit through the EXIT trap, so cleanup still runs.
	trap 'exit 143' TERM
	trap 'exit 130' INT
	cd "$KT_ROOT" # the scenarios name files relative to the source tree (examples/...)
	KT_TMP=$(mktemp -d "/tmp/vnet-kt-$PFX.XXXXXX")
	export VNET_STATE_DIR=$KT_TMP/state
	mkdir -p "$VNET_STATE_DIR"
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, netlink)"
	[ -x "$VNET" ] || skip "no vnet binary at $VNET (build first, or set VNET_BIN)"
	local c
	for c in ip bridge jq ping nsenter; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	echo "# $(basename "$0"): prefix $PFX, state $VNET_STATE_DIR"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# need_test_hooks: skip unless vnet was built with the test hooks (meson -Dtest-hooks=true,
# as ./dev test's build-asan is): VNET_CRASH_AT and VNET_FAULT_STEP. A build without them
# has not even their names in it: look in the binary and in the libvnet it loads.
need_test_hooks() {
	local lib
	lib=$(ldd "$VNET" 2>/dev/null | awk '$1 ~ /^libvnet\.so/ { print $3 }')
	# shellcheck disable=SC2086 # no libvnet (a static vnet): the binary alone
	grep -qa VNET_FAULT_STEP "$VNET" $lib ||
		skip "vnet was built without the test hooks (meson -Dtest-hooks=true; ./dev test has them)"
}

# skip REASON: exit 77; the reason stays the last line of output (cleanup prints it again).
skip() {
	KT_SKIP="$*"
	echo "$*"
	exit 77
}

note() { echo "# $*"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
	echo "ok - $1 = $3"
}

# expect_rc WANT CMD...: run CMD, require exit status WANT; its output is kept in $OUT.
expect_rc() {
	local want=$1 rc=0
	shift
	OUT=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$OUT" | sed 's/^/    | /'
	[ "$rc" = "$want" ] || fail "expected exit $want, got $rc: $*"
	echo "ok - exit $want: $*"
}

# wait_until TIMEOUT CMD...: poll CMD (silently) every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
	local deadline
	deadline=$(($(date +%s%N) + ${1%.*} * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# track NAME [OUTER]: `vnet down NAME` on exit (inside OUTER when given).
track() { KT_TOPOS+=("$1|${2:-}"); }

# own_ns NAME: create a namespace by hand (not vnet's); deleted on exit.
own_ns() {
	ip netns add "$1"
	KT_OWN_NS+=("$1")
	ip -n "$1" link set lo up
}

# in_outer NS CMD...: run CMD (vnet without --sandbox) with NS as its network namespace.
# Not `ip netns exec`: that also gives CMD a private mount namespace, a slave of ours, so the
# namespaces vnet bind-mounts under /run/netns would exist only inside it: outside, their
# files are empty and setns on them fails (EINVAL), and the next vnet run cannot find them
# (`ip netns exec X ip netns add Y` shows the same). nsenter --net changes only the network
# namespace.
in_outer() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

bg_pid() { KT_PIDS+=("$1"); }

# vup NAME FILE [ARGS...]: vnet up FILE --sandbox --name NAME, tracked; fails the test on error.
vup() {
	local name=$1 file=$2
	shift 2
	track "$name"
	"$VNET" up "$file" --sandbox --name "$name" "$@" || fail "vnet up $file --name $name failed"
}

# nsx NS CMD...: run CMD in namespace NS.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ---- jq over ip -j / bridge -j ----

# ljson NS IFNAME: `ip -d -j link show IFNAME` as one object ({} when absent).
ljson() { ip -n "$1" -d -j link show dev "$2" 2>/dev/null | jq -c '.[0] // {}' || echo '{}'; }

# lget NS IFNAME FILTER: jq -r FILTER over ljson's object.
lget() { ljson "$1" "$2" | jq -r "$3"; }

# addrs NS IFNAME: its global addresses "a/len", sorted, one a line.
addrs() {
	ip -n "$1" -j addr show dev "$2" |
		jq -r '.[0].addr_info[]? | select(.scope != "link") | "\(.local)/\(.prefixlen)"' | sort
}

# has_ns NAME: the namespace exists.
# (Read /run/netns rather than `ip netns list`, which asks the kernel for each namespace's id
# and complains about namespaces other processes are creating or deleting meanwhile.)
has_ns() { [ -e "/run/netns/$1" ]; }

# ns_list: the namespaces of this test, sorted.
ns_list() {
	[ -n "$PFX" ] || return 0
	ls /run/netns 2>/dev/null | grep -E "^$PFX([-.]|$)" | sort || true
}

# plan_steps NAME FILE [ARGS...]: the steps `vnet up --dry-run --json` would take, one a line.
plan_steps() {
	local name=$1 file=$2
	shift 2
	"$VNET" up "$file" --sandbox --name "$name" --dry-run --json "$@" |
		jq -r '.steps[] | "\(.change) \(.step)"'
}

# Volatile fields, dropped from dumps: the bridge and port timers count down on their own
# (gc_timer, hello_timer, ...), and lifetimes of addresses tick; everything else must be equal.
KT_VOLATILE='walk(if type == "object" then del(.hello_timer, .tcn_timer, .topology_change_timer,
	.gc_timer, .message_age_timer, .forward_delay_timer, .hold_timer, .stats, .stats64,
	.valid_life_time, .preferred_life_time) else . end)'

# dump NS...: this test's namespaces, then dump_ns NS...
dump() {
	echo "namespaces: $(ns_list | tr '\n' ' ')"
	dump_ns "$@"
}

# dump_ns NS...: full normalised `ip -j -d link`, `ip -j addr`, `ip -j route` of each namespace.
dump_ns() {
	local ns
	for ns in "$@"; do
		echo "== $ns"
		has_ns "$ns" || { echo "(absent)"; continue; }
		ip -n "$ns" -d -j link | jq -S "$KT_VOLATILE"
		ip -n "$ns" -j addr | jq -S "$KT_VOLATILE"
		ip -n "$ns" -j route show table all | jq -S "$KT_VOLATILE"
		# the namespace's whole ruleset (vnet's NAT table, a stranger's tables) and forwarding
		ip netns exec "$ns" nft -j list ruleset | jq -S "$KT_NFT"
		echo "ip_forward $(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)"
	done
}
# what a ruleset is, without what the kernel numbers anew (handles) or orders at will (the
# elements of a hash set)
KT_NFT='[.nftables[] | select(.metainfo | not)]
	| walk(if type == "object" then del(.handle) | (if has("elem") then .elem |= sort else . end)
	       else . end)'

# settled NS...: no tentative address (IPv6 DAD done) and no bridge port in listening/learning.
settled() {
	local ns
	for ns in "$@"; do
		has_ns "$ns" || continue
		ip -n "$ns" -j addr | jq -e '[.[].addr_info[]? | select(.tentative)] | length == 0' \
			>/dev/null || return 1
		ip -n "$ns" -j -d link | jq -e '[.[] | select(.linkinfo.info_slave_kind == "bridge")
			| select(.linkinfo.info_slave_data.state | test("listening|learning"))]
			| length == 0' >/dev/null || return 1
	done
}

# fault_run NAME FILE K NS...: VNET_FAULT_STEP=K vnet up must exit 3 and change nothing.
fault_run() {
	local name=$1 file=$2 k=$3 before after rc=0
	shift 3
	wait_until 20 settled "$@" || fail "namespaces did not settle before step $k"
	before=$(dump "$@")
	OUT=$(VNET_FAULT_STEP=$k "$VNET" up "$file" --sandbox --name "$name" 2>&1) || rc=$?
	[ "$rc" = 3 ] || { echo "$OUT"; fail "VNET_FAULT_STEP=$k: expected exit 3, got $rc"; }
	grep -q "injected fault at step $k " <<<"$OUT" || { echo "$OUT"; fail "no fault at step $k"; }
	if [ "$k" -gt 1 ]; then
		grep -q "undid the $((k - 1)) step(s)" <<<"$OUT" ||
			{ echo "$OUT"; fail "VNET_FAULT_STEP=$k: no 'undid the $((k - 1)) step(s)'"; }
	fi
	wait_until 20 settled "$@" || fail "namespaces did not settle after step $k"
	after=$(dump "$@")
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") | head -40
		fail "VNET_FAULT_STEP=$k: the kernel differs after the rollback"
	fi
}

# ---- traffic helpers: nc servers that log, and probes that must (not) reach them ----

# tcp_server NS PORT LOG / udp_server NS PORT LOG: nc on PORT (every IPv4 address) in NS until
# the test ends; LOG gets the lines received, and for TCP each peer ("Connection received on
# ADDR PORT"). (ip netns exec, not nsx: a function's $! is a subshell; killing it orphans nc.)
tcp_server() {
	ip netns exec "$1" nc -4 -l -k -n -v "$2" </dev/null >"$3" 2>&1 &
	bg_pid $!
	wait_until 10 listening "$1" "$2" t || fail "nc does not listen on TCP port $2 in $1"
}
udp_server() {
	ip netns exec "$1" nc -4 -u -l -k -n "$2" </dev/null >"$3" 2>&1 &
	bg_pid $!
	wait_until 10 listening "$1" "$2" u || fail "nc is not bound to UDP port $2 in $1"
}
# listening NS PORT [t|u]: something listens on TCP (default) or UDP PORT in NS.
listening() { nsx "$1" ss -Hln"${3:-t}" "sport = :$2" | grep -q .; }

# stop_servers: kill them now (before a namespace they run in goes away).
stop_servers() {
	local p
	for p in "${KT_PIDS[@]}"; do
		kill "$p" 2>/dev/null || continue
		wait "$p" 2>/dev/null || true # 143: killed, as asked
	done
	KT_PIDS=()
}

PROBES=0 PEER="" LINE=""
next_line() {
	PROBES=$((PROBES + 1))
	LINE="probe-$PROBES"
}

# tcp_reaches WHAT NS ADDR PORT LOG: from NS, connect to ADDR:PORT and send a line of its own;
# it must reach the server logging to LOG. PEER: the address that server saw it come from.
tcp_reaches() {
	local what=$1 ns=$2 addr=$3 port=$4 log=$5
	next_line
	echo "$LINE" | nsx "$ns" timeout 10 nc -4 -n -N -w 5 "$addr" "$port" >/dev/null 2>&1 ||
		fail "$what: $ns cannot connect to $addr:$port"
	wait_until 5 grep -qx "$LINE" "$log" ||
		fail "$what: $ns connected to $addr:$port, but its line did not reach the server"
	PEER=$(awk -v l="$LINE" '$1 == "Connection" { p = $4 } $0 == l { print p; exit }' "$log")
	echo "ok - $what"
}

# tcp_fails WHAT NS ADDR PORT: a connection from NS to ADDR:PORT is refused or unanswered.
tcp_fails() {
	if nsx "$2" timeout 10 nc -4 -n -z -w 2 "$3" "$4" >/dev/null 2>&1; then
		fail "$1: $2 connected to $3:$4"
	fi
	echo "ok - $1"
}

# udp_reaches WHAT NS ADDR PORT LOG: a datagram from NS to ADDR:PORT reaches the server logging
# to LOG (sent again at each poll: a datagram may be lost, a stream may not).
# shellcheck disable=SC2016 # expanded by the inner bash
udp_send() { nsx "$1" bash -c 'echo "$0" >"/dev/udp/$1/$2"' "$4" "$2" "$3" 2>/dev/null; }
udp_arrived() { udp_send "$@" && grep -qx "$4" "$5"; }
udp_reaches() {
	local what=$1 ns=$2 addr=$3 port=$4 log=$5
	next_line
	wait_until 10 udp_arrived "$ns" "$addr" "$port" "$LINE" "$log" ||
		fail "$what: no datagram from $ns to $addr:$port reached the server"
	echo "ok - $what"
}

# make_foreign NS TABLE: a stranger's nftables tables in NS: "ip keepme" (a set, a chain on
# the forward hook) and "inet TABLE" (vnet's name in another family). foreign_json NS TABLE:
# both, as `nft -j` lists them, to compare before and after.
make_foreign() {
	nsx "$1" nft -f - <<EOF
table ip keepme {
	set friends { type ipv4_addr; elements = { 198.51.100.7 } }
	chain guard { type filter hook forward priority 10; policy accept; meta mark 0x2a accept; }
}
table inet $2 {
	chain c { ip saddr 198.51.100.7 accept; }
}
EOF
}
foreign_json() { nsx "$1" nft -j list table ip keepme; nsx "$1" nft -j list table inet "$2"; }

# ---- cleanup and the leak guard ----

kt_leak() {
	echo "LEAK: $*" >&2
	KT_LEAKED=1
}

# A hand-made namespace must hold no link tagged vnet:* after every vnet down ran.
kt_check_own() {
	local ns=$1 left
	left=$(ip -n "$ns" -j link 2>/dev/null |
		jq -r '.[] | select((.ifalias // "") | startswith("vnet:")) | .ifname' | tr '\n' ' ')
	[ -z "$left" ] || kt_leak "vnet down left $left in namespace $ns"
}

cleanup() {
	local rc=$? t name outer ns
	set +e
	trap - EXIT
	KT_LEAKED=0
	for t in "${KT_PIDS[@]}"; do
		kill "$t" 2>/dev/null && wait "$t" 2>/dev/null
	done
	for t in "${KT_TOPOS[@]}"; do
		name=${t%%|*} outer=${t#*|}
		if [ -n "$outer" ]; then
			has_ns "$outer" && in_outer "$outer" "$VNET" down "$name" >/dev/null 2>&1
		else
			"$VNET" down "$name" >/dev/null 2>&1
		fi
	done
	for ns in "${KT_OWN_NS[@]}"; do
		kt_check_own "$ns"
	done
	for ns in $(ns_list); do
		[[ " ${KT_OWN_NS[*]} " == *" $ns "* ]] && continue
		kt_leak "namespace $ns still there after vnet down"
		ip netns delete "$ns"
	done
	for ns in "${KT_OWN_NS[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	if [ -n "${VNET_STATE_DIR:-}" ] && [ -x "$VNET" ]; then
		t=$("$VNET" list --json 2>/dev/null | jq -r '.[].name' 2>/dev/null | tr '\n' ' ')
		[ -z "$t" ] || kt_leak "the state store still lists: $t"
	fi
	[ -n "${KT_TMP:-}" ] && rm -rf "$KT_TMP"
	if [ "$KT_LEAKED" = 1 ] && { [ "$rc" = 0 ] || [ "$rc" = 77 ]; }; then
		echo "FAIL: cleanup had to remove what vnet down should have removed" >&2
		rc=1
	fi
	[ "$rc" = 77 ] && echo "$KT_SKIP"
	[ "$rc" = 0 ] && echo "PASS: $(basename "$0")"
	exit "$rc"
}

# ---- run directly (tests/run runs every tests/kernel/*.sh): a self-test of these helpers ----
# Each case is a child scenario; the leak guard must fail one that leaves a namespace behind.
kt_selftest() {
	local self=${BASH_SOURCE[0]} rc out
	kt_child() { bash -c "set -euo pipefail; . '$self'; trap cleanup EXIT; kt_init zz; $1" 2>&1; }
	trap cleanup EXIT
	kt_init lib
	wait_until 1 false && fail "wait_until false did not time out"
	wait_until 2 true || fail "wait_until true timed out"
	echo "ok - wait_until times out on false, returns at once on true"
	rc=0 out=$(kt_child 'vup "$PFX" examples/bridge.yaml') || rc=$?
	[ "$rc" = 0 ] || { echo "$out"; fail "a clean scenario failed ($rc)"; }
	echo "ok - a scenario that vnet downs cleanly passes"
	rc=0 out=$(kt_child 'ip netns add "$PFX-left"') || rc=$?
	[ "$rc" = 1 ] && grep -q "LEAK: namespace vk[0-9]*zz-left" <<<"$out" ||
		{ echo "$out"; fail "the leak guard did not fail a scenario leaving a namespace ($rc)"; }
	echo "ok - the leak guard fails a scenario that leaves a namespace"
	rc=0 out=$(kt_child 'vup "$PFX" examples/bridge.yaml; KT_TOPOS=()') || rc=$?
	[ "$rc" = 1 ] || { echo "$out"; fail "the leak guard missed a topology never brought down"; }
	echo "ok - the leak guard fails a scenario whose topology was not brought down"
	rc=0 out=$(kt_child 'skip "no such feature"') || rc=$?
	[ "$rc" = 77 ] && [ "$(tail -n 1 <<<"$out")" = "no such feature" ] ||
		{ echo "$out"; fail "skip did not exit 77 with its reason last ($rc)"; }
	echo "ok - skip exits 77 with the reason as the last line"
	expect_eq "namespaces left by the children" "$(ls /run/netns | grep -c '^vk[0-9]*zz' || true)" 0
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cd "$KT_ROOT"
	kt_selftest
fi
