#!/usr/bin/env bash
# enobufs.sh - an ENOBUFS storm (issue 14's fault campaign; `make stress`): nfqctd with the
# smallest receive buffer (nfqct.rcvbuf = 64 KiB) under udp_blast at full speed (asked for
# 200,000 datagrams/s; the 2-core VM sends what it can) for 5 s. The kernel drops what does
# not fit in the socket (its user_dropped column of /proc/net/netfilter/nfnetlink_queue),
# and nfqctd reads ENOBUFS on its socket for those overflows (its enobufs counter).
# Checked: the daemon survives and stays responsive; enobufs and user_dropped are both non-zero
# (each ENOBUFS stands for one or more dropped packets, so enobufs <= user_dropped); every
# datagram lost is one the kernel counted in user_dropped (sent - received); traffic
# resumes (a ping through the router right after the storm loses nothing); a clean stop.
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns ping
BIN=$NFQCT_SRCDIR/tests/bench
[ -x "$BIN/udp_blast" ] && [ -x "$BIN/udp_sink" ] ||
	skip "needs tests/bench/udp_blast and udp_sink (make tests/bench/udp_blast tests/bench/udp_sink)"
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -o nfqct.rcvbuf=65536 -o net.netfilter.nf_conntrack_max=1000000 || exit 1

timeout 30 ip netns exec "$NS_S" "$BIN/udp_sink" -l "$S4" -p 9000 -t 15 >"$TMP_DIR/sink.out" &
sink=$!
PIDS+=("$sink")
wait_listen "$NS_S" udp 9000 || { fail "sink"; exit 1; }
timeout 20 ip netns exec "$NS_C" "$BIN/udp_blast" -d "$S4" -p 9000 -n 64 -t 5 -r 200000 \
	>"$TMP_DIR/blast.out" || fail "udp_blast"
note "blast: $(cat "$TMP_DIR/blast.out")"
assert_pass kill -0 "$NFQCTD_PID"
assert_pass timeout 10 "$NFQCT" -s "$STATDIR" rules
user_dropped=$(queue_field 0 user_dropped)
loss=$(ip netns exec "$NS_C" ping -q -c 20 -i 0.05 -W 1 "$S4" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
assert_eq "ping right after the storm: loss" 0 "$loss"
kill "$sink" 2>/dev/null
wait "$sink" 2>/dev/null
note "sink: $(cat "$TMP_DIR/sink.out")"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
enobufs=$(sed -n 's/^queue 0: .* enobufs \([0-9]*\),.*/\1/p' "$NFQCTD_LOG")
note "kernel user_dropped $user_dropped, nfqctd enobufs $enobufs"
[ "${user_dropped:-0}" -gt 0 ] || fail "the storm did not overflow the queue socket (user_dropped 0): no fault injected"
[ "${enobufs:-0}" -gt 0 ] || fail "nfqctd saw no ENOBUFS although the kernel dropped $user_dropped"
[ "${enobufs:-0}" -le "${user_dropped:-0}" ] || fail "enobufs $enobufs > user_dropped $user_dropped"
# every datagram lost is one the kernel dropped at the full socket: nothing else lost it
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$TMP_DIR/blast.out")
received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$TMP_DIR/sink.out")
sink_drops=$(sed -n 's/.*sink_drops=\([0-9]*\).*/\1/p' "$TMP_DIR/sink.out")
assert_eq "sent - received - the sink's own drops = the kernel's user_dropped" "$user_dropped" \
	"$((sent - received - ${sink_drops:-0}))"
finish
