#!/usr/bin/env bash
# Replication against Debian's conntrackd (1.4.x, FTFW over UDP), in namespaces:
#  1. nfqctd (the router) sends its flows to conntrackd in a fourth namespace, "peer",
#     which runs over that namespace's kernel conntrack. After `conntrackd -c` there,
#     `conntrack -L` in the peer holds the router's flows: the same tuples, the TCP state,
#     [ASSURED]; a long TCP connection, a UDP exchange and a ping.
#  2. The other way: conntrackd sends the peer's kernel flows (made with conntrack -I),
#     `nfqct list --external` shows them, and `nfqct ha primary` commits them into nfqctd's
#     table (nfqct list).
# conntrackd runs with its own config, socket, lock and log in the test's directory, in the
# peer namespace only. SYNC_TEST_MODE=notrack runs both sides in NOTRACK mode instead.
. "$(dirname "$0")/lib.sh"
require_root_netns conntrackd conntrack python3 iptables ip6tables nc
topo_create

NS_P="$NS_PREFIX-peer"
ns_new "$NS_P" || { fail "namespace"; exit 1; }
ip link add r2 netns "$NS_R" type veth peer name p0 netns "$NS_P" || { fail "veth"; exit 1; }
addr "$NS_R" r2 198.18.2.1/24 2001:db8:2::1/64
addr "$NS_P" p0 198.18.2.2/24 2001:db8:2::2/64
in_peer() { ip netns exec "$NS_P" "$@"; }

kernel_rules router || { fail "kernel rules"; exit 1; }
MODE=${SYNC_TEST_MODE:-ftfw}
case $MODE in ftfw) CTD_MODE=FTFW ;; notrack) CTD_MODE=NOTRACK ;; *) fail "SYNC_TEST_MODE: ftfw or notrack"; exit 1 ;; esac
nfqctd_start -o nfqct.sync_mode=$MODE -o nfqct.sync_transport=udp \
	-o nfqct.sync_local=198.18.2.1:3780 -o nfqct.sync_peer=198.18.2.2:3780 || exit 1

CTD_CONF=$TMP_DIR/conntrackd.conf
cat >"$CTD_CONF" <<EOF
Sync {
	Mode $CTD_MODE {
	}
	UDP {
		IPv4_address 198.18.2.2
		IPv4_Destination_Address 198.18.2.1
		Port 3780
		Interface p0
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile $TMP_DIR/conntrackd.log
	Syslog off
	LockFile $TMP_DIR/conntrackd.lock
	UNIX {
		Path $TMP_DIR/conntrackd.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Kernelspace {
		Address Ignore {
			IPv4_address 198.18.2.1
			IPv4_address 198.18.2.2
		}
	}
}
EOF
ctd() { in_peer conntrackd -C "$CTD_CONF" "$@"; }
# the peer's kernel conntrack: the sync flow itself is tracked there too
in_peer conntrack -F >/dev/null 2>&1
ip netns exec "$NS_P" conntrackd -C "$CTD_CONF" >"$TMP_DIR/conntrackd.out" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do
	ctd -s >/dev/null 2>&1 && break
	sleep 0.1
done
ctd -s >/dev/null 2>&1 || { fail "conntrackd did not start"; cat "$TMP_DIR/conntrackd.out" "$TMP_DIR/conntrackd.log" >&2; exit 1; }

# ---- 1. nfqctd -> conntrackd ----
# A long TCP connection: the server answers, the client holds it open.
in_server python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$S4"'", 5001)); s.listen(1); c, _ = s.accept(); c.sendall(b"hello\n"); time.sleep(60)' &
PIDS+=($!)
sleep 0.3
in_client python3 -c '
import socket, time
s = socket.create_connection(("'"$S4"'", 5001), timeout=5); s.bind
print(s.getsockname()[1], flush=True); s.recv(6); time.sleep(60)' >"$TMP_DIR/sport" &
PIDS+=($!)
udp_exchange "$S4" 5003 4 3
assert_pass timeout 10 ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 2 -q "$S4"
for i in $(seq 50); do [ -s "$TMP_DIR/sport" ] && break; sleep 0.1; done
SPORT=$(head -n1 "$TMP_DIR/sport")
TCP_TUPLE="src=$C4 dst=$S4 sport=$SPORT dport=5001"
note "the TCP flow: $TCP_TUPLE"

# nfqctd's own view
for i in $(seq 50); do
	"$NFQCT" -s "$STATDIR" list 2>/dev/null | grep -q "ESTABLISHED $TCP_TUPLE" && break
	sleep 0.1
done
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/nfqct.list"
sed 's/^/    nfqct list: /' "$TMP_DIR/nfqct.list"
grep -q "ESTABLISHED $TCP_TUPLE .*\[ASSURED\]" "$TMP_DIR/nfqct.list" ||
	fail "nfqctd does not hold the TCP flow ESTABLISHED [ASSURED]"

# conntrackd's external cache gets it (bounded wait), then commits it into its kernel
for i in $(seq 100); do
	ctd -e 2>/dev/null | grep -q "$TCP_TUPLE" && break
	sleep 0.1
done
ctd -e >"$TMP_DIR/ctd.external" 2>&1
sed 's/^/    conntrackd -e: /' "$TMP_DIR/ctd.external"
grep -q "$TCP_TUPLE" "$TMP_DIR/ctd.external" || fail "conntrackd's external cache lacks the TCP flow"
assert_pass ctd -c
in_peer conntrack -L >"$TMP_DIR/peer.list" 2>/dev/null
sed 's/^/    peer conntrack -L: /' "$TMP_DIR/peer.list"
grep -E "^tcp +6 [0-9]+ ESTABLISHED $TCP_TUPLE src=$S4 dst=$C4 sport=5001 dport=$SPORT .*\[ASSURED\]" \
	"$TMP_DIR/peer.list" >/dev/null || fail "the peer's kernel lacks the TCP flow ESTABLISHED [ASSURED]"
# (udp_exchange sends one way: [UNREPLIED] on both sides)
grep -E "^udp +17 [0-9]+ src=$C4 dst=$S4 sport=[0-9]+ dport=5003 \[UNREPLIED\] src=$S4 dst=$C4 sport=5003 " \
	"$TMP_DIR/peer.list" >/dev/null || fail "the peer's kernel lacks the UDP flow"
grep -E "^icmp +1 [0-9]+ src=$C4 dst=$S4 type=8 code=0 id=[0-9]+ src=$S4 dst=$C4 type=0 code=0 " \
	"$TMP_DIR/peer.list" >/dev/null || fail "the peer's kernel lacks the ICMP flow"
# every flow of the router's table that conntrackd can hold is in the peer's kernel, same tuples
while read -r proto num rest; do
	case $proto in tcp|udp|icmp) ;; *) continue ;; esac
	tuple=$(printf '%s\n' "$rest" | grep -oE 'src=[^ ]+ dst=[^ ]+ (sport=[0-9]+ dport=[0-9]+|type=[0-9]+ code=[0-9]+ id=[0-9]+)' | head -n1)
	grep -qF "$tuple" "$TMP_DIR/peer.list" || fail "flow not replicated: $proto $tuple"
done <"$TMP_DIR/nfqct.list"

# ---- 2. conntrackd -> nfqctd ----
assert_pass in_peer conntrack -I -p tcp -s 198.18.7.1 -d 198.18.8.1 --sport 40000 --dport 443 \
	--state ESTABLISHED -u SEEN_REPLY,ASSURED -t 3600
assert_pass in_peer conntrack -I -p udp -s 198.18.7.1 -d 198.18.8.1 --sport 5353 --dport 53 \
	-u SEEN_REPLY -t 100
PEER_TCP="src=198.18.7.1 dst=198.18.8.1 sport=40000 dport=443"
PEER_UDP="src=198.18.7.1 dst=198.18.8.1 sport=5353 dport=53"
for i in $(seq 100); do
	"$NFQCT" -s "$STATDIR" list --external 2>/dev/null | grep -q "$PEER_UDP" &&
		"$NFQCT" -s "$STATDIR" list --external 2>/dev/null | grep -q "$PEER_TCP" && break
	sleep 0.1
done
"$NFQCT" -s "$STATDIR" list --external >"$TMP_DIR/external" 2>&1
sed 's/^/    nfqct list --external: /' "$TMP_DIR/external"
grep -q "ESTABLISHED $PEER_TCP" "$TMP_DIR/external" || fail "the external cache lacks the peer's TCP flow"
"$NFQCT" -s "$STATDIR" list | grep -qF "$PEER_TCP" && fail "the peer's flow is in the table before the commit"
assert_pass "$NFQCT" -s "$STATDIR" ha primary
sed 's/^/    /' "$TMP_DIR/cmd.out"
# the commit was one step for the packet path: the workers were paused around it
grep -qE '^ha: primary: the queues waited [0-9]+\.[0-9]{3} ms$' "$TMP_DIR/cmd.out" ||
	fail "ha primary: no pause around the commit"
# and they run again: a new flow crosses the router
assert_pass timeout 10 ip netns exec "$NS_C" ping -c 1 -W 2 -q "$S4"
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/nfqct.list2"
grep -E "^tcp +6 [0-9]+ ESTABLISHED $PEER_TCP src=198.18.8.1 dst=198.18.7.1 sport=443 dport=40000 .*\[ASSURED\]" \
	"$TMP_DIR/nfqct.list2" >/dev/null || fail "nfqct list lacks the committed TCP flow"
grep -E "^udp +17 [0-9]+ $PEER_UDP src=198.18.8.1 dst=198.18.7.1 sport=53 dport=5353 " \
	"$TMP_DIR/nfqct.list2" >/dev/null || fail "nfqct list lacks the committed UDP flow"
assert_eq "external cache after the commit" "" "$("$NFQCT" -s "$STATDIR" list --external)"
assert_pass "$NFQCT" -s "$STATDIR" ha status
sed 's/^/    ha status: /' "$TMP_DIR/cmd.out"
grep -q "^role: primary" "$TMP_DIR/cmd.out" || fail "ha status: not primary"

# the counters: nothing malformed, nothing foreign, flows both ways
sleep 1.2	# the stat file is rewritten every second
SF=$STATDIR/net/stat/nfqct_sync
cat "$SF" | sed 's/^/    nfqct_sync: /'
assert_eq "malformed messages" 0 "$(stat_sum "$SF" malformed)"
assert_eq "foreign datagrams" 0 "$(stat_sum "$SF" foreign)"
[ "$(stat_sum "$SF" flow_sent)" -ge 3 ] || fail "flow_sent below 3"
[ "$(stat_sum "$SF" flow_recv)" -ge 2 ] || fail "flow_recv below 2"
assert_eq "commits" 1 "$(stat_sum "$SF" commits)"
"$NFQCT" -s "$STATDIR" stat | grep -q '^nfqct_sync: ' || fail "nfqct stat does not show nfqct_sync"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
