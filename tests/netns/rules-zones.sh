#!/usr/bin/env bash
# Conntrack zones keep flows with the same tuples apart. Construction: raw PREROUTING puts
# everything that enters from the client side (r0) in zone 1 and everything from the server
# side (r1) in zone 2. A UDP exchange (fixed ports, IPv4 and IPv6) then has its request in
# zone 1 and its reply in zone 2: the reply's tuple is the exact mirror of the request's, which
# in one zone would make it ESTABLISHED on the request's entry; in another zone it finds
# nothing and is NEW, with an entry of its own. So:
#   phase A (filter accepts all): `nfqct list` holds, per family, two [UNREPLIED] entries,
#     zone=1 (client -> server) and zone=2 (server -> client), mirror tuples, one packet each;
#   phase B (reload, + `-A FORWARD -i r1 -m conntrack --ctstate NEW -j DROP`, fresh ports):
#     the reply is NEW in zone 2 and dropped: no echo comes back, only the zone=1 entry exists,
#     the DROP rule counts exactly the two replies;
#   phase C (reload without the CT rules, the DROP rule kept, fresh ports): both directions in
#     zone 0, the reply is ESTABLISHED and passes: one entry, replied, no zone= field, and the
#     DROP rule counts nothing.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ss iptables ip6tables
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }

ZONES='*raw
-A PREROUTING -i r0 -j CT --zone 1
-A PREROUTING -i r1 -j CT --zone 2
COMMIT'
DROP_NEW_REPLY='*filter
-A FORWARD -i r1 -m conntrack --ctstate NEW -j DROP
COMMIT'
printf '%s\n' "$ZONES" >"$TMP_DIR/nfqct.rules"
nfqctd_start -r "$TMP_DIR/nfqct.rules" || exit 1

cat >"$TMP_DIR/echo.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, p))
for _ in range(n):
    d, peer = s.recvfrom(2048)
    s.sendto(d, peer)
PY
# client.py SRC SPORT DST DPORT: one 16-byte datagram from a fixed port; prints 1 when its
# echo came back within 1.5 s, else 0.
cat >"$TMP_DIR/client.py" <<'PY'
import socket, sys
src, sp, dst, dp = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sp))
s.settimeout(1.5)
m = b"nfqct-zones-%04d" % dp
s.sendto(m, (dst, dp))
try:
    print(1 if s.recv(2048) == m else 0)
except socket.timeout:
    print(0)
PY
# exchange PORT ECHOES: one datagram per family from client port PORT to server port PORT;
# asserts how many echoes came back (1 or 0).
exchange() {
	local spec pid
	for spec in "$C4 $S4" "$C6 $S6"; do
		set -- $spec "$@"
		timeout 10 ip netns exec "$NS_S" python3 "$TMP_DIR/echo.py" "$2" "$3" 1 &
		pid=$!
		PIDS+=("$pid")
		wait_listen "$NS_S" udp "$3" || return 1
		assert_eq "echoes $1 -> $2 port $3" "$4" \
			"$(timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" "$1" "$3" "$2" "$3")"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		shift 2
	done
}
B4=$((20 + 8 + 16)) B6=$((40 + 8 + 16))
list() { "$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" || fail "nfqct list"; sed 's/^/    list: /' "$TMP_DIR/list"; }
# entries PORT: the table's lines for one port pair.
entries() { grep -E "sport=$1 dport=$1 " "$TMP_DIR/list"; }
# has_entry SRC DST PORT PKTS BYTES REST: exactly one line "src=SRC dst=DST ... REST".
has_entry() {
	assert_eq "entry $1 -> $2 port $3 ${6//\\/}" 1 "$(grep -c -E "^udp +17 [0-9]+ src=$1 dst=$2 sport=$3 dport=$3 packets=$4 bytes=$5 ${6}\$" "$TMP_DIR/list")"
}
rules_c() { "$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/rules" || fail "nfqct rules -c"; sed 's/^/    rules: /' "$TMP_DIR/rules"; }

# Phase A: both directions pass, each in its own zone.
exchange 6000 1
list
assert_eq "phase A: entries of port 6000" 4 "$(entries 6000 | grep -c .)"
for spec in "$C4 $S4 $B4" "$C6 $S6 $B6"; do
	set -- $spec
	has_entry "$1" "$2" 6000 1 "$3" "\[UNREPLIED\] src=$2 dst=$1 sport=6000 dport=6000 packets=0 bytes=0 mark=0 zone=1 use=1"
	has_entry "$2" "$1" 6000 1 "$3" "\[UNREPLIED\] src=$1 dst=$2 sport=6000 dport=6000 packets=0 bytes=0 mark=0 zone=2 use=1"
done
rules_c
assert_eq "phase A: zone 1 rule counter" 1 \
	"$(grep -c -F -x -- "[2:$((B4 + B6))] -A PREROUTING -i r0 -j CT --zone 1" "$TMP_DIR/rules")"
assert_eq "phase A: zone 2 rule counter" 1 \
	"$(grep -c -F -x -- "[2:$((B4 + B6))] -A PREROUTING -i r1 -j CT --zone 2" "$TMP_DIR/rules")"

# Phase B: the reply is NEW (zone 2) and the filter drops it.
printf '%s\n%s\n' "$ZONES" "$DROP_NEW_REPLY" >"$TMP_DIR/nfqct.rules"
assert_pass timeout 10 "$NFQCT" -s "$STATDIR" reload
exchange 6001 0
list
assert_eq "phase B: entries of port 6001" 2 "$(entries 6001 | grep -c .)"
has_entry "$C4" "$S4" 6001 1 "$B4" "\[UNREPLIED\] src=$S4 dst=$C4 sport=6001 dport=6001 packets=0 bytes=0 mark=0 zone=1 use=1"
has_entry "$C6" "$S6" 6001 1 "$B6" "\[UNREPLIED\] src=$S6 dst=$C6 sport=6001 dport=6001 packets=0 bytes=0 mark=0 zone=1 use=1"
rules_c
assert_eq "phase B: DROP rule counter (the two replies)" 1 \
	"$(grep -c -F -x -- "[2:$((B4 + B6))] -A FORWARD -i r1 -m conntrack --ctstate NEW -j DROP" "$TMP_DIR/rules")"

# Phase C: no zones: the same construction tracks the reply as ESTABLISHED.
printf '%s\n' "$DROP_NEW_REPLY" >"$TMP_DIR/nfqct.rules"
assert_pass timeout 10 "$NFQCT" -s "$STATDIR" reload
exchange 6002 1
list
assert_eq "phase C: entries of port 6002" 2 "$(entries 6002 | grep -c .)"
has_entry "$C4" "$S4" 6002 1 "$B4" "src=$S4 dst=$C4 sport=6002 dport=6002 packets=1 bytes=$B4 mark=0 use=1"
has_entry "$C6" "$S6" 6002 1 "$B6" "src=$S6 dst=$C6 sport=6002 dport=6002 packets=1 bytes=$B6 mark=0 use=1"
rules_c
assert_eq "phase C: DROP rule counter" 1 \
	"$(grep -c -F -x -- "[0:0] -A FORWARD -i r1 -m conntrack --ctstate NEW -j DROP" "$TMP_DIR/rules")"

assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
assert_eq "queue 0 user_dropped" 0 "$(queue_field 0 user_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped (phase B's replies)" 2 "$(log_sum dropped)"
assert_eq "daemon: packets received" 12 "$(log_sum received)"
finish
