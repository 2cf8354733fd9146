#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tunnel.sh - vnet tunnel: a tun or tap device joined to a peer over UDP, between two "hosts".
#
#  +-------- host a ($PFX-a) ---------+          +-------- host b ($PFX-b) ---------+
#  | node a ($PFX-na) 10.10.0.1/24    |          |    node b ($PFX-nb) 10.10.0.2/24 |
#  |   eth0 -- vn -- br0 -- tap0      |          |     tap0 -- br0 -- vn -- eth0    |
#  |   tun0 10.9.0.1/30  (vnet tunnel)|          |(vnet tunnel)  tun0 10.9.0.2/30   |
#  |            eth0 192.168.61.1/24 ===== veth ===== eth0 192.168.61.2/24          |
#  +----------------------------------+          +----------------------------------+
#
# Proves: a layer-3 tunnel (tun0) carries pings both ways and 256 MB of TCP intact, with
# offload (large packets cut into segments of the MTU, sent with UDP_SEGMENT, no IP fragment
# on the underlay, put back together at the other end) and without (one packet of the MTU
# each); its MTU is the path's less 46. A layer-2 tunnel (tap0, MTU 1440) in a bridge on each host joins
# the nodes behind them. Datagrams that are short, of another version, with reserved bits,
# unknown flags, another id, a truncated packet, another mode, or from another sender are
# each counted in their own counter and never reach the device (its rx counter: what the
# tunnel writes the kernel receives), while a valid hand-made one does, and its answer comes
# back; a tunnel without offload takes a virtio_net_hdr that asks nothing, finishes the
# checksum one asks for, and refuses one asking for segmentation (mismatch). Two queues: a
# file and a thread each, 256 MB intact; a device made without multi_queue keeps one, and
# the tunnel says so. Bad usage exits 2, a port or device in use exits 3; SIGTERM stops a
# tunnel at once with exit 0 and its counters; nothing is left.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init tn
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun/tap driver missing)"
for c in nc python3 sha256sum; do
	command -v "$c" >/dev/null || skip "needs $c"
done

A=$PFX-a B=$PFX-b NA=$PFX-na NB=$PFX-nb
own_ns "$A"
own_ns "$B"
# No IPv6 on the hosts: its router solicitations and MLD reports on tun0 would be packets the
# tunnels carry too, and the counters checked below must be exactly what the test sent.
for ns in "$A" "$B"; do
	nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$A" link add eth0 type veth peer name eth0 netns "$B"
ip -n "$A" addr add 192.168.61.1/24 dev eth0
ip -n "$B" addr add 192.168.61.2/24 dev eth0
ip -n "$A" link set eth0 up
ip -n "$B" link set eth0 up

declare -A TPID # tunnel name -> pid of its vnet tunnel

# forget_pid PID: it exited (waited for): off the list cleanup kills (the number may be reused).
forget_pid() {
	local p keep=()
	for p in "${KT_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	KT_PIDS=("${keep[@]}")
}

# tunnel_start NAME NS ARGS...: `vnet tunnel ARGS... --json` in NS in the background, its
# output (a line of counters at each print) in $KT_TMP/NAME.log; waits until its UDP port
# (--local's, else 4790) is bound.
tunnel_start() {
	local name=$1 ns=$2 port=4790 a
	shift 2
	for a in "$@"; do
		[[ $a == :[0-9]* ]] && port=${a#:}
	done
	ip netns exec "$ns" "$VNET" tunnel "$@" --json >"$KT_TMP/$name.log" 2>&1 &
	TPID[$name]=$!
	bg_pid $!
	wait_until 10 listening "$ns" "$port" u ||
		{ cat "$KT_TMP/$name.log"; fail "tunnel $name did not bind port $port in $ns"; }
}

# lines LOG: the counters lines printed so far.
lines() { grep -c '^{' "$1" || true; }
more_lines() { [ "$(lines "$1")" -gt "$2" ]; }

# tstats NAME: SIGUSR1 to the tunnel; the counters line it prints (it keeps running).
tstats() {
	local log=$KT_TMP/$1.log n
	n=$(lines "$log")
	kill -USR1 "${TPID[$1]}"
	wait_until 5 more_lines "$log" "$n" ||
		{ cat "$log" >&2; fail "tunnel $1: no counters on SIGUSR1"; }
	grep '^{' "$log" | tail -n 1
}

# clean STATS: nothing lost or dropped on the way (the underlay is a veth: nothing to excuse it).
clean() {
	jq -e '[.sent.errors, .received.errors, .dropped[]] | add == 0' <<<"$1" >/dev/null
}

# tunnel_stop NAME: SIGTERM; it must exit 0 within a second and print its counters last.
# STATS: that line.
tunnel_stop() {
	local name=$1 pid=${TPID[$1]} rc=0 t0 ms
	t0=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	forget_pid "$pid"
	[ "$rc" = 0 ] || { cat "$KT_TMP/$name.log"; fail "tunnel $name: exit $rc on SIGTERM"; }
	[ "$ms" -lt 1000 ] || fail "tunnel $name took $ms ms to stop on SIGTERM"
	STATS=$(tail -n 1 "$KT_TMP/$name.log")
	jq -e '.device and .sent.packets >= 0 and .received.packets >= 0' <<<"$STATS" >/dev/null ||
		{ cat "$KT_TMP/$name.log"; fail "tunnel $name: its last line is not its counters"; }
	echo "ok - tunnel $name stopped on SIGTERM in $ms ms, exit 0, counters last: $STATS"
}

has_link() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
# dev_rx NS DEV / dev_tx NS DEV: the device's packet counters, as the kernel counts them.
dev_rx() { ip -n "$1" -s -j link show dev "$2" | jq -r '.[0].stats64.rx.packets'; }
dev_tx() { ip -n "$1" -s -j link show dev "$2" | jq -r '.[0].stats64.tx.packets'; }

# ============================ 1. layer 3: tun0 ============================
# l3_pair OPTS...: a tun0 tunnel on each host (OPTS added), their addresses, the pings.
l3_pair() {
	tunnel_start ta "$A" tun0 --peer 192.168.61.2 "$@"
	tunnel_start tb "$B" tun0 --peer 192.168.61.1 "$@"
	wait_until 10 has_link "$A" tun0 || fail "the tunnel made no tun0 in host a"
	wait_until 10 has_link "$B" tun0 || fail "the tunnel made no tun0 in host b"
	ip -n "$A" addr add 10.9.0.1/30 dev tun0
	ip -n "$B" addr add 10.9.0.2/30 dev tun0
	expect_eq "tun0 in host a: kind, type, state" "$(lget "$A" tun0 \
		'"\(.linkinfo.info_kind) \(.linkinfo.info_data.type) \(.operstate)"')" \
		"tun tun UNKNOWN"
	expect_eq "tun0's MTU in host a (the path's 1500 less 46)" "$(lget "$A" tun0 .mtu)" 1454
	expect_eq "tun0's MTU in host b" "$(lget "$B" tun0 .mtu)" 1454
	nsx "$A" ping -c 2 -W 2 10.9.0.2 >/dev/null || fail "host a cannot ping 10.9.0.2"
	echo "ok - host a pings 10.9.0.2 through the tunnel"
	nsx "$B" ping -c 2 -W 2 10.9.0.1 >/dev/null || fail "host b cannot ping 10.9.0.1"
	echo "ok - host b pings 10.9.0.1 through the tunnel"
	# the largest packet the MTU allows, not fragmented
	nsx "$A" ping -c 1 -W 2 -M "do" -s $((1454 - 28)) 10.9.0.2 >/dev/null ||
		fail "a ping of 1454 bytes (don't fragment) does not cross the tunnel"
	echo "ok - a ping of 1454 bytes (the MTU, don't fragment) crosses the tunnel"
}

DATA=$KT_TMP/data
head -c 268435456 /dev/urandom >"$DATA"
SUM=$(sha256sum <"$DATA" | cut -d' ' -f1)

# tcp_copy WHAT [FROM TO ADDR]: the 256 MB from namespace FROM (host a) to TO's ADDR:5001
# (host b's 10.9.0.2) through the tunnel with nc; what TO's nc wrote must have the same sha256.
tcp_copy() {
	local got=$KT_TMP/got rpid rc=0 t0 ms from=${2:-$A} to=${3:-$B} addr=${4:-10.9.0.2}
	ip netns exec "$to" timeout 60 nc -4 -n -l "$addr" 5001 </dev/null >"$got" 2>"$got.err" &
	rpid=$!
	bg_pid $rpid
	wait_until 10 listening "$to" 5001 t || fail "$1: nc does not listen in $to"
	t0=$(date +%s%N)
	nsx "$from" timeout 60 nc -4 -n -N "$addr" 5001 <"$DATA" >/dev/null ||
		fail "$1: nc in $from could not send the data"
	wait "$rpid" || rc=$?
	forget_pid "$rpid"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" = 0 ] || { cat "$got.err"; fail "$1: the receiving nc exited $rc"; }
	expect_eq "$1: sha256 of the 256 MB received (in $ms ms)" \
		"$(sha256sum <"$got" | cut -d' ' -f1)" "$SUM"
	rm -f "$got"
}

# reasm NS: the IP datagrams NS's kernel was given in fragments to put together
# shellcheck disable=SC2016 # (awk's fields)
reasm() { nsx "$1" awk '$1 == "Ip:" { if (k) { print $k; exit } for (i = 2; i <= NF; i++) if ($i == "ReasmReqds") k = i }' /proc/net/snmp; }

# ---- with offload: large TCP packets cut into segments, and put back together ----
l3_pair
reasm0=$(reasm "$B")
tcp_copy "TCP through tun0 with offload"
expect_eq "IP fragments host b put together (the segments are datagrams of the MTU)" \
	"$(reasm "$B")" "$reasm0"
tunnel_stop tb
clean "$STATS" || fail "host b's tunnel dropped or could not write packets: $STATS"
expect_eq "host b's tunnel with offload: offload, segments sent and received together, note" \
	"$(jq -c '[.offload, .gso, .gro, .note]' <<<"$STATS")" '[true,true,true,null]'
avg=$(jq '.received.bytes / .received.packets | floor' <<<"$STATS")
[ "$avg" -gt 2000 ] || fail "with offload, host b wrote $avg bytes a packet on average"
per=$(jq '.received.datagrams / .received.packets | floor' <<<"$STATS")
[ "$per" -ge 2 ] || fail "with offload, host b put $per datagrams into a packet on average"
echo "ok - with offload, host b put segments back into large packets: $avg bytes, $per datagrams each on average (MTU 1454)"
tunnel_stop ta
clean "$STATS" || fail "host a's tunnel dropped or could not send packets: $STATS"
per=$(jq '.sent.datagrams / .sent.packets | floor' <<<"$STATS")
[ "$per" -ge 2 ] || fail "with offload, host a cut a packet into $per datagrams on average"
echo "ok - with offload, host a cut the large packets into $per datagrams each on average"
echo "ok - with offload, neither tunnel dropped, failed to send or failed to write a packet"
for ns in "$A" "$B"; do
	has_link "$ns" tun0 && fail "tun0 is still in $ns after its tunnel stopped"
done
echo "ok - both tun0 went with their tunnels"

# ---- without offload: one packet of the MTU a datagram ----
l3_pair --no-offload
tcp_copy "TCP through tun0 without offload"
tunnel_stop tb
clean "$STATS" || fail "host b's tunnel dropped or could not write packets: $STATS"
expect_eq "host b's tunnel with --no-offload: offload" "$(jq -c .offload <<<"$STATS")" false
avg=$(jq '.received.bytes / .received.packets | floor' <<<"$STATS")
[ "$avg" -le 1454 ] || fail "without offload, host b received $avg bytes a packet on average"
echo "ok - without offload, packets of at most the MTU: $avg bytes on average"
tunnel_stop ta
clean "$STATS" || fail "host a's tunnel dropped or could not send packets: $STATS"
echo "ok - without offload, neither tunnel dropped, failed to send or failed to write a packet"

# ---- two queues: a file and a thread each; 256 MB intact, flows spread over both ----
# queues_of NAME: how many files of the tunnel's process are attached to a tun or tap
queues_of() { grep -l '^iff:' /proc/"${TPID[$1]}"/fdinfo/* 2>/dev/null | wc -l; }
l3_pair --queues 2
expect_eq "host a's tunnel with --queues 2: files attached to tun0" "$(queues_of ta)" 2
tcp_copy "TCP through tun0 with two queues"
tunnel_stop tb
clean "$STATS" || fail "host b's tunnel with two queues dropped or could not write: $STATS"
expect_eq "host b's tunnel with --queues 2: queues, note" "$(jq -c '[.queues, .note]' <<<"$STATS")" \
	'[2,null]'
tunnel_stop ta
clean "$STATS" || fail "host a's tunnel with two queues dropped or could not send: $STATS"
# a device made by hand without multi_queue has one queue, and the tunnel says so
ip -n "$A" tuntap add dev tun3 mode tun
tunnel_start one "$A" tun3 --peer 192.168.61.2:4793 --local :4793 --queues 2
expect_eq "a tunnel asked for 2 queues on a device without multi_queue: files attached" \
	"$(queues_of one)" 1
tunnel_stop one
expect_eq "its queues, note" "$(jq -c '[.queues, .note]' <<<"$STATS")" \
	'[1,"one queue: the device was made without multi_queue"]'
ip -n "$A" link del tun3

# ============================ 2. layer 2: tap0 in a bridge ============================
own_ns "$NA"
own_ns "$NB"
i=0
for h in "$A" "$B"; do
	i=$((i + 1))
	n=$NA
	[ "$h" = "$B" ] && n=$NB
	ip -n "$h" link add br0 type bridge
	ip -n "$h" link set br0 up
	ip -n "$h" link add vn type veth peer name eth0 netns "$n"
	ip -n "$h" link set vn master br0 up
	ip -n "$n" addr add "10.10.0.$i/24" dev eth0
	# The tap carries frames of at most 1440 bytes (its MTU: the path's 1500 less the outer IP,
	# UDP, the tunnel's header, the virtio_net_hdr and the frame's Ethernet header). The bridge
	# drops a frame larger than the port it leaves by, so a node sending 1500-byte packets would
	# see its large packets (TCP's full segments) vanish: its MTU must be the tap's.
	ip -n "$n" link set eth0 mtu 1440 up
done
tunnel_start tapa "$A" tap0 --tap --peer 192.168.61.2
tunnel_start tapb "$B" tap0 --tap --peer 192.168.61.1
for h in "$A" "$B"; do
	wait_until 10 has_link "$h" tap0 || fail "the tunnel made no tap0 in $h"
	ip -n "$h" link set tap0 master br0
	expect_eq "tap0 in $h: kind, type" "$(lget "$h" tap0 \
		'"\(.linkinfo.info_kind) \(.linkinfo.info_data.type)"')" "tun tap"
	expect_eq "tap0's MTU in $h (the path's 1500 less 60)" "$(lget "$h" tap0 .mtu)" 1440
done
wait_until 10 settled "$A" "$B" || fail "the bridges' ports did not reach forwarding"
nsx "$NA" ping -c 2 -W 2 10.10.0.2 >/dev/null || fail "node a cannot ping node b over tap0"
echo "ok - node a (10.10.0.1) pings node b (10.10.0.2) across the bridges and the tap tunnel"
nsx "$NA" ping -c 1 -W 2 -M "do" -s $((1440 - 28)) 10.10.0.2 >/dev/null ||
	fail "a ping of 1440 bytes (don't fragment) from node a does not reach node b"
echo "ok - a ping of 1440 bytes (the nodes' MTU, don't fragment) reaches node b"
# the bridge hands the tap the nodes' large TCP frames: cut and put back with an Ethernet header
tcp_copy "TCP from node a to node b over tap0" "$NA" "$NB" 10.10.0.2
rm -f "$DATA"
tunnel_stop tapb
expect_eq "host b's tap tunnel: tap, mtu" "$(jq -c '[.tap, .mtu]' <<<"$STATS")" '[true,1440]'
clean "$STATS" || fail "host b's tap tunnel dropped or could not write frames: $STATS"
per=$(jq '.received.datagrams / .received.packets | floor' <<<"$STATS")
[ "$per" -ge 2 ] || fail "host b's tap tunnel put $per datagrams into a frame on average"
echo "ok - host b's tap tunnel put segments back into large frames: $per datagrams each on average"
tunnel_stop tapa
clean "$STATS" || fail "host a's tap tunnel dropped or could not send frames: $STATS"
for h in "$A" "$B"; do
	has_link "$h" tap0 && fail "tap0 is still in $h after its tunnel stopped"
done
echo "ok - both tap0 went with their tunnels (out of br0)"

# ============================ 3. an adversary on the underlay ============================
# Host b's tun0 tunnel, and no tunnel in host a: a sender there makes the datagrams by hand,
# from the peer's own address and port 4790 (the tunnel takes only those) and from port 4791.
# Usage: adv.py PORT:KIND[:reply]...: each datagram KIND sent from 192.168.61.1:PORT to host
# b's tunnel (port 4792's on 4792, the others' on 4790); with ":reply" (an echo request to a
# tunnel from its peer), the echo reply that comes back through the tunnel is printed.
cat >"$KT_TMP/adv.py" <<'EOF'
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ipv4(src, dst, payload, proto=1, total=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), 0x1234, 0, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def echo(net, partial=False):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7654, 1) + b"vnettest"
    if not partial:  # else the checksum left for the receiver to finish (ICMP's starts at 0)
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ipv4(net + ".1", net + ".2", icmp)

def tcp(net):
    seg = struct.pack("!HHIIBBHHH", 40000, 5001, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
    return ipv4(net + ".1", net + ".2", seg + b"x" * 2000, proto=6)

def hdr(version=1, flags=0, reserved=0, id=1):
    return struct.pack("!BBHI", version, flags, reserved, id)

def vnethdr(flags=0, gso=0, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, start, off)

def datagram(kind, net):
    return {
        "short": lambda: b"\x01\x00\x00",
        "version2": lambda: hdr(version=2) + echo(net),
        "reserved": lambda: hdr(reserved=1) + echo(net),
        "flag": lambda: hdr(flags=0x04) + echo(net),
        # a virtio_net_hdr asking for an unknown segmentation (gso_type 0x55)
        "vnethdr": lambda: hdr(flags=0x01) + vnethdr(gso=0x55, gso_size=1400) + echo(net),
        "id7": lambda: hdr(id=7) + echo(net),
        # an IPv4 header saying 100 bytes, 30 there
        "truncated": lambda: hdr() + ipv4(net + ".1", net + ".2", b"\0" * 10, total=100),
        "tap": lambda: hdr(flags=0x02) + b"\xff" * 6 + b"\x02\0\0\0\0\1" + b"\x08\0" + echo(net),
        "valid": lambda: hdr() + echo(net),
        # a virtio_net_hdr that asks nothing, and one asking to finish the ICMP checksum
        "zerohdr": lambda: hdr(flags=0x01) + vnethdr() + echo(net),
        "csum": lambda: hdr(flags=0x01) + vnethdr(flags=1, start=20, off=2) + echo(net),
        "csum0": lambda: hdr(flags=0x01) + vnethdr(flags=1, start=20, off=2) + echo(net, True),
        # 2000 bytes of TCP to be cut into segments of 1000
        "gso": lambda: hdr(flags=0x01) + vnethdr(flags=1, gso=1, hdr_len=40, gso_size=1000,
                                                 start=20, off=16) + tcp(net),
    }[kind]()

sock = {}
for port in (4790, 4791, 4792):
    sock[port] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock[port].bind(("192.168.61.1", port))
    sock[port].settimeout(5)
for arg in sys.argv[1:]:
    port, kind, *reply = arg.split(":")
    port = int(port)
    net = "10.9.1" if port == 4792 else "10.9.0"
    sock[port].sendto(datagram(kind, net), ("192.168.61.2", 4792 if port == 4792 else 4790))
    if reply:
        # the tunnel's answer: host b's echo reply, back through the tunnel to its peer
        while True:
            d, frm = sock[port].recvfrom(70000)
            v, fl, res, tid = struct.unpack("!BBHI", d[:8])
            p = d[8 + (10 if fl & 1 else 0):]
            if (v, res, tid, fl & 2) == (1, 0, 1, 0) and p[9] == 1 and p[20] == 0:
                print("echo reply from %s in a datagram from %s:%d, flags 0x%02x" %
                      (socket.inet_ntoa(p[12:16]), frm[0], frm[1], fl))
                break
EOF
tunnel_start adv "$B" tun0 --peer 192.168.61.1
wait_until 10 has_link "$B" tun0 || fail "the tunnel made no tun0 in host b"
ip -n "$B" addr add 10.9.0.2/30 dev tun0
s0=$(tstats adv)
rx0=$(dev_rx "$B" tun0) tx0=$(dev_tx "$B" tun0)
bad=(4790:short 4790:version2 4790:reserved 4790:flag 4790:vnethdr 4790:truncated 4790:id7
	4790:tap 4791:valid)
nsx "$A" python3 "$KT_TMP/adv.py" "${bad[@]}" || fail "the adversary could not send"
dropped() { tstats adv | jq -e "[.dropped[]] | add == ${#bad[@]}"; }
wait_until 5 dropped || fail "the tunnel did not count the ${#bad[@]} datagrams: $(tstats adv)"
s1=$(tstats adv)
expect_eq "malformed (short, version 2, reserved, flag 0x04, bad virtio_net_hdr, truncated)" \
	"$(jq .dropped.malformed <<<"$s1")" 6
expect_eq "other_id (id 7)" "$(jq .dropped.other_id <<<"$s1")" 1
expect_eq "mismatch (a tap frame to a tun tunnel)" "$(jq .dropped.mismatch <<<"$s1")" 1
expect_eq "other_peer (a valid datagram from port 4791)" "$(jq .dropped.other_peer <<<"$s1")" 1
expect_eq "received, and not written, after them" \
	"$(jq -c '[.received.packets, .received.errors]' <<<"$s1")" \
	"$(jq -c '[.received.packets, .received.errors]' <<<"$s0")"
expect_eq "tun0's rx packets in host b (nothing written to it)" "$(dev_rx "$B" tun0)" "$rx0"
out=$(nsx "$A" python3 "$KT_TMP/adv.py" 4790:valid:reply) ||
	fail "no echo reply to the valid datagram"
# (flags 0x01: with offload, the reply travels with its virtio_net_hdr)
expect_eq "the answer to a valid hand-made echo request" "$out" \
	"echo reply from 10.9.0.2 in a datagram from 192.168.61.2:4790, flags 0x01"
s2=$(tstats adv)
expect_eq "received packets after the valid datagram" "$(jq .received.packets <<<"$s2")" \
	$(($(jq .received.packets <<<"$s1") + 1))
expect_eq "sent packets after it (the reply)" "$(jq .sent.packets <<<"$s2")" \
	$(($(jq .sent.packets <<<"$s1") + 1))
# what the tunnel writes into tun0 the kernel receives: tun0's rx; what it reads is tun0's tx
expect_eq "tun0's rx packets in host b (the one written)" "$(dev_rx "$B" tun0)" $((rx0 + 1))
expect_eq "tun0's tx packets in host b (the reply read)" "$(dev_tx "$B" tun0)" $((tx0 + 1))
out=$(nsx "$A" python3 "$KT_TMP/adv.py" 4790:csum:reply) ||
	fail "no echo reply to a checksum-partial one"
expect_eq "the answer to an echo request whose virtio_net_hdr asks to finish its checksum" \
	"$out" "echo reply from 10.9.0.2 in a datagram from 192.168.61.2:4790, flags 0x01"

# A tunnel without offload (tun2, port 4792): a virtio_net_hdr asking nothing is dropped and
# the packet written; the checksum one asks for is finished (the echo request comes with
# none, and the kernel answers only a right one); one asking for segmentation is the other
# end's offload: a mismatch.
tunnel_start noff "$B" tun2 --peer 192.168.61.1:4792 --local :4792 --no-offload
wait_until 10 has_link "$B" tun2 || fail "the tunnel made no tun2 in host b"
ip -n "$B" addr add 10.9.1.2/30 dev tun2
rx0=$(dev_rx "$B" tun2)
out=$(nsx "$A" python3 "$KT_TMP/adv.py" 4792:zerohdr:reply) ||
	fail "no echo reply from the tunnel without offload"
expect_eq "without offload: the answer to an echo request with an all-zero virtio_net_hdr" \
	"$out" "echo reply from 10.9.1.2 in a datagram from 192.168.61.2:4792, flags 0x00"
out=$(nsx "$A" python3 "$KT_TMP/adv.py" 4792:csum0:reply) ||
	fail "no echo reply from the tunnel without offload to one asking for its checksum"
expect_eq "without offload: the answer to an echo request whose checksum it finished" \
	"$out" "echo reply from 10.9.1.2 in a datagram from 192.168.61.2:4792, flags 0x00"
nsx "$A" python3 "$KT_TMP/adv.py" 4792:gso 4792:vnethdr >/dev/null ||
	fail "the adversary could not send"
noff_dropped() { tstats noff | jq -e '[.dropped[]] | add == 2'; }
wait_until 5 noff_dropped || fail "the tunnel without offload did not count 2: $(tstats noff)"
expect_eq "without offload: received, mismatch (segmentation asked), malformed" \
	"$(tstats noff | jq -c '[.received.packets, .dropped.mismatch, .dropped.malformed]')" \
	"[2,1,1]"
expect_eq "tun2's rx packets in host b (the two written)" "$(dev_rx "$B" tun2)" $((rx0 + 2))
tunnel_stop noff

# ============================ 4. bad usage ============================
expect_rc 2 nsx "$B" "$VNET" tunnel tun9
grep -q -- --peer <<<"$OUT" || fail "no --peer: the message does not name --peer"
expect_rc 2 nsx "$B" "$VNET" tunnel tun9 --peer garbage
expect_rc 2 nsx "$B" "$VNET" tunnel tun9 --peer 192.168.61.1:99999
expect_rc 2 nsx "$B" "$VNET" tunnel tun9 --peer 192.168.61.1 --id abc
expect_rc 2 nsx "$B" "$VNET" tunnel tun9 --peer 192.168.61.1 --mtu 20
has_link "$B" tun9 && fail "a refused tunnel made tun9"
# host b's tunnel still runs on port 4790: a second one there cannot bind it
expect_rc 3 nsx "$B" "$VNET" tunnel tun1 --peer 192.168.61.1
grep -qi "address already in use" <<<"$OUT" || fail "port in use: the message does not say so"
has_link "$B" tun1 && fail "the tunnel that could not start left tun1"
echo "ok - a second tunnel on the port in use: exit 3, no tun1 left"
# nor attach to its device
expect_rc 3 nsx "$B" "$VNET" tunnel tun0 --peer 192.168.61.1 --local :4799
grep -q "tun0" <<<"$OUT" || fail "device in use: the message does not name tun0"
nsx "$A" python3 "$KT_TMP/adv.py" 4790:valid:reply >/dev/null ||
	fail "host b's tunnel no longer answers after the refused ones"
echo "ok - host b's tunnel still answers after the refused ones"
tunnel_stop adv

# ============================ 5. nothing left ============================
for ns in "$A" "$B"; do
	expect_eq "links left in $ns" \
		"$(ip -n "$ns" -j link | jq -r '[.[].ifname] | sort | join(" ")')" "br0 eth0 lo vn"
	expect_eq "processes left in $ns" "$(ip netns pids "$ns" | tr '\n' ' ')" ""
done
for p in "${TPID[@]}"; do
	kill -0 "$p" 2>/dev/null && fail "tunnel process $p still runs"
done
echo "ok - no tunnel process left"
