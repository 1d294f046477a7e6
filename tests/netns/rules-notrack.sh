#!/usr/bin/env bash
# A raw NOTRACK rule keeps one flow out of nfqctd's table: UDP to and from port 5353, IPv4
# and IPv6, requests and echoed replies. Afterwards `nfqct list` has no entry of it, the stat
# file's `ignore` is exactly its packet count (both directions cross the router: every packet
# is one ignore), and the filter table saw them as UNTRACKED: the only rules that accept port
# 5353 ask for that state, and their counters hold exactly those packets and bytes. A second
# UDP flow (port 5354) under the same rules is tracked, with exact per-direction accounting.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ss iptables ip6tables
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }

# If NOTRACK did not work, port 5353 would be NEW/ESTABLISHED and pass by the last rule:
# the table, `ignore` and the UNTRACKED rules' counters tell.
cat >"$TMP_DIR/notrack.rules" <<'EOF'
*raw
-A PREROUTING -p udp --dport 5353 -j NOTRACK
-A PREROUTING -p udp --sport 5353 -j NOTRACK
COMMIT
*filter
:FORWARD DROP [0:0]
-A FORWARD -p udp --dport 5353 -m conntrack --ctstate UNTRACKED -j ACCEPT
-A FORWARD -p udp --sport 5353 -m conntrack --ctstate UNTRACKED -j ACCEPT
-A FORWARD -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/notrack.rules" -o nfqct.stat_interval_ms=100 || exit 1

# udp_echo_server ADDR PORT COUNT: echo COUNT datagrams back, then exit (bounded).
cat >"$TMP_DIR/echo.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, p))
for _ in range(n):
    d, peer = s.recvfrom(2048)
    s.sendto(d, peer)
PY
# udp_echo_client ADDR PORT COUNT: COUNT 16-byte datagrams, each waits for its echo; prints
# the number of echoes that came back intact.
cat >"$TMP_DIR/client.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
ok = 0
for i in range(n):
    m = b"nfqct-notrack%03d" % i
    s.sendto(m, (a, p))
    try:
        if s.recv(2048) == m:
            ok += 1
    except socket.timeout:
        pass
print(ok)
PY
# echo_run ADDR PORT COUNT: one echo exchange; asserts every echo came back.
echo_run() {
	local pid
	timeout 20 ip netns exec "$NS_S" python3 "$TMP_DIR/echo.py" "$1" "$2" "$3" &
	pid=$!
	PIDS+=("$pid")
	wait_listen "$NS_S" udp "$2" || return 1
	assert_eq "UDP echoes from $1 port $2" "$3" \
		"$(timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" "$1" "$2" "$3")"
	wait "$pid"
}

N=5     # untracked exchanges per family
M=3     # tracked exchanges per family
echo_run "$S4" 5353 "$N"
echo_run "$S6" 5353 "$N"
echo_run "$S4" 5354 "$M"
echo_run "$S6" 5354 "$M"

# Each datagram: IP header + 8 (UDP) + 16 (payload).
B4=$((20 + 8 + 16)) B6=$((40 + 8 + 16))
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" || fail "nfqct list"
sed 's/^/    list: /' "$TMP_DIR/list"
assert_eq "table entries of port 5353" 0 "$(grep -c 'port=5353' "$TMP_DIR/list")"
assert_eq "table entries in all" 2 "$(grep -c . "$TMP_DIR/list")"
for spec in "$C4 $S4 $B4" "$C6 $S6 $B6"; do
	set -- $spec
	assert_eq "tracked UDP 5354 entry $1 -> $2" 1 "$(grep -c -E "^udp +17 [0-9]+ src=$1 dst=$2 sport=[0-9]+ dport=5354 packets=$M bytes=$(($3 * M)) src=$2 dst=$1 sport=5354 dport=[0-9]+ packets=$M bytes=$(($3 * M)) mark=0 use=1\$" "$TMP_DIR/list")"
done

"$NFQCT" -s "$STATDIR" rules -c >"$TMP_DIR/rules" || fail "nfqct rules -c"
sed 's/^/    rules: /' "$TMP_DIR/rules"
untracked="[$((2 * N)):$((N * B4 + N * B6))]"
assert_eq "UNTRACKED accept rule, requests" 1 \
	"$(grep -c -F -x -- "$untracked -A FORWARD -p udp -m udp --dport 5353 -m conntrack --ctstate UNTRACKED -j ACCEPT" "$TMP_DIR/rules")"
assert_eq "UNTRACKED accept rule, replies" 1 \
	"$(grep -c -F -x -- "$untracked -A FORWARD -p udp -m udp --sport 5353 -m conntrack --ctstate UNTRACKED -j ACCEPT" "$TMP_DIR/rules")"
assert_eq "NOTRACK rule, requests" 1 \
	"$(grep -c -F -x -- "$untracked -A PREROUTING -p udp -m udp --dport 5353 -j NOTRACK" "$TMP_DIR/rules")"
assert_eq "raw PREROUTING policy (every packet ends the raw traversal there)" 1 \
	"$(grep -c -F -x -- ":PREROUTING ACCEPT [$((4 * N + 4 * M)):$((2 * (N + M) * (B4 + B6)))]" "$TMP_DIR/rules")"
assert_eq "NEW,ESTABLISHED rule (the tracked flow only)" 1 \
	"$(grep -c -F -x -- "[$((4 * M)):$((2 * M * (B4 + B6)))] -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT" "$TMP_DIR/rules")"

for q in 0; do
	assert_eq "queue $q queue_dropped" 0 "$(queue_field $q queue_dropped)"
	assert_eq "queue $q user_dropped" 0 "$(queue_field $q user_dropped)"
done
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
# The stat file is written a last time at exit: final figures, no timing involved.
stat=$STATDIR/net/stat/nf_conntrack
sed 's/^/    nf_conntrack: /' "$stat"
assert_eq "stat ignore (every 5353 packet, both directions, both families)" \
	$((4 * N)) "$(stat_sum "$stat" ignore)"
assert_eq "stat new (the two tracked flows)" 2 "$(stat_sum "$stat" new)"
assert_eq "stat invalid" 0 "$(stat_sum "$stat" invalid)"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
assert_eq "daemon: packets received" $((4 * N + 4 * M)) "$(log_sum received)"
finish
