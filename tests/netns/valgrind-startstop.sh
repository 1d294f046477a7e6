#!/usr/bin/env bash
# valgrind-startstop.sh - nfqctd under valgrind: start with two queues and the
# router ruleset, pass IPv4 and IPv6 traffic (so entries, rulesets and RCU
# callbacks exist), reload once, stop with SIGTERM: exit 0 and no leak, no
# invalid access (valgrind's error exit code is 99).
. "$(dirname "$0")/lib.sh"
require_root_netns ping valgrind
[ -z "${NFQCT_SANITIZED:-}" ] || skip "built with sanitizers: valgrind cannot run an ASan binary"
if nm -u "$NFQCTD" 2>/dev/null | grep -q __asan_init; then
	skip "nfqctd is built with ASan (valgrind cannot run it)"
fi
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }

REAL_NFQCTD=$NFQCTD
cat >"$TMP_DIR/nfqctd-vg" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --log-file="$TMP_DIR/valgrind.log" "$REAL_NFQCTD" "\$@"
WRAP
chmod +x "$TMP_DIR/nfqctd-vg"
NFQCTD=$TMP_DIR/nfqctd-vg

# A stateful router ruleset for this topology (r0: client side, r1: server side).
cat >"$TMP_DIR/router.rules" <<'RULES'
*raw
:PREROUTING ACCEPT
:OUTPUT ACCEPT
-A PREROUTING -p udp --dport 5353 -j NOTRACK
COMMIT
*filter
:INPUT DROP
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -o r1 -j ACCEPT
COMMIT
RULES
nfqctd_start -q 0:1 -r "$TMP_DIR/router.rules" || exit 1
assert_pass timeout 20 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 5 -q "$S4"
assert_pass timeout 20 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 5 -q "$S6"
tcp_exchange "$S4" 8081 4
nfqctd_signal HUP
sleep 1
assert_pass timeout 20 ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 5 -q "$S4"
nfqctd_stop
assert_eq "nfqctd under valgrind: exit status" 0 "$?"
if [ -s "$TMP_DIR/valgrind.log" ]; then
	fail "valgrind reported:"
	sed 's/^/    /' "$TMP_DIR/valgrind.log" >&2
fi
finish
