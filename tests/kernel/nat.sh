#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nat.sh - masquerade and published ports (TCP, UDP, ranges, one bound to a host address),
# from outside, from the host and from a container (hairpin); vnet's nftables table beside
# foreign ones; a flushed, edited or deleted table reported by diff and restored by up.
#
# +--------------------------------------------------------+
# | internet (NAME-internet), the outside world            |
# |  eth0: 192.168.3.1/24 (the router) and 203.0.113.10/24 |
# |        (a server: nc -lk 80, logs each peer's address) |
# +-----|--------------------------------------------------+
#       |  veth pair
# +-----|--------------------------------------------------+------------------+------------------+
# | +--------+   Host (NAME-host)                          |  web (NAME-web)  |  cli (NAME-cli)  |
# | |  eth0  |   192.168.3.101/24 (primary), .3.102/24     |  nc: tcp 80 81   |                  |
# | +--------+   default via 192.168.3.1, ip_forward 1     |  90 91, udp 53   |                  |
# |                                                        |  7000 7001 7002  |                  |
# | nft table ip vnet-NAME (vnet's):                       |                  |                  |
# |   8080/tcp           -> web:80  (every host address)   |                  |                  |
# |   8090-8091/tcp      -> web:90-91                      |                  |                  |
# |   5353/udp           -> web:53                         |                  |                  |
# |   9000-9002/udp      -> web:7000-7002                  |                  |                  |
# |   192.168.3.102:8081 -> web:81  (that address only)    |                  |                  |
# |   masquerade 10.10.1.0/24 out of eth0                  |                  |                  |
# | nft tables ip keepme, inet vnet-NAME (the test's own)  |   +----------+   |   +----------+   |
# |                                                        |   |  .1.x    |   |   |  .1.y    |   |
# |  +-----------+     +--------+                          |   +----------+   |   +----------+   |
# |  |   front   |<--->| ve-web |<---------------------------->|  eth0    |   |   |  eth0    |   |
# |  | 10.10.1.1 |     +--------+                          |   +----------+   |   +----------+   |
# |  +-----------+<--->| ve-cli |<------------------------------------------------>↑             |
# |                    +--------+                          | default via .1.1 | default via .1.1 |
# +--------------------------------------------------------+------------------+------------------+
#
# Proves: a container reaches the internet server, which sees the host's primary address
# 192.168.3.101 (masquerade); a client on the internet reaches web through published ports
# (TCP, UDP, TCP and UDP ranges, each port of a range to its own port), 8080 on both host
# addresses; a port bound to 192.168.3.102 answers there and not on .101; the host itself and
# cli (hairpin) reach web's published ports on the host's address; vnet's table ip vnet-NAME
# has the spec's chains, sets and maps, ip_forward is 1; `vnet show` draws 8080/tcp and the
# masquerade; foreign tables (one named like vnet's, in family inet) are not drift and survive
# every up; a flushed table, a deleted map element, a deleted table each make `vnet diff` exit 1
# naming the table, and `vnet up` restores it (traffic works again); binding to 127.0.0.1 is
# refused with nothing made; `vnet down` leaves no namespace and no row.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init nat
for c in nc ss nft; do
	command -v "$c" >/dev/null || skip "needs $c (netcat-openbsd, iproute2, nftables)"
done

T=$PFX H=$PFX-host I=$PFX-internet WEB=$PFX-web CLI=$PFX-cli
TABLE=vnet-$T
F=$KT_TMP/nat.yaml
cat >"$F" <<'EOF'
nodes:
  internet: {}
  host: {routes: [default via 192.168.3.1]}
veths:
  - eth0: {addresses: [192.168.3.101/24, 192.168.3.102/24]}
    internet/eth0: {addresses: [192.168.3.1/24, 203.0.113.10/24]}
networks:
  front: {subnet: 10.10.1.0/24, masquerade: true}
containers:
  web:
    networks: [front]
    publish:
      - "8080:80"
      - "8090-8091:90-91/tcp"
      - "5353:53/udp"
      - "9000-9002:7000-7002/udp"
      - "192.168.3.102:8081:81/tcp"
  cli:
    networks: [front]
EOF

vup "$T" "$F"
wait_until 10 settled "$H" || fail "front's ports did not reach forwarding"

# ---- what up made: links, addresses, routes, the table, forwarding ----
for c in web cli; do
	expect_eq "ve-$c is a port of front" "$(lget "$H" "ve-$c" .master)" front
	expect_eq "$c's default route" "$(ip -n "$PFX-$c" -j route show default |
		jq -r '.[] | "\(.gateway) \(.dev)"')" "10.10.1.1 eth0"
done
expect_eq "front's address (the default gateway: the subnet's first)" "$(addrs "$H" front)" 10.10.1.1/24
WEB_IP=$(addrs "$WEB" eth0) WEB_IP=${WEB_IP%/*}
CLI_IP=$(addrs "$CLI" eth0) CLI_IP=${CLI_IP%/*}
expect_eq "web and cli: the two lowest free addresses" \
	"$(printf '%s\n' "$WEB_IP" "$CLI_IP" | sort | tr '\n' ' ')" "10.10.1.2 10.10.1.3 "
expect_eq "tables ip $TABLE in $H" "$(nsx "$H" nft -j list tables |
	jq -r --arg n "$TABLE" '[.nftables[] | .table? // empty | select(.name == $n) | .family] |
	join(" ")')" ip
tjson=$(nsx "$H" nft -j list table ip "$TABLE")
expect_eq "chains of $TABLE" "$(jq -r '[.nftables[] | .chain? // empty | .name] | sort | join(" ")' \
	<<<"$tjson")" "forward output postrouting prerouting publish"
expect_eq "sets of $TABLE" "$(jq -r '[.nftables[] | .set? // empty | .name] | sort | join(" ")' \
	<<<"$tjson")" "allowed bridges internal masq nets"
expect_eq "maps of $TABLE" "$(jq -r '[.nftables[] | .map? // empty | .name] | sort | join(" ")' \
	<<<"$tjson")" "tcp_any tcp_at udp_any udp_at"
expect_eq "net.ipv4.ip_forward in $H" "$(nsx "$H" sysctl -n net.ipv4.ip_forward)" 1
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
txt=$("$VNET" show "$T")
printf '%s\n' "$txt" | sed 's/^/    | /'
for w in 8080/tcp masquerade; do
	grep -qF -- "$w" <<<"$txt" || fail "vnet show $T does not mention '$w'"
done
echo "ok - vnet show draws the published port 8080/tcp and the masquerade"

# ---- the servers ----
L=$KT_TMP/log
mkdir "$L"
tcp_server "$I" 80 "$L/internet"
for p in 80 81 90 91; do tcp_server "$WEB" "$p" "$L/web-tcp$p"; done
for p in 53 7000 7001 7002; do udp_server "$WEB" "$p" "$L/web-udp$p"; done

# traffic_ok WHAT: the two ways through the NAT: out (masquerade) and in (8080).
traffic_ok() {
	tcp_reaches "$1: web reaches the internet server" "$WEB" 203.0.113.10 80 "$L/internet"
	expect_eq "$1: the source address the internet server saw (masquerade)" "$PEER" 192.168.3.101
	tcp_reaches "$1: the internet reaches web:80 through 192.168.3.101:8080" \
		"$I" 192.168.3.101 8080 "$L/web-tcp80"
}

# ---- out: masquerade to the host's primary address, seen from the server ----
traffic_ok "first up"
tcp_reaches "cli reaches the internet server" "$CLI" 203.0.113.10 80 "$L/internet"
expect_eq "the source address the internet server saw from cli" "$PEER" 192.168.3.101

# ---- in: published ports, from the internet ----
tcp_reaches "8080/tcp on the host's other address 192.168.3.102 too" \
	"$I" 192.168.3.102 8080 "$L/web-tcp80"
for k in 0 1; do
	tcp_reaches "TCP range: 192.168.3.101:$((8090 + k)) -> web:$((90 + k))" \
		"$I" 192.168.3.101 $((8090 + k)) "$L/web-tcp$((90 + k))"
done
udp_reaches "UDP: 192.168.3.101:5353 -> web:53" "$I" 192.168.3.101 5353 "$L/web-udp53"
for k in 0 1 2; do
	udp_reaches "UDP range: 192.168.3.101:$((9000 + k)) -> web:$((7000 + k))" \
		"$I" 192.168.3.101 $((9000 + k)) "$L/web-udp$((7000 + k))"
	for j in 0 1 2; do
		[ "$j" = "$k" ] && continue
		grep -qx "$LINE" "$L/web-udp$((7000 + j))" &&
			fail "UDP range: the datagram to $((9000 + k)) also reached web:$((7000 + j))"
	done
done
echo "ok - each port of the UDP range goes to its own port"
tcp_reaches "192.168.3.102:8081 (bound to .102) -> web:81" "$I" 192.168.3.102 8081 "$L/web-tcp81"
tcp_fails "8081 bound to 192.168.3.102 is not reachable on 192.168.3.101" "$I" 192.168.3.101 8081

# ---- from the host itself, and from a container of the same network (hairpin) ----
tcp_reaches "the host reaches web through its own address 192.168.3.101:8080" \
	"$H" 192.168.3.101 8080 "$L/web-tcp80"
tcp_reaches "the host reaches web through 192.168.3.102:8081 (bound)" \
	"$H" 192.168.3.102 8081 "$L/web-tcp81"
tcp_reaches "hairpin: cli reaches web through 192.168.3.101:8080" \
	"$CLI" 192.168.3.101 8080 "$L/web-tcp80"
udp_reaches "hairpin: cli reaches web through 192.168.3.101:5353/udp" \
	"$CLI" 192.168.3.101 5353 "$L/web-udp53"
# With br_netfilter loaded (Docker loads it; so may this machine), the reply from web to cli,
# bridged inside front, still meets conntrack and is un-NATed on the bridge; without it, only
# a masquerade of the hairpin traffic brings the reply back through the host. Both ways, then.
NF=net.bridge.bridge-nf-call-iptables
if nsx "$H" sysctl -n "$NF" >/dev/null 2>&1; then
	nf_was=$(nsx "$H" sysctl -n "$NF")
	for v in 0 1; do
		nsx "$H" sysctl -qw "$NF=$v"
		tcp_reaches "hairpin with $NF=$v in $H: cli reaches web through 192.168.3.101:8080" \
			"$CLI" 192.168.3.101 8080 "$L/web-tcp80"
	done
	nsx "$H" sysctl -qw "$NF=$nf_was"
else
	note "no br_netfilter here: hairpin tested without it only"
fi

# ---- foreign tables in the host part: not drift, never touched ----
make_foreign "$H" "$TABLE"
foreign() { foreign_json "$H" "$TABLE"; }
FOREIGN=$(foreign)
foreign_intact() {
	[ "$(foreign)" = "$FOREIGN" ] ||
		{ diff <(echo "$FOREIGN") <(foreign) || true; fail "$1: a foreign table changed"; }
	echo "ok - $1: the foreign tables ip keepme and inet $TABLE are as the test made them"
}
expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
vup "$T" "$F"
foreign_intact "up again"

# ---- drift in vnet's table: diff names it, up restores it ----
# drifted WHAT: vnet diff exits 1 naming the table; up; diff clean, foreign tables intact,
# traffic through the NAT works again.
drifted() {
	expect_rc 1 "$VNET" diff "$F" --sandbox --name "$T"
	grep -qF -- "$TABLE" <<<"$OUT" || fail "$1: vnet diff does not name the table $TABLE"
	vup "$T" "$F"
	expect_rc 0 "$VNET" diff "$F" --sandbox --name "$T"
	foreign_intact "$1, restored"
	expect_eq "$1, restored: net.ipv4.ip_forward" "$(nsx "$H" sysctl -n net.ipv4.ip_forward)" 1
	traffic_ok "$1, restored"
}

nsx "$H" nft flush table ip "$TABLE"
tcp_fails "table flushed: 192.168.3.101:8080 no longer leads to web" "$I" 192.168.3.101 8080
drifted "table flushed"

key=$(nsx "$H" nft -j list map ip "$TABLE" tcp_any | jq -c 'first(.nftables[] | .map? // empty) | .elem[0][0]')
if [ -z "$key" ] || [ "$key" = null ]; then fail "the map tcp_any of $TABLE has no element"; fi
nsx "$H" nft -j -f - <<EOF
{"nftables": [{"delete": {"element": {"family": "ip", "table": "$TABLE", "name": "tcp_any",
	"elem": [$key]}}}]}
EOF
note "deleted the element $key of the map tcp_any"
drifted "an element of tcp_any deleted"

nsx "$H" nft delete table ip "$TABLE"
tcp_fails "table deleted: 192.168.3.101:8080 no longer leads to web" "$I" 192.168.3.101 8080
drifted "table deleted"

# ---- a port bound to loopback is refused, and nothing is made ----
B=$KT_TMP/loopback.yaml
sed 's/"192.168.3.102:8081:81\/tcp"/"127.0.0.1:8081:81\/tcp"/' "$F" >"$B"
grep -q 127.0.0.1 "$B" || fail "the test could not write $B"
track "$T.l"
expect_rc 2 "$VNET" up "$B" --sandbox --name "$T.l"
grep -qF 127.0.0.1 <<<"$OUT" || fail "the refusal does not name 127.0.0.1"
expect_eq "namespaces of $T.l after the refused up" "$(ns_list | grep -cF "$T.l-" || true)" 0

# ---- down: everything goes ----
stop_servers
expect_rc 0 "$VNET" down "$T"
expect_eq "namespaces left after down" "$(ns_list | tr '\n' ' ')" ""
expect_eq "state store rows after down" "$("$VNET" list --json | jq -c .)" "[]"
