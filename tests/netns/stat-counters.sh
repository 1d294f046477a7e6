#!/usr/bin/env bash
# The stat tree counts exactly what crossed the router. Two queues (two workers), a ruleset
# that NOTRACKs UDP port 6001 and drops new flows to UDP port 6002, a table limit of N = 10:
#   phase 1: 9 NOTRACKed datagrams, 3 dropped datagrams of one new flow, then N accepted new
#            flows (6 TCP exchanges, 4 ping ids) fill the table exactly;
#   phase 2: 4 more TCP exchanges each evict one ping entry (early drop: ping entries are
#            never ASSURED, finished TCP ones are); then one more ping finds only ASSURED
#            entries and is dropped (table full).
# After each phase: nf_conntrack, nfqct_queue, nf_conntrack_count and nf_conntrack_max hold
# the exact counts; every line has the kernel's format; the per-worker lines add up to what
# `nfqct stat --json` prints; the daemon's queue counters match the kernel's.
. "$(dirname "$0")/lib.sh"
require_root_netns nc ss ping iptables ip6tables python3
KHDR_FILE=/proc/net/stat/nf_conntrack
[ -r "$KHDR_FILE" ] || skip "no $KHDR_FILE (nf_conntrack not loaded): nothing to compare the header with"
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }

N=10
WORKERS=2
CT=$STATDIR/net/stat/nf_conntrack
QF=$STATDIR/net/stat/nfqct_queue

cat >"$TMP_DIR/stat.rules" <<'EOF'
*raw
:PREROUTING ACCEPT
:OUTPUT ACCEPT
-A PREROUTING -p udp --dport 6001 -j NOTRACK
COMMIT
*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
-A FORWARD -p udp --dport 6002 -m conntrack --ctstate NEW -j DROP
COMMIT
EOF

# Independent count of the packets to the NOTRACK port: a kernel rule counter in the router.
for fam in iptables ip6tables; do
	in_router "$fam" -w -t mangle -A FORWARD -p udp --dport 6001 \
		-m comment --comment nfqct-test-notrack || { fail "$fam counter rule"; exit 1; }
done
notrack_read() {
	local n4 n6
	n4=$(in_router iptables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-notrack/ { print $1 }')
	n6=$(in_router ip6tables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-notrack/ { print $1 }')
	echo $((n4 + n6))
}

nfqctd_start -q 0:1 -r "$TMP_DIR/stat.rules" -o nfqct.stat_interval_ms=100 \
	-o net.netfilter.nf_conntrack_max=$N || exit 1

# ct_col NAME [LINE]: one column of the nf_conntrack file, summed (default; entries, a gauge
# on every line, is taken from the first line) or of one line (1 = the first worker), decimal.
ct_col() {
	local line=${2:-0}
	[ "$1" = entries ] && [ "$line" = 0 ] && line=1
	awk -v name="$1" -v want="$line" '
		function hex(x,   i, v) {
			for (i = 1; i <= length(x); i++)
				v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v
		}
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c && (want == 0 || NR - 1 == want) { s += hex($c) }
		END { if (!c) exit 1; printf "%d\n", s }' "$CT"
}
q_col() { stat_sum "$QF" "$1"; }
kernel_queued() { queue_stats | awk '{ s += $8 } END { print s + 0 }'; }

# Wait (bounded) until the stat files show a verdict for every packet the kernel queued and
# keep showing it: the snapshot that follows is final for the traffic sent so far.
settle() {
	local i want
	for i in $(seq 100); do
		want=$(kernel_queued)
		if [ -f "$QF" ] &&
			[ "$(($(q_col accepted) + $(q_col dropped)))" = "$want" ] &&
			[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ]; then
			sleep 0.3
			[ "$(($(q_col accepted) + $(q_col dropped)))" = "$(kernel_queued)" ] && return 0
		fi
		sleep 0.1
	done
	fail "stat files never caught up with the kernel's queues"
	return 1
}

# The checks that hold after any phase, whatever the counts.
check_shape() {
	local phase=$1 khdr re lines bad e0 f json
	khdr=$(head -n 1 "$KHDR_FILE")
	assert_eq "$phase: header equals the kernel's byte for byte" "$khdr" "$(head -n 1 "$CT")"
	# The kernel's separators, with every name replaced by 8 lowercase hex digits.
	re="^$(printf '%s' "$khdr" | sed -E 's/[a-z_]+/[0-9a-f]{8}/g')\$"
	lines=$(wc -l <"$CT")
	assert_eq "$phase: nf_conntrack lines (header + one per worker)" $((1 + WORKERS)) "$lines"
	assert_eq "$phase: nf_conntrack ends with a newline" "0a" "$(tail -c 1 "$CT" | od -An -tx1 | tr -d ' ')"
	bad=$(tail -n +2 "$CT" | grep -cvE "$re" || true)
	assert_eq "$phase: nf_conntrack lines not in the kernel's format" 0 "$bad"
	qre="^$(head -n 1 "$QF" | sed -E 's/[a-z_]+/[0-9a-f]{8}/g')\$"
	assert_eq "$phase: nfqct_queue header" "$(printf '%s' "$NFQCT_QUEUE_HDR")" "$(head -n 1 "$QF")"
	assert_eq "$phase: nfqct_queue lines" $((1 + WORKERS)) "$(wc -l <"$QF")"
	bad=$(tail -n +2 "$QF" | grep -cvE "$qre" || true)
	assert_eq "$phase: nfqct_queue lines not in the format" 0 "$bad"
	assert_eq "$phase: nfqct_queue queue numbers" "0 1" \
		"$(tail -n +2 "$QF" | awk '{ printf "%s%d", (NR > 1 ? " " : ""), $1 }')"
	e0=$(ct_col entries 1)
	for f in $(seq 2 "$WORKERS"); do
		assert_eq "$phase: entries on line $f equals line 1" "$e0" "$(ct_col entries "$f")"
	done
	assert_eq "$phase: sys/net/netfilter/nf_conntrack_count equals entries" \
		"$e0" "$(cat "$STATDIR/sys/net/netfilter/nf_conntrack_count")"
	assert_eq "$phase: sys/net/netfilter/nf_conntrack_max" \
		"$N" "$(cat "$STATDIR/sys/net/netfilter/nf_conntrack_max")"

	# nfqct stat --json --per-worker: totals are the column sums, workers are the lines.
	cp "$CT" "$TMP_DIR/ct.before"
	cp "$QF" "$TMP_DIR/q.before"
	"$NFQCT" -s "$STATDIR" stat --json --per-worker >"$TMP_DIR/stat.json" ||
		fail "$phase: nfqct stat --json failed"
	assert_pass cmp "$TMP_DIR/ct.before" "$CT"	# nothing moved while the client read
	json=$(python3 - "$TMP_DIR/stat.json" "$CT" "$QF" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
out = []
for key, path in (("nf_conntrack", sys.argv[2]), ("nfqct_queue", sys.argv[3])):
    rows = [l.split() for l in open(path).read().splitlines()]
    names, lines = rows[0], [[int(v, 16) for v in r] for r in rows[1:]]
    tab = doc[key]
    for i, name in enumerate(names):
        if i == 0:
            want = lines[0][0] if key == "nf_conntrack" else None
            got = tab.get("entries") if key == "nf_conntrack" else None
        else:
            want, got = sum(l[i] for l in lines), tab.get(name)
        if want != got:
            out.append("%s total %s: file %s, json %s" % (key, name, want, got))
        for w, l in enumerate(lines):
            if i == 0:
                continue
            g = tab["workers"][w].get(name)
            if g != l[i]:
                out.append("%s worker %d %s: file %s, json %s" % (key, w, name, l[i], g))
    if key == "nfqct_queue" and tab.get("queues") != len(lines):
        out.append("nfqct_queue queues: %s" % tab.get("queues"))
print("; ".join(out) if out else "ok")
PY
)
	assert_eq "$phase: nfqct stat --json (totals and workers) against the files" ok "$json"
}
NFQCT_QUEUE_HDR="queue rx_packets rx_bytes accepted dropped batches verdict_msgs rx_errors enobufs tx_errors fragments csum_unchecked rejected reject_loops logged log_lost"

# expect_ct PHASE NAME=VALUE...: exact column sums of nf_conntrack.
expect_ct() {
	local phase=$1 kv
	shift
	for kv in "$@"; do
		assert_eq "$phase: nf_conntrack ${kv%%=*}" "${kv#*=}" "$(ct_col "${kv%%=*}")"
	done
}

# The kernel's view against the daemon's.
check_queues() {
	local phase=$1 dropped=$2 rx
	rx=$(q_col rx_packets)
	assert_eq "$phase: rx_packets = the kernel's id_sequence summed" "$(kernel_queued)" "$rx"
	assert_eq "$phase: accepted + dropped = rx_packets" "$rx" "$(($(q_col accepted) + $(q_col dropped)))"
	assert_eq "$phase: dropped" "$dropped" "$(q_col dropped)"
	for f in rx_errors enobufs tx_errors fragments csum_unchecked rejected reject_loops logged log_lost; do
		assert_eq "$phase: nfqct_queue $f" 0 "$(q_col $f)"
	done
	for q in 0 1; do
		assert_eq "$phase: kernel queue $q queue_dropped" 0 "$(queue_field $q queue_dropped)"
		assert_eq "$phase: kernel queue $q user_dropped" 0 "$(queue_field $q user_dropped)"
	done
}

# ---- phase 1 ----
udp_exchange "$S4" 6001 4 5
udp_exchange "$S6" 6001 6 4
# One new flow to the dropped port, 3 datagrams from one socket: each is NEW (the entry of a
# dropped packet is never confirmed), none reaches the server, so nothing answers.
assert_pass timeout 10 ip netns exec "$NS_C" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"drop me\n", ("'"$S4"'", 6002))
    time.sleep(0.05)'
port=5001
for fam in 4 4 4 6 6 6; do
	if [ "$fam" = 4 ]; then tcp_exchange "$S4" "$port" 4; else tcp_exchange "$S6" "$port" 6; fi
	port=$((port + 1))
done
# 4 ping ids, 2 echo requests each.
for dst in "$S4" "$S4" "$S6" "$S6"; do
	assert_pass timeout 10 ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 2 -q "$dst"
done
settle
notrack=$(notrack_read)
assert_eq "phase 1: datagrams the kernel counted to the NOTRACK port" 9 "$notrack"
rx=$(q_col rx_packets)
note "phase 1: $rx packets queued"
sed 's/^/    nf_conntrack: /' "$CT"
sed 's/^/    nfqct_queue:  /' "$QF"
check_shape "phase 1"
check_queues "phase 1" 3
# new: the N flows plus the 3 NEW packets of the dropped flow (a filter DROP discards the
# unconfirmed entry: not `insert`, not `drop`, which is the table-full counter).
expect_ct "phase 1" entries=$N insert=$N new=$((N + 3)) ignore="$notrack" drop=0 \
	early_drop=0 delete=0 insert_failed=0 clashres=0 invalid=0 icmp_error=0 \
	chainlength=0 search_restart=0 expect_new=0 expect_create=0 expect_delete=0
# Every tracked packet either created an entry or found one.
assert_eq "phase 1: found + new = tracked packets" "$((rx - notrack))" \
	"$(($(ct_col found) + $(ct_col new)))"

# ---- phase 2: the table is full ----
port=5007
for fam in 4 6 4 6; do
	if [ "$fam" = 4 ]; then tcp_exchange "$S4" "$port" 4; else tcp_exchange "$S6" "$port" 6; fi
	port=$((port + 1))
done
assert_fail timeout 10 ip netns exec "$NS_C" ping -c 1 -W 1 -q "$S4"
settle
rx=$(q_col rx_packets)
note "phase 2: $rx packets queued"
sed 's/^/    nf_conntrack: /' "$CT"
check_shape "phase 2"
check_queues "phase 2" 4
expect_ct "phase 2" entries=$N insert=$((N + 4)) new=$((N + 3 + 4)) ignore="$notrack" \
	early_drop=4 delete=4 drop=1 insert_failed=0 clashres=0 invalid=0 icmp_error=0
assert_eq "phase 2: found + new + drop = tracked packets" "$((rx - notrack))" \
	"$(($(ct_col found) + $(ct_col new) + $(ct_col drop)))"
grep -q 'nfqct: table full, dropping packet' "$NFQCTD_LOG" ||
	fail "phase 2: no 'table full' message in the log"
assert_eq "phase 2: entries left (nfqct list)" "$N" "$("$NFQCT" -s "$STATDIR" list | grep -c .)"
assert_eq "phase 2: ping entries left" 0 "$("$NFQCT" -s "$STATDIR" list | grep -c -E '^icmp')"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
# The last write at exit keeps the final figures.
check_shape "after exit"
expect_ct "after exit" entries=$N insert=$((N + 4)) drop=1 early_drop=4
finish
