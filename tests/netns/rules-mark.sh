#!/usr/bin/env bash
# MARK targets: the packet's final mark goes back to the kernel with the verdict. An nft chain
# in the router at forward priority 100 (after the queue rule at priority 0) counts the
# forwarded UDP packets per destination port and mark. Per port, 5 datagrams per family:
#   7000  filter MARK --set-mark 0x7                      -> mark 0x7
#   7001  no MARK rule, no mark                           -> mark 0 (nothing invents one)
#   7002  raw MARK --set-mark 0x5, then filter matches    -> mark 0x105 (raw's mark is seen
#         -m mark --mark 0x5 and ORs 0x100                    by filter and kept)
#   7003  the kernel marks 0x40 before the queue (nft     -> mark 0x41 (the queued mark is
#         prerouting); filter -m mark --mark 0x40 XORs 1)     read and matched)
#   7004  the kernel marks 0x40; no MARK rule             -> mark 0x40 (kept as it came)
#   7005  raw MARK --set-mark 0x9 only                    -> mark 0x9 (a raw-table mark alone
#                                                             goes out too)
# Every count is exact, in packets and bytes (IPv4 44, IPv6 64 bytes a datagram), and every
# port's packets all leave with the one expected mark.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nft
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }

N=5
PORTS="7000 7001 7002 7003 7004 7005"
declare -A WANT=([7000]=0x7 [7001]=0x0 [7002]=0x105 [7003]=0x41 [7004]=0x40 [7005]=0x9)
{
	echo 'table inet nfqcttest {'
	for p in $PORTS; do
		echo "	counter all$p { }"
		echo "	counter want$p { }"
	done
	echo '	chain before_queue {'
	echo '		type filter hook prerouting priority -150; policy accept;'
	echo '		udp dport { 7003, 7004 } meta mark set 0x40'
	echo '	}'
	echo '	chain after_queue {'
	echo '		type filter hook forward priority 100; policy accept;'
	for p in $PORTS; do
		echo "		udp dport $p counter name \"all$p\""
		echo "		udp dport $p meta mark ${WANT[$p]} counter name \"want$p\""
	done
	echo '	}'
	echo '}'
} >"$TMP_DIR/count.nft"
in_router nft -f "$TMP_DIR/count.nft" || { fail "nft counter table"; exit 1; }
# nft_count NAME: "packets:bytes" of a named counter.
nft_count() {
	in_router nft list counter inet nfqcttest "$1" | awk '/packets/ { print $2 ":" $4 }'
}

cat >"$TMP_DIR/mark.rules" <<'EOF'
*raw
-A PREROUTING -p udp --dport 7002 -j MARK --set-mark 0x5
-A PREROUTING -p udp --dport 7005 -j MARK --set-mark 0x9
COMMIT
*filter
-A FORWARD -p udp --dport 7000 -j MARK --set-mark 0x7
-A FORWARD -p udp --dport 7002 -m mark --mark 0x5 -j MARK --or-mark 0x100
-A FORWARD -p udp --dport 7003 -m mark --mark 0x40 -j MARK --xor-mark 0x1
-A FORWARD -j ACCEPT
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/mark.rules" || exit 1

# send.py DST PORT N: N 16-byte datagrams to a port nobody listens on (the server answers
# with ICMP port unreachable, which is forwarded too but is not UDP to these ports).
cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys, time
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"nfqct-mark-%05d" % i, (a, p))
    time.sleep(0.01)
PY
for p in $PORTS; do
	for a in "$S4" "$S6"; do
		assert_pass timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" "$p" "$N"
	done
done
for i in $(seq 30); do
	[ "$(nft_count all7005)" = "$((2 * N)):$((N * 44 + N * 64))" ] && break
	sleep 0.1
done
in_router nft list table inet nfqcttest | grep counter | sed 's/^/    nft: /'
for p in $PORTS; do
	assert_eq "port $p: forwarded" "$((2 * N)):$((N * 44 + N * 64))" "$(nft_count "all$p")"
	assert_eq "port $p: forwarded with mark ${WANT[$p]}" "$((2 * N)):$((N * 44 + N * 64))" "$(nft_count "want$p")"
done
"$NFQCT" -s "$STATDIR" rules -c | sed 's/^/    rules: /'

assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
assert_eq "queue 0 user_dropped" 0 "$(queue_field 0 user_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
finish
