#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stp.sh - STP convergence of the seed's triangle (examples/stp-loop.yaml): vnet's default
# timers (the kernel's minimums) beside the kernel's own defaults, built by vnet and by an
# iproute2 script that polls `bridge -j link` the same way. Prints a small table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
VNET=${VNET_BIN:-$here/../build/vnet}
T=vbstp$$ A=vbsta$$
bench_init stp "$T" "$T.k" "$A"
now() { echo "${EPOCHREALTIME/./}"; }

# vnet up waits for convergence itself and reports it in its JSON
vnet_converge() { # NAME FILE -> microseconds from the start of `vnet up` to converged
	local t0 t1
	t0=$(now)
	"$VNET" up "$2" --sandbox --name "$1" --json >/dev/null
	t1=$(now)
	"$VNET" down "$1" >/dev/null
	echo $((t1 - t0))
}

# the same triangle with kernel defaults, by iproute2, polled every 100 ms
ip_converge() {
	local h=$A-host t0 t1
	t0=$(now)
	ip netns add "$h"
	ip netns add "$A-pc1"
	ip netns add "$A-pc2"
	ip -n "$h" link set lo up
	for b in sw1 sw2 sw3; do
		ip -n "$h" link add "$b" type bridge stp_state 1
	done
	for e in "s1-s2 sw1 s2-s1 sw2" "s2-s3 sw2 s3-s2 sw3" "s3-s1 sw3 s1-s3 sw1"; do
		set -- $e
		ip -n "$h" link add "$1" type veth peer name "$3"
		ip -n "$h" link set "$1" master "$2" up
		ip -n "$h" link set "$3" master "$4" up
	done
	for p in 1 2; do
		ip -n "$h" link add "sw$p-pc$p" type veth peer name eth0 netns "$A-pc$p"
		ip -n "$h" link set "sw$p-pc$p" master "sw$p" up
		ip -n "$A-pc$p" addr add "10.0.0.$p/24" dev eth0
		ip -n "$A-pc$p" link set eth0 up
	done
	for b in sw1 sw2 sw3; do ip -n "$h" link set "$b" up; done
	until bridge -n "$h" -j link | jq -e 'length == 8 and
		([.[] | select(.state | test("listening|learning|disabled"))] | length == 0)' >/dev/null; do
		sleep 0.1
	done
	t1=$(now)
	for ns in "$h" "$A-pc1" "$A-pc2"; do ip netns del "$ns"; done
	echo $((t1 - t0))
}

kdef=$work/stp-kernel-defaults.yaml
sed -e 's/{stp: on}/{stp: on, forward_delay: 15, hello_time: 2, max_age: 20}/' \
	"$here/../examples/stp-loop.yaml" >"$kdef"
grep -q forward_delay "$kdef" || { echo "stp.sh: could not derive the kernel-defaults file" >&2; exit 1; }

fast=$(vnet_converge "$T" "$here/../examples/stp-loop.yaml")
slow=$(vnet_converge "$T.k" "$kdef")
anchor=$(ip_converge)
echo "STP convergence of the seed's triangle (3 bridges in a loop, 2 hosts), up to converged:"
printf '  %-48s %8s\n' "vnet, default timers (fd 2 s, hello 1 s, age 6 s)" "$(ms "$fast")"
printf '  %-48s %8s\n' "vnet, kernel default timers (fd 15, hello 2, age 20)" "$(ms "$slow")"
printf '  %-48s %8s\n' "iproute2 script, kernel default timers" "$(ms "$anchor")"
