/*
 * bench_ct.c - the connection table alone, no netlink: inserts, lookups
 * and tracked packets per second with 1 and 2 threads, and resident bytes
 * per entry, at each table size given.
 *
 *	bench_ct [-r RUNS] [-o OPS] [ENTRIES...]	(default 3, 1000000, 10000 1000000)
 *
 *  inserts/s   nfqct_ct_in() on a new tuple + nfqct_ct_confirm(): what a
 *              new flow costs the table; filling an empty table (created
 *              with the daemon's default initial size) to ENTRIES, the
 *              threads inserting disjoint keys, repeated to about OPS
 *              inserts (timed fills reuse the memory of earlier ones);
 *  lookups/s   nfqct_ct_lookup() of random existing tuples (no side effect);
 *  packets/s   nfqct_ct_in() of random existing tuples: lookup, UDP
 *              tracker, timeout refresh and accounting under the entry's
 *              lock, what a worker pays per packet of a known flow; each
 *              thread draws from its own share of the entries, as each
 *              worker sees its own flows;
 *  bytes/entry VmRSS growth from before nfqct_ct_create() to the filled
 *              table, over ENTRIES (entry, malloc overhead, buckets).
 *
 * Each thread registers with liburcu QSBR and announces a quiescent state
 * every 1024 operations.  Every (size, run) is measured in a fresh child
 * process, so freed memory of one run cannot hide the next run's growth;
 * each figure printed is the median over the runs.  Lookups and packets:
 * OPS operations per thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "nfqct/ct.h"

#define MAX_THREADS	2
#define MAX_RUNS	15
#define NOW_MS		1000	/* time stands still: nothing expires */

/* One run's figures, sent from the child to the parent. */
struct result {
	double insert[MAX_THREADS + 1];	/* per second, by thread count */
	double lookup[MAX_THREADS + 1];
	double track[MAX_THREADS + 1];
	double bytes_per_entry;
	unsigned long errors;		/* failed inserts, missed lookups */
};

enum op { OP_INSERT, OP_LOOKUP, OP_TRACK };

/* The daemon's defaults (initial size, acct on) without a limit: the sizes here are the test's. */
static struct nfqct_settings bench_settings;

struct job {
	struct nfqct_ct *ct;
	enum op op;
	unsigned long first, count;	/* this thread's keys: [first, first + count) */
	unsigned long entries;		/* lookups: keys drawn from [0, entries) */
	unsigned long ops;
	unsigned int seed;
	pthread_barrier_t *start;
	unsigned long errors;
	double t0, t1;			/* this thread's start and end */
	struct nfqct_ct_stats st;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

/* Key @i as a UDP packet 198.18.x.y:1024+ -> 198.19.0.1:53, all distinct up to 2^32. */
static void key_pkt(unsigned long i, struct nfqct_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->tuple.family = AF_INET;
	p->tuple.proto = IPPROTO_UDP;
	p->tuple.src.ip = htonl(0xc6120000u + (uint32_t)(i & 0xffff));
	p->tuple.dst.ip = htonl(0xc6130001u);
	p->tuple.sp.port = htons((uint16_t)(1024 + (i >> 16)));
	p->tuple.dp.port = htons(53);
	p->len = 60;
}

static unsigned long xorshift(unsigned int *s)
{
	unsigned int x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct nfqct_pkt p;
	struct nfqct_ct_result r;
	unsigned long i;
	bool reply;

	rcu_register_thread();
	pthread_barrier_wait(j->start);
	j->t0 = now_s();
	switch (j->op) {
	case OP_INSERT:
		for (i = 0; i < j->count; i++) {
			key_pkt(j->first + i, &p);
			nfqct_ct_in(j->ct, &bench_settings, &j->st, &p, 0, NOW_MS, &r);
			if (!r.conn || !nfqct_ct_confirm(j->ct, &j->st, &r, true, NOW_MS))
				j->errors++;
			if ((i & 1023) == 0)
				rcu_quiescent_state();
		}
		break;
	case OP_LOOKUP:
		for (i = 0; i < j->ops; i++) {
			key_pkt(xorshift(&j->seed) % j->entries, &p);
			if (!nfqct_ct_lookup(j->ct, &p.tuple, 0, NOW_MS, &reply))
				j->errors++;
			if ((i & 1023) == 0)
				rcu_quiescent_state();
		}
		break;
	case OP_TRACK:
		for (i = 0; i < j->ops; i++) {
			/* each thread its own flows, as each worker gets its own from
			 * --queue-balance: no entry is written by two threads */
			key_pkt(j->first + xorshift(&j->seed) % j->count, &p);
			nfqct_ct_in(j->ct, &bench_settings, &j->st, &p, 0, NOW_MS, &r);
			if (!r.conn || r.ctstate != NFQCT_CTSTATE_NEW)
				j->errors++;	/* must find the entry (no reply yet: NEW) */
			if ((i & 1023) == 0)
				rcu_quiescent_state();
		}
		break;
	}
	j->t1 = now_s();
	rcu_unregister_thread();
	return NULL;
}

/* Run @op on @n threads; operations per second over all of them. */
static double run_threads(struct nfqct_ct *ct, enum op op, unsigned int n, unsigned long entries,
			  unsigned long ops, unsigned long *errors)
{
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	pthread_barrier_t start;
	double t0 = 0, t1 = 0, total = 0;

	pthread_barrier_init(&start, NULL, n + 1);
	for (unsigned int t = 0; t < n; t++) {
		memset(&jobs[t], 0, sizeof(jobs[t]));
		jobs[t].ct = ct;
		jobs[t].op = op;
		jobs[t].first = entries * t / n;
		jobs[t].count = entries * (t + 1) / n - jobs[t].first;
		jobs[t].entries = entries;
		jobs[t].ops = ops;
		jobs[t].seed = 2463534242u + 7919u * t;
		jobs[t].start = &start;
		pthread_create(&tid[t], NULL, job_main, &jobs[t]);
	}
	/* QSBR: an online thread that waits would stall every grace period. */
	rcu_thread_offline();
	pthread_barrier_wait(&start);
	for (unsigned int t = 0; t < n; t++) {
		pthread_join(tid[t], NULL);
		*errors += jobs[t].errors;
		total += (double)(op == OP_INSERT ? jobs[t].count : jobs[t].ops);
		/* the threads' own clocks: the first start to the last end */
		if (t == 0 || jobs[t].t0 < t0)
			t0 = jobs[t].t0;
		if (t == 0 || jobs[t].t1 > t1)
			t1 = jobs[t].t1;
	}
	rcu_thread_online();
	pthread_barrier_destroy(&start);
	return total / (t1 - t0);
}

static struct nfqct_ct *table_create(void)
{
	nfqct_settings_init(&bench_settings);
	bench_settings.ct_max = 0;
	return nfqct_ct_create(&bench_settings);
}

static void table_destroy(struct nfqct_ct *ct)
{
	nfqct_ct_destroy(ct);
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
}

/* Inserts per second on @threads: fill fresh tables to @entries, enough
 * times to do about @ops inserts; only the fills are timed. */
static int insert_rate(unsigned int threads, unsigned long entries, unsigned long ops,
		       unsigned long *errors, double *rate)
{
	unsigned long reps = ops > entries ? ops / entries : 1;
	double seconds = 0;

	for (unsigned long i = 0; i < reps; i++) {
		struct nfqct_ct *ct = table_create();

		if (!ct)
			return -errno;
		seconds += (double)entries / run_threads(ct, OP_INSERT, threads, entries, 0, errors);
		table_destroy(ct);
	}
	*rate = (double)(entries * reps) / seconds;
	return 0;
}

/* One run at @entries, in the calling (child) process. */
static int measure(unsigned long entries, unsigned long ops, struct result *res)
{
	struct nfqct_ct *ct;
	long before, after;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	rcu_register_thread();
	/* The first fill touches fresh memory: it measures the footprint and
	 * warms malloc, so that the timed fills below all reuse memory. */
	before = rss_kib();
	ct = table_create();
	if (!ct) {
		ret = -errno;
		goto out;
	}
	run_threads(ct, OP_INSERT, 1, entries, 0, &res->errors);
	/* let the table's resize worker finish growing the bucket array */
	rcu_thread_offline();
	usleep(300000);
	rcu_thread_online();
	after = rss_kib();
	res->bytes_per_entry = (double)(after - before) * 1024.0 / (double)entries;
	for (unsigned int t = 1; t <= MAX_THREADS; t++) {
		res->lookup[t] = run_threads(ct, OP_LOOKUP, t, entries, ops, &res->errors);
		res->track[t] = run_threads(ct, OP_TRACK, t, entries, ops, &res->errors);
	}
	table_destroy(ct);
	for (unsigned int t = 1; t <= MAX_THREADS && !ret; t++)
		ret = insert_rate(t, entries, ops, &res->errors, &res->insert[t]);
out:
	rcu_unregister_thread();
	return ret;
}

/* Run measure() in a child; its result through a pipe. */
static int measure_child(unsigned long entries, unsigned long ops, struct result *res)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct result r;
		int ret = measure(entries, ops, &r);

		close(fds[0]);
		if (ret < 0) {
			fprintf(stderr, "bench_ct: %s\n", strerror(-ret));
			_exit(1);
		}
		_exit(write(fds[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], res, sizeof(*res));
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    n != sizeof(*res))
		return -EIO;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static const unsigned long default_sizes[] = { 10000, 1000000 };
	unsigned long sizes[16], ops = 1000000;
	unsigned int nsizes = 0, runs = 3;
	struct result r[MAX_RUNS];
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "r:o:h")) != -1) {
		switch (opt) {
		case 'r': runs = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'o': ops = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	for (; optind < argc && nsizes < 16; optind++)
		sizes[nsizes++] = strtoul(argv[optind], NULL, 10);
	if (!nsizes) {
		memcpy(sizes, default_sizes, sizeof(default_sizes));
		nsizes = 2;
	}
	if (runs < 1 || runs > MAX_RUNS || ops < 1)
		goto usage;

	printf("table alone (nfqct_ct_*, no netlink), median of %u run(s), %lu ops/thread\n", runs,
	       ops);
	printf("%-10s %-8s %12s %12s %12s %12s\n", "entries", "threads", "inserts/s", "lookups/s",
	       "packets/s", "bytes/entry");
	for (unsigned int s = 0; s < nsizes; s++) {
		double v[MAX_RUNS], bpe;
		unsigned long errors = 0;

		if (!sizes[s])
			goto usage;
		for (unsigned int i = 0; i < runs; i++) {
			if (measure_child(sizes[s], ops, &r[i]) < 0) {
				fprintf(stderr, "bench_ct: run at %lu entries failed\n", sizes[s]);
				return 1;
			}
			errors += r[i].errors;
		}
		for (unsigned int i = 0; i < runs; i++)
			v[i] = r[i].bytes_per_entry;
		bpe = median(v, runs);
		for (unsigned int t = 1; t <= MAX_THREADS; t++) {
			double ins, look, track;

			for (unsigned int i = 0; i < runs; i++)
				v[i] = r[i].insert[t];
			ins = median(v, runs);
			for (unsigned int i = 0; i < runs; i++)
				v[i] = r[i].lookup[t];
			look = median(v, runs);
			for (unsigned int i = 0; i < runs; i++)
				v[i] = r[i].track[t];
			track = median(v, runs);
			printf("%-10lu %-8u %12.0f %12.0f %12.0f %12.1f\n", sizes[s], t, ins, look, track,
			       bpe);
		}
		if (errors) {
			fprintf(stderr, "bench_ct: %lu failed inserts or missed lookups at %lu entries\n",
				errors, sizes[s]);
			bad = 1;
		}
	}
	return bad;

usage:
	fprintf(stderr, "usage: bench_ct [-r RUNS] [-o OPS_PER_THREAD] [ENTRIES...]\n");
	return 2;
}
