#!/usr/bin/env bash
# -m rpfilter against the kernel's: the client sends UDP through the router to the server
# from its own address (the route back goes out the interface it came in on), from an
# address of the server's subnet (spoofed: the route back goes out the other interface) and
# from one the router has no route for, both families. nfqctd's raw PREROUTING drops the
# unroutable sources with `-m rpfilter --loose --invert -j DROP` and the spoofed ones with
# `-m rpfilter --invert -j DROP`; the kernel runs the same matches, count-only, in its raw
# PREROUTING (a user chain whose RETURN stands for nfqctd's DROP). Every rule's packets and
# bytes must be the kernel's exactly, and the filter table sees only the honest packets.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
# the kernel's own reverse-path filter (before FORWARD) would drop the spoofed packets first
for k in all default r0 r1; do in_router sysctl -qw "net.ipv4.conf.$k.rp_filter=0" >/dev/null; done
in_client ip addr add 198.18.1.50/32 dev c0
in_client ip addr add 198.19.200.1/32 dev c0
in_client ip addr add 2001:db8:1::50/128 dev c0 nodad
in_client ip addr add 2001:db8:ff::1/128 dev c0 nodad

# NAME RULE (count-only in the kernel; nfqctd's get the TARGET given after '|')
RULES=(
	"t1 -m rpfilter --loose --invert|-j DROP"
	"t2 -m rpfilter --invert|-j DROP"
	"t3 -m rpfilter|"
	"t4 -m rpfilter --loose --validmark|"
)
{
	echo '*raw'
	for r in "${RULES[@]}"; do
		read -r name rule <<<"${r%|*}"
		echo "-A PREROUTING -p udp --dport 7000:7010 $rule -m comment --comment $name ${r#*|}"
	done
	echo 'COMMIT'
	echo '*filter'
	echo '-A FORWARD -p udp --dport 7000:7010 -m comment --comment f1'
	echo '-A FORWARD -j ACCEPT'
	echo 'COMMIT'
} >"$TMP_DIR/rpf.rules"
for ipt in iptables ip6tables; do
	in_router "$ipt" -w -t raw -N rpf || fail "$ipt -N rpf"
	for r in "${RULES[@]}"; do
		read -r name rule <<<"${r%|*}"
		t=
		[ -z "${r#*|}" ] || t="-j RETURN"	# nfqctd drops: later rules do not see it
		# shellcheck disable=SC2086
		in_router "$ipt" -w -t raw -A rpf $rule -m comment --comment "$name" $t ||
			skip "$ipt: -m rpfilter refused (no xt_rpfilter / ip6t_rpfilter?)"
	done
	in_router "$ipt" -w -t raw -I PREROUTING 1 -p udp --dport 7000:7010 -j rpf || fail "$ipt jump"
done
nfqctd_start -r "$TMP_DIR/rpf.rules" || exit 1

cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys
src, dst, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(n):
    s.sendto(b"x" * size, (dst, 7000 + i % 3))
PY
send() { assert_pass timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$@"; }
send "$C4" "$S4" 5 12			# honest
send 198.18.1.50 "$S4" 4 20		# spoofed: the router reaches 198.18.1.0/24 through r1
send 198.19.200.1 "$S4" 3 30		# no route back at all
send "$C6" "$S6" 6 12
send 2001:db8:1::50 "$S6" 2 20
send 2001:db8:ff::1 "$S6" 7 30
sleep 0.5

counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\([tf][0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1 \2/p'; }
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/ours.txt" || fail "nfqct rules -c"
counts <"$TMP_DIR/ours.txt" >"$TMP_DIR/ours"
{ in_router iptables-save -c -t raw; in_router ip6tables-save -c -t raw; } | counts >"$TMP_DIR/kern.all"
sum() { awk -v n="$1" '$1 == n { p += $2; b += $3 } END { print p + 0 ":" b + 0 }' "$2"; }
for r in "${RULES[@]}"; do
	read -r name _ <<<"$r"
	k=$(sum "$name" "$TMP_DIR/kern.all")
	assert_eq "$name (${r#* }) packets:bytes as the kernel's" "$k" "$(sum "$name" "$TMP_DIR/ours")"
	[ "$k" != "0:0" ] || fail "$name: the kernel counted nothing: the test sends nothing it matches"
done
# what the kernel's rpfilter decides, by hand: 3 + 7 unroutable, 4 + 2 spoofed, 5 + 6 honest
# (UDP over IPv4: 28 bytes of headers, IPv6: 48)
assert_eq "t1 drops the unroutable" "10:$((3 * 58 + 7 * 78))" "$(sum t1 "$TMP_DIR/ours")"
assert_eq "t2 drops the spoofed" "6:$((4 * 48 + 2 * 68))" "$(sum t2 "$TMP_DIR/ours")"
assert_eq "only the honest reach the filter table" "11:$((5 * 40 + 6 * 60))" "$(sum f1 "$TMP_DIR/ours")"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
