#!/usr/bin/env bash
# The nat, mangle and security tables of an iptables-save file are the kernel's: nfqctd
# notes them and does not run them; `nfqct-kernel-rules --tables FILE` loads them into the
# kernel from the same file nfqctd reads, and refuses while NOTRACK would keep kernel
# conntrack (which kernel NAT needs) off the queued traffic.
#   1. --tables with NOTRACK on: refused (exit 2), naming the nat rules; nothing loaded
#   2. --no-notrack --tables: nat and mangle land in the kernel, our queue rule too;
#      installed twice, still one copy of each (iptables-restore replaces the table)
#   3. traffic: the client's TCP connection to the server is masqueraded by the kernel
#      (the server sees the router's address) while nfqctd judges it, and nfqctd's own
#      FORWARD rule counts it
#   4. remove leaves the operator's tables in place
. "$(dirname "$0")/lib.sh"
require_root_netns iptables iptables-restore nc ss
topo_create

cat >"$TMP_DIR/rules.v4" <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o r1 -j MASQUERADE
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 5001 -j MARK --set-mark 0x7
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -o r1 -p tcp --dport 5001 -j ACCEPT
COMMIT
EOF

# 1. refused with NOTRACK
out=$(in_router "$KERNEL_RULES" install router --tables "$TMP_DIR/rules.v4" 2>&1)
assert_eq "install --tables with NOTRACK: exit status" 2 "$?"
case $out in
*"its nat table has 1 rule(s), and kernel NAT needs the kernel's conntrack"*"add --no-notrack"*)
	note "ok: refusal says why: $out" ;;
*) fail "refusal message: $out" ;;
esac
assert_eq "nothing loaded after the refusal" "" "$(in_router iptables -t nat -S POSTROUTING | grep MASQUERADE)"

# 2. loaded, twice
for i in 1 2; do
	assert_pass in_router "$KERNEL_RULES" install router --no-notrack --tables "$TMP_DIR/rules.v4"
done
assert_eq "kernel nat: one MASQUERADE" "-A POSTROUTING -o r1 -j MASQUERADE" \
	"$(in_router iptables -t nat -S POSTROUTING | grep MASQUERADE)"
assert_eq "kernel mangle: one MARK rule" 1 "$(in_router iptables -t mangle -S PREROUTING | grep -c 'MARK --set-xmark 0x7')"
assert_eq "kernel filter: our queue rule, not the file's rules" 1 \
	"$(in_router iptables -t filter -S FORWARD | grep -c NFQUEUE)"
assert_eq "kernel filter: the file's filter rules are nfqctd's" 0 \
	"$(in_router iptables -t filter -S FORWARD | grep -c -- '--dport 5001')"

# 3. traffic through nfqctd and the kernel's NAT
nfqctd_start --rules-v4 "$TMP_DIR/rules.v4" || exit 1
assert_pass grep -q "rules.v4:1:2: note: table 'nat' (1 rule) is left to the kernel" "$NFQCTD_LOG"
assert_pass grep -q "rules.v4:8:2: note: table 'mangle' (1 rule) is left to the kernel" "$NFQCTD_LOG"
# nc -v names the peer: "Connection received on ADDR PORT".
timeout 10 ip netns exec "$NS_S" nc -n -v -4 -l "$S4" 5001 >"$TMP_DIR/got" 2>"$TMP_DIR/peer" &
srv=$!
PIDS+=("$srv")
wait_listen "$NS_S" tcp 5001 || fail "server not listening"
echo "masqueraded" | timeout 10 ip netns exec "$NS_C" nc -4 -N "$S4" 5001 ||
	fail "tcp client through the router"
wait "$srv" 2>/dev/null
assert_eq "payload" "masqueraded" "$(cat "$TMP_DIR/got")"
peer=$(sed -n 's/^Connection received on \([^ ]*\) .*/\1/p' "$TMP_DIR/peer")
assert_eq "the server saw the router's address (kernel MASQUERADE)" "$R4S" "$peer"
rule=$("$NFQCT" -s "$STATDIR" rules -c -4 | grep -- '--dport 5001')
case $rule in
"[1:60] -A FORWARD -i r0 -o r1 -p tcp -m tcp --dport 5001 -j ACCEPT") note "ok: nfqctd judged the SYN: $rule" ;;
*) fail "nfqctd FORWARD rule for the SYN: '$rule'" ;;
esac
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"

# 4. remove: our rules go, the operator's tables stay
assert_pass in_router "$KERNEL_RULES" remove
assert_eq "after remove: MASQUERADE still there" 1 "$(in_router iptables -t nat -S POSTROUTING | grep -c MASQUERADE)"
assert_eq "after remove: no queue rule" 0 "$(in_router iptables -t filter -S FORWARD | grep -c NFQUEUE)"
finish
