/*
 * bench_rules - per-packet cost of the filter walk (`make bench-rules`).
 *
 * Builds rulesets of 10 and 1,000 rules in INPUT, a mix of typical rule
 * shapes (address + protocol + port, ctstate, interface, mark), and runs
 * packets through nfqct_ruleset_filter(): ones that fall through to the
 * policy (the whole chain is walked: the worst case) and ones accepted
 * half-way.  Prints nanoseconds per packet.  Not part of make check.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/rules.h"

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
	return 0;
}
