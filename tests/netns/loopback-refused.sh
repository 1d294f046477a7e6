#!/usr/bin/env bash
# The box's own traffic on a host-role box (INPUT and OUTPUT queued to nfqctd), with the
# common ruleset that drops INVALID before it accepts `-i lo`. A connect() to a closed port
# of the box itself must be refused at once, as with the kernel: the RST that answers passes
# OUTPUT (where it kills the entry: a RST before any reply) and comes back in on lo, where the
# kernel judges it with the state it had at OUTPUT ("previously seen (loopback)"). Before
# issue 19 (B) was fixed, nfqctd called it INVALID and dropped it: connect() hung. And a TCP
# exchange over lo is counted once, as in the kernel: `nfqct list` equals `conntrack -L`
# (timeouts aside) for the same exchange in a namespace with kernel conntrack.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables conntrack

cat >"$TMP_DIR/host.rules" <<'RULES'
*filter
:INPUT DROP
:FORWARD DROP
:OUTPUT ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
COMMIT
RULES

cat >"$TMP_DIR/lo.py" <<'PY'
import socket, sys, time
what, addr = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if what == "refused":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    t = time.monotonic()
    try:
        s.connect((addr, 5999))
        sys.exit("connected?")
    except ConnectionRefusedError:
        print("refused in %.1f s" % (time.monotonic() - t) if time.monotonic() - t > 1 else "refused")
    except socket.timeout:
        print("timed out")
else:  # echo: a fixed client port, so both tables name the same flow
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 5001))
    srv.listen(1)
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.settimeout(5)
    c.bind((addr, 41001))
    c.connect((addr, 5001))
    a, _ = srv.accept()
    c.sendall(b"hello")
    a.sendall(a.recv(16))
    assert c.recv(16) == b"hello"
    c.close(); a.close(); srv.close()
    time.sleep(0.2)
    print("echo")
PY
# host_addrs NS: an address of the box besides 127.0.0.1 and ::1 (traffic to it goes by lo)
host_addrs() {
	ip netns exec "$1" ip addr add 198.18.7.1/32 dev lo &&
		ip netns exec "$1" ip -6 addr add 2001:db8:7::1/128 dev lo nodad
}
ADDRS="127.0.0.1 ::1 198.18.7.1 2001:db8:7::1"

# The kernel alone, tracking (the INVALID rule turns conntrack on): the reference.
NS_K="$NS_PREFIX-kernel"
ns_new "$NS_K" && host_addrs "$NS_K" || { fail "kernel namespace"; exit 1; }
ip netns exec "$NS_K" iptables-restore <"$TMP_DIR/host.rules" &&
	ip netns exec "$NS_K" ip6tables-restore <"$TMP_DIR/host.rules" || { fail "kernel rules"; exit 1; }
# per-direction packets and bytes, as nfqctd counts by default
ip netns exec "$NS_K" sysctl -qw net.netfilter.nf_conntrack_acct=1 || { fail "acct"; exit 1; }
for a in $ADDRS; do
	assert_eq "kernel: connect to closed $a" refused \
		"$(timeout 10 ip netns exec "$NS_K" python3 "$TMP_DIR/lo.py" refused "$a" 2>&1)"
	assert_eq "kernel: echo over $a" echo \
		"$(timeout 10 ip netns exec "$NS_K" python3 "$TMP_DIR/lo.py" echo "$a" 2>&1)"
done
ip netns exec "$NS_K" conntrack -L 2>/dev/null | grep 'dport=5001 ' >"$TMP_DIR/kernel.list"

# nfqctd on a host-role box, same ruleset.
ns_new "$NS_R" && host_addrs "$NS_R" || { fail "namespace"; exit 1; }
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0 -r "$TMP_DIR/host.rules" || exit 1
for a in $ADDRS; do
	assert_eq "nfqctd: connect to closed $a" refused \
		"$(timeout 10 ip netns exec "$NS_R" python3 "$TMP_DIR/lo.py" refused "$a" 2>&1)"
	assert_eq "nfqctd: echo over $a" echo \
		"$(timeout 10 ip netns exec "$NS_R" python3 "$TMP_DIR/lo.py" echo "$a" 2>&1)"
done
"$NFQCT" -s "$STATDIR" list 2>&1 | grep 'dport=5001 ' >"$TMP_DIR/nfqct.list"

# the same entries (all but the timeout column, use= and the counters) ...
strip() { awk '{ $3 = ""; sub(/ use=[0-9]+$/, ""); gsub(/ (packets|bytes)=[0-9]+/, ""); print }' | sort; }
assert_eq "echo entries (kernel)" 4 "$(wc -l <"$TMP_DIR/kernel.list")"
if diff -u <(strip <"$TMP_DIR/kernel.list") <(strip <"$TMP_DIR/nfqct.list"); then
	note "ok: nfqct list = conntrack -L for the exchanges over lo"
else
	fail "tables differ (kernel -, nfqct +)"
fi
# ... each packet counted once: per direction within one packet of the kernel's count (the
# exchange's pure ACKs depend on timing); counting both passes would double them
counts() {	# "SRC PACKETS_ORIG PACKETS_REPLY" per entry
	awk '{ s = ""; n = 0
	       for (i = 1; i <= NF; i++) {
		       if ($i ~ /^src=/ && s == "") s = $i
		       if ($i ~ /^packets=/) p[++n] = substr($i, 9)
	       }
	       print s, p[1], p[2] }' "$1" | sort
}
while read -r src k0 k1 n0 n1; do
	for pair in "$k0 $n0" "$k1 $n1"; do
		set -- $pair
		if [ "$2" -ge $(($1 - 1)) ] && [ "$2" -le $(($1 + 1)) ]; then
			note "ok: $src: packets kernel $1, nfqctd $2"
		else
			fail "$src: packets kernel $1, nfqctd $2"
		fi
	done
done < <(join <(counts "$TMP_DIR/kernel.list") <(counts "$TMP_DIR/nfqct.list"))
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "invalid" 0 "$(stat_sum "$STATDIR/net/stat/nf_conntrack" invalid)"
finish
