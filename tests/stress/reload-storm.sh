#!/usr/bin/env bash
# reload-storm.sh - 1,000 reloads under traffic, and not one packet judged by a half-loaded
# ruleset (issue 14's fault campaign; `make stress`, never `make check`).
#
# The router's FORWARD has policy DROP and accepts UDP to port 7000 only. Two files with
# that meaning, written differently (so every reload builds a new ruleset), are swapped
# in turn and `nfqct reload` is called 1,000 times while the client sends to 7000 and 7001
# without pause. A packet judged by a half-built ruleset (no rules, ACCEPT policies: what a
# ruleset is before its file is read) would let 7001 through; a lost or refused reload, or
# a gap without a ruleset, would drop 7000. Checked: 7001 never arrives, every 7000 datagram
# does, every reload answered "reload: done", nothing dropped by the queue.
# Prints: reloads, their mean time as the client sees it, datagrams sent and received.
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns python3
RELOADS=${RELOADS:-1000}
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
cat >"$TMP_DIR/a.rules" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -p udp --dport 7000 -j ACCEPT
COMMIT
EOF
cat >"$TMP_DIR/b.rules" <<'EOF'
*filter
:FORWARD DROP [0:0]
-N seven
-A FORWARD -p udp -j seven
-A seven -p udp --dport 7001 -j DROP
-A seven -p udp --dport 7000 -j ACCEPT
COMMIT
EOF
RULES=$TMP_DIR/fw.rules
cp "$TMP_DIR/a.rules" "$RULES"
nfqctd_start -q 0:1 -r "$RULES" || exit 1

# the sink counts per port; the sender sends 7000, 7001 alternately until told to stop
cat >"$TMP_DIR/sink.py" <<'PY'
import socket, select, sys, time
out, addr = sys.argv[1], sys.argv[2]
socks = {}
for p in (7000, 7001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((addr, p))
    socks[s] = p
count = {7000: 0, 7001: 0}
end = time.time() + 600
while time.time() < end:
    r, _, _ = select.select(list(socks), [], [], 1.0)
    for s in r:
        s.recv(64)
        count[socks[s]] += 1
    with open(out + ".tmp", "w") as f:
        f.write("%d %d\n" % (count[7000], count[7001]))
    import os
    os.replace(out + ".tmp", out)
PY
cat >"$TMP_DIR/send.py" <<'PY'
import os, socket, sys, time
addr, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
end = time.time() + 600
while not os.path.exists(stop) and time.time() < end:
    for p in (7000, 7001):
        s.sendto(b"storm", (addr, p))
    n += 1
    time.sleep(0.002)
open(out, "w").write("%d\n" % n)
PY
ip netns exec "$NS_S" python3 "$TMP_DIR/sink.py" "$TMP_DIR/got" "$S4" &
PIDS+=($!)
wait_listen "$NS_S" udp 7000 || { fail "sink"; exit 1; }
ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$S4" "$TMP_DIR/stop" "$TMP_DIR/sent" &
sender=$!
PIDS+=("$sender")

t0=$(date +%s%N)
bad=0
for i in $(seq "$RELOADS"); do
	if [ $((i % 2)) -eq 1 ]; then cp "$TMP_DIR/b.rules" "$RULES.new"; else cp "$TMP_DIR/a.rules" "$RULES.new"; fi
	mv "$RULES.new" "$RULES"
	out=$(timeout 10 "$NFQCT" -s "$STATDIR" reload 2>&1)
	[ "$out" = "reload: done" ] || { bad=$((bad + 1)); [ "$bad" -le 3 ] && note "reload $i: $out"; }
done
t1=$(date +%s%N)
touch "$TMP_DIR/stop"
wait "$sender"
sleep 1	# the last datagrams in flight
read -r got7000 got7001 <"$TMP_DIR/got"
sent=$(cat "$TMP_DIR/sent")

note "reloads: $RELOADS, mean $(( (t1 - t0) / RELOADS / 1000 )) us each (client's view, nfqct reload)"
note "datagrams per port sent: $sent; received: 7000 $got7000, 7001 $got7001"
assert_eq "reloads not done" 0 "$bad"
assert_eq "port 7001 (DROP in both files) received" 0 "$got7001"
assert_eq "port 7000 (ACCEPT in both files) received" "$sent" "$got7000"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
assert_eq "queue 1 queue_dropped" 0 "$(queue_field 1 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
