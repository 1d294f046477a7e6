#!/usr/bin/env bash
# Checksums (issue 19, D): probes built by hand (python3, whole Ethernet frames on an
# AF_PACKET socket: a raw IP socket's packets reach the router already marked "verified",
# which neither the kernel nor nfqct checks again) from the client through the router: a TCP SYN, a UDP datagram and an echo request, IPv4 and
# IPv6, each once with a right and once with a wrong transport checksum, under
# `--ctstate INVALID -j DROP`. The server counts what arrives (and drops it there).
#
#  1. the kernel alone (kernel conntrack at PREROUTING, nf_conntrack_checksum=1): the wrong
#     ones are INVALID and dropped (the rule counts 6), the right ones arrive.
#  2. nfqctd with the rules of nfqct-kernel-rules: the same verdicts; nf_conntrack counts
#     the TCP and UDP ones as invalid (4) and the ICMP ones as icmp_error (2), as the kernel.
#     A wrong UDP datagram longer than the copy range (512) cannot be verified: nfqct lets
#     it through where the kernel drops it (phase 1), and counts it in csum_unchecked.
#  3. nfqctd restarted with net.netfilter.nf_conntrack_checksum = 0: the wrong ones pass.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables
topo_create

PORT=7777
RMAC=$(in_router cat /sys/class/net/r0/address)
cat >"$TMP_DIR/probe.py" <<'PY'
import socket, struct, sys
src, dst, proto, bad, size = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "wrong", int(sys.argv[5])
dev, rmac = sys.argv[6], bytes.fromhex(sys.argv[7].replace(":", ""))
port = 7777
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
v6 = ":" in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
num = {"tcp": 6, "udp": 17, "icmp": 58 if v6 else 1}[proto]
pad = bytes(i & 0xff for i in range(size))
if proto == "tcp":
    l4, at = struct.pack("!HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02, 1024, 0, 0) + pad, 16
elif proto == "udp":
    l4, at = struct.pack("!HHHH", 40001, port, 8 + size, 0) + pad, 6
else:
    l4, at = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, port, 1) + pad, 2
s6, d6 = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
if v6:
    pseudo = s6 + d6 + struct.pack("!I3xB", len(l4), num)
elif num == 1:
    pseudo = b""
else:
    pseudo = s6 + d6 + struct.pack("!xBH", num, len(l4))
c = csum(pseudo + l4) or (0xffff if num == 17 else 0)
if bad:
    c ^= 0x0101
l4 = l4[:at] + struct.pack("!H", c) + l4[at + 2:]
if v6:
    pkt = struct.pack("!IHBB", 6 << 28, len(l4), num, 64) + s6 + d6 + l4
else:
    hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), 1, 0, 64, num, 0) + s6 + d6
    pkt = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + l4
mymac = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sk.bind((dev, 0))
sk.send(rmac + mymac + (b"\x86\xdd" if v6 else b"\x08\x00") + pkt)
PY
for ipt in iptables ip6tables; do
	icmp="-p icmp --icmp-type echo-request"
	[ "$ipt" = ip6tables ] && icmp="-p ipv6-icmp --icmpv6-type echo-request"
	for m in "-p tcp --dport $PORT" "-p udp --dport $PORT" "$icmp"; do
		# shellcheck disable=SC2086
		in_server "$ipt" -w -A INPUT $m -m comment --comment nfqct-test-probe -j DROP ||
			{ fail "$ipt: server counter"; exit 1; }
	done
done
# arrived: the probes the server has seen, both families.
arrived() {
	local n4 n6
	n4=$(in_server iptables -w -L INPUT -v -x -n | awk '/nfqct-test-probe/ { s += $1 } END { print s + 0 }')
	n6=$(in_server ip6tables -w -L INPUT -v -x -n | awk '/nfqct-test-probe/ { s += $1 } END { print s + 0 }')
	echo $((n4 + n6))
}
# send right|wrong [SIZE]: the six probes (tcp, udp, icmp; IPv4 and IPv6), then a pause in
# which a forwarded one would have arrived.
send() {
	local dst proto src
	for dst in "$S4" "$S6"; do
		src=$C4
		[ "$dst" = "$S6" ] && src=$C6
		for proto in tcp udp icmp; do
			timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/probe.py" \
				"$src" "$dst" "$proto" "$1" "${2:-20}" c0 "$RMAC" ||
				fail "probe $proto $1 to $dst"
		done
	done
	sleep 0.5
}
big_wrong_udp() {
	timeout 10 ip netns exec "$NS_C" python3 "$TMP_DIR/probe.py" "$C4" "$S4" udp wrong 1000 c0 "$RMAC" ||
		fail "big probe"
	sleep 0.5
}

note "---- 1. the kernel alone ----"
for ipt in iptables ip6tables; do
	in_router "$ipt" -w -A FORWARD -m conntrack --ctstate INVALID \
		-m comment --comment nfqct-test-invalid -j DROP || { fail "$ipt: invalid rule"; exit 1; }
done
kernel_invalid() {
	local n4 n6
	n4=$(in_router iptables -w -L FORWARD -v -x -n | awk '/nfqct-test-invalid/ { print $1 }')
	n6=$(in_router ip6tables -w -L FORWARD -v -x -n | awk '/nfqct-test-invalid/ { print $1 }')
	echo $((n4 + n6))
}
send wrong
assert_eq "1 kernel: wrong probes arrived" 0 "$(arrived)"
big_wrong_udp
assert_eq "1 kernel: the long wrong UDP datagram arrived" 0 "$(arrived)"
assert_eq "1 kernel: INVALID drops" 7 "$(kernel_invalid)"
send right
assert_eq "1 kernel: right probes arrived" 6 "$(arrived)"
assert_eq "1 kernel: INVALID drops after the right ones" 7 "$(kernel_invalid)"
for ipt in iptables ip6tables; do in_router "$ipt" -w -F FORWARD; done

note "---- 2. nfqctd ----"
kernel_rules router || { fail "kernel rules"; exit 1; }
cat >"$TMP_DIR/nfqct.rules" <<'EOF'
*filter
-A FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/nfqct.rules" -o nfqct.stat_interval_ms=100 || exit 1
assert_eq "setting nf_conntrack_checksum" 1 \
	"$(cat "$STATDIR/sys/net/netfilter/nf_conntrack_checksum")"
send wrong
assert_eq "2 nfqct: probes arrived (none of the wrong ones)" 6 "$(arrived)"
send right
assert_eq "2 nfqct: probes arrived (the right ones)" 12 "$(arrived)"
big_wrong_udp
assert_eq "2 nfqct: the long wrong UDP datagram arrived (cut by the copy range)" 13 "$(arrived)"
sleep 0.3
CT=$STATDIR/net/stat/nf_conntrack
Q=$STATDIR/net/stat/nfqct_queue
assert_eq "2: stat invalid (TCP and UDP)" 4 "$(stat_sum "$CT" invalid)"
assert_eq "2: stat icmp_error (ICMP and ICMPv6)" 2 "$(stat_sum "$CT" icmp_error)"
assert_eq "2: stat new (the right probes; the long one joins the UDP one's flow)" 6 \
	"$(stat_sum "$CT" new)"
assert_eq "2: nfqct_queue csum_unchecked" 1 "$(stat_sum "$Q" csum_unchecked)"
assert_eq "2: nfqct_queue dropped" 6 "$(stat_sum "$Q" dropped)"

note "---- 3. nf_conntrack_checksum=0 ----"
printf 'net.netfilter.nf_conntrack_checksum = 0\n' >"$TMP_DIR/off.conf"
nfqctd_stop
nfqctd_start -r "$TMP_DIR/nfqct.rules" -c "$TMP_DIR/off.conf" -o nfqct.stat_interval_ms=100 || exit 1
send wrong
assert_eq "3 checksum=0: probes arrived (the wrong ones)" 19 "$(arrived)"
sleep 0.3
assert_eq "3: stat invalid" 0 "$(stat_sum "$CT" invalid)"
assert_eq "3: stat icmp_error" 0 "$(stat_sum "$CT" icmp_error)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
