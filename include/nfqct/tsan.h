/*
 * tsan.h - ThreadSanitizer annotations: empty unless configured with
 * --enable-sanitizers=thread (which defines NFQCT_TSAN).
 *
 * liburcu is not instrumented, so TSan cannot see the ordering it
 * provides.  tests/tsan-urcu.h (included into every file of the TSan
 * build) states most of it around liburcu's calls; this header covers the
 * two places only the caller can mark, because liburcu calls back into
 * nfqct there:
 *
 *   nfqct_tsan_rcu_callback()   first thing in a call_rcu() callback: the
 *       grace period it waited for orders after it every reader's access
 *       to the object (each reader released at its quiescent state or
 *       when it went offline; call_rcu() released for its caller).
 *   nfqct_tsan_lfht_match(node) first thing in a cds_lfht match callback:
 *       the node was published by cds_lfht_add*(), which released it.
 */
#ifndef NFQCT_TSAN_H
#define NFQCT_TSAN_H

#ifdef NFQCT_TSAN
void __tsan_acquire(void *addr);
extern char nfqct_tsan_gp;	/* the grace period (tests/tsan-urcu.h) */

static inline void nfqct_tsan_rcu_callback(void)
{
	__tsan_acquire(&nfqct_tsan_gp);
}

static inline void nfqct_tsan_lfht_match(const void *node)
{
	__tsan_acquire((void *)node);
}
#else
static inline void nfqct_tsan_rcu_callback(void)
{
}

static inline void nfqct_tsan_lfht_match(const void *node)
{
	(void)node;
}
#endif

#endif
