#!/usr/bin/env bash
# SIGTERM while a flood crosses the router: nfqctd exits 0, every packet it received got a
# verdict, the kernel never reported a loss on its queues, and no packet was left behind in a
# queue at exit. The queue rules fail open (--bypass) so that traffic flows on after the daemon
# is gone: then every packet that reached the queue rule (mangle FORWARD counter) must come out
# of it (a counter in a later forward chain), unless the daemon dropped it.
. "$(dirname "$0")/lib.sh"
require_root_netns ping iptables ip6tables nft
topo_create
count_install
in_router nft -f - <<'NFT' || { fail "nft counter table"; exit 1; }
table inet nfqcttest {
	counter after { }
	chain after_queue {
		type filter hook forward priority 100; policy accept;
		counter name "after"
	}
}
NFT
after_read() { in_router nft list counter inet nfqcttest after | awk '/packets/ { print $2 }'; }

kernel_rules router --queues 0:1 --bypass || { fail "kernel rules"; exit 1; }
# On SIGTERM the daemon first sets the kernel's queue length to 0, so nothing new
# enters the queue that closing the socket would drop silently; packets that arrive
# during the last drain then follow the kernel's queue-full policy.  With --fail-open
# that is "accept", the same unjudged pass --queue-bypass gives once the daemon is
# gone, so nothing at all may be lost; without the intake stop the kernel's flush at
# unbind drops what is still queued and this test fails.
nfqctd_start -q 0:1 --fail-open || exit 1

N=50000
timeout 60 ip netns exec "$NS_C" ping -f -c "$N" -W 1 -w 40 -q "$S4" >"$TMP_DIR/flood4" 2>&1 &
flood4=$!
PIDS+=("$flood4")
timeout 60 ip netns exec "$NS_C" ping -6 -f -c "$N" -W 1 -w 40 -q "$S6" >"$TMP_DIR/flood6" 2>&1 &
flood6=$!
PIDS+=("$flood6")

queued_now() { queue_stats | awk '{ s += $8 } END { print s + 0 }'; }
for i in $(seq 100); do
	[ "$(queued_now)" -ge 20000 ] && break
	sleep 0.05
done
note "SIGTERM after $(queued_now) packets queued"
nfqctd_signal TERM

# The kernel's last view of the queues before they disappear with the daemon's socket.
last=
for i in $(seq 2000); do
	snap=$(queue_stats)
	[ -n "$snap" ] || break
	last=$snap
	sleep 0.005
done
nfqctd_wait 15
assert_eq "nfqctd exit status after SIGTERM" 0 "$?"
echo "$last" | sed 's/^/    last nfnetlink_queue: /'
assert_eq "queues in the last snapshot" 2 "$(echo "$last" | grep -c .)"
assert_eq "queue_dropped (last snapshot)" 0 "$(echo "$last" | awk '{ s += $6 } END { print s + 0 }')"
assert_eq "user_dropped (last snapshot)" 0 "$(echo "$last" | awk '{ s += $7 } END { print s + 0 }')"

for pid in "$flood4" "$flood6"; do wait "$pid"; done
tail -n 2 "$TMP_DIR/flood4" "$TMP_DIR/flood6" | sed 's/^/    /'

grep -E 'queue [0-9]+: received|draining|stopping' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
received=$(log_sum received)
accepted=$(log_sum accepted)
dropped=$(log_sum dropped)
assert_eq "every received packet got a verdict (received = accepted + dropped)" \
	"$received" "$((accepted + dropped))"
assert_eq "daemon: dropped" 0 "$dropped"
assert_eq "daemon: enobufs" 0 "$(log_sum enobufs)"
seen=$(echo "$last" | awk '{ s += $8 } END { print s + 0 }')
[ "$received" -ge "$seen" ] ||
	fail "daemon received $received packets, the kernel had queued $seen to it"

before=$(count_read)
after=$(after_read)
note "forwarded: $before reached the queue rule, $after came out of it, daemon dropped $dropped"
assert_eq "packets lost in the queue at exit" 0 "$((before - after - dropped))"
finish
