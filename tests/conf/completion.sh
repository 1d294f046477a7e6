#!/usr/bin/env bash
# completion.sh - the bash completion of nfqct and nfqctd: options, commands, and the
# setting names after -o (from `nfqctd --print-settings`). Skips (77) without bash-completion.
set -u
build=${NFQCT_BUILDDIR:?}
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "SKIP: completion: $bc not installed (apt-get install bash-completion)" >&2; exit 77; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# shellcheck disable=SC1090
. "$bc"
# shellcheck disable=SC1091
. "$build/contrib/bash-completion/nfqct"
# The nfqctd under test answers --print-settings.
PATH=$(dirname "$NFQCTD"):$PATH

# complete WORD...: the completions of the last word of the line.
complete_line() {
	local fn
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	fn=_$1
	"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect WHAT EXPECTED-LINES WORD...
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$(complete_line "$@")
	[ "$got" = "$want" ] || fail "$what: expected [$want], got [$got]"
}

expect "nfqctd -o (prefix)" "net.netfilter.nf_conntrack_max=" nfqctd -o net.netfilter.nf_conntrack_ma
expect "nfqctd --set (prefix)" "$(printf 'nfqct.stat_interval_ms=\nnfqct.stat_layout=\nnfqct.stat_update=')" \
	nfqctd --set nfqct.stat_
expect "nfqctd --pi" "--pid-file" nfqctd --pi
expect "nfqctd --print" "--print-settings" nfqctd --print
expect "nfqct command" "$(printf 'save\nset\nsimulate\nstat')" nfqct s
expect "nfqct command (upgrade)" "$(printf 'update\nupgrade')" nfqct up
expect "nfqct restore --" "--replace" nfqct restore --
expect "nfqct simulate -o" "nfqct.batch=" nfqct simulate -o nfqct.bat
expect "nfqct stat --j" "--json" nfqct stat --j

# Every setting is offered after -o.
n=$(complete_line nfqctd -o '' | grep -c .)
want=$("$NFQCTD" --print-settings | grep -c .)
[ "$n" = "$want" ] || fail "nfqctd -o: $n names offered, $want settings"

[ "$failures" -eq 0 ] || exit 1
echo "PASS: completion"
