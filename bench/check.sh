#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check.sh [N] [REPS] - time `vnet check` against a shell loop of `ip netns exec NS ping`
# doing the same probes, in the same run; median and minimum of REPS rounds (default 3).
#
#  1. a star of N nodes (bench/gen-star, default 100) with declared checks: every node
#     pings br0 (10.0.0.1) and the host pings every node: 2N probes. Goal: <= 3 s.
#  2. the default matrix (no checks) of a star of M nodes (default 15): every ordered pair
#     of the M+1 namespaces on the subnet, (M+1)M probes.
#
# Why not the default matrix of 100 nodes (10100 probes)? Every probe needs a neighbour
# entry in the probing namespace (and the target learns one back), and the kernel's ARP
# table is one table for all namespaces, capped by net.ipv4.neigh.default.gc_thresh3
# (1024 here, settable in the root namespace only): 10100 entries overflow it, and ARP
# fails for every namespace on the machine for a while. M is kept small: (M+1)M entries,
# beside what else runs on the machine.
#
# Neighbour caches of the namespaces are flushed before every timed run, so that each
# tool pays for ARP. Everything lives in namespaces of this run (vnet --sandbox), with a
# private state dir; nothing touches the root namespace. Needs root, iproute2, ping.
# Env: VNET_BIN (default build/vnet), CHECK_MATRIX_N (M, default 15).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${1:-100}
REPS=${2:-3}
M=${CHECK_MATRIX_N:-15}
VNET=${VNET_BIN:-$here/../build/vnet}
case $N$REPS$M in *[!0-9]*) echo "check.sh: N, REPS and M are numbers" >&2; exit 2 ;; esac

say() { printf 'bench/check.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$VNET" ] || die "no vnet binary at $VNET (./dev build, or set VNET_BIN)"
command -v ping >/dev/null || die "needs ping"

S=vbchk$$ # star with checks: namespaces S-host, S-n1..S-nN
D=vbchm$$ # star for the default matrix
bench_init check "$S" "$D"

star_addr() { local a=$(($1 + 1)); echo "10.0.$((a / 256)).$((a % 256))"; }
fmt() { awk -v u="$1" 'BEGIN { if (u >= 1000000) printf "%.3f s", u / 1e6; else printf "%.1f ms", u / 1e3 }'; }

# flush NAME COUNT: empty the neighbour caches of a star's namespaces.
flush() {
	local k
	ip -n "$1-host" neigh flush all 2>/dev/null
	for ((k = 1; k <= $2; k++)); do ip -n "$1-n$k" neigh flush all 2>/dev/null; done
}

# timed LABEL CMD...: T = wall time in microseconds. A run where a probe failed still counts
# (a loaded machine can make a ping miss its 1 s); it is reported after the table.
T=0 missed=()
timed() {
	local label=$1 s=${EPOCHREALTIME/./} rc=0
	shift
	"$@" >"$work/out" 2>&1 || rc=$?
	T=$((${EPOCHREALTIME/./} - s))
	[ "$rc" = 0 ] && return 0
	[ "$rc" = 1 ] || { cat "$work/out" >&2; die "$label: exit $rc"; }
	missed+=("round $r, $label: $(grep -c FAIL "$work/out" || true) failed probe line(s)")
	grep FAIL "$work/out" | head -n 3 >&2
}

# ---- the files and the shell loops ----
"$here/gen-star" "$N" >"$work/star.yaml" || die "gen-star"
{
	cat "$work/star.yaml"
	echo "checks:"
	for ((k = 1; k <= N; k++)); do
		echo "  - {from: n$k, to: host}"
		echo "  - {from: host, to: n$k}"
	done
} >"$work/checks.yaml"
{
	echo 'f=0'
	for ((k = 1; k <= N; k++)); do
		echo "ip netns exec $S-n$k ping -c1 -W1 10.0.0.1 >/dev/null || f=1"
		echo "ip netns exec $S-host ping -c1 -W1 $(star_addr "$k") >/dev/null || f=1"
	done
	echo 'exit $f'
} >"$work/loop-checks.sh"
"$here/gen-star" "$M" >"$work/matrix.yaml" || die "gen-star"
{
	echo 'f=0'
	for ((a = 0; a <= M; a++)); do
		for ((b = 0; b <= M; b++)); do
			[ "$a" = "$b" ] && continue
			src=$D-n$a dst=$(star_addr "$b")
			[ "$a" = 0 ] && src=$D-host
			[ "$b" = 0 ] && dst=10.0.0.1
			echo "ip netns exec $src ping -c1 -W1 $dst >/dev/null || f=1"
		done
	done
	echo 'exit $f'
} >"$work/loop-matrix.sh"

"$VNET" up "$work/checks.yaml" --sandbox --name "$S" >/dev/null || die "vnet up (star $N)"
"$VNET" up "$work/matrix.yaml" --sandbox --name "$D" >/dev/null || die "vnet up (star $M)"

declare -a vc lc vm lm
for ((r = 1; r <= REPS; r++)); do
	say "round $r/$REPS"
	flush "$S" "$N"
	timed "vnet check (star $N)" "$VNET" check "$work/checks.yaml" --sandbox --name "$S"
	vc+=("$T")
	flush "$S" "$N"
	timed "ping loop (star $N)" bash "$work/loop-checks.sh"
	lc+=("$T")
	flush "$D" "$M"
	timed "vnet check (star $M)" "$VNET" check "$work/matrix.yaml" --sandbox --name "$D"
	vm+=("$T")
	flush "$D" "$M"
	timed "ping loop (star $M)" bash "$work/loop-matrix.sh"
	lm+=("$T")
done

printf '%-44s %8s %12s %12s %16s %10s  %s\n' "vnet check" probes "vnet median" "vnet min" \
	"ping loop median" goal verdict
g=3000000 mc=$(median "${vc[@]}")
printf '%-44s %8s %12s %12s %16s %10s  %s\n' "star $N, declared: host <-> every node" \
	$((2 * N)) "$(fmt "$mc")" "$(fmt "$(minimum "${vc[@]}")")" "$(fmt "$(median "${lc[@]}")")" \
	"<= 3 s" "$([ "$mc" -le "$g" ] && echo ok || echo MISS)"
printf '%-44s %8s %12s %12s %16s %10s\n' "star $M, default matrix: every pair" \
	$(((M + 1) * M)) "$(fmt "$(median "${vm[@]}")")" "$(fmt "$(minimum "${vm[@]}")")" \
	"$(fmt "$(median "${lm[@]}")")" -
echo "Wall times, process start-up included; median of $REPS rounds, neighbour caches flushed"
echo "before each run. The loop: one 'ip netns exec NS ping -c1 -W1 ADDR' per probe."
for m in "${missed[@]}"; do echo "note: $m (the loop counts a whole run as failed)"; done
