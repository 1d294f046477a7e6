#!/usr/bin/env bash
# bench-sync.sh - what replication costs at make bench's conn/s load: the router's nfqctd
# with nfqct.sync_mode off, then ftfw to a second nfqctd in a fourth namespace (a nfqct
# peer), the same tcp_cps run each time (K connections in flight for T seconds). Prints,
# per mode: connections per second, flow messages sent per second, the router's CPU time
# (user + system, all threads) per second of the run, and for ftfw the peer's, and what its
# external cache held at the end. Not part of make check (make bench's conventions: root,
# namespaces of its own; never run by the helpers' test runs).
#
#   tests/bench/bench-sync.sh [SECONDS] [CONCURRENT]     (defaults 10, 16)
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns iptables ip6tables
T=${1:-10}
K=${2:-16}
CPS=${BENCH_BINDIR:-$NFQCT_SRCDIR/tests/bench}/tcp_cps
[ -x "$CPS" ] || skip "tcp_cps not built (make tests/bench/tcp_cps)"
topo_create
NS_P="$NS_PREFIX-peer"
ns_new "$NS_P" || exit 1
ip link add r2 netns "$NS_R" type veth peer name p0 netns "$NS_P" || exit 1
addr "$NS_R" r2 198.18.2.1/24 2001:db8:2::1/64
addr "$NS_P" p0 198.18.2.2/24 2001:db8:2::2/64
kernel_rules router >/dev/null || { fail "kernel rules"; exit 1; }

# cpu_s PID: user + system seconds of every thread so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

run() {
	local mode=$1 peer_pid= c0 c1 p0 p1 out cps sent0 sent1 ext
	nfqctd_start -o nfqct.sync_mode="$mode" -o nfqct.sync_local=198.18.2.1:3780 \
		-o nfqct.sync_peer=198.18.2.2:3780 -o nfqct.sync_peer_kind=nfqct || exit 1
	if [ "$mode" != off ]; then
		mkdir -p "$TMP_DIR/peer"
		ip netns exec "$NS_P" "$NFQCTD" -f -s "$TMP_DIR/peer" -r "$TMP_DIR/accept.rules" \
			-o nfqct.state_file=none -o nfqct.sync_mode="$mode" \
			-o nfqct.sync_local=198.18.2.2:3780 -o nfqct.sync_peer=198.18.2.1:3780 \
			-o nfqct.sync_peer_kind=nfqct >"$TMP_DIR/peer.log" 2>&1 &
		peer_pid=$!
		PIDS+=($peer_pid)
		sleep 1
	fi
	# a port per run: the server's TIME_WAIT sockets of the last run would meet the
	# client's reused ports (retransmissions, a tenth of the rate)
	PORT=$((PORT + 1))
	ip netns exec "$NS_S" timeout $((T + 10)) "$CPS" -S -l "$S4" -p "$PORT" -t $((T + 5)) >/dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.3
	sent0=$(stat_sum "$STATDIR/net/stat/nfqct_sync" flow_sent 2>/dev/null || echo 0)
	c0=$(cpu_s "$NFQCTD_PID")
	[ -n "$peer_pid" ] && p0=$(cpu_s "$peer_pid")
	out=$(ip netns exec "$NS_C" timeout $((T + 10)) "$CPS" -c "$S4" -p "$PORT" -k "$K" -t "$T")
	c1=$(cpu_s "$NFQCTD_PID")
	[ -n "$peer_pid" ] && p1=$(cpu_s "$peer_pid")
	sleep 1.2
	sent1=$(stat_sum "$STATDIR/net/stat/nfqct_sync" flow_sent 2>/dev/null || echo 0)
	cps=$(printf '%s\n' "$out" | sed -n 's/.*cps=\([0-9.]*\).*/\1/p')
	if [ -n "$peer_pid" ]; then
		ext=$(stat_sum "$TMP_DIR/peer/net/stat/nfqct_sync" external)
		awk -v m="$mode" -v cps="$cps" -v s=$((sent1 - sent0)) -v t="$T" -v c=$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}') \
			-v p=$(awk -v a="$p0" -v b="$p1" 'BEGIN{print b-a}') -v ext="$ext" 'BEGIN {
			printf "%-8s conn/s %8.0f  flows sent/s %8.0f  router CPU %5.1f%%  peer CPU %5.1f%%  peer external at the end %s\n",
				m, cps, s / t, 100 * c / t, 100 * p / t, ext }'
		kill -TERM "$peer_pid"
		timeout 10 tail --pid="$peer_pid" -f /dev/null
		cat "$TMP_DIR/peer/net/stat/nfqct_sync" | sed 's/^/    peer nfqct_sync: /'
		cat "$STATDIR/net/stat/nfqct_sync" | sed 's/^/    router nfqct_sync: /'
	else
		awk -v m="$mode" -v cps="$cps" -v t="$T" -v c=$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}') 'BEGIN {
			printf "%-8s conn/s %8.0f  flows sent/s %8s  router CPU %5.1f%%\n", m, cps, "-", 100 * c / t }'
	fi
	nfqctd_stop
	grep -E "queue [0-9]+: received" "$NFQCTD_LOG" | sed 's/^/    router: /'
	sleep 1
}

printf '%s\n' "$ACCEPT_RULES_TEXT" >"$TMP_DIR/accept.rules"
PORT=9000
note "tcp_cps -k $K -t $T, router nfqctd one queue"
for m in ${BENCH_SYNC_MODES:-off ftfw notrack}; do run "$m"; done
finish
