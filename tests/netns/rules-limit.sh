#!/usr/bin/env bash
# -m limit against the kernel's xt_limit: the same count-only rules go into nfqctd's filter
# table and, before the queue rules, into the router's own iptables/ip6tables INPUT chain
# (kernel_rules host).  The client then sends UDP to the router, and each rule's packets and
# bytes must be the kernel's exactly, and the numbers worked out by hand:
#   l1  20 packets back to back, --limit 1/min --limit-burst 7: 7 pass (per family: the
#       iptables and the ip6tables rule each have a bucket, so has nfqct's rule for both)
#   l2  12 packets back to back, -m limit (3/hour, burst 5): 5 pass
#   l3  16 packets 300 ms apart, --limit 1/sec --limit-burst 1: a packet earns 0.3 of a
#       token and the bucket holds one, so packets 0, 4, 8 and 12 pass (credit 0.9 before
#       each, capped 1.2 at each): 4.  Time matters here, for both alike: each side times
#       the same packets, and every decision is 100 ms (25 jiffies) or more from a token
#       boundary, far more than the queue's delay between the kernel's and nfqctd's view.
#       (A sender stalled by 100 ms would change the hand count, not the comparison.)
#   l4  --dport written after -m limit (burst 3, fed by ports 7103 and 7104 only): it runs
#       after the limit, as in the kernel, so 2 packets to port 7104 take credit first and
#       only 1 of 5 to 7103 counts (per family)
# Each rule carries -m comment --comment lN to pair the two sets of counters.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save
topo_create
in_router iptables -w -A INPUT -m limit --limit 1/s -m comment --comment probe 2>/dev/null ||
	skip "the kernel has no xt_limit"
in_router iptables -w -D INPUT -m limit --limit 1/s -m comment --comment probe
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }

# NAME FAMILIES RULE: families 4, 6 or 46 (the kernel table(s) that get it)
RULES=(
	"l1 46 -p udp --dport 7100 -m limit --limit 1/min --limit-burst 7"
	"l2 46 -p udp --dport 7101 -m limit"
	"l3 4 -p udp --dport 7102 -m limit --limit 1/sec --limit-burst 1"
	"l4 46 -p udp -m multiport --dports 7103,7104 -m limit --limit 1/min --limit-burst 3 -m udp --dport 7103"
)
{
	echo '*filter'
	for r in "${RULES[@]}"; do
		read -r name fams rule <<<"$r"
		fam=
		[ "$fams" = 46 ] || fam="-$fams "
		echo "-A INPUT $fam$rule -m comment --comment $name"
	done
	echo '-A INPUT -j ACCEPT'
	echo 'COMMIT'
} >"$TMP_DIR/limit.rules"
for r in "${RULES[@]}"; do
	read -r name fams rule <<<"$r"
	for f in 4 6; do
		case $fams in *$f*) ;; *) continue ;; esac
		ipt=iptables
		[ "$f" = 6 ] && ipt=ip6tables
		# shellcheck disable=SC2086
		in_router "$ipt" -w -I INPUT 1 $rule -m comment --comment "$name" ||
			fail "kernel rule $name ($ipt): $rule"
	done
done
nfqctd_start -r "$TMP_DIR/limit.rules" || exit 1

cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys, time
a, p, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"x" * 12, (a, p))
    if gap:
        time.sleep(gap)
PY
send() { assert_pass timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$@"; }
for a in "$R4C" "$R6C"; do
	send "$a" 7100 20 0
	send "$a" 7101 12 0
done
send "$R4C" 7102 16 0.3
for a in "$R4C" "$R6C"; do
	send "$a" 7104 2 0
	send "$a" 7103 5 0
done
sleep 0.5

counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(l[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1 \2/p'; }
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/ours.txt" || fail "nfqct rules -c"
counts <"$TMP_DIR/ours.txt" >"$TMP_DIR/ours"
in_router iptables-save -c -t filter | counts >"$TMP_DIR/kern4"
in_router ip6tables-save -c -t filter | counts >"$TMP_DIR/kern6"
cat "$TMP_DIR/kern4" "$TMP_DIR/kern6" >"$TMP_DIR/kern.all"
for r in "${RULES[@]}"; do
	read -r name _ <<<"$r"
	k=$(awk -v n="$name" '$1 == n { p += $2; b += $3 } END { print p + 0 ":" b + 0 }' "$TMP_DIR/kern.all")
	o=$(awk -v n="$name" '$1 == n { print $2 ":" $3 }' "$TMP_DIR/ours")
	assert_eq "$name (${r#* }) packets:bytes as the kernel's" "$k" "$o"
done
# and as worked out above (IPv4 40-byte, IPv6 60-byte packets)
assert_eq "l1 packets per family (kernel, IPv4)" 7 "$(awk '$1 == "l1" { print $2 }' "$TMP_DIR/kern4")"
assert_eq "l1 packets per family (kernel, IPv6)" 7 "$(awk '$1 == "l1" { print $2 }' "$TMP_DIR/kern6")"
assert_eq "l1 nfqctd" "14:700" "$(awk '$1 == "l1" { print $2 ":" $3 }' "$TMP_DIR/ours")"
assert_eq "l2 nfqctd" "10:500" "$(awk '$1 == "l2" { print $2 ":" $3 }' "$TMP_DIR/ours")"
assert_eq "l3 nfqctd" "4:160" "$(awk '$1 == "l3" { print $2 ":" $3 }' "$TMP_DIR/ours")"
assert_eq "l4 nfqctd" "2:100" "$(awk '$1 == "l4" { print $2 ":" $3 }' "$TMP_DIR/ours")"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
