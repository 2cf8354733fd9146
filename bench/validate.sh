#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# validate.sh - `vnet validate` on large files: time and peak memory against the file's size.
#
# Issue 7, item 9: validate of 100k nodes took 122 s (quadratic searches for duplicates and
# references) and a 16 MB list of repeated names took 870 MB (a tree of the whole file).
# The goal: linear in the file (100k nodes in about a second) and memory a small multiple of
# it. Files, made by python3: N nodes each joined to a host bridge by a veth with an address
# and a default route; N veth pairs with addresses; a 16 MB flow list of one repeated name;
# a 16 MB map with one key repeated; a 50 x 50 grid of bridges with STP on (valid: the loop
# check must prove no loop runs through a bridge without STP; it took 38 s when it searched
# a loop through each wire in turn) and off (refused, the first loop named). No other tool
# checks vnet's files, so there is no anchor to run beside it: the figures to compare are
# the file's size and the goal.
#
# Needs python3 only (no root). Env: VNET_BIN (default build/vnet), N (default 100000).
set -eu -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
VNET=${VNET_BIN:-$here/../build/vnet}
N=${N:-100000}
[ -x "$VNET" ] || { echo "validate.sh: no vnet at $VNET (./dev build, or set VNET_BIN)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "validate.sh: needs python3" >&2; exit 1; }
dir=$(mktemp -d /tmp/vnet-bench-validate.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# gen KIND N: the file, on stdout
gen() {
	python3 - "$1" "$2" <<'PY'
import sys

kind, n = sys.argv[1], int(sys.argv[2])
w = sys.stdout.write


def ip(k, o):  # host o of the k-th /30 of 10.0.0.0/8
    x = k * 4 + o
    return "10.%d.%d.%d" % ((x >> 16) & 255, (x >> 8) & 255, x & 255)


if kind == "nodes":
    w("name: big\nnodes:\n")
    for k in range(1, n + 1):
        w("  n%d: {routes: [default via 10.0.0.1]}\n" % k)
    w("bridges:\n  br0: {addresses: 10.0.0.1/8}\nveths:\n")
    for k in range(1, n + 1):
        w("  - v%d: {master: br0}\n    n%d/eth0: {addresses: %s/8}\n" % (k, k, ip(k, 2)))
elif kind == "veths":
    w("name: big\nveths:\n")
    for k in range(1, n + 1):
        w("  - a%d: {addresses: %s/30}\n    b%d: {addresses: %s/30}\n"
          % (k, ip(k, 1), k, ip(k, 2)))
elif kind == "list":  # n bytes
    w("name: big\nnodes: {}\nveths: [" + "a, " * (n // 3) + "a]\n")
elif kind == "keys":  # n bytes
    w("name: big\nnodes: {" + "a: , " * (n // 5) + "a: }\n")
elif kind in ("grid-on", "grid-off"):  # an n x n grid of bridges, each wired to 2 neighbours
    stp = kind[5:]
    w("name: grid\nbridges:\n")
    for r in range(n):
        w("".join("  b%dx%d: {stp: %s}\n" % (r, c, stp) for c in range(n)))
    w("veths:\n")
    for r in range(n):
        for c in range(n):
            if c + 1 < n:
                w("  - h%dx%da: {master: b%dx%d}\n    h%dx%db: {master: b%dx%d}\n"
                  % (r, c, r, c, r, c, r, c + 1))
            if r + 1 < n:
                w("  - v%dx%da: {master: b%dx%d}\n    v%dx%db: {master: b%dx%d}\n"
                  % (r, c, r, c, r, c, r + 1, c))
PY
}

# run FILE: "seconds max-RSS-KB exit" of one vnet validate
run() {
	python3 - "$VNET" "$1" <<'PY'
import resource, subprocess, sys, time

t0 = time.monotonic()
rc = subprocess.run([sys.argv[1], "validate", sys.argv[2]], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode
t = time.monotonic() - t0
print("%.2f %d %d" % (t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc))
PY
}

printf '%-32s %9s %9s %11s %5s\n' file "size MB" seconds "peak MB" exit
for spec in "nodes $N" "veths $N" "list 16000000" "keys 16000000" "grid-on 50" "grid-off 50"; do
	set -- $spec
	f=$dir/$1.yaml
	gen "$1" "$2" >"$f"
	read -r secs rss rc < <(run "$f")
	printf '%-32s %9.1f %9s %11.0f %5s\n' "$1 ($2)" "$(awk -v b="$(stat -c %s "$f")" 'BEGIN{print b/1e6}')" \
		"$secs" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$rc"
done
echo "goal: linear in the file (100k nodes in about a second), memory a small multiple of it;"
echo "exit 2: the file is refused (the repeated names; the grid's loops without STP), as it must be."
