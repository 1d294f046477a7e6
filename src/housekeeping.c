/*
 * housekeeping.c - expiry and periodic publishing, in one thread.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include <urcu-qsbr.h>

#include "nfqct/hashlimit.h"
#include "nfqct/housekeeping.h"
#include "nfqct/ipset.h"
#include "nfqct/log.h"

#define GC_MIN_BUDGET 1024
/* A new sweep of the whole table starts at most this often, and each sweep
 * is given the budget to finish within it: an expired entry is removed
 * within about twice this, and an idle daemon does not walk an empty
 * table's buckets on every tick. */
#define GC_SWEEP_MS 500

struct nfqct_housekeeping {
	struct nfqct_housekeeping_config cfg;
	uint32_t gc_ms, stat_ms;	/* read and written with __atomic */
	pthread_t thread;
};

/* Enough entries per tick to finish a sweep within GC_SWEEP_MS. */
static unsigned int gc_budget(struct nfqct_housekeeping *hk, uint32_t gc_ms)
{
	uint64_t count = hk->cfg.ct ? nfqct_ct_count(hk->cfg.ct) : 0;
	uint64_t ticks = gc_ms >= GC_SWEEP_MS ? 1 : GC_SWEEP_MS / gc_ms;
	uint64_t budget = count / ticks + 1;

	return budget < GC_MIN_BUDGET ? GC_MIN_BUDGET : (unsigned int)budget;
}

static void *housekeeping_main(void *arg)
{
	struct nfqct_housekeeping *hk = arg;
	/* Deadlines; a job that does not exist is never due. */
	uint64_t next_gc = hk->cfg.ct ? 0 : UINT64_MAX, next_sweep = 0;
	uint64_t next_stat = hk->cfg.publish ? 0 : UINT64_MAX;

	rcu_register_thread();
	for (;;) {
		uint32_t gc_ms = __atomic_load_n(&hk->gc_ms, __ATOMIC_RELAXED);
		uint32_t stat_ms = __atomic_load_n(&hk->stat_ms, __ATOMIC_RELAXED);
		struct pollfd pfd = { .fd = hk->cfg.stop_fd, .events = POLLIN };
		uint64_t now = nfqct_now_ms(), next;
		int ret;

		if (now >= next_gc) {
			bool sweeping = nfqct_ct_gc_sweeping(hk->cfg.ct);

			if (sweeping || now >= next_sweep) {
				if (!sweeping)
					next_sweep = now + GC_SWEEP_MS;
				nfqct_ct_gc(hk->cfg.ct, hk->cfg.stats, now, gc_budget(hk, gc_ms));
			}
			/* -m hashlimit tables: each at its own --hashlimit-htable-gcinterval,
			 * so within one gc tick of it (nfqct.gc_interval_ms) */
			nfqct_hashlimit_gc(now);
			/* set elements past their timeout (lookups ignore them already) */
			nfqct_ipset_gc(now);
			next_gc = now + gc_ms;
		}
		if (now >= next_stat) {
			hk->cfg.publish(hk->cfg.arg);
			next_stat = now + stat_ms;
		}
		/* Sleep until whichever of the two is due first. */
		next = next_gc < next_stat ? next_gc : next_stat;
		now = nfqct_now_ms();
		rcu_thread_offline();
		ret = poll(&pfd, 1, next == UINT64_MAX ? -1 : next > now ? (int)(next - now) : 0);
		rcu_thread_online();
		if (ret > 0)
			break;
		if (ret < 0 && errno != EINTR)
			log_warn("housekeeping: poll");
	}
	rcu_unregister_thread();
	return NULL;
}

struct nfqct_housekeeping *nfqct_housekeeping_start(const struct nfqct_housekeeping_config *cfg)
{
	struct nfqct_housekeeping *hk = calloc(1, sizeof(*hk));
	int ret;

	if (!hk)
		return NULL;
	hk->cfg = *cfg;
	hk->gc_ms = cfg->gc_interval_ms;
	hk->stat_ms = cfg->stat_interval_ms;
	ret = pthread_create(&hk->thread, NULL, housekeeping_main, hk);
	if (ret) {
		free(hk);
		errno = ret;
		return NULL;
	}
	return hk;
}

void nfqct_housekeeping_set_intervals(struct nfqct_housekeeping *hk, uint32_t gc_ms, uint32_t stat_ms)
{
	__atomic_store_n(&hk->gc_ms, gc_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&hk->stat_ms, stat_ms, __ATOMIC_RELAXED);
}

void nfqct_housekeeping_stop(struct nfqct_housekeeping *hk)
{
	if (!hk)
		return;
	pthread_join(hk->thread, NULL);
	free(hk);
}
