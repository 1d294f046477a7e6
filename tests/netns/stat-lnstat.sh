#!/usr/bin/env bash
# lnstat reads the stat files unchanged. /proc/net is a per-process symlink, so a bind mount
# over /proc/net/stat cannot redirect it; a private mount namespace with a tmpfs over /proc
# can (it touches no network and no mount the rest of the machine sees). With
# nfqct.stat_update=inplace the files are rewritten in place, so lnstat, which keeps them open
# and rewinds, sees new values: while a bounded ping flood crosses the router, a later sample
# of `lnstat -f nf_conntrack -c 3 -i 1` shows a non-zero found/s rate, and
# `lnstat -f nfqct_queue` a non-zero rx_packets/s rate; so does `nfqct stat -i 1 -c 2`.
. "$(dirname "$0")/lib.sh"
require_root_netns ping unshare mount lnstat
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
nfqctd_start -q 0:1 -o nfqct.stat_interval_ms=100 -o nfqct.stat_update=inplace || exit 1

# in_lnstat ARGS...: lnstat with our stat dir as its /proc/net/stat (bounded).
in_lnstat() {
	timeout 20 unshare -m sh -c 'mount -t tmpfs none /proc && mkdir -p /proc/net/stat &&
		mount --bind "$0/net/stat" /proc/net/stat && exec lnstat "$@"' "$STATDIR" "$@"
}

# lnstat_col OUT FILE FIELD: FIELD's column of lnstat's data rows (one per sample), in the
# order of FILE's header.
lnstat_col() {
	local idx
	idx=$(head -n 1 "$2" | awk -v f="$3" '{ for (i = 1; i <= NF; i++) if ($i == f) print i }')
	[ -n "$idx" ] || { fail "no field $3 in $2"; return 1; }
	awk -F'|' -v c="$idx" '/^ *[0-9]+\|/ { gsub(/ /, "", $c); print $c }' "$1"
}

# The fields lnstat finds are exactly the files' header names, in order.
in_lnstat -d >"$TMP_DIR/lnstat.d" 2>&1
for f in nf_conntrack nfqct_queue; do
	want=$(head -n 1 "$STATDIR/net/stat/$f" | tr -s ' ' '\n' | grep . | awk '{ printf "%d:%s ", NR, $0 }')
	got=$(awk -v f="/proc/net/stat/$f:" '/^\/proc/ { on = ($0 == f); next }
		on { sub(":", "", $1); printf "%d:%s ", $1, $2 }' "$TMP_DIR/lnstat.d")
	assert_eq "lnstat -d: fields of $f" "$want" "$got"
done

# A paced flood (about 500 echo requests a second, bounded in count and time) that lasts
# longer than both lnstat runs below.
timeout 40 ip netns exec "$NS_C" ping -i 0.002 -c 4000 -w 25 -q "$S4" >"$TMP_DIR/flood" 2>&1 &
flood=$!
PIDS+=("$flood")
for i in $(seq 50); do
	[ "$(stat_sum "$STATDIR/net/stat/nf_conntrack" found 2>/dev/null || echo 0)" -gt 0 ] && break
	sleep 0.1
done

# lnstat's first sample may straddle the start; the later ones must see the flood.
# Meanwhile nfqct's own rates (it rereads the files, any update mode) see it too.
timeout 20 "$NFQCT" -s "$STATDIR" stat -i 1 -c 2 --json >"$TMP_DIR/rates.json" 2>&1 &
rates=$!
PIDS+=("$rates")
in_lnstat -f nf_conntrack -c 3 -i 1 >"$TMP_DIR/lnstat.ct" 2>&1
wait "$rates"
assert_eq "nfqct stat -i 1 -c 2 --json exit status" 0 "$?"
assert_eq "nfqct stat -i 1 -c 2: samples with found/s > 0 and no drops" 2 "$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["rates"]
    if r["nf_conntrack"]["found"] > 0 and r["nfqct_queue"]["rx_packets"] > 0 and r["nfqct_queue"]["dropped"] == 0:
        n += 1
print(n)' "$TMP_DIR/rates.json")"
sed 's/^/    lnstat: /' "$TMP_DIR/lnstat.ct"
assert_eq "lnstat -f nf_conntrack: samples" 3 "$(grep -cE '^ *[0-9]+\|' "$TMP_DIR/lnstat.ct")"
found=$(lnstat_col "$TMP_DIR/lnstat.ct" "$STATDIR/net/stat/nf_conntrack" found | tail -n +2)
note "found/s in the later samples: $(echo $found)"
echo "$found" | awk '$1 > 0 { ok = 1 } END { exit !ok }' ||
	fail "lnstat -f nf_conntrack: found/s is 0 in every later sample (stale file?)"

in_lnstat -f nfqct_queue -c 3 -i 1 >"$TMP_DIR/lnstat.q" 2>&1
sed 's/^/    lnstat: /' "$TMP_DIR/lnstat.q"
assert_eq "lnstat -f nfqct_queue: samples" 3 "$(grep -cE '^ *[0-9]+\|' "$TMP_DIR/lnstat.q")"
rx=$(lnstat_col "$TMP_DIR/lnstat.q" "$STATDIR/net/stat/nfqct_queue" rx_packets | tail -n +2)
note "rx_packets/s in the later samples: $(echo $rx)"
echo "$rx" | awk '$1 > 0 { ok = 1 } END { exit !ok }' ||
	fail "lnstat -f nfqct_queue: rx_packets/s is 0 in every later sample (stale file?)"
dropped=$(lnstat_col "$TMP_DIR/lnstat.q" "$STATDIR/net/stat/nfqct_queue" dropped | sort -u)
assert_eq "lnstat -f nfqct_queue: dropped/s" 0 "$dropped"

wait "$flood"
assert_eq "flood exit status (every echo answered)" 0 "$?"
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
