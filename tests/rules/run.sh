#!/bin/sh
# Golden tests for the ruleset reader (no root needed).
#   X.rules       must load; its normalised print must equal X.out and
#                 load back to the same print
#   fail-X.rules  must be refused with exactly the errors in fail-X.err
#   X.v4.rules / X.v6.rules are read as one family's file (-4 / -6)
#   X.sets        beside X.rules: loaded first (nfqctd --sets)
#   sets-X.ipset  a set file: must load and save as sets-X.ipset.out
#   fail-sets-X.ipset  must be refused with exactly fail-sets-X.ipset.err
# and every example in rules/ must load.
# The driver is $RULES_CHECK, else ./tests/rules/rules-check of the build
# directory; the files are read from $NFQCT_SRCDIR (make check sets it).
set -u
srcdir=${NFQCT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
check=${RULES_CHECK:-$(pwd)/tests/rules/rules-check}
case $check in /*) ;; *) check=$(pwd)/$check ;; esac
if [ ! -x "$check" ]; then
	echo "run.sh: driver $check not found (build it: make check)" >&2
	exit 99
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }

cd "$srcdir/tests/rules" || exit 99
for f in *.rules; do
	name=${f%.rules}
	fam=
	case $name in *.v4) fam=-4 ;; *.v6) fam=-6 ;; esac
	if [ -f "$name.sets" ]; then fam="$fam -s $name.sets"; fi
	case $name in
	fail-*)
		"$check" $fam "$f" >"$tmp/out" 2>&1
		rc=$?
		if [ $rc -ne 1 ]; then
			ko "$f (exit $rc, expected 1)"
			cat "$tmp/out"
		elif ! diff -u "$name.err" "$tmp/out" >"$tmp/diff"; then
			ko "$f (errors differ)"
			cat "$tmp/diff"
		else
			ok "$f"
		fi
		;;
	*)
		"$check" -r $fam "$f" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc -ne 0 ]; then
			ko "$f (exit $rc)"
			cat "$tmp/out" "$tmp/err"
		elif ! diff -u "$name.out" "$tmp/out" >"$tmp/diff"; then
			ko "$f (output differs)"
			cat "$tmp/diff"
		else
			ok "$f"
		fi
		;;
	esac
done

for f in *.ipset; do
	[ -f "$f" ] || continue
	case $f in
	fail-*)
		"$check" -S "$f" >"$tmp/out" 2>&1
		rc=$?
		if [ $rc -ne 1 ]; then
			ko "$f (exit $rc, expected 1)"
			cat "$tmp/out"
		elif ! diff -u "$f.err" "$tmp/out" >"$tmp/diff"; then
			ko "$f (errors differ)"
			cat "$tmp/diff"
		else
			ok "$f"
		fi
		;;
	*)
		"$check" -S "$f" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc -ne 0 ]; then
			ko "$f (exit $rc)"
			cat "$tmp/out" "$tmp/err"
		elif ! diff -u "$f.out" "$tmp/out" >"$tmp/diff"; then
			ko "$f (output differs)"
			cat "$tmp/diff"
		else
			ok "$f"
		fi
		;;
	esac
done

cd "$srcdir/rules" || exit 99
for f in *.rules; do
	if "$check" -r "$f" >"$tmp/out" 2>&1; then
		ok "rules/$f"
	else
		ko "rules/$f"
		cat "$tmp/out"
	fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
