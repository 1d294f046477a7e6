#!/usr/bin/env bash
# generated.sh - the files generated at build time are right:
#   rules/nfqct.conf loads (`nfqctd --check -c`), lists every setting of the daemon's table
#   (`nfqctd --print-settings`) once, in order, at its default, commented out; with every
#   line uncommented it still loads and changes nothing;
#   rules/nfqct.rules (installed as the default ruleset) loads and accepts everything;
#   the unit, the man pages and the completion have no @placeholder@ left.
set -u
src=${NFQCT_SRCDIR:?} build=${NFQCT_BUILDDIR:?}
conf=$build/rules/nfqct.conf
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
tmp=$(mktemp -d /tmp/nfqct-generated.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -s "$conf" ] || { echo "FAIL: $conf missing (make builds it)" >&2; exit 1; }

out=$("$NFQCTD" --check -c "$conf" -r "$src/rules/nfqct.rules" 2>&1) ||
	fail "nfqctd --check -c $conf: $out"
# then a line on the state file, which never fails the check
[ "$(printf '%s\n' "$out" | head -n 1)" = "nfqctd: configuration OK" ] &&
	printf '%s\n' "$out" | sed -n 2p | grep -q '^nfqctd: state file .*: missing: the table starts empty$' ||
	fail "--check printed: $out"

# Every setting line, uncommented, against the daemon's own list.
sed -n 's/^# \([a-z][a-z0-9_.]* = .*\)$/\1/p' "$conf" >"$tmp/conf.list"
"$NFQCTD" --print-settings >"$tmp/table.list" || fail "nfqctd --print-settings"
[ -s "$tmp/table.list" ] || fail "nfqctd --print-settings printed nothing"
diff -u "$tmp/table.list" "$tmp/conf.list" >&2 || fail "nfqct.conf and the settings table differ"
dups=$(cut -d' ' -f1 "$tmp/conf.list" | sort | uniq -d)
[ -z "$dups" ] || fail "settings listed twice: $dups"
# Nothing but comments and blank lines: the file as installed changes nothing.
bad=$(grep -v -e '^#' -e '^$' "$conf")
[ -z "$bad" ] || fail "uncommented lines in nfqct.conf: $bad"

# Uncommented, it loads and its values are the defaults.
sed 's/^# \([a-z][a-z0-9_.]* = \)/\1/' "$conf" >"$tmp/uncommented.conf"
out=$("$NFQCTD" --check -c "$tmp/uncommented.conf" 2>&1) || fail "uncommented nfqct.conf refused: $out"
"$NFQCTD" --print-settings -c "$tmp/uncommented.conf" >"$tmp/in-force.list" 2>&1 ||
	fail "--print-settings -c uncommented: $(cat "$tmp/in-force.list")"
cmp -s "$tmp/table.list" "$tmp/in-force.list" || fail "the uncommented nfqct.conf changes settings"

# The check can fail: a changed value shows, a wrong one is refused.
echo "nfqct.batch = 7" >>"$tmp/uncommented.conf"
"$NFQCTD" --print-settings -c "$tmp/uncommented.conf" | grep -qx 'nfqct.batch = 7' ||
	fail "--print-settings does not show a value from -c"
echo "nfqct.batch = many" >"$tmp/wrong.conf"
"$NFQCTD" --check -c "$tmp/wrong.conf" >/dev/null 2>&1 && fail "--check -c accepted nfqct.batch = many"

# The default ruleset accepts everything, in every chain of both tables.
"$NFQCT" check "$src/rules/nfqct.rules" >/dev/null 2>&1 || fail "nfqct check rules/nfqct.rules"
rules=$(grep -v -e '^#' -e '^$' "$src/rules/nfqct.rules")
echo "$rules" | grep -q '^-A' && fail "rules/nfqct.rules has rules; it must accept everything"
echo "$rules" | grep '^:' | grep -v ' ACCEPT$' && fail "rules/nfqct.rules: a policy is not ACCEPT"

for f in doc/nfqctd.8 doc/nfqct.8 doc/nfqct.rules.5 doc/nfqct-kernel-rules.8 \
	contrib/nfqctd.service contrib/bash-completion/nfqct; do
	if [ ! -s "$build/$f" ]; then
		fail "$f not generated"
	elif grep -n '@[a-zA-Z_]*@' "$build/$f" >&2; then
		fail "$f: placeholders left"
	fi
done
grep -q '^ExecStart=/.*/nfqctd --pid-file ' "$build/contrib/nfqctd.service" ||
	fail "nfqctd.service: no ExecStart with an absolute nfqctd path and --pid-file"

[ "$failures" -eq 0 ] || exit 1
echo "PASS: generated files"
