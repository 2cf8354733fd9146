#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cli.sh - the command line keeps its word: options per command, FILE or NAME, exit codes,
# and names that are not text shown escaped.
#
#   +--------------------------- PFX-host ---+   +--- PFX-c1 -------------+   +- PFX-c2 -+
#   |  br0 <---> veth-c1 ==a===================|===> eth0                  |   |          |
#   |      <---> veth-c2 ==b===================|===========================|==> eth0    |
#   +----------------------------------------+   |  p0 ==c== "x\x1by"     |   +----------+
#                                                |  (made by hand: ip link) |
#                                                +--------------------------+
#   examples/docker-explicit.yaml as PFX, and PFX.b, a second topology that only a file in the cwd names.
#
# Proves: `down --dry-run` prints the plan and changes nothing (namespaces, `vnet list`); an
# option a command does not take, or an extra operand, is exit 2 naming both; `down NAME`
# never reads a file called NAME in the cwd (`down ./NAME` does); a kernel refusal (EINVAL)
# is exit 3; exec into a missing node is 2, a missing command 127, one not executable 126;
# an interface named with an ESC byte comes out as \x1b in show, diff and errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init cli

T=$PFX
vup "$T" examples/docker-explicit.yaml >/dev/null

# ---- down --dry-run: the plan, and nothing else ----
expect_rc 0 "$VNET" down --dry-run "$T"
grep -q "^  - delete namespace $T-c1 (node c1)$" <<<"$OUT" || fail "down --dry-run: no plan"
grep -q "^$T: [0-9]* step(s) planned; nothing changed (--dry-run)$" <<<"$OUT" ||
	fail "down --dry-run does not say it changed nothing"
for ns in "$T-host" "$T-c1" "$T-c2"; do
	has_ns "$ns" || fail "down --dry-run removed namespace $ns"
done
expect_eq "vnet list after down --dry-run" "$("$VNET" list --json | jq -r '.[].name')" "$T"
expect_eq "down --dry-run --json: action" \
	"$("$VNET" down "$T" --dry-run --json | jq -r '.action, (.steps | length > 0)' | tr '\n' ' ')" \
	"plan true "
echo "ok - down --dry-run prints the plan and leaves $T up"

# ---- options a command does not take, operands too many or missing: exit 2 ----
# usage_err WANT-TEXT CMD...: exit 2, one line that says WANT-TEXT
usage_err() {
	local want=$1
	shift
	expect_rc 2 "$VNET" "$@"
	grep -qF -- "$want" <<<"$OUT" || fail "vnet $*: the error does not say \"$want\""
}
usage_err "vnet: down: --dot does not apply (usage: vnet down FILE|NAME [--dry-run] [--json])" \
	down --dot "$T"
usage_err "vnet: up: --dot does not apply" up --dot examples/docker-explicit.yaml --sandbox --name "$T"
usage_err "vnet: validate: --json does not apply" validate --json examples/docker-explicit.yaml
usage_err "vnet: list: --sandbox does not apply" list --sandbox --name x extra
usage_err "vnet: list: unexpected operand \"extra\"" list extra
usage_err "vnet: down: --sandbox does not apply" down "$T" --sandbox
usage_err "vnet: down: unexpected operand" down "$T" "$T"
usage_err "vnet: show: --no-wait does not apply" show "$T" --no-wait
usage_err "vnet: exec: --json does not apply" exec --json "$T/c1" true
usage_err "vnet: up: missing operand" up
has_ns "$T-c1" || fail "a refused command line took $T down"
expect_rc 0 "$VNET" down --help
grep -qF "down FILE|NAME [--dry-run] [--json]" <<<"$OUT" || fail "down --help: no usage line"
grep -q -- "--dot" <<<"$OUT" && fail "down --help lists --dot, which down does not take"
echo "ok - every command refuses what it does not take, with exit 2"

# ---- down NAME is a name; a file of that name in the cwd is not read ----
vup "$T.b" examples/veth.yaml >/dev/null
cwd=$KT_TMP/cwd
mkdir -p "$cwd"
printf 'name: %s\nnodes:\n  n1: {}\n' "$T.b" >"$cwd/$T"
(cd "$cwd" && "$VNET" down "$T" >/dev/null) || fail "down $T next to a file $T failed"
has_ns "$T-c1" && fail "down $T did not take $T down"
has_ns "$T.b-host" || fail "down $T took down $T.b, the topology the file $T names"
echo "ok - down NAME takes down NAME, not what a file NAME in the cwd declares"
(cd "$cwd" && "$VNET" down "./$T" >/dev/null) || fail "down ./$T failed"
has_ns "$T.b-host" && fail "down ./$T did not take down $T.b, which the file names"
echo "ok - down ./NAME reads the file"

# ---- the kernel's EINVAL is a refusal (3), not a bad command line (2) ----
# IPv6 needs an MTU of 1280: the file is valid, the kernel refuses the address (EINVAL).
cat >"$KT_TMP/mtu.yaml" <<'EOF'
nodes:
  a: {}
veths:
  - a/x0: {mtu: 1000, addresses: fd00::1/64}
    a/x1: {}
EOF
expect_rc 0 "$VNET" validate "$KT_TMP/mtu.yaml"
track "$T.m"
expect_rc 3 "$VNET" up "$KT_TMP/mtu.yaml" --sandbox --name "$T.m"
grep -q "Invalid argument" <<<"$OUT" || fail "the kernel's refusal is not shown"
has_ns "$T.m-a" && fail "the refused up left namespace $T.m-a"
echo "ok - a kernel refusal exits 3"

# ---- exec: 2 for a node that is not up, 127 and 126 for the command ----
vup "$T" examples/docker-explicit.yaml >/dev/null
expect_rc 2 "$VNET" exec "$T/c9" -- true
grep -q "no node \"$T/c9\"" <<<"$OUT" || fail "exec: the error does not name the node"
expect_rc 127 "$VNET" exec "$T/c1" -- vnet-no-such-command
printf '#!/bin/sh\n' >"$KT_TMP/noexec"
chmod 644 "$KT_TMP/noexec" # no x bit at all: even root gets EACCES
expect_rc 126 "$VNET" exec "$T/c1" -- "$KT_TMP/noexec"
expect_rc 2 "$VNET" down "$PFX.nosuch"

# ---- a name with an ESC byte: escaped in show, diff and errors ----
ip -n "$T-c1" link add $'x\x1by' type veth peer name p0
out=$("$VNET" show "$T")
grep -q $'\x1b' <<<"$out" && fail "show wrote a raw ESC byte"
grep -qF '*x\x1by DOWN' <<<"$out" || fail "show does not draw x\\x1by escaped: $out"
# the picture stays aligned: every line of a row of boxes, top rule to bottom, is as wide
widths=$(sed 's/\xe2\x86\x91/^/g' <<<"$out" | awk '
	!/^[|+]/ { inrow = 0 }
	/^[|+]/ {
		if (!inrow) { inrow = 1; w = length($0) } else if (length($0) != w) print NR
		if ($0 ~ /^\+/ && prev ~ /^\|/) inrow = 0
	}
	{ prev = $0 }')
[ -z "$widths" ] || fail "show's picture is not aligned: $out"
grep -qF 'c1/p0 <-> c1/x\x1by' <<<"$out" || fail "the wire list does not escape x\\x1by"
echo "ok - show escapes the ESC byte and keeps the picture aligned"
{
	cat examples/docker-explicit.yaml
	printf '  - "c1/x\\ey": {}\n    c2/q0: {}\n'
} >"$KT_TMP/esc.yaml"
# a file cannot name it (validation refuses control bytes), and says so escaped
expect_rc 2 "$VNET" diff "$KT_TMP/esc.yaml" --sandbox --name "$T"
grep -q $'\x1b' <<<"$OUT" && fail "diff's error wrote a raw ESC byte"
grep -qF 'interface name "x\x1by" contains a control character' <<<"$OUT" ||
	fail "diff's error does not escape x\\x1by"
expect_rc 2 "$VNET" down $'no\x1bsuch'
grep -qF 'no\x1bsuch' <<<"$OUT" || fail "down's error does not escape the name"
echo "ok - plans and errors escape the ESC byte"
ip -n "$T-c1" link del p0
