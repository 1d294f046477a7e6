#!/bin/sh
# run.sh - the golden tests of `nfqct simulate` (see cases): no root needed.
#   run.sh            compare every case with its NAME.out
#   run.sh --update   rewrite the NAME.out files (read the diff before committing)
# The captures are checked against gen-captures.py first, so a capture in the
# tree and its generator cannot drift apart.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
nfqct=${NFQCT:-$dir/../../nfqct}
update=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$dir/gen-captures.py" --check "$dir" || { echo "FAIL: captures differ from gen-captures.py"; exit 1; }

# per-packet lines keep their order; the table's lines (hash order) are sorted
normalize() {
	awk '/^[0-9]+ |^\{"packet"|^--- / { print; next } { rest[n++] = $0 }
	     END { for (i = 0; i < n; i++) print rest[i] | "sort"; }'
}

fail=0
cd "$dir" || exit 1
grep -v '^#' cases | while read -r name args; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086
	"$nfqct" simulate $args >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	{ normalize <"$tmp/stdout"; echo "--- stderr"; cat "$tmp/stderr"; echo "--- exit $rc"; } >"$tmp/$name.out"
	if [ "$update" = --update ]; then
		cp "$tmp/$name.out" "$dir/$name.out"
	elif ! diff -u "$dir/$name.out" "$tmp/$name.out"; then
		echo "FAIL: $name"
		echo fail >>"$tmp/failed"
	else
		echo "ok: $name"
	fi
done
[ ! -e "$tmp/failed" ] || fail=1
exit $fail
