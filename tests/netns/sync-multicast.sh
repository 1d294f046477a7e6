#!/usr/bin/env bash
# Replication over multicast, IPv4 and IPv6, against Debian's conntrackd (FTFW), in two
# namespaces joined by one link: "a" runs nfqctd (nfqct.sync_transport=multicast), "peer"
# runs conntrackd over its kernel conntrack. For each family: a flow made in the peer's
# kernel (conntrack -I) reaches nfqctd's external cache; `nfqct ha primary` commits it and
# sends nfqctd's table, which reaches conntrackd's external cache in turn.
. "$(dirname "$0")/lib.sh"
require_root_netns conntrackd conntrack

NS_A="$NS_PREFIX-a"
NS_P="$NS_PREFIX-peer"
ns_new "$NS_A" && ns_new "$NS_P" || { fail "namespaces"; exit 1; }
ip link add a0 netns "$NS_A" type veth peer name p0 netns "$NS_P" || { fail "veth"; exit 1; }
addr "$NS_A" a0 198.18.2.1/24 2001:db8:2::1/64
addr "$NS_P" p0 198.18.2.2/24 2001:db8:2::2/64
in_a() { ip netns exec "$NS_A" "$@"; }
in_peer() { ip netns exec "$NS_P" "$@"; }

# one_family 4|6
one_family() {
	local fam=$1 group local_a peer_if conf dir ctd_pid a_pid i tuple back
	dir=$TMP_DIR/v$fam
	mkdir -p "$dir/stat"
	if [ "$fam" = 4 ]; then
		group=225.0.0.50 local_a=198.18.2.1:3780
		peer_if="IPv4_address 225.0.0.50
		IPv4_interface 198.18.2.2"
		tuple="src=198.18.7.1 dst=198.18.8.1 sport=40000 dport=443"
		in_peer conntrack -I -p tcp -s 198.18.7.1 -d 198.18.8.1 --sport 40000 --dport 443 \
			--state ESTABLISHED -u SEEN_REPLY,ASSURED -t 3600 >/dev/null 2>&1
	else
		group="[ff12::3780]" local_a="[2001:db8:2::1]:3780"
		peer_if="IPv6_address ff12::3780
		IPv6_interface 2001:db8:2::2"
		tuple="src=2001:db8:7::1 dst=2001:db8:8::1 sport=40000 dport=443"
	fi
	conf=$dir/conntrackd.conf
	cat >"$conf" <<EOF
Sync {
	Mode FTFW {
	}
	Multicast {
		$peer_if
		Group 3780
		Interface p0
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile $dir/conntrackd.log
	Syslog off
	LockFile $dir/conntrackd.lock
	UNIX {
		Path $dir/conntrackd.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Kernelspace {
		Address Ignore {
			IPv4_address 198.18.2.0/24
			IPv6_address 2001:db8:2::/64
		}
	}
}
EOF
	# a queue per family: the first daemon's binding may outlive it for a moment
	ip netns exec "$NS_A" "$NFQCTD" -f -q "$fam" -s "$dir/stat" -r "$TMP_DIR/accept.rules" -o nfqct.state_file=none \
		-o nfqct.sync_mode=ftfw -o nfqct.sync_transport=multicast -o "nfqct.sync_peer=$group:3780" \
		-o "nfqct.sync_local=$local_a" -o nfqct.sync_interface=a0 >"$dir/nfqctd.log" 2>&1 &
	a_pid=$!
	PIDS+=($a_pid)
	disown $a_pid
	ip netns exec "$NS_P" conntrackd -C "$conf" >"$dir/conntrackd.out" 2>&1 &
	ctd_pid=$!
	PIDS+=($ctd_pid)
	disown $ctd_pid
	for i in $(seq 50); do
		[ -e "$dir/stat/net/stat/nf_conntrack" ] && in_peer conntrackd -C "$conf" -s >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ -e "$dir/stat/net/stat/nf_conntrack" ] || { fail "v$fam: nfqctd did not start"; cat "$dir/nfqctd.log" >&2; return; }
	in_peer conntrackd -C "$conf" -s >/dev/null 2>&1 ||
		{ fail "v$fam: conntrackd did not start"; cat "$dir/conntrackd.out" "$dir/conntrackd.log" >&2; return; }
	if [ "$fam" = 6 ]; then
		in_peer conntrack -I -p tcp -s 2001:db8:7::1 -d 2001:db8:8::1 --sport 40000 \
			--dport 443 --state ESTABLISHED -u SEEN_REPLY,ASSURED -t 3600 >/dev/null 2>&1 ||
			fail "v$fam: conntrack -I"
	else
		# made before conntrackd started: its bulk send at our resync request carries it
		# (asked again now that conntrackd listens: the start's request may have
		# gone out before it joined the group)
		assert_pass "$NFQCT" -s "$dir/stat" ha backup
	fi
	for i in $(seq 100); do
		"$NFQCT" -s "$dir/stat" list --external 2>/dev/null | grep -q "$tuple" && break
		sleep 0.1
	done
	"$NFQCT" -s "$dir/stat" list --external | sed "s/^/    v$fam external: /"
	"$NFQCT" -s "$dir/stat" list --external | grep -q "ESTABLISHED $tuple" ||
		fail "v$fam: the peer's flow did not reach nfqctd over multicast"
	assert_pass "$NFQCT" -s "$dir/stat" ha primary
	"$NFQCT" -s "$dir/stat" list | grep -q "ESTABLISHED $tuple .*\[ASSURED\]" ||
		fail "v$fam: nfqct list lacks the committed flow"
	# nfqctd's bulk send reaches conntrackd's external cache
	for i in $(seq 100); do
		in_peer conntrackd -C "$conf" -e 2>/dev/null | grep -q "$tuple" && break
		sleep 0.1
	done
	in_peer conntrackd -C "$conf" -e 2>/dev/null | sed "s/^/    v$fam conntrackd -e: /"
	in_peer conntrackd -C "$conf" -e 2>/dev/null | grep -q "ESTABLISHED $tuple" ||
		fail "v$fam: nfqctd's table did not reach conntrackd over multicast"
	sleep 1.2
	assert_eq "v$fam foreign datagrams" 0 "$(stat_sum "$dir/stat/net/stat/nfqct_sync" foreign)"
	assert_eq "v$fam malformed" 0 "$(stat_sum "$dir/stat/net/stat/nfqct_sync" malformed)"
	kill -TERM "$a_pid" "$ctd_pid" 2>/dev/null
	timeout 10 tail --pid="$a_pid" -f /dev/null
	timeout 10 tail --pid="$ctd_pid" -f /dev/null
	in_peer conntrack -F >/dev/null 2>&1
}

printf '%s\n' "$ACCEPT_RULES_TEXT" >"$TMP_DIR/accept.rules"
one_family 4
one_family 6
finish
