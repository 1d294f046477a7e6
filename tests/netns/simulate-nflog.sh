#!/usr/bin/env bash
# `nfqct simulate` against the daemon on the same packets: the router queues FORWARD to
# nfqctd and, in its mangle FORWARD chain (which runs just before), logs every forwarded
# packet to NFLOG group 7, captured by `tcpdump -i nflog:7`. Replaying that capture with the
# same ruleset must give the same table as `nfqct list` (timeouts aside), the same counters,
# and the daemon's per-rule counters must equal the verdict lines' rule column.
. "$(dirname "$0")/lib.sh"
require_root_netns ping nc ss iptables ip6tables tcpdump
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
for fam in iptables ip6tables; do
	in_router "$fam" -w -t mangle -A FORWARD -j NFLOG --nflog-group 7 ||
		{ fail "$fam NFLOG rule"; exit 1; }
done

cat >"$TMP_DIR/router.rules" <<RULES
*raw
:PREROUTING ACCEPT
:OUTPUT ACCEPT
-A PREROUTING -p udp --dport 5999 -j NOTRACK
COMMIT
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED,UNTRACKED -j ACCEPT
-A FORWARD -i r0 -o r1 -p tcp --dport 5001:5002 -j ACCEPT
-A FORWARD -i r0 -o r1 -p udp --dport 5003:5004 -j ACCEPT
-A FORWARD -i r0 -p icmp --icmp-type 8 -j ACCEPT
-A FORWARD -i r0 -p ipv6-icmp --icmpv6-type 128 -j MARK --set-mark 0x6
-A FORWARD -m mark --mark 0x6 -j ACCEPT
COMMIT
RULES
nfqctd_start -q 0 -r "$TMP_DIR/router.rules" || exit 1

cap=$TMP_DIR/forward.pcap
ip netns exec "$NS_R" timeout 60 tcpdump -q -U -i nflog:7 -w "$cap" 2>"$TMP_DIR/tcpdump.err" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
for i in $(seq 50); do grep -q listening "$TMP_DIR/tcpdump.err" && break; sleep 0.1; done

assert_pass timeout 15 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -q "$S4"
assert_pass timeout 15 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 2 -q "$S6"
tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
udp_exchange "$S4" 5003 4 3
udp_exchange "$S6" 5004 6 3
# refused by the FORWARD policy, and a NOTRACKed datagram
timeout 5 ip netns exec "$NS_C" nc -4 -z -w 1 "$S4" 6000 2>/dev/null
echo x | timeout 5 ip netns exec "$NS_C" nc -4 -u -q 0 "$S4" 5999 2>/dev/null

# NFLOG hands packets over in batches (a threshold, or a second's timeout): wait until the
# capture holds as many packets as the kernel queued to nfqctd (bounded)
queued=$(queue_field 0 id_sequence)
for i in $(seq 50); do
	[ "$(tcpdump -r "$cap" 2>/dev/null | wc -l)" -ge "$queued" ] && break
	sleep 0.1
done
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null
npk=$(tcpdump -r "$cap" 2>/dev/null | wc -l)
note "captured $npk packets"
[ "$npk" -ge 30 ] || fail "only $npk packets captured"

# the same table: both in the router namespace (interface indexes name r0/r1 there)
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/daemon.list" || fail "nfqct list"
in_router "$NFQCT" simulate -r "$TMP_DIR/router.rules" --list "$cap" >"$TMP_DIR/sim.out" \
	2>"$TMP_DIR/sim.err" || { fail "nfqct simulate"; cat "$TMP_DIR/sim.err" >&2; }
# the timeout column (third) differs; the rest must not
strip() { awk '{ $3 = ""; print }' | sort; }
grep -E '^(tcp|udp|icmp|icmpv6) ' "$TMP_DIR/sim.out" | strip >"$TMP_DIR/sim.table"
strip <"$TMP_DIR/daemon.list" >"$TMP_DIR/daemon.table"
# icmp, icmpv6, tcp and udp in both families; the refused and the NOTRACKed flows: none
assert_eq "entries (daemon)" 6 "$(wc -l <"$TMP_DIR/daemon.table")"
if diff -u "$TMP_DIR/daemon.table" "$TMP_DIR/sim.table"; then
	note "ok: nfqct simulate --list = nfqct list"
else
	fail "tables differ (daemon -, simulate +)"
fi

# verdicts: what the daemon dropped, the simulation dropped
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "packets judged" "$npk" "$(grep -cE '^[0-9]+ .* (ACCEPT|DROP) ' "$TMP_DIR/sim.out")"
assert_eq "packets dropped (daemon vs simulate)" "$(log_sum dropped)" \
	"$(grep -cE '^[0-9]+ [0-9.]+ DROP ' "$TMP_DIR/sim.out")"
assert_eq "packets accepted (daemon vs simulate)" "$(log_sum accepted)" \
	"$(grep -cE '^[0-9]+ [0-9.]+ ACCEPT ' "$TMP_DIR/sim.out")"
# the counters of nfqct stat, but for entries (the daemon's are read after its end)
for f in new found insert ignore invalid; do
	d=$(stat_sum "$STATDIR/net/stat/nf_conntrack" "$f")
	s=$(grep -oE "(^| )$f=[0-9]+" "$TMP_DIR/sim.out" | cut -d= -f2)
	assert_eq "counter $f (daemon vs simulate)" "$d" "$s"
done
grep -q 'UNTRACKED FORWARD#2' "$TMP_DIR/sim.out" || fail "no NOTRACKed packet in the simulation"
grep -q 'DROP NEW FORWARD policy' "$TMP_DIR/sim.out" || fail "no refused SYN in the simulation"
grep -qE 'ACCEPT NEW FORWARD#7 mark=6 icmpv6' "$TMP_DIR/sim.out" || fail "no marked echo request"
finish
