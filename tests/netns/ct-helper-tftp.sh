#!/usr/bin/env bash
# TFTP helper parity: the router runs kernel conntrack with the kernel's tftp helper assigned
# in its raw table (CT --helper tftp for udp port 69) AND queues FORWARD to nfqctd, whose
# ruleset does the same and accepts the server's answer only as RELATED to the tftp helper:
# the answer comes from a new server port, so without the helper it is NEW and refused. A
# read request in IPv4 and IPv6 (a small python client and server: RRQ, DATA from a new port,
# ACK), then `nfqct list` = `conntrack -L` and the expect_* counters equal the kernel's.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables conntrack python3
topo_create
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	{ fail "kernel conntrack accounting"; exit 1; }
kernel_rules router --queues 0 --no-notrack || { fail "kernel rules"; exit 1; }
for ipt in iptables ip6tables; do
	in_router "$ipt" -w -t raw -A PREROUTING -p udp --dport 69 -j CT --helper tftp ||
		skip "the kernel's tftp helper is not available ($ipt -j CT --helper tftp)"
done

printf '%s\n' '*raw' ':PREROUTING ACCEPT' ':OUTPUT ACCEPT' \
	'-A PREROUTING -p udp --dport 69 -j CT --helper tftp' 'COMMIT' \
	'*filter' ':INPUT ACCEPT' ':FORWARD DROP' ':OUTPUT ACCEPT' \
	'-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT' \
	'-A FORWARD -m conntrack --ctstate RELATED -m helper --helper tftp -j ACCEPT' \
	'-A FORWARD -p udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT' \
	'COMMIT' >"$TMP_DIR/tftp.rules"
nfqctd_start -q 0 -r "$TMP_DIR/tftp.rules" -o nfqct.stat_interval_ms=200 || exit 1

PY=$TMP_DIR/tftp.py
cat >"$PY" <<'PYTHON'
import socket, struct, sys
role, addr = sys.argv[1:3]
af = socket.AF_INET6 if ":" in addr else socket.AF_INET
DATA = b"nfqct tftp helper test\n" * 10
if role == "srv":
    s = socket.socket(af, socket.SOCK_DGRAM); s.settimeout(20); s.bind((addr, 69))
    print("listening", flush=True)
    req, peer = s.recvfrom(512)
    assert struct.unpack("!H", req[:2])[0] == 1, "not a read request"
    d = socket.socket(af, socket.SOCK_DGRAM); d.settimeout(10)
    d.bind((addr, 0))                       # the answer comes from a new port
    d.sendto(struct.pack("!HH", 3, 1) + DATA, peer)
    ack, _ = d.recvfrom(512)
    assert ack == struct.pack("!HH", 4, 1), "no ACK"
    print("served", flush=True)
else:
    c = socket.socket(af, socket.SOCK_DGRAM); c.settimeout(10)
    c.sendto(struct.pack("!H", 1) + b"file\0octet\0", (addr, 69))
    data, server = c.recvfrom(600)
    assert data[4:] == DATA and server[1] != 69, "bad DATA"
    c.sendto(struct.pack("!HH", 4, 1), server)
    print("ok", flush=True)
PYTHON

for S in "$S4" "$S6"; do
	: >"$TMP_DIR/srv.out"
	timeout 30 ip netns exec "$NS_S" python3 "$PY" srv "$S" >"$TMP_DIR/srv.out" 2>&1 &
	srv=$!
	PIDS+=("$srv")
	for i in $(seq 50); do grep -q listening "$TMP_DIR/srv.out" && break; sleep 0.1; done
	assert_eq "TFTP read over $S" ok \
		"$(timeout 15 ip netns exec "$NS_C" python3 "$PY" cli "$S" 2>&1)"
	wait "$srv" 2>/dev/null
	assert_eq "server over $S" served "$(tail -1 "$TMP_DIR/srv.out")"
done

sleep 0.5
normalise() {	# the timeout column, use= and mark=0 go
	awk '{ out = ""
	       for (i = 1; i <= NF; i++) {
		       if (i == 3 || $i ~ /^use=/ || $i == "mark=0") continue
		       out = out (out == "" ? "" : " ") $i
	       }
	       print out }' | LC_ALL=C sort
}
# the flows of the test: udp, client to server (ICMPv6 neighbour entries aside)
in_router conntrack -L -p udp 2>/dev/null | normalise >"$TMP_DIR/kernel.norm"
"$NFQCT" -s "$STATDIR" list | grep '^udp ' | normalise >"$TMP_DIR/nfqct.norm"
assert_same_table "nfqct list = conntrack -L" "$TMP_DIR/kernel.norm" "$TMP_DIR/nfqct.norm"
# per family: the request's entry (helper=tftp) and the answer's, expected
assert_eq "entries (kernel)" 4 "$(grep -c . "$TMP_DIR/kernel.norm")"
assert_eq "entries with helper=tftp (kernel)" 2 "$(grep -c 'helper=tftp' "$TMP_DIR/kernel.norm")"
sleep 0.3
for c in expect_new expect_create expect_delete; do
	k=$(stat_sum <(in_router cat /proc/net/stat/nf_conntrack) "$c")
	assert_eq "$c (kernel $k)" "$k" "$(stat_sum "$STATDIR/net/stat/nf_conntrack" "$c")"
done
assert_eq "expect_new (nfqct)" 2 "$(stat_sum "$STATDIR/net/stat/nf_conntrack" expect_new)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
finish
