#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# install.sh - vnet as installed: library, headers, vnet.pc and completion, used from outside
#
#   +--------------------------+                    +--------------------------+
#   |  node a (NAME-a)         |                    |  node b (NAME-b)         |
#   |                          |     veth pair      |                          |
#   |   eth0 10.0.0.1/24  <----+--------------------+---->  eth0 10.0.0.2/24   |
#   +--------------------------+                    +--------------------------+
#     built and removed by examples/two-nodes.c, compiled against the installed files only
#     (its host part, NAME-host, is empty: the program asks for the sandbox)
#
# Proves: meson install --destdir installs the vnet command, libvnet.so.0 (soname and
# symlinks), the headers under include/vnet/, vnet.pc, both man pages and the bash
# completion; the library exports exactly the functions of the installed headers
# (tests/symbols.sh); `pkg-config --cflags --libs vnet` from the DESTDIR builds the example
# with no help from the source tree; run with LD_LIBRARY_PATH into the DESTDIR it makes the
# network above (a ping crosses it) and, with "down", removes all of it; the completion
# completes commands, options and the names of topologies that are up, and offers every
# command of `vnet --help` with exactly the options its `vnet COMMAND --help` lists.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init in
for c in meson pkg-config cc nm readelf; do
	command -v "$c" >/dev/null || skip "needs $c"
done

# The build directory the tests run ($VNET_BUILD, as tests/run takes it; else $VNET's); meson
# install brings it up to date first, so that what is installed is what the tree says.
BUILD=${VNET_BUILD:-$(dirname "$VNET")}
[ -d "$BUILD/meson-info" ] || skip "no meson build directory at $BUILD (set VNET_BUILD)"
meson introspect --buildoptions "$BUILD" >"$KT_TMP/options.json"
opt() { jq -r --arg n "$1" '.[] | select(.name == $n) | .value' "$KT_TMP/options.json"; }
D=$KT_TMP/destdir
# dir OPTION: where that meson directory option puts files under the DESTDIR
dir() {
	local v
	v=$(opt "$1")
	case $v in
	/*) echo "$D$v" ;;
	*) echo "$D$(opt prefix)/$v" ;;
	esac
}

# ---- meson install: every file in its place ----
meson install -C "$BUILD" --destdir "$D" --quiet >"$KT_TMP/install.log" 2>&1 ||
	{ cat "$KT_TMP/install.log"; fail "meson install --destdir failed"; }
echo "ok - meson install --destdir $D"
LIB=$(dir libdir) INC=$(dir includedir) SBIN=$(dir sbindir) MAN=$(dir mandir)
for f in "$SBIN/vnet" "$LIB/libvnet.so.0.1.0" "$INC/vnet/vnet.h" "$INC/vnet/check.h" \
	"$INC/vnet/render.h" "$LIB/pkgconfig/vnet.pc" "$MAN/man8/vnet.8" "$MAN/man5/vnet-topology.5"; do
	[ -f "$f" ] || fail "not installed: ${f#"$D"}"
done
[ -x "$SBIN/vnet" ] || fail "${SBIN#"$D"}/vnet is not executable"
expect_eq "libvnet.so.0 links to" "$(readlink "$LIB/libvnet.so.0")" libvnet.so.0.1.0
expect_eq "libvnet.so links to" "$(readlink "$LIB/libvnet.so")" libvnet.so.0
soname=$(readelf -d "$LIB/libvnet.so.0.1.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
expect_eq "soname" "$soname" libvnet.so.0
COMP=$(find "$D" -path '*/bash-completion/completions/vnet' -type f)
[ -n "$COMP" ] || fail "no bash completion installed (bash-completion/completions/vnet)"
echo "ok - installed: vnet, libvnet.so.0.1.0, headers, vnet.pc, man pages, ${COMP#"$D"}"

# ---- the exported symbols are the headers' functions ----
"$KT_ROOT/tests/symbols.sh" "$LIB/libvnet.so.0.1.0" "$INC" || fail "libvnet.so exports differ"

# ---- a program of one's own, from the installed files alone ----
cp "$KT_ROOT/examples/two-nodes.c" "$KT_TMP/" # away from the source tree's include/
PC=(env PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D")
pcflags=$("${PC[@]}" pkg-config --cflags --libs vnet) || fail "pkg-config --cflags --libs vnet"
read -ra flags <<<"$pcflags"
# A library built with sanitizers needs their runtimes in the program that loads it.
san=$(opt b_sanitize)
[ "$san" = none ] || flags+=("-fsanitize=$san")
note "cc two-nodes.c ${flags[*]}"
cc -Wall -Wextra -Werror -MD -MF "$KT_TMP/two-nodes.d" -o "$KT_TMP/two-nodes" \
	"$KT_TMP/two-nodes.c" "${flags[@]}" || fail "examples/two-nodes.c does not build"
hdr=$(grep -o '[^ ]*/vnet/vnet\.h' "$KT_TMP/two-nodes.d" | sort -u)
expect_eq "vnet/vnet.h the example was built with" "$hdr" "$INC/vnet/vnet.h"
# inst CMD...: CMD with the installed libvnet (only those; cleanup's vnet is the build's)
inst() { LD_LIBRARY_PATH=$LIB "$@"; }
expect_eq "libvnet the example loads" \
	"$(inst ldd "$KT_TMP/two-nodes" | awk '$1 == "libvnet.so.0" { print $3 }')" "$LIB/libvnet.so.0"

T=$PFX
track "$T" # if the test fails half way, cleanup's vnet down (same store) removes it
expect_rc 0 inst "$KT_TMP/two-nodes" "$VNET_STATE_DIR" "$T"
A=$T-a B=$T-b
for n in "$A:10.0.0.1/24" "$B:10.0.0.2/24"; do
	ns=${n%%:*}
	has_ns "$ns" || fail "no namespace $ns"
	expect_eq "$ns eth0 kind" "$(lget "$ns" eth0 .linkinfo.info_kind)" veth
	expect_eq "$ns eth0 operstate" "$(lget "$ns" eth0 .operstate)" UP
	expect_eq "$ns eth0 tag" "$(lget "$ns" eth0 .ifalias)" "vnet:$T"
	expect_eq "$ns eth0 addresses" "$(addrs "$ns" eth0)" "${n#*:}"
done
expect_eq "a/eth0's peer" "$(lget "$A" eth0 .link_index)" "$(lget "$B" eth0 .ifindex)"
nsx "$A" ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "ping from a to b (10.0.0.2)"
echo "ok - a ping crosses the pair the example made"
expect_eq "vnet list (the same store)" "$("$VNET" list --json | jq -r '.[].name')" "$T"

# ---- the completion, sourced as bash-completion would ----
# complete_line WORDS...: the installed completion's replies for the line, the cursor on its
# last word, one a line.
complete_line() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	inst bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vnet
		printf "%s\n" "${COMPREPLY[@]}"' "$COMP" "$@"
}
expect_eq "complete -p vnet" "$(bash -c '. "$0"; complete -p vnet' "$COMP")" \
	"complete -F _vnet vnet"
expect_eq "vnet sh<TAB>" "$(complete_line vnet sh)" show
expect_eq "vnet up --dr<TAB>" "$(complete_line vnet up --dr)" --dry-run
expect_eq "vnet show <TAB> (topologies up)" "$(complete_line "$SBIN/vnet" show '')" "$T"
expect_eq "vnet exec $T/<TAB>" "$(complete_line "$SBIN/vnet" exec "$T/" | sort | tr '\n' ' ')" \
	"$T/a $T/b $T/host "
mkdir "$KT_TMP/files" && touch "$KT_TMP/files/net.yaml" "$KT_TMP/files/notes.txt"
expect_eq "vnet up FILE<TAB>" "$(cd "$KT_TMP/files" && complete_line vnet up n)" net.yaml

# Every command and option the program knows, the completion knows, and no other.
# help_commands: the first word of each line of --help's "Commands:"
help_commands() {
	inst "$SBIN/vnet" --help |
		awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}
# help_options CMD: the options `vnet CMD --help` lists ("-v, --verbose" is two), sorted
help_options() {
	inst "$SBIN/vnet" "$1" --help |
		awk '/^Options:/ { on = 1; next } on && /^$/ { exit }
			on { sub(/^  /, ""); split($0, f, "  "); print f[1] }' |
		tr ', ' '\n' | grep '^-' | sort
}
# shellcheck disable=SC2016 # expanded by the inner bash
expect_eq "the completion's commands" \
	"$(bash -c '. "$0"; printf "%s\n" $_vnet_commands' "$COMP" | grep -vx help | sort | xargs)" \
	"$(help_commands | sort | xargs)"
for cmd in $(help_commands); do
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_eq "the completion's options of $cmd" \
		"$(bash -c '. "$0"; printf "%s\n" $(_vnet_options "$1")' "$COMP" "$cmd" | sort | xargs)" \
		"$(help_options "$cmd" | xargs)"
done

# ---- down: nothing left ----
expect_rc 0 inst "$KT_TMP/two-nodes" "$VNET_STATE_DIR" "$T" down
expect_eq "namespaces left" "$(ns_list)" ""
expect_eq "topologies in the store" "$("$VNET" list --json | jq length)" 0
