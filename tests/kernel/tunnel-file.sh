#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tunnel-file.sh - tunnels declared in the topology file: vnet up runs `vnet tunnel` on each
# tun, in its node's namespace; diff sees one that does not run; down stops them.
#
#  +------- node a ($PFX-a) -------+            +------- node b ($PFX-b) -------+
#  | tun0 10.72.0.1/30 (tunnel) ---+-- UDP 4790 --+--- tun0 10.72.0.2/30 (tunnel) |
#  | eth0 192.168.72.1/24 ======== veth (the underlay) ======= eth0 192.168.72.2/24 |
#  +-------------------------------+            +-------------------------------+
#
# Proves: up runs one tunnel a tun, in the tun's namespace, attached to it (carrier, vnet_hdr
# for its offload) and bound to its port, and says so with its pid; a ping and TCP go through;
# diff matches and a second up changes nothing (the same pids). A tunnel killed is drift that
# diff names and up starts again; a tunnel the file changes (its id) is stopped and run anew,
# one it no longer has is stopped. A stranger holding the port of a new tunnel makes up fail
# with the tunnel's own words, and the change is undone: the new tun is gone, the old tunnels
# still run. Its records deleted or corrupted, up records the tunnels that run instead of
# running two; a tunnel it did not start on a tun of the file is refused and left alone.
# vnet up killed at random moments leaves no orphan tunnel, and the next up one
# tunnel a tun. down stops every tunnel and leaves neither process, record nor namespace.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init tf
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun/tap driver missing)"
command -v python3 >/dev/null || skip "needs python3"

T=$PFX A=$PFX-a B=$PFX-b
REC=$VNET_STATE_DIR/tunnels/$T

# topo ID [EXTRA]: the file, the tunnels' id ID, EXTRA appended to its tuns
topo() {
	cat <<EOF
nodes:
  a: {}
  b: {}
veths:
  - a/eth0: {addresses: 192.168.72.1/24}
    b/eth0: {addresses: 192.168.72.2/24}
tuns:
  a/tun0:
    addresses: 10.72.0.1/30
    tunnel: {peer: 192.168.72.2, id: $1}
  b/tun0:
    addresses: 10.72.0.2/30
    tunnel: {peer: 192.168.72.1, id: $1}
${2:-}
EOF
}
# the first: examples/tunnel.yaml, which is topo 7
cp examples/tunnel.yaml "$KT_TMP/t.yaml"
expect_eq "examples/tunnel.yaml is the test's file of id 7" \
	"$(grep -v '^#' examples/tunnel.yaml)" "$(topo 7 | sed '/^$/d')"

# pid_of NODE: the pid of the node's tunnel, from vnet's record
pid_of() { head -n 1 "$REC/tun0@$T-$1" | cut -d' ' -f1; }
# alive PID: the process runs (a zombie waiting for init to reap it does not)
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'; }
runs() { alive "$1" && [ "$(ip netns identify "$1" 2>/dev/null)" = "$2" ]; }
carrier() { lget "$1" tun0 '.flags | index("LOWER_UP") != null' | grep -qx true; }
pings() { nsx "$A" ping -c 1 -W 2 10.72.0.2 >/dev/null; }

# ---- up runs both tunnels ----
track "$T"
out=$("$VNET" up "$KT_TMP/t.yaml" --name "$T") || fail "vnet up failed: $out"
echo "$out"
for n in a b; do
	grep -q "^  + run tunnel tun0 in $T-$n to 192.168.72.[12]:4790 (pid [0-9]*)$" <<<"$out" ||
		fail "up does not say it runs node $n's tunnel"
done
PA=$(pid_of a) PB=$(pid_of b)
runs "$PA" "$A" || fail "node a's tunnel (pid $PA) does not run in $A"
runs "$PB" "$B" || fail "node b's tunnel (pid $PB) does not run in $B"
echo "ok - up ran node a's tunnel (pid $PA) in $A and node b's (pid $PB) in $B"
expect_eq "node a's tunnel: its command line" "$(tr '\0' ' ' <"/proc/$PA/cmdline")" \
	"vnet tunnel tun0 --peer 192.168.72.2:4790 --local 0.0.0.0:4790 --id 7 --queues 1 "
for ns in "$A" "$B"; do
	carrier "$ns" || fail "tun0 in $ns has no carrier: nothing attached"
	expect_eq "tun0 in $ns: vnet_hdr (the tunnel's offload), MTU (the path's less 46)" \
		"$(lget "$ns" tun0 '"\(.linkinfo.info_data.vnet_hdr) \(.mtu)"')" "true 1454"
	listening "$ns" 4790 u || fail "nothing listens on UDP port 4790 in $ns"
done
pings || fail "node a cannot ping 10.72.0.2 through the tunnel"
echo "ok - node a pings node b through the tunnel"
show=$("$VNET" show "$T")
grep -qx "  tun0 in $A to 192.168.72.2:4790: runs (pid $PA)" <<<"$show" ||
	{ echo "$show"; fail "vnet show does not list node a's tunnel as running"; }
echo "ok - vnet show lists the tunnels, and that they run"
tcp_server "$B" 5001 "$KT_TMP/tcp.out"
tcp_reaches "TCP from node a to node b through the tunnel" "$A" 10.72.0.2 5001 "$KT_TMP/tcp.out"

# ---- nothing to do twice ----
expect_rc 0 "$VNET" diff "$KT_TMP/t.yaml" --name "$T"
expect_rc 0 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
grep -q "up to date, nothing to change" <<<"$OUT" || fail "a second up did something"
expect_eq "the tunnels' pids after a second up" "$(pid_of a) $(pid_of b)" "$PA $PB"

# ---- a tunnel killed: drift, and up runs it again ----
kill -9 "$PB"
dead() { ! alive "$1"; }
wait_until 5 dead "$PB" || fail "node b's tunnel did not die"
grep -qx "  tun0 in $B to 192.168.72.1:4790: does not run (pid $PB)" <<<"$("$VNET" show "$T")" ||
	fail "vnet show does not say node b's tunnel does not run"
expect_rc 1 "$VNET" diff "$KT_TMP/t.yaml" --name "$T"
grep -q "^  + run tunnel tun0 in $B to 192.168.72.1:4790$" <<<"$OUT" ||
	fail "diff does not name the tunnel that does not run"
expect_rc 0 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
grep -q "up to date but for its tunnels" <<<"$OUT" || fail "up does not say it ran a tunnel"
grep -q "stop" <<<"$OUT" && fail "up says it stopped a tunnel that did not run"
NB=$(pid_of b)
[ "$NB" != "$PB" ] || fail "node b's tunnel was not run again (its pid is the old one)"
runs "$NB" "$B" || fail "node b's tunnel was not run again"
expect_eq "node a's tunnel after up (untouched)" "$(pid_of a)" "$PA"
wait_until 5 pings || fail "no ping through the tunnel run again"
echo "ok - the killed tunnel runs again (pid $NB) and carries pings"

# ---- the records lost (deleted, then corrupted): the tunnels that run are recorded again ----
rm -rf "$REC"
expect_rc 1 "$VNET" diff "$KT_TMP/t.yaml" --name "$T"
for n in a b; do
	grep -q "^  ~ record tunnel tun0 in $T-$n to .* (pid [0-9]*): it runs without its record$" \
		<<<"$OUT" || fail "diff does not say node $n's tunnel runs without its record"
done
expect_rc 0 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
expect_eq "the tunnels after up with their records deleted" "$(pid_of a) $(pid_of b)" "$PA $NB"
echo garbage >"$REC/tun0@$B"
expect_rc 0 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
grep -q "^  ~ record tunnel tun0 in $B" <<<"$OUT" || fail "up did not record node b's tunnel again"
expect_eq "the tunnels after up with a record corrupted" "$(pid_of a) $(pid_of b)" "$PA $NB"
expect_rc 0 "$VNET" diff "$KT_TMP/t.yaml" --name "$T"
echo "ok - records deleted or corrupted: up records the tunnels that run, and runs no second one"

# ---- a stranger's process holds a tun of the file: refused, and left alone ----
kill "$NB"
wait_until 5 dead "$NB" || fail "node b's tunnel did not stop"
ip netns exec "$B" "$VNET" tunnel tun0 --peer 192.168.72.1 >"$KT_TMP/hand" 2>&1 &
HAND=$!
bg_pid $HAND
wait_until 5 carrier "$B" || fail "the hand-run tunnel did not attach to tun0 in $B"
expect_rc 1 "$VNET" diff "$KT_TMP/t.yaml" --name "$T"
grep -q "held by process $HAND" <<<"$OUT" || fail "diff does not name the process that holds tun0"
expect_rc 3 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
grep -q "tun0 is held by process $HAND (.*), which vnet did not start" <<<"$OUT" ||
	fail "up does not say who holds tun0"
alive "$HAND" || fail "up stopped the hand-run tunnel"
kill "$HAND"
wait "$HAND" || true
expect_rc 0 "$VNET" up "$KT_TMP/t.yaml" --name "$T"
NB=$(pid_of b)
wait_until 5 pings || fail "no ping once node b's tunnel runs again"
echo "ok - a hand-run tunnel on a tun of the file: up refused it and left it running"

# ---- the file changes the tunnels (id 8): stopped and run anew ----
topo 8 >"$KT_TMP/t8.yaml"
expect_rc 1 "$VNET" diff "$KT_TMP/t8.yaml" --name "$T"
expect_rc 0 "$VNET" up "$KT_TMP/t8.yaml" --name "$T"
for n in a b; do
	grep -q "^  - stop tunnel tun0 in $T-$n$" <<<"$OUT" || fail "up did not stop node $n's old tunnel"
done
runs "$PA" "$A" && fail "node a's old tunnel (pid $PA) still runs"
PA=$(pid_of a) PB=$(pid_of b)
expect_eq "node a's tunnel's id" "$(tr '\0' ' ' <"/proc/$PA/cmdline" | grep -o -- '--id [0-9]*')" \
	"--id 8"
wait_until 5 pings || fail "no ping through the tunnels of id 8"
echo "ok - a changed id: both tunnels stopped and run anew, pings pass"

# ---- a stranger holds the port of a new tunnel: up fails, and undoes its change ----
nsx "$A" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 4791))
print("bound", flush=True)
time.sleep(60)' >"$KT_TMP/stranger" 2>&1 &
STRANGER=$!
bg_pid $STRANGER
wait_until 5 grep -q bound "$KT_TMP/stranger" || fail "the stranger could not bind port 4791"
topo 8 "  a/tun1:
    addresses: 10.72.1.1/30
    tunnel: {peer: 192.168.72.2, port: 4791}" >"$KT_TMP/t9.yaml"
expect_rc 3 "$VNET" up "$KT_TMP/t9.yaml" --name "$T"
grep -q "tunnel tun1 in $A to 192.168.72.2:4791: start: vnet tunnel exited: .*Address already in use" \
	<<<"$OUT" || fail "the error does not name the tunnel and why it could not start"
grep -q "undid" <<<"$OUT" || fail "the error does not say the change was undone"
ip -n "$A" link show tun1 >/dev/null 2>&1 && fail "tun1 is left in $A after the failed up"
[ -e "$REC/tun1@$A" ] || [ -e "$REC/tun1@$A.log" ] && fail "a record of tun1 is left"
expect_eq "the tunnels after the failed up" "$(pid_of a) $(pid_of b)" "$PA $PB"
runs "$PA" "$A" || fail "node a's tunnel stopped with the failed up"
runs "$PB" "$B" || fail "node b's tunnel stopped with the failed up"
expect_rc 0 "$VNET" diff "$KT_TMP/t8.yaml" --name "$T"
echo "ok - a port held by a stranger: up failed, said why, and undid it all"

# ---- a tunnel the file no longer has is stopped ----
sed '/^  b\/tun0:/,$d' "$KT_TMP/t8.yaml" >"$KT_TMP/ta.yaml"
printf '  b/tun0: {addresses: 10.72.0.2/30}\n' >>"$KT_TMP/ta.yaml"
expect_rc 0 "$VNET" up "$KT_TMP/ta.yaml" --name "$T"
grep -q "^  - stop tunnel tun0 in $B$" <<<"$OUT" || fail "up did not stop node b's tunnel"
runs "$PB" "$B" && fail "node b's tunnel still runs"
[ -e "$REC/tun0@$B" ] && fail "node b's tunnel's record is left"
expect_rc 0 "$VNET" up "$KT_TMP/t8.yaml" --name "$T"
PB=$(pid_of b)

# ---- vnet killed at random moments while it runs tunnels: never two of one, never an orphan ----
# (down first: every up below makes the network and runs both tunnels anew)
tunnels_in() { ip netns pids "$1" 2>/dev/null | while read -r p; do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^vnet tunnel ' && echo "$p"; done | wc -l; }
for i in 1 2 3 4 5; do
	"$VNET" down "$T" >/dev/null || fail "down before kill $i failed"
	"$VNET" up "$KT_TMP/t8.yaml" --name "$T" >/dev/null 2>&1 &
	up=$!
	sleep "0.0$((RANDOM % 8))"
	kill -9 "$up" 2>/dev/null || true
	wait "$up" 2>/dev/null || true
	expect_rc 0 "$VNET" up "$KT_TMP/t8.yaml" --name "$T"
	for ns in "$A" "$B"; do
		expect_eq "kill $i: tunnels in $ns after the next up" "$(tunnels_in "$ns")" 1
	done
	wait_until 5 pings || fail "kill $i: no ping through the tunnels after the next up"
done
echo "ok - vnet up killed 5 times at random: the next up leaves one tunnel a tun, and pings pass"
PA=$(pid_of a) PB=$(pid_of b)

# ---- down stops them all ----
stop_servers
expect_rc 0 "$VNET" down "$T"
for n in a b; do
	grep -q "^  - stop tunnel tun0 in $T-$n$" <<<"$OUT" || fail "down does not say it stopped node $n's tunnel"
done
for p in "$PA" "$PB"; do
	alive "$p" && fail "tunnel $p still runs after down"
done
[ -e "$REC" ] && fail "down left $REC: $(ls "$REC")"
has_ns "$A" && fail "down left $A"
echo "ok - down stopped both tunnels and left no record"
