#!/usr/bin/env bash
# Reload under traffic. Two valid stateful rulesets (FORWARD policy DROP; they differ in a
# comment and an extra rule that matches nothing of ours) are swapped in 100 times with
# `nfqct reload` while pings (IPv4 and IPv6, 500 each at 10 ms) and a TCP stream (16 KiB
# chunks over one connection until the reloads are done, checked by length and SHA-256 at the
# server) cross the router. Nothing may
# be lost: 0% ping loss, the stream intact, the kernel's queue_dropped/user_dropped 0, the
# daemon dropped nothing (a packet judged without its connection, e.g. by a half-swapped
# ruleset or a table that did not survive the reload, would meet the DROP policy). Each
# reload must succeed and leave exactly the ruleset of the file in force (`nfqct rules`).
#
# Then a file with an error: SIGHUP logs the file:line:column error and a refusal, `nfqct
# reload` exits 1 and prints the same error; `nfqct rules` is unchanged and traffic passes.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nc ss ping iptables ip6tables
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }

RULES=$TMP_DIR/nfqct.rules
cat >"$TMP_DIR/a.rules" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -m conntrack --ctstate NEW -m comment --comment "ruleset A" -j ACCEPT
COMMIT
EOF
cat >"$TMP_DIR/b.rules" <<'EOF'
*raw
-A PREROUTING -p udp --dport 9 -m comment --comment "ruleset B: discard port" -j NOTRACK
COMMIT
*filter
:FORWARD DROP [0:0]
-A FORWARD -p udp --dport 9 -j DROP
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -m conntrack --ctstate NEW -m comment --comment "ruleset B" -j ACCEPT
COMMIT
EOF
# use FILE: make FILE the ruleset nfqctd reads (renamed into place: never read half-written).
use() { cp "$1" "$RULES.tmp" && mv "$RULES.tmp" "$RULES"; }
use "$TMP_DIR/a.rules"
nfqctd_start -q 0:1 -r "$RULES" || exit 1
# Independent counts of the stream's packets per direction (mangle runs before the queue).
for dir in dport sport; do
	in_router iptables -w -t mangle -A FORWARD -p tcp --$dir 5001 -m comment --comment "nfqct-test-$dir" ||
		{ fail "mangle counter"; exit 1; }
done
# stream_count dport|sport: "packets=N bytes=M" the kernel forwarded in that direction.
stream_count() {
	in_router iptables -w -t mangle -L FORWARD -v -x -n |
		awk -v t="nfqct-test-$1" '$0 ~ t { printf "packets=%s bytes=%s\n", $1, $2 }'
}

# What each file looks like once loaded (the daemon's normalised form).
for f in a b; do
	use "$TMP_DIR/$f.rules"
	assert_pass timeout 10 "$NFQCT" -s "$STATDIR" reload
	"$NFQCT" -s "$STATDIR" rules >"$TMP_DIR/$f.printed" || fail "nfqct rules"
done
grep -q '"ruleset A"' "$TMP_DIR/a.printed" && grep -q '"ruleset B"' "$TMP_DIR/b.printed" ||
	fail "the two rulesets do not print as loaded"
use "$TMP_DIR/a.rules"
assert_pass timeout 10 "$NFQCT" -s "$STATDIR" reload

# stream.py server ADDR PORT | client ADDR PORT STOPFILE MAX: 16 KiB chunks over one
# connection, paced (10 ms a chunk), until STOPFILE exists (at least 32 chunks, at most MAX);
# both sides print "bytes sha256".
cat >"$TMP_DIR/stream.py" <<'PY'
import hashlib, socket, sys, time
role, a, p = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in a else socket.AF_INET
h, n = hashlib.sha256(), 0
if role == "server":
    l = socket.socket(fam, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a, p))
    l.listen(1)
    c, _ = l.accept()
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
else:
    import os
    c = socket.create_connection((a, p), timeout=20)
    for i in range(int(sys.argv[5])):
        if i >= 32 and os.path.exists(sys.argv[4]):
            break
        d = bytes((i * 7 + j) & 0xff for j in range(256)) * 64
        c.sendall(d)
        h.update(d)
        n += len(d)
        time.sleep(0.01)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)           # the server's close: everything was received
print(n, h.hexdigest())
PY
MAX_CHUNKS=3000        # 47 MiB: bounds the stream should the stop file never come
timeout 50 ip netns exec "$NS_S" python3 "$TMP_DIR/stream.py" server "$S4" 5001 >"$TMP_DIR/stream.server" &
server_pid=$!
PIDS+=("$server_pid")
wait_listen "$NS_S" tcp 5001
timeout 45 ip netns exec "$NS_C" python3 "$TMP_DIR/stream.py" client "$S4" 5001 "$TMP_DIR/stop" "$MAX_CHUNKS" >"$TMP_DIR/stream.client" &
client_pid=$!
PIDS+=("$client_pid")
timeout 30 ip netns exec "$NS_C" ping -i 0.01 -c 500 -W 2 -q "$S4" >"$TMP_DIR/ping4" 2>&1 &
ping4_pid=$!
PIDS+=("$ping4_pid")
timeout 30 ip netns exec "$NS_C" ping -6 -i 0.01 -c 500 -W 2 -q "$S6" >"$TMP_DIR/ping6" 2>&1 &
ping6_pid=$!
PIDS+=("$ping6_pid")

# 100 reloads, alternating B and A (the last one leaves A), paced so they spread over the
# traffic; each must succeed and be in force when it returns.
ok=0 right=0 t0=$(date +%s%N)
for i in $(seq 100); do
	f=b
	[ $((i % 2)) -eq 0 ] && f=a
	use "$TMP_DIR/$f.rules"
	timeout 10 "$NFQCT" -s "$STATDIR" reload >/dev/null 2>"$TMP_DIR/reload.err" && ok=$((ok + 1))
	"$NFQCT" -s "$STATDIR" rules >"$TMP_DIR/now.printed" 2>/dev/null &&
		cmp -s "$TMP_DIR/now.printed" "$TMP_DIR/$f.printed" && right=$((right + 1))
	sleep 0.02
done
assert_eq "successful reloads" 100 "$ok"
assert_eq "reloads whose ruleset was in force right after" 100 "$right"
still=0
for pid in "$ping4_pid" "$ping6_pid" "$client_pid"; do kill -0 "$pid" 2>/dev/null && still=$((still + 1)); done
note "100 reloads in $(( ($(date +%s%N) - t0) / 1000000 )) ms; traffic flows still running then: $still of 3"
touch "$TMP_DIR/stop"

wait "$ping4_pid"; assert_eq "ping IPv4 exit status" 0 "$?"
wait "$ping6_pid"; assert_eq "ping IPv6 exit status" 0 "$?"
for f in ping4 ping6; do
	sed -n 's/^/    /; /packets transmitted/p' "$TMP_DIR/$f"
	assert_eq "$f: transmitted, received" "500 packets transmitted, 500 received, 0% packet loss" \
		"$(grep -o '500 packets transmitted, [0-9]* received, [0-9.]*% packet loss' "$TMP_DIR/$f")"
done
wait "$client_pid"; assert_eq "TCP client exit status" 0 "$?"
wait "$server_pid"; assert_eq "TCP server exit status" 0 "$?"
sent=$(cut -d' ' -f1 "$TMP_DIR/stream.client")
note "TCP stream: $sent bytes"
[ "${sent:-0}" -ge $((32 * 16384)) ] && [ $((sent % 16384)) -eq 0 ] || fail "TCP stream: sent '$sent' bytes"
assert_eq "TCP stream at the server (bytes sha256)" "$(cat "$TMP_DIR/stream.client")" \
	"$(cat "$TMP_DIR/stream.server")"

# The table lived through the reloads: each flow has one entry that counted all its packets
# (one packet missed by a lost or re-created entry shows here). 500 echoes of 84 / 104 bytes.
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" || fail "nfqct list"
sed 's/^/    list: /' "$TMP_DIR/list"
assert_eq "entries in the table" 3 "$(grep -c . "$TMP_DIR/list")"
assert_eq "the IPv4 ping's entry" 1 "$(grep -c -E "^icmp +1 [0-9]+ src=$C4 dst=$S4 type=8 code=0 id=[0-9]+ packets=500 bytes=42000 src=$S4 dst=$C4 type=0 code=0 id=[0-9]+ packets=500 bytes=42000 mark=0 use=1\$" "$TMP_DIR/list")"
assert_eq "the IPv6 ping's entry" 1 "$(grep -c -E "^icmpv6 +58 [0-9]+ src=$C6 dst=$S6 type=128 code=0 id=[0-9]+ packets=500 bytes=52000 src=$S6 dst=$C6 type=129 code=0 id=[0-9]+ packets=500 bytes=52000 mark=0 use=1\$" "$TMP_DIR/list")"
assert_eq "the TCP stream's entry" 1 "$(grep -c -E "^tcp +6 [0-9]+ [A-Z_]+ src=$C4 dst=$S4 sport=[0-9]+ dport=5001 $(stream_count dport) src=$S4 dst=$C4 sport=5001 dport=[0-9]+ $(stream_count sport) \[ASSURED\] mark=0 use=1\$" "$TMP_DIR/list")"

queue_stats | sed 's/^/    nfnetlink_queue: /'
for q in 0 1; do
	assert_eq "queue $q queue_dropped" 0 "$(queue_field $q queue_dropped)"
	assert_eq "queue $q user_dropped" 0 "$(queue_field $q user_dropped)"
done

# A bad file: refused by SIGHUP and by `nfqct reload`; A stays.
"$NFQCT" -s "$STATDIR" rules >"$TMP_DIR/before.printed" || fail "nfqct rules"
assert_pass cmp "$TMP_DIR/a.printed" "$TMP_DIR/before.printed"
sed 's/^-A FORWARD -i r0 .*/-A FORWARD -p tcp --dport x -j ACCEPT/' "$TMP_DIR/a.rules" >"$TMP_DIR/bad.rules"
use "$TMP_DIR/bad.rules"
assert_fail timeout 10 "$NFQCT" check "$RULES"
# Line 5, column 27: the 'x'.
ERR="$RULES:5:27: error:"
nfqctd_signal HUP
for i in $(seq 50); do
	grep -q 'reload: refused' "$NFQCTD_LOG" && break
	sleep 0.1
done
grep -E 'error|reload' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "SIGHUP: the error in the log" 1 "$(grep -c -F -- "$ERR" "$NFQCTD_LOG")"
assert_eq "SIGHUP: the refusal in the log" 1 "$(grep -c 'reload: refused' "$NFQCTD_LOG")"
"$NFQCT" -s "$STATDIR" rules >"$TMP_DIR/after-hup.printed" || fail "nfqct rules"
assert_pass cmp "$TMP_DIR/a.printed" "$TMP_DIR/after-hup.printed"

timeout 10 "$NFQCT" -s "$STATDIR" reload >"$TMP_DIR/bad.out" 2>"$TMP_DIR/bad.err"
assert_eq "nfqct reload of the bad file: exit status" 1 "$?"
sed 's/^/    nfqct reload: /' "$TMP_DIR/bad.err"
assert_eq "nfqct reload: the error on stderr" 1 "$(grep -c -F -- "$ERR" "$TMP_DIR/bad.err")"
"$NFQCT" -s "$STATDIR" rules >"$TMP_DIR/after-reload.printed" || fail "nfqct rules"
assert_pass cmp "$TMP_DIR/a.printed" "$TMP_DIR/after-reload.printed"
assert_pass timeout 15 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -q "$S4"
assert_pass timeout 15 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 2 -q "$S6"
tcp_exchange "$S4" 5002 4
tcp_exchange "$S6" 5003 6
# ... and the old ruleset still decides: new connections from the server side meet the policy.
assert_fail timeout 10 ip netns exec "$NS_S" ping -c 1 -W 1 -q "$C4"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
grep -E 'queue [0-9]+: received' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "daemon: packets dropped (the one ping from the server side)" 1 "$(log_sum dropped)"
assert_eq "daemon: enobufs" 0 "$(log_sum enobufs)"
assert_eq "stat file: dropped" 1 "$(stat_sum "$STATDIR/net/stat/nfqct_queue" dropped)"
assert_eq "stat file: invalid" 0 "$(stat_sum "$STATDIR/net/stat/nf_conntrack" invalid)"
finish
