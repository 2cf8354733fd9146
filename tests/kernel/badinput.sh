#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# badinput.sh - every file of tests/data/bad is refused by `vnet up` before the kernel is touched.
#
#        tests/data/bad/*.yaml ----> vnet up --sandbox --name NAME ----> exit 2, one error line
#                                            |
#                                            +----X----> kernel: no namespace, no link;
#                                                        state store: no row
#
# Proves: for each bad file, `vnet up` exits 2 with the error line of its .err file (the same
# text `vnet validate` and the unit tests expect), creates no namespace and records nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
kt_init bad

shopt -s nullglob
files=(tests/data/bad/*.yaml)
[ ${#files[@]} -gt 0 ] || fail "no files in tests/data/bad"
n=0
for f in "${files[@]}"; do
	T=$PFX.$n
	n=$((n + 1))
	args=(--sandbox --name "$T")
	# A file that is bad only because of its own topology name (or the namespace names derived
	# from it) becomes valid under --name: run it under its own name; the state-store and
	# /run/netns checks below still hold, on the names it would use.
	if "$VNET" validate "$f" "${args[@]}" >/dev/null 2>&1; then
		args=(--sandbox)
		T=$(sed -n 's/^name: *//p' "$f")
		[ -n "$T" ] || fail "$f is valid under --name, and has no name of its own"
	fi
	track "$T" # should it be built after all, cleanup removes it and reports the leak
	ns_before=$(ls /run/netns 2>/dev/null || true) # /run/netns: not there on a fresh machine
	rc=0
	err=$("$VNET" up "$f" "${args[@]}" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 2 ] || fail "$f: vnet up ${args[*]}: expected exit 2, got $rc ($err)"
	[ "$(wc -l <<<"$err")" = 1 ] || fail "$f: expected one error line, got: $err"
	if [ -f "${f%.yaml}.err" ]; then
		want="vnet: tests/data/$(head -n 1 "${f%.yaml}.err")"
		[ "$err" = "$want" ] || fail "$f: error line
  got:  $err
  want: $want"
	else
		[[ $err == "vnet: $f"* ]] || fail "$f: the error line does not name the file: $err"
	fi
	new=$(comm -13 <(echo "$ns_before") <(ls /run/netns 2>/dev/null || true) | grep -F -- "$T" || true)
	[ -z "$new" ] || fail "$f: vnet up made namespaces: $new"
	rows=$("$VNET" list --json | jq -r '.[].name')
	[ -z "$rows" ] || fail "$f: the state store lists: $rows"
	echo "ok - $f: exit 2: $err"
done
expect_eq "namespaces with prefix $PFX" "$(ns_list | tr '\n' ' ')" ""
echo "ok - all ${#files[@]} bad files refused"
