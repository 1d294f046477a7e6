#!/usr/bin/env bash
# rules-diff.sh - differential test of rulesets: the kernel against nfqctd, same file, same
# packets. Usage:
#
#   rules-diff.sh [FILE...]      each FILE (default: the files named in tests/corpus/check.list)
#   rules-diff.sh --self-test    the harness must pass the handmade files and must FAIL when
#                                nfqctd runs a file whose rules are in a different order
#
# For each FILE (an iptables-save file; its side file FILE minus .rules plus .plan gives the
# family, the router's interface names, extra addresses and the expected differences):
#   1. nfqctd --check --rules-v4 FILE (--rules-v6 for IPv6); a refusal is "not loadable:
#      <first error>" (skip, 77).
#   2. Kernel run: client -- router -- server namespaces (tests/netns/lib.sh), the router's
#      interfaces named as the file expects, static neighbours; the file's filter and raw
#      tables loaded with iptables-restore (ip6tables-restore) into the router; the probes of
#      tests/netns/rules-probe.py sent as raw frames from the client and the server, what
#      came back captured per probe; iptables-save -c's counters of filter and raw.
#   3. nfqctd run: the same on a fresh topology, the router's kernel only queueing (nfqct-
#      kernel-rules' router role installed and its host role's rules added), nfqctd
#      --rules-v4 FILE (or -v6); `nfqct rules -c`'s counters.
#   4. Counters rule by rule (table, chain, position; policies too) and outcomes probe by
#      probe must be equal, except the differences the plan lists with "expect".
# Exit status: 0 all compared files agree, 1 a difference, 77 nothing could be compared.
# A summary lists every file as PASS, FAIL or SKIP with the reason. About 10 s a file.
#
# Environment: NFQCT_DIFF_KEEP=DIR keeps each file's probes, outcomes and counters of both
# runs in DIR/NAME/; NFQCT_DIFF_CORPUS=DIR reads check.list and the handmade files there.
#
# What is compared is the filter and raw tables: the kernel run loads only those of the
# file (nat or mangle would rewrite packets that nfqctd sees unchanged). Multicast is
# dropped in every namespace before netfilter and neighbours are static, so that nothing
# but the probes and their answers crosses the router; kernel ICMP rate limits and IPv4
# redirects are off, no probe leaves by the interface it came in (IPv6 redirects), and
# SYN-ACKs are not retransmitted, so every answer is there once, whatever the timing.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 nft iptables-restore ip6tables-restore iptables-save ip6tables-save

CORPUS=${NFQCT_DIFF_CORPUS:-$NFQCT_SRCDIR/tests/corpus}   # (another corpus: for a test of the test)
PROBE=$NFQCT_SRCDIR/tests/netns/rules-probe.py
MAC_C=02:00:00:00:00:c0 MAC_RW=02:00:00:00:00:01 MAC_RL=02:00:00:00:00:02 MAC_S=02:00:00:00:00:50
SUMMARY=()
RUN=0

# plan_read FILE: the plan's settings into FAMILY WAN LAN EXTRA_R INSIDE EXPECT.
plan_read() {
	local plan=${1%.rules}.plan key rest
	FAMILY=4 WAN=r0 LAN=r1 EXTRA_R=() INSIDE=() EXPECT=()
	case "$1" in *-v6.rules) FAMILY=6 ;; esac
	[ -f "$plan" ] || return 0
	while read -r key rest; do
		case "$key" in
		""|\#*) ;;
		family) FAMILY=$rest ;;
		wan) WAN=$rest ;;
		lan) LAN=$rest ;;
		router-addr) EXTRA_R+=("$rest") ;;
		inside) INSIDE+=("$rest") ;;
		expect) EXPECT+=("$rest") ;;
		*) fail "$plan: unknown key '$key'" ;;
		esac
	done <"$plan"
}

# topo_fresh: new client/router/server namespaces for one run, as the plan says.
topo_fresh() {
	local ns a side prefix first
	RUN=$((RUN + 1))
	NS_C="$NS_PREFIX-$RUN-c" NS_R="$NS_PREFIX-$RUN-r" NS_S="$NS_PREFIX-$RUN-s"
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ns_new "$ns" || return 1
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
			net.ipv4.icmp_msgs_burst=100000 net.ipv6.icmp.ratelimit=0 \
			net.ipv4.tcp_synack_retries=0 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 \
			net.ipv4.conf.default.send_redirects=0 >/dev/null
		# the other family stays silent: no IPv6 at all in an IPv4 run
		[ "$FAMILY" = 6 ] || ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	done
	ip link add c0 address "$MAC_C" netns "$NS_C" type veth peer name "$WAN" address "$MAC_RW" netns "$NS_R" &&
		ip link add s0 address "$MAC_S" netns "$NS_S" type veth peer name "$LAN" address "$MAC_RL" netns "$NS_R" ||
		return 1
	in_router sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	# No multicast (MLD/IGMP reports, NDP) anywhere, before iptables sees it: such packets
	# reach raw PREROUTING at moments of their own and never a queue, so they would make
	# the counters differ by chance. Neighbours are static instead (below).
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ip netns exec "$ns" nft -f - <<-'EOF' || return 1
		table inet nfqcttest {
			chain pre {
				type filter hook prerouting priority -450; policy accept;
				ip6 daddr ff00::/8 drop
				ip daddr 224.0.0.0/4 drop
			}
			chain out {
				type filter hook output priority -450; policy accept;
				ip6 daddr ff00::/8 drop
				ip daddr 224.0.0.0/4 drop
			}
		}
		EOF
	done
	for ns in "$NS_C:c0" "$NS_R:$WAN" "$NS_R:$LAN" "$NS_S:s0"; do
		ip netns exec "${ns%%:*}" ip link set "${ns#*:}" up
		# no multicast: no IGMP/MLD reports of our own in the counters
		ip netns exec "${ns%%:*}" ip link set "${ns#*:}" multicast off
	done
	if [ "$FAMILY" = 6 ]; then
		in_router sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null
		in_client ip -6 addr add "$C6/64" dev c0 nodad
		in_router ip -6 addr add "$R6C/64" dev "$WAN" nodad
		in_router ip -6 addr add "$R6S/64" dev "$LAN" nodad
		in_server ip -6 addr add "$S6/64" dev s0 nodad
		in_client ip -6 route add default via "$R6C"
		in_server ip -6 route add default via "$R6S"
		in_router ip -6 route add default via "$C6"
		in_client ip -6 neigh replace "$R6C" lladdr "$MAC_RW" dev c0 nud permanent
		in_router ip -6 neigh replace "$C6" lladdr "$MAC_C" dev "$WAN" nud permanent
		in_router ip -6 neigh replace "$S6" lladdr "$MAC_S" dev "$LAN" nud permanent
		in_server ip -6 neigh replace "$R6S" lladdr "$MAC_RL" dev s0 nud permanent
	else
		in_client ip addr add "$C4/24" dev c0
		in_router ip addr add "$R4C/24" dev "$WAN"
		in_router ip addr add "$R4S/24" dev "$LAN"
		in_server ip addr add "$S4/24" dev s0
		in_client ip route add default via "$R4C"
		in_server ip route add default via "$R4S"
		in_router ip route add default via "$C4"
		in_client ip neigh replace "$R4C" lladdr "$MAC_RW" dev c0 nud permanent
		in_router ip neigh replace "$C4" lladdr "$MAC_C" dev "$WAN" nud permanent
		in_router ip neigh replace "$S4" lladdr "$MAC_S" dev "$LAN" nud permanent
		in_server ip neigh replace "$R4S" lladdr "$MAC_RL" dev s0 nud permanent
	fi
	for a in ${EXTRA_R[@]+"${EXTRA_R[@]}"}; do
		side=${a%% *} prefix=${a#* }
		[ "$side" = wan ] && side=$WAN || side=$LAN
		in_router ip addr add "$prefix" dev "$side" || return 1
	done
	# inside prefixes: routed to the server, which owns their first address
	for prefix in ${INSIDE[@]+"${INSIDE[@]}"}; do
		first=$(python3 -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n.network_address + (1 if n.num_addresses > 2 else 0))' "$prefix")
		if [ "$FAMILY" = 6 ]; then
			in_router ip -6 route add "$prefix" via "$S6" && in_server ip -6 addr add "$first/128" dev lo
		else
			in_router ip route add "$prefix" via "$S4" && in_server ip addr add "$first/32" dev lo
		fi || return 1
	done
}

# topo_drop: delete this run's namespaces (the EXIT trap would too).
topo_drop() {
	ip netns del "$NS_C" 2>/dev/null; ip netns del "$NS_R" 2>/dev/null; ip netns del "$NS_S" 2>/dev/null
	return 0
}

# The file's filter and raw tables only: the comparison is about them, and nat or mangle in
# the kernel would change packets nfqctd sees unchanged.
tables_of_interest() {
	awk '/^[ \t]*\*/ { t = $1; sub(/^[ \t]*\*/, "", t); sub(/\r$/, "", t); keep = (t == "filter" || t == "raw") }
		keep' "$1"
}

# listeners_start RUNDIR: TCP listeners and UDP echoes on the file's first ports, router and
# server (the same in both runs).
listeners_start() {
	local ns ports
	ports=$(python3 "$PROBE" ports "$FILE" | tr ' ' '\n' | head -n 8 | tr '\n' ' ')
	for ns in "$NS_R" "$NS_S"; do
		# shellcheck disable=SC2086
		ip netns exec "$ns" python3 "$PROBE" listen "$FAMILY" $ports >"$1/listen.$ns" 2>&1 &
		PIDS+=($!)
	done
	for ns in "$NS_R" "$NS_S"; do
		for _ in $(seq 50); do grep -q listening "$1/listen.$ns" 2>/dev/null && break; sleep 0.1; done
	done
}

listeners_stop() {
	local pid
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
}

# probes_send RUNDIR: the client's probes then the server's; outcomes into RUNDIR/outcomes.
probes_send() {
	timeout 120 ip netns exec "$NS_C" python3 "$PROBE" send c0 c "$MAC_C" "$MAC_RW" "$TMP_DIR/probes" >"$1/out.c" &&
		timeout 120 ip netns exec "$NS_S" python3 "$PROBE" send s0 s "$MAC_S" "$MAC_RL" "$TMP_DIR/probes" >"$1/out.s" ||
		{ fail "$NAME: probe sender failed"; return 1; }
	sort -n "$1/out.c" "$1/out.s" >"$1/outcomes"
}

# counters_norm: iptables-save -c text on stdin -> "table chain position packets:bytes rule"
# lines (position "policy" for a built-in chain's policy) for filter and raw.
counters_norm() {
	awk '
		/^\*/ { t = substr($1, 2); delete pos; next }
		t != "filter" && t != "raw" { next }
		/^:/ { c = substr($1, 2); if ($2 != "-") { v = $3; gsub(/[][]/, "", v); print t, c, "policy", v }; next }
		/^\[[0-9]+:[0-9]+\] -A / { v = $1; gsub(/[][]/, "", v); c = $3; pos[c]++
			r = $0; sub(/^\[[0-9]+:[0-9]+\] -A [^ ]+ ?/, "", r)
			print t, c, pos[c], v, r }' | sort -k1,1 -k2,2 -k3,3V
}

# Kernel run: the file in the router's kernel.
run_kernel() {
	local dir=$TMP_DIR/kernel restore=iptables-restore save=iptables-save
	[ "$FAMILY" = 6 ] && restore=ip6tables-restore save=ip6tables-save
	mkdir -p "$dir"
	topo_fresh || { fail "$NAME: topology"; return 1; }
	tables_of_interest "$FILE" >"$dir/loaded.rules"
	# Empty raw and filter tables first, and the file on top of them without flushing
	# (the same result in a fresh namespace): every built-in chain exists and counts, as
	# nfqctd's do, also when the file has no such table or does not declare the chain
	# (iptables-nft creates only the base chains a file names).
	printf '%s\n' '*raw' ':PREROUTING ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' COMMIT \
		'*filter' ':INPUT ACCEPT [0:0]' ':FORWARD ACCEPT [0:0]' ':OUTPUT ACCEPT [0:0]' COMMIT |
		in_router "$restore" || { fail "$NAME: empty tables"; topo_drop; return 1; }
	if ! in_router "$restore" --noflush <"$dir/loaded.rules" 2>"$dir/restore.err"; then
		SKIP_REASON="the kernel cannot load it: $(head -n 1 "$dir/restore.err")"
		topo_drop
		return 77
	fi
	listeners_start "$dir"
	probes_send "$dir" || return 1
	listeners_stop
	{ in_router "$save" -c -t raw; in_router "$save" -c -t filter; } | counters_norm >"$dir/counters"
	topo_drop
}

# nfqctd run: the same file in the daemon, the router's kernel queueing only.
run_nfqct() {
	local dir=$TMP_DIR/nfqct rules=$1
	mkdir -p "$dir"
	topo_fresh || { fail "$NAME: topology"; return 1; }
	# Both roles: install keeps one role, so the router role is installed and the host
	# role's rules (as `print` shows them) are added beside it.
	if ! in_router "$KERNEL_RULES" install router --queues 0 --no-offload ||
		! in_router "$KERNEL_RULES" print host --queues 0 --no-offload >"$dir/host-role"; then
		fail "$NAME: kernel queue rules"
		topo_drop
		return 1
	fi
	while read -r cmd; do
		# (print shows plain words, no quoting: split on blanks)
		# shellcheck disable=SC2086
		in_router $cmd || { fail "$NAME: kernel queue rule: $cmd"; topo_drop; return 1; }
	done <"$dir/host-role"
	# a fresh daemon: no stat tree, no state file of an earlier run
	rm -rf "$STATDIR" "$TMP_DIR/nfqct.state"
	nfqctd_start "--rules-v$FAMILY" "$rules" || { topo_drop; return 1; }
	listeners_start "$dir"
	probes_send "$dir" || { nfqctd_stop; return 1; }
	listeners_stop
	"$NFQCT" -s "$STATDIR" rules -c | counters_norm >"$dir/counters"
	"$NFQCT" -s "$STATDIR" stat >"$dir/stat" 2>&1
	nfqctd_stop || fail "$NAME: nfqctd exit status $?"
	topo_drop
}

# expected KIND KEY: the plan's reason when "expect KIND KEY ..." lists the difference.
expected() {
	local e
	for e in ${EXPECT[@]+"${EXPECT[@]}"}; do
		case "$e" in "$1 $2 "*) echo "${e#"$1 $2 "}"; return 0 ;; esac
	done
	return 1
}

# compare: counters by (table, chain, position), outcomes by probe; the differences.
compare() {
	local k=$TMP_DIR/kernel n=$TMP_DIR/nfqct bad=0 key kv nv why line
	# counters: join on "table chain position", a side without the key reads 0:0
	while IFS=$'\t' read -r key kv nv line; do
		[ "$kv" = "$nv" ] && continue
		if why=$(expected counter "$key"); then
			note "$NAME: expected difference, counter $key: kernel $kv, nfqctd $nv ($why)"
		else
			echo "    counter $key: kernel $kv, nfqctd $nv   $line" >&2
			bad=$((bad + 1))
		fi
	done < <(awk '
		FNR == 1 { f++ }
		{ key = $1 " " $2 " " $3; r = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ ?/, "", r)
		  v[f, key] = $4; keys[key] = 1; if (r != "" && !(key in txt)) txt[key] = r }
		END { for (key in keys) printf "%s\t%s\t%s\t%s\n", key,
			((1, key) in v) ? v[1, key] : "0:0", ((2, key) in v) ? v[2, key] : "0:0", txt[key] }' \
		"$k/counters" "$n/counters" | sort -V)
	# outcomes: line N of both files is probe N
	while IFS=$'\t' read -r key kv nv line; do
		[ "$kv" = "$nv" ] && continue
		if why=$(expected probe "$key"); then
			note "$NAME: expected difference, probe $key: kernel $kv, nfqctd $nv ($why)"
		else
			echo "    probe $key ($line): kernel $kv, nfqctd $nv" >&2
			bad=$((bad + 1))
		fi
	done < <(paste "$k/outcomes" "$n/outcomes" | awk -F'\t' '{ printf "%s\t%s\t%s\t%s %s %s %s %s\n", $1, $7, $14, $2, $3, $4, $5, $6 }')
	return "$bad"
}

# diff_file FILE [NFQCT_FILE]: one file through both runs; 0 same, 1 different, 77 skipped.
diff_file() {
	local t0 t1 n rc
	FILE=$1 NAME=$(basename "$1" .rules) SKIP_REASON=
	local nfile=${2:-$1}
	plan_read "$FILE"
	if ! "$NFQCTD" --check "--rules-v$FAMILY" "$nfile" -o "nfqct.state_file=$TMP_DIR/none.state" >"$TMP_DIR/check.out" 2>&1; then
		SKIP_REASON="not loadable: $(grep -m1 -E 'error|refused' "$TMP_DIR/check.out" || head -n 1 "$TMP_DIR/check.out")"
		SKIP_REASON=${SKIP_REASON//"$NFQCT_SRCDIR/"/}
		return 77
	fi
	t0=$(date +%s)
	python3 "$PROBE" gen "$FILE" "$FAMILY" "c=$([ "$FAMILY" = 6 ] && echo "$C6" || echo "$C4")" \
		"rc=$([ "$FAMILY" = 6 ] && echo "$R6C" || echo "$R4C")" \
		"rs=$([ "$FAMILY" = 6 ] && echo "$R6S" || echo "$R4S")" \
		"r=$(for a in ${EXTRA_R[@]+"${EXTRA_R[@]}"}; do a=${a#* }; printf '%s,' "${a%/*}"; done)" \
		"s=$([ "$FAMILY" = 6 ] && echo "$S6" || echo "$S4")" \
		"inside=$(IFS=,; echo "${INSIDE[*]+"${INSIDE[*]}"}")" >"$TMP_DIR/probes" ||
		{ fail "$NAME: probe generation"; return 1; }
	n=$(wc -l <"$TMP_DIR/probes")
	rm -rf "$TMP_DIR/kernel" "$TMP_DIR/nfqct"
	run_kernel; rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	run_nfqct "$nfile" || return 1
	t1=$(date +%s)
	note "$NAME: $n probes, $(wc -l <"$TMP_DIR/kernel/counters") counters, $((t1 - t0)) s"
	# NFQCT_DIFF_KEEP=DIR: keep both runs' files (probes, outcomes, counters) for a look
	if [ -n "${NFQCT_DIFF_KEEP:-}" ]; then
		mkdir -p "$NFQCT_DIFF_KEEP/$NAME" && cp -r "$TMP_DIR/probes" "$TMP_DIR/kernel" "$TMP_DIR/nfqct" "$NFQCT_DIFF_KEEP/$NAME/"
	fi
	if compare; then
		note "$NAME: kernel and nfqctd agree${EXPECT[*]:+ (but for the expected differences)}"
		return 0
	fi
	fail "$NAME: kernel and nfqctd differ (see above)"
	return 1
}

record() {
	case "$2" in
	0) SUMMARY+=("PASS  $1") ;;
	77) SUMMARY+=("SKIP  $1: $SKIP_REASON") ;;
	*) SUMMARY+=("FAIL  $1") ;;
	esac
}

files=()
selftest=0
if [ "${1:-}" = --self-test ]; then
	selftest=1
	files=("$CORPUS"/handmade-*.rules)
elif [ $# -gt 0 ]; then
	files=("$@")
else
	while read -r f; do
		case "$f" in ""|\#*) ;; *) files+=("$CORPUS/$f") ;; esac
	done <"$CORPUS/check.list"
fi

passed=0 failed=0 skipped=0
for f in "${files[@]}"; do
	[ -f "$f" ] || { fail "no such file: $f"; failed=$((failed + 1)); continue; }
	diff_file "$f"; rc=$?
	record "$(basename "$f")" "$rc"
	case "$rc" in 0) passed=$((passed + 1)) ;; 77) skipped=$((skipped + 1)); note "SKIP $(basename "$f"): $SKIP_REASON" ;;
	*) failed=$((failed + 1)) ;; esac
done

if [ "$selftest" -eq 1 ]; then
	# The harness must see a wrong nfqctd: the first handmade file with two rules of a chain
	# swapped (the same rules, another order) has to FAIL, on counters.
	src=${files[0]}
	# Swap the first two different rules of one chain.
	python3 - "$src" "$TMP_DIR/swapped.rules" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
rules = [i for i, l in enumerate(lines) if l.startswith("-A ")]
for a, b in zip(rules, rules[1:]):
    if lines[a].split()[1] == lines[b].split()[1] and lines[a] != lines[b]:
        lines[a], lines[b] = lines[b], lines[a]
        break
open(sys.argv[2], "w").write("\n".join(lines))
PY
	cmp -s "$src" "$TMP_DIR/swapped.rules" && fail "self-test: could not swap two rules of $src"
	note "self-test: nfqctd gets $(basename "$src") with two rules swapped; this run must FAIL"
	FAILURES_BEFORE=$FAILURES
	diff_file "$src" "$TMP_DIR/swapped.rules"; rc=$?
	FAILURES=$FAILURES_BEFORE
	if [ "$rc" -eq 1 ]; then
		SUMMARY+=("PASS  self-test: two swapped rules in nfqctd's copy of $(basename "$src") are found")
		passed=$((passed + 1))
	else
		SUMMARY+=("FAIL  self-test: nfqctd with two rules of $(basename "$src") swapped was not told apart (status $rc)")
		fail "self-test: the harness did not see the swapped rules"
		failed=$((failed + 1))
	fi
fi

echo "[$TEST_NAME] summary: $passed passed, $failed failed, $skipped skipped"
for s in "${SUMMARY[@]}"; do echo "    $s"; done
[ "$failed" -eq 0 ] || finish
[ "$passed" -gt 0 ] || skip "no file could be compared"
finish
