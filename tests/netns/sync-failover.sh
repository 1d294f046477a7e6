#!/usr/bin/env bash
# Failover of a pair of nfqctd firewalls with keepalived (Debian's package), in namespaces:
#
#   client --[switch c]-- r1, r2 --[switch s]-- server        r1 -- r2: the sync link
#
# Both routers queue FORWARD to their nfqctd, which replicate to each other (FTFW over UDP,
# nfqct peers: zones and counters too); keepalived holds a virtual address on each side
# (a vrrp_sync_group, VRRPv3 at 0.2 s) and its notify script is contrib/keepalived's,
# calling `nfqct ha`. The ruleset lets only ESTABLISHED traffic in from the server side and
# nf_conntrack_tcp_loose is 0, so a router that does not know a flow drops it: only
# replication keeps a connection alive across the failover. A long TCP connection (an echo
# every 50 ms) and a UDP stream from the server go through r1; r1 then fails, twice:
#   kill  nfqctd and keepalived on r1 are killed (SIGKILL)
#   down  r1's links go down
# and r2 must carry both on: the TCP connection sees no reset and its echoes go on, the UDP
# stream goes on, r2 committed the flows (its nfqct_sync commits), and the longest pause
# stays below a bound far above the VRRP failover time (reported).
. "$(dirname "$0")/lib.sh"
require_root_netns keepalived python3 iptables ip6tables

VIP_C=198.18.0.254
VIP_S=198.18.1.254
C=198.18.0.2
S=198.18.1.2
NS_SWC="$NS_PREFIX-swc"
NS_SWS="$NS_PREFIX-sws"
NS_R1="$NS_PREFIX-r1"
NS_R2="$NS_PREFIX-r2"

RULES=$TMP_DIR/failover.rules
cat >"$RULES" <<'EOF'
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i in0 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
EOF

# link NS_A DEV_A NS_B DEV_B: a veth pair made directly in the two namespaces
link() { ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"; }

topology() {
	local ns
	for ns in "$NS_C" "$NS_S" "$NS_R1" "$NS_R2" "$NS_SWC" "$NS_SWS"; do
		ns_new "$ns" || { fail "namespace $ns"; exit 1; }
	done
	for ns in "$NS_SWC" "$NS_SWS"; do
		ip netns exec "$ns" ip link add br0 type bridge
		ip netns exec "$ns" ip link set br0 up
	done
	link "$NS_C" c0 "$NS_SWC" pc && link "$NS_R1" in0 "$NS_SWC" p1 && link "$NS_R2" in0 "$NS_SWC" p2 &&
		link "$NS_S" s0 "$NS_SWS" ps && link "$NS_R1" out0 "$NS_SWS" p1 &&
		link "$NS_R2" out0 "$NS_SWS" p2 && link "$NS_R1" sy0 "$NS_R2" sy0 ||
		{ fail "veth"; exit 1; }
	for ns in "$NS_SWC" "$NS_SWS"; do
		for p in $(ip netns exec "$ns" ls /sys/class/net | grep '^p'); do
			ip netns exec "$ns" ip link set "$p" master br0 up
		done
	done
	addr "$NS_C" c0 "$C/24" 2001:db8::2/64
	addr "$NS_S" s0 "$S/24" 2001:db8:1::2/64
	addr "$NS_R1" in0 198.18.0.11/24 2001:db8::11/64
	addr "$NS_R1" out0 198.18.1.11/24 2001:db8:1::11/64
	addr "$NS_R1" sy0 198.18.2.1/24 2001:db8:2::1/64
	addr "$NS_R2" in0 198.18.0.12/24 2001:db8::12/64
	addr "$NS_R2" out0 198.18.1.12/24 2001:db8:1::12/64
	addr "$NS_R2" sy0 198.18.2.2/24 2001:db8:2::2/64
	ip netns exec "$NS_C" ip route add default via "$VIP_C"
	ip netns exec "$NS_S" ip route add default via "$VIP_S"
	for ns in "$NS_R1" "$NS_R2"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
		ip netns exec "$ns" "$KERNEL_RULES" install router >/dev/null || { fail "kernel rules"; exit 1; }
	done
}

# router_start N: nfqctd and keepalived of router N (1: priority 150, 2: 100)
router_start() {
	local n=$1 ns me peer prio dir
	if [ "$n" = 1 ]; then ns=$NS_R1 me=198.18.2.1 peer=198.18.2.2 prio=150
	else ns=$NS_R2 me=198.18.2.2 peer=198.18.2.1 prio=100; fi
	dir=$TMP_DIR/r$n
	mkdir -p "$dir/stat"
	ip netns exec "$ns" "$NFQCTD" -f -s "$dir/stat" -r "$RULES" -o "nfqct.state_file=none" \
		-o net.netfilter.nf_conntrack_tcp_loose=0 -o nfqct.sync_mode=$SYNC_MODE \
		-o nfqct.sync_local=$me:3780 -o nfqct.sync_peer=$peer:3780 -o nfqct.sync_peer_kind=nfqct \
		>"$dir/nfqctd.log" 2>&1 &
	eval "NFQCTD$n=$!"
	PIDS+=($!)
	disown $!
	for i in $(seq 100); do
		[ -e "$dir/stat/net/stat/nf_conntrack" ] && break
		sleep 0.1
	done
	[ -e "$dir/stat/net/stat/nf_conntrack" ] || { fail "nfqctd r$n did not start"; cat "$dir/nfqctd.log" >&2; exit 1; }
	# the notify script: contrib's, with this router's client and stat directory
	cat >"$dir/notify.sh" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$1" >>"$dir/roles"
NFQCT="$NFQCT" NFQCT_STATDIR="$dir/stat" exec "$NFQCT_SRCDIR/contrib/keepalived/nfqct-notify.sh" "\$1"
EOF
	chmod 700 "$dir/notify.sh"
	cat >"$dir/keepalived.conf" <<EOF
global_defs {
	router_id r$n
	vrrp_version 3
	enable_script_security
	script_user root
}
vrrp_sync_group FW {
	group {
		INSIDE
		OUTSIDE
	}
	notify_master "$dir/notify.sh primary"
	notify_backup "$dir/notify.sh backup"
	notify_fault "$dir/notify.sh fault"
}
vrrp_instance INSIDE {
	state BACKUP
	interface in0
	virtual_router_id 61
	priority $prio
	advert_int 0.2
	virtual_ipaddress {
		$VIP_C/24
	}
}
vrrp_instance OUTSIDE {
	state BACKUP
	interface out0
	virtual_router_id 62
	priority $prio
	advert_int 0.2
	virtual_ipaddress {
		$VIP_S/24
	}
}
EOF
	ip netns exec "$ns" keepalived -n -P -l -G -f "$dir/keepalived.conf" -p "$dir/keepalived.pid" \
		-r "$dir/vrrp.pid" >"$dir/keepalived.log" 2>&1 &
	eval "KEEPALIVED$n=$!"
	PIDS+=($!)
	disown $!
}

# sync_field N NAME: a field of router N's nfqct_sync
sync_field() { stat_sum "$TMP_DIR/r$1/stat/net/stat/nfqct_sync" "$2"; }

# The client: a TCP echo every 50 ms and a UDP stream from the server, for $1 seconds;
# prints one JSON line of what it saw.
CLIENT_PY='
import json, socket, sys, time
dur = float(sys.argv[1]); S = sys.argv[2]
t = socket.create_connection((S, 5001), timeout=10)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(0.02)
u.sendto(b"start", (S, 5002))
res = {"tcp_error": None, "echoes": 0, "tcp_gap": 0.0, "udp": 0, "udp_gap": 0.0, "bad_echo": 0}
t0 = time.time(); last_t = last_u = t0; n = 0
while time.time() - t0 < dur:
    msg = b"%08d\n" % n; n += 1
    try:
        t.sendall(msg)
        got = b""
        while len(got) < len(msg):
            c = t.recv(len(msg) - len(got))
            if not c:
                raise ConnectionError("closed by the peer")
            got += c
    except Exception as e:
        res["tcp_error"] = repr(e); break
    if got != msg:
        res["bad_echo"] += 1
    now = time.time(); res["tcp_gap"] = max(res["tcp_gap"], now - last_t); last_t = now
    res["echoes"] += 1
    try:
        while True:
            u.recvfrom(100); now = time.time()
            res["udp_gap"] = max(res["udp_gap"], now - last_u); last_u = now; res["udp"] += 1
    except socket.timeout:
        pass
    time.sleep(0.05)
print(json.dumps(res), flush=True)
'
SERVER_PY='
import socket, threading, time, sys
S = sys.argv[1]
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((S, 5001)); s.listen(1); c, _ = s.accept()
    while True:
        d = c.recv(4096)
        if not d: return
        c.sendall(d)
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((S, 5002))
    _, peer = u.recvfrom(100); t0 = time.time()
    while time.time() - t0 < 120:
        u.sendto(b"tick", peer); time.sleep(0.05)
threading.Thread(target=udp, daemon=True).start()
tcp()
'

# run_case KIND [off]: fail r1 by KIND; with "off", no replication (the control: the
# connection must not survive, or this test could not fail)
run_case() {
	local kind=$1 i control=${2:-}
	SYNC_MODE=ftfw
	[ -z "$control" ] || SYNC_MODE=off
	note "==== case $kind${control:+ (control: replication off)} ===="
	topology
	router_start 1
	router_start 2
	# r1 becomes master, r2 backup (bounded wait)
	for i in $(seq 100); do
		grep -q primary "$TMP_DIR/r1/roles" 2>/dev/null && grep -q backup "$TMP_DIR/r2/roles" 2>/dev/null && break
		sleep 0.1
	done
	grep -q primary "$TMP_DIR/r1/roles" 2>/dev/null || { fail "$kind: r1 never became primary"; return; }
	ip netns exec "$NS_S" python3 -c "$SERVER_PY" "$S" &
	PIDS+=($!)
	disown $!
	sleep 0.3
	ip netns exec "$NS_C" timeout 40 python3 -c "$CLIENT_PY" 12 "$S" >"$TMP_DIR/client.$kind" 2>&1 &
	local client=$!
	PIDS+=($client)
	disown $client
	# let the flows reach r2's external cache, then fail r1
	if [ -z "$control" ]; then
		for i in $(seq 50); do
			[ "$("$NFQCT" -s "$TMP_DIR/r2/stat" list --external 2>/dev/null | grep -c "dport=500[12] ")" -ge 2 ] && break
			sleep 0.1
		done
		"$NFQCT" -s "$TMP_DIR/r2/stat" list --external | sed 's/^/    r2 external: /'
	fi
	sleep 2
	note "$kind: failing r1"
	case $kind in
	kill)
		kill -KILL "$KEEPALIVED1" "$NFQCTD1" 2>/dev/null
		;;
	down)
		for dev in in0 out0 sy0; do ip netns exec "$NS_R1" ip link set "$dev" down; done
		;;
	esac
	for i in $(seq 50); do grep -q primary "$TMP_DIR/r2/roles" 2>/dev/null && break; sleep 0.1; done
	grep -q primary "$TMP_DIR/r2/roles" || fail "$kind: r2 never became primary"
	sleep 1
	"$NFQCT" -s "$TMP_DIR/r2/stat" list >"$TMP_DIR/r2.list"
	sed 's/^/    r2 list: /' "$TMP_DIR/r2.list"
	timeout 45 tail --pid="$client" -f /dev/null
	note "$kind: client: $(cat "$TMP_DIR/client.$kind")"
	if [ -n "$control" ]; then
		python3 - "$TMP_DIR/client.$kind" <<'EOF' || fail "$kind: without replication the flows survived: the test cannot tell"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sys.exit(0 if (r["tcp_error"] or r["echoes"] < 100 or r["tcp_gap"] > 8) else 1)
EOF
		teardown_case
		return
	fi
	python3 - "$TMP_DIR/client.$kind" "$kind" <<'EOF' || fail "$kind: the flows did not survive"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
ok = True
def bad(m):
    global ok; ok = False; print("FAIL: sync-failover: %s: %s" % (sys.argv[2], m))
if r["tcp_error"]: bad("TCP connection broke: %s" % r["tcp_error"])
if r["bad_echo"]: bad("%d echoes came back wrong" % r["bad_echo"])
if r["echoes"] < 100: bad("only %d TCP echoes in 12 s" % r["echoes"])
if r["udp"] < 100: bad("only %d UDP datagrams in 12 s" % r["udp"])
# far above VRRP's failover (3 x 0.2 s + skew) plus TCP's retransmission backoff
if r["tcp_gap"] > 8: bad("TCP paused %.1f s" % r["tcp_gap"])
if r["udp_gap"] > 8: bad("UDP paused %.1f s" % r["udp_gap"])
sys.exit(0 if ok else 1)
EOF
	sleep 1.2
	cat "$TMP_DIR/r2/stat/net/stat/nfqct_sync" | sed 's/^/    r2 nfqct_sync: /'
	[ "$(sync_field 2 commits)" -ge 1 ] || fail "$kind: r2 never committed"
	[ "$(sync_field 2 committed)" -ge 2 ] || fail "$kind: r2 committed fewer than 2 flows"
	grep -q "ESTABLISHED src=$C dst=$S sport=[0-9]* dport=5001 .*\[ASSURED\]" "$TMP_DIR/r2.list" ||
		fail "$kind: r2's table lacks the TCP flow"
	teardown_case
}

# every process of a case, then its namespaces
teardown_case() {
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill -KILL "$pid" 2>/dev/null; done
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null; done
	PIDS=()
	for ns in ${NS_LIST[@]+"${NS_LIST[@]}"}; do ip netns del "$ns" 2>/dev/null; done
	NS_LIST=()
	rm -rf "$TMP_DIR/r1" "$TMP_DIR/r2"
}

run_case kill
run_case down
run_case kill off
finish
