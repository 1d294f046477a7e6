#!/usr/bin/env bash
# stat-full.sh - the stat tree on a full 1 MiB tmpfs (issue 14's fault campaign; `make
# stress`). nfqctd runs in a mount namespace of its own (unshare -m) whose stat directory
# is a 1 MiB tmpfs; once it runs, a file fills the tmpfs. For 10 s of traffic:
#   forwarding is unaffected (a ping flood through the router loses nothing), the daemon
#   stays up, the failed writes are logged once and then at most once a minute (so 1 line
#   here, not one per stat interval), with their count; then the filler goes and the next
#   write works again, logged with the number of writes that failed.
. "$(dirname "$0")/../netns/lib.sh"
require_root_netns unshare nsenter ping
topo_create
kernel_rules router --queues 0 || { fail "kernel rules"; exit 1; }
[ -x "$NFQCTD" ] || skip "nfqctd not built"
mkdir -p "$STATDIR"
NFQCTD_LOG=$TMP_DIR/nfqctd.log
printf '%s\n' "$ACCEPT_RULES_TEXT" >"$TMP_DIR/accept.rules"
# the daemon and its tmpfs in a private mount namespace (the mount is gone with it)
ip netns exec "$NS_R" unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=1m nfqct-stat "$1" && exec "$2" -f -s "$1" -r "$3" \
		-o nfqct.stat_interval_ms=100 -o "nfqct.state_file=none"' sh \
	"$STATDIR" "$NFQCTD" "$TMP_DIR/accept.rules" >"$NFQCTD_LOG" 2>&1 &
NFQCTD_PID=$!
for i in $(seq 100); do grep -q ready "$NFQCTD_LOG" && break; sleep 0.1; done
grep -q ready "$NFQCTD_LOG" || { fail "nfqctd not ready"; cat "$NFQCTD_LOG" >&2; exit 1; }
# nfqctd is `sh`'s exec: the same pid; its mount namespace is where the stat tree is
in_daemon() { nsenter -t "$NFQCTD_PID" -m "$@"; }
assert_eq "stat dir is a tmpfs there" tmpfs "$(in_daemon stat -f -c %T "$STATDIR")"

in_daemon dd if=/dev/zero of="$STATDIR/filler" bs=4k count=1000 2>/dev/null
note "tmpfs: $(in_daemon df -k "$STATDIR" | tail -1)"
ip netns exec "$NS_C" ping -q -i 0.01 -c 1000 -W 1 "$S4" >"$TMP_DIR/ping" 2>&1
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TMP_DIR/ping")
assert_eq "ping loss while the stat tree is full" 0 "$loss"
assert_pass kill -0 "$NFQCTD_PID"
lines=$(grep -c '^stat: .*write.* failed so far' "$NFQCTD_LOG")
note "log lines about the full stat tree in 10 s at a 100 ms interval: $lines"
assert_eq "failed writes logged once (rate-limited)" 1 "$lines"
grep '^stat: ' "$NFQCTD_LOG" | sed 's/^/    log: /'

in_daemon rm -f "$STATDIR/filler"
for i in $(seq 50); do grep -q 'stat: writing again after' "$NFQCTD_LOG" && break; sleep 0.1; done
n=$(sed -n 's/^stat: writing again after \([0-9]*\) failed write.*/\1/p' "$NFQCTD_LOG")
note "recovered after $n failed writes"
[ -n "$n" ] && [ "$n" -ge 50 ] || fail "recovery line: expected 'writing again after N' with N >= 50 (10 s at 100 ms), got '$n'"
got=$(in_daemon awk 'NR == 2 { print $1 }' "$STATDIR/net/stat/nf_conntrack")
[ -n "$got" ] || fail "nf_conntrack not rewritten after the recovery"
kill -TERM "$NFQCTD_PID"
wait "$NFQCTD_PID"
assert_eq "nfqctd exit status" 0 "$?"
NFQCTD_PID=
finish
