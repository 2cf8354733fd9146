#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tunnel.sh - vnet tunnel (issue 13): TCP throughput of one stream and the rate of small UDP
# packets through `vnet tunnel`, beside a kernel VXLAN made by iproute2 over the same
# underlay (the anchor) and the bare underlay itself, in the same run. (The issue's goal:
# the tunnel's median at >= 75% of kernel VXLAN's; this machine drifts by 2x between runs,
# hence the interleaved rounds, the medians and the ranges.)
#
# Two "host" namespaces P-a and P-b (P = vbtn<pid>), joined by a veth pair (eth0 in each,
# 192.168.60.1/24 and .2, MTU 1500): the underlay. Over it, all at once, from host a to b:
#   (a) bare veth: the underlay's own addresses;
#   (b) kernel VXLAN (the anchor): in each host `vx0 type vxlan id 42 local A remote B
#       dstport 4789`, MTU 1450, 10.42.0.1/24 and .2 on it;
#   (c) vnet tunnel: `vnet tunnel tun0 --peer B` in each host (L3, port 4790, offload on,
#       the default), 10.9.0.1/30 and .2 added once the device is there;
#   (d) vnet tunnel --no-offload: the same as tun1, port 4791, 10.9.1.1/30 and .2.
# The four stay up for the whole run (the idle ones poll every 100 ms).
#
# 1. Throughput: `iperf3 -c ADDR -C cubic -t BENCH_TUNNEL_SECONDS` (default 10), one stream,
#    from a to b, the receiver's rate; BENCH_TUNNEL_ROUNDS rounds (default 3), the four
#    cases taking turns in each round, each after a wait for a quiet machine (settle).
#    Median and range of each; the tunnel's median over VXLAN's (and the same ratio round by
#    round) against the 75% goal. The tunnels' own counters (SIGUSR1, --json) over these
#    rounds give the packets read and written, and the datagrams that carried them.
# 2. Small packets: bench/udpflood.c (compiled here with cc -O2) sends UDP datagrams of
#    BENCH_TUNNEL_PAYLOAD bytes of payload (default 64) with sendmmsg in batches of 64 for
#    BENCH_TUNNEL_FLOOD_SECONDS (default 5) from a to b, where a sink counts them with
#    recvmmsg; through (b) VXLAN and (c) the tunnel, and (a) the bare veth for reference,
#    the same rounds taking turns. Median (range) of kpps received at the sink, and sent.
#    Where the rest went: the sink's own socket drops (SO_RXQ_OVFL), UDP receive-buffer
#    errors in b (the sink's and, for (c), the tunnel's socket), TX drops of a's vx0/tun0,
#    and the tunnels' counters.
#
# Everything lives in namespaces P-*, removed on exit even on failure or TERM, after every
# process started here (tunnels, iperf3 servers and clients, udpflood) is stopped. Nothing
# touches the root namespace's links, addresses, routes or firewall; all traffic stays in
# the namespaces. Nothing is asserted about the figures: it is a report (the exit status
# says only whether everything ran).
# Output: a markdown table on stdout; progress and problems on stderr.
# Needs root, iproute2, iperf3, jq, ss, cc. Env: VNET_BIN (default build/vnet),
# BENCH_TUNNEL_ROUNDS, BENCH_TUNNEL_SECONDS, BENCH_TUNNEL_FLOOD_SECONDS, BENCH_TUNNEL_PAYLOAD,
# BENCH_TUNNEL_ONLY=throughput|small (one part only).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
# (shellcheck -x follows it; plain shellcheck need not)
# shellcheck source-path=SCRIPTDIR disable=SC1091
. "$here/lib.sh"
VNET=${VNET_BIN:-$here/../build/vnet}
ROUNDS=${BENCH_TUNNEL_ROUNDS:-3}
SECS=${BENCH_TUNNEL_SECONDS:-10}
FSECS=${BENCH_TUNNEL_FLOOD_SECONDS:-5}
PAYLOAD=${BENCH_TUNNEL_PAYLOAD:-64}
ONLY=${BENCH_TUNNEL_ONLY:-}

say() { printf 'tunnel.sh: %s\n' "$*" >&2; }
die() {
	say "FAILED: $*"
	[ -s "${log:-/dev/null}" ] && tail -n 20 "$log" | sed 's/^/    /' >&2
	exit 1
}

case "$ROUNDS$SECS$FSECS$PAYLOAD" in '' | *[!0-9]*) die "BENCH_TUNNEL_ROUNDS, _SECONDS, _FLOOD_SECONDS and _PAYLOAD are numbers" ;; esac
if [ "$ROUNDS" -lt 1 ] || [ "$SECS" -lt 1 ] || [ "$FSECS" -lt 1 ] || [ "$PAYLOAD" -lt 1 ] || [ "$PAYLOAD" -gt 1400 ]; then
	die "BENCH_TUNNEL_PAYLOAD is 1..1400, the others at least 1"
fi
case $ONLY in '' | throughput | small) ;; *) die "BENCH_TUNNEL_ONLY is throughput or small" ;; esac
[ "$(id -u)" = 0 ] || die "needs root"
for c in ip iperf3 jq ss; do command -v "$c" >/dev/null || die "needs $c"; done

# ---- the run's names, scratch dir and cleanup ----

P=vbtn$$
A=$P-a
B=$P-b
work=$(mktemp -d /tmp/vnet-bench-tunnel.XXXXXX) || exit 1
log=$work/log
: >"$log"
pids=()  # what runs for the whole run: tunnels, iperf3 servers
cur=     # what runs now: an iperf3 client, a udpflood
sinkpid= # the udpflood sink
declare -A TPID # tunnel key (tun-a, tun-b, tunno-a, tunno-b) -> its pid

ours() { ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 {print $1}'; }

# stop PID...: TERM each, wait for it (the tunnels print their counters and go in ~100 ms);
# KILL what is still there after 2 s
stop() {
	local p i
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

cleanup() {
	local rc=$? n
	trap - EXIT INT TERM HUP
	# shellcheck disable=SC2086 # blank-separated pids, maybe none
	stop $cur $sinkpid "${pids[@]}"
	n=$(ours | wc -l)
	if [ "$n" -gt 0 ]; then
		ours | while read -r ns; do ip netns del "$ns" 2>/dev/null; done
		wait_freed "$n" # leave the machine quiet for whatever runs next
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# fg CMD...: CMD in the background, waited for (so that TERM is taken at once, and the
# cleanup stops CMD); its status
fg() {
	local r
	"$@" &
	cur=$!
	wait "$cur"
	r=$?
	cur=
	return "$r"
}

# quiet: settle (lib.sh), counting the times it gave up (the machine stayed busy 5 s)
WAITS=0 BUSY=0
quiet() {
	local s
	s=$(now_us)
	settle
	WAITS=$((WAITS + 1))
	[ $(($(now_us) - s)) -lt 5000000 ] || BUSY=$((BUSY + 1))
}

# ---- vnet and udpflood: there? ----

vnet_on=0 vnet_why=
if [ ! -x "$VNET" ]; then
	vnet_why="no vnet at $VNET"
else
	vnet_desc="$(realpath "$VNET"), $(date -r "$VNET" '+%F %T') (tree $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo '?'))"
	if "$VNET" tunnel tun0 2>&1 | grep -q 'unknown command'; then
		vnet_why="this vnet has no tunnel command"
	else
		vnet_on=1
	fi
fi
[ "$vnet_on" = 1 ] || say "$vnet_why: the tunnel's figures are -"

flood_on=0 flood_why=
if [ "$ONLY" != throughput ]; then
	if ! command -v cc >/dev/null; then
		flood_why="no cc to build bench/udpflood.c"
	elif ! cc -O2 -Wall -o "$work/udpflood" "$here/udpflood.c" 2>>"$log"; then
		flood_why="bench/udpflood.c does not build ($(grep -m 1 error "$log"))"
	else
		flood_on=1
	fi
	[ "$flood_on" = 1 ] || say "$flood_why: no small-packet figures"
fi

# ---- the hosts, the underlay and the four cases ----

mkns() {
	ip netns add "$1" || die "ip netns add $1"
	ip -n "$1" link set lo up || die "lo up in $1"
}
# ping_ok NS ADDR: NS reaches ADDR (3 tries)
ping_ok() {
	local i
	for i in 1 2 3; do
		ip netns exec "$1" ping -n -q -c 1 -W 2 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}
# link_json NS DEV: `ip -d -s -j link show DEV` as one object
link_json() { ip -n "$1" -d -s -j link show "$2" 2>/dev/null | jq -c '.[0] // {}'; }

declare -A R # R[case,what]: figures and failures
status=0
t_start=$(now_us)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

say "building the hosts $A and $B, the underlay and the cases"
mkns "$A"
mkns "$B"
{
	ip -n "$A" link add eth0 mtu 1500 type veth peer name eth0 mtu 1500 netns "$B" &&
		ip -n "$A" addr add 192.168.60.1/24 dev eth0 &&
		ip -n "$B" addr add 192.168.60.2/24 dev eth0 &&
		ip -n "$A" link set eth0 up &&
		ip -n "$B" link set eth0 up
} 2>>"$log" || die "the underlay"
ping_ok "$A" 192.168.60.2 || die "the underlay: no ping from a to b"
cases=(veth vxlan)

# (b) kernel VXLAN
for x in "$A 1 2" "$B 2 1"; do
	read -r ns me peer <<<"$x"
	{
		ip -n "$ns" link add vx0 type vxlan id 42 local "192.168.60.$me" remote "192.168.60.$peer" dstport 4789 &&
			ip -n "$ns" link set vx0 mtu 1450 up &&
			ip -n "$ns" addr add "10.42.0.$me/24" dev vx0
	} 2>>"$log" || die "the kernel VXLAN in $ns"
done
ping_ok "$A" 10.42.0.2 || die "kernel VXLAN: no ping from a to b"

# tunnel KEY NS DEV PORT PEER ADDR [OPTION...]: `vnet tunnel DEV` in NS to PEER:PORT (from
# :PORT), counters as JSON lines in WORK/KEY.json; ADDR on DEV once it is up
tunnel() {
	local k=$1 ns=$2 dev=$3 port=$4 peer=$5 addr=$6 i
	shift 6
	ip netns exec "$ns" "$VNET" tunnel "$dev" --peer "$peer:$port" --local ":$port" --json "$@" \
		>"$work/$k.json" 2>>"$log" &
	TPID[$k]=$!
	pids+=("$!")
	for ((i = 0; i < 250; i++)); do
		kill -0 "${TPID[$k]}" 2>/dev/null || { say "vnet tunnel $dev in $ns stopped: $(tail -n 1 "$log")"; return 1; }
		if [ "$(ip -n "$ns" -j link show "$dev" 2>/dev/null | jq -r '.[0].flags // [] | index("UP") != null')" = true ]; then
			ip -n "$ns" addr add "$addr" dev "$dev" 2>>"$log" || { say "cannot add $addr to $dev in $ns"; return 1; }
			return 0
		fi
		sleep 0.02
	done
	say "vnet tunnel $dev in $ns: no device up after 5 s"
	return 1
}

# snap KEY: the tunnel KEY's counters now (SIGUSR1: one more JSON line)
snap() {
	local k=$1 f=$work/$1.json n i
	n=$(wc -l <"$f")
	kill -USR1 "${TPID[$k]}" 2>/dev/null || return 1
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$f")" -gt "$n" ] && { tail -n 1 "$f"; return 0; }
		sleep 0.02
	done
	return 1
}

if [ "$vnet_on" = 1 ]; then
	# (c) offload on, (d) --no-offload
	for x in "tun tun0 4790 10.9.0" "tunno tun1 4791 10.9.1 --no-offload"; do
		read -r k dev port net opt <<<"$x"
		# shellcheck disable=SC2086 # $opt: an option or none
		if tunnel "$k-a" "$A" "$dev" "$port" 192.168.60.2 "$net.1/30" $opt &&
			tunnel "$k-b" "$B" "$dev" "$port" 192.168.60.1 "$net.2/30" $opt &&
			ping_ok "$A" "$net.2"; then
			cases+=("$k")
			R[$k,dev]=$dev
			R[$k,info]=$(snap "$k-a" | jq -r '"MTU \(.mtu), offload \(.offload)\(if .note then " (\(.note))" else "" end)"')
		else
			say "vnet tunnel ${opt:-(offload)}: not working${opt:+ }; its figures are fail"
			R[$k,fail]=1 status=1
		fi
	done
fi
R[veth,mtu]=$(link_json "$A" eth0 | jq -r '.mtu')
R[vxlan,mtu]=$(link_json "$A" vx0 | jq -r '.mtu')

has() { case " ${cases[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
addr_of() { # CASE: b's address in it
	case $1 in veth) echo 192.168.60.2 ;; vxlan) echo 10.42.0.2 ;; tun) echo 10.9.0.2 ;; tunno) echo 10.9.1.2 ;; esac
}
alive() { # CASE: its tunnels still run (always, for the others)
	case $1 in tun | tunno) kill -0 "${TPID[$1-a]}" 2>/dev/null && kill -0 "${TPID[$1-b]}" 2>/dev/null ;; esac
}

# counters KEY...: the tunnels' JSON counters now, one object by key
counters() {
	local k
	for k in "$@"; do
		if [ -n "${TPID[$k]:-}" ]; then snap "$k" | jq -c --arg k "$k" '{($k): .}'; fi
	done | jq -sc 'add // {}'
}

# ==== 1. throughput ====

declare -A BPS RETR RATIO

# serve CASE PORT: an iperf3 server in b on the case's address, until the cleanup
serve() {
	local i
	ip netns exec "$B" iperf3 -s -B "$(addr_of "$1")" -p "$2" >>"$log" 2>&1 &
	pids+=("$!")
	for ((i = 0; i < 250; i++)); do
		[ -n "$(ip netns exec "$B" ss -Hltn "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.02
	done
	die "the iperf3 server for $1 does not listen after 5 s"
}

# stream CASE PORT: one iperf3 run from a; appends bits/s and retransmits to the case's
# lists (LAST: the bits/s), "fail" on failure
LAST=
stream() {
	local c=$1 v
	alive "$c" || { say "  $c: a tunnel has stopped"; R[$c,fail]=1 status=1; return 1; }
	quiet
	if fg ip netns exec "$A" iperf3 -c "$(addr_of "$c")" -p "$2" -C cubic -t "$SECS" -J >"$work/iperf.json" 2>>"$log" &&
		v=$(jq -r '[(.end.sum_received.bits_per_second | floor), (.end.sum_sent.retransmits // 0)] | @tsv' "$work/iperf.json" 2>>"$log") &&
		[ -n "$v" ]; then
		BPS[$c]+="${v%%$'\t'*} " RETR[$c]+="${v#*$'\t'} "
		say "  $c: $(awk -v b="${v%%$'\t'*}" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, ${v#*$'\t'} retransmits"
		LAST=${v%%$'\t'*}
	else
		say "  $c: iperf3 failed: $(jq -r '.error // empty' "$work/iperf.json" 2>/dev/null | head -n 1)"
		R[$c,fail]=1 status=1
		return 1
	fi
}

throughput() {
	local r c i port x v vb
	i=0
	for c in "${cases[@]}"; do
		serve "$c" $((5201 + i))
		i=$((i + 1))
	done
	x=$(counters tun-a tun-b tunno-a tunno-b)
	for ((r = 1; r <= ROUNDS; r++)); do
		say "throughput: round $r/$ROUNDS (${#cases[@]} cases, $SECS s each)"
		i=0 vb=
		for c in "${cases[@]}"; do
			port=$((5201 + i))
			i=$((i + 1))
			stream "$c" "$port" || continue
			v=$LAST
			[ "$c" = vxlan ] && vb=$v
			case $c in tun | tunno) [ -n "$vb" ] && RATIO[$c]+="$(awk -v a="$v" -v b="$vb" 'BEGIN {printf "%.2f", a / b}') " ;; esac
		done
	done
	# the tunnels' counters over the rounds: a sent the data, b the acknowledgements
	R[tcp,counters]=$(jq -nc --argjson a "$x" --argjson b "$(counters tun-a tun-b tunno-a tunno-b)" '
		$b | with_entries(.key as $k | .value |= {
			sent: (.sent.packets - $a[$k].sent.packets), sent_bytes: (.sent.bytes - $a[$k].sent.bytes),
			sent_dg: (.sent.datagrams - $a[$k].sent.datagrams),
			received: (.received.packets - $a[$k].received.packets),
			received_dg: (.received.datagrams - $a[$k].received.datagrams),
			lost: ((.sent.errors + .received.errors + ([.dropped[]] | add))
				- ($a[$k].sent.errors + $a[$k].received.errors + ([$a[$k].dropped[]] | add)))})')
}

# ==== 2. small packets ====

declare -A SENT RECV
# udp_stat NS FIELD: the Udp FIELD of /proc/net/snmp in NS
udp_stat() {
	# shellcheck disable=SC2016 # an awk program, not the shell's
	ip netns exec "$1" awk -v f="$2" '$1 == "Udp:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else print $col[f] }' /proc/net/snmp
}
# tx_dropped DEV: a's DEV's TX drops
tx_dropped() { link_json "$A" "$1" | jq -r '.stats64.tx.dropped // 0'; }

# small CASE DEV: one flood from a to b through the case (DEV: a's device in it)
small() {
	local c=$1 dev=$2 i s r e0 e1 d0 d1 x sn st rn rd
	alive "$c" || { say "  $c: a tunnel has stopped"; R[small-$c,fail]=1 status=1; return 1; }
	quiet
	ip netns exec "$B" "$work/udpflood" sink 9000 $((FSECS + 30)) >"$work/sink.out" 2>>"$log" &
	sinkpid=$!
	for ((i = 0; i < 250; i++)); do
		[ -n "$(ip netns exec "$B" ss -Hlun 'sport = :9000' 2>/dev/null)" ] && break
		sleep 0.02
	done
	e0=$(udp_stat "$B" RcvbufErrors) d0=$(tx_dropped "$dev")
	[ "$c" = tun ] && x=$(counters tun-a tun-b)
	fg ip netns exec "$A" "$work/udpflood" send "$(addr_of "$c")" 9000 "$FSECS" "$PAYLOAD" >"$work/send.out" 2>>"$log"
	sleep 0.5 # what is still on its way
	stop "$sinkpid"
	sinkpid=
	s=$(sed -n 's/^send: datagrams=\([0-9]*\) .* seconds=\([0-9.]*\) .*/\1 \2/p' "$work/send.out")
	r=$(sed -n 's/^sink: datagrams=\([0-9]*\) .* drops=\([0-9]*\)$/\1 \2/p' "$work/sink.out")
	if [ -z "$s" ] || [ -z "$r" ]; then
		say "  $c: udpflood failed: $(tail -n 1 "$log")"
		R[small-$c,fail]=1 status=1
		return 1
	fi
	read -r sn st <<<"$s"
	read -r rn rd <<<"$r"
	e1=$(udp_stat "$B" RcvbufErrors) d1=$(tx_dropped "$dev")
	SENT[$c]+="$(awk -v n="$sn" -v t="$st" 'BEGIN {printf "%d", n / t}') "
	RECV[$c]+="$(awk -v n="$rn" -v t="$st" 'BEGIN {printf "%d", n / t}') "
	R[$c,sunk]=$((${R[$c,sunk]:-0} + rn)) R[$c,sent]=$((${R[$c,sent]:-0} + sn))
	R[$c,sinkdrop]=$((${R[$c,sinkdrop]:-0} + rd))
	R[$c,rcvbuf]=$((${R[$c,rcvbuf]:-0} + e1 - e0)) R[$c,txdrop]=$((${R[$c,txdrop]:-0} + d1 - d0))
	if [ "$c" = tun ]; then
		x=$(jq -nr --argjson a "$x" --argjson b "$(counters tun-a tun-b)" '
			"\($b["tun-a"].sent.packets - $a["tun-a"].sent.packets) \($b["tun-b"].received.packets - $a["tun-b"].received.packets)"')
		R[tun,tsent]=$((${R[tun,tsent]:-0} + ${x% *})) R[tun,trecv]=$((${R[tun,trecv]:-0} + ${x#* }))
	fi
	say "  $c: sent $(awk -v n="$sn" -v t="$st" 'BEGIN {printf "%.0f", n / t / 1e3}') kpps, received $(awk -v n="$rn" -v t="$st" 'BEGIN {printf "%.0f", n / t / 1e3}') kpps"
}

small_packets() {
	local r c
	for ((r = 1; r <= ROUNDS; r++)); do
		say "small packets: round $r/$ROUNDS ($PAYLOAD-byte payloads, $FSECS s each)"
		for c in veth vxlan tun; do
			has "$c" || continue
			case $c in veth) small veth eth0 ;; vxlan) small vxlan vx0 ;; tun) small tun tun0 ;; esac
		done
	done
}

[ "$ONLY" = small ] || throughput
[ "$ONLY" = throughput ] || [ "$flood_on" != 1 ] || small_packets
t_total=$(($(now_us) - t_start))

# ==== the table ====

# spread LIST DIV UNIT DIGITS: "18.20 Gbit/s (17.90-18.60)": the median and range of LIST/DIV
spread() {
	# shellcheck disable=SC2086 # the list is blank-separated numbers
	printf '%s\n' $1 | sort -n | awk -v d="$2" -v u="$3" -v p="$4" '{x[NR] = $1 / d} END {
		if (!NR) { print "-"; exit }
		m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
		f = "%." p "f"
		printf f " %s", m, u
		if (NR > 1) printf " (" f "-" f ")", x[1], x[NR] }'
}
csv() { # LIST: "a, b, c", or "-"
	# shellcheck disable=SC2086
	if [ -n "$1" ]; then printf '%s\n' $1 | paste -sd, | sed 's/,/, /g'; else echo -; fi
}
med() { # LIST: the median, or empty
	# shellcheck disable=SC2086
	[ -n "$1" ] && median $1
}
ratio() { # A B: A / B as "0.93x", "-" unless both are figures
	case "$1" in '' | *[!0-9]*) echo -; return ;; esac
	case "$2" in '' | *[!0-9]* | 0) echo -; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'
}
cell() { # LIST FAILKEY DIV UNIT DIGITS
	if [ -n "$1" ]; then
		spread "$1" "$3" "$4" "$5"
	elif [ "${R[$2,fail]:-}" = 1 ]; then echo fail; else echo -; fi
}
goal() { # CASE: the median ratio to VXLAN against the goal
	local m b
	m=$(med "${BPS[$1]:-}") b=$(med "${BPS[vxlan]:-}")
	if [ -z "$m" ] || [ -z "$b" ]; then
		echo ">= 0.75x"
		return
	fi
	if [ $((m * 100)) -ge $((b * 75)) ]; then echo ">= 0.75x: reached"; else echo ">= 0.75x: not reached"; fi
}
row() { printf '| %s | %s | %s | %s |\n' "$@"; }
name() { # CASE
	case $1 in veth) echo "bare veth (the underlay)" ;; vxlan) echo "kernel VXLAN (anchor)" ;;
	tun) echo "vnet tunnel (offload)" ;; tunno) echo "vnet tunnel --no-offload" ;; esac
}

echo "### vnet tunnel beside kernel VXLAN: TCP throughput and small packets (bench/tunnel.sh)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'); kernel $(uname -r); $(nproc) CPUs; $(iperf3 --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2); load average before: $load0"
echo
row measure "median (range)" "/ kernel VXLAN" "goal, note"
row --- ---: ---: ---
if [ "$ONLY" != small ]; then
	for c in veth vxlan tun tunno; do
		g=
		[ "$c" = tun ] && g=$(goal tun)
		row "TCP, 1 stream, cubic, ${SECS} s: $(name "$c")" "$(cell "${BPS[$c]:-}" "$c" 1e9 Gbit/s 2)" "$(ratio "$(med "${BPS[$c]:-}")" "$(med "${BPS[vxlan]:-}")")" "$g"
	done
fi
if [ "$ONLY" != throughput ]; then
	for c in veth vxlan tun; do
		row "UDP, ${PAYLOAD}-byte payloads, ${FSECS} s, received at the sink: $(name "$c")" "$(cell "${RECV[$c]:-}" "small-$c" 1e3 kpps 0)" "$(ratio "$(med "${RECV[$c]:-}")" "$(med "${RECV[vxlan]:-}")")" "sent $(cell "${SENT[$c]:-}" "small-$c" 1e3 kpps 0)"
	done
fi
echo
if [ "$ONLY" != small ]; then
	echo "Throughput: \`iperf3 -C cubic -t $SECS\`, one stream from host a to host b, the receiver's rate;"
	echo "median (range) of $ROUNDS rounds, the cases taking turns. Underlay:"
	echo "one veth pair between the two host namespaces, MTU ${R[veth,mtu]:--}; kernel VXLAN MTU ${R[vxlan,mtu]:--}; vnet tunnel:"
	echo "${R[tun,info]:--}; --no-offload: ${R[tunno,info]:--}."
	echo "Tunnel / VXLAN round by round: offload $(csv "${RATIO[tun]:-}"); --no-offload $(csv "${RATIO[tunno]:-}")."
	echo "Median retransmits per run: veth $(med "${RETR[veth]:-}"), VXLAN $(med "${RETR[vxlan]:-}"), tunnel $(med "${RETR[tun]:-}"), --no-offload $(med "${RETR[tunno]:-}")."
	if [ -n "${R[tcp,counters]:-}" ]; then
		jq -r 'def avg: if .sent > 0 then "\(.sent_bytes / .sent | floor) B" else "-" end;
			def one($k; $what): if has($k + "-a") then
				"\($what): a read \(.[$k + "-a"].sent) packets of \(.[$k + "-a"] | avg) on average from its device and sent them in \(.[$k + "-a"].sent_dg) datagrams; b received \(.[$k + "-b"].received_dg) and wrote \(.[$k + "-b"].received) packets; b sent \(.[$k + "-b"].sent) of \(.[$k + "-b"] | avg) (the acknowledgements) in \(.[$k + "-b"].sent_dg); dropped or refused: \(.[$k + "-a"].lost + .[$k + "-b"].lost)"
				else empty end;
			"The tunnels'"'"' own counters over these rounds (packets with their IP header): " +
			([one("tun"; "offload"), one("tunno"; "--no-offload")] | join("; ")) + "."' <<<"${R[tcp,counters]}" | fold -s -w 100 | sed 's/ *$//'
	fi
fi
if [ "$ONLY" != throughput ] && [ "$flood_on" = 1 ]; then
	echo "Small packets: bench/udpflood.c, $PAYLOAD bytes of UDP payload a datagram ($((PAYLOAD + 28))-byte IP packets), sendmmsg"
	echo "in batches of 64 as fast as they go for $FSECS s from a to a recvmmsg sink in b (8 MB receive buffer);"
	echo "kpps over the sender's time, median (range) of $ROUNDS rounds. Lost, over all rounds:"
	for c in veth vxlan tun; do
		has "$c" || continue
		[ -n "${R[$c,sent]:-}" ] || continue
		printf '%s: %s of %s sent (%s%%): %s dropped at the sink'"'"'s socket, %s UDP receive-buffer errors in b, %s TX drops at a'"'"'s %s' \
			"$(name "$c")" $((${R[$c,sent]} - ${R[$c,sunk]})) "${R[$c,sent]}" \
			"$(awk -v l=$((${R[$c,sent]} - ${R[$c,sunk]})) -v s="${R[$c,sent]}" 'BEGIN {printf "%.1f", s ? 100 * l / s : 0}')" \
			"${R[$c,sinkdrop]}" "${R[$c,rcvbuf]}" "${R[$c,txdrop]}" "$(case $c in veth) echo eth0 ;; vxlan) echo vx0 ;; tun) echo tun0 ;; esac)"
		[ "$c" = tun ] && printf '; the tunnel at a read and sent %s, the one at b wrote %s to its tun0' "${R[tun,tsent]:-?}" "${R[tun,trecv]:-?}"
		echo "."
	done | fold -s -w 100 | sed 's/ *$//'
elif [ "$ONLY" != throughput ]; then
	echo "Small packets: not measured ($flood_why)."
fi
if [ "$vnet_on" = 1 ]; then
	echo "vnet: $vnet_desc."
else
	echo "vnet: not measured ($vnet_why)."
fi
echo "Each run began after waiting (up to 5 s) for the CPUs to be 75% idle for 200 ms; $BUSY of $WAITS waits"
echo "gave up (the machine stayed busy)."
echo "Run time: $(ms "$t_total"); load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
[ "$status" = 0 ]
