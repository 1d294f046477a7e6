#!/usr/bin/env bash
# demo.sh - nfqct at work, in namespaces that exist only while it runs:
#
#   client (198.18.0.2, 2001:db8::2) -- router (nfqctd) -- server (198.18.1.2, 2001:db8:1::2)
#
# The router queues FORWARD to nfqctd on queues 0 and 1; IPv4 and IPv6 ping, TCP and UDP
# cross it; then the demo shows what the daemon saw and what the kernel's queues saw.
# Nothing outside the demo's namespaces is touched. Run as root (contrib/nfqct-setup demo).
. "$(dirname "$0")/lib.sh"
TEST_NAME=demo
require_root_netns ping nc ss iptables ip6tables

title() { printf '\n=== %s ===\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }

title "topology: $NS_C -- $NS_R -- $NS_S"
topo_create
in_router ip -brief addr show | sed 's/^/  router: /'

title "kernel rules in the router (nfqct-kernel-rules install router --queues 0:1)"
kernel_rules router --queues 0:1 || exit 1
in_router "$KERNEL_RULES" status | sed 's/^/  /'

title "nfqctd -f -q 0:1 -s $STATDIR (in the router)"
nfqctd_start -q 0:1 || exit 1
sed 's/^/  log: /' "$NFQCTD_LOG"

title "traffic"
show ip netns exec "$NS_C" timeout 10 ping -c 3 -i 0.2 -W 2 "$S4"
show ip netns exec "$NS_C" timeout 10 ping -6 -c 3 -i 0.2 -W 2 "$S6"
tcp_exchange "$S4" 8080 4
tcp_exchange "$S6" 8080 6
udp_exchange "$S4" 5353 4 3
udp_exchange "$S6" 5353 6 3

title "what the kernel's queues saw (/proc/net/netfilter/nfnetlink_queue in the router)"
echo "  queue  portid  waiting  copy_mode  copy_range  queue_dropped  user_dropped  id_seq"
queue_stats | awk '{ printf "  %5s %7s %8s %10s %11s %14s %13s %7s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'

title "what nfqctd saw"
if [ -x "$NFQCT" ] && "$NFQCT" -s "$STATDIR" stat >/dev/null 2>&1; then
	show "$NFQCT" -s "$STATDIR" stat
	show "$NFQCT" -s "$STATDIR" list
else
	echo "  (nfqct stat/list not available yet: showing the stat files)"
	found=0
	for f in "$STATDIR"/net/stat/* "$STATDIR"/sys/net/netfilter/*; do
		[ -f "$f" ] || continue
		found=1
		echo "  --- ${f#"$STATDIR"/} ---"
		sed 's/^/  /' "$f"
	done
	[ "$found" -eq 1 ] || echo "  (no stat files yet)"
fi

title "stopping nfqctd (SIGTERM)"
nfqctd_stop
echo "  exit status $?"
grep -E 'queue [0-9]+: received|stopped' "$NFQCTD_LOG" | sed 's/^/  log: /'

title "removing the namespaces"
note "done; $FAILURES problem(s)"
finish
