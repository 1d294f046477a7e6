#!/usr/bin/env bash
# FLOWOFFLOAD: a bulk TCP transfer and a two-way UDP stream through a router whose ruleset
# offloads established flows as OpenWrt writes it. After the handshake the queue sees only
# the teardown; `nfqct list` counts exactly what crossed (the kernel's own count, a mangle
# FORWARD rule); the elements go at FIN, at a reload and at a stop; after kill -9 the
# offloaded flows keep flowing and new ones are blocked (no --bypass).
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables nft python3 ss
topo_create
count_install
kernel_rules router || { fail "kernel rules"; exit 1; }
in_router nft list table inet nfqct_offload >/dev/null 2>&1 ||
	skip "nfqct-kernel-rules could not load the offload table (nf_tables?)"
FLOWS="python3 $NFQCT_SRCDIR/tests/netns/offload_flows.py"

cat >"$TMP_DIR/offload.rules" <<EOF
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j FLOWOFFLOAD
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i r0 -j ACCEPT
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/offload.rules" || exit 1
assert_pass in_router "$NFQCTD" --check -r "$TMP_DIR/offload.rules"
grep -q "flow offload: supported" "$TMP_DIR/cmd.out" || fail "--check: $(cat "$TMP_DIR/cmd.out")"

# elements FAM: the elements of set flowsFAM (one per line)
elements() {
	in_router nft -j list set inet nfqct_offload "flows$1" |
		python3 -c 'import json,sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []) or []:
        print(json.dumps(e))'
}
nelements() { elements "$1" | wc -l; }
# kernel_bytes: bytes the mangle counting rules saw (both families)
count_bytes() {
	local n4 n6
	n4=$(in_router iptables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-count/ { print $2 }')
	n6=$(in_router ip6tables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-count/ { print $2 }')
	echo $((n4 + n6))
}
queued() { queue_field 0 id_sequence; }
# list_sum FIELD: packets= or bytes= summed over every entry of `nfqct list`
list_sum() {
	"$NFQCT" -s "$STATDIR" list | tr ' ' '\n' | awk -F= -v f="$1" '$1 == f { s += $2 } END { print s + 0 }'
}

# ---- bulk TCP, IPv4 and IPv6: the queue sees the handshake, a handful, the teardown ----
BULK=$((32 << 20))
for fam in 4 6; do
	if [ "$fam" = 4 ]; then addr=$S4; else addr=$S6; fi
	before=$(queued)
	fwd_before=$(count_read)
	ip netns exec "$NS_S" $FLOWS tcpsink "$addr" 5001 >"$TMP_DIR/sink.$fam" &
	PIDS+=($!)
	wait_listen "$NS_S" tcp 5001 || exit 1
	assert_pass timeout 60 ip netns exec "$NS_C" $FLOWS tcpsend "$addr" 5001 "$BULK"
	wait "${PIDS[-1]}"
	assert_eq "TCP IPv$fam bytes received" "$BULK" "$(cat "$TMP_DIR/sink.$fam")"
	q=$(( $(queued) - before ))
	f=$(( $(count_read) - fwd_before ))
	note "TCP IPv$fam: $f packets forwarded, $q of them queued"
	# 3 handshake, the first request and its ACK (both ESTABLISHED: offloaded after
	# them), the teardown (FINs and the ACKs that follow the removal)
	[ "$q" -le 10 ] || fail "TCP IPv$fam: $q packets queued of $f: not offloaded"
	# 32 MiB in GSO packets of at most 64 KiB
	[ "$f" -ge 512 ] || fail "TCP IPv$fam: only $f packets forwarded"
done
# FIN and RST took them back: no element left
for i in $(seq 30); do
	[ "$(nelements 4)$(nelements 6)" = 00 ] && break
	sleep 0.1
done
assert_eq "elements after the TCP teardowns" "00" "$(nelements 4)$(nelements 6)"

# ---- two-way UDP: offloaded once replied ----
ip netns exec "$NS_S" $FLOWS udpecho "$S4" 5002 &
PIDS+=($!)
ip netns exec "$NS_S" $FLOWS udpecho "$S6" 5002 &
PIDS+=($!)
wait_listen "$NS_S" udp 5002 || exit 1
before=$(queued)
assert_eq "UDP IPv4 echoes" 2000 "$(timeout 60 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40000 2000 200)"
assert_eq "UDP IPv6 echoes" 2000 "$(timeout 60 ip netns exec "$NS_C" $FLOWS udpping "$S6" 5002 40000 2000 200)"
q=$(( $(queued) - before ))
note "UDP: 8000 packets forwarded, $q of them queued"
# the first datagram (NEW) and its echo (ESTABLISHED: offloaded then), each family
assert_eq "UDP packets queued (of 8000)" 4 "$q"
assert_eq "elements of the UDP flows (IPv4, IPv6)" "22" "$(nelements 4)$(nelements 6)"
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list"
assert_eq "[OFFLOAD] UDP entries in nfqct list" 2 "$(grep -c '^udp .*\[OFFLOAD\]' "$TMP_DIR/list")"

# ---- exact accounting: every forwarded packet and byte is some entry's ----
assert_eq "nfqct list packets = forwarded packets" "$(count_read)" "$(list_sum packets)"
assert_eq "nfqct list bytes = forwarded bytes" "$(count_bytes)" "$(list_sum bytes)"
"$NFQCT" -s "$STATDIR" stat >"$TMP_DIR/stat.out"
grep -q '^nfqct_offload:' "$TMP_DIR/stat.out" || fail "nfqct stat: no nfqct_offload line: $(cat "$TMP_DIR/stat.out")"
sed -n 's/^nfqct_offload:/    nfqct_offload:/p' "$TMP_DIR/stat.out"

# ---- a reload empties the sets ----
assert_pass "$NFQCT" -s "$STATDIR" reload
assert_eq "elements after a reload" "00" "$(nelements 4)$(nelements 6)"
assert_eq "[OFFLOAD] entries after a reload" 0 "$("$NFQCT" -s "$STATDIR" list | grep -c '\[OFFLOAD\]')"
# the new ruleset (the same) offloads the flow again at its next packets
assert_eq "UDP IPv4 echoes after the reload" 10 "$(timeout 20 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40000 10 200)"
for i in $(seq 30); do [ "$(nelements 4)" = 2 ] && break; sleep 0.1; done
assert_eq "elements of the UDP IPv4 flow, offloaded again" 2 "$(nelements 4)"

# ---- nfqct flush takes the flows back; they come back as new flows ----
assert_pass "$NFQCT" -s "$STATDIR" flush
assert_eq "elements after nfqct flush" "00" "$(nelements 4)$(nelements 6)"
assert_eq "UDP IPv4 echoes after the flush" 10 "$(timeout 20 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40000 10 200)"
for i in $(seq 30); do [ "$(nelements 4)" = 2 ] && break; sleep 0.1; done
assert_eq "elements of the UDP IPv4 flow after the flush" 2 "$(nelements 4)"

# ---- kill -9: the offloaded flow keeps flowing, a new one is blocked ----
kill -KILL "$NFQCTD_PID"
{ wait "$NFQCTD_PID"; } 2>/dev/null
NFQCTD_PID=
assert_eq "UDP IPv4 echoes of the offloaded flow after kill -9" 10 \
	"$(timeout 20 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40000 10 200)"
assert_eq "UDP IPv4 echoes of a new flow after kill -9" 0 \
	"$(timeout 20 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40001 3 200)"

# ---- a stop removes every element ----
assert_eq "elements left by the killed daemon" 2 "$(nelements 4)"
nfqctd_start -r "$TMP_DIR/offload.rules" || exit 1
for i in $(seq 30); do [ "$(nelements 4)" = 0 ] && break; sleep 0.1; done
assert_eq "elements after a new daemon's start" 0 "$(nelements 4)"
assert_eq "UDP IPv4 echoes, new daemon" 10 "$(timeout 20 ip netns exec "$NS_C" $FLOWS udpping "$S4" 5002 40002 10 200)"
for i in $(seq 30); do [ "$(nelements 4)" = 2 ] && break; sleep 0.1; done
assert_eq "elements of a new UDP flow" 2 "$(nelements 4)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "elements after a stop" "00" "$(nelements 4)$(nelements 6)"
finish
