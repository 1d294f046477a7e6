#!/usr/bin/env bash
# Sets and --kill-flows (issue 11 item 4): nfqctd loads a 50,000-element hash:net blocklist
# (--sets, `ipset save` format) and a ruleset that accepts ESTABLISHED traffic before it
# drops blocklisted sources:
#   r1  -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
#   r2  -m set --match-set blocklist src -j DROP
# A client in the router's INPUT path holds an established TCP connection (an echo server
# in the router).  `nfqct set add blocklist CLIENT --kill-flows` deletes its entry (counted
# as a delete, as `nfqct delete`): `nfqct list` no longer has it, and the very next packet
# of that connection is dropped (no longer ESTABLISHED: as INVALID, or by r2): no echo
# comes back.  A second client address, added with --keep-flows, keeps its connection: the cut
# is the option's doing.  Then the commands themselves: set test/del/list/save, a full set
# refusing with ipset's message, a bad set file refused at a reload (the running sets and
# their run-time additions stay), and the stat tree (net/stat/nfqct_sets).
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ss
topo_create
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }
# a second client address on the same link
in_client ip addr add 198.18.0.3/24 dev "$(in_client ip -o -4 addr show | awk '$4 == "198.18.0.2/24" { print $2 }')" ||
	fail "second client address"

{
	echo "create blocklist hash:net family inet hashsize 65536 maxelem 60000"
	# 50,000 addresses of 198.19.0.0/16 (none of the test's hosts)
	python3 -c '
for i in range(50000):
    print("add blocklist 198.19.%d.%d" % (i >> 8, i & 255))'
	echo "create small hash:ip family inet maxelem 1"
} >"$TMP_DIR/sets"
cat >"$TMP_DIR/sets.rules" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment r1 -j ACCEPT
-A INPUT -m set --match-set blocklist src -m comment --comment r2 -j DROP
COMMIT
EOF
nfqctd_start -r "$TMP_DIR/sets.rules" --sets "$TMP_DIR/sets" || exit 1
set_cmd() { "$NFQCT" -s "$STATDIR" set "$@"; }

assert_eq "50,000 elements loaded" "Number of entries: 50000" \
	"$(set_cmd list blocklist | grep '^Number of entries')"

cat >"$TMP_DIR/echo.py" <<'PY'
import signal, socket, threading
signal.alarm(60)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 7300))
s.listen(8)
def serve(c):
    while True:
        d = c.recv(100)
        if not d:
            return
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# the client: connect from SRC, echo "a", then wait for "go" on stdin and echo "b"
cat >"$TMP_DIR/client.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((sys.argv[1], 0))
s.settimeout(3)
s.connect(("198.18.0.1", 7300))
s.sendall(b"a")
print("first:" + s.recv(10).decode(), flush=True)
sys.stdin.readline()
s.sendall(b"b")
try:
    print("second:" + s.recv(10).decode(), flush=True)
except OSError:
    print("second:none", flush=True)
PY
in_router python3 "$TMP_DIR/echo.py" &
PIDS+=($!)
wait_listen "$NS_R" tcp 7300 || exit 1

mkfifo "$TMP_DIR/go2" "$TMP_DIR/go3"
timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" 198.18.0.2 <"$TMP_DIR/go2" >"$TMP_DIR/out2" &
c2=$!
timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/client.py" 198.18.0.3 <"$TMP_DIR/go3" >"$TMP_DIR/out3" &
c3=$!
exec 7>"$TMP_DIR/go2" 8>"$TMP_DIR/go3"
for i in $(seq 50); do
	[ "$(cat "$TMP_DIR/out2" "$TMP_DIR/out3" | grep -c '^first:a')" -eq 2 ] && break
	sleep 0.1
done
assert_eq "both connections established" "2" "$(cat "$TMP_DIR/out2" "$TMP_DIR/out3" | grep -c '^first:a')"
entries() { "$NFQCT" -s "$STATDIR" list 2>/dev/null | grep -c "src=$1 dst=198.18.0.1 sport=[0-9]* dport=7300"; }
assert_eq "an entry for 198.18.0.2" 1 "$(entries 198.18.0.2)"

assert_eq "ban 198.18.0.2 with --kill-flows" "nfqct: 1 flow entries have been deleted." \
	"$(set_cmd add blocklist 198.18.0.2 --kill-flows)"
assert_eq "its entry is gone" 0 "$(entries 198.18.0.2)"
assert_eq "ban 198.18.0.3 with --keep-flows" "" "$(set_cmd add blocklist 198.18.0.3 --keep-flows)"
assert_eq "198.18.0.3's entry stays" 1 "$(entries 198.18.0.3)"
echo go >&7
echo go >&8
exec 7>&- 8>&-
wait "$c2" "$c3"
assert_eq "the cut connection's next packet is dropped" "second:none" "$(grep '^second' "$TMP_DIR/out2")"
assert_eq "the kept connection still echoes" "second:b" "$(grep '^second' "$TMP_DIR/out3")"
# dropped before any entry came back: as INVALID (a mid-stream segment), or by r2
assert_eq "no entry came back for 198.18.0.2" 0 "$(entries 198.18.0.2)"

# commands, as ipset's
assert_eq "set test" "198.18.0.2 is in set blocklist." "$(set_cmd test blocklist 198.18.0.2)"
assert_fail set_cmd test blocklist 198.18.0.9
assert_pass set_cmd del blocklist 198.18.0.3
assert_eq "set del twice" "Element cannot be deleted from the set: it's not added" \
	"$(set_cmd del blocklist 198.18.0.3 2>&1)"
assert_pass set_cmd add small 198.18.0.5
assert_eq "a full set" "Hash is full, cannot add more elements" "$(set_cmd add small 198.18.0.6 2>&1)"
assert_eq "the wrong family" "'2001:db8::1' is an IPv6 address; the set is family inet" \
	"$(set_cmd add small 2001:db8::1 2>&1)"
assert_eq "an unknown set" "The set with the given name does not exist: 'nosuch'" \
	"$(set_cmd add nosuch 198.18.0.1 2>&1)"
assert_eq "set save small" "create small hash:ip family inet hashsize 1024 maxelem 1
add small 198.18.0.5" "$(set_cmd save small)"

# the stat tree: one line per set
want="type entries maxelem memsize references
00000001 0000c351 0000ea60
00000000 00000001 00000001"
sets_stat() { sed '2,$s/^\([^ ]* [^ ]* [^ ]*\) .*/\1/' "$STATDIR/net/stat/nfqct_sets" 2>/dev/null; }
for i in $(seq 100); do
	[ "$(sets_stat)" = "$want" ] && break
	sleep 0.1
done
assert_eq "net/stat/nfqct_sets: types, entries, maxelem" "$want" "$(sets_stat)"
assert_eq "nfqct stat: the set's line" "blocklist type=hash:net entries=50001 maxelem=60000" \
	"$("$NFQCT" -s "$STATDIR" stat | sed -n 's/^nfqct_sets: \(blocklist .* maxelem=[0-9]*\) .*/\1/p')"
assert_eq "nfqct_sets.names" "blocklist
small" "$(cat "$STATDIR/net/nfqct_sets.names")"

"$NFQCT" -s "$STATDIR" stat --json >"$TMP_DIR/stat.json" || fail "nfqct stat --json"
assert_eq "nfqct stat --json: nfqct_sets" '["blocklist", "hash:net", 50001, 60000]' \
	"$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["nfqct_sets"][0]; print(json.dumps([s["name"], s["type"], s["entries"], s["maxelem"]]))' "$TMP_DIR/stat.json")"

# set restore from standard input: all of it or nothing
printf 'create extra hash:ip family inet\nadd extra 198.18.0.9\nadd small 198.18.0.5\n' |
	"$NFQCT" -s "$STATDIR" set restore || fail "set restore from stdin"
assert_eq "restored set" "198.18.0.9 is in set extra." "$(set_cmd test extra 198.18.0.9)"
printf 'create extra2 hash:ip family inet\nadd extra2 198.18.0.9\nadd nosuch 198.18.0.1\n' |
	"$NFQCT" -s "$STATDIR" set restore >"$TMP_DIR/restore.out" 2>&1 && fail "a bad restore was taken"
grep -q ':3:5: error: The set with the given name does not exist: .nosuch.' "$TMP_DIR/restore.out" ||
	{ fail "the restore's error"; cat "$TMP_DIR/restore.out" >&2; }
assert_fail set_cmd test extra2 198.18.0.9

# a bad set file at a reload: refused, the running sets (and run-time additions) stay
cp "$TMP_DIR/sets" "$TMP_DIR/sets.good"
echo "add blocklist 2001:db8::1" >>"$TMP_DIR/sets"
"$NFQCT" -s "$STATDIR" reload >"$TMP_DIR/reload.out" 2>&1 && fail "a bad set file was taken"
grep -qF "$TMP_DIR/sets:50003:15: error: '2001:db8::1' is an IPv6 address; the set is family inet" "$TMP_DIR/reload.out" ||
	{ fail "the reload's error"; cat "$TMP_DIR/reload.out" >&2; }
assert_eq "198.18.0.2 still banned" "198.18.0.2 is in set blocklist." "$(set_cmd test blocklist 198.18.0.2)"
# a good one: the file is the truth for its sets
cp "$TMP_DIR/sets.good" "$TMP_DIR/sets"
assert_pass "$NFQCT" -s "$STATDIR" reload
assert_fail set_cmd test blocklist 198.18.0.2

nfqctd_stop
finish
