#!/usr/bin/env bash
# Prometheus node_exporter exports the daemon's figures unchanged: its conntrack collector,
# pointed at the stat tree with --path.procfs, runs inside the router namespace (listening on
# that namespace's loopback only) and every node_nf_conntrack_* value it serves equals the
# files: entries = sys/net/netfilter/nf_conntrack_count, entries_limit = nf_conntrack_max,
# and each node_nf_conntrack_stat_NAME = column NAME of net/stat/nf_conntrack summed over
# the lines (the exporter adds up the per-CPU lines; it reads the columns by position, in the
# older layout, whose positions hold the same names for every field it exports).
#
# Traffic makes the exported counters non-zero, with a table limit of 3: a NOTRACKed UDP
# exchange (ignore), a ping and two TCP exchanges (insert, found), a third TCP exchange that
# evicts the ping entry (early_drop) and a ping that finds a full table of ASSURED entries
# (drop).
. "$(dirname "$0")/lib.sh"
require_root_netns nc ss ping python3

NE=prometheus-node-exporter
if ! command -v "$NE" >/dev/null; then
	[ "$(id -u)" -eq 0 ] || skip "needs root to install $NE"
	note "installing $NE"
	export DEBIAN_FRONTEND=noninteractive
	if ! timeout 300 apt-get install -y -qq --no-install-recommends "$NE" >/dev/null 2>&1; then
		timeout 300 apt-get update -qq >/dev/null 2>&1
		timeout 300 apt-get install -y -qq --no-install-recommends "$NE" >/dev/null 2>&1 ||
			skip "$NE is not installable"
	fi
	command -v "$NE" >/dev/null || skip "$NE installed but not on PATH"
fi

topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
cat >"$TMP_DIR/ne.rules" <<'EOF'
*raw
:PREROUTING ACCEPT
:OUTPUT ACCEPT
-A PREROUTING -p udp --dport 6001 -j NOTRACK
COMMIT
*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
COMMIT
EOF
MAX=3
nfqctd_start -q 0:1 -r "$TMP_DIR/ne.rules" -o nfqct.stat_interval_ms=100 \
	-o net.netfilter.nf_conntrack_max=$MAX || exit 1

udp_exchange "$S4" 6001 4 3
assert_pass timeout 10 ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 2 -q "$S4"
tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
tcp_exchange "$S4" 5003 4
assert_fail timeout 10 ip netns exec "$NS_C" ping -c 1 -W 1 -q "$S6"

CT=$STATDIR/net/stat/nf_conntrack
QF=$STATDIR/net/stat/nfqct_queue
# Settle: the files show a verdict for every packet the kernel queued.
for i in $(seq 50); do
	queued=$(queue_stats | awk '{ s += $8 } END { print s + 0 }')
	[ "$(($(stat_sum "$QF" accepted) + $(stat_sum "$QF" dropped)))" = "$queued" ] && break
	sleep 0.1
done
sleep 0.3
sed 's/^/    nf_conntrack: /' "$CT"
for f in found insert ignore early_drop drop; do
	[ "$(stat_sum "$CT" $f)" -gt 0 ] || fail "the traffic left $f at 0: the comparison would prove little"
done

# The exporter, bounded by timeout(1) in the router namespace; we keep both PIDs.
PORT=$((20000 + RANDOM % 20000))
ip netns exec "$NS_R" timeout 60 "$NE" --path.procfs="$STATDIR" --collector.disable-defaults \
	--collector.conntrack --web.listen-address="127.0.0.1:$PORT" >"$TMP_DIR/ne.log" 2>&1 &
ne_timeout=$!
PIDS+=("$ne_timeout")
ne_pid=
for i in $(seq 50); do
	ne_pid=$(pgrep -P "$ne_timeout" | head -n 1)
	[ -n "$ne_pid" ] && break
	sleep 0.1
done
[ -n "$ne_pid" ] && PIDS+=("$ne_pid")
wait_listen "$NS_R" tcp "$PORT" || { cat "$TMP_DIR/ne.log" >&2; exit 1; }

fetch() {
	if command -v curl >/dev/null; then
		in_router curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics"
	else
		in_router timeout 10 python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
			"http://127.0.0.1:$PORT/metrics"
	fi
}
cp "$CT" "$TMP_DIR/ct.before"
cp "$STATDIR/sys/net/netfilter/nf_conntrack_count" "$TMP_DIR/count.before"
fetch >"$TMP_DIR/metrics" || fail "cannot fetch /metrics"
assert_pass cmp "$TMP_DIR/ct.before" "$CT"	# the files did not move during the scrape
assert_pass cmp "$TMP_DIR/count.before" "$STATDIR/sys/net/netfilter/nf_conntrack_count"
grep '^node_nf_conntrack' "$TMP_DIR/metrics" | sed 's/^/    metrics: /'
assert_eq "node_scrape_collector_success{collector=\"conntrack\"}" 1 \
	"$(awk '$1 == "node_scrape_collector_success{collector=\"conntrack\"}" { print $2 }' "$TMP_DIR/metrics")"

result=$(python3 - "$TMP_DIR/metrics" "$CT" "$STATDIR/sys/net/netfilter" <<'PY'
import sys
metrics = {}
for line in open(sys.argv[1]):
    if line.startswith("node_nf_conntrack_"):
        name, value = line.split()
        metrics[name] = int(float(value))
rows = [l.split() for l in open(sys.argv[2]).read().splitlines()]
names, lines = rows[0], [[int(v, 16) for v in r] for r in rows[1:]]
sysdir = sys.argv[3]
want = {
    "node_nf_conntrack_entries": int(open(sysdir + "/nf_conntrack_count").read()),
    "node_nf_conntrack_entries_limit": int(open(sysdir + "/nf_conntrack_max").read()),
}
errors, stats = [], 0
for name in metrics:
    if name.startswith("node_nf_conntrack_stat_"):
        field = name[len("node_nf_conntrack_stat_"):]
        stats += 1
        if field not in names:
            errors.append("%s: no column %s in the file" % (name, field))
            continue
        want[name] = sum(l[names.index(field)] for l in lines)
for name, value in sorted(want.items()):
    if metrics.get(name) != value:
        errors.append("%s: exported %s, files say %s" % (name, metrics.get(name), value))
if stats == 0:
    errors.append("no node_nf_conntrack_stat_* metric exported")
print("; ".join(errors) if errors else "ok (%d stat metrics)" % stats)
PY
)
note "comparison: $result"
case "$result" in
ok*) note "ok: every node_nf_conntrack_* metric equals the files" ;;
*) fail "node_exporter against the files: $result" ;;
esac
assert_eq "node_nf_conntrack_entries_limit" "$MAX" \
	"$(awk '$1 == "node_nf_conntrack_entries_limit" { print $2 }' "$TMP_DIR/metrics")"
assert_eq "node_nf_conntrack_entries" "$MAX" \
	"$(awk '$1 == "node_nf_conntrack_entries" { print $2 }' "$TMP_DIR/metrics")"
assert_eq "node_nf_conntrack_stat_drop" 1 \
	"$(awk '$1 == "node_nf_conntrack_stat_drop" { print $2 }' "$TMP_DIR/metrics")"
assert_eq "node_nf_conntrack_stat_early_drop" 1 \
	"$(awk '$1 == "node_nf_conntrack_stat_early_drop" { print $2 }' "$TMP_DIR/metrics")"

# Stop the exporter by its PID (timeout(1) forwards nothing we need: kill the child first).
kill -TERM "$ne_pid" 2>/dev/null
wait "$ne_timeout" 2>/dev/null
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
