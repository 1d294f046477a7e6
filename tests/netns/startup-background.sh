#!/usr/bin/env bash
# nfqctd without -f, as a service manager or a script starts it: it returns only once its
# queues are bound (exit 0, the queue already in the namespace's
# /proc/net/netfilter/nfnetlink_queue, the pid file written, the daemon detached from our
# stderr), or prints why it cannot start on stderr and exits 1 (bad configuration) or
# 2 (run time). One namespace of our own; no traffic is needed.
. "$(dirname "$0")/lib.sh"
require_root_netns

ns_new "$NS_R" || { fail "namespace"; exit 1; }
mkdir -p "$TMP_DIR/cwd"

# start ARGS...: nfqctd in the namespace without -f, bounded; stderr in $TMP_DIR/err,
# status in $RC. Never through $(...): a daemon that kept the pipe open would hang it.
start() {
	RC=0
	( cd "$TMP_DIR/cwd" && timeout 20 ip netns exec "$NS_R" "$NFQCTD" "$@" \
		</dev/null >"$TMP_DIR/out" 2>"$TMP_DIR/err" ) || RC=$?
}

# expect_error WHAT STATUS PATTERN ARGS...: nfqctd ARGS exits STATUS with PATTERN on stderr,
# and binds nothing.
expect_error() {
	local what=$1 status=$2 pattern=$3
	shift 3
	start "$@"
	assert_eq "$what: exit status" "$status" "$RC"
	if grep -q -- "$pattern" "$TMP_DIR/err"; then
		note "ok: $what: stderr has '$pattern'"
	else
		fail "$what: '$pattern' not on stderr:"
		sed 's/^/    /' "$TMP_DIR/err" >&2
	fi
	assert_eq "$what: no queue left bound" "" "$(queue_field 0 queue_number)"
}

printf '*filter\n:INPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPTED\nCOMMIT\n' >"$TMP_DIR/bad.rules"
printf '%s\n' "$ACCEPT_RULES_TEXT" >"$TMP_DIR/good.rules"
S=(-s "$TMP_DIR/stat")

expect_error "bad ruleset" 1 "$TMP_DIR/bad.rules:3:.*error" -q 0 -r "$TMP_DIR/bad.rules" "${S[@]}"
expect_error "missing ruleset" 1 "/nonexistent/nfqct.rules" -q 0 -r /nonexistent/nfqct.rules "${S[@]}"
expect_error "bad setting" 1 "unknown setting 'nfqct.nosuch'" -q 0 -r "$TMP_DIR/good.rules" \
	-o nfqct.nosuch=1 "${S[@]}"
expect_error "bad option" 1 "unknown option '--frobnicate'" --frobnicate
expect_error "stat directory" 2 "stat: cannot create" -q 0 -r "$TMP_DIR/good.rules" \
	-s /proc/nfqct-no-such-dir

# A good start, with a relative ruleset path: it must be read from the directory we started
# in, though the daemon changes to / (a later reload reads it by the same absolute name).
cp "$TMP_DIR/good.rules" "$TMP_DIR/cwd/rel.rules"
start -q 0:1 -r rel.rules "${S[@]}" -p "$TMP_DIR/nfqctd.pid"
assert_eq "good start: exit status" 0 "$RC"
# No waiting: the queues are bound when nfqctd returns.
assert_eq "queue 0 bound on return" 0 "$(queue_field 0 queue_number)"
assert_eq "queue 1 bound on return" 1 "$(queue_field 1 queue_number)"
grep -q "ready: queues 0-1" "$TMP_DIR/err" && note "ok: 'ready' on stderr" ||
	fail "no 'ready' line on stderr: $(cat "$TMP_DIR/err")"
if [ -s "$TMP_DIR/nfqctd.pid" ]; then
	NFQCTD_PID=$(cat "$TMP_DIR/nfqctd.pid")
	kill -0 "$NFQCTD_PID" 2>/dev/null && note "ok: the daemon of the pid file runs" ||
		fail "pid file names $NFQCTD_PID, which does not run"
	assert_eq "the daemon's stderr" /dev/null "$(readlink "/proc/$NFQCTD_PID/fd/2")"
	assert_eq "the daemon's cwd" / "$(readlink "/proc/$NFQCTD_PID/cwd")"
	assert_eq "the queue's peer is the daemon" "$NFQCTD_PID" "$(queue_field 0 peer_portid)"
else
	fail "no pid file"
fi

# The same queues again: the second one fails (queue taken), says so, exit 2.
RC=0
start -q 0 -r "$TMP_DIR/good.rules" -s "$TMP_DIR/stat2"
assert_eq "queue taken: exit status" 2 "$RC"
grep -q "queue 0: configure" "$TMP_DIR/err" && note "ok: queue taken, said on stderr" ||
	fail "queue taken: stderr: $(cat "$TMP_DIR/err")"

# A reload finds the relative ruleset by its absolute name (the control socket reports the
# outcome); SIGTERM stops, the pid file is removed.
if [ -n "$NFQCTD_PID" ]; then
	assert_pass timeout 10 "$NFQCT" -s "$TMP_DIR/stat" reload
	kill -TERM "$NFQCTD_PID"
	for i in $(seq 100); do kill -0 "$NFQCTD_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$NFQCTD_PID" 2>/dev/null; then
		fail "nfqctd still runs 10 s after SIGTERM"
	else
		NFQCTD_PID=
		assert_eq "pid file removed at exit" no "$([ -e "$TMP_DIR/nfqctd.pid" ] && echo yes || echo no)"
		assert_eq "queue 0 released" "" "$(queue_field 0 queue_number)"
	fi
fi

finish
