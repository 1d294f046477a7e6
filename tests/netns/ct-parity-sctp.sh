#!/usr/bin/env bash
# Connection tracking parity for SCTP and UDP-Lite (issue 17): the router runs kernel
# conntrack AND queues FORWARD to nfqctd, both see the same packets, crafted with raw
# sockets (the kernel here may have no SCTP sockets): per family an SCTP association left
# ESTABLISHED after DATA/SACK, one shut down, an INIT answered by ABORT, an INIT left
# unanswered, a path started by HEARTBEAT; UDP-Lite both ways, and three datagrams the
# kernel calls INVALID (checksum 0, coverage 4, summed with protocol 136 in the
# pseudo-header: udplite_error() sums with 17), plus an SCTP INIT with a wrong CRC32c.
# `conntrack -L` and `nfqct list`, normalised (no timeout, no use=), must be identical.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables conntrack python3
topo_create
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_checksum=1 ||
	{ fail "kernel conntrack settings"; exit 1; }
kernel_rules router --queues 0:1 --no-notrack || { fail "kernel rules"; exit 1; }
# The server has no SCTP or UDP-Lite listener: no ICMP errors back, only our replies.
for ipt in iptables ip6tables; do
	in_server "$ipt" -w -A INPUT -p sctp -j DROP
	in_server "$ipt" -w -A INPUT -p udplite -j DROP
	in_client "$ipt" -w -A INPUT -p sctp -j DROP
	in_client "$ipt" -w -A INPUT -p udplite -j DROP
done
nfqctd_start -q 0:1 || exit 1

# send FAM SRC DST KIND SPORT DPORT [VTAG [INITTAG]]: one crafted packet.
PY=$TMP_DIR/craft.py
cat >"$PY" <<'PYEOF'
import socket, struct, sys
fam, src, dst, kind, sp, dp = sys.argv[1:7]
sp, dp = int(sp), int(dp)
vtag = int(sys.argv[7], 0) if len(sys.argv) > 7 else 0
itag = int(sys.argv[8], 0) if len(sys.argv) > 8 else 0
af = socket.AF_INET6 if fam == "6" else socket.AF_INET

def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff

def inet_sum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def chunk(t, flags, body=b""):
    n = 4 + len(body)
    return struct.pack("!BBH", t, flags, n) + body + b"\0" * ((4 - n % 4) % 4)

CID = {"init": 1, "init_ack": 2, "sack": 3, "heartbeat": 4, "heartbeat_ack": 5, "abort": 6,
       "shutdown": 7, "shutdown_ack": 8, "cookie_echo": 10, "cookie_ack": 11,
       "shutdown_complete": 14, "data": 0}

if kind.startswith("udplite"):
    payload = b"nfqct udplite parity\n"
    n = 8 + len(payload)
    cov = 4 if kind == "udplite-cov4" else 0
    php = 136 if kind == "udplite-rfc" else 17       # the kernel sums with IPPROTO_UDP
    a = socket.inet_pton(af, src) + socket.inet_pton(af, dst)
    ph = a + (struct.pack("!BBH", 0, php, n) if fam == "4" else struct.pack("!I3xB", n, php))
    c = inet_sum(ph + struct.pack("!HHHH", sp, dp, cov, 0) + payload) or 0xffff
    if kind == "udplite-zero":
        c = 0
    pkt = struct.pack("!HHHH", sp, dp, cov, c) + payload
    proto = 136
else:
    name = kind[:-4] if kind.endswith("-bad") else kind
    t = CID[name]
    if name in ("init", "init_ack"):
        body = struct.pack("!IIHHI", itag, 65535, 10, 10, 1)
    elif name == "data":
        body = struct.pack("!IHHI", 1, 0, 0, 0) + b"nfqct sctp parity\n"
    elif name == "sack":
        body = struct.pack("!IIHH", 1, 65535, 0, 0)
    elif name in ("heartbeat", "heartbeat_ack"):
        body = struct.pack("!HH", 1, 8) + b"\x01" * 4
    elif name == "shutdown":
        body = struct.pack("!I", 1)
    elif name == "cookie_echo":
        body = b"cookie!!"
    else:
        body = b""
    flags = 0x03 if name == "data" else 0
    p = struct.pack("!HHII", sp, dp, vtag, 0) + chunk(t, flags, body)
    c = crc32c(p) ^ (1 if kind.endswith("-bad") else 0)
    pkt = p[:8] + struct.pack("<I", c) + p[12:]
    proto = 132
s = socket.socket(af, socket.SOCK_RAW, proto)
s.sendto(pkt, (dst, 0))
PYEOF

send() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 5 python3 "$PY" "$@" || fail "send $*"
}
c2s() { send "$NS_C" "$fam" "$C" "$S" "$@"; }
s2c() { local k=$1 sp=$2 dp=$3; shift 3; send "$NS_S" "$fam" "$S" "$C" "$k" "$dp" "$sp" "$@"; }

for fam in 4 6; do
	if [ "$fam" = 4 ]; then C=$C4 S=$S4; else C=$C6 S=$S6; fi
	b=$((7000 + fam * 100))
	note "---- IPv$fam ----"
	# tags: the client's 0x1000+N, the server's 0x2000+N

	# An association with data, left ESTABLISHED.
	c2s init 40001 $((b + 1)) 0 0x1001
	s2c init_ack 40001 $((b + 1)) 0x1001 0x2001
	c2s cookie_echo 40001 $((b + 1)) 0x2001
	s2c cookie_ack 40001 $((b + 1)) 0x1001
	c2s data 40001 $((b + 1)) 0x2001
	s2c sack 40001 $((b + 1)) 0x1001

	# The same, then shut down: CLOSED, still [ASSURED].
	c2s init 40002 $((b + 2)) 0 0x1002
	s2c init_ack 40002 $((b + 2)) 0x1002 0x2002
	c2s cookie_echo 40002 $((b + 2)) 0x2002
	s2c cookie_ack 40002 $((b + 2)) 0x1002
	c2s data 40002 $((b + 2)) 0x2002
	s2c sack 40002 $((b + 2)) 0x1002
	c2s shutdown 40002 $((b + 2)) 0x2002
	s2c shutdown_ack 40002 $((b + 2)) 0x1002
	c2s shutdown_complete 40002 $((b + 2)) 0x2002

	# INIT answered by ABORT (the INIT's tag, T flag unset).
	c2s init 40003 $((b + 3)) 0 0x1003
	s2c abort 40003 $((b + 3)) 0x1003

	# INIT never answered.
	c2s init 40004 $((b + 4)) 0 0x1004

	# A second path of an association: HEARTBEAT and its ACK.
	c2s heartbeat 40005 $((b + 5)) 0x2005
	s2c heartbeat_ack 40005 $((b + 5)) 0x1005

	# An INIT with a wrong CRC32c: INVALID, no entry.
	c2s init-bad 40006 $((b + 6)) 0 0x1006

	# UDP-Lite both ways; then checksum 0, coverage 4, the RFC's pseudo-header: no entry.
	c2s udplite 40007 $((b + 7))
	s2c udplite 40007 $((b + 7))
	c2s udplite-zero 40008 $((b + 8))
	c2s udplite-cov4 40009 $((b + 9))
	c2s udplite-rfc 40010 $((b + 10))
done

for i in $(seq 20); do
	[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ] && break
	sleep 0.1
done
in_router conntrack -L >"$TMP_DIR/kernel.raw" 2>/dev/null
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/nfqct.raw" 2>"$TMP_DIR/nfqct.err" ||
	{ fail "nfqct list"; cat "$TMP_DIR/nfqct.err" >&2; }

normalise() {
	awk '$1 == "sctp" || $1 == "udplite" {
		out = ""
		for (i = 1; i <= NF; i++) {
			if (i == 3 || $i ~ /^use=/)
				continue
			out = out (out == "" ? "" : " ") $i
		}
		print out
	}' "$1" | LC_ALL=C sort
}
normalise "$TMP_DIR/kernel.raw" >"$TMP_DIR/kernel.norm"
normalise "$TMP_DIR/nfqct.raw" >"$TMP_DIR/nfqct.norm"
assert_same_table "nfqct list = conntrack -L" "$TMP_DIR/kernel.norm" "$TMP_DIR/nfqct.norm"

# The kernel's own table must be the expected one, or the parity proves little.
for t in kernel nfqct; do
	f=$TMP_DIR/$t.norm
	assert_eq "$t entries" 12 "$(grep -c . "$f")"
	for fam in 4 6; do
		b=$((7000 + fam * 100))
		line() { grep -E " dport=$1 " "$f" | head -n1; }
		st() { line "$1" | awk '{ print $3 }'; }
		assert_eq "$t IPv$fam established" ESTABLISHED "$(st $((b + 1)))"
		assert_eq "$t IPv$fam established assured" 1 "$(line $((b + 1)) | grep -c ASSURED)"
		assert_eq "$t IPv$fam shut down" CLOSED "$(st $((b + 2)))"
		assert_eq "$t IPv$fam shut down assured" 1 "$(line $((b + 2)) | grep -c ASSURED)"
		assert_eq "$t IPv$fam INIT + ABORT" CLOSED "$(st $((b + 3)))"
		assert_eq "$t IPv$fam INIT + ABORT not assured" 0 "$(line $((b + 3)) | grep -c ASSURED)"
		assert_eq "$t IPv$fam INIT unanswered" CLOSED "$(st $((b + 4)))"
		assert_eq "$t IPv$fam INIT unanswered unreplied" 1 "$(line $((b + 4)) | grep -c UNREPLIED)"
		assert_eq "$t IPv$fam heartbeat path" ESTABLISHED "$(st $((b + 5)))"
		assert_eq "$t IPv$fam bad CRC32c: no entry" "" "$(line $((b + 6)))"
		assert_eq "$t IPv$fam UDP-Lite both ways" 1 "$(line $((b + 7)) | grep -c 'packets=1 bytes=[0-9]* mark=')"
		assert_eq "$t IPv$fam UDP-Lite replied" 0 "$(line $((b + 7)) | grep -c UNREPLIED)"
		for k in 8 9 10; do
			assert_eq "$t IPv$fam UDP-Lite invalid $k: no entry" "" "$(line $((b + k)))"
		done
	done
done

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
