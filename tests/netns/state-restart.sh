#!/usr/bin/env bash
# The table survives a restart and a crash. The router's FORWARD ruleset accepts NEW only from
# the client side (r0), so a flow whose entry is lost is dead for packets of the server: its
# first packet after the restart is NEW from r1 and meets the DROP policy.
#
# One TCP connection and one UDP exchange stay open throughout. In each round the server
# speaks first (a line on TCP, a datagram on UDP), the client answers on both, and the round
# is done when the server has both answers. Rounds:
#   1  baseline
#   2  after SIGTERM and a new start: the state file written at the stop
#   3  after kill -9 and a new start: the state file of the last interval (1 s)
#   4  after `nfqct save FILE`, `nfqct flush`, `nfqct restore FILE` (and the merge rules)
#   5  control: kill -9 and a start with nfqct.state_file=none must lose both flows
# Each restart must show the same entries (tuples, states, counters) in `nfqct list` as just
# before the stop, and `nfqctd --check` must report the file.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ss iptables ip6tables
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }

RULES=$TMP_DIR/stateful.rules
cat >"$RULES" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
EOF
STATE=$TMP_DIR/nfqct.state
ARGS=(-q 0:1 -r "$RULES" -o "nfqct.state_file=$STATE" -o nfqct.state_interval_s=1)

# peers.py server|client DIR: the round protocol over TCP 5001 and UDP 5002 (see above);
# the server runs round k once DIR/go.k exists and writes DIR/done.k when both answers came.
cat >"$TMP_DIR/peers.py" <<'PY'
import os, select, signal, socket, sys, time
signal.alarm(120)                           # bounded, whatever happens to the test
role, d, a = sys.argv[1], sys.argv[2], sys.argv[3]
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a, 5001)); l.listen(1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((a, 5002))
    t, _ = l.accept()
    hello, peer = u.recvfrom(100)           # the client's UDP address
    t.recv(100)
    for k in range(1, 10):
        while not os.path.exists(f"{d}/go.{k}"):
            time.sleep(0.05)
        t.sendall(f"srv {k}\n".encode()); u.sendto(f"srv {k}".encode(), peer)
        got = set()
        while got != {"tcp", "udp"}:
            r, _, _ = select.select([t, u], [], [])
            if t in r:
                if not t.recv(100): sys.exit(1)
                got.add("tcp")
            if u in r:
                u.recvfrom(100); got.add("udp")
        open(f"{d}/done.{k}", "w").close()
else:
    t = socket.create_connection((a, 5001), timeout=5); t.settimeout(None)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect((a, 5002))
    u.send(b"hello"); t.sendall(b"hello\n")
    while True:
        r, _, _ = select.select([t, u], [], [])
        if t in r:
            m = t.recv(100)
            if not m: break
            t.sendall(b"cli " + m)
        if u in r:
            m = u.recv(100); u.send(b"cli " + m)
PY
# (no `timeout` wrapper: `ip netns exec` execs python, so $! is the peer itself and the EXIT
# trap's kill reaches it; the script bounds itself with alarm())
ip netns exec "$NS_S" python3 "$TMP_DIR/peers.py" server "$TMP_DIR" "$S4" &
PIDS+=($!)

nfqctd_start "${ARGS[@]}" || exit 1
assert_eq "first start: no state file yet" 1 "$(grep -c 'state: no state file' "$NFQCTD_LOG")"
wait_listen "$NS_S" tcp 5001
ip netns exec "$NS_C" python3 "$TMP_DIR/peers.py" client "$TMP_DIR" "$S4" &
PIDS+=($!)

# round K WANT(1 done | 0 not done) WHAT
round() {
	local i
	touch "$TMP_DIR/go.$1"
	for i in $(seq 50); do
		[ -e "$TMP_DIR/done.$1" ] && break
		sleep 0.1
	done
	assert_eq "round $1 ($3): server heard both answers" "$2" "$([ -e "$TMP_DIR/done.$1" ] && echo 1 || echo 0)"
}
# The table without the timeout column (it moves), sorted.
table_now() { "$NFQCT" -s "$STATDIR" list | awk '{ $3 = ""; print }' | sort; }
# table: the table once the traffic has settled (two reads 0.3 s apart agree, bounded), so a
# late ACK of the last round cannot land between the snapshot and the stop
table() {
	local i prev cur
	prev=$(table_now)
	for i in $(seq 20); do
		sleep 0.3
		cur=$(table_now)
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	printf '%s\n' "$cur"
}

round 1 1 "baseline"
table >"$TMP_DIR/before"
sed 's/^/    before: /' "$TMP_DIR/before"
assert_eq "entries: TCP and UDP" 2 "$(grep -c . "$TMP_DIR/before")"
assert_eq "TCP entry ESTABLISHED, ASSURED" 1 "$(grep -c "^tcp 6  ESTABLISHED src=$C4 dst=$S4 .*dport=5001 .*\[ASSURED\]" "$TMP_DIR/before")"

# (a) SIGTERM, start again: the file written at the stop
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "stop: table saved" 1 "$(grep -c "state: table saved to $STATE (2 entries)" "$NFQCTD_LOG")"
in_router "$NFQCTD" --check -q 0:1 -r "$RULES" -o "nfqct.state_file=$STATE" >"$TMP_DIR/check" 2>&1
assert_eq "--check exit status" 0 "$?"
sed 's/^/    check: /' "$TMP_DIR/check"
assert_eq "--check reports the file" 1 "$(grep -c "state file $STATE: OK, version 1, 2 entries" "$TMP_DIR/check")"
nfqctd_start "${ARGS[@]}" || exit 1
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "start: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries from $STATE" "$NFQCTD_LOG")"
table >"$TMP_DIR/after-term"
assert_pass diff -u "$TMP_DIR/before" "$TMP_DIR/after-term"
round 2 1 "after SIGTERM and start"

# (b) kill -9 after the next interval save, start again
table >"$TMP_DIR/before-kill"
sleep 2.5                       # two interval saves (1 s) after round 2's last packet
kill -KILL "$NFQCTD_PID"
nfqctd_wait 5
nfqctd_start "${ARGS[@]}" || exit 1
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "start after kill -9: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries from $STATE" "$NFQCTD_LOG")"
table >"$TMP_DIR/after-kill"
assert_pass diff -u "$TMP_DIR/before-kill" "$TMP_DIR/after-kill"
round 3 1 "after kill -9 and start"
table | sed 's/^/    after round 3: /'

# (c) at run time: save to a file, flush, restore; restore merges, --replace overwrites
table >"$TMP_DIR/before-save"
assert_pass "$NFQCT" -s "$STATDIR" save "$TMP_DIR/saved.state"
assert_eq "save: what it wrote" 1 "$(grep -c "state: saved [0-9]* bytes to $TMP_DIR/saved.state" "$TMP_DIR/cmd.out")"
assert_pass "$NFQCT" -s "$STATDIR" flush
assert_eq "flushed" 0 "$("$NFQCT" -s "$STATDIR" list | grep -c .)"
assert_pass "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/saved.state"
sed 's/^/    restore: /' "$TMP_DIR/cmd.out"
assert_eq "restore: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries" "$TMP_DIR/cmd.out")"
table >"$TMP_DIR/after-restore"
assert_pass diff -u "$TMP_DIR/before-save" "$TMP_DIR/after-restore"
assert_pass "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/saved.state"
assert_eq "restore again: existing entries win" 1 "$(grep -c "state: loaded 0 of 2 entries.* 2 already in the table" "$TMP_DIR/cmd.out")"
assert_pass "$NFQCT" -s "$STATDIR" restore --replace "$TMP_DIR/saved.state"
assert_eq "restore --replace" 1 "$(grep -c "state: loaded 2 of 2 entries.* 0 already in the table" "$TMP_DIR/cmd.out")"
round 4 1 "after flush and restore"
printf 'garbage' >"$TMP_DIR/bad.state"
assert_fail "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/bad.state"
assert_eq "restore of a bad file: refused, says why" 1 "$(grep -c "refused: corrupt: not an nfqct state file" "$TMP_DIR/cmd.out")"

# (d) control: the same crash without a state file loses both flows
kill -KILL "$NFQCTD_PID"
nfqctd_wait 5
nfqctd_start -q 0:1 -r "$RULES" -o nfqct.state_file=none || exit 1
round 5 0 "control: no state file, the flows die"

nfqctd_stop
finish
