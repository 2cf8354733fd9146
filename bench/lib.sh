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

# ---- clocks, and a quiet machine before each timed command ----

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# timed CMD... : run CMD (stdout to $work/out, stderr to $log); T = wall time in us.
T=0
timed() {
	local s e
	s=${EPOCHREALTIME/./}
	"$@" >"$work/out" 2>>"$log" || return 1
	e=${EPOCHREALTIME/./}
	T=$((e - s))
}


# ---- the kernel frees namespaces asynchronously (cleanup_net in the netns workqueue) ----
# `ip netns del` and `vnet down` only detach the mount; the namespace and its devices go
# later, in a kworker, under the rtnl lock, and slow whatever runs next a lot (a no-op
# `vnet up` of 1000 nodes takes 3x longer during it). So after every teardown we wait
# until (a) no kworker is running netns work ("+netns" in its name, see wq_worker_comm)
# for 100 ms and (b) the net_namespace slab has shrunk by half our namespaces (COUNT >= 50
# only: the slab counts are approximate and other users of the machine move them).

slab_ns() { awk '$1 == "net_namespace" {print $2; exit}' /proc/slabinfo 2>/dev/null; }
netns_work() { grep -s -l -F '+netns' /proc/[0-9]*/comm >/dev/null; }

# wait_freed COUNT BEFORE: COUNT namespaces were deleted; BEFORE = the slab count while they
# still existed. Sets F = us from now until the kernel was seen done (the quiet 100 ms not
# counted).
F=0
wait_freed() {
	local n=$1 before=${2:-} s t c quiet=0 last
	s=$(now_us)
	last=$s
	while :; do
		t=$(now_us)
		if netns_work; then
			quiet=0 last=$t
		elif [ "$n" -ge 50 ] && [ -n "$before" ] && c=$(slab_ns) && [ -n "$c" ] &&
			[ "$c" -gt $((before - n / 2)) ]; then
			quiet=0 last=$t
		else
			quiet=$((quiet + 1))
			[ "$quiet" -ge 5 ] && break
		fi
		if [ $((t - s)) -gt 30000000 ]; then
			say "the kernel still frees namespaces after 30 s; going on"
			break
		fi
		sleep 0.02
	done
	F=$((last - s))
}

# settle: before each timed command, wait (at most 5 s) for a 200 ms stretch with the CPUs
# at least 75% idle. After an `up` the kernel goes on working for a while (IPv6 DAD and MLD
# packets flooded to every bridge port, from kworkers and softirqs); without this the
# no-op `up` of 1000 nodes measures that work, not vnet (~0.85 s instead of ~0.3 s).
cpu_ticks() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6; exit}' /proc/stat; }
settle() {
	local s t0 i0 t1 i1
	s=$(now_us)
	while [ $(($(now_us) - s)) -lt 5000000 ]; do
		read -r t0 i0 < <(cpu_ticks)
		sleep 0.2
		read -r t1 i1 < <(cpu_ticks)
		[ $((t1 - t0)) -gt 0 ] && [ $(((i1 - i0) * 100 / (t1 - t0))) -ge 75 ] && return 0
	done
	say "the machine stays busy; timing anyway"
}
