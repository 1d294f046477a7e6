#!/usr/bin/env bash
# The table survives a restart and a crash. The router's FORWARD ruleset accepts NEW only from
# the client side (r0), so a flow whose entry is lost is dead for packets of the server: its
# first packet after the restart is NEW from r1 and meets the DROP policy.
#
# One TCP connection and one UDP exchange stay open throughout. In each round the server
# speaks first (a line on TCP, a datagram on UDP), the client answers on both, and the round
# is done when the server has both answers. Rounds:
#   1  baseline
#   2  after SIGTERM and a new start: the state file written at the stop
#   3  after kill -9 and a new start: the state file of the last interval (1 s)
#   4  after `nfqct save FILE`, `nfqct flush`, `nfqct restore FILE` (and the merge rules)
#   5  control: kill -9 and a start with nfqct.state_file=none must lose both flows
# Each restart must show the same entries (tuples, states, counters) in `nfqct list` as just
# before the stop, and `nfqctd --check` must report the file.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 ss iptables ip6tables
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }

RULES=$TMP_DIR/stateful.rules
cat >"$RULES" <<'EOF'
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i r0 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
EOF
STATE=$TMP_DIR/nfqct.state
ARGS=(-q 0:1 -r "$RULES" -o "nfqct.state_file=$STATE" -o nfqct.state_interval_s=1)

nfqctd_start "${ARGS[@]}" || exit 1
assert_eq "first start: no state file yet" 1 "$(grep -c 'state: no state file' "$NFQCTD_LOG")"
peers_start || exit 1

# The table without the timeout column (it moves), sorted.
table_now() { "$NFQCT" -s "$STATDIR" list | awk '{ $3 = ""; print }' | sort; }
# table: the table once the traffic has settled (two reads 0.3 s apart agree, bounded), so a
# late ACK of the last round cannot land between the snapshot and the stop
table() {
	local i prev cur
	prev=$(table_now)
	for i in $(seq 20); do
		sleep 0.3
		cur=$(table_now)
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	printf '%s\n' "$cur"
}

peer_round 1 1 "baseline"
table >"$TMP_DIR/before"
sed 's/^/    before: /' "$TMP_DIR/before"
assert_eq "entries: TCP and UDP" 2 "$(grep -c . "$TMP_DIR/before")"
assert_eq "TCP entry ESTABLISHED, ASSURED" 1 "$(grep -c "^tcp 6  ESTABLISHED src=$C4 dst=$S4 .*dport=5001 .*\[ASSURED\]" "$TMP_DIR/before")"

# (a) SIGTERM, start again: the file written at the stop
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "stop: table saved" 1 "$(grep -c "state: table saved to $STATE (2 entries)" "$NFQCTD_LOG")"
in_router "$NFQCTD" --check -q 0:1 -r "$RULES" -o "nfqct.state_file=$STATE" >"$TMP_DIR/check" 2>&1
assert_eq "--check exit status" 0 "$?"
sed 's/^/    check: /' "$TMP_DIR/check"
assert_eq "--check reports the file" 1 "$(grep -c "state file $STATE: OK, version 1, 2 entries" "$TMP_DIR/check")"
nfqctd_start "${ARGS[@]}" || exit 1
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "start: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries from $STATE" "$NFQCTD_LOG")"
table >"$TMP_DIR/after-term"
assert_pass diff -u "$TMP_DIR/before" "$TMP_DIR/after-term"
peer_round 2 1 "after SIGTERM and start"

# (b) kill -9 after the next interval save, start again
table >"$TMP_DIR/before-kill"
sleep 2.5                       # two interval saves (1 s) after round 2's last packet
kill -KILL "$NFQCTD_PID"
nfqctd_wait 5
nfqctd_start "${ARGS[@]}" || exit 1
grep 'state:' "$NFQCTD_LOG" | sed 's/^/    nfqctd: /'
assert_eq "start after kill -9: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries from $STATE" "$NFQCTD_LOG")"
table >"$TMP_DIR/after-kill"
assert_pass diff -u "$TMP_DIR/before-kill" "$TMP_DIR/after-kill"
peer_round 3 1 "after kill -9 and start"
table | sed 's/^/    after round 3: /'

# (c) at run time: save to a file, flush, restore; restore merges, --replace overwrites
table >"$TMP_DIR/before-save"
assert_pass "$NFQCT" -s "$STATDIR" save "$TMP_DIR/saved.state"
assert_eq "save: what it wrote" 1 "$(grep -c "state: saved [0-9]* bytes to $TMP_DIR/saved.state" "$TMP_DIR/cmd.out")"
assert_pass "$NFQCT" -s "$STATDIR" flush
assert_eq "flushed" 0 "$("$NFQCT" -s "$STATDIR" list | grep -c .)"
assert_pass "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/saved.state"
sed 's/^/    restore: /' "$TMP_DIR/cmd.out"
assert_eq "restore: loaded" 1 "$(grep -c "state: loaded 2 of 2 entries" "$TMP_DIR/cmd.out")"
table >"$TMP_DIR/after-restore"
assert_pass diff -u "$TMP_DIR/before-save" "$TMP_DIR/after-restore"
assert_pass "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/saved.state"
assert_eq "restore again: existing entries win" 1 "$(grep -c "state: loaded 0 of 2 entries.* 2 already in the table" "$TMP_DIR/cmd.out")"
assert_pass "$NFQCT" -s "$STATDIR" restore --replace "$TMP_DIR/saved.state"
assert_eq "restore --replace" 1 "$(grep -c "state: loaded 2 of 2 entries.* 0 already in the table" "$TMP_DIR/cmd.out")"
peer_round 4 1 "after flush and restore"
printf 'garbage' >"$TMP_DIR/bad.state"
assert_fail "$NFQCT" -s "$STATDIR" restore "$TMP_DIR/bad.state"
assert_eq "restore of a bad file: refused, says why" 1 "$(grep -c "refused: corrupt: not an nfqct state file" "$TMP_DIR/cmd.out")"

# (d) control: the same crash without a state file loses both flows
kill -KILL "$NFQCTD_PID"
nfqctd_wait 5
nfqctd_start -q 0:1 -r "$RULES" -o nfqct.state_file=none || exit 1
peer_round 5 0 "control: no state file, the flows die"

nfqctd_stop
finish
