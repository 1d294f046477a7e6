#!/usr/bin/env bash
# LOG, differential: nfqctd's LOG lines must be the kernel's LOG lines. One topology, the
# same crafted probes from the client to the server through the router (reject_probe.py: TCP
# SYN with options, TCP ACK mid-stream with data, UDP, ICMP / ICMPv6 echo, both families)
# and the server's answers (RST, ICMP port unreachable quoting the datagram, echo reply), in
# two runs of the router:
#   1. kernel: LOG rules in iptables / ip6tables FORWARD; its lines read from dmesg;
#   2. nfqctd: the same rules in one nfqct file; its lines read from its stderr (-f).
# Each rule has its own prefix (a per-run tag and a letter), with --log-tcp-sequence,
# --log-tcp-options, --log-ip-options, --log-macdecode, a level, and a MARK before one LOG.
# Then the same for the router's own traffic (host role): a UDP datagram from a root socket
# of the router (OUTPUT: OUT= only, --log-uid's UID= GID=) and the server's port unreachable
# (INPUT: IN= and MAC= only), both families: 3. kernel, 4. nfqctd.
# Compared line by line after the kernel's timestamp, with the IPv4 identification masked
# (the server picks those of its answers). nfqct_queue `logged` counts the lines, `log_lost`
# stays 0.
# The kernel logs from a namespace other than the first only with the global sysctl
# net.netfilter.nf_log_all_netns=1: this test sets it and puts the old value back on exit;
# it skips (77) when it cannot.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables-restore ip6tables-restore dmesg

SYSCTL=/proc/sys/net/netfilter/nf_log_all_netns
[ -w "$SYSCTL" ] || skip "cannot write $SYSCTL"
OLD_ALL_NETNS=$(cat "$SYSCTL") || skip "cannot read $SYSCTL"
restore_sysctl() { echo "$OLD_ALL_NETNS" >"$SYSCTL" 2>/dev/null || true; }
trap 'rc=$?; restore_sysctl; (exit $rc); cleanup' EXIT
echo 1 >"$SYSCTL" 2>/dev/null || skip "cannot set $SYSCTL"
dmesg >/dev/null 2>&1 || skip "cannot read the kernel log (dmesg)"

topo_create
PROBE=$NFQCT_SRCDIR/tests/netns/reject_probe.py
RMAC=$(in_router cat /sys/class/net/r0/address)
# Deterministic answers: no random IPv6 flow labels anywhere.
for ns in "$NS_C" "$NS_R" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.auto_flowlabels=0 >/dev/null
done

TAG="nq$$r$RANDOM"	# unique in this boot's kernel log
# rules_for 4|6|nfqct
rules_for() {
	local f=$1
	printf '*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n'
	echo "-A FORWARD -p tcp -j LOG --log-prefix ${TAG}t: --log-tcp-sequence --log-tcp-options"
	echo "-A FORWARD -p udp -j LOG --log-prefix \"${TAG}u \" --log-ip-options --log-level 6"
	echo "-A FORWARD -p udp -j LOG --log-prefix ${TAG}d --log-macdecode --log-level debug"
	[ "$f" = 6 ] || echo "-A FORWARD -p icmp -j LOG --log-prefix ${TAG}i"
	[ "$f" = 4 ] || echo "-A FORWARD -p ipv6-icmp -j LOG --log-prefix ${TAG}i"
	echo "-A FORWARD -p tcp --dport 81 -j MARK --set-mark 0x2a"
	echo "-A FORWARD -p tcp --dport 81 -j LOG --log-prefix ${TAG}m"
	echo COMMIT
}

# The lines of one run: the kernel's timestamp gone, IPv4 identification masked.
normalise() {
	sed -e 's/^\[[^]]*\] //' -e 's/\(TTL=[0-9]* \)ID=[0-9]*/\1ID=*/g'
}

probe() {
	timeout 120 ip netns exec "$NS_C" python3 "$PROBE" c0 "$RMAC" "$C4" "$C6" "$S4" "$S6" >"$1" ||
		fail "probe run for $1 failed"
}

# ---- 1. the kernel's LOG ----
rules_for 4 >"$TMP_DIR/k4.rules"
rules_for 6 >"$TMP_DIR/k6.rules"
rules_for nfqct >"$TMP_DIR/nfqct.rules"
in_router iptables-restore "$TMP_DIR/k4.rules" || { fail "iptables-restore"; exit 1; }
in_router ip6tables-restore "$TMP_DIR/k6.rules" || { fail "ip6tables-restore"; exit 1; }
probe "$TMP_DIR/kernel.probe"
# The kernel prints asynchronously (printk): wait, bounded, until the count stops growing.
prev=-1
for i in $(seq 30); do
	n=$(dmesg | grep -c "$TAG")
	[ "$n" -eq "$prev" ] && break
	prev=$n
	sleep 0.2
done
dmesg | grep "$TAG" | normalise >"$TMP_DIR/kernel.lines"
KLINES=$(wc -l <"$TMP_DIR/kernel.lines")
# Per family: SYN 1 (t), its RST 1, the ACK to port 81 2 (t, m), its RST 1, UDP 2 (u, d), the
# port unreachable 1 (i), echo 1, echo reply 1: 10
[ "$KLINES" -eq 20 ] || fail "1: the kernel logged $KLINES lines, expected 20"
note "1: the kernel logged $KLINES lines"
in_router iptables -F
in_router ip6tables -F

# ---- 2. nfqctd ----
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -r "$TMP_DIR/nfqct.rules" -o nfqct.stat_interval_ms=100 || exit 1
probe "$TMP_DIR/nfqct.probe"
for i in $(seq 50); do
	[ "$(grep -c "$TAG" "$NFQCTD_LOG")" -ge "$KLINES" ] && break
	sleep 0.1
done
grep "$TAG" "$NFQCTD_LOG" | normalise >"$TMP_DIR/nfqct.lines"
if diff -u "$TMP_DIR/kernel.lines" "$TMP_DIR/nfqct.lines" >"$TMP_DIR/diff"; then
	note "2: nfqctd's $KLINES LOG lines are the kernel's, field for field"
else
	fail "2: LOG lines differ (- kernel, + nfqctd):"
	cat "$TMP_DIR/diff" >&2
fi
v=-1
for i in $(seq 50); do
	v=$(stat_sum "$STATDIR/net/stat/nfqct_queue" logged 2>/dev/null)
	[ "$v" = "$KLINES" ] && break
	sleep 0.1
done
assert_eq "nfqct_queue logged" "$KLINES" "$v"
assert_eq "nfqct_queue log_lost" 0 "$(stat_sum "$STATDIR/net/stat/nfqct_queue" log_lost)"
note "a line: $(head -n 1 "$TMP_DIR/nfqct.lines")"
nfqctd_stop || fail "nfqctd exit status $?"
in_router "$KERNEL_RULES" remove

# ---- 3. and 4.: the router's own traffic ----
host_rules() {
	local f=$1
	printf '*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n'
	echo "-A OUTPUT -p udp --dport 9 -j LOG --log-prefix ${TAG}o --log-uid"
	[ "$f" = 6 ] || echo "-A INPUT -p icmp -j LOG --log-prefix ${TAG}n --log-uid"
	[ "$f" = 4 ] || echo "-A INPUT -p ipv6-icmp --icmpv6-type 1 -j LOG --log-prefix ${TAG}n --log-uid"
	echo COMMIT
}
# own_traffic: one datagram per family from a bound root socket, each answered
own_traffic() {
	in_router timeout 20 python3 -c '
import socket, sys
for fam, src, dst in ((socket.AF_INET, sys.argv[1], sys.argv[2]), (socket.AF_INET6, sys.argv[3], sys.argv[4])):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 4444))
    s.connect((dst, 9))
    s.send(b"own")
    s.settimeout(5)
    try:
        s.recv(100)
    except ConnectionRefusedError:
        pass
    s.close()
' "$R4S" "$S4" "$R6S" "$S6" || fail "own traffic"
}
# wait_lines CMD N: until CMD counts N lines of ours (bounded)
wait_lines() {
	for i in $(seq 50); do
		[ "$("$1" | grep -c "${TAG}[on]")" -ge "$2" ] && break
		sleep 0.1
	done
}
kernel_own() { dmesg; }
nfqctd_own() { cat "$NFQCTD_LOG"; }

host_rules 4 >"$TMP_DIR/h4.rules"
host_rules 6 >"$TMP_DIR/h6.rules"
host_rules nfqct >"$TMP_DIR/hn.rules"
in_router iptables-restore "$TMP_DIR/h4.rules" && in_router ip6tables-restore "$TMP_DIR/h6.rules" ||
	{ fail "3: restore"; exit 1; }
own_traffic
wait_lines kernel_own 4
dmesg | grep "${TAG}[on]" | normalise >"$TMP_DIR/kernel-own.lines"
assert_eq "3: kernel lines for the router's own traffic" 4 "$(wc -l <"$TMP_DIR/kernel-own.lines")"
in_router iptables -F
in_router ip6tables -F
kernel_rules host --queues 0 || { fail "host kernel rules"; exit 1; }
nfqctd_start -r "$TMP_DIR/hn.rules" || exit 1
own_traffic
wait_lines nfqctd_own 4
grep "${TAG}[on]" "$NFQCTD_LOG" | normalise >"$TMP_DIR/nfqct-own.lines"
if diff -u "$TMP_DIR/kernel-own.lines" "$TMP_DIR/nfqct-own.lines" >"$TMP_DIR/diff"; then
	note "4: the router's own traffic: nfqctd's LOG lines are the kernel's"
else
	fail "4: LOG lines of the router's own traffic differ (- kernel, + nfqctd):"
	cat "$TMP_DIR/diff" >&2
fi
grep -q "${TAG}o.* UID=0 GID=0 $" "$TMP_DIR/nfqct-own.lines" || fail "4: no UID=0 GID=0 in the OUTPUT lines"
nfqctd_stop || fail "nfqctd exit status $?"
finish
