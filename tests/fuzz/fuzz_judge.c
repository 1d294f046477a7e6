/*
 * fuzz_judge.c - the judging pipeline (nfqct_judge) on sequences of packets.
 *
 * The input is a run of records, each one packet as NFQUEUE would hand it:
 *
 *	byte 0   hook (low 3 bits, mod 5), bit 3 checksum not verified,
 *	         bit 4 copy cut (len > caplen), bit 5 uid/gid known,
 *	         bits 6-7 which mark (0, 1, 2, 0x7)
 *	byte 1   time step: the clock advances by (b * b * 4) ms before it
 *	         (0 .. 260 s, so timeouts and expectations run out)
 *	byte 2   interfaces: indev (low nibble), outdev (high nibble), mod 5
 *	         (0 none, 1 lo, 2 eth0, 3 eth1, 4 br-guest); both nibbles 8 or
 *	         more: the source MAC is the one the raw table drops
 *	byte 3-4 length of the packet, big-endian (cut to what is left)
 *	...      the packet, from its IP header
 *
 * All packets of one input share one small table (nf_conntrack_max 8, so
 * early drop runs), one fixed ruleset that uses many matches and targets
 * (user chains, NOTRACK, CT --zone, CT --helper ftp/tftp, marks, TCP flags,
 * multiport, conntrack options, ICMP types, and the stateful limit, recent,
 * hashlimit, connlimit and CONNMARK, whose state outlives an input: a
 * crash there may need the inputs before it), and the loopback memory.  The
 * housekeeping sweep (nfqct_ct_gc) runs every fourth packet, as the
 * housekeeping thread would between batches, and a last sweep far in the
 * future ends the input.  Each input starts from an empty table (flushed),
 * so a crash reproduces from its input alone.
 * gen-seeds.py writes the seed corpus in this format.
 */
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <urcu-qsbr.h>

#include "nfqct/addrs.h"
#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/judge.h"
#include "nfqct/loopback.h"
#include "fuzz.h"

#define MAX_PACKETS 64
#define PKT_MAX 4096

static const char ruleset[] =
	"*raw\n"
	":PREROUTING ACCEPT [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	":zones - [0:0]\n"
	"-A PREROUTING -i br-+ -j zones\n"
	"-A zones -i br-guest -j CT --zone 10\n"
	"-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n"
	"-A PREROUTING -p udp --dport 69 -j CT --helper tftp\n"
	"-A PREROUTING -p udp --dport 1069 -j CT --helper tftp --zone 3\n"
	"-A OUTPUT -p tcp --dport 21 -j CT --helper ftp\n"
	"-A OUTPUT -p udp --dport 69 -j CT --helper tftp\n"
	"-A PREROUTING -p udp --dport 7 -j NOTRACK\n"
	"-A PREROUTING -p udp --dport 9 -j DROP\n"
	"-A PREROUTING -s 198.18.9.0/24 -j CT --notrack\n"
	"-A PREROUTING -p udp --dport 5 -j MARK --set-mark 0x5\n"
	"-A OUTPUT -m owner --uid-owner 1000 -j CT --zone 7\n"
	"-A PREROUTING -m mac --mac-source 00:00:5e:00:53:01 -j DROP\n"
	"COMMIT\n"
	"*filter\n"
	":INPUT DROP [0:0]\n"
	":FORWARD DROP [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	":tcpin - [0:0]\n"
	":icmpin - [0:0]\n"
	":lan_out - [0:0]\n"
	"-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
	"-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
	"-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT\n"
	"-A INPUT -i lo -j ACCEPT\n"
	"-A INPUT -p tcp -j tcpin\n"
	"-A INPUT -p icmp -j icmpin\n"
	"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n"
	"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\n"
	"-A INPUT -p udp -m multiport --dports 53,67:69,123,5 -j ACCEPT\n"
	"-A INPUT -p sctp -m multiport --dports 36412,2905 -j ACCEPT\n"
	"-A INPUT -m mark --mark 0x7 -j ACCEPT\n"
	"-A INPUT -m iprange --src-range 198.18.0.4-198.18.0.9 -j ACCEPT\n"
	"-A INPUT -m length --length 0:40 -m ttl --ttl-gt 1 -j ACCEPT\n"
	"-A INPUT -m ipv6header --header hop-by-hop,ipv6-frag --soft -j ACCEPT\n"
	"-A INPUT -m frag --fragfirst -j ACCEPT\n"
	"-A INPUT -f -j DROP\n"
	"-A INPUT -m addrtype --dst-type LOCAL --limit-iface-in -p udp --dport 1000:2000 -j ACCEPT\n"
	"-A INPUT -m pkttype --pkt-type broadcast -j DROP\n"
	"-A tcpin -p tcp --syn --dport 22 -m connlimit --connlimit-above 2 --connlimit-mask 24 -j DROP\n"
	"-A tcpin -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name SSH --rsource\n"
	"-A tcpin -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 60 --hitcount 4 --rttl --name SSH --rsource -j DROP\n"
	"-A tcpin -p tcp --dport 80 -m limit --limit 5/min --limit-burst 3 -j ACCEPT\n"
	"-A tcpin -p tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -m multiport --dports 21,22,80,443 -j ACCEPT\n"
	"-A tcpin -p tcp --tcp-flags SYN,ECE,CWR ECE,CWR -j DROP\n"
	"-A tcpin -p tcp ! --syn -m conntrack --ctstate NEW -j DROP\n"
	"-A tcpin -p tcp --dport 80 --tcp-option 8 -j MARK --set-mark 0x8\n"
	"-A tcpin -p tcp -m tcp --sport 1024:65535 --dport 8000:8100 -j ACCEPT\n"
	"-A tcpin -j RETURN\n"
	"-A icmpin -p icmp -m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstip --hashlimit-name ping -j DROP\n"
	"-A icmpin -p icmp --icmp-type echo-request -j ACCEPT\n"
	"-A icmpin -p icmp --icmp-type 3/4 -j ACCEPT\n"
	"-A icmpin -p icmp ! --icmp-type 5 -j RETURN\n"
	"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	"-A FORWARD -p udp --dport 53 -j CONNMARK --set-xmark 0x53/0xff\n"
	"-A FORWARD -m connmark --mark 0x53/0xff -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff\n"
	"-A FORWARD -p udp -m recent --rcheck --seconds 10 --reap --name SSH -j DROP\n"
	"-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED -m helper --helper tftp -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED -p icmp -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate RELATED -p ipv6-icmp -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstatus ASSURED,SEEN_REPLY --ctexpire 10:600 --ctdir ORIGINAL -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctproto 17 --ctorigsrc 198.18.0.0/16 --ctorigdstport 53 -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctrepldst 2001:db8::/32 --ctreplsrcport 1:1023 -j ACCEPT\n"
	"-A FORWARD -m conntrack ! --ctstatus CONFIRMED -m mark --mark 0x5 -j MARK --set-mark 0x7\n"
	"-A FORWARD -i eth0 -o eth1 -j lan_out\n"
	"-A FORWARD -i br-+ -o eth1 -j lan_out\n"
	"-A FORWARD -p sctp -j ACCEPT\n"
	"-A FORWARD -p udplite -m multiport --ports 7 -j ACCEPT\n"
	"-A FORWARD -m devgroup --src-group 0x2 -j ACCEPT\n"
	"-A lan_out -p tcp --dport 25 ! -s 198.18.0.25 -j DROP\n"
	"-A lan_out -i br-guest -d 10.0.0.0/8 -j DROP\n"
	"-A lan_out -j ACCEPT\n"
	"-A OUTPUT -m conntrack --ctstate INVALID -j DROP\n"
	"-A OUTPUT -p tcp --tcp-flags SYN,RST SYN,RST -j DROP\n"
	"-A OUTPUT -m owner --gid-owner 100 -j DROP\n"
	"COMMIT\n";

/* ifindex 0 is "none"; 1 lo, 2 eth0, 3 eth1, 4 br-guest */
static const char *const ifnames[] = { "", "lo", "eth0", "eth1", "br-guest" };
static const uint32_t marks[] = { 0, 1, 2, 7 };

static struct nfqct_settings settings;
static struct nfqct_ruleset *rs;
static struct nfqct_ct *ct;	/* emptied for every input: creating one waits for RCU */
static bool verbose;		/* NFQCT_FUZZ_VERBOSE set: one line per packet (seed checks) */

static char *resolve(unsigned int ifindex, char *name)
{
	if (ifindex == 0 || ifindex >= sizeof(ifnames) / sizeof(ifnames[0]))
		return NULL;
	return strcpy(name, ifnames[ifindex]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct nfqct_addrs_entry local[] = {
		{ .addr.b = { 198, 18, 0, 1 }, .family = AF_INET, .plen = 32, .type = RTN_LOCAL, .ifindex = 2 },
		{ .addr.b = { 198, 18, 0, 255 }, .family = AF_INET, .plen = 32, .type = RTN_BROADCAST, .ifindex = 2 },
		{ .addr.b = { 127 }, .family = AF_INET, .plen = 8, .type = RTN_LOCAL, .ifindex = 1 },
		{ .addr.b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .family = AF_INET6, .plen = 128, .type = RTN_LOCAL, .ifindex = 2 },
	};
	static const struct nfqct_addrs_link links[] = { { 2, 2 }, { 4, 3 } };

	if (nfqct_addrs_publish(local, 4, links, 2) < 0)
		abort();
	nfqct_ifname_set_resolver(resolve);
	verbose = getenv("NFQCT_FUZZ_VERBOSE") != NULL;
	nfqct_settings_init(&settings);
	settings.ct_max = 8;
	settings.ct_buckets = 16;
	settings.expect_max = 4;
	if (nfqct_ruleset_parse("fuzz_judge.rules", ruleset, sizeof(ruleset) - 1, 1, &rs, stderr) < 0)
		fuzz_fail("the judge target's ruleset does not load");
	rcu_register_thread();
	ct = nfqct_ct_create(&settings);
	if (!ct)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqct_ct_stats st;
	struct nfqct_loopback *lo;
	uint64_t now = 1000000;
	unsigned int n = 0;

	memset(&st, 0, sizeof(st));
	nfqct_ct_flush(ct, &st);
	if (nfqct_ct_count(ct) != 0)
		fuzz_fail("a flushed table holds entries");
	lo = nfqct_loopback_create(16);
	if (!lo)
		abort();

	struct nfqct_judge_ctx cx = { .ct = ct, .rs = rs, .s = &settings, .st = &st, .lo = lo };

	while (size >= 5 && n < MAX_PACKETS) {
		uint8_t ctl = data[0], step = data[1], dev = data[2];
		size_t len = (size_t)data[3] << 8 | data[4];
		struct nfqct_verdict v;
		uint8_t *copy;

		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		if (len > PKT_MAX)
			len = PKT_MAX;
		/* an exact-size copy: reading past the packet is a heap overflow */
		copy = malloc(len ? len : 1);
		if (!copy)
			abort();
		memcpy(copy, data, len);
		data += len;
		size -= len;

		struct nfqct_pkt pkt = {
			.data = copy,
			.caplen = (uint32_t)len,
			.len = (uint32_t)len + (ctl & 0x10 ? 64u : 0u),
			.mark = marks[ctl >> 6],
			.hook = (uint8_t)((ctl & 7) % NFQCT_HOOK_MAX),
			.indev = (dev & 0xf) % 5,
			.outdev = (uint32_t)(dev >> 4) % 5,
			.flags = ctl & 0x08 ? NFQCT_PKT_F_CSUM_NOTVERIFIED : 0,
			.flags2 = ctl & 0x20 ? NFQCT_PKT_F2_UIDGID : 0,
			.uid = 1000,
			.gid = 100,
			.hwaddr_len = 6,
			.hwaddr = { 0x00, 0x00, 0x5e, 0x00, 0x53, (dev & 0x88) == 0x88 },
		};

		now += (uint64_t)step * step * 4;
		nfqct_judge(&cx, &pkt, now, &v);
		if (verbose)
			fprintf(stderr, "packet %u: hook %u %s by %u ctstate %#x%s%s entries %u"
				" expectations created %" PRIu64 " used %" PRIu64 " %s\n", n,
				pkt.hook, v.accept ? "ACCEPT" : "DROP", v.by, v.ctstate,
				v.reply ? " reply" : "", v.confirmed ? " confirmed" : "", nfqct_ct_count(ct),
				(uint64_t)st.expect_create, (uint64_t)st.expect_new,
				v.invalid_reason ? v.invalid_reason : "");
		if (v.accept && (v.by == NFQCT_BY_TABLE_FULL || v.by == NFQCT_BY_INSERT_FAILED))
			fuzz_fail("a packet dropped by conntrack was accepted");
		if (v.confirmed && !v.conn)
			fuzz_fail("a confirmed packet without its entry");
		if (nfqct_ct_count(ct) > settings.ct_max)
			fuzz_fail("the table holds more than nf_conntrack_max entries");
		/* v.conn was valid until here */
		rcu_quiescent_state();
		free(copy);
		if (++n % 4 == 0)
			while (nfqct_ct_gc(ct, &st, now, 64) || nfqct_ct_gc_sweeping(ct))
				;
	}
	/* the end: a sweep far in the future expires every entry */
	while (nfqct_ct_gc(ct, &st, now + 10ull * 24 * 3600 * 1000, 64) || nfqct_ct_gc_sweeping(ct))
		;
	nfqct_loopback_destroy(lo);
	rcu_quiescent_state();
	return 0;
}
