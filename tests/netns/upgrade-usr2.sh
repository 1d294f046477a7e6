#!/usr/bin/env bash
# Upgrade without a gap. The router's FORWARD ruleset accepts NEW only from the client side
# (r0), so a flow whose entry is lost is dead for the server's packets. One TCP connection and
# one UDP exchange stay open throughout (the rounds of state-restart.sh: the server speaks, the
# client answers on both, the round is done when the server has both answers).
#
# The daemon runs from a copy of nfqctd that the test replaces on disk, as a package would.
#   1  baseline
#   2  kill -USR2 under udp_blast at 20,000 packets/s: the same pid (exec in place), the new
#      binary running, not one packet lost (sender = receiver, queue_dropped = user_dropped =
#      0), the table as before, the counters continuing; the longest verdict gap is reported
#   3  the binary on disk replaced by one that fails: kill -USR2 and `nfqct upgrade` are
#      refused, the daemon says why and goes on
#   4  a bad settings file: `nfqct upgrade` refused with the file's error; the daemon goes on
#   5  the file fixed: `nfqct upgrade` succeeds and says so
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables
BLAST=$NFQCT_SRCDIR/tests/bench/udp_blast
SINK=$NFQCT_SRCDIR/tests/bench/udp_sink
[ -x "$BLAST" ] && [ -x "$SINK" ] ||
	skip "needs tests/bench/udp_blast and udp_sink (make tests/bench/udp_blast tests/bench/udp_sink)"
[ -x "$NFQCTD" ] || skip "nfqctd not built ($NFQCTD)"
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
CONF=$TMP_DIR/nfqct.conf
echo "nfqct.stat_interval_ms = 100" >"$CONF"
PIDFILE=$TMP_DIR/nfqctd.pid
mkdir -p "$TMP_DIR/bin"
cp "$NFQCTD" "$TMP_DIR/bin/nfqctd"
REAL_NFQCTD=$NFQCTD
NFQCTD=$TMP_DIR/bin/nfqctd
# install FILE: replace the binary as a package manager does (a new inode, renamed over)
install_bin() { cp "$1" "$TMP_DIR/bin/.new" && chmod 755 "$TMP_DIR/bin/.new" && mv "$TMP_DIR/bin/.new" "$NFQCTD"; }

nfqctd_start -q 0:1 -r "$RULES" -c "$CONF" -p "$PIDFILE" || exit 1
PID0=$NFQCTD_PID
peers_start || exit 1

# The peers' entries without the timeout column, sorted (the blast's entries move).
table() { "$NFQCT" -s "$STATDIR" list | grep -E 'dport=500[12] ' | awk '{ $3 = ""; print }' | sort; }
# Sum of column N of the stat file nfqct_queue (hex, a line per worker).
queue_sum() {
	local v s=0
	for v in $(awk -v c="$1" 'NR > 1 { print $c }' "$STATDIR/net/stat/nfqct_queue"); do
		s=$((s + 16#$v))
	done
	echo "$s"
}
# wait_log PATTERN [N]: until the log has N (default 1) lines matching PATTERN, at most 10 s
wait_log() {
	local i
	for i in $(seq 100); do
		[ "$(grep -c -- "$1" "$NFQCTD_LOG")" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}
alive() { kill -0 "$PID0" 2>/dev/null && echo 1 || echo 0; }

peer_round 1 1 "baseline"
sleep 0.3                                  # a delayed ACK, and one stat interval
table >"$TMP_DIR/before"
sed 's/^/    before: /' "$TMP_DIR/before"
assert_eq "entries: TCP and UDP" 2 "$(grep -c . "$TMP_DIR/before")"

# (1) a new binary on disk, USR2 under 20,000 packets/s
install_bin "$REAL_NFQCTD"
assert_eq "the running binary was replaced on disk" 1 \
	"$(readlink "/proc/$PID0/exe" | grep -c '(deleted)')"
rx0=$(queue_sum 2)
in_server "$SINK" -l "$S4" -p 9000 -t 30 -i 1500 >"$TMP_DIR/sink" 2>&1 &
sink=$!
PIDS+=("$sink")
wait_listen "$NS_S" udp 9000
timeout 30 ip netns exec "$NS_C" "$BLAST" -d "$S4" -p 9000 -n 8 -t 4 -r 20000 >"$TMP_DIR/blast" 2>&1 &
blast=$!
PIDS+=("$blast")
# The kernel's queues while the blast runs: the peak of queue_total (column 3), the losses.
(
	peak=0
	for i in $(seq 1000); do
		kill -0 "$blast" 2>/dev/null || break
		t=$(queue_stats | awk '{ s += $3 } END { print s + 0 }')
		[ "$t" -gt "$peak" ] && peak=$t
		echo "$peak" >"$TMP_DIR/peak"
		sleep 0.002
	done
) &
sampler=$!
PIDS+=("$sampler")
sleep 1.5
kill -USR2 "$PID0"
wait_log "upgrade: nfqctd .* running" || fail "no 'running' line after USR2"
wait "$blast"
wait "$sink"
wait "$sampler"
sed 's/^/    /' "$TMP_DIR/blast" "$TMP_DIR/sink"
grep 'upgrade:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$TMP_DIR/blast")
received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$TMP_DIR/sink")
assert_eq "blast: send errors" 0 "$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$TMP_DIR/blast")"
[ "${sent:-0}" -ge 60000 ] || fail "blast sent only ${sent:-0} packets (expected about 80,000)"
assert_eq "sender count = receiver count" "$sent" "$received"
queue_stats | sed 's/^/    nfnetlink_queue: /'
assert_eq "kernel queue_dropped" 0 "$(queue_stats | awk '{ s += $6 } END { print s + 0 }')"
assert_eq "kernel user_dropped" 0 "$(queue_stats | awk '{ s += $7 } END { print s + 0 }')"
assert_eq "same pid (exec in place)" 1 "$(alive)"
assert_eq "pid file" "$PID0" "$(cat "$PIDFILE")"
assert_eq "the new binary runs" 0 "$(readlink "/proc/$PID0/exe" | grep -c '(deleted)')"
assert_eq "counters handed over" 1 "$(grep -c 'upgrade: counters continue' "$NFQCTD_LOG")"
# The queue that carried the blast: the largest first batch (an idle queue's "gap" is its idle time).
gap=$(sed -n 's/.*upgrade: queue [0-9]*: first verdicts \([0-9.]*\) ms.*(\([0-9]*\) packets.*/\2 \1/p' \
	"$NFQCTD_LOG" | sort -n | tail -n 1 | cut -d' ' -f2)
paused=$(sed -n 's/.*upgrade: nfqctd .* workers paused \([0-9.]*\) ms.*/\1/p' "$NFQCTD_LOG" | tail -n 1)
note "longest verdict gap ${gap:-?} ms (workers paused ${paused:-?} ms); kernel queue_total peak $(cat "$TMP_DIR/peak") packets"
[ -n "$gap" ] || fail "no verdict gap logged"
sleep 0.3
rx1=$(queue_sum 2)
note "stat file rx_packets: $rx0 before the blast, $rx1 after the upgrade"
[ "$rx1" -ge $((rx0 + sent)) ] || fail "counters reset: rx_packets $rx1 < $rx0 + $sent"
assert_eq "kernel and daemon agree: nothing lost by the daemon" 0 "$(queue_sum 5)"
table >"$TMP_DIR/after"
assert_pass diff -u "$TMP_DIR/before" "$TMP_DIR/after"
peer_round 2 1 "after USR2"

# (2) a new binary that fails: refused, the daemon goes on
printf '#!/bin/sh\necho "nfqctd: broken build" >&2\nexit 1\n' >"$TMP_DIR/broken"
install_bin "$TMP_DIR/broken"
kill -USR2 "$PID0"
wait_log "upgrade: refused" || fail "USR2 with a broken binary: no 'refused' line"
assert_eq "broken binary: says why" 1 "$(grep -c 'upgrade: check: nfqctd: broken build' "$NFQCTD_LOG")"
assert_eq "broken binary: still running" 1 "$(alive)"
peer_round 3 1 "after a refused USR2"
assert_fail "$NFQCT" -s "$STATDIR" upgrade
sed 's/^/    nfqct upgrade: /' "$TMP_DIR/cmd.out"
assert_eq "nfqct upgrade: says why" 1 "$(grep -c 'upgrade-check exited with status 1' "$TMP_DIR/cmd.out")"

# (3) a bad settings file: refused with its error
install_bin "$REAL_NFQCTD"
echo "net.netfilter.nf_conntrack_no_such_thing = 1" >>"$CONF"
assert_fail "$NFQCT" -s "$STATDIR" upgrade
sed 's/^/    nfqct upgrade: /' "$TMP_DIR/cmd.out"
assert_eq "bad config: names the setting" 1 "$(grep -c 'upgrade: check: .*nf_conntrack_no_such_thing' "$TMP_DIR/cmd.out")"
assert_eq "bad config: still running" 1 "$(alive)"
peer_round 4 1 "after a refused nfqct upgrade"

# (4) fixed: nfqct upgrade goes through and says so
echo "nfqct.stat_interval_ms = 100" >"$CONF"
sleep 0.3
table >"$TMP_DIR/before2"
assert_pass "$NFQCT" -s "$STATDIR" upgrade
sed 's/^/    nfqct upgrade: /' "$TMP_DIR/cmd.out"
assert_eq "nfqct upgrade: the new image answers" 1 "$(grep -c "upgrade: nfqctd .* running (pid $PID0)" "$TMP_DIR/cmd.out")"
table >"$TMP_DIR/after2"
assert_pass diff -u "$TMP_DIR/before2" "$TMP_DIR/after2"
peer_round 5 1 "after nfqct upgrade"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
