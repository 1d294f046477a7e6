#!/usr/bin/env bash
# -m recent against the kernel's xt_recent, the classic SSH guard:
#   r1  -p tcp --dport 7200 --syn -m recent --set --name G --rsource
#   r2  -p tcp --dport 7200 --syn -m recent --update --seconds 60 --hitcount 4 --name G
#       --rsource -j DROP
# in nfqctd's filter table, and count-only (no DROP) before the queue rule in the router's
# own INPUT chains, so that both see every packet.  The client makes 6 connection attempts
# per family, each given 0.5 s (a SYN nfqctd drops is not sent again within that time):
# the first 3 connect, the 4th and later are dropped, and the kernel's r2 counts exactly
# the packets nfqctd dropped.  Then the lists themselves: `nfqct recent G` has the kernel's
# /proc/net/xt_recent/G lines (addresses, TTLs, stamp counts; the jiffies are each side's
# clock), survives a reload, and `nfqct recent G -ADDR` (written to the kernel's file too)
# lets the next attempt through in both.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save
topo_create
in_router iptables -w -A INPUT -m recent --rcheck --name probe 2>/dev/null ||
	skip "the kernel has no xt_recent"
in_router iptables -w -D INPUT -m recent --rcheck --name probe
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }

R1="-p tcp --dport 7200 --syn -m recent --set --name G --rsource"
R2="-p tcp --dport 7200 --syn -m recent --update --seconds 60 --hitcount 4 --name G --rsource"
cat >"$TMP_DIR/recent.rules" <<EOF2
*filter
-A INPUT $R1 -m comment --comment r1
-A INPUT $R2 -m comment --comment r2 -j DROP
-A INPUT -j ACCEPT
COMMIT
EOF2
for ipt in iptables ip6tables; do
	# r2 then r1 at the top: r1 runs first, as in nfqctd
	# shellcheck disable=SC2086
	in_router "$ipt" -w -I INPUT 1 $R2 -m comment --comment r2 || fail "kernel r2 ($ipt)"
	# shellcheck disable=SC2086
	in_router "$ipt" -w -I INPUT 1 $R1 -m comment --comment r1 || fail "kernel r1 ($ipt)"
done
nfqctd_start -r "$TMP_DIR/recent.rules" || exit 1

cat >"$TMP_DIR/server.py" <<'PY'
import signal, socket, sys
signal.alarm(60)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
PY
cat >"$TMP_DIR/connect.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(n):
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect((a, p))
        out.append("ok")
    except OSError:
        out.append("no")
    s.close()
print(" ".join(out))
PY
ip netns exec "$NS_R" python3 "$TMP_DIR/server.py" 7200 &
PIDS+=($!)
wait_listen "$NS_R" tcp 7200 || exit 1
attempts() { timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/connect.py" "$@"; }

assert_eq "IPv4 attempts" "ok ok ok no no no" "$(attempts "$R4C" 7200 6)"
assert_eq "IPv6 attempts" "ok ok ok no no no" "$(attempts "$R6C" 7200 6)"

counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(r[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1 \2/p'; }
# kernel counters since kern.base (nfqctd's start again at a reload)
: >"$TMP_DIR/kern.base"
kcounts() {
	{ in_router iptables-save -c -t filter; in_router ip6tables-save -c -t filter; } | counts
}
compare() {
	local name k o
	"$NFQCT" -s "$STATDIR" rules -c | counts >"$TMP_DIR/ours"
	kcounts >"$TMP_DIR/kern"
	for name in r1 r2; do
		k=$(awk -v n="$name" '$1 == n { p += $2; b += $3 } END { print p + 0 ":" b + 0 }' "$TMP_DIR/kern" |
			awk -F: -v n="$name" -v base="$TMP_DIR/kern.base" '
				BEGIN { while ((getline l < base) > 0) { split(l, f, " "); if (f[1] == n) { bp += f[2]; bb += f[3] } } }
				{ print $1 - bp ":" $2 - bb }')
		o=$(awk -v n="$name" '$1 == n { print $2 ":" $3 }' "$TMP_DIR/ours")
		assert_eq "$1: $name packets:bytes as the kernel's" "$k" "$o"
	done
}
compare "6 attempts per family"
assert_eq "r2 dropped 3 SYNs per family" 6 "$(awk '$1 == "r2" { print $2 }' "$TMP_DIR/ours")"

# the lists: the kernel's lines without their jiffies (each side's own clock)
strip() { sed 's/last_seen: [0-9]*/last_seen: J/; s/ oldest_pkt: \([0-9]*\) .*/ oldest_pkt: \1/' | sort; }
"$NFQCT" -s "$STATDIR" recent G >"$TMP_DIR/ours.G" || fail "nfqct recent G"
in_router cat /proc/net/xt_recent/G | strip >"$TMP_DIR/kern.G"
assert_eq "nfqct recent G as /proc/net/xt_recent/G" "$(cat "$TMP_DIR/kern.G")" "$(strip <"$TMP_DIR/ours.G")"
assert_eq "two addresses listed" 2 "$(wc -l <"$TMP_DIR/kern.G")"
# every stamp: 6 SYNs, each stamped by --set (a 32-stamp ring; --update matched 3 times
# and stamped those again)
assert_eq "stamps of $C4" "9" "$(awk -v a="src=$C4" '$1 == a { print NF - 7 }' "$TMP_DIR/ours.G")"

# the stat tree: net/stat/nfqct_limits (kind 1 recent, 2 entries, at most 100, 32 stamps: the
# --set rule's default), its names file (net/nfqct_limits.names), and `nfqct stat` (text, JSON)
for i in $(seq 30); do
	grep -q '^00000001 00000002 ' "$STATDIR/net/stat/nfqct_limits" 2>/dev/null && break
	sleep 0.1
done
assert_eq "net/stat/nfqct_limits" "kind entries max stamps
00000001 00000002 00000064 00000020" "$(cat "$STATDIR/net/stat/nfqct_limits")"
assert_eq "net/nfqct_limits.names" "G" "$(cat "$STATDIR/net/nfqct_limits.names")"
assert_eq "nfqct stat: the list's line" "nfqct_limits: G kind=recent entries=2 max=100 stamps=32" \
	"$("$NFQCT" -s "$STATDIR" stat | grep '^nfqct_limits:')"
"$NFQCT" -s "$STATDIR" stat --json >"$TMP_DIR/stat.json" || fail "nfqct stat --json"
assert_eq "nfqct stat --json: nfqct_limits" '[{"name": "G", "kind": "recent", "entries": 2, "max": 100, "stamps": 32}]' \
	"$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["nfqct_limits"]))' "$TMP_DIR/stat.json")"

# a reload keeps the list (named by the new ruleset too); rule counters start again
kcounts >"$TMP_DIR/kern.base"
"$NFQCT" -s "$STATDIR" reload >/dev/null || fail "nfqct reload"
assert_eq "after a reload" "$(strip <"$TMP_DIR/ours.G")" "$("$NFQCT" -s "$STATDIR" recent G | strip)"

# -ADDR, in both: the next attempt connects, and the count starts again
"$NFQCT" -s "$STATDIR" recent G "-$C4" || fail "nfqct recent G -$C4"
echo "-$C4" | in_router tee /proc/net/xt_recent/G >/dev/null
assert_eq "IPv4 attempts after -ADDR" "ok ok ok no" "$(attempts "$R4C" 7200 4)"
compare "after -ADDR"
assert_fail "$NFQCT" -s "$STATDIR" recent NOPE
assert_fail "$NFQCT" -s "$STATDIR" recent G bogus
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
