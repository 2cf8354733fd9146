# SPDX-License-Identifier: LGPL-2.1-or-later
# vnet.bash - bash completion for vnet(8): commands, each command's options, topology files
# where a FILE goes and the topologies that are up where a NAME goes
# shellcheck shell=bash
#
# Installed as bash-completion's completions/vnet, which loads it the first time vnet is
# completed. It uses nothing of bash-completion itself, so `. vnet.bash` works without it.
# The commands and options are those of src/vnet.c's table; tests/kernel/install.sh checks
# them against `vnet COMMAND --help`.

_vnet_commands="up confirm down diff show check exec stp recover list validate tunnel help"

# _vnet_options CMD: the options CMD takes ("" for none yet), then those of every command.
_vnet_options() {
	local own=''
	case $1 in
	up) own="--host --dry-run --sandbox --name --no-wait --try --json" ;;
	confirm) own="" ;;
	down) own="--host --dry-run --json" ;;
	diff | check) own="--host --sandbox --name --json" ;;
	show) own="--json --dot --svg" ;;
	stp) own="--name --json" ;;
	recover | list) own="--json" ;;
	validate) own="--host --sandbox --name" ;;
	tunnel) own="--peer --local --id --mtu --tap --no-offload --queues --json" ;;
	"") own="--version" ;;
	esac
	echo "$own --state-dir --verbose -v --help -h"
}

# _vnet_run ARGS...: vnet, as the line names it, with the line's --state-dir; no errors
# shown (a user other than root may not read the store: then there is nothing to offer).
_vnet_run() {
	local vnet=${COMP_WORDS[0]}
	[[ $vnet == */* && -x $vnet ]] || vnet=vnet
	"$vnet" ${_vnet_state_dir:+--state-dir "$_vnet_state_dir"} "$@" 2>/dev/null
}

# _vnet_topologies: the names of the topologies that are up, as `vnet list` shows them.
_vnet_topologies() {
	_vnet_run list | awk '$0 != "no topologies are up" { print $1 }'
}

# _vnet_nodes TOPOLOGY: its nodes, host part included. They are the "name" fields of the
# elements of "nodes" in `vnet show --json` (doc/show-json.md), which the library's
# writer indents by six spaces, deeper than the links' names.
_vnet_nodes() {
	_vnet_run show "$1" --json | sed -n 's/^      "name": "\([^"]*\)",$/\1/p'
}

# _vnet_add WORDS...: add those of WORDS that start with the current word to the replies.
_vnet_add() {
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$*" -- "$cur")
}

# _vnet_files: directories, and the topology files (*.yaml, *.yml) in them.
_vnet_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur"
		compgen -f -X '!*.yaml' -- "$cur"
		compgen -f -X '!*.yml' -- "$cur")
}

# _vnet_exec: exec [TOPOLOGY/]NODE -- CMD [ARGS...]: a node as TOPOLOGY/NODE, then "--",
# then a command and, for its arguments, bash's own file names.
_vnet_exec() {
	local t n
	if ((dashdash)); then
		if ((COMP_CWORD == dashdash + 1)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
		else
			compopt -o default 2>/dev/null
		fi
	elif ((nargs > 0)); then
		_vnet_add --
	elif [[ $cur == */* ]]; then
		t=${cur%%/*}
		for n in $(_vnet_nodes "$t"); do
			_vnet_add "$t/$n"
		done
	else
		compopt -o nospace 2>/dev/null # a node's name follows the "/"
		for t in $(_vnet_topologies); do
			_vnet_add "$t/"
		done
	fi
}

# _vnet_operand: what goes where the cursor is, given the command and its operands so far.
_vnet_operand() {
	case $cmd in
	"" | help) ((nargs > 0)) || _vnet_add "$_vnet_commands" ;;
	up | diff | check | validate) ((nargs > 0)) || _vnet_files ;;
	down | confirm)
		((nargs > 0)) && return
		_vnet_files
		_vnet_add "$(_vnet_topologies)"
		;;
	show) ((nargs > 0)) || _vnet_add "$(_vnet_topologies)" ;;
	exec) _vnet_exec ;;
	esac
	# stp [NODE/]BRIDGE and recover NAME (a topology vnet no longer lists): nothing to offer
}

# _vnet_scan: from the words before the cursor, the command, how many operands it has,
# where exec's "--" is, and --state-dir (also as --state-dir=DIR, which bash splits at "=").
_vnet_scan() {
	local i w
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--state-dir | --name | --try | --host | --peer | --local | --id | --mtu)
			((i + 1 < COMP_CWORD)) || break # the cursor is on the value
			i=$((i + 1))
			[[ ${COMP_WORDS[i]} == = ]] && i=$((i + 1))
			[[ $w == --state-dir ]] && _vnet_state_dir=${COMP_WORDS[i]}
			;;
		--) [[ $cmd == exec ]] && dashdash=$i && break ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$w; else nargs=$((nargs + 1)) operand=${operand:-$w}; fi ;;
		esac
	done
}

_vnet() {
	local cur=${COMP_WORDS[COMP_CWORD]} opt=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd='' nargs=0 dashdash=0 _vnet_state_dir='' operand=''
	COMPREPLY=()
	_vnet_scan
	# "--state-dir=DIR": bash made "--state-dir", "=" and "DIR" of it
	[[ $cur == = ]] && cur=
	[[ $opt == = ]] && opt=${COMP_WORDS[COMP_CWORD - 2]}
	if ((dashdash)); then
		_vnet_exec
	elif [[ $opt == --state-dir ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	elif [[ $opt == --host ]]; then
		# the hosts of the FILE operand: the keys of its top-level "hosts" map
		[[ -f $operand ]] && _vnet_add "$(sed -n '/^hosts:/,/^[^ #]/s/^  \([A-Za-z0-9_.-]*\):.*/\1/p' \
			"$operand" 2>/dev/null)"
	elif [[ $opt == --try ]]; then
		_vnet_add 30 60 120 300 # seconds
	elif [[ $opt == --name ]]; then
		# stp's --name is the topology the bridge is in; the others' a new name to give
		[[ $cmd == stp ]] && _vnet_add "$(_vnet_topologies)"
	elif [[ $cur == -* ]]; then
		_vnet_add "$(_vnet_options "$cmd")"
	else
		_vnet_operand
	fi
	return 0
}

complete -F _vnet vnet
