#!/usr/bin/env bash
# With the default nfqct.stat_update=rename, a reader never sees a torn or partial stat file.
# The daemon rewrites the tree every 10 ms while a ping flood and a stream of new UDP flows
# (entries keeps growing) cross the router; a reader opens and reads net/stat/nf_conntrack,
# net/stat/nfqct_queue and sys/net/netfilter/nf_conntrack_count in a tight loop for 3 s.
# Every nf_conntrack read must be whole: the kernel's header byte for byte, exactly one line
# per worker in the kernel's format (its separators, 8 lowercase hex digits per field), a
# final newline, and the same entries on every line. The reader must also have seen the file
# change many times, or the test proved nothing.
. "$(dirname "$0")/lib.sh"
require_root_netns ping python3
KHDR_FILE=/proc/net/stat/nf_conntrack
[ -r "$KHDR_FILE" ] || skip "no $KHDR_FILE (nf_conntrack not loaded): nothing to compare the header with"
topo_create
kernel_rules router --queues 0:1 || { fail "kernel rules"; exit 1; }
WORKERS=2
# The housekeeping thread wakes every gc_interval_ms and writes the tree when
# stat_interval_ms has passed: both at 10 ms for a rewrite every 10 ms.
nfqctd_start -q 0:1 -o nfqct.stat_interval_ms=10 -o nfqct.gc_interval_ms=10 || exit 1

timeout 20 ip netns exec "$NS_C" ping -f -c 30000 -w 6 -q "$S4" >"$TMP_DIR/flood" 2>&1 &
PIDS+=($!)
# New UDP flows, paced: one datagram to each of 600 ports over about 3 s.
timeout 20 ip netns exec "$NS_C" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(7000, 7600):
    s.sendto(b"x", ("'"$S4"'", port))
    time.sleep(0.005)' &
PIDS+=($!)

timeout 20 python3 - "$STATDIR" "$KHDR_FILE" "$WORKERS" 3 >"$TMP_DIR/reader.out" 2>&1 <<'PY'
import re, sys, time
statdir, khdr_file, workers, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
khdr = open(khdr_file, "rb").readline()
line_re = re.compile(b"^" + re.sub(rb"[a-z_]+", rb"[0-9a-f]{8}", khdr.rstrip(b"\n")) + b"$")
ct_path = statdir + "/net/stat/nf_conntrack"
q_path = statdir + "/net/stat/nfqct_queue"
count_path = statdir + "/sys/net/netfilter/nf_conntrack_count"
qhdr = None
reads, bad, versions, entries_seen = 0, [], set(), set()

def problem(what, data):
    if len(bad) < 5:
        bad.append("%s: %r" % (what, data[:300]))
    else:
        bad.append(what)

end = time.monotonic() + secs
while time.monotonic() < end:
    with open(ct_path, "rb") as f:
        data = f.read()
    reads += 1
    versions.add(data)
    if not data.endswith(b"\n"):
        problem("no final newline", data)
        continue
    lines = data[:-1].split(b"\n")
    if lines[0] + b"\n" != khdr:
        problem("header differs from the kernel's", data)
    if len(lines) != 1 + workers:
        problem("%d lines" % len(lines), data)
        continue
    if not all(line_re.match(l) for l in lines[1:]):
        problem("a line not in the kernel's format", data)
        continue
    ent = {l.split()[0] for l in lines[1:]}
    if len(ent) != 1:
        problem("entries differ between lines", data)
        continue
    entries_seen.add(int(ent.pop(), 16))

    with open(q_path, "rb") as f:
        q = f.read()
    qlines = q[:-1].split(b"\n") if q.endswith(b"\n") else None
    if qhdr is None and qlines:
        qhdr = qlines[0]
    if (not qlines or len(qlines) != 1 + workers or qlines[0] != qhdr or
            not all(re.match(rb"^[0-9a-f]{8}( [0-9a-f]{8}){%d}$" % (len(qhdr.split()) - 1), l)
                    for l in qlines[1:])):
        problem("nfqct_queue torn", q)
    with open(count_path, "rb") as f:
        c = f.read()
    if not re.match(rb"^[0-9]+\n$", c):
        problem("nf_conntrack_count torn", c)

print("reads %d versions %d entries_values %d max_entries %d bad %d" %
      (reads, len(versions), len(entries_seen), max(entries_seen or [0]), len(bad)))
for b in bad[:10]:
    print("BAD " + b)
PY
assert_eq "reader exit status" 0 "$?"
cat "$TMP_DIR/reader.out" | sed 's/^/    reader: /'
summary=$(head -n 1 "$TMP_DIR/reader.out")
set -- $summary
# reads R versions V entries_values E max_entries M bad B
assert_eq "torn or partial reads" 0 "${10:-missing}"
[ "${2:-0}" -ge 100 ] || fail "only ${2:-0} reads in 3 s"
[ "${4:-0}" -ge 20 ] || fail "the file changed only ${4:-0} times under the reader"
[ "${6:-0}" -ge 2 ] || fail "entries never changed under the reader (${6:-0} values)"

for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
nfqctd_stop
assert_eq "nfqctd exit status" 0 "$?"
finish
