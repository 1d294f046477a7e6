#!/usr/bin/env bash
# -m connlimit against the kernel's, differentially: the same INPUT rules run first in the
# router's own iptables/ip6tables (kernel conntrack, no queue), then in nfqctd (the kernel
# queues and NOTRACKs the host's traffic):
#   c1  -p tcp --dport 7300 --syn                                         (count only)
#   c2  -p tcp --dport 7300 --syn -m connlimit --connlimit-above 2 -j DROP
# The client, per family, opens connections it keeps open (each attempt given 0.5 s, less
# than a SYN's first retransmission): 4 attempts (the 3rd and 4th refused), then closes the
# first two (both sides: TIME_WAIT, which nf_conncount no longer counts), then 3 attempts
# (the 3rd refused).  The outcomes and the counters must be the kernel's, and as above.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save
topo_create
in_router iptables -w -A INPUT -m connlimit --connlimit-above 2 2>/dev/null || skip "the kernel has no xt_connlimit"
in_router iptables -w -D INPUT -m connlimit --connlimit-above 2

C1="-p tcp --dport 7300 --syn"
C2="-p tcp --dport 7300 --syn -m connlimit --connlimit-above 2"
cat >"$TMP_DIR/server.py" <<'PY'
import selectors, signal, socket, sys
signal.alarm(60)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(64)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ)
        elif not key.fileobj.recv(100):	# the client closed: close too
            sel.unregister(key.fileobj)
            key.fileobj.close()
PY
cat >"$TMP_DIR/client.py" <<'PY'
import socket, sys, time
a, p = sys.argv[1], int(sys.argv[2])
def attempts(n):
    out, socks = [], []
    for i in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect((a, p))
            out.append("ok")
            socks.append(s)
        except OSError:
            out.append("no")
            s.close()
    return out, socks
first, socks = attempts(4)
for s in socks[:2]:
    s.close()
time.sleep(0.5)
second, more = attempts(3)
print(" ".join(first), "|", " ".join(second))
PY
ip netns exec "$NS_R" python3 "$TMP_DIR/server.py" 7300 &
PIDS+=($!)
wait_listen "$NS_R" tcp 7300 || exit 1
clients() {
	local a
	for a in "$R4C" "$R6C"; do
		echo "$(timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" "$a" 7300)"
	done
}
counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(c[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1/p' | sort; }
sum() { awk '{ n[$1] += $2 } END { for (k in n) print k, n[k] }' | sort; }

# 1: the kernel
for ipt in iptables ip6tables; do
	# shellcheck disable=SC2086
	in_router "$ipt" -w -A INPUT $C1 -m comment --comment c1 || fail "kernel c1 ($ipt)"
	# shellcheck disable=SC2086
	in_router "$ipt" -w -A INPUT $C2 -m comment --comment c2 -j DROP || fail "kernel c2 ($ipt)"
done
clients >"$TMP_DIR/kernel.out"
{ in_router iptables-save -c -t filter; in_router ip6tables-save -c -t filter; } | counts | sum >"$TMP_DIR/kernel.counts"
for ipt in iptables ip6tables; do in_router "$ipt" -w -F INPUT; done
sleep 0.5

# 2: nfqctd
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
cat >"$TMP_DIR/connlimit.rules" <<EOF2
*filter
-A INPUT $C1 -m comment --comment c1
-A INPUT $C2 -m comment --comment c2 -j DROP
COMMIT
EOF2
nfqctd_start -r "$TMP_DIR/connlimit.rules" || exit 1
clients >"$TMP_DIR/nfqct.out"
"$NFQCT" -s "$STATDIR" rules -c | counts | sum >"$TMP_DIR/nfqct.counts"

assert_eq "outcomes: the kernel's" "$(cat "$TMP_DIR/kernel.out")" "$(cat "$TMP_DIR/nfqct.out")"
assert_eq "outcomes by hand" "ok ok no no | ok ok no
ok ok no no | ok ok no" "$(cat "$TMP_DIR/nfqct.out")"
assert_eq "counters: the kernel's" "$(cat "$TMP_DIR/kernel.counts")" "$(cat "$TMP_DIR/nfqct.counts")"
assert_eq "counters by hand" "c1 14
c2 6" "$(cat "$TMP_DIR/nfqct.counts")"
assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
