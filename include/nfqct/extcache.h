/*
 * extcache.h - the external cache: the flows a replication peer says it
 * holds (conntrackd's "external cache"), kept aside from the live table
 * until `nfqct ha primary` commits them.
 *
 * Keyed by original tuple and zone: NEW and UPDATE insert or replace the
 * flow whole, DESTROY removes it.  Flows do not expire here (the peer's
 * DESTROY or a flush removes them, as conntrackd's cache does); the
 * lifetime a flow gets at commit is the one its last message carried.
 * The key hash is seeded from getrandom(): the input is the network's.
 *
 * Not thread-safe: the caller serialises (sync.c holds a mutex).
 * Functions return 0 or -errno and log nothing.
 */
#ifndef NFQCT_EXTCACHE_H
#define NFQCT_EXTCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"
#include "nfqct/syncmsg.h"

struct nfqct_extcache;

/* nfqct_extcache_create - an empty cache of at most @max flows.  0 or -ENOMEM. */
int nfqct_extcache_create(uint32_t max, struct nfqct_extcache **out);

/* nfqct_extcache_destroy - free @x and its flows (NULL is fine). */
void nfqct_extcache_destroy(struct nfqct_extcache *x);

/*
 * nfqct_extcache_apply - a flow message of @type (NEW, UPDATE, DESTROY)
 * for @f, received at @now_ms.  Returns 0, -ENOENT (DESTROY of a flow
 * not held), -ENOSPC (full: the flow is not kept), -ENOMEM, -EINVAL (bad
 * type).
 */
int nfqct_extcache_apply(struct nfqct_extcache *x, uint8_t type, const struct nfqct_sync_flow *f,
			 uint64_t now_ms);

/* nfqct_extcache_count - flows held. */
uint32_t nfqct_extcache_count(const struct nfqct_extcache *x);

/* nfqct_extcache_flush - drop every flow. */
void nfqct_extcache_flush(struct nfqct_extcache *x);

/* What a commit did. */
struct nfqct_extcache_commit {
	uint64_t flows;			/* in the cache */
	uint64_t committed;		/* now in the table */
	uint64_t full;			/* refused: nf_conntrack_max reached */
	uint64_t invalid;		/* refused: no tuple inverse, no lifetime */
	uint64_t failed;		/* no memory, or a worker inserting that tuple */
};

/*
 * nfqct_extcache_commit - import every flow into @ct at @now_ms, each as
 * nfqct_ct_import() with @ct_max and replace (the peer's view wins over a
 * local pick-up of the same flow); a flow whose message had no lifetime
 * gets @default_ms.  Each flow goes in whole or not at all.  Fills @res.
 * RCU reader.  The cache is left as it was (flush it after).
 */
void nfqct_extcache_commit(struct nfqct_extcache *x, struct nfqct_ct *ct, struct nfqct_ct_stats *st,
			   uint64_t now_ms, uint32_t ct_max, uint64_t default_ms,
			   struct nfqct_extcache_commit *res);

/*
 * nfqct_extcache_dump - the flows, one line each, in the format of
 * `conntrack -L` (nfqct_ct_info_print), the timeout column being the
 * lifetime the flow would get if committed at @now_ms.  Returns lines.
 */
unsigned int nfqct_extcache_dump(const struct nfqct_extcache *x, FILE *out, uint64_t now_ms,
				 uint64_t default_ms);

#endif
