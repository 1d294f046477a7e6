#!/usr/bin/env bash
# The test topology itself, without nfqctd: client -- router -- server forwards IPv4 and IPv6
# ping, TCP and UDP, and the kernel's counter sees exactly the packets we expect for ping.
. "$(dirname "$0")/lib.sh"
require_root_netns ping nc ss iptables ip6tables
topo_create
count_install

assert_pass timeout 10 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -q "$S4"
assert_pass timeout 10 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 2 -q "$S6"
# 3 requests + 3 replies per family cross the router.
assert_eq "forwarded packets after ping" 12 "$(count_read)"

tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
udp_exchange "$S4" 5003 4 5
udp_exchange "$S6" 5004 6 5
note "forwarded packets in all: $(count_read)"
finish
