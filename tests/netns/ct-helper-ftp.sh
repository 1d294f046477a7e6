#!/usr/bin/env bash
# FTP helper parity: the router runs kernel conntrack with the kernel's ftp helper assigned in
# its raw table (CT --helper ftp for port 21) AND queues FORWARD to nfqctd, whose ruleset does
# the same and accepts data connections only as RELATED to the ftp helper. Real FTP sessions
# (python's ftplib against a small FTP server in the server namespace): passive and active
# mode in IPv4 (PASV, PORT) and IPv6 (EPSV, EPRT), then a PASV/EPSV left pending. Then
# `nfqct list` = `conntrack -L`, `nfqct list --expect` = `conntrack -L expect` (no timeout
# column), and the expect_new/expect_create/expect_delete counters equal the kernel's.
. "$(dirname "$0")/lib.sh"
require_root_netns iptables ip6tables conntrack python3
topo_create
in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	{ fail "kernel conntrack accounting"; exit 1; }
kernel_rules router --queues 0 --no-notrack || { fail "kernel rules"; exit 1; }
for ipt in iptables ip6tables; do
	in_router "$ipt" -w -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp ||
		skip "the kernel's ftp helper is not available ($ipt -j CT --helper ftp)"
done

cat >"$TMP_DIR/ftp.rules" <<'EOF'
*raw
:PREROUTING ACCEPT
:OUTPUT ACCEPT
-A PREROUTING -p tcp --dport 21 -j CT --helper ftp
COMMIT
*filter
:INPUT ACCEPT
:FORWARD DROP
:OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
-A FORWARD -p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -p icmp -j ACCEPT
-A FORWARD -p ipv6-icmp -j ACCEPT
COMMIT
EOF
nfqctd_start -q 0 -r "$TMP_DIR/ftp.rules" -o nfqct.stat_interval_ms=200 || exit 1

#   srv FAM ADDR SESSIONS         an FTP server on port 21 for SESSIONS sessions, one at a time
#   cli FAM ADDR passive|active|pending
PY=$TMP_DIR/ftp.py
cat >"$PY" <<'EOF'
import ftplib, socket, sys, time
role, fam, addr = sys.argv[1:4]
af = socket.AF_INET6 if fam == "6" else socket.AF_INET
PAYLOAD = b"nfqct ftp helper test\n" * 50
HOLD = 45

def listener(host):
    s = socket.socket(af, socket.SOCK_STREAM)
    s.bind((host, 0)); s.listen(1); s.settimeout(10)
    return s

def session(c):
    f = c.makefile("rb")
    send = lambda s: c.sendall(s.encode() + b"\r\n")
    me = c.getsockname()[0]
    pasv = active = None
    send("220 nfqct test server")
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.decode().rstrip("\r\n")
        verb, _, arg = cmd.partition(" ")
        verb = verb.upper()
        if verb in ("USER", "PASS", "TYPE"):
            send({"USER": "331 password", "PASS": "230 logged in", "TYPE": "200 type"}[verb])
        elif verb == "PASV":
            pasv = listener(me); p = pasv.getsockname()[1]
            send("227 Entering Passive Mode (%s,%d,%d)." % (me.replace(".", ","), p >> 8, p & 255))
        elif verb == "EPSV":
            pasv = listener(me)
            send("229 Entering Extended Passive Mode (|||%d|)" % pasv.getsockname()[1])
        elif verb == "PORT":
            n = arg.split(",")
            active = (".".join(n[:4]), int(n[4]) * 256 + int(n[5])); send("200 port")
        elif verb == "EPRT":
            n = arg.split(arg[0])
            active = (n[2], int(n[3])); send("200 eprt")
        elif verb == "RETR":
            send("150 here it comes")
            if pasv:
                d, _ = pasv.accept(); pasv.close(); pasv = None
            else:
                d = socket.create_connection(active, timeout=10)
            d.sendall(PAYLOAD); d.close()
            send("226 done")
        elif verb == "QUIT":
            send("221 bye"); break
        else:
            send("502 not implemented")
    c.close()

if role == "srv":
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 21)); s.listen(4); s.settimeout(HOLD)
    print("listening", flush=True)
    for _ in range(int(sys.argv[4])):
        c, _ = s.accept(); c.settimeout(HOLD)
        session(c)
    sys.exit(0)

mode = sys.argv[4]
ftp = ftplib.FTP()
ftp.connect(addr, 21, timeout=10)
ftp.login("nfqct", "test")
if mode == "pending":
    ftp.set_pasv(True)
    ftp.makepasv()          # PASV (IPv4) / EPSV (IPv6) answered, no data connection
    print("ok", flush=True)
    time.sleep(HOLD)
    sys.exit(0)
ftp.set_pasv(mode == "passive")
got = []
ftp.retrbinary("RETR file", got.append)
assert b"".join(got) == PAYLOAD, "payload differs"
ftp.quit()
print("ok", flush=True)
EOF

wait_out() {
	local i
	for i in $(seq 150); do
		grep -qx "$2" "$TMP_DIR/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1: no '$2'"
	sed 's/^/    /' "$TMP_DIR/$1.out" >&2
	return 1
}
HELD=()
for fam in 4 6; do
	if [ "$fam" = 4 ]; then C=$C4 S=$S4; else C=$C6 S=$S6; fi
	timeout 60 ip netns exec "$NS_S" python3 "$PY" srv "$fam" "$S" 3 >"$TMP_DIR/srv$fam.out" 2>&1 &
	PIDS+=("$!"); HELD+=("$!")
	wait_out "srv$fam" listening || continue
	for mode in passive active pending; do
		timeout 60 ip netns exec "$NS_C" python3 "$PY" cli "$fam" "$S" "$mode" \
			>"$TMP_DIR/$mode$fam.out" 2>&1 &
		PIDS+=("$!")
		[ "$mode" = pending ] && HELD+=("$!")
		wait_out "$mode$fam" ok && note "ok: IPv$fam $mode FTP session"
	done
done

sleep 1
in_router conntrack -L >"$TMP_DIR/kernel.raw" 2>/dev/null
# (conntrack -L expect lists one family, IPv4 unless told)
{ in_router conntrack -L expect -f ipv4; in_router conntrack -L expect -f ipv6; } \
	>"$TMP_DIR/kexp.raw" 2>/dev/null
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/nfqct.raw" 2>"$TMP_DIR/nfqct.err" || fail "nfqct list"
"$NFQCT" -s "$STATDIR" list --expect >"$TMP_DIR/nexp.raw" 2>>"$TMP_DIR/nfqct.err" ||
	fail "nfqct list --expect"
cat "$TMP_DIR/nfqct.err" >&2

# the timeout column (3 for entries, 1 for expectations), use= and mark=0 go
normalise() {
	awk -v col="$2" '{
		out = ""
		for (i = 1; i <= NF; i++) {
			if (i == col || $i ~ /^use=/ || $i == "mark=0")
				continue
			out = out (out == "" ? "" : " ") $i
		}
		print out
	}' "$1" | LC_ALL=C sort
}
normalise "$TMP_DIR/kernel.raw" 3 >"$TMP_DIR/kernel.norm"
normalise "$TMP_DIR/nfqct.raw" 3 >"$TMP_DIR/nfqct.norm"
normalise "$TMP_DIR/kexp.raw" 1 >"$TMP_DIR/kexp.norm"
normalise "$TMP_DIR/nexp.raw" 1 >"$TMP_DIR/nexp.norm"
assert_same_table "nfqct list = conntrack -L" "$TMP_DIR/kernel.norm" "$TMP_DIR/nfqct.norm"
assert_same_table "nfqct list --expect = conntrack -L expect" "$TMP_DIR/kexp.norm" "$TMP_DIR/nexp.norm"
# 2 control + 2 data connections of the finished sessions and 1 pending control
# connection per family; one pending expectation per family
assert_eq "entries (kernel)" 10 "$(grep -c . "$TMP_DIR/kernel.norm")"
assert_eq "master entries with helper=ftp (kernel)" 6 "$(grep -c 'helper=ftp' "$TMP_DIR/kernel.norm")"
assert_eq "expectations (kernel)" 2 "$(grep -c . "$TMP_DIR/kexp.norm")"

sleep 0.5
for c in expect_new expect_create expect_delete; do
	k=$(stat_sum <(in_router cat /proc/net/stat/nf_conntrack) "$c")
	n=$(stat_sum "$STATDIR/net/stat/nf_conntrack" "$c")
	assert_eq "$c (kernel $k)" "$k" "$n"
done
assert_eq "expect_new (nfqct)" 4 "$(stat_sum "$STATDIR/net/stat/nf_conntrack" expect_new)"

for pid in ${HELD[@]+"${HELD[@]}"}; do kill "$pid" 2>/dev/null; { wait "$pid"; } 2>/dev/null; done
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "daemon: packets dropped" 0 "$(log_sum dropped)"
finish
