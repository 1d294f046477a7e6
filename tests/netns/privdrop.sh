#!/usr/bin/env bash
# nfqctd -u USER: after the start-up the daemon runs as USER with CAP_NET_ADMIN only, in
# every thread, and nothing it does later needs more:
#   1  -u nosuchuser is refused (exit 1, the reason)
#   2  -u nobody: /proc/PID/status and every thread's: uid/gid nobody; nfqctd's threads
#      (main, workers, housekeeping, events) CapEff = CapPrm = CapAmb = CAP_NET_ADMIN (0x1000)
#      with an empty bounding set; any other thread (liburcu's, started before the switch)
#      has no capability at all
#   3  verdicts (a TCP exchange through the router), `nfqct list` (control socket), the
#      stat tree rewritten after the switch
#   4  a reload (SIGHUP) reads the new ruleset and applies it: port 5003 refused after it
#   5  `nfqct upgrade` re-executes in place: same pid, still nobody with CAP_NET_ADMIN
#      (ambient), traffic still judged
#   6  the stop saves the table to the state file, in a directory nfqctd made for nobody
. "$(dirname "$0")/lib.sh"
require_root_netns nc
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
# nobody must read the rules and settings (mktemp -d makes TMP_DIR 0700)
chmod 755 "$TMP_DIR"
RULES=$TMP_DIR/fw.rules
cat >"$RULES" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -p tcp -m multiport --dports 5001:5003 -j ACCEPT
COMMIT
EOF
chmod 644 "$RULES"
STATE=$TMP_DIR/state/nfqct.state
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)

# 1
out=$(ip netns exec "$NS_R" "$NFQCTD" -f -u nfqct-no-such-user -r "$RULES" -s "$TMP_DIR/x" 2>&1)
assert_eq "-u nfqct-no-such-user: exit status" 1 "$?"
assert_eq "-u nfqct-no-such-user: message" "nfqctd: --user: no such user 'nfqct-no-such-user'" "$out"

# 2
nfqctd_start -q 0:1 -u nobody -r "$RULES" -o "nfqct.state_file=$STATE" -p "$TMP_DIR/nfqctd.pid" ||
	exit 1
PID0=$NFQCTD_PID
assert_pass grep -q "running as nobody (uid $NOBODY, gid $NOGROUP) with CAP_NET_ADMIN only" "$NFQCTD_LOG"
# status_of PID: "uid gid capeff capprm capamb capbnd" of a task
status_of() {
	awk '/^Uid:/ { u = $2 "/" $3 "/" $4 "/" $5 } /^Gid:/ { g = $2 "/" $3 "/" $4 "/" $5 }
	     /^CapEff:/ { e = $2 } /^CapPrm:/ { p = $2 } /^CapAmb:/ { a = $2 } /^CapBnd:/ { b = $2 }
	     END { print u, g, e, p, a, b }' "$1"
}
ids="$NOBODY/$NOBODY/$NOBODY/$NOBODY $NOGROUP/$NOGROUP/$NOGROUP/$NOGROUP"
want="$ids 0000000000001000 0000000000001000 0000000000001000 0000000000000000"
check_tasks() {
	local t n=0 got
	for t in /proc/"$NFQCTD_PID"/task/*; do
		got=$(status_of "$t/status")
		case $got in
		"$want") n=$((n + 1)); note "ok: $1: task ${t##*/}: $got" ;;
		"$ids 0000000000000000 0000000000000000 "*) note "ok: $1: task ${t##*/}: no capability: $got" ;;
		*) fail "$1: task ${t##*/}: uid gid CapEff CapPrm CapAmb CapBnd: '$got'" ;;
		esac
	done
	# main, 2 workers, housekeeping, events
	[ "$n" -ge 5 ] || fail "$1: $n threads with CAP_NET_ADMIN, expected at least 5"
}
check_tasks "after the start"
assert_eq "no supplementary groups" "" "$(awk '/^Groups:/ { $1 = ""; print substr($0, 2) }' /proc/"$NFQCTD_PID"/status)"

# 3
tcp_exchange "$S4" 5001 4
"$NFQCT" -s "$STATDIR" list >"$TMP_DIR/list" || fail "nfqct list"
assert_eq "nfqct list: the exchange's entry" 1 "$(grep -c 'dport=5001 .*ASSURED' "$TMP_DIR/list")"
assert_eq "the stat tree is nobody's" "$NOBODY" "$(stat -c %u "$STATDIR/net/stat/nf_conntrack")"
before=$(stat -c %Y.%y "$STATDIR/net/stat/nf_conntrack")
for i in $(seq 40); do
	[ "$(stat -c %Y.%y "$STATDIR/net/stat/nf_conntrack")" != "$before" ] && break
	sleep 0.1
done
assert_pass test "$(stat -c %Y.%y "$STATDIR/net/stat/nf_conntrack")" != "$before"

# 4
sed -i 's/^COMMIT$/-I FORWARD -p tcp --dport 5003 -j DROP\nCOMMIT/' "$RULES"
nfqctd_signal HUP
for i in $(seq 50); do grep -q "reload: done" "$NFQCTD_LOG" && break; sleep 0.1; done
assert_pass grep -q "reload: done" "$NFQCTD_LOG"
assert_pass timeout 10 ip netns exec "$NS_S" true
timeout 5 ip netns exec "$NS_S" nc -4 -l "$S4" 5003 >/dev/null 2>&1 &
PIDS+=($!)
wait_listen "$NS_S" tcp 5003
assert_fail timeout 3 ip netns exec "$NS_C" nc -4 -z -w 2 "$S4" 5003
assert_eq "the new rule counted the refused SYNs" 1 \
	"$("$NFQCT" -s "$STATDIR" rules -c | grep -c '^\[[1-9][0-9]*:[0-9]*\] -A FORWARD -p tcp -m tcp --dport 5003 -j DROP')"

# 5
"$NFQCT" -s "$STATDIR" upgrade >"$TMP_DIR/upgrade.out" 2>&1 || { fail "nfqct upgrade"; cat "$TMP_DIR/upgrade.out" >&2; }
for i in $(seq 50); do grep -q "upgrade: now running" "$NFQCTD_LOG" && break; sleep 0.1; done
assert_eq "same pid after the upgrade" "$PID0" "$(cat "$TMP_DIR/nfqctd.pid")"
assert_pass kill -0 "$PID0"
check_tasks "after the upgrade"
tcp_exchange "$S4" 5002 4

# 6
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
assert_eq "state directory: nobody's, 0700" "$NOBODY 700" "$(stat -c '%u %a' "$TMP_DIR/state")"
assert_pass test -s "$STATE"
finish
