#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check.sh - vnet check probes a file's expectations (and by default every pair in a subnet);
# vnet exec runs a command in a node by name.
#
#   docker.yaml plus checks                      two.yaml: two subnets that never meet
#
#        NAME-host: br0 .9.1                     NAME.b-host:  br-a          br-b
#          |               |                                  |    |          |    |
#   c1/eth0 .9.2    c2/eth0 .9.3                             a1   a2         b1   b2
#                   (nc -lk 8080)                      10.71.1.1 .1.2  10.71.2.1 .2.2
#                                                                        fd71::1  fd71::2
#
# Proves: the declared checks hold (exit 0), ICMP and a TCP connect to a listener included;
# an expectation that cannot hold (c1 must not reach c2; a port nobody listens on) fails
# with exit 1 and is named; --json parses; with no checks, only pairs within a subnet are
# probed (never a1 -> b1); `vnet exec` runs in the node's namespace, and exits 127 for a
# command that does not exist.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init ck
command -v nc >/dev/null || skip "needs nc (netcat-openbsd)"

T=$PFX C1=$PFX-c1 C2=$PFX-c2
good=$KT_TMP/good.yaml bad=$KT_TMP/bad.yaml two=$KT_TMP/two.yaml
{
	cat examples/docker-explicit.yaml
	cat <<-'EOF'
		checks:
		  - {from: c1, to: c2}
		  - {from: c2, to: host}
		  - {from: host, to: c1}
		  - {from: c1, to: 192.168.9.1}
		  - {from: c1, to: c2, tcp: 8080}
	EOF
} >"$good"
{
	cat examples/docker-explicit.yaml
	cat <<-'EOF'
		checks:
		  - {from: c1, to: c2}
		  - {from: c1, to: c2, reach: false}
		  - {from: c2, to: c1, tcp: 9}
	EOF
} >"$bad"
cat >"$two" <<-'EOF'
	nodes: {a1: , a2: , b1: , b2: }
	bridges: {br-a: , br-b: }
	veths:
	  - va1: {master: br-a}
	    a1/eth0: {addresses: 10.71.1.1/24}
	  - va2: {master: br-a}
	    a2/eth0: {addresses: 10.71.1.2/24}
	  - vb1: {master: br-b}
	    b1/eth0: {addresses: [10.71.2.1/24, 'fd71::1/64']}
	  - vb2: {master: br-b}
	    b2/eth0: {addresses: [10.71.2.2/24, 'fd71::2/64']}
EOF

vup "$T" "$good"
wait_until 10 settled "$PFX-host" "$C1" "$C2" || fail "the docker topology did not settle"
# not through nsx (a function: $! would be a subshell, and killing it would orphan nc)
ip netns exec "$C2" nc -lk 8080 </dev/null >/dev/null 2>&1 &
bg_pid $!
listening() { nsx "$C2" ss -Hltn "sport = :8080" | grep -q .; }
wait_until 5 listening || fail "nc does not listen on 8080 in c2"

# ---- the declared checks hold ----
expect_rc 0 "$VNET" check "$good" --sandbox --name "$T"
grep -q "5 of 5 probes held" <<<"$OUT" || fail "the summary does not say 5 of 5"
json=$("$VNET" check "$good" --sandbox --name "$T" --json)
expect_eq "good: ok" "$(jq -r .ok <<<"$json")" true
expect_eq "good: tcp probe" "$(jq -r '.probes[] | select(.kind == "tcp") |
	"\(.from) \(.to) \(.address) \(.port) \(.reached)"' <<<"$json")" "c1 c2 192.168.9.3 8080 true"
expect_eq "good: every probe has a line" "$(jq '[.probes[] | select(.line == null)] | length' \
	<<<"$json")" 0

# ---- expectations that cannot hold fail, by name ----
expect_rc 1 "$VNET" check "$bad" --sandbox --name "$T"
grep -q "FAIL  c1 -> c2 (192.168.9.3) icmp: reached in .* but must not be" <<<"$OUT" ||
	fail "the output does not name c1 -> c2 (reach: false)"
grep -q "FAIL  c2 -> c1 (192.168.9.2) tcp 9: connect: Connection refused" <<<"$OUT" ||
	fail "the output does not name the refused tcp 9"
grep -q "1 of 3 probes held" <<<"$OUT" || fail "the summary does not say 1 of 3"
rc=0 json=$("$VNET" check "$bad" --sandbox --name "$T" --json) || rc=$?
expect_eq "bad --json: exit" "$rc" 1
expect_eq "bad --json: failed probes" "$(jq -r '[.probes[] | select(.held | not) |
	"\(.from)>\(.to):\(.kind)"] | join(" ")' <<<"$json")" "c1>c2:icmp c2>c1:tcp"
expect_eq "bad --json: ok, held, total" "$(jq -r '"\(.ok) \(.held) \(.total)"' <<<"$json")" \
	"false 1 3"

# ---- vnet exec ----
expect_rc 0 "$VNET" exec "$T/c1" -- ip -j addr
expect_eq "exec: c1's address" "$(jq -r '.[] | select(.ifname == "eth0") | .addr_info[] |
	select(.family == "inet") | "\(.local)/\(.prefixlen)"' <<<"$OUT")" 192.168.9.2/24
expect_rc 0 "$VNET" exec "$T/host" -- ip -br link show br0
expect_rc 127 "$VNET" exec "$T/c1" -- vnet-no-such-command
expect_rc 7 "$VNET" exec "$T/c2" -- sh -c 'exit 7'
expect_rc 2 "$VNET" exec "$T/c9" -- true

# ---- the default matrix: two subnets, probed only within each ----
vup "$T.b" "$two"
wait_until 10 settled "$T.b-a1" "$T.b-a2" "$T.b-b1" "$T.b-b2" || fail "two.yaml did not settle"
expect_rc 0 "$VNET" check "$two" --sandbox --name "$T.b"
grep -qE "^a1 +- +ok +- +-" <<<"$OUT" || fail "the matrix row of a1 is not '- ok - -'"
json=$("$VNET" check "$two" --sandbox --name "$T.b" --json)
expect_eq "two: pairs probed" "$(jq -r '[.probes[] | "\(.from)>\(.to)"] | join(" ")' \
	<<<"$json")" "a1>a2 a2>a1 b1>b2 b2>b1"
expect_eq "two: source" "$(jq -r .source <<<"$json")" default
