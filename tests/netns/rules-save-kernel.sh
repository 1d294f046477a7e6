#!/usr/bin/env bash
# The printed form of the extension matches is iptables-save's: tests/rules/matches.rules,
# less what the kernel's iptables does not take (IPv6 lines go to ip6tables; ECE and CWR,
# which iptables 1.8 does not name, are left out), is loaded by iptables-restore and
# ip6tables-restore in a namespace of our own; their iptables-save -A lines must equal the
# lines `rules-check` prints for the same files, in the same order.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables-restore ip6tables-restore iptables-save ip6tables-save
CHECK=${RULES_CHECK:-$(pwd)/tests/rules/rules-check}
[ -x "$CHECK" ] || skip "rules-check not built ($CHECK)"
ns_new "$NS_R" || { fail "namespace"; exit 1; }
src=$NFQCT_SRCDIR/tests/rules/matches.rules
v6='icmpv6\|2001:db8\|-m hl \|-m frag \|-m rt \|-m ipv6header '
grep -v -e "$v6" -e 'ECE' "$src" >"$TMP_DIR/v4.rules"
grep -e '^\*\|^:\|^COMMIT' -e "$v6" "$src" | grep -v -e '--ctrepldst 2001' >"$TMP_DIR/v6.rules"
for f in 4 6; do
	ipt=iptables
	[ "$f" = 6 ] && ipt=ip6tables
	in_router "$ipt-restore" <"$TMP_DIR/v$f.rules" || { fail "$ipt-restore refused v$f.rules"; continue; }
	# the raw table first, as nfqct prints it
	{ in_router "$ipt-save" -t raw; in_router "$ipt-save" -t filter; } | grep '^-A' >"$TMP_DIR/kernel$f"
	"$CHECK" "$TMP_DIR/v$f.rules" | grep '^-A' >"$TMP_DIR/ours$f" || fail "rules-check v$f.rules"
	if diff -u "$TMP_DIR/kernel$f" "$TMP_DIR/ours$f" >"$TMP_DIR/diff$f"; then
		note "ok: IPv$f: $(wc -l <"$TMP_DIR/ours$f") rules print as $ipt-save prints them"
	else
		fail "IPv$f: nfqct's print differs from $ipt-save (- kernel, + nfqct):"
		cat "$TMP_DIR/diff$f" >&2
	fi
done
finish
