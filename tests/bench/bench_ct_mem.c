/*
 * bench_ct_mem.c - resident memory per connection-table entry.
 *
 *	bench_ct_mem [ENTRIES]		(default 1000000)
 *
 * Fills a table with ENTRIES confirmed UDP entries and reports the growth
 * of VmRSS (/proc/self/status) divided by ENTRIES: entry, malloc overhead,
 * hash-table buckets.  Not part of `make check`; build it with
 * `make tests/bench/bench_ct_mem`.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	struct nfqct_settings s;
	struct nfqct_ct_stats st = { 0 };
	struct nfqct_ct *ct;
	long before, after;
	double t0, t1;
	unsigned long i;

	memset(&s, 0, sizeof(s));
	s.ct_max = 0;			/* no limit */
	s.ct_buckets = 262144;		/* the kernel's default on a large box */
	s.ct_acct = 1;
	s.timeout[NFQCT_TO_UDP] = 30;
	s.timeout[NFQCT_TO_UDP_STREAM] = 120;
	s.log_ratelimit_ms = 1000;
	s.log_ratelimit_burst = 1;

	rcu_register_thread();
	before = rss_kib();
	ct = nfqct_ct_create(&s);
	if (!ct) {
		perror("nfqct_ct_create");
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct nfqct_pkt p;
		struct nfqct_ct_result r;

		memset(&p, 0, sizeof(p));
		p.tuple.family = AF_INET;
		p.tuple.proto = IPPROTO_UDP;
		p.tuple.src.ip = htonl(0xc6120000u + (uint32_t)(i & 0xffff));	/* 198.18.x.x */
		p.tuple.dst.ip = htonl(0xc6130001u);
		p.tuple.sp.port = htons((uint16_t)(1024 + (i >> 16)));
		p.tuple.dp.port = htons(53);
		p.len = 60;
		nfqct_ct_in(ct, &s, &st, &p, 0, 1000, &r);
		if (!r.conn || !nfqct_ct_confirm(ct, &st, &r, true, 1000)) {
			fprintf(stderr, "insert %lu failed\n", i);
			return 1;
		}
		if ((i & 4095) == 0)
			rcu_quiescent_state();
	}
	t1 = now_s();
	/* let the resize worker finish growing the bucket array, then measure */
	rcu_thread_offline();
	sleep(2);
	rcu_thread_online();
	after = rss_kib();
	printf("entries %lu, sizeof(entry) %zu, RSS %+ld KiB, %.1f bytes/entry resident, "
	       "%.0f ns/insert\n", n, nfqct_ct_entry_size(), after - before,
	       (after - before) * 1024.0 / n, (t1 - t0) * 1e9 / n);

	/* one full gc sweep with nothing to expire: the cost per entry looked at */
	{
		unsigned long calls = 0;
		double g0 = now_s(), g1;

		do {
			nfqct_ct_gc(ct, &st, 1000, 10000);
			rcu_quiescent_state();
			calls++;
		} while (calls * 10000 < n + 10000);
		g1 = now_s();
		printf("gc: %lu calls of budget 10000, %.1f ns/entry, %.2f ms per call\n", calls,
		       (g1 - g0) * 1e9 / n, (g1 - g0) * 1e3 / calls);
	}
	nfqct_ct_destroy(ct);
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
	rcu_unregister_thread();
	return 0;
}
