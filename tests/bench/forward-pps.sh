#!/usr/bin/env bash
# forward-pps.sh - packets per second forwarded by the demo topology's router
# (client -- router -- server), small UDP datagrams (iperf3 -u -l 64 -b 0), on
# three paths measured in one run:
#   kernel   the router forwards, no queue;
#   nfqctd   FORWARD queued to nfqctd (2 queues, --queue-balance 0:1), full tracking.
# Each figure is the median of RUNS runs of SECONDS seconds; the ratio is
# nfqctd/kernel.  Part of `make bench`, never of `make check`.
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns iperf3 python3
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
RULES=${RULES:-$NFQCT_SRCDIR/rules/router.rules}

topo_create

# One run: received datagrams per second at the server.
pps_once() {
	local port=$((5201 + RANDOM % 1000)) json
	in_server timeout $((SECONDS_PER_RUN + 10)) iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
	PIDS+=($!)
	wait_listen "$NS_S" tcp "$port" || { fail "iperf3 server"; return 1; }
	json=$(in_client timeout $((SECONDS_PER_RUN + 10)) iperf3 -c "$S4" -p "$port" -u -l 64 -b 0 \
		-t "$SECONDS_PER_RUN" -J 2>/dev/null)
	python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
s = d["end"]["sum"]
print(int((s["packets"] - s["lost_packets"]) / s["seconds"]))' <<<"$json"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

measure() {
	local i
	for i in $(seq "$RUNS"); do pps_once; done | median
}

note "kernel path (no queue): $RUNS x ${SECONDS_PER_RUN}s"
kernel=$(measure)
kernel_rules router --queues 0:1 --bypass || { fail "kernel rules"; finish; }
nfqctd_start -q 0:1 -r "$RULES" || finish
note "nfqctd path: $RUNS x ${SECONDS_PER_RUN}s"
nfqct=$(measure)
nfqctd_stop
queue_drops=$(grep -E 'enobufs [1-9]' "$NFQCTD_LOG" | wc -l)

printf '\n%-28s %12s %8s\n' "UDP 64-byte, forwarded" "packets/s" "ratio"
printf '%-28s %12s %8s\n' "kernel (no queue)" "$kernel" "1.00"
printf '%-28s %12s %8s\n' "nfqctd (2 queues, router)" "$nfqct" \
	"$(awk -v a="$nfqct" -v b="$kernel" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
grep -E 'queue [0-9]+: received' "$NFQCTD_LOG" | sed 's/^/  nfqctd: /'
[ "$queue_drops" -eq 0 ] || note "note: ENOBUFS seen (the daemon lost packets to socket overruns)"
finish
