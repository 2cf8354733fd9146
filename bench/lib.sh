# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - what the benchmarks share: statistics over microseconds, and their printing.
# shellcheck shell=bash

# median US...: the median of whole numbers (the mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -n |
		awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'
}

# minimum US...: the smallest.
minimum() { printf '%s\n' "$@" | sort -n | head -n 1; }

# ms US: "123.4 ms", or "1.23 s" from a second up.
ms() {
	awk -v u="$1" 'BEGIN { if (u >= 1000000) printf "%.2f s", u / 1e6; else printf "%.1f ms", u / 1e3 }'
}

# bench_init NAME TOPOLOGY...: a private work dir ($work) and state store for this run; on
# exit, even a failed or interrupted one, `vnet down` of every TOPOLOGY, then any namespace
# still named after one (TOPOLOGY-*: the anchors' too), then the work dir. Needs $VNET.
bench_init() {
	local name=$1
	shift
	BENCH_TOPOS=("$@")
	work=$(mktemp -d "/tmp/vnet-bench-$name.XXXXXX") || exit 1
	export VNET_STATE_DIR=$work/state
	mkdir -p "$VNET_STATE_DIR"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

bench_cleanup() {
	local rc=$? t ns
	trap - EXIT INT TERM HUP
	for t in "${BENCH_TOPOS[@]}"; do
		"$VNET" down "$t" >/dev/null 2>&1 || true
		for ns in $(ls /run/netns 2>/dev/null | grep -E "^$t-"); do
			ip netns del "$ns" 2>/dev/null || true
		done
	done
	rm -rf "$work"
	exit "$rc"
}
