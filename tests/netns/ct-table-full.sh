#!/usr/bin/env bash
# A full connection table (net.netfilter.nf_conntrack_max=8), as the kernel handles it:
#  1. one TCP connection (assured at once by its handshake) + 30 one-way UDP flows: 7 fit,
#     each of the 23 others evicts an unassured UDP entry (early_drop = 23, drop = 0);
#  2. 7 more TCP connections: each SYN evicts one of the 7 UDP entries left (early_drop = 30);
#     now all 8 entries are assured and nothing can be evicted;
#  3. 10 IPv4 + 10 IPv6 new UDP flows: every packet dropped (drop = 20 exactly), the table
#     stays at 8, "table full" logged exactly once (burst 1 per 10 minutes);
#  4. the first TCP connection still carries data both ways; a fresh one cannot be made.
. "$(dirname "$0")/lib.sh"
require_root_netns ss iptables ip6tables python3
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0 -o net.netfilter.nf_conntrack_max=8 -o nfqct.log_ratelimit_ms=600000 \
	-o nfqct.log_ratelimit_burst=1 -o nfqct.stat_interval_ms=100 || exit 1
# The one-way UDP datagrams that get through die silently in the server (no ICMP error
# that would be a packet of its own).
in_server iptables -w -A INPUT -p udp --dport 7000:7999 -j DROP
in_server ip6tables -w -A INPUT -p udp --dport 7000:7999 -j DROP

PY=$TMP_DIR/flows.py
cat >"$PY" <<'EOF'
import os, selectors, socket, sys, time
mode, fam, addr = sys.argv[1:4]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
HOLD = 45

def exchange(c, n):
    msg = b"nfqct table-full %d\n" % n
    c.sendall(msg)
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(100)
        if not d:
            break
        buf += d
    assert buf == msg, buf

if mode == "server":            # echo lines on any number of connections
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(sys.argv[4]))); s.listen(16)
    sel = selectors.DefaultSelector(); sel.register(s, selectors.EVENT_READ)
    end = time.time() + HOLD
    while time.time() < end:
        for k, _ in sel.select(1):
            if k.fileobj is s:
                c, _ = s.accept(); sel.register(c, selectors.EVENT_READ)
                continue
            d = k.fileobj.recv(100)
            if d:
                k.fileobj.sendall(d)
            else:
                sel.unregister(k.fileobj); k.fileobj.close()
elif mode == "hold":            # a line, "ok1"; when GOFILE appears another line, "ok2"
    c = socket.create_connection((addr, int(sys.argv[4])), timeout=10)
    exchange(c, 1); print("ok1", flush=True)
    end = time.time() + HOLD
    while not os.path.exists(sys.argv[5]) and time.time() < end:
        time.sleep(0.05)
    exchange(c, 2); print("ok2", flush=True)
    time.sleep(HOLD)
elif mode == "fill":            # N connections, a line on each, one after the other; hold
    conns = []
    for i in range(int(sys.argv[5])):
        c = socket.create_connection((addr, int(sys.argv[4])), timeout=10)
        exchange(c, i); conns.append(c)
    print("ok", flush=True)
    time.sleep(HOLD)
elif mode == "udp":             # one datagram to each of N ports from PORT0 on: N new flows
    s = socket.socket(af, socket.SOCK_DGRAM)
    for p in range(int(sys.argv[4]), int(sys.argv[4]) + int(sys.argv[5])):
        s.sendto(b"x", (addr, p))
    print("ok", flush=True)
elif mode == "nofresh":         # a new connection must not come up
    try:
        socket.create_connection((addr, int(sys.argv[4])), timeout=2)
    except (socket.timeout, TimeoutError):
        print("ok", flush=True)
EOF

# py NS NAME ARGS...: the program in the background, output in $TMP_DIR/NAME.out.
py() {
	local ns=$1 name=$2
	shift 2
	timeout 50 ip netns exec "$ns" python3 "$PY" "$@" >"$TMP_DIR/$name.out" 2>&1 &
	PIDS+=($!)
}
# py_ok NAME WORD: wait (bounded) for the line WORD in its output.
py_ok() {
	local i
	for i in $(seq 100); do
		grep -qx "$2" "$TMP_DIR/$1.out" 2>/dev/null && { note "ok: $1 $2"; return 0; }
		sleep 0.1
	done
	fail "$1: no '$2'"
	sed 's/^/    /' "$TMP_DIR/$1.out" >&2
	return 1
}

CT_STAT=$STATDIR/net/stat/nf_conntrack
ct_stat() { stat_sum "$CT_STAT" "$1"; }
# stat_expect WHAT NAME VALUE: the stat file is rewritten every 100 ms; wait (bounded) for
# VALUE, then check it after two more rewrites (nothing more may come).
stat_expect() {
	local i
	for i in $(seq 30); do
		[ "$(ct_stat "$2")" = "$3" ] && break
		sleep 0.1
	done
	sleep 0.3
	assert_eq "$1: $2" "$3" "$(ct_stat "$2")"
}
full_logged() { grep -c 'nfqct: table full, dropping packet' "$NFQCTD_LOG"; }

PORT=5100
py "$NS_S" server server 4 "$S4" $PORT
wait_listen "$NS_S" tcp $PORT || exit 1

note "---- 1: an assured TCP connection, then 30 one-way UDP flows ----"
py "$NS_C" held hold 4 "$S4" $PORT "$TMP_DIR/go"
py_ok held ok1 || exit 1
py "$NS_C" udp1 udp 4 "$S4" 7000 30
py_ok udp1 ok
stat_expect "phase 1" early_drop 23
stat_expect "phase 1" drop 0
stat_expect "phase 1" entries 8
assert_eq "phase 1: table-full messages" 0 "$(full_logged)"

note "---- 2: 7 more TCP connections: the table holds 8 assured entries ----"
py "$NS_C" fill fill 4 "$S4" $PORT 7
py_ok fill ok || exit 1
stat_expect "phase 2" early_drop 30
stat_expect "phase 2" drop 0
stat_expect "phase 2" entries 8
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" 2>&1
sed 's/^/    /' "$TMP_DIR/list"
assert_eq "phase 2: assured ESTABLISHED TCP entries listed" 8 \
	"$(grep -c '^tcp .* ESTABLISHED .*\[ASSURED\]' "$TMP_DIR/list")"
assert_eq "phase 2: entries listed" 8 "$(grep -c . "$TMP_DIR/list")"

note "---- 3: 20 new UDP flows, nothing to evict ----"
py "$NS_C" udp2 udp 4 "$S4" 7100 10
py_ok udp2 ok
py "$NS_C" udp3 udp 6 "$S6" 7200 10
py_ok udp3 ok
stat_expect "phase 3" drop 20
stat_expect "phase 3" early_drop 30
stat_expect "phase 3" entries 8
assert_eq "phase 3: table-full messages (burst 1)" 1 "$(full_logged)"

note "---- 4: the first connection still works, a new one cannot start ----"
touch "$TMP_DIR/go"
py_ok held ok2
stat_expect "phase 4" drop 20
py "$NS_C" nofresh nofresh 4 "$S4" $PORT
py_ok nofresh ok
drop=$(ct_stat drop)
[ "$drop" -gt 20 ] || fail "the fresh connection's SYN was not counted as dropped (drop = $drop)"
stat_expect "phase 4" entries 8
stat_expect "phase 4" early_drop 30
assert_eq "phase 4: table-full messages" 1 "$(full_logged)"

# The held connections and the server: ours to end (quietly: no job notices).
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; { wait "$pid"; } 2>/dev/null; done
PIDS=()
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped (exit log) = table-full drops" "$drop" "$(log_sum dropped)"
finish
