#!/usr/bin/env bash
# ICMPv6 multicast router discovery (RFC 4286: advertisement 151, solicitation 152) is
# UNTRACKED in the kernel's conntrack since Linux 6.10, like neighbour discovery; type 153
# (termination) and an unknown informational type (200) are INVALID. The same probes go from
# the client through the router twice: first with kernel conntrack and the ruleset in the
# router's ip6tables, then queued to nfqctd with the same ruleset. Each rule must count the
# same packets in both (before issue 19 (C), nfqctd called 151 and 152 INVALID).
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ip6tables ip6tables-restore
topo_create

cat >"$TMP_DIR/mrd.rules" <<'RULES'
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -p ipv6-icmp -m conntrack --ctstate INVALID -j DROP
-A FORWARD -p ipv6-icmp -m conntrack --ctstate UNTRACKED -j ACCEPT
-A FORWARD -p ipv6-icmp -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
COMMIT
RULES
cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
for t in sys.argv[2:]:
    # type, code, checksum (the kernel fills it in), 4 more bytes
    s.sendto(bytes([int(t), 0, 0, 0, 0, 20, 0, 2]), (sys.argv[1], 0))
PY
probe() { timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$S6" 151 152 151 153 200 ||
	fail "sending the probes"; sleep 0.3; }
# rule_counts: packets of the three FORWARD rules and of the policy, as "a b c p"
kernel_counts() {
	in_router ip6tables -w -L FORWARD -v -x -n |
		awk 'NR == 1 { p = $5 } NR > 2 { printf "%s ", $1 } END { print p }'
}
nfqct_counts() {
	local i out=""
	for i in 0 1 2 -1; do
		out="$out$("$NFQCT" -s "$STATDIR" rules -c | awk -v i="$i" '
			/^:FORWARD/ && i == -1 { gsub(/[][]/, "", $3); split($3, c, ":"); print c[1] }
			/^\[/ && / -A FORWARD / { if (n++ == i) { gsub(/[][]/, "", $1); split($1, c, ":"); print c[1] } }') "
	done
	echo "${out% }"
}

# 1. the kernel: conntrack in the router, the rules in its ip6tables
in_router ip6tables-restore <"$TMP_DIR/mrd.rules" || { fail "ip6tables-restore"; exit 1; }
probe
kernel=$(kernel_counts)
note "kernel: INVALID UNTRACKED NEW,ESTABLISHED policy = $kernel"
assert_eq "kernel: 151, 152, 151 untracked; 153, 200 invalid" "2 3 0 0" "$kernel"
in_router ip6tables-restore <<<$'*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\nCOMMIT'

# 2. nfqctd with the same ruleset, the router queueing FORWARD
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0 -r "$TMP_DIR/mrd.rules" || exit 1
probe
assert_eq "nfqctd: the same counts as the kernel" "$kernel" "$(nfqct_counts)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
