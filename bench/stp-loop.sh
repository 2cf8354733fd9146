#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stp-loop.sh [N...] - time the loop check of `vnet validate` on an N x N grid of bridges.
#
# Each bridge b<r>x<c> is wired by a veth pair to its right and lower neighbours: N^2
# bridges, 2N(N-1) pairs, every square of four bridges a loop (N = 50: 2500 bridges,
# 4900 pairs, 12300 links, about 330 KB of YAML). Two files per size: every bridge with
# STP on (valid: the check has to prove that no loop runs through a bridge without STP)
# and every bridge with STP off (refused: the check names the first loop). Issue 7, item 9:
# the check took 40 s at N = 50 when it searched a loop through each wire in turn.
#
# Needs python3 only (no root: validate touches no kernel state). Prints one line per file:
# size, STP, median wall time of REPS runs (default 3), exit status. Env: VNET_BIN
# (default build/vnet), REPS.
set -eu -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
VNET=${VNET_BIN:-$here/../build/vnet}
REPS=${REPS:-3}
[ -x "$VNET" ] || { echo "stp-loop.sh: no vnet at $VNET (./dev build, or set VNET_BIN)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "stp-loop.sh: needs python3" >&2; exit 1; }
dir=$(mktemp -d /tmp/vnet-bench-stp.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# gen N on|off: the grid, on stdout
gen() {
	python3 - "$1" "$2" <<'EOF'
import sys

n, stp = int(sys.argv[1]), sys.argv[2]
out = [f"# bench/stp-loop.sh: a {n} x {n} grid of bridges, stp {stp}", "bridges:"]
for r in range(n):
    out += [f"  b{r}x{c}: {{stp: {stp}}}" for c in range(n)]
out.append("veths:")
for r in range(n):
    for c in range(n):
        if c + 1 < n:
            out += [f"  - h{r}x{c}a: {{master: b{r}x{c}}}", f"    h{r}x{c}b: {{master: b{r}x{c + 1}}}"]
        if r + 1 < n:
            out += [f"  - v{r}x{c}a: {{master: b{r}x{c}}}", f"    v{r}x{c}b: {{master: b{r + 1}x{c}}}"]
print("\n".join(out))
EOF
}

printf '%-8s %-4s %9s %12s %5s\n' grid stp KB "median" exit
for n in "${@:-50}"; do
	for stp in on off; do
		f=$dir/grid-$n-$stp.yaml
		gen "$n" "$stp" >"$f"
		times=()
		for _ in $(seq 1 "$REPS"); do
			t0=$(date +%s%N)
			rc=0
			"$VNET" validate "$f" >/dev/null 2>&1 || rc=$?
			times+=($((($(date +%s%N) - t0) / 1000)))
		done
		med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p")
		printf '%-8s %-4s %9d %9.3f s %5d\n' "${n}x$n" "$stp" $(($(stat -c %s "$f") / 1024)) \
			"$(awk -v u="$med" 'BEGIN { print u / 1e6 }')" "$rc"
	done
done
