#!/usr/bin/env bash
# The conntrack command line on nfqct's table: kernel conntrack and nfqctd see the same
# packets (the parity topology); for each filter of conntrack(8), `nfqct list FILTER` must
# equal `conntrack -L FILTER` (normalised: no timeout, use=, id=), `-o extended` too;
# `nfqct count` equals the kernel's; `nfqct update --mark` marks what `conntrack -U` marks;
# `nfqct delete -s ADDR` removes exactly what `conntrack -D -s ADDR` removes; bad filters
# are refused with an error naming them.
. "$(dirname "$0")/lib.sh"
require_root_netns ping iptables ip6tables conntrack python3
topo_create
count_install || { fail "count rules"; exit 1; }
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	{ fail "kernel conntrack accounting"; exit 1; }
kernel_rules router --queues 0:1 --no-notrack || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0:1 || exit 1

# srv FAM ADDR: TCP 7001 (echo, hold), 7002 (echo, close), UDP 7003 (echo), UDP 7004 (sink).
# cli FAM ADDR: from fixed ports: two held TCP connections to 7001 (sport 7101, 7102), one
# closed to 7002 (sport 7103), UDP 7105->7003 answered, UDP 7106->7004 not. "ok", then hold.
PY=$TMP_DIR/ct-cli.py
cat >"$PY" <<'PYEOF'
import socket, sys, time, threading
role, fam, addr = sys.argv[1:4]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
HOLD = 50
def tcp_srv(port, hold):
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(4); s.settimeout(HOLD)
    keep = []
    while True:
        c, _ = s.accept()
        c.sendall(c.recv(100))
        if hold: keep.append(c)
        else:
            while c.recv(100): pass
            c.close()
def udp_srv(port, echo):
    s = socket.socket(af, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(HOLD)
    while True:
        d, peer = s.recvfrom(100)
        if echo: s.sendto(d, peer)
if role == "srv":
    for f, a in ((tcp_srv, (7001, True)), (tcp_srv, (7002, False)), (udp_srv, (7003, True)),
                 (udp_srv, (7004, False))):
        threading.Thread(target=f, args=a, daemon=True).start()
    print("ok", flush=True); time.sleep(HOLD); sys.exit(0)
la = sys.argv[4]
keep = []
for sport, dport, hold in ((7101, 7001, True), (7102, 7001, True), (7103, 7002, False)):
    c = socket.socket(af, socket.SOCK_STREAM); c.settimeout(10)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((la, sport)); c.connect((addr, dport)); c.sendall(b"x\n"); assert c.recv(100) == b"x\n"
    if hold: keep.append(c)
    else:
        c.shutdown(socket.SHUT_WR)
        while c.recv(100): pass
        c.close()
u = socket.socket(af, socket.SOCK_DGRAM); u.settimeout(5); u.bind((la, 7105))
u.sendto(b"u\n", (addr, 7003)); assert u.recv(100) == b"u\n"
u2 = socket.socket(af, socket.SOCK_DGRAM); u2.bind((la, 7106)); u2.sendto(b"v\n", (addr, 7004))
print("ok", flush=True); time.sleep(HOLD)
PYEOF

waitok() {
	local i
	for i in $(seq 100); do
		grep -qx ok "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no ok in $1"; cat "$1" >&2; return 1
}
for fam in 4 6; do
	if [ "$fam" = 4 ]; then C=$C4 S=$S4; else C=$C6 S=$S6; fi
	timeout 60 ip netns exec "$NS_S" python3 "$PY" srv "$fam" "$S" >"$TMP_DIR/srv$fam" 2>&1 &
	PIDS+=($!)
	waitok "$TMP_DIR/srv$fam" || exit 1
	wait_listen "$NS_S" tcp 7002 || exit 1
	timeout 60 ip netns exec "$NS_C" python3 "$PY" cli "$fam" "$S" "$C" >"$TMP_DIR/cli$fam" 2>&1 &
	PIDS+=($!)
	waitok "$TMP_DIR/cli$fam" || exit 1
	assert_pass timeout 10 ip netns exec "$NS_C" ping "-$fam" -c 1 -W 2 -q "$S"
done
sleep 1
for i in $(seq 20); do
	[ "$(queue_field 0 queue_total)$(queue_field 1 queue_total)" = 00 ] && break
	sleep 0.1
done

# normalise FILE: drop the timeout (the field after the protocol number), use=, id=; sorted.
normalise() {
	awk '{
		out = ""; t = ($1 == "ipv4" || $1 == "ipv6") ? 5 : 3
		for (i = 1; i <= NF; i++) {
			if (i == t || $i ~ /^(use|id)=/)
				continue
			out = out (out == "" ? "" : " ") $i
		}
		print out
	}' "$1" | LC_ALL=C sort
}
# compare WHAT ARGS...: conntrack -L ARGS vs nfqct list ARGS.
compare() {
	local what=$1
	shift
	in_router conntrack -L "$@" >"$TMP_DIR/k.raw" 2>/dev/null
	"$NFQCT" -s "$STATDIR" list "$@" >"$TMP_DIR/n.raw" 2>"$TMP_DIR/n.err" ||
		{ fail "nfqct list $*"; cat "$TMP_DIR/n.err" >&2; return; }
	normalise "$TMP_DIR/k.raw" >"$TMP_DIR/k.norm"
	normalise "$TMP_DIR/n.raw" >"$TMP_DIR/n.norm"
	[ -s "$TMP_DIR/k.norm" ] || [ "$what" = empty ] || fail "conntrack -L $* shows nothing: the test proves little"
	assert_same_table "list $what ($*)" "$TMP_DIR/k.norm" "$TMP_DIR/n.norm"
}

compare all
assert_eq "entries (kernel)" 12 "$(wc -l <"$TMP_DIR/k.norm")"
compare family -f ipv4
compare family -f ipv6
compare proto -p tcp
compare proto -p udp
compare proto -p icmp
compare proto -p icmpv6
compare orig-src -s "$C4"
compare orig-src -s "$C6"
compare orig-dst -d "$S4"
compare orig-src-prefix -s 198.18.0.0/24
compare orig-dst-prefix -d 2001:db8:1::/64
compare reply-src -r "$S6"
compare reply-dst -q "$C4"
compare src+dst -s "$C6" -d "$S6" -p udp
compare sport -p tcp --sport 7102
compare dport -p tcp --dport 7001
compare reply-port-src -p udp --reply-port-src 7003
compare reply-port-dst -p tcp --reply-port-dst 7103
compare state -p tcp --state ESTABLISHED
compare state -p tcp --state TIME_WAIT
compare status -u ASSURED
compare status -u SEEN_REPLY
compare zone --zone 0
compare mark --mark 0
compare extended -o extended
compare extended -o extended -p udp
compare id -o id -f ipv6
compare empty -p tcp --dport 9

# -o id: every line has an id, and ids are distinct
"$NFQCT" -s "$STATDIR" list -o id >"$TMP_DIR/ids"
assert_eq "distinct ids" 12 "$(grep -o ' id=[0-9]*$' "$TMP_DIR/ids" | sort -u | wc -l)"

# count
assert_eq "count" "$(in_router conntrack -C)" "$("$NFQCT" -s "$STATDIR" count)"
assert_eq "count -p tcp" "$(in_router conntrack -L -p tcp 2>/dev/null | wc -l)" \
	"$("$NFQCT" -s "$STATDIR" count -p tcp)"

# update --mark: the same entries get the mark
in_router conntrack -U -p udp -s "$C4" --mark 7 >/dev/null 2>&1
assert_pass "$NFQCT" -s "$STATDIR" update -p udp -s "$C4" --mark 7
compare after-update --mark 7
compare after-update --mark 0

# delete -s: removes exactly what conntrack -D -s removes, and prints it
in_router conntrack -D -s "$C4" >"$TMP_DIR/kd.raw" 2>/dev/null
"$NFQCT" -s "$STATDIR" delete -s "$C4" >"$TMP_DIR/nd.raw" 2>"$TMP_DIR/nd.err"
normalise "$TMP_DIR/kd.raw" >"$TMP_DIR/kd.norm"
normalise "$TMP_DIR/nd.raw" >"$TMP_DIR/nd.norm"
assert_same_table "delete -s $C4 (the lines printed)" "$TMP_DIR/kd.norm" "$TMP_DIR/nd.norm"
assert_eq "delete summary" "nfqct: $(wc -l <"$TMP_DIR/kd.norm") flow entries have been deleted." \
	"$(cat "$TMP_DIR/nd.err")"
compare after-delete
assert_eq "entries left" 6 "$(wc -l <"$TMP_DIR/k.norm")"

# bad input: refused with the word named
bad() {
	local want=$1
	shift
	if "$NFQCT" -s "$STATDIR" "$@" >"$TMP_DIR/bad.out" 2>&1; then
		fail "nfqct $* succeeded"
	elif grep -qF -- "$want" "$TMP_DIR/bad.out"; then
		note "ok (refused): nfqct $*: $(cat "$TMP_DIR/bad.out")"
	else
		fail "nfqct $*: message lacks '$want': $(cat "$TMP_DIR/bad.out")"
	fi
}
bad "unknown option '--frob'" list --frob 1
bad "bad address '198.18.0.999'" list -s 198.18.0.999
bad "bad port '70000'" list -p tcp --dport 70000
bad "contradicts" list -s "$C4" -d "$S6"
bad "--all" delete
bad "--state needs -p tcp" count --state ESTABLISHED
assert_eq "entries after refused commands" 6 "$("$NFQCT" -s "$STATDIR" count)"
assert_pass "$NFQCT" -s "$STATDIR" delete --all
assert_eq "entries after delete --all" 0 "$("$NFQCT" -s "$STATDIR" count)"

nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
