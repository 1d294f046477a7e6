#!/usr/bin/env bash
# Connection tracking parity: the router runs kernel conntrack (with accounting) AND queues
# FORWARD to nfqctd, so both trackers see the same packets. A traffic mix in IPv4 and IPv6
# (full TCP lifecycle, RST before reply, a held ESTABLISHED connection, simultaneous open,
# half-close, UDP one way and both ways, ICMP echo, ICMP port unreachable for a UDP flow)
# must leave the same table in both: `conntrack -L` and `nfqct list`, normalised (no timeout,
# no use=), identical line for line, packets= and bytes= included.
. "$(dirname "$0")/lib.sh"
require_root_netns ping ss iptables ip6tables conntrack python3
topo_create
count_install || { fail "count rules"; exit 1; }
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	{ fail "kernel conntrack accounting"; exit 1; }
kernel_rules router --queues 0:1 --no-notrack || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0:1 || exit 1

# The endpoints of every flow, one small Python program:
#   srv echo|hold|halfclose|udpecho|udpsink FAM ADDR PORT   a one-connection/one-datagram server
#   cli close|hold|halfclose|echo|refused|udp|udpecho|udpunreach FAM ADDR PORT [LADDR LPORT]
# It prints "ok" once its part is done; hold modes then keep their socket open (bounded).
PY=$TMP_DIR/ct-flow.py
cat >"$PY" <<'EOF'
import socket, sys, time
role, mode, fam, addr, port = sys.argv[1:6]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
port = int(port)
HOLD = 45
MSG = b"nfqct parity %s %s\n" % (mode.encode(), fam.encode())

def done(sock=None):
    print("ok", flush=True)
    if sock is not None:
        time.sleep(HOLD)        # keep the connection as it is until the test kills us

def line(c):
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(100)
        if not d:
            break
        buf += d
    return buf

def eof(c):
    while c.recv(100):
        pass

def passive(c, m):              # the side that answers
    if m == "echo":
        c.sendall(line(c)); eof(c); c.close(); done()
    elif m == "hold":
        c.sendall(line(c)); done(c)
    elif m == "halfclose":
        d = line(c); eof(c)     # the peer sent its line and shut down its write side
        c.sendall(b"bye " + d); done(c)

def active(c, m):               # the side that talks first
    c.sendall(MSG)
    if m == "close":
        assert line(c) == MSG; c.shutdown(socket.SHUT_WR); eof(c); c.close(); done()
    elif m == "hold":
        assert line(c) == MSG; done(c)
    elif m == "halfclose":
        c.shutdown(socket.SHUT_WR); assert line(c) == b"bye " + MSG; done(c)

if role == "srv" and mode.startswith("udp"):
    s = socket.socket(af, socket.SOCK_DGRAM)
    s.bind((addr, port)); s.settimeout(HOLD)
    d, peer = s.recvfrom(100)
    if mode == "udpecho":
        s.sendto(d, peer)
    done()
elif role == "srv":
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(1); s.settimeout(HOLD)
    c, _ = s.accept(); s.close(); c.settimeout(HOLD)
    passive(c, mode)
elif mode.startswith("udp"):
    s = socket.socket(af, socket.SOCK_DGRAM); s.settimeout(5)
    s.connect((addr, port)); s.send(MSG)
    if mode == "udpecho":
        assert s.recv(100) == MSG
    elif mode == "udpunreach":
        try:                    # the ICMP error comes back as ECONNREFUSED
            s.recv(100); sys.exit(1)
        except ConnectionRefusedError:
            pass
    done()
else:
    c = socket.socket(af, socket.SOCK_STREAM); c.settimeout(10)
    if len(sys.argv) > 7:       # fixed source: simultaneous open
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((sys.argv[6], int(sys.argv[7])))
    if mode == "refused":
        try:
            c.connect((addr, port)); sys.exit(1)
        except ConnectionRefusedError:
            done(); sys.exit(0)
    c.connect((addr, port))
    if mode == "echo":
        passive(c, "echo")
    else:
        active(c, mode)
EOF

# flow NS NAME ARGS...: run the program in a namespace, in the background, output in
# $TMP_DIR/NAME.out; its PID in FLOW_PID.
flow() {
	local ns=$1 name=$2
	shift 2
	timeout 50 ip netns exec "$ns" python3 "$PY" "$@" >"$TMP_DIR/$name.out" 2>&1 &
	FLOW_PID=$!
	PIDS+=("$FLOW_PID")
}
# flow_ok NAME: wait (bounded) for its "ok".
flow_ok() {
	local i
	for i in $(seq 100); do
		grep -qx ok "$TMP_DIR/$1.out" 2>/dev/null && { note "ok: flow $1"; return 0; }
		sleep 0.1
	done
	fail "flow $1 did not complete"
	sed 's/^/    /' "$TMP_DIR/$1.out" >&2
	return 1
}
HELD=()

for fam in 4 6; do
	if [ "$fam" = 4 ]; then C=$C4 S=$S4 ipt=iptables; else C=$C6 S=$S6 ipt=ip6tables; fi
	b=$((6000 + fam * 100))
	note "---- IPv$fam ----"

	# Full lifecycle: handshake, a line each way, FIN both ways: TIME_WAIT.
	flow "$NS_S" life$fam-s srv echo "$fam" "$S" $((b + 1)); wait_listen "$NS_S" tcp $((b + 1))
	flow "$NS_C" life$fam-c cli close "$fam" "$S" $((b + 1))
	flow_ok life$fam-c; flow_ok life$fam-s

	# SYN answered by RST (nothing listens): the kernel deletes the entry at once.
	flow "$NS_C" rst$fam cli refused "$fam" "$S" $((b + 2))
	flow_ok rst$fam

	# Left ESTABLISHED: both ends keep the socket open while the tables are compared.
	flow "$NS_S" est$fam-s srv hold "$fam" "$S" $((b + 3)); HELD+=("$FLOW_PID")
	wait_listen "$NS_S" tcp $((b + 3))
	flow "$NS_C" est$fam-c cli hold "$fam" "$S" $((b + 3)); HELD+=("$FLOW_PID")
	flow_ok est$fam-c; flow_ok est$fam-s

	# Simultaneous open, made deterministic: the server namespace drops the client's SYN
	# (after the router has seen it), so the client sits in SYN-SENT until the server's
	# own SYN to it crosses; then SYN/ACK, ACK, a line each way, close.
	in_server "$ipt" -w -A INPUT -p tcp --syn -s "$C" --sport $((b + 4)) --dport $((b + 5)) -j DROP
	flow "$NS_C" simo$fam-c cli close "$fam" "$S" $((b + 5)) "$C" $((b + 4))
	for i in $(seq 50); do
		in_client ss -H -tn state syn-sent "sport = :$((b + 4))" | grep -q . && break
		sleep 0.1
	done
	flow "$NS_S" simo$fam-s cli echo "$fam" "$C" $((b + 4)) "$S" $((b + 5))
	flow_ok simo$fam-c; flow_ok simo$fam-s

	# Half-close: the client shuts down its write side, the server answers and holds: CLOSE_WAIT.
	flow "$NS_S" half$fam-s srv halfclose "$fam" "$S" $((b + 6)); HELD+=("$FLOW_PID")
	wait_listen "$NS_S" tcp $((b + 6))
	flow "$NS_C" half$fam-c cli halfclose "$fam" "$S" $((b + 6)); HELD+=("$FLOW_PID")
	flow_ok half$fam-c; flow_ok half$fam-s

	# UDP one way (a sink that never answers: [UNREPLIED]) and both ways.
	flow "$NS_S" udp1$fam-s srv udpsink "$fam" "$S" $((b + 7)); wait_listen "$NS_S" udp $((b + 7))
	flow "$NS_C" udp1$fam-c cli udp "$fam" "$S" $((b + 7))
	flow_ok udp1$fam-c; flow_ok udp1$fam-s
	flow "$NS_S" udp2$fam-s srv udpecho "$fam" "$S" $((b + 8)); wait_listen "$NS_S" udp $((b + 8))
	flow "$NS_C" udp2$fam-c cli udpecho "$fam" "$S" $((b + 8))
	flow_ok udp2$fam-c; flow_ok udp2$fam-s

	# UDP to a closed port: port unreachable comes back (RELATED), the entry stays UNREPLIED.
	flow "$NS_C" unr$fam cli udpunreach "$fam" "$S" $((b + 9))
	flow_ok unr$fam

	assert_pass timeout 10 ip netns exec "$NS_C" ping "-$fam" -c 2 -i 0.2 -W 2 -q "$S"
done

# Traffic stopped (only idle held sockets left): let delayed ACKs go out, wait for the
# queues to drain, then both snapshots back to back.
sleep 1
for i in $(seq 20); do
	[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ] && break
	sleep 0.1
done
in_router conntrack -L >"$TMP_DIR/kernel.raw" 2>/dev/null
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/nfqct.raw" 2>"$TMP_DIR/nfqct.err" ||
	{ fail "nfqct list"; cat "$TMP_DIR/nfqct.err" >&2; }
note "forwarded packets (mangle counter): $(count_read)"

# Normalise: drop the timeout (3rd field), use=N, and mark= when only one side prints it;
# blanks collapsed; sorted.
strip_mark=0
if grep -q ' mark=' "$TMP_DIR/kernel.raw" && ! grep -q ' mark=' "$TMP_DIR/nfqct.raw" ||
	! grep -q ' mark=' "$TMP_DIR/kernel.raw" && grep -q ' mark=' "$TMP_DIR/nfqct.raw"; then
	strip_mark=1
fi
normalise() {
	awk -v sm="$strip_mark" '{
		out = ""
		for (i = 1; i <= NF; i++) {
			if (i == 3 || $i ~ /^use=/ || (sm && $i == "mark=0"))
				continue
			out = out (out == "" ? "" : " ") $i
		}
		print out
	}' "$1" | LC_ALL=C sort
}
normalise "$TMP_DIR/kernel.raw" >"$TMP_DIR/kernel.norm"
normalise "$TMP_DIR/nfqct.raw" >"$TMP_DIR/nfqct.norm"

assert_same_table "nfqct list = conntrack -L" "$TMP_DIR/kernel.norm" "$TMP_DIR/nfqct.norm"

# The kernel's table itself must be the expected one, or the parity proves little: per
# family 8 entries (lifecycle, established, simultaneous open, half-close, 2 UDP, UDP to a
# closed port, ping), and the right states.
assert_eq "entries (kernel)" 16 "$(grep -c . "$TMP_DIR/kernel.norm")"
assert_eq "entries (nfqct)" 16 "$(grep -c . "$TMP_DIR/nfqct.norm")"
for t in kernel nfqct; do
	f=$TMP_DIR/$t.norm
	for fam in 4 6; do
		b=$((6000 + fam * 100))
		st() { grep -E "^[a-z0-9]+ [0-9]+ (\S+ )?src=\S+ dst=\S+ sport=[0-9]+ dport=$1 " "$f" |
			awk '{ print $3 }'; }
		assert_eq "$t IPv$fam lifecycle state" TIME_WAIT "$(st $((b + 1)))"
		assert_eq "$t IPv$fam refused connection (deleted)" "" "$(st $((b + 2)))"
		assert_eq "$t IPv$fam held connection state" ESTABLISHED "$(st $((b + 3)))"
		assert_eq "$t IPv$fam simultaneous open state" TIME_WAIT "$(st $((b + 5)))"
		assert_eq "$t IPv$fam half-closed state" CLOSE_WAIT "$(st $((b + 6)))"
		assert_eq "$t IPv$fam UDP one way unreplied" 1 \
			"$(grep -c "dport=$((b + 7)) .*\[UNREPLIED\]" "$f")"
		assert_eq "$t IPv$fam UDP to a closed port unreplied" 1 \
			"$(grep -c "dport=$((b + 9)) .*\[UNREPLIED\]" "$f")"
		assert_eq "$t IPv$fam UDP both ways replied" 1 \
			"$(grep "dport=$((b + 8)) " "$f" | grep -vc UNREPLIED)"
	done
	assert_eq "$t ICMP echo entries" 2 "$(grep -cE '^(icmp 1|icmpv6 58) src=.* type=(8|128) code=0 ' "$f")"
done

for pid in ${HELD[@]+"${HELD[@]}"}; do kill "$pid" 2>/dev/null; { wait "$pid"; } 2>/dev/null; done
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
finish
