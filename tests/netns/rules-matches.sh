#!/usr/bin/env bash
# Extension matches against the kernel's: the same count-only rules go into nfqctd's filter
# table and, before the queue rules, into the router's own iptables/ip6tables INPUT and
# OUTPUT chains (kernel_rules host). The router then receives UDP from the client (to ports
# nobody listens on: it answers ICMP port unreachable from no socket) and sends UDP as root
# and as uid 65534. Every rule's packets and bytes must be the kernel's exactly:
#   -m mac (the client's address, and a negated other one), multiport, pkttype, length, ttl,
#   hl, iprange, -m owner --uid-owner / --socket-exists (the kernel's own ICMP errors come
#   from a socket without a file: it exists, and no uid matches), -m tcp --syn, -m addrtype
#   (local, broadcast, with --limit-iface-in: the router's address on its other side is
#   unicast there; an address added while nfqctd runs is local at once), pkttype broadcast,
#   -m devgroup (the router's r0 joins group 5 while nfqctd runs).
# Each rule carries -m comment --comment tN to pair the two sets of counters.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save setpriv
topo_create
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
CMAC=$(in_client cat /sys/class/net/c0/address)

# NAME CHAIN FAMILIES RULE: families 4, 6 or 46 (the kernel table(s) that get it)
RULES=(
	"t1 INPUT 46 -p udp --dport 7000:7010 -m mac --mac-source $CMAC"
	"t2 INPUT 46 -p udp --dport 7000:7010 -m mac ! --mac-source 02:00:00:00:00:99"
	"t3 INPUT 46 -p udp -m multiport --dports 7000,7002:7004"
	"t4 INPUT 46 -p udp -m multiport ! --dports 7001"
	"t5 INPUT 46 -p udp --dport 7000:7010 -m pkttype --pkt-type unicast"
	"t6 INPUT 46 -p udp --dport 7000:7010 -m length --length 0:40"
	"t7 INPUT 4 -p udp --dport 7000:7010 -m ttl --ttl-eq 64"
	"t8 INPUT 6 -p udp --dport 7000:7010 -m hl --hl-gt 10"
	"t9 INPUT 4 -p udp --dport 7000:7010 -m iprange --src-range 198.18.0.1-198.18.0.5"
	"t10 INPUT 46 -p tcp --dport 7000:7010 --syn"
	"t11 OUTPUT 46 -p udp --dport 7000:7010 -m owner --uid-owner 0"
	"t12 OUTPUT 46 -p udp --dport 7000:7010 -m owner --uid-owner 65534"
	"t13 OUTPUT 46 -p udp --dport 7000:7010 -m owner --socket-exists"
	"t14 OUTPUT 4 -p icmp --icmp-type port-unreachable -m owner --socket-exists ! --uid-owner 0"
	"t15 OUTPUT 6 -p icmpv6 --icmpv6-type port-unreachable -m owner --socket-exists ! --gid-owner 0"
	"t16 OUTPUT 46 -p udp --dport 7000:7010 -m owner ! --uid-owner 0"
	"t17 INPUT 46 -p udp --dport 7000:7010 -m addrtype --dst-type LOCAL"
	"t18 INPUT 4 -p udp --dport 7000:7010 -m addrtype --dst-type LOCAL --limit-iface-in"
	"t19 INPUT 4 -p udp --dport 7000:7010 -m addrtype --dst-type BROADCAST"
	"t20 INPUT 4 -p udp --dport 7000:7010 -m pkttype --pkt-type broadcast"
	"t21 OUTPUT 46 -p udp --dport 7000:7010 -m addrtype --src-type LOCAL --dst-type UNICAST"
	"t22 INPUT 6 -p udp --dport 7000:7010 -m addrtype --src-type UNICAST ! --dst-type MULTICAST"
	"t23 INPUT 4 -p udp --dport 7008 -m addrtype --dst-type LOCAL --limit-iface-in"
	"t24 INPUT 46 -p udp --dport 7000:7010 -m devgroup --src-group 5"
	"t25 OUTPUT 46 -p udp --dport 7000:7010 -m devgroup --dst-group 0x4/0x4"
	"t26 OUTPUT 46 -p udp --dport 7000:7010 -m devgroup ! --dst-group 6"
)
{
	echo '*filter'
	for r in "${RULES[@]}"; do
		read -r name chain fams rule <<<"$r"
		fam=
		[ "$fams" = 46 ] || fam="-$fams "	# the kernel table's family
		echo "-A $chain $fam$rule -m comment --comment $name"
	done
	echo '-A INPUT -j ACCEPT'
	echo '-A OUTPUT -j ACCEPT'
	echo 'COMMIT'
} >"$TMP_DIR/matches.rules"
for r in "${RULES[@]}"; do
	read -r name chain fams rule <<<"$r"
	for f in 4 6; do
		case $fams in *$f*) ;; *) continue ;; esac
		ipt=iptables
		[ "$f" = 6 ] && ipt=ip6tables
		# first in the chain: before the queue rule, which ends the chain for the packet
		# shellcheck disable=SC2086
		in_router "$ipt" -w -I "$chain" 1 $rule -m comment --comment "$name" ||
			fail "kernel rule $name ($ipt): $rule"
	done
done
nfqctd_start -r "$TMP_DIR/matches.rules" || exit 1
# r0 joins group 5 while nfqctd runs: the link notification updates its copy
in_router ip link set r0 group 5
sleep 0.3

cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys, time
a, p, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
if ":" not in a:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
for i in range(n):
    s.sendto(b"x" * size, (a, p))
    time.sleep(0.01)
PY
cat >"$TMP_DIR/syn.py" <<'PY'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect((a, p))
except OSError:
    pass
PY
send() { assert_pass timeout 10 "$@"; }
# client -> router: 12- and 40-byte payloads to several ports, both families
for a in "$R4C" "$R6C"; do
	send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" 7000 5 12
	send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" 7001 3 40
	send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" 7003 2 12
	send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" 7009 4 100
	send ip netns exec "$NS_C" python3 "$TMP_DIR/syn.py" "$a" 7005
done
# to the router's address on its other side (local, but not on the way in), and broadcast
send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$R4S" 7006 3 12
send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$R6S" 7006 3 12
send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" 198.18.0.255 7007 2 12
# an address added while nfqctd runs: its route notification updates the snapshot
# (t23 counts these packets as LOCAL only once the router has the address)
in_router ip addr add 198.18.0.77/24 dev r0
in_client ip neigh replace 198.18.0.77 lladdr "$(in_router cat /sys/class/net/r0/address)" dev c0
sleep 0.3
send ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" 198.18.0.77 7008 3 12
# router -> client, as root and as nobody
for a in "$C4" "$C6"; do
	send ip netns exec "$NS_R" python3 "$TMP_DIR/send.py" "$a" 7002 4 12
	# (bash's /dev/udp: the interpreter of a python in root's home may be out of reach)
	send ip netns exec "$NS_R" setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
		'for i in 1 2 3; do printf "%020d" 0 >"/dev/udp/$0/7004"; done' "$a"
done
sleep 0.5

# counters NAME from "[p:b] ... --comment NAME" lines (nfqct quotes the comment)
counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(t[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1 \2/p'; }
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/ours.txt" || fail "nfqct rules -c"
counts <"$TMP_DIR/ours.txt" >"$TMP_DIR/ours"
{ in_router iptables-save -c -t filter; in_router ip6tables-save -c -t filter; } | counts >"$TMP_DIR/kern.all"
for r in "${RULES[@]}"; do
	read -r name _ <<<"$r"
	k=$(awk -v n="$name" '$1 == n { p += $2; b += $3 } END { print p + 0 ":" b + 0 }' "$TMP_DIR/kern.all")
	o=$(awk -v n="$name" '$1 == n { print $2 ":" $3 }' "$TMP_DIR/ours")
	assert_eq "$name (${r#* }) packets:bytes as the kernel's" "$k" "$o"
	[ "$k" != "0:0" ] || fail "$name: the kernel counted nothing: the test sends nothing it matches"
done
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
