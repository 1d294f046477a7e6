/*
 * housekeeping.h - the thread that expires connections and publishes the
 * counters.
 *
 * Every nfqct.gc_interval_ms it runs one step of nfqct_ct_gc() with a
 * budget sized so that a sweep of the whole table ends within 500 ms, and
 * it starts a new sweep at most every 500 ms: an entry disappears within
 * about a second of its timeout whatever the table's size, and an idle
 * table is not walked on every tick.  Every nfqct.stat_interval_ms it
 * calls the publish callback (the daemon writes the stat tree there).  It
 * is a QSBR reader, offline while it sleeps.  Its own counters (`delete` from expiry) are in @stats.
 */
#ifndef NFQCT_HOUSEKEEPING_H
#define NFQCT_HOUSEKEEPING_H

#include <stdint.h>

#include "nfqct/ct.h"
#include "nfqct/stats.h"

struct nfqct_housekeeping;

struct nfqct_housekeeping_config {
	struct nfqct_ct *ct;			/* NULL: nothing to expire */
	struct nfqct_ct_stats *stats;		/* written only by this thread */
	uint32_t gc_interval_ms;
	uint32_t stat_interval_ms;
	void (*publish)(void *arg);		/* called from the thread, RCU online */
	void *arg;
	int stop_fd;				/* eventfd: readable once the daemon stops */
};

/* nfqct_housekeeping_start - start the thread.  Returns NULL with errno set. */
struct nfqct_housekeeping *nfqct_housekeeping_start(const struct nfqct_housekeeping_config *cfg);

/* nfqct_housekeeping_set_intervals - take new intervals (reload); safe while running. */
void nfqct_housekeeping_set_intervals(struct nfqct_housekeeping *hk, uint32_t gc_ms, uint32_t stat_ms);

/* nfqct_housekeeping_stop - wait for the thread (after stop_fd fired) and free it. */
void nfqct_housekeeping_stop(struct nfqct_housekeeping *hk);

#endif
