#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# symbols.sh - libvnet.so exports exactly the functions its public headers declare
#
# Usage: tests/symbols.sh LIBVNET.so INCLUDEDIR
#   LIBVNET.so  the shared library (the build's, or an installed one)
#   INCLUDEDIR  the directory holding vnet/*.h (include/ of the source, or an installed one)
#
# The version script lib/libvnet.sym says what the library exports; the headers say what a
# program may call. Both are written by hand, so they can drift apart: a function added to a
# header but not to the script links in the tests (static) and fails in every program that
# uses the installed library; one left in the script after leaving the headers is a symbol
# nobody can call properly. This test names either kind, and which file to fix.
# Exit 0 when they agree, 1 when not, 2 on bad usage.
set -euo pipefail
if [ $# != 2 ] || [ ! -f "$1" ] || [ ! -d "$2/vnet" ]; then
	echo "usage: $0 LIBVNET.so INCLUDEDIR" >&2
	exit 2
fi
lib=$1 inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: every "vnet_NAME(" the preprocessed headers hold. The preprocessor drops the
# comments (which name functions too: "vnet_up() - build ..."); what is left of a vnet_
# identifier followed by "(" is a function declaration (macros are VNET_ in capitals).
# (A static inline function in a public header would be reported as not exported; there is
# none: every public function is the library's, out of line.)
for h in "$inc"/vnet/*.h; do
	"${CC:-cc}" -E -P -I"$inc" "$h"
done | grep -o '\bvnet_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' | sort -u \
	>"$tmp/declared"

# Exported: the library's defined dynamic function symbols, each with its version.
nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ { print $3 }' | sort -u >"$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u >"$tmp/exported"

rc=0
if ! cmp -s "$tmp/declared" "$tmp/exported"; then
	rc=1
	comm -23 "$tmp/declared" "$tmp/exported" | while read -r f; do
		echo "not exported: $f is declared in $inc/vnet/ (add it to lib/libvnet.sym)"
	done
	comm -13 "$tmp/declared" "$tmp/exported" | while read -r f; do
		echo "exported but in no public header: $f (declare it, or drop it from lib/libvnet.sym)"
	done
fi
# Each exported function carries a version of the script (VNET_0.1, ...): not "local: *"
# failing to apply because the script was not used at all.
if grep -v '@@VNET_[0-9]' "$tmp/versioned"; then
	echo "the symbols above carry no VNET_ version: was the library linked with lib/libvnet.sym?"
	rc=1
fi
[ "$rc" = 0 ] && echo "ok - $(basename "$lib") exports the $(wc -l <"$tmp/declared") functions" \
	"of $inc/vnet/*.h, and only them"
exit "$rc"
