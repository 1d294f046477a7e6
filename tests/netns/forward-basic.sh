#!/usr/bin/env bash
# IPv4 and IPv6 ping, TCP and UDP through a router that queues FORWARD to nfqctd on two
# queues (--queue-balance 0:1). The daemon must receive and accept exactly the packets the
# kernel forwarded (counted by an independent mangle FORWARD rule), the kernel must report
# no loss on either queue, and NOTRACK must keep the flows out of kernel conntrack.
. "$(dirname "$0")/lib.sh"
require_root_netns ping nc ss iptables ip6tables conntrack
topo_create
count_install
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0:1 || exit 1

assert_pass timeout 15 ip netns exec "$NS_C" ping -c 5 -i 0.2 -W 2 -q "$S4"
assert_pass timeout 15 ip netns exec "$NS_C" ping -6 -c 5 -i 0.2 -W 2 -q "$S6"
# 5 requests + 5 replies per family, nothing else crossed the router yet.
assert_eq "forwarded packets after ping" 20 "$(count_read)"
tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
udp_exchange "$S4" 5003 4 5
udp_exchange "$S6" 5004 6 5

# The queues are idle once the traffic is done: nothing left waiting for a verdict.
for i in $(seq 20); do
	[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ] && break
	sleep 0.1
done
forwarded=$(count_read)
note "kernel: $forwarded packets forwarded"
queue_stats | sed 's/^/    nfnetlink_queue: /'
queued=0
for q in 0 1; do
	assert_eq "queue $q queue_total" 0 "$(queue_field $q queue_total)"
	assert_eq "queue $q queue_dropped" 0 "$(queue_field $q queue_dropped)"
	assert_eq "queue $q user_dropped" 0 "$(queue_field $q user_dropped)"
	queued=$((queued + $(queue_field $q id_sequence)))
done
assert_eq "packets the kernel queued (id_sequence summed)" "$forwarded" "$queued"
# 20 ping + at least 2 x 5 UDP + 2 x (3 handshake + data + FINs) TCP.
[ "$forwarded" -ge 40 ] || fail "only $forwarded packets forwarded, expected at least 40"

tracked=$(in_router conntrack -L 2>/dev/null | grep -c -E "src=($C4|$C6) dst=($S4|$S6) " || true)
assert_eq "kernel conntrack entries of the forwarded flows (NOTRACK)" 0 "$tracked"

if [ -f "$STATDIR/net/stat/nfqct_queue" ]; then
	assert_eq "stat file rx_packets" "$forwarded" "$(stat_sum "$STATDIR/net/stat/nfqct_queue" rx_packets)"
else
	note "(no $STATDIR/net/stat/nfqct_queue yet: checking the exit log only)"
fi

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
grep -E '^.*queue [0-9]+: received' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "daemon: packets received" "$forwarded" "$(log_sum received)"
assert_eq "daemon: packets accepted" "$forwarded" "$(log_sum accepted)"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
assert_eq "daemon: enobufs" 0 "$(log_sum enobufs)"
finish
