#!/usr/bin/env bash
# check-examples.sh - every ruleset in rules/ passes `nfqctd --check` and
# `nfqct check` (exit 0); a bad file is refused by both (exit 1) with its
# errors as file:line:column, and the settings of --check are checked too.
set -u
src=${NFQCT_SRCDIR:?}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# (the state file is not what is checked here: none, and --check says so on a line of its own)
for f in "$src"/rules/*.rules; do
	out=$("$NFQCTD" --check -r "$f" -o nfqct.state_file=none 2>&1) || fail "nfqctd --check -r $f: $out"
	[ "$out" = "nfqctd: configuration OK
nfqctd: no state file (nfqct.state_file = none): the table starts empty" ] ||
		fail "nfqctd --check -r $f printed: $out"
	out=$("$NFQCT" check "$f" 2>&1) || fail "nfqct check $f: $out"
done

bad=$(mktemp /tmp/nfqct-check.XXXXXX)
trap 'rm -f "$bad"' EXIT
printf '*filter\n:INPUT ACCEPT\n-A INPUT -p tcp --dport 22 --frobnicate -j ACCEPT\n-A INPUT -j REJECTED\nCOMMIT\n' >"$bad"
for cmd in "$NFQCTD --check -r" "$NFQCT check"; do
	# shellcheck disable=SC2086
	out=$($cmd "$bad" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] || fail "$cmd (bad file): exit $rc, expected 1"
	echo "$out" | grep -qx "$bad:3:28: error: unknown option '--frobnicate' of match tcp: expected --sport, --dport, --tcp-flags, --syn, --tcp-option" ||
		fail "$cmd (bad file): no file:line:column error for line 3 in: $out"
	echo "$out" | grep -q "^$bad:4:" || fail "$cmd (bad file): the second error (line 4) is not reported: $out"
done

out=$("$NFQCTD" --check -r "$src/rules/host.rules" -o nfqct.nosuch=1 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "nfqctd --check with a bad setting: exit $rc, expected 1"
echo "$out" | grep -qx -- "-o: error: unknown setting 'nfqct.nosuch'" || fail "bad setting not named: $out"

[ "$failures" -eq 0 ] || exit 1
echo "check-examples: all rulesets in rules/ accepted, bad input refused"
