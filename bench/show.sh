#!/bin/bash
# show.sh [N] [REPS] - time `vnet show --json` and the text form of a star of N nodes
# (bench/gen-star, default 1000), median of REPS (default 5), beside the anchor doing the
# comparable work in the same run: `ip -j -d link`, `ip -j addr` and `ip -j route` of every
# namespace of the topology, from a shell loop. Goal (the issue): --json <= 100 ms at 1000.
#
# Built with vnet up --sandbox in namespaces of its own and a private state dir; taken down
# on exit, even on failure. One tab-separated line per measure on stdout:
#   N  measure  median-us  min-us  goal-us
# progress on stderr. Needs root, iproute2. VNET_BIN: the vnet binary (default build/vnet).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${1:-1000}
REPS=${2:-5}
VNET=${VNET_BIN:-$here/../build/vnet}
case $N$REPS in *[!0-9]*) echo "show.sh: N and REPS are numbers" >&2; exit 2 ;; esac

say() { printf 'show.sh[N=%s]: %s\n' "$N" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$VNET" ] || die "no vnet binary at $VNET (build it, or set VNET_BIN)"

V=vshow$$
bench_init show "$V"

T=0
timed() {
	local s e
	s=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>>"$work/log" || return 1
	e=${EPOCHREALTIME/./}
	T=$((e - s))
}

"$here/gen-star" "$N" >"$work/star.yaml" || die "gen-star"
say "building the star"
"$VNET" up "$work/star.yaml" --sandbox --name "$V" >/dev/null || die "vnet up"
mapfile -t nss < <(ls /run/netns | grep -E "^$V-")
[ "${#nss[@]}" = $((N + 1)) ] || die "${#nss[@]} namespaces, expected $((N + 1))"
"$VNET" show "$V" --json | jq -e --argjson n $((N + 1)) '.nodes | length == $n' >/dev/null ||
	die "show --json does not list every node"

anchor() {
	local ns
	for ns in "${nss[@]}"; do
		ip -n "$ns" -j -d link && ip -n "$ns" -j addr && ip -n "$ns" -j route || return 1
	done
}
declare -a tj tt ta
for ((r = 1; r <= REPS; r++)); do
	say "round $r/$REPS"
	timed "$VNET" show "$V" --json || die "vnet show --json"
	tj+=("$T")
	timed "$VNET" show "$V" || die "vnet show"
	tt+=("$T")
	timed anchor || die "the ip -j anchor"
	ta+=("$T")
done
printf '%-48s %12s %12s %10s\n' "vnet show, $N-node star" median min goal
printf '%-48s %12s %12s %10s\n' "vnet show --json" "$(ms "$(median "${tj[@]}")")" "$(ms "$(minimum "${tj[@]}")")" "<= 100 ms"
printf '%-48s %12s %12s %10s\n' "vnet show (text, compact)" "$(ms "$(median "${tt[@]}")")" "$(ms "$(minimum "${tt[@]}")")" -
printf '%-48s %12s %12s %10s\n' "anchor: ip -j -d link, addr, route per namespace" "$(ms "$(median "${ta[@]}")")" "$(ms "$(minimum "${ta[@]}")")" -
