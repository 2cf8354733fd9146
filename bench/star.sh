#!/bin/bash
# star.sh N [REPS] - the star benchmark for N nodes: `vnet up` (fresh), `vnet up` again
# (a no-op re-apply) and `vnet down`, each REPS times, beside two iproute2 anchors doing
# the same work in the same run: a plain script (one `ip` per command) and `ip -batch`
# (one batch file per namespace); ANCHOR_REPS rounds of those (default REPS up to 100
# nodes, else 1). Each timed command starts on a quiet machine (settle, wait_freed).
#
# Everything is built in namespaces of its own (vnet --sandbox; the anchors name theirs
# the same way), with a private vnet state dir; nothing touches the root namespace's
# links. Results go to stdout, one tab-separated line per operation:
#   N  operation  vnet-median-us  vnet-min-us  plain-median-us  batch-median-us  goal-us
# (a field is "-" when it does not apply); progress and problems go to stderr.
# Needs root, iproute2, ping. VNET_BIN: the vnet binary (default: build/vnet).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${1:?usage: star.sh N [REPS]}
REPS=${2:-3}
# rounds for the anchors: they are 10-100x slower, one round is enough for big N
AREPS=${ANCHOR_REPS:-$([ "$N" -le 100 ] && echo "$REPS" || echo 1)}
VNET=${VNET_BIN:-$here/../build/vnet}
case $N$REPS$AREPS in *[!0-9]*) echo "star.sh: N and REPS are numbers" >&2; exit 2 ;; esac

say() { printf 'star.sh[N=%s]: %s\n' "$N" "$*" >&2; }
die() { say "FAILED: $*"; [ -s "${log:-/dev/null}" ] && tail -n 20 "$log" | sed 's/^/    /' >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$VNET" ] || die "no vnet binary at $VNET (build it, or set VNET_BIN)"
command -v ip >/dev/null || die "needs iproute2 (ip)"
command -v ping >/dev/null || die "needs ping"

# Names unique to this run, so that cleanup never touches anything else.
V=vbench$$   # vnet's topology: namespaces V-host, V-n1.. V-nN
A=vbip$$     # plain iproute2 script
B=vbipb$$    # ip -batch
bench_init star "$V" "$A" "$B"
log=$work/log
: >"$log"


# ---- the topology, and its two iproute2 equivalents ----

star_addr() { local a=$(($1 + 1)); echo "10.0.$((a / 256)).$((a % 256))"; }

yaml=$work/star$N.yaml
"$here/gen-star" "$N" >"$yaml" || die "gen-star"

# Plain script: one ip per command, the way one writes it by hand.
plain_up=$work/plain-up.sh plain_down=$work/plain-down.sh
{
	echo "set -e"
	echo "ip netns add $A-host"
	echo "ip -n $A-host link set lo up"
	echo "ip -n $A-host link add br0 type bridge"
	echo "ip -n $A-host link set br0 up"
	echo "ip -n $A-host addr add 10.0.0.1/16 dev br0"
	for ((k = 1; k <= N; k++)); do
		echo "ip netns add $A-n$k"
		echo "ip -n $A-host link add v$k type veth peer name eth0 netns $A-n$k"
		echo "ip -n $A-host link set v$k master br0 up"
		echo "ip -n $A-n$k link set lo up"
		echo "ip -n $A-n$k link set eth0 up"
		echo "ip -n $A-n$k addr add $(star_addr $k)/16 dev eth0"
	done
} >"$plain_up"
{
	echo "set -e"
	for ((k = 1; k <= N; k++)); do echo "ip -n $A-host link del v$k"; done
	echo "ip -n $A-host link del br0"
	echo "ip netns del $A-host"
	for ((k = 1; k <= N; k++)); do echo "ip netns del $A-n$k"; done
} >"$plain_down"

# ip -batch: one batch file per namespace (and one in the root namespace for `netns`).
bd=$work/batch
mkdir -p "$bd"
{
	echo "netns add $B-host"
	for ((k = 1; k <= N; k++)); do echo "netns add $B-n$k"; done
} >"$bd/netns-add"
{
	echo "link set lo up"
	echo "link add br0 type bridge"
	echo "link set br0 up"
	echo "addr add 10.0.0.1/16 dev br0"
	for ((k = 1; k <= N; k++)); do
		echo "link add v$k type veth peer name eth0 netns $B-n$k"
		echo "link set v$k master br0 up"
	done
} >"$bd/host-up"
batch_up=$work/batch-up.sh batch_down=$work/batch-down.sh
{
	echo "set -e"
	echo "ip -batch $bd/netns-add"
	echo "ip -n $B-host -batch $bd/host-up"
	for ((k = 1; k <= N; k++)); do
		printf 'link set lo up\nlink set eth0 up\naddr add %s/16 dev eth0\n' "$(star_addr $k)" >"$bd/n$k-up"
		echo "ip -n $B-n$k -batch $bd/n$k-up"
	done
} >"$batch_up"
{
	for ((k = 1; k <= N; k++)); do echo "link del v$k"; done
	echo "link del br0"
} >"$bd/host-down"
{
	echo "netns del $B-host"
	for ((k = 1; k <= N; k++)); do echo "netns del $B-n$k"; done
} >"$bd/netns-del"
{
	echo "set -e"
	echo "ip -n $B-host -batch $bd/host-down"
	echo "ip -batch $bd/netns-del"
} >"$batch_down"

# ---- checks (never timed) ----

# pings PREFIX: node 1 reaches node N and the bridge.
pings() {
	local p=$1 dst i
	for dst in "$(star_addr "$N")" 10.0.0.1; do
		[ "$N" = 1 ] && [ "$dst" = "$(star_addr 1)" ] && continue
		for i in 1 2 3; do
			ip netns exec "$p-n1" ping -q -c 1 -W 2 "$dst" >/dev/null 2>&1 && continue 2
		done
		die "$p-n1 cannot ping $dst"
	done
}
count_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -cE "^$1-" || true; }
check_vnet() {
	"$VNET" diff "$yaml" --sandbox --name "$V" >>"$log" 2>&1 || die "vnet diff after $1: the kernel differs from the file"
	pings "$V"
}
check_anchor() {
	local p=$1 c
	c=$(count_ns "$p")
	[ "$c" = $((N + 1)) ] || die "$2: $c namespaces, expected $((N + 1))"
	[ "$(ip -n "$p-n$N" -o -4 addr show dev eth0 2>/dev/null | awk '{print $4}')" = "$(star_addr "$N")/16" ] ||
		die "$2: $p-n$N/eth0 lacks its address"
	pings "$p"
}
check_gone() {
	local c
	c=$(count_ns "$1")
	[ "$c" = 0 ] || die "$2: $c namespaces of $1 left"
}

# ---- the runs; the three tools take turns, so that a noisy moment hits them alike ----

declare -a vu vn vd vf pu pd pf bu bd_ bf
for ((r = 1; r <= REPS; r++)); do
	say "round $r/$REPS (anchors: $AREPS)"

	settle
	timed "$VNET" up "$yaml" --sandbox --name "$V" || die "vnet up"
	vu+=("$T")
	check_vnet "up"
	settle
	timed "$VNET" up "$yaml" --sandbox --name "$V" || die "vnet up (again)"
	vn+=("$T")
	check_vnet "a no-op re-apply"
	settle
	before=$(slab_ns)
	timed "$VNET" down "$V" || die "vnet down"
	vd+=("$T")
	check_gone "$V" "vnet down"
	wait_freed "$N" "$before"
	vf+=("$F")

	[ "$r" -le "$AREPS" ] || continue
	settle
	timed bash "$plain_up" || die "plain iproute2 script (up)"
	pu+=("$T")
	check_anchor "$A" "plain iproute2 script"
	settle
	before=$(slab_ns)
	timed bash "$plain_down" || die "plain iproute2 script (down)"
	pd+=("$T")
	check_gone "$A" "plain iproute2 script (down)"
	wait_freed "$N" "$before"
	pf+=("$F")

	settle
	timed bash "$batch_up" || die "ip -batch (up)"
	bu+=("$T")
	check_anchor "$B" "ip -batch"
	settle
	before=$(slab_ns)
	timed bash "$batch_down" || die "ip -batch (down)"
	bd_+=("$T")
	check_gone "$B" "ip -batch (down)"
	wait_freed "$N" "$before"
	bf+=("$F")
done

# goals from the issue: 100 nodes: up 0.2 s, down 0.15 s, no-op 20 ms; 1000 nodes: 2 s.
if [ "$N" -le 100 ]; then gu=200000 gn=20000 gd=150000; else gu=2000000 gn=2000000 gd=2000000; fi
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$N" "$@"; }
row "up" "$(median "${vu[@]}")" "$(minimum "${vu[@]}")" "$(median "${pu[@]}")" "$(median "${bu[@]}")" "$gu"
row "up again (no-op)" "$(median "${vn[@]}")" "$(minimum "${vn[@]}")" - - "$gn"
row "down" "$(median "${vd[@]}")" "$(minimum "${vd[@]}")" "$(median "${pd[@]}")" "$(median "${bd_[@]}")" "$gd"
row "kernel frees netns after down" "$(median "${vf[@]}")" "$(minimum "${vf[@]}")" \
	"$(median "${pf[@]}")" "$(median "${bf[@]}")" -
