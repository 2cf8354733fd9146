#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2016 # jq programs in single quotes: their $x are jq's variables
# cni.sh - vnet-cni driven by hand as a runtime drives it (the CNI_* environment, the
# configuration on stdin, a result or an error object on stdout), in namespaces of its own:
# every verb, every result version, IPAM delegated to host-local and the reference portmap
# chained after it, the error cases, DEL twice / without a namespace / after the namespace
# went, GC, STATUS, macspoofchk, kill -9 at random moments of ADD and DEL, and 100 ADDs then
# 100 DELs in parallel.
#
# +------------------------------+
# | outside (PFX-o)              |  the "internet", and the client of the published ports;
# |  eth0 192.168.77.1/24        |  no route to any container subnet: a container reaches it
# +-----|------------------------+  only through vnet-cni's masquerade
#       | veth pair
# +-----|---------------------------------------------------------------------------------+
# |  up0 192.168.77.2/24    the host part (PFX-h): vnet-cni runs here (nsenter --net),    |
# |                         its nft table ip vnet-cni, ip_forward                          |
# |  cnia0 10.88.0.1/24  neta: vnet's IPAM, ipMasq, portMappings          -> c1 .. c10     |
# |  cnib0 10.89.0.1/24  hl:   host-local IPAM (dataDir: scratch), portmap -> h1 h2        |
# |  cnie0 10.92.0.1/24  dl:   a bridge the test made (foreign)           -> d1 d2 d3      |
# |  cnig0 10.90.0.1/24  gcn:  GC                                         -> g1 .. g4      |
# |  cnip0 10.91.0.1/24  par:  100 ADDs and DELs in parallel              -> p1 .. p100    |
# +---------------------------------------------------------------------------------------+
# Every container is a namespace PFX-X, attached as CNI_CONTAINERID PFX-X, CNI_IFNAME eth0.
#
# Proves: VERSION answers the five versions with or without stdin; STATUS; an ADD in each of
# 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0 gives a result of that version (ips[].version only below 1.0.0,
# interfaces [bridge, host veth, eth0 with sandbox], ips[].interface 2) that the kernel matches
# (ip -j: address, MAC, default route, host veth on the bridge with hairpin, the bridge's
# gateway address, ip_forward), and the containers ping each other and the gateway; masquerade
# to the outside; published ports (tcp_any, tcp_at with hostIP, udp_any) reached from the
# outside, from another container (hairpin), from the host part and its localhost; a second
# attachment on a taken host port (of any network) fails naming the owner, and its DEL keeps
# the owner's port;
# CHECK passes, and fails on a wrong prevResult and after an element, the address or the host
# veth was removed behind its back, or host-local lost the reservation; every error code; a
# failed ADD (also a second ADD of a live attachment) leaves nothing (links, the store's
# attachments, leases, ports and networks, nft elements); CNI_ARGS IP= and MAC= (podman's
# form), runtimeConfig.ips, mtu and dns; DEL twice, with CNI_NETNS "" and after the namespace
# was deleted frees the veth, the port and the lease; host-local is exec'd from CNI_PATH (its
# ADD undone by a DEL when vnet-cni fails after it, its reservation freed by DEL and GC), and
# portmap chained on vnet-cni's result forwards; networks are isolated; GC keeps exactly the
# listed attachments (cni.dev/valid-attachments, or the older cni.dev/attachments), a late DEL
# of a collected attachment spares the one that got its address, and with none listed GC
# removes the network's bridge and elements but not a bridge it did not make, nor other
# networks'; 100 parallel ADDs give 100 distinct addresses and 100 ports, 100 parallel DELs
# remove all; at the end the store is empty and the host part holds only what the test made.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JOBS=() # parallel plugin runs in flight (waited for on exit: no process is left behind)
cni_exit() {
	local rc=$?
	set +e
	[ "${#JOBS[@]}" = 0 ] || wait "${JOBS[@]}" 2>/dev/null
	(exit "$rc")
	cleanup # lib.sh's: servers, namespaces, scratch; it takes our status from $?
}
trap cni_exit EXIT
kt_init cni
CNI=${VNET_CNI_BIN:-$KT_ROOT/build/vnet-cni}
[ -x "$CNI" ] || skip "no vnet-cni binary at $CNI (build first, or set VNET_CNI_BIN)"
for c in nc ss nft sqlite3 timeout; do
	command -v "$c" >/dev/null || skip "needs $c (netcat-openbsd, iproute2, nftables, sqlite3)"
done
REF=/usr/lib/cni # the reference plugins: host-local and portmap (containernetworking-plugins)
START=$(date +%s)

# ---- the host part and the outside ----
HN=$PFX-h ON=$PFX-o
HNS=/run/netns/$HN
HOSTIP=192.168.77.2 OUTIP=192.168.77.1
own_ns "$HN"
own_ns "$ON"
ip -n "$HN" link add up0 type veth peer name eth0 netns "$ON"
ip -n "$HN" addr add "$HOSTIP/24" dev up0
ip -n "$ON" addr add "$OUTIP/24" dev eth0
ip -n "$HN" link set up0 up
ip -n "$ON" link set eth0 up
nsx "$HN" sysctl -qw net.ipv4.ip_forward=0 # vnet-cni must turn it on (isGateway)

# ctr X...: container namespaces PFX-X
ctr() {
	local c
	for c; do own_ns "$PFX-$c"; done
}

# ---- calling the plugin ----
ERRF=$KT_TMP/stderr
PLUGIN=$CNI
# plug CONF VAR=VALUE...: one run of $PLUGIN (vnet-cni) in the host part as a runtime runs
# it: exactly the CNI variables given (the others unset), CONF on stdin ("-": empty stdin).
# RC: its exit status, OUT: its stdout, ERR: its stderr, CALL: the call, for messages.
plug() {
	local conf=$1 in=/dev/null
	shift
	if [ "$conf" != - ]; then
		in=$KT_TMP/stdin.$BASHPID
		printf '%s\n' "$conf" >"$in"
	fi
	RC=0
	OUT=$(env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_ARGS \
		-u CNI_PATH "$@" timeout 60 nsenter --net="$HNS" "$PLUGIN" <"$in" 2>"$ERRF") || RC=$?
	ERR=$(cat "$ERRF")
	CALL="$* $PLUGIN <<< ${conf:0:600}"
}
# add CONF X [NETNS]: ADD of container X (CNI_NETNS /run/netns/PFX-X unless given); del,
# chk likewise; gc CONF, status CONF: as libcni calls them (the container variables empty).
add() { plug "$1" CNI_COMMAND=ADD CNI_CONTAINERID="$PFX-$2" CNI_NETNS="${3-/run/netns/$PFX-$2}" \
	CNI_IFNAME=eth0 CNI_PATH="$REF"; }
del() { plug "$1" CNI_COMMAND=DEL CNI_CONTAINERID="$PFX-$2" CNI_NETNS="${3-/run/netns/$PFX-$2}" \
	CNI_IFNAME=eth0 CNI_PATH="$REF"; }
chk() { plug "$1" CNI_COMMAND=CHECK CNI_CONTAINERID="$PFX-$2" CNI_NETNS="/run/netns/$PFX-$2" \
	CNI_IFNAME=eth0 CNI_PATH="$REF"; }
gc() { plug "$1" CNI_COMMAND=GC CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME= CNI_PATH="$REF"; }
status() { plug "$1" CNI_COMMAND=STATUS CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME= CNI_PATH="$REF"; }

# said: the last call, on stderr (before a failure)
said() {
	{
		echo "    call:   $CALL"
		echo "    exit:   $RC"
		echo "    stdout: $OUT"
		echo "    stderr: $(head -c 2000 <<<"$ERR")"
	} >&2
}
# ok_result WHAT: exit 0, and stdout is one JSON object (ADD's result)
ok_result() {
	[ "$RC" = 0 ] || { said; fail "$1: vnet-cni exited $RC"; }
	{ [ "$(jq -s length <<<"$OUT" 2>/dev/null)" = 1 ] && jq -e 'type == "object"' <<<"$OUT" >/dev/null; } ||
		{ said; fail "$1: stdout is not one JSON object"; }
	echo "ok - $1"
}
# ok_quiet WHAT: exit 0 and nothing on stdout (DEL, CHECK, GC, STATUS)
ok_quiet() {
	[ "$RC" = 0 ] || { said; fail "$1: vnet-cni exited $RC"; }
	[ -z "$OUT" ] || { said; fail "$1: exit 0, but something on stdout"; }
	echo "ok - $1"
}
# is_error WHAT CODE [WORD...]: exit non-zero and one error object on stdout: a number code,
# CODE ("any": whatever it is, "100+": plugin-specific), a msg, and each WORD in msg or details
is_error() {
	local what=$1 code=$2 w text got
	shift 2
	[ "$RC" != 0 ] || { said; fail "$what: vnet-cni succeeded (exit 0)"; }
	{ [ "$(jq -s length <<<"$OUT" 2>/dev/null)" = 1 ] && jq -e 'type == "object" and
		(.code | type) == "number" and (.msg | type) == "string" and .msg != ""' \
		<<<"$OUT" >/dev/null; } || { said; fail "$what: stdout is not one error object {code, msg}"; }
	got=$(jq -r .code <<<"$OUT")
	case $code in
	any) ;;
	100+) [ "$got" -ge 100 ] || { said; fail "$what: error code $got, expected a plugin-specific one (100+)"; } ;;
	*) [ "$got" = "$code" ] || { said; fail "$what: error code $got, expected $code"; } ;;
	esac
	text=$(jq -r '"\(.msg) \(.details // "")"' <<<"$OUT")
	for w; do
		grep -qF -- "$w" <<<"$text" || { said; fail "$what: the error does not name '$w'"; }
	done
	echo "ok - $what: code $got: $(jq -r .msg <<<"$OUT")"
}
# jq_ok WHAT JSON FILTER [JQ-ARGS...]: FILTER holds of JSON (else fail "WHAT", with the JSON)
jq_ok() {
	local what=$1 json=$2 f=$3
	shift 3
	jq -e "$@" "$f" <<<"$json" >/dev/null 2>&1 || { jq . <<<"$json" >&2 || echo "$json" >&2; fail "$what"; }
}

# ---- configurations ----
# conf VERSION NET BRIDGE SUBNET [JQ]: vnet-cni with vnet's IPAM, isGateway, ipMasq, hairpin
# and the portMappings capability; JQ edits it
conf() {
	jq -cn --arg v "$1" --arg n "$2" --arg b "$3" --arg s "$4" '{cniVersion: $v, name: $n,
		type: "vnet-cni", bridge: $b, isGateway: true, ipMasq: true, hairpinMode: true,
		capabilities: {portMappings: true},
		ipam: {type: "vnet", subnet: $s, routes: [{dst: "0.0.0.0/0"}]}} | '"${5:-.}"
}
# pm HOSTPORT CONTAINERPORT [PROTO]: the JQ edit asking for one port mapping
pm() { printf '.runtimeConfig.portMappings = [{hostPort: %s, containerPort: %s, protocol: "%s"}]' \
	"$1" "$2" "${3:-tcp}"; }
# prev RESULT: the JQ edit adding prevResult (CHECK, chaining)
prev() { printf '.prevResult = %s' "$1"; }
confa() { conf "$1" neta cnia0 10.88.0.0/24 "${2:-.}"; }

# ---- the state: kernel, store, nftables ----
DB=$VNET_STATE_DIR/state.db
sql() { sqlite3 -readonly -cmd '.timeout 10000' "$DB" "$1"; }
rows() { sql "SELECT count(*) FROM cni_attachment${1:+ WHERE net = '$1'}"; }
leases() { sql "SELECT count(*) FROM lease"; }
# count TABLE: its rows (the store's other CNI tables: cni_port, cni_network)
count() { sql "SELECT count(*) FROM $1" 2>/dev/null || echo "no table $1"; }
# hveths: the host veths in the host part; bports BRIDGE: the ports of BRIDGE
hveths() { ip -n "$HN" -j link show type veth | jq -r '[.[].ifname | select(startswith("veth"))] | sort | join(" ")'; }
bports() { ip -n "$HN" -j link show master "$1" 2>/dev/null | jq -r '.[].ifname' | sort; }
has_link() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
# elems: every element of the sets and maps of table ip vnet-cni in the host part, as
# "SET ELEM" lines (nft's own notation: "tcp_any 8080 : 10.88.0.2 . 80"), sorted
ELEMS='def s: if type == "object" then
		(if .prefix then "\(.prefix.addr)/\(.prefix.len)"
		 elif .range then "\(.range[0])-\(.range[1])"
		 elif .concat then (.concat | map(s) | join(" . "))
		 elif .elem then (.elem.val | s)
		 else tostring end)
	elif type == "array" then "\(.[0] | s) : \(.[1] | s)"
	else tostring end;
	.nftables[] | (.set // .map)? // empty | .name as $n | (.elem // [])[] | "\($n) \(s)"'
elems() { nsenter --net="$HNS" nft -j list table ip vnet-cni 2>/dev/null | jq -r "$ELEMS" | sort; }
expect_elem() {
	elems | grep -qxF -- "$2" || { elems | sed 's/^/    | /' >&2; fail "$1: no element '$2' in table ip vnet-cni"; }
	echo "ok - $1: element '$2'"
}
expect_no_elem() {
	if elems | grep -qF -- "$2"; then
		elems | sed 's/^/    | /' >&2
		fail "$1: table ip vnet-cni still has an element with '$2'"
	fi
	echo "ok - $1: no element with '$2'"
}
# debris: what a failed ADD must not change: the host part's links, the store's attachments,
# leases, ports and networks, the table's elements
debris() {
	echo "links: $(ip -n "$HN" -j link | jq -r '[.[].ifname] | sort | join(" ")')"
	echo "attachments: $(rows)"
	echo "leases: $(leases)"
	echo "ports: $(count cni_port), networks: $(count cni_network)"
	elems
}
unchanged() {
	local now
	now=$(debris)
	[ "$now" = "$2" ] || { diff <(echo "$2") <(echo "$now") >&2 || true; fail "$1: left debris (diff above: before, after)"; }
	echo "ok - $1: nothing left (host links, store attachments and leases, nft elements as before)"
}
# gone WHAT VETH: the host veth disappears (a namespace's end can take a moment)
gone() {
	wait_until 5 bash -c "! ip -n '$HN' link show dev '$2'" || fail "$1: host veth $2 still in $HN"
	echo "ok - $1: host veth $2 gone"
}
pings() {
	wait_until 5 nsx "$2" ping -c1 -W1 -q "$3" || fail "$1: $2 cannot ping $3"
	echo "ok - $1"
}
no_ping() {
	if nsx "$2" ping -c2 -i0.2 -W1 -q "$3" >/dev/null 2>&1; then fail "$1: $2 pings $3"; fi
	echo "ok - $1"
}

declare -A RES IP VETH # per container X: the ADD result, its address (no prefix), host veth
# added X WHAT: record the result of X's ADD just made
added() {
	ok_result "$2"
	RES[$1]=$OUT
	IP[$1]=$(jq -r '.ips[0].address | split("/")[0]' <<<"$OUT")
	VETH[$1]=$(jq -r '.interfaces[1].name' <<<"$OUT")
}
# result_ok X VERSION BRIDGE GW: the result of X's ADD has the format of VERSION
result_ok() {
	local x=$1 v=$2 r=${RES[$1]} sb=/run/netns/$PFX-$1
	jq_ok "$x: the result's cniVersion is not $v" "$r" '.cniVersion == $v' --arg v "$v"
	jq_ok "$x: the result's interfaces are not [$3, veth + 8 hex digits, eth0]" "$r" \
		'[.interfaces[].name] | length == 3 and .[0] == $b and (.[1] | test("^veth[0-9a-f]{8}$"))
		and .[2] == "eth0"' --arg b "$3"
	jq_ok "$x: interfaces[2].sandbox is not CNI_NETNS ($sb), or the bridge or host veth has one" \
		"$r" '.interfaces[2].sandbox == $sb and ([.interfaces[0,1] | .sandbox // ""] == ["", ""])' \
		--arg sb "$sb"
	jq_ok "$x: interfaces[2] (eth0) has no MAC" "$r" \
		'.interfaces[2].mac | test("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")'
	jq_ok "$x: not every ips[] has interface 2 and the gateway $4" "$r" \
		'(.ips | length) >= 1 and all(.ips[]; .interface == 2 and .gateway == $gw)' --arg gw "$4"
	if [[ $v == 0.* ]]; then
		jq_ok "$x: version $v needs ips[].version \"4\"" "$r" 'all(.ips[]; .version == "4")'
	else
		jq_ok "$x: version $v has no ips[].version" "$r" 'all(.ips[]; has("version") | not)'
	fi
	jq_ok "$x: the result's routes lack 0.0.0.0/0" "$r" 'any(.routes[]?; .dst == "0.0.0.0/0")'
	echo "ok - $x: the result has the format of $v"
}
# attached_ok X NET BRIDGE GW: the kernel holds what X's result says
attached_ok() {
	local x=$1 ns=$PFX-$1 r=${RES[$1]} v=${VETH[$1]}
	expect_eq "$x: eth0's address (ip -j addr in $ns)" "$(addrs "$ns" eth0)" \
		"$(jq -r '.ips[0].address' <<<"$r")"
	expect_eq "$x: eth0's MAC is the result's" "$(lget "$ns" eth0 .address)" \
		"$(jq -r '.interfaces[2].mac | ascii_downcase' <<<"$r")"
	expect_eq "$x: eth0 is up" "$(lget "$ns" eth0 'any(.flags[]; . == "UP")')" true
	expect_eq "$x: default route" "$(ip -n "$ns" -j route show default |
		jq -r '.[] | "\(.gateway) \(.dev)"')" "$4 eth0"
	expect_eq "$x: host veth $v's master (ip -j link in $HN)" "$(lget "$HN" "$v" .master)" "$3"
	expect_eq "$x: host veth $v's alias" "$(lget "$HN" "$v" .ifalias)" "vnet-cni:$2"
	expect_eq "$x: host veth $v's hairpin (hairpinMode)" \
		"$(lget "$HN" "$v" .linkinfo.info_slave_data.hairpin)" true
	expect_eq "$x: host veth $v is up" "$(lget "$HN" "$v" 'any(.flags[]; . == "UP")')" true
}
# detached_ok WHAT X NET: X's attachment is gone: host veth, eth0, store row
detached_ok() {
	gone "$1" "${VETH[$2]}"
	if has_ns "$PFX-$2" && has_link "$PFX-$2" eth0; then fail "$1: $PFX-$2 still has eth0"; fi
	expect_eq "$1: store rows of $2" "$(sql "SELECT count(*) FROM cni_attachment WHERE net = '$3' AND cid = '$PFX-$2'")" 0
}

# ======== VERSION ========
for v in - 0.1.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0 9.9.9; do
	if [ "$v" = - ]; then
		plug - CNI_COMMAND=VERSION
	else
		plug "{\"cniVersion\": \"$v\"}" CNI_COMMAND=VERSION CNI_NETNS=dummy CNI_IFNAME=dummy \
			CNI_PATH=dummy
	fi
	ok_result "VERSION, stdin ${v/#-/empty}"
	jq_ok "VERSION (stdin ${v/#-/empty}): supportedVersions is not 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0" \
		"$OUT" '(.supportedVersions | sort) == ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]'
	jq_ok "VERSION (stdin ${v/#-/empty}): no cniVersion" "$OUT" '.cniVersion | type == "string" and . != ""'
	case $v in 0.3.* | 0.4.0 | 1.*) jq_ok "VERSION (stdin $v): cniVersion is not $v" "$OUT" '.cniVersion == $v' --arg v "$v" ;; esac
done

# ======== STATUS ========
status "$(confa 1.1.0)"
ok_quiet "STATUS (1.1.0): ready, nothing on stdout"
status "$(confa 1.0.0)"
is_error "STATUS with cniVersion 1.0.0 (STATUS is 1.1.0's)" 1

# ======== ADD in every version, on neta ========
ctr c1 c2 c3 c4 c5 c6 c7
k=0
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	k=$((k + 1))
	edit=.
	[ $k = 1 ] && edit=$(pm 8080 80) # c1 publishes 8080 -> 80
	add "$(confa $v "$edit")" c$k
	added c$k "ADD c$k, cniVersion $v"
	result_ok c$k $v cnia0 10.88.0.1
	attached_ok c$k neta cnia0 10.88.0.1
done
expect_eq "the addresses of c1..c5: the lowest free, in order (vnet's IPAM)" \
	"${IP[c1]} ${IP[c2]} ${IP[c3]} ${IP[c4]} ${IP[c5]}" "10.88.0.2 10.88.0.3 10.88.0.4 10.88.0.5 10.88.0.6"
expect_eq "the bridge cnia0 is a bridge" "$(lget "$HN" cnia0 .linkinfo.info_kind)" bridge
expect_eq "cnia0's alias" "$(lget "$HN" cnia0 .ifalias)" vnet-cni:neta
expect_eq "cnia0's address (isGateway)" "$(addrs "$HN" cnia0)" 10.88.0.1/24
expect_eq "cnia0's ports: the five host veths" "$(bports cnia0 | tr '\n' ' ')" \
	"$(printf '%s\n' "${VETH[c1]}" "${VETH[c2]}" "${VETH[c3]}" "${VETH[c4]}" "${VETH[c5]}" | sort | tr '\n' ' ')"
expect_eq "net.ipv4.ip_forward in $HN (isGateway)" "$(nsx "$HN" sysctl -n net.ipv4.ip_forward)" 1
expect_eq "store rows of neta" "$(rows neta)" 5
for k in 1 2 3 4 5; do pings "c$k pings the gateway" "$PFX-c$k" 10.88.0.1; done
for k in 2 3 4 5; do pings "c1 pings c$k" "$PFX-c1" "${IP[c$k]}"; done
pings "c5 pings c1" "$PFX-c5" "${IP[c1]}"

# ======== the nftables table, masquerade ========
expect_eq "tables named vnet-cni in $HN" "$(nsenter --net="$HNS" nft -j list tables |
	jq -r '[.nftables[] | .table? // empty | select(.name == "vnet-cni") | .family] | join(" ")')" ip
T=$(nsenter --net="$HNS" nft -j list table ip vnet-cni)
expect_eq "sets of vnet-cni" "$(jq -r '[.nftables[] | .set? // empty | .name] | sort | join(" ")' \
	<<<"$T")" "allowed bridges internal masq nets"
expect_eq "maps of vnet-cni" "$(jq -r '[.nftables[] | .map? // empty | .name] | sort | join(" ")' \
	<<<"$T")" "tcp_any tcp_at udp_any udp_at"
expect_elem "neta's bridge" "bridges cnia0"
expect_elem "neta's subnet" "nets 10.88.0.0/24"
expect_elem "ipMasq" "masq 10.88.0.0/24"
if ip -n "$ON" route get 10.88.0.2 >/dev/null 2>&1; then fail "the outside has a route to 10.88.0.2"; fi
L=$KT_TMP/log
mkdir "$L"
tcp_server "$ON" 80 "$L/outside"
tcp_reaches "c1 reaches the outside (no route back: masquerade)" "$PFX-c1" "$OUTIP" 80 "$L/outside"
expect_eq "the source address the outside saw from c1 (masquerade)" "$PEER" "$HOSTIP"
tcp_reaches "c5 (1.1.0) reaches the outside" "$PFX-c5" "$OUTIP" 80 "$L/outside"
pings "c3 pings the outside" "$PFX-c3" "$OUTIP"

# ======== published ports ========
expect_elem "c1's port mapping 8080 -> 80" "tcp_any 8080 : ${IP[c1]} . 80"
tcp_server "$PFX-c1" 80 "$L/c1-80"
tcp_reaches "the outside reaches c1:80 through $HOSTIP:8080" "$ON" "$HOSTIP" 8080 "$L/c1-80"
tcp_reaches "hairpin: c2 reaches c1:80 through $HOSTIP:8080" "$PFX-c2" "$HOSTIP" 8080 "$L/c1-80"
tcp_reaches "the host part itself reaches c1:80 through $HOSTIP:8080" "$HN" "$HOSTIP" 8080 "$L/c1-80"
ip -n "$HN" link set lo up
tcp_reaches "localhost: the host part reaches c1:80 through 127.0.0.1:8080" "$HN" 127.0.0.1 8080 \
	"$L/c1-80"
expect_eq "route_localnet on cnia0 (a network with published ports)" \
	"$(ip netns exec "$HN" sysctl -n net.ipv4.conf.cnia0.route_localnet)" 1
BEFORE=$(debris)
add "$(confa 1.0.0 "$(pm 8080 80)")" c6
is_error "ADD c6 asking for host port 8080, c1's" any "$PFX-c1"
unchanged "the refused ADD of c6" "$BEFORE"
del "$(confa 1.0.0 "$(pm 8080 80)")" c6
ok_quiet "DEL c6 after its failed ADD (as a runtime does)"
unchanged "DEL c6 after its failed ADD (c1 keeps 8080)" "$BEFORE"
tcp_reaches "after c6's DEL, the outside still reaches c1 through 8080" "$ON" "$HOSTIP" 8080 "$L/c1-80"
add "$(confa 1.0.0 '.runtimeConfig.portMappings = [
	{hostPort: 8081, containerPort: 80, protocol: "tcp", hostIP: "'$HOSTIP'"},
	{hostPort: 5353, containerPort: 53, protocol: "udp"}]')" c6
added c6 "ADD c6 publishing $HOSTIP:8081/tcp and 5353/udp"
attached_ok c6 neta cnia0 10.88.0.1
expect_eq "c6 got the lowest free address" "${IP[c6]}" 10.88.0.7
expect_elem "c6's mapping bound to $HOSTIP" "tcp_at $HOSTIP . 8081 : ${IP[c6]} . 80"
expect_elem "c6's UDP mapping" "udp_any 5353 : ${IP[c6]} . 53"
tcp_server "$PFX-c6" 80 "$L/c6-80"
udp_server "$PFX-c6" 53 "$L/c6-53"
tcp_reaches "the outside reaches c6:80 through $HOSTIP:8081" "$ON" "$HOSTIP" 8081 "$L/c6-80"
udp_reaches "the outside reaches c6:53/udp through $HOSTIP:5353" "$ON" "$HOSTIP" 5353 "$L/c6-53"

# ======== CHECK ========
for x in c3 c4 c5; do
	v=$(jq -r .cniVersion <<<"${RES[$x]}")
	chk "$(confa "$v" "$(prev "${RES[$x]}")")" $x
	ok_quiet "CHECK $x (cniVersion $v): passes, nothing on stdout"
done
chk "$(confa 1.0.0 "$(prev "$(jq -c '.ips[0].address = "10.88.0.99/24"' <<<"${RES[c4]}")")")" c4
is_error "CHECK c4 with a prevResult whose address c4 does not have" 100+
chk "$(confa 0.3.1 "$(prev "${RES[c2]}")")" c2
is_error "CHECK with cniVersion 0.3.1 (CHECK is 0.4.0's)" 1
C6=$(confa 1.0.0 "$(prev "${RES[c6]}")")
chk "$C6" c6
ok_quiet "CHECK c6: passes"
# an element removed behind vnet-cni's back, then put back
nsenter --net="$HNS" nft delete element ip vnet-cni tcp_at "{ $HOSTIP . 8081 }"
chk "$C6" c6
is_error "CHECK c6 without its tcp_at element" 100+
nsenter --net="$HNS" nft add element ip vnet-cni tcp_at "{ $HOSTIP . 8081 : ${IP[c6]} . 80 }"
chk "$C6" c6
ok_quiet "CHECK c6 with the element put back: passes"
# the container's address removed, then put back (with the route that went with it)
ip -n "$PFX-c6" addr del "${IP[c6]}/24" dev eth0
chk "$C6" c6
is_error "CHECK c6 without eth0's address" 100+
ip -n "$PFX-c6" addr add "${IP[c6]}/24" dev eth0
ip -n "$PFX-c6" route replace default via 10.88.0.1 dev eth0
chk "$C6" c6
ok_quiet "CHECK c6 with the address and route put back: passes"
# the host veth removed: no putting that back
ip -n "$HN" link del "${VETH[c6]}"
chk "$C6" c6
is_error "CHECK c6 without its host veth" 100+
stop_servers # c1's, c6's and the outside's
del "$C6" c6
ok_quiet "DEL c6 (its veth deleted behind its back)"
detached_ok "DEL c6" c6 neta
expect_no_elem "DEL c6" "${IP[c6]} ."
del "$C6" c6
ok_quiet "DEL c6 again"

# ======== errors: each code, and no debris ========
BEFORE=$(debris)
GOOD=$(confa 1.0.0 "$(pm 8082 80)")
# refused WHAT CODE [WORD...]: the ADD of c7 just made failed so (is_error), and left nothing
refused() {
	is_error "$@"
	unchanged "$1" "$BEFORE"
	! has_link "$PFX-c7" eth0 || fail "$1: left eth0 in $PFX-c7"
}
add '{"cniVersion": "1.0.0", "name": "neta", "type": "vnet-cni", "bridge": ' c7
refused "ADD with bad JSON" 6
plug "$GOOD" CNI_COMMAND=ADD CNI_NETNS="/run/netns/$PFX-c7" CNI_IFNAME=eth0 CNI_PATH="$REF"
refused "ADD without CNI_CONTAINERID" 4 CNI_CONTAINERID
plug "$GOOD" CNI_COMMAND=ADD CNI_CONTAINERID="$PFX-c7" CNI_NETNS="/run/netns/$PFX-c7" \
	CNI_IFNAME=eth0123456789abc CNI_PATH="$REF"
refused "ADD with a 16-byte CNI_IFNAME" 4 CNI_IFNAME
add "$(confa 9.9.9 "$(pm 8082 80)")" c7
refused "ADD with cniVersion 9.9.9" 1
add "$(confa 1.0.0 '.vlan = 5')" c7
refused "ADD with \"vlan\": 5" 2 vlan
add "$(confa 1.0.0 '.foo = 1')" c7
refused "ADD with \"foo\": 1" 2 foo
add "$(confa 1.0.0 "$(pm 8082 80 sctp)")" c7
refused "ADD publishing an sctp port" 2
plug "$GOOD" CNI_COMMAND=FOO CNI_CONTAINERID="$PFX-c7" CNI_NETNS="/run/netns/$PFX-c7" \
	CNI_IFNAME=eth0 CNI_PATH="$REF"
refused "CNI_COMMAND FOO" 4 FOO
# the same attachment added again without a DEL (a runtime must not; the plugin must refuse
# it without undoing the first: its veth, its lease)
add "$(confa 0.3.1)" c2
is_error "ADD c2 a second time, without DEL" any
unchanged "the refused second ADD of c2" "$BEFORE"
expect_eq "c2's address after its refused second ADD" "$(addrs "$PFX-c2" eth0)" "${IP[c2]}/24"
pings "c1 still pings c2" "$PFX-c1" "${IP[c2]}"
# CNI_IFNAME already in the container
ip -n "$PFX-c7" link add eth0 type veth peer name eth0p # (no dummy module here)
C7=$(ip -n "$PFX-c7" -d -j link | jq -S "$KT_VOLATILE"; ip -n "$PFX-c7" -j addr | jq -S "$KT_VOLATILE")
add "$GOOD" c7
is_error "ADD c7 whose eth0 already exists" any
unchanged "the refused ADD of c7 (eth0 exists)" "$BEFORE"
[ "$(ip -n "$PFX-c7" -d -j link | jq -S "$KT_VOLATILE"; ip -n "$PFX-c7" -j addr | jq -S "$KT_VOLATILE")" = "$C7" ] ||
	fail "the refused ADD of c7 changed the links or addresses in $PFX-c7"
echo "ok - the refused ADD of c7 left $PFX-c7 as it was"
del "$GOOD" c7
ok_quiet "DEL c7 after its failed ADD"
unchanged "DEL c7 after its failed ADD" "$BEFORE"
# a netns that does not exist
add "$GOOD" c8 "/run/netns/$PFX-nope"
is_error "ADD into /run/netns/$PFX-nope (no such namespace)" any
! has_ns "$PFX-nope" || fail "the ADD into a missing namespace made /run/netns/$PFX-nope"
unchanged "the refused ADD into a missing namespace" "$BEFORE"
del "$GOOD" c8 "/run/netns/$PFX-nope"
ok_quiet "DEL c8 (its namespace never existed)"

# ======== requested address and MAC: CNI_ARGS (as podman sends them), runtimeConfig.ips ========
ctr c9 c10
add9() { plug "$1" CNI_COMMAND=ADD CNI_CONTAINERID="$PFX-$2" CNI_NETNS="/run/netns/$PFX-$2" \
	CNI_IFNAME=eth0 CNI_PATH="$REF" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=$2;$3"; }
add9 "$(confa 1.0.0)" c9 "IP=10.88.0.20;MAC=02:00:00:00:00:14"
added c9 "ADD c9 with CNI_ARGS IP=10.88.0.20;MAC=02:00:00:00:00:14"
expect_eq "c9's address (CNI_ARGS IP=)" "${IP[c9]}" 10.88.0.20
jq_ok "c9: the result's MAC is not CNI_ARGS MAC=" "${RES[c9]}" '.interfaces[2].mac == "02:00:00:00:00:14"'
attached_ok c9 neta cnia0 10.88.0.1
pings "c9 pings c1" "$PFX-c9" "${IP[c1]}"
BEFORE=$(debris)
add9 "$(confa 1.0.0)" c10 "IP=10.88.0.20"
is_error "ADD c10 asking for c9's address" any
unchanged "the refused ADD of c10 (address taken)" "$BEFORE"
add9 "$(confa 1.0.0)" c10 "IP=10.88.0.1"
is_error "ADD c10 asking for the gateway's address" any
unchanged "the refused ADD of c10 (the gateway)" "$BEFORE"
add "$(confa 1.0.0 '.capabilities.ips = true | .runtimeConfig.ips = ["10.88.0.21/24"] |
	.mtu = 1400 | .dns = {nameservers: ["10.88.0.1"], search: ["example.test"]}')" c10
added c10 "ADD c10 with runtimeConfig.ips [10.88.0.21/24], mtu 1400, dns"
expect_eq "c10's address (runtimeConfig.ips)" "${IP[c10]}" 10.88.0.21
attached_ok c10 neta cnia0 10.88.0.1
expect_eq "c10: MTU of eth0 and of its host veth (mtu)" \
	"$(lget "$PFX-c10" eth0 .mtu) $(lget "$HN" "${VETH[c10]}" .mtu)" "1400 1400"
jq_ok "c10: the result's dns is not the configuration's" "${RES[c10]}" \
	'.dns == {nameservers: ["10.88.0.1"], search: ["example.test"]}'
for x in c9 c10; do
	del "$(confa 1.0.0)" $x
	ok_quiet "DEL $x"
	detached_ok "DEL $x" $x neta
done

# ======== DEL: twice, without CNI_NETNS, after the namespace went (dl: a bridge of the test's) ========
ip -n "$HN" link add cnie0 type bridge
ip -n "$HN" link set cnie0 up
ctr d1 d2 d3
D=$(conf 1.0.0 dl cnie0 10.92.0.0/24 "$(pm 8100 80)")
add "$D" d1
added d1 "ADD d1 (network dl, on the bridge cnie0 the test made)"
attached_ok d1 dl cnie0 10.92.0.1
expect_eq "d1's address: the lowest free" "${IP[d1]}" 10.92.0.2
expect_elem "d1's port" "tcp_any 8100 : 10.92.0.2 . 80"
del "$D" d1 ""
ok_quiet "DEL d1 with CNI_NETNS \"\""
detached_ok "DEL d1 with CNI_NETNS \"\"" d1 dl
expect_no_elem "DEL d1 with CNI_NETNS \"\"" "8100 :"
del "$D" d1 ""
ok_quiet "DEL d1 again"
add "$D" d2
added d2 "ADD d2"
expect_eq "d2's address: d1's, freed by its DEL" "${IP[d2]}" 10.92.0.2
expect_elem "d2 got port 8100, freed by d1's DEL" "tcp_any 8100 : 10.92.0.2 . 80"
tcp_server "$PFX-d2" 80 "$L/d2-80"
tcp_reaches "the outside reaches d2:80 through $HOSTIP:8100" "$ON" "$HOSTIP" 8100 "$L/d2-80"
stop_servers
ip netns del "$PFX-d2"
del "$D" d2
ok_quiet "DEL d2 after its namespace was deleted"
detached_ok "DEL d2 after its namespace was deleted" d2 dl
expect_no_elem "DEL d2 after its namespace was deleted" "8100 :"
add "$D" d3
added d3 "ADD d3"
expect_eq "d3's address: d2's, freed by its DEL" "${IP[d3]}" 10.92.0.2
del "$D" d3
ok_quiet "DEL d3"
del "$D" d3
ok_quiet "DEL d3 again"
detached_ok "DEL d3 twice" d3 dl
expect_no_elem "DEL d3 twice" "8100 :"

# ======== chaining: host-local IPAM from CNI_PATH, the reference portmap after vnet-cni ========
if [ -x "$REF/host-local" ]; then
	ctr h1
	HL=$KT_TMP/host-local
	H=$(jq -cn --arg d "$HL" '{cniVersion: "1.0.0", name: "hl", type: "vnet-cni", bridge: "cnib0",
		isGateway: true, ipMasq: true, hairpinMode: true,
		ipam: {type: "host-local", dataDir: $d, routes: [{dst: "0.0.0.0/0"}],
			ranges: [[{subnet: "10.89.0.0/24", rangeStart: "10.89.0.50", gateway: "10.89.0.1"}]]}}')
	add "$H" h1
	added h1 "ADD h1 (ipam host-local)"
	result_ok h1 1.0.0 cnib0 10.89.0.1
	attached_ok h1 hl cnib0 10.89.0.1
	expect_eq "h1's address: host-local's rangeStart (vnet's IPAM would give .2)" "${IP[h1]}" 10.89.0.50
	[ "$(head -n1 "$HL/hl/10.89.0.50" 2>/dev/null | tr -d '\r')" = "$PFX-h1" ] ||
		fail "host-local has no reservation $HL/hl/10.89.0.50 for $PFX-h1"
	echo "ok - host-local reserved 10.89.0.50 for $PFX-h1 in its dataDir"
	pings "h1 pings its gateway" "$PFX-h1" 10.89.0.1
	pings "h1 pings the outside" "$PFX-h1" "$OUTIP"
	no_ping "networks are isolated: c1 (neta) cannot ping h1 (hl)" "$PFX-c1" "${IP[h1]}"
	no_ping "networks are isolated: h1 (hl) cannot ping c1 (neta)" "$PFX-h1" "${IP[c1]}"
	FINAL=${RES[h1]}
	if command -v iptables >/dev/null; then
		P=$(jq -cn --argjson r "${RES[h1]}" '{cniVersion: "1.0.0", name: "hl", type: "portmap",
			capabilities: {portMappings: true}, prevResult: $r,
			runtimeConfig: {portMappings: [{hostPort: 9090, containerPort: 90, protocol: "tcp"}]}}')
		PLUGIN=$REF/portmap add "$P" h1
		ok_result "the reference portmap, chained after vnet-cni (prevResult: its result)"
		FINAL=$OUT
		jq_ok "portmap's result does not carry vnet-cni's interfaces and ips" "$OUT" \
			'.interfaces == $r.interfaces and .ips == $r.ips' --argjson r "${RES[h1]}"
		tcp_server "$PFX-h1" 90 "$L/h1-90"
		tcp_reaches "the outside reaches h1:90 through $HOSTIP:9090 (portmap's DNAT)" \
			"$ON" "$HOSTIP" 9090 "$L/h1-90"
	else
		note "SKIP the chained portmap: no iptables here (Debian's portmap 1.1.1 needs it)"
	fi
	chk "$(jq -c --argjson r "$FINAL" '.prevResult = $r' <<<"$H")" h1
	ok_quiet "CHECK h1 (prevResult: the chain's final result; host-local's CHECK delegated)"
	mv "$HL/hl/10.89.0.50" "$KT_TMP/reservation"
	chk "$(jq -c --argjson r "$FINAL" '.prevResult = $r' <<<"$H")" h1
	is_error "CHECK h1 when host-local lost the reservation (delegated CHECK)" any
	mv "$KT_TMP/reservation" "$HL/hl/10.89.0.50"
	if command -v iptables >/dev/null; then
		PLUGIN=$REF/portmap plug "$P" CNI_COMMAND=DEL CNI_CONTAINERID="$PFX-h1" \
			CNI_NETNS="/run/netns/$PFX-h1" CNI_IFNAME=eth0 CNI_PATH="$REF"
		ok_quiet "portmap DEL h1"
	fi
	stop_servers
	BEFORE=$(debris)
	plug "$(jq -c '.cniVersion = "1.1.0"' <<<"$H")" CNI_COMMAND=STATUS CNI_CONTAINERID= \
		CNI_NETNS= CNI_IFNAME= CNI_PATH=/nonexistent
	is_error "STATUS (1.1.0) of hl when host-local is not in CNI_PATH" 50 host-local
	ctr h2
	plug "$H" CNI_COMMAND=ADD CNI_CONTAINERID="$PFX-h2" CNI_NETNS="/run/netns/$PFX-h2" \
		CNI_IFNAME=eth0 CNI_PATH=/nonexistent
	is_error "ADD on hl when host-local is not in CNI_PATH" any host-local
	unchanged "the refused ADD on hl (no host-local)" "$BEFORE"
	add "$H" c7 # c7 has an eth0 of its own: vnet-cni fails after host-local's ADD
	is_error "ADD c7 on hl (its eth0 exists)" any
	unchanged "the refused ADD of c7 on hl" "$BEFORE"
	! grep -rqs "$PFX-c7" "$HL/hl" || fail "the failed ADD of c7 on hl kept host-local's reservation (no delegated DEL)"
	echo "ok - the failed ADD of c7 on hl gave host-local's address back (delegated DEL)"
	del "$H" h1 ""
	ok_quiet "DEL h1 with CNI_NETNS \"\""
	detached_ok "DEL h1" h1 hl
	[ ! -e "$HL/hl/10.89.0.50" ] || fail "DEL h1 did not call host-local's DEL: 10.89.0.50 still reserved"
	echo "ok - DEL h1 released host-local's reservation (delegated DEL)"
	add "$H" h2
	added h2 "ADD h2 (hl: kept for the GC at the end)"
	attached_ok h2 hl cnib0 10.89.0.1
else
	note "SKIP the host-local and portmap chaining: no $REF/host-local (containernetworking-plugins)"
fi

# ======== GC ========
ctr g1 g2 g3 g4
G=$(conf 1.1.0 gcn cnig0 10.90.0.0/24)
for k in 1 2 3; do
	add "$(jq -c "$(pm $((8200 + k)) 80)" <<<"$G")" g$k
	added g$k "ADD g$k (network gcn, 1.1.0)"
	expect_elem "g$k's port" "tcp_any $((8200 + k)) : ${IP[g$k]} . 80"
done
result_ok g3 1.1.0 cnig0 10.90.0.1
# the other networks: nothing of theirs may change
others() {
	sql "SELECT net, cid, ifname FROM cni_attachment WHERE net != 'gcn' ORDER BY 1, 2, 3"
	ip -n "$HN" -j link | jq -r '.[] | select(.ifname != "cnig0" and .master != "cnig0") | .ifname' | sort
	elems | grep -v -e cnig0 -e 10.90.0. || true
}
OTHERS=$(others)
gc "$(jq -c --arg c "$PFX-g2" '.["cni.dev/valid-attachments"] = [{containerID: $c, ifname: "eth0"}]' <<<"$G")"
ok_quiet "GC keeping g2 only"
for k in 1 3; do
	detached_ok "GC: g$k" g$k gcn
	expect_no_elem "GC: g$k's port" "tcp_any $((8200 + k)) :"
done
expect_eq "GC: gcn's attachments in the store" "$(sql "SELECT cid FROM cni_attachment WHERE net = 'gcn'")" "$PFX-g2"
expect_eq "GC: cnig0's ports" "$(bports cnig0)" "${VETH[g2]}"
expect_elem "GC kept g2's port" "tcp_any 8202 : ${IP[g2]} . 80"
pings "GC kept g2: it pings its gateway" "$PFX-g2" 10.90.0.1
pings "GC kept g2: it reaches the outside" "$PFX-g2" "$OUTIP"
[ "$(others)" = "$OTHERS" ] || { diff <(echo "$OTHERS") <(others) >&2 || true; fail "GC of gcn touched another network"; }
echo "ok - GC of gcn left the other networks as they were"
add "$G" g4
added g4 "ADD g4"
expect_eq "g4's address: g1's, freed by GC" "${IP[g4]}" "${IP[g1]}"
BEFORE=$(debris)
del "$G" g1 ""
ok_quiet "a late DEL of g1 (collected by GC; its address is g4's now)"
unchanged "the late DEL of g1 (g4 keeps its address)" "$BEFORE"
pings "g4 pings its gateway after g1's late DEL" "$PFX-g4" 10.90.0.1
add "$(jq -c "$(pm 8080 80)" <<<"$G")" g3
is_error "ADD g3 on gcn asking for host port 8080 (c1's, on neta)" any "$PFX-c1"
unchanged "the refused ADD of g3 (port of another network)" "$BEFORE"
gc "$(jq -c --arg c "$PFX-g4" '.["cni.dev/attachments"] = [{containerID: $c, ifname: "eth0"}]' <<<"$G")"
ok_quiet "GC keeping g4 only, named by the older key cni.dev/attachments"
detached_ok "GC (cni.dev/attachments): g2" g2 gcn
expect_no_elem "GC (cni.dev/attachments): g2's port" "tcp_any 8202 :"
expect_eq "GC (cni.dev/attachments): gcn's attachments in the store" \
	"$(sql "SELECT cid FROM cni_attachment WHERE net = 'gcn'")" "$PFX-g4"
pings "GC kept g4: it pings its gateway" "$PFX-g4" 10.90.0.1
gc "$(jq -c '.["cni.dev/valid-attachments"] = []' <<<"$G")"
ok_quiet "GC with no valid attachment"
detached_ok "GC of everything: g4" g4 gcn
expect_eq "GC of everything: gcn's rows" "$(rows gcn)" 0
! has_link "$HN" cnig0 || fail "GC of everything left the bridge cnig0 (vnet-cni made it)"
echo "ok - GC of everything removed the bridge cnig0"
expect_no_elem "GC of everything: the bridge" cnig0
expect_no_elem "GC of everything: the subnet and ports" 10.90.0.
[ "$(others)" = "$OTHERS" ] || { diff <(echo "$OTHERS") <(others) >&2 || true; fail "GC of gcn touched another network"; }
echo "ok - GC of everything in gcn left the other networks as they were"

# ======== macspoofchk: a container that changes its MAC is cut off ========
ctr s1 s2
S=$(conf 1.0.0 spn cnis0 10.93.0.0/24 '.macspoofchk = true')
# spoofed BRIDGE-TABLE-SET: the elements of a set of table bridge vnet-cni
spoofed() { nsenter --net="$HNS" nft -j list set bridge vnet-cni "$1" 2>/dev/null |
	jq -r '[.nftables[] | .set? // empty | .elem[]? | if type == "object" then .concat | map(tostring) | join(" . ") else . end] | sort | join(" ")'; }
for k in 1 2; do
	add "$S" s$k
	added s$k "ADD s$k (macspoofchk)"
done
MAC1=$(jq -r '.interfaces[2].mac' <<<"${RES[s1]}")
expect_eq "macspoofchk: the guarded host ends" "$(spoofed guarded)" \
	"$(printf '%s\n' "${VETH[s1]}" "${VETH[s2]}" | sort | tr '\n' ' ' | sed 's/ $//')"
spoofed macs | grep -q "${VETH[s1]} . $MAC1" || fail "macspoofchk: no element ${VETH[s1]} . $MAC1"
echo "ok - macspoofchk: s1's host end may send only $MAC1"
pings "macspoofchk: s1 pings s2 with its own MAC" "$PFX-s1" "${IP[s2]}"
ip -n "$PFX-s1" link set eth0 address 02:5e:00:00:00:01
ip -n "$PFX-s1" neigh flush all
ip -n "$PFX-s2" neigh flush all
no_ping "macspoofchk: s1 with another MAC is cut off" "$PFX-s1" "${IP[s2]}"
del "$S" s1 ""
ok_quiet "DEL s1 (no CNI_NETNS)"
expect_eq "macspoofchk: after s1's DEL, only s2's elements" "$(spoofed guarded)" "${VETH[s2]}"
del "$S" s2
ok_quiet "DEL s2"
gc "$(jq -c '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = []' <<<"$S")"
ok_quiet "GC of spn"
! has_link "$HN" cnis0 || fail "GC of spn left its bridge cnis0"
expect_eq "macspoofchk: table bridge vnet-cni after spn's last DEL" "$(spoofed guarded)" ""

# ======== kill -9 at random moments of ADD and DEL: the next DEL leaves nothing ========
ctr k1
K=$(conf 1.0.0 crn cnik0 10.94.0.0/24 "$(pm 8300 80)")
add "$K" k1
added k1 "ADD k1 (network crn, before the kills)"
del "$K" k1
ok_quiet "DEL k1"
BEFORE=$(debris) # the network's bridge and elements stay after its last DEL
printf '%s\n' "$K" >"$KT_TMP/k.json"
# killed VERB: the plugin started for k1 and killed with SIGKILL after 0 to 14 ms
killed() {
	env CNI_COMMAND="$1" CNI_CONTAINERID="$PFX-k1" CNI_NETNS="/run/netns/$PFX-k1" \
		CNI_IFNAME=eth0 CNI_PATH="$REF" nsenter --net="$HNS" "$PLUGIN" \
		<"$KT_TMP/k.json" >/dev/null 2>&1 &
	local pid=$!
	sleep "0.00$((RANDOM % 15))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
for round in $(seq 1 12); do
	killed ADD
	[ $((round % 3)) = 0 ] && killed DEL
	del "$K" k1
	[ "$RC" = 0 ] || fail "DEL k1 after a killed ADD (round $round): exit $RC: $OUT"
	[ "$(debris)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(debris) >&2 || true; fail "round $round: a killed ADD left debris after DEL"; }
	has_link "$PFX-k1" eth0 && fail "round $round: k1 still has eth0 after DEL"
done
echo "ok - 12 ADDs (and 4 DELs) killed at random moments: each next DEL left nothing"
add "$K" k1
added k1 "ADD k1 after the kills"
pings "k1 pings its gateway after the kills" "$PFX-k1" 10.94.0.1
del "$K" k1
ok_quiet "DEL k1 at the end"

# ======== 100 ADDs, then 100 DELs, in parallel ========
N=100
PAR=$KT_TMP/par
mkdir "$PAR"
for i in $(seq $N); do echo "netns add $PFX-p$i"; done | ip -b - || fail "could not make $N namespaces"
for i in $(seq $N); do KT_OWN_NS+=("$PFX-p$i"); done
PC=$(conf 1.0.0 par cnip0 10.91.0.0/24)
# in_parallel VERB: VERB (add or del) of p1..pN all at once; each one's stdout, stderr and
# exit code in $PAR/VERBi.out, .err, .rc
in_parallel() {
	local verb=$1 i t0
	t0=$(date +%s%N)
	for i in $(seq "$N"); do
		(
			ERRF=$PAR/$verb$i.err
			"$verb" "$(jq -c "$(pm $((10000 + i)) 80)" <<<"$PC")" "p$i"
			printf '%s' "$OUT" >"$PAR/$verb$i.out"
			echo "$RC" >"$PAR/$verb$i.rc"
		) &
		JOBS+=($!)
	done
	wait "${JOBS[@]}"
	JOBS=()
	note "$N parallel ${verb^^}s: $((($(date +%s%N) - t0) / 1000000)) ms"
}
LEASES=$(leases) VETHS=$(hveths)
in_parallel add
for i in $(seq $N); do
	[ "$(cat "$PAR/add$i.rc")" = 0 ] || { cat "$PAR/add$i.out" "$PAR/add$i.err" >&2; fail "parallel ADD p$i exited $(cat "$PAR/add$i.rc")"; }
done
echo "ok - $N parallel ADDs exited 0"
ALL=$(cat "$PAR"/add*.out | jq -s -c '[.[] | {c: (.interfaces[2].sandbox | sub(".*/"; "")), a: .ips[0].address}]')
expect_eq "distinct addresses of the $N parallel ADDs" "$(jq '[.[].a] | unique | length' <<<"$ALL")" $N
jq_ok "a parallel ADD gave an address outside 10.91.0.2-254/24" "$ALL" \
	'all(.[].a; test("^10\\.91\\.0\\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])/24$"))'
for i in $(seq $N); do
	a=$(jq -r --arg c "$PFX-p$i" '.[] | select(.c == $c) | .a' <<<"$ALL")
	[ "$(addrs "$PFX-p$i" eth0)" = "$a" ] || fail "p$i's eth0 has '$(addrs "$PFX-p$i" eth0)', its result says '$a'"
done
echo "ok - every container's eth0 has the address of its result"
expect_eq "ports of cnip0" "$(bports cnip0 | grep -c '^veth' || true)" $N
expect_eq "store rows of par" "$(rows par)" $N
want=$(for i in $(seq $N); do jq -r --arg c "$PFX-p$i" --arg p $((10000 + i)) \
	'.[] | select(.c == $c) | "tcp_any \($p) : \(.a | split("/")[0]) . 80"' <<<"$ALL"; done | sort)
got=$(elems | awk '$1 == "tcp_any" && $2 > 10000 && $2 <= 10100' | sort)
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2 || true; fail "the tcp_any elements of par are not 10000+i -> p<i>'s address . 80 (diff above: wanted, got)"; }
echo "ok - tcp_any has the $N elements 10000+i : p<i>'s address . 80"
pings "p1 pings p$N" "$PFX-p1" "$(addrs "$PFX-p$N" eth0 | cut -d/ -f1)"
in_parallel del
for i in $(seq $N); do
	if [ "$(cat "$PAR/del$i.rc")" != 0 ] || [ -s "$PAR/del$i.out" ]; then
		cat "$PAR/del$i.out" "$PAR/del$i.err" >&2
		fail "parallel DEL p$i exited $(cat "$PAR/del$i.rc") or wrote to stdout"
	fi
done
echo "ok - $N parallel DELs exited 0, silent"
expect_eq "ports of cnip0 after the DELs" "$(bports cnip0 | tr '\n' ' ')" ""
expect_eq "host veths after the DELs" "$(hveths)" "$VETHS"
expect_eq "store rows of par after the DELs" "$(rows par)" 0
expect_eq "leases after the DELs" "$(leases)" "$LEASES"
expect_no_elem "the DELs: no port of par" ": 10.91.0."
for i in $(seq $N); do ! has_link "$PFX-p$i" eth0 || fail "p$i still has eth0 after its DEL"; done
echo "ok - no container of par has eth0 any more"
for i in $(seq $N); do echo "netns del $PFX-p$i"; done | ip -force -b - || true # (else cleanup)

# ======== the end: every attachment deleted, every network collected ========
for k in 1 2 3 4 5; do
	del "$(confa "$(jq -r .cniVersion <<<"${RES[c$k]}")")" c$k
	ok_quiet "DEL c$k"
	detached_ok "DEL c$k" c$k neta
done
for n in "neta cnia0 10.88.0.0/24" "dl cnie0 10.92.0.0/24" "par cnip0 10.91.0.0/24" \
	"crn cnik0 10.94.0.0/24"; do
	read -r net br sub <<<"$n"
	gc "$(conf 1.1.0 "$net" "$br" "$sub" '.["cni.dev/valid-attachments"] = []')"
	ok_quiet "GC of $net with no valid attachment"
done
if [ -x "$REF/host-local" ]; then
	gc "$(jq -c '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = []' <<<"$H")"
	ok_quiet "GC of hl (ipam host-local) with no valid attachment"
	detached_ok "GC of hl" h2 hl
	! grep -rqs "$PFX-h2" "$HL/hl" || fail "GC of hl did not release h2's host-local reservation (no delegated DEL)"
	echo "ok - GC of hl released h2's host-local reservation (delegated DEL, in a version host-local speaks)"
fi
expect_eq "store rows at the end" "$(rows)" 0
expect_eq "leases at the end" "$(leases)" 0
expect_eq "rows of cni_port and cni_network at the end" "$(count cni_port) $(count cni_network)" "0 0"
expect_eq "host veths at the end" "$(hveths)" ""
expect_eq "elements of table ip vnet-cni at the end" "$(elems | tr '\n' ' ')" ""
expect_eq "links of $HN at the end: vnet-cni's bridges gone, the test's cnie0 kept" \
	"$(ip -n "$HN" -j link | jq -r '[.[].ifname] | sort | join(" ")')" "cnie0 lo up0"
status "$(confa 1.1.0)"
ok_quiet "STATUS at the end"
note "run time: $(($(date +%s) - START)) s"
