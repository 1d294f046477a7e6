#!/usr/bin/env bash
# IPFIX export against nfdump's nfcapd: flows through the router end (nfqct delete), and
# `nfdump -r` shows every one of them with the packets and bytes, both directions, that
# `nfqct list` showed at its end; then the collector is stopped and restarted mid-run: the
# daemon counts what it could not send, keeps running, and exports again once it is back.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables nfcapd nfdump nc
topo_create
kernel_rules router --queues 0:1 --no-notrack || { fail "kernel rules"; exit 1; }
PORT=4739
nfqctd_start -q 0:1 -o "nfqct.ipfix_collector=$S4:$PORT" -o nfqct.ipfix_template_refresh_s=1 \
	-o nfqct.ipfix_active_timeout_s=3600 || exit 1

FLOWDIR=$TMP_DIR/flows
mkdir -p "$FLOWDIR"
NFCAPD_PID=
collector_start() {
	# nfcapd 1.7 listens on UDP only (no IPFIX over TCP): nfqct.ipfix_transport=udp here
	ip netns exec "$NS_S" nfcapd -w "$FLOWDIR" -b "$S4" -p "$PORT" -t 3600 >>"$TMP_DIR/nfcapd.log" 2>&1 &
	NFCAPD_PID=$!; PIDS+=("$NFCAPD_PID")
	wait_listen "$NS_S" udp "$PORT"
}
# collector_stop: SIGTERM makes nfcapd close its file (nfcapd.YYYYMMDDhhmm)
collector_stop() {
	kill -TERM "$NFCAPD_PID" 2>/dev/null
	timeout 10 tail --pid="$NFCAPD_PID" -f /dev/null
	wait "$NFCAPD_PID" 2>/dev/null
}
ipfix_stat() { stat_sum "$STATDIR/net/stat/nfqct_ipfix" "$1"; }

# flows: TCP and UDP over both families, ICMP echo
traffic() {
	tcp_exchange "$S4" "$1" 4
	tcp_exchange "$S6" "$(($1 + 1))" 6
	udp_exchange "$S4" "$(($1 + 2))" 4 3
	udp_exchange "$S6" "$(($1 + 3))" 6 2
	assert_pass timeout 5 ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 2 -q "$S4"
}
# the client's flows as nfqct lists them: "proto src dst sport dport pk by rpk rby", sorted
# (the export's own datagrams, router to server, are left out: not from the client)
list_flows() {
	"$NFQCT" -s "$STATDIR" list -s "$C4" >"$TMP_DIR/l4"
	"$NFQCT" -s "$STATDIR" list -s "$C6" >"$TMP_DIR/l6"
	cat "$TMP_DIR/l4" "$TMP_DIR/l6" | awk '{
		n = 0; pr = $2
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "src" && !src) src = kv[2]
			else if (kv[1] == "dst" && !dst) dst = kv[2]
			else if ((kv[1] == "sport" || kv[1] == "id") && sp == "") sp = kv[2]
			else if (kv[1] == "dport" && dp == "") dp = kv[2]
			else if (kv[1] == "type" && dp == "") ty = kv[2]
			else if (kv[1] == "code" && dp == "") dp = ty "." kv[2]
			else if (kv[1] == "packets") pk[n] = kv[2]
			else if (kv[1] == "bytes") by[n++] = kv[2]
		}
		if (pr == 1 || pr == 58) sp = 0
		print pr, src, dst, sp, dp, pk[0], by[0], pk[1], by[1]
		src = dst = sp = dp = ty = ""
	}' | LC_ALL=C sort
}
# what nfcapd stored, in the same shape: its closed files only (nfcapd.YYYYMMDDhhmm; a
# nfcapd.current.PID still there after the stop holds the same records again)
dump_flows() {
	local f
	for f in "$FLOWDIR"/nfcapd.[0-9]*; do
		[ -e "$f" ] || continue
		nfdump -r "$f" -q -N -o "fmt:%pr %sa %da %sp %dp %ipkt %ibyt %opkt %obyt" "$1" \
			2>>"$TMP_DIR/nfdump.err"
	done | awk '{ $1 = $1; print }' | LC_ALL=C sort
}

# ---- every ended flow, with its counters ----
collector_start || exit 1
sleep 1.5	# a template refresh: the collector has the templates
traffic 7100
sleep 0.5
list_flows >"$TMP_DIR/listed"
n_listed=$(wc -l <"$TMP_DIR/listed")
[ "$n_listed" -ge 5 ] || fail "only $n_listed flows listed"
assert_pass "$NFQCT" -s "$STATDIR" delete -s "$C4"
assert_pass "$NFQCT" -s "$STATDIR" delete -s "$C6"
sleep 1.5
collector_stop
dump_flows "src net 198.18.0.0/24 or src net 2001:db8::/64" >"$TMP_DIR/dumped"
assert_same_table "nfdump -r = nfqct list at the flows' end" "$TMP_DIR/listed" "$TMP_DIR/dumped"
note "flows ended: $n_listed; exported: $(ipfix_stat flows) flows in $(ipfix_stat records) records"

# ---- the collector goes away and comes back ----
err0=$(ipfix_stat send_errors)
traffic 7200
assert_pass "$NFQCT" -s "$STATDIR" delete -s "$C4"
sleep 1.5
kill -0 "$NFQCTD_PID" || fail "nfqctd died with the collector away"
err1=$(ipfix_stat send_errors); drop1=$(ipfix_stat dropped)
note "collector away: send errors $err0 -> $err1, records dropped $drop1"
[ "$err1" -gt "$err0" ] || fail "no send error counted while the collector was away"
rm -f "$FLOWDIR"/nfcapd.*
collector_start || exit 1
sleep 1.5
traffic 7300
list_flows >"$TMP_DIR/listed2"
assert_pass "$NFQCT" -s "$STATDIR" delete -s "$C4"
assert_pass "$NFQCT" -s "$STATDIR" delete -s "$C6"
sleep 1.5
collector_stop
dump_flows "src net 198.18.0.0/24 or src net 2001:db8::/64" >"$TMP_DIR/dumped2"
# the IPv6 flows of the second round (deleted now, the collector back) are all there
grep ':' "$TMP_DIR/listed2" >"$TMP_DIR/want6" || true
grep ':' "$TMP_DIR/dumped2" >"$TMP_DIR/got6" || true
comm -23 "$TMP_DIR/want6" "$TMP_DIR/got6" >"$TMP_DIR/missing6"
[ -s "$TMP_DIR/want6" ] || fail "no IPv6 flows in the second round"
[ ! -s "$TMP_DIR/missing6" ] || { fail "after the restart, missing:"; cat "$TMP_DIR/missing6" >&2; }
assert_eq "reconnections counted (udp: one socket)" 1 "$(ipfix_stat connects)"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
