#!/usr/bin/env bash
# nfqct events: in the parity topology, `nfqct events` shows what `conntrack -E` shows for the
# same traffic (normalised: no timeout, no id, sorted); then a reader stopped with SIGSTOP
# during a burst of 100,000 new flows gets [LOST] lines whose counts add up to what it missed,
# and the daemon's verdict rate with that reader is measured against no reader.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables conntrack python3
topo_create
count_install || { fail "count rules"; exit 1; }
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 || { fail "accounting"; exit 1; }
kernel_rules router --queues 0:1 --no-notrack || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0:1 -o net.netfilter.nf_conntrack_max=400000 || exit 1

# wait_readers N: the stat file says N readers are attached (bounded)
wait_readers() {
	local i
	for i in $(seq 50); do
		[ "$(stat_sum "$STATDIR/net/stat/nfqct_events" readers 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "readers: expected $1, stat file says $(stat_sum "$STATDIR/net/stat/nfqct_events" readers)"
	return 1
}

# ---- parity with conntrack -E ----
timeout 30 ip netns exec "$NS_R" conntrack -E >"$TMP_DIR/kev.raw" 2>/dev/null &
KPID=$!; PIDS+=("$KPID")
timeout 30 "$NFQCT" -s "$STATDIR" events >"$TMP_DIR/nev.raw" 2>"$TMP_DIR/nev.err" &
NPID=$!; PIDS+=("$NPID")
wait_readers 1 || exit 1
sleep 0.5
# paced TCP: the kernel merges the events of packets that are queued at the same time (its
# event cache is per entry, delivered at confirmation), nfqctd reports each packet's; a pause
# between packets makes both report every state
PY=$TMP_DIR/paced.py
cat >"$PY" <<'PYEOF'
import socket, sys, time
role, fam, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
if role == "srv":
    s = socket.socket(af, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(1); s.settimeout(20)
    c, _ = s.accept(); d = c.recv(100); time.sleep(0.3); c.sendall(d)
    while c.recv(100): pass
    time.sleep(0.3); c.close(); print("ok", flush=True)
else:
    c = socket.socket(af, socket.SOCK_STREAM); c.settimeout(20); c.connect((addr, port))
    time.sleep(0.3); c.sendall(b"x\n"); c.recv(100); time.sleep(0.3)
    c.shutdown(socket.SHUT_WR); c.recv(100); time.sleep(0.3); c.close(); print("ok", flush=True)
PYEOF
paced() {
	timeout 20 ip netns exec "$NS_S" python3 "$PY" srv "$1" "$2" "$3" >"$TMP_DIR/psrv$3" 2>&1 &
	PIDS+=($!)
	wait_listen "$NS_S" tcp "$3"
	assert_pass timeout 20 ip netns exec "$NS_C" python3 "$PY" cli "$1" "$2" "$3"
	sleep 0.5
}
paced 4 "$S4" 7001
paced 6 "$S6" 7002
udp_exchange "$S4" 7003 4 2
assert_pass timeout 5 ip netns exec "$NS_C" ping -6 -c 1 -W 2 -q "$S6"
sleep 1
# DESTROY with counters: the same entries deleted from both tables
in_router conntrack -D -p udp >/dev/null 2>&1
assert_pass "$NFQCT" -s "$STATDIR" delete -p udp
in_router conntrack -D -p icmpv6 >/dev/null 2>&1
assert_pass "$NFQCT" -s "$STATDIR" delete -p icmpv6
sleep 1
kill "$KPID" "$NPID" 2>/dev/null; wait "$KPID" "$NPID" 2>/dev/null
# normalise: the timeout (after the protocol number), id=, who deleted it (the kernel names
# the conntrack process); sorted
normalise() {
	awk '{
		out = ""
		for (i = 1; i <= NF; i++) {
			if (i == 4 || $i ~ /^(id|portid|progname)=/ || $i == "[USERSPACE]")
				continue
			out = out (out == "" ? "" : " ") $i
		}
		print out
	}' "$1" | LC_ALL=C sort
}
normalise "$TMP_DIR/kev.raw" >"$TMP_DIR/kev.norm"
normalise "$TMP_DIR/nev.raw" >"$TMP_DIR/nev.norm"
[ -s "$TMP_DIR/kev.norm" ] || fail "conntrack -E saw nothing"
assert_same_table "nfqct events = conntrack -E" "$TMP_DIR/kev.norm" "$TMP_DIR/nev.norm"
assert_eq "DESTROY events with counters" 2 "$(grep -c '^\[DESTROY\] .*packets=' "$TMP_DIR/nev.norm")"

# bad input
assert_fail "$NFQCT" -s "$STATDIR" events -e BOGUS
assert_fail "$NFQCT" -s "$STATDIR" events --sport 1

# ---- a slow reader ----
# blast N: N datagrams from the client, each a new flow (distinct source/destination ports),
# as fast as the sender goes; prints the seconds taken.
blast() {
	timeout 60 ip netns exec "$NS_C" python3 - "$S4" "$1" <<'PYEOF'
import socket, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
t0 = time.time()
for i in range(n):
    s = socks[i % 4]
    try:
        s.sendto(b"x", (addr, 20000 + (i // 4) % 40000))
    except OSError:
        pass
print("%.3f" % (time.time() - t0))
PYEOF
}
accepted() { stat_sum "$STATDIR/net/stat/nfqct_queue" accepted; }
wait_drained() {
	local i
	for i in $(seq 100); do
		[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ] && return 0
		sleep 0.1
	done
}
# stat files are rewritten every stat interval: wait one out
stat_settle() { sleep 1.2; }

N=100000
# best_rate: the best of 3 bursts (deleting the table between), in verdicts per second of
# sending; the best, because on 2 cores the sender's scheduling makes single runs noisy.  The
# router's kernel table is flushed too: 100,000 entries more a burst slow the sender's own
# path, and the later measurements would pay for the earlier ones.
best_rate() {
	local k a0 a1 s r best=0
	for k in 1 2 3; do
		"$NFQCT" -s "$STATDIR" delete --all >/dev/null
		in_router conntrack -F >/dev/null 2>&1
		stat_settle; a0=$(accepted)
		s=$(blast $N); wait_drained; stat_settle; a1=$(accepted)
		r=$(awk -v n=$((a1 - a0)) -v s="$s" 'BEGIN { printf "%d", n / s }')
		[ "$r" -gt "$best" ] && best=$r
	done
	echo "$best"
}
# no reader
rate0=$(best_rate)
note "no reader: best of 3 bursts of $N: $rate0 verdicts/s"

# a reader that keeps up (its output discarded)
timeout 120 "$NFQCT" -s "$STATDIR" events -e NEW -p udp -d "$S4" >/dev/null 2>&1 &
RPID=$!; PIDS+=("$RPID")
wait_readers 1 || exit 1
rate2=$(best_rate)
note "running reader: best of 3 bursts of $N: $rate2 verdicts/s"
kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null
wait_readers 0 || exit 1

# a reader stopped during the burst, three times (a new reader each time, each burst checked),
# the best rate kept as for the others
rate1=0
for k in 1 2 3; do
	assert_pass "$NFQCT" -s "$STATDIR" delete --all
	in_router conntrack -F >/dev/null 2>&1
	stat_settle
	lost0=$(stat_sum "$STATDIR/net/stat/nfqct_events" lost)
	# (not under timeout(1): SIGSTOP must reach the reader itself; killed below)
	"$NFQCT" -s "$STATDIR" events -e NEW -p udp -d "$S4" -o seq >"$TMP_DIR/slow.out" 2>&1 &
	SPID=$!; PIDS+=("$SPID")
	wait_readers 1 || exit 1
	kill -STOP "$SPID"
	stat_settle; a0=$(accepted)
	s1=$(blast $N); wait_drained; stat_settle; a1=$(accepted)
	r=$(awk -v n=$((a1 - a0)) -v s="$s1" 'BEGIN { printf "%d", n / s }')
	[ "$r" -gt "$rate1" ] && rate1=$r
	note "stopped reader, burst $k: $((a1 - a0)) verdicts in $s1 s of sending: $r verdicts/s"
	made=$("$NFQCT" -s "$STATDIR" count -p udp -d "$S4")
	kill -CONT "$SPID"
	sleep 2
	kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
	wait_readers 0 || exit 1
	got=$(grep -c '^ *\[NEW\]' "$TMP_DIR/slow.out")
	lost=$(awk '/^\[LOST\]/ { s += $2 } END { print s + 0 }' "$TMP_DIR/slow.out")
	note "entries made $made; the reader got $got events and $(grep -c '^\[LOST\]' "$TMP_DIR/slow.out") loss line(s) for $lost"
	[ "$lost" -gt 0 ] || fail "the stopped reader lost nothing: the test proves nothing"
	assert_eq "events received + lost = flows made" "$made" $((got + lost))
	# the loss lines' seq ranges and the seqs received leave no gap and no overlap
	awk '/^\[LOST\]/ { split($5, r, "-"); n += r[2] - r[1] + 1; next }
	     / seq=/ { n++ }
	     END { print n }' "$TMP_DIR/slow.out" >"$TMP_DIR/seqn"
	assert_eq "seq numbers accounted for" "$made" "$(cat "$TMP_DIR/seqn")"
	stat_lost=$(stat_sum "$STATDIR/net/stat/nfqct_events" lost)
	assert_eq "stat tree: lost during the stopped reader's burst" "$lost" $((stat_lost - lost0))
done
# no reader again: how much the rate drifts over the test (reported, not asserted)
rate0b=$(best_rate)
note "no reader again: best of 3 bursts of $N: $rate0b verdicts/s"
# the baseline is the mean of the no-reader rates before and after: the rate drifts down by a
# few % over the test whatever listens, and the reader phases sit between the two
base=$(((rate0 + rate0b) / 2))
note "verdict rate: no reader $rate0/s then $rate0b/s (base $base/s)," \
	"running reader $rate2/s ($((rate2 * 100 / base)) %), stopped reader $rate1/s ($((rate1 * 100 / base)) %)"
# The rates are figures, reported, not asserted: speed is measured, never a pass/fail of a
# test on a shared 2-core machine (the events thread runs at nice 19 and a full reader buffer
# costs a count per event: nfqct(8), events).  What is asserted above: nothing lost silently.

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
