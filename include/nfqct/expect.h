/*
 * expect.h - expectations: flows a helper announced, to be RELATED to
 * their master connection (the kernel's nf_conntrack_expect.c).
 *
 * An expectation is a tuple whose source port is a wildcard (the mask of
 * both helpers nfqct has: source address, destination address and port,
 * protocol exact), the master it belongs to, a zone, an absolute expiry
 * and the master's helper.  The table is small (nf_conntrack_expect_max,
 * 1024 by default) and touched only when a helper registers one and when
 * a new entry is created while some exist: one mutex guards it, as the
 * kernel's nf_conntrack_expect_lock guards find-and-unlink, which must be
 * one step so that two flows cannot both take one expectation.  Callers
 * test nfqct_expect_count() first, without the lock, so that a box with no
 * expectations pays one load per new entry.
 *
 * Counters (struct nfqct_ct_stats): expect_create for every insertion
 * (nf_ct_expect_insert), expect_delete for every removal: taken by a new
 * flow, expired, replaced, evicted or removed with its master
 * (nf_ct_unlink_expect_report).  expect_new, a new entry made RELATED by an
 * expectation (init_conntrack), is the caller's to count.
 * None of these functions logs; all may be called from any thread.
 */
#ifndef NFQCT_EXPECT_H
#define NFQCT_EXPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/pkt.h"
#include "nfqct/stats.h"

struct nfqct_expect_table;

struct nfqct_expect {
	struct nfqct_tuple tuple;	/* the expected flow; sp.port 0 = any */
	struct nfqct_tuple master;	/* the master's original tuple (printing) */
	const void *owner;		/* the master entry, compared, never dereferenced */
	uint64_t expires_ms;		/* absolute */
	uint16_t zone;			/* the master's */
	uint8_t helper;			/* the master's helper (helper.h) */
};

/* nfqct_expect_create - an empty table, or NULL with errno set. */
struct nfqct_expect_table *nfqct_expect_create(void);

/* nfqct_expect_destroy - free the table and what is left in it (not counted). */
void nfqct_expect_destroy(struct nfqct_expect_table *t);

/* nfqct_expect_count - expectations in the table now (a relaxed load, no lock). */
uint32_t nfqct_expect_count(const struct nfqct_expect_table *t);

/*
 * nfqct_expect_add - register @e (its expiry already set) unless the
 * master dies: @alive(@e->owner) is called under the table lock, so an
 * expectation added concurrently with nfqct_expect_remove_owner() for the
 * same owner is either refused here or removed there.  As
 * __nf_ct_expect_check(): an expectation of the same owner with the same
 * tuple is replaced; one of another owner with the same tuple and zone
 * is a clash (-EBUSY); an owner holding @max_per_owner already loses its
 * oldest; a table holding @max (nf_conntrack_expect_max) refuses
 * (-EMFILE, the kernel's "expectation table full").  Expired ones met are
 * removed.  Returns 0, -EBUSY, -EMFILE, -ESHUTDOWN (owner dying), -ENOMEM.
 */
int nfqct_expect_add(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
		     const struct nfqct_expect *e, uint32_t max, uint32_t max_per_owner,
		     bool (*alive)(const void *owner), uint64_t now_ms);

/*
 * nfqct_expect_take - the live expectation that the first packet's tuple
 * @tuple in @zone matches, removed from the table (expectations are not
 * permanent) and copied to @out.  Returns false when none matches.
 */
bool nfqct_expect_take(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
		       const struct nfqct_tuple *tuple, uint16_t zone, uint64_t now_ms,
		       struct nfqct_expect *out);

/* nfqct_expect_remove_owner - remove every expectation of @owner (it dies). Returns how many. */
unsigned int nfqct_expect_remove_owner(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
				       const void *owner);

/* nfqct_expect_gc - remove the expired ones. Returns how many. */
unsigned int nfqct_expect_gc(struct nfqct_expect_table *t, struct nfqct_ct_stats *st,
			     uint64_t now_ms);

/* nfqct_expect_flush - remove every expectation (counted). Returns how many. */
unsigned int nfqct_expect_flush(struct nfqct_expect_table *t, struct nfqct_ct_stats *st);

/*
 * nfqct_expect_dump - one line per live expectation, in the format of
 * `conntrack -L expect` (libnetfilter_conntrack's default output):
 * seconds left (truncated, as ctnetlink), "proto=N", the expected tuple,
 * its mask ("mask-src= mask-dst= sport= dport="), the master's original
 * tuple ("master-src= master-dst= sport= dport="), "zone=" when not 0,
 * "class=0", "helper=NAME".  Returns the lines printed.
 */
unsigned int nfqct_expect_dump(struct nfqct_expect_table *t, FILE *out, uint64_t now_ms);

#endif
