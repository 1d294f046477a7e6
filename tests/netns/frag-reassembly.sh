#!/usr/bin/env bash
# Fragments (issue 19, A): a 2000-byte UDP datagram and a 2000-byte ICMP echo, IPv4 and IPv6,
# each crossing a 1500-byte link in two fragments, to the router itself (INPUT, host role)
# and through it (FORWARD, router role), under one stateful ruleset (policy DROP, echo
# requests and UDP port 5353 open, ESTABLISHED,RELATED accepted). Every probe expects its
# answer (an echo of the same size).
#
#  1. nfqct, queue rules with --no-defrag: the kernel does not reassemble, nfqctd gets the
#     fragments one by one and the non-first ones are INVALID, so the DROP policy eats them:
#     no answer, except IPv4 to the router itself (ip_local_deliver reassembles before
#     LOCAL_IN, IPv6 only after it). nfqct_queue `fragments` counts exactly the 12
#     fragments, and the log says "received IP fragments".
#  2. the kernel alone (the same ruleset in iptables/ip6tables, kernel conntrack): every
#     probe is answered.
#  3. nfqct with the queue rules of nfqct-kernel-rules (host, then router): every probe is
#     answered, as under the kernel; no new fragment reaches nfqctd, no new log line, and the
#     NOTRACKed flows stay out of the kernel's table (conntrack -L).
#  4. the same through nft's reassembly rule (the raw chain of `-b nft print router`; the
#     queue rule itself stays iptables', since nft queue may be missing): answered.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ping iptables ip6tables iptables-restore ip6tables-restore conntrack
topo_create

PORT=5353
SIZE=2000

cat >"$TMP_DIR/udp.py" <<'PY'
import select, socket, sys, time
if sys.argv[1] == "server":          # echo every datagram, both families, for 300 s at most
    deadline = time.monotonic() + 300
    socks = []
    for fam, any_ in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((any_, int(sys.argv[2])))
        socks.append(s)
    while time.monotonic() < deadline:
        for s in select.select(socks, [], [], 1)[0]:
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)
else:                                # client DST PORT SIZE: one datagram, its echo within 2 s
    dst, port, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"x" * size, (dst, port))
    try:
        data = s.recv(65535)
    except socket.timeout:
        sys.exit(1)
    sys.exit(0 if len(data) == size else 2)
PY
for ns in "$NS_R" "$NS_S"; do
	# no `timeout` wrapper: $! must be the server itself, for the clean-up to kill it
	ip netns exec "$ns" python3 "$TMP_DIR/udp.py" server "$PORT" >/dev/null 2>&1 &
	PIDS+=($!)
done
wait_listen "$NS_R" udp "$PORT" && wait_listen "$NS_S" udp "$PORT" || exit 1

# The ruleset: one file for nfqct, one per family for the kernel.
COMMON='-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p udp --dport 5353 -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -p udp --dport 5353 -j ACCEPT'
V4='-A INPUT -p icmp --icmp-type echo-request -j ACCEPT
-A FORWARD -p icmp --icmp-type echo-request -j ACCEPT'
V6='-A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT
-A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT
-A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT
-A FORWARD -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT'
ruleset() { printf '*filter\n:INPUT DROP\n:FORWARD DROP\n:OUTPUT ACCEPT\n%s\nCOMMIT\n' "$*"; }
ruleset "$COMMON
$V4
$V6" >"$TMP_DIR/nfqct.rules"
ruleset "$COMMON
$V4" >"$TMP_DIR/kernel4.rules"
ruleset "$COMMON
$V6" >"$TMP_DIR/kernel6.rules"

# probe WHAT ADDR: one fragmented echo of WHAT (ping|udp) to ADDR; 0 when it was answered.
probe() {
	local fam=4
	case "$2" in *:*) fam=6 ;; esac
	if [ "$1" = ping ]; then
		timeout 10 ip netns exec "$NS_C" ping "-$fam" -c 1 -s "$SIZE" -W 2 -q "$2" 2>/dev/null |
			grep -q ' 1 received'
	else
		timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/udp.py" client "$2" "$PORT" "$SIZE"
	fi
}
# expect PHASE yes|no WHAT ADDR...: every probe answered (yes) or not (no).
expect() {
	local phase=$1 want=$2 what=$3 addr got
	shift 3
	for addr in "$@"; do
		if probe "$what" "$addr"; then got=yes; else got=no; fi
		assert_eq "$phase: $what to $addr answered" "$want" "$got"
	done
}
fragments() { sleep 0.3; stat_sum "$STATDIR/net/stat/nfqct_queue" fragments; }
log_lines() { grep -c 'received IP fragments: the kernel does not reassemble' "$NFQCTD_LOG"; }
# Kernel conntrack entries of the probes' flows (the client's addresses).
kernel_entries() {
	in_router conntrack -L 2>/dev/null | grep -E "src=($C4|$C6) " >"$TMP_DIR/ct.out"
	sed 's/^/    kernel conntrack: /' "$TMP_DIR/ct.out" >&2
	wc -l <"$TMP_DIR/ct.out"
}

nfqctd_start -r "$TMP_DIR/nfqct.rules" -o nfqct.stat_interval_ms=100 || exit 1

note "---- 1. nfqct without reassembly (--no-defrag) ----"
kernel_rules host --no-defrag || { fail "kernel rules"; exit 1; }
expect "1 host" yes ping "$R4C"
expect "1 host" yes udp "$R4C"
expect "1 host" no ping "$R6C"
expect "1 host" no udp "$R6C"
kernel_rules router --no-defrag || { fail "kernel rules"; exit 1; }
expect "1 router" no ping "$S4" "$S6"
expect "1 router" no udp "$S4" "$S6"
# IPv6 to the router: 2 datagrams; through it: 4 datagrams; two fragments each.
assert_eq "1: nfqct_queue fragments" 12 "$(fragments)"
lines=$(log_lines)
[ "$lines" -ge 1 ] || fail "1: no 'received IP fragments' line in the log"
note "1: $lines log lines: $(grep -m 1 'received IP fragments' "$NFQCTD_LOG")"

note "---- 2. the kernel alone ----"
in_router "$KERNEL_RULES" remove || fail "remove"
in_router iptables-restore <"$TMP_DIR/kernel4.rules" || fail "iptables-restore"
in_router ip6tables-restore <"$TMP_DIR/kernel6.rules" || fail "ip6tables-restore"
expect "2 kernel" yes ping "$R4C" "$R6C" "$S4" "$S6"
expect "2 kernel" yes udp "$R4C" "$R6C" "$S4" "$S6"
for ipt in iptables ip6tables; do
	in_router "$ipt" -w -F
	in_router "$ipt" -w -P INPUT ACCEPT
	in_router "$ipt" -w -P FORWARD ACCEPT
done
in_router conntrack -F >/dev/null 2>&1
assert_eq "2: kernel entries of the probes after the flush" 0 "$(kernel_entries)"

note "---- 3. nfqct with nfqct-kernel-rules ----"
kernel_rules host || { fail "kernel rules"; exit 1; }
expect "3 host" yes ping "$R4C" "$R6C"
expect "3 host" yes udp "$R4C" "$R6C"
kernel_rules router || { fail "kernel rules"; exit 1; }
expect "3 router" yes ping "$S4" "$S6"
expect "3 router" yes udp "$S4" "$S6"
assert_eq "3: nfqct_queue fragments (none since phase 1)" 12 "$(fragments)"
assert_eq "3: log lines (none since phase 1)" "$lines" "$(log_lines)"
assert_eq "3: kernel conntrack entries of the probes (NOTRACK)" 0 "$(kernel_entries)"

note "---- 4. nft's reassembly rule ----"
if command -v nft >/dev/null; then
	kernel_rules router --no-defrag || { fail "kernel rules"; exit 1; }
	expect "4 nft, before" no udp "$S4"
	in_router "$KERNEL_RULES" -b nft print router | sed 's/queue .*/counter/' |
		in_router nft -f - || fail "nft: load the raw chain"
	expect "4 nft" yes ping "$S4" "$S6"
	expect "4 nft" yes udp "$S4" "$S6"
	assert_eq "4: nfqct_queue fragments (the probe before the nft table only)" 14 "$(fragments)"
	assert_eq "4: kernel conntrack entries of the probes (NOTRACK)" 0 "$(kernel_entries)"
	in_router "$KERNEL_RULES" -b nft remove || fail "nft remove"
else
	note "SKIP(part): nft not installed"
fi

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
grep -E 'queue [0-9]+: received [0-9]+ packets' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
finish
