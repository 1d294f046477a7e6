/*
 * ifname.h - a small ifindex -> interface name cache for rule matching.
 *
 * NFQUEUE hands us interface indexes; -i/-o rules name interfaces.  One
 * cache per worker (one writer, no locking): a direct-mapped table of
 * NFQCT_IFNAME_SLOTS slots keyed by ifindex.  A slot is filled on a miss
 * with if_indextoname() and looked up again once it is older than the
 * refresh interval, so a renamed or re-used ifindex is seen within that
 * interval.  (Refreshing only when a rule fails to match would keep a
 * stale name that still matches forever.)  An index the kernel does not
 * know caches as the empty name, which matches no named rule.
 */
#ifndef NFQCT_IFNAME_H
#define NFQCT_IFNAME_H

#include <net/if.h>
#include <stdint.h>

#define NFQCT_IFNAME_SLOTS 256

struct nfqct_ifname_slot {
	uint32_t ifindex;		/* 0: empty slot */
	uint64_t checked_ms;		/* when the name was looked up */
	char name[IFNAMSIZ];		/* NUL-padded to IFNAMSIZ */
};

struct nfqct_ifname_cache {
	uint32_t refresh_ms;
	uint64_t lookups;		/* if_indextoname() calls, for tests and stats */
	struct nfqct_ifname_slot slot[NFQCT_IFNAME_SLOTS];
};

/* The resolver: a test may replace it; returns the name, or NULL. */
typedef char *(*nfqct_ifname_resolve_fn)(unsigned int ifindex, char *name);

/* nfqct_ifname_init - an empty cache that re-resolves names older than @refresh_ms. */
void nfqct_ifname_init(struct nfqct_ifname_cache *c, uint32_t refresh_ms);

/*
 * nfqct_ifname_get - the name of @ifindex at time @now_ms (monotonic), as
 * IFNAMSIZ NUL-padded bytes owned by the cache, valid until the next call.
 * ifindex 0 (no device) is the empty name.  Never fails.
 */
const char *nfqct_ifname_get(struct nfqct_ifname_cache *c, uint32_t ifindex, uint64_t now_ms);

/* nfqct_ifname_set_resolver - use @fn instead of if_indextoname() (tests); NULL restores it.
 * Process-wide: call before workers start. */
void nfqct_ifname_set_resolver(nfqct_ifname_resolve_fn fn);

#endif
