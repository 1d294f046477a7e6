#!/usr/bin/env bash
# CONNMARK and -m connmark against the kernel's, differentially: the same FORWARD rules run
# first in the router's own iptables/ip6tables (kernel conntrack, no queue), then in nfqctd
# (the kernel queues FORWARD and NOTRACKs it).  Each run sends the same flows (one UDP socket
# per flow, 5 datagrams, from a port of its own) and an nft chain after the filter hook counts
# the forwarded packets per destination port and mark; every count must be equal in the two
# runs, and is worked out by hand too:
#   7100  restore (nothing yet), MARK 0x21, save 0x21; later packets: restored 0x21,
#         -m connmark --mark 0x20/0xf0 ORs 0x100          -> 1 x 0x21, 4 x 0x121
#   7101  MARK 0x12, saved; later: restored 0x12         -> 5 x 0x12
#   7102  no MARK; save 0, then CONNMARK --set-xmark 0x30/0xf0 on the entry; later:
#         restored 0x30                                    -> 1 x 0x0, 4 x 0x30
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nft iptables ip6tables
topo_create
in_router iptables -w -A FORWARD -j CONNMARK --save-mark 2>/dev/null || skip "the kernel has no xt_CONNMARK"
in_router iptables -w -D FORWARD -j CONNMARK --save-mark

N=5
PORTS="7100 7101 7102"
MARKS="0x0 0x12 0x21 0x30 0x121"
{
	echo 'table inet nfqcttest {'
	for p in $PORTS; do
		for m in $MARKS; do echo "	counter c${p}_$m { }"; done
	done
	echo '	chain after_filter {'
	echo '		type filter hook forward priority 100; policy accept;'
	for p in $PORTS; do
		for m in $MARKS; do echo "		udp dport $p meta mark $m counter name \"c${p}_$m\""; done
	done
	echo '	}'
	echo '}'
} >"$TMP_DIR/count.nft"
RULES=(
	"-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff"
	"-m connmark --mark 0x20/0xf0 -j MARK --or-mark 0x100"
	"-p udp --dport 7100 -m mark --mark 0x0/0xff -j MARK --set-mark 0x21"
	"-p udp --dport 7101 -m mark --mark 0x0/0xff -j MARK --set-mark 0x12"
	"-j CONNMARK --save-mark --mask 0xff"
	"-p udp --dport 7102 -j CONNMARK --set-xmark 0x30/0xf0"
)
cat >"$TMP_DIR/send.py" <<'PY'
import socket, sys, time
a, p, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("::" if ":" in a else "0.0.0.0", sport))
for i in range(n):
    s.sendto(b"nfqct-connmark-%05d" % i, (a, p))
    time.sleep(0.02)
PY
# run SPORTBASE OUT: send every flow (source ports from SPORTBASE), counts to OUT
run() {
	local p a sp=$1 m
	in_router nft delete table inet nfqcttest 2>/dev/null
	in_router nft -f "$TMP_DIR/count.nft" || { fail "nft counter table"; return 1; }
	for p in $PORTS; do
		for a in "$S4" "$S6"; do
			sp=$((sp + 1))
			assert_pass timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/send.py" "$a" "$p" "$sp" "$N"
		done
	done
	sleep 0.3
	for p in $PORTS; do
		for m in $MARKS; do
			echo "$p $m $(in_router nft list counter inet nfqcttest "c${p}_$m" | awk '/packets/ { print $2 }')"
		done
	done >"$2"
}

# 1: the kernel
for ipt in iptables ip6tables; do
	for r in "${RULES[@]}"; do
		# shellcheck disable=SC2086
		in_router "$ipt" -w -A FORWARD $r || fail "kernel rule ($ipt): $r"
	done
done
run 40000 "$TMP_DIR/kernel"
for ipt in iptables ip6tables; do in_router "$ipt" -w -F FORWARD; done

# 2: nfqctd
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
{
	echo '*filter'
	for r in "${RULES[@]}"; do echo "-A FORWARD $r"; done
	echo 'COMMIT'
} >"$TMP_DIR/connmark.rules"
nfqctd_start -r "$TMP_DIR/connmark.rules" || exit 1
run 41000 "$TMP_DIR/nfqct"

sed 's/^/    kernel: /' "$TMP_DIR/kernel"
assert_eq "packets per port and mark: nfqctd as the kernel" "$(cat "$TMP_DIR/kernel")" "$(cat "$TMP_DIR/nfqct")"
# by hand: two families
assert_eq "by hand" "7100 0x0 0
7100 0x12 0
7100 0x21 2
7100 0x30 0
7100 0x121 8
7101 0x0 0
7101 0x12 10
7101 0x21 0
7101 0x30 0
7101 0x121 0
7102 0x0 2
7102 0x12 0
7102 0x21 0
7102 0x30 8
7102 0x121 0" "$(cat "$TMP_DIR/nfqct")"
# the entries' marks, as conntrack -L prints them
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" || fail "nfqct list"
assert_eq "entries with mark=33 (0x21)" 2 "$(grep -c 'dport=7100 .*mark=33 ' "$TMP_DIR/list")"
assert_eq "entries with mark=48 (0x30)" 2 "$(grep -c 'dport=7102 .*mark=48 ' "$TMP_DIR/list")"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
