#!/usr/bin/env bash
# REJECT, differential: what comes back to the client must be byte for byte what the
# kernel's own REJECT sends. One topology, the same crafted probes (reject_probe.py: TCP SYN,
# TCP ACK mid-stream with data, UDP, ICMP / ICMPv6 echo, per destination and family), three
# runs of the router:
#   1. kernel: the ruleset loaded with iptables-restore / ip6tables-restore, no queue;
#   2. nfqctd: the same rules in one nfqct file, nfqct-kernel-rules (iptables backend) in
#      front: nfqctd answers NF_REPEAT with the type in the mark, the kernel's REJECT replies;
#   3. the same with the nft backend (skipped without nft).
# Each destination pair (IPv4, IPv6) has its own --reject-with: every type of iptables and
# ip6tables, the defaults, tcp-reset (TCP only; the rest is dropped), and one rule of both
# families in a user chain (icmp-host-prohibited: the kernel's ip6tables twin has
# icmp6-adm-prohibited, which nfqct uses for IPv6). Replies are compared as hex from the IP
# header on, IPv4 identification and header checksum masked (the router picks them).
# Exact counts: every probe but tcp-reset's non-TCP ones gets one reply; nfqct_queue
# `rejected` counts the NF_REPEAT verdicts, `reject_loops` stays 0. Then 4. without the
# kernel's reject rules (--no-reject): nothing comes back, every rejected packet returns
# with the mark and is dropped, counted in reject_loops, and the log says so. 5. The host
# role: probes to the router itself rejected in INPUT (bytes compared), and the router's own
# UDP and TCP rejected in OUTPUT (the errors its sockets see compared).
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables-restore ip6tables-restore
topo_create

PROBE=$NFQCT_SRCDIR/tests/netns/reject_probe.py
RMAC=$(in_router cat /sys/class/net/r0/address)
# The router answers every probe: no per-destination ICMP rate limit in its namespace, a
# global one far above the probes (its burst is 50), no random IPv6 flow labels.
in_router sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
	net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 \
	net.ipv6.auto_flowlabels=0 >/dev/null

# "PAIR TYPE4 TYPE6": destination 198.18.1.10PAIR / 2001:db8:1::10PAIR; "-" is REJECT's
# default; "both" is one rule of both families (user chain) with TYPE4 in nfqct.
PAIRS="1 icmp-net-unreachable icmp6-no-route
2 icmp-host-unreachable icmp6-adm-prohibited
3 icmp-proto-unreachable icmp6-addr-unreachable
4 icmp-port-unreachable icmp6-port-unreachable
5 icmp-net-prohibited icmp6-policy-fail
6 icmp-host-prohibited icmp6-reject-route
7 icmp-admin-prohibited -
8 tcp-reset tcp-reset
9 both icmp-host-prohibited"

# rules_for FAMILY(4|6|nfqct): the filter table as iptables-restore reads it.
rules_for() {
	local want=$1 pair t4 t6 fam d t
	printf '*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:both - [0:0]\n'
	while read -r pair t4 t6; do
		for fam in 4 6; do
			[ "$want" = nfqct ] || [ "$want" = "$fam" ] || continue
			if [ "$fam" = 4 ]; then d=198.18.1.10$pair/32; t=$t4; else d=2001:db8:1::10$pair/128; t=$t6; fi
			if [ "$t4" = both ]; then
				echo "-A FORWARD -d $d -j both"
				continue
			fi
			case $t in
			-) echo "-A FORWARD -d $d -j REJECT" ;;
			tcp-reset) echo "-A FORWARD -d $d -p tcp -j REJECT --reject-with tcp-reset"
				echo "-A FORWARD -d $d -j DROP" ;;
			*) echo "-A FORWARD -d $d -j REJECT --reject-with $t" ;;
			esac
		done
	done <<<"$PAIRS"
	case $want in
	4) echo "-A both -j REJECT --reject-with icmp-host-prohibited" ;;
	6) echo "-A both -j REJECT --reject-with icmp6-adm-prohibited" ;;
	nfqct) echo "-A both -j REJECT --reject-with icmp-host-prohibited" ;;
	esac
	echo COMMIT
}

DSTS=()
while read -r pair _; do DSTS+=("198.18.1.10$pair" "2001:db8:1::10$pair"); done <<<"$PAIRS"

# probe OUT [DSTS...]: run the probes in the client, keep their lines in OUT.
probe() {
	local out=$1
	shift
	timeout 300 ip netns exec "$NS_C" python3 "$PROBE" c0 "$RMAC" "$C4" "$C6" "$@" >"$out" ||
		fail "probe run for $out failed"
}

# Every probe gets one reply, except the non-TCP ones of the tcp-reset pair (dropped).
check_counts() {
	local out=$1 dst name n rest want bad=0
	while read -r dst name n rest; do
		want=1
		case $dst:$name in 198.18.1.108:udp|198.18.1.108:icmp-echo|2001:db8:1::108:udp|2001:db8:1::108:icmp-echo) want=0 ;; esac
		if [ "$n" != "$want" ]; then
			fail "$out: $dst $name: $n replies, expected $want"
			bad=1
		fi
	done <"$out"
	[ "$bad" -eq 1 ] || note "$out: every probe got what it should ($(wc -l <"$out") probes)"
}

# wait_stat NAME WANT: the nfqct_queue column, polled (bounded) until it reaches WANT.
wait_stat() {
	local i v
	for i in $(seq 50); do
		v=$(stat_sum "$STATDIR/net/stat/nfqct_queue" "$1" 2>/dev/null)
		[ "$v" = "$2" ] && break
		sleep 0.1
	done
	assert_eq "nfqct_queue $1" "$2" "$v"
}

# ---- 1. the kernel's REJECT ----
rules_for 4 >"$TMP_DIR/k4.rules"
rules_for 6 >"$TMP_DIR/k6.rules"
rules_for nfqct >"$TMP_DIR/nfqct.rules"
in_router iptables-restore "$TMP_DIR/k4.rules" || { fail "iptables-restore"; exit 1; }
in_router ip6tables-restore "$TMP_DIR/k6.rules" || { fail "ip6tables-restore"; exit 1; }
# The save form of nfqct's reader is iptables-save's, rule for rule.
in_router iptables-save -t filter | grep -- '^-A' >"$TMP_DIR/k.save"
in_router ip6tables-save -t filter | grep -- '^-A' >>"$TMP_DIR/k.save"
"$NFQCTD" --check -r "$TMP_DIR/nfqct.rules" >/dev/null || fail "nfqctd --check of the ruleset"
probe "$TMP_DIR/kernel.out" "${DSTS[@]}"
check_counts "$TMP_DIR/kernel.out"
in_router iptables -F; in_router iptables -X
in_router ip6tables -F; in_router ip6tables -X

# ---- 2. nfqctd, iptables backend ----
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -r "$TMP_DIR/nfqct.rules" -o nfqct.stat_interval_ms=100 || exit 1
probe "$TMP_DIR/nfqct.out" "${DSTS[@]}"
check_counts "$TMP_DIR/nfqct.out"
if diff -u "$TMP_DIR/kernel.out" "$TMP_DIR/nfqct.out" >"$TMP_DIR/diff"; then
	note "2: nfqctd + iptables: every reply byte for byte the kernel's"
else
	fail "2: replies differ from the kernel's:"
	cat "$TMP_DIR/diff" >&2
fi
# 8 pairs x 8 probes, and the 4 TCP probes of the tcp-reset pair
wait_stat rejected 68
wait_stat reject_loops 0
# The printed ruleset is iptables-save's form: the kernel's lines (the v6 "both" rule aside).
"$NFQCT" -s "$STATDIR" rules | grep -- '^-A' >"$TMP_DIR/n.save"
grep -v -- '-A both -j REJECT --reject-with icmp6-adm-prohibited' "$TMP_DIR/k.save" >"$TMP_DIR/k2.save"
if diff <(sort "$TMP_DIR/k2.save") <(sort "$TMP_DIR/n.save") >"$TMP_DIR/sdiff"; then
	note "2: nfqct rules prints the REJECT rules as iptables-save and ip6tables-save do"
else
	fail "save forms differ (< kernel, > nfqct):"
	cat "$TMP_DIR/sdiff" >&2
fi

# ---- 3. nfqctd, nft backend ----
# A kernel without nft's queue expression (CONFIG_NFT_QUEUE) cannot run it; nft then checks
# the reject statements at least (nft -c: parsed and validated by the kernel, not loaded).
in_router "$KERNEL_RULES" remove
if ! command -v nft >/dev/null; then
	note "3: skipped (no nft)"
	wait_stat rejected 68
elif kernel_rules router --queues 0 --backend nft 2>"$TMP_DIR/nft.err"; then
	probe "$TMP_DIR/nft.out" "${DSTS[@]}"
	check_counts "$TMP_DIR/nft.out"
	if diff -u "$TMP_DIR/kernel.out" "$TMP_DIR/nft.out" >"$TMP_DIR/diff"; then
		note "3: nfqctd + nft: every reply byte for byte the kernel's"
	else
		fail "3: replies (nft backend) differ from the kernel's:"
		cat "$TMP_DIR/diff" >&2
	fi
	wait_stat rejected 136
	in_router "$KERNEL_RULES" --backend nft remove
elif grep -q 'lack nft queue support' "$TMP_DIR/nft.err"; then
	in_router "$KERNEL_RULES" --backend nft print router | grep -v 'queue to' >"$TMP_DIR/nft.rules"
	note "3: no nft queue support in this kernel: checking the nft reject rules with nft -c"
	assert_pass in_router nft -c -f "$TMP_DIR/nft.rules"
	wait_stat rejected 68
else
	fail "3: nft kernel rules: $(cat "$TMP_DIR/nft.err")"
fi
rejected=$(stat_sum "$STATDIR/net/stat/nfqct_queue" rejected)

# ---- 4. the kernel's reject rules missing ----
kernel_rules router --queues 0 --no-reject || fail "kernel rules --no-reject"
probe "$TMP_DIR/loop.out" 198.18.1.104 2001:db8:1::104
assert_eq "4: replies without the reject rules" "0 0 0 0 0 0 0 0" "$(awk '{ printf "%s%s", s, $3; s = " " }' "$TMP_DIR/loop.out")"
wait_stat reject_loops 8
wait_stat rejected $((rejected + 8))
grep -q 'REJECT rules missing: run nfqct-kernel-rules' "$NFQCTD_LOG" ||
	fail "4: no 'REJECT rules missing' line in the log"
nfqctd_stop || fail "nfqctd exit status $?"
in_router "$KERNEL_RULES" remove

# ---- 5. host role: INPUT and OUTPUT ----
# The probes to the router's own addresses are rejected in INPUT (bytes compared as above);
# the router's own datagrams and connections are rejected in OUTPUT, where the kernel's
# reply goes to the local socket: its error (errno) is compared.
host_rules() {
	local f=$1
	printf '*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n'
	# only the probes' ports and types: the replies to the router's own traffic come in too
	echo "-A INPUT -p tcp --dport 80:81 -j REJECT --reject-with tcp-reset"
	[ "$f" = 6 ] || echo "-A INPUT -4 -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited"
	[ "$f" = 6 ] || echo "-A INPUT -p icmp --icmp-type 8 -j REJECT --reject-with icmp-net-prohibited"
	[ "$f" = 4 ] || echo "-A INPUT -6 -p udp --dport 53 -j REJECT --reject-with icmp6-adm-prohibited"
	[ "$f" = 4 ] || echo "-A INPUT -p ipv6-icmp --icmpv6-type 128 -j REJECT --reject-with icmp6-addr-unreachable"
	echo "-A OUTPUT -p udp --dport 9 -j REJECT"
	if [ "$f" = nfqct ]; then
		echo "-A OUTPUT -p udp --dport 10 -j REJECT --reject-with icmp-host-prohibited"
	elif [ "$f" = 4 ]; then
		echo "-A OUTPUT -p udp --dport 10 -j REJECT --reject-with icmp-host-prohibited"
	else
		echo "-A OUTPUT -p udp --dport 10 -j REJECT --reject-with icmp6-adm-prohibited"
	fi
	echo "-A OUTPUT -p tcp --dport 11 -j REJECT --reject-with tcp-reset"
	echo COMMIT
}
# own_errors: what the router's sockets see, one line per attempt: "FAMILY PROTO PORT SEND
# LATER" (SEND: the send()'s outcome; LATER: the error the socket reports afterwards).
own_errors() {
	in_router timeout 60 python3 -c '
import errno, socket, sys
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else "timeout"
for fam, dst in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    for port in (9, 10):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((dst, port))
        try:
            s.send(b"x")
            sent = "ok"
        except OSError as e:
            sent = name(e)
        try:
            s.recv(10)
            later = "answer"
        except OSError as e:
            later = name(e)
        print(fam, "udp", port, sent, later)
        s.close()
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((dst, 11))
        r = "connected"
    except OSError as e:
        r = name(e)
    print(fam, "tcp", 11, "-", r)
    s.close()
' "$S4" "$S6" >"$1" || fail "5: own traffic ($1)"
}
host_rules 4 >"$TMP_DIR/h4.rules"
host_rules 6 >"$TMP_DIR/h6.rules"
host_rules nfqct >"$TMP_DIR/hn.rules"
in_router iptables-restore "$TMP_DIR/h4.rules" && in_router ip6tables-restore "$TMP_DIR/h6.rules" ||
	{ fail "5: restore"; exit 1; }
probe "$TMP_DIR/host-kernel.out" "$R4C" "$R6C"
own_errors "$TMP_DIR/own-kernel.out"
in_router iptables -F
in_router ip6tables -F
kernel_rules host --queues 0 || { fail "5: host kernel rules"; exit 1; }
nfqctd_start -r "$TMP_DIR/hn.rules" || exit 1
probe "$TMP_DIR/host-nfqct.out" "$R4C" "$R6C"
own_errors "$TMP_DIR/own-nfqct.out"
assert_eq "5: INPUT probes answered (kernel)" "1 1 1 1 1 1 1 1" \
	"$(awk '{ printf "%s%s", s, $3; s = " " }' "$TMP_DIR/host-kernel.out")"
if diff -u "$TMP_DIR/host-kernel.out" "$TMP_DIR/host-nfqct.out" >"$TMP_DIR/diff"; then
	note "5: INPUT: every reply byte for byte the kernel's"
else
	fail "5: INPUT replies differ from the kernel's:"
	cat "$TMP_DIR/diff" >&2
fi
# The kernel's REJECT in OUTPUT fails the send() itself (EPERM, the hook's NF_DROP); behind
# NFQUEUE the verdict comes after send() returned, so only the reply reaches the socket.
# What the socket reports afterwards must be the same.
assert_eq "5: OUTPUT: the kernel's send() outcomes" "EPERM EPERM - EPERM EPERM -" \
	"$(awk '{ printf "%s%s", s, $4; s = " " }' "$TMP_DIR/own-kernel.out")"
assert_eq "5: OUTPUT: nfqctd's send() outcomes" "ok ok - ok ok -" \
	"$(awk '{ printf "%s%s", s, $4; s = " " }' "$TMP_DIR/own-nfqct.out")"
if diff -u <(cut -d' ' -f1-3,5 "$TMP_DIR/own-kernel.out") <(cut -d' ' -f1-3,5 "$TMP_DIR/own-nfqct.out") \
	>"$TMP_DIR/diff"; then
	note "5: OUTPUT: the sockets then report what they report with the kernel's REJECT:" \
		"$(cut -d' ' -f5 "$TMP_DIR/own-nfqct.out" | tr '\n' ' ')"
else
	fail "5: OUTPUT: the sockets report other errors than with the kernel's REJECT:"
	cat "$TMP_DIR/diff" >&2
fi
nfqctd_stop || fail "nfqctd exit status $?"
finish
