#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# show.sh - vnet show draws what the kernel has: text, JSON (checked against ip -j), DOT, SVG.
#
# +--------------------------------+----------------------+----------------------+
# | host (NAME-host)               | c1 (NAME-c1)         | c2 (NAME-c2)         |
# | +------------------------+     | +----------------+   | +----------------+   |
# | | Network Protocol Stack |     | | Protocol Stack |   | | Protocol Stack |   |
# | +------------------------+     | +----------------+   | +----------------+   |
# |  ↑                             |  ↑                   |  ↑                   |
# |  |    192.168.9.1/24           |  |    192.168.9.2/24 |  |    192.168.9.3/24 |
# |  |  +-----+     +---------+    |  |  +------+         |  |  +------+         |
# |  +->| br0 |<-+->| veth-c1 |==a |  +->| eth0 |==a      |  +->| eth0 |==b      |
# |     +-----+  |  +---------+    |     +------+         |     +------+         |
# |              +->| veth-c2 |==b | default via .9.1     | default via .9.1     |
# +--------------------------------+----------------------+----------------------+
# and examples/stp-loop.yaml (sw1, sw2, sw3 in a triangle, pc1 and pc2).
#
# Proves: the text names every device and address of docker-explicit.yaml in 80 columns; an address
# deleted by hand disappears from it (show reads the kernel, not the file); --json has schema 1
# and agrees with `ip -j` on every link, address and master, and gives each STP port a state
# and role (one port of the loop blocked); --dot parses (when dot is installed); the SVG,
# drawn by Chromium, shows the names (when /usr/bin/chromium is installed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init sh

T=$PFX S=$PFX.s H=$PFX-host C2=$PFX-c2
vup "$T" examples/docker-explicit.yaml
vup "$S" examples/stp-loop.yaml

# ---- text ----
txt=$("$VNET" show "$T")
printf '%s\n' "$txt" | sed 's/^/    | /'
for w in "host ($H)" "c1 ($PFX-c1)" "c2 ($C2)" br0 veth-c1 veth-c2 eth0 \
	192.168.9.1/24 192.168.9.2/24 192.168.9.3/24 "default" "<-+->" legend:; do
	grep -qF -- "$w" <<<"$txt" || fail "show $T does not name '$w'"
done
echo "ok - the text names every device and address"
# (the arrow is three bytes in one column; mawk counts bytes)
cols=$(printf '%s\n' "$txt" | sed 's/↑/^/g' | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$cols" -le 80 ] || fail "show $T is $cols columns wide, more than 80"
echo "ok - docker-explicit.yaml fits 80 columns ($cols)"
expect_rc 2 "$VNET" show "$PFX-nosuch"
grep -q "no topology named" <<<"$OUT" || fail "unknown NAME: no clear message"
all=$("$VNET" show)
grep -qF "topology $T " <<<"$all" && grep -qF "topology $S " <<<"$all" ||
	fail "vnet show without NAME does not show both topologies"
echo "ok - vnet show without NAME shows every topology"
stp=$("$VNET" show "$S")
printf '%s\n' "$stp" | sed 's/^/    | /'
grep -q "blocking" <<<"$stp" || fail "show $S shows no blocked port"

# ---- drift: an address deleted by hand is gone from show ----
ip -n "$C2" addr del 192.168.9.3/24 dev eth0
"$VNET" show "$T" | grep -qF 192.168.9.3 && fail "show still draws the deleted address"
echo "ok - the deleted address is gone from show"
"$VNET" show "$T" --json | jq -e '[.nodes[] | select(.name == "c2") | .links[] |
	select(.name == "eth0") | .addresses[]] | length == 0' >/dev/null ||
	fail "show --json still lists the deleted address"
vup "$T" examples/docker-explicit.yaml

# ---- JSON: the schema, and agreement with ip -j ----
json_check() { # NAME: schema 1; every link, address and master as `ip -j` says
	local name=$1 j ns node
	j=$("$VNET" show "$name" --json)
	jq -e '.schema == 1 and (.sandbox | type == "boolean") and (.nodes | length > 0)
		and all(.nodes[]; (.name | type == "string") and (.netns | type == "string")
			and all(.links[]; (.name | type == "string") and (.up | type == "boolean")
				and (.mtu | type == "number") and (.owned | type == "boolean")
				and (.addresses | type == "array")))
		and all(.wires[]; .kind == "veth" and (.a.node | type == "string"))' \
		<<<"$j" >/dev/null || fail "show $name --json does not follow schema 1"
	for ns in $(jq -r '.nodes[].netns' <<<"$j"); do
		node=$(jq -r --arg ns "$ns" '.nodes[] | select(.netns == $ns) | .name' <<<"$j")
		expect_eq "$name/$node links" \
			"$(jq -r --arg ns "$ns" '.nodes[] | select(.netns == $ns) | .links[] |
				"\(.name) \(.master // "-") \(.mtu) \(.mac)"' <<<"$j" | sort)" \
			"$(ip -n "$ns" -j link | jq -r '.[] | "\(.ifname) \(.master // "-") \(.mtu) \(.address)"' | sort)"
		expect_eq "$name/$node addresses" \
			"$(jq -r --arg ns "$ns" '.nodes[] | select(.netns == $ns) | .links[] |
				.name as $l | .addresses[] | "\($l) \(.address)"' <<<"$j" | sort)" \
			"$(ip -n "$ns" -j addr | jq -r '.[] | .ifname as $l | .addr_info[] |
				select(.scope != "link") | "\($l) \(.local)/\(.prefixlen)"' | sort)"
	done
	J=$j
}
json_check "$T"
expect_eq "docker wires" "$(jq -r '.wires[] | "\(.a.node)/\(.a.link)-\(.b.node)/\(.b.link)"' <<<"$J" | sort)" \
	"host/veth-c1-c1/eth0
host/veth-c2-c2/eth0"
expect_eq "c1 route" "$(jq -r '.nodes[] | select(.name == "c1") | .routes[] | "\(.dst) \(.via)"' <<<"$J")" \
	"default 192.168.9.1"
wait_until 60 settled "$S-host" || fail "the STP loop did not settle"
json_check "$S"
expect_eq "STP ports with a state and a role" \
	"$(jq '[.nodes[].links[] | select(.port) | select(.port.state and .port.role)] | length' <<<"$J")" 8
expect_eq "blocked ports" \
	"$(jq '[.nodes[].links[] | select(.port.state == "blocking")] | length' <<<"$J")" 1
expect_eq "port states as bridge -j says" \
	"$(jq -r '.nodes[].links[] | select(.port) | "\(.name) \(.port.state)"' <<<"$J" | sort)" \
	"$(bridge -n "$S-host" -j link | jq -r '.[] | "\(.ifname) \(.state)"' | sort)"

# ---- DOT ----
if command -v dot >/dev/null; then
	"$VNET" show "$S" --dot | dot -Tsvg >/dev/null || fail "dot cannot read show --dot"
	echo "ok - dot parses show --dot"
else
	"$VNET" show "$S" --dot | grep -q '^graph ' || fail "show --dot wrote no graph"
	note "dot is not installed: DOT output not parsed (graphviz is not a dependency)"
fi

# ---- SVG in a real browser ----
svg_check() { # NAME WORDS...
	local name=$1 page=$KT_TMP/$1.html dom
	shift
	{ echo '<!DOCTYPE html><html><body style="margin:0">'; "$VNET" show "$name" --svg
	  echo '</body></html>'; } >"$page"
	chrome() {
		timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$(mktemp -d "$KT_TMP/chrome.XXXXXX")" "$@" 2>/dev/null
	}
	dom=$(chrome --dump-dom "file://$page")
	for w in "$@"; do
		grep -qF ">$w<" <<<"$dom" || fail "the browser's page of $name lacks '$w'"
	done
	chrome --screenshot="$KT_TMP/$name.png" --window-size=1200,900 "file://$page" >/dev/null
	[ "$(stat -c %s "$KT_TMP/$name.png" 2>/dev/null || echo 0)" -gt 8000 ] ||
		fail "the screenshot of $name is missing or blank"
	echo "ok - Chromium draws $name's SVG and shows: $*"
}
if [ -x /usr/bin/chromium ]; then
	svg_check "$T" "host ($H)" br0 veth-c1 veth-c2 eth0 192.168.9.1/24 192.168.9.3/24
	svg_check "$S" sw1 sw2 sw3 s1-s2 s3-s1 10.0.0.2/24 "Network Protocol Stack"
else
	"$VNET" show "$T" --svg | grep -q '</svg>' || fail "show --svg wrote no SVG"
	note "SKIPPED the browser check: /usr/bin/chromium is absent (tools/install-deps installs it)"
fi
