#!/usr/bin/env bash
# contrib/nfqct-kernel-rules in a scratch namespace: install/remove/status for host and
# router, iptables (nft-based and legacy) and nft; exact rules after install (the reassembly
# rule included, and left out with --no-defrag; the REJECT rules in front of each queue rule,
# left out with --no-reject), one copy after two installs, nothing of ours
# after remove, foreign rules untouched.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables iptables-save ip6tables-save
ns_new "$NS_R" || { fail "namespace"; exit 1; }

K() { in_router env IPTABLES="$IPT" IP6TABLES="$IP6T" "$KERNEL_RULES" "$@"; }

# The rules of a table as "-A ..." lines, without counters and comments of the save format.
saved() { in_router "$1-save" -t "$2" | grep '^-A' || true; }

# expect_rules LABEL: compare all four tables with $E4RAW $E4FILTER $E6RAW $E6FILTER.
expect_rules() {
	assert_eq "$1: iptables raw" "$E4RAW" "$(saved "$IPT" raw)"
	assert_eq "$1: iptables filter" "$E4FILTER" "$(saved "$IPT" filter)"
	assert_eq "$1: ip6tables raw" "$E6RAW" "$(saved "$IP6T" raw)"
	assert_eq "$1: ip6tables filter" "$E6FILTER" "$(saved "$IP6T" filter)"
}

T='-m comment --comment nfqct'
# The rule that turns the kernel's reassembly on (raw PREROUTING, after NOTRACK).
D="-A PREROUTING -m conntrack --ctstate UNTRACKED $T"
# Foreign rules, including one whose comment merely starts with our tag.
F4RAW='-A PREROUTING -m comment --comment "nfqct other" -j ACCEPT'
F4FILTER='-A FORWARD -m comment --comment foreign -j ACCEPT'
F6FILTER='-A INPUT -m comment --comment foreign6 -j ACCEPT'
# The REJECT rules in front of a queue rule: one per reply type, the type in the mark bits
# 0xf << SHIFT (nfqctd's reject.h codes: IPv4 1..8, IPv6 8..14, tcp-reset 8 in both).
# R4 CHAIN [SHIFT] / R6 CHAIN [SHIFT], as iptables-save prints them.
rj() {
	local chain=$1 shift=$2 code=$3 type=$4 p=""
	[ "$type" != tcp-reset ] || p="-p tcp "
	printf -- '-A %s %s-m mark --mark 0x%x/0x%x %s -j REJECT --reject-with %s\n' "$chain" "$p" \
		$((code << shift)) $((15 << shift)) "$T" "$type"
}
R4() {
	local i=0 t
	for t in icmp-net-unreachable icmp-host-unreachable icmp-proto-unreachable \
		icmp-port-unreachable icmp-net-prohibited icmp-host-prohibited icmp-admin-prohibited \
		tcp-reset; do
		i=$((i + 1))
		rj "$1" "${2:-28}" "$i" "$t"
	done
}
R6() {
	local i=7 t
	for t in tcp-reset icmp6-no-route icmp6-adm-prohibited icmp6-addr-unreachable \
		icmp6-port-unreachable icmp6-policy-fail icmp6-reject-route; do
		i=$((i + 1))
		rj "$1" "${2:-28}" "$i" "$t"
	done
}

# The FLOWOFFLOAD rule in front of a queue rule: the reject field's free value 0xf << SHIFT.
OF() {
	printf -- '-A %s -m mark --mark 0x%x/0x%x %s -j ACCEPT\n' "$1" $((15 << ${2:-28})) \
		$((15 << ${2:-28})) "$T"
}

check_iptables() {
	IPT=$1 IP6T=$2
	note "---- backend iptables: $IPT / $IP6T ----"
	command -v "$IPT" >/dev/null && command -v "$IP6T" >/dev/null || {
		note "SKIP(part): $IPT/$IP6T not installed"; return 0; }
	in_router "$IPT" -w -t raw -A PREROUTING -m comment --comment "nfqct other" -j ACCEPT
	in_router "$IPT" -w -A FORWARD -m comment --comment foreign -j ACCEPT
	in_router "$IP6T" -w -A INPUT -m comment --comment foreign6 -j ACCEPT

	assert_fail K status
	assert_pass K remove

	assert_pass K install router --queues 0:1 --bypass
	E4RAW="$(OF PREROUTING)
-A PREROUTING -m addrtype ! --dst-type LOCAL,BROADCAST,MULTICAST $T -j CT --notrack
$D
$F4RAW"
	E4FILTER="$(OF FORWARD)
$(R4 FORWARD)
-A FORWARD $T -j NFQUEUE --queue-balance 0:1 --queue-bypass
$F4FILTER"
	E6RAW="$(OF PREROUTING)
-A PREROUTING -m addrtype ! --dst-type LOCAL -m addrtype ! --dst-type MULTICAST $T -j CT --notrack
$D"
	E6FILTER="$F6FILTER
$(OF FORWARD)
$(R6 FORWARD)
-A FORWARD $T -j NFQUEUE --queue-balance 0:1 --queue-bypass"
	expect_rules "router"
	assert_pass K install router --queues 0:1 --bypass
	expect_rules "router, installed twice"
	assert_pass K status

	# A new install replaces the old rules: host role, one queue, fail closed.
	assert_pass K install host -q 3
	E4RAW="$(OF PREROUTING)
-A PREROUTING -m addrtype --dst-type LOCAL,BROADCAST,MULTICAST $T -j CT --notrack
$D
$F4RAW
-A OUTPUT $T -j CT --notrack"
	E4FILTER="$(OF INPUT)
$(R4 INPUT)
-A INPUT $T -j NFQUEUE --queue-num 3
$F4FILTER
$(OF OUTPUT)
$(R4 OUTPUT)
-A OUTPUT $T -j NFQUEUE --queue-num 3"
	E6RAW="$(OF PREROUTING)
-A PREROUTING -m addrtype --dst-type LOCAL $T -j CT --notrack
-A PREROUTING -m addrtype --dst-type MULTICAST $T -j CT --notrack
$D
-A OUTPUT $T -j CT --notrack"
	E6FILTER="$(OF INPUT)
$(R6 INPUT)
-A INPUT $T -j NFQUEUE --queue-num 3
$F6FILTER
$(OF OUTPUT)
$(R6 OUTPUT)
-A OUTPUT $T -j NFQUEUE --queue-num 3"
	expect_rules "host"

	assert_pass K install router --no-notrack --reject-mark-shift 8
	E4RAW="$D
$F4RAW"
	E4FILTER="$(OF FORWARD 8)
$(R4 FORWARD 8)
-A FORWARD $T -j NFQUEUE --queue-num 0
$F4FILTER"
	E6RAW=$D
	E6FILTER="$F6FILTER
$(OF FORWARD 8)
$(R6 FORWARD 8)
-A FORWARD $T -j NFQUEUE --queue-num 0"
	expect_rules "router --no-notrack"

	assert_pass K install router --no-defrag --no-reject --no-offload
	E4FILTER="-A FORWARD $T -j NFQUEUE --queue-num 0
$F4FILTER"
	E6FILTER="$F6FILTER
-A FORWARD $T -j NFQUEUE --queue-num 0"
	E4RAW="-A PREROUTING -m addrtype ! --dst-type LOCAL,BROADCAST,MULTICAST $T -j CT --notrack
$F4RAW"
	E6RAW="-A PREROUTING -m addrtype ! --dst-type LOCAL -m addrtype ! --dst-type MULTICAST $T -j CT --notrack"
	expect_rules "router --no-defrag"
	assert_fail in_router nft list table inet nfqct_offload
	assert_pass K install router --no-defrag --no-reject
	assert_pass in_router nft list table inet nfqct_offload

	assert_pass K remove
	assert_fail in_router nft list table inet nfqct_offload
	E4RAW=$F4RAW E4FILTER=$F4FILTER E6RAW= E6FILTER=$F6FILTER
	expect_rules "removed"
	assert_pass K remove
	expect_rules "removed twice"
	assert_fail K status

	in_router "$IPT" -w -t raw -F
	in_router "$IPT" -w -F
	in_router "$IP6T" -w -F
}

check_iptables iptables ip6tables
check_iptables iptables-legacy ip6tables-legacy

note "---- backend nft ----"
IPT=iptables IP6T=ip6tables
if ! command -v nft >/dev/null; then
	note "SKIP(part): nft not installed"
else
	in_router nft add table inet foreign
	in_router nft add chain inet foreign c '{ type filter hook forward priority 10; }'
	foreign=$(in_router nft list table inet foreign)
	expected='table inet nfqct {
	chain raw_prerouting {
		type filter hook prerouting priority raw; policy accept;
		meta mark & 0xf0000000 == 0xf0000000 accept comment "nfqct: offloaded flow"
		fib daddr type != { local, broadcast, multicast } notrack
		ct state untracked counter comment "nfqct: turns IP reassembly on"
	}
	chain queue_forward {
		type filter hook forward priority filter; policy accept;
		meta mark & 0xf0000000 == 0xf0000000 accept comment "nfqct: offloaded flow"
		meta mark & 0xf0000000 == 0x10000000 meta nfproto ipv4 reject with icmp type net-unreachable
		meta mark & 0xf0000000 == 0x20000000 meta nfproto ipv4 reject with icmp type host-unreachable
		meta mark & 0xf0000000 == 0x30000000 meta nfproto ipv4 reject with icmp type prot-unreachable
		meta mark & 0xf0000000 == 0x40000000 meta nfproto ipv4 reject with icmp type port-unreachable
		meta mark & 0xf0000000 == 0x50000000 meta nfproto ipv4 reject with icmp type net-prohibited
		meta mark & 0xf0000000 == 0x60000000 meta nfproto ipv4 reject with icmp type host-prohibited
		meta mark & 0xf0000000 == 0x70000000 meta nfproto ipv4 reject with icmp type admin-prohibited
		meta mark & 0xf0000000 == 0x80000000 meta l4proto tcp reject with tcp reset
		meta mark & 0xf0000000 == 0x90000000 meta nfproto ipv6 reject with icmpv6 type no-route
		meta mark & 0xf0000000 == 0xa0000000 meta nfproto ipv6 reject with icmpv6 type admin-prohibited
		meta mark & 0xf0000000 == 0xb0000000 meta nfproto ipv6 reject with icmpv6 type addr-unreachable
		meta mark & 0xf0000000 == 0xc0000000 meta nfproto ipv6 reject with icmpv6 type port-unreachable
		meta mark & 0xf0000000 == 0xd0000000 meta nfproto ipv6 reject with icmpv6 type policy-fail
		meta mark & 0xf0000000 == 0xe0000000 meta nfproto ipv6 reject with icmpv6 type reject-route
		queue flags bypass to 0-1
	}
}'
	assert_eq "nft print router" "$expected" "$(K -b nft print router -q 0:1 --bypass | grep -v '^#')"
	assert_eq "nft print router: the offload table, as comments" 1 \
		"$(K -b nft print router | grep -c '^# nft -f -: table inet nfqct_offload {')"
	assert_eq "nft print router --no-offload: no offload" 0 \
		"$(K -b nft print router --no-offload | grep -c 'offload')"
	assert_eq "nft print router --no-reject: no reject rule" 0 \
		"$(K -b nft print router --no-reject | grep -c 'reject')"
	# 14 reject types and the offload value (raw and forward)
	assert_eq "nft print router --reject-mark-shift 0: the low bits" 16 \
		"$(K -b nft print router --reject-mark-shift 0 | grep -c 'meta mark & 0xf == 0x')"
	assert_eq "nft print router --no-defrag: no ct rule" 0 \
		"$(K -b nft print router --no-defrag | grep -c 'ct state')"
	assert_eq "nft print router --no-defrag --no-notrack: no raw chain" 0 \
		"$(K -b nft print router --no-defrag --no-notrack | grep -c raw_prerouting)"
	# The offload table, as the kernel takes it (host: input and output chains).
	for role in host router; do
		assert_pass sh -c "$(printf '%q ' ip netns exec "$NS_R" "$KERNEL_RULES") print $role |
			sed -n '/^# nft -f -: /,/^# }/ { s/^# nft -f -: //; s/^# //; p }' |
			$(printf '%q ' ip netns exec "$NS_R") nft -c -f -"
	done
	# Everything but the queue statement is checked by the kernel in every case.
	for role in host "host --no-notrack" router "router --no-defrag"; do
		# shellcheck disable=SC2086
		assert_pass sh -c "$(printf '%q ' ip netns exec "$NS_R" "$KERNEL_RULES") -b nft print $role |
			sed 's/queue .*/counter/' | $(printf '%q ' ip netns exec "$NS_R") nft -c -f -"
	done
	# Does this kernel have nft queue (CONFIG_NFT_QUEUE)?
	if echo 'table inet nfqctprobe { chain c { type filter hook forward priority 0; queue to 0; }; }' |
		in_router nft -c -f - 2>/dev/null; then
		assert_pass K -b nft install router -q 0:1 --bypass
		assert_pass K -b nft install router -q 0:1 --bypass
		assert_eq "nft tables after two installs" 2 "$(in_router nft list tables | wc -l)"
		assert_pass K status
		assert_pass K -b nft install host
		assert_eq "nft host chains" 4 "$(in_router nft list table inet nfqct | grep -c 'chain ')"
		assert_pass K -b nft remove
	else
		note "SKIP(part): this kernel has no nft queue support; install must fail cleanly"
		assert_fail K -b nft install router
		assert_fail in_router nft list table inet nfqct
	fi
	assert_pass K -b nft remove
	assert_fail in_router nft list table inet nfqct
	assert_fail K status
	assert_eq "foreign nft table untouched" "$foreign" "$(in_router nft list table inet foreign)"
fi

note "---- usage errors ----"
assert_fail K install router --queues 2:1
assert_fail K install router --queues 1:70000
assert_fail K install gateway
assert_fail K install
assert_fail K --frobnicate status
assert_fail K -b pf install host
assert_fail K install router --reject-mark-shift 29
assert_pass K --help
assert_eq "nothing installed by usage errors" "" "$(saved iptables filter)"
finish
