#!/usr/bin/env bash
# A socket connected to itself (same address and port both ways: its tuple is its own
# inverse) on a host-role box, INPUT and OUTPUT queued to nfqctd with an accept-all ruleset.
# TCP (simultaneous open with itself) and UDP, over 127.0.0.1 and ::1, must work as they do
# with the kernel alone (checked first, in a namespace without queue rules). Before issue 19
# (E) was fixed, nfqctd refused to confirm such an entry (it clashed with itself): every SYN
# and every datagram was dropped with insert_failed. Now: the exchanges succeed, `insert`
# counts the four entries, `insert_failed` and `drop` stay 0, and `nfqct list` shows each
# flow with equal original and reply tuples, not [UNREPLIED].
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables

cat >"$TMP_DIR/self.py" <<'PY'
import socket, sys
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.settimeout(3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.connect((addr, port))
for i in range(3):
    s.send(b"self %d" % i)
    if s.recv(64) != b"self %d" % i:
        sys.exit("wrong data")
print("ok")
PY
# self_connect NS PROTO ADDR PORT
self_connect() {
	local out
	out=$(timeout 10 ip netns exec "$1" python3 "$TMP_DIR/self.py" "$2" "$3" "$4" 2>&1)
	[ "$out" = ok ] || { fail "$2 self-connect on $3 port $4 in ${1##*-}: $out"; return 1; }
}

# The kernel alone: the reference.
NS_K="$NS_PREFIX-kernel"
ns_new "$NS_K" || { fail "namespace"; exit 1; }
for a in 127.0.0.1 ::1; do
	self_connect "$NS_K" tcp "$a" 40001
	self_connect "$NS_K" udp "$a" 40002
done

# nfqctd on a host-role box (the lib's daemon runs in $NS_R).
ns_new "$NS_R" || { fail "namespace"; exit 1; }
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start || exit 1
for a in 127.0.0.1 ::1; do
	self_connect "$NS_R" tcp "$a" 40001
	self_connect "$NS_R" udp "$a" 40002
done

"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" 2>&1 || fail "nfqct list"
for a in 127.0.0.1 ::1; do
	for pp in "tcp 40001" "udp 40002"; do
		set -- $pp
		n=$(grep -c "^$1 .* src=$a dst=$a sport=$2 dport=$2 .*src=$a dst=$a sport=$2 dport=$2 " \
			"$TMP_DIR/list")
		assert_eq "$1 $a: one entry, reply tuple equal" 1 "$n"
	done
done
assert_eq "no [UNREPLIED] self-connect entry" 0 \
	"$(grep -c 'sport=4000[12] dport=4000[12] .*\[UNREPLIED\]' "$TMP_DIR/list")"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
F=$STATDIR/net/stat/nf_conntrack
assert_eq "insert_failed" 0 "$(stat_sum "$F" insert_failed)"
assert_eq "drop" 0 "$(stat_sum "$F" drop)"
[ "$(stat_sum "$F" insert)" -ge 4 ] || fail "insert: $(stat_sum "$F" insert), want >= 4"
finish
