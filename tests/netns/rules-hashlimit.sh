#!/usr/bin/env bash
# -m hashlimit against the kernel's xt_hashlimit: the same count-only rules go into nfqctd's
# filter table and, before the queue rules, into the router's own iptables/ip6tables INPUT
# chain (kernel_rules host).  The client sends 10 UDP datagrams back to back from each of
# two source addresses of each family; every rule's packets and bytes must be the kernel's
# exactly, and as worked out by hand (a table per family, in the kernel and in nfqctd):
#   h1  --hashlimit-upto 1/min --hashlimit-burst 4, mode srcip: 4 per source        -> 16
#   h2  --hashlimit-above 1/min --hashlimit-burst 3, mode srcip,dstport: 7 per source -> 28
#   h3  --hashlimit-upto 1kb/s (bytes), no mode (one bucket per family): a second's
#       credit, 250 * 2^24, at 9 chunks of 16 bytes a 128-byte IPv4 packet (7 pass) and
#       10 a 148-byte IPv6 one (6 pass); the refill, 2^24 a jiffy, is a 35th of a
#       packet's cost a jiffy: the 20 packets take far less than the 100 ms that would
#       add one                                                                       -> 13
# Then net/stat/nfqct_limits lists the six tables with their entries (the shortest expiry,
# h3's 15 s of byte mode, is far longer than the test).
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save
topo_create
in_router iptables -w -A INPUT -m hashlimit --hashlimit-upto 1/s --hashlimit-name probe 2>/dev/null ||
	skip "the kernel has no xt_hashlimit"
in_router iptables -w -D INPUT -m hashlimit --hashlimit-upto 1/s --hashlimit-name probe
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
in_client ip addr add 198.18.0.3/24 dev c0
in_client ip addr add 2001:db8::3/64 dev c0 nodad

RULES=(
	"h1 -p udp --dport 7400 -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 4 --hashlimit-mode srcip --hashlimit-name h1"
	"h2 -p udp --dport 7401 -m hashlimit --hashlimit-above 1/min --hashlimit-burst 3 --hashlimit-mode srcip,dstport --hashlimit-name h2"
	"h3 -p udp --dport 7402 -m hashlimit --hashlimit-upto 1kb/s --hashlimit-name h3"
)
{
	echo '*filter'
	for r in "${RULES[@]}"; do
		read -r name rule <<<"$r"
		echo "-A INPUT $rule -m comment --comment $name"
	done
	echo '-A INPUT -j ACCEPT'
	echo 'COMMIT'
} >"$TMP_DIR/hashlimit.rules"
for r in "${RULES[@]}"; do
	read -r name rule <<<"$r"
	for ipt in iptables ip6tables; do
		# shellcheck disable=SC2086
		in_router "$ipt" -w -I INPUT 1 $rule -m comment --comment "$name" || fail "kernel rule $name ($ipt)"
	done
done
nfqctd_start -r "$TMP_DIR/hashlimit.rules" || exit 1

cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys
src, a, p, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(n):
    s.sendto(b"x" * size, (a, p))
PY
send() { assert_pass timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$@"; }
for pair in "$C4 $R4C" "198.18.0.3 $R4C" "$C6 $R6C" "2001:db8::3 $R6C"; do
	read -r src dst <<<"$pair"
	send "$src" "$dst" 7400 10 12
	send "$src" "$dst" 7401 10 12
done
send "$C4" "$R4C" 7402 10 100
send "$C6" "$R6C" 7402 10 100
sleep 0.5

counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(h[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1 \2/p'; }
"$NFQCT" -s "$STATDIR" rules -c | counts >"$TMP_DIR/ours"
{ in_router iptables-save -c -t filter; in_router ip6tables-save -c -t filter; } | counts >"$TMP_DIR/kern"
for r in "${RULES[@]}"; do
	read -r name _ <<<"$r"
	k=$(awk -v n="$name" '$1 == n { p += $2; b += $3 } END { print p + 0 ":" b + 0 }' "$TMP_DIR/kern")
	o=$(awk -v n="$name" '$1 == n { print $2 ":" $3 }' "$TMP_DIR/ours")
	assert_eq "$name packets:bytes as the kernel's" "$k" "$o"
done
assert_eq "h1 by hand" 16 "$(awk '$1 == "h1" { print $2 }' "$TMP_DIR/ours")"
assert_eq "h2 by hand" 28 "$(awk '$1 == "h2" { print $2 }' "$TMP_DIR/ours")"
assert_eq "h3 by hand" 13 "$(awk '$1 == "h3" { print $2 }' "$TMP_DIR/ours")"
# kind 2 and the entries (max is 8 * the buckets, by the machine's memory); the file is
# rewritten every second: wait for the last packets' entries (bounded)
want="nfqct_limits: ip6t_hashlimit/h1 kind=hashlimit entries=2
nfqct_limits: ip6t_hashlimit/h2 kind=hashlimit entries=2
nfqct_limits: ip6t_hashlimit/h3 kind=hashlimit entries=1
nfqct_limits: ipt_hashlimit/h1 kind=hashlimit entries=2
nfqct_limits: ipt_hashlimit/h2 kind=hashlimit entries=2
nfqct_limits: ipt_hashlimit/h3 kind=hashlimit entries=1"
limits() { "$NFQCT" -s "$STATDIR" stat | grep '^nfqct_limits:' | sed 's/ max=.*//' | sort; }
for i in $(seq 30); do
	[ "$(limits)" = "$want" ] && break
	sleep 0.1
done
assert_eq "nfqct stat: the tables" "$want" "$(limits)"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
