# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - what the benchmarks share: statistics over microseconds, and their printing.
# shellcheck shell=bash

# median US...: the median of whole numbers (the mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -n |
		awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'
}

# minimum US...: the smallest.
minimum() { printf '%s\n' "$@" | sort -n | head -n 1; }

# ms US: "123.4 ms", or "1.23 s" from a second up.
ms() {
	awk -v u="$1" 'BEGIN { if (u >= 1000000) printf "%.2f s", u / 1e6; else printf "%.1f ms", u / 1e3 }'
}
