#!/usr/bin/env bash
# -m set against the kernel's ipset, differentially: the same set file is loaded by
# `ipset restore` in the router's namespace and by nfqctd --sets; the same count-only
# rules run in the kernel's INPUT chains (in front of the queue rule) and in nfqctd's
# filter table; the same UDP probes (IPv4 and IPv6, a range of ports) pass both; every
# rule's packet and byte counters must be equal (iptables-save -c against nfqct rules -c).
# The rules cover each type's lookup (hash:ip, hash:net with a nomatch hole and two
# prefix lengths, hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net,
# hash:net,iface (the input interface; INPUT has no output one), bitmap:port, list:set),
# '!', --return-nomatch, and the counters (--packets-gt on a counters set,
# ! --update-counters); then -j SET: the elements it added and deleted, as ipset save has them.
. "$(dirname "$0")/lib.sh"
require_root_netns python3 iptables ip6tables iptables-save ip6tables-save ipset
topo_create
in_router ipset create probe hash:ip 2>/dev/null || skip "the kernel has no ip_set (hash:ip)"
in_router ipset destroy probe
kernel_rules host --queues 0 || { fail "kernel rules"; exit 1; }

cat >"$TMP_DIR/sets" <<'EOF'
create hosts hash:ip family inet hashsize 1024 maxelem 65536
add hosts 198.18.0.2
create nets hash:net family inet hashsize 1024 maxelem 65536 counters
add nets 198.18.0.0/16 packets 0 bytes 0
add nets 198.18.0.2 nomatch packets 0 bytes 0
add nets 198.18.0.0/24 packets 0 bytes 0
create svc hash:ip,port family inet hashsize 1024 maxelem 65536
add svc 198.18.0.1,udp:7001
add svc 198.18.0.1,tcp:7002
create netport hash:net,port family inet hashsize 1024 maxelem 65536
add netport 198.18.0.0/24,udp:7003
create trio hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add trio 198.18.0.1,udp:7004,198.18.0.2
create trionet hash:ip,port,net family inet hashsize 1024 maxelem 65536
add trionet 198.18.0.1,udp:7005,198.18.0.0/30
create ports bitmap:port range 7000-7010
add ports 7002
add ports 7003
create v6 hash:net family inet6 hashsize 1024 maxelem 65536
add v6 2001:db8::/64
add v6 2001:db8::2 nomatch
create v6svc hash:ip,port family inet6 hashsize 1024 maxelem 65536
add v6svc 2001:db8::1,udp:7001
create nif hash:net,iface family inet hashsize 1024 maxelem 65536
add nif 198.18.0.0/24,r0
add nif 198.18.1.0/24,r1
create seen hash:ip,port family inet hashsize 1024 maxelem 65536
create gone hash:net family inet hashsize 1024 maxelem 65536
add gone 198.18.0.2
add gone 198.18.0.3
create any list:set size 8
add any svc
add any netport
EOF
in_router ipset restore -f "$TMP_DIR/sets" || { fail "ipset restore"; exit 1; }

# NAME|FAMILY(4, 6 or 46)|MATCH
RULES=(
	"s1|4|-m set --match-set hosts src"
	"s2|4|-m set ! --match-set hosts dst"
	"s3|4|-m set --match-set nets src"
	"s4|4|-m set --match-set nets src --return-nomatch"
	"s5|4|-m set --match-set nets dst ! --update-counters"
	"s6|4|-m set --match-set svc dst,dst"
	"s7|4|-m set --match-set netport src,dst"
	"s8|4|-m set --match-set trio dst,dst,src"
	"s9|4|-m set --match-set trionet dst,dst,src"
	"s10|4|-m set --match-set ports dst"
	"s11|4|-m set --match-set any src,dst"
	"s12|4|-m set --match-set nets src --return-nomatch --packets-gt 6"
	"s16|4|-m set --match-set nif src,src"
	"s17|4|-m set ! --match-set nif src,dst"
	"s18|4|-p udp --dport 7000:7003 -j SET --add-set seen src,dst"
	"s19|4|-j SET --del-set gone src"
	"s13|6|-m set --match-set v6 src"
	"s14|6|-m set --match-set v6 src --return-nomatch"
	"s15|6|-m set --match-set v6svc dst,dst"
)
{
	echo "*filter"
	for r in "${RULES[@]}"; do
		IFS='|' read -r name fam match <<<"$r"
		echo "-A INPUT -$fam $match -m comment --comment $name"
	done
	echo "COMMIT"
} >"$TMP_DIR/sets.rules"
# the kernel: the same rules, count-only, in front of the queue rule, in rule order
for ((i = ${#RULES[@]} - 1; i >= 0; i--)); do
	IFS='|' read -r name fam match <<<"${RULES[$i]}"
	ipt=iptables
	[ "$fam" = 6 ] && ipt=ip6tables
	# shellcheck disable=SC2086
	in_router "$ipt" -w -I INPUT 1 $match -m comment --comment "$name" || fail "kernel rule $name"
done
nfqctd_start -r "$TMP_DIR/sets.rules" --sets "$TMP_DIR/sets" || exit 1

# probes: UDP to ports 7000..7006 of the router, 3 datagrams each, from the client's
# IPv4 and IPv6 addresses; nobody listens (the replies are ICMP errors, not INPUT)
cat >"$TMP_DIR/probe.py" <<'PY'
import socket, sys
for a, fam in ((sys.argv[1], socket.AF_INET), (sys.argv[2], socket.AF_INET6)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for port in range(7000, 7007):
        for i in range(3):
            s.sendto(b"x" * (10 + port - 7000), (a, port))
    s.close()
PY
timeout 20 ip netns exec "$NS_C" python3 "$TMP_DIR/probe.py" "$R4C" "$R6C" || fail "probes"
sleep 1

counts() { sed -n 's/^\[\([0-9]*\):\([0-9]*\)\] .*--comment "\{0,1\}\(s[0-9]*\)"\{0,1\}\( .*\)\{0,1\}$/\3 \1:\2/p' | sort; }
{ in_router iptables-save -c -t filter; in_router ip6tables-save -c -t filter; } | counts >"$TMP_DIR/kern"
"$NFQCT" -s "$STATDIR" rules -c | counts >"$TMP_DIR/ours"
for r in "${RULES[@]}"; do
	name=${r%%|*}
	assert_eq "$name packets:bytes as the kernel's" "$(awk -v n="$name" '$1 == n { print $2 }' "$TMP_DIR/kern")" \
		"$(awk -v n="$name" '$1 == n { print $2 }' "$TMP_DIR/ours")"
done
# -j SET's additions and deletions: the sets as the kernel's
for set in seen gone; do
	assert_eq "-j SET: $set as the kernel's" "$(in_router ipset save "$set" | grep '^add' | sort)" \
		"$("$NFQCT" -s "$STATDIR" set save "$set" | grep '^add' | sort)"
done
# and the element counters: nfqct set save's against ipset save's
assert_eq "nets' element counters as the kernel's" \
	"$(in_router ipset save nets | grep '^add' | sort)" "$("$NFQCT" -s "$STATDIR" set save nets | grep '^add' | sort)"

nfqctd_stop
in_router ipset destroy 2>/dev/null
finish
