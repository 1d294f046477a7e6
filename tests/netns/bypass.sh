#!/usr/bin/env bash
# Queue rules with --bypass fail open: once nfqctd is killed (SIGKILL, no clean-up) traffic
# still flows. Without --bypass they fail closed: after the kill, traffic stops.
. "$(dirname "$0")/lib.sh"
require_root_netns ping iptables ip6tables
topo_create

ping4() { timeout 10 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 1 -q "$S4"; }
ping6() { timeout 10 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 1 -q "$S6"; }

# kill_daemon: SIGKILL, then wait (bounded) until the kernel has unbound its queues.
kill_daemon() {
	nfqctd_signal KILL
	nfqctd_wait 5
	assert_eq "nfqctd killed by SIGKILL (status 128+9)" 137 "$?"
	for i in $(seq 50); do
		[ -z "$(queue_stats)" ] && break
		sleep 0.1
	done
	assert_eq "queues bound after the kill" "" "$(queue_stats)"
}

for mode in bypass closed; do
	note "---- rules: $mode ----"
	if [ "$mode" = bypass ]; then
		kernel_rules router --queues 0:1 --bypass || { fail "kernel rules"; exit 1; }
	else
		kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
	fi
	nfqctd_start -q 0:1 || exit 1
	assert_pass ping4
	assert_pass ping6
	received=$(queue_field 0 id_sequence)
	received=$((received + $(queue_field 1 id_sequence)))
	assert_eq "packets queued while the daemon runs" 12 "$received"
	kill_daemon
	if [ "$mode" = bypass ]; then
		assert_pass ping4
		assert_pass ping6
	else
		assert_fail ping4
		assert_fail ping6
	fi
done
in_router "$KERNEL_RULES" remove
assert_pass ping4
finish
