#!/usr/bin/env bash
# kill9.sh - kill -9 under load, with and without --bypass (issue 14's fault campaign;
# `make stress`). The router's FORWARD accepts NEW only from the client side, so the
# server's stream to the client passes only while its entry is known (or the queue is
# bypassed). The client opens a UDP flow; the server answers with a stream of 1,000
# datagrams a second, each carrying its send time. nfqctd saves its table every second.
# Per mode: 2 s of stream, kill -9, 2 s down, a new start (same state file), 3 s more.
#   bypass: while down, the kernel accepts (fail open): the stream passes (what sat in the
#           queue at the kill is lost: reported, not asserted);
#   closed: while down, the kernel drops (fail closed): nothing passes;
#   both:   the new start restores the flow's entry from the state file, and the stream
#           passes again as soon as the queue is bound: from "ready" on, nothing is lost.
# Prints per mode: datagrams sent and received while up, while down and after the start,
# and the restart time (start to ready).
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns python3
topo_create
RULES=$TMP_DIR/stateful.rules
cat >"$RULES" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
EOF
cat >"$TMP_DIR/stream.py" <<'PY'
# server: wait for the client's datagram, then stream to it until STOP exists;
# client: send one datagram, then log "sent_time recv_time" per datagram until STOP.
import os, socket, struct, sys, time
role, addr, stop, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
fam = socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
end = time.time() + 60
if role == "server":
    s.bind((addr, 6000))
    _, peer = s.recvfrom(64)
    n = 0
    with open(log, "w") as f:
        while not os.path.exists(stop) and time.time() < end:
            now = time.time()
            s.sendto(struct.pack("!dI", now, n), peer)
            f.write("%.6f\n" % now)
            n += 1
            time.sleep(0.001)
else:
    s.bind(("0.0.0.0", 6001))
    s.settimeout(0.2)
    s.sendto(b"hello", (addr, 6000))
    with open(log, "w") as f:
        while not os.path.exists(stop) and time.time() < end:
            try:
                d = s.recv(64)
            except socket.timeout:
                continue
            t, n = struct.unpack("!dI", d[:12])
            f.write("%.6f %.6f\n" % (t, time.time()))
PY
# window LOG FROM TO: datagrams (sent, or received) whose send time is in [FROM, TO)
window() { awk -v a="$2" -v b="$3" '$1 >= a && $1 < b { n++ } END { print n + 0 }' "$1"; }
now() { date +%s.%N; }

for mode in bypass closed; do
	note "---- $mode ----"
	rm -f "$TMP_DIR"/stop.* "$TMP_DIR/nfqct.state"
	in_router "$KERNEL_RULES" remove
	if [ "$mode" = bypass ]; then kernel_rules router --queues 0 --bypass; else kernel_rules router --queues 0; fi ||
		{ fail "kernel rules"; exit 1; }
	ARGS=(-r "$RULES" -o "nfqct.state_file=$TMP_DIR/nfqct.state" -o nfqct.state_interval_s=1)
	nfqctd_start "${ARGS[@]}" || exit 1
	ip netns exec "$NS_S" python3 "$TMP_DIR/stream.py" server "$S4" "$TMP_DIR/stop.$mode" "$TMP_DIR/sent.$mode" &
	PIDS+=($!)
	wait_listen "$NS_S" udp 6000 || { fail "server"; exit 1; }
	ip netns exec "$NS_C" python3 "$TMP_DIR/stream.py" client "$S4" "$TMP_DIR/stop.$mode" "$TMP_DIR/got.$mode" &
	client=$!
	PIDS+=("$client")
	t0=$(now)
	sleep 2.5	# 2 s of stream and an interval save with the flow's entry in it
	t_kill=$(now)
	nfqctd_signal KILL
	nfqctd_wait 5
	t_dead=$(now)	# [t_kill, t_dead): verdicts of the dying daemon may still go out
	sleep 2
	t_start=$(now)
	nfqctd_start "${ARGS[@]}" || exit 1
	t_ready=$(now)
	sleep 3
	t_end=$(now)
	touch "$TMP_DIR/stop.$mode"
	wait "$client"
	sleep 0.3
	sent=$(grep -c . "$TMP_DIR/sent.$mode")
	s_up=$(window "$TMP_DIR/sent.$mode" "$t0" "$t_kill")
	s_down=$(window "$TMP_DIR/sent.$mode" "$t_dead" "$t_start")
	s_after=$(window "$TMP_DIR/sent.$mode" "$t_ready" "$t_end")
	up=$(window "$TMP_DIR/got.$mode" "$t0" "$t_kill")
	s_kill=$(window "$TMP_DIR/sent.$mode" "$t_kill" "$t_dead")
	killing=$(window "$TMP_DIR/got.$mode" "$t_kill" "$t_dead")
	down=$(window "$TMP_DIR/got.$mode" "$t_dead" "$t_start")
	during=$(window "$TMP_DIR/got.$mode" "$t_start" "$t_ready")
	after=$(window "$TMP_DIR/got.$mode" "$t_ready" "$t_end")
	restart_ms=$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%d", (b - a) * 1000 }')
	downs=$(awk -v a="$t_dead" -v b="$t_start" 'BEGIN { printf "%.1f", b - a }')
	after_s=$(awk -v a="$t_ready" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
	note "$mode: $sent sent; received/sent: up $up/$s_up, dying $killing/$s_kill, dead (${downs} s) $down/$s_down, starting ($restart_ms ms) $during, after ready (${after_s} s) $after/$s_after"
	assert_eq "$mode: restart loaded the flow" 1 "$(grep -c 'state: loaded 1 of 1 entries' "$NFQCTD_LOG")"
	assert_eq "$mode: received of those sent while up" "$s_up" "$up"
	if [ "$mode" = bypass ]; then
		assert_eq "bypass: received of those sent while nfqctd was dead" "$s_down" "$down"
	else
		assert_eq "closed: passed while nfqctd was down" 0 "$down"
	fi
	assert_eq "$mode: received of those sent after the new start was ready (the entry restored)" "$s_after" "$after"
	nfqctd_stop
done
finish
