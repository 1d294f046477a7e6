/*
 * bench_rules - per-packet cost of the filter walk (`make bench-rules`).
 *
 * Builds rulesets of 10 and 1,000 rules in INPUT, a mix of typical rule
 * shapes (address + protocol + port, ctstate, interface, mark), and runs
 * packets through nfqct_ruleset_filter(): ones that fall through to the
 * policy (the whole chain is walked: the worst case) and ones accepted
 * half-way; then one rule of each extension match on a matching packet;
 * then the stateful matches (limit, hashlimit, recent, connlimit, connmark)
 * and -m set with 10 and 100,000 elements.
 * Prints nanoseconds per packet.  Not part of make check.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/rtnetlink.h>
#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/addrs.h"
#include "nfqct/ifname.h"
#include "nfqct/pkt.h"
#include "nfqct/ipset.h"
#include "nfqct/rules.h"
#include "nfqct/settings.h"

static char *fake_name(unsigned int ifindex, char *name)
{
	snprintf(name, IF_NAMESIZE, "eth%u", ifindex);
	return name;
}

static char *make_rules(unsigned int n)
{
	size_t cap = 128 + (size_t)n * 128, off = 0;
	char *t = malloc(cap);

	off += (size_t)snprintf(t + off, cap - off, "*filter\n:INPUT DROP\n");
	for (unsigned int i = 0; i < n; i++) {
		switch (i % 4) {
		case 0:
			off += (size_t)snprintf(t + off, cap - off,
						"-A INPUT -s 10.%u.%u.0/24 -p tcp --dport %u -j ACCEPT\n",
						(i >> 8) & 255, i & 255, 1000 + i);
			break;
		case 1:
			off += (size_t)snprintf(t + off, cap - off,
						"-A INPUT -s 2001:db8:%x::/48 -p udp --dport %u -j ACCEPT\n",
						i, 1000 + i);
			break;
		case 2:
			off += (size_t)snprintf(t + off, cap - off,
						"-A INPUT -i eth%u -p tcp --dport %u -m conntrack "
						"--ctstate NEW -j ACCEPT\n", 100 + i % 50, 1000 + i);
			break;
		default:
			off += (size_t)snprintf(t + off, cap - off,
						"-A INPUT -m mark --mark 0x%x -p tcp --sport %u -j DROP\n",
						i + 1, 1000 + i);
			break;
		}
	}
	off += (size_t)snprintf(t + off, cap - off, "COMMIT\n");
	return t;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double run(const struct nfqct_ruleset *rs, struct nfqct_pkt *pkts, unsigned int npkts,
		  unsigned long iters, unsigned int *accepted)
{
	static const struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };
	struct nfqct_rules_verdict v;
	uint32_t mark = 0;
	double t0, t1;

	*accepted = 0;
	for (unsigned int i = 0; i < npkts; i++)	/* warm up: caches, name cache */
		nfqct_ruleset_filter(rs, 0, &pkts[i], &ct, 1, &mark, &v);
	t0 = now_ns();
	for (unsigned long k = 0; k < iters; k++) {
		nfqct_ruleset_filter(rs, 0, &pkts[k % npkts], &ct, 1, &mark, &v);
		*accepted += v.accept;
	}
	t1 = now_ns();
	return (t1 - t0) / (double)iters;
}

/* One rule per new match, on one parsed TCP SYN (IPv4, 198.18.0.1:40000 -> 198.18.1.2:80,
 * ttl 64, 60 bytes, from 02:00:00:00:00:01, uid 1000): the cost of each match alone,
 * against a rule of core tests only. */
static int match_rows(void)
{
	static const char *const rows[][2] = {
		{ "core: -p tcp --dport 80", "-p tcp --dport 80" },
		{ "-p tcp --syn", "-p tcp --syn" },
		{ "-p tcp --tcp-option 2", "-p tcp --tcp-option 2" },
		{ "multiport (15 ports, last)", "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,80" },
		{ "conntrack --ctstatus/expire", "-m conntrack --ctstatus ASSURED --ctexpire 100:200" },
		{ "conntrack --ctorigsrc", "-m conntrack --ctorigsrc 198.18.0.0/24" },
		{ "length", "-m length --length 40:100" },
		{ "ttl", "-m ttl --ttl-gt 1" },
		{ "iprange", "-m iprange --src-range 198.18.0.0-198.18.0.9" },
		{ "mac", "-m mac --mac-source 02:00:00:00:00:01" },
		{ "owner", "-m owner --uid-owner 1000" },
		{ "pkttype", "-m pkttype --pkt-type unicast" },
		{ "! -f", "! -f" },
		{ "tcp+multiport+length+ttl", "-p tcp --syn -m multiport --dports 80 -m length --length 40:100 "
		  "-m ttl --ttl-gt 1" },
		{ "addrtype (16 local routes)", "-m addrtype --src-type LOCAL --dst-type UNICAST" },
		/* these on an IPv6 packet: hop-by-hop, fragment (first), UDP */
		{ "v6 core: -p udp --dport 53", "-p udp --dport 53" },
		{ "frag --fragfirst --fragmore", "-m frag --fragfirst --fragmore" },
		{ "ipv6header --header hop,frag,prot", "-m ipv6header --header hop,frag,prot" },
		{ "ipv6header ! route --soft", "-m ipv6header ! --header route --soft" },
	};
	static uint8_t b6[80] = {
		0x60, 0, 0, 0, 0, 24, 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		44, 0, 1, 4, 0, 0, 0, 0,			/* hop-by-hop: PadN */
		IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 7,		/* fragment: offset 0, M */
		0x9c, 0x40, 0, 53, 0, 24, 0, 0,			/* UDP */
	};
	struct nfqct_addrs_entry local[16];
	struct nfqct_pkt p6;
	static uint8_t b[60] = {
		0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, IPPROTO_TCP, 0, 0, 198, 18, 0, 1, 198, 18, 1, 2,
		0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
		2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
	};
	struct nfqct_tuple orig, reply;
	struct nfqct_rules_ct ct = {
		.state = NFQCT_CTSTATE_ESTABLISHED, .status = NFQCT_RULES_CTS_ASSURED, .expire_s = 150,
	};
	struct nfqct_rules_verdict v;
	struct nfqct_pkt p;
	const char *chain = "OUTPUT";

	memset(&p, 0, sizeof(p));
	p.data = b;
	p.caplen = p.len = sizeof(b);
	p.hook = NFQCT_HOOK_OUTPUT;
	p.flags2 = NFQCT_PKT_F2_UIDGID;
	p.uid = 1000;
	p.hwaddr_len = 6;
	p.hwaddr[0] = 2;
	p.hwaddr[5] = 1;
	if (nfqct_pkt_parse(&p)) {
		fprintf(stderr, "bench_rules: test packet does not parse: %s\n", p.invalid_reason);
		return 1;
	}
	memset(&p6, 0, sizeof(p6));
	p6.data = b6;
	p6.caplen = p6.len = 64;
	p6.hook = NFQCT_HOOK_OUTPUT;
	if (nfqct_pkt_parse(&p6)) {
		fprintf(stderr, "bench_rules: IPv6 test packet does not parse: %s\n", p6.invalid_reason);
		return 1;
	}
	/* the box's addresses: the packet's source is the last of 16 local routes */
	memset(local, 0, sizeof(local));
	for (unsigned int i = 0; i < 16; i++) {
		local[i].family = AF_INET;
		local[i].plen = 32;
		local[i].type = RTN_LOCAL;
		local[i].addr.b[0] = 198;
		local[i].addr.b[1] = 18;
		local[i].addr.b[2] = (uint8_t)(i == 15 ? 0 : 100 + i);
		local[i].addr.b[3] = 1;
	}
	nfqct_addrs_publish(local, 16, NULL, 0);
	orig = p.tuple;
	nfqct_tuple_invert(&reply, &orig);
	ct.orig = &orig;
	ct.reply = &reply;
	printf("\n%-30s %10s\n", "one rule, matching packet", "ns/packet");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nfqct_ruleset *rs = NULL;
		unsigned long iters = 5000000, acc = 0;
		struct nfqct_pkt *pk = !strncmp(rows[i][0], "v6", 2) || strstr(rows[i][1], "-m frag") ||
				       strstr(rows[i][1], "-m ipv6header") ? &p6 : &p;
		uint32_t mark = 0;
		char text[512];
		double t0, t1;

		/* mac only on the way in: that row runs in INPUT */
		chain = strstr(rows[i][1], "-m mac") ? "INPUT" : "OUTPUT";
		p.hook = strcmp(chain, "INPUT") ? NFQCT_HOOK_OUTPUT : NFQCT_HOOK_INPUT;
		p6.hook = p.hook;
		snprintf(text, sizeof(text), "*filter\n:%s DROP\n-A %s %s -j ACCEPT\nCOMMIT\n", chain, chain,
			 rows[i][1]);
		if (nfqct_ruleset_parse("bench", text, strlen(text), 1, &rs, stderr)) {
			fprintf(stderr, "bench_rules: '%s' does not load\n", rows[i][1]);
			return 1;
		}
		nfqct_ruleset_filter(rs, 0, pk, &ct, 1, &mark, &v);
		t0 = now_ns();
		for (unsigned long k = 0; k < iters; k++) {
			nfqct_ruleset_filter(rs, 0, pk, &ct, 1, &mark, &v);
			acc += v.accept;
		}
		t1 = now_ns();
		if (acc != iters) {
			fprintf(stderr, "bench_rules: '%s' does not match the test packet\n", rows[i][1]);
			return 1;
		}
		printf("%-30s %10.1f\n", rows[i][0], (t1 - t0) / (double)iters);
		nfqct_ruleset_free(rs);
	}
	return 0;
}

/*
 * The stateful matches, on the same kind of SYN: each row's clock moves by
 * @step_ms per packet (their state depends on it), and they need not all
 * match: the share accepted is printed.  connlimit counts against an
 * empty table: every packet looks its list over and adds itself (the
 * cost of a new connection's first packet).
 */
/* Sets of 10 and 100,000 elements, the packet's source (198.18.0.1) in each. */
static int load_sets(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FILE *in;
	int rc;

	if (!f)
		return -1;
	fprintf(f, "create S10 hash:ip\ncreate S100K hash:ip maxelem 100000\n"
		   "create N10 hash:net\ncreate N100K hash:net maxelem 100000\n");
	for (unsigned int i = 0; i < 100000; i++) {
		/* 198.18.0.1 upwards, one address each; the nets: a /24 for every
		 * 256th, so that two prefix lengths are present */
		unsigned int a = 1 + i;

		if (i < 10)
			fprintf(f, "add S10 198.%u.%u.%u\nadd N10 198.%u.%u.%u%s\n", 18 + (a >> 16), (a >> 8) & 255,
				a & 255, 18 + (a >> 16), (a >> 8) & 255, i % 256 == 50 ? 0 : a & 255,
				i % 256 == 50 ? "/24" : "");
		fprintf(f, "add S100K 198.%u.%u.%u\n", 18 + (a >> 16), (a >> 8) & 255, a & 255);
		if (i % 256 == 50)
			fprintf(f, "add N100K 198.%u.%u.0/24\n", 18 + (a >> 16), (a >> 8) & 255);
		else
			fprintf(f, "add N100K 198.%u.%u.%u\n", 18 + (a >> 16), (a >> 8) & 255, a & 255);
	}
	fclose(f);
	in = fmemopen(text, len, "r");
	rc = in ? nfqct_ipset_load(in, "bench-sets", stderr, NFQCT_IPSET_LOAD_FILE, 0) : -1;
	if (in)
		fclose(in);
	free(text);
	return rc;
}

static int stateful_rows(void)
{
	static const struct { const char *name, *rule; unsigned int step_ms; } rows[] = {
		{ "core: -p tcp --dport 80", "-p tcp --dport 80", 0 },
		{ "limit, bucket empty", "-p tcp --dport 80 -m limit --limit 1/hour --limit-burst 1", 0 },
		{ "limit, refilling (1 ms/pkt)", "-p tcp --dport 80 -m limit --limit 500/sec --limit-burst 5", 1 },
		{ "recent --set", "-p tcp --dport 80 -m recent --set --name B1", 0 },
		{ "recent --rcheck (listed)", "-p tcp --dport 80 -m recent --set --name B2 -m recent --rcheck --name B2", 0 },
		{ "recent --update --hitcount 4", "-p tcp --dport 80 -m recent --set --name B3 -m recent --update --seconds 60 --hitcount 4 --name B3", 1 },
		{ "hashlimit srcip, one key", "-p tcp --dport 80 -m hashlimit --hashlimit-upto 500/sec --hashlimit-mode srcip --hashlimit-name B4", 1 },
		{ "hashlimit srcip,dstport bytes", "-p tcp --dport 80 -m hashlimit --hashlimit-upto 64kb/s --hashlimit-mode srcip,dstport --hashlimit-name B5", 1 },
		{ "connlimit (new conn, 4 ms/pkt)", "-p tcp --dport 80 -m connlimit --connlimit-upto 2", 4 },
		{ "connmark (no entry: no match)", "-p tcp --dport 80 -m connmark ! --mark 1", 0 },
		/* sets (load_sets()): the cost must not grow with the set */
		{ "set hash:ip, 10 elements", "-p tcp --dport 80 -m set --match-set S10 src", 0 },
		{ "set hash:ip, 100000 elements", "-p tcp --dport 80 -m set --match-set S100K src", 0 },
		{ "set hash:net, 10 (/32, /24)", "-p tcp --dport 80 -m set --match-set N10 src", 0 },
		{ "set hash:net, 100000 (/32, /24)", "-p tcp --dport 80 -m set --match-set N100K src", 0 },
		{ "set hash:net, 100000, miss", "-p tcp --dport 80 -m set ! --match-set N100K dst", 0 },
	};
	static uint8_t b[40] = {
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, IPPROTO_TCP, 0, 0, 198, 18, 0, 1, 198, 18, 1, 2,
		0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};
	struct nfqct_settings s;
	struct nfqct_ct *table;
	struct nfqct_rules_ct ct = { .state = NFQCT_CTSTATE_NEW };
	struct nfqct_rules_verdict v;
	struct nfqct_pkt p;

	/* connlimit looks entries up: an RCU reader, as a worker */
	rcu_register_thread();
	rcu_read_lock();
	nfqct_settings_init(&s);
	table = nfqct_ct_create(&s);
	if (!table)
		return 1;
	ct.table = table;
	if (load_sets()) {
		fprintf(stderr, "bench_rules: the sets do not load\n");
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.data = b;
	p.caplen = p.len = sizeof(b);
	p.hook = NFQCT_HOOK_INPUT;
	if (nfqct_pkt_parse(&p))
		return 1;
	printf("\n%-34s %10s %10s\n", "stateful matches", "ns/packet", "accepted");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nfqct_ruleset *rs = NULL;
		unsigned long iters = 2000000, acc = 0;
		uint64_t now = 1000000;
		uint32_t mark = 0;
		char text[512];
		double t0, t1;

		snprintf(text, sizeof(text), "*filter\n:INPUT DROP\n-A INPUT %s -j ACCEPT\nCOMMIT\n", rows[i].rule);
		if (nfqct_ruleset_parse("bench", text, strlen(text), 1, &rs, stderr)) {
			fprintf(stderr, "bench_rules: '%s' does not load\n", rows[i].rule);
			return 1;
		}
		nfqct_ruleset_filter(rs, 0, &p, &ct, now, &mark, &v);
		t0 = now_ns();
		for (unsigned long k = 0; k < iters; k++) {
			now += rows[i].step_ms;
			nfqct_ruleset_filter(rs, 0, &p, &ct, now, &mark, &v);
			acc += v.accept;
		}
		t1 = now_ns();
		printf("%-34s %10.1f %9.1f%%\n", rows[i].name, (t1 - t0) / (double)iters,
		       100.0 * (double)acc / (double)iters);
		nfqct_ruleset_free(rs);
	}
	rcu_read_unlock();
	nfqct_ipset_destroy_all();
	nfqct_ct_destroy(table);
	rcu_unregister_thread();
	return 0;
}

int main(void)
{
	static const unsigned int sizes[] = { 10, 1000 };
	enum { NPKTS = 256 };
	struct nfqct_pkt miss[NPKTS], hit[NPKTS];

	nfqct_ifname_set_resolver(fake_name);
	printf("%-6s %-28s %10s %10s\n", "rules", "packets", "ns/packet", "accepted");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned int n = sizes[s], acc;
		char *text = make_rules(n);
		struct nfqct_ruleset *rs = NULL;
		unsigned long iters = n > 100 ? 200000 : 5000000;
		double ns;

		if (nfqct_ruleset_parse("bench", text, strlen(text), 1, &rs, stderr)) {
			fprintf(stderr, "bench_rules: ruleset does not load\n");
			return 1;
		}
		free(text);
		for (unsigned int i = 0; i < NPKTS; i++) {
			struct nfqct_pkt *p = &miss[i];
			unsigned int target = (n / 2) & ~3u;	/* a rule of shape 0, half-way */

			memset(p, 0, sizeof(*p));
			p->hook = NFQCT_HOOK_INPUT;
			p->len = 1500;
			p->indev = 1 + i % 4;
			p->mark = 0;
			p->tuple.family = (i & 1) ? AF_INET6 : AF_INET;
			p->tuple.proto = (i & 2) ? IPPROTO_UDP : IPPROTO_TCP;
			if (p->tuple.family == AF_INET)
				inet_pton(AF_INET, "192.0.2.1", &p->tuple.src);
			else
				inet_pton(AF_INET6, "2001:db9::1", &p->tuple.src);
			p->tuple.sp.port = htons(40000 + i);
			p->tuple.dp.port = htons(80);

			hit[i] = *p;
			hit[i].tuple.family = AF_INET;
			hit[i].tuple.proto = IPPROTO_TCP;
			memset(&hit[i].tuple.src, 0, sizeof(hit[i].tuple.src));
			hit[i].tuple.src.b[0] = 10;
			hit[i].tuple.src.b[1] = (uint8_t)((target >> 8) & 255);
			hit[i].tuple.src.b[2] = (uint8_t)(target & 255);
			hit[i].tuple.src.b[3] = (uint8_t)i;
			hit[i].tuple.dp.port = htons((uint16_t)(1000 + target));
		}
		ns = run(rs, miss, NPKTS, iters, &acc);
		printf("%-6u %-28s %10.1f %10u\n", n, "no match (whole chain)", ns, acc);
		ns = run(rs, hit, NPKTS, iters, &acc);
		printf("%-6u %-28s %10.1f %10u\n", n, "accepted at rule n/2", ns, acc);
		nfqct_ruleset_free(rs);
	}
	if (match_rows())
		return 1;
	return stateful_rows();
}
