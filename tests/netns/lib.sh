# tests/netns/lib.sh - shared helpers for the namespace tests. Source it, then:
#
#   require_root_netns                 skip (exit 77) without root, netns or the tools
#   topo_create                        client -- router -- server, IPv4 and IPv6
#   kernel_rules ROLE ARGS...          contrib/nfqct-kernel-rules install ROLE ARGS in the router
#   nfqctd_start ARGS...               nfqctd -f -s $STATDIR ARGS in the router, wait until ready
#                                      (state file $TMP_DIR/nfqct.state unless ARGS set one)
#   nfqctd_stop                        SIGTERM, wait (bounded), return its exit status
#   queue_stats                        the router's /proc/net/netfilter/nfnetlink_queue
#   queue_field Q NAME                 one column of it for queue Q
#   in_client/in_router/in_server CMD  run CMD in a namespace
#   assert_eq / assert_pass / assert_fail, fail, note
#
# Safety: everything happens in namespaces made here, with random names; addresses come from
# 198.18.0.0/15 and 2001:db8::/32 only; nothing touches the root namespace's interfaces or
# rules. The EXIT trap kills what we started (by PID) and deletes the namespaces.

set -u

NFQCT_SRCDIR=${NFQCT_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NFQCTD=${NFQCTD:-$NFQCT_SRCDIR/nfqctd}
NFQCT=${NFQCT:-$NFQCT_SRCDIR/nfqct}
KERNEL_RULES=$NFQCT_SRCDIR/contrib/nfqct-kernel-rules
TEST_NAME=$(basename "$0" .sh)

# Addresses: client side 198.18.0.0/24 + 2001:db8:0::/64, server side 198.18.1.0/24 +
# 2001:db8:1::/64; the router is .1 / ::1 on both.
C4=198.18.0.2  R4C=198.18.0.1  R4S=198.18.1.1  S4=198.18.1.2
C6=2001:db8::2 R6C=2001:db8::1 R6S=2001:db8:1::1 S6=2001:db8:1::2

NS_PREFIX="nfqct-$$-$RANDOM"
NS_C="$NS_PREFIX-client"
NS_R="$NS_PREFIX-router"
NS_S="$NS_PREFIX-server"
NS_LIST=()              # namespaces to delete
PIDS=()                 # background processes to kill
NFQCTD_PID=
TMP_DIR=
FAILURES=0

note() { echo "[$TEST_NAME] $*"; }
skip() { echo "SKIP: $TEST_NAME: $*" >&2; exit 77; }
fail() { echo "FAIL: $TEST_NAME: $*" >&2; FAILURES=$((FAILURES + 1)); }

# fail() counts; finish reports and sets the exit status.
finish() {
	if [ "$FAILURES" -ne 0 ]; then
		echo "[$TEST_NAME] $FAILURES failure(s)" >&2
		exit 1
	fi
	note "PASS"
	exit 0
}

cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	for pid in ${NFQCTD_PID:+"$NFQCTD_PID"} ${PIDS[@]+"${PIDS[@]}"}; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in ${NFQCTD_PID:+"$NFQCTD_PID"} ${PIDS[@]+"${PIDS[@]}"}; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true
	done
	for ns in ${NS_LIST[@]+"${NS_LIST[@]}"}; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "$TMP_DIR" ] && [ -d "$TMP_DIR" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$TMP_DIR/nfqctd.log" ]; then
			echo "---- nfqctd log (last 40 lines) ----" >&2
			tail -n 40 "$TMP_DIR/nfqctd.log" >&2
		fi
		rm -rf "$TMP_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_root_netns() {
	local t probe="$NS_PREFIX-probe"
	[ -z "${NFQCT_SKIP_NETNS:-}" ] || skip "NFQCT_SKIP_NETNS is set (make distcheck: they ran already)"
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	for t in ip timeout "$@"; do
		command -v "$t" >/dev/null || skip "needs '$t'"
	done
	ip netns add "$probe" 2>/dev/null || skip "cannot create a network namespace"
	NS_LIST+=("$probe")
	ip netns exec "$probe" ip link add nfqct-p0 type veth peer name nfqct-p1 2>/dev/null ||
		skip "no veth support"
	ip netns del "$probe"
	NS_LIST=()
	TMP_DIR=$(mktemp -d "/tmp/nfqct-$TEST_NAME.XXXXXX")
	STATDIR=$TMP_DIR/stat
}

in_client() { ip netns exec "$NS_C" "$@"; }
in_router() { ip netns exec "$NS_R" "$@"; }
in_server() { ip netns exec "$NS_S" "$@"; }

# A fresh namespace with loopback up and DAD off (before any link arrives, so IPv6
# addresses are usable at once).
ns_new() {
	ip netns add "$1" || return 1
	NS_LIST+=("$1")
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
	ip netns exec "$1" ip link set lo up
}

# addr NS DEV V4/LEN V6/LEN
addr() {
	ip netns exec "$1" ip addr add "$3" dev "$2"
	ip netns exec "$1" ip -6 addr add "$4" dev "$2" nodad
	ip netns exec "$1" ip link set "$2" up
}

topo_create() {
	ns_new "$NS_C" && ns_new "$NS_R" && ns_new "$NS_S" || { fail "namespaces"; exit 1; }
	# veth pairs are created directly inside the namespaces: the root one never sees them.
	ip link add c0 netns "$NS_C" type veth peer name r0 netns "$NS_R" &&
		ip link add s0 netns "$NS_S" type veth peer name r1 netns "$NS_R" ||
		{ fail "veth"; exit 1; }
	addr "$NS_C" c0 "$C4/24" "$C6/64"
	addr "$NS_R" r0 "$R4C/24" "$R6C/64"
	addr "$NS_R" r1 "$R4S/24" "$R6S/64"
	addr "$NS_S" s0 "$S4/24" "$S6/64"
	in_router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	in_client ip route add default via "$R4C"
	in_client ip -6 route add default via "$R6C"
	in_server ip route add default via "$R4S"
	in_server ip -6 route add default via "$R6S"
	# Resolve neighbours now so the traffic counts of the tests hold only their packets
	# (-w: keep asking for up to 5 s, a loaded machine can miss the first answer).
	in_client ping -c1 -w5 -q "$R4C" >/dev/null &&
		in_client ping -6 -c1 -w5 -q "$R6C" >/dev/null &&
		in_server ping -c1 -w5 -q "$R4S" >/dev/null &&
		in_server ping -6 -c1 -w5 -q "$R6S" >/dev/null ||
		{ fail "topology: neighbours unreachable"; exit 1; }
}

kernel_rules() {
	local role=$1
	shift
	in_router "$KERNEL_RULES" install "$role" "$@"
}

# The queue numbers named by -q/--queue in nfqctd's arguments (default 0), one per line.
queue_list() {
	local spec=0 a n m
	while [ $# -gt 0 ]; do
		case "$1" in
		-q|--queue) spec=${2:-0}; shift ;;
		--queue=*) spec=${1#*=} ;;
		esac
		shift
	done
	n=${spec%%:*}; m=${spec##*:}
	seq "$n" "$m"
}

# A ruleset that accepts everything: the daemon tracks, the test checks counts.
ACCEPT_RULES_TEXT='*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
COMMIT'

# nfqctd_start ARGS...: in the router, foreground, stat dir $STATDIR, log $NFQCTD_LOG.
# Adds -r with an accept-all ruleset unless ARGS has -r/--rules. Ready when the stat file
# exists (or the log says "ready") and every queue is bound in the kernel's view.
nfqctd_start() {
	local a has_rules=0 has_state=0 i q ok
	[ -x "$NFQCTD" ] || skip "nfqctd not built ($NFQCTD)"
	for a in "$@"; do case "$a" in -r|--rules|--rules=*|--rules-v4|--rules-v6) has_rules=1 ;; nfqct.state_file=*) has_state=1 ;; esac; done
	# each test its own state file: never the installed default, never another test's
	[ "$has_state" -eq 1 ] || set -- -o "nfqct.state_file=$TMP_DIR/nfqct.state" "$@"
	if [ "$has_rules" -eq 0 ]; then
		printf '%s\n' "$ACCEPT_RULES_TEXT" >"$TMP_DIR/accept.rules"
		set -- -r "$TMP_DIR/accept.rules" "$@"
	fi
	mkdir -p "$STATDIR"
	NFQCTD_LOG=$TMP_DIR/nfqctd.log
	: >"$NFQCTD_LOG"
	# `ip netns exec` execs the program: $! is the daemon itself.
	ip netns exec "$NS_R" "$NFQCTD" -f -s "$STATDIR" "$@" >>"$NFQCTD_LOG" 2>&1 &
	NFQCTD_PID=$!
	for i in $(seq 100); do
		if ! kill -0 "$NFQCTD_PID" 2>/dev/null; then
			wait "$NFQCTD_PID"
			fail "nfqctd exited during start-up (status $?)"
			cat "$NFQCTD_LOG" >&2
			NFQCTD_PID=
			return 1
		fi
		ok=0
		if [ -e "$STATDIR/net/stat/nf_conntrack" ] || grep -q ready "$NFQCTD_LOG"; then
			ok=1
			for q in $(queue_list "$@"); do
				[ -n "$(queue_field "$q" queue_number)" ] || ok=0
			done
		fi
		[ "$ok" -eq 1 ] && return 0
		sleep 0.1
	done
	fail "nfqctd not ready after 10 s"
	cat "$NFQCTD_LOG" >&2
	return 1
}

# nfqctd_signal SIG: send a signal to the running daemon.
nfqctd_signal() { kill -s "$1" "$NFQCTD_PID"; }

# nfqctd_wait [SECONDS]: wait for the daemon to exit, bounded; its exit status (124 and a
# SIGKILL when it would not stop).
nfqctd_wait() {
	local limit=${1:-10} i rc
	for i in $(seq $((limit * 10))); do
		kill -0 "$NFQCTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NFQCTD_PID" 2>/dev/null; then
		fail "nfqctd still running after ${limit} s; killing it"
		kill -KILL "$NFQCTD_PID"
		{ wait "$NFQCTD_PID"; } 2>/dev/null
		NFQCTD_PID=
		return 124
	fi
	# (braces: no "Killed" job notice from bash when the daemon died of a signal)
	{ wait "$NFQCTD_PID"; } 2>/dev/null
	rc=$?
	NFQCTD_PID=
	return "$rc"
}

nfqctd_stop() {
	[ -n "$NFQCTD_PID" ] || return 0
	kill -TERM "$NFQCTD_PID" 2>/dev/null
	nfqctd_wait 10
}

# The kernel's view of the router's queues.
queue_stats() { in_router cat /proc/net/netfilter/nfnetlink_queue; }

# queue_field Q NAME: one column for queue Q, empty when the queue is not bound.
queue_field() {
	queue_stats | awk -v q="$1" -v name="$2" '
		BEGIN { n = split("queue_number peer_portid queue_total copy_mode copy_range " \
			"queue_dropped user_dropped id_sequence one", col, " ")
			for (i = 1; i <= n; i++) idx[col[i]] = i }
		$1 == q { print $idx[name] }'
}

# stat_sum FILE NAME: a column of a stat file (header of names, %08x lines), summed.
stat_sum() {
	# Debian's awk is mawk: no strtonum(), so hex is converted by hand.
	awk -v name="$2" '
		function hex(x,   i, v) {
			x = tolower(x)
			for (i = 1; i <= length(x); i++)
				v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v
		}
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c { s += hex($c) }
		END { if (!c) exit 1; printf "%d\n", s }' "$1"
}

# log_sum FIELD: sum over the exit lines "queue N: received X packets, Y bytes,
# accepted A, dropped D, enobufs E" of one of received/bytes/accepted/dropped/enobufs.
log_sum() {
	awk -v f="$1" '
		/queue [0-9]+: received [0-9]+ packets/ {
			for (i = 1; i <= NF; i++) { w = $i; gsub(/,/, "", $(i + 1))
				if (f == "received" && w == "received") s += $(i + 1)
				if (f == "accepted" && w == "accepted") s += $(i + 1)
				if (f == "dropped" && w == "dropped") s += $(i + 1)
				if (f == "enobufs" && w == "enobufs") s += $(i + 1)
				if (f == "bytes" && $(i + 1) == "bytes") s += w }
			n++ }
		END { if (!n) exit 1; printf "%d\n", s }' "$NFQCTD_LOG"
}

# An independent count of forwarded packets: the kernel's counter of a rule in the router's
# mangle FORWARD chain (mangle runs before filter, so it sees every packet that reaches the
# queue rule). Its conntrack match (true for every packet) also turns kernel conntrack on in
# the router namespace, which the kernel only does when some rule needs it: without it, "no
# kernel conntrack entries" would prove nothing about NOTRACK.
count_install() {
	local fam
	for fam in iptables ip6tables; do
		in_router "$fam" -w -t mangle -A FORWARD \
			-m conntrack --ctstate INVALID,NEW,ESTABLISHED,RELATED,UNTRACKED \
			-m comment --comment nfqct-test-count || return 1
	done
}
count_read() {
	local n4 n6
	n4=$(in_router iptables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-count/ { print $1 }')
	n6=$(in_router ip6tables -w -t mangle -L FORWARD -v -x -n | awk '/nfqct-test-count/ { print $1 }')
	echo $((n4 + n6))
}

# assert_same_table WHAT EXPECTED ACTUAL: two normalised tables (files) must be equal; the
# expected one is shown, and a difference is shown as a diff (--- expected, +++ actual).
assert_same_table() {
	note "$1, expected (normalised):"
	sed 's/^/    /' "$2"
	if diff -u "$2" "$3" >"$TMP_DIR/table.diff"; then
		note "ok: $1 ($(wc -l <"$2") lines)"
	else
		fail "$1 differs (--- expected, +++ actual):"
		cat "$TMP_DIR/table.diff" >&2
	fi
}

assert_eq() {
	# assert_eq WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		note "ok: $1 = $3"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

assert_pass() {
	if "$@" >"$TMP_DIR/cmd.out" 2>&1; then
		note "ok: $*"
	else
		fail "command failed ($?): $*"
		sed 's/^/    /' "$TMP_DIR/cmd.out" >&2
	fi
}

assert_fail() {
	if "$@" >"$TMP_DIR/cmd.out" 2>&1; then
		fail "command succeeded, should fail: $*"
	else
		note "ok (fails as it should): $*"
	fi
}

# peers_start: tests/netns/peers.py's server in $NS_S and client in $NS_C (to $S4), both
# background processes cleaned up by the EXIT trap; returns once they are connected.
peers_start() {
	# (no `timeout` wrapper: `ip netns exec` execs python, so $! is the peer itself and
	# the EXIT trap's kill reaches it; the script bounds itself with alarm())
	ip netns exec "$NS_S" python3 "$NFQCT_SRCDIR/tests/netns/peers.py" server "$TMP_DIR" "$S4" &
	PIDS+=($!)
	wait_listen "$NS_S" tcp 5001 || return 1
	ip netns exec "$NS_C" python3 "$NFQCT_SRCDIR/tests/netns/peers.py" client "$TMP_DIR" "$S4" &
	PIDS+=($!)
}

# peer_round K EXPECTED WHAT: run round K of the peers; EXPECTED 1 if it must complete
# (within 5 s), 0 if it must not.
peer_round() {
	local i
	touch "$TMP_DIR/go.$1"
	for i in $(seq 50); do
		[ -e "$TMP_DIR/done.$1" ] && break
		sleep 0.1
	done
	assert_eq "round $1 ($3): server heard both answers" "$2" "$([ -e "$TMP_DIR/done.$1" ] && echo 1 || echo 0)"
}

# wait_listen NS PROTO PORT: wait (bounded) until a server listens.
wait_listen() {
	local i flag=-ltn
	[ "$2" = udp ] && flag=-lun
	for i in $(seq 50); do
		ip netns exec "$1" ss -H "$flag" "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	fail "nothing listens on $2 port $3"
	return 1
}

# tcp_exchange ADDR PORT FAMILY(4|6): send a line to a one-shot TCP server in the server
# namespace; check it arrived whole.
tcp_exchange() {
	local addr=$1 port=$2 fam=$3 out msg
	out=$TMP_DIR/tcp.$port
	msg="nfqct tcp over IPv$fam $RANDOM"
	timeout 10 ip netns exec "$NS_S" nc "-$fam" -l "$addr" "$port" >"$out" 2>/dev/null &
	PIDS+=($!)
	wait_listen "$NS_S" tcp "$port" || return 1
	echo "$msg" | timeout 10 ip netns exec "$NS_C" nc "-$fam" -N "$addr" "$port" ||
		{ fail "tcp client to $addr:$port"; return 1; }
	wait "${PIDS[-1]}" 2>/dev/null
	assert_eq "TCP payload over IPv$fam" "$msg" "$(cat "$out")"
}

# udp_exchange ADDR PORT FAMILY COUNT: COUNT datagrams, one line each, to a UDP sink.
udp_exchange() {
	local addr=$1 port=$2 fam=$3 count=$4 out i pid
	out=$TMP_DIR/udp.$port
	timeout 10 ip netns exec "$NS_S" nc "-$fam" -u -l "$addr" "$port" >"$out" 2>/dev/null &
	pid=$!
	PIDS+=("$pid")
	wait_listen "$NS_S" udp "$port" || return 1
	# One client process, one socket: a datagram per line, paced to keep them in order.
	for i in $(seq "$count"); do echo "dgram $i"; sleep 0.05; done |
		timeout 10 ip netns exec "$NS_C" nc "-$fam" -u -q 1 "$addr" "$port" ||
		{ fail "udp client to $addr:$port"; return 1; }
	for i in $(seq 20); do
		[ "$(wc -l <"$out")" -ge "$count" ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	assert_eq "UDP datagrams over IPv$fam" "$count" "$(wc -l <"$out")"
}
