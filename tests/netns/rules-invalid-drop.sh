#!/usr/bin/env bash
# `--ctstate INVALID -j DROP` with nf_conntrack_tcp_loose=0: a stray TCP ACK that belongs to
# no connection is INVALID (loose=0: no pick-up of established flows) and is dropped before it
# reaches the server. The ACKs are built by hand (python3 raw sockets, checksum computed) from
# the client, one per family. The server counts them with an iptables rule in its own
# namespace (which also drops them there, so no RST comes back to muddy the counts).
#
# Phase 1: the INVALID rule only counts (no -j): the ACKs are INVALID, reach the server (the
# server's counter works), `invalid` counts them. Phase 2 (reload): the rule drops: the server
# counter stays, `invalid` counts them again, the rules' counters are exactly one packet of
# 40 bytes (IPv4: 20 + 20) and one of 60 bytes (IPv6: 40 + 20). A real TCP connection still
# passes under phase 2's rules, and adds nothing to `invalid`.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nc ss iptables ip6tables
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }

PORT=7777
for fam in iptables ip6tables; do
	in_server "$fam" -w -A INPUT -p tcp --tcp-flags ALL ACK --dport "$PORT" \
		-m comment --comment nfqct-test-stray -j DROP || { fail "$fam stray counter"; exit 1; }
done
# stray_seen 4|6: the server's count of stray ACKs of one family.
stray_seen() {
	local fam=iptables
	[ "$1" = 6 ] && fam=ip6tables
	in_server "$fam" -w -L INPUT -v -x -n | awk '/nfqct-test-stray/ { print $1 }'
}

# stray_ack ADDR: one TCP segment with only ACK set, from a port nobody uses, to $PORT.
cat >"$TMP_DIR/stray.py" <<'PY'
import socket, struct, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
v6 = ":" in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
tcp = lambda c: struct.pack("!HHIIBBHHH", 40000, port, 12345, 67890, 5 << 4, 0x10, 1024, c, 0)
if v6:
    pseudo = socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) + struct.pack("!I3xB", 20, 6)
else:
    pseudo = socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) + struct.pack("!xBH", 6, 20)
seg = tcp(csum(pseudo + tcp(0)))
s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.sendto(seg, (dst, 0, 0, 0) if v6 else (dst, 0))
PY
stray_ack() {
	local src=$C4
	case "$1" in *:*) src=$C6 ;; esac
	assert_pass timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/stray.py" "$src" "$1" "$PORT"
}
# wait_seen FAM N: the server's counter reaches N (bounded; it is asserted exactly after).
wait_seen() {
	local i
	for i in $(seq 30); do
		[ "$(stray_seen "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
}

cat >"$TMP_DIR/count.rules" <<'EOF'
*filter
-A FORWARD -4 -m conntrack --ctstate INVALID
-A FORWARD -6 -m conntrack --ctstate INVALID
COMMIT
EOF
cat >"$TMP_DIR/drop.rules" <<'EOF'
*filter
-A FORWARD -4 -m conntrack --ctstate INVALID -j DROP
-A FORWARD -6 -m conntrack --ctstate INVALID -j DROP
COMMIT
EOF
cp "$TMP_DIR/count.rules" "$TMP_DIR/nfqct.rules"
nfqctd_start -r "$TMP_DIR/nfqct.rules" -o net.netfilter.nf_conntrack_tcp_loose=0 || exit 1
assert_eq "setting nf_conntrack_tcp_loose" 0 "$(cat "$STATDIR/sys/net/netfilter/nf_conntrack_tcp_loose")"

# Phase 1: counted, not dropped.
stray_ack "$S4"
stray_ack "$S6"
wait_seen 4 1
wait_seen 6 1
assert_eq "phase 1: stray IPv4 ACKs at the server" 1 "$(stray_seen 4)"
assert_eq "phase 1: stray IPv6 ACKs at the server" 1 "$(stray_seen 6)"
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/rules1" || fail "nfqct rules -c"
sed 's/^/    rules: /' "$TMP_DIR/rules1"
assert_eq "phase 1: IPv4 INVALID rule counter" 1 \
	"$(grep -c -F -x -- "[1:40] -A FORWARD -4 -m conntrack --ctstate INVALID" "$TMP_DIR/rules1")"
assert_eq "phase 1: IPv6 INVALID rule counter" 1 \
	"$(grep -c -F -x -- "[1:60] -A FORWARD -6 -m conntrack --ctstate INVALID" "$TMP_DIR/rules1")"
assert_eq "phase 1: no table entry for the stray ACKs" 0 \
	"$("$NFQCT" -s "$STATDIR" list | grep -c "dport=$PORT")"

# Phase 2: the same packets, dropped.
cp "$TMP_DIR/drop.rules" "$TMP_DIR/nfqct.rules"
assert_pass timeout 10 "$NFQCT" -s "$STATDIR" reload
stray_ack "$S4"
stray_ack "$S6"
# The daemon answered both (the queue is idle) before we look at the server's counter.
for i in $(seq 30); do
	[ "$(queue_field 0 id_sequence)" -ge 4 ] && [ "$(queue_field 0 queue_total)" = 0 ] && break
	sleep 0.1
done
sleep 0.3       # a forwarded packet would have arrived by now; a dropped one never does
assert_eq "phase 2: stray IPv4 ACKs at the server (dropped at the router)" 1 "$(stray_seen 4)"
assert_eq "phase 2: stray IPv6 ACKs at the server (dropped at the router)" 1 "$(stray_seen 6)"
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/rules2" || fail "nfqct rules -c"
sed 's/^/    rules: /' "$TMP_DIR/rules2"
assert_eq "phase 2: IPv4 INVALID DROP rule counter" 1 \
	"$(grep -c -F -x -- "[1:40] -A FORWARD -4 -m conntrack --ctstate INVALID -j DROP" "$TMP_DIR/rules2")"
assert_eq "phase 2: IPv6 INVALID DROP rule counter" 1 \
	"$(grep -c -F -x -- "[1:60] -A FORWARD -6 -m conntrack --ctstate INVALID -j DROP" "$TMP_DIR/rules2")"

# Good traffic still passes, and is not INVALID (the DROP counters stay).
tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/rules3" || fail "nfqct rules -c"
assert_eq "after real TCP: INVALID DROP counters unchanged" 2 \
	"$(grep -c -F -x -e "[1:40] -A FORWARD -4 -m conntrack --ctstate INVALID -j DROP" \
		-e "[1:60] -A FORWARD -6 -m conntrack --ctstate INVALID -j DROP" "$TMP_DIR/rules3")"

assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
assert_eq "queue 0 user_dropped" 0 "$(queue_field 0 user_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
stat=$STATDIR/net/stat/nf_conntrack
sed 's/^/    nf_conntrack: /' "$stat"
assert_eq "stat invalid (4 stray ACKs, none of the real connection's packets)" 4 \
	"$(stat_sum "$stat" invalid)"
assert_eq "stat new (the two real connections)" 2 "$(stat_sum "$stat" new)"
assert_eq "daemon: packets dropped (the phase 2 stray ACKs)" 2 "$(log_sum dropped)"
finish
