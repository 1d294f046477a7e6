#!/usr/bin/env bash
# A stateful router: FORWARD policy DROP, known flows (ESTABLISHED,RELATED) accepted, new ones
# only from the client side (r0). Connections from the client work both ways (TCP, UDP with
# replies, ping; IPv4 and IPv6) and never reach the policy (its counter stays [0:0]). New
# connections from the server side are blocked: TCP connects time out (bounded by timeout),
# UDP datagrams and pings never arrive in the client namespace, and the policy counter holds
# exactly the packets and bytes the server sent towards the client (counted by an iptables
# rule in the server namespace's OUTPUT chain; packet length = IP length on both sides).
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nc ss ping iptables ip6tables
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }

cat >"$TMP_DIR/policy.rules" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -j ACCEPT
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/policy.rules" || exit 1

# Independent counters: what the server sends to the client, what the client receives from
# the server. ipt_count NS CHAIN TAG: "packets:bytes" summed over both families.
for fam in iptables ip6tables; do
	c=$C4 s=$S4
	[ "$fam" = ip6tables ] && c=$C6 s=$S6
	in_server "$fam" -w -A OUTPUT -d "$c" -m comment --comment nfqct-test-out &&
		in_client "$fam" -w -A INPUT -s "$s" -m comment --comment nfqct-test-in ||
		{ fail "$fam counters"; exit 1; }
done
ipt_count() {
	local p=0 b=0 fam line
	for fam in iptables ip6tables; do
		line=$(ip netns exec "$1" "$fam" -w -L "$2" -v -x -n | awk -v t="$3" '$0 ~ t { print $1, $2 }')
		p=$((p + ${line% *})) b=$((b + ${line#* }))
	done
	echo "$p:$b"
}
# The running ruleset's counter of the FORWARD policy, "packets:bytes".
policy_count() {
	"$NFQCT" -s "$STATDIR" rules -c | sed -n 's/^:FORWARD DROP \[\([0-9]*:[0-9]*\)\]$/\1/p'
}

cat >"$TMP_DIR/echo.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, p))
for _ in range(n):
    d, peer = s.recvfrom(2048)
    s.sendto(d, peer)
PY
# client.py ADDR PORT COUNT [WAIT]: COUNT datagrams; with WAIT (the default), each waits for
# its echo, and the number of echoes that came back is printed.
cat >"$TMP_DIR/client.py" <<'PY'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
wait = len(sys.argv) < 5 or sys.argv[4] != "nowait"
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
ok = 0
for i in range(n):
    m = b"nfqct-policy%04d" % i
    s.sendto(m, (a, p))
    if not wait:
        continue
    try:
        if s.recv(2048) == m:
            ok += 1
    except socket.timeout:
        pass
print(ok)
PY
# connect.py ADDR PORT: one TCP connect, at most 2 s; prints connected, refused or timeout.
cat >"$TMP_DIR/connect.py" <<'PY'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect((a, p))
    s.sendall(b"from the server side\n")
    print("connected")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("error: %s" % e)
PY
udp_echo() {
	local pid
	timeout 20 ip netns exec "$NS_S" python3 "$TMP_DIR/echo.py" "$1" "$2" "$3" &
	pid=$!
	PIDS+=("$pid")
	wait_listen "$NS_S" udp "$2" || return 1
	assert_eq "UDP echoes from $1 port $2" "$3" \
		"$(timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" "$1" "$2" "$3")"
	wait "$pid"
}

# Phase 1: from the client side, everything works and nothing meets the policy.
assert_pass timeout 15 ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -q "$S4"
assert_pass timeout 15 ip netns exec "$NS_C" ping -6 -c 3 -i 0.2 -W 2 -q "$S6"
tcp_exchange "$S4" 5001 4
tcp_exchange "$S6" 5002 6
udp_echo "$S4" 5003 4
udp_echo "$S6" 5004 4
assert_eq "FORWARD policy counter after client-side traffic" "0:0" "$(policy_count)"
"$NFQCT" -s "$STATDIR" rules -c | sed 's/^/    rules: /'

# Phase 2: new connections from the server side. Listeners wait on the client, so a packet
# that got through would be answered (TCP connected, echo received).
out0=$(ipt_count "$NS_S" OUTPUT nfqct-test-out)
in0=$(ipt_count "$NS_C" INPUT nfqct-test-in)
pids=()
for spec in "4 $C4 6001" "6 $C6 6002"; do
	set -- $spec
	timeout 8 ip netns exec "$NS_C" nc "-$1" -l "$2" "$3" >"$TMP_DIR/rev.$3" 2>/dev/null &
	PIDS+=($!)
	pids+=($!)
	wait_listen "$NS_C" tcp "$3"
	timeout 8 ip netns exec "$NS_C" python3 "$TMP_DIR/echo.py" "$2" "$(($3 + 100))" 1 &
	PIDS+=($!)
	pids+=($!)
	udp_pid[$1]=$!
	wait_listen "$NS_C" udp "$(($3 + 100))"
done
for spec in "4 $C4 6001" "6 $C6 6002"; do
	set -- $spec
	# A 2 s connect: "timeout" when the SYNs are dropped (timeout(1) bounds it anyway).
	timeout 10 ip netns exec "$NS_S" python3 "$TMP_DIR/connect.py" "$2" "$3" >"$TMP_DIR/conn.$3" &
	tcp_pid[$1]=$!
	PIDS+=($!)
	assert_pass timeout 10 ip netns exec "$NS_S" python3 "$TMP_DIR/client.py" "$2" "$(($3 + 100))" 2 nowait
done
assert_fail timeout 10 ip netns exec "$NS_S" ping -c 2 -i 0.2 -W 1 -q "$C4"
assert_fail timeout 10 ip netns exec "$NS_S" ping -6 -c 2 -i 0.2 -W 1 -q "$C6"
for spec in "4 $C4 6001" "6 $C6 6002"; do
	set -- $spec
	wait "${tcp_pid[$1]}"
	assert_eq "TCP connect from the server side over IPv$1" timeout "$(cat "$TMP_DIR/conn.$3")"
done
for f in 6001 6002; do
	assert_eq "TCP data at the client's listener $f" "" "$(cat "$TMP_DIR/rev.$f")"
done
for f in 4 6; do
	kill -0 "${udp_pid[$f]}" 2>/dev/null ||
		fail "the client's UDP listener (IPv$f) is gone: it received a datagram"
done
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done

out1=$(ipt_count "$NS_S" OUTPUT nfqct-test-out)
in1=$(ipt_count "$NS_C" INPUT nfqct-test-in)
sent="$((${out1%:*} - ${out0%:*})):$((${out1#*:} - ${out0#*:}))"
note "server sent $sent (packets:bytes) towards the client"
[ "${sent%:*}" -ge 10 ] || fail "server sent only ${sent%:*} packets (1 SYN + 2 UDP + 2 ping at least, x2)"
assert_eq "packets from the server at the client in phase 2" 0 \
	"$((${in1%:*} - ${in0%:*}))"
assert_eq "FORWARD policy counter = what the server sent" "$sent" "$(policy_count)"
"$NFQCT" -s "$STATDIR" rules -c | sed 's/^/    rules: /'

assert_eq "queue 0 queue_dropped" 0 "$(queue_field 0 queue_dropped)"
assert_eq "queue 0 user_dropped" 0 "$(queue_field 0 user_dropped)"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped = the policy's" "${sent%:*}" "$(log_sum dropped)"
finish
