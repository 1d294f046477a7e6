#!/usr/bin/env bash
# bench.sh - `make bench`: nfqctd against the kernel and a minimal queue consumer, on the
# demo topology (client -- router -- server namespaces), every workload on three paths
# in one run, figures and ratios in one table.  Never part of `make check`.
#
# Paths (what the router does with forwarded traffic):
#   kernel   kernel conntrack + iptables: FORWARD policy DROP, ESTABLISHED,RELATED accept,
#            NEW accept from the client side (r0); no queue
#   minimal  FORWARD queued (contrib/nfqct-kernel-rules router: NOTRACK + NFQUEUE) to
#            tests/bench/nfq_accept, one process per queue: one recv and one NF_ACCEPT
#            verdict message per packet, default socket buffer
#   nfqctd   the same queue rules, to nfqctd (full tracking, accounting on) with
#            tests/bench/bench.rules, the kernel path's ruleset in nfqct syntax
#
# Workloads (ONLY=pps,pps2,cps,bulk,rr,offload,table,reload selects; all by default):
#   pps      udp_blast -> udp_sink, 18-byte datagrams, FLOWS flows, 1 and 2 queues
#   pps2     two-way UDP: the same, with udp_sink -e echoing every datagram back and
#            udp_blast -e counting the echoes; datagrams per second delivered in both
#            directions together, 2 queues
#   cps      tcp_cps: CONC concurrent short connections (connect, 1 byte each way, close),
#            IPv4 and IPv6, 2 queues
#   (The kernel's --queue-balance hashes addresses and protocol, not ports: the client has
#   FLOWS extra addresses, and the flows and connections use them in turn, so that they
#   spread over the queues.  How they spread is shown per nfqctd run: "split".)
#   bulk     iperf3, one TCP stream, 2 queues (GSO super-packets go through the queue whole)
#   rr       tcp_cps -R: one connection, 1-byte ping-pong; p50 and p99 round trip, 2 queues
#   setpps   pps (1 queue) with a blocklist in front of the ruleset: a hash:net set of
#            SET_ELEMENTS (100,000) addresses and networks the client is not in,
#            `-A FORWARD -m set --match-set blocklist src -j DROP` first in FORWARD; the kernel
#            path loads the same set file with `ipset restore`, nfqctd with --sets
#   offload  bulk, pps2 and cps (IPv4) again, nfqctd with tests/bench/bench-offload.rules
#            (OpenWrt's `-m conntrack --ctstate RELATED,ESTABLISHED -j FLOWOFFLOAD` first)
#            and nfqct-kernel-rules' offload table; the kernel and minimal paths as before
#            (the other rows install the queue rules with --no-offload)
#   table    bench_ct: the connection table alone, no netlink
#   reload   a 10,000-rule ruleset: load and swap (`nfqct reload`) while RELOAD_PPS
#            datagrams per second flow, and `nfqctd --check`; the kernel column times
#            iptables-restore (and iptables-restore --test) of the same rules
#
# Each figure is the median of RUNS runs (default 3) of DURATION seconds (default 3); in a
# run the three paths go one after the other, and the ratios nfqctd/kernel and
# nfqctd/minimal are taken run by run, then their median printed.  Latency and time rows
# are times: a ratio above 1 means nfqctd is slower.  drops: the kernel's queue_dropped,
# user_dropped (/proc/net/netfilter/nfnetlink_queue) and the consumer's ENOBUFS count
# (nfqctd: DIR/net/stat/nfqct_queue), summed over the runs.
. "$(dirname "$0")/../netns/lib.sh"

BIN=${BENCH_BINDIR:-$NFQCT_SRCDIR/tests/bench}
RUNS=${RUNS:-3}
DURATION=${DURATION:-3}
ONLY=${ONLY:-pps,pps2,setpps,cps,bulk,rr,offload,table,reload}
SET_ELEMENTS=${SET_ELEMENTS:-100000}
BENCH_SET=0	# setpps: the blocklist in both the kernel's and nfqctd's ruleset
BENCH_OFFLOAD=0	# offload: FLOWOFFLOAD in nfqctd's ruleset, the offload table in the kernel
FLOWS=${FLOWS:-8}
CONC=${CONC:-16}
RELOAD_RULES=${RELOAD_RULES:-10000}
RELOAD_PPS=${RELOAD_PPS:-20000}
RULES=${RULES:-$NFQCT_SRCDIR/tests/bench/bench.rules}
NFQCTD_OPTS=(-o net.netfilter.nf_conntrack_acct=1)

require_root_netns iperf3 iptables ip6tables iptables-restore ip6tables-restore conntrack
for p in nfq_accept udp_blast udp_sink tcp_cps bench_ct; do
	[ -x "$BIN/$p" ] || skip "$BIN/$p not built (make bench builds it)"
done
[ -x "$NFQCTD" ] && [ -x "$NFQCT" ] || skip "nfqctd/nfqct not built"

wants() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

# reap PID: wait for a background process and drop it from lib.sh's clean-up list, so
# that the EXIT trap never signals a PID the system has given to someone else since.
reap() {
	local p keep=()
	wait "$1" 2>/dev/null
	local rc=$?
	for p in ${PIDS[@]+"${PIDS[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=(${keep[@]+"${keep[@]}"})
	return "$rc"
}

# kv KEY: the value of KEY=VALUE in the tools' one-line reports on stdin.
kv() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- paths ----

IPT=(iptables ip6tables)

# Kernel conntrack and the stateful ruleset; no queue.  Old entries are flushed so every
# run starts from an empty table, as nfqctd does.
path_kernel() {
	local ipt
	in_router "$KERNEL_RULES" remove || fail "kernel rules: remove"
	for ipt in "${IPT[@]}"; do
		in_router "$ipt" -w -F FORWARD
		in_router "$ipt" -w -P FORWARD DROP
		in_router "$ipt" -w -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
		in_router "$ipt" -w -A FORWARD -i r0 -m conntrack --ctstate NEW -j ACCEPT
	done
	if [ "$BENCH_SET" -eq 1 ]; then
		in_router ipset -exist restore <"$TMP_DIR/blocklist.ipset" || fail "ipset restore"
		in_router iptables -w -I FORWARD 1 -m set --match-set blocklist src -j DROP
	fi
	# accounting, as nfqctd's path has it (the sysctl exists once conntrack is in use)
	in_router sysctl -qw net.netfilter.nf_conntrack_acct=1 >/dev/null 2>&1 || true
	in_router conntrack -F >/dev/null 2>&1 || true
	in_router conntrack -F -f ipv6 >/dev/null 2>&1 || true
}

# The queue paths: FORWARD (policy DROP, no rule of ours) queued to NQ queues, NOTRACK.
path_queue() {
	local nq=$1 ipt
	for ipt in "${IPT[@]}"; do
		in_router "$ipt" -w -F FORWARD
		in_router "$ipt" -w -P FORWARD DROP
	done
	if [ "$BENCH_OFFLOAD" -eq 1 ]; then
		kernel_rules router --queues "0:$((nq - 1))" || fail "kernel rules: install"
	else
		kernel_rules router --queues "0:$((nq - 1))" --no-offload || fail "kernel rules: install"
	fi
}

# queue_drops NQ: "queue_dropped user_dropped" summed over queues 0..NQ-1 (the kernel
# counts from the bind on: every consumer start begins at zero).
queue_drops() {
	local q qd=0 ud=0 a b
	for q in $(seq 0 $(($1 - 1))); do
		a=$(queue_field "$q" queue_dropped); b=$(queue_field "$q" user_dropped)
		qd=$((qd + ${a:-0})); ud=$((ud + ${b:-0}))
	done
	echo "$qd $ud"
}

MIN_PIDS=()
minimal_start() {
	local nq=$1 q i ok
	MIN_PIDS=()
	for q in $(seq 0 $((nq - 1))); do
		ip netns exec "$NS_R" "$BIN/nfq_accept" -q "$q" >"$TMP_DIR/min.$q.out" \
			2>"$TMP_DIR/min.$q.err" &
		MIN_PIDS+=($!)
		PIDS+=($!)
	done
	for i in $(seq 50); do
		ok=1
		for q in $(seq 0 $((nq - 1))); do
			grep -q ready "$TMP_DIR/min.$q.out" 2>/dev/null || ok=0
		done
		[ "$ok" -eq 1 ] && return 0
		sleep 0.1
	done
	fail "nfq_accept not ready"
	cat "$TMP_DIR"/min.*.err >&2
	return 1
}

# Stops the consumers; sets MIN_ENOBUFS from their exit lines.
minimal_stop() {
	local pid
	for pid in "${MIN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${MIN_PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		reap "$pid"
	done
	MIN_ENOBUFS=$(cat "$TMP_DIR"/min.*.err | awk '/enobufs/ { for (i = 1; i < NF; i++)
		if ($i == "enobufs") { gsub(/,/, "", $(i + 1)); s += $(i + 1) } } END { print s + 0 }')
	rm -f "$TMP_DIR"/min.*
	MIN_PIDS=()
}

# nfqctd_up NQ [RULES]: a fresh daemon (fresh table, fresh stat tree).
nfqctd_up() {
	local nq=$1 rules=${2:-$RULES} qspec=0 sets=()
	[ "$nq" -gt 1 ] && qspec="0:$((nq - 1))"
	[ "$BENCH_OFFLOAD" -eq 0 ] || rules=$NFQCT_SRCDIR/tests/bench/bench-offload.rules
	if [ "$BENCH_SET" -eq 1 ]; then
		rules=$TMP_DIR/blocklist.rules
		sets=(--sets "$TMP_DIR/blocklist.ipset")
	fi
	rm -rf "$STATDIR"
	nfqctd_start -q "$qspec" -r "$rules" ${sets[@]+"${sets[@]}"} "${NFQCTD_OPTS[@]}"
}

# The blocklist of setpps, in `ipset save` format: SET_ELEMENTS entries (at most 105,000)
# of 198.18.0.0/15 away from the client's and the server's /24 (198.18.0.0/24,
# 198.18.1.0/24): every 64th a /30 from 198.19.160.0 on, the others /32s from 198.18.16.0
# on; and the ruleset with it in front.
gen_blocklist() {
	awk -v n="$SET_ELEMENTS" 'function ip(a) { return sprintf("%d.%d.%d.%d", int(a / 16777216) % 256,
			int(a / 65536) % 256, int(a / 256) % 256, a % 256) }
	BEGIN {
		printf "create blocklist hash:net family inet hashsize 65536 maxelem %d\n", n * 2
		h = 198 * 16777216 + 18 * 65536 + 16 * 256
		w = 198 * 16777216 + 19 * 65536 + 160 * 256
		for (i = 0; i < n; i++)
			if (i % 64 == 63) { printf "add blocklist %s/30\n", ip(w); w += 4 }
			else { printf "add blocklist %s\n", ip(h); h++ }
	}' >"$TMP_DIR/blocklist.ipset"
	awk '/^-A FORWARD/ && !done { print "-A FORWARD -m set --match-set blocklist src -j DROP"; done = 1 }
		{ print }' "$RULES" >"$TMP_DIR/blocklist.rules"
}

# Stops the daemon; sets NFQ_ENOBUFS from its last stat file, and NFQ_SPLIT: packets
# received per queue, "a/b".
nfqctd_down() {
	nfqctd_stop || fail "nfqctd exit status $?"
	NFQ_ENOBUFS=$(stat_sum "$STATDIR/net/stat/nfqct_queue" enobufs 2>/dev/null || echo "?")
	NFQ_SPLIT=$(awk '
		function hex(x,   i, v) {
			x = tolower(x)
			for (i = 1; i <= length(x); i++)
				v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v
		}
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rx_packets") c = i; next }
		c { s = s (s == "" ? "" : "/") hex($c) }
		END { print s }' "$STATDIR/net/stat/nfqct_queue" 2>/dev/null)
}

# ---- workloads: each sets R=(figure...) ----

# UDP packets per second received by the server.
w_pps() {
	local port=9000 pid out=$TMP_DIR/sink.out d
	timeout $((DURATION + 20)) ip netns exec "$NS_S" "$BIN/udp_sink" -l "$S4" -p $port \
		-t $((DURATION + 15)) >"$out" &
	pid=$!
	PIDS+=("$pid")
	R=(0)
	wait_listen "$NS_S" udp $port || return
	timeout $((DURATION + 10)) ip netns exec "$NS_C" "$BIN/udp_blast" -d "$S4" -a "$SRC4" \
		-p $port -n "$FLOWS" -t "$DURATION" >"$TMP_DIR/blast.out" || fail "udp_blast"
	reap "$pid" || fail "udp_sink status $?"
	R=("$(kv pps <"$out")")
	d=$(kv sink_drops <"$out")
	[ "${d:-0}" -eq 0 ] || note "  (udp_sink's own socket dropped $d datagrams: the sink limits)"
}

# Two-way UDP: datagrams per second delivered both ways (the server's count, from its
# first to its last datagram, plus the client's echoes over its sending time).
w_pps2() {
	local port=9004 pid out=$TMP_DIR/sink2.out d
	timeout $((DURATION + 20)) ip netns exec "$NS_S" "$BIN/udp_sink" -e -l "$S4" -p $port \
		-t $((DURATION + 15)) >"$out" &
	pid=$!
	PIDS+=("$pid")
	R=(0)
	wait_listen "$NS_S" udp $port || return
	timeout $((DURATION + 10)) ip netns exec "$NS_C" "$BIN/udp_blast" -e -d "$S4" -a "$SRC4" \
		-p $port -n "$FLOWS" -t "$DURATION" >"$TMP_DIR/blast2.out" || fail "udp_blast -e"
	reap "$pid" || fail "udp_sink -e status $?"
	R=("$(awk -v a="$(kv pps <"$out")" -v b="$(kv echo_pps <"$TMP_DIR/blast2.out")" \
		'BEGIN { print a + b }')")
	d=$(kv sink_drops <"$out")
	[ "${d:-0}" -eq 0 ] || note "  (udp_sink's own socket dropped $d datagrams: the sink limits)"
}

# cps FAMILY: completed short connections per second.
w_cps() {
	local fam=$1 addr=$S4 src=$SRC4 port=9001 pid out=$TMP_DIR/cps.out e
	[ "$fam" = 6 ] && { addr=$S6; src=$SRC6; port=9002; }
	timeout $((DURATION + 20)) ip netns exec "$NS_S" "$BIN/tcp_cps" -S -l "$addr" -p $port \
		-t $((DURATION + 15)) &
	pid=$!
	PIDS+=("$pid")
	R=(0)
	wait_listen "$NS_S" tcp $port || return
	timeout $((DURATION + 10)) ip netns exec "$NS_C" "$BIN/tcp_cps" -c "$addr" -a "$src" \
		-p $port -k "$CONC" -t "$DURATION" >"$out" || fail "tcp_cps client"
	kill -TERM "$pid" 2>/dev/null
	reap "$pid"
	R=("$(kv cps <"$out")")
	e=$(kv errors <"$out")
	[ "${e:-0}" -eq 0 ] || note "  (tcp_cps: $e failed connections)"
}
w_cps4() { w_cps 4; }
w_cps6() { w_cps 6; }

# Bulk TCP: iperf3's receiver throughput, Mbit/s.
w_bulk() {
	local port=5201 pid out=$TMP_DIR/iperf.out
	timeout $((DURATION + 20)) ip netns exec "$NS_S" iperf3 -s -1 -B "$S4" -p $port \
		>/dev/null 2>&1 &
	pid=$!
	PIDS+=("$pid")
	R=(0)
	wait_listen "$NS_S" tcp $port || return
	timeout $((DURATION + 15)) ip netns exec "$NS_C" iperf3 -c "$S4" -p $port \
		-t "$DURATION" -f m >"$out" 2>&1 || { fail "iperf3"; cat "$out" >&2; }
	reap "$pid"
	R=("$(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
		END { print v + 0 }' "$out")")
}

# Round trips: p50 and p99 in microseconds.
w_rr() {
	local port=9003 pid out=$TMP_DIR/rr.out
	timeout $((DURATION + 20)) ip netns exec "$NS_S" "$BIN/tcp_cps" -S -l "$S4" -p $port \
		-t $((DURATION + 15)) &
	pid=$!
	PIDS+=("$pid")
	R=(0 0)
	wait_listen "$NS_S" tcp $port || return
	timeout $((DURATION + 10)) ip netns exec "$NS_C" "$BIN/tcp_cps" -R -c "$S4" -p $port \
		-t "$DURATION" >"$out" || fail "tcp_cps -R"
	kill -TERM "$pid" 2>/dev/null
	reap "$pid"
	R=("$(kv p50_us <"$out")" "$(kv p99_us <"$out")")
}

# ---- the table ----

ROWS=$TMP_DIR/rows	# label|kernel|minimal|nfqctd|n/k|n/m|drops|min drops
: >"$ROWS"

# row LABEL KFILE MFILE NFILE DROPS MDROPS: medians and run-by-run ratios of the
# per-run figures (one a line; a missing file: the path has no figure).
row() {
	local label=$1 k=$2 m=$3 n=$4 km mm nm rk rmin
	km=$( [ -s "$k" ] && median <"$k" || echo -)
	mm=$( [ -s "$m" ] && median <"$m" || echo -)
	nm=$(median <"$n")
	rk=$( [ -s "$k" ] && paste "$n" "$k" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }' | median || echo -)
	rmin=$( [ -s "$m" ] && paste "$n" "$m" | awk '{ print ($2 > 0 ? $1 / $2 : 0) }' | median || echo -)
	echo "$label|$km|$mm|$nm|$rk|$rmin|$5|$6" >>"$ROWS"
	note "$label: kernel $km, minimal $mm, nfqctd $nm, nfqctd/kernel $rk, nfqctd/minimal $rmin, drops $5 (minimal $6)"
}

# measure NQ FN LABEL...: RUNS rounds of the three paths on workload FN, one row per
# figure FN reports.
measure() {
	local nq=$1 fn=$2 i j qd ud
	shift 2
	local labels=("$@") nqd=0 nud=0 neno=0 mqd=0 mud=0 meno=0
	rm -f "$TMP_DIR"/fig.*
	for i in $(seq "$RUNS"); do
		note "${labels[0]}: run $i/$RUNS"
		path_kernel
		$fn
		for j in "${!labels[@]}"; do echo "${R[j]:-0}" >>"$TMP_DIR/fig.k.$j"; done

		path_queue "$nq"
		if minimal_start "$nq"; then
			$fn
			read -r qd ud < <(queue_drops "$nq")
			minimal_stop
			mqd=$((mqd + qd)); mud=$((mud + ud)); meno=$((meno + MIN_ENOBUFS))
			for j in "${!labels[@]}"; do echo "${R[j]:-0}" >>"$TMP_DIR/fig.m.$j"; done
		fi

		if nfqctd_up "$nq"; then
			$fn
			read -r qd ud < <(queue_drops "$nq")
			nfqctd_down
			nqd=$((nqd + qd)); nud=$((nud + ud)); neno=$((neno + ${NFQ_ENOBUFS/\?/0}))
			note "  nfqctd run $i: drops $qd/$ud/$NFQ_ENOBUFS (qd/ud/eb)$([ "$nq" -gt 1 ] &&
				echo ", packets per queue (split) $NFQ_SPLIT")"
			for j in "${!labels[@]}"; do echo "${R[j]:-0}" >>"$TMP_DIR/fig.n.$j"; done
		fi
	done
	for j in "${!labels[@]}"; do
		row "${labels[j]}" "$TMP_DIR/fig.k.$j" "$TMP_DIR/fig.m.$j" "$TMP_DIR/fig.n.$j" \
			"$nqd/$nud/$neno" "$mqd/$mud/$meno"
	done
	in_router "$KERNEL_RULES" remove || true
}

# ---- reload ----

# gen_rules FORMAT N: FORMAT nfqct (both families in one file), ipt4 or ipt6
# (iptables-restore input): the bench ruleset with N never-matching DROP rules between
# the ESTABLISHED and the NEW rule (so only a flow's first packet walks them), half IPv4
# sources, half IPv6.
gen_rules() {
	local fmt=$1 n=$2
	printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n'
	echo "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	awk -v n="$n" -v fmt="$fmt" 'BEGIN {
		for (i = 0; i < n; i++) {
			if (i % 2 == 0 && fmt != "ipt6")
				printf "-A FORWARD -i r0 -s 198.19.%d.%d/32 -p tcp --dport %d -j DROP\n",
					int(i / 2 / 256) % 256, (i / 2) % 256, 1024 + i % 60000
			else if (i % 2 == 1 && fmt != "ipt4")
				printf "-A FORWARD -i r0 -s 2001:db8:ffff::%x/128 -p udp --dport %d -j DROP\n",
					i, 1024 + i % 60000
		} }'
	echo "-A FORWARD -i r0 -m conntrack --ctstate NEW -j ACCEPT"
	echo "COMMIT"
}

# Background traffic for the reload phase: paced datagrams, bounded in time.
LOAD_PIDS=()
load_start() {
	local secs=$1
	timeout $((secs + 10)) ip netns exec "$NS_S" "$BIN/udp_sink" -l "$S4" -p 9004 \
		-t $((secs + 5)) >"$TMP_DIR/load.sink" &
	LOAD_PIDS=($!)
	PIDS+=($!)
	wait_listen "$NS_S" udp 9004 || return 1
	timeout $((secs + 5)) ip netns exec "$NS_C" "$BIN/udp_blast" -d "$S4" -a "$SRC4" -p 9004 \
		-n "$FLOWS" -b 1 -r "$RELOAD_PPS" -t "$secs" >/dev/null &
	LOAD_PIDS+=($!)
	PIDS+=($!)
}
load_stop() {
	local pid
	for pid in "${LOAD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${LOAD_PIDS[@]}"; do reap "$pid"; done
	LOAD_PIDS=()
	[ "$(kv received <"$TMP_DIR/load.sink")" -gt 0 ] 2>/dev/null ||
		fail "reload: no traffic arrived during the reloads"
}

bench_reload() {
	local n=$RELOAD_RULES i t0 t1 qd ud live=$TMP_DIR/live.rules
	local bigt=$TMP_DIR/big.rules big4=$TMP_DIR/big4.rules big6=$TMP_DIR/big6.rules
	local small4=$TMP_DIR/small4.rules small6=$TMP_DIR/small6.rules
	gen_rules nfqct "$n" >"$bigt"
	gen_rules ipt4 "$n" >"$big4"
	gen_rules ipt6 "$n" >"$big6"
	gen_rules ipt4 0 >"$small4"
	gen_rules ipt6 0 >"$small6"
	rm -f "$TMP_DIR"/rl.*
	note "reload: $n rules, $RUNS runs, $RELOAD_PPS datagrams/s flowing"

	# check: nfqctd --check against iptables-restore --test (parse and validate, no load)
	for i in $(seq "$RUNS"); do
		t0=$(now_ms)
		in_router iptables-restore --test "$big4" && in_router ip6tables-restore --test "$big6" ||
			fail "iptables-restore --test"
		t1=$(now_ms); echo $((t1 - t0)) >>"$TMP_DIR/rl.ck"
		t0=$(now_ms)
		timeout 60 "$NFQCTD" --check -r "$bigt" >/dev/null || fail "nfqctd --check $bigt"
		t1=$(now_ms); echo $((t1 - t0)) >>"$TMP_DIR/rl.cn"
	done

	# kernel: iptables-restore of the big ruleset (then back to the small one, untimed)
	path_kernel
	load_start $((RUNS * 3 + 5)) || return
	for i in $(seq "$RUNS"); do
		t0=$(now_ms)
		in_router iptables-restore "$big4" && in_router ip6tables-restore "$big6" ||
			fail "iptables-restore"
		t1=$(now_ms); echo $((t1 - t0)) >>"$TMP_DIR/rl.k"
		in_router iptables-restore "$small4" && in_router ip6tables-restore "$small6"
		sleep 0.5
	done
	load_stop

	# nfqctd: `nfqct reload` of the big ruleset (then back, untimed), 2 queues
	path_queue 2
	cp "$RULES" "$live"
	nfqctd_up 2 "$live" || return
	load_start $((RUNS * 3 + 5)) || return
	for i in $(seq "$RUNS"); do
		cp "$bigt" "$live"
		t0=$(now_ms)
		timeout 60 "$NFQCT" -s "$STATDIR" reload >"$TMP_DIR/reload.out" 2>&1 ||
			{ fail "nfqct reload"; cat "$TMP_DIR/reload.out" >&2; }
		t1=$(now_ms); echo $((t1 - t0)) >>"$TMP_DIR/rl.n"
		# the swap happened: the running ruleset has every rule (and the 2 of bench.rules)
		assert_eq "rules running after reload $i" $((n + 2)) \
			"$("$NFQCT" -s "$STATDIR" rules | grep -c '^-A')"
		cp "$RULES" "$live"
		timeout 60 "$NFQCT" -s "$STATDIR" reload >/dev/null 2>&1 || fail "nfqct reload back"
		sleep 0.5
	done
	load_stop
	read -r qd ud < <(queue_drops 2)
	nfqctd_down
	in_router "$KERNEL_RULES" remove || true
	row "check $n rules (ms)" "$TMP_DIR/rl.ck" /dev/null "$TMP_DIR/rl.cn" - -
	row "reload $n rules (ms)" "$TMP_DIR/rl.k" /dev/null "$TMP_DIR/rl.n" "$qd/$ud/$NFQ_ENOBUFS" -
}

# ---- run ----

START=$(date +%s)
topo_create
# Room for tcp_cps: every client port usable (TIME_WAIT stays on the server's side).
in_client sysctl -qw net.ipv4.ip_local_port_range="1024 65535" >/dev/null
# The client's extra source addresses, one per flow (see the header).
SRC4= SRC6=
for i in $(seq 0 $((FLOWS - 1))); do
	in_client ip addr add "198.18.0.$((10 + i))/24" dev c0
	in_client ip -6 addr add "2001:db8::$(printf %x $((16 + i)))/64" dev c0 nodad
	SRC4=$SRC4${SRC4:+,}198.18.0.$((10 + i))
	SRC6=$SRC6${SRC6:+,}2001:db8::$(printf %x $((16 + i)))
done
note "RUNS=$RUNS DURATION=${DURATION}s ONLY=$ONLY; $(nproc) CPUs, kernel $(uname -r)"

wants pps && measure 1 w_pps "UDP pps, 1 queue"
wants pps && measure 2 w_pps "UDP pps, 2 queues"
if wants setpps && ! command -v ipset >/dev/null; then
	note "setpps skipped: no ipset (apt-get install ipset)"
elif wants setpps; then
	gen_blocklist
	BENCH_SET=1
	measure 1 w_pps "UDP pps, set $SET_ELEMENTS"
	BENCH_SET=0
fi
wants pps2 && measure 2 w_pps2 "UDP 2-way pps"
wants cps && measure 2 w_cps4 "TCP conn/s IPv4"
wants cps && measure 2 w_cps6 "TCP conn/s IPv6"
wants bulk && measure 2 w_bulk "TCP bulk Mbit/s"
wants rr && measure 2 w_rr "TCP RR p50 (us)" "TCP RR p99 (us)"
if wants offload; then
	BENCH_OFFLOAD=1
	measure 2 w_bulk "TCP bulk, FLOWOFFLOAD"
	measure 2 w_pps2 "UDP 2-way, FLOWOFFLOAD"
	measure 2 w_cps4 "conn/s IPv4, FLOWOFFLOAD"
	BENCH_OFFLOAD=0
fi
wants reload && bench_reload

fmt() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-";
	else if (v + 0 >= 100) printf "%.0f\n", v; else printf "%.1f\n", v }'; }
fmtr() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.2f\n", v }'; }
echo
printf '%-24s %10s %10s %10s %9s %9s  %-14s %s\n' workload kernel minimal nfqctd \
	nfqctd/k nfqctd/m "drops qd/ud/eb" "minimal drops"
while IFS='|' read -r label k m n rk rm d md; do
	printf '%-24s %10s %10s %10s %9s %9s  %-14s %s\n' "$label" "$(fmt "$k")" "$(fmt "$m")" \
		"$(fmt "$n")" "$(fmtr "$rk")" "$(fmtr "$rm")" "$d" "$md"
done <"$ROWS"
echo "(median of $RUNS runs of ${DURATION}s; ratios run by run; drops summed over the runs:"
echo " qd queue_dropped, ud user_dropped (kernel), eb ENOBUFS seen by the consumer)"

if wants table; then
	echo
	timeout 600 "$BIN/bench_ct" -r "$RUNS" || fail "bench_ct"
fi
echo
note "done in $(($(date +%s) - START)) s"
finish
