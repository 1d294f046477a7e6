#!/usr/bin/env bash
# ctl-abuse.sh - the control socket under abuse (issue 14's fault campaign; `make stress`).
#   1  a non-root user is refused (the socket is 0600: connect() gets EACCES)
#   2  an oversized request (64 KiB, no newline), a truncated one (no newline, then close),
#      binary garbage with a newline: each gets its error or is dropped, the daemon goes on
#   3  5 clients that connect and never send, and 1 that asks for `list` of a 20,000-entry
#      table and never reads: the main thread gives each up after NFQCT_CTL_TIMEOUT_MS
#      (2 s); a well-behaved `nfqct rules` started behind them is answered (its wait is the
#      figure), and the workers never stop: a ping flood through the router meanwhile loses
#      nothing
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns python3 setpriv ping
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
nfqctd_start -o net.netfilter.nf_conntrack_max=100000 || exit 1
SOCK=$STATDIR/nfqct.sock

# 1
chmod 755 "$TMP_DIR"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$NFQCT" -s "$STATDIR" rules 2>&1)
assert_eq "non-root: exit status" 2 "$?"
case $out in *"Permission denied"*) note "ok: non-root refused: $out" ;; *) fail "non-root: $out" ;; esac

# 2: raw requests
cat >"$TMP_DIR/raw.py" <<'PY'
import socket, sys
path, what = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
if what == "oversized":
    try:
        s.sendall(b"x" * 65536)
    except OSError:
        pass
elif what == "truncated":
    s.sendall(b"lis")
    s.close()
    sys.exit(0)
elif what == "garbage":
    s.sendall(bytes(range(1, 10)) + b"\xff\xfe\n")
data = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
except OSError as e:
    data += b"<" + str(e).encode() + b">"
print(data.decode(errors="replace").splitlines()[0:2])
PY
assert_eq "oversized request" "['error', 'command too long']" "$(timeout 10 python3 "$TMP_DIR/raw.py" "$SOCK" oversized)"
assert_pass timeout 10 python3 "$TMP_DIR/raw.py" "$SOCK" truncated
got=$(timeout 10 python3 "$TMP_DIR/raw.py" "$SOCK" garbage)
case $got in "['error', \"unknown command"*) note "ok: garbage: $got" ;; *) fail "garbage: $got" ;; esac
assert_pass kill -0 "$NFQCTD_PID"

# 3: a table of 20,000 entries (UDP flows from the client), so `list` is long
cat >"$TMP_DIR/flows.py" <<'PY'
import socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 20000 + i))
    s.sendto(b"x", (addr, 9))
    s.close()
PY
timeout 60 ip netns exec "$NS_C" python3 "$TMP_DIR/flows.py" "$S4" 20000
entries=$("$NFQCT" -s "$STATDIR" count 2>/dev/null || echo 0)
note "table: $entries entries"
[ "$entries" -ge 19000 ] || fail "table: expected ~20000 entries, got $entries"

cat >"$TMP_DIR/hold.py" <<'PY'
import socket, sys, time
path, mode, secs, mark = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(path)
if mode == "noread":
    s.sendall(b"list\n")
open(mark, "w").close()
time.sleep(secs)
PY
ip netns exec "$NS_C" ping -q -i 0.01 -c 1500 -W 1 "$S4" >"$TMP_DIR/ping" 2>&1 &
pinger=$!
PIDS+=("$pinger")
sleep 0.5
# one after the other, so that they queue in this order in the listen backlog
for i in 1 2 3 4 5 6; do
	mode=silent
	[ "$i" -eq 6 ] && mode=noread
	python3 "$TMP_DIR/hold.py" "$SOCK" "$mode" 20 "$TMP_DIR/held.$i" &
	PIDS+=($!)
	for j in $(seq 100); do [ -e "$TMP_DIR/held.$i" ] && break; sleep 0.05; done
	[ -e "$TMP_DIR/held.$i" ] || fail "abusive client $i did not connect"
done
t0=$(date +%s%N)
out=$(timeout 30 "$NFQCT" -s "$STATDIR" rules 2>&1)
t1=$(date +%s%N)
assert_eq "well-behaved client answered" "*raw" "$(printf '%s\n' "$out" | head -n1)"
wait_ms=$(( (t1 - t0) / 1000000 ))
note "a well-behaved client behind 6 abusive ones waited $wait_ms ms (each abusive one: at most 2000 ms)"
# 5 silent clients and the non-reader, 2 s each at most, are ahead of it
[ "$wait_ms" -le 15000 ] || fail "waited $wait_ms ms, more than 6 x 2 s and a margin"
[ "$wait_ms" -ge 1000 ] || fail "waited only $wait_ms ms: the abusive clients did not hold the socket (test broken?)"
wait "$pinger"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TMP_DIR/ping")
note "ping flood through the router meanwhile: $(grep -o '[0-9]* packets transmitted, [0-9]* received' "$TMP_DIR/ping")"
assert_eq "ping loss while the main thread was held" 0 "$loss"
assert_pass kill -0 "$NFQCTD_PID"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
