/*
 * stats.h - per-worker counter blocks.
 *
 * Each worker owns one cache-line-aligned block and is its only writer, so
 * the hot path increments with plain loads and stores (no locked
 * instructions).  Other threads read the blocks while workers run; both
 * sides go through relaxed atomic loads/stores so the race is defined
 * behaviour and costs nothing on x86-64.  One block is one "per-CPU" line
 * of the stat file.  The housekeeping thread has a block of its own
 * (expiry counts `delete`); readers fold it into the first line.
 */
#ifndef NFQCT_STATS_H
#define NFQCT_STATS_H

#include <stdint.h>

#define NFQCT_CACHELINE 64

/* The conntrack counters of /proc/net/stat/nf_conntrack, 6.x names, plus
 * `searched` for the older layout. */
struct nfqct_ct_stats {
	uint64_t clashres;	/* clashes resolved by merging into the winner */
	uint64_t found;		/* lookups that found an entry */
	uint64_t new;		/* entries created (before confirmation) */
	uint64_t invalid;	/* packets that could not be tracked */
	uint64_t ignore;	/* packets not tracked: NOTRACK / CT --notrack */
	uint64_t delete;	/* entries removed (expiry, RST, flush, early drop) */
	uint64_t chainlength;	/* see ct.h: what a long chain means for our table */
	uint64_t insert;	/* entries confirmed into the table */
	uint64_t insert_failed;	/* confirmations that failed */
	uint64_t drop;		/* packets dropped because the table was full */
	uint64_t early_drop;	/* entries evicted to make room */
	uint64_t icmp_error;	/* malformed ICMP errors, or quoting no flow */
	uint64_t expect_new;
	uint64_t expect_create;
	uint64_t expect_delete;
	uint64_t search_restart;	/* lookups restarted (concurrent unlink) */
	uint64_t searched;	/* older layout only: lookups done */
	/* nfqct's own, in no nf_conntrack layout (nfqct_queue shows it): */
	uint64_t csum_unchecked;	/* checksums the kernel would have verified but the
					 * copy range cut (csum.h: NFQCT_CSUM_CUT) */
};

/* Queue-level counters (DIR/net/stat/nfqct_queue). */
struct nfqct_queue_stats {
	uint64_t queue;		/* the queue number (constant) */
	uint64_t rx_packets;	/* packets received from the kernel */
	uint64_t rx_bytes;	/* their full lengths */
	uint64_t accepted;	/* packets given NF_ACCEPT */
	uint64_t dropped;	/* packets given NF_DROP */
	uint64_t batches;	/* recv() calls that returned packets */
	uint64_t verdict_msgs;	/* verdict messages sent */
	uint64_t rx_errors;	/* recv() failures other than ENOBUFS, bad messages */
	uint64_t enobufs;	/* ENOBUFS: the kernel dropped messages for us */
	uint64_t tx_errors;	/* verdict sends that failed */
	uint64_t fragments;	/* IP fragments received (first or not): the kernel did
				 * not reassemble, see nfqct-kernel-rules */
	uint64_t rejected;	/* packets given NF_REPEAT: REJECTs handed to the kernel's rules */
	uint64_t reject_loops;	/* packets that came back with the reject mark: dropped */
	uint64_t logged;	/* LOG lines handed to the logging thread */
	uint64_t log_lost;	/* LOG lines lost: its ring full, or past NFQCT_RULES_MAX_LOG */
};

struct nfqct_worker_stats {
	struct nfqct_ct_stats ct;
	struct nfqct_queue_stats q;
} __attribute__((aligned(NFQCT_CACHELINE)));

/* Writer side: only the owning thread calls these. */
#define NFQCT_STAT_ADD(field, n) \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define NFQCT_STAT_INC(field) NFQCT_STAT_ADD(field, 1)

/* Reader side: any thread. */
#define NFQCT_STAT_READ(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* nfqct_ct_stats_add - dst += src, field by field, reading src with NFQCT_STAT_READ. */
void nfqct_ct_stats_add(struct nfqct_ct_stats *dst, const struct nfqct_ct_stats *src);
/* nfqct_queue_stats_add - the same for queue counters (queue numbers are not summed). */
void nfqct_queue_stats_add(struct nfqct_queue_stats *dst, const struct nfqct_queue_stats *src);

/* A consistent view for readers (stat file, control socket). */
struct nfqct_stats_view {
	const struct nfqct_worker_stats *workers;	/* nworkers blocks */
	unsigned int nworkers;
	const struct nfqct_ct_stats *housekeeping;	/* folded into line 0 */
};

#endif
